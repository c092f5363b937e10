// The journey's rules (src/journey.js) without a browser: which step follows
// which, what each step checks, what check answers lists, and the payloads
// the answers make, the report's checked against the shared vectors
// (crypto/tests/vectors/) and the follow-up against FORMAT.md's example.
import "./use-en.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import * as q from "../src/quietline-crypto.js";
import {
  REPORT_STEPS, emptyReport, firstIncomplete, allowed, nextStep, CHECKS, checkFollowUp, checkRows,
  reportPayloadOf, followUpPayloadOf, lastReplier,
} from "../src/journey.js";

const load = (name) => JSON.parse(readFileSync(new URL(`../../crypto/tests/vectors/${name}`, import.meta.url), "utf8"));
const sample = load("envelope-v1.json").cases.find((c) => c.name === "report, sample payload");
const code0 = load("reply-code-v1.json").cases[0];
const text = (bytes) => new TextDecoder().decode(bytes);

/** The sample report's answers as a reporter types them into the forms (spaces, a 12-hour time, a blank person). */
function sampleAnswers() {
  return {
    ...emptyReport(),
    forceId: "demo",
    category: "drugs",
    details: "  Cars stop outside number 12 for a few minutes most evenings; packages change hands.\n",
    whereKnown: "yes",
    where: "Outside 12 Example Street, Exampleton ",
    whenKnown: "yes",
    day: "20", month: " 11", year: "2026", time: "10:15pm", whenText: " most evenings",
    ongoing: "yes",
    people: [{ name: "", description: "Tall man, grey hoodie, 30s " }, { name: " ", description: "" }],
    vehicles: [{ registration: "AB12 CDE", make_model: "Ford Focus", colour: " silver", description: "" }],
    howKnown: "saw",
    howDetails: "I live opposite ",
  };
}

test("the vector's answers, through every step's checks, assemble to exactly the vector's payload", async () => {
  const r = sampleAnswers();
  for (const step of REPORT_STEPS) assert.deepEqual(CHECKS[step](r), [], step);
  assert.equal(r.people.length, 1, "the blank person is dropped");
  assert.equal(firstIncomplete(r), null);
  const reply = q.replyMaterial(await q.deriveReplySecrets(q.fromHex(code0.entropy)));
  const got = reportPayloadOf(r, "2026-11-27T19:45:00Z", reply);
  assert.equal(text(got), text(q.fromHex(sample.payload)));
  assert.equal(q.toHex(got), sample.payload);
});

test("the follow-up payload is FORMAT.md's example, from the form as typed", async () => {
  const spec = readFileSync(new URL("../../crypto/FORMAT.md", import.meta.url), "utf8");
  const section = spec.slice(spec.indexOf("### Follow-up payload"));
  const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)[1]);
  const reply = q.replyMaterial(await q.deriveReplySecrets(q.fromHex(code0.entropy)));
  const f = { forceId: "demo", message: " They usually arrive between 10 and 11 at night.\n" };
  assert.deepEqual(checkFollowUp(f), []);
  assert.equal(text(followUpPayloadOf(f, example.sent_at, reply)), JSON.stringify(example));
});

test("not known: where and when carry nothing but known false; no date or time", () => {
  const r = { ...sampleAnswers(), whereKnown: "no", whenKnown: "no", ongoing: "unknown", people: [], vehicles: [] };
  const p = JSON.parse(text(reportPayloadOf(r, "2026-11-27T19:45:00Z", q.replyMaterial({
    replyPublicKey: new Uint8Array(32), threadId: new Uint8Array(16), slotKey: new Uint8Array(32),
  }))));
  assert.deepEqual(p.report.where, { known: false, description: "" });
  // "I do not know" stays apart from "No" all the way to the handler; "No" has no such member.
  assert.deepEqual(p.report.when, { known: false, ongoing: false, ongoing_unknown: true, description: "" });
  const no = JSON.parse(text(reportPayloadOf({ ...r, ongoing: "no" }, "2026-11-27T19:45:00Z", p.reply))).report.when;
  assert.deepEqual(no, { known: false, ongoing: false, description: "" });
  // Known, with only a description: no date or time members at all.
  const d = { ...r, whenKnown: "yes", day: "", month: "", year: "", time: "", whenText: "weekends" };
  const when = JSON.parse(text(reportPayloadOf(d, "2026-11-27T19:45:00Z", p.reply))).report.when;
  assert.deepEqual(when, { known: true, ongoing: false, ongoing_unknown: true, description: "weekends" });
});

test("the steps follow in order to check answers; a Change goes back there once all is answered", () => {
  const r = sampleAnswers();
  const walk = [];
  for (let s = "force"; s !== "check"; s = nextStep(s, r, false)) walk.push(s);
  assert.deepEqual(walk, ["force", "what", "where-when", "people", "how", "files"]);
  assert.equal(nextStep("what", r, true), "check");
  assert.equal(nextStep("what", { ...r, howKnown: "" }, true), "where-when", "not yet complete: on to the next");
});

test("which steps can be shown with what is in memory", () => {
  const s = { r: emptyReport() };
  for (const step of ["start", "force", "code"]) assert.equal(allowed(step, s), true, step);
  for (const step of ["what", "where-when", "people", "how", "check", "sent", "replies", "follow-up-sent"]) {
    assert.equal(allowed(step, s), false, step);
  }
  s.r.forceId = "demo";
  for (const step of ["what", "where-when", "people", "how"]) assert.equal(allowed(step, s), true, step);
  assert.equal(allowed("check", s), false);
  assert.equal(firstIncomplete(s.r), "what");
  s.r = sampleAnswers();
  assert.equal(allowed("check", s), true);
  assert.equal(allowed("sent", { ...s, sent: { words: [] } }), true);
  assert.equal(allowed("replies", { ...s, secrets: {} }), true);
  assert.equal(allowed("follow-up-sent", { ...s, followSent: "Demo" }), true);
});

test("what each step checks: the error, and the field it links to", () => {
  const r = emptyReport();
  assert.deepEqual(CHECKS.force(r), [{ id: "force", text: "Select the police force you want to tell" }]);
  assert.deepEqual(CHECKS.what({ ...r, details: "   " }), [
    { id: "category", text: "Select what your report is about" },
    { id: "details", text: "Tell us what happened" },
  ]);
  assert.deepEqual(CHECKS.what({ ...r, category: "other", details: "é".repeat(30001) }), [
    { id: "details", text: "What happened is too long. Make it shorter: at most about 60,000 letters" },
  ], "counted in UTF-8 octets");
  assert.deepEqual(CHECKS["where-when"](r).map((e) => e.id), ["where-known", "when-known", "ongoing"]);
  const yes = { ...r, whereKnown: "yes", whenKnown: "yes", ongoing: "no" };
  assert.deepEqual(CHECKS["where-when"](yes), [
    { id: "where", text: "Enter where it happened, or select ‘No, I do not know’" },
    { id: "date-day", group: "date", text: "Enter a date or a time, or describe when it happened" },
  ]);
  // A date error names the one field of the three to fix, in the date group.
  assert.deepEqual(CHECKS["where-when"]({ ...yes, where: "x", day: "20", year: "2026" }),
    [{ id: "date-month", group: "date", text: "The date must include a month" }]);
  assert.deepEqual(CHECKS["where-when"]({ ...yes, where: "x", time: "25:00" }),
    [{ id: "time", text: "Enter a real time, like 22:15 or 10:15pm" }]);
  assert.deepEqual(CHECKS.how(r), [{ id: "how", text: "Select how you know about this" }]);
  assert.deepEqual(checkFollowUp({ forceId: "", message: " " }), [
    { id: "follow-force", text: "Select the police force your message is for" },
    { id: "message", text: "Enter your message" },
  ]);
});

test("check answers lists every answer as the reporter will read it", () => {
  const r = sampleAnswers();
  CHECKS.people(r);
  assert.deepEqual(checkRows(r, "Demo Constabulary"), [
    ["Police force", "Demo Constabulary", "force", "Change the police force"],
    ["What it is about", "Drugs", "what", "Change what it is about"],
    ["What happened", "Cars stop outside number 12 for a few minutes most evenings; packages change hands.", "what", "Change what happened"],
    ["Where", "Outside 12 Example Street, Exampleton", "where-when", "Change where"],
    ["When", "20 November 2026 at 22:15\nmost evenings", "where-when", "Change when"],
    ["Still happening", "Yes", "where-when", "Change whether it is still happening"],
    ["People", [["Description: Tall man, grey hoodie, 30s"]], "people", "Change people"],
    ["Vehicles", [["Registration: AB12 CDE", "Make and model: Ford Focus", "Colour: silver"]], "people", "Change vehicles"],
    ["How you know", "I saw it", "how", "Change how you know"],
    ["More about how you know", "I live opposite", "how", "Change more about how you know"],
  ]);
  const none = checkRows({ ...r, whereKnown: "no", whenKnown: "no", people: [], vehicles: [], howDetails: " " }, "Demo");
  assert.deepEqual(none.map((row) => row[1]).slice(3), ["I do not know", "I do not know", "Yes", "None given", "None given", "I saw it", "Not given"]);
});

test("the follow-up is offered to the force that last replied, by its name", () => {
  const forces = [{ id: "a", name: "Alpha Police" }, { id: "b", name: "Beta Constabulary" }];
  assert.equal(lastReplier([{ ok: true, from: "Alpha Police" }, { ok: true, from: " beta constabulary " }, { ok: false }], forces), "b");
  assert.equal(lastReplier([{ ok: true, from: "Gamma" }], forces), undefined);
  assert.equal(lastReplier([], forces), undefined);
  // A reply that names its force's id (a transferred case): the id decides.
  assert.equal(lastReplier([{ ok: true, from: "Alpha Police", force: "b" }], forces), "b");
  assert.equal(lastReplier([{ ok: true, from: "Alpha Police", force: "gone" }], forces), "a");
});

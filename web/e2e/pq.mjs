// The reporter's journey to a force whose key is X-Wing (issue 21), against a
// real server, in two phases that tests/browser_pq.rs runs with the force's
// side in between:
//
//   node e2e/pq.mjs report  --base URL --input '{"answers":{…}}'
//     fills in and sends the report; checks the envelope names KEM 0x647a
//     (X-Wing) and that /pq.js was fetched, and only when sending; prints
//     {"ok":true,"words":[12],"envelope_sha256"}.
//   node e2e/pq.mjs replies --base URL --input '{"words","forceName","replyFrom","replyText","followUp"}'
//     enters the 12 words, sees the force's X-Wing reply (pq.js opens it),
//     sends a follow-up (X-Wing again) and prints {"ok":true,"envelope_sha256"}.
//
// The page runs under its real CSP; any CSP violation, script error or
// request to another origin fails the run.

import { assert, capturePost, containsText, heading, main, newContext, sha256Hex, step, SEND_TIMEOUT_MS } from "./lib.mjs";
import { fillReport, openReplies, readReplyCode } from "./flows.mjs";

const phase = process.argv[2];
process.argv.splice(2, 1);

/** An X-Wing envelope: magic, version 1, KEM 0x647a, the typed text not in it. */
function checkXWing(sent, secrets) {
  assert.equal(sent.status, 201, "the server stored it");
  assert.deepEqual([...sent.body.subarray(0, 3)], [0x51, 0x4c, 1]);
  assert.deepEqual([...sent.body.subarray(4, 6)], [0x64, 0x7a], "sealed with X-Wing (KEM 0x647a)");
  for (const s of secrets) assert.ok(!containsText(sent.body, s), `the request body does not contain ${JSON.stringify(s)}`);
}

const pqFetches = (requests) => requests.filter((r) => r.startsWith("GET ") && r.endsWith("/pq.js")).length;

async function report({ base, input, browser }) {
  const { context, assertClean, requests } = await newContext(browser, base);
  const page = await context.newPage();
  const a = input.answers;
  await page.goto("/");
  await fillReport(page, a);
  assert.equal(pqFetches(requests), 0, "the X-Wing code is not part of the first load");
  step("send");
  const sent = await capturePost(page, base, "/api/v1/reports", () => page.getByRole("button", { name: "Send report" }).click());
  checkXWing(sent, [a.details, a.where, a.person.name, a.vehicle.registration]);
  assert.equal(pqFetches(requests), 1, "pq.js is fetched once, to seal to the X-Wing key");
  const words = await readReplyCode(page);
  assertClean("sending a report to an X-Wing key");
  return { words, envelope_sha256: await sha256Hex(sent.body) };
}

async function replies({ base, input, browser }) {
  const { context, assertClean, requests } = await newContext(browser, base);
  const page = await context.newPage();
  await openReplies(page, input.words);
  await heading(page, "Replies to your report");
  const conversation = await page.locator("ol.conversation").innerText();
  assert.ok(conversation.includes(input.replyText), `the X-Wing reply is shown:\n${conversation}`);
  assert.ok(conversation.includes(`Reply 1 from ${input.replyFrom}`), `from the force:\n${conversation}`);
  assert.equal(pqFetches(requests), 1, "pq.js opened the X-Wing reply");

  step("send a follow-up (to the force that replied, which the page knows)");
  await page.locator("#follow-to").getByText(input.forceName).waitFor();
  await page.locator("#message").fill(input.followUp);
  const sent = await capturePost(page, base, "/api/v1/reports", () => page.getByRole("button", { name: "Send message" }).click());
  checkXWing(sent, [input.followUp]);
  await heading(page, "Message sent", SEND_TIMEOUT_MS);
  assertClean("reading an X-Wing reply and sending a follow-up");
  return { envelope_sha256: await sha256Hex(sent.body) };
}

const phases = { report, replies };
if (!phases[phase]) {
  console.error("usage: node e2e/pq.mjs report|replies --base URL --input JSON");
  process.exit(2);
}
await main(phases[phase]);

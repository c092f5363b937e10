// The reporter's journey against a real server, in two phases that
// tests/browser.rs runs with the force's side in between:
//
//   node e2e/journey.mjs report  --base URL --input '{"answers":{…},"assets":[{path,sha256}],"powDifficulty"}'
//     fills in the whole report, checks the answers, sends it, and prints
//     {"ok":true,"words":[12],"envelope_sha256","envelope_len","pow"}: the
//     request body was an envelope (magic "QL") without the typed text in
//     it, sent with a Quietline-Pow header (`pow`) that solves a challenge
//     the page fetched, of difficulty `powDifficulty` when given.
//   node e2e/journey.mjs replies --base URL --input '{"words","forceName","replyFrom","replyText","reportDetails","followUp","powDifficulty"}'
//     enters the 12 words, sees the force's reply after the reporter's own
//     copy of the report, sends a follow-up, goes back to the replies and
//     sees the whole conversation in order — the report, the force's
//     replies, the follow-up, each saying who wrote it — and prints
//     {"ok":true,"envelope_sha256","pow"} of the follow-up's request.
//
// Each phase waits for the page's own copy of what it sent to be written
// (POST /api/v1/copies/…, 201; crypto/FORMAT.md#own-copies), which the page
// does in the background after the server has the message.
//
// With "lang":"cy" in the answers (report) or the input (replies), the same
// journey runs in Welsh: the page opened at /?lang=cy, every text looked for
// the Welsh catalogue's, the reply (`replyLang`, Welsh or English) shown
// with the right `lang` attribute.
//
// The page runs under its real CSP here (no bypass); any CSP violation,
// script error or request to another origin fails the run.

import { assert, capturePost, checkPow, containsText, heading, main, newContext, sha256Hex, step, SEND_TIMEOUT_MS } from "./lib.mjs";
import { catalogue, confirmReplyCode, fillReport, openReplies, readReplyCode, startUrl } from "./flows.mjs";

const phase = process.argv[2];
process.argv.splice(2, 1);

/**
 * The envelope as sent: binary, magic "QL", version 1, and without `secret`
 * in it; with a proof of work over exactly these bytes, for a challenge the
 * page fetched just before.
 */
async function checkEnvelope(sent, secrets, requests, difficulty) {
  assert.equal(sent.status, 201, "the server stored it");
  assert.equal(sent.contentType, "application/octet-stream");
  assert.ok(sent.body.length >= 1024, `an envelope is padded: ${sent.body.length} bytes`);
  assert.equal(sent.body[0], 0x51);
  assert.equal(sent.body[1], 0x4c);
  assert.equal(sent.body[2], 1, "format version 1");
  for (const s of secrets) assert.ok(!containsText(sent.body, s), `the request body does not contain ${JSON.stringify(s)}`);
  const posts = requests.filter((r) => r.includes("/api/v1/reports"));
  const last = requests.lastIndexOf(posts.at(-1));
  assert.ok(requests.slice(0, last).some((r) => r.startsWith("GET ") && r.endsWith("/api/v1/challenge")), "a challenge was fetched before the POST");
  await checkPow(sent, difficulty);
}

/** Resolves to the status of the page's next POST of its own copy. */
const copyWritten = (page, base) => page.waitForResponse((r) => r.request().method() === "POST" && r.url().startsWith(`${base}/api/v1/copies/`), { timeout: SEND_TIMEOUT_MS * 2 })
  .then((r) => r.status());

async function report({ base, input, browser }) {
  const { context, assertClean, requests } = await newContext(browser, base);
  const page = await context.newPage();
  const a = input.answers;
  const T = catalogue(a.lang);

  // The footer shows the hashes the server publishes.
  await page.goto(startUrl(a.lang));
  await page.getByText(T("served.summary")).click();
  const served = await page.locator("#served").innerText();
  for (const { path, sha256 } of input.assets) {
    assert.ok(served.includes(path) && served.includes(sha256), `the footer shows ${path} ${sha256}:\n${served}`);
  }

  await fillReport(page, a);
  step("send");
  const copied = copyWritten(page, base);
  const sent = await capturePost(page, base, "/api/v1/reports", () => page.getByRole("button", { name: T("check.send") }).click());
  await checkEnvelope(sent, [a.details, a.where, a.person.name, a.vehicle.registration, a.howDetails], requests, input.powDifficulty);
  const words = await readReplyCode(page, a.lang);
  assert.ok((await page.locator("main").innerText()).includes(a.forceName), "the confirmation names the force");
  assert.equal(await page.evaluate(() => document.documentElement.lang), T.lang);
  await confirmReplyCode(page, words, a.lang);
  step("the page's own copy of the report");
  assert.equal(await copied, 201, "the copy of the report was stored");
  // Once the server has said how long it keeps things, the page says the number.
  assert.ok((await page.locator("main").innerText()).includes(T("replies.deleted.days", { n: 90, more: 7 })), "the retention in days");
  assertClean("sending a report");
  assert.ok(!requests.some((r) => r.includes("/api/v1/slots")), "sending asks for no reply slot");
  return { words, envelope_sha256: await sha256Hex(sent.body), envelope_len: sent.body.length, pow: sent.pow };
}

async function replies({ base, input, browser }) {
  const { context, assertClean, requests } = await newContext(browser, base);
  const page = await context.newPage();
  const T = catalogue(input.lang);
  await openReplies(page, input.words, undefined, input.lang);
  await heading(page, T("replies.title"));
  const conversation = await page.locator("ol.conversation").innerText();
  // Each reply in order, its text marked with its own language (the
  // page's, inherited, or its own `lang` when it is in the other one).
  const replies = input.replies || [{ from: input.replyFrom, text: input.replyText, lang: "en" }];
  const texts = page.locator("ol.conversation > li:not(.own) .pre");
  assert.equal(await texts.count(), replies.length, `${replies.length} replies:\n${conversation}`);
  for (const [i, r] of replies.entries()) {
    assert.ok(conversation.includes(r.text), `reply ${i + 1} is shown:\n${conversation}`);
    assert.ok(conversation.includes(T("replies.from", { n: i + 1, force: r.from })), `from the force:\n${conversation}`);
    const marked = await texts.nth(i).evaluate((el) => el.closest("[lang]").getAttribute("lang"));
    assert.equal(marked, r.lang, `reply ${i + 1} is marked as ${r.lang}`);
    const own = await texts.nth(i).evaluate((el) => el.parentElement.getAttribute("lang"));
    assert.equal(own, r.lang === T.lang ? null : r.lang, "a lang attribute only where the language changes");
  }
  // The reporter's own report comes first: it was sent before any reply.
  const report = { who: T("replies.you.report"), text: input.reportDetails, own: true };
  const theirs = replies.map((r, i) => ({ who: T("replies.from", { n: i + 1, force: r.from }), text: r.text }));
  await checkConversation(page, [report, ...theirs]);
  assert.ok((await page.locator("main").innerText()).includes(T("replies.deleted.days", { n: 90, more: 7 })), "the retention in days");

  step("send a follow-up: to the force that replied, without choosing it again");
  await page.locator("#follow-to").getByText(T("follow.to", { force: input.forceName })).waitFor();
  assert.equal(await page.locator("input[name=follow-force]").count(), 0, "the force is not asked for again");
  await page.locator("#message").fill(input.followUp);
  const copied = copyWritten(page, base);
  const sent = await capturePost(page, base, "/api/v1/reports", () => page.getByRole("button", { name: T("follow.send") }).click());
  await checkEnvelope(sent, [input.followUp], requests, input.powDifficulty);
  await heading(page, T("followsent.title"), SEND_TIMEOUT_MS);
  assert.ok((await page.locator("main").innerText()).includes(input.forceName));
  assert.equal(await copied, 201, "the copy of the follow-up was stored");

  step("back to the replies: the whole conversation, both sides, in order");
  await page.getByRole("button", { name: T("followsent.back") }).click();
  await heading(page, T("replies.title"));
  const followUp = { who: T("replies.you.message"), text: input.followUp, own: true };
  await checkConversation(page, [report, ...theirs, followUp]);
  assertClean("reading replies and sending a follow-up");
  return { envelope_sha256: await sha256Hex(sent.body), pow: sent.pow };
}

/**
 * The conversation shown is exactly `want`, in this order: each message's
 * heading says who wrote it (the reporter's own are marked `own`), and its
 * text is shown.
 */
async function checkConversation(page, want) {
  const items = page.locator("ol.conversation > li");
  const all = await page.locator("ol.conversation").innerText();
  assert.equal(await items.count(), want.length, `${want.length} messages:\n${all}`);
  for (const [i, w] of want.entries()) {
    const item = items.nth(i);
    assert.equal((await item.locator("h2").innerText()).trim(), w.who, `message ${i + 1} is ${w.who}:\n${all}`);
    assert.equal((await item.locator(".pre").innerText()).trim(), w.text.trim(), `message ${i + 1}'s text:\n${all}`);
    assert.equal(await item.evaluate((el) => el.classList.contains("own")), !!w.own, `message ${i + 1} is ${w.own ? "" : "not "}the reporter's own`);
  }
}

const phases = { report, replies };
if (!phases[phase]) {
  console.error("usage: node e2e/journey.mjs report|replies --base URL --input JSON");
  process.exit(2);
}
await main(phases[phase]);

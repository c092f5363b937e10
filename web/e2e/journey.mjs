// The reporter's journey against a real server, in two phases that
// tests/browser.rs runs with the force's side in between:
//
//   node e2e/journey.mjs report  --base URL --input '{"answers":{…},"assets":[{path,sha256}],"powDifficulty"}'
//     fills in the whole report, checks the answers, sends it, and prints
//     {"ok":true,"words":[12],"envelope_sha256","envelope_len","pow"}: the
//     request body was an envelope (magic "QL") without the typed text in
//     it, sent with a Quietline-Pow header (`pow`) that solves a challenge
//     the page fetched, of difficulty `powDifficulty` when given.
//   node e2e/journey.mjs replies --base URL --input '{"words","forceName","replyFrom","replyText","followUp","powDifficulty"}'
//     enters the 12 words, sees the force's reply, sends a follow-up and
//     prints {"ok":true,"envelope_sha256","pow"} of the follow-up's request.
//
// The page runs under its real CSP here (no bypass); any CSP violation,
// script error or request to another origin fails the run.

import { assert, capturePost, checkPow, containsText, heading, main, newContext, sha256Hex, step, SEND_TIMEOUT_MS } from "./lib.mjs";
import { fillReport, openReplies, readReplyCode } from "./flows.mjs";

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

async function report({ base, input, browser }) {
  const { context, assertClean, requests } = await newContext(browser, base);
  const page = await context.newPage();
  const a = input.answers;

  // The footer shows the hashes the server publishes.
  await page.goto("/");
  await page.getByText("Check what you were served").click();
  const served = await page.locator("#served").innerText();
  for (const { path, sha256 } of input.assets) {
    assert.ok(served.includes(path) && served.includes(sha256), `the footer shows ${path} ${sha256}:\n${served}`);
  }

  await fillReport(page, a);
  step("send");
  const sent = await capturePost(page, base, "/api/v1/reports", () => page.getByRole("button", { name: "Send report" }).click());
  await checkEnvelope(sent, [a.details, a.where, a.person.name, a.vehicle.registration, a.howDetails], requests, input.powDifficulty);
  const words = await readReplyCode(page);
  assert.ok((await page.locator("main").innerText()).includes(a.forceName), "the confirmation names the force");
  assertClean("sending a report");
  assert.ok(!requests.some((r) => r.includes("/api/v1/slots")), "sending asks for no reply slot");
  return { words, envelope_sha256: await sha256Hex(sent.body), envelope_len: sent.body.length, pow: sent.pow };
}

async function replies({ base, input, browser }) {
  const { context, assertClean, requests } = await newContext(browser, base);
  const page = await context.newPage();
  await openReplies(page, input.words);
  await heading(page, "Replies to your report");
  const conversation = await page.locator("ol.conversation").innerText();
  assert.ok(conversation.includes(input.replyText), `the reply is shown:\n${conversation}`);
  assert.ok(conversation.includes(`Reply 1 from ${input.replyFrom}`), `from the force:\n${conversation}`);

  step("send a follow-up");
  await page.getByLabel(input.forceName, { exact: true }).check();
  await page.locator("#message").fill(input.followUp);
  const sent = await capturePost(page, base, "/api/v1/reports", () => page.getByRole("button", { name: "Send message" }).click());
  await checkEnvelope(sent, [input.followUp], requests, input.powDifficulty);
  await heading(page, "Message sent", SEND_TIMEOUT_MS);
  assert.ok((await page.locator("main").innerText()).includes(input.forceName));
  assertClean("reading replies and sending a follow-up");
  return { envelope_sha256: await sha256Hex(sent.body), pow: sent.pow };
}

const phases = { report, replies };
if (!phases[phase]) {
  console.error("usage: node e2e/journey.mjs report|replies --base URL --input JSON");
  process.exit(2);
}
await main(phases[phase]);

// The check before sealing (src/keycheck.js) in the real page: fill in a
// report to a pinned force and send it; either it is sent (the reply code
// shows) or the page refuses to seal, with the GOV.UK error summary saying
// that nothing was sent, why, and what to do, and everything typed kept;
// after a refused key or key log ("Do not try again") no Send button is left,
// only the way on (contact the force another way; Exit this page), and axe
// finds nothing on the screen.
//
//   node e2e/keycheck.mjs --base URL --input '{"answers":{…},"expect":"sent"|"refused",
//     "message":"catalogue key"?, "readyFile":PATH?, "goFile":PATH?, "screenshot":PATH?}'
//
// With readyFile/goFile: once "Check your answers" shows (the page has
// loaded and seen the key log's checkpoint), the script writes readyFile and
// waits for goFile before sending, so the test can change the server
// meanwhile (rewrite the key log). Prints {"ok":true,"outcome":…,"summary":…}.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { assert, axeScan, heading, main, newContext, step, SEND_TIMEOUT_MS } from "./lib.mjs";
import { catalogue, fillReport } from "./flows.mjs";

await main(async ({ base, input, browser }) => {
  const { context, assertClean, requests } = await newContext(browser, base);
  const page = await context.newPage();
  const a = input.answers;
  const T = catalogue(a.lang);
  await fillReport(page, a);

  if (input.readyFile) {
    step("waiting for the test to change the server");
    writeFileSync(input.readyFile, "ready\n");
    const until = Date.now() + 60_000;
    while (!existsSync(input.goFile)) {
      if (Date.now() > until) throw new Error("the test did not say go");
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  step("send");
  await page.getByRole("button", { name: T("check.send") }).click();
  const sent = page.locator("main h1").filter({ hasText: T("sent.title") });
  const refused = page.locator(".error-summary");
  await sent.or(refused).first().waitFor({ timeout: SEND_TIMEOUT_MS });
  if (await sent.count()) {
    assert.equal(input.expect, "sent", "the page sent the report");
    assertClean();
    return { outcome: "sent", keylogRequests: requests.filter((r) => r.includes("/api/v1/keylog/")).length };
  }

  step("refused: the error summary");
  const summary = (await refused.innerText()).trim();
  assert.equal(input.expect, "refused", `the page refused to send: ${summary}`);
  assert.equal((await page.locator(".error-summary h2").textContent()).trim(), T("err.summary"));
  const want = T("send.err.kept", { error: T(input.message, { force: a.forceName }) });
  assert.ok(summary.includes(want), `the summary says ${JSON.stringify(want)}:\n${summary}`);
  assert.match(await page.title(), /^(Error|Gwall): /, "the title says Error");
  await heading(page, T("check.title"));
  // Everything typed is still there.
  const answers = await page.locator("dl.summary").innerText();
  assert.ok(answers.includes(a.details.trim()), "the answers are kept");
  assert.ok(!requests.some((r) => r.startsWith("POST ") && r.includes("/api/v1/reports")), "nothing was posted");
  assert.ok(!requests.some((r) => r.includes("/api/v1/challenge")), "no challenge was even fetched");
  // A refused key or key log ("Do not try again") leaves no Send button, only
  // the way on; a key out of date or one that could not be checked ("try
  // again") keeps it.
  const sendButtons = await page.getByRole("button", { name: T("check.send") }).count();
  if (["send.err.keycheck.key", "send.err.keycheck.log"].includes(input.message)) {
    step("refused: no Send button, the way on instead");
    assert.equal(sendButtons, 0, "no Send button under \"Do not try again\"");
    assert.equal(await page.locator("#send").count(), 0);
    await page.getByText(T("send.refused", { force: a.forceName }), { exact: true }).waitFor();
    assert.equal(await page.locator("main [data-exit]").getAttribute("href"), "/exit", "a way to leave quickly");
  } else {
    assert.equal(sendButtons, 1, "the Send button stays for a refusal that says to try again");
  }
  // Under the page's real CSP: axe-core goes in through the DevTools protocol
  // (not a <script> the CSP would refuse), so axeScan finds it there.
  await page.evaluate(readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8"));
  const { violations } = await axeScan(page);
  assert.deepEqual(violations, [], `axe on the refusal: ${JSON.stringify(violations, null, 1)}`);
  if (input.screenshot) await page.screenshot({ path: input.screenshot, fullPage: true });
  assertClean();
  return { outcome: "refused", summary };
});

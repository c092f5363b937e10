// The check before sealing (src/keycheck.js) in the real page: fill in a
// report to a pinned force and send it; either it is sent (the reply code
// shows) or the page refuses to seal, with the GOV.UK error summary saying
// that nothing was sent, why, and what to do, and everything typed kept.
//
//   node e2e/keycheck.mjs --base URL --input '{"answers":{…},"expect":"sent"|"refused",
//     "message":"catalogue key"?, "readyFile":PATH?, "goFile":PATH?, "screenshot":PATH?}'
//
// With readyFile/goFile: once "Check your answers" shows (the page has
// loaded and seen the key log's checkpoint), the script writes readyFile and
// waits for goFile before sending, so the test can change the server
// meanwhile (rewrite the key log). Prints {"ok":true,"outcome":…,"summary":…}.

import { existsSync, writeFileSync } from "node:fs";
import { assert, heading, main, newContext, step, SEND_TIMEOUT_MS } from "./lib.mjs";
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
  if (input.screenshot) await page.screenshot({ path: input.screenshot, fullPage: true });
  assertClean();
  return { outcome: "refused", summary };
});

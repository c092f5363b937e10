// tests/it/page_metadata.rs: submit a report through the real page in headless
// Chromium with a canary User-Agent and a canary X-Forwarded-For on every
// request, then fetch the reply slots once (as a returning reporter would).
//
//   node tests/it/support/page_metadata.mjs --base http://127.0.0.1:PORT --input '{"answers":{…},"userAgent","forwardedFor"}'
//
// Prints one JSON line: {"ok":true,"words":[12],"status":201,"requests":[…]}.
// It reuses the page team's helpers in web/e2e/ (and so their Playwright).

import { assert, capturePost, main, newContext, step } from "../../../web/e2e/lib.mjs";
import { fillReport, openReplies, readReplyCode } from "../../../web/e2e/flows.mjs";

await main(async ({ base, input, browser }) => {
  const { context, assertClean, requests } = await newContext(browser, base, {
    userAgent: input.userAgent,
    extraHTTPHeaders: {
      "X-Forwarded-For": input.forwardedFor,
      "X-Real-IP": input.forwardedFor,
      Forwarded: `for=${input.forwardedFor}`,
    },
  });
  const page = await context.newPage();
  await page.goto("/");
  assert.equal(await page.evaluate(() => navigator.userAgent), input.userAgent, "the canary user agent is in use");
  await fillReport(page, input.answers);
  step("send");
  const sent = await capturePost(page, base, "/api/v1/reports", () =>
    page.getByRole("button", { name: "Send report" }).click(),
  );
  assert.equal(sent.status, 201, "the server stored it");
  const words = await readReplyCode(page);
  // What the browser kept: the page promises no cookie and no storage.
  const cookies = await context.cookies();
  assert.deepEqual(cookies, [], "no cookie was set");
  const stored = await page.evaluate(() => ({
    local: window.localStorage.length,
    session: window.sessionStorage.length,
  }));
  // The returning reporter: the slots are fetched with the same headers.
  const again = await context.newPage();
  await openReplies(again, words);
  assertClean("sending a report and checking for replies with canary headers");
  return { words, status: sent.status, requests, cookies: cookies.length, stored, fetchedSlots: requests.some((r) => r.includes("/api/v1/slots")) };
});

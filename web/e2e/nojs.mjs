// The page without JavaScript: it says why a report has to be sealed in the
// browser, how to allow JavaScript (Tor Browser's "Safer" level), that
// nothing was sent, and where to get help now; and it sends nothing.
//
//   node e2e/nojs.mjs --base URL --input '{}'
//
// Prints {"ok":true,"requests":[…]}: only GET requests for the page itself.

import { assert, heading, main, newContext } from "./lib.mjs";

await main(async ({ base, browser }) => {
  const { context, requests, assertClean } = await newContext(browser, base, { javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await heading(page, "JavaScript is needed to send a report");
  const text = await page.locator("main").innerText();
  for (const needed of [
    "Nothing has been sent.",
    "locked (encrypted) on this device",
    "needs JavaScript",
    "Tor Browser",
    "Safest",
    "Safer",
    "999",
    "101",
    "Crimestoppers",
  ]) {
    assert.ok(text.includes(needed), `the page says ${JSON.stringify(needed)}`);
  }
  assert.equal(await page.locator("[data-exit]").getAttribute("href"), "about:blank", "Exit this page works without JavaScript");
  assert.equal(await page.title(), "JavaScript is needed to send a report – Quietline");
  for (const r of requests) {
    assert.match(r, /^GET /, `only GET requests: ${r}`);
    assert.doesNotMatch(r, /\/api\//, `no API request: ${r}`);
  }
  assertClean("the no-JavaScript page");
  return { requests };
});

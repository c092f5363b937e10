// The page without JavaScript, in English and in Welsh: it says why a report
// has to be sealed in the browser, how to allow JavaScript (Tor Browser's
// "Safer" level), that nothing was sent, and where to get help now; its
// "English | Cymraeg" links and "Exit this page" work as plain links (the
// server picks the language: ?lang=, else Accept-Language); "Staying safe
// online" is there in both; and it sends nothing.
//
//   node e2e/nojs.mjs --base URL --input '{}'
//
// Prints {"ok":true,"requests":[…]}: only GET requests for the page itself.

import { assert, heading, main, newContext } from "./lib.mjs";
import { catalogue } from "./flows.mjs";

await main(async ({ base, browser }) => {
  const { context, requests, assertClean } = await newContext(browser, base, { javaScriptEnabled: false });
  const page = await context.newPage();

  /** The no-JavaScript page as it is shown now says all it must, in `lang`. */
  async function says(lang) {
    const T = catalogue(lang);
    await heading(page, T("nojs.title"));
    assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
    const text = await page.locator("main").innerText();
    for (const key of ["nojs.nothing_sent", "nojs.why", "nojs.tor.intro", "nojs.tor.safer", "nojs.other.text"]) {
      assert.ok(text.includes(T(key)), `the page says ${key} in ${lang}`);
    }
    for (const needed of ["Tor Browser", "Safest", "Safer", "999", "101", "Crimestoppers"]) {
      assert.ok(text.includes(needed), `the page says ${JSON.stringify(needed)}`);
    }
    assert.equal(await page.locator("[data-exit]").getAttribute("href"), "/exit", "Exit this page works without JavaScript");
    assert.equal(await page.locator("[data-exit]").innerText(), T("shell.exit"));
    assert.equal(await page.title(), `${T("nojs.title")} – Quietline`);
  }

  await page.goto("/");
  await says("en");
  step("the switch: Cymraeg, a plain link");
  await page.getByRole("link", { name: "Cymraeg" }).click();
  await says("cy");
  assert.ok(page.url().endsWith("/?lang=cy"));
  step("Staying safe online, in Welsh");
  await page.getByRole("link", { name: catalogue("cy")("safe.title") }).click();
  await heading(page, catalogue("cy")("safe.title"));
  assert.equal(await page.locator("[data-exit]").getAttribute("href"), "/exit");
  await page.getByRole("link", { name: "English" }).click();
  await heading(page, catalogue("en")("safe.title"));
  step("a browser that prefers Welsh gets the Welsh page");
  const welsh = await context.browser().newContext({ baseURL: base, javaScriptEnabled: false, locale: "cy-GB" });
  const p2 = await welsh.newPage();
  await p2.goto("/");
  assert.equal(await p2.evaluate(() => document.documentElement.lang), "cy", "Accept-Language: cy-GB");
  await welsh.close();
  for (const r of requests) {
    assert.match(r, /^GET /, `only GET requests: ${r}`);
    assert.doesNotMatch(r, /\/api\//, `no API request: ${r}`);
  }
  assertClean("the no-JavaScript page");
  return { requests };
});

function step(text) {
  console.error(`- ${text}`);
}

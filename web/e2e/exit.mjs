// "Exit this page": the button, and Shift pressed three times, each clear
// everything typed and leave for the neutral site (the server's /exit
// redirects to its --exit-url: `neutral`, another site on loopback that
// tests/it/browser.rs runs, as is `before`), leaving nothing of the
// service to go Back to: Back from the neutral site goes to the site the
// reporter came from, however many steps of the journey they had taken.
// Two Shifts with another key between do not exit. Both languages.
//
//   node e2e/exit.mjs --base URL --input '{"forceName","canary","neutral","before"}'
//
// Prints {"ok":true,"ways":["button","shift x3","button (cy)"]}.

import { assert, heading, main, newContext, pageText, step } from "./lib.mjs";
import { catalogue, startUrl } from "./flows.mjs";

await main(async ({ base, input, browser }) => {
  const { neutral, before } = input;
  const { context, assertClean } = await newContext(browser, base, { elsewhere: [neutral, before] });

  /** A fresh tab that came from another site, with the canary typed into "What happened?". */
  async function typed(canary, lang = "en") {
    const T = catalogue(lang);
    const page = await context.newPage();
    await page.goto(before);
    await page.goto(startUrl(lang));
    await heading(page, T("start.title"));
    assert.equal(await page.locator("[data-exit]").count(), 1, "Exit this page is on the start page");
    await page.getByRole("button", { name: T("start.start") }).click();
    await page.getByLabel(input.forceName, { exact: true }).check();
    await page.getByRole("button", { name: T("nav.continue") }).click();
    await heading(page, T("what.title"));
    assert.equal(await page.locator("[data-exit]").count(), 1, "Exit this page is on every page");
    await page.getByLabel(T("what.details")).fill(canary);
    assert.ok((await pageText(page)).includes(canary));
    return page;
  }

  /** The page left for the neutral site; Back goes to the site before the service, not to the service. */
  async function gone(page, canary, how) {
    await page.waitForURL(neutral);
    assert.equal(await page.title(), "Weather", `${how}: the neutral site`);
    assert.ok(!(await pageText(page)).includes(canary), `${how}: nothing typed is shown`);
    await page.goBack();
    await page.waitForURL(before);
    assert.equal(await page.title(), "Search results", `${how}: Back goes to where the reporter was before the service`);
    assert.ok(!page.url().startsWith(base), `${how}: nothing of the service to go Back to`);
  }

  step("the Exit this page button");
  const one = await typed(`${input.canary}-button`);
  await one.getByRole("link", { name: "Exit this page" }).click();
  await gone(one, `${input.canary}-button`, "button");

  step("Shift three times");
  const two = await typed(`${input.canary}-shift`);
  await two.locator("#details").focus();
  await two.keyboard.press("Shift");
  await two.keyboard.press("Shift");
  await two.keyboard.press("x"); // another key starts the count again
  await two.keyboard.press("Shift");
  assert.equal(await two.locator("main h1").first().textContent(), "What happened?", "Shift, Shift, x, Shift does not exit");
  await two.keyboard.press("Shift");
  await two.keyboard.press("Shift");
  await gone(two, `${input.canary}-shift`, "shift x3");

  step("Gadael y dudalen hon (Welsh)");
  const three = await typed(`${input.canary}-cy`, "cy");
  await three.getByRole("link", { name: catalogue("cy")("shell.exit") }).click();
  await gone(three, `${input.canary}-cy`, "button (cy)");

  assertClean("exit this page");
  return { ways: ["button", "shift x3", "button (cy)"] };
});

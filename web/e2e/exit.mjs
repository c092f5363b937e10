// "Exit this page": the button, and Shift pressed three times, each replace
// the page with a blank one and clear everything typed; going Back does not
// bring any of it back. Two Shifts with another key between do not exit.
//
//   node e2e/exit.mjs --base URL --input '{"forceName","canary"}'
//
// Prints {"ok":true,"ways":["button","shift x3"]}.

import { assert, heading, main, newContext, pageText, step } from "./lib.mjs";

await main(async ({ base, input, browser }) => {
  const { context, assertClean } = await newContext(browser, base);

  /** A fresh tab with the canary typed into "What happened?". */
  async function typed(canary) {
    const page = await context.newPage();
    await page.goto("/");
    await heading(page, "Tell the police something anonymously");
    assert.equal(await page.locator("[data-exit]").count(), 1, "Exit this page is on the start page");
    await page.getByRole("button", { name: "Start now" }).click();
    await page.getByLabel(input.forceName, { exact: true }).check();
    await page.getByRole("button", { name: "Continue" }).click();
    await heading(page, "What happened?");
    assert.equal(await page.locator("[data-exit]").count(), 1, "Exit this page is on every page");
    await page.getByLabel("Tell us what happened").fill(canary);
    assert.ok((await pageText(page)).includes(canary));
    return page;
  }

  /** The page left for about:blank, and Back shows none of what was typed. */
  async function gone(page, canary, how) {
    await page.waitForURL("about:blank");
    assert.equal(await page.evaluate(() => document.body ? document.body.innerText.trim() : ""), "", `${how}: a blank page`);
    // Back returns to the service's address, which starts again from nothing.
    await page.goBack();
    assert.equal(page.url(), `${base}/`, `${how}: Back goes to the service's address`);
    await page.locator("main h1").first().waitFor();
    const text = await pageText(page);
    assert.ok(!text.includes(canary), `${how}: nothing typed comes back:\n${text}`);
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

  assertClean("exit this page");
  return { ways: ["button", "shift x3"] };
});

// "English | Cymraeg" with JavaScript: the switch redraws the same step in
// the other language, keeping everything typed (submitted or not), the
// choices made and the place in the journey, with errors shown worked out
// again in the new words; <html lang> and the address follow, so a reload
// stays in the language; Back still walks the steps; the reply code's
// page and the replies switch too.
//
//   node e2e/language.mjs --base URL --input '{"forceName","words"}'
//
// `words`: a reply code with a reply in slot 0. Prints {"ok":true,"switched":N}.

import { assert, heading, main, newContext, step } from "./lib.mjs";
import { catalogue } from "./flows.mjs";

const EN = catalogue("en");
const CY = catalogue("cy");

await main(async ({ base, input, browser }) => {
  const { context, assertClean, requests } = await newContext(browser, base);
  const page = await context.newPage();
  let switched = 0;
  /** Switch to the language of catalogue T with the link at the top. */
  const to = async (T) => {
    await page.locator(".lang-switch").getByRole("link", { name: T.lang === "cy" ? "Cymraeg" : "English" }).click();
    await page.waitForFunction((l) => document.documentElement.lang === l, T.lang);
    switched += 1;
  };

  step("English start page; the switch offers Cymraeg, in Welsh");
  await page.goto("/");
  await heading(page, EN("start.title"));
  const link = page.locator(".lang-switch a");
  assert.equal(await link.getAttribute("lang"), "cy");
  assert.equal(await link.getAttribute("hreflang"), "cy");
  assert.equal(await page.locator(".lang-switch [aria-current=true]").innerText(), "English");

  step("answers typed but not yet sent are kept across the switch");
  await page.getByRole("button", { name: EN("start.start") }).click();
  await page.getByLabel(input.forceName, { exact: true }).check();
  await page.getByRole("button", { name: EN("nav.continue") }).click();
  await heading(page, EN("what.title"));
  await page.getByRole("button", { name: EN("nav.continue") }).click(); // errors first
  await page.locator(".error-summary").getByText(EN("err.category")).waitFor();
  await page.getByLabel(EN("cat.fraud"), { exact: true }).check();
  await page.getByLabel(EN("what.details")).fill("Typed in English, kept in Welsh.");
  await to(CY);
  await heading(page, CY("what.title"));
  assert.ok(await page.getByLabel(CY("cat.fraud"), { exact: true }).isChecked(), "the choice is kept");
  assert.equal(await page.locator("#details").inputValue(), "Typed in English, kept in Welsh.");
  // The errors are worked out again for what the form holds now: both answers given, none left.
  assert.equal(await page.locator(".error-summary").count(), 0, "no error left: both answers are given");
  assert.ok(page.url().endsWith("/?lang=cy"), `the address says the language: ${page.url()}`);
  assert.equal(await page.title(), CY("page.title", { title: CY("what.title") }));
  assert.equal(await page.locator("[data-exit]").innerText(), CY("shell.exit"), "the exit button too");
  assert.equal(await page.locator(".skip-link").innerText(), CY("shell.skip"));

  step("errors shown are redone in the new language");
  await page.locator("#details").fill("");
  await page.getByRole("button", { name: CY("nav.continue") }).click();
  await page.locator(".error-summary").getByText(CY("err.details")).waitFor();
  await to(EN);
  await page.locator(".error-summary").getByText(EN("err.details")).waitFor();
  await page.getByLabel(EN("what.details")).fill("Back in English.");
  await page.getByRole("button", { name: EN("nav.continue") }).click();
  await heading(page, EN("ww.title"));

  step("Back still walks the steps, in the language now in use");
  await to(CY);
  await heading(page, CY("ww.title"));
  await page.goBack();
  await heading(page, CY("what.title"));
  assert.equal(await page.locator("#details").inputValue(), "Back in English.");

  step("a reload keeps the language (the address), not the answers");
  page.once("dialog", (d) => d.accept()); // the reload warning: leave
  await page.reload();
  await heading(page, CY("start.title"));

  step("the replies, switched: the reply and the follow-up typed are kept");
  await page.getByRole("button", { name: CY("start.check") }).click();
  await page.locator("#code").fill(input.words.join(" "));
  await page.locator("main form").getByRole("button", { name: CY("code.title") }).click();
  await heading(page, CY("replies.title"));
  await page.locator("#message").fill("Neges ar ei hanner");
  await to(EN);
  await heading(page, EN("replies.title"));
  assert.equal(await page.locator("#message").inputValue(), "Neges ar ei hanner");
  assert.ok(requests.some((r) => r.endsWith("/lang-en-later.js")), "the later messages of English were fetched on switching");
  assertClean("switching languages");
  return { switched };
});

// The error summary (GOV.UK pattern): submitting a question page with
// answers missing shows "There is a problem" at the top, focused, with a link
// to each field in error that moves focus there, an inline message at each
// field, "Error: " in the title, and every value already typed kept.
//
//   node e2e/errors.mjs --base URL --input '{"forceName","details"}'
//
// Prints {"ok":true,"checked":[names]}.

import { assert, heading, main, newContext, step } from "./lib.mjs";

await main(async ({ base, input, browser }) => {
  const { context, assertClean } = await newContext(browser, base);
  const page = await context.newPage();
  const checked = [];
  const active = () => page.evaluate(() => {
    const e = document.activeElement;
    return e ? { id: e.id, cls: e.className, tag: e.tagName.toLowerCase() } : null;
  });
  const submit = (label = "Continue") => page.locator("main form").getByRole("button", { name: label }).click();

  /** The summary is there, focused, and lists exactly `expected` ([href, text]). */
  async function summary(expected, what) {
    await page.locator(".error-summary").waitFor();
    assert.equal((await page.locator(".error-summary h2").textContent()).trim(), "There is a problem");
    assert.match((await active()).cls, /error-summary/, `${what}: the summary has focus`);
    assert.match(await page.title(), /^Error: /, `${what}: the title says Error`);
    const links = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => [a.getAttribute("href"), a.textContent.trim()]));
    assert.deepEqual(links, expected, `${what}: one link per field in error`);
    for (const [href, text] of expected) {
      const inline = page.locator(`${href}-error`);
      if (await inline.count()) assert.ok((await inline.textContent()).includes(text), `${what}: inline message at ${href}`);
    }
    checked.push(what);
  }

  step("force: nothing chosen");
  await page.goto("/");
  await page.getByRole("button", { name: "Start now" }).click();
  await heading(page, "Which police force do you want to tell?");
  await page.getByLabel(input.forceName, { exact: true }).waitFor();
  await submit();
  await summary([["#force", "Select the police force you want to tell"]], "force");
  await page.locator(".error-summary a").first().click();
  assert.equal((await active()).id, "force", "the link moves focus to the first radio");
  await page.getByLabel(input.forceName, { exact: true }).check();
  await submit();

  step("what: nothing answered");
  await heading(page, "What happened?");
  await submit();
  await summary([["#category", "Select what your report is about"], ["#details", "Tell us what happened"]], "what happened: both missing");
  assert.equal(await page.locator("#details").getAttribute("aria-invalid"), "true");
  await page.getByRole("link", { name: "Tell us what happened" }).click();
  assert.equal((await active()).id, "details", "the link moves focus to the field");

  step("what: details typed, no category");
  await page.keyboard.type(input.details);
  await submit();
  await summary([["#category", "Select what your report is about"]], "what happened: category missing");
  assert.equal(await page.locator("#details").inputValue(), input.details, "what was typed is kept");
  await page.getByRole("link", { name: "Select what your report is about" }).click();
  assert.equal((await active()).id, "category");
  await page.keyboard.press("Space");
  await submit();

  step("where and when: a date that does not exist");
  await heading(page, "Where and when");
  await page.locator("#where-known-2").check(); // No, I do not know
  await page.locator("#when-known").check(); // Yes
  await page.locator("#date-day").fill("31");
  await page.locator("#date-month").fill("2");
  await page.locator("#date-year").fill("2024");
  await page.locator("#time").fill("25:00");
  await submit();
  await summary([
    ["#date-day", "The date must be a real date"],
    ["#time", "Enter a real time, like 22:15 or 10:15pm"],
    ["#ongoing", "Select whether it is still happening"],
  ], "where and when: bad date and time, one question unanswered");
  for (const [field, value] of [["#date-day", "31"], ["#date-month", "2"], ["#date-year", "2024"], ["#time", "25:00"]]) {
    assert.equal(await page.locator(field).inputValue(), value, `${field} is kept`);
  }
  assert.ok(await page.locator("#where-known-2").isChecked(), "the chosen answer is kept");
  await page.getByRole("link", { name: "Enter a real time, like 22:15 or 10:15pm" }).click();
  assert.equal((await active()).id, "time");

  step("fixed: the journey goes on");
  await page.locator("#date-day").fill("28");
  await page.locator("#time").fill("");
  await page.locator("#ongoing").check();
  await submit();
  await heading(page, "People and vehicles (optional)");
  assert.equal(await page.locator(".error-summary").count(), 0, "no summary once fixed");
  assert.doesNotMatch(await page.title(), /^Error/);

  assertClean("the error summary");
  return { checked };
});

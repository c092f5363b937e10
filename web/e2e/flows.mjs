// The reporter's journey through the page with a mouse-and-keyboard user's
// actions (Playwright's fill/check/click), shared by the end-to-end scripts.
// `onScreen(name)` is called on each screen as it is reached (the
// accessibility script scans it there).
//
// `answers` (made by tests/browser.rs, which compares them with what it
// decrypts) has: forceName, categoryLabel, details, where, day, month, year,
// time, whenShown (as "Check your answers" words it), ongoingLabel, person {name, description}, vehicle {registration,
// make_model, colour, description}, howLabel, howDetails.

import { assert, heading, step, SEND_TIMEOUT_MS } from "./lib.mjs";

const noop = async () => {};

/** Start → the force → … → check your answers, with everything filled in. */
export async function fillReport(page, answers, onScreen = noop) {
  const a = answers;
  step("start page");
  await page.goto("/");
  await heading(page, "Tell the police something anonymously");
  await onScreen("start");
  await page.getByRole("button", { name: "Start now" }).click();

  step("choose the force");
  await heading(page, "Which police force do you want to tell?");
  await page.getByLabel(a.forceName, { exact: true }).waitFor();
  await onScreen("force");
  await page.getByLabel(a.forceName, { exact: true }).check();
  await page.getByRole("button", { name: "Continue" }).click();

  step("what happened");
  await heading(page, "What happened?");
  await onScreen("what");
  await page.getByLabel(a.categoryLabel, { exact: true }).check();
  await page.getByLabel("Tell us what happened").fill(a.details);
  await page.getByRole("button", { name: "Continue" }).click();

  step("where and when");
  await heading(page, "Where and when");
  await page.locator("#where-known").check(); // Yes
  await page.locator("#where").fill(a.where);
  await page.locator("#when-known").check(); // Yes
  await page.locator("#date-day").fill(a.day);
  await page.locator("#date-month").fill(a.month);
  await page.locator("#date-year").fill(a.year);
  await page.locator("#time").fill(a.time);
  await page.getByRole("group", { name: "Is it still happening?" }).getByLabel(a.ongoingLabel, { exact: true }).check();
  await onScreen("where-when (both answers opened)");
  await page.getByRole("button", { name: "Continue" }).click();

  step("people and vehicles");
  await heading(page, "People and vehicles (optional)");
  await page.getByRole("button", { name: "Add a person" }).click();
  await page.locator("#person-1-name").fill(a.person.name);
  await page.locator("#person-1-description").fill(a.person.description);
  await page.getByRole("button", { name: "Add a vehicle" }).click();
  await page.locator("#vehicle-1-registration").fill(a.vehicle.registration);
  await page.locator("#vehicle-1-make_model").fill(a.vehicle.make_model);
  await page.locator("#vehicle-1-colour").fill(a.vehicle.colour);
  await page.locator("#vehicle-1-description").fill(a.vehicle.description);
  await onScreen("people and vehicles (one of each)");
  await page.getByRole("button", { name: "Continue" }).click();

  step("how they know");
  await heading(page, "How do you know about this?");
  await page.getByLabel(a.howLabel, { exact: true }).check();
  await page.locator("#how-details").fill(a.howDetails);
  await onScreen("how");
  await page.getByRole("button", { name: "Continue" }).click();

  step("check your answers");
  await heading(page, "Check your answers before sending your report");
  const summary = await page.locator("dl.summary").innerText();
  for (const shown of [a.forceName, a.categoryLabel, a.details, a.where, a.whenShown, a.person.name, a.person.description,
    a.vehicle.registration, a.vehicle.make_model, a.vehicle.colour, a.vehicle.description, a.howLabel, a.howDetails]) {
    assert.ok(summary.includes(shown.trim()), `check your answers shows ${JSON.stringify(shown)}:\n${summary}`);
  }
  await onScreen("check your answers");
}

/** On the confirmation page: the 12 words of the reply code. */
export async function readReplyCode(page) {
  await heading(page, "Report sent", SEND_TIMEOUT_MS);
  const words = (await page.locator("ol.reply-code li").allTextContents()).map((w) => w.trim());
  assert.equal(words.length, 12, `12 words: ${words.join(" ")}`);
  for (const w of words) assert.match(w, /^[a-z]{3,8}$/);
  return words;
}

/** From the start page: "Check for replies", type the words, see the replies page. */
export async function openReplies(page, words, onScreen = noop) {
  step("check for replies");
  await page.goto("/");
  await heading(page, "Tell the police something anonymously");
  await page.getByRole("button", { name: "Check for replies" }).click();
  await heading(page, "Check for replies");
  await onScreen("code");
  await page.locator("#code").pressSequentially(words.join(" "));
  await page.locator("main form").getByRole("button", { name: "Check for replies" }).click();
  await page.locator("main h1").filter({ hasText: /^(Replies to your report|No replies yet)$/ }).waitFor();
}

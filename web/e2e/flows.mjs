// The reporter's journey through the page with a mouse-and-keyboard user's
// actions (Playwright's fill/check/click), shared by the end-to-end scripts.
// `onScreen(name)` is called on each screen as it is reached (the
// accessibility script scans it there).
//
// `answers` (made by tests/browser.rs, which compares them with what it
// decrypts) has: forceName, categoryLabel, details, where, day, month, year,
// time, whenShown (as "Check your answers" words it), ongoingLabel, person {name, description}, vehicle {registration,
// make_model, colour, description}, howLabel, howDetails; and `lang`, the
// language the page is used in ("en" when absent): every text the scripts
// look for is the catalogue's (catalogue(lang)), so the same journey runs in
// Welsh.

import { readFileSync } from "node:fs";
import { assert, heading, step, SEND_TIMEOUT_MS } from "./lib.mjs";

const noop = async () => {};

/** The messages of `lang` (web/src/i18n/<lang>.json), with plural forms as "other". */
export function catalogue(lang = "en") {
  const raw = JSON.parse(readFileSync(new URL(`../src/i18n/${lang}.json`, import.meta.url), "utf8"));
  const T = (key, vars = {}) => {
    let m = raw[key];
    if (m == null) throw new Error(`no ${key} in ${lang}.json`);
    // Plural forms as the page chooses them (i18n.js t).
    if (typeof m === "object") m = m[new Intl.PluralRules(lang).select(vars.n)] ?? m.other;
    return m.replace(/\{(\w+)\}/g, (all, k) => (k in vars ? vars[k] : all));
  };
  T.lang = lang;
  return T;
}

/** The start page in the answers' language: "/" for English, "/?lang=cy" for Welsh. */
export const startUrl = (lang = "en") => (lang === "en" ? "/" : `/?lang=${lang}`);

/** Start → the force → … → check your answers, with everything filled in. */
export async function fillReport(page, answers, onScreen = noop, atFiles = null) {
  const a = answers;
  const T = catalogue(a.lang);
  step("start page");
  await page.goto(startUrl(a.lang));
  await heading(page, T("start.title"));
  await onScreen("start");
  await page.getByRole("button", { name: T("start.start") }).click();

  step("choose the force");
  await heading(page, T("force.question"));
  await page.getByLabel(a.forceName, { exact: true }).waitFor();
  await onScreen("force");
  await page.getByLabel(a.forceName, { exact: true }).check();
  await page.getByRole("button", { name: T("nav.continue") }).click();

  step("what happened");
  await heading(page, T("what.title"));
  await onScreen("what");
  await page.getByLabel(a.categoryLabel, { exact: true }).check();
  await page.getByLabel(T("what.details")).fill(a.details);
  await page.getByRole("button", { name: T("nav.continue") }).click();

  step("where and when");
  await heading(page, T("ww.title"));
  await page.locator("#where-known").check(); // Yes
  await page.locator("#where").fill(a.where);
  await page.locator("#when-known").check(); // Yes
  await page.locator("#date-day").fill(a.day);
  await page.locator("#date-month").fill(a.month);
  await page.locator("#date-year").fill(a.year);
  await page.locator("#time").fill(a.time);
  await page.getByRole("group", { name: T("ongoing.question") }).getByLabel(a.ongoingLabel, { exact: true }).check();
  await onScreen("where-when (both answers opened)");
  await page.getByRole("button", { name: T("nav.continue") }).click();

  step("people and vehicles");
  await heading(page, T("people.h1"));
  await page.getByRole("button", { name: T("people.person.add") }).click();
  await page.locator("#person-1-name").fill(a.person.name);
  await page.locator("#person-1-description").fill(a.person.description);
  await page.getByRole("button", { name: T("people.vehicle.add") }).click();
  await page.locator("#vehicle-1-registration").fill(a.vehicle.registration);
  await page.locator("#vehicle-1-make_model").fill(a.vehicle.make_model);
  await page.locator("#vehicle-1-colour").fill(a.vehicle.colour);
  await page.locator("#vehicle-1-description").fill(a.vehicle.description);
  await onScreen("people and vehicles (one of each)");
  await page.getByRole("button", { name: T("nav.continue") }).click();

  step("how they know");
  await heading(page, T("how.question"));
  await page.getByLabel(a.howLabel, { exact: true }).check();
  await page.locator("#how-details").fill(a.howDetails);
  await onScreen("how");
  await page.getByRole("button", { name: T("nav.continue") }).click();

  step(atFiles ? "photos, videos and files" : "photos, videos and files (none)");
  await heading(page, T("files.title"));
  await onScreen("files");
  // `atFiles(page)` chooses files here (attachments.mjs); Continue then seals
  // and uploads them (unless atFiles says it has already left the step).
  if (!(atFiles && (await atFiles(page)))) await page.getByRole("button", { name: T("nav.continue") }).click();

  step("check your answers");
  await heading(page, T("check.title"), atFiles ? SEND_TIMEOUT_MS : undefined);
  const summary = await page.locator("dl.summary").innerText();
  for (const shown of [a.forceName, a.categoryLabel, a.details, a.where, a.whenShown, a.person.name, a.person.description,
    a.vehicle.registration, a.vehicle.make_model, a.vehicle.colour, a.vehicle.description, a.howLabel, a.howDetails]) {
    assert.ok(summary.includes(shown.trim()), `check your answers shows ${JSON.stringify(shown)}:\n${summary}`);
  }
  await onScreen("check your answers");
}

/** On the confirmation page: the 12 words of the reply code (in English whatever the page's language, each marked so). */
export async function readReplyCode(page, lang = "en") {
  const T = catalogue(lang);
  await heading(page, T("sent.title"), SEND_TIMEOUT_MS);
  const words = (await page.locator("ol.reply-code li").allTextContents()).map((w) => w.trim());
  assert.equal(words.length, 12, `12 words: ${words.join(" ")}`);
  for (const w of words) assert.match(w, /^[a-z]{3,8}$/);
  assert.equal(await page.locator('ol.reply-code li[lang="en"]').count(), 12, "each word is marked as English");
  return words;
}

/**
 * After the reply code: "I have written them down", then the two words the
 * page asks for, by position (a wrong one first, which it refuses), and the
 * page that says what happens next. `onScreen` as in fillReport.
 */
export async function confirmReplyCode(page, words, lang = "en", onScreen = noop) {
  const T = catalogue(lang);
  step("type two of the words back");
  await page.getByRole("button", { name: T("sent.written") }).click();
  await heading(page, T("sentcheck.title"));
  const asked = await page.locator("main form input[type=text]").evaluateAll((els) => els.map((e) => Number(e.id.slice(5))));
  assert.equal(asked.length, 2, "two words are asked for");
  assert.ok(asked[0] < asked[1] && asked[0] >= 1 && asked[1] <= 12, `positions ${asked}`);
  await onScreen("type two words of the reply code");
  await page.locator(`#word-${asked[0]}`).fill("wrong");
  await page.locator(`#word-${asked[1]}`).fill(words[asked[1] - 1].toUpperCase());
  await page.getByRole("button", { name: T("nav.continue") }).click();
  await page.locator(".error-summary").getByText(T("sentcheck.wrong", { n: asked[0] })).waitFor();
  assert.equal(await page.locator(`#word-${asked[0]}`).getAttribute("aria-invalid"), "true");
  await page.locator(`#word-${asked[0]}`).fill(` ${words[asked[0] - 1]} `);
  await page.getByRole("button", { name: T("nav.continue") }).click();
  await heading(page, T("done.title"));
  assert.equal(await page.locator("ol.reply-code").count(), 0, "the words are hidden now");
  await onScreen("reply code written down");
}

/** From the start page: "Check for replies", type the words, see the replies page. */
export async function openReplies(page, words, onScreen = noop, lang = "en") {
  const T = catalogue(lang);
  step("check for replies");
  await page.goto(startUrl(lang));
  await heading(page, T("start.title"));
  await page.getByRole("button", { name: T("start.check") }).click();
  await heading(page, T("code.title"));
  await onScreen("code");
  await page.locator("#code").pressSequentially(words.join(" "));
  await page.locator("main form").getByRole("button", { name: T("code.title") }).click();
  await page.locator("main h1").filter({ hasText: new RegExp(`^(${T("replies.title")}|${T("replies.none.title")})$`) }).waitFor();
}

// Accessibility of every screen: axe-core (WCAG 2.2 AA: wcag2a, wcag2aa,
// wcag21a, wcag21aa, wcag22aa) on each screen of the whole journey, with its
// error states and the no-JavaScript page, and reflow at 320 CSS px (no
// sideways scrolling) on each.
//
//   node e2e/a11y.mjs --base URL --input '{"answers":{…},"answersCy":{…},"words":[12],"forceName"}'
//
// Then the same in Welsh (`answersCy`): every question page and check
// answers with the page in Welsh, the specialist services shown for
// domestic abuse, the replies, and both languages' "Staying safe online".
//
// The waiting screen (proof of work) is scanned while it searches, held
// there by a challenge made here, and cancelled before anything is sent.
//
// `words` is a reply code whose slot 0 holds a reply (tests/browser.rs puts
// it there), so the conversation screen has a message on it. axe is injected
// as a script, which the page's CSP refuses, so this script alone uses
// contexts with `bypassCSP: true`; the other scripts run under the real CSP.
// Prints {"ok":true,"screens":[names],"rules_passed":N}; any violation fails.

import { assert, axeScan, heading, main, newContext, slowChallengeOnce, step, SEND_TIMEOUT_MS } from "./lib.mjs";
import { catalogue, confirmReplyCode, fillReport, openReplies, readReplyCode } from "./flows.mjs";

const REFLOW_WIDTH = 320;

await main(async ({ base, input, browser }) => {
  const screens = [];
  const violations = [];
  let rulesPassed = 0;

  async function check(page, name) {
    step(`scan: ${name}`);
    const r = await axeScan(page);
    rulesPassed = Math.max(rulesPassed, r.passes);
    for (const v of r.violations) violations.push(`${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.join(", ")}`);
    // Reflow (WCAG 1.4.10): at 320 CSS px nothing needs scrolling sideways.
    const size = page.viewportSize();
    await page.setViewportSize({ width: REFLOW_WIDTH, height: 640 });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.setViewportSize(size);
    if (wide > REFLOW_WIDTH) violations.push(`${name}: at ${REFLOW_WIDTH} px wide the page is ${wide} px wide (reflow)`);
    screens.push(name);
  }

  const { context, assertClean } = await newContext(browser, base, { bypassCSP: true });
  const page = await context.newPage();

  // The scanner finds what it should: an unlabelled field on a page without a language.
  await page.setContent("<!doctype html><html><head><title>t</title></head><body><main><input type=text></main></body></html>");
  const probe = (await axeScan(page)).violations.map((v) => v.id);
  assert.ok(probe.includes("label") && probe.includes("html-has-lang"), `axe reports known violations: ${probe}`);

  const a = input.answers;
  const submitEmpty = async (label = "Continue") => {
    await page.locator("main form").getByRole("button", { name: label }).click();
    await page.locator(".error-summary").waitFor();
  };

  await page.goto("/");
  await heading(page, "Tell the police something anonymously");
  await page.getByText("Check what you were served").click();
  await page.locator("#served dl").waitFor();
  await check(page, "start, with the served files' hashes open");

  // Error states, one per question page, before the journey proper.
  await page.getByRole("button", { name: "Start now" }).click();
  await heading(page, "Which police force do you want to tell?");
  await page.getByLabel(a.forceName, { exact: true }).waitFor();
  await submitEmpty();
  await check(page, "force: error");
  await page.getByLabel(a.forceName, { exact: true }).check();
  await page.getByRole("button", { name: "Continue" }).click();
  await heading(page, "What happened?");
  await submitEmpty();
  await check(page, "what: errors");
  await page.getByLabel(a.categoryLabel, { exact: true }).check();
  await page.getByLabel("Tell us what happened").fill(a.details);
  await page.getByRole("button", { name: "Continue" }).click();
  await heading(page, "Where and when");
  await submitEmpty();
  await check(page, "where and when: errors");
  await page.locator("#when-known").check();
  await page.locator("#date-day").fill("31");
  await page.locator("#date-month").fill("2");
  await page.locator("#date-year").fill("2024");
  await submitEmpty();
  await check(page, "where and when: a date that does not exist");

  // The whole journey, each screen scanned on arrival.
  await fillReport(page, a, (name) => check(page, name));
  // The waiting screen while the proof of work runs (held there by a
  // 32-bit challenge), then cancelled: back to the answers.
  const slow = await slowChallengeOnce(page, base);
  await page.getByRole("button", { name: "Send report" }).click();
  await heading(page, "Preparing to send your report");
  await page.getByRole("progressbar", { name: "Progress" }).waitFor();
  assert.ok(slow(), "the waiting screen shows the 32-bit challenge's search");
  await check(page, "waiting to send (proof of work)");
  await page.getByRole("button", { name: "Cancel sending" }).click();
  await heading(page, "Check your answers before sending your report");
  await page.getByText("You cancelled sending. Nothing was sent.").waitFor();
  await check(page, "check your answers: sending cancelled");
  await page.getByRole("button", { name: "Send report" }).click();
  const sentWords = await readReplyCode(page);
  await check(page, "report sent (the reply code)");
  await confirmReplyCode(page, sentWords, "en", async (name) => {
    await check(page, name);
    if (name.startsWith("type two")) {
      await page.locator("main form").getByRole("button", { name: "Continue" }).click();
      await page.locator(".error-summary").waitFor();
      await check(page, "type two words: errors");
    }
  });

  await page.goto("/");
  await page.getByRole("button", { name: "Check for replies" }).click();
  await heading(page, "Check for replies");
  await check(page, "code");
  await page.locator("#code").fill("not a reply code");
  await submitEmpty("Check for replies");
  await check(page, "code: error");

  await openReplies(page, input.words);
  await heading(page, "Replies to your report");
  await check(page, "replies (one reply)");
  await page.locator("main form").getByRole("button", { name: "Send message" }).click();
  await page.locator(".error-summary").waitFor();
  await check(page, "follow-up: errors");
  // The force that replied is not asked again; choosing another shows the question.
  await page.getByRole("button", { name: "Send it to a different police force" }).click();
  await page.getByLabel(input.forceName, { exact: true }).waitFor();
  await check(page, "follow-up: choosing another force");
  await page.getByLabel(input.forceName, { exact: true }).check();
  await page.locator("#message").fill("A follow-up for the accessibility scan.");
  await page.getByRole("button", { name: "Send message" }).click();
  await heading(page, "Message sent", SEND_TIMEOUT_MS);
  await check(page, "follow-up sent");
  assertClean("the journey");
  await context.close();

  // The same in Welsh.
  const C = catalogue("cy");
  const cy = await newContext(browser, base, { bypassCSP: true });
  const welsh = await cy.context.newPage();
  await welsh.goto("/?lang=cy");
  await heading(welsh, C("start.title"));
  await check(welsh, "cy: start");
  await welsh.getByRole("button", { name: C("start.start") }).click();
  await welsh.getByLabel(a.forceName, { exact: true }).check();
  await welsh.getByRole("button", { name: C("nav.continue") }).click();
  await heading(welsh, C("what.title"));
  await welsh.locator("main form").getByRole("button", { name: C("nav.continue") }).click();
  await welsh.locator(".error-summary").waitFor();
  await check(welsh, "cy: what: errors");
  await welsh.getByLabel(C("cat.domestic"), { exact: true }).check();
  await welsh.getByText(C("signpost.domestic")).waitFor();
  await check(welsh, "cy: what: domestic abuse, with where to get help");
  await fillReport(welsh, input.answersCy, (name) => check(welsh, `cy: ${name}`));
  await openReplies(welsh, input.words, (name) => check(welsh, `cy: ${name}`), "cy");
  await heading(welsh, C("replies.title"));
  await check(welsh, "cy: replies (an English reply in a Welsh page)");
  for (const [lang, T] of [["en", catalogue("en")], ["cy", C]]) {
    await welsh.goto(`/staying-safe?lang=${lang}`);
    await heading(welsh, T("safe.title"));
    await check(welsh, `${lang}: staying safe online`);
  }
  cy.assertClean("the journey in Welsh");
  await cy.context.close();

  // The page as served, without JavaScript. axe itself needs scripts to
  // run (its timers do not fire where JavaScript is off), so here the page's
  // own script is replaced by an empty one: the document stays exactly the
  // HTML as served, which is the no-JavaScript page (nojs.mjs checks it with
  // JavaScript really off).
  const nojs = await newContext(browser, base, { bypassCSP: true });
  await nojs.context.route(`${base}/app.js`, (route) =>
    route.fulfill({ status: 200, contentType: "text/javascript", body: "// JavaScript is off\n" }));
  const plain = await nojs.context.newPage();
  await plain.goto("/");
  await heading(plain, "JavaScript is needed to send a report");
  await check(plain, "no JavaScript");
  await plain.goto("/?lang=cy");
  await heading(plain, catalogue("cy")("nojs.title"));
  await check(plain, "cy: no JavaScript");
  nojs.assertClean("the no-JavaScript page");

  assert.deepEqual(violations, [], `WCAG 2.2 AA violations:\n${violations.join("\n")}`);
  return { screens, rules_passed: rulesPassed };
});

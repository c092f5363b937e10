// Retention review and deletion in a real browser (issue 17): a supervisor
// finds a closed case due for its retention review from the queue's
// shortcut, keeps it with a new date and a reason (a past date refused
// beside its field), then deletes it (the id typed to confirm; a wrong one
// refused). axe-core (WCAG 2.2 AA) on each page and error state; headings
// in order.
//
//   node desk/e2e/work_intel_retention.mjs --base URL --input '{"sue":{account,password,code},"caseId":ID,"screenshots":DIR}'
//
// axe is injected as a script, which the desk's CSP refuses, so this
// script's context bypasses the CSP (as work_a11y.mjs does).
// Prints {"ok":true,"pages":[names],"requests":[…]}.

import { assert, assertSameOrigin, caseIds, heading, main, newContext, signIn, step, scanPage } from "./work_lib.mjs";

await main(async ({ base, input, browser }) => {
  const pages = [];
  const violations = [];
  const s = await newContext(browser, base, { bypassCSP: true });
  const page = await s.context.newPage();
  const check = (name) => scanPage(page, name, { pages, violations });
  const shot = async (name) => {
    if (input.screenshots) await page.screenshot({ path: `${input.screenshots}/${name}`, fullPage: true });
  };
  const id = input.caseId;

  await signIn(page, input.sue);
  step("the cases due for review");
  await page.getByRole("link", { name: "cases due for retention review" }).click();
  await page.locator(".desk-review-due").first().waitFor();
  assert.deepEqual(await caseIds(page), [id]);
  await check("queue: due for retention review");
  await shot("desk-intel-review-due.png");

  step("keep the case with a new date");
  await page.goto(`/cases/${id}`);
  await page.getByRole("link", { name: "Retention review: retain or delete" }).click();
  await heading(page, "Retention review");
  await check("retention review");
  await page.getByLabel(/^Next review date/).fill("2001-01-01");
  await page.getByLabel(/^Why it is still needed/).fill("Linked to a live operation");
  await page.getByRole("button", { name: "Keep the case" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await page.getByRole("link", { name: /after today/ }).waitFor();
  await check("retention review with a past date");
  await page.getByLabel(/^Next review date/).fill("2090-01-01");
  await shot("desk-intel-retention.png");
  await page.getByRole("button", { name: "Keep the case" }).click();
  await page.getByText("The case is kept until its new review date.").waitFor();
  assert.match(await page.locator("#review-on").innerText(), /2090-01-01/);
  await check("retention review kept");

  step("delete the case");
  await page.getByLabel(/^Type the case id/).fill("abcd");
  await page.getByRole("button", { name: "Delete the case" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await check("deletion not confirmed");
  await page.getByLabel(/^Type the case id/).fill(id.slice(0, 12));
  await page.getByRole("button", { name: "Delete the case" }).click();
  await heading(page, "Case deleted");
  await check("case deleted");
  await page.goto("/?view=all");
  assert.deepEqual(await caseIds(page), []);

  assert.deepEqual(violations, [], "no axe violation and headings in order");
  assertSameOrigin(s.requests, base);
  return { pages, requests: s.requests };
});

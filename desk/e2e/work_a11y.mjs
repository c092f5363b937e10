// axe-core (WCAG 2.2 AA) on every desk page a supervisor can reach, with
// their error states: sign-in, queue (views, filters on, a wrong day), search
// (empty, with results, too long), a case (and with an inline error), the
// reply page from a template, the preview, the race, export (and without a
// reason), the audit log (and after "Verify the chain"), the pull state, a
// bulk action without a selection, not found, forbidden.
//
//   node desk/e2e/work_a11y.mjs --base URL --input '{"sue":{…},"bob":{…},"registration"}'
//
// axe is injected as a script, which the desk's CSP refuses, so this
// script's contexts bypass the CSP; the other scripts run under it.
// Prints {"ok":true,"pages":[names],"requests":[…]}; any violation fails.

import { assert, assertSameOrigin, axeScan, caseIds, heading, main, newContext, signIn, step, scanPage } from "./work_lib.mjs";

await main(async ({ base, input, browser }) => {
  const pages = [];
  const violations = [];
  const s = await newContext(browser, base, { bypassCSP: true });
  const page = await s.context.newPage();
  const check = (name) => scanPage(page, name, { pages, violations });

  await page.goto("/login");
  await check("sign in");
  await signIn(page, input.sue);
  await page.getByRole("button", { name: "Pull now" }).click();
  await page.getByText(/Pulled:/).first().waitFor();
  await check("queue after a pull");
  await page.goto("/?view=all&priority=medium&status=new");
  await check("queue, all, filters on");
  await page.goto("/?from=yesterday");
  await page.locator(".govuk-error-summary").waitFor();
  await check("queue with a wrong day");
  await page.goto("/search");
  await check("search, empty");
  await page.goto(`/search?q=${encodeURIComponent(input.registration)}`);
  const ids = await caseIds(page);
  assert.equal(ids.length, 1);
  await check("search results");
  await page.goto(`/search?q=${"word ".repeat(60)}`);
  await check("search too long");
  await page.goto("/");
  await page.getByRole("button", { name: "Apply to the cases" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await check("bulk action without a selection");

  const id = ids[0];
  await page.goto(`/cases/${id}`);
  await check("case");
  await page.getByRole("button", { name: "Add note" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await check("case with an empty note");
  await page.goto(`/cases/${id}/reply?template=0`);
  await heading(page, "Reply to the reporter");
  await check("reply from a template");
  await page.getByRole("button", { name: "Preview reply" }).click();
  await heading(page, "Check your reply");
  await check("reply preview");
  await page.goto(`/cases/${id}`);
  const stale = await page.locator("input[name=seen]").first().inputValue();
  await page.getByLabel("Your reply").fill("A reply sent first by sue");
  await page.getByRole("button", { name: "Preview reply" }).click();
  await page.getByRole("button", { name: "Send reply" }).click();
  await page.getByText("Your reply was sent.").waitFor();
  // A second reply written before the first was seen: the race page.
  await page.goto(`/cases/${id}/reply`);
  await page.locator("input[name=seen]").first().evaluate((e, v) => { e.value = v; }, stale);
  await page.getByLabel("Your reply").fill("A second reply");
  await page.getByRole("button", { name: "Preview reply" }).click();
  await page.getByRole("button", { name: "Send reply" }).click();
  await heading(page, "Another handler replied first");
  await check("reply race");
  await page.goto(`/cases/${id}/export`);
  await check("export");
  await page.getByRole("button", { name: "Export" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await check("export without a reason");
  await page.goto("/audit");
  await check("audit log");
  await page.getByRole("button", { name: "Verify the chain" }).click();
  await page.getByText("The chain is intact").waitFor();
  await check("audit log, verified");
  await page.goto("/audit?case=zzzz");
  await check("audit log, unknown case");
  await page.goto("/pull");
  await check("pull state");
  await page.goto("/no-such-page");
  await check("not found");
  await page.goto("/cases/0123456789abcdef0123456789abcdef");
  await check("case not found");

  step("a handler's forbidden page");
  const b = await newContext(browser, base, { bypassCSP: true });
  const hp = await b.context.newPage();
  await signIn(hp, input.bob);
  await hp.goto("/audit");
  await heading(hp, "You cannot do this");
  const r = await axeScan(hp);
  for (const v of r.violations) violations.push(`forbidden: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.join(", ")}`);
  pages.push("forbidden");

  assert.deepEqual(violations, [], "no axe violation and headings in order");
  const requests = [...s.requests, ...b.requests];
  assertSameOrigin(requests, base);
  return { pages, requests };
});

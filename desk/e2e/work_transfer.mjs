// Passing a case to another force from the desk (issue 17), as a supervisor
// with a mouse and keyboard: the case's "Transfer to another force" link,
// the form (and its errors), the check step, the transfer, then the case
// page and the queue saying "Transferred". axe-core (WCAG 2.2 AA) and the
// heading order on every one of these pages.
//
//   node desk/e2e/work_transfer.mjs --base URL --input '{"sue":{…},"caseId","toName","reason"}'
//
// axe is injected as a script, which the desk's CSP refuses, so this
// script's context bypasses the CSP.
// Prints {"ok":true,"pages":[names],"requests":[…]}; any violation fails.

import { assert, assertSameOrigin, heading, main, newContext, signIn, step, scanPage } from "./work_lib.mjs";

await main(async ({ base, input, browser }) => {
  const pages = [];
  const violations = [];
  const s = await newContext(browser, base, { bypassCSP: true });
  const page = await s.context.newPage();
  const check = (name) => scanPage(page, name, { pages, violations });

  await signIn(page, input.sue);
  await page.getByRole("button", { name: "Pull now" }).click();
  await page.getByText(/Pulled:/).first().waitFor();
  await page.goto(`/cases/${input.caseId}`);
  await page.getByRole("link", { name: "Transfer to another force" }).click();
  await heading(page, /Transfer to another force/);
  await check("transfer form");

  step("continue without a force or a reason");
  await page.getByRole("button", { name: /Continue/ }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await check("transfer form with an error");

  step("choose the force, give the reason, check");
  await page.getByLabel(input.toName, { exact: true }).check();
  await page.getByLabel(/Why are you transferring it/).fill(input.reason);
  await page.getByRole("button", { name: /Continue/ }).click();
  await heading(page, /Check the transfer/);
  assert.ok((await page.locator("#check-to").innerText()).includes(input.toName));
  await check("transfer check");

  step("transfer");
  await page.getByRole("button", { name: /Transfer the case/ }).click();
  await page.getByText("The case is transferred").waitFor();
  assert.ok((await page.locator("#transferred-to").innerText()).includes(input.toName));
  await check("case transferred");
  await page.goto("/?view=all");
  await page.getByText("Transferred", { exact: true }).first().waitFor();
  await check("queue with a transferred case");

  assert.deepEqual(violations, [], "no axe violation and headings in order");
  assertSameOrigin(s.requests, base);
  return { pages, requests: s.requests };
});

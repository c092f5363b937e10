// Disclosure to a partner in a real browser (issue 17): a supervisor
// discloses a case's sanitised intelligence report to a partner outside
// the platform (handling conditions missing: refused beside the field),
// downloads the signed file carrying the partner and conditions, and sees
// the disclosure listed on the case. axe-core (WCAG 2.2 AA) on each page
// and error state; headings in order.
//
//   node desk/e2e/work_intel_disclose.mjs --base URL --input '{"sue":{account,password,code},"caseId":ID,"screenshots":DIR}'
//
// Prints {"ok":true,"pages":[names],"disclosed":TEXT,"requests":[…]}.

import { readFile } from "node:fs/promises";
import { assert, assertSameOrigin, heading, main, newContext, signIn, step, scanPage } from "./work_lib.mjs";

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
  await page.goto(`/cases/${id}`);
  step("disclose to a partner");
  await page.getByRole("link", { name: "Disclose to a partner" }).click();
  await heading(page, "Disclose to a partner");
  await check("disclosure form");
  await page.getByLabel(/^Partner/).fill("Local authority safeguarding team");
  await page.getByLabel(/^Reason for disclosure/).fill("Safeguarding referral for the children named");
  await page.getByRole("button", { name: "Disclose: Signed JSON" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await page.getByRole("link", { name: /handling conditions/ }).waitFor();
  await check("disclosure without conditions");
  await page.getByLabel(/^Handling conditions/).fill("Not to be shared further without the force's consent");
  await shot("desk-intel-disclose.png");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Disclose: Signed JSON" }).click(),
  ]);
  const disclosed = await readFile(await download.path(), "utf8");
  await page.goto(`/cases/${id}`);
  assert.match(await page.locator("#disclosures").innerText(), /Local authority safeguarding team/);
  await check("case with a disclosure");

  assert.deepEqual(violations, [], "no axe violation and headings in order");
  assertSameOrigin(s.requests, base);
  return { pages, requests: s.requests, disclosed };
});

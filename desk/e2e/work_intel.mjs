// Intelligence handling in a real browser (issue 17): a handler triages a
// case (all six THRIVE fields and a priority, an empty field refused beside
// it), grades it 3x5x2 (moving the source off 2 needs a reason, C needs its
// conditions), re-assesses it (RE-THRIVE, a new entry), and sees the
// grading and the time left in the queue. axe-core (WCAG 2.2 AA) on every
// intel page and its error states; headings in order.
//
//   node desk/e2e/work_intel.mjs --base URL --input '{"ann":{account,password,code},"screenshots":DIR}'
//
// axe is injected as a script, which the desk's CSP refuses, so this
// script's context bypasses the CSP (as work_a11y.mjs does).
// Prints {"ok":true,"caseId","pages":[names],"requests":[…]}.

import { readFile } from "node:fs/promises";
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

  await signIn(page, input.ann);
  await page.getByRole("button", { name: "Pull now" }).click();
  await page.getByText(/Pulled:/).first().waitFor();
  const ids = await caseIds(page);
  assert.equal(ids.length, 1);
  const id = ids[0];
  await page.goto(`/cases/${id}`);
  await check("case before triage");

  step("triage: THRIVE and priority");
  await page.getByRole("link", { name: "Triage: THRIVE and priority" }).click();
  await heading(page, "Triage this case");
  await check("triage");
  const thrive = {
    threat: "A dealer supplying on the estate",
    harm: "Supply to young people",
    risk: "Most nights, ongoing",
    investigation: "A test purchase is possible",
    vulnerability: "Children at the school nearby",
    engagement: "Neighbourhood team and school liaison",
  };
  for (const [k, v] of Object.entries(thrive)) {
    if (k !== "vulnerability") await page.locator(`#${k}`).fill(v);
  }
  await page.getByLabel(/^High/).check();
  await page.getByRole("button", { name: "Save the triage" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await page.getByRole("link", { name: "Enter the vulnerability field" }).waitFor();
  await check("triage with an empty field");
  await page.locator("#vulnerability").fill(thrive.vulnerability);
  await shot("desk-intel-triage.png");
  await page.getByRole("button", { name: "Save the triage" }).click();
  await page.getByText("The THRIVE assessment and priority are saved.").waitFor();
  assert.equal((await page.locator("#thrive-count").innerText()).trim(), "Assessed once");
  assert.match(await page.locator("#due").innerText(), /1 hour left|59 minutes left/);

  step("grade 3x5x2");
  await page.getByRole("link", { name: "Grade this case (3x5x2)" }).click();
  await heading(page, "Grade this case");
  await check("grade");
  await page.locator('input[name=source][value="1"]').check();
  await page.locator('input[name=assessment][value="B"]').check();
  await page.locator('input[name=handling][value="C"]').check();
  await page.getByRole("button", { name: "Save the grading" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await page.getByRole("link", { name: /Give a reason for changing the source evaluation/ }).waitFor();
  await check("grade without a reason or conditions");
  await page.locator("#conditions").fill("Not to be shared outside the force without the bureau's agreement");
  await page.locator("#reason").fill("Corroborated by a patrol sighting");
  await shot("desk-intel-grade.png");
  await page.getByRole("button", { name: "Save the grading" }).click();
  await page.getByText("The grading is saved.").waitFor();
  assert.equal((await page.locator("#grading strong").innerText()).trim(), "1 B C");
  await check("case after triage and grading");
  await shot("desk-intel-case.png");

  step("a sanitised intelligence report, written and exported signed");
  await page.getByRole("link", { name: "Sanitised intelligence report" }).click();
  await heading(page, "Sanitised intelligence report");
  await check("intelligence report form");
  await page.getByLabel("Title").fill("Supply of drugs, Mill Lane area");
  await page.getByLabel("The intelligence, in your own words").fill("Dealing from a silver Ford Focus behind the Co-op");
  await page.getByRole("button", { name: "Write the report" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await page.getByRole("link", { name: /copies a line the reporter wrote/ }).waitFor();
  await check("intelligence report copying the reporter");
  await page.getByLabel("The intelligence, in your own words").fill("A male is said to supply drugs from a car in the area most nights.");
  await page.getByLabel(/Where:/).check();
  await shot("desk-intel-report.png");
  await page.getByRole("button", { name: "Write the report" }).click();
  await page.getByText("The sanitised intelligence report is written.").waitFor();
  await check("intelligence report written");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: /Export signed JSON/ }).click(),
  ]);
  const exported = await readFile(await download.path(), "utf8");
  const [pageDownload] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: /Export a printable page/ }).click(),
  ]);
  const printable = await readFile(await pageDownload.path(), "utf8");
  await page.goto(`/cases/${id}`);

  step("RE-THRIVE");
  await page.getByRole("link", { name: "RE-THRIVE and priority" }).click();
  await heading(page, "RE-THRIVE this case");
  assert.equal(await page.locator("#threat").inputValue(), thrive.threat, "starts from the latest");
  await page.locator("#threat").fill("The dealer has moved away");
  await page.getByLabel(/^Low/).check();
  await page.getByRole("button", { name: "Save the RE-THRIVE" }).click();
  await page.getByText("The THRIVE assessment and priority are saved.").waitFor();
  await page.goto(`/cases/${id}/triage`);
  await check("RE-THRIVE with history");
  assert.equal(await page.getByText(thrive.threat).count(), 1, "the first assessment is kept in the history");

  step("the queue");
  await page.goto("/?view=all");
  await page.getByText("Graded").first().waitFor();
  assert.match(await page.locator("#cases tbody").innerText(), /1 B C/);
  assert.match(await page.locator("#cases tbody").innerText(), /7 days left/);
  await check("queue with grading and target");
  await shot("desk-intel-queue.png");

  assert.deepEqual(violations, [], "no axe violation and headings in order");
  assertSameOrigin(s.requests, base);
  return { caseId: id, pages, requests: s.requests, exported, printable };
});

// Attachments in the sanitised intelligence report in a real browser
// (issue 19): a handler ticks the case's photo on the report form; without
// "I have checked this file does not identify the source" the report is
// refused beside the field; with it the report is written and the photo is
// offered for download under the export's file name. axe-core (WCAG 2.2
// AA) on each page and error state; headings in order.
//
//   node desk/e2e/work_intel_attachments.mjs --base URL --input '{"ann":{account,password,code},"caseId":ID,"file":NAME,"screenshots":DIR}'
//
// Prints {"ok":true,"pages":[names],"downloaded":{"name":NAME,"size":N},"requests":[…]}.

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

  await signIn(page, input.ann);
  step("the report form lists the attachments, none ticked");
  await page.goto(`/cases/${id}/intel-report`);
  await heading(page, "Sanitised intelligence report");
  const photo = page.getByLabel(/^1\. Photo/);
  assert.equal(await photo.isChecked(), false, "none ticked by default");
  await check("report form with attachments");
  await page.getByLabel(/^Title/).fill("Supply of drugs");
  await page.getByLabel(/^The intelligence, in your own words/).fill("A male is said to supply drugs from a car.");
  await photo.check();
  step("refused without the confirmation");
  await page.getByRole("button", { name: "Write the report" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  await page.getByRole("link", { name: /may still carry details/ }).waitFor();
  await check("report form, attachment not checked");
  step("written with it");
  assert.equal(await page.getByLabel(/^1\. Photo/).isChecked(), true, "the choice is kept");
  await page.getByLabel(/I have checked this file does not identify the source \(attachment 1\)/).check();
  await shot("desk-intel-attachments.png");
  await page.getByRole("button", { name: "Write the report" }).click();
  await page.locator(".govuk-notification-banner--success").waitFor();
  await check("report written with an attachment");
  step("download the included file");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator(`a[href="/cases/${id}/intel-report/1/attachments/1"]`).click(),
  ]);
  const bytes = await readFile(await download.path());
  assert.equal(download.suggestedFilename(), input.file);

  assert.deepEqual(violations, [], "no axe violation and headings in order");
  assertSameOrigin(s.requests, base);
  return { pages, requests: s.requests, downloaded: { name: download.suggestedFilename(), size: bytes.length } };
});

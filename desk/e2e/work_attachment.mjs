// A case with attachments in a real browser (issue 19): a handler pulls,
// opens the case, and the photo the reporter attached is drawn inline under
// the desk's own CSP (img-src 'self'), fetched from the case's route with
// the session cookie; the page names the hidden details the reporter's page
// removed and what is still in the file; the other file is a download link.
// axe-core (WCAG 2.2 AA) on the case page, in a second context that
// bypasses the CSP to inject axe (as work_a11y.mjs does).
//
//   node desk/e2e/work_attachment.mjs --base URL --input '{"ann":{account,password,code},"screenshots":DIR}'
//
// Prints {"ok":true,"caseId","width","requests":[…]}.

import { assert, assertSameOrigin, axeScan, caseIds, main, newContext, signIn, step } from "./work_lib.mjs";

await main(async ({ base, input, browser }) => {
  // Under the desk's real CSP: the image must load.
  const s = await newContext(browser, base);
  const page = await s.context.newPage();
  await signIn(page, input.ann);
  await page.getByRole("button", { name: "Pull now" }).click();
  await page.getByText(/Pulled:/).first().waitFor();
  const ids = await caseIds(page);
  assert.equal(ids.length, 1);
  const id = ids[0];
  step("the case with its attachments");
  await page.goto(`/cases/${id}`);
  await page.getByRole("heading", { name: "Attachments" }).waitFor();
  const img = page.locator(`img[src="/cases/${id}/attachments/1"]`);
  await img.waitFor();
  await img.evaluate((e) => (e.complete ? null : new Promise((ok, no) => { e.onload = ok; e.onerror = no; })));
  const width = await img.evaluate((e) => e.naturalWidth);
  assert.ok(width > 0, "the photo is drawn");
  await page.getByText("PNG text (testun PNG)").first().waitFor();
  await page.getByRole("link", { name: /Download attachment 2/ }).waitFor();
  await img.scrollIntoViewIfNeeded();
  if (input.screenshots) await page.screenshot({ path: `${input.screenshots}/desk-attachment.png`, fullPage: true });
  s.assertClean("the case page with a photo");
  assertSameOrigin(s.requests, base);

  step("axe on the case page");
  const a = await newContext(browser, base, { bypassCSP: true });
  // The same session (a TOTP code is good once): its cookies.
  await a.context.addCookies(await s.context.cookies());
  const p2 = await a.context.newPage();
  await p2.goto(`/cases/${id}`);
  await p2.locator(`img[src="/cases/${id}/attachments/1"]`).waitFor();
  const r = await axeScan(p2);
  assert.deepEqual(r.violations, [], "axe finds no violation on the case page with attachments");
  return { caseId: id, width, requests: [...s.requests, ...a.requests] };
});

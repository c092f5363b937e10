// After the reporter's follow-up: ann signs in again, pulls, and finds the
// case she took and closed re-opened: status new, unread, still hers (in
// "Mine"), one case with the follow-up inside it.
//
//   node desk/e2e/work_follow_up.mjs --base URL --input '{"ann":{…},"caseId","message"}'
//
// Prints {"ok":true,"requests":[…]}.

import { assert, assertSameOrigin, caseIds, main, newContext, signIn, step } from "./work_lib.mjs";

await main(async ({ base, input, browser }) => {
  const a = await newContext(browser, base);
  const page = await a.context.newPage();
  await signIn(page, input.ann);
  step("pull now");
  await page.getByRole("button", { name: "Pull now" }).click();
  await page.getByText("Pulled: 1 new report.").waitFor();
  step("the case is new again, and unread, in ann's cases");
  await page.getByRole("link", { name: /^Mine/ }).click();
  await page.waitForURL(/view=mine/);
  const ids = await caseIds(page);
  assert.ok(ids.includes(input.caseId), `the case is in "Mine": ${ids}`);
  const row = page.locator("#cases tbody tr").filter({ has: page.locator(`a[href='/cases/${input.caseId}']`) });
  assert.ok((await row.innerText()).includes("Unread"), "marked unread");
  assert.ok((await row.innerText()).includes("New"), "status new");
  step("the follow-up is inside the case");
  await row.locator(`a[href='/cases/${input.caseId}']`).click();
  await page.getByText(input.message).waitFor();
  await page.getByText("Re-opened by a follow-up").waitFor();
  a.assertClean();
  assertSameOrigin(a.requests, base);
  return { requests: a.requests };
});

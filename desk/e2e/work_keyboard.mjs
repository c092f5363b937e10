// Keyboard only, under the desk's real CSP: from the skip link, through the
// queue's filters (check a box, apply), to a case; then the reply form
// (type, preview, send), and marking the case unread — Tab, Shift+Tab,
// Space, Enter and typing, never a click.
//
//   node desk/e2e/work_keyboard.mjs --base URL --input '{"ann":{…},"reply"}'
//
// Prints {"ok":true,"presses":N,"requests":[…]}.

import { assert, assertSameOrigin, caseIds, heading, main, newContext, step, tabTo } from "./work_lib.mjs";

await main(async ({ base, input, browser }) => {
  const k = await newContext(browser, base);
  const page = await k.context.newPage();
  let presses = 0;
  const to = async (selector, opts) => { presses += await tabTo(page, selector, opts); };

  step("sign in by keyboard");
  await page.goto("/login");
  await to("#account");
  await page.keyboard.type(input.ann.account);
  await to("#password");
  await page.keyboard.type(input.ann.password);
  await page.keyboard.press("Enter");
  await page.waitForURL("**/login/code");
  await to("#code");
  await page.keyboard.type(input.ann.code);
  await page.keyboard.press("Enter");
  await heading(page, "Queue");

  step("the skip link is the first stop");
  await page.keyboard.press("Tab");
  presses += 1;
  assert.ok(await page.evaluate(() => document.activeElement.classList.contains("govuk-skip-link")), "skip link first");

  step("pull now");
  await to("form[action='/pull'] button");
  await page.keyboard.press("Enter");
  await page.getByText(/Pulled:/).first().waitFor();

  step("filter by status with Space, then apply");
  await to("#status-new");
  await page.keyboard.press("Space");
  assert.ok(await page.locator("#status-new").isChecked());
  await to(".moj-filter__options button[type=submit]", { back: true });
  await page.keyboard.press("Enter");
  await page.waitForURL(/status=new/);
  const ids = await caseIds(page);
  assert.ok(ids.length >= 1, "a case in the filtered view");

  step("open the first case");
  await to(`#cases a[href='/cases/${ids[0]}']`);
  await page.keyboard.press("Enter");
  await page.waitForURL(`**/cases/${ids[0]}`);

  step("write, preview and send a reply");
  await to("#reply-text");
  await page.keyboard.type(input.reply);
  await to("button[value=preview]");
  await page.keyboard.press("Enter");
  await heading(page, "Check your reply");
  assert.equal((await page.locator("#preview .desk-message").innerText()).trim(), input.reply);
  await to("button[value=send]");
  await page.keyboard.press("Enter");
  await page.getByText("Your reply was sent.").waitFor();

  step("mark it unread");
  await to("form[action$='/unread'] button");
  await page.keyboard.press("Enter");
  await heading(page, "Queue");

  k.assertClean();
  assertSameOrigin(k.requests, base);
  return { presses, caseId: ids[0], requests: k.requests };
});

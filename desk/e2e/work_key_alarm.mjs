// The key alarm in a real browser (issue 20, part 4): the platform served a
// key the force did not publish, the pull stopped and the alarm was raised.
// A supervisor sees the banner (role=alert, English and Welsh) on every
// page with what was seen and an "Acknowledge the key alarm" button; a
// handler sees a plainer notice and no button; the supervisor acknowledges
// it and the banner is gone. axe-core (WCAG 2.2 AA) on the pages with the
// banner; headings in order.
//
//   node desk/e2e/work_key_alarm.mjs --base URL --input '{"sam":{…},"ann":{…},"screenshots":DIR}'
//
// axe is injected as a script, which the desk's CSP refuses, so these
// contexts bypass the CSP (as work_a11y.mjs does).
// Prints {"ok":true,"pages":[names],"requests":[…]}.

import { assert, assertSameOrigin, heading, main, newContext, signIn, step, scanPage } from "./work_lib.mjs";

await main(async ({ base, input, browser }) => {
  const pages = [];
  const violations = [];
  const check = (p, name) => scanPage(p, name, { pages, violations });

  step("a supervisor: the banner on every page");
  const sup = await newContext(browser, base, { bypassCSP: true });
  const sp = await sup.context.newPage();
  await signIn(sp, input.sam);
  const banner = sp.locator("#key-alarm");
  await banner.waitFor();
  assert.equal(await banner.getAttribute("role"), "alert");
  assert.match(await banner.innerText(), /Key alarm/);
  assert.match(await banner.innerText(), /directory-key/);
  assert.equal(await banner.locator("[lang=cy]").count() > 0, true, "Welsh beside English");
  await check(sp, "queue with the key alarm (supervisor)");
  if (input.screenshots) await sp.screenshot({ path: `${input.screenshots}/desk-key-alarm.png`, fullPage: true });
  for (const path of ["/search", "/audit", "/account"]) {
    await sp.goto(path);
    await banner.waitFor();
  }
  await check(sp, "account with the key alarm (supervisor)");

  step("a handler: the plainer notice");
  const han = await newContext(browser, base, { bypassCSP: true });
  const hp = await han.context.newPage();
  await signIn(hp, input.ann);
  await hp.locator("#key-alarm").waitFor();
  assert.match(await hp.locator("#key-alarm").innerText(), /Tell a supervisor now/);
  assert.equal(await hp.getByRole("button", { name: /Acknowledge the key alarm/ }).count(), 0);
  await check(hp, "queue with the key alarm (handler)");

  step("the supervisor acknowledges it");
  await sp.goto("/");
  await sp.getByRole("button", { name: /Acknowledge the key alarm/ }).click();
  await heading(sp, "Key alarm acknowledged");
  assert.equal(await sp.locator("#key-alarm").count(), 0);
  await check(sp, "key alarm acknowledged");
  await hp.goto("/");
  await heading(hp, "Queue");
  assert.equal(await hp.locator("#key-alarm").count(), 0);

  assert.deepEqual(violations, [], "no axe violation and headings in order");
  assertSameOrigin(sup.requests, base);
  assertSameOrigin(han.requests, base);
  return { pages, requests: [...sup.requests, ...han.requests] };
});

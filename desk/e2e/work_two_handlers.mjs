// Two handlers at once, in two browser contexts (two sessions): both sign
// in with a password and a TOTP code; ann pulls, searches by a vehicle
// registration, opens the case and takes it; bob sees it assigned to ann;
// both write a reply, preview it, and press "Send reply" together. Exactly
// one is sent (the Rust test checks the reporter's slots); the other is
// shown the first reply and keeps its draft. Then ann closes the case.
//
//   node desk/e2e/work_two_handlers.mjs --base URL --input
//     '{"ann":{account,password,code},"bob":{…},"registration","replies":{"ann","bob"},"screenshots":DIR}'
//
// Prints {"ok":true,"caseId","sent":"ann"|"bob","requests":[…]}.

import { assert, assertSameOrigin, caseIds, heading, main, newContext, signIn, step } from "./work_lib.mjs";

await main(async ({ base, input, browser }) => {
  const a = await newContext(browser, base, { viewport: { width: 1440, height: 900 } });
  const b = await newContext(browser, base, { viewport: { width: 1440, height: 900 } });
  const ann = await a.context.newPage();
  const bob = await b.context.newPage();

  step("both sign in with a password and a TOTP code");
  await signIn(ann, input.ann);
  await signIn(bob, input.bob);

  step("ann pulls now");
  await ann.getByRole("button", { name: "Pull now" }).click();
  await ann.locator(".govuk-notification-banner--success").filter({ hasText: "Pulled:" }).waitFor();
  assert.ok((await caseIds(ann)).length >= 2, "the queue lists the reports");
  if (input.screenshots) await ann.screenshot({ path: `${input.screenshots}/desk-queue.png`, fullPage: true });

  step("ann searches by the vehicle registration");
  await ann.getByRole("link", { name: "Search", exact: true }).click();
  await heading(ann, "Search");
  await ann.getByLabel("Search every case").fill(input.registration.toLowerCase());
  await ann.getByRole("button", { name: "Search", exact: true }).click();
  const found = await caseIds(ann);
  assert.equal(found.length, 1, `one case has ${input.registration}: ${found}`);
  const caseId = found[0];
  await ann.locator(`#cases a[href='/cases/${caseId}']`).click();
  await ann.getByText(input.registration).first().waitFor();

  step("ann takes it");
  await ann.getByRole("button", { name: /^Take it/ }).click();
  await ann.getByText("The case is yours.").waitFor();
  assert.equal((await ann.locator("#assignee").textContent()).trim(), "ann");

  step("bob sees it assigned to ann");
  await bob.goto("/?view=all");
  const row = bob.locator("#cases tbody tr").filter({ has: bob.locator(`a[href='/cases/${caseId}']`) });
  await row.waitFor();
  assert.ok((await row.textContent()).includes("ann"), "the row names ann");
  await bob.goto(`/cases/${caseId}`);
  assert.equal((await bob.locator("#assignee").textContent()).trim(), "ann");

  step("both preview a reply");
  for (const [page, text] of [[ann, input.replies.ann], [bob, input.replies.bob]]) {
    await page.getByLabel("Your reply").fill(text);
    await page.getByRole("button", { name: "Preview reply" }).click();
    await heading(page, "Check your reply");
    assert.equal((await page.locator("#preview .desk-message").innerText()).trim(), text, "the preview is exactly the text");
  }
  if (input.screenshots) await bob.screenshot({ path: `${input.screenshots}/desk-reply-preview.png`, fullPage: true });

  step("both press Send reply together");
  await Promise.all([
    ann.getByRole("button", { name: "Send reply" }).click(),
    bob.getByRole("button", { name: "Send reply" }).click(),
  ]);
  const outcome = async (page) => {
    const h1 = page.locator("main h1");
    await page.waitForFunction(() => {
      const t = document.querySelector("main h1")?.textContent || "";
      return /Another handler replied first/.test(t) || document.body.textContent.includes("Your reply was sent.");
    });
    return (await h1.first().textContent()).includes("Another handler replied first") ? "refused" : "sent";
  };
  const [oa, ob] = await Promise.all([outcome(ann), outcome(bob)]);
  assert.deepEqual([oa, ob].sort(), ["refused", "sent"], `exactly one sent: ann ${oa}, bob ${ob}`);
  const sent = oa === "sent" ? "ann" : "bob";
  const loser = oa === "sent" ? bob : ann;
  const loserName = sent === "ann" ? "bob" : "ann";
  const body = await loser.locator("main").innerText();
  assert.ok(body.includes(input.replies[loserName]), "the refused draft is kept");
  assert.ok(body.includes(input.replies[sent]) || (await loser.locator("#in-flight").count()) === 1, "the first reply (or who sends it) is shown");
  if (input.screenshots) await loser.screenshot({ path: `${input.screenshots}/desk-reply-race.png`, fullPage: true });

  step("the loser discards; ann closes the case");
  await loser.getByRole("link", { name: "Discard my reply" }).click();
  await ann.goto(`/cases/${caseId}`);
  await ann.getByLabel("Status", { exact: true }).selectOption("closed");
  await ann.getByRole("button", { name: "Change status" }).click();
  await ann.getByText("The status is changed.").waitFor();
  if (input.screenshots) await ann.screenshot({ path: `${input.screenshots}/desk-case.png`, fullPage: true });

  // The race page is answered 409 Conflict on purpose, which Chromium logs
  // as a failed load: that one line is expected, nothing else is.
  for (const ctx of [a, b]) {
    const expected = ctx.problems.filter((p) => /status of 409 \(Conflict\)/.test(p));
    assert.ok(expected.length <= 1, "at most the one race page");
    ctx.problems.splice(0, ctx.problems.length, ...ctx.problems.filter((p) => !expected.includes(p)));
  }
  a.assertClean("ann's pages");
  b.assertClean("bob's pages");
  const requests = [...a.requests, ...b.requests];
  assertSameOrigin(requests, base);
  return { caseId, sent, requests };
});

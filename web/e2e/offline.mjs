// The reply code's word list (/words.js) is fetched only when it is needed:
// when a reply code is typed, and when a report is about to be sealed. If
// that fetch fails (offline), the page says so, keeps what was typed, sends
// nothing, and the next try fetches it again.
//
//   node e2e/offline.mjs --base URL --input '{"answers","words"}'
//
// Prints {"ok":true,"words":[the reply code's 12 words]} from the second,
// successful send (the first fails with /words.js unreachable).

import { assert, heading, main, newContext, step, SEND_TIMEOUT_MS } from "./lib.mjs";
import { catalogue, fillReport, readReplyCode } from "./flows.mjs";

const T = catalogue("en");

await main(async ({ base, input, browser }) => {
  /** A fresh tab, with /words.js unreachable as if offline, and whether it was fetched. */
  async function offlineTab() {
    const ctx = await newContext(browser, base);
    const page = await ctx.context.newPage();
    await page.route(`${base}/words.js`, (route) => route.abort("internetdisconnected"));
    // The failed fetch is the point here, not a fault.
    const clean = () => {
      ctx.problems.splice(0, ctx.problems.length, ...ctx.problems.filter((p) => !/ERR_INTERNET_DISCONNECTED/.test(p)));
      ctx.assertClean();
    };
    const fetched = () => ctx.requests.filter((r) => r === `GET ${base}/words.js`).length;
    return { page, clean, fetched };
  }

  step("the first load does not fetch the word list");
  const code = await offlineTab();
  await code.page.goto("/");
  await heading(code.page, "Tell the police something anonymously");
  assert.equal(code.fetched(), 0, "words.js is not part of the first load");

  step("checking for replies offline: said so, the words kept");
  await code.page.getByRole("button", { name: "Check for replies" }).click();
  await heading(code.page, "Check for replies");
  const typed = input.words.join(" ");
  await code.page.locator("#code").fill(typed);
  await code.page.locator("main form").getByRole("button", { name: "Check for replies" }).click();
  await code.page.locator(".error-summary").waitFor();
  assert.ok((await code.page.locator(".error-summary").innerText()).includes(T("code.err.load")), "the summary says the page could not load");
  assert.equal(await code.page.locator("#code").inputValue(), typed, "the typed words are kept");
  assert.equal(code.fetched(), 1);

  step("back online: the same words open the replies page");
  await code.page.unroute(`${base}/words.js`);
  await code.page.locator("main form").getByRole("button", { name: "Check for replies" }).click();
  await code.page.locator("main h1").filter({ hasText: /^(Replies to your report|No replies yet)$/ }).waitFor();
  assert.equal(code.fetched(), 2, "the retry fetched the word list again");
  code.clean();

  step("sending offline: said so, nothing sent, the answers kept");
  const send = await offlineTab();
  await fillReport(send.page, input.answers);
  await send.page.getByRole("button", { name: "Send report" }).click();
  await send.page.locator(".error-summary").waitFor({ timeout: SEND_TIMEOUT_MS });
  const said = await send.page.locator(".error-summary").innerText();
  assert.ok(said.includes(T("send.err.kept", { error: T("send.err.load") })), said);
  await heading(send.page, "Check your answers before sending your report");
  assert.ok((await send.page.locator("dl.summary").innerText()).includes(input.answers.details.trim()), "the answers are kept");

  step("back online: the report is sent and its code shown");
  await send.page.unroute(`${base}/words.js`);
  await send.page.getByRole("button", { name: "Send report" }).click();
  const words = await readReplyCode(send.page);
  send.clean();
  return { words };
});

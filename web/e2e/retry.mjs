// The page when the service cannot store for a while (503 storage_unavailable
// with Retry-After; issue 15, item 13). The server (tests/faults.rs) stands
// in front of a storage whose next 3 report inserts fail.
//
// 1. Every post answered 503 (stood in for here, Retry-After: 1): the
//    waiting screen says "The service is busy; we will try again in 1
//    second. Your report is kept on this page.", the page sends the SAME
//    envelope with the SAME proof again a bounded number of times, then
//    shows an error, every answer kept.
// 2. The real server answers 503 (Retry-After: 5): the message appears with
//    "Cancel sending"; cancelling brings the reporter back with everything
//    kept and nothing stored.
// 3. The real server answers 503 twice: the page waits, sends the same
//    sealed report again each time by itself, and the third post is stored.
//
//   node e2e/retry.mjs --base URL --input '{"answers":{…},"token"}'
//
// Prints {"ok":true,"posts","distinct_envelopes","distinct_pows","envelope_sha256"}
// for the last send (step 3).

import { assert, heading, main, newContext, sha256Hex, step } from "./lib.mjs";
import { fillReport, readReplyCode } from "./flows.mjs";

const BUSY = (secs) => `The service is busy; we will try again in ${secs} second${secs === 1 ? "" : "s"}. Your report is kept on this page.`;

await main(async ({ base, input, browser }) => {
  const { context, assertClean, problems } = await newContext(browser, base);
  const page = await context.newPage();
  const reports = `${base}/api/v1/reports`;
  let posts = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url() === reports) {
      posts.push({ body: r.postDataBuffer() || Buffer.alloc(0), pow: r.headers()["quietline-pow"] || "" });
    }
  });
  const a = input.answers;
  const status = page.locator("#pow-status");
  const cancel = page.getByRole("button", { name: "Cancel sending" });
  async function answersKept(what) {
    await heading(page, "Check your answers before sending your report");
    const summary = await page.locator("dl.summary").innerText();
    for (const shown of [a.forceName, a.details, a.where]) {
      assert.ok(summary.includes(shown.trim()), `${what}: check your answers still shows ${JSON.stringify(shown)}`);
    }
  }
  async function inbox() {
    const res = await fetch(`${base}/api/v1/inbox`, { headers: { authorization: `Bearer ${input.token}` } });
    assert.equal(res.status, 200, "GET /api/v1/inbox");
    return (await res.json()).reports;
  }
  /** The posts of one send: how many, and that they all carry the same bytes and proof. */
  async function same(list, what) {
    const bodies = new Set(await Promise.all(list.map((p) => sha256Hex(p.body))));
    const pows = new Set(list.map((p) => p.pow));
    assert.equal(bodies.size, 1, `${what}: the same sealed report every time`);
    assert.equal(pows.size, 1, `${what}: the same proof of work every time (nothing solved again)`);
    return { bodies, pows };
  }

  await fillReport(page, a);

  step("every post answered 503 (Retry-After: 1): bounded retries, then an error, answers kept");
  await page.route(reports, (route) => route.fulfill({
    status: 503,
    headers: { "Retry-After": "1" },
    contentType: "application/json",
    body: JSON.stringify({ error: "storage_unavailable", message: "stood in for by the test" }),
  }));
  await page.getByRole("button", { name: "Send report" }).click();
  await page.locator("#pow-status", { hasText: BUSY(1) }).waitFor();
  assert.ok(await cancel.isVisible(), "Cancel sending is there while the page waits");
  await page.locator(".error-summary").waitFor({ timeout: 60_000 });
  const summary = await page.locator(".error-summary").innerText();
  assert.match(summary, /The service is busy, so nothing was sent/, summary);
  assert.match(summary, /Everything you typed is still here/, summary);
  assert.equal(posts.length, 5, "the first post and 4 retries, no more");
  await same(posts, "stood-in 503s");
  await answersKept("after the last retry");
  await page.unroute(reports);
  assert.deepEqual(await inbox(), [], "nothing stored");

  step("the server answers 503: the waiting screen says so, and Cancel still works");
  posts = [];
  await page.getByRole("button", { name: "Send report" }).click();
  await page.locator("#pow-status", { hasText: BUSY(5) }).waitFor({ timeout: 60_000 });
  assert.equal(await status.getAttribute("role"), "status", "said in a polite status region");
  assert.equal(posts.length, 1, "one post so far");
  await cancel.click();
  await answersKept("after cancelling the wait");
  assert.equal((await page.locator("#progress").textContent()).trim(), "You cancelled sending. Nothing was sent.");
  // Had the cancelled wait still sent its report again (5 s later), that
  // other envelope would be among the next step's posts, which are checked
  // to be one and the same.
  assert.deepEqual(await inbox(), [], "nothing stored");

  step("the server answers 503 twice: the page sends the same report again by itself; stored");
  posts = [];
  await page.getByRole("button", { name: "Send report" }).click();
  await page.locator("#pow-status", { hasText: BUSY(5) }).waitFor({ timeout: 60_000 });
  const words = await readReplyCode(page);
  assert.equal(words.length, 12);
  assert.equal(posts.length, 3, "503, 503, then 201");
  const { bodies, pows } = await same(posts, "the real 503s");
  const stored = await inbox();
  assert.equal(stored.length, 1, "stored once");

  // The 503s are logged by the browser as failed loads.
  const rest = problems.filter((p) => !/the server responded with a status of 503/.test(p));
  problems.splice(0, problems.length, ...rest);
  assertClean("waiting out 503s");
  return {
    posts: posts.length,
    distinct_envelopes: bodies.size,
    distinct_pows: pows.size,
    envelope_sha256: [...bodies][0],
  };
});

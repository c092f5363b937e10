// The waiting screen while the page does the server's proof of work, and
// what happens around it:
//
// 1. "Send report" seals, fetches a challenge and shows "Preparing to send
//    your report": focus on its heading, a progress bar named "Progress"
//    that stays below 100 %, a polite status, the reason for the wait, and
//    "Cancel sending". The workers (one per core, at most 4) search and
//    report progress. (The page is held on this screen by a 32-bit
//    challenge made here, which the script cancels: it is never sent.)
// 2. Cancel, from the keyboard: the workers are ended, the reporter is back
//    on "Check your answers" (heading focused) with every answer kept,
//    nothing was posted, and the force's inbox is empty (asked through the
//    API).
// 2b. Another 32-bit search: the estimate of the time left appears, the
//    status says the wait is long and offers "Pause and send later"; pausing
//    ends the workers and shows the paused screen ("Send now", "Cancel
//    sending"); cancelling there sends nothing and keeps every answer.
// 3. The server refuses the proof twice with 429 (pow_expired, pow_spent;
//    stood in for here): the page fetched a new challenge and solved again
//    once by itself, then says nothing was sent, keeping every answer.
// 4. Once more with one 429 (pow_outdated: the difficulty rose while it
//    solved): the page solves a second challenge by itself and the report
//    is sent.
//
//   node e2e/waiting.mjs --base URL --input '{"answers":{…},"token"}'
//
// `token` is a handler token of the force (to read its inbox). Runs under
// the page's real CSP. Prints {"ok":true,"words":[12],"envelope_sha256","pow"}.
//
// The 32-bit challenges this script makes can be solved by chance; the
// instrumentation below holds such a solution back from the page, so every
// check here holds on every run.

import { assert, checkPow, heading, main, newContext, sha256Hex, slowChallengeOnce, step, STEP_TIMEOUT_MS } from "./lib.mjs";
import { fillReport, readReplyCode } from "./flows.mjs";

await main(async ({ base, input, browser }) => {
  const { context, assertClean, requests, problems } = await newContext(browser, base);
  // Test instrumentation only: count what the page's workers post to it,
  // and hold back from the page a solution of a challenge this script made
  // (difficulty 32, slowChallengeOnce): such a challenge is there to keep the
  // page on the waiting screen, and a 32-bit search succeeds by chance now
  // and then (about one run in 300 found one before the checks below were
  // done). Held back, it changes nothing the page does — it goes on as a page
  // whose workers have not found one yet — so what is checked holds every
  // time. A solution of a real challenge (the server's, at most 20 bits) is
  // passed on as ever. This listener is added before the page sets
  // `onmessage`, so it runs first and can stop the event.
  await context.addInitScript(() => {
    const Native = window.Worker;
    window.__pow = [];
    window.__held = 0;
    // Octet 1 of the challenge is its difficulty; the first 4 base64url
    // characters of the header are octets 0–2.
    const madeHere = (header) => atob(header.slice(0, 4).replace(/-/g, "+").replace(/_/g, "/")).charCodeAt(1) === 32;
    window.Worker = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener("message", (e) => {
          window.__pow.push(e.data);
          if (e.data && e.data.header && madeHere(e.data.header)) {
            window.__held++;
            e.stopImmediatePropagation();
          }
        });
      }
    };
  });
  const page = await context.newPage();
  const posts = [];
  page.on("request", (r) => r.method() === "POST" && r.url() === `${base}/api/v1/reports` && posts.push(r));
  const workers = [];
  page.on("worker", (w) => workers.push({ url: w.url(), closed: new Promise((resolve) => w.on("close", resolve)) }));
  const a = input.answers;
  const active = () => page.evaluate(() => {
    const e = document.activeElement;
    return e ? { tag: e.tagName.toLowerCase(), id: e.id, text: (e.textContent || "").trim() } : null;
  });
  const bounded = (promise, what) => Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_TIMEOUT_MS)),
  ]);
  async function answersKept(what) {
    await heading(page, "Check your answers before sending your report");
    const summary = await page.locator("dl.summary").innerText();
    for (const shown of [a.forceName, a.categoryLabel, a.details, a.where, a.whenShown, a.person.name, a.vehicle.registration, a.howDetails]) {
      assert.ok(summary.includes(shown.trim()), `${what}: check your answers still shows ${JSON.stringify(shown)}`);
    }
  }
  async function inbox() {
    const res = await fetch(`${base}/api/v1/inbox`, { headers: { authorization: `Bearer ${input.token}` } });
    assert.equal(res.status, 200, "GET /api/v1/inbox");
    return (await res.json()).reports;
  }
  // Requests from `from` on that match `re`, up to the first one of the
  // page's own copy of a sent report (crypto/FORMAT.md#own-copies), which
  // fetches its own challenge and posts to /api/v1/copies/ in the background.
  const count = (from, re) => {
    const copy = requests.findIndex((r, i) => i >= from && r.includes("/api/v1/copies/"));
    return requests.slice(from, copy < 0 ? requests.length : copy).filter((r) => re.test(r)).length;
  };

  await fillReport(page, a);

  step("send: the waiting screen");
  const slow = await slowChallengeOnce(page, base);
  await page.getByRole("button", { name: "Send report" }).click();
  await heading(page, "Preparing to send your report");
  assert.ok(slow(), "the page asked for a challenge");
  assert.equal(await page.title(), "Preparing to send your report – Quietline");
  assert.deepEqual(await active(), { tag: "h1", id: "", text: "Preparing to send your report" }, "focus moves to the heading");
  const bar = page.getByRole("progressbar", { name: "Progress" });
  await bar.waitFor();
  assert.ok(await bar.isVisible(), "the progress bar is visible");
  assert.equal(await bar.getAttribute("max"), "100");
  const status = page.locator("main [role=status]");
  assert.equal(await status.count(), 1, "one status line");
  // The first status; on a slow machine the estimate may already have found
  // the 32-bit search long (below) and said so instead.
  assert.match((await status.textContent()).trim(), /^(Preparing to send securely… this usually takes a few seconds\.|The service is very busy)/);
  const text = await page.locator("main").innerText();
  assert.match(text, /protects the service from floods of automated messages/, "it says why there is a wait");
  assert.match(text, /sends nothing about you/, "and that nothing about the reporter is sent");
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const wantWorkers = Math.min(4, Math.max(1, cores || 2));
  // The workers start once the challenge has arrived, which may be after the
  // screen shows: wait for them (bounded) instead of racing them.
  const workersBy = Date.now() + STEP_TIMEOUT_MS;
  while (workers.length < wantWorkers && Date.now() < workersBy) await page.waitForTimeout(25);
  assert.equal(workers.length, wantWorkers, `a worker per core, at most 4 (${cores} cores)`);
  for (const w of workers) assert.match(w.url, /\/pow-worker\.js$/);

  step("the worker searches and reports how far it has got");
  await page.waitForFunction(() => window.__pow.some((m) => m.tries > 0), null, { timeout: STEP_TIMEOUT_MS });
  const shown = Number(await bar.evaluate((p) => p.value));
  assert.ok(shown >= 0 && shown <= 95, `the bar never claims to be done before it is: ${shown}`);
  // Still searching: no solution reached the page (one found by chance is
  // held back, above), so it is still on this screen and posted nothing.
  assert.equal(await page.locator("main h1").innerText(), "Preparing to send your report", "still waiting");
  assert.equal(count(0, /^POST /), 0, "nothing was posted while searching");

  step("cancel, from the keyboard");
  for (let i = 0; i < 5 && (await active()).id !== "cancel"; i++) await page.keyboard.press("Tab");
  assert.equal((await active()).text, "Cancel sending", "Tab reaches Cancel sending");
  await page.keyboard.press("Enter");
  await answersKept("after cancelling");
  assert.deepEqual(await active(), { tag: "h1", id: "", text: "Check your answers before sending your report" }, "focus moves to the heading");
  assert.equal((await page.locator("#progress").textContent()).trim(), "You cancelled sending. Nothing was sent.");
  await bounded(Promise.all(workers.map((w) => w.closed)), "the workers to end");
  assert.equal(page.workers().length, 0, "the workers were ended");
  assert.equal(count(0, /^POST /), 0, "nothing was posted");
  assert.deepEqual(await inbox(), [], "the inbox is empty");

  step("a long search: the estimate says so; pause keeps the sealed report, cancel from there sends nothing");
  const slowAgain = await slowChallengeOnce(page, base);
  const before = workers.length;
  await page.getByRole("button", { name: "Send report" }).click();
  await heading(page, "Preparing to send your report");
  assert.ok(slowAgain(), "the page asked for a challenge");
  const estimate = page.locator("#pow-estimate");
  await estimate.filter({ hasText: /\S/ }).waitFor();
  assert.match((await estimate.textContent()).trim(),
    /^This should take about \d+ (minutes?|hours?) more \(nine times in ten, less than \d+ (minutes?|hours?)\)\. It is a matter of chance/,
    "an estimate of the time left for 2^32 tries, with its spread");
  await page.locator("#pause").waitFor();
  const busyText = (await status.textContent()).trim();
  assert.match(busyText, /^The service is very busy at the moment, so this will take longer than usual: about \d+ (minutes?|hours?)\./, busyText);
  assert.match(busyText, /keep this page open/, busyText);
  assert.match(busyText, /nothing is saved on this device/, busyText);
  await page.locator("#pause").click();
  await heading(page, "Sending your report is paused");
  await bounded(Promise.all(workers.slice(before).map((w) => w.closed)), "the workers to end on pause");
  assert.equal(page.workers().length, 0, "pausing ended the workers");
  assert.match(await page.locator("main").innerText(), /kept in this tab until you send it, cancel, or close the tab/);
  assert.ok(await page.getByRole("button", { name: "Send now" }).isVisible(), "Send now is offered");
  await page.getByRole("button", { name: "Cancel sending" }).click();
  await answersKept("after pausing and cancelling");
  assert.equal(count(0, /^POST /), 0, "nothing was posted");
  assert.deepEqual(await inbox(), [], "the inbox is still empty");

  step("the server refuses the proof twice (429): one new challenge by itself, then an error");
  let mark = requests.length;
  let refusals = ["pow_expired", "pow_spent"];
  const reports = `${base}/api/v1/reports`;
  await page.route(reports, (route) => {
    const error = refusals.shift();
    if (!error) return route.continue();
    return route.fulfill({ status: 429, contentType: "application/json", body: JSON.stringify({ error, message: "stood in for by the test" }) });
  });
  await page.getByRole("button", { name: "Send report" }).click();
  await page.locator(".error-summary").waitFor({ timeout: 150_000 });
  assert.equal(refusals.length, 0, "both refusals were used");
  assert.equal(count(mark, /\/api\/v1\/challenge$/), 2, "two challenges: the first, and one new one after the 429");
  assert.equal(count(mark, /^POST /), 2, "two posts");
  const summary = await page.locator(".error-summary").innerText();
  assert.match(summary, /nothing was sent/, summary);
  assert.match(summary, /Everything you typed is still here/, summary);
  await answersKept("after the refusals");
  assert.deepEqual(await inbox(), [], "the inbox is still empty");

  step("one 429, then sent");
  mark = requests.length;
  refusals = ["pow_outdated"];
  await page.getByRole("button", { name: "Send report" }).click();
  const words = await readReplyCode(page);
  assert.equal(refusals.length, 0);
  assert.equal(count(mark, /\/api\/v1\/challenge$/), 2, "a new challenge after the 429");
  assert.equal(count(mark, /^POST /), 2, "and a second post");
  await page.unroute(reports);
  const stored = await inbox();
  assert.equal(stored.length, 1, "one report arrived");
  assert.ok(workers.length >= 5, `a worker for each solve: ${workers.length}`);
  const last = posts.at(-1);
  assert.equal((await last.response()).status(), 201);
  const sent = { body: last.postDataBuffer(), pow: (await last.allHeaders())["quietline-pow"] || "" };
  await checkPow(sent);
  // The refusals stood in for here are logged by the browser as failed loads.
  const rest = problems.filter((p) => !/the server responded with a status of 429/.test(p));
  problems.splice(0, problems.length, ...rest);
  assertClean("the waiting screen, cancelling and sending again");
  return { words, envelope_sha256: await sha256Hex(sent.body), pow: sent.pow };
});

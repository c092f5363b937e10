// How fast the page's proof-of-work worker searches, in Debian's Chromium.
//
//   cd web && npm run bench:pow        # or: node bench/pow.mjs [--runs 20] [--bits 16] [--solves 10]
//
// The worker exactly as the page ships it (pow-worker.js from build.mjs) is
// served from 127.0.0.1 with a page that starts it the way the page does (a
// new Worker per solve, the challenge's 58 octets and an envelope hash
// posted to it). Challenges are made here: random, with the difficulty byte
// set (the worker does not check tags; the server does).
//
// 1. `--runs` solves at `--bits` (default 20 at 16 bits): tries per second
//    of the search itself (each in a fresh worker that has already started
//    and solved a 12-bit challenge, untimed, so that its code is optimised),
//    median and spread; from the median, the expected search time at 18, 19, 20
//    and 22 bits (2^bits tries on average; worker start-up not included).
// 2. `--solves` solves at 19 bits (the server's default floor): the wall
//    time of each from `new Worker` to the answer (worker start-up
//    included, as a reporter waits), median and p95. The number of tries a
//    solve takes is geometric, so single solves vary a lot around the mean.
//
// Bounded: the whole run stops starting new solves after 100 s. Prints a
// markdown table and one JSON line. Nothing leaves the machine; no timing is
// asserted anywhere.

import { createServer } from "node:http";
import { cpus, totalmem } from "node:os";
import { buildFiles } from "../build.mjs";
import { CHROMIUM, launch } from "../e2e/lib.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt("runs", 20);
const BITS = opt("bits", 16);
const SOLVES = opt("solves", 10);
const FLOOR = 19;
const BUDGET_MS = 100_000;

const worker = (await buildFiles())["pow-worker.js"];
const html = '<!doctype html><html lang="en"><title>proof-of-work benchmark</title><p>benchmark</p>';
const server = createServer((req, res) => {
  if (req.url === "/pow-worker.js") {
    res.writeHead(200, { "content-type": "text/javascript" });
    res.end(worker);
  } else {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(html);
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  const deadline = Date.now() + BUDGET_MS;
  /**
   * `count` solves at `bits` in the page: [{ ms, tries }]. `wall`: timed from
   * `new Worker`, as a reporter waits; otherwise the search alone.
   */
  const solves = (count, bits, wall) => page.evaluate(async ({ count, bits, wall, left }) => {
    const stop = performance.now() + left;
    const out = [];
    for (let i = 0; i < count && performance.now() < stop; i++) {
      const challenge = crypto.getRandomValues(new Uint8Array(58));
      challenge[0] = 1;
      challenge[1] = bits;
      const envelopeHash = crypto.getRandomValues(new Uint8Array(32));
      let t0 = performance.now();
      const w = new Worker("/pow-worker.js");
      const ask = (c) => new Promise((resolve, reject) => {
        w.onmessage = ({ data }) => data.header && resolve(data.tries);
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage({ challenge: c, text: "bench", envelopeHash });
      });
      if (!wall) {
        // The search alone: the worker has started and solved a 12-bit
        // challenge already (untimed), so its code is compiled and optimised.
        await ask(Uint8Array.of(1, 12, ...crypto.getRandomValues(new Uint8Array(56))));
        t0 = performance.now();
      }
      const tries = await ask(challenge);
      const ms = performance.now() - t0;
      w.terminate();
      out.push({ ms, tries });
    }
    return out;
  }, { count, bits, wall, left: Math.max(0, deadline - Date.now()) });

  await solves(2, 12, true); // warm-up: compile the worker's code once
  const rated = await solves(RUNS, BITS, false);
  const actual = await solves(SOLVES, FLOOR, true);

  const sorted = (xs) => [...xs].sort((a, b) => a - b);
  const at = (xs, q) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
  const rates = rated.map((r) => (r.tries / r.ms) * 1000);
  const rate = at(rates, 0.5);
  const times = actual.map((r) => r.ms);
  const machine = { cpus: cpus().length, cpu: cpus()[0] && cpus()[0].model, memory_gib: +(totalmem() / 2 ** 30).toFixed(1) };
  const k = (x) => `${(x / 1000).toFixed(0)} k`;
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

  console.log(`Chromium ${browser.version()} (${CHROMIUM}), ${machine.cpus} CPUs (${machine.cpu}), ${machine.memory_gib} GiB`);
  console.log(`pow-worker.js as built: ${worker.length} B\n`);
  console.log("| measure | value |");
  console.log("|---|---|");
  console.log(`| search rate (tries/s), median of ${rated.length} solves at ${BITS} bits | ${k(rate)} (min ${k(Math.min(...rates))}, max ${k(Math.max(...rates))}) |`);
  for (const bits of [18, 19, 20, 22]) {
    console.log(`| expected search time at ${bits} bits (2^${bits} tries at the median rate) | ${s((2 ** bits / rate) * 1000)} |`);
  }
  if (times.length) {
    console.log(`| actual solve time at ${FLOOR} bits, median of ${times.length} | ${s(at(times, 0.5))} |`);
    console.log(`| actual solve time at ${FLOOR} bits, p95 of ${times.length} | ${s(at(times, 0.95))} |`);
    console.log(`| actual solve time at ${FLOOR} bits, min / max | ${s(Math.min(...times))} / ${s(Math.max(...times))} |`);
    const all = actual.reduce((n, r) => n + r.tries, 0) / times.reduce((n, t) => n + t, 0);
    console.log(`| tries/s over those ${times.length} solves, start-up included | ${k(all * 1000)} |`);
  }
  if (rated.length < RUNS || actual.length < SOLVES) console.log(`\n(stopped early at the ${BUDGET_MS / 1000} s bound: ${rated.length} + ${actual.length} solves)`);
  console.log(JSON.stringify({
    chromium: browser.version(), machine, worker_bytes: worker.length,
    rate: { bits: BITS, solves: rated.length, median_tries_per_s: rate, tries_per_s: rates },
    expected_ms: Object.fromEntries([18, 19, 20, 22].map((b) => [b, (2 ** b / rate) * 1000])),
    actual: { bits: FLOOR, solves: times.length, median_ms: times.length ? at(times, 0.5) : null, p95_ms: times.length ? at(times, 0.95) : null, ms: times, tries: actual.map((r) => r.tries) },
  }));
} finally {
  await browser.close();
  server.close();
}

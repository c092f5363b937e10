// How long the page's proof of work takes, in Debian's Chromium (with and
// without its JIT) and Firefox ESR (with and without Tor Browser's "Safer"
// JavaScript preferences).
//
//   cd web && npm run bench:pow     # or: node bench/pow.mjs [--bits 22] [--solves 15] [--rate-bits 20] [--browsers all] [--threads N]
//
// The worker exactly as the page ships it (pow-worker.js from build.mjs) is
// served from 127.0.0.1 with a page that starts the workers the way the page
// does (send.js: `threads` workers, each its share of the nonces; the page
// uses min(4, navigator.hardwareConcurrency)). Challenges are made here:
// random, with the difficulty byte set (the workers do not check tags; the
// server does).
//
// Per browser:
// 1. the search rate: one solve at --rate-bits (20), tries of all workers
//    per second, after an untimed 12-bit warm-up solve;
// 2. --solves solves at --bits (the server's default floor): the wall time
//    of each from `new Worker` to the header, as a reporter waits after
//    sealing; median, p90, max. The number of tries is geometric, so single
//    solves vary a lot around the mean (median ≈ 0.69 × mean).
//
// --browsers: comma-separated among chromium, chromium-jitless, firefox,
// firefox-safer (default all). Bounded: each browser stops starting solves
// after 120 s. Prints a markdown table and one JSON line. Nothing leaves the
// machine; no timing is asserted anywhere.

import { createServer } from "node:http";
import { cpus, totalmem, loadavg } from "node:os";
import { chromium } from "playwright-core";
import { buildFiles } from "../build.mjs";
import { CHROMIUM, CHROMIUM_ARGS } from "../e2e/lib.mjs";
import { launchFirefox, saferApplied } from "../e2e/firefox-lib.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const BITS = Number(opt("bits", 22));
const SOLVES = Number(opt("solves", 15));
const RATE_BITS = Number(opt("rate-bits", 20));
const THREADS = opt("threads", "");
const BROWSERS = opt("browsers", "all") === "all" ? ["chromium", "chromium-jitless", "firefox", "firefox-safer"] : opt("browsers").split(",");
const BUDGET_MS = 120_000;

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

async function open(name) {
  if (name.startsWith("chromium")) {
    const browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, timeout: 60_000,
      args: [...CHROMIUM_ARGS, ...(name === "chromium-jitless" ? ["--js-flags=--jitless"] : [])],
    });
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    return { browser, page, version: browser.version(), evaluate: (f, a) => page.evaluate(f, a) };
  }
  const browser = await launchFirefox({ safer: name === "firefox-safer" });
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  if (name === "firefox-safer" && !(await saferApplied(page))) throw new Error("the Safer preferences did not take effect");
  return { browser, page, version: await browser.version(), evaluate: (f, a) => page.evaluate(f, a) };
}

/** In the page: `count` solves at `bits` with the page's workers; [{ ms, tries }]. */
function solves({ count, bits, left, threads }) {
  const stop = performance.now() + left;
  const n = threads || Math.min(4, Math.max(1, navigator.hardwareConcurrency || 2));
  const one = (bits) => new Promise((resolve, reject) => {
    const challenge = crypto.getRandomValues(new Uint8Array(58));
    challenge[0] = 1;
    challenge[1] = bits;
    const envelopeHash = crypto.getRandomValues(new Uint8Array(32));
    const t0 = performance.now();
    const workers = [];
    const tries = new Array(n).fill(0);
    for (let i = 0; i < n; i++) {
      const w = new Worker("/pow-worker.js");
      workers.push(w);
      w.onmessage = ({ data }) => {
        tries[i] = data.tries || 0;
        if (data.error) reject(new Error("the worker failed"));
        if (!data.header) return;
        const ms = performance.now() - t0;
        for (const x of workers) x.terminate();
        // The other workers' counts are as of their last report (≤ 250 ms old).
        resolve({ ms, tries: tries.reduce((a, b) => a + b, 0) });
      };
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage({ challenge, text: "bench", envelopeHash, start: i, stride: n });
    }
  });
  return (async () => {
    const out = [];
    for (let i = 0; i < count && performance.now() < stop; i++) out.push(await one(bits));
    return { threads: n, out };
  })();
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const at = (xs, q) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const rows = [];
for (const name of BROWSERS) {
  const b = await open(name);
  try {
    const deadline = Date.now() + BUDGET_MS;
    const threads = THREADS ? Number(THREADS) : 0;
    await b.evaluate(solves, { count: 1, bits: 12, left: 30_000, threads });
    // The rate: the mean of a few solves' tries over their time.
    const rated = await b.evaluate(solves, { count: 3, bits: RATE_BITS, left: 60_000, threads });
    const rate = rated.out.reduce((a, r) => a + r.tries, 0) / rated.out.reduce((a, r) => a + r.ms, 0) * 1000;
    const timed = await b.evaluate(solves, { count: SOLVES, bits: BITS, left: Math.max(0, deadline - Date.now()), threads });
    const ms = timed.out.map((r) => r.ms);
    rows.push({
      browser: name, version: b.version, threads: timed.threads, rate,
      expected_ms: (2 ** BITS / rate) * 1000, solves: ms.length,
      median_ms: at(ms, 0.5), p90_ms: at(ms, 0.9), max_ms: Math.max(...ms), ms,
    });
    console.error(`${name}: ${JSON.stringify(rows.at(-1))}`);
  } finally {
    await b.browser.close();
  }
}
server.close();

const machine = { cpus: cpus().length, cpu: cpus()[0] && cpus()[0].model, memory_gib: +(totalmem() / 2 ** 30).toFixed(1), load: loadavg().map((x) => +x.toFixed(1)) };
console.log(`${machine.cpus} CPUs (${machine.cpu}), ${machine.memory_gib} GiB, load average ${machine.load.join(" ")}; pow-worker.js ${worker.length} B\n`);
console.log(`| browser | workers | tries/s (${RATE_BITS} bits) | expected at ${BITS} bits | median of ${SOLVES} at ${BITS} bits | p90 | max |`);
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${r.browser} (${r.version}) | ${r.threads} | ${(r.rate / 1e6).toFixed(2)} M | ${s(r.expected_ms)} | ${s(r.median_ms)} (${r.solves}) | ${s(r.p90_ms)} | ${s(r.max_ms)} |`);
}
const jit = (n) => rows.find((r) => r.browser === n);
for (const [slow, fast] of [["chromium-jitless", "chromium"], ["firefox-safer", "firefox"]]) {
  if (jit(slow) && jit(fast)) console.log(`\n${slow} / ${fast}: median ${(jit(slow).median_ms / jit(fast).median_ms).toFixed(2)}, rate ${(jit(fast).rate / jit(slow).rate).toFixed(2)}`);
}
console.log(JSON.stringify({ machine, bits: BITS, rate_bits: RATE_BITS, rows }));

// How long the page takes to seal an 8 KiB report to an X-Wing force key
// (issue 21), in Debian's Chromium, with the JIT and without it
// (`--js-flags=--jitless`, what Tor Browser's "Safer" level amounts to).
//
//   cd web && node bench/seal-pq.mjs [--runs 50] [--warmup 10]
//
// Like bench/seal.mjs: the page's crypto module and the lazily loaded X-Wing
// bundle (src/pq.js), each bundled with the page build's options, served
// from 127.0.0.1. "first" is the first X-Wing seal in a fresh page, which
// includes fetching and compiling pq.js; then median/p95 of the seal alone
// (sealReport to the X-Wing key) and of the send step (reply code → X-Wing
// reply key → payload JSON → seal). Nothing is asserted.

import * as esbuild from "esbuild";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { jsOptions } from "../build-options.mjs";
import { CHROMIUM, CHROMIUM_ARGS } from "../e2e/lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt("runs", 50);
const WARMUP = opt("warmup", 10);

const build = async (entry, globalName) =>
  (await esbuild.build({ ...jsOptions(root), entryPoints: [entry], format: "iife", globalName })).outputFiles[0].contents;
const q = await build("src/quietline-crypto.js", "Q");
const pq = await build("src/pq.js");
const html = '<!doctype html><html lang="en"><title>X-Wing seal benchmark</title><script src="/q.js"></script>';
const server = createServer((req, res) => {
  const body = req.url === "/q.js" ? q : req.url === "/pq.js" ? pq : html;
  res.writeHead(200, { "content-type": req.url.endsWith(".js") ? "text/javascript" : "text/html" });
  res.end(body);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;

async function run(jitless) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(jitless ? ["--js-flags=--jitless"] : [])],
    timeout: 60_000,
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    return await page.evaluate(async ({ runs, warmup }) => {
      const Q = globalThis.Q;
      // An X-Wing force key from a fixed IKM (through pq.js, not timed).
      const t0 = performance.now();
      const force = await Q.deriveReplySecrets(new Uint8Array(16), new Uint8Array(1216));
      const loadMs = performance.now() - t0;
      const pk = force.replyPublicKey;
      const report = (details) => ({
        category: "drugs", details,
        where: { known: true, description: "Behind the old mill, Canal Street" },
        when: { known: true, date: "2024-03-14", time: "22:15", ongoing: true, description: "" },
        people: [], vehicles: [], how_known: "saw", how_known_details: "",
      });
      const secrets = await Q.deriveReplySecrets(Q.generateReplyCode(), pk);
      const make = (n) => Q.reportPayload({ sentAt: Q.sentAtNow(), report: report("x".repeat(n)), reply: Q.replyMaterial(secrets) });
      const payload = make(8192 - make(0).length);
      async function time(fn) {
        const t = performance.now();
        await fn();
        const first = performance.now() - t;
        for (let i = 1; i < warmup; i++) await fn();
        const ms = [];
        for (let i = 0; i < runs; i++) {
          const s = performance.now();
          await fn();
          ms.push(performance.now() - s);
        }
        ms.sort((a, b) => a - b);
        const at = (p) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)];
        return { first_ms: first, median_ms: at(0.5), p95_ms: at(0.95) };
      }
      let envelope = 0;
      const seal = await time(async () => { envelope = (await Q.sealReport("north-shire", pk, payload)).length; });
      const send = await time(async () => {
        const s = await Q.deriveReplySecrets(Q.generateReplyCode(), pk);
        await Q.sealReport("north-shire", pk, Q.reportPayload({ sentAt: Q.sentAtNow(), report: report("x".repeat(8000)), reply: Q.replyMaterial(s) }));
      });
      return { load_and_first_keygen_ms: loadMs, envelope_bytes: envelope, seal, send };
    }, { runs: RUNS, warmup: WARMUP });
  } finally {
    await browser.close();
  }
}

try {
  for (const jitless of [false, true]) {
    const r = await run(jitless);
    const f = (x) => x.toFixed(1).padStart(6);
    console.log(`${jitless ? "jitless" : "JIT    "}  pq.js fetch + first key ${f(r.load_and_first_keygen_ms)} ms; envelope ${r.envelope_bytes} B`);
    for (const [n, t] of [["seal", r.seal], ["send step", r.send]]) {
      console.log(`  ${n.padEnd(10)} first ${f(t.first_ms)} ms  median ${f(t.median_ms)} ms  p95 ${f(t.p95_ms)} ms`);
    }
    console.log(JSON.stringify({ jitless, runs: RUNS, warmup: WARMUP, ...r }));
  }
} finally {
  server.close();
}

// How long the page takes to seal an 8 KiB report, in Debian's Chromium.
//
//   cd web && npm run bench:seal            # or: node bench/seal.mjs [--runs 200] [--warmup 100]
//
// The page's own crypto module (src/quietline-crypto.js), bundled by esbuild
// with exactly the options and plugins of the page build (build-options.mjs),
// is loaded into a page served from 127.0.0.1 (WebCrypto needs a secure
// context) and timed there with performance.now():
//
// - seal: Q.sealReport(force id, force public key, 8192-byte report payload),
//   i.e. pad to the 16 KiB bucket, HPKE (pure-JS X25519, HKDF-SHA256,
//   ChaCha20-Poly1305) with the header as associated data — what the page
//   does per "Send report";
// - send step: everything the page does before the POST — a fresh reply code,
//   the reply key pair and slot key derived from it, the payload JSON, and
//   the seal.
//
// Prints the machine, Chromium's version and, for each, the very first call
// in the fresh page (what a reporter, who seals once, actually waits: it
// includes compiling the code) and median, p95, min and max over the runs
// after the warm-up, plus one JSON line. Nothing leaves
// the machine; no timing is asserted anywhere.

import * as esbuild from "esbuild";
import { createServer } from "node:http";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { jsOptions } from "../build-options.mjs";
import { CHROMIUM, launch } from "../e2e/lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt("runs", 200);
const WARMUP = opt("warmup", 100);
const PAYLOAD_BYTES = 8192;

const bundle = await esbuild.build({
  ...jsOptions(root),
  entryPoints: ["src/quietline-crypto.js"],
  format: "iife",
  globalName: "Q",
});
const js = bundle.outputFiles[0].contents;
const html = '<!doctype html><html lang="en"><title>seal benchmark</title><script src="/q.js"></script>';

const server = createServer((req, res) => {
  if (req.url === "/q.js") {
    res.writeHead(200, { "content-type": "text/javascript" });
    res.end(js);
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
  const result = await page.evaluate(async ({ runs, warmup, size }) => {
    const Q = globalThis.Q;
    const { publicKey } = await Q.deriveKeyPair(Q.randomBytes(32));
    const secrets = await Q.deriveReplySecrets(Q.generateReplyCode());
    const report = (details) => ({
      category: "drugs",
      details,
      where: { known: true, description: "Behind the old mill, Canal Street" },
      when: { known: true, date: "2024-03-14", time: "22:15", ongoing: true, description: "" },
      people: [{ name: "Big Dave", description: "Tall, about 40, red jacket" }],
      vehicles: [{ registration: "AB12 CDE", make_model: "Ford Transit", colour: "White", description: "" }],
      how_known: "saw",
      how_known_details: "",
    });
    // Details long enough that the whole payload JSON is exactly `size` bytes.
    const make = (n) => Q.reportPayload({ sentAt: Q.sentAtNow(), report: report("x".repeat(n)), reply: Q.replyMaterial(secrets) });
    const n = size - make(0).length;
    const payload = make(n);
    if (payload.length !== size) throw new Error(`payload is ${payload.length} bytes`);

    async function time(fn) {
      const t0 = performance.now();
      await fn();
      const first = performance.now() - t0;
      for (let i = 1; i < warmup; i++) await fn();
      const ms = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await fn();
        ms.push(performance.now() - t);
      }
      ms.sort((a, b) => a - b);
      const at = (q) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
      return { runs, first_ms: first, median_ms: at(0.5), p95_ms: at(0.95), min_ms: ms[0], max_ms: ms[ms.length - 1] };
    }

    let envelopeBytes = 0;
    const seal = await time(async () => {
      envelopeBytes = (await Q.sealReport("north-shire", publicKey, payload)).length;
    });
    const sendStep = await time(async () => {
      const code = Q.generateReplyCode();
      const s = await Q.deriveReplySecrets(code);
      const p = Q.reportPayload({ sentAt: Q.sentAtNow(), report: report("x".repeat(n)), reply: Q.replyMaterial(s) });
      await Q.sealReport("north-shire", publicKey, p);
    });
    return { payload_bytes: payload.length, envelope_bytes: envelopeBytes, seal, send_step: sendStep, timer_resolution_note: "performance.now() in a page without cross-origin isolation is coarsened to 0.1 ms" };
  }, { runs: RUNS, warmup: WARMUP, size: PAYLOAD_BYTES });

  const machine = { cpus: cpus().length, cpu: cpus()[0] && cpus()[0].model, memory_gib: +(totalmem() / 2 ** 30).toFixed(1) };
  const f = (x) => x.toFixed(2).padStart(7);
  console.log(`Chromium ${browser.version()} (${CHROMIUM}), ${machine.cpus} CPUs (${machine.cpu}), ${machine.memory_gib} GiB`);
  console.log(`payload ${result.payload_bytes} B → envelope ${result.envelope_bytes} B; ${RUNS} runs after ${WARMUP} warm-up runs`);
  for (const [name, r] of [["seal (sealReport)", result.seal], ["send step (code + keys + JSON + seal)", result.send_step]]) {
    console.log(`${name.padEnd(38)} first ${f(r.first_ms)} ms  median ${f(r.median_ms)} ms  p95 ${f(r.p95_ms)} ms  min ${f(r.min_ms)} ms  max ${f(r.max_ms)} ms`);
  }
  console.log(JSON.stringify({ chromium: browser.version(), machine, ...result }));
} finally {
  await browser.close();
  server.close();
}

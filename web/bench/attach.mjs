// Attachments in the page, in Debian's Chromium (issue 19, "Speed"):
//
//   cd web && npm run bench:attach -- [--mb 64] [--base URL --force ID [--upload-mb 100]]
//   (quietline-bench attach-page starts a loopback server and runs this with --base)
//
// 1. Sealing throughput: the page's own path (src/attachments/upload.js:
//    read a Blob one part at a time, SHA-256 of the file, STREAM-seal each
//    64 KiB chunk) with the network replaced by a service that accepts every
//    part at once, against the raw ChaCha20-Poly1305 rate of the same library
//    (@hpke/chacha20poly1305, i.e. noble-ciphers) sealing 64 KiB buffers in the
//    same page, in the same run. Also the STREAM sealing alone (no read, no hash).
//    The ceiling, "raw", is the cipher stream.js calls (@noble/ciphers'
//    chacha20poly1305) sealing 64 KiB in place into one buffer: no
//    allocation, no copy, nothing but the AEAD.
// 2. With --base: a file of --upload-mb MB (a Blob made in the page) sealed and
//    uploaded to that server (its real routes, the proof of work solved in the
//    page), sampling the page's JS heap (CDP Runtime.getHeapUsage: used plus
//    ArrayBuffer backing stores) every 20 ms after a forced GC; the peak over
//    the baseline is compared with the chunk window (one part: 16 chunks of
//    64 KiB = 1 MiB of file, sealed to 1,048,832 bytes).
//
// The modules are bundled by esbuild with the page build's options
// (build-options.mjs). Prints the figures and one JSON line; asserts nothing.

import * as esbuild from "esbuild";
import { createServer } from "node:http";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { jsOptions } from "../build-options.mjs";
import { launch } from "../e2e/lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const MB_SEAL = Number(opt("mb", 64));
const BASE = opt("base", "");
const FORCE = opt("force", "demo");
const UPLOAD_MB = Number(opt("upload-mb", 100));
// --no-heap: upload without sampling the heap (the sampler's forced GCs
// stop the page; the throughput is then the page's own).
const HEAP = !args.includes("--no-heap");
// --in-flight N: parts on their way at once (upload.js's IN_FLIGHT otherwise).
const IN_FLIGHT_ARG = Number(opt("in-flight", 0));

const bundle = await esbuild.build({
  ...jsOptions(root),
  stdin: {
    contents: `
      export { chacha20poly1305 } from "@noble/ciphers/chacha.js";
      export { Encryptor, nonce, CHUNK_LEN } from "./src/attachments/stream.js";
      export { sealAndUpload, blobReader, IN_FLIGHT } from "./src/attachments/upload.js";
      export { sha256 } from "@noble/hashes/sha2.js";
      export { solve, powHeader } from "./src/pow.js";`,
    resolveDir: root,
    loader: "js",
  },
  format: "iife",
  globalName: "B",
});
const js = Buffer.from(bundle.outputFiles[0].contents);
const html = '<!doctype html><html lang="en"><title>attachments benchmark</title><script src="/__bench/b.js"></script>';

let server;
let base = BASE;
if (!base) {
  server = createServer((req, res) => {
    res.writeHead(200, { "content-type": req.url.endsWith(".js") ? "text/javascript" : "text/html" });
    res.end(req.url.endsWith(".js") ? js : html);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
}

const browser = await launch();
const out = { cpus: cpus().length, chromium: browser.version() };
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  // The bench page is served under the server's own origin (same-origin
  // requests, as the reporter page makes them), from here.
  await page.route(`${base}/__bench/**`, (route) => route.fulfill({
    status: 200,
    contentType: route.request().url().endsWith(".js") ? "text/javascript" : "text/html",
    body: route.request().url().endsWith(".js") ? js : html,
  }));
  await page.goto(`${base}/__bench/index.html`);
  // The page's own bundle, for its hashing worker (served by the server under --base).
  if (BASE) await page.addScriptTag({ url: "/attach.js" });

  Object.assign(out, await page.evaluate(async (mb) => {
    const { chacha20poly1305, Encryptor, nonce, CHUNK_LEN, sealAndUpload, blobReader, sha256 } = globalThis.B;
    const bytes = mb * 1024 * 1024;
    const key = crypto.getRandomValues(new Uint8Array(32));
    const piece = crypto.getRandomValues(new Uint8Array(CHUNK_LEN));
    const now = () => performance.now();
    // Raw AEAD: 64 KiB at a time in place in one buffer, as the stream seals.
    const sealedPiece = new Uint8Array(CHUNK_LEN + 16);
    const raw = async () => {
      const t0 = now();
      for (let i = 0; i < bytes / CHUNK_LEN; i++) chacha20poly1305(key, nonce(i, false)).encrypt(sealedPiece.subarray(0, CHUNK_LEN), sealedPiece);
      return bytes / 1e6 / ((now() - t0) / 1000);
    };
    const streamOnly = async () => {
      const enc = new Encryptor(key, bytes);
      const t0 = now();
      while (!enc.done) await enc.sealNext(piece.subarray(0, enc.nextInputLen));
      return bytes / 1e6 / ((now() - t0) / 1000);
    };
    // SHA-256 of the file (FORMAT.md: sha256_sent), streamed in 1 MiB parts as the page does.
    const part = new Uint8Array(16 * CHUNK_LEN);
    const hashOnly = async () => {
      const h = sha256.create();
      const t0 = now();
      for (let i = 0; i < bytes / part.length; i++) h.update(part);
      h.digest();
      return bytes / 1e6 / ((now() - t0) / 1000);
    };
    // The page's path, the network answered at once.
    const blob = new Blob(Array.from({ length: bytes / CHUNK_LEN }, () => piece));
    const PART = 16 * (CHUNK_LEN + 16);
    const fake = async (url, o = {}) => {
      if (url.startsWith("/api/v1/blobs/challenge")) return new Response(JSON.stringify({ challenge: "c" }), { status: 200 });
      if (o.method === "POST") {
        const size = JSON.parse(new TextDecoder().decode(o.body)).size;
        return new Response(JSON.stringify({ id: "ab".repeat(16), parts: Math.ceil(size / PART), part_len: PART }), { status: 201 });
      }
      return new Response("{}", { status: 200 });
    };
    // With the page's hashing worker (it reads the File itself) when the
    // server's /attach.js is there (--base).
    const worker = globalThis.QuietlineAttach && globalThis.QuietlineAttach.workerDigest;
    const pagePath = async (digest) => {
      const t0 = now();
      await sealAndUpload(blobReader(blob), bytes, "f", {
        fetch: fake, prove: async () => "x", cancelled: () => false, wait: async () => {}, progress: () => {},
        digest: digest && (() => digest(blob)),
      });
      return bytes / 1e6 / ((now() - t0) / 1000);
    };
    // Warm up each, then alternate three rounds and keep the medians.
    await raw(); await streamOnly(); await hashOnly(); await pagePath();
    if (worker) await pagePath(worker);
    const r = { raw: [], stream: [], sha256: [], page: [], page_worker: [] };
    for (let i = 0; i < 3; i++) {
      r.raw.push(await raw());
      r.stream.push(await streamOnly());
      r.sha256.push(await hashOnly());
      r.page.push(await pagePath());
      if (worker) r.page_worker.push(await pagePath(worker));
    }
    const med = (a) => (a.length ? a.slice().sort((x, y) => x - y)[1] : 0);
    return { seal_mb: mb, raw_mbps: med(r.raw), stream_mbps: med(r.stream), sha256_mbps: med(r.sha256), page_mbps: med(r.page), page_worker_mbps: med(r.page_worker), rounds: r };
  }, MB_SEAL));
  out.page_vs_raw = out.page_mbps / out.raw_mbps;
  console.log(`Sealing ${MB_SEAL} MiB in Chromium ${out.chromium} (${out.cpus} CPUs), medians of 3 after a warm-up:`);
  console.log(`  raw ChaCha20-Poly1305, 64 KiB calls:     ${out.raw_mbps.toFixed(1)} MB/s`);
  console.log(`  STREAM sealing only (stream.js):          ${out.stream_mbps.toFixed(1)} MB/s (${((100 * out.stream_mbps) / out.raw_mbps).toFixed(0)}% of raw)`);
  console.log(`  SHA-256 alone (@noble/hashes, streamed):  ${out.sha256_mbps.toFixed(1)} MB/s (${((100 * out.sha256_mbps) / out.raw_mbps).toFixed(0)}% of raw)`);
  console.log(`  the page's path (read, SHA-256, seal):    ${out.page_mbps.toFixed(1)} MB/s (${(100 * out.page_vs_raw).toFixed(0)}% of raw), hashing in this thread`);
  if (out.page_worker_mbps) console.log(`  the same, hashing in the page's worker:   ${out.page_worker_mbps.toFixed(1)} MB/s (${((100 * out.page_worker_mbps) / out.raw_mbps).toFixed(0)}% of raw): what the page does`);

  if (BASE) {
    // The file first (a Blob: the browser keeps its bytes outside the JS
    // heap, as it does a chosen File), then the baseline.
    await page.evaluate(async (mb) => {
      const bytes = mb * 1000 * 1000;
      let piece = new Uint8Array(1024 * 1024);
      for (let i = 0; i < piece.length; i += 65536) crypto.getRandomValues(piece.subarray(i, i + 65536));
      globalThis.__file = new Blob(Array.from({ length: Math.ceil(bytes / piece.length) }, () => piece)).slice(0, bytes);
      piece = null;
    }, UPLOAD_MB);
    await page.evaluate((n) => { globalThis.__upload = async ({ mb, force, blob }) => {
     try {
      const { sealAndUpload, blobReader, solve, powHeader, CHUNK_LEN, IN_FLIGHT } = globalThis.B;
      const bytes = mb * 1000 * 1000;
      // As the page does: the hashing worker reads the File beside the sealing.
      const worker = globalThis.QuietlineAttach && globalThis.QuietlineAttach.workerDigest;
      const t0 = performance.now();
      let proved = 0;
      const e = await sealAndUpload(blobReader(blob), bytes, force, {
        fetch: (...a) => fetch(...a),
        prove: async (text, hash) => {
          const t = performance.now();
          const c = Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (x) => x.charCodeAt(0));
          const r = await solve(crypto.subtle, c, hash, c[1]);
          proved = performance.now() - t;
          return powHeader(text, r.work);
        },
        cancelled: () => false,
        wait: (a) => new Promise((ok) => setTimeout(ok, 1000 * (a + 1))),
        progress: () => {},
        digest: worker && (() => worker(blob)),
        inFlight: n || IN_FLIGHT,
      });
      const secs = (performance.now() - t0) / 1000;
      return { upload_mb: mb, upload_secs: secs, pow_secs: proved / 1000, upload_mbps: mb / (secs - proved / 1000), padded: e.padded_size, chunk: CHUNK_LEN };
     } catch (e) {
      return { error: `${e && e.code} ${e && e.status} ${e}` };
     }
    }; }, IN_FLIGHT_ARG);
    // A warm-up upload of 3 MB first, so the baseline holds the code the
    // upload runs (compiled, with its feedback) and what the modules set up
    // once: what is measured is then what an upload holds, not the code.
    const warm = await page.evaluate(async (force) => {
      const blob = new Blob([crypto.getRandomValues(new Uint8Array(65536))]);
      return globalThis.__upload({ mb: 0.065536, force, blob });
    }, FORCE);
    if (warm.error) throw new Error(`the warm-up upload failed: ${warm.error}`);
    const cdp = await context.newCDPSession(page);
    await cdp.send("HeapProfiler.enable");
    await cdp.send("HeapProfiler.collectGarbage");
    // The parts of the last reading after a forced GC (JS objects, ArrayBuffer
    // backing stores, Blink's own heap), for the figures' breakdown.
    let parts = null;
    const heap = async () => {
      const u = await cdp.send("Runtime.getHeapUsage");
      parts = { js: u.usedSize, buffers: u.backingStorageSize || 0, blink: u.embedderHeapUsedSize || 0 };
      return u.usedSize + (u.backingStorageSize || 0) + (u.embedderHeapUsedSize || 0);
    };
    const baseline = await heap();
    const baseParts = parts;
    let liveParts = parts;
    let peak = baseline;
    // Every 25th sample after a forced GC: what the page keeps alive (the
    // peak above also counts garbage V8 has not collected yet).
    let live = baseline;
    let sampling = true;
    const sampler = (async () => {
      for (let i = 1; sampling && HEAP; i++) {
        peak = Math.max(peak, await heap().catch(() => peak));
        if (i % 25 === 0) {
          await cdp.send("HeapProfiler.collectGarbage").catch(() => {});
          const now = await heap().catch(() => live);
          if (now > live) {
            live = now;
            liveParts = parts;
          }
        }
        await new Promise((ok) => setTimeout(ok, 20));
      }
    })();
    const up = await page.evaluate((args) => globalThis.__upload({ ...args, blob: globalThis.__file }), { mb: UPLOAD_MB, force: FORCE }).finally(() => { sampling = false; });
    if (up.error) throw new Error(`the upload failed: ${up.error}`);
    sampling = false;
    await sampler;
    const window = 16 * up.chunk; // one part of the file
    Object.assign(out, up, { heap_baseline: baseline, heap_peak: peak, heap_over_baseline: peak - baseline, heap_live_peak: live, chunk_window: window });
    console.log(`Upload of ${UPLOAD_MB} MB to ${BASE} (bucket ${up.padded / 2 ** 20} MiB): ${up.upload_secs.toFixed(1)} s, of which proof of work ${up.pow_secs.toFixed(1)} s; ${up.upload_mbps.toFixed(1)} MB/s sealed and uploaded`);
    console.log(`  JS heap (used + array buffers): baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB: +${((peak - baseline) / 2 ** 20).toFixed(2)} MiB = ${((peak - baseline) / window).toFixed(2)} × the chunk window (1 MiB)`);
    console.log(`  after forced GCs (every 0.5 s): peak ${(live / 2 ** 20).toFixed(1)} MiB: +${((live - baseline) / 2 ** 20).toFixed(2)} MiB = ${((live - baseline) / window).toFixed(2)} × the chunk window`);
    const d = (k) => `${k} ${((liveParts[k] - baseParts[k]) / 2 ** 20).toFixed(2)}`;
    console.log(`    of which (MiB over the baseline): ${d("js")}, ${d("buffers")}, ${d("blink")}`);
    Object.assign(out, { heap_live_parts: liveParts, heap_base_parts: baseParts });
  }
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
  if (server) server.close();
}

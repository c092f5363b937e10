// What the reporter page costs to download, as a running server serves it.
//
//   cargo run -- serve                           # in one terminal
//   cd web && npm run bench:transfer -- --base http://127.0.0.1:8080
//
// Fetches /, /app.css, /app.js and /pow-worker.js (the proof-of-work worker
// the page starts when the reporter sends) with `Accept-Encoding: gzip` (as
// every browser sends it), and prints for each the body bytes on the wire,
// the response header bytes, and the uncompressed size; then the totals
// against the 40 KB budget (40 × 1024 bytes of HTML + CSS + JS bodies, the
// worker included), and the total without the worker. Loopback only.

import { request } from "node:http";

const i = process.argv.indexOf("--base");
const base = i >= 0 ? process.argv[i + 1] : "http://127.0.0.1:8080";
if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(base)) {
  throw new Error(`--base must be a loopback address, not ${base}`);
}
const BUDGET = 40 * 1024;

function get(path, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers: acceptEncoding ? { "accept-encoding": acceptEncoding } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        // The header block as sent: status line, each header line, blank line.
        let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
        for (let k = 0; k < res.rawHeaders.length; k += 2) head += `${res.rawHeaders[k]}: ${res.rawHeaders[k + 1]}\r\n`;
        head += "\r\n";
        resolve({ status: res.statusCode, encoding: res.headers["content-encoding"] || "identity", body: Buffer.concat(chunks).length, head: Buffer.byteLength(head) });
      });
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    req.end();
  });
}

let body = 0;
let head = 0;
const rows = [];
const WORKER = "/pow-worker.js";
for (const path of ["/", "/app.css", "/app.js", WORKER]) {
  const gz = await get(path, "gzip, deflate, br, zstd");
  const plain = await get(path, "");
  if (gz.status !== 200 || gz.encoding !== "gzip") throw new Error(`${path}: ${gz.status} ${gz.encoding}`);
  body += gz.body;
  head += gz.head;
  rows.push({ path, gzip_body: gz.body, headers: gz.head, uncompressed: plain.body });
  console.log(`${path.padEnd(14)} gzip body ${String(gz.body).padStart(6)} B   headers ${String(gz.head).padStart(4)} B   uncompressed ${String(plain.body).padStart(7)} B`);
}
const worker = rows.find((r) => r.path === WORKER);
console.log(`total gzip bodies ${body} B (${(body / 1024).toFixed(1)} KB), ${(100 * body / BUDGET).toFixed(1)} % of the ${BUDGET} B budget; with response headers ${body + head} B`);
console.log(`without the worker (what loads the page): ${body - worker.gzip_body} B (${(100 * (body - worker.gzip_body) / BUDGET).toFixed(1)} % of the budget)`);
console.log(JSON.stringify({ base, files: rows, total_gzip_body: body, total_with_headers: body + head, total_without_worker: body - worker.gzip_body, budget: BUDGET }));

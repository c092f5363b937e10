// What the reporter page costs to download, as a running server serves it.
//
//   cargo run -- serve                           # in one terminal
//   cd web && npm run bench:transfer -- --base http://127.0.0.1:8080
//
// Fetches /, /app.css, /app.js and /pow-worker.js (the proof-of-work worker
// the page starts when the reporter sends) twice: with the Accept-Encoding
// browsers send over HTTPS (`gzip, deflate, br, zstd`: the server answers
// Brotli), and with `gzip` only (browsers over plain HTTP, for example an
// onion service in some browsers, and older clients). Prints for each the
// body bytes on the wire, the response header bytes, and the uncompressed
// size; then the totals against the 40 KB budget (40 × 1024 bytes of HTML +
// CSS + JS bodies, the worker included), and the totals without the worker.
// Loopback only.

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

const WORKER = "/pow-worker.js";
const PATHS = ["/", "/app.css", "/app.js", WORKER];
const ENCODINGS = [
  { name: "br", accept: "gzip, deflate, br, zstd" },
  { name: "gzip", accept: "gzip" },
];
const result = { base, budget: BUDGET };
for (const { name, accept } of ENCODINGS) {
  let body = 0;
  let head = 0;
  const rows = [];
  for (const path of PATHS) {
    const got = await get(path, accept);
    const plain = await get(path, "");
    if (got.status !== 200 || got.encoding !== name) throw new Error(`${path} (${accept}): ${got.status} ${got.encoding}`);
    body += got.body;
    head += got.head;
    rows.push({ path, body: got.body, headers: got.head, uncompressed: plain.body });
    console.log(`${name.padEnd(4)} ${path.padEnd(14)} body ${String(got.body).padStart(6)} B   headers ${String(got.head).padStart(4)} B   uncompressed ${String(plain.body).padStart(7)} B`);
  }
  const worker = rows.find((r) => r.path === WORKER).body;
  console.log(`${name}: total bodies ${body} B (${(body / 1024).toFixed(1)} KB), ${(100 * body / BUDGET).toFixed(1)} % of the ${BUDGET} B budget; with response headers ${body + head} B`);
  console.log(`${name}: without the worker (what loads the page): ${body - worker} B (${(100 * (body - worker) / BUDGET).toFixed(1)} % of the budget)`);
  result[name] = { files: rows, total_body: body, total_with_headers: body + head, total_without_worker: body - worker };
}
console.log(JSON.stringify(result));

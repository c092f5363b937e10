// Sealing and uploading an attachment (src/attachments/upload.js) against a
// fake blob service that keeps parts as the server does (README API table,
// FORMAT.md#blobs-on-the-server): the blob it ends up holding opens with the
// key the entry names to exactly the file; a dropped part is sent again after
// asking which parts are held, and no part the service holds is sent twice;
// Cancel; the limits checked before any upload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { sealAndUpload, checkLimits, partsReader, blobReader, UploadError } from "../src/attachments/upload.js";
import { open, sealedLen, bucketFor, SEALED_CHUNK_LEN } from "../src/attachments/stream.js";

const PART_LEN = 16 * SEALED_CHUNK_LEN;
const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const fromB64url = (s) => Uint8Array.from(Buffer.from(s, "base64url"));
const file = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) % 251);

/** A fake service. `drop(n, attempt)` → true makes PUT of part n fail like a dropped connection. */
function fakeService({ drop = () => false, down = 0 } = {}) {
  const log = { puts: [], begins: [], statusAsks: 0 };
  let blob = null;
  let downFor = 0;
  const tries = {};
  const fetch = async (url, opts = {}) => {
    if (url.startsWith("/api/v1/blobs/challenge?size=")) return json(200, { challenge: "c".repeat(78), difficulty: 0 });
    if (url === "/api/v1/blobs" && opts.method === "POST") {
      const body = JSON.parse(new TextDecoder().decode(opts.body));
      log.begins.push({ body, pow: opts.headers["Quietline-Pow"] });
      const parts = Math.ceil(body.size / PART_LEN);
      blob = { id: "ab".repeat(16), size: body.size, parts, held: new Map() };
      return json(201, { id: blob.id, parts, part_len: PART_LEN });
    }
    const m = /^\/api\/v1\/blobs\/([0-9a-f]{32})(?:\/parts\/(\d+))?$/.exec(url);
    if (m && m[2] !== undefined && opts.method === "PUT") {
      const n = Number(m[2]);
      tries[n] = (tries[n] || 0) + 1;
      log.puts.push(n);
      if (drop(n, tries[n])) {
        downFor = down;
        throw new TypeError("Failed to fetch");
      }
      const want = n === blob.parts - 1 ? blob.size - n * PART_LEN : PART_LEN;
      const body = new Uint8Array(await opts.body.arrayBuffer());
      if (body.length !== want) return json(400, { error: "bad_part" });
      blob.held.set(n, body);
      return json(200, { complete: blob.held.size === blob.parts });
    }
    if (m && opts.method === undefined) {
      log.statusAsks++;
      if (downFor > 0) {
        downFor--;
        throw new TypeError("Failed to fetch");
      }
      return json(200, { size: blob.size, parts: blob.parts, part_len: PART_LEN, received: [...blob.held.keys()].sort((a, b) => a - b), complete: blob.held.size === blob.parts });
    }
    return json(404, { error: "not_found" });
  };
  const sealed = () => {
    const out = new Uint8Array(blob.size);
    for (const [n, bytes] of blob.held) out.set(bytes, n * PART_LEN);
    return out;
  };
  return { fetch, log, sealed };
}

const io = (svc, extra = {}) => ({
  fetch: svc.fetch,
  prove: async (text) => `${text}.AAAAAAAAAAAB`,
  cancelled: () => false,
  wait: async () => {},
  progress: () => {},
  ...extra,
});

test("a 2.5 MB file: three parts, the blob opens to the file, the entry's sizes and hash are right", async () => {
  const f = file(2_500_000);
  const svc = fakeService();
  const done = [];
  const e = await sealAndUpload(partsReader([f.subarray(0, 1000), f.subarray(1000)]), f.length, "north-shire", io(svc, { progress: (n) => done.push(n), inFlight: 1 }));
  assert.equal(e.padded_size, bucketFor(f.length));
  assert.equal(e.size, f.length);
  assert.equal(e.sha256_sent, createHash("sha256").update(f).digest("hex"));
  assert.deepEqual(svc.log.begins[0].body, { force: "north-shire", size: sealedLen(4 * 1024 * 1024) });
  assert.deepEqual(svc.log.puts, [0, 1, 2, 3]);
  assert.deepEqual(done, [1048576, 2097152, 2500000, 2500000], "progress in octets of the file");
  const opened = await open(fromB64url(e.key), e.size, e.padded_size, svc.sealed());
  assert.deepEqual(opened, f);
});

test("a dropped part: the page asks what is held (through an outage) and sends only the rest", async () => {
  const f = file(3_300_000);
  const svc = fakeService({ drop: (n, attempt) => n === 2 && attempt === 1, down: 2 });
  const waits = [];
  const e = await sealAndUpload(partsReader([f]), f.length, "north-shire", io(svc, { wait: async (a) => { waits.push(a); }, inFlight: 1 }));
  assert.deepEqual(svc.log.puts, [0, 1, 2, 2, 3], "parts 0 and 1 are not sent again");
  assert.deepEqual(waits, [0, 1, 2], "waited while the service was down");
  assert.equal(svc.log.statusAsks, 3);
  assert.equal(e.sha256_sent, createHash("sha256").update(f).digest("hex"), "the hash covers each octet once");
  assert.deepEqual(await open(fromB64url(e.key), e.size, e.padded_size, svc.sealed()), f);
});

test("the first part dropped, then the status says none is held: everything from part 0, hashed once", async () => {
  const f = file(1_200_000);
  const svc = fakeService({ drop: (n, attempt) => n === 0 && attempt === 1 });
  const e = await sealAndUpload(blobReader(new Blob([f])), f.length, "north-shire", io(svc, { inFlight: 1 }));
  assert.deepEqual(svc.log.puts, [0, 0, 1]);
  assert.equal(e.sha256_sent, createHash("sha256").update(f).digest("hex"));
});

test("Cancel stops before the next part; giving up while the service is down fails with network", async () => {
  const f = file(3_000_000);
  let stop = false;
  const svc = fakeService();
  await assert.rejects(
    sealAndUpload(partsReader([f]), f.length, "north-shire", io(svc, { progress: () => { stop = true; }, cancelled: () => stop, inFlight: 1 })),
    (e) => e instanceof UploadError && e.code === "cancelled");
  assert.deepEqual(svc.log.puts, [0]);
  const gone = fakeService({ drop: (n) => n === 1, down: 1000 });
  await assert.rejects(
    sealAndUpload(partsReader([f]), f.length, "north-shire", io(gone, { wait: async (a) => { if (a > 3) throw new UploadError("network"); } })),
    (e) => e instanceof UploadError && e.code === "network");
});

test("a refusal is named by the server's code", async () => {
  const svc = fakeService();
  const fetch = async (url, opts) => (url === "/api/v1/blobs" ? json(413, { error: "blob_too_large" }) : svc.fetch(url, opts));
  await assert.rejects(sealAndUpload(partsReader([file(10)]), 10, "north-shire", io(svc, { fetch })), (e) => e.code === "blob_too_large" && e.status === 413);
});

test("limits: count, each file's sealed size, the total", () => {
  const limits = { max_count: 2, max_total_bytes: 250_000_000, max_blob_len: sealedLen(2 ** 28), part_len: PART_LEN };
  assert.equal(checkLimits([10, 20], limits), null);
  assert.deepEqual(checkLimits([1, 2, 3], limits), { code: "too_many", max: 2 });
  assert.deepEqual(checkLimits([10, 2 ** 28 + 1], limits), { code: "too_large", index: 1, max: 250_000_000 });
  assert.deepEqual(checkLimits([200_000_000, 60_000_000], limits), { code: "too_large_total", max: 250_000_000 });
  assert.deepEqual(checkLimits([1], { ...limits, max_count: 0 }), { code: "disabled" });
  assert.deepEqual(checkLimits([2 ** 31], { ...limits, max_blob_len: 2 ** 40 }), { code: "too_large", index: 0, max: 250_000_000 });
});

test("a digest from elsewhere (the page's worker over the File): nothing hashed here, its answer is the entry's", async () => {
  const f = file(1_500_000);
  const svc = fakeService();
  const e = await sealAndUpload(partsReader([f]), f.length, "north-shire", io(svc, { digest: async () => "d".repeat(64) }));
  assert.equal(e.sha256_sent, "d".repeat(64));
  assert.deepEqual(await open(fromB64url(e.key), e.size, e.padded_size, svc.sealed()), f);
});

test("three parts on their way at once: a part dropped among them is the only one sent again", async () => {
  const f = file(6_500_000);
  const svc = fakeService({ drop: (n, attempt) => n === 3 && attempt === 1 });
  const done = [];
  const e = await sealAndUpload(blobReader(new Blob([f])), f.length, "north-shire", io(svc, { inFlight: 3, progress: (n) => done.push(n) }));
  const counts = {};
  for (const n of svc.log.puts) counts[n] = (counts[n] || 0) + 1;
  assert.deepEqual(counts, { 0: 1, 1: 1, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1 }, "8 parts (an 8 MiB bucket), part 3 twice");
  assert.equal(done.at(-1), f.length, "progress ends at the file's size");
  assert.ok(done.every((n, i) => i === 0 || n >= done[i - 1]), "progress never goes back");
  assert.equal(e.sha256_sent, createHash("sha256").update(f).digest("hex"), "each octet hashed once, in order");
  assert.deepEqual(await open(fromB64url(e.key), e.size, e.padded_size, svc.sealed()), f);
});

test("the Blob reader: pieces read in order from one stream, a read elsewhere opens another, the bytes are the file's", async () => {
  const f = file(300_000);
  const read = blobReader(new Blob([f]));
  const buf = new Uint8Array(200_000);
  let v = await read(0, 65536, buf.subarray(0, 65536));
  assert.deepEqual(new Uint8Array(v.buffer, v.byteOffset, 65536), f.subarray(0, 65536));
  v = await read(65536, 1000, new Uint8Array(v.buffer).subarray(70000, 71000));
  assert.deepEqual(new Uint8Array(v.buffer, v.byteOffset, 1000), f.subarray(65536, 66536));
  v = await read(250_000, 50_000, new Uint8Array(v.buffer).subarray(0, 50_000));
  assert.deepEqual(new Uint8Array(v.buffer, v.byteOffset, 50_000), f.subarray(250_000));
  await assert.rejects(read(299_000, 5000, new Uint8Array(5000)), (e) => e instanceof UploadError);
  read.close();
});

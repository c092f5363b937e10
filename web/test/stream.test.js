// Known-answer tests: the page's attachment stream (src/attachments/stream.js)
// against the Rust crate's committed vectors (crypto/tests/vectors/stream-v1.json,
// FORMAT.md#attachment-vectors), so both seal and refuse the same bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createHash, createCipheriv } from "node:crypto";

import * as s from "../src/attachments/stream.js";

const v = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/stream-v1.json", import.meta.url), "utf8"));
const hx = (h) => Uint8Array.from(Buffer.from(h, "hex"));
const toHex = (b) => Buffer.from(b).toString("hex");
const file = (n) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const C = s.SEALED_CHUNK_LEN;
const sealedOf = (c) => s.seal(hx(c.key), file(c.length));

test("the vector file has the cases this suite expects", () => {
  assert.equal(v.chunk_size, s.CHUNK_LEN);
  assert.equal(v.cases.length, 6);
  assert.ok(v.refusals.length >= 15);
});

for (const c of v.cases) {
  test(`seal and open: ${c.name}`, async () => {
    assert.equal(s.bucketFor(c.length), c.padded_size);
    assert.equal(s.sealedLen(c.padded_size), c.sealed_length);
    const sealed = await sealedOf(c);
    assert.equal(sealed.length, c.sealed_length);
    assert.equal(toHex(sealed.subarray(0, 48)), c.sealed_head);
    assert.equal(createHash("sha256").update(sealed).digest("hex"), c.sealed_sha256);
    for (let i = 0; i < c.chunks; i++) {
      assert.equal(toHex(s.nonce(i, i + 1 === c.chunks)), c.nonces[i]);
      assert.equal(toHex(sealed.subarray((i + 1) * C - 16, (i + 1) * C)), c.tags[i]);
    }
    // Independently of noble: Node's OpenSSL ChaCha20-Poly1305 makes the same first chunk.
    const padded = new Uint8Array(s.CHUNK_LEN);
    padded.set(file(c.length).subarray(0, s.CHUNK_LEN));
    const ossl = createCipheriv("chacha20-poly1305", hx(c.key), hx(c.nonces[0]), { authTagLength: 16 });
    const ct = Buffer.concat([ossl.update(padded), ossl.final(), ossl.getAuthTag()]);
    assert.equal(toHex(ct), toHex(sealed.subarray(0, C)));
    assert.deepEqual(await s.open(hx(c.key), c.length, c.padded_size, sealed), file(c.length));
  });
}

function applyOps(sealed, ops, other) {
  let b = sealed;
  const chunk = (x, i) => x.slice(i * C, (i + 1) * C);
  for (const op of ops) {
    switch (op.op) {
      case "truncate_chunks": b = b.slice(0, op.keep * C); break;
      case "truncate_bytes": b = b.slice(0, op.keep); break;
      case "drop_chunk": b = Uint8Array.from([...b.subarray(0, op.index * C), ...b.subarray((op.index + 1) * C)]); break;
      case "append_copy": { const n = new Uint8Array(b.length + C); n.set(b); n.set(chunk(b, op.index), b.length); b = n; break; }
      case "swap": { const a = chunk(b, op.a); b.set(chunk(b, op.b), op.a * C); b.set(a, op.b * C); break; }
      case "copy": b.set(chunk(b, op.from), op.to * C); break;
      case "foreign": b.set(chunk(other(op.from_case), op.index), op.index * C); break;
      case "flip": b[op.offset] ^= op.mask; break;
      default: throw new Error(`unknown op ${op.op}`);
    }
  }
  return b;
}

for (const r of v.refusals) {
  test(`refusal: ${r.name}`, async () => {
    const c = v.cases[r.case];
    const others = await Promise.all(v.cases.map(sealedOf));
    const sealed = applyOps(await sealedOf(c), r.ops, (i) => others[i]);
    await assert.rejects(
      s.open(hx(c.key), r.length ?? c.length, r.padded_size ?? c.padded_size, sealed),
      (e) => {
        assert.equal(e.code, r.error);
        if ("chunk" in r) assert.equal(e.chunk, r.chunk);
        return true;
      },
    );
  });
}

test("streaming: a missing last chunk and a chunk after the last are refused", async () => {
  const c = v.cases[4];
  const sealed = await sealedOf(c);
  const d = new s.Decryptor(hx(c.key), c.length, c.padded_size);
  for (let i = 0; i < 3; i++) await d.openNext(sealed.subarray(i * C, (i + 1) * C));
  assert.throws(() => d.finish(), (e) => e.code === "truncated");
  await d.openNext(sealed.subarray(3 * C));
  d.finish();
  await assert.rejects(d.openNext(sealed.subarray(0, C)), (e) => e.code === "trailing_data");
});

test("the encryptor takes exactly each chunk's share of the file", async () => {
  const e = new s.Encryptor(new Uint8Array(32), 70000);
  assert.equal(e.nextInputLen, 65536);
  await assert.rejects(e.sealNext(new Uint8Array(10)), (x) => x.code === "wrong_chunk_input");
  await e.sealNext(new Uint8Array(65536));
  assert.equal(e.nextInputLen, 70000 - 65536);
  await e.sealNext(new Uint8Array(70000 - 65536));
  assert.ok(e.done);
  assert.throws(() => s.bucketFor(2 ** 30 + 1), (x) => x.code === "too_large");
  assert.equal(s.bucketFor(250_000_000), 2 ** 28);
});

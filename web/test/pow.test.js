// The proof-of-work search (src/pow.js, which the worker runs) against the
// Rust vectors (crypto/tests/vectors/pow-v1.json), with Node's WebCrypto as
// the page uses the browser's, and the worker bundle as the page ships it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, hkdfSync, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";

import {
  BLOCKS, CHALLENGE_LEN, IN_FLIGHT, MAX_DIFFICULTY,
  firstSolvedBlock, leadingZeroBits, nonceBytes, powHeader, solve, toBase64url, workBytes,
} from "../src/pow.js";
import { buildFiles } from "../build.mjs";

const V = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/pow-v1.json", import.meta.url), "utf8"));
const hex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const toHex = (b) => Buffer.from(b).toString("hex");
const sha256 = (b) => new Uint8Array(createHash("sha256").update(b).digest());
const envelope = hex(V.envelope);
const subtle = webcrypto.subtle;
// The header: the challenge (78 characters), then 9 octets (block 1) or 41.
const HEADER = /^[A-Za-z0-9_-]{78}\.([A-Za-z0-9_-]{12}|[A-Za-z0-9_-]{55})$/;

/**
 * FORMAT.md#solution, written out with Node's own HMAC (not the page's
 * code): HMAC(PRK, prev ‖ nonce ‖ block), PRK = HMAC(challenge, SHA-256(envelope)).
 */
function digestOf(challenge, envelopeHash, work) {
  const prk = createHmac("sha256", challenge).update(envelopeHash).digest();
  const block = work[8];
  const prev = work.subarray(9);
  assert.equal(prev.length, block === 1 ? 0 : 32, "prev only for blocks 2–255");
  return new Uint8Array(createHmac("sha256", prk).update(prev).update(work.subarray(0, 8)).update(Uint8Array.of(block)).digest());
}

test("the envelope hash is SHA-256 of the envelope, as the page computes it (WebCrypto)", async () => {
  assert.equal(toHex(sha256(envelope)), V.envelope_hash);
  assert.equal(toHex(new Uint8Array(await subtle.digest("SHA-256", envelope))), V.envelope_hash);
});

test("every vector: the first solving block in nonce order, its work, digest and header", async () => {
  assert.ok(V.cases.length >= 4);
  const hash = hex(V.envelope_hash);
  for (const c of V.cases) {
    const challenge = hex(c.challenge);
    assert.equal(challenge.length, CHALLENGE_LEN, c.name);
    assert.equal(challenge[1], c.difficulty, `${c.name}: the difficulty is the challenge's own`);
    assert.equal(toBase64url(challenge), c.challenge_base64url, c.name);
    const r = await solve(subtle, challenge, hash, c.difficulty);
    assert.equal(toHex(r.work), c.work, `${c.name}: work`);
    assert.equal(toHex(r.work.subarray(0, 8)), c.nonce, `${c.name}: nonce`);
    assert.equal(r.work[8], c.block, `${c.name}: block`);
    assert.equal(toHex(r.digest), c.digest, `${c.name}: digest`);
    assert.equal(r.tries, Number(BigInt(`0x${c.nonce}`)) * BLOCKS + c.block, `${c.name}: tries counted in blocks`);
    assert.equal(leadingZeroBits(r.digest), c.leading_zero_bits, c.name);
    assert.ok(leadingZeroBits(r.digest) >= c.difficulty);
    assert.equal(toHex(digestOf(challenge, hash, r.work)), c.digest, `${c.name}: one HMAC checks it, as the server does`);
    const header = powHeader(c.challenge_base64url, r.work);
    assert.equal(header, c.header, `${c.name}: header`);
    assert.match(header, HEADER);
  }
});

test("a block is HKDF-SHA256-Expand(Extract(challenge, SHA-256(envelope)), info = nonce), as Node computes it", async () => {
  const challenge = hex(V.cases[2].challenge);
  const hash = hex(V.envelope_hash);
  const okm = new Uint8Array(hkdfSync("sha256", hash, challenge, nonceBytes(7), BLOCKS * 32));
  for (const i of [0, 1, 100, 254]) {
    const work = workBytes(7, okm, i);
    assert.equal(work.length, i ? 41 : 9);
    assert.deepEqual(digestOf(challenge, hash, work), okm.subarray(i * 32, i * 32 + 32), `block ${i + 1}`);
  }
});

test("searchers sharing the nonces (start, stride) find solutions only in their own share", async () => {
  const c = V.cases.find((x) => x.difficulty === 16);
  const challenge = hex(c.challenge);
  const hash = hex(V.envelope_hash);
  for (const [start, stride] of [[0, 2], [1, 2], [3, 4]]) {
    const r = await solve(subtle, challenge, hash, 16, { start, stride });
    const n = Number(new DataView(r.work.buffer).getBigUint64(0));
    assert.equal((n - start) % stride, 0, `start ${start}, stride ${stride}: nonce ${n}`);
    assert.ok(leadingZeroBits(digestOf(challenge, hash, r.work)) >= 16);
  }
});

test("a search that stops before the solution finds none and says how far it went; progress after each nonce; stop", async () => {
  const c = V.cases.find((x) => x.difficulty === 16);
  const n = Number(BigInt(`0x${c.nonce}`));
  assert.ok(n >= 2, "the vector's solution is a few nonces in");
  const hash = hex(V.envelope_hash);
  const seen = [];
  const short = await solve(subtle, hex(c.challenge), hash, 16, { maxNonces: n, onProgress: (t) => seen.push(t) });
  assert.deepEqual(short, { work: null, digest: null, tries: n * BLOCKS });
  assert.deepEqual(seen, Array.from({ length: n }, (_, i) => (i + 1) * BLOCKS));
  const resumed = await solve(subtle, hex(c.challenge), hash, 16, { start: n, maxNonces: 1 });
  assert.equal(toHex(resumed.work), c.work, "resuming at the solution's nonce finds it at once");
  let asked = 0;
  const stopped = await solve(subtle, hex(c.challenge), hash, 32, { stopped: () => ++asked > IN_FLIGHT + 2 });
  assert.equal(stopped.work, null);
  assert.equal(stopped.tries, (IN_FLIGHT + 2) * BLOCKS, "what was asked before the stop is judged, nothing more");
});

test("the nonce is a u64 big-endian counter, carrying into the high half", () => {
  for (const n of [0, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
    assert.equal(toHex(nonceBytes(n)), n.toString(16).padStart(16, "0"), `nonce ${n}`);
  }
});

test("firstSolvedBlock judges each block by its leading zero bits", () => {
  const okm = new Uint8Array(BLOCKS * 32).fill(0xff);
  assert.equal(firstSolvedBlock(okm, 1), -1);
  assert.equal(firstSolvedBlock(okm, 0), 0, "difficulty 0: the first block");
  okm[5 * 32] = 0x00; okm[5 * 32 + 1] = 0x01; // 15 zero bits in block 6
  okm[9 * 32] = 0; okm[9 * 32 + 1] = 0; okm[9 * 32 + 2] = 0; okm[9 * 32 + 3] = 0; // 32 in block 10
  assert.equal(firstSolvedBlock(okm, 15), 5);
  assert.equal(firstSolvedBlock(okm, 16), 9);
  assert.equal(firstSolvedBlock(okm, 32), 9);
  assert.equal(firstSolvedBlock(okm.subarray(32 * 6), 16), 3, "a view into a larger buffer");
});

test("the refusal 'solution for another envelope': a solution for this envelope is none for the other", () => {
  const r = V.refusals.find((x) => x.error === "pow_insufficient");
  assert.equal(r.envelope, "another");
  const [text, workText] = r.header.split(".");
  const challenge = Buffer.from(text, "base64url");
  const work = new Uint8Array(Buffer.from(workText, "base64url"));
  const another = Uint8Array.from(envelope);
  another[0] ^= 1; // the vectors' "another" envelope
  assert.ok(leadingZeroBits(digestOf(challenge, sha256(envelope), work)) >= challenge[1], "solves the vector envelope");
  assert.ok(leadingZeroBits(digestOf(challenge, sha256(another), work)) < challenge[1], "not the other");
});

test("leadingZeroBits: from the most significant bit of the first octet", () => {
  const z = (arr) => leadingZeroBits(Uint8Array.from(arr));
  assert.equal(z([0x80]), 0);
  assert.equal(z([0xff, 0]), 0);
  assert.equal(z([0x7f]), 1);
  assert.equal(z([0x01]), 7);
  assert.equal(z([0x00, 0x80]), 8);
  assert.equal(z([0x00, 0x01]), 15);
  assert.equal(z([0, 0, 0, 0x10]), 27);
  assert.equal(z([0, 0, 0, 0, 0x01, 0xff]), 39);
  assert.equal(z(new Array(32).fill(0)), 256);
  assert.equal(z([]), 0);
  for (let bit = 0; bit < 256; bit++) {
    const d = new Uint8Array(32);
    d[bit >> 3] = 0x80 >> (bit & 7);
    d[31] |= 1; // lower bits set do not count
    assert.equal(leadingZeroBits(d), bit, `bit ${bit}`);
  }
});

test("a fresh solve at difficulty 14 verifies, and its header has the format of FORMAT.md", async () => {
  const challenge = webcrypto.getRandomValues(new Uint8Array(CHALLENGE_LEN));
  challenge[0] = 1;
  challenge[1] = 14;
  const env = webcrypto.getRandomValues(new Uint8Array(1024));
  const hash = sha256(env);
  const r = await solve(subtle, challenge, hash, 14);
  assert.ok(r.work && r.tries >= 1);
  const digest = digestOf(challenge, hash, r.work);
  assert.deepEqual(digest, r.digest);
  assert.ok(leadingZeroBits(digest) >= 14, `${toHex(digest)} has 14 leading zero bits`);
  const text = toBase64url(challenge);
  assert.equal(text.length, 78);
  const header = powHeader(text, r.work);
  assert.match(header, HEADER);
  const [c, w] = header.split(".");
  assert.equal(c, text, "the challenge exactly as received");
  assert.deepEqual(new Uint8Array(Buffer.from(w, "base64url")), r.work);
  // Another envelope: this work is (almost surely) no solution for it.
  assert.notDeepEqual(digestOf(challenge, sha256(Uint8Array.of(1, 2, 3)), r.work), digest);
});

test("solve refuses what is not a challenge, an envelope hash, a difficulty or a share", async () => {
  const c = new Uint8Array(CHALLENGE_LEN);
  const h = new Uint8Array(32);
  for (const args of [[c.subarray(1), h, 0], [c, h.subarray(1), 0], [c, h, MAX_DIFFICULTY + 1], [c, h, -1],
    [c, h, 0, { start: -1 }], [c, h, 0, { start: 2 ** 53 }], [c, h, 0, { stride: 0 }]]) {
    await assert.rejects(solve(subtle, ...args), RangeError);
  }
});

test("toBase64url is RFC 4648 base64url without padding", () => {
  for (let n = 0; n < 70; n++) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 151 + n * 7) & 255);
    assert.equal(toBase64url(b), Buffer.from(b).toString("base64url"));
  }
});

/** Run the built pow-worker.js in a fresh context with a stand-in `self` and Node's WebCrypto. */
function loadWorker(source, crypto = webcrypto) {
  const posted = [];
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const self = { postMessage: (m) => { posted.push(m); if (m.header || m.error) done(); } };
  runInNewContext(source, { self, crypto, Date, btoa });
  assert.equal(typeof self.onmessage, "function", "the worker listens for a message");
  return { self, posted, finished };
}

test("the worker as built answers each vector challenge with the vector's header", async () => {
  const files = await buildFiles();
  const source = Buffer.from(files["pow-worker.js"]).toString("utf8");
  assert.ok(!/sha256|_SHA256|noble/i.test(source), "no SHA-256 of its own: WebCrypto does the hashing");
  for (const c of V.cases) {
    const { self, posted, finished } = loadWorker(source);
    self.onmessage({ data: { challenge: hex(c.challenge), text: c.challenge_base64url, envelopeHash: hex(V.envelope_hash) } });
    await finished;
    const last = posted.at(-1);
    assert.equal(last.header, c.header, c.name);
    assert.equal(last.tries, Number(BigInt(`0x${c.nonce}`)) * BLOCKS + c.block, c.name);
    for (const m of posted.slice(0, -1)) assert.deepEqual(Object.keys(m), ["tries"], "progress messages carry only the count");
  }
  // A browser without HKDF in WebCrypto: the worker says so instead of hanging.
  const noHkdf = { subtle: { importKey: async () => { throw new Error("NotSupportedError"); } } };
  const { self, posted, finished } = loadWorker(source, noHkdf);
  self.onmessage({ data: { challenge: hex(V.cases[1].challenge), text: "x", envelopeHash: hex(V.envelope_hash), start: 1, stride: 2 } });
  await finished;
  assert.deepEqual(JSON.parse(JSON.stringify(posted)), [{ error: true }]);
});

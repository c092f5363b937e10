// The proof-of-work search (src/pow.js, which the worker runs) against the
// Rust vectors (crypto/tests/vectors/pow-v1.json), and the worker bundle as
// the page ships it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";

import { leadingZeroBits, powHeader, solve, toBase64url, CHALLENGE_LEN, MAX_DIFFICULTY } from "../src/pow.js";
import { buildFiles } from "../build.mjs";

const V = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/pow-v1.json", import.meta.url), "utf8"));
const hex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const toHex = (b) => Buffer.from(b).toString("hex");
const sha256 = (...parts) => new Uint8Array(createHash("sha256").update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest());
const envelope = hex(V.envelope);
const HEADER = /^[A-Za-z0-9_-]{78}\.[A-Za-z0-9_-]{11}$/;

test("the envelope hash is SHA-256 of the envelope, as the page computes it (WebCrypto)", async () => {
  assert.equal(toHex(sha256(envelope)), V.envelope_hash);
  assert.equal(toHex(new Uint8Array(await webcrypto.subtle.digest("SHA-256", envelope))), V.envelope_hash);
});

test("every vector: the first nonce counting from 0, its digest and the header", () => {
  assert.ok(V.cases.length >= 4);
  const hash = hex(V.envelope_hash);
  for (const c of V.cases) {
    const challenge = hex(c.challenge);
    assert.equal(challenge.length, CHALLENGE_LEN, c.name);
    assert.equal(challenge[1], c.difficulty, `${c.name}: the difficulty is the challenge's own`);
    assert.equal(toBase64url(challenge), c.challenge_base64url, c.name);
    const r = solve(challenge, hash, c.difficulty);
    assert.equal(toHex(r.nonce), c.nonce, `${c.name}: nonce`);
    assert.equal(toHex(r.digest), c.digest, `${c.name}: digest`);
    assert.equal(r.tries, Number(BigInt(`0x${c.nonce}`)) + 1, `${c.name}: counted up from 0`);
    assert.equal(leadingZeroBits(r.digest), c.leading_zero_bits, c.name);
    assert.ok(leadingZeroBits(r.digest) >= c.difficulty);
    // The digest is SHA-256(challenge ‖ SHA-256(envelope) ‖ nonce), all 98 octets.
    assert.equal(toHex(sha256(challenge, hash, r.nonce)), c.digest, c.name);
    const header = powHeader(c.challenge_base64url, r.nonce);
    assert.equal(header, c.header, `${c.name}: header`);
    assert.match(header, HEADER);
  }
});

test("a search that starts past the solution, or stops before it, finds none (and says how far it went)", () => {
  const c = V.cases.find((x) => x.difficulty >= 8);
  const n = Number(BigInt(`0x${c.nonce}`));
  const hash = hex(V.envelope_hash);
  const short = solve(hex(c.challenge), hash, c.difficulty, { maxTries: n });
  assert.deepEqual(short, { nonce: null, digest: null, tries: n });
  const resumed = solve(hex(c.challenge), hash, c.difficulty, { start: n, maxTries: 1 });
  assert.equal(toHex(resumed.nonce), c.nonce, "resuming at the solution finds it at once");
  assert.equal(resumed.tries, 1);
});

test("the nonce is a u64 big-endian counter, carrying into the high half", () => {
  const challenge = hex(V.cases[0].challenge);
  const hash = hex(V.envelope_hash);
  for (const start of [0, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
    const r = solve(challenge, hash, 0, { start });
    assert.equal(toHex(r.nonce), start.toString(16).padStart(16, "0"), `start ${start}`);
    assert.equal(toHex(r.digest), toHex(sha256(challenge, hash, r.nonce)));
  }
});

test("the refusal 'solution for another envelope': a solution for this envelope is none for the other", () => {
  const r = V.refusals.find((x) => x.error === "pow_insufficient");
  assert.equal(r.envelope, "another");
  const [text, nonceText] = r.header.split(".");
  const challenge = Buffer.from(text, "base64url");
  const nonce = Buffer.from(nonceText, "base64url");
  const another = Uint8Array.from(envelope);
  another[0] ^= 1; // the vectors' "another" envelope
  assert.ok(leadingZeroBits(sha256(challenge, sha256(envelope), nonce)) >= challenge[1], "solves the vector envelope");
  assert.ok(leadingZeroBits(sha256(challenge, sha256(another), nonce)) < challenge[1], "not the other");
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

test("a fresh solve at difficulty 12 verifies, and its header has the format of FORMAT.md", () => {
  const challenge = new Uint8Array(CHALLENGE_LEN);
  webcrypto.getRandomValues(challenge);
  challenge[0] = 1;
  challenge[1] = 12;
  const env = webcrypto.getRandomValues(new Uint8Array(1024));
  const hash = sha256(env);
  const r = solve(challenge, hash, 12);
  assert.ok(r.nonce && r.tries >= 1);
  const digest = sha256(challenge, hash, r.nonce);
  assert.deepEqual(digest, r.digest);
  assert.ok(leadingZeroBits(digest) >= 12, `${toHex(digest)} has 12 leading zero bits`);
  const text = toBase64url(challenge);
  assert.equal(text.length, 78);
  const header = powHeader(text, r.nonce);
  assert.match(header, HEADER);
  const [c, n] = header.split(".");
  assert.equal(c, text, "the challenge exactly as received");
  assert.deepEqual(new Uint8Array(Buffer.from(n, "base64url")), r.nonce);
  // Another envelope: this nonce is (almost surely) no solution for it.
  const other = sha256(challenge, sha256(Uint8Array.of(1, 2, 3)), r.nonce);
  assert.notDeepEqual(other, digest);
});

test("solve refuses what is not a challenge, an envelope hash or a difficulty", () => {
  const c = new Uint8Array(CHALLENGE_LEN);
  const h = new Uint8Array(32);
  assert.throws(() => solve(c.subarray(1), h, 0), RangeError);
  assert.throws(() => solve(c, h.subarray(1), 0), RangeError);
  assert.throws(() => solve(c, h, MAX_DIFFICULTY + 1), RangeError);
  assert.throws(() => solve(c, h, -1), RangeError);
  assert.throws(() => solve(c, h, 0, { start: -1 }), RangeError);
  assert.throws(() => solve(c, h, 0, { start: 2 ** 53 }), RangeError);
});

test("toBase64url is RFC 4648 base64url without padding", () => {
  for (let n = 0; n < 70; n++) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 151 + n * 7) & 255);
    assert.equal(toBase64url(b), Buffer.from(b).toString("base64url"));
  }
});

/** Run the built pow-worker.js in a fresh context with a stand-in `self`. */
function loadWorker(source) {
  const posted = [];
  const self = { postMessage: (m) => posted.push(m) };
  runInNewContext(source, { self, Date, Uint8Array, DataView, Math, btoa, Number, RangeError, Error, TypeError, Object, String, Array, ArrayBuffer, Uint32Array });
  assert.equal(typeof self.onmessage, "function", "the worker listens for a message");
  return { self, posted };
}

test("the worker as built answers each vector challenge with the vector's header", async () => {
  const files = await buildFiles();
  const source = Buffer.from(files["pow-worker.js"]).toString("utf8");
  for (const c of V.cases) {
    const { self, posted } = loadWorker(source);
    self.onmessage({ data: { challenge: hex(c.challenge), text: c.challenge_base64url, envelopeHash: hex(V.envelope_hash) } });
    const last = posted.at(-1);
    assert.equal(last.header, c.header, c.name);
    assert.equal(last.tries, Number(BigInt(`0x${c.nonce}`)) + 1, c.name);
    for (const m of posted.slice(0, -1)) assert.deepEqual(Object.keys(m), ["tries"], "progress messages carry only the count");
  }
});

// The check before sealing (src/keycheck.js): statements against
// crypto/tests/vectors/statement-v1.json, the Merkle tree against the
// RFC 6962 reference leaves (the 8 used by the Go/Trillian merkle tests),
// proofs of every size up to 20 against a tree computed here (RFC 9162
// §2.1.3.1 / §2.1.4.1), signed-note checkpoints, and checkBeforeSeal end to
// end against a fake key log. When H1's crypto/tests/vectors/keylog-v1.json
// is there, its roots and proofs too.

import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as ed from "@noble/ed25519";
import { sha256 } from "@noble/hashes/sha2.js";
import * as K from "../src/keycheck.js";

const vectors = (name) => new URL(`../../crypto/tests/vectors/${name}`, import.meta.url);
const V = JSON.parse(readFileSync(vectors("statement-v1.json"), "utf8"));
const fromHex = (h) => Uint8Array.from(Buffer.from(h, "hex"));
const toHex = (b) => Buffer.from(b).toString("hex");
const b64u = (b) => Buffer.from(b).toString("base64url");
const b64 = (b) => Buffer.from(b).toString("base64");
const te = new TextEncoder();

const setOf = (indexes, threshold) => K.signerSet({ threshold, signers: indexes.map((i) => b64u(fromHex(V.signers[i].public_key))) });
const code = (f) => {
  try {
    f();
  } catch (e) {
    if (e instanceof K.CheckError) return e.code;
    throw e;
  }
  return "ok";
};

test("signer ids of the vectors' signing keys", () => {
  for (const s of V.signers) {
    assert.equal(toHex(K.signerId(fromHex(s.public_key))), s.signer_id);
    assert.equal(toHex(ed.getPublicKey(fromHex(s.seed))), s.public_key);
  }
});

test("every vector statement verifies, with its fields; not_current outside its days", () => {
  for (const c of V.cases) {
    const st = c.statement;
    const set = setOf(c.signer_set, c.threshold);
    const got = K.verifyStatement(fromHex(st.signed), set, st.force, st.valid_from);
    assert.equal(toHex(got.keyId), st.key_id, c.name);
    assert.equal(toHex(got.publicKey).slice(0, 64), st.public_key.slice(0, 64), c.name);
    assert.equal(got.sequence, BigInt(st.sequence));
    assert.equal(got.validUntil, st.valid_until);
    assert.equal(toHex(sha256(got.body)), st.hash, c.name);
    assert.deepEqual(K.fromBase64url(st.signed_base64url), fromHex(st.signed));
    assert.equal(code(() => K.verifyStatement(fromHex(st.signed), set, st.force, st.valid_until)), "ok");
    assert.equal(code(() => K.verifyStatement(fromHex(st.signed), set, st.force, st.valid_from - 1)), "not_current", c.name);
    assert.equal(code(() => K.verifyStatement(fromHex(st.signed), set, st.force, st.valid_until + 1)), "not_current", c.name);
  }
});

test("every vector refusal fails with its code, in the format's order", () => {
  for (const r of V.refusals) {
    assert.equal(code(() => K.verifyStatement(fromHex(r.signed), setOf(r.signer_set, r.threshold), r.force, undefined)), r.error, r.name);
  }
});

test("a statement signed by a key that is not pinned is refused", () => {
  const first = V.cases[0];
  // Pinned: signer B only; the statement is signed by A.
  assert.equal(code(() => K.verifyStatement(fromHex(first.statement.signed), setOf([1], 1), "demo")), "unknown_signer");
});

test("strict Ed25519: non-canonical S and small-order keys are refused", () => {
  const seed = fromHex(V.signers[0].seed);
  const msg = te.encode("m");
  const sig = ed.sign(msg, seed);
  const pk = ed.getPublicKey(seed);
  assert.ok(K.verifyStrict(sig, msg, pk));
  // S + L: the same signature, non-canonical.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = s * 256n + BigInt(sig[i]);
  s += L;
  const bad = sig.slice();
  for (let i = 32; i < 64; i++) { bad[i] = Number(s & 255n); s >>= 8n; }
  assert.ok(!K.verifyStrict(bad, msg, pk));
  // The identity point as the key (small order).
  const identity = new Uint8Array(32);
  identity[0] = 1;
  assert.ok(!K.verifyStrict(sig, msg, identity));
  assert.equal(code(() => K.signerSet({ threshold: 1, signers: [b64u(identity)] })), "bad_pins");
});

test("pins: shape checked; the built-in pins name demo and demo-west; every pinned set is valid", async () => {
  assert.equal(K.pins.version, 1);
  for (const id of ["demo", "demo-west"]) assert.equal(K.signerSet(K.pins.forces[id]).threshold, 1);
  for (const [id, pin] of Object.entries(K.pins.forces)) {
    assert.match(id, /^[a-z0-9-]{1,64}$/, "a force id");
    K.signerSet(pin);
  }
  // Pins of another version refuse, rather than leave every force unchecked.
  await assert.rejects(K.checkBeforeSeal({ fetch: async () => { throw new Error("no"); }, force: { id: "north" }, pinSet: { version: 2, forces: {} } }), (e) => e.code === "bad_pins");
  assert.equal(code(() => K.signerSet({ threshold: 2, signers: [b64u(fromHex(V.signers[0].public_key))] })), "bad_pins");
  assert.equal(code(() => K.signerSet({ threshold: 1, signers: [] })), "bad_pins");
  const a = b64u(fromHex(V.signers[0].public_key));
  assert.equal(code(() => K.signerSet({ threshold: 1, signers: [a, a] })), "bad_pins");
});

// ---------------------------------------------------------------- Merkle

// RFC 6962 reference leaves (Go/Trillian merkle tests, certificate-transparency-go
// merkle/testonly), with the roots of each prefix they list.
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(fromHex);
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

test("tree roots match the RFC 6962 reference vectors", () => {
  assert.equal(toHex(K.rootOf([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (let n = 1; n <= 8; n++) assert.equal(toHex(K.rootOf(LEAVES.slice(0, n))), ROOTS[n - 1], `size ${n}`);
});

// RFC 9162 §2.1.3.1 PATH and §2.1.4.1 PROOF, here only to make proofs.
const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
function path(m, d) {
  if (d.length <= 1) return [];
  const k = split(d.length);
  return m < k ? [...path(m, d.slice(0, k)), K.rootOf(d.slice(k))] : [...path(m - k, d.slice(k)), K.rootOf(d.slice(0, k))];
}
function subproof(m, d, b) {
  if (m === d.length) return b ? [] : [K.rootOf(d)];
  const k = split(d.length);
  return m <= k ? [...subproof(m, d.slice(0, k), b), K.rootOf(d.slice(k))] : [...subproof(m - k, d.slice(k), false), K.rootOf(d.slice(0, k))];
}
const consistency = (m, d) => (m === 0 || m === d.length ? [] : subproof(m, d, true));
const entries = Array.from({ length: 20 }, (_, i) => te.encode(`entry ${i}`));
const flip = (p, i) => p.map((h, j) => (j === i ? Uint8Array.from(h, (x, k) => (k === 0 ? x ^ 1 : x)) : h));

test("inclusion proofs of every leaf in trees of 1 to 20 verify; any altered hash or index fails", () => {
  for (let n = 1; n <= 20; n++) {
    const d = entries.slice(0, n);
    const root = K.rootOf(d);
    for (let m = 0; m < n; m++) {
      const p = path(m, d);
      const leaf = K.leafHash(d[m]);
      assert.ok(K.verifyInclusion(m, n, leaf, p, root), `${m} in ${n}`);
      for (let i = 0; i < p.length; i++) assert.ok(!K.verifyInclusion(m, n, leaf, flip(p, i), root));
      assert.ok(!K.verifyInclusion(m, n, K.leafHash(te.encode("other")), p, root));
      if (n > 1) assert.ok(!K.verifyInclusion((m + 1) % n, n, leaf, p, root));
      assert.ok(!K.verifyInclusion(m, m, leaf, p, root));
      assert.ok(!K.verifyInclusion(m, n, leaf, [...p, root], root));
    }
  }
});

test("consistency proofs between every pair of sizes up to 20 verify; altered ones and a shrunk log fail", () => {
  for (let n = 1; n <= 20; n++) {
    const d = entries.slice(0, n);
    for (let m = 0; m <= n; m++) {
      const p = consistency(m, d);
      const r1 = K.rootOf(d.slice(0, m));
      const r2 = K.rootOf(d);
      assert.ok(K.verifyConsistency(m, n, r1, r2, p), `${m} → ${n}`);
      for (let i = 0; i < p.length; i++) assert.ok(!K.verifyConsistency(m, n, r1, r2, flip(p, i)), `${m} → ${n} altered at ${i}`);
      if (m > 0 && m < n) {
        // A rewritten history: the first tree's root is of other entries.
        const other = [...d.slice(0, m - 1), te.encode("rewritten")];
        assert.ok(!K.verifyConsistency(m, n, K.rootOf(other), r2, p));
        assert.ok(!K.verifyConsistency(n, m, r2, r1, p));
      }
    }
  }
  assert.ok(!K.verifyConsistency(3, 3, K.rootOf(entries.slice(0, 3)), K.rootOf(entries.slice(1, 4)), []));
});

// ---------------------------------------------------------------- checkpoints

const LOG_SEED = fromHex("11".repeat(32));
const ORIGIN = "quietline.test/keylog";
function vkeyLine(name = ORIGIN, seed = LOG_SEED) {
  const k = Uint8Array.of(1, ...ed.getPublicKey(seed));
  const id = sha256(Uint8Array.of(...te.encode(name), 0x0a, ...k)).slice(0, 4);
  return `${name}+${toHex(id)}+${b64(k)}`;
}
function checkpoint(size, root, { name = ORIGIN, seed = LOG_SEED } = {}) {
  const body = `${name}\n${size}\n${b64(root)}\n`;
  const k = Uint8Array.of(1, ...ed.getPublicKey(seed));
  const id = sha256(Uint8Array.of(...te.encode(name), 0x0a, ...k)).slice(0, 4);
  const sig = ed.sign(te.encode(body), seed);
  return `${body}\n\u2014 ${name} ${b64(Uint8Array.of(...id, ...sig))}\n`;
}

test("a signed checkpoint verifies with its key and not with another or when altered", () => {
  const root = K.rootOf(entries.slice(0, 5));
  const vkey = K.parseVkey(vkeyLine());
  const note = checkpoint(5, root);
  const cp = K.verifyCheckpoint(note, vkey);
  assert.equal(cp.size, 5);
  assert.deepEqual(cp.root, root);
  assert.equal(code(() => K.verifyCheckpoint(note.replace("\n5\n", "\n6\n"), vkey)), "bad_checkpoint");
  assert.equal(code(() => K.verifyCheckpoint(checkpoint(5, root, { seed: fromHex("22".repeat(32)) }), vkey)), "bad_checkpoint");
  assert.equal(code(() => K.parseVkey(vkeyLine().replace(/\+[0-9a-f]{8}\+/, "+00000000+"))), "bad_log_key");
  assert.equal(code(() => K.verifyCheckpoint("nonsense", vkey)), "bad_checkpoint");
});

// ---------------------------------------------------------------- checkBeforeSeal end to end

/** A key log server in memory: the given statements (signed octets), served as H1's routes. */
function fakeLog(log) {
  return async (url) => {
    const u = new URL(url, "http://page.test");
    const d = log.entries;
    const ok = (body) => ({ ok: true, status: 200, text: async () => body, json: async () => body });
    switch (u.pathname) {
      case "/api/v1/keylog/key": return ok(vkeyLine());
      case "/api/v1/keylog/checkpoint": return ok(checkpoint(d.length, K.rootOf(d)));
      case "/api/v1/keylog/proof/inclusion": {
        const i = +u.searchParams.get("index");
        const n = +u.searchParams.get("size");
        if (i >= n || n > d.length) return { ok: false, status: 400 };
        return ok({ index: i, size: n, hashes: path(i, d.slice(0, n)).map(b64u) });
      }
      case "/api/v1/keylog/proof/consistency": {
        const m = +u.searchParams.get("from");
        const n = +u.searchParams.get("to");
        if (m > n || n > d.length) return { ok: false, status: 400 };
        return ok({ from: m, to: n, hashes: consistency(m, d.slice(0, n)).map(b64u) });
      }
      default: return { ok: false, status: 404 };
    }
  };
}

const A = V.cases[0].statement;
const pinsA = { version: 1, forces: { demo: { threshold: 1, signers: [b64u(fromHex(V.signers[0].public_key))] } } };
const forceA = (over = {}) => ({ id: "demo", publicKey: fromHex(A.public_key), statement: A.signed_base64url, logIndex: 1, ...over });

async function check(log, force, { first, today = A.valid_from, pinSet = pinsA } = {}) {
  try {
    const r = await K.checkBeforeSeal({ fetch: fakeLog(log), force, first, today, pinSet });
    return r.pinned ? "ok" : "unpinned";
  } catch (e) {
    if (e instanceof K.CheckError) return e.code;
    throw e;
  }
}

test("checkBeforeSeal: the pinned force's logged statement passes; a force not pinned is left as before", async () => {
  const log = { entries: [te.encode("another force's statement"), fromHex(A.signed), te.encode("x")] };
  const first = await K.firstSeen(fakeLog(log));
  assert.equal(await check(log, forceA(), { first }), "ok");
  assert.equal(await check(log, forceA(), {}), "ok");
  assert.equal(await check(log, { ...forceA(), id: "north" }, { first }), "unpinned");
  // The log grew between load and sending: consistent, still fine.
  log.entries.push(te.encode("later"), te.encode("later still"));
  assert.equal(await check(log, forceA(), { first }), "ok");
});

test("checkBeforeSeal refuses a substituted key, a bare key, a key not current, a key outside the log, a rewritten log", async () => {
  const log = { entries: [te.encode("e0"), fromHex(A.signed), te.encode("e2")] };
  const first = await K.firstSeen(fakeLog(log));
  // A key of the platform's own, served bare.
  assert.equal(await check(log, forceA({ statement: undefined, publicKey: new Uint8Array(32).fill(7) }), { first }), "no_statement");
  // The force's statement beside a key it did not sign.
  assert.equal(await check(log, forceA({ publicKey: new Uint8Array(32).fill(7) }), { first }), "key_mismatch");
  // A statement signed (also) by a key outside the pins (the vectors' 2-of-3 statement, by C and A).
  const other = V.cases.find((c) => c.signer_set.length === 3);
  assert.equal(await check(log, forceA({ statement: other.statement.signed_base64url, publicKey: fromHex(other.statement.public_key) }), { first, pinSet: pinsA }), "unknown_signer");
  assert.equal(await check(log, forceA(), { first, today: A.valid_until + 1 }), "not_current");
  assert.equal(await check(log, forceA({ logIndex: 0 }), { first }), "not_in_log");
  assert.equal(await check(log, forceA({ logIndex: 7 }), { first }), "not_in_log");
  assert.equal(await check(log, forceA({ logIndex: undefined }), { first }), "not_in_log");
  // Rewritten since the page loaded: an entry changed, then the log grown past it.
  log.entries[0] = te.encode("changed");
  assert.equal(await check(log, forceA(), { first }), "log_inconsistent");
  log.entries.push(te.encode("e3"));
  assert.equal(await check(log, forceA(), { first }), "log_inconsistent");
  // Shrunk since.
  const shrunk = { entries: [te.encode("e0"), fromHex(A.signed)] };
  assert.equal(await check(shrunk, forceA(), { first }), "log_inconsistent");
  // The network failing is a failure too.
  const down = async () => { throw new TypeError("offline"); };
  await assert.rejects(K.checkBeforeSeal({ fetch: down, force: forceA(), first, today: A.valid_from, pinSet: pinsA }), (e) => e.code === "unreachable");
});

const keylogVectors = vectors("keylog-v1.json");
test("H1's key log vectors (crypto/tests/vectors/keylog-v1.json): leaves, roots, proofs, checkpoints, refusals", { skip: !existsSync(keylogVectors) && "keylog-v1.json not merged yet" }, () => {
  const KV = JSON.parse(readFileSync(keylogVectors, "utf8"));
  const entries = KV.entries.map(fromHex);
  entries.forEach((e, i) => assert.equal(toHex(K.leafHash(e)), KV.leaf_hashes[i]));
  for (const r of KV.roots) assert.equal(toHex(K.rootOf(entries.slice(0, r.size))), r.root, `root of ${r.size}`);
  const root = (n) => fromHex(KV.roots.find((r) => r.size === n).root);
  for (const p of KV.inclusion) {
    const hashes = p.hashes.map(fromHex);
    assert.ok(K.verifyInclusion(p.index, p.size, K.leafHash(entries[p.index]), hashes, root(p.size)), `inclusion ${p.index} in ${p.size}`);
    for (let i = 0; i < hashes.length; i++) assert.ok(!K.verifyInclusion(p.index, p.size, K.leafHash(entries[p.index]), flip(hashes, i), root(p.size)));
  }
  for (const p of KV.consistency) {
    const hashes = p.hashes.map(fromHex);
    assert.ok(K.verifyConsistency(p.from, p.to, root(p.from), root(p.to), hashes), `consistency ${p.from} → ${p.to}`);
    for (let i = 0; i < hashes.length; i++) assert.ok(!K.verifyConsistency(p.from, p.to, root(p.from), root(p.to), flip(hashes, i)));
  }
  const vkey = K.parseVkey(KV.log_key.vkey);
  assert.equal(toHex(vkey.id), KV.log_key.key_id);
  assert.equal(toHex(vkey.publicKey), KV.log_key.public_key);
  assert.equal(vkeyLine(KV.log_key.origin, fromHex(KV.log_key.seed)), KV.log_key.vkey, "the same vkey from the seed here");
  for (const c of KV.checkpoints) {
    const cp = K.verifyCheckpoint(c.note, vkey);
    assert.equal(cp.size, c.size);
    assert.equal(toHex(cp.root), c.root);
    assert.equal(c.note, checkpoint(c.size, cp.root, { name: KV.log_key.origin, seed: fromHex(KV.log_key.seed) }), "signed the same here");
  }
  for (const r of KV.refusals) {
    if (r.note !== undefined) assert.equal(code(() => K.verifyCheckpoint(r.note, vkey)), "bad_checkpoint", r.name);
  }
});

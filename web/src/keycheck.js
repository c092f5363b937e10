// The check before sealing (issue 20, part 3): for a force the page pins
// (web/pins.json, built into this bundle), the key the directory serves must
// come with a key statement signed by the pinned signing keys
// (../../crypto/FORMAT.md#verifying-a-statement), be the key the page is
// about to seal to, be current today, and be in the key log
// (FORMAT.md#key-log) under the current checkpoint, which must be
// consistent with the first checkpoint this page load saw. Owns parsing and
// verifying statements, signed-note checkpoints and RFC 9162 Merkle proofs,
// and the order of the checks. Does not: touch the DOM, say anything to the
// reporter (app.js maps the codes to words), keep anything across page
// loads (threat-model/adversaries.md says why), or check a force that is
// not pinned (it is unprotected, as before: the caller seals as today).
//
// A bundle of its own (served as /keycheck.js, fetched just before sealing,
// like pq.js): Ed25519 (@noble/ed25519) and SHA-256/512 (@noble/hashes)
// would not fit the first load's budget. It registers
// globalThis.QuietlineKeycheck; node --test imports it as a module.

import * as ed from "@noble/ed25519";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import PINS from "../pins.json" with { type: "json" };

ed.hashes.sha512 = sha512;

const te = new TextEncoder();
const enc = (s) => te.encode(s);
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
};
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** A failed check: `code` is a FORMAT.md statement error or one of this file's (README: the page check). */
export class CheckError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}
const fail = (code) => { throw new CheckError(code); };

/** base64url without padding (the directory's and the log's) → bytes; throws CheckError(code) if malformed. */
export function fromBase64url(s, code = "malformed") {
  if (typeof s !== "string" || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) fail(code);
  return fromBase64(s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "="), code);
}

/** Standard base64 with padding (signed notes) → bytes. */
export function fromBase64(s, code = "malformed") {
  if (typeof s !== "string" || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) fail(code);
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// ---------------------------------------------------------------- Ed25519

/**
 * Strict Ed25519 (FORMAT.md#verifying-a-statement step 7): RFC 8032 §5.1.7
 * with canonical encodings and S < L (noble's zip215: false), small-order
 * keys refused (noble does so in that mode) and small-order R refused here,
 * as ed25519-dalek's verify_strict does on the Rust side.
 */
export function verifyStrict(signature, message, publicKey) {
  try {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    const A = ed.Point.fromBytes(publicKey, false);
    const R = ed.Point.fromBytes(signature.subarray(0, 32), false);
    if (A.isSmallOrder() || R.isSmallOrder()) return false;
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- statements

const SIGNER_ID_LABEL = enc("quietline/v1/signer-id");
const KEY_ID_LABEL = enc("quietline/v1/key-id");
/** Suites (FORMAT.md#suite): KEM id → public key length. */
const SUITES = { 0x0020: 32, 0x647a: 1216 };

/** A signing public key's signer id (FORMAT.md#signing-keys). */
export const signerId = (pk) => sha256(cat(SIGNER_ID_LABEL, pk)).slice(0, 8);
/** An encryption public key's key id (FORMAT.md#key-id). */
export const keyIdOf = (pk) => sha256(cat(KEY_ID_LABEL, pk)).slice(0, 8);

/**
 * A pinned signer set ({ threshold, signers: [base64url] }) → { threshold,
 * keys: Map(signer id hex → public key) }. Throws CheckError("bad_pins").
 */
export function signerSet(pin) {
  const keys = new Map();
  if (!pin || !Array.isArray(pin.signers) || pin.signers.length < 1 || pin.signers.length > 16) fail("bad_pins");
  for (const s of pin.signers) {
    const pk = fromBase64url(s, "bad_pins");
    if (pk.length !== 32) fail("bad_pins");
    try {
      if (ed.Point.fromBytes(pk, false).isSmallOrder()) fail("bad_pins");
    } catch {
      fail("bad_pins");
    }
    keys.set(hex(signerId(pk)), pk);
  }
  const k = pin.threshold;
  if (!Number.isInteger(k) || k < 1 || k > keys.size || keys.size !== pin.signers.length) fail("bad_pins");
  return { threshold: k, keys };
}

/**
 * Parse and verify a statement's `signed` octets (FORMAT.md#statement-encoding)
 * against a signer set, in FORMAT.md#verifying-a-statement's order (step 9,
 * the chain, is skipped: the page has only the current statement and relies
 * on the key log's consistency instead). `today` is the UTC day number, or
 * undefined to skip step 10. Returns { forceId, keyId, kemId, publicKey,
 * validFrom, validUntil, sequence, body }; throws CheckError with the code.
 */
export function verifyStatement(signed, set, expectedForce, today) {
  const b = signed;
  let i = 0;
  const take = (n) => {
    if (i + n > b.length) fail("truncated");
    const out = b.subarray(i, i + n);
    i += n;
    return out;
  };
  const u16 = () => { const x = take(2); return (x[0] << 8) | x[1]; };
  const u32 = () => { const x = take(4); return ((x[0] << 24) >>> 0) + ((x[1] << 16) | (x[2] << 8) | x[3]); };
  // Step 1: magic and version.
  if (b.length < 4) fail("truncated");
  if (!eq(take(4), enc("QLKS"))) fail("bad_magic");
  if (take(1)[0] !== 1) fail("unknown_version");
  const L = take(1)[0];
  const forceBytes = take(L);
  const keyId = take(8);
  const kemId = u16();
  const P = u16();
  const publicKey = take(P);
  const validFrom = u32();
  const validUntil = u32();
  const seq = take(8);
  take(32); // prev_hash
  const bodyEnd = i;
  const n = take(1)[0];
  const sigs = [];
  for (let s = 0; s < n; s++) sigs.push({ id: take(8), sig: take(64) });
  // Step 2.
  const forceId = new TextDecoder().decode(forceBytes);
  if (L < 1 || L > 64 || !/^[a-z0-9-]+$/.test(forceId)) fail("invalid_force_id");
  // Step 3. (The key itself is checked again when sealing: checkPublicKey, pq.js.)
  if (!(kemId in SUITES)) fail("unknown_suite");
  if (P !== SUITES[kemId] || (P === 32 && publicKey.every((x) => x === 0))) fail("bad_public_key");
  if (!eq(keyId, keyIdOf(publicKey))) fail("key_id_mismatch");
  // Step 4.
  if (validUntil < validFrom) fail("bad_validity");
  // Step 5.
  if (n === 0 || n > 16) fail("signature_count");
  for (let s = 1; s < n; s++) if (hex(sigs[s - 1].id) >= hex(sigs[s].id)) fail("signature_order");
  // Step 6.
  if (i !== b.length) fail("trailing_bytes");
  // Step 7.
  const body = b.subarray(0, bodyEnd);
  for (const { id, sig } of sigs) {
    const pk = set.keys.get(hex(id));
    if (!pk) fail("unknown_signer");
    if (!verifyStrict(sig, body, pk)) fail("bad_signature");
  }
  if (n < set.threshold) fail("not_enough_signatures");
  // Step 8.
  if (forceId !== expectedForce) fail("wrong_force");
  // Step 10.
  if (today !== undefined && (today < validFrom || today > validUntil)) fail("not_current");
  const sequence = seq.reduce((x, y) => x * 256n + BigInt(y), 0n);
  return { forceId, keyId, kemId, publicKey, validFrom, validUntil, sequence, body };
}

// ---------------------------------------------------------------- Merkle tree (RFC 9162 §2.1)

/** Leaf hash: SHA-256(0x00 ‖ entry). */
export const leafHash = (entry) => sha256(cat(Uint8Array.of(0), entry));
/** Interior node: SHA-256(0x01 ‖ left ‖ right). */
export const nodeHash = (l, r) => sha256(cat(Uint8Array.of(1), l, r));

/** Root of a list of entries (RFC 9162 §2.1.1 MTH); for tests and vectors. */
export function rootOf(entries) {
  if (entries.length === 0) return sha256(new Uint8Array(0));
  if (entries.length === 1) return leafHash(entries[0]);
  let k = 1;
  while (k * 2 < entries.length) k *= 2;
  return nodeHash(rootOf(entries.slice(0, k)), rootOf(entries.slice(k)));
}

const isSize = (n) => Number.isSafeInteger(n) && n >= 0;

/** RFC 9162 §2.1.3.2: whether `proof` shows `leaf` (a leaf hash) at `index` in the tree of `size` with `root`. */
export function verifyInclusion(index, size, leaf, proof, root) {
  if (!isSize(index) || !isSize(size) || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== 32 || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && eq(r, root);
}

/** RFC 9162 §2.1.4.2: whether `proof` shows the tree (size1, root1) is a prefix of (size2, root2). */
export function verifyConsistency(size1, size2, root1, root2, proof) {
  if (!isSize(size1) || !isSize(size2) || size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && eq(root1, root2);
  // Every tree extends the empty one.
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0 || proof.some((p) => p.length !== 32)) return false;
  // A first tree of 2^k leaves is a node of the second: its root starts the path.
  let odd = size1;
  while (odd % 2 === 0) odd /= 2;
  const path = odd === 1 ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && eq(fr, root1) && eq(sr, root2);
}

// ---------------------------------------------------------------- checkpoints (C2SP signed-note, tlog-checkpoint)

/**
 * A C2SP signed-note verifier key line, `<name>+<8 hex key id>+<base64
 * (0x01 ‖ 32-byte pub)>` → { name, id (4 bytes), publicKey }. Throws
 * CheckError("bad_log_key").
 */
export function parseVkey(text) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(String(text).trim());
  if (!m) fail("bad_log_key");
  const k = fromBase64(m[3], "bad_log_key");
  if (k.length !== 33 || k[0] !== 1) fail("bad_log_key");
  const id = sha256(cat(enc(m[1]), Uint8Array.of(0x0a), k)).slice(0, 4);
  if (hex(id) !== m[2]) fail("bad_log_key");
  return { name: m[1], id, publicKey: k.slice(1) };
}

/**
 * A signed checkpoint → { origin, size, root }, if a signature line by
 * `vkey` verifies over the note's text (C2SP signed-note) and the body is a
 * tlog-checkpoint whose origin is the key's name. Throws
 * CheckError("bad_checkpoint").
 */
export function verifyCheckpoint(note, vkey) {
  if (typeof note !== "string") fail("bad_checkpoint");
  const split = note.indexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) fail("bad_checkpoint");
  const text = note.slice(0, split + 1);
  let signed = false;
  for (const line of note.slice(split + 2, -1).split("\n")) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) fail("bad_checkpoint");
    if (m[1] !== vkey.name) continue;
    const sig = fromBase64(m[2], "bad_checkpoint");
    if (sig.length !== 68 || !eq(sig.subarray(0, 4), vkey.id)) continue;
    if (verifyStrict(sig.subarray(4), enc(text), vkey.publicKey)) signed = true;
  }
  if (!signed) fail("bad_checkpoint");
  const [origin, size, root] = text.split("\n");
  if (origin !== vkey.name || !/^(0|[1-9][0-9]{0,15})$/.test(size || "")) fail("bad_checkpoint");
  const rootBytes = fromBase64(root, "bad_checkpoint");
  if (rootBytes.length !== 32 || !isSize(Number(size))) fail("bad_checkpoint");
  return { origin, size: Number(size), root: rootBytes };
}

// ---------------------------------------------------------------- the check before sealing

/** The pins this page was built with (web/pins.json). */
export const pins = PINS;

/** Today as a UTC day number (days since 1970-01-01), as statements count. */
export const dayNumber = (ms = Date.now()) => Math.floor(ms / 86400000);

/** The key log's read-only routes (README: key log). */
const LOG = "/api/v1/keylog";

/** GET a route as text or JSON; a network failure or an unexpected answer → CheckError("unreachable"). */
async function get(fetch, path, json) {
  let res;
  try {
    res = await fetch(path, { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer", redirect: "error", headers: { Accept: json ? "application/json" : "text/plain" } });
  } catch {
    fail("unreachable");
  }
  if (!res.ok) fail(res.status === 404 || res.status === 400 ? "not_in_log" : "unreachable");
  try {
    return json ? await res.json() : await res.text();
  } catch {
    fail("unreachable");
  }
}
const hashes = (body, code) => {
  if (!body || !Array.isArray(body.hashes)) fail(code);
  return body.hashes.map((h) => fromBase64url(h, code));
};

/**
 * What the page saw when it loaded: { key, checkpoint } texts from the key
 * log (fetched by app.js at load; see there), or null. Returned as given,
 * so a caller can hold it; nothing is written to the device.
 */
export async function firstSeen(fetch) {
  return { key: await get(fetch, `${LOG}/key`), checkpoint: await get(fetch, `${LOG}/checkpoint`) };
}

/**
 * The check before sealing to `force` ({ id, publicKey (bytes), statement
 * (base64url, as the directory serves it, or undefined), logIndex }).
 * Resolves to { pinned: false } for a force not in the pins (unprotected:
 * the caller seals as before), { pinned: true } when every check passed,
 * and rejects with a CheckError otherwise. `first` is what the page saw at
 * load ({ key, checkpoint }); without it (that fetch failed) the current
 * checkpoint stands in for it. `today` is the UTC day number.
 */
export async function checkBeforeSeal({ fetch, force, first, today = dayNumber(), pinSet = PINS }) {
  // Pins this code cannot read refuse every force, rather than leave them all unchecked.
  if (!pinSet || pinSet.version !== 1 || !pinSet.forces || typeof pinSet.forces !== "object") fail("bad_pins");
  const pin = Object.hasOwn(pinSet.forces, force.id) ? pinSet.forces[force.id] : null;
  if (!pin) return { pinned: false };
  const set = signerSet(pin);
  if (typeof force.statement !== "string" || !force.statement) fail("no_statement");
  const signed = fromBase64url(force.statement, "truncated");
  const st = verifyStatement(signed, set, force.id, today);
  if (!eq(st.publicKey, force.publicKey)) fail("key_mismatch");
  if (!isSize(force.logIndex)) fail("not_in_log");
  // The log's key: the one seen at load, so a key swapped since cannot vouch
  // for a rewritten log.
  const seen = first || { key: await get(fetch, `${LOG}/key`) };
  const vkey = parseVkey(seen.key);
  const now = verifyCheckpoint(await get(fetch, `${LOG}/checkpoint`), vkey);
  const then = seen.checkpoint ? verifyCheckpoint(seen.checkpoint, vkey) : now;
  if (then.size > now.size) fail("log_inconsistent");
  if (then.size !== now.size || !eq(then.root, now.root)) {
    const c = await get(fetch, `${LOG}/proof/consistency?from=${then.size}&to=${now.size}`, true);
    if (!verifyConsistency(then.size, now.size, then.root, now.root, hashes(c, "log_inconsistent"))) fail("log_inconsistent");
  }
  if (force.logIndex >= now.size) fail("not_in_log");
  const p = await get(fetch, `${LOG}/proof/inclusion?index=${force.logIndex}&size=${now.size}`, true);
  if (!verifyInclusion(force.logIndex, now.size, leafHash(signed), hashes(p, "not_in_log"), now.root)) fail("not_in_log");
  return { pinned: true };
}

globalThis.QuietlineKeycheck = { checkBeforeSeal, firstSeen };

// Proof of work, the sender's side (crypto/FORMAT.md#proof-of-work): find an
// 8-octet nonce such that SHA-256(challenge ‖ SHA-256(envelope) ‖ nonce) has
// at least `difficulty` leading zero bits. Shared by the worker
// (pow-worker.js, which the page runs while the reporter waits) and the node
// tests; the page's main script does not import it.
//
// SHA-256 is @noble/hashes' (never our own). The first 64 of the 98 octets
// hashed are the same for every nonce, so they are compressed once and that
// state copied for each try: one compression per try instead of two.

import { _SHA256 } from "@noble/hashes/sha2.js";

export const CHALLENGE_LEN = 58;
export const HASH_LEN = 32;
export const NONCE_LEN = 8;
/** The highest difficulty a challenge may carry. */
export const MAX_DIFFICULTY = 32;

/** Leading zero bits of `bytes`, from the most significant bit of bytes[0]. */
export function leadingZeroBits(bytes) {
  let n = 0;
  for (const b of bytes) {
    if (b) return n + Math.clz32(b) - 24;
    n += 8;
  }
  return n;
}

/**
 * Search nonces `start`, `start + 1`, … (u64 big-endian; at most
 * 2^53) for one that solves the challenge over the envelope whose SHA-256 is
 * `envelopeHash`. Stops after `maxTries`. Returns { nonce, digest, tries }:
 * the first solution found (nonce and digest as Uint8Arrays) or nonce null,
 * and the number of nonces tried.
 */
export function solve(challenge, envelopeHash, difficulty, { start = 0, maxTries = Infinity } = {}) {
  if (challenge.length !== CHALLENGE_LEN || envelopeHash.length !== HASH_LEN || !(difficulty >= 0 && difficulty <= MAX_DIFFICULTY)
    || !Number.isSafeInteger(start) || start < 0) {
    throw new RangeError("solve: bad argument");
  }
  const prefix = new Uint8Array(CHALLENGE_LEN + HASH_LEN);
  prefix.set(challenge);
  prefix.set(envelopeHash, CHALLENGE_LEN);
  const base = new _SHA256().update(prefix);
  const work = new _SHA256();
  const nonce = new Uint8Array(NONCE_LEN);
  const view = new DataView(nonce.buffer);
  const digest = new Uint8Array(HASH_LEN);
  let hi = Math.floor(start / 2 ** 32);
  let lo = start >>> 0;
  view.setUint32(0, hi);
  let tries = 0;
  while (tries < maxTries) {
    view.setUint32(4, lo);
    base._cloneInto(work);
    work.update(nonce);
    work.digestInto(digest);
    tries++;
    if (leadingZeroBits(digest) >= difficulty) return { nonce, digest, tries };
    lo = (lo + 1) >>> 0;
    if (!lo) view.setUint32(0, ++hi);
  }
  return { nonce: null, digest: null, tries };
}

/** base64url without padding (RFC 4648 §5). */
export function toBase64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The `Quietline-Pow` header: the challenge exactly as received, ".", the nonce. */
export function powHeader(challengeText, nonce) {
  return `${challengeText}.${toBase64url(nonce)}`;
}

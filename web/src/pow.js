// Proof of work, the sender's side (crypto/FORMAT.md#solution): find a block
// of HKDF-SHA256-Expand(PRK, info = nonce, 255 blocks), PRK =
// HKDF-Extract(salt = challenge, IKM = SHA-256(envelope)), that has at least
// `difficulty` leading zero bits. Shared by the worker (pow-worker.js, which
// the page runs while the reporter waits) and the node tests; the page's
// main script does not import it.
//
// Why HKDF: WebCrypto's `deriveBits` runs natively whatever the browser's
// JIT, and one call yields 255 tries, so the cost of a call (a promise, a
// hop to the browser's crypto thread) is shared by 255 HMACs. With the JIT
// off (Tor Browser at "Safer", `--jitless`) a page gets about as many tries
// per second as with it (BENCHMARKS.md), where a JavaScript SHA-256 was ~50
// times slower. No hashing code of our own or a library's is in the worker.

export const CHALLENGE_LEN = 58;
export const HASH_LEN = 32;
export const NONCE_LEN = 8;
/** Blocks of one expansion: the tries one nonce gives (RFC 5869's most). */
export const BLOCKS = 255;
/** The highest difficulty a challenge may carry. */
export const MAX_DIFFICULTY = 32;
/** deriveBits calls a search keeps in flight: enough to keep the crypto thread busy. */
export const IN_FLIGHT = 4;

/** Leading zero bits of `bytes`, from the most significant bit of bytes[0]. */
export function leadingZeroBits(bytes) {
  let n = 0;
  for (const b of bytes) {
    if (b) return n + Math.clz32(b) - 24;
    n += 8;
  }
  return n;
}

/** The nonce `n` (0 ≤ n ≤ 2^53) as 8 octets, u64 big-endian. */
export function nonceBytes(n) {
  const out = new Uint8Array(NONCE_LEN);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(n / 2 ** 32));
  view.setUint32(4, n >>> 0);
  return out;
}

/**
 * The index (0-based) of the first 32-octet block of `okm` with at least
 * `difficulty` (≤ 32) leading zero bits, or -1. Only each block's first
 * four octets can decide that.
 */
export function firstSolvedBlock(okm, difficulty) {
  const view = new DataView(okm.buffer, okm.byteOffset, okm.byteLength);
  for (let i = 0; i < okm.byteLength; i += 32) {
    if (Math.clz32(view.getUint32(i)) >= difficulty) return i >> 5;
  }
  return -1;
}

/**
 * What the header carries after the challenge (FORMAT.md#solution): nonce ‖
 * block (1–255) ‖ the block before it (for blocks 2–255), for block index
 * `i` (0-based) of the expansion `okm` of nonce `n`.
 */
export function workBytes(n, okm, i) {
  const out = new Uint8Array(NONCE_LEN + 1 + (i ? 32 : 0));
  out.set(nonceBytes(n));
  out[NONCE_LEN] = i + 1;
  if (i) out.set(okm.subarray((i - 1) * 32, i * 32), NONCE_LEN + 1);
  return out;
}

/**
 * Search for a solution with WebCrypto (`subtle`): nonces `start`, `start +
 * stride`, … (so `stride` searchers share the space without overlap), at
 * most `maxNonces` of them, `IN_FLIGHT` expansions at a time, each judged in
 * nonce order (so the answer is the first solution in that order, as the
 * vectors list it). `onProgress(tries)` after each nonce; `stopped()` is
 * asked before each new request. Resolves to { work, digest, tries }: the
 * header's work octets and the solving block, or work null; tries counts
 * blocks judged (up to and including the solving one).
 */
export async function solve(subtle, challenge, envelopeHash, difficulty, { start = 0, stride = 1, maxNonces = Infinity, onProgress, stopped } = {}) {
  if (challenge.length !== CHALLENGE_LEN || envelopeHash.length !== HASH_LEN || !(difficulty >= 0 && difficulty <= MAX_DIFFICULTY)
    || !Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(stride) || stride < 1) {
    throw new RangeError("solve: bad argument");
  }
  const key = await subtle.importKey("raw", envelopeHash, "HKDF", false, ["deriveBits"]);
  const expand = (n) => subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: challenge, info: nonceBytes(n) }, key, BLOCKS * 256);
  const queue = [];
  let next = start;
  let issued = 0;
  const fill = () => {
    while (queue.length < IN_FLIGHT && issued < maxNonces && next <= Number.MAX_SAFE_INTEGER && !(stopped && stopped())) {
      queue.push({ n: next, okm: expand(next) });
      next += stride;
      issued++;
    }
  };
  let tries = 0;
  fill();
  while (queue.length) {
    const { n, okm: pending } = queue.shift();
    const okm = new Uint8Array(await pending);
    const i = firstSolvedBlock(okm, difficulty);
    if (i >= 0) return { work: workBytes(n, okm, i), digest: okm.slice(i * 32, i * 32 + 32), tries: tries + i + 1 };
    tries += BLOCKS;
    if (onProgress) onProgress(tries);
    fill();
  }
  return { work: null, digest: null, tries };
}

/** base64url without padding (RFC 4648 §5). */
export function toBase64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The `Quietline-Pow` header: the challenge exactly as received, ".", the work. */
export function powHeader(challengeText, work) {
  return `${challengeText}.${toBase64url(work)}`;
}

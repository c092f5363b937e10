// Attachment streams in the browser (crypto/FORMAT.md#attachments): the same
// bytes as the Rust crate's `quietline_crypto::stream`. A file is sealed with
// a fresh random key in 64 KiB chunks (age's STREAM over ChaCha20-Poly1305:
// nonce = 11-byte big-endian chunk counter ‖ last-chunk flag, empty AAD) and
// zero-padded to a power-of-two bucket from 64 KiB.
//
// It owns the buckets, the nonces and the chunk-by-chunk checks. It does not
// read files, draw keys (the caller passes 32 random octets), hash, or upload.
// ChaCha20-Poly1305 is noble-ciphers' (@noble/ciphers, the code the page's
// @hpke/chacha20poly1305 wraps), called directly because only it seals into a
// buffer the caller gives: a part is sealed chunk by chunk into one reused
// buffer, with no allocation per chunk (BENCHMARKS.md#attachments-issue-19,
// the page's memory). Nothing here is a primitive. This module is loaded only
// when a reporter adds a file.

import { chacha20poly1305 } from "@noble/ciphers/chacha.js";

/** Plaintext octets per chunk. */
export const CHUNK_LEN = 65536;
/** Poly1305 tag after each chunk. */
export const TAG_LEN = 16;
/** A sealed chunk. */
export const SEALED_CHUNK_LEN = CHUNK_LEN + TAG_LEN;
/** Smallest and largest bucket. */
export const MIN_BUCKET = 65536;
export const MAX_BUCKET = 2 ** 30;

/** A refusal with the format's stable code (FORMAT.md#attachment-errors). */
export class StreamError extends Error {
  constructor(code, message, chunk) {
    super(message);
    this.name = "StreamError";
    this.code = code;
    if (chunk !== undefined) this.chunk = chunk;
  }
}

/** The smallest bucket holding `len` octets. */
export function bucketFor(len) {
  if (!Number.isSafeInteger(len) || len < 0) throw new StreamError("bad_sizes", "a file length is a whole number of bytes");
  if (len > MAX_BUCKET) throw new StreamError("too_large", "the file is larger than the largest attachment bucket (1 GiB)");
  let b = MIN_BUCKET;
  while (b < len) b *= 2;
  return b;
}

/** Whether `padded` is one of the format's buckets. */
export function isBucket(padded) {
  if (!Number.isSafeInteger(padded) || padded < MIN_BUCKET || padded > MAX_BUCKET) return false;
  return (padded & (padded - 1)) === 0;
}

/** Sealed octets of a padded size: one tag per chunk. */
export const sealedLen = (padded) => padded + (padded / CHUNK_LEN) * TAG_LEN;

/** The nonce of chunk `index`: 11 octets big-endian, then 1 for the last chunk. */
export function nonce(index, last) {
  const n = new Uint8Array(12);
  let v = index;
  for (let i = 10; i >= 0 && v > 0; i--) {
    n[i] = v % 256;
    v = Math.floor(v / 256);
  }
  n[11] = last ? 1 : 0;
  return n;
}

function chunkCount(realLen, paddedLen) {
  if (!isBucket(paddedLen) || !Number.isSafeInteger(realLen) || realLen < 0 || realLen > paddedLen) {
    throw new StreamError("bad_sizes", "the padded size must be a power of two from 64 KiB to 1 GiB and at least the real size");
  }
  return paddedLen / CHUNK_LEN;
}

const realInChunk = (realLen, index) => Math.max(0, Math.min(CHUNK_LEN, realLen - index * CHUNK_LEN));

/** A copy of the key, checked (the caller zeroes its own; `forget()` zeroes this one). */
function keyCopy(key) {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError("an attachment key is 32 bytes");
  return key.slice();
}

/** Seals a file chunk by chunk, so the page never holds more than one chunk of it sealed. */
export class Encryptor {
  constructor(key, realLen, paddedLen = bucketFor(realLen)) {
    this.chunks = chunkCount(realLen, paddedLen);
    this.realLen = realLen;
    this.paddedLen = paddedLen;
    this.next = 0;
    this.key = keyCopy(key);
  }
  /** Zero this encryptor's copy of the key (it seals nothing more). */
  forget() {
    this.key.fill(0);
  }
  /** Octets of the file the next chunk takes. */
  get nextInputLen() {
    return this.next >= this.chunks ? 0 : realInChunk(this.realLen, this.next);
  }
  get done() {
    return this.next >= this.chunks;
  }
  /** Seal the next chunk from exactly `nextInputLen` octets of the file; returns 65552 octets. */
  async sealNext(data) {
    if (this.done) throw new StreamError("trailing_data", "every chunk is already sealed");
    const want = this.nextInputLen;
    if (data.length !== want) throw new StreamError("wrong_chunk_input", `chunk ${this.next} takes ${want} bytes of the file, not ${data.length}`);
    const index = this.next;
    this.next += 1;
    return this.sealAt(index, data);
  }
  /**
   * Seal chunk `index` from its `realInChunk` octets of the file, in any
   * order: a part the server did not keep is sealed again after a dropped
   * connection, to the same bytes as the first time (the same key and nonce
   * over the same plaintext; nothing else is ever sealed under this key).
   */
  async sealAt(index, data) {
    const out = new Uint8Array(SEALED_CHUNK_LEN);
    this.sealInto(index, data, out);
    return out;
  }
  /**
   * As sealAt, into `out` (exactly SEALED_CHUNK_LEN octets, e.g. a view of a
   * part's buffer): the chunk is zero-padded and sealed in place there, so
   * sealing allocates nothing per chunk. `data` must not overlap `out`
   * unless it starts where `out` starts.
   */
  sealInto(index, data, out) {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.chunks) throw new StreamError("trailing_data", `there is no chunk ${index}`);
    const want = realInChunk(this.realLen, index);
    if (data.length !== want) throw new StreamError("wrong_chunk_input", `chunk ${index} takes ${want} bytes of the file, not ${data.length}`);
    if (!(out instanceof Uint8Array) || out.length !== SEALED_CHUNK_LEN) throw new TypeError(`a sealed chunk is ${SEALED_CHUNK_LEN} bytes`);
    if (data.buffer !== out.buffer || data.byteOffset !== out.byteOffset) out.set(data);
    out.fill(0, want, CHUNK_LEN);
    const plain = out.subarray(0, CHUNK_LEN);
    chacha20poly1305(this.key, nonce(index, index + 1 === this.chunks)).encrypt(plain, out);
  }
}

/** Seal a whole file held in memory (tests and small files). */
export async function seal(key, file) {
  const enc = new Encryptor(key, file.length);
  const out = new Uint8Array(sealedLen(enc.paddedLen));
  let at = 0;
  for (let i = 0; !enc.done; i++) {
    const n = enc.nextInputLen;
    out.set(await enc.sealNext(file.subarray(at, at + n)), i * SEALED_CHUNK_LEN);
    at += n;
  }
  return out;
}

/** Opens a sealed attachment chunk by chunk; the sizes come from the sealed payload. */
export class Decryptor {
  constructor(key, realLen, paddedLen) {
    this.chunks = chunkCount(realLen, paddedLen);
    this.realLen = realLen;
    this.next = 0;
    this.key = keyCopy(key);
  }
  /** The file's octets in the next chunk (empty for padding only). */
  async openNext(chunk) {
    const index = this.next;
    if (index >= this.chunks) throw new StreamError("trailing_data", "the attachment has data after its last chunk");
    if (chunk.length !== SEALED_CHUNK_LEN) throw new StreamError("bad_length", `chunk ${index} is not ${SEALED_CHUNK_LEN} bytes`);
    let body;
    try {
      body = chacha20poly1305(this.key, nonce(index, index + 1 === this.chunks)).decrypt(chunk);
    } catch {
      throw new StreamError("chunk_failed", `chunk ${index} does not authenticate at its place`, index);
    }
    const real = realInChunk(this.realLen, index);
    for (let i = real; i < body.length; i++) {
      if (body[i] !== 0) {
        body.fill(0);
        throw new StreamError("nonzero_padding", "the attachment's padding is not zero");
      }
    }
    this.next += 1;
    return body.subarray(0, real);
  }
  finish() {
    if (this.next < this.chunks) throw new StreamError("truncated", `the attachment ends after ${this.next} of its ${this.chunks} chunks`);
  }
}

/** Open a whole sealed attachment: its length first, then each chunk in order. */
export async function open(key, realLen, paddedLen, sealed) {
  const dec = new Decryptor(key, realLen, paddedLen);
  const want = sealedLen(paddedLen);
  if (sealed.length !== want) throw new StreamError("bad_length", `the sealed attachment is ${sealed.length} bytes, not ${want}`);
  const out = new Uint8Array(realLen);
  let at = 0;
  for (let i = 0; i < dec.chunks; i++) {
    const part = await dec.openNext(sealed.subarray(i * SEALED_CHUNK_LEN, (i + 1) * SEALED_CHUNK_LEN));
    out.set(part, at);
    at += part.length;
  }
  dec.finish();
  return out;
}

// Quietline envelope format v1 in the browser: the same bytes as the Rust crate
// `quietline-crypto` (crypto/src/*.rs). The spec is crypto/FORMAT.md; section
// names below refer to it.
//
// It owns: the v1 header and its shape parser, padding to size buckets, HPKE
// base-mode sealing of kind-1 reports and opening of kind-2 replies, key ids,
// reply codes (BIP39 words) and what derives from them, and the payload JSON.
// It does no I/O and keeps nothing: callers hold the secrets and drop them.
//
// Primitives come from vetted libraries: HPKE from @hpke/core with pure-JS
// X25519 (@hpke/dhkem-x25519) and ChaCha20-Poly1305 (@hpke/chacha20poly1305),
// BIP39 from @scure/bip39, SHA-256/HMAC/HKDF from WebCrypto (crypto.subtle,
// which @hpke/core needs anyway). Nothing here is a hand-rolled primitive.

import { CipherSuite } from "@hpke/core";
import { DhkemX25519HkdfSha256, HkdfSha256, X25519 } from "@hpke/dhkem-x25519";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { entropyToMnemonic, mnemonicToEntropy } from "@scure/bip39";
// The word list comes from words.js, fetched when first needed (loadWords).
const wordlist = () => globalThis.QuietlineWords;
/** The reply code's word list once loadWords() has fetched it, else undefined. */
export const wordList = wordlist;

// ---------------------------------------------------------------- constants

/** Magic bytes "QL". */
export const MAGIC = Uint8Array.of(0x51, 0x4c);
/** Envelope format version. */
export const VERSION = 1;
/** Kind 1: a report or follow-up, to a force. */
export const KIND_REPORT = 1;
/** Kind 2: a reply, to a reporter's reply key, routed to a slot. */
export const KIND_REPLY = 2;
/** RFC 9180 ids of the v1 suites: KEM X25519 (or X-Wing, XWING_KEM_ID), KDF, AEAD. */
export const KEM_ID = 0x0020;
export const XWING_KEM_ID = 0x647a;
export const KDF_ID = 0x0001;
export const AEAD_ID = 0x0003;
/** Fixed header length before the routing bytes. */
export const FIXED_HEADER_LEN = 19;
export const ENC_LEN = 32;
export const TAG_LEN = 16;
export const MAX_ROUTING_LEN = 64;
export const SLOT_ADDRESS_LEN = 32;
/** Plaintext sizes: 1, 2, 4, 8, 16, 32, 64 KiB. */
export const BUCKETS = Object.freeze([1024, 2048, 4096, 8192, 16384, 32768, 65536]);
/** Largest payload: 64 KiB minus the 4-byte length. */
export const MAX_PAYLOAD_LEN = 65536 - 4;
/** Payload schema version. */
export const PAYLOAD_VERSION = 1;
/** Report categories of v1 (crypto/src/payload.rs CATEGORIES). */
export const CATEGORIES = Object.freeze([
  "drugs", "violence", "sexual-offences", "domestic-abuse", "hate-crime", "weapons", "exploitation", "fraud",
  "theft", "anti-social-behaviour", "terrorism", "corruption", "driving", "other",
]);
/** How the reporter knows, v1 values (crypto/src/payload.rs HOW_KNOWN). */
export const HOW_KNOWN = Object.freeze([
  "saw", "heard", "told", "involved", "other", "prefer-not-to-say",
]);
/** Words in a reply code. */
export const REPLY_CODE_WORDS = 12;

const utf8 = new TextEncoder();
const enc = (s) => utf8.encode(s);
export const INFO = { [KIND_REPORT]: enc("quietline/v1/report"), [KIND_REPLY]: enc("quietline/v1/reply") };
const KEY_ID_LABEL = enc("quietline/v1/key-id");
export const RC_SALT = enc("quietline/v1/reply-code");
const INFO_REPLY_KEY = enc("reply-key");
const XW = 1216; // an X-Wing public key's length (FORMAT.md#keys)
const INFO_THREAD_ID = enc("thread-id");
const INFO_SLOT_KEY = enc("slot-key");
const SLOT_LABEL = enc("quietline/v1/slot");

// ---------------------------------------------------------------- errors

/**
 * An envelope, padding or payload refused. `code` is the stable snake_case
 * code of FORMAT.md#errors (the Rust EnvelopeError::code / OpenError::code),
 * e.g. "bad_magic", "truncated", "wrong_key", "decryption_failed"; the page's
 * own codes are "too_large", "bad_payload" and "unknown_payload_version".
 * The message is the code, or a short detail for developers.
 */
export class EnvelopeError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "EnvelopeError";
    this.code = code;
  }
}

/**
 * A typed reply code refused before any request. `code` is "word_count"
 * (with `count`), "unknown_word" (with 1-based `position` and `word`), or
 * "checksum".
 */
export class ReplyCodeError extends Error {
  constructor(code, message, extra) {
    super(message);
    this.name = "ReplyCodeError";
    this.code = code;
    Object.assign(this, extra);
  }
}

// ---------------------------------------------------------------- bytes

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}

/** Bytes of an even-length hex string (either case); throws on anything else. */
export function fromHex(hex) {
  if (typeof hex !== "string" || hex.length % 2 || /[^0-9a-fA-F]/.test(hex)) {
    throw new TypeError("not a hex string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url without padding (RFC 4648 §5), as the Rust crate writes keys. */
export function toBase64url(bytes) {
  let s = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    s += B64[n >> 18] + B64[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63];
  }
  return s;
}

/**
 * Decode base64url without padding, strictly (as Rust's URL_SAFE_NO_PAD):
 * no padding, no other alphabet, no impossible length, no non-zero
 * trailing bits. Surrounding whitespace is trimmed, as PublicKey::from_base64url does.
 */
export function fromBase64url(text) {
  const s = String(text).trim();
  if (s.length % 4 === 1) throw new TypeError("not base64url");
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of s) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new TypeError("not base64url");
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  if (acc & ((1 << bits) - 1)) throw new TypeError("not base64url (trailing bits)");
  return out;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u32be(n) {
  return Uint8Array.of((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function u8(x) {
  return x instanceof Uint8Array ? x : new Uint8Array(x);
}

// ---------------------------------------------------------------- WebCrypto

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error("no WebCrypto: not a secure context");
  return s;
}

async function sha256(data) {
  return new Uint8Array(await subtle().digest("SHA-256", data));
}

async function hmacSha256(key, data) {
  const k = await subtle().importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle().sign("HMAC", k, data));
}

export async function hkdfSha256(ikm, salt, info, length) {
  const k = await subtle().importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await subtle().deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, k, length * 8));
}

/** Fresh random bytes from the platform CSPRNG. */
export function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

// ---------------------------------------------------------------- HPKE suite

let suiteCache;
function suite() {
  if (!suiteCache) {
    suiteCache = new CipherSuite({
      kem: new DhkemX25519HkdfSha256(),
      kdf: new HkdfSha256(),
      aead: new Chacha20Poly1305(),
    });
  }
  return suiteCache;
}

/** RFC 7748 clamping, as Rust's SerializePrivateKey writes X25519 keys. */
function clamp(sk) {
  const out = Uint8Array.from(sk);
  out[0] &= 248;
  out[31] = (out[31] & 127) | 64;
  return out;
}

/**
 * RFC 9180 DeriveKeyPair(ikm) for DHKEM(X25519, HKDF-SHA256).
 * Returns raw `{ privateKey, publicKey }` bytes; the private key is clamped,
 * byte-identical to the Rust crate's PrivateKey::to_bytes.
 */
export async function deriveKeyPair(ikm) {
  const kem = suite().kem;
  const kp = await kem.deriveKeyPair(u8(ikm));
  return {
    privateKey: clamp(new Uint8Array(await kem.serializePrivateKey(kp.privateKey))),
    publicKey: new Uint8Array(await kem.serializePublicKey(kp.publicKey)),
  };
}

/** The X25519 public key of a raw private key. */
export async function publicKeyFromPrivate(sk) {
  const x = new X25519(new HkdfSha256());
  const key = await x.deserializePrivateKey(u8(sk));
  return new Uint8Array(await x.serializePublicKey(await x.derivePublicKey(key)));
}

// ---------------------------------------------------------------- keys

/** Check a recipient public key: 32 bytes not all zero, or 1216 (X-Wing; pq.js checks its ML-KEM part) (keys.rs PublicKey::from_bytes). */
export function checkPublicKey(pk) {
  const b = u8(pk);
  if (b.length === XW) return b;
  if (b.length !== 32) throw new TypeError("a public key is 32 bytes, or 1216 (X-Wing)");
  if (b.every((x) => x === 0)) throw new TypeError("all-zero public key");
  return b;
}

// A same-origin bundle that registers globalThis[name] (pq.js, words.js),
// fetched once, when first needed. A failed fetch (offline) rejects with an
// error of code "load" and is forgotten, so the reporter's retry fetches again.
const loading = {};
const load = (file, name) => (loading[name] ||= new Promise((ok, no) => {
  if (globalThis[name]) return ok(globalThis[name]);
  const t = document.createElement("script");
  t.src = file;
  t.onload = () => ok(globalThis[name]);
  t.onerror = () => no(Object.assign(new Error(`${file} could not be loaded`), { code: "load" }), delete loading[name]);
  document.head.append(t);
}));
// The X-Wing code.
const pq = () => load("/pq.js", "QuietlinePQ");
/** Fetch the reply code's word list (words.js), which the reply-code functions below need first. */
export const loadWords = () => load("/words.js", "QuietlineWords");
/** Fetch the check before sealing (keycheck.js, with the pins). */
export const loadKeycheck = () => load("/keycheck.js", "QuietlineKeycheck");
/** Fetch the own copies and the conversation (copy.js, FORMAT.md#own-copies). */
export const loadCopy = () => load("/copy.js", "QuietlineCopy");
/** Fetch the attachments code (attach.js), once a reporter chooses a file. */
export const loadAttach = () => load("/attach.js", "QuietlineAttach");

/** Decode a directory public key (base64url without padding) and check it. */
export function publicKeyFromBase64url(text) {
  return checkPublicKey(fromBase64url(text));
}

/** Key id: the first 8 bytes of SHA-256("quietline/v1/key-id" ‖ public key). */
export async function keyId(pk) {
  return (await sha256(concat(KEY_ID_LABEL, checkPublicKey(pk)))).slice(0, 8);
}

// ---------------------------------------------------------------- envelope

/** Whether `id` is a valid force id: ASCII [a-z0-9-], 1 to 64 characters. */
export function isValidForceId(id) {
  return typeof id === "string" && /^[a-z0-9-]{1,64}$/.test(id);
}

/**
 * The header [0, 19+L): magic, version, kind, suite, key id, L, routing
 * (FORMAT.md#envelope). For a reply the key id is eight zero octets.
 */
export function buildHeader(kind, keyIdBytes, routing, kem = KEM_ID) {
  // Callers (sealReport, sealReply) have checked the kind and routing.
  const r = u8(routing);
  const h = new Uint8Array(FIXED_HEADER_LEN + r.length);
  h.set(MAGIC, 0);
  h[2] = VERSION;
  h[3] = kind;
  h[4] = kem >> 8; h[5] = kem & 255;
  h[6] = KDF_ID >> 8; h[7] = KDF_ID & 255;
  h[8] = AEAD_ID >> 8; h[9] = AEAD_ID & 255;
  h.set(keyIdBytes, 10);
  h[18] = r.length;
  h.set(r, FIXED_HEADER_LEN);
  return h;
}

/**
 * Check an envelope's shape, in the order of FORMAT.md#parsing (envelope.rs
 * parse), failing with the first code that applies. Never decrypts. Returns { kind, keyId, routing, header, enc, ciphertext };
 * routing is the force id string (kind 1) or the 32-byte slot address (kind 2).
 * Throws EnvelopeError with the Rust code.
 */
export function parseEnvelope(input) {
  const b = u8(input);
  if (b.length < 2 || b[0] !== MAGIC[0] || b[1] !== MAGIC[1]) {
    // A one-byte input that matches "Q" is still not our magic: it is truncated.
    if (b.length >= 2 || (b.length === 1 && b[0] !== MAGIC[0])) {
      throw new EnvelopeError("bad_magic");
    }
    throw new EnvelopeError("truncated");
  }
  if (b.length < FIXED_HEADER_LEN) throw new EnvelopeError("truncated");
  if (b[2] !== VERSION) throw new EnvelopeError("unknown_version");
  const kind = b[3];
  if (kind !== KIND_REPORT && kind !== KIND_REPLY) throw new EnvelopeError("unknown_kind");
  const be16 = (i) => (b[i] << 8) | b[i + 1];
  const kem = be16(4);
  if ((kem !== KEM_ID && kem !== XWING_KEM_ID) || be16(6) !== KDF_ID || be16(8) !== AEAD_ID) {
    throw new EnvelopeError("unknown_suite");
  }
  const encLen = kem === KEM_ID ? ENC_LEN : 1120;
  const l = b[18];
  const routingOk = kind === KIND_REPORT ? l >= 1 && l <= MAX_ROUTING_LEN : l === SLOT_ADDRESS_LEN;
  if (!routingOk) throw new EnvelopeError("routing_length");
  const headerLen = FIXED_HEADER_LEN + l;
  if (b.length < headerLen + encLen) throw new EnvelopeError("truncated");
  const routingBytes = b.subarray(FIXED_HEADER_LEN, headerLen);
  const keyIdBytes = b.slice(10, 18);
  let routing;
  if (kind === KIND_REPORT) {
    // ASCII-only check, so no UTF-8 decoding question arises.
    if (!routingBytes.every((c) => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) {
      throw new EnvelopeError("invalid_force_id");
    }
    routing = String.fromCharCode(...routingBytes);
  } else {
    // Replies name no key, so their headers cannot be grouped into threads.
    if (keyIdBytes.some((x) => x !== 0)) {
      throw new EnvelopeError("reply_key_id_not_zero");
    }
    routing = routingBytes.slice();
  }
  const ciphertext = b.subarray(headerLen + encLen);
  if (!BUCKETS.some((k) => k + TAG_LEN === ciphertext.length)) {
    throw new EnvelopeError("bad_ciphertext_length");
  }
  return {
    kind,
    kem,
    keyId: keyIdBytes,
    routing,
    header: b.subarray(0, headerLen),
    enc: b.subarray(headerLen, headerLen + encLen),
    ciphertext,
  };
}

// ---------------------------------------------------------------- padding

/** The bucket for a payload of `len` bytes; throws EnvelopeError "too_large". */
export function bucketFor(len) {
  const b = BUCKETS.find((k) => len + 4 <= k);
  if (b === undefined) {
    throw new EnvelopeError("too_large", `payload of ${len} bytes; at most ${MAX_PAYLOAD_LEN} fit`);
  }
  return b;
}

/** u32 BE length ‖ payload ‖ zeros, to the smallest bucket that holds it. */
export function pad(payload) {
  const p = u8(payload);
  const out = new Uint8Array(bucketFor(p.length));
  out.set(u32be(p.length), 0);
  out.set(p, 4);
  return out;
}

/** Check a bucket-sized plaintext and return the payload. */
export function unpad(plaintext) {
  const pt = u8(plaintext);
  if (!BUCKETS.includes(pt.length)) throw new EnvelopeError("bad_padding");
  const len = ((pt[0] << 24) >>> 0) + (pt[1] << 16) + (pt[2] << 8) + pt[3];
  const end = 4 + len;
  if (end > pt.length) throw new EnvelopeError("length_beyond_bucket");
  for (let i = end; i < pt.length; i++) {
    if (pt[i] !== 0) throw new EnvelopeError("nonzero_padding");
  }
  return pt.slice(4, end);
}

// ---------------------------------------------------------------- seal / open

async function sealRaw(kind, routing, recipientPk, payload, ephIkm) {
  const pk = checkPublicKey(recipientPk);
  const plaintext = pad(payload);
  // X-Wing: pq.js seals (`ephIkm` is then the 64-byte eseed, tests only).
  if (pk.length === XW) return (await pq()).sealRaw(kind, routing, pk, plaintext, ephIkm);
  // A reply carries the all-zero key id (FORMAT.md#kinds).
  const header = buildHeader(kind, kind === KIND_REPORT ? await keyId(pk) : new Uint8Array(8), routing);
  // The ephemeral key pair is DeriveKeyPair(32 bytes), exactly as the Rust
  // crate draws it from its RNG; tests fix the 32 bytes (eph_ikm).
  const ikm = ephIkm === undefined ? randomBytes(32) : u8(ephIkm);
  if (ikm.length !== 32) throw new TypeError("eph IKM is 32 bytes");
  const s = suite();
  const ctx = await s.createSenderContext({
    recipientPublicKey: await s.kem.deserializePublicKey(pk),
    info: INFO[kind],
    ekm: ikm,
  });
  const ct = new Uint8Array(await ctx.seal(plaintext, header));
  plaintext.fill(0);
  return concat(header, new Uint8Array(ctx.enc), ct);
}

/**
 * Seal a kind-1 envelope (report or follow-up) to a force's public key.
 * `payload` is the JSON bytes; `options.ephIkm` (32 bytes) fixes the
 * ephemeral key for known-answer tests only.
 */
export async function sealReport(forceId, recipientPk, payload, options = {}) {
  if (!isValidForceId(forceId)) throw new TypeError("invalid force id");
  return sealRaw(KIND_REPORT, enc(forceId), recipientPk, payload, options.ephIkm);
}

/** Seal a kind-2 envelope (a reply) to a reply key, routed to a slot (for tests and parity). */
export async function sealReply(slot, recipientPk, payload, options = {}) {
  if (u8(slot).length !== SLOT_ADDRESS_LEN) throw new TypeError("a slot address is 32 bytes");
  return sealRaw(KIND_REPLY, slot, recipientPk, payload, options.ephIkm);
}

/**
 * Open an envelope of the expected kind with a raw X25519 private key:
 * parse → kind → key id (kind 1 only) → HPKE open with the header as AAD →
 * unpad (FORMAT.md#opening, open.rs). Returns the payload bytes; throws
 * EnvelopeError with the format's code.
 */
export async function openEnvelope(privateKey, expectedKind, bytes) {
  const env = parseEnvelope(bytes);
  if (env.kind !== expectedKind) throw new EnvelopeError("wrong_kind");
  // An X-Wing envelope opens only in pq.js, with an X-Wing key (FORMAT.md#opening).
  if (env.kem !== KEM_ID) throw new EnvelopeError("wrong_suite");
  if (expectedKind === KIND_REPORT) {
    const pk = await publicKeyFromPrivate(privateKey);
    if (!bytesEqual(env.keyId, await keyId(pk))) throw new EnvelopeError("wrong_key");
  }
  const s = suite();
  let plaintext;
  try {
    const ctx = await s.createRecipientContext({
      recipientKey: await s.kem.deserializePrivateKey(u8(privateKey)),
      enc: env.enc.slice(),
      info: INFO[expectedKind],
    });
    plaintext = new Uint8Array(await ctx.open(env.ciphertext.slice(), env.header.slice()));
  } catch {
    throw new EnvelopeError("decryption_failed");
  }
  try {
    return unpad(plaintext);
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Open a kind-2 reply and parse its payload, with the reply secrets (or a raw
 * private key): an X-Wing reply needs the X-Wing reply key, derived from the
 * code the secrets keep (FORMAT.md#reply-code).
 */
export async function openReply(secrets, bytes) {
  if (parseEnvelope(bytes).kem !== KEM_ID) return (await pq()).openReply(secrets.code, bytes);
  return parseReplyPayload(await openEnvelope(secrets.replyPrivateKey || secrets, KIND_REPLY, bytes));
}

// ---------------------------------------------------------------- reply codes

/** A fresh reply code: 16 random bytes. */
export function generateReplyCode() {
  return randomBytes(16);
}

/** The 12 words of a reply code (16 bytes), separated by single spaces. */
export function replyCodeToWords(entropy) {
  const e = u8(entropy);
  if (e.length !== 16) throw new TypeError("a reply code is 16 bytes");
  return entropyToMnemonic(e, wordlist());
}

// Unicode White_Space, as Rust's split_whitespace (JavaScript's \s differs:
// it adds U+FEFF and lacks U+0085).
const WHITE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/**
 * Parse typed words (FORMAT.md#reply-code-input): lower case, split on runs
 * of Unicode white space. Returns the 16 bytes, or throws ReplyCodeError
 * "word_count" | "unknown_word" | "checksum", checked in that order.
 */
export function wordsToReplyCode(typed) {
  const words = String(typed).toLowerCase().split(WHITE_SPACE).filter(Boolean);
  if (words.length !== REPLY_CODE_WORDS) {
    throw new ReplyCodeError("word_count", `a reply code is 12 words; ${words.length} were given`, { count: words.length });
  }
  for (let i = 0; i < words.length; i++) {
    if (!isReplyCodeWord(words[i])) {
      throw new ReplyCodeError("unknown_word", `word ${i + 1} (${words[i]}) is not in the reply-code word list; check its spelling`, { position: i + 1, word: words[i] });
    }
  }
  try {
    return mnemonicToEntropy(words.join(" "), wordlist());
  } catch {
    throw new ReplyCodeError("checksum", "these 12 words do not form a valid reply code: one of them is mistyped or out of order");
  }
}

let wordSet;
/** Whether a lower-case word is in the BIP39 English list. */
export function isReplyCodeWord(word) {
  if (!wordSet) wordSet = new Set(wordlist());
  return wordSet.has(word);
}

/**
 * Everything a reply code derives (reply_code.rs derive):
 * PRK = HKDF-Extract("quietline/v1/reply-code", entropy);
 * reply key pair = DeriveKeyPair(Expand(PRK, "reply-key", 32));
 * thread id = Expand(PRK, "thread-id", 16); slot key = Expand(PRK, "slot-key", 32).
 * Returns raw bytes { replyPrivateKey, replyPublicKey, threadId, slotKey }.
 */
export async function deriveReplySecrets(entropy, forcePk) {
  const e = u8(entropy);
  if (e.length !== 16) throw new TypeError("a reply code is 16 bytes");
  // The reply key takes the suite of the force key (or key length) the
  // report is sealed to: an X-Wing one comes from pq.js.
  if ((forcePk?.length ?? forcePk) === XW) return (await pq()).deriveReplySecrets(e);
  const ikm = await hkdfSha256(e, RC_SALT, INFO_REPLY_KEY, 32);
  const threadId = await hkdfSha256(e, RC_SALT, INFO_THREAD_ID, 16);
  const slotKey = await hkdfSha256(e, RC_SALT, INFO_SLOT_KEY, 32);
  const kp = await deriveKeyPair(ikm);
  ikm.fill(0);
  // Without a force key (the replies page) the code is kept, for X-Wing
  // replies and follow-ups; wipeSecrets erases it.
  return { replyPrivateKey: kp.privateKey, replyPublicKey: kp.publicKey, threadId, slotKey, code: forcePk ? null : e.slice() };
}

/** Erase what reply secrets hold in memory. */
export function wipeSecrets(s) {
  for (const b of [s.replyPrivateKey, s.slotKey, s.code]) b?.fill(0);
}

/** Slot address i = HMAC-SHA256(slot key, "quietline/v1/slot" ‖ u32 BE i). */
export async function slotAddress(slotKey, i) {
  if (!Number.isInteger(i) || i < 0 || i > 0xffffffff) throw new RangeError("slot index is a u32");
  return hmacSha256(u8(slotKey), concat(SLOT_LABEL, u32be(i)));
}

// ---------------------------------------------------------------- payloads

// serde_json and JSON.stringify escape the same characters for well-formed
// strings; a lone surrogate would make JSON that serde_json refuses, so it
// becomes U+FFFD first.
function wellFormed(s) {
  const str = String(s ?? "");
  let out = "";
  let from = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = str.charCodeAt(i + 1);
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    out += str.slice(from, i) + "\ufffd";
    from = i + 1;
  }
  return from ? out + str.slice(from) : str;
}

/** Reply material as it travels inside reports (payload.rs ReplyMaterial::from_secrets). */
export function replyMaterial(secrets) {
  return {
    public_key: toBase64url(secrets.replyPublicKey),
    thread_id: toHex(secrets.threadId),
    slot_key: toBase64url(secrets.slotKey),
    suite: secrets.replyPublicKey.length === XW ? "xwing" : undefined, // omitted for X25519
  };
}

function material(r) {
  if (!r || typeof r.public_key !== "string" || typeof r.thread_id !== "string" || typeof r.slot_key !== "string") {
    throw new TypeError("bad reply material");
  }
  return { public_key: r.public_key, thread_id: r.thread_id, slot_key: r.slot_key, suite: r.suite };
}

/** RFC 3339 UTC, to the minute with zero seconds, e.g. 2026-11-27T19:45:00Z. */
export function sentAtNow(date = new Date()) {
  return date.toISOString().slice(0, 16) + ":00Z";
}

function common(type, sentAt, lang) {
  return { type, v: PAYLOAD_VERSION, sent_at: wellFormed(sentAt), lang: wellFormed(lang || "en") };
}

/**
 * The JSON bytes of a `report` payload, field for field and in the order
 * serde writes them (payload.rs Report). `report` has category, details,
 * where {known, description}, when {known, date?, time?, ongoing, ongoing_unknown?,
 * description}, people [{name, description}], vehicles [{registration,
 * make_model, colour, description}], how_known, how_known_details.
 */
export function reportPayload({ sentAt, lang = "en", report, reply, attachments = [] }) {
  const r = report || {};
  if (!CATEGORIES.includes(r.category)) throw new TypeError(`unknown category ${r.category}`);
  if (!HOW_KNOWN.includes(r.how_known)) throw new TypeError(`unknown how_known ${r.how_known}`);
  const w = r.where || {};
  const t = r.when || {};
  const when = { known: !!t.known };
  if (t.date != null) when.date = wellFormed(t.date);
  if (t.time != null) when.time = wellFormed(t.time);
  when.ongoing = !!t.ongoing;
  if (t.ongoing_unknown) when.ongoing_unknown = true;
  when.description = wellFormed(t.description);
  const body = {
    ...common("report", sentAt, lang),
    report: {
      category: r.category,
      details: wellFormed(r.details),
      where: { known: !!w.known, description: wellFormed(w.description) },
      when,
      people: (r.people || []).map((p) => ({ name: wellFormed(p.name), description: wellFormed(p.description) })),
      vehicles: (r.vehicles || []).map((v) => ({
        registration: wellFormed(v.registration),
        make_model: wellFormed(v.make_model),
        colour: wellFormed(v.colour),
        description: wellFormed(v.description),
      })),
      how_known: r.how_known,
      how_known_details: wellFormed(r.how_known_details),
    },
    // Entries made by attach.js (FORMAT.md#attachment-entry), in its member order.
    attachments,
    reply: material(reply),
  };
  return enc(JSON.stringify(body));
}

/** The JSON bytes of a `follow-up` payload (payload.rs FollowUp). */
export function followUpPayload({ sentAt, lang = "en", message, reply }) {
  const body = {
    ...common("follow-up", sentAt, lang),
    message: wellFormed(message),
    attachments: [],
    reply: material(reply),
  };
  return enc(JSON.stringify(body));
}

/**
 * Parse a reply payload: {"type":"reply","v":1,"sent_at","lang","from","message"},
 * and the optional "force" (the replying force's id, FORMAT.md#reply-payload:
 * a transferred case is answered by another force on the same code).
 * Unknown fields are ignored; a newer "v" or another type is refused.
 */
export function parseReplyPayload(bytes) {
  let p;
  try {
    p = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(u8(bytes)));
  } catch {
    throw new EnvelopeError("bad_payload", "not JSON");
  }
  if (!p || typeof p !== "object" || !Number.isInteger(p.v) || p.v < 0) throw new EnvelopeError("bad_payload", "no version");
  if (p.v !== PAYLOAD_VERSION) throw new EnvelopeError("unknown_payload_version");
  if (p.type !== "reply") throw new EnvelopeError("bad_payload", "not a reply");
  for (const f of ["sent_at", "lang", "from", "message"]) {
    if (typeof p[f] !== "string") throw new EnvelopeError("bad_payload", `no ${f}`);
  }
  const out = { type: "reply", v: p.v, sent_at: p.sent_at, lang: p.lang, from: p.from, message: p.message };
  if (typeof p.force === "string") out.force = p.force;
  return out;
}

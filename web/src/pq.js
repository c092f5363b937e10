// The X-Wing (MLKEM768-X25519) half of the page's cryptography, a bundle of
// its own (served as /pq.js) that quietline-crypto.js fetches only when the
// chosen force's key, or a reply found, is X-Wing: ML-KEM-768 is about
// 20 KB gzip, which the first load cannot carry (web/build.mjs budget).
//
// Primitives come from vetted libraries, no WebAssembly (Tor Browser at
// "Safer"): X-Wing from @hpke/hybridkem-x-wing (pure-JS ML-KEM from `mlkem`),
// HPKE from @hpke/core, SHAKE256 from @noble/hashes. It registers itself as
// globalThis.QuietlinePQ, so the page's classic script can load it with a
// same-origin <script> (CSP `script-src 'self'`).

import { CipherSuite } from "@hpke/core";
import { HkdfSha256 } from "@hpke/dhkem-x25519";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { XWing } from "@hpke/hybridkem-x-wing";
import { shake256 } from "@noble/hashes/sha3.js";
import * as Q from "./quietline-crypto.js";

const suite = new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
const te = new TextEncoder();
const LABEL = te.encode("DeriveKeyPair");

/**
 * DeriveKeyPair(ikm) of draft-ietf-hpke-pq-03 §4.5, as the Rust `hpke` crate
 * computes it: seed = SHAKE256 LabeledDerive(ikm, "DeriveKeyPair", "", 32),
 * i.e. SHAKE256(ikm ‖ "HPKE-v1" ‖ "KEM" ‖ u16(0x647a) ‖ u16(13) ‖
 * "DeriveKeyPair" ‖ u16(32)), then X-Wing's key pair of that seed.
 * (@hpke/hybridkem-x-wing's own deriveKeyPair hashes ikm alone, an earlier
 * revision, so reply keys would not match the console's.) Returns raw
 * { privateKey (the 32-byte seed), publicKey (1216 bytes) }.
 */
export async function deriveKeyPair(ikm) {
  const seed = shake256
    .create({ dkLen: 32 })
    .update(ikm)
    .update(te.encode("HPKE-v1KEM"))
    .update(Uint8Array.of(0x64, 0x7a, 0, LABEL.length))
    .update(LABEL)
    .update(Uint8Array.of(0, 32))
    .digest();
  const kp = await suite.kem.generateKeyPairDerand(seed);
  return { privateKey: seed, publicKey: new Uint8Array(await suite.kem.serializePublicKey(kp.publicKey)) };
}

/**
 * Seal a padded plaintext of `kind` to an X-Wing public key (FORMAT.md#sealing):
 * the header names KEM 0x647a; `ekm` (64 bytes, the eseed) only for
 * known-answer tests. Erases the plaintext.
 */
async function sealRaw(kind, routing, pk, plaintext, ekm) {
  const header = Q.buildHeader(kind, kind === Q.KIND_REPORT ? await Q.keyId(pk) : new Uint8Array(8), routing, Q.XWING_KEM_ID);
  const ctx = await suite.createSenderContext({
    recipientPublicKey: await suite.kem.deserializePublicKey(pk),
    info: Q.INFO[kind],
    ekm: ekm && Q.u8(ekm),
  });
  const ct = new Uint8Array(await ctx.seal(plaintext, header));
  plaintext.fill(0);
  return Q.concat(header, new Uint8Array(ctx.enc), ct);
}

/**
 * Open an X-Wing envelope of `kind` with an X-Wing private key (the 32-byte
 * seed), as quietline-crypto's openEnvelope does for X25519 (FORMAT.md#opening).
 */
export async function openEnvelope(sk, kind, bytes) {
  const env = Q.parseEnvelope(bytes);
  if (env.kind !== kind) throw new Q.EnvelopeError("wrong_kind");
  if (env.kem !== Q.XWING_KEM_ID) throw new Q.EnvelopeError("wrong_suite");
  if (kind === Q.KIND_REPORT) {
    const pk = new Uint8Array(await suite.kem.serializePublicKey((await suite.kem.generateKeyPairDerand(Q.u8(sk))).publicKey));
    if (Q.toHex(env.keyId) !== Q.toHex(await Q.keyId(pk))) throw new Q.EnvelopeError("wrong_key");
  }
  let pt;
  try {
    const ctx = await suite.createRecipientContext({
      recipientKey: await suite.kem.deserializePrivateKey(Q.u8(sk)),
      enc: env.enc.slice(),
      info: Q.INFO[kind],
    });
    pt = new Uint8Array(await ctx.open(env.ciphertext.slice(), env.header.slice()));
  } catch {
    throw new Q.EnvelopeError("decryption_failed");
  }
  try {
    return Q.unpad(pt);
  } finally {
    pt.fill(0);
  }
}

/** Open an X-Wing reply with the X-Wing reply key of the reply code `entropy`. */
async function openReply(entropy, bytes) {
  const s = await deriveReplySecrets(entropy);
  try {
    return Q.parseReplyPayload(await openEnvelope(s.replyPrivateKey, Q.KIND_REPLY, bytes));
  } finally {
    s.replyPrivateKey.fill(0);
    s.slotKey.fill(0);
  }
}

/**
 * The reply secrets of a code with an X-Wing reply key (FORMAT.md#reply-code):
 * thread id and slot key as for X25519, the key pair from
 * HKDF-Expand(PRK, "reply-key-xwing", 32).
 */
export async function deriveReplySecrets(entropy) {
  const s = await Q.deriveReplySecrets(entropy, 32);
  s.replyPrivateKey.fill(0);
  const ikm = await Q.hkdfSha256(entropy, Q.RC_SALT, te.encode("reply-key-xwing"), 32);
  const kp = await deriveKeyPair(ikm);
  ikm.fill(0);
  return { ...s, replyPrivateKey: kp.privateKey, replyPublicKey: kp.publicKey };
}

globalThis.QuietlinePQ = { deriveKeyPair, deriveReplySecrets, sealRaw, openEnvelope, openReply };

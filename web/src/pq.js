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
async function deriveKeyPair(ikm) {
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

/** HPKE base-mode open of a parsed X-Wing envelope with the X-Wing private key (the 32-byte seed); returns the padded plaintext. */
async function open(sk, env) {
  const ctx = await suite.createRecipientContext({
    recipientKey: await suite.kem.deserializePrivateKey(Q.u8(sk)),
    enc: env.enc.slice(),
    info: Q.INFO[env.kind],
  });
  return new Uint8Array(await ctx.open(env.ciphertext.slice(), env.header.slice()));
}

/**
 * The reply secrets of a code with an X-Wing reply key (FORMAT.md#reply-code):
 * thread id and slot key as for X25519, the key pair from
 * HKDF-Expand(PRK, "reply-key-xwing", 32).
 */
async function deriveReplySecrets(entropy) {
  const s = await Q.deriveReplySecrets(entropy, 32);
  s.replyPrivateKey.fill(0);
  const ikm = await Q.hkdfSha256(entropy, Q.RC_SALT, te.encode("reply-key-xwing"), 32);
  const kp = await deriveKeyPair(ikm);
  ikm.fill(0);
  return { ...s, replyPrivateKey: kp.privateKey, replyPublicKey: kp.publicKey };
}

globalThis.QuietlinePQ = { deriveKeyPair, deriveReplySecrets, sealRaw, open };

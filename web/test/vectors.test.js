// Known-answer tests: the page's crypto module against the Rust crate's
// committed vectors (crypto/tests/vectors/*.json, FORMAT.md#test-vectors), so
// browser and Rust produce the same bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import "../src/words.js"; // the word list, as the page loads it (loadWords)
import * as q from "../src/quietline-crypto.js";

const load = (name) =>
  JSON.parse(readFileSync(new URL(`../../crypto/tests/vectors/${name}`, import.meta.url), "utf8"));
const hx = q.fromHex;
const envelopes = load("envelope-v1.json");
const replyCodes = load("reply-code-v1.json");
const positives = envelopes.cases.filter((c) => !("error" in c));
const negatives = envelopes.cases.filter((c) => "error" in c);

test("the vector files have the cases this suite expects", () => {
  assert.ok(positives.length >= 7, `${positives.length} positive cases`);
  assert.ok(negatives.length >= 25, `${negatives.length} negative cases`);
  assert.ok(negatives.some((c) => c.kind === 2), "negative reply cases");
  assert.ok(positives.some((c) => c.kind === 1) && positives.some((c) => c.kind === 2));
  assert.equal(replyCodes.cases.length, 4);
});

for (const c of positives) {
  test(`positive: ${c.name}`, async () => {
    const pk = hx(c.recipient_pk);
    const sk = hx(c.recipient_sk);
    const payload = hx(c.payload);
    const routing = hx(c.routing);
    const want = hx(c.envelope);
    assert.deepEqual(await q.publicKeyFromPrivate(sk), pk, "recipient_sk matches recipient_pk");
    // Reports name the force key; replies carry the all-zero key id.
    assert.equal(c.kind === 1 ? q.toHex(await q.keyId(pk)) : "0".repeat(16), c.key_id);

    // Sealing with the fixed ephemeral IKM reproduces the envelope byte for byte.
    const sealed =
      c.kind === 1
        ? await q.sealReport(new TextDecoder().decode(routing), pk, payload, { ephIkm: hx(c.eph_ikm) })
        : await q.sealReply(routing, pk, payload, { ephIkm: hx(c.eph_ikm) });
    assert.equal(sealed.length, want.length, "length");
    assert.equal(q.toHex(sealed), c.envelope, "sealed bytes equal the vector");

    // The header alone, built by buildHeader, is the vector's prefix.
    const header = q.buildHeader(c.kind, hx(c.key_id), routing);
    assert.equal(q.toHex(header), c.envelope.slice(0, header.length * 2));

    const env = q.parseEnvelope(want);
    assert.equal(env.kind, c.kind);
    assert.equal(q.toHex(env.keyId), c.key_id);
    if (c.kind === 1) assert.equal(env.routing, new TextDecoder().decode(routing));
    else assert.deepEqual(env.routing, routing);
    assert.equal(env.ciphertext.length, q.bucketFor(payload.length) + q.TAG_LEN);

    // Opening with recipient_sk gives the payload.
    assert.deepEqual(await q.openEnvelope(sk, c.kind, want), payload);
    // ...and not as the other kind.
    await assert.rejects(q.openEnvelope(sk, c.kind === 1 ? 2 : 1, want), { code: "wrong_kind" });
  });
}

test("sealing without a fixed IKM is random, and opens", async () => {
  const c = positives.find((p) => p.kind === 1);
  const pk = hx(c.recipient_pk);
  const a = await q.sealReport("demo", pk, hx(c.payload));
  const b = await q.sealReport("demo", pk, hx(c.payload));
  assert.notEqual(q.toHex(a), q.toHex(b));
  assert.equal(a.length, hx(c.envelope).length);
  assert.deepEqual(await q.openEnvelope(hx(c.recipient_sk), 1, a), hx(c.payload));
});

for (const c of negatives) {
  test(`negative: ${c.name} → ${c.error}`, async () => {
    // Opened expecting the case's kind, 1 when absent.
    await assert.rejects(q.openEnvelope(hx(c.recipient_sk), c.kind ?? q.KIND_REPORT, hx(c.envelope)), (e) => {
      assert.ok(e instanceof q.EnvelopeError, `${e}`);
      assert.equal(e.code, c.error, e.message);
      return true;
    });
    // Shape errors are found by the parser alone, with the same code.
    const shape = ["bad_magic", "unknown_version", "unknown_kind", "unknown_suite", "routing_length",
      "invalid_force_id", "reply_key_id_not_zero", "bad_ciphertext_length", "truncated"];
    if (shape.includes(c.error)) assert.throws(() => q.parseEnvelope(hx(c.envelope)), { code: c.error });
    else q.parseEnvelope(hx(c.envelope));
  });
}

test("parser edge cases match the Rust parser", () => {
  assert.throws(() => q.parseEnvelope(new Uint8Array(0)), { code: "truncated" });
  assert.throws(() => q.parseEnvelope(Uint8Array.of(0x51)), { code: "truncated" });
  assert.throws(() => q.parseEnvelope(Uint8Array.of(0x78)), { code: "bad_magic" });
  const reply = hx(positives.find((p) => p.kind === 2).envelope);
  const r = reply.slice();
  r[18] = 4;
  assert.throws(() => q.parseEnvelope(r), { code: "routing_length" });
});

test("the kind-2 vector is reply 0 of reply-code vector 0, and its words open it", async () => {
  const c = positives.find((p) => p.kind === 2);
  const rc = replyCodes.cases[0];
  assert.equal(c.routing, rc.slots[0]);
  assert.equal(c.recipient_sk, rc.reply_sk);
  // What the page does: words → secrets → slot 0 address → open the reply.
  const s = await q.deriveReplySecrets(q.wordsToReplyCode(rc.mnemonic));
  assert.equal(q.toHex(await q.slotAddress(s.slotKey, 0)), c.routing);
  const env = q.parseEnvelope(hx(c.envelope));
  assert.equal(q.toHex(env.keyId), "0000000000000000");
  const reply = await q.openReply(s.replyPrivateKey, hx(c.envelope));
  assert.deepEqual(reply, {
    type: "reply", v: 1, sent_at: "2026-11-28T09:00:00Z", lang: "en", from: "Demo Constabulary",
    message: "Thank you. Can you tell us roughly what time the cars arrive?",
  });
  // Another code's key does not open it.
  const other = await q.deriveReplySecrets(hx(replyCodes.cases[1].entropy));
  await assert.rejects(q.openReply(other.replyPrivateKey, hx(c.envelope)), { code: "decryption_failed" });
});

test("RFC 9180 base-mode vector for the v1 suite, through the same HPKE setup", async () => {
  const [t] = load("rfc9180-base-x25519-sha256-chacha20poly1305.json");
  assert.deepEqual([t.mode, t.kem_id, t.kdf_id, t.aead_id], [0, 0x20, 1, 3]);
  const { CipherSuite } = await import("@hpke/core");
  const { DhkemX25519HkdfSha256, HkdfSha256 } = await import("@hpke/dhkem-x25519");
  const { Chacha20Poly1305 } = await import("@hpke/chacha20poly1305");
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
  const r = await q.deriveKeyPair(hx(t.ikmR));
  const want = hx(t.skRm);
  want[0] &= 248;
  want[31] = (want[31] & 127) | 64;
  assert.deepEqual(r.privateKey, want, "skRm, clamped");
  assert.equal(q.toHex(r.publicKey), t.pkRm);
  const sender = await suite.createSenderContext({
    recipientPublicKey: await suite.kem.deserializePublicKey(r.publicKey), info: hx(t.info), ekm: hx(t.ikmE),
  });
  assert.equal(q.toHex(new Uint8Array(sender.enc)), t.enc);
  const recipient = await suite.createRecipientContext({
    recipientKey: await suite.kem.deserializePrivateKey(r.privateKey), enc: hx(t.enc), info: hx(t.info),
  });
  assert.ok(t.encryptions.length > 1);
  for (const e of t.encryptions) {
    const ct = new Uint8Array(await sender.seal(hx(e.pt), hx(e.aad)));
    assert.equal(q.toHex(ct), e.ct);
    assert.equal(q.toHex(new Uint8Array(await recipient.open(ct, hx(e.aad)))), e.pt);
  }
  for (const x of t.exports) {
    assert.equal(q.toHex(new Uint8Array(await sender.export(hx(x.exporter_context), x.L))), x.exported_value);
  }
});

for (const [i, c] of replyCodes.cases.entries()) {
  test(`reply code ${i}: every field`, async () => {
    assert.equal(q.replyCodeToWords(hx(c.entropy)), c.mnemonic);
    assert.equal(q.toHex(q.wordsToReplyCode(c.mnemonic)), c.entropy);
    const s = await q.deriveReplySecrets(hx(c.entropy));
    assert.equal(q.toHex(s.replyPrivateKey), c.reply_sk);
    assert.equal(q.toHex(s.replyPublicKey), c.reply_pk);
    assert.equal(q.toHex(s.threadId), c.thread_id);
    assert.equal(q.toHex(s.slotKey), c.slot_key);
    assert.equal(c.slots.length, 4);
    for (const [n, want] of c.slots.entries()) assert.equal(q.toHex(await q.slotAddress(s.slotKey, n)), want);
    assert.deepEqual(await q.publicKeyFromPrivate(s.replyPrivateKey), s.replyPublicKey);
  });
}

test("the sample report payload is rebuilt byte for byte from its fields", async () => {
  const c = positives.find((p) => p.name === "report, sample payload");
  const want = new TextDecoder().decode(hx(c.payload));
  const secrets = await q.deriveReplySecrets(hx(replyCodes.cases[0].entropy));
  const got = q.reportPayload({
    sentAt: "2026-11-27T19:45:00Z",
    lang: "en",
    report: {
      category: "drugs",
      details: "Cars stop outside number 12 for a few minutes most evenings; packages change hands.",
      where: { known: true, description: "Outside 12 Example Street, Exampleton" },
      when: { known: true, date: "2026-11-20", time: "22:15", ongoing: true, description: "most evenings" },
      people: [{ name: "", description: "Tall man, grey hoodie, 30s" }],
      vehicles: [{ registration: "AB12 CDE", make_model: "Ford Focus", colour: "silver", description: "" }],
      how_known: "saw",
      how_known_details: "I live opposite",
    },
    reply: q.replyMaterial(secrets),
  });
  assert.equal(new TextDecoder().decode(got), want);
  // And sealing that payload with the vector's IKM gives the vector envelope.
  const sealed = await q.sealReport("demo", hx(c.recipient_pk), got, { ephIkm: hx(c.eph_ikm) });
  assert.equal(q.toHex(sealed), c.envelope);
});

test("a transferred case's reply (transfer-v1.json) opens with the same words and names its force", async () => {
  const v = load("transfer-v1.json");
  const c = v.cases.find((x) => x.kind === 2);
  const rc = replyCodes.cases[0];
  const s = await q.deriveReplySecrets(q.wordsToReplyCode(rc.mnemonic));
  assert.equal(q.toHex(await q.slotAddress(s.slotKey, 1)), q.toHex(q.parseEnvelope(hx(c.envelope)).routing));
  const reply = await q.openReply(s.replyPrivateKey, hx(c.envelope));
  assert.equal(reply.from, "Western Demo Police");
  assert.equal(reply.force, "west");
  // The passed-on report is an ordinary report to any reader: the note is one more member.
  const report = JSON.parse(new TextDecoder().decode(hx(v.cases[0].payload)));
  assert.equal(report.type, "report");
  assert.deepEqual(report.transfer, v.note);
});

// The X-Wing suite in the page (issue 21): pq.js against the Rust crate's
// X-Wing vectors (crypto/tests/vectors/envelope-xwing-v1.json, which the
// crate checks against the X-Wing draft's reference vectors): the same
// envelopes from the same eseed, the same reply keys from the same reply
// codes (draft-ietf-hpke-pq-03 DeriveKeyPair), and the negative cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as q from "../src/quietline-crypto.js";
import { deriveKeyPair, deriveReplySecrets, openEnvelope } from "../src/pq.js";

const V = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/envelope-xwing-v1.json", import.meta.url), "utf8"));
const hx = (s) => q.fromHex(s);
const positive = V.cases.filter((c) => c.envelope && c.payload !== undefined && !c.error);

test("pq.js seals byte-identical X-Wing envelopes from the vectors' eseed, and opens them", async () => {
  assert.ok(positive.length >= 4);
  for (const c of positive) {
    const pk = hx(c.recipient_pk);
    if (c.kind === q.KIND_REPORT) assert.equal(q.toHex(await q.keyId(pk)), c.key_id, c.name);
    const payload = hx(c.payload);
    const sealed = c.kind === q.KIND_REPORT
      ? await q.sealReport(new TextDecoder().decode(hx(c.routing)), pk, payload, { ephIkm: hx(c.eph_ikm) })
      : await q.sealReply(hx(c.routing), pk, payload, { ephIkm: hx(c.eph_ikm) });
    assert.equal(q.toHex(sealed), c.envelope, c.name);
    assert.equal(q.parseEnvelope(sealed).kem, q.XWING_KEM_ID);
    assert.deepEqual(await openEnvelope(hx(c.recipient_sk), c.kind, sealed), payload, c.name);
  }
});

test("the X-Wing reply keys of the reply codes are the console's (reply-key-xwing, DeriveKeyPair of draft-ietf-hpke-pq-03)", async () => {
  assert.ok(V.reply_keys.length >= 1);
  for (const r of V.reply_keys) {
    const s = await deriveReplySecrets(hx(r.entropy));
    assert.equal(q.toHex(s.replyPublicKey), r.reply_pk);
    assert.equal(q.toHex(s.replyPrivateKey), r.reply_sk);
    // Through the page's entry point with a force key of X-Wing length, too.
    const t = await q.deriveReplySecrets(hx(r.entropy), new Uint8Array(1216));
    assert.equal(q.toHex(t.replyPublicKey), r.reply_pk);
    assert.equal(q.replyMaterial(t).suite, "xwing");
    assert.equal(q.replyMaterial(await q.deriveReplySecrets(hx(r.entropy))).suite, undefined);
  }
  const kp = await deriveKeyPair(new Uint8Array(32));
  assert.equal(kp.publicKey.length, 1216);
});

test("every negative X-Wing case is refused with its code", async () => {
  const negative = V.cases.filter((c) => c.error);
  assert.ok(negative.length >= 8);
  for (const c of negative) {
    await assert.rejects(
      (async () => {
        const bytes = hx(c.envelope);
        if (c.suite === "x25519") return q.openEnvelope(hx(c.recipient_sk), c.kind ?? q.KIND_REPORT, bytes);
        return openEnvelope(hx(c.recipient_sk), c.kind ?? q.KIND_REPORT, bytes);
      })(),
      (e) => {
        assert.equal(e.code, c.error, c.name);
        return true;
      },
    );
  }
});

test("a reply sealed to an X-Wing reply key opens on the replies page from the code alone", async () => {
  const code = q.generateReplyCode();
  const hybrid = await q.deriveReplySecrets(code, new Uint8Array(1216));
  const slot = await q.slotAddress(hybrid.slotKey, 0);
  const reply = hx(positive.find((c) => c.kind === q.KIND_REPLY).payload);
  const sealed = await q.sealReply(slot, hybrid.replyPublicKey, reply);
  const page = await q.deriveReplySecrets(code);
  assert.deepEqual(page.slotKey, hybrid.slotKey);
  const opened = await q.openReply(page, sealed);
  assert.deepEqual(opened, q.parseReplyPayload(reply));
  q.wipeSecrets(page);
  assert.ok(page.code.every((b) => b === 0) && page.slotKey.every((b) => b === 0));
});

test("pq.js is its own bundle, within its budget, outside the first load; app.js carries no ML-KEM", async () => {
  const { buildFiles, FIRST_LOAD_FILES, PQ_BUDGET_BYTES } = await import("../build.mjs");
  const { gzipSync } = await import("node:zlib");
  const files = await buildFiles();
  assert.ok(!FIRST_LOAD_FILES.includes("pq.js"));
  const gz = gzipSync(files["pq.js"], { level: 9 }).length;
  assert.ok(gz <= PQ_BUDGET_BYTES, `pq.js is ${gz} B gzip, over its ${PQ_BUDGET_BYTES} B`);
  const app = new TextDecoder().decode(files["app.js"]);
  const pq = new TextDecoder().decode(files["pq.js"]);
  assert.ok(pq.includes("QuietlinePQ") && app.includes('"/pq.js"'));
  assert.ok(!app.includes("generateKeyPairDerand") && pq.includes("generateKeyPairDerand"), "the X-Wing KEM stays out of app.js");
});

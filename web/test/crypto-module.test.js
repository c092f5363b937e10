// The crypto module's own rules beyond the vectors: typed reply codes,
// encodings, padding edges, payload shapes, and what it refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import "../src/words.js"; // the word list, as the page loads it (loadWords)
import * as q from "../src/quietline-crypto.js";

const rc = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/reply-code-v1.json", import.meta.url), "utf8")).cases;
const env = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/envelope-v1.json", import.meta.url), "utf8")).cases;
const words = rc[0].mnemonic.split(" ");

test("reply code input is case-insensitive and splits on Unicode White_Space only", () => {
  const typed = `  ${words.map((w, i) => (i % 2 ? w.toUpperCase() : w)).join("\n\t ")}  `;
  assert.equal(q.toHex(q.wordsToReplyCode(typed)), rc[0].entropy);
  assert.equal(q.toHex(q.wordsToReplyCode(words.join("\u00a0\u2003"))), rc[0].entropy);
  assert.equal(q.toHex(q.wordsToReplyCode(words.join("\u0085"))), rc[0].entropy, "NEL is White_Space");
  // U+FEFF is not White_Space (JavaScript's \s would split on it; Rust does not).
  assert.throws(() => q.wordsToReplyCode(words.join("\ufeff")), (e) => e.code === "word_count" && e.count === 1);
});

test("reply code errors: word count, unknown word with position, checksum — in that order", () => {
  assert.throws(() => q.wordsToReplyCode(""), (e) => e.code === "word_count" && e.count === 0);
  assert.throws(() => q.wordsToReplyCode(words.slice(0, 11).join(" ")), (e) => e.code === "word_count" && e.count === 11);
  assert.throws(() => q.wordsToReplyCode([...words, "zoo"].join(" ")), (e) => e.code === "word_count" && e.count === 13);
  // Count is checked before spelling: 11 words with a typo is still a count error.
  assert.throws(() => q.wordsToReplyCode(["qwertyx", ...words.slice(1, 11)].join(" ")), { code: "word_count" });
  const typo = [...words];
  typo[3] = "Qwertyx";
  assert.throws(() => q.wordsToReplyCode(typo.join(" ")), (e) => e.code === "unknown_word" && e.position === 4 && e.word === "qwertyx");
  // The first unknown word is reported.
  typo[9] = "nope";
  assert.throws(() => q.wordsToReplyCode(typo.join(" ")), (e) => e.position === 4);
  const swapped = [...words];
  [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
  assert.throws(() => q.wordsToReplyCode(swapped.join(" ")), (e) => e instanceof q.ReplyCodeError && e.code === "checksum");
  // Every word valid, last word wrong: checksum.
  assert.throws(() => q.wordsToReplyCode([...words.slice(0, 11), "abandon"].join(" ")), { code: "checksum" });
});

test("fresh reply codes are 16 random bytes and round-trip through 12 words", () => {
  const a = q.generateReplyCode();
  const b = q.generateReplyCode();
  assert.equal(a.length, 16);
  assert.notDeepEqual(a, b);
  const w = q.replyCodeToWords(a);
  assert.equal(w.split(" ").length, 12);
  assert.deepEqual(q.wordsToReplyCode(w), a);
  assert.throws(() => q.replyCodeToWords(new Uint8Array(15)));
});

test("base64url without padding, strictly", () => {
  for (let n = 0; n < 40; n++) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 89 + n) & 255);
    const s = q.toBase64url(b);
    assert.equal(s, Buffer.from(b).toString("base64url"));
    assert.deepEqual(q.fromBase64url(s), b);
  }
  assert.throws(() => q.fromBase64url("AAA="), TypeError);
  assert.throws(() => q.fromBase64url("AA+A"), TypeError);
  assert.throws(() => q.fromBase64url("A"), TypeError);
  assert.throws(() => q.fromBase64url("AB"), TypeError); // non-zero trailing bits
  assert.deepEqual(q.fromBase64url(" AA \n".trim()), Uint8Array.of(0));
});

test("public keys: 32 bytes, not all zero", async () => {
  assert.throws(() => q.checkPublicKey(new Uint8Array(32)), /all-zero/);
  assert.throws(() => q.checkPublicKey(new Uint8Array(31)), /32 bytes/);
  assert.throws(() => q.publicKeyFromBase64url("not base64!"));
  await assert.rejects(q.sealReport("demo", new Uint8Array(32), new Uint8Array(0)));
  const pk = q.fromHex(env[0].recipient_pk);
  assert.deepEqual(q.publicKeyFromBase64url(q.toBase64url(pk)), pk);
  await assert.rejects(q.sealReport("Demo", pk, new Uint8Array(0)), /force id/);
  await assert.rejects(q.sealReport("a".repeat(65), pk, new Uint8Array(0)), /force id/);
});

test("a low-order recipient key is refused when sealing (all-zero DH output)", async () => {
  const one = new Uint8Array(32);
  one[0] = 1;
  await assert.rejects(q.sealReport("demo", one, new Uint8Array(0)));
});

test("force ids", () => {
  assert.ok(q.isValidForceId("met-police-2"));
  for (const bad of ["", "a_b", "A", "a".repeat(65), "é", "a b", null]) assert.ok(!q.isValidForceId(bad), String(bad));
  assert.ok(q.isValidForceId("a".repeat(64)));
});

test("padding buckets and their edges", () => {
  assert.equal(q.bucketFor(0), 1024);
  assert.equal(q.bucketFor(1020), 1024);
  assert.equal(q.bucketFor(1021), 2048);
  assert.equal(q.bucketFor(q.MAX_PAYLOAD_LEN), 65536);
  assert.throws(() => q.bucketFor(q.MAX_PAYLOAD_LEN + 1), { code: "too_large" });
  const p = q.pad(new TextEncoder().encode("hello"));
  assert.equal(p.length, 1024);
  assert.deepEqual([...p.slice(0, 9)], [0, 0, 0, 5, 104, 101, 108, 108, 111]);
  assert.equal(new TextDecoder().decode(q.unpad(p)), "hello");
  const dirty = p.slice();
  dirty[1000] = 1;
  assert.throws(() => q.unpad(dirty), { code: "nonzero_padding" });
  const long = p.slice();
  long.set([0, 0, 3, 253], 0); // 1021
  assert.throws(() => q.unpad(long), { code: "length_beyond_bucket" });
  const huge = p.slice();
  huge.set([255, 255, 255, 255], 0);
  assert.throws(() => q.unpad(huge), { code: "length_beyond_bucket" });
  assert.throws(() => q.unpad(new Uint8Array(1000)), { code: "bad_padding" });
});

test("a follow-up payload has the Rust field order and the same reply material", async () => {
  const s = await q.deriveReplySecrets(q.fromHex(rc[0].entropy));
  const m = q.replyMaterial(s);
  const json = new TextDecoder().decode(q.followUpPayload({ sentAt: "2026-11-29T10:00:00Z", message: "About 10pm.\n\"Fridays\"", reply: m }));
  assert.equal(json,
    '{"type":"follow-up","v":1,"sent_at":"2026-11-29T10:00:00Z","lang":"en","message":"About 10pm.\\n\\"Fridays\\"","attachments":[],' +
    `"reply":{"public_key":"${q.toBase64url(q.fromHex(rc[0].reply_pk))}","thread_id":"${rc[0].thread_id}","slot_key":"${q.toBase64url(q.fromHex(rc[0].slot_key))}"}}`);
});

test("report payload: unknown-place and unknown-time answers, and no optional date or time", () => {
  const reply = { public_key: "p", thread_id: "t", slot_key: "s" };
  const json = new TextDecoder().decode(q.reportPayload({
    sentAt: "2026-11-29T10:00:00Z",
    report: { category: "other", details: "d", where: { known: false }, when: { known: false, ongoing: false }, how_known: "prefer-not-to-say" },
    reply,
  }));
  assert.equal(json,
    '{"type":"report","v":1,"sent_at":"2026-11-29T10:00:00Z","lang":"en","report":{"category":"other","details":"d",' +
    '"where":{"known":false,"description":""},"when":{"known":false,"ongoing":false,"description":""},"people":[],"vehicles":[],' +
    '"how_known":"prefer-not-to-say","how_known_details":""},"attachments":[],"reply":{"public_key":"p","thread_id":"t","slot_key":"s"}}');
  assert.throws(() => q.reportPayload({ sentAt: "x", report: { category: "cats", how_known: "saw" }, reply }), /category/);
  assert.throws(() => q.reportPayload({ sentAt: "x", report: { category: "drugs", how_known: "guess" }, reply }), /how_known/);
  assert.throws(() => q.reportPayload({ sentAt: "x", report: { category: "drugs", how_known: "saw" } }), /reply material/);
});

test("payload text is well-formed UTF-8 JSON: lone surrogates become U+FFFD, pairs stay", () => {
  const reply = { public_key: "p", thread_id: "t", slot_key: "s" };
  const out = new TextDecoder("utf-8", { fatal: true }).decode(q.followUpPayload({ sentAt: "x", message: "a\ud800b\udc00c\ud83d\ude00\u2028<", reply }));
  const msg = JSON.parse(out).message;
  assert.equal(msg, "a\ufffdb\ufffdc\ud83d\ude00\u2028<");
  assert.ok(!out.includes("\\ud"), "no surrogate escapes that serde_json would refuse");
});

test("sent_at is RFC 3339 UTC to the minute", () => {
  assert.equal(q.sentAtNow(new Date("2026-11-27T19:45:37.123Z")), "2026-11-27T19:45:00Z");
  assert.match(q.sentAtNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
});

test("reply payloads: the reply shape only, version 1 only", () => {
  const enc = (o) => new TextEncoder().encode(JSON.stringify(o));
  const good = { type: "reply", v: 1, sent_at: "s", lang: "en", from: "Demo", message: "m", extra: 1 };
  assert.deepEqual(q.parseReplyPayload(enc(good)), { type: "reply", v: 1, sent_at: "s", lang: "en", from: "Demo", message: "m" });
  assert.throws(() => q.parseReplyPayload(enc({ ...good, v: 2 })), { code: "unknown_payload_version" });
  assert.throws(() => q.parseReplyPayload(enc({ ...good, type: "report" })), { code: "bad_payload" });
  assert.throws(() => q.parseReplyPayload(enc({ ...good, from: 3 })), { code: "bad_payload" });
  assert.throws(() => q.parseReplyPayload(Uint8Array.of(0xff, 0x7b)), { code: "bad_payload" });
  assert.throws(() => q.parseReplyPayload(enc([1])), { code: "bad_payload" });
});

test("a reply sealed to a reporter's reply key opens with the key derived from the words", async () => {
  const s = await q.deriveReplySecrets(q.wordsToReplyCode(rc[3].mnemonic));
  const slot = await q.slotAddress(s.slotKey, 7);
  const payload = new TextEncoder().encode(JSON.stringify({ type: "reply", v: 1, sent_at: "t", lang: "en", from: "F", message: "hi" }));
  const sealed = await q.sealReply(slot, s.replyPublicKey, payload);
  const parsed = q.parseEnvelope(sealed);
  assert.equal(parsed.kind, q.KIND_REPLY);
  assert.deepEqual(parsed.routing, slot);
  assert.equal((await q.openReply(s.replyPrivateKey, sealed)).message, "hi");
  assert.equal(q.toHex(parsed.keyId), "0000000000000000", "replies carry the all-zero key id");
  const other = await q.deriveReplySecrets(q.wordsToReplyCode(rc[1].mnemonic));
  await assert.rejects(q.openReply(other.replyPrivateKey, sealed), { code: "decryption_failed" });
  await assert.rejects(q.openEnvelope(s.replyPrivateKey, q.KIND_REPORT, sealed), { code: "wrong_kind" });
});

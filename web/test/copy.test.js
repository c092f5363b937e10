// The reporter's own copies in the page (crypto/FORMAT.md#own-copies):
// copy.js against the Rust crate's vectors (crypto/tests/vectors/copy-v1.json):
// the same copy box from the same code, the same copy envelopes from the same
// ephemeral input in both suites, each opened with the code (and with no
// other), the copy payload rebuilt from the message as sent, refusals, and
// the conversation order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as q from "../src/quietline-crypto.js";
import "../src/pq.js"; // registers globalThis.QuietlinePQ, as the page's /pq.js does
import { copyBox, copyPayload, openCopy, order, parseCopyPayload, sealCopy } from "../src/copy.js";

const V = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/copy-v1.json", import.meta.url), "utf8"));
const RC = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/reply-code-v1.json", import.meta.url), "utf8"));
const hx = (s) => q.fromHex(s);
const text = (b) => new TextDecoder().decode(b);

test("the copy box of each reply code is the crate's, and none of its reply slots", async () => {
  assert.equal(V.copy_boxes.length, RC.cases.length);
  for (const [i, b] of V.copy_boxes.entries()) {
    assert.equal(b.entropy, RC.cases[i].entropy);
    const box = q.toHex(await copyBox(hx(b.entropy)));
    assert.equal(box, b.copy_box);
    assert.ok(!RC.cases[i].slots.includes(box));
  }
});

test("copies seal byte for byte as the crate's in both suites, open with their code only, and rebuild from the message sent", async () => {
  assert.equal(V.sealed.length, 3);
  for (const c of V.sealed) {
    const code = hx(c.entropy);
    const payload = hx(c.payload);
    // The page builds the copy from the payload it sealed to the force.
    const p = JSON.parse(text(payload));
    const sent = new TextEncoder().encode(JSON.stringify(p.sent));
    assert.equal(text(copyPayload(sent, c.seq, c.after_replies)), text(payload), c.name);
    // Sealed to the reply key of the suite of the force key (its length tells).
    const forcePk = new Uint8Array(c.suite === "xwing" ? 1216 : 32).fill(1);
    const sealed = await sealCopy(code, forcePk, payload, { ephIkm: hx(c.eph_ikm) });
    assert.equal(q.toHex(sealed), c.envelope, c.name);
    const opened = await openCopy(code, hx(c.envelope));
    assert.deepEqual(opened, p, c.name);
    assert.equal(opened.seq, c.seq);
    // Another code: another box, so it is refused before any key is tried.
    await assert.rejects(openCopy(new Uint8Array(16).fill(0x77), hx(c.envelope)), (e) => e.code === "misrouted");
    // Moved to another box by the server: refused.
    const moved = hx(c.envelope);
    moved[19] ^= 1;
    await assert.rejects(openCopy(code, moved));
  }
});

test("a reply is not a copy, nor a copy a reply", async () => {
  const c = V.sealed[0];
  const code = hx(c.entropy);
  // The copy opens as a kind-2 envelope with the reply key, but its payload is no reply.
  const s = await q.deriveReplySecrets(code);
  await assert.rejects(q.openReply(s, hx(c.envelope)), (e) => e.code === "bad_payload");
  // A reply payload in the copy box is refused as a copy.
  const reply = new TextEncoder().encode(JSON.stringify({ type: "reply", v: 1, sent_at: "x", lang: "en", from: "F", message: "m" }));
  const env = await q.sealReply(await copyBox(code), s.replyPublicKey, reply);
  await assert.rejects(openCopy(code, env), (e) => e.code === "bad_payload");
});

test("copy payloads are checked: version first, then shape", () => {
  const good = JSON.parse(text(hx(V.sealed[1].payload)));
  const bytes = (o) => new TextEncoder().encode(JSON.stringify(o));
  assert.equal(parseCopyPayload(bytes(good)).seq, 1);
  assert.throws(() => parseCopyPayload(bytes({ ...good, v: 2, type: "nonsense" })), (e) => e.code === "unknown_payload_version");
  for (const bad of [{ ...good, type: "reply" }, { ...good, seq: -1 }, { ...good, seq: 2 ** 32 }, { ...good, after_replies: "1" },
    { ...good, sent: { ...good.sent, type: "reply" } }, { ...good, sent: { ...good.sent, message: 5 } }, { ...good, sent: null }]) {
    assert.throws(() => parseCopyPayload(bytes(bad)), (e) => e.code === "bad_payload");
  }
  assert.throws(() => parseCopyPayload(new TextEncoder().encode("not json")), (e) => e.code === "bad_payload");
});

test("the conversation order is the crate's", () => {
  assert.ok(V.orders.length >= 3);
  for (const o of V.orders) assert.deepEqual(order(o.found), o.ordered);
  // Copies at the same place: by sent_at, then as found.
  const a = { copy: { after_replies: 1, seq: 3, sent_at: "2026-12-07T10:00:00Z" } };
  const b = { copy: { after_replies: 1, seq: 3, sent_at: "2026-12-07T09:00:00Z" } };
  assert.deepEqual(order([{ reply: 1 }, a, { reply: 0 }, b]), [{ reply: 0 }, b, a, { reply: 1 }]);
});

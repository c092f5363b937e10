// The reporter's own sealed copies and the whole conversation
// (../../crypto/FORMAT.md#own-copies), a bundle of its own (served as
// /copy.js) that the page fetches when a message has been sent or a reply
// code is checked: the first load cannot carry it (web/build.mjs budget).
// It registers itself as globalThis.QuietlineCopy.
//
// It owns: the copy box a code derives, the copy payload, sealing a copy to
// the code's own reply key and writing it with a proof of work (its own
// workers, in the background: nothing waits for it), reading the force's
// replies and the reporter's copies and opening them with the code, putting
// them in the order of the conversation (what is sealed inside, never the
// server's order), and drawing that conversation. It keeps nothing: callers
// pass the code and it erases what it derived. Words come from the page's
// catalogue through `ui.t` (the page's own i18n state).

import * as Q from "./quietline-crypto.js";
import { OPTS, getSlot } from "./api.js";
import { getChallenge } from "./send.js";
import { h, para } from "./dom.js";

const te = new TextEncoder();
const INFO_COPY_BOX = te.encode("copy-box");
/** Most reply slots read (as the page did before). */
const MAX_SLOTS = 1000;

/** The copy box of a reply code (16 bytes): HKDF-Expand(PRK, "copy-box", 32). */
export function copyBox(entropy) {
  return Q.hkdfSha256(Q.u8(entropy), Q.RC_SALT, INFO_COPY_BOX, 32);
}

/**
 * The JSON bytes of a copy payload (FORMAT.md#copy-payload): `sent` is the
 * payload exactly as sealed to the force (its JSON bytes), `sent_at` and
 * `lang` are its own; members in the reference writer's order.
 */
export function copyPayload(sentBytes, seq, afterReplies) {
  const sent = JSON.parse(new TextDecoder().decode(sentBytes));
  return te.encode(JSON.stringify({
    type: "copy", v: Q.PAYLOAD_VERSION, sent_at: sent.sent_at, lang: sent.lang, seq, after_replies: afterReplies, sent,
  }));
}

const u32 = (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** Parse a copy payload (FORMAT.md#own-copies, reading, step 3); throws EnvelopeError "bad_payload" or "unknown_payload_version". */
export function parseCopyPayload(bytes) {
  let p;
  try {
    p = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Q.u8(bytes)));
  } catch {
    throw new Q.EnvelopeError("bad_payload", "not JSON");
  }
  if (!p || typeof p !== "object" || !Number.isInteger(p.v)) throw new Q.EnvelopeError("bad_payload", "no version");
  if (p.v !== Q.PAYLOAD_VERSION) throw new Q.EnvelopeError("unknown_payload_version");
  const s = p.sent;
  if (p.type !== "copy" || !u32(p.seq) || !u32(p.after_replies) || typeof p.sent_at !== "string" || typeof p.lang !== "string"
    || !s || typeof s !== "object" || !["report", "follow-up"].includes(s.type) || s.v !== Q.PAYLOAD_VERSION) {
    throw new Q.EnvelopeError("bad_payload", "not a copy");
  }
  if (s.type === "report" ? !s.report || typeof s.report.details !== "string" : typeof s.message !== "string") {
    throw new Q.EnvelopeError("bad_payload", "not a copy");
  }
  return p;
}

/**
 * Seal a copy (FORMAT.md#own-copies, writing, steps 1–3): a kind-2
 * envelope to the code's own reply key of the suite of `forcePk` (the force
 * key the message went to), routed to the code's copy box. `options.ephIkm`
 * fixes the ephemeral input for known-answer tests only.
 */
export async function sealCopy(entropy, forcePk, payload, options = {}) {
  const secrets = await Q.deriveReplySecrets(entropy, forcePk);
  try {
    return await Q.sealReply(await copyBox(entropy), secrets.replyPublicKey, payload, options);
  } finally {
    Q.wipeSecrets(secrets);
  }
}

/**
 * Open a copy with the code (reading, steps 1–3): routed to the code's box,
 * opened with the reply key of the envelope's own suite. Returns the payload
 * object; throws EnvelopeError.
 */
export async function openCopy(entropy, bytes) {
  const env = Q.parseEnvelope(bytes);
  if (env.kind !== Q.KIND_REPLY || Q.toHex(env.routing) !== Q.toHex(await copyBox(entropy))) throw new Q.EnvelopeError("misrouted");
  const xwing = env.kem === Q.XWING_KEM_ID;
  const secrets = await Q.deriveReplySecrets(entropy, xwing ? 1216 : 32);
  try {
    const open = xwing ? globalThis.QuietlinePQ.openEnvelope : Q.openEnvelope;
    return parseCopyPayload(await open(secrets.replyPrivateKey, Q.KIND_REPLY, bytes));
  } finally {
    Q.wipeSecrets(secrets);
  }
}

/**
 * The conversation order (FORMAT.md#conversation-order): a copy that had
 * seen `a` replies after reply a − 1 and before reply a, copies between the
 * same replies by `seq`, then by `sent_at`. Items are { reply: i } or
 * { copy: { after_replies, seq, sent_at } }; returns a new sorted array.
 */
export function order(items) {
  const key = (m) => (m.copy ? [m.copy.after_replies, 0, m.copy.seq, m.copy.sent_at || ""] : [m.reply, 1, 0, ""]);
  return items.map((m, i) => [key(m), i, m]).sort((a, b) => {
    for (let k = 0; k < 4; k++) if (a[0][k] !== b[0][k]) return a[0][k] < b[0][k] ? -1 : 1;
    return a[1] - b[1];
  }).map((x) => x[2]);
}

// ---------------------------------------------------------------- requests

/**
 * GET /api/v1/copies/{box} → { copies: [bytes], days, more }: the envelopes
 * and the server's retention (days, and the most random days beyond).
 * Throws on failure.
 */
async function getCopies(boxHex) {
  const res = await fetch(`/api/v1/copies/${boxHex}`, { ...OPTS, headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`copies: ${res.status}`);
  const body = await res.json();
  return { copies: body.copies.map(Q.fromBase64url), days: retention(body) };
}

const retention = (b) => (u32(b.retention_days) && u32(b.retention_fuzz_days) ? { n: b.retention_days, more: b.retention_fuzz_days } : null);

/** A proof of work over `envelope` (FORMAT.md#solution) with the page's workers: the header, or null. */
async function prove(envelope) {
  const c = await getChallenge(fetch);
  if (!c.ok) return null;
  if (!c.difficulty) return `${c.text}.AAAAAAAAAAAB`;
  const envelopeHash = new Uint8Array(await crypto.subtle.digest("SHA-256", envelope));
  const n = Math.min(4, Math.max(1, navigator.hardwareConcurrency || 2));
  return new Promise((resolve) => {
    const workers = [];
    const end = (v) => {
      for (const w of workers) w.terminate();
      resolve(v);
    };
    try {
      for (let i = 0; i < n; i++) {
        const w = new Worker("/pow-worker.js");
        workers.push(w);
        w.onmessage = ({ data }) => (data.header ? end(data.header) : data.error && end(null));
        w.onerror = () => end(null);
        w.postMessage({ challenge: c.challenge, text: c.text, envelopeHash, start: i, stride: n });
      }
    } catch {
      end(null);
    }
  });
}

/**
 * Write the reporter's copy of a message just sent (FORMAT.md#own-copies,
 * writing): read the box for the next `seq` and the retention (`onDays` gets
 * it at once), seal, prove, post; once more with a new challenge on a 429.
 * Resolves to whether it was stored; never throws. Erases `code` and
 * `sentBytes` when done.
 */
export async function writeCopy(code, forcePk, sentBytes, afterReplies, onDays) {
  try {
    const box = await copyBox(code);
    const found = await getCopies(Q.toHex(box));
    if (found.days) onDays(found.days);
    let seq = 0;
    for (const e of found.copies) {
      try {
        seq = Math.max(seq, (await openCopy(code, e)).seq + 1);
      } catch {
        // Not ours or damaged: it does not count.
      }
    }
    const payload = copyPayload(sentBytes, seq, afterReplies);
    const envelope = await sealCopy(code, forcePk, payload);
    payload.fill(0);
    for (let i = 0; i < 2; i++) {
      const pow = await prove(envelope);
      if (!pow) return false;
      const res = await fetch(`/api/v1/copies/${Q.toHex(box)}`, {
        ...OPTS,
        method: "POST",
        headers: { "Content-Type": "application/octet-stream", Accept: "application/json", "Quietline-Pow": pow },
        body: envelope,
      });
      if (res.status === 201) return true;
      if (res.status !== 429) return false;
    }
    return false;
  } catch {
    return false;
  } finally {
    code.fill(0);
    sentBytes.fill(0);
  }
}

/**
 * Read the whole conversation of a code (`secrets` as the replies page holds
 * them): the force's replies slot by slot until the first empty one (each
 * must be routed to the slot it came from), then the copies. Resolves to
 * { list: the replies [{ ok, from, message, sent_at, lang }], conv: every
 * message in order [{ reply: i, … } | { copy: payload } | { copy: null }
 * (damaged)], replies: how many were found, failed, days } — or null if
 * `stale()` turns true meanwhile (the reporter left). `found(n)` is told
 * each reply found.
 */
export async function conversation(secrets, found, stale) {
  const out = { list: [], conv: [], replies: 0, failed: false, days: null };
  for (let i = 0; i < MAX_SLOTS; i++) {
    if (stale()) return null;
    const hex = Q.toHex(await Q.slotAddress(secrets.slotKey, i));
    let bytes;
    try {
      bytes = await getSlot(hex);
    } catch {
      out.failed = true;
      break;
    }
    if (!bytes) break;
    let m = { ok: false };
    try {
      // The server cannot move replies between slots.
      const env = Q.parseEnvelope(bytes);
      if (env.kind !== Q.KIND_REPLY || Q.toHex(env.routing) !== hex) throw new Error("misrouted");
      m = { ok: true, ...(await Q.openReply(secrets, bytes)) };
    } catch {
      // shown as damaged
    }
    out.list.push(m);
    out.conv.push({ reply: i, ...m });
    found(out.list.length);
  }
  out.replies = out.list.length;
  try {
    const c = await getCopies(Q.toHex(await copyBox(secrets.code)));
    out.days = c.days;
    for (const e of c.copies) {
      try {
        out.conv.push({ copy: await openCopy(secrets.code, e) });
      } catch {
        out.conv.push({ copy: { after_replies: 0xffffffff, seq: 0xffffffff }, damaged: true });
      }
    }
  } catch {
    out.failed = true;
  }
  if (stale()) return null;
  out.conv = order(out.conv);
  return out;
}

// ---------------------------------------------------------------- drawing

/**
 * The conversation as an ordered list, both sides, each message saying who
 * wrote it. `ui`: { t, lang, formatSentAt, langTag } of the page.
 */
export function view(conv, ui) {
  const { t } = ui;
  const text = (m, body) => [h("p", { class: "meta" }, t("replies.sent", { when: ui.formatSentAt(m.sent_at) })),
    // A message in another language than the page's is marked with its own.
    h("div", { lang: ui.langTag(m.lang) !== ui.lang() ? ui.langTag(m.lang) : null }, para(body))];
  return h("ol", { class: "conversation" }, conv.map((m) => {
    if (m.copy) {
      const s = m.copy.sent;
      return h("li", { class: "message own" }, m.damaged
        ? [h("h2", {}, t("replies.you")), h("p", {}, t("replies.you.damaged"))]
        : [h("h2", {}, s.type === "report" ? t("replies.you.report") : t("replies.you.message")), text(s, s.type === "report" ? s.report.details : s.message)]);
    }
    const n = m.reply + 1;
    return h("li", { class: "message" }, m.ok
      ? [h("h2", {}, t("replies.from", { n, force: m.from })), text(m, m.message)]
      : [h("h2", {}, t("replies.n", { n })), h("p", {}, t("replies.damaged"))]);
  }));
}

globalThis.QuietlineCopy = { conversation, view, writeCopy };

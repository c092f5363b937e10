// The page's requests, all same-origin (CSP connect-src 'self'): no cookies,
// no referrer, nothing cached. Each returns data or a plain result object;
// none of them keeps anything.

import { fromBase64url, isValidForceId, keyId, publicKeyFromBase64url, toHex } from "./quietline-crypto.js";

const OPTS = { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer", redirect: "error" };

/**
 * GET /api/v1/forces → [{ id, name, keyId, publicKey }] with the public key
 * decoded and its key id computed here (the directory's key_id is only
 * compared). Entries that do not decode are left out. Throws on failure.
 */
export async function getForces() {
  const res = await fetch("/api/v1/forces", { ...OPTS, headers: { Accept: "application/json" } });
  // (Thrown texts are never shown: the page says what failed in its own words.)
  if (!res.ok) throw new Error(`forces: ${res.status}`);
  const list = await res.json();
  if (!Array.isArray(list)) throw new Error("forces: not a list");
  const out = [];
  for (const f of list) {
    try {
      if (!f || !isValidForceId(f.id) || typeof f.name !== "string" || !f.name.trim()) continue;
      const publicKey = publicKeyFromBase64url(f.public_key);
      const id = toHex(await keyId(publicKey));
      if (typeof f.key_id === "string" && f.key_id.toLowerCase() !== id) continue;
      out.push({ id: f.id, name: f.name.trim(), keyId: id, publicKey });
    } catch {
      // A malformed entry: leave it out rather than seal to a bad key.
    }
  }
  return out;
}

/**
 * GET /api/v1/challenge: a proof-of-work challenge (FORMAT.md#challenge).
 * Resolves to { ok: true, text, challenge, difficulty }: the base64url text
 * exactly as received (it goes back in the header), its 58 octets, and the
 * difficulty written inside it (the one a solution needs). Otherwise
 * { ok: false, status } (0 when the request did not complete; 500 when the
 * answer is not a version-1 challenge).
 */
export async function getChallenge() {
  let res;
  try {
    res = await fetch("/api/v1/challenge", { ...OPTS, headers: { Accept: "application/json" } });
    if (!res.ok) return { ok: false, status: res.status };
    const text = (await res.json()).challenge;
    const challenge = /^[\w-]{78}$/.test(text) && fromBase64url(text);
    if (challenge && challenge[0] === 1 && challenge[1] <= 32) return { ok: true, text, challenge, difficulty: challenge[1] };
  } catch {
    if (!res) return { ok: false, status: 0 };
  }
  return { ok: false, status: 500 };
}

/**
 * POST /api/v1/reports with the envelope bytes and its proof of work (the
 * `Quietline-Pow` header value). Resolves to { ok: true, id } on 201, or
 * { ok: false, status, error, retryAfter } (status 0 when the request did
 * not complete; retryAfter is the Retry-After header's text, or null, which
 * a 503 carries: see retry.js). The server's `message` is left out: the page
 * says what happened in its own plain words (app.js, sendError).
 */
export async function postReport(envelope, pow) {
  let res;
  try {
    res = await fetch("/api/v1/reports", {
      ...OPTS,
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", Accept: "application/json", "Quietline-Pow": pow },
      body: envelope,
    });
  } catch {
    return { ok: false, status: 0, error: "network" };
  }
  let body = {};
  try {
    body = await res.json();
  } catch {
    // A success with no JSON body still counts as sent.
  }
  if (res.status === 201) return { ok: true, id: body && body.id };
  return {
    ok: false,
    status: res.status,
    error: (body && typeof body.error === "string" && body.error) || "",
    retryAfter: res.headers.get("Retry-After"),
  };
}

/**
 * GET /api/v1/slots/{hex}: one request per slot, never a batch (a batch
 * would link the slots). Resolves to the envelope bytes, or null on 404.
 * Throws on anything else, so the caller stops instead of skipping a slot.
 */
export async function getSlot(addressHex) {
  const res = await fetch(`/api/v1/slots/${addressHex}`, { ...OPTS, headers: { Accept: "application/octet-stream" } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`slot: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** GET /api/v1/assets → [{ path, sha256 }], or null on any failure. */
export async function getAssets() {
  try {
    const res = await fetch("/api/v1/assets", { ...OPTS, headers: { Accept: "application/json" } });
    if (!res.ok) return null;
    const body = await res.json();
    const list = body && Array.isArray(body.assets) ? body.assets : null;
    if (!list) return null;
    const ok = list.filter((a) => a && typeof a.path === "string" && /^[0-9a-f]{64}$/i.test(a.sha256 || ""));
    return ok.length ? ok : null;
  } catch {
    return null;
  }
}

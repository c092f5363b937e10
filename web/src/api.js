// The page's requests, all same-origin (CSP connect-src 'self'): no cookies,
// no referrer, nothing cached. Each returns data or a plain result object;
// none of them keeps anything. The challenge and the post, with the rest of
// sending, are in send.js.

import { isValidForceId, keyId, publicKeyFromBase64url, toHex } from "./quietline-crypto.js";

/** Every request's options (send.js's too). */
export const OPTS = { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer", redirect: "error" };

/**
 * GET /api/v1/forces → [{ id, name, keyId, publicKey, statement, logIndex }]
 * (the last two as served, for keycheck.js) with the public key
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
      out.push({ id: f.id, name: f.name.trim(), keyId: id, publicKey, statement: f.statement, logIndex: f.log_index });
    } catch {
      // A malformed entry: leave it out rather than seal to a bad key.
    }
  }
  return out;
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

/**
 * The key log's key and checkpoint texts as this page load first saw them
 * (keycheck.js checks the log before sealing against these), or null.
 * Held in memory only, never on the device (threat-model/adversaries.md).
 */
export async function getKeylog() {
  const get = async (p) => {
    const res = await fetch(`/api/v1/keylog/${p}`, { ...OPTS, headers: { Accept: "text/plain" } });
    if (!res.ok) throw 0;
    return res.text();
  };
  try {
    return { key: await get("key"), checkpoint: await get("checkpoint") };
  } catch {
    return null;
  }
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

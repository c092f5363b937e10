// Sealing a file and uploading it as a blob (crypto/FORMAT.md#sealing-an-attachment,
// #blobs-on-the-server; the routes in the README's API table): a fresh key,
// the proof of work over the upload request, then the file read, hashed and
// sealed one part (16 chunks, about 1 MiB) at a time and each part PUT as it
// is sealed, so the page holds one part of plaintext and one sealed at a
// time whatever the file's size. After a dropped connection or a 503 it asks
// the server which parts it holds (GET /api/v1/blobs/{id}) and sends the
// rest, sealing them again (the same bytes: same key, same nonces).
//
// No DOM and no words: `fetch`, the proof-of-work workers, the waits and
// what the reporter is shown come in through `io` (attach.js in the page).

import { sha256 } from "@noble/hashes/sha2.js";
import { Encryptor, SEALED_CHUNK_LEN, CHUNK_LEN, sealedLen, bucketFor } from "./stream.js";

const OPTS = { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer", redirect: "error" };
const JSON_ACCEPT = { Accept: "application/json" };

/** A failure the page can name: `code` is the server's error code, "network", "cancelled" or "pow". */
export class UploadError extends Error {
  constructor(code, status = 0) {
    super(`upload failed: ${code}`);
    this.name = "UploadError";
    this.code = code;
    this.status = status;
  }
}

/** GET /api/v1/blobs/limits: { max_count, max_total_bytes, max_blob_len, part_len }. */
export async function getLimits(fetch) {
  let res;
  try {
    res = await fetch("/api/v1/blobs/limits", { ...OPTS, headers: JSON_ACCEPT });
  } catch {
    throw new UploadError("network");
  }
  if (!res.ok) throw new UploadError("limits", res.status);
  return res.json();
}

/**
 * What the limits say of the chosen files (`sizes`, the octets each will be
 * sent as): null when they may all go, else { code, ...numbers }: too_many
 * (more than max_count), too_large_total (more than max_total_bytes in
 * all), too_large (one file's sealed blob over max_blob_len; `index`).
 */
export function checkLimits(sizes, limits) {
  if (!limits.max_count) return { code: "disabled" };
  if (sizes.length > limits.max_count) return { code: "too_many", max: limits.max_count };
  for (let i = 0; i < sizes.length; i++) {
    let sealed;
    try {
      sealed = sealedLen(bucketFor(sizes[i]));
    } catch {
      return { code: "too_large", index: i, max: limits.max_total_bytes };
    }
    if (sealed > limits.max_blob_len) return { code: "too_large", index: i, max: limits.max_total_bytes };
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > limits.max_total_bytes) return { code: "too_large_total", max: limits.max_total_bytes };
  return null;
}

async function jsonOf(res) {
  try {
    return await res.json();
  } catch {
    return {};
  }
}

/** The proof of work for beginning an upload of `sealed` octets, over the request body `body`. */
async function prove(body, sealed, io) {
  let res;
  try {
    res = await io.fetch(`/api/v1/blobs/challenge?size=${sealed}`, { ...OPTS, headers: JSON_ACCEPT });
  } catch {
    throw new UploadError("network");
  }
  const c = await jsonOf(res);
  if (!res.ok) throw new UploadError(c.error || "challenge", res.status);
  return io.prove(c.challenge, new Uint8Array(await crypto.subtle.digest("SHA-256", body)));
}

/** POST /api/v1/blobs with its proof: { id, parts, part_len }; a new challenge once on a 429 pow_*. */
async function begin(forceId, sealed, io) {
  const body = new TextEncoder().encode(JSON.stringify({ force: forceId, size: sealed }));
  for (let tries = 0; ; tries++) {
    const header = await prove(body, sealed, io);
    if (io.cancelled()) throw new UploadError("cancelled");
    let res;
    try {
      res = await io.fetch("/api/v1/blobs", {
        ...OPTS, method: "POST", body,
        headers: { ...JSON_ACCEPT, "Content-Type": "application/json", "Quietline-Pow": header },
      });
    } catch {
      throw new UploadError("network");
    }
    const b = await jsonOf(res);
    if (res.status === 201) return b;
    if (tries === 0 && res.status === 429 && /^pow_/.test(b.error || "")) continue;
    throw new UploadError(b.error || "refused", res.status);
  }
}

/** GET /api/v1/blobs/{id}: the set of part numbers the server holds, or null when it cannot be asked now. */
async function held(id, io) {
  try {
    const res = await io.fetch(`/api/v1/blobs/${id}`, { ...OPTS, headers: JSON_ACCEPT });
    if (res.status === 404) throw new UploadError("unknown_blob", 404);
    if (!res.ok) return null;
    return new Set((await res.json()).received || []);
  } catch (e) {
    if (e instanceof UploadError) throw e;
    return null;
  }
}

/** PUT a part: "ok", "retry" (no answer, or 503/5xx: ask what is held and go on), or throws. */
async function put(id, n, bytes, io) {
  let res;
  try {
    res = await io.fetch(`/api/v1/blobs/${id}/parts/${n}`, {
      ...OPTS, method: "PUT", body: bytes,
      headers: { ...JSON_ACCEPT, "Content-Type": "application/octet-stream" },
    });
  } catch {
    return "retry";
  }
  if (res.ok) return "ok";
  if (res.status >= 500) return "retry";
  throw new UploadError((await jsonOf(res)).error || "refused", res.status);
}

/**
 * Seal and upload one file. `read(offset, length)` resolves to that many
 * octets of the file as sent (`size` in all). Resolves to the payload's
 * attachment entry less the metadata members ({ id, key, size,
 * padded_size, sha256_sent }). `io`: fetch, prove(challengeText,
 * requestHash) → the Quietline-Pow header, cancelled() → boolean,
 * wait(attempt) → a promise that settles when it is time to ask the server
 * again (rejecting gives up), progress(octetsDone); optionally hasher() → a
 * hasher like localHasher's (a worker's, so hashing runs beside sealing).
 */
export async function sealAndUpload(read, size, forceId, io) {
  const key = crypto.getRandomValues(new Uint8Array(32));
  try {
    const enc = new Encryptor(key, size);
    const sealed = sealedLen(enc.paddedLen);
    const { id, parts, part_len: partLen } = await begin(forceId, sealed, io);
    const per = partLen / SEALED_CHUNK_LEN;
    if (!/^[0-9a-f]{32}$/.test(id) || !Number.isInteger(per) || per < 1 || parts !== Math.ceil(enc.chunks / per)) {
      throw new UploadError("bad_answer");
    }
    const hasher = io.hasher ? io.hasher() : localHasher();
    let hashing = Promise.resolve(); // the part the hasher has (at most one ahead)
    let hashed = 0; // parts hashed so far (in order, once each)
    let have = new Set();
    let attempt = 0;
    for (let p = 0; p < parts;) {
      if (io.cancelled()) throw new UploadError("cancelled");
      const first = p * per;
      const last = Math.min(first + per, enc.chunks);
      const from = Math.min(first * CHUNK_LEN, size);
      const to = Math.min(last * CHUNK_LEN, size);
      const needed = !have.has(p);
      const plain = to > from && (needed || p === hashed) ? await read(from, to - from) : new Uint8Array(0);
      let out = null;
      if (needed) {
        out = new Uint8Array((last - first) * SEALED_CHUNK_LEN);
        for (let i = first; i < last; i++) {
          const a = Math.min(Math.max(i * CHUNK_LEN - from, 0), plain.length);
          const b = Math.min(Math.max((i + 1) * CHUNK_LEN - from, 0), plain.length);
          out.set(await enc.sealAt(i, plain.subarray(a, b)), (i - first) * SEALED_CHUNK_LEN);
        }
      }
      if (p === hashed) {
        // The hasher takes the part (a worker: transferred, not copied) and
        // hashes it while the next part is read and sealed; one part at a
        // time, so memory stays bounded by the part.
        await hashing;
        hashing = hasher.update(plain);
        hashed++;
      } else {
        plain.fill(0);
      }
      if (needed) {
        if ((await put(id, p, out, io)) === "retry") {
          // The connection dropped or the server could not store: wait, ask
          // which parts it holds, and go on from the first one it lacks.
          for (;;) {
            await io.wait(attempt++);
            if (io.cancelled()) throw new UploadError("cancelled");
            const h = await held(id, io);
            if (h) {
              have = h;
              break;
            }
          }
          p = 0;
          while (p < hashed && have.has(p)) p++;
          if (p > hashed) p = hashed;
          continue;
        }
        attempt = 0;
      }
      io.progress(Math.min(to, size));
      p++;
    }
    return {
      id,
      key: b64url(key),
      size,
      padded_size: enc.paddedLen,
      sha256_sent: await hashing.then(() => hasher.digest()),
    };
  } finally {
    key.fill(0);
  }
}

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * SHA-256 of the file part by part (sha256_sent), in this thread: update(part)
 * takes the part (and zeroes it), digest() resolves to the hex. attach.js
 * passes a worker's instead (io.hasher), the same calls.
 */
export function localHasher() {
  const h = sha256.create();
  return {
    update: async (bytes) => {
      h.update(bytes);
      bytes.fill(0);
    },
    digest: async () => hex(h.digest()),
  };
}
const b64url = (b) => btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** SHA-256 of bytes held in memory, hex (the file as the reporter chose it, before cleaning). */
export async function sha256Hex(bytes) {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** A reader over the parts clean.js made (views of the original), for sealAndUpload. */
export function partsReader(parts) {
  return async (offset, length) => {
    const out = new Uint8Array(length);
    let at = 0;
    let pos = 0;
    for (const p of parts) {
      if (at >= length) break;
      const end = pos + p.length;
      if (end > offset + at) {
        const s = offset + at - pos;
        const take = Math.min(p.length - s, length - at);
        out.set(p.subarray(s, s + take), at);
        at += take;
      }
      pos = end;
    }
    return out;
  };
}

/** A reader over a File or Blob, one slice at a time (never the whole file in memory). */
export const blobReader = (blob) => async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());

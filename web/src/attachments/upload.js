// Sealing a file and uploading it as a blob (crypto/FORMAT.md#sealing-an-attachment,
// #blobs-on-the-server; the routes in the README's API table): a fresh key,
// the proof of work over the upload request, then the file read, hashed and
// sealed in place one part (16 chunks, about 1 MiB) at a time in one reused
// buffer, each part PUT as it is sealed with the next sealed meanwhile, so
// the page holds one part whatever the file's size (and the browser, outside
// the JS heap, a copy of each part on its way). After a dropped connection or a 503 it asks the
// server which parts it holds (GET /api/v1/blobs/{id}) and sends the rest,
// sealing them again (the same bytes: same key, same nonces).
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
    // A Blob body, not the bytes: Chromium sends an ArrayBuffer body about
    // ten times slower than a Blob's (8 against 90 MB/s to loopback on the
    // 2-core machine, BENCHMARKS.md#attachments-issue-19). Making the Blob
    // copies the part out of the JS heap, so the caller's buffer is free again.
    res = await io.fetch(`/api/v1/blobs/${id}/parts/${n}`, {
      ...OPTS, method: "PUT", body: new Blob([bytes]),
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
 * Parts on their way at once (the upload's window), each a 1 MiB copy until
 * the server acknowledges it. Three, for Tor: over a circuit with a second
 * of round trip, one part at a time would cap the upload near 1 MiB/s
 * whatever the bandwidth; on loopback, 1 → 2 → 3 parts went 7 → 11 → 12
 * MB/s (BENCHMARKS.md#attachments-issue-19).
 */
export const IN_FLIGHT = 3;

/**
 * Seal and upload one file. `read(offset, length, into)` fills the first
 * `length` octets of the view `into` with that much of the file as sent
 * (`size` in all) and resolves to a view of the same place, which may be in
 * a new buffer (a BYOB read moves it); `read.close()`, if there, lets go of
 * the file. Resolves to the payload's attachment entry less the metadata
 * members ({ id, key, size, padded_size, sha256_sent }). `io`: fetch,
 * prove(challengeText, requestHash) → the Quietline-Pow header, cancelled()
 * → boolean, wait(attempt) → a promise that settles when it is time to ask
 * the server again (rejecting gives up), progress(octetsDone); optionally
 * digest() → a promise of the file's SHA-256 in hex computed elsewhere (the
 * page's worker reading the same File: then nothing is hashed here), and
 * inFlight, the parts sent at once (IN_FLIGHT).
 *
 * Memory: one part's buffer, reused. Each chunk of the file is read into
 * its place in that buffer, hashed, and sealed there in place
 * (Encryptor.sealInto); the part is copied into a Blob (outside the JS
 * heap) for its PUT, and the next part is read into the same buffer while
 * up to `inFlight` parts are on their way.
 */
export async function sealAndUpload(read, size, forceId, io) {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const enc = new Encryptor(key, size);
  key.fill(0);
  const inFlight = Math.max(1, io.inFlight || IN_FLIGHT);
  let buf = null;
  try {
    const sealed = sealedLen(enc.paddedLen);
    const { id, parts, part_len: partLen } = await begin(forceId, sealed, io);
    const per = partLen / SEALED_CHUNK_LEN;
    if (!/^[0-9a-f]{32}$/.test(id) || !Number.isInteger(per) || per < 1 || parts !== Math.ceil(enc.chunks / per)) {
      throw new UploadError("bad_answer");
    }
    buf = new Uint8Array(per * SEALED_CHUNK_LEN);
    // Started now, so the other reader hashes while this one seals.
    const digesting = io.digest ? io.digest() : null;
    if (digesting) digesting.catch(() => {});
    const hasher = digesting ? null : sha256.create();
    let hashed = 0; // chunks hashed so far: in order, each once
    const fileIn = (p) => Math.max(0, Math.min(size, Math.min((p + 1) * per, enc.chunks) * CHUNK_LEN) - Math.min(size, p * per * CHUNK_LEN));
    const acked = new Set();
    let done = 0;
    let attempt = 0;
    let todo = Array.from({ length: parts }, (_, p) => p);
    while (todo.length) {
      // Parts on their way: part number → promise of [part, "ok" | "retry"].
      const sending = new Map();
      let dropped = false;
      const settle = async () => {
        const [p, r] = await Promise.race(sending.values());
        sending.delete(p);
        if (r instanceof Error) throw r;
        if (r === "retry") {
          dropped = true;
          return;
        }
        if (!acked.has(p)) {
          acked.add(p);
          done += fileIn(p);
        }
        attempt = 0;
        io.progress(done);
      };
      try {
        for (const p of todo) {
          if (io.cancelled()) throw new UploadError("cancelled");
          const first = p * per;
          const last = Math.min(first + per, enc.chunks);
          for (let i = first; i < last; i++) {
            const at = (i - first) * SEALED_CHUNK_LEN;
            const n = realInChunk(size, i);
            if (n > 0) {
              buf = new Uint8Array((await read(i * CHUNK_LEN, n, buf.subarray(at, at + n))).buffer);
              if (hasher && i === hashed) {
                hasher.update(buf.subarray(at, at + n));
                hashed++;
              }
            }
            enc.sealInto(i, buf.subarray(at, at + n), buf.subarray(at, at + SEALED_CHUNK_LEN));
          }
          const body = buf.subarray(0, (last - first) * SEALED_CHUNK_LEN);
          // put() copies the part into a Blob before it first awaits, so the
          // buffer may take the next part at once.
          sending.set(p, put(id, p, body, io).then((r) => [p, r], (e) => [p, e]));
          while (sending.size >= inFlight && !dropped) await settle();
          if (dropped) break;
        }
        while (sending.size) await settle();
      } catch (e) {
        // Let the parts already on their way end before saying why.
        await Promise.allSettled(sending.values());
        throw e;
      }
      if (!dropped) break;
      // A connection dropped or the server could not store: wait, ask which
      // parts it holds, and send the ones it lacks (sealed again to the same
      // bytes: the same key and nonces over the same file).
      for (;;) {
        await io.wait(attempt++);
        if (io.cancelled()) throw new UploadError("cancelled");
        const h = await held(id, io);
        if (h) {
          todo = Array.from({ length: parts }, (_, p) => p).filter((p) => !h.has(p));
          for (const p of h) {
            if (!acked.has(p)) {
              acked.add(p);
              done += fileIn(p);
            }
          }
          break;
        }
      }
    }
    if (hasher && hashed * CHUNK_LEN < size) throw new UploadError("bad_answer");
    return {
      id,
      key: b64url(enc.key),
      size,
      padded_size: enc.paddedLen,
      sha256_sent: hasher ? hex(hasher.digest()) : await digesting,
    };
  } finally {
    enc.forget();
    if (buf) buf.fill(0);
    if (read.close) read.close();
  }
}

const realInChunk = (size, i) => Math.max(0, Math.min(CHUNK_LEN, size - i * CHUNK_LEN));

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

const b64url = (b) => btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** SHA-256 of bytes held in memory, hex (the file as the reporter chose it, before cleaning). */
export async function sha256Hex(bytes) {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** A reader over the parts clean.js made (views of the original), for sealAndUpload: copies into `into`. */
export function partsReader(parts) {
  return async (offset, length, into) => {
    let at = 0;
    let pos = 0;
    for (const p of parts) {
      if (at >= length) break;
      const end = pos + p.length;
      if (end > offset + at) {
        const s = offset + at - pos;
        const take = Math.min(p.length - s, length - at);
        into.set(p.subarray(s, s + take), at);
        at += take;
      }
      pos = end;
    }
    return into;
  };
}

/**
 * A reader over a File or Blob that never holds the file: read in order, it
 * keeps one stream over the rest of the file and reads each piece straight
 * into the caller's buffer (a BYOB reader: no copy, no new buffer per
 * piece); a read elsewhere (a resumed upload) opens a stream there. Where
 * the browser has no BYOB reader over a Blob, each piece is sliced and
 * copied instead.
 */
export function blobReader(blob) {
  let stream = null; // { reader, pos }
  const close = () => {
    if (stream) stream.reader.cancel().catch(() => {});
    stream = null;
  };
  const read = async (offset, length, into) => {
    if (!stream || stream.pos !== offset) {
      close();
      try {
        stream = { reader: blob.slice(offset).stream().getReader({ mode: "byob" }), pos: offset };
      } catch {
        into.set(new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()));
        return into;
      }
    }
    let view = into.subarray(0, length);
    let got = 0;
    while (got < length) {
      const { value, done } = await stream.reader.read(view.subarray(got));
      if (done) {
        close();
        throw new UploadError("read");
      }
      got += value.length;
      view = new Uint8Array(value.buffer, value.byteOffset - got + value.length, length);
    }
    stream.pos += length;
    return new Uint8Array(view.buffer, view.byteOffset, into.length);
  };
  read.close = close;
  return read;
}

// Attachments on the reporter page (issue 19; crypto/FORMAT.md#attachments):
// the part of the "Add photos, videos or files" step that runs once a
// reporter chooses a file. Its own bundle, /attach.js, fetched only then
// (app.js draws the step's heading and file input; the page's first load
// stays within its budget). It registers globalThis.QuietlineAttach.
//
// For each file chosen it reads the hidden metadata (attachments/meta.js,
// exifr) and says in plain words what it found; removes it from JPEG, PNG
// and WebP (attachments/clean.js, pixels untouched); for other files says
// plainly that it cannot, and asks whether to send the file as it is; checks
// the server's limits before any upload; and on Continue seals and uploads
// each file (attachments/upload.js) with a progress bar (bytes and time
// left) and Cancel. The payload's attachment entries are then ready for the
// report (entries()). Words come from the page's catalogue (`t`, passed in:
// this bundle cannot share app.js's module state).

import { h, linkButton, hidden } from "./dom.js";
import { clean, sniff, CleanError } from "./attachments/clean.js";
import { readMeta, mergeKinds } from "./attachments/meta.js";
import { getLimits, checkLimits, sealAndUpload, partsReader, blobReader, sha256Hex, UploadError, hex } from "./attachments/upload.js";
import { sha256 } from "@noble/hashes/sha2.js";

/** Files up to this size are read whole to be cleaned (photos); larger ones are never held in memory. */
const CLEAN_MAX = 64 * 1024 * 1024;
const MB = 1000 * 1000;

/** The media type FORMAT.md#attachment-entry wants: lower case type/subtype, no parameters. */
function mediaType(file, sniffed) {
  if (sniffed) return sniffed;
  const m = /^([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)/.exec(String(file.type || "").toLowerCase());
  return m ? m[1] : "application/octet-stream";
}

/** Look at one chosen file: its metadata and, for JPEG, PNG and WebP, the cleaned bytes. */
async function prepare(file) {
  const item = { file, name: file.name, size: file.size, choice: "", entry: null };
  let bytes = null;
  if (file.size <= CLEAN_MAX) {
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    if (sniff(head)) bytes = new Uint8Array(await file.arrayBuffer());
  }
  if (bytes) {
    try {
      const c = clean(bytes);
      const meta = c.exif ? await readMeta(c.exif, { tiff: true }) : { kinds: [], place: null, device: "", time: "" };
      const kinds = mergeKinds(meta.kinds, c.found);
      return Object.assign(item, {
        type: c.type, cleaned: true, meta, found: kinds, removed: kinds,
        sendSize: c.size, read: partsReader(c.parts), sha256Original: await sha256Hex(bytes),
      });
    } catch (e) {
      if (!(e instanceof CleanError)) throw e;
    }
  }
  // Not a file this page can clean (or a damaged one): say what exifr can
  // read of it, remove nothing, and ask.
  const meta = await readMeta(file);
  return Object.assign(item, {
    type: mediaType(file, null), cleaned: false, meta, found: meta.kinds, removed: [],
    sendSize: file.size, read: blobReader(file), sha256Original: null,
  });
}

// Sizes to a tenth of a megabyte; a small file shows as 0.1 MB, never 0.0.
const mb = (n) => (Math.max(n, MB / 10) / MB).toFixed(n < 10 * MB ? 1 : 0);

/**
 * Add the files of a file input or a drop. `ctx`: { S (the page state;
 * S.att is kept there), t, render(focus), fail(errors), fetch }. Resolves
 * once every file is looked at and the step is drawn again.
 */
async function add(files, ctx) {
  const { S, t } = ctx;
  const att = (S.att ||= { items: [], limits: null });
  att.error = null;
  try {
    att.limits ||= await getLimits(ctx.fetch);
  } catch {
    return ctx.fail([{ id: "files-input", text: t("att.err.limits") }]);
  }
  const chosen = [...files];
  let prepared;
  try {
    prepared = await Promise.all(chosen.map(prepare));
  } catch {
    return ctx.fail([{ id: "files-input", text: t("att.err.read") }]);
  }
  const all = [...att.items, ...prepared];
  const over = checkLimits(all.map((i) => i.sendSize), att.limits);
  if (over) {
    const text = over.code === "too_many" ? t("att.err.too_many", { max: over.max })
      : over.code === "too_large" ? t("att.err.too_large", { name: all[over.index].name, max: mb(over.max) })
      : over.code === "too_large_total" ? t("att.err.total", { max: mb(over.max) })
      : t("att.err.disabled");
    return ctx.fail([{ id: "files-input", text }]);
  }
  att.items = all;
  // An earlier error about the files (one that could not be read or loaded) is now out of date.
  S.errors = null;
  ctx.render(false);
  // Drawn again: back on the step's button, whose name now says how many are chosen.
  document.getElementById("files-input")?.focus();
}

/**
 * Files dragged over the step (GOV.UK's drop zone): the zone is outlined
 * while they are over it, and a screen reader hears when they enter and
 * leave it. app.js calls this on the first dragenter carrying files over the
 * zone (fetching this bundle then); from then on the document is watched:
 * dragenter bubbles, so each one says whether the files are over the zone;
 * a dragleave with no dragenter just before it means they left the page
 * (Safari gives dragleave no relatedTarget to tell).
 */
let watching = false;
let entered = false;
function dragged(target, t) {
  const over = (inside) => {
    const zone = document.querySelector(".drop-zone");
    if (!zone || zone.classList.contains("dragging") === inside) return;
    zone.classList.toggle("dragging", inside);
    document.getElementById("files-drag").textContent = t(inside ? "att.drag.in" : "att.drag.out");
  };
  const at = (el) => over(!!document.querySelector(".drop-zone")?.contains(el));
  if (!watching) {
    watching = true;
    document.addEventListener("dragenter", (e) => {
      entered = true;
      if (e.dataTransfer.types.includes("Files")) at(e.target);
    });
    document.addEventListener("dragleave", () => {
      if (!entered) over(false);
      entered = false;
    });
    // Dropped: the files are being read; the zone is drawn again once they are.
    document.addEventListener("drop", () => document.querySelector(".drop-zone")?.classList.remove("dragging"));
  }
  at(target);
}

/** What the page found in a file, in plain words. */
function described(item, t) {
  const m = item.meta;
  const lines = [];
  if (m.place) lines.push(t("att.meta.place", { lat: m.place.lat.toFixed(2), lon: m.place.lon.toFixed(2) }));
  else if (item.found.includes("location")) lines.push(t("att.meta.place_some"));
  if (m.device) lines.push(t("att.meta.device", { device: m.device }));
  if (m.time) lines.push(t("att.meta.time", { time: m.time }));
  if (item.found.some((k) => !["location", "device", "time"].includes(k))) lines.push(t("att.meta.other"));
  return lines;
}

/** The list of files chosen, drawn under the step's file input. */
function view(ctx) {
  const { S, t } = ctx;
  const att = S.att;
  if (!att || !att.items.length) return null;
  return h("div", { class: "attachments" },
    h("h2", {}, t("att.list")),
    att.items.map((item, i) => {
      const lines = described(item, t);
      const id = `file-${i + 1}`;
      return h("div", { class: "summary-card", id },
        h("h3", { class: "file-name" }, item.name, " ", h("span", { class: "hint" }, t("att.size", { n: mb(item.sendSize) }))),
        item.cleaned
          ? [lines.map((l) => h("p", {}, l)), h("p", {}, t(lines.length ? "att.meta.removed" : "att.meta.none"))]
          : [h("p", {}, t("att.cannot")), lines.map((l) => h("p", {}, l)), choice(item, i, ctx)],
        item.entry ? h("p", { class: "hint" }, t("att.ready")) : null,
        h("p", {}, linkButton([h("span", { "aria-hidden": "true" }, t("att.remove")), hidden(t("att.remove.name", { name: item.name }))], () => {
          att.items.splice(i, 1);
          ctx.render(false);
          const input = document.getElementById("files-input");
          if (input) input.focus();
        })));
    }),
    att.progress ? progressView(att.progress, t) : null);
}

/** The GOV.UK radios for a file the page cannot clean: send as it is, or not. */
function choice(item, i, ctx) {
  const { t } = ctx;
  const name = `file-${i + 1}-choice`;
  const opt = (value, label) => h("div", { class: "choice" },
    h("input", { type: "radio", id: `${name}-${value}`, name, value, checked: item.choice === value, on: { change: () => { item.choice = value; } } }),
    h("label", { for: `${name}-${value}` }, label));
  return h("div", { class: "form-group" }, h("fieldset", { class: "fieldset", id: name },
    h("legend", { class: "legend-s" }, t("att.choose", { name: item.name })),
    h("div", { class: "choices" }, opt("send", t("att.choose.send")), opt("remove", t("att.choose.remove")))));
}

function progressView(p, t) {
  const left = p.rate > 0 ? Math.max(1, Math.ceil((p.total - p.done) / p.rate)) : 0;
  return h("div", { class: "upload-progress" },
    h("label", { for: "upload-bar" }, t("att.progress", { name: p.name, done: mb(p.done), total: mb(p.total) })),
    h("progress", { id: "upload-bar", max: String(p.total), value: String(p.done) }),
    h("p", { id: "upload-status", role: "status" }, p.resuming ? t("att.resuming") : left ? t(left > 90 ? "att.left.min" : "att.left.sec", { n: left > 90 ? Math.ceil(left / 60) : left }) : ""),
    h("button", { type: "button", class: "button secondary", id: "upload-cancel", on: { click: () => { p.cancel = true; } } }, t("att.cancel")));
}

/** Update the progress shown in place (no redraw: focus stays on Cancel). */
function showProgress(p, t) {
  const old = document.querySelector(".upload-progress");
  if (!old) return;
  const focused = document.activeElement && document.activeElement.id === "upload-cancel";
  const fresh = progressView(p, t);
  old.replaceWith(fresh);
  if (focused) fresh.querySelector("#upload-cancel").focus();
}

/** A solved proof of work for a blob upload, by the page's workers (pow-worker.js). */
function prover(ctx) {
  return (text, hash) => new Promise((resolve, reject) => {
    const challenge = Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    if (!challenge[1]) return resolve(`${text}.AAAAAAAAAAAB`);
    const n = Math.max(1, ctx.threads || 1);
    const workers = [];
    const stop = () => workers.forEach((w) => w.terminate());
    for (let i = 0; i < n; i++) {
      const w = ctx.worker();
      workers.push(w);
      w.onmessage = ({ data }) => {
        if (data.header) {
          stop();
          resolve(data.header);
        } else if (data.error) {
          stop();
          reject(new UploadError("pow"));
        }
      };
      w.onerror = () => { stop(); reject(new UploadError("pow")); };
      w.postMessage({ challenge, text, envelopeHash: hash, start: i, stride: n });
    }
  });
}

/**
 * Continue on the step: check every file has its answer, then seal and
 * upload the ones not yet sent to this force. Resolves true when all are
 * uploaded (the page goes on), false when it shows errors or was cancelled.
 */
async function upload(forceId, ctx) {
  const { S, t } = ctx;
  const att = S.att;
  // Continue pressed again while the files are on their way: nothing more to start.
  if (att.progress) return false;
  const errors = att.items.map((item, i) => (!item.cleaned && !item.choice
    ? { id: `file-${i + 1}-choice-send`, text: t("att.err.choose", { name: item.name }) } : null)).filter(Boolean);
  if (errors.length) {
    ctx.fail(errors);
    return false;
  }
  att.items = att.items.filter((item) => item.cleaned || item.choice === "send");
  const todo = att.items.filter((item) => !item.entry || item.forceId !== forceId);
  const total = todo.reduce((n, i) => n + i.sendSize, 0);
  const p = { name: "", done: 0, total, rate: 0, started: performance.now(), cancel: false };
  att.progress = p;
  ctx.render(false);
  let before = 0;
  try {
    for (const item of todo) {
      p.name = item.name;
      showProgress(p, t);
      const io = {
        // Called as io.fetch(): the browser's fetch must not get `io` as its `this`.
        fetch: (...args) => globalThis.fetch(...args),
        prove: prover(ctx),
        cancelled: () => p.cancel,
        wait: (attempt) => {
          p.resuming = true;
          showProgress(p, t);
          // About two minutes in all before giving up: 1, 2, 4, 5, 5, … seconds.
          if (attempt > 25) return Promise.reject(new UploadError("network"));
          return new Promise((ok) => setTimeout(ok, Math.min(5000, 1000 * 2 ** attempt)));
        },
        // A file read from the device is hashed by a worker reading it too,
        // beside the sealing; a cleaned photo (in memory) is hashed here.
        digest: item.cleaned ? undefined : () => workerDigest(item.file),
        progress: (done) => {
          p.resuming = false;
          p.done = before + done;
          const secs = (performance.now() - p.started) / 1000;
          p.rate = secs > 0.5 ? p.done / secs : 0;
          showProgress(p, t);
        },
      };
      const e = await sealAndUpload(item.read, item.sendSize, forceId, io);
      before += item.sendSize;
      item.forceId = forceId;
      item.entry = {
        id: e.id, key: e.key, size: e.size, padded_size: e.padded_size, media_type: item.type,
        sha256_original: item.sha256Original || e.sha256_sent, sha256_sent: e.sha256_sent,
        metadata_found: item.found, metadata_removed: item.removed,
      };
    }
    att.progress = null;
    return true;
  } catch (e) {
    att.progress = null;
    const cancelled = e && e.code === "cancelled";
    ctx.fail([{ id: "files-input", text: cancelled ? t("att.cancelled") : t("att.err.upload", { name: p.name }) }]);
    return false;
  }
}

/**
 * SHA-256 of a File in a worker (this same bundle, /attach.js, run as a
 * worker: the page's CSP allows same-origin workers) that reads the file
 * itself, a piece at a time into one buffer, so hashing runs on another core
 * beside the sealing and nothing passes between the two; in this thread if
 * no worker can start.
 */
function workerDigest(file) {
  let w;
  try {
    w = new Worker("/attach.js");
  } catch {
    return digestOf(file);
  }
  return new Promise((ok, no) => {
    w.onmessage = ({ data }) => (data.hex ? ok(data.hex) : no(new UploadError("hash")));
    w.onerror = () => no(new UploadError("hash"));
    w.postMessage({ file });
  }).finally(() => w.terminate());
}

/** A File's SHA-256 in hex, read in 64 KiB pieces into one reused buffer. */
async function digestOf(file) {
  const h = sha256.create();
  const read = blobReader(file);
  let buf = new Uint8Array(65536);
  try {
    for (let at = 0; at < file.size; at += buf.length) {
      const n = Math.min(buf.length, file.size - at);
      buf = new Uint8Array((await read(at, n, buf.subarray(0, n))).buffer);
      h.update(buf.subarray(0, n));
    }
    return hex(h.digest());
  } finally {
    buf.fill(0);
    read.close();
  }
}

// Run as the hashing worker: one File's SHA-256.
if (typeof document === "undefined" && typeof importScripts === "function") {
  self.onmessage = ({ data }) => digestOf(data.file).then((h) => self.postMessage({ hex: h }), () => self.postMessage({ error: true }));
}

/** The payload's attachment entries for a report to `forceId`, or null when a file is not yet uploaded to it. */
function entries(S, forceId) {
  const items = (S.att && S.att.items) || [];
  if (items.some((i) => !i.entry || i.forceId !== forceId)) return null;
  return items.map((i) => i.entry);
}

/** The files' names, for check answers. */
const names = (S) => ((S.att && S.att.items) || []).map((i) => i.name);

globalThis.QuietlineAttach = { add, dragged, view, upload, entries, names, workerDigest };

// What a file's hidden metadata says, for the reporter to see before it is
// sent (crypto/FORMAT.md#attachment-entry: the kinds). The reading is
// exifr's (a well-kept EXIF/GPS reader, from the lock file); this file only
// sorts its fields into the format's kinds and picks the few values the
// page shows in plain words (the place, rounded to two decimals as the page
// says it; the camera; the time). It does not remove anything (clean.js)
// and holds no words of its own (attach.js has the catalogue's).

import exifr from "exifr/dist/lite.esm.mjs";

const OPTIONS = { tiff: true, ifd1: true, gps: true, exif: true, mergeOutput: false, translateValues: false, reviveValues: false, silentErrors: true };

// EXIF fields by kind (exifr's names).
const KINDS = {
  device: ["Make", "Model", "SerialNumber", "BodySerialNumber", "LensMake", "LensModel", "LensSerialNumber", "HostComputer", "ImageUniqueID"],
  time: ["DateTimeOriginal", "CreateDate", "ModifyDate", "GPSDateStamp", "GPSTimeStamp", "OffsetTimeOriginal"],
  software: ["Software"],
  author: ["Artist", "Copyright", "OwnerName", "XPAuthor"],
  comment: ["ImageDescription", "UserComment", "XPComment", "XPTitle", "XPSubject", "XPKeywords"],
};

/** A TIFF (EXIF) block wrapped as the smallest JPEG exifr's lite build reads. */
function asJpeg(tiff) {
  const len = tiff.length + 8;
  if (len > 0xffff) return null;
  const j = new Uint8Array(len + 6);
  j.set([0xff, 0xd8, 0xff, 0xe1, len >> 8, len & 0xff, 0x45, 0x78, 0x69, 0x66, 0, 0]);
  j.set(tiff, 12);
  j.set([0xff, 0xd9], len + 4);
  return j;
}

const text = (v) => (v == null ? "" : typeof v === "string" ? v.replace(/\0+$/, "").trim() : v instanceof Uint8Array ? "" : String(v).trim());

/**
 * Read the EXIF of `source`: the TIFF bytes clean.js handed out (JPEG, PNG,
 * WebP), or a Blob exifr can read itself (HEIC, a JPEG that could not be
 * cleaned). Resolves to { kinds: [...], place: { lat, lon } | null,
 * device: "make model" | "", time: "YYYY-MM-DD HH:MM" | "" }; a file
 * exifr cannot read yields no kinds.
 */
export async function readMeta(source, { tiff = false } = {}) {
  const out = { kinds: [], place: null, device: "", time: "" };
  let input = source;
  if (tiff) input = asJpeg(source);
  if (!input) return out;
  let r;
  try {
    r = await exifr.parse(input, OPTIONS);
  } catch {
    return out;
  }
  if (!r) return out;
  const all = { ...r.ifd0, ...r.exif, ...r.gps };
  const kinds = new Set();
  const lat = gpsDegrees(all.GPSLatitude, all.GPSLatitudeRef, "S");
  const lon = gpsDegrees(all.GPSLongitude, all.GPSLongitudeRef, "W");
  if (r.gps && Object.keys(r.gps).length) kinds.add("location");
  if (lat != null && lon != null) out.place = { lat, lon };
  for (const [kind, names] of Object.entries(KINDS)) if (names.some((n) => text(all[n]))) kinds.add(kind);
  if (r.ifd1 && Object.keys(r.ifd1).length) kinds.add("thumbnail");
  out.device = [text(all.Make), text(all.Model)].filter(Boolean).join(" ").slice(0, 80);
  const when = text(all.DateTimeOriginal) || text(all.CreateDate) || text(all.ModifyDate);
  const m = /^(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d)/.exec(when);
  out.time = m ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}` : when.slice(0, 40);
  out.kinds = [...kinds].sort();
  return out;
}

/** Degrees from EXIF's [degrees, minutes, seconds] and its N/S or E/W reference. */
function gpsDegrees(dms, ref, negative) {
  if (!Array.isArray(dms) || dms.length < 1 || dms.some((x) => typeof x !== "number" || !Number.isFinite(x))) return null;
  const d = dms[0] + (dms[1] || 0) / 60 + (dms[2] || 0) / 3600;
  return String(ref || "").trim().toUpperCase() === negative ? -d : d;
}

/**
 * The kinds a payload entry records: the reader's (what the EXIF held)
 * with the container's (clean.js: xmp, iptc, comment, text, …). "exif" is
 * the container's word for an EXIF block; it is kept only when the reader
 * could name nothing in it.
 */
export function mergeKinds(read, container) {
  const all = new Set([...read, ...container]);
  if (read.length) all.delete("exif");
  return [...all].sort();
}

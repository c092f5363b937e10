// Lossless removal of hidden metadata from JPEG, PNG and WebP files
// (crypto/FORMAT.md#attachment-entry: the kinds it names). Only whole
// segments or chunks that carry metadata are dropped; every byte of image
// data (JPEG scans and tables, PNG IDAT, WebP VP8/VP8L/ALPH/ANIM) is copied
// as it was, so the pixels are exactly the reporter's.
//
// It owns the container parsing and which segments go. It does not read
// what the metadata says (exifr does that, for the reporter to see: meta.js)
// nor decode pixels. Pure: bytes in, a list of views of those bytes out (no
// copy of the image is made, so a large photo is never held twice).
//
// What goes:
// - JPEG: APP1 (EXIF with its GPS, maker notes and thumbnail; XMP), APP13
//   (Photoshop/IPTC), COM, every APPn except APP0 JFIF, APP2 ICC_PROFILE
//   (colour, not identifying) and APP14 Adobe (it says how to decode the
//   colours); anything after EOI (phones append previews and motion-photo
//   videos there). An EXIF Orientation other than 1 is put back as a
//   32-byte EXIF holding that one tag, so the photo is not shown on its side.
// - PNG: tEXt, zTXt, iTXt, eXIf, tIME; anything after IEND.
// - WebP: the EXIF and "XMP " chunks, and their flags in VP8X.

/** A file the cleaner cannot take apart safely: it is then offered as it is, never half-cleaned. */
export class CleanError extends Error {
  constructor(message) {
    super(message);
    this.name = "CleanError";
  }
}

/** The media type the bytes say they are, for the three formats this file cleans, else null. */
export function sniff(b) {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b.length >= 8 && PNG_SIG.every((x, i) => b[i] === x)) return "image/png";
  if (b.length >= 12 && ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP") return "image/webp";
  return null;
}

/**
 * Remove the metadata of a JPEG, PNG or WebP file. Returns { type, parts,
 * size, found, removed }: `parts` are views of `bytes` (and a few new small
 * arrays) whose concatenation is the cleaned file of `size` octets; `found`
 * and `removed` the FORMAT.md kinds seen at the container level (equal: all
 * that is found is removed); `exif` a view of the first EXIF block's TIFF
 * data, for the reader to say what it held (meta.js), or null. Throws CleanError for a malformed file or
 * another format.
 */
export function clean(bytes) {
  const type = sniff(bytes);
  const out = { type, parts: [], found: new Set() };
  if (type === "image/jpeg") cleanJpeg(bytes, out);
  else if (type === "image/png") cleanPng(bytes, out);
  else if (type === "image/webp") cleanWebp(bytes, out);
  else throw new CleanError("not a JPEG, PNG or WebP file");
  const found = [...out.found].sort();
  return { type, parts: out.parts, size: out.parts.reduce((n, p) => n + p.length, 0), found, removed: found.slice(), exif: out.exif || null };
}

/** The parts joined (tests, and small files). */
export function concat(parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const ascii = (b, at, n) => String.fromCharCode(...b.subarray(at, at + n));
const u16be = (b, at) => (b[at] << 8) | b[at + 1];
const u32be = (b, at) => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
const u32le = (b, at) => b[at] + (b[at + 1] << 8) + (b[at + 2] << 16) + ((b[at + 3] << 24) >>> 0);
const startsWith = (b, at, text) => at + text.length <= b.length && ascii(b, at, text.length) === text;

// ---------------------------------------------------------------- JPEG

const SOS = 0xda;
const EOI = 0xd9;

/** Kinds a dropped JPEG segment stands for (the reader says more: meta.js). */
function jpegKinds(marker, b, body, found) {
  if (marker === 0xfe) return found.add("comment");
  if (marker === 0xe1 && startsWith(b, body, "Exif\0")) {
    found.add("exif");
    return;
  }
  if (marker === 0xe1 && startsWith(b, body, "http://ns.adobe.com/")) return found.add("xmp");
  if (marker === 0xed) return found.add("iptc");
  found.add("other");
}

/** Whether a JPEG segment stays: the image's own tables, JFIF, ICC colour, Adobe's colour transform. */
function keepJpeg(marker, b, body) {
  if (marker < 0xe0 || marker > 0xef) return marker !== 0xfe;
  if (marker === 0xe0) return startsWith(b, body, "JFIF\0");
  if (marker === 0xe2) return startsWith(b, body, "ICC_PROFILE\0");
  if (marker === 0xee) return startsWith(b, body, "Adobe");
  return false;
}

/** The EXIF Orientation (1–8) in an APP1 EXIF body, or 0. */
export function exifOrientation(b, at, end) {
  const t = at + 6; // after "Exif\0\0"
  if (t + 8 > end) return 0;
  const le = b[t] === 0x49 && b[t + 1] === 0x49;
  if (!le && !(b[t] === 0x4d && b[t + 1] === 0x4d)) return 0;
  const r16 = (o) => (le ? b[o] | (b[o + 1] << 8) : u16be(b, o));
  const r32 = (o) => (le ? u32le(b, o) : u32be(b, o));
  const ifd = t + r32(t + 4);
  if (ifd + 2 > end) return 0;
  const n = r16(ifd);
  for (let i = 0; i < n && ifd + 2 + 12 * i + 12 <= end; i++) {
    const e = ifd + 2 + 12 * i;
    if (r16(e) === 0x0112 && r16(e + 2) === 3) {
      const v = r16(e + 8);
      return v >= 1 && v <= 8 ? v : 0;
    }
  }
  return 0;
}

/** A minimal APP1 EXIF segment holding only Orientation (big-endian TIFF, one IFD0 entry). */
export function orientationSegment(v) {
  // FF E1, length 2+6+8+2+12+4 = 34, "Exif\0\0", "MM\0*" + IFD at 8, 1 entry, next IFD 0.
  return Uint8Array.from([
    0xff, 0xe1, 0, 34, 0x45, 0x78, 0x69, 0x66, 0, 0,
    0x4d, 0x4d, 0, 42, 0, 0, 0, 8,
    0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, v, 0, 0,
    0, 0, 0, 0,
  ]);
}

function cleanJpeg(b, out) {
  const { parts, found } = out;
  parts.push(b.subarray(0, 2)); // SOI
  let at = 2;
  let orientation = 0;
  let orientationAt = -1; // where in parts the Orientation segment goes (after JFIF, if any)
  let keepFrom = -1; // start of a run of kept bytes not yet pushed
  const flush = (to) => {
    if (keepFrom >= 0 && to > keepFrom) parts.push(b.subarray(keepFrom, to));
    keepFrom = -1;
  };
  for (;;) {
    if (at >= b.length) throw new CleanError("the JPEG ends before its end-of-image marker");
    if (b[at] !== 0xff) throw new CleanError("a JPEG segment does not start with a marker");
    // Fill bytes (FF FF …) before a marker are allowed; keep them with what follows.
    let m = at + 1;
    while (m < b.length && b[m] === 0xff) m++;
    if (m >= b.length) throw new CleanError("the JPEG ends inside a marker");
    const marker = b[m];
    if (marker === EOI) {
      if (keepFrom < 0) keepFrom = at;
      flush(m + 1);
      if (m + 1 < b.length) found.add("trailer");
      break;
    }
    if (marker === 0x00 || (marker >= 0xd0 && marker <= 0xd8) || marker === 0x01) {
      throw new CleanError("a JPEG marker without a segment where a segment belongs");
    }
    if (m + 3 > b.length) throw new CleanError("the JPEG ends inside a segment header");
    const len = u16be(b, m + 1);
    const body = m + 3;
    const end = m + 1 + len;
    if (len < 2 || end > b.length) throw new CleanError("a JPEG segment runs past the end of the file");
    let next = end;
    if (marker === SOS) next = scanEnd(b, end);
    if (keepJpeg(marker, b, body)) {
      if (keepFrom < 0) keepFrom = at;
      if (marker === 0xe0 && orientationAt < 0 && parts.length === 1) {
        // JFIF must come first: the Orientation segment goes after it.
        flush(next);
        orientationAt = parts.length;
      }
    } else {
      flush(at);
      jpegKinds(marker, b, body, found);
      if (marker === 0xe1 && startsWith(b, body, "Exif\0") && !out.exif) {
        out.exif = b.subarray(body + 6, end);
        orientation = exifOrientation(b, body, end);
      }
    }
    at = next;
  }
  if (orientation > 1) parts.splice(orientationAt < 0 ? 1 : orientationAt, 0, orientationSegment(orientation));
  // "exif" is the container's word; the kinds the EXIF held are read by meta.js.
}

/**
 * The end of a JPEG scan's entropy-coded data that starts at `at`: the
 * next marker that is not a stuffed 0xFF00, a restart marker or fill.
 */
function scanEnd(b, at) {
  for (let i = at; i + 1 < b.length; i++) {
    if (b[i] !== 0xff) continue;
    const n = b[i + 1];
    if (n === 0x00 || (n >= 0xd0 && n <= 0xd7) || n === 0xff) continue;
    return i;
  }
  throw new CleanError("the JPEG ends inside its image data");
}

// ---------------------------------------------------------------- PNG

/** The PNG chunks that go, and the kind each stands for (tEXt keywords say more). */
const PNG_DROP = new Set(["tEXt", "zTXt", "iTXt", "eXIf", "tIME"]);

function pngKind(type, b, body, found) {
  if (type === "tIME") return found.add("time");
  if (type === "eXIf") return found.add("exif");
  // The keyword (Latin-1, up to 79 octets, NUL-terminated) says what the text is.
  let k = body;
  while (k < b.length && b[k] !== 0 && k - body < 80) k++;
  const key = ascii(b, body, k - body);
  if (key === "XML:com.adobe.xmp") return found.add("xmp");
  if (/^(Author|Copyright|Disclaimer)$/i.test(key)) found.add("author");
  else if (/^Software$/i.test(key)) found.add("software");
  else if (/^Creation Time$/i.test(key)) found.add("time");
  else if (/^(Comment|Description|Title|Warning)$/i.test(key)) found.add("comment");
  else if (/^Raw profile type (exif|APP1)$/i.test(key)) found.add("exif");
  else if (/^Raw profile type iptc$/i.test(key)) found.add("iptc");
  found.add("text");
}

function cleanPng(b, out) {
  const { parts, found } = out;
  let at = 8;
  let keepFrom = 0;
  for (;;) {
    if (at + 12 > b.length) throw new CleanError("the PNG ends before its IEND chunk");
    const len = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new CleanError("a PNG chunk has no valid type");
    const end = at + 12 + len;
    if (end > b.length) throw new CleanError("a PNG chunk runs past the end of the file");
    if (PNG_DROP.has(type)) {
      if (at > keepFrom) parts.push(b.subarray(keepFrom, at));
      keepFrom = end;
      pngKind(type, b, at + 8, found);
      if (type === "eXIf" && !out.exif) out.exif = b.subarray(at + 8, at + 8 + len);
    }
    at = end;
    if (type === "IEND") break;
  }
  if (at > keepFrom) parts.push(b.subarray(keepFrom, at));
  if (at < b.length) found.add("trailer");
}

// ---------------------------------------------------------------- WebP

function cleanWebp(b, out) {
  const { parts, found } = out;
  const riffEnd = 8 + u32le(b, 4);
  if (riffEnd > b.length) throw new CleanError("the WebP file is shorter than its RIFF header says");
  let at = 12;
  const kept = [];
  let vp8x = null;
  while (at < riffEnd) {
    if (at + 8 > riffEnd) throw new CleanError("a WebP chunk header runs past the end of the file");
    const type = ascii(b, at, 4);
    const len = u32le(b, at + 4);
    const end = at + 8 + len + (len & 1);
    if (at + 8 + len > riffEnd) throw new CleanError("a WebP chunk runs past the end of the file");
    const chunkEnd = Math.min(end, riffEnd);
    if (type === "EXIF") {
      found.add("exif");
      // Some writers keep JPEG's "Exif\0\0" before the TIFF data.
      const skip = startsWith(b, at + 8, "Exif\0\0") ? 6 : 0;
      if (!out.exif) out.exif = b.subarray(at + 8 + skip, at + 8 + len);
    }
    else if (type === "XMP ") found.add("xmp");
    else {
      if (type === "VP8X") {
        if (len < 10) throw new CleanError("the WebP VP8X chunk is too short");
        vp8x = kept.length;
      }
      kept.push(b.subarray(at, chunkEnd));
    }
    at = chunkEnd;
  }
  if (at < b.length) found.add("trailer");
  if (vp8x !== null && (kept[vp8x][8] & 0x0c)) {
    // Bits 3 (EXIF) and 2 (XMP) of VP8X's flags say those chunks exist; they no longer do.
    const c = kept[vp8x].slice();
    c[8] &= ~0x0c;
    kept[vp8x] = c;
  }
  const size = 4 + kept.reduce((n, p) => n + p.length, 0);
  const head = b.slice(0, 12);
  head[4] = size & 0xff;
  head[5] = (size >>> 8) & 0xff;
  head[6] = (size >>> 16) & 0xff;
  head[7] = (size >>> 24) & 0xff;
  parts.push(head, ...kept);
}

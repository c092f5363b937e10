// The metadata cleaner (src/attachments/clean.js) on files made here: every
// metadata segment or chunk goes, every byte of image data stays, in order.
// The JPEGs carry a real EXIF block (GPS, camera, time) written by piexifjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { createRequire } from "node:module";

import { clean, concat, sniff, CleanError, exifOrientation, orientationSegment } from "../src/attachments/clean.js";

const piexif = createRequire(import.meta.url)("piexifjs");

const bytes = (...xs) => Uint8Array.from(xs.flat());
const str = (s) => [...Buffer.from(s, "latin1")];
const u16 = (n) => [n >> 8, n & 0xff];
const seg = (marker, body) => [0xff, marker, ...u16(body.length + 2), ...body];
const text = (b) => Buffer.from(b).toString("latin1");

/** An EXIF block as phones write it: GPS, make, model, serial, times, software, artist, a thumbnail pointer. */
function exifBlock(orientation = 6) {
  const zeroth = {
    [piexif.ImageIFD.Make]: "Examplephone",
    [piexif.ImageIFD.Model]: "EP-12 Pro",
    [piexif.ImageIFD.Software]: "ExampleOS 17.1",
    [piexif.ImageIFD.Artist]: "Jo Bloggs",
    [piexif.ImageIFD.Orientation]: orientation,
  };
  const exif = {
    [piexif.ExifIFD.DateTimeOriginal]: "2026:11:20 22:15:07",
    [piexif.ExifIFD.BodySerialNumber]: "SN-998877",
    [piexif.ExifIFD.LensModel]: "Back camera 4.2mm",
  };
  const gps = {
    [piexif.GPSIFD.GPSLatitudeRef]: "N",
    [piexif.GPSIFD.GPSLatitude]: [[51, 1], [30, 1], [12, 1]],
    [piexif.GPSIFD.GPSLongitudeRef]: "W",
    [piexif.GPSIFD.GPSLongitude]: [[0, 1], [7, 1], [30, 1]],
  };
  return str(piexif.dump({ "0th": zeroth, Exif: exif, GPS: gps }));
}

// The image data of a baseline JPEG as the cleaner sees it: tables, the
// frame, a scan whose entropy-coded data holds stuffed 0xFF00 and restart
// markers, a second scan (as progressive files have), the end.
const IMAGE = [
  ...seg(0xdb, [0, ...Array.from({ length: 64 }, (_, i) => i + 1)]), // DQT
  ...seg(0xc0, [8, ...u16(16), ...u16(16), 1, 1, 0x11, 0]), // SOF0
  ...seg(0xc4, [0, ...Array(16).fill(1), ...Array.from({ length: 16 }, (_, i) => i)]), // DHT
  ...seg(0xdd, [...u16(4)]), // DRI
  ...seg(0xda, [1, 1, 0, 0, 63, 0]), // SOS
  0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xff, 0xd1, 0x78, 0xff, 0x00,
  ...seg(0xc4, [0x10, ...Array(16).fill(0)]), // DHT between scans
  ...seg(0xda, [1, 1, 0, 0, 63, 0]),
  0x9a, 0xbc, 0xff, 0x00,
];
const EOI = [0xff, 0xd9];
const JFIF = seg(0xe0, [...str("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
const ICC = seg(0xe2, [...str("ICC_PROFILE\0"), 1, 1, ...str("fake-profile")]);

function jpeg({ orientation = 6, trailer = true } = {}) {
  const exif = exifBlock(orientation);
  return bytes(0xff, 0xd8, JFIF,
    seg(0xe1, exif),
    seg(0xe1, str("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>51,30N</exif:GPSLatitude></x:xmpmeta>")),
    ICC,
    seg(0xed, str("Photoshop 3.0\0" + "8BIM\x04\x04\0\0\0\0\0\x10\x1c\x02\x50\0\x09Jo Bloggs")),
    seg(0xfe, str("taken at 12 Example Street")),
    seg(0xeb, str("JP\0\0vendor-data")),
    IMAGE, EOI, trailer ? str("MotionPhoto_Data....ftypmp42 video with its own GPS") : []);
}

test("sniff knows the three formats by their first bytes", () => {
  assert.equal(sniff(jpeg()), "image/jpeg");
  assert.equal(sniff(png()), "image/png");
  assert.equal(sniff(webp()), "image/webp");
  assert.equal(sniff(bytes(str("%PDF-1.7"))), null);
  assert.equal(sniff(new Uint8Array(0)), null);
});

test("JPEG: EXIF with GPS, XMP, IPTC, comments, other APPn and a trailer go; JFIF, ICC and every byte of image data stay", () => {
  const input = jpeg();
  const r = clean(input);
  const out = concat(r.parts);
  assert.equal(r.size, out.length);
  assert.equal(r.type, "image/jpeg");
  // Exactly what was kept, in order: SOI, JFIF, the Orientation EXIF, ICC, the image, EOI.
  assert.deepEqual([...out], [0xff, 0xd8, ...JFIF, ...orientationSegment(6), ...ICC, ...IMAGE, ...EOI]);
  for (const gone of ["Examplephone", "EP-12 Pro", "SN-998877", "Jo Bloggs", "2026:11:20", "ExampleOS", "xmpmeta", "Example Street", "vendor-data", "Photoshop", "MotionPhoto", "GPS"]) {
    assert.ok(!text(out).includes(gone), `${gone} is still in the file`);
  }
  assert.deepEqual(r.found, ["comment", "exif", "iptc", "other", "trailer", "xmp"]);
  assert.deepEqual(r.removed, r.found);
  // The EXIF block is handed to the reader as TIFF data.
  assert.equal(text(r.exif.subarray(0, 2)), "MM");
  // No copy: the kept parts are views of the input.
  assert.equal(r.parts[1].buffer, input.buffer);
});

test("JPEG: the Orientation kept is the photo's, alone, and none is added for an upright photo", () => {
  const seg6 = orientationSegment(6);
  assert.equal(exifOrientation(seg6, 4, seg6.length), 6);
  // It parses as EXIF for a real reader too (piexifjs).
  const back = piexif.load(text(seg6.subarray(4)));
  assert.equal(back["0th"][piexif.ImageIFD.Orientation], 6);
  assert.deepEqual(Object.keys(back["0th"]), [String(piexif.ImageIFD.Orientation)]);
  assert.deepEqual(back.GPS, {});
  const upright = concat(clean(jpeg({ orientation: 1 })).parts);
  assert.deepEqual([...upright], [0xff, 0xd8, ...JFIF, ...ICC, ...IMAGE, ...EOI]);
});

test("JPEG: without JFIF the Orientation segment follows SOI; a clean file comes out the same", () => {
  const bare = bytes(0xff, 0xd8, IMAGE, EOI);
  const r = clean(bare);
  assert.deepEqual([...concat(r.parts)], [...bare]);
  assert.deepEqual(r.found, []);
  const noJfif = bytes(0xff, 0xd8, seg(0xe1, exifBlock(8)), IMAGE, EOI);
  assert.deepEqual([...concat(clean(noJfif).parts)], [0xff, 0xd8, ...orientationSegment(8), ...IMAGE, ...EOI]);
});

test("JPEG: a truncated or malformed file is refused, never half-cleaned", () => {
  const good = jpeg({ trailer: false });
  for (const cut of [3, 10, 40, good.length - IMAGE.length, good.length - 1]) {
    assert.throws(() => clean(good.subarray(0, cut)), CleanError, `cut at ${cut}`);
  }
  assert.throws(() => clean(bytes(0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff)), CleanError);
  assert.throws(() => clean(bytes(0xff, 0xd8, 0x00)), CleanError);
});

// ---------------------------------------------------------------- PNG

const crc32 = (() => {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  return (b) => {
    let c = 0xffffffff;
    for (const x of b) c = table[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
})();
const u32 = (n) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const chunk = (type, data) => [...u32(data.length), ...str(type), ...data, ...u32(crc32([...str(type), ...data]))];
const SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IHDR = chunk("IHDR", [...u32(4), ...u32(4), 8, 2, 0, 0, 0]);
const IDAT = chunk("IDAT", [...deflateSync(Buffer.alloc(4 * 13, 7))]);
const SRGB = chunk("sRGB", [0]);
const IEND = chunk("IEND", []);

function png() {
  return bytes(SIG, IHDR, SRGB,
    chunk("tEXt", str("Author\0Jo Bloggs")),
    chunk("tEXt", str("Software\0ExampleCam 2.0")),
    chunk("zTXt", [...str("Comment\0\0"), ...deflateSync(Buffer.from("taken at 12 Example Street"))]),
    chunk("iTXt", str("XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>GPS 51.5</x:xmpmeta>")),
    chunk("tIME", [...u16(2026), 11, 20, 22, 15, 7]),
    chunk("eXIf", exifBlock(1).slice(6)),
    IDAT, IEND, str("trailing bytes"));
}

test("PNG: tEXt, zTXt, iTXt, eXIf, tIME and a trailer go; IHDR, sRGB, IDAT and IEND stay byte for byte", () => {
  const r = clean(png());
  const out = concat(r.parts);
  assert.deepEqual([...out], [...SIG, ...IHDR, ...SRGB, ...IDAT, ...IEND]);
  assert.deepEqual(r.found, ["author", "comment", "exif", "software", "text", "time", "trailer", "xmp"]);
  assert.equal(text(r.exif.subarray(0, 2)), "MM");
  for (const gone of ["Jo Bloggs", "ExampleCam", "xmpmeta", "Examplephone", "tIME", "tEXt"]) assert.ok(!text(out).includes(gone), gone);
});

test("PNG: a truncated file is refused", () => {
  const good = png();
  for (const cut of [9, 20, SIG.length + IHDR.length + 5, good.length - "trailing bytes".length - 3]) {
    assert.throws(() => clean(good.subarray(0, cut)), CleanError, `cut at ${cut}`);
  }
});

// ---------------------------------------------------------------- WebP

const u32l = (n) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const riffChunk = (type, data) => [...str(type), ...u32l(data.length), ...data, ...(data.length & 1 ? [0] : [])];
const VP8X = (flags) => riffChunk("VP8X", [flags, 0, 0, 0, 3, 0, 0, 3, 0, 0]);
const ICCP = riffChunk("ICCP", str("fake-profile"));
const VP8 = riffChunk("VP8 ", [0x9d, 0x01, 0x2a, 1, 2, 3, 4, 5, 6, 7, 8]);
const riff = (...chunks) => {
  const body = [...str("WEBP"), ...chunks.flat()];
  return bytes(str("RIFF"), u32l(body.length), body);
};

function webp() {
  return riff(VP8X(0x20 | 0x08 | 0x04), ICCP, VP8,
    riffChunk("EXIF", [...str("Exif\0\0"), ...exifBlock(1).slice(6)]),
    riffChunk("XMP ", str("<x:xmpmeta>GPS</x:xmpmeta>")));
}

test("WebP: EXIF and XMP chunks and their VP8X flags go; ICC and the VP8 bitstream stay; the RIFF size is right", () => {
  const r = clean(webp());
  const out = concat(r.parts);
  assert.deepEqual([...out], [...riff(VP8X(0x20), ICCP, VP8)]);
  assert.deepEqual(r.found, ["exif", "xmp"]);
  assert.equal(text(r.exif.subarray(0, 2)), "MM");
  // An odd-length chunk keeps its pad byte.
  const odd = riff(VP8X(0), riffChunk("VP8L", [0x2f, 1, 2]));
  assert.deepEqual([...concat(clean(odd).parts)], [...odd]);
});

test("WebP: a chunk running past the end is refused", () => {
  const good = webp();
  assert.throws(() => clean(good.subarray(0, 30).map((x, i) => (i >= 4 && i < 8 ? 0xff : x))), CleanError);
  const short = bytes(str("RIFF"), u32l(4 + 8 + 100), str("WEBP"), str("VP8 "), u32l(100), [1, 2]);
  assert.throws(() => clean(short), CleanError);
});

test("other formats are refused by clean (the page offers them as they are)", () => {
  assert.throws(() => clean(bytes(str("%PDF-1.7\n"))), CleanError);
  assert.throws(() => clean(bytes(0, 0, 0, 0x18, str("ftypheic"))), CleanError);
});

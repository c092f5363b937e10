//! Hidden metadata in an attachment, read again on the force's side (issue
//! 19): which kinds of metadata a decrypted photo still carries, with the
//! names crypto/FORMAT.md#attachment-entry gives them (`location`, `device`,
//! `time`, …), and those kinds in plain words, English and Welsh.
//!
//! It owns reading the kinds from a file in memory: EXIF through the
//! `kamadak-exif` crate (JPEG, PNG `eXIf`, WebP, HEIF), and the containers'
//! own places for the rest, found by walking their segment or chunk lists:
//! JPEG APP1 XMP, APP13 IPTC and COM comments; PNG `tEXt`, `zTXt` and
//! `iTXt` chunks; WebP `XMP ` chunks. It never returns a value (where a
//! photo was taken is shown to no one here: only that it is there), and
//! it does not decide what the desk shows (`crate::desk`) or change a file.

use std::collections::BTreeSet;
use std::io::Cursor;

use crate::labels::Lang;

/// The kinds, in the order FORMAT.md#attachment-entry lists them.
pub const KINDS: [&str; 10] = [
    "location",
    "device",
    "time",
    "software",
    "author",
    "comment",
    "thumbnail",
    "xmp",
    "iptc",
    "text",
];

/// A kind in plain words (a kind this table does not know is shown as given).
pub fn words(kind: &str, lang: Lang) -> String {
    let (en, cy) = match kind {
        "location" => ("GPS position", "lleoliad GPS"),
        "device" => ("camera or phone model", "model y camera neu'r ffôn"),
        "time" => ("time taken", "yr amser y'i tynnwyd"),
        "software" => ("software used", "y feddalwedd a ddefnyddiwyd"),
        "author" => ("owner or author name", "enw'r perchennog neu'r awdur"),
        "comment" => ("comments", "sylwadau"),
        "thumbnail" => ("embedded preview picture", "llun rhagolwg wedi'i fewnosod"),
        "xmp" => ("XMP data", "data XMP"),
        "iptc" => ("IPTC data", "data IPTC"),
        "text" => ("PNG text", "testun PNG"),
        other => return other.to_owned(),
    };
    match lang {
        Lang::En => en.to_owned(),
        Lang::Cy => cy.to_owned(),
    }
}

/// Whether this console can look inside files of `media_type` for metadata.
pub fn readable(media_type: &str) -> bool {
    matches!(
        media_type,
        "image/jpeg" | "image/png" | "image/webp" | "image/heic" | "image/heif" | "image/tiff"
    )
}

/// The kinds of metadata `file` carries, in [`KINDS`] order. A file that
/// cannot be parsed gives what could be read before the fault.
pub fn kinds_in(media_type: &str, file: &[u8]) -> Vec<&'static str> {
    let mut found = BTreeSet::new();
    exif_kinds(file, &mut found);
    match media_type {
        "image/jpeg" => jpeg_kinds(file, &mut found),
        "image/png" => png_kinds(file, &mut found),
        "image/webp" => webp_kinds(file, &mut found),
        _ => {}
    }
    KINDS.into_iter().filter(|k| found.contains(k)).collect()
}

fn exif_kinds(file: &[u8], found: &mut BTreeSet<&'static str>) {
    use exif::{In, Tag};
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(file)) else {
        return;
    };
    for f in exif.fields() {
        let kind = match f.tag {
            Tag::GPSLatitude
            | Tag::GPSLongitude
            | Tag::GPSAltitude
            | Tag::GPSLatitudeRef
            | Tag::GPSLongitudeRef
            | Tag::GPSDestLatitude
            | Tag::GPSDestLongitude
            | Tag::GPSAreaInformation => "location",
            Tag::Make
            | Tag::Model
            | Tag::BodySerialNumber
            | Tag::LensMake
            | Tag::LensModel
            | Tag::LensSerialNumber
            | Tag::CameraOwnerName => {
                if f.tag == Tag::CameraOwnerName {
                    "author"
                } else {
                    "device"
                }
            }
            Tag::DateTime
            | Tag::DateTimeOriginal
            | Tag::DateTimeDigitized
            | Tag::GPSDateStamp
            | Tag::GPSTimeStamp => "time",
            Tag::Software => "software",
            Tag::Artist | Tag::Copyright => "author",
            Tag::UserComment | Tag::ImageDescription => "comment",
            Tag::JPEGInterchangeFormat if f.ifd_num == In::THUMBNAIL => "thumbnail",
            _ => {
                if f.ifd_num == In::THUMBNAIL {
                    "thumbnail"
                } else {
                    continue;
                }
            }
        };
        found.insert(kind);
    }
}

/// JPEG markers up to the start of scan: APP1 XMP, APP13 (Photoshop IRB,
/// where IPTC lives), COM.
fn jpeg_kinds(file: &[u8], found: &mut BTreeSet<&'static str>) {
    if !file.starts_with(&[0xFF, 0xD8]) {
        return;
    }
    let mut at = 2;
    while at + 4 <= file.len() {
        if file[at] != 0xFF {
            return;
        }
        let marker = file[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        // Markers without a length.
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            at += 2;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return;
        }
        let len = usize::from(u16::from_be_bytes([file[at + 2], file[at + 3]]));
        let body = &file[(at + 4).min(file.len())..(at + 2 + len).min(file.len())];
        match marker {
            0xE1 if body.starts_with(b"http://ns.adobe.com/xap/1.0/")
                || body.starts_with(b"http://ns.adobe.com/xmp/extension/") =>
            {
                found.insert("xmp");
            }
            0xED => {
                found.insert("iptc");
            }
            0xFE => {
                found.insert("comment");
            }
            _ => {}
        }
        if len < 2 {
            return;
        }
        at += 2 + len;
    }
}

/// PNG chunks: text chunks, and XMP inside an `iTXt` chunk.
fn png_kinds(file: &[u8], found: &mut BTreeSet<&'static str>) {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !file.starts_with(SIG) {
        return;
    }
    let mut at = SIG.len();
    while at + 8 <= file.len() {
        let len = u32::from_be_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]) as usize;
        let kind = &file[at + 4..at + 8];
        let body = &file[(at + 8).min(file.len())..(at + 8).saturating_add(len).min(file.len())];
        match kind {
            b"iTXt" if body.starts_with(b"XML:com.adobe.xmp\0") => {
                found.insert("xmp");
            }
            b"tEXt" | b"zTXt" | b"iTXt" => {
                found.insert("text");
            }
            b"IEND" => return,
            _ => {}
        }
        at = at.saturating_add(12).saturating_add(len);
    }
}

/// WebP (RIFF) chunks: `XMP `.
fn webp_kinds(file: &[u8], found: &mut BTreeSet<&'static str>) {
    if file.len() < 12 || &file[..4] != b"RIFF" || &file[8..12] != b"WEBP" {
        return;
    }
    let mut at = 12;
    while at + 8 <= file.len() {
        let kind = &file[at..at + 4];
        let len =
            u32::from_le_bytes([file[at + 4], file[at + 5], file[at + 6], file[at + 7]]) as usize;
        if kind == b"XMP " {
            found.insert("xmp");
        }
        at = at.saturating_add(8).saturating_add(len + (len & 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_gps() -> Vec<u8> {
        quietline_testkit::blobs::jpeg_with_gps(0)
    }

    #[test]
    fn a_jpeg_shows_its_location_device_time_and_comment() {
        assert_eq!(
            kinds_in("image/jpeg", &jpeg_with_gps()),
            vec!["location", "device", "time", "comment"]
        );
        assert!(kinds_in("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xD9]).is_empty());
        assert!(kinds_in("image/jpeg", b"not a jpeg").is_empty());
    }

    #[test]
    fn png_text_and_xmp_chunks_are_found() {
        let mut f = b"\x89PNG\r\n\x1a\n".to_vec();
        let chunk = |f: &mut Vec<u8>, kind: &[u8], body: &[u8]| {
            f.extend_from_slice(&(body.len() as u32).to_be_bytes());
            f.extend_from_slice(kind);
            f.extend_from_slice(body);
            f.extend_from_slice(&[0; 4]);
        };
        chunk(&mut f, b"IHDR", &[0; 13]);
        chunk(&mut f, b"tEXt", b"Author\0someone");
        chunk(&mut f, b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x/>");
        chunk(&mut f, b"IEND", b"");
        assert_eq!(kinds_in("image/png", &f), vec!["xmp", "text"]);
        // Cut short: what was read before the cut.
        assert_eq!(kinds_in("image/png", &f[..50]), vec!["text"]);
    }

    #[test]
    fn words_are_plain_in_english_and_welsh() {
        assert_eq!(words("location", Lang::En), "GPS position");
        assert_eq!(words("location", Lang::Cy), "lleoliad GPS");
        assert_eq!(words("device", Lang::En), "camera or phone model");
        assert_eq!(words("time", Lang::En), "time taken");
        assert_eq!(words("odd-kind", Lang::Cy), "odd-kind");
        for k in KINDS {
            assert_ne!(words(k, Lang::En), k, "{k} has English words");
            assert_ne!(
                words(k, Lang::Cy),
                words(k, Lang::En),
                "{k} has Welsh words"
            );
        }
        assert!(readable("image/webp") && !readable("video/mp4"));
    }
}

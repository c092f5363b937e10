//! Attachments' blobs against a running server, as the reporter's page
//! sends them (crypto/FORMAT.md#blobs-on-the-server, README's blob routes):
//! seal a file ([`seal`]: a fresh key, the payload's attachment entry), then
//! [`upload`] the sealed blob — a challenge scaled to its size, `POST
//! /api/v1/blobs` with the proof of work over the exact body, then every
//! part. The one copy the console's, the desk's and the casework's tests
//! use (the server's own blob tests check each route's statuses; this only
//! gets a blob onto a server).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline_crypto::stream::{self, StreamKey};
use sha2::{Digest, Sha256};

/// A sealed file and the payload entry that lists it (without its `id`,
/// which the server gives on upload: see [`Sealed::entry`]).
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The sealed blob.
    pub blob: Vec<u8>,
    /// The stream key.
    pub key: [u8; 32],
    /// The file's length.
    pub size: u64,
    /// Its bucket.
    pub padded_size: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Its media type.
    pub media_type: String,
}

impl Sealed {
    /// The payload's attachment entry for the blob uploaded as `id`
    /// (crypto/FORMAT.md#attachment-entry), with these metadata kinds found
    /// and removed.
    pub fn entry(&self, id: &str, found: &[&str], removed: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "id": id,
            "key": URL_SAFE_NO_PAD.encode(self.key),
            "size": self.size,
            "padded_size": self.padded_size,
            "media_type": self.media_type,
            "sha256_original": self.sha256,
            "sha256_sent": self.sha256,
            "metadata_found": found,
            "metadata_removed": removed,
        })
    }
}

/// Seal `file` of `media_type` under a fresh random key.
pub fn seal(file: &[u8], media_type: &str) -> Sealed {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("random key");
    let blob = stream::seal(&StreamKey::from_bytes(key), file).expect("sealable file");
    Sealed {
        blob,
        key,
        size: file.len() as u64,
        padded_size: stream::bucket_for(file.len() as u64).expect("bucket"),
        sha256: hex::encode(Sha256::digest(file)),
        media_type: media_type.to_owned(),
    }
}

/// Begin the upload of a blob of `size` sealed octets to `force` on the
/// server at `base`, as the page does (a challenge scaled to the size, the
/// proof of work over the exact body): `(id, part_len)`. Panics on a refusal.
pub async fn begin(
    http: &reqwest::Client,
    base: &str,
    force: &str,
    size: usize,
) -> (String, usize) {
    let res = http
        .get(format!("{base}/api/v1/blobs/challenge?size={size}"))
        .send()
        .await
        .expect("blob challenge");
    assert_eq!(res.status(), 200, "GET /api/v1/blobs/challenge");
    let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    let challenge = v["challenge"].as_str().expect("a challenge").to_owned();
    let body = serde_json::json!({ "force": force, "size": size }).to_string();
    let header = quietline_crypto::pow::solve_header(&challenge, body.as_bytes())
        .expect("a solution to the blob's challenge");
    let res = http
        .post(format!("{base}/api/v1/blobs"))
        .header("content-type", "application/json")
        .header("quietline-pow", header)
        .body(body)
        .send()
        .await
        .expect("POST /api/v1/blobs");
    assert_eq!(res.status(), 201, "POST /api/v1/blobs");
    let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    let id = v["id"].as_str().expect("an id").to_owned();
    (id, v["part_len"].as_u64().expect("part_len") as usize)
}

/// Send every part of `blob` to the upload `id` begun with [`begin`].
pub async fn put_parts(http: &reqwest::Client, base: &str, id: &str, part_len: usize, blob: &[u8]) {
    for (n, part) in blob.chunks(part_len).enumerate() {
        let res = http
            .put(format!("{base}/api/v1/blobs/{id}/parts/{n}"))
            .header("content-type", "application/octet-stream")
            .body(part.to_vec())
            .send()
            .await
            .expect("PUT a part");
        assert_eq!(res.status(), 200, "PUT /api/v1/blobs/{id}/parts/{n}");
    }
}

/// Upload `blob` (sealed octets, or anything of a sealed length) to `force`
/// on the server at `base`, as the page does; returns the blob id. Panics
/// on any refusal (a test helper).
pub async fn upload(http: &reqwest::Client, base: &str, force: &str, blob: &[u8]) -> String {
    let (id, part_len) = begin(http, base, force, blob.len()).await;
    put_parts(http, base, &id, part_len, blob).await;
    id
}

/// A small JPEG made here (SOI, an APP1 Exif segment, a COM comment, SOS,
/// EOI; the markers only, no decodable pixels) whose Exif holds a GPS
/// position (`GPSLatitudeRef`), a camera model and a time, then `pad` octets
/// after its end: a phone photo's hidden metadata, for tests that read it.
pub fn jpeg_with_gps(pad: usize) -> Vec<u8> {
    // Little-endian TIFF: IFD0 with Model, DateTime and the GPS IFD
    // pointer; the GPS IFD with GPSLatitudeRef.
    let model = b"PhoneCam X\0";
    let time = b"2026:11:20 22:15:00\0";
    let ifd0_len = 2 + 12 * 3 + 4;
    let gps_at = 8 + ifd0_len;
    let data_at = gps_at + 2 + 12 + 4;
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    };
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    entry(
        &mut tiff,
        0x0110,
        2,
        model.len() as u32,
        (data_at as u32).to_le_bytes(),
    );
    entry(
        &mut tiff,
        0x0132,
        2,
        time.len() as u32,
        ((data_at + model.len()) as u32).to_le_bytes(),
    );
    entry(&mut tiff, 0x8825, 4, 1, (gps_at as u32).to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(model);
    tiff.extend_from_slice(time);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut f = vec![0xFF, 0xD8, 0xFF, 0xE1];
    f.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    f.extend_from_slice(&app1);
    f.extend_from_slice(&[0xFF, 0xFE, 0, 7]);
    f.extend_from_slice(b"hello");
    f.extend_from_slice(&[0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
    f.extend((0..pad).map(|i| (i % 253) as u8));
    f
}

/// A real `width`×`height` PNG (8-bit RGB, a colour gradient that browsers
/// draw) carrying a `tEXt` chunk (`Author`): the PNG text chunks a page
/// removes. Its pixels are stored in uncompressed deflate blocks.
pub fn png_with_text(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.push((x * 255 / width.max(1)) as u8);
            raw.push((y * 255 / height.max(1)) as u8);
            raw.push(160);
        }
    }
    // zlib: header, stored blocks of at most 65535 octets, Adler-32.
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        z.extend_from_slice(&(b.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(b.len() as u16)).to_le_bytes());
        z.extend_from_slice(b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"tEXt", b"Author\0A. Reporter");
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

//! Attachments through the reporter page in headless Chromium (issue 19;
//! `web/e2e/attachments.mjs`), against a real server on 127.0.0.1:0:
//!
//! - a JPEG made by Chromium's encoder with GPS, camera and time in EXIF, and
//!   a PNG with text chunks and an eXIf chunk, are chosen on the file step;
//!   the page names the place ("near 51.50, -0.12") and the camera; Continue
//!   seals and uploads both; the report is sent. Here the report is opened
//!   with the force's key, each blob fetched with a handler token and opened
//!   with the crypto crate (`stream::open`, which checks every chunk, the
//!   padding and, below, the SHA-256 of what was sent): no EXIF, GPS, text
//!   chunk or value of them is left, and the image data (the JPEG's tables
//!   and entropy-coded scans; the PNG's IHDR and IDAT) is byte for byte what
//!   the reporter chose; and nothing the server wrote holds a file name, a
//!   metadata value or a media type;
//! - the step at a phone's width in English and Welsh passes axe-core, and
//!   with QUIETLINE_SCREENSHOTS=DIR its screenshots are saved (as
//!   docs/screenshots/ holds them);
//! - the step's file button in Welsh and English: the page's words, one
//!   control properly named and described, drag announcements, the count of
//!   files chosen, axe-core clean;
//! - an upload interrupted by the server's SIGKILL mid-way resumes once it
//!   is started again on the same data and address: the page asks which
//!   parts are held, sends only the rest, and the blob opens whole.

use crate::browser::{answers, canary, envelope, open_report, server};
use crate::support::server::{Backend, BinarySetup, Process, inbox_ids};
use base64::Engine;
use quietline_crypto::payload::Payload;
use quietline_crypto::stream;
use quietline_testkit::node::{e2e_ok, ensure_node_modules, require_node_and_chromium};
use serde_json::json;
use sha2::{Digest, Sha256};

fn b64(v: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64"))
        .expect("base64")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The JPEG from its first quantisation table (FF DB) to the end: the image
/// data the cleaner must keep byte for byte.
fn jpeg_image_data(b: &[u8]) -> &[u8] {
    &b[find(b, &[0xff, 0xdb]).expect("a DQT segment")..]
}

/// The PNG's chunks of these types, in order, whole (length, type, data, CRC).
fn png_chunks<'a>(b: &'a [u8], types: &[&[u8]]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 8;
    while at + 12 <= b.len() {
        let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let end = at + 12 + len;
        if types.contains(&&b[at + 4..at + 8]) {
            out.push(&b[at..end]);
        }
        at = end;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_attachments_jpeg_gps_and_png_text_are_removed_pixels_kept() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, force, token) = server().await;
    let a = answers(&canary("ATTACH"));
    let sent = e2e_ok(
        "attachments.mjs",
        Some("send"),
        &s.base,
        &json!({ "answers": a.json }),
        tmp.path(),
    )
    .await;
    let jpeg = b64(&sent["jpeg"]);
    let png = b64(&sent["png"]);
    assert!(find(&jpeg, b"Examplephone").is_some() && find(&png, b"tEXt").is_some());

    let ids = inbox_ids(&s.http, &s.base, &token).await;
    assert_eq!(ids.len(), 1, "one report arrived");
    let env = envelope(&s, &token, &ids[0]).await;
    let Payload::Report(report) = open_report(&force, &env) else {
        panic!("a report payload")
    };
    assert_eq!(report.attachments.len(), 2, "the report lists both files");
    for entry in &report.attachments {
        let att = entry.decode().expect("a well-formed attachment entry");
        let res = s
            .http
            .get(s.url(&format!("/api/v1/inbox/blobs/{}", att.blob_id_hex)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "the handler fetches blob {}",
            att.blob_id_hex
        );
        let sealed = res.bytes().await.unwrap();
        let file = stream::open(&att.key, att.size, att.padded_size, &sealed)
            .expect("the blob opens chunk by chunk");
        assert_eq!(
            Sha256::digest(&file).as_slice(),
            att.sha256_sent,
            "sha256_sent"
        );
        for leaked in [
            &b"Examplephone"[..],
            b"EP-12 Pro",
            b"SN-998877",
            b"2026:11:20",
            b"ExampleOS",
            b"ExampleCam",
            b"Jo Bloggs",
            b"Example Street",
        ] {
            assert!(
                find(&file, leaked).is_none(),
                "{} still holds {:?}",
                att.media_type,
                String::from_utf8_lossy(leaked)
            );
        }
        let removed = &entry.metadata_removed;
        assert_eq!(
            removed, &entry.metadata_found,
            "everything found was removed"
        );
        match att.media_type.as_str() {
            "image/jpeg" => {
                assert_eq!(Sha256::digest(&jpeg).as_slice(), att.sha256_original);
                assert_eq!(
                    jpeg_image_data(&file),
                    jpeg_image_data(&jpeg),
                    "the JPEG's tables and scans are untouched"
                );
                // The only EXIF left is the photo's orientation, alone (34 bytes).
                let exif = find(&file, b"Exif\0\0").expect("the orientation is kept");
                assert_eq!(&file[exif - 4..exif - 2], &[0xff, 0xe1]);
                assert_eq!(u16::from_be_bytes([file[exif - 2], file[exif - 1]]), 34);
                assert_eq!(find(&file[exif + 6..], b"Exif"), None);
                for kind in ["location", "device", "time", "software"] {
                    assert!(removed.iter().any(|k| k == kind), "{kind} in {removed:?}");
                }
            }
            "image/png" => {
                assert_eq!(Sha256::digest(&png).as_slice(), att.sha256_original);
                assert!(
                    png_chunks(&file, &[b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"]).is_empty()
                );
                assert_eq!(
                    png_chunks(&file, &[b"IHDR", b"IDAT", b"IEND"]),
                    png_chunks(&png, &[b"IHDR", b"IDAT", b"IEND"]),
                    "the PNG's header and image data are untouched"
                );
                for kind in ["author", "software", "comment", "text", "location"] {
                    assert!(removed.iter().any(|k| k == kind), "{kind} in {removed:?}");
                }
            }
            other => panic!("unexpected media type {other}"),
        }
    }
    // Nothing the server wrote (its database and WAL) holds a file name, a
    // metadata value or a media type: only sealed octets reached it.
    let mut files = Vec::new();
    crate::page_metadata::files_of(s.db.dir.path(), &mut files);
    assert!(!files.is_empty());
    for (name, bytes) in &files {
        for canary in [
            &b"IMG_0001"[..],
            b"screenshot.png",
            b"Examplephone",
            b"SN-998877",
            b"Jo Bloggs",
            b"image/jpeg",
            b"image/png",
        ] {
            assert!(
                find(bytes, canary).is_none(),
                "{name} holds {:?}",
                String::from_utf8_lossy(canary)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_attachments_step_on_a_phone_in_english_and_welsh_is_axe_clean() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, _force, _token) = server().await;
    let a = answers(&canary("PHONE"));
    let cy = crate::browser::answers_in("cy", &canary("PHONE"));
    e2e_ok(
        "attachments.mjs",
        Some("phone"),
        &s.base,
        &json!({ "answers": a.json, "answersByLang": { "cy": cy.json } }),
        tmp.path(),
    )
    .await;
}

/// The step's file control speaks the page's language (GOV.UK's enhanced
/// file upload): in Welsh, then English, one button in the page's words
/// ("Dewis ffeiliau", "Dim ffeil wedi’i dewis") over the hidden native input,
/// named by the step's label and described by its hint and error (the error
/// summary's link focuses it), the drop zone's entered/left announcements,
/// files chosen through it (the browser's file chooser) counted, and axe-core
/// clean before and after; screenshots with QUIETLINE_SCREENSHOTS=DIR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_attachments_welsh_file_button() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, _force, _token) = server().await;
    let a = answers(&canary("BUTTON"));
    let cy = crate::browser::answers_in("cy", &canary("BUTTON"));
    e2e_ok(
        "attachments.mjs",
        Some("button"),
        &s.base,
        &json!({ "answers": a.json, "answersByLang": { "cy": cy.json } }),
        tmp.path(),
    )
    .await;
}

/// `quietline serve` on `setup`'s database, listening on `listen`.
fn serve_on(setup: &BinarySetup, listen: &str) -> Process {
    let mut cmd = crate::support::server::command();
    cmd.arg("serve")
        .arg("--listen")
        .arg(listen)
        .arg("--data-dir")
        .arg(setup.data_dir())
        .arg("--database-url")
        .arg(&setup.db.url)
        .arg("--pow-difficulty")
        .arg(crate::support::server::TEST_POW_DIFFICULTY.to_string());
    Process::spawn(cmd)
}

/// Wait for the e2e script's signal file (it polls for ours the same way).
async fn until(path: &std::path::Path) {
    tokio::time::timeout(std::time::Duration::from_secs(120), async {
        while !path.exists() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {} from the script", path.display()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_attachments_upload_interrupted_by_a_server_restart_resumes() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let setup = BinarySetup::new(Backend::Sqlite)
        .await
        .expect("SQLite is never skipped");
    let server = serve_on(&setup, "127.0.0.1:0");
    let base = server.base.clone();
    let listen = server.addr.to_string();
    let mut a = answers(&canary("RESUME"));
    a.json["forceName"] = json!("North");

    let script = tokio::spawn({
        let base = base.clone();
        let dir = tmp.path().to_owned();
        async move {
            e2e_ok(
                "attachments.mjs",
                Some("resume"),
                &base,
                &json!({ "answers": a.json }),
                &dir,
            )
            .await
        }
    });
    // Part 2 is on its way: stop the server (SIGKILL: what it acknowledged is
    // durable), let the request fail, then start it again on the same data
    // and the same address.
    until(&tmp.path().join("part-2")).await;
    server.kill();
    std::fs::write(tmp.path().join("stopped"), b"").unwrap();
    until(&tmp.path().join("failed")).await;
    let server = serve_on(&setup, &listen);
    assert_eq!(
        server.base, base,
        "the restarted server listens where the page expects"
    );
    let sent = script.await.expect("the script ran");

    let parts: Vec<u64> = serde_json::from_value(sent["parts"].clone()).unwrap();
    assert_eq!(
        parts.iter().filter(|&&p| p == 2).count(),
        2,
        "part 2 was sent again: {parts:?}"
    );
    for p in [0, 1] {
        assert_eq!(
            parts.iter().filter(|&&x| x == p).count(),
            1,
            "part {p}, held before the stop, was not sent again: {parts:?}"
        );
    }
    let http = reqwest::Client::new();
    let ids = crate::support::server::inbox_ids(&http, &base, &setup.token).await;
    assert_eq!(ids.len(), 1, "the report arrived");
    let res = http
        .get(server.url(&format!("/api/v1/inbox/{}", ids[0])))
        .bearer_auth(&setup.token)
        .send()
        .await
        .unwrap();
    let env = res.bytes().await.unwrap();
    let bytes = quietline_crypto::open::open(
        &setup.force.private_key,
        quietline_crypto::envelope::Kind::Report,
        &env,
    )
    .expect("the report opens");
    let Payload::Report(report) = Payload::from_json(&bytes).unwrap() else {
        panic!("a report")
    };
    assert_eq!(report.attachments.len(), 1);
    let att = report.attachments[0].decode().unwrap();
    assert_eq!(att.media_type, "video/mp4");
    assert!(
        report.attachments[0].metadata_removed.is_empty(),
        "nothing removed from a video"
    );
    let sealed = http
        .get(server.url(&format!("/api/v1/inbox/blobs/{}", att.blob_id_hex)))
        .bearer_auth(&setup.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let file = stream::open(&att.key, att.size, att.padded_size, &sealed).expect("the blob opens");
    assert_eq!(
        hex::encode(Sha256::digest(&file)),
        sent["sha256"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(att.sha256_sent),
        sent["sha256"].as_str().unwrap()
    );
    assert!(server.stop().success);
}

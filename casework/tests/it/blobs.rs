//! The attachment step of a pull on both vault backends (issue 19): a real
//! intake server in-process, blobs sealed and uploaded through its blob API
//! (`quietline_testkit::blobs`), a report listing them, `pull::pull`. A good
//! blob of several parts is stored and reads back exact; an altered one and
//! a missing one are kept flagged without stopping the pull; the missing
//! one is fetched by the next pull once its upload completes; and a dump of
//! the vault holds neither the file's text nor its key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use indicatif::ProgressBar;
use quietline_casework::client::Client;
use quietline_casework::vault::ATTACHMENT_STORED;
use quietline_casework::{attachments, blobs as stored, pull};
use quietline_crypto::payload::AttachmentRef;
use quietline_testkit::blobs;
use quietline_testkit::on_both_backends;
use quietline_testkit::server::TestServer;
use zeroize::Zeroizing;

use crate::support::{Backend, TestVault, contains_text, key_ring};

on_both_backends!(a_pull_stores_good_blobs_and_flags_bad_ones,);

const CANARY: &str = "CANARY-attachment-text-9c1d";

fn entry(v: serde_json::Value) -> AttachmentRef {
    serde_json::from_value(v).unwrap()
}

async fn a_pull_stores_good_blobs_and_flags_bad_ones(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let server = TestServer::start(quietline_testkit::server::Backend::Sqlite)
        .await
        .expect("SQLite is never skipped");
    let ring = key_ring(t.dir(), "north");
    let pk = ring.current_public_key();
    quietline::admin::add_force(server.storage.as_ref(), "north", "North")
        .await
        .unwrap();
    quietline::admin::add_force_key(server.storage.as_ref(), "north", &pk)
        .await
        .unwrap();
    let token = Zeroizing::new(server.token("north", "h").await);
    let client = Client::new(&server.base, Some(&token)).unwrap();
    let vault = t.open().await;

    // A file of three vault parts with a canary in every chunk.
    let file: Vec<u8> = CANARY.bytes().cycle().take(2_500_000).collect();
    let good = blobs::seal(&file, "video/mp4");
    let altered = blobs::seal(b"a document", "application/pdf");
    let mut altered_blob = altered.blob.clone();
    altered_blob[3] ^= 0x40;
    let late = blobs::seal(&[5u8; 70_000], "image/png");
    let http = &server.http;
    let good_id = blobs::upload(http, &server.base, "north", &good.blob).await;
    let altered_id = blobs::upload(http, &server.base, "north", &altered_blob).await;
    let (late_id, part_len) = blobs::begin(http, &server.base, "north", late.blob.len()).await;

    let payload = serde_json::json!({
        "type": "report", "v": 1, "sent_at": "2026-12-07T06:00:00Z", "lang": "en",
        "report": {"category": "other", "details": "three attachments",
                   "where": {"known": false}, "when": {"known": false}, "how_known": "saw"},
        "attachments": [
            good.entry(&good_id, &[], &[]),
            altered.entry(&altered_id, &[], &[]),
            late.entry(&late_id, &[], &[]),
        ],
        "reply": {"public_key": URL_SAFE_NO_PAD.encode([1u8; 32]),
                  "thread_id": "00112233445566778899aabbccddeeff",
                  "slot_key": URL_SAFE_NO_PAD.encode([2u8; 32])}
    });
    let env = quietline_crypto::seal::seal_report(
        &mut quietline_testkit::server::rng(),
        "north",
        &pk,
        payload.to_string().as_bytes(),
    )
    .unwrap();
    let id = server.submit(env).await;

    let s = pull::pull(&client, &vault, &ring, &ProgressBar::hidden())
        .await
        .unwrap();
    assert_eq!(s.opened, 1);
    assert_eq!(s.attachments.stored, 1, "{s:?}");
    assert_eq!(s.attachments.flagged.get("attachment_altered"), Some(&1));
    assert_eq!(s.attachments.flagged.get("attachment_missing"), Some(&1));
    let rows = vault.attachments_of(&id).await.unwrap();
    assert_eq!(rows[0].state, ATTACHMENT_STORED);
    assert_eq!(rows[0].stored_len, good.blob.len() as u64);
    assert_eq!(rows[1].state, "attachment_altered");
    assert_eq!(rows[2].state, "attachment_missing");

    // It reads back exact, streamed part by part.
    let a = attachments::decode(&entry(good.entry(&good_id, &[], &[]))).unwrap();
    let back = stored::read_stored_whole(&vault, &id, 0, &a).await.unwrap();
    assert!(*back == file);
    // A part changed at rest fails the read.
    let mut part = vault.blob_part(&id, 0, 1).await.unwrap().unwrap();
    part[100] ^= 1;
    vault.put_blob_part(&id, 0, 1, &part).await.unwrap();
    assert!(stored::read_stored_whole(&vault, &id, 0, &a).await.is_err());
    part[100] ^= 1;
    vault.put_blob_part(&id, 0, 1, &part).await.unwrap();

    // The late upload completes; the next pull fetches it and nothing else.
    blobs::put_parts(http, &server.base, &late_id, part_len, &late.blob).await;
    let s = pull::pull(&client, &vault, &ring, &ProgressBar::hidden())
        .await
        .unwrap();
    assert_eq!(s.attachments.stored, 1, "{s:?}");
    assert_eq!(
        s.attachments.flagged_total(),
        0,
        "the altered one is not fetched again"
    );
    assert_eq!(
        vault.attachments_of(&id).await.unwrap()[2].state,
        ATTACHMENT_STORED
    );

    // At rest: neither the file's text nor its key.
    let dump = t.dump().await;
    assert!(!contains_text(&dump, CANARY));
    assert!(!contains_text(&dump, &URL_SAFE_NO_PAD.encode(good.key)));
    vault.close().await;
    server.stop().await;
    t.cleanup().await;
}

/// The client's upload (what a transfer uses to pass an attachment on to
/// another force): a blob of several parts, sent as the page sends it
/// (challenge scaled to the size, the proof of work over the exact body,
/// every part), is complete on the server and comes back exact to the
/// force it was uploaded to, and to no other; an upload of a length that is
/// no sealed blob's is refused with the server's code.
#[tokio::test]
async fn the_client_uploads_a_blob_to_a_force_as_the_page_does() {
    let server = TestServer::start(quietline_testkit::server::Backend::Sqlite)
        .await
        .expect("SQLite is never skipped");
    server.add_force("north", "North").await;
    server.add_force("west", "West").await;
    let public = Client::new(&server.base, None).unwrap();
    let file: Vec<u8> = (0..2_300_000u32).map(|i| (i % 251) as u8).collect();
    let sealed = blobs::seal(&file, "video/mp4");
    let id = public.upload_blob("west", &sealed.blob).await.unwrap();
    assert!(quietline_casework::client::is_hex(&id, 32));

    let west = Zeroizing::new(server.token("west", "w").await);
    let west = Client::new(&server.base, Some(&west)).unwrap();
    let back = west.blob(&id, sealed.blob.len()).await.unwrap().unwrap();
    assert!(back == sealed.blob, "the same octets back");
    let a = attachments::decode(&entry(sealed.entry(&id, &[], &[]))).unwrap();
    assert!(*attachments::verify(&a, Some(&back)).unwrap() == file);
    let north = Zeroizing::new(server.token("north", "n").await);
    let north = Client::new(&server.base, Some(&north)).unwrap();
    assert!(
        north.blob(&id, sealed.blob.len()).await.unwrap().is_none(),
        "bound to the force it was uploaded to"
    );

    // Begun but not every part sent: not complete, not fetchable.
    let up = public
        .begin_blob("west", sealed.blob.len() as u64)
        .await
        .unwrap();
    assert_eq!(up.parts, sealed.blob.len().div_ceil(up.part_len) as u64);
    assert!(
        !public
            .put_blob_part(&up.id, 0, &sealed.blob[..up.part_len])
            .await
            .unwrap()
    );
    assert!(
        west.blob(&up.id, sealed.blob.len())
            .await
            .unwrap()
            .is_none()
    );

    match public.begin_blob("west", 1000).await {
        Err(quietline_casework::client::ClientError::Status { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "bad_blob_size"))
        }
        other => panic!("{other:?}"),
    }
    server.stop().await;
}

/// A stand-in for the blob routes on 127.0.0.1:0 that refuses the first
/// `refusals` uploads with `429 pow_spent` (what the real server answers to
/// a challenge already used, which a test cannot provoke through it):
/// `(base, challenges served, uploads begun)`.
async fn refusing_server(
    refusals: u32,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicU32>,
    std::sync::Arc<std::sync::atomic::AtomicU32>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (challenges, posts) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let (c, p) = (challenges.clone(), posts.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut piece = [0u8; 4096];
            // The head, then as much body as it announces.
            let head_end = loop {
                let n = sock.read(&mut piece).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&piece[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(i + 4);
                }
            };
            let Some(head_end) = head_end else { continue };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < head_end + len {
                let n = sock.read(&mut piece).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&piece[..n]);
            }
            let (status, body) = if head.starts_with("get /api/v1/blobs/challenge") {
                c.fetch_add(1, Ordering::SeqCst);
                // Difficulty 1: solved at once.
                let mut ch = [0u8; quietline_crypto::pow::CHALLENGE_LEN];
                ch[0] = 1;
                ch[1] = 1;
                (
                    "200 OK",
                    serde_json::json!({ "challenge": URL_SAFE_NO_PAD.encode(ch) }).to_string(),
                )
            } else if head.starts_with("post /api/v1/blobs ") {
                assert!(head.contains("quietline-pow:"), "{head}");
                if p.fetch_add(1, Ordering::SeqCst) < refusals {
                    (
                        "429 Too Many Requests",
                        r#"{"error":"pow_spent","message":"used"}"#.to_owned(),
                    )
                } else {
                    (
                        "201 Created",
                        r#"{"id":"00112233445566778899aabbccddeeff","parts":1,"part_len":1048832}"#
                            .to_owned(),
                    )
                }
            } else {
                ("404 Not Found", r#"{"error":"not_found"}"#.to_owned())
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(answer.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    (base, challenges, posts)
}

/// Like the page: a `429 pow_*` to beginning an upload is retried once,
/// with a fresh challenge; a second refusal is the caller's error.
#[tokio::test]
async fn beginning_an_upload_retries_once_on_a_spent_challenge() {
    use std::sync::atomic::Ordering;
    let (base, challenges, posts) = refusing_server(1).await;
    let client = Client::new(&base, None).unwrap();
    let up = client.begin_blob("north", 65552).await.unwrap();
    assert_eq!((up.parts, up.part_len), (1, 1_048_832));
    assert_eq!(
        (
            challenges.load(Ordering::SeqCst),
            posts.load(Ordering::SeqCst)
        ),
        (2, 2)
    );

    let (base, challenges, posts) = refusing_server(2).await;
    let client = Client::new(&base, None).unwrap();
    match client.begin_blob("north", 65552).await {
        Err(quietline_casework::client::ClientError::Status { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (429, "pow_spent"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        (
            challenges.load(Ordering::SeqCst),
            posts.load(Ordering::SeqCst)
        ),
        (2, 2),
        "one retry, not more"
    );
}

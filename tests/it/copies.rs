//! Reporters' own copies through a real server, on both backends
//! (crypto/FORMAT.md#own-copies; README, `POST`/`GET /api/v1/copies/{box}`):
//! a copy sealed with a reply code is written with a proof of work, read
//! back and opened with the same code; every refusal with its status and
//! code (shape, kind, routing, address, media type, proof of work missing,
//! for another envelope, spent); the per-box caps on count and on bytes, over
//! HTTP and under concurrent writers; retention and purge as for reply slots;
//! and what a copy row holds (nothing that names a report, force or slot).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline::intake::copies::COPY_LIMITS;
use quietline::storage::{CopyLimits, CopyWrite, NewCopy};
use quietline_crypto::copy::{OwnCopy, copy_box, open_copy, seal_copy};
use quietline_crypto::keys::Suite;
use quietline_crypto::payload::{Common, FollowUp, Payload, ReplyMaterial};
use quietline_crypto::reply_code::ReplyCode;
use serde_json::Value;

use crate::support::server::{Backend, TestServer, random_slot, reply_for, rng};

fn code() -> ReplyCode {
    ReplyCode::generate(&mut rng())
}

fn copy_payload(code: &ReplyCode, seq: u32, message: &str) -> OwnCopy {
    let sent = Payload::FollowUp(FollowUp {
        common: Common {
            v: 1,
            sent_at: "2026-12-07T03:00:00Z".into(),
            lang: "en".into(),
        },
        message: message.into(),
        attachments: vec![],
        reply: ReplyMaterial::from_secrets(&code.derive()),
        transfer: None,
    });
    OwnCopy {
        common: sent.common().clone(),
        seq,
        after_replies: seq,
        sent,
    }
}

fn sealed_copy(code: &ReplyCode, seq: u32, message: &str) -> Vec<u8> {
    seal_copy(
        &mut rng(),
        code,
        Suite::X25519,
        &copy_payload(code, seq, message),
    )
    .unwrap()
}

async fn post_copy(
    s: &TestServer,
    address: &str,
    envelope: &[u8],
    pow: Option<&str>,
) -> (u16, Value) {
    let mut req = s
        .http
        .post(s.url(&format!("/api/v1/copies/{address}")))
        .header("content-type", "application/octet-stream")
        .body(envelope.to_vec());
    if let Some(p) = pow {
        req = req.header("quietline-pow", p);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (
        status,
        serde_json::from_slice(&res.bytes().await.unwrap()).unwrap(),
    )
}

/// Post with a freshly solved proof of work.
async fn post_solved(s: &TestServer, address: &str, envelope: &[u8]) -> (u16, Value) {
    let pow = s.pow(envelope).await;
    post_copy(s, address, envelope, Some(&pow)).await
}

async fn get_copies(s: &TestServer, address: &str) -> (u16, Value) {
    let res = s
        .http
        .get(s.url(&format!("/api/v1/copies/{address}")))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (
        status,
        serde_json::from_slice(&res.bytes().await.unwrap()).unwrap(),
    )
}

fn envelopes(v: &Value) -> Vec<Vec<u8>> {
    v["copies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| URL_SAFE_NO_PAD.decode(e.as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn copies_round_trip_on_sqlite() {
    round_trip(Backend::Sqlite).await;
}

#[tokio::test]
async fn copies_round_trip_on_postgres() {
    round_trip(Backend::Postgres).await;
}

async fn round_trip(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let code = code();
    let address = hex::encode(copy_box(&code));
    // An empty box: 200 and an empty list, with the retention the page states.
    let (status, body) = get_copies(&s, &address).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["copies"], serde_json::json!([]));
    assert_eq!(body["retention_days"], 90);
    assert_eq!(body["retention_fuzz_days"], 7);
    // Two copies written, each with its own proof of work.
    let first = sealed_copy(&code, 0, "the report");
    let second = sealed_copy(&code, 1, "a follow-up");
    for e in [&first, &second] {
        let (status, body) = post_solved(&s, &address, e).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["retention_days"], 90);
        assert_eq!(body["retention_fuzz_days"], 7);
    }
    let (status, body) = get_copies(&s, &address).await;
    assert_eq!(status, 200);
    let mut got = envelopes(&body);
    assert_eq!(got.len(), 2);
    // Byte for byte what was sent, and they open with the code (only).
    got.sort();
    let mut want = vec![first.clone(), second.clone()];
    want.sort();
    assert_eq!(got, want);
    let mut seqs: Vec<u32> = got
        .iter()
        .map(|e| open_copy(&code, e).unwrap().seq)
        .collect();
    seqs.sort();
    assert_eq!(seqs, [0, 1]);
    assert!(open_copy(&ReplyCode::from_entropy([1; 16]), &got[0]).is_err());
    // Another box is empty, and the copy box is not a reply slot.
    let other = hex::encode(copy_box(&ReplyCode::from_entropy([2; 16])));
    assert_eq!(
        get_copies(&s, &other).await.1["copies"],
        serde_json::json!([])
    );
    let slot = s
        .http
        .get(s.url(&format!("/api/v1/slots/{address}")))
        .send()
        .await
        .unwrap();
    assert_eq!(slot.status().as_u16(), 404);
    s.stop().await;
}

#[tokio::test]
async fn every_copy_refusal_on_sqlite() {
    every_refusal(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_copy_refusal_on_postgres() {
    every_refusal(Backend::Postgres).await;
}

async fn every_refusal(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North").await;
    let code = code();
    let address = hex::encode(copy_box(&code));
    let copy = sealed_copy(&code, 0, "mine");
    let refused = |got: (u16, Value), status: u16, error: &str| {
        assert_eq!(got.0, status, "{}", got.1);
        assert_eq!(got.1["error"], error, "{}", got.1);
        let message = got.1["message"].as_str().unwrap();
        assert!(!message.is_empty());
    };
    // No proof of work.
    refused(
        post_copy(&s, &address, &copy, None).await,
        400,
        "pow_missing",
    );
    // Not an envelope; a report; routed to another address.
    refused(
        post_solved(&s, &address, b"not an envelope at all").await,
        400,
        "bad_magic",
    );
    let report = force.report(b"a report");
    refused(post_solved(&s, &address, &report).await, 400, "wrong_kind");
    let elsewhere = reply_for(random_slot(), b"moved");
    refused(
        post_solved(&s, &address, &elsewhere).await,
        400,
        "copy_box_mismatch",
    );
    // A malformed box address.
    for bad in ["abc", &address[..63], &format!("{}zz", &address[..62])] {
        refused(post_solved(&s, bad, &copy).await, 400, "bad_copy_box");
        refused(get_copies(&s, bad).await, 400, "bad_copy_box");
    }
    // The wrong media type.
    let res = s
        .http
        .post(s.url(&format!("/api/v1/copies/{address}")))
        .header("content-type", "application/json")
        .body(copy.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    // A solution for another envelope.
    let other = sealed_copy(&code, 1, "another");
    let pow = s.pow(&other).await;
    refused(
        post_copy(&s, &address, &copy, Some(&pow)).await,
        400,
        "pow_insufficient",
    );
    // Stored once; the same proof again is spent.
    let pow = s.pow(&copy).await;
    assert_eq!(post_copy(&s, &address, &copy, Some(&pow)).await.0, 201);
    refused(
        post_copy(&s, &address, &copy, Some(&pow)).await,
        429,
        "pow_spent",
    );
    // A challenge spent by a copy is spent for reports too (one table).
    let res = s
        .http
        .post(s.url("/api/v1/reports"))
        .header("content-type", "application/octet-stream")
        .header("quietline-pow", pow)
        .body(report.clone())
        .send()
        .await
        .unwrap();
    // The proof was solved over the copy, so a report cannot use it anyway.
    assert_eq!(res.status().as_u16(), 400);
    // Nothing but the one copy was stored.
    assert_eq!(s.storage.copies(copy_box(&code)).await.unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn copy_box_caps_on_sqlite() {
    caps(Backend::Sqlite).await;
}

#[tokio::test]
async fn copy_box_caps_on_postgres() {
    caps(Backend::Postgres).await;
}

/// The caps over HTTP: the count with small copies, the bytes with the
/// largest ones; a full box answers 409 and stores nothing.
async fn caps(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    // Count: COPY_LIMITS.count copies of 1 KiB, then one more is refused.
    let code = code();
    let address = hex::encode(copy_box(&code));
    for i in 0..COPY_LIMITS.count {
        let (status, body) = post_solved(&s, &address, &sealed_copy(&code, i, "short")).await;
        assert_eq!(status, 201, "copy {i}: {body}");
    }
    let (status, body) = post_solved(
        &s,
        &address,
        &sealed_copy(&code, COPY_LIMITS.count, "one too many"),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "copy_box_full");
    assert_eq!(
        s.storage.copies(copy_box(&code)).await.unwrap().len(),
        COPY_LIMITS.count as usize
    );
    // Bytes: the largest envelopes (64 KiB bucket) fill 1 MiB after 15.
    let big = code_with_big_copies(&s).await;
    assert_eq!(
        s.storage.copies(big).await.unwrap().len(),
        (COPY_LIMITS.bytes / 65_635) as usize
    );
    s.stop().await;
}

async fn code_with_big_copies(s: &TestServer) -> [u8; 32] {
    let code = code();
    let address = hex::encode(copy_box(&code));
    // A message that makes the copy payload land in the 64 KiB bucket.
    let message = "x".repeat(40_000);
    let mut stored = 0u64;
    loop {
        let envelope = sealed_copy(&code, stored as u32, &message);
        assert_eq!(envelope.len(), 65_635);
        let (status, body) = post_solved(s, &address, &envelope).await;
        if status == 409 {
            assert_eq!(body["error"], "copy_box_full");
            assert!((stored + 1) * 65_635 > COPY_LIMITS.bytes);
            break;
        }
        assert_eq!(status, 201, "{body}");
        stored += 1;
        assert!(stored * 65_635 <= COPY_LIMITS.bytes);
    }
    copy_box(&code)
}

#[tokio::test]
async fn concurrent_copy_writers_never_overshoot_the_cap_on_sqlite() {
    concurrent_writers(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_copy_writers_never_overshoot_the_cap_on_postgres() {
    concurrent_writers(Backend::Postgres).await;
}

/// Twenty writers at once into one box capped at five: exactly five stored,
/// the rest told the box is full (the count and the insert are one
/// transaction, serialized per box).
async fn concurrent_writers(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let address = random_slot();
    let limits = CopyLimits {
        count: 5,
        bytes: 1 << 20,
    };
    let day = s.clock.today();
    let writes = (0..20).map(|_| {
        let storage = s.storage.clone();
        let envelope = reply_for(address, b"at once");
        tokio::spawn(async move {
            storage
                .put_copy(
                    NewCopy {
                        copy_box: address,
                        envelope,
                        day,
                        pow: None,
                    },
                    limits,
                )
                .await
                .unwrap()
        })
    });
    let mut stored = 0;
    for w in writes.collect::<Vec<_>>() {
        if w.await.unwrap() == CopyWrite::Stored {
            stored += 1;
        }
    }
    assert_eq!(stored, 5);
    assert_eq!(s.storage.copies(address).await.unwrap().len(), 5);
    // The bytes cap, in the storage's own terms: two of 1123 bytes fit in 2300.
    let other = random_slot();
    let small = CopyLimits {
        count: 100,
        bytes: 2300,
    };
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let envelope = reply_for(other, b"small");
        assert_eq!(envelope.len(), 1123);
        outcomes.push(
            s.storage
                .put_copy(
                    NewCopy {
                        copy_box: other,
                        envelope,
                        day,
                        pow: None,
                    },
                    small,
                )
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        outcomes,
        [CopyWrite::Stored, CopyWrite::Stored, CopyWrite::Full]
    );
    s.stop().await;
}

#[tokio::test]
async fn copies_are_purged_like_reply_slots_on_sqlite() {
    purge(Backend::Sqlite).await;
}

#[tokio::test]
async fn copies_are_purged_like_reply_slots_on_postgres() {
    purge(Backend::Postgres).await;
}

/// A copy is kept through its day + retention + its fuzz (0 to 7 days) and
/// deleted after, by the same purge as reports and reply slots.
async fn purge(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let limits = COPY_LIMITS;
    let old = random_slot();
    let young = random_slot();
    let today = s.clock.today();
    for (address, day) in [(old, today - 100), (young, today - 10)] {
        for _ in 0..3 {
            let w = s
                .storage
                .put_copy(
                    NewCopy {
                        copy_box: address,
                        envelope: reply_for(address, b"kept a while"),
                        day,
                        pow: None,
                    },
                    limits,
                )
                .await
                .unwrap();
            assert_eq!(w, CopyWrite::Stored);
        }
    }
    // 100 days old with 90 days' retention and at most 7 of fuzz: gone; 10 days: kept.
    let purged = s.storage.purge(today, 90).await.unwrap();
    assert_eq!(purged.copies, 3);
    assert!(s.storage.copies(old).await.unwrap().is_empty());
    assert_eq!(s.storage.copies(young).await.unwrap().len(), 3);
    // At 10 + 7 days past retention every copy of `young` is gone too.
    let purged = s.storage.purge(today + 90 + 8, 90).await.unwrap();
    assert_eq!(purged.copies, 3);
    assert!(s.storage.copies(young).await.unwrap().is_empty());
    // The API says so too.
    let (status, body) = get_copies(&s, &hex::encode(young)).await;
    assert_eq!(status, 200);
    assert_eq!(body["copies"], serde_json::json!([]));
    s.stop().await;
}

/// A copy row holds the box, a random id, the day, the fuzz and the
/// envelope: no report id, force, key id, slot or time finer than the day.
#[tokio::test]
async fn a_copy_row_names_nothing_but_its_box() {
    use sqlx::Connection;
    let Some(s) = TestServer::start(Backend::Sqlite).await else {
        return;
    };
    let code = code();
    let address = hex::encode(copy_box(&code));
    assert_eq!(
        post_solved(&s, &address, &sealed_copy(&code, 0, "mine"))
            .await
            .0,
        201
    );
    let mut c = sqlx::SqliteConnection::connect(&s.db.url).await.unwrap();
    let columns: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM pragma_table_info('reporter_copies') ORDER BY cid")
            .fetch_all(&mut c)
            .await
            .unwrap();
    let columns: Vec<&str> = columns.iter().map(|(n,)| n.as_str()).collect();
    assert_eq!(columns, ["copy_box", "id", "day", "purge_fuzz", "envelope"]);
    let (day, fuzz): (i64, i64) = sqlx::query_as("SELECT day, purge_fuzz FROM reporter_copies")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(day, i64::from(s.clock.today()));
    assert!((0..=7).contains(&fuzz));
    c.close().await.unwrap();
    s.stop().await;
}

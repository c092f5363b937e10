//! The HTTP API v1 contract, end to end against a real server on 127.0.0.1:0:
//! every route, every status and error path with its code and message, the
//! security headers on every response (checked by the request helpers on each
//! one, including 404, 405, 408, 413 and 500), and body limits enforced without
//! buffering. Each contract test runs against SQLite AND PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::support::server::{
    Backend, RawResponse, TEST_POW_DIFFICULTY, TestDb, TestServer, fetch_challenge, random_slot,
    raw_http, read_response, reply_for, rng, solve, test_settings,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline::ServerSettings;
use quietline::storage::{
    Day, ForceEntry, ForceKey, InboxEntry, KeyId, KeyStatus, NewReport, Pressure, Purged, ReportId,
    SlotAddress, SlotWrite, Storage, StorageError, TokenHash, TokenInfo,
};
use quietline_crypto::envelope::{ENC_LEN, Kind, MAX_ENVELOPE_LEN, XWING_ENC_LEN};
use quietline_crypto::keys::generate_keypair;
use quietline_crypto::padding::MAX_PAYLOAD_LEN;
use quietline_crypto::seal::seal_report;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

// ------------------------------------------------------------------ helpers

/// A response, with headers flattened (names lowercased).
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Assert an error answer: status, code, and that the message says `phrase`.
    #[track_caller]
    fn error(&self, status: u16, code: &str, phrase: &str) {
        let body = self.json();
        assert_eq!(self.status, status, "{body}");
        assert_eq!(body["error"], code, "{body}");
        let message = body["message"].as_str().expect("message is a string");
        assert!(
            message.contains(phrase),
            "message {message:?} lacks {phrase:?}"
        );
        assert_eq!(
            body.as_object().unwrap().len(),
            2,
            "an error has exactly `error` and `message`: {body}"
        );
        assert!(
            self.header("content-type")
                .unwrap()
                .starts_with("application/json"),
            "errors are JSON"
        );
    }
}

const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The headers every response must carry (and the ones none may).
#[track_caller]
fn assert_security_headers(status: u16, h: &HashMap<String, String>) {
    let expect = [
        ("content-security-policy", API_CSP),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("cross-origin-resource-policy", "same-origin"),
    ];
    for (name, value) in expect {
        assert_eq!(
            h.get(name).map(String::as_str),
            Some(value),
            "{name} on a {status} response: {h:?}"
        );
    }
    assert!(
        !h.contains_key("server"),
        "no Server header on a {status}: {h:?}"
    );
    assert!(
        !h.contains_key("set-cookie"),
        "no Set-Cookie on a {status}: {h:?}"
    );
    assert!(
        !h.keys().any(|k| k.starts_with("access-control-")),
        "no CORS header on a {status}: {h:?}"
    );
}

fn raw_checked(r: RawResponse) -> Resp {
    assert_security_headers(r.status, &r.headers);
    Resp {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

async fn send(req: reqwest::RequestBuilder) -> Resp {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let mut headers = HashMap::new();
    for (k, v) in res.headers() {
        assert!(
            headers
                .insert(k.as_str().to_owned(), v.to_str().unwrap().to_owned())
                .is_none()
                || k.as_str() == "allow",
            "duplicate header {k}"
        );
    }
    let body = res.bytes().await.expect("body").to_vec();
    assert_security_headers(status, &headers);
    Resp {
        status,
        headers,
        body,
    }
}

async fn get(s: &TestServer, path: &str, token: Option<&str>) -> Resp {
    let mut req = s.http.get(s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    send(req).await
}

/// `POST /api/v1/reports` with a proof of work solved over `body` (a fresh
/// challenge for each call).
async fn post_report(s: &TestServer, body: Vec<u8>, content_type: Option<&str>) -> Resp {
    let pow = s.pow(&body).await;
    post_report_with(s, body, content_type, Some(&pow)).await
}

/// `POST /api/v1/reports` without a `Quietline-Pow` header: for the checks
/// that come before the proof of work (media type, size, shape).
async fn post_report_bare(s: &TestServer, body: Vec<u8>, content_type: Option<&str>) -> Resp {
    post_report_with(s, body, content_type, None).await
}

/// `POST /api/v1/reports` with exactly this `Quietline-Pow` header, if any.
async fn post_report_with(
    s: &TestServer,
    body: Vec<u8>,
    content_type: Option<&str>,
    pow: Option<&str>,
) -> Resp {
    let mut req = s.http.post(s.url("/api/v1/reports")).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(pow) = pow {
        req = req.header("quietline-pow", pow);
    }
    send(req).await
}

async fn put_slot(s: &TestServer, address: &str, body: Vec<u8>, token: Option<&str>) -> Resp {
    let mut req = s
        .http
        .put(s.url(&format!("/api/v1/slots/{address}")))
        .header("content-type", "application/octet-stream")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    send(req).await
}

async fn fetch(s: &TestServer, body: impl Into<reqwest::Body>, content_type: &str) -> Resp {
    send(
        s.http
            .post(s.url("/api/v1/slots/fetch"))
            .header("content-type", content_type)
            .body(body),
    )
    .await
}

async fn inbox_fetch_post(
    s: &TestServer,
    body: impl Into<reqwest::Body>,
    content_type: &str,
    token: Option<&str>,
) -> Resp {
    let mut req = s
        .http
        .post(s.url("/api/v1/inbox/fetch"))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    send(req).await
}

/// The server's day of receipt now, by its (stopped) clock.
fn today(s: &TestServer) -> String {
    quietline::day::format_day(s.clock.today())
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).unwrap();
    format!("qlt_{}", URL_SAFE_NO_PAD.encode(b))
}

use quietline_testkit::on_both_backends;

on_both_backends!(
    directory,
    report_round_trip,
    day_of_receipt_turns_at_midnight_utc,
    report_errors,
    key_rotation_and_retirement,
    body_limits,
    slots,
    slot_fetch,
    handler_auth,
    inbox_pages,
    inbox_fetch,
    routes_and_methods,
    shutdown_finishes_in_flight,
    proof_of_work,
);

// ------------------------------------------------------------------ directory

async fn directory(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let r = get(&s, "/api/v1/forces", None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(r.json(), json!([]));

    // A force without a key cannot be written to, so it is not listed.
    quietline::admin::add_force(s.storage.as_ref(), "no-key", "No Key Yet")
        .await
        .unwrap();
    let mut north = s.add_force("north", "North Constabulary").await;
    let r = get(&s, "/api/v1/forces", None).await;
    assert_eq!(
        r.json(),
        json!([{
            "id": "north",
            "name": "North Constabulary",
            "key_id": north.key_id_hex(),
            "suite": "x25519",
            "public_key": north.public_key.to_base64url(),
        }])
    );

    // After a rotation the directory publishes the new current key.
    s.rotate_key(&mut north).await;
    let r = get(&s, "/api/v1/forces", None).await;
    assert_eq!(r.json()[0]["key_id"], north.key_id_hex());
    assert_eq!(r.json()[0]["public_key"], north.public_key.to_base64url());
    s.stop().await;
}

// ------------------------------------------------------------------ intake

/// The day of receipt is the server clock's UTC day, turning at midnight UTC
/// exactly (the clock is set, so this holds whenever the test runs).
async fn day_of_receipt_turns_at_midnight_utc(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    // 2030-06-30 is day 22,095 since 1970-01-01.
    let midnight = 22_096 * 86_400;
    s.clock.set(midnight - 1);
    let force = s.add_force("north", "North Constabulary").await;
    let token = s.token("north", "desk").await;
    let before = post_report(
        &s,
        force.report(b"23:59:59"),
        Some("application/octet-stream"),
    )
    .await;
    assert_eq!(before.status, 201);
    s.clock.set(midnight);
    let after = post_report(
        &s,
        force.report(b"00:00:00"),
        Some("application/octet-stream"),
    )
    .await;
    assert_eq!(after.status, 201);
    let inbox = get(&s, "/api/v1/inbox", Some(&token)).await.json();
    let day_of = |r: &Resp| {
        let id = &r.json()["id"];
        inbox["reports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| &x["id"] == id)
            .unwrap()["day"]
            .clone()
    };
    assert_eq!(day_of(&before), "2030-06-30");
    assert_eq!(day_of(&after), "2030-07-01");
    s.stop().await;
}

async fn report_round_trip(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North Constabulary").await;
    let token = s.token("north", "desk").await;
    let envelope = force.report(b"a report");

    let r = post_report(&s, envelope.clone(), Some("application/octet-stream")).await;
    assert_eq!(r.status, 201, "{}", r.json());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(r.json().as_object().unwrap().len(), 1);

    // Media-type parameters are allowed.
    let r = post_report(
        &s,
        force.report(b"second"),
        Some("Application/Octet-Stream; foo=bar"),
    )
    .await;
    assert_eq!(r.status, 201);
    let id2 = r.json()["id"].as_str().unwrap().to_owned();
    assert_ne!(id, id2, "ids are random");

    let inbox = get(&s, "/api/v1/inbox", Some(&token)).await;
    assert_eq!(inbox.status, 200);
    let reports = inbox.json()["reports"].as_array().unwrap().clone();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert_eq!(r["key_id"], force.key_id_hex());
        assert_eq!(r["day"], today(&s));
        assert_eq!(r.as_object().unwrap().len(), 3, "id, key_id, day only: {r}");
    }
    let mut ids: Vec<_> = reports.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut expected = vec![id.as_str(), id2.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(inbox.json()["next"], Value::Null);

    let r = get(&s, &format!("/api/v1/inbox/{id}"), Some(&token)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.body, envelope, "the envelope comes back byte for byte");
    let opened =
        quietline_crypto::open::open(&force.private_key, Kind::Report, &r.body).expect("opens");
    assert_eq!(opened.as_slice(), b"a report");

    // The largest valid X25519 envelope (64-character force id, largest
    // bucket) fits; the largest of all, an X-Wing one, is tests/pq.rs's.
    let long_id = "l".repeat(64);
    let long = s.add_force(&long_id, "Longest Id").await;
    let big = long.report(&vec![7u8; MAX_PAYLOAD_LEN]);
    assert_eq!(big.len(), MAX_ENVELOPE_LEN - (XWING_ENC_LEN - ENC_LEN));
    let r = post_report(&s, big, Some("application/octet-stream")).await;
    assert_eq!(r.status, 201);
    s.stop().await;
}

async fn report_errors(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North Constabulary").await;
    let good = force.report(b"hello");
    let octet = Some("application/octet-stream");

    // 415 before anything else. These checks all come before the proof of
    // work: they answer the same without a `Quietline-Pow` header.
    post_report_bare(&s, good.clone(), None).await.error(
        415,
        "unsupported_media_type",
        "Content-Type: application/octet-stream",
    );
    post_report_bare(&s, good.clone(), Some("text/plain"))
        .await
        .error(415, "unsupported_media_type", "application/octet-stream");
    post_report_bare(&s, good.clone(), Some("application/json"))
        .await
        .error(415, "unsupported_media_type", "application/octet-stream");

    // 400: each shape check names itself, and never quotes the body.
    let canary = b"QUIETLINE-CANARY-BODY-0042 and more bytes to be long enough".to_vec();
    let r = post_report_bare(&s, canary, octet).await;
    r.error(400, "bad_magic", "magic");
    assert!(!String::from_utf8_lossy(&r.body).contains("CANARY"));
    post_report_bare(&s, Vec::new(), octet)
        .await
        .error(400, "truncated", "truncated");
    post_report_bare(&s, good[..40].to_vec(), octet)
        .await
        .error(400, "truncated", "truncated");
    let mut v = good.clone();
    v[2] = 9;
    post_report_bare(&s, v, octet)
        .await
        .error(400, "unknown_version", "version");
    let mut v = good.clone();
    v[3] = 7;
    post_report_bare(&s, v, octet)
        .await
        .error(400, "unknown_kind", "kind");
    let mut v = good.clone();
    v[5] = 0x21;
    post_report_bare(&s, v, octet)
        .await
        .error(400, "unknown_suite", "suite");
    let mut v = good.clone();
    v.pop();
    post_report_bare(&s, v, octet)
        .await
        .error(400, "bad_ciphertext_length", "ciphertext");

    // A reply envelope is well-formed but not a report.
    post_report_bare(&s, reply_for(random_slot(), b"r"), octet)
        .await
        .error(400, "wrong_kind", "kind 2");
    // A solved proof of work does not make a malformed envelope acceptable.
    post_report(&s, reply_for(random_slot(), b"r"), octet)
        .await
        .error(400, "wrong_kind", "kind 2");
    let mut v = good.clone();
    v[0] = b'X';
    post_report(&s, v, octet)
        .await
        .error(400, "bad_magic", "magic");

    // 404: the force is not hosted here.
    let (_sk, pk) = generate_keypair(&mut rng());
    let ghost = seal_report(&mut rng(), "ghost", &pk, b"x").unwrap();
    post_report(&s, ghost, octet)
        .await
        .error(404, "unknown_force", "reload GET /api/v1/forces");

    // 422: the force exists but the key id is not one of its keys.
    let stray = seal_report(&mut rng(), "north", &pk, b"x").unwrap();
    post_report(&s, stray, octet)
        .await
        .error(422, "unknown_key", "reload GET /api/v1/forces");

    // Nothing of the above was stored.
    let token = s.token("north", "desk").await;
    let inbox = get(&s, "/api/v1/inbox", Some(&token)).await;
    assert_eq!(inbox.json()["reports"], json!([]));
    s.stop().await;
}

async fn key_rotation_and_retirement(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let mut force = s.add_force("north", "North Constabulary").await;
    let old_key = force.public_key.clone();
    let to_old = |payload: &[u8]| seal_report(&mut rng(), "north", &old_key, payload).unwrap();
    s.rotate_key(&mut force).await;
    let octet = Some("application/octet-stream");

    // A client with yesterday's directory still gets through (old key: active).
    assert_eq!(post_report(&s, to_old(b"a"), octet).await.status, 201);
    assert_eq!(post_report(&s, force.report(b"b"), octet).await.status, 201);

    // Once retired, the old key is refused with 422 and told to reload.
    s.storage
        .retire_force_key("north", old_key.key_id().0)
        .await
        .unwrap();
    post_report(&s, to_old(b"c"), octet)
        .await
        .error(422, "unknown_key", "unknown or retired");
    assert_eq!(post_report(&s, force.report(b"d"), octet).await.status, 201);
    s.stop().await;
}

// ------------------------------------------------------------------ limits

/// POST a chunked body that grows past `MAX_ENVELOPE_LEN` and never ends: the
/// server must answer 413 as soon as it has read past the limit.
async fn chunked_past_limit(s: &TestServer, head: &str) -> Resp {
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(format!("{head}\r\nTransfer-Encoding: chunked\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let chunk = vec![b'Q'; 8192];
    let mut sent = 0;
    while sent <= MAX_ENVELOPE_LEN {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        stream.write_all(&frame).await.unwrap();
        sent += chunk.len();
    }
    // No terminating chunk: the body never ends, so only a limit check while
    // streaming can produce the answer.
    raw_checked(read_response(&mut stream).await)
}

async fn body_limits(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.add_force("north", "North Constabulary").await;
    let token = s.token("north", "desk").await;
    let over = MAX_ENVELOPE_LEN + 1;

    // Declared too long: answered from the header, without a byte of body sent.
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {over}"
    );
    let r = raw_checked(raw_http(s.addr, &head, b"").await);
    r.error(413, "payload_too_large", &MAX_ENVELOPE_LEN.to_string());

    let slot = hex::encode(random_slot());
    let head = format!(
        "PUT /api/v1/slots/{slot} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {over}"
    );
    raw_checked(raw_http(s.addr, &head, b"").await).error(413, "payload_too_large", "larger");

    // Streamed past the limit without a length.
    chunked_past_limit(
        &s,
        "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream",
    )
    .await
    .error(413, "payload_too_large", "larger");
    chunked_past_limit(
        &s,
        &format!(
            "PUT /api/v1/slots/{slot} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream"
        ),
    )
    .await
    .error(413, "payload_too_large", "larger");

    // The JSON route has its own, smaller limit.
    let big_json = format!("{{\"slots\": [\"{}\"]}}", "0".repeat(64 * 1024));
    fetch(&s, big_json, "application/json")
        .await
        .error(413, "payload_too_large", "larger");

    // The server is still fine afterwards.
    assert_eq!(get(&s, "/api/v1/forces", None).await.status, 200);
    s.stop().await;
}

// ------------------------------------------------------------------ slots

async fn slots(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North Constabulary").await;
    let token = s.token("north", "desk").await;
    let addr = random_slot();
    let hex_addr = hex::encode(addr);
    let reply = reply_for(addr, b"a question from the force");

    get(&s, &format!("/api/v1/slots/{hex_addr}"), None)
        .await
        .error(404, "slot_empty", "no reply");

    // Writing needs a handler token.
    let r = put_slot(&s, &hex_addr, reply.clone(), None).await;
    r.error(401, "unauthorized", "Authorization: Bearer");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));

    let r = put_slot(&s, &hex_addr, reply.clone(), Some(&token)).await;
    assert_eq!(r.status, 201, "{}", r.json());
    assert_eq!(r.json(), json!({ "address": hex_addr }));

    let r = get(&s, &format!("/api/v1/slots/{hex_addr}"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.body, reply);
    // Upper-case hex names the same slot.
    let r = get(
        &s,
        &format!("/api/v1/slots/{}", hex_addr.to_uppercase()),
        None,
    )
    .await;
    assert_eq!(r.body, reply);

    // One-time: a second reply to the same slot is refused and changes nothing.
    put_slot(&s, &hex_addr, reply_for(addr, b"another"), Some(&token))
        .await
        .error(409, "slot_taken", "one-time");
    assert_eq!(
        get(&s, &format!("/api/v1/slots/{hex_addr}"), None)
            .await
            .body,
        reply
    );

    // Shape, kind and routing are checked.
    let other = hex::encode(random_slot());
    put_slot(&s, &other, force.report(b"r"), Some(&token))
        .await
        .error(400, "wrong_kind", "kind 1");
    put_slot(&s, &other, reply_for(random_slot(), b"r"), Some(&token))
        .await
        .error(400, "slot_mismatch", "different slot");
    put_slot(&s, &other, b"QL garbage".to_vec(), Some(&token))
        .await
        .error(400, "truncated", "truncated");
    let r = send(
        s.http
            .put(s.url(&format!("/api/v1/slots/{other}")))
            .bearer_auth(&token)
            .body(reply_for(random_slot(), b"r")),
    )
    .await;
    r.error(415, "unsupported_media_type", "application/octet-stream");

    // Malformed addresses.
    for bad in [
        "abc",
        &"0".repeat(63),
        &"0".repeat(65),
        &"g".repeat(64),
        "%ff%fe",
    ] {
        get(&s, &format!("/api/v1/slots/{bad}"), None).await.error(
            400,
            "bad_slot_address",
            "64 hexadecimal digits",
        );
        put_slot(&s, bad, reply.clone(), Some(&token)).await.error(
            400,
            "bad_slot_address",
            "64 hexadecimal digits",
        );
    }
    s.stop().await;
}

async fn slot_fetch(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.add_force("north", "North Constabulary").await;
    let token = s.token("north", "desk").await;
    let (a0, a1, missing) = (random_slot(), random_slot(), random_slot());
    let (r0, r1) = (reply_for(a0, b"first"), reply_for(a1, b"second"));
    assert_eq!(
        put_slot(&s, &hex::encode(a0), r0.clone(), Some(&token))
            .await
            .status,
        201
    );
    assert_eq!(
        put_slot(&s, &hex::encode(a1), r1.clone(), Some(&token))
            .await
            .status,
        201
    );

    let body = json!({ "slots": [hex::encode(a0), hex::encode(missing), hex::encode(a1)] });
    let r = fetch(&s, body.to_string(), "application/json").await;
    assert_eq!(r.status, 200);
    let mut got: Vec<(String, Vec<u8>)> = r.json()["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e.as_object().unwrap().len(), 2);
            (
                e["address"].as_str().unwrap().to_owned(),
                URL_SAFE_NO_PAD
                    .decode(e["envelope"].as_str().unwrap())
                    .unwrap(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![(hex::encode(a0), r0), (hex::encode(a1), r1)];
    want.sort();
    assert_eq!(got, want, "only the present slots, with their envelopes");

    let r = fetch(&s, json!({ "slots": [] }).to_string(), "application/json").await;
    assert_eq!(r.json(), json!({ "slots": [] }));

    // 32 is the most one request may ask for.
    let many: Vec<String> = (0..32).map(|_| hex::encode(random_slot())).collect();
    let r = fetch(&s, json!({ "slots": many }).to_string(), "application/json").await;
    assert_eq!(r.status, 200);
    let too_many: Vec<String> = (0..33).map(|_| hex::encode(random_slot())).collect();
    fetch(
        &s,
        json!({ "slots": too_many }).to_string(),
        "application/json",
    )
    .await
    .error(400, "too_many_slots", "at most 32");

    let r = fetch(
        &s,
        json!({ "slots": [hex::encode(a0), "CANARY-SLOT"] }).to_string(),
        "application/json",
    )
    .await;
    r.error(400, "bad_slot_address", "slot number 1");
    assert!(!String::from_utf8_lossy(&r.body).contains("CANARY"));

    for bad in [
        "not json CANARY".to_owned(),
        json!({ "slots": [], "CANARY_FIELD": 1 }).to_string(),
        json!({ "slot": [] }).to_string(),
        json!({ "slots": "CANARY" }).to_string(),
    ] {
        let r = fetch(&s, bad, "application/json").await;
        r.error(400, "bad_json", "{\"slots\"");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("CANARY"),
            "no echo"
        );
    }
    fetch(&s, json!({ "slots": [] }).to_string(), "text/plain")
        .await
        .error(415, "unsupported_media_type", "application/json");
    s.stop().await;
}

// ------------------------------------------------------------------ handlers

async fn handler_auth(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let north = s.add_force("north", "North Constabulary").await;
    s.add_force("south", "South Constabulary").await;
    let t_north = s.token("north", "desk").await;
    let t_south = s.token("south", "desk").await;
    let id = s.submit(north.report(b"for north")).await;

    let check_401 = |r: Resp, phrase: &str| {
        r.error(401, "unauthorized", phrase);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    };
    check_401(
        get(&s, "/api/v1/inbox", None).await,
        "Authorization: Bearer",
    );
    check_401(
        send(
            s.http
                .get(s.url("/api/v1/inbox"))
                .basic_auth("north", Some("pw")),
        )
        .await,
        "Bearer <token>",
    );
    check_401(
        get(&s, "/api/v1/inbox", Some("not-a-token")).await,
        "malformed",
    );
    check_401(
        get(&s, &format!("/api/v1/inbox/{id}"), Some(&random_token())).await,
        "unknown or has been revoked",
    );
    check_401(
        put_slot(
            &s,
            &hex::encode(random_slot()),
            reply_for(random_slot(), b""),
            Some("qlt_x"),
        )
        .await,
        "malformed",
    );

    // Each token sees its own force only.
    let r = get(&s, "/api/v1/inbox", Some(&t_south)).await;
    assert_eq!(r.json(), json!({ "reports": [], "next": null }));
    let other = get(&s, &format!("/api/v1/inbox/{id}"), Some(&t_south)).await;
    let missing = get(
        &s,
        &format!("/api/v1/inbox/{}", hex::encode([0x5au8; 16])),
        Some(&t_south),
    )
    .await;
    other.error(404, "unknown_report", "no report with this id");
    assert_eq!(other.status, missing.status);
    assert_eq!(
        other.body, missing.body,
        "another force's id looks exactly missing"
    );
    assert_eq!(
        get(&s, &format!("/api/v1/inbox/{id}"), Some(&t_north))
            .await
            .status,
        200
    );

    for bad in ["abc", &"0".repeat(31), &"0".repeat(33), &"z".repeat(32)] {
        get(&s, &format!("/api/v1/inbox/{bad}"), Some(&t_north))
            .await
            .error(400, "bad_report_id", "32 hexadecimal digits");
    }

    // Revocation takes effect on the very next request.
    s.storage.revoke_token("north", "desk").await.unwrap();
    check_401(
        get(&s, "/api/v1/inbox", Some(&t_north)).await,
        "unknown or has been revoked",
    );
    s.stop().await;
}

async fn inbox_pages(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North Constabulary").await;
    let token = s.token("north", "desk").await;
    let mut submitted = Vec::new();
    for i in 0..5u8 {
        submitted.push(s.submit(force.report(&[i])).await);
    }
    submitted.sort();

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &after {
            Some(a) => format!("/api/v1/inbox?limit=2&after={a}"),
            None => "/api/v1/inbox?limit=2".to_owned(),
        };
        let page = get(&s, &path, Some(&token)).await;
        assert_eq!(page.status, 200);
        let body = page.json();
        let reports = body["reports"].as_array().unwrap();
        assert!(reports.len() <= 2);
        seen.extend(reports.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match body["next"].as_str() {
            Some(n) => {
                assert_eq!(
                    n,
                    reports.last().unwrap()["id"],
                    "next is the page's last id"
                );
                after = Some(n.to_owned());
            }
            None => break,
        }
        assert!(pages < 10, "pagination ends");
    }
    assert_eq!(seen, submitted, "every report once, ordered by id");

    // The default page holds them all; limit=1000 is allowed.
    let all = get(&s, "/api/v1/inbox", Some(&token)).await.json();
    assert_eq!(all["reports"].as_array().unwrap().len(), 5);
    assert_eq!(all["next"], Value::Null);
    assert_eq!(
        get(&s, "/api/v1/inbox?limit=1000", Some(&token))
            .await
            .status,
        200
    );

    for (query, code, phrase) in [
        ("limit=0", "bad_limit", "1 to 1000"),
        ("limit=1001", "bad_limit", "1 to 1000"),
        ("limit=-1", "bad_limit", "1 to 1000"),
        ("limit=CANARY", "bad_limit", "1 to 1000"),
        ("after=CANARY", "bad_after", "32 hexadecimal digits"),
        ("after=00", "bad_after", "32 hexadecimal digits"),
        ("CANARY=1", "bad_query", "after="),
    ] {
        let r = get(&s, &format!("/api/v1/inbox?{query}"), Some(&token)).await;
        r.error(400, code, phrase);
        assert!(!String::from_utf8_lossy(&r.body).contains("CANARY"));
    }
    s.stop().await;
}

/// `POST /api/v1/inbox/fetch`: many envelopes in one answer, this force's
/// only, in the order asked, each once; missing and another force's ids are
/// left out alike; bounded; the same refusals as the slots' batch.
async fn inbox_fetch(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let north = s.add_force("north", "North Constabulary").await;
    let south = s.add_force("south", "South Constabulary").await;
    let t_north = s.token("north", "desk").await;
    let t_south = s.token("south", "desk").await;
    let mut envelopes = HashMap::new();
    let mut ids = Vec::new();
    for i in 0..3u8 {
        let envelope = north.report(&[i; 40]);
        let id = s.submit(envelope.clone()).await;
        envelopes.insert(id.clone(), envelope);
        ids.push(id);
    }
    let theirs = s.submit(south.report(b"for south")).await;
    let missing = hex::encode([0x5au8; 16]);
    const JSON: &str = "application/json";

    // Asked: two of ours (one twice), a missing id, another force's id.
    let asked = json!({ "ids": [ids[2], missing, theirs, ids[0], ids[2]] });
    let r = inbox_fetch_post(&s, asked.to_string(), JSON, Some(&t_north)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "reports only: {body}");
    let got: Vec<(String, Vec<u8>)> = body["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e.as_object().unwrap().len(), 2, "id and envelope only: {e}");
            (
                e["id"].as_str().unwrap().to_owned(),
                URL_SAFE_NO_PAD
                    .decode(e["envelope"].as_str().unwrap())
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (ids[2].clone(), envelopes[&ids[2]].clone()),
            (ids[0].clone(), envelopes[&ids[0]].clone()),
        ],
        "ours only, in the order asked, each once, byte for byte"
    );
    // The same bytes as the one-envelope route (which old consoles use).
    let one = get(&s, &format!("/api/v1/inbox/{}", ids[0]), Some(&t_north)).await;
    assert_eq!(one.body, got[1].1);

    // Another force's token sees none of north's, exactly as if missing.
    let r = inbox_fetch_post(&s, json!({ "ids": ids }).to_string(), JSON, Some(&t_south)).await;
    assert_eq!(r.json(), json!({ "reports": [] }));
    let r = inbox_fetch_post(
        &s,
        json!({ "ids": [theirs] }).to_string(),
        JSON,
        Some(&t_south),
    )
    .await;
    assert_eq!(r.json()["reports"][0]["id"], theirs.as_str());
    let r = inbox_fetch_post(&s, json!({ "ids": [] }).to_string(), JSON, Some(&t_north)).await;
    assert_eq!(r.json(), json!({ "reports": [] }));

    // 64 is the most one request may ask for.
    let mut many: Vec<String> = (0..63u8).map(|i| hex::encode([i; 16])).collect();
    many.push(ids[1].clone());
    let r = inbox_fetch_post(&s, json!({ "ids": many }).to_string(), JSON, Some(&t_north)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["reports"][0]["id"], ids[1].as_str());
    many.push(ids[0].clone());
    inbox_fetch_post(&s, json!({ "ids": many }).to_string(), JSON, Some(&t_north))
        .await
        .error(400, "too_many_ids", "at most 64");

    // Refusals, none of which echoes the request.
    let r = inbox_fetch_post(
        &s,
        json!({ "ids": [ids[0], "CANARY-ID"] }).to_string(),
        JSON,
        Some(&t_north),
    )
    .await;
    r.error(400, "bad_report_id", "id number 1");
    assert!(!String::from_utf8_lossy(&r.body).contains("CANARY"));
    for bad in [&"0".repeat(31), &"0".repeat(33), &"z".repeat(32)] {
        inbox_fetch_post(
            &s,
            json!({ "ids": [bad] }).to_string(),
            JSON,
            Some(&t_north),
        )
        .await
        .error(400, "bad_report_id", "32 hexadecimal digits");
    }
    for bad in [
        "not json CANARY".to_owned(),
        json!({ "ids": [], "CANARY_FIELD": 1 }).to_string(),
        json!({ "id": [] }).to_string(),
        json!({ "ids": "CANARY" }).to_string(),
        json!({ "ids": [1] }).to_string(),
    ] {
        let r = inbox_fetch_post(&s, bad, JSON, Some(&t_north)).await;
        r.error(400, "bad_json", "{\"ids\"");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("CANARY"),
            "no echo"
        );
    }
    inbox_fetch_post(
        &s,
        json!({ "ids": [] }).to_string(),
        "text/plain",
        Some(&t_north),
    )
    .await
    .error(415, "unsupported_media_type", "application/json");
    // A body over the JSON limit is refused without being read whole.
    let huge = format!("{{\"ids\": [\"{}\"]}}", "0".repeat(64 * 1024));
    assert_eq!(
        inbox_fetch_post(&s, huge, JSON, Some(&t_north))
            .await
            .status,
        413
    );

    // The handler token's force only: no token, a bad one, a revoked one.
    let check_401 = |r: Resp, phrase: &str| {
        r.error(401, "unauthorized", phrase);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    };
    let asked = json!({ "ids": [ids[0]] }).to_string();
    check_401(
        inbox_fetch_post(&s, asked.clone(), JSON, None).await,
        "Authorization: Bearer",
    );
    check_401(
        inbox_fetch_post(&s, asked.clone(), JSON, Some(&random_token())).await,
        "unknown or has been revoked",
    );
    s.storage.revoke_token("north", "desk").await.unwrap();
    check_401(
        inbox_fetch_post(&s, asked, JSON, Some(&t_north)).await,
        "unknown or has been revoked",
    );
    // It is a POST: a GET of it is 405 (not read as a report id).
    get(&s, "/api/v1/inbox/fetch", Some(&t_south))
        .await
        .error(405, "method_not_allowed", "method");
    s.stop().await;
}

// ------------------------------------------------------------------ routing

async fn routes_and_methods(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    // `/` is the reporter page (tests/web_js.rs); nothing else outside the API exists.
    for path in [
        "/index.html",
        "/api/v1/forces/",
        "/api/v2/forces",
        "/api/v1/CANARY",
    ] {
        let r = get(&s, path, None).await;
        r.error(404, "not_found", "/api/v1");
        assert!(!String::from_utf8_lossy(&r.body).contains("CANARY"));
    }
    let r = send(s.http.delete(s.url("/api/v1/forces"))).await;
    r.error(405, "method_not_allowed", "method");
    let allow = r.header("allow").unwrap_or_default().to_owned();
    assert!(allow.contains("GET"), "Allow lists GET: {allow:?}");
    send(s.http.get(s.url("/api/v1/reports")))
        .await
        .error(405, "method_not_allowed", "method");
    send(s.http.get(s.url("/api/v1/slots/fetch")))
        .await
        .error(405, "method_not_allowed", "method");
    send(s.http.post(s.url("/api/v1/inbox")))
        .await
        .error(405, "method_not_allowed", "method");
    send(s.http.post(s.url("/api/v1/challenge")))
        .await
        .error(405, "method_not_allowed", "method");

    // CORS is closed: a preflight gets no grant.
    let r = send(
        s.http
            .request(reqwest::Method::OPTIONS, s.url("/api/v1/reports"))
            .header("origin", "https://elsewhere.example")
            .header("access-control-request-method", "POST"),
    )
    .await;
    assert_eq!(r.status, 405);
    let r = send(
        s.http
            .get(s.url("/api/v1/forces"))
            .header("origin", "https://elsewhere.example"),
    )
    .await;
    assert_eq!(r.status, 200);

    // HEAD works where GET does.
    let r = send(s.http.head(s.url("/api/v1/forces"))).await;
    assert_eq!(r.status, 200);
    s.stop().await;
}

// ------------------------------------------------------------------ proof of work

/// A nonce that does NOT solve `challenge` over `envelope` (checked here, so
/// the refusal below cannot turn into a lucky 1-in-2^difficulty success).
fn non_solution(challenge: &[u8; 58], envelope: &[u8], difficulty: u8) -> [u8; 8] {
    use quietline_crypto::pow;
    let hash = pow::envelope_hash(envelope);
    (0u64..)
        .map(u64::to_be_bytes)
        .find(|n| {
            pow::leading_zero_bits(&pow::digest(challenge, &hash, &pow::Work::first(*n)))
                < u32::from(difficulty)
        })
        .expect("most nonces are not solutions")
}

fn header(challenge: [u8; 58], nonce: [u8; 8]) -> String {
    quietline_crypto::pow::Solution {
        challenge,
        work: quietline_crypto::pow::Work::first(nonce),
    }
    .to_header()
}

/// crypto/FORMAT.md#proof-of-work: the challenge route, each refusal with its
/// status and code, one use per challenge, and a challenge left usable by a
/// submission that stored nothing.
async fn proof_of_work(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North Constabulary").await;
    let token = s.token("north", "desk").await;
    let octet = Some("application/octet-stream");

    // The challenge route: 58 octets, the difficulty and expiry repeated,
    // the expiry in the future and rounded to five minutes.
    let r = get(&s, "/api/v1/challenge", None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = r.json();
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    let bytes = URL_SAFE_NO_PAD
        .decode(body["challenge"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes.len(), 58);
    assert_eq!(bytes[0], 1, "version");
    assert_eq!(bytes[1], TEST_POW_DIFFICULTY);
    assert_eq!(body["difficulty"], TEST_POW_DIFFICULTY);
    let expires = body["expires"].as_u64().unwrap();
    assert_eq!(
        u64::from_be_bytes(bytes[2..10].try_into().unwrap()),
        expires
    );
    assert_eq!(expires % 300, 0, "expiry rounded to five minutes");
    let now = s.clock.now_secs();
    assert!(expires > now, "{expires} is in the future of {now}");
    // Each challenge is fresh.
    let (c1, _) = fetch_challenge(&s.http, &s.base).await;
    let (c2, _) = fetch_challenge(&s.http, &s.base).await;
    assert_ne!(c1[10..26], c2[10..26], "random ids");

    let envelope = force.report(b"with a proof of work");
    let (challenge, difficulty) = fetch_challenge(&s.http, &s.base).await;
    assert_eq!(difficulty, TEST_POW_DIFFICULTY);

    // No header.
    post_report_bare(&s, envelope.clone(), octet).await.error(
        400,
        "pow_missing",
        "GET /api/v1/challenge",
    );
    // Not `<challenge>.<nonce>`.
    for bad in [
        "",
        "not a solution",
        &URL_SAFE_NO_PAD.encode(challenge),
        &format!("{}.AAAA", URL_SAFE_NO_PAD.encode(challenge)),
        &format!("{}.AAAAAAAAAAAB", URL_SAFE_NO_PAD.encode(&challenge[..57])),
        &format!("{}.AAAAAAAAAAAA", URL_SAFE_NO_PAD.encode(challenge)),
    ] {
        let r = post_report_with(&s, envelope.clone(), octet, Some(bad)).await;
        r.error(400, "pow_malformed", "Quietline-Pow");
    }
    // Altered (here: a lower difficulty written in), so its MAC fails.
    let mut altered = challenge;
    altered[1] = 0;
    post_report_with(&s, envelope.clone(), octet, Some(&header(altered, [0; 8])))
        .await
        .error(400, "pow_forged", "not issued by this service");
    // Not a solution for this envelope.
    let wrong = header(
        challenge,
        non_solution(&challenge, &envelope, TEST_POW_DIFFICULTY),
    );
    post_report_with(&s, envelope.clone(), octet, Some(&wrong))
        .await
        .error(400, "pow_insufficient", "leading zero bits");
    // A solution for another envelope does not fit this one.
    let other = force.report(b"another envelope");
    let for_other = solve(challenge, difficulty, &other);
    let work = quietline_crypto::pow::Solution::parse(&for_other)
        .unwrap()
        .work;
    if quietline_crypto::pow::leading_zero_bits(&quietline_crypto::pow::digest(
        &challenge,
        &quietline_crypto::pow::envelope_hash(&envelope),
        &work,
    )) < u32::from(TEST_POW_DIFFICULTY)
    {
        post_report_with(&s, envelope.clone(), octet, Some(&for_other))
            .await
            .error(400, "pow_insufficient", "this envelope");
    }
    // Nothing refused so far spent the challenge: the right solution works.
    let good = solve(challenge, difficulty, &envelope);
    let r = post_report_with(&s, envelope.clone(), octet, Some(&good)).await;
    assert_eq!(r.status, 201, "{}", r.json());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    // Once only: the same request again, and the same challenge over another
    // envelope, are refused as spent.
    post_report_with(&s, envelope.clone(), octet, Some(&good))
        .await
        .error(429, "pow_spent", "already used");
    post_report_with(&s, other.clone(), octet, Some(&for_other))
        .await
        .error(429, "pow_spent", "already used");
    // The same envelope with a new challenge is a new submission.
    let r = post_report(&s, envelope.clone(), octet).await;
    assert_eq!(r.status, 201, "{}", r.json());
    let id2 = r.json()["id"].as_str().unwrap().to_owned();
    assert_ne!(id, id2);

    // A submission refused after the proof of work (404, 422) stores nothing
    // and leaves its challenge usable: the same request is refused the same way.
    let (_sk, pk) = generate_keypair(&mut rng());
    let ghost = seal_report(&mut rng(), "ghost", &pk, b"x").unwrap();
    let pow = s.pow(&ghost).await;
    for _ in 0..2 {
        post_report_with(&s, ghost.clone(), octet, Some(&pow))
            .await
            .error(404, "unknown_force", "reload GET /api/v1/forces");
    }
    let stray = seal_report(&mut rng(), "north", &pk, b"x").unwrap();
    let pow = s.pow(&stray).await;
    for _ in 0..2 {
        post_report_with(&s, stray.clone(), octet, Some(&pow))
            .await
            .error(422, "unknown_key", "reload GET /api/v1/forces");
    }

    // Two reports stored, both the same envelope.
    let inbox = get(&s, "/api/v1/inbox", Some(&token)).await;
    let reports = inbox.json()["reports"].as_array().unwrap().clone();
    let mut ids: Vec<_> = reports.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut expected = vec![id.as_str(), id2.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    s.stop().await;
}

// ------------------------------------------------------------------ shutdown

async fn shutdown_finishes_in_flight(b: Backend) {
    let Some(mut s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North Constabulary").await;
    let token = s.token("north", "desk").await;
    let envelope = force.report(b"sent while the server stops");
    let pow = s.pow(&envelope).await;

    // `Expect: 100-continue` makes the server say when the handler starts
    // reading the body: from then on the request is in flight.
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nQuietline-Pow: {pow}\r\nExpect: 100-continue\r\n\r\n",
        envelope.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = read_interim(&mut stream).await;
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");

    s.begin_shutdown();
    stream.write_all(&envelope).await.unwrap();
    let r = raw_checked(read_response(&mut stream).await);
    assert_eq!(r.status, 201, "the in-flight request completes");
    let id = r.json()["id"].as_str().unwrap().to_owned();
    drop(stream);
    s.wait().await;

    // The server is gone; the report is in the database.
    assert!(
        TcpStream::connect(s.addr).await.is_err(),
        "no longer listening"
    );
    let db: TestDb = s.db;
    let storage = quietline::storage::open(&db.url).await.unwrap();
    let t_hash = quietline::admin::token_hash(&token);
    assert_eq!(
        storage.token_force(t_hash).await.unwrap().as_deref(),
        Some("north")
    );
    let mut rid = [0u8; 16];
    hex::decode_to_slice(&id, &mut rid).unwrap();
    assert_eq!(storage.report("north", rid).await.unwrap(), Some(envelope));
    storage.close().await;
    db.cleanup().await;
}

async fn read_interim(stream: &mut TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(crate::support::server::TIMEOUT, stream.read(&mut byte))
            .await
            .expect("interim response in time")
            .unwrap();
        assert_eq!(n, 1, "connection closed");
        buf.push(byte[0]);
    }
    String::from_utf8(buf).unwrap()
}

// ------------------------------------------------------------------ SQLite-only

/// 408 when a request does not complete in time (here: a stalled body), with
/// the headers and JSON of every other answer.
#[tokio::test]
async fn request_timeout() {
    let settings = ServerSettings {
        request_timeout: Duration::from_secs(1),
        ..test_settings()
    };
    let s = TestServer::start_with(Backend::Sqlite, settings)
        .await
        .unwrap();
    let head = "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 2000";
    let r = raw_checked(raw_http(s.addr, head, b"QL only a little").await);
    r.error(408, "request_timeout", "1 seconds");
    s.stop().await;
}

#[tokio::test]
async fn onion_location() {
    let onion = format!(
        "{}.onion",
        "abcdefghijklmnopqrstuvwxyz234567".repeat(2)[..56].to_owned()
    );
    let settings = ServerSettings {
        onion_address: Some(onion.clone()),
        ..test_settings()
    };
    let s = TestServer::start_with(Backend::Sqlite, settings)
        .await
        .unwrap();
    let r = get(&s, "/api/v1/forces?query=CANARY", None).await;
    assert_eq!(
        r.header("onion-location"),
        Some(format!("http://{onion}/api/v1/forces").as_str()),
        "path only, never the query"
    );
    let r = get(&s, "/nowhere", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("onion-location"),
        Some(format!("http://{onion}/nowhere").as_str())
    );
    s.stop().await;

    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    assert_eq!(
        get(&s, "/api/v1/forces", None)
            .await
            .header("onion-location"),
        None
    );
    s.stop().await;
}

/// A storage that panics or fails on purpose, to see the 500 answers.
struct Faulty(Arc<dyn Storage>);

#[async_trait::async_trait]
impl Storage for Faulty {
    async fn add_force(&self, id: &str, name: &str) -> Result<(), StorageError> {
        self.0.add_force(id, name).await
    }
    async fn forces(&self) -> Result<Vec<ForceEntry>, StorageError> {
        panic!("QUIETLINE-PANIC-CANARY: a bug in a handler");
    }
    async fn add_force_key(&self, f: &str, k: KeyId, pk: Vec<u8>) -> Result<(), StorageError> {
        self.0.add_force_key(f, k, pk).await
    }
    async fn retire_force_key(&self, f: &str, k: KeyId) -> Result<(), StorageError> {
        self.0.retire_force_key(f, k).await
    }
    async fn force_keys(&self, f: &str) -> Result<Vec<ForceKey>, StorageError> {
        self.0.force_keys(f).await
    }
    async fn key_status(&self, f: &str, k: KeyId) -> Result<Option<KeyStatus>, StorageError> {
        self.0.key_status(f, k).await
    }
    async fn add_token(&self, h: TokenHash, f: &str, l: &str) -> Result<(), StorageError> {
        self.0.add_token(h, f, l).await
    }
    async fn revoke_token(&self, f: &str, l: &str) -> Result<(), StorageError> {
        self.0.revoke_token(f, l).await
    }
    async fn token_force(&self, h: TokenHash) -> Result<Option<String>, StorageError> {
        self.0.token_force(h).await
    }
    async fn tokens(&self, f: Option<&str>) -> Result<Vec<TokenInfo>, StorageError> {
        self.0.tokens(f).await
    }
    async fn insert_report(&self, _r: NewReport) -> Result<(), StorageError> {
        Err(StorageError::WriterGone)
    }
    async fn inbox(
        &self,
        f: &str,
        a: Option<ReportId>,
        l: u32,
    ) -> Result<Vec<InboxEntry>, StorageError> {
        self.0.inbox(f, a, l).await
    }
    async fn report(&self, f: &str, id: ReportId) -> Result<Option<Vec<u8>>, StorageError> {
        self.0.report(f, id).await
    }
    async fn put_slot(
        &self,
        a: SlotAddress,
        e: Vec<u8>,
        d: Day,
    ) -> Result<SlotWrite, StorageError> {
        self.0.put_slot(a, e, d).await
    }
    async fn slot(&self, _a: SlotAddress) -> Result<Option<Vec<u8>>, StorageError> {
        Err(StorageError::Database("connection refused".into()))
    }
    async fn slots(&self, a: &[SlotAddress]) -> Result<Vec<(SlotAddress, Vec<u8>)>, StorageError> {
        self.0.slots(a).await
    }
    async fn put_copy(
        &self,
        c: quietline::storage::NewCopy,
        l: quietline::storage::CopyLimits,
    ) -> Result<quietline::storage::CopyWrite, StorageError> {
        self.0.put_copy(c, l).await
    }
    async fn copies(&self, b: SlotAddress) -> Result<Vec<Vec<u8>>, StorageError> {
        self.0.copies(b).await
    }
    async fn purge(&self, t: Day, r: u32) -> Result<Purged, StorageError> {
        self.0.purge(t, r).await
    }
    async fn pow_key(&self, fresh: [u8; 32]) -> Result<zeroize::Zeroizing<[u8; 32]>, StorageError> {
        self.0.pow_key(fresh).await
    }
    async fn forget_spent(&self, now: i64) -> Result<u64, StorageError> {
        self.0.forget_spent(now).await
    }
    fn pressure(&self) -> Pressure {
        self.0.pressure()
    }
    async fn close(&self) {
        self.0.close().await
    }
}

#[tokio::test]
async fn panics_and_storage_failures_answer_json() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let inner = quietline::storage::open(&db.url).await.unwrap();
    let storage: Arc<dyn Storage> = Arc::new(Faulty(inner));
    let s = TestServer::start_on(db, storage, test_settings()).await;
    let force = s.add_force("north", "North Constabulary").await;

    // A panic in a handler: 500 JSON with the usual headers, payload withheld.
    let r = get(&s, "/api/v1/forces", None).await;
    r.error(500, "internal_error", "try again later");
    assert!(!String::from_utf8_lossy(&r.body).contains("CANARY"));
    // The server keeps serving after it.
    let r = get(
        &s,
        &format!("/api/v1/slots/{}", hex::encode(random_slot())),
        None,
    )
    .await;
    r.error(500, "storage_error", "try again later");
    assert!(
        !String::from_utf8_lossy(&r.body).contains("refused"),
        "no driver detail"
    );
    // A storage that is shutting down: 503, nothing stored.
    let envelope = force.report(b"x");
    let pow = s.pow(&envelope).await;
    let octet = Some("application/octet-stream");
    post_report_with(&s, envelope.clone(), octet, Some(&pow))
        .await
        .error(503, "shutting_down", "send the request again");
    // The failed write did not spend the challenge: the same request again
    // meets the same storage failure, not `pow_spent`.
    post_report_with(&s, envelope, octet, Some(&pow))
        .await
        .error(503, "shutting_down", "send the request again");
    s.stop().await;
}

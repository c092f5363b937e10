//! Security headers on every answer (threat-model/adversaries.md#an-attacker-in-control-of-the-server,
//! threat-model/adversaries.md#someone-who-seizes-the-reporters-device and
//! threat-model/adversaries.md#a-network-observer).
//!
//! Every route × every method, and every class of answer the server gives
//! (200, 201, 204, 400, 401, 404, 405, 408, 409, 413, 415, 422, 429), on the API
//! and on the page routes (`/`, `/app.js`, `/app.css`, `/licences.txt`,
//! `/favicon.ico`): the fixed security headers, `Cache-Control: no-store`,
//! the right CSP for the class, and never `Set-Cookie`, `Server`, `Date`, a CORS
//! grant, an `ETag` or a `Last-Modified` (validators a browser would send back
//! on the next visit, tying the visits together).

use std::collections::HashMap;
use std::time::Duration;

use crate::support::server::{
    Backend, TestServer, random_slot, raw_http, reply_for, test_settings,
};
use quietline::ServerSettings;
use quietline::http::headers::{API_CSP, PAGE_CSP, PERMISSIONS_POLICY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The page routes (`src/http/page.rs`); `/` serves index.html (or a
/// language's, by `?lang=` or `Accept-Language`); `/exit` redirects.
const PAGE_PATHS: &[&str] = &[
    "/",
    "/staying-safe",
    "/lang-cy.js",
    "/exit",
    "/app.js",
    "/app.css",
    "/licences.txt",
    "/favicon.ico",
];
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

#[track_caller]
fn assert_headers(what: &str, status: u16, h: &HashMap<String, String>, page: bool) {
    let csp = if page { PAGE_CSP } else { API_CSP };
    let expect = [
        ("content-security-policy", csp),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("cache-control", "no-store"),
    ];
    for (name, value) in expect {
        assert_eq!(
            h.get(name).map(String::as_str),
            Some(value),
            "{what} ({status}): {name}; all headers: {h:?}"
        );
    }
    for absent in ["set-cookie", "server", "date", "etag", "last-modified"] {
        assert!(
            !h.contains_key(absent),
            "{what} ({status}) has {absent}: {h:?}"
        );
    }
    assert!(
        !h.keys().any(|k| k.starts_with("access-control-")),
        "{what} ({status}) grants CORS: {h:?}"
    );
}

/// The CSP strings themselves: nothing inline, nothing from elsewhere, never
/// framed. (The exact strings are checked above on every response.)
#[test]
fn csp_allows_nothing_inline_or_foreign() {
    for csp in [API_CSP, PAGE_CSP] {
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("base-uri 'none'"), "{csp}");
        for bad in [
            "unsafe-inline",
            "unsafe-eval",
            "*",
            "http:",
            "https:",
            "data:",
        ] {
            assert!(!csp.contains(bad), "{csp} allows {bad}");
        }
    }
    assert!(API_CSP.contains("form-action 'none'"));
}

/// One request over a fresh connection, headers exactly as sent.
async fn raw(
    s: &TestServer,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> (u16, HashMap<String, String>, Vec<u8>) {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: quietline.test\r\nConnection: close");
    for (k, v) in extra {
        head.push_str(&format!("\r\n{k}: {v}"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("\r\nContent-Length: {}", body.len()));
    }
    // `Connection: close`, so the answer is everything until the server closes
    // (a HEAD answer declares a length but has no body).
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(format!("{head}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    stream.write_all(body).await.unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(
        crate::support::server::TIMEOUT,
        stream.read_to_end(&mut all),
    )
    .await
    .expect("answer in time")
    .expect("read answer");
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "{method} {path}: no full head: {:?}",
                String::from_utf8_lossy(&all)
            )
        })
        + 4;
    let text = String::from_utf8_lossy(&all[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let mut headers = HashMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':').expect("header line");
        let k = k.trim().to_ascii_lowercase();
        // Only `Allow` and `Vary` may legitimately repeat; a repeated security
        // header would be ambiguous to a browser.
        let dup = headers.insert(k.clone(), v.trim().to_owned()).is_some();
        assert!(
            !dup || k == "allow" || k == "vary",
            "{method} {path}: {k} twice"
        );
    }
    (status, headers, all[end..].to_vec())
}

async fn every_route_and_method(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let north = s.add_force("north", "North").await;
    let token = s.token("north", "desk").await;
    let id = s.submit(north.report(b"for the headers test")).await;
    let slot = random_slot();
    let slot_hex = hex::encode(slot);
    let bearer = format!("Bearer {token}");

    let mut api_paths: Vec<String> = vec![
        "/api/v1/forces".into(),
        "/api/v1/assets".into(),
        "/api/v1/challenge".into(),
        "/api/v1/reports".into(),
        "/api/v1/slots/fetch".into(),
        format!("/api/v1/slots/{slot_hex}"),
        "/api/v1/slots/not-hex".into(),
        format!("/api/v1/copies/{slot_hex}"),
        "/api/v1/copies/not-hex".into(),
        "/api/v1/inbox".into(),
        "/api/v1/inbox?limit=0".into(),
        format!("/api/v1/inbox/{id}"),
        format!("/api/v1/inbox/{}", hex::encode([7u8; 16])),
        "/api/v1/nowhere".into(),
        "/nowhere".into(),
        "/index.html".into(),
        "/app.js/".into(),
    ];
    api_paths.sort();
    let mut statuses = std::collections::BTreeSet::new();
    for path in api_paths
        .iter()
        .map(String::as_str)
        .chain(PAGE_PATHS.iter().copied())
    {
        let page = PAGE_PATHS.contains(&path);
        for method in METHODS {
            for auth in [None, Some(bearer.as_str())] {
                let mut extra = vec![("Accept-Encoding", "gzip")];
                if let Some(a) = auth {
                    extra.push(("Authorization", a));
                }
                let (status, h, _) = raw(&s, method, path, &extra, b"").await;
                assert!(status < 500, "{method} {path}: {status}");
                statuses.insert(status);
                assert_headers(&format!("{method} {path}"), status, &h, page);
            }
        }
    }

    // The answers with bodies: 201, 409, 400, 415, 422, 429, 413, 401.
    let json_ct = ("Content-Type", "application/json");
    let octet = ("Content-Type", "application/octet-stream");
    let auth = ("Authorization", bearer.as_str());
    let report = north.report(b"x");
    let reply = reply_for(slot, b"r");
    let (_, other_pk) =
        quietline_crypto::keys::generate_keypair(&mut crate::support::server::rng());
    let unknown_key = quietline_crypto::seal::seal_report(
        &mut crate::support::server::rng(),
        "north",
        &other_pk,
        b"x",
    )
    .unwrap();
    // Each submission that gets past the proof of work needs its own
    // challenge, solved over its body; the 201's is then spent (429).
    let report_pow = s.pow(&report).await;
    let report_pow = ("Quietline-Pow", report_pow.as_str());
    let unknown_key_pow = s.pow(&unknown_key).await;
    let unknown_key_pow = ("Quietline-Pow", unknown_key_pow.as_str());
    let fetch_body = format!(r#"{{"slots":["{slot_hex}"]}}"#);
    // (method, path, headers, body, expected status)
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/v1/reports".into(),
            vec![octet, report_pow],
            report.clone(),
            201,
        ),
        (
            "POST",
            "/api/v1/reports".into(),
            vec![octet, report_pow],
            report.clone(),
            429,
        ),
        (
            "POST",
            "/api/v1/reports".into(),
            vec![octet],
            report.clone(),
            400,
        ),
        (
            "POST",
            "/api/v1/reports".into(),
            vec![octet],
            b"QL".to_vec(),
            400,
        ),
        ("POST", "/api/v1/reports".into(), vec![json_ct], report, 415),
        (
            "POST",
            "/api/v1/reports".into(),
            vec![octet, unknown_key_pow],
            unknown_key,
            422,
        ),
        (
            "PUT",
            format!("/api/v1/slots/{slot_hex}"),
            vec![octet],
            reply.clone(),
            401,
        ),
        (
            "PUT",
            format!("/api/v1/slots/{slot_hex}"),
            vec![octet, auth],
            reply.clone(),
            201,
        ),
        (
            "PUT",
            format!("/api/v1/slots/{slot_hex}"),
            vec![octet, auth],
            reply,
            409,
        ),
        (
            "GET",
            format!("/api/v1/slots/{slot_hex}"),
            vec![],
            vec![],
            200,
        ),
        (
            "POST",
            "/api/v1/slots/fetch".into(),
            vec![json_ct],
            fetch_body.into_bytes(),
            200,
        ),
        (
            "POST",
            "/api/v1/slots/fetch".into(),
            vec![json_ct],
            b"{".to_vec(),
            400,
        ),
    ];
    for (method, path, extra, body, want) in cases {
        let (status, h, _) = raw(&s, method, &path, &extra, &body).await;
        assert_eq!(status, want, "{method} {path}");
        statuses.insert(status);
        assert_headers(&format!("{method} {path}"), status, &h, false);
    }
    // 413 from the declared length alone, before any body byte.
    let head = "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 99999999";
    let r = raw_http(s.addr, head, b"").await;
    assert_eq!(r.status, 413);
    statuses.insert(r.status);
    assert_headers(
        "POST /api/v1/reports (too large)",
        r.status,
        &r.headers,
        false,
    );

    for want in [200, 201, 204, 400, 401, 404, 405, 409, 413, 415, 422, 429] {
        assert!(
            statuses.contains(&want),
            "no {want} was checked: {statuses:?}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn sqlite_every_route_and_method_has_the_security_headers() {
    every_route_and_method(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_every_route_and_method_has_the_security_headers() {
    every_route_and_method(Backend::Postgres).await;
}

/// 408 (the whole-request timeout) carries them too.
#[tokio::test]
async fn timeout_answer_has_the_security_headers() {
    let settings = ServerSettings {
        request_timeout: Duration::from_secs(1),
        ..test_settings()
    };
    let s = TestServer::start_with(Backend::Sqlite, settings)
        .await
        .unwrap();
    let head = "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 2000";
    let r = raw_http(s.addr, head, b"QL, then nothing").await;
    assert_eq!(r.status, 408);
    assert_headers("stalled POST /api/v1/reports", r.status, &r.headers, false);
    s.stop().await;
}

//! Isolation between tenants and roles
//! (threat-model/adversaries.md#a-handler-of-another-force and
//! threat-model/adversaries.md#the-platform-operator-admin-surface).
//!
//! - A token of force A cannot list, read or page through force B's reports:
//!   B's report ids answer `404` with exactly the bytes a missing id gets.
//! - Reply slots are not force-scoped: any valid handler token may fill any
//!   empty slot (the threat model says so and why); a filled slot stays one-time.
//! - A revoked token stops at once: the very next request is `401`.
//! - Admin actions have no HTTP route: every plausible admin path and method
//!   answers `404` or `405`, with or without a token, and changes nothing.
//!
//! Each test runs against SQLite and PostgreSQL (`…::sqlite`, `…::postgres`).

use std::collections::BTreeSet;

use crate::support::server::{Backend, TestServer, random_slot, reply_for};
use serde_json::Value;

/// Status and body of a request.
async fn call(req: reqwest::RequestBuilder) -> (u16, Vec<u8>) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    assert!(
        res.headers().get("set-cookie").is_none(),
        "no cookie on a {status}"
    );
    (status, res.bytes().await.unwrap().to_vec())
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[track_caller]
fn assert_error(status: u16, body: &[u8], want_status: &[u16], code: Option<&str>) {
    let v = json(body);
    assert!(want_status.contains(&status), "status {status}: {v}");
    assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
    assert_eq!(v.as_object().unwrap().len(), 2, "{v}");
    if let Some(code) = code {
        assert_eq!(v["error"], code, "{v}");
    }
}

async fn inbox(s: &TestServer, token: &str, query: &str) -> (u16, Vec<u8>) {
    call(
        s.http
            .get(s.url(&format!("/api/v1/inbox{query}")))
            .bearer_auth(token),
    )
    .await
}

fn listed(body: &[u8]) -> BTreeSet<String> {
    json(body)["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

use quietline_testkit::on_both_backends;

on_both_backends!(
    other_forces_reports_are_invisible,
    slots_are_not_force_scoped,
    revoked_token_stops_at_once,
    no_admin_action_over_http,
);

/// threat-model/adversaries.md#a-handler-of-another-force
async fn other_forces_reports_are_invisible(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let north = s.add_force("north", "North").await;
    let south = s.add_force("south", "South").await;
    let t_north = s.token("north", "desk").await;
    let t_south = s.token("south", "desk").await;
    let mut north_ids = BTreeSet::new();
    let mut south_ids = BTreeSet::new();
    for i in 0..4u8 {
        north_ids.insert(s.submit(north.report(&[i; 8])).await);
        south_ids.insert(s.submit(south.report(&[i; 8])).await);
    }

    // Listing: each token sees its own force's reports, all of them, only them.
    let (st, body) = inbox(&s, &t_north, "").await;
    assert_eq!(st, 200);
    assert_eq!(listed(&body), north_ids);
    let (st, body) = inbox(&s, &t_south, "").await;
    assert_eq!(st, 200);
    assert_eq!(listed(&body), south_ids);

    // Paging from another force's id as the cursor still lists only one's own.
    for south_id in &south_ids {
        let (st, body) = inbox(&s, &t_north, &format!("?after={south_id}&limit=1000")).await;
        assert_eq!(st, 200);
        let got = listed(&body);
        assert!(got.is_subset(&north_ids), "{got:?}");
        let expected: BTreeSet<String> = north_ids
            .iter()
            .filter(|id| id.as_str() > south_id.as_str())
            .cloned()
            .collect();
        assert_eq!(got, expected);
    }

    // Reading: another force's id is a 404 byte for byte like a missing one,
    // so a token cannot even learn which ids exist.
    let missing = hex::encode([0x5au8; 16]);
    let (st_missing, body_missing) = call(
        s.http
            .get(s.url(&format!("/api/v1/inbox/{missing}")))
            .bearer_auth(&t_north),
    )
    .await;
    assert_error(st_missing, &body_missing, &[404], Some("unknown_report"));
    for id in &south_ids {
        let (st, body) = call(
            s.http
                .get(s.url(&format!("/api/v1/inbox/{id}")))
                .bearer_auth(&t_north),
        )
        .await;
        assert_eq!(st, 404);
        assert_eq!(body, body_missing, "same answer as a missing id");
        // The owner can read it.
        let (st, _) = call(
            s.http
                .get(s.url(&format!("/api/v1/inbox/{id}")))
                .bearer_auth(&t_south),
        )
        .await;
        assert_eq!(st, 200);
    }
    s.stop().await;
}

/// threat-model/adversaries.md#a-handler-of-another-force (slots)
async fn slots_are_not_force_scoped(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.add_force("north", "North").await;
    s.add_force("south", "South").await;
    let t_north = s.token("north", "desk").await;
    let t_south = s.token("south", "desk").await;

    // Any handler token may fill an empty slot: the server does not know, and
    // must not know, which force's thread a slot belongs to.
    let slot = random_slot();
    let url = s.url(&format!("/api/v1/slots/{}", hex::encode(slot)));
    let envelope = reply_for(slot, b"first writer");
    let (st, _) = call(
        s.http
            .put(&url)
            .bearer_auth(&t_north)
            .header("content-type", "application/octet-stream")
            .body(envelope.clone()),
    )
    .await;
    assert_eq!(st, 201);
    // One-time: another force cannot overwrite it, nor can the first.
    for t in [&t_south, &t_north] {
        let (st, body) = call(
            s.http
                .put(&url)
                .bearer_auth(t)
                .header("content-type", "application/octet-stream")
                .body(reply_for(slot, b"second writer")),
        )
        .await;
        assert_error(st, &body, &[409], Some("slot_taken"));
    }
    let (st, body) = call(s.http.get(&url)).await;
    assert_eq!(st, 200);
    assert_eq!(body, envelope, "the first reply stays");

    // Without a valid token nobody writes a slot.
    let other = random_slot();
    let (st, body) = call(
        s.http
            .put(s.url(&format!("/api/v1/slots/{}", hex::encode(other))))
            .header("content-type", "application/octet-stream")
            .body(reply_for(other, b"anonymous")),
    )
    .await;
    assert_error(st, &body, &[401], Some("unauthorized"));
    s.stop().await;
}

/// threat-model/adversaries.md#a-rogue-handler-in-the-addressee-force (revocation)
async fn revoked_token_stops_at_once(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let north = s.add_force("north", "North").await;
    let token = s.token("north", "leaver").await;
    let colleague = s.token("north", "stays").await;
    let id = s.submit(north.report(b"before revocation")).await;
    let slot = random_slot();

    // Working, on a kept-alive connection (the same client reuses it).
    let (st, _) = inbox(&s, &token, "").await;
    assert_eq!(st, 200);
    s.storage.revoke_token("north", "leaver").await.unwrap();

    // The very next request of every kind is refused.
    let (st, body) = inbox(&s, &token, "").await;
    assert_error(st, &body, &[401], Some("unauthorized"));
    let (st, body) = call(
        s.http
            .get(s.url(&format!("/api/v1/inbox/{id}")))
            .bearer_auth(&token),
    )
    .await;
    assert_error(st, &body, &[401], Some("unauthorized"));
    let (st, body) = call(
        s.http
            .put(s.url(&format!("/api/v1/slots/{}", hex::encode(slot))))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(reply_for(slot, b"x")),
    )
    .await;
    assert_error(st, &body, &[401], Some("unauthorized"));
    // The revoked token's message is the unknown token's: revocation is not
    // told apart from a token that never existed.
    let mut unknown = token.clone();
    unknown.replace_range(
        10..14,
        if &token[10..14] == "AAAA" {
            "BBBB"
        } else {
            "AAAA"
        },
    );
    let (_, body_unknown) = inbox(&s, &unknown, "").await;
    assert_eq!(body, body_unknown);
    // Revoking one handler leaves the force's other handlers working.
    let (st, _) = inbox(&s, &colleague, "").await;
    assert_eq!(st, 200);
    s.stop().await;
}

/// threat-model/adversaries.md#the-platform-operator-admin-surface
async fn no_admin_action_over_http(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let north = s.add_force("north", "North").await;
    let token = s.token("north", "desk").await;
    let id = s.submit(north.report(b"stays")).await;
    let key_id = north.key_id_hex();
    let (_, directory_before) = call(s.http.get(s.url("/api/v1/forces"))).await;
    let tokens_before = s.storage.tokens(None).await.unwrap();

    let paths = [
        "/admin".to_owned(),
        "/admin/".to_owned(),
        "/api/admin".to_owned(),
        "/api/v1/admin".to_owned(),
        "/api/v1/admin/forces".to_owned(),
        "/api/v1/admin/tokens".to_owned(),
        "/api/v1/forces".to_owned(),
        "/api/v1/forces/north".to_owned(),
        "/api/v1/forces/north/keys".to_owned(),
        format!("/api/v1/forces/north/keys/{key_id}"),
        "/api/v1/keys".to_owned(),
        "/api/v1/tokens".to_owned(),
        "/api/v1/tokens/desk".to_owned(),
        "/api/v1/token".to_owned(),
        "/api/v1/purge".to_owned(),
        "/api/v1/challenge".to_owned(),
        "/api/v1/reports".to_owned(),
        format!("/api/v1/reports/{id}"),
        "/api/v1/inbox".to_owned(),
        format!("/api/v1/inbox/{id}"),
        format!("/api/v1/slots/{}", hex::encode(random_slot())),
        "/api/v1/config".to_owned(),
        "/api/v1/status".to_owned(),
        "/metrics".to_owned(),
        "/health".to_owned(),
        "/debug".to_owned(),
        "/debug/pprof".to_owned(),
        "/.env".to_owned(),
        "/quietline.sqlite".to_owned(),
        "/api/v2/admin".to_owned(),
    ];
    let methods = ["POST", "PUT", "PATCH", "DELETE"];
    for path in &paths {
        for method in methods {
            for with_token in [false, true] {
                let mut req = s.http.request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    s.url(path),
                );
                if with_token {
                    req = req.bearer_auth(&token);
                }
                // A body an admin route might take.
                req = req
                    .header("content-type", "application/json")
                    .body(r#"{"id":"evil","name":"Evil","public_key":"x","force":"north","label":"desk"}"#);
                let (st, body) = call(req).await;
                // The real routes refuse these bodies on their own terms
                // (PUT /slots wants an envelope; POST /reports octet-stream):
                // 4xx, never a success.
                let real_route = path == "/api/v1/reports" && method == "POST"
                    || path.starts_with("/api/v1/slots/") && method == "PUT";
                if real_route {
                    assert!(
                        (400..500).contains(&st),
                        "{method} {path}: {st} {}",
                        String::from_utf8_lossy(&body)
                    );
                } else {
                    assert_error(st, &body, &[404, 405], None);
                }
            }
        }
    }
    // GET and HEAD on the admin-looking paths that are not read routes: 404 or 405.
    let read_routes = |p: &str| {
        p == "/api/v1/forces"
            || p == "/api/v1/challenge"
            || p == "/api/v1/inbox"
            || p.starts_with("/api/v1/inbox/")
            || p.starts_with("/api/v1/slots/")
    };
    for path in paths.iter().filter(|p| !read_routes(p)) {
        let (st, body) = call(s.http.get(s.url(path)).bearer_auth(&token)).await;
        assert_error(st, &body, &[404, 405], None);
    }

    // Nothing changed.
    let (_, directory_after) = call(s.http.get(s.url("/api/v1/forces"))).await;
    assert_eq!(directory_before, directory_after);
    assert_eq!(tokens_before, s.storage.tokens(None).await.unwrap());
    let (st, _) = call(
        s.http
            .get(s.url(&format!("/api/v1/inbox/{id}")))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(st, 200);
    s.stop().await;
}

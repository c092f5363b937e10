//! Scale-out: two `quietline serve` processes (the real binary) on one fresh
//! PostgreSQL database behave as one service. A report submitted to one is
//! pulled through the other; a proof-of-work challenge issued by one is
//! accepted by the other, and once spent through one is spent for both; a
//! reply slot written through one is read through the other; a revocation made
//! once holds on both.

use crate::support::server::Serve;
use crate::support::server::{Process, admin_ok, client, pow_header, random_slot, reply_for};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

async fn call(req: reqwest::RequestBuilder) -> (u16, Vec<u8>) {
    let res = req.send().await.expect("request");
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

#[tokio::test]
async fn two_servers_one_postgres() {
    let Some(pg) = crate::support::pg::fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    let url = pg.url().to_owned();

    // Set up through the admin commands on the shared database.
    let (force, token) = crate::support::server::register_force_via_admin(&dir_a, &url);

    let a = Process::serve(&dir_a, &["--database-url", &url]);
    let b = Process::serve(&dir_b, &["--database-url", &url]);
    assert_ne!(a.addr, b.addr);
    let http = client();

    // Both publish the same directory.
    let (_, dir_from_a) = call(http.get(a.url("/api/v1/forces"))).await;
    let (_, dir_from_b) = call(http.get(b.url("/api/v1/forces"))).await;
    assert_eq!(json(&dir_from_a), json(&dir_from_b));

    // Reports: into A, out of B, and the other way round. Each one's proof of
    // work is on a challenge from the OTHER instance (they share its key
    // through the database), and once spent through one instance the
    // challenge is refused by both.
    let mut sent = Vec::new();
    for (into, other, payload) in [(&a, &b, b"via a".as_slice()), (&b, &a, b"via b".as_slice())] {
        let envelope = force.report(payload);
        let pow = pow_header(&http, &other.base, &envelope).await;
        let post = |p: &Process| {
            http.post(p.url("/api/v1/reports"))
                .header("content-type", "application/octet-stream")
                .header("quietline-pow", pow.as_str())
                .body(envelope.clone())
        };
        let (status, body) = call(post(into)).await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        sent.push((
            json(&body)["id"].as_str().unwrap().to_owned(),
            envelope.clone(),
        ));
        for again in [other, into] {
            let (status, body) = call(post(again)).await;
            assert_eq!(status, 429, "{}", String::from_utf8_lossy(&body));
            assert_eq!(json(&body)["error"], "pow_spent");
        }
    }
    for (id, envelope) in &sent {
        for (through, name) in [(&a, "a"), (&b, "b")] {
            let (status, body) = call(
                http.get(through.url(&format!("/api/v1/inbox/{id}")))
                    .bearer_auth(&token),
            )
            .await;
            assert_eq!(status, 200, "report {id} through {name}");
            assert_eq!(&body, envelope);
        }
    }
    let (_, inbox) = call(http.get(b.url("/api/v1/inbox")).bearer_auth(&token)).await;
    assert_eq!(json(&inbox)["reports"].as_array().unwrap().len(), 2);

    // Slots: written through A, read through B (single and batch), one-time across both.
    let slot = random_slot();
    let hex_slot = hex::encode(slot);
    let reply = reply_for(slot, b"a reply");
    let (status, _) = call(
        http.put(a.url(&format!("/api/v1/slots/{hex_slot}")))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(reply.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = call(http.get(b.url(&format!("/api/v1/slots/{hex_slot}")))).await;
    assert_eq!((status, body), (200, reply.clone()));
    let (status, body) = call(
        http.post(b.url("/api/v1/slots/fetch"))
            .header("content-type", "application/json")
            .body(json!({ "slots": [hex_slot] }).to_string()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        json(&body),
        json!({ "slots": [{ "address": hex_slot, "envelope": URL_SAFE_NO_PAD.encode(&reply) }] })
    );
    let (status, _) = call(
        http.put(b.url(&format!("/api/v1/slots/{hex_slot}")))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(reply_for(slot, b"second")),
    )
    .await;
    assert_eq!(status, 409, "a slot taken through A is taken for B too");

    // A revocation is seen by both at once.
    admin_ok(
        &dir_a,
        Some(&url),
        &["token", "revoke", "--force", "north", "--label", "desk"],
    );
    for p in [&a, &b] {
        let (status, _) = call(http.get(p.url("/api/v1/inbox")).bearer_auth(&token)).await;
        assert_eq!(status, 401);
    }

    let (ca, cb) = (a.stop(), b.stop());
    assert!(ca.success && cb.success);
    // The log names the database kind but never its credentials.
    let log = String::from_utf8_lossy(&ca.stderr);
    assert!(log.contains("database=postgres"), "{log}");
    assert!(
        !log.contains("postgres@"),
        "no user name or password in the log: {log}"
    );
    pg.cleanup().await;
}

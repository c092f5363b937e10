//! The post-quantum hybrid suite on the server (issue 21): force keys of
//! 1,216 bytes stored on SQLite and PostgreSQL, the directory naming each
//! key's suite, the largest X-Wing envelope within the body limit, rotation
//! from X25519 to X-Wing with old reports still accepted, `--public-key`
//! taking an X-Wing key, and the demo force on X-Wing.

use crate::support::server::{Backend, TestServer, rng};
use quietline_crypto::envelope::MAX_ENVELOPE_LEN;
use quietline_crypto::keys::{Suite, generate_keypair_for};
use quietline_crypto::seal::seal_report;
use serde_json::Value;

async fn directory(s: &TestServer) -> Value {
    let res = s.http.get(s.url("/api/v1/forces")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    serde_json::from_slice(&res.bytes().await.unwrap()).unwrap()
}

async fn rotation_to_xwing_keeps_x25519_reports_and_takes_the_largest_xwing_envelope(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let north = s.add_force("north", "North Constabulary").await;
    assert_eq!(directory(&s).await[0]["suite"], "x25519");
    let (_, pk) = generate_keypair_for(Suite::XWing, &mut rng());
    quietline::admin::add_force_key(s.storage.as_ref(), "north", &pk)
        .await
        .expect("a 1216-byte key is stored");
    let d = directory(&s).await;
    assert_eq!(d[0]["suite"], "xwing", "{d}");
    assert_eq!(d[0]["key_id"], pk.key_id().to_hex());
    assert_eq!(d[0]["public_key"], pk.to_base64url());
    let keys = s.storage.force_keys("north").await.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.public_key.len() == 1216));

    // The old X25519 key still takes reports; the X-Wing key takes the
    // longest envelope there is (64-character force id, 64 KiB bucket).
    s.submit(north.report(b"to the old key")).await;
    let long_id = "n".repeat(64);
    quietline::admin::add_force(s.storage.as_ref(), &long_id, "Long")
        .await
        .unwrap();
    // A key belongs to one force (the store refuses it twice): a second one.
    let (_, long_pk) = generate_keypair_for(Suite::XWing, &mut rng());
    quietline::admin::add_force_key(s.storage.as_ref(), &long_id, &long_pk)
        .await
        .unwrap();
    let biggest = seal_report(&mut rng(), &long_id, &long_pk, &vec![b'x'; 65536 - 4]).unwrap();
    assert_eq!(biggest.len(), MAX_ENVELOPE_LEN);
    assert_eq!(MAX_ENVELOPE_LEN, 66755);
    s.submit(biggest).await;
    s.stop().await;
}

mod rotation_to_xwing_keeps_x25519_reports_and_takes_the_largest_xwing_envelope {
    #[tokio::test]
    async fn sqlite() {
        super::rotation_to_xwing_keeps_x25519_reports_and_takes_the_largest_xwing_envelope(
            super::Backend::Sqlite,
        )
        .await
    }
    #[tokio::test]
    async fn postgres() {
        super::rotation_to_xwing_keeps_x25519_reports_and_takes_the_largest_xwing_envelope(
            super::Backend::Postgres,
        )
        .await
    }
}

#[test]
fn public_key_option_takes_an_xwing_key_and_refuses_other_lengths() {
    let (_, pk) = generate_keypair_for(Suite::XWing, &mut rng());
    let text = pk.to_base64url();
    assert_eq!(text.len(), 1622);
    let parsed = quietline::admin::parse_public_key(&text).expect("an X-Wing public key");
    assert_eq!(parsed, pk);
    let short = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &pk.as_bytes()[..1215],
    );
    let e = quietline::admin::parse_public_key(&short)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("1215 bytes") && e.contains("1216 for X-Wing"),
        "{e}"
    );
}

#[tokio::test]
async fn demo_force_seals_with_xwing() {
    let Some(s) = TestServer::start(Backend::Sqlite).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let demo = quietline::demo::ensure_demo(s.storage.as_ref(), data.path())
        .await
        .unwrap();
    let d = directory(&s).await;
    let entry = d
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "demo")
        .expect("the demo force");
    assert_eq!(entry["suite"], "xwing", "{d}");
    assert_eq!(entry["key_id"], demo.key_id);
    s.stop().await;
}

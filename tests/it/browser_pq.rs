//! The post-quantum hybrid suite end to end in a real browser (issue 21):
//! Debian's headless Chromium driven by `web/e2e/pq.mjs` against a real
//! server (SQLite, 127.0.0.1:0) whose force has an X-Wing key. The report the
//! page seals (fetching `/pq.js` only then) is pulled from the inbox and
//! opened as the console opens it (`open` + `Payload::from_json` with the
//! force's X-Wing private key); its reply material is an X-Wing reply key
//! derived from the 12 words; the force's reply sealed to that key is read
//! on the page, and the follow-up joins the thread, sealed with X-Wing again.
//!
//! Without Node.js or Chromium this prints `SKIPPED` outside CI and fails
//! with `CI=true`, like `tests/browser.rs`.

use crate::support::server::{Backend, TestServer, rng, test_settings};
use quietline_crypto::envelope::{Kind, parse};
use quietline_crypto::keys::{Suite, generate_keypair_for};
use quietline_crypto::open::open;
use quietline_crypto::payload::{Common, Payload, Reply, ReplyMaterial};
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::seal_reply;
use quietline_testkit::node::{e2e_ok, ensure_node_modules, require_node_and_chromium};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const FORCE_ID: &str = "north-shire";
const FORCE_NAME: &str = "North Shire Police";

async fn get_json(s: &TestServer, path: &str, token: &str) -> Value {
    let res = s
        .http
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    serde_json::from_slice(&res.bytes().await.unwrap()).expect("JSON")
}

/// Pull: every envelope in the inbox, in order.
async fn pull(s: &TestServer, token: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for r in get_json(s, "/api/v1/inbox", token).await["reports"]
        .as_array()
        .unwrap()
    {
        let id = r["id"].as_str().unwrap();
        let res = s
            .http
            .get(s.url(&format!("/api/v1/inbox/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        out.push(res.bytes().await.unwrap().to_vec());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_pq_report_to_a_hybrid_key_force_is_opened_and_answered_on_the_hybrid_reply_key() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(Backend::Sqlite, test_settings())
        .await
        .expect("SQLite is never skipped");
    quietline::admin::add_force(s.storage.as_ref(), FORCE_ID, FORCE_NAME)
        .await
        .unwrap();
    let (sk, pk) = generate_keypair_for(Suite::XWing, &mut rng());
    quietline::admin::add_force_key(s.storage.as_ref(), FORCE_ID, &pk)
        .await
        .unwrap();
    let token = s.token(FORCE_ID, "browser pq test").await;

    // The directory says the suite, and serves the 1216-byte key.
    let forces: Value = serde_json::from_slice(
        &s.http
            .get(s.url("/api/v1/forces"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(forces[0]["suite"], "xwing", "{forces}");
    assert_eq!(forces[0]["public_key"], pk.to_base64url());

    let answers = json!({
        "forceName": FORCE_NAME,
        "categoryLabel": "Drugs",
        "details": "PQ-CANARY boxes unloaded at night behind the café",
        "where": "Behind the old mill, Canal Street, Northtown",
        "day": "14", "month": "3", "year": "2024", "time": "10:15pm",
        "whenShown": "14 March 2024 at 22:15",
        "ongoingLabel": "Yes",
        "person": { "name": "Big Dave", "description": "Tall, about 40, red jacket" },
        "vehicle": { "registration": "AB12 CDE", "make_model": "Ford Transit", "colour": "White", "description": "Dent" },
        "howLabel": "I saw it",
        "howDetails": "I walk past most evenings",
    });
    let sent = e2e_ok(
        "pq.mjs",
        Some("report"),
        &s.base,
        &json!({ "answers": answers }),
        tmp.path(),
    )
    .await;
    let words: Vec<String> = sent["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(words.len(), 12);

    // Pulled and opened as the console does.
    let pulled = pull(&s, &token).await;
    assert_eq!(pulled.len(), 1);
    assert_eq!(
        hex::encode(Sha256::digest(&pulled[0])),
        sent["envelope_sha256"].as_str().unwrap()
    );
    assert_eq!(parse(&pulled[0]).unwrap().suite(), Suite::XWing);
    let opened = open(&sk, Kind::Report, &pulled[0]).expect("the X-Wing report opens");
    let Payload::Report(report) = Payload::from_json(&opened).unwrap() else {
        panic!("a report payload");
    };
    assert!(report.report.details.starts_with("PQ-CANARY"));
    // The reply material is the X-Wing reply key of the 12 words shown.
    let code = ReplyCode::from_mnemonic(&words.join(" ")).unwrap();
    assert_eq!(report.reply.suite, "xwing");
    assert_eq!(
        report.reply,
        ReplyMaterial::from_secrets(&code.derive_for(Suite::XWing))
    );

    // The force replies into slot 0, sealed to the X-Wing reply key.
    let (reply_pk, _, slot_key) = report.reply.decode().unwrap();
    assert_eq!(reply_pk.suite(), Suite::XWing);
    let slot = slot_key.address(0);
    let reply_text = "Thank you. Which nights do the boxes arrive? PQ-REPLY";
    let payload = Payload::Reply(Reply {
        common: Common {
            v: 1,
            sent_at: "2026-12-06T09:30:00Z".into(),
            lang: "en".into(),
        },
        from: FORCE_NAME.into(),
        force: None,
        message: reply_text.into(),
    });
    let sealed = seal_reply(&mut rng(), slot, &reply_pk, &payload.to_json()).unwrap();
    assert_eq!(parse(&sealed).unwrap().suite(), Suite::XWing);
    let res = s
        .http
        .put(s.url(&format!("/api/v1/slots/{}", hex::encode(slot))))
        .bearer_auth(&token)
        .header("content-type", "application/octet-stream")
        .body(sealed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // The reporter reads it with the 12 words and follows up.
    let follow = e2e_ok(
        "pq.mjs",
        Some("replies"),
        &s.base,
        &json!({
            "words": words,
            "forceName": FORCE_NAME,
            "replyFrom": FORCE_NAME,
            "replyText": reply_text,
            "followUp": "PQ-FOLLOWUP Mostly Fridays, after 11pm.",
        }),
        tmp.path(),
    )
    .await;
    let pulled = pull(&s, &token).await;
    assert_eq!(pulled.len(), 2, "the follow-up arrived");
    let env2 = pulled
        .iter()
        .find(|e| hex::encode(Sha256::digest(e)) == follow["envelope_sha256"].as_str().unwrap())
        .expect("the follow-up is in the inbox");
    let Payload::FollowUp(f) = Payload::from_json(&open(&sk, Kind::Report, env2).unwrap()).unwrap()
    else {
        panic!("a follow-up payload");
    };
    assert_eq!(f.message, "PQ-FOLLOWUP Mostly Fridays, after 11pm.");
    assert_eq!(
        f.reply, report.reply,
        "the follow-up keeps the thread's X-Wing reply material"
    );
    s.stop().await;
}

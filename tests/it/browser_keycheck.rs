//! The page checks a pinned force's key before it seals (issue 20, part 3),
//! in Debian's headless Chromium (`web/e2e/keycheck.mjs`) against a real
//! in-process server on 127.0.0.1:0 with SQLite:
//!
//! - a key substituted in the server's database for a pinned force: a key
//!   statement signed by a key that is not pinned (the platform's own signing
//!   key), or a bare key with no statement (this one in Welsh): the page
//!   refuses to seal, shows the GOV.UK error summary saying nothing was sent,
//!   why and what to do, keeps every answer, and the server stores nothing;
//! - the demo force as `serve --demo` makes it (its pinned, derived signing
//!   key, its statement in the key log): the report is sent;
//! - the key log rewritten between the page's load and sending: refused.
//!
//! `QUIETLINE_SCREENSHOTS=DIR` saves the refusal screen there
//! (docs/screenshots/keycheck-refused.png). Without Node.js or Chromium these
//! print `SKIPPED` outside CI and fail with `CI=true`. Names start with
//! `browser_` (CI counts them).

use crate::support::server::{Backend, TestServer, inbox_ids, rng};
use quietline::admin;
use quietline::day::today;
use quietline::demo::{DEMO_FORCE_ID, DEMO_FORCE_NAME, ensure_demo};
use quietline_crypto::keys::generate_keypair;
use quietline_crypto::statement::{KeyStatement, NO_PREVIOUS, SignedStatement, SigningSecret};
use quietline_testkit::node::{e2e_ok, ensure_node_modules, require_node_and_chromium};
use serde_json::{Value, json};

/// What the journey types (web/e2e/flows.mjs fillReport), to `force_name`.
fn answers(force_name: &str) -> Value {
    json!({
        "forceName": force_name,
        "lang": "en",
        "categoryLabel": "Drugs",
        "details": "Boxes unloaded at the back of the café every night.",
        "where": "Canal Street, Northtown",
        "day": "14",
        "month": "3",
        "year": "2024",
        "time": "10:15pm",
        "whenShown": "14 March 2024 at 22:15",
        "ongoingLabel": "Yes",
        "person": { "name": "Big Dave", "description": "Tall, red jacket" },
        "vehicle": {
            "registration": "AB12 CDE",
            "make_model": "Ford Transit",
            "colour": "White",
            "description": "Dent in the back door",
        },
        "howLabel": "I saw it",
        "howDetails": "I walk past most evenings",
    })
}

/// [`answers`] as a reporter using the page in Welsh sees the choices.
fn answers_cy(force_name: &str) -> Value {
    let mut a = answers(force_name);
    a["lang"] = json!("cy");
    a["categoryLabel"] = json!("Cyffuriau");
    a["whenShown"] = json!("14 Mawrth 2024 am 22:15");
    a["ongoingLabel"] = json!("Ydy");
    a["howLabel"] = json!("Fe welais i hyn");
    a
}

fn screenshot(name: &str) -> Option<String> {
    std::env::var("QUIETLINE_SCREENSHOTS")
        .ok()
        .map(|d| format!("{}/{name}", d.trim_end_matches('/')))
}

/// A pinned force (`demo`) whose current key is the platform's own, with a
/// statement signed by the platform's own signing key; and the other pinned
/// force (`demo-west`) with a bare key. Both as a rogue operator with the
/// database would set them up; neither signed by the pinned keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_keycheck_refuses_a_substituted_key_and_stores_nothing() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let storage = s.storage.as_ref();

    // demo: the operator's own signing key registered as the signer set.
    admin::add_force(storage, DEMO_FORCE_ID, DEMO_FORCE_NAME)
        .await
        .unwrap();
    let rogue = SigningSecret::generate(&mut rng());
    admin::set_force_signers(
        storage,
        DEMO_FORCE_ID,
        &[rogue.public_key().to_base64url()],
        1,
    )
    .await
    .unwrap();
    let (_sk, pk) = generate_keypair(&mut rng());
    let day = u32::try_from(today()).unwrap();
    let st = SignedStatement::sign(
        KeyStatement {
            force_id: DEMO_FORCE_ID.into(),
            public_key: pk,
            valid_from: day,
            valid_until: day + 30,
            sequence: 0,
            prev_hash: NO_PREVIOUS,
        },
        &[&rogue],
    )
    .unwrap();
    admin::add_signed_force_key(storage, DEMO_FORCE_ID, &st.to_base64url(), day)
        .await
        .unwrap();
    // demo-west: a bare key, no statement at all.
    s.add_force("demo-west", "West Demo Police").await;
    let token = s.token(DEMO_FORCE_ID, "keycheck").await;
    let west_token = s.token("demo-west", "keycheck").await;

    let mut input = json!({
        "answers": answers(DEMO_FORCE_NAME),
        "expect": "refused",
        "message": "send.err.keycheck.key",
    });
    if let Some(p) = screenshot("keycheck-refused.png") {
        input["screenshot"] = json!(p);
    }
    let r = e2e_ok("keycheck.mjs", None, &s.base, &input, tmp.path()).await;
    assert_eq!(r["outcome"], "refused", "{r}");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("Someone may have interfered"),
        "{r}"
    );

    // In Welsh this time: the same refusal in the page's words.
    let input = json!({
        "answers": answers_cy("West Demo Police"),
        "expect": "refused",
        "message": "send.err.keycheck.key",
    });
    let r = e2e_ok("keycheck.mjs", None, &s.base, &input, tmp.path()).await;
    assert_eq!(r["outcome"], "refused", "{r}");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("Efallai bod rhywun wedi ymyrryd"),
        "{r}"
    );

    assert!(inbox_ids(&s.http, &s.base, &token).await.is_empty());
    assert!(inbox_ids(&s.http, &s.base, &west_token).await.is_empty());
    s.stop().await;
}

/// The demo force as `serve --demo` sets it up: a statement signed by its
/// pinned key, in the key log. The page checks it all and sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_keycheck_normal_path_sends_to_the_pinned_demo_force() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let demo = ensure_demo(s.storage.as_ref(), data.path()).await.unwrap();
    let token = std::fs::read_to_string(demo.dir.join("token")).unwrap();
    let r = e2e_ok(
        "keycheck.mjs",
        None,
        &s.base,
        &json!({ "answers": answers(DEMO_FORCE_NAME), "expect": "sent" }),
        tmp.path(),
    )
    .await;
    assert_eq!(r["outcome"], "sent", "{r}");
    // The checkpoint and key at load; the checkpoint and the inclusion proof before sealing.
    assert!(r["keylogRequests"].as_u64().unwrap() >= 4, "{r}");
    assert_eq!(inbox_ids(&s.http, &s.base, token.trim()).await.len(), 1);
    s.stop().await;
}

/// The page's verifier (`web/src/keycheck.js`) accepts what the Rust key log
/// (`quietline_crypto::keylog`, which the server signs and proves with) makes:
/// signed checkpoints with their verifier key, every inclusion proof and
/// every consistency proof of logs of 1 to 12 statements; and refuses each
/// with one hash altered. Two implementations of RFC 9162 and C2SP
/// signed-note, checked against each other.
#[tokio::test]
async fn keycheck_js_agrees_with_the_rust_key_log() {
    use quietline_crypto::keylog::{
        LogSigner, consistency_proof, hash_to_base64url, inclusion_proof, tree_root,
    };
    use quietline_testkit::node::{require_node, run_bounded, web_dir};
    if !require_node() {
        return;
    }
    ensure_node_modules();
    let signer = LogSigner::from_seed("quietline.test/keylog", &[7u8; 32]).unwrap();
    let entries: Vec<Vec<u8>> = (0..12)
        .map(|i| format!("statement {i}").into_bytes())
        .collect();
    let b64 =
        |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
    let mut trees = Vec::new();
    for n in 1..=entries.len() {
        let d = &entries[..n];
        let root = tree_root(d).unwrap();
        let inclusion: Vec<Vec<String>> = (0..n as u64)
            .map(|i| {
                inclusion_proof(d, i)
                    .unwrap()
                    .iter()
                    .map(hash_to_base64url)
                    .collect()
            })
            .collect();
        let consistency: Vec<Vec<String>> = (0..=n as u64)
            .map(|m| {
                consistency_proof(d, m)
                    .unwrap()
                    .iter()
                    .map(hash_to_base64url)
                    .collect()
            })
            .collect();
        trees.push(json!({
            "size": n,
            "checkpoint": signer.sign_checkpoint(n as u64, &root),
            "inclusion": inclusion,
            "consistency": consistency,
        }));
    }
    let fixture = json!({
        "vkey": signer.log_key().to_vkey(),
        "entries": entries.iter().map(|e| b64(e)).collect::<Vec<_>>(),
        "trees": trees,
    });
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("keylog.json");
    std::fs::write(&path, fixture.to_string()).unwrap();
    let script = r#"
import { readFileSync } from "node:fs";
import * as K from "./src/keycheck.js";
const F = JSON.parse(readFileSync(process.argv[1], "utf8"));
const vkey = K.parseVkey(F.vkey);
const entries = F.entries.map((e) => K.fromBase64url(e));
const h = (l) => l.map((x) => K.fromBase64url(x));
const flip = (p, i) => p.map((x, j) => (j === i ? x.map((b, k) => (k === 0 ? b ^ 1 : b)) : x));
let checked = 0;
const cps = F.trees.map((t) => K.verifyCheckpoint(t.checkpoint, vkey));
for (const [ti, t] of F.trees.entries()) {
  const cp = cps[ti];
  if (cp.size !== t.size) throw new Error(`size ${cp.size}`);
  for (let i = 0; i < t.size; i++) {
    const p = h(t.inclusion[i]);
    if (!K.verifyInclusion(i, t.size, K.leafHash(entries[i]), p, cp.root)) throw new Error(`inclusion ${i} in ${t.size}`);
    for (let j = 0; j < p.length; j++) if (K.verifyInclusion(i, t.size, K.leafHash(entries[i]), flip(p, j), cp.root)) throw new Error("altered inclusion verified");
    checked++;
  }
  for (let m = 0; m <= t.size; m++) {
    const from = m === 0 ? { size: 0, root: new Uint8Array(32) } : cps[m - 1];
    const p = h(t.consistency[m]);
    if (!K.verifyConsistency(m, t.size, from.root, cp.root, p)) throw new Error(`consistency ${m} to ${t.size}`);
    for (let j = 0; j < p.length; j++) if (K.verifyConsistency(m, t.size, from.root, cp.root, flip(p, j))) throw new Error("altered consistency verified");
    checked++;
  }
}
console.log(JSON.stringify({ ok: true, checked }));
"#;
    let mut cmd = std::process::Command::new("node");
    cmd.current_dir(web_dir())
        .args(["--input-type=module", "-e", script])
        .arg(&path);
    let out =
        tokio::task::spawn_blocking(move || run_bounded(cmd, std::time::Duration::from_secs(120)))
            .await
            .unwrap();
    assert!(out.success, "{}", out.all());
    let r = out.result();
    assert_eq!(r["checked"], 12 * 13 / 2 + (2..=13).sum::<u64>(), "{r}");
}

/// A pinned force's second statement, signed by its derived (demo) key.
async fn add_pinned_force(storage: &dyn quietline::storage::Storage, id: &str, name: &str) {
    let signer = quietline::demo::demo_signing_secret(id);
    admin::add_force(storage, id, name).await.unwrap();
    admin::set_force_signers(storage, id, &[signer.public_key().to_base64url()], 1)
        .await
        .unwrap();
    let (_sk, pk) = generate_keypair(&mut rng());
    let day = u32::try_from(today()).unwrap();
    let st = SignedStatement::sign(
        KeyStatement {
            force_id: id.into(),
            public_key: pk,
            valid_from: day,
            valid_until: day + 30,
            sequence: 0,
            prev_hash: NO_PREVIOUS,
        },
        &[&signer],
    )
    .unwrap();
    admin::add_signed_force_key(storage, id, &st.to_base64url(), day)
        .await
        .unwrap();
}

/// The served log key, checkpoint and the demo force's `log_index`.
async fn keylog_state(base: &str) -> (String, String, Option<u64>) {
    let http = crate::support::server::client();
    let text = |path: &'static str| {
        let http = http.clone();
        async move {
            let res = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            res.text().await.unwrap()
        }
    };
    let forces: Value = serde_json::from_str(&text("/api/v1/forces").await).unwrap();
    let index = forces
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == DEMO_FORCE_ID)
        .and_then(|f| f["log_index"].as_u64());
    (
        text("/api/v1/keylog/key").await,
        text("/api/v1/keylog/checkpoint").await,
        index,
    )
}

/// Serve `url`'s database on exactly `addr` until the returned sender fires.
async fn serve_at(
    addr: std::net::SocketAddr,
    url: &str,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let storage = quietline::storage::open(url).await.unwrap();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(quietline::run(
        listener,
        storage,
        crate::support::server::test_settings(),
        async {
            let _ = rx.await;
        },
    ));
    (tx, task)
}

/// The key log rewritten between the page's load and sending: two databases
/// share the demo force's first statement and the log's key, then diverge
/// (a different statement at index 1 in each). The page loads from the
/// first; before it sends, the same address serves the second, whose log
/// has the same size and another root. The page refuses: the current
/// checkpoint is not consistent with the one it saw at load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_keycheck_refuses_a_log_rewritten_after_the_page_loaded() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let main = crate::support::server::TestDb::at_sqlite();
    let alt = crate::support::server::TestDb::at_sqlite();
    {
        let storage = quietline::storage::open(&main.url).await.unwrap();
        ensure_demo(storage.as_ref(), data.path()).await.unwrap();
        // The log's key is made on first use: make it now, so both copies share it.
        storage.keylog_seed([9u8; 32]).await.unwrap();
        storage.close().await;
    }
    // The same history so far, the log's key with it.
    for f in std::fs::read_dir(main.dir.path()).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), alt.dir.path().join(f.file_name())).unwrap();
    }
    for db in [&main, &alt] {
        let storage = quietline::storage::open(&db.url).await.unwrap();
        // Each its own statement at index 1 (a key made afresh each time).
        add_pinned_force(storage.as_ref(), "demo-west", "West Demo Police").await;
        storage.close().await;
    }

    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let base = format!("http://{addr}");
    let (stop_main, main_task) = serve_at(addr, &main.url).await;
    let ready = tmp.path().join("ready");
    let go = tmp.path().join("go");
    let input = json!({
        "answers": answers(DEMO_FORCE_NAME),
        "expect": "refused",
        "message": "send.err.keycheck.log",
        "readyFile": ready,
        "goFile": go,
    });
    let page = {
        let base = base.clone();
        let dir = tmp.path().to_owned();
        tokio::spawn(async move { e2e_ok("keycheck.mjs", None, &base, &input, &dir).await })
    };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !ready.exists() {
        assert!(
            std::time::Instant::now() < until,
            "the page never got ready"
        );
        assert!(!page.is_finished(), "the page script ended early");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The rewrite: the same address now serves the other history.
    let seen = keylog_state(&base).await;
    let _ = stop_main.send(());
    main_task.await.unwrap().unwrap();
    let (stop_alt, alt_task) = serve_at(addr, &alt.url).await;
    let now = keylog_state(&base).await;
    assert_eq!(seen.0, now.0, "the same log key");
    assert_eq!(seen.2, Some(0), "the demo statement is at index 0 in both");
    assert_eq!(now.2, Some(0));
    let size = |cp: &str| cp.lines().nth(1).unwrap().to_owned();
    assert_eq!(size(&seen.1), "2");
    assert_eq!(size(&now.1), "2", "the same size");
    assert_ne!(seen.1, now.1, "another root: history rewritten");
    std::fs::write(&go, "go\n").unwrap();
    let r = page.await.unwrap();
    assert_eq!(r["outcome"], "refused", "{r}");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("public record of police forces’ keys did not check out"),
        "{r}"
    );
    let _ = stop_alt.send(());
    alt_task.await.unwrap().unwrap();
}

/// Tor Browser's "Safer" level (Debian's Firefox ESR with its JavaScript
/// preferences: no JIT, no WebAssembly; `web/e2e/firefox-safer-send.mjs`)
/// runs the check too: the pinned demo force's statement, checkpoint and
/// proofs verify in pure JavaScript there, and the report is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_keycheck_firefox_safer_sends_to_the_pinned_demo_force() {
    if !crate::browser_firefox::require_node_and_firefox() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let demo = ensure_demo(s.storage.as_ref(), data.path()).await.unwrap();
    let token = std::fs::read_to_string(demo.dir.join("token")).unwrap();
    let sent = e2e_ok(
        "firefox-safer-send.mjs",
        None,
        &s.base,
        &json!({
            "force": DEMO_FORCE_ID,
            "category": "drugs",
            "details": "Boxes unloaded at night behind the café.",
            "where": "Canal Street",
            "ongoing": "unknown",
            "how": "saw",
        }),
        tmp.path(),
    )
    .await;
    assert_eq!(sent["safer"], true);
    assert_eq!(inbox_ids(&s.http, &s.base, token.trim()).await.len(), 1);
    s.stop().await;
}

/// A demo force whose signing key is not the derived, pinned one (a demo
/// from before the keys were derived) is refused at start with a clear
/// message, rather than served to a page that would refuse every report.
#[tokio::test]
async fn demo_with_a_signing_key_the_page_does_not_pin_is_refused_at_start() {
    let db = crate::support::server::TestDb::at_sqlite();
    let storage = quietline::storage::open(&db.url).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    admin::add_force(storage.as_ref(), DEMO_FORCE_ID, DEMO_FORCE_NAME)
        .await
        .unwrap();
    let random = SigningSecret::generate(&mut rng());
    admin::set_force_signers(
        storage.as_ref(),
        DEMO_FORCE_ID,
        &[random.public_key().to_base64url()],
        1,
    )
    .await
    .unwrap();
    let err = ensure_demo(storage.as_ref(), data.path())
        .await
        .unwrap_err();
    assert!(
        matches!(err, quietline::demo::DemoError::NotPinned),
        "{err}"
    );
    assert!(err.to_string().contains("fresh --data-dir"), "{err}");
    storage.close().await;

    // The derived key: set up, and a second start reuses it.
    let db = crate::support::server::TestDb::at_sqlite();
    let storage = quietline::storage::open(&db.url).await.unwrap();
    let first = ensure_demo(storage.as_ref(), data.path()).await.unwrap();
    let again = ensure_demo(storage.as_ref(), data.path()).await.unwrap();
    assert!(!first.reused_key && again.reused_key);
    storage.close().await;
}

//! A report sealed by the reporter page's own crypto module
//! (`web/src/quietline-crypto.js`) under node: pulled and shown by the
//! console, answered, and the reply opened again by the page's module from
//! the reply code alone; a follow-up from node joins the thread.
//!
//! Needs `node` and `web/node_modules`. Building the `quietline` dev-dependency
//! already needs both (its build script runs `npm ci` and builds the page), so
//! under `CI=true` their absence fails the test; elsewhere it says so on stderr
//! and returns (the Rust-sealed loop in e2e.rs always runs).

use std::path::PathBuf;
use std::process::Command;

use crate::support::{Console, short};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn web() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web")
}

fn node(args: &[&str]) -> serde_json::Value {
    let module = web().join("src/quietline-crypto.js");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node/reporter.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(&module)
        .args(args)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "node {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn node_ready() -> Result<(), String> {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        return Err("`node` is not installed".into());
    }
    if !web().join("src/quietline-crypto.js").is_file() {
        return Err("web/src/quietline-crypto.js does not exist".into());
    }
    if !web().join("node_modules/@hpke/core").is_dir() {
        return Err("web/node_modules is missing (run `cd web && npm ci`)".into());
    }
    Ok(())
}

#[test]
fn report_sealed_by_the_page_module_under_node() {
    if let Err(why) = node_ready() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "the node-sealed report must run in CI: {why}"
        );
        eprintln!("note: the node-sealed report was not tried: {why}");
        return;
    }
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let pk = console.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "h");
    console.login(&server.base, &token);

    let sealed = node(&["seal", "north", &pk.to_base64url()]);
    let words = sealed["words"].as_str().unwrap().to_owned();
    console.secrets.push(words.clone());
    let envelope = URL_SAFE_NO_PAD
        .decode(sealed["envelope"].as_str().unwrap())
        .unwrap();
    let id = server.submit(envelope);
    assert!(console.ok(&["pull"]).contains("1 opened, 0 flagged"));
    let shown = console.ok(&["show", short(&id)]);
    for want in [
        "Category: Weapons",
        "Details:\n        A knife is kept under the counter; sealed by node",
        "Where: Corner shop, High Street",
        "When: 2026-11-25",
        "Person 1: (no name) — shop assistant, evenings",
        "Vehicles: none given",
        "How known: Someone told me",
        "sent 2026-11-27T10:00:00Z (reporter's clock) · language en",
    ] {
        assert!(shown.contains(want), "missing {want:?} in:\n{shown}");
    }

    assert!(
        console
            .ok(&["reply", short(&id), "--message", "Which shop, please?"])
            .contains("slot 0")
    );
    // The page derives slot 0 from the words, fetches it and opens it.
    let address = node(&["slot", &words, "0"])["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut a = [0u8; 32];
    hex::decode_to_slice(&address, &mut a).unwrap();
    let reply = server.get_slot(&a).expect("slot 0 holds the reply");
    let opened = node(&["open", &words, &URL_SAFE_NO_PAD.encode(reply)]);
    assert_eq!(opened["message"], "Which shop, please?");
    assert_eq!(opened["from"], "North Constabulary");

    let fu = node(&[
        "follow-up",
        "north",
        &pk.to_base64url(),
        &words,
        "The one next to the bakery.",
    ]);
    let fu_id = server.submit(
        URL_SAFE_NO_PAD
            .decode(fu["envelope"].as_str().unwrap())
            .unwrap(),
    );
    console.ok(&["pull"]);
    let shown = console.ok(&["show", short(&fu_id)]);
    assert!(
        shown.contains("[2] reply from North Constabulary")
            && shown.contains("[3] follow-up")
            && shown.contains("next to the bakery"),
        "{shown}"
    );
}

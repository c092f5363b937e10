//! A report sealed by the reporter page's own crypto module
//! (`web/src/quietline-crypto.js`) under node: pulled and shown by the
//! console, answered, and the reply opened again by the page's module from
//! the reply code alone; a follow-up from node joins the thread.
//!
//! Needs `node` and `web/node_modules`. Building the `quietline` dev-dependency
//! already needs both (its build script runs `npm ci` and builds the page), so
//! under `CI=true` their absence fails the test; elsewhere it prints
//! `SKIPPED` and returns (the Rust-sealed loop in e2e.rs always runs). The
//! rule and the install are the test kit's (`quietline_testkit::node`).

use std::path::PathBuf;
use std::process::Command;

use crate::support::{Console, short};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline_testkit::node::{ensure_node_modules, require, require_node};

fn web() -> PathBuf {
    quietline_testkit::node::web_dir()
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

/// Node.js, npm, the page's packages (installed if missing) and its crypto
/// module; or `false` after `SKIPPED` outside CI (a panic with `CI=true`).
#[track_caller]
fn node_ready() -> bool {
    if !require_node() {
        return false;
    }
    ensure_node_modules();
    require(
        web().join("src/quietline-crypto.js").is_file(),
        "web/src/quietline-crypto.js",
        "check out the whole workspace",
    )
}

#[test]
fn report_sealed_by_the_page_module_under_node() {
    if !node_ready() {
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

/// Issue 17, end to end with the page's own module: a report to force A
/// (north) is transferred to force B (west) on the same platform; B pulls
/// it ("Transferred from"), replies, and the reporter's 12 words open B's
/// reply, which names B; A's case shows "TRANSFERRED"; a follow-up that
/// still reaches A is passed on by A's pull and joins B's case; both audit
/// logs record it.
#[test]
fn a_case_transferred_to_another_force_is_answered_on_the_same_code() {
    if !node_ready() {
        return;
    }
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    server.add_force("west", "Western Demo Police");
    let mut a = Console::new();
    let pk_a = a.init("north");
    server.add_key("north", &pk_a);
    let token = server.token("north", "a");
    a.login(&server.base, &token);
    let mut b = Console::new();
    let pk_b = b.init("west");
    server.add_key("west", &pk_b);
    let token = server.token("west", "b");
    b.login(&server.base, &token);

    let sealed = node(&["seal", "north", &pk_a.to_base64url()]);
    let words = sealed["words"].as_str().unwrap().to_owned();
    a.secrets.push(words.clone());
    b.secrets.push(words.clone());
    let id = server.submit(
        URL_SAFE_NO_PAD
            .decode(sealed["envelope"].as_str().unwrap())
            .unwrap(),
    );
    a.ok(&["pull"]);
    let out = a.ok(&[
        "transfer",
        short(&id),
        "--to",
        "west",
        "--reason",
        "The shop is in the western area",
    ]);
    assert!(
        out.contains("transferred to Western Demo Police (west)")
            && out.contains("Messages passed on: 1"),
        "{out}"
    );
    let shown = a.ok(&["show", short(&id)]);
    assert!(
        shown.contains("status closed")
            && shown.contains("TRANSFERRED to Western Demo Police (west)")
            && shown.contains("The shop is in the western area"),
        "{shown}"
    );
    assert!(
        a.ok(&["list"]).contains("transferred"),
        "the list says transferred"
    );
    let err = a.fails(&["transfer", short(&id), "--to", "west", "--reason", "again"]);
    assert!(err.contains("already transferred"), "{err}");

    let pulled = b.ok(&["pull"]);
    assert!(
        pulled.contains("from North Constabulary (north)"),
        "{pulled}"
    );
    let listed = b.ok(&["list"]);
    let b_id = listed
        .lines()
        .find(|l| l.contains("weapons") || l.contains("Weapons"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{listed}"))
        .to_owned();
    let shown = b.ok(&["show", &b_id]);
    assert!(
        shown.contains("Transferred from North Constabulary (north)")
            && shown.contains("The shop is in the western area")
            && shown.contains("A knife is kept under the counter"),
        "{shown}"
    );
    assert!(
        b.ok(&["reply", &b_id, "--message", "We are on it."])
            .contains("slot 0")
    );
    // The reporter's words open West's reply, which says who sent it.
    let address = node(&["slot", &words, "0"])["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut addr = [0u8; 32];
    hex::decode_to_slice(&address, &mut addr).unwrap();
    let reply = server.get_slot(&addr).expect("slot 0 holds West's reply");
    let opened = node(&["open", &words, &URL_SAFE_NO_PAD.encode(reply)]);
    assert_eq!(opened["message"], "We are on it.");
    assert_eq!(opened["from"], "Western Demo Police");
    assert_eq!(opened["force"], "west");

    // A follow-up the page still sends to North reaches West's case.
    let fu = node(&[
        "follow-up",
        "north",
        &pk_a.to_base64url(),
        &words,
        "The one next to the bakery.",
    ]);
    server.submit(
        URL_SAFE_NO_PAD
            .decode(fu["envelope"].as_str().unwrap())
            .unwrap(),
    );
    a.ok(&["pull"]);
    assert!(
        a.ok(&["show", short(&id)])
            .contains("messages passed on: 2")
    );
    b.ok(&["pull"]);
    let shown = b.ok(&["show", &b_id]);
    assert!(
        shown.contains("follow-up") && shown.contains("next to the bakery"),
        "{shown}"
    );

    let audit_a = a.ok(&["audit"]);
    assert!(
        audit_a.contains("transfer") && audit_a.contains("to west (Western Demo Police)"),
        "{audit_a}"
    );
    assert!(audit_a.contains("forward"), "{audit_a}");
    assert!(
        !audit_a.contains("western area"),
        "the reason stays sealed: {audit_a}"
    );
    let audit_b = b.ok(&["audit"]);
    assert!(
        audit_b.contains("transfer-in") && audit_b.contains("from North Constabulary (north)"),
        "{audit_b}"
    );
}

//! The desk's sign-in in a real browser: Debian's Chromium
//! (`/usr/bin/chromium`) driven by `desk/e2e/sign_in.mjs` through
//! playwright-core (the reporter page's e2e packages and helpers in `web/`
//! are reused), against a real desk on 127.0.0.1:0: first sign-in with the
//! one-time password, new password, TOTP enrolment from the page, the code,
//! the account and custody pages, sign out, sign in again, lock the desk;
//! axe-core (WCAG 2.2 AA) on every page, no request to another origin, no
//! CSP violation. Screenshots of the sign-in and enrolment pages go to
//! `docs/screenshots/`.
//!
//! Without Node.js or Chromium this prints `SKIPPED` outside CI and fails
//! with `CI=true`. Every test name starts with `browser_` (CI counts them).

use quietline_casework::desk::Role;
use serde_json::json;

use crate::support::{T0, TestDesk};
use quietline_testkit::node::{desk_e2e_ok, ensure_node_modules, require_node_and_chromium};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_sign_in() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let td = TestDesk::start().await;
    let one_time = td.add("ann", Role::Custodian).await;
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let result = desk_e2e_ok(
        "sign_in.mjs",
        &td.base,
        &json!({
            "account": "ann",
            "oneTime": one_time,
            "newPassword": "ann's long new password",
            "clock": T0,
            "screenshots": shots.canonicalize().unwrap(),
        }),
        tmp.path(),
    )
    .await;
    let pages = result["pages"].as_array().unwrap();
    assert!(pages.len() >= 10, "{result}");
    assert!(td.desk.is_locked(), "the custodian locked the desk");
    for shot in ["desk-sign-in.png", "desk-enrol.png"] {
        let meta = std::fs::metadata(shots.join(shot)).unwrap();
        assert!(meta.len() > 10_000, "{shot}");
    }
    td.stop().await;
}

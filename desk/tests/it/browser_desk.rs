//! The desk's work pages in a real browser: Debian's headless Chromium
//! (`/usr/bin/chromium`) driven by the playwright-core scripts in
//! `desk/e2e/work*.mjs`, against a desk served here in-process and a REAL
//! intake server in-process (the test kit's), with reports sealed to the
//! force by reporters who keep their reply secrets ([`crate::work::Work`]).
//!
//! - two handlers signed in at once (password and TOTP): pull, search by a
//!   vehicle registration, take a case, the other sees it assigned, both
//!   reply at once — exactly one reply reaches the reporter's slot; then a
//!   reporter's follow-up re-opens the case;
//! - axe-core (WCAG 2.2 AA) finds no violation on any desk page, and the
//!   headings are in order;
//! - the queue and the reply form by keyboard alone;
//! - in every script, every request URL is recorded and none leaves the
//!   desk's origin (and Chromium resolves nothing but loopback).
//!
//! Screenshots of the queue and case pages go to `docs/screenshots/`.
//! The scripts reuse the reporter page's harness and tools
//! (`web/e2e/lib.mjs`, playwright-core and axe-core from `web/`'s lock
//! file, installed by the server's build). Without Node.js or Chromium
//! these print `SKIPPED` outside CI and fail with `CI=true`. Every test name
//! starts with `browser_desk_` (CI counts `browser_` tests).

use std::path::{Path, PathBuf};

use quietline_casework::desk::Role;
use quietline_crypto::payload::Payload;
use serde_json::{Value, json};

use crate::support::*;
use crate::work::{Reporter, Work};
use quietline_testkit::node::{desk_e2e_ok, ensure_node_modules, require_node_and_chromium};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

/// A desk and an intake server for a browser test, or `None` when the browser
/// tests cannot run (SKIPPED outside CI, a failure in CI).
pub(crate) async fn start() -> Option<Work> {
    if !require_node_and_chromium() {
        return None;
    }
    ensure_node_modules();
    Some(Work::start().await)
}

/// Run `desk/e2e/<name>` against the desk (TMPDIR of its own) and check that
/// every request it made stayed on the desk's origin; its result line.
pub(crate) async fn script(w: &Work, name: &str, input: &Value) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let result = desk_e2e_ok(name, &w.td.base, input, tmp.path()).await;
    same_origin(&result, &w.td.base);
    result
}

/// `docs/screenshots/`, made if missing, for a script to write into.
pub(crate) fn screenshots() -> PathBuf {
    let shots = workspace().join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    shots.canonicalize().unwrap()
}

/// Each of `names` in `shots` is a real screenshot (more than 10 kB).
pub(crate) fn assert_screenshots(shots: &Path, names: &[&str]) {
    for shot in names {
        assert!(
            std::fs::metadata(shots.join(shot)).unwrap().len() > 10_000,
            "{shot}"
        );
    }
}

/// Every recorded request went to the desk's origin.
fn same_origin(result: &Value, base: &str) {
    let requests = result["requests"]
        .as_array()
        .expect("the requests were recorded");
    assert!(!requests.is_empty());
    for r in requests {
        let r = r.as_str().unwrap();
        let url = r.split_once(' ').map_or(r, |(_, u)| u);
        assert!(
            url.starts_with(&format!("{base}/")),
            "a request left the desk's origin: {r}"
        );
    }
}

/// An account signed up (password changed, TOTP set up) for a script to sign in as.
struct Account {
    name: &'static str,
    password: String,
    secret: Vec<u8>,
}

impl Account {
    async fn new(w: &Work, name: &'static str, role: Role) -> Account {
        let (_, password, secret) = signed_in(&w.td, name, role).await;
        Account {
            name,
            password,
            secret,
        }
    }

    /// Its sign-in for a script: password and the current code.
    fn login(&self, w: &Work) -> Value {
        json!({"account": self.name, "password": self.password, "code": w.td.code(&self.secret)})
    }
}

/// The report most tests pull: dealing from a car, with its registration.
fn silver_car(reporter: &Reporter) -> Payload {
    reporter.report(
        "en",
        "drugs",
        "Dealing from a silver Ford Focus behind the Co-op",
        "AB12 CDE",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_two_handlers_one_reply_reaches_the_reporter_and_a_follow_up_reopens_the_case()
{
    let Some(w) = start().await else {
        return;
    };
    let reporter = Reporter::new();
    w.submit(&silver_car(&reporter)).await;
    w.submit(&Reporter::new().report("cy", "theft", "Beiciau wedi eu dwyn o'r sied", "CY70 ABC"))
        .await;
    w.submit(&Reporter::new().report(
        "en",
        "fraud",
        "Fake invoices sent to the care home",
        "XY19 ZZZ",
    ))
    .await;
    let ann = Account::new(&w, "ann", Role::Handler).await;
    let bob = Account::new(&w, "bob", Role::Handler).await;
    let shots = screenshots();
    let replies = json!({
        "ann": "Thank you. Where exactly does the car park?",
        "bob": "Thank you. Which nights does this happen?",
    });
    let result = script(
        &w,
        "work_two_handlers.mjs",
        &json!({
            "ann": ann.login(&w),
            "bob": bob.login(&w),
            "registration": "AB12 CDE",
            "replies": replies,
            "screenshots": shots,
        }),
    )
    .await;
    let sent = result["sent"].as_str().unwrap();
    let case_id = result["caseId"].as_str().unwrap().to_owned();
    // Exactly one reply reached the reporter's slot: the one the page said was sent.
    assert_eq!(
        w.slot(&reporter, 0).await.as_deref(),
        replies[sent].as_str()
    );
    assert_eq!(
        w.slot(&reporter, 1).await,
        None,
        "the other reply was not sent"
    );
    assert_screenshots(&shots, &["desk-queue.png", "desk-case.png"]);

    // The reporter follows up: the closed case is new work again.
    let message = "He was back last night with a second car";
    w.submit(&reporter.follow_up(message)).await;
    w.td.clock.advance(30);
    script(
        &w,
        "work_follow_up.mjs",
        &json!({"ann": ann.login(&w), "caseId": case_id, "message": message}),
    )
    .await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_every_page_passes_axe_with_headings_in_order() {
    let Some(w) = start().await else {
        return;
    };
    w.submit(&Reporter::new().report(
        "en",
        "drugs",
        "Dealing from a car\nevery Friday",
        "AB12 CDE",
    ))
    .await;
    w.submit(&Reporter::new().report("cy", "theft", "Beiciau wedi eu dwyn", "CY70 ABC"))
        .await;
    let sue = Account::new(&w, "sue", Role::Supervisor).await;
    let bob = Account::new(&w, "bob", Role::Handler).await;
    let result = script(
        &w,
        "work_a11y.mjs",
        &json!({
            "sue": sue.login(&w),
            "bob": bob.login(&w),
            "registration": "AB12 CDE",
        }),
    )
    .await;
    let pages = result["pages"].as_array().unwrap();
    assert!(pages.len() >= 20, "{pages:?}");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_keyboard_only_queue_and_reply() {
    let Some(w) = start().await else {
        return;
    };
    let reporter = Reporter::new();
    w.submit(&reporter.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let ann = Account::new(&w, "ann", Role::Handler).await;
    let reply = "Thank you, typed without a mouse.";
    script(
        &w,
        "work_keyboard.mjs",
        &json!({"ann": ann.login(&w), "reply": reply}),
    )
    .await;
    assert_eq!(w.slot(&reporter, 0).await.as_deref(), Some(reply));
    w.stop().await;
}

/// Issue 17 in the browser: triage with THRIVE and priority, grading 3x5x2
/// with its error states, RE-THRIVE, the queue's grading and time left;
/// axe-clean; screenshots `docs/screenshots/desk-intel-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_intel_triage_grade_and_re_thrive_are_axe_clean() {
    let Some(w) = start().await else {
        return;
    };
    w.submit(&silver_car(&Reporter::new())).await;
    let ann = Account::new(&w, "ann", Role::Handler).await;
    // The custodian made the force's export key; the records team pinned it.
    let key =
        w.td.desk
            .create_export_key(&handler("cas", Role::Custodian))
            .await
            .unwrap();
    let pinned = quietline_casework::intel::report::parse_public_key(&key.public_key).unwrap();
    let shots = screenshots();
    let result = script(
        &w,
        "work_intel.mjs",
        &json!({ "ann": ann.login(&w), "screenshots": shots }),
    )
    .await;
    let id = result["caseId"].as_str().unwrap().to_owned();
    // What the browser did is what the library holds.
    let view = case_view(&w.td.desk, &id).await;
    assert_eq!(view.intel.grading().unwrap().code(), "1 B C");
    assert_eq!(view.intel.thrives.len(), 2);
    assert!(view.intel.thrives[1].reassessment);
    assert_eq!(view.priority, quietline_casework::desk::Priority::Low);
    // What the browser downloaded verifies against the pinned key, holds the
    // chosen line and no other reporter text.
    for key in ["exported", "printable"] {
        let text = result[key].as_str().unwrap();
        let file = quietline_casework::intel::report::verify(text.as_bytes(), Some(&pinned))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(file.report.grading.code, "1 B C");
        assert_eq!(file.report.protective_marking, "OFFICIAL-SENSITIVE");
        assert_eq!(file.report.source_lines.len(), 1);
        assert!(
            !text.contains("silver Ford Focus"),
            "{key}: an unchosen line"
        );
    }
    assert_screenshots(
        &shots,
        &[
            "desk-intel-triage.png",
            "desk-intel-grade.png",
            "desk-intel-case.png",
            "desk-intel-queue.png",
            "desk-intel-report.png",
        ],
    );
    w.stop().await;
}

/// A signed-in supervisor's browser (reqwest) and their account for a
/// script, with the case pulled and its id.
async fn supervisor_with_a_case(w: &Work) -> (Browser, Account, String) {
    w.submit(&silver_car(&Reporter::new())).await;
    let (mut sue, password, secret) = signed_in(&w.td, "sue", Role::Supervisor).await;
    crate::work::pull(&mut sue, 1).await;
    let id = crate::work::case_links(&sue.get("/?view=all").await.body).remove(0);
    let account = Account {
        name: "sue",
        password,
        secret,
    };
    (sue, account, id)
}

/// Issue 17 in the browser: a closed case due for its retention review,
/// kept with a new date, then deleted; axe-clean; screenshots
/// `docs/screenshots/desk-intel-review-due.png`, `desk-intel-retention.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_intel_retention_review_keep_and_delete_are_axe_clean() {
    let Some(w) = start().await else {
        return;
    };
    let (mut browser, sue, id) = supervisor_with_a_case(&w).await;
    browser
        .submit(
            &format!("/cases/{id}"),
            &format!("/cases/{id}/status"),
            &[("status", "closed")],
        )
        .await;
    // Six years and a day after closure: the review is due.
    w.td.clock.advance((6 * 366 + 1) * 86_400);
    let shots = screenshots();
    script(
        &w,
        "work_intel_retention.mjs",
        &json!({ "sue": sue.login(&w), "caseId": id, "screenshots": shots }),
    )
    .await;
    assert!(w.td.vault.envelope(&id).await.unwrap().is_none(), "deleted");
    assert_screenshots(
        &shots,
        &["desk-intel-review-due.png", "desk-intel-retention.png"],
    );
    w.stop().await;
}

/// Issue 17 in the browser: a supervisor discloses a sanitised report to a
/// partner; the downloaded file verifies and carries the conditions;
/// axe-clean; screenshot `docs/screenshots/desk-intel-disclose.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_intel_disclose_to_a_partner_is_axe_clean() {
    let Some(w) = start().await else {
        return;
    };
    let (_, sue, id) = supervisor_with_a_case(&w).await;
    let cas = handler("cas", Role::Custodian);
    let key = w.td.desk.create_export_key(&cas).await.unwrap();
    graded_with_a_report(&w.td.desk, &cas, &id).await;
    let shots = screenshots();
    let result = script(
        &w,
        "work_intel_disclose.mjs",
        &json!({ "sue": sue.login(&w), "caseId": id, "screenshots": shots }),
    )
    .await;
    let pinned = quietline_casework::intel::report::parse_public_key(&key.public_key).unwrap();
    let text = result["disclosed"].as_str().unwrap();
    let file = quietline_casework::intel::report::verify(text.as_bytes(), Some(&pinned)).unwrap();
    let d = file
        .report
        .disclosure
        .expect("the disclosure is in the file");
    assert_eq!(d.partner, "Local authority safeguarding team");
    assert_eq!(
        d.handling_conditions,
        "Not to be shared further without the force's consent"
    );
    assert!(!text.contains("silver Ford Focus"));
    assert_screenshots(&shots, &["desk-intel-disclose.png"]);
    w.stop().await;
}

/// The key alarm (issue 20, part 4) in Chromium: a key swapped in the intake
/// server's database stops the pull and raises the alarm; the supervisor's
/// banner on every page (axe-clean), the handler's plainer notice, the
/// acknowledgement; screenshot `docs/screenshots/desk-key-alarm.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_key_alarm() {
    let Some(w) = start().await else {
        return;
    };
    let sam = Account::new(&w, "sam", Role::Supervisor).await;
    let ann = Account::new(&w, "ann", Role::Handler).await;
    let (_, theirs) =
        quietline_crypto::keys::generate_keypair(&mut quietline_testkit::server::rng());
    quietline::admin::add_force_key(w.server.storage.as_ref(), FORCE_ID, &theirs)
        .await
        .unwrap();
    let supervisor = handler("sam", Role::Supervisor);
    assert!(w.td.desk.pull_now(&supervisor).await.is_err());
    assert!(w.td.desk.key_alarm().is_some());
    let shots = screenshots();
    script(
        &w,
        "work_key_alarm.mjs",
        &json!({
            "sam": sam.login(&w),
            "ann": ann.login(&w),
            "screenshots": shots,
        }),
    )
    .await;
    assert!(w.td.desk.key_alarm().is_none(), "acknowledged");
    assert_screenshots(&shots, &["desk-key-alarm.png"]);
    w.stop().await;
}

/// Issue 17: a supervisor transfers a case to another force through the
/// form, its check step and the transfer, in Chromium; every page of it
/// (errors included) is axe-clean with headings in order, and the library
/// then holds the case as transferred.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_transfer_form_check_and_case_are_axe_clean() {
    let Some(w) = start().await else {
        return;
    };
    w.server.add_force("west", "Western Police").await;
    let id = w
        .submit(&Reporter::new().report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let sue = Account::new(&w, "sue", Role::Supervisor).await;
    let result = script(
        &w,
        "work_transfer.mjs",
        &json!({
            "sue": sue.login(&w),
            "caseId": id,
            "toName": "Western Police",
            "reason": "It happened in the western area",
        }),
    )
    .await;
    assert_eq!(result["pages"].as_array().unwrap().len(), 5, "{result}");
    let view = case_view(&w.td.desk, &id).await;
    let to = view.transfer.to.expect("transferred");
    assert_eq!(
        (to.to.as_str(), to.reason.as_str()),
        ("west", "It happened in the western area")
    );
    w.stop().await;
}

/// Issue 19 in the browser: a photo attached to a report is drawn inline on
/// the case page under the desk's CSP, with the hidden details named;
/// axe-clean; screenshot `docs/screenshots/desk-attachment.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_attachment_photo_is_shown_inline() {
    let Some(w) = start().await else {
        return;
    };
    let photo = quietline_testkit::blobs::png_with_text(480, 320);
    let sealed = quietline_testkit::blobs::seal(&photo, "image/png");
    let doc = quietline_testkit::blobs::seal(b"%PDF-1.4 a statement", "application/pdf");
    let photo_id =
        quietline_testkit::blobs::upload(&w.server.http, &w.server.base, FORCE_ID, &sealed.blob)
            .await;
    let doc_id =
        quietline_testkit::blobs::upload(&w.server.http, &w.server.base, FORCE_ID, &doc.blob).await;
    let mut payload =
        Reporter::new().report("en", "theft", "Bikes taken from the shed", "BK19 ABC");
    if let quietline_crypto::payload::Payload::Report(r) = &mut payload {
        r.attachments = vec![
            serde_json::from_value(sealed.entry(
                &photo_id,
                &["location", "device", "time", "text"],
                &["location", "device", "time"],
            ))
            .unwrap(),
            serde_json::from_value(doc.entry(&doc_id, &[], &[])).unwrap(),
        ];
    }
    w.submit(&payload).await;
    let ann = Account::new(&w, "ann", Role::Handler).await;
    let shots = screenshots();
    let result = script(
        &w,
        "work_attachment.mjs",
        &json!({"ann": ann.login(&w), "screenshots": shots}),
    )
    .await;
    assert_eq!(result["width"], 480);
    w.stop().await;
}

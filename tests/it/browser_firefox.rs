//! Tor Browser's "Safer" level can send (issue 18, part 2): Debian's Firefox
//! ESR (`/usr/bin/firefox-esr`, never a downloaded browser) with the "Safer"
//! JavaScript preferences (no Ion, no baseline JIT, no native regular
//! expressions, no WebAssembly), driven by puppeteer-core over WebDriver BiDi
//! (`web/e2e/firefox-safer-send.mjs`), sends a report through the page to a
//! real server (SQLite, 127.0.0.1:0) with proof of work at its default
//! floor. The stored envelope opens with the force's key to what was typed,
//! and the proof it was sent with solves its challenge over exactly those
//! bytes.
//!
//! Without Node.js or Firefox ESR this prints `SKIPPED` outside CI and fails
//! with `CI=true`, like the Chromium tests.

use crate::support::server::{Backend, TestServer, inbox_ids, test_settings};
use quietline::ServerSettings;
use quietline::pow::PowSettings;
use quietline_crypto::envelope::Kind;
use quietline_crypto::open::open;
use quietline_crypto::payload::Payload;
use quietline_crypto::pow;
use quietline_testkit::node::{e2e_ok, ensure_node_modules, require, require_node};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};

/// Debian's Firefox ESR, the only Firefox the tests use.
const FIREFOX: &str = "/usr/bin/firefox-esr";

/// Node.js and Debian's Firefox ESR can run.
#[track_caller]
pub(crate) fn require_node_and_firefox() -> bool {
    require_node()
        && require(
            Path::new(FIREFOX).is_file()
                && Command::new(FIREFOX)
                    .arg("--version")
                    .stdin(Stdio::null())
                    .output()
                    .is_ok_and(|o| o.status.success()),
            FIREFOX,
            "install Debian's Firefox ESR: `apt-get update && apt-get install -y firefox-esr`",
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_firefox_safer_send() {
    if !require_node_and_firefox() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    // Proof of work as a real deployment has it by default.
    let pow_settings = PowSettings::default();
    let s = TestServer::start_with(
        Backend::Sqlite,
        ServerSettings {
            pow: pow_settings,
            ..test_settings()
        },
    )
    .await
    .expect("SQLite is never skipped");
    let force = s.add_force("north-shire", "North Shire Police").await;
    s.add_force("west-dale", "West Dale Constabulary").await;
    let token = s.token("north-shire", "firefox test").await;

    let mut marker = [0u8; 8];
    getrandom::fill(&mut marker).unwrap();
    let details = format!(
        "SAFER-CANARY-{} Boxes unloaded at night behind the café.",
        hex::encode(marker)
    );
    let sent = e2e_ok(
        "firefox-safer-send.mjs",
        None,
        &s.base,
        &json!({
            "force": "north-shire",
            "category": "drugs",
            "details": details,
            "where": "Behind the old mill, Canal Street",
            "ongoing": "unknown",
            "how": "saw",
        }),
        tmp.path(),
    )
    .await;
    assert_eq!(sent["safer"], true);
    assert_eq!(sent["words"].as_array().map(Vec::len), Some(12));
    println!(
        "Firefox ESR at \"Safer\": sent in {} ms at {} bits",
        sent["send_ms"], pow_settings.floor
    );

    // Stored once, opaque, and it opens to what was typed.
    let ids = inbox_ids(&s.http, &s.base, &token).await;
    assert_eq!(ids.len(), 1, "one report arrived");
    let res = s
        .http
        .get(s.url(&format!("/api/v1/inbox/{}", ids[0])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let env = res.bytes().await.unwrap().to_vec();
    assert!(
        !env.windows(details.len()).any(|w| w == details.as_bytes()),
        "the stored envelope does not contain the report in the clear"
    );
    let opened = open(&force.private_key, Kind::Report, &env).expect("the envelope opens");
    let Payload::Report(report) = Payload::from_json(&opened).expect("a v1 payload") else {
        panic!("a report payload");
    };
    assert_eq!(report.report.details, details);
    assert_eq!(report.report.category, "drugs");
    assert_eq!(report.report.how_known, "saw");

    // The proof: the server's default floor, solved over exactly these bytes.
    let header = sent["pow"].as_str().expect("the Quietline-Pow header");
    let solution = pow::Solution::parse(header).expect("a well-formed Quietline-Pow header");
    assert_eq!(
        solution.challenge[1], pow_settings.floor,
        "the default floor"
    );
    let digest = pow::digest(
        &solution.challenge,
        &pow::envelope_hash(&env),
        &solution.work,
    );
    assert!(
        pow::leading_zero_bits(&digest) >= u32::from(pow_settings.floor),
        "the work solves the challenge over the stored envelope: {}",
        hex::encode(digest)
    );
    s.stop().await;
}

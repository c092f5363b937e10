//! No metadata from the real page
//! (threat-model/adversaries.md#the-platform-operator-or-an-insider and
//! threat-model/inventory.md).
//!
//! The real `quietline serve` binary (output captured) on SQLite and on
//! PostgreSQL; a report sent through the real page in Debian's headless
//! Chromium whose every request carries a canary `User-Agent`, a canary
//! `X-Forwarded-For` (and `X-Real-IP`, `Forwarded`), followed by a check for
//! replies (the slot fetch) with the same headers; no cookie and no web
//! storage in the browser afterwards. Then every file the server
//! wrote, its whole output, and (PostgreSQL) every row of every table are
//! searched for: the canaries, any IP address other than the server's own
//! listen address and the database host in its start-up lines, the text typed into the page, and the
//! time of day of the run (`HH:MM`, UTC and local) or its Unix seconds.
//!
//! `tests/metadata.rs` does the same with hand-made requests on SQLite; this
//! one proves it for what a real browser sends. Names start with `browser_`
//! (CI counts them); without Node.js or Chromium they print `SKIPPED` outside
//! CI and fail with `CI=true`.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::server::Serve;
use crate::support::server::{Backend, Process, TestDb, admin_ok, rng};
use quietline_testkit::node::{ensure_node_modules, require_node_and_chromium, script_ok, web_dir};
use serde_json::json;
use sqlx::{Connection, Row};

const FORCE_ID: &str = "north-shire";
const FORCE_NAME: &str = "North Shire Police";

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).unwrap();
    hex::encode(b)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn hh_mm(secs: u64) -> String {
    let s = secs % 86_400;
    format!("{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

fn local_hh_mm() -> Option<String> {
    let out = Command::new("date").arg("+%H:%M").output().ok()?;
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned())
}

/// Every file under `dir`, read whole (also `browser_attachments.rs`'s scan).
pub(crate) fn files_of(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_of(&path, out);
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every dotted-quad IPv4 address in `bytes` (as text).
pub(crate) fn ipv4_addresses(bytes: &[u8]) -> Vec<String> {
    let text: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_digit() || b == b'.' {
                b as char
            } else {
                ' '
            }
        })
        .collect();
    text.split_whitespace()
        .filter(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 4
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
        })
        .map(str::to_owned)
        .collect()
}

/// Every row of every table of the PostgreSQL database, as text (each row
/// cast to its text form; `bytea` appears as hex).
pub(crate) async fn dump_postgres(url: &str) -> Vec<u8> {
    let mut conn = sqlx::postgres::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    assert!(
        tables.iter().any(|t| t.ends_with(".reports")),
        "the schema is there: {tables:?}"
    );
    let mut out = Vec::new();
    for t in &tables {
        // The table names come from the catalogue, quoted by quote_ident.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(x AS text) FROM {t} x"
        )))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        out.extend_from_slice(format!("-- {t} ({} rows)\n", rows.len()).as_bytes());
        for r in rows {
            out.extend_from_slice(r.get::<String, _>(0).as_bytes());
            out.push(b'\n');
        }
    }
    let _ = conn.close().await;
    out
}

async fn page_leaves_no_metadata(backend: Backend) {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let started = now_secs();
    let mut local_times: Vec<String> = local_hh_mm().into_iter().collect();
    let data = db.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let url = db.url.replace(
        &db.dir.path().join("quietline.sqlite").display().to_string(),
        &data.join("quietline.sqlite").display().to_string(),
    );

    let (_sk, pk) = quietline_crypto::keys::generate_keypair(&mut rng());
    admin_ok(
        &data,
        Some(&url),
        &["force", "add", FORCE_ID, "--name", FORCE_NAME],
    );
    admin_ok(
        &data,
        Some(&url),
        &[
            "force",
            "key",
            "add",
            FORCE_ID,
            "--public-key",
            &pk.to_base64url(),
        ],
    );

    // Default settings: the access log is on, so what it writes is searched too.
    let server = Process::serve(&data, &["--database-url", &url]);

    let user_agent = format!("QuietlineCanaryUA/{}", random_hex(6));
    let forwarded = {
        let mut b = [0u8; 1];
        getrandom::fill(&mut b).unwrap();
        format!("198.51.100.{}", 1 + b[0] % 250)
    };
    let typed = format!("CANARY-TYPED-{}", random_hex(8));
    let answers = json!({
        "forceName": FORCE_NAME,
        "categoryLabel": "Drugs",
        "details": format!("{typed} Boxes unloaded at night."),
        "where": "Behind the old mill, Canal Street, Northtown",
        "day": "14",
        "month": "3",
        "year": "2024",
        "time": "10:15pm",
        "whenShown": "14 March 2024 at 22:15",
        "ongoingLabel": "Yes",
        "person": { "name": "Big Dave", "description": "Tall, about 40, red jacket" },
        "vehicle": {
            "registration": "AB12 CDE",
            "make_model": "Ford Transit",
            "colour": "White",
            "description": "Dent in the back door",
        },
        "howLabel": "I saw it",
        "howDetails": "I walk past most evenings",
    });
    let input = json!({ "answers": answers, "userAgent": user_agent, "forwardedFor": forwarded });
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/page_metadata.mjs");
    let result = script_ok(web_dir(), &script, None, &server.base, &input, tmp.path()).await;
    assert_eq!(result["status"], 201);
    assert_eq!(result["cookies"], 0, "no cookie");
    assert_eq!(
        result["stored"],
        json!({ "local": 0, "session": 0 }),
        "no storage"
    );
    assert_eq!(
        result["fetchedSlots"], true,
        "the reply check fetched slots"
    );

    let mut sources = Vec::new();
    files_of(&data, &mut sources);
    let captured = server.stop();
    assert!(
        captured.success,
        "{}",
        String::from_utf8_lossy(&captured.stderr)
    );
    files_of(&data, &mut sources);
    if backend == Backend::Postgres {
        sources.push(("the PostgreSQL tables".into(), dump_postgres(&url).await));
    }
    let ended = now_secs();
    local_times.extend(local_hh_mm());

    // The server's own listen address is printed on purpose at start-up
    // (stdout's first line, the `quietline serving` log line); nothing else may
    // hold an address.
    let listen = server_addr(&captured.stdout);
    // Likewise the database server's host in the (credential-free) start-up
    // line `location=postgres://user@HOST:PORT/db`.
    let db_host = url
        .split_once('@')
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|_| backend == Backend::Postgres)
        .map(|h| format!("@{h}/"));
    let scrub = |bytes: &[u8]| -> Vec<u8> {
        let mut text = String::from_utf8_lossy(bytes).replace(&listen, "<listen address>");
        if let Some(h) = &db_host {
            text = text.replace(h.as_str(), "@<database host>/");
        }
        text.into_bytes()
    };
    sources.push(("stdout".into(), scrub(&captured.stdout)));
    sources.push(("stderr".into(), scrub(&captured.stderr)));

    let mut needles: Vec<String> = vec![
        user_agent.clone(),
        "QuietlineCanaryUA".into(),
        forwarded.clone(),
        typed.clone(),
        "Big Dave".into(),
        "HeadlessChrome".into(),
        "Mozilla/".into(),
        "::1".into(),
        "::ffff:".into(),
        "localhost".into(),
    ];
    for t in (started..=ended + 1).step_by(30).chain([ended]) {
        needles.push(hh_mm(t));
    }
    needles.extend(local_times);
    for t in started..=ended {
        needles.push(t.to_string());
    }
    let hex_needles: Vec<String> = [&user_agent, &forwarded, &typed]
        .iter()
        .map(|n| hex::encode(n.as_bytes()))
        .collect();
    needles.extend(hex_needles);
    needles.sort();
    needles.dedup();

    let mut found = Vec::new();
    for (name, bytes) in &sources {
        // The server's one deliberate time, the scrubbed migration time,
        // holds "00:00": blank it, or a run just after midnight finds it.
        let cleaned = crate::metadata::without_scrubbed_time(bytes);
        for n in &needles {
            if contains(&cleaned, n.as_bytes()) {
                found.push(format!("{n:?} in {name}"));
            }
        }
        for ip in ipv4_addresses(bytes) {
            found.push(format!("IP address {ip} in {name}"));
        }
    }
    assert!(found.is_empty(), "identifying data was kept: {found:#?}");

    // The search searched something: the access log has a line per request.
    let stderr = String::from_utf8_lossy(&captured.stderr);
    assert!(stderr.contains("/api/v1/challenge"), "{stderr}");
    assert!(stderr.contains("/api/v1/reports"), "{stderr}");
    assert!(stderr.contains("/api/v1/slots/"), "{stderr}");
    db.cleanup().await;
}

/// `127.0.0.1:PORT` from the `listening on http://…` line.
fn server_addr(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("listening on http://"))
        .expect("the first line names the address")
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_page_leaves_no_metadata_sqlite() {
    page_leaves_no_metadata(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_page_leaves_no_metadata_postgres() {
    page_leaves_no_metadata(Backend::Postgres).await;
}

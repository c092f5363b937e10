//! `audit verify` detects an entry edited, deleted or reordered by editing the
//! SQLite file directly; a chain recomputed after an edit, or cut short, is
//! caught against a head kept elsewhere (`--head`).

use crate::support::Console;
use sqlx::{Connection, Row};

/// A console with four audit entries (init and three key rotations).
fn console_with_entries() -> Console {
    let c = Console::new();
    c.init("north");
    for _ in 0..3 {
        c.ok(&["key", "rotate"]);
    }
    let v = c.ok(&["audit", "verify"]);
    assert!(v.contains("The audit log is intact: 4 entries"), "{v}");
    c
}

fn edit(c: &Console, statements: &[&'static str]) {
    crate::support::runtime().block_on(async {
        let url = format!("sqlite://{}", c.vault_path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for s in statements {
            sqlx::query(*s).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    });
}

fn head(c: &Console) -> String {
    let out = c.ok(&["audit", "verify"]);
    out.trim()
        .rsplit("head ")
        .next()
        .unwrap()
        .trim_end_matches('.')
        .to_owned()
}

fn verify_fails(c: &Console, args: &[&str]) -> String {
    let mut a = vec!["audit", "verify"];
    a.extend_from_slice(args);
    let o = c.run(&a);
    assert!(!o.ok, "verify should fail: {o:?}");
    assert_eq!(o.code, Some(1));
    o.stderr
}

#[test]
fn an_edited_entry_is_detected() {
    let c = console_with_entries();
    edit(
        &c,
        &["UPDATE audit SET action = 'key-import' WHERE seq = 2"],
    );
    let e = verify_fails(&c, &[]);
    assert!(
        e.contains("The audit log is NOT intact (4 entries read)"),
        "{e}"
    );
    assert!(
        e.contains("entry 2 was edited: its contents do not match its hash"),
        "{e}"
    );

    let c = console_with_entries();
    edit(
        &c,
        &["UPDATE audit SET os_user = 'someone else' WHERE seq = 1"],
    );
    assert!(verify_fails(&c, &[]).contains("entry 1 was edited"));
}

#[test]
fn a_deleted_entry_is_detected() {
    let c = console_with_entries();
    edit(&c, &["DELETE FROM audit WHERE seq = 2"]);
    let e = verify_fails(&c, &[]);
    assert!(e.contains("entry 2 is missing: deleted"), "{e}");
    assert!(
        e.contains("entry 3 does not follow the entry before it"),
        "{e}"
    );
}

#[test]
fn a_reordered_entry_is_detected() {
    let c = console_with_entries();
    // Swap entries 2 and 3 (their sequence numbers), as an editor would.
    edit(
        &c,
        &[
            "UPDATE audit SET seq = -2 WHERE seq = 2",
            "UPDATE audit SET seq = 2 WHERE seq = 3",
            "UPDATE audit SET seq = 3 WHERE seq = -2",
        ],
    );
    let e = verify_fails(&c, &[]);
    assert!(
        e.contains("entry 2 does not follow the entry before it"),
        "{e}"
    );
    assert!(
        e.contains("entry 2 was edited") && e.contains("entry 3 was edited"),
        "{e}"
    );

    // Or swap their contents and keep the numbers.
    let c = console_with_entries();
    edit(
        &c,
        &[
            "UPDATE audit SET seq = -2 WHERE seq = 2",
            "UPDATE audit SET seq = 2 WHERE seq = 3",
            "UPDATE audit SET seq = 3 WHERE seq = -2",
            "UPDATE audit SET detail = detail || '' WHERE seq IN (2, 3)",
        ],
    );
    assert!(verify_fails(&c, &[]).contains("does not follow"));
}

#[test]
fn a_recomputed_or_truncated_chain_is_caught_by_a_kept_head() {
    let c = console_with_entries();
    let kept = head(&c);
    assert!(
        c.ok(&["audit", "verify", "--head", &kept])
            .contains("intact")
    );

    // Cut the last entry: the rest still chains, but the kept head is gone.
    edit(&c, &["DELETE FROM audit WHERE seq = 4"]);
    assert!(c.ok(&["audit", "verify"]).contains("intact: 3 entries"));
    let e = verify_fails(&c, &["--head", &kept]);
    assert!(
        e.contains(&format!("the head {kept} you kept is not in the chain")),
        "{e}"
    );

    // Edit entry 2 and recompute every hash after it with the published encoding.
    let c = console_with_entries();
    let kept = head(&c);
    crate::support::runtime().block_on(async {
        let url = format!("sqlite://{}", c.vault_path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows = sqlx::query(
            "SELECT seq, at, os_user, handler, action, report_id, detail FROM audit ORDER BY seq",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut prev = quietline_casework::audit::GENESIS.to_owned();
        for r in rows {
            let mut row = quietline_casework::vault::AuditRow {
                seq: r.get("seq"),
                at: r.get("at"),
                os_user: r.get("os_user"),
                handler: r.get("handler"),
                action: r.get("action"),
                report_id: r.get("report_id"),
                detail: r.get("detail"),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            if row.seq == 2 {
                row.action = "forged".into();
            }
            row.hash = quietline_casework::audit::entry_hash(&row);
            sqlx::query("UPDATE audit SET action = ?, prev_hash = ?, hash = ? WHERE seq = ?")
                .bind(&row.action)
                .bind(&row.prev_hash)
                .bind(&row.hash)
                .bind(row.seq)
                .execute(&mut conn)
                .await
                .unwrap();
            prev = row.hash;
        }
        conn.close().await.unwrap();
    });
    assert!(
        c.ok(&["audit", "verify"]).contains("intact"),
        "a recomputed chain passes on its own"
    );
    assert!(verify_fails(&c, &["--head", &kept]).contains("is not in the chain"));
}

/// The audit log's actions, in order.
fn actions(c: &Console) -> Vec<String> {
    crate::support::runtime().block_on(async {
        let url = format!("sqlite://{}", c.vault_path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar("SELECT action FROM audit ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        rows
    })
}

/// A console that pulled one good report and one with flipped bits.
fn console_with_reports() -> (crate::support::Server, Console, String, String) {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut c = Console::new();
    let pk = c.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "h");
    c.login(&server.base, &token);
    let reporter = crate::support::Reporter::new();
    let good = server.submit(reporter.seal("north", &pk, &reporter.report_payload("good")));
    let mut flipped = reporter.seal("north", &pk, &reporter.report_payload("flipped"));
    let n = flipped.len();
    flipped[n - 40] ^= 1;
    let bad = server.submit(flipped);
    c.ok(&["pull"]);
    (server, c, good, bad)
}

#[test]
fn a_refused_export_records_nothing_and_a_failed_one_says_it_failed() {
    let (_server, c, good, bad) = console_with_reports();
    let existing = c.dir.path().join("existing.json");
    std::fs::write(&existing, "keep me").unwrap();
    let before = actions(&c);

    // The file exists: refused before anything is decrypted, nothing recorded.
    let e = c.fails(&[
        "export",
        &good[..8],
        "--reason",
        "test",
        "--output",
        existing.to_str().unwrap(),
    ]);
    assert!(e.contains("never overwritten"), "{e}");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    assert_eq!(actions(&c), before, "a refused export is not an export");

    // It fails after the entry (the report does not decrypt): an entry says so.
    let out = c.dir.path().join("bad.json");
    let e = c.fails(&[
        "export",
        &bad[..8],
        "--reason",
        "test",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("does not decrypt"), "{e}");
    assert!(!out.exists(), "no partial file is left");
    let after = actions(&c);
    assert_eq!(
        after[before.len()..],
        ["export", "export-failed"],
        "{after:?}"
    );
    let log = c.ok(&["audit"]);
    let last = log.lines().last().unwrap();
    assert!(
        last.contains("export-failed") && last.contains("json: report"),
        "{log}"
    );

    // A good export: one entry.
    let out = c.dir.path().join("good.json");
    c.ok(&[
        "export",
        &good[..8],
        "--reason",
        "test",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(actions(&c).last().unwrap(), "export");
    assert!(c.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn an_emptied_log_is_not_intact_when_the_vault_holds_envelopes() {
    let (_server, c, _, _) = console_with_reports();
    edit(&c, &["DELETE FROM audit"]);
    let e = verify_fails(&c, &[]);
    assert!(
        e.contains("the audit log has no entries, but the vault holds 2 envelope(s) and 0 handler record(s): the log was emptied"),
        "{e}"
    );
    // An empty vault with an empty log is intact.
    let fresh = Console::new();
    fresh.init("north");
    edit(&fresh, &["DELETE FROM audit"]);
    assert!(fresh.ok(&["audit", "verify"]).contains("intact: 0 entries"));
}

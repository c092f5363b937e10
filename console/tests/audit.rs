//! `audit verify` detects an entry edited, deleted or reordered by editing the
//! SQLite file directly; a chain recomputed after an edit, or cut short, is
//! caught against a head kept elsewhere (`--head`).

mod support;

use sqlx::{Connection, Row};
use support::Console;

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
    support::runtime().block_on(async {
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
    support::runtime().block_on(async {
        let url = format!("sqlite://{}", c.vault_path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows = sqlx::query(
            "SELECT seq, at, os_user, handler, action, report_id, detail FROM audit ORDER BY seq",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut prev = quietline_console::audit::GENESIS.to_owned();
        for r in rows {
            let mut row = quietline_console::vault::AuditRow {
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
            row.hash = quietline_console::audit::entry_hash(&row);
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

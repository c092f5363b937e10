//! `--vault-url` / `QUIETLINE_VAULT_URL`: the CLI on a PostgreSQL vault (the
//! one a force's desks share), with keys and config still from `--home`.

use sqlx::{AssertSqlSafe, Connection, Row};

use crate::support::{Console, Reporter, runtime, short};

/// Every row of every table of the database, as text (BYTEA as hex).
async fn dump(url: &str) -> String {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut out = String::new();
    for t in tables {
        for r in sqlx::query(AssertSqlSafe(format!(
            "SELECT t::text AS l FROM \"{t}\" AS t"
        )))
        .fetch_all(&mut c)
        .await
        .unwrap()
        {
            out.push_str(&r.get::<String, _>("l"));
            out.push('\n');
        }
    }
    c.close().await.unwrap();
    out
}

#[test]
fn cli_pull_list_note_status_show_audit_on_a_postgres_vault() {
    let rt = runtime();
    let Some(pg) = rt.block_on(quietline_testkit::pg::fresh_database()) else {
        return;
    };
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let pk = console.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "handler-1");
    console.login(&server.base, &token);
    let reporter = Reporter::new();
    let id = server.submit(reporter.seal(
        "north",
        &pk,
        &reporter.report_payload("A grey van at the lock-up; pgword-alpha"),
    ));

    // The URL carries a password (trust auth ignores it): it is never printed.
    let url = pg
        .url()
        .replacen("postgres://postgres@", "postgres://postgres:pw-s3cret@", 1);
    assert_ne!(url, pg.url(), "the test database URL changed shape");
    console.secrets.push("pw-s3cret".to_owned());
    let on_pg = |args: &[&str]| {
        let mut cmd = console.command();
        cmd.env("QUIETLINE_VAULT_URL", &url);
        let out = console.run_with(cmd, args);
        assert!(out.ok, "{args:?} failed: {out:?}");
        out.stdout
    };

    let pulled = on_pg(&["pull"]);
    assert!(
        pulled.contains("Pulled 1 new envelope(s): 1 opened"),
        "{pulled}"
    );
    on_pg(&[
        "--handler",
        "Sgt Jones",
        "note",
        short(&id),
        "pgword-bravo in a note",
    ]);
    on_pg(&["status", short(&id), "triaged"]);
    // The flag form, and a second process seeing the first's state.
    let mut cmd = console.command();
    cmd.args(["--vault-url", &url]);
    let list = console.run_with(cmd, &["list"]);
    assert!(list.ok, "{list:?}");
    assert!(
        list.stdout
            .contains("1 shown of 1 in the vault (0 flagged).")
            && list.stdout.contains("triaged"),
        "{}",
        list.stdout
    );
    let shown = on_pg(&["show", short(&id)]);
    assert!(
        shown.contains("pgword-alpha") && shown.contains("pgword-bravo in a note"),
        "{shown}"
    );
    let verified = on_pg(&["audit", "verify"]);
    assert!(verified.contains("intact"), "{verified}");

    // Everything went to PostgreSQL: the home's own vault (which `init`
    // opened) holds no report.
    let local = console.ok(&["list"]);
    assert!(local.contains("0 shown of 0"), "{local}");

    // The library sees the same state; a dump shows no written text.
    rt.block_on(async {
        let v = quietline_casework::vault::Vault::connect(pg.url())
            .await
            .unwrap();
        assert_eq!(v.counts().await.unwrap(), (1, 0));
        assert_eq!(v.record_count().await.unwrap(), 2);
        v.close().await;
        let d = dump(pg.url()).await;
        assert!(d.contains(&id), "the dump is real");
        for needle in ["pgword", &hex::encode("pgword")] {
            assert!(!d.contains(needle), "{needle} readable in the database");
        }
    });
    rt.block_on(pg.cleanup());
}

//! The console's signing key and key statements (issue 20, part 1;
//! crypto/FORMAT.md#key-statements): `init` makes a signing key beside the
//! ring and signs the first key's statement, `key rotate` signs the next one
//! continuing the chain, and a real platform (the server's admin library on
//! a real database) accepts both and refuses a replayed one. And the force
//! watches (issue 20, part 4): a statement or key it did not sign, written
//! straight into the server's database, fails the next pull with exit code
//! 3, an audit entry and the alarm raised in the vault.

use std::os::unix::fs::PermissionsExt;

use crate::support::Console;
use quietline_crypto::keys::PublicKey;
use quietline_crypto::statement::{SignedStatement, SignerKey, SignerSet, SigningSecret};

fn line_after<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"))
        .trim()
}

#[test]
fn init_signs_and_rotation_continues_the_chain() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let out = console.ok(&["init", "--force", "north"]);
    let pk = PublicKey::from_base64url(line_after(&out, "public key: ")).unwrap();
    let signer = SignerKey::from_base64url(line_after(&out, "signing key: ")).unwrap();
    assert_eq!(line_after(&out, "fingerprint: "), signer.fingerprint());
    let s1_text = line_after(&out, "quietline force key add north --statement ").to_owned();
    let s1 = SignedStatement::from_base64url(&s1_text).unwrap();
    let set = SignerSet::single(signer.clone());
    let st = s1.verify(&set, "north").unwrap();
    assert_eq!(st.public_key, pk);
    assert_eq!(st.sequence, 0);
    st.follows(None).unwrap();

    // The signing key is sealed beside the ring, 0600; the statement kept.
    let signing = console
        .home
        .join("signing")
        .join(format!("{}.key", signer.signer_id()));
    let meta = std::fs::metadata(&signing).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&signing).unwrap();
    assert!(text.starts_with("quietline-signing-key-v1\n"), "{text}");
    let kept = std::fs::read_to_string(
        console
            .home
            .join("statements")
            .join(format!("{:020}.statement", 0)),
    )
    .unwrap();
    assert_eq!(kept.trim(), s1_text);

    server.set_signers("north", &[signer.to_base64url()], 1);
    server.add_statement("north", &s1_text).unwrap();
    let token = server.token("north", "h");
    console.login(&server.base, &token);
    assert!(console.ok(&["pull"]).contains("Pulled 0 new envelope(s)"));

    // Rotation: the next statement, chained to the first.
    let out = console.ok(&["key", "rotate"]);
    let new = PublicKey::from_base64url(line_after(&out, "public key: ")).unwrap();
    let s2_text = line_after(&out, "quietline force key add north --statement ").to_owned();
    let s2 = SignedStatement::from_base64url(&s2_text).unwrap();
    let st2 = s2.verify(&set, "north").unwrap();
    assert_eq!(st2.public_key, new);
    st2.follows(Some(s1.statement())).unwrap();
    // Replaying the first statement is refused by the platform; the second is taken.
    let e = server.add_statement("north", &s1_text).unwrap_err();
    assert!(e.contains("broken_chain"), "{e}");
    server.add_statement("north", &s2_text).unwrap();
    let o = console.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("warning"), "{o:?}");

    let audit = console.ok(&["audit"]);
    assert!(
        audit.contains(&format!("signing key {}", signer.signer_id())),
        "{audit}"
    );
}

/// A console set up the signed way: `init`, the operator registers its
/// signing key and first statement, `login`. Returns the console, its
/// current key and its first statement.
fn signed_console(server: &crate::support::Server) -> (Console, PublicKey, SignedStatement) {
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let out = console.ok(&["init", "--force", "north"]);
    let pk = PublicKey::from_base64url(line_after(&out, "public key: ")).unwrap();
    let signer = SignerKey::from_base64url(line_after(&out, "signing key: ")).unwrap();
    let s1_text = line_after(&out, "quietline force key add north --statement ").to_owned();
    server.set_signers("north", &[signer.to_base64url()], 1);
    server.add_statement("north", &s1_text).unwrap();
    let token = server.token("north", "h");
    console.login(&server.base, &token);
    (
        console,
        pk,
        SignedStatement::from_base64url(&s1_text).unwrap(),
    )
}

/// Run SQL on the server's (SQLite) database behind its back, as someone
/// with access to the platform's database would.
fn tamper(server: &crate::support::Server, sql: &'static str, blob: Vec<u8>) {
    use sqlx::Connection;
    let url = server.db_url();
    crate::support::runtime().block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(sql)
            .bind(blob)
            .execute(&mut conn)
            .await
            .unwrap();
    });
}

/// The key alarm raised in the console's vault, if any (what the desk's
/// banner shows).
fn raised_alarm(console: &Console) -> Option<quietline_casework::watch::ActiveAlarm> {
    let path = console.vault_path();
    crate::support::runtime().block_on(async {
        let vault = quietline_casework::vault::Vault::open(&path).await.unwrap();
        quietline_casework::watch::active(&vault).await.unwrap()
    })
}

#[test]
fn a_statement_the_force_did_not_sign_raises_the_key_alarm() {
    let server = crate::support::start_server();
    let (console, pk, s1) = signed_console(&server);
    // Normal pulls raise nothing.
    let o = console.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("ALARM"), "{o:?}");
    assert_eq!(raised_alarm(&console), None);

    // Someone with the platform's database writes, for the force's own key,
    // a statement signed by a signing key of their own.
    let theirs = SigningSecret::generate(&mut crate::support::rng());
    let forged = SignedStatement::sign(s1.statement().clone(), &[&theirs]).unwrap();
    tamper(
        &server,
        "UPDATE key_statements SET statement = ?1 WHERE force_id = 'north' AND sequence = 0",
        forged.as_bytes().to_vec(),
    );
    let o = console.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(
        o.stderr.contains("KEY ALARM (directory-statement)")
            && o.stderr.contains(&pk.key_id().to_hex())
            && o.stderr.contains("unknown_signer")
            && o.stderr.contains("out of band"),
        "{o:?}"
    );
    let audit = console.ok(&["audit"]);
    assert!(
        audit.contains("key-alarm") && audit.contains("directory-statement"),
        "{audit}"
    );
    let alarm = raised_alarm(&console).expect("the alarm stays raised");
    assert_eq!(alarm.check, "directory-statement");
    // No key material beyond public ids in the alarm.
    assert!(!alarm.detail.contains(&pk.to_base64url()), "{alarm:?}");
}

#[test]
fn a_key_swapped_in_the_servers_database_raises_the_key_alarm() {
    let server = crate::support::start_server();
    let (console, pk, s1) = signed_console(&server);
    assert!(console.run(&["pull"]).ok);
    // A key of someone else's, with a statement they signed, chained after
    // the force's, straight through the server's storage.
    let mut rng = crate::support::rng();
    let theirs = SigningSecret::generate(&mut rng);
    let (_, their_pk) = quietline_crypto::keys::generate_keypair(&mut rng);
    let st = s1.statement().next(
        their_pk.clone(),
        s1.statement().valid_from,
        s1.statement().valid_until,
    );
    let forged = SignedStatement::sign(st, &[&theirs]).unwrap();
    server
        .block_on(server.storage.add_signed_force_key(
            "north",
            their_pk.to_bytes(),
            quietline::storage::StoredStatement {
                sequence: 1,
                key_id: their_pk.key_id().0,
                statement: forged.as_bytes().to_vec(),
            },
        ))
        .unwrap();
    let o = console.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(o.stderr.contains("KEY SUBSTITUTION"), "{o:?}");
    let alarm = raised_alarm(&console).expect("the alarm stays raised");
    assert_eq!(alarm.check, "directory-key");
    assert!(
        alarm.detail.contains(&their_pk.key_id().to_hex())
            && alarm.detail.contains(&pk.key_id().to_hex()),
        "{alarm:?}"
    );
}

/// Run several SQL statements on the server's (SQLite) database, as someone
/// with the platform's database would (dropping the log's triggers first
/// where they stand in the way).
fn tamper_all(server: &crate::support::Server, sqls: &[&'static str], blob: Option<Vec<u8>>) {
    use sqlx::Connection;
    let url = server.db_url();
    crate::support::runtime().block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for sql in sqls {
            let q = sqlx::query(*sql);
            let q = match (&blob, sql.contains("?1")) {
                (Some(b), true) => q.bind(b.clone()),
                _ => q,
            };
            q.execute(&mut conn).await.unwrap();
        }
    });
}

/// Point the console's config at another server (the same token works on
/// an instance sharing the database).
fn point_at(console: &Console, base: &str) {
    let path = console.home.join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("server = "))
        .unwrap()
        .to_owned();
    std::fs::write(&path, text.replace(&line, &format!("server = \"{base}\""))).unwrap();
}

/// The checkpoint the console's vault keeps, if any.
fn kept_checkpoint(console: &Console) -> Option<String> {
    let path = console.vault_path();
    crate::support::runtime().block_on(async {
        let vault = quietline_casework::vault::Vault::open(&path).await.unwrap();
        vault
            .meta(quietline_casework::watch::CHECKPOINT_META)
            .await
            .unwrap()
    })
}

/// A signed console whose force rotated once, both statements registered
/// and pulled: the vault has seen the log at 2 entries.
fn rotated_and_seen(server: &crate::support::Server) -> Console {
    let (console, _, _) = signed_console(server);
    let out = console.ok(&["key", "rotate"]);
    let s2 = line_after(&out, "quietline force key add north --statement ").to_owned();
    server.add_statement("north", &s2).unwrap();
    let o = console.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("warning"), "{o:?}");
    let kept = kept_checkpoint(&console).expect("the pull kept the log's checkpoint");
    assert!(kept.lines().nth(1) == Some("2"), "{kept}");
    assert_eq!(raised_alarm(&console), None);
    console
}

#[test]
fn normal_pulls_keep_the_key_log_checkpoint_and_raise_nothing() {
    let server = crate::support::start_server();
    let console = rotated_and_seen(&server);
    // Another force's statements grow the log: still consistent, still quiet.
    server.add_force("south", "South Police");
    let other = Console::new();
    let out = other.ok(&["init", "--force", "south"]);
    let signer = line_after(&out, "signing key: ").to_owned();
    let st = line_after(&out, "quietline force key add south --statement ").to_owned();
    server.set_signers("south", &[signer], 1);
    server.add_statement("south", &st).unwrap();
    let o = console.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("warning"), "{o:?}");
    assert_eq!(kept_checkpoint(&console).unwrap().lines().nth(1), Some("3"));
    assert_eq!(raised_alarm(&console), None);
    assert!(!console.ok(&["audit"]).contains("key-alarm"));
}

#[test]
fn a_key_log_rewritten_after_a_checkpoint_was_seen_raises_the_key_alarm() {
    let server = crate::support::start_server();
    let console = rotated_and_seen(&server);
    // The first leaf changed in place: same size, another root.
    tamper_all(
        &server,
        &[
            "DROP TRIGGER keylog_entries_no_update",
            "UPDATE keylog_entries SET entry = CAST(entry || x'00' AS BLOB) WHERE idx = 0",
        ],
        None,
    );
    // The running server caches the entries it read (the log only grows):
    // the rewritten history is served once it restarts, or by another
    // instance on the same database.
    let server = server.another_instance(crate::support::server_settings());
    point_at(&console, &server.base);
    let o = console.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(
        o.stderr.contains("KEY ALARM (log-inconsistent)")
            && o.stderr.contains("history was rewritten"),
        "{o:?}"
    );
    assert_eq!(raised_alarm(&console).unwrap().check, "log-inconsistent");
    assert!(console.ok(&["audit"]).contains("log-inconsistent"));
    // The kept checkpoint stays the one seen before: every later pull
    // raises the alarm again.
    assert_eq!(kept_checkpoint(&console).unwrap().lines().nth(1), Some("2"));
    assert_eq!(console.run(&["pull"]).code, Some(3));
}

#[test]
fn a_key_log_that_lost_entries_raises_the_key_alarm() {
    let server = crate::support::start_server();
    let console = rotated_and_seen(&server);
    tamper_all(
        &server,
        &[
            "DROP TRIGGER keylog_entries_no_delete",
            "DELETE FROM keylog_entries WHERE idx = 1",
        ],
        None,
    );
    let o = console.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(o.stderr.contains("KEY ALARM (log-shrunk)"), "{o:?}");
    assert_eq!(raised_alarm(&console).unwrap().check, "log-shrunk");
}

#[test]
fn a_logged_statement_the_force_did_not_sign_raises_the_key_alarm() {
    let server = crate::support::start_server();
    let (console, _, s1) = signed_console(&server);
    assert!(console.run(&["pull"]).ok);
    // Appended to the log for the force, signed by someone else's key; the
    // directory still serves the force's own key and statement.
    let theirs = SigningSecret::generate(&mut crate::support::rng());
    let (_, their_pk) = quietline_crypto::keys::generate_keypair(&mut crate::support::rng());
    let st = s1.statement().next(
        their_pk,
        s1.statement().valid_from,
        s1.statement().valid_until,
    );
    let forged = SignedStatement::sign(st, &[&theirs]).unwrap();
    tamper_all(
        &server,
        &[
            "PRAGMA foreign_keys = OFF",
            "INSERT INTO keylog_entries (idx, force_id, sequence, entry) VALUES ((SELECT count(*) FROM keylog_entries), 'north', 1, ?1)",
        ],
        Some(forged.as_bytes().to_vec()),
    );
    let o = console.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(
        o.stderr.contains("KEY ALARM (log-foreign)")
            && o.stderr.contains(&theirs.public_key().signer_id().to_hex()),
        "{o:?}"
    );
    assert_eq!(raised_alarm(&console).unwrap().check, "log-foreign");
}

#[test]
fn the_forces_statement_missing_from_the_key_log_raises_the_key_alarm() {
    let server = crate::support::start_server();
    let (console, _, _) = signed_console(&server);
    // Before this vault ever saw the log, its only leaf is gone: the
    // directory serves the force's statement, the log does not hold it.
    tamper_all(
        &server,
        &[
            "DROP TRIGGER keylog_entries_no_delete",
            "DELETE FROM keylog_entries",
        ],
        None,
    );
    let o = console.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(o.stderr.contains("KEY ALARM (log-own-missing)"), "{o:?}");
}

/// A server from before the key log: the directory and an empty inbox only
/// (every `/api/v1/keylog/…` is a 404). Kept alive by the returned runtime.
fn server_without_key_log(pk: &PublicKey) -> (tokio::runtime::Runtime, String) {
    use axum::routing::get;
    let rt = crate::support::runtime();
    let directory = serde_json::json!([{
        "id": "north",
        "name": "North Constabulary",
        "key_id": pk.key_id().to_hex(),
        "public_key": pk.to_base64url(),
    }]);
    let app = axum::Router::new()
        .route(
            "/api/v1/forces",
            get(move || {
                let d = directory.clone();
                async move { axum::Json(d) }
            }),
        )
        .route(
            "/api/v1/inbox",
            get(|| async { axum::Json(serde_json::json!({"reports": [], "next": null})) }),
        );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await });
    (rt, base)
}

#[test]
fn a_server_without_the_key_log_warns_once_then_alarms_once_a_checkpoint_was_seen() {
    let mut console = Console::new();
    let pk = console.init("north");
    let (_rt, base) = server_without_key_log(&pk);
    console.login_offline(&base, "token");
    let o = console.run(&["pull"]);
    assert!(o.ok, "{o:?}");
    assert!(
        o.stderr.contains("warning:") && o.stderr.contains("does not serve the key log"),
        "{o:?}"
    );
    // Once only.
    let o = console.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("key log"), "{o:?}");
    // A vault that kept a checkpoint of the log: the log gone is an alarm.
    let path = console.vault_path();
    crate::support::runtime().block_on(async {
        let vault = quietline_casework::vault::Vault::open(&path).await.unwrap();
        vault
            .set_meta(
                quietline_casework::watch::CHECKPOINT_META,
                Some("example.org/keylog\n1\nAAAA\n"),
            )
            .await
            .unwrap();
    });
    let o = console.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(o.stderr.contains("KEY ALARM (log-not-served)"), "{o:?}");
    assert_eq!(raised_alarm(&console).unwrap().check, "log-not-served");
}

#[test]
fn desk_demo_imports_the_demo_signing_key_and_the_watch_runs_on_the_demo() {
    use std::io::BufRead;
    let server = crate::support::start_server();
    let data = tempfile::tempdir().unwrap();
    let demo = server
        .block_on(quietline::demo::ensure_demo(
            server.storage.as_ref(),
            data.path(),
        ))
        .unwrap();
    let console = Console::new();
    let pass = demo.dir.join("passphrase");
    let mut cmd = console.command_without_passphrase();
    cmd.arg("--passphrase-file")
        .arg(&pass)
        .arg("desk")
        .arg("--demo")
        .arg(&demo.dir)
        .args(["--server", &server.base, "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut printed = Vec::new();
    let started = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            Ok(line) if line.starts_with("Desk for") => break true,
            Ok(line) => printed.push(line),
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(started, "the demo desk did not start: {printed:?}");
    assert!(
        printed
            .iter()
            .any(|l| l.starts_with("Imported signing key") && l.contains("force demo")),
        "{printed:?}"
    );
    // The demo's signing key and statement are the home's now.
    let text = std::fs::read_to_string(demo.dir.join("signing.key")).unwrap();
    let info = quietline_crypto::signing_keyfile::signing_key_file_info(&text).unwrap();
    assert!(
        console
            .home
            .join("signing")
            .join(format!("{}.key", info.signer_id))
            .is_file()
    );
    assert!(
        console
            .home
            .join("statements")
            .join(format!("{:020}.statement", 0))
            .is_file()
    );
    // And the watch checks the demo force's statement and key log: quiet.
    let mut cmd = console.command_without_passphrase();
    cmd.arg("--passphrase-file").arg(&pass);
    let o = console.run_with(cmd, &["pull"]);
    assert!(o.ok && !o.stderr.contains("warning"), "{o:?}");
    assert!(kept_checkpoint(&console).is_some());
    assert_eq!(raised_alarm(&console), None);
}

/// k-of-n across custodians: custodian A's home (the force's ring and one
/// signing key) and custodian B's home (only B's signing-key file, sealed
/// under B's passphrase). The platform holds 2-of-2; a statement A signed
/// alone is refused until B co-signs; A's watch, with `signers.json`,
/// stays quiet; a statement signed by a key outside the set still alarms.
#[test]
fn two_custodians_cosign_and_the_watch_checks_the_signer_set() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut a = Console::new();
    let out = a.ok(&["init", "--force", "north"]);
    let sa = SignerKey::from_base64url(line_after(&out, "signing key: ")).unwrap();
    let s0_alone = line_after(&out, "quietline force key add north --statement ").to_owned();

    // B's signing key, sealed into a file of B's own.
    let b = Console::new();
    let b_secret = SigningSecret::generate(&mut crate::support::rng());
    let sb = b_secret.public_key();
    let sealed = quietline_crypto::signing_keyfile::seal_signing_key_file(
        &mut crate::support::rng(),
        &b_secret,
        "north",
        "2026-12-07",
        crate::support::PASSPHRASE.as_bytes(),
        quietline_crypto::keyfile::KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    let b_file = b.home.with_extension("b-signing.key");
    std::fs::write(&b_file, sealed).unwrap();
    std::fs::set_permissions(&b_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    // A records the 2-of-2 set; the operator registers it.
    let out = a.ok(&[
        "key",
        "signers",
        "--public-key",
        &sa.to_base64url(),
        "--public-key",
        &sb.to_base64url(),
        "--threshold",
        "2",
    ]);
    assert!(
        out.contains(&format!(
            "quietline force signer set north --public-key {} --public-key {} --threshold 2",
            sa.to_base64url(),
            sb.to_base64url()
        )),
        "{out}"
    );
    let meta = std::fs::metadata(a.home.join("signers.json")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    server.set_signers("north", &[sa.to_base64url(), sb.to_base64url()], 2);
    let set = SignerSet::new(vec![sa.clone(), sb.clone()], 2).unwrap();

    // A's first statement, signed by A alone, is refused; B co-signs it.
    let e = server.add_statement("north", &s0_alone).unwrap_err();
    assert!(e.contains("not_enough_signatures"), "{e}");
    let b_path = b_file.to_str().unwrap();
    let out = b.ok(&[
        "key",
        "cosign",
        "--statement",
        &s0_alone,
        "--signing-key",
        b_path,
    ]);
    let s0 = line_after(&out, "quietline force key add north --statement ").to_owned();
    SignedStatement::from_base64url(&s0)
        .unwrap()
        .verify(&set, "north")
        .unwrap();
    // Co-signing twice adds nothing and says so.
    let o = b.run(&["key", "cosign", "--statement", &s0, "--signing-key", b_path]);
    assert!(!o.ok && o.stderr.contains("already carries"), "{o:?}");
    server.add_statement("north", &s0).unwrap();
    let token = server.token("north", "h");
    a.login(&server.base, &token);
    let o = a.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("ALARM"), "{o:?}");
    assert_eq!(raised_alarm(&a), None);

    // A rotates: A's one key is fewer than the threshold, so the statement
    // goes to B, not to the operator.
    let out = a.ok(&["key", "rotate"]);
    assert!(out.contains("needs 1 more signature"), "{out}");
    assert!(
        !out.contains("quietline force key add north --statement"),
        "{out}"
    );
    let s1_alone = line_after(&out, "quietline-console key cosign --statement ").to_owned();
    let e = server.add_statement("north", &s1_alone).unwrap_err();
    assert!(e.contains("not_enough_signatures"), "{e}");
    let file = b.home.with_extension("s1.statement");
    std::fs::write(&file, &s1_alone).unwrap();
    let out = b.ok(&[
        "key",
        "cosign",
        "--statement-file",
        file.to_str().unwrap(),
        "--signing-key",
        b_path,
    ]);
    let s1 = line_after(&out, "quietline force key add north --statement ").to_owned();
    server.add_statement("north", &s1).unwrap();
    // B's home keeps both, so its chain continues.
    for seq in 0..2 {
        let kept = std::fs::read_to_string(
            b.home
                .join("statements")
                .join(format!("{seq:020}.statement")),
        )
        .unwrap();
        assert_eq!(kept.trim(), if seq == 0 { &s0 } else { &s1 });
    }
    let o = a.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("ALARM"), "{o:?}");
    assert_eq!(raised_alarm(&a), None);

    // A statement signed only by a key outside the set still alarms.
    let theirs = SigningSecret::generate(&mut crate::support::rng());
    let forged = SignedStatement::sign(
        SignedStatement::from_base64url(&s1)
            .unwrap()
            .statement()
            .clone(),
        &[&theirs],
    )
    .unwrap();
    tamper(
        &server,
        "UPDATE key_statements SET statement = ?1 WHERE force_id = 'north' AND sequence = 1",
        forged.as_bytes().to_vec(),
    );
    let o = a.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(
        o.stderr.contains("KEY ALARM (directory-statement)") && o.stderr.contains("unknown_signer"),
        "{o:?}"
    );
}

//! Each error the console can meet has a clear message: wrong passphrase,
//! unreadable or too-permissive key file, server unreachable, token revoked,
//! a vault from a newer version, and the smaller ones around them. (Envelopes
//! for a retired or unknown key and taken reply slots are in e2e.rs and
//! hostile.rs, where they arise.)

use std::os::unix::fs::PermissionsExt;

use crate::support::{Console, write_0600};

#[test]
fn wrong_passphrase() {
    let c = Console::new();
    c.init("north");
    let wrong = c.dir.path().join("wrong");
    write_0600(&wrong, "not the passphrase at all\n");
    let mut cmd = c.command_without_passphrase();
    cmd.arg("--passphrase-file").arg(&wrong);
    let o = c.run_with(cmd, &["list"]);
    assert!(!o.ok);
    assert!(
        o.stderr.contains("wrong passphrase for this key file"),
        "{o:?}"
    );
    assert!(o.stderr.starts_with("error: key file "), "{o:?}");
}

#[test]
fn key_file_too_permissive_or_damaged_or_missing() {
    let c = Console::new();
    c.init("north");
    let key = c.key_file();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let e = c.fails(&["list"]);
    assert!(
        e.contains("can be read by other users (mode 0640)")
            && e.contains(&format!("chmod 600 {}", key.display())),
        "{e}"
    );
    let e = c.fails(&["key", "list"]);
    assert!(e.contains("can be read by other users"), "{e}");

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = std::fs::read_to_string(&key).unwrap();
    std::fs::write(&key, text.replacen("secret: ", "secret: AA", 1)).unwrap();
    let e = c.fails(&["list"]);
    assert!(
        e.contains("damaged") && e.contains("restore it from your backup"),
        "{e}"
    );

    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink(c.dir.path().join("nowhere.key"), &key).unwrap();
    let e = c.fails(&["list"]);
    assert!(e.contains("cannot read key file"), "{e}");
}

#[test]
fn empty_ring_not_logged_in_and_init_twice() {
    let c = Console::new();
    let e = c.fails(&["list"]);
    assert!(
        e.contains("is empty: run `quietline-console init --force ID`"),
        "{e}"
    );
    c.init("north");
    let e = c.fails(&["pull"]);
    assert!(
        e.contains("no server configured; run `quietline-console login"),
        "{e}"
    );
    let e = c.fails(&["init", "--force", "north"]);
    assert!(
        e.contains(
            "already has a key ring (1 key(s) of force north); use `quietline-console key rotate`"
        ),
        "{e}"
    );
    let e = c.fails(&["init", "--force", "North Police"]);
    assert!(
        e.contains("is not 1 to 64 characters of a-z, 0-9 and -"),
        "{e}"
    );
    let e = c.fails(&["show", "xyz!"]);
    assert!(e.contains("is not a report id"), "{e}");
    let e = c.fails(&["show", "abcd"]);
    assert!(
        e.contains("no report in the vault has an id starting with \"abcd\""),
        "{e}"
    );
    let e = c.fails(&["list", "--since", "yesterday"]);
    assert!(e.contains("--since takes a day as YYYY-MM-DD"), "{e}");
}

#[test]
fn server_unreachable() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = Console::new();
    c.init("north");
    let token = format!("qlt_{}", "A".repeat(43));
    let tf = c.dir.path().join("token");
    write_0600(&tf, &token);
    c.secrets.push(token);
    let url = format!("http://127.0.0.1:{port}");
    let e = c.fails(&[
        "login",
        "--server",
        &url,
        "--token-file",
        tf.to_str().unwrap(),
    ]);
    assert!(
        e.contains(&format!("cannot reach the server at {url}")),
        "{e}"
    );
    // Saved offline, the pull fails the same way and the vault is untouched.
    c.ok(&[
        "login",
        "--server",
        &url,
        "--token-file",
        tf.to_str().unwrap(),
        "--offline",
    ]);
    // `pull` would wait for it (up to --max-wait): with no wait allowed, it
    // stops at once.
    let e = c.fails(&["pull", "--max-wait", "0"]);
    assert!(
        e.contains(&format!("the server at {url} is still unavailable after waiting 0 s (the connection failed: Connection refused")),
        "{e}"
    );
    assert!(c.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn token_revoked_401_and_token_file_permissions() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut c = Console::new();
    let pk = c.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "desk-1");
    c.login(&server.base, &token);
    assert!(c.ok(&["pull"]).contains("Pulled 0 new"));
    server.revoke("north", "desk-1");
    let e = c.fails(&["pull"]);
    assert!(e.contains("refused the handler token (401: unknown or revoked); ask the platform operator for a new token"), "{e}");
    let tf = c.dir.path().join("token");
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = c.fails(&["pull"]);
    assert!(
        e.contains("can be read by other users (mode 0644)") && e.contains("handler token"),
        "{e}"
    );
    let fresh = server.token("north", "desk-2");
    c.login(&server.base, &fresh);
    assert!(c.ok(&["pull"]).contains("Pulled 0 new"));
}

#[test]
fn vault_from_a_newer_version_is_refused() {
    use quietline_casework::vault::SCHEMA_VERSION;
    let c = Console::new();
    c.init("north");
    let rt = crate::support::runtime();
    rt.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", c.vault_path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE schema_version SET version = $1")
            .bind(SCHEMA_VERSION + 1)
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    let e = c.fails(&["audit"]);
    assert!(
        e.contains(&format!(
            "was written by a newer quietline-console (schema version {}; this one understands up to {SCHEMA_VERSION}); upgrade quietline-console",
            SCHEMA_VERSION + 1
        )),
        "{e}"
    );
    let e = c.fails(&["list"]);
    assert!(e.contains("newer quietline-console"), "{e}");
}

#[test]
fn key_import_checks_passphrase_and_force() {
    use quietline_crypto::keyfile::{KdfParams, seal_key_file};
    let make = |force: &str, pass: &str| {
        let (sk, pk) = quietline_crypto::keys::generate_keypair(&mut crate::support::rng());
        (
            seal_key_file(
                &mut crate::support::rng(),
                &sk,
                force,
                "2026-11-27",
                pass.as_bytes(),
                KdfParams::INSECURE_FOR_TESTS,
            )
            .unwrap(),
            pk,
        )
    };
    let c = Console::new();
    let (text, pk) = make("demo", crate::support::PASSPHRASE);
    let file = c.dir.path().join("force.key");
    write_0600(&file, &text);
    let (other_pass, _) = make("demo", "some other passphrase");
    let other_pass_file = c.dir.path().join("other.key");
    write_0600(&other_pass_file, &other_pass);
    let e = c.fails(&["key", "import", other_pass_file.to_str().unwrap()]);
    assert!(e.contains("wrong passphrase"), "{e}");

    let out = c.ok(&["key", "import", file.to_str().unwrap()]);
    assert!(
        out.contains(&format!("Imported key {} (force demo", pk.key_id()))
            && out.contains("it is the current key"),
        "{out}"
    );
    let e = c.fails(&["key", "import", file.to_str().unwrap()]);
    assert!(e.contains("is already in the key ring"), "{e}");
    let (wrong_force, _) = make("south", crate::support::PASSPHRASE);
    let wf = c.dir.path().join("south.key");
    write_0600(&wf, &wrong_force);
    let e = c.fails(&["key", "import", wf.to_str().unwrap()]);
    assert!(
        e.contains("belongs to force \"south\", but this console is for force \"demo\""),
        "{e}"
    );
    let list = c.ok(&["key", "list"]);
    assert!(
        list.contains(&pk.key_id().to_hex()) && list.contains("demo"),
        "{list}"
    );
    let perms = std::fs::metadata(c.key_file())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(perms, 0o600);
}

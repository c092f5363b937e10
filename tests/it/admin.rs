//! The admin commands, by running the real `quietline` binary against a
//! temporary data directory: forces, keys, tokens (working against a running
//! server, revocation effective at once), key retirement (422), refusal of
//! private keys and bad input, purge, and `serve --demo`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::server::Serve;
use crate::support::server::{
    Process, admin, admin_ok, client, pow_header, random_slot, reply_for, rng,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline::storage::{NewReport, SlotWrite};
use quietline_crypto::keyfile::{KdfParams, seal_key_file};
use quietline_crypto::keys::{PublicKey, generate_keypair};
use quietline_crypto::seal::seal_report;

fn new_key() -> PublicKey {
    generate_keypair(&mut rng()).1
}

async fn status(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn forces_keys_and_tokens_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let out = admin_ok(
        d,
        None,
        &["force", "add", "north", "--name", "North Constabulary"],
    );
    assert!(out.contains("added force north"), "{out}");
    let out = admin_ok(d, None, &["force", "list"]);
    assert_eq!(out, "north\t(no key)\tNorth Constabulary\n");

    // Adding a key prints its key id, alone, on stdout.
    let k1 = new_key();
    let out = admin_ok(
        d,
        None,
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &k1.to_base64url(),
        ],
    );
    assert_eq!(out.trim(), k1.key_id().to_hex());
    let out = admin_ok(d, None, &["force", "list"]);
    assert_eq!(
        out,
        format!("north\t{}\tNorth Constabulary\n", k1.key_id().to_hex())
    );
    let out = admin_ok(d, None, &["force", "key", "list", "north"]);
    assert_eq!(
        out,
        format!("{}\tcurrent\t{}\n", k1.key_id().to_hex(), k1.to_base64url())
    );

    // A token is printed once; the list shows labels only.
    let a = admin(
        d,
        None,
        &["token", "issue", "--force", "north", "--label", "desk 1"],
    );
    assert!(a.ok, "{}", a.stderr);
    let token = a.stdout.trim().to_owned();
    assert!(token.starts_with("qlt_") && token.len() == 47, "{token}");
    assert!(a.stderr.contains("shown once"), "{}", a.stderr);
    let out = admin_ok(d, None, &["token", "list"]);
    assert_eq!(out, "north\tlive\tdesk 1\n");
    let db = std::fs::read(d.join("quietline.sqlite")).unwrap();
    assert!(
        !db.windows(token.len()).any(|w| w == token.as_bytes()),
        "only the token's hash is stored"
    );

    let server = Process::serve(d, &[]);
    let http = client();
    let inbox = server.url("/api/v1/inbox");
    let (s, _) = status(http.get(&inbox).bearer_auth(&token)).await;
    assert_eq!(s, 200, "the issued token works against the server");

    // Rotate: the old key stays accepted until retired, then 422.
    let k2 = new_key();
    admin_ok(
        d,
        None,
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &k2.to_base64url(),
        ],
    );
    let out = admin_ok(d, None, &["force", "key", "list", "north"]);
    assert!(
        out.contains(&format!("{}\tactive", k1.key_id().to_hex())),
        "{out}"
    );
    assert!(
        out.contains(&format!("{}\tcurrent", k2.key_id().to_hex())),
        "{out}"
    );
    let to_k1 = || seal_report(&mut rng(), "north", &k1, b"to the old key").unwrap();
    // Each submission with a proof of work on a challenge of its own.
    let post = async |env: Vec<u8>| {
        let pow = pow_header(&http, &server.base, &env).await;
        status(
            http.post(server.url("/api/v1/reports"))
                .header("content-type", "application/octet-stream")
                .header("quietline-pow", pow)
                .body(env),
        )
        .await
    };
    assert_eq!(post(to_k1()).await.0, 201);
    let out = admin_ok(
        d,
        None,
        &[
            "force",
            "key",
            "retire",
            "north",
            "--key-id",
            &k1.key_id().to_hex(),
        ],
    );
    assert!(out.contains("retired key"), "{out}");
    let (s, body) = post(to_k1()).await;
    assert_eq!((s, body["error"].as_str()), (422, Some("unknown_key")));
    // The current key cannot be retired before another is added.
    let a = admin(
        d,
        None,
        &[
            "force",
            "key",
            "retire",
            "north",
            "--key-id",
            &k2.key_id().to_hex(),
        ],
    );
    assert!(!a.ok);
    assert!(a.stderr.contains("current key"), "{}", a.stderr);

    // Revocation is effective on the server's very next request.
    let out = admin_ok(
        d,
        None,
        &["token", "revoke", "--force", "north", "--label", "desk 1"],
    );
    assert!(out.contains("revoked"), "{out}");
    let (s, body) = status(http.get(&inbox).bearer_auth(&token)).await;
    assert_eq!((s, body["error"].as_str()), (401, Some("unauthorized")));
    assert_eq!(
        admin_ok(d, None, &["token", "list", "--force", "north"]),
        "north\trevoked\tdesk 1\n"
    );

    let captured = server.stop();
    assert!(
        captured.success,
        "{}",
        String::from_utf8_lossy(&captured.stderr)
    );
}

#[test]
fn private_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin_ok(d, None, &["force", "add", "north", "--name", "North"]);
    let (sk, _pk) = generate_keypair(&mut rng());
    let key_file = seal_key_file(
        &mut rng(),
        &sk,
        "north",
        "2026-01-01",
        b"passphrase",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    let key_path = d.join("force.key");
    std::fs::write(&key_path, &key_file).unwrap();

    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIA==\n-----END PRIVATE KEY-----";
    for given in [key_file.as_str(), pem, key_file.lines().next().unwrap()] {
        let a = admin(
            d,
            None,
            &["force", "key", "add", "north", "--public-key", given],
        );
        assert!(!a.ok);
        assert!(
            a.stderr.contains("looks like a private key"),
            "{}",
            a.stderr
        );
        assert!(
            !a.stderr.contains("BEGIN") && !a.stderr.contains("kdf"),
            "no echo: {}",
            a.stderr
        );
    }
    // A path is refused without being read.
    let a = admin(
        d,
        None,
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            key_path.to_str().unwrap(),
        ],
    );
    assert!(!a.ok);
    assert!(a.stderr.contains("not a file name"), "{}", a.stderr);
    assert_eq!(
        admin_ok(d, None, &["force", "key", "list", "north"]),
        "",
        "nothing registered"
    );
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fails = |args: &[&str], phrase: &str| {
        let a = admin(d, None, args);
        assert!(!a.ok, "{args:?} should fail");
        assert!(
            a.stderr.contains(phrase),
            "{args:?}: {:?} lacks {phrase:?}",
            a.stderr
        );
    };
    for bad in ["North", "a_b", "a b", &"a".repeat(65), "ü"] {
        fails(&["force", "add", bad, "--name", "X"], "invalid force id");
    }
    fails(
        &["force", "add", "north", "--name", "  "],
        "invalid force name",
    );
    admin_ok(d, None, &["force", "add", "north", "--name", "North"]);
    fails(
        &["force", "add", "north", "--name", "Again"],
        "already exists",
    );

    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    fails(
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &b64(&[7; 31]),
        ],
        "32 bytes",
    );
    fails(
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &b64(&[7; 33]),
        ],
        "32 bytes",
    );
    fails(
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &b64(&[0; 32]),
        ],
        "all-zero",
    );
    fails(
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            "!!!not-base64!!!",
        ],
        "not base64url",
    );
    fails(
        &[
            "force",
            "key",
            "add",
            "south",
            "--public-key",
            &new_key().to_base64url(),
        ],
        "no force",
    );
    fails(
        &[
            "force",
            "key",
            "add",
            "Bad",
            "--public-key",
            &new_key().to_base64url(),
        ],
        "invalid force id",
    );
    // A key starting with '-' is still a value, not a flag.
    let dashed = loop {
        let k = new_key();
        if k.to_base64url().starts_with('-') {
            break k;
        }
    };
    let out = admin_ok(
        d,
        None,
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &dashed.to_base64url(),
        ],
    );
    assert_eq!(out.trim(), dashed.key_id().to_hex());

    fails(
        &["force", "key", "retire", "north", "--key-id", "xyz"],
        "invalid key id",
    );
    fails(
        &[
            "force",
            "key",
            "retire",
            "north",
            "--key-id",
            "0011223344556677",
        ],
        "no key with that key id",
    );
    fails(
        &["token", "issue", "--force", "south", "--label", "x"],
        "south",
    );
    fails(
        &["token", "issue", "--force", "north", "--label", ""],
        "invalid token label",
    );
    fails(
        &["token", "revoke", "--force", "north", "--label", "nobody"],
        "no token labelled",
    );
    admin_ok(
        d,
        None,
        &["token", "issue", "--force", "north", "--label", "desk"],
    );
    fails(
        &["token", "issue", "--force", "north", "--label", "desk"],
        "already has a token labelled",
    );

    // Settings are checked too.
    let cfg = d.join("quietline.toml");
    std::fs::write(&cfg, "retension_days = 3\n").unwrap();
    fails(
        &["--config", cfg.to_str().unwrap(), "force", "list"],
        "unknown field `retension_days`",
    );
    fails(&["--retention-days", "0", "purge"], "--retention-days");
    fails(
        &["--database-url", "mysql://x/y", "force", "list"],
        "--database-url",
    );
}

#[tokio::test]
async fn purge_deletes_what_is_past_retention() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin_ok(d, None, &["force", "add", "north", "--name", "North"]);
    let key = new_key();
    admin_ok(
        d,
        None,
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &key.to_base64url(),
        ],
    );
    let url = crate::support::pg::sqlite_url(d);
    let today = quietline::day::today();
    let storage = quietline::storage::open(&url).await.unwrap();
    let report = |id: u8, day| NewReport {
        id: [id; 16],
        force_id: "north".into(),
        key_id: key.key_id().0,
        envelope: vec![id; 100],
        day,
        pow: None,
    };
    storage.insert_report(report(1, today - 400)).await.unwrap();
    storage.insert_report(report(2, today)).await.unwrap();
    let (old_slot, new_slot) = (random_slot(), random_slot());
    assert_eq!(
        storage
            .put_slot(old_slot, reply_for(old_slot, b"old"), today - 400)
            .await
            .unwrap(),
        SlotWrite::Stored
    );
    storage
        .put_slot(new_slot, reply_for(new_slot, b"new"), today)
        .await
        .unwrap();
    storage.close().await;

    let out = admin_ok(d, None, &["--retention-days", "90", "purge"]);
    assert!(out.contains("purged 1 reports and 1 reply slots"), "{out}");

    let storage = quietline::storage::open(&url).await.unwrap();
    assert_eq!(storage.report("north", [1; 16]).await.unwrap(), None);
    assert!(storage.report("north", [2; 16]).await.unwrap().is_some());
    assert_eq!(storage.slot(old_slot).await.unwrap(), None);
    assert!(storage.slot(new_slot).await.unwrap().is_some());
    storage.close().await;
    let out = admin_ok(d, None, &["purge"]);
    assert!(out.contains("purged 0 reports and 0 reply slots"), "{out}");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn serve_demo_sets_up_a_working_force_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = data.join("demo");

    let server = Process::serve(&data, &["--demo"]);
    let out = server.stdout_so_far();
    let first = server.stop();
    assert!(first.success);
    let printed = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(out.starts_with("listening on http://127.0.0.1:"), "{out}");
    let home = demo.join("console");
    for expected in [
        format!(
            "cargo run -p quietline-console -- --home {} login --server http://127.0.0.1:",
            home.display()
        ),
        format!("--token-file {}", demo.join("token").display()),
        format!(
            "key import {} --passphrase-file {}",
            demo.join("force.key").display(),
            demo.join("passphrase").display()
        ),
        format!("--home {} pull", home.display()),
        format!("--home {} list", home.display()),
        "quietline-console init".to_owned(),
        "created the demo force".to_owned(),
        // Issue 17: a second demo force to transfer cases to.
        "created `demo-west` (Western Demo Police)".to_owned(),
        format!(
            "--home {} desk --demo {} --server http://127.0.0.1:",
            data.join("demo-west").join("console").display(),
            data.join("demo-west").display()
        ),
        "transfer <ID> --to demo-west --reason".to_owned(),
    ] {
        assert!(
            printed.contains(&expected),
            "missing {expected:?} in:\n{printed}"
        );
    }
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&demo), 0o700);
    for f in [
        "force.key",
        "passphrase",
        "token",
        "public-key",
        "pins.json",
    ] {
        assert_eq!(mode(&demo.join(f)), 0o600, "{f}");
        assert_eq!(mode(&data.join("demo-west").join(f)), 0o600, "{f}");
    }
    // Both forces' signing keys, derived from their ids, pinned in the page's format.
    let pins: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo.join("pins.json")).unwrap()).unwrap();
    for id in ["demo", "demo-west"] {
        let key = quietline::demo::demo_signing_secret(id)
            .public_key()
            .to_base64url();
        assert_eq!(pins["forces"][id]["signers"][0], key.as_str(), "{id}");
    }
    // The console's pins are the page's (web/pins.json, built into the page).
    let page: serde_json::Value = serde_json::from_slice(
        &std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/web/pins.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(pins["forces"], page["forces"]);
    let read = |f: &str| {
        std::fs::read_to_string(demo.join(f))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (key_file, passphrase, token) = (read("force.key"), read("passphrase"), read("token"));
    let public_key = PublicKey::from_base64url(&read("public-key")).unwrap();

    // The key file is the console's format and opens with the passphrase.
    let info = quietline_crypto::keyfile::key_file_info(&key_file).unwrap();
    assert_eq!(info.force_id, "demo");
    assert_eq!(info.public_key, public_key);
    let (_, sk) =
        quietline_crypto::keyfile::open_key_file(&key_file, passphrase.as_bytes()).unwrap();
    assert_eq!(sk.public_key(), public_key);

    // A second start reuses all of it, and it works end to end.
    let server = Process::serve(&data, &["--demo"]);
    let http = client();
    let (s, forces) = status(http.get(server.url("/api/v1/forces"))).await;
    assert_eq!(s, 200);
    assert_eq!(forces[0]["id"], "demo");
    assert_eq!(forces[0]["name"], "Demo Constabulary");
    assert_eq!(forces[0]["key_id"], public_key.key_id().to_hex());
    assert_eq!(forces[1]["id"], "demo-west");
    assert_eq!(forces[1]["name"], "Western Demo Police");
    let env = seal_report(&mut rng(), "demo", &public_key, b"demo report").unwrap();
    let pow = pow_header(&http, &server.base, &env).await;
    let (s, _) = status(
        http.post(server.url("/api/v1/reports"))
            .header("content-type", "application/octet-stream")
            .header("quietline-pow", pow)
            .body(env),
    )
    .await;
    assert_eq!(s, 201);
    let (s, inbox) = status(http.get(server.url("/api/v1/inbox")).bearer_auth(&token)).await;
    assert_eq!(s, 200);
    assert_eq!(inbox["reports"].as_array().unwrap().len(), 1);
    let second = server.stop();
    assert!(second.success);
    assert!(String::from_utf8_lossy(&second.stdout).contains("reusing the demo force"));
    assert_eq!(read("force.key"), key_file);
    assert_eq!(read("token"), token);

    // Without --demo nothing demo-related is printed.
    let server = Process::serve(&data, &[]);
    let third = server.stop();
    assert!(!String::from_utf8_lossy(&third.stdout).contains("quietline-console"));
}

//! The server cannot decrypt (threat-model/adversaries.md#legal-compulsion-of-the-platform,
//! threat-model/adversaries.md#the-platform-operator-or-an-insider, and
//! crypto/FORMAT.md#no-decryption-in-the-server).
//!
//! - The server's normal build does not enable `quietline-crypto`'s `open`
//!   feature and does not depend on the console (the same check `.ci/run`
//!   makes, here so `cargo test` alone catches it).
//! - No server command takes a private key in any format: no option of any
//!   subcommand is named for one, and `force key add --public-key` refuses key
//!   files, their lines, PEM, JWK, hex and DER forms and file names — a path to
//!   a real key file included, which it never reads.
//!   (`tests/admin.rs::private_keys_are_refused` covers the key file text, PEM
//!   and an absolute path; this adds the other shapes.)

use std::path::Path;
use std::process::Command;

use crate::support::server::{admin, admin_ok, command, rng};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use quietline_crypto::keyfile::{KdfParams, seal_key_file};
use quietline_crypto::keys::generate_keypair;

fn cargo_tree(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("tree")
        .arg("--offline")
        .args(args)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn server_build_has_no_open_feature_and_no_console() {
    let tree = cargo_tree(&[
        "-p",
        "quietline",
        "-e",
        "normal,build,features",
        "-i",
        "quietline-crypto",
    ]);
    assert!(
        tree.lines()
            .next()
            .unwrap_or_default()
            .starts_with("quietline-crypto "),
        "the server depends on the crypto crate:\n{tree}"
    );
    assert!(
        !tree.contains("feature \"open\""),
        "the server's normal build enables quietline-crypto's \"open\" feature:\n{tree}"
    );
    let deps = cargo_tree(&["-p", "quietline", "-e", "normal,build", "--prefix", "none"]);
    assert!(
        !deps.lines().any(|l| l.starts_with("quietline-console ")),
        "the server depends on the console:\n{deps}"
    );
    // The check itself is sound: the console's build does show the feature.
    let console = cargo_tree(&[
        "-p",
        "quietline-console",
        "-e",
        "normal,build,features",
        "-i",
        "quietline-crypto",
    ]);
    assert!(
        console.contains("feature \"open\""),
        "the console should enable \"open\" (else this test checks nothing):\n{console}"
    );
}

/// Every subcommand's help: no option is named for a private key, a key file
/// or a secret (the only key option is `--public-key`).
#[test]
fn no_command_has_a_private_key_option() {
    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["force"],
        &["force", "add"],
        &["force", "key"],
        &["force", "key", "add"],
        &["force", "key", "list"],
        &["force", "key", "retire"],
        &["token"],
        &["token", "issue"],
        &["token", "list"],
        &["token", "revoke"],
        &["purge"],
        &["keylog"],
        &["keylog", "show"],
    ];
    let mut options = std::collections::BTreeSet::new();
    for c in commands {
        let out = command().args(*c).arg("--help").output().unwrap();
        assert!(out.status.success(), "{c:?} --help");
        let help = String::from_utf8(out.stdout).unwrap();
        for word in help.split_whitespace() {
            if let Some(opt) = word.strip_prefix("--") {
                let opt = opt.split(['=', ' ', '<', ',']).next().unwrap().to_owned();
                options.insert(opt);
            }
        }
    }
    for opt in &options {
        for bad in [
            "private",
            "secret",
            "key-file",
            "keyfile",
            "passphrase",
            "sk",
        ] {
            assert!(
                !opt.to_ascii_lowercase().contains(bad) || opt == "public-key",
                "--{opt} looks like it takes a private key"
            );
        }
    }
    assert!(options.contains("public-key"), "{options:?}");
}

#[test]
fn private_key_shapes_are_refused_and_files_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin_ok(d, None, &["force", "add", "north", "--name", "North"]);
    let (sk, pk) = generate_keypair(&mut rng());
    let key_file = seal_key_file(
        &mut rng(),
        &sk,
        "north",
        "2026-01-01",
        b"passphrase",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    let secret_line = key_file
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap()
        .to_owned();
    let raw = sk.to_bytes();
    let jwk = format!(
        r#"{{"kty":"OKP","crv":"X25519","d":"{}","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(*raw),
        pk.to_base64url()
    );
    // PKCS#8 DER of an X25519 private key: a 16-byte prefix and the key.
    let mut der = hex::decode("302e020100300506032b656e04220420").unwrap();
    der.extend_from_slice(raw.as_ref());

    // Key files written next to the command, found by relative names.
    std::fs::write(d.join("north.key"), &key_file).unwrap();
    std::fs::write(d.join("northkey"), &key_file).unwrap();

    let shapes: Vec<(&str, String)> = vec![
        ("the whole key file", key_file.clone()),
        ("the key file without its first line", key_file.lines().skip(1).collect::<Vec<_>>().join("\n")),
        ("the secret line", format!("secret: {secret_line}")),
        ("the secret value", secret_line.clone()),
        ("a JWK", jwk),
        ("hex of the private key", hex::encode(*raw)),
        ("PKCS#8 DER, base64", STANDARD.encode(&der)),
        ("PKCS#8 DER, base64url", URL_SAFE_NO_PAD.encode(&der)),
        (
            "an OpenSSH-style block",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----".into(),
        ),
        ("a relative key file name", "north.key".into()),
        ("a ./ path", "./north.key".into()),
        ("a ~ path", "~/north.key".into()),
        ("a file:// URL", format!("file://{}", d.join("north.key").display())),
        ("@file", "@north.key".into()),
        ("a file name without an extension", "northkey".into()),
    ];
    for (what, given) in &shapes {
        let mut cmd = command();
        cmd.current_dir(d)
            .arg("--data-dir")
            .arg(d)
            .args(["force", "key", "add", "north", "--public-key"])
            .arg(given);
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what} was accepted");
        // Nothing of the key or the file is echoed back.
        for leak in [
            secret_line.as_str(),
            "kdf",
            "argon2id",
            &hex::encode(*raw)[..16],
        ] {
            assert!(
                !stderr.contains(leak),
                "{what}: the error echoes {leak:?}: {stderr}"
            );
        }
        assert!(
            !stderr.contains(&pk.to_base64url()),
            "{what}: the key file was read (its public key is in the error): {stderr}"
        );
    }
    assert_eq!(
        admin_ok(d, None, &["force", "key", "list", "north"]),
        "",
        "nothing was registered"
    );
    // The right input works, so the refusals above are about the input.
    admin_ok(
        d,
        None,
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &pk.to_base64url(),
        ],
    );
    let a = admin(d, None, &["force", "key", "list", "north"]);
    assert!(a.stdout.contains(&pk.to_base64url()), "{}", a.stdout);
    assert!(Path::new(&d.join("north.key")).is_file());
}

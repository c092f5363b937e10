//! Force signing keys and key statements on the platform (issue 20, part 1;
//! crypto/FORMAT.md#key-statements): registering a force's signer set, adding
//! keys only as signed statements once it has one, every refusal of a
//! statement that does not verify or does not continue the force's chain,
//! k-of-n, and the directory serving the statement of the current key.
//!
//! The library API (`quietline::admin`) runs against both backends
//! (`…::sqlite`, `…::postgres`); the `quietline` binary's `force signer` and
//! `force key add --statement` run against both too, with a real server
//! serving the directory.

use std::sync::Arc;

use crate::support::pg::{fresh_database, sqlite_url};
use crate::support::server::{Process, Serve, admin, admin_ok, client, rng};
use quietline::admin::{self as qa, AdminError};
use quietline::storage::{self, Storage, StorageError};
use quietline_crypto::keys::{PublicKey, Suite, generate_keypair, generate_keypair_for};
use quietline_crypto::statement::{
    KeyStatement, NO_PREVIOUS, SignedStatement, SignerSet, SigningSecret,
};

fn today() -> u32 {
    u32::try_from(quietline::day::today()).unwrap()
}

fn new_key() -> PublicKey {
    generate_keypair(&mut rng()).1
}

fn first(force: &str, pk: PublicKey) -> KeyStatement {
    KeyStatement {
        force_id: force.into(),
        public_key: pk,
        valid_from: today() - 1,
        valid_until: today() + 365,
        sequence: 0,
        prev_hash: NO_PREVIOUS,
    }
}

fn sign(st: &KeyStatement, by: &[&SigningSecret]) -> String {
    SignedStatement::sign(st.clone(), by)
        .unwrap()
        .to_base64url()
}

fn code(r: Result<quietline_crypto::keys::KeyId, AdminError>) -> String {
    match r {
        Err(AdminError::BadStatement(e)) => e.code().to_owned(),
        Err(e) => format!("other: {e}"),
        Ok(k) => format!("accepted {k}"),
    }
}

async fn statements_and_signers(s: Arc<dyn Storage>) {
    let t = today();
    qa::add_force(s.as_ref(), "north", "North").await.unwrap();
    qa::add_force(s.as_ref(), "south", "South").await.unwrap();
    // Before signing keys, a bare key is accepted (forces from before issue 20).
    qa::add_force_key(s.as_ref(), "north", &new_key())
        .await
        .unwrap();
    assert_eq!(s.force_signers("north").await.unwrap(), None);
    assert!(matches!(
        s.force_signers("nope").await,
        Err(StorageError::UnknownForce(_))
    ));

    // A statement before the force has signing keys cannot be checked.
    let a = SigningSecret::generate(&mut rng());
    let k1 = new_key();
    let s1 = first("north", k1.clone());
    assert!(matches!(
        qa::add_signed_force_key(s.as_ref(), "north", &sign(&s1, &[&a]), t).await,
        Err(AdminError::NoSigners(_))
    ));

    // Register the signer set once; never again.
    qa::set_force_signers(s.as_ref(), "north", &[a.public_key().to_base64url()], 1)
        .await
        .unwrap();
    let stored = s.force_signers("north").await.unwrap().unwrap();
    assert_eq!(stored.threshold, 1);
    assert_eq!(stored.keys, vec![a.public_key().to_bytes()]);
    let b = SigningSecret::generate(&mut rng());
    assert!(matches!(
        qa::set_force_signers(s.as_ref(), "north", &[b.public_key().to_base64url()], 1).await,
        Err(AdminError::Storage(StorageError::SignersExist(_)))
    ));
    assert!(matches!(
        qa::set_force_signers(s.as_ref(), "south", &[b.public_key().to_base64url()], 2).await,
        Err(AdminError::BadSigner(_))
    ));

    // Now a bare key is refused, by the admin layer and by the storage itself.
    assert!(matches!(
        qa::add_force_key(s.as_ref(), "north", &new_key()).await,
        Err(AdminError::StatementRequired(_))
    ));
    let k = new_key();
    assert!(matches!(
        s.add_force_key("north", k.key_id().0, k.to_bytes()).await,
        Err(StorageError::StatementRequired(_))
    ));

    // Refusals, each with its code; nothing is stored by any of them.
    let x = SigningSecret::generate(&mut rng());
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "north", &sign(&s1, &[&x]), t).await),
        "unknown_signer"
    );
    let other = first("south", k1.clone());
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "north", &sign(&other, &[&a]), t).await),
        "wrong_force"
    );
    let mut later = s1.clone();
    later.sequence = 1;
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "north", &sign(&later, &[&a]), t).await),
        "broken_chain"
    );
    let mut expired = s1.clone();
    expired.valid_from = t - 30;
    expired.valid_until = t - 1;
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "north", &sign(&expired, &[&a]), t).await),
        "not_current"
    );
    let mut tampered = SignedStatement::sign(s1.clone(), &[&a])
        .unwrap()
        .as_bytes()
        .to_vec();
    let n = tampered.len();
    tampered[n - 10] ^= 1;
    let tampered =
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &tampered);
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "north", &tampered, t).await),
        "bad_signature"
    );
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "north", "not base64!", t).await),
        "not_base64url"
    );
    assert!(s.key_statements("north").await.unwrap().is_empty());

    // The first statement: its key is current and the directory's statement.
    let id1 = qa::add_signed_force_key(s.as_ref(), "north", &sign(&s1, &[&a]), t)
        .await
        .unwrap();
    assert_eq!(id1, k1.key_id());
    let forces = s.forces().await.unwrap();
    let north = forces.iter().find(|f| f.id == "north").unwrap();
    assert_eq!(north.current_key.as_ref().unwrap().key_id, k1.key_id().0);
    let current = s.current_statements().await.unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].0, "north");
    assert_eq!(
        current[0].1.statement,
        SignedStatement::sign(s1.clone(), &[&a]).unwrap().as_bytes()
    );

    // The same statement again: the chain has moved on.
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "north", &sign(&s1, &[&a]), t).await),
        "broken_chain"
    );
    // A second sequence-0 statement for a new key (a fork) is refused too.
    let fork = first("north", new_key());
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "north", &sign(&fork, &[&a]), t).await),
        "broken_chain"
    );
    // Storage alone refuses an out-of-order sequence even if a caller skipped the checks.
    let k = new_key();
    assert!(matches!(
        s.add_signed_force_key(
            "north",
            k.to_bytes(),
            storage::StoredStatement {
                sequence: 0,
                key_id: k.key_id().0,
                statement: vec![1, 2, 3],
            },
        )
        .await,
        Err(StorageError::StatementOutOfOrder {
            got: 0,
            next: 1,
            ..
        })
    ));

    // The next statement, chained; an X-Wing key.
    let (_, k2) = generate_keypair_for(Suite::XWing, &mut rng());
    let s2 = s1.next(k2.clone(), t, t + 365);
    qa::add_signed_force_key(s.as_ref(), "north", &sign(&s2, &[&a]), t)
        .await
        .unwrap();
    let chain = s.key_statements("north").await.unwrap();
    assert_eq!(
        chain.iter().map(|c| c.sequence).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_eq!(chain[1].key_id, k2.key_id().0);
    let current = s.current_statements().await.unwrap();
    assert_eq!(current[0].1.sequence, 1);
    // The key already registered, in a new statement: refused as a duplicate.
    let again = s2.next(k2.clone(), t, t + 365);
    assert!(matches!(
        qa::add_signed_force_key(s.as_ref(), "north", &sign(&again, &[&a]), t).await,
        Err(AdminError::Storage(StorageError::KeyExists))
    ));

    // 2-of-3 on another force.
    let (p, q, r) = (
        SigningSecret::generate(&mut rng()),
        SigningSecret::generate(&mut rng()),
        SigningSecret::generate(&mut rng()),
    );
    let keys: Vec<String> = [&p, &q, &r]
        .iter()
        .map(|k| k.public_key().to_base64url())
        .collect();
    let set = qa::set_force_signers(s.as_ref(), "south", &keys, 2)
        .await
        .unwrap();
    assert_eq!(set.threshold(), 2);
    let back = qa::signer_set(&s.force_signers("south").await.unwrap().unwrap()).unwrap();
    assert_eq!(
        SignerSet::new(back.keys().to_vec(), 2)
            .unwrap()
            .keys()
            .len(),
        3
    );
    let s3 = first("south", new_key());
    assert_eq!(
        code(qa::add_signed_force_key(s.as_ref(), "south", &sign(&s3, &[&q]), t).await),
        "not_enough_signatures"
    );
    qa::add_signed_force_key(s.as_ref(), "south", &sign(&s3, &[&r, &p]), t)
        .await
        .unwrap();
    assert_eq!(s.current_statements().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_and_signers_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage::open(&sqlite_url(dir.path())).await.unwrap();
    statements_and_signers(s.clone()).await;
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_and_signers_postgres() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let s = storage::open(db.url()).await.unwrap();
    statements_and_signers(s.clone()).await;
    s.close().await;
    db.cleanup().await;
}

/// The `quietline` binary: `force signer set`, `force key add --statement`,
/// a bare key refused, and the directory serving a statement that verifies.
async fn admin_commands_and_directory(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin_ok(
        d,
        database_url,
        &["force", "add", "north", "--name", "North"],
    );
    let a = SigningSecret::generate(&mut rng());
    let out = admin_ok(
        d,
        database_url,
        &[
            "force",
            "signer",
            "set",
            "north",
            "--public-key",
            &a.public_key().to_base64url(),
        ],
    );
    assert_eq!(
        out,
        format!(
            "{}\t{}\n",
            a.public_key().signer_id(),
            a.public_key().fingerprint()
        )
    );
    let listed = admin_ok(d, database_url, &["force", "signer", "list", "north"]);
    assert!(
        listed.starts_with("threshold\t1 of 1\n")
            && listed.contains(&a.public_key().to_base64url()),
        "{listed}"
    );
    // A bare key is refused with what to do.
    let bare = admin(
        d,
        database_url,
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &new_key().to_base64url(),
        ],
    );
    assert!(!bare.ok);
    assert!(bare.stderr.contains("--statement"), "{}", bare.stderr);
    // A signing-key file or a path is refused as a signer.
    let path = admin(
        d,
        database_url,
        &[
            "force",
            "signer",
            "set",
            "north",
            "--public-key",
            "/home/me/signing.key",
        ],
    );
    assert!(
        !path.ok && path.stderr.contains("never a file name"),
        "{}",
        path.stderr
    );

    let k1 = new_key();
    let st = sign(&first("north", k1.clone()), &[&a]);
    let out = admin_ok(
        d,
        database_url,
        &["force", "key", "add", "north", "--statement", &st],
    );
    assert_eq!(out, format!("{}\n", k1.key_id()));
    // Replayed: refused, with the statement's code.
    let again = admin(
        d,
        database_url,
        &["force", "key", "add", "north", "--statement", &st],
    );
    assert!(
        !again.ok && again.stderr.contains("broken_chain"),
        "{}",
        again.stderr
    );

    let mut extra = vec![];
    if let Some(url) = database_url {
        extra = vec!["--database-url", url];
    }
    let server = Process::serve(d, &extra);
    let body = client()
        .get(server.url("/api/v1/forces"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let dirj: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let north = &dirj[0];
    assert_eq!(north["key_id"], k1.key_id().to_hex());
    let served = SignedStatement::from_base64url(north["statement"].as_str().unwrap()).unwrap();
    let verified = served
        .verify(&SignerSet::single(a.public_key()), "north")
        .unwrap();
    assert_eq!(verified.public_key, k1);
    assert_eq!(verified.public_key.to_base64url(), north["public_key"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_and_directory_sqlite() {
    admin_commands_and_directory(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_and_directory_postgres() {
    let Some(db) = fresh_database().await else {
        return;
    };
    admin_commands_and_directory(Some(db.url())).await;
    db.cleanup().await;
}

/// `serve --demo` gives the demo force a signing key and registers its key
/// as a signed statement, so the demo runs the signed path from the first
/// start; a second start reuses both; a bare key is refused for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_signs_its_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = data.join("demo");
    let server = Process::serve(&data, &["--demo"]);
    let printed = server.stdout_so_far();
    let body = client()
        .get(server.url("/api/v1/forces"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let first = server.stop();
    assert!(first.success);
    let printed = printed + &String::from_utf8_lossy(&first.stdout);
    assert!(
        printed.contains(&format!(
            "key import {}",
            demo.join("signing.key").display()
        )),
        "{printed}"
    );
    for f in ["signing.key", "statement"] {
        let mode = std::fs::metadata(demo.join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    let signing = std::fs::read_to_string(demo.join("signing.key")).unwrap();
    let info = quietline_crypto::signing_keyfile::signing_key_file_info(&signing).unwrap();
    assert_eq!(info.force_id, "demo");
    // It opens with the demo passphrase (the console imports it).
    let pass = std::fs::read_to_string(demo.join("passphrase")).unwrap();
    let (_, sk) =
        quietline_crypto::signing_keyfile::open_signing_key_file(&signing, pass.trim().as_bytes())
            .unwrap();
    assert_eq!(sk.public_key(), info.public_key);

    let forces: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let served = forces[0]["statement"].as_str().unwrap();
    assert_eq!(
        served,
        std::fs::read_to_string(demo.join("statement"))
            .unwrap()
            .trim()
    );
    let st = SignedStatement::from_base64url(served).unwrap();
    let verified = st
        .verify(&SignerSet::single(info.public_key.clone()), "demo")
        .unwrap();
    assert_eq!(verified.key_id().to_hex(), forces[0]["key_id"]);
    verified.is_current(today()).unwrap();

    // The platform refuses a bare key for the demo force now.
    let bare = admin(
        &data,
        None,
        &[
            "force",
            "key",
            "add",
            "demo",
            "--public-key",
            &new_key().to_base64url(),
        ],
    );
    assert!(
        !bare.ok && bare.stderr.contains("signing keys"),
        "{}",
        bare.stderr
    );

    // A second start reuses the key and its statement.
    let server = Process::serve(&data, &["--demo"]);
    let again = server.stop();
    assert!(String::from_utf8_lossy(&again.stdout).contains("reusing the demo force"));
    assert_eq!(
        std::fs::read_to_string(demo.join("statement"))
            .unwrap()
            .trim(),
        served
    );
}

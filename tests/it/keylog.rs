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

use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;
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

/// The octets of a signed statement given as base64url text.
fn statement_bytes(text: &str) -> Vec<u8> {
    SignedStatement::from_base64url(text)
        .unwrap()
        .as_bytes()
        .to_vec()
}

/// The `quietline` binary's `--database-url URL`, or nothing for SQLite.
fn database_args(database_url: Option<&str>) -> Vec<&str> {
    database_url.map_or_else(Vec::new, |url| vec!["--database-url", url])
}

/// `quietline force add ID --name NAME`, then `force signer set ID` with a new
/// 1-of-1 signing key: the key, and what `signer set` printed.
fn admin_signed_force(
    d: &Path,
    database_url: Option<&str>,
    id: &str,
    name: &str,
) -> (SigningSecret, String) {
    admin_ok(d, database_url, &["force", "add", id, "--name", name]);
    let a = SigningSecret::generate(&mut rng());
    let out = admin_ok(
        d,
        database_url,
        &[
            "force",
            "signer",
            "set",
            id,
            "--public-key",
            &a.public_key().to_base64url(),
        ],
    );
    (a, out)
}

/// `quietline force key add FORCE --statement TEXT`, which must succeed.
fn admin_statement(d: &Path, database_url: Option<&str>, force: &str, text: &str) -> String {
    admin_ok(
        d,
        database_url,
        &["force", "key", "add", force, "--statement", text],
    )
}

/// Run `$body` with `$c` a raw connection to the database `$url` names and
/// `$pg` whether it is PostgreSQL, then close it. A macro, not a function:
/// the two connection types share no trait a test could take without sqlx's
/// `any` driver, which the workspace does not build.
macro_rules! with_connection {
    ($url:expr, |$c:ident, $pg:ident| $body:block) => {{
        let url: &str = $url;
        if url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .unwrap()
                .create_if_missing(true);
            let mut $c = sqlx::SqliteConnection::connect_with(&options)
                .await
                .unwrap();
            let $pg = false;
            $body
            $c.close().await.unwrap();
        } else {
            let mut $c = sqlx::PgConnection::connect(url).await.unwrap();
            let $pg = true;
            $body
            $c.close().await.unwrap();
        }
    }};
}

/// Declare the tests `$sqlite` and `$postgres`: `$check` run against SQLite
/// and against a fresh PostgreSQL database. A `url` check takes the
/// database's URL (SQLite in a temporary directory); a `binary` check takes
/// the `--database-url` the `quietline` binary is given (`None`: SQLite in its
/// data directory).
macro_rules! on_both_backends {
    (url $check:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let dir = tempfile::tempdir().unwrap();
            $check(&sqlite_url(dir.path())).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(db) = fresh_database().await else {
                return;
            };
            $check(db.url()).await;
            db.cleanup().await;
        }
    };
    (binary $check:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $check(None).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(db) = fresh_database().await else {
                return;
            };
            $check(Some(db.url())).await;
            db.cleanup().await;
        }
    };
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

/// [`statements_and_signers`] on a storage opened at `url`.
async fn statements_and_signers_at(url: &str) {
    let s = storage::open(url).await.unwrap();
    statements_and_signers(s.clone()).await;
    s.close().await;
}

on_both_backends!(
    url statements_and_signers_at:
    statements_and_signers_sqlite,
    statements_and_signers_postgres
);

/// The `quietline` binary: `force signer set`, `force key add --statement`,
/// a bare key refused, and the directory serving a statement that verifies.
async fn admin_commands_and_directory(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, out) = admin_signed_force(d, database_url, "north", "North");
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
    let out = admin_statement(d, database_url, "north", &st);
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

    let server = Process::serve(d, &database_args(database_url));
    let body = get(&server, "/api/v1/forces").await.2;
    let dirj: serde_json::Value = serde_json::from_str(&body).unwrap();
    let north = &dirj[0];
    assert_eq!(north["key_id"], k1.key_id().to_hex());
    let served = SignedStatement::from_base64url(north["statement"].as_str().unwrap()).unwrap();
    let verified = served
        .verify(&SignerSet::single(a.public_key()), "north")
        .unwrap();
    assert_eq!(verified.public_key, k1);
    assert_eq!(verified.public_key.to_base64url(), north["public_key"]);
}

on_both_backends!(
    binary admin_commands_and_directory:
    admin_commands_and_directory_sqlite,
    admin_commands_and_directory_postgres
);

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
    let body = get(&server, "/api/v1/forces").await.2;
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

    let forces: serde_json::Value = serde_json::from_str(&body).unwrap();
    let served = forces[0]["statement"].as_str().unwrap();
    // The demo's statement is the key log's first entry.
    assert_eq!(forces[0]["log_index"], 0);
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

// ---------------------------------------------------------------------------
// The key log (issue 20, part 2; crypto/FORMAT.md#key-log)

use quietline_crypto::keylog::{self as kl, LogKey};
use sqlx::Connection as _;

/// A force with a 1-of-1 signer set, at storage level.
async fn signed_force(s: &dyn Storage, id: &str) -> SigningSecret {
    let a = SigningSecret::generate(&mut rng());
    qa::add_force(s, id, id).await.unwrap();
    s.set_force_signers(
        id,
        storage::StoredSigners {
            keys: vec![a.public_key().to_bytes()],
            threshold: 1,
        },
    )
    .await
    .unwrap();
    a
}

/// Storage conformance: every statement stored is appended in the same
/// transaction, in order; size, ranges and positions; a refused statement
/// appends nothing; the seed is the first one stored; the database refuses
/// to change or delete an entry; a reopened storage keeps it all.
async fn log_storage(url: &str) {
    let s = storage::open(url).await.unwrap();
    assert_eq!(s.keylog_size().await.unwrap(), 0);
    assert!(s.keylog_entries(0, 10).await.unwrap().is_empty());
    assert!(s.keylog_current_positions().await.unwrap().is_empty());
    let t = today();
    let n = signed_force(s.as_ref(), "north").await;
    let so = signed_force(s.as_ref(), "south").await;
    let mut expected: Vec<Vec<u8>> = Vec::new();
    let mut add = |force: &str, st: &KeyStatement, by: &SigningSecret| {
        let text = sign(st, &[by]);
        expected.push(statement_bytes(&text));
        (force.to_owned(), text)
    };
    let n0 = first("north", new_key());
    let n1 = n0.next(new_key(), t - 1, t + 30);
    let s0 = first("south", new_key());
    let n2 = n1.next(new_key(), t - 1, t + 30);
    let order = [
        add("north", &n0, &n),
        add("south", &s0, &so),
        add("north", &n1, &n),
        add("north", &n2, &n),
    ];
    for (i, (force, text)) in order.iter().enumerate() {
        qa::add_signed_force_key(s.as_ref(), force, text, t)
            .await
            .unwrap();
        assert_eq!(s.keylog_size().await.unwrap(), i as u64 + 1);
    }
    // Replayed: refused, and nothing appended.
    assert!(
        qa::add_signed_force_key(s.as_ref(), "north", &order[0].1, t)
            .await
            .is_err()
    );
    // Out of order at storage level: refused, nothing appended.
    let skip = n2.next(new_key(), t, t + 1);
    let skipped = SignedStatement::sign(
        KeyStatement {
            sequence: 9,
            ..skip.clone()
        },
        &[&n],
    )
    .unwrap();
    assert!(matches!(
        s.add_signed_force_key(
            "north",
            skip.public_key.to_bytes(),
            storage::StoredStatement {
                sequence: 9,
                key_id: skip.key_id().0,
                statement: skipped.as_bytes().to_vec(),
            },
        )
        .await,
        Err(StorageError::StatementOutOfOrder { .. })
    ));
    assert_eq!(s.keylog_size().await.unwrap(), 4);
    assert_eq!(s.keylog_entries(0, 4).await.unwrap(), expected);
    assert_eq!(s.keylog_entries(1, 3).await.unwrap(), expected[1..3]);
    assert_eq!(s.keylog_entries(2, 100).await.unwrap(), expected[2..]);
    assert!(s.keylog_entries(3, 3).await.unwrap().is_empty());
    assert!(s.keylog_entries(4, 9).await.unwrap().is_empty());
    // Leaf hashes: the stored entries make the tree of the statements as signed.
    let stored = s.keylog_entries(0, 4).await.unwrap();
    assert_eq!(
        kl::tree_root(&stored).unwrap(),
        kl::tree_root(&expected).unwrap()
    );
    assert_eq!(kl::leaf_hash(&stored[1]), kl::leaf_hash(&expected[1]));
    let positions = s.keylog_current_positions().await.unwrap();
    assert_eq!(
        positions,
        vec![
            storage::LogPosition {
                force_id: "north".into(),
                sequence: 2,
                index: 3
            },
            storage::LogPosition {
                force_id: "south".into(),
                sequence: 0,
                index: 1
            },
        ]
    );
    // Statements of several forces at once: each appended once, the
    // indices contiguous (appends take turns).
    let mut tasks = Vec::new();
    for i in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let force = format!("f{i}");
            let k = signed_force(s.as_ref(), &force).await;
            let text = sign(&first(&force, new_key()), &[&k]);
            qa::add_signed_force_key(s.as_ref(), &force, &text, t)
                .await
                .unwrap();
            statement_bytes(&text)
        }));
    }
    let mut added = BTreeSet::new();
    for task in tasks {
        added.insert(task.await.unwrap());
    }
    assert_eq!(s.keylog_size().await.unwrap(), 10);
    let tail: BTreeSet<Vec<u8>> = s.keylog_entries(4, 10).await.unwrap().into_iter().collect();
    assert_eq!(tail, added);
    let positions = s.keylog_current_positions().await.unwrap();
    let mut indices: Vec<u64> = positions.iter().map(|p| p.index).collect();
    indices.sort();
    assert_eq!(indices, vec![1, 3, 4, 5, 6, 7, 8, 9]);
    expected = s.keylog_entries(0, 10).await.unwrap();

    // The seed: the first one offered is kept, by every caller.
    let seed = *s.keylog_seed([1; 32]).await.unwrap();
    assert_eq!(seed, [1; 32]);
    assert_eq!(*s.keylog_seed([2; 32]).await.unwrap(), seed);
    s.close().await;

    // The database itself refuses to rewrite the log.
    with_connection!(url, |c, pg| {
        let refused: &[&'static str] = if pg {
            &[
                "UPDATE keylog_entries SET entry = '\\x00' WHERE idx = 0",
                "DELETE FROM keylog_entries WHERE idx = 3",
                "TRUNCATE keylog_entries",
            ]
        } else {
            &[
                "UPDATE keylog_entries SET entry = x'00' WHERE idx = 0",
                "DELETE FROM keylog_entries WHERE idx = 3",
            ]
        };
        for &sql in refused {
            let e = sqlx::query(sql).execute(&mut c).await.unwrap_err();
            assert!(e.to_string().contains("only grows"), "{e}");
        }
    });
    // Reopened: all still there, and the same seed.
    let s = storage::open(url).await.unwrap();
    assert_eq!(s.keylog_entries(0, 10).await.unwrap(), expected);
    assert_eq!(*s.keylog_seed([3; 32]).await.unwrap(), seed);
    // The retention purge leaves the log alone.
    s.purge(today() as i32 + 1000, 1).await.unwrap();
    assert_eq!(s.keylog_size().await.unwrap(), 10);
    s.close().await;
}

on_both_backends!(url log_storage: log_storage_sqlite, log_storage_postgres);

/// Migration 0008 backfills the statements stored before it, in (force id,
/// sequence) order with force ids compared as bytes ("a-z" before "ab",
/// which a language collation would put the other way round).
async fn backfill(url: &str) {
    let t = today();
    let keys: Vec<SigningSecret> = (0..2)
        .map(|_| SigningSecret::generate(&mut rng()))
        .collect();
    let ab0 = first("ab", new_key());
    let ab1 = ab0.next(new_key(), t - 1, t + 1);
    let az0 = first("a-z", new_key());
    // Inserted in another order than the log's.
    let rows = [
        ("ab", &ab1, &keys[0]),
        ("a-z", &az0, &keys[1]),
        ("ab", &ab0, &keys[0]),
    ];
    let signed: Vec<(String, KeyStatement, Vec<u8>)> = rows
        .iter()
        .map(|(f, st, k)| {
            let b = SignedStatement::sign((*st).clone(), &[k]).unwrap();
            (f.to_string(), (*st).clone(), b.as_bytes().to_vec())
        })
        .collect();
    let insert = |f: &str, st: &KeyStatement, bytes: &[u8], pg: bool| {
        let q = |s: &str| {
            if pg {
                s.to_owned()
            } else {
                s.replace('$', "?")
            }
        };
        let key_id = st.key_id().0.to_vec();
        (
            vec![
                (
                    q("INSERT INTO forces (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING"),
                    vec![f.as_bytes().to_vec()],
                ),
                (
                    q(
                        "INSERT INTO force_keys (force_id, key_id, public_key, status) VALUES ($1, $2, $3, 'active')",
                    ),
                    vec![
                        f.as_bytes().to_vec(),
                        key_id.clone(),
                        st.public_key.to_bytes(),
                    ],
                ),
            ],
            (
                q(
                    "INSERT INTO key_statements (force_id, sequence, key_id, statement) VALUES ($1, $2, $3, $4)",
                ),
                key_id,
                bytes.to_vec(),
            ),
        )
    };
    with_connection!(url, |c, pg| {
        let migrations = if pg {
            sqlx::migrate!("./migrations/postgres")
        } else {
            sqlx::migrate!("./migrations/sqlite")
        };
        migrations.run_to(7, &mut c).await.unwrap();
        for (f, st, bytes) in &signed {
            let (pre, (sql, key_id, stmt)) = insert(f, st, bytes, pg);
            for (sql, binds) in pre {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (i, b) in binds.into_iter().enumerate() {
                    q = if i == 0 {
                        q.bind(String::from_utf8(b).unwrap())
                    } else {
                        q.bind(b)
                    };
                }
                q.execute(&mut c).await.unwrap();
            }
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(f.clone())
                .bind(st.sequence as i64)
                .bind(key_id)
                .bind(stmt)
                .execute(&mut c)
                .await
                .unwrap();
        }
    });
    let s = storage::open(url).await.unwrap();
    let want: Vec<Vec<u8>> = [1usize, 2, 0]
        .iter()
        .map(|&i| signed[i].2.clone())
        .collect();
    assert_eq!(s.keylog_entries(0, 10).await.unwrap(), want);
    s.close().await;
}

on_both_backends!(url backfill: backfill_sqlite, backfill_postgres);

async fn get(server: &Process, path: &str) -> (u16, String, String) {
    let res = client().get(server.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

async fn get_json(server: &Process, path: &str) -> serde_json::Value {
    let (status, ct, body) = get(server, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(ct, "application/json", "{path}");
    serde_json::from_str(&body).unwrap()
}

fn hashes(v: &serde_json::Value) -> Vec<kl::Hash> {
    v["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| kl::hash_from_base64url(h.as_str().unwrap()).unwrap())
        .collect()
}

/// The consistency `proof` (as served) from size `from` to `to` fails with
/// `inconsistent` between the roots `old` and `new`.
fn assert_inconsistent(
    (from, to): (u64, u64),
    proof: &serde_json::Value,
    old: &kl::Hash,
    new: &kl::Hash,
) {
    assert_eq!(
        kl::verify_consistency(from, to, &hashes(proof), old, new)
            .unwrap_err()
            .code(),
        "inconsistent"
    );
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// The `quietline` binary end to end: statements added with `force key add
/// --statement` appear in the log in order; the checkpoint verifies with the
/// served key under the configured origin; each directory statement's
/// inclusion verifies at its `log_index`; after another statement, the new
/// checkpoint is consistent with the old; bad ranges are 400 `bad_range`;
/// a restarted server signs with the same key.
async fn log_over_http(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = today();
    let signers: Vec<SigningSecret> = ["north", "south"]
        .iter()
        .map(|f| admin_signed_force(d, database_url, f, f).0)
        .collect();
    let n0 = first("north", new_key());
    let s0 = first("south", new_key());
    let n1 = n0.next(new_key(), t - 1, t + 30);
    let added: Vec<String> = [("north", &n0, 0), ("south", &s0, 1), ("north", &n1, 0)]
        .iter()
        .map(|(f, st, k)| {
            let text = sign(st, &[&signers[*k]]);
            admin_statement(d, database_url, f, &text);
            text
        })
        .collect();

    let mut extra = vec!["--keylog-origin", "report.example.test/keylog"];
    extra.extend(database_args(database_url));
    let server = Process::serve(d, &extra);
    let (status, ct, vkey) = get(&server, "/api/v1/keylog/key").await;
    assert_eq!((status, ct.as_str()), (200, "text/plain"));
    assert!(
        vkey.ends_with('\n') && vkey.lines().count() == 1,
        "{vkey:?}"
    );
    let key = LogKey::from_vkey(&vkey).unwrap();
    assert_eq!(key.name(), "report.example.test/keylog");
    let (status, ct, note) = get(&server, "/api/v1/keylog/checkpoint").await;
    assert_eq!((status, ct.as_str()), (200, "text/plain; charset=utf-8"));
    let cp = key.open_checkpoint(&note).unwrap();
    assert_eq!(cp.size, 3);
    assert!(
        note.starts_with("report.example.test/keylog\n3\n"),
        "{note}"
    );

    // The entries are the statements as added, in order.
    let got = get_json(&server, "/api/v1/keylog/entries?start=0&end=3").await;
    let entries: Vec<Vec<u8>> = got["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| b64(e.as_str().unwrap()))
        .collect();
    let want: Vec<Vec<u8>> = added.iter().map(|a| b64(a)).collect();
    assert_eq!(entries, want);
    assert_eq!(kl::tree_root(&entries).unwrap(), cp.root);

    // Each directory statement is in the log at its log_index.
    let dirj = get_json(&server, "/api/v1/forces").await;
    assert_eq!(dirj.as_array().unwrap().len(), 2);
    let mut indices = Vec::new();
    for f in dirj.as_array().unwrap() {
        let statement = b64(f["statement"].as_str().unwrap());
        let index = f["log_index"].as_u64().unwrap();
        let proof = get_json(
            &server,
            &format!(
                "/api/v1/keylog/proof/inclusion?index={index}&size={}",
                cp.size
            ),
        )
        .await;
        assert_eq!(
            (proof["index"].as_u64(), proof["size"].as_u64()),
            (Some(index), Some(3))
        );
        kl::verify_inclusion(&statement, index, cp.size, &hashes(&proof), &cp.root).unwrap();
        // Not at any other index.
        let other = (index + 1) % cp.size;
        let proof = get_json(
            &server,
            &format!(
                "/api/v1/keylog/proof/inclusion?index={other}&size={}",
                cp.size
            ),
        )
        .await;
        assert!(
            kl::verify_inclusion(&statement, other, cp.size, &hashes(&proof), &cp.root).is_err()
        );
        indices.push((f["id"].as_str().unwrap().to_owned(), index));
    }
    assert_eq!(
        indices,
        vec![("north".to_owned(), 2), ("south".to_owned(), 1)]
    );

    // Another statement, added while the server runs.
    let n2 = n1.next(new_key(), t - 1, t + 30);
    admin_statement(d, database_url, "north", &sign(&n2, &[&signers[0]]));
    let (_, _, note2) = get(&server, "/api/v1/keylog/checkpoint").await;
    let cp2 = key.open_checkpoint(&note2).unwrap();
    assert_eq!(cp2.size, 4);
    let proof = get_json(&server, "/api/v1/keylog/proof/consistency?from=3&to=4").await;
    assert_eq!(
        (proof["from"].as_u64(), proof["to"].as_u64()),
        (Some(3), Some(4))
    );
    kl::verify_consistency(3, 4, &hashes(&proof), &cp.root, &cp2.root).unwrap();
    // A checkpoint that is not the old one does not pass.
    assert_inconsistent((3, 4), &proof, &cp2.root, &cp2.root);
    let none = get_json(&server, "/api/v1/keylog/entries?start=4&end=4").await;
    assert!(none["entries"].as_array().unwrap().is_empty());
    for (from, to) in [(0, 4), (4, 4), (0, 0)] {
        let p = get_json(
            &server,
            &format!("/api/v1/keylog/proof/consistency?from={from}&to={to}"),
        )
        .await;
        assert!(p["hashes"].as_array().unwrap().is_empty(), "{from}..{to}");
    }
    let dirj = get_json(&server, "/api/v1/forces").await;
    assert_eq!(dirj[0]["log_index"], 3);
    assert_eq!(dirj[0]["key_id"], n2.key_id().to_hex());

    // Bad ranges: 400 bad_range with a message naming the log's size.
    for path in [
        "/api/v1/keylog/entries?start=0&end=5",
        "/api/v1/keylog/entries?start=3&end=1",
        "/api/v1/keylog/proof/inclusion?index=4&size=4",
        "/api/v1/keylog/proof/inclusion?index=0&size=5",
        "/api/v1/keylog/proof/consistency?from=3&to=2",
        "/api/v1/keylog/proof/consistency?from=0&to=5",
    ] {
        let (status, _, body) = get(&server, path).await;
        assert_eq!(status, 400, "{path}");
        let e: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(e["error"], "bad_range", "{path}");
        assert!(
            e["message"].as_str().unwrap().contains("≤ 4"),
            "{path}: {body}"
        );
    }
    for path in [
        "/api/v1/keylog/entries",
        "/api/v1/keylog/entries?start=a&end=2",
        "/api/v1/keylog/entries?start=-1&end=2",
        "/api/v1/keylog/proof/inclusion?index=1",
        "/api/v1/keylog/proof/consistency?from=1&to=99999999999999999999999",
    ] {
        let (status, _, body) = get(&server, path).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains("\"bad_range\""), "{path}: {body}");
    }
    // Read-only.
    let res = client()
        .post(server.url("/api/v1/keylog/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    let out = server.stop();
    assert!(out.success);

    // A restart signs with the same key: the same note for the same size.
    let server = Process::serve(d, &extra);
    let (_, _, again) = get(&server, "/api/v1/keylog/key").await;
    assert_eq!(again, vkey);
    let (_, _, note3) = get(&server, "/api/v1/keylog/checkpoint").await;
    assert_eq!(note3, note2);
    assert!(server.stop().success);

    // `quietline keylog show` prints the same key and checkpoint from the
    // database; without the origin it names another log (another key id).
    let shown = admin_ok(
        d,
        database_url,
        &[
            "keylog",
            "show",
            "--keylog-origin",
            "report.example.test/keylog",
        ],
    );
    assert_eq!(shown, format!("{vkey}\n{note2}"));
    let other = admin_ok(d, database_url, &["keylog", "show"]);
    assert!(other.starts_with("quietline.invalid/keylog+"), "{other}");
    assert!(LogKey::from_vkey(other.lines().next().unwrap()).unwrap() != key);
    let bad = admin(
        d,
        database_url,
        &["keylog", "show", "--keylog-origin", "a b"],
    );
    assert!(
        !bad.ok && bad.stderr.contains("--keylog-origin"),
        "{}",
        bad.stderr
    );
}

on_both_backends!(binary log_over_http: log_over_http_sqlite, log_over_http_postgres);

/// Entries come at most 256 a request, from `start`; the caller pages on.
async fn entries_page(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url.map_or_else(|| sqlite_url(dir.path()), str::to_owned);
    let s = storage::open(&url).await.unwrap();
    s.add_force("many", "Many").await.unwrap();
    s.set_force_signers(
        "many",
        storage::StoredSigners {
            keys: vec![[9; 32]],
            threshold: 1,
        },
    )
    .await
    .unwrap();
    // Storage does not verify statements (the admin command does): any
    // octets make a leaf here.
    let mut want = Vec::new();
    for i in 0..300u64 {
        let entry = format!("entry {i}").into_bytes();
        let mut key_id = [0u8; 8];
        let mut public = [0u8; 32];
        getrandom::fill(&mut key_id).unwrap();
        getrandom::fill(&mut public).unwrap();
        s.add_signed_force_key(
            "many",
            public.to_vec(),
            storage::StoredStatement {
                sequence: i,
                key_id,
                statement: entry.clone(),
            },
        )
        .await
        .unwrap();
        want.push(entry);
    }
    s.close().await;
    let server = Process::serve(dir.path(), &database_args(database_url));
    let mut got = Vec::new();
    while got.len() < 300 {
        let page = get_json(
            &server,
            &format!("/api/v1/keylog/entries?start={}&end=300", got.len()),
        )
        .await;
        let n = page["entries"].as_array().unwrap().len();
        assert_eq!(n, (300 - got.len()).min(256));
        got.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| b64(e.as_str().unwrap())),
        );
    }
    assert_eq!(got, want);
    let key = LogKey::from_vkey(&get(&server, "/api/v1/keylog/key").await.2).unwrap();
    let cp = key
        .open_checkpoint(&get(&server, "/api/v1/keylog/checkpoint").await.2)
        .unwrap();
    assert_eq!(key.name(), quietline::config::DEFAULT_KEYLOG_ORIGIN);
    assert_eq!((cp.size, cp.root), (300, kl::tree_root(&want).unwrap()));
    let p = get_json(&server, "/api/v1/keylog/proof/inclusion?index=150&size=300").await;
    kl::verify_inclusion(&want[150], 150, 300, &hashes(&p), &cp.root).unwrap();
    let p = get_json(&server, "/api/v1/keylog/proof/consistency?from=7&to=300").await;
    kl::verify_consistency(
        7,
        300,
        &hashes(&p),
        &kl::tree_root(&want[..7]).unwrap(),
        &cp.root,
    )
    .unwrap();
    assert!(server.stop().success);
}

on_both_backends!(binary entries_page: entries_page_sqlite, entries_page_postgres);

/// Two instances on one database sign the same checkpoint with the same key;
/// and a history rewritten behind a reader's checkpoint (an entry changed
/// in the database after the triggers that refuse it are dropped) has no
/// consistency proof from that checkpoint, whatever the server answers.
async fn replicas_and_a_rewritten_history(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = today();
    let (a, _) = admin_signed_force(d, database_url, "north", "North");
    let n0 = first("north", new_key());
    let n1 = n0.next(new_key(), t - 1, t + 30);
    for st in [&n0, &n1] {
        admin_statement(d, database_url, "north", &sign(st, &[&a]));
    }
    let extra = database_args(database_url);
    let one = Process::serve(d, &extra);
    let two = Process::serve(d, &extra);
    let vkey = get(&one, "/api/v1/keylog/key").await.2;
    assert_eq!(get(&two, "/api/v1/keylog/key").await.2, vkey);
    let seen = get(&one, "/api/v1/keylog/checkpoint").await.2;
    assert_eq!(get(&two, "/api/v1/keylog/checkpoint").await.2, seen);
    assert!(one.stop().success && two.stop().success);
    let key = LogKey::from_vkey(&vkey).unwrap();
    let old = key.open_checkpoint(&seen).unwrap();

    // Rewrite entry 0 behind the reader's back, and append one more.
    let sqlite = sqlite_url(d);
    let url = database_url.unwrap_or(&sqlite);
    let forged = {
        let mut e = b64(&sign(&n0, &[&a]));
        let last = e.len() - 1;
        e[last] ^= 1;
        e
    };
    with_connection!(url, |c, pg| {
        let (drop_trigger, update) = if pg {
            (
                "DROP TRIGGER keylog_entries_no_change ON keylog_entries",
                "UPDATE keylog_entries SET entry = $1 WHERE idx = 0",
            )
        } else {
            (
                "DROP TRIGGER keylog_entries_no_update",
                "UPDATE keylog_entries SET entry = ?1 WHERE idx = 0",
            )
        };
        sqlx::query(drop_trigger).execute(&mut c).await.unwrap();
        sqlx::query(update)
            .bind(&forged)
            .execute(&mut c)
            .await
            .unwrap();
    });
    let n2 = n1.next(new_key(), t - 1, t + 30);
    admin_statement(d, database_url, "north", &sign(&n2, &[&a]));
    let server = Process::serve(d, &extra);
    let new = key
        .open_checkpoint(&get(&server, "/api/v1/keylog/checkpoint").await.2)
        .unwrap();
    assert_eq!(new.size, 3);
    let proof = get_json(&server, "/api/v1/keylog/proof/consistency?from=2&to=3").await;
    assert_inconsistent((2, 3), &proof, &old.root, &new.root);
    // The same size again with another root: a fork, signed by the log key.
    let same = get_json(&server, "/api/v1/keylog/proof/consistency?from=2&to=2").await;
    let now2 = kl::tree_root(
        &get_json(&server, "/api/v1/keylog/entries?start=0&end=2").await["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| b64(e.as_str().unwrap()))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(kl::verify_consistency(2, 2, &hashes(&same), &old.root, &now2).is_err());
    assert!(server.stop().success);
}

on_both_backends!(
    binary replicas_and_a_rewritten_history:
    replicas_and_a_rewritten_history_sqlite,
    replicas_and_a_rewritten_history_postgres
);

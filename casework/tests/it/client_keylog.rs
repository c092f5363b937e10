//! The client's key-log calls (`Client::keylog_*`, crypto/FORMAT.md#key-log)
//! against a real intake server, in process, on both backends: what the
//! console's watch and other readers build on. Each answer is checked with
//! the crypto crate's verifiers, and a bad range comes back as the server's
//! `400 bad_range`.

use quietline_casework::client::{Client, ClientError};
use quietline_crypto::keylog;
use quietline_crypto::keys::generate_keypair;
use quietline_crypto::statement::{KeyStatement, NO_PREVIOUS, SignedStatement, SigningSecret};
use quietline_testkit::on_both_backends;
use quietline_testkit::server::{Backend, TestServer, rng};

fn bad_range(r: Result<impl std::fmt::Debug, ClientError>) {
    match r {
        Err(ClientError::Status { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "bad_range"))
        }
        other => panic!("expected 400 bad_range, got {other:?}"),
    }
}

async fn keylog_calls(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else {
        return;
    };
    let s = server.storage.as_ref();
    let today = u32::try_from(quietline::day::today()).unwrap();
    let signer = SigningSecret::generate(&mut rng());
    quietline::admin::add_force(s, "north", "North")
        .await
        .unwrap();
    quietline::admin::set_force_signers(s, "north", &[signer.public_key().to_base64url()], 1)
        .await
        .unwrap();
    let first = KeyStatement {
        force_id: "north".into(),
        public_key: generate_keypair(&mut rng()).1,
        valid_from: today - 1,
        valid_until: today + 30,
        sequence: 0,
        prev_hash: NO_PREVIOUS,
    };
    let second = first.next(generate_keypair(&mut rng()).1, today - 1, today + 30);
    let mut signed = Vec::new();
    for st in [&first, &second] {
        let sst = SignedStatement::sign(st.clone(), &[&signer]).unwrap();
        quietline::admin::add_signed_force_key(s, "north", &sst.to_base64url(), today)
            .await
            .unwrap();
        signed.push(sst.as_bytes().to_vec());
    }

    let client = Client::new(&server.base, None).unwrap();
    let key = client.keylog_key().await.unwrap();
    assert_eq!(key.name(), quietline::config::DEFAULT_KEYLOG_ORIGIN);
    let cp = key
        .open_checkpoint(&client.keylog_checkpoint().await.unwrap())
        .unwrap();
    assert_eq!(cp.size, 2);
    let entries = client.keylog_entries(0, 2).await.unwrap();
    assert_eq!(entries, signed);
    assert_eq!(keylog::tree_root(&entries).unwrap(), cp.root);
    assert!(client.keylog_entries(1, 1).await.unwrap().is_empty());

    let dir = client.forces().await.unwrap();
    assert_eq!(dir[0].log_index, Some(1));
    let served = SignedStatement::from_base64url(dir[0].statement.as_deref().unwrap()).unwrap();
    let proof = client.keylog_inclusion(1, cp.size).await.unwrap();
    keylog::verify_inclusion(served.as_bytes(), 1, cp.size, &proof, &cp.root).unwrap();
    let proof = client.keylog_consistency(1, 2).await.unwrap();
    let old = keylog::tree_root(&entries[..1]).unwrap();
    keylog::verify_consistency(1, 2, &proof, &old, &cp.root).unwrap();
    assert!(client.keylog_consistency(0, 2).await.unwrap().is_empty());

    bad_range(client.keylog_entries(1, 3).await);
    bad_range(client.keylog_inclusion(2, 2).await);
    bad_range(client.keylog_consistency(1, 3).await);
    // A backwards range is refused before asking.
    assert!(matches!(
        client.keylog_entries(2, 1).await,
        Err(ClientError::BadResponse { .. })
    ));
    server.stop().await;
}

on_both_backends!(keylog_calls);

//! The force's watch of its keys (issue 20, part 4) where it touches the
//! vault, on both vault backends: the key log's pinned key and last
//! checkpoint kept between pulls (against a real intake server in process),
//! and the alarm raised until cleared, with one audit entry per alarm for the
//! background loop. The console's and the desk's integration tests cover the
//! alarms end to end (exit code 3, banner).

use quietline_casework::audit::Actor;
use quietline_casework::client::Client;
use quietline_casework::vault::Vault;
use quietline_casework::watch::{
    self, ActiveAlarm, CHECKPOINT_META, LOG_KEY_META, LogRefusal, Ours,
};
use quietline_crypto::keylog::LogSigner;
use quietline_crypto::keys::{PublicKey, generate_keypair};
use quietline_crypto::statement::{
    KeyStatement, NO_PREVIOUS, SignedStatement, SignerSet, SigningSecret,
};
use quietline_testkit::on_both_backends;
use quietline_testkit::server::{TestServer, rng};

use crate::support::{Backend, TestVault};

on_both_backends!(
    the_vault_keeps_the_logs_key_and_checkpoint_between_pulls,
    an_alarm_stays_raised_until_cleared,
);

fn today() -> u32 {
    u32::try_from(quietline::day::today()).unwrap()
}

async fn register(server: &TestServer, s: &SignedStatement) {
    quietline::admin::add_signed_force_key(
        server.storage.as_ref(),
        "north",
        &s.to_base64url(),
        today(),
    )
    .await
    .unwrap();
}

async fn check(
    vault: &Vault,
    client: &Client,
    set: &SignerSet,
    current: &PublicKey,
    statements: &[SignedStatement],
) -> Result<Option<String>, LogRefusal> {
    let served = client
        .forces()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == "north")
        .unwrap();
    watch::check_log(
        vault,
        client,
        Ours {
            force: "north",
            signers: Some(set),
            current,
            statements,
            served: &served,
        },
    )
    .await
}

fn kept_size(note: &str) -> &str {
    note.lines().nth(1).unwrap()
}

async fn the_vault_keeps_the_logs_key_and_checkpoint_between_pulls(backend: Backend) {
    let Some(tv) = TestVault::new(backend).await else {
        return;
    };
    let vault = tv.open().await;
    let server = TestServer::start(quietline_testkit::server::Backend::Sqlite)
        .await
        .unwrap();
    quietline::admin::add_force(server.storage.as_ref(), "north", "North")
        .await
        .unwrap();
    let ours = SigningSecret::generate(&mut rng());
    let set = quietline::admin::set_force_signers(
        server.storage.as_ref(),
        "north",
        &[ours.public_key().to_base64url()],
        1,
    )
    .await
    .unwrap();
    let (_, pk) = generate_keypair(&mut rng());
    let s0 = SignedStatement::sign(
        KeyStatement {
            force_id: "north".into(),
            public_key: pk.clone(),
            valid_from: today() - 1,
            valid_until: today() + 100,
            sequence: 0,
            prev_hash: NO_PREVIOUS,
        },
        &[&ours],
    )
    .unwrap();
    register(&server, &s0).await;
    let client = Client::new(&server.base, None).unwrap();

    // First sight: the log's key is pinned and its checkpoint kept.
    assert!(matches!(
        check(&vault, &client, &set, &pk, std::slice::from_ref(&s0)).await,
        Ok(None)
    ));
    let pinned = vault.meta(LOG_KEY_META).await.unwrap().expect("pinned");
    assert_eq!(pinned, client.keylog_key().await.unwrap().to_vkey());
    let kept = vault.meta(CHECKPOINT_META).await.unwrap().unwrap();
    assert_eq!(kept_size(&kept), "1");

    // A rotation grows the log; the kept checkpoint follows it.
    let (_, pk2) = generate_keypair(&mut rng());
    let s1 = SignedStatement::sign(
        s0.statement().next(pk2.clone(), today() - 1, today() + 100),
        &[&ours],
    )
    .unwrap();
    register(&server, &s1).await;
    let both = [s0.clone(), s1.clone()];
    assert!(matches!(
        check(&vault, &client, &set, &pk2, &both).await,
        Ok(None)
    ));
    assert_eq!(
        kept_size(&vault.meta(CHECKPOINT_META).await.unwrap().unwrap()),
        "2"
    );

    // A second look at an unchanged log is quiet too.
    assert!(matches!(
        check(&vault, &client, &set, &pk2, &both).await,
        Ok(None)
    ));

    // A log key other than the pinned one is an alarm, not a new pin.
    let other = LogSigner::from_seed("example.org/other-log", &[7; 32])
        .unwrap()
        .log_key()
        .to_vkey();
    vault.set_meta(LOG_KEY_META, Some(&other)).await.unwrap();
    match check(&vault, &client, &set, &pk2, &both).await {
        Err(LogRefusal::Alarm(a)) => {
            assert_eq!(a.check, "log-key");
            assert!(a.seen.contains("example.org/other-log"), "{}", a.seen);
        }
        other => panic!("expected the log-key alarm, got {other:?}"),
    }
    assert_eq!(vault.meta(LOG_KEY_META).await.unwrap(), Some(other));
    vault.set_meta(LOG_KEY_META, Some(&pinned)).await.unwrap();

    // Entries for the force must be signed by the home's signing keys: with
    // another signer set, the force's own statements are foreign.
    let theirs = SigningSecret::generate(&mut rng());
    let wrong = SignerSet::single(theirs.public_key());
    match check(&vault, &client, &wrong, &pk2, &both).await {
        Err(LogRefusal::Alarm(a)) => assert_eq!(a.check, "log-foreign"),
        other => panic!("expected the log-foreign alarm, got {other:?}"),
    }
    vault.close().await;
    server.stop().await;
    tv.cleanup().await;
}

async fn an_alarm_stays_raised_until_cleared(backend: Backend) {
    let Some(tv) = TestVault::new(backend).await else {
        return;
    };
    let vault = tv.open().await;
    let actor = Actor::current(Some("desk (background pull)".into()));
    assert_eq!(watch::active(&vault).await.unwrap(), None);
    let alarm = ActiveAlarm {
        at: "2026-12-07T06:00:00Z".into(),
        check: "log-inconsistent".into(),
        detail: "log-inconsistent: force north: rewritten".into(),
    };
    assert!(
        watch::sound(&vault, &actor, "key-alarm", &alarm, true)
            .await
            .unwrap()
    );
    // The same alarm again, from the background loop: no second entry.
    let again = ActiveAlarm {
        at: "2026-12-07T06:01:00Z".into(),
        ..alarm.clone()
    };
    assert!(
        !watch::sound(&vault, &actor, "key-alarm", &again, true)
            .await
            .unwrap()
    );
    assert_eq!(watch::active(&vault).await.unwrap(), Some(again.clone()));
    // From a person (not quiet), or with other words: an entry each.
    assert!(
        watch::sound(&vault, &actor, "key-alarm", &again, false)
            .await
            .unwrap()
    );
    let other = ActiveAlarm {
        detail: "log-shrunk: force north: lost entries".into(),
        check: "log-shrunk".into(),
        ..again
    };
    assert!(
        watch::sound(&vault, &actor, "key-alarm", &other, true)
            .await
            .unwrap()
    );
    let log = Vault::collect(vault.audit_entries()).await.unwrap();
    assert_eq!(log.iter().filter(|r| r.action == "key-alarm").count(), 3);
    assert!(
        log.iter()
            .any(|r| r.detail.as_deref() == Some(other.detail.as_str()))
    );
    watch::clear(&vault).await.unwrap();
    assert_eq!(watch::active(&vault).await.unwrap(), None);
    vault.close().await;
    tv.cleanup().await;
}

//! The vault's conformance suite: every test runs on the SQLite file and on
//! PostgreSQL (`…::sqlite` and `…::postgres`), through the one `Vault`
//! handle, so both backends keep the same contract: every method, the change
//! counter in commit order under concurrent writers, claims racing (exactly
//! one wins), one linear audit chain with two writers, a newer schema
//! refused, and nothing a reporter or handler wrote readable in a dump.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use quietline_casework::audit::{self, Actor};
use quietline_casework::records::{self, Record, RecordBody};
use quietline_casework::vault::{
    AccountRow, NewEnvelope, PendingRow, SCHEMA_VERSION, SessionRow, Vault, VaultError,
};
use quietline_crypto::seal::seal_report;
use quietline_testkit::on_both_backends;
use sha2::{Digest, Sha256};

use crate::support::{Backend, TestVault, contains_text, key_ring};

on_both_backends!(
    every_method_keeps_the_contract,
    batched_lookups_and_inserts_match_the_single_ones,
    changes_follow_commit_order_with_two_writers,
    claims_race_and_exactly_one_wins,
    audit_chain_stays_linear_with_two_writers,
    a_newer_schema_is_refused,
    a_version_4_vault_gains_pending_sign_ins,
    attachments_keep_their_state_and_parts,
    a_dump_without_the_keys_holds_no_written_text,
    deleting_reports_removes_their_rows_and_leaves_tombstones,
);

/// A report id from a number (32 lowercase hex digits).
fn rid(i: u64) -> String {
    format!("{i:032x}")
}

fn envelope(i: u64) -> NewEnvelope {
    NewEnvelope {
        id: rid(i),
        day: format!("2026-11-{:02}", 1 + i % 28),
        key_id: "00".repeat(8),
        envelope: i.to_be_bytes().to_vec(),
        sha256: Sha256::digest(i.to_be_bytes()).into(),
        flag: None,
    }
}

fn account(name: &str) -> AccountRow {
    AccountRow {
        name: name.to_owned(),
        role: "handler".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        totp_sealed: None,
        disabled: false,
        must_enrol: true,
        failed_logins: 0,
        locked_until: None,
        created: "2026-12-07".to_owned(),
        generation: 1,
    }
}

async fn every_method_keeps_the_contract(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let v = t.open().await;
    assert!(!format!("{v:?}").is_empty());

    // Envelopes: idempotent batches, lookups, streams, counts, prefixes.
    assert_eq!(v.high_water().await.unwrap(), 0);
    let mut flagged = envelope(3);
    flagged.flag = Some(("malformed".into(), "not an envelope".into()));
    assert_eq!(
        v.insert_envelopes(&[envelope(1), envelope(2), flagged, envelope(1)])
            .await
            .unwrap(),
        3
    );
    assert_eq!(v.insert_envelopes(&[envelope(2)]).await.unwrap(), 0);
    assert_eq!(v.insert_envelopes(&[]).await.unwrap(), 0);
    assert!(v.contains(&rid(1)).await.unwrap());
    assert!(!v.contains(&rid(9)).await.unwrap());
    assert_eq!(
        v.id_by_sha256(&envelope(2).sha256).await.unwrap(),
        Some(rid(2))
    );
    assert_eq!(v.id_by_sha256(&[0; 32]).await.unwrap(), None);
    let e3 = v.envelope(&rid(3)).await.unwrap().unwrap();
    assert_eq!(
        e3.flag,
        Some(("malformed".to_owned(), "not an envelope".to_owned()))
    );
    assert_eq!((e3.n, e3.learned), (3, Some(0)));
    assert_eq!(e3.envelope, 3u64.to_be_bytes().to_vec());
    assert!(v.envelope(&rid(9)).await.unwrap().is_none());
    let days: Vec<(String, String)> = Vault::collect(v.envelopes())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.day, e.id))
        .collect();
    let mut sorted = days.clone();
    sorted.sort();
    assert_eq!(days, sorted, "by day, then id");
    assert_eq!(days.len(), 3);
    assert_eq!(v.counts().await.unwrap(), (3, 1));
    assert_eq!(v.resolve(&rid(2)[..]).await.unwrap(), rid(2));
    assert!(matches!(
        v.resolve("0000").await,
        Err(VaultError::Ambiguous { count: 3, .. })
    ));
    assert!(matches!(
        v.resolve("ffff").await,
        Err(VaultError::NoSuchReport(_))
    ));
    assert!(matches!(
        v.resolve("zz").await,
        Err(VaultError::BadPrefix(_))
    ));

    // Records: the same counter, open kinds, per report and per kind.
    assert_eq!(v.add_record(&rid(1), "note", b"n1").await.unwrap(), 4);
    assert_eq!(v.add_record(&rid(2), "status", b"s1").await.unwrap(), 5);
    assert_eq!(v.add_record(&rid(1), "assign", b"a1").await.unwrap(), 6);
    assert_eq!(v.add_record(&rid(1), "priority-x", b"p1").await.unwrap(), 7);
    assert!(matches!(
        v.add_record(&rid(1), "Note", b"x").await,
        Err(VaultError::BadKind(_))
    ));
    assert!(matches!(
        v.add_record(&rid(9), "note", b"x").await,
        Err(VaultError::NoSuchReport(_))
    ));
    assert_eq!(v.record_count().await.unwrap(), 4);
    let of_1: Vec<(i64, String)> = v
        .records_for(&rid(1))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, r.kind))
        .collect();
    assert_eq!(
        of_1,
        vec![
            (4, "note".to_owned()),
            (6, "assign".to_owned()),
            (7, "priority-x".to_owned())
        ]
    );
    let statuses = Vault::collect(v.records_of_kind("status")).await.unwrap();
    assert_eq!(statuses.len(), 1);
    assert_eq!(
        (
            statuses[0].report_id.as_str(),
            statuses[0].sealed.as_slice()
        ),
        (rid(2).as_str(), &b"s1"[..])
    );
    // An envelope stored now is learned after record 7.
    v.insert_envelopes(&[envelope(4)]).await.unwrap();
    let e4 = v.envelope(&rid(4)).await.unwrap().unwrap();
    assert_eq!((e4.n, e4.learned), (8, Some(7)));
    assert_eq!(v.high_water().await.unwrap(), 8);

    // Changes: in n order, cut at the limit, continued from `high`.
    let all = v.changes_since(0, 100).await.unwrap();
    assert_eq!(
        all.envelopes.iter().map(|e| e.n).collect::<Vec<_>>(),
        vec![1, 2, 3, 8]
    );
    assert_eq!(
        all.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![4, 5, 6, 7]
    );
    assert_eq!(all.high, 8);
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = v.changes_since(after, 3).await.unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.envelopes.iter().map(|e| e.n));
        seen.extend(page.records.iter().map(|r| r.seq));
        assert!(page.high >= after);
        if page.is_empty() {
            break;
        }
        after = page.high;
    }
    seen.sort();
    assert_eq!(seen, (1..=8).collect::<Vec<_>>());
    let none = v.changes_since(8, 10).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(none.high, 8);

    // Meta.
    assert_eq!(v.meta("cursor").await.unwrap(), None);
    v.set_meta("cursor", Some("a")).await.unwrap();
    v.set_meta("cursor", Some("b")).await.unwrap();
    assert_eq!(v.meta("cursor").await.unwrap(), Some("b".to_owned()));
    v.set_meta("cursor", None).await.unwrap();
    assert_eq!(v.meta("cursor").await.unwrap(), None);

    // Audit.
    let actor = Actor {
        os_user: "tester".into(),
        handler: Some("ann".into()),
    };
    audit::record(&v, &actor, "show", Some(&rid(1)), None)
        .await
        .unwrap();
    let second = audit::record(&v, &actor, "export", Some(&rid(1)), Some("json".into()))
        .await
        .unwrap();
    assert_eq!(second.seq, 2);
    let entries = Vault::collect(v.audit_entries()).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1], second);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
    assert!(audit::verify(&v).await.unwrap().problems.is_empty());

    // Accounts.
    let mut ann = account("ann");
    v.insert_account(&ann).await.unwrap();
    v.insert_account(&account("bob")).await.unwrap();
    assert!(matches!(
        v.insert_account(&ann).await,
        Err(VaultError::AccountExists(n)) if n == "ann"
    ));
    ann.role = "supervisor".into();
    ann.totp_sealed = Some(vec![1, 2, 3]);
    ann.disabled = true;
    ann.must_enrol = false;
    ann.failed_logins = 3;
    ann.locked_until = Some(1_800_000_000);
    ann.generation = 2;
    v.update_account(&ann).await.unwrap();
    assert_eq!(v.account("ann").await.unwrap(), Some(ann.clone()));
    assert_eq!(v.account("nobody").await.unwrap(), None);
    assert_eq!(
        v.accounts()
            .await
            .unwrap()
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        vec!["ann", "bob"]
    );
    assert!(matches!(
        v.update_account(&account("nobody")).await,
        Err(VaultError::NoSuchAccount(_))
    ));
    assert!(!format!("{ann:?}").contains("argon2id"));

    // Sessions.
    let s = |id: u8, account: &str, created: i64, last_seen: i64| SessionRow {
        id_hash: [id; 32],
        account: account.to_owned(),
        generation: 1,
        csrf: format!("csrf-{id}"),
        created,
        last_seen,
    };
    v.insert_session(&s(1, "ann", 100, 100)).await.unwrap();
    v.insert_session(&s(2, "ann", 200, 200)).await.unwrap();
    v.insert_session(&s(3, "bob", 300, 300)).await.unwrap();
    assert!(matches!(
        v.insert_session(&s(4, "nobody", 1, 1)).await,
        Err(VaultError::NoSuchAccount(_))
    ));
    assert_eq!(
        v.session(&[1; 32]).await.unwrap(),
        Some(s(1, "ann", 100, 100))
    );
    assert!(v.touch_session(&[1; 32], 150).await.unwrap());
    assert!(!v.touch_session(&[9; 32], 150).await.unwrap());
    assert_eq!(v.session(&[1; 32]).await.unwrap().unwrap().last_seen, 150);
    assert!(!format!("{:?}", s(1, "ann", 1, 1)).contains("csrf-1"));
    // Idle: last seen before 160 → session 1; absolute: created before 250 → 2.
    assert_eq!(v.purge_sessions(0, 160).await.unwrap(), 1);
    assert_eq!(v.purge_sessions(250, 0).await.unwrap(), 1);
    assert!(v.session(&[2; 32]).await.unwrap().is_none());
    v.insert_session(&s(5, "bob", 400, 400)).await.unwrap();
    assert_eq!(v.delete_sessions_of("bob").await.unwrap(), 2);
    v.insert_session(&s(6, "ann", 500, 500)).await.unwrap();
    assert!(v.delete_session(&[6; 32]).await.unwrap());
    assert!(!v.delete_session(&[6; 32]).await.unwrap());

    // Pending sign-ins (schema 5): stored by hash, updated, purged by age.
    let p = |id: u8, account: &str, created: i64| PendingRow {
        id_hash: [id; 32],
        account: account.to_owned(),
        next: "code".to_owned(),
        created,
        new_hash: None,
        secret_sealed: None,
        tries: 0,
    };
    v.insert_pending(&p(1, "ann", 100)).await.unwrap();
    v.insert_pending(&p(2, "bob", 200)).await.unwrap();
    assert!(matches!(
        v.insert_pending(&p(3, "nobody", 1)).await,
        Err(VaultError::NoSuchAccount(_))
    ));
    assert!(
        v.insert_pending(&p(1, "ann", 100)).await.is_err(),
        "one row per token"
    );
    assert_eq!(v.pending(&[1; 32]).await.unwrap(), Some(p(1, "ann", 100)));
    assert_eq!(v.pending(&[9; 32]).await.unwrap(), None);
    let mut enrol = p(1, "ann", 100);
    enrol.next = "enrol".into();
    enrol.new_hash = Some("$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA".into());
    enrol.secret_sealed = Some(vec![7; 80]);
    enrol.tries = 2;
    assert!(v.update_pending(&enrol).await.unwrap());
    assert!(!v.update_pending(&p(9, "ann", 1)).await.unwrap());
    assert_eq!(v.pending(&[1; 32]).await.unwrap(), Some(enrol.clone()));
    let shown = format!("{enrol:?}");
    assert!(
        !shown.contains("argon2id") && !shown.contains("7, 7"),
        "{shown}"
    );
    assert_eq!(v.purge_pending(150).await.unwrap(), 1);
    assert!(v.pending(&[1; 32]).await.unwrap().is_none());
    assert!(v.delete_pending(&[2; 32]).await.unwrap());
    assert!(!v.delete_pending(&[2; 32]).await.unwrap());

    // Seen markers: the higher n is kept; unsee clears.
    v.seen(&rid(1), "ann", 5).await.unwrap();
    v.seen(&rid(1), "ann", 4).await.unwrap();
    v.seen(&rid(1), "bob", 7).await.unwrap();
    v.seen(&rid(2), "ann", 6).await.unwrap();
    assert_eq!(
        v.seen_of(&rid(1)).await.unwrap(),
        vec![("ann".to_owned(), 5), ("bob".to_owned(), 7)]
    );
    assert_eq!(
        v.seen_all().await.unwrap(),
        vec![
            (rid(1), "ann".to_owned(), 5),
            (rid(1), "bob".to_owned(), 7),
            (rid(2), "ann".to_owned(), 6)
        ]
    );
    assert!(v.unsee(&rid(1), "ann").await.unwrap());
    assert!(!v.unsee(&rid(1), "ann").await.unwrap());
    assert_eq!(
        v.seen_of(&rid(1)).await.unwrap(),
        vec![("bob".to_owned(), 7)]
    );

    // Claims.
    let key = hex::encode(Sha256::digest(b"thread"));
    assert!(v.claim_slot(&key, 0, "ann").await.unwrap());
    assert!(!v.claim_slot(&key, 0, "bob").await.unwrap());
    assert!(v.claim_slot(&key, 1, "bob").await.unwrap());
    assert!(
        v.claim_slot(&hex::encode(Sha256::digest(b"other")), 0, "bob")
            .await
            .unwrap()
    );
    assert_eq!(
        v.claims_of(&key).await.unwrap(),
        vec![(0, "ann".to_owned()), (1, "bob".to_owned())]
    );
    assert!(v.release_slot(&key, 0).await.unwrap());
    assert!(!v.release_slot(&key, 0).await.unwrap());
    assert!(v.claim_slot(&key, 0, "bob").await.unwrap());
    assert!(matches!(
        v.claim_slot("not-a-hash", 0, "ann").await,
        Err(VaultError::BadThreadKey(_))
    ));

    // Everything survives a reopen by another handle.
    v.close().await;
    let w = t.open().await;
    assert_eq!(w.high_water().await.unwrap(), 8);
    assert_eq!(w.account("ann").await.unwrap(), Some(ann));
    assert_eq!(w.claims_of(&key).await.unwrap().len(), 2);
    w.close().await;
    t.cleanup().await;
}

/// The batched calls a pull makes (`contains_many`, `ids_by_sha256_many`,
/// and `insert_envelopes` with more rows than one statement takes) answer
/// exactly what the one-at-a-time calls answer, across the backends' list
/// and statement sizes: held ids, the smallest id per hash, the first copy
/// of an id in a batch winning, ids already stored taking no `n`, and the
/// new ones taking consecutive `n` in batch order.
async fn batched_lookups_and_inserts_match_the_single_ones(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let v = t.open().await;
    assert!(v.contains_many(&[]).await.unwrap().is_empty());
    assert!(v.ids_by_sha256_many(&[]).await.unwrap().is_empty());

    // Some stored first: every third of 0..1300.
    let early: Vec<NewEnvelope> = (0..1300).step_by(3).map(envelope).collect();
    assert_eq!(v.insert_envelopes(&early).await.unwrap(), 434);
    assert_eq!(v.high_water().await.unwrap(), 434);
    v.add_record(&rid(0), "note", b"sealed elsewhere")
        .await
        .unwrap();

    // One batch of 1,300 (more than one statement's rows): a third already
    // stored, one id twice (the first copy wins), and two new envelopes with
    // the bytes of stored ones (twins under other ids).
    let mut batch: Vec<NewEnvelope> = (0..1300).map(envelope).collect();
    let mut second_copy = envelope(1);
    second_copy.envelope = b"another body".to_vec();
    second_copy.sha256 = Sha256::digest(b"another body").into();
    batch.insert(5, second_copy);
    let mut twin = envelope(3);
    twin.id = rid(5_000);
    batch.push(twin);
    let mut twin_of_new = envelope(4);
    twin_of_new.id = rid(5_001);
    batch.push(twin_of_new);
    assert_eq!(v.insert_envelopes(&batch).await.unwrap(), 866 + 2);
    assert_eq!(v.high_water().await.unwrap(), 435 + 868);
    let one = v.envelope(&rid(1)).await.unwrap().unwrap();
    assert_eq!(one.envelope, 1u64.to_be_bytes().to_vec(), "first copy wins");
    // New rows numbered in batch order from the counter on, learned after
    // the record.
    let new_ns: Vec<(i64, Option<i64>)> = {
        let mut ids: Vec<String> = (0..1300u64).filter(|i| i % 3 != 0).map(rid).collect();
        ids.push(rid(5_000));
        ids.push(rid(5_001));
        let mut out = Vec::new();
        for id in ids {
            let e = v.envelope(&id).await.unwrap().unwrap();
            out.push((e.n, e.learned));
        }
        out
    };
    let expected: Vec<(i64, Option<i64>)> = (436..436 + 868).map(|n| (n, Some(435))).collect();
    assert_eq!(new_ns, expected);
    // A batch of stored ids only adds nothing and takes no n.
    assert_eq!(v.insert_envelopes(&batch[..700]).await.unwrap(), 0);
    assert_eq!(v.high_water().await.unwrap(), 435 + 868);

    // contains_many = contains, for held and unheld ids, asked twice.
    let mut asked: Vec<String> = (0..1700u64).map(rid).collect();
    asked.push(rid(5_000));
    asked.push(rid(7));
    let held = v.contains_many(&asked).await.unwrap();
    let mut one_by_one = HashSet::new();
    for id in &asked {
        if v.contains(id).await.unwrap() {
            one_by_one.insert(id.clone());
        }
    }
    assert_eq!(held, one_by_one);
    assert_eq!(held.len(), 1301);
    assert!(!held.contains(&rid(1300)));

    // ids_by_sha256_many = id_by_sha256: the smallest id of each hash held,
    // none for a hash no envelope has.
    let mut hashes: Vec<[u8; 32]> = (0..1400u64).map(|i| envelope(i).sha256).collect();
    hashes.push([0; 32]);
    hashes.push(envelope(3).sha256);
    let twins = v.ids_by_sha256_many(&hashes).await.unwrap();
    let mut single = HashMap::new();
    for h in &hashes {
        if let Some(id) = v.id_by_sha256(h).await.unwrap() {
            single.insert(*h, id);
        }
    }
    assert_eq!(twins, single);
    assert_eq!(twins.len(), 1300);
    assert_eq!(twins.get(&envelope(3).sha256), Some(&rid(3)), "smallest id");
    assert_eq!(twins.get(&envelope(4).sha256), Some(&rid(4)));
    assert!(!twins.contains_key(&[0; 32]));
    v.close().await;
    t.cleanup().await;
}

/// Two handles (two desks) write envelopes and records at once while a third
/// follows `changes_since`: the follower sees every n exactly once, no n is
/// skipped or repeated, and n ends as 1..=N with no gap.
async fn changes_follow_commit_order_with_two_writers(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let first = t.open().await;
    let second = t.open().await;
    let follower = t.open().await;
    // A report for the records to hang on.
    first.insert_envelopes(&[envelope(0)]).await.unwrap();
    const ROUNDS: u64 = 40;
    let done = Arc::new(AtomicBool::new(false));
    let follow = {
        let (v, done) = (follower.clone(), done.clone());
        tokio::spawn(async move {
            let mut after = 0;
            let mut got = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let page = v.changes_since(after, 7).await.unwrap();
                let mut ns: Vec<i64> = page
                    .envelopes
                    .iter()
                    .map(|e| e.n)
                    .chain(page.records.iter().map(|r| r.seq))
                    .collect();
                ns.sort();
                assert!(ns.iter().all(|&n| n > after), "{ns:?} after {after}");
                got.extend(ns);
                let empty = page.is_empty();
                after = page.high;
                if finished && empty {
                    return got;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut writers = Vec::new();
    for (w, v) in [first.clone(), second.clone()].into_iter().enumerate() {
        let w = w as u64;
        writers.push(tokio::spawn({
            let v = v.clone();
            async move {
                for i in 0..ROUNDS {
                    let base = 1000 * (w + 1) + 2 * i;
                    v.insert_envelopes(&[envelope(base), envelope(base + 1)])
                        .await
                        .unwrap();
                }
            }
        }));
        writers.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                v.add_record(&rid(0), "note", b"sealed elsewhere")
                    .await
                    .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let got = follow.await.unwrap();
    let total = 1 + 2 * (2 * ROUNDS + ROUNDS) as i64;
    assert_eq!(first.high_water().await.unwrap(), total);
    let unique: BTreeSet<i64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "an n was delivered twice");
    let expected: BTreeSet<i64> = (1..=total).collect();
    assert_eq!(unique, expected, "the follower missed changes");
    for v in [first, second, follower] {
        v.close().await;
    }
    t.cleanup().await;
}

/// Many callers on two handles claim the same slots at once: exactly one
/// wins each slot.
async fn claims_race_and_exactly_one_wins(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let handles = [t.open().await, t.open().await];
    let key = hex::encode(Sha256::digest(b"a thread"));
    for slot in 0..5u32 {
        let mut racers = Vec::new();
        for i in 0..8 {
            let v = handles[i % 2].clone();
            let key = key.clone();
            racers.push(tokio::spawn(async move {
                v.claim_slot(&key, slot, &format!("handler-{i}"))
                    .await
                    .unwrap()
            }));
        }
        let mut wins = 0;
        for r in racers {
            wins += usize::from(r.await.unwrap());
        }
        assert_eq!(wins, 1, "slot {slot}");
    }
    assert_eq!(handles[0].claims_of(&key).await.unwrap().len(), 5);
    for v in handles {
        v.close().await;
    }
    t.cleanup().await;
}

/// Two handles append audit entries at once: one chain, no fork, no gap.
async fn audit_chain_stays_linear_with_two_writers(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let handles = [t.open().await, t.open().await];
    let mut tasks = Vec::new();
    for (i, v) in handles.iter().enumerate() {
        for j in 0..15 {
            let v = v.clone();
            tasks.push(tokio::spawn(async move {
                let actor = Actor {
                    os_user: format!("desk-{i}"),
                    handler: Some(format!("acct-{j}")),
                };
                audit::record(&v, &actor, "show", None, None).await.unwrap()
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let check = audit::verify(&handles[1]).await.unwrap();
    assert_eq!(check.entries, 30);
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    for v in handles {
        v.close().await;
    }
    t.cleanup().await;
}

async fn a_newer_schema_is_refused(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let v = t.open().await;
    v.insert_envelopes(&[envelope(1)]).await.unwrap();
    v.close().await;
    t.raw_sql(&format!(
        "UPDATE schema_version SET version = {}",
        SCHEMA_VERSION + 1
    ))
    .await;
    let e = Vault::connect(&t.target).await.unwrap_err();
    assert!(matches!(e, VaultError::NewerVersion { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&format!(
            "newer quietline-console (schema version {}",
            SCHEMA_VERSION + 1
        )),
        "{e}"
    );
    // Nothing was changed: the version is still the newer one.
    assert!(Vault::connect(&t.target).await.is_err());
    t.cleanup().await;
}

/// A vault of schema version 4 (before pending sign-ins were stored) is
/// upgraded in place when opened: its rows stay, the table appears.
async fn a_version_4_vault_gains_pending_sign_ins(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let v = t.open().await;
    v.insert_envelopes(&[envelope(1)]).await.unwrap();
    v.insert_account(&account("ann")).await.unwrap();

    v.close().await;
    t.raw_sql("DROP TABLE blob_parts").await;
    t.raw_sql("DROP TABLE attachments").await;
    t.raw_sql("DROP TABLE pending_sign_ins").await;
    t.raw_sql("UPDATE schema_version SET version = 4").await;
    let v = t.open().await;
    assert!(v.contains(&rid(1)).await.unwrap());
    v.insert_pending(&PendingRow {
        id_hash: [1; 32],
        account: "ann".into(),
        next: "code".into(),
        created: 1,
        new_hash: None,
        secret_sealed: None,
        tries: 0,
    })
    .await
    .unwrap();
    assert!(v.pending(&[1; 32]).await.unwrap().is_some());
    // Through version 5 to 6 (attachments): the new tables work.
    v.add_attachment_slots(&[(rid(1), 1)]).await.unwrap();
    assert_eq!(v.attachments_of(&rid(1)).await.unwrap().len(), 1);
    v.close().await;
    assert_eq!(SCHEMA_VERSION, 6);
    t.cleanup().await;
}

/// A canary written through the sealing path (a report envelope, a note, a
/// reply copy, a TOTP secret) is absent from every table of a dump, raw or
/// hex; the keys still open it, so it really was there.
async fn a_dump_without_the_keys_holds_no_written_text(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    const CANARY: &str = "CANARY-7f3a-reporter-and-handler-text";
    let ring = key_ring(t.dir(), "north");
    let current = ring.current_public_key();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let v = t.open().await;

    let report = seal_report(
        &mut rng,
        "north",
        &current,
        format!("{{\"details\":\"{CANARY} in the report\"}}").as_bytes(),
    )
    .unwrap();
    let mut e = envelope(1);
    e.envelope = report;
    v.insert_envelopes(&[e]).await.unwrap();
    for body in [
        RecordBody::Note {
            text: format!("{CANARY} in a note"),
        },
        RecordBody::Reply {
            thread: "ab".repeat(16),
            slot: 0,
            from: "Desk".into(),
            message: format!("{CANARY} in a reply"),
            lang: None,
        },
    ] {
        let record = Record {
            v: records::RECORD_VERSION,
            report: rid(1),
            at: "2026-12-07T10:00:00Z".into(),
            by: "ann".into(),
            body,
        };
        records::add(&v, "north", &current, &record).await.unwrap();
    }
    let mut ann = account("ann");
    ann.totp_sealed = Some(
        seal_report(
            &mut rng,
            "north",
            &current,
            format!("{CANARY}-TOTP-SECRET").as_bytes(),
        )
        .unwrap(),
    );
    v.insert_account(&ann).await.unwrap();
    audit::record(
        &v,
        &Actor {
            os_user: "tester".into(),
            handler: Some("ann".into()),
        },
        "note",
        Some(&rid(1)),
        None,
    )
    .await
    .unwrap();

    // The keys open what was written.
    for row in v.records_for(&rid(1)).await.unwrap() {
        // (records::open is crate-private: front ends read through the Desk.)
        let (plain, _) = ring.open_kind1(&row.sealed).unwrap();
        assert!(String::from_utf8_lossy(&plain).contains(CANARY));
    }
    let (secret, _) = ring
        .open_kind1(
            v.account("ann")
                .await
                .unwrap()
                .unwrap()
                .totp_sealed
                .as_deref()
                .unwrap(),
        )
        .unwrap();
    assert!(secret.starts_with(CANARY.as_bytes()));
    v.close().await;

    let dump = t.dump().await;
    // The dump is real: plaintext-by-design fields are in it.
    assert!(contains_text(&dump, &rid(1)));
    assert!(contains_text(&dump, "ann"));
    for needle in [CANARY, "CANARY", "TOTP-SECRET"] {
        assert!(
            !contains_text(&dump, needle),
            "{needle} is readable at rest"
        );
    }
    t.cleanup().await;
}

// ---------------------------------------------------------------- PostgreSQL only

/// The URL's password never shows: not in a connection error, not in the
/// handle's Debug or path.
#[tokio::test]
async fn postgres_url_password_is_never_printed() {
    // Nothing listens on port 1: the connection is refused.
    let e = Vault::connect("postgres://ql:s3cret-pw@127.0.0.1:1/vault")
        .await
        .unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("s3cret-pw"), "{shown}");
    assert!(
        shown.contains("postgres://ql:***@127.0.0.1:1/vault"),
        "{shown}"
    );
    let e = Vault::connect("postgres://ql:s3cret-pw@127.0.0.1:notaport/vault")
        .await
        .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("s3cret-pw"), "{e}");

    // Connected (trust auth ignores the password): Debug and path hide it.
    let Some(t) = TestVault::new(Backend::Postgres).await else {
        return;
    };
    let url = t
        .target
        .replacen("postgres://postgres@", "postgres://postgres:s3cret-pw@", 1);
    assert_ne!(url, t.target, "the test database URL changed shape");
    let v = Vault::connect(&url).await.unwrap();
    let shown = format!("{v:?} {}", v.path().display());
    assert!(!shown.contains("s3cret-pw"), "{shown}");
    assert!(shown.contains("***"), "{shown}");
    v.close().await;
    t.cleanup().await;
}

/// A database holding other tables (say the intake server's) is not taken
/// for a vault, and nothing is created in it.
#[tokio::test]
async fn postgres_database_with_other_tables_is_refused() {
    let Some(t) = TestVault::new(Backend::Postgres).await else {
        return;
    };
    t.raw_sql("CREATE TABLE reports (id TEXT)").await;
    let e = Vault::connect(&t.target).await.unwrap_err();
    assert!(e.to_string().contains("holds other tables"), "{e}");
    assert_eq!(t.tables().await, vec!["reports".to_owned()]);
    t.cleanup().await;
}

/// Several desks starting at once on an empty database: one creates the
/// schema, the others find it.
#[tokio::test]
async fn postgres_desks_starting_together_share_one_schema() {
    let Some(t) = TestVault::new(Backend::Postgres).await else {
        return;
    };
    let target = Arc::new(t.target.clone());
    let mut starts = Vec::new();
    for _ in 0..4 {
        let target = target.clone();
        starts.push(tokio::spawn(async move {
            Vault::connect(&target).await.unwrap()
        }));
    }
    for s in starts {
        let v = s.await.unwrap();
        assert_eq!(v.high_water().await.unwrap(), 0);
        v.close().await;
    }
    t.cleanup().await;
}

#[tokio::test]
async fn sqlite_target_is_a_path_and_an_empty_target_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.sqlite");
    let v = Vault::connect(path.to_str().unwrap()).await.unwrap();
    assert_eq!(v.path(), path);
    v.close().await;
    assert!(path.exists());
    assert!(matches!(
        Vault::connect("  ").await,
        Err(VaultError::BadTarget(_))
    ));
}

/// Retention (issue 17): deleting a case's reports removes them, every
/// record on them, their seen markers and the thread's claims in one go,
/// leaves the other reports alone, and leaves a tombstone per id so that a
/// pull (which asks `contains_many`) never stores them again.
async fn deleting_reports_removes_their_rows_and_leaves_tombstones(b: Backend) {
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let v = t.open().await;
    v.insert_envelopes(&[envelope(1), envelope(2), envelope(3)])
        .await
        .unwrap();
    v.add_record(&rid(1), "note", b"n1").await.unwrap();
    v.add_record(&rid(2), "reply", b"r2").await.unwrap();
    v.add_record(&rid(3), "note", b"n3").await.unwrap();
    v.seen(&rid(1), "ann", 5).await.unwrap();
    v.seen(&rid(3), "ann", 5).await.unwrap();
    // An attachment of a deleted report (issue 19) and one of a kept report.
    v.add_attachment_slots(&[(rid(1), 1), (rid(3), 1)])
        .await
        .unwrap();
    v.put_blob_part(&rid(1), 0, 0, b"deleted part")
        .await
        .unwrap();
    v.put_blob_part(&rid(3), 0, 0, b"kept part").await.unwrap();
    let key = "ab".repeat(32);
    assert!(v.claim_slot(&key, 0, "ann").await.unwrap());
    let gone = [rid(1), rid(2)];
    let d = v.delete_reports(&gone, Some(&key)).await.unwrap();
    assert_eq!((d.envelopes, d.records), (2, 2));
    assert_eq!(d.wal_truncated.is_some(), b == Backend::Sqlite);
    for id in &gone {
        assert!(v.envelope(id).await.unwrap().is_none());
        assert!(v.records_for(id).await.unwrap().is_empty());
    }
    assert!(v.seen_of(&rid(1)).await.unwrap().is_empty());
    assert_eq!(
        v.seen_of(&rid(3)).await.unwrap().len(),
        1,
        "others untouched"
    );
    assert!(v.claims_of(&key).await.unwrap().is_empty());
    assert_eq!(v.records_for(&rid(3)).await.unwrap().len(), 1);
    assert!(v.attachments_of(&rid(1)).await.unwrap().is_empty());
    assert!(v.blob_part(&rid(1), 0, 0).await.unwrap().is_none());
    assert_eq!(v.attachments_of(&rid(3)).await.unwrap().len(), 1);
    assert!(v.blob_part(&rid(3), 0, 0).await.unwrap().is_some());
    assert_eq!(v.counts().await.unwrap().0, 1);
    // Tombstones: held for a pull, not stored, and a record cannot be added.
    let asked = [rid(1), rid(2), rid(3), rid(4)];
    let held = v.contains_many(&asked).await.unwrap();
    assert_eq!(
        held,
        [rid(1), rid(2), rid(3)].into_iter().collect::<HashSet<_>>()
    );
    assert!(!v.contains(&rid(1)).await.unwrap(), "not stored");
    assert!(matches!(
        v.add_record(&rid(1), "note", b"x").await,
        Err(VaultError::NoSuchReport(_))
    ));
    let mut t = v.tombstones().await.unwrap();
    t.sort();
    assert_eq!(t, gone);
    assert_eq!(
        v.meta(quietline_casework::vault::DELETIONS)
            .await
            .unwrap()
            .as_deref(),
        Some("1"),
        "the deletion count other desks compare"
    );
    // Deleting again deletes nothing and fails nothing.
    let again = v.delete_reports(&gone, None).await.unwrap();
    assert_eq!((again.envelopes, again.records), (0, 0));
}

/// Schema 6 (issue 19): pending rows for each attachment a pull saw (added
/// before the envelope, kept when added again), the parts of a blob stored
/// and read back, the state after each fetch with its count, and which
/// attachments a pull fetches again.
async fn attachments_keep_their_state_and_parts(b: Backend) {
    use quietline_casework::vault::{ATTACHMENT_PENDING, ATTACHMENT_STORED, BLOB_PART_LEN};
    let Some(t) = TestVault::new(b).await else {
        return;
    };
    let v = t.open().await;
    // Rows may come before their envelope; zero and too many are trimmed.
    v.add_attachment_slots(&[(rid(1), 2), (rid(2), 0), (rid(3), 99)])
        .await
        .unwrap();
    v.insert_envelopes(&[envelope(1)]).await.unwrap();
    let rows = v.attachments_of(&rid(1)).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].index, 1);
    assert_eq!(rows[0].state, ATTACHMENT_PENDING);
    assert_eq!((rows[0].tries, rows[0].stored_len), (0, 0));
    assert!(v.attachments_of(&rid(2)).await.unwrap().is_empty());
    assert_eq!(v.attachments_of(&rid(3)).await.unwrap().len(), 10);

    // Parts: stored, read back, replaced, cleared.
    let big = vec![7u8; BLOB_PART_LEN];
    v.put_blob_part(&rid(1), 0, 0, &big).await.unwrap();
    v.put_blob_part(&rid(1), 0, 1, b"tail").await.unwrap();
    assert_eq!(v.blob_part(&rid(1), 0, 0).await.unwrap().unwrap(), big);
    assert_eq!(
        v.blob_part(&rid(1), 0, 1).await.unwrap().unwrap(),
        b"tail".to_vec()
    );
    assert!(v.blob_part(&rid(1), 0, 2).await.unwrap().is_none());
    assert!(v.blob_part(&rid(1), 1, 0).await.unwrap().is_none());
    v.put_blob_part(&rid(1), 0, 1, b"other").await.unwrap();
    assert_eq!(
        v.blob_part(&rid(1), 0, 1).await.unwrap().unwrap(),
        b"other".to_vec()
    );
    v.set_attachment_state(&rid(1), 0, ATTACHMENT_STORED, None, 42)
        .await
        .unwrap();
    v.set_attachment_state(
        &rid(1),
        1,
        "attachment_missing",
        Some("the server does not hold it"),
        0,
    )
    .await
    .unwrap();
    let rows = v.attachments_of(&rid(1)).await.unwrap();
    assert_eq!(rows[0].state, ATTACHMENT_STORED);
    assert_eq!((rows[0].tries, rows[0].stored_len), (1, 42));
    assert_eq!(
        rows[1].detail.as_deref(),
        Some("the server does not hold it")
    );
    // Adding the rows again keeps their state.
    v.add_attachment_slots(&[(rid(1), 2)]).await.unwrap();
    assert_eq!(v.attachments_of(&rid(1)).await.unwrap(), rows);

    // What a pull fetches: pending and missing, under the try limit.
    let due = v
        .attachments_in(&[ATTACHMENT_PENDING, "attachment_missing"], 5, 100)
        .await
        .unwrap();
    assert_eq!(due.len(), 11, "{due:?}");
    assert_eq!(
        (due[0].report_id.as_str(), due[0].index),
        (rid(1).as_str(), 1)
    );
    assert_eq!(
        v.attachments_in(&[ATTACHMENT_PENDING], 5, 3)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        v.attachments_in(&["attachment_missing"], 1, 100)
            .await
            .unwrap()
            .is_empty(),
        "fetched once already"
    );
    assert!(v.attachments_in(&[], 5, 100).await.unwrap().is_empty());
    v.clear_blob(&rid(1), 0).await.unwrap();
    assert!(v.blob_part(&rid(1), 0, 0).await.unwrap().is_none());
    v.close().await;
    t.cleanup().await;
}

//! Intake: the rules a report passes between the HTTP body and the database.
//!
//! It owns, for `POST /api/v1/reports`, everything after the body has been
//! read (media type and size are the HTTP layer's, `http/api.rs`):
//!
//! 1. the envelope's shape (`quietline_crypto::envelope::parse`), that it is
//!    a report (kind 1) and that it is routed to a force;
//! 2. the proof of work (crypto/FORMAT.md#verifying, [`crate::pow`]) — before
//!    anything that reads or writes the database;
//! 3. the force and key, skipped for a key this process has seen accepted
//!    ([`keys`]: the accepted-key cache);
//! 4. minting the report's random id;
//! 5. the durable store, which spends the challenge and checks the force and
//!    key again in the same transaction; then keeping the challenge claimed
//!    (stored, or found spent by another instance) or releasing it (any other
//!    failure), forgetting a key the store refused, and counting the accepted
//!    report for the difficulty controller.
//!
//! The same rules, with the box's caps instead of the force and key, take a
//! reporter's own copy ([`copies`], `POST /api/v1/copies/{box}`).
//!
//! It answers the new report's id or why it was [`Refused`]; choosing the
//! status and the message for each refusal is the handler's. It checks shape
//! only — it cannot and does not decrypt — and stores exactly what the storage
//! interface takes: the random id, the force, the key id, the envelope and the
//! UTC day. It never sees the request's headers other than the proof of work,
//! its connection or its time of arrival finer than the day.

pub mod copies;
pub mod keys;

use std::sync::Arc;

use quietline_crypto::envelope::{self, EnvelopeError, Kind, Routing};
use quietline_crypto::keys::KeyId;

use crate::day::Clock;
use crate::pow::{PowGuard, Refusal};
use crate::storage::{KeyStatus, NewReport, ReportId, Storage, StorageError};
use keys::KnownKeys;

/// Why a submission was not stored. Each maps to one stable API error
/// (`http/api.rs`); none carries the envelope's bytes.
#[derive(Debug)]
pub enum Refused {
    /// Not a well-formed envelope (the crypto crate says which check failed).
    Malformed(EnvelopeError),
    /// A reply envelope (kind 2) sent as a report.
    WrongKind,
    /// A report envelope not routed to a force id.
    WrongRouting,
    /// The proof of work was missing, failed a check, was spent already in
    /// this process, or its key could not be loaded.
    Pow(Refusal),
    /// The force is not hosted here.
    UnknownForce,
    /// The key is unknown to the force, or retired.
    UnknownKey,
    /// The operating system's random number generator failed, so no id
    /// could be minted.
    NoRandomId,
    /// The storage failed, or refused the challenge as spent (by another
    /// instance: [`StorageError::ChallengeSpent`]).
    Storage(StorageError),
}

/// The intake of one server process: its storage, its proof-of-work state,
/// its clock, and the keys it has seen accepted.
pub struct Intake {
    storage: Arc<dyn Storage>,
    pow: Arc<PowGuard>,
    clock: Clock,
    known_keys: KnownKeys,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake").finish_non_exhaustive()
    }
}

impl Intake {
    /// The intake over `storage`, checking proofs of work with `pow` and
    /// dating reports by `clock`.
    pub fn new(storage: Arc<dyn Storage>, pow: Arc<PowGuard>, clock: Clock) -> Self {
        Self {
            storage,
            pow,
            clock,
            known_keys: KnownKeys::default(),
        }
    }

    /// Take one report: `envelope` is the whole body, `pow_header` the
    /// `Quietline-Pow` header's value if one was sent. `Ok(id)` only once the
    /// report is durably committed (and its challenge spent).
    pub async fn submit(
        &self,
        envelope: &[u8],
        pow_header: Option<&[u8]>,
    ) -> Result<ReportId, Refused> {
        let env = envelope::parse(envelope).map_err(Refused::Malformed)?;
        if env.kind() != Kind::Report {
            return Err(Refused::WrongKind);
        }
        let Routing::Force(force_id) = env.routing() else {
            return Err(Refused::WrongRouting);
        };
        // Proof of work before anything that reads or writes the database
        // (crypto/FORMAT.md#verifying), so an unsolved flood costs a hash each.
        let claim = self
            .pow
            .check(self.storage.as_ref(), pow_header, envelope)
            .await
            .map_err(Refused::Pow)?;
        let key_id = env.key_id();
        self.check_key(force_id, &key_id).await?;
        // From here on an early return drops `claim`, which releases the
        // challenge: the sender may use it again.
        let mut id: ReportId = [0; 16];
        getrandom::fill(&mut id).map_err(|_| Refused::NoRandomId)?;
        let report = NewReport {
            id,
            force_id: force_id.to_owned(),
            key_id: key_id.0,
            envelope: envelope.to_vec(),
            day: self.clock.today(),
            pow: claim.as_ref().map(|c| c.ticket()),
        };
        // Only once this returns is the report durably committed (and its
        // challenge spent).
        let stored = self.storage.insert_report(report).await;
        if let Some(claim) = claim
            && matches!(stored, Ok(()) | Err(StorageError::ChallengeSpent))
        {
            // Spent for good: refuse it here from now on without asking the
            // database. Any other failure releases it (the Claim's Drop).
            claim.keep();
        }
        match stored {
            Ok(()) => {
                // The rate the difficulty answers (crate::pow::Aimd): a count
                // in memory, no time.
                self.pow.count_accepted();
                Ok(id)
            }
            // Retired (or gone) since this process last looked: forget it.
            Err(StorageError::UnknownKey(_)) => {
                self.known_keys.forget(force_id, &key_id);
                Err(Refused::UnknownKey)
            }
            Err(StorageError::UnknownForce(_)) => {
                self.known_keys.forget(force_id, &key_id);
                Err(Refused::UnknownForce)
            }
            Err(e) => Err(Refused::Storage(e)),
        }
    }

    /// Whether the force hosts this key as current or active. A key seen
    /// accepted before is not looked up again: the store checks it anyway in
    /// the transaction that writes the report (so a key retired since is
    /// still refused), and this read would cost a database round trip per
    /// submission.
    async fn check_key(&self, force_id: &str, key_id: &KeyId) -> Result<(), Refused> {
        if self.known_keys.contains(force_id, key_id) {
            return Ok(());
        }
        match self.storage.key_status(force_id, key_id.0).await {
            Ok(Some(KeyStatus::Current | KeyStatus::Active)) => {
                self.known_keys.insert(force_id, key_id);
                Ok(())
            }
            Ok(None | Some(KeyStatus::Retired)) => Err(Refused::UnknownKey),
            Err(StorageError::UnknownForce(_)) => Err(Refused::UnknownForce),
            Err(e) => Err(Refused::Storage(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pow::PowSettings;
    use quietline_crypto::keys::{PublicKey, generate_keypair};
    use quietline_crypto::seal::{seal_reply, seal_report};
    use rand::rand_core::UnwrapErr;
    use rand::rngs::SysRng;

    /// 2026-12-06, noon UTC: a stopped clock, so nothing depends on when the
    /// tests run.
    const NOON: u64 = 20_793 * 86_400 + 12 * 3600;

    /// An intake on a real SQLite database in a temporary directory, with the
    /// force `north` and its current key.
    struct Desk {
        _dir: tempfile::TempDir,
        storage: Arc<dyn Storage>,
        clock: Clock,
        pow: Arc<PowGuard>,
        intake: Intake,
        north: PublicKey,
    }

    fn new_key() -> PublicKey {
        generate_keypair(&mut UnwrapErr(SysRng)).1
    }

    fn report_to(force: &str, key: &PublicKey) -> Vec<u8> {
        seal_report(&mut UnwrapErr(SysRng), force, key, b"what I saw").unwrap()
    }

    async fn desk(pow: PowSettings) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("intake.sqlite").display());
        let storage = crate::storage::open(&url).await.unwrap();
        storage.add_force("north", "North").await.unwrap();
        let north = new_key();
        storage
            .add_force_key("north", north.key_id().0, north.to_bytes())
            .await
            .unwrap();
        let clock = Clock::set_at(NOON);
        let pow = Arc::new(PowGuard::new(pow, clock.clone()));
        let intake = Intake::new(storage.clone(), pow.clone(), clock.clone());
        Desk {
            _dir: dir,
            storage,
            clock,
            pow,
            intake,
            north,
        }
    }

    impl Desk {
        /// A fresh challenge from this desk's proof-of-work state, solved
        /// over `envelope`: the header a page would send.
        async fn solved(&self, envelope: &[u8]) -> String {
            let issued = self.pow.issue(self.storage.as_ref()).await.unwrap();
            quietline_crypto::pow::solve_header(&issued.challenge, envelope).unwrap()
        }
    }

    #[tokio::test]
    async fn a_report_is_stored_under_a_fresh_random_id_on_the_day_of_receipt() {
        let d = desk(PowSettings::off()).await;
        let first = report_to("north", &d.north);
        let second = report_to("north", &d.north);
        let a = d.intake.submit(&first, None).await.unwrap();
        let b = d.intake.submit(&second, None).await.unwrap();
        assert_ne!(a, b, "each report gets its own random id");
        assert_eq!(d.storage.report("north", a).await.unwrap(), Some(first));
        let inbox = d.storage.inbox("north", None, 10).await.unwrap();
        assert_eq!(inbox.len(), 2);
        assert!(inbox.iter().all(|e| e.day == d.clock.today()));
        d.storage.close().await;
    }

    #[tokio::test]
    async fn shape_comes_before_proof_of_work_and_proof_of_work_before_the_database() {
        let d = desk(PowSettings::fixed(1)).await;
        // Not an envelope, no proof: the shape is refused first.
        assert!(matches!(
            d.intake.submit(b"not an envelope", None).await,
            Err(Refused::Malformed(_))
        ));
        // A reply envelope sent as a report: refused by kind, before the proof.
        let reply = seal_reply(&mut UnwrapErr(SysRng), [7; 32], &new_key(), b"hello").unwrap();
        assert!(matches!(
            d.intake.submit(&reply, None).await,
            Err(Refused::WrongKind)
        ));
        // A report to a force this server does not host, without a proof:
        // the missing proof is what is refused, so the force was not looked up.
        let elsewhere = report_to("south", &new_key());
        assert!(matches!(
            d.intake.submit(&elsewhere, None).await,
            Err(Refused::Pow(Refusal::Missing))
        ));
        // With a proof, the force is checked.
        let header = d.solved(&elsewhere).await;
        assert!(matches!(
            d.intake.submit(&elsewhere, Some(header.as_bytes())).await,
            Err(Refused::UnknownForce)
        ));
        d.storage.close().await;
    }

    #[tokio::test]
    async fn a_refused_report_releases_its_challenge_and_a_stored_one_spends_it() {
        let d = desk(PowSettings::fixed(1)).await;
        let south = new_key();
        let report = report_to("south", &south);
        let header = d.solved(&report).await;
        // Refused (no such force): the challenge is released, so the same
        // proof may be sent again and is refused for the same reason only.
        for _ in 0..2 {
            assert!(matches!(
                d.intake.submit(&report, Some(header.as_bytes())).await,
                Err(Refused::UnknownForce)
            ));
        }
        // Once the force exists, the same proof is still good: stored...
        d.storage.add_force("south", "South").await.unwrap();
        d.storage
            .add_force_key("south", south.key_id().0, south.to_bytes())
            .await
            .unwrap();
        d.intake
            .submit(&report, Some(header.as_bytes()))
            .await
            .unwrap();
        // ...and spent: this process refuses it from memory.
        assert!(matches!(
            d.intake.submit(&report, Some(header.as_bytes())).await,
            Err(Refused::Pow(Refusal::Spent))
        ));
        d.storage.close().await;
    }

    #[tokio::test]
    async fn a_challenge_the_store_finds_spent_by_another_instance_is_kept_as_spent() {
        let d = desk(PowSettings::fixed(1)).await;
        // A second instance on the same database (as behind a load balancer):
        // its own memory of spent challenges, the same challenge key.
        let other_pow = Arc::new(PowGuard::new(PowSettings::fixed(1), d.clock.clone()));
        let other = Intake::new(d.storage.clone(), other_pow, d.clock.clone());
        let report = report_to("north", &d.north);
        let header = d.solved(&report).await;
        d.intake
            .submit(&report, Some(header.as_bytes()))
            .await
            .unwrap();
        // The other instance has not seen it: the store refuses it...
        assert!(matches!(
            other.submit(&report, Some(header.as_bytes())).await,
            Err(Refused::Storage(StorageError::ChallengeSpent))
        ));
        // ...and from then on the other instance refuses it from memory.
        assert!(matches!(
            other.submit(&report, Some(header.as_bytes())).await,
            Err(Refused::Pow(Refusal::Spent))
        ));
        assert_eq!(d.storage.inbox("north", None, 10).await.unwrap().len(), 1);
        d.storage.close().await;
    }

    #[tokio::test]
    async fn an_accepted_key_is_remembered_and_forgotten_when_the_store_refuses_it() {
        let d = desk(PowSettings::off()).await;
        let old = d.north.key_id();
        d.intake
            .submit(&report_to("north", &d.north), None)
            .await
            .unwrap();
        assert!(d.intake.known_keys.contains("north", &old));
        // A new current key, then the old one retired (as another process
        // would): the cache still holds it, so only the store can refuse it.
        let new = new_key();
        d.storage
            .add_force_key("north", new.key_id().0, new.to_bytes())
            .await
            .unwrap();
        d.storage.retire_force_key("north", old.0).await.unwrap();
        assert!(matches!(
            d.intake.submit(&report_to("north", &d.north), None).await,
            Err(Refused::UnknownKey)
        ));
        assert!(!d.intake.known_keys.contains("north", &old), "forgotten");
        // Looked up again now, still refused, and not remembered.
        assert!(matches!(
            d.intake.submit(&report_to("north", &d.north), None).await,
            Err(Refused::UnknownKey)
        ));
        assert!(!d.intake.known_keys.contains("north", &old));
        // A key that was never registered is refused and never remembered.
        let stranger = new_key();
        assert!(matches!(
            d.intake.submit(&report_to("north", &stranger), None).await,
            Err(Refused::UnknownKey)
        ));
        assert!(!d.intake.known_keys.contains("north", &stranger.key_id()));
        d.intake
            .submit(&report_to("north", &new), None)
            .await
            .unwrap();
        assert!(d.intake.known_keys.contains("north", &new.key_id()));
        d.storage.close().await;
    }
}

//! Proof-of-work on submissions, server side (crypto/FORMAT.md#proof-of-work):
//! the settings, the challenges this server issues, the checks a submission
//! passes before it may touch the database, and the difficulty controller.
//!
//! It owns: when a challenge expires (rounded to five minutes), this
//! instance's memory of challenges it has seen spent (so a replayed request is
//! refused without a database round trip), and the additive-increase /
//! multiplicative-decrease rule that moves the difficulty between the floor and
//! the ceiling. It does not hash or MAC itself (`quietline_crypto::pow`), and it
//! does not make a spent challenge durable: that is the storage's job, in the
//! same transaction as the report (`storage::PowTicket`).

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use quietline_crypto::pow::{self, Challenge, PowError, PowKey};
use tokio::sync::OnceCell;

use crate::day::Clock;
use crate::storage::{PowTicket, Pressure, Storage, StorageError};

/// Default floor in leading zero bits: about a second in a page in this
/// project's headless Chromium (BENCHMARKS.md, "Proof of work").
pub const DEFAULT_FLOOR: u8 = 19;
/// Default ceiling: about 2^8 times the floor's work, for a surge.
pub const DEFAULT_MAX: u8 = 28;
/// How long a challenge lives at least, in seconds.
pub const CHALLENGE_TTL_SECS: u64 = 600;
/// Expiries are rounded up to a multiple of this, so a challenge does not show
/// the server's clock to the second (FORMAT.md#challenge).
pub const EXPIRY_GRANULE_SECS: u64 = 300;
/// How often the controller looks at the intake's pressure.
pub const CONTROL_INTERVAL: Duration = Duration::from_secs(5);
/// How often spent challenges past their expiry are forgotten.
pub const FORGET_INTERVAL: Duration = Duration::from_secs(60);
/// Most spent challenge ids this instance remembers in memory (about 15
/// minutes of 1,000 reports a second); beyond it the oldest are forgotten here
/// first and the database alone refuses their replays (one round trip more,
/// same answer).
const LOCAL_SPENT_CAP: usize = 1 << 20;

/// Pressure thresholds of the controller: queued reports and the slowest
/// commit in the last interval.
const PRESSURE_QUEUED: usize = 256;
const PRESSURE_COMMIT: Duration = Duration::from_millis(250);
const QUIET_QUEUED: usize = 16;
const QUIET_COMMIT: Duration = Duration::from_millis(50);

/// Proof-of-work settings of `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowSettings {
    /// Difficulty the controller never goes below; 0 turns proof of work off.
    pub floor: u8,
    /// Difficulty the controller never goes above (≥ floor, ≤ 32).
    pub max: u8,
}

impl PowSettings {
    /// Proof of work off (local development only).
    pub const fn off() -> Self {
        Self { floor: 0, max: 0 }
    }

    /// A fixed difficulty (floor = ceiling), e.g. a low one for tests.
    pub const fn fixed(difficulty: u8) -> Self {
        Self {
            floor: difficulty,
            max: difficulty,
        }
    }

    /// Whether submissions must carry a solution.
    pub const fn enabled(&self) -> bool {
        self.floor > 0
    }
}

impl Default for PowSettings {
    fn default() -> Self {
        Self {
            floor: DEFAULT_FLOOR,
            max: DEFAULT_MAX,
        }
    }
}

/// What `GET /api/v1/challenge` answers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssuedChallenge {
    /// base64url of the 58 octets.
    pub challenge: String,
    /// Leading zero bits needed.
    pub difficulty: u8,
    /// Unix seconds.
    pub expires: u64,
}

/// Why a submission's proof of work was refused.
#[derive(Debug)]
pub enum Refusal {
    /// No header (and proof of work is on).
    Missing,
    /// The header failed a check of FORMAT.md#verifying, steps 2–5.
    Invalid(PowError),
    /// The challenge was spent already (step 6).
    Spent,
    /// The key could not be loaded from the database.
    Storage(StorageError),
}

/// The proof-of-work state of one server instance.
pub struct PowGuard {
    settings: PowSettings,
    clock: Clock,
    difficulty: AtomicU8,
    /// Loaded (or created) from the database on first use, so building the
    /// router needs no database round trip.
    key: OnceCell<PowKey>,
    /// Spent (or in-flight) challenge ids, grouped by expiry.
    spent: Mutex<Spent>,
}

/// This instance's memory of spent challenges, one set per expiry (a
/// multiple of five minutes, so a few sets at a time). An expired set is
/// emptied and kept, with its capacity, for a later window ([`SPARE_SETS`]),
/// so a steady rate reuses the same memory: allocating and freeing a few MB
/// every five minutes made the resident size creep up in the soak benchmark,
/// as the allocator did not give the freed tables back. A set much larger
/// than its window needed (a surge has passed) is dropped instead, so that
/// memory is given back. Past [`LOCAL_SPENT_CAP`] the set closest to expiry
/// goes first, and the database still refuses what this forgets.
#[derive(Default)]
struct Spent {
    by_expiry: std::collections::BTreeMap<u64, HashSet<[u8; pow::ID_LEN]>>,
    /// Emptied sets waiting for a new window.
    spare: Vec<HashSet<[u8; pow::ID_LEN]>>,
    len: usize,
}

/// Emptied sets kept for new windows: at a steady rate one window expires as
/// one begins, so one would do; two absorb the jitter of the forget loop.
const SPARE_SETS: usize = 2;

impl Spent {
    fn contains(&self, id: &[u8; pow::ID_LEN], expires: u64) -> bool {
        self.by_expiry
            .get(&expires)
            .is_some_and(|set| set.contains(id))
    }

    /// Remember `id`; `now` lets a new window reuse the set of one that has
    /// just expired, before the periodic forget would have got to it (a new
    /// window begins as the oldest one expires).
    fn insert(&mut self, id: [u8; pow::ID_LEN], expires: u64, now: u64) {
        if !self.by_expiry.contains_key(&expires) {
            self.forget_expired(now);
        }
        let spare = &mut self.spare;
        let set = self
            .by_expiry
            .entry(expires)
            .or_insert_with(|| spare.pop().unwrap_or_default());
        if set.insert(id) {
            self.len += 1;
        }
        while self.len > LOCAL_SPENT_CAP {
            let Some((_, oldest)) = self.by_expiry.pop_first() else {
                break;
            };
            self.retire(oldest);
        }
    }

    /// Take a set out of use: keep it emptied for a new window, or drop it.
    fn retire(&mut self, mut set: HashSet<[u8; pow::ID_LEN]>) {
        let load = set.len();
        self.len -= load;
        // Kept if its capacity is about what its window needed (a hash set
        // holds up to ~2.3 times its load after growing); much larger means
        // a surge has passed, and dropping it gives that memory back.
        if self.spare.len() < SPARE_SETS && set.capacity() <= 4 * load.max(1024) {
            set.clear();
            self.spare.push(set);
        }
    }

    fn remove(&mut self, id: &[u8; pow::ID_LEN], expires: u64) {
        if let Some(set) = self.by_expiry.get_mut(&expires)
            && set.remove(id)
        {
            self.len -= 1;
        }
    }

    fn forget_expired(&mut self, now: u64) {
        // Keep the sets whose expiry is still ahead.
        let keep = self.by_expiry.split_off(&(now + 1));
        for set in std::mem::replace(&mut self.by_expiry, keep).into_values() {
            self.retire(set);
        }
    }
}

impl std::fmt::Debug for PowGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowGuard")
            .field("settings", &self.settings)
            .field("difficulty", &self.difficulty())
            .finish_non_exhaustive()
    }
}

/// Unix seconds now, by the system clock (a running server reads its
/// [`Clock`] instead).
pub fn now_secs() -> u64 {
    Clock::system().now_secs()
}

/// The expiry of a challenge issued at `now`: at least the TTL ahead, rounded
/// up to the granule.
pub fn expiry_for(now: u64) -> u64 {
    (now + CHALLENGE_TTL_SECS).div_ceil(EXPIRY_GRANULE_SECS) * EXPIRY_GRANULE_SECS
}

impl PowGuard {
    /// A guard starting at the floor.
    pub fn new(settings: PowSettings, clock: Clock) -> Self {
        Self {
            settings,
            clock,
            difficulty: AtomicU8::new(settings.floor),
            key: OnceCell::new(),
            spent: Mutex::new(Spent::default()),
        }
    }

    /// The settings.
    pub fn settings(&self) -> PowSettings {
        self.settings
    }

    /// The difficulty new challenges carry.
    pub fn difficulty(&self) -> u8 {
        self.difficulty.load(Ordering::Relaxed)
    }

    fn set_difficulty(&self, d: u8) {
        self.difficulty.store(d, Ordering::Relaxed);
    }

    async fn key(&self, storage: &dyn Storage) -> Result<&PowKey, StorageError> {
        self.key
            .get_or_try_init(|| async {
                let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
                getrandom::fill(fresh.as_mut()).map_err(|_| {
                    StorageError::Database("the OS random number generator failed".into())
                })?;
                // The first instance to get here stores its key; every other
                // one (and every restart) reads that same key back.
                let stored = storage.pow_key(*fresh).await?;
                Ok(PowKey::from_bytes(*stored))
            })
            .await
    }

    /// A fresh challenge at the current difficulty.
    pub async fn issue(&self, storage: &dyn Storage) -> Result<IssuedChallenge, StorageError> {
        use base64::Engine;
        let key = self.key(storage).await?;
        let mut id = [0u8; pow::ID_LEN];
        getrandom::fill(&mut id)
            .map_err(|_| StorageError::Database("the OS random number generator failed".into()))?;
        let c = Challenge {
            difficulty: self.difficulty(),
            expires: expiry_for(self.clock.now_secs()),
            id,
        };
        Ok(IssuedChallenge {
            challenge: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.issue(key)),
            difficulty: c.difficulty,
            expires: c.expires,
        })
    }

    /// FORMAT.md#verifying steps 1–5, then step 6 against this instance's
    /// memory. `Ok(None)`: proof of work is off and no header was sent.
    /// `Ok(Some(claim))`: pass `claim.ticket()` to the storage with the report,
    /// then [`Claim::keep`] it once the outcome is known to spend it.
    pub async fn check<'a>(
        &'a self,
        storage: &dyn Storage,
        header: Option<&[u8]>,
        envelope: &[u8],
    ) -> Result<Option<Claim<'a>>, Refusal> {
        let Some(header) = header else {
            return if self.settings.enabled() {
                Err(Refusal::Missing)
            } else {
                Ok(None)
            };
        };
        let header =
            std::str::from_utf8(header).map_err(|_| Refusal::Invalid(PowError::Malformed))?;
        let key = self.key(storage).await.map_err(Refusal::Storage)?;
        let now = self.clock.now_secs();
        let challenge = pow::verify(key, header, envelope, now).map_err(Refusal::Invalid)?;
        if !self.claim_local(challenge.id, challenge.expires, now) {
            return Err(Refusal::Spent);
        }
        Ok(Some(Claim {
            guard: self,
            challenge,
            keep: false,
        }))
    }

    /// Remember `id` as spent; false if it already was (here).
    fn claim_local(&self, id: [u8; pow::ID_LEN], expires: u64, now: u64) -> bool {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        if spent.contains(&id, expires) {
            return false;
        }
        spent.insert(id, expires, now);
        true
    }

    fn release_local(&self, id: &[u8; pow::ID_LEN], expires: u64) {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        spent.remove(id, expires);
    }

    /// Forget, in memory and in the database, challenges whose expiry has
    /// passed (they are refused as expired from then on).
    pub async fn forget_expired(&self, storage: &dyn Storage) -> Result<u64, StorageError> {
        let now = self.clock.now_secs();
        self.spent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .forget_expired(now);
        storage.forget_spent(now as i64).await
    }

    /// One controller step: look at the intake's pressure and move the
    /// difficulty; returns the change, if any, for the log.
    pub fn control(&self, aimd: &mut Aimd, pressure: Pressure) -> Option<Change> {
        let change = aimd.step(pressure)?;
        self.set_difficulty(change.to);
        Some(change)
    }
}

/// A challenge accepted by this instance, not yet known to be spent durably.
/// Dropped without [`Claim::keep`], it is released: a submission that failed
/// for another reason (unknown key, database down) may use it again.
pub struct Claim<'a> {
    guard: &'a PowGuard,
    challenge: Challenge,
    keep: bool,
}

impl Claim<'_> {
    /// What the storage records with the report.
    pub fn ticket(&self) -> PowTicket {
        PowTicket {
            id: self.challenge.id,
            // Already a multiple of the granule: no finer time is stored.
            expires: i64::try_from(self.challenge.expires).unwrap_or(i64::MAX),
        }
    }

    /// The challenge is spent (stored with a report, or found spent by another
    /// instance): keep refusing it here.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.keep {
            self.guard
                .release_local(&self.challenge.id, self.challenge.expires);
        }
    }
}

/// A change of difficulty, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Before.
    pub from: u8,
    /// After.
    pub to: u8,
}

/// Additive increase, multiplicative decrease of the difficulty.
///
/// Each [`CONTROL_INTERVAL`]: under pressure (≥ 256 reports queued for the
/// database, or a commit slower than 250 ms) one bit more, up to the ceiling —
/// each bit doubles the work of every new submission; when quiet (< 16 queued
/// and every commit under 50 ms) the distance to the floor is halved; in
/// between, no change.
#[derive(Debug, Clone)]
pub struct Aimd {
    floor: u8,
    max: u8,
    current: u8,
}

impl Aimd {
    /// A controller at the floor.
    pub fn new(settings: PowSettings) -> Self {
        Self {
            floor: settings.floor,
            max: settings.max.max(settings.floor),
            current: settings.floor,
        }
    }

    /// The current difficulty.
    pub fn current(&self) -> u8 {
        self.current
    }

    /// Take one pressure sample; the change it causes, if any.
    pub fn step(&mut self, p: Pressure) -> Option<Change> {
        let from = self.current;
        let to = if p.queued >= PRESSURE_QUEUED || p.slowest_commit >= PRESSURE_COMMIT {
            from.saturating_add(1).min(self.max)
        } else if p.queued < QUIET_QUEUED && p.slowest_commit < QUIET_COMMIT {
            self.floor + (from - self.floor) / 2
        } else {
            from
        };
        self.current = to;
        (to != from).then_some(Change { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(queued: usize, ms: u64) -> Pressure {
        Pressure {
            queued,
            slowest_commit: Duration::from_millis(ms),
        }
    }

    #[test]
    fn additive_increase_to_the_ceiling() {
        let mut a = Aimd::new(PowSettings { floor: 10, max: 13 });
        assert_eq!(a.step(p(300, 0)), Some(Change { from: 10, to: 11 }));
        assert_eq!(a.step(p(0, 400)), Some(Change { from: 11, to: 12 }));
        assert_eq!(a.step(p(1000, 1000)), Some(Change { from: 12, to: 13 }));
        assert_eq!(a.step(p(1000, 1000)), None);
        assert_eq!(a.current(), 13);
    }

    #[test]
    fn multiplicative_decrease_to_the_floor() {
        let mut a = Aimd::new(PowSettings { floor: 10, max: 20 });
        for _ in 0..10 {
            a.step(p(1000, 0));
        }
        assert_eq!(a.current(), 20);
        assert_eq!(a.step(p(0, 1)), Some(Change { from: 20, to: 15 }));
        assert_eq!(a.step(p(0, 1)), Some(Change { from: 15, to: 12 }));
        assert_eq!(a.step(p(0, 1)), Some(Change { from: 12, to: 11 }));
        assert_eq!(a.step(p(0, 1)), Some(Change { from: 11, to: 10 }));
        assert_eq!(a.step(p(0, 1)), None);
    }

    #[test]
    fn in_between_holds() {
        let mut a = Aimd::new(PowSettings { floor: 10, max: 20 });
        a.step(p(1000, 0));
        assert_eq!(a.step(p(100, 100)), None);
        assert_eq!(a.current(), 11);
    }

    #[test]
    fn expiry_is_rounded_up_to_five_minutes_at_least_ten_ahead() {
        for now in [0u64, 1, 299, 300, 1_795_823_123] {
            let e = expiry_for(now);
            assert_eq!(e % EXPIRY_GRANULE_SECS, 0);
            assert!(e >= now + CHALLENGE_TTL_SECS);
            assert!(e < now + CHALLENGE_TTL_SECS + EXPIRY_GRANULE_SECS);
        }
    }

    #[test]
    fn spent_sets_are_dropped_at_expiry_and_past_the_cap() {
        let mut s = Spent::default();
        s.insert([1; 16], 300, 0);
        s.insert([1; 16], 300, 0);
        s.insert([2; 16], 600, 0);
        assert_eq!(s.len, 2);
        assert!(s.contains(&[1; 16], 300) && !s.contains(&[1; 16], 600));
        s.forget_expired(299);
        assert_eq!(s.len, 2);
        s.forget_expired(300);
        assert_eq!(s.len, 1);
        assert!(!s.contains(&[1; 16], 300) && s.contains(&[2; 16], 600));
        s.remove(&[2; 16], 600);
        assert_eq!(s.len, 0);
        for i in 0..=LOCAL_SPENT_CAP as u64 {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&i.to_be_bytes());
            s.insert(id, if i == 0 { 900 } else { 1200 }, 0);
        }
        // Over the cap: the set closest to expiry went first.
        assert_eq!(s.len, LOCAL_SPENT_CAP);
        assert!(!s.by_expiry.contains_key(&900));
    }

    #[test]
    fn expired_sets_are_reused_unless_oversized() {
        let id = |i: u64| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&i.to_be_bytes());
            id
        };
        let mut s = Spent::default();
        for i in 0..5000 {
            s.insert(id(i), 300, 0);
        }
        let capacity = s.by_expiry[&300].capacity();
        s.forget_expired(300);
        assert_eq!((s.len, s.spare.len()), (0, 1));
        assert!(s.spare[0].is_empty());
        // The next window takes the emptied set, capacity and all.
        s.insert(id(1), 600, 0);
        assert!(s.spare.is_empty());
        assert_eq!(s.by_expiry[&600].capacity(), capacity);
        assert!(s.contains(&id(1), 600) && !s.contains(&id(2), 600));
        // A window that needed a tenth of it: dropped at expiry, not kept.
        for i in 0..400 {
            s.insert(id(i), 600, 0);
        }
        s.forget_expired(600);
        assert_eq!((s.len, s.spare.len()), (0, 0));
        // At most SPARE_SETS are kept.
        for w in 1..=4 {
            for i in 0..2000 {
                s.insert(id(i), 900 + 300 * w, 0);
            }
        }
        s.forget_expired(10_000);
        assert_eq!((s.len, s.spare.len()), (0, SPARE_SETS));

        // A new window begins as the oldest expires: it takes that set at
        // once, without waiting for the periodic forget.
        let mut s = Spent::default();
        for i in 0..5000 {
            s.insert(id(i), 20_100, 19_000);
        }
        let capacity = s.by_expiry[&20_100].capacity();
        s.insert(id(1), 21_000, 20_100);
        assert!(!s.by_expiry.contains_key(&20_100));
        assert_eq!(s.by_expiry[&21_000].capacity(), capacity);
        assert_eq!((s.len, s.spare.len()), (1, 0));
    }

    #[test]
    fn a_claim_is_released_unless_kept() {
        let g = PowGuard::new(PowSettings::fixed(1), Clock::system());
        let c = Challenge {
            difficulty: 1,
            expires: 10,
            id: [1; 16],
        };
        assert!(g.claim_local(c.id, 10, 0));
        assert!(!g.claim_local(c.id, 10, 0));
        drop(Claim {
            guard: &g,
            challenge: c,
            keep: false,
        });
        assert!(g.claim_local(c.id, 10, 0));
        Claim {
            guard: &g,
            challenge: c,
            keep: false,
        }
        .keep();
        assert!(!g.claim_local(c.id, 10, 0));
    }
}

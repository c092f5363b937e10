//! Proof-of-work on submissions, server side (crypto/FORMAT.md#proof-of-work):
//! the settings, the challenges this server issues, the checks a submission
//! passes before it may touch the database, and the difficulty controller.
//!
//! It owns: when a challenge expires (rounded to five minutes), what this
//! server accepts beyond a valid MAC (an expiry it could have issued, a
//! difficulty it still asks for: FORMAT.md#verifying steps 4 and 6), this
//! instance's memory of challenges it has seen spent (so a replayed request is
//! refused without a database round trip), the count of accepted submissions
//! (a number in memory, reset every control interval: never a time), and the
//! controller that moves the difficulty between the floor and the ceiling
//! with the database's pressure and the intake rate. It does not hash or MAC itself (`quietline_crypto::pow`), and it
//! does not make a spent challenge durable: that is the storage's job, in the
//! same transaction as the report (`storage::PowTicket`).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use quietline_crypto::pow::{self, Challenge, Limits, PowError, PowKey};
use tokio::sync::OnceCell;

use crate::day::Clock;
use crate::storage::{PowTicket, Pressure, Storage, StorageError};

/// Default floor in leading zero bits: a median of about a second in a page
/// on this project's machine, with or without the browser's JIT, in
/// Chromium and Firefox ESR (BENCHMARKS.md, "Proof of work in the
/// browsers"; README, "Proof of work", says why 21).
pub const DEFAULT_FLOOR: u8 = 21;
/// Default ceiling: 2^8 times the floor's work, for a surge (a few minutes
/// in a page, which then says so and offers to pause).
pub const DEFAULT_MAX: u8 = 29;
/// How long a challenge lives at least, in seconds.
pub const CHALLENGE_TTL_SECS: u64 = 600;
/// Expiries are rounded up to a multiple of this, so a challenge does not show
/// the server's clock to the second (FORMAT.md#challenge).
pub const EXPIRY_GRANULE_SECS: u64 = 300;
/// How far ahead of this server's clock an expiry may lie and still be
/// accepted: the longest lifetime it gives (TTL + granule, 15 minutes) plus
/// a minute for the clocks of instances sharing the challenge key. Anything
/// further was minted with the key, not fetched (FORMAT.md#verifying step 4).
pub const MAX_AHEAD_SECS: u64 = CHALLENGE_TTL_SECS + EXPIRY_GRANULE_SECS + MAX_CLOCK_SKEW_SECS;
/// Clock difference tolerated between instances sharing the challenge key.
pub const MAX_CLOCK_SKEW_SECS: u64 = 60;
/// How often the controller looks at the intake's pressure and rate.
pub const CONTROL_INTERVAL: Duration = Duration::from_secs(5);
/// Default expected peak intake of one instance, in accepted reports per
/// minute (`--pow-expected-rate`): above it the difficulty rises one bit per
/// doubling of the rate.
pub const DEFAULT_EXPECTED_RATE: u32 = 60;
/// The intake rate is measured over this many control intervals (30 s at
/// the default interval): long enough that a few reports together do not
/// move the difficulty, short enough that a flood at ten times the expected
/// peak is priced at floor+4 within about 25 s.
pub const RATE_WINDOW_TICKS: usize = 6;
/// A challenge is outdated when its difficulty is more than
/// [`OUTDATED_MARGIN`] bits below every difficulty this instance asked for
/// during the last this-many control intervals (60 s at the default
/// interval). A sender who fetched a challenge within that time is never
/// refused as outdated; a stockpile fetched before a rise is refused once
/// the rise has lasted that long.
pub const GRACE_TICKS: usize = 12;
/// Bits a challenge may lie below the difficulty asked for lately.
pub const OUTDATED_MARGIN: u8 = 1;
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
    /// Expected peak intake of this instance, accepted reports per minute;
    /// above it the difficulty rises with the rate. 0: the rate is not
    /// watched (fixed difficulties, tests).
    pub expected_rate: u32,
}

impl PowSettings {
    /// Proof of work off (local development only).
    pub const fn off() -> Self {
        Self {
            floor: 0,
            max: 0,
            expected_rate: 0,
        }
    }

    /// A fixed difficulty (floor = ceiling), e.g. a low one for tests.
    pub const fn fixed(difficulty: u8) -> Self {
        Self {
            floor: difficulty,
            max: difficulty,
            expected_rate: 0,
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
            expected_rate: DEFAULT_EXPECTED_RATE,
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
    /// The header failed a check of FORMAT.md#verifying, steps 2–7.
    Invalid(PowError),
    /// The challenge was spent already (step 8).
    Spent,
    /// The key could not be loaded from the database.
    Storage(StorageError),
}

/// The proof-of-work state of one server instance.
pub struct PowGuard {
    settings: PowSettings,
    clock: Clock,
    difficulty: AtomicU8,
    /// The least difficulty a submission's challenge may carry now
    /// ([`Aimd::needed`]).
    needed: AtomicU8,
    /// Submissions accepted since the controller last looked: a count, never
    /// a time.
    accepted: AtomicU64,
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
            needed: AtomicU8::new(settings.floor),
            accepted: AtomicU64::new(0),
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

    /// The least difficulty a challenge may carry to be accepted now.
    pub fn needed(&self) -> u8 {
        self.needed.load(Ordering::Relaxed)
    }

    /// Count one accepted submission, for the rate the controller watches.
    pub fn count_accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// What a submission's challenge must satisfy beyond its MAC.
    fn limits(&self) -> Limits {
        Limits {
            min_difficulty: self.needed(),
            granule: EXPIRY_GRANULE_SECS,
            max_ahead: MAX_AHEAD_SECS,
        }
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
        self.issue_scaled(storage, 0).await
    }

    /// Bits a proof of work is raised by when it is on: `extra` (a blob
    /// upload's size, FORMAT.md#blobs-on-the-server), none when it is off.
    fn raised(&self, base: u8, extra: u8) -> u8 {
        if self.settings.enabled() {
            base.saturating_add(extra).min(pow::MAX_DIFFICULTY)
        } else {
            base
        }
    }

    /// A fresh challenge `extra` bits above the current difficulty (none when
    /// proof of work is off), capped at 32: what a blob upload of a given
    /// size must solve.
    pub async fn issue_scaled(
        &self,
        storage: &dyn Storage,
        extra: u8,
    ) -> Result<IssuedChallenge, StorageError> {
        use base64::Engine;
        let key = self.key(storage).await?;
        let mut id = [0u8; pow::ID_LEN];
        getrandom::fill(&mut id)
            .map_err(|_| StorageError::Database("the OS random number generator failed".into()))?;
        let c = Challenge {
            difficulty: self.raised(self.difficulty(), extra),
            expires: expiry_for(self.clock.now_secs()),
            id,
        };
        Ok(IssuedChallenge {
            challenge: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.issue(key)),
            difficulty: c.difficulty,
            expires: c.expires,
        })
    }

    /// FORMAT.md#verifying steps 1–7, then step 8 against this instance's
    /// memory. `Ok(None)`: proof of work is off and no header was sent.
    /// `Ok(Some(claim))`: pass `claim.ticket()` to the storage with the report,
    /// then [`Claim::keep`] it once the outcome is known to spend it.
    pub async fn check<'a>(
        &'a self,
        storage: &dyn Storage,
        header: Option<&[u8]>,
        envelope: &[u8],
    ) -> Result<Option<Claim<'a>>, Refusal> {
        self.check_scaled(storage, header, envelope, 0).await
    }

    /// [`PowGuard::check`] for a submission that needs `extra` bits more than
    /// a report (a blob upload; none when proof of work is off): a challenge
    /// below that is refused as outdated (FORMAT.md#verifying, step 6).
    pub async fn check_scaled<'a>(
        &'a self,
        storage: &dyn Storage,
        header: Option<&[u8]>,
        envelope: &[u8],
        extra: u8,
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
        let mut limits = self.limits();
        limits.min_difficulty = self.raised(limits.min_difficulty, extra);
        let challenge =
            pow::verify_with(key, header, envelope, now, &limits).map_err(Refusal::Invalid)?;
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

    /// One controller step: look at the intake's pressure and the
    /// submissions accepted since the last step, and move the difficulty;
    /// returns the change, if any, for the log.
    pub fn control(&self, aimd: &mut Aimd, pressure: Pressure) -> Option<Change> {
        let accepted = self.accepted.swap(0, Ordering::Relaxed);
        let change = aimd.step(Sample { pressure, accepted });
        self.difficulty.store(aimd.current(), Ordering::Relaxed);
        self.needed.store(aimd.needed(), Ordering::Relaxed);
        change
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
    /// Which signal set the new value.
    pub cause: Cause,
}

/// Which signal set the difficulty at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The database's pressure (queue, commit latency).
    Pressure,
    /// The intake rate against the expected peak.
    Rate,
    /// Neither: the intake is quiet and the difficulty falls back.
    Quiet,
}

/// What the controller sees at each step.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// The database's pressure.
    pub pressure: Pressure,
    /// Submissions accepted since the last step.
    pub accepted: u64,
}

/// The difficulty controller: the larger of two signals, each interval.
///
/// - **Pressure** (additive increase, multiplicative decrease): with ≥ 256
///   reports queued for the database or a commit slower than 250 ms, one bit
///   more — each bit doubles the work of every new submission; when quiet
///   (< 16 queued and every commit under 50 ms) the distance to the floor is
///   halved; in between, no change.
/// - **Rate**: the submissions accepted over the last [`RATE_WINDOW_TICKS`]
///   intervals, per minute, against the expected peak `E`. At a rate `r > E`
///   the difficulty is at least `floor + ⌈log2(r / E)⌉`, reached at the
///   step that measures it (ten times `E` asks floor+4); when the rate falls
///   this part comes down one bit per interval, so a flooder whose own rate
///   drops as the price rises does not see the price collapse at once. A
///   flood at rate `r` thus costs at least `r² / E` floor-solutions a minute.
///
/// Both stay between the floor and the ceiling. The controller also keeps
/// the difficulty it set at each of the last [`GRACE_TICKS`] steps, from
/// which it derives [`Aimd::needed`].
#[derive(Debug, Clone)]
pub struct Aimd {
    floor: u8,
    max: u8,
    current: u8,
    expected_rate: u32,
    interval: Duration,
    /// Accepted submissions per step, the last [`RATE_WINDOW_TICKS`].
    window: VecDeque<u64>,
    /// Bits above the floor the rate holds the difficulty at.
    rate_bits: u8,
    /// The difficulty after each of the last [`GRACE_TICKS`] steps, and now.
    history: VecDeque<u8>,
}

impl Aimd {
    /// A controller at the floor, stepped every `interval`.
    pub fn new(settings: PowSettings, interval: Duration) -> Self {
        Self {
            floor: settings.floor,
            max: settings.max.max(settings.floor),
            current: settings.floor,
            expected_rate: settings.expected_rate,
            interval,
            window: VecDeque::with_capacity(RATE_WINDOW_TICKS + 1),
            rate_bits: 0,
            history: VecDeque::from([settings.floor]),
        }
    }

    /// The current difficulty.
    pub fn current(&self) -> u8 {
        self.current
    }

    /// The least difficulty a challenge may carry to be accepted: the floor,
    /// and no more than [`OUTDATED_MARGIN`] bits below the lowest difficulty
    /// asked for during the last [`GRACE_TICKS`] steps. A challenge fetched
    /// within that time carries one of those, so only older ones (a
    /// stockpile) can be refused.
    pub fn needed(&self) -> u8 {
        let lowest = self.history.iter().copied().min().unwrap_or(self.floor);
        lowest.saturating_sub(OUTDATED_MARGIN).max(self.floor)
    }

    /// Bits above the floor the rate in the window asks for: the least `k`
    /// with `rate ≤ E · 2^k`, rate per minute over the window's whole
    /// duration (also while it is filling after a start, so that a few
    /// reports just after a restart do not count as a surge).
    fn wanted_rate_bits(&self) -> u8 {
        if self.expected_rate == 0 || self.window.is_empty() {
            return 0;
        }
        let count: u128 = self.window.iter().map(|&n| u128::from(n)).sum();
        let window_ms = self.interval.as_millis().max(1) * RATE_WINDOW_TICKS as u128;
        // rate = count · 60 000 / window_ms per minute; compare without division.
        let demand = count * 60_000;
        let mut k = 0u8;
        while k < pow::MAX_DIFFICULTY
            && ((u128::from(self.expected_rate) * window_ms) << k) < demand
        {
            k += 1;
        }
        k
    }

    /// Take one sample; the change it causes, if any.
    pub fn step(&mut self, s: Sample) -> Option<Change> {
        let from = self.current;
        self.window.push_back(s.accepted);
        while self.window.len() > RATE_WINDOW_TICKS {
            self.window.pop_front();
        }
        self.rate_bits = self
            .wanted_rate_bits()
            .max(self.rate_bits.saturating_sub(1));
        let p = s.pressure;
        let (mut to, mut cause) =
            if p.queued >= PRESSURE_QUEUED || p.slowest_commit >= PRESSURE_COMMIT {
                (from.saturating_add(1).min(self.max), Cause::Pressure)
            } else if p.queued < QUIET_QUEUED && p.slowest_commit < QUIET_COMMIT {
                (self.floor + (from - self.floor) / 2, Cause::Quiet)
            } else {
                (from, Cause::Pressure)
            };
        let by_rate = self.floor.saturating_add(self.rate_bits).min(self.max);
        if by_rate > to {
            (to, cause) = (by_rate, Cause::Rate);
        }
        self.current = to;
        self.history.push_back(to);
        while self.history.len() > GRACE_TICKS + 1 {
            self.history.pop_front();
        }
        (to != from).then_some(Change { from, to, cause })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(queued: usize, ms: u64) -> Sample {
        Sample {
            pressure: Pressure {
                queued,
                slowest_commit: Duration::from_millis(ms),
            },
            accepted: 0,
        }
    }

    /// A quiet database and `accepted` submissions in one step.
    fn rate(accepted: u64) -> Sample {
        Sample {
            accepted,
            ..Sample::default()
        }
    }

    fn settings(floor: u8, max: u8) -> PowSettings {
        PowSettings {
            floor,
            max,
            expected_rate: 0,
        }
    }

    fn aimd(floor: u8, max: u8) -> Aimd {
        Aimd::new(settings(floor, max), CONTROL_INTERVAL)
    }

    fn change(from: u8, to: u8, cause: Cause) -> Option<Change> {
        Some(Change { from, to, cause })
    }

    #[test]
    fn additive_increase_to_the_ceiling() {
        let mut a = aimd(10, 13);
        assert_eq!(a.step(p(300, 0)), change(10, 11, Cause::Pressure));
        assert_eq!(a.step(p(0, 400)), change(11, 12, Cause::Pressure));
        assert_eq!(a.step(p(1000, 1000)), change(12, 13, Cause::Pressure));
        assert_eq!(a.step(p(1000, 1000)), None);
        assert_eq!(a.current(), 13);
    }

    #[test]
    fn multiplicative_decrease_to_the_floor() {
        let mut a = aimd(10, 20);
        for _ in 0..10 {
            a.step(p(1000, 0));
        }
        assert_eq!(a.current(), 20);
        assert_eq!(a.step(p(0, 1)), change(20, 15, Cause::Quiet));
        assert_eq!(a.step(p(0, 1)), change(15, 12, Cause::Quiet));
        assert_eq!(a.step(p(0, 1)), change(12, 11, Cause::Quiet));
        assert_eq!(a.step(p(0, 1)), change(11, 10, Cause::Quiet));
        assert_eq!(a.step(p(0, 1)), None);
    }

    #[test]
    fn in_between_holds() {
        let mut a = aimd(10, 20);
        a.step(p(1000, 0));
        assert_eq!(a.step(p(100, 100)), None);
        assert_eq!(a.current(), 11);
    }

    /// Accepted submissions in one 5-s step at `per_minute`.
    fn per_step(per_minute: u64) -> u64 {
        per_minute * CONTROL_INTERVAL.as_secs() / 60
    }

    #[test]
    fn a_flood_at_ten_times_the_expected_rate_reaches_floor_plus_4_within_a_minute() {
        let expected = 600;
        let mut a = Aimd::new(
            PowSettings {
                floor: 19,
                max: 28,
                expected_rate: expected,
            },
            CONTROL_INTERVAL,
        );
        // A quiet minute at the expected peak itself: the floor.
        for _ in 0..12 {
            assert_eq!(a.step(rate(per_step(u64::from(expected)))), None);
        }
        assert_eq!(a.current(), 19);
        // The flood starts: ten times the expected peak, the database quiet.
        let mut seen = Vec::new();
        for _ in 0..12 {
            a.step(rate(per_step(10 * u64::from(expected))));
            seen.push(a.current());
        }
        let within_a_minute = seen.iter().position(|&d| d >= 23);
        assert!(
            within_a_minute.is_some_and(|i| i < 12),
            "difficulty over the flood's first minute, one step per 5 s: {seen:?}"
        );
        // Steady: ⌈log2(10)⌉ = 4 bits, no more, while the rate holds.
        assert_eq!(a.current(), 23, "{seen:?}");
        for _ in 0..24 {
            a.step(rate(per_step(10 * u64::from(expected))));
            assert_eq!(a.current(), 23);
        }
        // A hundred times: ⌈log2(100)⌉ = 7 bits; a thousand: the ceiling.
        for _ in 0..6 {
            a.step(rate(per_step(100 * u64::from(expected))));
        }
        assert_eq!(a.current(), 26);
        a.step(rate(per_step(100_000 * u64::from(expected))));
        assert_eq!(a.current(), 28);
        // The flood stops: back to the floor, one bit per step at most.
        let mut falling = Vec::new();
        for _ in 0..24 {
            let before = a.current();
            if let Some(c) = a.step(rate(0)) {
                assert_eq!(c.from - c.to, 1, "{c:?}");
                assert_eq!(before, c.from);
            }
            falling.push(a.current());
        }
        assert_eq!(a.current(), 19, "{falling:?}");
    }

    #[test]
    fn the_rate_and_the_pressure_each_raise_and_the_larger_wins() {
        let mut a = Aimd::new(
            PowSettings {
                floor: 10,
                max: 20,
                expected_rate: 60,
            },
            CONTROL_INTERVAL,
        );
        // Half the expected rate, all in one step: the floor (the rate is
        // over the whole 30-s window, so a burst right after a start is not
        // a surge).
        assert_eq!(a.step(rate(15)), None);
        // Twice the expected rate: one bit per doubling (2 · 60/min over
        // 30 s is 60 reports).
        assert_eq!(a.step(rate(45)), change(10, 11, Cause::Rate));
        // Pressure adds on top of the rate's level.
        assert_eq!(a.step(p(1000, 0)), change(11, 12, Cause::Pressure));
        // Quiet database, the rate still above: the rate holds its level.
        assert_eq!(a.step(rate(0)).map(|c| c.to), Some(11));
        assert_eq!(a.step(rate(0)), None);
        assert_eq!(a.current(), 11);
        // No rate watched (expected 0): submissions alone never move it.
        let mut fixed = aimd(10, 20);
        for _ in 0..20 {
            assert_eq!(fixed.step(rate(1_000_000)), None);
        }
    }

    #[test]
    fn a_few_reports_never_move_the_difficulty_at_the_least_expected_rate() {
        // The least --pow-expected-rate (10 a minute): five reports in one
        // 30-s window, even all in one step just after a start, are at the
        // peak, not above it; the difficulty anyone can read shows no report.
        let mut a = Aimd::new(
            PowSettings {
                floor: 10,
                max: 20,
                expected_rate: 10,
            },
            CONTROL_INTERVAL,
        );
        assert_eq!(a.step(rate(5)), None);
        for _ in 0..5 {
            assert_eq!(a.step(rate(0)), None);
        }
        assert_eq!(a.step(rate(6)), change(10, 11, Cause::Rate));
    }

    #[test]
    fn a_compute_bound_flooder_settles_where_the_price_matches_its_rate() {
        // A flooder with the work of 160 times the expected peak at the
        // floor: at floor+k it gets 160/2^k times through. The price settles
        // at 4 bits (10 times the expected rate), not at the floor.
        let expected = 60u64;
        let mut a = Aimd::new(
            PowSettings {
                floor: 19,
                max: 28,
                expected_rate: expected as u32,
            },
            CONTROL_INTERVAL,
        );
        let mut seen = Vec::new();
        for _ in 0..60 {
            let k = a.current() - 19;
            a.step(rate(per_step(160 * expected) >> k));
            seen.push(a.current());
        }
        let last: Vec<u8> = seen[40..].to_vec();
        assert!(last.iter().all(|&d| (22..=24).contains(&d)), "{seen:?}");
    }

    #[test]
    fn a_challenge_is_outdated_only_after_the_rise_has_lasted_the_grace() {
        let mut a = aimd(10, 20);
        assert_eq!(a.needed(), 10);
        for _ in 0..4 {
            a.step(p(1000, 0));
        }
        assert_eq!(a.current(), 14);
        // Everything asked for in the last GRACE_TICKS steps is accepted:
        // the floor was asked for within them.
        assert_eq!(a.needed(), 10);
        for _ in 0..GRACE_TICKS - 4 {
            a.step(p(100, 100));
        }
        assert_eq!(a.needed(), 10);
        a.step(p(100, 100));
        // The floor left the history: at least the lowest remembered (11)
        // minus the margin.
        assert_eq!(a.needed(), 11 - OUTDATED_MARGIN);
        for _ in 0..4 {
            a.step(p(100, 100));
        }
        assert_eq!(a.needed(), 14 - OUTDATED_MARGIN);
        // Falling back lowers it at once: any challenge fetched now is good.
        a.step(p(0, 0));
        assert_eq!(a.current(), 12);
        assert_eq!(a.needed(), 12 - OUTDATED_MARGIN);
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

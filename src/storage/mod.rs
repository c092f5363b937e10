//! Storage: the one interface the server keeps its data behind, with a SQLite
//! (embedded default) and a PostgreSQL (scale-out) implementation.
//!
//! It owns what is stored and how it is made durable; it does not parse
//! envelopes, authenticate anyone or know about HTTP. What is stored is exactly
//! the data inventory in `threat-model/` and nothing more: no timestamps finer
//! than the UTC day, no sequence or auto-increment that orders arrivals. (The
//! key log's index orders the key statements the platform accepted: public
//! operator actions about keys, never reports; crypto/FORMAT.md#key-log.)

use async_trait::async_trait;

mod common;
mod group_commit;
pub mod postgres;
pub mod sqlite;

// The day lives in `crate::day`, which depends on nothing, so that `day` and
// `storage` do not import each other.
pub use crate::day::Day;
/// Recipient key id: first 8 bytes of SHA-256("quietline/v1/key-id" ‖ pk).
pub type KeyId = [u8; 8];
/// A report's random 128-bit id, chosen by the server.
pub type ReportId = [u8; 16];
/// A reply-slot address (32 bytes, derived by the reporter's reply code).
pub type SlotAddress = [u8; 32];
/// SHA-256 of a handler bearer token; the token itself is never stored.
pub type TokenHash = [u8; 32];

/// A force (tenant) with its current public key, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForceEntry {
    /// Force id, `[a-z0-9-]{1,64}`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The current key, `None` if the force has no current key yet.
    pub current_key: Option<ForceKey>,
}

/// Lifecycle of a force key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// The key the directory publishes; at most one per force.
    Current,
    /// A previous key: still accepted for intake (clients with an old directory).
    Active,
    /// No longer accepted: intake answers 422.
    Retired,
}

/// A force public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForceKey {
    /// The key id.
    pub key_id: KeyId,
    /// The raw public key: 32 bytes (X25519) or 1216 (X-Wing); the length
    /// tells the suite (crypto/FORMAT.md#keys).
    pub public_key: Vec<u8>,
    /// Its status.
    pub status: KeyStatus,
}

/// A force's signer set as stored (crypto/FORMAT.md#signing-keys): the
/// Ed25519 public keys and how many of them must sign a key statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigners {
    /// The signing public keys, 32 bytes each, in byte order.
    pub keys: Vec<[u8; 32]>,
    /// 1 to `keys.len()`.
    pub threshold: u8,
}

/// A key statement as stored: the force's own sequence number, the key it
/// is about, and the signed octets exactly as the force made them
/// (crypto/FORMAT.md#statement-encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatement {
    /// The statement's sequence number.
    pub sequence: u64,
    /// The key it publishes.
    pub key_id: KeyId,
    /// The signed statement.
    pub statement: Vec<u8>,
}

/// Where a force's current key statement sits in the key log
/// (crypto/FORMAT.md#key-log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPosition {
    /// The force.
    pub force_id: String,
    /// The statement's sequence number in the force's chain.
    pub sequence: u64,
    /// Its leaf index in the log.
    pub index: u64,
}

/// A report to store.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// Random id.
    pub id: ReportId,
    /// Addressee force.
    pub force_id: String,
    /// Recipient key id from the envelope header.
    pub key_id: KeyId,
    /// The whole envelope, opaque.
    pub envelope: Vec<u8>,
    /// UTC day of receipt.
    pub day: Day,
    /// The proof-of-work challenge this report spends, if any: recorded as
    /// spent in the same transaction (crypto/FORMAT.md#verifying, step 8).
    pub pow: Option<PowTicket>,
}

/// A spent proof-of-work challenge as stored: its random id and its expiry,
/// which is a multiple of five minutes (no finer time is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowTicket {
    /// The challenge's random id.
    pub id: [u8; 16],
    /// Unix seconds; the row may be forgotten after it.
    pub expires: i64,
}

/// How hard the report writer is working, for the proof-of-work controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pressure {
    /// Reports waiting for the writer now.
    pub queued: usize,
    /// The slowest batch commit since the previous sample.
    pub slowest_commit: std::time::Duration,
}

/// One inbox entry (no envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    /// Report id.
    pub id: ReportId,
    /// Recipient key id.
    pub key_id: KeyId,
    /// UTC day of receipt.
    pub day: Day,
}

/// Outcome of writing a reply slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotWrite {
    /// Stored (durably committed).
    Stored,
    /// The slot already held a reply; nothing changed (slots are one-time).
    Taken,
}

/// A reporter's own copy to store (crypto/FORMAT.md#own-copies): a kind-2
/// envelope routed to its copy box. Nothing else about it is kept: no link
/// to a report, a slot or a thread, and no time finer than the day.
#[derive(Debug, Clone)]
pub struct NewCopy {
    /// The copy box (32 bytes the reply code derives; the envelope's routing).
    pub copy_box: SlotAddress,
    /// The whole envelope, opaque.
    pub envelope: Vec<u8>,
    /// UTC day of receipt (for retention, as for reply slots).
    pub day: Day,
    /// The proof-of-work challenge this copy spends, if any: recorded as
    /// spent in the same transaction (crypto/FORMAT.md#verifying, step 8).
    pub pow: Option<PowTicket>,
}

/// The caps on one copy box, checked in the transaction that writes a copy,
/// so that concurrent writers cannot overshoot them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyLimits {
    /// Most copies a box holds.
    pub count: u32,
    /// Most envelope bytes a box holds, all its copies together.
    pub bytes: u64,
}

/// Outcome of writing a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyWrite {
    /// Stored (durably committed, its challenge spent).
    Stored,
    /// The box is at its cap ([`CopyLimits`]); nothing stored, no challenge spent.
    Full,
}

/// A handler token as listed by the admin command (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Force the token belongs to.
    pub force_id: String,
    /// Operator's label, unique per force.
    pub label: String,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// What a purge removed, and how many closed days it rewrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    /// Reports deleted.
    pub reports: u64,
    /// Reply slots deleted.
    pub slots: u64,
    /// Reporters' own copies deleted (crypto/FORMAT.md#own-copies).
    pub copies: u64,
    /// Closed days whose reports were rewritten in a random order (each day
    /// once; see [`Storage::purge`]).
    pub days_settled: u64,
}

/// The most random days a row is kept beyond `--retention-days` (each row's
/// `purge_fuzz`), as the page states it.
pub const MAX_PURGE_FUZZ: u32 = common::MAX_PURGE_FUZZ.unsigned_abs() as u32;
// --- blobs (attachments, issue 19; crypto/FORMAT.md#blobs-on-the-server) ---

/// A blob's random 128-bit id, chosen by the server when the upload begins.
pub type BlobId = [u8; 16];

/// Octets of one upload part: 16 sealed chunks of an attachment stream
/// (the last part of a blob may be shorter).
pub const BLOB_PART_LEN: u64 = 16 * quietline_crypto::stream::SEALED_CHUNK_LEN as u64;

/// How many parts a blob of `sealed_len` octets is uploaded in.
pub fn blob_part_count(sealed_len: u64) -> u32 {
    sealed_len.div_ceil(BLOB_PART_LEN) as u32
}

/// The length part `n` of a blob of `sealed_len` octets must have, if there
/// is such a part.
pub fn blob_part_len(sealed_len: u64, n: u32) -> Option<u64> {
    let start = u64::from(n).checked_mul(BLOB_PART_LEN)?;
    (start < sealed_len).then(|| (sealed_len - start).min(BLOB_PART_LEN))
}

/// An upload to begin.
#[derive(Debug, Clone)]
pub struct NewBlob {
    /// Random id.
    pub id: BlobId,
    /// The force it is uploaded to (only that force's handlers fetch it).
    pub force_id: String,
    /// Octets the sealed blob will have (a bucket's sealed length).
    pub sealed_len: u64,
    /// UTC day the upload began.
    pub day: Day,
    /// The proof-of-work challenge the upload spends, recorded as spent in
    /// the same transaction.
    pub pow: Option<PowTicket>,
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobStatus {
    /// The sealed length declared when it began.
    pub sealed_len: u64,
    /// Parts held, in order.
    pub received: Vec<u32>,
    /// Whether every part is held.
    pub complete: bool,
}

/// Outcome of writing an upload part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartWrite {
    /// Durably stored (or the same octets were already held); whether the
    /// blob is now complete.
    Stored {
        /// Every part is held.
        complete: bool,
    },
    /// Other octets are already held for this part; nothing changed.
    Conflict,
    /// No such part number, or not the length that part must have.
    BadPart {
        /// The length part `n` must have, if the blob has such a part.
        expected: Option<u64>,
    },
    /// No upload with this id (never begun, expired or purged).
    UnknownBlob,
}

/// What a blob purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgedBlobs {
    /// Uploads never completed, past their expiry.
    pub expired_uploads: u64,
    /// Complete blobs no handler fetched within the unreferenced period.
    pub unreferenced: u64,
    /// Fetched blobs past retention.
    pub past_retention: u64,
}

/// How long after midnight (UTC) a day counts as closed for
/// [`Storage::purge`]: a report whose day was read just before midnight may
/// still be on its way to the database (bounded by the request timeout), and
/// it must land before its day is rewritten, or it would sit after the
/// rewritten rows and show it came last.
pub const CLOSE_GRACE_SECS: u64 = 15 * 60;

/// The `today` to pass to [`Storage::purge`] at Unix time `now_secs`: the
/// day of `now_secs - grace_secs`, so every earlier day is closed.
pub fn purge_day(now_secs: u64, grace_secs: u64) -> Day {
    crate::day::day_of(now_secs.saturating_sub(grace_secs))
}

/// Storage errors. Messages never contain envelope bytes or tokens.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The force does not exist.
    #[error("no force with id {0:?}")]
    UnknownForce(String),
    /// The force already exists.
    #[error("a force with id {0:?} already exists")]
    ForceExists(String),
    /// The key is already registered.
    #[error("that key is already registered")]
    KeyExists,
    /// No such key for this force.
    #[error("force {0:?} has no key with that key id")]
    UnknownKey(String),
    /// Refused: the current key cannot be retired before another is added.
    #[error("that is the current key of force {0:?}; add a new key before retiring it")]
    RetireCurrent(String),
    /// A token with this label already exists for the force.
    #[error("force {0:?} already has a token labelled {1:?}")]
    TokenLabelExists(String, String),
    /// No token with that label.
    #[error("force {0:?} has no token labelled {1:?}")]
    UnknownToken(String, String),
    /// The database failed (message from the driver, which never sees request data
    /// beyond the parameters bound here).
    #[error("database error: {0}")]
    Database(String),
    /// The database cannot serve this request now, for a reason that can pass
    /// without anyone changing the request: the disk is full, the database
    /// server is restarting or unreachable, no pooled connection came free in
    /// time, the file is locked by another process. The same request can be
    /// sent again shortly. What failed was rolled back, except when a
    /// connection to PostgreSQL was lost during its COMMIT: then the outcome
    /// is unknown (for a report, its challenge tells: the same proof of work
    /// sent again is refused as spent exactly if the report was stored). The
    /// message is the driver's, which never quotes bound values.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The writer task has stopped (shutdown in progress).
    #[error("the storage writer has stopped")]
    WriterGone,
    /// The report's proof-of-work challenge was already spent; nothing stored.
    #[error("that proof-of-work challenge was already spent")]
    ChallengeSpent,
    /// The force has signing keys, so a key is added only with its signed
    /// statement (crypto/FORMAT.md#key-statements).
    #[error("force {0:?} has signing keys: a key is added only as a statement signed by them")]
    StatementRequired(String),
    /// The force's signing keys are already registered; the platform never replaces them.
    #[error("force {0:?} already has signing keys")]
    SignersExist(String),
    /// The statement's sequence number is not the next of the force's chain.
    #[error(
        "force {force:?}: the statement's sequence number is {got}, but the next one is {next}"
    )]
    StatementOutOfOrder {
        /// The force.
        force: String,
        /// The sequence number given.
        got: u64,
        /// The one the chain expects.
        next: u64,
    },
}

/// Result alias.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// What a storage without blobs answers (see the blob methods' defaults).
fn no_blobs() -> StorageError {
    StorageError::Database("this storage keeps no attachments".into())
}

/// The storage interface. Every write method returns only after the data is
/// durably committed.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    // --- forces and keys (admin commands) ---
    /// Create a force.
    async fn add_force(&self, id: &str, name: &str) -> Result<()>;
    /// All forces with their current key, ordered by id.
    async fn forces(&self) -> Result<Vec<ForceEntry>>;
    /// Add a key to a force and make it current; the previous current key becomes Active.
    async fn add_force_key(&self, force_id: &str, key_id: KeyId, public_key: Vec<u8>)
    -> Result<()>;
    /// Retire a key (not the current one).
    async fn retire_force_key(&self, force_id: &str, key_id: KeyId) -> Result<()>;
    /// All keys of a force.
    async fn force_keys(&self, force_id: &str) -> Result<Vec<ForceKey>>;
    /// Status of one key of one force: `Ok(None)` if the force exists but the key does not,
    /// `Err(UnknownForce)` if the force does not exist.
    async fn key_status(&self, force_id: &str, key_id: KeyId) -> Result<Option<KeyStatus>>;

    // --- signing keys and key statements (crypto/FORMAT.md#key-statements) ---
    // Both backends implement these; the defaults only let a wrapping test
    // storage that does not care compile, and refuse.
    /// Register a force's signer set, once: `Err(SignersExist)` if it has
    /// one, `Err(UnknownForce)`. From then on [`Storage::add_force_key`]
    /// refuses (`StatementRequired`) and keys come with their statement.
    async fn set_force_signers(&self, force_id: &str, signers: StoredSigners) -> Result<()> {
        let _ = signers;
        Err(StorageError::Database(format!(
            "this storage does not keep signing keys (force {force_id:?})"
        )))
    }
    /// The force's signer set, `None` if it has none; `Err(UnknownForce)`.
    async fn force_signers(&self, force_id: &str) -> Result<Option<StoredSigners>> {
        Err(StorageError::Database(format!(
            "this storage does not keep signing keys (force {force_id:?})"
        )))
    }
    /// Add a key with its signed statement and make it current, in one
    /// transaction: `statement.sequence` must be the next of the force's
    /// chain (`Err(StatementOutOfOrder)`, so two operators racing cannot
    /// both append), the key new (`Err(KeyExists)`). The same transaction
    /// appends the statement to the key log as its next leaf
    /// (crypto/FORMAT.md#key-log). The caller has verified the statement
    /// (src/admin.rs); storage checks only order.
    async fn add_signed_force_key(
        &self,
        force_id: &str,
        public_key: Vec<u8>,
        statement: StoredStatement,
    ) -> Result<()> {
        let _ = (public_key, statement);
        Err(StorageError::Database(format!(
            "this storage does not keep key statements (force {force_id:?})"
        )))
    }
    /// Every statement of a force, by sequence number; `Err(UnknownForce)`.
    async fn key_statements(&self, force_id: &str) -> Result<Vec<StoredStatement>> {
        Err(StorageError::Database(format!(
            "this storage does not keep key statements (force {force_id:?})"
        )))
    }
    /// The statement of each force's current key, by force id (for the
    /// directory); forces whose current key has none are left out.
    async fn current_statements(&self) -> Result<Vec<(String, StoredStatement)>> {
        Ok(Vec::new())
    }

    // --- the key log (crypto/FORMAT.md#key-log) ---
    // Append-only: entries are added only by `add_signed_force_key` (and the
    // migration that backfilled older statements); nothing updates or
    // deletes one, and the database refuses it (migrations/*/0008_keylog.sql).
    // The defaults are an empty log, for wrapping test storages.
    /// The log's signing-key seed: stores `fresh` if there is none yet and
    /// returns the stored one either way (every instance sharing the
    /// database signs with the first one's key, as for [`Storage::pow_key`]).
    async fn keylog_seed(&self, fresh: [u8; 32]) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        let _ = fresh;
        Err(StorageError::Database(
            "this storage does not keep a key log".into(),
        ))
    }
    /// The number of entries in the log.
    async fn keylog_size(&self) -> Result<u64> {
        Ok(0)
    }
    /// The entries `start ≤ index < end`, in index order (fewer if the log
    /// is shorter than `end`; none if `start ≥ end`).
    async fn keylog_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let _ = (start, end);
        Ok(Vec::new())
    }
    /// The log index of each force's current key statement, by force id;
    /// forces whose current key has no statement are left out.
    async fn keylog_current_positions(&self) -> Result<Vec<LogPosition>> {
        Ok(Vec::new())
    }

    // --- handler tokens ---
    /// Store a token hash for a force under a label.
    async fn add_token(&self, hash: TokenHash, force_id: &str, label: &str) -> Result<()>;
    /// Revoke the token with this label.
    async fn revoke_token(&self, force_id: &str, label: &str) -> Result<()>;
    /// The force a live (not revoked) token belongs to.
    async fn token_force(&self, hash: TokenHash) -> Result<Option<String>>;
    /// Tokens of a force, or of all forces.
    async fn tokens(&self, force_id: Option<&str>) -> Result<Vec<TokenInfo>>;

    // --- reports ---
    /// Store a report durably (group-committed with concurrent callers), and
    /// record its proof-of-work challenge as spent in the same transaction:
    /// `Err(ChallengeSpent)` if it already was, and then nothing is stored.
    /// The force and key are checked in the same transaction: `Err(UnknownForce)`
    /// for a force that does not exist, `Err(UnknownKey)` for a key that was
    /// never registered or is retired (so a key retired by any process is
    /// refused from that commit on, whatever a caller checked before).
    async fn insert_report(&self, report: NewReport) -> Result<()>;
    /// A page of a force's inbox, ordered by id, after `after` (exclusive), at most `limit`.
    async fn inbox(
        &self,
        force_id: &str,
        after: Option<ReportId>,
        limit: u32,
    ) -> Result<Vec<InboxEntry>>;
    /// A report's envelope, only if it belongs to `force_id`.
    async fn report(&self, force_id: &str, id: ReportId) -> Result<Option<Vec<u8>>>;
    /// Several reports' envelopes at once (the batched inbox fetch): those of
    /// `ids` that exist AND belong to `force_id`, each once, in the order
    /// asked; an id of another force is left out exactly like a missing one.
    /// `Err(UnknownForce)` if nothing was found and the force does not exist.
    /// Callers bound `ids` (the API takes at most `MAX_FETCH_REPORTS`).
    ///
    /// The default asks [`Storage::report`] once per id; both backends answer
    /// in one query instead.
    async fn reports(&self, force_id: &str, ids: &[ReportId]) -> Result<Vec<(ReportId, Vec<u8>)>> {
        let mut found = Vec::with_capacity(ids.len());
        for id in common::dedup(ids) {
            if let Some(envelope) = self.report(force_id, id).await? {
                found.push((id, envelope));
            }
        }
        Ok(found)
    }

    // --- reply slots ---
    /// Write a one-time slot.
    async fn put_slot(
        &self,
        address: SlotAddress,
        envelope: Vec<u8>,
        day: Day,
    ) -> Result<SlotWrite>;
    /// Read one slot.
    async fn slot(&self, address: SlotAddress) -> Result<Option<Vec<u8>>>;
    /// Read several slots; returns the present ones.
    async fn slots(&self, addresses: &[SlotAddress]) -> Result<Vec<(SlotAddress, Vec<u8>)>>;

    // --- reporters' own copies (crypto/FORMAT.md#own-copies) ---
    /// Store a copy durably in its box, and record its proof-of-work
    /// challenge as spent in the same transaction: `Err(ChallengeSpent)` if it
    /// already was. `Ok(Full)` if the box already holds `limits.count` copies
    /// or the copy would take it past `limits.bytes`; then nothing is stored
    /// and the challenge is not spent. Rows carry a random id, so no order
    /// of theirs follows arrival.
    async fn put_copy(&self, copy: NewCopy, limits: CopyLimits) -> Result<CopyWrite>;
    /// Every copy in a box, in no meaningful order (by their random ids);
    /// an empty box is an empty list.
    async fn copies(&self, copy_box: SlotAddress) -> Result<Vec<Vec<u8>>>;

    // --- retention ---
    /// Delete reports, slots and copies older than `retention_days` (+ each row's random fuzz)
    /// as of `today`, and make sure the bytes are really gone from the
    /// database files (SQLite: `secure_delete` and a TRUNCATE checkpoint of
    /// the WAL; PostgreSQL: `VACUUM FULL` of the tables that lost rows).
    ///
    /// It also settles every closed day (every day before `today`) not yet
    /// settled: that day's reports are deleted and written again in a random
    /// order, in one transaction, so where a report sits in the files no
    /// longer follows the order reports arrived in (the day, nothing finer).
    /// Only which days are settled is recorded. Idempotent and crash-safe: a
    /// day is rewritten and marked in the same transaction, so a crash leaves
    /// it either untouched or done, never half. Pass
    /// [`purge_day`]`(now, CLOSE_GRACE_SECS)` as `today`, not the bare day,
    /// so a report in flight at midnight lands before its day is settled.
    async fn purge(&self, today: Day, retention_days: u32) -> Result<Purged>;

    // --- proof of work ---
    /// The proof-of-work MAC key: stores `fresh` if there is none yet, and
    /// returns the stored key either way (so every instance sharing the
    /// database uses the first one's key).
    async fn pow_key(&self, fresh: [u8; 32]) -> Result<zeroize::Zeroizing<[u8; 32]>>;
    /// Forget spent challenges whose expiry is at or before `now` (Unix seconds).
    async fn forget_spent(&self, now: i64) -> Result<u64>;
    /// The report writer's pressure since the previous call (resets the
    /// slowest-commit figure).
    fn pressure(&self) -> Pressure;

    // --- blobs (attachments; crypto/FORMAT.md#blobs-on-the-server) ---
    //
    // Both backends implement every one of these. The defaults refuse, so a
    // storage wrapper written before blobs existed (a test's fault injector)
    // still compiles and says plainly that it keeps none.
    /// Begin an upload, recording its challenge as spent in the same
    /// transaction (`Err(ChallengeSpent)` if it already was, and then
    /// nothing is stored); `Err(UnknownForce)` for a force that does not exist.
    async fn create_blob(&self, _blob: NewBlob) -> Result<()> {
        Err(no_blobs())
    }
    /// Where an upload stands (any state), or `None`.
    async fn blob_status(&self, _id: BlobId) -> Result<Option<BlobStatus>> {
        Err(no_blobs())
    }
    /// Store part `n` of an upload durably; the blob becomes complete in the
    /// same transaction as its last missing part.
    async fn put_blob_part(&self, _id: BlobId, _n: u32, _data: Vec<u8>) -> Result<PartWrite> {
        Err(no_blobs())
    }
    /// The sealed length of a COMPLETE blob of `force_id`, or `None` (missing,
    /// incomplete, or another force's: alike).
    async fn blob_len(&self, _force_id: &str, _id: BlobId) -> Result<Option<u64>> {
        Err(no_blobs())
    }
    /// Part `n` of a complete blob of `force_id`.
    async fn blob_part(&self, _force_id: &str, _id: BlobId, _n: u32) -> Result<Option<Vec<u8>>> {
        Err(no_blobs())
    }
    /// Mark a complete blob of `force_id` as fetched by its force (from then
    /// on it is kept for the retention period, not the unreferenced one).
    async fn reference_blob(&self, _force_id: &str, _id: BlobId) -> Result<()> {
        Err(no_blobs())
    }
    /// Delete uploads begun before yesterday and never completed, complete
    /// blobs no handler fetched `unreferenced_days` after their day, and
    /// fetched ones past `retention_days` + their fuzz, with their bytes gone
    /// from the files as for [`Storage::purge`].
    async fn purge_blobs(
        &self,
        _today: Day,
        _retention_days: u32,
        _unreferenced_days: u32,
    ) -> Result<PurgedBlobs> {
        Err(no_blobs())
    }

    /// Stop background writers after draining what they have queued.
    async fn close(&self);
}

/// Open the storage named by `database_url`, apply its migrations and start
/// its report writer. Must be called inside a tokio runtime.
///
/// Accepted: `sqlite://PATH` (the file is created, mode 0600, if missing;
/// `sqlite:///abs/path` for an absolute path) and `postgres://…` or
/// `postgresql://…`. Errors name no secret: not the URL's password, not an
/// envelope or token. At shutdown call [`Storage::close`]: it commits what is
/// queued and closes the connections cleanly.
pub async fn open(database_url: &str) -> Result<std::sync::Arc<dyn Storage>> {
    if database_url.starts_with("sqlite://") {
        Ok(std::sync::Arc::new(
            sqlite::SqliteStorage::open(database_url).await?,
        ))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(
            postgres::PostgresStorage::open(database_url).await?,
        ))
    } else {
        // Name only the scheme: the rest of a URL can hold a password.
        let scheme = database_url
            .split_once(':')
            .map(|(s, _)| s)
            .filter(|s| {
                s.len() <= 32
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
            })
            .unwrap_or("");
        Err(StorageError::Database(format!(
            "unsupported database URL scheme {scheme:?}: use sqlite://PATH, postgres://… or postgresql://…"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A day is closed only once the grace after its midnight has passed, so
    /// a report whose day was read just before midnight lands before purge
    /// settles that day.
    #[test]
    fn a_day_closes_after_the_grace() {
        let midnight = 20_001 * 86_400;
        assert_eq!(purge_day(midnight - 1, CLOSE_GRACE_SECS), 20_000);
        assert_eq!(
            purge_day(midnight + CLOSE_GRACE_SECS - 1, CLOSE_GRACE_SECS),
            20_000
        );
        assert_eq!(
            purge_day(midnight + CLOSE_GRACE_SECS, CLOSE_GRACE_SECS),
            20_001
        );
        assert_eq!(purge_day(5, CLOSE_GRACE_SECS), 0);
    }
}

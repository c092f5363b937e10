//! The force's vault: envelopes exactly as pulled (still sealed), the
//! handlers' records (notes, statuses, copies of replies, assignments, … —
//! each sealed, see [`crate::records`]), the pull cursor, the audit chain,
//! the desk's accounts and sessions, who has seen which case, and which reply
//! slots are claimed.
//!
//! [`Vault`] is the one handle every caller uses (cheap to clone). Behind it
//! is a [`VaultBackend`]: the SQLite file (`vault.sqlite`, one desk or one
//! CLI: [`sqlite`]) or a PostgreSQL database shared by several desk
//! instances and CLIs inside the force ([`postgres`]). [`Vault::connect`]
//! picks one from a target: a `postgres://`/`postgresql://` URL, or else a
//! file path.
//!
//! This module owns the row types, the rules both backends share (which
//! record kinds are acceptable, what a report-id prefix or a thread key
//! looks like) and the contract each backend keeps:
//!
//! - **One change counter.** Every envelope and every record takes the next
//!   value `n` of one counter inside its writing transaction, under a lock
//!   held to commit, so `n` grows in COMMIT order across every writer
//!   ([`Vault::changes_since`] never skips a row that commits later with a
//!   smaller `n`). A record's `seq` is its `n`.
//! - **The audit chain stays one line** with several writers: an append reads
//!   the last entry and writes the next under a lock.
//! - **Durability**: a method returns only after its transaction committed
//!   (SQLite: WAL with `synchronous=FULL`; PostgreSQL: `synchronous_commit=on`).
//! - **Schema version**: a vault written by a newer console is refused, never
//!   "upgraded" backwards; older SQLite vaults are upgraded in place.
//!
//! It does not decrypt, seal or hash anything: it stores bytes other modules
//! made, and it does not decide what an account's role or a record means.
//!
//! What is readable at rest, by design (a dump of the database without the
//! keys): report ids and the server's UTC day (both also on the server), key
//! ids, why an envelope failed to open (a code and a sentence derived from the
//! header), which reports have which kinds of record and in which order the
//! vault learned of everything (`n`), the audit log (account names, OS users,
//! actions, report ids, times), account names, roles, password hashes
//! (Argon2id), lockout state, session hashes and their times and CSRF tokens,
//! case ids with who has seen them, and claimed reply slots under a hash of
//! the thread id; since retention (issue 17), the ids of deleted reports
//! (tombstones, `meta` rows `deleted:<id>`) and how many deletions there
//! were, and in the audit log the partner a case was disclosed to. Nothing a reporter wrote and nothing a handler wrote is
//! readable: envelopes and records are sealed, and so is each account's TOTP
//! secret.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;

pub mod postgres;
pub mod sqlite;

/// The schema version this console writes and understands. Version 2 added
/// `envelopes.learned`, the order in which the vault learned of each envelope
/// (see [`StoredEnvelope::learned`]); version 3 rewrote the stored reasons of
/// `bad_payload` and `bad_padding` envelopes, which older consoles copied from
/// the parser and which could quote the decrypted payload; version 4 (the
/// force desk) added the change counter `n`, open record kinds, accounts,
/// sessions, seen markers and reply-slot claims; version 5 added pending
/// sign-ins (so a sign-in's steps may reach any desk sharing the vault);
/// version 6 added attachments (issue 19: a state per attachment, and each
/// blob's sealed parts exactly as fetched, see [`AttachmentRow`]).
/// Older vaults are upgraded in place.
pub const SCHEMA_VERSION: i64 = 6;

/// Why the vault could not be used.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The vault was written by a newer console.
    #[error(
        "the vault {path} was written by a newer quietline-console (schema version {found}; this one understands up to {SCHEMA_VERSION}); upgrade quietline-console — nothing was changed"
    )]
    NewerVersion {
        /// The file, or the database's URL without its password.
        path: PathBuf,
        /// Its version.
        found: i64,
    },
    /// The file could not be created.
    #[error("cannot create the vault {path}: {error}")]
    Create {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The `--vault-url` (or `QUIETLINE_VAULT_URL`) could not be used as given.
    #[error("{0}")]
    BadTarget(String),
    /// The database failed (the driver's message; kept as text so it is
    /// printed once; never holds a password).
    #[error("vault database error: {0}")]
    Database(String),
    /// The vault's contents are inconsistent (e.g. edited by hand).
    #[error("the vault is inconsistent: {0}")]
    Corrupt(String),
    /// No report id starts with the given prefix.
    #[error("no report in the vault has an id starting with {0:?} (run `list` to see ids)")]
    NoSuchReport(String),
    /// Several do.
    #[error(
        "{prefix:?} is ambiguous: it starts {count} report ids ({examples}…); type more of the id"
    )]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// How many matched (at most the query limit).
        count: usize,
        /// A few of them.
        examples: String,
    },
    /// The prefix is not hex or too short.
    #[error(
        "{0:?} is not a report id: give at least 4 hexadecimal digits of the id shown by `list`"
    )]
    BadPrefix(String),
    /// A record kind outside `[a-z-]{1,24}` (a programming error, not input).
    #[error("{0:?} is not a record kind: a kind is 1 to 24 characters of a-z and '-'")]
    BadKind(String),
    /// A thread key that is not 64 lowercase hexadecimal digits.
    #[error(
        "{0:?} is not a thread key: it is the SHA-256 of the thread id, 64 lowercase hexadecimal digits"
    )]
    BadThreadKey(String),
    /// `insert_account` with a name already taken.
    #[error("an account named {0:?} already exists: choose another name, or `account reset` it")]
    AccountExists(String),
    /// No account of that name.
    #[error("there is no account named {0:?} (run `account list` to see them)")]
    NoSuchAccount(String),
}

/// Result of every vault method.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;

/// An envelope to store.
#[derive(Debug, Clone)]
pub struct NewEnvelope {
    /// The server's report id (32 lowercase hex digits).
    pub id: String,
    /// The server's UTC day of receipt, `YYYY-MM-DD` (a claim of the server).
    pub day: String,
    /// The key id in the envelope header (or, for one that does not parse, as listed).
    pub key_id: String,
    /// The envelope bytes exactly as received.
    pub envelope: Vec<u8>,
    /// SHA-256 of the envelope (spots the same envelope under two ids).
    pub sha256: [u8; 32],
    /// Why it did not open at pull time, if it did not: (code, sentence).
    pub flag: Option<(String, String)>,
}

/// An envelope as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEnvelope {
    /// Report id.
    pub id: String,
    /// Server's UTC day.
    pub day: String,
    /// Key id (hex).
    pub key_id: String,
    /// Sealed bytes.
    pub envelope: Vec<u8>,
    /// Flag at pull time: (code, sentence).
    pub flag: Option<(String, String)>,
    /// When the vault learned of it, on the records' clock: the highest record
    /// `seq` written before the envelope was stored (0 if none). An envelope
    /// with `learned = n` came after record `n` and before the next record, so
    /// a thread can be ordered without trusting the reporter's clock.
    /// `None` for envelopes stored by a version-1 vault, which did not keep it.
    pub learned: Option<i64>,
    /// Its place on the change counter (see [`Vault::changes_since`]): the
    /// order in which the vault stored it among every envelope and record.
    /// Envelopes of a vault upgraded from version 3 were numbered after its
    /// records, in the order they were learned.
    pub n: i64,
}

/// An attachment's state before its first fetch, and again after a fetch
/// the connection cut short (fetched again by the next pull).
pub const ATTACHMENT_PENDING: &str = "pending";
/// An attachment whose whole blob is stored and checked.
pub const ATTACHMENT_STORED: &str = "stored";

/// One attachment of a report as the vault keeps it (schema 6). The blob's
/// sealed octets are kept beside it in parts ([`Vault::put_blob_part`]);
/// its key, id, sizes and hashes are only in the sealed envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    /// The report (or follow-up) that lists it.
    pub report_id: String,
    /// Its place in that message's `attachments` list, from 0.
    pub index: u32,
    /// [`ATTACHMENT_PENDING`], [`ATTACHMENT_STORED`], or a flag code
    /// (`crate::attachments::AttachmentFlag::code`).
    pub state: String,
    /// For a flag, what was wrong, in words (never the file's content).
    pub detail: Option<String>,
    /// Octets of the sealed blob stored.
    pub stored_len: u64,
    /// Fetches made so far.
    pub tries: u32,
}

/// A sealed handler record (note, status, reply copy, assignment, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Its place on the change counter (the same counter as
    /// [`StoredEnvelope::n`]); increasing in write order.
    pub seq: i64,
    /// The report (case) it belongs to.
    pub report_id: String,
    /// `note`, `status`, `reply`, … (1–24 characters of `[a-z-]`).
    pub kind: String,
    /// The sealed bytes.
    pub sealed: Vec<u8>,
}

/// What changed after a point of the change counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Envelopes with `n > after`, in `n` order.
    pub envelopes: Vec<StoredEnvelope>,
    /// Records with `seq > after`, in `seq` order.
    pub records: Vec<StoredRecord>,
    /// Where to continue from: pass it as `after` next time. Everything up to
    /// `high` that was committed is in this answer or an earlier one.
    pub high: i64,
}

impl Changes {
    /// How many rows (envelopes and records) this answer holds; when it equals
    /// the `limit` asked for, there may be more after [`Changes::high`].
    pub fn len(&self) -> usize {
        self.envelopes.len() + self.records.len()
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// UTC time, RFC 3339.
    pub at: String,
    /// The operating-system user.
    pub os_user: String,
    /// The account (desk) or the handler name given with `--handler` (CLI), if any.
    pub handler: Option<String>,
    /// What was done (`show`, `reply`, …).
    pub action: String,
    /// The report concerned, if any.
    pub report_id: Option<String>,
    /// Non-secret detail (export format, reply slot, pull counts).
    pub detail: Option<String>,
    /// The previous entry's hash (hex), 64 zeros for the first.
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

/// Makes the next audit entry from the last one's (seq, hash), called under
/// the chain's lock (see [`Vault::append_audit`]).
pub type AuditMaker<'a> = Box<dyn FnOnce(Option<(i64, String)>) -> AuditRow + Send + 'a>;

/// A desk account as stored. The vault checks no rule about it (roles,
/// password quality, lockout): `crate::accounts` does.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// The account name (unique; recorded in audit entries).
    pub name: String,
    /// `handler`, `supervisor` or `custodian`.
    pub role: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The TOTP secret sealed to the force's current public key (like a
    /// record); `None` until enrolled.
    pub totp_sealed: Option<Vec<u8>>,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// The next sign-in must enrol a second factor (and set a password).
    pub must_enrol: bool,
    /// Failed sign-ins in a row.
    pub failed_logins: i64,
    /// Sign-in refused until this time (unix seconds), if set.
    pub locked_until: Option<i64>,
    /// The UTC day the account was made, `YYYY-MM-DD`.
    pub created: String,
    /// Bumped by reset and disable: sessions of an older generation are dead.
    pub generation: i64,
}

impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"[redacted]")
            .field(
                "totp_sealed",
                &self.totp_sealed.as_ref().map(|_| "[sealed]"),
            )
            .field("disabled", &self.disabled)
            .field("must_enrol", &self.must_enrol)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("created", &self.created)
            .field("generation", &self.generation)
            .finish()
    }
}

/// A desk session as stored: the cookie's token itself is never stored, only
/// its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the cookie token.
    pub id_hash: [u8; 32],
    /// The signed-in account.
    pub account: String,
    /// The account's generation when the session began.
    pub generation: i64,
    /// The session's CSRF form token.
    pub csrf: String,
    /// When it began (unix seconds).
    pub created: i64,
    /// When it was last used (unix seconds).
    pub last_seen: i64,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("id_hash", &"[redacted]")
            .field("account", &self.account)
            .field("generation", &self.generation)
            .field("csrf", &"[redacted]")
            .field("created", &self.created)
            .field("last_seen", &self.last_seen)
            .finish()
    }
}

/// A desk sign-in between its steps (password accepted; a code, a new
/// password or an enrolment awaited), kept in the vault so that the next
/// step may reach any desk sharing it. The browser's token is never stored,
/// only its SHA-256; the TOTP secret being enrolled is sealed to the force's
/// current key, as an account's is.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingRow {
    /// SHA-256 of the pending cookie's token.
    pub id_hash: [u8; 32],
    /// The account signing in.
    pub account: String,
    /// The step awaited: `code`, `new-password` or `enrol`.
    pub next: String,
    /// When the password was accepted (unix seconds).
    pub created: i64,
    /// The new password's Argon2id PHC string (first sign-in), written to
    /// the account only with the confirmed enrolment.
    pub new_hash: Option<String>,
    /// The TOTP secret being enrolled, sealed (until a code confirms it).
    pub secret_sealed: Option<Vec<u8>>,
    /// Wrong codes while enrolling.
    pub tries: i64,
}

impl std::fmt::Debug for PendingRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRow")
            .field("id_hash", &"[redacted]")
            .field("account", &self.account)
            .field("next", &self.next)
            .field("created", &self.created)
            .field("new_hash", &self.new_hash.as_ref().map(|_| "[redacted]"))
            .field(
                "secret_sealed",
                &self.secret_sealed.as_ref().map(|_| "[redacted]"),
            )
            .field("tries", &self.tries)
            .finish()
    }
}

/// One backend of the vault. Implemented by [`sqlite::SqliteVault`] and
/// [`postgres::PostgresVault`]; callers use [`Vault`], which checks the
/// arguments both backends share before it calls one. Every writing method
/// returns only after its transaction committed.
#[async_trait]
pub trait VaultBackend: Send + Sync + 'static {
    /// Close the connections.
    async fn close(&self);

    /// Whether a report id is stored.
    async fn contains(&self, id: &str) -> Result<bool>;
    /// The smallest id of a stored envelope with these exact bytes.
    async fn id_by_sha256(&self, sha256: &[u8; 32]) -> Result<Option<String>>;
    /// Which of `ids` are stored: [`VaultBackend::contains`] for many ids in
    /// a few queries (a pull asks this of every listing page).
    async fn contains_many(&self, ids: &[String]) -> Result<HashSet<String>>;
    /// For each of `hashes` that some stored envelope has, the smallest such
    /// id: [`VaultBackend::id_by_sha256`] for many hashes in a few queries.
    async fn ids_by_sha256_many(&self, hashes: &[[u8; 32]]) -> Result<HashMap<[u8; 32], String>>;
    /// Store new envelopes in one transaction, each taking the next `n`; ids
    /// already present are left as they are (and take no `n`). Returns how
    /// many were new.
    async fn insert_envelopes(&self, batch: &[NewEnvelope]) -> Result<u64>;
    /// One envelope by exact id.
    async fn envelope(&self, id: &str) -> Result<Option<StoredEnvelope>>;
    /// Every envelope, by day then id, streamed.
    fn envelopes(&self) -> BoxStream<'_, Result<StoredEnvelope>>;
    /// (envelopes, flagged envelopes).
    async fn counts(&self) -> Result<(i64, i64)>;
    /// How many records.
    async fn record_count(&self) -> Result<i64>;
    /// Up to `limit` ids in `[from, to)`, in order.
    async fn ids_between(&self, from: &str, to: &str, limit: u32) -> Result<Vec<String>>;

    /// Append a record (kind already checked), taking the next `n` as its
    /// `seq`; [`VaultError::NoSuchReport`] if the report is not stored.
    async fn add_record(&self, report_id: &str, kind: &str, sealed: &[u8]) -> Result<i64>;
    /// The records of one report, by `seq`.
    async fn records_for(&self, report_id: &str) -> Result<Vec<StoredRecord>>;
    /// The records of one kind, by `seq`, streamed.
    fn records_of_kind<'a>(&'a self, kind: &'a str) -> BoxStream<'a, Result<StoredRecord>>;

    /// See [`Vault::changes_since`].
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Changes>;
    /// The counter's last committed value (0 for an empty vault).
    async fn high_water(&self) -> Result<i64>;

    /// A meta value.
    async fn meta(&self, name: &str) -> Result<Option<String>>;
    /// Set or remove a meta value.
    async fn set_meta(&self, name: &str, value: Option<&str>) -> Result<()>;

    /// Append an audit entry under the chain's lock.
    async fn append_audit(&self, make: AuditMaker<'_>) -> Result<AuditRow>;
    /// Every audit entry by `seq`, streamed.
    fn audit_entries(&self) -> BoxStream<'_, Result<AuditRow>>;

    /// One account.
    async fn account(&self, name: &str) -> Result<Option<AccountRow>>;
    /// Every account, by name.
    async fn accounts(&self) -> Result<Vec<AccountRow>>;
    /// A new account; [`VaultError::AccountExists`] if the name is taken.
    async fn insert_account(&self, row: &AccountRow) -> Result<()>;
    /// Replace every field of an account but its name;
    /// [`VaultError::NoSuchAccount`] if there is none.
    async fn update_account(&self, row: &AccountRow) -> Result<()>;

    /// A new session; [`VaultError::NoSuchAccount`] if its account is unknown.
    async fn insert_session(&self, row: &SessionRow) -> Result<()>;
    /// One session by its hash.
    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRow>>;
    /// Set a session's `last_seen`; whether it exists.
    async fn touch_session(&self, id_hash: &[u8; 32], last_seen: i64) -> Result<bool>;
    /// Remove a session; whether it existed.
    async fn delete_session(&self, id_hash: &[u8; 32]) -> Result<bool>;
    /// Remove every session of an account; how many.
    async fn delete_sessions_of(&self, account: &str) -> Result<u64>;
    /// Remove sessions created before `created_before` or last used before
    /// `last_seen_before`; how many.
    async fn purge_sessions(&self, created_before: i64, last_seen_before: i64) -> Result<u64>;

    /// A new pending sign-in; [`VaultError::NoSuchAccount`] if its account is unknown.
    async fn insert_pending(&self, row: &PendingRow) -> Result<()>;
    /// One pending sign-in by its hash.
    async fn pending(&self, id_hash: &[u8; 32]) -> Result<Option<PendingRow>>;
    /// Replace a pending sign-in's step, new password hash, sealed secret and
    /// tries; whether it exists.
    async fn update_pending(&self, row: &PendingRow) -> Result<bool>;
    /// Remove a pending sign-in; whether it existed.
    async fn delete_pending(&self, id_hash: &[u8; 32]) -> Result<bool>;
    /// Remove the pending sign-ins begun before `created_before`; how many.
    async fn purge_pending(&self, created_before: i64) -> Result<u64>;

    /// Mark a case seen by an account at `n` (keeps the higher `n`).
    async fn seen(&self, case_id: &str, account: &str, n: i64) -> Result<()>;
    /// Remove an account's seen marker; whether there was one.
    async fn unsee(&self, case_id: &str, account: &str) -> Result<bool>;
    /// Every seen marker: (case id, account, n), by case then account.
    async fn seen_all(&self) -> Result<Vec<(String, String, i64)>>;
    /// The seen markers of one case: (account, n), by account.
    async fn seen_of(&self, case_id: &str) -> Result<Vec<(String, i64)>>;

    /// Delete these reports (a case's envelopes) in one transaction with
    /// every record on them, their seen markers and, with `thread_key`, the
    /// thread's reply claims; leave a tombstone per id (see
    /// [`Vault::contains_many`]). SQLite then checkpoints and truncates the WAL.
    async fn delete_reports(&self, ids: &[String], thread_key: Option<&str>) -> Result<Deleted>;
    /// Every tombstoned report id.
    async fn tombstones(&self) -> Result<Vec<String>>;

    /// Claim a reply slot atomically; false if it was already claimed.
    async fn claim_slot(&self, thread_key: &str, slot: u32, account: &str) -> Result<bool>;
    /// Release a claim; whether there was one.
    async fn release_slot(&self, thread_key: &str, slot: u32) -> Result<bool>;
    /// The claims on one thread: (slot, account), by slot.
    async fn claims_of(&self, thread_key: &str) -> Result<Vec<(u32, String)>>;

    /// Add pending rows for `count` attachments of each report (rows that
    /// exist are kept).
    async fn add_attachment_slots(&self, slots: &[(String, u32)]) -> Result<()>;
    /// The attachments of one report, in list order.
    async fn attachments_of(&self, report_id: &str) -> Result<Vec<AttachmentRow>>;
    /// Attachments in one of `states`, fetched fewer than `max_tries` times,
    /// at most `limit`, in (report, index) order.
    async fn attachments_in(
        &self,
        states: &[&str],
        max_tries: u32,
        limit: u32,
    ) -> Result<Vec<AttachmentRow>>;
    /// Delete the stored parts of one attachment's blob.
    async fn clear_blob(&self, report_id: &str, index: u32) -> Result<()>;
    /// Store part `part` of one attachment's blob (committed on return).
    async fn put_blob_part(
        &self,
        report_id: &str,
        index: u32,
        part: u32,
        bytes: &[u8],
    ) -> Result<()>;
    /// Part `part` of one attachment's blob.
    async fn blob_part(&self, report_id: &str, index: u32, part: u32) -> Result<Option<Vec<u8>>>;
    /// Set an attachment's state after a fetch (its `tries` goes up by one).
    async fn set_attachment_state(
        &self,
        report_id: &str,
        index: u32,
        state: &str,
        detail: Option<&str>,
        stored_len: u64,
    ) -> Result<()>;
}

/// What [`Vault::delete_reports`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    /// Envelopes (the case's report and follow-ups).
    pub envelopes: u64,
    /// Sealed records on them.
    pub records: u64,
    /// SQLite: whether the WAL was checkpointed and truncated afterwards
    /// (`false`: a reader blocked it, so the deleted rows' old frames may
    /// still be in `vault.sqlite-wal` until the next checkpoint). `None`
    /// on PostgreSQL (see [`postgres`] on what it keeps of deleted rows).
    pub wal_truncated: Option<bool>,
}

/// The meta name of a deleted report's tombstone: the id only, so that a
/// pull (which walks the server's whole listing) never stores a deleted
/// report again while the server still holds it.
pub(crate) fn tombstone(id: &str) -> String {
    format!("{TOMBSTONE}{id}")
}

/// The prefix of [`tombstone`] names.
pub(crate) const TOMBSTONE: &str = "deleted:";

/// The meta name of the count of deletions (bumped by every
/// [`Vault::delete_reports`]): another desk sharing the vault compares it to
/// know when to drop deleted cases from its index.
pub const DELETIONS: &str = "deletions";

/// The vault (cheap to clone; clones share the connections).
#[derive(Clone)]
pub struct Vault {
    backend: Arc<dyn VaultBackend>,
    /// The file, or the database's URL without its password.
    location: PathBuf,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL as given: it may carry a password.
        f.debug_struct("Vault")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Whether `target` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(target: &str) -> bool {
    let t = target.trim_start();
    ["postgres://", "postgresql://"].iter().any(|scheme| {
        t.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    })
}

/// `url` as it may be printed: the password (in the authority or as a
/// `password=` query parameter) is replaced by `***`, and every other query
/// parameter is kept.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let authority = &base[after_scheme..authority_end];
    let mut out = base[..after_scheme].to_owned();
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    out.push_str(&base[authority_end..]);
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Whether `kind` may name a record: 1–24 characters of `[a-z-]`. Kinds are
/// open (new kinds need no schema change) but never free text: the kind is
/// readable at rest.
pub fn is_record_kind(kind: &str) -> bool {
    (1..=24).contains(&kind.len()) && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

fn check_thread_key(thread_key: &str) -> Result<()> {
    if thread_key.len() == 64
        && thread_key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(VaultError::BadThreadKey(thread_key.to_owned()))
    }
}

impl Vault {
    /// Open the SQLite vault at `path`, creating it (mode 0600) if missing
    /// and upgrading an older one in place. Refuses a vault from a newer console.
    pub async fn open(path: &Path) -> Result<Vault, VaultError> {
        let backend = sqlite::SqliteVault::open(path).await?;
        Ok(Vault {
            backend: Arc::new(backend),
            location: path.to_owned(),
        })
    }

    /// Open the vault `target` names: a `postgres://` or `postgresql://` URL
    /// is a PostgreSQL database (its tables are created if it has none; a
    /// database holding other tables is refused); anything else is a SQLite
    /// file path, as for [`Vault::open`]. The URL's password is never
    /// printed, in errors or in `Debug`.
    pub async fn connect(target: &str) -> Result<Vault, VaultError> {
        if is_postgres_url(target) {
            let backend = postgres::PostgresVault::open(target).await?;
            Ok(Vault {
                backend: Arc::new(backend),
                location: PathBuf::from(redact_url(target.trim())),
            })
        } else if target.trim().is_empty() {
            Err(VaultError::BadTarget(
                "the vault target is empty: give a postgres:// URL or the path of a vault file"
                    .to_owned(),
            ))
        } else {
            Vault::open(Path::new(target)).await
        }
    }

    /// The file (SQLite), or the database's URL without its password (PostgreSQL).
    pub fn path(&self) -> &Path {
        &self.location
    }

    /// Close the connections (SQLite flushes the WAL on the last close). Every
    /// clone shares them: close once, when done.
    pub async fn close(self) {
        self.backend.close().await;
    }

    // ------------------------------------------------------------ envelopes

    /// Whether a report id is already in the vault.
    pub async fn contains(&self, id: &str) -> Result<bool, VaultError> {
        self.backend.contains(id).await
    }

    /// The id of a stored envelope with these exact bytes, if any.
    pub async fn id_by_sha256(&self, sha256: &[u8; 32]) -> Result<Option<String>, VaultError> {
        self.backend.id_by_sha256(sha256).await
    }

    /// Which of `ids` are already in the vault, or were and were deleted (a
    /// tombstone: [`Vault::delete_reports`]), so a pull skips them (a few
    /// queries, however many ids: a pull asks this of each listing page
    /// instead of one query per id).
    pub async fn contains_many(&self, ids: &[String]) -> Result<HashSet<String>, VaultError> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        self.backend.contains_many(ids).await
    }

    /// For each of `hashes` that a stored envelope has, the smallest id with
    /// it ([`Vault::id_by_sha256`] for many hashes at once); hashes no stored
    /// envelope has are absent.
    pub async fn ids_by_sha256_many(
        &self,
        hashes: &[[u8; 32]],
    ) -> Result<HashMap<[u8; 32], String>, VaultError> {
        if hashes.is_empty() {
            return Ok(HashMap::new());
        }
        self.backend.ids_by_sha256_many(hashes).await
    }

    /// Store envelopes in one transaction; ids already present are left as
    /// they are. Returns how many were new.
    pub async fn insert_envelopes(&self, batch: &[NewEnvelope]) -> Result<u64, VaultError> {
        if batch.is_empty() {
            return Ok(0);
        }
        self.backend.insert_envelopes(batch).await
    }

    /// One envelope by exact id.
    pub async fn envelope(&self, id: &str) -> Result<Option<StoredEnvelope>, VaultError> {
        self.backend.envelope(id).await
    }

    /// Every envelope, oldest day first, streamed (memory does not grow with the vault).
    pub fn envelopes(&self) -> BoxStream<'_, Result<StoredEnvelope, VaultError>> {
        self.backend.envelopes()
    }

    /// How many envelopes, and how many were flagged at pull time.
    pub async fn counts(&self) -> Result<(i64, i64), VaultError> {
        self.backend.counts().await
    }

    /// How many handler records (notes, statuses, reply copies, …) the vault holds.
    pub async fn record_count(&self) -> Result<i64, VaultError> {
        self.backend.record_count().await
    }

    /// The full id of the one report whose id starts with `prefix`.
    pub async fn resolve(&self, prefix: &str) -> Result<String, VaultError> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 4 || p.len() > 32 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(VaultError::BadPrefix(prefix.to_owned()));
        }
        // A range scan on the primary key: ids are lowercase hex, so every id
        // with this prefix sorts in [p, p + "g").
        let ids = self.backend.ids_between(&p, &format!("{p}g"), 6).await?;
        match ids.len() {
            0 => Err(VaultError::NoSuchReport(p)),
            1 => Ok(ids.into_iter().next().unwrap_or_default()),
            n => Err(VaultError::Ambiguous {
                prefix: p,
                count: n,
                examples: ids
                    .iter()
                    .take(3)
                    .map(|i| &i[..12.min(i.len())])
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    // ------------------------------------------------------------ records

    /// Append a sealed handler record; returns its `seq` (its place on the
    /// change counter). `kind` must be 1–24 characters of `[a-z-]`.
    pub async fn add_record(
        &self,
        report_id: &str,
        kind: &str,
        sealed: &[u8],
    ) -> Result<i64, VaultError> {
        if !is_record_kind(kind) {
            return Err(VaultError::BadKind(kind.to_owned()));
        }
        self.backend.add_record(report_id, kind, sealed).await
    }

    /// The records of one report, in the order they were written.
    pub async fn records_for(&self, report_id: &str) -> Result<Vec<StoredRecord>, VaultError> {
        self.backend.records_for(report_id).await
    }

    /// Records of one kind across the vault, in order, streamed.
    pub fn records_of_kind<'a>(
        &'a self,
        kind: &'a str,
    ) -> BoxStream<'a, Result<StoredRecord, VaultError>> {
        self.backend.records_of_kind(kind)
    }

    // ------------------------------------------------------------ changes

    /// Everything stored after `after` on the change counter: envelopes and
    /// records with `n > after`, in `n` order, at most `limit` rows in all.
    /// Continue from [`Changes::high`]; an answer with `limit` rows may have
    /// more after it. Because `n` is taken in commit order, a row committed
    /// later never has an `n` at or below a `high` already returned: a desk
    /// that follows `high` sees every change exactly once.
    pub async fn changes_since(&self, after: i64, limit: u32) -> Result<Changes, VaultError> {
        self.backend.changes_since(after, limit).await
    }

    /// The change counter's last committed value (0 for an empty vault).
    pub async fn high_water(&self) -> Result<i64, VaultError> {
        self.backend.high_water().await
    }

    // ------------------------------------------------------------ meta

    /// A value from the meta table.
    pub async fn meta(&self, name: &str) -> Result<Option<String>, VaultError> {
        self.backend.meta(name).await
    }

    /// Set (or with `None`, remove) a meta value.
    pub async fn set_meta(&self, name: &str, value: Option<&str>) -> Result<(), VaultError> {
        self.backend.set_meta(name, value).await
    }

    // ------------------------------------------------------------ audit

    /// Append an audit entry: `make` gets the last (seq, hash) and returns the
    /// new row. Runs in one transaction under the chain's lock, so several
    /// consoles and desks on the same vault cannot fork the chain.
    pub async fn append_audit<F>(&self, make: F) -> Result<AuditRow, VaultError>
    where
        F: FnOnce(Option<(i64, String)>) -> AuditRow + Send,
    {
        self.backend.append_audit(Box::new(make)).await
    }

    /// Every audit entry in sequence order, streamed.
    pub fn audit_entries(&self) -> BoxStream<'_, Result<AuditRow, VaultError>> {
        self.backend.audit_entries()
    }

    /// Collect a stream (helper for small result sets).
    pub async fn collect<T>(
        stream: BoxStream<'_, Result<T, VaultError>>,
    ) -> Result<Vec<T>, VaultError> {
        stream.try_collect().await
    }

    // ------------------------------------------------------------ accounts

    /// One account by name.
    pub async fn account(&self, name: &str) -> Result<Option<AccountRow>, VaultError> {
        self.backend.account(name).await
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<AccountRow>, VaultError> {
        self.backend.accounts().await
    }

    /// Add an account; [`VaultError::AccountExists`] if the name is taken.
    pub async fn insert_account(&self, row: &AccountRow) -> Result<(), VaultError> {
        self.backend.insert_account(row).await
    }

    /// Store every field of `row` for the account `row.name`;
    /// [`VaultError::NoSuchAccount`] if there is none.
    pub async fn update_account(&self, row: &AccountRow) -> Result<(), VaultError> {
        self.backend.update_account(row).await
    }

    // ------------------------------------------------------- pending sign-ins

    /// Store a pending sign-in; [`VaultError::NoSuchAccount`] if its account is unknown.
    pub async fn insert_pending(&self, row: &PendingRow) -> Result<(), VaultError> {
        self.backend.insert_pending(row).await
    }

    /// The pending sign-in whose token hashes to `id_hash`.
    pub async fn pending(&self, id_hash: &[u8; 32]) -> Result<Option<PendingRow>, VaultError> {
        self.backend.pending(id_hash).await
    }

    /// Record a pending sign-in's progress; false if it is gone.
    pub async fn update_pending(&self, row: &PendingRow) -> Result<bool, VaultError> {
        self.backend.update_pending(row).await
    }

    /// End a pending sign-in; false if there was none.
    pub async fn delete_pending(&self, id_hash: &[u8; 32]) -> Result<bool, VaultError> {
        self.backend.delete_pending(id_hash).await
    }

    /// Remove pending sign-ins begun before `created_before` (unix seconds).
    pub async fn purge_pending(&self, created_before: i64) -> Result<u64, VaultError> {
        self.backend.purge_pending(created_before).await
    }

    // ------------------------------------------------------------ sessions

    /// Store a new session; [`VaultError::NoSuchAccount`] if its account is unknown.
    pub async fn insert_session(&self, row: &SessionRow) -> Result<(), VaultError> {
        self.backend.insert_session(row).await
    }

    /// The session whose token hashes to `id_hash`.
    pub async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRow>, VaultError> {
        self.backend.session(id_hash).await
    }

    /// Record a session's use at `last_seen` (unix seconds); false if it is gone.
    pub async fn touch_session(
        &self,
        id_hash: &[u8; 32],
        last_seen: i64,
    ) -> Result<bool, VaultError> {
        self.backend.touch_session(id_hash, last_seen).await
    }

    /// End a session; false if there was none.
    pub async fn delete_session(&self, id_hash: &[u8; 32]) -> Result<bool, VaultError> {
        self.backend.delete_session(id_hash).await
    }

    /// End every session of an account; how many there were.
    pub async fn delete_sessions_of(&self, account: &str) -> Result<u64, VaultError> {
        self.backend.delete_sessions_of(account).await
    }

    /// Remove sessions begun before `created_before` (absolute timeout) or
    /// last used before `last_seen_before` (idle timeout), unix seconds; how many.
    pub async fn purge_sessions(
        &self,
        created_before: i64,
        last_seen_before: i64,
    ) -> Result<u64, VaultError> {
        self.backend
            .purge_sessions(created_before, last_seen_before)
            .await
    }

    // ------------------------------------------------------------ seen markers

    /// `account` has seen case `case_id` as it was at change `n`. Stores the
    /// higher of the marker already there and `n`, so a slow request cannot
    /// move a marker back ([`Vault::unsee`] clears it).
    pub async fn seen(&self, case_id: &str, account: &str, n: i64) -> Result<(), VaultError> {
        self.backend.seen(case_id, account, n).await
    }

    /// Clear `account`'s seen marker on a case (mark unread); false if there was none.
    pub async fn unsee(&self, case_id: &str, account: &str) -> Result<bool, VaultError> {
        self.backend.unsee(case_id, account).await
    }

    /// Every seen marker: (case id, account, n), by case id then account.
    pub async fn seen_all(&self) -> Result<Vec<(String, String, i64)>, VaultError> {
        self.backend.seen_all().await
    }

    /// Who has seen a case: (account, n), by account.
    pub async fn seen_of(&self, case_id: &str) -> Result<Vec<(String, i64)>, VaultError> {
        self.backend.seen_of(case_id).await
    }

    // ------------------------------------------------------------ deletion

    /// Delete a case from the vault: its envelopes `ids`, every sealed
    /// record on them, their seen markers and (with `thread_key`, see
    /// [`Vault::claim_slot`]) the thread's reply claims, in one transaction;
    /// each id leaves a tombstone (the id only: report ids are readable at
    /// rest anyway) so a later pull does not store it again. On SQLite,
    /// `secure_delete` zeroes the freed cells and the WAL is then
    /// checkpointed and truncated, as the server's purge does
    /// (`src/storage/sqlite.rs`); on PostgreSQL the rows are deleted and
    /// what the database keeps of them is described in [`postgres`].
    pub async fn delete_reports(
        &self,
        ids: &[String],
        thread_key: Option<&str>,
    ) -> Result<Deleted, VaultError> {
        if ids.is_empty() {
            return Ok(Deleted::default());
        }
        if let Some(k) = thread_key {
            check_thread_key(k)?;
        }
        self.backend.delete_reports(ids, thread_key).await
    }

    /// Every report id deleted from this vault (its tombstone).
    pub async fn tombstones(&self) -> Result<Vec<String>, VaultError> {
        self.backend.tombstones().await
    }

    // ------------------------------------------------------------ reply claims

    /// Claim reply slot `slot` of the thread whose key is `thread_key` (hex
    /// SHA-256 of the thread id: the id itself is not stored) for `account`.
    /// True for exactly one of any number of racing callers, on every
    /// backend; false if the slot was already claimed.
    pub async fn claim_slot(
        &self,
        thread_key: &str,
        slot: u32,
        account: &str,
    ) -> Result<bool, VaultError> {
        check_thread_key(thread_key)?;
        self.backend.claim_slot(thread_key, slot, account).await
    }

    /// Give a claimed slot back (the reply was not sent); false if it was not claimed.
    pub async fn release_slot(&self, thread_key: &str, slot: u32) -> Result<bool, VaultError> {
        check_thread_key(thread_key)?;
        self.backend.release_slot(thread_key, slot).await
    }

    /// The claims on a thread: (slot, account), by slot.
    pub async fn claims_of(&self, thread_key: &str) -> Result<Vec<(u32, String)>, VaultError> {
        check_thread_key(thread_key)?;
        self.backend.claims_of(thread_key).await
    }

    // ------------------------------------------------------------ attachments

    /// Add pending rows for `count` attachments of each report listed (at
    /// most [`MAX_ATTACHMENTS`] each; rows already there keep their state).
    /// A row may be added before its envelope is stored (a pull adds them
    /// first, so that a crash in between leaves a row, never an envelope
    /// whose attachments are forgotten).
    pub async fn add_attachment_slots(&self, slots: &[(String, u32)]) -> Result<(), VaultError> {
        let slots: Vec<(String, u32)> = slots
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(id, n)| (id.clone(), (*n).min(MAX_ATTACHMENTS)))
            .collect();
        if slots.is_empty() {
            return Ok(());
        }
        self.backend.add_attachment_slots(&slots).await
    }

    /// The attachments of one report, in list order.
    pub async fn attachments_of(&self, report_id: &str) -> Result<Vec<AttachmentRow>, VaultError> {
        self.backend.attachments_of(report_id).await
    }

    /// Attachments in one of `states` fetched fewer than `max_tries` times
    /// (at most `limit`, in report and index order): what a pull fetches.
    pub async fn attachments_in(
        &self,
        states: &[&str],
        max_tries: u32,
        limit: u32,
    ) -> Result<Vec<AttachmentRow>, VaultError> {
        self.backend.attachments_in(states, max_tries, limit).await
    }

    /// Forget the stored parts of one attachment's blob (before a new fetch).
    pub async fn clear_blob(&self, report_id: &str, index: u32) -> Result<(), VaultError> {
        self.backend.clear_blob(report_id, index).await
    }

    /// Store part `part` (from 0) of an attachment's sealed blob; durable
    /// when this returns. A part is at most [`BLOB_PART_LEN`] octets.
    pub async fn put_blob_part(
        &self,
        report_id: &str,
        index: u32,
        part: u32,
        bytes: &[u8],
    ) -> Result<(), VaultError> {
        self.backend
            .put_blob_part(report_id, index, part, bytes)
            .await
    }

    /// Part `part` of an attachment's sealed blob, if stored.
    pub async fn blob_part(
        &self,
        report_id: &str,
        index: u32,
        part: u32,
    ) -> Result<Option<Vec<u8>>, VaultError> {
        self.backend.blob_part(report_id, index, part).await
    }

    /// Record the outcome of a fetch: the state ([`ATTACHMENT_STORED`],
    /// [`ATTACHMENT_PENDING`] or a flag code), what was wrong, and the sealed
    /// octets stored. Counts the fetch.
    pub async fn set_attachment_state(
        &self,
        report_id: &str,
        index: u32,
        state: &str,
        detail: Option<&str>,
        stored_len: u64,
    ) -> Result<(), VaultError> {
        self.backend
            .set_attachment_state(report_id, index, state, detail, stored_len)
            .await
    }
}

/// Most attachments one message lists (crypto/FORMAT.md#attachment-entry).
pub const MAX_ATTACHMENTS: u32 = 10;
/// Sealed octets per stored part of a blob: 16 sealed chunks, the server's
/// upload part (crypto/FORMAT.md#blobs-on-the-server), about 1 MiB, so a
/// pull or a read holds at most one part of a blob at a time.
pub const BLOB_PART_LEN: usize = 16 * quietline_crypto::stream::SEALED_CHUNK_LEN;

/// Merge one page of envelopes and one of records (each in `n` order, each
/// at most `limit` long, both read with `n <= bound`) into a [`Changes`] of at
/// most `limit` rows.
pub(crate) fn merge_changes(
    mut envelopes: Vec<StoredEnvelope>,
    mut records: Vec<StoredRecord>,
    after: i64,
    bound: i64,
    limit: u32,
) -> Changes {
    let limit = limit as usize;
    // A list shorter than `limit` holds every row of its table up to `bound`;
    // one of `limit` rows may stop short of it.
    if envelopes.len() < limit && records.len() < limit && envelopes.len() + records.len() <= limit
    {
        // Everything up to `bound` is here: continue from `bound`.
        return Changes {
            envelopes,
            records,
            high: bound.max(after),
        };
    }
    // Keep the `limit` smallest n of the two sorted lists.
    let (mut e, mut r) = (0, 0);
    let mut high = after;
    for _ in 0..limit {
        let take_envelope = match (envelopes.get(e), records.get(r)) {
            (Some(a), Some(b)) => a.n < b.seq,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_envelope {
            high = envelopes[e].n;
            e += 1;
        } else {
            high = records[r].seq;
            r += 1;
        }
    }
    envelopes.truncate(e);
    records.truncate(r);
    Changes {
        envelopes,
        records,
        high,
    }
}

/// Database errors as text: the driver's message only (it never holds the
/// connection URL).
pub(crate) fn db_error(e: sqlx::Error) -> VaultError {
    VaultError::Database(e.to_string())
}

/// Whether `e` is a foreign-key violation (a record for an unknown report, a
/// session for an unknown account).
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://ql:s3cret@db.force:5432/vault?sslmode=require"),
            "postgres://ql:***@db.force:5432/vault?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://db/vault?user=ql&password=s3cret"),
            "postgresql://db/vault?user=ql&password=***"
        );
        assert_eq!(
            redact_url("postgres://ql@db/vault"),
            "postgres://ql@db/vault"
        );
        // A password holding '@' or '/': the authority ends at the last '@'.
        assert!(!redact_url("postgres://ql:p@ss@db/v").contains("p@ss"));
        assert!(is_postgres_url("PostgreSQL://x"));
        assert!(is_postgres_url("postgres://x"));
        assert!(!is_postgres_url("/tmp/postgres://x"));
        assert!(!is_postgres_url("vault.sqlite"));
    }

    #[test]
    fn record_kinds_are_short_lowercase_words() {
        for ok in ["note", "status", "reply", "assign", "priority", "x", "a-b"] {
            assert!(is_record_kind(ok), "{ok}");
        }
        for bad in ["", "Note", "note1", "note ", "a_b", &"a".repeat(25), "é"] {
            assert!(!is_record_kind(bad), "{bad}");
        }
        assert!(check_thread_key(&"ab".repeat(32)).is_ok());
        assert!(check_thread_key(&"AB".repeat(32)).is_err());
        assert!(check_thread_key("abc").is_err());
    }

    fn env(n: i64) -> StoredEnvelope {
        StoredEnvelope {
            id: n.to_string(),
            day: String::new(),
            key_id: String::new(),
            envelope: Vec::new(),
            flag: None,
            learned: None,
            n,
        }
    }

    fn rec(seq: i64) -> StoredRecord {
        StoredRecord {
            seq,
            report_id: String::new(),
            kind: "note".into(),
            sealed: Vec::new(),
        }
    }

    #[test]
    fn changes_are_cut_at_the_limit_in_n_order() {
        let all = merge_changes(vec![env(2), env(5)], vec![rec(3)], 1, 9, 3);
        assert_eq!(all.len(), 3);
        assert_eq!(all.high, 9, "everything up to the bound was read");
        let cut = merge_changes(
            vec![env(2), env(5), env(6)],
            vec![rec(3), rec(4), rec(7)],
            1,
            9,
            3,
        );
        assert_eq!(
            cut.envelopes.iter().map(|e| e.n).collect::<Vec<_>>(),
            vec![2]
        );
        assert_eq!(
            cut.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![3, 4]
        );
        assert_eq!(cut.high, 4);
        // A full page of one table may stop short of the bound.
        let full = merge_changes(vec![env(2), env(3)], vec![], 1, 9, 2);
        assert_eq!(full.high, 3);
        let none = merge_changes(vec![], vec![], 7, 7, 10);
        assert!(none.is_empty());
        assert_eq!(none.high, 7);
    }
}

//! The SQLite backend: one file (`vault.sqlite`, WAL, `synchronous=FULL`,
//! `secure_delete=ON`, mode 0600), for one desk or one CLI at a time (several
//! processes may share it: every write takes SQLite's write lock first with
//! `BEGIN IMMEDIATE`, and waits up to 10 s for it).
//!
//! It owns this backend's schema, the in-place upgrades of versions 1–3 and
//! every SQL statement. The change counter is one row (`counter`), read and
//! advanced inside the writing `BEGIN IMMEDIATE` transaction, so values are
//! handed out in commit order. It does not check arguments the handle
//! ([`super::Vault`]) checks.

use std::collections::{HashMap, HashSet};
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use super::{
    ATTACHMENT_PENDING, AccountRow, AttachmentRow, AuditMaker, AuditRow, Changes, Deleted,
    NewEnvelope, PendingRow, Result, SCHEMA_VERSION, SessionRow, StoredEnvelope, StoredRecord,
    VaultBackend, VaultError, db_error, is_foreign_key_violation, merge_changes,
};

/// Values per `IN (…)` list of the batched lookups: well under SQLite's
/// bind-parameter limit (32,766), and one prepared statement per list length
/// is cached, so a pull's pages of 1,000 ids take two statements.
const IN_LIST: usize = 500;

/// Rows per multi-row `INSERT` of [`VaultBackend::insert_envelopes`]: 9 bound
/// values each, so 200 rows are 1,800 parameters; one statement per 200
/// envelopes instead of one per envelope (each statement is a round trip to
/// the connection's worker thread).
const INSERT_ROWS: usize = 200;

/// The tables the force desk added in version 4 (fresh vaults and upgrades).
macro_rules! desk_tables {
    () => {
        "
CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_sealed BLOB,
    disabled INTEGER NOT NULL,
    must_enrol INTEGER NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until INTEGER,
    created TEXT NOT NULL,
    generation INTEGER NOT NULL
);
CREATE TABLE sessions (
    id_hash BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    account TEXT NOT NULL REFERENCES accounts (name),
    generation INTEGER NOT NULL,
    csrf TEXT NOT NULL,
    created INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account);
CREATE TABLE seen (
    case_id TEXT NOT NULL,
    account TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (case_id, account)
);
CREATE TABLE claims (
    thread_key TEXT NOT NULL,
    slot INTEGER NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (thread_key, slot)
);
"
    };
}

/// A new vault starts at version 4, then takes the later upgrades.
const SCHEMA_V4: &str = concat!(
    "
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO counter (id, n) VALUES (1, 0);
CREATE TABLE envelopes (
    id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    key_id TEXT NOT NULL,
    envelope BLOB NOT NULL,
    sha256 BLOB NOT NULL,
    flag TEXT,
    flag_detail TEXT,
    learned INTEGER,
    n INTEGER NOT NULL
);
CREATE INDEX envelopes_by_day ON envelopes (day, id);
CREATE INDEX envelopes_by_sha256 ON envelopes (sha256);
CREATE UNIQUE INDEX envelopes_by_n ON envelopes (n);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES envelopes (id),
    kind TEXT NOT NULL,
    sealed BLOB NOT NULL
);
CREATE INDEX records_by_report ON records (report_id, seq);
CREATE INDEX records_by_kind ON records (kind, seq);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    handler TEXT,
    action TEXT NOT NULL,
    report_id TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
",
    desk_tables!(),
    "INSERT INTO schema_version (version) VALUES (4);"
);

/// Version 1 → 2: envelopes already stored keep `learned` NULL (unknown).
const UPGRADE_V1_TO_V2: &str = "
ALTER TABLE envelopes ADD COLUMN learned INTEGER;
UPDATE schema_version SET version = 2;
";

/// Version 2 → 3: a reason stored for a payload that decrypted but was refused
/// may quote it (serde's messages echo the value they reject), so it is
/// replaced by a fixed sentence; `list` and `show` re-open the envelope and
/// give the reason again, in words that never quote it. `secure_delete` zeroes
/// the old text in the file.
const UPGRADE_V2_TO_V3: &str = "
UPDATE envelopes SET flag_detail = 'decrypted but the contents are not a report (the reason an older console stored was removed because it could quote the report; `show` gives it again)' WHERE flag = 'bad_payload';
UPDATE envelopes SET flag_detail = 'decrypted but the padding is wrong (the reason an older console stored was removed; `show` gives it again)' WHERE flag = 'bad_padding';
UPDATE schema_version SET version = 3;
";

/// Version 3 → 4 (the force desk):
/// - `records` is rebuilt without its `CHECK (kind IN …)` (SQLite cannot drop
///   a constraint in place): kinds are open, checked in code. Records keep
///   their `seq`, which becomes their place on the change counter.
/// - envelopes get `n`, numbered after every existing record in the order the
///   vault learned of them (`learned`, then insertion order); version 3 kept
///   no finer order between envelopes and records than `learned`, which stays.
/// - the counter starts at the highest number handed out, and the desk's
///   tables are added.
const UPGRADE_V3_TO_V4: &str = concat!(
    "
CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
CREATE TABLE records_v4 (
    seq INTEGER PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES envelopes (id),
    kind TEXT NOT NULL,
    sealed BLOB NOT NULL
);
INSERT INTO records_v4 (seq, report_id, kind, sealed) SELECT seq, report_id, kind, sealed FROM records;
DROP TABLE records;
ALTER TABLE records_v4 RENAME TO records;
CREATE INDEX records_by_report ON records (report_id, seq);
CREATE INDEX records_by_kind ON records (kind, seq);
ALTER TABLE envelopes ADD COLUMN n INTEGER;
UPDATE envelopes SET n = o.r + (SELECT coalesce(max(seq), 0) FROM records)
    FROM (SELECT id, row_number() OVER (ORDER BY coalesce(learned, -1), rowid) AS r FROM envelopes) AS o
    WHERE o.id = envelopes.id;
CREATE UNIQUE INDEX envelopes_by_n ON envelopes (n);
INSERT INTO counter (id, n) VALUES (1, max(
    (SELECT coalesce(max(seq), 0) FROM records),
    (SELECT coalesce(max(n), 0) FROM envelopes)));
",
    desk_tables!(),
    "UPDATE schema_version SET version = 4;"
);

/// Version 4 → 5: pending sign-ins, so a sign-in's steps may reach any
/// desk sharing the vault (the desk kept them in memory before).
const UPGRADE_V4_TO_V5: &str = "
CREATE TABLE pending_sign_ins (
    id_hash BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    account TEXT NOT NULL REFERENCES accounts (name),
    next TEXT NOT NULL,
    created INTEGER NOT NULL,
    new_hash TEXT,
    secret_sealed BLOB,
    tries INTEGER NOT NULL
);
CREATE INDEX pending_by_created ON pending_sign_ins (created);
UPDATE schema_version SET version = 5;
";

/// Version 5 → 6: attachments (issue 19). A row per attachment a report
/// lists, and each blob's sealed parts as fetched (FORMAT.md#attachments).
/// No foreign key to `envelopes`: a pull adds the rows just before the
/// envelopes they belong to.
const UPGRADE_V5_TO_V6: &str = "
CREATE TABLE attachments (
    report_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    stored_len INTEGER NOT NULL DEFAULT 0,
    tries INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (report_id, idx)
);
CREATE INDEX attachments_by_state ON attachments (state, report_id, idx);
CREATE TABLE blob_parts (
    report_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    part INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (report_id, idx, part)
);
UPDATE schema_version SET version = 6;
";

/// The SQLite vault.
#[derive(Debug)]
pub struct SqliteVault {
    pool: SqlitePool,
    path: PathBuf,
}

fn envelope_row(row: SqliteRow) -> Result<StoredEnvelope, sqlx::Error> {
    let flag: Option<String> = row.try_get("flag")?;
    let detail: Option<String> = row.try_get("flag_detail")?;
    Ok(StoredEnvelope {
        id: row.try_get("id")?,
        day: row.try_get("day")?,
        key_id: row.try_get("key_id")?,
        envelope: row.try_get("envelope")?,
        flag: flag.map(|f| (f, detail.unwrap_or_default())),
        learned: row.try_get("learned")?,
        n: row.try_get("n")?,
    })
}

fn attachment_row(row: SqliteRow) -> Result<AttachmentRow> {
    let idx: i64 = row.try_get("idx").map_err(db_error)?;
    let stored_len: i64 = row.try_get("stored_len").map_err(db_error)?;
    let tries: i64 = row.try_get("tries").map_err(db_error)?;
    Ok(AttachmentRow {
        report_id: row.try_get("report_id").map_err(db_error)?,
        index: u32::try_from(idx)
            .map_err(|_| VaultError::Corrupt(format!("an attachment's index is {idx}")))?,
        state: row.try_get("state").map_err(db_error)?,
        detail: row.try_get("detail").map_err(db_error)?,
        stored_len: u64::try_from(stored_len).unwrap_or(0),
        tries: u32::try_from(tries).unwrap_or(u32::MAX),
    })
}

fn record_row(row: SqliteRow) -> Result<StoredRecord, sqlx::Error> {
    Ok(StoredRecord {
        seq: row.try_get("seq")?,
        report_id: row.try_get("report_id")?,
        kind: row.try_get("kind")?,
        sealed: row.try_get("sealed")?,
    })
}

fn audit_row(row: SqliteRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        os_user: row.try_get("os_user")?,
        handler: row.try_get("handler")?,
        action: row.try_get("action")?,
        report_id: row.try_get("report_id")?,
        detail: row.try_get("detail")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

fn account_row(row: SqliteRow) -> Result<AccountRow, sqlx::Error> {
    Ok(AccountRow {
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        password_hash: row.try_get("password_hash")?,
        totp_sealed: row.try_get("totp_sealed")?,
        disabled: row.try_get("disabled")?,
        must_enrol: row.try_get("must_enrol")?,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
        created: row.try_get("created")?,
        generation: row.try_get("generation")?,
    })
}

fn session_row(row: SqliteRow) -> Result<SessionRow> {
    let id: Vec<u8> = row.try_get("id_hash").map_err(db_error)?;
    Ok(SessionRow {
        id_hash: id
            .try_into()
            .map_err(|_| VaultError::Corrupt("a session id hash is not 32 bytes".to_owned()))?,
        account: row.try_get("account").map_err(db_error)?,
        generation: row.try_get("generation").map_err(db_error)?,
        csrf: row.try_get("csrf").map_err(db_error)?,
        created: row.try_get("created").map_err(db_error)?,
        last_seen: row.try_get("last_seen").map_err(db_error)?,
    })
}

fn pending_row(row: SqliteRow) -> Result<PendingRow> {
    let id: Vec<u8> = row.try_get("id_hash").map_err(db_error)?;
    Ok(PendingRow {
        id_hash: id.try_into().map_err(|_| {
            VaultError::Corrupt("a pending sign-in's id hash is not 32 bytes".to_owned())
        })?,
        account: row.try_get("account").map_err(db_error)?,
        next: row.try_get("next").map_err(db_error)?,
        created: row.try_get("created").map_err(db_error)?,
        new_hash: row.try_get("new_hash").map_err(db_error)?,
        secret_sealed: row.try_get("secret_sealed").map_err(db_error)?,
        tries: row.try_get("tries").map_err(db_error)?,
    })
}

impl SqliteVault {
    /// Open the vault at `path`, creating it (mode 0600) if missing and
    /// upgrading an older one in place. Refuses a vault from a newer console.
    pub async fn open(path: &Path) -> Result<SqliteVault> {
        // Create the file ourselves so it is 0600 from its first byte; SQLite
        // gives its -wal and -shm files the same mode as the database.
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return Err(VaultError::Create {
                    path: path.to_owned(),
                    error,
                });
            }
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .journal_mode(SqliteJournalMode::Wal)
            // Handler records and audit entries are acknowledged to a person;
            // they must survive a power cut.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("secure_delete", "ON");
        // Two connections: one can stream rows while the other writes.
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        let vault = SqliteVault {
            pool,
            path: path.to_owned(),
        };
        vault.check_schema().await?;
        Ok(vault)
    }

    async fn check_schema(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let has_table: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if has_table.is_none() {
            let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master")
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
            if tables != 0 {
                return Err(VaultError::Corrupt(format!(
                    "{} is a SQLite database but not a console vault (no schema_version table)",
                    self.path.display()
                )));
            }
            sqlx::raw_sql(SCHEMA_V4)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            sqlx::raw_sql(UPGRADE_V4_TO_V5)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            sqlx::raw_sql(UPGRADE_V5_TO_V6)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)?;
            return Ok(());
        }
        let version: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM schema_version")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        match version {
            Some(v) if v > SCHEMA_VERSION => Err(VaultError::NewerVersion {
                path: self.path.clone(),
                found: v,
            }),
            Some(SCHEMA_VERSION) => Ok(()),
            Some(v @ 1..=5) => {
                if v <= 1 {
                    sqlx::raw_sql(UPGRADE_V1_TO_V2)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                if v <= 2 {
                    sqlx::raw_sql(UPGRADE_V2_TO_V3)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                if v <= 3 {
                    sqlx::raw_sql(UPGRADE_V3_TO_V4)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                if v <= 4 {
                    sqlx::raw_sql(UPGRADE_V4_TO_V5)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                sqlx::raw_sql(UPGRADE_V5_TO_V6)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(())
            }
            other => Err(VaultError::Corrupt(format!(
                "unknown schema version {other:?}"
            ))),
        }
    }

    /// A transaction holding SQLite's write lock from its first statement, so
    /// that what it reads (the counter, the audit chain's head) cannot change
    /// before it commits.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)
    }

    /// The pool (tests reach past the interface to make old or damaged vaults).
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Which of `ids` (at most [`IN_LIST`]) are stored: one probe of the
/// primary key per id.
async fn stored_ids<'e>(e: impl sqlx::SqliteExecutor<'e>, ids: &[String]) -> Result<Vec<String>> {
    let mut q = QueryBuilder::<Sqlite>::new("SELECT id FROM envelopes WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id.as_str());
    }
    q.push(")");
    q.build_query_scalar().fetch_all(e).await.map_err(db_error)
}

async fn counter(tx: &mut Transaction<'static, Sqlite>) -> Result<i64> {
    sqlx::query_scalar("SELECT n FROM counter WHERE id = 1")
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)
}

#[async_trait]
impl VaultBackend for SqliteVault {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn contains(&self, id: &str) -> Result<bool> {
        let hit: Option<i64> = sqlx::query_scalar("SELECT 1 FROM envelopes WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(hit.is_some())
    }

    async fn id_by_sha256(&self, sha256: &[u8; 32]) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT id FROM envelopes WHERE sha256 = ? ORDER BY id LIMIT 1")
            .bind(&sha256[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn contains_many(&self, ids: &[String]) -> Result<HashSet<String>> {
        let mut held = HashSet::new();
        for chunk in ids.chunks(IN_LIST) {
            held.extend(stored_ids(&self.pool, chunk).await?);
            // Deleted reports (their tombstones) count as held: never pulled again.
            let mut q = QueryBuilder::<Sqlite>::new("SELECT name FROM meta WHERE name IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(super::tombstone(id));
            }
            q.push(")");
            let gone: Vec<String> = q
                .build_query_scalar()
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
            held.extend(
                gone.into_iter()
                    .filter_map(|n| n.strip_prefix(super::TOMBSTONE).map(str::to_owned)),
            );
        }
        Ok(held)
    }

    async fn tombstones(&self) -> Result<Vec<String>> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM meta WHERE substr(name, 1, ?) = ?")
                .bind(super::TOMBSTONE.len() as i64)
                .bind(super::TOMBSTONE)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(names
            .into_iter()
            .filter_map(|n| n.strip_prefix(super::TOMBSTONE).map(str::to_owned))
            .collect())
    }

    async fn delete_reports(&self, ids: &[String], thread_key: Option<&str>) -> Result<Deleted> {
        let mut tx = self.begin_write().await?;
        let mut out = Deleted::default();
        for id in ids {
            out.records += sqlx::query("DELETE FROM records WHERE report_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
            out.envelopes += sqlx::query("DELETE FROM envelopes WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
            // The attachments' rows and every stored part of their blobs
            // (issue 19) go with the report.
            for sql in [
                "DELETE FROM blob_parts WHERE report_id = ?",
                "DELETE FROM attachments WHERE report_id = ?",
            ] {
                sqlx::query(sql)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
            }
            sqlx::query("DELETE FROM seen WHERE case_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            sqlx::query(
                "INSERT INTO meta (name, value) VALUES (?, '') ON CONFLICT (name) DO NOTHING",
            )
            .bind(super::tombstone(id))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        if let Some(k) = thread_key {
            sqlx::query("DELETE FROM claims WHERE thread_key = ?")
                .bind(k)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        sqlx::query(
            "INSERT INTO meta (name, value) VALUES (?, '1') ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
        )
        .bind(super::DELETIONS)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        // secure_delete has zeroed the deleted cells and freed pages, but
        // the WAL still holds the frames written when the rows were
        // inserted (and the zeroed pages are only in the WAL until
        // checkpointed). TRUNCATE copies every frame into the main file,
        // fsyncs it and truncates the WAL to zero bytes, as the server's
        // purge does (src/storage/sqlite.rs). A reader on an older snapshot
        // blocks it (after the busy timeout): then say so.
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        out.wal_truncated = Some(busy == 0);
        Ok(out)
    }

    async fn ids_by_sha256_many(&self, hashes: &[[u8; 32]]) -> Result<HashMap<[u8; 32], String>> {
        let mut found = HashMap::new();
        for chunk in hashes.chunks(IN_LIST) {
            // One probe of `envelopes_by_sha256` per hash; min(id) is what
            // `id_by_sha256` answers (ORDER BY id LIMIT 1).
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT sha256, min(id) FROM envelopes WHERE sha256 IN (",
            );
            let mut list = q.separated(", ");
            for h in chunk {
                list.push_bind(&h[..]);
            }
            q.push(") GROUP BY sha256");
            let rows: Vec<(Vec<u8>, String)> = q
                .build_query_as()
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
            for (sha, id) in rows {
                let sha: [u8; 32] = sha.try_into().map_err(|_| {
                    VaultError::Corrupt("an envelope's SHA-256 is not 32 bytes".to_owned())
                })?;
                found.insert(sha, id);
            }
        }
        Ok(found)
    }

    async fn insert_envelopes(&self, batch: &[NewEnvelope]) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let first = counter(&mut tx).await? + 1;
        // `learned` is the records' clock: the last record `seq` handed out,
        // read under the write lock, so no record can come in between.
        let learned: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM records")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        // A few statements a batch, not one a row (as the PostgreSQL
        // backend): which ids are stored already (nothing can be added
        // meanwhile: this transaction holds the write lock), then multi-row
        // INSERTs of the rest. The first copy of an id in the batch wins, as
        // with row-by-row inserts, and the new rows take consecutive `n`.
        let ids: Vec<String> = batch.iter().map(|e| e.id.clone()).collect();
        let mut stored = HashSet::new();
        for chunk in ids.chunks(IN_LIST) {
            stored.extend(stored_ids(&mut *tx, chunk).await?);
        }
        let mut taken = HashSet::new();
        let new: Vec<&NewEnvelope> = batch
            .iter()
            .filter(|e| !stored.contains(&e.id) && taken.insert(e.id.as_str()))
            .collect();
        if new.is_empty() {
            return Ok(0);
        }
        let mut n = first;
        for chunk in new.chunks(INSERT_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO envelopes (id, day, key_id, envelope, sha256, flag, flag_detail, learned, n) ",
            );
            q.push_values(chunk, |mut row, e| {
                let (flag, detail) = match &e.flag {
                    Some((f, d)) => (Some(f.as_str()), Some(d.as_str())),
                    None => (None, None),
                };
                row.push_bind(e.id.as_str())
                    .push_bind(e.day.as_str())
                    .push_bind(e.key_id.as_str())
                    .push_bind(e.envelope.as_slice())
                    .push_bind(&e.sha256[..])
                    .push_bind(flag)
                    .push_bind(detail)
                    .push_bind(learned)
                    .push_bind(n);
                n += 1;
            });
            q.build().execute(&mut *tx).await.map_err(db_error)?;
        }
        sqlx::query("UPDATE counter SET n = ? WHERE id = 1")
            .bind(n - 1)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(new.len() as u64)
    }

    async fn envelope(&self, id: &str) -> Result<Option<StoredEnvelope>> {
        let row = sqlx::query(
            "SELECT id, day, key_id, envelope, flag, flag_detail, learned, n FROM envelopes WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(envelope_row).transpose().map_err(db_error)
    }

    fn envelopes(&self) -> BoxStream<'_, Result<StoredEnvelope>> {
        sqlx::query(
            "SELECT id, day, key_id, envelope, flag, flag_detail, learned, n FROM envelopes ORDER BY day, id",
        )
        .fetch(&self.pool)
        .map(|r| r.and_then(envelope_row).map_err(db_error))
        .boxed()
    }

    async fn counts(&self) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT count(*) AS n, count(flag) AS f FROM envelopes")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok((
            row.try_get("n").map_err(db_error)?,
            row.try_get("f").map_err(db_error)?,
        ))
    }

    async fn record_count(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT count(*) FROM records")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn ids_between(&self, from: &str, to: &str, limit: u32) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT id FROM envelopes WHERE id >= ? AND id < ? ORDER BY id LIMIT ?")
            .bind(from)
            .bind(to)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn add_record(&self, report_id: &str, kind: &str, sealed: &[u8]) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let n: i64 = sqlx::query_scalar("UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query("INSERT INTO records (seq, report_id, kind, sealed) VALUES (?, ?, ?, ?)")
            .bind(n)
            .bind(report_id)
            .bind(kind)
            .bind(sealed)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_foreign_key_violation(&e) {
                    VaultError::NoSuchReport(report_id.to_owned())
                } else {
                    db_error(e)
                }
            })?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }

    async fn records_for(&self, report_id: &str) -> Result<Vec<StoredRecord>> {
        let rows = sqlx::query(
            "SELECT seq, report_id, kind, sealed FROM records WHERE report_id = ? ORDER BY seq",
        )
        .bind(report_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(record_row)
            .collect::<Result<_, _>>()
            .map_err(db_error)
    }

    fn records_of_kind<'a>(&'a self, kind: &'a str) -> BoxStream<'a, Result<StoredRecord>> {
        sqlx::query("SELECT seq, report_id, kind, sealed FROM records WHERE kind = ? ORDER BY seq")
            .bind(kind)
            .fetch(&self.pool)
            .map(|r| r.and_then(record_row).map_err(db_error))
            .boxed()
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Changes> {
        // Read the counter first: every row with n <= bound has committed
        // (values are handed out under the write lock, in commit order), so
        // the two reads below agree even if writes land between them.
        let bound = self.high_water().await?;
        let envelopes = sqlx::query(
            "SELECT id, day, key_id, envelope, flag, flag_detail, learned, n FROM envelopes WHERE n > ? AND n <= ? ORDER BY n LIMIT ?",
        )
        .bind(after)
        .bind(bound)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(envelope_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_error)?;
        let records = sqlx::query(
            "SELECT seq, report_id, kind, sealed FROM records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(bound)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(record_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_error)?;
        Ok(merge_changes(envelopes, records, after, bound, limit))
    }

    async fn high_water(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT n FROM counter WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn meta(&self, name: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn set_meta(&self, name: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => {
                sqlx::query("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                    .bind(name)
                    .bind(v)
                    .execute(&self.pool)
                    .await
            }
            None => sqlx::query("DELETE FROM meta WHERE name = ?").bind(name).execute(&self.pool).await,
        }
        .map_err(db_error)?;
        Ok(())
    }

    async fn append_audit(&self, make: AuditMaker<'_>) -> Result<AuditRow> {
        let mut tx = self.begin_write().await?;
        let last = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let last = match last {
            Some(r) => Some((
                r.try_get::<i64, _>("seq").map_err(db_error)?,
                r.try_get::<String, _>("hash").map_err(db_error)?,
            )),
            None => None,
        };
        let row = make(last);
        sqlx::query(
            "INSERT INTO audit (seq, at, os_user, handler, action, report_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(row.seq)
        .bind(&row.at)
        .bind(&row.os_user)
        .bind(&row.handler)
        .bind(&row.action)
        .bind(&row.report_id)
        .bind(&row.detail)
        .bind(&row.prev_hash)
        .bind(&row.hash)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(row)
    }

    fn audit_entries(&self) -> BoxStream<'_, Result<AuditRow>> {
        sqlx::query("SELECT seq, at, os_user, handler, action, report_id, detail, prev_hash, hash FROM audit ORDER BY seq")
            .fetch(&self.pool)
            .map(|r| r.and_then(audit_row).map_err(db_error))
            .boxed()
    }

    async fn account(&self, name: &str) -> Result<Option<AccountRow>> {
        sqlx::query("SELECT * FROM accounts WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(account_row)
            .transpose()
            .map_err(db_error)
    }

    async fn accounts(&self) -> Result<Vec<AccountRow>> {
        sqlx::query("SELECT * FROM accounts ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(account_row)
            .collect::<Result<_, _>>()
            .map_err(db_error)
    }

    async fn insert_account(&self, row: &AccountRow) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO accounts (name, role, password_hash, totp_sealed, disabled, must_enrol, failed_logins, locked_until, created, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&row.name)
        .bind(&row.role)
        .bind(&row.password_hash)
        .bind(&row.totp_sealed)
        .bind(row.disabled)
        .bind(row.must_enrol)
        .bind(row.failed_logins)
        .bind(row.locked_until)
        .bind(&row.created)
        .bind(row.generation)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if r.rows_affected() == 0 {
            return Err(VaultError::AccountExists(row.name.clone()));
        }
        Ok(())
    }

    async fn update_account(&self, row: &AccountRow) -> Result<()> {
        let r = sqlx::query(
            "UPDATE accounts SET role = ?, password_hash = ?, totp_sealed = ?, disabled = ?, must_enrol = ?, failed_logins = ?, locked_until = ?, created = ?, generation = ? WHERE name = ?",
        )
        .bind(&row.role)
        .bind(&row.password_hash)
        .bind(&row.totp_sealed)
        .bind(row.disabled)
        .bind(row.must_enrol)
        .bind(row.failed_logins)
        .bind(row.locked_until)
        .bind(&row.created)
        .bind(row.generation)
        .bind(&row.name)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if r.rows_affected() == 0 {
            return Err(VaultError::NoSuchAccount(row.name.clone()));
        }
        Ok(())
    }

    async fn insert_session(&self, row: &SessionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, account, generation, csrf, created, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.id_hash[..])
        .bind(&row.account)
        .bind(row.generation)
        .bind(&row.csrf)
        .bind(row.created)
        .bind(row.last_seen)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                VaultError::NoSuchAccount(row.account.clone())
            } else {
                db_error(e)
            }
        })?;
        Ok(())
    }

    async fn insert_pending(&self, row: &PendingRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO pending_sign_ins (id_hash, account, next, created, new_hash, secret_sealed, tries) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.id_hash[..])
        .bind(&row.account)
        .bind(&row.next)
        .bind(row.created)
        .bind(&row.new_hash)
        .bind(&row.secret_sealed)
        .bind(row.tries)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                VaultError::NoSuchAccount(row.account.clone())
            } else {
                db_error(e)
            }
        })?;
        Ok(())
    }

    async fn pending(&self, id_hash: &[u8; 32]) -> Result<Option<PendingRow>> {
        sqlx::query("SELECT * FROM pending_sign_ins WHERE id_hash = ?")
            .bind(&id_hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(pending_row)
            .transpose()
    }

    async fn update_pending(&self, row: &PendingRow) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE pending_sign_ins SET next = ?, new_hash = ?, secret_sealed = ?, tries = ? WHERE id_hash = ?",
        )
        .bind(&row.next)
        .bind(&row.new_hash)
        .bind(&row.secret_sealed)
        .bind(row.tries)
        .bind(&row.id_hash[..])
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_pending(&self, id_hash: &[u8; 32]) -> Result<bool> {
        let r = sqlx::query("DELETE FROM pending_sign_ins WHERE id_hash = ?")
            .bind(&id_hash[..])
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn purge_pending(&self, created_before: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM pending_sign_ins WHERE created < ?")
            .bind(created_before)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected())
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRow>> {
        sqlx::query("SELECT * FROM sessions WHERE id_hash = ?")
            .bind(&id_hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(session_row)
            .transpose()
    }

    async fn touch_session(&self, id_hash: &[u8; 32], last_seen: i64) -> Result<bool> {
        let r = sqlx::query("UPDATE sessions SET last_seen = ? WHERE id_hash = ?")
            .bind(last_seen)
            .bind(&id_hash[..])
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_session(&self, id_hash: &[u8; 32]) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(&id_hash[..])
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_sessions_of(&self, account: &str) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE account = ?")
            .bind(account)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected())
    }

    async fn purge_sessions(&self, created_before: i64, last_seen_before: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE created < ? OR last_seen < ?")
            .bind(created_before)
            .bind(last_seen_before)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected())
    }

    async fn seen(&self, case_id: &str, account: &str, n: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO seen (case_id, account, n) VALUES (?, ?, ?) ON CONFLICT (case_id, account) DO UPDATE SET n = max(seen.n, excluded.n)",
        )
        .bind(case_id)
        .bind(account)
        .bind(n)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn unsee(&self, case_id: &str, account: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM seen WHERE case_id = ? AND account = ?")
            .bind(case_id)
            .bind(account)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn seen_all(&self) -> Result<Vec<(String, String, i64)>> {
        sqlx::query_as("SELECT case_id, account, n FROM seen ORDER BY case_id, account")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn seen_of(&self, case_id: &str) -> Result<Vec<(String, i64)>> {
        sqlx::query_as("SELECT account, n FROM seen WHERE case_id = ? ORDER BY account")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn claim_slot(&self, thread_key: &str, slot: u32, account: &str) -> Result<bool> {
        // One statement: SQLite's write lock makes the check and the insert
        // one step for every connection and process.
        let r = sqlx::query(
            "INSERT INTO claims (thread_key, slot, account) VALUES (?, ?, ?) ON CONFLICT (thread_key, slot) DO NOTHING",
        )
        .bind(thread_key)
        .bind(i64::from(slot))
        .bind(account)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(r.rows_affected() == 1)
    }

    async fn release_slot(&self, thread_key: &str, slot: u32) -> Result<bool> {
        let r = sqlx::query("DELETE FROM claims WHERE thread_key = ? AND slot = ?")
            .bind(thread_key)
            .bind(i64::from(slot))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn claims_of(&self, thread_key: &str) -> Result<Vec<(u32, String)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT slot, account FROM claims WHERE thread_key = ? ORDER BY slot")
                .bind(thread_key)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        rows.into_iter()
            .map(|(slot, account)| {
                u32::try_from(slot)
                    .map(|s| (s, account))
                    .map_err(|_| VaultError::Corrupt(format!("a claimed slot is {slot}")))
            })
            .collect()
    }

    async fn add_attachment_slots(&self, slots: &[(String, u32)]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for (report_id, count) in slots {
            for idx in 0..*count {
                sqlx::query(
                    "INSERT INTO attachments (report_id, idx, state) VALUES (?, ?, ?) ON CONFLICT (report_id, idx) DO NOTHING",
                )
                .bind(report_id)
                .bind(i64::from(idx))
                .bind(ATTACHMENT_PENDING)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            }
        }
        tx.commit().await.map_err(db_error)
    }

    async fn attachments_of(&self, report_id: &str) -> Result<Vec<AttachmentRow>> {
        let rows = sqlx::query(
            "SELECT report_id, idx, state, detail, stored_len, tries FROM attachments WHERE report_id = ? ORDER BY idx",
        )
        .bind(report_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(attachment_row).collect()
    }

    async fn attachments_in(
        &self,
        states: &[&str],
        max_tries: u32,
        limit: u32,
    ) -> Result<Vec<AttachmentRow>> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT report_id, idx, state, detail, stored_len, tries FROM attachments WHERE tries < ",
        );
        q.push_bind(i64::from(max_tries)).push(" AND state IN (");
        let mut list = q.separated(", ");
        for s in states {
            list.push_bind(*s);
        }
        q.push(") ORDER BY report_id, idx LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_error)?;
        rows.into_iter().map(attachment_row).collect()
    }

    async fn clear_blob(&self, report_id: &str, index: u32) -> Result<()> {
        sqlx::query("DELETE FROM blob_parts WHERE report_id = ? AND idx = ?")
            .bind(report_id)
            .bind(i64::from(index))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn put_blob_part(
        &self,
        report_id: &str,
        index: u32,
        part: u32,
        bytes: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO blob_parts (report_id, idx, part, bytes) VALUES (?, ?, ?, ?) ON CONFLICT (report_id, idx, part) DO UPDATE SET bytes = excluded.bytes",
        )
        .bind(report_id)
        .bind(i64::from(index))
        .bind(i64::from(part))
        .bind(bytes)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn blob_part(&self, report_id: &str, index: u32, part: u32) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar(
            "SELECT bytes FROM blob_parts WHERE report_id = ? AND idx = ? AND part = ?",
        )
        .bind(report_id)
        .bind(i64::from(index))
        .bind(i64::from(part))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn set_attachment_state(
        &self,
        report_id: &str,
        index: u32,
        state: &str,
        detail: Option<&str>,
        stored_len: u64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO attachments (report_id, idx, state, detail, stored_len, tries) VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (report_id, idx) DO UPDATE SET state = excluded.state, detail = excluded.detail, stored_len = excluded.stored_len, tries = attachments.tries + 1",
        )
        .bind(report_id)
        .bind(i64::from(index))
        .bind(state)
        .bind(detail)
        .bind(stored_len as i64)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Vault;
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// The version-3 schema exactly as version-3 consoles wrote it.
    const SCHEMA_V3: &str = "
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE envelopes (
    id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    key_id TEXT NOT NULL,
    envelope BLOB NOT NULL,
    sha256 BLOB NOT NULL,
    flag TEXT,
    flag_detail TEXT,
    learned INTEGER
);
CREATE INDEX envelopes_by_day ON envelopes (day, id);
CREATE INDEX envelopes_by_sha256 ON envelopes (sha256);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL REFERENCES envelopes (id),
    kind TEXT NOT NULL CHECK (kind IN ('note', 'status', 'reply')),
    sealed BLOB NOT NULL
);
CREATE INDEX records_by_report ON records (report_id, seq);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    handler TEXT,
    action TEXT NOT NULL,
    report_id TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO schema_version (version) VALUES (3);
";

    fn env(id: &str) -> NewEnvelope {
        NewEnvelope {
            id: id.into(),
            day: "2026-11-27".into(),
            key_id: "00".repeat(8),
            envelope: vec![1, 2, 3],
            sha256: [id.as_bytes()[0]; 32],
            flag: None,
        }
    }

    fn id(c: char) -> String {
        format!("{}{}", c.to_string().repeat(4), "0".repeat(28))
    }

    /// A version-3 vault file at `path` (as a version-3 console left it),
    /// with `sql` run on it afterwards.
    async fn old_vault(path: &Path, sql: &str) {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .connect()
            .await
            .unwrap();
        sqlx::raw_sql(SCHEMA_V3).execute(&mut conn).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }

    async fn raw(path: &Path) -> SqliteVault {
        SqliteVault::open(path).await.unwrap()
    }

    #[tokio::test]
    async fn envelopes_are_placed_on_the_records_clock() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vault::open(&dir.path().join("vault.sqlite")).await.unwrap();
        let (a, b, c) = (id('a'), id('b'), id('c'));
        v.insert_envelopes(&[env(&a)]).await.unwrap();
        assert_eq!(v.add_record(&a, "note", b"x").await.unwrap(), 2);
        assert_eq!(v.add_record(&a, "note", b"y").await.unwrap(), 3);
        v.insert_envelopes(&[env(&b), env(&c)]).await.unwrap();
        // Stored again later: keeps the position it was first learned at.
        assert_eq!(v.add_record(&a, "note", b"z").await.unwrap(), 6);
        assert_eq!(v.insert_envelopes(&[env(&a)]).await.unwrap(), 0);
        let got = |id: String| {
            let v = v.clone();
            async move {
                let e = v.envelope(&id).await.unwrap().unwrap();
                (e.learned, e.n)
            }
        };
        assert_eq!(got(a.clone()).await, (Some(0), 1));
        assert_eq!(got(b).await, (Some(3), 4));
        assert_eq!(got(c).await, (Some(3), 5));
        assert_eq!(v.high_water().await.unwrap(), 6);
    }

    #[tokio::test]
    async fn a_version_1_vault_is_upgraded_and_its_envelopes_have_no_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.sqlite");
        let a = id('a');
        // A version-1 vault: no `learned` column.
        old_vault(
            &path,
            &format!(
                "ALTER TABLE envelopes DROP COLUMN learned; UPDATE schema_version SET version = 1;
                 INSERT INTO envelopes (id, day, key_id, envelope, sha256) VALUES ('{a}', '2026-11-27', 'k', x'01', x'02');"
            ),
        )
        .await;
        let v = Vault::open(&path).await.unwrap();
        let e = v.envelope(&a).await.unwrap().unwrap();
        assert_eq!((e.learned, e.n), (None, 1));
        let version: i64 = sqlx::query_scalar("SELECT version FROM schema_version")
            .fetch_one(raw(&path).await.pool())
            .await
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let b = id('b');
        v.insert_envelopes(&[env(&b)]).await.unwrap();
        let e = v.envelope(&b).await.unwrap().unwrap();
        assert_eq!((e.learned, e.n), (Some(0), 2));
    }

    #[tokio::test]
    async fn a_version_2_vault_loses_the_payload_refusal_reasons_it_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.sqlite");
        let (a, b) = (id('a'), id('b'));
        old_vault(
            &path,
            &format!(
                "UPDATE schema_version SET version = 2;
                 INSERT INTO envelopes (id, day, key_id, envelope, sha256, flag, flag_detail, learned) VALUES
                   ('{a}', '2026-11-27', 'k', x'01', x'02', 'bad_payload', 'unknown variant `CANARY-old-reason`', 0),
                   ('{b}', '2026-11-27', 'k', x'01', x'09', 'duplicate', 'the same envelope as report x', 0);"
            ),
        )
        .await;
        let v = Vault::open(&path).await.unwrap();
        let (code, detail) = v.envelope(&a).await.unwrap().unwrap().flag.unwrap();
        assert_eq!(code, "bad_payload");
        assert!(
            !detail.contains("CANARY") && detail.contains("not a report"),
            "{detail}"
        );
        let (_, detail) = v.envelope(&b).await.unwrap().unwrap().flag.unwrap();
        assert_eq!(detail, "the same envelope as report x");
        v.close().await;
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"CANARY"));
    }

    #[tokio::test]
    async fn a_version_3_vault_gets_the_counter_open_kinds_and_the_desk_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.sqlite");
        let (a, b, c) = (id('a'), id('b'), id('c'));
        // c was pulled first, then a note on it, then a and b (in that
        // order, though b sorts first by day), then a status.
        old_vault(
            &path,
            &format!(
                "INSERT INTO envelopes (id, day, key_id, envelope, sha256, learned) VALUES ('{c}', '2026-11-20', 'k', x'01', x'03', 0);
                 INSERT INTO records (report_id, kind, sealed) VALUES ('{c}', 'note', x'aa');
                 INSERT INTO envelopes (id, day, key_id, envelope, sha256, learned) VALUES ('{a}', '2026-11-27', 'k', x'01', x'01', 1);
                 INSERT INTO envelopes (id, day, key_id, envelope, sha256, learned) VALUES ('{b}', '2026-11-21', 'k', x'01', x'02', 1);
                 INSERT INTO records (report_id, kind, sealed) VALUES ('{a}', 'status', x'bb');
                 INSERT INTO meta (name, value) VALUES ('pull_resume_after', '{b}');"
            ),
        )
        .await;
        let v = Vault::open(&path).await.unwrap();
        // Records keep their seq; envelopes are numbered after them, in the
        // order they were learned.
        let n = |id: String| {
            let v = v.clone();
            async move { v.envelope(&id).await.unwrap().unwrap().n }
        };
        assert_eq!(
            (n(c.clone()).await, n(a.clone()).await, n(b.clone()).await),
            (3, 4, 5)
        );
        let seqs: Vec<i64> = v
            .records_for(&c)
            .await
            .unwrap()
            .iter()
            .chain(v.records_for(&a).await.unwrap().iter())
            .map(|r| r.seq)
            .collect();
        assert_eq!(seqs, vec![1, 2]);
        assert_eq!(v.high_water().await.unwrap(), 5);
        assert_eq!(v.meta("pull_resume_after").await.unwrap(), Some(b.clone()));
        // New kinds need no schema change; the counter goes on.
        assert_eq!(v.add_record(&a, "assign", b"x").await.unwrap(), 6);
        assert!(v.claim_slot(&"ab".repeat(32), 0, "ann").await.unwrap());
        let changes = v.changes_since(0, 100).await.unwrap();
        assert_eq!(changes.envelopes.len(), 3);
        assert_eq!(changes.records.len(), 3);
        assert_eq!(changes.high, 6);
        // Opening again changes nothing.
        v.close().await;
        let v = Vault::open(&path).await.unwrap();
        assert_eq!(v.high_water().await.unwrap(), 6);
        let version: i64 = sqlx::query_scalar("SELECT version FROM schema_version")
            .fetch_one(raw(&path).await.pool())
            .await
            .unwrap();
        // Through version 4 to the current one (5: pending sign-ins).
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[tokio::test]
    async fn created_0600_idempotent_prefix_and_newer_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.sqlite");
        let v = Vault::open(&path).await.unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let a = format!("abcd{}", "0".repeat(28));
        let b = format!("abce{}", "1".repeat(28));
        assert_eq!(
            v.insert_envelopes(&[env(&a), env(&b), env(&a)])
                .await
                .unwrap(),
            2
        );
        assert_eq!(v.insert_envelopes(&[env(&a)]).await.unwrap(), 0);
        assert_eq!(v.resolve("abcd").await.unwrap(), a);
        assert!(matches!(
            v.resolve("abc").await,
            Err(VaultError::BadPrefix(_))
        ));
        assert!(matches!(
            v.resolve("abcf").await,
            Err(VaultError::NoSuchReport(_))
        ));
        let c = format!("abcd{}", "2".repeat(28));
        v.insert_envelopes(&[env(&c)]).await.unwrap();
        assert!(matches!(
            v.resolve("ABCD").await,
            Err(VaultError::Ambiguous { count: 2, .. })
        ));
        v.close().await;
        let r = raw(&path).await;
        sqlx::query("UPDATE schema_version SET version = 7")
            .execute(r.pool())
            .await
            .unwrap();
        r.close().await;
        let e = Vault::open(&path).await.unwrap_err();
        assert!(
            e.to_string()
                .contains("newer quietline-console (schema version 7"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn another_sqlite_database_is_not_taken_for_a_vault() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.sqlite");
        {
            use sqlx::{ConnectOptions, Connection};
            let mut conn = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .connect()
                .await
                .unwrap();
            sqlx::raw_sql("CREATE TABLE reports (id TEXT)")
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        let e = Vault::open(&path).await.unwrap_err();
        assert!(e.to_string().contains("not a console vault"), "{e}");
    }

    #[tokio::test]
    async fn accounts_sessions_seen_and_claims() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vault::open(&dir.path().join("vault.sqlite")).await.unwrap();
        let mut ann = AccountRow {
            name: "ann".into(),
            role: "handler".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            totp_sealed: None,
            disabled: false,
            must_enrol: true,
            failed_logins: 0,
            locked_until: None,
            created: "2026-12-07".into(),
            generation: 1,
        };
        v.insert_account(&ann).await.unwrap();
        assert!(matches!(
            v.insert_account(&ann).await,
            Err(VaultError::AccountExists(_))
        ));
        ann.totp_sealed = Some(vec![7; 40]);
        ann.locked_until = Some(99);
        ann.disabled = true;
        v.update_account(&ann).await.unwrap();
        assert_eq!(v.account("ann").await.unwrap(), Some(ann.clone()));
        assert_eq!(v.accounts().await.unwrap(), vec![ann.clone()]);
        assert!(!format!("{ann:?}").contains("argon2"));
        let mut bob = ann.clone();
        bob.name = "bob".into();
        assert!(matches!(
            v.update_account(&bob).await,
            Err(VaultError::NoSuchAccount(_))
        ));

        let s = SessionRow {
            id_hash: [1; 32],
            account: "ann".into(),
            generation: 1,
            csrf: "csrf-token".into(),
            created: 100,
            last_seen: 100,
        };
        v.insert_session(&s).await.unwrap();
        assert!(matches!(
            v.insert_session(&SessionRow {
                id_hash: [2; 32],
                account: "bob".into(),
                ..s.clone()
            })
            .await,
            Err(VaultError::NoSuchAccount(_))
        ));
        assert!(v.touch_session(&[1; 32], 150).await.unwrap());
        assert_eq!(v.session(&[1; 32]).await.unwrap().unwrap().last_seen, 150);
        assert!(!format!("{s:?}").contains("csrf-token"));
        assert_eq!(v.purge_sessions(50, 140).await.unwrap(), 0);
        assert_eq!(v.purge_sessions(50, 160).await.unwrap(), 1);
        assert!(v.session(&[1; 32]).await.unwrap().is_none());
        v.insert_session(&s).await.unwrap();
        assert_eq!(v.delete_sessions_of("ann").await.unwrap(), 1);
        assert!(!v.delete_session(&[1; 32]).await.unwrap());

        v.seen("case1", "ann", 5).await.unwrap();
        v.seen("case1", "ann", 3).await.unwrap();
        v.seen("case1", "bob", 4).await.unwrap();
        assert_eq!(
            v.seen_of("case1").await.unwrap(),
            vec![("ann".into(), 5), ("bob".into(), 4)]
        );
        assert!(v.unsee("case1", "bob").await.unwrap());
        assert_eq!(
            v.seen_all().await.unwrap(),
            vec![("case1".into(), "ann".into(), 5)]
        );

        let key = "0f".repeat(32);
        assert!(v.claim_slot(&key, 0, "ann").await.unwrap());
        assert!(!v.claim_slot(&key, 0, "bob").await.unwrap());
        assert!(v.claim_slot(&key, 1, "bob").await.unwrap());
        assert_eq!(
            v.claims_of(&key).await.unwrap(),
            vec![(0, "ann".into()), (1, "bob".into())]
        );
        assert!(v.release_slot(&key, 0).await.unwrap());
        assert!(v.claim_slot(&key, 0, "bob").await.unwrap());
        assert!(matches!(
            v.claim_slot("thread", 0, "ann").await,
            Err(VaultError::BadThreadKey(_))
        ));
        assert!(matches!(
            v.add_record("nope", "note", b"x").await,
            Err(VaultError::NoSuchReport(_))
        ));
        assert!(matches!(
            v.add_record("nope", "Note", b"x").await,
            Err(VaultError::BadKind(_))
        ));
    }
}

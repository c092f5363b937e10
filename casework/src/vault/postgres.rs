//! The PostgreSQL backend: one database shared by several desk instances and
//! CLIs inside the force (`--vault-url postgres://…`).
//!
//! It owns this backend's schema (the SQLite tables with BYTEA, BIGINT and
//! BOOLEAN; text keys in the "C" collation so ids sort by bytes, as in
//! SQLite) and every SQL statement. Concurrency, with several pools and
//! processes writing at once:
//!
//! - **Change counter**: one row (`counter`) locked by the writing
//!   transaction (`SELECT … FOR UPDATE` or `UPDATE … RETURNING`) and held to
//!   commit, so the next writer reads the value the last one committed and
//!   values are handed out in commit order.
//! - **Audit chain**: `LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE` (one
//!   appender at a time; readers are not blocked) around reading the head and
//!   appending.
//! - **Claims**: one `INSERT … ON CONFLICT DO NOTHING` on the primary key.
//! - **Schema**: created or checked under a transaction-scoped advisory lock,
//!   so two desks starting at once do not both create it.
//!
//! - **Deleting a case** (retention: [`super::Vault::delete_reports`]):
//!   the case's envelope rows are locked `FOR UPDATE` first, so a record
//!   another desk adds meanwhile fails as "no such report" after the commit.
//!
//! What PostgreSQL keeps of a deleted case, stated plainly: `DELETE` only
//! marks the rows dead. Their bytes (sealed: the envelope and records, never
//! plaintext) stay in the table's data files until autovacuum or `VACUUM`
//! marks the space reusable and later rows overwrite it; plain `VACUUM` does
//! not zero it. `VACUUM (FULL) envelopes, records` rewrites both tables into
//! new files and drops the old ones (an exclusive lock for its duration: the
//! desk does not run it on a shared live database; the database's operator
//! schedules it). The write-ahead log, WAL archives, replicas and backups
//! keep the old pages until they are recycled or expire; the filesystem and
//! disk may keep freed blocks. The vault's own guarantee is that no query,
//! desk or console can reach the case again and that a pull will not bring
//! it back (its tombstone); everything at rest is sealed to the force's key.
//!
//! Durability: every session runs with `synchronous_commit = on` (whatever the
//! server's default), so a method returns only after its commit is on disk.
//! It never prints the URL it was given (it may carry a password): only
//! [`super::redact_url`]'s form. It does not check arguments the handle
//! ([`super::Vault`]) checks.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Postgres, Row, Transaction};

use super::{
    ATTACHMENT_PENDING, AccountRow, AttachmentRow, AuditMaker, AuditRow, Changes, Deleted,
    NewEnvelope, PendingRow, Result, SCHEMA_VERSION, SessionRow, StoredEnvelope, StoredRecord,
    VaultBackend, VaultError, db_error, is_foreign_key_violation, merge_changes, redact_url,
};

/// Connections per vault handle (a desk streams while it writes).
const MAX_CONNECTIONS: u32 = 8;

/// How long a call waits for a free pooled connection (or to connect).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The advisory-lock key that serializes schema creation ("QLVA").
const SCHEMA_LOCK: i64 = 0x514C_5641;

/// A new vault, at [`SCHEMA_VERSION`].
const SCHEMA_V4: &str = r#"
CREATE TABLE schema_version (version BIGINT NOT NULL);
CREATE TABLE meta (name TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
INSERT INTO counter (id, n) VALUES (1, 0);
CREATE TABLE envelopes (
    id TEXT COLLATE "C" PRIMARY KEY,
    day TEXT COLLATE "C" NOT NULL,
    key_id TEXT NOT NULL,
    envelope BYTEA NOT NULL,
    sha256 BYTEA NOT NULL,
    flag TEXT,
    flag_detail TEXT,
    learned BIGINT,
    n BIGINT NOT NULL
);
CREATE INDEX envelopes_by_day ON envelopes (day, id);
CREATE INDEX envelopes_by_sha256 ON envelopes (sha256);
CREATE UNIQUE INDEX envelopes_by_n ON envelopes (n);
CREATE TABLE records (
    seq BIGINT PRIMARY KEY,
    report_id TEXT COLLATE "C" NOT NULL REFERENCES envelopes (id),
    kind TEXT COLLATE "C" NOT NULL,
    sealed BYTEA NOT NULL
);
CREATE INDEX records_by_report ON records (report_id, seq);
CREATE INDEX records_by_kind ON records (kind, seq);
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    handler TEXT,
    action TEXT NOT NULL,
    report_id TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE accounts (
    name TEXT COLLATE "C" PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_sealed BYTEA,
    disabled BOOLEAN NOT NULL,
    must_enrol BOOLEAN NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until BIGINT,
    created TEXT NOT NULL,
    generation BIGINT NOT NULL
);
CREATE TABLE sessions (
    id_hash BYTEA PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    account TEXT COLLATE "C" NOT NULL REFERENCES accounts (name),
    generation BIGINT NOT NULL,
    csrf TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account);
CREATE TABLE seen (
    case_id TEXT COLLATE "C" NOT NULL,
    account TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (case_id, account)
);
CREATE TABLE claims (
    thread_key TEXT COLLATE "C" NOT NULL,
    slot BIGINT NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (thread_key, slot)
);
INSERT INTO schema_version (version) VALUES (4);
"#;

/// Version 4 → 5: pending sign-ins, so a sign-in's steps may reach any
/// desk sharing the vault (the desk kept them in memory before). A new
/// vault is made at version 4, then takes this.
const UPGRADE_V4_TO_V5: &str = r#"
CREATE TABLE pending_sign_ins (
    id_hash BYTEA PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    account TEXT COLLATE "C" NOT NULL REFERENCES accounts (name),
    next TEXT NOT NULL,
    created BIGINT NOT NULL,
    new_hash TEXT,
    secret_sealed BYTEA,
    tries BIGINT NOT NULL
);
CREATE INDEX pending_by_created ON pending_sign_ins (created);
UPDATE schema_version SET version = 5;
"#;

/// Version 5 → 6: attachments (issue 19), as in the SQLite backend: a row
/// per attachment a report lists and each blob's sealed parts as fetched.
const UPGRADE_V5_TO_V6: &str = r#"
CREATE TABLE attachments (
    report_id TEXT COLLATE "C" NOT NULL,
    idx BIGINT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    stored_len BIGINT NOT NULL DEFAULT 0,
    tries BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (report_id, idx)
);
CREATE INDEX attachments_by_state ON attachments (state, report_id, idx);
CREATE TABLE blob_parts (
    report_id TEXT COLLATE "C" NOT NULL,
    idx BIGINT NOT NULL,
    part BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (report_id, idx, part)
);
UPDATE schema_version SET version = 6;
"#;

/// The PostgreSQL vault.
pub struct PostgresVault {
    pool: PgPool,
    /// The URL without its password.
    location: String,
}

impl std::fmt::Debug for PostgresVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the pool: its options hold the password.
        f.debug_struct("PostgresVault")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn envelope_row(row: PgRow) -> Result<StoredEnvelope, sqlx::Error> {
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

fn attachment_row(row: PgRow) -> Result<AttachmentRow> {
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

fn record_row(row: PgRow) -> Result<StoredRecord, sqlx::Error> {
    Ok(StoredRecord {
        seq: row.try_get("seq")?,
        report_id: row.try_get("report_id")?,
        kind: row.try_get("kind")?,
        sealed: row.try_get("sealed")?,
    })
}

fn audit_row(row: PgRow) -> Result<AuditRow, sqlx::Error> {
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

fn account_row(row: PgRow) -> Result<AccountRow, sqlx::Error> {
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

fn session_row(row: PgRow) -> Result<SessionRow> {
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

fn pending_row(row: PgRow) -> Result<PendingRow> {
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

impl PostgresVault {
    /// Connect to a `postgres://` / `postgresql://` URL, create the tables in
    /// an empty database, check the schema version of one that has them.
    /// Refuses a vault from a newer console and a database that holds other
    /// tables (e.g. the intake server's).
    pub async fn open(url: &str) -> Result<PostgresVault> {
        let url = url.trim();
        let location = redact_url(url);
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| {
                VaultError::BadTarget(format!(
                    "{location} is not a PostgreSQL URL this console can use ({e}); give postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
                ))
            })?
            // Durability must not depend on the server's or database's default.
            .options([("synchronous_commit", "on")])
            // sqlx would log statements (with their times) at info level.
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                VaultError::Database(format!(
                    "cannot connect to the vault database {location}: {e}"
                ))
            })?;
        let vault = PostgresVault { pool, location };
        if let Err(e) = vault.check_schema().await {
            vault.pool.close().await;
            return Err(e);
        }
        Ok(vault)
    }

    async fn check_schema(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SCHEMA_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let has_table: bool =
            sqlx::query_scalar("SELECT to_regclass('schema_version') IS NOT NULL")
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
        if !has_table {
            let tables: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
            if tables != 0 {
                return Err(VaultError::Corrupt(format!(
                    "the database {} holds other tables but no console vault (no schema_version table); give the vault a database of its own",
                    self.location
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
                path: self.location.clone().into(),
                found: v,
            }),
            Some(SCHEMA_VERSION) => Ok(()),
            Some(v @ 4..=5) => {
                if v == 4 {
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
            // PostgreSQL vaults began at version 4: nothing older to upgrade.
            other => Err(VaultError::Corrupt(format!(
                "unknown schema version {other:?} in {}",
                self.location
            ))),
        }
    }

    /// A transaction (READ COMMITTED: each statement sees what committed
    /// before it, so a writer that waited for a lock reads its holder's work).
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_error)
    }
}

/// Lock the change counter for the rest of the transaction and read it.
async fn counter(tx: &mut Transaction<'static, Postgres>) -> Result<i64> {
    sqlx::query_scalar("SELECT n FROM counter WHERE id = 1 FOR UPDATE")
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)
}

#[async_trait]
impl VaultBackend for PostgresVault {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn contains(&self, id: &str) -> Result<bool> {
        let hit: Option<i64> = sqlx::query_scalar("SELECT 1::BIGINT FROM envelopes WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(hit.is_some())
    }

    async fn id_by_sha256(&self, sha256: &[u8; 32]) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT id FROM envelopes WHERE sha256 = $1 ORDER BY id LIMIT 1")
            .bind(&sha256[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn contains_many(&self, ids: &[String]) -> Result<HashSet<String>> {
        // One round trip: the ids as one array parameter; deleted reports
        // (their tombstones) count as held, so a pull never stores them again.
        let gone: Vec<String> = ids.iter().map(|id| super::tombstone(id)).collect();
        let held: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM envelopes WHERE id = ANY($1) UNION SELECT substr(name, $3) FROM meta WHERE name = ANY($2)",
        )
        .bind(ids)
        .bind(gone)
        .bind(super::TOMBSTONE.len() as i32 + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(held.into_iter().collect())
    }

    async fn tombstones(&self) -> Result<Vec<String>> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM meta WHERE left(name, $1) = $2")
                .bind(super::TOMBSTONE.len() as i32)
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
        // Lock the envelopes first: a record another desk is adding to the
        // case waits for this transaction, then fails (no such report)
        // instead of leaving a record without its envelope.
        sqlx::query("SELECT id FROM envelopes WHERE id = ANY($1) FOR UPDATE")
            .bind(ids)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let records = sqlx::query("DELETE FROM records WHERE report_id = ANY($1)")
            .bind(ids)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        let envelopes = sqlx::query("DELETE FROM envelopes WHERE id = ANY($1)")
            .bind(ids)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        // The attachments' rows and every stored part of their blobs
        // (issue 19) go with the report.
        for sql in [
            "DELETE FROM blob_parts WHERE report_id = ANY($1)",
            "DELETE FROM attachments WHERE report_id = ANY($1)",
        ] {
            sqlx::query(sql)
                .bind(ids)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        sqlx::query("DELETE FROM seen WHERE case_id = ANY($1)")
            .bind(ids)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let gone: Vec<String> = ids.iter().map(|id| super::tombstone(id)).collect();
        sqlx::query(
            "INSERT INTO meta (name, value) SELECT n, '' FROM unnest($1::text[]) AS n ON CONFLICT (name) DO NOTHING",
        )
        .bind(gone)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(k) = thread_key {
            sqlx::query("DELETE FROM claims WHERE thread_key = $1")
                .bind(k)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        sqlx::query(
            "INSERT INTO meta (name, value) VALUES ($1, '1') ON CONFLICT (name) DO UPDATE SET value = (meta.value::bigint + 1)::text",
        )
        .bind(super::DELETIONS)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(Deleted {
            envelopes,
            records,
            wal_truncated: None,
        })
    }

    async fn ids_by_sha256_many(&self, hashes: &[[u8; 32]]) -> Result<HashMap<[u8; 32], String>> {
        let list: Vec<&[u8]> = hashes.iter().map(|h| &h[..]).collect();
        // min(id) is what `id_by_sha256` answers (ORDER BY id LIMIT 1; ids
        // are in the "C" collation).
        let rows: Vec<(Vec<u8>, String)> = sqlx::query_as(
            "SELECT sha256, min(id) FROM envelopes WHERE sha256 = ANY($1) GROUP BY sha256",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut found = HashMap::with_capacity(rows.len());
        for (sha, id) in rows {
            let sha: [u8; 32] = sha.try_into().map_err(|_| {
                VaultError::Corrupt("an envelope's SHA-256 is not 32 bytes".to_owned())
            })?;
            found.insert(sha, id);
        }
        Ok(found)
    }

    async fn insert_envelopes(&self, batch: &[NewEnvelope]) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let first = counter(&mut tx).await? + 1;
        // `learned` is the records' clock: the last record `seq` handed out,
        // read while holding the counter's lock, which every record takes, so
        // no record can come in between.
        let learned: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM records")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        // A few round trips a batch, not one a row: which ids are stored
        // already (no envelope can be added meanwhile: every writer takes
        // the counter's lock), then one INSERT of the rest. The first copy of
        // an id in the batch wins, as with row-by-row inserts.
        let ids: Vec<&str> = batch.iter().map(|e| e.id.as_str()).collect();
        let stored: std::collections::HashSet<String> =
            sqlx::query_scalar("SELECT id FROM envelopes WHERE id = ANY($1)")
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_error)?
                .into_iter()
                .collect();
        let mut taken = std::collections::HashSet::new();
        let new: Vec<&NewEnvelope> = batch
            .iter()
            .filter(|e| !stored.contains(&e.id) && taken.insert(e.id.as_str()))
            .collect();
        if new.is_empty() {
            return Ok(0);
        }
        let count = new.len() as i64;
        sqlx::query(
            "INSERT INTO envelopes (id, day, key_id, envelope, sha256, flag, flag_detail, learned, n) \
             SELECT id, day, key_id, envelope, sha256, flag, flag_detail, $8, n \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bytea[], $6::text[], $7::text[], $9::bigint[]) \
             AS t (id, day, key_id, envelope, sha256, flag, flag_detail, n)",
        )
        .bind(new.iter().map(|e| e.id.as_str()).collect::<Vec<_>>())
        .bind(new.iter().map(|e| e.day.as_str()).collect::<Vec<_>>())
        .bind(new.iter().map(|e| e.key_id.as_str()).collect::<Vec<_>>())
        .bind(new.iter().map(|e| e.envelope.as_slice()).collect::<Vec<_>>())
        .bind(new.iter().map(|e| &e.sha256[..]).collect::<Vec<_>>())
        .bind(
            new.iter()
                .map(|e| e.flag.as_ref().map(|(f, _)| f.as_str()))
                .collect::<Vec<_>>(),
        )
        .bind(
            new.iter()
                .map(|e| e.flag.as_ref().map(|(_, d)| d.as_str()))
                .collect::<Vec<_>>(),
        )
        .bind(learned)
        .bind((first..first + count).collect::<Vec<i64>>())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query("UPDATE counter SET n = $1 WHERE id = 1")
            .bind(first + count - 1)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(count as u64)
    }

    async fn envelope(&self, id: &str) -> Result<Option<StoredEnvelope>> {
        let row = sqlx::query(
            "SELECT id, day, key_id, envelope, flag, flag_detail, learned, n FROM envelopes WHERE id = $1",
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
        sqlx::query_scalar(
            "SELECT id FROM envelopes WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3",
        )
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
        sqlx::query("INSERT INTO records (seq, report_id, kind, sealed) VALUES ($1, $2, $3, $4)")
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
            "SELECT seq, report_id, kind, sealed FROM records WHERE report_id = $1 ORDER BY seq",
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
        sqlx::query("SELECT seq, report_id, kind, sealed FROM records WHERE kind = $1 ORDER BY seq")
            .bind(kind)
            .fetch(&self.pool)
            .map(|r| r.and_then(record_row).map_err(db_error))
            .boxed()
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Changes> {
        // Read the counter first: every row with n <= bound has committed
        // (values are handed out under the counter's row lock, in commit
        // order), so the two reads below agree even if writes land between them.
        let bound = self.high_water().await?;
        let envelopes = sqlx::query(
            "SELECT id, day, key_id, envelope, flag, flag_detail, learned, n FROM envelopes WHERE n > $1 AND n <= $2 ORDER BY n LIMIT $3",
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
            "SELECT seq, report_id, kind, sealed FROM records WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
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
        sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn set_meta(&self, name: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => {
                sqlx::query("INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                    .bind(name)
                    .bind(v)
                    .execute(&self.pool)
                    .await
            }
            None => sqlx::query("DELETE FROM meta WHERE name = $1").bind(name).execute(&self.pool).await,
        }
        .map_err(db_error)?;
        Ok(())
    }

    async fn append_audit(&self, make: AuditMaker<'_>) -> Result<AuditRow> {
        let mut tx = self.begin_write().await?;
        // One appender at a time across every process; readers go on.
        sqlx::query("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
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
            "INSERT INTO audit (seq, at, os_user, handler, action, report_id, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        sqlx::query("SELECT * FROM accounts WHERE name = $1")
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
            "INSERT INTO accounts (name, role, password_hash, totp_sealed, disabled, must_enrol, failed_logins, locked_until, created, generation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (name) DO NOTHING",
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
            "UPDATE accounts SET role = $1, password_hash = $2, totp_sealed = $3, disabled = $4, must_enrol = $5, failed_logins = $6, locked_until = $7, created = $8, generation = $9 WHERE name = $10",
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
            "INSERT INTO sessions (id_hash, account, generation, csrf, created, last_seen) VALUES ($1, $2, $3, $4, $5, $6)",
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
            "INSERT INTO pending_sign_ins (id_hash, account, next, created, new_hash, secret_sealed, tries) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
        sqlx::query("SELECT * FROM pending_sign_ins WHERE id_hash = $1")
            .bind(&id_hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(pending_row)
            .transpose()
    }

    async fn update_pending(&self, row: &PendingRow) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE pending_sign_ins SET next = $1, new_hash = $2, secret_sealed = $3, tries = $4 WHERE id_hash = $5",
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
        let r = sqlx::query("DELETE FROM pending_sign_ins WHERE id_hash = $1")
            .bind(&id_hash[..])
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn purge_pending(&self, created_before: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM pending_sign_ins WHERE created < $1")
            .bind(created_before)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected())
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRow>> {
        sqlx::query("SELECT * FROM sessions WHERE id_hash = $1")
            .bind(&id_hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(session_row)
            .transpose()
    }

    async fn touch_session(&self, id_hash: &[u8; 32], last_seen: i64) -> Result<bool> {
        let r = sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(last_seen)
            .bind(&id_hash[..])
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_session(&self, id_hash: &[u8; 32]) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&id_hash[..])
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_sessions_of(&self, account: &str) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE account = $1")
            .bind(account)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected())
    }

    async fn purge_sessions(&self, created_before: i64, last_seen_before: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE created < $1 OR last_seen < $2")
            .bind(created_before)
            .bind(last_seen_before)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected())
    }

    async fn seen(&self, case_id: &str, account: &str, n: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO seen (case_id, account, n) VALUES ($1, $2, $3) ON CONFLICT (case_id, account) DO UPDATE SET n = GREATEST(seen.n, EXCLUDED.n)",
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
        let r = sqlx::query("DELETE FROM seen WHERE case_id = $1 AND account = $2")
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
        sqlx::query_as("SELECT account, n FROM seen WHERE case_id = $1 ORDER BY account")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn claim_slot(&self, thread_key: &str, slot: u32, account: &str) -> Result<bool> {
        // One statement on the primary key: a racing insert of the same slot
        // waits for the first to commit, then does nothing.
        let r = sqlx::query(
            "INSERT INTO claims (thread_key, slot, account) VALUES ($1, $2, $3) ON CONFLICT (thread_key, slot) DO NOTHING",
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
        let r = sqlx::query("DELETE FROM claims WHERE thread_key = $1 AND slot = $2")
            .bind(thread_key)
            .bind(i64::from(slot))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn claims_of(&self, thread_key: &str) -> Result<Vec<(u32, String)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT slot, account FROM claims WHERE thread_key = $1 ORDER BY slot")
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
            sqlx::query(
                "INSERT INTO attachments (report_id, idx, state) SELECT $1, i, $3 FROM generate_series(0, $2 - 1) AS i ON CONFLICT (report_id, idx) DO NOTHING",
            )
            .bind(report_id)
            .bind(i64::from(*count))
            .bind(ATTACHMENT_PENDING)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn attachments_of(&self, report_id: &str) -> Result<Vec<AttachmentRow>> {
        let rows = sqlx::query(
            "SELECT report_id, idx, state, detail, stored_len, tries FROM attachments WHERE report_id = $1 ORDER BY idx",
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
        let states: Vec<String> = states.iter().map(|s| (*s).to_owned()).collect();
        let rows = sqlx::query(
            "SELECT report_id, idx, state, detail, stored_len, tries FROM attachments WHERE tries < $1 AND state = ANY($2) ORDER BY report_id, idx LIMIT $3",
        )
        .bind(i64::from(max_tries))
        .bind(&states)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(attachment_row).collect()
    }

    async fn clear_blob(&self, report_id: &str, index: u32) -> Result<()> {
        sqlx::query("DELETE FROM blob_parts WHERE report_id = $1 AND idx = $2")
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
            "INSERT INTO blob_parts (report_id, idx, part, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT (report_id, idx, part) DO UPDATE SET bytes = excluded.bytes",
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
            "SELECT bytes FROM blob_parts WHERE report_id = $1 AND idx = $2 AND part = $3",
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
            "INSERT INTO attachments (report_id, idx, state, detail, stored_len, tries) VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT (report_id, idx) DO UPDATE SET state = excluded.state, detail = excluded.detail, stored_len = excluded.stored_len, tries = attachments.tries + 1",
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

//! The local vault: one SQLite file (`vault.sqlite`, WAL, mode 0600) holding
//! envelopes exactly as pulled (still sealed), the handler's own records
//! (notes, statuses, copies of replies — each sealed, see [`crate::records`]),
//! the pull cursor and the audit chain.
//!
//! It owns the schema, its version check (a vault written by a newer console
//! is refused, never "upgraded" backwards) and every SQL statement. It does not
//! decrypt, seal or hash anything: it stores bytes that other modules made.
//!
//! What is readable at rest, by design: report ids and the server's UTC day
//! (both also on the server), key ids, why an envelope failed to open (a code
//! and a sentence derived from the header), which reports have notes, statuses
//! or replies (their contents are sealed), and the audit log. Nothing a
//! reporter wrote and nothing a handler wrote is readable.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

/// The schema version this console writes and understands. Version 2 added
/// `envelopes.learned`, the order in which the vault learned of each envelope
/// (see [`StoredEnvelope::learned`]); version 3 rewrote the stored reasons of
/// `bad_payload` and `bad_padding` envelopes, which older consoles copied from
/// the parser and which could quote the decrypted payload. Older vaults are
/// upgraded in place.
pub const SCHEMA_VERSION: i64 = 3;

/// Why the vault could not be used.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The vault was written by a newer console.
    #[error(
        "the vault {path} was written by a newer quietline-console (schema version {found}; this one understands up to {SCHEMA_VERSION}); upgrade quietline-console — nothing was changed"
    )]
    NewerVersion {
        /// The file.
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
    /// SQLite failed (the driver's message; kept as text so it is printed once).
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
}

impl From<sqlx::Error> for VaultError {
    fn from(e: sqlx::Error) -> Self {
        VaultError::Database(e.to_string())
    }
}

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
#[derive(Debug, Clone)]
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
    /// with `learned = n` came after record `n` and before record `n + 1`, so
    /// a thread can be ordered without trusting the reporter's clock.
    /// `None` for envelopes stored by a version-1 vault, which did not keep it.
    pub learned: Option<i64>,
}

/// A sealed handler record (note, status or reply copy).
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// Local order.
    pub seq: i64,
    /// The report it belongs to.
    pub report_id: String,
    /// `note`, `status` or `reply`.
    pub kind: String,
    /// The sealed bytes.
    pub sealed: Vec<u8>,
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
    /// The handler name given with `--handler`, if any.
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

const SCHEMA_V1: &str = "
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

/// The vault.
#[derive(Debug, Clone)]
pub struct Vault {
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

impl Vault {
    /// Open the vault at `path`, creating it (mode 0600, schema v1) if missing.
    /// Refuses a vault from a newer console.
    pub async fn open(path: &Path) -> Result<Vault, VaultError> {
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
            .await?;
        let vault = Vault {
            pool,
            path: path.to_owned(),
        };
        vault.check_schema().await?;
        Ok(vault)
    }

    async fn check_schema(&self) -> Result<(), VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let has_table: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        )
        .fetch_optional(&mut *tx)
        .await?;
        if has_table.is_none() {
            let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master")
                .fetch_one(&mut *tx)
                .await?;
            if tables != 0 {
                return Err(VaultError::Corrupt(format!(
                    "{} is a SQLite database but not a console vault (no schema_version table)",
                    self.path.display()
                )));
            }
            sqlx::raw_sql(SCHEMA_V1).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(());
        }
        let version: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM schema_version")
            .fetch_one(&mut *tx)
            .await?;
        match version {
            Some(v) if v > SCHEMA_VERSION => Err(VaultError::NewerVersion {
                path: self.path.clone(),
                found: v,
            }),
            Some(SCHEMA_VERSION) => Ok(()),
            Some(v @ (1 | 2)) => {
                if v == 1 {
                    sqlx::raw_sql(UPGRADE_V1_TO_V2).execute(&mut *tx).await?;
                }
                sqlx::raw_sql(UPGRADE_V2_TO_V3).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }
            other => Err(VaultError::Corrupt(format!(
                "unknown schema version {other:?}"
            ))),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Close the connections (flushes the WAL on the last close).
    pub async fn close(self) {
        self.pool.close().await;
    }

    // ------------------------------------------------------------ envelopes

    /// Whether a report id is already in the vault.
    pub async fn contains(&self, id: &str) -> Result<bool, VaultError> {
        let hit: Option<i64> = sqlx::query_scalar("SELECT 1 FROM envelopes WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(hit.is_some())
    }

    /// The id of a stored envelope with these exact bytes, if any.
    pub async fn id_by_sha256(&self, sha256: &[u8; 32]) -> Result<Option<String>, VaultError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM envelopes WHERE sha256 = ? ORDER BY id LIMIT 1")
                .bind(&sha256[..])
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Store envelopes in one transaction; ids already present are left as
    /// they are. Returns how many were new.
    pub async fn insert_envelopes(&self, batch: &[NewEnvelope]) -> Result<u64, VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut inserted = 0;
        for e in batch {
            inserted += insert_one(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// One envelope by exact id.
    pub async fn envelope(&self, id: &str) -> Result<Option<StoredEnvelope>, VaultError> {
        let row = sqlx::query(
            "SELECT id, day, key_id, envelope, flag, flag_detail, learned FROM envelopes WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(envelope_row).transpose()?)
    }

    /// Every envelope, oldest day first, streamed (memory does not grow with the vault).
    pub fn envelopes(&self) -> BoxStream<'_, Result<StoredEnvelope, VaultError>> {
        sqlx::query(
            "SELECT id, day, key_id, envelope, flag, flag_detail, learned FROM envelopes ORDER BY day, id",
        )
        .fetch(&self.pool)
        .map(|r| r.and_then(envelope_row).map_err(VaultError::from))
        .boxed()
    }

    /// How many envelopes, and how many were flagged at pull time.
    pub async fn counts(&self) -> Result<(i64, i64), VaultError> {
        let row = sqlx::query("SELECT count(*) AS n, count(flag) AS f FROM envelopes")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("n")?, row.try_get("f")?))
    }

    /// How many handler records (notes, statuses, reply copies) the vault holds.
    pub async fn record_count(&self) -> Result<i64, VaultError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM records")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The full id of the one report whose id starts with `prefix`.
    pub async fn resolve(&self, prefix: &str) -> Result<String, VaultError> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 4 || p.len() > 32 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(VaultError::BadPrefix(prefix.to_owned()));
        }
        // A range scan on the primary key: ids are lowercase hex, so every id
        // with this prefix sorts in [p, p + "g").
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM envelopes WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
        )
        .bind(&p)
        .bind(format!("{p}g"))
        .fetch_all(&self.pool)
        .await?;
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

    /// Append a sealed handler record.
    pub async fn add_record(
        &self,
        report_id: &str,
        kind: &str,
        sealed: &[u8],
    ) -> Result<i64, VaultError> {
        let r = sqlx::query("INSERT INTO records (report_id, kind, sealed) VALUES (?, ?, ?)")
            .bind(report_id)
            .bind(kind)
            .bind(sealed)
            .execute(&self.pool)
            .await?;
        Ok(r.last_insert_rowid())
    }

    /// The records of one report, in the order they were written.
    pub async fn records_for(&self, report_id: &str) -> Result<Vec<StoredRecord>, VaultError> {
        let rows = sqlx::query(
            "SELECT seq, report_id, kind, sealed FROM records WHERE report_id = ? ORDER BY seq",
        )
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(record_row).collect::<Result<_, _>>()?)
    }

    /// Records of one kind across the vault, in order, streamed.
    pub fn records_of_kind<'a>(
        &'a self,
        kind: &'a str,
    ) -> BoxStream<'a, Result<StoredRecord, VaultError>> {
        sqlx::query("SELECT seq, report_id, kind, sealed FROM records WHERE kind = ? ORDER BY seq")
            .bind(kind)
            .fetch(&self.pool)
            .map(|r| r.and_then(record_row).map_err(VaultError::from))
            .boxed()
    }

    // ------------------------------------------------------------ meta

    /// A value from the meta table.
    pub async fn meta(&self, name: &str) -> Result<Option<String>, VaultError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Set (or with `None`, remove) a meta value.
    pub async fn set_meta(&self, name: &str, value: Option<&str>) -> Result<(), VaultError> {
        match value {
            Some(v) => {
                sqlx::query("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                    .bind(name)
                    .bind(v)
                    .execute(&self.pool)
                    .await?
            }
            None => sqlx::query("DELETE FROM meta WHERE name = ?").bind(name).execute(&self.pool).await?,
        };
        Ok(())
    }

    // ------------------------------------------------------------ audit

    /// Append an audit entry: `make` gets the last (seq, hash) and returns the
    /// new row. Runs in one IMMEDIATE transaction so two consoles on the same
    /// vault cannot fork the chain.
    pub async fn append_audit<F>(&self, make: F) -> Result<AuditRow, VaultError>
    where
        F: FnOnce(Option<(i64, String)>) -> AuditRow,
    {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let last = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let last = match last {
            Some(r) => Some((r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("hash")?)),
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
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Every audit entry in sequence order, streamed.
    pub fn audit_entries(&self) -> BoxStream<'_, Result<AuditRow, VaultError>> {
        sqlx::query("SELECT seq, at, os_user, handler, action, report_id, detail, prev_hash, hash FROM audit ORDER BY seq")
            .fetch(&self.pool)
            .map(|r| r.and_then(audit_row).map_err(VaultError::from))
            .boxed()
    }

    /// Collect a stream (helper for small result sets).
    pub async fn collect<T>(
        stream: BoxStream<'_, Result<T, VaultError>>,
    ) -> Result<Vec<T>, VaultError> {
        stream.try_collect().await
    }
}

async fn insert_one(
    tx: &mut Transaction<'static, Sqlite>,
    e: &NewEnvelope,
) -> Result<u64, VaultError> {
    let (flag, detail) = match &e.flag {
        Some((f, d)) => (Some(f.as_str()), Some(d.as_str())),
        None => (None, None),
    };
    // `learned` is the records' clock: the last `seq` handed out
    // (AUTOINCREMENT never reuses one), read inside the same IMMEDIATE
    // transaction, so no record can be written between the read and the insert.
    let r = sqlx::query(
        "INSERT INTO envelopes (id, day, key_id, envelope, sha256, flag, flag_detail, learned) VALUES (?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'records'), 0)) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&e.id)
    .bind(&e.day)
    .bind(&e.key_id)
    .bind(&e.envelope)
    .bind(&e.sha256[..])
    .bind(flag)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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

    #[tokio::test]
    async fn envelopes_are_placed_on_the_records_clock() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vault::open(&dir.path().join("vault.sqlite")).await.unwrap();
        let a = format!("aaaa{}", "0".repeat(28));
        let b = format!("bbbb{}", "0".repeat(28));
        let c = format!("cccc{}", "0".repeat(28));
        v.insert_envelopes(&[env(&a)]).await.unwrap();
        assert_eq!(v.add_record(&a, "note", b"x").await.unwrap(), 1);
        assert_eq!(v.add_record(&a, "note", b"y").await.unwrap(), 2);
        v.insert_envelopes(&[env(&b), env(&c)]).await.unwrap();
        // Stored again later: keeps the position it was first learned at.
        v.add_record(&a, "note", b"z").await.unwrap();
        v.insert_envelopes(&[env(&a)]).await.unwrap();
        let learned = |id: String| {
            let v = v.clone();
            async move { v.envelope(&id).await.unwrap().unwrap().learned }
        };
        assert_eq!(learned(a.clone()).await, Some(0));
        assert_eq!(learned(b).await, Some(2));
        assert_eq!(learned(c).await, Some(2));
    }

    #[tokio::test]
    async fn a_version_1_vault_is_upgraded_and_its_envelopes_have_no_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.sqlite");
        let v = Vault::open(&path).await.unwrap();
        let a = format!("aaaa{}", "0".repeat(28));
        v.insert_envelopes(&[env(&a)]).await.unwrap();
        // Make it a version-1 vault: no `learned` column.
        sqlx::raw_sql(
            "ALTER TABLE envelopes DROP COLUMN learned; UPDATE schema_version SET version = 1;",
        )
        .execute(&v.pool)
        .await
        .unwrap();
        v.close().await;
        let v = Vault::open(&path).await.unwrap();
        assert_eq!(v.envelope(&a).await.unwrap().unwrap().learned, None);
        let version: i64 = sqlx::query_scalar("SELECT version FROM schema_version")
            .fetch_one(&v.pool)
            .await
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let b = format!("bbbb{}", "0".repeat(28));
        v.insert_envelopes(&[env(&b)]).await.unwrap();
        assert_eq!(v.envelope(&b).await.unwrap().unwrap().learned, Some(0));
    }

    #[tokio::test]
    async fn a_version_2_vault_loses_the_payload_refusal_reasons_it_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.sqlite");
        let v = Vault::open(&path).await.unwrap();
        let a = format!("aaaa{}", "0".repeat(28));
        let b = format!("bbbb{}", "0".repeat(28));
        let mut bad = env(&a);
        bad.flag = Some((
            "bad_payload".into(),
            "unknown variant `CANARY-old-reason`".into(),
        ));
        let mut dup = env(&b);
        dup.sha256 = [9; 32];
        dup.flag = Some(("duplicate".into(), "the same envelope as report x".into()));
        v.insert_envelopes(&[bad, dup]).await.unwrap();
        sqlx::raw_sql("UPDATE schema_version SET version = 2;")
            .execute(&v.pool)
            .await
            .unwrap();
        v.close().await;
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
        sqlx::query("UPDATE schema_version SET version = 7")
            .execute(&v.pool)
            .await
            .unwrap();
        v.close().await;
        let e = Vault::open(&path).await.unwrap_err();
        assert!(
            e.to_string()
                .contains("newer quietline-console (schema version 7"),
            "{e}"
        );
    }
}

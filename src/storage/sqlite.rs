//! SQLite backend: the embedded default, one database file beside the server.
//!
//! It owns the SQLite file, its connections and its durability settings: WAL
//! journal, `synchronous = FULL` (every commit is fsynced before it is
//! acknowledged), `secure_delete = ON` (deleted rows are overwritten with
//! zeros), foreign keys on and a busy timeout. Reads go through a small pool
//! of read-only connections; every write goes through ONE dedicated writer
//! connection, so writes never contend with each other inside the process and
//! reads never wait for writes (WAL). Reports are group-committed (see
//! [`super::group_commit`]); WAL checkpoints run on one more connection in
//! the background, off the commit path.
//!
//! It does not validate envelopes or ids (the intake does), and it does not
//! protect the file from its filesystem: bytes that the filesystem itself
//! leaves in freed blocks (e.g. after the WAL is truncated) are out of reach.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Sqlite, SqliteExecutor};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use super::common::{
    ForceRow, db_error, dedup, fixed, force_entry, force_key, in_request_order,
    is_constraint_violation, is_foreign_key_violation, is_unique_violation, parse_status,
    purge_fuzz, shuffle, status_name,
};
use super::group_commit::{BatchError, BatchWriter, GroupCommit, Limits, PendingReport};
use super::{
    BlobId, BlobStatus, CopyLimits, CopyWrite, Day, ForceEntry, ForceKey, InboxEntry, KeyId,
    KeyStatus, LogPosition, NewBlob, NewCopy, NewReport, PartWrite, PowTicket, Pressure, Purged,
    PurgedBlobs, ReportId, Result, SlotAddress, SlotWrite, Storage, StorageError, StoredSigners,
    StoredStatement, TokenHash, TokenInfo,
};

#[path = "sqlite_blobs.rs"]
mod blobs;

/// Migrations embedded at build time from `migrations/sqlite/`.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for a lock held by another connection (for
/// example an admin command in another process writing the same file).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// WAL pages after which the WRITER checkpoints by itself (SQLite's default
/// is 1,000). Only a safety net: the background checkpointer keeps the WAL far
/// below it, off the commit path.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 64_000;

/// How often the background checkpointer copies committed WAL frames into the
/// database file (a PASSIVE checkpoint: it never blocks the writer or readers;
/// with nothing new in the WAL it is a no-op).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// The writer's page cache, negative = KiB: SQLite's default, 2 MB. A
/// 64 MiB cache was slower: SQLite walks the writer's whole cache at the end
/// of each commit (`pcache1TruncateUnsafe`, 5% of all CPU under load), and at
/// the batch sizes intake sees that cost more than the reads a larger cache
/// saves (BENCHMARKS.md#intake-durable-8-kib-submissions: concurrency 64,
/// three runs each, 6,369–6,831/s with 64 MiB, 7,078–7,447/s with 2 MB).
const WRITER_CACHE_KIB: i64 = -2_000;

/// Read-only connections in the pool. Reads are short point lookups and index
/// range scans; a few connections keep a slow reader from blocking the rest.
const READERS: u32 = 4;

/// SQLite's bind-parameter limit (SQLITE_MAX_VARIABLE_NUMBER, 32766 since
/// 3.32; the bundled library is newer).
const MAX_BIND_PARAMS: usize = 32_766;

/// Bound parameters per report row in the multi-row INSERT.
const PARAMS_PER_REPORT: usize = 7;

/// Rows per INSERT statement so a statement stays under [`MAX_BIND_PARAMS`].
/// With the default batch cap (512 rows) a batch is a single statement.
const ROWS_PER_INSERT: usize = MAX_BIND_PARAMS / PARAMS_PER_REPORT;

/// Addresses per `IN (…)` list when reading several slots.
const SLOTS_PER_SELECT: usize = 500;

/// The writer connection, shared by the report writer and every other write.
type Writer = Arc<Mutex<WriterSlot>>;

/// The one writer connection, and how to open it again.
///
/// Why reopen: a write that fails part-way must not leave the connection
/// inside its transaction. sqlx rolls back a transaction that is dropped
/// without a commit, but when SQLite has already rolled it back by itself (it
/// may, on SQLITE_FULL or an I/O error during COMMIT) that ROLLBACK fails,
/// sqlx still counts the transaction as open, and every later `BEGIN` on the
/// connection was refused ("attempted to call begin_with at non-zero
/// transaction depth"): a full disk stopped intake until a restart (issue 15,
/// item 12). [`lock_writer`] checks the connection before every use and
/// replaces it if it is still inside a transaction.
struct WriterSlot {
    /// `None` after a failed reopen (the next use tries again) or after close.
    conn: Option<SqliteConnection>,
    /// The writer's options (WAL, full sync, secure_delete …), to reopen it.
    options: SqliteConnectOptions,
    /// Set by `close()`: the writer is gone for good.
    closed: bool,
    /// When a reopen was last logged: on a full disk every batch fails and
    /// is reopened, so at most one line every [`REOPEN_LOG_EVERY`].
    logged: Option<std::time::Instant>,
}

/// See [`WriterSlot::logged`].
const REOPEN_LOG_EVERY: Duration = Duration::from_secs(10);

impl WriterSlot {
    /// Make `conn` a usable connection outside any transaction, reopening it
    /// if it is not; `Unavailable` if it cannot be opened now.
    async fn ready(&mut self) -> Result<()> {
        if let Some(conn) = self.conn.as_mut() {
            if !conn.is_in_transaction() {
                return Ok(());
            }
            // A transaction was dropped without commit or rollback (a refusal,
            // an error): sqlx has queued its ROLLBACK on the connection's
            // worker, and a ping is answered only after it has run.
            let pinged = conn.ping().await;
            if pinged.is_ok() && !conn.is_in_transaction() {
                return Ok(());
            }
            let now = std::time::Instant::now();
            if self
                .logged
                .is_none_or(|t| now.duration_since(t) >= REOPEN_LOG_EVERY)
            {
                self.logged = Some(now);
                tracing::warn!(
                    "the SQLite writer connection was left inside a failed transaction; opening a new one (at most one such line every 10 s)"
                );
            }
            if let Some(stuck) = self.conn.take() {
                // Closing rolls back whatever SQLite still holds open; an
                // error here changes nothing for the new connection.
                let _ = stuck.close().await;
            }
        }
        let conn = SqliteConnection::connect_with(&self.options)
            .await
            .map_err(|e| match db_error(e) {
                // Whatever stops the file from opening now is the storage
                // being unavailable, not the writer having been closed.
                StorageError::WriterGone => StorageError::Unavailable(
                    "the SQLite writer connection could not be opened again".into(),
                ),
                other => other,
            })?;
        self.conn = Some(conn);
        Ok(())
    }
}

/// SQLite storage. Create with [`SqliteStorage::open`] (or `storage::open`).
pub struct SqliteStorage {
    readers: SqlitePool,
    writer: Writer,
    reports: GroupCommit,
    checkpoints: CheckpointTask,
}

/// The background checkpointer: its own connection, a PASSIVE checkpoint every
/// [`CHECKPOINT_INTERVAL`].
///
/// Why: in WAL mode a checkpoint copies committed pages into the database file
/// and fsyncs it. Run by the writer (SQLite's auto-checkpoint) it happens
/// inside whichever commit crosses the threshold, and every report in that
/// batch waits for it. On its own connection it overlaps with the writer's
/// next batches, and PASSIVE never waits for a lock: it copies what no reader
/// still needs and leaves the rest for the next round.
struct CheckpointTask {
    stop: Arc<tokio::sync::Notify>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Held while a checkpoint runs here, and by `purge` for its TRUNCATE
    /// checkpoint: SQLite answers a checkpoint "busy" at once, without
    /// waiting, while another connection is checkpointing.
    running: Arc<Mutex<()>>,
}

impl CheckpointTask {
    async fn start(options: &SqliteConnectOptions) -> Result<Self> {
        let mut conn = SqliteConnection::connect_with(options)
            .await
            .map_err(db_error)?;
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        let running = Arc::new(Mutex::new(()));
        let mine = running.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Whether the last checkpoint failed: on a full disk every one
            // fails, ten times a second, so only the change is logged.
            let mut failing = false;
            loop {
                tokio::select! {
                    () = stopped.notified() => break,
                    _ = tick.tick() => {
                        let _running = mine.lock().await;
                        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                            .execute(&mut conn)
                            .await
                        {
                            // The writer's auto-checkpoint still bounds the WAL.
                            Err(e) if !failing => {
                                failing = true;
                                tracing::warn!(error = %db_error(e), "background WAL checkpoints are failing; retrying every 100 ms, and saying so again once one succeeds");
                            }
                            Err(_) => {}
                            Ok(_) if failing => {
                                failing = false;
                                tracing::info!("background WAL checkpoints succeed again");
                            }
                            Ok(_) => {}
                        }
                    }
                }
            }
            let _ = conn.close().await;
        });
        Ok(Self {
            stop,
            task: Mutex::new(Some(task)),
            running,
        })
    }

    /// Keep background checkpoints from starting until the guard is dropped.
    async fn pause(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.running.lock().await
    }

    /// Stop after the current checkpoint and close the connection.
    async fn close(&self) {
        if let Some(task) = self.task.lock().await.take() {
            self.stop.notify_one();
            let _ = task.await;
        }
    }
}

impl SqliteStorage {
    /// Open (creating if missing, with mode 0600 on Unix) the database at a
    /// `sqlite://PATH` URL, apply migrations and start the report writer.
    ///
    /// Must be called inside a tokio runtime. In-memory databases are refused:
    /// the writer and the readers are separate connections and must share a
    /// file.
    pub async fn open(url: &str) -> Result<Self> {
        let rest = url.strip_prefix("sqlite://").ok_or_else(|| {
            StorageError::Database("a SQLite database URL must start with sqlite://".into())
        })?;
        let (path_part, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        if path_part.is_empty()
            || path_part == ":memory:"
            || query.is_some_and(|q| q.contains("mode=memory"))
        {
            return Err(StorageError::Database(
                "SQLite needs a database file (sqlite://PATH); in-memory databases are not supported"
                    .into(),
            ));
        }
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StorageError::Database(format!("invalid SQLite URL: {e}")))?
            // sqlx would log each statement (and slow ones as warnings) with
            // a timestamp: that would date arrivals in the logs.
            .disable_statement_logging();
        create_private_file(base.get_filename()).await?;

        let writer_options = base
            .clone()
            .read_only(false)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("secure_delete", "ON")
            // Measured (BENCHMARKS.md): with the default 1,000-page
            // auto-checkpoint the writer checkpointed every ~3 batches of 8 KiB
            // reports, copying and fsyncing pages that the next batches rewrite
            // anyway, and each checkpoint stalled the commit that triggered
            // it (the p99). Checkpoints now run on their own connection
            // ([`checkpointer`]); the writer's auto-checkpoint is a safety
            // net only. Durability is unchanged: every commit still fsyncs
            // the WAL before it is acknowledged.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
            .pragma("cache_size", WRITER_CACHE_KIB.to_string());
        let mut writer = SqliteConnection::connect_with(&writer_options)
            .await
            .map_err(db_error)?;
        MIGRATOR
            .run(&mut writer)
            .await
            .map_err(|e| StorageError::Database(format!("applying SQLite migrations: {e}")))?;
        // sqlx records when each migration was applied, to the second. That is
        // a time of day in the database; keep only that it was applied, and
        // checkpoint so the old value does not linger in the WAL.
        sqlx::query("UPDATE _sqlx_migrations SET installed_on = '1970-01-01 00:00:00' WHERE installed_on <> '1970-01-01 00:00:00'")
            .execute(&mut writer)
            .await
            .map_err(db_error)?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut writer)
            .await
            .map_err(db_error)?;

        // Readers are opened read-only after the writer has put the file in
        // WAL mode (a persistent setting) and created the schema.
        let reader_options = base
            .read_only(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(reader_options)
            .await
            .map_err(db_error)?;

        let checkpoints = CheckpointTask::start(&writer_options).await?;
        let writer: Writer = Arc::new(Mutex::new(WriterSlot {
            conn: Some(writer),
            options: writer_options,
            closed: false,
            logged: None,
        }));
        let reports = GroupCommit::start(
            ReportWriter {
                writer: writer.clone(),
                rows_per_insert: ROWS_PER_INSERT,
            },
            Limits::default(),
        );
        Ok(SqliteStorage {
            readers,
            writer,
            reports,
            checkpoints,
        })
    }

    /// The writer connection, or `WriterGone` after `close()`.
    async fn writer(&self) -> Result<MappedMutexGuard<'_, SqliteConnection>> {
        lock_writer(&self.writer).await
    }
}

/// Create the database file with owner-only permissions if it does not exist
/// yet. SQLite gives its -wal and -shm files the permissions of the database
/// file, so they are owner-only too.
async fn create_private_file(path: &Path) -> Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    match options.open(path).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::Database(format!(
            "cannot create the SQLite file {}: {e}",
            path.display()
        ))),
    }
}

/// The writer connection, ready for a new transaction (see [`WriterSlot`]);
/// `WriterGone` after `close()`, `Unavailable` if it had to be reopened and
/// could not be.
async fn lock_writer(writer: &Writer) -> Result<MappedMutexGuard<'_, SqliteConnection>> {
    let mut slot = writer.lock().await;
    if slot.closed {
        return Err(StorageError::WriterGone);
    }
    slot.ready().await?;
    MutexGuard::try_map(slot, |s| s.conn.as_mut()).map_err(|_| StorageError::WriterGone)
}

/// Begin a write transaction that takes the write lock at once: with a plain
/// (deferred) BEGIN, a transaction that reads first and writes later can fail
/// with SQLITE_BUSY without waiting when another process writes meanwhile.
async fn begin_write(conn: &mut SqliteConnection) -> Result<sqlx::Transaction<'_, Sqlite>> {
    conn.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)
}

async fn force_exists<'e>(e: impl SqliteExecutor<'e>, force_id: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM forces WHERE id = ?1")
        .bind(force_id)
        .fetch_optional(e)
        .await
        .map_err(db_error)?
        .is_some())
}

/// `UnknownForce` unless the force exists.
async fn require_force<'e>(e: impl SqliteExecutor<'e>, force_id: &str) -> Result<()> {
    if force_exists(e, force_id).await? {
        Ok(())
    } else {
        Err(StorageError::UnknownForce(force_id.to_owned()))
    }
}

async fn exec<'e>(e: impl SqliteExecutor<'e>, sql: &'static str) -> Result<()> {
    sqlx::query(sql)
        .execute(e)
        .await
        .map_err(db_error)
        .map(|_| ())
}

/// The rowid of a report: the first 8 bytes of its random id, big-endian,
/// top bit cleared (63 random bits). Never SQLite's own next rowid, which
/// would order arrivals (see `migrations/sqlite/0001_init.sql`).
pub(crate) fn rid(id: &ReportId) -> i64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&id[..8]);
    i64::from_be_bytes(first) & i64::MAX
}

/// A page of a force's inbox: a range of the covering `reports_inbox` index
/// (never the table's 8 KiB rows), from the cursor on.
const INBOX_PAGE: &str =
    "SELECT id, key_id, day FROM reports WHERE force_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

/// The batched inbox fetch's statement for `ids` (at most
/// [`SLOTS_PER_SELECT`]): by rowid (`rid`), the table's own key, one B-tree
/// descent per id, as [`Storage::report`] does; the full id is compared by
/// the caller (the rowid is 63 of its 128 bits).
///
/// Why `+force_id`: the unary `+` keeps SQLite's planner off the
/// `reports_inbox` index for this term. Without it the planner (no
/// statistics) took `force_id = ?` on that index as the cheaper way in and
/// checked each of the force's reports against the rowid list: every request
/// read the force's WHOLE inbox index, so the server's CPU per envelope
/// served grew with the inbox (98 µs at 10,000 reports, 526 µs at 100,000:
/// BENCHMARKS.md#pull-console-pull-sqlite-server). The plan is pinned by
/// the test `batched_fetch_searches_by_rowid`.
fn push_reports_select(select: &mut QueryBuilder<Sqlite>, force_id: &str, ids: &[ReportId]) {
    select.push("SELECT id, envelope FROM reports WHERE rid IN (");
    let mut list = select.separated(", ");
    for id in ids {
        list.push_bind(rid(id));
    }
    select.push(") AND +force_id = ");
    select.push_bind(force_id.to_owned());
}

/// Writes report batches on the shared writer connection.
struct ReportWriter {
    writer: Writer,
    /// [`ROWS_PER_INSERT`], smaller in unit tests to exercise chunking.
    rows_per_insert: usize,
}

impl ReportWriter {
    /// Write the batch; `Ok(false)` (nothing written) if one of its keys is
    /// retired, and the rows are then retried one by one to say whose.
    async fn try_insert_batch(
        &self,
        conn: &mut SqliteConnection,
        rows: &[PendingReport],
    ) -> Result<bool, sqlx::Error> {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        // The keys, checked inside the write transaction: an admin command
        // retiring a key needs the same write lock, so it is either before
        // (and refused here) or after. The server's check before queueing
        // may be stale (intake/keys.rs); this one is not. One query for the
        // batch's distinct keys (usually one); the foreign key refuses keys
        // that were never registered.
        let mut keys: Vec<(&str, &[u8])> = rows
            .iter()
            .map(|p| (p.report.force_id.as_str(), &p.report.key_id[..]))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(self.rows_per_insert) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT 1 FROM force_keys WHERE status = 'retired' AND (force_id, key_id) IN (",
            );
            q.push_values(chunk, |mut row, (force_id, key_id)| {
                row.push_bind(*force_id).push_bind(*key_id);
            });
            q.push(") LIMIT 1");
            if q.build()
                .persistent(false)
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
            {
                return Ok(false);
            }
        }
        // Spent challenges first: a replayed one fails the batch with a
        // unique violation before any report row is written, and the rows are
        // then retried one by one (crypto/FORMAT.md#verifying, step 8).
        let mut tickets: Vec<PowTicket> = rows.iter().filter_map(|p| p.report.pow).collect();
        // In key order: neighbouring keys share b-tree pages.
        tickets.sort_unstable_by_key(|t| (t.expires, t.id));
        for chunk in tickets.chunks(self.rows_per_insert) {
            let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO pow_spent (id, expires) ");
            insert.push_values(chunk, |mut row, t| {
                row.push_bind(&t.id[..]).push_bind(t.expires);
            });
            insert.build().persistent(false).execute(&mut *tx).await?;
        }
        for chunk in rows.chunks(self.rows_per_insert) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO reports (rid, id, force_id, key_id, envelope, day, purge_fuzz) ",
            );
            insert.push_values(chunk, |mut row, p| {
                row.push_bind(rid(&p.report.id))
                    .push_bind(&p.report.id[..])
                    .push_bind(p.report.force_id.as_str())
                    .push_bind(&p.report.key_id[..])
                    .push_bind(p.report.envelope.as_slice())
                    .push_bind(p.report.day)
                    .push_bind(p.purge_fuzz);
            });
            // Not cached: a cached statement would keep its last batch's
            // envelopes bound (in memory) until reused, and batch sizes vary.
            insert.build().persistent(false).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

impl BatchWriter for ReportWriter {
    async fn insert_batch(&self, rows: &[PendingReport]) -> Result<(), BatchError> {
        // Locked (and, after a failure, reopened) here, so that a writer that
        // cannot be opened answers `Unavailable` rather than a driver error.
        let mut conn = lock_writer(&self.writer).await.map_err(BatchError::Whole)?;
        match self.try_insert_batch(&mut conn, rows).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(BatchError::RowConstraint),
            Err(e) if is_constraint_violation(&e) => Err(BatchError::RowConstraint),
            Err(e) => Err(BatchError::Whole(db_error(e))),
        }
    }

    async fn insert_each(&self, rows: &[PendingReport]) -> Result<Vec<Result<()>>> {
        let mut conn = lock_writer(&self.writer).await?;
        let mut tx = begin_write(&mut conn).await?;
        let mut outcomes = Vec::with_capacity(rows.len());
        for p in rows {
            if key_retired(&mut tx, &p.report).await? {
                outcomes.push(Err(StorageError::UnknownKey(p.report.force_id.clone())));
                continue;
            }
            exec(&mut *tx, "SAVEPOINT one_report").await?;
            if let Some(ticket) = p.report.pow {
                let spent = sqlx::query("INSERT INTO pow_spent (id, expires) VALUES (?1, ?2)")
                    .bind(&ticket.id[..])
                    .bind(ticket.expires)
                    .execute(&mut *tx)
                    .await;
                match spent {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => {
                        exec(&mut *tx, "ROLLBACK TO SAVEPOINT one_report").await?;
                        exec(&mut *tx, "RELEASE SAVEPOINT one_report").await?;
                        outcomes.push(Err(StorageError::ChallengeSpent));
                        continue;
                    }
                    Err(e) => return Err(db_error(e)),
                }
            }
            let inserted = sqlx::query(
                "INSERT INTO reports (rid, id, force_id, key_id, envelope, day, purge_fuzz) \
                 VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(&p.report.id[..])
            .bind(p.report.force_id.as_str())
            .bind(&p.report.key_id[..])
            .bind(p.report.envelope.as_slice())
            .bind(p.report.day)
            .bind(p.purge_fuzz)
            .bind(rid(&p.report.id))
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {
                    exec(&mut *tx, "RELEASE SAVEPOINT one_report").await?;
                    outcomes.push(Ok(()));
                }
                Err(e) if is_constraint_violation(&e) => {
                    exec(&mut *tx, "ROLLBACK TO SAVEPOINT one_report").await?;
                    exec(&mut *tx, "RELEASE SAVEPOINT one_report").await?;
                    let why = explain_refusal(&mut tx, &p.report, &e).await?;
                    outcomes.push(Err(why));
                }
                // Not this row's fault: fail the whole transaction.
                Err(e) => return Err(db_error(e)),
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(outcomes)
    }
}

/// Whether the key `report` is sealed to is retired (checked in the write
/// transaction; see `ReportWriter::try_insert_batch`).
async fn key_retired(conn: &mut SqliteConnection, report: &NewReport) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 FROM force_keys WHERE force_id = ?1 AND key_id = ?2 AND status = 'retired'",
    )
    .bind(report.force_id.as_str())
    .bind(&report.key_id[..])
    .fetch_optional(conn)
    .await
    .map_err(db_error)?
    .is_some())
}

/// Turn a constraint violation on one report into the error its caller gets.
async fn explain_refusal(
    conn: &mut SqliteConnection,
    report: &NewReport,
    e: &sqlx::Error,
) -> Result<StorageError> {
    Ok(if is_foreign_key_violation(e) {
        if force_exists(&mut *conn, &report.force_id).await? {
            StorageError::UnknownKey(report.force_id.clone())
        } else {
            StorageError::UnknownForce(report.force_id.clone())
        }
    } else if is_unique_violation(e) {
        StorageError::Database("a report with that id already exists".into())
    } else {
        StorageError::Database(e.to_string())
    })
}

/// Settle every day before `today` that has reports and is not settled yet,
/// oldest first, each in its own transaction; returns how many were settled.
async fn settle_closed_days(conn: &mut SqliteConnection, today: Day) -> Result<u64> {
    let days: Vec<(Day,)> = sqlx::query_as(
        "SELECT DISTINCT day FROM reports WHERE day < ?1 \
         AND day NOT IN (SELECT day FROM settled_days) ORDER BY day",
    )
    .bind(today)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut settled = 0;
    for (day,) in days {
        if settle_day(conn, day).await? {
            settled += 1;
        }
    }
    Ok(settled)
}

/// Rewrite one closed day's reports in a random order and mark the day
/// settled, in one transaction; `false` if it already was (another process).
///
/// Why this way: a report of about 4 KiB or more keeps its envelope in
/// overflow pages, which SQLite appends to the file in commit order, so page
/// numbers would give the order reports arrived in. Here every report of the
/// day is copied to `settle_stage`, deleted from `reports` (its pages go to
/// the freelist, zeroed by secure_delete), and copied back one by one in a
/// random order: the copies take the freed pages, so which report sits where
/// follows the random order. Measured in tests/storage.rs
/// (`settling_a_closed_day_hides_arrival_order`).
///
/// Crash-safe: it is one transaction, so a crash leaves the day untouched
/// (and it is settled at the next purge) or done; a report is never lost or
/// doubled, since every copy back is checked and any shortfall rolls the
/// whole day back.
async fn settle_day(conn: &mut SqliteConnection, day: Day) -> Result<bool> {
    let mut tx = begin_write(conn).await?;
    let done = sqlx::query("SELECT 1 FROM settled_days WHERE day = ?1")
        .bind(day)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    if done.is_some() {
        return Ok(false);
    }
    let mut rids: Vec<(i64,)> = sqlx::query_as("SELECT rid FROM reports WHERE day = ?1")
        .bind(day)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    shuffle(&mut rids)?;
    let staged = sqlx::query(
        "INSERT INTO settle_stage (rid, id, force_id, key_id, day, purge_fuzz, envelope) \
         SELECT rid, id, force_id, key_id, day, purge_fuzz, envelope FROM reports WHERE day = ?1",
    )
    .bind(day)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    sqlx::query("DELETE FROM reports WHERE day = ?1")
        .bind(day)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let mut back = 0u64;
    for (rid,) in &rids {
        back += sqlx::query(
            "INSERT INTO reports (rid, id, force_id, key_id, day, purge_fuzz, envelope) \
             SELECT rid, id, force_id, key_id, day, purge_fuzz, envelope FROM settle_stage WHERE rid = ?1",
        )
        .bind(rid)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
    }
    if back != staged || usize::try_from(back).ok() != Some(rids.len()) {
        // Dropping `tx` rolls the day back: nothing lost, nothing doubled.
        return Err(StorageError::Database(format!(
            "settling day {day} moved {back} of {staged} reports; nothing was changed, run purge again"
        )));
    }
    exec(&mut *tx, "DELETE FROM settle_stage").await?;
    sqlx::query("INSERT INTO settled_days (day) VALUES (?1)")
        .bind(day)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(true)
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn add_force(&self, id: &str, name: &str) -> Result<()> {
        let mut w = self.writer().await?;
        let done = sqlx::query(
            "INSERT INTO forces (id, name) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .execute(&mut *w)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::ForceExists(id.to_owned()));
        }
        Ok(())
    }

    async fn forces(&self) -> Result<Vec<ForceEntry>> {
        let rows: Vec<ForceRow> = sqlx::query_as(
            "SELECT f.id, f.name, k.key_id, k.public_key FROM forces f \
             LEFT JOIN force_keys k ON k.force_id = f.id AND k.status = 'current' \
             ORDER BY f.id",
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(force_entry).collect()
    }

    async fn add_force_key(
        &self,
        force_id: &str,
        key_id: KeyId,
        public_key: Vec<u8>,
    ) -> Result<()> {
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        require_force(&mut *tx, force_id).await?;
        // Checked in the write transaction, so signing keys registered by
        // another process a moment ago are seen.
        let signed = sqlx::query("SELECT 1 FROM force_signing WHERE force_id = ?1")
            .bind(force_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if signed.is_some() {
            return Err(StorageError::StatementRequired(force_id.to_owned()));
        }
        let exists = sqlx::query(
            "SELECT 1 FROM force_keys WHERE (force_id = ?1 AND key_id = ?2) OR public_key = ?3",
        )
        .bind(force_id)
        .bind(&key_id[..])
        .bind(&public_key[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if exists.is_some() {
            return Err(StorageError::KeyExists);
        }
        sqlx::query(
            "UPDATE force_keys SET status = 'active' WHERE force_id = ?1 AND status = 'current'",
        )
        .bind(force_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO force_keys (force_id, key_id, public_key, status) VALUES (?1, ?2, ?3, 'current')",
        )
        .bind(force_id)
        .bind(&key_id[..])
        .bind(&public_key[..])
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StorageError::KeyExists } else { db_error(e) })?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    async fn set_force_signers(&self, force_id: &str, signers: StoredSigners) -> Result<()> {
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        require_force(&mut *tx, force_id).await?;
        let exists = sqlx::query("SELECT 1 FROM force_signing WHERE force_id = ?1")
            .bind(force_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if exists.is_some() {
            return Err(StorageError::SignersExist(force_id.to_owned()));
        }
        sqlx::query("INSERT INTO force_signing (force_id, threshold) VALUES (?1, ?2)")
            .bind(force_id)
            .bind(i64::from(signers.threshold))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        for key in &signers.keys {
            sqlx::query("INSERT INTO force_signers (force_id, public_key) VALUES (?1, ?2)")
                .bind(force_id)
                .bind(&key[..])
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    async fn force_signers(&self, force_id: &str) -> Result<Option<StoredSigners>> {
        require_force(&self.readers, force_id).await?;
        let threshold: Option<(i64,)> =
            sqlx::query_as("SELECT threshold FROM force_signing WHERE force_id = ?1")
                .bind(force_id)
                .fetch_optional(&self.readers)
                .await
                .map_err(db_error)?;
        let Some((threshold,)) = threshold else {
            return Ok(None);
        };
        let keys: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT public_key FROM force_signers WHERE force_id = ?1 ORDER BY public_key",
        )
        .bind(force_id)
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        Ok(Some(StoredSigners {
            keys: keys
                .into_iter()
                .map(|(k,)| fixed(k, "force_signers.public_key"))
                .collect::<Result<_>>()?,
            threshold: u8::try_from(threshold).map_err(|_| {
                StorageError::Database("corrupt row: force_signing.threshold".into())
            })?,
        }))
    }

    async fn add_signed_force_key(
        &self,
        force_id: &str,
        public_key: Vec<u8>,
        statement: StoredStatement,
    ) -> Result<()> {
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        require_force(&mut *tx, force_id).await?;
        let key_id = statement.key_id;
        let exists = sqlx::query(
            "SELECT 1 FROM force_keys WHERE (force_id = ?1 AND key_id = ?2) OR public_key = ?3",
        )
        .bind(force_id)
        .bind(&key_id[..])
        .bind(&public_key[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if exists.is_some() {
            return Err(StorageError::KeyExists);
        }
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT max(sequence) FROM key_statements WHERE force_id = ?1")
                .bind(force_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
        let next = last.map_or(0, |l| l as u64 + 1);
        if statement.sequence != next {
            return Err(StorageError::StatementOutOfOrder {
                force: force_id.to_owned(),
                got: statement.sequence,
                next,
            });
        }
        let sequence =
            i64::try_from(statement.sequence).map_err(|_| StorageError::StatementOutOfOrder {
                force: force_id.to_owned(),
                got: statement.sequence,
                next,
            })?;
        sqlx::query(
            "UPDATE force_keys SET status = 'active' WHERE force_id = ?1 AND status = 'current'",
        )
        .bind(force_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO force_keys (force_id, key_id, public_key, status) VALUES (?1, ?2, ?3, 'current')",
        )
        .bind(force_id)
        .bind(&key_id[..])
        .bind(&public_key[..])
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StorageError::KeyExists } else { db_error(e) })?;
        sqlx::query(
            "INSERT INTO key_statements (force_id, sequence, key_id, statement) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(force_id)
        .bind(sequence)
        .bind(&key_id[..])
        .bind(&statement.statement[..])
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        // The key log's next leaf, in the same transaction
        // (crypto/FORMAT.md#key-log). The single writer orders appends.
        sqlx::query(
            "INSERT INTO keylog_entries (idx, force_id, sequence, entry) \
             SELECT coalesce(max(idx) + 1, 0), ?1, ?2, ?3 FROM keylog_entries",
        )
        .bind(force_id)
        .bind(sequence)
        .bind(&statement.statement[..])
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    async fn key_statements(&self, force_id: &str) -> Result<Vec<StoredStatement>> {
        require_force(&self.readers, force_id).await?;
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT sequence, key_id, statement FROM key_statements WHERE force_id = ?1 ORDER BY sequence",
        )
        .bind(force_id)
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(sequence, key_id, statement)| {
                Ok(StoredStatement {
                    sequence: sequence as u64,
                    key_id: fixed(key_id, "key_statements.key_id")?,
                    statement,
                })
            })
            .collect()
    }

    async fn current_statements(&self) -> Result<Vec<(String, StoredStatement)>> {
        let rows: Vec<(String, i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT s.force_id, s.sequence, s.key_id, s.statement FROM key_statements s \
             JOIN force_keys k ON k.force_id = s.force_id AND k.key_id = s.key_id \
             WHERE k.status = 'current' ORDER BY s.force_id",
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(force, sequence, key_id, statement)| {
                Ok((
                    force,
                    StoredStatement {
                        sequence: sequence as u64,
                        key_id: fixed(key_id, "key_statements.key_id")?,
                        statement,
                    },
                ))
            })
            .collect()
    }

    async fn keylog_seed(&self, fresh: [u8; 32]) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        let mut w = self.writer().await?;
        sqlx::query("INSERT INTO keylog_key (id, seed) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING")
            .bind(&fresh[..])
            .execute(&mut *w)
            .await
            .map_err(db_error)?;
        let (seed,): (Vec<u8>,) = sqlx::query_as("SELECT seed FROM keylog_key WHERE id = 1")
            .fetch_one(&mut *w)
            .await
            .map_err(db_error)?;
        let seed = zeroize::Zeroizing::new(seed);
        Ok(zeroize::Zeroizing::new(fixed(
            seed.to_vec(),
            "keylog_key.seed",
        )?))
    }

    async fn keylog_size(&self) -> Result<u64> {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM keylog_entries")
            .fetch_one(&self.readers)
            .await
            .map_err(db_error)?;
        Ok(n as u64)
    }

    async fn keylog_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        if start >= end {
            return Ok(Vec::new());
        }
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT entry FROM keylog_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )
        .bind(i64::try_from(start).unwrap_or(i64::MAX))
        .bind(i64::try_from(end).unwrap_or(i64::MAX))
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    async fn keylog_current_positions(&self) -> Result<Vec<LogPosition>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT l.force_id, l.sequence, l.idx FROM keylog_entries l \
             JOIN key_statements s ON s.force_id = l.force_id AND s.sequence = l.sequence \
             JOIN force_keys k ON k.force_id = s.force_id AND k.key_id = s.key_id \
             WHERE k.status = 'current' ORDER BY l.force_id",
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(force_id, sequence, index)| LogPosition {
                force_id,
                sequence: sequence as u64,
                index: index as u64,
            })
            .collect())
    }

    async fn retire_force_key(&self, force_id: &str, key_id: KeyId) -> Result<()> {
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        require_force(&mut *tx, force_id).await?;
        let status: Option<(String,)> =
            sqlx::query_as("SELECT status FROM force_keys WHERE force_id = ?1 AND key_id = ?2")
                .bind(force_id)
                .bind(&key_id[..])
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        match status {
            None => return Err(StorageError::UnknownKey(force_id.to_owned())),
            Some((s,)) if parse_status(&s)? == KeyStatus::Current => {
                return Err(StorageError::RetireCurrent(force_id.to_owned()));
            }
            Some(_) => {}
        }
        sqlx::query("UPDATE force_keys SET status = ?3 WHERE force_id = ?1 AND key_id = ?2")
            .bind(force_id)
            .bind(&key_id[..])
            .bind(status_name(KeyStatus::Retired))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    async fn force_keys(&self, force_id: &str) -> Result<Vec<ForceKey>> {
        require_force(&self.readers, force_id).await?;
        let rows: Vec<(Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
            "SELECT key_id, public_key, status FROM force_keys WHERE force_id = ?1 \
             ORDER BY CASE status WHEN 'current' THEN 0 WHEN 'active' THEN 1 ELSE 2 END, key_id",
        )
        .bind(force_id)
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(force_key).collect()
    }

    async fn key_status(&self, force_id: &str, key_id: KeyId) -> Result<Option<KeyStatus>> {
        // Every intake asks, so a key retired by an admin command (in any
        // process or instance) is refused from the next request on. The force
        // check runs only when the key is unknown.
        let status: Option<(String,)> =
            sqlx::query_as("SELECT status FROM force_keys WHERE force_id = ?1 AND key_id = ?2")
                .bind(force_id)
                .bind(&key_id[..])
                .fetch_optional(&self.readers)
                .await
                .map_err(db_error)?;
        match status {
            Some((s,)) => {
                let status = parse_status(&s)?;
                Ok(Some(status))
            }
            None => {
                require_force(&self.readers, force_id).await?;
                Ok(None)
            }
        }
    }

    async fn add_token(&self, hash: TokenHash, force_id: &str, label: &str) -> Result<()> {
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        require_force(&mut *tx, force_id).await?;
        let taken = sqlx::query("SELECT 1 FROM handler_tokens WHERE force_id = ?1 AND label = ?2")
            .bind(force_id)
            .bind(label)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if taken.is_some() {
            return Err(StorageError::TokenLabelExists(
                force_id.to_owned(),
                label.to_owned(),
            ));
        }
        sqlx::query(
            "INSERT INTO handler_tokens (hash, force_id, label, revoked) VALUES (?1, ?2, ?3, 0)",
        )
        .bind(&hash[..])
        .bind(force_id)
        .bind(label)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                // The label was checked above, so it is the hash.
                StorageError::Database("a token with that hash is already registered".into())
            } else {
                db_error(e)
            }
        })?;
        tx.commit().await.map_err(db_error)
    }

    async fn revoke_token(&self, force_id: &str, label: &str) -> Result<()> {
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        require_force(&mut *tx, force_id).await?;
        let done =
            sqlx::query("UPDATE handler_tokens SET revoked = 1 WHERE force_id = ?1 AND label = ?2")
                .bind(force_id)
                .bind(label)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::UnknownToken(
                force_id.to_owned(),
                label.to_owned(),
            ));
        }
        tx.commit().await.map_err(db_error)
    }

    async fn token_force(&self, hash: TokenHash) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT force_id FROM handler_tokens WHERE hash = ?1 AND revoked = 0")
                .bind(&hash[..])
                .fetch_optional(&self.readers)
                .await
                .map_err(db_error)?;
        Ok(row.map(|(f,)| f))
    }

    async fn tokens(&self, force_id: Option<&str>) -> Result<Vec<TokenInfo>> {
        let rows: Vec<(String, String, bool)> = match force_id {
            Some(f) => {
                require_force(&self.readers, f).await?;
                sqlx::query_as(
                    "SELECT force_id, label, revoked FROM handler_tokens WHERE force_id = ?1 ORDER BY label",
                )
                .bind(f)
                .fetch_all(&self.readers)
                .await
            }
            None => {
                sqlx::query_as(
                    "SELECT force_id, label, revoked FROM handler_tokens ORDER BY force_id, label",
                )
                .fetch_all(&self.readers)
                .await
            }
        }
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(force_id, label, revoked)| TokenInfo {
                force_id,
                label,
                revoked,
            })
            .collect())
    }

    async fn insert_report(&self, report: NewReport) -> Result<()> {
        self.reports.insert(report).await
    }

    async fn inbox(
        &self,
        force_id: &str,
        after: Option<ReportId>,
        limit: u32,
    ) -> Result<Vec<InboxEntry>> {
        // An empty blob sorts before every id, so `None` needs no second query.
        let after = after.map(|a| a.to_vec()).unwrap_or_default();
        let rows: Vec<(Vec<u8>, Vec<u8>, Day)> = sqlx::query_as(INBOX_PAGE)
            .bind(force_id)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.readers)
            .await
            .map_err(db_error)?;
        if rows.is_empty() {
            require_force(&self.readers, force_id).await?;
        }
        rows.into_iter()
            .map(|(id, key_id, day)| {
                Ok(InboxEntry {
                    id: fixed(id, "reports.id")?,
                    key_id: fixed(key_id, "reports.key_id")?,
                    day,
                })
            })
            .collect()
    }

    async fn report(&self, force_id: &str, id: ReportId) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT envelope FROM reports WHERE rid = ?3 AND id = ?2 AND force_id = ?1",
        )
        .bind(force_id)
        .bind(&id[..])
        .bind(rid(&id))
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        if row.is_none() {
            require_force(&self.readers, force_id).await?;
        }
        Ok(row.map(|(e,)| e))
    }

    async fn reports(&self, force_id: &str, ids: &[ReportId]) -> Result<Vec<(ReportId, Vec<u8>)>> {
        let wanted = dedup(ids);
        let mut found: HashMap<ReportId, Vec<u8>> = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(SLOTS_PER_SELECT) {
            let mut select = QueryBuilder::<Sqlite>::new("");
            push_reports_select(&mut select, force_id, chunk);
            let rows: Vec<(Vec<u8>, Vec<u8>)> = select
                .build_query_as()
                .fetch_all(&self.readers)
                .await
                .map_err(db_error)?;
            for (id, envelope) in rows {
                found.insert(fixed(id, "reports.id")?, envelope);
            }
        }
        if found.is_empty() {
            require_force(&self.readers, force_id).await?;
        }
        // `in_request_order` keeps only the ids asked for: a row whose rowid
        // matched but whose full id differs is dropped here.
        Ok(in_request_order(wanted, found))
    }

    async fn put_slot(
        &self,
        address: SlotAddress,
        envelope: Vec<u8>,
        day: Day,
    ) -> Result<SlotWrite> {
        let fuzz = purge_fuzz(1)?[0];
        let mut w = self.writer().await?;
        // One statement in autocommit mode: its own durable transaction.
        let done = sqlx::query(
            "INSERT INTO reply_slots (address, envelope, day, purge_fuzz) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (address) DO NOTHING",
        )
        .bind(&address[..])
        .bind(envelope)
        .bind(day)
        .bind(fuzz)
        .execute(&mut *w)
        .await
        .map_err(db_error)?;
        Ok(if done.rows_affected() == 0 {
            SlotWrite::Taken
        } else {
            SlotWrite::Stored
        })
    }

    async fn slot(&self, address: SlotAddress) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT envelope FROM reply_slots WHERE address = ?1")
                .bind(&address[..])
                .fetch_optional(&self.readers)
                .await
                .map_err(db_error)?;
        Ok(row.map(|(e,)| e))
    }

    async fn slots(&self, addresses: &[SlotAddress]) -> Result<Vec<(SlotAddress, Vec<u8>)>> {
        let wanted = dedup(addresses);
        let mut found: HashMap<SlotAddress, Vec<u8>> = HashMap::new();
        for chunk in wanted.chunks(SLOTS_PER_SELECT) {
            let mut select = QueryBuilder::<Sqlite>::new(
                "SELECT address, envelope FROM reply_slots WHERE address IN (",
            );
            let mut list = select.separated(", ");
            for a in chunk {
                list.push_bind(&a[..]);
            }
            select.push(")");
            let rows: Vec<(Vec<u8>, Vec<u8>)> = select
                .build_query_as()
                .fetch_all(&self.readers)
                .await
                .map_err(db_error)?;
            for (address, envelope) in rows {
                found.insert(fixed(address, "reply_slots.address")?, envelope);
            }
        }
        Ok(in_request_order(wanted, found))
    }

    async fn put_copy(&self, copy: NewCopy, limits: CopyLimits) -> Result<CopyWrite> {
        let fuzz = purge_fuzz(1)?[0];
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)
            .map_err(|_| StorageError::Database("the OS random number generator failed".into()))?;
        let mut w = self.writer().await?;
        // IMMEDIATE: the count and the insert see the same box, whoever else
        // writes (another process on the same file included).
        let mut tx = begin_write(&mut w).await?;
        let (count, bytes): (i64, i64) = sqlx::query_as(
            "SELECT count(*), coalesce(sum(length(envelope)), 0) FROM reporter_copies WHERE copy_box = ?1",
        )
        .bind(&copy.copy_box[..])
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        let len = i64::try_from(copy.envelope.len()).unwrap_or(i64::MAX);
        if count >= i64::from(limits.count)
            || bytes.saturating_add(len) > i64::try_from(limits.bytes).unwrap_or(i64::MAX)
        {
            // Dropping the transaction rolls it back: nothing was written.
            return Ok(CopyWrite::Full);
        }
        if let Some(ticket) = copy.pow {
            let spent = sqlx::query(
                "INSERT INTO pow_spent (id, expires) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )
            .bind(&ticket.id[..])
            .bind(ticket.expires)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            if spent.rows_affected() == 0 {
                return Err(StorageError::ChallengeSpent);
            }
        }
        sqlx::query(
            "INSERT INTO reporter_copies (copy_box, id, envelope, day, purge_fuzz) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&copy.copy_box[..])
        .bind(&id[..])
        .bind(copy.envelope)
        .bind(copy.day)
        .bind(fuzz)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(CopyWrite::Stored)
    }

    async fn copies(&self, copy_box: SlotAddress) -> Result<Vec<Vec<u8>>> {
        let rows: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT envelope FROM reporter_copies WHERE copy_box = ?1 ORDER BY id")
                .bind(&copy_box[..])
                .fetch_all(&self.readers)
                .await
                .map_err(db_error)?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    async fn purge(&self, today: Day, retention_days: u32) -> Result<Purged> {
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        // Kept through day + retention + fuzz; deleted the day after.
        let reports = sqlx::query("DELETE FROM reports WHERE day + ?1 + purge_fuzz < ?2")
            .bind(i64::from(retention_days))
            .bind(i64::from(today))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        let slots = sqlx::query("DELETE FROM reply_slots WHERE day + ?1 + purge_fuzz < ?2")
            .bind(i64::from(retention_days))
            .bind(i64::from(today))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        // Copies: the same retention as replies (crypto/FORMAT.md#own-copies).
        let copies = sqlx::query("DELETE FROM reporter_copies WHERE day + ?1 + purge_fuzz < ?2")
            .bind(i64::from(retention_days))
            .bind(i64::from(today))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        // A settled day whose last report is gone needs no mark any more.
        exec(
            &mut *tx,
            "DELETE FROM settled_days WHERE day NOT IN (SELECT day FROM reports)",
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        let days_settled = settle_closed_days(&mut w, today).await?;
        // secure_delete has zeroed the deleted cells and freed pages, but the
        // WAL still holds the frames written when the rows were inserted (and
        // the zeroed pages are themselves only in the WAL until checkpointed).
        // TRUNCATE copies every frame into the main file, fsyncs it, and
        // truncates the WAL to zero bytes. It waits (busy timeout) for readers
        // on older snapshots; if they still block it, say so, since the bytes
        // would then still be in the WAL (running purge again finishes it).
        // The same goes for a settled day: until the WAL is truncated it
        // still holds that day's frames in the order they were committed.
        let _paused = self.checkpoints.pause().await;
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *w)
            .await
            .map_err(db_error)?;
        if busy != 0 {
            return Err(StorageError::Database(
                "rows were deleted but the WAL checkpoint was blocked by a reader; run purge again"
                    .into(),
            ));
        }
        Ok(Purged {
            reports,
            slots,
            copies,
            days_settled,
        })
    }

    async fn pow_key(&self, fresh: [u8; 32]) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        let mut w = self.writer().await?;
        sqlx::query("INSERT INTO pow_key (id, key) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING")
            .bind(&fresh[..])
            .execute(&mut *w)
            .await
            .map_err(db_error)?;
        let (key,): (Vec<u8>,) = sqlx::query_as("SELECT key FROM pow_key WHERE id = 1")
            .fetch_one(&mut *w)
            .await
            .map_err(db_error)?;
        let key = zeroize::Zeroizing::new(key);
        Ok(zeroize::Zeroizing::new(fixed(key.to_vec(), "pow_key.key")?))
    }

    async fn forget_spent(&self, now: i64) -> Result<u64> {
        let mut w = self.writer().await?;
        Ok(sqlx::query("DELETE FROM pow_spent WHERE expires <= ?1")
            .bind(now)
            .execute(&mut *w)
            .await
            .map_err(db_error)?
            .rows_affected())
    }

    fn pressure(&self) -> Pressure {
        self.reports.pressure()
    }

    async fn create_blob(&self, blob: NewBlob) -> Result<()> {
        self.blob_create(blob).await
    }

    async fn blob_status(&self, id: BlobId) -> Result<Option<BlobStatus>> {
        self.blob_status_of(id).await
    }

    async fn put_blob_part(&self, id: BlobId, n: u32, data: Vec<u8>) -> Result<PartWrite> {
        self.blob_put_part(id, n, data).await
    }

    async fn blob_len(&self, force_id: &str, id: BlobId) -> Result<Option<u64>> {
        self.blob_len_of(force_id, id).await
    }

    async fn blob_part(&self, force_id: &str, id: BlobId, n: u32) -> Result<Option<Vec<u8>>> {
        self.blob_part_of(force_id, id, n).await
    }

    async fn reference_blob(&self, force_id: &str, id: BlobId) -> Result<()> {
        self.blob_reference(force_id, id).await
    }

    async fn purge_blobs(
        &self,
        today: Day,
        retention_days: u32,
        unreferenced_days: u32,
    ) -> Result<PurgedBlobs> {
        self.blob_purge(today, retention_days, unreferenced_days)
            .await
    }

    async fn close(&self) {
        // Order matters: drain reports first (they need the writer), then the
        // read-only connections, then the writer last, so that the last
        // connection to close is a writable one and SQLite checkpoints the WAL
        // into the main file and removes it.
        self.reports.close().await;
        self.checkpoints.close().await;
        self.readers.close().await;
        let writer = {
            let mut slot = self.writer.lock().await;
            slot.closed = true;
            slot.conn.take()
        };
        if let Some(conn) = writer {
            // Nothing useful to do on a failed close: every commit was already
            // durable when it was acknowledged.
            let _ = conn.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(dir: &Path) -> String {
        format!("sqlite://{}", dir.join("unit.sqlite").display())
    }

    async fn with_force(db: &SqliteStorage) {
        db.add_force("f", "F").await.unwrap();
        db.add_force_key("f", [1; 8], vec![1; 32]).await.unwrap();
    }

    /// A batch larger than one statement's share of bind parameters is split
    /// into several INSERTs inside one transaction.
    #[tokio::test]
    async fn batches_are_chunked_under_the_bind_limit() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteStorage::open(&url(dir.path())).await.unwrap();
        with_force(&db).await;
        let writer = ReportWriter {
            writer: db.writer.clone(),
            rows_per_insert: 3,
        };
        let rows: Vec<PendingReport> = (0..10u8)
            .map(|n| PendingReport {
                report: NewReport {
                    id: [n; 16],
                    force_id: "f".into(),
                    key_id: [1; 8],
                    envelope: vec![n; 64],
                    day: 1,
                    pow: None,
                },
                purge_fuzz: 0,
            })
            .collect();
        writer.insert_batch(&rows).await.unwrap();
        let inbox = db.inbox("f", None, 100).await.unwrap();
        assert_eq!(inbox.len(), 10);
        db.close().await;
    }

    /// A chunked batch whose last chunk fails leaves nothing behind.
    #[tokio::test]
    async fn a_failed_chunk_rolls_back_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteStorage::open(&url(dir.path())).await.unwrap();
        with_force(&db).await;
        let writer = ReportWriter {
            writer: db.writer.clone(),
            rows_per_insert: 2,
        };
        let rows: Vec<PendingReport> = (0..5u8)
            .map(|n| PendingReport {
                report: NewReport {
                    id: [n; 16],
                    force_id: "f".into(),
                    // The last row names a key that does not exist.
                    key_id: if n == 4 { [9; 8] } else { [1; 8] },
                    envelope: vec![n; 64],
                    day: 1,
                    pow: None,
                },
                purge_fuzz: 0,
            })
            .collect();
        assert!(matches!(
            writer.insert_batch(&rows).await,
            Err(BatchError::RowConstraint)
        ));
        assert!(db.inbox("f", None, 100).await.unwrap().is_empty());
        let outcomes = writer.insert_each(&rows).await.unwrap();
        assert!(outcomes[..4].iter().all(|o| o.is_ok()));
        assert!(matches!(&outcomes[4], Err(StorageError::UnknownKey(f)) if f == "f"));
        assert_eq!(db.inbox("f", None, 100).await.unwrap().len(), 4);
        db.close().await;
    }

    /// A writer left inside a transaction (as when a COMMIT fails after
    /// SQLite has already rolled back by itself: sqlx's ROLLBACK then fails
    /// and it still counts the transaction as open) is replaced before its
    /// next use, so later writes work and are committed (issue 15, item 12).
    #[tokio::test]
    async fn a_writer_left_inside_a_transaction_is_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteStorage::open(&url(dir.path())).await.unwrap();
        {
            let mut w = db.writer().await.unwrap();
            let tx = begin_write(&mut w).await.unwrap();
            // Neither committed nor rolled back, and sqlx is never told.
            std::mem::forget(tx);
        }
        // add_force writes in autocommit mode, add_force_key in a
        // transaction of its own: both failed (or stayed uncommitted) before.
        with_force(&db).await;
        let forces = db.forces().await.unwrap();
        assert_eq!(forces.len(), 1, "committed, so the readers see it");
        assert!(forces[0].current_key.is_some());
        assert!(!db.writer().await.unwrap().is_in_transaction());
        db.close().await;
    }

    /// The statements whose cost must not grow with the inbox use the plan
    /// that keeps it so: the batched fetch searches by rowid (not the force's
    /// whole inbox index, as it once did), and a listing page is a range of
    /// the covering inbox index.
    #[tokio::test]
    async fn batched_fetch_searches_by_rowid() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteStorage::open(&url(dir.path())).await.unwrap();
        let ids: Vec<ReportId> = (0..32u8).map(|n| [n; 16]).collect();
        let mut explain = QueryBuilder::<Sqlite>::new("EXPLAIN QUERY PLAN ");
        push_reports_select(&mut explain, "f", &ids);
        let plan: Vec<String> = explain
            .build_query_as::<(i64, i64, i64, String)>()
            .fetch_all(&db.readers)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.3)
            .collect();
        assert_eq!(plan, ["SEARCH reports USING INTEGER PRIMARY KEY (rowid=?)"]);
        let (.., detail): (i64, i64, i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {INBOX_PAGE}"
        )))
        .bind("f")
        .bind(Vec::<u8>::new())
        .bind(1000i64)
        .fetch_one(&db.readers)
        .await
        .unwrap();
        assert_eq!(
            detail,
            "SEARCH reports USING COVERING INDEX reports_inbox (force_id=? AND id>?)"
        );
        db.close().await;
    }

    /// The writer really runs with the durability and deletion settings.
    #[tokio::test]
    async fn writer_settings() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteStorage::open(&url(dir.path())).await.unwrap();
        let mut w = db.writer().await.unwrap();
        let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *w)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        for (pragma, want) in [
            ("PRAGMA synchronous", 2), // FULL
            ("PRAGMA secure_delete", 1),
            ("PRAGMA foreign_keys", 1),
            ("PRAGMA busy_timeout", BUSY_TIMEOUT.as_millis() as i64),
        ] {
            let (got,): (i64,) = sqlx::query_as(pragma).fetch_one(&mut *w).await.unwrap();
            assert_eq!(got, want, "{pragma}");
        }
        drop(w);
        db.close().await;
    }

    #[tokio::test]
    async fn in_memory_and_other_urls_are_refused() {
        for bad in [
            "sqlite://:memory:",
            "sqlite://",
            "sqlite://x.db?mode=memory",
            "postgres://x",
        ] {
            assert!(SqliteStorage::open(bad).await.is_err(), "{bad}");
        }
    }
}

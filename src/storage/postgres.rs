//! PostgreSQL backend: the scale-out path, several stateless server instances
//! on one database.
//!
//! It owns a connection pool used for reads and writes, with
//! `synchronous_commit = on` forced per session so a commit is on disk (WAL
//! fsynced) before it is acknowledged, whatever the server's default. Reports
//! are group-committed (see [`super::group_commit`]) as one
//! `INSERT … SELECT * FROM UNNEST(…)` per batch. Per-force admin changes lock
//! the force's row so two instances cannot interleave them.
//!
//! It does not validate envelopes or ids (the intake does). Every tuple
//! carries the id of the transaction that wrote it (`xmin`), which orders
//! commits, and sits where it was appended (`ctid`, TOAST chunk ids); group
//! commit and id-ordered batches blur that order only within a batch, until
//! purge settles the day (rewrites it in a random order) and rewrites the
//! table with VACUUM FULL, which also removes deleted rows from the files
//! (see `rewrite_tables` and threat-model/residual-risks.md). It refuses a
//! server with `track_commit_timestamp = on`.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, PgExecutor};

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

#[path = "postgres_blobs.rs"]
mod blobs;

/// Migrations embedded at build time from `migrations/postgres/`.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Pool size per server instance.
const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a free pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The advisory-lock key that serializes purges across instances ("QLPG").
const PURGE_LOCK: i64 = 0x514C_5047;

/// The first key of the advisory lock a copy write takes on its box ("QLCP");
/// the second is the box's first four bytes.
const COPY_LOCK_CLASS: i32 = 0x514C_4350;

/// How long a purge waits for transactions older than its deletes to end
/// before it rewrites the tables (see `rewrite_tables`).
const REWRITE_WAIT: Duration = Duration::from_secs(60);

/// How often it looks meanwhile.
const REWRITE_POLL: Duration = Duration::from_millis(100);

/// PostgreSQL storage. Create with [`PostgresStorage::open`] (or `storage::open`).
pub struct PostgresStorage {
    pool: PgPool,
    reports: GroupCommit,
}

impl PostgresStorage {
    /// Connect to a `postgres://` / `postgresql://` URL, apply migrations
    /// (serialized across instances by sqlx's advisory lock) and start the
    /// report writer. Must be called inside a tokio runtime.
    pub async fn open(url: &str) -> Result<Self> {
        let options = connect_options(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        let (setting,): (String,) = sqlx::query_as("SHOW track_commit_timestamp")
            .fetch_one(&pool)
            .await
            .map_err(db_error)?;
        if let Err(e) = refuse_commit_timestamps(&setting) {
            pool.close().await;
            return Err(e);
        }
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StorageError::Database(format!("applying PostgreSQL migrations: {e}")))?;
        // sqlx records when each migration was applied, to the second: a time
        // of day in the database. Keep only that it was applied.
        sqlx::query(
            "UPDATE _sqlx_migrations SET installed_on = 'epoch' WHERE installed_on <> 'epoch'",
        )
        .execute(&pool)
        .await
        .map_err(db_error)?;
        let reports = GroupCommit::start(ReportWriter { pool: pool.clone() }, Limits::default());
        Ok(PostgresStorage { pool, reports })
    }
}

/// Refuse a server that records commit timestamps, given its
/// `SHOW track_commit_timestamp`.
///
/// Why: with it on, PostgreSQL keeps the time of every commit (to the
/// microsecond, queryable with `pg_xact_commit_timestamp(xmin)`), which
/// would date each report far finer than the day the server stores. It is
/// a server-wide setting only the operator can change, so the server stops
/// and says how.
pub fn refuse_commit_timestamps(setting: &str) -> Result<()> {
    if setting.trim().eq_ignore_ascii_case("off") {
        Ok(())
    } else {
        Err(StorageError::Database(format!(
            "PostgreSQL has track_commit_timestamp = {setting}: it records the time of every commit, \
             which would date each report to the microsecond (Quietline keeps only the day). \
             Turn it off (ALTER SYSTEM SET track_commit_timestamp = off, or set it in postgresql.conf) \
             and restart PostgreSQL (restarted with it off, PostgreSQL deletes what it recorded in \
             pg_commit_ts/)"
        )))
    }
}

/// Connection options: the URL's, plus our durability and logging settings.
fn connect_options(url: &str) -> Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)
        .map_err(|e| StorageError::Database(format!("invalid PostgreSQL URL: {e}")))?
        // Durability must not depend on the server's or database's default.
        .options([("synchronous_commit", "on")])
        // sqlx would log each statement (and slow ones as warnings) with a
        // timestamp: that would date arrivals in the logs.
        .disable_statement_logging())
}

async fn force_exists<'e>(e: impl PgExecutor<'e>, force_id: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM forces WHERE id = $1")
        .bind(force_id)
        .fetch_optional(e)
        .await
        .map_err(db_error)?
        .is_some())
}

/// `UnknownForce` unless the force exists.
async fn require_force<'e>(e: impl PgExecutor<'e>, force_id: &str) -> Result<()> {
    if force_exists(e, force_id).await? {
        Ok(())
    } else {
        Err(StorageError::UnknownForce(force_id.to_owned()))
    }
}

/// Lock the force's row for the rest of the transaction (serializes key and
/// token changes of one force across instances); `UnknownForce` if missing.
async fn lock_force<'e>(e: impl PgExecutor<'e>, force_id: &str) -> Result<()> {
    let row = sqlx::query("SELECT 1 FROM forces WHERE id = $1 FOR UPDATE")
        .bind(force_id)
        .fetch_optional(e)
        .await
        .map_err(db_error)?;
    match row {
        Some(_) => Ok(()),
        None => Err(StorageError::UnknownForce(force_id.to_owned())),
    }
}

async fn exec<'e>(e: impl PgExecutor<'e>, sql: &'static str) -> Result<()> {
    sqlx::query(sql)
        .execute(e)
        .await
        .map_err(db_error)
        .map(|_| ())
}

/// Writes report batches through the pool.
struct ReportWriter {
    pool: PgPool,
}

impl BatchWriter for ReportWriter {
    async fn insert_batch(&self, rows: &[PendingReport]) -> Result<(), BatchError> {
        // One statement binding six arrays, whatever the batch size: no
        // bind-parameter limit to chunk around and one plan to cache. A lone
        // statement outside BEGIN is its own transaction, committed (and,
        // with synchronous_commit = on, flushed) before it returns.
        //
        // The batch's spent challenges go in the same statement (a
        // data-modifying CTE), so a report is stored if and only if its
        // challenge is recorded as spent, across every instance sharing the
        // database (crypto/FORMAT.md#verifying, step 8). A replayed challenge
        // fails the statement with a unique violation; the rows are then
        // retried one by one.
        //
        // The keys are checked in the same statement (one snapshot): if any
        // row's key is retired, nothing is written and the rows are retried
        // one by one to say whose. The server's check before queueing may be
        // stale (intake/keys.rs); this one is not. The foreign key refuses keys
        // that were never registered.
        let tickets: Vec<PowTicket> = rows.iter().filter_map(|p| p.report.pow).collect();
        let written = sqlx::query(
            "WITH retired AS (SELECT 1 FROM force_keys k, UNNEST($2::text[], $3::bytea[]) AS u (force_id, key_id) \
             WHERE k.force_id = u.force_id AND k.key_id = u.key_id AND k.status = 'retired' LIMIT 1), \
             spent AS (INSERT INTO pow_spent (id, expires) \
             SELECT * FROM UNNEST($7::bytea[], $8::int8[]) WHERE NOT EXISTS (SELECT 1 FROM retired)) \
             INSERT INTO reports (id, force_id, key_id, envelope, day, purge_fuzz) \
             SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::bytea[], $4::bytea[], $5::int4[], $6::int2[]) \
             WHERE NOT EXISTS (SELECT 1 FROM retired)",
        )
        .bind(rows.iter().map(|p| &p.report.id[..]).collect::<Vec<_>>())
        .bind(rows.iter().map(|p| p.report.force_id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|p| &p.report.key_id[..]).collect::<Vec<_>>())
        .bind(rows.iter().map(|p| p.report.envelope.as_slice()).collect::<Vec<_>>())
        .bind(rows.iter().map(|p| p.report.day).collect::<Vec<_>>())
        .bind(rows.iter().map(|p| p.purge_fuzz).collect::<Vec<_>>())
        .bind(tickets.iter().map(|t| &t.id[..]).collect::<Vec<_>>())
        .bind(tickets.iter().map(|t| t.expires).collect::<Vec<_>>())
        .execute(&self.pool)
        .await;
        match written {
            Ok(done) if usize::try_from(done.rows_affected()).ok() == Some(rows.len()) => Ok(()),
            // A retired key: nothing was written.
            Ok(_) => Err(BatchError::RowConstraint),
            Err(e) if is_constraint_violation(&e) => Err(BatchError::RowConstraint),
            Err(e) => Err(BatchError::Whole(db_error(e))),
        }
    }

    async fn insert_each(&self, rows: &[PendingReport]) -> Result<Vec<Result<()>>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let mut outcomes = Vec::with_capacity(rows.len());
        for p in rows {
            if key_retired(&mut *tx, &p.report).await? {
                outcomes.push(Err(StorageError::UnknownKey(p.report.force_id.clone())));
                continue;
            }
            // In PostgreSQL an error aborts the whole transaction unless it
            // is rolled back to a savepoint.
            exec(&mut *tx, "SAVEPOINT one_report").await?;
            if let Some(ticket) = p.report.pow {
                let spent = sqlx::query("INSERT INTO pow_spent (id, expires) VALUES ($1, $2)")
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
                "INSERT INTO reports (id, force_id, key_id, envelope, day, purge_fuzz) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&p.report.id[..])
            .bind(p.report.force_id.as_str())
            .bind(&p.report.key_id[..])
            .bind(p.report.envelope.as_slice())
            .bind(p.report.day)
            .bind(p.purge_fuzz)
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
                    let why = explain_refusal(&mut *tx, &p.report, &e).await?;
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

/// Mark `table` for a VACUUM FULL (see `PostgresStorage::rewrite_tables`).
async fn rewrite_due<'e>(e: impl PgExecutor<'e>, table: &'static str) -> Result<()> {
    sqlx::query("INSERT INTO rewrite_due (tbl) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(table)
        .execute(e)
        .await
        .map_err(db_error)
        .map(|_| ())
}

/// Whether the key `report` is sealed to is retired (checked in the writing
/// transaction; see `insert_batch`).
async fn key_retired<'e>(e: impl PgExecutor<'e>, report: &NewReport) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 FROM force_keys WHERE force_id = $1 AND key_id = $2 AND status = 'retired'",
    )
    .bind(report.force_id.as_str())
    .bind(&report.key_id[..])
    .fetch_optional(e)
    .await
    .map_err(db_error)?
    .is_some())
}

/// Turn a constraint violation on one report into the error its caller gets.
async fn explain_refusal<'e>(
    e: impl PgExecutor<'e>,
    report: &NewReport,
    err: &sqlx::Error,
) -> Result<StorageError> {
    Ok(if is_foreign_key_violation(err) {
        if force_exists(e, &report.force_id).await? {
            StorageError::UnknownKey(report.force_id.clone())
        } else {
            StorageError::UnknownForce(report.force_id.clone())
        }
    } else if is_unique_violation(err) {
        StorageError::Database("a report with that id already exists".into())
    } else {
        StorageError::Database(err.to_string())
    })
}

impl PostgresStorage {
    /// [`Storage::purge`], holding the purge lock.
    async fn purge_locked(&self, today: Day, retention_days: u32) -> Result<Purged> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // Kept through day + retention + fuzz; deleted the day after. bigint
        // arithmetic: retention is a u32 and must not overflow int4.
        let reports = sqlx::query(
            "DELETE FROM reports WHERE day::bigint + purge_fuzz + $1::bigint < $2::bigint",
        )
        .bind(i64::from(retention_days))
        .bind(i64::from(today))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        let slots = sqlx::query(
            "DELETE FROM reply_slots WHERE day::bigint + purge_fuzz + $1::bigint < $2::bigint",
        )
        .bind(i64::from(retention_days))
        .bind(i64::from(today))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if reports > 0 {
            rewrite_due(&mut *tx, "reports").await?;
        }
        if slots > 0 {
            rewrite_due(&mut *tx, "reply_slots").await?;
        }
        // Copies: the same retention as replies (crypto/FORMAT.md#own-copies).
        let copies = sqlx::query(
            "DELETE FROM reporter_copies WHERE day::bigint + purge_fuzz + $1::bigint < $2::bigint",
        )
        .bind(i64::from(retention_days))
        .bind(i64::from(today))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if copies > 0 {
            rewrite_due(&mut *tx, "reporter_copies").await?;
        }
        // A settled day whose last report is gone needs no mark any more.
        exec(
            &mut *tx,
            "DELETE FROM settled_days WHERE day NOT IN (SELECT day FROM reports)",
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        let days_settled = self.settle_closed_days(today).await?;
        self.rewrite_tables().await?;
        Ok(Purged {
            reports,
            slots,
            copies,
            days_settled,
        })
    }

    /// VACUUM FULL every table marked in `rewrite_due`, once no transaction
    /// older than the deletes is open, and clear its mark.
    ///
    /// Why: a DELETE leaves the rows in the table files as dead tuples,
    /// bytes included, and plain VACUUM only marks their space free (it does
    /// not zero it; tests/storage.rs shows both). VACUUM FULL writes the live
    /// rows into new files and truncates the old ones at commit, so no purged
    /// envelope, and no copy of a settled day in its old order, is left in
    /// the table files. But it copies a dead row too while any transaction
    /// that could still see it is open — on PostgreSQL 15 a transaction that
    /// wrote in any database of the server, or a snapshot in this one — so
    /// wait for those to end first ([`REWRITE_WAIT`]), or say so and leave
    /// the mark for the next purge. The cost: an ACCESS EXCLUSIVE lock on the
    /// table while it is rewritten (intake and reads wait);
    /// see README#running-on-postgresql.
    async fn rewrite_tables(&self) -> Result<()> {
        let due: Vec<(String,)> = sqlx::query_as("SELECT tbl FROM rewrite_due ORDER BY tbl")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        if due.is_empty() {
            return Ok(());
        }
        self.wait_for_older_transactions().await?;
        for (table,) in due {
            let vacuum = match table.as_str() {
                "reports" => "VACUUM (FULL) reports",
                "reply_slots" => "VACUUM (FULL) reply_slots",
                "reporter_copies" => "VACUUM (FULL) reporter_copies",
                "blobs" => "VACUUM (FULL) blobs",
                "blob_parts" => "VACUUM (FULL) blob_parts",
                // The column's CHECK constraint allows no other name.
                other => {
                    return Err(StorageError::Database(format!(
                        "corrupt row: rewrite_due names {other:?}"
                    )));
                }
            };
            exec(&self.pool, vacuum).await?;
            sqlx::query("DELETE FROM rewrite_due WHERE tbl = $1")
                .bind(&table)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    /// Wait until every transaction and snapshot that began before now has
    /// ended (so VACUUM FULL can drop what was deleted before now), for at
    /// most [`REWRITE_WAIT`].
    async fn wait_for_older_transactions(&self) -> Result<()> {
        // A transaction id newer than every delete before this call.
        let (now,): (String,) = sqlx::query_as("SELECT pg_current_xact_id()::text")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let full: u64 = now
            .parse()
            .map_err(|_| StorageError::Database(format!("unexpected transaction id {now:?}")))?;
        let short = (full % (1 << 32)).to_string();
        let deadline = tokio::time::Instant::now() + REWRITE_WAIT;
        loop {
            // No transaction with an id up to `now` is still running (the
            // oldest running one is what a new snapshot's xmin is), and no
            // session or replication slot holds a snapshot from before it.
            // pg_stat_activity shows other roles' snapshots only to members
            // of pg_read_all_stats (README#running-on-postgresql).
            let (clear,): (bool,) = sqlx::query_as(
                "SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::text::xid8 \
                 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                   AND backend_xmin IS NOT NULL AND age(backend_xmin) >= age($2::text::xid)) \
                 AND NOT EXISTS (SELECT 1 FROM pg_replication_slots \
                   WHERE xmin IS NOT NULL AND age(xmin) >= age($2::text::xid))",
            )
            .bind(&now)
            .bind(&short)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
            if clear {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StorageError::Database(format!(
                    "rows were deleted, but a transaction older than the purge is still open on the \
                     PostgreSQL server (see pg_stat_activity), so their bytes stay in the table files \
                     until it ends; end it and run purge again (waited {} s)",
                    REWRITE_WAIT.as_secs()
                )));
            }
            // Polling the server: it has no event to wait on for this.
            tokio::time::sleep(REWRITE_POLL).await;
        }
    }

    /// Settle every day before `today` that has reports and is not settled
    /// yet, oldest first, each in its own transaction; returns how many this
    /// call settled (another instance may have settled some).
    async fn settle_closed_days(&self, today: Day) -> Result<u64> {
        let days: Vec<(Day,)> = sqlx::query_as(
            "SELECT DISTINCT day FROM reports WHERE day < $1 \
             AND day NOT IN (SELECT day FROM settled_days) ORDER BY day",
        )
        .bind(today)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut settled = 0;
        for (day,) in days {
            if self.settle_day(day).await? {
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// Rewrite one closed day's reports in a random order and mark the day
    /// settled, in one transaction; `false` if it already was.
    ///
    /// Why: the heap appends rows in commit order (`ctid`), TOAST chunk ids
    /// come from a counter in insertion order, and `xmin` numbers commits.
    /// Deleting the day's rows and inserting them again in one statement, in
    /// a random order, gives every row the same `xmin`, and new ctids and
    /// chunk ids that follow the random order; the VACUUM FULL that follows
    /// (in `rewrite_tables`) removes the old copies and keeps that order. Measured in
    /// tests/storage.rs (`settling_a_closed_day_hides_arrival_order`).
    ///
    /// Crash-safe: one transaction (the mark is inserted first, which also
    /// makes a second instance wait for this one and then skip the day); one
    /// statement deletes and re-inserts, and every deleted row is inserted
    /// again whether or not it is in the shuffled list (LEFT JOIN), so no
    /// report is lost or doubled.
    async fn settle_day(&self, day: Day) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let marked =
            sqlx::query("INSERT INTO settled_days (day) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(day)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
        if marked == 0 {
            return Ok(false);
        }
        let mut ids: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT id FROM reports WHERE day = $1")
            .bind(day)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        shuffle(&mut ids)?;
        sqlx::query(
            "WITH moved AS (DELETE FROM reports WHERE day = $1 \
             RETURNING id, force_id, key_id, envelope, day, purge_fuzz) \
             INSERT INTO reports (id, force_id, key_id, envelope, day, purge_fuzz) \
             SELECT m.id, m.force_id, m.key_id, m.envelope, m.day, m.purge_fuzz \
             FROM moved m LEFT JOIN UNNEST($2::bytea[]) WITH ORDINALITY AS o (id, n) ON o.id = m.id \
             ORDER BY o.n NULLS LAST",
        )
        .bind(day)
        .bind(ids.iter().map(|(id,)| id.as_slice()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        // The old copies are dead tuples until the table is rewritten.
        rewrite_due(&mut *tx, "reports").await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn add_force(&self, id: &str, name: &str) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO forces (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .execute(&self.pool)
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
        .fetch_all(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_force(&mut *tx, force_id).await?;
        // Under the force's row lock, so signing keys registered by another
        // process a moment ago are seen.
        let signed = sqlx::query("SELECT 1 FROM force_signing WHERE force_id = $1")
            .bind(force_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if signed.is_some() {
            return Err(StorageError::StatementRequired(force_id.to_owned()));
        }
        let exists = sqlx::query(
            "SELECT 1 FROM force_keys WHERE (force_id = $1 AND key_id = $2) OR public_key = $3",
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
            "UPDATE force_keys SET status = 'active' WHERE force_id = $1 AND status = 'current'",
        )
        .bind(force_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO force_keys (force_id, key_id, public_key, status) VALUES ($1, $2, $3, 'current')",
        )
        .bind(force_id)
        .bind(&key_id[..])
        .bind(&public_key[..])
        .execute(&mut *tx)
        .await
        // The same public key being added to another force at this moment.
        .map_err(|e| if is_unique_violation(&e) { StorageError::KeyExists } else { db_error(e) })?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    async fn set_force_signers(&self, force_id: &str, signers: StoredSigners) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_force(&mut *tx, force_id).await?;
        let exists = sqlx::query("SELECT 1 FROM force_signing WHERE force_id = $1")
            .bind(force_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if exists.is_some() {
            return Err(StorageError::SignersExist(force_id.to_owned()));
        }
        sqlx::query("INSERT INTO force_signing (force_id, threshold) VALUES ($1, $2)")
            .bind(force_id)
            .bind(i64::from(signers.threshold))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        for key in &signers.keys {
            sqlx::query("INSERT INTO force_signers (force_id, public_key) VALUES ($1, $2)")
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
        require_force(&self.pool, force_id).await?;
        let threshold: Option<(i16,)> =
            sqlx::query_as("SELECT threshold FROM force_signing WHERE force_id = $1")
                .bind(force_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        let Some((threshold,)) = threshold else {
            return Ok(None);
        };
        let keys: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT public_key FROM force_signers WHERE force_id = $1 ORDER BY public_key",
        )
        .bind(force_id)
        .fetch_all(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_force(&mut *tx, force_id).await?;
        let key_id = statement.key_id;
        let exists = sqlx::query(
            "SELECT 1 FROM force_keys WHERE (force_id = $1 AND key_id = $2) OR public_key = $3",
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
            sqlx::query_as("SELECT max(sequence) FROM key_statements WHERE force_id = $1")
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
            "UPDATE force_keys SET status = 'active' WHERE force_id = $1 AND status = 'current'",
        )
        .bind(force_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO force_keys (force_id, key_id, public_key, status) VALUES ($1, $2, $3, 'current')",
        )
        .bind(force_id)
        .bind(&key_id[..])
        .bind(&public_key[..])
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StorageError::KeyExists } else { db_error(e) })?;
        sqlx::query(
            "INSERT INTO key_statements (force_id, sequence, key_id, statement) VALUES ($1, $2, $3, $4)",
        )
        .bind(force_id)
        .bind(sequence)
        .bind(&key_id[..])
        .bind(&statement.statement[..])
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        // The key log's next leaf, in the same transaction
        // (crypto/FORMAT.md#key-log). Appends for different forces may run
        // at once (the force lock above is per force): this lock mode
        // conflicts with itself and not with readers, so appends take turns
        // and each sees the size the one before left.
        sqlx::query("LOCK TABLE keylog_entries IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO keylog_entries (idx, force_id, sequence, entry) \
             SELECT coalesce(max(idx) + 1, 0), $1, $2, $3 FROM keylog_entries",
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
        require_force(&self.pool, force_id).await?;
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT sequence, key_id, statement FROM key_statements WHERE force_id = $1 ORDER BY sequence",
        )
        .bind(force_id)
        .fetch_all(&self.pool)
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
        .fetch_all(&self.pool)
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
        // Whichever instance inserts first wins; two statements, as for pow_key.
        sqlx::query("INSERT INTO keylog_key (id, seed) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
            .bind(&fresh[..])
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let (seed,): (Vec<u8>,) = sqlx::query_as("SELECT seed FROM keylog_key WHERE id = 1")
            .fetch_one(&self.pool)
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
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(n as u64)
    }

    async fn keylog_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        if start >= end {
            return Ok(Vec::new());
        }
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT entry FROM keylog_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(i64::try_from(start).unwrap_or(i64::MAX))
        .bind(i64::try_from(end).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
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
        .fetch_all(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_force(&mut *tx, force_id).await?;
        let status: Option<(String,)> =
            sqlx::query_as("SELECT status FROM force_keys WHERE force_id = $1 AND key_id = $2")
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
        sqlx::query("UPDATE force_keys SET status = $3 WHERE force_id = $1 AND key_id = $2")
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
        require_force(&self.pool, force_id).await?;
        let rows: Vec<(Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
            "SELECT key_id, public_key, status FROM force_keys WHERE force_id = $1 \
             ORDER BY CASE status WHEN 'current' THEN 0 WHEN 'active' THEN 1 ELSE 2 END, key_id",
        )
        .bind(force_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(force_key).collect()
    }

    async fn key_status(&self, force_id: &str, key_id: KeyId) -> Result<Option<KeyStatus>> {
        // Every intake asks, so a key retired by an admin command (in any
        // process or instance) is refused from the next request on. The force
        // check runs only when the key is unknown.
        let status: Option<(String,)> =
            sqlx::query_as("SELECT status FROM force_keys WHERE force_id = $1 AND key_id = $2")
                .bind(force_id)
                .bind(&key_id[..])
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        match status {
            Some((s,)) => {
                let status = parse_status(&s)?;
                Ok(Some(status))
            }
            None => {
                require_force(&self.pool, force_id).await?;
                Ok(None)
            }
        }
    }

    async fn add_token(&self, hash: TokenHash, force_id: &str, label: &str) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_force(&mut *tx, force_id).await?;
        let taken = sqlx::query("SELECT 1 FROM handler_tokens WHERE force_id = $1 AND label = $2")
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
        sqlx::query("INSERT INTO handler_tokens (hash, force_id, label, revoked) VALUES ($1, $2, $3, FALSE)")
            .bind(&hash[..])
            .bind(force_id)
            .bind(label)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    // The label was checked under the force lock, so it is the hash.
                    StorageError::Database("a token with that hash is already registered".into())
                } else {
                    db_error(e)
                }
            })?;
        tx.commit().await.map_err(db_error)
    }

    async fn revoke_token(&self, force_id: &str, label: &str) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_force(&mut *tx, force_id).await?;
        let done = sqlx::query(
            "UPDATE handler_tokens SET revoked = TRUE WHERE force_id = $1 AND label = $2",
        )
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
            sqlx::query_as("SELECT force_id FROM handler_tokens WHERE hash = $1 AND NOT revoked")
                .bind(&hash[..])
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(row.map(|(f,)| f))
    }

    async fn tokens(&self, force_id: Option<&str>) -> Result<Vec<TokenInfo>> {
        let rows: Vec<(String, String, bool)> = match force_id {
            Some(f) => {
                require_force(&self.pool, f).await?;
                sqlx::query_as(
                    "SELECT force_id, label, revoked FROM handler_tokens WHERE force_id = $1 ORDER BY label",
                )
                .bind(f)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query_as(
                    "SELECT force_id, label, revoked FROM handler_tokens ORDER BY force_id, label",
                )
                .fetch_all(&self.pool)
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
        // An empty bytea sorts before every id, so `None` needs no second query.
        let after = after.map(|a| a.to_vec()).unwrap_or_default();
        let rows: Vec<(Vec<u8>, Vec<u8>, Day)> = sqlx::query_as(
            "SELECT id, key_id, day FROM reports WHERE force_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(force_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        if rows.is_empty() {
            require_force(&self.pool, force_id).await?;
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
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT envelope FROM reports WHERE force_id = $1 AND id = $2")
                .bind(force_id)
                .bind(&id[..])
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        if row.is_none() {
            require_force(&self.pool, force_id).await?;
        }
        Ok(row.map(|(e,)| e))
    }

    async fn reports(&self, force_id: &str, ids: &[ReportId]) -> Result<Vec<(ReportId, Vec<u8>)>> {
        let wanted = dedup(ids);
        let rows: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT id, envelope FROM reports WHERE force_id = $1 AND id = ANY($2::bytea[])",
        )
        .bind(force_id)
        .bind(wanted.iter().map(|a| &a[..]).collect::<Vec<_>>())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut found: HashMap<ReportId, Vec<u8>> = HashMap::with_capacity(rows.len());
        for (id, envelope) in rows {
            found.insert(fixed(id, "reports.id")?, envelope);
        }
        if found.is_empty() {
            require_force(&self.pool, force_id).await?;
        }
        Ok(in_request_order(wanted, found))
    }

    async fn put_copy(&self, copy: NewCopy, limits: CopyLimits) -> Result<CopyWrite> {
        let fuzz = purge_fuzz(1)?[0];
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)
            .map_err(|_| StorageError::Database("the OS random number generator failed".into()))?;
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // Writers to the same box take turns until commit (instances sharing
        // the database included), so the count below cannot be overshot. The
        // two-int advisory lock space does not meet purge's bigint one.
        let lock = i32::from_be_bytes([
            copy.copy_box[0],
            copy.copy_box[1],
            copy.copy_box[2],
            copy.copy_box[3],
        ]);
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(COPY_LOCK_CLASS)
            .bind(lock)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let (count, bytes): (i64, i64) = sqlx::query_as(
            "SELECT count(*), coalesce(sum(octet_length(envelope)), 0)::bigint \
             FROM reporter_copies WHERE copy_box = $1",
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
                "INSERT INTO pow_spent (id, expires) VALUES ($1, $2) ON CONFLICT DO NOTHING",
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
            "INSERT INTO reporter_copies (copy_box, id, envelope, day, purge_fuzz) \
             VALUES ($1, $2, $3, $4, $5)",
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
            sqlx::query_as("SELECT envelope FROM reporter_copies WHERE copy_box = $1 ORDER BY id")
                .bind(&copy_box[..])
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    async fn put_slot(
        &self,
        address: SlotAddress,
        envelope: Vec<u8>,
        day: Day,
    ) -> Result<SlotWrite> {
        let fuzz = purge_fuzz(1)?[0];
        // One statement outside BEGIN: its own durable transaction.
        let done = sqlx::query(
            "INSERT INTO reply_slots (address, envelope, day, purge_fuzz) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (address) DO NOTHING",
        )
        .bind(&address[..])
        .bind(envelope)
        .bind(day)
        .bind(fuzz)
        .execute(&self.pool)
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
            sqlx::query_as("SELECT envelope FROM reply_slots WHERE address = $1")
                .bind(&address[..])
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(row.map(|(e,)| e))
    }

    async fn slots(&self, addresses: &[SlotAddress]) -> Result<Vec<(SlotAddress, Vec<u8>)>> {
        let wanted = dedup(addresses);
        let rows: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT address, envelope FROM reply_slots WHERE address = ANY($1::bytea[])",
        )
        .bind(wanted.iter().map(|a| &a[..]).collect::<Vec<_>>())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut found: HashMap<SlotAddress, Vec<u8>> = HashMap::with_capacity(rows.len());
        for (address, envelope) in rows {
            found.insert(fixed(address, "reply_slots.address")?, envelope);
        }
        Ok(in_request_order(wanted, found))
    }

    async fn purge(&self, today: Day, retention_days: u32) -> Result<Purged> {
        // One purge at a time across every instance sharing the database, on
        // a connection held for the whole purge (a session advisory lock is
        // released when that connection closes, even if this task dies).
        let mut lock = self.pool.acquire().await.map_err(db_error)?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PURGE_LOCK)
            .execute(&mut *lock)
            .await
            .map_err(db_error)?;
        let purged = self.purge_locked(today, retention_days).await;
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PURGE_LOCK)
            .execute(&mut *lock)
            .await;
        if unlocked.is_err() {
            // Closing the connection releases the lock.
            let _ = lock.close().await;
        }
        purged
    }

    async fn pow_key(&self, fresh: [u8; 32]) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        // Whichever instance inserts first wins. Two statements, not one: a
        // second statement takes a new snapshot, so it sees a row that another
        // instance committed while our INSERT waited on it.
        sqlx::query("INSERT INTO pow_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
            .bind(&fresh[..])
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let (key,): (Vec<u8>,) = sqlx::query_as("SELECT key FROM pow_key WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let key = zeroize::Zeroizing::new(key);
        Ok(zeroize::Zeroizing::new(fixed(key.to_vec(), "pow_key.key")?))
    }

    async fn forget_spent(&self, now: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM pow_spent WHERE expires <= $1")
            .bind(now)
            .execute(&self.pool)
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
        self.reports.close().await;
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_session_forces_synchronous_commit() {
        let o = connect_options("postgres://u@localhost/db").unwrap();
        assert_eq!(o.get_options(), Some("-c synchronous_commit=on"));
        // An operator's own options are kept; ours come last, so they win.
        let o = connect_options("postgres://u@localhost/db?options=-c%20work_mem%3D64MB").unwrap();
        let all = o.get_options().unwrap();
        assert!(all.starts_with("-c work_mem=64MB"), "{all}");
        assert!(all.ends_with("-c synchronous_commit=on"), "{all}");
    }

    #[test]
    fn commit_timestamps_are_refused_only_when_on() {
        refuse_commit_timestamps("off").unwrap();
        let err = refuse_commit_timestamps("on").unwrap_err().to_string();
        for says in [
            "track_commit_timestamp = on",
            "microsecond",
            "track_commit_timestamp = off",
            "restart PostgreSQL",
        ] {
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_it() {
        let err = connect_options("postgres://u:hunter2@host:notaport/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

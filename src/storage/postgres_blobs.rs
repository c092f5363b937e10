//! The PostgreSQL backend's blobs (attachments,
//! crypto/FORMAT.md#blobs-on-the-server): uploads, their parts and their
//! purge, with `synchronous_commit = on` as for reports (a part is on disk
//! before it is acknowledged) and VACUUM FULL after a purge so deleted parts
//! leave the table files.
//!
//! It does not check what a part holds, only its number and length. Parts of
//! one upload are serialized by locking the upload's row, so the part that
//! completes it is known exactly once.

use sqlx::Row;

use super::{PURGE_LOCK, PostgresStorage, rewrite_due};
use crate::storage::common::{db_error, is_foreign_key_violation, is_unique_violation, purge_fuzz};
use crate::storage::{
    BlobId, BlobStatus, Day, NewBlob, PartWrite, PurgedBlobs, Result, StorageError,
    blob_part_count, blob_part_len,
};

fn len_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PostgresStorage {
    pub(super) async fn blob_create(&self, blob: NewBlob) -> Result<()> {
        let fuzz = purge_fuzz(1)?[0];
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        if let Some(ticket) = blob.pow {
            let spent = sqlx::query("INSERT INTO pow_spent (id, expires) VALUES ($1, $2)")
                .bind(&ticket.id[..])
                .bind(ticket.expires)
                .execute(&mut *tx)
                .await;
            match spent {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Err(StorageError::ChallengeSpent),
                Err(e) => return Err(db_error(e)),
            }
        }
        let inserted = sqlx::query(
            "INSERT INTO blobs (id, force_id, sealed_len, state, day, purge_fuzz) \
             VALUES ($1, $2, $3, 'uploading', $4, $5)",
        )
        .bind(&blob.id[..])
        .bind(&blob.force_id)
        .bind(len_i64(blob.sealed_len))
        .bind(blob.day)
        .bind(fuzz)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_foreign_key_violation(&e) => {
                return Err(StorageError::UnknownForce(blob.force_id));
            }
            Err(e) => return Err(db_error(e)),
        }
        tx.commit().await.map_err(db_error)
    }

    pub(super) async fn blob_status_of(&self, id: BlobId) -> Result<Option<BlobStatus>> {
        let row = sqlx::query("SELECT sealed_len, state FROM blobs WHERE id = $1")
            .bind(&id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let sealed_len: i64 = row.get(0);
        let state: String = row.get(1);
        let received: Vec<(i32,)> =
            sqlx::query_as("SELECT n FROM blob_parts WHERE blob_id = $1 ORDER BY n")
                .bind(&id[..])
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(Some(BlobStatus {
            sealed_len: sealed_len as u64,
            received: received.into_iter().map(|(n,)| n as u32).collect(),
            complete: state != "uploading",
        }))
    }

    pub(super) async fn blob_put_part(
        &self,
        id: BlobId,
        n: u32,
        data: Vec<u8>,
    ) -> Result<PartWrite> {
        let Ok(n_db) = i32::try_from(n) else {
            return Ok(PartWrite::BadPart { expected: None });
        };
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let row = sqlx::query("SELECT sealed_len, state FROM blobs WHERE id = $1 FOR UPDATE")
            .bind(&id[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let Some(row) = row else {
            return Ok(PartWrite::UnknownBlob);
        };
        let sealed_len = row.get::<i64, _>(0) as u64;
        let state: String = row.get(1);
        let expected = blob_part_len(sealed_len, n);
        if expected != Some(data.len() as u64) {
            return Ok(PartWrite::BadPart { expected });
        }
        let held: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT data FROM blob_parts WHERE blob_id = $1 AND n = $2")
                .bind(&id[..])
                .bind(n_db)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        if let Some((held,)) = held {
            return Ok(if held == data {
                PartWrite::Stored {
                    complete: state != "uploading",
                }
            } else {
                PartWrite::Conflict
            });
        }
        sqlx::query("INSERT INTO blob_parts (blob_id, n, data) VALUES ($1, $2, $3)")
            .bind(&id[..])
            .bind(n_db)
            .bind(data)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let (held,): (i64,) = sqlx::query_as("SELECT count(*) FROM blob_parts WHERE blob_id = $1")
            .bind(&id[..])
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let complete = held == i64::from(blob_part_count(sealed_len));
        if complete {
            sqlx::query(
                "UPDATE blobs SET state = 'complete' WHERE id = $1 AND state = 'uploading'",
            )
            .bind(&id[..])
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(PartWrite::Stored { complete })
    }

    pub(super) async fn blob_len_of(&self, force_id: &str, id: BlobId) -> Result<Option<u64>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT sealed_len FROM blobs WHERE id = $1 AND force_id = $2 AND state <> 'uploading'",
        )
        .bind(&id[..])
        .bind(force_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(n,)| n as u64))
    }

    pub(super) async fn blob_part_of(
        &self,
        force_id: &str,
        id: BlobId,
        n: u32,
    ) -> Result<Option<Vec<u8>>> {
        let Ok(n) = i32::try_from(n) else {
            return Ok(None);
        };
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT p.data FROM blob_parts p JOIN blobs b ON b.id = p.blob_id \
             WHERE p.blob_id = $1 AND p.n = $2 AND b.force_id = $3 AND b.state <> 'uploading'",
        )
        .bind(&id[..])
        .bind(n)
        .bind(force_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(d,)| d))
    }

    pub(super) async fn blob_reference(&self, force_id: &str, id: BlobId) -> Result<()> {
        sqlx::query("UPDATE blobs SET state = 'referenced' WHERE id = $1 AND force_id = $2 AND state = 'complete'")
            .bind(&id[..])
            .bind(force_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub(super) async fn blob_purge(
        &self,
        today: Day,
        retention_days: u32,
        unreferenced_days: u32,
    ) -> Result<PurgedBlobs> {
        // One purge at a time across instances, as for reports.
        let mut lock = self.pool.acquire().await.map_err(db_error)?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PURGE_LOCK)
            .execute(&mut *lock)
            .await
            .map_err(db_error)?;
        let purged = self
            .blob_purge_locked(today, retention_days, unreferenced_days)
            .await;
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PURGE_LOCK)
            .execute(&mut *lock)
            .await;
        if unlocked.is_err() {
            let _ = lock.close().await;
        }
        purged
    }

    async fn blob_purge_locked(
        &self,
        today: Day,
        retention_days: u32,
        unreferenced_days: u32,
    ) -> Result<PurgedBlobs> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let mut purged = PurgedBlobs::default();
        for (delete, bound, out) in [
            (
                "WITH gone AS (DELETE FROM blobs WHERE state = 'uploading' \
                 AND day::bigint + 1 + $1::bigint < $2::bigint RETURNING id) SELECT count(*) FROM gone",
                0i64,
                &mut purged.expired_uploads,
            ),
            (
                "WITH gone AS (DELETE FROM blobs WHERE state = 'complete' \
                 AND day::bigint + $1::bigint < $2::bigint RETURNING id) SELECT count(*) FROM gone",
                i64::from(unreferenced_days),
                &mut purged.unreferenced,
            ),
            (
                "WITH gone AS (DELETE FROM blobs WHERE state = 'referenced' \
                 AND day::bigint + purge_fuzz + $1::bigint < $2::bigint RETURNING id) SELECT count(*) FROM gone",
                i64::from(retention_days),
                &mut purged.past_retention,
            ),
        ] {
            let (n,): (i64,) = sqlx::query_as(delete)
                .bind(bound)
                .bind(i64::from(today))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
            *out = n as u64;
        }
        if purged != PurgedBlobs::default() {
            // The parts went with their blobs (ON DELETE CASCADE).
            rewrite_due(&mut *tx, "blob_parts").await?;
            rewrite_due(&mut *tx, "blobs").await?;
        }
        tx.commit().await.map_err(db_error)?;
        self.rewrite_tables().await?;
        Ok(purged)
    }
}

//! The SQLite backend's blobs (attachments, crypto/FORMAT.md#blobs-on-the-server):
//! uploads, their parts and their purge, on the same writer connection and
//! with the same durability as reports (WAL, `synchronous = FULL`: a part is
//! on disk before it is acknowledged; `secure_delete` and a TRUNCATE
//! checkpoint when blobs are purged).
//!
//! It does not check what a part holds (it cannot: it holds no key), only
//! its number and length. It stores no time finer than the upload's day.

use sqlx::Row;

use super::SqliteStorage;
use super::{begin_write, db_error};
use crate::storage::common::{is_foreign_key_violation, is_unique_violation, purge_fuzz};
use crate::storage::{
    BlobId, BlobStatus, Day, NewBlob, PartWrite, PurgedBlobs, Result, StorageError,
    blob_part_count, blob_part_len,
};

/// A random rowid for a part (63 bits), never SQLite's next one.
fn random_rid() -> Result<i64> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b)
        .map_err(|_| StorageError::Database("the OS random number generator failed".into()))?;
    Ok(i64::from_be_bytes(b) & i64::MAX)
}

fn len_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SqliteStorage {
    pub(super) async fn blob_create(&self, blob: NewBlob) -> Result<()> {
        let fuzz = purge_fuzz(1)?[0];
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        if let Some(ticket) = blob.pow {
            let spent = sqlx::query("INSERT INTO pow_spent (expires, id) VALUES (?1, ?2)")
                .bind(ticket.expires)
                .bind(&ticket.id[..])
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
             VALUES (?1, ?2, ?3, 'uploading', ?4, ?5)",
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
        let row = sqlx::query("SELECT sealed_len, state FROM blobs WHERE id = ?1")
            .bind(&id[..])
            .fetch_optional(&self.readers)
            .await
            .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let sealed_len: i64 = row.get(0);
        let state: String = row.get(1);
        let received: Vec<(i64,)> =
            sqlx::query_as("SELECT n FROM blob_parts WHERE blob_id = ?1 ORDER BY n")
                .bind(&id[..])
                .fetch_all(&self.readers)
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
        let rid = random_rid()?;
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        let row = sqlx::query("SELECT sealed_len, state FROM blobs WHERE id = ?1")
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
            sqlx::query_as("SELECT data FROM blob_parts WHERE blob_id = ?1 AND n = ?2")
                .bind(&id[..])
                .bind(i64::from(n))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        if let Some((held,)) = held {
            // The same part again (its acknowledgement was lost): already durable.
            return Ok(if held == data {
                PartWrite::Stored {
                    complete: state != "uploading",
                }
            } else {
                PartWrite::Conflict
            });
        }
        sqlx::query("INSERT INTO blob_parts (rid, blob_id, n, data) VALUES (?1, ?2, ?3, ?4)")
            .bind(rid)
            .bind(&id[..])
            .bind(i64::from(n))
            .bind(data)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let (held,): (i64,) = sqlx::query_as("SELECT count(*) FROM blob_parts WHERE blob_id = ?1")
            .bind(&id[..])
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let complete = held == i64::from(blob_part_count(sealed_len));
        if complete {
            sqlx::query(
                "UPDATE blobs SET state = 'complete' WHERE id = ?1 AND state = 'uploading'",
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
            "SELECT sealed_len FROM blobs WHERE id = ?1 AND force_id = ?2 AND state <> 'uploading'",
        )
        .bind(&id[..])
        .bind(force_id)
        .fetch_optional(&self.readers)
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
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT p.data FROM blob_parts p JOIN blobs b ON b.id = p.blob_id \
             WHERE p.blob_id = ?1 AND p.n = ?2 AND b.force_id = ?3 AND b.state <> 'uploading'",
        )
        .bind(&id[..])
        .bind(i64::from(n))
        .bind(force_id)
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(d,)| d))
    }

    pub(super) async fn blob_reference(&self, force_id: &str, id: BlobId) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query("UPDATE blobs SET state = 'referenced' WHERE id = ?1 AND force_id = ?2 AND state = 'complete'")
            .bind(&id[..])
            .bind(force_id)
            .execute(&mut *w)
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
        let mut w = self.writer().await?;
        let mut tx = begin_write(&mut w).await?;
        let mut purged = PurgedBlobs::default();
        for (select, bound, out) in [
            // Begun on `day`: kept through the day after, then gone.
            (
                "SELECT id FROM blobs WHERE state = 'uploading' AND day + 1 + ?1 < ?2",
                0i64,
                &mut purged.expired_uploads,
            ),
            (
                "SELECT id FROM blobs WHERE state = 'complete' AND day + ?1 < ?2",
                i64::from(unreferenced_days),
                &mut purged.unreferenced,
            ),
            (
                "SELECT id FROM blobs WHERE state = 'referenced' AND day + ?1 + purge_fuzz < ?2",
                i64::from(retention_days),
                &mut purged.past_retention,
            ),
        ] {
            let ids: Vec<(Vec<u8>,)> = sqlx::query_as(select)
                .bind(bound)
                .bind(i64::from(today))
                .fetch_all(&mut *tx)
                .await
                .map_err(db_error)?;
            for (id,) in &ids {
                sqlx::query("DELETE FROM blob_parts WHERE blob_id = ?1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                sqlx::query("DELETE FROM blobs WHERE id = ?1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
            }
            *out = ids.len() as u64;
        }
        tx.commit().await.map_err(db_error)?;
        // As in `purge`: secure_delete zeroed the freed pages, and the TRUNCATE
        // checkpoint copies them into the file and empties the WAL, which
        // still held the parts as they were written.
        let _paused = self.checkpoints.pause().await;
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *w)
            .await
            .map_err(db_error)?;
        if busy != 0 {
            return Err(StorageError::Database(
                "blobs were deleted but the WAL checkpoint was blocked by a reader; run purge again".into(),
            ));
        }
        Ok(purged)
    }
}

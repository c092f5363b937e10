//! The key log's read side on the server (crypto/FORMAT.md#key-log): the
//! signed checkpoint at the current size, the verifier key, ranges of
//! entries, and inclusion and consistency proofs, each from what storage
//! holds, with the ranges the API accepts.
//!
//! It owns the log's signing key in memory (made once, kept in the database
//! by [`Storage::keylog_seed`] so every instance sharing it signs with the
//! same key) and a cache of the entries read so far, which is safe because
//! the log only grows. It does not append (storage does, in the transaction
//! that stores a statement), know about HTTP (`http/api.rs` maps its
//! answers), or verify statements (`admin.rs` did before they were stored).
//! The tree maths and the note format are `quietline_crypto::keylog`. The
//! log key only signs checkpoints: it is not a report key and opens nothing.

use quietline_crypto::keylog::{self, Hash, LogSigner, MAX_ENTRIES_PER_REQUEST};
use tokio::sync::{Mutex, OnceCell};

use crate::storage::{Storage, StorageError};

/// Why a key-log request was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeylogRefused {
    /// Indices outside the log (`400 bad_range`); the message says the valid range.
    #[error("{0}")]
    BadRange(String),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The key log as the server serves it.
pub struct KeyLog {
    origin: String,
    signer: OnceCell<LogSigner>,
    /// Entries `0..len` as read before: never changed, so only the new tail
    /// is read again.
    cache: Mutex<Vec<Vec<u8>>>,
}

impl std::fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLog")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl KeyLog {
    /// The log named `origin` (already checked by the settings); its key is
    /// read (or made) on first use.
    pub fn new(origin: &str) -> KeyLog {
        KeyLog {
            origin: origin.to_owned(),
            signer: OnceCell::new(),
            cache: Mutex::new(Vec::new()),
        }
    }

    async fn signer(&self, storage: &dyn Storage) -> Result<&LogSigner, StorageError> {
        self.signer
            .get_or_try_init(|| async {
                let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
                getrandom::fill(fresh.as_mut()).map_err(|_| {
                    StorageError::Database("the OS random number generator failed".into())
                })?;
                // The first instance to get here stores its seed; every other
                // one (and every restart) reads that same seed back.
                let seed = storage.keylog_seed(*fresh).await?;
                LogSigner::from_seed(&self.origin, &seed).map_err(|e| {
                    StorageError::Database(format!("the key log's origin is not valid: {e}"))
                })
            })
            .await
    }

    /// The verifier key line (C2SP signed-note vkey).
    pub async fn verifier_key(&self, storage: &dyn Storage) -> Result<String, KeylogRefused> {
        Ok(self.signer(storage).await?.log_key().to_vkey())
    }

    /// Run `f` over the first `size` entries, `size` at most the log's
    /// current size (from the cache, the new tail read from storage first).
    async fn with_prefix<R>(
        &self,
        storage: &dyn Storage,
        size: u64,
        f: impl FnOnce(&[Vec<u8>]) -> R,
    ) -> Result<R, KeylogRefused> {
        let mut cache = self.cache.lock().await;
        let have = cache.len() as u64;
        if size > have {
            let tail = storage.keylog_entries(have, size).await?;
            if tail.len() as u64 != size - have {
                return Err(StorageError::Database(format!(
                    "the key log has {} entries from {have}, not the {} its size promised",
                    tail.len(),
                    size - have
                ))
                .into());
            }
            cache.extend(tail);
        }
        let n = usize::try_from(size).unwrap_or(usize::MAX).min(cache.len());
        Ok(f(&cache[..n]))
    }

    /// The log's current size.
    pub async fn size(&self, storage: &dyn Storage) -> Result<u64, KeylogRefused> {
        Ok(storage.keylog_size().await?)
    }

    /// The signed checkpoint at the current size. Ed25519 is deterministic,
    /// so every instance signs the same note for the same size.
    pub async fn checkpoint(&self, storage: &dyn Storage) -> Result<String, KeylogRefused> {
        let signer = self.signer(storage).await?;
        let size = self.size(storage).await?;
        let root = self
            .with_prefix(storage, size, keylog::tree_root)
            .await?
            .map_err(|e| KeylogRefused::BadRange(e.to_string()))?;
        Ok(signer.sign_checkpoint(size, &root))
    }

    /// Entries `start ≤ i < end ≤ size`, at most [`MAX_ENTRIES_PER_REQUEST`]
    /// of them from `start` (the caller pages on); none when `start = end`.
    pub async fn entries(
        &self,
        storage: &dyn Storage,
        start: u64,
        end: u64,
    ) -> Result<Vec<Vec<u8>>, KeylogRefused> {
        let size = self.size(storage).await?;
        if start > end || end > size {
            return Err(KeylogRefused::BadRange(format!(
                "entries are asked for as start ≤ i < end with start ≤ end ≤ {size}, the log's size"
            )));
        }
        let end = end.min(start.saturating_add(MAX_ENTRIES_PER_REQUEST));
        self.with_prefix(storage, end, |all| {
            all.get(usize::try_from(start).unwrap_or(usize::MAX)..)
                .unwrap_or_default()
                .to_vec()
        })
        .await
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    pub async fn inclusion(
        &self,
        storage: &dyn Storage,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, KeylogRefused> {
        let current = self.size(storage).await?;
        if index >= size || size > current {
            return Err(KeylogRefused::BadRange(format!(
                "an inclusion proof is asked for as index < size ≤ {current}, the log's size"
            )));
        }
        self.with_prefix(storage, size, |e| keylog::inclusion_proof(e, index))
            .await?
            .map_err(|e| KeylogRefused::BadRange(e.to_string()))
    }

    /// The consistency proof from the tree of `from` entries to that of `to`.
    pub async fn consistency(
        &self,
        storage: &dyn Storage,
        from: u64,
        to: u64,
    ) -> Result<Vec<Hash>, KeylogRefused> {
        let current = self.size(storage).await?;
        if from > to || to > current {
            return Err(KeylogRefused::BadRange(format!(
                "a consistency proof is asked for as from ≤ to ≤ {current}, the log's size"
            )));
        }
        self.with_prefix(storage, to, |e| keylog::consistency_proof(e, from))
            .await?
            .map_err(|e| KeylogRefused::BadRange(e.to_string()))
    }
}

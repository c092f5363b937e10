//! An in-memory cache of force key statuses for the intake hot path.
//!
//! It owns the answer to "is this key of this force current, active or
//! retired?" for a short while, so that `POST /api/v1/reports` does not pay a
//! database read (a pooled connection and a hop to a blocking thread) on every
//! request. It does not decide anything: a key it has not seen is looked up in
//! the database by the backend, every time (a miss is never cached, so a key
//! added by an admin command in another process is accepted at once).
//!
//! Staleness is bounded: every entry is dropped [`KEY_CACHE_TTL`] after the
//! cache was (re)started, so a key retired by an admin command in another
//! process (or on another server instance) is refused within that time.
//! Changes made through the same storage instance clear the cache at once.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::{KeyId, KeyStatus};

/// How long a cached status is trusted. A key retired elsewhere is refused at
/// most this long after the retirement committed.
pub(crate) const KEY_CACHE_TTL: Duration = Duration::from_secs(2);

struct State {
    /// When the current entries started being collected.
    since: Instant,
    /// Bumped by every invalidation: a lookup that began before it must not
    /// store its (possibly stale) answer.
    generation: u64,
    keys: HashMap<String, HashMap<KeyId, KeyStatus>>,
}

/// The cache. Cheap to share; all methods take `&self`.
pub(crate) struct KeyCache {
    state: RwLock<State>,
}

/// A ticket from [`KeyCache::get`] on a miss, handed back to [`KeyCache::put`].
pub(crate) struct Miss {
    generation: u64,
}

impl KeyCache {
    pub(crate) fn new() -> Self {
        KeyCache {
            state: RwLock::new(State {
                since: Instant::now(),
                generation: 0,
                keys: HashMap::new(),
            }),
        }
    }

    /// The cached status, or a [`Miss`] to look it up and [`put`](Self::put) it.
    pub(crate) fn get(&self, force_id: &str, key_id: KeyId) -> Result<KeyStatus, Miss> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        if state.since.elapsed() < KEY_CACHE_TTL
            && let Some(status) = state.keys.get(force_id).and_then(|k| k.get(&key_id))
        {
            return Ok(*status);
        }
        Err(Miss {
            generation: state.generation,
        })
    }

    /// Remember a status just read from the database, unless the cache was
    /// invalidated since the miss.
    pub(crate) fn put(&self, miss: Miss, force_id: &str, key_id: KeyId, status: KeyStatus) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if state.generation != miss.generation {
            return;
        }
        if state.since.elapsed() >= KEY_CACHE_TTL {
            state.keys.clear();
            state.since = Instant::now();
        }
        state
            .keys
            .entry(force_id.to_owned())
            .or_default()
            .insert(key_id, status);
    }

    /// Forget everything (a key was added or retired through this instance).
    pub(crate) fn invalidate(&self) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.generation += 1;
        state.keys.clear();
        state.since = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_miss_and_invalidation() {
        let c = KeyCache::new();
        let miss = c.get("f", [1; 8]).unwrap_err();
        c.put(miss, "f", [1; 8], KeyStatus::Current);
        assert_eq!(c.get("f", [1; 8]).ok(), Some(KeyStatus::Current));
        assert!(c.get("f", [2; 8]).is_err());
        assert!(c.get("g", [1; 8]).is_err());
        // A lookup that started before an invalidation does not store.
        let miss = c.get("f", [2; 8]).unwrap_err();
        c.invalidate();
        c.put(miss, "f", [2; 8], KeyStatus::Active);
        assert!(c.get("f", [2; 8]).is_err());
        assert!(c.get("f", [1; 8]).is_err());
    }

    #[test]
    fn entries_expire() {
        let c = KeyCache::new();
        let miss = c.get("f", [1; 8]).unwrap_err();
        c.put(miss, "f", [1; 8], KeyStatus::Current);
        c.state.write().unwrap().since = Instant::now() - KEY_CACHE_TTL;
        assert!(c.get("f", [1; 8]).is_err());
    }
}

//! The force keys this process has seen accepted, so that intake does not ask
//! the database about the same key on every submission.
//!
//! It owns a small set of `(force id, key id)` pairs that the database said
//! were current or active. It does not decide whether a report is accepted:
//! the store refuses a report for an unknown or retired key in the
//! transaction that writes it (`Storage::insert_report`), so a key retired by
//! another process takes effect at once even while it is remembered here. A refusal by the
//! store forgets the pair. Unknown and retired keys are never remembered, so
//! nobody can fill the set from outside: it holds at most the keys an
//! operator registered, and is capped all the same.

use std::collections::HashMap;
use std::sync::RwLock;

use quietline_crypto::keys::KeyId;

/// Most pairs remembered; past it, a key is checked in the database each time
/// (correct, only slower). Far above any real number of keys.
const CAP: usize = 4096;

/// Keys seen accepted (see the module docs).
#[derive(Debug, Default)]
pub struct KnownKeys {
    /// Per force, its key ids seen accepted (a force has a few keys at most),
    /// so that a lookup needs no allocation.
    pairs: RwLock<HashMap<String, Vec<[u8; 8]>>>,
}

impl KnownKeys {
    /// Whether the database said this key of this force was accepted.
    pub fn contains(&self, force_id: &str, key_id: &KeyId) -> bool {
        // A poisoned lock only means another thread panicked mid-insert of
        // a plain map; its contents are still a valid map.
        let pairs = self.pairs.read().unwrap_or_else(|e| e.into_inner());
        pairs
            .get(force_id)
            .is_some_and(|keys| keys.contains(&key_id.0))
    }

    /// Remember a key the database said is current or active.
    pub fn insert(&self, force_id: &str, key_id: &KeyId) {
        let mut pairs = self.pairs.write().unwrap_or_else(|e| e.into_inner());
        if pairs.values().map(Vec::len).sum::<usize>() >= CAP {
            return;
        }
        let keys = pairs.entry(force_id.to_owned()).or_default();
        if !keys.contains(&key_id.0) {
            keys.push(key_id.0);
        }
    }

    /// Forget a key the store refused (retired since, or its force gone).
    pub fn forget(&self, force_id: &str, key_id: &KeyId) {
        let mut pairs = self.pairs.write().unwrap_or_else(|e| e.into_inner());
        if let Some(keys) = pairs.get_mut(force_id) {
            keys.retain(|k| *k != key_id.0);
            if keys.is_empty() {
                pairs.remove(force_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_forgets_per_force() {
        let keys = KnownKeys::default();
        let (a, b) = (KeyId([1; 8]), KeyId([2; 8]));
        assert!(!keys.contains("north", &a));
        keys.insert("north", &a);
        assert!(keys.contains("north", &a));
        assert!(!keys.contains("south", &a), "a key id is per force");
        assert!(!keys.contains("north", &b));
        keys.insert("north", &a);
        keys.insert("north", &b);
        keys.forget("north", &a);
        assert!(!keys.contains("north", &a));
        assert!(keys.contains("north", &b));
        keys.forget("north", &b);
        assert!(keys.pairs.read().unwrap().is_empty());
    }

    #[test]
    fn capped() {
        let keys = KnownKeys::default();
        for n in 0..CAP + 10 {
            keys.insert(&format!("f{n}"), &KeyId([0; 8]));
        }
        let held: usize = keys.pairs.read().unwrap().values().map(Vec::len).sum();
        assert_eq!(held, CAP);
        assert!(!keys.contains(&format!("f{}", CAP + 1), &KeyId([0; 8])));
    }
}

//! Helpers shared by the SQLite and PostgreSQL backends: error mapping, row
//! decoding, key-status names and the random retention fuzz.
//!
//! It owns no connection and runs no query; each backend does its own I/O.

use std::collections::{HashMap, HashSet};

use super::{ForceEntry, ForceKey, KeyStatus, Result, StorageError};
use sqlx::error::ErrorKind;

/// Largest retention fuzz in days. Each report and slot row gets a uniform
/// random `purge_fuzz` in `0..=MAX_PURGE_FUZZ`, chosen at insert.
pub(crate) const MAX_PURGE_FUZZ: i16 = 7;

/// Draw `n` retention fuzz values from the OS RNG.
///
/// Why: if every row were deleted exactly `retention_days` after its day, the
/// moment a row disappears would date its arrival to the day for anyone who
/// watches the database over time. A per-row random extra 0..=7 days blurs
/// that. The OS RNG is used (not a seeded PRNG) so the values cannot be
/// reproduced from anything the server knows.
pub(crate) fn purge_fuzz(n: usize) -> Result<Vec<i16>> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|_| StorageError::Database("the OS random number generator failed".into()))?;
    // 256 is a multiple of 8, so `% 8` is exactly uniform.
    Ok(bytes
        .into_iter()
        .map(|b| i16::from(b) % (MAX_PURGE_FUZZ + 1))
        .collect())
}

/// Put `items` in a uniformly random order drawn from the OS RNG.
///
/// Why: settling a closed day writes its reports again in this order, so
/// their places in the database files follow it instead of arrival order. It
/// needs to be independent of arrival, not secret; a generator seeded from
/// the OS (not the database's own `random()`) keeps it out of reach of
/// anything stored. Seeding can fail (the OS RNG), the shuffle cannot.
pub(crate) fn shuffle<T>(items: &mut [T]) -> Result<()> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut rng = rand::rngs::StdRng::try_from_rng(&mut rand::rngs::SysRng)
        .map_err(|_| StorageError::Database("the OS random number generator failed".into()))?;
    items.shuffle(&mut rng);
    Ok(())
}

/// Map a driver error to a [`StorageError`].
///
/// sqlx's `Display` for database errors is the server's message only (for
/// PostgreSQL not the `DETAIL` line, which can quote key values), and bound
/// parameters are never echoed, so no envelope or token bytes can leak here.
pub(crate) fn db_error(e: sqlx::Error) -> StorageError {
    match e {
        // The pool (or our writer connection) was closed by `close()`.
        sqlx::Error::PoolClosed => StorageError::WriterGone,
        e if is_unavailable(&e) => StorageError::Unavailable(e.to_string()),
        other => StorageError::Database(other.to_string()),
    }
}

/// Whether `e` says the database cannot serve requests NOW for a reason that
/// passes without the request changing (issue 15, item 13): a full disk, an
/// I/O error, a lock held elsewhere past the busy timeout, a lost or refused
/// connection, a PostgreSQL server shutting down or starting, a pool with no
/// free connection. Anything else (a constraint, a corrupt row, SQL the
/// database refuses) is a fault that retrying will not cure.
pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => {
            if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite's extended result code; the low byte is the primary one.
                d.code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .is_some_and(|c| sqlite_unavailable(c & 0xff))
            } else if d
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                d.code().is_some_and(|c| pg_unavailable(&c))
            } else {
                false
            }
        }
        _ => false,
    }
}

/// SQLite primary result codes that mean "not now": BUSY (5) and LOCKED (6)
/// past the busy timeout, NOMEM (7), IOERR (10), FULL (13), CANTOPEN (14),
/// PROTOCOL (15, a WAL lock race).
fn sqlite_unavailable(primary: i32) -> bool {
    matches!(primary, 5 | 6 | 7 | 10 | 13 | 14 | 15)
}

/// PostgreSQL SQLSTATEs that mean "not now": class 08 (connection
/// exception), class 53 (insufficient resources: disk full, out of memory,
/// too many connections), 57P01–57P03 (administrator or crash shutdown,
/// cannot connect now: starting up or shutting down) and class 58 (system
/// error, e.g. an I/O error).
fn pg_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08")
        || sqlstate.starts_with("53")
        || sqlstate.starts_with("58")
        || matches!(sqlstate, "57P01" | "57P02" | "57P03")
}

/// Whether `e` is a constraint violation caused by one particular row (as
/// opposed to the database being unreachable, full, or closed).
pub(crate) fn is_constraint_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(
            d.kind(),
            ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        ),
        _ => false,
    }
}

/// Whether `e` is a unique or primary-key violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == ErrorKind::UniqueViolation)
}

/// Whether `e` is a foreign-key violation.
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == ErrorKind::ForeignKeyViolation)
}

/// A stored byte string as a fixed-size array; a wrong length means the row is
/// corrupt (the schema's CHECK constraints should make that impossible).
pub(crate) fn fixed<const N: usize>(bytes: Vec<u8>, column: &str) -> Result<[u8; N]> {
    let len = bytes.len();
    bytes.try_into().map_err(|_| {
        StorageError::Database(format!(
            "corrupt row: column {column} holds {len} bytes, expected {N}"
        ))
    })
}

/// A stored public key: 32 bytes (X25519) or 1216 (X-Wing), as the schema checks.
pub(crate) fn key_bytes(bytes: Vec<u8>) -> Result<Vec<u8>> {
    if quietline_crypto::Suite::from_public_key_len(bytes.len()).is_none() {
        return Err(StorageError::Database(format!(
            "corrupt row: column force_keys.public_key holds {} bytes, expected 32 or 1216",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// The stored name of a key status.
pub(crate) fn status_name(status: KeyStatus) -> &'static str {
    match status {
        KeyStatus::Current => "current",
        KeyStatus::Active => "active",
        KeyStatus::Retired => "retired",
    }
}

/// Parse a stored key status.
pub(crate) fn parse_status(name: &str) -> Result<KeyStatus> {
    match name {
        "current" => Ok(KeyStatus::Current),
        "active" => Ok(KeyStatus::Active),
        "retired" => Ok(KeyStatus::Retired),
        _ => Err(StorageError::Database(format!(
            "corrupt row: unknown key status {name:?}"
        ))),
    }
}

/// A copy of an error, to answer every waiter of a failed batch with it.
/// (`StorageError` is deliberately not `Clone` in the public API.)
pub(crate) fn replicate(e: &StorageError) -> StorageError {
    match e {
        StorageError::UnknownForce(f) => StorageError::UnknownForce(f.clone()),
        StorageError::ForceExists(f) => StorageError::ForceExists(f.clone()),
        StorageError::KeyExists => StorageError::KeyExists,
        StorageError::UnknownKey(f) => StorageError::UnknownKey(f.clone()),
        StorageError::RetireCurrent(f) => StorageError::RetireCurrent(f.clone()),
        StorageError::TokenLabelExists(f, l) => {
            StorageError::TokenLabelExists(f.clone(), l.clone())
        }
        StorageError::UnknownToken(f, l) => StorageError::UnknownToken(f.clone(), l.clone()),
        StorageError::Database(m) => StorageError::Database(m.clone()),
        StorageError::Unavailable(m) => StorageError::Unavailable(m.clone()),
        StorageError::WriterGone => StorageError::WriterGone,
        StorageError::ChallengeSpent => StorageError::ChallengeSpent,
        StorageError::StatementRequired(f) => StorageError::StatementRequired(f.clone()),
        StorageError::SignersExist(f) => StorageError::SignersExist(f.clone()),
        StorageError::StatementOutOfOrder { force, got, next } => {
            StorageError::StatementOutOfOrder {
                force: force.clone(),
                got: *got,
                next: *next,
            }
        }
    }
}

/// `keys` (slot addresses, report ids) without repeats, first occurrence kept.
pub(crate) fn dedup<K: Copy + Eq + std::hash::Hash>(keys: &[K]) -> Vec<K> {
    let mut seen = HashSet::new();
    keys.iter().copied().filter(|k| seen.insert(*k)).collect()
}

/// The found rows (slots, reports), in the order they were asked for.
pub(crate) fn in_request_order<K: Copy + Eq + std::hash::Hash>(
    wanted: Vec<K>,
    mut found: HashMap<K, Vec<u8>>,
) -> Vec<(K, Vec<u8>)> {
    wanted
        .into_iter()
        .filter_map(|k| found.remove(&k).map(|e| (k, e)))
        .collect()
}

/// A `forces LEFT JOIN force_keys (current)` row: id, name, key id, public key.
pub(crate) type ForceRow = (String, String, Option<Vec<u8>>, Option<Vec<u8>>);

/// Decode a [`ForceRow`].
pub(crate) fn force_entry((id, name, key_id, public_key): ForceRow) -> Result<ForceEntry> {
    let current_key = match (key_id, public_key) {
        (Some(k), Some(p)) => Some(ForceKey {
            key_id: fixed(k, "force_keys.key_id")?,
            public_key: key_bytes(p)?,
            status: KeyStatus::Current,
        }),
        _ => None,
    };
    Ok(ForceEntry {
        id,
        name,
        current_key,
    })
}

/// Decode a `(key_id, public_key, status)` row.
pub(crate) fn force_key(
    (key_id, public_key, status): (Vec<u8>, Vec<u8>, String),
) -> Result<ForceKey> {
    Ok(ForceKey {
        key_id: fixed(key_id, "force_keys.key_id")?,
        public_key: key_bytes(public_key)?,
        status: parse_status(&status)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_is_in_range_and_varies() {
        let f = purge_fuzz(4096).unwrap();
        assert!(f.iter().all(|v| (0..=MAX_PURGE_FUZZ).contains(v)));
        // Every value 0..=7 shows up among 4096 uniform draws (failure odds ~ 8 * (7/8)^4096).
        for v in 0..=MAX_PURGE_FUZZ {
            assert!(f.contains(&v), "fuzz value {v} never drawn");
        }
    }

    #[test]
    fn shuffle_moves_things_and_keeps_them() {
        let mut v: Vec<u32> = (0..1000).collect();
        shuffle(&mut v).unwrap();
        // The identity permutation of 1,000 items: odds 1/1000!.
        assert_ne!(v, (0..1000).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn fixed_checks_length() {
        assert_eq!(fixed::<2>(vec![1, 2], "x").unwrap(), [1, 2]);
        let err = fixed::<2>(vec![1, 2, 3], "x").unwrap_err().to_string();
        assert!(err.contains("3 bytes"), "{err}");
    }

    #[test]
    fn status_round_trips() {
        for s in [KeyStatus::Current, KeyStatus::Active, KeyStatus::Retired] {
            assert_eq!(parse_status(status_name(s)).unwrap(), s);
        }
        assert!(parse_status("bogus").is_err());
    }

    #[test]
    fn pool_closed_means_writer_gone() {
        assert!(matches!(
            db_error(sqlx::Error::PoolClosed),
            StorageError::WriterGone
        ));
    }

    #[test]
    fn passing_faults_are_unavailable_and_others_are_not() {
        // SQLite: FULL and IOERR_WRITE (778 = 10 | 3 << 8) pass; CONSTRAINT and ERROR do not.
        assert!(sqlite_unavailable(13));
        assert!(sqlite_unavailable(778 & 0xff));
        assert!(sqlite_unavailable(5));
        assert!(!sqlite_unavailable(19));
        assert!(!sqlite_unavailable(1));
        // PostgreSQL: connection lost, disk full, admin shutdown, starting up.
        for s in ["08006", "08001", "53100", "57P01", "57P03", "58030"] {
            assert!(pg_unavailable(s), "{s}");
        }
        for s in ["23505", "42P01", "22001", "57014"] {
            assert!(!pg_unavailable(s), "{s}");
        }
        assert!(matches!(
            db_error(sqlx::Error::PoolTimedOut),
            StorageError::Unavailable(_)
        ));
        assert!(matches!(
            db_error(sqlx::Error::Io(std::io::Error::from(
                std::io::ErrorKind::ConnectionRefused
            ))),
            StorageError::Unavailable(_)
        ));
        assert!(matches!(
            db_error(sqlx::Error::RowNotFound),
            StorageError::Database(_)
        ));
    }

    #[test]
    fn slot_order_follows_the_request() {
        let wanted = dedup(&[[3; 32], [1; 32], [3; 32], [2; 32]]);
        assert_eq!(wanted, [[3; 32], [1; 32], [2; 32]]);
        let found = HashMap::from([([2; 32], vec![2]), ([3; 32], vec![3])]);
        assert_eq!(
            in_request_order(wanted, found),
            [([3; 32], vec![3]), ([2; 32], vec![2])]
        );
    }
}

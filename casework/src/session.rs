//! The desk's sessions: what a session token is, what the vault keeps of it,
//! and when a session is still valid.
//!
//! A session token is 32 random bytes (64 hex digits), the value of the
//! desk's cookie; the vault keeps only its SHA-256, so a copy of the vault
//! does not let anyone sign in. Each session has its own CSRF token (32
//! random bytes, hex), which every form of the desk carries.
//!
//! A session is valid on a request when ALL hold ([`check`]): it exists; it
//! has not been idle longer than the idle timeout (default 15 minutes) nor
//! lived longer than the absolute timeout; its account exists and is not
//! disabled; and the account's `generation` is the one the session was made
//! in (`account reset` and `account disable` bump it, which ends every
//! session of the account at once, on every desk sharing the vault).
//!
//! It owns these rules and the token's shape. It does not store (the vault
//! does), set cookies or read requests (the desk's web layer does), nor
//! decide who may do what.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A fresh random token: 32 bytes as 64 lowercase hex digits.
pub fn new_token() -> Zeroizing<String> {
    let mut b = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut b[..]).expect("the operating system's random source failed");
    Zeroizing::new(hex::encode(&b[..]))
}

/// The shape check of a token from a cookie: 64 lowercase hex digits.
pub fn well_formed(token: &str) -> bool {
    token.len() == 64
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What the vault keeps of a token: its SHA-256.
pub fn id_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// What [`check`] needs to know about the session and its account.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    /// When the session was made, unix seconds.
    pub created: i64,
    /// When it was last used, unix seconds.
    pub last_seen: i64,
    /// The account generation it was made in.
    pub session_generation: i64,
    /// The account's generation now, or `None` if the account is gone.
    pub account_generation: Option<i64>,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// Why a session is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Unused longer than the idle timeout.
    Idle,
    /// Older than the absolute timeout.
    Expired,
    /// The account is gone or disabled.
    AccountGone,
    /// The account was reset or disabled after the session began.
    Superseded,
}

/// Whether a session is valid at `now` (see the module's doc), or why not.
pub fn check(f: Facts, now: i64, idle_secs: i64, absolute_secs: i64) -> Result<(), Ended> {
    let Some(generation) = f.account_generation else {
        return Err(Ended::AccountGone);
    };
    if f.disabled {
        return Err(Ended::AccountGone);
    }
    if generation != f.session_generation {
        return Err(Ended::Superseded);
    }
    if now.saturating_sub(f.created) >= absolute_secs {
        return Err(Ended::Expired);
    }
    if now.saturating_sub(f.last_seen) >= idle_secs {
        return Err(Ended::Idle);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            created: 1000,
            last_seen: 1000,
            session_generation: 3,
            account_generation: Some(3),
            disabled: false,
        }
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let f = facts();
        assert_eq!(check(f, 1000 + 899, 900, 36_000), Ok(()));
        assert_eq!(check(f, 1000 + 900, 900, 36_000), Err(Ended::Idle));
        // Touched often, still over at the absolute limit.
        let busy = Facts {
            last_seen: 1000 + 35_990,
            ..f
        };
        assert_eq!(check(busy, 1000 + 35_999, 900, 36_000), Ok(()));
        assert_eq!(check(busy, 1000 + 36_000, 900, 36_000), Err(Ended::Expired));
    }

    #[test]
    fn a_generation_bump_or_disable_ends_the_session_at_once() {
        let f = facts();
        let bumped = Facts {
            account_generation: Some(4),
            ..f
        };
        assert_eq!(check(bumped, 1001, 900, 36_000), Err(Ended::Superseded));
        let disabled = Facts {
            disabled: true,
            ..f
        };
        assert_eq!(check(disabled, 1001, 900, 36_000), Err(Ended::AccountGone));
        let gone = Facts {
            account_generation: None,
            ..f
        };
        assert_eq!(check(gone, 1001, 900, 36_000), Err(Ended::AccountGone));
    }

    #[test]
    fn tokens_are_random_hex_and_only_their_hash_is_kept() {
        let a = new_token();
        let b = new_token();
        assert_ne!(*a, *b);
        assert!(well_formed(&a));
        assert!(!well_formed("ABC"));
        assert!(!well_formed(&a.to_uppercase()));
        assert_ne!(hex::encode(id_hash(&a)), *a);
        assert_eq!(id_hash(&a), id_hash(&a.clone()));
    }
}

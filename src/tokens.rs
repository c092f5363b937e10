//! Handler tokens: their shape, and the hash the database keeps instead of them.
//!
//! It owns what a token looks like (`qlt_` + 43 base64url characters: 32
//! random bytes) and turning one into the SHA-256 the storage looks up. Both
//! sides use it: the operator's `token issue` ([`crate::admin`]) stores the
//! hash, and `http/auth.rs` checks a bearer token's shape and hashes it before
//! asking the storage — so the HTTP layer needs nothing from `admin`. It does
//! not generate, store or revoke tokens, and never logs one.

use sha2::{Digest, Sha256};

use crate::storage::TokenHash;

/// Every handler token starts with this, so a leaked one is recognisable (and
/// secret scanners can be taught to spot it).
pub const TOKEN_PREFIX: &str = "qlt_";
/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Length of a token's base64url part (32 bytes, unpadded).
pub const TOKEN_B64_LEN: usize = 43;

/// What the database stores for a token: SHA-256 of the token string. A token
/// has 256 random bits, so a plain hash is enough (no salt or slow KDF needed).
pub fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether a string has a token's shape (checked before any database lookup).
pub fn token_is_well_formed(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|b64| {
        b64.len() == TOKEN_B64_LEN
            && b64
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_the_prefix_and_43_base64url_characters() {
        let body = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";
        assert_eq!(body.len(), TOKEN_B64_LEN);
        assert!(token_is_well_formed(&format!("qlt_{body}")));
        // Wrong prefix, no prefix, one character short or long, padding, '+'.
        assert!(!token_is_well_formed(&format!("qlx_{body}")));
        assert!(!token_is_well_formed(body));
        assert!(!token_is_well_formed(&format!("qlt_{}", &body[1..])));
        assert!(!token_is_well_formed(&format!("qlt_{body}A")));
        assert!(!token_is_well_formed(&format!("qlt_{}=", &body[1..])));
        assert!(!token_is_well_formed(&format!("qlt_+{}", &body[1..])));
        assert!(!token_is_well_formed(""));
    }

    #[test]
    fn the_stored_hash_is_sha256_of_the_token_text() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1: the hash is of the text as
        // typed, with nothing added, so an operator can check a row by hand.
        assert_eq!(
            hex::encode(token_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

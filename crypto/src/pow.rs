//! Proof-of-work on submissions (FORMAT.md#proof-of-work): the challenge a
//! server issues, the solution a sender attaches to one envelope, and the
//! checks that tell them apart.
//!
//! It owns the challenge layout and its MAC, the solution header's syntax, the
//! digest a solution is judged by, and a reference solver (for tests, the
//! benchmark and any Rust client). It does not read a clock (callers pass
//! `now`), draw randomness (callers pass the challenge id), or remember which
//! challenges were spent: replay protection needs shared state, which is the
//! server's storage.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Name of the HTTP header that carries a solution.
pub const HEADER: &str = "Quietline-Pow";
/// Version octet of a v1 challenge.
pub const VERSION: u8 = 1;
/// Length of a challenge in octets.
pub const CHALLENGE_LEN: usize = 58;
/// Length of a nonce in octets.
pub const NONCE_LEN: usize = 8;
/// Length of a challenge id in octets.
pub const ID_LEN: usize = 16;
/// The largest difficulty a challenge may carry, in leading zero bits.
pub const MAX_DIFFICULTY: u8 = 32;
/// Domain separation for the challenge MAC (26 bytes).
const MAC_LABEL: &[u8] = b"quietline/v1/pow-challenge";
/// Octets of a challenge covered by the MAC.
const SIGNED_LEN: usize = 26;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The server secret that authenticates challenges. Every instance that
/// shares it accepts the others' challenges. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PowKey([u8; 32]);

impl PowKey {
    /// A key from its 32 octets.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, signed: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC-SHA256 takes a key of any length");
        mac.update(MAC_LABEL);
        mac.update(signed);
        mac
    }
}

impl std::fmt::Debug for PowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PowKey(<redacted>)")
    }
}

/// Why a solution was refused (FORMAT.md#proof-of-work-errors). Messages say
/// which check failed; they never quote the header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// Not `<base64url challenge>.<base64url nonce>` with 58 and 8 octets.
    #[error(
        "the Quietline-Pow header must be <challenge>.<nonce>: the challenge exactly as received (base64url, 58 bytes) and an 8-byte nonce in base64url"
    )]
    Malformed,
    /// Unknown version, or the MAC does not verify: not issued by this service.
    #[error("the challenge was not issued by this service (or was altered)")]
    Forged,
    /// The challenge's expiry has passed.
    #[error("the challenge has expired")]
    Expired,
    /// The challenge's difficulty is below what the server requires now (its
    /// floor, or what it has asked for lately less a margin: [`Limits`]). A
    /// challenge fetched before the difficulty rose, or before a restart at a
    /// higher floor; fetching a new one is the remedy.
    #[error(
        "the challenge asks for {got} leading zero bits, and this server now requires at least {needed}: the difficulty has risen since it was fetched"
    )]
    Outdated {
        /// The least difficulty accepted now.
        needed: u8,
        /// The challenge's difficulty.
        got: u8,
    },
    /// The digest has fewer leading zero bits than the challenge's difficulty:
    /// the nonce is not a solution, or was found for another envelope.
    #[error(
        "the nonce does not solve the challenge for this envelope: {needed} leading zero bits are needed, the digest has {got}"
    )]
    Insufficient {
        /// The challenge's difficulty.
        needed: u8,
        /// Leading zero bits of the digest.
        got: u32,
    },
}

impl PowError {
    /// The stable error code (FORMAT.md#proof-of-work-errors).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "pow_malformed",
            Self::Forged => "pow_forged",
            Self::Expired => "pow_expired",
            Self::Outdated { .. } => "pow_outdated",
            Self::Insufficient { .. } => "pow_insufficient",
        }
    }
}

/// A verified challenge's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge {
    /// Leading zero bits a solution needs.
    pub difficulty: u8,
    /// Unix seconds after which the challenge is refused.
    pub expires: u64,
    /// Random id: what a server records to refuse a second use.
    pub id: [u8; ID_LEN],
}

impl Challenge {
    /// The challenge's 58 octets: version, difficulty, expiry, id, MAC
    /// (FORMAT.md#challenge). `difficulty` is capped at [`MAX_DIFFICULTY`].
    pub fn issue(&self, key: &PowKey) -> [u8; CHALLENGE_LEN] {
        let mut out = [0u8; CHALLENGE_LEN];
        out[0] = VERSION;
        out[1] = self.difficulty.min(MAX_DIFFICULTY);
        out[2..10].copy_from_slice(&self.expires.to_be_bytes());
        out[10..SIGNED_LEN].copy_from_slice(&self.id);
        let tag = key.mac(&out[..SIGNED_LEN]).finalize().into_bytes();
        out[SIGNED_LEN..].copy_from_slice(&tag);
        out
    }

    /// Check a challenge's length, version and MAC (in constant time) and
    /// return its fields. Expiry is not checked here: see [`verify`].
    pub fn verify(key: &PowKey, bytes: &[u8]) -> Result<Challenge, PowError> {
        if bytes.len() != CHALLENGE_LEN {
            return Err(PowError::Malformed);
        }
        key.mac(&bytes[..SIGNED_LEN])
            .verify_slice(&bytes[SIGNED_LEN..])
            .map_err(|_| PowError::Forged)?;
        // The version is under the MAC, so only our own issue() could have
        // written it; checking after the MAC keeps the two answers distinct.
        if bytes[0] != VERSION || bytes[1] > MAX_DIFFICULTY {
            return Err(PowError::Forged);
        }
        let mut expires = [0u8; 8];
        expires.copy_from_slice(&bytes[2..10]);
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&bytes[10..SIGNED_LEN]);
        Ok(Challenge {
            difficulty: bytes[1],
            expires: u64::from_be_bytes(expires),
            id,
        })
    }
}

/// A solution as carried in the header: the challenge octets and a nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// The challenge, exactly as issued.
    pub challenge: [u8; CHALLENGE_LEN],
    /// The nonce.
    pub nonce: [u8; NONCE_LEN],
}

impl Solution {
    /// Parse `<base64url challenge>.<base64url nonce>` (FORMAT.md#solution).
    pub fn parse(header: &str) -> Result<Solution, PowError> {
        let (c, n) = header.trim().split_once('.').ok_or(PowError::Malformed)?;
        let challenge = decode_exact::<CHALLENGE_LEN>(c)?;
        let nonce = decode_exact::<NONCE_LEN>(n)?;
        Ok(Solution { challenge, nonce })
    }

    /// The header value.
    pub fn to_header(&self) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(self.challenge),
            URL_SAFE_NO_PAD.encode(self.nonce)
        )
    }
}

fn decode_exact<const N: usize>(text: &str) -> Result<[u8; N], PowError> {
    // The engine refuses padding and non-canonical trailing bits.
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| PowError::Malformed)?;
    bytes.try_into().map_err(|_| PowError::Malformed)
}

/// SHA-256 of the envelope: what binds a solution to one envelope.
pub fn envelope_hash(envelope: &[u8]) -> [u8; 32] {
    Sha256::digest(envelope).into()
}

/// SHA-256(challenge ‖ SHA-256(envelope) ‖ nonce) (FORMAT.md#solution).
pub fn digest(
    challenge: &[u8; CHALLENGE_LEN],
    envelope_hash: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
) -> [u8; 32] {
    Sha256::new()
        .chain_update(challenge)
        .chain_update(envelope_hash)
        .chain_update(nonce)
        .finalize()
        .into()
}

/// Leading zero bits of a digest, counted from the first octet's most
/// significant bit (0 to 256).
pub fn leading_zero_bits(digest: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for &b in digest {
        if b == 0 {
            bits += 8;
        } else {
            return bits + b.leading_zeros();
        }
    }
    bits
}

/// What a server accepts beyond a valid MAC (FORMAT.md#verifying, steps 4
/// and 6): what it could have issued itself, at a difficulty it still asks
/// for. Without these, whoever reads the key `K` could mint challenges of
/// difficulty 0 or ones that never expire, and a stockpile of challenges
/// fetched at the floor would stay good after the difficulty rose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Least difficulty accepted (step 6, `pow_outdated`).
    pub min_difficulty: u8,
    /// Every expiry the server issues is a multiple of this, in seconds
    /// (step 4, `pow_forged`); 1 accepts any.
    pub granule: u64,
    /// Furthest an expiry may lie ahead of `now`, in seconds: the longest
    /// lifetime the server gives a challenge, plus any allowance for the
    /// clocks of instances sharing `K` (step 4, `pow_forged`).
    pub max_ahead: u64,
}

impl Limits {
    /// No limits: the format's own checks only (what `pow-v1.json` tests).
    pub const NONE: Limits = Limits {
        min_difficulty: 0,
        granule: 1,
        max_ahead: u64::MAX,
    };
}

/// The format's own checks of a solution header for one envelope at time
/// `now` (FORMAT.md#verifying steps 2, 3, 5 and 7): syntax, MAC, expiry,
/// work — [`verify_with`] with [`Limits::NONE`]. A server checks its own
/// limits too, with [`verify_with`].
pub fn verify(
    key: &PowKey,
    header: &str,
    envelope: &[u8],
    now: u64,
) -> Result<Challenge, PowError> {
    verify_with(key, header, envelope, now, &Limits::NONE)
}

/// The whole check of a solution header for one envelope at time `now`, in
/// the order of FORMAT.md#verifying: syntax, MAC, an expiry this server could
/// have issued, expiry, difficulty still asked for, work (steps 2–7). Whether
/// the challenge was already spent is the caller's check (step 8: it needs
/// shared state). Everything before the work is a few comparisons after one
/// HMAC, so a refused challenge never costs a hash of the envelope.
pub fn verify_with(
    key: &PowKey,
    header: &str,
    envelope: &[u8],
    now: u64,
    limits: &Limits,
) -> Result<Challenge, PowError> {
    let solution = Solution::parse(header)?;
    let challenge = Challenge::verify(key, &solution.challenge)?;
    // A server never issues an expiry off its grid or beyond its lifetime:
    // such a challenge was made with the key, not fetched. (Off the grid it
    // would also break a store's rule that spent challenges carry only
    // five-minute expiries.)
    if challenge.expires % limits.granule.max(1) != 0
        || challenge.expires > now.saturating_add(limits.max_ahead)
    {
        return Err(PowError::Forged);
    }
    if now >= challenge.expires {
        return Err(PowError::Expired);
    }
    if challenge.difficulty < limits.min_difficulty {
        return Err(PowError::Outdated {
            needed: limits.min_difficulty,
            got: challenge.difficulty,
        });
    }
    let got = leading_zero_bits(&digest(
        &solution.challenge,
        &envelope_hash(envelope),
        &solution.nonce,
    ));
    if got < u32::from(challenge.difficulty) {
        return Err(PowError::Insufficient {
            needed: challenge.difficulty,
            got,
        });
    }
    Ok(challenge)
}

/// Search nonces `start, start+1, …` (as big-endian u64) for at most
/// `max_tries` tries; the first whose digest has `difficulty` leading zero
/// bits. Expected tries: 2^difficulty. The first 64 octets of the hashed input
/// are the same for every nonce, so their compression is done once.
pub fn solve(
    challenge: &[u8; CHALLENGE_LEN],
    envelope_hash: &[u8; 32],
    difficulty: u8,
    start: u64,
    max_tries: u64,
) -> Option<[u8; NONCE_LEN]> {
    let prefix = Sha256::new()
        .chain_update(challenge)
        .chain_update(envelope_hash);
    let needed = u32::from(difficulty);
    for i in 0..max_tries {
        let nonce = start.wrapping_add(i).to_be_bytes();
        let d: [u8; 32] = prefix.clone().chain_update(nonce).finalize().into();
        if leading_zero_bits(&d) >= needed {
            return Some(nonce);
        }
    }
    None
}

/// A client's whole job for one submission: solve `challenge` — the base64url
/// text exactly as `GET /api/v1/challenge` gave it — over `envelope`, at the
/// difficulty the challenge itself carries, and return the `Quietline-Pow`
/// header value. `Err(Malformed)` if the text is not a challenge.
pub fn solve_header(challenge: &str, envelope: &[u8]) -> Result<String, PowError> {
    let bytes = decode_exact::<CHALLENGE_LEN>(challenge)?;
    let difficulty = bytes[1];
    if difficulty > MAX_DIFFICULTY {
        return Err(PowError::Malformed);
    }
    let nonce = solve(&bytes, &envelope_hash(envelope), difficulty, 0, u64::MAX)
        .ok_or(PowError::Malformed)?;
    Ok(Solution {
        challenge: bytes,
        nonce,
    }
    .to_header())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PowKey {
        PowKey::from_bytes([7; 32])
    }

    fn challenge(difficulty: u8, expires: u64) -> [u8; CHALLENGE_LEN] {
        Challenge {
            difficulty,
            expires,
            id: [9; ID_LEN],
        }
        .issue(&key())
    }

    fn header(c: [u8; CHALLENGE_LEN], envelope: &[u8], difficulty: u8) -> String {
        let nonce = solve(&c, &envelope_hash(envelope), difficulty, 0, 1 << 24).unwrap();
        Solution {
            challenge: c,
            nonce,
        }
        .to_header()
    }

    #[test]
    fn a_solution_verifies_and_returns_the_fields() {
        let c = challenge(10, 1000);
        let h = header(c, b"envelope", 10);
        let v = verify(&key(), &h, b"envelope", 999).unwrap();
        assert_eq!(
            v,
            Challenge {
                difficulty: 10,
                expires: 1000,
                id: [9; ID_LEN]
            }
        );
    }

    #[test]
    fn every_refusal_has_its_own_error() {
        let c = challenge(12, 1000);
        let h = header(c, b"envelope", 12);
        // Expired at the expiry second itself.
        assert_eq!(
            verify(&key(), &h, b"envelope", 1000),
            Err(PowError::Expired)
        );
        // Another envelope: the digest is unrelated, so almost surely short.
        assert!(matches!(
            verify(&key(), &h, b"another envelope", 0),
            Err(PowError::Insufficient { needed: 12, .. })
        ));
        // Another key: forged.
        assert_eq!(
            verify(&PowKey::from_bytes([8; 32]), &h, b"envelope", 0),
            Err(PowError::Forged)
        );
        // Any flipped bit of the challenge: forged.
        for i in 0..CHALLENGE_LEN * 8 {
            let mut bad = c;
            bad[i / 8] ^= 1 << (i % 8);
            let s = Solution {
                challenge: bad,
                nonce: [0; 8],
            };
            assert_eq!(
                verify(&key(), &s.to_header(), b"envelope", 0),
                Err(PowError::Forged),
                "bit {i}"
            );
        }
        for bad in [
            "",
            ".",
            "abc",
            &h.replace('.', ""),
            &format!("{h}A"),
            &format!("{h}.AAAAAAAAAAA"),
            &format!("{h}="),
            &h.replacen('.', "=.", 1),
        ] {
            assert_eq!(
                verify(&key(), bad, b"envelope", 0),
                Err(PowError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn solve_header_solves_at_the_challenges_own_difficulty() {
        let c = challenge(9, 1000);
        let text = URL_SAFE_NO_PAD.encode(c);
        let h = solve_header(&text, b"envelope").unwrap();
        assert!(h.starts_with(&format!("{text}.")));
        assert_eq!(verify(&key(), &h, b"envelope", 0).unwrap().difficulty, 9);
        assert_eq!(
            solve_header("not a challenge", b"x"),
            Err(PowError::Malformed)
        );
    }

    #[test]
    fn limits_refuse_what_the_server_would_never_issue_and_stale_difficulties() {
        let limits = Limits {
            min_difficulty: 10,
            granule: 300,
            max_ahead: 960,
        };
        let now = 1_795_823_000;
        let at = |difficulty: u8, expires: u64| {
            let c = challenge(difficulty, expires);
            verify_with(
                &key(),
                &header(c, b"envelope", difficulty),
                b"envelope",
                now,
                &limits,
            )
        };
        // On the grid, within the lifetime, at the least difficulty: accepted.
        assert!(at(10, 1_795_823_700).is_ok());
        assert!(at(12, 1_795_823_400).is_ok());
        // Minted with the key: expiry off the grid, or too far ahead.
        assert_eq!(at(10, 1_795_823_701), Err(PowError::Forged));
        assert_eq!(at(10, 1_795_824_000), Err(PowError::Forged));
        assert_eq!(at(10, 4_102_444_800), Err(PowError::Forged));
        // Below the least difficulty (difficulty 0 included): outdated.
        assert_eq!(
            at(0, 1_795_823_700),
            Err(PowError::Outdated { needed: 10, got: 0 })
        );
        assert_eq!(at(9, 1_795_823_700).unwrap_err().code(), "pow_outdated");
        // The order of FORMAT.md#verifying: forged before expired before
        // outdated before insufficient.
        assert_eq!(at(0, 1_795_822_801), Err(PowError::Forged));
        assert_eq!(at(0, 1_795_822_800), Err(PowError::Expired));
        let c = challenge(0, 1_795_823_700);
        let s = Solution {
            challenge: c,
            nonce: [0xff; 8],
        };
        assert!(matches!(
            verify_with(&key(), &s.to_header(), b"x", now, &limits),
            Err(PowError::Outdated { .. })
        ));
        // Without limits, only the format's checks.
        assert!(verify(&key(), &s.to_header(), b"x", now).is_ok());
    }

    #[test]
    fn difficulty_zero_accepts_any_nonce() {
        let c = challenge(0, 10);
        let s = Solution {
            challenge: c,
            nonce: [0xff; 8],
        };
        assert!(verify(&key(), &s.to_header(), b"x", 0).is_ok());
    }

    #[test]
    fn difficulty_is_capped() {
        let c = challenge(200, 10);
        assert_eq!(
            Challenge::verify(&key(), &c).unwrap().difficulty,
            MAX_DIFFICULTY
        );
    }

    #[test]
    fn leading_zeros() {
        let mut d = [0u8; 32];
        assert_eq!(leading_zero_bits(&d), 256);
        d[0] = 0x80;
        assert_eq!(leading_zero_bits(&d), 0);
        d[0] = 0;
        d[1] = 0x01;
        assert_eq!(leading_zero_bits(&d), 15);
    }

    #[test]
    fn the_key_prints_redacted() {
        assert_eq!(format!("{:?}", key()), "PowKey(<redacted>)");
    }
}

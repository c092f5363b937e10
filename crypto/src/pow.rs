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
    /// Not `<base64url challenge>.<base64url work>` with 58 octets and 9
    /// (block 1) or 41 (blocks 2–255).
    #[error(
        "the Quietline-Pow header must be <challenge>.<work>: the challenge exactly as received (base64url, 58 bytes), then in base64url the 8-byte nonce, the block (1 to 255) and, for blocks 2 to 255, the 32-byte block before it"
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
    /// the work is not a solution, or was found for another envelope.
    #[error(
        "the work does not solve the challenge for this envelope: {needed} leading zero bits are needed, the digest has {got}"
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

/// Blocks in one HKDF-SHA256 expansion (RFC 5869: at most 255 × 32 octets):
/// the tries one nonce gives.
pub const BLOCKS: u8 = 255;
/// Octets of a solution's work for block 1: nonce and block.
pub const WORK_MIN_LEN: usize = NONCE_LEN + 1;
/// Octets of a solution's work for blocks 2–255: nonce, block, previous block.
pub const WORK_MAX_LEN: usize = NONCE_LEN + 1 + 32;

/// The varying part of a solution (FORMAT.md#solution): a nonce (the
/// HKDF-Expand `info`), which block of that expansion solves the challenge
/// (1–255), and the block before it (`T(block − 1)`; none for block 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// The nonce: HKDF-Expand's `info`.
    pub nonce: [u8; NONCE_LEN],
    /// The block, 1 to [`BLOCKS`].
    pub block: u8,
    /// `T(block − 1)`: `Some` exactly when `block` ≥ 2.
    pub prev: Option<[u8; 32]>,
}

impl Work {
    /// The first block of a nonce's expansion (no block before it).
    pub fn first(nonce: [u8; NONCE_LEN]) -> Work {
        Work {
            nonce,
            block: 1,
            prev: None,
        }
    }

    /// The octets carried in the header: nonce ‖ block ‖ prev (9 or 41).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(WORK_MAX_LEN);
        out.extend_from_slice(&self.nonce);
        out.push(self.block);
        if let Some(prev) = &self.prev {
            out.extend_from_slice(prev);
        }
        out
    }

    /// Parse [`Work::to_bytes`]: 9 octets with block 1, or 41 with block 2–255.
    pub fn from_bytes(bytes: &[u8]) -> Result<Work, PowError> {
        let mut nonce = [0u8; NONCE_LEN];
        match bytes.len() {
            WORK_MIN_LEN if bytes[NONCE_LEN] == 1 => {
                nonce.copy_from_slice(&bytes[..NONCE_LEN]);
                Ok(Work::first(nonce))
            }
            WORK_MAX_LEN if bytes[NONCE_LEN] >= 2 => {
                nonce.copy_from_slice(&bytes[..NONCE_LEN]);
                let mut prev = [0u8; 32];
                prev.copy_from_slice(&bytes[WORK_MIN_LEN..]);
                Ok(Work {
                    nonce,
                    block: bytes[NONCE_LEN],
                    prev: Some(prev),
                })
            }
            _ => Err(PowError::Malformed),
        }
    }
}

/// A solution as carried in the header: the challenge octets and the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// The challenge, exactly as issued.
    pub challenge: [u8; CHALLENGE_LEN],
    /// Nonce, block and the block before it.
    pub work: Work,
}

impl Solution {
    /// Parse `<base64url challenge>.<base64url work>` (FORMAT.md#solution).
    pub fn parse(header: &str) -> Result<Solution, PowError> {
        let (c, w) = header.trim().split_once('.').ok_or(PowError::Malformed)?;
        let challenge = decode_exact::<CHALLENGE_LEN>(c)?;
        // Longer than the longest work: refused before decoding it.
        if w.len() > WORK_MAX_LEN.div_ceil(3) * 4 {
            return Err(PowError::Malformed);
        }
        let work = URL_SAFE_NO_PAD.decode(w).map_err(|_| PowError::Malformed)?;
        Ok(Solution {
            challenge,
            work: Work::from_bytes(&work)?,
        })
    }

    /// The header value.
    pub fn to_header(&self) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(self.challenge),
            URL_SAFE_NO_PAD.encode(self.work.to_bytes())
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

/// The digest a solution is judged by (FORMAT.md#solution):
/// HMAC-SHA256(PRK, prev ‖ nonce ‖ block) with PRK = HKDF-Extract(salt =
/// challenge, IKM = SHA-256(envelope)): block `block` of HKDF-Expand(PRK,
/// info = nonce) when `prev` is the block before it. Any `prev` gives a
/// digest; what it costs is the one HMAC, whoever chose it.
pub fn digest(challenge: &[u8; CHALLENGE_LEN], envelope_hash: &[u8; 32], work: &Work) -> [u8; 32] {
    let (prk, _) = hkdf::Hkdf::<Sha256>::extract(Some(challenge), envelope_hash);
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&prk)
        .expect("HMAC-SHA256 takes a key of any length");
    if let Some(prev) = &work.prev {
        mac.update(prev);
    }
    mac.update(&work.nonce);
    mac.update(&[work.block]);
    mac.finalize().into_bytes().into()
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
        &solution.work,
    ));
    if got < u32::from(challenge.difficulty) {
        return Err(PowError::Insufficient {
            needed: challenge.difficulty,
            got,
        });
    }
    Ok(challenge)
}

/// Search nonces `start, start+1, …` (as big-endian u64), each giving
/// [`BLOCKS`] tries (its HKDF-Expand output, FORMAT.md#solution), for at most
/// `max_tries` tries in all; the first block with `difficulty` leading zero
/// bits. Expected tries: 2^difficulty.
pub fn solve(
    challenge: &[u8; CHALLENGE_LEN],
    envelope_hash: &[u8; 32],
    difficulty: u8,
    start: u64,
    max_tries: u64,
) -> Option<Work> {
    let (_, hkdf) = hkdf::Hkdf::<Sha256>::extract(Some(challenge), envelope_hash);
    let needed = u32::from(difficulty);
    let mut okm = [0u8; BLOCKS as usize * 32];
    let mut tries = 0u64;
    for n in 0u64.. {
        let blocks = u64::from(BLOCKS).min(max_tries - tries);
        if blocks == 0 {
            break;
        }
        let nonce = start.wrapping_add(n).to_be_bytes();
        let len = usize::try_from(blocks).expect("at most 255") * 32;
        hkdf.expand(&nonce, &mut okm[..len])
            .expect("at most 255 blocks");
        for (i, block) in okm[..len].chunks_exact(32).enumerate() {
            let block: &[u8; 32] = block.try_into().expect("32 octets");
            if leading_zero_bits(block) >= needed {
                let prev =
                    (i > 0).then(|| okm[(i - 1) * 32..i * 32].try_into().expect("32 octets"));
                let block = u8::try_from(i + 1).expect("at most 255");
                return Some(Work { nonce, block, prev });
            }
        }
        tries += blocks;
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
    let work = solve(&bytes, &envelope_hash(envelope), difficulty, 0, u64::MAX)
        .ok_or(PowError::Malformed)?;
    Ok(Solution {
        challenge: bytes,
        work,
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
        let work = solve(&c, &envelope_hash(envelope), difficulty, 0, 1 << 24).unwrap();
        Solution { challenge: c, work }.to_header()
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
        let ct = URL_SAFE_NO_PAD.encode(c);
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
                work: Work::first([0; 8]),
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
            &format!("{h}.AAAAAAAAAAB"),
            &format!("{ct}.AAAAAAAAAAAA"),
            &format!("{ct}.AAAAAAAAAAAC"),
            &format!("{ct}.AAAAAAAAAAAAAAA"),
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
            work: Work::first([0xff; 8]),
        };
        assert!(matches!(
            verify_with(&key(), &s.to_header(), b"x", now, &limits),
            Err(PowError::Outdated { .. })
        ));
        // Without limits, only the format's checks.
        assert!(verify(&key(), &s.to_header(), b"x", now).is_ok());
    }

    #[test]
    fn a_solution_is_a_block_of_the_hkdf_expansion_and_any_block_verifies() {
        let c = challenge(0, 1000);
        let hash = envelope_hash(b"envelope");
        let mut okm = [0u8; 255 * 32];
        hkdf::Hkdf::<Sha256>::new(Some(&c), &hash)
            .expand(&[0, 0, 0, 0, 0, 0, 0, 5], &mut okm)
            .unwrap();
        for block in [1u8, 2, 200, 255] {
            let i = usize::from(block);
            let work = Work {
                nonce: [0, 0, 0, 0, 0, 0, 0, 5],
                block,
                prev: (i > 1).then(|| okm[(i - 2) * 32..(i - 1) * 32].try_into().unwrap()),
            };
            assert_eq!(digest(&c, &hash, &work)[..], okm[(i - 1) * 32..i * 32]);
            let s = Solution { challenge: c, work };
            assert_eq!(Solution::parse(&s.to_header()), Ok(s));
        }
        // The solver's answer is the first block with enough zero bits, and
        // its header verifies; one a few blocks in carries the one before.
        for d in [4u8, 9, 13] {
            let c = challenge(d, 1000);
            let work = solve(&c, &hash, d, 0, 1 << 24).unwrap();
            assert!(leading_zero_bits(&digest(&c, &hash, &work)) >= u32::from(d));
            assert_eq!(work.prev.is_some(), work.block > 1);
            let h = Solution { challenge: c, work }.to_header();
            assert!(verify(&key(), &h, b"envelope", 0).is_ok());
        }
        // A bound of fewer tries than the first solution needs: none.
        let c = challenge(16, 1000);
        let first = solve(&c, &hash, 16, 0, u64::MAX).unwrap();
        let tries = u64::from_be_bytes(first.nonce) * 255 + u64::from(first.block);
        assert_eq!(solve(&c, &hash, 16, 0, tries), Some(first));
        assert_eq!(solve(&c, &hash, 16, 0, tries - 1), None);
    }

    #[test]
    fn difficulty_zero_accepts_any_nonce() {
        let c = challenge(0, 10);
        let s = Solution {
            challenge: c,
            work: Work::first([0xff; 8]),
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

//! Force signing keys and key statements (FORMAT.md#key-statements): the
//! Ed25519 keys a force holds to vouch for each encryption key it publishes,
//! the byte encoding of a statement, signing it k-of-n, and the numbered
//! verification steps a reader (the page, the console, the server) follows.
//!
//! It does not store or fetch anything, keep the chain of statements or know
//! today's date: callers pass the signer set they trust, the statement before
//! (if they hold it) and the UTC day. Key generation takes its randomness from
//! the caller. Ed25519 is `ed25519-dalek` (RFC 8032, verified with
//! `verify_strict`); SHA-256 is RustCrypto's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::keys::{KeyId, PublicKey, Suite};

/// The first four octets of every statement (FORMAT.md#statement-encoding).
pub const MAGIC: &[u8; 4] = b"QLKS";
/// The statement format version.
pub const VERSION: u8 = 1;
/// Domain-separation label of a signer id (FORMAT.md#signing-keys).
pub const SIGNER_ID_LABEL: &[u8] = b"quietline/v1/signer-id";
/// Most signers in a set, and most signatures on one statement.
pub const MAX_SIGNERS: usize = 16;
/// The `prev_hash` of a force's first statement (sequence 0).
pub const NO_PREVIOUS: [u8; 32] = [0; 32];

/// Why a statement or a signer set was refused. Each has a stable code
/// ([`StatementError::code`], FORMAT.md#statement-errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// The octets end before the statement does.
    #[error("the key statement is cut short")]
    Truncated,
    /// Does not start with `QLKS`.
    #[error("this is not a Quietline key statement")]
    BadMagic,
    /// Version octet other than 1.
    #[error("key statement version {0} is not understood by this version of Quietline")]
    UnknownVersion(u8),
    /// Force id not `[a-z0-9-]{1,64}`.
    #[error("the key statement's force id is not 1 to 64 characters of a-z, 0-9 and -")]
    InvalidForceId,
    /// KEM id not one of the suites.
    #[error("the key statement names an encryption suite this version does not know")]
    UnknownSuite,
    /// Public key of the wrong length for its suite, or not a valid key.
    #[error("the key statement's public key is not a valid key of its suite")]
    BadPublicKey,
    /// The key id is not the key id of the public key.
    #[error("the key statement's key id is not the key id of its public key")]
    KeyIdMismatch,
    /// `valid_until` before `valid_from`.
    #[error("the key statement's validity ends before it begins")]
    BadValidity,
    /// No signature, or more than [`MAX_SIGNERS`].
    #[error("a key statement carries 1 to 16 signatures; this one carries {0}")]
    SignatureCount(usize),
    /// Signer ids not strictly ascending (a repeated signer, or out of order).
    #[error(
        "the key statement's signatures are not in ascending signer-id order, or a signer signed twice"
    )]
    SignatureOrder,
    /// Octets after the last signature.
    #[error("the key statement has octets after its last signature")]
    TrailingBytes,
    /// A signature by a key that is not in the force's signer set.
    #[error("the key statement is signed by {0}, which is not one of the force's signing keys")]
    UnknownSigner(SignerId),
    /// A signature that does not verify.
    #[error(
        "the signature by signing key {0} does not verify: the statement was altered or not signed by that key"
    )]
    BadSignature(SignerId),
    /// Fewer valid signatures than the set's threshold.
    #[error("the key statement carries {found} valid signature(s); the force requires {needed}")]
    NotEnoughSignatures {
        /// Valid signatures by distinct signers of the set.
        found: usize,
        /// The set's threshold.
        needed: usize,
    },
    /// The statement is for another force than expected.
    #[error("the key statement is for force {found:?}, not {expected:?}")]
    WrongForce {
        /// The force asked about.
        expected: String,
        /// The statement's force.
        found: String,
    },
    /// Sequence or previous hash do not continue the statement before.
    #[error("the key statement does not follow the force's previous statement ({0})")]
    BrokenChain(&'static str),
    /// Outside its validity on the given day.
    #[error(
        "the key is not valid today (valid from day {from} to day {until}; today is day {today})"
    )]
    NotCurrent {
        /// First valid day.
        from: u32,
        /// Last valid day.
        until: u32,
        /// The day checked.
        today: u32,
    },
    /// A signer set that breaks its rules (threshold, size, a repeated or weak key).
    #[error("invalid signer set: {0}")]
    BadSignerSet(&'static str),
    /// Not base64url.
    #[error("a key statement is written as base64url without padding")]
    NotBase64url,
}

impl StatementError {
    /// The stable snake_case code (FORMAT.md#statement-errors).
    pub fn code(&self) -> &'static str {
        match self {
            StatementError::Truncated => "truncated",
            StatementError::BadMagic => "bad_magic",
            StatementError::UnknownVersion(_) => "unknown_version",
            StatementError::InvalidForceId => "invalid_force_id",
            StatementError::UnknownSuite => "unknown_suite",
            StatementError::BadPublicKey => "bad_public_key",
            StatementError::KeyIdMismatch => "key_id_mismatch",
            StatementError::BadValidity => "bad_validity",
            StatementError::SignatureCount(_) => "signature_count",
            StatementError::SignatureOrder => "signature_order",
            StatementError::TrailingBytes => "trailing_bytes",
            StatementError::UnknownSigner(_) => "unknown_signer",
            StatementError::BadSignature(_) => "bad_signature",
            StatementError::NotEnoughSignatures { .. } => "not_enough_signatures",
            StatementError::WrongForce { .. } => "wrong_force",
            StatementError::BrokenChain(_) => "broken_chain",
            StatementError::NotCurrent { .. } => "not_current",
            StatementError::BadSignerSet(_) => "bad_signer_set",
            StatementError::NotBase64url => "not_base64url",
        }
    }
}

/// An 8-octet signer id: the first 8 octets of
/// SHA-256("quietline/v1/signer-id" ‖ Ed25519 public key) (FORMAT.md#signing-keys).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignerId(pub [u8; 8]);

impl SignerId {
    /// Lowercase hex, 16 digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for SignerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignerId({})", self.to_hex())
    }
}

impl std::fmt::Display for SignerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A force's Ed25519 signing public key.
#[derive(Clone, PartialEq, Eq)]
pub struct SignerKey(VerifyingKey);

impl SignerKey {
    /// From its 32 octets. Refuses an encoding that is not a curve point and a
    /// small-order ("weak") key, which could make forged signatures verify.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignerKey, StatementError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StatementError::BadSignerSet("a signing public key is 32 octets"))?;
        let vk = VerifyingKey::from_bytes(&arr).map_err(|_| {
            StatementError::BadSignerSet("a signing public key is not a valid Ed25519 key")
        })?;
        if vk.is_weak() {
            return Err(StatementError::BadSignerSet(
                "a signing public key is a small-order (weak) Ed25519 key",
            ));
        }
        Ok(SignerKey(vk))
    }
    /// From 43 base64url characters.
    pub fn from_base64url(s: &str) -> Result<SignerKey, StatementError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| StatementError::NotBase64url)?;
        SignerKey::from_bytes(&bytes)
    }
    /// The 32 octets.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    /// base64url without padding, 43 characters.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.to_bytes())
    }
    /// Its signer id.
    pub fn signer_id(&self) -> SignerId {
        let d = Sha256::new()
            .chain_update(SIGNER_ID_LABEL)
            .chain_update(self.0.to_bytes())
            .finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&d[..8]);
        SignerId(id)
    }
    /// The fingerprint a force publishes out of band: the hex SHA-256 of the
    /// public key, in eight groups of eight digits (FORMAT.md#signing-keys).
    pub fn fingerprint(&self) -> String {
        let h = hex::encode(Sha256::digest(self.0.to_bytes()));
        h.as_bytes()
            .chunks(8)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignerKey({})", self.to_base64url())
    }
}

/// A force's Ed25519 signing key (private). Zeroized on drop; Debug shows
/// only its signer id.
#[derive(Clone)]
pub struct SigningSecret(SigningKey);

impl SigningSecret {
    /// From its 32-octet RFC 8032 seed.
    pub fn from_seed(seed: &[u8; 32]) -> SigningSecret {
        SigningSecret(SigningKey::from_bytes(seed))
    }
    /// A fresh key from the caller's randomness.
    pub fn generate(rng: &mut impl rand_core::CryptoRng) -> SigningSecret {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        SigningSecret::from_seed(&seed)
    }
    /// The 32-octet seed (for sealing into a signing-key file).
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }
    /// The public half.
    pub fn public_key(&self) -> SignerKey {
        SignerKey(self.0.verifying_key())
    }
    fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningSecret({}, redacted)",
            self.public_key().signer_id()
        )
    }
}

/// The signing keys a reader trusts for one force, and how many of them
/// must sign: k-of-n, `1 ≤ k ≤ n ≤ 16` (FORMAT.md#signing-keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerSet {
    keys: Vec<SignerKey>,
    threshold: usize,
}

impl SignerSet {
    /// A set of `keys` of which `threshold` must sign. Refuses an empty set,
    /// more than 16 keys, a threshold outside 1..=n, and a key given twice.
    pub fn new(keys: Vec<SignerKey>, threshold: usize) -> Result<SignerSet, StatementError> {
        if keys.is_empty() || keys.len() > MAX_SIGNERS {
            return Err(StatementError::BadSignerSet(
                "a force has 1 to 16 signing keys",
            ));
        }
        if threshold == 0 || threshold > keys.len() {
            return Err(StatementError::BadSignerSet(
                "the threshold is at least 1 and at most the number of signing keys",
            ));
        }
        let mut ids: Vec<SignerId> = keys.iter().map(SignerKey::signer_id).collect();
        ids.sort();
        ids.dedup();
        if ids.len() != keys.len() {
            return Err(StatementError::BadSignerSet(
                "a signing key is listed twice",
            ));
        }
        Ok(SignerSet { keys, threshold })
    }
    /// A 1-of-1 set.
    pub fn single(key: SignerKey) -> SignerSet {
        SignerSet {
            keys: vec![key],
            threshold: 1,
        }
    }
    /// The keys.
    pub fn keys(&self) -> &[SignerKey] {
        &self.keys
    }
    /// How many must sign.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
    fn find(&self, id: SignerId) -> Option<&SignerKey> {
        self.keys.iter().find(|k| k.signer_id() == id)
    }
}

/// The content of a key statement: what a force vouches for
/// (FORMAT.md#statement-encoding). Days are UTC days since 1970-01-01.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatement {
    /// The force publishing the key.
    pub force_id: String,
    /// The encryption public key (its suite and key id follow from it).
    pub public_key: PublicKey,
    /// First day the key may be sealed to.
    pub valid_from: u32,
    /// Last day the key may be sealed to (inclusive).
    pub valid_until: u32,
    /// 0 for the force's first statement, then one more each time.
    pub sequence: u64,
    /// [`KeyStatement::hash`] of the statement before, or [`NO_PREVIOUS`].
    pub prev_hash: [u8; 32],
}

impl KeyStatement {
    /// The key id of the public key.
    pub fn key_id(&self) -> KeyId {
        self.public_key.key_id()
    }
    /// The signed octets (FORMAT.md#statement-encoding).
    pub fn body(&self) -> Vec<u8> {
        let pk = self.public_key.as_bytes();
        let mut b = Vec::with_capacity(80 + self.force_id.len() + pk.len());
        b.extend_from_slice(MAGIC);
        b.push(VERSION);
        // The force id is 1 to 64 octets (checked when signing and parsing).
        b.push(self.force_id.len() as u8);
        b.extend_from_slice(self.force_id.as_bytes());
        b.extend_from_slice(&self.key_id().0);
        b.extend_from_slice(&self.public_key.suite().kem_id().to_be_bytes());
        b.extend_from_slice(&(pk.len() as u16).to_be_bytes());
        b.extend_from_slice(pk);
        b.extend_from_slice(&self.valid_from.to_be_bytes());
        b.extend_from_slice(&self.valid_until.to_be_bytes());
        b.extend_from_slice(&self.sequence.to_be_bytes());
        b.extend_from_slice(&self.prev_hash);
        b
    }
    /// SHA-256 of the body: what the next statement's `prev_hash` holds.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.body()).into()
    }
    /// The statement that follows `self` for `public_key`.
    pub fn next(&self, public_key: PublicKey, valid_from: u32, valid_until: u32) -> KeyStatement {
        KeyStatement {
            force_id: self.force_id.clone(),
            public_key,
            valid_from,
            valid_until,
            sequence: self.sequence + 1,
            prev_hash: self.hash(),
        }
    }
    /// Whether the key may be sealed to on `day`.
    pub fn is_current(&self, day: u32) -> Result<(), StatementError> {
        if self.valid_from <= day && day <= self.valid_until {
            Ok(())
        } else {
            Err(StatementError::NotCurrent {
                from: self.valid_from,
                until: self.valid_until,
                today: day,
            })
        }
    }
    /// Step 9 of FORMAT.md#verifying-a-statement: does `self` continue `prev`
    /// (or start the chain when `prev` is `None`)?
    pub fn follows(&self, prev: Option<&KeyStatement>) -> Result<(), StatementError> {
        match prev {
            None if self.sequence != 0 => Err(StatementError::BrokenChain(
                "a first statement has sequence 0",
            )),
            None if self.prev_hash != NO_PREVIOUS => Err(StatementError::BrokenChain(
                "a first statement's previous hash is all zero",
            )),
            None => Ok(()),
            Some(p) if p.force_id != self.force_id => Err(StatementError::BrokenChain(
                "the previous statement is another force's",
            )),
            Some(p) if Some(self.sequence) != p.sequence.checked_add(1) => {
                Err(StatementError::BrokenChain(
                    "the sequence number is not one more than the previous",
                ))
            }
            Some(p) if p.hash() != self.prev_hash => Err(StatementError::BrokenChain(
                "the previous hash is not the hash of the previous statement",
            )),
            Some(_) => Ok(()),
        }
    }
}

/// A key statement with its signatures, and its exact octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedStatement {
    statement: KeyStatement,
    signatures: Vec<(SignerId, [u8; 64])>,
    bytes: Vec<u8>,
}

impl SignedStatement {
    /// Sign `statement` with each of `signers` (FORMAT.md#signing-a-statement).
    /// Refuses an invalid statement (force id, validity) and 0 or more than
    /// 16 signers, or one signer twice.
    pub fn sign(
        statement: KeyStatement,
        signers: &[&SigningSecret],
    ) -> Result<SignedStatement, StatementError> {
        if !crate::envelope::is_valid_force_id(&statement.force_id) {
            return Err(StatementError::InvalidForceId);
        }
        if statement.valid_until < statement.valid_from {
            return Err(StatementError::BadValidity);
        }
        if signers.is_empty() || signers.len() > MAX_SIGNERS {
            return Err(StatementError::SignatureCount(signers.len()));
        }
        let body = statement.body();
        let mut signatures: Vec<(SignerId, [u8; 64])> = signers
            .iter()
            .map(|s| (s.public_key().signer_id(), s.sign(&body)))
            .collect();
        signatures.sort_by_key(|s| s.0);
        if signatures.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(StatementError::SignatureOrder);
        }
        let mut bytes = body;
        bytes.push(signatures.len() as u8);
        for (id, sig) in &signatures {
            bytes.extend_from_slice(&id.0);
            bytes.extend_from_slice(sig);
        }
        Ok(SignedStatement {
            statement,
            signatures,
            bytes,
        })
    }

    /// Add `signer`'s signature over the same body (co-signing: custodians
    /// who each hold one key of a k-of-n set sign in turn,
    /// FORMAT.md#signing-keys). The signatures stay in ascending signer-id
    /// order; refuses a signer already present (`signature_order`) and a
    /// 17th signature (`signature_count`). Existing signatures are not
    /// checked here: the reader verifies them all against its set.
    pub fn cosign(&self, signer: &SigningSecret) -> Result<SignedStatement, StatementError> {
        let id = signer.public_key().signer_id();
        let at = match self.signatures.binary_search_by_key(&id, |s| s.0) {
            Ok(_) => return Err(StatementError::SignatureOrder),
            Err(at) => at,
        };
        if self.signatures.len() >= MAX_SIGNERS {
            return Err(StatementError::SignatureCount(self.signatures.len() + 1));
        }
        let body = self.body().to_vec();
        let mut signatures = self.signatures.clone();
        signatures.insert(at, (id, signer.sign(&body)));
        let mut bytes = body;
        bytes.push(signatures.len() as u8);
        for (id, sig) in &signatures {
            bytes.extend_from_slice(&id.0);
            bytes.extend_from_slice(sig);
        }
        Ok(SignedStatement {
            statement: self.statement.clone(),
            signatures,
            bytes,
        })
    }

    /// Steps 1–6 of FORMAT.md#verifying-a-statement: the shape only, no
    /// signature checked. Never panics, whatever the input.
    pub fn parse(bytes: &[u8]) -> Result<SignedStatement, StatementError> {
        let mut r = Reader { b: bytes, at: 0 };
        // 1. magic, version
        let magic = r.take(4)?;
        if magic != MAGIC {
            return Err(StatementError::BadMagic);
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(StatementError::UnknownVersion(version));
        }
        // 2. force id
        let l = r.u8()? as usize;
        let force = r.take(l)?;
        let force_id = std::str::from_utf8(force)
            .ok()
            .filter(|f| crate::envelope::is_valid_force_id(f))
            .ok_or(StatementError::InvalidForceId)?
            .to_owned();
        // 3. key id, suite, public key
        let key_id: [u8; 8] = r
            .take(8)?
            .try_into()
            .map_err(|_| StatementError::Truncated)?;
        let suite = Suite::from_kem_id(r.u16()?).ok_or(StatementError::UnknownSuite)?;
        let pk_len = r.u16()? as usize;
        let pk = r.take(pk_len)?;
        if pk_len != suite.public_key_len() {
            return Err(StatementError::BadPublicKey);
        }
        let public_key = PublicKey::from_bytes(pk).map_err(|_| StatementError::BadPublicKey)?;
        if public_key.key_id().0 != key_id {
            return Err(StatementError::KeyIdMismatch);
        }
        // 4. validity, sequence, previous hash
        let valid_from = r.u32()?;
        let valid_until = r.u32()?;
        let sequence = r.u64()?;
        let prev_hash: [u8; 32] = r
            .take(32)?
            .try_into()
            .map_err(|_| StatementError::Truncated)?;
        if valid_until < valid_from {
            return Err(StatementError::BadValidity);
        }
        // 5. signatures
        let n = r.u8()? as usize;
        if n == 0 || n > MAX_SIGNERS {
            return Err(StatementError::SignatureCount(n));
        }
        let mut signatures = Vec::with_capacity(n);
        for _ in 0..n {
            let id: [u8; 8] = r
                .take(8)?
                .try_into()
                .map_err(|_| StatementError::Truncated)?;
            let sig: [u8; 64] = r
                .take(64)?
                .try_into()
                .map_err(|_| StatementError::Truncated)?;
            signatures.push((SignerId(id), sig));
        }
        if signatures.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(StatementError::SignatureOrder);
        }
        // 6. nothing after
        if r.at != bytes.len() {
            return Err(StatementError::TrailingBytes);
        }
        Ok(SignedStatement {
            statement: KeyStatement {
                force_id,
                public_key,
                valid_from,
                valid_until,
                sequence,
                prev_hash,
            },
            signatures,
            bytes: bytes.to_vec(),
        })
    }

    /// Parse the base64url text form.
    pub fn from_base64url(s: &str) -> Result<SignedStatement, StatementError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| StatementError::NotBase64url)?;
        SignedStatement::parse(&bytes)
    }

    /// Steps 7–8 of FORMAT.md#verifying-a-statement: every signature is by a
    /// key of `set` and verifies (strict RFC 8032), and there are at least
    /// the set's threshold of them; then the force is `force_id`.
    pub fn verify(&self, set: &SignerSet, force_id: &str) -> Result<&KeyStatement, StatementError> {
        let body = self.body();
        let mut valid = 0;
        for (id, sig) in &self.signatures {
            let key = set.find(*id).ok_or(StatementError::UnknownSigner(*id))?;
            key.0
                .verify_strict(body, &Signature::from_bytes(sig))
                .map_err(|_| StatementError::BadSignature(*id))?;
            valid += 1;
        }
        if valid < set.threshold {
            return Err(StatementError::NotEnoughSignatures {
                found: valid,
                needed: set.threshold,
            });
        }
        if self.statement.force_id != force_id {
            return Err(StatementError::WrongForce {
                expected: force_id.to_owned(),
                found: self.statement.force_id.clone(),
            });
        }
        Ok(&self.statement)
    }

    /// The statement (not yet verified unless [`SignedStatement::verify`] said so).
    pub fn statement(&self) -> &KeyStatement {
        &self.statement
    }
    /// The signer ids, ascending.
    pub fn signers(&self) -> impl Iterator<Item = SignerId> + '_ {
        self.signatures.iter().map(|s| s.0)
    }
    /// The whole signed statement's octets (what the key log stores as a leaf).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// base64url without padding.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.bytes)
    }
    fn body(&self) -> &[u8] {
        // The body is everything before the signature count.
        &self.bytes[..self.bytes.len() - 1 - 72 * self.signatures.len()]
    }
}

/// A bounds-checked cursor: every read that would pass the end is `Truncated`.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StatementError> {
        let end = self.at.checked_add(n).ok_or(StatementError::Truncated)?;
        let s = self.b.get(self.at..end).ok_or(StatementError::Truncated)?;
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, StatementError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, StatementError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, StatementError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64, StatementError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_be_bytes(a))
    }
}

/// A day number from a `YYYY-MM-DD` string (UTC days since 1970-01-01), for
/// validity fields typed by people. `None` if not a real date.
pub fn day_from_ymd(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: i64 = s[5..7].parse().ok()?;
    let d: i64 = s[8..10].parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > dim[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    u32::try_from(era * 146_097 + doe - 719_468).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn setup() -> (SigningSecret, SigningSecret, SigningSecret, KeyStatement) {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let a = SigningSecret::generate(&mut rng);
        let b = SigningSecret::generate(&mut rng);
        let c = SigningSecret::generate(&mut rng);
        let (_, pk) = crate::keys::generate_keypair(&mut rng);
        let st = KeyStatement {
            force_id: "north".into(),
            public_key: pk,
            valid_from: 20_000,
            valid_until: 20_730,
            sequence: 0,
            prev_hash: NO_PREVIOUS,
        };
        (a, b, c, st)
    }

    #[test]
    fn sign_parse_verify_round_trip_one_of_one() {
        let (a, _, _, st) = setup();
        let s = SignedStatement::sign(st.clone(), &[&a]).unwrap();
        let p = SignedStatement::parse(s.as_bytes()).unwrap();
        assert_eq!(p, s);
        let set = SignerSet::single(a.public_key());
        assert_eq!(p.verify(&set, "north").unwrap(), &st);
        assert_eq!(p.verify(&set, "south").unwrap_err().code(), "wrong_force");
        assert!(st.follows(None).is_ok());
        assert!(st.is_current(20_000).is_ok() && st.is_current(20_730).is_ok());
        assert_eq!(st.is_current(20_731).unwrap_err().code(), "not_current");
        assert_eq!(st.is_current(19_999).unwrap_err().code(), "not_current");
    }

    #[test]
    fn two_of_three() {
        let (a, b, c, st) = setup();
        let set = SignerSet::new(vec![a.public_key(), b.public_key(), c.public_key()], 2).unwrap();
        let one = SignedStatement::sign(st.clone(), &[&b]).unwrap();
        assert_eq!(
            one.verify(&set, "north").unwrap_err(),
            StatementError::NotEnoughSignatures {
                found: 1,
                needed: 2
            }
        );
        let two = SignedStatement::sign(st.clone(), &[&c, &a]).unwrap();
        two.verify(&set, "north").unwrap();
        // A signer outside the set fails even with enough others.
        let mut rng = ChaCha20Rng::from_seed([9; 32]);
        let x = SigningSecret::generate(&mut rng);
        let three = SignedStatement::sign(st, &[&a, &b, &x]).unwrap();
        assert_eq!(
            three.verify(&set, "north").unwrap_err().code(),
            "unknown_signer"
        );
        assert!(SignedStatement::sign(two.statement().clone(), &[&a, &a]).is_err());
    }

    #[test]
    fn cosign_two_of_two_and_two_of_three_in_any_order() {
        let (a, b, c, st) = setup();
        let two = SignerSet::new(vec![a.public_key(), b.public_key()], 2).unwrap();
        let by_a = SignedStatement::sign(st.clone(), &[&a]).unwrap();
        assert_eq!(
            by_a.verify(&two, "north").unwrap_err().code(),
            "not_enough_signatures"
        );
        let ab = by_a.cosign(&b).unwrap();
        let ba = SignedStatement::sign(st.clone(), &[&b])
            .unwrap()
            .cosign(&a)
            .unwrap();
        // Order independent, and the same octets as signing together.
        assert_eq!(ab, ba);
        assert_eq!(ab, SignedStatement::sign(st.clone(), &[&a, &b]).unwrap());
        let parsed = SignedStatement::from_base64url(&ab.to_base64url()).unwrap();
        assert_eq!(parsed.verify(&two, "north").unwrap(), &st);
        let three =
            SignerSet::new(vec![a.public_key(), b.public_key(), c.public_key()], 2).unwrap();
        let cb = SignedStatement::sign(st.clone(), &[&c])
            .unwrap()
            .cosign(&b)
            .unwrap();
        SignedStatement::parse(cb.as_bytes())
            .unwrap()
            .verify(&three, "north")
            .unwrap();
        let abc = cb.cosign(&a).unwrap();
        assert_eq!(abc.signers().count(), 3);
        abc.verify(&three, "north").unwrap();
        let ids: Vec<_> = abc.signers().collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn cosign_refuses_a_repeated_signer_and_a_seventeenth() {
        let (a, _, _, st) = setup();
        let s = SignedStatement::sign(st.clone(), &[&a]).unwrap();
        assert_eq!(s.cosign(&a).unwrap_err().code(), "signature_order");
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let keys: Vec<SigningSecret> = (0..17).map(|_| SigningSecret::generate(&mut rng)).collect();
        let mut s = SignedStatement::sign(st, &[&keys[0]]).unwrap();
        for k in &keys[1..16] {
            s = s.cosign(k).unwrap();
        }
        assert_eq!(s.signers().count(), 16);
        SignedStatement::parse(s.as_bytes()).unwrap();
        assert_eq!(
            s.cosign(&keys[16]).unwrap_err(),
            StatementError::SignatureCount(17)
        );
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let (a, _, _, st) = setup();
        let set = SignerSet::single(a.public_key());
        let s = SignedStatement::sign(st, &[&a]).unwrap();
        let bytes = s.as_bytes().to_vec();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let r = SignedStatement::parse(&b).and_then(|p| p.verify(&set, "north").cloned());
                assert!(r.is_err(), "flip at {i} bit {bit} accepted");
            }
        }
        for n in 0..bytes.len() {
            assert!(SignedStatement::parse(&bytes[..n]).is_err());
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            SignedStatement::parse(&long).unwrap_err().code(),
            "trailing_bytes"
        );
    }

    #[test]
    fn chain() {
        let (a, _, _, st) = setup();
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let (_, pk2) = crate::keys::generate_keypair(&mut rng);
        let next = st.next(pk2.clone(), 20_100, 20_830);
        next.follows(Some(&st)).unwrap();
        assert_eq!(next.follows(None).unwrap_err().code(), "broken_chain");
        let mut skip = next.clone();
        skip.sequence = 2;
        assert!(skip.follows(Some(&st)).is_err());
        let mut other = next.clone();
        other.prev_hash[0] ^= 1;
        assert!(other.follows(Some(&st)).is_err());
        let _ = SignedStatement::sign(next, &[&a]).unwrap();
    }

    #[test]
    fn signer_sets_and_keys() {
        let (a, b, _, _) = setup();
        assert!(SignerSet::new(vec![], 1).is_err());
        assert!(SignerSet::new(vec![a.public_key()], 0).is_err());
        assert!(SignerSet::new(vec![a.public_key()], 2).is_err());
        assert!(SignerSet::new(vec![a.public_key(), a.public_key()], 1).is_err());
        assert!(SignerSet::new(vec![a.public_key(), b.public_key()], 2).is_ok());
        // The identity point is a small-order key.
        let mut ident = [0u8; 32];
        ident[0] = 1;
        assert!(SignerKey::from_bytes(&ident).is_err());
        let k = a.public_key();
        assert_eq!(SignerKey::from_base64url(&k.to_base64url()).unwrap(), k);
        assert_eq!(k.fingerprint().len(), 64 + 7);
        assert!(!format!("{a:?}").contains(&hex::encode(a.to_seed().as_ref())));
    }

    #[test]
    fn days() {
        assert_eq!(day_from_ymd("1970-01-01"), Some(0));
        assert_eq!(day_from_ymd("2026-12-07"), Some(20_794));
        assert_eq!(day_from_ymd("2024-02-29"), Some(19_782));
        assert_eq!(day_from_ymd("2023-02-29"), None);
        assert_eq!(day_from_ymd("2026-13-01"), None);
        assert_eq!(day_from_ymd("20261207"), None);
    }
}

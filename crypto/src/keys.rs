//! Force and reply key pairs (X25519 or X-Wing), their key ids and text encodings
//! (FORMAT.md#keys). Does not store or load keys: see [`crate::keyfile`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hpke::{Deserializable, Kem as _, Serializable};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::suite::{Kem, XWingKem};

/// Domain-separation label of the key id (FORMAT.md#key-id).
pub const KEY_ID_LABEL: &[u8] = b"quietline/v1/key-id";

/// Errors decoding a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Neither 32 (X25519) nor 1216 (X-Wing) bytes.
    #[error("a public key is 32 bytes (X25519) or 1216 bytes (X-Wing); this one is {0} bytes")]
    WrongLength(usize),
    /// 1216 bytes, but its ML-KEM-768 part is not a valid encapsulation key.
    #[error(
        "this 1216-byte X-Wing public key is not valid (its ML-KEM-768 part fails the FIPS 203 check)"
    )]
    InvalidXWing,
    /// The all-zero public key (a degenerate point every DH output with is zero).
    #[error("the all-zero public key is not a valid recipient key")]
    AllZero,
    /// Not base64url without padding.
    #[error(
        "a public key is written as base64url without padding: 43 characters (X25519) or 1622 (X-Wing)"
    )]
    NotBase64url,
    /// A key id is 16 hex digits.
    #[error("a key id is 16 lowercase hex digits")]
    BadKeyId,
}

/// An 8-byte recipient key id: the first 8 bytes of
/// SHA-256("quietline/v1/key-id" ‖ public key) (FORMAT.md#key-id).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// Lowercase hex, 16 digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parse 16 hex digits.
    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        let mut out = [0u8; 8];
        hex::decode_to_slice(s, &mut out).map_err(|_| KeyError::BadKeyId)?;
        Ok(KeyId(out))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Which HPKE KEM a key belongs to, and so which suite an envelope sealed to
/// it uses (FORMAT.md#suite). KDF and AEAD are the same for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suite {
    /// DHKEM(X25519, HKDF-SHA256), KEM id 0x0020: the suite of format v1's first revision.
    X25519,
    /// X-Wing (MLKEM768-X25519), KEM id 0x647a: the post-quantum hybrid.
    XWing,
}

impl Suite {
    /// Both suites, the classical one first.
    pub const ALL: [Suite; 2] = [Suite::X25519, Suite::XWing];
    /// The HPKE KEM id written into the envelope header.
    pub fn kem_id(self) -> u16 {
        match self {
            Suite::X25519 => crate::suite::KEM_ID,
            Suite::XWing => crate::suite::XWING_KEM_ID,
        }
    }
    /// The suite of a KEM id, if it is one of ours.
    pub fn from_kem_id(id: u16) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.kem_id() == id)
    }
    /// Length of HPKE `enc` (the encapsulated key) in an envelope.
    pub fn enc_len(self) -> usize {
        match self {
            Suite::X25519 => 32,
            Suite::XWing => 1120,
        }
    }
    /// Length of a public key.
    pub fn public_key_len(self) -> usize {
        match self {
            Suite::X25519 => 32,
            Suite::XWing => 1216,
        }
    }
    /// The suite of a public key of this length, if any.
    pub fn from_public_key_len(len: usize) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.public_key_len() == len)
    }
    /// The name used in the directory, key statements, payloads and on the
    /// command line: `x25519` or `xwing`.
    pub fn name(self) -> &'static str {
        match self {
            Suite::X25519 => "x25519",
            Suite::XWing => "xwing",
        }
    }
    /// The suite of a name (`x25519`, `xwing`).
    pub fn from_name(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A recipient's public key (a force's, or a reporter's reply key): 32 octets
/// for X25519, 1216 for X-Wing; the length tells the suite.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    suite: Suite,
    bytes: Vec<u8>,
}

impl PublicKey {
    /// From the raw bytes: 32 (X25519) or 1216 (X-Wing). Refuses other
    /// lengths, the all-zero X25519 key, and an X-Wing key whose ML-KEM part
    /// fails the FIPS 203 encapsulation-key check.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let suite =
            Suite::from_public_key_len(bytes.len()).ok_or(KeyError::WrongLength(bytes.len()))?;
        match suite {
            Suite::X25519 => {
                if bytes.iter().all(|b| *b == 0) {
                    return Err(KeyError::AllZero);
                }
            }
            Suite::XWing => {
                <XWingKem as hpke::Kem>::PublicKey::from_bytes(bytes)
                    .map_err(|_| KeyError::InvalidXWing)?;
            }
        }
        Ok(PublicKey {
            suite,
            bytes: bytes.to_vec(),
        })
    }
    /// From base64url without padding (as the directory and the console print it).
    pub fn from_base64url(s: &str) -> Result<Self, KeyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| KeyError::NotBase64url)?;
        Self::from_bytes(&bytes)
    }
    /// The suite this key belongs to.
    pub fn suite(&self) -> Suite {
        self.suite
    }
    /// The raw bytes (32 or 1216).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }
    /// The raw bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// base64url without padding.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.bytes)
    }
    /// This key's key id (FORMAT.md#key-id): the same formula for both suites.
    pub fn key_id(&self) -> KeyId {
        let digest = Sha256::new()
            .chain_update(KEY_ID_LABEL)
            .chain_update(&self.bytes)
            .finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({}, {})", self.suite, self.to_base64url())
    }
}

/// A private key of either suite: 32 octets each (X25519: clamped scalar;
/// X-Wing: the seed both ML-KEM-768 and X25519 parts expand from). Zeroized
/// on drop (by x25519-dalek and x-wing); never printed.
// An X-Wing key holds its expanded ML-KEM decapsulation key (a few KB) so
// opening does not re-expand the seed; a program holds a handful of private
// keys at most, so the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum PrivateKey {
    /// An X25519 key.
    X25519(<Kem as hpke::Kem>::PrivateKey),
    /// An X-Wing key.
    XWing(<XWingKem as hpke::Kem>::PrivateKey),
}

impl PrivateKey {
    /// An X25519 private key from the raw 32 bytes (clamped as RFC 9180 requires).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        Self::from_suite_bytes(Suite::X25519, bytes)
    }
    /// A private key of `suite` from its raw 32 bytes.
    pub fn from_suite_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, KeyError> {
        let wrong = |_| KeyError::WrongLength(bytes.len());
        Ok(match suite {
            Suite::X25519 => PrivateKey::X25519(
                <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes).map_err(wrong)?,
            ),
            Suite::XWing => PrivateKey::XWing(
                <XWingKem as hpke::Kem>::PrivateKey::from_bytes(bytes).map_err(wrong)?,
            ),
        })
    }
    /// The suite of this key.
    pub fn suite(&self) -> Suite {
        match self {
            PrivateKey::X25519(_) => Suite::X25519,
            PrivateKey::XWing(_) => Suite::XWing,
        }
    }
    /// The raw 32 bytes, in memory that zeroizes on drop.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        match self {
            PrivateKey::X25519(k) => k.write_exact(out.as_mut()),
            PrivateKey::XWing(k) => k.write_exact(out.as_mut()),
        }
        out
    }
    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        let (suite, bytes) = match self {
            PrivateKey::X25519(k) => (
                Suite::X25519,
                <Kem as hpke::Kem>::sk_to_pk(k).to_bytes().to_vec(),
            ),
            PrivateKey::XWing(k) => (
                Suite::XWing,
                <XWingKem as hpke::Kem>::sk_to_pk(k).to_bytes().to_vec(),
            ),
        };
        PublicKey { suite, bytes }
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// RFC 9180 `DeriveKeyPair(ikm)` for DHKEM(X25519, HKDF-SHA256).
pub fn derive_keypair(ikm: &[u8]) -> (PrivateKey, PublicKey) {
    derive_keypair_for(Suite::X25519, ikm)
}

/// `DeriveKeyPair(ikm)` of `suite`'s KEM: RFC 9180 §7.1.3 for X25519,
/// draft-ietf-hpke-pq (SHAKE256 `LabeledDerive` to a 32-octet seed) for X-Wing.
pub fn derive_keypair_for(suite: Suite, ikm: &[u8]) -> (PrivateKey, PublicKey) {
    let sk = match suite {
        Suite::X25519 => PrivateKey::X25519(Kem::derive_keypair(ikm).0),
        Suite::XWing => PrivateKey::XWing(XWingKem::derive_keypair(ikm).0),
    };
    let pk = sk.public_key();
    (sk, pk)
}

/// A fresh random X25519 key pair: `DeriveKeyPair` of 32 bytes from `rng`.
pub fn generate_keypair(rng: &mut impl rand_core::CryptoRng) -> (PrivateKey, PublicKey) {
    generate_keypair_for(Suite::X25519, rng)
}

/// A fresh random key pair of `suite`: `DeriveKeyPair` of 32 bytes from `rng`.
pub fn generate_keypair_for(
    suite: Suite,
    rng: &mut impl rand_core::CryptoRng,
) -> (PrivateKey, PublicKey) {
    let mut ikm = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(ikm.as_mut());
    derive_keypair_for(suite, ikm.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_zero_and_wrong_length_refused() {
        assert_eq!(PublicKey::from_bytes(&[0u8; 32]), Err(KeyError::AllZero));
        assert_eq!(
            PublicKey::from_bytes(&[1u8; 31]),
            Err(KeyError::WrongLength(31))
        );
        assert!(PublicKey::from_base64url("not base64!").is_err());
    }

    #[test]
    fn private_key_debug_is_redacted() {
        let (sk, pk) = derive_keypair(&[7u8; 32]);
        assert_eq!(format!("{sk:?}"), "PrivateKey(<redacted>)");
        assert_eq!(sk.public_key(), pk);
        assert_eq!(PublicKey::from_base64url(&pk.to_base64url()).unwrap(), pk);
        assert_eq!(KeyId::from_hex(&pk.key_id().to_hex()).unwrap(), pk.key_id());
    }
}

//! Force and reply key pairs (X25519), their key ids and text encodings
//! (FORMAT.md#keys). Does not store or load keys: see [`crate::keyfile`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hpke::{Deserializable, Kem as _, Serializable};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::suite::Kem;

/// Domain-separation label of the key id (FORMAT.md#key-id).
pub const KEY_ID_LABEL: &[u8] = b"quietline/v1/key-id";

/// Errors decoding a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not 32 bytes.
    #[error("a public key is 32 bytes; this one is {0} bytes")]
    WrongLength(usize),
    /// The all-zero public key (a degenerate point every DH output with is zero).
    #[error("the all-zero public key is not a valid recipient key")]
    AllZero,
    /// Not base64url without padding.
    #[error("a public key is written as 43 characters of base64url without padding")]
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

/// A recipient's X25519 public key (a force's, or a reporter's reply key).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// From the raw 32 bytes; refuses a wrong length and the all-zero key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        if arr == [0u8; 32] {
            return Err(KeyError::AllZero);
        }
        Ok(PublicKey(arr))
    }
    /// From base64url without padding (as the directory and the console print it).
    pub fn from_base64url(s: &str) -> Result<Self, KeyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| KeyError::NotBase64url)?;
        Self::from_bytes(&bytes)
    }
    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
    /// base64url without padding.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
    /// This key's key id (FORMAT.md#key-id).
    pub fn key_id(&self) -> KeyId {
        let digest = Sha256::new()
            .chain_update(KEY_ID_LABEL)
            .chain_update(self.0)
            .finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }
    pub(crate) fn to_hpke(&self) -> <Kem as hpke::Kem>::PublicKey {
        // Infallible: the length is fixed at 32.
        <Kem as hpke::Kem>::PublicKey::from_bytes(&self.0).expect("32-byte X25519 public key")
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_base64url())
    }
}

/// An X25519 private key. Zeroized on drop (by x25519-dalek); never printed.
#[derive(Clone)]
pub struct PrivateKey(<Kem as hpke::Kem>::PrivateKey);

impl PrivateKey {
    /// From the raw 32 bytes (clamped as RFC 9180 requires).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes)
            .map(PrivateKey)
            .map_err(|_| KeyError::WrongLength(bytes.len()))
    }
    /// The raw 32 bytes, in memory that zeroizes on drop.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        self.0.write_exact(out.as_mut());
        out
    }
    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(<Kem as hpke::Kem>::sk_to_pk(&self.0).to_bytes().into())
    }
    #[cfg_attr(not(feature = "open"), allow(dead_code))]
    pub(crate) fn as_hpke(&self) -> &<Kem as hpke::Kem>::PrivateKey {
        &self.0
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// RFC 9180 `DeriveKeyPair(ikm)` for DHKEM(X25519, HKDF-SHA256).
pub fn derive_keypair(ikm: &[u8]) -> (PrivateKey, PublicKey) {
    let (sk, pk) = Kem::derive_keypair(ikm);
    (PrivateKey(sk), PublicKey(pk.to_bytes().into()))
}

/// A fresh random key pair: `DeriveKeyPair` of 32 bytes from `rng`.
pub fn generate_keypair(rng: &mut impl rand_core::CryptoRng) -> (PrivateKey, PublicKey) {
    let mut ikm = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(ikm.as_mut());
    derive_keypair(ikm.as_ref())
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

//! Reply codes: 16 random bytes, shown as a 12-word BIP39 English mnemonic,
//! from which the reply key pair, thread id, slot key and slot addresses derive
//! (FORMAT.md#reply-code). Does not fetch or store anything.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::keys::{PrivateKey, PublicKey, Suite, derive_keypair_for};

/// HKDF-Extract salt.
pub const SALT: &[u8] = b"quietline/v1/reply-code";
/// HKDF-Expand info of the reply-key IKM.
pub const INFO_REPLY_KEY: &[u8] = b"reply-key";
/// HKDF-Expand info of the X-Wing reply key's `DeriveKeyPair` input (15 bytes).
pub const INFO_REPLY_KEY_XWING: &[u8] = b"reply-key-xwing";
/// HKDF-Expand info of the thread id.
pub const INFO_THREAD_ID: &[u8] = b"thread-id";
/// HKDF-Expand info of the slot key.
pub const INFO_SLOT_KEY: &[u8] = b"slot-key";
/// HMAC message prefix of a slot address.
pub const SLOT_LABEL: &[u8] = b"quietline/v1/slot";
/// Words in a reply code.
pub const WORDS: usize = 12;

/// Why a typed reply code was refused — before any request is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyCodeError {
    /// Not 12 words.
    #[error("a reply code is 12 words; {0} were given")]
    WordCount(usize),
    /// A word not in the BIP39 English list.
    #[error("word {position} ({word:?}) is not in the reply-code word list; check its spelling")]
    UnknownWord {
        /// 1-based position.
        position: usize,
        /// The word as typed (lower-cased).
        word: String,
    },
    /// The checksum does not match: a word is wrong or out of order.
    #[error(
        "these 12 words do not form a valid reply code: one of them is mistyped or out of order"
    )]
    Checksum,
}

/// A reporter's reply code: 16 secret bytes, zeroized on drop, never printed.
#[derive(Clone)]
pub struct ReplyCode(Zeroizing<[u8; 16]>);

impl std::fmt::Debug for ReplyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyCode(<redacted>)")
    }
}

impl ReplyCode {
    /// A fresh random code.
    pub fn generate(rng: &mut impl rand_core::CryptoRng) -> Self {
        let mut e = Zeroizing::new([0u8; 16]);
        rng.fill_bytes(e.as_mut());
        ReplyCode(e)
    }

    /// From the 16 entropy bytes.
    pub fn from_entropy(entropy: [u8; 16]) -> Self {
        ReplyCode(Zeroizing::new(entropy))
    }

    /// The 16 entropy bytes.
    pub fn entropy(&self) -> &[u8; 16] {
        &self.0
    }

    /// The 12 words, separated by single spaces.
    pub fn to_mnemonic(&self) -> Zeroizing<String> {
        // 16 bytes is always a valid BIP39 entropy length.
        let m = bip39::Mnemonic::from_entropy(self.0.as_ref())
            .expect("16 bytes is valid BIP39 entropy");
        Zeroizing::new(m.words().collect::<Vec<_>>().join(" "))
    }

    /// Parse typed words: case-insensitive, any whitespace between words
    /// (FORMAT.md#reply-code-input).
    pub fn from_mnemonic(typed: &str) -> Result<Self, ReplyCodeError> {
        let normalized = Zeroizing::new(typed.to_lowercase());
        let words: Vec<&str> = normalized.split_whitespace().collect();
        if words.len() != WORDS {
            return Err(ReplyCodeError::WordCount(words.len()));
        }
        let list = bip39::Language::English.word_list();
        for (i, w) in words.iter().enumerate() {
            if !list.contains(w) {
                return Err(ReplyCodeError::UnknownWord {
                    position: i + 1,
                    word: (*w).to_string(),
                });
            }
        }
        let joined = Zeroizing::new(words.join(" "));
        let m = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &joined)
            .map_err(|_| ReplyCodeError::Checksum)?;
        let (mut arr, len) = m.to_entropy_array();
        let mut e = [0u8; 16];
        e.copy_from_slice(&arr[..len.min(16)]);
        arr.zeroize();
        Ok(ReplyCode::from_entropy(e))
    }

    /// Everything the code derives, with an X25519 reply key (FORMAT.md#reply-code).
    pub fn derive(&self) -> ReplySecrets {
        self.derive_for(Suite::X25519)
    }

    /// Everything the code derives, with a reply key of `suite`: the reporter
    /// uses the suite of the force key it seals to, so replies are as strong
    /// as the report (FORMAT.md#reply-code).
    pub fn derive_for(&self, suite: Suite) -> ReplySecrets {
        let hk = Hkdf::<Sha256>::new(Some(SALT), self.0.as_ref());
        let mut ikm = Zeroizing::new([0u8; 32]);
        let mut thread_id = [0u8; 16];
        let mut slot_key = Zeroizing::new([0u8; 32]);
        // Expand lengths are far below 255 * 32, so these cannot fail.
        // X-Wing's 32-octet seed expands into both its ML-KEM-768 and its
        // X25519 part, so both derive from the code's PRK, under their own label.
        let info = match suite {
            Suite::X25519 => INFO_REPLY_KEY,
            Suite::XWing => INFO_REPLY_KEY_XWING,
        };
        hk.expand(info, ikm.as_mut()).expect("HKDF length");
        hk.expand(INFO_THREAD_ID, &mut thread_id)
            .expect("HKDF length");
        hk.expand(INFO_SLOT_KEY, slot_key.as_mut())
            .expect("HKDF length");
        let (reply_sk, reply_pk) = derive_keypair_for(suite, ikm.as_ref());
        ReplySecrets {
            reply_sk,
            reply_pk,
            thread_id,
            slot_key: SlotKey(slot_key),
        }
    }
}

/// What a reply code derives.
#[derive(Debug, Clone)]
pub struct ReplySecrets {
    /// Opens replies (reporter side only).
    pub reply_sk: PrivateKey,
    /// Replies are sealed to it; travels inside the report.
    pub reply_pk: PublicKey,
    /// Groups a reporter's messages; travels inside the report.
    pub thread_id: [u8; 16],
    /// Derives slot addresses; travels inside the report.
    pub slot_key: SlotKey,
}

/// The key slot addresses are computed from. Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SlotKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SlotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlotKey(<redacted>)")
    }
}

impl SlotKey {
    /// From 32 bytes (as carried in a report payload).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SlotKey(Zeroizing::new(bytes))
    }
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Slot address i = HMAC-SHA256(slot key, "quietline/v1/slot" ‖ u32 i).
    pub fn address(&self, i: u32) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_ref())
            .expect("HMAC takes any key length");
        mac.update(SLOT_LABEL);
        mac.update(&i.to_be_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonic_round_trip_and_typos() {
        let code = ReplyCode::from_entropy([0x5a; 16]);
        let words = code.to_mnemonic();
        assert_eq!(words.split(' ').count(), 12);
        let typed = format!("  {}  ", words.to_uppercase().replace(' ', "\n "));
        assert_eq!(
            ReplyCode::from_mnemonic(&typed).unwrap().entropy(),
            &[0x5a; 16]
        );
        let mut w: Vec<&str> = words.split(' ').collect();
        assert_eq!(
            ReplyCode::from_mnemonic(&w[..11].join(" ")).unwrap_err(),
            ReplyCodeError::WordCount(11)
        );
        w[3] = "qwertyx";
        assert!(matches!(
            ReplyCode::from_mnemonic(&w.join(" ")),
            Err(ReplyCodeError::UnknownWord { position: 4, .. })
        ));
        let mut w: Vec<&str> = words.split(' ').collect();
        w.swap(0, 1);
        if w[0] != w[1] {
            assert_eq!(
                ReplyCode::from_mnemonic(&w.join(" ")).unwrap_err(),
                ReplyCodeError::Checksum
            );
        }
    }

    #[test]
    fn derivations_differ_and_are_stable() {
        let s = ReplyCode::from_entropy([1; 16]).derive();
        let t = ReplyCode::from_entropy([1; 16]).derive();
        assert_eq!(s.reply_pk, t.reply_pk);
        assert_ne!(s.slot_key.address(0), s.slot_key.address(1));
        assert_eq!(format!("{:?}", s.slot_key), "SlotKey(<redacted>)");
    }
}

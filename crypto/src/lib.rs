//! `quietline-crypto`: the sealed-envelope format v1 that the reporter page, the
//! intake server and the decryption console share byte for byte.
//!
//! It owns: the envelope wire layout and its parser ([`envelope`]), sealing with
//! HPKE (RFC 9180) base mode ([`seal`]), padding to size buckets ([`padding`]),
//! the payload schemas ([`payload`]), reply codes and what derives from them
//! ([`reply_code`]), the reporter's own sealed copies ([`copy`]), the
//! passphrase-protected key-file format ([`keyfile`]), the proof-of-work
//! challenge and solution on submissions ([`pow`]), force signing keys and
//! the key statements they sign ([`statement`], [`signing_keyfile`]), the
//! key log's Merkle tree, proofs and signed checkpoints ([`keylog`]), and the
//! chunked, padded encryption of attachments ([`stream`]).
//! The specification is `crypto/FORMAT.md`; code cites its sections.
//!
//! It does not do: any I/O (files, network, clock), any async, or draw
//! randomness on its own — callers pass `&mut impl CryptoRng`. It implements
//! no cryptographic primitive: HPKE comes from the `hpke` crate, Argon2id from
//! `argon2`, ChaCha20-Poly1305 from `chacha20poly1305`, HKDF/HMAC/SHA-256 from
//! RustCrypto, BIP39 from `bip39`, Ed25519 from `ed25519-dalek`, the
//! key log's Merkle tree from `ct-merkle`.
//!
//! Opening envelopes and decrypting key files sit behind the `open` feature,
//! which only the console enables; the server is built without it
//! (FORMAT.md#no-decryption-in-the-server).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod copy;
pub mod envelope;
pub mod keyfile;
pub mod keylog;
pub mod keys;
#[cfg(feature = "open")]
pub mod open;
pub mod padding;
pub mod payload;
pub mod pow;
pub mod reply_code;
pub mod seal;
pub mod signing_keyfile;
pub mod statement;
pub mod stream;

pub use rand_core::CryptoRng;

pub use keys::Suite;

/// The HPKE suites of format v1 (FORMAT.md#suite): two KEMs, one KDF, one AEAD.
pub(crate) mod suite {
    /// DHKEM(X25519, HKDF-SHA256).
    pub type Kem = hpke::kem::X25519HkdfSha256;
    /// X-Wing (MLKEM768-X25519), draft-ietf-hpke-pq.
    pub type XWingKem = hpke::kem::XWing;
    /// X-Wing's HPKE KEM id.
    pub const XWING_KEM_ID: u16 = 0x647a;
    /// HKDF-SHA256.
    pub type Kdf = hpke::kdf::HkdfSha256;
    /// ChaCha20-Poly1305.
    pub type Aead = hpke::aead::ChaCha20Poly1305;
    /// RFC 9180 KEM id.
    pub const KEM_ID: u16 = 0x0020;
    /// RFC 9180 KDF id.
    pub const KDF_ID: u16 = 0x0001;
    /// RFC 9180 AEAD id.
    pub const AEAD_ID: u16 = 0x0003;
}

//! The envelope v1 wire layout and its shape parser (FORMAT.md#envelope).
//!
//! Parsing checks shape only — magic, version, kind, suite, routing, force id
//! syntax, ciphertext length — and never decrypts, so the server can use it.
//! Sealing is in [`crate::seal`], opening in `crate::open` (feature `open`).

use crate::keys::{KeyId, Suite};
use crate::padding::BUCKETS;
use crate::suite::{AEAD_ID, KDF_ID};

/// Magic bytes `QL`.
pub const MAGIC: [u8; 2] = *b"QL";
/// Format version.
pub const VERSION: u8 = 1;
/// Length of the fixed part of the header (before the routing bytes).
pub const FIXED_HEADER_LEN: usize = 19;
/// Length of the HPKE encapsulated key for X25519.
pub const ENC_LEN: usize = 32;
/// Length of the HPKE encapsulated key for X-Wing (the ML-KEM-768 ciphertext
/// and the X25519 ephemeral public key).
pub const XWING_ENC_LEN: usize = 1120;
/// Length of the ChaCha20-Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Longest routing field.
pub const MAX_ROUTING_LEN: usize = 64;
/// Length of a reply-slot address.
pub const SLOT_ADDRESS_LEN: usize = 32;
/// The shortest valid envelope (1-byte routing, smallest bucket).
pub const MIN_ENVELOPE_LEN: usize = FIXED_HEADER_LEN + 1 + ENC_LEN + BUCKETS[0] + TAG_LEN;
/// The longest valid envelope (X-Wing, 64-byte routing, largest bucket).
pub const MAX_ENVELOPE_LEN: usize =
    FIXED_HEADER_LEN + MAX_ROUTING_LEN + XWING_ENC_LEN + BUCKETS[BUCKETS.len() - 1] + TAG_LEN;

/// What an envelope is (FORMAT.md#kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1: a report or follow-up, to a force.
    Report,
    /// 2: a reply, to a reporter's reply key, routed to a slot.
    Reply,
}

impl Kind {
    /// The wire byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Kind::Report => 1,
            Kind::Reply => 2,
        }
    }
    /// The HPKE `info` string for this kind (FORMAT.md#hpke).
    pub fn info(self) -> &'static [u8] {
        match self {
            Kind::Report => b"quietline/v1/report",
            Kind::Reply => b"quietline/v1/reply",
        }
    }
}

/// Where an envelope goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing<'a> {
    /// Kind 1: the addressee force id.
    Force(&'a str),
    /// Kind 2: the reply-slot address.
    Slot([u8; SLOT_ADDRESS_LEN]),
}

/// Why an envelope was rejected. Each check has its own variant and a stable
/// code (FORMAT.md#errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Shorter than its own header says it must be.
    #[error(
        "the envelope is truncated: {0} bytes is shorter than its header, routing and HPKE enc"
    )]
    Truncated(usize),
    /// Does not start with `QL`.
    #[error("the envelope does not start with the magic bytes \"QL\"")]
    BadMagic,
    /// Version byte is not 1.
    #[error("unknown envelope format version {0}; this server understands version 1")]
    UnknownVersion(u8),
    /// Kind byte is not 1 or 2.
    #[error("unknown envelope kind {0}; expected 1 (report) or 2 (reply)")]
    UnknownKind(u8),
    /// Not one of the v1 suites.
    #[error(
        "unknown HPKE suite KEM {kem:#06x} / KDF {kdf:#06x} / AEAD {aead:#06x}; version 1 uses KEM 0x0020 or 0x647a with 0x0001 / 0x0003"
    )]
    UnknownSuite {
        /// KEM id found.
        kem: u16,
        /// KDF id found.
        kdf: u16,
        /// AEAD id found.
        aead: u16,
    },
    /// Routing length is 0, over 64, or not 32 for a reply.
    #[error("routing length {0} is out of range: 1 to 64 for a report, exactly 32 for a reply")]
    RoutingLength(u8),
    /// The force id is not `[a-z0-9-]{1,64}`.
    #[error("the force id in the routing field is not 1 to 64 characters of a-z, 0-9 and -")]
    InvalidForceId,
    /// A reply (kind 2) whose key id is not all zero (FORMAT.md#kinds).
    #[error(
        "a reply envelope must carry the all-zero key id, so replies in one thread cannot be linked by it"
    )]
    ReplyKeyIdNotZero,
    /// Ciphertext is not a bucket size plus the 16-byte tag.
    #[error(
        "the ciphertext is {0} bytes; it must be a padding bucket (1, 2, 4, 8, 16, 32 or 64 KiB) plus 16"
    )]
    BadCiphertextLength(usize),
}

impl EnvelopeError {
    /// A stable snake_case code for APIs and test vectors.
    pub fn code(&self) -> &'static str {
        match self {
            EnvelopeError::Truncated(_) => "truncated",
            EnvelopeError::BadMagic => "bad_magic",
            EnvelopeError::UnknownVersion(_) => "unknown_version",
            EnvelopeError::UnknownKind(_) => "unknown_kind",
            EnvelopeError::UnknownSuite { .. } => "unknown_suite",
            EnvelopeError::RoutingLength(_) => "routing_length",
            EnvelopeError::InvalidForceId => "invalid_force_id",
            EnvelopeError::ReplyKeyIdNotZero => "reply_key_id_not_zero",
            EnvelopeError::BadCiphertextLength(_) => "bad_ciphertext_length",
        }
    }
}

/// Whether `id` is a valid force id: ASCII `[a-z0-9-]`, 1 to 64 characters.
pub fn is_valid_force_id(id: &str) -> bool {
    (1..=MAX_ROUTING_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A parsed (not opened) envelope, borrowing the input bytes.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    kind: Kind,
    suite: Suite,
    key_id: KeyId,
    routing: Routing<'a>,
    header: &'a [u8],
    enc: &'a [u8],
    ciphertext: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Report or reply.
    pub fn kind(&self) -> Kind {
        self.kind
    }
    /// The suite named by the header's KEM id.
    pub fn suite(&self) -> Suite {
        self.suite
    }
    /// Recipient key id (all zero for a reply: FORMAT.md#kinds).
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
    /// Force id or slot address.
    pub fn routing(&self) -> Routing<'a> {
        self.routing
    }
    /// The header bytes `[0, 19+L)`: the AEAD associated data.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }
    /// The HPKE encapsulated key (32 or 1120 bytes, by suite).
    pub fn enc(&self) -> &'a [u8] {
        self.enc
    }
    /// The HPKE ciphertext (bucket + tag).
    pub fn ciphertext(&self) -> &'a [u8] {
        self.ciphertext
    }
}

/// Check an envelope's shape (FORMAT.md#parsing), in the order the spec lists.
pub fn parse(bytes: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    if bytes.len() < 2 || bytes[..2] != MAGIC {
        // A one-byte input that matches "Q" is still not our magic.
        return Err(
            if bytes.len() >= 2 || bytes.first().is_some_and(|b| *b != MAGIC[0]) {
                EnvelopeError::BadMagic
            } else {
                EnvelopeError::Truncated(bytes.len())
            },
        );
    }
    if bytes.len() < FIXED_HEADER_LEN {
        return Err(EnvelopeError::Truncated(bytes.len()));
    }
    if bytes[2] != VERSION {
        return Err(EnvelopeError::UnknownVersion(bytes[2]));
    }
    let kind = match bytes[3] {
        1 => Kind::Report,
        2 => Kind::Reply,
        other => return Err(EnvelopeError::UnknownKind(other)),
    };
    let be16 = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
    let (kem, kdf, aead) = (be16(4), be16(6), be16(8));
    let suite = match Suite::from_kem_id(kem) {
        Some(suite) if (kdf, aead) == (KDF_ID, AEAD_ID) => suite,
        _ => return Err(EnvelopeError::UnknownSuite { kem, kdf, aead }),
    };
    let enc_len = suite.enc_len();
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&bytes[10..18]);
    let l = bytes[18];
    let routing_ok = match kind {
        Kind::Report => (1..=MAX_ROUTING_LEN).contains(&(l as usize)),
        Kind::Reply => l as usize == SLOT_ADDRESS_LEN,
    };
    if !routing_ok {
        return Err(EnvelopeError::RoutingLength(l));
    }
    let header_len = FIXED_HEADER_LEN + l as usize;
    if bytes.len() < header_len + enc_len {
        return Err(EnvelopeError::Truncated(bytes.len()));
    }
    let routing_bytes = &bytes[FIXED_HEADER_LEN..header_len];
    let routing = match kind {
        Kind::Report => {
            let id =
                std::str::from_utf8(routing_bytes).map_err(|_| EnvelopeError::InvalidForceId)?;
            if !is_valid_force_id(id) {
                return Err(EnvelopeError::InvalidForceId);
            }
            Routing::Force(id)
        }
        Kind::Reply => {
            if key_id != [0u8; 8] {
                return Err(EnvelopeError::ReplyKeyIdNotZero);
            }
            let mut addr = [0u8; SLOT_ADDRESS_LEN];
            addr.copy_from_slice(routing_bytes);
            Routing::Slot(addr)
        }
    };
    let enc = &bytes[header_len..header_len + enc_len];
    let ciphertext = &bytes[header_len + enc_len..];
    if !BUCKETS.iter().any(|b| b + TAG_LEN == ciphertext.len()) {
        return Err(EnvelopeError::BadCiphertextLength(ciphertext.len()));
    }
    Ok(Envelope {
        kind,
        suite,
        key_id: KeyId(key_id),
        routing,
        header: &bytes[..header_len],
        enc,
        ciphertext,
    })
}

/// Build the header `[0, 19+L)` for a kind, recipient key id and routing
/// (FORMAT.md#envelope). The caller has validated the routing.
pub(crate) fn build_header(kind: Kind, suite: Suite, key_id: KeyId, routing: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(FIXED_HEADER_LEN + routing.len());
    h.extend_from_slice(&MAGIC);
    h.push(VERSION);
    h.push(kind.to_byte());
    h.extend_from_slice(&suite.kem_id().to_be_bytes());
    h.extend_from_slice(&KDF_ID.to_be_bytes());
    h.extend_from_slice(&AEAD_ID.to_be_bytes());
    h.extend_from_slice(&key_id.0);
    // Callers bound the routing to 64 bytes.
    h.push(routing.len() as u8);
    h.extend_from_slice(routing);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(kind: u8, routing: &[u8], ct_len: usize) -> Vec<u8> {
        let mut v = vec![b'Q', b'L', 1, kind, 0, 0x20, 0, 1, 0, 3];
        v.extend_from_slice(&[9u8; 8]);
        v.push(routing.len() as u8);
        v.extend_from_slice(routing);
        v.extend_from_slice(&[1u8; 32]);
        v.extend(std::iter::repeat_n(0u8, ct_len));
        v
    }

    #[test]
    fn each_check_has_its_error() {
        let good = minimal(1, b"demo", 1040);
        let e = parse(&good).unwrap();
        assert_eq!(e.routing(), Routing::Force("demo"));
        assert_eq!(e.kind(), Kind::Report);
        assert_eq!(good.len(), MIN_ENVELOPE_LEN + 3);

        let mut b = good.clone();
        b[0] = b'X';
        assert_eq!(parse(&b).unwrap_err().code(), "bad_magic");
        let mut b = good.clone();
        b[2] = 2;
        assert_eq!(parse(&b).unwrap_err(), EnvelopeError::UnknownVersion(2));
        let mut b = good.clone();
        b[3] = 3;
        assert_eq!(parse(&b).unwrap_err(), EnvelopeError::UnknownKind(3));
        let mut b = good.clone();
        b[5] = 0x21;
        assert_eq!(parse(&b).unwrap_err().code(), "unknown_suite");
        assert_eq!(
            parse(&minimal(1, b"", 1040)).unwrap_err(),
            EnvelopeError::RoutingLength(0)
        );
        assert_eq!(
            parse(&minimal(1, &[b'a'; 65], 1040)).unwrap_err(),
            EnvelopeError::RoutingLength(65)
        );
        assert_eq!(
            parse(&minimal(2, b"demo", 1040)).unwrap_err(),
            EnvelopeError::RoutingLength(4)
        );
        assert_eq!(
            parse(&minimal(1, b"Demo", 1040)).unwrap_err(),
            EnvelopeError::InvalidForceId
        );
        assert_eq!(
            parse(&minimal(1, b"demo", 1041)).unwrap_err(),
            EnvelopeError::BadCiphertextLength(1041)
        );
        assert_eq!(
            parse(&good[..30]).unwrap_err(),
            EnvelopeError::Truncated(30)
        );
        assert_eq!(parse(&good[..1]).unwrap_err(), EnvelopeError::Truncated(1));
        assert_eq!(parse(b"").unwrap_err(), EnvelopeError::Truncated(0));
        assert_eq!(parse(b"x").unwrap_err(), EnvelopeError::BadMagic);
        assert_eq!(
            parse(&minimal(2, &[7u8; 32], 65552)).unwrap_err(),
            EnvelopeError::ReplyKeyIdNotZero
        );
        let mut reply = minimal(2, &[7u8; 32], 65552);
        reply[10..18].fill(0);
        assert!(parse(&reply).is_ok());
    }

    #[test]
    fn force_id_syntax() {
        assert!(is_valid_force_id("met-police-2"));
        assert!(!is_valid_force_id(""));
        assert!(!is_valid_force_id("a_b"));
        assert!(!is_valid_force_id(&"a".repeat(65)));
    }
}

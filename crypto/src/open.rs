//! Opening envelopes with a private key (feature `open`, console only):
//! parse → key id check → HPKE open with the header as AAD → unpad
//! (FORMAT.md#opening). Does not interpret the payload: see [`crate::payload`].

use hpke::{Deserializable, OpModeR};
use zeroize::Zeroizing;

use crate::envelope::{Envelope, EnvelopeError, Kind, parse};
use crate::keys::{KeyId, PrivateKey, Suite};
use crate::padding::{PaddingError, unpad};
use crate::suite::{Aead, Kdf, Kem, XWingKem};

/// Why an envelope did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The shape is wrong.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The envelope is for another key.
    #[error("the envelope is sealed to key {found}, not to this key ({expected})")]
    WrongKey {
        /// Key id in the envelope.
        found: KeyId,
        /// Key id of the key tried.
        expected: KeyId,
    },
    /// It was expected to be of the other kind.
    #[error("expected a {expected:?} envelope, found a {found:?} envelope")]
    WrongKind {
        /// Kind wanted.
        expected: Kind,
        /// Kind found.
        found: Kind,
    },
    /// A reply sealed with the other suite than the reply key's (FORMAT.md#opening).
    #[error("the envelope is sealed with suite {found}, but the key is an {expected} key")]
    WrongSuite {
        /// Suite in the envelope.
        found: Suite,
        /// Suite of the key tried.
        expected: Suite,
    },
    /// HPKE open failed: tampered, truncated, or the key id collided.
    #[error("the envelope does not decrypt: it was altered, or sealed to another key")]
    Decryption,
    /// Decrypted, but the padding is wrong.
    #[error(transparent)]
    Padding(#[from] PaddingError),
}

impl OpenError {
    /// A stable snake_case code, as in the negative test vectors.
    pub fn code(&self) -> &'static str {
        match self {
            OpenError::Envelope(e) => e.code(),
            OpenError::WrongKey { .. } => "wrong_key",
            OpenError::WrongKind { .. } => "wrong_kind",
            OpenError::WrongSuite { .. } => "wrong_suite",
            OpenError::Decryption => "decryption_failed",
            OpenError::Padding(PaddingError::LengthBeyondBucket(_)) => "length_beyond_bucket",
            OpenError::Padding(PaddingError::NonZeroPadding) => "nonzero_padding",
            OpenError::Padding(_) => "bad_padding",
        }
    }
}

/// Open an envelope of the expected kind with `key`, returning the payload in
/// memory that zeroizes on drop.
pub fn open(
    key: &PrivateKey,
    expected: Kind,
    bytes: &[u8],
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let env = parse(bytes)?;
    if env.kind() != expected {
        return Err(OpenError::WrongKind {
            expected,
            found: env.kind(),
        });
    }
    let ours = key.public_key().key_id();
    // Replies carry the all-zero key id (checked by parse); only reports name their key.
    if expected == Kind::Report && env.key_id() != ours {
        return Err(OpenError::WrongKey {
            found: env.key_id(),
            expected: ours,
        });
    }
    // A reply's header names no key, so its suite is checked against the key here.
    if env.suite() != key.suite() {
        return Err(OpenError::WrongSuite {
            found: env.suite(),
            expected: key.suite(),
        });
    }
    let plaintext = match key {
        PrivateKey::X25519(sk) => open_with::<Kem>(sk, expected, &env)?,
        PrivateKey::XWing(sk) => open_with::<XWingKem>(sk, expected, &env)?,
    };
    let payload = unpad(&plaintext)?;
    Ok(Zeroizing::new(payload.to_vec()))
}

/// `SetupBaseR` + one `Open` with KEM `K`.
fn open_with<K: hpke::Kem>(
    sk: &K::PrivateKey,
    kind: Kind,
    env: &Envelope<'_>,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let enc = K::EncappedKey::from_bytes(env.enc()).map_err(|_| OpenError::Decryption)?;
    let mut ctx = hpke::setup_receiver::<Aead, Kdf, K>(&OpModeR::Base, sk, &enc, kind.info())
        .map_err(|_| OpenError::Decryption)?;
    Ok(Zeroizing::new(
        ctx.open(env.ciphertext(), env.header())
            .map_err(|_| OpenError::Decryption)?,
    ))
}

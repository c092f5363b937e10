//! Sealing: payload → padded plaintext → HPKE base-mode seal to the recipient,
//! with the header as associated data (FORMAT.md#sealing). Does not open.

use hpke::{Deserializable, OpModeS, Serializable};

use crate::envelope::{Kind, SLOT_ADDRESS_LEN, build_header, is_valid_force_id};
use crate::keys::{KeyId, PublicKey, Suite};
use crate::padding::{PaddingError, pad};
use crate::suite::{Aead, Kdf, Kem, XWingKem};

/// Why sealing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The force id is not `[a-z0-9-]{1,64}`.
    #[error("the force id is not 1 to 64 characters of a-z, 0-9 and -")]
    InvalidForceId,
    /// The payload does not fit.
    #[error(transparent)]
    Padding(#[from] PaddingError),
    /// HPKE refused the recipient key (a low-order point).
    #[error("the recipient public key is not usable (HPKE encapsulation failed)")]
    BadRecipientKey,
}

/// Seal a kind-1 envelope (report or follow-up) to a force's public key.
pub fn seal_report(
    rng: &mut impl rand_core::CryptoRng,
    force_id: &str,
    recipient: &PublicKey,
    payload: &[u8],
) -> Result<Vec<u8>, SealError> {
    if !is_valid_force_id(force_id) {
        return Err(SealError::InvalidForceId);
    }
    seal_raw(rng, Kind::Report, force_id.as_bytes(), recipient, payload)
}

/// Seal a kind-2 envelope (a force's reply) to a reporter's reply key, routed
/// to a slot address.
pub fn seal_reply(
    rng: &mut impl rand_core::CryptoRng,
    slot: [u8; SLOT_ADDRESS_LEN],
    recipient: &PublicKey,
    payload: &[u8],
) -> Result<Vec<u8>, SealError> {
    seal_raw(rng, Kind::Reply, &slot, recipient, payload)
}

/// The common sealing steps (FORMAT.md#sealing). The suite is the recipient
/// key's. The ephemeral randomness is drawn from `rng`: for X25519 32 bytes
/// into `DeriveKeyPair`, for X-Wing the 64 bytes of `eseed` — which is what
/// lets the test vectors fix it.
fn seal_raw(
    rng: &mut impl rand_core::CryptoRng,
    kind: Kind,
    routing: &[u8],
    recipient: &PublicKey,
    payload: &[u8],
) -> Result<Vec<u8>, SealError> {
    let plaintext = pad(payload)?;
    // A reply names no key: the reporter knows which key opens the slot it
    // fetched, and a shared key id would link the replies of one thread
    // (FORMAT.md#kinds).
    let key_id = match kind {
        Kind::Report => recipient.key_id(),
        Kind::Reply => KeyId([0u8; 8]),
    };
    let header = build_header(kind, recipient.suite(), key_id, routing);
    // Only the KEM differs between the suites (FORMAT.md#suite).
    let (enc, ciphertext) = match recipient.suite() {
        Suite::X25519 => seal_with::<Kem>(rng, kind, recipient, &header, &plaintext)?,
        Suite::XWing => seal_with::<XWingKem>(rng, kind, recipient, &header, &plaintext)?,
    };
    let mut out = header;
    out.extend_from_slice(&enc);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// `SetupBaseS` + one `Seal` with KEM `K`: returns `enc` and the ciphertext.
fn seal_with<K: hpke::Kem>(
    rng: &mut impl rand_core::CryptoRng,
    kind: Kind,
    recipient: &PublicKey,
    header: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), SealError> {
    // The key was validated when it was built, so this fails only on a bug.
    let pk =
        K::PublicKey::from_bytes(recipient.as_bytes()).map_err(|_| SealError::BadRecipientKey)?;
    let (enc, mut ctx) =
        hpke::setup_sender_with_rng::<Aead, Kdf, K>(&OpModeS::Base, &pk, kind.info(), rng)
            .map_err(|_| SealError::BadRecipientKey)?;
    let ciphertext = ctx
        .seal(plaintext, header)
        // ChaCha20-Poly1305 sealing of ≤ 64 KiB cannot fail; map anyway rather than panic.
        .map_err(|_| SealError::BadRecipientKey)?;
    Ok((enc.to_bytes().to_vec(), ciphertext))
}

//! The intake of reporters' own copies (`POST /api/v1/copies/{box}`,
//! crypto/FORMAT.md#own-copies): the rules a copy passes between the HTTP
//! body and the database, the same machinery as a report's.
//!
//! In order: the envelope's shape, that it is kind 2 and routed to the box in
//! the address; the proof of work (crypto/FORMAT.md#verifying) before
//! anything that reads or writes the database; then the store, which checks
//! the box's caps ([`COPY_LIMITS`]) and spends the challenge in the same
//! transaction. It stores exactly what [`NewCopy`] holds — the box, the
//! envelope, the UTC day — and nothing about the request; nothing it stores
//! names a report, a force or a slot. It cannot open a copy.

use quietline_crypto::envelope::{self, EnvelopeError, Kind, Routing};

use super::Intake;
use crate::pow::Refusal;
use crate::storage::{CopyLimits, CopyWrite, NewCopy, SlotAddress, StorageError};

/// The caps on one copy box: at most 64 copies and 1 MiB of envelopes (a
/// report and 63 follow-ups of the common 1–8 KiB buckets; or about 15 of
/// the largest). A reporter's thread rarely comes near; a flooder who knows
/// a box (only its code's holder can make copies the page opens, but anyone
/// who saw the address can write shapes to it) fills one box and no more.
pub const COPY_LIMITS: CopyLimits = CopyLimits {
    count: 64,
    bytes: 1 << 20,
};

/// Why a copy was not stored. Each maps to one API error (`http/api.rs`).
#[derive(Debug)]
pub enum CopyRefused {
    /// Not a well-formed envelope.
    Malformed(EnvelopeError),
    /// A report envelope (kind 1): a copy is kind 2.
    WrongKind,
    /// Routed to another address than the box in the URL.
    Misrouted,
    /// The proof of work was missing, failed a check or was spent.
    Pow(Refusal),
    /// The box is at its cap; nothing stored.
    Full,
    /// The storage failed, or found the challenge spent by another instance.
    Storage(StorageError),
}

impl Intake {
    /// Take one copy for `copy_box`: `envelope` is the whole body,
    /// `pow_header` the `Quietline-Pow` header's value if one was sent.
    /// `Ok(())` only once it is durably committed (and its challenge spent).
    pub async fn submit_copy(
        &self,
        copy_box: SlotAddress,
        envelope: &[u8],
        pow_header: Option<&[u8]>,
    ) -> Result<(), CopyRefused> {
        let env = envelope::parse(envelope).map_err(CopyRefused::Malformed)?;
        if env.kind() != Kind::Reply {
            return Err(CopyRefused::WrongKind);
        }
        match env.routing() {
            Routing::Slot(routed) if routed == copy_box => {}
            _ => return Err(CopyRefused::Misrouted),
        }
        // Proof of work before the database (crypto/FORMAT.md#verifying).
        let claim = self
            .pow
            .check(self.storage.as_ref(), pow_header, envelope)
            .await
            .map_err(CopyRefused::Pow)?;
        let copy = NewCopy {
            copy_box,
            envelope: envelope.to_vec(),
            day: self.clock.today(),
            pow: claim.as_ref().map(|c| c.ticket()),
        };
        let stored = self.storage.put_copy(copy, COPY_LIMITS).await;
        if let Some(claim) = claim
            && matches!(
                stored,
                Ok(CopyWrite::Stored) | Err(StorageError::ChallengeSpent)
            )
        {
            claim.keep();
        }
        match stored {
            Ok(CopyWrite::Stored) => {
                // A copy is a write anyone can make: it counts towards the
                // rate the difficulty answers, as a report does.
                self.pow.count_accepted();
                Ok(())
            }
            Ok(CopyWrite::Full) => Err(CopyRefused::Full),
            Err(e) => Err(CopyRefused::Storage(e)),
        }
    }
}

//! `reply`: answer a reporter through the thread's next free one-time slot.
//!
//! It owns the reply steps: take the reply material from the report (reply
//! public key, thread id, slot key), build a v1 `reply` payload, seal it with
//! `seal_reply` to the reply key routed to slot i = `SlotKey::address(i)`,
//! `PUT` it, and on `409` (slot taken — e.g. another handler of the force
//! replied first) seal again for slot i + 1. It then keeps the force's own
//! sealed copy (the reply itself only the reporter can open). It does not
//! choose the message or its author, and does not decide who may use which
//! slot (the desk claims slots: `desk::answer`).

use quietline_crypto::payload::{Common, PAYLOAD_VERSION, Payload, Reply};
use quietline_crypto::seal::seal_reply;

use crate::client::{Client, ClientError, SlotPut};
use crate::keyring::KeyRing;
use crate::records::{self, Record, RecordBody, RecordError};
use crate::thread::Message;
use crate::vault::Vault;

/// How many taken slots in a row `reply` skips before giving up.
pub const MAX_SLOT_TRIES: u32 = 16;

/// Why a reply was not sent.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// The report carries no usable reply material.
    #[error(
        "report {0} carries no usable reply material ({1}); the reporter cannot be answered through Quietline"
    )]
    NoReplyMaterial(String, String),
    /// Empty message.
    #[error("the reply is empty; nothing was sent")]
    Empty,
    /// Sealing failed (too long, or a bad reply key).
    #[error("cannot seal the reply: {0}")]
    Seal(String),
    /// The server failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Every slot tried was taken.
    #[error(
        "reply slots {first} to {last} of this thread are all already taken (409 each time); nothing was sent. Run `pull` and `show` to see the thread, then try again"
    )]
    AllTaken {
        /// First slot tried.
        first: u32,
        /// Last slot tried.
        last: u32,
    },
    /// Sent, but the force's own copy could not be stored.
    #[error("the reply WAS sent (slot {slot}), but the console could not keep its copy: {error}")]
    Record {
        /// Where it went.
        slot: u32,
        /// Why the copy failed.
        error: RecordError,
    },
}

/// The reply's contents and who sends it.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// `from` shown to the reporter: the force's display name, else its id.
    pub from: &'a str,
    /// The force's id, written as the reply's `force` (FORMAT.md#reply-payload).
    pub force: &'a str,
    /// The message.
    pub message: &'a str,
    /// BCP 47 language tag.
    pub lang: &'a str,
    /// Sending time, RFC 3339 UTC.
    pub sent_at: &'a str,
    /// Handler and OS user, for the force's own copy.
    pub by: &'a str,
}

/// A reply ready to be sealed for a slot: the reporter's reply key, the
/// thread, its slot key and the padded payload.
pub struct Prepared {
    reply_pk: quietline_crypto::keys::PublicKey,
    thread_id: [u8; 16],
    slot_key: quietline_crypto::reply_code::SlotKey,
    payload: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The payload is the handler's words; the slot key locates replies.
        write!(f, "Prepared(thread {})", hex::encode(&self.thread_id[..4]))
    }
}

impl Prepared {
    /// The thread id.
    pub fn thread_id(&self) -> [u8; 16] {
        self.thread_id
    }
}

/// Take the reply material from `focus` (a report or follow-up) and build
/// the reply's payload.
pub(crate) fn prepare(focus: &Message, out: &Outgoing<'_>) -> Result<Prepared, ReplyError> {
    if out.message.trim().is_empty() {
        return Err(ReplyError::Empty);
    }
    let material = match &focus.payload {
        Payload::Report(r) => &r.reply,
        Payload::FollowUp(f) => &f.reply,
        Payload::Reply(_) => {
            return Err(ReplyError::NoReplyMaterial(
                focus.id.clone(),
                "not a report".into(),
            ));
        }
    };
    let (reply_pk, thread_id, slot_key) = material
        .decode()
        .map_err(|e| ReplyError::NoReplyMaterial(focus.id.clone(), e.to_string()))?;
    let payload = zeroize::Zeroizing::new(
        Payload::Reply(Reply {
            common: Common {
                v: PAYLOAD_VERSION,
                sent_at: out.sent_at.to_owned(),
                lang: out.lang.to_owned(),
            },
            from: out.from.to_owned(),
            force: Some(out.force.to_owned()),
            message: out.message.to_owned(),
        })
        .to_json(),
    );
    Ok(Prepared {
        reply_pk,
        thread_id,
        slot_key,
        payload,
    })
}

/// Seal the reply for `slot` and `PUT` it: stored, or taken (`409`).
pub(crate) async fn post(client: &Client, p: &Prepared, slot: u32) -> Result<SlotPut, ReplyError> {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let address = p.slot_key.address(slot);
    let envelope = seal_reply(&mut rng, address, &p.reply_pk, &p.payload)
        .map_err(|e| ReplyError::Seal(e.to_string()))?;
    Ok(client.put_slot(&address, envelope).await?)
}

/// Keep the force's own sealed copy of a reply stored at `slot`, on the
/// message `answered`.
pub(crate) async fn keep_copy(
    vault: &Vault,
    ring: &KeyRing,
    p: &Prepared,
    answered: &str,
    slot: u32,
    out: &Outgoing<'_>,
) -> Result<(), ReplyError> {
    let record = Record {
        v: records::RECORD_VERSION,
        report: answered.to_owned(),
        at: out.sent_at.to_owned(),
        by: out.by.to_owned(),
        body: RecordBody::Reply {
            thread: hex::encode(p.thread_id),
            slot,
            from: out.from.to_owned(),
            message: out.message.to_owned(),
            lang: Some(out.lang.to_owned()),
        },
    };
    records::add(vault, ring.force_id(), &ring.current_public_key(), &record)
        .await
        .map_err(|error| ReplyError::Record { slot, error })?;
    Ok(())
}

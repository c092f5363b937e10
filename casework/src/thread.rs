//! A report and its thread as opened messages: the types the desk's case
//! loader fills (see `desk::index`, which groups messages into cases by
//! thread id and orders them by the vault's change counter) and the export
//! reads ([`crate::export`]), and opening one stored envelope.
//!
//! Opening is crate-private: front ends read through [`crate::desk::Desk`],
//! which writes the audit entry first. It does not print or format anything
//! (see [`crate::render`] and [`crate::export`]).

use std::collections::HashMap;

use quietline_crypto::payload::Payload;

use crate::keyring::{Flag, KeyRing};
use crate::records::{Record, RecordBody, RecordError, Status};
use crate::vault::{StoredEnvelope, VaultError};

/// The stored flag code of an envelope that is a byte-for-byte copy of another.
pub const DUPLICATE: &str = "duplicate";

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ThreadError {
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A sealed record failed.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The report's own envelope does not open.
    #[error("report {id} cannot be read: {flag}")]
    Unreadable {
        /// Report id.
        id: String,
        /// Why.
        flag: Flag,
    },
}

/// A report or follow-up that opened.
#[derive(Debug, Clone)]
pub struct Message {
    /// Report id on the server.
    pub id: String,
    /// Server's UTC day of receipt.
    pub day: String,
    /// Key id it was sealed to.
    pub key_id: String,
    /// The payload (report or follow-up).
    pub payload: Payload,
    /// Thread id, if the reply material decodes.
    pub thread_id: Option<[u8; 16]>,
    /// When the vault learned of it (see [`StoredEnvelope::learned`]).
    pub learned: Option<i64>,
}

impl Message {
    /// `report` or `follow-up`.
    pub fn kind(&self) -> &'static str {
        match self.payload {
            Payload::FollowUp(_) => "follow-up",
            _ => "report",
        }
    }
    /// The reporter's clock at sending.
    pub fn sent_at(&self) -> &str {
        &self.payload.common().sent_at
    }
}

/// One item of a thread.
#[derive(Debug, Clone)]
pub enum Item {
    /// From the reporter.
    Incoming(Box<Message>),
    /// From the force (its own copy).
    Reply(Record),
}

/// A report with everything the console knows about its thread.
#[derive(Debug, Clone)]
pub struct Thread {
    /// The report asked for.
    pub focus: Message,
    /// Every message and reply in the thread, in the order the force learned
    /// of them (the focus included; see `Position`).
    pub items: Vec<Item>,
    /// Notes on any message of the thread, in the order written.
    pub notes: Vec<Record>,
    /// Status history of the focus report, in order.
    pub status_history: Vec<Record>,
    /// Latest status per message id in the thread.
    pub status: HashMap<String, Status>,
}

impl Thread {
    /// The focus report's current status (`new` if never set).
    pub fn focus_status(&self) -> Status {
        self.status
            .get(&self.focus.id)
            .copied()
            .unwrap_or(Status::New)
    }
    /// The next slot index to try: one past the highest slot used by a reply we sent.
    pub fn next_slot(&self) -> u32 {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Reply(Record {
                    body: RecordBody::Reply { slot, .. },
                    ..
                }) => Some(slot.saturating_add(1)),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// Open a stored envelope as a message (crate-private: front ends read
/// cases through [`crate::desk::Desk`], which audits first).
pub(crate) fn open_message(ring: &KeyRing, e: &StoredEnvelope) -> Result<Message, Flag> {
    let opened = ring.open_message(&e.envelope)?;
    Ok(Message {
        id: e.id.clone(),
        day: e.day.clone(),
        key_id: e.key_id.clone(),
        payload: opened.payload,
        thread_id: opened.thread_id,
        learned: e.learned,
    })
}

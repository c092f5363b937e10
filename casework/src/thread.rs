//! Reading the vault back: one report with its whole thread (for `show`,
//! `reply` and `export`), and the one-line rows of `list`.
//!
//! It owns grouping messages into threads — a report and its follow-ups share
//! `reply.thread_id`; the force's replies are its own sealed copies carrying
//! the same thread id — ordering them, and the handler's notes and status.
//! It opens envelopes and records with the key ring (nothing readable is ever
//! written back) and does not print or format anything (see
//! [`crate::render`] and [`crate::export`]).

use std::collections::{HashMap, HashSet};

use futures_util::TryStreamExt;
use quietline_crypto::payload::Payload;

use crate::keyring::{Flag, KeyRing};
use crate::records::{self, Record, RecordBody, RecordError, Status};
use crate::vault::{StoredEnvelope, Vault, VaultError};

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

/// Where an item stands in its thread. Threads are ordered as the force
/// learned of each item: a reply at its record `seq`, a message just after the
/// record that preceded its pull. Within one pull (the server lists reports in
/// no order) a report comes before its follow-ups, then the earlier server day,
/// and only then the reporter's own clock. The reporter's clock never moves a
/// message across a reply; it is the whole key only for vaults from before
/// version 2, which did not record when an envelope was learned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    learned: i64,
    /// 0 for a reply (written at `learned`), 1 for a message (pulled after it).
    after_record: u8,
    /// 0 report, 1 follow-up.
    kind: u8,
    day: String,
    reporter_clock: i64,
    tie: String,
}

impl Position {
    /// The position of `item`; `legacy` when some message of the thread has no
    /// `learned`, so the reporter's and handler's clocks are all there is.
    fn of(item: &Item, reply_seq: i64, legacy: bool) -> Position {
        let (learned, after_record, kind, day, time, tie) = match item {
            Item::Incoming(m) => (
                m.learned.unwrap_or(0),
                1,
                u8::from(matches!(m.payload, Payload::FollowUp(_))),
                m.day.clone(),
                m.sent_at().to_owned(),
                m.id.clone(),
            ),
            Item::Reply(r) => (
                reply_seq,
                0,
                0,
                r.at.get(..10).unwrap_or_default().to_owned(),
                r.at.clone(),
                r.at.clone(),
            ),
        };
        let reporter_clock = parse_time(&time)
            .or_else(|| parse_time(&format!("{day}T00:00:00Z")))
            .unwrap_or(i64::MAX);
        if legacy {
            Position {
                learned: 0,
                after_record: 0,
                kind: 0,
                day: String::new(),
                reporter_clock,
                tie: time,
            }
        } else {
            Position {
                learned,
                after_record,
                kind,
                day,
                reporter_clock,
                tie,
            }
        }
    }
}

fn parse_time(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
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

/// Open a stored envelope as a message.
pub fn open_message(ring: &KeyRing, e: &StoredEnvelope) -> Result<Message, Flag> {
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

/// Load report `id` (a full id) and its thread.
pub async fn load(vault: &Vault, ring: &KeyRing, id: &str) -> Result<Thread, ThreadError> {
    let stored = vault
        .envelope(id)
        .await?
        .ok_or_else(|| VaultError::NoSuchReport(id.to_owned()))?;
    let focus = open_message(ring, &stored).map_err(|flag| ThreadError::Unreadable {
        id: id.to_owned(),
        flag,
    })?;
    // (the reply's record seq, or 0 for a message; the item)
    let mut items: Vec<(i64, Item)> = vec![(0, Item::Incoming(Box::new(focus.clone())))];
    if let Some(thread) = focus.thread_id {
        // Thread ids live only inside sealed envelopes: find the others by
        // opening each (streamed; only this thread's messages are kept).
        let mut all = vault.envelopes();
        while let Some(e) = all.try_next().await? {
            // A replayed copy (same bytes under another id) is not a message of its own.
            if e.id == focus.id || e.flag.as_ref().is_some_and(|(code, _)| code == DUPLICATE) {
                continue;
            }
            if let Ok(m) = open_message(ring, &e)
                && m.thread_id == Some(thread)
            {
                items.push((0, Item::Incoming(Box::new(m))));
            }
        }
        drop(all);
        let thread_hex = hex::encode(thread);
        let mut replies = vault.records_of_kind("reply");
        while let Some(row) = replies.try_next().await? {
            let r = records::open(ring, &row)?;
            if matches!(&r.body, RecordBody::Reply { thread, .. } if *thread == thread_hex) {
                items.push((row.seq, Item::Reply(r)));
            }
        }
    } else {
        // No thread material: only replies recorded against this very report.
        for row in vault.records_for(id).await? {
            if row.kind == "reply" {
                items.push((row.seq, Item::Reply(records::open(ring, &row)?)));
            }
        }
    }
    let legacy = items
        .iter()
        .any(|(_, i)| matches!(i, Item::Incoming(m) if m.learned.is_none()));
    items.sort_by_cached_key(|(seq, item)| Position::of(item, *seq, legacy));
    let items: Vec<Item> = items.into_iter().map(|(_, i)| i).collect();

    let ids: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Incoming(m) => Some(m.id.clone()),
            Item::Reply(_) => None,
        })
        .collect();
    let mut notes = Vec::new();
    let mut status = HashMap::new();
    let mut status_history = Vec::new();
    let mut seen = HashSet::new();
    for mid in ids {
        if !seen.insert(mid.clone()) {
            continue;
        }
        for row in vault.records_for(&mid).await? {
            match row.kind.as_str() {
                "note" => notes.push((row.seq, records::open(ring, &row)?)),
                "status" => {
                    let r = records::open(ring, &row)?;
                    if let RecordBody::Status { status: s } = r.body {
                        status.insert(mid.clone(), s);
                    }
                    if mid == focus.id {
                        status_history.push(r);
                    }
                }
                _ => {}
            }
        }
    }
    notes.sort_by_key(|(seq, _)| *seq);
    Ok(Thread {
        focus,
        items,
        notes: notes.into_iter().map(|(_, r)| r).collect(),
        status_history,
        status,
    })
}

/// The latest status of every report that has one (opens each status record).
pub async fn latest_statuses(
    vault: &Vault,
    ring: &KeyRing,
) -> Result<HashMap<String, Status>, ThreadError> {
    let mut out = HashMap::new();
    let mut rows = vault.records_of_kind("status");
    while let Some(row) = rows.try_next().await? {
        // Rows come in write order: a later one replaces an earlier one.
        if let RecordBody::Status { status } = records::open(ring, &row)?.body {
            out.insert(row.report_id.clone(), status);
        }
    }
    Ok(out)
}

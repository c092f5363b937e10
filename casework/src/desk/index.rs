//! The in-memory case index (crate-private): every case of the vault with
//! what the queue needs to filter, sort, search and show its rows, built when
//! the desk opens by opening every envelope and record (on both cores), and
//! kept in step with the shared vault before each use case by reading what
//! changed since the last look (so several desks on one vault see each
//! other's work).
//!
//! It owns what a case is: a report and its follow-ups (same thread id; case
//! id = the first message's id, normally the report's), one status,
//! assignee, priority, labels and mute flag, replayed from sealed records in
//! the order the vault wrote them; a follow-up re-opens the case (status back
//! to `new`) and makes it unread for everyone, unless the case is muted (then
//! it is flagged instead). It also owns the seen markers' meaning.
//!
//! Decrypted text it holds (row text and the search haystack) is in
//! [`Zeroizing`] strings: zeroized when the index is cleared (the desk is
//! locked) or dropped; payloads opened while building are scrubbed at once.
//! It does not decide who may see what (see [`super::queue`]) and writes
//! nothing to the vault except seen markers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use quietline_crypto::payload::Payload;
use zeroize::{Zeroize, Zeroizing};

use super::queue::{CaseFlag, QueueRow};
use super::{Desk, DeskError, Handler, Priority, Status};
use crate::keyring::KeyRing;
use crate::records::{self, Record, RecordBody};
use crate::render::{short, short_thread};
use crate::thread::{self, DUPLICATE, Message};
use crate::vault::{StoredEnvelope, StoredRecord};

/// Summary length of a queue row, in characters.
const SUMMARY: usize = 120;
/// Rows read from the vault per step of a sync.
const BATCH: usize = 2000;
/// How often the seen markers are reloaded from the vault (other desks
/// write them without moving the change counter).
pub(crate) const SEEN_REFRESH: std::time::Duration = std::time::Duration::from_secs(3);

/// A message of a case, as the index keeps it (no text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MsgRef {
    pub id: String,
    pub day: String,
    pub n: i64,
}

/// One case in the index.
#[derive(Debug, Clone)]
pub(crate) struct CaseEntry {
    /// Case id: its first message's id.
    pub id: String,
    /// Server day of the first message.
    pub day: String,
    /// Where the desk learned of the first message.
    pub n: i64,
    pub thread: Option<[u8; 16]>,
    pub category: Zeroizing<String>,
    pub place: Zeroizing<String>,
    pub summary: Zeroizing<String>,
    pub language: Zeroizing<String>,
    /// Lowercased text of every field of every message, for search.
    pub haystack: Zeroizing<String>,
    /// (code, reason) when the first message does not open.
    pub unreadable: Option<(String, String)>,
    pub status: Status,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub muted: bool,
    /// A follow-up arrived while muted (cleared by a status change or unmute).
    pub muted_follow_up: bool,
    /// Every message, the first one first, in the order learned.
    pub messages: Vec<MsgRef>,
    pub replies: u32,
    pub next_slot: u32,
    pub notes: u32,
    /// Handler records applied (a case nobody acted on can still take its
    /// report's id: see `apply_envelope`).
    pub records: u32,
    /// Its first message is a follow-up (its report not pulled yet).
    pub started_by_follow_up: bool,
    /// The change counter of the latest thing that happened to the case.
    pub last_activity: i64,
    /// Grading and triage (issue 17: `super::intel`).
    pub intel: super::intel::IntelEntry,
    /// Passed on to or received from another force (issue 17: `super::transfer`).
    pub transfer: super::transfer::TransferEntry,
}

impl Drop for CaseEntry {
    fn drop(&mut self) {
        // The handlers' words (the row text is in Zeroizing strings).
        self.labels.zeroize();
    }
}

impl CaseEntry {
    pub fn is_unreadable(&self) -> bool {
        self.unreadable.is_some()
    }
    pub fn is_flagged(&self) -> bool {
        self.unreadable.is_some() || self.muted_follow_up
    }
    pub fn flag(&self) -> Option<CaseFlag> {
        match (&self.unreadable, self.muted_follow_up) {
            (Some((code, reason)), _) => Some(CaseFlag::Unreadable {
                code: code.clone(),
                reason: reason.clone(),
            }),
            (None, true) => Some(CaseFlag::MutedFollowUp),
            (None, false) => None,
        }
    }
    pub fn follow_ups(&self) -> u32 {
        self.messages.len().saturating_sub(1) as u32
    }

    fn apply_record(&mut self, n: i64, r: &Record) {
        self.records += 1;
        self.intel.apply(r);
        self.transfer.apply(r);
        match &r.body {
            RecordBody::Status { status } => {
                self.status = *status;
                self.muted_follow_up = false;
            }
            RecordBody::Note { .. } => self.notes += 1,
            RecordBody::Reply { slot, .. } => {
                self.replies += 1;
                self.next_slot = self.next_slot.max(slot.saturating_add(1));
            }
            RecordBody::Assign { to } => self.assignee = to.clone(),
            RecordBody::Priority { priority } => self.priority = *priority,
            RecordBody::Label { add, remove } => {
                self.labels
                    .retain(|l| !remove.iter().any(|x| x.eq_ignore_ascii_case(l)));
                for a in add {
                    if !self.labels.iter().any(|l| l.eq_ignore_ascii_case(a)) {
                        self.labels.push(a.clone());
                    }
                }
                self.labels.sort();
            }
            RecordBody::Mute { muted } => {
                self.muted = *muted;
                if !muted {
                    self.muted_follow_up = false;
                }
            }
            RecordBody::Grade { .. }
            | RecordBody::Thrive { .. }
            | RecordBody::IntelReport { .. }
            | RecordBody::RetentionReview { .. }
            | RecordBody::Disclosure { .. } => {}
            RecordBody::Transfer(_) | RecordBody::Forward { .. } => {}
        }
        self.last_activity = self.last_activity.max(n);
    }
}

/// Case id → account → the change counter they saw it at.
type SeenMap = HashMap<String, HashMap<String, i64>>;

/// The index.
#[derive(Default)]
pub(crate) struct Index {
    /// Every case, in the order the index learned of it (a slot never moves:
    /// the derived orders below are lists of slots).
    cases: Vec<CaseEntry>,
    /// Case id → its slot in `cases`.
    slots: HashMap<String, usize>,
    /// Thread id → case id.
    by_thread: HashMap<[u8; 16], String>,
    /// Message id (every envelope) → case id.
    by_message: HashMap<String, String>,
    /// Case id → account → the change counter they saw it at.
    /// Behind its own lock, so that marking a case seen (every case page)
    /// never waits for the index's write lock, nor makes queue and search
    /// requests wait behind it.
    seen: std::sync::Mutex<SeenMap>,
    /// The highest change counter applied.
    pub high: i64,
    /// The vault's deletion count when this index last dropped deleted
    /// cases ([`crate::vault::DELETIONS`]): another desk's deletion changes it.
    pub deletions: Option<String>,
    /// Bumped by every change to a case (not by seen markers): the derived
    /// orders and counts are rebuilt once per version, not per request.
    version: u64,
    /// The orders and counts of `version` (built on first use after a change).
    derived: std::sync::Mutex<Option<Arc<Derived>>>,
}

/// What every queue request would otherwise compute from every case: the
/// two sort orders and the counts and filter options that do not depend on
/// the query. Built in one walk and two sorts when a queue request first
/// needs them after the index changed; a request then walks only what it
/// shows (or, with filters or a search, the cases in order without sorting).
pub(crate) struct Derived {
    version: u64,
    /// Slots ascending by (day received, pull order).
    pub by_received: Vec<u32>,
    /// Slots ascending by (priority rank, day received, pull order).
    pub by_priority: Vec<u32>,
    /// Account → the slots assigned to it, ascending by (day, pull order).
    pub by_assignee: HashMap<String, Vec<u32>>,
    /// Counts and options over the cases a handler may see (`[0]`: readable
    /// cases only, for handlers; `[1]`: every case, for supervisors).
    pub totals: [Totals; 2],
}

/// Counts over a set of cases (see [`Derived::totals`]).
#[derive(Default)]
pub(crate) struct Totals {
    pub all: usize,
    pub new_unassigned: usize,
    pub flagged: usize,
    /// Per status in [`Status::ALL`] order, over every case of the set.
    pub by_status: [usize; 4],
    pub categories: Vec<String>,
    pub languages: Vec<String>,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
}

impl Drop for Totals {
    fn drop(&mut self) {
        // Categories and labels are what reporters and handlers wrote.
        self.categories.zeroize();
        self.languages.zeroize();
        self.labels.zeroize();
        self.assignees.zeroize();
    }
}

/// The position of a status in [`Status::ALL`].
pub(crate) fn status_slot(s: Status) -> usize {
    Status::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

impl Index {
    pub fn cases(&self) -> impl Iterator<Item = &CaseEntry> {
        self.cases.iter()
    }
    pub fn get(&self, case_id: &str) -> Option<&CaseEntry> {
        self.slots.get(case_id).map(|s| &self.cases[*s])
    }
    fn get_mut(&mut self, case_id: &str) -> Option<&mut CaseEntry> {
        self.version += 1;
        self.slots.get(case_id).map(|s| &mut self.cases[*s])
    }
    /// The case in `slot` (a slot from [`Derived`]).
    pub fn at(&self, slot: u32) -> &CaseEntry {
        &self.cases[slot as usize]
    }
    pub fn case_of(&self, message_id: &str) -> Option<&str> {
        self.by_message.get(message_id).map(String::as_str)
    }
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// The orders and counts of the index as it is now (built if it changed
    /// since they were last built; one build at a time).
    pub fn derived(&self) -> Arc<Derived> {
        let mut slot = self.derived.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = slot.as_ref()
            && d.version == self.version
        {
            return d.clone();
        }
        let d = Arc::new(self.derive());
        *slot = Some(d.clone());
        d
    }

    fn derive(&self) -> Derived {
        let mut by_received: Vec<u32> = (0..self.cases.len() as u32).collect();
        by_received.sort_unstable_by(|a, b| {
            let (a, b) = (self.at(*a), self.at(*b));
            (&a.day, a.n).cmp(&(&b.day, b.n))
        });
        let mut by_priority = by_received.clone();
        // Stable: within a priority, the received order stays.
        by_priority.sort_by_key(|s| self.at(*s).priority.rank());
        let mut by_assignee: HashMap<String, Vec<u32>> = HashMap::new();
        let mut totals = [Totals::default(), Totals::default()];
        let mut sets: [[std::collections::BTreeSet<&str>; 4]; 2] = Default::default();
        for s in &by_received {
            let c = self.at(*s);
            if let Some(a) = &c.assignee {
                by_assignee.entry(a.clone()).or_default().push(*s);
            }
            for (class, t) in totals.iter_mut().enumerate() {
                if class == 0 && c.is_unreadable() {
                    continue;
                }
                t.all += 1;
                if c.status == Status::New && c.assignee.is_none() && !c.is_unreadable() {
                    t.new_unassigned += 1;
                }
                if c.is_flagged() {
                    t.flagged += 1;
                }
                t.by_status[status_slot(c.status)] += 1;
                let set = &mut sets[class];
                if !c.category.is_empty() {
                    set[0].insert(c.category.as_str());
                }
                if !c.language.is_empty() {
                    set[1].insert(c.language.as_str());
                }
                set[2].extend(c.labels.iter().map(String::as_str));
                if let Some(a) = &c.assignee {
                    set[3].insert(a.as_str());
                }
            }
        }
        for (t, set) in totals.iter_mut().zip(sets) {
            let [categories, languages, labels, assignees] =
                set.map(|s| s.into_iter().map(str::to_owned).collect::<Vec<_>>());
            t.categories = categories;
            t.languages = languages;
            t.labels = labels;
            t.assignees = assignees;
        }
        Derived {
            version: self.version,
            by_received,
            by_priority,
            by_assignee,
            totals,
        }
    }

    /// Drop a deleted case (retention: `super::retention`): its entry
    /// (zeroized as it drops), its messages, thread and seen markers. Slots
    /// after it move down one; the derived orders are rebuilt.
    pub fn remove_case(&mut self, case_id: &str) {
        let Some(slot) = self.slots.remove(case_id) else {
            return;
        };
        let gone = self.cases.remove(slot);
        for m in &gone.messages {
            self.by_message.remove(&m.id);
        }
        if let Some(t) = gone.thread
            && self.by_thread.get(&t).is_some_and(|c| c == case_id)
        {
            self.by_thread.remove(&t);
        }
        self.seen
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .remove(case_id);
        for s in self.slots.values_mut() {
            if *s > slot {
                *s -= 1;
            }
        }
        self.version += 1;
    }

    /// Drop everything (zeroizing the text).
    pub fn clear(&mut self) {
        *self = Index::default();
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, SeenMap> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn unread(&self, c: &CaseEntry, account: &str) -> bool {
        self.seen()
            .get(&c.id)
            .and_then(|m| m.get(account))
            .is_none_or(|n| *n < c.last_activity)
    }

    /// (account, current) for everyone who has seen the case, sorted.
    pub fn seen_by(&self, c: &CaseEntry) -> Vec<(String, bool)> {
        let mut v: Vec<(String, bool)> = self
            .seen()
            .get(&c.id)
            .map(|m| {
                m.iter()
                    .map(|(a, n)| (a.clone(), *n >= c.last_activity))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn set_seen(&self, case_id: &str, account: &str, n: i64) {
        self.seen()
            .entry(case_id.to_owned())
            .or_default()
            .insert(account.to_owned(), n);
    }
    pub fn unsee(&self, case_id: &str, account: &str) {
        if let Some(m) = self.seen().get_mut(case_id) {
            m.remove(account);
        }
    }

    pub fn row(&self, c: &CaseEntry, me: &str) -> QueueRow {
        QueueRow {
            case_id: c.id.clone(),
            short_id: short(&c.id).to_owned(),
            received: c.day.clone(),
            last_follow_up: c.messages.iter().skip(1).last().map(|m| m.day.clone()),
            pulled: c.n,
            category: c.category.to_string(),
            place: c.place.to_string(),
            summary: c.summary.to_string(),
            language: c.language.to_string(),
            thread: short_thread(c.thread),
            status: c.status,
            priority: c.priority,
            assignee: c.assignee.clone(),
            labels: c.labels.clone(),
            muted: c.muted,
            flag: c.flag(),
            follow_ups: c.follow_ups(),
            replies: c.replies,
            notes: c.notes,
            unread: self.unread(c, me),
            seen_by: self
                .seen_by(c)
                .into_iter()
                .filter(|(_, current)| *current)
                .map(|(a, _)| a)
                .collect(),
            intel: Default::default(),
            transferred_to: c.transfer.to.as_ref().map(|(_, name)| name.clone()),
            transferred_from: c.transfer.from.clone(),
        }
    }

    /// Apply one envelope (opened or not) learned at `n`.
    fn apply_envelope(&mut self, n: i64, e: &EnvelopeMeta, opened: Option<Opened>) {
        if self.by_message.contains_key(&e.id) {
            return;
        }
        self.high = self.high.max(n);
        let msg = MsgRef {
            id: e.id.clone(),
            day: e.day.clone(),
            n,
        };
        let thread = opened.as_ref().and_then(|o| o.thread);
        let is_report = opened.as_ref().is_some_and(|o| !o.follow_up);
        if let Some(t) = thread
            && is_report
            && let Some(case_id) = self.by_thread.get(&t).cloned()
            && self
                .get(&case_id)
                .is_some_and(|c| c.started_by_follow_up && c.records == 0)
        {
            // The report of a case its follow-up started (a pull stores a
            // page in the listing's order, so a follow-up can come first):
            // the report becomes the case, as nobody has acted on it yet.
            if let Some(slot) = self.slots.remove(&case_id) {
                self.version += 1;
                self.seen
                    .get_mut()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&case_id);
                let old = &mut self.cases[slot];
                let mut messages = vec![msg];
                messages.append(&mut old.messages);
                for m in &messages {
                    self.by_message.insert(m.id.clone(), e.id.clone());
                }
                self.by_thread.insert(t, e.id.clone());
                if let Some(o) = opened {
                    old.transfer.from = o.transferred_from.clone();
                    old.next_slot = old.next_slot.max(o.transfer_next_slot);
                    old.category = o.category;
                    old.place = o.place;
                    old.summary = o.summary;
                    old.language = o.language;
                    old.haystack.push('\n');
                    old.haystack.push_str(&o.haystack);
                }
                old.id = e.id.clone();
                old.day = e.day.clone();
                old.n = n;
                old.messages = messages;
                old.started_by_follow_up = false;
                old.last_activity = old.last_activity.max(n);
                self.slots.insert(e.id.clone(), slot);
            }
            return;
        }
        if let Some(t) = thread
            && let Some(case_id) = self.by_thread.get(&t).cloned()
            && self.slots.contains_key(&case_id)
        {
            // A later message of a known thread: the case's follow-up.
            self.by_message.insert(e.id.clone(), case_id.clone());
            let Some(c) = self.get_mut(&case_id) else {
                return;
            };
            c.messages.push(msg);
            if let Some(o) = opened {
                c.haystack.push('\n');
                c.haystack.push_str(&o.haystack);
            }
            if c.transfer.to.is_some() {
                // Passed on to the receiving force (on the next pull), not
                // new work here: the case stays closed as transferred.
                c.last_activity = c.last_activity.max(n);
            } else if c.muted {
                c.muted_follow_up = true;
            } else {
                c.status = Status::New;
                c.last_activity = c.last_activity.max(n);
            }
            return;
        }
        let mut entry = CaseEntry {
            id: e.id.clone(),
            day: e.day.clone(),
            n,
            thread,
            category: Zeroizing::new(String::new()),
            place: Zeroizing::new(String::new()),
            summary: Zeroizing::new(String::new()),
            language: Zeroizing::new(String::new()),
            haystack: Zeroizing::new(e.id.clone()),
            unreadable: None,
            status: Status::New,
            priority: Priority::default(),
            assignee: None,
            labels: Vec::new(),
            muted: false,
            muted_follow_up: false,
            messages: vec![msg],
            replies: 0,
            next_slot: 0,
            notes: 0,
            records: 0,
            started_by_follow_up: opened.as_ref().is_some_and(|o| o.follow_up),
            last_activity: n,
            intel: Default::default(),
            transfer: Default::default(),
        };
        match opened {
            Some(o) => {
                entry.transfer.from = o.transferred_from.clone();
                entry.next_slot = o.transfer_next_slot;
                entry.category = o.category;
                entry.place = o.place;
                entry.summary = o.summary;
                entry.language = o.language;
                entry.haystack.push('\n');
                entry.haystack.push_str(&o.haystack);
            }
            None => {
                entry.unreadable = Some(
                    e.flag
                        .clone()
                        .unwrap_or_else(|| ("unreadable".to_owned(), "does not open".to_owned())),
                );
            }
        }
        if let Some(t) = thread {
            self.by_thread.insert(t, e.id.clone());
        }
        self.by_message.insert(e.id.clone(), e.id.clone());
        self.version += 1;
        self.slots.insert(e.id.clone(), self.cases.len());
        self.cases.push(entry);
    }

    fn apply_record(&mut self, n: i64, report_id: &str, r: Option<&Record>) {
        self.high = self.high.max(n);
        let Some(r) = r else { return };
        let Some(case_id) = self.by_message.get(report_id).cloned() else {
            return;
        };
        let case_id = case_id.as_str();
        if let Some(c) = self.get_mut(case_id) {
            let before = c.last_activity;
            c.apply_record(n, r);
            // Whoever wrote it and was up to date stays up to date.
            if let Some(m) = self
                .seen
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(case_id)
                && let Some(mine) = m.get_mut(&account_of(&r.by))
                && *mine >= before
            {
                *mine = n;
            }
        }
    }

    /// Replace the seen markers with the vault's (other desks' included).
    pub fn load_seen(&self, rows: Vec<(String, String, i64)>) {
        let mut seen: SeenMap = HashMap::new();
        for (case, account, n) in rows {
            seen.entry(case).or_default().insert(account, n);
        }
        *self.seen() = seen;
    }
}

/// The account named in a record's `by` (the desk writes the bare account;
/// the old console wrote `name (os user)`).
pub(crate) fn account_of(by: &str) -> String {
    by.split(" (").next().unwrap_or(by).to_owned()
}

/// What the index keeps of an envelope besides its text.
#[derive(Debug, Clone)]
pub(crate) struct EnvelopeMeta {
    pub id: String,
    pub day: String,
    pub flag: Option<(String, String)>,
}

/// What the index keeps of an opened message.
pub(crate) struct Opened {
    pub thread: Option<[u8; 16]>,
    /// A follow-up (not a report).
    pub follow_up: bool,
    pub category: Zeroizing<String>,
    pub place: Zeroizing<String>,
    pub summary: Zeroizing<String>,
    pub language: Zeroizing<String>,
    pub haystack: Zeroizing<String>,
    /// The sending force's name, when another force passed it on.
    pub transferred_from: Option<String>,
    /// Reply slots the sending force used (its transfer note's `next_slot`).
    pub transfer_next_slot: u32,
}

fn one_line(s: &str, max: usize) -> String {
    let mut out = String::new();
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
        if out.chars().count() >= max {
            break;
        }
    }
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
    }
    out
}

/// Every string a reporter can fill, lowercased, one per line (registrations
/// also without spaces, so `AB12CDE` finds `AB12 CDE`).
pub(crate) fn haystack_of(p: &Payload) -> Zeroizing<String> {
    let mut h = Zeroizing::new(String::new());
    let mut add = |s: &str| {
        if !s.is_empty() {
            h.push_str(&s.to_lowercase());
            h.push('\n');
        }
    };
    match p {
        Payload::Report(r) => {
            let b = &r.report;
            add(&b.category);
            add(&b.details);
            add(&b.location.description);
            add(b.when.date.as_deref().unwrap_or(""));
            add(b.when.time.as_deref().unwrap_or(""));
            add(&b.when.description);
            for person in &b.people {
                add(&person.name);
                add(&person.description);
            }
            for v in &b.vehicles {
                add(&v.registration);
                add(&v.registration.split_whitespace().collect::<String>());
                add(&v.make_model);
                add(&v.colour);
                add(&v.description);
            }
            add(&b.how_known);
            add(&b.how_known_details);
        }
        Payload::FollowUp(f) => add(&f.message),
        Payload::Reply(r) => add(&r.message),
    }
    h
}

/// Overwrite every string of a payload (the crypto crate's types do not
/// zeroize themselves).
pub(crate) fn scrub(p: &mut Payload) {
    match p {
        Payload::Report(r) => {
            let b = &mut r.report;
            b.category.zeroize();
            b.details.zeroize();
            b.location.description.zeroize();
            b.when.date.zeroize();
            b.when.time.zeroize();
            b.when.description.zeroize();
            for person in &mut b.people {
                person.name.zeroize();
                person.description.zeroize();
            }
            for v in &mut b.vehicles {
                v.registration.zeroize();
                v.make_model.zeroize();
                v.colour.zeroize();
                v.description.zeroize();
            }
            b.how_known.zeroize();
            b.how_known_details.zeroize();
            r.reply.public_key.zeroize();
            r.reply.slot_key.zeroize();
            r.reply.thread_id.zeroize();
        }
        Payload::FollowUp(f) => {
            f.message.zeroize();
            f.reply.public_key.zeroize();
            f.reply.slot_key.zeroize();
            f.reply.thread_id.zeroize();
        }
        Payload::Reply(r) => {
            r.message.zeroize();
            r.from.zeroize();
        }
    }
}

fn summarise(mut m: Message) -> Opened {
    let (category, place, summary) = match &m.payload {
        Payload::Report(r) => (
            r.report.category.clone(),
            if r.report.location.known {
                if r.report.location.description.is_empty() {
                    "(known; no description)".to_owned()
                } else {
                    one_line(&r.report.location.description, 60)
                }
            } else {
                "not known".to_owned()
            },
            one_line(&r.report.details, SUMMARY),
        ),
        Payload::FollowUp(f) => (
            "follow-up".to_owned(),
            String::new(),
            one_line(&f.message, SUMMARY),
        ),
        Payload::Reply(_) => (String::new(), String::new(), String::new()),
    };
    let out = Opened {
        thread: m.thread_id,
        follow_up: matches!(m.payload, Payload::FollowUp(_)),
        category: Zeroizing::new(category),
        place: Zeroizing::new(place),
        summary: Zeroizing::new(summary),
        language: Zeroizing::new(m.payload.common().lang.clone()),
        haystack: haystack_of(&m.payload),
        transferred_from: m.payload.transfer().map(|t| t.from_name.clone()),
        transfer_next_slot: m.payload.transfer().map_or(0, |t| t.next_slot),
    };
    scrub(&mut m.payload);
    out
}

/// The change counter of an envelope and of a record (one counter across
/// both, in commit order: see [`crate::vault::Vault::changes_since`]).
pub(crate) fn envelope_n(e: &StoredEnvelope) -> i64 {
    e.n
}
pub(crate) fn record_n(r: &StoredRecord) -> i64 {
    r.seq
}

enum Change {
    Envelope(EnvelopeMeta, Option<Opened>),
    Record(String, Option<Record>),
}

/// Open envelopes and records on every core (blocking work off the runtime).
async fn open_all(
    ring: Arc<KeyRing>,
    envs: Vec<StoredEnvelope>,
    recs: Vec<StoredRecord>,
) -> Vec<(i64, Change)> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let mut jobs = Vec::new();
    let chunk = envs.len().div_ceil(workers).max(1);
    let mut envs = envs;
    while !envs.is_empty() {
        let rest = envs.split_off(chunk.min(envs.len()));
        let part = std::mem::replace(&mut envs, rest);
        let ring = ring.clone();
        jobs.push(tokio::task::spawn_blocking(move || {
            part.into_iter()
                .map(|e| {
                    let n = envelope_n(&e);
                    let duplicate = e.flag.as_ref().is_some_and(|(c, _)| c == DUPLICATE);
                    let (opened, flag) = if duplicate {
                        (None, e.flag.clone())
                    } else {
                        match thread::open_message(&ring, &e) {
                            Ok(m) => (Some(summarise(m)), None),
                            Err(f) => (None, Some((f.code().to_owned(), f.to_string()))),
                        }
                    };
                    (
                        n,
                        Change::Envelope(
                            EnvelopeMeta {
                                id: e.id,
                                day: e.day,
                                flag,
                            },
                            opened,
                        ),
                    )
                })
                .collect::<Vec<_>>()
        }));
    }
    let ring2 = ring.clone();
    let rec_job = tokio::task::spawn_blocking(move || {
        recs.into_iter()
            .map(|r| {
                // A record that does not open is skipped (and applied as
                // nothing): the case view reports it when opened.
                let opened = records::open(&ring2, &r).ok();
                (record_n(&r), Change::Record(r.report_id, opened))
            })
            .collect::<Vec<_>>()
    });
    let mut out = Vec::new();
    for j in jobs {
        if let Ok(v) = j.await {
            out.extend(v);
        }
    }
    if let Ok(v) = rec_job.await {
        out.extend(v);
    }
    // Envelopes and records share one counter: no two changes have one n.
    out.sort_by_key(|(n, _)| *n);
    out
}

/// One opened case, for the case view and export.
pub(crate) struct CaseData {
    pub entry: CaseEntry,
    /// The first message.
    pub report: Message,
    /// Everything after it, in change order.
    pub events: Vec<Event>,
    /// The focus as a `thread::Thread` (for export and the CLI's `show`).
    pub thread: thread::Thread,
}

impl Drop for CaseData {
    fn drop(&mut self) {
        // Everything opened for one view is overwritten once it is built.
        scrub(&mut self.report.payload);
        for e in &mut self.events {
            match e {
                Event::Message { msg, .. } => scrub(&mut msg.payload),
                Event::Record { record, .. } => scrub_record(&mut record.body),
                Event::Reopened { .. } => {}
            }
        }
        for item in &mut self.thread.items {
            match item {
                thread::Item::Incoming(m) => scrub(&mut m.payload),
                thread::Item::Reply(r) => scrub_record(&mut r.body),
            }
        }
        scrub(&mut self.thread.focus.payload);
        for r in self
            .thread
            .notes
            .iter_mut()
            .chain(&mut self.thread.status_history)
        {
            scrub_record(&mut r.body);
        }
    }
}

/// Overwrite the text of a record body.
pub(crate) fn scrub_record(body: &mut RecordBody) {
    match body {
        RecordBody::Note { text } => text.zeroize(),
        RecordBody::Reply { from, message, .. } => {
            from.zeroize();
            message.zeroize();
        }
        RecordBody::Label { add, remove } => {
            add.zeroize();
            remove.zeroize();
        }
        RecordBody::Assign { to } => to.zeroize(),
        RecordBody::Status { .. } | RecordBody::Priority { .. } | RecordBody::Mute { .. } => {}
        RecordBody::Grade { grading, reason } => {
            grading.conditions.zeroize();
            reason.zeroize();
        }
        // Thrive zeroizes its fields when dropped.
        RecordBody::Thrive { .. } => {}
        RecordBody::Transfer(t) => t.reason.zeroize(),
        RecordBody::Forward { .. } => {}
        RecordBody::IntelReport { sanitised: report } => {
            report.title.zeroize();
            report.text.zeroize();
            for l in &mut report.source_lines {
                l.text.zeroize();
            }
        }
        RecordBody::RetentionReview { reason, .. } => reason.zeroize(),
        RecordBody::Disclosure {
            partner,
            reason,
            conditions,
            ..
        } => {
            partner.zeroize();
            reason.zeroize();
            conditions.zeroize();
        }
    }
}

pub(crate) enum Event {
    Message {
        n: i64,
        msg: Box<Message>,
        muted: bool,
    },
    Reopened {
        n: i64,
    },
    Record {
        n: i64,
        record: Record,
    },
}

impl Desk {
    /// The index, for reading (never held across an await).
    pub(crate) fn index_read(&self) -> Result<std::sync::RwLockReadGuard<'_, Index>, DeskError> {
        self.require_index()?;
        self.inner.index.read().map_err(|_| {
            DeskError::Invalid(
                "the case index is broken (a panic while updating it): restart the desk".into(),
            )
        })
    }
    pub(crate) fn index_write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Index>, DeskError> {
        self.require_index()?;
        self.inner.index.write().map_err(|_| {
            DeskError::Invalid(
                "the case index is broken (a panic while updating it): restart the desk".into(),
            )
        })
    }

    /// Bring the index up to date with the vault (one sync at a time): a
    /// cheap `high_water` first, then what changed since the last look, in
    /// slices. Seen markers (which other desks write without a change) are
    /// reloaded at most every [`SEEN_REFRESH`].
    pub(crate) async fn sync(&self) -> Result<(), DeskError> {
        if !self.is_indexed() {
            // A desk opened to pull only: nothing to bring up to date.
            return Ok(());
        }
        let ring = self.ring()?;
        let _one = self.inner.sync_lock.lock().await;
        let vault = self.vault();
        self.refresh_seen(false).await?;
        // A case deleted by another desk sharing the vault (retention):
        // drop it, and its decrypted text, from this index too.
        let deletions = vault.meta(crate::vault::DELETIONS).await?;
        if deletions != self.index_read()?.deletions {
            let gone = vault.tombstones().await?;
            let mut idx = self.index_write()?;
            let cases: std::collections::BTreeSet<String> = gone
                .iter()
                .filter_map(|id| idx.case_of(id).map(str::to_owned))
                .collect();
            for c in cases {
                idx.remove_case(&c);
            }
            idx.deletions = deletions;
        }
        loop {
            let after = self.index_read()?.high;
            if vault.high_water().await? <= after {
                return Ok(());
            }
            let changes = vault.changes_since(after, BATCH as u32).await?;
            let full = changes.len() >= BATCH;
            let high = changes.high;
            let opened = open_all(ring.clone(), changes.envelopes, changes.records).await;
            let mut idx = self.index_write()?;
            for (n, c) in opened {
                match c {
                    Change::Envelope(meta, o) => idx.apply_envelope(n, &meta, o),
                    Change::Record(report, r) => idx.apply_record(n, &report, r.as_ref()),
                }
            }
            idx.high = idx.high.max(high);
            if !full {
                return Ok(());
            }
        }
    }

    /// Reload the seen markers from the vault if they are older than
    /// [`SEEN_REFRESH`] (or `now`).
    pub(crate) async fn refresh_seen(&self, now: bool) -> Result<(), DeskError> {
        let due = {
            let last = self.inner.seen_loaded.lock().map_err(|_| {
                DeskError::Invalid("the seen markers are broken: restart the desk".into())
            })?;
            now || last.is_none_or(|t| t.elapsed() >= SEEN_REFRESH)
        };
        if due {
            let rows = self.vault().seen_all().await?;
            self.index_read()?.load_seen(rows);
            if let Ok(mut last) = self.inner.seen_loaded.lock() {
                *last = Some(std::time::Instant::now());
            }
        }
        Ok(())
    }

    /// The case id for `id`: a case id, any message id of a case, or an
    /// unambiguous prefix (at least 4 hex digits) of a message id.
    pub async fn resolve(&self, _who: &Handler, id: &str) -> Result<String, DeskError> {
        self.sync().await?;
        let p = id.trim().to_ascii_lowercase();
        if let Some(c) = self.index_read()?.case_of(&p) {
            return Ok(c.to_owned());
        }
        // The vault's own words for an unknown or ambiguous prefix.
        let full = self.vault().resolve(&p).await?;
        self.index_read()?
            .case_of(&full)
            .map(str::to_owned)
            .ok_or(DeskError::NoSuchCase(p))
    }

    /// Open a case in full: every message and record, in change order.
    pub(crate) async fn open_case(&self, case_id: &str) -> Result<CaseData, DeskError> {
        let ring = self.ring()?;
        self.sync().await?;
        let entry = self
            .index_read()?
            .get(case_id)
            .cloned()
            .ok_or_else(|| DeskError::NoSuchCase(case_id.to_owned()))?;
        if let Some((_, reason)) = &entry.unreadable {
            return Err(DeskError::Unreadable {
                id: case_id.to_owned(),
                reason: reason.clone(),
            });
        }
        let vault = self.vault();
        let mut items: Vec<(i64, u8, Item)> = Vec::new();
        for m in &entry.messages {
            let Some(stored) = vault.envelope(&m.id).await? else {
                // Deleted by another desk sharing the vault (retention):
                // this desk's index forgets the case too.
                self.index_write()?.remove_case(case_id);
                return Err(DeskError::NoSuchCase(case_id.to_owned()));
            };
            match thread::open_message(&ring, &stored) {
                Ok(msg) => items.push((m.n, 1, Item::Message(Box::new(msg)))),
                Err(flag) if m.id == entry.id => {
                    return Err(DeskError::Unreadable {
                        id: m.id.clone(),
                        reason: flag.to_string(),
                    });
                }
                Err(_) => {}
            }
            for row in vault.records_for(&m.id).await? {
                let n = record_n(&row);
                let record = records::open(&ring, &row)?;
                items.push((n, 0, Item::Record(record)));
            }
        }
        items.sort_by_key(|(n, kind, _)| (*n, *kind));
        let mut report = None;
        let mut events = Vec::new();
        let mut thread_items = Vec::new();
        let mut notes = Vec::new();
        let mut status_history = Vec::new();
        let mut status = HashMap::new();
        let mut current = Status::New;
        let mut muted = false;
        let mut transferred = false;
        for (n, _, item) in items {
            match item {
                Item::Message(msg) => {
                    thread_items.push(thread::Item::Incoming(msg.clone()));
                    if msg.id == entry.id {
                        report = Some(*msg);
                        continue;
                    }
                    if !muted && !transferred && current != Status::New {
                        current = Status::New;
                        events.push(Event::Reopened { n });
                    }
                    events.push(Event::Message { n, msg, muted });
                }
                Item::Record(record) => {
                    match &record.body {
                        RecordBody::Status { status: s } => {
                            current = *s;
                            status.insert(record.report.clone(), *s);
                            if record.report == entry.id {
                                status_history.push(record.clone());
                            }
                        }
                        RecordBody::Mute { muted: m } => muted = *m,
                        RecordBody::Transfer(_) => transferred = true,
                        RecordBody::Note { .. } => notes.push(record.clone()),
                        RecordBody::Reply { .. } => {
                            thread_items.push(thread::Item::Reply(record.clone()))
                        }
                        _ => {}
                    }
                    events.push(Event::Record { n, record });
                }
            }
        }
        let report = report.ok_or_else(|| DeskError::NoSuchCase(case_id.to_owned()))?;
        // The export's and the CLI's view of the case: its status is the case's.
        status.insert(report.id.clone(), entry.status);
        let thread = thread::Thread {
            focus: report.clone(),
            items: thread_items,
            notes,
            status_history,
            status,
        };
        Ok(CaseData {
            entry,
            report,
            events,
            thread,
        })
    }

    /// Record (in the vault, for every desk) that `account` has seen the
    /// case as it is at `n`.
    pub(crate) async fn mark_seen(
        &self,
        case_id: &str,
        account: &str,
        n: i64,
    ) -> Result<(), DeskError> {
        self.vault().seen(case_id, account, n).await?;
        self.index_read()?.set_seen(case_id, account, n);
        Ok(())
    }

    /// Whether `account` has seen the case as it is now.
    pub(crate) fn is_current(&self, case_id: &str, account: &str) -> bool {
        self.index_read()
            .ok()
            .and_then(|idx| idx.get(case_id).map(|c| !idx.unread(c, account)))
            .unwrap_or(false)
    }

    /// After `account` changed a case it had seen as it was (`was_current`),
    /// it has seen it as it is now: its own change does not make it unread.
    pub(crate) async fn keep_current(
        &self,
        case_id: &str,
        account: &str,
        was_current: bool,
    ) -> Result<(), DeskError> {
        if !was_current {
            return Ok(());
        }
        let n = self.index_read()?.get(case_id).map(|c| c.last_activity);
        match n {
            Some(n) => self.mark_seen(case_id, account, n).await,
            None => Ok(()),
        }
    }

    /// Remove `account`'s seen marker (mark unread).
    pub(crate) async fn unsee(&self, case_id: &str, account: &str) -> Result<(), DeskError> {
        self.vault().unsee(case_id, account).await?;
        self.index_read()?.unsee(case_id, account);
        Ok(())
    }

    /// Who has seen the case, from the vault (other desks' markers included).
    pub(crate) async fn seen_by(&self, case_id: &str) -> Result<Vec<super::SeenBy>, DeskError> {
        let rows = self.vault().seen_of(case_id).await?;
        let last = self
            .index_read()?
            .get(case_id)
            .map(|c| c.last_activity)
            .unwrap_or(0);
        {
            let idx = self.index_read()?;
            for (account, n) in &rows {
                idx.set_seen(case_id, account, *n);
            }
        }
        Ok(rows
            .into_iter()
            .map(|(account, n)| super::SeenBy {
                account,
                current: n >= last,
            })
            .collect())
    }
}

enum Item {
    Message(Box<Message>),
    Record(Record),
}

/// Counts kept for the pull state: unreadable cases and their reasons.
pub(crate) fn unreadable(index: &Index) -> BTreeMap<String, (String, String, String)> {
    index
        .cases()
        .filter_map(|c| {
            c.unreadable
                .as_ref()
                .map(|(code, reason)| (c.id.clone(), (c.day.clone(), code.clone(), reason.clone())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{QueueQuery, Status, TimelineEvent, View};

    #[tokio::test]
    async fn a_follow_up_joins_its_case_and_re_opens_it() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let r = Reporter::new();
        let id = t
            .store(
                &vault,
                "2026-12-01",
                &r.report("dealing", "Tall Dave", "AB12 CDE"),
            )
            .await;
        let other = Reporter::new();
        t.store(
            &vault,
            "2026-12-01",
            &other.report("other", "Nobody", "ZZ99 ZZZ"),
        )
        .await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        assert!(desk.set_status(&ann, &id, Status::Closed).await.unwrap());
        let fu = t
            .store(
                &vault,
                "2026-12-02",
                &r.follow_up("he drives a blue van too"),
            )
            .await;
        let all = QueueQuery {
            view: View::All,
            ..QueueQuery::default()
        };
        let page = desk.queue(&ann, &all).await.unwrap();
        assert_eq!(page.total, 2, "one case per thread: {:?}", page.rows);
        let row = page.rows.iter().find(|r| r.case_id == id).unwrap();
        assert_eq!(row.status, Status::New, "the follow-up re-opened it");
        assert_eq!(row.follow_ups, 1);
        assert_eq!(row.last_follow_up.as_deref(), Some("2026-12-02"));
        // The follow-up's id finds its case.
        let view = desk.case(&ann, &fu[..8]).await.unwrap();
        assert_eq!(view.case_id, id);
        let events: Vec<&TimelineEvent> = view.timeline.iter().map(|i| &i.event).collect();
        assert!(
            matches!(
                events.as_slice(),
                [
                    TimelineEvent::Status {
                        status: Status::Closed
                    },
                    TimelineEvent::Reopened,
                    TimelineEvent::FollowUp { .. }
                ]
            ),
            "in the order the desk learned of them, not the reporter's clock: {events:?}"
        );
        // Unread for everyone until opened; ann just opened it.
        let page = desk.queue(&ann, &all).await.unwrap();
        let row = page.rows.iter().find(|r| r.case_id == id).unwrap();
        assert!(!row.unread && row.seen_by == ["ann"]);
        let bob = handler("bob");
        let page = desk.queue(&bob, &all).await.unwrap();
        assert!(page.rows.iter().find(|r| r.case_id == id).unwrap().unread);
        desk.mark_unread(&ann, &id).await.unwrap();
        let page = desk.queue(&ann, &all).await.unwrap();
        assert!(page.rows.iter().find(|r| r.case_id == id).unwrap().unread);
    }

    #[tokio::test]
    async fn a_muted_case_s_follow_up_is_flagged_not_new_work() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let r = Reporter::new();
        let id = t
            .store(
                &vault,
                "2026-12-01",
                &r.report("junk", "Tall Dave", "AB12 CDE"),
            )
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        desk.set_status(&ann, &id, Status::Closed).await.unwrap();
        assert!(desk.mute(&ann, &id, true).await.unwrap());
        t.store(&vault, "2026-12-02", &r.follow_up("more junk"))
            .await;
        let page = desk
            .queue(
                &ann,
                &QueueQuery {
                    view: View::All,
                    flagged: Some(true),
                    ..QueueQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        let row = &page.rows[0];
        assert_eq!(row.status, Status::Closed, "not re-opened");
        assert_eq!(row.flag, Some(super::CaseFlag::MutedFollowUp));
        assert!(row.muted);
        let new = desk.queue(&ann, &QueueQuery::default()).await.unwrap();
        assert_eq!(new.total, 0, "not new work");
        let view = desk.case(&ann, &id).await.unwrap();
        assert!(view.timeline.iter().any(|i| matches!(
            i.event,
            TimelineEvent::FollowUp {
                while_muted: true,
                ..
            }
        )));
    }

    #[tokio::test]
    async fn search_finds_a_registration_and_a_name_in_any_case_and_any_case() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let a = Reporter::new();
        let b = Reporter::new();
        let ida = t
            .store(
                &vault,
                "2026-12-01",
                &a.report("one", "Tall Dave", "AB12 CDE"),
            )
            .await;
        let idb = t
            .store(
                &vault,
                "2026-12-01",
                &b.report("two", "Short Sue", "XY34 ZZZ"),
            )
            .await;
        t.store(&vault, "2026-12-03", &b.follow_up("and a van KL56 MNO"))
            .await;
        let desk = t.desk_on(vault).await;
        let ann = handler("ann");
        let search = |s: &str| QueueQuery {
            view: View::All,
            search: Some(s.into()),
            ..QueueQuery::default()
        };
        let ids = |p: super::super::QueuePage| -> Vec<String> {
            p.rows.into_iter().map(|r| r.case_id).collect()
        };
        assert_eq!(
            ids(desk.queue(&ann, &search("ab12 cde")).await.unwrap()),
            vec![ida.clone()]
        );
        assert_eq!(
            ids(desk.queue(&ann, &search("AB12CDE")).await.unwrap()),
            vec![ida.clone()]
        );
        assert_eq!(
            ids(desk.queue(&ann, &search("short SUE")).await.unwrap()),
            vec![idb.clone()]
        );
        assert_eq!(
            ids(desk.queue(&ann, &search("kl56")).await.unwrap()),
            vec![idb.clone()]
        );
        assert_eq!(
            ids(desk.queue(&ann, &search("ford focus")).await.unwrap()).len(),
            2
        );
        assert!(ids(desk.queue(&ann, &search("nowhere")).await.unwrap()).is_empty());
        // The search text never reaches the audit log.
        let log = crate::vault::Vault::collect(desk.vault().audit_entries())
            .await
            .unwrap();
        assert!(
            log.iter()
                .all(|r| r.action != "search" || r.detail.as_deref() == Some("view all"))
        );
        assert!(!format!("{log:?}").to_lowercase().contains("short sue"));
    }

    #[tokio::test]
    async fn an_unreadable_envelope_is_a_row_for_supervisors_only() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let r = Reporter::new();
        let mut bytes = quietline_crypto::seal::seal_report(
            &mut rng(),
            "north",
            &t.pk,
            &r.report("x", "y", "z").to_json(),
        )
        .unwrap();
        let n = bytes.len();
        bytes[n - 40] ^= 1;
        let id = store_bytes(&vault, "2026-12-01", bytes, &t.pk).await;
        let desk = t.desk_on(vault).await;
        let all = QueueQuery {
            view: View::All,
            ..QueueQuery::default()
        };
        assert_eq!(desk.queue(&handler("ann"), &all).await.unwrap().total, 0);
        let page = desk.queue(&supervisor("sam"), &all).await.unwrap();
        assert_eq!(page.total, 1);
        assert!(matches!(
            &page.rows[0].flag,
            Some(super::CaseFlag::Unreadable { code, .. }) if code == "tampered"
        ));
        let state = desk.pull_state(&supervisor("sam")).unwrap();
        assert_eq!(state.unreadable.len(), 1);
        assert_eq!(state.unreadable[0].id, id);
        assert!(matches!(
            desk.case(&supervisor("sam"), &id).await,
            Err(super::super::DeskError::Unreadable { .. })
        ));
    }

    #[tokio::test]
    async fn a_follow_up_pulled_before_its_report_hands_the_case_to_the_report() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let r = Reporter::new();
        let fu = t.store(&vault, "2026-12-02", &r.follow_up("second")).await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        let all = QueueQuery {
            view: View::All,
            ..QueueQuery::default()
        };
        assert_eq!(desk.queue(&ann, &all).await.unwrap().rows[0].case_id, fu);
        let id = t
            .store(
                &vault,
                "2026-12-01",
                &r.report("first", "Tall Dave", "AB12 CDE"),
            )
            .await;
        let page = desk.queue(&ann, &all).await.unwrap();
        assert_eq!(page.total, 1);
        let row = &page.rows[0];
        assert_eq!(
            (row.case_id.as_str(), row.category.as_str(), row.follow_ups),
            (id.as_str(), "drugs", 1)
        );
        let view = desk.case(&ann, &fu).await.unwrap();
        assert_eq!(view.case_id, id);
        assert!(view.fields.iter().any(|f| f.value.contains("Tall Dave")));
        assert!(matches!(
            view.timeline[0].event,
            TimelineEvent::FollowUp { .. }
        ));
        // A fresh desk builds the same case.
        let again = t.desk_on(vault).await;
        assert_eq!(again.queue(&ann, &all).await.unwrap().rows[0].case_id, id);
    }

    #[tokio::test]
    async fn locking_empties_the_index() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        t.store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let desk = t.desk_on(vault).await;
        assert_eq!(desk.index_read().unwrap().len(), 1);
        desk.lock();
        assert_eq!(desk.index_read().unwrap().len(), 0);
        assert!(matches!(
            desk.queue(&handler("ann"), &QueueQuery::default()).await,
            Err(super::super::DeskError::Locked)
        ));
    }
}

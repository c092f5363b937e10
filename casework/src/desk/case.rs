//! One case: [`Desk::case`] returns the report in full and a timeline of
//! everything that happened to it, in the order the desk learned of it (the
//! vault's change counter, never the reporter's clock), and marks the case
//! seen by the asking handler; [`Desk::mark_unread`] takes that back.
//!
//! It owns what a case view holds. It does not render (the web layer and the
//! CLI do) and does not change the case (see [`super::actions`]).

use quietline_crypto::payload::Payload;

use super::index::{CaseData, Event};
use super::queue::CaseFlag;
use super::{Desk, DeskError, Handler, Priority, Status};
use crate::records::RecordBody;
use crate::render::{report_fields, short, short_thread};

/// A labelled value of the report, as the reporter gave it (raw text: the
/// front end escapes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The label (`Category`, `Details`, `Where`, `When`, `Person 1`,
    /// `Vehicle 1`, `How known`, …).
    pub label: String,
    /// The value.
    pub value: String,
}

/// Who has seen a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenBy {
    /// The account.
    pub account: String,
    /// Whether they saw it as it is now (`false`: something happened since).
    pub current: bool,
}

/// What happened, in one timeline item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimelineEvent {
    /// A message from the reporter after the report.
    FollowUp {
        /// Its id on the server.
        id: String,
        /// The server's UTC day of receipt.
        day: String,
        /// The reporter's own clock at sending (not trusted for order).
        sent_at: String,
        /// Its language tag.
        language: String,
        /// The message.
        message: String,
        /// Whether it arrived while the case was muted.
        while_muted: bool,
    },
    /// Another report in the same thread (the reporter started again with
    /// the same reply code): shown in full.
    Report {
        /// Its id on the server.
        id: String,
        /// The server's UTC day of receipt.
        day: String,
        /// Its fields.
        fields: Vec<Field>,
    },
    /// A reply the force sent (its own sealed copy).
    Reply {
        /// The one-time slot it went to.
        slot: u32,
        /// `from` as the reporter read it.
        from: String,
        /// The language tag, if recorded.
        language: Option<String>,
        /// The message.
        message: String,
    },
    /// An internal note (never sent).
    Note {
        /// The note.
        text: String,
    },
    /// A status change.
    Status {
        /// The new status.
        status: Status,
    },
    /// A follow-up re-opened the case (status back to `new`).
    Reopened,
    /// An assignment (`None`: unassigned).
    Assigned {
        /// The account.
        to: Option<String>,
    },
    /// A priority change.
    Priority {
        /// The new priority.
        priority: Priority,
    },
    /// Labels added and removed.
    Labels {
        /// Added.
        added: Vec<String>,
        /// Removed.
        removed: Vec<String>,
    },
    /// Muted or unmuted.
    Muted {
        /// Muted now?
        muted: bool,
    },
    /// Graded 3x5x2 (issue 17).
    Graded {
        /// The grading.
        grading: crate::intel::Grading,
        /// Why, if a reason was given.
        reason: Option<String>,
    },
    /// A THRIVE assessment (issue 17); its fields are in [`CaseView::intel`].
    Thrive {
        /// A RE-THRIVE (not the first).
        reassessment: bool,
    },
    /// The case was transferred to another force (issue 17); the reason
    /// and the rest are in [`CaseView::transfer`].
    Transferred {
        /// The receiving force's display name.
        to_name: String,
    },
    /// A message of the case was passed on to the receiving force.
    Forwarded {
        /// The message passed on.
        message: String,
        /// The receiving force's id.
        to: String,
    },
    /// A sanitised intelligence report was written (issue 17).
    IntelReport {
        /// Its reference.
        reference: String,
        /// Its number within the case.
        number: u32,
    },
    /// A supervisor reviewed the case for retention and kept it (issue 17).
    Retained {
        /// The next review day, `YYYY-MM-DD`.
        next_review: String,
        /// Why.
        reason: String,
    },
    /// A supervisor disclosed a sanitised report to a partner (issue 17).
    Disclosed {
        /// The partner.
        partner: String,
        /// The report's reference.
        reference: String,
    },
}

/// One item of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineItem {
    /// Where the desk learned of it (the vault's change counter): the order.
    pub n: i64,
    /// When: for a handler's record, the desk's UTC time (RFC 3339); for a
    /// reporter's message, the server's UTC day of receipt.
    pub at: String,
    /// The account that did it (`None` for the reporter).
    pub by: Option<String>,
    /// What happened.
    pub event: TimelineEvent,
}

/// A case as a handler reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseView {
    /// The case id (its first report's id).
    pub case_id: String,
    /// Its short form.
    pub short_id: String,
    /// The force.
    pub force_id: String,
    /// Short thread id, or `-`.
    pub thread: String,
    /// The server's UTC day of receipt of the report.
    pub received: String,
    /// The reporter's clock when sending (shown as such; not trusted).
    pub sent_at: String,
    /// The report's language tag.
    pub language: String,
    /// The category.
    pub category: String,
    /// The report's fields in a fixed order (people and vehicles one each).
    pub fields: Vec<Field>,
    /// How many attachments the report lists.
    pub attachments: u32,
    /// Every attachment of the case (the report's, then the follow-ups'),
    /// numbered from 1, with its state and metadata (issue 19).
    pub attachment_list: Vec<super::AttachmentInfo>,
    /// Status.
    pub status: Status,
    /// Priority.
    pub priority: Priority,
    /// Assigned account.
    pub assignee: Option<String>,
    /// Labels, sorted.
    pub labels: Vec<String>,
    /// Muted?
    pub muted: bool,
    /// Why flagged, if so.
    pub flag: Option<CaseFlag>,
    /// Everything after the report, in the order the desk learned of it.
    pub timeline: Vec<TimelineItem>,
    /// Who has seen it (the asking handler included, now), sorted.
    pub seen_by: Vec<SeenBy>,
    /// How many replies the force has sent: give it back to
    /// [`Desk::reply`] as `seen_replies`.
    pub replies: u32,
    /// Why the reporter cannot be answered, if they cannot (no reply material).
    pub reply_blocked: Option<String>,
    /// Grading and THRIVE history, the response target (issue 17).
    pub intel: super::intel::CaseIntel,
    /// Transferred to another force, or from one (issue 17).
    pub transfer: super::transfer::CaseTransfer,
}

pub(crate) fn fields_of(payload: &Payload) -> Vec<Field> {
    match payload {
        Payload::Report(r) => report_fields(&r.report)
            .into_iter()
            .map(|(label, value)| Field { label, value })
            .collect(),
        Payload::FollowUp(f) => vec![Field {
            label: "Message".into(),
            value: f.message.clone(),
        }],
        Payload::Reply(_) => Vec::new(),
    }
}

/// Build the view from an opened case (no I/O).
pub(crate) fn view_of(data: &CaseData, force_id: &str, me: &str) -> CaseView {
    let report = &data.report;
    let (category, attachments) = match &report.payload {
        Payload::Report(r) => (r.report.category.clone(), r.attachments.len() as u32),
        Payload::FollowUp(f) => ("follow-up".to_owned(), f.attachments.len() as u32),
        Payload::Reply(_) => (String::new(), 0),
    };
    let reply_blocked = match &report.payload {
        Payload::Report(r) => r.reply.decode().err().map(|e| e.to_string()),
        Payload::FollowUp(f) => f.reply.decode().err().map(|e| e.to_string()),
        Payload::Reply(_) => Some("not a report".into()),
    }
    .map(|e| format!("the report carries no usable reply material ({e})"));
    let mut timeline = Vec::new();
    let mut thrives = 0u32;
    for e in &data.events {
        let item = match e {
            Event::Message { n, msg, muted } => TimelineItem {
                n: *n,
                at: msg.day.clone(),
                by: None,
                event: match &msg.payload {
                    Payload::FollowUp(f) => TimelineEvent::FollowUp {
                        id: msg.id.clone(),
                        day: msg.day.clone(),
                        sent_at: f.common.sent_at.clone(),
                        language: f.common.lang.clone(),
                        message: f.message.clone(),
                        while_muted: *muted,
                    },
                    _ => TimelineEvent::Report {
                        id: msg.id.clone(),
                        day: msg.day.clone(),
                        fields: fields_of(&msg.payload),
                    },
                },
            },
            Event::Reopened { n } => TimelineItem {
                n: *n,
                at: String::new(),
                by: None,
                event: TimelineEvent::Reopened,
            },
            Event::Record { n, record } => TimelineItem {
                n: *n,
                at: record.at.clone(),
                by: Some(record.by.clone()),
                event: match &record.body {
                    RecordBody::Note { text } => TimelineEvent::Note { text: text.clone() },
                    RecordBody::Status { status } => TimelineEvent::Status { status: *status },
                    RecordBody::Reply {
                        slot,
                        from,
                        message,
                        lang,
                        ..
                    } => TimelineEvent::Reply {
                        slot: *slot,
                        from: from.clone(),
                        language: lang.clone(),
                        message: message.clone(),
                    },
                    RecordBody::Assign { to } => TimelineEvent::Assigned { to: to.clone() },
                    RecordBody::Priority { priority } => TimelineEvent::Priority {
                        priority: *priority,
                    },
                    RecordBody::Label { add, remove } => TimelineEvent::Labels {
                        added: add.clone(),
                        removed: remove.clone(),
                    },
                    RecordBody::Mute { muted } => TimelineEvent::Muted { muted: *muted },
                    RecordBody::Grade { grading, reason } => TimelineEvent::Graded {
                        grading: grading.clone(),
                        reason: reason.clone(),
                    },
                    RecordBody::IntelReport { sanitised: report } => TimelineEvent::IntelReport {
                        reference: report.reference.clone(),
                        number: report.number,
                    },
                    RecordBody::RetentionReview {
                        next_review,
                        reason,
                    } => TimelineEvent::Retained {
                        next_review: next_review.clone(),
                        reason: reason.clone(),
                    },
                    RecordBody::Disclosure {
                        partner, reference, ..
                    } => TimelineEvent::Disclosed {
                        partner: partner.clone(),
                        reference: reference.clone(),
                    },
                    RecordBody::Transfer(t) => TimelineEvent::Transferred {
                        to_name: t.to_name.clone(),
                    },
                    RecordBody::Forward { message, to, .. } => TimelineEvent::Forwarded {
                        message: message.clone(),
                        to: to.clone(),
                    },
                    RecordBody::Thrive { .. } => {
                        thrives += 1;
                        TimelineEvent::Thrive {
                            reassessment: thrives > 1,
                        }
                    }
                },
            },
        };
        timeline.push(item);
    }
    let _ = me;
    CaseView {
        case_id: data.entry.id.clone(),
        short_id: short(&data.entry.id).to_owned(),
        force_id: force_id.to_owned(),
        thread: short_thread(data.entry.thread),
        received: report.day.clone(),
        sent_at: report.payload.common().sent_at.clone(),
        language: report.payload.common().lang.clone(),
        category,
        fields: fields_of(&report.payload),
        attachments,
        attachment_list: Vec::new(),
        status: data.entry.status,
        priority: data.entry.priority,
        assignee: data.entry.assignee.clone(),
        labels: data.entry.labels.clone(),
        muted: data.entry.muted,
        flag: data.entry.flag(),
        timeline,
        seen_by: Vec::new(),
        replies: data.entry.replies,
        reply_blocked,
        intel: super::intel::case_intel(data),
        transfer: super::transfer::transfer_view(data),
    }
}

impl Desk {
    /// The case `id` (a case id, any message id of the case, or an
    /// unambiguous prefix of either) for `who`: audited (`show`) before it is
    /// opened, then marked seen by `who`.
    pub async fn case(&self, who: &Handler, id: &str) -> Result<CaseView, DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.record_audit(who, "show", Some(&case_id), None).await?;
        let data = self.open_case(&case_id).await?;
        let mut view = view_of(&data, self.force_id(), &who.account);
        view.intel.due = self.due_of(&self.response_targets()?, &data.entry);
        view.intel.review = self.review_of(&self.retention_rules()?, &data.entry);
        view.attachment_list = self.attachments_of(&data).await?;
        self.mark_seen(&case_id, &who.account, data.entry.last_activity)
            .await?;
        view.seen_by = self.seen_by(&case_id).await?;
        Ok(view)
    }

    /// Mark the case unread for `who` (their seen marker is removed).
    /// Audited (`unread`).
    pub async fn mark_unread(&self, who: &Handler, id: &str) -> Result<(), DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.record_audit(who, "unread", Some(&case_id), None)
            .await?;
        self.unsee(&case_id, &who.account).await
    }
}

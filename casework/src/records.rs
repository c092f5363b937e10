//! The handler's own records — notes, statuses and copies of sent replies —
//! sealed at rest to the force's own current public key.
//!
//! Construction (also in `console/README.md`): the record is JSON
//! `{"v":1,"type":"quietline-console/<kind>","report":"<report id>",…}` sealed
//! with `quietline_crypto::seal::seal_report` (HPKE base mode, the v1 suite,
//! info `quietline/v1/report`) to the key ring's CURRENT public key, routed to
//! the force's own id: a kind-1 envelope that only this force's key ring
//! opens. Old records stay readable after `key rotate` because old keys stay
//! in the ring. On opening, the kind and the report id inside must match the
//! row: a record moved to another report or relabelled is refused.
//!
//! Limits, stated plainly: HPKE base mode is not sender-authenticated, and the
//! force's public key is public, so someone who can write the vault file could
//! ADD a forged record (not read or alter an existing one undetected). The
//! audit chain records who made each real change. A dedicated HPKE info label
//! for vault records is requested from the crypto crate (see the README).
//!
//! This module does not store (see [`crate::vault`]) and does not decide what
//! a status means.

use quietline_crypto::keys::PublicKey;
use quietline_crypto::seal::seal_report;
use serde::{Deserialize, Serialize};

use crate::keyring::{Flag, KeyRing};
use crate::vault::{StoredRecord, Vault, VaultError};

/// Record schema version.
pub const RECORD_VERSION: u32 = 1;

/// A report's handling status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not looked at yet (the default).
    New,
    /// Read and graded.
    Triaged,
    /// Passed on or acted upon.
    Actioned,
    /// Nothing more to do.
    Closed,
}

impl Status {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Triaged => "triaged",
            Status::Actioned => "actioned",
            Status::Closed => "closed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A case's priority (issue 16): how soon it needs a handler.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Before anything else.
    High,
    /// The default.
    #[default]
    Medium,
    /// When there is time.
    Low,
}

impl Priority {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
    /// Parse a name written by [`Priority::as_str`].
    pub fn from_name(s: &str) -> Option<Priority> {
        match s {
            "high" => Some(Priority::High),
            "medium" => Some(Priority::Medium),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }
    /// 3 for high, 2 medium, 1 low (sorting "most urgent first" is descending rank).
    pub fn rank(self) -> u8 {
        match self {
            Priority::High => 3,
            Priority::Medium => 2,
            Priority::Low => 1,
        }
    }
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Status {
    /// Parse a name written by [`Status::as_str`].
    pub fn from_name(s: &str) -> Option<Status> {
        match s {
            "new" => Some(Status::New),
            "triaged" => Some(Status::Triaged),
            "actioned" => Some(Status::Actioned),
            "closed" => Some(Status::Closed),
            _ => None,
        }
    }
    /// Every status, in workflow order.
    pub const ALL: [Status; 4] = [
        Status::New,
        Status::Triaged,
        Status::Actioned,
        Status::Closed,
    ];
}

/// What a record says. Records about a case's handling (status, assignment,
/// priority, labels, mute, notes) are kept on the case id (its first
/// report's id); a reply copy on the message it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RecordBody {
    /// A handler's note on a report.
    #[serde(rename = "quietline-console/note")]
    Note {
        /// The note.
        text: String,
    },
    /// A status change.
    #[serde(rename = "quietline-console/status")]
    Status {
        /// The new status.
        status: Status,
    },
    /// A copy of a reply sent to the reporter (the reply itself is sealed to
    /// the reporter's key, so the force keeps its own copy).
    #[serde(rename = "quietline-console/reply")]
    Reply {
        /// Thread id (hex) of the conversation.
        thread: String,
        /// The slot index it was posted to.
        slot: u32,
        /// The `from` shown to the reporter.
        from: String,
        /// The message.
        message: String,
        /// Its language tag (absent in copies written before the desk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lang: Option<String>,
    },
    /// The case was assigned to an account (`None`: unassigned).
    #[serde(rename = "quietline-console/assign")]
    Assign {
        /// The account, or `None` for nobody.
        to: Option<String>,
    },
    /// The case's priority changed.
    #[serde(rename = "quietline-console/priority")]
    Priority {
        /// The new priority.
        priority: Priority,
    },
    /// Labels added to and removed from the case.
    #[serde(rename = "quietline-console/label")]
    Label {
        /// Labels added.
        #[serde(default)]
        add: Vec<String>,
        /// Labels removed.
        #[serde(default)]
        remove: Vec<String>,
    },
    /// The case was muted (its later follow-ups arrive flagged, not as new
    /// work) or unmuted.
    #[serde(rename = "quietline-console/mute")]
    Mute {
        /// Whether it is muted now.
        muted: bool,
    },
    /// The case was graded 3x5x2 (issue 17; `casework/src/intel/grading.rs`).
    #[serde(rename = "quietline-console/grade")]
    Grade {
        /// The grading.
        grading: crate::intel::Grading,
        /// Why (required when the source evaluation changed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A THRIVE assessment (the first at triage, each later one a RE-THRIVE;
    /// issue 17, `casework/src/intel/thrive.rs`).
    #[serde(rename = "quietline-console/thrive")]
    Thrive {
        /// The six fields.
        thrive: Box<crate::intel::Thrive>,
    },
    /// A sanitised intelligence report written from the case (issue 17,
    /// `casework/src/intel/report.rs`).
    #[serde(rename = "quietline-console/intel-report")]
    IntelReport {
        /// The report (not `report`: that is the record's case id).
        sanitised: Box<crate::intel::report::SanitisedReport>,
    },
    /// A supervisor reviewed the closed case for retention and kept it
    /// until a new review date (issue 17, `casework/src/intel/retention.rs`;
    /// the other outcome, deletion, leaves no record: everything goes).
    #[serde(rename = "quietline-console/retention-review")]
    RetentionReview {
        /// The next review day, `YYYY-MM-DD` (UTC).
        next_review: String,
        /// Why the case is kept.
        reason: String,
    },
    /// A supervisor disclosed the case to a partner outside the platform,
    /// as one of its sanitised intelligence reports only (issue 17,
    /// `casework/src/desk/disclose.rs`).
    #[serde(rename = "quietline-console/disclosure")]
    Disclosure {
        /// The partner, in the supervisor's words ("Local authority
        /// safeguarding team").
        partner: String,
        /// Why.
        reason: String,
        /// The handling conditions the partner must keep to.
        conditions: String,
        /// The sanitised report disclosed (its number on the case).
        number: u32,
        /// Its reference.
        reference: String,
    },
    /// The case was transferred to another force on the platform (issue 17,
    /// `casework/src/desk/transfer.rs`): the case is closed as transferred
    /// and every message of it is passed on (each a [`RecordBody::Forward`]).
    #[serde(rename = "quietline-console/transfer")]
    Transfer(Box<TransferRecord>),
    /// One message of a transferred case was passed on to the receiving force.
    #[serde(rename = "quietline-console/forward")]
    Forward {
        /// The message passed on (the report or a follow-up).
        message: String,
        /// The receiving force's id.
        to: String,
        /// The id the platform gave the passed-on envelope.
        receipt: String,
        /// Attachments of the message passed on with their entries as the
        /// reporter sealed them, because this force never stored their
        /// blobs whole (flagged here): the receiving force cannot fetch
        /// them. Absent (0) when every attachment was re-sealed and
        /// uploaded to it (crypto/FORMAT.md#transfer-note).
        #[serde(default, skip_serializing_if = "is_zero")]
        attachments_not_passed: u32,
    },
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl RecordBody {
    /// The vault's `kind` column for this body.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordBody::Note { .. } => "note",
            RecordBody::Status { .. } => "status",
            RecordBody::Reply { .. } => "reply",
            RecordBody::Assign { .. } => "assign",
            RecordBody::Priority { .. } => "priority",
            RecordBody::Label { .. } => "label",
            RecordBody::Mute { .. } => "mute",
            RecordBody::Grade { .. } => "grade",
            RecordBody::Thrive { .. } => "thrive",
            RecordBody::IntelReport { .. } => "intel-report",
            RecordBody::RetentionReview { .. } => "retention-review",
            RecordBody::Disclosure { .. } => "disclosure",
            RecordBody::Transfer(_) => "transfer",
            RecordBody::Forward { .. } => "forward",
        }
    }
}

/// What a [`RecordBody::Transfer`] says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRecord {
    /// The receiving force's id.
    pub to: String,
    /// Its display name in the directory at the time.
    pub to_name: String,
    /// The key id it was sealed to.
    pub key_id: String,
    /// Why, in the supervisor's words.
    pub reason: String,
    /// The grading at transfer (`2 B P`), if graded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<String>,
    /// How the receiving force's key was vouched for, in words.
    pub key_check: String,
}

/// A whole record (the sealed plaintext).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// [`RECORD_VERSION`].
    pub v: u32,
    /// The report it belongs to.
    pub report: String,
    /// When it was written, UTC RFC 3339.
    pub at: String,
    /// Who wrote it (handler name and OS user).
    pub by: String,
    /// What it says.
    #[serde(flatten)]
    pub body: RecordBody,
}

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Sealing failed (e.g. a note over 64 KiB).
    #[error("cannot seal the record: {0}")]
    Seal(String),
    /// It did not open.
    #[error("vault record {seq} does not open: {flag}")]
    Open {
        /// Local sequence number.
        seq: i64,
        /// Why.
        flag: Flag,
    },
    /// It opened but does not belong where it is.
    #[error("vault record {seq} is not what its row says ({0}): the vault was edited", seq = .1)]
    Mismatch(String, i64),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Seal a record to the force's current public key and append it to the
/// vault. Needs no private key: the public key is in the key file's header.
/// It decrypts nothing, so it stays public (the bench's vault generator
/// uses it); front ends change cases through [`crate::desk::Desk`], which
/// audits each change.
pub async fn add(
    vault: &Vault,
    force_id: &str,
    current: &PublicKey,
    record: &Record,
) -> Result<i64, RecordError> {
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(record).map_err(|e| RecordError::Seal(e.to_string()))?,
    );
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let sealed = seal_report(&mut rng, force_id, current, &json)
        .map_err(|e| RecordError::Seal(e.to_string()))?;
    Ok(vault
        .add_record(&record.report, record.body.kind(), &sealed)
        .await?)
}

/// Open a stored record and check it belongs to its row (crate-private:
/// front ends read records through [`crate::desk::Desk`]).
pub(crate) fn open(ring: &KeyRing, row: &StoredRecord) -> Result<Record, RecordError> {
    let (plain, _) = ring
        .open_kind1(&row.sealed)
        .map_err(|flag| RecordError::Open { seq: row.seq, flag })?;
    // Never serde's message nor the record's own fields in the error: they
    // quote what was sealed (a note's text, a forged status value).
    let record: Record = serde_json::from_slice(&plain).map_err(|_| {
        RecordError::Mismatch(
            format!("not a record: {}", crate::refusal::record(&plain)),
            row.seq,
        )
    })?;
    if record.v != RECORD_VERSION {
        return Err(RecordError::Mismatch(
            "its record version is not 1".to_owned(),
            row.seq,
        ));
    }
    if record.report != row.report_id {
        return Err(RecordError::Mismatch(
            format!("sealed for a {} of another report", record.body.kind()),
            row.seq,
        ));
    }
    if record.body.kind() != row.kind {
        return Err(RecordError::Mismatch(
            format!("sealed as a {}", record.body.kind()),
            row.seq,
        ));
    }
    Ok(record)
}

//! Passing a case to another force on the platform (issue 17, "Passing a
//! case to another force"): [`Desk::transfer`] by a supervisor, the
//! automatic passing on of later follow-ups ([`Desk::forward_pending`], run
//! after every pull), and what the index and the case view know of
//! transfers in and out.
//!
//! A transfer re-seals each message of the case — its payload as the
//! reporter sealed it, reply material included, plus a transfer note
//! (crypto/FORMAT.md#transfer-note) — to the receiving force's current key
//! from the platform's directory, and submits it through the normal public
//! intake with its proof of work, exactly as a reporter's page does: the
//! server cannot tell a transferred report from any other. Attachments go
//! with it: blobs on the server are bound to the force they were uploaded
//! to, so each attachment this force stored whole is opened from the vault,
//! re-sealed under a fresh key and uploaded to the receiving force first
//! (its entry rewritten with the new id and key), one at a time; one this
//! force never stored whole is passed on unchanged and counted, never
//! dropped silently (crypto/FORMAT.md#transfer-note). The key is
//! checked first: its key id must be its own, and a key statement is
//! verified against the force's pinned signing keys when this force pins
//! them (`pins.json` in the console home, the page's format), or at least
//! checked to name that force and that key and be valid today when it does
//! not. A key that fails is refused and the refusal audited.
//!
//! The sending case is closed as transferred and kept: a sealed `transfer`
//! record (destination, reason, grading, how the key was checked), one
//! sealed `forward` record per message passed on (with the platform's id
//! for it and how many of its attachments could not be passed), a `closed`
//! status, and audit entries `transfer` and `forward`
//! naming the destination (the reason is case content: sealed, never in the
//! log). The receiving desk audits `transfer-in` when it pulls a transferred
//! case. It does not speak HTTP itself ([`crate::client`]) or render.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline_crypto::keys::PublicKey;
use quietline_crypto::payload::{
    Attachment, AttachmentRef, Payload, TRANSFER_VERSION, TransferNote,
};
use quietline_crypto::statement::{SignedStatement, SignerKey, SignerSet, day_from_ymd};
use quietline_crypto::stream::{self, Encryptor, StreamKey};
use zeroize::{Zeroize, Zeroizing};

use super::index::CaseEntry;
use super::{Desk, DeskError, Handler, Status};
use crate::blobs::{ReadError, StoredReader};
use crate::client::{Client, DirectoryEntry};
use crate::records::{self, Record, RecordBody, TransferRecord};
use crate::render::short;
use crate::text::clean_line;

/// The longest transfer reason, in characters.
pub const MAX_REASON: usize = 2000;
/// The file in the console home that pins other forces' signing keys (the
/// format of the page's `web/pins.json`).
pub const PINS_FILE: &str = "pins.json";

/// What the index keeps of a case's transfers (no text but force names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TransferEntry {
    /// Transferred to (force id, display name).
    pub to: Option<(String, String)>,
    /// Messages already passed on.
    pub forwarded: BTreeSet<String>,
    /// Received from (the sending force's display name).
    pub from: Option<String>,
}

impl TransferEntry {
    /// Apply one record (any kind) in the order the vault wrote it.
    pub fn apply(&mut self, r: &Record) {
        match &r.body {
            RecordBody::Transfer(t) => {
                self.to = Some((t.to.clone(), t.to_name.clone()));
            }
            RecordBody::Forward { message, .. } => {
                self.forwarded.insert(message.clone());
            }
            _ => {}
        }
    }
}

/// A case this force passed on, as the case view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferredTo {
    /// When (desk time, RFC 3339).
    pub at: String,
    /// The supervisor.
    pub by: String,
    /// The receiving force's id.
    pub to: String,
    /// Its display name.
    pub to_name: String,
    /// Why.
    pub reason: String,
    /// The grading at transfer.
    pub grading: Option<String>,
    /// How the receiving force's key was checked, in words.
    pub key_check: String,
    /// Messages passed on: (message id, the platform's id for the copy).
    pub forwarded: Vec<(String, String)>,
    /// Messages of the case not passed on yet (the next pull tries again).
    pub pending: u32,
    /// Attachments passed on with their entries unchanged because this
    /// force never stored them whole: the receiving force cannot fetch them.
    pub attachments_not_passed: u32,
}

/// A case's transfers, as [`super::CaseView::transfer`] carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseTransfer {
    /// This force passed the case on.
    pub to: Option<TransferredTo>,
    /// Another force passed the case here: its note (on the case's report).
    pub from: Option<TransferNote>,
}

/// What [`Desk::transfer`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOutcome {
    /// The case.
    pub case_id: String,
    /// The receiving force's id.
    pub to: String,
    /// Its display name.
    pub to_name: String,
    /// The key id the messages were sealed to.
    pub key_id: String,
    /// How that key was checked, in words.
    pub key_check: String,
    /// The platform's id for the passed-on report.
    pub receipt: String,
    /// Messages passed on (the report and its follow-ups).
    pub forwarded: u32,
    /// Messages that could not be passed on now (the next pull retries).
    pub pending: u32,
    /// Attachments re-sealed and uploaded to the receiving force.
    pub attachments_passed: u32,
    /// Attachments this force never stored whole (flagged missing, altered,
    /// …, or not fetched yet), passed on with their entries unchanged: the
    /// receiving force cannot fetch them.
    pub attachments_not_passed: u32,
}

/// What passing on one message's attachments did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Passed {
    /// Re-sealed and uploaded to the receiving force.
    passed: u32,
    /// Passed on unchanged: never stored whole here.
    not_passed: u32,
}

impl Passed {
    /// What the audit entry adds (nothing when there were no attachments).
    fn audit_words(&self) -> String {
        match (self.passed, self.not_passed) {
            (0, 0) => String::new(),
            (p, 0) => format!("; attachments passed on {p}"),
            (p, n) => {
                format!("; attachments passed on {p}, not passed on {n} (not stored whole here)")
            }
        }
    }
}

/// What [`Desk::forward_case`] did.
#[derive(Debug, Clone, Copy, Default)]
struct Forwarded {
    /// Messages passed on.
    done: u32,
    /// Messages that failed (retried by the next pull).
    failed: u32,
    /// Their attachments.
    attachments: Passed,
}

/// What [`Desk::forward_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardRun {
    /// Messages passed on.
    pub forwarded: u32,
    /// Attachments of those passed on unchanged (never stored whole here).
    pub attachments_not_passed: u32,
    /// Failures (case short id and why, in words), to retry next time.
    pub failed: Vec<(String, String)>,
}

/// The checked transfer reason.
pub fn check_reason(reason: &str) -> Result<String, DeskError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(DeskError::Invalid(
            "give a reason for the transfer (it goes to the receiving force with the case)".into(),
        ));
    }
    if r.chars().count() > MAX_REASON
        || r.chars()
            .any(|c| crate::text::is_unsafe(c) || (c.is_control() && c != '\n'))
    {
        return Err(DeskError::Invalid(format!(
            "a transfer reason is at most {MAX_REASON} characters with no control characters"
        )));
    }
    Ok(r.to_owned())
}

/// Pinned signer sets of other forces, from `pins.json` (the page's format:
/// `{"version":1,"forces":{"<id>":{"threshold":k,"signers":["<b64url>",…]}}}`).
pub fn load_pins(root: &std::path::Path) -> Result<Vec<(String, SignerSet)>, DeskError> {
    #[derive(serde::Deserialize)]
    struct Pin {
        threshold: usize,
        signers: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Pins {
        version: u32,
        forces: std::collections::BTreeMap<String, Pin>,
    }
    let path = root.join(PINS_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(DeskError::Invalid(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let bad = |why: String| DeskError::Invalid(format!("{} is not valid: {why}", path.display()));
    let pins: Pins = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if pins.version != 1 {
        return Err(bad(format!("version {} (this desk reads 1)", pins.version)));
    }
    pins.forces
        .into_iter()
        .map(|(force, pin)| {
            let keys = pin
                .signers
                .iter()
                .map(|k| SignerKey::from_base64url(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("force {force}: {e}")))?;
            let set = SignerSet::new(keys, pin.threshold)
                .map_err(|e| bad(format!("force {force}: {e}")))?;
            Ok((force, set))
        })
        .collect()
}

/// Check the directory's key for the receiving force: the key decodes and
/// its key id is its own; with pinned signers the statement must verify
/// ([`crate::directory::check_statement`]); without, a statement served
/// must at least be for that force and that key and valid today. Returns
/// the key and the check in words.
pub fn check_receiving_key(
    server: &str,
    entry: &DirectoryEntry,
    pinned: Option<&SignerSet>,
    today: &str,
) -> Result<(PublicKey, String), DeskError> {
    let refuse = |why: String| {
        DeskError::Invalid(format!(
            "the directory's key for force {} is refused, nothing was sent: {why}",
            clean_line(&entry.id, 64)
        ))
    };
    let pk = PublicKey::from_base64url(&entry.public_key)
        .map_err(|_| refuse("it is not a valid public key".into()))?;
    if pk.key_id().to_hex() != entry.key_id {
        return Err(refuse("its key id is not the key's own".into()));
    }
    let day = day_from_ymd(today).ok_or_else(|| refuse("the desk's clock has no date".into()))?;
    if let Some(set) = pinned {
        crate::directory::check_statement(server, entry, set, day)
            .map_err(|alarm| refuse(alarm.to_string()))?;
        return Ok((
            pk,
            "key statement verified against this force's pinned signing keys".into(),
        ));
    }
    let Some(text) = entry.statement.as_deref() else {
        return Ok((
            pk,
            "no key statement served and no signing keys pinned: key taken from the directory as served".into(),
        ));
    };
    let signed = SignedStatement::from_base64url(text)
        .map_err(|e| refuse(format!("its key statement is not valid: {e}")))?;
    let st = signed.statement();
    if st.force_id != entry.id || st.public_key != pk {
        return Err(refuse(
            "its key statement is for another force or key".into(),
        ));
    }
    st.is_current(day)
        .map_err(|e| refuse(format!("its key statement is not valid today: {e}")))?;
    Ok((
        pk,
        format!(
            "key statement names this force and key and is valid today; its signers are not pinned here (add them to {PINS_FILE} to verify them)"
        ),
    ))
}

/// The attachment entries of a message, to rewrite.
fn entries_mut(p: &mut Payload) -> &mut [AttachmentRef] {
    match p {
        Payload::Report(r) => &mut r.attachments,
        Payload::FollowUp(f) => &mut f.attachments,
        Payload::Reply(_) => &mut [],
    }
}

/// Erase a message copy: its text ([`super::index::scrub`]) and its
/// attachment keys.
fn scrub_copy(p: &mut Payload) {
    super::index::scrub(p);
    for e in entries_mut(p) {
        e.key.zeroize();
    }
}

/// The message `p` (its attachment entries already rewritten by
/// [`Desk::pass_attachments`]) with the transfer note, re-sealed to `to`
/// with `pk`; `p` is erased.
fn reseal(
    mut p: Payload,
    note: &TransferNote,
    to: &str,
    pk: &PublicKey,
) -> Result<Vec<u8>, DeskError> {
    match &mut p {
        Payload::Report(r) => r.transfer = Some(note.clone()),
        Payload::FollowUp(f) => f.transfer = Some(note.clone()),
        Payload::Reply(_) => {
            scrub_copy(&mut p);
            return Err(DeskError::Invalid(
                "a reply cannot be passed on to another force".into(),
            ));
        }
    }
    let json = zeroize::Zeroizing::new(p.to_json());
    scrub_copy(&mut p);
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    quietline_crypto::seal::seal_report(&mut rng, to, pk, &json).map_err(|e| {
        DeskError::Invalid(format!(
            "the message cannot be sealed to force {to} ({e}); nothing was sent"
        ))
    })
}

/// A force a case can be transferred to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
}

impl Desk {
    /// The forces on the platform a case can be transferred to (every force
    /// in the directory but this one), by name (supervisors). The directory
    /// is public: no audit entry.
    pub async fn transfer_destinations(
        &self,
        who: &Handler,
    ) -> Result<Vec<Destination>, DeskError> {
        if !who.role.supervises() {
            return Err(DeskError::Forbidden {
                role: who.role,
                what: "transfer a case to another force (ask a supervisor)",
            });
        }
        let client = self.client()?;
        let mut out: Vec<Destination> = client
            .forces()
            .await?
            .into_iter()
            .filter(|e| e.id != self.force_id())
            .map(|e| Destination {
                id: clean_line(&e.id, 64),
                name: clean_line(&e.name, 100),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The directory entry of `to` and its checked key.
    async fn receiving_key(
        &self,
        who: &Handler,
        client: &Client,
        case_id: Option<&str>,
        to: &str,
    ) -> Result<(DirectoryEntry, PublicKey, String), DeskError> {
        let entries = client.forces().await?;
        let entry = entries.into_iter().find(|e| e.id == to).ok_or_else(|| {
            DeskError::Invalid(format!(
                "no force {to:?} is in the platform's directory: check the force id (the directory lists each force's id and name)",
                to = clean_line(to, 64)
            ))
        })?;
        let pins = load_pins(self.home().root())?;
        let pinned = pins.iter().find(|(f, _)| *f == entry.id).map(|(_, s)| s);
        match check_receiving_key(client.base(), &entry, pinned, &self.clock().today()) {
            Ok((pk, check)) => Ok((entry, pk, check)),
            Err(e) => {
                self.record_audit(
                    who,
                    "transfer-refused",
                    case_id,
                    Some(format!(
                        "to {} key {}: {}",
                        clean_line(&entry.id, 64),
                        clean_line(&entry.key_id, 16),
                        clean_line(&e.to_string(), 300)
                    )),
                )
                .await?;
                Err(e)
            }
        }
    }

    /// Seal `body` on `case_id` as `who` (no audit: the caller writes it).
    async fn add_record(
        &self,
        who: &Handler,
        case_id: &str,
        body: RecordBody,
    ) -> Result<(), DeskError> {
        let ring = self.ring()?;
        let record = Record {
            v: records::RECORD_VERSION,
            report: case_id.to_owned(),
            at: self.clock().now_rfc3339(),
            by: who.account.clone(),
            body,
        };
        records::add(
            self.vault(),
            ring.force_id(),
            &ring.current_public_key(),
            &record,
        )
        .await?;
        Ok(())
    }

    /// Transfer the case `id` to the force `to` on the platform, for
    /// `reason` (supervisors). Checks the receiving force's key, uploads
    /// the report's (then each follow-up's) attachments to that force
    /// re-sealed under fresh keys, re-seals the message with a
    /// transfer note and submits it through the public intake with its
    /// proof of work; then closes the case as transferred. Nothing is
    /// recorded unless the report was accepted (a failed upload stops the
    /// transfer before the report is sent); a follow-up that fails is
    /// passed on by a later pull.
    pub async fn transfer(
        &self,
        who: &Handler,
        id: &str,
        to: &str,
        reason: &str,
    ) -> Result<TransferOutcome, DeskError> {
        if !who.role.supervises() {
            return Err(DeskError::Forbidden {
                role: who.role,
                what: "transfer a case to another force (ask a supervisor)",
            });
        }
        let reason = check_reason(reason)?;
        let case_id = self.resolve(who, id).await?;
        let entry = self.transfer_entry(&case_id)?;
        if let Some((_, name)) = &entry.transfer.to {
            return Err(DeskError::Invalid(format!(
                "case {} was already transferred to {name}",
                short(&case_id)
            )));
        }
        if to == self.force_id() {
            return Err(DeskError::Invalid(
                "a case cannot be transferred to this force itself".into(),
            ));
        }
        let client = self.client()?;
        let (dir, pk, key_check) = self.receiving_key(who, &client, Some(&case_id), to).await?;
        let to_name = clean_line(&dir.name, 100);
        let data = self.open_case(&case_id).await?;
        let note = TransferNote {
            v: TRANSFER_VERSION,
            from_force: self.force_id().to_owned(),
            from_name: self.reply_from(),
            case: case_id.clone(),
            thread_id: data.entry.thread.map(hex::encode).unwrap_or_default(),
            grading: data.entry.intel.code(),
            reason: reason.clone(),
            day: self.clock().today(),
            by: who.account.clone(),
            next_slot: data.entry.next_slot,
        };
        // Attachments first: the report must never reach the receiving
        // force naming blobs it does not hold yet.
        let mut payload = data.report.payload.clone();
        let passed = match self
            .pass_attachments(&client, &case_id, &mut payload, to)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                scrub_copy(&mut payload);
                return Err(e);
            }
        };
        let sealed = reseal(payload, &note, to, &pk)?;
        let receipt = client.submit_report(sealed).await?;
        self.add_record(
            who,
            &case_id,
            RecordBody::Transfer(Box::new(TransferRecord {
                to: to.to_owned(),
                to_name: to_name.clone(),
                key_id: pk.key_id().to_hex(),
                reason,
                grading: note.grading.clone(),
                key_check: key_check.clone(),
            })),
        )
        .await?;
        self.record_audit(
            who,
            "transfer",
            Some(&case_id),
            Some(format!(
                "to {to} ({to_name}) key {}; receipt {}{}",
                pk.key_id(),
                short(&receipt),
                passed.audit_words()
            )),
        )
        .await?;
        self.add_record(
            who,
            &case_id,
            RecordBody::Forward {
                message: case_id.clone(),
                to: to.to_owned(),
                receipt: receipt.clone(),
                attachments_not_passed: passed.not_passed,
            },
        )
        .await?;
        if data.entry.status != Status::Closed {
            self.add_record(
                who,
                &case_id,
                RecordBody::Status {
                    status: Status::Closed,
                },
            )
            .await?;
            self.record_audit(who, "status", Some(&case_id), None)
                .await?;
        }
        self.sync().await?;
        let rest = self
            .forward_case(who, &client, &case_id, &note, to, &pk)
            .await;
        self.sync().await?;
        Ok(TransferOutcome {
            case_id,
            to: to.to_owned(),
            to_name,
            key_id: pk.key_id().to_hex(),
            key_check,
            receipt,
            forwarded: rest.done + 1,
            pending: rest.failed,
            attachments_passed: passed.passed + rest.attachments.passed,
            attachments_not_passed: passed.not_passed + rest.attachments.not_passed,
        })
    }

    fn transfer_entry(&self, case_id: &str) -> Result<CaseEntry, DeskError> {
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
        Ok(entry)
    }

    /// Pass on every message of the transferred case `case_id` not passed
    /// on yet, each with `note` and its attachments
    /// ([`Desk::pass_attachments`]).
    async fn forward_case(
        &self,
        who: &Handler,
        client: &Client,
        case_id: &str,
        note: &TransferNote,
        to: &str,
        pk: &PublicKey,
    ) -> Forwarded {
        let mut out = Forwarded::default();
        let Ok(entry) = self.transfer_entry(case_id) else {
            return out;
        };
        let ring = match self.ring() {
            Ok(r) => r,
            Err(_) => {
                out.failed = entry.messages.len() as u32;
                return out;
            }
        };
        for m in &entry.messages {
            if entry.transfer.forwarded.contains(&m.id) {
                continue;
            }
            let result: Result<Passed, DeskError> = async {
                let stored = self
                    .vault()
                    .envelope(&m.id)
                    .await?
                    .ok_or_else(|| DeskError::NoSuchCase(m.id.clone()))?;
                let mut msg = crate::thread::open_message(&ring, &stored).map_err(|flag| {
                    DeskError::Unreadable {
                        id: m.id.clone(),
                        reason: flag.to_string(),
                    }
                })?;
                let mut copy = msg.payload.clone();
                scrub_copy(&mut msg.payload);
                let passed = match self.pass_attachments(client, &m.id, &mut copy, to).await {
                    Ok(p) => p,
                    Err(e) => {
                        scrub_copy(&mut copy);
                        return Err(e);
                    }
                };
                let receipt = client.submit_report(reseal(copy, note, to, pk)?).await?;
                self.add_record(
                    who,
                    case_id,
                    RecordBody::Forward {
                        message: m.id.clone(),
                        to: to.to_owned(),
                        receipt: receipt.clone(),
                        attachments_not_passed: passed.not_passed,
                    },
                )
                .await?;
                self.record_audit(
                    who,
                    "forward",
                    Some(case_id),
                    Some(format!(
                        "message {} to {to}; receipt {}{}",
                        short(&m.id),
                        short(&receipt),
                        passed.audit_words()
                    )),
                )
                .await?;
                Ok(passed)
            }
            .await;
            match result {
                Ok(p) => {
                    out.done += 1;
                    out.attachments.passed += p.passed;
                    out.attachments.not_passed += p.not_passed;
                }
                Err(_) => out.failed += 1,
            }
        }
        out
    }

    /// Pass on the attachments of the message `message_id` (`p`, a copy of
    /// its payload about to be re-sealed) to the force `to`. Blobs on the
    /// server are bound to the force they were uploaded to, and the key
    /// this force was given for each must not be reused at another force,
    /// so each attachment this force stored whole is opened from the vault,
    /// re-sealed under a fresh random key into the same bucket
    /// (crypto/FORMAT.md#sealing-an-attachment) and uploaded to `to`
    /// (crypto/FORMAT.md#blobs-on-the-server), and its entry in `p` gets
    /// the new `id` and `key` (sizes, hashes, media type and metadata kinds
    /// unchanged: the file is the same). One at a time, a vault part of it
    /// in memory at a time. An attachment not stored whole here (flagged,
    /// or not fetched yet), or whose stored blob no longer passes its
    /// checks, keeps its entry and is counted. A failed upload is an error:
    /// the message is not sent, and is tried again.
    async fn pass_attachments(
        &self,
        client: &Client,
        message_id: &str,
        p: &mut Payload,
        to: &str,
    ) -> Result<Passed, DeskError> {
        let mut out = Passed::default();
        if entries_mut(p).is_empty() {
            return Ok(out);
        }
        let rows = self.vault().attachments_of(message_id).await?;
        for (index, entry) in entries_mut(p).iter_mut().enumerate() {
            let index = index as u32;
            let stored = rows
                .iter()
                .any(|r| r.index == index && r.state == crate::vault::ATTACHMENT_STORED);
            let decoded = crate::attachments::decode(entry);
            let (true, Ok(a)) = (stored, decoded) else {
                out.not_passed += 1;
                continue;
            };
            match self.reupload(client, message_id, index, &a, to).await? {
                Some((id, key)) => {
                    entry.id = id;
                    entry.key.zeroize();
                    entry.key = URL_SAFE_NO_PAD.encode(key.as_bytes());
                    out.passed += 1;
                }
                None => out.not_passed += 1,
            }
        }
        Ok(out)
    }

    /// Attachment `index` of `message_id` (its entry `a`), read from the
    /// vault part by part, re-sealed under a fresh key chunk by chunk and
    /// uploaded to `to` part by part: the new blob id and key, or `None`
    /// when the stored blob no longer passes its checks (an upload begun is
    /// then never completed, and the server deletes it).
    async fn reupload(
        &self,
        client: &Client,
        message_id: &str,
        index: u32,
        a: &Attachment,
        to: &str,
    ) -> Result<Option<(String, StreamKey)>, DeskError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| {
            DeskError::Invalid(format!(
                "no random key for an attachment ({e}); nothing was sent"
            ))
        })?;
        let key = StreamKey::from_bytes(*bytes);
        let bad = |e: stream::StreamError| {
            DeskError::Invalid(format!(
                "an attachment cannot be re-sealed ({e}); nothing was sent"
            ))
        };
        // The bucket the reporter's page chose: the padding hides the same.
        let mut enc = Encryptor::with_bucket(&key, a.size, a.padded_size).map_err(bad)?;
        let mut reader = match StoredReader::new(self.vault(), message_id, index, a) {
            Ok(r) => r,
            Err(ReadError::Vault(e)) => return Err(e.into()),
            Err(_) => return Ok(None),
        };
        let up = client
            .begin_blob(to, stream::sealed_len(a.padded_size))
            .await?;
        // The file's octets read and not sealed yet (at most a vault part
        // and a chunk), erased when dropped.
        let mut plain = Zeroizing::new(Vec::new());
        let mut part = Vec::with_capacity(up.part_len);
        let mut n = 0u64;
        let mut complete = false;
        while !enc.is_done() {
            let need = enc.next_input_len();
            while plain.len() < need {
                match reader.next().await {
                    Ok(Some(more)) if !more.is_empty() => plain.extend_from_slice(&more),
                    Ok(_) => return Ok(None),
                    Err(ReadError::Vault(e)) => return Err(e.into()),
                    Err(_) => return Ok(None),
                }
            }
            enc.seal_next_into(&plain[..need], &mut part).map_err(bad)?;
            plain.drain(..need);
            if part.len() >= up.part_len || enc.is_done() {
                complete = client.put_blob_part(&up.id, n, &part).await?;
                part.clear();
                n += 1;
            }
        }
        // The rest of the stored blob (padding only) must pass its checks
        // too, to its last chunk.
        loop {
            match reader.next().await {
                Ok(None) => break,
                Ok(Some(more)) if more.is_empty() => {}
                Ok(Some(_)) => return Ok(None),
                Err(ReadError::Vault(e)) => return Err(e.into()),
                Err(_) => return Ok(None),
            }
        }
        if !complete || n != up.parts {
            return Err(DeskError::Invalid(
                "the receiving force does not hold the whole attachment after its last part; nothing was sent".into(),
            ));
        }
        Ok(Some((up.id, key)))
    }

    /// Pass on every message of a transferred case that has not been passed
    /// on yet (a follow-up that reached this force after the transfer, or
    /// one that failed before), to the receiving force's current key, with
    /// the case's transfer note. Run after every pull; failures are kept in
    /// the result and retried by the next pull.
    pub async fn forward_pending(
        &self,
        who: &Handler,
        client: &Client,
    ) -> Result<ForwardRun, DeskError> {
        let pending: Vec<String> = self
            .index_read()?
            .cases()
            .filter(|c| {
                c.transfer.to.is_some()
                    && c.unreadable.is_none()
                    && c.messages
                        .iter()
                        .any(|m| !c.transfer.forwarded.contains(&m.id))
            })
            .map(|c| c.id.clone())
            .collect();
        let mut run = ForwardRun::default();
        for case_id in pending {
            let outcome: Result<Forwarded, DeskError> = async {
                let view = self.transfer_of(&case_id).await?;
                let Some(t) = view.to else {
                    return Ok(Forwarded::default());
                };
                let (_, pk, _) = self
                    .receiving_key(who, client, Some(&case_id), &t.to)
                    .await?;
                let note = self.note_of(&case_id, &t).await?;
                Ok(self
                    .forward_case(who, client, &case_id, &note, &t.to, &pk)
                    .await)
            }
            .await;
            match outcome {
                Ok(f) => {
                    run.forwarded += f.done;
                    run.attachments_not_passed += f.attachments.not_passed;
                    if f.failed > 0 {
                        run.failed.push((
                            short(&case_id).to_owned(),
                            format!("{} message(s) not passed on", f.failed),
                        ));
                    }
                }
                Err(e) => run
                    .failed
                    .push((short(&case_id).to_owned(), clean_line(&e.to_string(), 300))),
            }
        }
        if run.forwarded > 0 {
            self.sync().await?;
        }
        Ok(run)
    }

    /// The note a transferred case's later messages carry (the same as its
    /// report's, with the transfer's record for reason and grading).
    async fn note_of(&self, case_id: &str, t: &TransferredTo) -> Result<TransferNote, DeskError> {
        let entry = self.transfer_entry(case_id)?;
        Ok(TransferNote {
            v: TRANSFER_VERSION,
            from_force: self.force_id().to_owned(),
            from_name: self.reply_from(),
            case: case_id.to_owned(),
            thread_id: entry.thread.map(hex::encode).unwrap_or_default(),
            grading: t.grading.clone(),
            reason: t.reason.clone(),
            day: t.at.get(..10).unwrap_or_default().to_owned(),
            by: t.by.clone(),
            next_slot: entry.next_slot,
        })
    }

    /// The case's transfers from its sealed records and its report (no
    /// audit: crate-private, for the use cases that audit).
    pub(crate) async fn transfer_of(&self, case_id: &str) -> Result<CaseTransfer, DeskError> {
        let data = self.open_case(case_id).await?;
        Ok(transfer_view(&data))
    }

    /// The case a message belongs to, if the index knows it.
    pub(crate) fn case_of_message(&self, id: &str) -> Option<String> {
        if !self.is_indexed() {
            return None;
        }
        self.index_read().ok()?.case_of(id).map(str::to_owned)
    }
}

/// The transfers of an opened case (no I/O).
pub(crate) fn transfer_view(data: &super::index::CaseData) -> CaseTransfer {
    let mut out = CaseTransfer {
        to: None,
        from: data.report.payload.transfer().cloned(),
    };
    let mut forwarded = Vec::new();
    let mut not_passed = 0;
    for e in &data.events {
        if let super::index::Event::Record { record, .. } = e {
            match &record.body {
                RecordBody::Transfer(t) => {
                    out.to = Some(TransferredTo {
                        at: record.at.clone(),
                        by: record.by.clone(),
                        to: t.to.clone(),
                        to_name: t.to_name.clone(),
                        reason: t.reason.clone(),
                        grading: t.grading.clone(),
                        key_check: t.key_check.clone(),
                        forwarded: Vec::new(),
                        pending: 0,
                        attachments_not_passed: 0,
                    });
                }
                RecordBody::Forward {
                    message,
                    receipt,
                    attachments_not_passed,
                    ..
                } => {
                    forwarded.push((message.clone(), receipt.clone()));
                    not_passed += attachments_not_passed;
                }
                _ => {}
            }
        }
    }
    if let Some(t) = &mut out.to {
        t.pending = data
            .entry
            .messages
            .iter()
            .filter(|m| !forwarded.iter().any(|(id, _)| *id == m.id))
            .count() as u32;
        t.forwarded = forwarded;
        t.attachments_not_passed = not_passed;
    }
    out
}

impl Desk {
    /// Whether the vault holds any transfer record (one row read).
    pub(crate) async fn has_transfers(&self) -> Result<bool, DeskError> {
        use futures_util::StreamExt;
        let mut rows = self.vault().records_of_kind("transfer");
        Ok(rows.next().await.transpose()?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use quietline_crypto::envelope::Kind;
    use quietline_testkit::server::{Backend, TestServer};

    use super::super::testing::*;
    use super::super::{DeskError, QueueQuery};
    use super::*;

    /// A home for `force` on `server`, logged in, named `name`.
    async fn home_for(server: &TestServer, force: &str, name: &str) -> TestHome {
        let f = server.add_force(force, name).await;
        let token = server.token(force, "desk").await;
        let t = TestHome::with_key(force, &f.private_key);
        let mut config = t.home.load_config().unwrap();
        config.server = Some(server.base.clone());
        config.token = Some(token);
        config.force_name = Some(name.into());
        t.home.save_config(&config).unwrap();
        t
    }

    async fn slot(server: &TestServer, r: &Reporter, i: u32) -> Option<Payload> {
        let address = r.secrets.slot_key.address(i);
        let res = server
            .http
            .get(server.url(&format!("/api/v1/slots/{}", hex::encode(address))))
            .send()
            .await
            .unwrap();
        if res.status().as_u16() == 404 {
            return None;
        }
        let bytes = res.bytes().await.unwrap();
        let plain = quietline_crypto::open::open(&r.secrets.reply_sk, Kind::Reply, &bytes).unwrap();
        Some(Payload::from_json(&plain).unwrap())
    }

    fn all() -> QueueQuery {
        QueueQuery {
            view: super::super::View::All,
            ..QueueQuery::default()
        }
    }

    async fn actions(desk: &Desk) -> Vec<(String, Option<String>)> {
        crate::vault::Vault::collect(desk.vault().audit_entries())
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.action, r.detail))
            .collect()
    }

    #[tokio::test]
    async fn a_transferred_case_is_answered_by_the_receiving_force_on_the_same_thread() {
        let server = TestServer::start(Backend::Sqlite).await.unwrap();
        let a = home_for(&server, "north", "North Constabulary").await;
        let b = home_for(&server, "west", "Western Demo Police").await;
        let north_pk = a.pk.clone();
        let r = Reporter::new();
        let report = r.report("dealing behind the shop", "Tall Dave", "AB12 CDE");
        let seal_north = |p: &Payload| {
            quietline_crypto::seal::seal_report(&mut rng(), "north", &north_pk, &p.to_json())
                .unwrap()
        };
        let id = server.submit(seal_north(&report)).await;
        let da = a.desk().await;
        let (ann, sam) = (handler("ann"), supervisor("sam"));
        da.pull_now(&sam).await.unwrap();
        // North answers once before it sees the case is not its own.
        da.reply(&ann, &id, "Thank you.", "en", 0).await.unwrap();

        // Refusals: a handler, no reason, this force, an unknown force.
        assert!(matches!(
            da.transfer(&ann, &id, "west", "wrong area").await,
            Err(DeskError::Forbidden { .. })
        ));
        for (to, reason) in [("west", "  "), ("north", "x"), ("nowhere", "x")] {
            assert!(
                matches!(
                    da.transfer(&sam, &id, to, reason).await,
                    Err(DeskError::Invalid(_))
                ),
                "{to}"
            );
        }

        let out = da
            .transfer(&sam, &id, "west", "Happened in the western area")
            .await
            .unwrap();
        assert_eq!(
            (out.to_name.as_str(), out.forwarded, out.pending),
            ("Western Demo Police", 1, 0)
        );
        assert!(
            out.key_check.contains("no key statement"),
            "{}",
            out.key_check
        );
        assert!(matches!(
            da.transfer(&sam, &id, "west", "again").await,
            Err(DeskError::Invalid(_))
        ));
        let view = da.case(&sam, &id).await.unwrap();
        assert_eq!(view.status, Status::Closed);
        let to = view.transfer.to.clone().unwrap();
        assert_eq!(
            (to.to.as_str(), to.reason.as_str()),
            ("west", "Happened in the western area")
        );
        assert_eq!((to.forwarded.len(), to.pending), (1, 0));
        let page = da.queue(&sam, &all()).await.unwrap();
        assert_eq!(
            page.rows[0].transferred_to.as_deref(),
            Some("Western Demo Police")
        );

        // A follow-up that still reaches North is passed on by its next pull.
        let id2 = server
            .submit(seal_north(&r.follow_up("They come on Fridays")))
            .await;
        let run = da.pull_now(&sam).await.unwrap();
        assert_eq!(run.summary.new, 1);
        assert!(run.warning.is_none(), "{:?}", run.warning);
        let view = da.case(&sam, &id2).await.unwrap();
        assert_eq!(view.case_id, id);
        assert_eq!(view.status, Status::Closed, "not re-opened: passed on");
        assert_eq!(view.transfer.to.unwrap().forwarded.len(), 2);
        let log = actions(&da).await;
        assert!(log.iter().any(|(a, d)| {
            a == "transfer"
                && d.as_deref()
                    .is_some_and(|d| d.starts_with("to west (Western Demo Police)"))
        }));
        assert_eq!(log.iter().filter(|(a, _)| a == "forward").count(), 1);
        assert!(
            !log.iter()
                .any(|(_, d)| d.as_deref().is_some_and(|d| d.contains("western area"))),
            "the reason stays sealed"
        );

        // West pulls both, as one case, shown as transferred from North.
        let db = b.desk().await;
        let run = db.pull_now(&sam).await.unwrap();
        assert_eq!((run.summary.new, run.summary.transfers_in.len()), (2, 2));
        let page = db.queue(&sam, &all()).await.unwrap();
        assert_eq!(page.rows.len(), 1);
        assert_eq!(
            page.rows[0].transferred_from.as_deref(),
            Some("North Constabulary")
        );
        assert_eq!(page.rows[0].follow_ups, 1);
        let case_b = page.rows[0].case_id.clone();
        let view = db.case(&ann, &case_b).await.unwrap();
        let note = view.transfer.from.clone().unwrap();
        assert_eq!(
            (
                note.from_force.as_str(),
                note.case.as_str(),
                note.reason.as_str(),
                note.next_slot
            ),
            ("north", id.as_str(), "Happened in the western area", 1)
        );
        assert!(view.fields.iter().any(|f| f.value.contains("Tall Dave")));
        assert!(crate::render::show_case(&view).contains("Transferred from North Constabulary"));
        assert_eq!(
            actions(&db)
                .await
                .iter()
                .filter(|(a, _)| a == "transfer-in")
                .count(),
            2
        );

        // West answers; the reporter reads both forces' replies with one code.
        let sent = db
            .reply(&ann, &case_b, "We are looking into it.", "en", 0)
            .await
            .unwrap();
        assert_eq!(
            (sent.slot, sent.skipped.len()),
            (1, 0),
            "after North's reply"
        );
        let Some(Payload::Reply(first)) = slot(&server, &r, 0).await else {
            panic!()
        };
        let Some(Payload::Reply(second)) = slot(&server, &r, 1).await else {
            panic!()
        };
        assert_eq!(
            (first.from.as_str(), first.force.as_deref()),
            ("North Constabulary", Some("north"))
        );
        assert_eq!(
            (second.from.as_str(), second.force.as_deref()),
            ("Western Demo Police", Some("west"))
        );
        assert_eq!(second.message, "We are looking into it.");
        let _ = server.shutdown().await;
    }

    /// Issues 17 × 19 at the library's level: the passed-on report names a
    /// NEW blob (uploaded to the receiving force) under a NEW key, with the
    /// entry's sizes, hashes, media type and metadata kinds unchanged, and
    /// the receiving desk stores and opens the same file.
    #[tokio::test]
    async fn an_attachment_is_resealed_under_a_fresh_key_for_the_receiving_force() {
        use quietline_testkit::blobs;
        let server = TestServer::start(Backend::Sqlite).await.unwrap();
        let a = home_for(&server, "north", "North Constabulary").await;
        let b = home_for(&server, "west", "Western Demo Police").await;
        let file: Vec<u8> = (0..1_200_000u32).map(|i| (i % 239) as u8).collect();
        let sealed = blobs::seal(&file, "video/mp4");
        let blob_id = blobs::upload(&server.http, &server.base, "north", &sealed.blob).await;
        let original: AttachmentRef =
            serde_json::from_value(sealed.entry(&blob_id, &["location"], &["location"])).unwrap();
        let r = Reporter::new();
        let mut report = r.report("dealing", "Dave", "AB12 CDE");
        if let Payload::Report(p) = &mut report {
            p.attachments = vec![original.clone()];
        }
        let id = server
            .submit(
                quietline_crypto::seal::seal_report(&mut rng(), "north", &a.pk, &report.to_json())
                    .unwrap(),
            )
            .await;
        let sam = supervisor("sam");
        let da = a.desk().await;
        da.pull_now(&sam).await.unwrap();
        let out = da
            .transfer(&sam, &id, "west", "Western area")
            .await
            .unwrap();
        assert_eq!((out.attachments_passed, out.attachments_not_passed), (1, 0));

        let db = b.desk().await;
        let run = db.pull_now(&sam).await.unwrap();
        assert_eq!(run.summary.attachments.stored, 1, "{:?}", run.summary);
        let case_b = db.queue(&sam, &all()).await.unwrap().rows[0]
            .case_id
            .clone();
        let data = db.open_case(&case_b).await.unwrap();
        let Payload::Report(passed) = &data.report.payload else {
            panic!("a report")
        };
        let e = &passed.attachments[0];
        assert_ne!(e.id, original.id, "a new blob, at the receiving force");
        assert_ne!(e.key, original.key, "a fresh key");
        let same = |x: &AttachmentRef| {
            (
                x.size,
                x.padded_size,
                x.media_type.clone(),
                x.sha256_original.clone(),
                x.sha256_sent.clone(),
                x.metadata_found.clone(),
                x.metadata_removed.clone(),
            )
        };
        assert_eq!(same(e), same(&original));
        let got = db.attachment(&sam, &case_b, 1).await.unwrap();
        assert!(*got.bytes == file, "the same file at the receiving force");
        let _ = server.shutdown().await;
    }

    /// Two desks of the sending force on one vault (its SQLite file twice,
    /// or one PostgreSQL database): one transfers, the other, which pulls
    /// the next follow-up, passes it on (the transfer is the vault's), once.
    async fn a_second_desk_passes_on_the_follow_up(backend: Backend) {
        let server = TestServer::start(Backend::Sqlite).await.unwrap();
        let a = home_for(&server, "north", "North Constabulary").await;
        let b = home_for(&server, "west", "Western Demo Police").await;
        let Some((v1, v2, _db)) = shared_vaults(&a, backend).await else {
            return;
        };
        let r = Reporter::new();
        let seal = |p: &Payload| {
            quietline_crypto::seal::seal_report(&mut rng(), "north", &a.pk, &p.to_json()).unwrap()
        };
        let id = server
            .submit(seal(&r.report("dealing", "Dave", "AB12 CDE")))
            .await;
        let (d1, d2) = (a.desk_on(v1).await, a.desk_on(v2).await);
        let sam = supervisor("sam");
        d1.pull_now(&sam).await.unwrap();
        d1.transfer(&sam, &id, "west", "Western area")
            .await
            .unwrap();
        server.submit(seal(&r.follow_up("More"))).await;
        let run = d2.pull_now(&sam).await.unwrap();
        assert_eq!(run.summary.new, 1);
        assert_eq!(d1.pull_now(&sam).await.unwrap().summary.new, 0);
        let view = d1.case(&sam, &id).await.unwrap();
        assert_eq!(
            view.transfer.to.unwrap().forwarded.len(),
            2,
            "passed on once"
        );
        let db = b.desk().await;
        assert_eq!(db.pull_now(&sam).await.unwrap().summary.new, 2);
        let _ = server.shutdown().await;
    }

    quietline_testkit::on_both_backends!(a_second_desk_passes_on_the_follow_up);

    #[test]
    fn a_key_with_a_bad_or_foreign_statement_is_refused() {
        use quietline_crypto::statement::{KeyStatement, NO_PREVIOUS, SigningSecret};
        let (_, pk) = quietline_crypto::keys::generate_keypair(&mut rng());
        let (_, other) = quietline_crypto::keys::generate_keypair(&mut rng());
        let ours = SigningSecret::generate(&mut rng());
        let theirs = SigningSecret::generate(&mut rng());
        let st = |key: &PublicKey, force: &str, by: &SigningSecret| {
            SignedStatement::sign(
                KeyStatement {
                    force_id: force.into(),
                    public_key: key.clone(),
                    valid_from: 20000,
                    valid_until: 30000,
                    sequence: 0,
                    prev_hash: NO_PREVIOUS,
                },
                &[by],
            )
            .unwrap()
            .to_base64url()
        };
        let mut e = DirectoryEntry {
            id: "west".into(),
            name: "West".into(),
            key_id: pk.key_id().to_hex(),
            public_key: pk.to_base64url(),
            statement: None,
            log_index: None,
        };
        let set = SignerSet::single(ours.public_key());
        let today = "2026-12-07";
        let ok = |e: &DirectoryEntry, pins: Option<&SignerSet>| {
            check_receiving_key("http://x", e, pins, today).map(|(_, w)| w)
        };
        assert!(ok(&e, None).unwrap().contains("no key statement"));
        assert!(ok(&e, Some(&set)).is_err(), "pinned, but no statement");
        e.statement = Some(st(&pk, "west", &ours));
        assert!(ok(&e, Some(&set)).unwrap().contains("verified"));
        assert!(ok(&e, None).unwrap().contains("not pinned"));
        e.statement = Some(st(&pk, "west", &theirs));
        assert!(ok(&e, Some(&set)).is_err(), "another signer");
        e.statement = Some(st(&other, "west", &ours));
        assert!(ok(&e, None).is_err(), "a statement for another key");
        e.statement = Some(st(&pk, "north", &ours));
        assert!(ok(&e, None).is_err(), "another force's statement");
        e.statement = Some(st(&pk, "west", &ours));
        e.key_id = other.key_id().to_hex();
        assert!(ok(&e, None).is_err(), "a key id that is not the key's");
    }

    #[test]
    fn pins_are_read_in_the_pages_format() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_pins(dir.path()).unwrap().is_empty());
        let s = quietline_crypto::statement::SigningSecret::generate(&mut rng());
        std::fs::write(
            dir.path().join(PINS_FILE),
            format!(
                r#"{{"version":1,"forces":{{"west":{{"threshold":1,"signers":["{}"]}}}}}}"#,
                s.public_key().to_base64url()
            ),
        )
        .unwrap();
        let pins = load_pins(dir.path()).unwrap();
        assert_eq!(pins[0].0, "west");
        std::fs::write(dir.path().join(PINS_FILE), r#"{"version":2,"forces":{}}"#).unwrap();
        assert!(load_pins(dir.path()).is_err());
    }
}

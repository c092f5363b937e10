//! A case's attachments (issue 19): [`Desk::attachments`] lists them (what
//! each is, whether its blob is stored whole or why not, which hidden
//! metadata the reporter's page found and removed, and which is still in
//! the file, read again here), [`Desk::attachment`] gives one file in
//! memory (images for the desk's page) and [`Desk::save_attachment`]
//! streams one to a writer (the CLI's `attachment save`, downloads).
//!
//! It owns numbering a case's attachments (the report's first, then each
//! follow-up's, in the order the desk learned of them, from 1) and the
//! rule that each read is audited before any decrypted octet leaves the
//! library. Fetching and the checks are `crate::blobs` and
//! `crate::attachments`; the metadata kinds `crate::metadata`.

use quietline_crypto::payload::Attachment;
use zeroize::Zeroizing;

use super::index::{CaseData, Event};
use super::{Desk, DeskError, Handler};
use crate::attachments;
use crate::blobs::{self, ReadError};
use crate::labels::Lang;
use crate::metadata;
use crate::vault::{ATTACHMENT_PENDING, ATTACHMENT_STORED};

/// Images up to this size are read again for metadata when a case is shown.
pub const METADATA_READ_LIMIT: u64 = 32 * 1024 * 1024;

/// How the desk offers an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    /// JPEG, PNG, WebP or GIF: shown inline.
    Image,
    /// `video/*`: offered for download.
    Video,
    /// Anything else: offered for download.
    Document,
}

impl AttachmentKind {
    /// From a media type.
    pub fn of(media_type: &str) -> AttachmentKind {
        match media_type {
            "image/jpeg" | "image/png" | "image/webp" | "image/gif" => AttachmentKind::Image,
            m if m.starts_with("video/") => AttachmentKind::Video,
            _ => AttachmentKind::Document,
        }
    }
}

/// Where an attachment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentState {
    /// Stored whole and checked: it can be shown and saved.
    Stored,
    /// Not fetched yet (or a fetch was cut short): the next pull fetches it.
    Waiting(Option<String>),
    /// Flagged: a code and what was wrong.
    Flagged {
        /// `attachment_missing`, `attachment_altered`, …
        code: String,
        /// In words.
        why: String,
    },
}

/// One attachment of a case, as listed (no file content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Its number in the case, from 1.
    pub number: u32,
    /// The message (report or follow-up) that lists it.
    pub message_id: String,
    /// Its place in that message's list, from 0.
    pub index: u32,
    /// The media type the page gave (checked for shape; not trusted for content).
    pub media_type: String,
    /// How the desk offers it.
    pub kind: AttachmentKind,
    /// The file's size in octets.
    pub size: u64,
    /// Stored, waiting or flagged.
    pub state: AttachmentState,
    /// Kinds of metadata the reporter's page found.
    pub metadata_found: Vec<String>,
    /// Kinds the page removed.
    pub metadata_removed: Vec<String>,
    /// Kinds still in the file as read here (`None`: not read — not an
    /// image this console reads, not stored, or larger than
    /// [`METADATA_READ_LIMIT`]).
    pub metadata_remaining: Option<Vec<String>>,
    /// SHA-256 of the file as sent and stored (its entry's `sha256_sent`),
    /// lowercase hex; `None` when the entry is malformed (then flagged).
    pub sha256: Option<String>,
}

impl AttachmentInfo {
    /// Whether the file can be shown or saved.
    pub fn is_stored(&self) -> bool {
        self.state == AttachmentState::Stored
    }

    /// Whether the file may still carry metadata that identifies the source:
    /// true unless the desk read it and found none (a video, HEIC or PDF the
    /// reporter's page could not clean is never read here, so it may).
    pub fn may_identify(&self) -> bool {
        !matches!(&self.metadata_remaining, Some(k) if k.is_empty())
    }

    /// The state in a few words.
    pub fn state_words(&self) -> String {
        match &self.state {
            AttachmentState::Stored => "stored".into(),
            AttachmentState::Waiting(None) => "not fetched yet".into(),
            AttachmentState::Waiting(Some(why)) => format!("not fetched yet: {why}"),
            AttachmentState::Flagged { why, .. } => format!("flagged: {why}"),
        }
    }

    /// Metadata kinds in plain words, joined (empty list: "none").
    pub fn words(kinds: &[String], lang: Lang) -> String {
        if kinds.is_empty() {
            return match lang {
                Lang::En => "none".into(),
                Lang::Cy => "dim".into(),
            };
        }
        kinds
            .iter()
            .map(|k| metadata::words(k, lang))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A file decrypted in memory, erased when dropped.
pub struct AttachmentFile {
    /// What it is.
    pub info: AttachmentInfo,
    /// Its octets.
    pub bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for AttachmentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentFile")
            .field("info", &self.info)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// One attachment of an opened case: what it is, and its entry's decoded
/// key (or why the entry is malformed).
struct Listed {
    info: AttachmentInfo,
    decoded: Result<Attachment, attachments::AttachmentFlag>,
}

/// Every attachment of an opened case, numbered (no I/O; the state is
/// filled in by the caller).
fn listed(data: &CaseData) -> Vec<Listed> {
    let mut out = Vec::new();
    let mut messages = vec![&data.report];
    for e in &data.events {
        if let Event::Message { msg, .. } = e {
            messages.push(msg);
        }
    }
    for msg in messages {
        for (i, entry) in blobs::entries(&msg.payload).iter().enumerate() {
            let decoded = attachments::decode(entry);
            let number = out.len() as u32 + 1;
            let state = match &decoded {
                Err(flag) => AttachmentState::Flagged {
                    code: flag.code().into(),
                    why: flag.to_string(),
                },
                Ok(_) => AttachmentState::Waiting(None),
            };
            out.push(Listed {
                info: AttachmentInfo {
                    number,
                    message_id: msg.id.clone(),
                    index: i as u32,
                    media_type: crate::text::clean_line(&entry.media_type, 100),
                    kind: AttachmentKind::of(&entry.media_type),
                    size: entry.size,
                    state,
                    metadata_found: entry
                        .metadata_found
                        .iter()
                        .map(|k| crate::text::clean_line(k, 40))
                        .collect(),
                    metadata_removed: entry
                        .metadata_removed
                        .iter()
                        .map(|k| crate::text::clean_line(k, 40))
                        .collect(),
                    metadata_remaining: None,
                    sha256: decoded.as_ref().ok().map(|a| hex::encode(a.sha256_sent)),
                },
                decoded,
            });
        }
    }
    out
}

impl Desk {
    /// The attachments of an opened case with their states from the vault,
    /// and the metadata still in each stored image (read again here).
    /// Crate-private: the caller has written the audit entry.
    pub(crate) async fn attachments_of(
        &self,
        data: &CaseData,
    ) -> Result<Vec<AttachmentInfo>, DeskError> {
        let mut list = listed(data);
        let mut out = Vec::with_capacity(list.len());
        for l in &mut list {
            self.fill_state(l).await?;
            if l.info.is_stored()
                && metadata::readable(&l.info.media_type)
                && l.info.size <= METADATA_READ_LIMIT
                && let Ok(a) = &l.decoded
            {
                // Read errors leave the line unread (`None`), never fail the case.
                if let Ok(file) =
                    blobs::read_stored_whole(self.vault(), &l.info.message_id, l.info.index, a)
                        .await
                {
                    l.info.metadata_remaining = Some(
                        metadata::kinds_in(&l.info.media_type, &file)
                            .into_iter()
                            .map(str::to_owned)
                            .collect(),
                    );
                }
            }
            out.push(l.info.clone());
        }
        Ok(out)
    }

    async fn fill_state(&self, l: &mut Listed) -> Result<(), DeskError> {
        if l.decoded.is_err() {
            return Ok(());
        }
        let rows = self.vault().attachments_of(&l.info.message_id).await?;
        let row = rows.iter().find(|r| r.index == l.info.index);
        l.info.state = match row {
            None => AttachmentState::Waiting(None),
            Some(r) if r.state == ATTACHMENT_STORED => AttachmentState::Stored,
            Some(r) if r.state == ATTACHMENT_PENDING => AttachmentState::Waiting(r.detail.clone()),
            Some(r) => AttachmentState::Flagged {
                code: r.state.clone(),
                why: r.detail.clone().unwrap_or_default(),
            },
        };
        Ok(())
    }

    /// The attachments of case `id` for `who`. Audited (`attachments`)
    /// before the case is opened: the list holds what the reporter sent
    /// (media types, sizes, metadata kinds).
    pub async fn attachments(
        &self,
        who: &Handler,
        id: &str,
    ) -> Result<Vec<AttachmentInfo>, DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.record_audit(who, "attachments", Some(&case_id), None)
            .await?;
        let data = self.open_case(&case_id).await?;
        self.attachments_of(&data).await
    }

    /// The attachment numbered `number` of case `id`, checked and stored
    /// whole, with its entry's key. Not audited: the callers are.
    pub(super) async fn stored_attachment(
        &self,
        case_id: &str,
        number: u32,
    ) -> Result<(AttachmentInfo, Attachment), DeskError> {
        let data = self.open_case(case_id).await?;
        let mut list = listed(&data);
        let count = list.len();
        let l = list
            .iter_mut()
            .find(|l| l.info.number == number)
            .ok_or_else(|| {
                DeskError::Invalid(format!(
                    "case {} has {count} attachment(s); there is no attachment {number}",
                    crate::render::short(case_id)
                ))
            })?;
        self.fill_state(l).await?;
        if !l.info.is_stored() {
            return Err(DeskError::Invalid(format!(
                "attachment {number} cannot be opened: it is {}",
                l.info.state_words()
            )));
        }
        let a = l
            .decoded
            .as_ref()
            .map_err(|e| DeskError::Invalid(e.to_string()))?;
        Ok((l.info.clone(), a.clone()))
    }

    /// Attachment `number` (from 1) of case `id`, decrypted in memory for
    /// `who`. Audited (`attachment`, `n=NUMBER`) before it is decrypted.
    pub async fn attachment(
        &self,
        who: &Handler,
        id: &str,
        number: u32,
    ) -> Result<AttachmentFile, DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.record_audit(
            who,
            "attachment",
            Some(&case_id),
            Some(format!("n={number}")),
        )
        .await?;
        let (info, a) = self.stored_attachment(&case_id, number).await?;
        let bytes = blobs::read_stored_whole(self.vault(), &info.message_id, info.index, &a)
            .await
            .map_err(read_error)?;
        Ok(AttachmentFile { info, bytes })
    }

    /// Attachment `number` of case `id` for `who`, to be read part by part
    /// (a download of a large file: about 1 MiB in memory at a time).
    /// Audited (`attachment`, `n=NUMBER download`) before anything is
    /// decrypted. A front end that gets an error from
    /// [`crate::blobs::StoredReader::next`] must break off the download.
    pub async fn attachment_reader(
        &self,
        who: &Handler,
        id: &str,
        number: u32,
    ) -> Result<(AttachmentInfo, blobs::StoredReader), DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.record_audit(
            who,
            "attachment",
            Some(&case_id),
            Some(format!("n={number} download")),
        )
        .await?;
        let (info, a) = self.stored_attachment(&case_id, number).await?;
        let reader = blobs::StoredReader::new(self.vault(), &info.message_id, info.index, &a)
            .map_err(read_error)?;
        Ok((info, reader))
    }

    /// Attachment `number` of case `id` for `who`, streamed to `out` chunk by
    /// chunk (about 64 KiB at a time). Audited (`attachment`,
    /// `n=NUMBER save`) before anything is decrypted. On an error, what
    /// `out` got is not the whole file: the caller discards it.
    pub async fn save_attachment(
        &self,
        who: &Handler,
        id: &str,
        number: u32,
        out: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
    ) -> Result<AttachmentInfo, DeskError> {
        self.save_attachment_for(who, id, number, None, out).await
    }

    /// [`Desk::save_attachment`], or for sanitised report `report` when
    /// given (audited as `n=NUMBER save, report REPORT`, then refused
    /// unless that report chose the attachment: `Desk::save_intel_attachment`).
    pub(super) async fn save_attachment_for(
        &self,
        who: &Handler,
        id: &str,
        number: u32,
        report: Option<u32>,
        out: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
    ) -> Result<AttachmentInfo, DeskError> {
        let case_id = self.resolve(who, id).await?;
        let detail = match report {
            Some(r) => format!("n={number} save, report {r}"),
            None => format!("n={number} save"),
        };
        self.record_audit(who, "attachment", Some(&case_id), Some(detail))
            .await?;
        if let Some(r) = report {
            self.check_report_chose(&case_id, r, number).await?;
        }
        let (info, a) = self.stored_attachment(&case_id, number).await?;
        blobs::read_stored(self.vault(), &info.message_id, info.index, &a, out)
            .await
            .map_err(read_error)?;
        Ok(info)
    }
}

pub(super) fn read_error(e: ReadError) -> DeskError {
    match e {
        ReadError::Vault(v) => DeskError::Vault(v),
        other => DeskError::Invalid(other.to_string()),
    }
}

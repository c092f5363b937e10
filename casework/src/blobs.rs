//! Attachment blobs in the vault (issue 19): a pull fetches the blob of
//! every attachment its reports list, checks it chunk by chunk as it
//! arrives, and stores it in the vault as the server sent it; a reader
//! streams a stored blob back through the same checks.
//!
//! It owns the attachment step of a pull (which attachments to fetch, again
//! or for the first time; what a missing, cut or altered blob is stored as)
//! and reading a stored blob part by part. It does not decide who may read
//! an attachment or write the audit entry (the `Desk` does, before anything
//! decrypted leaves the library), and it holds no key: each key comes from
//! the sealed envelope that lists the attachment, opened with the key ring
//! for the moment it is needed.
//!
//! **Why blobs are stored sealed, as fetched.** The vault could instead
//! decrypt and re-seal each file under an at-rest key. Keeping the blob as
//! the reporter's page sealed it means the vault needs no new key and no new
//! sealing: the blob's key is already kept sealed, inside the report's
//! envelope, under the force's key ring, exactly like the report's text;
//! a reader needs the key ring for the attachment as for the report, and
//! the checks of crypto/FORMAT.md#opening-an-attachment are made again on
//! every read (a vault edited at rest cannot slip a file past them). The
//! cost is the 16 octets of tag per 64 KiB chunk, and the padding.
//!
//! **Memory.** A blob is read from the network and from the vault in parts
//! of [`BLOB_PART_LEN`] (16 sealed chunks, about 1 MiB); the checker holds
//! one sealed chunk. A 250 MB attachment never sits in memory whole.

use std::collections::BTreeMap;

use quietline_crypto::payload::{Attachment, AttachmentRef, Payload};
use zeroize::Zeroizing;

use crate::attachments::{self, AttachmentFlag, BlobOpener};
use crate::client::{Client, ClientError};
use crate::keyring::KeyRing;
use crate::vault::{ATTACHMENT_PENDING, ATTACHMENT_STORED, BLOB_PART_LEN, Vault, VaultError};

/// A missing blob is asked for again by this many pulls (the page uploads
/// before it sends, so it is usually purged or never came; a later pull
/// may still find one whose upload finished late).
pub const MISSING_TRIES: u32 = 20;
/// An incomplete blob is fetched this many times in all (FORMAT.md#attachment-errors:
/// fetch it again, then keep it flagged).
pub const INCOMPLETE_TRIES: u32 = 2;
/// A fetch the connection cut short (left pending) is tried this often.
pub const PENDING_TRIES: u32 = 20;
/// Attachments one pull looks at, at most (the rest wait for the next).
pub const PER_PULL: u32 = 10_000;
/// How many examples of flagged attachments a summary keeps.
const EXAMPLES: usize = 20;

/// What the attachment step of a pull did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AttachmentSummary {
    /// Blobs fetched, checked and stored whole.
    pub stored: u64,
    /// Blobs stored flagged, by flag code.
    pub flagged: BTreeMap<String, u64>,
    /// A few flagged ones: (report id, attachment number from 1, why).
    pub examples: Vec<(String, u32, String)>,
    /// Fetches the connection cut short: tried again by the next pull.
    pub waiting: u64,
}

impl AttachmentSummary {
    /// Flagged in all.
    pub fn flagged_total(&self) -> u64 {
        self.flagged.values().sum()
    }

    fn flag(&mut self, report_id: &str, index: u32, flag: &AttachmentFlag) {
        *self.flagged.entry(flag.code().to_owned()).or_default() += 1;
        if self.examples.len() < EXAMPLES {
            self.examples
                .push((report_id.to_owned(), index + 1, flag.to_string()));
        }
    }
}

/// Why the attachment step stopped (anything about one blob does not stop it).
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The server could not be asked at all (refused the token, unreachable).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// The attachment entries of an opened message.
pub fn entries(payload: &Payload) -> &[AttachmentRef] {
    match payload {
        Payload::Report(r) => &r.attachments,
        Payload::FollowUp(f) => &f.attachments,
        Payload::Reply(_) => &[],
    }
}

/// Whether a client error is about the server as a whole (stop the step)
/// rather than this one blob (leave it for the next pull).
fn stops_the_pull(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Unauthorized
            | ClientError::Unreachable { .. }
            | ClientError::GaveUp { .. }
            | ClientError::BadUrl(_)
            | ClientError::BadToken
    )
}

/// The attachment step of a pull: fetch every attachment not yet stored
/// (new ones, and missing or incomplete ones again, a bounded number of
/// times), one at a time, streaming.
pub async fn fetch_due(
    client: &Client,
    vault: &Vault,
    ring: &KeyRing,
) -> Result<AttachmentSummary, BlobError> {
    let mut due = vault
        .attachments_in(&[ATTACHMENT_PENDING], PENDING_TRIES, PER_PULL)
        .await?;
    due.extend(
        vault
            .attachments_in(&[AttachmentFlag::Missing.code()], MISSING_TRIES, PER_PULL)
            .await?,
    );
    due.extend(
        vault
            .attachments_in(&["attachment_incomplete"], INCOMPLETE_TRIES, PER_PULL)
            .await?,
    );
    due.sort_by(|a, b| (&a.report_id, a.index).cmp(&(&b.report_id, b.index)));
    let mut summary = AttachmentSummary::default();
    let mut i = 0;
    while i < due.len() {
        let report_id = due[i].report_id.clone();
        let mut indexes = Vec::new();
        while i < due.len() && due[i].report_id == report_id {
            indexes.push(due[i].index);
            i += 1;
        }
        // The envelope may not be stored yet (a pull stopped between adding
        // the rows and storing it): its rows wait.
        let Some(stored) = vault.envelope(&report_id).await? else {
            continue;
        };
        let Ok(opened) = ring.open_message(&stored.envelope) else {
            continue;
        };
        let list = entries(&opened.payload);
        for index in indexes {
            let Some(entry) = list.get(index as usize) else {
                continue;
            };
            let a = match attachments::decode(entry) {
                Ok(a) => a,
                Err(flag) => {
                    vault
                        .set_attachment_state(
                            &report_id,
                            index,
                            flag.code(),
                            Some(&flag.to_string()),
                            0,
                        )
                        .await?;
                    summary.flag(&report_id, index, &flag);
                    continue;
                }
            };
            match fetch_one(client, vault, &report_id, index, &a).await? {
                Fetch::Stored => summary.stored += 1,
                Fetch::Flagged(flag) => summary.flag(&report_id, index, &flag),
                Fetch::Waiting => summary.waiting += 1,
            }
        }
    }
    Ok(summary)
}

/// What one fetch came to.
enum Fetch {
    Stored,
    Flagged(AttachmentFlag),
    Waiting,
}

/// Fetch one blob, check it as it arrives, store it part by part, and
/// record its state.
async fn fetch_one(
    client: &Client,
    vault: &Vault,
    report_id: &str,
    index: u32,
    a: &Attachment,
) -> Result<Fetch, BlobError> {
    vault.clear_blob(report_id, index).await?;
    let mut opener = match BlobOpener::new(a) {
        Ok(o) => o,
        Err(flag) => return flagged(vault, report_id, index, flag, 0).await,
    };
    let expected = opener.expected_len();
    let mut body = match client.blob_stream(&a.blob_id_hex, expected).await {
        Ok(Some(body)) => body,
        Ok(None) => return flagged(vault, report_id, index, AttachmentFlag::Missing, 0).await,
        Err(e) if stops_the_pull(&e) => return Err(e.into()),
        Err(e) => return waiting(vault, report_id, index, &e).await,
    };
    // Step 2 before step 3 (FORMAT.md#opening-an-attachment): a length the
    // server announces that is not the blob's is the blob cut or padded out,
    // whatever its chunks would say.
    if let Some(n) = body.content_length()
        && n != expected
    {
        let flag = AttachmentFlag::Incomplete(format!("{n} bytes, {expected} expected"));
        return flagged(vault, report_id, index, flag, 0).await;
    }
    let mut part = Vec::with_capacity(BLOB_PART_LEN);
    let mut parts = 0u32;
    let mut stored = 0u64;
    let mut flag = None;
    loop {
        let piece = match body.next().await {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(e) if stops_the_pull(&e) => return Err(e.into()),
            Err(e) => {
                vault.clear_blob(report_id, index).await?;
                return waiting(vault, report_id, index, &e).await;
            }
        };
        let piece = piece.as_ref();
        // Keep at most the expected length: what comes after is counted, not kept.
        let keep = piece
            .len()
            .min((expected - opener.received().min(expected)) as usize);
        if let Err(f) = opener.update(piece, &mut |_| {}) {
            part.extend_from_slice(&piece[..keep]);
            flag = Some(f);
            break;
        }
        part.extend_from_slice(piece);
        while part.len() >= BLOB_PART_LEN {
            vault
                .put_blob_part(report_id, index, parts, &part[..BLOB_PART_LEN])
                .await?;
            part.drain(..BLOB_PART_LEN);
            parts += 1;
            stored += BLOB_PART_LEN as u64;
        }
    }
    drop(body);
    // What arrived is kept even when it fails (like a damaged envelope):
    // it shows what the server sent.
    let mut rest = part.as_slice();
    while !rest.is_empty() {
        let n = rest.len().min(BLOB_PART_LEN);
        vault
            .put_blob_part(report_id, index, parts, &rest[..n])
            .await?;
        rest = &rest[n..];
        parts += 1;
        stored += n as u64;
    }
    let flag = match flag {
        Some(f) => Some(f),
        None => opener.finish().err(),
    };
    match flag {
        Some(f) => flagged(vault, report_id, index, f, stored).await,
        None => {
            vault
                .set_attachment_state(report_id, index, ATTACHMENT_STORED, None, stored)
                .await?;
            Ok(Fetch::Stored)
        }
    }
}

async fn flagged(
    vault: &Vault,
    report_id: &str,
    index: u32,
    flag: AttachmentFlag,
    stored: u64,
) -> Result<Fetch, BlobError> {
    vault
        .set_attachment_state(
            report_id,
            index,
            flag.code(),
            Some(&flag.to_string()),
            stored,
        )
        .await?;
    Ok(Fetch::Flagged(flag))
}

async fn waiting(
    vault: &Vault,
    report_id: &str,
    index: u32,
    e: &ClientError,
) -> Result<Fetch, BlobError> {
    let why = crate::text::clean_line(
        &format!("the fetch did not finish ({e}); the next pull tries again"),
        300,
    );
    vault
        .set_attachment_state(report_id, index, ATTACHMENT_PENDING, Some(&why), 0)
        .await?;
    Ok(Fetch::Waiting)
}

/// Why a stored attachment cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// It is not stored whole (flagged, or not fetched yet).
    #[error("attachment {number} is not stored whole: {why}")]
    NotStored {
        /// The attachment's number, from 1.
        number: u32,
        /// Its state in words.
        why: String,
    },
    /// The stored blob fails the checks now (the vault was changed at rest).
    #[error(
        "attachment {number} no longer passes its checks in the vault ({flag}); it was changed after it was stored"
    )]
    Damaged {
        /// The attachment's number, from 1.
        number: u32,
        /// What failed.
        #[source]
        flag: AttachmentFlag,
    },
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The sink refused the octets (e.g. a full disk).
    #[error("writing attachment {number} failed: {error}")]
    Write {
        /// The attachment's number, from 1.
        number: u32,
        /// The error.
        error: std::io::Error,
    },
}

/// Read a stored blob part by part through the checks (all but the
/// SHA-256, which the pull made: [`BlobOpener::for_stored`]), handing each
/// chunk's file octets to `out`; `number` (from 1) names it in errors. The
/// file is whole only when this returns `Ok`: a caller that writes it
/// somewhere MUST drop what it wrote on an error.
pub async fn read_stored(
    vault: &Vault,
    report_id: &str,
    index: u32,
    a: &Attachment,
    out: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
) -> Result<(), ReadError> {
    let number = index + 1;
    let damaged = |flag| ReadError::Damaged { number, flag };
    // The SHA-256 was checked when the pull stored it (see BlobOpener::for_stored).
    let mut opener = BlobOpener::for_stored(a).map_err(damaged)?;
    let mut part = 0u32;
    let mut failed = None;
    while opener.received() < opener.expected_len() {
        let Some(bytes) = vault.blob_part(report_id, index, part).await? else {
            break;
        };
        // Opened in place in the part as read (no copy), then erased.
        let mut bytes = Zeroizing::new(bytes);
        opener
            .update_in_place(&mut bytes, &mut |real| {
                if failed.is_none()
                    && let Err(e) = out(real)
                {
                    failed = Some(e);
                }
            })
            .map_err(damaged)?;
        if let Some(error) = failed.take() {
            return Err(ReadError::Write { number, error });
        }
        part += 1;
    }
    opener.finish().map_err(damaged)
}

/// A stored blob being read part by part ([`StoredReader::next`]), for a
/// front end that streams a large file (the desk's downloads): at most one
/// part (about 1 MiB) of it is in memory at a time.
pub struct StoredReader {
    vault: Vault,
    report_id: String,
    index: u32,
    opener: Option<BlobOpener>,
    part: u32,
}

impl std::fmt::Debug for StoredReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredReader")
            .field("report_id", &self.report_id)
            .field("index", &self.index)
            .field("part", &self.part)
            .finish_non_exhaustive()
    }
}

impl StoredReader {
    /// Start reading attachment `index` of `report_id` (checked as
    /// [`read_stored`] does).
    pub fn new(
        vault: &Vault,
        report_id: &str,
        index: u32,
        a: &Attachment,
    ) -> Result<Self, ReadError> {
        let opener = BlobOpener::for_stored(a).map_err(|flag| ReadError::Damaged {
            number: index + 1,
            flag,
        })?;
        Ok(Self {
            vault: vault.clone(),
            report_id: report_id.to_owned(),
            index,
            opener: Some(opener),
            part: 0,
        })
    }

    /// The file's octets of the next part, or `None` once the whole file
    /// was given and passed its checks. After an error the octets given
    /// before are not the reporter's file.
    pub async fn next(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, ReadError> {
        let number = self.index + 1;
        let Some(opener) = &mut self.opener else {
            return Ok(None);
        };
        if opener.received() >= opener.expected_len() {
            let done = self.opener.take().expect("present");
            done.finish()
                .map_err(|flag| ReadError::Damaged { number, flag })?;
            return Ok(None);
        }
        let Some(bytes) = self
            .vault
            .blob_part(&self.report_id, self.index, self.part)
            .await?
        else {
            let done = self.opener.take().expect("present");
            done.finish()
                .map_err(|flag| ReadError::Damaged { number, flag })?;
            return Ok(None);
        };
        self.part += 1;
        let mut bytes = Zeroizing::new(bytes);
        let mut file = Zeroizing::new(Vec::with_capacity(bytes.len()));
        opener
            .update_in_place(&mut bytes, &mut |real| file.extend_from_slice(real))
            .map_err(|flag| ReadError::Damaged { number, flag })?;
        Ok(Some(file))
    }
}

/// Read a stored blob whole into memory (erased when dropped): for images
/// shown in the desk, which are small; large files are streamed with
/// [`read_stored`].
pub async fn read_stored_whole(
    vault: &Vault,
    report_id: &str,
    index: u32,
    a: &Attachment,
) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let mut file = Zeroizing::new(Vec::with_capacity(a.size.min(64 << 20) as usize));
    read_stored(vault, report_id, index, a, &mut |real| {
        file.extend_from_slice(real);
        Ok(())
    })
    .await?;
    Ok(file)
}

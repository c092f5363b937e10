//! `pull`: fetch every envelope the server lists for this force that the vault
//! lacks, classify it by trying to open it, and store it still sealed.
//!
//! It owns walking the inbox page by page, fetching what the vault lacks in
//! batches (`POST /api/v1/inbox/fetch`, several batches in flight; one
//! request per envelope from an older server without it), opening them on
//! worker threads (every core), storing them in large transactions (memory
//! stays flat: at most [`COMMIT_BYTES`] of envelopes plus the batches in
//! flight are held), resuming an interrupted pull, and the summary. Where a
//! pull's time went and why these sizes: BENCHMARKS.md#pull. An envelope that does not open is stored with its [`Flag`]
//! and counted — it never stops the pull. An envelope the console refuses to
//! read (over the size limit) or an id of the wrong shape is skipped and
//! counted. A listing that does not move forward stops the pull with an error.
//!
//! Report ids are random, so a new report can sort BEFORE ids already pulled:
//! every pull walks the whole listing (cheap; envelopes already in the vault
//! are not downloaded again). An interrupted pull leaves a resume cursor; the
//! next pull continues from it to the end, then walks the start of the
//! listing up to that cursor, so nothing is missed either way.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;

use indicatif::ProgressBar;
use quietline_crypto::envelope;
use sha2::{Digest, Sha256};

use crate::client::{Client, ClientError, Fetched, InboxEntry, MAX_FETCH_IDS, is_day, is_hex};
use crate::keyring::{Flag, KeyRing};
use crate::vault::{NewEnvelope, Vault, VaultError};

/// Page size of the inbox listing asked of the server (its largest): ids,
/// key ids and days only, ~90 KiB of JSON.
pub const PAGE_SIZE: u32 = 1000;
/// Ids per batched envelope fetch (`POST /api/v1/inbox/fetch`; the server
/// takes up to [`MAX_FETCH_IDS`]).
pub const FETCH_BATCH: usize = 32;
/// Batches fetched and opened at once (and, from a server without the batched
/// fetch, envelope requests in flight at once).
pub const IN_FLIGHT: usize = 4;
/// Envelopes per vault transaction: one durable commit (an fsync) per this
/// many, not per page of the listing.
pub const COMMIT_ENVELOPES: usize = 1000;
/// Or per this many bytes of envelopes, whichever comes first: what a pull
/// holds in memory is bounded by this plus the batches in flight.
pub const COMMIT_BYTES: usize = 16 * 1024 * 1024;
const _: () = assert!(FETCH_BATCH <= MAX_FETCH_IDS);
/// Meta key of the resume cursor.
const RESUME: &str = "pull_resume_after";
/// How many flagged or refused ids the summary keeps as examples.
const EXAMPLES: usize = 20;
/// Empty pages in a row (each with a cursor to go on) after which the listing
/// is taken to be creeping: a real server ends its listing with a short page,
/// so it never sends one, and a hostile one could keep a pull here forever.
pub const MAX_EMPTY_PAGES: u32 = 3;

/// Why a pull stopped.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The server could not be asked.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The listing's cursor did not move forward (a broken or hostile server).
    #[error(
        "the server's inbox listing does not move forward (cursor {0}); stopped. Everything pulled so far is kept"
    )]
    Stuck(String),
    /// Several empty pages in a row, each with a cursor to go on.
    #[error(
        "the server's inbox listing sent {MAX_EMPTY_PAGES} empty pages in a row, each with a cursor to go on (a real listing ends with a short page: a broken or hostile server); stopped. Everything pulled so far is kept"
    )]
    Creeping,
    /// A page's cursor is not the last id it listed (it would skip ids).
    #[error(
        "the server's inbox listing goes on after {next}, which is not the last id of its page ({last}): ids in between would be skipped (a broken or hostile server); stopped. Everything pulled so far is kept"
    )]
    CursorSkips {
        /// The cursor given.
        next: String,
        /// The page's last id (cleaned).
        last: String,
    },
}

/// What a pull did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PullSummary {
    /// Entries listed by the server.
    pub listed: u64,
    /// New envelopes stored.
    pub new: u64,
    /// New envelopes that opened.
    pub opened: u64,
    /// New envelopes stored flagged, by flag code.
    pub flagged: BTreeMap<String, u64>,
    /// A few flagged ids with the reason.
    pub flagged_examples: Vec<(String, String)>,
    /// Listed ids already in the vault (or listed twice).
    pub already: u64,
    /// Listed entries skipped (bad id, too large, gone): count and a few examples.
    pub refused: u64,
    /// Examples of refused entries with the reason.
    pub refused_examples: Vec<(String, String)>,
    /// New messages another force passed on to this one (issue 17): the id
    /// and the sending force's id and name from the transfer note
    /// (crypto/FORMAT.md#transfer-note), each audited `transfer-in`.
    pub transfers_in: Vec<(String, String)>,
    /// The attachment step: blobs stored, flagged, left for the next pull.
    pub attachments: crate::blobs::AttachmentSummary,
}

impl PullSummary {
    /// Total flagged.
    pub fn flagged_total(&self) -> u64 {
        self.flagged.values().sum()
    }

    fn refuse(&mut self, id: &str, why: String) {
        self.refused += 1;
        if self.refused_examples.len() < EXAMPLES {
            self.refused_examples
                .push((crate::text::clean_line(id, 40), why));
        }
    }

    fn flag(&mut self, id: &str, flag: &Flag) {
        *self.flagged.entry(flag.code().to_owned()).or_default() += 1;
        if self.flagged_examples.len() < EXAMPLES {
            self.flagged_examples
                .push((id.to_owned(), flag.to_string()));
        }
    }
}

/// Classify envelope bytes: the key id to store, the flag, if any, who
/// passed it on, if another force did ("NAME (force id)"), and how many
/// attachments the payload lists.
fn classify(
    ring: &KeyRing,
    bytes: &[u8],
    listed_key: &str,
) -> (String, Option<Flag>, Option<String>, u32) {
    let key_id = envelope::parse(bytes)
        .map(|e| e.key_id().to_hex())
        .unwrap_or_else(|_| listed_key.to_owned());
    // Opening authenticates; the payload is dropped (zeroized) at once.
    match ring.open_message(bytes) {
        Ok(o) => {
            let from = o.payload.transfer().map(|t| {
                format!(
                    "{} ({})",
                    crate::text::clean_line(&t.from_name, 100),
                    crate::text::clean_line(&t.from_force, 64)
                )
            });
            let n = crate::blobs::entries(&o.payload).len() as u32;
            (key_id, None, from, n)
        }
        Err(flag) => (key_id, Some(flag), None, 0),
    }
}

/// One listed entry on its way through the pipeline.
enum Item {
    /// Fetched and opened (or not) on a worker thread.
    Got {
        entry: InboxEntry,
        bytes: Vec<u8>,
        key_id: String,
        flag: Option<Flag>,
        sha256: [u8; 32],
        /// Attachments its payload lists.
        attachments: u32,
        /// The id of an envelope with the same bytes already in the vault
        /// before this page (looked up only for one that opened).
        stored_twin: Option<String>,
        /// Passed on by another force (its name and id).
        transfer_from: Option<String>,
    },
    /// Not stored: gone since it was listed, too large, not valid.
    Refused { entry: InboxEntry, why: String },
}

/// Open one fetched batch on a worker thread (the async thread stays free for
/// the network and the vault); the results keep the batch's order.
async fn open_batch(
    ring: Arc<KeyRing>,
    got: Vec<(InboxEntry, Result<Vec<u8>, String>)>,
) -> Vec<Item> {
    let work = move || {
        got.into_iter()
            .map(|(entry, r)| match r {
                Ok(bytes) => {
                    let sha256: [u8; 32] = Sha256::digest(&bytes).into();
                    let listed_key = if is_hex(&entry.key_id, 16) {
                        entry.key_id.clone()
                    } else {
                        String::new()
                    };
                    let (key_id, flag, transfer_from, attachments) =
                        classify(&ring, &bytes, &listed_key);
                    Item::Got {
                        entry,
                        bytes,
                        key_id,
                        flag,
                        sha256,
                        attachments,
                        stored_twin: None,
                        transfer_from,
                    }
                }
                Err(why) => Item::Refused { entry, why },
            })
            .collect::<Vec<_>>()
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(items) => items,
        // Only a panic inside the crypto gets here; re-raise it where it belongs.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Fetch one batch of ids: one `POST /api/v1/inbox/fetch`, or, from a server
/// without it (`legacy` is then set for the rest of the pull), one request
/// per envelope, a few at once. An error that is not about one entry (the
/// server unreachable, the token refused) stops the pull.
async fn fetch_batch(
    client: &Client,
    legacy: &AtomicBool,
    batch: Vec<InboxEntry>,
) -> Result<Vec<(InboxEntry, Result<Vec<u8>, String>)>, PullError> {
    if !legacy.load(Ordering::Relaxed) {
        let ids: Vec<String> = batch.iter().map(|e| e.id.clone()).collect();
        match client.fetch_envelopes(&ids).await {
            Ok(Fetched::Envelopes { found, refused }) => {
                let mut found: HashMap<String, Vec<u8>> = found.into_iter().collect();
                let mut refused: HashMap<String, String> = refused.into_iter().collect();
                return Ok(batch
                    .into_iter()
                    .map(|entry| {
                        let r = match found.remove(&entry.id) {
                            Some(bytes) => Ok(bytes),
                            None => Err(refused.remove(&entry.id).unwrap_or_else(|| {
                                "listed but gone when fetched (past retention?)".into()
                            })),
                        };
                        (entry, r)
                    })
                    .collect());
            }
            Ok(Fetched::Unsupported) => legacy.store(true, Ordering::Relaxed),
            Err(e @ ClientError::TooLarge { .. }) | Err(e @ ClientError::BadResponse { .. }) => {
                // The whole answer is refused; nothing of it is stored, and
                // the next pull asks for these ids again.
                let why = e.to_string();
                return Ok(batch.into_iter().map(|e| (e, Err(why.clone()))).collect());
            }
            Err(e) => return Err(e.into()),
        }
    }
    type OneByOne = (InboxEntry, Result<Option<Vec<u8>>, ClientError>);
    // The futures are collected first: a stream over a closure that returns
    // borrowing futures is not provably `Send` for every lifetime (a rustc
    // limitation), and the desk runs the pull in a spawned task.
    let futures: Vec<_> = batch
        .into_iter()
        .map(|entry| async move {
            let r = client.envelope(&entry.id).await;
            (entry, r)
        })
        .collect();
    let fetched: Vec<OneByOne> = futures_util::stream::iter(futures)
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let mut out = Vec::with_capacity(fetched.len());
    for (entry, r) in fetched {
        let r = match r {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err("listed but gone when fetched (past retention?)".into()),
            Err(e @ ClientError::TooLarge { .. }) | Err(e @ ClientError::BadResponse { .. }) => {
                Err(e.to_string())
            }
            Err(e) => return Err(e.into()),
        };
        out.push((entry, r));
    }
    Ok(out)
}

struct Walk<'a> {
    client: &'a Client,
    vault: &'a Vault,
    ring: Arc<KeyRing>,
    progress: &'a ProgressBar,
    summary: PullSummary,
    /// The server has no batched fetch (an older server).
    legacy: Arc<AtomicBool>,
}

/// Envelopes waiting for their vault transaction.
#[derive(Default)]
struct Pending {
    batch: Vec<NewEnvelope>,
    bytes: usize,
    /// (report id, attachments listed) of the batch's opened envelopes.
    slots: Vec<(String, u32)>,
    /// SHA-256 → id of everything stored in this pull's current page, for
    /// duplicates the vault cannot see yet.
    in_page: HashMap<[u8; 32], String>,
}

impl Walk<'_> {
    fn show(&self) {
        let s = &self.summary;
        self.progress.set_message(format!(
            "listed {} · new {} · flagged {} · already had {}",
            s.listed,
            s.new,
            s.flagged_total(),
            s.already
        ));
    }

    /// Store what is pending in one transaction.
    async fn commit(&mut self, pending: &mut Pending) -> Result<(), PullError> {
        if !pending.batch.is_empty() {
            // The attachments' rows first: a crash between the two leaves
            // rows that wait for their envelope (the next pull stores it),
            // never an envelope whose attachments are forgotten.
            self.vault.add_attachment_slots(&pending.slots).await?;
            pending.slots.clear();
            self.vault.insert_envelopes(&pending.batch).await?;
            pending.batch.clear();
            pending.bytes = 0;
        }
        Ok(())
    }

    /// Take one item, in listing order: duplicate check, summary, pending.
    /// Synchronous but for the commit: the lookups were made in the batch.
    async fn take(&mut self, item: Item, pending: &mut Pending) -> Result<(), PullError> {
        let (entry, bytes, key_id, mut flag, sha256, attachments, stored_twin, transfer_from) =
            match item {
                Item::Refused { entry, why } => {
                    self.summary.refuse(&entry.id, why);
                    return Ok(());
                }
                Item::Got {
                    entry,
                    bytes,
                    key_id,
                    flag,
                    sha256,
                    attachments,
                    stored_twin,
                    transfer_from,
                } => (
                    entry,
                    bytes,
                    key_id,
                    flag,
                    sha256,
                    attachments,
                    stored_twin,
                    transfer_from,
                ),
            };
        let day = if is_day(&entry.day) {
            entry.day.clone()
        } else {
            "0000-00-00".to_owned()
        };
        if flag.is_none() {
            // Earlier in this page first (not all of it is committed yet),
            // then what the vault held before the page.
            if let Some(other) = pending.in_page.get(&sha256) {
                flag = Some(Flag::Duplicate(other.clone()));
            } else if let Some(other) = stored_twin {
                flag = Some(Flag::Duplicate(other));
            }
        }
        pending
            .in_page
            .entry(sha256)
            .or_insert_with(|| entry.id.clone());
        match &flag {
            Some(f) => self.summary.flag(&entry.id, f),
            None => {
                self.summary.opened += 1;
                if let Some(from) = transfer_from {
                    self.summary.transfers_in.push((entry.id.clone(), from));
                }
            }
        }
        self.summary.new += 1;
        if flag.is_none() && attachments > 0 {
            pending.slots.push((entry.id.clone(), attachments));
        }
        pending.bytes += bytes.len();
        pending.batch.push(NewEnvelope {
            id: entry.id,
            day,
            key_id,
            envelope: bytes,
            sha256,
            flag: flag.map(|f| (f.code().to_owned(), f.to_string())),
        });
        self.progress.inc(1);
        if pending.batch.len() >= COMMIT_ENVELOPES || pending.bytes >= COMMIT_BYTES {
            self.commit(pending).await?;
        }
        Ok(())
    }

    /// Fetch, open and store `todo` (one listing page's new entries): batches
    /// of [`FETCH_BATCH`] ids, [`IN_FLIGHT`] batches fetched and opened at
    /// once (opening on worker threads, so on every core), taken in listing
    /// order and stored in transactions of up to [`COMMIT_ENVELOPES`].
    async fn store_page(&mut self, todo: Vec<InboxEntry>) -> Result<(), PullError> {
        let mut pending = Pending::default();
        let mut batches = Vec::with_capacity(todo.len().div_ceil(FETCH_BATCH));
        let mut todo = todo.into_iter().peekable();
        while todo.peek().is_some() {
            batches.push(todo.by_ref().take(FETCH_BATCH).collect::<Vec<_>>());
        }
        // Locals, so the stream borrows none of `self` (which `take` changes).
        let (client, vault) = (self.client, self.vault);
        let (legacy, ring) = (self.legacy.clone(), self.ring.clone());
        let (legacy, ring) = (&*legacy, &ring);
        let batches: Vec<_> = batches
            .into_iter()
            .map(|batch| {
                let ring = ring.clone();
                async move {
                    let got = fetch_batch(client, legacy, batch).await?;
                    let mut items = open_batch(ring, got).await;
                    // The vault's duplicates of the batch's opened envelopes,
                    // one query for the batch, made here so that the wait
                    // overlaps the other batches' work. Safe to look early: an
                    // envelope stored earlier in this page is caught by
                    // `Pending::in_page` instead, and earlier pages are committed.
                    let hashes: Vec<[u8; 32]> = items
                        .iter()
                        .filter_map(|item| match item {
                            Item::Got {
                                flag: None, sha256, ..
                            } => Some(*sha256),
                            _ => None,
                        })
                        .collect();
                    let twins = vault.ids_by_sha256_many(&hashes).await?;
                    for item in &mut items {
                        if let Item::Got {
                            flag: None,
                            sha256,
                            stored_twin,
                            ..
                        } = item
                        {
                            *stored_twin = twins.get(sha256).cloned();
                        }
                    }
                    Ok::<_, PullError>(items)
                }
            })
            .collect();
        let mut stream = futures_util::stream::iter(batches).buffered(IN_FLIGHT);
        let mut result = Ok(());
        while let Some(items) = stream.next().await {
            let items = match items {
                Ok(items) => items,
                Err(e) => {
                    // Keep what this page already fetched, then stop.
                    result = Err(e);
                    break;
                }
            };
            for item in items {
                if let Err(e) = self.take(item, &mut pending).await {
                    result = Err(e);
                    break;
                }
            }
            if result.is_err() {
                break;
            }
            self.show();
        }
        drop(stream);
        let committed = self.commit(&mut pending).await;
        result.and(committed)
    }

    /// Walk from `after` to the end of the listing, or until an id above `until`.
    async fn walk(
        &mut self,
        mut after: Option<String>,
        until: Option<&str>,
        save_cursor: bool,
    ) -> Result<(), PullError> {
        let mut empty_pages = 0u32;
        loop {
            let page = self.client.inbox(after.as_deref(), PAGE_SIZE).await?;
            // The cursor rules, checked before anything of the page is used: a
            // non-empty page goes on from its own last id (so no id is
            // skipped), and only a few empty pages in a row are believed.
            let last_listed = page.reports.last().map(|e| e.id.clone());
            match (&page.next, &last_listed) {
                (Some(next), Some(last)) if next != last => {
                    return Err(PullError::CursorSkips {
                        next: next.clone(),
                        last: crate::text::clean_line(last, 40),
                    });
                }
                (Some(_), None) => {
                    empty_pages += 1;
                    if empty_pages >= MAX_EMPTY_PAGES {
                        return Err(PullError::Creeping);
                    }
                }
                _ => empty_pages = 0,
            }
            let mut seen: HashSet<String> = HashSet::new();
            let mut reached_until = false;
            // First the cheap checks, in listing order…
            let mut listed = Vec::new();
            for entry in page.reports {
                if let Some(u) = until
                    && entry.id.as_str() > u
                {
                    reached_until = true;
                    break;
                }
                self.summary.listed += 1;
                if !is_hex(&entry.id, 32) {
                    self.summary
                        .refuse(&entry.id, "the id is not 32 lowercase hex digits".into());
                    continue;
                }
                if !seen.insert(entry.id.clone()) {
                    self.summary.already += 1;
                    continue;
                }
                listed.push(entry);
            }
            // …then which of them the vault has: one question for the page
            // (a few queries), not one per id.
            let ids: Vec<String> = listed.iter().map(|e| e.id.clone()).collect();
            let held = self.vault.contains_many(&ids).await?;
            let mut todo = Vec::with_capacity(listed.len());
            for entry in listed {
                if held.contains(&entry.id) {
                    self.summary.already += 1;
                } else {
                    todo.push(entry);
                }
            }
            self.show();
            self.store_page(todo).await?;
            if reached_until {
                return Ok(());
            }
            let Some(next) = page.next else {
                return Ok(());
            };
            // The cursor must move forward, or a hostile server could keep us here.
            if after.as_deref().is_some_and(|a| next.as_str() <= a) {
                return Err(PullError::Stuck(next));
            }
            if save_cursor {
                self.vault.set_meta(RESUME, Some(&next)).await?;
            }
            after = Some(next);
            self.show();
        }
    }
}

/// Pull everything new. The progress bar may be hidden (not a terminal).
pub async fn pull(
    client: &Client,
    vault: &Vault,
    ring: &KeyRing,
    progress: &ProgressBar,
) -> Result<PullSummary, PullError> {
    let resume = vault.meta(RESUME).await?.filter(|c| is_hex(c, 32));
    let mut walk = Walk {
        client,
        vault,
        // Worker threads need an owned ring: a copy for this pull, its keys
        // zeroized when the pull ends.
        ring: Arc::new(ring.clone()),
        progress,
        summary: PullSummary::default(),
        legacy: Arc::new(AtomicBool::new(false)),
    };
    walk.show();
    walk.walk(resume.clone(), None, true).await?;
    if let Some(start) = resume {
        // The part of the listing before the resume point may have new ids.
        walk.walk(None, Some(&start), false).await?;
    }
    vault.set_meta(RESUME, None).await?;
    // Then the attachments of what was pulled (and any a pull before could
    // not fetch), one blob at a time, streaming: crate::blobs.
    walk.progress.set_message("fetching attachments");
    walk.summary.attachments = crate::blobs::fetch_due(client, vault, ring)
        .await
        .map_err(|e| match e {
            crate::blobs::BlobError::Client(c) => PullError::Client(c),
            crate::blobs::BlobError::Vault(v) => PullError::Vault(v),
        })?;
    Ok(walk.summary)
}

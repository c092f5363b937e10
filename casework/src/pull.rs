//! `pull`: fetch every envelope the server lists for this force that the vault
//! lacks, classify it by trying to open it, and store it still sealed.
//!
//! It owns walking the inbox page by page (memory stays flat: at most one
//! page of envelopes is held at a time, fetched a few at once), resuming an interrupted pull, and
//! the summary. An envelope that does not open is stored with its [`Flag`]
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

use futures_util::StreamExt;

use indicatif::ProgressBar;
use quietline_crypto::envelope;
use sha2::{Digest, Sha256};

use crate::client::{Client, ClientError, is_day, is_hex};
use crate::keyring::{Flag, KeyRing};
use crate::vault::{NewEnvelope, Vault, VaultError};

/// Page size asked of the server (the server allows up to 1000). A page of
/// envelopes, up to 64 KiB each, is held in memory before it is committed.
pub const PAGE_SIZE: u32 = 100;
/// Envelope requests in flight at once.
pub const IN_FLIGHT: usize = 4;
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

/// Classify envelope bytes: the key id to store and the flag, if any.
fn classify(ring: &KeyRing, bytes: &[u8], listed_key: &str) -> (String, Option<Flag>) {
    let key_id = envelope::parse(bytes)
        .map(|e| e.key_id().to_hex())
        .unwrap_or_else(|_| listed_key.to_owned());
    // Opening authenticates; the payload is dropped (zeroized) at once.
    match ring.open_message(bytes) {
        Ok(_) => (key_id, None),
        Err(flag) => (key_id, Some(flag)),
    }
}

struct Walk<'a> {
    client: &'a Client,
    vault: &'a Vault,
    ring: &'a KeyRing,
    progress: &'a ProgressBar,
    summary: PullSummary,
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
            let mut batch: Vec<NewEnvelope> = Vec::new();
            let mut in_batch: HashMap<[u8; 32], String> = HashMap::new();
            let mut seen: HashSet<String> = HashSet::new();
            let mut reached_until = false;
            let mut result = Ok(());
            // First what needs fetching (cheap checks, in listing order)…
            let mut todo = Vec::new();
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
                if !seen.insert(entry.id.clone()) || self.vault.contains(&entry.id).await? {
                    self.summary.already += 1;
                    continue;
                }
                todo.push(entry);
            }
            // …then a few requests in flight at once (a remote server, or one
            // behind Tor, is bound by latency), results in listing order.
            let client = self.client;
            let mut fetched =
                futures_util::stream::iter(todo.into_iter().map(|entry| async move {
                    let r = client.envelope(&entry.id).await;
                    (entry, r)
                }))
                .buffered(IN_FLIGHT);
            while let Some((entry, r)) = fetched.next().await {
                let bytes = match r {
                    Ok(Some(b)) => b,
                    Ok(None) => {
                        self.summary.refuse(
                            &entry.id,
                            "listed but gone when fetched (past retention?)".into(),
                        );
                        continue;
                    }
                    Err(e @ ClientError::TooLarge { .. })
                    | Err(e @ ClientError::BadResponse { .. }) => {
                        self.summary.refuse(&entry.id, e.to_string());
                        continue;
                    }
                    Err(e) => {
                        // Keep what this page already fetched, then stop.
                        result = Err(PullError::from(e));
                        break;
                    }
                };
                let day = if is_day(&entry.day) {
                    entry.day.clone()
                } else {
                    "0000-00-00".to_owned()
                };
                let sha256: [u8; 32] = Sha256::digest(&bytes).into();
                let listed_key = if is_hex(&entry.key_id, 16) {
                    entry.key_id.as_str()
                } else {
                    ""
                };
                let (key_id, mut flag) = classify(self.ring, &bytes, listed_key);
                if flag.is_none() {
                    if let Some(other) = self.vault.id_by_sha256(&sha256).await? {
                        flag = Some(Flag::Duplicate(other));
                    } else if let Some(other) = in_batch.get(&sha256) {
                        flag = Some(Flag::Duplicate(other.clone()));
                    }
                }
                in_batch.entry(sha256).or_insert_with(|| entry.id.clone());
                match &flag {
                    Some(f) => self.summary.flag(&entry.id, f),
                    None => self.summary.opened += 1,
                }
                self.summary.new += 1;
                batch.push(NewEnvelope {
                    id: entry.id.clone(),
                    day,
                    key_id,
                    envelope: bytes,
                    sha256,
                    flag: flag.map(|f| (f.code().to_owned(), f.to_string())),
                });
                self.progress.inc(1);
                self.show();
            }
            drop(fetched);
            if !batch.is_empty() {
                self.vault.insert_envelopes(&batch).await?;
            }
            drop(batch);
            result?;
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
        ring,
        progress,
        summary: PullSummary::default(),
    };
    walk.show();
    walk.walk(resume.clone(), None, true).await?;
    if let Some(start) = resume {
        // The part of the listing before the resume point may have new ids.
        walk.walk(None, Some(&start), false).await?;
    }
    vault.set_meta(RESUME, None).await?;
    Ok(walk.summary)
}

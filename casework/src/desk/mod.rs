//! The desk: one force's shared workspace, as a library. [`Desk`] owns the
//! unlocked key ring (held in zeroizing memory from start until locked), the
//! shared vault and the clock, and is the only way a front end (the desk's web
//! layer, `quietline-desk`; the CLI) reads or changes cases. Every method that
//! returns decrypted text writes its audit entry first, naming the account
//! ([`Handler`]) that asked: no public path decrypts without it.
//!
//! It does not speak HTTP, render HTML or parse command lines; it does not
//! keep a passphrase (only the keys it unlocked).
//!
//! Files: this module (lifecycle: open, lock, who acts, errors), and the use
//! cases in their own files beside it: [`index`] (the in-memory case index,
//! crate-private), [`queue`] (the queue and search), [`case`] (one case),
//! [`actions`] (status, assignment, priority, labels, mute, notes, bulk),
//! [`answer`] (replies, previews, templates), [`attachments`] (a case's
//! attachments: list, show, save; issue 19), [`export`] (export with a
//! reason), [`audit`] (the audit log view and verify), [`pull`] (pull now,
//! the background loop, pull state), [`intel`] (grading, THRIVE triage and
//! response targets: issue 17), [`retention`] (retention review and
//! deletion), [`disclose`] (disclosure to a partner outside the platform),
//! [`transfer`] (passing a case to another force on the platform, and its
//! later follow-ups: issue 17) and [`watch`] (the key alarm raised by the
//! force's watch of its keys, and a supervisor's acknowledgement: issue 20).
//!
//! The return types are plain structs with public fields and no HTML: the
//! desk's web layer renders them, the CLI prints them.

pub mod access;

use std::sync::{Arc, RwLock};
use std::time::Duration;

pub mod actions;
pub mod answer;
pub mod attachments;
pub mod audit;
pub mod case;
pub mod disclose;
pub mod export;
pub(crate) mod index;
pub mod intel;
pub mod intel_report;
pub mod pull;
pub mod queue;
pub mod retention;
#[cfg(test)]
pub(crate) mod testing;
pub mod transfer;
pub mod watch;

pub use actions::{Action, Assignee, BulkOutcome, BulkTarget};
pub use answer::{OtherReply, ReplyForm, ReplyPreview, ReplyRace, ReplySent, ReplyTemplate};
pub use attachments::{AttachmentFile, AttachmentInfo, AttachmentKind, AttachmentState};
pub use audit::{AuditCheck, AuditPage, AuditQuery};
pub use case::{CaseView, Field, SeenBy, TimelineEvent, TimelineItem};
pub use disclose::{DisclosureEntry, DisclosureForm};
pub use export::{Export, ExportFormat};
pub use intel::{CaseIntel, GradingEntry, RowIntel, ThriveEntry, Triaged};
pub use intel_report::{ExportPublicKey, IntelReportEntry, ReportForm};
pub use pull::{PullFailure, PullRun, PullState, UnreadableEnvelope};
pub use queue::{
    AssigneeFilter, CaseFlag, Direction, Facets, QueueCounts, QueuePage, QueueQuery, QueueRow,
    SortKey, View,
};
pub use retention::ReviewEntry;
pub use transfer::{CaseTransfer, Destination, ForwardRun, TransferOutcome, TransferredTo};

pub use crate::records::{Priority, Status};

use crate::clock::Clock;
use crate::home::Home;
use crate::keyring::{KeyRing, KeyRingError};
use crate::vault::{Vault, VaultError};

/// A handler's role. Rights grow down the list: a supervisor can do what a
/// handler can, a custodian what a supervisor can, plus the custodian's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Works cases: reads, takes, answers, notes, sets status.
    Handler,
    /// Also assigns to others, acts in bulk, sees the audit log and pull
    /// state; raw export, retention reviews and deletion, disclosure.
    Supervisor,
    /// Also holds the keys: locks the desk.
    Custodian,
}

impl Role {
    /// The name used on the command line and in the vault.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Handler => "handler",
            Role::Supervisor => "supervisor",
            Role::Custodian => "custodian",
        }
    }
    /// Parse a name written by [`Role::as_str`].
    pub fn from_name(s: &str) -> Option<Role> {
        match s {
            "handler" => Some(Role::Handler),
            "supervisor" => Some(Role::Supervisor),
            "custodian" => Some(Role::Custodian),
            _ => None,
        }
    }
    /// At least a supervisor.
    pub fn supervises(self) -> bool {
        self >= Role::Supervisor
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is acting: a signed-in account and its role (made only by a valid
/// session, or by the CLI for its OS user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// The account name (recorded in every audit entry).
    pub account: String,
    /// Its role.
    pub role: Role,
}

/// The desk's settings (defaults as issue 16 gives them).
#[derive(Debug, Clone)]
pub struct DeskSettings {
    /// A session unused this long is over.
    pub idle_timeout: Duration,
    /// A session this old is over, used or not.
    pub absolute_timeout: Duration,
    /// How often the desk pulls in the background (plus random jitter).
    pub pull_interval: Duration,
}

impl Default for DeskSettings {
    fn default() -> Self {
        DeskSettings {
            idle_timeout: Duration::from_secs(15 * 60),
            absolute_timeout: Duration::from_secs(10 * 60 * 60),
            pull_interval: Duration::from_secs(60),
        }
    }
}

/// Why the desk refused.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// A custodian locked the desk: its keys are gone until it is restarted.
    #[error(
        "the desk is locked: a custodian locked it and its keys are no longer in memory; restart the desk to unlock it"
    )]
    Locked,
    /// The account may not do this.
    #[error("your account ({role}) may not {what}")]
    Forbidden {
        /// The account's role.
        role: Role,
        /// What was refused, in words.
        what: &'static str,
    },
    /// The key ring did not open.
    #[error(transparent)]
    KeyRing(#[from] KeyRingError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// No case has this id (or an id starting with it).
    #[error("no case has the id {0:?}: it may not have been pulled yet (see the queue for ids)")]
    NoSuchCase(String),
    /// What the front end sent does not make sense (an empty note, a day
    /// that is not YYYY-MM-DD, an export without a reason…): the sentence
    /// says what and what to do. It never quotes what a handler wrote.
    #[error("{0}")]
    Invalid(String),
    /// The case's report cannot be read (supervisors see why in the queue).
    #[error("report {id} cannot be read: {reason}")]
    Unreadable {
        /// The case (report) id.
        id: String,
        /// Why (the flag's sentence; never decrypted text).
        reason: String,
    },
    /// Another handler answered the reporter since this reply's form was
    /// shown, or is answering right now: nothing was sent. The front end
    /// shows [`ReplyRace::others`] and lets the handler choose (send anyway
    /// = call [`Desk::reply`] again with [`ReplyRace::replies_now`]).
    #[error(
        "another handler has replied to this reporter since you opened the reply form (or is sending a reply now): nothing was sent. Read their reply, then send yours anyway or change it"
    )]
    ReplyRace(Box<ReplyRace>),
    /// The reply was not sent (or sent but not recorded: see the message).
    #[error(transparent)]
    Reply(#[from] crate::reply::ReplyError),
    /// A sealed record could not be written or read.
    #[error(transparent)]
    Record(#[from] crate::records::RecordError),
    /// The home's config (server, token) is missing or wrong.
    #[error(transparent)]
    Home(#[from] crate::home::HomeError),
    /// The server could not be asked.
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    /// A pull failed.
    #[error(transparent)]
    Pull(#[from] crate::pull::PullError),
    /// The server's directory does not serve this force's key (see
    /// [`crate::directory`]); an audit entry was written.
    #[error(transparent)]
    KeySubstitution(Box<crate::directory::KeySubstitution>),
    /// The platform serves a statement or a key log that is not exactly the
    /// force's own (see [`crate::watch`]); an audit entry was written and
    /// the alarm raised.
    #[error(transparent)]
    KeyAlarm(Box<crate::watch::KeyAlarm>),
    /// The audit entry could not be written, so nothing was shown or done.
    #[error("cannot write the audit log ({0}); nothing was shown or changed")]
    Audit(VaultError),
}

/// The desk (cheap to clone; clones share everything).
#[derive(Clone)]
pub struct Desk {
    inner: Arc<Inner>,
}

struct Inner {
    home: Home,
    vault: Vault,
    clock: Clock,
    settings: DeskSettings,
    force_id: String,
    /// The desk process's OS user (every audit entry names it beside the account).
    os_user: String,
    /// `None` once locked. The ring's keys zeroize when the last Arc drops.
    ring: RwLock<Option<Arc<KeyRing>>>,
    /// Pending sign-ins and the throttle of unknown names (`access.rs`).
    access: access::AccessState,
    /// The case index (cleared, its text zeroized, when locked).
    index: RwLock<index::Index>,
    /// One sync with the vault at a time.
    sync_lock: tokio::sync::Mutex<()>,
    /// The last pull, its error, whether one runs.
    pull: pull::PullCell,
    /// When the seen markers were last reloaded from the vault.
    seen_loaded: std::sync::Mutex<Option<std::time::Instant>>,
    /// Whether this desk keeps a case index ([`Desk::open_for_pull`] does
    /// not: a command-line `pull` needs none, and building one would open
    /// every envelope in the vault a second time and hold them all).
    indexed: std::sync::atomic::AtomicBool,
    /// The key alarm raised in the vault, as last read (`watch.rs`): the
    /// banner on every page reads it without a database round trip.
    key_alarm: watch::AlarmCell,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("force", &self.inner.force_id)
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

impl Desk {
    /// Unlock the key ring in `home` with `passphrase` (the caller zeroizes
    /// it; the desk keeps only the keys), open the desk over `vault` and
    /// build the case index (every envelope and record opened, on every core).
    pub async fn open(
        home: Home,
        vault: Vault,
        passphrase: &[u8],
        settings: DeskSettings,
        clock: Clock,
    ) -> Result<Desk, DeskError> {
        let desk = Self::unlock(home, vault, passphrase, settings, clock, true)?;
        desk.refresh_key_alarm().await?;
        desk.sync().await?;
        Ok(desk)
    }

    /// As [`Desk::open`], for pulling only: no case index is built or kept,
    /// so the memory and time of a pull do not grow with the vault. Every
    /// use case that needs the index answers [`DeskError::Invalid`].
    pub async fn open_for_pull(
        home: Home,
        vault: Vault,
        passphrase: &[u8],
        settings: DeskSettings,
        clock: Clock,
    ) -> Result<Desk, DeskError> {
        let desk = Self::unlock(home, vault, passphrase, settings, clock, false)?;
        desk.refresh_key_alarm().await?;
        Ok(desk)
    }

    fn unlock(
        home: Home,
        vault: Vault,
        passphrase: &[u8],
        settings: DeskSettings,
        clock: Clock,
        indexed: bool,
    ) -> Result<Desk, DeskError> {
        let config = home
            .load_config()
            .map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let ring = KeyRing::unlock(&home.keys_dir(), config.current_key.as_deref(), passphrase)?;
        let force_id = ring.force_id().to_owned();
        let desk = Desk {
            inner: Arc::new(Inner {
                home,
                vault,
                clock,
                settings,
                force_id,
                os_user: crate::audit::Actor::current(None).os_user,
                ring: RwLock::new(Some(Arc::new(ring))),
                access: access::AccessState::default(),
                index: RwLock::new(index::Index::default()),
                sync_lock: tokio::sync::Mutex::new(()),
                pull: pull::PullCell::default(),
                seen_loaded: std::sync::Mutex::new(None),
                indexed: std::sync::atomic::AtomicBool::new(indexed),
                key_alarm: watch::AlarmCell::default(),
            }),
        };
        Ok(desk)
    }

    /// Drop the keys: every later call that needs them answers
    /// [`DeskError::Locked`]. Irreversible for this process.
    pub fn lock(&self) {
        if let Ok(mut slot) = self.inner.ring.write() {
            *slot = None;
        }
        // The index holds decrypted text: zeroized as it is dropped.
        match self.inner.index.write() {
            Ok(mut idx) => idx.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    /// [`DeskError::Invalid`] for a desk opened with [`Desk::open_for_pull`].
    pub(crate) fn require_index(&self) -> Result<(), DeskError> {
        if self.is_indexed() {
            Ok(())
        } else {
            Err(DeskError::Invalid(
                "this desk was opened to pull only and keeps no case index".into(),
            ))
        }
    }

    /// Whether this desk keeps a case index.
    pub(crate) fn is_indexed(&self) -> bool {
        self.inner
            .indexed
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Start keeping a case index on a desk opened with
    /// [`Desk::open_for_pull`] (its next sync builds it): a pull that has
    /// transferred cases to pass follow-ups on for needs one.
    pub(crate) fn start_indexing(&self) {
        self.inner
            .indexed
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether [`Desk::lock`] was called.
    pub fn is_locked(&self) -> bool {
        self.inner.ring.read().map(|r| r.is_none()).unwrap_or(true)
    }

    /// The force this desk belongs to.
    pub fn force_id(&self) -> &str {
        &self.inner.force_id
    }

    /// The desk's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The desk's settings.
    pub fn settings(&self) -> &DeskSettings {
        &self.inner.settings
    }

    /// The key ring, or [`DeskError::Locked`]. Crate-private: front ends
    /// never hold keys.
    pub(crate) fn ring(&self) -> Result<Arc<KeyRing>, DeskError> {
        self.inner
            .ring
            .read()
            .ok()
            .and_then(|r| r.clone())
            .ok_or(DeskError::Locked)
    }

    /// The shared vault. Crate-private: front ends go through the use cases.
    pub(crate) fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    /// The sign-in's memory (`access.rs`).
    pub(crate) fn access(&self) -> &access::AccessState {
        &self.inner.access
    }

    /// The console home (config, key files).
    pub(crate) fn home(&self) -> &Home {
        &self.inner.home
    }
}

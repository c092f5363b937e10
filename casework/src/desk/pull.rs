//! Pulling from the desk: [`Desk::pull_now`] (a handler's "pull now", the
//! CLI's `pull`), the background loop ([`Desk::spawn_pull_loop`]: every
//! interval plus random jitter, until shutdown) and [`Desk::pull_state`] for
//! supervisors (the last pull, the last error, unreadable envelopes).
//!
//! It owns when to pull and what is remembered about it, and checking the
//! server's directory and key log against the force's own keys and
//! statements before each pull (issue 20's watch: [`crate::watch`]); the
//! background loop is also the watch's timer. The pull
//! itself is [`crate::pull::pull`]; the index picks up what it stored.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::ProgressBar;

use super::{Desk, DeskError, Handler, Role};
use crate::client::Client;
use crate::directory::{self, KeySubstitution, Served};
use crate::home::{Config, Home};
use crate::keyring::{self, list_keys};
use crate::pull::PullSummary;
use crate::render::short;
use crate::text::clean_line;
use crate::watch::{self, KeyAlarm};

/// The account named in the audit log for the background loop's pulls.
pub const BACKGROUND_ACCOUNT: &str = "desk (background pull)";

/// One pull that finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRun {
    /// When it ended (desk time, RFC 3339).
    pub at: String,
    /// Who asked (an account, or [`BACKGROUND_ACCOUNT`]).
    pub by: String,
    /// What it did.
    pub summary: PullSummary,
    /// A warning about the server's directory, if any (e.g. the new key is
    /// not registered yet).
    pub warning: Option<String>,
}

/// A pull that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullFailure {
    /// When (desk time, RFC 3339).
    pub at: String,
    /// Why, in the desk's words.
    pub message: String,
}

/// An envelope that does not open (shown to supervisors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableEnvelope {
    /// Its id.
    pub id: String,
    /// Short id.
    pub short_id: String,
    /// Server day.
    pub day: String,
    /// Stable code.
    pub code: String,
    /// Why, in words (from the header; never decrypted text).
    pub reason: String,
}

/// The pull state, for supervisors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullState {
    /// The last pull that finished.
    pub last: Option<PullRun>,
    /// The last pull that failed (kept until a later pull succeeds).
    pub last_error: Option<PullFailure>,
    /// A pull is running now.
    pub running: bool,
    /// The background interval (before jitter), seconds.
    pub interval_secs: u64,
    /// Cases in the index.
    pub cases: usize,
    /// Envelopes that do not open.
    pub unreadable: Vec<UnreadableEnvelope>,
}

/// What the desk remembers between pulls.
#[derive(Debug, Default)]
pub(crate) struct PullMemory {
    pub last: Option<PullRun>,
    pub last_error: Option<PullFailure>,
    pub running: bool,
}

pub(crate) type PullCell = Mutex<PullMemory>;

/// Why checking the directory refused.
#[derive(Debug)]
pub enum DirectoryRefusal {
    /// The directory serves another key (write an audit entry, then stop).
    Substitution(Box<KeySubstitution>),
    /// The directory's statement, or the key log, is not exactly the
    /// force's own (write an audit entry, raise the alarm, then stop; see
    /// [`crate::watch`]).
    Alarm(Box<KeyAlarm>),
    /// Anything else (server down, no key ring, bad config).
    Other(DeskError),
}

impl<E: Into<DeskError>> From<E> for DirectoryRefusal {
    fn from(e: E) -> Self {
        DirectoryRefusal::Other(e.into())
    }
}

/// The force id and current public key, from the key files' headers (no passphrase).
pub fn current_public(
    home: &Home,
    config: &Config,
) -> Result<(String, quietline_crypto::keys::PublicKey), DeskError> {
    let keys = list_keys(&home.keys_dir())?;
    let wanted = config.current_key.as_deref();
    let (_, info) = keys
        .iter()
        .find(|(_, i)| Some(i.key_id.to_hex().as_str()) == wanted)
        .or_else(|| keys.last())
        .ok_or_else(|| keyring::KeyRingError::Empty(home.keys_dir()))?;
    Ok((info.force_id.clone(), info.public_key.clone()))
}

/// The command the platform operator runs to register a public key.
pub fn operator_command(force: &str, pk: &quietline_crypto::keys::PublicKey) -> String {
    format!(
        "quietline force key add {force} --public-key {}",
        pk.to_base64url()
    )
}

/// Read the server's directory and check that it serves the home's current
/// key for its force (see [`crate::directory`]). Saves the force's display
/// name and ends a pending rotation in the config. Returns a warning while
/// the directory still serves the previous key. Needs no passphrase.
pub async fn check_directory(
    home: &Home,
    client: &Client,
) -> Result<Option<String>, DirectoryRefusal> {
    let mut config = home.load_config()?;
    let before = config.clone();
    let warning = check_directory_with(home, client, &mut config).await?;
    if config != before {
        home.save_config(&config)?;
    }
    Ok(warning)
}

/// [`check_directory`] on a config the caller holds (and saves), e.g.
/// `login`'s before it is written.
pub async fn check_directory_with(
    home: &Home,
    client: &Client,
    config: &mut Config,
) -> Result<Option<String>, DirectoryRefusal> {
    Ok(check_directory_served(home, client, config).await?.0)
}

/// [`check_directory_with`], also returning what the directory served.
async fn check_directory_served(
    home: &Home,
    client: &Client,
    config: &mut Config,
) -> Result<(Option<String>, Served), DirectoryRefusal> {
    let (force, current) = current_public(home, config)?;
    let previous = match &config.previous_key {
        Some(id) => list_keys(&home.keys_dir())?
            .into_iter()
            .find(|(_, i)| i.key_id.to_hex() == *id)
            .map(|(_, i)| i.public_key),
        None => None,
    };
    let entries = client.forces().await?;
    let mut warning = None;
    let served = directory::check(client.base(), &entries, &force, &current, previous.as_ref())
        .map_err(DirectoryRefusal::Substitution)?;
    // The served key is this console's; with signing keys, its statement, if
    // the directory serves one, must be the force's own for exactly that key
    // (issue 20's watch). A key served bare is not an alarm here: the key is
    // ours, and a force may not have registered its signing key yet (the
    // key log check says more once the force's statements are logged).
    let entry = match &served {
        Served::Current(e) | Served::Previous(e) => e,
    };
    if entry.statement.is_some()
        && let Some(signers) = watch::force_signers(home)?
    {
        directory::check_statement(client.base(), entry, &signers, watch::today_number())
            .map_err(|a| DirectoryRefusal::Alarm(a.into()))?;
    }
    match &served {
        Served::Current(e) => {
            config.previous_key = None;
            config.force_name = Some(clean_line(&e.name, 100));
        }
        Served::Previous(e) => {
            warning = Some(format!(
                "the server still publishes key {} for force {force}, the key before this console's current key {}: reports are still sealed to the old key (this console can read them). Ask the platform operator to register the new key:\n  {}",
                clean_line(&e.key_id, 16),
                current.key_id(),
                operator_command(&force, &current)
            ));
            config.force_name = Some(clean_line(&e.name, 100));
        }
    }
    Ok((warning, served))
}

/// The key-log half of the watch ([`watch::check_log`]) for the home's force,
/// after the directory served `served`.
async fn check_key_log(
    home: &Home,
    vault: &crate::vault::Vault,
    client: &Client,
    config: &Config,
    served: &Served,
) -> Result<Option<String>, DirectoryRefusal> {
    let (force, current) = current_public(home, config)?;
    let signers = watch::force_signers(home)?;
    let statements = keyring::statements(&home.root().join("statements"))?;
    let (Served::Current(entry) | Served::Previous(entry)) = served;
    let ours = watch::Ours {
        force: &force,
        signers: signers.as_ref(),
        current: &current,
        statements: &statements,
        served: entry,
    };
    match watch::check_log(vault, client, ours).await {
        Ok(w) => Ok(w),
        Err(watch::LogRefusal::Alarm(a)) => Err(DirectoryRefusal::Alarm(a)),
        Err(watch::LogRefusal::Client(e)) => Err(e.into()),
        Err(watch::LogRefusal::Vault(e)) => Err(e.into()),
    }
}

impl Desk {
    /// [`check_directory`] and the key log's check ([`watch::check_log`]),
    /// with the audit entry and the raised alarm on a substitution or a key
    /// alarm.
    pub(crate) async fn check_directory(
        &self,
        who: &Handler,
        client: &Client,
    ) -> Result<Option<String>, DeskError> {
        let checked = async {
            let mut config = self.home().load_config()?;
            let before = config.clone();
            let (warning, served) =
                check_directory_served(self.home(), client, &mut config).await?;
            if config != before {
                self.home().save_config(&config)?;
            }
            let log_warning =
                check_key_log(self.home(), self.vault(), client, &config, &served).await?;
            Ok(match (warning, log_warning) {
                (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
                (a, b) => a.or(b),
            })
        };
        match checked.await {
            Ok(w) => Ok(w),
            Err(DirectoryRefusal::Other(e)) => Err(e),
            Err(DirectoryRefusal::Substitution(s)) => {
                let alarm = KeyAlarm::from(&*s);
                self.sound_key_alarm(who, "key-mismatch", &alarm).await?;
                Err(DeskError::KeySubstitution(s))
            }
            Err(DirectoryRefusal::Alarm(a)) => {
                self.sound_key_alarm(who, watch::AUDIT_ALARM, &a).await?;
                Err(DeskError::KeyAlarm(a))
            }
        }
    }

    /// Pull now, as `who`: check the directory, fetch what is new, store it
    /// sealed, bring the index up to date. Audited (`pull`, with counts).
    /// `progress` may be hidden.
    pub async fn pull_with(
        &self,
        who: &Handler,
        client: &Client,
        progress: &ProgressBar,
    ) -> Result<PullRun, DeskError> {
        {
            let mut m = self.pull_memory()?;
            if m.running {
                return Err(DeskError::Invalid(
                    "a pull is already running; its result will show when it ends".into(),
                ));
            }
            m.running = true;
        }
        let result = self.pull_inner(who, client, progress).await;
        let mut m = self.pull_memory()?;
        m.running = false;
        match &result {
            Ok(run) => {
                m.last = Some(run.clone());
                m.last_error = None;
            }
            Err(e) => {
                m.last_error = Some(PullFailure {
                    at: self.clock().now_rfc3339(),
                    message: clean_line(&e.to_string(), 500),
                })
            }
        }
        result
    }

    async fn pull_inner(
        &self,
        who: &Handler,
        client: &Client,
        progress: &ProgressBar,
    ) -> Result<PullRun, DeskError> {
        let ring = self.ring()?;
        // Another desk or a CLI sharing the vault may have raised or lowered
        // the key alarm since: the banner follows the vault.
        self.refresh_key_alarm().await?;
        let warning = self.check_directory(who, client).await?;
        let s = crate::pull::pull(client, self.vault(), &ring, progress).await?;
        let mut detail = format!(
            "listed={} new={} flagged={} refused={}",
            s.listed,
            s.new,
            s.flagged_total(),
            s.refused
        );
        let a = &s.attachments;
        let fetched = a.stored + a.flagged_total() + a.waiting;
        if fetched > 0 {
            detail.push_str(&format!(
                " attachments={} attachments_flagged={}",
                a.stored,
                a.flagged_total()
            ));
        }
        // The background loop records only pulls that brought something.
        if who.account != BACKGROUND_ACCOUNT || s.new > 0 || s.refused > 0 || fetched > 0 {
            self.record_audit(who, "pull", None, Some(detail)).await?;
        }
        self.sync().await?;
        let mut warning = warning;
        if !self.is_indexed() && self.has_transfers().await? {
            // A pull-only desk (the CLI's `pull`) of a force that has
            // transferred cases: follow-ups are found through the index.
            self.start_indexing();
            self.sync().await?;
        }
        // Issue 17: the messages other forces passed here are audited at
        // this end too.
        for (id, from) in &s.transfers_in {
            let case = self.case_of_message(id).unwrap_or_else(|| id.clone());
            self.record_audit(
                who,
                "transfer-in",
                Some(&case),
                Some(format!("message {} from {from}", short(id))),
            )
            .await?;
        }
        if self.is_indexed() {
            // Pass on what reached this force for a case it transferred.
            let run = self.forward_pending(who, client).await?;
            if run.attachments_not_passed > 0 {
                let line = format!(
                    "{} attachment(s) of follow-ups passed on to another force could not go with them: never stored whole here",
                    run.attachments_not_passed
                );
                warning = Some(match warning {
                    Some(w) => format!("{w}\n{line}"),
                    None => line,
                });
            }
            if !run.failed.is_empty() {
                let list: Vec<String> = run
                    .failed
                    .iter()
                    .map(|(case, why)| format!("{case}: {why}"))
                    .collect();
                let line = format!(
                    "follow-ups of transferred cases not passed on yet (the next pull tries again): {}",
                    list.join("; ")
                );
                warning = Some(match warning {
                    Some(w) => format!("{w}\n{line}"),
                    None => line,
                });
            }
        }
        Ok(PullRun {
            at: self.clock().now_rfc3339(),
            by: who.account.clone(),
            summary: s,
            warning,
        })
    }

    /// Pull now with the server in the home's config.
    pub async fn pull_now(&self, who: &Handler) -> Result<PullRun, DeskError> {
        let client = self.client()?;
        self.pull_with(who, &client, &ProgressBar::hidden()).await
    }

    fn pull_memory(&self) -> Result<std::sync::MutexGuard<'_, PullMemory>, DeskError> {
        self.inner
            .pull
            .lock()
            .map_err(|_| DeskError::Invalid("the pull state is broken: restart the desk".into()))
    }

    /// The pull state (supervisors).
    pub fn pull_state(&self, who: &Handler) -> Result<PullState, DeskError> {
        if !who.role.supervises() {
            return Err(DeskError::Forbidden {
                role: who.role,
                what: "see the pull state",
            });
        }
        let (last, last_error, running) = {
            let m = self.pull_memory()?;
            (m.last.clone(), m.last_error.clone(), m.running)
        };
        let idx = self.index_read()?;
        let unreadable = super::index::unreadable(&idx)
            .into_iter()
            .map(|(id, (day, code, reason))| UnreadableEnvelope {
                short_id: short(&id).to_owned(),
                id,
                day,
                code,
                reason,
            })
            .collect();
        Ok(PullState {
            last,
            last_error,
            running,
            interval_secs: self.settings().pull_interval.as_secs(),
            cases: idx.len(),
            unreadable,
        })
    }

    /// Pull in the background every [`super::DeskSettings::pull_interval`]
    /// plus up to a fifth of it of random jitter, until `shutdown` completes
    /// or the desk is locked. Errors are kept in the pull state.
    pub fn spawn_pull_loop(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let desk = self.clone();
        tokio::spawn(async move {
            let who = Handler {
                account: BACKGROUND_ACCOUNT.to_owned(),
                role: Role::Supervisor,
            };
            tokio::pin!(shutdown);
            loop {
                let base = desk.settings().pull_interval.max(Duration::from_secs(1));
                let mut r = [0u8; 4];
                let _ = getrandom::fill(&mut r);
                let jitter_ms = (base.as_millis() as u64 / 5).max(1);
                let wait =
                    base + Duration::from_millis(u64::from(u32::from_le_bytes(r)) % jitter_ms);
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(wait) => {}
                }
                if desk.is_locked() {
                    return;
                }
                // Errors are in the pull state; the loop goes on.
                let _ = desk.pull_now(&who).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[tokio::test]
    async fn the_background_loop_pulls_until_shutdown_and_keeps_the_state() {
        let (server, t, _r, id) = served().await;
        let desk = Desk::open(
            t.home.clone(),
            t.vault().await,
            PASSPHRASE,
            super::super::DeskSettings {
                pull_interval: Duration::from_secs(1),
                ..Default::default()
            },
            crate::clock::Clock::system(),
        )
        .await
        .unwrap();
        let sam = supervisor("sam");
        assert!(desk.pull_state(&sam).unwrap().last.is_none());
        assert!(matches!(
            desk.pull_state(&handler("ann")),
            Err(DeskError::Forbidden { .. })
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = desk.spawn_pull_loop(async {
            let _ = stopped.await;
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let state = desk.pull_state(&sam).unwrap();
            if let Some(run) = state.last {
                assert_eq!(run.by, BACKGROUND_ACCOUNT);
                assert_eq!(run.summary.new, 1);
                assert_eq!(state.cases, 1);
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no background pull: {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(desk.resolve(&sam, &id).await.unwrap(), id);
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the loop stops on shutdown")
            .unwrap();
        // A failing server shows in the state.
        let mut config = t.home.load_config().unwrap();
        config.server = Some("http://127.0.0.1:9".into());
        t.home.save_config(&config).unwrap();
        assert!(desk.pull_now(&sam).await.is_err());
        let state = desk.pull_state(&sam).unwrap();
        assert!(state.last_error.is_some() && state.last.is_some() && !state.running);
        let log = crate::vault::Vault::collect(desk.vault().audit_entries())
            .await
            .unwrap();
        assert_eq!(
            log.iter().filter(|r| r.action == "pull").count(),
            1,
            "only the pull that brought something"
        );
        let _ = server.shutdown().await;
    }
}

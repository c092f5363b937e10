//! The force watches its keys (issue 20, part 4): on every pull and on the
//! desk's timer, the console checks that the platform serves exactly the
//! force's own key statements — in the directory (`GET /api/v1/forces`, see
//! [`crate::directory::check_statement`]) and in the key log
//! (`GET /api/v1/keylog/*`, crypto/FORMAT.md#key-log) — fetching the same
//! public routes a reporter's page uses, and raises a loud alarm when not.
//!
//! It owns the alarm ([`KeyAlarm`]: which check, what was seen, what to do),
//! the alarm that stays raised in the vault until a supervisor acknowledges
//! it ([`ActiveAlarm`], kept in the vault's `meta` table so every desk and
//! CLI sharing the vault sees it; no schema change), the force's own signer
//! set as this home knows it ([`force_signers`]) and the key-log checks
//! with what they remember between pulls (the pinned log key and the last
//! checkpoint, also in `meta`).
//!
//! It does not choose the exit code (the binary: 3), render the banner (the
//! desk's web layer) or decide who may acknowledge (the [`crate::desk::Desk`]:
//! supervisors). An alarm names public ids only: key ids, signer ids, log
//! sizes and hashes — never a private key, never a report.

use std::path::Path;

use quietline_crypto::keylog::{self, Checkpoint, LogKey};
use quietline_crypto::keys::PublicKey;
use quietline_crypto::statement::{SignedStatement, SignerSet};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::client::{Client, ClientError, DirectoryEntry};
use crate::home::Home;
use crate::keyring::{KeyRingError, list_signing_keys};
use crate::text::clean_line;
use crate::vault::{Vault, VaultError};

/// The vault `meta` row holding the raised, unacknowledged alarm (JSON).
pub const ALARM_META: &str = "watch.alarm";
/// The audit action of an alarm (the directory's key check keeps its own
/// older action, `key-mismatch`).
pub const AUDIT_ALARM: &str = "key-alarm";
/// The audit action of a supervisor's acknowledgement.
pub const AUDIT_ACK: &str = "key-alarm-ack";
/// The check code of the directory's key check ([`crate::directory::check`]).
pub const CHECK_DIRECTORY_KEY: &str = "directory-key";
/// The check code of the directory's statement check ([`crate::directory::check_statement`]).
pub const CHECK_DIRECTORY_STATEMENT: &str = "directory-statement";
/// The vault `meta` row pinning the key log's verifier key, at first sight.
pub const LOG_KEY_META: &str = "watch.keylog.key";
/// The vault `meta` row keeping the last checkpoint this vault accepted (the
/// signed note, as served).
pub const CHECKPOINT_META: &str = "watch.keylog.checkpoint";
/// The vault `meta` row saying the "key log not served" warning was given.
pub const NOT_SERVED_META: &str = "watch.keylog.not-served";

/// What the platform serves is not exactly the force's own: a key or a
/// statement the force did not sign, a key log whose history changed, or
/// the force's own key missing from it. The binary exits 3 on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "KEY ALARM ({check}): the server at {server} {seen}. Reporters who use this server may be sealing their reports to a key your force did not publish. Stop and tell your security lead; contact the platform operator (ask for `quietline force key list {force}` and `quietline force signer list {force}`), and check your force's signing-key fingerprint out of band (the one your force published on its own website or printed material) against what the platform lists. The alarm is in the audit log; a supervisor acknowledges it on the desk once it is dealt with"
)]
pub struct KeyAlarm {
    /// The server's base URL.
    pub server: String,
    /// The force.
    pub force: String,
    /// The check that failed: a stable code (`directory-statement`,
    /// `log-key`, `log-signature`, `log-shrunk`, `log-inconsistent`,
    /// `log-root`, `log-foreign`, `log-own-missing`, `log-not-served`, …).
    pub check: String,
    /// What was seen, in words (public ids only).
    pub seen: String,
}

impl KeyAlarm {
    /// An alarm of `check` for `force` on `server`: `seen` is what was seen.
    pub fn new(server: &str, force: &str, check: &str, seen: impl Into<String>) -> KeyAlarm {
        KeyAlarm {
            server: server.to_owned(),
            force: force.to_owned(),
            check: check.to_owned(),
            seen: seen.into(),
        }
    }

    /// The audit entry's detail and the banner's words (public values only).
    pub fn audit_detail(&self) -> String {
        clean_line(
            &format!("{}: force {}: {}", self.check, self.force, self.seen),
            600,
        )
    }

    /// The alarm as it stays raised in the vault.
    pub fn active(&self, at: String) -> ActiveAlarm {
        ActiveAlarm {
            at,
            check: self.check.clone(),
            detail: self.audit_detail(),
        }
    }
}

impl From<&crate::directory::KeySubstitution> for KeyAlarm {
    fn from(s: &crate::directory::KeySubstitution) -> Self {
        let seen = match &s.served {
            Some((id, _)) => format!(
                "serves key id {id} in the directory, not this console's current key {}",
                s.expected_id
            ),
            None => format!(
                "does not list the force in the directory (this console's current key is {})",
                s.expected_id
            ),
        };
        KeyAlarm::new(&s.server, &s.force, CHECK_DIRECTORY_KEY, seen)
    }
}

impl From<Box<crate::directory::StatementAlarm>> for Box<KeyAlarm> {
    fn from(a: Box<crate::directory::StatementAlarm>) -> Self {
        Box::new(KeyAlarm::new(
            &a.server,
            &a.force,
            CHECK_DIRECTORY_STATEMENT,
            format!("serves key id {} {} ({})", a.key_id, a.why, a.code),
        ))
    }
}

/// An alarm raised and not yet acknowledged by a supervisor (the desk's
/// banner shows it on every page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveAlarm {
    /// When it was (last) raised, RFC 3339.
    pub at: String,
    /// The check's code.
    pub check: String,
    /// What was seen (public ids only), as in the audit entry.
    pub detail: String,
}

/// The alarm raised in `vault`, if any. A row that does not parse is still
/// an alarm (something wrote it): shown with what it says.
pub async fn active(vault: &Vault) -> Result<Option<ActiveAlarm>, VaultError> {
    Ok(vault.meta(ALARM_META).await?.map(|text| {
        serde_json::from_str(&text).unwrap_or_else(|_| ActiveAlarm {
            at: String::new(),
            check: "unknown".into(),
            detail: clean_line(&text, 600),
        })
    }))
}

/// Raise `alarm` in `vault` and write its audit entry (`action`) as
/// `actor`, unless `quiet_if_same` and the same check with the same detail
/// is already raised (the desk's background loop would otherwise write one
/// entry a minute for one alarm). Returns whether an audit entry was written.
pub async fn sound(
    vault: &Vault,
    actor: &Actor,
    action: &str,
    alarm: &ActiveAlarm,
    quiet_if_same: bool,
) -> Result<bool, VaultError> {
    let before = active(vault).await?;
    let same = before
        .as_ref()
        .is_some_and(|b| b.check == alarm.check && b.detail == alarm.detail);
    let json = serde_json::to_string(alarm).map_err(|e| VaultError::Corrupt(e.to_string()))?;
    vault.set_meta(ALARM_META, Some(&json)).await?;
    if same && quiet_if_same {
        return Ok(false);
    }
    audit::record(vault, actor, action, None, Some(alarm.detail.clone())).await?;
    Ok(true)
}

/// Lower the raised alarm (a supervisor acknowledged it; the caller audits).
pub async fn clear(vault: &Vault) -> Result<(), VaultError> {
    vault.set_meta(ALARM_META, None).await
}

/// The force's signing keys as this home holds them (`<home>/signing/`,
/// public halves read from the files' headers, no passphrase): every one
/// must sign, as every statement this home makes is signed by all of them
/// (`keyring::sign_key_statement`). `None` for a home from before signing
/// keys (its keys went to the platform bare: nothing to check statements
/// against).
///
/// When the home records the force's signer set (`signers.json`, written by
/// `key signers`: keys held by several custodians, k-of-n), that set and
/// its threshold are used instead ([`crate::keyring::read_signer_set`]).
pub fn force_signers(home: &Home) -> Result<Option<SignerSet>, KeyRingError> {
    if let Some(set) = crate::keyring::read_signer_set(home.root())? {
        return Ok(Some(set));
    }
    signers_in(&home.root().join("signing"))
}

fn signers_in(dir: &Path) -> Result<Option<SignerSet>, KeyRingError> {
    let keys: Vec<_> = list_signing_keys(dir)?
        .into_iter()
        .map(|(_, info)| info.public_key)
        .collect();
    if keys.is_empty() {
        return Ok(None);
    }
    let n = keys.len();
    SignerSet::new(keys, n)
        .map(Some)
        .map_err(|error| KeyRingError::Statement {
            path: dir.to_owned(),
            error,
        })
}

/// What the key-log check needs to know about the force, besides the vault
/// and the server.
#[derive(Debug, Clone, Copy)]
pub struct Ours<'a> {
    /// The force id.
    pub force: &'a str,
    /// Its signing keys as this home holds them ([`force_signers`]); `None`
    /// for a home without (only the log's own consistency is checked).
    pub signers: Option<&'a SignerSet>,
    /// The console's current key.
    pub current: &'a PublicKey,
    /// The statements this home signed or imported (`keyring::statements`).
    pub statements: &'a [SignedStatement],
    /// What the directory served for the force (already checked to be one
    /// of its keys by [`crate::directory::check`]).
    pub served: &'a DirectoryEntry,
}

/// Why the key-log check did not pass: an alarm, or it could not ask.
#[derive(Debug)]
pub enum LogRefusal {
    /// The log is not exactly the force's own, or its history changed.
    Alarm(Box<KeyAlarm>),
    /// The server could not be asked, or answered out of shape.
    Client(ClientError),
    /// The vault could not be read or written.
    Vault(VaultError),
}

impl From<ClientError> for LogRefusal {
    fn from(e: ClientError) -> Self {
        LogRefusal::Client(e)
    }
}
impl From<VaultError> for LogRefusal {
    fn from(e: VaultError) -> Self {
        LogRefusal::Vault(e)
    }
}

/// Check the platform's key log (crypto/FORMAT.md#key-log) for `ours`, with
/// what `vault` remembers, fetching the public routes a reporter's page uses:
///
/// 1. the log's verifier key is the one pinned in the vault at first sight
///    (`log-key`);
/// 2. the checkpoint's signed note verifies with it (`log-signature`);
/// 3. it is no smaller than the last checkpoint this vault accepted
///    (`log-shrunk`) and consistent with it by the server's consistency
///    proof (`log-inconsistent`);
/// 4. every entry, fetched, hashes to the checkpoint's root (`log-root`);
/// 5. every entry for this force is a statement its signing keys signed
///    (`log-foreign`);
/// 6. the statement the directory serves is in the log, and, once the force
///    has statements in the log or the directory serves one, so is the
///    statement this home signed for its current key (`log-own-missing`).
///
/// Then the checkpoint is kept as the last accepted. A server without the
/// key log (404) is a warning the first time, an alarm (`log-not-served`)
/// once this vault has accepted a checkpoint. Returns a warning, if any.
pub async fn check_log(
    vault: &Vault,
    client: &Client,
    ours: Ours<'_>,
) -> Result<Option<String>, LogRefusal> {
    let server = client.base();
    let alarm = |check: &str, seen: String| {
        LogRefusal::Alarm(Box::new(KeyAlarm::new(server, ours.force, check, seen)))
    };
    let last_note = vault.meta(CHECKPOINT_META).await?;
    let key = match client.keylog_key().await {
        Ok(k) => k,
        Err(ClientError::Status { status: 404, .. }) => {
            if last_note.is_some() {
                return Err(alarm(
                    "log-not-served",
                    "no longer serves the key log (404), though this vault accepted a checkpoint of it before".into(),
                ));
            }
            if vault.meta(NOT_SERVED_META).await?.is_some() {
                return Ok(None);
            }
            vault.set_meta(NOT_SERVED_META, Some("1")).await?;
            return Ok(Some(format!(
                "the server at {server} does not serve the key log (/api/v1/keylog/…: 404), so this console cannot check the history of the keys it publishes for force {}. Ask the platform operator to upgrade the server (this warning is given once)",
                ours.force
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let pinned = match vault.meta(LOG_KEY_META).await? {
        Some(text) => LogKey::from_vkey(&text)
            .map_err(|e| VaultError::Corrupt(format!("the pinned key log key: {e}")))?,
        None => {
            vault.set_meta(LOG_KEY_META, Some(&key.to_vkey())).await?;
            key.clone()
        }
    };
    if pinned != key {
        return Err(alarm(
            "log-key",
            format!(
                "serves the key log's verifier key {} (key id {:08x}), but this vault pinned {} (key id {:08x}) when it first saw the log",
                clean_line(key.name(), 100),
                key.key_id(),
                clean_line(pinned.name(), 100),
                pinned.key_id()
            ),
        ));
    }
    let note = client.keylog_checkpoint().await?;
    let cp = pinned.open_checkpoint(&note).map_err(|e| {
        alarm(
            "log-signature",
            format!(
                "serves a key log checkpoint that does not verify with the log's pinned key ({})",
                e.code()
            ),
        )
    })?;
    let last: Option<Checkpoint> = match &last_note {
        Some(n) => Some(
            pinned
                .open_checkpoint(n)
                .map_err(|e| VaultError::Corrupt(format!("the kept key log checkpoint: {e}")))?,
        ),
        None => None,
    };
    if let Some(last) = &last {
        if cp.size < last.size {
            return Err(alarm(
                "log-shrunk",
                format!(
                    "serves a key log of {} entries, but this vault saw it at {} entries: the log lost entries",
                    cp.size, last.size
                ),
            ));
        }
        let proof = client.keylog_consistency(last.size, cp.size).await?;
        keylog::verify_consistency(last.size, cp.size, &proof, &last.root, &cp.root).map_err(
            |e| {
                alarm(
                    "log-inconsistent",
                    format!(
                        "serves a key log checkpoint at {} entries that is not consistent with the one this vault saw at {} entries ({}): the log's history was rewritten",
                        cp.size,
                        last.size,
                        e.code()
                    ),
                )
            },
        )?;
    }
    if cp.size > MAX_WATCHED_ENTRIES {
        return Err(LogRefusal::Client(ClientError::BadResponse {
            what: "the key log's checkpoint",
            reason: format!(
                "a log of {} entries, more than this console checks ({MAX_WATCHED_ENTRIES})",
                cp.size
            ),
        }));
    }
    let entries = all_entries(client, cp.size).await?;
    let root = keylog::tree_root(&entries).map_err(|e| {
        alarm(
            "log-root",
            format!(
                "serves key log entries that cannot form a tree ({})",
                e.code()
            ),
        )
    })?;
    if root != cp.root {
        return Err(alarm(
            "log-root",
            format!(
                "serves {} key log entries that do not hash to its checkpoint's root",
                cp.size
            ),
        ));
    }
    let mut logged_for_us = false;
    for (i, entry) in entries.iter().enumerate() {
        let Ok(st) = SignedStatement::parse(entry) else {
            continue;
        };
        if st.statement().force_id != ours.force {
            continue;
        }
        logged_for_us = true;
        if let Some(signers) = ours.signers
            && let Err(e) = st.verify(signers, ours.force)
        {
            let by: Vec<String> = st.signers().map(|id| id.to_hex()).collect();
            return Err(alarm(
                "log-foreign",
                format!(
                    "logs at index {i} a statement for key id {} (sequence {}) signed by {} that the force's signing keys did not sign ({})",
                    st.statement().key_id(),
                    st.statement().sequence,
                    if by.is_empty() {
                        "no one".to_owned()
                    } else {
                        by.join(", ")
                    },
                    e.code()
                ),
            ));
        }
    }
    let logged = |bytes: &[u8], at: Option<u64>| match at {
        Some(i) => usize::try_from(i)
            .ok()
            .and_then(|i| entries.get(i))
            .is_some_and(|e| e.as_slice() == bytes),
        None => entries.iter().any(|e| e.as_slice() == bytes),
    };
    if let Some(text) = &ours.served.statement {
        let served = SignedStatement::from_base64url(text).map_err(|e| {
            alarm(
                "log-own-missing",
                format!(
                    "serves a directory statement that does not parse ({})",
                    e.code()
                ),
            )
        })?;
        if !logged(served.as_bytes(), ours.served.log_index) {
            return Err(alarm(
                "log-own-missing",
                format!(
                    "serves the statement for key id {} in the directory but not in the key log{}",
                    served.statement().key_id(),
                    match ours.served.log_index {
                        Some(i) => format!(" at the index it names ({i})"),
                        None => String::new(),
                    }
                ),
            ));
        }
    }
    let own = ours
        .statements
        .iter()
        .find(|s| &s.statement().public_key == ours.current);
    let serves_current =
        PublicKey::from_base64url(&ours.served.public_key).is_ok_and(|pk| &pk == ours.current);
    if let Some(own) = own
        && serves_current
        && (logged_for_us || ours.served.statement.is_some())
        && !entries.iter().any(|e| {
            // The same statement, whatever its signatures: with k-of-n
            // signing a custodian's kept copy may carry fewer signatures
            // than the one co-signed and logged (every logged signature was
            // checked against the set above).
            SignedStatement::parse(e).is_ok_and(|l| l.statement() == own.statement())
        })
    {
        return Err(alarm(
            "log-own-missing",
            format!(
                "serves the force's current key {} but its key log lacks the force's statement for it (sequence {})",
                ours.current.key_id(),
                own.statement().sequence
            ),
        ));
    }
    // Kept as the last accepted, unless another desk sharing the vault kept
    // a larger one meanwhile (the kept checkpoint never goes back).
    let newer_kept = match vault.meta(CHECKPOINT_META).await? {
        Some(n) => pinned.open_checkpoint(&n).is_ok_and(|c| c.size > cp.size),
        None => false,
    };
    if !newer_kept {
        vault.set_meta(CHECKPOINT_META, Some(&note)).await?;
    }
    Ok(None)
}

/// The largest key log the watch fetches whole: a statement per key per
/// force (a few dozen forces, a key a year) is far below; a log claiming
/// more is refused rather than fetched without end.
pub const MAX_WATCHED_ENTRIES: u64 = 1 << 20;

/// Every entry of a log of `size`, paged as the server allows.
async fn all_entries(client: &Client, size: u64) -> Result<Vec<Vec<u8>>, LogRefusal> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    while (out.len() as u64) < size {
        let got = client.keylog_entries(out.len() as u64, size).await?;
        out.extend(got);
    }
    Ok(out)
}

/// Today as a UTC day number (crypto/FORMAT.md#statement-encoding), for
/// "is the statement valid today".
pub fn today_number() -> u32 {
    let days = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .div_euclid(86_400);
    u32::try_from(days).unwrap_or(0)
}

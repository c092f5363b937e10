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

use quietline_crypto::statement::SignerSet;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
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
pub fn force_signers(home: &Home) -> Result<Option<SignerSet>, KeyRingError> {
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

/// Today as a UTC day number (crypto/FORMAT.md#statement-encoding), for
/// "is the statement valid today".
pub fn today_number() -> u32 {
    let days = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .div_euclid(86_400);
    u32::try_from(days).unwrap_or(0)
}

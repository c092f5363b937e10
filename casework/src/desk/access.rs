//! Signing in and out of the desk, and the custodian's lock: the use cases
//! the desk's web layer calls (it calls nothing else about accounts or
//! sessions). The rules are [`crate::accounts`] (passwords, TOTP,
//! throttling) and [`crate::session`] (tokens, validity); this file puts them
//! in order, against the vault and the clock, and writes the audit entries.
//!
//! Signing in takes steps. The password step ([`Desk::sign_in_password`])
//! answers what comes next: the code (TOTP), or — at the first sign-in and
//! after `account reset` — a new password, then enrolment (QR code, confirm
//! a code). Between steps the desk keeps a short-lived *pending* sign-in in
//! the vault (five minutes, keyed by the SHA-256 of a random token the
//! browser holds; [`crate::vault::PendingRow`]), so a half-done sign-in is
//! never a session, each step may reach any desk sharing the vault, and the
//! TOTP secret being enrolled is kept sealed to the force's key (like an
//! account's) and written to the account only once a code confirms it.
//!
//! Every success, failure, lock, enrolment, password change and sign-out
//! writes an audit entry naming the account (never a password or a code). A
//! name that is not an account is recorded as "unknown account", without
//! the name typed (it may be a password typed in the wrong box).
//!
//! It does not speak HTTP, set cookies or render pages.

use std::collections::HashMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

use super::{Desk, DeskError, Handler, Role};
use crate::accounts::{self, AccountError};
use crate::audit::{self, Actor};
use crate::session::{self, Facts};
use crate::vault::{AccountRow, PendingRow, SessionRow, VaultError};

/// How long a pending sign-in lasts, seconds.
pub const PENDING_SECS: i64 = 5 * 60;
/// Wrong codes allowed while enrolling before the sign-in starts over.
const ENROL_TRIES: u32 = 5;
/// Most unknown names remembered (memory bound).
const MEMORY_CAP: usize = 10_000;

/// Why a sign-in step or a session was refused. The messages are safe to show.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Unknown account, disabled account or wrong password: one answer for all.
    #[error("The account name or password is not right")]
    WrongPassword,
    /// The code did not match (or was used already).
    #[error(
        "The code is not right. Enter the 6-digit code your authenticator app shows now (each code works once)"
    )]
    WrongCode,
    /// Too many failures: locked until then (unix seconds).
    #[error(
        "Too many failed sign-ins for this account. Try again after {} UTC, or ask a supervisor",
        hh_mm(*until)
    )]
    Throttled {
        /// Locked until, unix seconds.
        until: i64,
    },
    /// The pending sign-in is unknown or older than five minutes.
    #[error("Your sign-in took too long or was already used. Sign in again")]
    PendingExpired,
    /// No valid session (missing, idle, expired, account reset or disabled).
    #[error("You are not signed in, or your session ended. Sign in again")]
    NoSession,
    /// The two new passwords differ.
    #[error("The two passwords are not the same")]
    PasswordsDiffer,
    /// The new password is the one it replaces.
    #[error("Choose a password other than the one you signed in with")]
    SamePassword,
    /// The current password given to change it is wrong.
    #[error("Your current password is not right")]
    WrongCurrentPassword,
    /// An account rule refused (name, new password's length…).
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The desk refused (locked, forbidden) or the vault failed.
    #[error(transparent)]
    Desk(#[from] DeskError),
}

impl From<VaultError> for AccessError {
    fn from(e: VaultError) -> Self {
        AccessError::Desk(DeskError::Vault(e))
    }
}

fn hh_mm(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
        .unwrap_or_else(|_| "a while".to_owned())
}

/// What the sign-in needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The 6-digit code from the authenticator app.
    Code,
    /// A new password (first sign-in, or after `account reset`).
    NewPassword,
    /// Enrol the authenticator app (QR code) and confirm a code.
    Enrol,
}

/// A pending sign-in's token (the browser keeps it in a cookie).
pub struct PendingToken(pub Zeroizing<String>);

impl std::fmt::Debug for PendingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingToken(<redacted>)")
    }
}

/// A valid session: who, and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    /// Who is signed in.
    pub handler: Handler,
    /// The session's CSRF token (hex).
    pub csrf: String,
}

/// A new session: the cookie's token (a secret) and the session.
pub struct SignedIn {
    /// The session token: the cookie's value.
    pub token: Zeroizing<String>,
    /// The session.
    pub session: ActiveSession,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("token", &"<redacted>")
            .field("session", &self.session)
            .finish()
    }
}

impl Next {
    /// The step's name in the vault.
    fn as_str(self) -> &'static str {
        match self {
            Next::Code => "code",
            Next::NewPassword => "new-password",
            Next::Enrol => "enrol",
        }
    }
    fn from_name(s: &str) -> Option<Next> {
        match s {
            "code" => Some(Next::Code),
            "new-password" => Some(Next::NewPassword),
            "enrol" => Some(Next::Enrol),
            _ => None,
        }
    }
}

/// The desk's memory for signing in (throttling of names that are not
/// accounts, so they answer as known ones do; pending sign-ins are in the
/// vault).
#[derive(Default)]
pub(crate) struct AccessState {
    unknown: Mutex<HashMap<String, (i64, Option<i64>)>>,
    /// One code check at a time: two requests with the same code cannot both
    /// pass before the step is recorded.
    code_check: tokio::sync::Mutex<()>,
}

/// An account as the sign-in sees it (the vault's row).
#[derive(Clone)]
pub(crate) struct Acct {
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub totp_sealed: Option<Vec<u8>>,
    pub disabled: bool,
    pub must_enrol: bool,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub generation: i64,
}

fn actor(account: Option<&str>) -> Actor {
    Actor::current(account.map(str::to_owned))
}

impl Desk {
    fn now(&self) -> i64 {
        self.clock().now_secs() as i64
    }

    async fn audit(
        &self,
        account: Option<&str>,
        action: &str,
        detail: Option<String>,
    ) -> Result<(), AccessError> {
        audit::record(self.vault(), &actor(account), action, None, detail).await?;
        Ok(())
    }

    /// Step 1: the account name and password. Answers what comes next and a
    /// token for the pending sign-in.
    pub async fn sign_in_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<(PendingToken, Next), AccessError> {
        let now = self.now();
        let name = name.trim().to_lowercase();
        let acct = match accounts::check_name(&name) {
            Ok(()) => load_account(self, &name).await?,
            Err(_) => None,
        };
        let Some(mut acct) = acct.filter(|a| !a.disabled) else {
            return Err(self.unknown_failure(&name, password, now).await?);
        };
        if accounts::is_locked(acct.locked_until, now) {
            accounts::verify_dummy(password);
            self.audit(
                Some(&acct.name),
                "sign-in-refused",
                Some("account locked after failed sign-ins".into()),
            )
            .await?;
            return Err(AccessError::Throttled {
                until: acct.locked_until.unwrap_or(now),
            });
        }
        if !accounts::verify_password(password, &acct.password_hash) {
            return Err(self.failure(&mut acct, "wrong password", now).await?);
        }
        let next = if acct.must_enrol {
            Next::NewPassword
        } else if acct.totp_sealed.is_none() {
            Next::Enrol
        } else {
            Next::Code
        };
        let token = session::new_token();
        // Old pending sign-ins go first (they are refused anyway).
        self.vault().purge_pending(now - PENDING_SECS).await?;
        self.vault()
            .insert_pending(&PendingRow {
                id_hash: session::id_hash(&token),
                account: acct.name.clone(),
                next: next.as_str().to_owned(),
                created: now,
                new_hash: None,
                secret_sealed: None,
                tries: 0,
            })
            .await?;
        Ok((PendingToken(token), next))
    }

    /// The pending sign-in of `token`, if it is younger than five minutes
    /// (an older one is removed).
    async fn load_pending(&self, token: &str) -> Result<PendingRow, AccessError> {
        let now = self.now();
        let id = session::id_hash(token);
        match self.vault().pending(&id).await? {
            Some(p) if now - p.created < PENDING_SECS && Next::from_name(&p.next).is_some() => {
                Ok(p)
            }
            Some(_) => {
                self.vault().delete_pending(&id).await?;
                Err(AccessError::PendingExpired)
            }
            None => Err(AccessError::PendingExpired),
        }
    }

    async fn end_pending(&self, token: &str) -> Result<(), AccessError> {
        self.vault()
            .delete_pending(&session::id_hash(token))
            .await?;
        Ok(())
    }

    /// What a pending sign-in needs next, and for which account.
    pub async fn sign_in_next(&self, pending: &str) -> Result<(String, Next), AccessError> {
        let p = self.load_pending(pending).await?;
        let next = Next::from_name(&p.next).ok_or(AccessError::PendingExpired)?;
        Ok((p.account, next))
    }

    async fn take_stage(&self, pending: &str, want: Next) -> Result<PendingRow, AccessError> {
        let p = self.load_pending(pending).await?;
        if Next::from_name(&p.next) != Some(want) {
            return Err(AccessError::PendingExpired);
        }
        Ok(p)
    }

    /// Step 2 (enrolled accounts): the code. A new session on success.
    pub async fn sign_in_code(&self, pending: &str, code: &str) -> Result<SignedIn, AccessError> {
        let name = self.take_stage(pending, Next::Code).await?.account;
        let ring = self.ring()?;
        let _one_at_a_time = self.access().code_check.lock().await;
        let now = self.now();
        let Some(mut acct) = load_account(self, &name).await?.filter(|a| !a.disabled) else {
            self.end_pending(pending).await?;
            return Err(AccessError::PendingExpired);
        };
        if accounts::is_locked(acct.locked_until, now) {
            self.end_pending(pending).await?;
            return Err(AccessError::Throttled {
                until: acct.locked_until.unwrap_or(now),
            });
        }
        let sealed = acct
            .totp_sealed
            .clone()
            .ok_or(AccessError::PendingExpired)?;
        let opened = accounts::open_totp(&ring, &acct.name, &sealed)?;
        let Some(step) = accounts::check_totp(&opened.secret, code, now as u64, opened.last_step)
        else {
            let e = self.failure(&mut acct, "wrong code", now).await?;
            if matches!(e, AccessError::Throttled { .. }) {
                self.end_pending(pending).await?;
                return Err(e);
            }
            return Err(AccessError::WrongCode);
        };
        acct.totp_sealed = Some(accounts::seal_totp(
            ring.force_id(),
            &ring.current_public_key(),
            &acct.name,
            &opened.secret,
            Some(step),
        )?);
        acct.failed_logins = 0;
        acct.locked_until = None;
        save_account(self, &acct).await?;
        self.end_pending(pending).await?;
        let signed = self.new_session(&acct).await?;
        self.audit(
            Some(&acct.name),
            "sign-in",
            Some("password and code".into()),
        )
        .await?;
        Ok(signed)
    }

    /// First sign-in, step 2: the new password (twice). It is written with
    /// the confirmed enrolment, so the one-time password keeps working until
    /// the whole first sign-in is done.
    pub async fn set_first_password(
        &self,
        pending: &str,
        new: &str,
        confirm: &str,
    ) -> Result<Next, AccessError> {
        let mut p = self.take_stage(pending, Next::NewPassword).await?;
        let name = p.account.clone();
        if new != confirm {
            return Err(AccessError::PasswordsDiffer);
        }
        accounts::check_new_password(&name, new)?;
        let acct = load_account(self, &name)
            .await?
            .filter(|a| !a.disabled)
            .ok_or(AccessError::PendingExpired)?;
        if accounts::verify_password(new, &acct.password_hash) {
            return Err(AccessError::SamePassword);
        }
        p.new_hash = Some(accounts::hash_password(new)?);
        p.next = Next::Enrol.as_str().to_owned();
        if !self.vault().update_pending(&p).await? {
            return Err(AccessError::PendingExpired);
        }
        Ok(Next::Enrol)
    }

    /// First sign-in, step 3: the secret to enrol (the same one until it is
    /// confirmed or the sign-in expires), as a QR code and spelled out.
    pub async fn enrolment(&self, pending: &str) -> Result<accounts::EnrolmentCode, AccessError> {
        let mut p = self.take_stage(pending, Next::Enrol).await?;
        let ring = self.ring()?;
        if p.secret_sealed.is_none() {
            // Sealed to the force's key like an account's secret: the vault
            // never holds it readable, even for the minutes of a sign-in.
            let secret = accounts::new_totp_secret();
            p.secret_sealed = Some(accounts::seal_totp(
                ring.force_id(),
                &ring.current_public_key(),
                &p.account,
                &secret,
                None,
            )?);
            self.vault().update_pending(&p).await?;
            // Two requests at once may both have made one: show the one kept.
            p = self.take_stage(pending, Next::Enrol).await?;
        }
        let sealed = p
            .secret_sealed
            .as_deref()
            .ok_or(AccessError::PendingExpired)?;
        let opened = accounts::open_totp(&ring, &p.account, sealed)?;
        Ok(accounts::enrolment_code(
            &opened.secret,
            &p.account,
            self.force_id(),
        )?)
    }

    /// First sign-in, step 4: a code from the newly enrolled app. Writes the
    /// sealed secret (and the new password, if one was chosen) and starts a
    /// session.
    pub async fn confirm_enrolment(
        &self,
        pending: &str,
        code: &str,
    ) -> Result<SignedIn, AccessError> {
        let mut p = self.take_stage(pending, Next::Enrol).await?;
        let name = p.account.clone();
        let ring = self.ring()?;
        let now = self.now();
        let Some(sealed) = p.secret_sealed.clone() else {
            return Err(AccessError::PendingExpired);
        };
        let opened = accounts::open_totp(&ring, &name, &sealed)?;
        let (secret, new_hash) = match accounts::check_totp(&opened.secret, code, now as u64, None)
        {
            Some(step) => (
                Zeroizing::new((opened.secret.to_vec(), step)),
                p.new_hash.clone(),
            ),
            None => {
                p.tries += 1;
                if p.tries >= i64::from(ENROL_TRIES) {
                    self.end_pending(pending).await?;
                    return Err(AccessError::PendingExpired);
                }
                self.vault().update_pending(&p).await?;
                return Err(AccessError::WrongCode);
            }
        };
        let mut acct = load_account(self, &name)
            .await?
            .filter(|a| !a.disabled)
            .ok_or(AccessError::PendingExpired)?;
        if acct.must_enrol && new_hash.is_none() {
            return Err(AccessError::PendingExpired);
        }
        acct.totp_sealed = Some(accounts::seal_totp(
            ring.force_id(),
            &ring.current_public_key(),
            &acct.name,
            &secret.0,
            Some(secret.1),
        )?);
        if let Some(h) = new_hash {
            acct.password_hash = h;
        }
        acct.must_enrol = false;
        acct.failed_logins = 0;
        acct.locked_until = None;
        save_account(self, &acct).await?;
        self.end_pending(pending).await?;
        self.audit(
            Some(&acct.name),
            "enrol",
            Some("new password and authenticator app".into()),
        )
        .await?;
        let signed = self.new_session(&acct).await?;
        self.audit(Some(&acct.name), "sign-in", Some("first sign-in".into()))
            .await?;
        Ok(signed)
    }

    /// The session of a cookie's token, if valid now (checked on EVERY
    /// request: see [`crate::session`]); its last use is moved to now.
    pub async fn session(&self, token: &str) -> Result<ActiveSession, AccessError> {
        if !session::well_formed(token) {
            return Err(AccessError::NoSession);
        }
        let id = session::id_hash(token);
        let Some(s) = load_session(self, &id).await? else {
            return Err(AccessError::NoSession);
        };
        let acct = load_account(self, &s.account).await?;
        let now = self.now();
        let facts = Facts {
            created: s.created,
            last_seen: s.last_seen,
            session_generation: s.generation,
            account_generation: acct.as_ref().map(|a| a.generation),
            disabled: acct.as_ref().is_none_or(|a| a.disabled),
        };
        let settings = self.settings();
        if let Err(why) = session::check(
            facts,
            now,
            settings.idle_timeout.as_secs() as i64,
            settings.absolute_timeout.as_secs() as i64,
        ) {
            remove_session(self, &id).await?;
            self.audit(
                Some(&s.account),
                "session-end",
                Some(
                    match why {
                        session::Ended::Idle => "idle timeout",
                        session::Ended::Expired => "absolute timeout",
                        session::Ended::AccountGone => "account disabled or removed",
                        session::Ended::Superseded => "account reset or password changed",
                    }
                    .into(),
                ),
            )
            .await?;
            return Err(AccessError::NoSession);
        }
        let Some(acct) = acct else {
            return Err(AccessError::NoSession);
        };
        // Touching costs a write: once every few seconds is enough for an
        // idle timeout counted in minutes.
        if now - s.last_seen >= 5 {
            touch(self, &id, now).await?;
        }
        Ok(ActiveSession {
            handler: Handler {
                account: acct.name,
                role: acct.role,
            },
            csrf: s.csrf,
        })
    }

    /// End the session of this token (if any).
    pub async fn sign_out(&self, token: &str) -> Result<(), AccessError> {
        if !session::well_formed(token) {
            return Ok(());
        }
        let id = session::id_hash(token);
        if let Some(s) = load_session(self, &id).await? {
            remove_session(self, &id).await?;
            self.audit(Some(&s.account), "sign-out", None).await?;
        }
        Ok(())
    }

    /// Change the signed-in account's password. Every session of the
    /// account ends (the generation moves on); the new session returned
    /// replaces the caller's.
    pub async fn change_password(
        &self,
        handler: &Handler,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<SignedIn, AccessError> {
        let now = self.now();
        let mut acct = load_account(self, &handler.account)
            .await?
            .filter(|a| !a.disabled)
            .ok_or(AccessError::NoSession)?;
        if !accounts::verify_password(current, &acct.password_hash) {
            return match self
                .failure(&mut acct, "wrong current password", now)
                .await?
            {
                e @ AccessError::Throttled { .. } => Err(e),
                _ => Err(AccessError::WrongCurrentPassword),
            };
        }
        if new != confirm {
            return Err(AccessError::PasswordsDiffer);
        }
        accounts::check_new_password(&acct.name, new)?;
        if new == current {
            return Err(AccessError::SamePassword);
        }
        acct.password_hash = accounts::hash_password(new)?;
        acct.generation += 1;
        acct.failed_logins = 0;
        save_account(self, &acct).await?;
        remove_sessions_of(self, &acct.name).await?;
        self.audit(Some(&acct.name), "password-change", None)
            .await?;
        self.new_session(&acct).await
    }

    /// Remove the sessions past their idle or absolute timeout (they are
    /// refused when used anyway; this keeps the table small).
    pub async fn purge_sessions(&self) -> Result<u64, AccessError> {
        let now = self.now();
        let s = self.settings();
        Ok(self
            .vault()
            .purge_sessions(
                now - s.absolute_timeout.as_secs() as i64,
                now - s.idle_timeout.as_secs() as i64,
            )
            .await?)
    }

    /// Lock the desk (custodians only): the keys leave memory; every page
    /// then says the desk is locked until it is restarted.
    pub async fn lock_desk(&self, handler: &Handler) -> Result<(), DeskError> {
        if handler.role != Role::Custodian {
            return Err(DeskError::Forbidden {
                role: handler.role,
                what: "lock the desk",
            });
        }
        audit::record(
            self.vault(),
            &actor(Some(&handler.account)),
            "desk-lock",
            None,
            None,
        )
        .await?;
        self.lock();
        Ok(())
    }

    async fn new_session(&self, acct: &Acct) -> Result<SignedIn, AccessError> {
        let token = session::new_token();
        let csrf = session::new_token();
        let now = self.now();
        insert_session(
            self,
            SessionFacts {
                id_hash: session::id_hash(&token),
                account: acct.name.clone(),
                generation: acct.generation,
                csrf: csrf.to_string(),
                created: now,
                last_seen: now,
            },
        )
        .await?;
        Ok(SignedIn {
            token,
            session: ActiveSession {
                handler: Handler {
                    account: acct.name.clone(),
                    role: acct.role,
                },
                csrf: csrf.to_string(),
            },
        })
    }

    /// A wrong password or code for a known account: count it, maybe lock,
    /// audit; the error to answer.
    async fn failure(
        &self,
        acct: &mut Acct,
        what: &str,
        now: i64,
    ) -> Result<AccessError, AccessError> {
        let (failed, lock) = accounts::after_failure(acct.failed_logins, now);
        acct.failed_logins = failed;
        if lock.is_some() {
            acct.locked_until = lock;
        }
        save_account(self, acct).await?;
        self.audit(Some(&acct.name), "sign-in-failed", Some(what.to_owned()))
            .await?;
        Ok(match lock {
            Some(until) => {
                self.audit(
                    Some(&acct.name),
                    "account-locked",
                    Some(format!("{} s after {failed} failed sign-ins", until - now)),
                )
                .await?;
                AccessError::Throttled { until }
            }
            None => AccessError::WrongPassword,
        })
    }

    /// A name that is no account (or a disabled one): the same time and the
    /// same answers as a known account, throttled in memory.
    async fn unknown_failure(
        &self,
        name: &str,
        password: &str,
        now: i64,
    ) -> Result<AccessError, AccessError> {
        accounts::verify_dummy(password);
        let answer = {
            let mut map = self
                .access()
                .unknown
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if map.len() >= MEMORY_CAP {
                map.retain(|_, (_, until)| accounts::is_locked(*until, now));
                if map.len() >= MEMORY_CAP {
                    map.clear();
                }
            }
            let entry = map.entry(name.to_owned()).or_insert((0, None));
            if accounts::is_locked(entry.1, now) {
                AccessError::Throttled {
                    until: entry.1.unwrap_or(now),
                }
            } else {
                let (failed, lock) = accounts::after_failure(entry.0, now);
                *entry = (failed, lock.or(entry.1));
                match lock {
                    Some(until) => AccessError::Throttled { until },
                    None => AccessError::WrongPassword,
                }
            }
        };
        self.audit(
            None,
            "sign-in-failed",
            Some("unknown or disabled account".into()),
        )
        .await?;
        Ok(answer)
    }
}

/// A session row as the sign-in writes it.
pub(crate) struct SessionFacts {
    pub id_hash: [u8; 32],
    pub account: String,
    pub generation: i64,
    pub csrf: String,
    pub created: i64,
    pub last_seen: i64,
}

// ---- The vault's accounts and sessions tables. ----

fn to_acct(row: AccountRow) -> Option<Acct> {
    // An account whose role this version does not know cannot sign in.
    let role = Role::from_name(&row.role)?;
    Some(Acct {
        name: row.name,
        role,
        password_hash: row.password_hash,
        totp_sealed: row.totp_sealed,
        disabled: row.disabled,
        must_enrol: row.must_enrol,
        failed_logins: row.failed_logins,
        locked_until: row.locked_until,
        generation: row.generation,
    })
}

async fn load_account(desk: &Desk, name: &str) -> Result<Option<Acct>, AccessError> {
    Ok(desk.vault().account(name).await?.and_then(to_acct))
}

async fn save_account(desk: &Desk, acct: &Acct) -> Result<(), AccessError> {
    // Read-modify-write of the fields the sign-in owns; `created` stays.
    let Some(mut row) = desk.vault().account(&acct.name).await? else {
        return Err(AccessError::NoSession);
    };
    row.password_hash = acct.password_hash.clone();
    row.totp_sealed = acct.totp_sealed.clone();
    row.must_enrol = acct.must_enrol;
    row.failed_logins = acct.failed_logins;
    row.locked_until = acct.locked_until;
    row.generation = acct.generation;
    desk.vault().update_account(&row).await?;
    Ok(())
}

async fn load_session(desk: &Desk, id: &[u8; 32]) -> Result<Option<SessionFacts>, AccessError> {
    Ok(desk.vault().session(id).await?.map(|r| SessionFacts {
        id_hash: r.id_hash,
        account: r.account,
        generation: r.generation,
        csrf: r.csrf,
        created: r.created,
        last_seen: r.last_seen,
    }))
}

async fn insert_session(desk: &Desk, s: SessionFacts) -> Result<(), AccessError> {
    desk.vault()
        .insert_session(&SessionRow {
            id_hash: s.id_hash,
            account: s.account,
            generation: s.generation,
            csrf: s.csrf,
            created: s.created,
            last_seen: s.last_seen,
        })
        .await?;
    Ok(())
}

async fn touch(desk: &Desk, id: &[u8; 32], now: i64) -> Result<(), AccessError> {
    desk.vault().touch_session(id, now).await?;
    Ok(())
}

async fn remove_session(desk: &Desk, id: &[u8; 32]) -> Result<(), AccessError> {
    desk.vault().delete_session(id).await?;
    Ok(())
}

async fn remove_sessions_of(desk: &Desk, account: &str) -> Result<(), AccessError> {
    desk.vault().delete_sessions_of(account).await?;
    Ok(())
}

// ---- Custody: the files the desk refuses to start with. ----

/// A private file the desk will not start with: other users can read it.
#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    /// Group or others may read (or write) the file.
    #[error(
        "the desk will not start: {path} can be read by other users (mode {mode:04o}); run `chmod 600 {path}` (and check who may have read it)"
    )]
    Readable {
        /// The file.
        path: std::path::PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A file that should be there could not be examined.
    #[error("the desk will not start: cannot examine {path}: {error}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
}

/// Check the desk's private files before it starts: every key file in
/// `keys/`, `config.toml`, the passphrase file (if one is used) and the
/// vault file with its journal files (if the vault is a SQLite file) must be
/// readable by their owner only. Missing optional files are fine (the vault
/// may be PostgreSQL; the config may not exist yet).
pub fn check_private_files(
    home: &crate::home::Home,
    passphrase_file: Option<&std::path::Path>,
    vault_file: Option<&std::path::Path>,
) -> Result<(), CustodyError> {
    use std::os::unix::fs::PermissionsExt;
    let mut files: Vec<(std::path::PathBuf, bool)> = Vec::new();
    let keys = home.keys_dir();
    match std::fs::read_dir(&keys) {
        Ok(entries) => {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().and_then(|x| x.to_str()) == Some("key") {
                    files.push((p, true));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(CustodyError::Io { path: keys, error }),
    }
    files.sort();
    files.push((home.config_path(), false));
    if let Some(p) = passphrase_file {
        files.push((p.to_owned(), true));
    }
    if let Some(v) = vault_file {
        files.push((v.to_owned(), false));
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = v.as_os_str().to_owned();
            name.push(suffix);
            files.push((name.into(), false));
        }
    }
    for (path, required) in files {
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => continue,
            Err(error) => return Err(CustodyError::Io { path, error }),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CustodyError::Readable { path, mode });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Each step of a first sign-in, then of an enrolled account's, on
    /// either of two desks sharing the vault (no sticky routing); the vault
    /// holds neither the token nor the secret being enrolled readable.
    #[tokio::test]
    async fn a_sign_in_s_steps_may_reach_another_desk_on_the_vault() {
        use super::super::testing::TestHome;
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let d1 = t.desk_on(vault.clone()).await;
        let d2 = t.desk_on(vault.clone()).await;
        let actor = Actor::current(Some("test".into()));
        let pw = accounts::add(&vault, &actor, "ann", Role::Handler, "2026-12-06")
            .await
            .unwrap();
        let (pending, next) = d1.sign_in_password("ann", &pw).await.unwrap();
        assert_eq!(next, Next::NewPassword);
        assert_eq!(
            d2.sign_in_next(&pending.0).await.unwrap(),
            ("ann".to_owned(), Next::NewPassword)
        );
        let new = "a long enough new password";
        assert_eq!(
            d2.set_first_password(&pending.0, new, new).await.unwrap(),
            Next::Enrol
        );
        let shown1 = d1.enrolment(&pending.0).await.unwrap();
        let shown2 = d2.enrolment(&pending.0).await.unwrap();
        assert_eq!(
            *shown1.secret_spelled, *shown2.secret_spelled,
            "one secret, whichever desk shows it"
        );
        let secret = accounts::secret_from_base32(&shown1.secret_spelled.replace(' ', "")).unwrap();
        let row = vault
            .pending(&session::id_hash(&pending.0))
            .await
            .unwrap()
            .unwrap();
        let sealed = row.secret_sealed.clone().unwrap();
        assert!(!sealed.windows(secret.len()).any(|w| w == &secret[..]));
        let hex_secret = hex::encode(&secret[..]);
        assert!(
            !sealed
                .windows(hex_secret.len())
                .any(|w| w == hex_secret.as_bytes())
        );
        assert!(row.new_hash.as_deref().unwrap().starts_with("$argon2id$"));
        assert!(
            vault
                .pending(&session::id_hash("not the token"))
                .await
                .unwrap()
                .is_none()
        );
        // A wrong code counts, on whichever desk.
        let wrong = if accounts::totp_code(&secret, d1.now() as u64) == "000000" {
            "111111"
        } else {
            "000000"
        };
        assert!(matches!(
            d1.confirm_enrolment(&pending.0, wrong).await,
            Err(AccessError::WrongCode)
        ));
        let code = accounts::totp_code(&secret, d2.now() as u64);
        let signed = d2.confirm_enrolment(&pending.0, &code).await.unwrap();
        assert_eq!(signed.session.handler.account, "ann");
        // Used: gone, for both desks.
        assert!(matches!(
            d1.sign_in_next(&pending.0).await,
            Err(AccessError::PendingExpired)
        ));
        // Enrolled: the code step on the other desk.
        let (p2, next) = d2.sign_in_password("ann", new).await.unwrap();
        assert_eq!(next, Next::Code);
        d1.clock().advance(30);
        let code = accounts::totp_code(&secret, d1.now() as u64);
        assert_eq!(
            d1.sign_in_code(&p2.0, &code)
                .await
                .unwrap()
                .session
                .handler
                .account,
            "ann"
        );
        // Five minutes on, a pending sign-in is refused by every desk.
        let (p3, _) = d1.sign_in_password("ann", new).await.unwrap();
        d2.clock().advance(PENDING_SECS as u64 + 60);
        assert!(matches!(
            d2.sign_in_next(&p3.0).await,
            Err(AccessError::PendingExpired)
        ));
        assert!(
            vault
                .pending(&session::id_hash(&p3.0))
                .await
                .unwrap()
                .is_none(),
            "removed"
        );
    }

    #[test]
    fn custody_refuses_group_or_other_readable_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let home = crate::home::Home::locate(Some(dir.path().to_owned())).unwrap();
        home.create().unwrap();
        let key = home.keys_dir().join("k.key");
        let config = home.config_path();
        let pass = dir.path().join("pass");
        let vault = dir.path().join("vault.sqlite");
        for f in [&key, &config, &pass, &vault] {
            std::fs::write(f, "x").unwrap();
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        check_private_files(&home, Some(&pass), Some(&vault)).unwrap();
        for f in [&key, &config, &pass, &vault] {
            for mode in [0o640, 0o604, 0o620] {
                std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode)).unwrap();
                let e = check_private_files(&home, Some(&pass), Some(&vault)).unwrap_err();
                let msg = e.to_string();
                assert!(msg.contains(&f.display().to_string()), "{msg}");
                assert!(msg.contains(&format!("chmod 600 {}", f.display())), "{msg}");
            }
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        // A passphrase file that is missing is an error; a missing vault file is not (PostgreSQL).
        std::fs::remove_file(&vault).unwrap();
        check_private_files(&home, None, Some(&vault)).unwrap();
        assert!(check_private_files(&home, Some(&dir.path().join("nope")), None).is_err());
    }
}

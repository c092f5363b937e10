//! The desk's accounts: the rules about passwords, second factors and login
//! throttling, and the account commands the CLI runs (`account add`, `list`,
//! `disable`, `reset`).
//!
//! - **Passwords** are hashed with Argon2id (the `argon2` crate's default
//!   parameters: 19 MiB, 2 passes, 1 lane) and stored as PHC strings. `add`
//!   and `reset` generate a random one-time password that must be changed at
//!   the first sign-in (the account is `must_enrol` until then).
//! - **The second factor** is TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second
//!   steps, one step either side accepted) on a 20-byte random secret,
//!   enrolled at the first sign-in from an `otpauth://` URI shown as a QR code
//!   (SVG, drawn by the `qrcode` crate) and spelled out. The secret is stored
//!   SEALED to the force's current public key, like the handler's records
//!   ([`crate::records`]), together with the last step used, so a code cannot
//!   be used twice.
//! - **Throttling**: after [`FREE_FAILURES`] failures in a row an account is
//!   locked for a minute, doubling with each further failure up to an hour.
//!   Unknown account names get the same answer, and take the same time (a
//!   password is checked against a dummy hash), as known ones.
//!
//! It owns these rules and the sealed TOTP record's format. It does not keep
//! sessions ([`crate::session`]), speak HTTP or decide who may do what in a
//! case. The sign-in steps themselves are `Desk` methods
//! (`crate::desk::access`), because they need the unlocked key ring.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use quietline_crypto::keys::PublicKey;
use quietline_crypto::seal::seal_report;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use totp_rs::{Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::audit::{self, Actor};
use crate::desk::Role;
use crate::keyring::KeyRing;
use crate::vault::{AccountRow, Vault, VaultError};

/// Failures in a row allowed before an account is locked.
pub const FREE_FAILURES: i64 = 5;
/// The first lock, in seconds; each further failure doubles it.
pub const FIRST_LOCK_SECS: i64 = 60;
/// The longest lock, in seconds.
pub const MAX_LOCK_SECS: i64 = 60 * 60;
/// Shortest password accepted (NCSC: length over composition rules).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (Argon2 hashes anything, but a megabyte of
/// password is a denial of service, not a password).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// TOTP step, seconds.
pub const TOTP_STEP: u64 = 30;
/// TOTP digits.
pub const TOTP_DIGITS: usize = 6;
/// TOTP secret length, bytes (RFC 4226 recommends 160 bits).
pub const TOTP_SECRET_BYTES: usize = 20;
/// The issuer in the `otpauth://` URI (what the authenticator app shows).
pub const TOTP_ISSUER: &str = "Quietline desk";

/// Why an account rule refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    /// An account name that is not 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
    #[error(
        "an account name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
    )]
    BadName,
    /// A new password that is too short or too long.
    #[error(
        "a password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long (three random words make a good one)"
    )]
    PasswordLength,
    /// A new password equal to the account name.
    #[error("a password must not be the account name")]
    PasswordIsName,
    /// Hashing failed (never says anything about the password).
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// A stored hash that is not an Argon2 PHC string.
    #[error(
        "the stored password hash of account {0} is not an Argon2 PHC string: the vault was edited; reset the account"
    )]
    BadStoredHash(String),
    /// The TOTP record could not be made or read.
    #[error("the second-factor record of account {account} {why}; reset the account")]
    Totp {
        /// The account.
        account: String,
        /// What was wrong (never the secret).
        why: &'static str,
    },
}

/// Check an account name (it appears in URLs, audit entries and files).
pub fn check_name(name: &str) -> Result<(), AccountError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadName)
    }
}

/// Parse a role name (`handler`, `supervisor`, `custodian`).
pub fn parse_role(s: &str) -> Option<Role> {
    Role::from_name(s)
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hash a password with Argon2id and a fresh random salt; the PHC string.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `phc`. Takes Argon2's time
/// whatever the answer.
pub fn verify_password(password: &str, phc: &str) -> bool {
    argon2().verify_password(password.as_bytes(), phc).is_ok()
}

/// A hash of nothing anyone knows, checked against when the account does not
/// exist, so that an unknown name costs the same time as a known one.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut pw = [0u8; 32];
    let _ = getrandom::fill(&mut pw);
    hash_password(&hex::encode(pw)).unwrap_or_default()
});

/// Spend the time of one password check, for an account that does not exist
/// (or is locked), and answer `false`.
pub fn verify_dummy(password: &str) -> bool {
    let _ = verify_password(password, &DUMMY_HASH);
    false
}

/// Check a new password against the rules (not against the old one: the
/// caller does that, holding both).
pub fn check_new_password(account: &str, password: &str) -> Result<(), AccountError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(AccountError::PasswordLength);
    }
    if password.trim().eq_ignore_ascii_case(account) {
        return Err(AccountError::PasswordIsName);
    }
    Ok(())
}

/// A random one-time password: 20 characters of an alphabet without look-alikes
/// (about 110 bits), in groups of five for reading aloud.
pub fn one_time_password() -> Zeroizing<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = Zeroizing::new(String::with_capacity(23));
    let mut bytes = Zeroizing::new([0u8; 64]);
    // The OS random source; if it fails there is no safe password to give.
    getrandom::fill(&mut bytes[..]).expect("the operating system's random source failed");
    let mut taken = 0;
    for b in bytes.iter() {
        // Rejection sampling: 256 - 256 % 31 keeps the choice uniform.
        if *b as usize >= 256 - 256 % ALPHABET.len() {
            continue;
        }
        if taken > 0 && taken % 5 == 0 {
            out.push('-');
        }
        out.push(ALPHABET[*b as usize % ALPHABET.len()] as char);
        taken += 1;
        if taken == 20 {
            break;
        }
    }
    out
}

/// The throttle's state after one more failure: (failures in a row,
/// locked until, unix seconds, if now locked).
pub fn after_failure(failed_logins: i64, now: i64) -> (i64, Option<i64>) {
    let failed = failed_logins.saturating_add(1);
    if failed < FREE_FAILURES {
        return (failed, None);
    }
    let doublings = (failed - FREE_FAILURES).min(16) as u32;
    let secs = FIRST_LOCK_SECS
        .saturating_mul(1i64 << doublings)
        .min(MAX_LOCK_SECS);
    (failed, Some(now.saturating_add(secs)))
}

/// Whether an account locked until `locked_until` is still locked at `now`.
pub fn is_locked(locked_until: Option<i64>, now: i64) -> bool {
    locked_until.is_some_and(|t| now < t)
}

/// A fresh TOTP secret (20 random bytes).
pub fn new_totp_secret() -> Zeroizing<Vec<u8>> {
    let mut s = Zeroizing::new(vec![0u8; TOTP_SECRET_BYTES]);
    getrandom::fill(&mut s[..]).expect("the operating system's random source failed");
    s
}

fn totp(secret: &[u8], account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(TOTP_DIGITS as u8)
        .with_skew(1)
        .with_step_duration(TOTP_STEP)
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .with_account_name(account)
        .with_issuer(Some(TOTP_ISSUER))
        .build()
        .ok()
}

/// The code for the step that contains `unix_secs` (tests and the demo).
pub fn totp_code(secret: &[u8], unix_secs: u64) -> String {
    totp(secret, "x")
        .map(|t| t.generate(unix_secs).to_string())
        .unwrap_or_default()
}

/// Check a typed code at `now`: the step it belongs to (current, previous or
/// next), if it matches one after `last_step` — a step already used is
/// refused, so a code seen over someone's shoulder cannot be used again.
pub fn check_totp(secret: &[u8], code: &str, now: u64, last_step: Option<u64>) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, "x")?;
    let step = now / TOTP_STEP;
    let mut found = None;
    // Every candidate is computed and compared in constant time, so the time
    // taken does not say which step (if any) matched.
    for s in [step.saturating_sub(1), step, step + 1] {
        let want = Zeroizing::new(t.generate(s * TOTP_STEP).to_string());
        if bool::from(want.as_bytes().ct_eq(code.as_bytes()))
            && last_step.is_none_or(|l| s > l)
            && found.is_none()
        {
            found = Some(s);
        }
    }
    found
}

/// A secret typed or shown in base32 (spaces and padding ignored), e.g. the
/// demo's TOTP secret file or the enrolment page's spelled-out key.
pub fn secret_from_base32(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let s = Secret::try_from_base32(&clean).ok()?;
    Some(Zeroizing::new(s.as_bytes().to_vec()))
}

/// What the enrolment page shows: the URI, its QR code and the secret spelled out.
pub struct EnrolmentCode {
    /// `otpauth://totp/Quietline%20desk:NAME?secret=…&issuer=…` (a secret).
    pub uri: Zeroizing<String>,
    /// The URI as a QR code, an SVG element (no XML prolog).
    pub qr_svg: Zeroizing<String>,
    /// The secret in base32, in groups of four (a secret).
    pub secret_spelled: Zeroizing<String>,
}

impl std::fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolmentCode(<redacted>)")
    }
}

/// The enrolment page's content for `secret` and `account`. The account
/// label in the URI says which force too, so one phone can hold several.
pub fn enrolment_code(
    secret: &[u8],
    account: &str,
    force: &str,
) -> Result<EnrolmentCode, AccountError> {
    let err = |why| AccountError::Totp {
        account: account.to_owned(),
        why,
    };
    let t = totp(secret, &format!("{account}@{force}")).ok_or_else(|| err("cannot be made"))?;
    let uri = Zeroizing::new(t.to_url().map_err(|_| err("cannot be written as a URI"))?);
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| err("does not fit a QR code"))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // The renderer writes an XML prolog; inline SVG in HTML does without it.
    let svg = match svg.find("<svg") {
        Some(i) => svg[i..].to_owned(),
        None => svg,
    };
    let b32 = Zeroizing::new(Secret::new(secret.to_vec().into_boxed_slice()).to_base32());
    let mut spelled = Zeroizing::new(String::with_capacity(b32.len() + b32.len() / 4));
    for (i, c) in b32.trim_end_matches('=').chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            spelled.push(' ');
        }
        spelled.push(c);
    }
    Ok(EnrolmentCode {
        uri,
        qr_svg: Zeroizing::new(svg),
        secret_spelled: spelled,
    })
}

/// The sealed TOTP record (the plaintext inside `accounts.totp_sealed`).
#[derive(Serialize, Deserialize)]
struct TotpRecord {
    v: u32,
    #[serde(rename = "type")]
    kind: String,
    /// The account it belongs to: a record copied onto another account's row
    /// is refused.
    account: String,
    /// The secret, hex.
    secret: String,
    /// The last step a code was accepted for.
    last_step: Option<u64>,
}

const TOTP_RECORD_TYPE: &str = "quietline-desk/totp";

/// An opened TOTP record.
pub struct OpenedTotp {
    /// The secret.
    pub secret: Zeroizing<Vec<u8>>,
    /// The last step used.
    pub last_step: Option<u64>,
}

/// Seal `secret` (and the last step used) for `account` to the force's
/// current public key (an HPKE envelope only the force's key ring opens).
pub fn seal_totp(
    force_id: &str,
    current: &PublicKey,
    account: &str,
    secret: &[u8],
    last_step: Option<u64>,
) -> Result<Vec<u8>, AccountError> {
    let record = TotpRecord {
        v: 1,
        kind: TOTP_RECORD_TYPE.to_owned(),
        account: account.to_owned(),
        secret: hex::encode(secret),
        last_step,
    };
    let json = Zeroizing::new(serde_json::to_vec(&record).map_err(|_| AccountError::Totp {
        account: account.to_owned(),
        why: "cannot be encoded",
    })?);
    drop(Zeroizing::new(record.secret));
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    seal_report(&mut rng, force_id, current, &json).map_err(|_| AccountError::Totp {
        account: account.to_owned(),
        why: "cannot be sealed",
    })
}

/// Open a sealed TOTP record of `account`.
pub fn open_totp(ring: &KeyRing, account: &str, sealed: &[u8]) -> Result<OpenedTotp, AccountError> {
    let err = |why| AccountError::Totp {
        account: account.to_owned(),
        why,
    };
    let (plain, _) = ring
        .open_kind1(sealed)
        .map_err(|_| err("does not open with the force's keys"))?;
    let record: TotpRecord =
        serde_json::from_slice(&plain).map_err(|_| err("is not a second-factor record"))?;
    let secret_hex = Zeroizing::new(record.secret);
    if record.v != 1 || record.kind != TOTP_RECORD_TYPE {
        return Err(err("is not a second-factor record"));
    }
    if record.account != account {
        return Err(err("belongs to another account"));
    }
    let secret = Zeroizing::new(hex::decode(secret_hex.as_bytes()).map_err(|_| err("is damaged"))?);
    if secret.len() < 16 {
        return Err(err("is damaged"));
    }
    Ok(OpenedTotp {
        secret,
        last_step: record.last_step,
    })
}

// ---- The CLI's account commands (no passphrase: nothing is sealed or opened). ----

/// Why an account command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A rule refused (the name).
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The vault refused (name taken, no such account) or failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// An account as `account list` shows it (no hash, no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    /// The name.
    pub name: String,
    /// The role, as stored.
    pub role: String,
    /// `active`, `disabled`, `must sign in and enrol` or `locked until …`.
    pub state: String,
    /// Whether a second factor is enrolled.
    pub enrolled: bool,
    /// The UTC day it was made.
    pub created: String,
}

fn one_time_hash() -> Result<(Zeroizing<String>, String), AccountError> {
    let pw = one_time_password();
    let hash = hash_password(&pw)?;
    Ok((pw, hash))
}

/// `account add NAME --role ROLE`: a new account with a random one-time
/// password (returned, to be handed over once), which must be changed and a
/// second factor enrolled at the first sign-in.
pub async fn add(
    vault: &Vault,
    actor: &Actor,
    name: &str,
    role: Role,
    today: &str,
) -> Result<Zeroizing<String>, AdminError> {
    check_name(name)?;
    let (pw, hash) = one_time_hash()?;
    vault
        .insert_account(&AccountRow {
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            password_hash: hash,
            totp_sealed: None,
            disabled: false,
            must_enrol: true,
            failed_logins: 0,
            locked_until: None,
            created: today.to_owned(),
            generation: 1,
        })
        .await?;
    audit::record(
        vault,
        actor,
        "account-add",
        None,
        Some(format!("account {name}, role {role}")),
    )
    .await?;
    Ok(pw)
}

/// An account that is ready to sign in at once, with a password and TOTP
/// secret chosen by the caller: for `serve --demo`, which writes both to a
/// 0600 file for the person trying the demo. Needs only the force's public
/// key (the secret is sealed to it). Returns the secret in base32. Never for
/// a real force: a real account's first sign-in chooses both.
#[allow(clippy::too_many_arguments)]
pub async fn add_enrolled(
    vault: &Vault,
    actor: &Actor,
    force_id: &str,
    current: &PublicKey,
    name: &str,
    role: Role,
    password: &str,
    today: &str,
) -> Result<Zeroizing<String>, AdminError> {
    check_name(name)?;
    check_new_password(name, password)?;
    let secret = new_totp_secret();
    let sealed = seal_totp(force_id, current, name, &secret, None)?;
    vault
        .insert_account(&AccountRow {
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            password_hash: hash_password(password)?,
            totp_sealed: Some(sealed),
            disabled: false,
            must_enrol: false,
            failed_logins: 0,
            locked_until: None,
            created: today.to_owned(),
            generation: 1,
        })
        .await?;
    audit::record(
        vault,
        actor,
        "account-add",
        None,
        Some(format!("account {name}, role {role}, enrolled (demo)")),
    )
    .await?;
    Ok(Zeroizing::new(
        Secret::new(secret.to_vec().into_boxed_slice()).to_base32(),
    ))
}

/// `account list`: every account, by name.
pub async fn list(vault: &Vault, now: i64) -> Result<Vec<AccountSummary>, AdminError> {
    Ok(vault
        .accounts()
        .await?
        .into_iter()
        .map(|a| AccountSummary {
            state: if a.disabled {
                "disabled".to_owned()
            } else if is_locked(a.locked_until, now) {
                let until = a.locked_until.unwrap_or(now);
                format!(
                    "locked until {} UTC",
                    time::OffsetDateTime::from_unix_timestamp(until)
                        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
                        .unwrap_or_default()
                )
            } else if a.must_enrol {
                "must sign in and enrol".to_owned()
            } else {
                "active".to_owned()
            },
            enrolled: a.totp_sealed.is_some(),
            name: a.name,
            role: a.role,
            created: a.created,
        })
        .collect())
}

async fn existing(vault: &Vault, name: &str) -> Result<AccountRow, AdminError> {
    check_name(name)?;
    vault
        .account(name)
        .await?
        .ok_or_else(|| AdminError::Vault(VaultError::NoSuchAccount(name.to_owned())))
}

/// `account disable NAME`: the account can no longer sign in, and every
/// session of it ends at its next request (the generation moves on).
pub async fn disable(vault: &Vault, actor: &Actor, name: &str) -> Result<(), AdminError> {
    let mut row = existing(vault, name).await?;
    row.disabled = true;
    row.generation += 1;
    vault.update_account(&row).await?;
    vault.delete_sessions_of(name).await?;
    audit::record(
        vault,
        actor,
        "account-disable",
        None,
        Some(format!("account {name}")),
    )
    .await?;
    Ok(())
}

/// `account reset NAME`: a new one-time password (returned), the second
/// factor forgotten (to be enrolled again at the next sign-in), the lock
/// lifted, the account enabled, and every session of it ended.
pub async fn reset(
    vault: &Vault,
    actor: &Actor,
    name: &str,
) -> Result<Zeroizing<String>, AdminError> {
    let mut row = existing(vault, name).await?;
    let (pw, hash) = one_time_hash()?;
    row.password_hash = hash;
    row.totp_sealed = None;
    row.must_enrol = true;
    row.disabled = false;
    row.failed_logins = 0;
    row.locked_until = None;
    row.generation += 1;
    vault.update_account(&row).await?;
    vault.delete_sessions_of(name).await?;
    audit::record(
        vault,
        actor,
        "account-reset",
        None,
        Some(format!(
            "account {name}: new one-time password, second factor to enrol again"
        )),
    )
    .await?;
    Ok(pw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip_and_phc_string() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert!(!verify_dummy("anything"));
        // Two hashes of one password differ (fresh salt).
        assert_ne!(h, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn totp_matches_the_rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1 seed "12345678901234567890"; the RFC
        // prints 8 digits, our codes are the last 6 of them.
        let seed = b"12345678901234567890";
        for (t, eight) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp_code(seed, t), eight[2..], "t = {t}");
            assert_eq!(check_totp(seed, &eight[2..], t, None), Some(t / 30));
        }
    }

    #[test]
    fn totp_accepts_one_step_either_side_and_never_a_used_step() {
        let seed = b"12345678901234567890";
        let now = 1_234_567_890;
        let prev = totp_code(seed, now - 30);
        let next = totp_code(seed, now + 30);
        let far = totp_code(seed, now - 60);
        assert_eq!(check_totp(seed, &prev, now, None), Some(now / 30 - 1));
        assert_eq!(check_totp(seed, &next, now, None), Some(now / 30 + 1));
        assert_eq!(check_totp(seed, &far, now, None), None);
        let cur = totp_code(seed, now);
        assert_eq!(check_totp(seed, &cur, now, Some(now / 30)), None, "replay");
        assert_eq!(check_totp(seed, &prev, now, Some(now / 30 - 1)), None);
        assert_eq!(
            check_totp(seed, &next, now, Some(now / 30)),
            Some(now / 30 + 1)
        );
        assert_eq!(check_totp(seed, " 123 ", now, None), None);
        assert_eq!(check_totp(seed, "abcdef", now, None), None);
        let spaced = format!("{} {}", &cur[..3], &cur[3..]);
        assert_eq!(check_totp(seed, &spaced, now, None), Some(now / 30));
    }

    #[test]
    fn throttle_locks_after_five_failures_doubling_to_an_hour() {
        let now = 1_000_000;
        let mut failed = 0;
        for _ in 0..4 {
            let (f, lock) = after_failure(failed, now);
            assert_eq!(lock, None);
            failed = f;
        }
        let expected = [60, 120, 240, 480, 960, 1920, 3600, 3600];
        for secs in expected {
            let (f, lock) = after_failure(failed, now);
            assert_eq!(lock, Some(now + secs), "after {f} failures");
            failed = f;
        }
        assert!(is_locked(Some(now + 1), now));
        assert!(!is_locked(Some(now), now));
        assert!(!is_locked(None, now));
        // No overflow however many failures.
        assert_eq!(after_failure(i64::MAX, now).1, Some(now + 3600));
    }

    #[test]
    fn names_and_new_passwords_follow_the_rules() {
        for ok in ["ann", "a.b-c_d", "7", &"a".repeat(64)] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "Ann", "-ann", "a b", "ann\n", &"a".repeat(65), "ænn"] {
            assert_eq!(check_name(bad), Err(AccountError::BadName), "{bad:?}");
        }
        assert_eq!(
            check_new_password("ann", "short"),
            Err(AccountError::PasswordLength)
        );
        assert_eq!(
            check_new_password("annannannann", "AnnAnnAnnAnn"),
            Err(AccountError::PasswordIsName)
        );
        assert_eq!(check_new_password("ann", "purple tiger lamp"), Ok(()));
        assert_eq!(
            check_new_password("ann", &"x".repeat(257)),
            Err(AccountError::PasswordLength)
        );
    }

    #[test]
    fn one_time_passwords_are_long_random_and_readable() {
        let a = one_time_password();
        let b = one_time_password();
        assert_ne!(*a, *b);
        assert_eq!(a.len(), 23, "{}", *a);
        assert_eq!(a.matches('-').count(), 3);
        assert!(
            a.chars()
                .all(|c| c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert!(!a.contains(['l', '1', '0', 'o', 'i']));
        assert!(check_new_password("x", &a).is_ok());
    }

    #[test]
    fn enrolment_shows_a_qr_svg_an_otpauth_uri_and_the_secret() {
        let secret = b"12345678901234567890";
        let e = enrolment_code(secret, "ann", "demo-force").unwrap();
        assert!(e.uri.starts_with("otpauth://totp/"), "{}", *e.uri);
        assert!(e.uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(e.uri.contains("ann%40demo-force") || e.uri.contains("ann@demo-force"));
        assert!(e.qr_svg.starts_with("<svg"), "{}", &e.qr_svg[..40]);
        assert_eq!(&e.secret_spelled[..9], "GEZD GNBV");
        assert_eq!(format!("{e:?}"), "EnrolmentCode(<redacted>)");
    }
}

//! The audit chain: every decrypting look (pull, list, show), reply, export,
//! status change and note appends an entry; `audit verify` checks the chain.
//!
//! It owns the entry's canonical encoding, its hash and the verification. It
//! does not store anything itself ([`crate::vault`] does) and records no
//! report contents: an entry says who did what to which report id and when.
//!
//! Canonical encoding of entry n (all integers big-endian):
//!
//! ```text
//! hash_n = SHA-256( "quietline-console/audit/v1" ‖ F(seq) ‖ F(at) ‖ F(os_user) ‖ F(handler)
//!                   ‖ F(action) ‖ F(report_id) ‖ F(detail) ‖ F(prev_hash) )
//! F(absent)  = 0x00
//! F(text t)  = 0x01 ‖ u32 len(t) ‖ UTF-8 bytes of t      (seq is written as decimal text)
//! prev_hash  = hash_{n-1} in lowercase hex; 64 zeros for n = 1
//! ```
//!
//! The length prefixes make the encoding injective, so no two different
//! entries hash the same way by shifting bytes between fields. The chain
//! detects an entry edited, removed or moved by anyone who does not recompute
//! every later hash; against someone who does (the hash is not keyed), compare
//! the head printed by `audit verify` with a copy kept elsewhere (`--head`).

use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};

use crate::vault::{AuditRow, Vault, VaultError};

/// Domain-separation prefix of every entry hash.
pub const DOMAIN: &[u8] = b"quietline-console/audit/v1";
/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acts: the operating-system user and an optional handler name.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `$USER (uid N)` or `uid N`.
    pub os_user: String,
    /// From `--handler`, if given.
    pub handler: Option<String>,
}

impl Actor {
    /// The current OS user (from `$USER` or `$LOGNAME`, with the real uid from
    /// `/proc/self/status` when available) and the handler name given.
    pub fn current(handler: Option<String>) -> Actor {
        let name = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|s| !s.is_empty());
        let uid = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .and_then(|rest| rest.split_whitespace().next().map(str::to_owned))
            });
        let os_user = match (name, uid) {
            (Some(n), Some(u)) => format!("{n} (uid {u})"),
            (Some(n), None) => n,
            (None, Some(u)) => format!("uid {u}"),
            (None, None) => "unknown".to_owned(),
        };
        Actor {
            os_user,
            handler: handler.filter(|h| !h.trim().is_empty()),
        }
    }

    /// How to show the actor in a record: the handler name if given, else the OS user.
    pub fn display(&self) -> String {
        match &self.handler {
            Some(h) => format!("{h} ({})", self.os_user),
            None => self.os_user.clone(),
        }
    }
}

fn field(h: &mut Sha256, value: Option<&str>) {
    match value {
        None => h.update([0u8]),
        Some(v) => {
            h.update([1u8]);
            // Entries are short; a field over 4 GiB cannot be stored anyway.
            h.update((v.len() as u32).to_be_bytes());
            h.update(v.as_bytes());
        }
    }
}

/// The hash of an entry (every field but `hash` itself), lowercase hex.
pub fn entry_hash(row: &AuditRow) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    field(&mut h, Some(&row.seq.to_string()));
    field(&mut h, Some(&row.at));
    field(&mut h, Some(&row.os_user));
    field(&mut h, row.handler.as_deref());
    field(&mut h, Some(&row.action));
    field(&mut h, row.report_id.as_deref());
    field(&mut h, row.detail.as_deref());
    field(&mut h, Some(&row.prev_hash));
    hex::encode(h.finalize())
}

/// The current UTC time, RFC 3339 with seconds.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// Append an entry.
pub async fn record(
    vault: &Vault,
    actor: &Actor,
    action: &str,
    report_id: Option<&str>,
    detail: Option<String>,
) -> Result<AuditRow, VaultError> {
    let at = now_rfc3339();
    vault
        .append_audit(|last| {
            let (seq, prev_hash) = match last {
                Some((s, h)) => (s + 1, h),
                None => (1, GENESIS.to_owned()),
            };
            let mut row = AuditRow {
                seq,
                at,
                os_user: actor.os_user.clone(),
                handler: actor.handler.clone(),
                action: action.to_owned(),
                report_id: report_id.map(str::to_owned),
                detail,
                prev_hash,
                hash: String::new(),
            };
            row.hash = entry_hash(&row);
            row
        })
        .await
}

/// The outcome of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries read.
    pub entries: u64,
    /// The last entry's hash (the head), if any.
    pub head: Option<String>,
    /// Every problem found, in order; empty means the chain is intact.
    pub problems: Vec<String>,
}

/// Walk the chain from the first entry and report every break.
pub async fn verify(vault: &Vault) -> Result<Verification, VaultError> {
    let mut stream = vault.audit_entries();
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_owned();
    let mut problems = Vec::new();
    let mut entries = 0u64;
    let mut head = None;
    while let Some(row) = stream.try_next().await? {
        entries += 1;
        if row.seq != expected_seq {
            problems.push(if row.seq == expected_seq + 1 {
                format!("entry {expected_seq} is missing: deleted")
            } else if row.seq > expected_seq {
                format!(
                    "entries {expected_seq} to {} are missing: deleted",
                    row.seq - 1
                )
            } else {
                format!(
                    "entry {} appears out of order after entry {}",
                    row.seq,
                    expected_seq - 1
                )
            });
        }
        if row.prev_hash != prev {
            problems.push(format!(
                "entry {} does not follow the entry before it (its previous-hash differs): an entry was removed, reordered or edited before it",
                row.seq
            ));
        }
        if entry_hash(&row) != row.hash {
            problems.push(format!(
                "entry {} was edited: its contents do not match its hash",
                row.seq
            ));
        }
        expected_seq = row.seq + 1;
        prev = row.hash.clone();
        head = Some(row.hash);
    }
    Ok(Verification {
        entries,
        head,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_length_prefixed() {
        let mut a = AuditRow {
            seq: 1,
            at: "t".into(),
            os_user: "u".into(),
            handler: None,
            action: "show".into(),
            report_id: Some("ab".into()),
            detail: None,
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        let h1 = entry_hash(&a);
        a.action = "sho".into();
        a.report_id = Some("wab".into());
        assert_ne!(h1, entry_hash(&a));
        a.action = "show".into();
        a.report_id = Some("ab".into());
        a.handler = Some(String::new());
        assert_ne!(h1, entry_hash(&a), "absent and empty differ");
    }
}

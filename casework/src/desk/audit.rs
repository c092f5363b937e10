//! The audit log from the desk: the supervisors' view of the chain (newest
//! first, filtered by account or case, paged) and `verify` with its result.
//! Also the one place the desk appends entries ([`Desk::audit`]): every
//! entry names the account that acted.
//!
//! It owns who may read the log and what a check reports (including an
//! emptied log and a head kept elsewhere). The chain's encoding and hashing
//! are [`crate::audit`]'s.

use futures_util::TryStreamExt;

use super::{Desk, DeskError, Handler};
use crate::audit::{self, Actor};
use crate::vault::{AuditRow, Vault, VaultError};

/// Entries per page when the query does not say.
pub const DEFAULT_PER_PAGE: u32 = 100;

/// Which entries to show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Only entries by this account (the entry's handler column).
    pub account: Option<String>,
    /// Only entries about this case (an id or prefix; entries about any of
    /// its messages count).
    pub case: Option<String>,
    /// 1-based page (newest first).
    pub page: u32,
    /// Entries per page (0: [`DEFAULT_PER_PAGE`], at most 1000).
    pub per_page: u32,
}

/// One page of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// Entries, newest first.
    pub entries: Vec<AuditRow>,
    /// Matching entries in all.
    pub total: usize,
    /// This page.
    pub page: u32,
    /// Pages (at least 1).
    pub pages: u32,
    /// The case filter, resolved to a case id.
    pub case_id: Option<String>,
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    /// Entries read.
    pub entries: u64,
    /// The last entry's hash (keep it elsewhere; give it back as `head`).
    pub head: Option<String>,
    /// Every problem found; empty means intact.
    pub problems: Vec<String>,
}

impl AuditCheck {
    /// No problem found.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check the chain of `vault`; `head`, a hash kept elsewhere, must still be
/// in it. An empty log is intact only for an empty vault. Needs no keys.
pub async fn check(vault: &Vault, head: Option<&str>) -> Result<AuditCheck, VaultError> {
    let v = audit::verify(vault).await?;
    let mut problems = v.problems.clone();
    if let Some(h) = head {
        let h = h.trim().to_ascii_lowercase();
        let mut rows = vault.audit_entries();
        let mut found = false;
        while let Some(r) = rows.try_next().await? {
            found |= r.hash == h;
        }
        if !found {
            problems.push(format!("the head {h} you kept is not in the chain: entries were rewritten or removed after it"));
        }
    }
    if v.entries == 0 {
        // Every pull, note, status and reply writes an entry.
        let (envelopes, _) = vault.counts().await?;
        let records = vault.record_count().await?;
        if envelopes > 0 || records > 0 {
            problems.push(format!(
                "the audit log has no entries, but the vault holds {envelopes} envelope(s) and {records} handler record(s): the log was emptied"
            ));
        }
    }
    Ok(AuditCheck {
        entries: v.entries,
        head: v.head,
        problems,
    })
}

impl Desk {
    /// Append an audit entry naming `who.account` (and the desk's OS user).
    pub(crate) async fn record_audit(
        &self,
        who: &Handler,
        action: &str,
        case_id: Option<&str>,
        detail: Option<String>,
    ) -> Result<(), DeskError> {
        let actor = Actor {
            os_user: self.inner.os_user.clone(),
            handler: Some(who.account.clone()),
        };
        audit::record(self.vault(), &actor, action, case_id, detail)
            .await
            .map_err(DeskError::Audit)?;
        Ok(())
    }

    fn supervisor(who: &Handler, what: &'static str) -> Result<(), DeskError> {
        if who.role.supervises() {
            Ok(())
        } else {
            Err(DeskError::Forbidden {
                role: who.role,
                what,
            })
        }
    }

    /// A page of the audit log (supervisors). Reading it is itself audited
    /// (`audit-view`).
    pub async fn audit_log(&self, who: &Handler, q: &AuditQuery) -> Result<AuditPage, DeskError> {
        Self::supervisor(who, "read the audit log")?;
        let case_id = match &q.case {
            Some(c) if !c.trim().is_empty() => Some(self.resolve(who, c).await?),
            _ => None,
        };
        let ids: Option<std::collections::HashSet<String>> = match &case_id {
            Some(c) => Some(
                self.index_read()?
                    .get(c)
                    .map(|e| e.messages.iter().map(|m| m.id.clone()).collect())
                    .unwrap_or_else(|| [c.clone()].into()),
            ),
            None => None,
        };
        self.record_audit(who, "audit-view", case_id.as_deref(), None)
            .await?;
        let account = q
            .account
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let mut all = Vec::new();
        let mut rows = self.vault().audit_entries();
        while let Some(r) = rows.try_next().await? {
            if account.is_some_and(|a| r.handler.as_deref() != Some(a)) {
                continue;
            }
            if let Some(ids) = &ids
                && !r.report_id.as_ref().is_some_and(|id| ids.contains(id))
            {
                continue;
            }
            all.push(r);
        }
        all.reverse();
        let per_page = match q.per_page {
            0 => DEFAULT_PER_PAGE,
            n => n.min(1000),
        } as usize;
        let total = all.len();
        let pages = total.div_ceil(per_page).max(1) as u32;
        let page = q.page.clamp(1, pages);
        let entries = all
            .into_iter()
            .skip((page as usize - 1) * per_page)
            .take(per_page)
            .collect();
        Ok(AuditPage {
            entries,
            total,
            page,
            pages,
            case_id,
        })
    }

    /// Check the audit chain (supervisors); `head` as in [`check`].
    pub async fn verify_audit(
        &self,
        who: &Handler,
        head: Option<&str>,
    ) -> Result<AuditCheck, DeskError> {
        Self::supervisor(who, "check the audit log")?;
        Ok(check(self.vault(), head).await?)
    }
}

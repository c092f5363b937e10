//! The desk's retention use cases (issue 17): each closed case's review
//! date (from the force's rules, [`crate::intel::retention`]), the review's
//! two outcomes — retain until a new date with a reason, or delete — and
//! deleting a case from the vault.
//!
//! Both outcomes are a supervisor's. Retaining is a sealed
//! `retention-review` record and an audit entry `retention-review` (detail:
//! `retain until YYYY-MM-DD`; the reason is case content and stays sealed).
//! Deleting writes the audit entry `delete` with the case id only, then
//! removes the case's envelopes, every sealed record on them, its seen
//! markers and reply claims in one transaction
//! ([`crate::vault::Vault::delete_reports`]: on SQLite `secure_delete` and a
//! WAL checkpoint with TRUNCATE; what PostgreSQL keeps is in
//! `casework/src/vault/postgres.rs`), leaves a tombstone per report id so a
//! pull never stores it again, and drops it from the case index. If the
//! deletion then fails, `delete-failed` says so. Listing the cases due is
//! the queue's filter ([`super::QueueQuery::review_due`]).
//!
//! Another desk sharing the vault drops the case (and its decrypted row
//! text) from its index at its next sync: every deletion bumps the vault's
//! deletion count ([`crate::vault::DELETIONS`]), which each sync compares
//! before reading the tombstones.

use super::index::CaseEntry;
use super::{Desk, DeskError, Handler, Status};
use crate::intel::retention::{self, RetentionRules, Review};
use crate::records::RecordBody;
use crate::vault::Deleted;

/// The longest reason to retain, in characters.
pub const MAX_REVIEW_REASON: usize = 1000;

/// One retention review that kept the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The supervisor.
    pub by: String,
    /// The next review day, `YYYY-MM-DD`.
    pub next_review: String,
    /// Why it is kept.
    pub reason: String,
}

fn supervisor_only(who: &Handler, what: &'static str) -> Result<(), DeskError> {
    if who.role.supervises() {
        Ok(())
    } else {
        Err(DeskError::Forbidden {
            role: who.role,
            what,
        })
    }
}

impl Desk {
    /// The force's retention rules (`[retention]` in `intel.toml`, or the
    /// default: six years after closure).
    pub fn retention_rules(&self) -> Result<RetentionRules, DeskError> {
        RetentionRules::load(self.home().root()).map_err(|e| DeskError::Invalid(e.to_string()))
    }

    /// Where a case in the index stands on retention today.
    pub(crate) fn review_of(&self, rules: &RetentionRules, c: &CaseEntry) -> Option<Review> {
        if c.status != Status::Closed || c.is_unreadable() {
            return None;
        }
        Review::compute(
            rules,
            &c.category,
            c.priority,
            c.intel.closed_at,
            c.intel.retained_until.as_deref(),
            retention::date_of(self.clock().now_secs()),
        )
    }

    /// Review the closed case and keep it until `next_review` (`YYYY-MM-DD`,
    /// after today, within 100 years) for `reason` (supervisors). Audited
    /// (`retention-review`, "retain until DAY").
    pub async fn retain(
        &self,
        who: &Handler,
        id: &str,
        next_review: &str,
        reason: &str,
    ) -> Result<Review, DeskError> {
        supervisor_only(
            who,
            "review a case for retention (a supervisor does: retain it or delete it)",
        )?;
        let case_id = self.resolve(who, id).await?;
        self.sync().await?;
        let entry = self.workable(who, &case_id)?;
        if entry.status != Status::Closed {
            return Err(DeskError::Invalid(
                "only a closed case is reviewed for retention: close it first".into(),
            ));
        }
        let today = retention::date_of(self.clock().now_secs());
        let day = retention::parse_day(next_review).ok_or_else(|| {
            DeskError::Invalid(
                "give the next review date as YYYY-MM-DD (for example 2030-12-07)".into(),
            )
        })?;
        if day <= today {
            return Err(DeskError::Invalid(
                "the next review date must be after today".into(),
            ));
        }
        if day > retention::add_months(today, 1200) {
            return Err(DeskError::Invalid(
                "the next review date must be within 100 years".into(),
            ));
        }
        let reason =
            crate::intel::check_text("the reason to keep the case", reason, MAX_REVIEW_REASON)
                .map_err(DeskError::Invalid)?;
        let next_review = retention::day_string(day);
        let was_current = self.is_current(&case_id, &who.account);
        self.write_record(
            who,
            &case_id,
            "retention-review",
            RecordBody::RetentionReview {
                next_review: next_review.clone(),
                reason,
            },
            Some(format!("retain until {next_review}")),
        )
        .await?;
        self.sync().await?;
        self.keep_current(&case_id, &who.account, was_current)
            .await?;
        let rules = self.retention_rules()?;
        let idx = self.index_read()?;
        idx.get(&case_id)
            .and_then(|c| self.review_of(&rules, c))
            .ok_or_else(|| DeskError::NoSuchCase(case_id.clone()))
    }

    /// Delete the case from the vault (supervisors): a closed case, or one
    /// whose report cannot be read. `confirm` must be the case's short id
    /// (12 hex digits) or its full id, so a slip of the finger deletes
    /// nothing. Audited first (`delete`, the case id only); `delete-failed`
    /// if it then fails. Returns what was removed; `wal_truncated:
    /// Some(false)` means a reader blocked the SQLite checkpoint and the
    /// front end must say so.
    pub async fn delete_case(
        &self,
        who: &Handler,
        id: &str,
        confirm: &str,
    ) -> Result<Deleted, DeskError> {
        supervisor_only(
            who,
            "delete a case (a supervisor does, after a retention review)",
        )?;
        let case_id = self.resolve(who, id).await?;
        self.sync().await?;
        let entry = self
            .index_read()?
            .get(&case_id)
            .cloned()
            .ok_or_else(|| DeskError::NoSuchCase(case_id.clone()))?;
        if entry.status != Status::Closed && !entry.is_unreadable() {
            return Err(DeskError::Invalid(
                "only a closed case can be deleted: close it first (nothing was deleted)".into(),
            ));
        }
        let confirm = confirm.trim().to_ascii_lowercase();
        if confirm != crate::render::short(&case_id) && confirm != case_id {
            return Err(DeskError::Invalid(format!(
                "to delete the case, type its id {} to confirm (nothing was deleted)",
                crate::render::short(&case_id)
            )));
        }
        self.record_audit(who, "delete", Some(&case_id), None)
            .await?;
        let ids: Vec<String> = entry.messages.iter().map(|m| m.id.clone()).collect();
        let key = entry.thread.as_ref().map(super::answer::thread_key);
        match self.vault().delete_reports(&ids, key.as_deref()).await {
            Ok(d) => {
                self.index_write()?.remove_case(&case_id);
                Ok(d)
            }
            Err(e) => {
                let why = crate::text::clean_line(&e.to_string(), 300);
                self.record_audit(who, "delete-failed", Some(&case_id), Some(why))
                    .await?;
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{QueueQuery, View};
    use super::*;

    const DAY: u64 = 86_400;

    async fn delete_on(vault: crate::vault::Vault, t: &TestHome, sqlite: bool) {
        let reporter = Reporter::new();
        let sealed = reporter.report("dealing", "Canary Quokka", "QK12 CNY");
        let id = t.store(&vault, "2026-12-01", &sealed).await;
        let keep = t
            .store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let (ann, sam) = (handler("ann"), supervisor("sam"));
        desk.note(&ann, &id, "note-canary-words").await.unwrap();
        // The sealed bytes of the report and of its records: what a deleted
        // case leaves in the file if deletion is not done right.
        let envelope = vault.envelope(&id).await.unwrap().unwrap().envelope;
        let records: Vec<Vec<u8>> = vault
            .records_for(&id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.sealed)
            .collect();
        assert!(!records.is_empty());
        // A handler may not; an open case may not be deleted; the id must
        // be typed to confirm.
        assert!(matches!(
            desk.delete_case(&ann, &id, &id).await,
            Err(DeskError::Forbidden { .. })
        ));
        assert!(matches!(
            desk.delete_case(&sam, &id, &id).await,
            Err(DeskError::Invalid(m)) if m.contains("closed")
        ));
        desk.set_status(&ann, &id, Status::Closed).await.unwrap();
        assert!(matches!(
            desk.delete_case(&sam, &id, "0000").await,
            Err(DeskError::Invalid(m)) if m.contains("confirm")
        ));
        let d = desk
            .delete_case(&sam, &id, crate::render::short(&id))
            .await
            .unwrap();
        assert_eq!(d.envelopes, 1);
        assert_eq!(d.records, records.len() as u64 + 1, "the status record too");
        assert_eq!(d.wal_truncated, if sqlite { Some(true) } else { None });
        if sqlite {
            scan(t, &envelope, &records, true);
        }
        // Gone from the vault and the index; the other case stays.
        assert!(vault.envelope(&id).await.unwrap().is_none());
        assert!(vault.records_for(&id).await.unwrap().is_empty());
        assert!(vault.envelope(&keep).await.unwrap().is_some());
        assert!(matches!(
            desk.case(&ann, &id).await,
            Err(DeskError::NoSuchCase(_)) | Err(DeskError::Vault(_))
        ));
        let all = QueueQuery {
            view: View::All,
            ..QueueQuery::default()
        };
        let rows = desk.queue(&ann, &all).await.unwrap().rows;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].case_id, keep);
        // A pull will not store it again: it counts as held.
        assert!(
            vault
                .contains_many(std::slice::from_ref(&id))
                .await
                .unwrap()
                .contains(&id)
        );
        // The audit entry names the case id only.
        let log = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap();
        let del: Vec<_> = log.iter().filter(|r| r.action == "delete").collect();
        assert_eq!(del.len(), 1);
        assert_eq!(del[0].report_id.as_deref(), Some(id.as_str()));
        assert_eq!(del[0].detail, None);
        if sqlite {
            scan(t, &envelope, &records, false);
            // …while the kept case's envelope is there (the probe works).
            let kept = vault.envelope(&keep).await.unwrap().unwrap().envelope;
            let probe = &kept[kept.len() / 2..kept.len() / 2 + 32];
            let now = std::fs::read(t.home.vault_path()).unwrap();
            assert!(memchr::memmem::find(&now, probe).is_some());
        }
    }

    /// Neither the vault file nor its WAL holds a run of bytes of the
    /// deleted envelope or of its sealed records (`fresh`: right after the
    /// deletion, when the WAL must be empty).
    fn scan(t: &TestHome, envelope: &[u8], records: &[Vec<u8>], fresh: bool) {
        let path = t.home.vault_path();
        let mut bytes = std::fs::read(&path).unwrap();
        let mut wal_path = path.clone().into_os_string();
        wal_path.push("-wal");
        if let Ok(w) = std::fs::read(&wal_path) {
            if fresh {
                assert!(w.is_empty(), "the WAL was truncated");
            }
            bytes.extend(w);
        }
        for canary in std::iter::once(envelope).chain(records.iter().map(Vec::as_slice)) {
            let probe = &canary[canary.len() / 2..canary.len() / 2 + 32];
            assert!(
                memchr::memmem::find(&bytes, probe).is_none(),
                "deleted bytes remain in the vault file or its WAL"
            );
        }
    }

    #[tokio::test]
    async fn deleting_a_case_removes_every_byte_of_it_sqlite() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        delete_on(vault, &t, true).await;
    }

    #[tokio::test]
    async fn deleting_a_case_removes_every_row_of_it_postgres() {
        let t = TestHome::new("north");
        let Some((vault, _, _db)) =
            shared_vaults(&t, quietline_testkit::server::Backend::Postgres).await
        else {
            return;
        };
        delete_on(vault, &t, false).await;
    }

    #[tokio::test]
    async fn review_dates_due_list_and_retaining() {
        let t = TestHome::new("north");
        std::fs::write(
            t.home.root().join(crate::intel::targets::INTEL_FILE),
            "[retention]\nafter_closure = \"2y\"\n[retention.priority]\nhigh = \"5y\"\n",
        )
        .unwrap();
        let vault = t.vault().await;
        let a = t
            .store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let b = t
            .store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let (ann, sam) = (handler("ann"), supervisor("sam"));
        desk.set_priority(&ann, &b, crate::records::Priority::High)
            .await
            .unwrap();
        for id in [&a, &b] {
            desk.set_status(&ann, id, Status::Closed).await.unwrap();
        }
        let today = desk.clock().today();
        let view = desk.case(&ann, &a).await.unwrap();
        let rev = view.intel.review.unwrap();
        assert_eq!(rev.closed_on, today);
        assert_eq!(rev.rule.months, 24);
        assert!(!rev.due);
        assert_eq!(
            desk.case(&ann, &b)
                .await
                .unwrap()
                .intel
                .review
                .unwrap()
                .rule
                .months,
            60,
            "the priority rule is longer"
        );
        let due = QueueQuery {
            view: View::All,
            review_due: true,
            ..QueueQuery::default()
        };
        assert_eq!(desk.queue(&ann, &due).await.unwrap().total, 0);
        desk.clock().advance(731 * DAY);
        let page = desk.queue(&ann, &due).await.unwrap();
        assert_eq!(page.total, 1, "two years on, only the low-priority one");
        assert_eq!(page.rows[0].case_id, a);
        assert!(page.rows[0].intel.review.as_ref().unwrap().due);
        // Retain: supervisors only, a date after today and a reason.
        assert!(matches!(
            desk.retain(&ann, &a, "2040-01-01", "still relevant").await,
            Err(DeskError::Forbidden { .. })
        ));
        assert!(matches!(
            desk.retain(&sam, &a, "2001-01-01", "x").await,
            Err(DeskError::Invalid(m)) if m.contains("after today")
        ));
        assert!(matches!(
            desk.retain(&sam, &a, "2040-01-01", "  ").await,
            Err(DeskError::Invalid(_))
        ));
        let rev = desk
            .retain(&sam, &a, "2040-01-01", "linked to Op Quokka")
            .await
            .unwrap();
        assert_eq!(rev.review_on, "2040-01-01");
        assert!(rev.set_by_review && !rev.due);
        assert_eq!(desk.queue(&ann, &due).await.unwrap().total, 0);
        let view = desk.case(&sam, &a).await.unwrap();
        assert_eq!(view.intel.reviews.len(), 1);
        assert_eq!(view.intel.reviews[0].reason, "linked to Op Quokka");
        let log = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap();
        let r = log.iter().find(|r| r.action == "retention-review").unwrap();
        assert_eq!(r.detail.as_deref(), Some("retain until 2040-01-01"));
        assert!(!format!("{log:?}").contains("Quokka"));
        // An open case has no review date and cannot be retained.
        desk.set_status(&ann, &a, Status::Actioned).await.unwrap();
        assert!(desk.case(&ann, &a).await.unwrap().intel.review.is_none());
        assert!(matches!(
            desk.retain(&sam, &a, "2041-01-01", "x").await,
            Err(DeskError::Invalid(m)) if m.contains("closed")
        ));
    }

    /// A case deleted at one desk leaves the other desk's queue (and its
    /// memory) at that desk's next sync, on both backends.
    async fn another_desk_forgets_a_deleted_case(backend: quietline_testkit::server::Backend) {
        let t = TestHome::new("north");
        let Some((v1, v2, _db)) = shared_vaults(&t, backend).await else {
            return;
        };
        let gone = t
            .store(
                &v1,
                "2026-12-01",
                &Reporter::new().report("canary-row-text", "b", "c"),
            )
            .await;
        let kept = t
            .store(&v1, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let a = t.desk_on(v1).await;
        let b = t.desk_on(v2).await;
        let (ann, sam) = (handler("ann"), supervisor("sam"));
        let all = QueueQuery {
            view: View::All,
            ..QueueQuery::default()
        };
        assert_eq!(b.queue(&ann, &all).await.unwrap().total, 2);
        a.set_status(&ann, &gone, Status::Closed).await.unwrap();
        a.delete_case(&sam, &gone, &gone).await.unwrap();
        let rows = b.queue(&ann, &all).await.unwrap().rows;
        assert_eq!(
            rows.iter().map(|r| r.case_id.as_str()).collect::<Vec<_>>(),
            [kept.as_str()]
        );
        let found = b
            .queue(
                &ann,
                &QueueQuery {
                    view: View::All,
                    search: Some("canary-row-text".into()),
                    ..QueueQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.total, 0, "its text is gone from the other index too");
        assert!(matches!(
            b.case(&ann, &gone).await,
            Err(DeskError::NoSuchCase(_)) | Err(DeskError::Vault(_))
        ));
    }

    use quietline_testkit::server::Backend;
    quietline_testkit::on_both_backends!(another_desk_forgets_a_deleted_case);
}

//! The desk's intelligence use cases (issue 17): grading a case 3x5x2 and
//! triaging it (a THRIVE assessment, the first or a RE-THRIVE, with the
//! priority), and where each case stands against its response target.
//!
//! Each change is a sealed record on the case id and an audit entry naming
//! the account (`grade`; `thrive` with detail `THRIVE` or `RE-THRIVE`;
//! `priority`, `status` as the other actions write them). The audit log
//! never holds the grading, the assessment or a reason: they are case
//! content. The rules themselves are [`crate::intel`]'s; this file applies
//! them to the case as the index knows it. Reading a case's grading and
//! assessments is [`Desk::case`] (audited `show`), whose view carries them
//! in [`CaseIntel`].

use super::index::{CaseData, CaseEntry, Event};
use super::queue::QueueRow;
use super::{Desk, DeskError, Handler, Priority, Status};
use crate::intel::grading::{self, GradingInput};
use crate::intel::targets::unix_of;
use crate::intel::{
    Assessment, Due, Grading, HandlingCode, ResponseTargets, Review, SourceEvaluation, Thrive,
};
use crate::records::{Record, RecordBody};

/// What the index keeps of a case's intelligence handling (no text: the
/// grading's codes only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IntelEntry {
    /// The current grading's codes (conditions stay sealed).
    pub grading: Option<(SourceEvaluation, Assessment, HandlingCode)>,
    /// THRIVE assessments made (the first at triage, then RE-THRIVEs).
    pub thrives: u32,
    /// When the response target started (see [`crate::intel::targets`]).
    pub target_from: Option<u64>,
    /// When the case was last closed (the retention rule runs from it).
    pub closed_at: Option<u64>,
    /// The latest retention review's new review day (`YYYY-MM-DD`).
    pub retained_until: Option<String>,
}

impl IntelEntry {
    /// Apply one record (any kind) in the order the vault wrote it.
    pub fn apply(&mut self, r: &Record) {
        match &r.body {
            RecordBody::Grade { grading, .. } => {
                self.grading = Some((grading.source, grading.assessment, grading.handling));
            }
            RecordBody::Thrive { .. } => {
                self.thrives += 1;
                if self.target_from.is_none() {
                    self.target_from = unix_of(&r.at);
                }
            }
            RecordBody::Priority { .. } if self.thrives > 0 => {
                // A change of priority after triage restarts the target.
                self.target_from = unix_of(&r.at).or(self.target_from);
            }
            RecordBody::Status {
                status: Status::Closed,
            } => {
                self.closed_at = unix_of(&r.at).or(self.closed_at);
            }
            RecordBody::RetentionReview { next_review, .. } => {
                self.retained_until = Some(next_review.clone());
            }
            _ => {}
        }
    }

    /// `2 B P`, if graded.
    pub fn code(&self) -> Option<String> {
        self.grading
            .map(|(s, a, h)| format!("{} {} {}", s.code(), a.code(), h.code()))
    }
}

/// One grading of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradingEntry {
    /// When (the desk's UTC time, RFC 3339).
    pub at: String,
    /// The account.
    pub by: String,
    /// The grading.
    pub grading: Grading,
    /// Why it changed (required when the source evaluation changed).
    pub reason: Option<String>,
}

/// One THRIVE assessment of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThriveEntry {
    /// When (the desk's UTC time, RFC 3339).
    pub at: String,
    /// The account.
    pub by: String,
    /// A RE-THRIVE (not the first assessment).
    pub reassessment: bool,
    /// The six fields.
    pub thrive: Thrive,
}

/// A case's intelligence handling, as [`super::CaseView::intel`] carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseIntel {
    /// Every grading, oldest first; the last is the current one.
    pub gradings: Vec<GradingEntry>,
    /// Every THRIVE assessment, oldest first; the last is the current one.
    pub thrives: Vec<ThriveEntry>,
    /// Where the case stands against its response target (`None`: not triaged).
    pub due: Option<Due>,
    /// Its retention review (`None`: not closed; see
    /// [`crate::intel::retention`]). Filled by [`Desk::case`].
    pub review: Option<Review>,
    /// Every retention review that kept it, oldest first.
    pub reviews: Vec<super::retention::ReviewEntry>,
    /// Every disclosure to a partner, oldest first.
    pub disclosures: Vec<super::disclose::DisclosureEntry>,
}

impl CaseIntel {
    /// The current grading.
    pub fn grading(&self) -> Option<&Grading> {
        self.gradings.last().map(|g| &g.grading)
    }
    /// The current THRIVE assessment.
    pub fn thrive(&self) -> Option<&ThriveEntry> {
        self.thrives.last()
    }
}

/// Where a queue row stands (filled by [`Desk::queue`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowIntel {
    /// `2 B P`, if graded.
    pub grading: Option<String>,
    /// Against its response target (`None`: not triaged).
    pub due: Option<Due>,
    /// Its retention review (`None`: not closed).
    pub review: Option<Review>,
}

/// The intelligence part of a case view, from its opened records (no I/O).
pub(crate) fn case_intel(data: &CaseData) -> CaseIntel {
    let mut out = CaseIntel::default();
    for e in &data.events {
        let Event::Record { record, .. } = e else {
            continue;
        };
        match &record.body {
            RecordBody::Grade { grading, reason } => out.gradings.push(GradingEntry {
                at: record.at.clone(),
                by: record.by.clone(),
                grading: grading.clone(),
                reason: reason.clone(),
            }),
            RecordBody::RetentionReview {
                next_review,
                reason,
            } => out.reviews.push(super::retention::ReviewEntry {
                at: record.at.clone(),
                by: record.by.clone(),
                next_review: next_review.clone(),
                reason: reason.clone(),
            }),
            RecordBody::Disclosure {
                partner,
                reason,
                conditions,
                number,
                reference,
            } => out.disclosures.push(super::disclose::DisclosureEntry {
                at: record.at.clone(),
                by: record.by.clone(),
                partner: partner.clone(),
                reason: reason.clone(),
                conditions: conditions.clone(),
                number: *number,
                reference: reference.clone(),
            }),
            RecordBody::Thrive { thrive } => out.thrives.push(ThriveEntry {
                at: record.at.clone(),
                by: record.by.clone(),
                reassessment: !out.thrives.is_empty(),
                thrive: (**thrive).clone(),
            }),
            _ => {}
        }
    }
    out
}

/// What a triage did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triaged {
    /// It was a RE-THRIVE (the case had been assessed before).
    pub reassessment: bool,
    /// The priority changed.
    pub priority_changed: bool,
    /// The status went from `new` to `triaged`.
    pub status_changed: bool,
}

impl Desk {
    /// Seal `body` on `case_id` as `who`, then audit it (`action`, `detail`).
    pub(crate) async fn write_record(
        &self,
        who: &Handler,
        case_id: &str,
        action: &str,
        body: RecordBody,
        detail: Option<String>,
    ) -> Result<(), DeskError> {
        let ring = self.ring()?;
        let record = Record {
            v: crate::records::RECORD_VERSION,
            report: case_id.to_owned(),
            at: self.clock().now_rfc3339(),
            by: who.account.clone(),
            body,
        };
        crate::records::add(
            self.vault(),
            ring.force_id(),
            &ring.current_public_key(),
            &record,
        )
        .await?;
        self.record_audit(who, action, Some(case_id), detail).await
    }

    /// The force's response targets (`intel.toml` in the console home, or
    /// the defaults).
    pub fn response_targets(&self) -> Result<ResponseTargets, DeskError> {
        ResponseTargets::load(self.home().root()).map_err(|e| DeskError::Invalid(e.to_string()))
    }

    /// Where a case in the index stands against its target now.
    pub(crate) fn due_of(&self, targets: &ResponseTargets, c: &CaseEntry) -> Option<Due> {
        Due::compute(
            targets,
            c.priority,
            c.status,
            c.intel.target_from,
            self.clock().now_secs(),
        )
    }

    /// Fill the rows' grading and response target (the queue's column).
    pub(crate) fn fill_intel(&self, rows: &mut [QueueRow]) -> Result<(), DeskError> {
        let targets = self.response_targets().unwrap_or_default();
        let rules = self.retention_rules().unwrap_or_default();
        let idx = self.index_read()?;
        for row in rows {
            if let Some(c) = idx.get(&row.case_id) {
                row.intel = RowIntel {
                    grading: c.intel.code(),
                    due: self.due_of(&targets, c),
                    review: self.review_of(&rules, c),
                };
            }
        }
        Ok(())
    }

    pub(crate) fn workable(&self, who: &Handler, case_id: &str) -> Result<CaseEntry, DeskError> {
        let entry = self
            .index_read()?
            .get(case_id)
            .cloned()
            .ok_or_else(|| DeskError::NoSuchCase(case_id.to_owned()))?;
        if entry.is_unreadable() {
            // Nothing to grade or assess in a report nobody can read.
            return Err(if who.role.supervises() {
                DeskError::Invalid(
                    "this case's report cannot be read, so it cannot be graded or triaged".into(),
                )
            } else {
                DeskError::NoSuchCase(case_id.to_owned())
            });
        }
        Ok(entry)
    }

    /// Grade the case 3x5x2 (any handler). The rules are
    /// [`crate::intel::grading::check`]'s: the source evaluation starts at 2
    /// and changing it needs a reason; C needs conditions. Returns `false`
    /// (nothing written) when the grading is what the case already has and
    /// no reason is given. Audited (`grade`; never the grading).
    pub async fn grade(
        &self,
        who: &Handler,
        id: &str,
        input: &GradingInput,
    ) -> Result<bool, DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.sync().await?;
        let entry = self.workable(who, &case_id)?;
        let current = entry
            .intel
            .grading
            .map(|(source, assessment, handling)| Grading {
                source,
                assessment,
                handling,
                conditions: None,
            });
        let (grading, reason) = grading::check(current.as_ref(), input).map_err(|errors| {
            DeskError::Invalid(
                errors
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let same = entry.intel.grading
            == Some((grading.source, grading.assessment, grading.handling))
            && grading.handling == HandlingCode::P
            && reason.is_none();
        if same {
            return Ok(false);
        }
        let was_current = self.is_current(&case_id, &who.account);
        self.write_record(
            who,
            &case_id,
            "grade",
            RecordBody::Grade { grading, reason },
            None,
        )
        .await?;
        self.sync().await?;
        self.keep_current(&case_id, &who.account, was_current)
            .await?;
        Ok(true)
    }

    /// Triage the case: a THRIVE assessment (all six fields; the first is
    /// THRIVE, every later one a RE-THRIVE, never overwriting) and its
    /// priority; a `new` case becomes `triaged`. The response target starts
    /// at the first assessment and restarts when the priority changes.
    /// Audited: `thrive` (detail `THRIVE` or `RE-THRIVE`), then `priority`
    /// and `status` if they changed.
    pub async fn triage(
        &self,
        who: &Handler,
        id: &str,
        thrive: &Thrive,
        priority: Priority,
    ) -> Result<Triaged, DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.sync().await?;
        let entry = self.workable(who, &case_id)?;
        let thrive = thrive.check().map_err(|errors| {
            DeskError::Invalid(
                errors
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let was_current = self.is_current(&case_id, &who.account);
        let reassessment = entry.intel.thrives > 0;
        self.write_record(
            who,
            &case_id,
            "thrive",
            RecordBody::Thrive {
                thrive: Box::new(thrive),
            },
            Some(if reassessment { "RE-THRIVE" } else { "THRIVE" }.to_owned()),
        )
        .await?;
        let priority_changed = entry.priority != priority;
        if priority_changed {
            self.write_record(
                who,
                &case_id,
                "priority",
                RecordBody::Priority { priority },
                None,
            )
            .await?;
        }
        let status_changed = entry.status == Status::New;
        if status_changed {
            self.write_record(
                who,
                &case_id,
                "status",
                RecordBody::Status {
                    status: Status::Triaged,
                },
                None,
            )
            .await?;
        }
        self.sync().await?;
        self.keep_current(&case_id, &who.account, was_current)
            .await?;
        Ok(Triaged {
            reassessment,
            priority_changed,
            status_changed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{QueueQuery, TimelineEvent, View};
    use super::*;

    fn thrive(word: &str) -> Thrive {
        let mut t = Thrive::default();
        for k in crate::intel::thrive::FIELDS {
            t.set(k, &format!("{word} {k}"));
        }
        t
    }

    fn grade(s: &str, a: &str, h: &str, conditions: &str, reason: &str) -> GradingInput {
        GradingInput {
            source: s.into(),
            assessment: a.into(),
            handling: h.into(),
            conditions: conditions.into(),
            reason: reason.into(),
        }
    }

    async fn grading_history_on(vault: crate::vault::Vault, v2: crate::vault::Vault, t: &TestHome) {
        let id = t
            .store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        assert!(
            desk.grade(&ann, &id, &grade("2", "C", "P", "", ""))
                .await
                .unwrap()
        );
        assert!(
            !desk
                .grade(&ann, &id, &grade("2", "C", "P", "", ""))
                .await
                .unwrap(),
            "the same grading again writes nothing"
        );
        // The source evaluation moves only with a reason.
        assert!(matches!(
            desk.grade(&ann, &id, &grade("1", "B", "P", "", "")).await,
            Err(DeskError::Invalid(m)) if m.contains("reason")
        ));
        assert!(
            desk.grade(
                &ann,
                &id,
                &grade(
                    "1",
                    "B",
                    "C",
                    "Not outside the FIB",
                    "quietword-corroborated"
                )
            )
            .await
            .unwrap()
        );
        let view = desk.case(&ann, &id).await.unwrap();
        let codes: Vec<String> = view
            .intel
            .gradings
            .iter()
            .map(|g| g.grading.code())
            .collect();
        assert_eq!(codes, ["2 C P", "1 B C"], "history, oldest first");
        assert_eq!(
            view.intel.gradings[1].reason.as_deref(),
            Some("quietword-corroborated")
        );
        assert_eq!(view.intel.gradings[1].by, "ann");
        assert!(view.timeline.iter().any(|i| matches!(&i.event, TimelineEvent::Graded { grading, .. } if grading.code() == "1 B C")));
        let page = desk
            .queue(
                &ann,
                &QueueQuery {
                    view: View::All,
                    ..QueueQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.rows[0].intel.grading.as_deref(), Some("1 B C"));
        // A second desk on the same vault sees the grading.
        let other = t.desk_on(v2).await;
        let page = other
            .queue(
                &handler("bob"),
                &QueueQuery {
                    view: View::All,
                    ..QueueQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.rows[0].intel.grading.as_deref(), Some("1 B C"));
        let log = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap();
        assert_eq!(log.iter().filter(|r| r.action == "grade").count(), 2);
        let text = format!("{log:?}");
        assert!(
            !text.contains("quietword") && !text.contains("FIB"),
            "{text}"
        );
    }

    async fn grading_is_kept_sealed_with_history(backend: quietline_testkit::server::Backend) {
        let t = TestHome::new("north");
        let Some((v1, v2, _db)) = shared_vaults(&t, backend).await else {
            return;
        };
        grading_history_on(v1, v2, &t).await;
    }

    use quietline_testkit::server::Backend;
    quietline_testkit::on_both_backends!(grading_is_kept_sealed_with_history);

    #[tokio::test]
    async fn triage_then_re_thrive_keeps_both_and_the_target_runs_from_triage() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let id = t
            .store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        let all = QueueQuery {
            view: View::All,
            ..QueueQuery::default()
        };
        let row = desk.queue(&ann, &all).await.unwrap().rows.remove(0);
        assert_eq!(row.intel.due, None, "not triaged: no target");
        let first = desk
            .triage(&ann, &id, &thrive("first"), Priority::High)
            .await
            .unwrap();
        assert_eq!(
            first,
            Triaged {
                reassessment: false,
                priority_changed: true,
                status_changed: true
            }
        );
        desk.clock().advance(20 * 60);
        let row = desk.queue(&ann, &all).await.unwrap().rows.remove(0);
        assert_eq!(row.status, Status::Triaged);
        let due = row.intel.due.unwrap();
        assert!(!due.overdue);
        assert_eq!(due.words(), "40 minutes left");
        desk.clock().advance(60 * 60);
        let row = desk.queue(&ann, &all).await.unwrap().rows.remove(0);
        assert!(
            row.intel.due.as_ref().unwrap().overdue,
            "high, 80 minutes after triage"
        );
        // RE-THRIVE: a new entry, the first kept; lowering the priority
        // restarts the target.
        let second = desk
            .triage(&ann, &id, &thrive("second"), Priority::Medium)
            .await
            .unwrap();
        assert!(second.reassessment && second.priority_changed && !second.status_changed);
        let view = desk.case(&ann, &id).await.unwrap();
        let words: Vec<(&str, bool)> = view
            .intel
            .thrives
            .iter()
            .map(|e| (e.thrive.threat.as_str(), e.reassessment))
            .collect();
        assert_eq!(words, [("first threat", false), ("second threat", true)]);
        let due = view.intel.due.unwrap();
        assert!(!due.overdue && due.target_secs == 24 * 3600);
        // An incomplete assessment writes nothing.
        let mut t2 = thrive("third");
        t2.set("risk", "  ");
        assert!(matches!(
            desk.triage(&ann, &id, &t2, Priority::Medium).await,
            Err(DeskError::Invalid(m)) if m.contains("risk")
        ));
        assert_eq!(desk.case(&ann, &id).await.unwrap().intel.thrives.len(), 2);
        // Actioned: the target is met, never overdue.
        desk.set_status(&ann, &id, Status::Actioned).await.unwrap();
        desk.clock().advance(30 * 86_400);
        let row = desk.queue(&ann, &all).await.unwrap().rows.remove(0);
        assert!(row.intel.due.as_ref().unwrap().met);
        let log = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap();
        let thrives: Vec<Option<&str>> = log
            .iter()
            .filter(|r| r.action == "thrive")
            .map(|r| r.detail.as_deref())
            .collect();
        assert_eq!(thrives, [Some("THRIVE"), Some("RE-THRIVE")]);
        assert!(!format!("{log:?}").contains("threat"));
    }

    #[tokio::test]
    async fn a_force_sets_its_own_targets_in_intel_toml() {
        let t = TestHome::new("north");
        std::fs::write(
            t.home.root().join(crate::intel::targets::INTEL_FILE),
            "[response_targets]\nhigh = \"15m\"\n",
        )
        .unwrap();
        let vault = t.vault().await;
        let id = t
            .store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let desk = t.desk_on(vault).await;
        let ann = handler("ann");
        desk.triage(&ann, &id, &thrive("x"), Priority::High)
            .await
            .unwrap();
        desk.clock().advance(16 * 60);
        let view = desk.case(&ann, &id).await.unwrap();
        assert!(view.intel.due.unwrap().overdue);
    }
}

#[cfg(test)]
mod overdue_tests {
    use super::super::testing::*;
    use super::super::{QueueQuery, View};
    use super::*;

    #[tokio::test]
    async fn the_queue_filters_overdue_cases() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(
                t.store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
                    .await,
            );
        }
        let desk = t.desk_on(vault).await;
        let ann = handler("ann");
        let mut th = Thrive::default();
        for k in crate::intel::thrive::FIELDS {
            th.set(k, "x");
        }
        desk.triage(&ann, &ids[0], &th, Priority::High)
            .await
            .unwrap();
        desk.triage(&ann, &ids[1], &th, Priority::Low)
            .await
            .unwrap();
        desk.triage(&ann, &ids[2], &th, Priority::High)
            .await
            .unwrap();
        desk.set_status(&ann, &ids[2], Status::Actioned)
            .await
            .unwrap();
        let overdue = QueueQuery {
            view: View::All,
            overdue: true,
            ..QueueQuery::default()
        };
        assert_eq!(desk.queue(&ann, &overdue).await.unwrap().total, 0);
        desk.clock().advance(2 * 3600);
        let page = desk.queue(&ann, &overdue).await.unwrap();
        assert_eq!(
            page.rows
                .iter()
                .map(|r| r.case_id.as_str())
                .collect::<Vec<_>>(),
            [ids[0].as_str()],
            "high and not actioned: overdue; low: within 7 days; actioned: met"
        );
        assert!(page.rows[0].intel.due.as_ref().unwrap().overdue);
        desk.clock().advance(8 * 86_400);
        assert_eq!(desk.queue(&ann, &overdue).await.unwrap().total, 2);
    }
}

//! What handlers do to cases: status, take (assign to me), assign
//! (supervisors), priority, labels, mute, notes, one case at a time or in
//! bulk. Each change is a sealed record on the case id (see
//! [`crate::records`]) and an audit entry naming the account; bulk actions
//! write one of each per case changed.
//!
//! It owns who may do which change and what a change is. It does not show
//! anything decrypted (labels and notes are the handler's own words and are
//! never put in the audit log).

use super::queue::{QueueQuery, select};
use super::{Desk, DeskError, Handler, Priority, Status};
use crate::records::{self, Record, RecordBody};

/// The longest label, in characters.
pub const MAX_LABEL: usize = 40;
/// The longest note, in characters (a sealed record holds at most 64 KiB).
pub const MAX_NOTE: usize = 20_000;

/// A change to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Set the status.
    Status(Status),
    /// Assign to the handler acting.
    Take,
    /// Assign to an account, or to nobody (supervisors; a handler may only
    /// unassign a case that is theirs).
    Assign(Option<String>),
    /// Set the priority.
    Priority(Priority),
    /// Add and remove labels.
    Label {
        /// Labels to add.
        add: Vec<String>,
        /// Labels to remove.
        remove: Vec<String>,
    },
    /// Mute (later follow-ups arrive flagged, not as new work) or unmute.
    Mute(bool),
}

impl Action {
    /// The audit log's action name.
    pub fn audit_name(&self) -> &'static str {
        match self {
            Action::Status(_) => "status",
            Action::Take | Action::Assign(_) => "assign",
            Action::Priority(_) => "priority",
            Action::Label { .. } => "label",
            Action::Mute(true) => "mute",
            Action::Mute(false) => "unmute",
        }
    }
}

/// Which cases a bulk action applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
// Made once per request and matched once: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum BulkTarget {
    /// These cases (ids or unambiguous prefixes).
    Cases(Vec<String>),
    /// Every case matching the query, all pages.
    Query(QueueQuery),
}

/// What a bulk action did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BulkOutcome {
    /// Cases changed (one record and one audit entry each).
    pub changed: Vec<String>,
    /// Cases already as asked (nothing written).
    pub unchanged: usize,
    /// Cases not changed, with why (in the desk's words).
    pub failed: Vec<(String, String)>,
}

/// A label as stored: trimmed, 1–[`MAX_LABEL`] characters, no control characters.
pub fn check_label(label: &str) -> Result<String, DeskError> {
    let l = label.trim();
    if l.is_empty()
        || l.chars().count() > MAX_LABEL
        || l.chars().any(crate::text::is_unsafe)
        || l.chars().any(char::is_control)
    {
        return Err(DeskError::Invalid(format!(
            "a label must be 1 to {MAX_LABEL} characters with no control characters"
        )));
    }
    Ok(l.to_owned())
}

/// An account name as it may be assigned: 1–64 characters of letters,
/// digits, `.`, `_`, `-`, `@` and spaces.
pub fn check_account(name: &str) -> Result<String, DeskError> {
    let n = name.trim();
    if n.is_empty()
        || n.chars().count() > 64
        || !n
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | ' '))
    {
        return Err(DeskError::Invalid(
            "an account name is 1 to 64 letters, digits, spaces and . _ - @".into(),
        ));
    }
    Ok(n.to_owned())
}

/// An account a case can be assigned to (see [`Desk::assignees`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    /// The account name.
    pub account: String,
    /// Its role.
    pub role: super::Role,
}

impl Desk {
    /// Every account a case can be assigned to: the accounts not disabled
    /// (handlers, supervisors and custodians, who can do what a supervisor
    /// can), sorted by name. Account names are not case content: no audit
    /// entry.
    pub async fn assignees(&self) -> Result<Vec<Assignee>, DeskError> {
        let mut out: Vec<Assignee> = self
            .vault()
            .accounts()
            .await?
            .into_iter()
            .filter(|a| !a.disabled)
            .filter_map(|a| {
                super::Role::from_name(&a.role).map(|role| Assignee {
                    account: a.name.clone(),
                    role,
                })
            })
            .collect();
        out.sort_by(|a, b| a.account.cmp(&b.account));
        Ok(out)
    }

    /// Refuse assigning to anyone but an active account (a name typed
    /// wrong, or an account disabled since the list was shown).
    async fn check_assignee(&self, to: &str) -> Result<(), DeskError> {
        let active = self.vault().account(to).await?.is_some_and(|a| !a.disabled);
        if active {
            Ok(())
        } else {
            // The name is not repeated: it may be anything a person typed.
            Err(DeskError::Invalid(
                "no active account has that name: choose an account from the list (see `account list`)"
                    .into(),
            ))
        }
    }

    /// The record body for `action` on a case in the state `entry`, or
    /// `None` if the case is already so. Checks the role.
    fn body_for(
        &self,
        who: &Handler,
        action: &Action,
        entry: &super::index::CaseEntry,
    ) -> Result<Option<RecordBody>, DeskError> {
        Ok(match action {
            Action::Status(s) => (entry.status != *s || entry.muted_follow_up)
                .then_some(RecordBody::Status { status: *s }),
            Action::Take => (entry.assignee.as_deref() != Some(who.account.as_str())).then(|| {
                RecordBody::Assign {
                    to: Some(who.account.clone()),
                }
            }),
            Action::Assign(to) => {
                let to = to.as_deref().map(check_account).transpose()?;
                let own = match &to {
                    Some(a) => *a == who.account,
                    None => entry.assignee.as_deref() == Some(who.account.as_str()),
                };
                if !own && !who.role.supervises() {
                    return Err(DeskError::Forbidden {
                        role: who.role,
                        what: "assign cases to others (take a case, or ask a supervisor)",
                    });
                }
                (entry.assignee != to).then_some(RecordBody::Assign { to })
            }
            Action::Priority(p) => {
                (entry.priority != *p).then_some(RecordBody::Priority { priority: *p })
            }
            Action::Label { add, remove } => {
                let add: Vec<String> = add
                    .iter()
                    .map(|l| check_label(l))
                    .collect::<Result<_, _>>()?;
                let remove: Vec<String> = remove
                    .iter()
                    .map(|l| check_label(l))
                    .collect::<Result<_, _>>()?;
                let has = |l: &String| entry.labels.iter().any(|x| x.eq_ignore_ascii_case(l));
                let add: Vec<String> = add.into_iter().filter(|l| !has(l)).collect();
                let remove: Vec<String> = remove.into_iter().filter(has).collect();
                (!add.is_empty() || !remove.is_empty()).then_some(RecordBody::Label { add, remove })
            }
            Action::Mute(m) => (entry.muted != *m).then_some(RecordBody::Mute { muted: *m }),
        })
    }

    /// Seal `body` on `case_id` as `who`, then audit it.
    async fn write(
        &self,
        who: &Handler,
        case_id: &str,
        action: &str,
        body: RecordBody,
        detail: Option<String>,
    ) -> Result<(), DeskError> {
        let ring = self.ring()?;
        let record = Record {
            v: records::RECORD_VERSION,
            report: case_id.to_owned(),
            at: self.clock().now_rfc3339(),
            by: who.account.clone(),
            body,
        };
        records::add(
            self.vault(),
            ring.force_id(),
            &ring.current_public_key(),
            &record,
        )
        .await?;
        self.record_audit(who, action, Some(case_id), detail).await
    }

    fn entry(&self, case_id: &str) -> Result<super::index::CaseEntry, DeskError> {
        self.index_read()?
            .get(case_id)
            .cloned()
            .ok_or_else(|| DeskError::NoSuchCase(case_id.to_owned()))
    }

    /// Apply one action to one case. Returns whether anything changed
    /// (asking for what the case already is writes nothing).
    pub async fn act(&self, who: &Handler, id: &str, action: &Action) -> Result<bool, DeskError> {
        let case_id = self.resolve(who, id).await?;
        let entry = self.entry(&case_id)?;
        let was_current = self.is_current(&case_id, &who.account);
        let changed = self.act_on(who, &entry, action).await?;
        if changed {
            self.sync().await?;
            self.keep_current(&case_id, &who.account, was_current)
                .await?;
        }
        Ok(changed)
    }

    async fn act_on(
        &self,
        who: &Handler,
        entry: &super::index::CaseEntry,
        action: &Action,
    ) -> Result<bool, DeskError> {
        if entry.is_unreadable() && !who.role.supervises() {
            return Err(DeskError::NoSuchCase(entry.id.clone()));
        }
        let Some(body) = self.body_for(who, action, entry)? else {
            return Ok(false);
        };
        if let RecordBody::Assign { to: Some(to) } = &body
            && *to != who.account
        {
            self.check_assignee(to).await?;
        }
        // Account names are plaintext in the vault by design; a status,
        // priority or label is case content: sealed, never in the log.
        let detail = match &body {
            RecordBody::Assign { to } => Some(match to {
                Some(a) => format!("to {a}"),
                None => "to nobody".to_owned(),
            }),
            _ => None,
        };
        self.write(who, &entry.id, action.audit_name(), body, detail)
            .await?;
        Ok(true)
    }

    /// Set the case's status.
    pub async fn set_status(&self, who: &Handler, id: &str, s: Status) -> Result<bool, DeskError> {
        self.act(who, id, &Action::Status(s)).await
    }
    /// Assign the case to the handler acting.
    pub async fn take(&self, who: &Handler, id: &str) -> Result<bool, DeskError> {
        self.act(who, id, &Action::Take).await
    }
    /// Assign the case to `to` (or nobody).
    pub async fn assign(
        &self,
        who: &Handler,
        id: &str,
        to: Option<&str>,
    ) -> Result<bool, DeskError> {
        self.act(who, id, &Action::Assign(to.map(str::to_owned)))
            .await
    }
    /// Set the case's priority.
    pub async fn set_priority(
        &self,
        who: &Handler,
        id: &str,
        p: Priority,
    ) -> Result<bool, DeskError> {
        self.act(who, id, &Action::Priority(p)).await
    }
    /// Add and remove labels.
    pub async fn label(
        &self,
        who: &Handler,
        id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<bool, DeskError> {
        self.act(
            who,
            id,
            &Action::Label {
                add: add.to_vec(),
                remove: remove.to_vec(),
            },
        )
        .await
    }
    /// Mute or unmute.
    pub async fn mute(&self, who: &Handler, id: &str, muted: bool) -> Result<bool, DeskError> {
        self.act(who, id, &Action::Mute(muted)).await
    }

    /// Add an internal note (never sent to the reporter). Audited (`note`).
    pub async fn note(&self, who: &Handler, id: &str, text: &str) -> Result<(), DeskError> {
        if text.trim().is_empty() {
            return Err(DeskError::Invalid(
                "the note is empty; nothing was written".into(),
            ));
        }
        if text.chars().count() > MAX_NOTE {
            return Err(DeskError::Invalid(format!(
                "the note is longer than {MAX_NOTE} characters; nothing was written"
            )));
        }
        let case_id = self.resolve(who, id).await?;
        let entry = self.entry(&case_id)?;
        if entry.is_unreadable() && !who.role.supervises() {
            return Err(DeskError::NoSuchCase(case_id));
        }
        let was_current = self.is_current(&case_id, &who.account);
        self.write(
            who,
            &case_id,
            "note",
            RecordBody::Note {
                text: text.to_owned(),
            },
            None,
        )
        .await?;
        self.sync().await?;
        self.keep_current(&case_id, &who.account, was_current).await
    }

    /// Apply `action` to many cases (supervisors): one record and one audit
    /// entry per case changed. A case that fails does not stop the others.
    pub async fn bulk(
        &self,
        who: &Handler,
        target: &BulkTarget,
        action: &Action,
    ) -> Result<BulkOutcome, DeskError> {
        if !who.role.supervises() {
            return Err(DeskError::Forbidden {
                role: who.role,
                what: "act on many cases at once",
            });
        }
        self.sync().await?;
        let mut out = BulkOutcome::default();
        let entries: Vec<super::index::CaseEntry> = match target {
            BulkTarget::Query(q) => {
                q.validate()?;
                let timed = super::queue::Timed::of(self);
                let idx = self.index_read()?;
                select(&idx, q, who, &timed).into_iter().cloned().collect()
            }
            BulkTarget::Cases(ids) => {
                let mut v = Vec::with_capacity(ids.len());
                for id in ids {
                    match self.resolve(who, id).await.and_then(|c| self.entry(&c)) {
                        Ok(e) => v.push(e),
                        Err(e) => out.failed.push((id.clone(), e.to_string())),
                    }
                }
                v
            }
        };
        for entry in &entries {
            match self.act_on(who, entry, action).await {
                Ok(true) => out.changed.push(entry.id.clone()),
                Ok(false) => out.unchanged += 1,
                // The audit log or the vault is failing: stop, say how far it got.
                Err(e @ (DeskError::Audit(_) | DeskError::Vault(_) | DeskError::Locked)) => {
                    self.sync().await.ok();
                    return Err(e);
                }
                Err(e) => out.failed.push((entry.id.clone(), e.to_string())),
            }
        }
        self.sync().await?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{DeskError, QueueQuery, TimelineEvent, View};
    use super::*;

    async fn two_desks_see_each_other_s_assignment(
        t: &TestHome,
        v1: crate::vault::Vault,
        v2: crate::vault::Vault,
    ) {
        let id = t
            .store(&v1, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let d1 = t.desk_on(v1).await;
        let d2 = t.desk_on(v2).await;
        let ann = handler("ann");
        let bob = handler("bob");
        assert!(d1.take(&ann, &id).await.unwrap());
        let mine = QueueQuery {
            view: View::Mine,
            ..QueueQuery::default()
        };
        // The other desk sees it at its next use case.
        let page = d2
            .queue(
                &bob,
                &QueueQuery {
                    view: View::All,
                    ..QueueQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.rows[0].assignee.as_deref(), Some("ann"));
        assert_eq!(d2.queue(&ann, &mine).await.unwrap().total, 1);
        assert_eq!(
            d2.queue(&bob, &QueueQuery::default()).await.unwrap().total,
            0,
            "no longer unassigned"
        );
        // A handler may not give it to someone else; a supervisor may.
        assert!(matches!(d2.assign(&bob, &id, Some("bob")).await, Ok(true)));
        assert!(matches!(
            d2.assign(&bob, &id, Some("ann")).await,
            Err(DeskError::Forbidden { .. })
        ));
        // Only an active account can be given a case.
        assert!(matches!(
            d2.assign(&supervisor("sam"), &id, Some("ann")).await,
            Err(DeskError::Invalid(_))
        ));
        let actor = crate::audit::Actor::current(Some("sam".into()));
        crate::accounts::add(
            d2.vault(),
            &actor,
            "ann",
            super::super::Role::Handler,
            "2026-12-01",
        )
        .await
        .unwrap();
        crate::accounts::add(
            d2.vault(),
            &actor,
            "cat",
            super::super::Role::Handler,
            "2026-12-01",
        )
        .await
        .unwrap();
        crate::accounts::disable(d2.vault(), &actor, "cat")
            .await
            .unwrap();
        assert!(matches!(
            d2.assign(&supervisor("sam"), &id, Some("cat")).await,
            Err(DeskError::Invalid(_))
        ));
        let names: Vec<String> = d2
            .assignees()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.account)
            .collect();
        assert_eq!(names, ["ann"], "active accounts only");
        assert!(
            d2.assign(&supervisor("sam"), &id, Some("ann"))
                .await
                .unwrap()
        );
        let view = d1.case(&ann, &id).await.unwrap();
        let assigned: Vec<Option<String>> = view
            .timeline
            .iter()
            .filter_map(|i| match &i.event {
                TimelineEvent::Assigned { to } => Some(to.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            assigned,
            [Some("ann".into()), Some("bob".into()), Some("ann".into())],
            "the history, in order"
        );
        assert_eq!(view.assignee.as_deref(), Some("ann"));
        // Seen markers are shared too.
        let seen = d2.case(&bob, &id).await.unwrap().seen_by;
        assert!(
            seen.iter().any(|s| s.account == "ann" && s.current),
            "{seen:?}"
        );
    }

    async fn two_desks_on_one_vault(backend: quietline_testkit::server::Backend) {
        let t = TestHome::new("north");
        let Some((v1, v2, _db)) = shared_vaults(&t, backend).await else {
            return;
        };
        two_desks_see_each_other_s_assignment(&t, v1, v2).await;
    }

    use quietline_testkit::server::Backend;
    quietline_testkit::on_both_backends!(two_desks_on_one_vault);

    #[tokio::test]
    async fn priority_labels_mute_and_notes_are_sealed_records_with_audit_entries() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let id = t
            .store(&vault, "2026-12-01", &Reporter::new().report("a", "b", "c"))
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        desk.case(&ann, &id).await.unwrap();
        assert!(desk.set_priority(&ann, &id, Priority::High).await.unwrap());
        assert!(
            !desk.set_priority(&ann, &id, Priority::High).await.unwrap(),
            "no change, no record"
        );
        assert!(
            desk.label(&ann, &id, &["Drugs-Team".into(), "urgent".into()], &[])
                .await
                .unwrap()
        );
        assert!(
            desk.label(&ann, &id, &[], &["URGENT".into()])
                .await
                .unwrap()
        );
        desk.note(&ann, &id, "quietword-note passed to the team")
            .await
            .unwrap();
        assert!(matches!(
            desk.note(&ann, &id, "  ").await,
            Err(DeskError::Invalid(_))
        ));
        assert!(matches!(
            desk.label(&ann, &id, &["x\u{202e}y".into()], &[]).await,
            Err(DeskError::Invalid(_))
        ));
        let page = desk
            .queue(
                &ann,
                &QueueQuery {
                    view: View::All,
                    label: Some("drugs-team".into()),
                    ..QueueQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        let row = &page.rows[0];
        assert_eq!(
            (row.priority, row.labels.clone(), row.notes),
            (Priority::High, vec!["Drugs-Team".to_owned()], 1)
        );
        assert!(!row.unread, "her own changes do not make it unread for her");
        let log = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap();
        let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(
            actions,
            ["show", "priority", "label", "label", "note", "queue"]
        );
        assert!(log.iter().all(|r| r.handler.as_deref() == Some("ann")));
        let text = format!("{log:?}");
        assert!(
            !text.contains("quietword") && !text.contains("Drugs-Team"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn bulk_close_of_1000_cases_writes_1000_audit_entries() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        for i in 0..1000 {
            t.store(
                &vault,
                "2026-12-01",
                &Reporter::new().report(&format!("junk {i}"), "x", "y"),
            )
            .await;
        }
        let desk = t.desk_on(vault.clone()).await;
        let q = QueueQuery {
            view: View::All,
            search: Some("junk".into()),
            ..QueueQuery::default()
        };
        assert!(matches!(
            desk.bulk(
                &handler("ann"),
                &BulkTarget::Query(q.clone()),
                &Action::Status(Status::Closed)
            )
            .await,
            Err(DeskError::Forbidden { .. })
        ));
        let before = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap()
            .len();
        let started = std::time::Instant::now();
        let out = desk
            .bulk(
                &supervisor("sam"),
                &BulkTarget::Query(q),
                &Action::Status(Status::Closed),
            )
            .await
            .unwrap();
        eprintln!("bulk close of 1000: {:?}", started.elapsed());
        assert_eq!(
            (out.changed.len(), out.unchanged, out.failed.len()),
            (1000, 0, 0)
        );
        let log = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap();
        let closes: Vec<_> = log[before..]
            .iter()
            .filter(|r| r.action == "status")
            .collect();
        assert_eq!(closes.len(), 1000);
        assert_eq!(
            closes
                .iter()
                .filter_map(|r| r.report_id.clone())
                .collect::<std::collections::HashSet<_>>()
                .len(),
            1000,
            "one entry per case"
        );
        let page = desk
            .queue(&supervisor("sam"), &QueueQuery::default())
            .await
            .unwrap();
        assert_eq!(page.total, 0);
        assert_eq!(
            page.counts.by_status,
            [
                (Status::New, 0),
                (Status::Triaged, 0),
                (Status::Actioned, 0),
                (Status::Closed, 0)
            ]
        );
        // Again: nothing to change.
        let again = desk
            .bulk(
                &supervisor("sam"),
                &BulkTarget::Cases(out.changed[..3].to_vec()),
                &Action::Status(Status::Closed),
            )
            .await
            .unwrap();
        assert_eq!((again.changed.len(), again.unchanged), (0, 3));
    }
}

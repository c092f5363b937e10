//! Disclosure of a case to a partner outside the platform (issue 17: "a
//! case can also be disclosed to a non-platform partner (e.g. a local
//! authority safeguarding team) only as a sanitised report, with reason and
//! handling conditions recorded").
//!
//! As in a force intelligence bureau, a disclosure is authorised by a
//! supervisor, never a handler alone, and what leaves is one of the case's
//! sanitised intelligence reports ([`super::intel_report`]) — never the
//! reporter's words, reply material or the raw case. The disclosure is a
//! sealed `disclosure` record on the case (partner, reason, handling
//! conditions, which report), listed on the case; the audit entry
//! `disclose` names the report's reference and the partner (detail
//! `REFERENCE to PARTNER`; the reason and conditions stay sealed); the
//! signed export carries a `disclosure` member with the partner, purpose
//! and handling conditions, at the top of its printable page.
//!
//! It owns the disclosure rules (who, which report, what must be given); the
//! report's format and signature are [`crate::intel::report`]'s.

use super::export::{Export, ExportFormat};
use super::{Desk, DeskError, Handler};
use crate::intel::report::DisclosureJson;
use crate::records::RecordBody;
use crate::text::clean_line;

/// The longest partner name, in characters.
pub const MAX_PARTNER: usize = 120;
/// The longest reason or set of handling conditions, in characters.
pub const MAX_DISCLOSURE_TEXT: usize = 2000;

/// One disclosure, as the case lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The supervisor who authorised it.
    pub by: String,
    /// The partner.
    pub partner: String,
    /// Why.
    pub reason: String,
    /// The handling conditions.
    pub conditions: String,
    /// The sanitised report disclosed (its number on the case).
    pub number: u32,
    /// Its reference.
    pub reference: String,
}

/// What a supervisor fills in to disclose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisclosureForm {
    /// The sanitised report to disclose (its number on the case).
    pub number: u32,
    /// The partner, e.g. "Local authority safeguarding team".
    pub partner: String,
    /// Why it is disclosed (the lawful purpose).
    pub reason: String,
    /// The handling conditions the partner must keep to.
    pub conditions: String,
}

/// The form's checked values, or every problem as (field, message).
#[allow(clippy::type_complexity)]
pub fn check_form(
    f: &DisclosureForm,
) -> Result<(String, String, String), Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let partner = crate::intel::check_text("the partner", &f.partner, MAX_PARTNER)
        .map(|p| clean_line(&p, MAX_PARTNER))
        .map_err(|m| errors.push(("partner", m)))
        .ok();
    let reason =
        crate::intel::check_text("the reason for disclosure", &f.reason, MAX_DISCLOSURE_TEXT)
            .map_err(|m| errors.push(("reason", m)))
            .ok();
    let conditions = crate::intel::check_text(
        "the handling conditions",
        &f.conditions,
        MAX_DISCLOSURE_TEXT,
    )
    .map_err(|m| errors.push(("conditions", m)))
    .ok();
    match (partner, reason, conditions) {
        (Some(p), Some(r), Some(c)) if errors.is_empty() => Ok((p, r, c)),
        _ => Err(errors),
    }
}

impl Desk {
    /// Disclose sanitised report `form.number` of case `id` to a partner
    /// (supervisors): recorded on the case, audited (`disclose`), and
    /// returned signed with the disclosure (partner, purpose, handling
    /// conditions) in it, as JSON or a printable page.
    pub async fn disclose(
        &self,
        who: &Handler,
        id: &str,
        form: &DisclosureForm,
        format: ExportFormat,
    ) -> Result<Export, DeskError> {
        if !who.role.supervises() {
            return Err(DeskError::Forbidden {
                role: who.role,
                what: "disclose a case to a partner (a supervisor authorises disclosure)",
            });
        }
        let (partner, reason, conditions) = check_form(form).map_err(|e| {
            DeskError::Invalid(e.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; "))
        })?;
        let case_id = self.resolve(who, id).await?;
        let reports = self.report_form_of(&case_id).await?.reports;
        let Some(entry) = reports.iter().find(|r| r.report.number == form.number) else {
            return Err(DeskError::Invalid(if reports.is_empty() {
                "a case is disclosed only as a sanitised intelligence report: write one first"
                    .to_owned()
            } else {
                format!("this case has no intelligence report {}", form.number)
            }));
        };
        let reference = entry.report.reference.clone();
        let at = self.clock().now_rfc3339();
        let was_current = self.is_current(&case_id, &who.account);
        self.write_record(
            who,
            &case_id,
            "disclose",
            RecordBody::Disclosure {
                partner: partner.clone(),
                reason: reason.clone(),
                conditions: conditions.clone(),
                number: form.number,
                reference: reference.clone(),
            },
            Some(format!("{reference} to {partner}")),
        )
        .await?;
        self.sync().await?;
        self.keep_current(&case_id, &who.account, was_current)
            .await?;
        let disclosure = DisclosureJson {
            partner,
            purpose: reason,
            handling_conditions: conditions,
            authorised_by: who.account.clone(),
            disclosed_at: at,
        };
        let mut export = self
            .signed_report(who, &case_id, form.number, format, Some(disclosure))
            .await?;
        export.file_name = format!("{reference}-disclosure.{}", format.as_str());
        Ok(export)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Handler, Role};
    use super::*;
    use crate::intel::grading::GradingInput;
    use crate::intel::report::ReportDraft;

    #[tokio::test]
    async fn a_supervisor_discloses_a_sanitised_report_with_conditions() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let id = t
            .store(
                &vault,
                "2026-12-01",
                &Reporter::new().report("dealing near the school", "Tall Dave", "AB12 CDE"),
            )
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let (ann, sam) = (handler("ann"), supervisor("sam"));
        let cas = Handler {
            account: "cas".into(),
            role: Role::Custodian,
        };
        desk.create_export_key(&cas).await.unwrap();
        let form = DisclosureForm {
            number: 1,
            partner: "Local authority safeguarding team".into(),
            reason: "Child safeguarding referral".into(),
            conditions: "Not to be shared further without the force's consent".into(),
        };
        // Not a handler's to authorise.
        assert!(matches!(
            desk.disclose(&ann, &id, &form, ExportFormat::Json).await,
            Err(DeskError::Forbidden { .. })
        ));
        // Only as a sanitised report: none written yet.
        assert!(matches!(
            desk.disclose(&sam, &id, &form, ExportFormat::Json).await,
            Err(DeskError::Invalid(m)) if m.contains("sanitised")
        ));
        desk.grade(
            &ann,
            &id,
            &GradingInput {
                source: "2".into(),
                assessment: "C".into(),
                handling: "P".into(),
                ..GradingInput::default()
            },
        )
        .await
        .unwrap();
        let reference = desk
            .write_intel_report(
                &ann,
                &id,
                &ReportDraft {
                    title: "Supply near a school".into(),
                    text: "A male is said to supply drugs near a school.".into(),
                    ..ReportDraft::default()
                },
            )
            .await
            .unwrap();
        // Every field is needed.
        let missing = DisclosureForm {
            conditions: " ".into(),
            ..form.clone()
        };
        assert!(matches!(
            desk.disclose(&sam, &id, &missing, ExportFormat::Json).await,
            Err(DeskError::Invalid(m)) if m.contains("handling conditions")
        ));
        let e = desk
            .disclose(&sam, &id, &form, ExportFormat::Json)
            .await
            .unwrap();
        assert_eq!(e.file_name, format!("{reference}-disclosure.json"));
        let file = crate::intel::report::verify(e.body.as_bytes(), None).unwrap();
        let d = file.report.disclosure.unwrap();
        assert_eq!(d.partner, "Local authority safeguarding team");
        assert_eq!(
            d.handling_conditions,
            "Not to be shared further without the force's consent"
        );
        assert_eq!(d.authorised_by, "sam");
        assert!(!e.body.contains("Tall Dave") && !e.body.contains("AB12"));
        let page = desk
            .disclose(&sam, &id, &form, ExportFormat::Html)
            .await
            .unwrap();
        assert!(page.body.contains("Handling conditions for the recipient"));
        crate::intel::report::verify(page.body.as_bytes(), None).unwrap();
        // Listed on the case and in the audit log (reference and partner only).
        let view = desk.case(&ann, &id).await.unwrap();
        assert_eq!(view.intel.disclosures.len(), 2);
        assert_eq!(view.intel.disclosures[0].reference, reference);
        assert_eq!(
            view.intel.disclosures[0].reason,
            "Child safeguarding referral"
        );
        let log = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap();
        let d: Vec<_> = log.iter().filter(|r| r.action == "disclose").collect();
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[0].detail.as_deref(),
            Some(format!("{reference} to Local authority safeguarding team").as_str())
        );
        assert!(!format!("{log:?}").contains("consent"));
    }
}

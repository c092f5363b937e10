//! The desk's sanitised intelligence reports (issue 17): the form's
//! material (the case's grading and every line a reporter wrote, to choose
//! from), writing one (a sealed record of kind `intel-report`), exporting it
//! signed, and the force's export key.
//!
//! The export key is an Ed25519 key made by a custodian
//! ([`Desk::create_export_key`]); its private half is kept in the home as
//! `export-key.sealed`, sealed (HPKE, like every vault record) to the key
//! ring's current key, so it opens only in an unlocked desk; its public half
//! is `export-key.pub`, for the records team to pin. Audited:
//! `export-key-create` (detail: fingerprint), `show` "to write an
//! intelligence report", `intel-report` (detail: the reference and how many
//! attachments it includes, a count) and `intel-export` (detail: the
//! reference and format — ids, not content).
//!
//! Attachments (issue 19): none unless the handler chooses them; the rules
//! are [`report::check_attachments`]'s, fed by [`ReportForm::offers`]; a
//! chosen one is read only through [`Desk::intel_attachment_reader`] or
//! [`Desk::save_intel_attachment`], which refuse one the report did not
//! choose and audit each read (`attachment`) first.
//!
//! The rules of the report itself are [`crate::intel::report`]'s.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use quietline_crypto::payload::Payload;
use zeroize::Zeroizing;

use super::AttachmentInfo;
use super::export::{Export, ExportFormat};
use super::index::Event;
use super::{Desk, DeskError, Handler, Role};
use crate::intel::Grading;
use crate::intel::report::{
    self, AttachmentOffer, ForceJson, GradingJson, ReportDraft, ReportJson, SanitisedReport,
    SourceLine,
};
use crate::records::RecordBody;

/// The sealed private half of the export key, in the home.
pub const EXPORT_KEY_FILE: &str = "export-key.sealed";
/// Its public half, in the home.
pub const EXPORT_PUB_FILE: &str = "export-key.pub";

/// One written report, as the case keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelReportEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who wrote it.
    pub by: String,
    /// The report.
    pub report: SanitisedReport,
}

/// What the report form needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportForm {
    /// The case id.
    pub case_id: String,
    /// Its short form.
    pub short_id: String,
    /// The case's current grading (`None`: grade it first).
    pub grading: Option<Grading>,
    /// Every line a reporter wrote, to choose from by index.
    pub candidates: Vec<SourceLine>,
    /// Reports already written, oldest first.
    pub reports: Vec<IntelReportEntry>,
    /// Whether the force has an export key yet.
    pub export_key: Option<String>,
    /// The case's attachments (issue 19), to choose from by number: what
    /// each is and which metadata the desk still finds in it.
    pub attachments: Vec<AttachmentInfo>,
}

impl ReportForm {
    /// The attachments as [`report::check_attachments`] weighs them: a
    /// flagged or not-yet-fetched one cannot be chosen; one that
    /// [`AttachmentInfo::may_identify`] needs the handler's confirmation.
    pub fn offers(&self) -> Vec<AttachmentOffer> {
        self.attachments
            .iter()
            .map(|a| AttachmentOffer {
                number: a.number,
                file: super::export::attachment_file_name(&self.case_id, a.number, &a.media_type),
                media_type: a.media_type.clone(),
                size: a.size,
                sha256: a.sha256.clone().unwrap_or_default(),
                refused: (!a.is_stored() || a.sha256.is_none()).then(|| a.state_words()),
                needs_check: a.may_identify(),
            })
            .collect()
    }
}

/// The export key's public half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPublicKey {
    /// 32 bytes, base64url.
    pub public_key: String,
    /// [`report::fingerprint`].
    pub fingerprint: String,
}

fn lines_of(from: &str, value: &str, out: &mut Vec<SourceLine>) {
    for l in value.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push(SourceLine {
            from: from.to_owned(),
            text: l.to_owned(),
        });
    }
}

impl Desk {
    fn home_file(&self, name: &str) -> std::path::PathBuf {
        self.home().root().join(name)
    }

    /// The export key's public half, if a custodian made one.
    pub fn export_public_key(&self) -> Result<Option<ExportPublicKey>, DeskError> {
        let path = self.home_file(EXPORT_PUB_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(DeskError::Invalid(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        let public_key = text
            .lines()
            .find_map(|l| l.strip_prefix("public key: "))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        let bytes: [u8; 32] = B64
            .decode(&public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                DeskError::Invalid(format!(
                    "{} is not an export key's public half",
                    path.display()
                ))
            })?;
        Ok(Some(ExportPublicKey {
            fingerprint: report::fingerprint(&bytes),
            public_key,
        }))
    }

    /// Make the force's export key (custodians; once: an existing key is
    /// never replaced). Audited (`export-key-create`, the fingerprint).
    pub async fn create_export_key(&self, who: &Handler) -> Result<ExportPublicKey, DeskError> {
        if who.role < Role::Custodian {
            return Err(DeskError::Forbidden {
                role: who.role,
                what: "make the force's export key (a custodian does)",
            });
        }
        if self.export_public_key()?.is_some() || self.home_file(EXPORT_KEY_FILE).exists() {
            return Err(DeskError::Invalid(
                "this force already has an export key: records teams have pinned it, so it is not replaced".into(),
            ));
        }
        let ring = self.ring()?;
        let mut secret = Zeroizing::new([0u8; 32]);
        getrandom::fill(secret.as_mut())
            .map_err(|e| DeskError::Invalid(format!("no randomness: {e}")))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&secret);
        let public = key.verifying_key().to_bytes();
        let plain = Zeroizing::new(
            format!(
                "{{\"v\":1,\"type\":\"quietline-console/export-key\",\"secret\":\"{}\"}}",
                B64.encode(secret.as_ref())
            )
            .into_bytes(),
        );
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let sealed = quietline_crypto::seal::seal_report(
            &mut rng,
            ring.force_id(),
            &ring.current_public_key(),
            &plain,
        )
        .map_err(|e| DeskError::Invalid(format!("cannot seal the export key: {e}")))?;
        let fingerprint = report::fingerprint(&public);
        self.record_audit(who, "export-key-create", None, Some(fingerprint.clone()))
            .await?;
        crate::keystore::write_key_file(&self.home_file(EXPORT_KEY_FILE), &B64.encode(&sealed))
            .map_err(|e| DeskError::Invalid(e.to_string()))?;
        let public_key = B64.encode(public);
        crate::keystore::write_key_file(
            &self.home_file(EXPORT_PUB_FILE),
            &format!(
                "Quietline export key (Ed25519) of force {}\npublic key: {public_key}\nfingerprint: {fingerprint}\n",
                ring.force_id()
            ),
        )
        .map_err(|e| DeskError::Invalid(e.to_string()))?;
        Ok(ExportPublicKey {
            public_key,
            fingerprint,
        })
    }

    /// The export key's private half, opened with the key ring.
    fn export_key(&self) -> Result<ed25519_dalek::SigningKey, DeskError> {
        let path = self.home_file(EXPORT_KEY_FILE);
        let missing = || {
            DeskError::Invalid(
                "this force has no export key yet: a custodian makes it with `quietline-console export key create`".into(),
            )
        };
        let text = crate::keystore::read_key_text(&path).map_err(|_| missing())?;
        let sealed = B64
            .decode(text.trim())
            .map_err(|_| DeskError::Invalid(format!("{} is damaged", path.display())))?;
        let (plain, _) = self
            .ring()?
            .open_kind1(&sealed)
            .map_err(|f| DeskError::Invalid(format!("{} does not open: {f}", path.display())))?;
        #[derive(serde::Deserialize)]
        struct Sealed {
            v: u32,
            r#type: String,
            secret: String,
        }
        impl Drop for Sealed {
            fn drop(&mut self) {
                use zeroize::Zeroize;
                self.secret.zeroize();
            }
        }
        let s: Sealed = serde_json::from_slice(&plain)
            .map_err(|_| DeskError::Invalid(format!("{} is not an export key", path.display())))?;
        let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
            B64.decode(s.secret.as_bytes())
                .ok()
                .and_then(|b| b.try_into().ok())
                .filter(|_| s.v == 1 && s.r#type == "quietline-console/export-key")
                .ok_or_else(|| {
                    DeskError::Invalid(format!("{} is not an export key", path.display()))
                })?,
        );
        Ok(ed25519_dalek::SigningKey::from_bytes(&bytes))
    }

    /// The report form for a case: its grading, the lines a reporter wrote
    /// (to choose from) and the reports already written. Audited (`show`,
    /// "to write an intelligence report").
    pub async fn intel_report_form(
        &self,
        who: &Handler,
        id: &str,
    ) -> Result<ReportForm, DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.record_audit(
            who,
            "show",
            Some(&case_id),
            Some("to write an intelligence report".into()),
        )
        .await?;
        self.report_form_of(&case_id).await
    }

    pub(crate) async fn report_form_of(&self, case_id: &str) -> Result<ReportForm, DeskError> {
        let data = self.open_case(case_id).await?;
        let mut candidates = Vec::new();
        for f in super::case::fields_of(&data.report.payload) {
            lines_of(&f.label, &f.value, &mut candidates);
        }
        let mut follow_ups = 0;
        let mut reports = Vec::new();
        for e in &data.events {
            match e {
                Event::Message { msg, .. } => match &msg.payload {
                    Payload::FollowUp(f) => {
                        follow_ups += 1;
                        lines_of(
                            &format!("Follow-up {follow_ups}"),
                            &f.message,
                            &mut candidates,
                        );
                    }
                    other => {
                        for f in super::case::fields_of(other) {
                            lines_of(
                                &format!("Later report: {}", f.label),
                                &f.value,
                                &mut candidates,
                            );
                        }
                    }
                },
                Event::Record { record, .. } => {
                    if let RecordBody::IntelReport { sanitised: report } = &record.body {
                        reports.push(IntelReportEntry {
                            at: record.at.clone(),
                            by: record.by.clone(),
                            report: (**report).clone(),
                        });
                    }
                }
                Event::Reopened { .. } => {}
            }
        }
        let intel = super::intel::case_intel(&data);
        let attachments = self.attachments_of(&data).await?;
        Ok(ReportForm {
            case_id: case_id.to_owned(),
            short_id: crate::render::short(case_id).to_owned(),
            grading: intel.grading().cloned(),
            candidates,
            reports,
            export_key: self.export_public_key()?.map(|k| k.fingerprint),
            attachments,
        })
    }

    /// Write a sanitised intelligence report from the case (it must be
    /// graded). Returns its reference. Audited (`intel-report`, the reference).
    pub async fn write_intel_report(
        &self,
        who: &Handler,
        id: &str,
        draft: &ReportDraft,
    ) -> Result<String, DeskError> {
        let case_id = self.resolve(who, id).await?;
        let form = self.report_form_of(&case_id).await?;
        let Some(grading) = form.grading.clone() else {
            return Err(DeskError::Invalid(
                "grade the case (3x5x2) before writing its intelligence report".into(),
            ));
        };
        let (title, text, source_lines, marking) = report::check_draft(draft, &form.candidates)
            .map_err(|e| {
                DeskError::Invalid(e.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; "))
            })?;
        // The library decides, not only the form: a flagged file is never
        // included, one that may identify the source only when confirmed.
        let attachments = report::check_attachments(draft, &form.offers()).map_err(|e| {
            DeskError::Invalid(e.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; "))
        })?;
        let included = attachments.len();
        let number = form.reports.len() as u32 + 1;
        let reference = report::reference(self.force_id(), &form.short_id, number);
        let entry = self.index_read()?.get(&case_id).cloned();
        let (category, received_day) = entry
            .map(|c| (report::category_words(&c.category), c.day.clone()))
            .unwrap_or_default();
        let was_current = self.is_current(&case_id, &who.account);
        self.write_intel_record(
            who,
            &case_id,
            RecordBody::IntelReport {
                sanitised: Box::new(SanitisedReport {
                    reference: reference.clone(),
                    number,
                    marking,
                    grading,
                    title,
                    text,
                    source_lines,
                    attachments,
                    category,
                    received_day,
                }),
            },
            // How many attachments went in: a count, never their names.
            Some(format!("{reference}; attachments: {included}")),
        )
        .await?;
        self.sync().await?;
        self.keep_current(&case_id, &who.account, was_current)
            .await?;
        Ok(reference)
    }

    /// Export report `number` of the case, signed with the export key, as
    /// JSON or a printable page. Audited (`intel-export`, "FORMAT REFERENCE")
    /// before it is opened; `export-failed` if it then fails.
    pub async fn export_intel_report(
        &self,
        who: &Handler,
        id: &str,
        number: u32,
        format: ExportFormat,
    ) -> Result<Export, DeskError> {
        let case_id = self.resolve(who, id).await?;
        // No key: refused before the audit entry, as before.
        self.export_key()?;
        let fmt = match format {
            ExportFormat::Json => "json",
            ExportFormat::Html => "html",
        };
        self.record_audit(
            who,
            "intel-export",
            Some(&case_id),
            Some(format!("{fmt} report {number}")),
        )
        .await?;
        self.signed_report(who, &case_id, number, format, None)
            .await
    }

    /// Report `number` of the case as a signed file (no audit: the caller's),
    /// carrying `disclosure` if it is one.
    pub(crate) async fn signed_report(
        &self,
        who: &Handler,
        case_id: &str,
        number: u32,
        format: ExportFormat,
        disclosure: Option<report::DisclosureJson>,
    ) -> Result<Export, DeskError> {
        let key = self.export_key()?;
        let case_id = case_id.to_owned();
        let form = match self.report_form_of(&case_id).await {
            Ok(f) => f,
            Err(e) => {
                self.record_audit(who, "export-failed", Some(&case_id), None)
                    .await
                    .ok();
                return Err(e);
            }
        };
        let Some(entry) = form.reports.iter().find(|r| r.report.number == number) else {
            return Err(DeskError::Invalid(format!(
                "this case has no intelligence report {number}"
            )));
        };
        let r = &entry.report;
        let json = ReportJson {
            reference: r.reference.clone(),
            protective_marking: r.marking.as_str().to_owned(),
            force: ForceJson {
                id: self.force_id().to_owned(),
                name: self
                    .home()
                    .load_config()
                    .ok()
                    .and_then(|c| c.force_name)
                    .unwrap_or_else(|| self.force_id().to_owned()),
            },
            title: r.title.clone(),
            category: r.category.clone(),
            grading: GradingJson::of(&r.grading),
            intelligence: r.text.clone(),
            source_lines: r.source_lines.clone(),
            attachments: r.attachments.clone(),
            received_day: r.received_day.clone(),
            written_by: crate::desk::index::account_of(&entry.by),
            written_at: entry.at.clone(),
            exported_by: who.account.clone(),
            exported_at: self.clock().now_rfc3339(),
            time_zone: "UTC".to_owned(),
            disclosure,
        };
        let file = report::sign(&key, json);
        let (body, media_type, ext) = match format {
            ExportFormat::Json => (report::to_json(&file), "application/json", "json"),
            ExportFormat::Html => (
                report::render_html(&file),
                "text/html; charset=utf-8",
                "html",
            ),
        };
        Ok(Export {
            file_name: format!("{}.{ext}", r.reference),
            media_type,
            body: Zeroizing::new(body),
            // Only the attachments the handler chose (issue 19), under the
            // names the report links them by.
            attachments: r
                .attachments
                .iter()
                .filter_map(|c| {
                    form.attachments
                        .iter()
                        .find(|a| a.number == c.number)
                        .map(|a| (c.file.clone(), a.clone()))
                })
                .collect(),
        })
    }

    /// Check that report `report` of the case chose attachment `number`
    /// (issue 19): the report's page and the CLI hand out only those.
    pub(super) async fn check_report_chose(
        &self,
        case_id: &str,
        report: u32,
        number: u32,
    ) -> Result<(), DeskError> {
        let data = self.open_case(case_id).await?;
        let chose = data.events.iter().any(|e| {
            matches!(e, Event::Record { record, .. }
                if matches!(&record.body, RecordBody::IntelReport { sanitised: r }
                    if r.number == report && r.attachments.iter().any(|a| a.number == number)))
        });
        if chose {
            Ok(())
        } else {
            Err(DeskError::Invalid(format!(
                "intelligence report {report} of this case does not include attachment {number}"
            )))
        }
    }

    /// Attachment `number` of case `id` as included in its intelligence
    /// report `report`, to be read part by part (the report page's
    /// download). Audited (`attachment`, `n=NUMBER download, report
    /// REPORT`) before anything is decrypted; refused unless the report
    /// chose it.
    pub async fn intel_attachment_reader(
        &self,
        who: &Handler,
        id: &str,
        report: u32,
        number: u32,
    ) -> Result<(AttachmentInfo, crate::blobs::StoredReader), DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.record_audit(
            who,
            "attachment",
            Some(&case_id),
            Some(format!("n={number} download, report {report}")),
        )
        .await?;
        self.check_report_chose(&case_id, report, number).await?;
        let (info, a) = self.stored_attachment(&case_id, number).await?;
        let reader =
            crate::blobs::StoredReader::new(self.vault(), &info.message_id, info.index, &a)
                .map_err(super::attachments::read_error)?;
        Ok((info, reader))
    }

    /// Attachment `number` of case `id` as included in its intelligence
    /// report `report`, streamed to `out` (the CLI writes it beside the
    /// exported report). Audited (`attachment`, `n=NUMBER save, report
    /// REPORT`) before anything is decrypted; refused unless the report
    /// chose it. On an error the caller discards what `out` got.
    pub async fn save_intel_attachment(
        &self,
        who: &Handler,
        id: &str,
        report: u32,
        number: u32,
        out: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
    ) -> Result<AttachmentInfo, DeskError> {
        self.save_attachment_for(who, id, number, Some(report), out)
            .await
    }

    /// Seal an intelligence record on the case and audit it.
    async fn write_intel_record(
        &self,
        who: &Handler,
        case_id: &str,
        body: RecordBody,
        detail: Option<String>,
    ) -> Result<(), DeskError> {
        let ring = self.ring()?;
        let record = crate::records::Record {
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
        self.record_audit(who, "intel-report", Some(case_id), detail)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::intel::grading::GradingInput;

    fn custodian() -> Handler {
        Handler {
            account: "cas".into(),
            role: Role::Custodian,
        }
    }

    #[tokio::test]
    async fn a_sanitised_report_holds_no_reporter_text_unless_chosen_and_its_export_verifies() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let r = Reporter::new();
        let id = t
            .store(
                &vault,
                "2026-12-01",
                &r.report("quietword dealing nightly", "Tall Dave", "AB12 CDE"),
            )
            .await;
        t.store(
            &vault,
            "2026-12-02",
            &r.follow_up("quietfollow he has a dog"),
        )
        .await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        let draft = ReportDraft {
            title: "Supply of drugs".into(),
            text: "A male is said to supply drugs in the area most nights.".into(),
            chosen: vec![],
            marking: String::new(),
            ..ReportDraft::default()
        };
        assert!(matches!(
            desk.write_intel_report(&ann, &id, &draft).await,
            Err(DeskError::Invalid(m)) if m.contains("grade the case")
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
        let form = desk.intel_report_form(&ann, &id).await.unwrap();
        let dave = form
            .candidates
            .iter()
            .position(|c| c.text.contains("Tall Dave"))
            .unwrap();
        assert!(form.candidates.iter().any(|c| c.from == "Follow-up 1"));
        let material = quietline_crypto::payload::ReplyMaterial::from_secrets(&r.secrets);
        assert!(
            !form
                .candidates
                .iter()
                .any(|c| c.text.contains(&material.slot_key)
                    || c.text.contains(&material.thread_id)
                    || c.text.contains(&material.public_key)),
            "never the reply material"
        );
        let reference = desk.write_intel_report(&ann, &id, &draft).await.unwrap();
        assert_eq!(reference, format!("QL-north-{}-1", &id[..12]));
        // No export key yet.
        assert!(matches!(
            desk.export_intel_report(&ann, &id, 1, ExportFormat::Json).await,
            Err(DeskError::Invalid(m)) if m.contains("export key create")
        ));
        assert!(matches!(
            desk.create_export_key(&supervisor("sam")).await,
            Err(DeskError::Forbidden { .. })
        ));
        let pk = desk.create_export_key(&custodian()).await.unwrap();
        assert!(
            desk.create_export_key(&custodian()).await.is_err(),
            "never replaced"
        );
        let pinned: [u8; 32] = B64.decode(&pk.public_key).unwrap().try_into().unwrap();
        let json = desk
            .export_intel_report(&ann, &id, 1, ExportFormat::Json)
            .await
            .unwrap();
        assert!(!json.body.contains("quietword") && !json.body.contains("quietfollow"));
        assert!(!json.body.contains("Tall Dave"));
        assert!(
            json.body
                .contains("\"protective_marking\": \"OFFICIAL-SENSITIVE\"")
        );
        assert!(json.body.contains("\"code\": \"2 C P\""));
        let file = report::verify(json.body.as_bytes(), Some(&pinned)).unwrap();
        assert_eq!(file.report.reference, reference);
        let html = desk
            .export_intel_report(&ann, &id, 1, ExportFormat::Html)
            .await
            .unwrap();
        assert!(report::verify(html.body.as_bytes(), Some(&pinned)).is_ok());
        assert!(!html.body.contains("Tall Dave"));
        // A second report, one line chosen: only that line.
        let two = desk
            .write_intel_report(
                &ann,
                &id,
                &ReportDraft {
                    chosen: vec![dave],
                    ..draft.clone()
                },
            )
            .await
            .unwrap();
        assert!(two.ends_with("-2"));
        let json = desk
            .export_intel_report(&ann, &id, 2, ExportFormat::Json)
            .await
            .unwrap();
        assert!(json.body.contains("Tall Dave"));
        assert!(!json.body.contains("quietword"));
        // A fresh desk (the key ring unlocked again) opens the sealed key.
        let again = t.desk_on(vault.clone()).await;
        assert!(
            again
                .export_intel_report(&ann, &id, 2, ExportFormat::Json)
                .await
                .is_ok()
        );
        let log = crate::vault::Vault::collect(vault.audit_entries())
            .await
            .unwrap();
        let actions: Vec<(&str, Option<&str>)> = log
            .iter()
            .filter(|e| e.action.starts_with("intel") || e.action.starts_with("export"))
            .map(|e| (e.action.as_str(), e.detail.as_deref()))
            .collect();
        assert_eq!(
            actions[0],
            (
                "intel-report",
                Some(format!("{reference}; attachments: 0").as_str())
            )
        );
        assert!(actions.contains(&("export-key-create", Some(pk.fingerprint.as_str()))));
        assert!(actions.contains(&("intel-export", Some("html report 1"))));
        assert!(!format!("{log:?}").contains("Supply of drugs"));
        // The sealed key file is not the secret in the clear.
        let sealed = std::fs::read_to_string(t.home.root().join(EXPORT_KEY_FILE)).unwrap();
        assert!(!sealed.contains("secret"));
    }
}

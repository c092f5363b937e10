//! Export from the desk: one case (its report, thread, status history and
//! notes) as JSON or a printable HTML page, for the force's records system,
//! with a REQUIRED reason recorded in the audit log before anything is
//! decrypted.
//!
//! Raw export is for supervisors only (issue 17: "Raw case export stays
//! available to supervisors only, with a required reason"): it carries the
//! reporter's own words and reply material, which a handler passes on only
//! as a sanitised intelligence report ([`super::intel_report`]). A handler
//! is refused before anything is decrypted, and the refusal is not audited
//! (nothing was read).
//!
//! It owns the role rule, the reason rule and the audit steps (an entry before, and an
//! `export-failed` entry if the export then fails). The formats are
//! [`crate::export`]'s. Where the export goes (a download, a 0600 file) is
//! the front end's.
//!
//! **Attachments** (issue 19): the raw export lists every attachment of
//! the case ([`Export::attachments`]) and, in the HTML page, links each by
//! the file name [`attachment_file_name`] gives it, so the files saved
//! beside the export open from its links (the CLI writes them there with
//! [`Desk::save_attachment`], each read audited; the desk's download route
//! names each file the same way). The export never holds an attachment's
//! key: the `key` of every attachment entry is removed from the payloads
//! it copies. The sanitised intelligence report includes only the
//! attachments a handler chose (`crate::intel::report::check_attachments`),
//! under the same file names.
//!
//! The reason is the one piece of handler-written text the audit log keeps
//! in the clear, by design: it is why the export happened, for whoever
//! reviews the log, not part of the case (one line, at most
//! [`MAX_REASON`] characters).

use zeroize::Zeroizing;

use super::{Desk, DeskError, Handler};
use crate::text::clean_line;

/// The longest export reason, in characters.
pub const MAX_REASON: usize = 200;

/// Export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// JSON: every field of every message, the thread, notes, status history.
    Json,
    /// A self-contained printable HTML page (no script, no external resource).
    Html,
}

impl ExportFormat {
    /// `json` or `html`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Html => "html",
        }
    }
}

/// An export, ready to be handed over.
pub struct Export {
    /// A file name for it, e.g. `quietline-case-0123456789ab.json`.
    pub file_name: String,
    /// Its media type.
    pub media_type: &'static str,
    /// The text (zeroized on drop).
    pub body: Zeroizing<String>,
    /// The case's attachments (issue 19), each with the file name the
    /// export links it by: (file name, what it is). A front end that writes
    /// the export to a folder writes the stored ones beside it.
    pub attachments: Vec<(String, super::AttachmentInfo)>,
}

/// The file name an export links attachment `number` of `case_id` by, and
/// the desk's download gives it: `quietline-case-<short id>-attachment-<n><ext>`,
/// the extension from a fixed list of media types (nothing the reporter
/// wrote is in a file name).
pub fn attachment_file_name(case_id: &str, number: u32, media_type: &str) -> String {
    let ext = match media_type {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/webp" => ".webp",
        "image/gif" => ".gif",
        "image/heic" => ".heic",
        "video/mp4" => ".mp4",
        "video/quicktime" => ".mov",
        "video/webm" => ".webm",
        "application/pdf" => ".pdf",
        _ => ".bin",
    };
    format!(
        "quietline-case-{}-attachment-{number}{ext}",
        crate::render::short(case_id)
    )
}

/// Remove the `key` of every attachment entry in an exported payload.
fn drop_keys(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Array(list)) = map.get_mut("attachments") {
                for e in list.iter_mut() {
                    if let serde_json::Value::Object(entry) = e {
                        entry.remove("key");
                    }
                }
            }
            for (_, child) in map.iter_mut() {
                drop_keys(child);
            }
        }
        serde_json::Value::Array(list) => list.iter_mut().for_each(drop_keys),
        _ => {}
    }
}

fn attachment_json(case_id: &str, list: &[super::AttachmentInfo]) -> serde_json::Value {
    serde_json::Value::Array(
        list.iter()
            .map(|a| {
                serde_json::json!({
                    "number": a.number,
                    "message": a.message_id,
                    "file": attachment_file_name(case_id, a.number, &a.media_type),
                    "media_type": a.media_type,
                    "size": a.size,
                    "state": a.state_words(),
                    "metadata_found": a.metadata_found,
                    "metadata_removed": a.metadata_removed,
                    "metadata_remaining": a.metadata_remaining,
                })
            })
            .collect(),
    )
}

fn attachment_html(case_id: &str, list: &[super::AttachmentInfo]) -> String {
    use crate::export::escape;
    let mut h = String::from("<section>\n<h2>Attachments</h2>\n<ul>\n");
    for a in list {
        let name = attachment_file_name(case_id, a.number, &a.media_type);
        let link = if a.is_stored() {
            format!("<a href=\"{0}\">{0}</a>", escape(&name))
        } else {
            escape(&a.state_words())
        };
        h.push_str(&format!(
            "<li>{}. {} · {} bytes · {link} · metadata removed by the page: {}; still in the file: {}</li>\n",
            a.number,
            escape(&a.media_type),
            a.size,
            escape(&super::AttachmentInfo::words(
                &a.metadata_removed,
                crate::labels::Lang::En
            )),
            escape(&match &a.metadata_remaining {
                Some(k) => super::AttachmentInfo::words(k, crate::labels::Lang::En),
                None => "not read".into(),
            }),
        ));
    }
    h.push_str("</ul>\n<p class=\"meta\">The files are saved beside this page under these names.</p>\n</section>\n");
    h
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export")
            .field("file_name", &self.file_name)
            .field("media_type", &self.media_type)
            .finish_non_exhaustive()
    }
}

/// The reason as recorded: one line, 3 to [`MAX_REASON`] characters.
pub fn check_reason(reason: &str) -> Result<String, DeskError> {
    let r = clean_line(reason.trim(), MAX_REASON + 1);
    if r.chars().count() < 3 {
        return Err(DeskError::Invalid(
            "give the reason for this export (for example the request or reference it answers); it is recorded in the audit log. Nothing was exported".into(),
        ));
    }
    if r.chars().count() > MAX_REASON {
        return Err(DeskError::Invalid(format!(
            "the export reason is longer than {MAX_REASON} characters; nothing was exported"
        )));
    }
    Ok(r)
}

/// Raw export is a supervisor's (or custodian's); a handler is told to
/// ask one, or to write a sanitised intelligence report instead.
pub fn check_may_export(who: &Handler) -> Result<(), DeskError> {
    if who.role.supervises() {
        Ok(())
    } else {
        Err(DeskError::Forbidden {
            role: who.role,
            what: "export a case's raw report (a supervisor does, with a reason; you can write and export a sanitised intelligence report)",
        })
    }
}

impl Desk {
    /// Export case `id` as `who` (a supervisor), for `reason` (required). Audited
    /// (`export`, with the format and the reason) before the case is opened;
    /// if it then fails, an `export-failed` entry says so.
    pub async fn export(
        &self,
        who: &Handler,
        id: &str,
        format: ExportFormat,
        reason: &str,
    ) -> Result<Export, DeskError> {
        check_may_export(who)?;
        let reason = check_reason(reason)?;
        let case_id = self.resolve(who, id).await?;
        let fmt = format.as_str();
        self.record_audit(
            who,
            "export",
            Some(&case_id),
            Some(format!("{fmt}: {reason}")),
        )
        .await?;
        match self.export_inner(who, &case_id, format).await {
            Ok(e) => Ok(e),
            Err(e) => {
                // The desk's own words: flags and refusals never quote a report.
                let why = clean_line(&e.to_string(), 300);
                self.record_audit(
                    who,
                    "export-failed",
                    Some(&case_id),
                    Some(format!("{fmt}: {why}")),
                )
                .await?;
                Err(e)
            }
        }
    }

    /// Record that an export made by [`Desk::export`] could not be handed
    /// over (a file that could not be written): `export-failed`, with `why`
    /// in the front end's own words (cleaned to one line).
    pub async fn export_not_delivered(
        &self,
        who: &Handler,
        case_id: &str,
        format: ExportFormat,
        why: &str,
    ) -> Result<(), DeskError> {
        let why = clean_line(why, 300);
        self.record_audit(
            who,
            "export-failed",
            Some(case_id),
            Some(format!("{}: {why}", format.as_str())),
        )
        .await
    }

    async fn export_inner(
        &self,
        who: &Handler,
        case_id: &str,
        format: ExportFormat,
    ) -> Result<Export, DeskError> {
        let data = self.open_case(case_id).await?;
        let list = self.attachments_of(&data).await?;
        let at = self.clock().now_rfc3339();
        let t = &data.thread;
        let body = Zeroizing::new(match format {
            ExportFormat::Json => {
                let mut v = crate::export::to_json(t, self.force_id(), &at, &who.account);
                drop_keys(&mut v);
                if !list.is_empty()
                    && let serde_json::Value::Object(map) = &mut v
                {
                    map.insert("attachments".into(), attachment_json(case_id, &list));
                }
                crate::export::json_text(&v)
            }
            ExportFormat::Html => {
                let mut h = crate::export::to_html(t, self.force_id(), &at, &who.account);
                if !list.is_empty() {
                    let section = attachment_html(case_id, &list);
                    match h.rfind("</body>") {
                        Some(i) => h.insert_str(i, &section),
                        None => h.push_str(&section),
                    }
                }
                h
            }
        });
        Ok(Export {
            file_name: format!(
                "quietline-case-{}.{}",
                crate::render::short(case_id),
                format.as_str()
            ),
            media_type: match format {
                ExportFormat::Json => "application/json",
                ExportFormat::Html => "text/html; charset=utf-8",
            },
            body,
            attachments: list
                .into_iter()
                .map(|a| (attachment_file_name(case_id, a.number, &a.media_type), a))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{AuditQuery, DeskError, QueueQuery, View};
    use super::*;

    #[tokio::test]
    async fn export_needs_a_reason_and_records_it() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let id = t
            .store(
                &vault,
                "2026-12-01",
                &Reporter::new().report("dealing", "Tall Dave", "AB12 CDE"),
            )
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        // A handler may not export the raw report, reason or not, and is
        // refused before anything is read or audited.
        assert!(matches!(
            desk.export(&ann, &id, ExportFormat::Json, "CID request 42")
                .await,
            Err(DeskError::Forbidden { .. })
        ));
        // The same account as a supervisor.
        let ann_sup = supervisor("ann");
        assert!(matches!(
            desk.export(&ann_sup, &id, ExportFormat::Json, " ").await,
            Err(DeskError::Invalid(_))
        ));
        assert!(
            crate::vault::Vault::collect(vault.audit_entries())
                .await
                .unwrap()
                .is_empty(),
            "refused before anything"
        );
        let e = desk
            .export(&ann_sup, &id, ExportFormat::Json, "CID request 42")
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(
            v["report"]["payload"]["report"]["vehicles"][0]["registration"],
            "AB12 CDE"
        );
        assert_eq!(v["exported_by"], "ann");
        let h = desk
            .export(&ann_sup, &id, ExportFormat::Html, "CID request 42")
            .await
            .unwrap();
        assert!(h.body.contains("Tall Dave") && h.file_name.ends_with(".html"));
        let sam = supervisor("sam");
        let page = desk
            .audit_log(
                &sam,
                &AuditQuery {
                    case: Some(id[..8].into()),
                    ..AuditQuery::default()
                },
            )
            .await
            .unwrap();
        // Reading the log is itself recorded, first.
        assert_eq!(page.total, 3);
        assert_eq!(page.entries[0].action, "audit-view");
        assert_eq!(
            page.entries[1].detail.as_deref(),
            Some("html: CID request 42"),
            "newest first"
        );
        assert!(matches!(
            desk.audit_log(&ann, &AuditQuery::default()).await,
            Err(DeskError::Forbidden { .. })
        ));
        let by_ann = desk
            .audit_log(
                &sam,
                &AuditQuery {
                    account: Some("ann".into()),
                    ..AuditQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(by_ann.total, 2);
        let check = desk
            .verify_audit(&sam, by_ann.entries.last().map(|r| r.hash.as_str()))
            .await
            .unwrap();
        assert!(check.intact(), "{check:?}");
        assert!(
            !desk
                .verify_audit(&sam, Some(&"0".repeat(64)))
                .await
                .unwrap()
                .intact()
        );
    }

    /// No public path returns decrypted text without its audit entry: with
    /// the audit log unwritable, every reading use case refuses.
    #[tokio::test]
    async fn the_audit_entry_precedes_every_decrypting_call() {
        use sqlx::Connection;
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let id = t
            .store(
                &vault,
                "2026-12-01",
                &Reporter::new().report("dealing", "Tall Dave", "AB12 CDE"),
            )
            .await;
        let desk = t.desk_on(vault.clone()).await;
        let ann = handler("ann");
        // Each call writes its entry first, naming the account.
        let count = || async {
            crate::vault::Vault::collect(vault.audit_entries())
                .await
                .unwrap()
        };
        desk.queue(
            &ann,
            &QueueQuery {
                view: View::All,
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
        desk.case(&ann, &id).await.unwrap();
        desk.reply_form(&ann, &id).await.unwrap();
        desk.export(&supervisor("ann"), &id, ExportFormat::Json, "court order")
            .await
            .unwrap();
        let log = count().await;
        assert_eq!(
            log.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
            ["queue", "show", "show", "export"]
        );
        assert!(log.iter().all(|r| r.handler.as_deref() == Some("ann")));
        // Break the audit log: nothing decrypted comes out.
        let url = format!("sqlite://{}", t.home.vault_path().display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(FAIL, 'audit refused'); END")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let audit_err =
            |r: Result<(), DeskError>| assert!(matches!(r, Err(DeskError::Audit(_))), "{r:?}");
        audit_err(
            desk.queue(
                &ann,
                &QueueQuery {
                    view: View::All,
                    ..QueueQuery::default()
                },
            )
            .await
            .map(|_| ()),
        );
        audit_err(
            desk.queue(
                &ann,
                &QueueQuery {
                    search: Some("dave".into()),
                    ..QueueQuery::default()
                },
            )
            .await
            .map(|_| ()),
        );
        audit_err(desk.case(&ann, &id).await.map(|_| ()));
        audit_err(desk.reply_form(&ann, &id).await.map(|_| ()));
        audit_err(
            desk.export(&supervisor("ann"), &id, ExportFormat::Html, "court order")
                .await
                .map(|_| ()),
        );
        audit_err(
            desk.audit_log(&supervisor("sam"), &AuditQuery::default())
                .await
                .map(|_| ()),
        );
    }
}

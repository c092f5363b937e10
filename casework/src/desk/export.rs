//! Export from the desk: one case (its report, thread, status history and
//! notes) as JSON or a printable HTML page, for the force's records system,
//! with a REQUIRED reason recorded in the audit log before anything is
//! decrypted.
//!
//! It owns the reason rule and the audit steps (an entry before, and an
//! `export-failed` entry if the export then fails). The formats are
//! [`crate::export`]'s. Where the export goes (a download, a 0600 file) is
//! the front end's.
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

impl Desk {
    /// Export case `id` as `who`, for `reason` (required). Audited
    /// (`export`, with the format and the reason) before the case is opened;
    /// if it then fails, an `export-failed` entry says so.
    pub async fn export(
        &self,
        who: &Handler,
        id: &str,
        format: ExportFormat,
        reason: &str,
    ) -> Result<Export, DeskError> {
        let reason = check_reason(reason)?;
        let case_id = self.resolve(who, id).await?;
        let fmt = format.as_str();
        self.audit(
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
                self.audit(
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

    async fn export_inner(
        &self,
        who: &Handler,
        case_id: &str,
        format: ExportFormat,
    ) -> Result<Export, DeskError> {
        let data = self.open_case(case_id).await?;
        let at = self.clock().now_rfc3339();
        let t = &data.thread;
        let body = Zeroizing::new(match format {
            ExportFormat::Json => crate::export::json_text(&crate::export::to_json(
                t,
                self.force_id(),
                &at,
                &who.account,
            )),
            ExportFormat::Html => crate::export::to_html(t, self.force_id(), &at, &who.account),
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
        })
    }
}

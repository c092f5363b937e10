//! The retention and disclosure pages of a case (issue 17), for
//! supervisors: `/cases/{id}/retention` (the review date, its rule and the
//! reviews so far; retain with a new date and a reason, or delete) and
//! `/cases/{id}/delete`; `/cases/{id}/disclose` (disclose one of the case's
//! sanitised intelligence reports to a partner outside the platform, with
//! the reason and handling conditions; the signed file as a download).
//! Labels carry their Welsh beside them (`lang="cy"`), as the other
//! intelligence pages do.
//!
//! It owns these URLs and form fields. Who may act, what a valid date or
//! disclosure is, what is deleted and what is audited are the casework
//! library's (`Desk::retain`, `Desk::delete_case`, `Desk::disclose`); a
//! handler gets the library's refusal as the 403 page. Reading the case for
//! these pages is `Desk::case` (audited `show`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use quietline_casework::desk::disclose::check_form;
use quietline_casework::desk::{CaseView, DeskError, DisclosureForm, ExportFormat};

use super::view::{self, Opt};
use super::{Fields, case_id_ok, desk_error, see_other};
use crate::AppState;
use crate::pages::{self, Layout, Section, render};
use crate::security::CurrentHandler;

/// The library's refusal for a handler, before anything is opened.
fn supervisor_only(current: &CurrentHandler, what: &'static str) -> Result<(), DeskError> {
    if current.handler.role.supervises() {
        Ok(())
    } else {
        Err(DeskError::Forbidden {
            role: current.handler.role,
            what,
        })
    }
}

/// One retention review that kept the case, for the page.
struct ReviewRow {
    next_review: String,
    reason: String,
    by: String,
    at: String,
    datetime: String,
}

#[derive(Template)]
#[template(path = "work/intel/retention.html")]
struct RetentionTemplate {
    layout: Layout,
    notice: Option<&'static str>,
    case_id: String,
    short_id: String,
    summary: super::intel::IntelSummary,
    reviews: Vec<ReviewRow>,
    next_review: String,
    reason: String,
    confirm: String,
}

fn retention_page(
    app: &AppState,
    current: &CurrentHandler,
    c: &CaseView,
    kept: (&str, &str, &str),
    errors: Vec<(&'static str, String)>,
    notice: Option<&'static str>,
) -> Response {
    let mut layout = Layout::signed_in(
        app,
        current,
        format!("Retention review, case {}", c.short_id),
        Section::Queue,
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    for (f, m) in errors {
        layout = layout.error(f, m);
    }
    let page = RetentionTemplate {
        layout,
        notice,
        case_id: c.case_id.clone(),
        short_id: c.short_id.clone(),
        summary: super::intel::summary(&c.intel),
        reviews: c
            .intel
            .reviews
            .iter()
            .rev()
            .map(|r| ReviewRow {
                next_review: r.next_review.clone(),
                reason: r.reason.clone(),
                by: r.by.clone(),
                at: view::when(&r.at),
                datetime: r.at.clone(),
            })
            .collect(),
        next_review: kept.0.to_owned(),
        reason: kept.1.to_owned(),
        confirm: kept.2.to_owned(),
    };
    render(status, &page)
}

const REVIEW_WHAT: &str = "review a case for retention (a supervisor does: retain it or delete it)";

/// `GET /cases/{id}/retention`.
pub(crate) async fn retention_form(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    if let Err(e) = supervisor_only(&current, REVIEW_WHAT) {
        return desk_error(&app, &current, e);
    }
    let notice = match Fields(q).get("done") {
        Some("retained") => Some("The case is kept until its new review date."),
        _ => None,
    };
    match app.desk.case(&current.handler, &id).await {
        Ok(c) => retention_page(&app, &current, &c, ("", "", ""), Vec::new(), notice),
        Err(e) => desk_error(&app, &current, e),
    }
}

/// `POST /cases/{id}/retention` (`next_review`, `reason`): keep the case.
pub(crate) async fn retain(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    if let Err(e) = supervisor_only(&current, REVIEW_WHAT) {
        return desk_error(&app, &current, e);
    }
    let f = Fields(f);
    let (next, reason) = (f.raw("next_review"), f.raw("reason"));
    match app.desk.retain(&current.handler, &id, next, reason).await {
        Ok(_) => match app.desk.resolve(&current.handler, &id).await {
            Ok(case_id) => see_other(&format!("/cases/{case_id}/retention?done=retained")),
            Err(e) => desk_error(&app, &current, e),
        },
        Err(DeskError::Invalid(m)) => {
            let field = if m.contains("reason") {
                "reason"
            } else {
                "next_review"
            };
            match app.desk.case(&current.handler, &id).await {
                Ok(c) => retention_page(
                    &app,
                    &current,
                    &c,
                    (next, reason, ""),
                    vec![(field, super::capitalised(&m))],
                    None,
                ),
                Err(e) => desk_error(&app, &current, e),
            }
        }
        Err(e) => desk_error(&app, &current, e),
    }
}

/// `POST /cases/{id}/delete` (`confirm`: the case's short id): delete it.
pub(crate) async fn delete(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let f = Fields(f);
    let confirm = f.raw("confirm");
    match app.desk.delete_case(&current.handler, &id, confirm).await {
        Ok(d) => {
            let mut said = vec![format!(
                "Its report, {} message{} in all, and {} sealed record{} are removed from the vault. The audit log keeps one entry with the case id.",
                d.envelopes,
                if d.envelopes == 1 { "" } else { "s" },
                d.records,
                if d.records == 1 { "" } else { "s" }
            )];
            if d.wal_truncated == Some(false) {
                said.push("Another connection was reading the vault, so its write-ahead log was not truncated: the deleted rows' old bytes may remain in vault.sqlite-wal until the next checkpoint (restarting the desk completes it).".to_owned());
            }
            let refs: Vec<&str> = said.iter().map(String::as_str).collect();
            pages::message(
                StatusCode::OK,
                Layout::signed_in(&app, &current, "", Section::Queue),
                "Case deleted",
                &refs,
                Some(("/", "Go to the queue")),
            )
        }
        Err(DeskError::Invalid(m)) => match app.desk.case(&current.handler, &id).await {
            Ok(c) => retention_page(
                &app,
                &current,
                &c,
                ("", "", confirm),
                vec![("confirm", super::capitalised(&m))],
                None,
            ),
            Err(e) => desk_error(&app, &current, e),
        },
        Err(e) => desk_error(&app, &current, e),
    }
}

/// One sanitised report to choose.
struct ReportChoice {
    number: u32,
    text: String,
    on: bool,
}

#[derive(Template)]
#[template(path = "work/intel/disclose.html")]
struct DiscloseTemplate {
    layout: Layout,
    case_id: String,
    short_id: String,
    reports: Vec<ReportChoice>,
    formats: Vec<Opt>,
    partner: String,
    reason: String,
    conditions: String,
    summary: super::intel::IntelSummary,
}

const DISCLOSE_WHAT: &str = "disclose a case to a partner (a supervisor authorises disclosure)";

async fn disclose_page(
    app: &AppState,
    current: &CurrentHandler,
    id: &str,
    form: &DisclosureForm,
    format: ExportFormat,
    errors: Vec<(&'static str, String)>,
) -> Response {
    let c = match app.desk.case(&current.handler, id).await {
        Ok(c) => c,
        Err(e) => return desk_error(app, current, e),
    };
    let reports = match app.desk.intel_report_form(&current.handler, id).await {
        Ok(f) => f.reports,
        Err(e) => return desk_error(app, current, e),
    };
    let mut layout = Layout::signed_in(
        app,
        current,
        format!("Disclose case {}", c.short_id),
        Section::Queue,
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    for (f, m) in errors {
        layout = layout.error(f, m);
    }
    let chosen = if form.number == 0 {
        reports.last().map(|r| r.report.number).unwrap_or(0)
    } else {
        form.number
    };
    let page = DiscloseTemplate {
        layout,
        case_id: c.case_id.clone(),
        short_id: c.short_id.clone(),
        reports: reports
            .iter()
            .map(|r| ReportChoice {
                number: r.report.number,
                text: format!(
                    "{}: {} ({}, graded {})",
                    r.report.reference,
                    r.report.title,
                    r.report.marking.as_str(),
                    r.report.grading.code()
                ),
                on: r.report.number == chosen,
            })
            .collect(),
        formats: vec![
            Opt::new("json", "Signed JSON", format == ExportFormat::Json),
            Opt::new("html", "Printable page", format == ExportFormat::Html),
        ],
        partner: form.partner.clone(),
        reason: form.reason.clone(),
        conditions: form.conditions.clone(),
        summary: super::intel::summary(&c.intel),
    };
    render(status, &page)
}

/// `GET /cases/{id}/disclose`.
pub(crate) async fn disclose_form(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    if let Err(e) = supervisor_only(&current, DISCLOSE_WHAT) {
        return desk_error(&app, &current, e);
    }
    disclose_page(
        &app,
        &current,
        &id,
        &DisclosureForm::default(),
        ExportFormat::Json,
        Vec::new(),
    )
    .await
}

/// `POST /cases/{id}/disclose` (`number`, `partner`, `reason`,
/// `conditions`, `format`): the signed file, with the disclosure in it, as
/// a download; or the form again with what is missing.
pub(crate) async fn disclose(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    if let Err(e) = supervisor_only(&current, DISCLOSE_WHAT) {
        return desk_error(&app, &current, e);
    }
    let f = Fields(f);
    let form = DisclosureForm {
        number: f.get("number").and_then(|n| n.parse().ok()).unwrap_or(0),
        partner: f.raw("partner").to_owned(),
        reason: f.raw("reason").to_owned(),
        conditions: f.raw("conditions").to_owned(),
    };
    let format = if f.get("format") == Some("html") {
        ExportFormat::Html
    } else {
        ExportFormat::Json
    };
    let mut errors = check_form(&form).err().unwrap_or_default();
    if form.number == 0 {
        errors.insert(
            0,
            (
                "number",
                "Choose the sanitised report to disclose (write one first if there is none)"
                    .to_owned(),
            ),
        );
    }
    if !errors.is_empty() {
        let errors = errors
            .into_iter()
            .map(|(k, m)| (k, super::capitalised(&m)))
            .collect();
        return disclose_page(&app, &current, &id, &form, format, errors).await;
    }
    match app
        .desk
        .disclose(&current.handler, &id, &form, format)
        .await
    {
        Ok(e) => super::download(&e.body, e.media_type, &e.file_name),
        Err(DeskError::Invalid(m)) => {
            disclose_page(
                &app,
                &current,
                &id,
                &form,
                format,
                vec![("number", super::capitalised(&m))],
            )
            .await
        }
        Err(e) => desk_error(&app, &current, e),
    }
}

//! Passing a case to another force (issue 17): the supervisors' form
//! (`GET /cases/{id}/transfer`: which force, why), its check-your-answers
//! step and the transfer itself (`POST /cases/{id}/transfer`, `step` =
//! `check` then `send`), and the summary the case page shows ("Transferred
//! to …" or "Transferred from …" with the sending force's note). Labels are
//! in English with the Welsh beside them (`lang="cy"`), as the intelligence
//! pages do.
//!
//! It owns these URLs, the form's fields and turning the library's answers
//! into pages. It does NOT decide who may transfer, which key is acceptable,
//! what is sent or what is audited: those are `Desk::transfer` and
//! `Desk::transfer_destinations`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use quietline_casework::desk::{CaseTransfer, DeskError, Destination};

use super::view;
use super::{Fields, case_id_ok, desk_error, see_other};
use crate::AppState;
use crate::pages::{Layout, Section, render};
use crate::security::CurrentHandler;

/// What the case page shows of a case's transfers.
#[derive(Default)]
pub(crate) struct TransferSummary {
    /// This force passed it on.
    pub to: Option<ToView>,
    /// Another force passed it here.
    pub from: Option<FromView>,
}

/// A transfer out, as the case page shows it.
pub(crate) struct ToView {
    pub name: String,
    pub at: String,
    pub by: String,
    pub reason: Vec<String>,
    pub sent: usize,
    pub pending: u32,
    pub attachments_not_passed: u32,
}

/// A transfer in, as the case page shows it (the sending force's note).
pub(crate) struct FromView {
    pub name: String,
    pub day: String,
    pub their_case: String,
    pub grading: Option<String>,
    pub reason: Vec<String>,
}

/// The summary of a case's transfers.
pub(crate) fn summary(t: &CaseTransfer) -> TransferSummary {
    TransferSummary {
        to: t.to.as_ref().map(|to| ToView {
            name: to.to_name.clone(),
            at: view::when(&to.at),
            by: to.by.clone(),
            reason: view::lines(&to.reason),
            sent: to.forwarded.len(),
            pending: to.pending,
            attachments_not_passed: to.attachments_not_passed,
        }),
        from: t.from.as_ref().map(|n| FromView {
            name: n.from_name.clone(),
            day: n.day.clone(),
            their_case: quietline_casework::render::short(&n.case).to_owned(),
            grading: n.grading.clone(),
            reason: view::lines(&n.reason),
        }),
    }
}

#[derive(Template)]
#[template(path = "work/transfer/form.html")]
struct FormTemplate {
    layout: Layout,
    case_id: String,
    forces: Vec<Destination>,
    chosen: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "work/transfer/check.html")]
struct CheckTemplate {
    layout: Layout,
    case_id: String,
    to: String,
    to_name: String,
    reason: String,
    reason_lines: Vec<String>,
}

async fn form_page(
    app: &AppState,
    current: &CurrentHandler,
    id: &str,
    chosen: String,
    reason: String,
    error: Option<(&'static str, String)>,
) -> Response {
    let forces = match app.desk.transfer_destinations(&current.handler).await {
        Ok(f) => f,
        Err(e) => return desk_error(app, current, e),
    };
    let mut layout = Layout::signed_in(
        app,
        current,
        "Transfer a case to another force",
        Section::Queue,
    );
    let status = match error {
        Some((field, m)) => {
            layout = layout.error(field, m);
            StatusCode::BAD_REQUEST
        }
        None => StatusCode::OK,
    };
    render(
        status,
        &FormTemplate {
            layout,
            case_id: id.to_owned(),
            forces,
            chosen,
            reason,
        },
    )
}

/// `GET /cases/{id}/transfer`: the form (supervisors).
pub(crate) async fn form(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    form_page(&app, &current, &id, String::new(), String::new(), None).await
}

/// `POST /cases/{id}/transfer` (`to`, `reason`, `step`): `check` shows what
/// will happen, `send` transfers and returns to the case; anything wrong
/// shows the form again with the error.
pub(crate) async fn step(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let reason = f.raw("reason").to_owned();
    let to = f.get("to").unwrap_or_default().to_owned();
    let forces = match app.desk.transfer_destinations(&current.handler).await {
        Ok(f) => f,
        Err(e) => return desk_error(&app, &current, e),
    };
    let Some(dest) = forces.iter().find(|d| d.id == to).cloned() else {
        return form_page(
            &app,
            &current,
            &id,
            String::new(),
            reason,
            Some(("to", "Choose the force to transfer the case to".into())),
        )
        .await;
    };
    if let Err(DeskError::Invalid(m)) = quietline_casework::desk::transfer::check_reason(&reason) {
        return form_page(
            &app,
            &current,
            &id,
            to,
            reason,
            Some(("reason", super::capitalised(&m))),
        )
        .await;
    }
    if f.get("step") != Some("send") {
        let layout = Layout::signed_in(&app, &current, "Check the transfer", Section::Queue);
        return render(
            StatusCode::OK,
            &CheckTemplate {
                layout,
                case_id: id,
                to: dest.id,
                to_name: dest.name,
                reason_lines: view::lines(&reason),
                reason,
            },
        );
    }
    match app
        .desk
        .transfer(&current.handler, &id, &dest.id, &reason)
        .await
    {
        Ok(out) => see_other(&format!("/cases/{}?done=transferred", out.case_id)),
        Err(DeskError::Invalid(m)) => {
            form_page(
                &app,
                &current,
                &id,
                to,
                reason,
                Some(("to", super::capitalised(&m))),
            )
            .await
        }
        Err(e) => desk_error(&app, &current, e),
    }
}

//! The supervisors' pages: the audit log (`/audit`, filtered by account or
//! case, paged, with "Verify the chain" posting to `/audit/verify` and the
//! result shown on the page), the pull state (`/pull`: the last pull,
//! its counts, the last error, unreadable envelopes) and acknowledging the
//! key alarm (`/key-alarm/acknowledge`, issue 20).
//!
//! Who may see them is the library's rule (`Desk::audit_log`,
//! `Desk::verify_audit`, `Desk::pull_state` refuse other roles with
//! `DeskError::Forbidden`, shown as a 403 page).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use quietline_casework::desk::{AuditCheck, AuditQuery, DeskError, PullState};
use quietline_casework::vault::AuditRow;

use super::view::{PageLink, href};
use super::{Fields, desk_error};
use crate::AppState;
use crate::pages::{Layout, Section, render};
use crate::security::CurrentHandler;

#[derive(Template)]
#[template(path = "work/audit.html")]
struct AuditTemplate {
    layout: Layout,
    account: String,
    case: String,
    entries: Vec<AuditRow>,
    total: usize,
    links: Vec<PageLink>,
    check: Option<AuditCheck>,
    head: String,
}

fn audit_query(f: &Fields) -> AuditQuery {
    AuditQuery {
        account: f.get("account").map(str::to_owned),
        case: f.get("case").map(str::to_owned),
        page: f.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
        per_page: 0,
    }
}

async fn audit_page(
    app: &AppState,
    current: &CurrentHandler,
    f: &Fields,
    check: Option<AuditCheck>,
) -> Response {
    let q = audit_query(f);
    let mut layout = Layout::signed_in(app, current, "Audit log", Section::Audit);
    let (page, status) = match app.desk.audit_log(&current.handler, &q).await {
        Ok(p) => (Some(p), StatusCode::OK),
        Err(e) if super::unknown_case(&e).is_some() => {
            layout = layout.error("case", super::unknown_case(&e).unwrap_or_default());
            (None, StatusCode::BAD_REQUEST)
        }
        Err(DeskError::Invalid(m)) => {
            layout = layout.error("case", super::capitalised(&m));
            (None, StatusCode::BAD_REQUEST)
        }
        Err(e) => return desk_error(app, current, e),
    };
    let mut params: Vec<(&'static str, String)> = Vec::new();
    if let Some(a) = &q.account {
        params.push(("account", a.clone()));
    }
    if let Some(c) = &q.case {
        params.push(("case", c.clone()));
    }
    let (entries, total, links) = match page {
        Some(p) => {
            let links = if p.pages > 1 {
                (1..=p.pages)
                    .filter(|n| *n == 1 || *n == p.pages || n.abs_diff(p.page) <= 2)
                    .map(|n| {
                        let mut pp = params.clone();
                        if n > 1 {
                            pp.push(("page", n.to_string()));
                        }
                        PageLink {
                            number: n,
                            href: href("/audit", &pp),
                            current: n == p.page,
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            (p.entries, p.total, links)
        }
        None => (Vec::new(), 0, Vec::new()),
    };
    render(
        status,
        &AuditTemplate {
            layout,
            account: f.raw("account").trim().to_owned(),
            case: f.raw("case").trim().to_owned(),
            entries,
            total,
            links,
            head: f.raw("head").trim().to_owned(),
            check,
        },
    )
}

/// `GET /audit` (`account`, `case`, `page`).
pub(crate) async fn audit(
    State(app): State<AppState>,
    current: CurrentHandler,
    Query(f): Query<Vec<(String, String)>>,
) -> Response {
    audit_page(&app, &current, &Fields(f), None).await
}

/// `POST /audit/verify` (`head`: optional, a hash kept elsewhere; and the
/// page's filters): the audit page with the result.
pub(crate) async fn verify(
    State(app): State<AppState>,
    current: CurrentHandler,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    match app.desk.verify_audit(&current.handler, f.get("head")).await {
        Ok(check) => audit_page(&app, &current, &f, Some(check)).await,
        Err(e) => desk_error(&app, &current, e),
    }
}

#[derive(Template)]
#[template(path = "work/pull.html")]
struct PullTemplate {
    layout: Layout,
    state: PullState,
    flagged: String,
}

/// `GET /pull`: the pull state (supervisors).
pub(crate) async fn pull_state(State(app): State<AppState>, current: CurrentHandler) -> Response {
    match app.desk.pull_state(&current.handler) {
        Ok(state) => {
            let flagged = state
                .last
                .as_ref()
                .map(|r| {
                    r.summary
                        .flagged
                        .iter()
                        .map(|(code, n)| format!("{code}: {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            render(
                StatusCode::OK,
                &PullTemplate {
                    layout: Layout::signed_in(&app, &current, "Pull state", Section::Audit),
                    state,
                    flagged,
                },
            )
        }
        Err(e) => desk_error(&app, &current, e),
    }
}

/// `POST /key-alarm/acknowledge` (supervisors): lower the raised key alarm
/// (audited by the library, issue 20); the page says what happened.
pub(crate) async fn acknowledge_key_alarm(
    State(app): State<AppState>,
    current: CurrentHandler,
) -> Response {
    match app.desk.acknowledge_key_alarm(&current.handler).await {
        Ok(lowered) => crate::pages::message(
            StatusCode::OK,
            Layout::signed_in(&app, &current, "", Section::Audit),
            if lowered {
                "Key alarm acknowledged"
            } else {
                "No key alarm is raised"
            },
            &[
                "Your acknowledgement is in the audit log under your account.",
                "The desk checks the platform's keys again on every pull: if the platform still serves what raised the alarm, the alarm is raised again.",
            ],
            Some(("/audit", "See the audit log")),
        ),
        Err(e) => desk_error(&app, &current, e),
    }
}

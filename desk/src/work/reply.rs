//! Answering the reporter from the case: the reply page
//! (`GET /cases/{id}/reply`, optionally filled from a template), then the
//! steps posted to `/cases/{id}/reply` — `preview` (exactly what the
//! reporter will read), `edit` (back to the form with the text), `send`.
//! When another handler replied first, the library refuses with
//! `DeskError::ReplyRace` and this shows their reply beside the handler's
//! draft: send anyway (with the new reply count), change it, or discard it.
//!
//! It owns the steps and what each page shows. The one-reply-sequence rule,
//! the slot claims and the audit are the library's (`Desk::reply`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use quietline_casework::desk::{DeskError, ReplyRace};

use super::case::{ReplyFormView, reply_form_view};
use super::view;
use super::{Fields, case_id_ok, desk_error, see_other};
use crate::AppState;
use crate::pages::{Layout, Section, render};
use crate::security::CurrentHandler;

#[derive(Template)]
#[template(path = "work/reply.html")]
struct ReplyPage {
    layout: Layout,
    case_id: String,
    short_id: String,
    blocked: Option<String>,
    reply: ReplyFormView,
}

#[derive(Template)]
#[template(path = "work/reply_preview.html")]
struct PreviewPage {
    layout: Layout,
    case_id: String,
    short_id: String,
    from: String,
    text: String,
    lines: Vec<String>,
    lang: String,
    lang_name: String,
    seen: u32,
}

/// Another handler's reply, as the race page shows it.
struct OtherView {
    by: String,
    at: String,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "work/reply_race.html")]
struct RacePage {
    layout: Layout,
    case_id: String,
    short_id: String,
    others: Vec<OtherView>,
    in_flight: Option<String>,
    text: String,
    lines: Vec<String>,
    lang: String,
    seen: u32,
}

fn short(id: &str) -> String {
    id.get(..12).unwrap_or(id).to_owned()
}

/// The text as the browser sent it, with its line breaks as the reporter
/// will get them (forms send CRLF; the reply carries LF), so the preview
/// and the reply are the same text.
fn normalised(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The reply page for case `id`, with `text` and `lang` (or a template's).
async fn reply_page(
    app: &AppState,
    current: &CurrentHandler,
    id: &str,
    text: Option<String>,
    lang: Option<String>,
    template: Option<usize>,
    error: Option<String>,
) -> Response {
    // Reading the form reads the case: the library audits it.
    let form = match app.desk.reply_form(&current.handler, id).await {
        Ok(f) => f,
        Err(e) => return desk_error(app, current, e),
    };
    let (mut text, mut lang) = (text.unwrap_or_default(), lang);
    if let Some(i) = template {
        // The same order as the picker's (the report's language first).
        if let Some(t) = form.templates.get(i) {
            text = t.text.clone();
            lang = Some(t.lang.clone());
        }
    }
    let mut layout = Layout::signed_in(app, current, "Reply to the reporter", Section::Queue);
    let status = match error {
        Some(m) => {
            layout = layout.error("reply-text", m);
            StatusCode::BAD_REQUEST
        }
        None => StatusCode::OK,
    };
    // The form's language choice defaults to the report's, as the library chose it.
    let lang = lang.unwrap_or_else(|| form.lang.clone());
    let reply = reply_form_view(
        app,
        &form.lang,
        text,
        Some(&lang),
        form.replies,
        form.from.clone(),
    );
    render(
        status,
        &ReplyPage {
            layout,
            case_id: form.case_id,
            short_id: form.short_id,
            blocked: form.blocked,
            reply,
        },
    )
}

/// `GET /cases/{id}/reply` (`template`: the index of a template to start from).
pub(crate) async fn form(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Query(f): Query<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let template = f.get("template").and_then(|t| t.parse().ok());
    reply_page(&app, &current, &id, None, None, template, None).await
}

/// `POST /cases/{id}/reply`: `step` (`preview`, `edit`, `send`), `text`,
/// `lang`, `seen` (the replies the handler had seen).
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
    let text = normalised(f.raw("text"));
    let lang = f.get("lang").unwrap_or("en").to_owned();
    // Without the count the handler saw, assume none: a reply already sent
    // is then shown rather than talked over.
    let seen: u32 = f.get("seen").and_then(|s| s.parse().ok()).unwrap_or(0);
    let who = &current.handler;
    match f.get("step") {
        Some("send") => match app.desk.reply(who, &id, &text, &lang, seen).await {
            Ok(sent) => see_other(&format!("/cases/{}?done=replied#timeline", sent.case_id)),
            Err(DeskError::ReplyRace(race)) => race_page(&app, &current, &id, text, lang, *race),
            Err(e @ (DeskError::Invalid(_) | DeskError::Reply(_))) if is_form_error(&e) => {
                let m = super::capitalised(&e.to_string());
                reply_page(&app, &current, &id, Some(text), Some(lang), None, Some(m)).await
            }
            Err(e) => desk_error(&app, &current, e),
        },
        Some("preview") => match app.desk.reply_preview(who, &id, &text, &lang).await {
            Ok(p) => {
                let layout = Layout::signed_in(&app, &current, "Check your reply", Section::Queue);
                render(
                    StatusCode::OK,
                    &PreviewPage {
                        layout,
                        short_id: short(&p.case_id),
                        case_id: p.case_id,
                        from: p.from,
                        lines: view::lines(&p.message),
                        text: p.message,
                        lang_name: super::queue::language_name(&p.lang),
                        lang: p.lang,
                        seen,
                    },
                )
            }
            Err(e @ (DeskError::Invalid(_) | DeskError::Reply(_))) if is_form_error(&e) => {
                let m = super::capitalised(&e.to_string());
                reply_page(&app, &current, &id, Some(text), Some(lang), None, Some(m)).await
            }
            Err(e) => desk_error(&app, &current, e),
        },
        // "edit", or anything else: the form with what was written.
        _ => reply_page(&app, &current, &id, Some(text), Some(lang), None, None).await,
    }
}

/// Whether the library's refusal is about what the handler wrote (shown
/// beside the reply box) rather than about the server or the case.
fn is_form_error(e: &DeskError) -> bool {
    match e {
        DeskError::Invalid(_) => true,
        DeskError::Reply(r) => matches!(r, quietline_casework::reply::ReplyError::Empty),
        _ => false,
    }
}

fn race_page(
    app: &AppState,
    current: &CurrentHandler,
    id: &str,
    text: String,
    lang: String,
    race: ReplyRace,
) -> Response {
    let layout = Layout::signed_in(
        app,
        current,
        "Another handler replied first",
        Section::Queue,
    );
    render(
        StatusCode::CONFLICT,
        &RacePage {
            layout,
            case_id: id.to_owned(),
            short_id: short(id),
            others: race
                .others
                .iter()
                .map(|o| OtherView {
                    by: o.by.clone(),
                    at: view::when(&o.at),
                    lines: view::lines(&o.message),
                })
                .collect(),
            in_flight: race.in_flight,
            lines: view::lines(&text),
            text,
            lang,
            seen: race.replies_now,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_are_the_reporters() {
        assert_eq!(normalised("a\r\nb\rc\nd"), "a\nb\nc\nd");
    }
}

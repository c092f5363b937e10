//! The case-working pages (issue 16, "What handlers get"): the queue (`/`),
//! search (`/search`), bulk actions (`/bulk`), pulling (`/pull`), one case
//! (`/cases/{id}` and its forms: status, take, assign, priority, labels,
//! mute, unread, note, reply with preview and the race, export; grading
//! and triage, issue 17; retention review, deletion and disclosure:
//! [`retention`]) and the supervisors' audit view (`/audit`). Server-rendered, every page works
//! without JavaScript; the markup is the GOV.UK and MOJ design systems'.
//!
//! It owns the URLs, the forms' fields, turning them into the casework
//! library's queries and actions, and turning the library's answers and
//! errors into pages. It does NOT decide who may do what, what a case is, or
//! what is audited: every such rule is a `Desk` method's, which these
//! handlers call and render (a refused role comes back as
//! `DeskError::Forbidden` and is shown as a 403 page).
//!
//! Every route here sits behind `security::guard` (a session, and the CSRF
//! token on every POST); handlers get the account with [`CurrentHandler`].
//!
//! Files: this module (routes, form fields, errors → pages), [`queue`]
//! (queue, search, bulk, pull now), [`case`] (one case and its forms),
//! [`attachments`] (a case's attachments: inline images and downloads),
//! [`reply`] (reply form, preview, send, race), [`supervise`] (audit log,
//! pull state), [`view`] (the view models the templates render).

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use quietline_casework::desk::DeskError;
use quietline_casework::vault::VaultError;

use crate::AppState;
use crate::pages::{self, Layout, Section};
use crate::security::CurrentHandler;

mod attachments;
mod case;
mod intel;
mod queue;
mod reply;
mod retention;
mod supervise;
mod transfer;
mod view;

/// The work routes, merged into the desk's router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(queue::queue))
        .route("/search", get(queue::search))
        .route("/bulk", post(queue::bulk))
        .route("/pull", get(supervise::pull_state).post(queue::pull_now))
        .route("/audit", get(supervise::audit))
        .route("/audit/verify", post(supervise::verify))
        .route(
            "/key-alarm/acknowledge",
            post(supervise::acknowledge_key_alarm),
        )
        .route("/cases/{id}", get(case::show))
        .route("/cases/{id}/attachments/{n}", get(attachments::show))
        .route(
            "/cases/{id}/attachments/{n}/download",
            get(attachments::download),
        )
        .route("/cases/{id}/status", post(case::status))
        .route("/cases/{id}/take", post(case::take))
        .route("/cases/{id}/assign", post(case::assign))
        .route("/cases/{id}/priority", post(case::priority))
        .route("/cases/{id}/labels", post(case::labels))
        .route("/cases/{id}/mute", post(case::mute))
        .route("/cases/{id}/unread", post(case::unread))
        .route("/cases/{id}/note", post(case::note))
        .route("/cases/{id}/reply", get(reply::form).post(reply::step))
        .route(
            "/cases/{id}/export",
            get(case::export_form).post(case::export),
        )
        .route(
            "/cases/{id}/grade",
            get(intel::grade_form).post(intel::grade),
        )
        .route(
            "/cases/{id}/triage",
            get(intel::triage_form).post(intel::triage),
        )
        .route(
            "/cases/{id}/intel-report",
            get(intel::report_form).post(intel::write_report),
        )
        .route(
            "/cases/{id}/intel-report/export",
            post(intel::export_report),
        )
        .route(
            "/cases/{id}/intel-report/{r}/attachments/{n}",
            get(attachments::report_download),
        )
        .route(
            "/cases/{id}/retention",
            get(retention::retention_form).post(retention::retain),
        )
        .route("/cases/{id}/delete", post(retention::delete))
        .route(
            "/cases/{id}/disclose",
            get(retention::disclose_form).post(retention::disclose),
        )
        .route(
            "/cases/{id}/transfer",
            get(transfer::form).post(transfer::step),
        )
}

/// A query string or a urlencoded form, as (name, value) pairs in order: the
/// pages' filters repeat names (`status=new&status=closed`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; `None` if absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The first value of `name` as sent (not trimmed), or "".
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// Every non-blank value of `name`, trimmed.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// What the library refused, as a page. `Invalid` is the caller's to show
/// inline where it can; here it becomes a 400 page with the sentence.
pub(crate) fn desk_error(app: &AppState, current: &CurrentHandler, e: DeskError) -> Response {
    let layout = || Layout::signed_in(app, current, "", Section::None);
    if let Some(sentence) = unknown_case(&e) {
        return pages::message(
            StatusCode::NOT_FOUND,
            layout(),
            "Case not found",
            &[&sentence],
            Some(("/", "Go to the queue")),
        );
    }
    match e {
        DeskError::Locked => pages::locked(app),
        DeskError::Forbidden { .. } => pages::forbidden(app, current, &capitalised(&e.to_string())),
        DeskError::NoSuchCase(_) => pages::message(
            StatusCode::NOT_FOUND,
            layout(),
            "Case not found",
            &[&capitalised(&e.to_string())],
            Some(("/", "Go to the queue")),
        ),
        DeskError::Unreadable { ref reason, .. } => pages::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            layout(),
            "This report cannot be read",
            &[
                &capitalised(reason),
                "Nothing in it can be shown or answered. It stays in the vault, sealed, and is listed on the pull state page.",
            ],
            Some(("/pull", "See the pull state")),
        ),
        DeskError::Invalid(_) | DeskError::Reply(_) => pages::message(
            StatusCode::BAD_REQUEST,
            layout(),
            "This could not be done",
            &[&capitalised(&e.to_string())],
            Some(("/", "Go to the queue")),
        ),
        // The server's side: the sentences are the library's own words
        // (never a report's text), and say what to do.
        // The watch stopped the pull (issue 20): the banner (the alarm is
        // raised before the error returns, so the layout has it) says what
        // to do; this page says why nothing was pulled.
        DeskError::KeySubstitution(_) | DeskError::KeyAlarm(_) => pages::message(
            StatusCode::BAD_GATEWAY,
            layout(),
            "The pull was stopped: key alarm",
            &[
                &capitalised(&e.to_string()),
                "Nothing was pulled. The alarm is in the audit log.",
            ],
            Some(("/", "Go to the queue")),
        ),
        DeskError::Client(_) | DeskError::Pull(_) | DeskError::Home(_) => pages::message(
            StatusCode::BAD_GATEWAY,
            layout(),
            "The desk could not reach the intake server",
            &[&capitalised(&e.to_string())],
            Some(("/", "Go to the queue")),
        ),
        DeskError::ReplyRace(_) => pages::message(
            StatusCode::CONFLICT,
            layout(),
            "Another handler replied first",
            &[&capitalised(&e.to_string())],
            Some(("/", "Go to the queue")),
        ),
        // The vault, the audit log, a record, the key ring: details go
        // nowhere a browser sees.
        _ => pages::server_error(app),
    }
}

/// The sentence for an id that names no case (or several): the library
/// answers it as `NoSuchCase`, or with the vault's own error for a prefix.
pub(crate) fn unknown_case(e: &DeskError) -> Option<String> {
    match e {
        DeskError::NoSuchCase(_) => Some(capitalised(&e.to_string())),
        DeskError::Vault(VaultError::NoSuchReport(_)) => Some(
            "No case has an id starting with that. It may not have been pulled yet: look in the queue for its id.".to_owned(),
        ),
        DeskError::Vault(VaultError::Ambiguous { count, .. }) => Some(format!(
            "{count} cases have an id starting with that: give more of the id."
        )),
        DeskError::Vault(VaultError::BadPrefix(_)) => Some(
            "A case id is 32 letters a to f and digits; give it, or its first 4 or more.".to_owned(),
        ),
        _ => None,
    }
}

/// An exported file as a download: its media type and a
/// `Content-Disposition: attachment` with its file name (the raw export, a
/// sanitised report, a disclosure).
pub(crate) fn download(body: &str, media_type: &'static str, file_name: &str) -> Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut res = (StatusCode::OK, body.to_owned()).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// The library's sentence with a capital letter and a full stop, for a page.
pub(crate) fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    let mut out = match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?', ')']) {
        out.push('.');
    }
    out
}

/// A case id from a path: what `Desk::resolve` accepts (hex, at most a full
/// id); anything else is a case that does not exist.
pub(crate) fn case_id_ok(id: &str) -> bool {
    (4..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `303 See Other` to a path built at run time (a case's page).
pub(crate) fn see_other(location: &str) -> Response {
    use axum::response::IntoResponse;
    match axum::http::HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, v)]).into_response(),
        Err(_) => crate::security::see_other("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_trim_and_repeat() {
        let f = Fields(vec![
            ("status".into(), "new".into()),
            ("status".into(), " closed ".into()),
            ("status".into(), "".into()),
            ("q".into(), "  ".into()),
        ]);
        assert_eq!(f.all("status"), vec!["new", "closed"]);
        assert_eq!(f.get("status"), Some("new"));
        assert_eq!(f.get("q"), None);
        assert_eq!(f.raw("q"), "  ");
        assert_eq!(f.raw("absent"), "");
    }

    #[test]
    fn sentences_for_pages() {
        assert_eq!(capitalised("no case has the id"), "No case has the id.");
        assert_eq!(capitalised("done."), "Done.");
        assert_eq!(capitalised(""), ".");
    }

    #[test]
    fn case_ids_from_paths() {
        assert!(case_id_ok("0123456789abcdef0123456789abcdef"));
        assert!(case_id_ok("0123"));
        assert!(!case_id_ok("012"));
        assert!(!case_id_ok("0123456789abcdef0123456789abcdef0"));
        assert!(!case_id_ok("../x"));
        assert!(!case_id_ok("ghij"));
    }
}

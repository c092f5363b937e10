//! The base layout every page extends (`templates/base.html`: skip link,
//! service navigation with the force's name, who is signed in, the key
//! alarm's banner, the error summary, footer), the inline-error pattern, and the pages that are not
//! anyone's route: not found, forbidden (CSRF), server error, desk locked,
//! and a generic message page.
//!
//! It does not decide who may see what (`security` and the casework library
//! do) and renders nothing a request supplied except through askama's HTML
//! escaping.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use quietline_casework::desk::Role;

use crate::AppState;
use crate::security::CurrentHandler;

/// Which part of the service a page belongs to (the navigation marks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Sign-in and other pages outside the service navigation.
    None,
    /// The queue (`/`).
    Queue,
    /// Search.
    Search,
    /// The audit log (supervisors).
    Audit,
    /// The signed-in account.
    Account,
    /// Key custody (custodians).
    Custody,
}

/// Who is signed in, as the layout shows it.
#[derive(Debug, Clone)]
pub struct Who {
    /// The account name.
    pub account: String,
    /// Its role.
    pub role: Role,
}

/// An error on the page: the field's `id` (empty for the page as a whole)
/// and the message, shown in the error summary and beside the field.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The field's element id (the summary links to `#id`).
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// One item of the service navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Link.
    pub href: &'static str,
    /// Text.
    pub text: &'static str,
    /// The page is in this section.
    pub current: bool,
}

/// What `base.html` needs: every page template has a `layout` field.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's title (before " – Quietline desk – force").
    pub title: String,
    /// The force's name.
    pub force: String,
    /// Who is signed in (no navigation without).
    pub who: Option<Who>,
    /// The CSRF token every form on the page carries.
    pub csrf: String,
    /// The page's section.
    pub section: Section,
    /// The errors to show.
    pub errors: Vec<FieldError>,
    /// The raised key alarm, for the banner on every signed-in page
    /// (issue 20): supervisors see what was seen and acknowledge it,
    /// handlers a plainer notice.
    pub key_alarm: Option<KeyAlarmBanner>,
}

/// The key alarm's banner (`base.html`), in English and Welsh.
#[derive(Debug, Clone)]
pub struct KeyAlarmBanner {
    /// When it was raised (RFC 3339).
    pub at: String,
    /// The check that failed (a stable code).
    pub check: String,
    /// What was seen (public ids only): shown to supervisors.
    pub detail: String,
    /// The reader supervises: the details and the acknowledge button.
    pub supervisor: bool,
}

impl Layout {
    /// The layout of a page for the signed-in `current` handler.
    pub fn signed_in(
        app: &AppState,
        current: &CurrentHandler,
        title: impl Into<String>,
        section: Section,
    ) -> Layout {
        Layout {
            title: title.into(),
            force: app.settings.force_name.clone(),
            who: Some(Who {
                account: current.handler.account.clone(),
                role: current.handler.role,
            }),
            csrf: current.csrf.clone(),
            section,
            errors: Vec::new(),
            key_alarm: app.desk.key_alarm().map(|a| KeyAlarmBanner {
                at: a.at,
                check: a.check,
                detail: a.detail,
                supervisor: current.handler.role.supervises(),
            }),
        }
    }

    /// The layout of a page seen without a session (sign-in steps, messages);
    /// `csrf` is the pre-session token (see `security`).
    pub fn public(app: &AppState, title: impl Into<String>, csrf: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            force: app.settings.force_name.clone(),
            who: None,
            csrf: csrf.into(),
            section: Section::None,
            errors: Vec::new(),
            key_alarm: None,
        }
    }

    /// Add an error for `field` (an element id, or "" for the page).
    pub fn error(mut self, field: &str, message: impl Into<String>) -> Layout {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
        self
    }

    /// The message for `field`, if it has one.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether `field` has an error.
    pub fn has_error(&self, field: &str) -> bool {
        self.error_for(field).is_some()
    }

    /// The service navigation for who is signed in.
    pub fn nav(&self) -> Vec<NavItem> {
        let role = self.who.as_ref().map(|w| w.role);
        let mut items = vec![
            NavItem {
                href: "/",
                text: "Queue",
                current: self.section == Section::Queue,
            },
            NavItem {
                href: "/search",
                text: "Search",
                current: self.section == Section::Search,
            },
        ];
        if role.is_some_and(Role::supervises) {
            items.push(NavItem {
                href: "/audit",
                text: "Audit",
                current: self.section == Section::Audit,
            });
        }
        items.push(NavItem {
            href: "/account",
            text: "Account",
            current: self.section == Section::Account,
        });
        if role == Some(Role::Custodian) {
            items.push(NavItem {
                href: "/custody",
                text: "Custody",
                current: self.section == Section::Custody,
            });
        }
        items
    }
}

/// Render a template as an HTML response with `status`; a template that
/// fails to render (it cannot, short of a bug) is a bare 500.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The desk could not show this page.",
        )
            .into_response(),
    }
}

/// A page with a heading, paragraphs and an optional link.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message {
    /// The layout.
    pub layout: Layout,
    /// The heading.
    pub heading: String,
    /// The paragraphs.
    pub paragraphs: Vec<String>,
    /// (href, text) of a link under them.
    pub link: Option<(String, String)>,
}

/// A message page for `layout` with `status`.
pub fn message(
    status: StatusCode,
    mut layout: Layout,
    heading: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> Response {
    layout.title = heading.to_owned();
    render(
        status,
        &Message {
            layout,
            heading: heading.to_owned(),
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            link: link.map(|(h, t)| (h.to_owned(), t.to_owned())),
        },
    )
}

fn bare(app: &AppState) -> Layout {
    Layout::public(app, "", "")
}

/// 404 for a signed-in handler (without a session the guard answers first,
/// with a redirect to the sign-in page, so no path's existence leaks).
pub async fn not_found(State(app): State<AppState>, current: Option<CurrentHandler>) -> Response {
    let layout = match &current {
        Some(c) => Layout::signed_in(&app, c, "", Section::None),
        None => bare(&app),
    };
    message(
        StatusCode::NOT_FOUND,
        layout,
        "Page not found",
        &["If you typed the web address, check it is correct."],
        Some(("/", "Go to the queue")),
    )
}

/// 403: a form without the right CSRF token.
pub fn csrf_refused(app: &AppState) -> Response {
    message(
        StatusCode::FORBIDDEN,
        bare(app),
        "This form could not be sent",
        &[
            "The form was out of date, or did not come from the desk. Nothing was changed.",
            "Go back, reload the page and try again.",
        ],
        Some(("/", "Go to the queue")),
    )
}

/// 403: the account's role may not do this.
pub fn forbidden(app: &AppState, current: &CurrentHandler, what: &str) -> Response {
    message(
        StatusCode::FORBIDDEN,
        Layout::signed_in(app, current, "", Section::None),
        "You cannot do this",
        &[what, "Ask a supervisor if you need to."],
        Some(("/", "Go to the queue")),
    )
}

/// 500, without details (they go nowhere a browser sees).
pub fn server_error(app: &AppState) -> Response {
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        bare(app),
        "Sorry, there is a problem with the desk",
        &["Try again later. If it keeps happening, tell the desk's custodian."],
        None,
    )
}

/// 503: a custodian locked the desk; the keys are gone until a restart.
pub fn locked(app: &AppState) -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        bare(app),
        "The desk is locked",
        &[
            "A custodian locked the desk: its keys are no longer in memory, so no report can be opened and no reply sent.",
            "A custodian must restart the desk with the passphrase to unlock it.",
        ],
        None,
    )
}

/// 413: a form larger than the desk accepts.
pub fn too_large(app: &AppState) -> Response {
    message(
        StatusCode::PAYLOAD_TOO_LARGE,
        bare(app),
        "This form is too large",
        &["Shorten what you wrote and send it again."],
        None,
    )
}

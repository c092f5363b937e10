//! What every request passes through, in this order:
//!
//! 1. [`headers`] (every response, assets included): the CSP
//!    `default-src 'none'; script-src 'self'; style-src 'self'; img-src
//!    'self' data:; font-src 'self'; connect-src 'self'; form-action 'self';
//!    frame-ancestors 'none'; base-uri 'none'`, `X-Content-Type-Options:
//!    nosniff`, `Referrer-Policy: no-referrer`, `Cross-Origin-Opener-Policy:
//!    same-origin`, `Cross-Origin-Resource-Policy: same-origin`, and
//!    `Cache-Control: no-store` on everything but assets.
//! 2. [`guard`] (every route but `/assets/…`): if a custodian locked the
//!    desk, the locked page. The sign-in pages ([`PUBLIC`]) need no session;
//!    their forms carry a pre-session CSRF token that must equal the one in
//!    the `__Host-quietline-desk-csrf` cookie (double submit). Every other
//!    path needs a valid session: the `__Host-quietline-desk` cookie's token
//!    is checked by the casework library on EVERY request (idle and absolute
//!    timeouts, account disabled or reset); without one the answer is `303
//!    See Other` to `/login` with an empty body, for GET and POST alike and
//!    whether or not the path exists. With one, every POST must carry the
//!    session's CSRF token in its `csrf` form field, or it is refused (403
//!    and a page) before any route sees it.
//!
//! Cookies are `__Host-` prefixed, `Secure; HttpOnly; SameSite=Strict;
//! Path=/`: Chromium and Firefox accept `Secure` cookies from
//! `http://127.0.0.1` and `http://localhost` (a secure context); any other
//! address needs HTTPS in front of the desk.
//!
//! Route handlers get the signed-in account with the [`CurrentHandler`]
//! extractor. This module does not decide whether a session is valid (the
//! library does) nor what a role may do.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use quietline_casework::desk::Handler;
use quietline_casework::desk::access::AccessError;
use quietline_casework::session;
use subtle::ConstantTimeEq;

use crate::{AppState, pages};

/// The session cookie.
pub const SESSION_COOKIE: &str = "__Host-quietline-desk";
/// The pending sign-in's cookie (between the password and the code).
pub const PENDING_COOKIE: &str = "__Host-quietline-desk-pending";
/// The pre-session CSRF cookie (sign-in forms).
pub const CSRF_COOKIE: &str = "__Host-quietline-desk-csrf";
/// The form field every form carries its CSRF token in.
pub const CSRF_FIELD: &str = "csrf";

/// The paths served without a session.
pub const PUBLIC: [&str; 5] = [
    "/login",
    "/login/code",
    "/login/new-password",
    "/login/enrol",
    "/signed-out",
];

/// The content security policy of every response.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The signed-in account and its session's CSRF token (for the forms the
/// page renders). Without a valid session, extracting it answers a redirect
/// to `/login` (the guard has normally answered so already).
#[derive(Debug, Clone)]
pub struct CurrentHandler {
    /// Who.
    pub handler: Handler,
    /// The session's CSRF token.
    pub csrf: String,
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentHandler {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentHandler>()
            .cloned()
            .ok_or_else(to_login)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for CurrentHandler {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<CurrentHandler>().cloned())
    }
}

/// The pre-session CSRF token of a sign-in page (from the cookie, or new:
/// the guard then sets the cookie on the response).
#[derive(Debug, Clone)]
pub struct PreCsrf(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PreCsrf {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<PreCsrf>()
            .cloned()
            .ok_or_else(to_login)
    }
}

/// `303 See Other` to `/login`, empty body.
pub fn to_login() -> Response {
    see_other("/login")
}

/// `303 See Other` to `location`.
pub fn see_other(location: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// A `__Host-` cookie: Secure, HttpOnly, SameSite=Strict, Path=/.
pub fn cookie(name: &'static str, value: String, max_age_secs: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::build((name, value))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build();
    if let Some(s) = max_age_secs {
        c.set_max_age(cookie::time::Duration::seconds(s));
    }
    c
}

/// The removal of a `__Host-` cookie.
pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), Some(0));
    c.make_removal();
    c
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The security headers of every response (see the module doc).
pub async fn headers(req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The session and CSRF guard (see the module doc).
pub async fn guard(
    State(app): State<AppState>,
    jar: CookieJar,
    req: Request,
    next: Next,
) -> Response {
    if app.desk.is_locked() {
        return pages::locked(&app);
    }
    let path = req.uri().path().to_owned();
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD);

    if PUBLIC.contains(&path.as_str()) {
        let existing = jar
            .get(CSRF_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|v| session::well_formed(v));
        let mut req = req;
        if writes {
            let Some(expected) = existing.clone() else {
                return pages::csrf_refused(&app);
            };
            req = match checked_form(&app, req, &expected).await {
                Ok(r) => r,
                Err(refused) => return refused.page(&app),
            };
        }
        let (token, new) = match existing {
            Some(t) => (t, false),
            None => (session::new_token().to_string(), true),
        };
        req.extensions_mut().insert(PreCsrf(token.clone()));
        let res = next.run(req).await;
        if new {
            return (jar.add(cookie(CSRF_COOKIE, token, None)), res).into_response();
        }
        return res;
    }

    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return to_login();
    };
    match app.desk.session(&token).await {
        Ok(s) => {
            let mut req = req;
            if writes {
                req = match checked_form(&app, req, &s.csrf).await {
                    Ok(r) => r,
                    Err(refused) => return refused.page(&app),
                };
            }
            req.extensions_mut().insert(CurrentHandler {
                handler: s.handler,
                csrf: s.csrf,
            });
            // The key alarm's banner (issue 20) follows the vault shared
            // with CLIs and other desks; a failed read keeps the last copy
            // (the page still renders, and the next pull reads it again).
            let _ = app
                .desk
                .refresh_key_alarm_if_older(quietline_casework::desk::watch::ALARM_REFRESH)
                .await;
            next.run(req).await
        }
        Err(AccessError::NoSession) => {
            (jar.add(removal(SESSION_COOKIE)), to_login()).into_response()
        }
        Err(AccessError::Desk(quietline_casework::desk::DeskError::Locked)) => pages::locked(&app),
        Err(_) => pages::server_error(&app),
    }
}

/// Why a form was refused before any route saw it.
enum Refused {
    /// No or a wrong CSRF token, or not a urlencoded form: 403.
    Csrf,
    /// Larger than `max_form_bytes`: 413.
    TooLarge,
}

impl Refused {
    fn page(self, app: &AppState) -> Response {
        match self {
            Refused::Csrf => pages::csrf_refused(app),
            Refused::TooLarge => pages::too_large(app),
        }
    }
}

/// Read a urlencoded form body, check its `csrf` field against `expected`,
/// and hand the request on with the same body. Anything else (another
/// media type, no field, a wrong token) is refused with the 403 page.
async fn checked_form(app: &AppState, req: Request, expected: &str) -> Result<Request, Refused> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !form {
        return Err(Refused::Csrf);
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, app.settings.max_form_bytes).await {
        Ok(b) => b,
        Err(_) => return Err(Refused::TooLarge),
    };
    let fields: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes).map_err(|_| Refused::Csrf)?;
    let given = fields
        .iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if !same(given, expected) {
        return Err(Refused::Csrf);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

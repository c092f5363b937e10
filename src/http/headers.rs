//! Security headers, set in one place on every response (errors, 404s, 405s,
//! 413s, timeouts and caught panics included).
//!
//! It owns which headers each class of route gets ([`RouteClass`]): the API's
//! and the reporter page's CSP and caching. It does not decide status codes or
//! bodies.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::config::ServerSettings;

/// The API's Content-Security-Policy: an API response is never a document, so
/// nothing may load, frame it, or be submitted from it.
pub const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The reporter page's Content-Security-Policy: its own script, style and
/// requests only (no inline script, style or handler; nothing from another
/// origin), its own proof-of-work worker (`/pow-worker.js`; no `blob:` or
/// `data:` worker), no forms to anywhere else, never framed, no `<base>`.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every response: no camera, microphone or location for the page, and no
/// interest-based advertising cohort for its visitors.
pub const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), interest-cohort=()";

/// What kind of route a path is, for choosing its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// The reporter page: `/`, `/app.css`, `/app.js`, `/pow-worker.js`, `/licences.txt`,
    /// `/favicon.ico` (see `page.rs`).
    Page,
    /// `/api/…`, and every other path (the JSON 404).
    Api,
}

impl RouteClass {
    /// The class of a request path.
    pub fn of(path: &str) -> Self {
        if super::page::is_page_path(path) {
            RouteClass::Page
        } else {
            RouteClass::Api
        }
    }

    fn csp(self) -> &'static str {
        match self {
            RouteClass::Page => PAGE_CSP,
            RouteClass::Api => API_CSP,
        }
    }

    fn cache_control(self) -> &'static str {
        match self {
            // Envelopes, inbox pages and errors must not linger in any cache.
            RouteClass::Api => "no-store",
            // Nor the page: a copy in the browser's disk cache would show anyone
            // who looks at the device that it was used to visit this service,
            // and the page promises to save nothing there. It is about 40 KB.
            RouteClass::Page => "no-store",
        }
    }
}

/// Middleware: set the security headers on the response to every request.
pub async fn security_headers(
    State(settings): State<Arc<ServerSettings>>,
    req: Request,
    next: Next,
) -> Response {
    let class = RouteClass::of(req.uri().path());
    // Only the path: the query string stays out of the onion redirect, as it
    // stays out of everything else.
    let onion = settings
        .onion_address
        .as_deref()
        .and_then(|host| HeaderValue::from_str(&format!("http://{host}{}", req.uri().path())).ok());
    let mut res = next.run(req).await;
    apply(res.headers_mut(), class, onion);
    res
}

fn apply(h: &mut HeaderMap, class: RouteClass, onion: Option<HeaderValue>) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(class.csp()),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    h.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(class.cache_control()),
    );
    if let Some(v) = onion {
        h.insert(HeaderName::from_static("onion-location"), v);
    }
    // Belt and braces: nothing in the server sets these, and nothing ever may.
    // No Server header (hyper sets none, a layer added later might); no cookies;
    // no CORS grant — the page is same-origin, and nobody else's page may read
    // the API from a reporter's browser.
    h.remove(header::SERVER);
    h.remove(header::SET_COOKIE);
    let cors: Vec<HeaderName> = h
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for k in cors {
        h.remove(k);
    }
}

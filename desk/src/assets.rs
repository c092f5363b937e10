//! The desk's front-end files, embedded in the binary: govuk-frontend's and
//! MOJ frontend's built CSS, ES modules, fonts and images (installed from
//! `desk/package-lock.json` by `build.rs`), and our own `desk/assets/`
//! (`desk.js`, `desk.css`). Served under `/assets/…` with no session needed
//! (they hold nothing about the force), an `ETag`, and long caching for the
//! files whose content never changes under the same name (the packages'
//! files, pinned by the lock file); our own two files are revalidated.
//!
//! It does not build anything (`build.rs` does) nor decide other headers
//! (`security`).

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::AppState;

/// Every served file: (URL path, bytes), sorted by path.
static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Each file's `ETag` (a quoted short SHA-256), in `FILES` order.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(_, body)| format!("\"{}\"", &hex::encode(Sha256::digest(body))[..32]))
        .collect()
});

/// The URL paths of every embedded file (tests check the pages use only these).
pub fn paths() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(p, _)| *p)
}

/// The embedded file at `path` (`/assets/…`), if any.
pub fn get_file(path: &str) -> Option<&'static [u8]> {
    FILES
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .map(|i| FILES[i].1)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// The `/assets/{*path}` route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/assets/{*path}", get(serve))
}

async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let full = format!("/assets/{path}");
    let Ok(i) = FILES.binary_search_by(|(p, _)| (*p).cmp(full.as_str())) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response();
    };
    let (name, body) = FILES[i];
    let etag = &ETAGS[i];
    let ours = name == "/assets/desk.js" || name == "/assets/desk.css";
    let cache = if ours {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    (StatusCode::OK, h, body).into_response()
}

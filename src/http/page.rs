//! Serving the reporter page: the embedded files of [`crate::assets`] at `/`,
//! `/app.css`, `/app.js`, `/pow-worker.js` (the proof-of-work worker the page
//! starts) and `/licences.txt`, and an empty `/favicon.ico`.
//!
//! It owns content negotiation: the gzip copy (made at build time) when the
//! request's `Accept-Encoding` allows gzip, the file itself otherwise, always
//! with `Vary: Accept-Encoding`, the file's `Content-Type` and the exact
//! `Content-Length`. No `ETag` or `Last-Modified`: a validator sent back on a
//! later visit would tell the server that this browser had been here before.
//! The headers every page route shares (its CSP, `Cache-Control`) are set by
//! `headers.rs` ([`super::headers::RouteClass::Page`]).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::assets::{self, Asset};

/// Browsers ask for it whatever the page says; it gets an empty answer.
pub const FAVICON: &str = "/favicon.ico";

/// Whether `path` is one of the page's routes (for choosing its headers).
pub fn is_page_path(path: &str) -> bool {
    path == FAVICON || assets::find(path).is_some()
}

/// Add the page's routes (GET, and so HEAD) to `router`.
pub fn routes(mut router: Router<AppState>) -> Router<AppState> {
    for asset in assets::all() {
        router = router.route(
            asset.path,
            get(move |headers: HeaderMap| async move { serve(asset, &headers) }),
        );
    }
    router.route(FAVICON, get(|| async { StatusCode::NO_CONTENT }))
}

fn serve(asset: &'static Asset, request: &HeaderMap) -> Response {
    let gzip = accepts_gzip(request);
    let bytes = if gzip { asset.gzip } else { asset.body };
    let mut res = Body::from(Bytes::from_static(bytes)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    res
}

/// Whether the request's `Accept-Encoding` (all its header lines) allows gzip:
/// `gzip` or `x-gzip` with a q-value above 0, or else `*` with one. A q-value
/// that does not parse counts as 0; no header at all means identity only.
pub fn accepts_gzip(request: &HeaderMap) -> bool {
    let mut gzip: Option<bool> = None;
    let mut any: Option<bool> = None;
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let mut q = 1.0_f32;
            for param in parts {
                if let Some((k, v)) = param.split_once('=')
                    && k.trim().eq_ignore_ascii_case("q")
                {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            let acceptable = q > 0.0;
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(gzip.unwrap_or(false) || acceptable);
            } else if coding == "*" {
                any = Some(any.unwrap_or(false) || acceptable);
            }
        }
    }
    gzip.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(values: &[&str]) -> bool {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        accepts_gzip(&h)
    }

    #[test]
    fn accept_encoding() {
        assert!(!accepts(&[]));
        assert!(accepts(&["gzip"]));
        assert!(accepts(&["gzip, deflate, br, zstd"]));
        assert!(accepts(&["br;q=1.0, GZIP;q=0.5"]));
        assert!(accepts(&["x-gzip"]));
        assert!(accepts(&["*"]));
        assert!(accepts(&["br", "gzip"]));
        assert!(!accepts(&["identity"]));
        assert!(!accepts(&["br, deflate"]));
        assert!(!accepts(&["gzip;q=0"]));
        assert!(!accepts(&["gzip; q=0.000"]));
        assert!(!accepts(&["gzip;q=zero"]));
        assert!(!accepts(&["*, gzip;q=0"]), "an explicit gzip beats *");
        assert!(accepts(&["*;q=0, gzip"]));
        assert!(!accepts(&["*;q=0"]));
        assert!(!accepts(&["gzipped"]));
    }

    #[test]
    fn page_paths() {
        for p in [
            "/",
            "/app.js",
            "/app.css",
            "/pow-worker.js",
            "/licences.txt",
            "/favicon.ico",
        ] {
            assert!(is_page_path(p), "{p}");
        }
        for p in [
            "/api/v1/forces",
            "/api/v1/challenge",
            "/index.html",
            "/app.js/",
            "/pow-worker.js/",
            "/pow-worker",
            "//",
            "",
        ] {
            assert!(!is_page_path(p), "{p}");
        }
    }
}

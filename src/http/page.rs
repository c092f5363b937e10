//! Serving the reporter page: the embedded files of [`crate::assets`] at `/`,
//! `/app.css`, `/app.js`, `/pow-worker.js` (the proof-of-work worker the page
//! starts), `/pq.js` (the X-Wing code it fetches for a hybrid key),
//! `/words.js` (the reply code's word list, fetched once a code is made or
//! typed) and `/licences.txt`, and an empty `/favicon.ico`.
//!
//! It owns content negotiation: the Brotli or the gzip copy (both made at
//! build time) as the request's `Accept-Encoding` allows ([`coding_for`]),
//! the file itself otherwise, always
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

use super::state::AppState;
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
    let coding = coding_for(request);
    let bytes = match coding {
        Coding::Brotli => asset.brotli,
        Coding::Gzip => asset.gzip,
        Coding::Identity => asset.body,
    };
    let mut res = Body::from(Bytes::from_static(bytes)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    match coding {
        Coding::Brotli => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        }
        Coding::Gzip => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Coding::Identity => {}
    }
    res
}

/// A content coding the page's files are kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Brotli (`br`), the smallest copy.
    Brotli,
    /// gzip.
    Gzip,
    /// The file itself.
    Identity,
}

/// The coding to answer with, from the request's `Accept-Encoding` (all its
/// header lines): of `br` and `gzip` (or `x-gzip`), the one with the higher
/// q-value above 0, Brotli on a tie; a coding not named takes the q-value of
/// `*` if there is one. A q-value that does not parse counts as 0; no header
/// at all means identity only.
pub fn coding_for(request: &HeaderMap) -> Coding {
    let (mut br, mut gzip, mut any): (Option<f32>, Option<f32>, Option<f32>) = (None, None, None);
    let keep_max = |slot: &mut Option<f32>, q: f32| *slot = Some(slot.map_or(q, |old| old.max(q)));
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
            if coding.eq_ignore_ascii_case("br") {
                keep_max(&mut br, q);
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                keep_max(&mut gzip, q);
            } else if coding == "*" {
                keep_max(&mut any, q);
            }
        }
    }
    let br = br.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if br > 0.0 && br >= gzip {
        Coding::Brotli
    } else if gzip > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coding(values: &[&str]) -> Coding {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        coding_for(&h)
    }

    #[test]
    fn accept_encoding() {
        use Coding::{Brotli, Gzip, Identity};
        for (values, want) in [
            (&[][..], Identity),
            (&["gzip"], Gzip),
            (&["gzip, deflate, br, zstd"], Brotli),
            (&["br"], Brotli),
            (&["BR;q=1.0, GZIP;q=0.5"], Brotli),
            (&["br;q=0.5, gzip;q=1"], Gzip),
            (&["br;q=0.5, gzip;q=0.5"], Brotli),
            (&["x-gzip"], Gzip),
            (&["*"], Brotli),
            (&["br", "gzip"], Brotli),
            (&["gzip", "br;q=0"], Gzip),
            (&["identity"], Identity),
            (&["deflate, zstd"], Identity),
            (&["gzip;q=0"], Identity),
            (&["gzip; q=0.000"], Identity),
            (&["gzip;q=zero"], Identity),
            (&["*, gzip;q=0, br;q=0"], Identity),
            (&["*, br;q=0"], Gzip),
            (&["*;q=0, gzip"], Gzip),
            (&["*;q=0"], Identity),
            (&["gzipped, brotli"], Identity),
        ] {
            assert_eq!(coding(values), want, "{values:?}");
        }
    }

    #[test]
    fn page_paths() {
        for p in [
            "/",
            "/app.js",
            "/app.css",
            "/pow-worker.js",
            "/pq.js",
            "/words.js",
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

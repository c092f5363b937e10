//! Serving the reporter page: the embedded files of [`crate::assets`] at `/`
//! (the page; without JavaScript, the page that says why it needs it),
//! `/staying-safe` ("Staying safe online"), `/app.css`, `/app.js`,
//! `/lang-<code>.js` and `/lang-<code>-later.js` (each language's
//! messages), `/pow-worker.js` (the proof-of-work worker the page starts),
//! `/pq.js` (the X-Wing code it fetches for a hybrid key), `/words.js` (the
//! reply code's word list, fetched once a code is made or typed),
//! `/copy.js` (the reporter's own copies and the conversation, fetched once a
//! message is sent or a code is checked) and `/licences.txt`; an empty `/favicon.ico`; and `/exit`, the way out.
//!
//! It owns content negotiation: the language of `/` and `/staying-safe`
//! ([`lang_for`]: `?lang=` if the page is built in it, else the request's
//! `Accept-Language`, else the default, English), and the Brotli or the
//! gzip copy (both made at build time) as the request's `Accept-Encoding`
//! allows ([`coding_for`]), the file itself otherwise, always with `Vary`
//! naming what was negotiated, the file's `Content-Type` and the exact
//! `Content-Length`. No `ETag` or `Last-Modified`: a validator sent back on a
//! later visit would tell the server that this browser had been here before.
//! The language is chosen from the request and forgotten: nothing about it is
//! kept or logged (no cookie either: the page carries `?lang=` in its own
//! address). The headers every page route shares (its CSP, `Cache-Control`)
//! are set by `headers.rs` ([`super::headers::RouteClass::Page`]).
//!
//! `/exit` ("Exit this page") answers `303 See Other` to the neutral site of
//! the server's settings (`--exit-url`), so the page never names it itself
//! and a link to `/exit` works without JavaScript.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::state::AppState;
use crate::assets::{self, Asset};

/// Browsers ask for it whatever the page says; it gets an empty answer.
pub const FAVICON: &str = "/favicon.ico";

/// "Exit this page": a redirect to the neutral site.
pub const EXIT: &str = "/exit";

/// Whether `path` is one of the page's routes (for choosing its headers).
pub fn is_page_path(path: &str) -> bool {
    path == FAVICON || path == EXIT || assets::find(path).is_some()
}

/// Add the page's routes (GET, and so HEAD) to `router`.
pub fn routes(mut router: Router<AppState>) -> Router<AppState> {
    let mut seen: Vec<&str> = Vec::new();
    for asset in assets::all() {
        if seen.contains(&asset.path) {
            continue;
        }
        seen.push(asset.path);
        let path = asset.path;
        router = router.route(
            path,
            get(
                move |RawQuery(query): RawQuery, headers: HeaderMap| async move {
                    serve(path, query.as_deref(), &headers)
                },
            ),
        );
    }
    router
        .route(FAVICON, get(|| async { StatusCode::NO_CONTENT }))
        .route(EXIT, get(exit))
}

/// `GET /exit`: see the module's documentation.
async fn exit(State(state): State<AppState>) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&state.settings.exit_url) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn serve(path: &str, query: Option<&str>, request: &HeaderMap) -> Response {
    let langs = assets::languages();
    // A path with a file per language negotiates it; the others are one file.
    let negotiated = assets::all()
        .iter()
        .filter(|a| a.path == path)
        .nth(1)
        .is_some();
    let asset: &'static Asset = if negotiated {
        let lang = lang_for(query, request, &langs);
        assets::find_in(path, lang)
            .or_else(|| assets::find(path))
            .expect("a routed path has a file")
    } else {
        assets::find(path).expect("a routed path has a file")
    };
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
    h.insert(
        header::VARY,
        HeaderValue::from_static(if negotiated {
            "accept-encoding, accept-language"
        } else {
            "accept-encoding"
        }),
    );
    if negotiated {
        h.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(asset.lang),
        );
    }
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

/// The language to answer in, of `langs` (the default first): the query's
/// `lang=` when the page is built in it (the "English | Cymraeg" links);
/// else the `Accept-Language` range with the highest q-value above 0 whose
/// primary tag is one of them (`cy-GB` counts as `cy`; the first listed
/// wins a tie); else the default.
pub fn lang_for(query: Option<&str>, request: &HeaderMap, langs: &[&'static str]) -> &'static str {
    let default = langs.first().copied().unwrap_or("en");
    let known = |tag: &str| {
        let primary = tag.split('-').next().unwrap_or_default();
        langs
            .iter()
            .copied()
            .find(|l| l.eq_ignore_ascii_case(primary))
    };
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("lang=")
                && let Some(l) = langs.iter().copied().find(|l| *l == v)
            {
                return l;
            }
        }
    }
    let mut best: Option<(&'static str, f32)> = None;
    for value in request.get_all(header::ACCEPT_LANGUAGE) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let mut q = 1.0_f32;
            for param in parts {
                if let Some((k, v)) = param.split_once('=')
                    && k.trim().eq_ignore_ascii_case("q")
                {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            if q <= 0.0 {
                continue;
            }
            if let Some(l) = known(tag)
                && best.is_none_or(|(_, bq)| q > bq)
            {
                best = Some((l, q));
            }
        }
    }
    best.map_or(default, |(l, _)| l)
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

    fn lang(query: Option<&str>, values: &[&str]) -> &'static str {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
        }
        lang_for(query, &h, &["en", "cy"])
    }

    #[test]
    fn accept_language_and_the_lang_query() {
        for (query, values, want) in [
            (None, &[][..], "en"),
            (None, &["cy"], "cy"),
            (None, &["cy-GB,cy;q=0.9,en-GB;q=0.8,en;q=0.7"], "cy"),
            (None, &["en-GB,en;q=0.9,cy;q=0.8"], "en"),
            (None, &["fr-FR, fr;q=0.9, cy;q=0.5"], "cy"),
            (None, &["fr"], "en"),
            (None, &["cy;q=0"], "en"),
            (None, &["CY"], "cy"),
            (None, &["cy;q=nonsense, en"], "en"),
            (Some("lang=cy"), &["en"][..], "cy"),
            (Some("lang=en"), &["cy"], "en"),
            (Some("x=1&lang=cy"), &[], "cy"),
            (Some("lang=fr"), &["cy"], "cy"),
            (Some("lang=CY"), &[], "en"),
            (Some("lang="), &[], "en"),
        ] {
            assert_eq!(lang(query, values), want, "{query:?} {values:?}");
        }
    }

    #[test]
    fn the_page_is_built_in_english_and_welsh() {
        assert_eq!(assets::languages(), ["en", "cy"]);
        for path in ["/", "/staying-safe"] {
            for l in ["en", "cy"] {
                let a = assets::find_in(path, l).expect("built");
                let html = std::str::from_utf8(a.body).unwrap();
                assert!(html.contains(&format!("<html lang=\"{l}\">")), "{path} {l}");
            }
        }
    }

    #[test]
    fn page_paths() {
        for p in [
            "/",
            "/staying-safe",
            "/exit",
            "/lang-en.js",
            "/lang-cy.js",
            "/lang-cy-later.js",
            "/app.js",
            "/app.css",
            "/pow-worker.js",
            "/pq.js",
            "/words.js",
            "/copy.js",
            "/keycheck.js",
            "/pins.json",
            "/attach.js",
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

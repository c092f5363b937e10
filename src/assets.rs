//! The reporter page's files, embedded in the binary.
//!
//! `build.rs` builds `web/` (the same deterministic build as `npm run build`)
//! into Cargo's `OUT_DIR` with a gzip and a Brotli copy of each file; this
//! module embeds all three and computes each file's SHA-256 once, at first use (the server forces
//! it before it starts listening). The hashes are what `quietline serve`
//! prints, what `GET /api/v1/assets` answers and what the page shows under
//! "Check what you were served", so anyone can compare them with a build of
//! the same commit. Serving them over HTTP is `http::page`'s job.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One file of the page.
#[derive(Debug)]
pub struct Asset {
    /// The URL path it is served at. A page in several languages has one
    /// file per language at the same path (`/`, `/staying-safe`).
    pub path: &'static str,
    /// Its language (`en`, `cy`, …), or `""` for a file of every language.
    pub lang: &'static str,
    /// Its name in a build of `web/` (`web/dist/…`).
    pub file: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// The file.
    pub body: &'static [u8],
    /// The same file gzip-compressed (made at build time).
    pub gzip: &'static [u8],
    /// The same file Brotli-compressed (made at build time).
    pub brotli: &'static [u8],
    /// SHA-256 of `body`, lowercase hex.
    pub sha256: String,
}

impl Asset {
    /// The address that fetches exactly this file: its path, with `?lang=`
    /// for a page in a language other than the default.
    pub fn address(&self) -> String {
        if self.lang.is_empty() || self.lang == default_lang() {
            self.path.to_owned()
        } else {
            format!("{}?lang={}", self.path, self.lang)
        }
    }
}

/// Every file, in the order the page's build lists them: each language's
/// pages and catalogues (the default language first), then the files every
/// language shares. The table is written by `build.rs` from the build's own
/// list, so a language added to `web/src/i18n/` needs no change here.
static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    type Built = (&'static [u8], &'static [u8], &'static [u8]);
    let table: &[(&str, &str, &str, &str, Built)] =
        &include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
    table
        .iter()
        .map(
            |&(path, lang, file, content_type, (body, gzip, brotli))| Asset {
                path,
                lang,
                file,
                content_type,
                body,
                gzip,
                brotli,
                sha256: hex::encode(Sha256::digest(body)),
            },
        )
        .collect()
});

/// All the page's files (hashing them on the first call).
pub fn all() -> &'static [Asset] {
    ASSETS.as_slice()
}

/// The file served at `path` in the default language (or the one file there).
pub fn find(path: &str) -> Option<&'static Asset> {
    all().iter().find(|a| a.path == path)
}

/// The languages the page is built in, the default first.
pub fn languages() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in all() {
        if !a.lang.is_empty() && !out.contains(&a.lang) {
            out.push(a.lang);
        }
    }
    out
}

/// The default language: the first the build lists.
pub fn default_lang() -> &'static str {
    all()
        .iter()
        .map(|a| a.lang)
        .find(|l| !l.is_empty())
        .unwrap_or("en")
}

/// The file served at `path` in language `lang`, if the page is built in it.
pub fn find_in(path: &str, lang: &str) -> Option<&'static Asset> {
    all().iter().find(|a| a.path == path && a.lang == lang)
}

/// The lines `quietline serve` prints: each file's SHA-256 and name, in the
/// format `sha256sum` prints and `sha256sum -c` checks.
pub fn sha256sum_lines() -> String {
    all()
        .iter()
        .map(|a| format!("{}  {}\n", a.sha256, a.file))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_embedded_with_its_gzip_and_brotli_copies() {
        for a in all() {
            assert!(!a.body.is_empty(), "{}", a.file);
            assert_eq!(&a.gzip[..3], &[0x1f, 0x8b, 8], "{} is gzip", a.file);
            assert!(a.gzip.len() < a.body.len(), "{} compresses", a.file);
            // Brotli has no magic number; tests/web_js.rs decodes it.
            assert!(
                a.brotli.len() < a.gzip.len(),
                "{} is smaller in Brotli",
                a.file
            );
            assert_eq!(a.sha256.len(), 64);
            assert_eq!(find_in(a.path, a.lang).map(|f| f.file), Some(a.file));
        }
        assert_eq!(languages(), ["en", "cy"]);
        assert_eq!(default_lang(), "en");
        assert_eq!(find("/").map(|a| a.lang), Some("en"));
        assert_eq!(
            find_in("/", "cy").map(|a| a.address()),
            Some("/?lang=cy".into())
        );
        assert!(find("/index.html").is_none());
        assert!(
            std::str::from_utf8(find("/").unwrap().body)
                .unwrap()
                .contains(r#"<script src="/app.js" defer></script>"#)
        );
        // The page starts its worker by this path.
        assert!(
            std::str::from_utf8(find("/app.js").unwrap().body)
                .unwrap()
                .contains(r#""/pow-worker.js""#)
        );
        let worker = find("/pow-worker.js").expect("the worker is served");
        // The page loads the X-Wing bundle by this path.
        assert!(
            std::str::from_utf8(find("/app.js").unwrap().body)
                .unwrap()
                .contains(r#""/pq.js""#)
        );
        assert_eq!(
            find("/pq.js")
                .expect("the X-Wing bundle is served")
                .content_type,
            "text/javascript; charset=utf-8"
        );
        // And the word list by this one.
        assert!(
            std::str::from_utf8(find("/app.js").unwrap().body)
                .unwrap()
                .contains(r#""/words.js""#)
        );
        assert_eq!(
            find("/words.js")
                .expect("the word list is served")
                .content_type,
            "text/javascript; charset=utf-8"
        );
        // And the own copies and the conversation by this one.
        assert!(
            std::str::from_utf8(find("/app.js").unwrap().body)
                .unwrap()
                .contains(r#""/copy.js""#)
        );
        assert_eq!(
            find("/copy.js")
                .expect("the copies bundle is served")
                .content_type,
            "text/javascript; charset=utf-8"
        );
        assert_eq!(worker.content_type, "text/javascript; charset=utf-8");
        // The check before sealing, fetched by this path, and the pins it carries.
        assert!(
            std::str::from_utf8(find("/app.js").unwrap().body)
                .unwrap()
                .contains(r#""/keycheck.js""#)
        );
        assert_eq!(
            find("/pins.json")
                .expect("the pins are served")
                .content_type,
            "application/json"
        );
        let paths: Vec<String> = all().iter().map(Asset::address).collect();
        assert_eq!(
            paths,
            [
                "/",
                "/staying-safe",
                "/lang-en.js",
                "/lang-en-later.js",
                "/?lang=cy",
                "/staying-safe?lang=cy",
                "/lang-cy.js",
                "/lang-cy-later.js",
                "/app.css",
                "/app.js",
                "/pow-worker.js",
                "/pq.js",
                "/words.js",
                "/copy.js",
                "/keycheck.js",
                "/pins.json",
                "/attach.js",
                "/licences.txt"
            ]
        );
        let lines = sha256sum_lines();
        assert_eq!(lines.lines().count(), 18);
        assert!(lines.contains(&format!("{}  pow-worker.js\n", worker.sha256)));
        assert!(lines.ends_with("  licences.txt\n"));
    }
}

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
    /// The URL path it is served at.
    pub path: &'static str,
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

/// A built file and its gzip and Brotli copies.
macro_rules! built {
    ($name:literal) => {
        (
            include_bytes!(concat!(env!("OUT_DIR"), "/web/", $name)) as &'static [u8],
            include_bytes!(concat!(env!("OUT_DIR"), "/web/", $name, ".gz")) as &'static [u8],
            include_bytes!(concat!(env!("OUT_DIR"), "/web/", $name, ".br")) as &'static [u8],
        )
    };
}

/// Every file, in the order they are listed (the page first).
static ASSETS: LazyLock<[Asset; 7]> = LazyLock::new(|| {
    let asset = |path, file, content_type, (body, gzip, brotli)| Asset {
        path,
        file,
        content_type,
        body,
        gzip,
        brotli,
        sha256: hex::encode(Sha256::digest(body)),
    };
    [
        asset(
            "/",
            "index.html",
            "text/html; charset=utf-8",
            built!("index.html"),
        ),
        asset(
            "/app.css",
            "app.css",
            "text/css; charset=utf-8",
            built!("app.css"),
        ),
        asset(
            "/app.js",
            "app.js",
            "text/javascript; charset=utf-8",
            built!("app.js"),
        ),
        // The proof-of-work search, which the page runs in a Web Worker
        // while the reporter waits to send (crypto/FORMAT.md#proof-of-work).
        asset(
            "/pow-worker.js",
            "pow-worker.js",
            "text/javascript; charset=utf-8",
            built!("pow-worker.js"),
        ),
        // The X-Wing (post-quantum hybrid) code, which the page fetches only
        // when the chosen force's key, or a reply, is X-Wing
        // (crypto/FORMAT.md#suite): too large for the first load.
        asset(
            "/pq.js",
            "pq.js",
            "text/javascript; charset=utf-8",
            built!("pq.js"),
        ),
        // The reply code's word list, which the page fetches only once a
        // reply code is made (sending a report) or typed (checking for
        // replies): not needed to see and fill in the form.
        asset(
            "/words.js",
            "words.js",
            "text/javascript; charset=utf-8",
            built!("words.js"),
        ),
        asset(
            "/licences.txt",
            "licences.txt",
            "text/plain; charset=utf-8",
            built!("licences.txt"),
        ),
    ]
});

/// All the page's files (hashing them on the first call).
pub fn all() -> &'static [Asset] {
    ASSETS.as_slice()
}

/// The file served at `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    all().iter().find(|a| a.path == path)
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
            assert_eq!(find(a.path).map(|f| f.file), Some(a.file));
        }
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
        assert_eq!(worker.content_type, "text/javascript; charset=utf-8");
        let paths: Vec<&str> = all().iter().map(|a| a.path).collect();
        assert_eq!(
            paths,
            [
                "/",
                "/app.css",
                "/app.js",
                "/pow-worker.js",
                "/pq.js",
                "/words.js",
                "/licences.txt"
            ]
        );
        let lines = sha256sum_lines();
        assert_eq!(lines.lines().count(), 7);
        assert!(lines.contains(&format!("{}  pow-worker.js\n", worker.sha256)));
        assert!(lines.ends_with("  licences.txt\n"));
    }
}

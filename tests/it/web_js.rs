//! The reporter page's own JavaScript tests, and the page as the server serves
//! it:
//!
//! - `npm test` in `web/` (node --test: the crypto module and the
//!   proof-of-work search against the Rust vectors, validation, the build's
//!   determinism, budget and CSP rules);
//! - the embedded files are byte for byte what `node build.mjs` builds from
//!   the same sources and lock file (the README's "compare with a local build");
//! - every page response carries the page CSP and the other headers, the gzip
//!   copies decompress to the files, and the hashes served, printed at start
//!   and listed by `GET /api/v1/assets` agree.
//!
//! Without Node.js the first two print `SKIPPED` outside CI and fail with
//! `CI=true`; the rest need no Node.js.

use std::collections::HashMap;
use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::server::Serve;
use crate::support::server::{Backend, Process, TestServer};
use quietline::assets;
use quietline::http::headers::{API_CSP, PAGE_CSP, PERMISSIONS_POLICY};
use quietline_testkit::node::{ensure_node_modules, require_node, run_bounded, web_dir};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[test]
fn web_js_npm_test_passes() {
    if !require_node() {
        return;
    }
    ensure_node_modules();
    let mut cmd = Command::new("npm");
    cmd.arg("test").current_dir(web_dir());
    let out = run_bounded(cmd, Duration::from_secs(600));
    println!("=== npm test (web/)\n{}", out.all());
    assert!(out.success, "npm test in web/ failed:\n{}", out.all());
    assert!(
        out.stdout.contains("# fail 0"),
        "node --test reports no failure"
    );
}

#[test]
fn the_embedded_page_is_what_a_local_build_gives() {
    if !require_node() {
        return;
    }
    ensure_node_modules();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("node");
    cmd.current_dir(web_dir())
        .arg("build.mjs")
        .arg("--out-dir")
        .arg(dir.path());
    let out = run_bounded(cmd, Duration::from_secs(300));
    println!("=== node build.mjs --out-dir …\n{}", out.all());
    assert!(out.success, "the local build failed:\n{}", out.all());
    for a in assets::all() {
        let built = std::fs::read(dir.path().join(a.file)).unwrap();
        assert!(
            built == a.body,
            "{} differs from the embedded {}",
            a.file,
            a.path
        );
        // The build prints the same sha256sum lines as `quietline serve`.
        assert!(
            out.stdout.contains(&format!("{}  {}", a.sha256, a.file)),
            "{}",
            a.file
        );
    }
}

/// The headers every response of the page carries.
#[track_caller]
fn assert_page_headers(what: &str, h: &HashMap<String, String>) {
    for (name, value) in [
        ("content-security-policy", PAGE_CSP),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(
            h.get(name).map(String::as_str),
            Some(value),
            "{name} on {what}: {h:?}"
        );
    }
    for absent in ["set-cookie", "server", "etag", "last-modified", "date"] {
        assert!(!h.contains_key(absent), "no {absent} on {what}: {h:?}");
    }
    assert!(
        !h.keys().any(|k| k.starts_with("access-control-")),
        "no CORS on {what}"
    );
}

struct Got {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

async fn fetch(s: &TestServer, method: reqwest::Method, path: &str, accept: Option<&str>) -> Got {
    let mut req = s.http.request(method, s.url(path));
    if let Some(a) = accept {
        req = req.header("accept-encoding", a);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let body = res.bytes().await.unwrap().to_vec();
    Got {
        status,
        headers,
        body,
    }
}

/// Undo a content coding.
type Decode = fn(&[u8]) -> Vec<u8>;

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("valid Brotli");
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn page_responses_carry_the_page_csp_and_the_published_hashes() {
    let s = TestServer::start(Backend::Sqlite).await.unwrap();

    // The published list: every file, once, with the hash of what is served.
    let list = fetch(&s, reqwest::Method::GET, "/api/v1/assets", None).await;
    assert_eq!(list.status, 200);
    assert_eq!(
        list.headers
            .get("content-security-policy")
            .map(String::as_str),
        Some(API_CSP),
        "the list is an API response"
    );
    assert_eq!(list.headers["cache-control"], "no-store");
    let json: Value = serde_json::from_slice(&list.body).unwrap();
    let published: Vec<(String, String)> = json["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a.as_object().unwrap().len(), 2, "path and sha256: {a}");
            (
                a["path"].as_str().unwrap().to_owned(),
                a["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let paths: Vec<&str> = published.iter().map(|(p, _)| p.as_str()).collect();
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

    for (path, sha256) in &published {
        // The pages are negotiated by language too (src/http/page.rs).
        let page = path == "/" || path.starts_with("/?") || path.starts_with("/staying-safe");
        let vary = if page {
            "accept-encoding, accept-language"
        } else {
            "accept-encoding"
        };
        let plain = fetch(&s, reqwest::Method::GET, path, None).await;
        assert_eq!(plain.status, 200, "{path}");
        assert_page_headers(path, &plain.headers);
        assert_eq!(
            &hex::encode(Sha256::digest(&plain.body)),
            sha256,
            "{path} is what /api/v1/assets says"
        );
        assert!(!plain.headers.contains_key("content-encoding"), "{path}");
        assert_eq!(plain.headers["vary"], vary, "{path}");
        assert_eq!(
            plain.headers["content-length"],
            plain.body.len().to_string()
        );
        let ct = &plain.headers["content-type"];
        let want = match path.as_str() {
            _ if page => "text/html; charset=utf-8",
            "/app.css" => "text/css; charset=utf-8",
            p if p.ends_with(".js") => "text/javascript; charset=utf-8",
            "/pins.json" => "application/json",
            _ => "text/plain; charset=utf-8",
        };
        assert_eq!(ct, want, "{path}");

        let codings: [(&str, &[&str], Decode); 2] = [
            (
                "br",
                &["br", "gzip, deflate, br, zstd", "br;q=1, gzip;q=0.8", "*"],
                unbrotli,
            ),
            (
                "gzip",
                &[
                    "gzip",
                    "gzip, deflate, zstd",
                    "br;q=0.5, gzip;q=0.8",
                    "x-gzip",
                ],
                gunzip,
            ),
        ];
        for (coding, accepts, decode) in codings {
            for accept in accepts {
                let got = fetch(&s, reqwest::Method::GET, path, Some(accept)).await;
                assert_eq!(got.status, 200);
                assert_page_headers(path, &got.headers);
                assert_eq!(got.headers["content-encoding"], coding, "{path} {accept}");
                assert_eq!(got.headers["vary"], vary);
                assert_eq!(got.headers["content-type"], want);
                assert_eq!(got.headers["content-length"], got.body.len().to_string());
                assert!(
                    got.body.len() < plain.body.len(),
                    "{path} is smaller in {coding}"
                );
                assert!(
                    decode(&got.body) == plain.body,
                    "{path}: the {coding} copy is the file"
                );
            }
        }
        for accept in ["identity", "gzip;q=0", "deflate, zstd", "*;q=0"] {
            let id = fetch(&s, reqwest::Method::GET, path, Some(accept)).await;
            assert!(
                !id.headers.contains_key("content-encoding"),
                "{path} {accept}"
            );
            assert!(id.body == plain.body);
        }
        let head = fetch(&s, reqwest::Method::HEAD, path, Some("gzip")).await;
        assert_eq!(head.status, 200);
        assert_page_headers(path, &head.headers);
        assert!(head.body.is_empty());
        assert_eq!(head.headers["content-encoding"], "gzip");
    }

    // The icon browsers ask for, and the page's routes' errors, get the page's headers too.
    let icon = fetch(&s, reqwest::Method::GET, "/favicon.ico", Some("gzip")).await;
    assert_eq!(icon.status, 204);
    assert!(icon.body.is_empty());
    assert_page_headers("/favicon.ico", &icon.headers);
    let post = fetch(&s, reqwest::Method::POST, "/", None).await;
    assert_eq!(post.status, 405);
    assert_page_headers("POST /", &post.headers);
    // Anything else is the API's JSON 404, with the API's headers.
    let other = fetch(&s, reqwest::Method::GET, "/index.html", None).await;
    assert_eq!(other.status, 404);
    assert_eq!(other.headers["content-security-policy"], API_CSP);
    s.stop().await;
}

#[test]
fn serve_prints_the_page_hashes_after_the_listening_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = Process::serve(dir.path(), &[]);
    let printed = server.stop();
    assert!(printed.success);
    let stdout = String::from_utf8(printed.stdout).unwrap();
    let mut lines = stdout.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("listening on http://127.0.0.1:"),
        "the address comes first: {stdout}"
    );
    // sha256sum's format, so `sha256sum -c` can check a local build with it.
    let sums: Vec<&str> = lines
        .filter(|l| l.len() > 66 && l.as_bytes()[64..66] == *b"  ")
        .collect();
    let expected: Vec<String> = assets::all()
        .iter()
        .map(|a| format!("{}  {}", a.sha256, a.file))
        .collect();
    assert_eq!(sums, expected, "{stdout}");
}

#[test]
fn a_child_that_overruns_is_killed_with_its_group() {
    // The e2e scripts' time limit rests on this.
    let started = Instant::now();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo started; sleep 60 & sleep 60"]);
    let out = run_bounded(cmd, Duration::from_secs(2));
    assert!(out.timed_out && !out.success, "{out:?}");
    assert!(out.stdout.contains("started"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

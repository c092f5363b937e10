//! `quietline verify-page` (issue 20, part 5), the real binary against real
//! servers on 127.0.0.1:0:
//!
//! - a real server passes (exit 0), each file `OK`, the pins shown with
//!   their fingerprints, `GET /api/v1/assets` agreeing;
//! - a tiny local HTTP server serving the page's files with one byte of one
//!   file changed (or other pins, or another asset list) fails (exit 1) and
//!   names the file;
//! - no server, a bad URL, a missing `--url`, an unknown revision: exit 2;
//! - `--commit HEAD` builds the page from git (`git archive`, `npm ci`, the
//!   same build) and passes against a server built from the same sources
//!   (skipped when `web/` has uncommitted changes, as while developing).

use std::process::Output;

use quietline::assets;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::server::{Backend, TestServer, command};
use quietline_testkit::node::require_node;

/// Run `quietline verify-page ARGS…` off the async runtime.
async fn verify_page(args: &[&str]) -> (Option<i32>, String, String) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let out: Output = tokio::task::spawn_blocking(move || {
        command()
            .arg("verify-page")
            .args(&args)
            .output()
            .expect("run quietline verify-page")
    })
    .await
    .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A stand-in for a service: a tiny HTTP/1.1 server (one request per
/// connection) serving the page's files at their addresses and `GET
/// /api/v1/assets`, with `alter` applied to each (address, body) first.
async fn altered_server(
    alter: impl Fn(&str, &mut Vec<u8>),
    assets_list: Option<serde_json::Value>,
) -> (String, tokio::task::JoinHandle<()>) {
    let files: Vec<(String, Vec<u8>)> = assets::all()
        .iter()
        .map(|a| {
            let mut body = a.body.to_vec();
            alter(&a.address(), &mut body);
            (a.address(), body)
        })
        .collect();
    let list = assets_list.unwrap_or_else(|| {
        serde_json::json!({"assets": files.iter().map(|(p, b)| serde_json::json!({
            "path": p, "sha256": hex::encode(Sha256::digest(b)),
        })).collect::<Vec<_>>()})
    });
    let list = serde_json::to_vec(&list).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let address = line.split(' ').nth(1).unwrap_or("");
            let (status, body) = if address == "/api/v1/assets" {
                ("200 OK", list.clone())
            } else {
                match files.iter().find(|(p, _)| p == address) {
                    Some((_, b)) => ("200 OK", b.clone()),
                    None => ("404 Not Found", Vec::new()),
                }
            };
            let _ = conn
                .write_all(
                    format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                )
                .await;
            let _ = conn.write_all(&body).await;
            let _ = conn.shutdown().await;
        }
    });
    (base, task)
}

#[tokio::test]
async fn verify_page_passes_on_a_real_server() {
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let (code, out, err) = verify_page(&["--url", &server.base]).await;
    assert_eq!(code, Some(0), "{out}\n{err}");
    for a in assets::all() {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{} ", a.address()))
                    && l.contains(&format!("OK       {}", a.sha256))),
            "{} OK: {out}",
            a.address()
        );
    }
    assert!(!out.contains("DIFFERS"), "{out}");
    assert!(
        out.contains("pins.json: the served pins are the build's"),
        "{out}"
    );
    // The demo pins, shown as fingerprints a force would publish.
    let demo = quietline::demo::demo_signing_secret("demo")
        .public_key()
        .fingerprint();
    assert!(out.contains(&format!("fingerprint {demo}")), "{out}");
    assert!(out.contains("GET /api/v1/assets: OK"), "{out}");
    // A trailing slash is the same service.
    let (code, _, _) = verify_page(&["--url", &format!("{}/", server.base)]).await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn verify_page_fails_when_one_served_file_differs_by_a_byte() {
    // app.js with one byte changed, everything else (and the asset list,
    // which lists what is served) as built.
    let (base, task) = altered_server(
        |address, body| {
            if address == "/app.js" {
                let i = body.len() / 2;
                body[i] ^= 1;
            }
        },
        None,
    )
    .await;
    let (code, out, err) = verify_page(&["--url", &base]).await;
    assert_eq!(code, Some(1), "{out}\n{err}");
    let app_line = out.lines().find(|l| l.starts_with("/app.js ")).unwrap();
    assert!(app_line.contains("DIFFERS"), "{out}");
    assert_eq!(out.matches("DIFFERS  served").count(), 1, "{out}");
    assert!(out.contains("GET /api/v1/assets: DIFFERS"), "{out}");
    assert!(
        out.contains("\nDIFFERS: the service does not serve this build"),
        "{out}"
    );
    task.abort();

    // Only the list of hashes lies (the files are the build's): still a difference.
    let lying = serde_json::json!({"assets": assets::all().iter().map(|a| serde_json::json!({
        "path": a.address(), "sha256": "0".repeat(64),
    })).collect::<Vec<_>>()});
    let (base, task) = altered_server(|_, _| {}, Some(lying)).await;
    let (code, out, _) = verify_page(&["--url", &base]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("DIFFERS  served"), "{out}");
    assert!(out.contains("GET /api/v1/assets: DIFFERS"), "{out}");
    task.abort();
}

#[tokio::test]
async fn verify_page_fails_on_other_pins_or_a_missing_file() {
    // Pins with another signing key for demo: the page would trust that key.
    let (base, task) = altered_server(
        |address, body| {
            if address == "/pins.json" {
                let text = String::from_utf8(body.clone()).unwrap();
                let other = quietline::demo::demo_signing_secret("not-demo")
                    .public_key()
                    .to_base64url();
                let demo = quietline::demo::demo_signing_secret("demo")
                    .public_key()
                    .to_base64url();
                *body = text.replace(&demo, &other).into_bytes();
            }
        },
        None,
    )
    .await;
    let (code, out, _) = verify_page(&["--url", &base]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("/pins.json ") && l.contains("DIFFERS")),
        "{out}"
    );
    assert!(
        out.contains("pins.json: DIFFERS: the service does not serve the build's pins"),
        "{out}"
    );
    task.abort();

    // keycheck.js not served at all (a page that skips the check).
    let (base, task) = altered_server(
        |address, body| {
            if address == "/keycheck.js" {
                body.clear();
            }
        },
        None,
    )
    .await;
    let (code, out, _) = verify_page(&["--url", &base]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("/keycheck.js ") && l.contains("DIFFERS")),
        "{out}"
    );
    task.abort();
}

#[tokio::test]
async fn verify_page_usage_and_network_errors_exit_2() {
    // Nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (code, _, err) = verify_page(&["--url", &format!("http://127.0.0.1:{port}")]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot fetch"), "{err}");
    let (code, _, err) = verify_page(&["--url", "ftp://example.org"]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("http:// or https://"), "{err}");
    let (code, _, _) = verify_page(&[]).await;
    assert_eq!(code, Some(2), "--url is required");
    let (code, _, err) = verify_page(&[
        "--url",
        "http://127.0.0.1:1",
        "--commit",
        "no-such-revision-anywhere",
        "--repo",
        env!("CARGO_MANIFEST_DIR"),
    ])
    .await;
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cannot build the page from revision no-such-revision-anywhere"),
        "{err}"
    );
}

#[tokio::test]
async fn verify_page_commit_head_builds_the_page_from_git_and_passes() {
    if !require_node() {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    // The binary embeds the working tree's page; HEAD's is the same only
    // when web/ has no uncommitted change (always so in CI's fresh clone).
    let status = std::process::Command::new("git")
        .args(["-C", root, "status", "--porcelain", "--", "web"])
        .output();
    match status {
        Ok(s) if s.status.success() && s.stdout.is_empty() => {}
        _ => {
            eprintln!(
                "SKIPPED: web/ differs from HEAD (or no git); verify-page --commit HEAD needs a clean web/"
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "web/ must be clean in CI"
            );
            return;
        }
    }
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let (code, out, err) =
        verify_page(&["--url", &server.base, "--commit", "HEAD", "--repo", root]).await;
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("GET /api/v1/assets: OK"), "{out}");
}

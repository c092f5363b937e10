//! While the server is unavailable — `503` with `Retry-After` (its answer
//! while its storage is down), or a refused connection (restarting) — `pull`
//! waits and resumes, one line per wait on stderr, keeping what it stored;
//! after `--max-wait` it stops with a clear error, still keeping it.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::{Console, Reporter};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quietline_crypto::keys::PublicKey;

#[derive(Clone)]
struct Fake {
    /// How many more times page 2 of the listing answers 503.
    unavailable: Arc<AtomicUsize>,
    envelopes: Arc<HashMap<String, Vec<u8>>>,
    directory: serde_json::Value,
}

fn id(c: char) -> String {
    c.to_string().repeat(32)
}

fn entry(i: String) -> serde_json::Value {
    serde_json::json!({"id": i, "key_id": "0000000000000000", "day": "2026-11-27"})
}

async fn forces(State(f): State<Fake>) -> Response {
    axum::Json(f.directory.clone()).into_response()
}

async fn inbox(State(f): State<Fake>, Query(q): Query<HashMap<String, String>>) -> Response {
    match q.get("after") {
        // Page 1: one report; the cursor is its id.
        None => axum::Json(serde_json::json!({"reports": [entry(id('1'))], "next": id('1')}))
            .into_response(),
        Some(_) => {
            let left = f.unavailable.load(Ordering::SeqCst);
            if left > 0 {
                f.unavailable.store(left - 1, Ordering::SeqCst);
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "1")],
                    axum::Json(serde_json::json!({
                        "error": "storage_unavailable",
                        "message": "the server's storage is unavailable; send the request again after Retry-After seconds",
                    })),
                )
                    .into_response();
            }
            axum::Json(serde_json::json!({"reports": [entry(id('2'))], "next": null}))
                .into_response()
        }
    }
}

async fn envelope(State(f): State<Fake>, Path(rid): Path<String>) -> Response {
    match f.envelopes.get(&rid) {
        Some(b) => (StatusCode::OK, b.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn app(pk: &PublicKey, unavailable: usize) -> (Router, Arc<AtomicUsize>) {
    let mut envelopes = HashMap::new();
    for (c, text) in [('1', "first"), ('2', "second")] {
        // Two reporters: one reporter's reports would be one case.
        let reporter = Reporter::new();
        envelopes.insert(
            id(c),
            reporter.seal("north", pk, &reporter.report_payload(text)),
        );
    }
    let counter = Arc::new(AtomicUsize::new(unavailable));
    let state = Fake {
        unavailable: counter.clone(),
        envelopes: Arc::new(envelopes),
        directory: serde_json::json!([{
            "id": "north",
            "name": "North Constabulary",
            "key_id": pk.key_id().to_hex(),
            "public_key": pk.to_base64url(),
        }]),
    };
    let router = Router::new()
        .route("/api/v1/forces", get(forces))
        .route("/api/v1/inbox", get(inbox))
        .route("/api/v1/inbox/{id}", get(envelope))
        .with_state(state);
    (router, counter)
}

fn serve(rt: &tokio::runtime::Runtime, listener: tokio::net::TcpListener, router: Router) {
    rt.spawn(async move { axum::serve(listener, router).await });
}

fn console() -> (Console, PublicKey) {
    let c = Console::new();
    let pk = c.init("north");
    (c, pk)
}

fn waits(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("the server is unavailable"))
        .collect()
}

#[test]
fn pull_waits_out_503_with_retry_after_and_resumes() {
    let (mut c, pk) = console();
    let rt = crate::support::runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (router, left) = app(&pk, 3);
    serve(&rt, listener, router);
    c.login_offline(&base, &format!("qlt_{}", "B".repeat(43)));

    let o = c.run_within(&["pull"], Duration::from_secs(120));
    assert!(o.ok, "{o:?}");
    assert_eq!(left.load(Ordering::SeqCst), 0);
    let lines = waits(&o.stderr);
    assert_eq!(lines.len(), 3, "one line per wait: {o:?}");
    for l in lines {
        assert!(
            l.contains("(503 storage_unavailable: the server's storage is unavailable")
                && l.contains("waiting 1 s before trying again"),
            "{l}"
        );
    }
    assert!(
        o.stdout.contains(
            "Pulled 2 new envelope(s): 2 opened, 0 flagged; 0 already in the vault; 0 refused."
        ),
        "{o:?}"
    );
    assert!(c.ok(&["list"]).contains("2 shown of 2"));
}

#[test]
fn pull_gives_up_after_max_wait_and_keeps_what_it_stored() {
    let (mut c, pk) = console();
    let rt = crate::support::runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (router, _) = app(&pk, usize::MAX);
    serve(&rt, listener, router);
    c.login_offline(&base, &format!("qlt_{}", "B".repeat(43)));

    let o = c.run_within(&["pull", "--max-wait", "2"], Duration::from_secs(120));
    assert!(!o.ok, "{o:?}");
    assert!(
        o.stderr.contains("is still unavailable after waiting")
            && o.stderr.contains("Everything pulled so far is kept")
            && o.stderr.contains("--max-wait SECONDS"),
        "{o:?}"
    );
    assert!(!waits(&o.stderr).is_empty(), "{o:?}");
    // Page 1 was committed before the outage.
    assert!(c.ok(&["list"]).contains("1 shown of 1"));
}

#[test]
fn pull_waits_for_a_server_that_refuses_connections() {
    let (mut c, pk) = console();
    let rt = crate::support::runtime();
    // A port nobody listens on (for now).
    let addr = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap()
        .local_addr()
        .unwrap();
    c.login_offline(
        &format!("http://{addr}"),
        &format!("qlt_{}", "B".repeat(43)),
    );

    let mut cmd = c.command();
    cmd.arg("pull")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    // The first wait is announced: the server comes back.
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("no wait announced");
        });
    assert!(
        first.starts_with("the server is unavailable (the connection failed")
            && first.contains("waiting 1 s"),
        "{first}"
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(addr))
        .expect("the port is free again");
    let (router, _) = app(&pk, 0);
    serve(&rt, listener, router);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait_with_output());
    });
    let out = done_rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("pull still running");
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("Pulled 2 new envelope(s): 2 opened"),
        "{stdout}"
    );
}

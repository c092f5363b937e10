//! A hostile server (a small axum server in the test) cannot crash the
//! console or corrupt the vault: garbage, oversized bodies (declared or
//! streamed without end), the same id twice, the same envelope under two ids,
//! an envelope from another force, a bad id, a cursor that does not move, one
//! that creeps forward over empty pages or skips ids, a server error, every
//! reply slot "taken", and a directory without the force.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::support::{Console, Reporter, short};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quietline_crypto::envelope::MAX_ENVELOPE_LEN;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Mixed,
    Garbage,
    HugeDeclared,
    HugeStreamed,
    Stuck,
    ServerError,
    /// Empty pages whose `next` moves forward by one, for ever.
    Creeping,
    /// A page whose `next` is past its last listed id.
    Skipping,
}

#[derive(Clone)]
struct Fake {
    mode: Arc<Mutex<Mode>>,
    envelopes: Arc<HashMap<String, Vec<u8>>>,
    directory: Arc<Mutex<serde_json::Value>>,
}

/// The directory entry that serves `pk` for `force`.
fn directory_entry(force: &str, pk: &quietline_crypto::keys::PublicKey) -> serde_json::Value {
    serde_json::json!({
        "id": force,
        "name": "North Constabulary",
        "key_id": pk.key_id().to_hex(),
        "public_key": pk.to_base64url(),
    })
}

async fn forces(State(f): State<Fake>) -> Response {
    axum::Json(f.directory.lock().unwrap().clone()).into_response()
}

fn id(c: char) -> String {
    c.to_string().repeat(32)
}

fn endless() -> Body {
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    Body::from_stream(futures_util::stream::repeat_with(move || {
        Ok::<_, std::io::Error>(chunk.clone())
    }))
}

async fn inbox(State(f): State<Fake>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mode = *f.mode.lock().unwrap();
    let after = q.get("after").cloned();
    match mode {
        Mode::Garbage => (StatusCode::OK, "{\"reports\": [ this is not json").into_response(),
        Mode::HugeDeclared => (StatusCode::OK, vec![b' '; 2 * 1024 * 1024]).into_response(),
        Mode::HugeStreamed => (StatusCode::OK, endless()).into_response(),
        Mode::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "<html>\x1b[2J oops</html>",
        )
            .into_response(),
        Mode::Stuck => {
            let next = id('5');
            axum::Json(serde_json::json!({"reports": [], "next": next})).into_response()
        }
        Mode::Creeping => {
            let n = after.map_or(0, |a| u128::from_str_radix(&a, 16).unwrap() + 1);
            axum::Json(serde_json::json!({"reports": [], "next": format!("{n:032x}")}))
                .into_response()
        }
        Mode::Skipping => {
            let e = |i: String| serde_json::json!({"id": i, "key_id": "0000000000000000", "day": "2026-11-27"});
            let page = match after.as_deref() {
                None => serde_json::json!({"reports": [e(id('1'))], "next": id('3')}),
                _ => serde_json::json!({"reports": [e(id('4'))], "next": null}),
            };
            axum::Json(page).into_response()
        }
        Mode::Mixed => {
            let e = |i: String| serde_json::json!({"id": i, "key_id": "0000000000000000", "day": "2026-11-27"});
            let page = match after.as_deref() {
                None => serde_json::json!({
                    "reports": [e("../../etc/passwd".into()), e(id('1')), e(id('1')), e(id('2'))],
                    "next": id('2'),
                }),
                _ => {
                    serde_json::json!({"reports": [e(id('3')), e(id('4')), e(id('5'))], "next": null})
                }
            };
            axum::Json(page).into_response()
        }
    }
}

async fn envelope(State(f): State<Fake>, Path(rid): Path<String>) -> Response {
    if rid == id('2') {
        // Oversized and without a Content-Length: only streaming shows it.
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            endless(),
        )
            .into_response();
    }
    match f.envelopes.get(&rid) {
        Some(b) => (StatusCode::OK, b.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn slot_taken() -> Response {
    (
        StatusCode::CONFLICT,
        axum::Json(serde_json::json!({"error": "slot_taken", "message": "taken"})),
    )
        .into_response()
}

struct FakeServer {
    rt: tokio::runtime::Runtime,
    base: String,
    mode: Arc<Mutex<Mode>>,
    directory: Arc<Mutex<serde_json::Value>>,
}

impl FakeServer {
    /// A fake whose directory serves `pk` for force `north`.
    fn start(
        envelopes: HashMap<String, Vec<u8>>,
        pk: &quietline_crypto::keys::PublicKey,
    ) -> FakeServer {
        let rt = crate::support::runtime();
        let mode = Arc::new(Mutex::new(Mode::Mixed));
        let directory = Arc::new(Mutex::new(serde_json::json!([directory_entry(
            "north", pk
        )])));
        let state = Fake {
            mode: mode.clone(),
            envelopes: Arc::new(envelopes),
            directory: directory.clone(),
        };
        let app = Router::new()
            .route("/api/v1/forces", get(forces))
            .route("/api/v1/inbox", get(inbox))
            .route("/api/v1/inbox/{id}", get(envelope))
            .route("/api/v1/slots/{address}", axum::routing::put(slot_taken))
            .with_state(state);
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move { axum::serve(listener, app).await });
        FakeServer {
            rt,
            base,
            mode,
            directory,
        }
    }
    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }
}

#[test]
fn hostile_server_cannot_crash_the_console_or_corrupt_the_vault() {
    let mut c = Console::new();
    let pk = c.init("north");
    let reporter = Reporter::new();
    let good = reporter.seal("north", &pk, &reporter.report_payload("the real report"));
    let (_, south) = quietline_crypto::keys::generate_keypair(&mut crate::support::rng());
    let mut envelopes = HashMap::new();
    envelopes.insert(id('1'), good.clone());
    envelopes.insert(id('3'), b"QL garbage that is no envelope".to_vec());
    envelopes.insert(
        id('4'),
        reporter.seal("south", &south, &reporter.report_payload("for south")),
    );
    envelopes.insert(id('5'), good);
    let fake = FakeServer::start(envelopes, &pk);
    c.login_offline(&fake.base, &format!("qlt_{}", "B".repeat(43)));

    let out = c.ok(&["pull"]);
    assert!(out.contains("Pulled 4 new envelope(s): 1 opened, 3 flagged; 1 already in the vault; 2 refused. The vault holds 4."), "{out}");
    assert!(
        out.contains("1 duplicate, 1 malformed, 1 other_force"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{}  the same envelope as report {}",
            short(&id('5')),
            id('1')
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "sent more than {MAX_ENVELOPE_LEN} bytes for an envelope"
        )),
        "{out}"
    );
    assert!(
        out.contains("../../etc/passwd  the id is not 32 lowercase hex digits"),
        "{out}"
    );
    // Idempotent.
    let out = c.ok(&["pull"]);
    assert!(
        out.contains("Pulled 0 new envelope(s)")
            && out.contains("5 already in the vault")
            && out.contains("The vault holds 4."),
        "{out}"
    );

    let check_intact = |c: &Console| {
        let list = c.ok(&["list"]);
        assert!(
            list.contains("4 shown of 4 in the vault (3 flagged)."),
            "{list}"
        );
        assert!(
            list.contains("555555555555  2026-11-27  DUPLICATE"),
            "{list}"
        );
        let shown = c.ok(&["show", short(&id('1'))]);
        assert!(
            shown.contains("the real report") && shown.contains("· 1 message(s)"),
            "{shown}"
        );
        assert!(c.ok(&["audit", "verify"]).contains("intact"));
    };
    check_intact(&c);

    for (mode, want) in [
        (
            Mode::Garbage,
            "the server's answer to the inbox listing is not valid: not the expected JSON",
        ),
        (
            Mode::HugeDeclared,
            "the server sent more than 1048576 bytes for the inbox listing; refused",
        ),
        (
            Mode::HugeStreamed,
            "the server sent more than 1048576 bytes for the inbox listing; refused",
        ),
        (
            Mode::Stuck,
            "the server's inbox listing does not move forward",
        ),
        (
            Mode::ServerError,
            "the server answered 500 to the inbox listing: (no JSON error body)",
        ),
    ] {
        fake.set(mode);
        let e = c.fails(&["pull"]);
        assert!(e.contains(want), "{mode:?}: {e}");
        assert!(
            !e.contains('\x1b'),
            "no escape sequence reaches the terminal"
        );
        check_intact(&c);
    }

    // Every slot taken: a clear error, nothing recorded as sent.
    let e = c.fails(&["reply", short(&id('1')), "--message", "hello"]);
    assert!(
        e.contains("reply slots 0 to 15 of this thread are all already taken"),
        "{e}"
    );
    let shown = c.ok(&["show", short(&id('1'))]);
    assert!(!shown.contains("reply from"), "{shown}");
    drop(fake.rt);
}

#[test]
fn a_creeping_or_skipping_cursor_stops_the_pull_quickly() {
    let mut c = Console::new();
    let pk = c.init("north");
    let fake = FakeServer::start(HashMap::new(), &pk);
    c.login_offline(&fake.base, &format!("qlt_{}", "B".repeat(43)));

    // Empty pages whose cursor creeps forward by one: without a bound this
    // pull never ends (the timeout makes that a failure, not a hang).
    fake.set(Mode::Creeping);
    let o = c.run_within(&["pull"], std::time::Duration::from_secs(60));
    assert!(!o.ok, "{o:?}");
    assert!(
        o.stderr
            .contains("sent 3 empty pages in a row, each with a cursor to go on"),
        "{o:?}"
    );

    // A cursor past the page's last id would skip the ids in between.
    fake.set(Mode::Skipping);
    let o = c.run_within(&["pull"], std::time::Duration::from_secs(60));
    assert!(!o.ok, "{o:?}");
    assert!(
        o.stderr.contains(&format!(
            "goes on after {}, which is not the last id of its page ({})",
            id('3'),
            id('1')
        )),
        "{o:?}"
    );
    drop(fake.rt);
}

#[test]
fn a_directory_without_the_force_stops_pull_with_the_key_substitution_code() {
    let mut c = Console::new();
    let pk = c.init("north");
    let fake = FakeServer::start(HashMap::new(), &pk);
    c.login_offline(&fake.base, &format!("qlt_{}", "B".repeat(43)));
    fake.set(Mode::Skipping);
    *fake.directory.lock().unwrap() = serde_json::json!([]);
    let o = c.run(&["pull"]);
    assert_eq!(o.code, Some(3), "{o:?}");
    assert!(
        o.stderr.contains("KEY SUBSTITUTION")
            && o.stderr.contains("does not list force north")
            && o.stderr.contains(&pk.key_id().to_hex()),
        "{o:?}"
    );
    let audit = c.ok(&["audit"]);
    assert!(audit.contains("key-mismatch"), "{audit}");
    // Nothing was pulled: the check comes first.
    assert!(c.ok(&["list"]).contains("0 shown of 0"));
    drop(fake.rt);
}

//! Bad input never crashes the server
//! (threat-model/availability.md#bad-input-never-crashes-the-server and
//! threat-model/adversaries.md#a-flooder-or-spammer).
//!
//! Property-based fuzzing of every HTTP endpoint against ONE live server
//! (in-process `quietline::run` on 127.0.0.1:0, SQLite), over raw TCP so that
//! nothing is normalised by a client library: random methods, paths, path
//! segments and query strings; random, missing, duplicated and conflicting
//! `Content-Type`, `Content-Length`, `Authorization` and `Transfer-Encoding`;
//! random bodies, mutated valid envelopes, random JSON; truncated bodies; and
//! on report submissions a `Quietline-Pow` header that is absent, junk, forged,
//! already spent, or solved (at send time, on a fresh challenge, over the exact
//! body) — so that submissions get past the proof of work to the checks behind
//! it and to 201.
//!
//! For every request: no 5xx; an answer that went through the application
//! (it carries the security headers) is 2xx where the input was valid, and
//! otherwise a 4xx with exactly `{"error","message"}`. A request whose HTTP
//! framing is itself invalid (conflicting lengths, an unknown transfer coding,
//! a broken chunk) may instead be refused by hyper before the application sees
//! it: a bare `400` with an empty body, or a closed connection — never a 5xx,
//! and never for a well-framed request. After every request the server still
//! answers `GET /api/v1/forces`.
//!
//! Plus deterministic cases a random generator rarely hits: uploads cut short
//! (half-closed, and closed outright), uploads that trickle in byte by byte
//! (they succeed), and a client that never finishes its headers (dropped after
//! the header-read timeout while everyone else is served).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::support::server::{
    Backend, TestServer, pow_header, random_slot, reply_for, test_settings,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use quietline::ServerSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Cases of the HTTP property (each is one request plus a liveness probe).
const CASES: u32 = 1000;

// ------------------------------------------------------------------ raw HTTP

/// What came back on a connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: BTreeMap<String, Vec<String>>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// Parse one response from everything read until the server closed.
fn parse_answer(all: &[u8], head_only: bool) -> Option<Answer> {
    let end = all.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&all[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':')?;
        headers
            .entry(k.trim().to_ascii_lowercase())
            .or_default()
            .push(v.trim().to_owned());
    }
    let mut body = all[end..].to_vec();
    if head_only {
        body.clear();
    } else if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.first())
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// Write `bytes` (then half-close the connection if `half_close`: a client
/// that gives up mid-upload) and read until the server closes (bounded).
async fn exchange(
    addr: SocketAddr,
    bytes: &[u8],
    head_only: bool,
    half_close: bool,
) -> Option<Answer> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    // The server may answer (and close) before reading everything: a write
    // error then is part of the exchange, not a test failure.
    let _ = s.write_all(bytes).await;
    if half_close {
        let _ = s.shutdown().await;
    }
    let mut all = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut all)).await;
    assert!(read.is_ok(), "no answer and no close within 30 s");
    parse_answer(&all, head_only)
}

/// `GET /api/v1/forces` answers 200 with the directory.
async fn alive(addr: SocketAddr) {
    let a = exchange(
        addr,
        b"GET /api/v1/forces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        false,
        false,
    )
    .await
    .expect("the server answers GET /api/v1/forces");
    assert_eq!(a.status, 200, "{:?}", String::from_utf8_lossy(&a.body));
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(v[0]["id"], "north");
}

/// Check one answer (see the module docs). `framing_valid`: whether the
/// request was well-framed HTTP/1.1; `complete`: whether it was sent whole
/// (a client that half-closes mid-upload may just be disconnected).
fn check_answer(what: &str, answer: Option<&Answer>, framing_valid: bool, complete: bool) {
    let Some(a) = answer else {
        assert!(
            !framing_valid || !complete,
            "{what}: the connection closed without an answer to a well-framed request"
        );
        return;
    };
    assert!(
        a.status < 500,
        "{what}: {} {}",
        a.status,
        String::from_utf8_lossy(&a.body)
    );
    assert!(a.status >= 200, "{what}: {}", a.status);
    assert!(
        !a.headers.contains_key("set-cookie"),
        "{what}: Set-Cookie {:?}",
        a.headers
    );
    let through_app = a.header("content-security-policy").is_some();
    if !through_app {
        // hyper's own refusal of a request it could not frame.
        assert!(
            !framing_valid,
            "{what}: a well-framed request got an answer without the security headers: {} {:?}",
            a.status, a.headers
        );
        assert!(
            (400..500).contains(&a.status) && a.body.is_empty(),
            "{what}: hyper's refusal is a bare 4xx: {} {:?}",
            a.status,
            a.headers
        );
        return;
    }
    for (name, values) in &a.headers {
        assert!(
            values.len() == 1 || name == "allow" || name == "vary",
            "{what}: {name} repeated: {values:?}"
        );
    }
    if a.status >= 400 && !a.body.is_empty() {
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap_or_else(|e| {
            panic!(
                "{what}: {} error body is not JSON ({e}): {:?}",
                a.status,
                String::from_utf8_lossy(&a.body)
            )
        });
        let o = v.as_object().expect("an object");
        assert!(
            o.len() == 2 && o["error"].is_string() && o["message"].is_string(),
            "{what}: {v}"
        );
        assert!(
            !o["message"].as_str().unwrap().contains("CANARY"),
            "{what}: the message echoes the request: {v}"
        );
    } else if a.status >= 400 {
        // Only a HEAD answer has no body.
        assert!(
            a.body.is_empty() && what.starts_with("HEAD "),
            "{what}: {a:?}"
        );
    }
}

// ------------------------------------------------------------------ strategies

/// Valid material the strategies mutate.
#[derive(Clone, Debug)]
struct Material {
    token: String,
    report: Vec<u8>,
    slot: String,
    reply: Vec<u8>,
    report_id: String,
    /// The envelope stored as `report_id`, and the (now spent) proof of work
    /// it was submitted with.
    spent: (Vec<u8>, String),
}

/// The `Quietline-Pow` header of a request.
#[derive(Clone, Debug)]
enum Pow {
    /// None sent.
    Absent,
    /// Solved over the request's body on a challenge fetched just before it
    /// is sent (a strategy cannot fetch one: each is single-use).
    Solved,
    /// Exactly this value: junk, forged, or a spent solution.
    Given(String),
}

#[derive(Clone, Debug)]
enum Length {
    /// The body's true length.
    Correct,
    /// No Content-Length (the server must not wait for a body it cannot frame).
    Missing,
    /// A length other than the body's (the body is cut short or runs over).
    Wrong(u32),
    /// Not a number.
    Garbage(String),
    /// Two different Content-Length headers.
    Conflicting,
}

#[derive(Clone, Debug)]
enum Coding {
    None,
    /// A correct chunked encoding of the body.
    Chunked,
    /// Chunked, with Content-Length as well.
    ChunkedAndLength,
    /// An encoding hyper does not do (`gzip`, `identity`, junk).
    Other(String),
    /// A chunk header that is not hex, or a body cut inside a chunk.
    BrokenChunks,
}

#[derive(Clone, Debug)]
struct FuzzRequest {
    method: String,
    path: String,
    content_type: Vec<String>,
    authorization: Vec<String>,
    length: Length,
    coding: Coding,
    extra: Vec<(String, String)>,
    pow: Pow,
    body: Vec<u8>,
}

impl FuzzRequest {
    /// Whether the request is well-framed HTTP/1.1 (hyper must hand it on).
    fn framing_valid(&self) -> bool {
        match (&self.coding, &self.length) {
            (Coding::Chunked, Length::Missing) => true,
            (Coding::None, Length::Correct | Length::Missing) => true,
            // A Content-Length longer than what is sent is a truncated upload
            // (see `complete`); a shorter one leaves bytes that a
            // `Connection: close` exchange never reads.
            (Coding::None, Length::Wrong(_)) => true,
            _ => false,
        }
    }

    /// Whether the whole declared body is sent. If not, the client half-closes
    /// after what it sent (a truncated upload).
    fn complete(&self) -> bool {
        !matches!(self.length, Length::Wrong(n) if n as usize > self.body.len())
    }

    /// The `Quietline-Pow` value to send: a [`Pow::Solved`] one is solved now,
    /// over the body, on a fresh challenge from the server at `base`.
    async fn pow_value(&self, http: &reqwest::Client, base: &str) -> Option<String> {
        match &self.pow {
            Pow::Absent => None,
            Pow::Solved => Some(pow_header(http, base, &self.body).await),
            Pow::Given(v) => Some(v.clone()),
        }
    }

    /// The request's bytes; `pow` is the `Quietline-Pow` value for
    /// [`Pow::Solved`] (see [`FuzzRequest::pow_value`]).
    fn to_bytes(&self, pow: Option<&str>) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: quietline.test\r\nConnection: close\r\n",
            self.method, self.path
        );
        if let Some(pow) = pow {
            head.push_str(&format!("Quietline-Pow: {pow}\r\n"));
        }
        for ct in &self.content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        for a in &self.authorization {
            head.push_str(&format!("Authorization: {a}\r\n"));
        }
        for (k, v) in &self.extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body_len = self.body.len();
        match &self.length {
            Length::Correct => head.push_str(&format!("Content-Length: {body_len}\r\n")),
            Length::Missing => {}
            Length::Wrong(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
            Length::Garbage(g) => head.push_str(&format!("Content-Length: {g}\r\n")),
            Length::Conflicting => head.push_str(&format!(
                "Content-Length: {body_len}\r\nContent-Length: {}\r\n",
                body_len + 1
            )),
        }
        let mut body = self.body.clone();
        match &self.coding {
            Coding::None => {}
            Coding::Chunked | Coding::ChunkedAndLength => {
                head.push_str("Transfer-Encoding: chunked\r\n");
                if matches!(self.coding, Coding::ChunkedAndLength) {
                    head.push_str(&format!("Content-Length: {body_len}\r\n"));
                }
                body = chunked(&self.body);
            }
            Coding::Other(c) => head.push_str(&format!("Transfer-Encoding: {c}\r\n")),
            Coding::BrokenChunks => {
                head.push_str("Transfer-Encoding: chunked\r\n");
                body = format!("zz\r\n{}", String::from_utf8_lossy(&self.body)).into_bytes();
            }
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&body);
        out
    }
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(700) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A path segment: plausible or junk, percent-escapes included (never a
/// byte that is not allowed in a request target: those are framing errors,
/// covered by `Length::Garbage`-style cases elsewhere).
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{32}",
        "[0-9a-f]{64}",
        "[0-9a-fA-F]{0,70}",
        "[A-Za-z0-9._~-]{0,40}",
        "(%[0-9A-Fa-f]{2}){1,12}",
        Just("..".to_owned()),
        Just("%2e%2e%2fadmin".to_owned()),
        Just("CANARY".to_owned()),
        Just(String::new()),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("?".to_owned()),
        "\\?(after|limit|CANARY|slots)=[A-Za-z0-9%_.-]{0,40}",
        "\\?after=[0-9a-f]{32}&limit=[0-9-]{1,5}",
        "\\?[A-Za-z0-9=&%_.-]{0,60}",
    ]
}

fn path(m: Material) -> impl Strategy<Value = String> {
    let fixed = prop_oneof![
        Just("/api/v1/forces".to_owned()),
        Just("/api/v1/assets".to_owned()),
        Just("/api/v1/reports".to_owned()),
        Just("/api/v1/slots/fetch".to_owned()),
        Just("/api/v1/inbox".to_owned()),
        Just(format!("/api/v1/inbox/{}", m.report_id)),
        Just(format!("/api/v1/slots/{}", m.slot)),
        Just(format!("/api/v1/copies/{}", m.slot)),
        Just("/".to_owned()),
        Just("/app.js".to_owned()),
        Just("/app.css".to_owned()),
        Just("/licences.txt".to_owned()),
        Just("/favicon.ico".to_owned()),
    ];
    let templated = (
        prop_oneof![
            Just("/api/v1/slots/"),
            Just("/api/v1/copies/"),
            Just("/api/v1/inbox/"),
            Just("/api/v1/reports/"),
            Just("/api/v1/"),
            Just("/api/"),
            Just("/"),
        ],
        segment(),
    )
        .prop_map(|(p, s)| format!("{p}{s}"));
    (prop_oneof![fixed, templated], query()).prop_map(|(p, q)| format!("{p}{q}"))
}

fn header_value() -> impl Strategy<Value = String> {
    // Visible ASCII and spaces: anything else is a framing error hyper answers.
    "[ -~]{0,60}".prop_map(|s| s.trim().to_owned())
}

/// A `Quietline-Pow` header that is not a usable solution: junk text, the
/// right syntax with a challenge this server never issued, or a solution
/// already spent (and for another envelope).
fn bad_pow(m: Material) -> impl Strategy<Value = Pow> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    prop_oneof![
        header_value().prop_map(Pow::Given),
        (proptest::array::uniform32(any::<u8>()), any::<[u8; 8]>()).prop_map(|(a, nonce)| {
            let mut challenge = [0u8; 58];
            challenge[0] = 1;
            challenge[1] = 8;
            challenge[2..34].copy_from_slice(&a);
            Pow::Given(format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(challenge),
                URL_SAFE_NO_PAD.encode(nonce)
            ))
        }),
        "[A-Za-z0-9_-]{78}\\.[A-Za-z0-9_-]{11}".prop_map(Pow::Given),
        Just(Pow::Given(m.spent.1.clone())),
    ]
}

fn mutate(bytes: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = bytes.len();
    prop_oneof![
        Just(bytes.clone()),
        (0..len).prop_map({
            let b = bytes.clone();
            move |n| b[..n].to_vec()
        }),
        (proptest::collection::vec((0..len, any::<u8>()), 1..8)).prop_map({
            let b = bytes.clone();
            move |flips| {
                let mut b = b.clone();
                for (i, x) in flips {
                    b[i] ^= x | 1;
                }
                b
            }
        }),
        proptest::collection::vec(any::<u8>(), 1..200).prop_map({
            let b = bytes.clone();
            move |tail| {
                let mut b = b.clone();
                b.extend(tail);
                b
            }
        }),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[0-9a-f]{64}".prop_map(Value::String),
        ".{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 40, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..40).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![Just("slots".to_owned()), "[a-z]{1,8}"],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body(m: Material) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => Just(Vec::new()),
        1 => proptest::collection::vec(any::<u8>(), 0..3000),
        3 => mutate(m.report.clone()),
        2 => mutate(m.reply.clone()),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => proptest::collection::vec(segment(), 0..40)
            .prop_map(|s| serde_json::json!({ "slots": s }).to_string().into_bytes()),
        1 => Just(format!(r#"{{"slots":["{}"]}}"#, m.slot).into_bytes()),
        1 => Just(b"CANARY".to_vec()),
        // Past the envelope limit (413).
        1 => Just(vec![b'Q'; 70_000]),
    ]
}

/// A request aimed at one endpoint: the right method, path, content type and
/// token, with the body, length and coding still drawn at random — so the
/// checks behind the framing (shape, key, slot, auth) are reached too.
fn aimed(m: Material) -> impl Strategy<Value = FuzzRequest> {
    let bearer = format!("Bearer {}", m.token);
    let octet = "application/octet-stream".to_owned();
    let json = "application/json".to_owned();
    let report_body = prop_oneof![3 => Just(m.report.clone()), 2 => mutate(m.report.clone())];
    let reply_body = prop_oneof![3 => Just(m.reply.clone()), 2 => mutate(m.reply.clone())];
    let report_pow =
        prop_oneof![6 => Just(Pow::Solved), 1 => Just(Pow::Absent), 2 => bad_pow(m.clone())];
    let endpoint = prop_oneof![
        3 => (report_body, report_pow).prop_map({
            let octet = octet.clone();
            move |(b, pow)| ("POST".to_owned(), "/api/v1/reports".to_owned(), vec![octet.clone()], vec![], pow, b)
        }),
        // The stored report's exact request again: its challenge is spent.
        1 => Just((
            "POST".to_owned(),
            "/api/v1/reports".to_owned(),
            vec![octet.clone()],
            vec![],
            Pow::Given(m.spent.1.clone()),
            m.spent.0.clone(),
        )),
        2 => reply_body.prop_map({
            let (octet, bearer, slot) = (octet.clone(), bearer.clone(), m.slot.clone());
            move |b| ("PUT".to_owned(), format!("/api/v1/slots/{slot}"), vec![octet.clone()], vec![bearer.clone()], Pow::Absent, b)
        }),
        2 => body(m.clone()).prop_map({
            let json = json.clone();
            move |b| ("POST".to_owned(), "/api/v1/slots/fetch".to_owned(), vec![json.clone()], vec![], Pow::Absent, b)
        }),
        // A reporter's own copy: a reply-shaped envelope routed to the box,
        // with a proof of work (crypto/FORMAT.md#own-copies).
        2 => (
            prop_oneof![3 => Just(m.reply.clone()), 2 => mutate(m.reply.clone())],
            prop_oneof![6 => Just(Pow::Solved), 1 => Just(Pow::Absent), 2 => bad_pow(m.clone())],
        )
            .prop_map({
                let (octet, slot) = (octet.clone(), m.slot.clone());
                move |(b, pow)| ("POST".to_owned(), format!("/api/v1/copies/{slot}"), vec![octet.clone()], vec![], pow, b)
            }),
        2 => query().prop_map({
            let bearer = bearer.clone();
            move |q| ("GET".to_owned(), format!("/api/v1/inbox{q}"), vec![], vec![bearer.clone()], Pow::Absent, vec![])
        }),
        2 => (prop_oneof![Just("/api/v1/inbox/"), Just("/api/v1/slots/")], segment()).prop_map({
            let bearer = bearer.clone();
            move |(p, seg)| ("GET".to_owned(), format!("{p}{seg}"), vec![], vec![bearer.clone()], Pow::Absent, vec![])
        }),
    ];
    let length = prop_oneof![
        8 => Just(Length::Correct),
        1 => (0u32..3000).prop_map(Length::Wrong),
        1 => Just(Length::Conflicting),
    ];
    let coding = prop_oneof![8 => Just(Coding::None), 2 => Just(Coding::Chunked)];
    (endpoint, length, coding).prop_map(
        |((method, path, content_type, authorization, pow, body), length, coding)| {
            let length = match coding {
                Coding::Chunked => Length::Missing,
                _ => length,
            };
            FuzzRequest {
                method,
                path,
                content_type,
                authorization,
                length,
                coding,
                extra: vec![],
                pow,
                body,
            }
        },
    )
}

fn request(m: Material) -> impl Strategy<Value = FuzzRequest> {
    prop_oneof![3 => any_request(m.clone()), 2 => aimed(m)]
}

fn any_request(m: Material) -> impl Strategy<Value = FuzzRequest> {
    let method = prop_oneof![
        4 => Just("GET".to_owned()),
        2 => Just("HEAD".to_owned()),
        4 => Just("POST".to_owned()),
        3 => Just("PUT".to_owned()),
        1 => Just("DELETE".to_owned()),
        1 => Just("PATCH".to_owned()),
        1 => Just("OPTIONS".to_owned()),
        1 => "[A-Z]{1,12}",
    ];
    let content_type = prop_oneof![
        3 => Just(vec!["application/octet-stream".to_owned()]),
        2 => Just(vec!["application/json".to_owned()]),
        2 => proptest::collection::vec(
            prop_oneof![
                Just("application/octet-stream".to_owned()),
                Just("application/json".to_owned()),
                Just("Application/Octet-Stream; charset=utf-8".to_owned()),
                Just("application/json;".to_owned()),
                Just("text/plain".to_owned()),
                Just("multipart/form-data; boundary=x".to_owned()),
                header_value(),
            ],
            0..3,
        ),
    ];
    let token = m.token.clone();
    let authorization = proptest::collection::vec(
        prop_oneof![
            Just(format!("Bearer {token}")),
            Just(format!("bearer   {token}  ")),
            Just(format!("Basic {token}")),
            Just(format!("Bearer {}x", token)),
            Just(format!("Bearer {}", &token[..20])),
            "Bearer qlt_[A-Za-z0-9_-]{43}",
            header_value(),
        ],
        0..3,
    );
    let length = prop_oneof![
        6 => Just(Length::Correct),
        2 => Just(Length::Missing),
        2 => (0u32..5000).prop_map(Length::Wrong),
        1 => prop_oneof![
            Just("-1".to_owned()),
            Just("1e3".to_owned()),
            Just("99999999999999999999999".to_owned()),
            Just(" 12".to_owned()),
            Just("0x10".to_owned()),
            "[a-z]{1,5}",
        ]
        .prop_map(Length::Garbage),
        1 => Just(Length::Conflicting),
    ];
    let coding = prop_oneof![
        8 => Just(Coding::None),
        3 => Just(Coding::Chunked),
        1 => Just(Coding::ChunkedAndLength),
        1 => prop_oneof![
            Just("gzip".to_owned()),
            Just("identity".to_owned()),
            Just("chunked, gzip".to_owned()),
            Just("gzip, chunked".to_owned()),
            "[a-z]{1,8}",
        ]
        .prop_map(Coding::Other),
        1 => Just(Coding::BrokenChunks),
    ];
    let extra = proptest::collection::vec(
        (
            prop_oneof![
                Just("Expect".to_owned()),
                Just("Accept-Encoding".to_owned()),
                Just("X-Forwarded-For".to_owned()),
                Just("Cookie".to_owned()),
                Just("Range".to_owned()),
                Just("If-None-Match".to_owned()),
                Just("Origin".to_owned()),
                "X-[A-Za-z-]{1,12}",
            ],
            header_value(),
        ),
        0..3,
    );
    let pow = prop_oneof![
        6 => Just(Pow::Absent),
        2 => Just(Pow::Solved),
        2 => bad_pow(m.clone()),
    ];
    (
        method,
        path(m.clone()),
        content_type,
        authorization,
        length,
        coding,
        extra,
        pow,
        body(m),
    )
        .prop_map(
            |(method, path, content_type, authorization, length, coding, extra, pow, body)| {
                // `Expect: 100-continue` is answered by hyper on its own and
                // then waits for the body: keep it only with a true length.
                let extra = extra
                    .into_iter()
                    .filter(|(k, _)| k != "Expect" || matches!(length, Length::Correct))
                    .collect();
                let mut r = FuzzRequest {
                    method,
                    path,
                    content_type,
                    authorization,
                    length,
                    coding,
                    extra,
                    pow,
                    body,
                };
                // A HEAD or GET with a body is legal HTTP but pointless here;
                // keep it (the server must cope), unless the length is missing
                // (then the body would be read as a second request).
                if matches!(r.length, Length::Missing) && matches!(r.coding, Coding::None) {
                    r.body.clear();
                }
                r
            },
        )
}

// ------------------------------------------------------------------ tests

struct Live {
    rt: tokio::runtime::Runtime,
    server: TestServer,
    material: Material,
}

fn live(settings: ServerSettings) -> Live {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, material) = rt.block_on(async {
        let s = TestServer::start_with(Backend::Sqlite, settings)
            .await
            .unwrap();
        let force = s.add_force("north", "North").await;
        let token = s.token("north", "desk").await;
        let report = force.report(b"a valid report to mutate");
        let stored = force.report(b"one that is there");
        let pow = s.pow(&stored).await;
        let res = s
            .http
            .post(s.url("/api/v1/reports"))
            .header("content-type", "application/octet-stream")
            .header("quietline-pow", &pow)
            .body(stored.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        let report_id = v["id"].as_str().unwrap().to_owned();
        let slot = random_slot();
        let reply = reply_for(slot, b"a valid reply to mutate");
        (
            s,
            Material {
                token,
                report,
                slot: hex::encode(slot),
                reply,
                report_id,
                spent: (stored, pow),
            },
        )
    });
    Live {
        rt,
        server,
        material,
    }
}

fn fuzz_settings() -> ServerSettings {
    ServerSettings {
        // A truncated body that hyper keeps waiting for ends in 408 quickly.
        request_timeout: Duration::from_secs(3),
        ..test_settings()
    }
}

#[test]
fn every_endpoint_survives_random_requests() {
    let l = live(fuzz_settings());
    let addr = l.server.addr;
    let statuses = Mutex::new(BTreeMap::<(bool, u16), u32>::new());
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let started = Instant::now();
    let result = runner.run(&request(l.material.clone()), |req| {
        let what = format!(
            "{} {} ({:?}, {:?}, pow {:?})",
            req.method, req.path, req.length, req.coding, req.pow
        );
        let pow = l.rt.block_on(req.pow_value(&l.server.http, &l.server.base));
        let bytes = req.to_bytes(pow.as_deref());
        let complete = req.complete();
        let answer =
            l.rt.block_on(exchange(addr, &bytes, req.method == "HEAD", !complete));
        check_answer(&what, answer.as_ref(), req.framing_valid(), complete);
        if let Some(a) = &answer {
            *statuses
                .lock()
                .unwrap()
                .entry((a.header("content-security-policy").is_some(), a.status))
                .or_default() += 1;
        }
        l.rt.block_on(alive(addr));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let statuses = statuses.into_inner().unwrap();
    println!(
        "{CASES} requests in {:.1}s; (through the app, status) → count: {statuses:?}",
        started.elapsed().as_secs_f64()
    );
    // The generator reaches the interesting answers.
    for want in [200, 201, 400, 401, 404, 405, 409, 413, 415, 429] {
        assert!(
            statuses.contains_key(&(true, want)),
            "no {want} in {statuses:?}"
        );
    }
    l.rt.block_on(async move { l.server.stop().await });
}

/// Bodies cut short: the client half-closes (or vanishes) mid-body, on each
/// body-taking route and with both framings.
#[test]
fn truncated_uploads_are_refused_and_forgotten() {
    let l = live(fuzz_settings());
    let addr = l.server.addr;
    let m = &l.material;
    let auth = format!("Authorization: Bearer {}\r\n", m.token);
    // A proof of work solved over the whole report: the cut is what is
    // refused, not a missing header. (It is never spent: nothing is stored.)
    let pow = format!(
        "Quietline-Pow: {}\r\n",
        l.rt.block_on(l.server.pow(&m.report))
    );
    let routes: [(&str, String, &str, &str, &[u8]); 3] = [
        (
            "POST",
            "/api/v1/reports".into(),
            "application/octet-stream",
            &pow,
            &m.report,
        ),
        (
            "PUT",
            format!("/api/v1/slots/{}", m.slot),
            "application/octet-stream",
            &auth,
            &m.reply,
        ),
        (
            "POST",
            "/api/v1/slots/fetch".into(),
            "application/json",
            "",
            br#"{"slots":["00000000000000000000000000000000000000000000000000000000000000"]}"#,
        ),
    ];
    l.rt.block_on(async {
        for (method, path, ct, auth, body) in &routes {
            for cut in [0, 1, body.len() / 2, body.len() - 1] {
                // Declared length, body cut, write side closed: a 400 (or 408).
                let mut req = format!(
                    "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {ct}\r\n{auth}Content-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                req.extend_from_slice(&body[..cut]);
                let a = exchange(addr, &req, false, true).await;
                let what = format!("{method} {path} cut at {cut}");
                check_answer(&what, a.as_ref(), true, false);
                if let Some(a) = &a {
                    assert!(
                        a.status == 400 || a.status == 408,
                        "{what}: {} {:?}",
                        a.status,
                        String::from_utf8_lossy(&a.body)
                    );
                }
                // Chunked, cut inside a chunk.
                let mut req = format!(
                    "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {ct}\r\n{auth}Transfer-Encoding: chunked\r\n\r\n"
                )
                .into_bytes();
                let enc = chunked(body);
                req.extend_from_slice(&enc[..cut.min(enc.len() - 6)]);
                let a = exchange(addr, &req, false, true).await;
                check_answer(&format!("{what} (chunked)"), a.as_ref(), true, false);
                // The client vanishes outright (no half-close, no read).
                let mut s = TcpStream::connect(addr).await.unwrap();
                let _ = s.write_all(&req).await;
                drop(s);
                alive(addr).await;
            }
        }
        // Nothing half-sent was stored: the inbox holds the one report.
        let res = l
            .server
            .http
            .get(l.server.url("/api/v1/inbox"))
            .bearer_auth(&m.token)
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(v["reports"].as_array().unwrap().len(), 1, "{v}");
        let res = l
            .server
            .http
            .get(l.server.url(&format!("/api/v1/slots/{}", m.slot)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "no half-sent reply was stored");
    });
    l.rt.block_on(async move { l.server.stop().await });
}

/// Uploads that trickle in — head and body a few bytes at a time — are
/// answered normally (within the request timeout), both framings.
#[test]
fn trickled_uploads_succeed() {
    let l = live(fuzz_settings());
    let addr = l.server.addr;
    let report = l.material.report.clone();
    l.rt.block_on(async {
        for chunked_body in [false, true] {
            let pow = l.server.pow(&report).await;
            let mut req = format!(
                "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nQuietline-Pow: {pow}\r\n{}\r\n",
                if chunked_body {
                    "Transfer-Encoding: chunked\r\n".to_owned()
                } else {
                    format!("Content-Length: {}\r\n", report.len())
                }
            )
            .into_bytes();
            req.extend(if chunked_body {
                chunked(&report)
            } else {
                report.clone()
            });
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            // ~1.3 KB in 7-byte pieces, 2 ms apart: about 0.4 s in all.
            for piece in req.chunks(7) {
                s.write_all(piece).await.unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let mut all = Vec::new();
            tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut all))
                .await
                .unwrap()
                .unwrap();
            let a = parse_answer(&all, false).expect("an answer");
            assert_eq!(
                a.status,
                201,
                "chunked={chunked_body}: {}",
                String::from_utf8_lossy(&a.body)
            );
        }
        alive(addr).await;
    });
    l.rt.block_on(async move { l.server.stop().await });
}

/// A client that never finishes its headers (slowloris) is dropped after the
/// header-read timeout, and everyone else is served meanwhile.
#[test]
fn unfinished_headers_are_dropped_while_others_are_served() {
    let l = live(fuzz_settings());
    let addr = l.server.addr;
    l.rt.block_on(async {
        let started = Instant::now();
        let mut stalled = Vec::new();
        for _ in 0..8 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nX-Slow: a")
                .await
                .unwrap();
            stalled.push(s);
        }
        // Served meanwhile.
        for _ in 0..5 {
            alive(addr).await;
        }
        let limit = quietline::http::HEADER_READ_TIMEOUT + Duration::from_secs(15);
        for mut s in stalled {
            let mut rest = Vec::new();
            let r = tokio::time::timeout(limit, s.read_to_end(&mut rest)).await;
            assert!(
                r.is_ok(),
                "a connection with unfinished headers was kept open past {limit:?}"
            );
            // hyper may answer 408 before closing; never with a 5xx.
            if let Some(a) = parse_answer(&rest, false) {
                assert!(a.status < 500, "{}", a.status);
            }
        }
        assert!(
            started.elapsed() >= quietline::http::HEADER_READ_TIMEOUT - Duration::from_secs(1),
            "dropped before the timeout: {:?}",
            started.elapsed()
        );
        alive(addr).await;
    });
    l.rt.block_on(async move { l.server.stop().await });
}

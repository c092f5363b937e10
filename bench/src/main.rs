//! `quietline-bench`: the benchmark suite of issue 8, every figure next to a
//! ceiling measured in the same run (the machines are shared and noisy).
//!
//! `cargo run --release -p quietline-bench -- all` runs everything and prints
//! Markdown for `BENCHMARKS.md`. Traffic goes to 127.0.0.1 only; every loop is
//! bounded by a count and a deadline.
//!
//! - intake: durable 8 KiB submissions/s, p50/p99, concurrency 16 and 64, on
//!   SQLite and PostgreSQL; ceilings: a bare axum endpoint answering 201
//!   (HTTP), the same database taking the same rows in 512-row batches (write).
//! - console: reports opened and parsed/s (`KeyRing::open_message`, the
//!   `list`/`show`/`export` path) against raw HPKE open/s.
//! - pull: time and peak RSS of `quietline-console pull` (a child process) for
//!   N/10 and N reports.
//! - pow: the proof of work's verification cost in-process (against SHA-256
//!   of the same envelope), and a flood of refused submissions against a
//!   server in a child process (its CPU time read from `/proc`), with the
//!   success rate and latency of genuine senders against a flood-free
//!   baseline.
//! - pow-rate: genuine senders' time to send before, during and after a
//!   flood of *solved* reports at a multiple of the expected peak, against a
//!   server in a child process whose difficulty answers the intake rate
//!   (issue 15), with the difficulty it asked for each second.
//! - soak: a fixed rate for a fixed time, RSS sampled every 10 s.
//!
//! The server runs in this process on its own 2-thread runtime (as `quietline
//! serve` would on 2 cores), the load client on another runtime. It requires a
//! proof of work at difficulty 1 (`PowSettings::fixed(1)`): the server's cost
//! of checking one does not depend on the difficulty, so the measured path is
//! the production one (one HMAC, two SHA-256, a spent-challenge row in the
//! report's transaction) while the clients' solving costs nothing. Every POST
//! carries its own fresh challenge, fetched and solved before the timed part
//! (intake, pull) or inline, GET then POST, as the page does (soak).

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1 as client_http1;
use hyper_util::rt::TokioIo;
use quietline::pow::PowSettings;
use quietline::storage;
use quietline_crypto::envelope::Kind;
use quietline_crypto::keys::{PrivateKey, PublicKey, generate_keypair};
use quietline_crypto::payload::{
    Common, Known, Payload, Person, ReplyMaterial, Report, ReportBody, Vehicle, When,
};
use quietline_crypto::pow as qpow;
use quietline_crypto::reply_code::ReplyCode;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Envelope size for intake: 8 KiB bucket.
const DETAILS_LEN: usize = 6_000;
/// The difficulty of the in-process servers (intake, pull, soak): the
/// server's checking cost does not depend on it, and clients solve it in ~2
/// tries.
const BENCH_DIFFICULTY: u8 = 1;
/// Most nonces a solver tries (2^34: far beyond any difficulty used here).
const SOLVE_MAX_TRIES: u64 = 1 << 34;
/// Requests of any run that were not answered as they should have been
/// (intake, pull, soak, flood): the process exits non-zero at the end if any.
static FAILED: AtomicU64 = AtomicU64::new(0);

#[derive(Parser)]
#[command(about = "Quietline benchmarks (issue 8); prints Markdown for BENCHMARKS.md")]
struct Cli {
    #[command(subcommand)]
    what: What,
    /// Submissions per intake measurement (per backend and concurrency).
    #[arg(long, default_value_t = 30_000, global = true)]
    requests: usize,
    /// Reports pulled in the pull benchmark (a tenth of it is pulled first, to
    /// show memory does not grow with the count).
    #[arg(long, default_value_t = 100_000, global = true)]
    pull_n: usize,
    /// Soak duration in seconds (600 for the recorded run).
    #[arg(long, default_value_t = 600, global = true)]
    soak_secs: u64,
    /// Soak rate, submissions per second.
    #[arg(long, default_value_t = 500, global = true)]
    soak_rate: u64,
    /// Envelopes opened in the console benchmark.
    #[arg(long, default_value_t = 5_000, global = true)]
    opens: usize,
    /// Skip PostgreSQL.
    #[arg(long, global = true)]
    no_postgres: bool,
    /// Seconds of each proof-of-work flood phase (baseline, then flood).
    #[arg(long, default_value_t = 20, global = true)]
    pow_secs: u64,
    /// Difficulty of the flood benchmark's server (its genuine senders solve it).
    #[arg(long, default_value_t = 16, global = true)]
    pow_difficulty: u8,
    /// Genuine senders (GET challenge, solve, POST, in a loop) in the flood benchmark.
    #[arg(long, default_value_t = 8, global = true)]
    genuine: usize,
    /// Keep-alive connections sending refused submissions in the flood phase.
    #[arg(long, default_value_t = 64, global = true)]
    flood: usize,
    /// pow-rate: the server's floor (its ceiling is floor + 9, as 19/28).
    #[arg(long, default_value_t = 12, global = true)]
    rate_floor: u8,
    /// pow-rate: the server's expected peak, reports per minute.
    #[arg(long, default_value_t = 120, global = true)]
    rate_expected: u32,
    /// pow-rate: the flood's rate as a multiple of the expected peak.
    #[arg(long, default_value_t = 10, global = true)]
    rate_x: u32,
    /// pow-rate: seconds of the flood (20 s before it, 40 s after it).
    #[arg(long, default_value_t = 60, global = true)]
    rate_secs: u64,
}

#[derive(Subcommand, Clone, PartialEq, Eq)]
enum What {
    /// Everything below, in order.
    All,
    /// Intake on SQLite and PostgreSQL with both ceilings.
    Intake,
    /// Console open+parse vs raw HPKE open.
    Console,
    /// Pull N reports with the console binary.
    Pull,
    /// Proof of work: verification cost, and genuine senders under a flood.
    Pow,
    /// Proof of work: genuine senders during a flood of solved reports at a
    /// multiple of the expected peak (the difficulty answering the rate).
    PowRate,
    /// Fixed-rate soak with RSS samples.
    Soak,
    /// (internal) The flood benchmark's server: `quietline::run` on SQLite in
    /// DIR with the demo force and a fixed difficulty; prints its address on
    /// stdout and stops when stdin closes.
    #[command(hide = true)]
    PowServer {
        /// Data directory (SQLite file and the demo force's files).
        #[arg(long)]
        dir: PathBuf,
        /// Proof-of-work floor.
        #[arg(long)]
        difficulty: u8,
        /// Proof-of-work ceiling [default: the floor].
        #[arg(long)]
        max: Option<u8>,
        /// Expected peak, reports per minute [default: 0, the rate not watched].
        #[arg(long, default_value_t = 0)]
        expected_rate: u32,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // The server's access log, formatted as `quietline serve` does, into a
    // sink: its cost is measured, its lines are not kept.
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let filter = tracing_subscriber::filter::Targets::new()
            .with_default(tracing_subscriber::filter::LevelFilter::WARN)
            .with_target("quietline", tracing_subscriber::filter::LevelFilter::INFO);
        let fmt = tracing_subscriber::fmt::layer()
            .without_time()
            .with_ansi(false)
            .with_writer(std::io::sink);
        tracing_subscriber::registry().with(fmt).with(filter).init();
    }
    if let What::PowServer {
        dir,
        difficulty,
        max,
        expected_rate,
    } = &cli.what
    {
        return pow_server(
            dir,
            PowSettings {
                floor: *difficulty,
                max: max.unwrap_or(*difficulty),
                expected_rate: *expected_rate,
            },
        );
    }
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let all = cli.what == What::All;
    println!("{}", machine());
    if all || cli.what == What::Intake {
        client_rt.block_on(intake(&cli))?;
    }
    if all || cli.what == What::Console {
        console_bench(&cli)?;
    }
    if all || cli.what == What::Pull {
        client_rt.block_on(pull(&cli))?;
    }
    if all || cli.what == What::Pow {
        pow_bench(&cli, &client_rt)?;
    }
    if all || cli.what == What::PowRate {
        client_rt.block_on(pow_rate_bench(&cli))?;
    }
    if all || cli.what == What::Soak {
        client_rt.block_on(soak(&cli))?;
    }
    let failed = FAILED.load(Ordering::Relaxed);
    if failed > 0 {
        bail!(
            "{failed} requests were not answered as expected (see the errors in the tables above): these figures are not valid"
        );
    }
    Ok(())
}

fn machine() -> String {
    let cmd = |c: &str, a: &[&str]| {
        std::process::Command::new(c)
            .args(a)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    format!(
        "## Machine\n\n- nproc: {}\n- memory: {}\n- kernel: {}\n- load before the run: {}",
        cmd("nproc", &[]),
        cmd("free", &["-h"])
            .lines()
            .nth(1)
            .unwrap_or("")
            .split_whitespace()
            .nth(1)
            .unwrap_or("?"),
        cmd("uname", &["-sr"]),
        cmd("uptime", &[]),
    )
}

// ------------------------------------------------------------------ servers

/// A server on its own 2-thread runtime; dropped = stopped.
struct Server {
    addr: std::net::SocketAddr,
    rt: Option<Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    storage: Option<Arc<dyn storage::Storage>>,
}

impl Server {
    fn server_runtime() -> Result<Runtime> {
        Ok(tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("server")
            .enable_all()
            .build()?)
    }

    /// Quietline itself, with the demo force, on `database_url`.
    fn quietline(database_url: &str, data_dir: &Path) -> Result<(Server, PublicKey)> {
        let rt = Self::server_runtime()?;
        let (storage, listener) = off(|| {
            rt.block_on(async {
                let storage = storage::open(database_url).await?;
                quietline::demo::ensure_demo(storage.as_ref(), data_dir).await?;
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                anyhow::Ok((storage, listener))
            })
        })?;
        let public = std::fs::read_to_string(data_dir.join("demo/public-key"))?;
        let public = PublicKey::from_base64url(public.trim())?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // Proof of work on, at a difficulty the clients solve in ~2 tries:
        // verifying costs the server the same at any difficulty.
        let settings = quietline::ServerSettings {
            pow: PowSettings::fixed(BENCH_DIFFICULTY),
            ..quietline::ServerSettings::default()
        };
        let s = storage.clone();
        rt.spawn(async move {
            let _ = quietline::run(listener, s, settings, async move {
                let _ = stopped.await;
            })
            .await;
        });
        Ok((
            Server {
                addr,
                rt: Some(rt),
                stop: Some(stop),
                storage: Some(storage),
            },
            public,
        ))
    }

    /// The HTTP ceiling: a bare axum route that reads the same body and
    /// answers 201 with an id, storing nothing; same runtime, same hyper
    /// HTTP/1 connection handling as `quietline::run`.
    fn bare() -> Result<Server> {
        use axum::routing::post;
        let rt = Self::server_runtime()?;
        let listener = off(|| rt.block_on(TcpListener::bind("127.0.0.1:0")))?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        rt.spawn(async move {
            let app = axum::Router::new().route(
                "/api/v1/reports",
                post(|body: Bytes| async move {
                    let mut id = [0u8; 16];
                    let _ = getrandom::fill(&mut id);
                    std::hint::black_box(body.len());
                    (
                        axum::http::StatusCode::CREATED,
                        format!("{{\"id\":\"{}\"}}", hex::encode(id)),
                    )
                }),
            );
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let svc = hyper_util::service::TowerToHyperService::new(app.clone());
                        tokio::spawn(async move {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), svc)
                                .await;
                        });
                    }
                }
            }
        });
        Ok(Server {
            addr,
            rt: Some(rt),
            stop: Some(stop),
            storage: None,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let storage = self.storage.take();
        if let Some(rt) = self.rt.take() {
            // Off this thread: it may be inside the client's runtime.
            off(move || {
                if let Some(s) = storage {
                    rt.block_on(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(30), s.close()).await;
                    });
                }
                rt.shutdown_timeout(Duration::from_secs(5));
            });
        }
    }
}

/// Run blocking runtime work on a plain thread (never inside a runtime).
fn off<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("helper thread panicked"))
}

// ------------------------------------------------------------------ envelopes

fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

fn report_payload(details_len: usize) -> Payload {
    let secrets = ReplyCode::generate(&mut rng()).derive();
    let mut details = String::with_capacity(details_len);
    while details.len() < details_len {
        details.push_str("Cars stop outside number 14 most nights and leave within minutes. ");
    }
    details.truncate(details_len);
    Payload::Report(Report {
        common: Common {
            v: 1,
            sent_at: "2026-11-27T19:45:00Z".into(),
            lang: "en".into(),
        },
        report: ReportBody {
            category: "drugs".into(),
            details,
            location: Known {
                known: true,
                description: "Behind the Co-op on Mill Lane".into(),
            },
            when: When {
                known: true,
                date: Some("2026-11-20".into()),
                time: Some("22:30".into()),
                ongoing: true,
                description: "most Friday nights".into(),
            },
            people: vec![Person {
                name: "Tall Dave".into(),
                description: "about 30, red cap".into(),
            }],
            vehicles: vec![Vehicle {
                registration: "AB12 CDE".into(),
                make_model: "Ford Focus".into(),
                colour: "silver".into(),
                description: "dent in the rear door".into(),
            }],
            how_known: "saw".into(),
            how_known_details: "from my window".into(),
        },
        attachments: vec![],
        reply: ReplyMaterial::from_secrets(&secrets),
    })
}

/// `n` distinct sealed 8 KiB-bucket report envelopes for `force`.
fn envelopes(force: &str, pk: &PublicKey, n: usize) -> Vec<Bytes> {
    (0..n)
        .map(|_| {
            let json = report_payload(DETAILS_LEN).to_json();
            Bytes::from(
                quietline_crypto::seal::seal_report(&mut rng(), force, pk, &json).expect("seal"),
            )
        })
        .collect()
}

// ------------------------------------------------------------------ load client

#[derive(Default)]
struct Run {
    ok: u64,
    errors: u64,
    /// What the errors were: the API error code, or `transport: …`.
    codes: BTreeMap<String, u64>,
    secs: f64,
    /// Latencies in microseconds, successful requests.
    lat: Vec<u32>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }
    fn pct(&mut self, p: f64) -> f64 {
        pct(&mut self.lat, p)
    }
    fn error(&mut self, code: String) {
        self.errors += 1;
        *self.codes.entry(code).or_default() += 1;
    }
    fn merge(&mut self, other: Run) {
        self.ok += other.ok;
        self.errors += other.errors;
        for (k, v) in other.codes {
            *self.codes.entry(k).or_default() += v;
        }
        self.lat.extend(other.lat);
    }
    /// The errors cell of a table: `0`, or the count in bold with the codes.
    /// Counts them into [`FAILED`]: a run with errors fails the process.
    fn errors_cell(&self) -> String {
        if self.errors == 0 {
            return "0".into();
        }
        FAILED.fetch_add(self.errors, Ordering::Relaxed);
        let codes: Vec<String> = self
            .codes
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        eprintln!(
            "ERRORS: {} requests failed: {}",
            self.errors,
            codes.join(", ")
        );
        format!("**{} ERRORS** ({})", self.errors, codes.join(", "))
    }
}

/// The `p` quantile of latencies in µs, in ms.
fn pct(lat: &mut [u32], p: f64) -> f64 {
    if lat.is_empty() {
        return f64::NAN;
    }
    lat.sort_unstable();
    let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
    f64::from(lat[i]) / 1000.0
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u128::from(u32::MAX)) as u32
}

type Conn = client_http1::SendRequest<Full<Bytes>>;

async fn connect(addr: std::net::SocketAddr) -> Result<Conn> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (send, conn) = client_http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(send)
}

/// How a POST was answered: the status and, unless 201, the API error code.
struct Answer {
    status: u16,
    code: String,
}

impl Answer {
    fn created(&self) -> bool {
        self.status == 201
    }
    /// `pow_missing (400)`.
    fn describe(&self) -> String {
        format!("{} ({})", self.code, self.status)
    }
}

/// One POST of `body`, with `pow` as the `Quietline-Pow` header if given.
async fn post(send: &mut Conn, body: Bytes, pow: Option<&str>) -> Result<Answer> {
    send.ready().await?;
    let mut req = hyper::Request::post("/api/v1/reports")
        .header("host", "127.0.0.1")
        .header("content-type", "application/octet-stream")
        .header("content-length", body.len());
    if let Some(pow) = pow {
        req = req.header(qpow::HEADER, pow);
    }
    let resp = send.send_request(req.body(Full::new(body))?).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let code = if status == 201 {
        String::new()
    } else {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "(no error code)".into())
    };
    Ok(Answer { status, code })
}

/// A challenge as `GET /api/v1/challenge` gives it.
#[derive(Clone, Copy)]
struct Issued {
    challenge: [u8; qpow::CHALLENGE_LEN],
    difficulty: u8,
}

/// `GET /api/v1/challenge` on a keep-alive connection.
async fn get_challenge(send: &mut Conn) -> Result<Issued> {
    send.ready().await?;
    let req = hyper::Request::get("/api/v1/challenge")
        .header("host", "127.0.0.1")
        .header("accept", "application/json")
        .body(Full::new(Bytes::new()))?;
    let resp = send.send_request(req).await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    if status != hyper::StatusCode::OK {
        bail!(
            "GET /api/v1/challenge answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    let text = v["challenge"].as_str().context("no challenge")?;
    let challenge = URL_SAFE_NO_PAD
        .decode(text)?
        .try_into()
        .map_err(|_| anyhow!("the challenge is not {} bytes", qpow::CHALLENGE_LEN))?;
    let difficulty = u8::try_from(v["difficulty"].as_u64().context("no difficulty")?)?;
    Ok(Issued {
        challenge,
        difficulty,
    })
}

/// The `Quietline-Pow` header solving `c` over the envelope hashing to `hash`.
fn solve_header(c: &Issued, hash: &[u8; 32]) -> Result<String> {
    let nonce = qpow::solve(&c.challenge, hash, c.difficulty, 0, SOLVE_MAX_TRIES)
        .context("no nonce found")?;
    Ok(qpow::Solution {
        challenge: c.challenge,
        nonce,
    }
    .to_header())
}

fn hashes(bodies: &[Bytes]) -> Vec<[u8; 32]> {
    bodies.iter().map(|b| qpow::envelope_hash(b)).collect()
}

/// Headers for `n` requests to the server at `addr`: request `i` sends
/// `bodies[i % len]`, so its header solves a challenge of its own (fetched
/// from the server; a challenge is accepted once) over that body. Done before
/// any timed part: 8 keep-alive connections fetch, then one blocking task
/// solves.
async fn prepare(
    addr: std::net::SocketAddr,
    bodies: &[Bytes],
    n: usize,
) -> Result<Arc<Vec<String>>> {
    const CONNS: usize = 8;
    let work = async {
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..CONNS {
            let next = next.clone();
            let mut send = connect(addr).await?;
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= n {
                        break;
                    }
                    got.push((i, get_challenge(&mut send).await?));
                }
                anyhow::Ok(got)
            }));
        }
        let mut all = Vec::with_capacity(n);
        for t in tasks {
            all.extend(t.await??);
        }
        all.sort_unstable_by_key(|(i, _)| *i);
        let hashes = hashes(bodies);
        tokio::task::spawn_blocking(move || {
            all.iter()
                .map(|(i, c)| solve_header(c, &hashes[i % hashes.len()]))
                .collect::<Result<Vec<_>>>()
        })
        .await?
    };
    let headers = tokio::time::timeout(Duration::from_secs(600), work)
        .await
        .context("fetching and solving challenges took over 600 s")??;
    Ok(Arc::new(headers))
}

/// Headers of the same form and length as [`prepare`]'s, made here under a
/// key of our own: for the bare HTTP ceiling, which ignores them, so that its
/// requests are byte for byte the size of Quietline's.
fn offline_headers(bodies: &[Bytes], n: usize) -> Result<Arc<Vec<String>>> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow!("rng: {e}"))?;
    let key = qpow::PowKey::from_bytes(key);
    let hashes = hashes(bodies);
    let expires = quietline::pow::expiry_for(quietline::pow::now_secs());
    (0..n)
        .map(|i| {
            let mut id = [0u8; qpow::ID_LEN];
            getrandom::fill(&mut id).map_err(|e| anyhow!("rng: {e}"))?;
            let c = Issued {
                challenge: qpow::Challenge {
                    difficulty: BENCH_DIFFICULTY,
                    expires,
                    id,
                }
                .issue(&key),
                difficulty: BENCH_DIFFICULTY,
            };
            solve_header(&c, &hashes[i % hashes.len()])
        })
        .collect::<Result<Vec<_>>>()
        .map(Arc::new)
}

/// `total` POSTs from `concurrency` keep-alive connections, as fast as they
/// are answered; stops at `deadline` whatever is left. POST `i` sends
/// `bodies[i % len]` with header `pows[i]`.
async fn closed_loop(
    addr: std::net::SocketAddr,
    bodies: &Arc<Vec<Bytes>>,
    pows: &Arc<Vec<String>>,
    concurrency: usize,
    total: usize,
    deadline: Duration,
) -> Result<Run> {
    if pows.len() < total {
        bail!("{} proof-of-work headers for {total} requests", pows.len());
    }
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (bodies, pows, next) = (bodies.clone(), pows.clone(), next.clone());
        let mut send = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut r = Run::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= total || start.elapsed() > deadline {
                    break;
                }
                let t = Instant::now();
                match post(&mut send, bodies[i % bodies.len()].clone(), Some(&pows[i])).await {
                    Ok(a) if a.created() => {
                        r.ok += 1;
                        r.lat.push(micros(t.elapsed()));
                    }
                    Ok(a) => r.error(a.describe()),
                    Err(e) => {
                        r.error(format!("transport: {e}"));
                        match connect(addr).await {
                            Ok(s) => send = s,
                            Err(_) => break,
                        }
                    }
                }
            }
            r
        }));
    }
    let mut all = Run::default();
    for t in tasks {
        all.merge(t.await?);
    }
    all.secs = start.elapsed().as_secs_f64();
    let unsent = total as u64 - (all.ok + all.errors).min(total as u64);
    if unsent > 0 {
        all.errors += unsent;
        *all.codes
            .entry(format!(
                "not sent before the {} s deadline",
                deadline.as_secs()
            ))
            .or_default() += unsent;
    }
    Ok(all)
}

/// Store `n` reports through HTTP (for pull): in chunks of at most 20,000,
/// each fetched and solved just before it is sent (challenges live 10–15
/// minutes). Fails unless every one was stored.
async fn fill(addr: std::net::SocketAddr, bodies: &Arc<Vec<Bytes>>, n: usize) -> Result<()> {
    const CHUNK: usize = 20_000;
    let mut done = 0;
    while done < n {
        let k = CHUNK.min(n - done);
        let pows = prepare(addr, bodies, k).await?;
        let r = closed_loop(addr, bodies, &pows, 64, k, Duration::from_secs(600)).await?;
        if r.ok as usize != k {
            let cell = r.errors_cell();
            bail!("only {} of {k} reports were stored: {cell}", r.ok);
        }
        done += k;
    }
    Ok(())
}

// ------------------------------------------------------------------ intake

struct PgDb {
    name: String,
}

impl PgDb {
    async fn create(tag: &str) -> Result<PgDb> {
        use sqlx::Connection;
        let name = format!("qlbench_{}_{tag}", std::process::id());
        let mut c = sqlx::PgConnection::connect(PG_ADMIN)
            .await
            .context("PostgreSQL on 127.0.0.1:5432 (user postgres)")?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&mut c)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await?;
        c.close().await?;
        Ok(PgDb { name })
    }
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
    async fn drop_db(self) -> Result<()> {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(PG_ADMIN).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut c)
        .await?;
        c.close().await?;
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A fresh database URL for `backend` (SQLite: a file in `dir`).
async fn fresh(backend: Backend, dir: &Path, tag: &str) -> Result<(String, Option<PgDb>)> {
    Ok(match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join(format!("{tag}.sqlite")).display()),
            None,
        ),
        Backend::Postgres => {
            let db = PgDb::create(tag).await?;
            (db.url(), Some(db))
        }
    })
}

/// The durable-write ceiling: the same schema (created by quietline's
/// migrations), the same settings, the same rows, written directly in
/// 512-row transactions without HTTP or group commit. "The same rows": each
/// report with its spent proof-of-work challenge in the same transaction, as
/// the server writes them.
async fn write_ceiling(
    backend: Backend,
    dir: &Path,
    bodies: &[Bytes],
    total: usize,
    batch: usize,
) -> Result<f64> {
    use sqlx::{Connection, QueryBuilder};
    let (url, pg) = fresh(backend, dir, &format!("ceiling{batch}")).await?;
    let (_pk, key_id) = {
        let s = storage::open(&url).await?;
        s.add_force("demo", "Demo").await?;
        let (_sk, pk) = generate_keypair(&mut rng());
        let key_id = pk.key_id().0;
        s.add_force_key("demo", key_id, pk.to_bytes()).await?;
        s.close().await;
        (pk, key_id)
    };
    let ids = |n: usize| -> Vec<[u8; 16]> {
        (0..n)
            .map(|_| {
                let mut id = [0u8; 16];
                getrandom::fill(&mut id).expect("rng");
                id
            })
            .collect()
    };
    // Spent challenges expire on a five-minute boundary (FORMAT.md#challenge).
    let expires = i64::try_from(quietline::pow::expiry_for(quietline::pow::now_secs()))?;
    let start = Instant::now();
    let mut done = 0;
    match backend {
        Backend::Sqlite => {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            use std::str::FromStr;
            let opts = SqliteConnectOptions::from_str(&url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .pragma("secure_delete", "ON")
                .pragma("wal_autocheckpoint", "8000")
                // The server writer's cache (src/storage/sqlite.rs).
                .pragma("cache_size", "-2000");
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
            while done < total {
                let n = batch.min(total - done);
                let spent = ids(n);
                let ids = ids(n);
                let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
                let mut q =
                    QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO pow_spent (id, expires) ");
                q.push_values(spent.iter(), |mut row, id| {
                    row.push_bind(&id[..]).push_bind(expires);
                });
                q.build().persistent(false).execute(&mut *tx).await?;
                let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO reports (rid, id, force_id, key_id, envelope, day, purge_fuzz) ",
                );
                q.push_values(ids.iter().enumerate(), |mut row, (i, id)| {
                    let rid = i64::from_be_bytes(id[..8].try_into().expect("8")) & i64::MAX;
                    row.push_bind(rid)
                        .push_bind(&id[..])
                        .push_bind("demo")
                        .push_bind(&key_id[..])
                        .push_bind(&bodies[(done + i) % bodies.len()][..])
                        .push_bind(20_000)
                        .push_bind(3);
                });
                q.build().persistent(false).execute(&mut *tx).await?;
                tx.commit().await?;
                done += n;
            }
            c.close().await?;
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            sqlx::query("SET synchronous_commit = on")
                .execute(&mut c)
                .await?;
            while done < total {
                let n = batch.min(total - done);
                let spent = ids(n);
                let ids = ids(n);
                sqlx::query(
                    "WITH spent AS (INSERT INTO pow_spent (id, expires) \
                     SELECT * FROM UNNEST($7::bytea[], $8::int8[])) \
                     INSERT INTO reports (id, force_id, key_id, envelope, day, purge_fuzz) \
                     SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::bytea[], $4::bytea[], $5::int4[], $6::int2[])",
                )
                .bind(ids.iter().map(|i| &i[..]).collect::<Vec<_>>())
                .bind(vec!["demo"; n])
                .bind(vec![&key_id[..]; n])
                .bind((0..n).map(|i| &bodies[(done + i) % bodies.len()][..]).collect::<Vec<_>>())
                .bind(vec![20_000i32; n])
                .bind(vec![3i16; n])
                .bind(spent.iter().map(|i| &i[..]).collect::<Vec<_>>())
                .bind(vec![expires; n])
                .execute(&mut c)
                .await?;
                done += n;
            }
            c.close().await?;
        }
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    if let Some(pg) = pg {
        pg.drop_db().await?;
    }
    Ok(rate)
}

async fn intake(cli: &Cli) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let deadline = Duration::from_secs(120);
    println!("\n## Intake (durable 8 KiB submissions)\n");
    println!(
        "{} submissions per row, keep-alive HTTP/1.1 connections from this process to 127.0.0.1. \
         Quietline requires a proof of work (difficulty {BENCH_DIFFICULTY}: the server's check costs the same \
         at any difficulty); each submission's challenge was fetched from the server and solved over its body \
         before the timed part, one challenge per submission. The HTTP ceiling gets headers of the same size. \
         Errors are every answer other than 201.\n",
        cli.requests
    );
    println!("| what | concurrency | per second | p50 ms | p99 ms | errors | ceiling/s | ratio |");
    println!("|---|---|---|---|---|---|---|---|");

    // HTTP ceiling.
    let probe_pk = generate_keypair(&mut rng()).1;
    let bodies = Arc::new(envelopes("demo", &probe_pk, 64));
    let mut http_ceiling = [0.0f64; 2];
    {
        let bare = Server::bare()?;
        let pows = offline_headers(&bodies, cli.requests)?;
        for (i, c) in [16, 64].into_iter().enumerate() {
            let mut r = closed_loop(bare.addr, &bodies, &pows, c, cli.requests, deadline).await?;
            http_ceiling[i] = r.rate();
            println!(
                "| HTTP ceiling (bare axum, 201, no storage) | {c} | {:.0} | {:.2} | {:.2} | {} | | |",
                r.rate(),
                r.pct(0.5),
                r.pct(0.99),
                r.errors_cell()
            );
        }
    }
    let backends: &[Backend] = if cli.no_postgres {
        &[Backend::Sqlite]
    } else {
        &[Backend::Sqlite, Backend::Postgres]
    };
    for &backend in backends {
        let ceiling = write_ceiling(backend, dir.path(), &bodies, cli.requests, 512).await?;
        println!(
            "| {} durable-write ceiling (512-row transactions, no HTTP) | | {ceiling:.0} | | | | | |",
            backend.name()
        );
        // A closed loop of c clients never has more than c reports queued, so
        // no batch can exceed c rows: the same ceiling with c-row
        // transactions is the most the storage could give at that concurrency.
        let mut at_batch = [0.0f64; 2];
        for (i, c) in [16usize, 64].into_iter().enumerate() {
            at_batch[i] = write_ceiling(backend, dir.path(), &bodies, cli.requests, c).await?;
            println!(
                "| {} durable-write ceiling ({c}-row transactions, no HTTP) | | {:.0} | | | | | |",
                backend.name(),
                at_batch[i]
            );
        }
        for (i, c) in [16, 64].into_iter().enumerate() {
            let data = dir.path().join(format!("{}-{c}", backend.name()));
            std::fs::create_dir_all(&data)?;
            let (url, pg) = fresh(backend, &data, &format!("c{c}")).await?;
            let (server, pk) = Server::quietline(&url, &data)?;
            let bodies = Arc::new(envelopes("demo", &pk, 64));
            // Not timed: one fresh challenge per submission, solved over its body.
            let pows = prepare(server.addr, &bodies, cli.requests).await?;
            let mut r = closed_loop(server.addr, &bodies, &pows, c, cli.requests, deadline).await?;
            drop(server);
            if let Some(pg) = pg {
                pg.drop_db().await?;
            }
            let (p50, p99) = (r.pct(0.5), r.pct(0.99));
            println!(
                "| {} Quietline | {c} | {:.0} | {p50:.2} | {p99:.2} | {} | write {ceiling:.0} / {c}-row write {:.0} / HTTP {:.0} | {:.0}% / {:.0}% / {:.0}% |",
                backend.name(),
                r.rate(),
                r.errors_cell(),
                at_batch[i],
                http_ceiling[i],
                100.0 * r.rate() / ceiling,
                100.0 * r.rate() / at_batch[i],
                100.0 * r.rate() / http_ceiling[i],
            );
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ console

fn console_bench(cli: &Cli) -> Result<()> {
    use quietline_crypto::keyfile::{KdfParams, seal_key_file};
    println!("\n## Console (open and parse in bulk)\n");
    let dir = tempfile::tempdir()?;
    let (sk, pk) = generate_keypair(&mut rng());
    let pass = b"benchmark passphrase";
    let key_file = seal_key_file(
        &mut rng(),
        &sk,
        "demo",
        "2026-01-01",
        pass,
        KdfParams::DEFAULT,
    )?;
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys)?;
    quietline_console::keystore::write_key_file(
        &quietline_console::keyring::key_path(&keys, pk.key_id()),
        &key_file,
    )?;
    let ring = quietline_console::keyring::KeyRing::unlock(&keys, None, pass)?;
    let bodies = envelopes("demo", &pk, cli.opens);
    let raw = |sk: &PrivateKey| -> f64 {
        let t = Instant::now();
        for b in &bodies {
            let p = quietline_crypto::open::open(sk, Kind::Report, b).expect("open");
            std::hint::black_box(p.len());
        }
        bodies.len() as f64 / t.elapsed().as_secs_f64()
    };
    let console = || -> f64 {
        let t = Instant::now();
        for b in &bodies {
            let m = ring.open_message(b).expect("open_message");
            std::hint::black_box(&m);
        }
        bodies.len() as f64 / t.elapsed().as_secs_f64()
    };
    // Interleave three rounds of each; report the best of each (least disturbed).
    let (mut best_raw, mut best_console) = (0.0f64, 0.0f64);
    for _ in 0..3 {
        best_raw = best_raw.max(raw(&sk));
        best_console = best_console.max(console());
    }
    println!(
        "{} envelopes of the 8 KiB bucket (~6 KB report text), one thread, best of 3 interleaved rounds.\n",
        bodies.len()
    );
    println!("| what | per second | ceiling (raw HPKE open + unpad)/s | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| `KeyRing::open_message` (open + payload JSON parse + reply material) | {best_console:.0} | {best_raw:.0} | {:.0}% | ≥ 70% |",
        100.0 * best_console / best_raw
    );
    Ok(())
}

// ------------------------------------------------------------------ pull

/// Build the console binary (release) and return its path.
fn console_binary() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "quietline-console",
            "--bin",
            "quietline-console",
        ])
        .status()?;
    if !status.success() {
        bail!("building quietline-console failed");
    }
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("exe dir")?.join("quietline-console");
    if !path.exists() {
        bail!("{} not found", path.display());
    }
    Ok(path)
}

/// Run a child to completion; returns (wall seconds, peak RSS KiB).
///
/// The peak is the kernel's high-water mark (`VmHWM` in `/proc/PID/status`),
/// read every 20 ms while the child runs; it only grows, so the last reading
/// is the peak up to the final 20 ms. Safe Rust only: no `wait4`.
fn run_measured(cmd: &mut std::process::Command) -> Result<(f64, i64)> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0i64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        bail!("{cmd:?} failed: {err}");
    }
    Ok((secs, peak_kib))
}

async fn pull(cli: &Cli) -> Result<()> {
    println!("\n## Pull (console `pull`, SQLite server)\n");
    let console = console_binary()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data)?;
    let url = format!("sqlite://{}", data.join("q.sqlite").display());
    let (server, pk) = Server::quietline(&url, &data)?;
    let bodies = Arc::new(envelopes("demo", &pk, 256));
    let server_url = format!("http://{}", server.addr);
    let demo = data.join("demo");
    let steps = {
        let first = (cli.pull_n / 10).max(1);
        vec![first, cli.pull_n]
    };
    println!(
        "| reports in the vault after the pull | reports pulled | seconds | pulled/s | peak RSS of `quietline-console pull` |"
    );
    println!("|---|---|---|---|---|");
    let mut stored = 0usize;
    for (i, &n) in steps.iter().enumerate() {
        // A fresh console home each time: pulling n reports from empty.
        let add = n - stored;
        fill(server.addr, &bodies, add).await?;
        stored = n;
        let home = dir.path().join(format!("home{i}"));
        let pass = demo.join("passphrase");
        let base = |args: &[&str]| {
            let mut c = std::process::Command::new(&console);
            c.arg("--home").arg(&home).args(args);
            c
        };
        run_measured(
            base(&["login", "--server", &server_url, "--token-file"]).arg(demo.join("token")),
        )?;
        run_measured(
            base(&["key", "import"])
                .arg(demo.join("force.key"))
                .arg("--passphrase-file")
                .arg(&pass),
        )?;
        let (secs, rss) = run_measured(base(&["pull", "--passphrase-file"]).arg(&pass))?;
        println!(
            "| {n} | {n} | {secs:.1} | {:.0} | {rss} KiB |",
            n as f64 / secs
        );
        let _ = std::fs::remove_dir_all(&home);
    }
    drop(server);
    Ok(())
}

// ------------------------------------------------------------------ proof of work

/// The flood benchmark's server (the hidden `pow-server` subcommand): run as a
/// child process so that its CPU time can be read from `/proc/PID/stat`.
/// `quietline::run` on a 2-worker runtime, SQLite in `dir`, the demo force,
/// proof of work as given; prints its address on stdout and stops when its
/// stdin is closed.
fn pow_server(dir: &Path, pow: PowSettings) -> Result<()> {
    let rt = Server::server_runtime()?;
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.join("q.sqlite").display());
        let storage = storage::open(&url).await?;
        quietline::demo::ensure_demo(storage.as_ref(), dir).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", listener.local_addr()?)?;
            out.flush()?;
        }
        let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = closed.send(());
        });
        let settings = quietline::ServerSettings {
            pow,
            ..quietline::ServerSettings::default()
        };
        quietline::run(listener, storage, settings, async move {
            let _ = stdin_closed.await;
        })
        .await
    })
}

/// [`pow_server`] as a child process of this one.
struct ChildServer {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    addr: std::net::SocketAddr,
    clk_tck: f64,
}

impl ChildServer {
    fn start(dir: &Path, difficulty: u8) -> Result<ChildServer> {
        Self::start_with(dir, PowSettings::fixed(difficulty))
    }

    fn start_with(dir: &Path, pow: PowSettings) -> Result<ChildServer> {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg("pow-server")
            .arg("--dir")
            .arg(dir)
            .arg("--difficulty")
            .arg(pow.floor.to_string())
            .arg("--max")
            .arg(pow.max.to_string())
            .arg("--expected-rate")
            .arg(pow.expected_rate.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("the child's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let mut server = ChildServer {
            child,
            stdin,
            addr: "127.0.0.1:0".parse()?,
            clk_tck: clk_tck(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .context("the server child printed no address within 120 s")??;
        server.addr = line
            .trim()
            .parse()
            .with_context(|| format!("the server child printed {line:?}"))?;
        if !server.addr.ip().is_loopback() {
            bail!("the server child listens on {}", server.addr);
        }
        Ok(server)
    }

    /// The child's CPU time so far (user + system, all threads), seconds.
    fn cpu_secs(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name in parentheses start at field 3
        // (state); utime and stime are fields 14 and 15 (proc(5)).
        let rest = &stat[stat.rfind(')').context("/proc/PID/stat")? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f.get(11).context("utime")?.parse::<u64>()?
            + f.get(12).context("stime")?.parse::<u64>()?;
        Ok(ticks as f64 / self.clk_tck)
    }

    /// Close its stdin (it drains and stops), wait at most 60 s, else kill it.
    fn stop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("the server child did not stop within 60 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Clock ticks per second of `/proc/PID/stat` (100 on Linux unless told).
fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Median, over up to 21 rounds, of µs per call of `f`; each round makes
/// enough calls to last at least 5 ms (at most 1,000,000), all rounds at most
/// 10 s.
fn micros_per_call(mut f: impl FnMut()) -> f64 {
    const ROUNDS: usize = 21;
    const MAX_ITERS: u64 = 1_000_000;
    let mut iters = 1u64;
    while iters < MAX_ITERS {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        if t.elapsed() >= Duration::from_millis(5) {
            break;
        }
        iters = (iters * 2).min(MAX_ITERS);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut per = Vec::with_capacity(ROUNDS);
    while per.len() < ROUNDS && (per.is_empty() || Instant::now() < deadline) {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        per.push(t.elapsed().as_secs_f64() * 1e6 / iters as f64);
    }
    per.sort_by(f64::total_cmp);
    per[per.len() / 2]
}

/// µs per check, in-process, one thread.
struct VerifyCosts {
    envelope_len: usize,
    sha256: f64,
    accepted: f64,
    missing: f64,
    malformed: f64,
    forged: f64,
    expired: f64,
    outdated: f64,
    insufficient: f64,
}

/// A nonce that does NOT solve `challenge` over `hash` at `difficulty`.
fn wrong_nonce(
    challenge: &[u8; qpow::CHALLENGE_LEN],
    hash: &[u8; 32],
    difficulty: u8,
) -> Result<[u8; 8]> {
    (0u64..1_000)
        .map(u64::to_be_bytes)
        .find(|n| {
            qpow::leading_zero_bits(&qpow::digest(challenge, hash, n)) < u32::from(difficulty)
        })
        .context("no failing nonce among 1,000")
}

/// Part (a): `quietline_crypto::pow::verify_with` per outcome, with the
/// server's limits (grid, lifetime, least difficulty: the floor), against
/// SHA-256 of the same envelope.
fn verify_costs(difficulty: u8) -> Result<VerifyCosts> {
    use std::hint::black_box;
    let (_sk, pk) = generate_keypair(&mut rng());
    let body = envelopes("demo", &pk, 1).remove(0);
    let hash = qpow::envelope_hash(&body);
    let mut k = [0u8; 32];
    getrandom::fill(&mut k).map_err(|e| anyhow!("rng: {e}"))?;
    let key = qpow::PowKey::from_bytes(k);
    let now = quietline::pow::now_secs();
    let issue_at = |difficulty: u8, expires: u64| {
        let mut id = [0u8; qpow::ID_LEN];
        getrandom::fill(&mut id).map_err(|e| anyhow!("rng: {e}"))?;
        anyhow::Ok(
            qpow::Challenge {
                difficulty,
                expires,
                id,
            }
            .issue(&key),
        )
    };
    let issue = |expires: u64| issue_at(difficulty, expires);
    let live = issue(quietline::pow::expiry_for(now))?;
    let header = |challenge: [u8; qpow::CHALLENGE_LEN], nonce: [u8; 8]| {
        qpow::Solution { challenge, nonce }.to_header()
    };
    let solved = solve_header(
        &Issued {
            challenge: live,
            difficulty,
        },
        &hash,
    )?;
    let wrong = header(live, wrong_nonce(&live, &hash, difficulty)?);
    let mut forged_c = live;
    forged_c[qpow::CHALLENGE_LEN - 1] ^= 1;
    let forged = header(forged_c, [0; 8]);
    let expired = header(issue((now / 300 - 1) * 300)?, [0; 8]);
    let outdated = header(
        issue_at(difficulty - 1, quietline::pow::expiry_for(now))?,
        [0; 8],
    );
    let limits = qpow::Limits {
        min_difficulty: difficulty,
        granule: quietline::pow::EXPIRY_GRANULE_SECS,
        max_ahead: quietline::pow::MAX_AHEAD_SECS,
    };
    // The most work a malformed header can cost: a good challenge, a bad nonce.
    let malformed = format!("{}.!!!!!!!!!!!", URL_SAFE_NO_PAD.encode(live));
    // What a browser sends with the POST, for the missing header's lookup.
    let mut headers = hyper::HeaderMap::new();
    for (name, value) in [
        ("host", "example.onion"),
        (
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
        ),
        ("accept", "application/json"),
        ("accept-language", "en-US,en;q=0.5"),
        ("accept-encoding", "gzip, deflate, br"),
        ("content-type", "application/octet-stream"),
        ("content-length", "8263"),
        ("origin", "http://example.onion"),
        ("connection", "keep-alive"),
        ("sec-fetch-mode", "cors"),
    ] {
        headers.insert(name, hyper::header::HeaderValue::from_static(value));
    }
    // Each input gives the answer it is meant to before it is timed.
    let check = |h: &str| qpow::verify_with(&key, h, &body, now, &limits).map_err(|e| e.code());
    if check(&solved).is_err()
        || check(&wrong) != Err("pow_insufficient")
        || check(&forged) != Err("pow_forged")
        || check(&expired) != Err("pow_expired")
        || check(&outdated) != Err("pow_outdated")
        || check(&malformed) != Err("pow_malformed")
        || headers.get(qpow::HEADER).is_some()
    {
        bail!("a verification benchmark input does not give its expected answer");
    }
    let verify = |h: &str| {
        let _ = black_box(qpow::verify_with(
            &key,
            black_box(h),
            black_box(&body),
            now,
            &limits,
        ));
    };
    Ok(VerifyCosts {
        envelope_len: body.len(),
        sha256: micros_per_call(|| {
            black_box(qpow::envelope_hash(black_box(&body)));
        }),
        accepted: micros_per_call(|| verify(&solved)),
        missing: micros_per_call(|| {
            black_box(black_box(&headers).get(qpow::HEADER));
        }),
        malformed: micros_per_call(|| verify(&malformed)),
        forged: micros_per_call(|| verify(&forged)),
        expired: micros_per_call(|| verify(&expired)),
        outdated: micros_per_call(|| verify(&outdated)),
        insufficient: micros_per_call(|| verify(&wrong)),
    })
}

/// What genuine senders saw in one phase.
#[derive(Default)]
struct Genuine {
    sent: u64,
    ok: u64,
    codes: BTreeMap<String, u64>,
    /// µs: the POST alone; GET + solve + POST; the solve alone.
    post: Vec<u32>,
    e2e: Vec<u32>,
    solve: Vec<u32>,
    secs: f64,
}

impl Genuine {
    fn merge(&mut self, o: Genuine) {
        self.sent += o.sent;
        self.ok += o.ok;
        for (k, v) in o.codes {
            *self.codes.entry(k).or_default() += v;
        }
        self.post.extend(o.post);
        self.e2e.extend(o.e2e);
        self.solve.extend(o.solve);
    }
    fn fail(&mut self, code: String) {
        *self.codes.entry(code).or_default() += 1;
    }
    fn success(&self) -> f64 {
        self.ok as f64 / self.sent.max(1) as f64
    }
}

/// Time limit of one request of the flood benchmark.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// One genuine submission as the page makes it: GET a challenge, solve it
/// over the envelope (on a blocking thread), POST. `Ok(None)`: stored; the
/// header is returned either way, for replays.
async fn genuine_once(
    send: &mut Conn,
    body: &Bytes,
    hash: [u8; 32],
    g: &mut Genuine,
) -> Result<Option<String>> {
    let t0 = Instant::now();
    let c = tokio::time::timeout(REQUEST_LIMIT, get_challenge(send)).await??;
    let t1 = Instant::now();
    let pow = tokio::task::spawn_blocking(move || solve_header(&c, &hash)).await??;
    let t2 = Instant::now();
    let a = tokio::time::timeout(REQUEST_LIMIT, post(send, body.clone(), Some(&pow))).await??;
    let t3 = Instant::now();
    if a.created() {
        g.ok += 1;
        g.post.push(micros(t3 - t2));
        g.e2e.push(micros(t3 - t0));
        g.solve.push(micros(t2 - t1));
        Ok(Some(pow))
    } else {
        g.fail(a.describe());
        Ok(None)
    }
}

/// `senders` genuine senders, each on its own keep-alive connection, in a
/// loop for `secs` (at most 100,000 submissions each).
async fn genuine_phase(
    addr: std::net::SocketAddr,
    bodies: &Arc<Vec<Bytes>>,
    senders: usize,
    secs: u64,
) -> Result<Genuine> {
    let body_hashes = Arc::new(hashes(bodies));
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for s in 0..senders {
        let (bodies, body_hashes) = (bodies.clone(), body_hashes.clone());
        let mut send = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut g = Genuine::default();
            for i in 0..100_000usize {
                if Instant::now() >= end {
                    break;
                }
                let b = (s * 7919 + i) % bodies.len();
                g.sent += 1;
                if let Err(e) = genuine_once(&mut send, &bodies[b], body_hashes[b], &mut g).await {
                    g.fail(format!("transport: {e}"));
                    if let Ok(c) = connect(addr).await {
                        send = c;
                    }
                }
            }
            g
        }));
    }
    let mut all = Genuine::default();
    for t in tasks {
        all.merge(t.await?);
    }
    all.secs = start.elapsed().as_secs_f64();
    Ok(all)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FloodKind {
    Missing,
    Malformed,
    Forged,
    Insufficient,
    Replay,
}

const FLOOD_KINDS: [FloodKind; 5] = [
    FloodKind::Missing,
    FloodKind::Malformed,
    FloodKind::Forged,
    FloodKind::Insufficient,
    FloodKind::Replay,
];

impl FloodKind {
    fn describe(self) -> &'static str {
        match self {
            FloodKind::Missing => "no header",
            FloodKind::Malformed => "malformed header (issued challenge, nonce not base64url)",
            FloodKind::Forged => "forged challenge (issued one, last tag bit flipped)",
            FloodKind::Insufficient => "issued challenge, wrong nonce",
            FloodKind::Replay => "replay of a spent genuine solution, same body",
        }
    }
    /// The answer FORMAT.md#proof-of-work-errors requires.
    fn expected(self) -> (u16, &'static str) {
        match self {
            FloodKind::Missing => (400, "pow_missing"),
            FloodKind::Malformed => (400, "pow_malformed"),
            FloodKind::Forged => (400, "pow_forged"),
            FloodKind::Insufficient => (400, "pow_insufficient"),
            FloodKind::Replay => (429, "pow_spent"),
        }
    }
}

/// The flood's requests by kind (header, body) and its counters.
struct Flood {
    requests: [Vec<(Option<String>, Bytes)>; 5],
    /// Answered as expected, by kind.
    expected: [AtomicU64; 5],
    /// Anything else, by kind, and what it was.
    other: [AtomicU64; 5],
    other_codes: Mutex<BTreeMap<String, u64>>,
    stop: AtomicBool,
}

impl Flood {
    fn snapshot(&self) -> [u64; 5] {
        std::array::from_fn(|k| {
            self.expected[k].load(Ordering::Relaxed) + self.other[k].load(Ordering::Relaxed)
        })
    }
}

/// One flood connection: refused submissions as fast as they are answered,
/// the kinds in turn, until told to stop (at most 10,000,000 requests and
/// `limit`).
async fn flood_connection(
    addr: std::net::SocketAddr,
    flood: Arc<Flood>,
    first: usize,
    limit: Duration,
) {
    let end = Instant::now() + limit;
    let mut send = None;
    for i in 0..10_000_000usize {
        if flood.stop.load(Ordering::Relaxed) || Instant::now() >= end {
            break;
        }
        let conn = match send.as_mut() {
            Some(c) => c,
            None => match connect(addr).await {
                Ok(c) => send.insert(c),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let k = (first + i) % FLOOD_KINDS.len();
        let reqs = &flood.requests[k];
        let (pow, body) = &reqs[(i / FLOOD_KINDS.len()) % reqs.len()];
        let (status, code) = FLOOD_KINDS[k].expected();
        let answer =
            tokio::time::timeout(REQUEST_LIMIT, post(conn, body.clone(), pow.as_deref())).await;
        let other = match answer {
            Ok(Ok(a)) if a.status == status && a.code == code => None,
            Ok(Ok(a)) => Some(a.describe()),
            Ok(Err(e)) => Some(format!("transport: {e}")),
            Err(_) => Some("no answer within 30 s".into()),
        };
        match other {
            None => {
                flood.expected[k].fetch_add(1, Ordering::Relaxed);
            }
            Some(what) => {
                if what.starts_with("transport") || what.starts_with("no answer") {
                    send = None;
                }
                flood.other[k].fetch_add(1, Ordering::Relaxed);
                *flood
                    .other_codes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(format!("{}: {what}", FLOOD_KINDS[k].describe()))
                    .or_default() += 1;
            }
        }
    }
}

/// Fetch `n` challenges (not spent: the flood never solves them).
async fn fetch_challenges(addr: std::net::SocketAddr, n: usize) -> Result<Vec<Issued>> {
    let mut send = connect(addr).await?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(tokio::time::timeout(REQUEST_LIMIT, get_challenge(&mut send)).await??);
    }
    Ok(out)
}

fn pow_bench(cli: &Cli, client_rt: &Runtime) -> Result<()> {
    let d = cli.pow_difficulty;
    let secs = cli.pow_secs.clamp(1, 600);
    let (senders, conns) = (cli.genuine.clamp(1, 256), cli.flood.clamp(1, 1024));
    println!("\n## Proof-of-work\n");
    println!("`pow --pow-secs {secs} --pow-difficulty {d} --genuine {senders} --flood {conns}`.\n");

    // (a) Verification cost.
    let v = verify_costs(d)?;
    println!("### Verification cost (in-process, one thread)\n");
    println!(
        "`quietline_crypto::pow::verify_with` (the server's limits) on a {}-byte sealed report envelope (8 KiB bucket), difficulty {d}; \
         median of 21 rounds of µs per call, each round ≥ 5 ms. Reference: SHA-256 of the same envelope, same run.\n",
        v.envelope_len
    );
    println!("| submission | answer | what the server computes | µs | × SHA-256 of the envelope |");
    println!("|---|---|---|---|---|");
    let rows = [
        ("reference: SHA-256 of the envelope", "", "", v.sha256),
        (
            "accepted",
            "(stored)",
            "parse, HMAC, SHA-256 of the envelope, digest",
            v.accepted,
        ),
        (
            "missing",
            "400 `pow_missing`",
            "a header lookup (10 browser headers), no call",
            v.missing,
        ),
        (
            "malformed",
            "400 `pow_malformed`",
            "base64 decoding up to the bad nonce",
            v.malformed,
        ),
        ("forged", "400 `pow_forged`", "parse, HMAC", v.forged),
        (
            "expired",
            "429 `pow_expired`",
            "parse, HMAC, clock compare",
            v.expired,
        ),
        (
            "outdated",
            "429 `pow_outdated`",
            "parse, HMAC, clock and difficulty compare",
            v.outdated,
        ),
        (
            "insufficient",
            "400 `pow_insufficient`",
            "parse, HMAC, SHA-256 of the envelope, digest",
            v.insufficient,
        ),
    ];
    for (what, answer, work, us) in rows {
        println!(
            "| {what} | {answer} | {work} | {us:.3} | {:.2} |",
            us / v.sha256
        );
    }
    println!(
        "\nA replay (429 `pow_spent`) costs an accepted check plus one lookup in the server's in-memory set of spent ids."
    );

    // (b) Flood.
    let dir = tempfile::tempdir()?;
    let mut server = ChildServer::start(dir.path(), d)?;
    let addr = server.addr;
    let public = std::fs::read_to_string(dir.path().join("demo/public-key"))?;
    let pk = PublicKey::from_base64url(public.trim())?;
    let bodies = Arc::new(envelopes("demo", &pk, 64));

    // Warm-up (the server loads its key, SQLite its pages), keeping spent
    // solutions for the replays; then the flood's requests.
    let flood = client_rt.block_on(async {
        let mut send = connect(addr).await?;
        let mut g = Genuine::default();
        let hs = hashes(&bodies);
        let mut spent = Vec::new();
        for i in 0..32 {
            let b = i % bodies.len();
            if let Some(pow) = genuine_once(&mut send, &bodies[b], hs[b], &mut g).await? {
                spent.push((Some(pow), bodies[b].clone()));
            }
        }
        if spent.len() != 32 {
            bail!(
                "warm-up: only {} of 32 genuine submissions were stored: {:?}",
                spent.len(),
                g.codes
            );
        }
        let issued = fetch_challenges(addr, 16).await?;
        let body = |i: usize| bodies[i % bodies.len()].clone();
        let mut requests: [Vec<(Option<String>, Bytes)>; 5] = Default::default();
        requests[0] = (0..16).map(|i| (None, body(i))).collect();
        requests[1] = issued
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    Some(format!(
                        "{}.!!!!!!!!!!!",
                        URL_SAFE_NO_PAD.encode(c.challenge)
                    )),
                    body(i),
                )
            })
            .collect();
        requests[2] = issued
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut challenge = c.challenge;
                challenge[qpow::CHALLENGE_LEN - 1] ^= 1;
                (
                    Some(
                        qpow::Solution {
                            challenge,
                            nonce: [0; 8],
                        }
                        .to_header(),
                    ),
                    body(i),
                )
            })
            .collect();
        requests[3] = issued
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let b = body(i);
                let nonce = wrong_nonce(&c.challenge, &qpow::envelope_hash(&b), c.difficulty)?;
                anyhow::Ok((
                    Some(
                        qpow::Solution {
                            challenge: c.challenge,
                            nonce,
                        }
                        .to_header(),
                    ),
                    b,
                ))
            })
            .collect::<Result<_>>()?;
        requests[4] = spent;
        anyhow::Ok(Arc::new(Flood {
            requests,
            expected: Default::default(),
            other: Default::default(),
            other_codes: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
        }))
    })?;

    // Phase A: genuine senders alone.
    let cpu_a0 = server.cpu_secs()?;
    let mut a = client_rt.block_on(genuine_phase(addr, &bodies, senders, secs))?;
    let cpu_a = server.cpu_secs()? - cpu_a0;

    // Phase B: the same genuine load under the flood (its own 2-thread
    // runtime; 2 s to ramp up before the measured window).
    let flood_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("flood")
        .enable_all()
        .build()?;
    let limit = Duration::from_secs(secs + 60);
    let flood_tasks: Vec<_> = (0..conns)
        .map(|c| flood_rt.spawn(flood_connection(addr, flood.clone(), c, limit)))
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let (n_b0, cpu_b0, t_b0) = (flood.snapshot(), server.cpu_secs()?, Instant::now());
    let mut b = client_rt.block_on(genuine_phase(addr, &bodies, senders, secs))?;
    let (n_b1, cpu_b1, wall_b) = (
        flood.snapshot(),
        server.cpu_secs()?,
        t_b0.elapsed().as_secs_f64(),
    );
    flood.stop.store(true, Ordering::Relaxed);
    flood_rt.block_on(async {
        for t in flood_tasks {
            let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
        }
    });
    flood_rt.shutdown_timeout(Duration::from_secs(5));
    server.stop();
    let cpu_b = cpu_b1 - cpu_b0;
    let window: [u64; 5] = std::array::from_fn(|k| n_b1[k] - n_b0[k]);
    let rejected: u64 = window.iter().sum();

    println!("\n### Genuine senders under a flood (server in a child process)\n");
    println!(
        "`quietline::run` in a child process (this binary, hidden `pow-server` subcommand): 2 worker threads, \
         SQLite, the demo force, `PowSettings::fixed({d})`; its CPU time (user + system, all threads) read from \
         `/proc/PID/stat`. {senders} genuine senders, each on its own keep-alive connection: GET a challenge, \
         solve it (native Rust, a blocking thread), POST, in a loop for {secs} s. Phase A: alone. Phase B: the \
         same, while {conns} keep-alive connections send refused 8 KiB submissions as fast as they are answered \
         (2 s of flood before the window). Clients and server share the machine's {} cores.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| phase | genuine sent | stored | success | stored/s | POST p50 ms | POST p99 ms | GET+solve+POST p50 ms | p99 ms | solve p50 ms | flood requests/s | server CPU (cores) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let row = |name: &str, g: &mut Genuine, flood_rate: f64, cpu: f64, wall: f64| {
        let r = [
            pct(&mut g.post, 0.5),
            pct(&mut g.post, 0.99),
            pct(&mut g.e2e, 0.5),
            pct(&mut g.e2e, 0.99),
            pct(&mut g.solve, 0.5),
        ];
        println!(
            "| {name} | {} | {} | {:.2}% | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {flood_rate:.0} | {:.2} |",
            g.sent,
            g.ok,
            100.0 * g.success(),
            g.ok as f64 / g.secs,
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            cpu / wall
        );
        r
    };
    let wall_a = a.secs;
    let ra = row("A: no flood", &mut a, 0.0, cpu_a, wall_a);
    let rb = row("B: flood", &mut b, rejected as f64 / wall_b, cpu_b, wall_b);
    println!(
        "| B / A | | | {:.3} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | | {:.2} |",
        b.success() / a.success(),
        (b.ok as f64 / b.secs) / (a.ok as f64 / a.secs),
        rb[0] / ra[0],
        rb[1] / ra[1],
        rb[2] / ra[2],
        rb[3] / ra[3],
        rb[4] / ra[4],
        (cpu_b / wall_b) / (cpu_a / a.secs),
    );
    for (name, g) in [("A", &a), ("B", &b)] {
        if !g.codes.is_empty() {
            println!(
                "\nGenuine submissions not stored in phase {name}: {:?}.",
                g.codes
            );
        }
    }

    println!(
        "\n| flood request | expected answer | requests (whole flood) | per second (window) | answered as expected | anything else |"
    );
    println!("|---|---|---|---|---|---|");
    let mut unexpected = 0;
    for (k, kind) in FLOOD_KINDS.iter().enumerate() {
        let (status, code) = kind.expected();
        let (ok, other) = (
            flood.expected[k].load(Ordering::Relaxed),
            flood.other[k].load(Ordering::Relaxed),
        );
        unexpected += other;
        println!(
            "| {} | {status} `{code}` | {} | {:.0} | {ok} | {} |",
            kind.describe(),
            ok + other,
            window[k] as f64 / wall_b,
            if other == 0 {
                "0".to_owned()
            } else {
                format!("**{other}**")
            }
        );
    }
    if unexpected > 0 {
        FAILED.fetch_add(unexpected, Ordering::Relaxed);
        let codes = flood.other_codes.lock().unwrap_or_else(|p| p.into_inner());
        println!("\n**{unexpected} flood requests were NOT answered as expected:** {codes:?}");
        eprintln!("ERRORS: {unexpected} flood requests were not answered as expected: {codes:?}");
    }

    // CPU per request.
    let per_genuine_a = cpu_a / a.ok.max(1) as f64;
    let flood_cpu = cpu_b - per_genuine_a * b.ok as f64;
    let per_rejected = flood_cpu / rejected.max(1) as f64;
    let requests_b = rejected + 2 * b.sent;
    let plain = cpu_b / requests_b.max(1) as f64;
    // The checks the flood makes the server run, weighted as sent.
    let kinds_us = [v.missing, v.malformed, v.forged, v.insufficient, v.accepted];
    let verify_mix = window
        .iter()
        .zip(kinds_us)
        .map(|(&n, us)| n as f64 * us)
        .sum::<f64>()
        / rejected.max(1) as f64;
    println!("\n| server CPU | µs | reference (same run) | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| per genuine submission, phase A (its GET, its POST and the durable write) | {:.0} | | |",
        per_genuine_a * 1e6
    );
    println!(
        "| per refused request, phase B: (CPU_B − phase A's per-genuine CPU × {} genuine) / {rejected} refused | {:.1} | per genuine submission {:.0} µs | {:.3} |",
        b.ok,
        per_rejected * 1e6,
        per_genuine_a * 1e6,
        per_rejected / per_genuine_a
    );
    println!(
        "| same, against the in-process checks of this mix | {:.1} | `pow::verify` etc. {verify_mix:.2} µs | {:.1}× |",
        per_rejected * 1e6,
        per_rejected * 1e6 / verify_mix
    );
    println!(
        "| plain CPU_B / every request in B ({rejected} refused + {} GET + {} POST) | {:.1} | | |",
        b.sent,
        b.sent,
        plain * 1e6
    );
    println!(
        "| refused requests one server core answers per second (10^6 / µs per refused) | {:.0}/s | flood sent {:.0}/s | {:.2} |",
        1.0 / per_rejected,
        rejected as f64 / wall_b,
        (rejected as f64 / wall_b) * per_rejected
    );
    Ok(())
}

// ------------------------------------------------------------------ soak

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn soak(cli: &Cli) -> Result<()> {
    const WORKERS: u64 = 32;
    println!(
        "\n## Soak ({} s at {}/s, SQLite)\n",
        cli.soak_secs, cli.soak_rate
    );
    println!(
        "Each submission fetches its own challenge inline on its keep-alive connection, solves it \
         (difficulty {BENCH_DIFFICULTY}) and POSTs, as the page does (GET then POST); latency is the pair.\n"
    );
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("q.sqlite").display());
    let (server, pk) = Server::quietline(&url, dir.path())?;
    let bodies = Arc::new(envelopes("demo", &pk, 64));
    let body_hashes = Arc::new(hashes(&bodies));
    let period = Duration::from_secs_f64(WORKERS as f64 / cli.soak_rate as f64);
    let end = Instant::now() + Duration::from_secs(cli.soak_secs);
    let per_worker = cli.soak_secs * cli.soak_rate / WORKERS + 1;
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let codes = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (bodies, body_hashes) = (bodies.clone(), body_hashes.clone());
        let (ok, errors, codes) = (ok.clone(), errors.clone(), codes.clone());
        let addr = server.addr;
        let mut send = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + period.mul_f64(w as f64 / WORKERS as f64),
                period,
            );
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut lat_max = 0u128;
            for i in 0..per_worker {
                tick.tick().await;
                if Instant::now() >= end {
                    break;
                }
                let t = Instant::now();
                let b = i as usize % bodies.len();
                let answer = async {
                    let c = get_challenge(&mut send).await?;
                    let pow = solve_header(&c, &body_hashes[b])?;
                    post(&mut send, bodies[b].clone(), Some(&pow)).await
                }
                .await;
                let code = match answer {
                    Ok(a) if a.created() => None,
                    Ok(a) => Some(a.describe()),
                    Err(e) => {
                        if let Ok(s) = connect(addr).await {
                            send = s;
                        }
                        Some(format!("transport: {e}"))
                    }
                };
                match code {
                    None => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(code) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        *codes
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .entry(code)
                            .or_default() += 1;
                    }
                }
                lat_max = lat_max.max(t.elapsed().as_micros());
            }
            lat_max
        }));
    }
    println!("| t (s) | submitted | errors | RSS of the process (server + client) KiB |");
    println!("|---|---|---|---|");
    let start = Instant::now();
    let mut samples = Vec::new();
    let rounds = cli.soak_secs.div_ceil(10);
    for k in 0..=rounds {
        let at = start + Duration::from_secs(10 * k);
        tokio::time::sleep_until(at.min(end).into()).await;
        let rss = rss_kib();
        samples.push((start.elapsed().as_secs(), rss));
        println!(
            "| {} | {} | {} | {rss} |",
            start.elapsed().as_secs(),
            ok.load(Ordering::Relaxed),
            errors.load(Ordering::Relaxed)
        );
        if Instant::now() >= end {
            break;
        }
    }
    let mut lat_max = 0;
    for t in tasks {
        lat_max = lat_max.max(t.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    let after_warmup = if samples.len() > 2 {
        &samples[1..]
    } else {
        &samples[..]
    };
    let range = |from: &[(u64, u64)]| {
        (
            from.iter().map(|s| s.1).min().unwrap_or(0),
            from.iter().map(|s| s.1).max().unwrap_or(0),
        )
    };
    let (lo, hi) = range(after_warmup);
    // The server remembers spent challenges until they expire (TTL, rounded
    // up to the next 5-minute boundary) and forgets a whole 5-minute set at a
    // time, once a minute: past this point that memory stops growing.
    let spent_plateau = quietline::pow::CHALLENGE_TTL_SECS
        + quietline::pow::EXPIRY_GRANULE_SECS
        + quietline::pow::FORGET_INTERVAL.as_secs();
    let plateau: Vec<(u64, u64)> = samples
        .iter()
        .copied()
        .filter(|s| s.0 >= spent_plateau)
        .collect();
    let run = Run {
        errors: errors.load(Ordering::Relaxed),
        codes: std::mem::take(&mut *codes.lock().unwrap_or_else(|p| p.into_inner())),
        ..Run::default()
    };
    println!(
        "\n{n} submitted in {secs:.0} s = {:.0}/s (target {}/s), {} errors, slowest (GET + solve + POST) {:.1} ms; RSS after the first sample between {lo} and {hi} KiB ({:+.1}%).",
        n as f64 / secs,
        cli.soak_rate,
        run.errors_cell(),
        lat_max as f64 / 1000.0,
        100.0 * (hi as f64 - lo as f64) / lo.max(1) as f64
    );
    if plateau.len() >= 6 {
        let (plo, phi) = range(&plateau);
        println!(
            "From {spent_plateau} s on (once the oldest remembered spent challenges are forgotten as fast as new ones come), RSS between {plo} and {phi} KiB ({:+.1}%).",
            100.0 * (phi as f64 - plo as f64) / plo.max(1) as f64
        );
    }
    drop(server);
    Ok(())
}

// ------------------------------------------------------------------ pow-rate

/// One send as the page makes it: GET a challenge, solve it, POST; on a 429
/// for the proof of work (expired, spent, outdated), once more with a new
/// challenge. The time from the first GET to the last answer, the
/// difficulties solved, and `None` if stored or the refusal.
async fn page_send(
    send: &mut Conn,
    body: &Bytes,
    hash: [u8; 32],
) -> Result<(Duration, Vec<u8>, Option<String>)> {
    let t0 = Instant::now();
    let mut solved = Vec::new();
    loop {
        let c = tokio::time::timeout(REQUEST_LIMIT, get_challenge(send)).await??;
        solved.push(c.difficulty);
        let pow = tokio::task::spawn_blocking(move || solve_header(&c, &hash)).await??;
        let a = tokio::time::timeout(REQUEST_LIMIT, post(send, body.clone(), Some(&pow))).await??;
        if a.created() {
            return Ok((t0.elapsed(), solved, None));
        }
        let retry = a.status == 429
            && matches!(
                a.code.as_str(),
                "pow_expired" | "pow_spent" | "pow_outdated"
            );
        if !retry || solved.len() == 2 {
            return Ok((t0.elapsed(), solved, Some(a.describe())));
        }
    }
}

/// A genuine send in the pow-rate benchmark.
struct Sent {
    /// Seconds from the start of the run.
    at: f64,
    took: Duration,
    solved: Vec<u8>,
    refused: Option<String>,
}

/// What the flood got through.
#[derive(Default)]
struct FloodTally {
    stored: u64,
    /// Sum over stored flood reports of 2^(difficulty − floor): the work
    /// they cost, in floor-solutions.
    work: f64,
    refused: BTreeMap<String, u64>,
}

/// Genuine senders (GET, solve, POST, as the page) before, during and after
/// a flood of solved reports at `rate_x` times the server's expected peak,
/// the server's difficulty answering the rate (issue 15, item 5).
async fn pow_rate_bench(cli: &Cli) -> Result<()> {
    let floor = cli.rate_floor.clamp(1, 20);
    let max = floor + 9;
    let expected = cli.rate_expected.clamp(10, 100_000);
    let x = cli.rate_x.clamp(1, 100);
    let flood_secs = cli.rate_secs.clamp(10, 600);
    let (before, after) = (20.0, 40.0);
    let flood_from = before;
    let flood_to = before + flood_secs as f64;
    let total = Duration::from_secs_f64(flood_to + after);
    println!("\n### Genuine senders during a flood of solved reports\n");
    println!(
        "`pow-rate --rate-floor {floor} --rate-expected {expected} --rate-x {x} --rate-secs {flood_secs}`.\n"
    );
    let dir = tempfile::tempdir()?;
    let mut server = ChildServer::start_with(
        dir.path(),
        PowSettings {
            floor,
            max,
            expected_rate: expected,
        },
    )?;
    let addr = server.addr;
    let public = std::fs::read_to_string(dir.path().join("demo/public-key"))?;
    let pk = PublicKey::from_base64url(public.trim())?;
    let bodies = Arc::new(envelopes("demo", &pk, 64));
    let body_hashes = Arc::new(hashes(&bodies));
    let start = Instant::now();
    let end = start + total;

    // The difficulty asked for, every second.
    let sampler = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut send = connect(addr).await?;
        for i in 0..10_000u64 {
            let at = start + Duration::from_secs(i);
            if at >= end {
                break;
            }
            tokio::time::sleep_until(at.into()).await;
            let c = tokio::time::timeout(REQUEST_LIMIT, get_challenge(&mut send)).await??;
            seen.push(c.difficulty);
        }
        anyhow::Ok(seen)
    });

    // Two genuine senders, one send every 3 s each (at most).
    let mut genuine = Vec::new();
    for g in 0..2usize {
        let (bodies, body_hashes) = (bodies.clone(), body_hashes.clone());
        genuine.push(tokio::spawn(async move {
            let mut send = connect(addr).await?;
            let mut out = Vec::new();
            let mut next = start + Duration::from_millis(1500 * g as u64);
            for i in 0..10_000usize {
                if next >= end {
                    break;
                }
                tokio::time::sleep_until(next.into()).await;
                next += Duration::from_secs(3);
                let b = (g * 7919 + i) % bodies.len();
                let at = start.elapsed().as_secs_f64();
                match page_send(&mut send, &bodies[b], body_hashes[b]).await {
                    Ok((took, solved, refused)) => out.push(Sent {
                        at,
                        took,
                        solved,
                        refused,
                    }),
                    Err(e) => {
                        out.push(Sent {
                            at,
                            took: Duration::ZERO,
                            solved: Vec::new(),
                            refused: Some(format!("transport: {e}")),
                        });
                        send = connect(addr).await?;
                    }
                }
            }
            anyhow::Ok(out)
        }));
    }

    // The flood: 8 workers pacing themselves to x times the expected peak
    // between flood_from and flood_to, each report solved at the difficulty
    // its challenge carries.
    let workers = 8u32;
    let per_worker = Duration::from_secs_f64(60.0 * f64::from(workers) / f64::from(x * expected));
    let mut flood = Vec::new();
    for w in 0..workers {
        let (bodies, body_hashes) = (bodies.clone(), body_hashes.clone());
        flood.push(tokio::spawn(async move {
            let mut tally = FloodTally::default();
            let stop = start + Duration::from_secs_f64(flood_to);
            let mut next = start
                + Duration::from_secs_f64(flood_from)
                + per_worker.mul_f64(f64::from(w) / f64::from(workers));
            // Connected when the flood begins: the server closes a
            // keep-alive connection idle for 20 s.
            tokio::time::sleep_until(next.into()).await;
            let mut send = connect(addr).await?;
            for i in 0..10_000_000usize {
                if next >= stop || Instant::now() >= stop {
                    break;
                }
                tokio::time::sleep_until(next.into()).await;
                next += per_worker;
                // Behind by more than a second: the flooder's compute is the
                // limit; do not bunch up the backlog.
                let now = Instant::now();
                if now > next + Duration::from_secs(1) {
                    next = now;
                }
                let b = (w as usize * 104_729 + i) % bodies.len();
                let hash = body_hashes[b];
                let sent = async {
                    let c = tokio::time::timeout(REQUEST_LIMIT, get_challenge(&mut send)).await??;
                    let pow =
                        tokio::task::spawn_blocking(move || solve_header(&c, &hash)).await??;
                    let a = tokio::time::timeout(
                        REQUEST_LIMIT,
                        post(&mut send, bodies[b].clone(), Some(&pow)),
                    )
                    .await??;
                    anyhow::Ok((c.difficulty, a))
                }
                .await;
                match sent {
                    Ok((d, a)) if a.created() => {
                        tally.stored += 1;
                        tally.work += 2f64.powi(i32::from(d) - i32::from(floor));
                    }
                    Ok((_, a)) => *tally.refused.entry(a.describe()).or_default() += 1,
                    Err(e) => {
                        *tally.refused.entry(format!("transport: {e}")).or_default() += 1;
                        send = connect(addr).await?;
                    }
                }
            }
            anyhow::Ok(tally)
        }));
    }

    let seen = sampler.await??;
    let mut sent = Vec::new();
    for g in genuine {
        sent.extend(g.await??);
    }
    let mut tally = FloodTally::default();
    for f in flood {
        let t = f.await??;
        tally.stored += t.stored;
        tally.work += t.work;
        for (k, v) in t.refused {
            *tally.refused.entry(k).or_default() += v;
        }
    }
    server.stop();

    println!(
        "A server in a child process (this binary, hidden `pow-server`): 2 worker threads, SQLite, the demo force, \
         floor {floor}, ceiling {max}, expected peak {expected} reports/minute, the controller every 5 s (the \
         production settings but for the floor, low so that native solving keeps up on this machine: the \
         difficulty's *offset above the floor* is what the rate sets). Two genuine senders each send one 8 KiB \
         report every 3 s as the page does (GET a challenge, solve it natively on a blocking thread, POST; once more \
         with a new challenge after a 429 `pow_expired`/`pow_spent`/`pow_outdated`). From {flood_from:.0} s to \
         {flood_to:.0} s, 8 flood workers send solved 8 KiB reports paced to {x} × the expected peak \
         ({}/minute), each solving the difficulty its challenge carries. The difficulty is read from \
         `GET /api/v1/challenge` every second. Clients and server share the machine's {} cores, and the machine is \
         shared with other work: the times are this run's, not a ceiling.\n",
        x * expected,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // The difficulty over time.
    let at_or_above = |from: usize, bits: u8| seen.iter().skip(from).position(|&d| d >= bits);
    let f0 = flood_from as usize;
    let f1 = flood_to as usize;
    let reached = at_or_above(f0, floor + 4);
    let peak = seen[f0.min(seen.len())..f1.min(seen.len())]
        .iter()
        .copied()
        .max()
        .unwrap_or(floor);
    let back = seen.iter().skip(f1).position(|&d| d == floor);
    println!("| difficulty | value |");
    println!("|---|---|");
    println!(
        "| every 5 s (s = 0, 5, 10, …; the flood from {f0} s to {f1} s) | {} |",
        seen.iter()
            .step_by(5)
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "| first at floor+4 ({}) after the flood began | {} |",
        floor + 4,
        reached.map_or("**never**".to_owned(), |s| format!("{s} s"))
    );
    println!(
        "| highest during the flood | {peak} (floor+{}) |",
        peak - floor
    );
    println!(
        "| back at the floor after the flood ended | {} |",
        back.map_or("not within the run".to_owned(), |s| format!("{s} s"))
    );
    if reached.is_none_or(|s| s > 60) {
        FAILED.fetch_add(1, Ordering::Relaxed);
        println!("\n**The difficulty did not reach floor+4 within 60 s of the flood.**");
        eprintln!("ERRORS: the difficulty did not reach floor+4 within 60 s of the flood");
    }

    let flood_minutes = flood_secs as f64 / 60.0;
    println!(
        "\n| flood | value |\n|---|---|\n| target | {}/minute ({x} × expected) |\n| stored | {} ({:.0}/minute) |\n| work per stored flood report, mean, in floor-solutions | {:.1} |\n| refused | {:?} |",
        x * expected,
        tally.stored,
        tally.stored as f64 / flood_minutes,
        tally.work / tally.stored.max(1) as f64,
        tally.refused
    );

    println!(
        "\n| genuine senders | sends | stored | retried once (2 solves) | not stored | time to send p50 ms | p95 ms | max ms | difficulty solved (median, max) | the same median in a page at the default floor 19 (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut failed = 0;
    for (name, lo, hi) in [
        ("before the flood", 0.0, flood_from),
        ("during the flood", flood_from, flood_to),
        ("after the flood", flood_to, f64::MAX),
    ] {
        let phase: Vec<&Sent> = sent.iter().filter(|s| s.at >= lo && s.at < hi).collect();
        let mut took: Vec<u32> = phase
            .iter()
            .filter(|s| s.refused.is_none())
            .map(|s| micros(s.took))
            .collect();
        let mut bits: Vec<u8> = phase
            .iter()
            .filter_map(|s| s.solved.last().copied())
            .collect();
        bits.sort_unstable();
        let median = bits.get(bits.len() / 2).copied().unwrap_or(floor);
        let not_stored: Vec<&str> = phase.iter().filter_map(|s| s.refused.as_deref()).collect();
        failed += not_stored.len();
        // The page searches 444k tries/s in headless Chromium here
        // (BENCHMARKS.md, "Proof of work in Chromium").
        let page_secs = 2f64.powi(19 + i32::from(median) - i32::from(floor)) / 444_000.0;
        println!(
            "| {name} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {median} (floor+{}), {} | {page_secs:.1} |",
            phase.len(),
            took.len(),
            phase.iter().filter(|s| s.solved.len() == 2).count(),
            if not_stored.is_empty() {
                "0".to_owned()
            } else {
                format!("**{}** {not_stored:?}", not_stored.len())
            },
            pct(&mut took, 0.5),
            pct(&mut took, 0.95),
            pct(&mut took, 1.0),
            median - floor,
            bits.last().copied().unwrap_or(floor),
        );
    }
    if failed > 0 {
        FAILED.fetch_add(failed as u64, Ordering::Relaxed);
        eprintln!("ERRORS: {failed} genuine sends were not stored");
    }
    Ok(())
}

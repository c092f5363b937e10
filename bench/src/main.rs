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
//! - soak: a fixed rate for a fixed time, RSS sampled every 10 s.
//!
//! The server runs in this process on its own 2-thread runtime (as `quietline
//! serve` would on 2 cores), the load client on another runtime.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1 as client_http1;
use hyper_util::rt::TokioIo;
use quietline::storage;
use quietline_crypto::envelope::Kind;
use quietline_crypto::keys::{PrivateKey, PublicKey, generate_keypair};
use quietline_crypto::payload::{
    Common, Known, Payload, Person, ReplyMaterial, Report, ReportBody, Vehicle, When,
};
use quietline_crypto::reply_code::ReplyCode;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Envelope size for intake: 8 KiB bucket.
const DETAILS_LEN: usize = 6_000;

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
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum What {
    /// Everything below, in order.
    All,
    /// Intake on SQLite and PostgreSQL with both ceilings.
    Intake,
    /// Console open+parse vs raw HPKE open.
    Console,
    /// Pull N reports with the console binary.
    Pull,
    /// Fixed-rate soak with RSS samples.
    Soak,
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
    if all {
        println!(
            "\n## Proof-of-work\n\nSkipped: proof-of-work (issue 7) is not built yet; nothing to measure."
        );
    }
    if all || cli.what == What::Soak {
        client_rt.block_on(soak(&cli))?;
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
        let settings = quietline::ServerSettings::default();
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
    secs: f64,
    /// Latencies in microseconds, successful requests.
    lat: Vec<u32>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }
    fn pct(&mut self, p: f64) -> f64 {
        if self.lat.is_empty() {
            return f64::NAN;
        }
        self.lat.sort_unstable();
        let i = ((self.lat.len() as f64 * p).ceil() as usize).clamp(1, self.lat.len()) - 1;
        f64::from(self.lat[i]) / 1000.0
    }
}

async fn connect(addr: std::net::SocketAddr) -> Result<client_http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (send, conn) = client_http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(send)
}

/// One POST; true on 201.
async fn post(send: &mut client_http1::SendRequest<Full<Bytes>>, body: Bytes) -> Result<bool> {
    send.ready().await?;
    let req = hyper::Request::post("/api/v1/reports")
        .header("host", "127.0.0.1")
        .header("content-type", "application/octet-stream")
        .header("content-length", body.len())
        .body(Full::new(body))?;
    let resp = send.send_request(req).await?;
    let ok = resp.status() == hyper::StatusCode::CREATED;
    resp.into_body().collect().await?;
    Ok(ok)
}

/// `total` POSTs from `concurrency` keep-alive connections, as fast as they
/// are answered; stops at `deadline` whatever is left.
async fn closed_loop(
    addr: std::net::SocketAddr,
    bodies: &Arc<Vec<Bytes>>,
    concurrency: usize,
    total: usize,
    deadline: Duration,
) -> Result<Run> {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let bodies = bodies.clone();
        let next = next.clone();
        let mut send = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut r = Run::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= total || start.elapsed() > deadline {
                    break;
                }
                let t = Instant::now();
                match post(&mut send, bodies[i % bodies.len()].clone()).await {
                    Ok(true) => {
                        r.ok += 1;
                        r.lat
                            .push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                    Ok(false) => r.errors += 1,
                    Err(_) => {
                        r.errors += 1;
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
        let r = t.await?;
        all.ok += r.ok;
        all.errors += r.errors;
        all.lat.extend(r.lat);
    }
    all.secs = start.elapsed().as_secs_f64();
    Ok(all)
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
/// 512-row transactions without HTTP or group commit.
async fn write_ceiling(
    backend: Backend,
    dir: &Path,
    bodies: &[Bytes],
    total: usize,
) -> Result<f64> {
    use sqlx::{Connection, QueryBuilder};
    const BATCH: usize = 512;
    let (url, pg) = fresh(backend, dir, "ceiling").await?;
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
                .pragma("cache_size", "-65536");
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
            while done < total {
                let n = BATCH.min(total - done);
                let ids = ids(n);
                let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
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
                let n = BATCH.min(total - done);
                let ids = ids(n);
                sqlx::query(
                    "INSERT INTO reports (id, force_id, key_id, envelope, day, purge_fuzz) \
                     SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::bytea[], $4::bytea[], $5::int4[], $6::int2[])",
                )
                .bind(ids.iter().map(|i| &i[..]).collect::<Vec<_>>())
                .bind(vec!["demo"; n])
                .bind(vec![&key_id[..]; n])
                .bind((0..n).map(|i| &bodies[(done + i) % bodies.len()][..]).collect::<Vec<_>>())
                .bind(vec![20_000i32; n])
                .bind(vec![3i16; n])
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
        "{} submissions per row, keep-alive HTTP/1.1 connections from this process to 127.0.0.1.\n",
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
        for (i, c) in [16, 64].into_iter().enumerate() {
            let mut r = closed_loop(bare.addr, &bodies, c, cli.requests, deadline).await?;
            http_ceiling[i] = r.rate();
            println!(
                "| HTTP ceiling (bare axum, 201, no storage) | {c} | {:.0} | {:.2} | {:.2} | {} | | |",
                r.rate(),
                r.pct(0.5),
                r.pct(0.99),
                r.errors
            );
        }
    }
    let backends: &[Backend] = if cli.no_postgres {
        &[Backend::Sqlite]
    } else {
        &[Backend::Sqlite, Backend::Postgres]
    };
    for &backend in backends {
        let ceiling = write_ceiling(backend, dir.path(), &bodies, cli.requests).await?;
        println!(
            "| {} durable-write ceiling (512-row transactions, no HTTP) | | {ceiling:.0} | | | | | |",
            backend.name()
        );
        for (i, c) in [16, 64].into_iter().enumerate() {
            let data = dir.path().join(format!("{}-{c}", backend.name()));
            std::fs::create_dir_all(&data)?;
            let (url, pg) = fresh(backend, &data, &format!("c{c}")).await?;
            let (server, pk) = Server::quietline(&url, &data)?;
            let bodies = Arc::new(envelopes("demo", &pk, 64));
            let mut r = closed_loop(server.addr, &bodies, c, cli.requests, deadline).await?;
            drop(server);
            if let Some(pg) = pg {
                pg.drop_db().await?;
            }
            let (p50, p99) = (r.pct(0.5), r.pct(0.99));
            println!(
                "| {} Quietline | {c} | {:.0} | {p50:.2} | {p99:.2} | {} | write {ceiling:.0} / HTTP {:.0} | {:.0}% / {:.0}% |",
                backend.name(),
                r.rate(),
                r.errors,
                http_ceiling[i],
                100.0 * r.rate() / ceiling,
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
        let r = closed_loop(server.addr, &bodies, 64, add, Duration::from_secs(900)).await?;
        if r.ok as usize != add {
            bail!(
                "only {} of {add} reports were stored ({} errors)",
                r.ok,
                r.errors
            );
        }
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
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("q.sqlite").display());
    let (server, pk) = Server::quietline(&url, dir.path())?;
    let bodies = Arc::new(envelopes("demo", &pk, 64));
    let period = Duration::from_secs_f64(WORKERS as f64 / cli.soak_rate as f64);
    let end = Instant::now() + Duration::from_secs(cli.soak_secs);
    let per_worker = cli.soak_secs * cli.soak_rate / WORKERS + 1;
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (bodies, ok, errors) = (bodies.clone(), ok.clone(), errors.clone());
        let mut send = connect(server.addr).await?;
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
                match post(&mut send, bodies[i as usize % bodies.len()].clone()).await {
                    Ok(true) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
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
        samples.push(rss);
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
    let (lo, hi) = (
        after_warmup.iter().min().copied().unwrap_or(0),
        after_warmup.iter().max().copied().unwrap_or(0),
    );
    println!(
        "\n{n} submitted in {secs:.0} s = {:.0}/s (target {}/s), {} errors, slowest {:.1} ms; RSS after the first sample between {lo} and {hi} KiB ({:+.1}%).",
        n as f64 / secs,
        cli.soak_rate,
        errors.load(Ordering::Relaxed),
        lat_max as f64 / 1000.0,
        100.0 * (hi as f64 - lo as f64) / lo.max(1) as f64
    );
    drop(server);
    Ok(())
}

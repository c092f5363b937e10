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
//!   N/10 and N reports, against raw HPKE open/s of the same envelopes on 1
//!   and 2 threads measured around each pull; and the same pull again with
//!   nothing new.
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
//! - blobs: attachments' part uploads in MB/s on SQLite and PostgreSQL,
//!   against the disk's sequential write rate (write + fsync of the same
//!   octets in the same data directory) measured in the same run.
//! - generate-vault: not a benchmark: a console home with a vault of N
//!   realistic reports for the desk benchmarks (the library function
//!   `quietline_bench::generate::generate`).
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

mod attachments;
mod blobs;
mod client;
mod console;
mod envelopes;
mod intake;
mod pow;
mod pull;
mod rate;
mod report;
mod server;
mod soak;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::blobs::blobs;
use crate::console::console_bench;
use crate::intake::intake;
use crate::pow::child::pow_server;
use crate::pow::pow_bench;
use crate::pull::pull;
use crate::rate::pow_rate_bench;
use crate::soak::soak;
use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use quietline::pow::PowSettings;

/// Envelope size for intake: 8 KiB bucket.
pub(crate) const DETAILS_LEN: usize = 6_000;
/// The difficulty of the in-process servers (intake, pull, soak): the
/// server's checking cost does not depend on it, and clients solve it in ~2
/// tries.
pub(crate) const BENCH_DIFFICULTY: u8 = 1;
/// Most nonces a solver tries (2^34: far beyond any difficulty used here).
pub(crate) const SOLVE_MAX_TRIES: u64 = 1 << 34;
/// Requests of any run that were not answered as they should have been
/// (intake, pull, soak, flood): the process exits non-zero at the end if any.
pub(crate) static FAILED: AtomicU64 = AtomicU64::new(0);

#[derive(Parser)]
#[command(about = "Quietline benchmarks (issue 8); prints Markdown for BENCHMARKS.md")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) what: What,
    /// Submissions per intake measurement (per backend and concurrency).
    #[arg(long, default_value_t = 30_000, global = true)]
    pub(crate) requests: usize,
    /// Reports pulled in the pull benchmark (a tenth of it is pulled first, to
    /// show memory does not grow with the count).
    #[arg(long, default_value_t = 100_000, global = true)]
    pub(crate) pull_n: usize,
    /// Soak duration in seconds (600 for the recorded run).
    #[arg(long, default_value_t = 600, global = true)]
    pub(crate) soak_secs: u64,
    /// Soak rate, submissions per second.
    #[arg(long, default_value_t = 500, global = true)]
    pub(crate) soak_rate: u64,
    /// Envelopes opened in the console benchmark.
    #[arg(long, default_value_t = 5_000, global = true)]
    pub(crate) opens: usize,
    /// Skip PostgreSQL.
    #[arg(long, global = true)]
    pub(crate) no_postgres: bool,
    /// Seconds of each proof-of-work flood phase (baseline, then flood).
    #[arg(long, default_value_t = 20, global = true)]
    pub(crate) pow_secs: u64,
    /// Difficulty of the flood benchmark's server (its genuine senders solve it).
    #[arg(long, default_value_t = 16, global = true)]
    pub(crate) pow_difficulty: u8,
    /// Genuine senders (GET challenge, solve, POST, in a loop) in the flood benchmark.
    #[arg(long, default_value_t = 8, global = true)]
    pub(crate) genuine: usize,
    /// Keep-alive connections sending refused submissions in the flood phase.
    #[arg(long, default_value_t = 64, global = true)]
    pub(crate) flood: usize,
    /// pow-rate: the server's floor (its ceiling is floor + 9, as 19/28).
    #[arg(long, default_value_t = 12, global = true)]
    pub(crate) rate_floor: u8,
    /// pow-rate: the server's expected peak, reports per minute.
    #[arg(long, default_value_t = 120, global = true)]
    pub(crate) rate_expected: u32,
    /// pow-rate: the flood's rate as a multiple of the expected peak.
    #[arg(long, default_value_t = 10, global = true)]
    pub(crate) rate_x: u32,
    /// pow-rate: seconds of the flood (20 s before it, 40 s after it).
    #[arg(long, default_value_t = 60, global = true)]
    pub(crate) rate_secs: u64,
    /// blobs: the padding bucket of the uploaded blob, in MiB (a power of two).
    #[arg(long, default_value_t = 64, global = true)]
    pub(crate) blob_mib: u32,
    /// blobs: uploads per row (each on a fresh database); the best is kept.
    #[arg(long, default_value_t = 3, global = true)]
    pub(crate) blob_rounds: usize,
}

#[derive(Subcommand, Clone, PartialEq, Eq)]
pub(crate) enum What {
    /// Everything below, in order.
    All,
    /// Intake on SQLite and PostgreSQL with both ceilings.
    Intake,
    /// Console open+parse vs raw HPKE open.
    Console,
    /// The console's attachment decrypt vs raw ChaCha20-Poly1305 (issue 19).
    Attachments,
    /// Pull N reports with the console binary.
    Pull,
    /// Proof of work: verification cost, and genuine senders under a flood.
    Pow,
    /// Proof of work: genuine senders during a flood of solved reports at a
    /// multiple of the expected peak (the difficulty answering the rate).
    PowRate,
    /// Fixed-rate soak with RSS samples.
    Soak,
    /// Attachments: part uploads in MB/s on SQLite and PostgreSQL against the
    /// disk's sequential write rate.
    Blobs,
    /// Not a benchmark: write a console home with a vault of N realistic
    /// reports (follow-ups, statuses, notes, reply copies, audit entries)
    /// sealed to a new key, for the desk benchmarks. DIR must not exist.
    GenerateVault {
        /// Where: DIR/home (the console home) and DIR/passphrase (0600).
        #[arg(long)]
        dir: PathBuf,
        /// Reports (threads' first messages; follow-ups come on top).
        #[arg(long, default_value_t = 100_000)]
        reports: usize,
        /// Seed of the content (same seed, same reports).
        #[arg(long, default_value_t = 16)]
        seed: u64,
        /// Seal the key file with the tests' cheap key derivation (a desk
        /// start then skips ~1 s of Argon2id; never for a real key).
        #[arg(long)]
        cheap_kdf: bool,
    },
    /// The desk at scale (issue 16): a generated vault of N reports, desk start,
    /// 8 handlers browsing the queue, cases and search at once, peak memory
    Desk {
        /// Reports in the generated vault
        #[arg(long, default_value_t = 100_000)]
        reports: usize,
    },
    /// The reporter page's attachments in headless Chromium
    /// (web/bench/attach.mjs): sealing throughput against raw
    /// ChaCha20-Poly1305 in the same page, and a file sealed and uploaded to
    /// a loopback server (proof of work at 8 bits plus the size's) with the
    /// page's peak JS heap against the chunk window.
    AttachPage {
        /// Size of the uploaded file, MB.
        #[arg(long, default_value_t = 100)]
        upload_mb: u64,
        /// MiB sealed for the throughput figures.
        #[arg(long, default_value_t = 64)]
        seal_mib: u64,
    },
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

pub(crate) fn main() -> Result<()> {
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
    if let What::GenerateVault {
        dir,
        reports,
        seed,
        cheap_kdf,
    } = &cli.what
    {
        return generate_vault(dir, *reports, *seed, *cheap_kdf);
    }
    if let What::AttachPage {
        upload_mb,
        seal_mib,
    } = &cli.what
    {
        println!("{}\n", machine());
        return attach_page(*upload_mb, *seal_mib);
    }
    if let What::Desk { reports } = &cli.what {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        println!("{}\n", machine());
        return rt.block_on(quietline_bench::desk::run(*reports));
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
    if all || cli.what == What::Attachments {
        attachments::attachments_bench(&client_rt)?;
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
    if all || cli.what == What::Blobs {
        client_rt.block_on(blobs(&cli))?;
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

/// `attach-page`: the pow-server child (SQLite, the demo force) and
/// `node bench/attach.mjs --base` against it, its output passed through.
fn attach_page(upload_mb: u64, seal_mib: u64) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = crate::pow::child::ChildServer::start(dir.path(), 8)?;
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    let status = std::process::Command::new("node")
        .current_dir(&web)
        .arg("bench/attach.mjs")
        .arg("--base")
        .arg(format!("http://{}", server.addr))
        .arg("--force")
        .arg(quietline::demo::DEMO_FORCE_ID)
        .arg("--upload-mb")
        .arg(upload_mb.to_string())
        .arg("--mb")
        .arg(seal_mib.to_string())
        .status()?;
    server.stop();
    if !status.success() {
        bail!("node bench/attach.mjs failed ({status})");
    }
    Ok(())
}

/// `generate-vault`: run the generator and print what it made.
fn generate_vault(dir: &std::path::Path, reports: usize, seed: u64, cheap_kdf: bool) -> Result<()> {
    use quietline_bench::generate::{Spec, generate};
    let spec = Spec {
        reports,
        seed,
        kdf: if cheap_kdf {
            quietline_crypto::keyfile::KdfParams::INSECURE_FOR_TESTS
        } else {
            quietline_crypto::keyfile::KdfParams::DEFAULT
        },
        ..Spec::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let g = rt.block_on(generate(dir, &spec))?;
    println!("{}\n", machine());
    println!("## Vault generator\n");
    println!(
        "| reports | follow-ups | records | audit entries | seconds | messages/s | vault size |"
    );
    println!("|---|---|---|---|---|---|---|");
    let records: Vec<String> = g.records.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!(
        "| {} | {} | {} | {} | {:.1} | {:.0} | {:.0} MB |",
        g.reports,
        g.follow_ups,
        records.join(", "),
        g.audit_entries,
        g.secs,
        (g.reports + g.follow_ups) as f64 / g.secs,
        g.vault_bytes as f64 / 1e6
    );
    println!(
        "\nHome: {} (force {}, key {}); passphrase file: {}",
        g.home.display(),
        g.force_id,
        g.key_id,
        g.passphrase_file.display()
    );
    if let (Some(r), Some(n)) = (g.registrations.first(), g.names.first()) {
        println!("Search terms in it, e.g. registration {r:?}, name {n:?}.");
    }
    Ok(())
}

pub(crate) fn machine() -> String {
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

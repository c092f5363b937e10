use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Cli;
use crate::client::fill;
use crate::envelopes::envelopes;
use crate::server;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use quietline_crypto::envelope::Kind;
use quietline_crypto::keys::PrivateKey;

// ------------------------------------------------------------------ pull

/// Build the console binary (release) and return its path.
pub(crate) fn console_binary() -> Result<PathBuf> {
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

/// What [`run_measured`] saw of a child.
pub(crate) struct Measured {
    /// Wall seconds.
    pub(crate) secs: f64,
    /// Peak RSS, KiB.
    pub(crate) peak_kib: i64,
    /// CPU seconds (user + system, every thread), up to the last sample.
    pub(crate) cpu_secs: f64,
}

/// CPU seconds (user + system, every thread) of the process whose
/// `/proc/…/stat` this is: fields 14 and 15 (proc(5)), after the command
/// name in parentheses.
pub(crate) fn stat_cpu_secs(stat: &str, clk_tck: f64) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clk_tck)
}

/// This process's CPU seconds so far.
pub(crate) fn own_cpu_secs(clk_tck: f64) -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| stat_cpu_secs(&s, clk_tck))
        .unwrap_or(f64::NAN)
}

/// Run a child to completion: wall time, peak RSS and CPU time.
///
/// The peak is the kernel's high-water mark (`VmHWM` in `/proc/PID/status`)
/// and the CPU time `/proc/PID/stat`'s, read every 20 ms while the child
/// runs; both only grow, so the last readings are the totals up to the final
/// 20 ms. Safe Rust only: no `wait4`.
pub(crate) fn run_measured(cmd: &mut std::process::Command) -> Result<Measured> {
    let clk_tck = crate::pow::child::clk_tck();
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let stat_path = format!("/proc/{}/stat", child.id());
    let mut peak_kib = 0i64;
    let mut cpu_secs = 0f64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(cpu) = std::fs::read_to_string(&stat_path)
            .ok()
            .and_then(|s| stat_cpu_secs(&s, clk_tck))
        {
            cpu_secs = cpu_secs.max(cpu);
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
    Ok(Measured {
        secs,
        peak_kib,
        cpu_secs,
    })
}

/// Store `n` reports, each a distinct sealed envelope (so the pull's
/// duplicate check finds none, as in service), in chunks sealed just before
/// they are sent. Returns the last chunk's envelopes (for the ceiling).
async fn fill_distinct(
    addr: std::net::SocketAddr,
    pk: &quietline_crypto::keys::PublicKey,
    n: usize,
) -> Result<Vec<Bytes>> {
    const CHUNK: usize = 5_000;
    let mut done = 0;
    let mut last = Vec::new();
    while done < n {
        let k = CHUNK.min(n - done);
        let pk = pk.clone();
        let bodies =
            Arc::new(tokio::task::spawn_blocking(move || envelopes("demo", &pk, k)).await?);
        fill(addr, &bodies, k).await?;
        done += k;
        last = bodies.as_ref().clone();
    }
    Ok(last)
}

/// Raw HPKE opens per second of `bodies` (`quietline_crypto::open::open`:
/// parse, HPKE open with the header as AAD, unpad: no JSON, no vault, no
/// network), on `threads` threads at once, best of three rounds: the ceiling
/// a pull is measured against; and the CPU seconds one open costs (this
/// process's CPU time over the round, the server in it idle).
pub(crate) fn raw_open_rate(sk: &PrivateKey, bodies: &[Bytes], threads: usize) -> (f64, f64) {
    let clk_tck = crate::pow::child::clk_tck();
    let round = || {
        let cpu = own_cpu_secs(clk_tck);
        let t = Instant::now();
        std::thread::scope(|s| {
            for part in bodies.chunks(bodies.len().div_ceil(threads)) {
                s.spawn(move || {
                    for b in part {
                        let p = quietline_crypto::open::open(sk, Kind::Report, b).expect("open");
                        std::hint::black_box(p.len());
                    }
                });
            }
        });
        let rate = bodies.len() as f64 / t.elapsed().as_secs_f64();
        (rate, (own_cpu_secs(clk_tck) - cpu) / bodies.len() as f64)
    };
    // The best round's rate, and the least CPU per open of any round.
    (0..3)
        .map(|_| round())
        .fold((0.0, f64::INFINITY), |a, b| (a.0.max(b.0), a.1.min(b.1)))
}

pub(crate) async fn pull(cli: &Cli) -> Result<()> {
    println!("\n## Pull (console `pull`, SQLite server)\n");
    let console = console_binary()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data)?;
    let url = format!("sqlite://{}", data.join("q.sqlite").display());
    let (server, pk) = server::quietline(&url, &data)?;
    let server_url = format!("http://{}", server.addr);
    let demo = data.join("demo");
    let pass = demo.join("passphrase");
    let sk = {
        let text = std::fs::read_to_string(demo.join("force.key"))?;
        let passphrase = std::fs::read(&pass)?;
        let passphrase = String::from_utf8(passphrase)?;
        quietline_crypto::keyfile::open_key_file(&text, passphrase.trim().as_bytes())?.1
    };
    let steps = {
        let first = (cli.pull_n / 10).max(1);
        vec![first, cli.pull_n]
    };
    let clk_tck = crate::pow::child::clk_tck();
    let (mut rows, mut cpu_rows) = (Vec::new(), Vec::new());
    let mut stored = 0usize;
    for (i, &n) in steps.iter().enumerate() {
        // A fresh console home each time: pulling n reports from empty.
        let last = fill_distinct(server.addr, &pk, n - stored).await?;
        stored = n;
        let home = dir.path().join(format!("home{i}"));
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
        // The ceiling, just before and just after the pull (the machine is
        // shared: the better of the two is the less disturbed).
        let sample = &last[..last.len().min(2_000)];
        let before = (raw_open_rate(&sk, sample, 1), raw_open_rate(&sk, sample, 2));
        let server_cpu = own_cpu_secs(clk_tck);
        let pulled = run_measured(base(&["pull", "--passphrase-file"]).arg(&pass))?;
        let server_cpu = own_cpu_secs(clk_tck) - server_cpu;
        let after = (raw_open_rate(&sk, sample, 1), raw_open_rate(&sk, sample, 2));
        // The same pull again: everything listed, nothing new (a desk's
        // background pull on a quiet day).
        let again = run_measured(base(&["pull", "--passphrase-file"]).arg(&pass))?;
        let raw1 = before.0.0.max(after.0.0);
        let raw2 = before.1.0.max(after.1.0);
        let raw_cpu = before.0.1.min(after.0.1);
        let rate = n as f64 / pulled.secs;
        rows.push(format!(
            "| {n} | {n} | {:.1} | {rate:.0} | {raw1:.0} | {raw2:.0} | {:.0}% | {:.0}% | {} KiB | {:.1} |",
            pulled.secs,
            100.0 * rate / raw1,
            100.0 * rate / raw2,
            pulled.peak_kib,
            again.secs,
        ));
        let per = |secs: f64| 1e6 * secs / n as f64;
        let total = per(pulled.cpu_secs) + per(server_cpu);
        cpu_rows.push(format!(
            "| {n} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0}% | {:.2} |",
            per(pulled.cpu_secs),
            per(server_cpu),
            total,
            1e6 * raw_cpu,
            100.0 * 1e6 * raw_cpu / total,
            (pulled.cpu_secs + server_cpu) / pulled.secs,
        ));
        let _ = std::fs::remove_dir_all(&home);
    }
    println!(
        "The ceiling is raw HPKE open (`quietline_crypto::open::open`: parse, open, unpad) of 2,000 of the same envelopes in this process, on 1 thread and on 2 threads at once, best of 3 rounds, measured just before and just after the pull (the better of the two). The pull opens, parses the payload, checks for duplicates and stores each envelope, while the server (in this process, 2 threads) serves them: all on the same 2 cores.\n"
    );
    println!(
        "| reports in the vault after the pull | reports pulled | seconds | pulled/s | raw open/s, 1 thread | raw open/s, 2 threads | pulled/s ÷ raw (1 thread) | pulled/s ÷ raw (2 threads) | peak RSS of `quietline-console pull` | the same pull again (nothing new), seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!(
        "\nCPU time per report pulled (user + system, every thread, from `/proc`): the console's, the server's (this process's during the pull), and one raw open's (the least of the rounds above). On an idle 2-core machine the pull's rate over the 2-thread raw rate tends to the CPU ratio (raw ÷ pull) when the pull keeps both cores busy; the last column is how many cores it kept busy here.\n"
    );
    println!(
        "| reports pulled | console µs/report | server µs/report | together | raw open µs | raw ÷ together | cores busy (CPU s ÷ wall s) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in cpu_rows {
        println!("{r}");
    }
    drop(server);
    Ok(())
}

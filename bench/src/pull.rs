use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Cli;
use crate::client::fill;
use crate::envelopes::envelopes;
use crate::server;
use anyhow::{Context, Result, bail};

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

/// Run a child to completion; returns (wall seconds, peak RSS KiB).
///
/// The peak is the kernel's high-water mark (`VmHWM` in `/proc/PID/status`),
/// read every 20 ms while the child runs; it only grows, so the last reading
/// is the peak up to the final 20 ms. Safe Rust only: no `wait4`.
pub(crate) fn run_measured(cmd: &mut std::process::Command) -> Result<(f64, i64)> {
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

pub(crate) async fn pull(cli: &Cli) -> Result<()> {
    println!("\n## Pull (console `pull`, SQLite server)\n");
    let console = console_binary()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data)?;
    let url = format!("sqlite://{}", data.join("q.sqlite").display());
    let (server, pk) = server::quietline(&url, &data)?;
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

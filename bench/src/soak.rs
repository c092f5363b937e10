use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::{connect, get_challenge, hashes, post, solve_header};
use crate::envelopes::envelopes;
use crate::report::Run;
use crate::server;
use crate::{BENCH_DIFFICULTY, Cli};
use anyhow::Result;

// ------------------------------------------------------------------ soak

pub(crate) fn rss_kib() -> u64 {
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

pub(crate) async fn soak(cli: &Cli) -> Result<()> {
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
    let (server, pk) = server::quietline(&url, dir.path())?;
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

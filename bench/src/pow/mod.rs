use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use quietline_crypto::keys::PublicKey;
use quietline_crypto::pow as qpow;
use tokio::runtime::Runtime;

pub(crate) mod child;
pub(crate) mod flood;
mod verify;

use self::child::ChildServer;
use self::flood::{
    FLOOD_KINDS, Flood, Genuine, fetch_challenges, flood_connection, genuine_once, genuine_phase,
};
use self::verify::{VerifyCosts, verify_costs, wrong_nonce};
use crate::client::{connect, hashes};
use crate::envelopes::envelopes;
use crate::report::pct;
use crate::{Cli, FAILED};

/// The proof-of-work benchmark, in the order it prints: (a) what each check
/// costs in-process ([`print_verify_costs`]); (b) genuine senders alone and
/// then under a flood of refused submissions, against a server in a child
/// process ([`prepare_flood`], [`run_phases`], [`print_genuine`],
/// [`print_flood_answers`]); (c) the server's CPU per request against (a)
/// ([`print_cpu`]).
pub(crate) fn pow_bench(cli: &Cli, client_rt: &Runtime) -> Result<()> {
    let d = cli.pow_difficulty;
    let secs = cli.pow_secs.clamp(1, 600);
    let (senders, conns) = (cli.genuine.clamp(1, 256), cli.flood.clamp(1, 1024));
    println!("\n## Proof-of-work\n");
    println!("`pow --pow-secs {secs} --pow-difficulty {d} --genuine {senders} --flood {conns}`.\n");

    // (a) Verification cost.
    let v = verify_costs(d)?;
    print_verify_costs(d, &v);

    // (b) Flood.
    let dir = tempfile::tempdir()?;
    let mut server = ChildServer::start(dir.path(), d)?;
    let public = std::fs::read_to_string(dir.path().join("demo/public-key"))?;
    let pk = PublicKey::from_base64url(public.trim())?;
    let bodies = Arc::new(envelopes("demo", &pk, 64));
    let flood = client_rt.block_on(prepare_flood(server.addr, &bodies))?;
    let mut run = run_phases(&server, client_rt, &bodies, &flood, senders, conns, secs)?;
    server.stop();
    print_genuine(d, senders, conns, secs, &mut run);
    print_flood_answers(&flood, &run);

    // (c) CPU per request.
    print_cpu(&v, &run);
    Ok(())
}

/// Part (a)'s table: µs per check by outcome, against SHA-256 of the
/// envelope.
fn print_verify_costs(d: u8, v: &VerifyCosts) {
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
}

/// Warm-up (the server loads its key, SQLite its pages), keeping spent
/// solutions for the replays; then the flood's requests, by kind
/// ([`FLOOD_KINDS`]): no header, a malformed nonce, a forged challenge, a
/// wrong nonce, a replay.
async fn prepare_flood(addr: std::net::SocketAddr, bodies: &Arc<Vec<Bytes>>) -> Result<Arc<Flood>> {
    let mut send = connect(addr).await?;
    let mut g = Genuine::default();
    let hs = hashes(bodies);
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
                        work: qpow::Work::first([0; 8]),
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
                        work: qpow::Work::first(nonce),
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
}

/// What the two phases measured.
struct Phases {
    /// Genuine senders alone (A) and under the flood (B).
    a: Genuine,
    b: Genuine,
    /// The server's CPU seconds in A and in B's window.
    cpu_a: f64,
    cpu_b: f64,
    /// B's measured window, seconds.
    wall_b: f64,
    /// Flood requests answered in B's window, by kind, and their sum.
    window: [u64; 5],
    rejected: u64,
}

/// Phase A: genuine senders alone. Phase B: the same genuine load under the
/// flood (its own 2-thread runtime; 2 s to ramp up before the measured
/// window). The flood is stopped before this returns.
fn run_phases(
    server: &ChildServer,
    client_rt: &Runtime,
    bodies: &Arc<Vec<Bytes>>,
    flood: &Arc<Flood>,
    senders: usize,
    conns: usize,
    secs: u64,
) -> Result<Phases> {
    let addr = server.addr;
    let cpu_a0 = server.cpu_secs()?;
    let a = client_rt.block_on(genuine_phase(addr, bodies, senders, secs))?;
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
    let b = client_rt.block_on(genuine_phase(addr, bodies, senders, secs))?;
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
    let cpu_b = cpu_b1 - cpu_b0;
    let window: [u64; 5] = std::array::from_fn(|k| n_b1[k] - n_b0[k]);
    let rejected: u64 = window.iter().sum();
    Ok(Phases {
        a,
        b,
        cpu_a,
        cpu_b,
        wall_b,
        window,
        rejected,
    })
}

/// Part (b)'s first table: genuine senders in A and B, and B / A.
fn print_genuine(d: u8, senders: usize, conns: usize, secs: u64, run: &mut Phases) {
    let Phases {
        a,
        b,
        cpu_a,
        cpu_b,
        wall_b,
        rejected,
        ..
    } = run;
    let (cpu_a, cpu_b, wall_b, rejected) = (*cpu_a, *cpu_b, *wall_b, *rejected);
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
    let ra = row("A: no flood", a, 0.0, cpu_a, wall_a);
    let rb = row("B: flood", b, rejected as f64 / wall_b, cpu_b, wall_b);
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
    for (name, g) in [("A", &*a), ("B", &*b)] {
        if !g.codes.is_empty() {
            println!(
                "\nGenuine submissions not stored in phase {name}: {:?}.",
                g.codes
            );
        }
    }
}

/// Part (b)'s second table: each kind of flood request and how it was
/// answered; any unexpected answer counts as a failure of the run.
fn print_flood_answers(flood: &Flood, run: &Phases) {
    let (window, wall_b) = (run.window, run.wall_b);
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
}

/// Part (c): the server's CPU per genuine and per refused request, against
/// the in-process checks of part (a).
fn print_cpu(v: &VerifyCosts, run: &Phases) {
    let Phases {
        a,
        b,
        cpu_a,
        cpu_b,
        wall_b,
        window,
        rejected,
    } = run;
    let (cpu_a, cpu_b, wall_b, rejected) = (*cpu_a, *cpu_b, *wall_b, *rejected);
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
}

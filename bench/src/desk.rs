//! The desk benchmark (issue 16, "Speed and scale"): a generated vault of N
//! reports (`generate`), then
//! - desk start: unlocking the key ring and building the case index
//!   (`Desk::open`), against the ceiling of 30 s;
//! - 8 handlers browsing at once through the desk's real router (the same
//!   `quietline_desk::router` the desk serves, driven in-process so the
//!   figures are the desk's own work, without a network): the queue page, a
//!   case page, a search by a vehicle registration; p50/p95 against the
//!   ceilings of 150 ms (queue, case) and 500 ms (search);
//! - the queue page right after a change to a case (the index's orders and
//!   counts are rebuilt once per change: that cost, alone; no ceiling);
//! - the process's peak memory (VmHWM) against 1 GiB.
//!
//! It does not measure the pull (see `pull.rs`) or sign-in (Argon2id, TOTP).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use quietline_casework::accounts;
use quietline_casework::audit::Actor;
use quietline_casework::clock::Clock;
use quietline_casework::desk::access::Next;
use quietline_casework::desk::{Desk, DeskSettings, Handler, Role, Status};
use quietline_casework::home::Home;
use quietline_casework::keyring::list_keys;
use quietline_casework::vault::Vault;
use tower::ServiceExt;

use crate::generate::{Spec, generate};

const HANDLERS: usize = 8;
const ROUNDS: usize = 25;

/// Run the benchmark on a fresh vault of `reports` reports; prints Markdown.
pub async fn run(reports: usize) -> Result<()> {
    let load_before = load_average();
    let tmp = tempfile::tempdir()?;
    let spec = Spec {
        reports,
        kdf: quietline_crypto::keyfile::KdfParams::INSECURE_FOR_TESTS,
        ..Spec::default()
    };
    let g = generate(&tmp.path().join("vault"), &spec).await?;
    let pass = std::fs::read_to_string(&g.passphrase_file)?;
    let home = Home::locate(Some(g.home.clone()))?;
    let vault = Vault::open(&home.vault_path()).await?;
    let started = Instant::now();
    let desk = Desk::open(
        home.clone(),
        vault.clone(),
        pass.trim_end().as_bytes(),
        DeskSettings::default(),
        Clock::system(),
    )
    .await?;
    let start_secs = started.elapsed().as_secs_f64();

    // Eight enrolled handlers, signed in.
    let config = home.load_config()?;
    let keys = list_keys(&home.keys_dir())?;
    let (_, info) = keys
        .iter()
        .find(|(_, i)| Some(i.key_id.to_hex()) == config.current_key)
        .or_else(|| keys.last())
        .context("no key")?;
    let actor = Actor::current(Some("bench".into()));
    let mut tokens = Vec::new();
    for i in 0..HANDLERS {
        let name = format!("bench{i}");
        let password = "a long enough benchmark password";
        let secret = accounts::add_enrolled(
            &vault,
            &actor,
            &info.force_id,
            &info.public_key,
            &name,
            Role::Supervisor,
            password,
            &Clock::system().today(),
        )
        .await?;
        let secret = accounts::secret_from_base32(&secret).context("secret")?;
        let (pending, next) = desk.sign_in_password(&name, password).await?;
        if next != Next::Code {
            bail!("{name}: expected the code step");
        }
        let code = accounts::totp_code(&secret, Clock::system().now_secs());
        let signed = desk.sign_in_code(&pending.0, &code).await?;
        tokens.push(signed.token.to_string());
    }
    let app = quietline_desk::router(
        desk.clone(),
        quietline_desk::DeskWebSettings::new("Benchmark Constabulary"),
    );
    // Case ids to open: the queue's first page, read once.
    let first = get(&app, &tokens[0], "/?view=all").await?;
    let ids: Vec<String> = first
        .1
        .match_indices("/cases/")
        .filter_map(|(i, _)| first.1.get(i + 7..i + 7 + 32))
        .filter(|id| id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        bail!("the queue page lists no case");
    }
    let terms = g.registrations.clone();
    let mut tasks = Vec::new();
    for (h, token) in tokens.iter().enumerate() {
        let (app, token, ids, terms) = (app.clone(), token.clone(), ids.clone(), terms.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = (Vec::new(), Vec::new(), Vec::new());
            for r in 0..ROUNDS {
                let at = Instant::now();
                get(&app, &token, "/?view=all").await?;
                t.0.push(at.elapsed());
                let id = &ids[(h * ROUNDS + r) % ids.len()];
                let at = Instant::now();
                get(&app, &token, &format!("/cases/{id}")).await?;
                t.1.push(at.elapsed());
                let q = terms[(h * ROUNDS + r) % terms.len().max(1)].replace(' ', "+");
                let at = Instant::now();
                get(&app, &token, &format!("/search?q={q}")).await?;
                t.2.push(at.elapsed());
            }
            anyhow::Ok(t)
        }));
    }
    let (mut queue, mut case, mut search) = (Vec::new(), Vec::new(), Vec::new());
    for task in tasks {
        let (q, c, s) = task.await??;
        queue.extend(q);
        case.extend(c);
        search.extend(s);
    }
    // A change to a case makes the next queue page rebuild the index's
    // orders and counts (once per change, not per request): its cost, alone.
    let who = Handler {
        account: "bench0".into(),
        role: Role::Supervisor,
    };
    let mut after_change = Vec::new();
    for (i, id) in ids.iter().take(5).enumerate() {
        let status = if i % 2 == 0 {
            Status::Triaged
        } else {
            Status::Actioned
        };
        desk.set_status(&who, id, status).await?;
        let at = Instant::now();
        get(&app, &tokens[0], "/?view=all").await?;
        after_change.push(at.elapsed());
    }
    after_change.sort();
    let peak = peak_rss_mib();
    println!(
        "## The desk at {} reports ({} follow-ups), {HANDLERS} handlers browsing at once\n",
        g.reports, g.follow_ups
    );
    println!(
        "Load average (1, 5, 15 min) before the run: {load_before}; after: {}\n",
        load_average()
    );
    println!("| measure | result | ceiling |");
    println!("|---|---|---|");
    println!("| desk start (unlock + case index) | {start_secs:.1} s | 30 s |");
    for (what, v, ceiling) in [
        ("queue page", &mut queue, 150),
        ("case page", &mut case, 150),
        ("search (a registration)", &mut search, 500),
    ] {
        v.sort();
        println!(
            "| {what}, p50 / p95 of {} | {:.0} ms / {:.0} ms | p95 {ceiling} ms |",
            v.len(),
            ms(v[v.len() / 2]),
            ms(v[v.len() * 95 / 100])
        );
    }
    println!(
        "| queue page right after a change (orders and counts rebuilt), alone, slowest of {} | {:.0} ms | — |",
        after_change.len(),
        ms(after_change[after_change.len() - 1])
    );
    println!("| peak memory of the process (VmHWM) | {peak:.0} MiB | 1024 MiB |");
    desk.lock();
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One GET through the router as a signed-in handler: (status, body).
async fn get(app: &axum::Router, token: &str, path: &str) -> Result<(StatusCode, String)> {
    let req = Request::get(path)
        .header(
            "cookie",
            format!("{}={token}", quietline_desk::security::SESSION_COOKIE),
        )
        .body(Body::empty())?;
    let res = app.clone().oneshot(req).await?;
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 64 << 20).await?;
    if status != StatusCode::OK {
        bail!("GET {path}: {status}");
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The machine's load averages (1, 5, 15 minutes), as `/proc/loadavg` has them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The process's peak resident memory, MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

//! `quietline`: the intake server binary and the operator's admin commands.
//!
//! It owns the command line, process setup (logging without timestamps, a panic
//! hook that prints no details, signals) and printing. Everything else is in
//! the library (`quietline::…`). `serve` prints `listening on http://ADDR` on
//! stdout once bound, as its first line, so scripts and tests can use
//! `--listen 127.0.0.1:0`; then the SHA-256 of each file of the reporter page.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use quietline::admin::{self, ForceCommand, PowCommand, TokenCommand};
use quietline::config::{self, CommonArgs, ServeArgs, Settings};
use quietline::http::logging;
use quietline::storage::{self, Storage};
use std::sync::Arc;

/// Quietline intake server: stores sealed reports, never decrypts.
#[derive(Parser, Debug)]
#[command(name = "quietline", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Manage forces and their public keys.
    #[command(subcommand)]
    Force(ForceCommand),
    /// Manage handler tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Delete reports and reply slots past retention, now.
    Purge,
    /// Proof of work on submissions.
    #[command(subcommand)]
    Pow(PowCommand),
}

fn main() -> ExitCode {
    logging::install_panic_hook();
    let cli = Cli::parse();
    logging::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(&cli.common, &args).await,
        Command::Force(cmd) => {
            let (storage, _) = open_admin(&cli.common).await?;
            let r = admin::run_force(storage.as_ref(), cmd, &mut std::io::stdout()).await;
            storage.close().await;
            Ok(r?)
        }
        Command::Token(cmd) => {
            let (storage, _) = open_admin(&cli.common).await?;
            let r = admin::run_token(storage.as_ref(), cmd, &mut std::io::stdout()).await;
            storage.close().await;
            Ok(r?)
        }
        Command::Pow(PowCommand::Status { url }) => {
            let base = match url {
                Some(u) => u,
                None => format!("http://{}", config::resolve_listen(&cli.common)?),
            };
            admin::run_pow_status(&base, &mut std::io::stdout())
                .await
                .map(|_| ())
        }
        Command::Purge => {
            let (storage, settings) = open_admin(&cli.common).await?;
            let r = admin::run_purge(
                storage.as_ref(),
                settings.retention_days,
                &mut std::io::stdout(),
            )
            .await;
            storage.close().await;
            r.map(|_| ()).map_err(Into::into)
        }
    }
}

async fn open_storage(settings: &Settings) -> anyhow::Result<Arc<dyn Storage>> {
    if settings.database_is_default {
        config::ensure_data_dir(&settings.data_dir)?;
    }
    let shown = config::redact_database_url(&settings.database_url);
    storage::open(&settings.database_url)
        .await
        .with_context(|| format!("cannot open the database {shown}"))
}

async fn open_admin(common: &CommonArgs) -> anyhow::Result<(Arc<dyn Storage>, Settings)> {
    let settings = config::resolve_admin(common)?;
    let storage = open_storage(&settings).await?;
    Ok((storage, settings))
}

async fn serve(common: &CommonArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let cfg = config::resolve_serve(common, args)?;
    if cfg.demo {
        // Even with PostgreSQL: `--demo` writes the console's files there.
        config::ensure_data_dir(&cfg.common.data_dir)?;
    }
    let storage = open_storage(&cfg.common).await?;

    let demo = if cfg.demo {
        Some(
            quietline::demo::ensure_demos(storage.as_ref(), &cfg.common.data_dir)
                .await
                .context("cannot set up the demo forces")?,
        )
    } else {
        None
    };

    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    {
        // One parseable line on stdout; everything else goes to the log (stderr).
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        // The page's files as served, in sha256sum's format (README: "Checking
        // the reporter page"); they change only with the binary.
        writeln!(
            out,
            "\nreporter page files (SHA-256; `/` serves index.html, or index.cy.html in Welsh; check a build of web/ with sha256sum -c):"
        )?;
        write!(out, "{}", quietline::assets::sha256sum_lines())?;
        writeln!(out)?;
        writeln!(out, "{}", pow_banner(&cfg.server.pow))?;
        if let Some(first) = demo.as_ref().and_then(|d| d.first()) {
            writeln!(out, "\n{}", quietline::demo::instructions(first, addr))?;
            for other in demo.iter().flatten().skip(1) {
                writeln!(
                    out,
                    "{}",
                    quietline::demo::second_instructions(first, other, addr)
                )?;
            }
        }
        out.flush()?;
    }
    tracing::info!(
        listen = %addr,
        database = %config::database_kind(&cfg.common.database_url).unwrap_or("unknown"),
        location = %config::redact_database_url(&cfg.common.database_url),
        retention_days = cfg.common.retention_days,
        "quietline serving"
    );
    if cfg.server.pow.enabled() {
        tracing::info!(
            floor = cfg.server.pow.floor,
            ceiling = cfg.server.pow.max,
            "proof of work on: difficulty starts at the floor"
        );
    } else {
        tracing::warn!("{}", pow_banner(&cfg.server.pow));
    }
    quietline::run(listener, storage, cfg.server, shutdown).await?;
    tracing::info!("quietline stopped");
    Ok(())
}

/// The startup line about proof of work; loud when it is off.
fn pow_banner(pow: &quietline::pow::PowSettings) -> String {
    if pow.enabled() {
        format!(
            "proof of work: on, {} bits (may rise to {} under pressure or above {} reports a minute); `quietline pow status` shows the current difficulty",
            pow.floor, pow.max, pow.expected_rate
        )
    } else {
        "WARNING: proof of work is OFF (--pow-difficulty 0): anyone can flood this server with reports. Use this for local development only.".to_owned()
    }
}

/// Install the SIGINT and SIGTERM handlers now (so a signal that arrives right
/// after the address is printed is not fatal) and return a future that
/// resolves on the first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}

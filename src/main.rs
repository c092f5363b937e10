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
use quietline::admin::{self, ForceCommand, KeylogCommand, PowCommand, TokenCommand};
use quietline::config::{self, CommonArgs, PurgeArgs, ServeArgs, Settings};
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
    /// Delete reports, reply slots and attachments past retention (and
    /// attachment uploads never completed or never fetched), now.
    Purge(PurgeArgs),
    /// Proof of work on submissions.
    #[command(subcommand)]
    Pow(PowCommand),
    /// The append-only key log of force key statements.
    #[command(subcommand)]
    Keylog(KeylogCommand),
    /// Check that a service serves exactly a known build of the reporter page:
    /// every file's SHA-256, the pins and GET /api/v1/assets. Exit 0 when all
    /// match, 1 when anything differs, 2 when the check could not be made.
    VerifyPage(VerifyPageArgs),
}

#[derive(clap::Args, Debug)]
struct VerifyPageArgs {
    /// The service's address, e.g. https://report.example.org
    #[arg(long)]
    url: String,
    /// Build the page from this git revision (in --repo) and compare with that,
    /// instead of the page built into this binary. Needs git, tar, node and npm.
    #[arg(long, value_name = "REV")]
    commit: Option<String>,
    /// The Quietline checkout --commit builds from (default: the current directory).
    #[arg(long, value_name = "DIR", requires = "commit")]
    repo: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    logging::install_panic_hook();
    let cli = Cli::parse();
    logging::init_logging();
    if let Command::VerifyPage(args) = &cli.command {
        return verify_page(args);
    }
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

/// `verify-page`: 0 all equal, 1 anything differs, 2 the check could not be made.
fn verify_page(args: &VerifyPageArgs) -> ExitCode {
    use quietline::verify_page as v;
    let expected = match &args.commit {
        None => v::expected_from_binary(),
        Some(rev) => match v::expected_from_commit(&v::repo_dir(args.repo.clone()), rev) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    match runtime.block_on(v::verify(&args.url, &expected, &mut out)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            let _ = out.flush();
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        // Handled in main, before this runtime (its exit codes are its own).
        Command::VerifyPage(_) => Ok(()),
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
        Command::Keylog(KeylogCommand::Show { keylog_origin }) => {
            let origin = config::resolve_keylog_origin(&cli.common, keylog_origin)?;
            let (storage, _) = open_admin(&cli.common).await?;
            let r = admin::run_keylog_show(storage.as_ref(), &origin, &mut std::io::stdout()).await;
            storage.close().await;
            r
        }
        Command::Purge(args) => {
            let cfg = config::resolve_purge(&cli.common, &args)?;
            let storage = open_storage(&cfg.common).await?;
            let r = admin::run_purge(
                storage.as_ref(),
                cfg.common.retention_days,
                cfg.unreferenced_days,
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
        attachments_max_count = cfg.server.attachments.max_count,
        attachments_max_bytes = cfg.server.attachments.max_total_bytes,
        attachments_unreferenced_days = cfg.server.attachments.unreferenced_days,
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

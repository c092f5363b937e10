//! `quietline-console desk`: starts the force desk, the team's web workspace
//! (`quietline-desk`) over this console's home and vault. It unlocks the key
//! ring once (passphrase from `--passphrase-file`, `QUIETLINE_PASSPHRASE`, or
//! a prompt), refuses to start with group- or other-readable private files,
//! binds the address, then serves until Ctrl-C or SIGTERM, pulling in the
//! background. Stopping it locks the desk: the keys leave memory.
//!
//! `--demo DIR` is for trying Quietline with `quietline serve --demo`: it
//! sets this home up from the demo directory (imports the demo force's key
//! and its signing key with the statement beside it, logs in with its token) and makes a demo supervisor account whose
//! password and authenticator secret it writes to `DIR/desk-supervisor.txt`
//! (mode 0600). It never runs for a real force's home by accident: it
//! refuses a home whose keys belong to another force.
//!
//! Rules (sessions, accounts, reading cases) are the library's; the web
//! layer is `quietline-desk`; this file only wires them and prints.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use quietline_casework::accounts;
use quietline_casework::clock::Clock;
use quietline_casework::desk::Role;
use quietline_casework::desk::access::check_private_files;
use quietline_casework::keyring::list_keys;
use quietline_desk::DeskWebSettings;

use crate::{Ctx, KeyCommand};

/// The demo supervisor's account name.
pub const DEMO_SUPERVISOR: &str = "demo-supervisor";
/// The file, in the demo directory, with its password and secret.
pub const DEMO_CREDENTIALS: &str = "desk-supervisor.txt";

/// Run the desk until shut down.
pub async fn desk(
    ctx: &Ctx,
    listen: SocketAddr,
    demo: Option<PathBuf>,
    server: Option<String>,
) -> Result<()> {
    if let Some(dir) = &demo {
        demo_setup(ctx, dir, server.as_deref()).await?;
    }
    // Before the passphrase: the files that hold or guard the keys.
    let vault_file = (!ctx.has_vault_url()).then(|| ctx.home.vault_path());
    check_private_files(
        &ctx.home,
        ctx.passphrase_file.as_deref(),
        vault_file.as_deref().filter(|p| p.exists()),
    )?;
    eprintln!("Unlocking the key ring and reading the vault…");
    let desk = ctx.desk().await?;
    let credentials = match &demo {
        Some(dir) => Some(demo_supervisor(ctx, dir).await?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (is another desk running there?)"))?;
    let addr = listener.local_addr()?;
    let force_name = ctx
        .config()?
        .force_name
        .unwrap_or_else(|| desk.force_id().to_owned());
    let accounts = accounts::list(&ctx.vault().await?, Clock::system().now_secs() as i64)
        .await?
        .len();
    println!(
        "Desk for {force_name} ({}) on http://{addr}/",
        desk.force_id()
    );
    match credentials {
        Some(file) => println!(
            "Sign in as {DEMO_SUPERVISOR}: the password and the authenticator secret are in {} (mode 0600).\nA code for now: cargo run -p quietline-console -- account code --file {}",
            file.display(),
            file.display()
        ),
        None if accounts == 0 => println!(
            "No accounts yet: add one with `quietline-console account add NAME --role supervisor` (no restart needed)."
        ),
        None => {}
    }
    println!("Pulling every 60 s in the background. Ctrl-C stops the desk and drops its keys.");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let pulling = desk.spawn_pull_loop(wait_for(stop_rx.clone()));
    let served = quietline_desk::run(
        listener,
        desk.clone(),
        DeskWebSettings::new(force_name),
        async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        },
    )
    .await;
    let _ = pulling.await;
    served.context("the desk stopped with an error")?;
    eprintln!("The desk has stopped; its keys are no longer in memory.");
    Ok(())
}

async fn wait_for(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Make this home the demo force's console, if it is not yet.
async fn demo_setup(ctx: &Ctx, dir: &Path, server: Option<&str>) -> Result<()> {
    let key = dir.join("force.key");
    if !key.is_file() {
        bail!(
            "{} has no force.key: give --demo the directory `quietline serve --demo` printed",
            dir.display()
        );
    }
    let keys = list_keys(&ctx.home.keys_dir())?;
    let demo_force = quietline_casework::keystore::read_key_info(&key)?.force_id;
    match keys.first() {
        None => {
            crate::cli::keys::key(
                ctx,
                KeyCommand::Import {
                    file: key,
                    current: false,
                },
            )
            .await?
        }
        Some((_, info)) if info.force_id != demo_force => bail!(
            "{} holds the keys of force {}, not the demo force {demo_force}: use another --home for the demo",
            ctx.home.root().display(),
            info.force_id
        ),
        Some(_) => {}
    }
    // The demo force's signing key (`serve --demo` writes it beside the key
    // file), so the demo's desk can sign a rotation's statement, and its
    // statement, so the watch checks the directory and the key log against
    // the force's own signing key from the first pull (issue 20).
    let signing = dir.join("signing.key");
    if signing.is_file()
        && quietline_casework::keyring::list_signing_keys(&ctx.home.root().join("signing"))?
            .is_empty()
    {
        crate::cli::keys::key(
            ctx,
            KeyCommand::Import {
                file: signing,
                current: false,
            },
        )
        .await?;
    }
    if ctx.config()?.server.is_none() {
        let Some(server) = server else {
            bail!(
                "this home is not logged in to a server yet: add --server URL (the address `quietline serve --demo` printed)"
            );
        };
        crate::cli::login::login(ctx, server, None, Some(dir.join("token")), false).await?;
    }
    // The demo forces' signing keys, pinned so that a transfer between them
    // verifies the other force's key statement (issue 17).
    let pins = dir.join(quietline_casework::desk::transfer::PINS_FILE);
    let home_pins = ctx
        .home
        .root()
        .join(quietline_casework::desk::transfer::PINS_FILE);
    if pins.is_file() && !home_pins.exists() {
        std::fs::copy(&pins, &home_pins)
            .with_context(|| format!("cannot copy {} into the home", pins.display()))?;
    }
    Ok(())
}

/// The demo supervisor: made once, enrolled, its password and secret written
/// to `DIR/desk-supervisor.txt` (0600, never overwritten). Returns the file.
async fn demo_supervisor(ctx: &Ctx, dir: &Path) -> Result<PathBuf> {
    let file = dir.join(DEMO_CREDENTIALS);
    let vault = ctx.vault().await?;
    if vault.account(DEMO_SUPERVISOR).await?.is_some() {
        if file.is_file() {
            return Ok(file);
        }
        bail!(
            "the demo supervisor account exists but {} is gone: run `quietline-console account reset {DEMO_SUPERVISOR}` for a new one-time password",
            file.display()
        );
    }
    let config = ctx.config()?;
    let keys = list_keys(&ctx.home.keys_dir())?;
    let (_, info) = keys
        .iter()
        .find(|(_, i)| Some(i.key_id.to_hex()) == config.current_key)
        .or_else(|| keys.last())
        .context("the key ring is empty")?;
    let password = accounts::one_time_password();
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
        .with_context(|| format!("cannot create {}", file.display()))?;
    let secret = accounts::add_enrolled(
        &vault,
        &ctx.actor,
        &info.force_id,
        &info.public_key,
        DEMO_SUPERVISOR,
        Role::Supervisor,
        &password,
        &Clock::system().today(),
    )
    .await?;
    let text = zeroize::Zeroizing::new(format!(
        "# The demo desk's supervisor account (made by `quietline-console desk --demo`).\n\
         # Sign in with the account and password, then a code from an authenticator\n\
         # app holding the secret (or: cargo run -p quietline-console -- account code --file THIS_FILE).\n\
         account: {DEMO_SUPERVISOR}\n\
         password: {}\n\
         totp-secret: {}\n\
         otpauth: otpauth://totp/Quietline%20desk:{DEMO_SUPERVISOR}?secret={}&issuer=Quietline%20desk&algorithm=SHA1&digits=6&period=30\n",
        password.as_str(),
        secret.as_str(),
        secret.as_str(),
    ));
    out.write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(file)
}

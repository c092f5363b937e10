//! `login`: remember the server and the handler token, checked against the
//! server (and its directory against the key ring, when there is one).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use quietline_casework::client::Client;
use quietline_casework::desk::pull::{DirectoryRefusal, check_directory_with};
use quietline_casework::keyring::list_keys;
use quietline_casework::watch::{self, KeyAlarm};
use zeroize::Zeroizing;

use crate::Ctx;

/// [`check_directory`] for the commands that run before (or without) a
/// desk: on a key substitution or a key alarm (a statement the force did
/// not sign), an audit entry, then the error (exit code 3). Prints the
/// directory's warning, if any.
/// Returns the warning it printed.
pub async fn directory_first(ctx: &Ctx, client: &Client) -> Result<Option<String>> {
    let mut config = ctx.config()?;
    let before = config.clone();
    let checked = check_directory_with(&ctx.home, client, &mut config).await;
    if checked.is_ok() && config != before {
        ctx.home.save_config(&config)?;
    }
    directory_outcome(ctx, checked).await
}

async fn directory_outcome(
    ctx: &Ctx,
    checked: Result<Option<String>, DirectoryRefusal>,
) -> Result<Option<String>> {
    match checked {
        Ok(Some(warning)) => {
            eprintln!("warning: {warning}");
            Ok(Some(warning))
        }
        Ok(None) => Ok(None),
        Err(DirectoryRefusal::Other(e)) => Err(crate::desk_error(e)),
        // Both: the audit entry, and the alarm raised in the vault (the
        // desk's banner shows it until a supervisor acknowledges it).
        Err(DirectoryRefusal::Substitution(s)) => {
            let alarm = KeyAlarm::from(&*s);
            sound(ctx, "key-mismatch", &alarm).await?;
            Err((*s).into())
        }
        Err(DirectoryRefusal::Alarm(a)) => {
            sound(ctx, watch::AUDIT_ALARM, &a).await?;
            Err((*a).into())
        }
    }
}

async fn sound(ctx: &Ctx, action: &str, alarm: &KeyAlarm) -> Result<()> {
    let vault = ctx.vault().await?;
    let active = alarm.active(quietline_casework::clock::Clock::system().now_rfc3339());
    watch::sound(&vault, &ctx.actor, action, &active, false)
        .await
        .context("cannot write the audit log")?;
    Ok(())
}

pub async fn login(
    ctx: &Ctx,
    server: &str,
    token: Option<String>,
    token_file: Option<PathBuf>,
    offline: bool,
) -> Result<()> {
    let token = token.map(Zeroizing::new);
    let mut config = ctx.config()?;
    config.server = Some(server.trim().trim_end_matches('/').to_owned());
    match (&token, &token_file) {
        (Some(t), None) => {
            config.token = Some(t.as_str().to_owned());
            config.token_file = None;
        }
        (None, Some(f)) => {
            let abs = std::path::absolute(f)
                .with_context(|| format!("cannot resolve {}", f.display()))?;
            config.token = None;
            config.token_file = Some(abs);
        }
        (None, None) => bail!("give the handler token with --token-file FILE (or --token TOKEN)"),
        (Some(_), Some(_)) => bail!("give either --token or --token-file, not both"),
    }
    // Checks the token file's mode and contents even when offline.
    let token = config.token()?;
    let client = Client::new(config.server()?, Some(&token))?;
    let server = client.base().to_owned();
    if !server.to_ascii_lowercase().starts_with("https://") && !is_loopback(&server) {
        eprintln!("warning: {server} is not https: the handler token would travel unencrypted");
    }
    if !offline {
        client.inbox(None, 1).await?;
        // With a key ring, the directory must serve its current key; without
        // one (logging in before `key import`), there is nothing to compare yet.
        if !list_keys(&ctx.home.keys_dir())?.is_empty() {
            let checked = check_directory_with(&ctx.home, &client, &mut config).await;
            directory_outcome(ctx, checked).await?;
        }
    }
    ctx.home.create()?;
    ctx.home.save_config(&config)?;
    if offline {
        println!("Saved server {server} (not contacted).");
    } else {
        println!("Logged in to {server}: the token is accepted.");
    }
    Ok(())
}

fn is_loopback(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("");
    host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")
}

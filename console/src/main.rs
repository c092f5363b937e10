//! `quietline-console`: command-line entry point. It owns parsing arguments,
//! asking for the passphrase, the order of steps in each command (notably:
//! the audit entry is written BEFORE anything decrypted is shown) and
//! printing. Everything else is in the library (`quietline_casework::…`).
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use futures_util::TryStreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use quietline_casework::audit::{self, Actor};
use quietline_casework::client::{Client, WaitPolicy};
use quietline_casework::directory::{self, KeySubstitution, Served};
use quietline_casework::export::{self, Format};
use quietline_casework::home::{Config, Home};
use quietline_casework::keyring::{self, KeyRing, key_path, list_keys};
use quietline_casework::keystore::read_key_info;
use quietline_casework::records::{self, Record, RecordBody, Status};
use quietline_casework::render::{self, ListRow};
use quietline_casework::reply::{self, Outgoing};
use quietline_casework::text::clean_line;
use quietline_casework::thread;
use quietline_casework::vault::Vault;
use quietline_casework::{pull, text};
use quietline_crypto::keys::{PublicKey, Suite};
use zeroize::Zeroizing;

mod cli {
    //! The subcommands that live in their own files.
    pub mod account;
}

/// The Quietline decryption console: holds a force's private keys, pulls its
/// sealed reports, opens them, replies, and keeps an audit trail of every look.
#[derive(Parser)]
#[command(name = "quietline-console", version, about, propagate_version = true)]
struct Cli {
    /// The console's home directory: config.toml, keys/, vault.sqlite
    /// [default: $XDG_DATA_HOME/quietline-console or ~/.local/share/quietline-console]
    #[arg(
        long,
        global = true,
        env = "QUIETLINE_CONSOLE_HOME",
        hide_env_values = true,
        value_name = "DIR"
    )]
    home: Option<PathBuf>,
    /// Read the key ring's passphrase from this file instead of asking (automation)
    #[arg(
        long,
        global = true,
        env = "QUIETLINE_PASSPHRASE_FILE",
        hide_env_values = true,
        value_name = "FILE"
    )]
    passphrase_file: Option<PathBuf>,
    /// Your name as a handler, recorded in the audit log beside the OS user
    #[arg(
        long,
        global = true,
        env = "QUIETLINE_HANDLER",
        hide_env_values = true,
        value_name = "NAME"
    )]
    handler: Option<String>,
    /// Use this vault instead of the home's vault.sqlite: a PostgreSQL URL
    /// (postgres://USER[:PASSWORD]@HOST/DB, shared with desks and other
    /// consoles) or a vault file's path. Keys and config still come from --home
    #[arg(
        long,
        global = true,
        env = "QUIETLINE_VAULT_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    vault_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the force's first key pair in this home and print the command
    /// that registers its public key on the platform
    Init {
        /// Force id, as registered on the platform (a-z, 0-9, -)
        #[arg(long)]
        force: String,
        /// The key's suite: `xwing` (X-Wing, the post-quantum hybrid) or
        /// `x25519` (crypto/FORMAT.md#suite)
        #[arg(long, default_value = "xwing", value_parser = parse_suite, value_name = "SUITE")]
        suite: Suite,
    },
    /// Manage the key ring (rotate, list, import, info)
    #[command(subcommand)]
    Key(KeyCommand),
    /// Remember the server and the handler token (checked against the server)
    Login {
        /// The server's base URL, e.g. https://quietline.example
        #[arg(
            long,
            env = "QUIETLINE_SERVER",
            hide_env_values = true,
            value_name = "URL"
        )]
        server: String,
        /// The handler token (prefer --token-file: a command line is visible to other users)
        #[arg(
            long,
            env = "QUIETLINE_TOKEN",
            hide_env_values = true,
            value_name = "TOKEN",
            conflicts_with = "token_file"
        )]
        token: Option<String>,
        /// A file holding the handler token (mode 0600); read on every use
        #[arg(
            long,
            env = "QUIETLINE_TOKEN_FILE",
            hide_env_values = true,
            value_name = "FILE"
        )]
        token_file: Option<PathBuf>,
        /// Save without contacting the server
        #[arg(long)]
        offline: bool,
    },
    /// Fetch every envelope the server holds for this force that the vault lacks
    Pull {
        /// While the server is unavailable (503, refused connection), wait up to
        /// this many seconds in all before giving up (each wait at most 30 s)
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        max_wait: u64,
    },
    /// A table of reports: received day, category, place, first words, thread, status
    List {
        /// Only reports with this status
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// Only reports received on or after this day (YYYY-MM-DD)
        #[arg(long, value_name = "DAY")]
        since: Option<String>,
        /// Only reports whose category, place or text contains this (any case)
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Only envelopes that cannot be opened (tampered, other force, unknown key…)
        #[arg(long)]
        flagged: bool,
    },
    /// Decrypt and show a report and its whole thread (recorded in the audit log)
    Show {
        /// Report id, or an unambiguous prefix of it (at least 4 hex digits)
        id: String,
    },
    /// Reply to the reporter through the thread's next free one-time slot
    Reply {
        /// Report id or prefix
        id: String,
        /// The reply; without it, $VISUAL or $EDITOR opens to write it
        #[arg(long, short)]
        message: Option<String>,
        /// Language tag of the reply (BCP 47)
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Set a report's handling status (stored sealed in the vault)
    Status {
        /// Report id or prefix
        id: String,
        /// The new status
        #[arg(value_enum)]
        status: Status,
    },
    /// Add a note to a report (stored sealed in the vault)
    Note {
        /// Report id or prefix
        id: String,
        /// The note (several words are joined with spaces)
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Export a report, its thread, status and notes for the records system
    Export {
        /// Report id or prefix
        id: String,
        /// Output format
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Write to this file (created with mode 0600, never overwritten) instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the audit log, or check it with `audit verify`
    Audit {
        #[command(subcommand)]
        command: Option<AuditCommand>,
    },
    /// Manage the desk's accounts (add, list, disable, reset); no passphrase needed
    #[command(subcommand)]
    Account(cli::account::AccountCommand),
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Make a new current key (same passphrase); old keys stay and still decrypt
    Rotate {
        /// The new key's suite: `xwing` (the post-quantum hybrid) or `x25519`
        #[arg(long, default_value = "xwing", value_parser = parse_suite, value_name = "SUITE")]
        suite: Suite,
    },
    /// List the keys in the ring (no passphrase needed)
    List,
    /// Copy a key file made elsewhere (e.g. by `quietline serve --demo`) into the ring
    Import {
        /// The key file; it must open with the ring's passphrase
        file: PathBuf,
        /// Make it the current key even if the ring already has one
        #[arg(long)]
        current: bool,
    },
    /// Print a key file's force, public key and key id (no passphrase needed)
    Info {
        /// The key file
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain: detects edited, removed and reordered entries
    Verify {
        /// A head hash printed earlier and kept elsewhere: it must still be in the chain
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
}

/// Everything a command needs from the global options.
struct Ctx {
    home: Home,
    passphrase_file: Option<PathBuf>,
    actor: Actor,
    /// `--vault-url` (may hold a password: never printed).
    vault_url: Option<Zeroizing<String>>,
    vault: std::sync::Mutex<Option<Vault>>,
}

impl Ctx {
    /// The passphrase, from the file or asked without echo.
    fn passphrase(&self, confirm: bool) -> Result<Zeroizing<String>> {
        if let Some(f) = &self.passphrase_file {
            let text = Zeroizing::new(
                std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read passphrase file {}", f.display()))?,
            );
            let line = Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string());
            if line.is_empty() {
                bail!("passphrase file {} is empty", f.display());
            }
            return Ok(line);
        }
        let ask = |prompt: &str| {
            rpassword::prompt_password(prompt)
                .map(Zeroizing::new)
                .map_err(|e| anyhow!("cannot ask for the passphrase ({e}): use --passphrase-file FILE or QUIETLINE_PASSPHRASE_FILE"))
        };
        let first = ask("Passphrase for the key ring: ")?;
        if confirm {
            if first.chars().count() < 12 {
                bail!(
                    "the passphrase is too short: use at least 12 characters (several words is best)"
                );
            }
            let second = ask("Same passphrase again: ")?;
            if *first != *second {
                bail!("the two passphrases differ; nothing was written");
            }
        }
        Ok(first)
    }

    fn config(&self) -> Result<Config> {
        Ok(self.home.load_config()?)
    }

    /// Unlock the whole key ring with one passphrase.
    fn unlock(&self, config: &Config) -> Result<KeyRing> {
        let dir = self.home.keys_dir();
        // Fail on an empty ring before asking for a passphrase.
        if list_keys(&dir)?.is_empty() {
            return Err(keyring::KeyRingError::Empty(dir).into());
        }
        let pass = self.passphrase(false)?;
        Ok(KeyRing::unlock(
            &dir,
            config.current_key.as_deref(),
            pass.as_bytes(),
        )?)
    }

    /// The vault, opened once per command (closed by [`Ctx::close`]).
    async fn vault(&self) -> Result<Vault> {
        if let Some(v) = self
            .vault
            .lock()
            .map_err(|_| anyhow!("vault lock poisoned"))?
            .clone()
        {
            return Ok(v);
        }
        if !self.home.exists() {
            bail!(
                "{} is not a console home yet: run `quietline-console init --force ID` or `quietline-console key import FILE` first",
                self.home.root().display()
            );
        }
        let v = match &self.vault_url {
            Some(url) => Vault::connect(url).await?,
            None => Vault::open(&self.home.vault_path()).await?,
        };
        if let Ok(mut slot) = self.vault.lock() {
            *slot = Some(v.clone());
        }
        Ok(v)
    }

    /// Close the vault if a command opened it: SQLite checkpoints the WAL
    /// into the main file when the last connection closes.
    async fn close(&self) {
        let v = self.vault.lock().ok().and_then(|mut slot| slot.take());
        if let Some(v) = v {
            v.close().await;
        }
    }

    fn client(&self, config: &Config) -> Result<Client> {
        let token = config.token()?;
        Ok(Client::new(config.server()?, Some(&token))?)
    }

    async fn audit(
        &self,
        vault: &Vault,
        action: &str,
        report: Option<&str>,
        detail: Option<String>,
    ) -> Result<()> {
        audit::record(vault, &self.actor, action, report, detail)
            .await
            .context("cannot write the audit log; nothing was shown")?;
        Ok(())
    }
}

/// Today's UTC date, `YYYY-MM-DD`: a key file's creation day.
fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The force id and current public key, from the key files' headers (no passphrase).
fn current_public(home: &Home, config: &Config) -> Result<(String, PublicKey)> {
    let keys = list_keys(&home.keys_dir())?;
    let wanted = config.current_key.as_deref();
    let (_, info) = keys
        .iter()
        .find(|(_, i)| Some(i.key_id.to_hex().as_str()) == wanted)
        .or_else(|| keys.last())
        .ok_or_else(|| keyring::KeyRingError::Empty(home.keys_dir()))?;
    Ok((info.force_id.clone(), info.public_key.clone()))
}

/// Read the server's directory and check that it serves this console's
/// current key for its force (see `quietline_casework::directory`). On a
/// substitution: an audit entry, then the error (exit code 3). Updates the
/// force's display name and ends a pending rotation in `config`; returns
/// whether `config` changed (the caller saves it).
async fn check_directory(ctx: &Ctx, client: &Client, config: &mut Config) -> Result<bool> {
    let (force, current) = current_public(&ctx.home, config)?;
    let previous = match &config.previous_key {
        Some(id) => list_keys(&ctx.home.keys_dir())?
            .into_iter()
            .find(|(_, i)| i.key_id.to_hex() == *id)
            .map(|(_, i)| i.public_key),
        None => None,
    };
    let entries = client.forces().await?;
    let before = config.clone();
    match directory::check(client.base(), &entries, &force, &current, previous.as_ref()) {
        Ok(Served::Current(e)) => {
            config.previous_key = None;
            config.force_name = Some(clean_line(&e.name, 100));
        }
        Ok(Served::Previous(e)) => {
            eprintln!(
                "warning: the server still publishes key {} for force {force}, the key before this console's current key {}: reports are still sealed to the old key (this console can read them). Ask the platform operator to register the new key:\n  {}",
                clean_line(&e.key_id, 16),
                current.key_id(),
                operator_command(&force, &current)
            );
            config.force_name = Some(clean_line(&e.name, 100));
        }
        Err(substitution) => {
            let vault = ctx.vault().await?;
            ctx.audit(
                &vault,
                "key-mismatch",
                None,
                Some(substitution.audit_detail()),
            )
            .await?;
            return Err((*substitution).into());
        }
    }
    Ok(*config != before)
}

fn operator_command(force: &str, pk: &PublicKey) -> String {
    format!(
        "quietline force key add {force} --public-key {}",
        pk.to_base64url()
    )
}

fn print_new_key(path: &Path, force: &str, pk: &PublicKey) {
    println!(
        "Wrote {} (mode 0600). Keep it and its passphrase inside the force.",
        path.display()
    );
    println!("public key: {}", pk.to_base64url());
    println!("key id:     {}", pk.key_id());
    println!("suite:      {}", pk.suite());
    println!(
        "\nThe platform operator registers it with:\n  {}",
        operator_command(force, pk)
    );
}

/// Exit code when the server's directory does not serve this console's current
/// key for its force (key substitution); 1 is every other error, 2 a usage error.
const EXIT_KEY_SUBSTITUTION: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
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
        Ok(code) => code,
        Err(e) if e.downcast_ref::<KeySubstitution>().is_some() => {
            eprintln!("error: {}", text::clean(&format!("{e:#}")));
            ExitCode::from(EXIT_KEY_SUBSTITUTION)
        }
        Err(e) => {
            // Errors can carry a server's words (already cleaned where they
            // are read) and OS messages: cleaned once more, whole.
            eprintln!("error: {}", text::clean(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Ctx {
        home: Home::locate(cli.home)?,
        passphrase_file: cli.passphrase_file,
        actor: Actor::current(cli.handler),
        vault_url: cli.vault_url.map(Zeroizing::new),
        vault: std::sync::Mutex::new(None),
    };
    let result = dispatch(&ctx, cli.command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Ctx, command: Command) -> Result<ExitCode> {
    match command {
        Command::Init { force, suite } => init(ctx, &force, suite).await?,
        Command::Key(k) => key(ctx, k).await?,
        Command::Login {
            server,
            token,
            token_file,
            offline,
        } => login(ctx, &server, token, token_file, offline).await?,
        Command::Pull { max_wait } => pull_cmd(ctx, max_wait).await?,
        Command::List {
            status,
            since,
            search,
            flagged,
        } => list(ctx, status, since, search, flagged).await?,
        Command::Show { id } => show(ctx, &id).await?,
        Command::Reply { id, message, lang } => reply_cmd(ctx, &id, message, &lang).await?,
        Command::Status { id, status } => {
            let config = ctx.config()?;
            let vault = ctx.vault().await?;
            let id = vault.resolve(&id).await?;
            add_record(ctx, &config, &vault, &id, RecordBody::Status { status }).await?;
            ctx.audit(&vault, "status", Some(&id), None).await?;
            println!("Report {} is now {status}.", render::short(&id));
        }
        Command::Note { id, text } => {
            let config = ctx.config()?;
            let vault = ctx.vault().await?;
            let id = vault.resolve(&id).await?;
            let text = text.join(" ");
            if text.trim().is_empty() {
                bail!("the note is empty; nothing was written");
            }
            add_record(ctx, &config, &vault, &id, RecordBody::Note { text }).await?;
            ctx.audit(&vault, "note", Some(&id), None).await?;
            println!("Note added to report {}.", render::short(&id));
        }
        Command::Export { id, format, output } => export_cmd(ctx, &id, format, output).await?,
        Command::Audit { command } => return audit_cmd(ctx, command).await,
        Command::Account(command) => {
            cli::account::run(&ctx.vault().await?, &ctx.actor, command).await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn add_record(
    ctx: &Ctx,
    config: &Config,
    vault: &Vault,
    id: &str,
    body: RecordBody,
) -> Result<()> {
    let (force, pk) = current_public(&ctx.home, config)?;
    let record = Record {
        v: records::RECORD_VERSION,
        report: id.to_owned(),
        at: audit::now_rfc3339(),
        by: ctx.actor.display(),
        body,
    };
    records::add(vault, &force, &pk, &record).await?;
    Ok(())
}

/// `--suite`: a suite's name as FORMAT.md#suite spells it.
fn parse_suite(name: &str) -> Result<Suite, String> {
    Suite::from_name(name).ok_or_else(|| {
        format!("unknown suite {name:?}: use `xwing` (post-quantum hybrid) or `x25519`")
    })
}

async fn init(ctx: &Ctx, force: &str, suite: Suite) -> Result<()> {
    if !quietline_crypto::envelope::is_valid_force_id(force) {
        bail!("force id {force:?} is not 1 to 64 characters of a-z, 0-9 and -");
    }
    let existing = list_keys(&ctx.home.keys_dir())?;
    if let Some((_, info)) = existing.first() {
        bail!(
            "{} already has a key ring ({} key(s) of force {}); use `quietline-console key rotate` for a new key",
            ctx.home.root().display(),
            existing.len(),
            info.force_id
        );
    }
    let mut config = ctx.config()?;
    let pass = ctx.passphrase(true)?;
    ctx.home.create()?;
    let pk = keyring::create_key(
        &ctx.home.keys_dir(),
        force,
        &today(),
        pass.as_bytes(),
        suite,
    )?;
    drop(pass);
    config.force = Some(force.to_owned());
    config.current_key = Some(pk.key_id().to_hex());
    ctx.home.save_config(&config)?;
    let vault = ctx.vault().await?;
    ctx.audit(&vault, "init", None, Some(format!("key {}", pk.key_id())))
        .await?;
    print_new_key(&key_path(&ctx.home.keys_dir(), pk.key_id()), force, &pk);
    Ok(())
}

async fn key(ctx: &Ctx, cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::List => {
            let config = ctx.config()?;
            let keys = list_keys(&ctx.home.keys_dir())?;
            if keys.is_empty() {
                println!(
                    "The key ring in {} is empty.",
                    ctx.home.keys_dir().display()
                );
                return Ok(());
            }
            let current = config
                .current_key
                .clone()
                .or_else(|| keys.last().map(|(_, i)| i.key_id.to_hex()));
            println!(
                "{:<16}  {:<10}  {:<12}  {:<7}  PUBLIC KEY",
                "KEY ID", "CREATED", "FORCE", "CURRENT"
            );
            for (_, i) in &keys {
                let cur = if Some(i.key_id.to_hex()) == current {
                    "yes"
                } else {
                    ""
                };
                println!(
                    "{:<16}  {:<10}  {:<12}  {:<7}  {}",
                    i.key_id,
                    i.created,
                    i.force_id,
                    cur,
                    i.public_key.to_base64url()
                );
            }
        }
        KeyCommand::Info { file } => {
            let info = read_key_info(&file)?;
            println!(
                "force:      {}\ncreated:    {}\npublic key: {}\nkey id:     {}\nsuite:      {}",
                info.force_id,
                info.created,
                info.public_key.to_base64url(),
                info.key_id,
                info.public_key.suite()
            );
        }
        KeyCommand::Import { file, current } => {
            let mut config = ctx.config()?;
            ctx.home.create()?;
            let dir = ctx.home.keys_dir();
            let pass = ctx.passphrase(false)?;
            let force = if list_keys(&dir)?.is_empty() {
                config.force.clone()
            } else {
                // Every key in the ring shares one passphrase: the ring must open with it too.
                let ring = KeyRing::unlock(&dir, config.current_key.as_deref(), pass.as_bytes())
                    .context("the passphrase that opens the new key file must also open the existing key ring")?;
                Some(ring.force_id().to_owned())
            };
            let info = keyring::import_key(&dir, &file, pass.as_bytes(), force.as_deref())?;
            drop(pass);
            config.force = Some(info.force_id.clone());
            let make_current = current || config.current_key.is_none();
            if make_current && let Some(old) = config.current_key.replace(info.key_id.to_hex()) {
                config.previous_key = Some(old);
            }
            ctx.home.save_config(&config)?;
            let vault = ctx.vault().await?;
            ctx.audit(
                &vault,
                "key-import",
                None,
                Some(format!("key {}", info.key_id)),
            )
            .await?;
            println!(
                "Imported key {} (force {}, created {}) into {}{}.",
                info.key_id,
                info.force_id,
                info.created,
                dir.display(),
                if make_current {
                    "; it is the current key"
                } else {
                    ""
                }
            );
        }
        KeyCommand::Rotate { suite } => {
            let mut config = ctx.config()?;
            let dir = ctx.home.keys_dir();
            if list_keys(&dir)?.is_empty() {
                return Err(keyring::KeyRingError::Empty(dir).into());
            }
            let pass = ctx.passphrase(false)?;
            let ring = KeyRing::unlock(&dir, config.current_key.as_deref(), pass.as_bytes())?;
            let old = ring.current_key_id();
            let force = ring.force_id().to_owned();
            drop(ring);
            let pk = keyring::create_key(&dir, &force, &today(), pass.as_bytes(), suite)?;
            drop(pass);
            config.current_key = Some(pk.key_id().to_hex());
            // Until the operator registers the new key, the directory still
            // serves this one: not a substitution (see `directory`).
            config.previous_key = Some(old.to_hex());
            ctx.home.save_config(&config)?;
            let vault = ctx.vault().await?;
            ctx.audit(
                &vault,
                "key-rotate",
                None,
                Some(format!("key {} replaces {old}", pk.key_id())),
            )
            .await?;
            print_new_key(&key_path(&dir, pk.key_id()), &force, &pk);
            println!(
                "\nKey {old} stays in the ring and still opens what was sealed to it. Once the new key is registered and\nevery reporter page has the new directory, the operator can retire the old one:\n  quietline force key retire {force} --key-id {old}"
            );
        }
    }
    Ok(())
}

async fn login(
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
            check_directory(ctx, &client, &mut config).await?;
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

async fn pull_cmd(ctx: &Ctx, max_wait: u64) -> Result<()> {
    let mut config = ctx.config()?;
    // Hidden until the passphrase has been asked (a spinner would draw over the prompt).
    let progress = ProgressBar::hidden();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        progress.set_style(style);
    }
    // A server that is unavailable (restarting, its storage down) is waited
    // for, one line per wait; what was already stored stays stored.
    let notice_bar = progress.clone();
    let client = ctx.client(&config)?.with_waiting(
        WaitPolicy {
            max_total: std::time::Duration::from_secs(max_wait),
            max_each: quietline_casework::client::MAX_WAIT_EACH,
        },
        Box::new(move |line| notice_bar.suspend(|| eprintln!("{line}"))),
    );
    // Before anything else (and before the passphrase): the directory must
    // serve this console's key.
    if check_directory(ctx, &client, &mut config).await? {
        ctx.home.save_config(&config)?;
    }
    let ring = ctx.unlock(&config)?;
    let vault = ctx.vault().await?;
    if std::io::stderr().is_terminal() {
        progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        progress.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    let result = pull::pull(&client, &vault, &ring, &progress).await;
    progress.finish_and_clear();
    let s = result?;
    let detail = format!(
        "listed={} new={} flagged={} refused={}",
        s.listed,
        s.new,
        s.flagged_total(),
        s.refused
    );
    ctx.audit(&vault, "pull", None, Some(detail)).await?;
    let (total, _) = vault.counts().await?;
    println!(
        "Pulled {} new envelope(s): {} opened, {} flagged; {} already in the vault; {} refused. The vault holds {total}.",
        s.new,
        s.opened,
        s.flagged_total(),
        s.already,
        s.refused
    );
    if s.flagged_total() > 0 {
        let by: Vec<String> = s.flagged.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!(
            "Flagged (kept sealed in the vault, not readable): {}",
            by.join(", ")
        );
        for (id, why) in &s.flagged_examples {
            println!("  {}  {}", render::short(id), why);
        }
    }
    if s.refused > 0 {
        println!("Refused (not stored):");
        for (id, why) in &s.refused_examples {
            println!("  {id}  {why}");
        }
    }
    Ok(())
}

async fn list(
    ctx: &Ctx,
    status: Option<Status>,
    since: Option<String>,
    search: Option<String>,
    flagged: bool,
) -> Result<()> {
    if let Some(s) = &since
        && !quietline_casework::client::is_day(s)
    {
        bail!("--since takes a day as YYYY-MM-DD, not {s:?}");
    }
    let config = ctx.config()?;
    let ring = ctx.unlock(&config)?;
    let vault = ctx.vault().await?;
    let needle = search.map(|s| s.to_lowercase());
    // Opening is what `list` does; record it first.
    ctx.audit(&vault, "list", None, None).await?;
    let statuses = thread::latest_statuses(&vault, &ring).await?;
    let mut rows = vault.envelopes();
    let (mut shown, mut total, mut flagged_count) = (0u64, 0u64, 0u64);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", render::list_header())?;
    while let Some(e) = rows.try_next().await? {
        total += 1;
        if since.as_deref().is_some_and(|s| e.day.as_str() < s) {
            continue;
        }
        // A replay is flagged by the vault, not by the key ring: keep its flag.
        let opened = match &e.flag {
            Some((code, detail)) if code == thread::DUPLICATE => {
                Err((code.clone(), detail.clone()))
            }
            _ => thread::open_message(&ring, &e).map_err(|f| (f.code().to_owned(), f.to_string())),
        };
        let row = match opened {
            Ok(m) => {
                if flagged {
                    continue;
                }
                let st = statuses.get(&m.id).copied().unwrap_or(Status::New);
                if status.is_some_and(|want| want != st) {
                    continue;
                }
                ListRow::from_message(&m, st)
            }
            Err((code, detail)) => {
                flagged_count += 1;
                if status.is_some() {
                    continue;
                }
                let category = if code == thread::DUPLICATE {
                    "DUPLICATE"
                } else {
                    "UNREADABLE"
                };
                ListRow {
                    id: e.id.clone(),
                    day: e.day.clone(),
                    category: category.into(),
                    place: code,
                    words: detail,
                    thread: "-".into(),
                    status: "-".into(),
                }
            }
        };
        if needle.as_deref().is_some_and(|n| !row.matches(n)) {
            continue;
        }
        shown += 1;
        writeln!(out, "{}", render::list_line(&row))?;
    }
    writeln!(
        out,
        "{shown} shown of {total} in the vault ({flagged_count} flagged)."
    )?;
    Ok(())
}

async fn show(ctx: &Ctx, id: &str) -> Result<()> {
    let config = ctx.config()?;
    let vault = ctx.vault().await?;
    let id = vault.resolve(id).await?;
    let ring = ctx.unlock(&config)?;
    ctx.audit(&vault, "show", Some(&id), None).await?;
    let t = thread::load(&vault, &ring, &id).await?;
    if let Some((code, detail)) = vault.envelope(&id).await?.and_then(|e| e.flag)
        && code == thread::DUPLICATE
    {
        eprintln!("warning: {detail}");
    }
    print!("{}", render::show(&t, ring.force_id()));
    Ok(())
}

async fn reply_cmd(ctx: &Ctx, id: &str, message: Option<String>, lang: &str) -> Result<()> {
    let mut config = ctx.config()?;
    let client = ctx.client(&config)?;
    // The directory gives the force's name for `from`, and must serve our key.
    if check_directory(ctx, &client, &mut config).await? {
        ctx.home.save_config(&config)?;
    }
    let vault = ctx.vault().await?;
    let id = vault.resolve(id).await?;
    let ring = ctx.unlock(&config)?;
    // Reading the thread (to find its slots) decrypts it.
    ctx.audit(&vault, "show", Some(&id), Some("to reply".into()))
        .await?;
    let t = thread::load(&vault, &ring, &id).await?;
    let message = match message {
        Some(m) => Zeroizing::new(m),
        None => compose_in_editor(&ctx.home, &id)?,
    };
    let from = config
        .force_name
        .clone()
        .unwrap_or_else(|| ring.force_id().to_owned());
    let at = audit::now_rfc3339();
    let by = ctx.actor.display();
    let sent = reply::send(
        &client,
        &vault,
        &ring,
        &t,
        &Outgoing {
            from: &from,
            message: &message,
            lang,
            sent_at: &at,
            by: &by,
        },
    )
    .await?;
    ctx.audit(
        &vault,
        "reply",
        Some(&id),
        Some(format!("slot {}", sent.slot)),
    )
    .await?;
    for s in &sent.skipped {
        eprintln!(
            "note: reply slot {s} was already taken (409: another handler may have replied); moved on"
        );
    }
    println!(
        "Reply sent to slot {} of thread {} (report {}).",
        sent.slot,
        render::short_thread(t.focus.thread_id),
        render::short(&id)
    );
    Ok(())
}

/// Write a reply in `$VISUAL`/`$EDITOR` (default `vi`) in a 0600 file inside
/// the home, which is overwritten and removed afterwards.
fn compose_in_editor(home: &Home, id: &str) -> Result<Zeroizing<String>> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| anyhow!("random: {e}"))?;
    let path = home.root().join(format!("reply-{}.txt", hex::encode(rnd)));
    let template = format!(
        "\n# Write the reply to the reporter of report {} above this line.\n# Lines starting with # are removed. An empty reply sends nothing.\n",
        render::short(id)
    );
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(template.as_bytes()))
        .with_context(|| format!("cannot create {}", path.display()))?;
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(&path)
        .status();
    let text = std::fs::read_to_string(&path).map(Zeroizing::new);
    // Overwrite before removing: the draft is plaintext.
    if let Ok(meta) = std::fs::metadata(&path) {
        let _ = std::fs::write(&path, vec![0u8; meta.len() as usize]);
    }
    let _ = std::fs::remove_file(&path);
    let status =
        status.with_context(|| format!("cannot run the editor {program:?} (set $EDITOR)"))?;
    if !status.success() {
        bail!("the editor exited with {status}; nothing was sent");
    }
    let text = text.context("cannot read the reply back")?;
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    Ok(Zeroizing::new(body.join("\n").trim().to_owned()))
}

async fn export_cmd(ctx: &Ctx, id: &str, format: Format, output: Option<PathBuf>) -> Result<()> {
    let config = ctx.config()?;
    let vault = ctx.vault().await?;
    let id = vault.resolve(id).await?;
    let ring = ctx.unlock(&config)?;
    let fmt = match format {
        Format::Json => "json",
        Format::Html => "html",
    };
    // The output file comes first: one that exists (never overwritten) or
    // cannot be created refuses the export before anything is decrypted, so
    // nothing was revealed and the audit log records nothing.
    let file = match &output {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| {
                    format!(
                        "cannot create {} (an existing file is never overwritten); nothing was exported",
                        path.display()
                    )
                })?,
        ),
        None => None,
    };
    let remove_partial = || {
        if let Some(path) = &output {
            let _ = std::fs::remove_file(path);
        }
    };
    // Audit before reveal…
    if let Err(e) = ctx
        .audit(&vault, "export", Some(&id), Some(fmt.into()))
        .await
    {
        remove_partial();
        return Err(e);
    }
    let result: Result<()> = async {
        let t = thread::load(&vault, &ring, &id).await?;
        let at = audit::now_rfc3339();
        let by = ctx.actor.display();
        let text = Zeroizing::new(match format {
            Format::Json => export::json_text(&export::to_json(&t, ring.force_id(), &at, &by)),
            Format::Html => export::to_html(&t, ring.force_id(), &at, &by),
        });
        match (file, &output) {
            (Some(mut f), Some(path)) => {
                f.write_all(text.as_bytes())
                    .and_then(|()| f.sync_all())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!(
                    "Exported report {} to {} (mode 0600).",
                    render::short(&id),
                    path.display()
                );
            }
            _ => std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .context("cannot write the export to standard output")?,
        }
        Ok(())
    }
    .await;
    // …and an entry written before the attempt is followed by one that says
    // it failed (the reason is the console's own words: flags and refusals
    // never quote a report).
    if let Err(e) = result {
        remove_partial();
        let reason = clean_line(&format!("{e:#}"), 300);
        ctx.audit(
            &vault,
            "export-failed",
            Some(&id),
            Some(format!("{fmt}: {reason}")),
        )
        .await
        .context("the export failed, and the audit log could not record that it failed")?;
        return Err(e);
    }
    Ok(())
}

async fn audit_cmd(ctx: &Ctx, command: Option<AuditCommand>) -> Result<ExitCode> {
    let vault = ctx.vault().await?;
    match command {
        None => {
            let mut rows = vault.audit_entries();
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:>5}  {:<20}  {:<24}  {:<12}  {:<13}  {:<12}  DETAIL",
                "SEQ", "TIME (UTC)", "OS USER", "HANDLER", "ACTION", "REPORT"
            )?;
            while let Some(r) = rows.try_next().await? {
                writeln!(
                    out,
                    "{:>5}  {:<20}  {:<24}  {:<12}  {:<13}  {:<12}  {}",
                    r.seq,
                    text::clean_line(&r.at, 20),
                    text::clean_line(&r.os_user, 24),
                    text::clean_line(r.handler.as_deref().unwrap_or("-"), 12),
                    text::clean_line(&r.action, 13),
                    r.report_id.as_deref().map(render::short).unwrap_or("-"),
                    text::clean_line(r.detail.as_deref().unwrap_or(""), 60)
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(AuditCommand::Verify { head }) => {
            let v = audit::verify(&vault).await?;
            let mut problems = v.problems.clone();
            if let Some(h) = head {
                let h = h.trim().to_ascii_lowercase();
                let mut rows = vault.audit_entries();
                let mut found = false;
                while let Some(r) = rows.try_next().await? {
                    found |= r.hash == h;
                }
                if !found {
                    problems.push(format!("the head {h} you kept is not in the chain: entries were rewritten or removed after it"));
                }
            }
            if v.entries == 0 {
                // An empty log is intact only for an empty vault: every pull,
                // note, status and reply writes an entry.
                let (envelopes, _) = vault.counts().await?;
                let records = vault.record_count().await?;
                if envelopes > 0 || records > 0 {
                    problems.push(format!(
                        "the audit log has no entries, but the vault holds {envelopes} envelope(s) and {records} handler record(s): the log was emptied"
                    ));
                }
            }
            if problems.is_empty() {
                println!(
                    "The audit log is intact: {} entries, head {}.",
                    v.entries,
                    v.head.as_deref().unwrap_or("(empty)")
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("The audit log is NOT intact ({} entries read):", v.entries);
                for p in &problems {
                    eprintln!("  - {p}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

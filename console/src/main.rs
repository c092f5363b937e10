//! `quietline-console`: the command line. It parses arguments, asks for the
//! passphrase (once per command) and prints; every use case is the library's
//! (`quietline_casework`): the case commands (`pull`, `list`, `show`,
//! `reply`, `status`, `note`, `export`) open a [`Desk`] for the command and
//! act through it as `Handler { account: --handler or the OS user, role:
//! custodian }`, so the library's rule — the audit entry is written before
//! anything decrypted leaves it — holds here as on the desk. This file has
//! the arguments and the dispatch; each area's commands are in `cli/`.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use quietline_casework::audit::Actor;
use quietline_casework::clock::Clock;
use quietline_casework::desk::{Desk, DeskError, DeskSettings, Handler, Role};
use quietline_casework::directory::KeySubstitution;
use quietline_casework::export::Format;
use quietline_casework::home::{Config, Home};
use quietline_casework::keyring::{self, list_keys};
use quietline_casework::records::Status;
use quietline_casework::text;
use quietline_casework::vault::Vault;
use quietline_casework::watch::KeyAlarm;
use quietline_crypto::keys::Suite;
use zeroize::Zeroizing;

mod cli;

/// The Quietline decryption console: holds a force's private keys, pulls its
/// sealed reports, opens them, replies, and keeps an audit trail of every look.
#[derive(Parser)]
#[command(name = "quietline-console", version, about, propagate_version = true)]
pub(crate) struct Cli {
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
    /// [default: the OS user name]
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
pub(crate) enum Command {
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
    /// A table of cases (a report and its follow-ups): received day, category, place, first words, thread, status
    List {
        /// Only cases with this status
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// Only cases received on or after this day (YYYY-MM-DD)
        #[arg(long, value_name = "DAY")]
        since: Option<String>,
        /// Only cases where any field a reporter filled (people and vehicles
        /// included, follow-ups too) contains every word of this (any case)
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Only flagged cases: envelopes that cannot be opened (tampered, other
        /// force, unknown key…) and muted cases a follow-up arrived on
        #[arg(long)]
        flagged: bool,
        /// Only cases past their response target and not yet actioned or
        /// closed (intel.toml's response targets)
        #[arg(long)]
        overdue: bool,
        /// Only closed cases due for their retention review (intel.toml's
        /// [retention] rules; default six years after closure)
        #[arg(long)]
        review_due: bool,
    },
    /// Decrypt and show a report and its whole thread (recorded in the audit log)
    Show {
        /// Report id, or an unambiguous prefix of it (at least 4 hex digits)
        id: String,
    },
    /// List a case's attachments: number, media type, size, whether stored
    /// (or why not), the metadata the reporter's page removed and what is
    /// still in the file (recorded in the audit log)
    Attachments {
        /// Report id or prefix
        id: String,
    },
    /// One attachment of a case: `attachment save CASE N --out FILE`
    #[command(subcommand)]
    Attachment(cli::attachments::AttachmentCommand),
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
    /// Assign a case to an active desk account, or to nobody (recorded sealed
    /// in the vault and in the audit log, as the desk's assign is)
    Assign {
        /// Report id or prefix
        id: String,
        /// The account to assign it to (see `account list`)
        #[arg(
            value_name = "ACCOUNT",
            required_unless_present = "nobody",
            conflicts_with = "nobody"
        )]
        account: Option<String>,
        /// Assign it to nobody
        #[arg(long)]
        nobody: bool,
    },
    /// Add or remove a case's labels (stored sealed in the vault, as the desk's are)
    Label {
        /// Report id or prefix
        id: String,
        /// A label to add (repeat for several)
        #[arg(long, value_name = "LABEL", required_unless_present = "remove")]
        add: Vec<String>,
        /// A label to remove (repeat for several)
        #[arg(long, value_name = "LABEL")]
        remove: Vec<String>,
    },
    /// Export a report, its thread, status and notes for the records system;
    /// `export verify FILE` checks a signed intelligence report, `export key`
    /// makes or shows the force's export key
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Export {
        #[command(subcommand)]
        signed: Option<cli::intel::ExportCommand>,
        /// Report id or prefix
        #[arg(required = true)]
        id: Option<String>,
        /// Why it is exported (recorded in the audit log; required)
        #[arg(long, value_name = "TEXT", required = true)]
        reason: Option<String>,
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
    /// Transfer a case to another force on the platform (supervisors): its
    /// report and follow-ups are re-sealed with a transfer note to that
    /// force's current key and submitted through the platform's intake; the
    /// case is closed here as transferred, and later follow-ups are passed on
    /// by each pull
    Transfer {
        /// Report id or prefix
        id: String,
        /// The receiving force's id, as the platform's directory lists it
        #[arg(long, value_name = "FORCE")]
        to: String,
        /// Why (goes to the receiving force with the case; kept sealed here)
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Intelligence handling: grade a case 3x5x2, triage it with THRIVE and a
    /// priority, write and export sanitised reports, retention reviews,
    /// deletion, disclosure to partners
    #[command(subcommand)]
    Intel(cli::intel::IntelCommand),
    /// Manage the desk's accounts (add, list, disable, reset); no passphrase needed
    #[command(subcommand)]
    Account(cli::account::AccountCommand),
    /// Start the force desk: the team's web workspace over this home's keys and
    /// vault (the key ring is unlocked once, here; handlers never see the passphrase)
    Desk {
        /// The address to listen on (keep it inside the force: loopback or a
        /// reverse proxy with TLS)
        #[arg(long, default_value = "127.0.0.1:8090", value_name = "ADDR:PORT")]
        listen: SocketAddr,
        /// Try the desk with `quietline serve --demo`: set this home up from the
        /// demo directory it printed and make a demo supervisor account
        /// (password and secret in DIR/desk-supervisor.txt)
        #[arg(long, value_name = "DIR")]
        demo: Option<PathBuf>,
        /// With --demo: the server's address, if this home is not logged in yet
        #[arg(long, value_name = "URL", requires = "demo")]
        server: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum KeyCommand {
    /// Make a new current key (same passphrase); old keys stay and still decrypt
    Rotate {
        /// The new key's suite: `xwing` (the post-quantum hybrid) or `x25519`
        #[arg(long, default_value = "xwing", value_parser = parse_suite, value_name = "SUITE")]
        suite: Suite,
    },
    /// List the keys in the ring (no passphrase needed)
    List,
    /// Copy a key file or signing-key file made elsewhere (e.g. by `quietline serve --demo`) into the home
    Import {
        /// The key file or signing-key file; it must open with the ring's passphrase
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
    /// Record the force's signer set (k-of-n signing keys held by several
    /// custodians) in this home: the watch checks statements against it
    Signers {
        /// A signing public key (43 base64url characters); repeat for each custodian's key
        // A base64url key may start with '-'.
        #[arg(
            long = "public-key",
            required = true,
            allow_hyphen_values = true,
            value_name = "B64"
        )]
        public_keys: Vec<String>,
        /// How many of the keys must sign each statement
        #[arg(long, value_name = "K")]
        threshold: usize,
    },
    /// Add this custodian's signature to a key statement another custodian signed
    Cosign {
        /// The statement (base64url), as `key rotate` or another custodian printed it
        #[arg(
            long,
            value_name = "B64",
            allow_hyphen_values = true,
            required_unless_present = "statement_file",
            conflicts_with = "statement_file"
        )]
        statement: Option<String>,
        /// A file holding the statement
        #[arg(long, value_name = "FILE")]
        statement_file: Option<PathBuf>,
        /// The signing-key file to sign with (sealed under --passphrase-file's
        /// passphrase) [default: every key in this home's signing/]
        #[arg(long, value_name = "FILE")]
        signing_key: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the hash chain: detects edited, removed and reordered entries
    Verify {
        /// A head hash printed earlier and kept elsewhere: it must still be in the chain
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
}

/// Everything a command needs from the global options.
pub(crate) struct Ctx {
    pub home: Home,
    pub passphrase_file: Option<PathBuf>,
    /// `--vault-url` (may hold a password: never printed).
    vault_url: Option<Zeroizing<String>>,
    /// Who acts, for the audit entries the CLI writes itself (init, keys,
    /// login's key mismatch).
    pub actor: Actor,
    /// Who acts on cases.
    pub handler: Handler,
    vault: std::sync::Mutex<Option<Vault>>,
}

impl Ctx {
    /// The passphrase, from the file or asked without echo.
    pub fn passphrase(&self, confirm: bool) -> Result<Zeroizing<String>> {
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
        // The environment, for a desk started by a service manager; a file is
        // better (an environment can be read by the same user's processes).
        if !confirm
            && let Ok(pass) = std::env::var("QUIETLINE_PASSPHRASE")
            && !pass.is_empty()
        {
            return Ok(Zeroizing::new(pass));
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

    /// Whether the vault is a `--vault-url` (not the home's SQLite file).
    pub fn has_vault_url(&self) -> bool {
        self.vault_url.is_some()
    }

    pub fn config(&self) -> Result<Config> {
        Ok(self.home.load_config()?)
    }

    /// The vault, opened once per command (closed by [`Ctx::close`]).
    pub async fn vault(&self) -> Result<Vault> {
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

    /// Open the desk for this command: the key ring unlocked with one
    /// passphrase (asked after checking the ring is not empty), the vault,
    /// and the case index.
    pub async fn desk(&self) -> Result<Desk> {
        self.open_desk(true).await
    }

    /// As [`Ctx::desk`] without the case index (`pull` needs none: its time
    /// and memory then do not grow with the vault).
    pub async fn desk_for_pull(&self) -> Result<Desk> {
        self.open_desk(false).await
    }

    async fn open_desk(&self, indexed: bool) -> Result<Desk> {
        let dir = self.home.keys_dir();
        if list_keys(&dir)?.is_empty() {
            return Err(keyring::KeyRingError::Empty(dir).into());
        }
        let pass = self.passphrase(false)?;
        let vault = self.vault().await?;
        let (home, settings, clock) = (self.home.clone(), DeskSettings::default(), Clock::system());
        if indexed {
            Desk::open(home, vault, pass.as_bytes(), settings, clock).await
        } else {
            Desk::open_for_pull(home, vault, pass.as_bytes(), settings, clock).await
        }
        .map_err(desk_error)
    }
}

/// A desk error for the command line: a key substitution stays itself (its
/// exit code is 3).
pub(crate) fn desk_error(e: DeskError) -> anyhow::Error {
    match e {
        DeskError::KeySubstitution(s) => (*s).into(),
        DeskError::KeyAlarm(a) => (*a).into(),
        e => e.into(),
    }
}

/// Exit code when the server's directory does not serve this console's current
/// key for its force (key substitution), or the platform serves a statement
/// or key log that is not the force's own (a key alarm, `watch`); 1 is every
/// other error, 2 a usage error.
const EXIT_KEY_SUBSTITUTION: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The desk serves a team at once: a thread per core. Every other command
    // is one request after another.
    let mut builder = if matches!(cli.command, Command::Desk { .. }) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e)
            if e.downcast_ref::<KeySubstitution>().is_some()
                || e.downcast_ref::<KeyAlarm>().is_some() =>
        {
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

/// The account the CLI acts as: `--handler`, else the OS user's name.
fn account_name(handler: Option<&str>) -> String {
    handler
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "console".to_owned())
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let account = account_name(cli.handler.as_deref());
    let passphrase_file = match (&cli.passphrase_file, &cli.command) {
        (
            None,
            Command::Desk {
                demo: Some(dir), ..
            },
        ) => Some(dir.join("passphrase")),
        _ => cli.passphrase_file,
    };
    let ctx = Ctx {
        home: Home::locate(cli.home)?,
        passphrase_file,
        vault_url: cli.vault_url.map(Zeroizing::new),
        actor: Actor::current(cli.handler),
        handler: Handler {
            account,
            role: Role::Custodian,
        },
        vault: std::sync::Mutex::new(None),
    };
    let result = dispatch(&ctx, cli.command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Ctx, command: Command) -> Result<ExitCode> {
    match command {
        Command::Init { force, suite } => cli::keys::init(ctx, &force, suite).await?,
        Command::Key(k) => cli::keys::key(ctx, k).await?,
        Command::Login {
            server,
            token,
            token_file,
            offline,
        } => cli::login::login(ctx, &server, token, token_file, offline).await?,
        Command::Pull { max_wait } => cli::cases::pull(ctx, max_wait).await?,
        Command::List {
            status,
            since,
            search,
            flagged,
            overdue,
            review_due,
        } => cli::cases::list(ctx, status, since, search, flagged, (overdue, review_due)).await?,
        Command::Show { id } => cli::cases::show(ctx, &id).await?,
        Command::Attachments { id } => cli::attachments::list(ctx, &id).await?,
        Command::Attachment(command) => cli::attachments::run(ctx, command).await?,
        Command::Reply { id, message, lang } => cli::cases::reply(ctx, &id, message, &lang).await?,
        Command::Status { id, status } => cli::cases::status(ctx, &id, status).await?,
        Command::Note { id, text } => cli::cases::note(ctx, &id, &text.join(" ")).await?,
        Command::Assign {
            id,
            account,
            nobody: _,
        } => cli::cases::assign(ctx, &id, account.as_deref()).await?,
        Command::Label { id, add, remove } => cli::cases::label(ctx, &id, &add, &remove).await?,
        Command::Export {
            signed: Some(command),
            ..
        } => return cli::intel::export(ctx, command).await,
        Command::Export {
            id,
            reason,
            format,
            output,
            ..
        } => {
            cli::cases::export(
                ctx,
                id.as_deref().unwrap_or_default(),
                reason.as_deref().unwrap_or_default(),
                format,
                output,
            )
            .await?
        }
        Command::Audit { command } => return cli::audit::audit(ctx, command).await,
        Command::Intel(command) => cli::intel::intel(ctx, command).await?,
        Command::Transfer { id, to, reason } => {
            cli::transfer::transfer(ctx, &id, &to, &reason).await?
        }
        Command::Account(cli::account::AccountCommand::Code { file }) => cli::account::code(&file)?,
        Command::Account(command) => {
            cli::account::run(&ctx.vault().await?, &ctx.actor, command).await?
        }
        Command::Desk {
            listen,
            demo,
            server,
        } => cli::desk::desk(ctx, listen, demo, server).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `--suite`: a suite's name as FORMAT.md#suite spells it.
fn parse_suite(name: &str) -> Result<Suite, String> {
    Suite::from_name(name).ok_or_else(|| {
        format!("unknown suite {name:?}: use `xwing` (post-quantum hybrid) or `x25519`")
    })
}

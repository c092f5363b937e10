//! `quietline-console account …`: the desk's accounts, managed from the
//! command line (`add`, `list`, `disable`, `reset`). Parses, prints and
//! writes the one-time password file; the rules and the audit entries are
//! the library's (`quietline_casework::accounts`). No passphrase is needed:
//! nothing is sealed or opened (the second factor is sealed at enrolment, in
//! the desk).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use quietline_casework::accounts;
use quietline_casework::audit::Actor;
use quietline_casework::clock::Clock;
use quietline_casework::desk::Role;
use quietline_casework::vault::Vault;
use zeroize::Zeroizing;

/// The `account` subcommands.
#[derive(Subcommand)]
pub enum AccountCommand {
    /// Add a desk account with a one-time password (changed at the first sign-in,
    /// where the account also enrols an authenticator app)
    Add {
        /// The account name: 1-64 of a-z, 0-9, '.', '_', '-'
        name: String,
        /// What the account may do
        #[arg(long, value_parser = parse_role, value_name = "handler|supervisor|custodian")]
        role: Role,
        /// Write the one-time password to this new file (mode 0600) instead of printing it
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// List the accounts: name, role, state, second factor, day added
    List,
    /// Disable an account: it cannot sign in, and its sessions end at their next request
    Disable {
        /// The account name
        name: String,
    },
    /// Give an account a new one-time password and forget its authenticator app
    /// (enrolled again at the next sign-in); ends its sessions and lifts a lock
    Reset {
        /// The account name
        name: String,
        /// Write the one-time password to this new file (mode 0600) instead of printing it
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::from_name(s)
        .ok_or_else(|| format!("{s:?} is not a role: use handler, supervisor or custodian"))
}

/// Run an `account` command on `vault`, as `actor` (the audit log's who).
pub async fn run(vault: &Vault, actor: &Actor, command: AccountCommand) -> Result<()> {
    let clock = Clock::system();
    match command {
        AccountCommand::Add {
            name,
            role,
            password_file,
        } => {
            let file = password_file.as_deref().map(create_new).transpose()?;
            let pw = forget_on_error(
                accounts::add(vault, actor, &name, role, &clock.today()).await,
                password_file.as_deref(),
            )?;
            println!("Account {name} ({role}) added.");
            hand_over(&name, &pw, file.zip(password_file.as_deref()))?;
        }
        AccountCommand::List => {
            let list = accounts::list(vault, clock.now_secs() as i64).await?;
            if list.is_empty() {
                println!(
                    "No accounts yet: add one with `quietline-console account add NAME --role supervisor`."
                );
                return Ok(());
            }
            let w = list.iter().map(|a| a.name.len()).max().unwrap_or(4).max(4);
            println!(
                "{:w$}  {:10}  {:22}  {:13}  ADDED",
                "NAME", "ROLE", "STATE", "SECOND FACTOR"
            );
            for a in list {
                println!(
                    "{:w$}  {:10}  {:22}  {:13}  {}",
                    a.name,
                    a.role,
                    a.state,
                    if a.enrolled {
                        "enrolled"
                    } else {
                        "not enrolled"
                    },
                    a.created
                );
            }
        }
        AccountCommand::Disable { name } => {
            accounts::disable(vault, actor, &name).await?;
            println!(
                "Account {name} is disabled: it cannot sign in, and any session of it ends at its next request. `account reset {name}` enables it again."
            );
        }
        AccountCommand::Reset {
            name,
            password_file,
        } => {
            let file = password_file.as_deref().map(create_new).transpose()?;
            let pw = forget_on_error(
                accounts::reset(vault, actor, &name).await,
                password_file.as_deref(),
            )?;
            println!(
                "Account {name} is reset: its sessions have ended and its authenticator app is forgotten."
            );
            hand_over(&name, &pw, file.zip(password_file.as_deref()))?;
        }
    }
    Ok(())
}

/// Create the password file (new, mode 0600) BEFORE the account changes, so
/// a file that cannot be written leaves the account as it was.
fn create_new(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create {} for the one-time password (it must not exist yet); nothing was changed",
                path.display()
            )
        })
}

/// If the command failed, remove the empty password file made for it.
fn forget_on_error<T, E>(r: Result<T, E>, file: Option<&Path>) -> Result<T, E> {
    if r.is_err()
        && let Some(f) = file
    {
        let _ = std::fs::remove_file(f);
    }
    r
}

/// Print the one-time password once, or write it to the file made for it.
fn hand_over(
    name: &str,
    pw: &Zeroizing<String>,
    file: Option<(std::fs::File, &Path)>,
) -> Result<()> {
    match file {
        Some((mut f, path)) => {
            f.write_all(format!("{}\n", pw.as_str()).as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "The one-time password is in {} (mode 0600).",
                path.display()
            );
        }
        None => {
            println!(
                "One-time password (shown once; hand it over in person): {}",
                pw.as_str()
            );
        }
    }
    println!(
        "At the first sign-in at the desk, {name} chooses a new password and sets up an authenticator app (the desk shows a QR code)."
    );
    Ok(())
}

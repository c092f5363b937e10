//! `quietline-console`: command-line entry point. Parses arguments and calls
//! the library; the commands of issue 5 (pull, list, show, reply, audit) are
//! still to come.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use quietline_console::keystore::{read_key_info, write_key_file};
use quietline_crypto::keyfile::{KdfParams, seal_key_file};
use zeroize::Zeroizing;

/// The Quietline decryption console: holds a force's private keys and opens its reports.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the force key pair and write the passphrase-protected key file.
    Init {
        /// Force id, as registered on the platform (a-z, 0-9, -).
        #[arg(long)]
        force: String,
        /// Where to write the key file (mode 0600; never overwritten).
        #[arg(long, default_value = "force.key")]
        key_file: PathBuf,
        /// Read the passphrase from this file instead of asking (for automation).
        #[arg(long, env = "QUIETLINE_PASSPHRASE_FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Print a key file's public key and key id (no passphrase needed).
    KeyInfo {
        /// The key file.
        key_file: PathBuf,
    },
}

fn read_passphrase(file: Option<&PathBuf>, confirm: bool) -> Result<Zeroizing<String>> {
    if let Some(f) = file {
        let text = Zeroizing::new(std::fs::read_to_string(f).with_context(|| format!("cannot read passphrase file {}", f.display()))?);
        let line = Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string());
        if line.is_empty() {
            bail!("passphrase file {} is empty", f.display());
        }
        return Ok(line);
    }
    let first = Zeroizing::new(rpassword::prompt_password("Passphrase for the key file: ")?);
    if first.chars().count() < 12 {
        bail!("the passphrase is too short: use at least 12 characters (several words is best)");
    }
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Same passphrase again: ")?);
        if *first != *second {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(first)
}

/// Today's UTC date, `YYYY-MM-DD`: the key file's creation day (crypto/FORMAT.md#key-file).
fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Init { force, key_file, passphrase_file } => {
            if !quietline_crypto::envelope::is_valid_force_id(&force) {
                bail!("force id {force:?} is not 1 to 64 characters of a-z, 0-9 and -");
            }
            if key_file.exists() {
                bail!("{} already exists; refusing to overwrite a key", key_file.display());
            }
            let pass = read_passphrase(passphrase_file.as_ref(), true)?;
            let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
            let (sk, pk) = quietline_crypto::keys::generate_keypair(&mut rng);
            let text = seal_key_file(&mut rng, &sk, &force, &today(), pass.as_bytes(), KdfParams::DEFAULT)?;
            drop(sk);
            write_key_file(&key_file, &text)?;
            println!("Wrote {} (mode 0600). Keep it and its passphrase inside the force.", key_file.display());
            println!("public key: {}", pk.to_base64url());
            println!("key id:     {}", pk.key_id());
            println!("\nThe platform operator registers it with:\n  quietline force key add {force} --public-key {}", pk.to_base64url());
        }
        Command::KeyInfo { key_file } => {
            let info = read_key_info(&key_file)?;
            println!("force:      {}\ncreated:    {}\npublic key: {}\nkey id:     {}", info.force_id, info.created, info.public_key.to_base64url(), info.key_id);
        }
    }
    Ok(())
}

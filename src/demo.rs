//! `quietline serve --demo`: a demo force the console can use at once, so a
//! newcomer sees the whole loop (page → server → console → reply) on one machine.
//!
//! It owns creating, idempotently, the force `demo` ("Demo Constabulary") with a
//! key pair, the files the console needs in `<data-dir>/demo/` (`force.key` in
//! the console's key-file format, its `passphrase`, a handler `token`, and
//! `public-key` to recognise the key on the next start), and the printed
//! instructions.
//!
//! The demo force has a signing key too (crypto/FORMAT.md#signing-keys),
//! `signing.key` in the signing-key file format under the same passphrase,
//! registered as its 1-of-1 signer set, and its encryption key is added as a
//! signed key statement, so the demo runs the signed-key path from the first
//! start.
//!
//! **The demo forces' signing keys are public.** Each demo force's signing
//! seed is SHA-256(`"quietline/demo/signing-seed"` ‖ force id)
//! ([`demo_signing_secret`]), so anyone can sign a statement for `demo` or
//! `demo-west`. That is on purpose: the reporter page pins the forces'
//! signing public keys at build time (`web/pins.json`,
//! crypto/FORMAT.md#key-statements), and a demo force can be pinned only if
//! its key is known before the demo's first start. The pins guard the demo
//! against nothing; a real force's key is made inside the force and never
//! derived like this. Never pin a force whose key came from here.
//!
//! A second demo force, `demo-west` ("Western Demo Police", files in
//! `<data-dir>/demo-west/`), is made the same way, so that passing a case
//! from one force to another (issue 17) can be tried on one machine: each
//! demo directory also gets `pins.json`, both forces' signing public keys in
//! the page's pin format, which `quietline-console desk --demo` copies into
//! the console home so a transfer verifies the other force's key statement.
//! The demo signing keys are derived, not random: seed =
//! SHA-256("quietline/demo/signing-seed" ‖ force id) ([`demo_signing_secret`]),
//! so their pins are the same on every machine. They sign demo statements
//! only.
//!
//! This is the ONLY place the server touches a private key, and only because
//! the demo force lives on the operator's own machine: each key is sealed into
//! its passphrase-protected file and dropped (zeroized) at once; the server
//! never opens either file. A real
//! force generates its key pair inside the force with `quietline-console init`
//! and gives the platform only the public key.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline_crypto::keyfile::{KdfParams, seal_key_file};
use quietline_crypto::keys::{PublicKey, Suite, generate_keypair_for};
use quietline_crypto::signing_keyfile::seal_signing_key_file;
use quietline_crypto::statement::{KeyStatement, NO_PREVIOUS, SignedStatement, SigningSecret};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::admin::{self, AdminError};
use crate::day::{format_day, today};
use crate::storage::{Storage, StorageError};
use crate::tokens;

/// The demo force's id.
pub const DEMO_FORCE_ID: &str = "demo";
/// The demo force's display name.
pub const DEMO_FORCE_NAME: &str = "Demo Constabulary";
/// The second demo force's id (issue 17: transfers between forces).
pub const DEMO_WEST_ID: &str = "demo-west";
/// The second demo force's display name.
pub const DEMO_WEST_NAME: &str = "Western Demo Police";
/// Every demo force: (id, display name); the directory of each is
/// `<data-dir>/<id>`.
pub const DEMO_FORCES: [(&str, &str); 2] = [
    (DEMO_FORCE_ID, DEMO_FORCE_NAME),
    (DEMO_WEST_ID, DEMO_WEST_NAME),
];
/// The pins file written beside each demo force's files.
pub const DEMO_PINS_FILE: &str = "pins.json";

/// The pins of every demo force, in the page's format
/// (`{"version":1,"forces":{"<id>":{"threshold":1,"signers":["<b64url>"]}}}`).
pub fn demo_pins() -> String {
    let forces: serde_json::Map<String, serde_json::Value> = DEMO_FORCES
        .iter()
        .map(|(id, _)| {
            let key = demo_signing_secret(id).public_key().to_base64url();
            (
                (*id).to_owned(),
                serde_json::json!({"threshold": 1, "signers": [key]}),
            )
        })
        .collect();
    serde_json::json!({"version": 1, "forces": forces}).to_string()
}

/// Labels of demo tokens start with this.
const TOKEN_LABEL_PREFIX: &str = "demo-console";

/// Setting up the demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A file in the demo directory could not be written or read.
    #[error("demo files in {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Registering the force, key or token failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The key file could not be sealed.
    #[error("cannot seal the demo key file: {0}")]
    KeyFile(String),
    /// A new demo key is needed but the demo force's signing key, which the
    /// server never opens, was made on an earlier start.
    #[error(
        "the demo force needs a new key, but its signing key was made on an earlier start and the server never opens a signing-key file; start the demo on a fresh --data-dir (or database) to begin again"
    )]
    SigningKeyGone,
    /// The demo force's registered signing key is not the derived one the
    /// page pins (a demo started before the keys were derived).
    #[error(
        "the demo force's signing key was made at random by an earlier version, and the reporter page pins the derived demo key (web/pins.json), so the page would refuse to send to it; start the demo on a fresh --data-dir (or database)"
    )]
    NotPinned,
}

/// What a demo force's public signing seed is hashed from, with its force id.
pub const DEMO_SIGNING_SEED_LABEL: &[u8] = b"quietline/demo/signing-seed";

/// A demo force's signing key, derived from its force id: seed =
/// SHA-256("quietline/demo/signing-seed" ‖ force id). PUBLIC, demo only: see
/// the module's documentation. `web/pins.json` pins the public halves for
/// `demo` and `demo-west` (the unit test below checks they match).
pub fn demo_signing_secret(force_id: &str) -> SigningSecret {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(DEMO_SIGNING_SEED_LABEL)
        .chain_update(force_id.as_bytes())
        .finalize()
        .into();
    SigningSecret::from_seed(&seed)
}

/// How long a demo key statement is valid: two years from today.
const DEMO_VALIDITY_DAYS: u32 = 730;

/// What [`ensure_demo`] set up.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The force's id.
    pub force_id: &'static str,
    /// Its display name.
    pub force_name: &'static str,
    /// `<data-dir>/<force id>`.
    pub dir: PathBuf,
    /// The demo force's current key id (hex).
    pub key_id: String,
    /// Whether an existing key was reused (a second start).
    pub reused_key: bool,
    /// Whether an existing token was reused.
    pub reused_token: bool,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Write a file readable by its owner only (0600), replacing it atomically.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), DemoError> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    f.write_all(contents).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

fn read_trimmed(path: &Path) -> Option<Zeroizing<String>> {
    let text = Zeroizing::new(std::fs::read_to_string(path).ok()?);
    Some(Zeroizing::new(text.trim().to_owned()))
}

/// Create (or, on a later start, reuse) the demo force, its key and a token.
pub async fn ensure_demo(storage: &dyn Storage, data_dir: &Path) -> Result<Demo, DemoError> {
    ensure_demo_force(storage, data_dir, DEMO_FORCE_ID, DEMO_FORCE_NAME).await
}

/// [`ensure_demo`] for every demo force ([`DEMO_FORCES`]), the first first.
pub async fn ensure_demos(storage: &dyn Storage, data_dir: &Path) -> Result<Vec<Demo>, DemoError> {
    let mut out = Vec::new();
    for (id, name) in DEMO_FORCES {
        out.push(ensure_demo_force(storage, data_dir, id, name).await?);
    }
    Ok(out)
}

/// Create (or reuse) one demo force `force_id` named `name`, in
/// `<data-dir>/<force_id>`.
async fn ensure_demo_force(
    storage: &dyn Storage,
    data_dir: &Path,
    force_id: &'static str,
    force_name: &'static str,
) -> Result<Demo, DemoError> {
    let dir = data_dir.join(force_id);
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io_err(&dir))?;

    let force = storage
        .forces()
        .await?
        .into_iter()
        .find(|f| f.id == force_id);
    if force.is_none() {
        match admin::add_force(storage, force_id, force_name).await {
            // Another instance on the same database may have just created it.
            Ok(()) | Err(AdminError::Storage(StorageError::ForceExists(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let current = force.and_then(|f| f.current_key);

    // Reuse the key if the files are all there and the public key on disk is the
    // force's current key; otherwise make a new one (the old stays registered as
    // an active key, so envelopes already sealed to it are still accepted).
    let key_path = dir.join("force.key");
    let pass_path = dir.join("passphrase");
    let pub_path = dir.join("public-key");
    let on_disk = read_trimmed(&pub_path).and_then(|t| PublicKey::from_base64url(&t).ok());
    let reusable = match (&on_disk, &current) {
        (Some(pk), Some(cur)) => {
            // A demo key from before the hybrid suite is replaced: the demo
            // force seals with X-Wing (crypto/FORMAT.md#suite).
            pk.suite() == Suite::XWing
                && pk.to_bytes() == cur.public_key
                && key_path.is_file()
                && pass_path.is_file()
        }
        _ => false,
    };
    // A demo force from before signing keys has none: it gets them now, and
    // a new key with its statement.
    let signers = storage.force_signers(force_id).await?;
    if let Some(stored) = &signers {
        let pinned = demo_signing_secret(force_id).public_key().to_bytes();
        if stored.keys != [pinned] {
            return Err(DemoError::NotPinned);
        }
    }
    let (key_id, reused_key) = if reusable && signers.is_some() {
        (
            hex::encode(current.map(|c| c.key_id).unwrap_or_default()),
            true,
        )
    } else {
        if signers.is_some() {
            return Err(DemoError::SigningKeyGone);
        }
        let (pk, signer) = new_demo_key(force_id, &key_path, &pass_path, &pub_path, &dir)?;
        admin::set_force_signers(storage, force_id, &[signer.public_key().to_base64url()], 1)
            .await?;
        let from = u32::try_from(today()).unwrap_or(0);
        let statement = SignedStatement::sign(
            KeyStatement {
                force_id: force_id.into(),
                public_key: pk,
                valid_from: from,
                valid_until: from + DEMO_VALIDITY_DAYS,
                sequence: 0,
                prev_hash: NO_PREVIOUS,
            },
            &[&signer],
        )
        .map_err(|e| DemoError::KeyFile(e.to_string()))?;
        drop(signer);
        write_private(
            &dir.join("statement"),
            format!("{}\n", statement.to_base64url()).as_bytes(),
        )?;
        let key_id =
            admin::add_signed_force_key(storage, force_id, &statement.to_base64url(), from).await?;
        (key_id.to_hex(), false)
    };

    let token_path = dir.join("token");
    let live = match read_trimmed(&token_path) {
        Some(t) if tokens::token_is_well_formed(&t) => {
            storage
                .token_force(tokens::token_hash(&t))
                .await?
                .as_deref()
                == Some(force_id)
        }
        _ => false,
    };
    if !live {
        // The old demo token's file is gone or stale: revoke every demo token so
        // none stays live unseen, then issue a fresh one under a new label.
        for t in storage.tokens(Some(force_id)).await? {
            if !t.revoked && t.label.starts_with(TOKEN_LABEL_PREFIX) {
                storage.revoke_token(force_id, &t.label).await?;
            }
        }
        let mut suffix = [0u8; 4];
        getrandom::fill(&mut suffix).map_err(|_| AdminError::Random)?;
        let label = format!("{TOKEN_LABEL_PREFIX}-{}", hex::encode(suffix));
        let token = admin::issue_token(storage, force_id, &label).await?;
        write_private(&token_path, format!("{}\n", token.as_str()).as_bytes())?;
    }

    write_private(&dir.join(DEMO_PINS_FILE), demo_pins().as_bytes())?;

    Ok(Demo {
        force_id,
        force_name,
        dir,
        key_id,
        reused_key,
        reused_token: live,
    })
}

/// Generate the demo key pair and signing key, write the key file, the
/// signing-key file, the passphrase and public key, and return the public key
/// and the signing key (for the caller to sign the key's statement with and
/// drop). The private encryption key is dropped (and zeroized) here.
fn new_demo_key(
    force_id: &str,
    key_path: &Path,
    pass_path: &Path,
    pub_path: &Path,
    dir: &Path,
) -> Result<(PublicKey, SigningSecret), DemoError> {
    let mut rng = UnwrapErr(SysRng);
    let mut pass_bytes = Zeroizing::new([0u8; 24]);
    getrandom::fill(pass_bytes.as_mut()).map_err(|_| AdminError::Random)?;
    let passphrase = Zeroizing::new(URL_SAFE_NO_PAD.encode(pass_bytes.as_ref()));
    let (private_key, public_key) = generate_keypair_for(Suite::XWing, &mut rng);
    let key_file = seal_key_file(
        &mut rng,
        &private_key,
        force_id,
        &format_day(today()),
        passphrase.as_bytes(),
        KdfParams::DEFAULT,
    )
    .map_err(|e| DemoError::KeyFile(e.to_string()))?;
    drop(private_key);
    // Deterministic and public (demo only), so the page can pin it.
    let signer = demo_signing_secret(force_id);
    let signing_file = seal_signing_key_file(
        &mut rng,
        &signer,
        force_id,
        &format_day(today()),
        passphrase.as_bytes(),
        KdfParams::DEFAULT,
    )
    .map_err(|e| DemoError::KeyFile(e.to_string()))?;
    write_private(&dir.join("signing.key"), signing_file.as_bytes())?;
    write_private(key_path, key_file.as_bytes())?;
    write_private(pass_path, format!("{}\n", passphrase.as_str()).as_bytes())?;
    write_private(
        pub_path,
        format!("{}\n", public_key.to_base64url()).as_bytes(),
    )?;
    Ok((public_key, signer))
}

/// Quote a path for a POSIX shell if it needs it.
fn sh(path: &Path) -> String {
    let s = path.display().to_string();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%=".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The address clients should use: a wildcard listen address is reached on loopback.
fn client_address(addr: SocketAddr) -> SocketAddr {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(if a.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    a
}

/// The text `serve --demo` prints: the files, the page address and the exact
/// console commands. All of it is here, so it changes in one place as the
/// console's CLI settles.
pub fn instructions(demo: &Demo, listen: SocketAddr) -> String {
    let server = format!("http://{}", client_address(listen));
    let home = sh(&demo.dir.join("console"));
    let console = format!("cargo run -p quietline-console -- --home {home}");
    let token = sh(&demo.dir.join("token"));
    let key = sh(&demo.dir.join("force.key"));
    let signing = sh(&demo.dir.join("signing.key"));
    let pass = sh(&demo.dir.join("passphrase"));
    let state = if demo.reused_key {
        "reusing the demo force"
    } else {
        "created the demo force"
    };
    format!(
        "\
Demo: {state} `{force_id}` ({force_name}), key id {key_id}.
Files in {dir}:
  force.key    the demo force's private key, in the console's passphrase-protected key-file format
  signing.key  the demo force's signing key (signing-key file format, same passphrase)
  statement    the key statement it signed for force.key's key (crypto/FORMAT.md#key-statements)
  passphrase   their passphrase
  token        a handler token for the demo force
Only `serve --demo` generates keys on the server. A real force generates its key pair and
signing key inside the force with `quietline-console init` and gives the platform only the
signing public key and a signed statement for each key.

Reporter page: {server}/

Console (run from the workspace):
  {console} login --server {server} --token-file {token}
  {console} key import {key} --passphrase-file {pass}
  {console} key import {signing} --passphrase-file {pass}
  {console} pull --passphrase-file {pass}
  {console} list --passphrase-file {pass}
  {console} show <ID from list> --passphrase-file {pass}
  {console} reply <ID> --message \"…\" --passphrase-file {pass}

Desk (the force team's web workspace; run it in another terminal):
  {console} desk --demo {dir} --server {server}
  then open http://127.0.0.1:8090/ and sign in as demo-supervisor: the desk writes the
  password and the authenticator secret to {dir}/desk-supervisor.txt (mode 0600), and
  `cargo run -p quietline-console -- account code --file {dir}/desk-supervisor.txt`
  prints a sign-in code. More accounts: {console} account add NAME --role handler
",
        key_id = demo.key_id,
        dir = sh(&demo.dir),
        force_id = demo.force_id,
        force_name = demo.force_name,
    )
}

/// The lines `serve --demo` prints for the second demo force (issue 17):
/// its desk on another port, and passing a case from the first force to it.
/// `first` is the first demo force's setup.
pub fn second_instructions(first: &Demo, demo: &Demo, listen: SocketAddr) -> String {
    let server = format!("http://{}", client_address(listen));
    let run = "cargo run -p quietline-console --";
    let home = sh(&demo.dir.join("console"));
    let first_home = sh(&first.dir.join("console"));
    let first_pass = sh(&first.dir.join("passphrase"));
    let state = if demo.reused_key {
        "reusing"
    } else {
        "created"
    };
    format!(
        "\
Second demo force: {state} `{id}` ({name}), key id {key_id}, files in {dir} (the same
kinds of file). It is there to try passing a case from one force to another.
Its desk (a third terminal; its own console home):
  {run} --home {home} desk --demo {dir} --server {server} --listen 127.0.0.1:8091
  then open http://127.0.0.1:8091/ and sign in as demo-supervisor ({dir}/desk-supervisor.txt).
Transfer a case from the first demo desk (a case's \"Transfer to another force\"), or:
  {run} --home {first_home} transfer <ID> --to {id} --reason \"…\" --passphrase-file {first_pass}
",
        id = demo.force_id,
        name = demo.force_name,
        key_id = demo.key_id,
        dir = sh(&demo.dir),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's pins (`web/pins.json`, built into the page) are the demo
    /// forces' derived signing keys, 1-of-1.
    #[test]
    fn pins_file_matches_the_derived_demo_keys() {
        let pins: serde_json::Value =
            serde_json::from_str(include_str!("../web/pins.json")).expect("web/pins.json is JSON");
        assert_eq!(pins["version"], 1);
        for id in [DEMO_FORCE_ID, "demo-west"] {
            let pin = &pins["forces"][id];
            assert_eq!(pin["threshold"], 1, "{id}: threshold");
            let want = demo_signing_secret(id).public_key().to_base64url();
            assert_eq!(pin["signers"], serde_json::json!([want]), "{id}: signers");
        }
        assert_ne!(
            demo_signing_secret("demo").public_key().to_bytes(),
            demo_signing_secret("demo-west").public_key().to_bytes()
        );
    }
}

//! The operator's commands: forces, their public keys, handler tokens, purge,
//! and the proof-of-work status.
//!
//! They work on the database directly through [`crate::storage`]; there is no
//! HTTP admin route, ever, so nothing on the network can register a key or mint
//! a token. The one exception reads, not writes: `pow status` asks the running
//! server's public `GET /api/v1/challenge` for the difficulty it hands out now,
//! since that lives in the server's memory (each instance has its own).
//!
//! It owns validating what the operator types (force ids, names, labels,
//! public keys, signing keys and signed key statements, which it verifies
//! before storing: crypto/FORMAT.md#verifying-a-statement) and generating tokens (a token's shape and hash are
//! [`crate::tokens`]). It never accepts a private key in any form: a force
//! generates its key pair inside the force (`quietline-console init`) and
//! hands over only the public half.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline_crypto::keys::{KeyId, PublicKey};
use quietline_crypto::statement::{SignedStatement, SignerKey, SignerSet, StatementError};
use zeroize::{Zeroize, Zeroizing};

use crate::storage::{
    KeyStatus, Purged, PurgedBlobs, Storage, StorageError, StoredSigners, StoredStatement,
};
use crate::tokens::TOKEN_BYTES;
// A token's shape and hash live in `crate::tokens` (the HTTP layer checks them
// too); re-exported so `admin::token_hash` and the others keep working.
pub use crate::tokens::{TOKEN_PREFIX, token_hash, token_is_well_formed};

/// `quietline force …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum ForceCommand {
    /// Register a force (a tenant).
    Add {
        /// Force id: 1 to 64 characters from a-z, 0-9 and '-'.
        id: String,
        /// Display name shown to reporters.
        #[arg(long)]
        name: String,
    },
    /// List the forces and their current key ids.
    List,
    /// Manage a force's public keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// A force's signing keys: the Ed25519 public keys its key statements
    /// must be signed with (crypto/FORMAT.md#signing-keys).
    #[command(subcommand)]
    Signer(SignerCommand),
}

/// `quietline force signer …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum SignerCommand {
    /// Register a force's signing public keys (as printed by `quietline-console
    /// init`), once. From then on `force key add` takes only statements signed
    /// by them, and a bare key is refused. The platform never replaces them.
    Set {
        /// Force id.
        id: String,
        /// A signing public key: 43 base64url characters. Repeat for k-of-n.
        // A base64url key may start with '-'.
        #[arg(long = "public-key", required = true, allow_hyphen_values = true)]
        public_keys: Vec<String>,
        /// How many of the keys must sign each statement.
        #[arg(long, default_value_t = 1)]
        threshold: u8,
    },
    /// List a force's signing keys, their fingerprints and the threshold.
    List {
        /// Force id.
        id: String,
    },
}

/// `quietline force key …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum KeyCommand {
    /// Register a force's public key and make it current; prints its key id.
    /// A force with signing keys hands over a signed key statement (as
    /// printed by `quietline-console init` / `key rotate`); a bare
    /// --public-key is accepted only from a force without signing keys.
    Add {
        /// Force id.
        id: String,
        /// The public key: 43 (X25519) or 1622 (X-Wing) base64url characters. Never a key file.
        // A base64url key may start with '-'.
        #[arg(
            long,
            allow_hyphen_values = true,
            required_unless_present = "statement",
            conflicts_with = "statement"
        )]
        public_key: Option<String>,
        /// The force's signed key statement, base64url (crypto/FORMAT.md#key-statements).
        #[arg(long, allow_hyphen_values = true)]
        statement: Option<String>,
    },
    /// Retire a key: reports sealed to it are refused from now on (422).
    Retire {
        /// Force id.
        id: String,
        /// Key id (16 hex digits).
        #[arg(long)]
        key_id: String,
    },
    /// List a force's keys with their status.
    List {
        /// Force id.
        id: String,
    },
}

/// `quietline pow …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum PowCommand {
    /// Show the proof-of-work difficulty a running server hands out now.
    Status {
        /// The server's base URL [default: http:// and the `listen` setting].
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

/// `quietline keylog …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum KeylogCommand {
    /// Print the key log's verifier key and its signed checkpoint at the
    /// current size, from the database (what `GET /api/v1/keylog/key` and
    /// `/checkpoint` serve).
    Show {
        /// The log's origin, as `serve` has it [default: the `keylog_origin` setting, else quietline.invalid/keylog].
        #[arg(long, env = "QUIETLINE_KEYLOG_ORIGIN", value_name = "ORIGIN")]
        keylog_origin: Option<String>,
    },
}

/// `quietline keylog show`: the verifier key line, then the signed
/// checkpoint (crypto/FORMAT.md#checkpoints). Makes the log key if the
/// database has none yet, as the server's first request would.
pub async fn run_keylog_show(
    storage: &dyn Storage,
    origin: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let log = crate::keylog::KeyLog::new(origin);
    let vkey = log.verifier_key(storage).await?;
    let note = log.checkpoint(storage).await?;
    write!(out, "{vkey}\n\n{note}")?;
    Ok(())
}

/// What `pow status` printed: the difficulty, for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowStatus {
    /// Leading zero bits of a challenge issued now (0: proof of work is off).
    pub difficulty: u8,
    /// When such a challenge expires (Unix seconds).
    pub expires: u64,
}

/// `quietline pow status`: GET `{base}/api/v1/challenge` and explain it.
pub async fn run_pow_status(base: &str, out: &mut impl Write) -> anyhow::Result<PowStatus> {
    use anyhow::Context;
    let url = format!("{}/api/v1/challenge", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .context("cannot build an HTTP client")?;
    let res = client.get(&url).send().await.with_context(|| {
        format!(
            "cannot reach the server at {base}; is `quietline serve` running there? (pass --url)"
        )
    })?;
    let status = res.status();
    if !status.is_success() {
        anyhow::bail!("the server at {base} answered {status} to GET /api/v1/challenge");
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        difficulty: u8,
        expires: u64,
    }
    let body = res
        .bytes()
        .await
        .with_context(|| format!("the server at {base} did not finish its answer"))?;
    let a: Answer = serde_json::from_slice(&body)
        .with_context(|| format!("the server at {base} did not answer with a challenge"))?;
    if a.difficulty == 0 {
        writeln!(
            out,
            "proof of work: OFF (the server runs with --pow-difficulty 0); anyone can flood it with reports"
        )?;
    } else {
        let minutes = a.expires.saturating_sub(crate::pow::now_secs()) / 60;
        writeln!(out, "proof of work: on")?;
        writeln!(
            out,
            "current difficulty: {} bits (a sender tries about 2^{} = {} hashes per report)",
            a.difficulty,
            a.difficulty,
            1u64 << a.difficulty
        )?;
        writeln!(
            out,
            "a challenge issued now expires in about {minutes} minutes"
        )?;
        writeln!(
            out,
            "the difficulty moves between --pow-difficulty and --pow-max-difficulty with the intake's pressure; each change is a line in the server's log"
        )?;
    }
    Ok(PowStatus {
        difficulty: a.difficulty,
        expires: a.expires,
    })
}

/// `quietline token …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum TokenCommand {
    /// Issue a handler token for a force; prints it once (only its SHA-256 is stored).
    Issue {
        /// Force id.
        #[arg(long)]
        force: String,
        /// A label to tell this token from others (e.g. the handler's name or role).
        #[arg(long)]
        label: String,
    },
    /// Revoke a token: it answers 401 from the next request on.
    Revoke {
        /// Force id.
        #[arg(long)]
        force: String,
        /// The token's label.
        #[arg(long)]
        label: String,
    },
    /// List tokens (labels and state, never the tokens).
    List {
        /// Only this force's tokens.
        #[arg(long)]
        force: Option<String>,
    },
}

/// An admin command failed. Messages may quote what the operator typed, never a
/// token or key material.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Force id syntax.
    #[error("invalid force id {0:?}: use 1 to 64 characters from a-z, 0-9 and '-'")]
    BadForceId(String),
    /// Force display name.
    #[error("invalid force name: {0}")]
    BadName(&'static str),
    /// Token label.
    #[error("invalid token label: {0}")]
    BadLabel(&'static str),
    /// Something that looks like a private key or a key file was given.
    #[error("{0}")]
    PrivateKeyRefused(&'static str),
    /// The public key is not a valid 32-byte base64url X25519 key.
    #[error("invalid public key: {0}")]
    BadPublicKey(String),
    /// Key id syntax.
    #[error(
        "invalid key id {0:?}: a key id is 16 hexadecimal digits, as printed by `quietline force key add` or `quietline force key list`"
    )]
    BadKeyId(String),
    /// The storage refused or failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// A signing key or signer set that is not valid.
    #[error("invalid signing keys: {0}")]
    BadSigner(StatementError),
    /// A key statement that does not verify (its code and why).
    #[error("key statement refused ({code}): {error}", code = .0.code(), error = .0)]
    BadStatement(StatementError),
    /// `--statement` for a force that has no signing keys yet.
    #[error(
        "force {0:?} has no signing keys registered, so its statement cannot be checked: first run `quietline force signer set {0} --public-key …` with the signing key(s) the force printed at `quietline-console init`"
    )]
    NoSigners(String),
    /// A bare public key for a force that has signing keys.
    #[error(
        "force {0:?} has signing keys, so its keys are added only as signed statements: pass `--statement …` as printed by `quietline-console key rotate` (a bare --public-key would let anyone with this command publish a key the force never made)"
    )]
    StatementRequired(String),
}

/// Check a force id: `[a-z0-9-]{1,64}`.
pub fn validate_force_id(id: &str) -> Result<(), AdminError> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AdminError::BadForceId(id.to_owned()))
    }
}

fn validate_name(name: &str) -> Result<(), AdminError> {
    if name.trim().is_empty() {
        return Err(AdminError::BadName("it must not be empty"));
    }
    if name.chars().count() > 200 {
        return Err(AdminError::BadName("use at most 200 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(AdminError::BadName(
            "it must not contain control characters",
        ));
    }
    Ok(())
}

fn validate_label(label: &str) -> Result<(), AdminError> {
    if label.trim().is_empty() {
        return Err(AdminError::BadLabel("it must not be empty"));
    }
    if label.chars().count() > 64 {
        return Err(AdminError::BadLabel("use at most 64 characters"));
    }
    if label.chars().any(char::is_control) {
        return Err(AdminError::BadLabel(
            "it must not contain control characters",
        ));
    }
    Ok(())
}

const REFUSE_KEY_FILE: &str = "--public-key was given what looks like a private key or a key file. \
A force's private key never leaves the force and the platform refuses it in any form: \
pass only the public key (43 or 1622 base64url characters) that `quietline-console init` prints. \
If a private key was pasted here, treat it as exposed and generate a new key pair.";

const REFUSE_PATH: &str = "--public-key takes the public key itself (43 or 1622 base64url characters, \
as printed by `quietline-console init`), not a file name: this command never reads key files.";

/// Parse `--public-key`: unpadded base64url of the 32-byte X25519 public key.
/// Anything that looks like a key file, a PEM block or a path is refused with a
/// message saying so; the all-zero key is refused.
pub fn parse_public_key(text: &str) -> Result<PublicKey, AdminError> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    // A key file is multi-line text with markers; none of these characters or
    // words can occur in a 43-character base64url key.
    let key_file_like = t.contains(['\n', '\r', ' ', '{', '}', ':', '"'])
        || lower.contains("-----")
        || lower.contains("private")
        || lower.contains("secret")
        || lower.contains("quietline")
        || t.starts_with(quietline_crypto::keyfile::FIRST_LINE)
        || t.len() > 1700;
    if key_file_like {
        return Err(AdminError::PrivateKeyRefused(REFUSE_KEY_FILE));
    }
    if t.contains(['/', '\\']) || lower.ends_with(".key") || lower.ends_with(".pub") {
        return Err(AdminError::PrivateKeyRefused(REFUSE_PATH));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(t.trim_end_matches('='))
        .map_err(|_| {
            AdminError::BadPublicKey(
                "it is not base64url (characters A-Z a-z 0-9 - _); pass the public key printed by `quietline-console init`".into(),
            )
        })?;
    if quietline_crypto::Suite::from_public_key_len(bytes.len()).is_none() {
        return Err(AdminError::BadPublicKey(format!(
            "it decodes to {} bytes; a public key is 32 bytes for X25519 (43 base64url characters) or 1216 for X-Wing (1622)",
            bytes.len()
        )));
    }
    if bytes.len() == 32 && bytes.iter().all(|&b| b == 0) {
        return Err(AdminError::BadPublicKey(
            "the all-zero key is not a usable X25519 public key".into(),
        ));
    }
    PublicKey::from_bytes(&bytes).map_err(|e| AdminError::BadPublicKey(e.to_string()))
}

/// Parse a key id given on the command line (16 hex digits).
pub fn parse_key_id(text: &str) -> Result<KeyId, AdminError> {
    KeyId::from_hex(text.trim()).map_err(|_| AdminError::BadKeyId(text.to_owned()))
}

/// A fresh handler token: `qlt_` + base64url (unpadded) of 32 random bytes.
pub fn generate_token() -> Result<Zeroizing<String>, AdminError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|_| AdminError::Random)?;
    let token = Zeroizing::new(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)));
    bytes.zeroize();
    Ok(token)
}

/// Register a force.
pub async fn add_force(storage: &dyn Storage, id: &str, name: &str) -> Result<(), AdminError> {
    validate_force_id(id)?;
    validate_name(name)?;
    storage.add_force(id, name.trim()).await?;
    Ok(())
}

/// Register a public key for a force and make it current; returns its key id.
pub async fn add_force_key(
    storage: &dyn Storage,
    force_id: &str,
    public_key: &PublicKey,
) -> Result<KeyId, AdminError> {
    validate_force_id(force_id)?;
    let key_id = public_key.key_id();
    storage
        .add_force_key(force_id, key_id.0, public_key.to_bytes())
        .await
        .map_err(|e| match e {
            StorageError::StatementRequired(f) => AdminError::StatementRequired(f),
            e => AdminError::Storage(e),
        })?;
    Ok(key_id)
}

/// The signer set a force registered, as the crypto crate reads it.
pub fn signer_set(stored: &StoredSigners) -> Result<SignerSet, AdminError> {
    let keys = stored
        .keys
        .iter()
        .map(|k| SignerKey::from_bytes(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AdminError::BadSigner)?;
    SignerSet::new(keys, usize::from(stored.threshold)).map_err(AdminError::BadSigner)
}

/// Register a force's signing keys (once). Each key is checked to be a
/// valid, not small-order, Ed25519 key and the set's rules are checked
/// (crypto/FORMAT.md#signing-keys).
pub async fn set_force_signers(
    storage: &dyn Storage,
    force_id: &str,
    public_keys: &[String],
    threshold: u8,
) -> Result<SignerSet, AdminError> {
    validate_force_id(force_id)?;
    let keys = public_keys
        .iter()
        .map(|k| {
            if k.trim().len() > 60 || k.contains(['\n', ' ', ':', '/']) {
                // Not 43 base64url characters: a file, a path or a key file line.
                return Err(AdminError::PrivateKeyRefused(REFUSE_SIGNER));
            }
            SignerKey::from_base64url(k).map_err(AdminError::BadSigner)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let set = SignerSet::new(keys, usize::from(threshold)).map_err(AdminError::BadSigner)?;
    let mut stored: Vec<[u8; 32]> = set.keys().iter().map(SignerKey::to_bytes).collect();
    stored.sort();
    storage
        .set_force_signers(
            force_id,
            StoredSigners {
                keys: stored,
                threshold,
            },
        )
        .await?;
    Ok(set)
}

/// Register a key from its signed statement and make it current
/// (crypto/FORMAT.md#verifying-a-statement, steps 1–10): the statement must
/// be for `force_id`, signed by the force's registered signer set, continue
/// the force's chain of statements, and be valid `today`. Returns its key id.
pub async fn add_signed_force_key(
    storage: &dyn Storage,
    force_id: &str,
    statement_text: &str,
    today: u32,
) -> Result<KeyId, AdminError> {
    validate_force_id(force_id)?;
    let signed =
        SignedStatement::from_base64url(statement_text).map_err(AdminError::BadStatement)?;
    let stored = storage
        .force_signers(force_id)
        .await?
        .ok_or_else(|| AdminError::NoSigners(force_id.to_owned()))?;
    let set = signer_set(&stored)?;
    let st = signed
        .verify(&set, force_id)
        .map_err(AdminError::BadStatement)?;
    let chain = storage.key_statements(force_id).await?;
    let prev = match chain.last() {
        Some(last) => Some(
            SignedStatement::parse(&last.statement)
                .map_err(|e| {
                    AdminError::Storage(StorageError::Database(format!(
                        "corrupt row: a stored key statement of force {force_id:?} does not parse ({})",
                        e.code()
                    )))
                })?
                .statement()
                .clone(),
        ),
        None => None,
    };
    st.follows(prev.as_ref())
        .map_err(AdminError::BadStatement)?;
    st.is_current(today).map_err(AdminError::BadStatement)?;
    let key_id = st.key_id();
    storage
        .add_signed_force_key(
            force_id,
            st.public_key.to_bytes(),
            StoredStatement {
                sequence: st.sequence,
                key_id: key_id.0,
                statement: signed.as_bytes().to_vec(),
            },
        )
        .await?;
    Ok(key_id)
}

const REFUSE_SIGNER: &str = "--public-key takes a signing public key itself (43 base64url characters, \
as printed by `quietline-console init`), never a file name or a signing-key file: a force's signing \
keys never leave the force. If a private key was pasted here, treat it as exposed.";

/// Issue a token for a force under a label; the token is returned once and
/// only its hash is stored.
pub async fn issue_token(
    storage: &dyn Storage,
    force_id: &str,
    label: &str,
) -> Result<Zeroizing<String>, AdminError> {
    validate_force_id(force_id)?;
    validate_label(label)?;
    let token = generate_token()?;
    storage
        .add_token(token_hash(&token), force_id, label)
        .await?;
    Ok(token)
}

fn status_name(s: KeyStatus) -> &'static str {
    match s {
        KeyStatus::Current => "current",
        KeyStatus::Active => "active",
        KeyStatus::Retired => "retired",
    }
}

/// Run a `force …` command; results go to `out`, one record per line.
pub async fn run_force(
    storage: &dyn Storage,
    cmd: ForceCommand,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    match cmd {
        ForceCommand::Add { id, name } => {
            add_force(storage, &id, &name).await?;
            writeln!(
                out,
                "added force {id}; next: `quietline force key add {id} --public-key …` with the key from `quietline-console init`"
            )?;
        }
        ForceCommand::List => {
            for f in storage.forces().await? {
                let key = f
                    .current_key
                    .map_or_else(|| "(no key)".to_owned(), |k| hex::encode(k.key_id));
                writeln!(out, "{}\t{}\t{}", f.id, key, f.name)?;
            }
        }
        ForceCommand::Key(KeyCommand::Add {
            id,
            public_key,
            statement,
        }) => {
            validate_force_id(&id)?;
            let key_id = match (statement, public_key) {
                (Some(statement), _) => {
                    let today = u32::try_from(crate::day::today()).unwrap_or(0);
                    add_signed_force_key(storage, &id, &statement, today).await?
                }
                (None, Some(public_key)) => {
                    let pk = parse_public_key(&public_key)?;
                    add_force_key(storage, &id, &pk).await?
                }
                (None, None) => {
                    return Err(AdminError::BadPublicKey(
                        "pass --statement (or, for a force without signing keys, --public-key)"
                            .into(),
                    ));
                }
            };
            // The key id alone on stdout, for scripts; the explanation on stderr.
            writeln!(out, "{}", key_id.to_hex())?;
            eprintln!(
                "key {} is now the current key of force {id}; its previous key (if any) stays accepted until retired",
                key_id.to_hex()
            );
        }
        ForceCommand::Signer(SignerCommand::Set {
            id,
            public_keys,
            threshold,
        }) => {
            let set = set_force_signers(storage, &id, &public_keys, threshold).await?;
            for k in set.keys() {
                writeln!(out, "{}\t{}", k.signer_id(), k.fingerprint())?;
            }
            eprintln!(
                "force {id} now has {} signing key(s), {} of which must sign each key statement; compare each fingerprint above with the one the force publishes out of band before trusting it. From now on `quietline force key add {id}` takes only --statement",
                set.keys().len(),
                set.threshold()
            );
        }
        ForceCommand::Signer(SignerCommand::List { id }) => {
            validate_force_id(&id)?;
            match storage.force_signers(&id).await? {
                None => writeln!(out, "force {id} has no signing keys")?,
                Some(stored) => {
                    let set = signer_set(&stored)?;
                    writeln!(
                        out,
                        "threshold\t{} of {}",
                        set.threshold(),
                        set.keys().len()
                    )?;
                    for k in set.keys() {
                        writeln!(
                            out,
                            "{}\t{}\t{}",
                            k.signer_id(),
                            k.to_base64url(),
                            k.fingerprint()
                        )?;
                    }
                }
            }
        }
        ForceCommand::Key(KeyCommand::Retire { id, key_id }) => {
            validate_force_id(&id)?;
            let key_id = parse_key_id(&key_id)?;
            storage.retire_force_key(&id, key_id.0).await?;
            writeln!(
                out,
                "retired key {} of force {id}; reports sealed to it are refused from now on",
                key_id.to_hex()
            )?;
        }
        ForceCommand::Key(KeyCommand::List { id }) => {
            validate_force_id(&id)?;
            for k in storage.force_keys(&id).await? {
                writeln!(
                    out,
                    "{}\t{}\t{}",
                    hex::encode(k.key_id),
                    status_name(k.status),
                    URL_SAFE_NO_PAD.encode(&k.public_key)
                )?;
            }
        }
    }
    Ok(())
}

/// Run a `token …` command; results go to `out`.
pub async fn run_token(
    storage: &dyn Storage,
    cmd: TokenCommand,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    match cmd {
        TokenCommand::Issue { force, label } => {
            let token = issue_token(storage, &force, &label).await?;
            writeln!(out, "{}", token.as_str())?;
            eprintln!(
                "this token is shown once and only its SHA-256 is stored; hand it to the handler over a trusted channel. Revoke it with `quietline token revoke --force {force} --label …`"
            );
        }
        TokenCommand::Revoke { force, label } => {
            validate_force_id(&force)?;
            storage.revoke_token(&force, &label).await?;
            writeln!(out, "revoked token {label:?} of force {force}")?;
        }
        TokenCommand::List { force } => {
            if let Some(f) = &force {
                validate_force_id(f)?;
            }
            for t in storage.tokens(force.as_deref()).await? {
                let state = if t.revoked { "revoked" } else { "live" };
                writeln!(out, "{}\t{}\t{}", t.force_id, state, t.label)?;
            }
        }
    }
    Ok(())
}

/// Run `purge`: delete reports and slots past retention (plus their fuzz),
/// settle the closed days (their reports rewritten in a random order), and
/// purge attachments' blobs as the server's own loop does
/// (crypto/FORMAT.md#blobs-on-the-server): uploads never completed, complete
/// blobs no handler fetched within `unreferenced_days`, fetched ones past
/// retention.
pub async fn run_purge(
    storage: &dyn Storage,
    retention_days: u32,
    unreferenced_days: u32,
    out: &mut dyn Write,
) -> Result<(Purged, PurgedBlobs), AdminError> {
    run_purge_at(
        storage,
        &crate::day::Clock::system(),
        retention_days,
        unreferenced_days,
        out,
    )
    .await
}

/// [`run_purge`] on a given clock: every day that ended more than
/// [`CLOSE_GRACE_SECS`](crate::storage::CLOSE_GRACE_SECS) ago is closed.
pub async fn run_purge_at(
    storage: &dyn Storage,
    clock: &crate::day::Clock,
    retention_days: u32,
    unreferenced_days: u32,
    out: &mut dyn Write,
) -> Result<(Purged, PurgedBlobs), AdminError> {
    let today = crate::storage::purge_day(clock.now_secs(), crate::storage::CLOSE_GRACE_SECS);
    let purged = storage.purge(today, retention_days).await?;
    writeln!(
        out,
        "purged {} reports and {} reply slots, and {} reporters' own copies, older than {retention_days} days (each row also has a few days of random fuzz); settled {} closed days (their reports rewritten in a random order)",
        purged.reports, purged.slots, purged.copies, purged.days_settled
    )?;
    let blobs = storage
        .purge_blobs(today, retention_days, unreferenced_days)
        .await?;
    writeln!(
        out,
        "purged {} attachment uploads never completed (kept to the end of the day after they began), {} attachments no handler fetched within {unreferenced_days} days, and {} fetched attachments older than {retention_days} days (plus their fuzz)",
        blobs.expired_uploads, blobs.unreferenced, blobs.past_retention
    )?;
    Ok((purged, blobs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_ids() {
        for ok in ["demo", "a", "met-police", "x0-9", &"a".repeat(64)] {
            validate_force_id(ok).unwrap();
        }
        for bad in ["", "Demo", "a_b", "a b", "é", &"a".repeat(65), "a/b"] {
            assert!(validate_force_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens() {
        let t = generate_token().unwrap();
        assert!(t.starts_with("qlt_"));
        assert_eq!(t.len(), 4 + 43);
        assert!(token_is_well_formed(&t));
        assert!(!token_is_well_formed("qlt_short"));
        assert!(!token_is_well_formed(&t[4..]));
        assert_ne!(token_hash(&t), token_hash(&generate_token().unwrap()));
    }

    #[test]
    fn public_key_refusals() {
        let zero = URL_SAFE_NO_PAD.encode([0u8; 32]);
        assert!(matches!(
            parse_public_key(&zero),
            Err(AdminError::BadPublicKey(_))
        ));
        let short = URL_SAFE_NO_PAD.encode([7u8; 31]);
        assert!(matches!(
            parse_public_key(&short),
            Err(AdminError::BadPublicKey(_))
        ));
        assert!(matches!(
            parse_public_key("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"),
            Err(AdminError::PrivateKeyRefused(_))
        ));
        assert!(matches!(
            parse_public_key("{\"kdf\": \"argon2id\"}"),
            Err(AdminError::PrivateKeyRefused(_))
        ));
        assert!(matches!(
            parse_public_key("/home/me/force.key"),
            Err(AdminError::PrivateKeyRefused(_))
        ));
        let good = URL_SAFE_NO_PAD.encode([9u8; 32]);
        assert!(parse_public_key(&good).is_ok());
    }
}

//! The key ring: every key file in `<home>/keys/`, unlocked together with one
//! passphrase, and opening envelopes with whichever key they name.
//!
//! It owns: finding and naming key files (`<key id>.key`), creating new keys
//! (`init`, `key rotate`), importing a key file made elsewhere, unlocking,
//! the force's signing keys and the key statements they sign (at the end of
//! this file; crypto/FORMAT.md#key-statements), and
//! turning an envelope into a parsed payload or a [`Flag`] that says why not.
//! It does not write the config (the binary records the current key) and does
//! not interpret report fields beyond the thread id.
//!
//! Private keys stay in memory only while the [`KeyRing`] lives; `PrivateKey`
//! zeroizes on drop.

use std::path::{Path, PathBuf};

use quietline_crypto::envelope::{self, EnvelopeError, Kind, Routing};
use quietline_crypto::keyfile::{KdfParams, KeyFileInfo, seal_key_file};
use quietline_crypto::keys::{KeyId, PrivateKey, PublicKey, Suite, generate_keypair_for};
use quietline_crypto::open::{OpenError, open};
use quietline_crypto::padding::PaddingError;
use quietline_crypto::payload::Payload;
use quietline_crypto::signing_keyfile::{
    SigningKeyInfo, open_signing_key_file, seal_signing_key_file, signing_key_file_info,
};
use quietline_crypto::statement::{
    KeyStatement, NO_PREVIOUS, SignedStatement, SignerKey, SignerSet, SigningSecret, StatementError,
};

use crate::keystore::{KeyStoreError, load_key_file, read_key_info, read_key_text, write_key_file};
use crate::refusal::{self, Refusal};

/// Environment variable that makes NEW key files use Argon2id parameters that
/// are INSECURE (64 KiB, one pass). For the test suite only; existing key
/// files always open with the parameters written in them.
pub const INSECURE_FAST_KDF_ENV: &str = "QUIETLINE_INSECURE_FAST_KDF";

/// Argon2id parameters for a new key file: the crate's default, unless
/// [`INSECURE_FAST_KDF_ENV`] is `1` (tests).
pub fn kdf_for_new_keys() -> KdfParams {
    if std::env::var(INSECURE_FAST_KDF_ENV).as_deref() == Ok("1") {
        eprintln!(
            "warning: {INSECURE_FAST_KDF_ENV}=1: the new key file uses INSECURE test parameters; never use this for a real key"
        );
        KdfParams::INSECURE_FOR_TESTS
    } else {
        KdfParams::DEFAULT
    }
}

/// Why the key ring could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// A key file could not be read, is too permissive, damaged, or the passphrase is wrong.
    #[error(transparent)]
    KeyFile(#[from] KeyStoreError),
    /// `keys/` could not be listed.
    #[error("cannot list the key directory {path}: {error}")]
    ListDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// There are no keys yet.
    #[error(
        "the key ring in {0} is empty: run `quietline-console init --force ID` or `quietline-console key import FILE`"
    )]
    Empty(PathBuf),
    /// A key file belongs to another force.
    #[error(
        "key file {path} belongs to force {found:?}, but this console is for force {expected:?}"
    )]
    OtherForce {
        /// The file.
        path: PathBuf,
        /// Its force.
        found: String,
        /// This console's force.
        expected: String,
    },
    /// The key is already in the ring.
    #[error("key {0} is already in the key ring")]
    AlreadyPresent(KeyId),
    /// The configured current key is not in the ring.
    #[error("the current key {0} named in config.toml is not in the key ring")]
    CurrentMissing(String),
    /// Generating or sealing a key file failed.
    #[error("cannot write the key file: {0}")]
    Seal(String),
    /// A key statement file that does not parse, or a statement that cannot be signed.
    #[error("key statement {path}: {error}")]
    Statement {
        /// The file (or the statements directory).
        path: PathBuf,
        /// What is wrong.
        error: StatementError,
    },
}

/// Every key file in `dir` (no passphrase needed): path and public header,
/// sorted by creation day then key id. Permissions are checked.
pub fn list_keys(dir: &Path) -> Result<Vec<(PathBuf, KeyFileInfo)>, KeyRingError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(KeyRingError::ListDir {
                path: dir.to_owned(),
                error,
            });
        }
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| KeyRingError::ListDir {
            path: dir.to_owned(),
            error,
        })?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("key") {
            continue;
        }
        let info = read_key_info(&path)?;
        out.push((path, info));
    }
    out.sort_by(|a, b| (a.1.created.as_str(), a.1.key_id).cmp(&(b.1.created.as_str(), b.1.key_id)));
    Ok(out)
}

/// Where a key lives in the ring.
pub fn key_path(dir: &Path, key_id: KeyId) -> PathBuf {
    dir.join(format!("{key_id}.key"))
}

/// Generate a key pair of `suite`, seal it under `passphrase` into `dir/<key id>.key`
/// (mode 0600, never overwriting) and return its public key.
pub fn create_key(
    dir: &Path,
    force_id: &str,
    created_day: &str,
    passphrase: &[u8],
    suite: Suite,
) -> Result<PublicKey, KeyRingError> {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let (sk, pk) = generate_keypair_for(suite, &mut rng);
    let text = zeroize::Zeroizing::new(
        seal_key_file(
            &mut rng,
            &sk,
            force_id,
            created_day,
            passphrase,
            kdf_for_new_keys(),
        )
        .map_err(|e| KeyRingError::Seal(e.to_string()))?,
    );
    drop(sk);
    write_key_file(&key_path(dir, pk.key_id()), &text)?;
    Ok(pk)
}

/// Copy a key file made elsewhere into the ring after checking it opens with
/// `passphrase` (the ring's passphrase: every key in the ring shares it) and
/// belongs to `force` (if the console already has one). Returns its header.
pub fn import_key(
    dir: &Path,
    source: &Path,
    passphrase: &[u8],
    force: Option<&str>,
) -> Result<KeyFileInfo, KeyRingError> {
    let (info, sk) = load_key_file(source, passphrase)?;
    drop(sk);
    if let Some(expected) = force
        && info.force_id != expected
    {
        return Err(KeyRingError::OtherForce {
            path: source.to_owned(),
            found: info.force_id,
            expected: expected.to_owned(),
        });
    }
    let dest = key_path(dir, info.key_id);
    if dest.exists() {
        return Err(KeyRingError::AlreadyPresent(info.key_id));
    }
    // Copy the text as is: it is already sealed under the ring's passphrase.
    let text = read_key_text(source)?;
    write_key_file(&dest, &text)?;
    Ok(info)
}

/// One unlocked key. Cloned only with its ring (see [`KeyRing`]).
#[derive(Clone)]
pub struct RingKey {
    /// The key file's header.
    pub info: KeyFileInfo,
    /// The private key (zeroized on drop).
    key: PrivateKey,
}

impl std::fmt::Debug for RingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RingKey({})", self.info.key_id)
    }
}

/// Why an envelope did not become a readable message. Stored with the
/// envelope (code and text are not secret: they come from the header and the
/// kind of failure, and a refused payload is described by [`Refusal`], which
/// never quotes decrypted bytes), counted by `pull`, shown by `list` and `show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    /// The bytes are not a v1 envelope.
    Malformed(EnvelopeError),
    /// A kind-2 (reply) envelope where a report was expected.
    NotAReport,
    /// Routed to another force: moved from another force's inbox.
    OtherForce(String),
    /// Sealed to a key id that is not in this key ring.
    UnknownKey(KeyId),
    /// HPKE open failed: altered or not really sealed to our key.
    Tampered,
    /// Decrypted, but the padding is wrong (altered before sealing, or a broken
    /// sender). A fixed sentence: the crate's message carries the decrypted length field.
    BadPadding(&'static str),
    /// Decrypted, but the payload is not a v1 report or follow-up: which member
    /// and which rule, never the value.
    BadPayload(Refusal),
    /// The same envelope bytes are already in the vault under another id.
    Duplicate(String),
}

impl Flag {
    /// A stable code for the vault.
    pub fn code(&self) -> &'static str {
        match self {
            Flag::Malformed(_) => "malformed",
            Flag::NotAReport => "not_a_report",
            Flag::OtherForce(_) => "other_force",
            Flag::UnknownKey(_) => "unknown_key",
            Flag::Tampered => "tampered",
            Flag::BadPadding(_) => "bad_padding",
            Flag::BadPayload(_) => "bad_payload",
            Flag::Duplicate(_) => "duplicate",
        }
    }
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Flag::Malformed(e) => write!(f, "not a valid envelope: {e}"),
            Flag::NotAReport => f.write_str("a reply envelope (kind 2) where a report was expected"),
            Flag::OtherForce(id) => write!(f, "routed to another force ({id:?}): moved from another force's inbox"),
            Flag::UnknownKey(k) => write!(
                f,
                "sealed to key {k}, which is not in this key ring (a retired key whose file was removed, or not this force's key): import that key file with `key import` to read it"
            ),
            Flag::Tampered => f.write_str("does not decrypt: altered in transit or at rest, or not sealed to this force's key"),
            Flag::BadPadding(e) => write!(f, "decrypted but the padding is wrong: {e}"),
            Flag::BadPayload(e) => write!(f, "decrypted but the contents are not a report: {e}"),
            Flag::Duplicate(id) => write!(f, "the same envelope as report {id} (the server listed it twice under different ids)"),
        }
    }
}

/// A padding error in words: fixed sentences, because the crate's messages
/// quote the decrypted length field.
fn padding_reason(e: &PaddingError) -> &'static str {
    match e {
        PaddingError::TooLarge(_) => "the payload is larger than the largest padding bucket",
        PaddingError::NotABucket(_) => "the plaintext is not a padding bucket size",
        PaddingError::LengthBeyondBucket(_) => {
            "the length field points beyond the padded plaintext"
        }
        PaddingError::NonZeroPadding => "the padding after the payload is not all zero bytes",
    }
}

/// A report or follow-up that opened, with its thread.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The payload: [`Payload::Report`] or [`Payload::FollowUp`], never a reply.
    pub payload: Payload,
    /// The thread id from the reply material, if it decodes.
    pub thread_id: Option<[u8; 16]>,
    /// The key that opened it.
    pub key_id: KeyId,
}

/// The unlocked key ring of one force.
///
/// `Clone` so that `pull` can open envelopes on worker threads (which need an
/// owned, `'static` handle) while its caller keeps a borrowed ring; each
/// copy's private keys are zeroized when it is dropped, at the end of the pull.
#[derive(Clone)]
pub struct KeyRing {
    force_id: String,
    keys: Vec<RingKey>,
    current: KeyId,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("force_id", &self.force_id)
            .field("keys", &self.keys)
            .field("current", &self.current)
            .finish()
    }
}

impl KeyRing {
    /// Unlock every key in `dir` with `passphrase`. `current` names the current
    /// key (from the config); without it the newest key is current.
    pub fn unlock(
        dir: &Path,
        current: Option<&str>,
        passphrase: &[u8],
    ) -> Result<KeyRing, KeyRingError> {
        let files = list_keys(dir)?;
        if files.is_empty() {
            return Err(KeyRingError::Empty(dir.to_owned()));
        }
        let mut keys = Vec::with_capacity(files.len());
        let mut force_id: Option<String> = None;
        for (path, _) in files {
            let (info, key) = load_key_file(&path, passphrase)?;
            match &force_id {
                None => force_id = Some(info.force_id.clone()),
                Some(f) if *f != info.force_id => {
                    return Err(KeyRingError::OtherForce {
                        path,
                        found: info.force_id,
                        expected: f.clone(),
                    });
                }
                Some(_) => {}
            }
            keys.push(RingKey { info, key });
        }
        let current = match current {
            Some(hex) => {
                let id = KeyId::from_hex(hex)
                    .map_err(|_| KeyRingError::CurrentMissing(hex.to_owned()))?;
                if !keys.iter().any(|k| k.info.key_id == id) {
                    return Err(KeyRingError::CurrentMissing(hex.to_owned()));
                }
                id
            }
            // Sorted oldest first: the last is the newest.
            None => keys[keys.len() - 1].info.key_id,
        };
        Ok(KeyRing {
            force_id: force_id.unwrap_or_default(),
            keys,
            current,
        })
    }

    /// The force every key belongs to.
    pub fn force_id(&self) -> &str {
        &self.force_id
    }
    /// The current key's public key (new vault records are sealed to it).
    pub fn current_public_key(&self) -> PublicKey {
        self.keys
            .iter()
            .find(|k| k.info.key_id == self.current)
            .map(|k| k.info.public_key.clone())
            .unwrap_or_else(|| self.keys[0].info.public_key.clone())
    }
    /// The current key id.
    pub fn current_key_id(&self) -> KeyId {
        self.current
    }
    /// The unlocked keys' headers.
    pub fn keys(&self) -> impl Iterator<Item = &KeyFileInfo> {
        self.keys.iter().map(|k| &k.info)
    }

    fn key(&self, id: KeyId) -> Option<&PrivateKey> {
        self.keys
            .iter()
            .find(|k| k.info.key_id == id)
            .map(|k| &k.key)
    }

    /// Open a kind-1 envelope routed to this force with the key it names and
    /// return its plaintext payload bytes, or why not.
    pub fn open_kind1(&self, bytes: &[u8]) -> Result<(zeroize::Zeroizing<Vec<u8>>, KeyId), Flag> {
        let env = envelope::parse(bytes).map_err(Flag::Malformed)?;
        if env.kind() != Kind::Report {
            return Err(Flag::NotAReport);
        }
        match env.routing() {
            Routing::Force(f) if f == self.force_id => {}
            Routing::Force(f) => return Err(Flag::OtherForce(f.to_owned())),
            Routing::Slot(_) => return Err(Flag::NotAReport),
        }
        let key_id = env.key_id();
        let key = self.key(key_id).ok_or(Flag::UnknownKey(key_id))?;
        let plain = open(key, Kind::Report, bytes).map_err(|e| match e {
            OpenError::Envelope(e) => Flag::Malformed(e),
            OpenError::WrongKind { .. } => Flag::NotAReport,
            OpenError::WrongKey { found, .. } => Flag::UnknownKey(found),
            // The key id names a key of the other suite: the header was altered.
            OpenError::Decryption | OpenError::WrongSuite { .. } => Flag::Tampered,
            OpenError::Padding(p) => Flag::BadPadding(padding_reason(&p)),
        })?;
        Ok((plain, key_id))
    }

    /// Open a report or follow-up envelope as pulled from the server.
    pub fn open_message(&self, bytes: &[u8]) -> Result<Opened, Flag> {
        let (plain, key_id) = self.open_kind1(bytes)?;
        // The parser's own message may quote the payload (serde echoes the
        // value it rejects): the reason is rebuilt from the schema instead.
        let payload =
            Payload::from_json(&plain).map_err(|_| Flag::BadPayload(refusal::payload(&plain)))?;
        let reply = match &payload {
            Payload::Report(r) => &r.reply,
            Payload::FollowUp(f) => &f.reply,
            Payload::Reply(_) => {
                return Err(Flag::BadPayload(Refusal::member(
                    "type",
                    "is `reply`: a force's reply inside a report envelope",
                )));
            }
        };
        let thread_id = reply.decode().ok().map(|(_, t, _)| t);
        Ok(Opened {
            payload,
            thread_id,
            key_id,
        })
    }
}

// --- Signing keys and key statements (crypto/FORMAT.md#key-statements) ---
//
// A force's Ed25519 signing keys live beside the key ring, in
// `<home>/signing/<signer id>.key` (FORMAT.md#signing-key-file), sealed under
// the ring's passphrase; the statements this home signed are kept, public,
// in `<home>/statements/<sequence>.statement` (base64url, one line), so the
// next rotation continues the chain.

/// How long a new key's statement is valid by default: two years.
pub const STATEMENT_VALIDITY_DAYS: u32 = 730;

/// Every signing-key file in `dir` (no passphrase needed), by signer id.
pub fn list_signing_keys(dir: &Path) -> Result<Vec<(PathBuf, SigningKeyInfo)>, KeyRingError> {
    let mut out = Vec::new();
    for path in files_with_extension(dir, "key")? {
        let text = read_key_text(&path)?;
        let info = signing_key_file_info(&text).map_err(|error| {
            KeyRingError::KeyFile(KeyStoreError::Format {
                path: path.clone(),
                error,
            })
        })?;
        out.push((path, info));
    }
    out.sort_by_key(|(_, i)| i.signer_id);
    Ok(out)
}

fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, KeyRingError> {
    let list = |error| KeyRingError::ListDir {
        path: dir.to_owned(),
        error,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(list(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(list)?.path();
        if path.extension().and_then(|e| e.to_str()) == Some(ext) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Generate a signing key, seal it under `passphrase` into
/// `dir/<signer id>.key` (0600, never overwriting) and return its public key.
pub fn create_signing_key(
    dir: &Path,
    force_id: &str,
    created_day: &str,
    passphrase: &[u8],
) -> Result<SignerKey, KeyRingError> {
    create_dir_private(dir)?;
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let sk = SigningSecret::generate(&mut rng);
    let text = zeroize::Zeroizing::new(
        seal_signing_key_file(
            &mut rng,
            &sk,
            force_id,
            created_day,
            passphrase,
            kdf_for_new_keys(),
        )
        .map_err(|e| KeyRingError::Seal(e.to_string()))?,
    );
    let pk = sk.public_key();
    drop(sk);
    write_key_file(&dir.join(format!("{}.key", pk.signer_id())), &text)?;
    Ok(pk)
}

/// Copy a signing-key file made elsewhere (the demo's `signing.key`) into
/// `dir`, after checking it opens with `passphrase` and is `force`'s.
pub fn import_signing_key(
    dir: &Path,
    source: &Path,
    passphrase: &[u8],
    force: Option<&str>,
) -> Result<SigningKeyInfo, KeyRingError> {
    let text = read_key_text(source)?;
    let (info, sk) = open_signing_key_file(&text, passphrase).map_err(|error| {
        KeyRingError::KeyFile(KeyStoreError::Format {
            path: source.to_owned(),
            error,
        })
    })?;
    drop(sk);
    if let Some(expected) = force
        && info.force_id != expected
    {
        return Err(KeyRingError::OtherForce {
            path: source.to_owned(),
            found: info.force_id,
            expected: expected.to_owned(),
        });
    }
    create_dir_private(dir)?;
    write_key_file(&dir.join(format!("{}.key", info.signer_id)), &text)?;
    Ok(info)
}

fn create_dir_private(dir: &Path) -> Result<(), KeyRingError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|error| KeyRingError::ListDir {
            path: dir.to_owned(),
            error,
        })
}

/// The statements this home signed or imported, by sequence number (each
/// parsed; a file that does not parse is an error naming it).
pub fn statements(dir: &Path) -> Result<Vec<SignedStatement>, KeyRingError> {
    let mut out = Vec::new();
    for path in files_with_extension(dir, "statement")? {
        let text = std::fs::read_to_string(&path).map_err(|error| KeyRingError::ListDir {
            path: path.clone(),
            error,
        })?;
        let s = SignedStatement::from_base64url(&text).map_err(|e| KeyRingError::Statement {
            path: path.clone(),
            error: e,
        })?;
        out.push(s);
    }
    out.sort_by_key(|s| s.statement().sequence);
    Ok(out)
}

/// Keep a statement in `dir` (`<sequence>.statement`, 0600, never replacing
/// one of the same sequence: two statements with one number are a fork).
pub fn record_statement(dir: &Path, s: &SignedStatement) -> Result<PathBuf, KeyRingError> {
    create_dir_private(dir)?;
    let path = dir.join(format!("{:020}.statement", s.statement().sequence));
    write_key_file(&path, &format!("{}\n", s.to_base64url()))?;
    Ok(path)
}

/// Sign the statement that publishes `public_key` with every signing key in
/// `signing_dir` (unlocked with `passphrase`), continuing the chain in
/// `statements_dir`, valid from `from_day` for `days` days; record and
/// return it. `Ok(None)` when the home has no signing keys (a home from
/// before signing keys: its keys go to the platform bare).
pub fn sign_key_statement(
    signing_dir: &Path,
    statements_dir: &Path,
    force_id: &str,
    public_key: &PublicKey,
    from_day: u32,
    days: u32,
    passphrase: &[u8],
) -> Result<Option<SignedStatement>, KeyRingError> {
    let files = list_signing_keys(signing_dir)?;
    if files.is_empty() {
        return Ok(None);
    }
    let mut signers = Vec::with_capacity(files.len());
    for (path, _) in &files {
        signers.push(open_signing_key(path, passphrase, force_id)?);
    }
    let until = from_day.saturating_add(days);
    let statement = match statements(statements_dir)?.last() {
        Some(prev) => prev.statement().next(public_key.clone(), from_day, until),
        None => KeyStatement {
            force_id: force_id.to_owned(),
            public_key: public_key.clone(),
            valid_from: from_day,
            valid_until: until,
            sequence: 0,
            prev_hash: NO_PREVIOUS,
        },
    };
    let refs: Vec<&SigningSecret> = signers.iter().collect();
    let signed = SignedStatement::sign(statement, &refs).map_err(|e| KeyRingError::Statement {
        path: statements_dir.to_owned(),
        error: e,
    })?;
    drop(signers);
    record_statement(statements_dir, &signed)?;
    Ok(Some(signed))
}

/// Open one signing-key file with `passphrase` and check it is `force_id`'s.
pub fn open_signing_key(
    path: &Path,
    passphrase: &[u8],
    force_id: &str,
) -> Result<SigningSecret, KeyRingError> {
    let text = read_key_text(path)?;
    let (info, sk) = open_signing_key_file(&text, passphrase).map_err(|error| {
        KeyRingError::KeyFile(KeyStoreError::Format {
            path: path.to_owned(),
            error,
        })
    })?;
    if info.force_id != force_id {
        return Err(KeyRingError::OtherForce {
            path: path.to_owned(),
            found: info.force_id,
            expected: force_id.to_owned(),
        });
    }
    Ok(sk)
}

// --- The force's signer set, k-of-n across custodians (FORMAT.md#signing-keys) ---
//
// When a force's signing keys are held by different people, each home holds
// only its own key(s) in `signing/`, so "every key in signing/ signs" no
// longer describes the force. `<home>/signers.json` records the set the
// operator registered (`quietline force signer set`): the public keys and
// the threshold. The watch checks served statements against it when present.

/// The signer-set file in a home.
pub const SIGNERS_FILE: &str = "signers.json";

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SignersFile {
    threshold: usize,
    signers: Vec<String>,
}

fn signers_error(path: &Path, error: StatementError) -> KeyRingError {
    KeyRingError::Statement {
        path: path.to_owned(),
        error,
    }
}

/// The force's signer set as recorded in `<home_root>/signers.json`;
/// `None` when the file does not exist. A file that does not parse, or a
/// set that breaks the rules (1 ≤ k ≤ n ≤ 16, no key twice), is an error.
pub fn read_signer_set(home_root: &Path) -> Result<Option<SignerSet>, KeyRingError> {
    let path = home_root.join(SIGNERS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(KeyRingError::ListDir { path, error }),
    };
    let file: SignersFile = serde_json::from_str(&text).map_err(|_| {
        signers_error(
            &path,
            StatementError::BadSignerSet(
                "signers.json is not {\"threshold\":K,\"signers\":[\"<base64url public key>\",...]}",
            ),
        )
    })?;
    let keys = file
        .signers
        .iter()
        .map(|k| SignerKey::from_base64url(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| signers_error(&path, e))?;
    SignerSet::new(keys, file.threshold)
        .map(Some)
        .map_err(|e| signers_error(&path, e))
}

/// Write (or replace) `<home_root>/signers.json`, mode 0600.
pub fn write_signer_set(home_root: &Path, set: &SignerSet) -> Result<PathBuf, KeyRingError> {
    let path = home_root.join(SIGNERS_FILE);
    let file = SignersFile {
        threshold: set.threshold(),
        signers: set.keys().iter().map(SignerKey::to_base64url).collect(),
    };
    let text = serde_json::to_string_pretty(&file).unwrap_or_default() + "\n";
    replace_private_file(&path, &text)?;
    Ok(path)
}

/// Write `text` to `path` through a 0600 temporary file renamed over it, so
/// a reader sees the old file or the new one, never half.
fn replace_private_file(path: &Path, text: &str) -> Result<(), KeyRingError> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    write_key_file(&tmp, text)?;
    std::fs::rename(&tmp, path).map_err(|error| KeyRingError::ListDir {
        path: path.to_owned(),
        error,
    })
}

/// How many more signatures by distinct keys of `set` `s` needs to reach
/// the threshold (signatures are not verified here: the reader does).
pub fn signatures_needed(s: &SignedStatement, set: &SignerSet) -> usize {
    let ids: Vec<_> = set.keys().iter().map(SignerKey::signer_id).collect();
    let have = s.signers().filter(|id| ids.contains(id)).count();
    set.threshold().saturating_sub(have)
}

/// Add the signatures of `signers` to `s` (co-signing,
/// FORMAT.md#signing-keys). A signer that already signed is skipped; none
/// left to add is an error (`signature_order`).
pub fn cosign_statement(
    s: &SignedStatement,
    signers: &[SigningSecret],
) -> Result<SignedStatement, StatementError> {
    let present: Vec<_> = s.signers().collect();
    let mut out = s.clone();
    let mut added = 0;
    for sk in signers {
        if present.contains(&sk.public_key().signer_id()) {
            continue;
        }
        out = out.cosign(sk)?;
        added += 1;
    }
    if added == 0 {
        return Err(StatementError::SignatureOrder);
    }
    Ok(out)
}

/// How a co-signed statement relates to the statements a home keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeping {
    /// The home holds none: it is kept as the first.
    First,
    /// The same statement (fewer signatures) is kept: replaced by this one.
    Replace,
    /// The next in the home's chain (sequence and previous hash checked).
    Next,
    /// Later than the last statement kept, with statements between that
    /// this home never saw (k-of-n where it was not among the signers): the
    /// chain between cannot be checked here. Holds the last kept sequence.
    After(u64),
}

/// Whether `s` may be kept in `dir`, and how (see [`record_cosigned`]).
/// Refuses another statement with a sequence this home already holds (a
/// fork), one older than the last kept, and the next one that does not
/// chain to the last kept.
pub fn check_cosigned(dir: &Path, s: &SignedStatement) -> Result<Keeping, KeyRingError> {
    let kept = statements(dir)?;
    let broken = |why| KeyRingError::Statement {
        path: dir.to_owned(),
        error: StatementError::BrokenChain(why),
    };
    if let Some(k) = kept
        .iter()
        .find(|k| k.statement().sequence == s.statement().sequence)
    {
        return if k.statement() == s.statement() {
            Ok(Keeping::Replace)
        } else {
            Err(broken(
                "this home already holds another statement with that sequence number (a fork)",
            ))
        };
    }
    let Some(last) = kept.last() else {
        return Ok(Keeping::First);
    };
    let last_seq = last.statement().sequence;
    if s.statement().sequence < last_seq {
        return Err(broken(
            "the statement is older than the last one this home holds",
        ));
    }
    if s.statement().sequence > last_seq.saturating_add(1) {
        return Ok(Keeping::After(last_seq));
    }
    s.statement()
        .follows(Some(last.statement()))
        .map(|()| Keeping::Next)
        .map_err(|error| KeyRingError::Statement {
            path: dir.to_owned(),
            error,
        })
}

/// Keep a statement this home co-signed in `dir`, so its chain continues
/// (checked again by [`check_cosigned`]; call that before signing to refuse
/// early): the same statement is replaced by the one with more signatures,
/// any other is written as `<sequence>.statement`.
pub fn record_cosigned(dir: &Path, s: &SignedStatement) -> Result<PathBuf, KeyRingError> {
    if check_cosigned(dir, s)? == Keeping::Replace {
        let path = dir.join(format!("{:020}.statement", s.statement().sequence));
        replace_private_file(&path, &format!("{}\n", s.to_base64url()))?;
        return Ok(path);
    }
    record_statement(dir, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn rng() -> impl rand_core::CryptoRng {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn signer_set_file_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_signer_set(dir.path()).unwrap(), None);
        let a = SigningSecret::generate(&mut rng()).public_key();
        let b = SigningSecret::generate(&mut rng()).public_key();
        let set = SignerSet::new(vec![a.clone(), b], 2).unwrap();
        let path = write_signer_set(dir.path(), &set).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_signer_set(dir.path()).unwrap(), Some(set));
        // Replaced, not refused, when written again.
        write_signer_set(dir.path(), &SignerSet::single(a.clone())).unwrap();
        assert_eq!(
            read_signer_set(dir.path()).unwrap(),
            Some(SignerSet::single(a.clone()))
        );
        std::fs::write(
            &path,
            format!(r#"{{"threshold":3,"signers":["{}"]}}"#, a.to_base64url()),
        )
        .unwrap();
        assert!(read_signer_set(dir.path()).is_err());
        std::fs::write(&path, "{}").unwrap();
        assert!(read_signer_set(dir.path()).is_err());
    }

    #[test]
    fn cosigned_statements_continue_the_chain_and_refuse_a_fork() {
        let dir = tempfile::tempdir().unwrap();
        let a = SigningSecret::generate(&mut rng());
        let b = SigningSecret::generate(&mut rng());
        let (_, pk) = quietline_crypto::keys::generate_keypair(&mut rng());
        let st = KeyStatement {
            force_id: "north".into(),
            public_key: pk.clone(),
            valid_from: 1,
            valid_until: 2,
            sequence: 0,
            prev_hash: NO_PREVIOUS,
        };
        let by_a = SignedStatement::sign(st.clone(), &[&a]).unwrap();
        record_statement(dir.path(), &by_a).unwrap();
        let set = SignerSet::new(vec![a.public_key(), b.public_key()], 2).unwrap();
        assert_eq!(signatures_needed(&by_a, &set), 1);
        let ab = cosign_statement(&by_a, &[a.clone(), b.clone()]).unwrap();
        assert_eq!(signatures_needed(&ab, &set), 0);
        assert!(cosign_statement(&ab, std::slice::from_ref(&a)).is_err());
        // The same statement with more signatures replaces the kept copy.
        record_cosigned(dir.path(), &ab).unwrap();
        assert_eq!(statements(dir.path()).unwrap(), vec![ab.clone()]);
        // Another statement with the same sequence is a fork.
        let mut other = st.clone();
        other.valid_until = 3;
        let fork = SignedStatement::sign(other, &[&b]).unwrap();
        assert!(check_cosigned(dir.path(), &fork).is_err());
        // The next one follows; one that skips a number does not.
        let next = SignedStatement::sign(st.next(pk.clone(), 1, 2), &[&b]).unwrap();
        assert_eq!(check_cosigned(dir.path(), &next).unwrap(), Keeping::Next);
        let mut bad = st.next(pk.clone(), 1, 2);
        bad.prev_hash[0] ^= 1;
        let bad = SignedStatement::sign(bad, &[&b]).unwrap();
        assert!(check_cosigned(dir.path(), &bad).is_err());
        // A later one, with statements between this home never saw, is kept
        // (in 2-of-3 a custodian need not sign every statement).
        let mut later = st.next(pk, 1, 2);
        later.sequence = 5;
        let later = SignedStatement::sign(later, &[&b]).unwrap();
        assert_eq!(
            check_cosigned(dir.path(), &later).unwrap(),
            Keeping::After(0)
        );
        record_cosigned(dir.path(), &later).unwrap();
        assert_eq!(statements(dir.path()).unwrap().len(), 2);
        assert!(check_cosigned(dir.path(), &next).is_err());
    }
}

//! The key log (FORMAT.md#key-log): the append-only Merkle log of key
//! statements the platform keeps, and its signed checkpoints.
//!
//! It owns the pure maths: leaf and node hashes (RFC 9162 §2.1), the root of
//! a list of entries, building and verifying inclusion and consistency
//! proofs (RFC 9162 §2.1.3, §2.1.4), the C2SP `tlog-checkpoint` body, and the
//! C2SP `signed-note` around it (Ed25519, signature type 0x01): signing one,
//! opening one against a verifier key, and the verifier-key line.
//!
//! It does not store, fetch or order entries (the server's storage does), keep
//! the last checkpoint a reader saw (the console's watch and the page do), or
//! draw randomness (a log key is made from a seed the caller draws). The tree
//! is `ct-merkle` (RFC 6962 trees over RustCrypto's SHA-256); Ed25519 is
//! `ed25519-dalek`, as for statements. The note format is written here over
//! them: it is a text layout, not a primitive, and the one crate for it
//! (`signed_note`) would bring a second Ed25519 and SHA-2 into the crate.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// The signed-note signature type of an Ed25519 key (C2SP signed-note).
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Most entries one `GET /api/v1/keylog/entries` returns (FORMAT.md#key-log-api).
pub const MAX_ENTRIES_PER_REQUEST: u64 = 256;
/// Largest tree size this code handles. Far beyond any force directory, and
/// small enough that no index arithmetic can overflow (the tree crate's
/// indices are `2·size`).
pub const MAX_TREE_SIZE: u64 = 1 << 48;
/// Longest signed note a reader accepts (a checkpoint is ~150 octets per
/// signature; C2SP signed-note asks readers to bound what they parse).
pub const MAX_NOTE_LEN: usize = 16 * 1024;
/// Most signature lines a reader looks at in one note.
pub const MAX_NOTE_SIGNATURES: usize = 16;
/// The em dash and space that start a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a proof, a checkpoint or a key was refused. Each has a stable code
/// ([`KeylogError::code`], FORMAT.md#key-log-errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeylogError {
    /// Indices or sizes outside the tree (or beyond [`MAX_TREE_SIZE`]).
    #[error("{0}")]
    BadRange(String),
    /// A proof with the wrong number of hashes for its index and sizes.
    #[error("the proof has {found} hashes; a proof for these sizes has {expected}")]
    MalformedProof {
        /// Hashes given.
        found: usize,
        /// Hashes a proof for these indices has.
        expected: usize,
    },
    /// The inclusion proof does not lead to the root: the entry is not at
    /// that index in that tree.
    #[error(
        "the inclusion proof does not lead to the checkpoint's root: the entry is not in the log at that index"
    )]
    NotIncluded,
    /// The consistency proof does not join the two roots: the newer tree does
    /// not extend the older one (history was rewritten).
    #[error(
        "the consistency proof does not join the two checkpoints: the log's history was rewritten"
    )]
    Inconsistent,
    /// A verifier key line that is not `<name>+<8 hex>+<base64>` of an
    /// Ed25519 key with its right key id.
    #[error("not a signed-note verifier key: {0}")]
    BadVerifierKey(&'static str),
    /// A note that breaks the signed-note layout.
    #[error("not a signed note: {0}")]
    MalformedNote(&'static str),
    /// No signature on the note by the key's name and key id.
    #[error("the note carries no signature by the log key {0}")]
    NotSignedByKey(String),
    /// A signature by the key's name and key id that does not verify.
    #[error(
        "the note's signature by the log key {0} does not verify: the checkpoint was altered or signed by another key"
    )]
    BadNoteSignature(String),
    /// A note body that is not a checkpoint.
    #[error("not a checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A checkpoint of another log.
    #[error("the checkpoint is for log {found:?}, not {expected:?}")]
    WrongOrigin {
        /// The log expected (the key's name).
        expected: String,
        /// The checkpoint's origin.
        found: String,
    },
    /// A log name (origin) that cannot be a signed-note key name.
    #[error(
        "a log origin is 1 to 255 printable ASCII characters without spaces or '+', such as example.org/keylog"
    )]
    BadOrigin,
}

impl KeylogError {
    /// The stable snake_case code (FORMAT.md#key-log-errors).
    pub fn code(&self) -> &'static str {
        match self {
            KeylogError::BadRange(_) => "bad_range",
            KeylogError::MalformedProof { .. } => "malformed_proof",
            KeylogError::NotIncluded => "not_included",
            KeylogError::Inconsistent => "inconsistent",
            KeylogError::BadVerifierKey(_) => "bad_verifier_key",
            KeylogError::MalformedNote(_) => "malformed_note",
            KeylogError::NotSignedByKey(_) => "not_signed_by_key",
            KeylogError::BadNoteSignature(_) => "bad_note_signature",
            KeylogError::MalformedCheckpoint(_) => "malformed_checkpoint",
            KeylogError::WrongOrigin { .. } => "wrong_origin",
            KeylogError::BadOrigin => "bad_origin",
        }
    }
}

// ---------------------------------------------------------------------------
// Tree hashes (RFC 9162 §2.1.1)

/// The leaf hash of an entry: SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0x00])
        .chain_update(entry)
        .finalize()
        .into()
}

/// An interior node's hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([0x01])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

fn check_size(size: u64) -> Result<(), KeylogError> {
    if size > MAX_TREE_SIZE {
        return Err(KeylogError::BadRange(format!(
            "a tree size is at most {MAX_TREE_SIZE}; {size} was given"
        )));
    }
    Ok(())
}

fn tree<E: AsRef<[u8]>>(entries: &[E]) -> Result<MemoryBackedTree<Sha256, &[u8]>, KeylogError> {
    check_size(entries.len() as u64)?;
    let mut t = MemoryBackedTree::new();
    for e in entries {
        t.push(e.as_ref());
    }
    Ok(t)
}

fn to_hash(out: &ct_merkle::digest::Output<Sha256>) -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(out.as_slice());
    h
}

fn hashes_of(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect()
}

fn digests(proof: &[Hash]) -> Vec<ct_merkle::digest::Output<Sha256>> {
    proof.iter().map(|h| (*h).into()).collect()
}

fn root_hash(root: &Hash, size: u64) -> RootHash<Sha256> {
    RootHash::new((*root).into(), size)
}

/// The root of the tree whose leaves are `entries`, in order (the empty
/// tree's root for none). Refuses more than [`MAX_TREE_SIZE`] entries.
pub fn tree_root<E: AsRef<[u8]>>(entries: &[E]) -> Result<Hash, KeylogError> {
    Ok(to_hash(tree(entries)?.root().as_bytes()))
}

/// The inclusion proof (RFC 9162 §2.1.3.1) of entry `index` in the tree of
/// all of `entries`: sibling hashes from the leaf up.
pub fn inclusion_proof<E: AsRef<[u8]>>(
    entries: &[E],
    index: u64,
) -> Result<Vec<Hash>, KeylogError> {
    let size = entries.len() as u64;
    if index >= size {
        return Err(KeylogError::BadRange(format!(
            "index {index} is not in a tree of size {size} (0 ≤ index < size)"
        )));
    }
    let t = tree(entries)?;
    let i = usize::try_from(index).map_err(|_| KeylogError::BadRange("index too large".into()))?;
    Ok(hashes_of(t.prove_inclusion(i).as_bytes()))
}

/// The consistency proof (RFC 9162 §2.1.4.1) from the tree of the first
/// `from` entries to the tree of all of `entries`. Empty when `from` is 0 or
/// the whole length (nothing to prove).
pub fn consistency_proof<E: AsRef<[u8]>>(
    entries: &[E],
    from: u64,
) -> Result<Vec<Hash>, KeylogError> {
    let to = entries.len() as u64;
    if from > to {
        return Err(KeylogError::BadRange(format!(
            "from {from} is larger than to {to} (0 ≤ from ≤ to)"
        )));
    }
    if from == 0 || from == to {
        check_size(to)?;
        return Ok(Vec::new());
    }
    let t = tree(entries)?;
    let additions =
        usize::try_from(to - from).map_err(|_| KeylogError::BadRange("sizes too large".into()))?;
    Ok(hashes_of(t.prove_consistency(additions).as_bytes()))
}

/// Verify that `entry` is leaf `index` of the tree of `size` leaves whose
/// root is `root`, by the inclusion proof `proof` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    entry: &[u8],
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), KeylogError> {
    check_size(size)?;
    if index >= size {
        return Err(KeylogError::BadRange(format!(
            "index {index} is not in a tree of size {size} (0 ≤ index < size)"
        )));
    }
    let expected = ct_merkle::indices_for_inclusion_proof(size, index).len();
    if proof.len() != expected {
        return Err(KeylogError::MalformedProof {
            found: proof.len(),
            expected,
        });
    }
    let p = InclusionProof::<Sha256>::from_digests(digests(proof).iter());
    root_hash(root, size)
        .verify_inclusion(&entry, index, &p)
        .map_err(|_| KeylogError::NotIncluded)
}

/// Verify that the tree of `to` leaves with root `to_root` extends the tree
/// of `from` leaves with root `from_root`, by `proof` (RFC 9162 §2.1.4.2).
/// From 0 every tree is consistent (the proof must be empty); from `to` to
/// itself the proof is empty and the roots equal.
pub fn verify_consistency(
    from: u64,
    to: u64,
    proof: &[Hash],
    from_root: &Hash,
    to_root: &Hash,
) -> Result<(), KeylogError> {
    check_size(to)?;
    if from > to {
        return Err(KeylogError::BadRange(format!(
            "from {from} is larger than to {to} (0 ≤ from ≤ to)"
        )));
    }
    let expected = if from == 0 || from == to {
        0
    } else {
        ct_merkle::indices_for_consistency_proof(from, to - from).len()
    };
    if proof.len() != expected {
        return Err(KeylogError::MalformedProof {
            found: proof.len(),
            expected,
        });
    }
    if from == 0 {
        return Ok(());
    }
    if from == to {
        return if from_root == to_root {
            Ok(())
        } else {
            Err(KeylogError::Inconsistent)
        };
    }
    let p = ConsistencyProof::<Sha256>::from_digests(digests(proof).iter());
    root_hash(to_root, to)
        .verify_consistency(&root_hash(from_root, from), &p)
        .map_err(|_| KeylogError::Inconsistent)
}

/// A tree hash as the API writes it: base64url without padding.
pub fn hash_to_base64url(h: &Hash) -> String {
    URL_SAFE_NO_PAD.encode(h)
}

/// A tree hash from the API's base64url; `None` unless exactly 32 octets.
pub fn hash_from_base64url(s: &str) -> Option<Hash> {
    URL_SAFE_NO_PAD.decode(s).ok()?.try_into().ok()
}

// ---------------------------------------------------------------------------
// Checkpoints (C2SP tlog-checkpoint)

/// A checkpoint: the log's origin, its size and its root
/// (FORMAT.md#checkpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name (also its key's name).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash of the tree of those entries.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parse a note text as a checkpoint. Extension lines after the root
    /// (C2SP tlog-checkpoint allows them) are ignored.
    pub fn parse_body(text: &str) -> Result<Checkpoint, KeylogError> {
        let Some(lines) = text.strip_suffix('\n') else {
            return Err(KeylogError::MalformedCheckpoint(
                "it does not end with a newline",
            ));
        };
        let mut it = lines.split('\n');
        let origin = it.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(KeylogError::MalformedCheckpoint("the origin line is empty"));
        }
        let size_line = it
            .next()
            .ok_or(KeylogError::MalformedCheckpoint("it has no size line"))?;
        // Decimal ASCII without leading zeros (C2SP tlog-checkpoint).
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(KeylogError::MalformedCheckpoint(
                "the size is not a decimal number without leading zeros",
            ));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| KeylogError::MalformedCheckpoint("the size is too large"))?;
        let root_line = it
            .next()
            .ok_or(KeylogError::MalformedCheckpoint("it has no root line"))?;
        let root: Hash = STANDARD
            .decode(root_line)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(KeylogError::MalformedCheckpoint(
                "the root is not 32 octets in standard base64",
            ))?;
        if it.any(str::is_empty) {
            return Err(KeylogError::MalformedCheckpoint(
                "it has an empty extension line",
            ));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

// ---------------------------------------------------------------------------
// Signed notes (C2SP signed-note), Ed25519 keys only

/// Whether `name` can name a log key (and so be a log origin): 1 to 255
/// printable ASCII characters other than space and `+` (C2SP signed-note
/// allows any non-space Unicode; this format keeps to ASCII, so a key line
/// is plain text in any charset).
pub fn is_valid_origin(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| b.is_ascii_graphic() && b != b'+')
}

fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    // C2SP signed-note: key ID = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4].
    let d = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([0x0A, SIG_TYPE_ED25519])
        .chain_update(public)
        .finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A log's verifier key: its name (the origin), key id and Ed25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct LogKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogKey({})", self.to_vkey())
    }
}

impl LogKey {
    /// Parse a verifier key line `<name>+<8 hex key id>+<base64 (0x01 ‖ pub)>`,
    /// checking the key id against the name and key.
    pub fn from_vkey(vkey: &str) -> Result<LogKey, KeylogError> {
        let vkey = vkey.trim_end_matches(['\n', '\r']);
        let (name, rest) = vkey
            .split_once('+')
            .ok_or(KeylogError::BadVerifierKey("it has no '+'"))?;
        let (id_hex, key_b64) = rest
            .split_once('+')
            .ok_or(KeylogError::BadVerifierKey("it has no second '+'"))?;
        if !is_valid_origin(name) {
            return Err(KeylogError::BadVerifierKey(
                "the name is empty or has spaces or '+'",
            ));
        }
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeylogError::BadVerifierKey(
                "the key id is not 8 hex digits",
            ));
        }
        let id = u32::from_str_radix(id_hex, 16)
            .map_err(|_| KeylogError::BadVerifierKey("the key id is not 8 hex digits"))?;
        let raw = STANDARD
            .decode(key_b64)
            .map_err(|_| KeylogError::BadVerifierKey("the key is not standard base64"))?;
        if raw.len() != 33 || raw[0] != SIG_TYPE_ED25519 {
            return Err(KeylogError::BadVerifierKey(
                "the key is not an Ed25519 key (type 0x01 and 32 octets)",
            ));
        }
        let public: [u8; 32] = raw[1..]
            .try_into()
            .map_err(|_| KeylogError::BadVerifierKey("the key is not 32 octets"))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| KeylogError::BadVerifierKey("the key is not a valid Ed25519 key"))?;
        if key.is_weak() {
            return Err(KeylogError::BadVerifierKey(
                "the key is a small-order Ed25519 key",
            ));
        }
        if key_id(name, &public) != id {
            return Err(KeylogError::BadVerifierKey(
                "the key id is not the key id of that name and key",
            ));
        }
        Ok(LogKey {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// The verifier key line.
    pub fn to_vkey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(SIG_TYPE_ED25519);
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }

    /// The key's name: the log's origin.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-octet key id, as a big-endian number.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Open a signed note: check its layout, find the signature by this key
    /// (same name and key id; signatures by other keys are skipped, as C2SP
    /// signed-note asks), verify it, and return the note's text.
    pub fn open_note<'a>(&self, note: &'a str) -> Result<&'a str, KeylogError> {
        if note.len() > MAX_NOTE_LEN {
            return Err(KeylogError::MalformedNote("it is longer than 16 KiB"));
        }
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(KeylogError::MalformedNote("it holds control characters"));
        }
        let split = note.rfind("\n\n").ok_or(KeylogError::MalformedNote(
            "no blank line before the signatures",
        ))?;
        let text = &note[..split + 1];
        let sigs = &note[split + 2..];
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(KeylogError::MalformedNote("it does not end with a newline"));
        };
        let mut found = false;
        for (n, line) in sigs.split('\n').enumerate() {
            if n >= MAX_NOTE_SIGNATURES {
                return Err(KeylogError::MalformedNote("it carries too many signatures"));
            }
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or(KeylogError::MalformedNote(
                    "a signature line does not start with an em dash and a space",
                ))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(KeylogError::MalformedNote("a signature line has no name"))?;
            if !is_valid_origin(name) {
                return Err(KeylogError::MalformedNote(
                    "a signature line's name is not valid",
                ));
            }
            let raw = STANDARD
                .decode(b64)
                .map_err(|_| KeylogError::MalformedNote("a signature is not standard base64"))?;
            if raw.len() < 5 {
                return Err(KeylogError::MalformedNote(
                    "a signature is shorter than its key id",
                ));
            }
            let id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            if name != self.name || id != self.id {
                continue;
            }
            let sig = Signature::from_slice(&raw[4..])
                .map_err(|_| KeylogError::BadNoteSignature(self.name.clone()))?;
            self.key
                .verify_strict(text.as_bytes(), &sig)
                .map_err(|_| KeylogError::BadNoteSignature(self.name.clone()))?;
            found = true;
        }
        if found {
            Ok(text)
        } else {
            Err(KeylogError::NotSignedByKey(format!(
                "{}+{:08x}",
                self.name, self.id
            )))
        }
    }

    /// Open a signed checkpoint (FORMAT.md#checkpoints): the note's signature
    /// by this key, the body's layout, and its origin (which must be this
    /// key's name).
    pub fn open_checkpoint(&self, note: &str) -> Result<Checkpoint, KeylogError> {
        let text = self.open_note(note)?;
        let cp = Checkpoint::parse_body(text)?;
        if cp.origin != self.name {
            return Err(KeylogError::WrongOrigin {
                expected: self.name.clone(),
                found: cp.origin,
            });
        }
        Ok(cp)
    }
}

/// A log's signing key (private): an Ed25519 seed and the log's origin.
/// Zeroized on drop; Debug shows only the verifier key.
#[derive(Clone)]
pub struct LogSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogSigner({}, redacted)", self.log_key().to_vkey())
    }
}

impl LogSigner {
    /// A signer for the log named `origin` from a 32-octet Ed25519 seed.
    pub fn from_seed(origin: &str, seed: &[u8; 32]) -> Result<LogSigner, KeylogError> {
        if !is_valid_origin(origin) {
            return Err(KeylogError::BadOrigin);
        }
        Ok(LogSigner {
            name: origin.to_owned(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// A fresh seed from the caller's randomness (to keep, then pass to
    /// [`LogSigner::from_seed`]).
    pub fn generate_seed(rng: &mut impl rand_core::CryptoRng) -> Zeroizing<[u8; 32]> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        seed
    }

    /// The verifier key.
    pub fn log_key(&self) -> LogKey {
        let public = self.key.verifying_key();
        LogKey {
            name: self.name.clone(),
            id: key_id(&self.name, public.as_bytes()),
            key: public,
        }
    }

    /// Sign a note text (which ends with a newline) with this key alone:
    /// `text ‖ "\n" ‖ "— " ‖ name ‖ " " ‖ base64(key id ‖ signature) ‖ "\n"`.
    /// Ed25519 is deterministic, so the same text gives the same note.
    pub fn sign_note(&self, text: &str) -> Result<String, KeylogError> {
        if !text.ends_with('\n') {
            return Err(KeylogError::MalformedNote(
                "the text does not end with a newline",
            ));
        }
        if text.contains("\n\n") || text.starts_with('\n') {
            return Err(KeylogError::MalformedNote("the text has a blank line"));
        }
        let sig = self.key.sign(text.as_bytes()).to_bytes();
        let mut raw = Vec::with_capacity(68);
        raw.extend_from_slice(&self.log_key().id.to_be_bytes());
        raw.extend_from_slice(&sig);
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(raw)
        ))
    }

    /// The signed checkpoint of a tree of `size` entries with root `root`.
    pub fn sign_checkpoint(&self, size: u64, root: &Hash) -> String {
        let body = Checkpoint {
            origin: self.name.clone(),
            size,
            root: *root,
        }
        .body();
        // The origin was checked and a checkpoint body has no blank line.
        self.sign_note(&body).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The RFC 6962 reference leaves and roots (Certificate Transparency's
    // merkle_tree_test.cc, also transparency-dev/merkle proof/verify_test.go).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    fn leaves() -> Vec<Vec<u8>> {
        LEAVES.iter().map(|h| hex::decode(h).unwrap()).collect()
    }

    #[test]
    fn roots_of_the_reference_tree() {
        let l = leaves();
        assert_eq!(tree_root::<Vec<u8>>(&[]).unwrap(), empty_root());
        assert_eq!(
            hex::encode(tree_root(&l[..1]).unwrap()),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hex::encode(tree_root(&l).unwrap()),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
        assert_eq!(leaf_hash(&l[0]), tree_root(&l[..1]).unwrap());
        assert_eq!(
            node_hash(&leaf_hash(&l[0]), &leaf_hash(&l[1])),
            tree_root(&l[..2]).unwrap()
        );
    }

    #[test]
    fn go_note_vectors() {
        // golang.org/x/mod/sumdb/note's test key and note (also in C2SP's
        // signed-note and cloudflare's signed_note crate).
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let skey = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let note = format!(
            "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        );
        let key = LogKey::from_vkey(vkey).unwrap();
        assert_eq!(key.to_vkey(), vkey);
        assert_eq!(key.open_note(&note).unwrap(), text);
        let raw = STANDARD.decode(skey).unwrap();
        assert_eq!(raw[0], 1);
        let seed: [u8; 32] = raw[1..].try_into().unwrap();
        let signer = LogSigner::from_seed("PeterNeumann", &seed).unwrap();
        assert_eq!(signer.log_key(), key);
        assert_eq!(signer.sign_note(text).unwrap(), note);
        // Another key's signature is skipped; none by ours is refused.
        let other = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
        let enoch = LogKey::from_vkey(other).unwrap();
        assert_eq!(
            enoch.open_note(&note).unwrap_err().code(),
            "not_signed_by_key"
        );
        let altered = note.replace("problem is", "problem was");
        assert_eq!(
            key.open_note(&altered).unwrap_err().code(),
            "bad_note_signature"
        );
    }

    #[test]
    fn checkpoint_round_trip_and_refusals() {
        let signer = LogSigner::from_seed("example.org/keylog", &[7; 32]).unwrap();
        let key = signer.log_key();
        let root = tree_root(&leaves()).unwrap();
        let note = signer.sign_checkpoint(8, &root);
        assert!(note.starts_with(
            "example.org/keylog\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
        ));
        let cp = key.open_checkpoint(&note).unwrap();
        assert_eq!((cp.size, cp.root), (8, root));
        assert_eq!(LogKey::from_vkey(&key.to_vkey()).unwrap(), key);
        // The same name under another key, or another name, does not open it.
        let other = LogSigner::from_seed("example.org/keylog", &[8; 32]).unwrap();
        assert_eq!(
            other.log_key().open_checkpoint(&note).unwrap_err().code(),
            "not_signed_by_key"
        );
        // A body whose origin is not the key's name.
        let wrong = signer
            .sign_note(
                &Checkpoint {
                    origin: "elsewhere".into(),
                    size: 1,
                    root,
                }
                .body(),
            )
            .unwrap();
        assert_eq!(
            key.open_checkpoint(&wrong).unwrap_err().code(),
            "wrong_origin"
        );
        for bad in [
            "x\n08\nAA==\n",
            "x\n8\n",
            "x\n\n",
            "x\n8\nAAAA\n",
            "x\n-1\nAA\n",
        ] {
            assert_eq!(
                Checkpoint::parse_body(bad).unwrap_err().code(),
                "malformed_checkpoint",
                "{bad:?}"
            );
        }
        assert!(LogSigner::from_seed("a b", &[1; 32]).is_err());
        assert!(LogSigner::from_seed("a+b", &[1; 32]).is_err());
        let mut vk = key.to_vkey();
        vk.replace_range(vk.len() - 2.., "AA");
        assert!(LogKey::from_vkey(&vk).is_err());
    }

    fn entries(n: usize, salt: u8) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| vec![salt, i as u8, (i >> 8) as u8, 0x51])
            .collect()
    }

    #[test]
    fn empty_and_edge_ranges() {
        let e = entries(5, 1);
        let r5 = tree_root(&e).unwrap();
        assert!(consistency_proof(&e, 0).unwrap().is_empty());
        assert!(consistency_proof(&e, 5).unwrap().is_empty());
        verify_consistency(0, 5, &[], &empty_root(), &r5).unwrap();
        verify_consistency(5, 5, &[], &r5, &r5).unwrap();
        assert_eq!(
            verify_consistency(5, 5, &[], &r5, &empty_root())
                .unwrap_err()
                .code(),
            "inconsistent"
        );
        assert_eq!(consistency_proof(&e, 6).unwrap_err().code(), "bad_range");
        assert_eq!(inclusion_proof(&e, 5).unwrap_err().code(), "bad_range");
        assert_eq!(
            verify_inclusion(&e[0], 0, u64::MAX, &[], &r5)
                .unwrap_err()
                .code(),
            "bad_range"
        );
        assert_eq!(
            verify_consistency(3, u64::MAX, &[], &r5, &r5)
                .unwrap_err()
                .code(),
            "bad_range"
        );
        assert_eq!(
            verify_consistency(6, 5, &[], &r5, &r5).unwrap_err().code(),
            "bad_range"
        );
        assert_eq!(
            verify_inclusion(&e[0], 0, 5, &[], &r5).unwrap_err().code(),
            "malformed_proof"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Every leaf's inclusion proof verifies at every size it is in, and
        /// any altered hash, entry, index or root fails.
        #[test]
        fn inclusion_proofs_verify_and_alterations_fail(
            size in 1usize..70, pick in 0usize..70, salt in 0u8..255, flip in 0usize..(32 * 8)
        ) {
            let e = entries(size, salt);
            let index = pick % size;
            let root = tree_root(&e).unwrap();
            let proof = inclusion_proof(&e, index as u64).unwrap();
            verify_inclusion(&e[index], index as u64, size as u64, &proof, &root).unwrap();
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k][flip / 8] ^= 1 << (flip % 8);
                proptest::prop_assert!(verify_inclusion(&e[index], index as u64, size as u64, &bad, &root).is_err());
            }
            let mut bad_root = root;
            bad_root[flip / 8] ^= 1 << (flip % 8);
            proptest::prop_assert!(verify_inclusion(&e[index], index as u64, size as u64, &proof, &bad_root).is_err());
            let mut other = e[index].clone();
            other.push(0);
            proptest::prop_assert!(verify_inclusion(&other, index as u64, size as u64, &proof, &root).is_err());
            if size > 1 {
                let wrong = ((index + 1) % size) as u64;
                proptest::prop_assert!(verify_inclusion(&e[index], wrong, size as u64, &proof, &root).is_err());
            }
        }

        /// Consistency proofs between any two sizes verify; any altered hash
        /// or root fails, and so does a tree with a rewritten old entry.
        #[test]
        fn consistency_proofs_verify_and_alterations_fail(
            to in 1usize..70, pick in 0usize..70, salt in 0u8..255, flip in 0usize..(32 * 8)
        ) {
            let e = entries(to, salt);
            let from = pick % (to + 1);
            let old_root = tree_root(&e[..from]).unwrap();
            let new_root = tree_root(&e).unwrap();
            let proof = consistency_proof(&e, from as u64).unwrap();
            verify_consistency(from as u64, to as u64, &proof, &old_root, &new_root).unwrap();
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k][flip / 8] ^= 1 << (flip % 8);
                proptest::prop_assert!(verify_consistency(from as u64, to as u64, &bad, &old_root, &new_root).is_err());
            }
            if from > 0 {
                let mut bad_old = old_root;
                bad_old[flip / 8] ^= 1 << (flip % 8);
                proptest::prop_assert!(verify_consistency(from as u64, to as u64, &proof, &bad_old, &new_root).is_err());
                let mut bad_new = new_root;
                bad_new[flip / 8] ^= 1 << (flip % 8);
                proptest::prop_assert!(verify_consistency(from as u64, to as u64, &proof, &old_root, &bad_new).is_err());
                // History rewritten: an old entry changed, the new tree built on it.
                let mut rewritten = e.clone();
                rewritten[pick % from].push(1);
                let rw_root = tree_root(&rewritten).unwrap();
                let rw_proof = consistency_proof(&rewritten, from as u64).unwrap();
                proptest::prop_assert!(verify_consistency(from as u64, to as u64, &rw_proof, &old_root, &rw_root).is_err());
            }
        }
    }
}

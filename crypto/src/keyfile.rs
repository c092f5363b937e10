//! The passphrase-protected key file: a force private key at rest
//! (FORMAT.md#key-file). Text, line oriented, self-describing; the secret is
//! ChaCha20-Poly1305-encrypted under Argon2id(passphrase), with every header
//! line as associated data.
//!
//! This module turns bytes into bytes. Writing the file with mode 0600 and
//! refusing a file others can read are the console's job (it does the I/O).
//! Decrypting ([`open_key_file`]) needs the `open` feature.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::keys::{KeyId, PrivateKey, PublicKey};

/// First line of a v1 key file.
pub const FIRST_LINE: &str = "quietline-key-v1";

/// Argon2id cost parameters (FORMAT.md#key-file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// The default for new key files: 64 MiB, 3 passes, 1 lane.
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 65536,
        t: 3,
        p: 1,
    };
    /// Cheap parameters for tests only.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };
    /// Upper bounds a reader enforces, so a hostile file cannot exhaust memory or time.
    pub const MAX: KdfParams = KdfParams {
        m_kib: 1024 * 1024,
        t: 64,
        p: 16,
    };
}

/// What a key file's header says, readable without the passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFileInfo {
    /// The force the key belongs to.
    pub force_id: String,
    /// Creation day, `YYYY-MM-DD`.
    pub created: String,
    /// The public key.
    pub public_key: PublicKey,
    /// Its key id.
    pub key_id: KeyId,
    /// Argon2id parameters.
    pub kdf: KdfParams,
}

/// Key-file errors, each with its own message (FORMAT.md#key-file-errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// Not a Quietline key file at all.
    #[error("this is not a Quietline key file (it does not start with \"{FIRST_LINE}\")")]
    NotAKeyFile,
    /// The file was changed or cut short: a line is missing, malformed or the checksum fails.
    #[error("the key file is damaged ({0}); restore it from your backup")]
    Damaged(String),
    /// The passphrase does not decrypt it.
    #[error("wrong passphrase for this key file")]
    WrongPassphrase,
    /// Parameters out of the allowed range.
    #[error("the key file asks for Argon2id parameters outside the allowed range ({0})")]
    BadParams(String),
    /// The force id is not `[a-z0-9-]{1,64}`.
    #[error("the force id is not 1 to 64 characters of a-z, 0-9 and -")]
    InvalidForceId,
    /// Argon2 refused the parameters.
    #[error("Argon2id failed: {0}")]
    Kdf(String),
}

pub(crate) fn derive_key(
    passphrase: &[u8],
    salt: &[u8],
    p: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let params = argon2::Params::new(p.m_kib, p.t, p.p, Some(32))
        .map_err(|e| KeyFileError::Kdf(e.to_string()))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    a.hash_password_into(passphrase, salt, key.as_mut())
        .map_err(|e| KeyFileError::Kdf(e.to_string()))?;
    Ok(key)
}

pub(crate) fn checksum(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Write a key file for `sk` (FORMAT.md#key-file). Returns its text.
pub fn seal_key_file(
    rng: &mut impl rand_core::CryptoRng,
    sk: &PrivateKey,
    force_id: &str,
    created_day: &str,
    passphrase: &[u8],
    kdf: KdfParams,
) -> Result<String, KeyFileError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    if !crate::envelope::is_valid_force_id(force_id) {
        return Err(KeyFileError::InvalidForceId);
    }
    // Never write a file that readers would refuse.
    check_params(kdf)?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    let pk = sk.public_key();
    let header = format!(
        "{FIRST_LINE}\nforce: {force_id}\ncreated: {created_day}\npublic-key: {}\nkey-id: {}\nkdf: argon2id v=19 m={} t={} p={}\nsalt: {}\naead: chacha20poly1305\nnonce: {}\n",
        pk.to_base64url(),
        pk.key_id().to_hex(),
        kdf.m_kib,
        kdf.t,
        kdf.p,
        URL_SAFE_NO_PAD.encode(salt),
        URL_SAFE_NO_PAD.encode(nonce),
    );
    let key = derive_key(passphrase, &salt, kdf)?;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new_from_slice(key.as_ref())
        .map_err(|_| KeyFileError::Kdf("bad key length".into()))?;
    let secret = sk.to_bytes();
    let ct = cipher
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: secret.as_ref(),
                aad: header.as_bytes(),
            },
        )
        .map_err(|_| KeyFileError::Kdf("encryption failed".into()))?;
    let mut text = header;
    text.push_str(&format!("secret: {}\n", URL_SAFE_NO_PAD.encode(ct)));
    let sum = checksum(&text);
    text.push_str(&format!("checksum: {sum}\n"));
    Ok(text)
}

/// A parsed key file, not yet decrypted (the secret fields are read only by `open_key_file`).
#[cfg_attr(not(feature = "open"), allow(dead_code))]
struct Parsed<'a> {
    info: KeyFileInfo,
    header: &'a str,
    salt: Vec<u8>,
    nonce: [u8; 12],
    secret: Vec<u8>,
}

pub(crate) fn field<'a>(line: Option<&'a str>, name: &str) -> Result<&'a str, KeyFileError> {
    line.and_then(|l| l.strip_prefix(name))
        .and_then(|l| l.strip_prefix(": "))
        .ok_or_else(|| {
            KeyFileError::Damaged(format!("the \"{name}\" line is missing or malformed"))
        })
}

pub(crate) fn b64(s: &str, name: &str) -> Result<Vec<u8>, KeyFileError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| KeyFileError::Damaged(format!("the \"{name}\" line is not base64url")))
}

/// The frame both passphrase-protected key files share (FORMAT.md#key-file,
/// #signing-key-file), checked in the order of FORMAT.md#key-file-errors:
/// the first line, the checksum over every byte before its line, and the
/// secret line. Returns the header (every line before `secret`, which is the
/// AEAD's associated data) and the lines after the first.
pub(crate) fn checked_frame<'a>(
    text: &'a str,
    first_line: &str,
) -> Result<(&'a str, std::str::Lines<'a>), KeyFileError> {
    if !text.starts_with(first_line) {
        return Err(KeyFileError::NotAKeyFile);
    }
    let sum_at = text
        .rfind("checksum: ")
        .ok_or_else(|| KeyFileError::Damaged("the checksum line is missing".into()))?;
    let (body, sum_line) = text.split_at(sum_at);
    let sum = sum_line
        .strip_prefix("checksum: ")
        .unwrap_or_default()
        .trim_end_matches('\n');
    if sum != checksum(body) {
        return Err(KeyFileError::Damaged(
            "the checksum does not match its contents".into(),
        ));
    }
    let secret_at = body
        .find("\nsecret: ")
        .ok_or_else(|| KeyFileError::Damaged("the secret line is missing".into()))?;
    let header = &body[..secret_at + 1];
    let mut lines = body.lines();
    if lines.next() != Some(first_line) {
        return Err(KeyFileError::NotAKeyFile);
    }
    Ok((header, lines))
}

/// The sealed secret both key files end with: KDF, salt, AEAD, nonce and
/// the 48-octet encrypted secret, then nothing before the checksum.
pub(crate) struct SealedTail {
    pub(crate) kdf: KdfParams,
    pub(crate) salt: Vec<u8>,
    pub(crate) nonce: [u8; 12],
    pub(crate) secret: Vec<u8>,
}

/// Read [`SealedTail`] from the lines after a file's own header fields.
pub(crate) fn sealed_tail(mut lines: std::str::Lines<'_>) -> Result<SealedTail, KeyFileError> {
    let kdf = parse_kdf(field(lines.next(), "kdf")?)?;
    let salt = b64(field(lines.next(), "salt")?, "salt")?;
    if salt.len() < 16 {
        return Err(KeyFileError::Damaged(
            "the salt is shorter than 16 bytes".into(),
        ));
    }
    if field(lines.next(), "aead")? != "chacha20poly1305" {
        return Err(KeyFileError::Damaged(
            "unknown AEAD; version 1 uses chacha20poly1305".into(),
        ));
    }
    let nonce: [u8; 12] = b64(field(lines.next(), "nonce")?, "nonce")?
        .try_into()
        .map_err(|_| KeyFileError::Damaged("the nonce is not 12 bytes".into()))?;
    let secret = b64(field(lines.next(), "secret")?, "secret")?;
    if secret.len() != 32 + 16 {
        return Err(KeyFileError::Damaged(
            "the encrypted secret is not 48 bytes".into(),
        ));
    }
    if lines.next().is_some() {
        return Err(KeyFileError::Damaged(
            "unexpected lines before the checksum".into(),
        ));
    }
    Ok(SealedTail {
        kdf,
        salt,
        nonce,
        secret,
    })
}

fn parse(text: &str) -> Result<Parsed<'_>, KeyFileError> {
    let (header, mut lines) = checked_frame(text, FIRST_LINE)?;
    let force_id = field(lines.next(), "force")?.to_string();
    if !crate::envelope::is_valid_force_id(&force_id) {
        return Err(KeyFileError::InvalidForceId);
    }
    let created = field(lines.next(), "created")?.to_string();
    let public_key = PublicKey::from_base64url(field(lines.next(), "public-key")?)
        .map_err(|e| KeyFileError::Damaged(format!("public key: {e}")))?;
    let key_id = KeyId::from_hex(field(lines.next(), "key-id")?)
        .map_err(|_| KeyFileError::Damaged("the key-id line is not 16 hex digits".into()))?;
    if key_id != public_key.key_id() {
        return Err(KeyFileError::Damaged(
            "the key id does not match the public key".into(),
        ));
    }
    let SealedTail {
        kdf,
        salt,
        nonce,
        secret,
    } = sealed_tail(lines)?;
    Ok(Parsed {
        info: KeyFileInfo {
            force_id,
            created,
            public_key,
            key_id,
            kdf,
        },
        header,
        salt,
        nonce,
        secret,
    })
}

pub(crate) fn parse_kdf(s: &str) -> Result<KdfParams, KeyFileError> {
    let mut parts = s.split(' ');
    if parts.next() != Some("argon2id") || parts.next() != Some("v=19") {
        return Err(KeyFileError::Damaged(
            "unknown KDF; version 1 uses argon2id v=19".into(),
        ));
    }
    let mut num = |name: &str| -> Result<u32, KeyFileError> {
        parts
            .next()
            .and_then(|p| p.strip_prefix(name))
            .and_then(|p| p.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| KeyFileError::Damaged(format!("the kdf line lacks {name}=")))
    };
    let p = KdfParams {
        m_kib: num("m")?,
        t: num("t")?,
        p: num("p")?,
    };
    if parts.next().is_some() {
        return Err(KeyFileError::Damaged(
            "the kdf line has extra fields".into(),
        ));
    }
    check_params(p)?;
    Ok(p)
}

pub(crate) fn check_params(p: KdfParams) -> Result<(), KeyFileError> {
    let max = KdfParams::MAX;
    if p.m_kib > max.m_kib
        || p.t > max.t
        || p.p > max.p
        || p.t == 0
        || p.p == 0
        || p.m_kib < 8 * p.p
    {
        return Err(KeyFileError::BadParams(format!(
            "m={} t={} p={}; allowed 8·p ≤ m ≤ {}, 1 ≤ t ≤ {}, 1 ≤ p ≤ {}",
            p.m_kib, p.t, p.p, max.m_kib, max.t, max.p
        )));
    }
    Ok(())
}

/// Read the header (public key, key id, force, parameters) without the passphrase.
pub fn key_file_info(text: &str) -> Result<KeyFileInfo, KeyFileError> {
    parse(text).map(|p| p.info)
}

/// Decrypt a key file (feature `open`): its header and the private key.
#[cfg(feature = "open")]
pub fn open_key_file(
    text: &str,
    passphrase: &[u8],
) -> Result<(KeyFileInfo, PrivateKey), KeyFileError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let p = parse(text)?;
    let key = derive_key(passphrase, &p.salt, p.info.kdf)?;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new_from_slice(key.as_ref())
        .map_err(|_| KeyFileError::Kdf("bad key length".into()))?;
    let secret = Zeroizing::new(
        cipher
            .decrypt(
                (&p.nonce).into(),
                Payload {
                    msg: &p.secret,
                    aad: p.header.as_bytes(),
                },
            )
            // The checksum passed, so the bytes are as written: the passphrase is wrong.
            .map_err(|_| KeyFileError::WrongPassphrase)?,
    );
    // The public key's length names the suite (FORMAT.md#key-file); both
    // suites' private keys are 32 octets.
    let sk = PrivateKey::from_suite_bytes(p.info.public_key.suite(), &secret)
        .map_err(|_| KeyFileError::Damaged("the secret is not 32 bytes".into()))?;
    if sk.public_key() != p.info.public_key {
        return Err(KeyFileError::Damaged(
            "the private key does not match the public key".into(),
        ));
    }
    Ok((p.info, sk))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn sample() -> (String, PublicKey) {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let (sk, pk) = crate::keys::generate_keypair(&mut rng);
        let text = seal_key_file(
            &mut rng,
            &sk,
            "demo",
            "2026-11-27",
            b"correct horse",
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        (text, pk)
    }

    #[test]
    fn header_readable_without_passphrase() {
        let (text, pk) = sample();
        let info = key_file_info(&text).unwrap();
        assert_eq!(info.public_key, pk);
        assert_eq!(info.force_id, "demo");
        assert!(!text.contains("correct horse"));
    }

    #[test]
    fn damage_is_detected() {
        let (text, _) = sample();
        assert_eq!(key_file_info("hello"), Err(KeyFileError::NotAKeyFile));
        let cut = &text[..text.len() - 20];
        assert!(matches!(key_file_info(cut), Err(KeyFileError::Damaged(_))));
        let edited = text.replace("force: demo", "force: demp");
        assert!(matches!(
            key_file_info(&edited),
            Err(KeyFileError::Damaged(_))
        ));
    }

    #[cfg(feature = "open")]
    #[test]
    fn wrong_passphrase_and_round_trip() {
        let (text, pk) = sample();
        let (_, sk) = open_key_file(&text, b"correct horse").unwrap();
        assert_eq!(sk.public_key(), pk);
        assert_eq!(
            open_key_file(&text, b"wrong").unwrap_err(),
            KeyFileError::WrongPassphrase
        );
    }
}

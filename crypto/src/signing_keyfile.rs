//! The passphrase-protected signing-key file: a force's Ed25519 signing key
//! at rest (FORMAT.md#signing-key-file). The same layout, sealing and checks
//! as the encryption [key file](crate::keyfile), with its own first line and
//! a `signer-id:` line, so neither can be mistaken for the other.
//!
//! Bytes to bytes only; the console writes the file 0600 and refuses a file
//! others can read. Decrypting needs the `open` feature (the server never
//! opens one: its demo only writes one).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::keyfile::{
    KdfParams, KeyFileError, SealedTail, check_params, checked_frame, checksum, derive_key, field,
    sealed_tail,
};
use crate::statement::{SignerId, SignerKey, SigningSecret};

/// First line of a v1 signing-key file.
pub const FIRST_LINE: &str = "quietline-signing-key-v1";

/// What a signing-key file's header says, readable without the passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyInfo {
    /// The force the key signs for.
    pub force_id: String,
    /// Creation day, `YYYY-MM-DD`.
    pub created: String,
    /// The Ed25519 public key.
    pub public_key: SignerKey,
    /// Its signer id.
    pub signer_id: SignerId,
    /// Argon2id parameters.
    pub kdf: KdfParams,
}

/// Seal `sk` under `passphrase` (FORMAT.md#signing-key-file). Returns the text.
pub fn seal_signing_key_file(
    rng: &mut impl rand_core::CryptoRng,
    sk: &SigningSecret,
    force_id: &str,
    created_day: &str,
    passphrase: &[u8],
    kdf: KdfParams,
) -> Result<String, KeyFileError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    if !crate::envelope::is_valid_force_id(force_id) {
        return Err(KeyFileError::InvalidForceId);
    }
    check_params(kdf)?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    let pk = sk.public_key();
    let header = format!(
        "{FIRST_LINE}\nforce: {force_id}\ncreated: {created_day}\npublic-key: {}\nsigner-id: {}\nkdf: argon2id v=19 m={} t={} p={}\nsalt: {}\naead: chacha20poly1305\nnonce: {}\n",
        pk.to_base64url(),
        pk.signer_id(),
        kdf.m_kib,
        kdf.t,
        kdf.p,
        URL_SAFE_NO_PAD.encode(salt),
        URL_SAFE_NO_PAD.encode(nonce),
    );
    let key = derive_key(passphrase, &salt, kdf)?;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new_from_slice(key.as_ref())
        .map_err(|_| KeyFileError::Kdf("bad key length".into()))?;
    let seed = sk.to_seed();
    let ct = cipher
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: seed.as_ref(),
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

#[cfg_attr(not(feature = "open"), allow(dead_code))]
struct Parsed<'a> {
    info: SigningKeyInfo,
    header: &'a str,
    salt: Vec<u8>,
    nonce: [u8; 12],
    secret: Vec<u8>,
}

fn parse(text: &str) -> Result<Parsed<'_>, KeyFileError> {
    // The same order of checks as FORMAT.md#key-file-errors.
    let (header, mut lines) = checked_frame(text, FIRST_LINE)?;
    let force_id = field(lines.next(), "force")?.to_string();
    if !crate::envelope::is_valid_force_id(&force_id) {
        return Err(KeyFileError::InvalidForceId);
    }
    let created = field(lines.next(), "created")?.to_string();
    let public_key = SignerKey::from_base64url(field(lines.next(), "public-key")?)
        .map_err(|e| KeyFileError::Damaged(format!("public key: {e}")))?;
    let id_hex = field(lines.next(), "signer-id")?;
    if id_hex != public_key.signer_id().to_hex() {
        return Err(KeyFileError::Damaged(
            "the signer id does not match the public key".into(),
        ));
    }
    let SealedTail {
        kdf,
        salt,
        nonce,
        secret,
    } = sealed_tail(lines)?;
    Ok(Parsed {
        info: SigningKeyInfo {
            force_id,
            created,
            signer_id: public_key.signer_id(),
            public_key,
            kdf,
        },
        header,
        salt,
        nonce,
        secret,
    })
}

/// Read the header without the passphrase.
pub fn signing_key_file_info(text: &str) -> Result<SigningKeyInfo, KeyFileError> {
    parse(text).map(|p| p.info)
}

/// Decrypt a signing-key file (feature `open`).
#[cfg(feature = "open")]
pub fn open_signing_key_file(
    text: &str,
    passphrase: &[u8],
) -> Result<(SigningKeyInfo, SigningSecret), KeyFileError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use zeroize::Zeroizing;
    let p = parse(text)?;
    let key = derive_key(passphrase, &p.salt, p.info.kdf)?;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new_from_slice(key.as_ref())
        .map_err(|_| KeyFileError::Kdf("bad key length".into()))?;
    let seed = Zeroizing::new(
        cipher
            .decrypt(
                (&p.nonce).into(),
                Payload {
                    msg: &p.secret,
                    aad: p.header.as_bytes(),
                },
            )
            .map_err(|_| KeyFileError::WrongPassphrase)?,
    );
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        seed.as_slice()
            .try_into()
            .map_err(|_| KeyFileError::Damaged("the secret is not 32 bytes".into()))?,
    );
    let sk = SigningSecret::from_seed(&seed);
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

    fn sample() -> (String, SignerKey) {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let sk = SigningSecret::generate(&mut rng);
        let text = seal_signing_key_file(
            &mut rng,
            &sk,
            "demo",
            "2026-12-07",
            b"correct horse",
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        (text, sk.public_key())
    }

    #[test]
    fn header_and_damage() {
        let (text, pk) = sample();
        let info = signing_key_file_info(&text).unwrap();
        assert_eq!(info.public_key, pk);
        assert_eq!(info.force_id, "demo");
        // An encryption key file is not a signing-key file, and the reverse.
        assert_eq!(
            crate::keyfile::key_file_info(&text),
            Err(KeyFileError::NotAKeyFile)
        );
        let edited = text.replace("force: demo", "force: demp");
        assert!(matches!(
            signing_key_file_info(&edited),
            Err(KeyFileError::Damaged(_))
        ));
    }

    #[cfg(feature = "open")]
    #[test]
    fn round_trip_and_wrong_passphrase() {
        let (text, pk) = sample();
        let (_, sk) = open_signing_key_file(&text, b"correct horse").unwrap();
        assert_eq!(sk.public_key(), pk);
        assert_eq!(
            open_signing_key_file(&text, b"wrong").unwrap_err(),
            KeyFileError::WrongPassphrase
        );
    }
}

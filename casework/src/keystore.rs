//! Key files on disk (crypto/FORMAT.md#key-file): written with mode 0600 and
//! never replaced, and refused on load when group or others can read them.
//! Owns only the file handling; the format lives in `quietline_crypto::keyfile`.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use quietline_crypto::keyfile::{KeyFileError, KeyFileInfo, key_file_info, open_key_file};
use quietline_crypto::keys::PrivateKey;
use zeroize::Zeroizing;

/// Why a key file could not be written or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The file could not be read or written.
    #[error("cannot {action} key file {path}: {error}")]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file is readable by group or others.
    #[error(
        "key file {path} can be read by other users (mode {mode:04o}); run `chmod 600 {path}` and check who may have copied it"
    )]
    TooPermissive {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Refusing to overwrite an existing key file.
    #[error("key file {0} already exists; refusing to overwrite a key")]
    Exists(PathBuf),
    /// The contents are wrong (not a key file, damaged, wrong passphrase, …).
    #[error("key file {path}: {error}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        error: KeyFileError,
    },
}

/// Write a new key file with mode 0600; never overwrites.
pub fn write_key_file(path: &Path, text: &str) -> Result<(), KeyStoreError> {
    let io = |error| KeyStoreError::Io {
        action: "write",
        path: path.to_owned(),
        error,
    };
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyStoreError::Exists(path.to_owned())
            } else {
                io(e)
            }
        })?;
    f.write_all(text.as_bytes()).map_err(io)?;
    // A key acknowledged as written must survive a crash.
    f.sync_all().map_err(io)?;
    Ok(())
}

/// Read a key file's text, refusing it if group or others can read it.
pub fn read_key_text(path: &Path) -> Result<Zeroizing<String>, KeyStoreError> {
    let io = |error| KeyStoreError::Io {
        action: "read",
        path: path.to_owned(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyStoreError::TooPermissive {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(Zeroizing::new(std::fs::read_to_string(path).map_err(io)?))
}

/// Read a key file's public header (no passphrase needed; permissions still checked).
pub fn read_key_info(path: &Path) -> Result<KeyFileInfo, KeyStoreError> {
    let text = read_key_text(path)?;
    key_file_info(&text).map_err(|error| KeyStoreError::Format {
        path: path.to_owned(),
        error,
    })
}

/// Load and decrypt a key file.
pub fn load_key_file(
    path: &Path,
    passphrase: &[u8],
) -> Result<(KeyFileInfo, PrivateKey), KeyStoreError> {
    let text = read_key_text(path)?;
    open_key_file(&text, passphrase).map_err(|error| KeyStoreError::Format {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quietline_crypto::keyfile::{KdfParams, seal_key_file};

    fn rng() -> impl rand_core::CryptoRng {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    fn sample(dir: &Path) -> (PathBuf, quietline_crypto::keys::PublicKey) {
        let mut rng = rng();
        let (sk, pk) = quietline_crypto::keys::generate_keypair(&mut rng);
        let text = seal_key_file(
            &mut rng,
            &sk,
            "demo",
            "2026-11-27",
            b"pass phrase",
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        let path = dir.join("force.key");
        write_key_file(&path, &text).unwrap();
        (path, pk)
    }

    #[test]
    fn written_0600_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let (path, pk) = sample(dir.path());
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (info, sk) = load_key_file(&path, b"pass phrase").unwrap();
        assert_eq!(info.public_key, pk);
        assert_eq!(sk.public_key(), pk);
        assert!(matches!(
            write_key_file(&path, "x"),
            Err(KeyStoreError::Exists(_))
        ));
    }

    #[test]
    fn each_failure_has_its_own_message() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = sample(dir.path());
        let e = load_key_file(&path, b"wrong").unwrap_err();
        assert!(e.to_string().contains("wrong passphrase"), "{e}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = load_key_file(&path, b"pass phrase").unwrap_err();
        assert!(
            matches!(e, KeyStoreError::TooPermissive { mode: 0o640, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o604)).unwrap();
        assert!(matches!(
            read_key_info(&path),
            Err(KeyStoreError::TooPermissive { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("secret: ", "secret: A", 1)).unwrap();
        let e = load_key_file(&path, b"pass phrase").unwrap_err();
        assert!(e.to_string().contains("damaged"), "{e}");

        let e = load_key_file(&dir.path().join("missing.key"), b"x").unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}

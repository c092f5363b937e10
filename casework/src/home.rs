//! The console's home directory and its `config.toml`.
//!
//! It owns the layout (`config.toml`, `keys/`, `vault.sqlite`), creating the
//! directories with mode 0700 and writing the config with mode 0600, and
//! refusing a config or token file that other users can read (either may hold
//! the handler token). It does not decrypt anything and does not talk to the
//! server: keys are [`crate::keyring`], the vault is [`crate::vault`].

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Environment variable naming the home directory (also `--home`).
pub const HOME_ENV: &str = "QUIETLINE_CONSOLE_HOME";

/// Why the home directory or its config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// A file or directory could not be read or written.
    #[error("cannot {action} {path}: {error}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// A file that may hold the token is readable by group or others.
    #[error(
        "{path} can be read by other users (mode {mode:04o}); it may hold the handler token: run `chmod 600 {path}` and ask the platform operator for a new token if others may have read it"
    )]
    TooPermissive {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The config file does not parse.
    #[error("{path} is not a valid console config: {message}")]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// Neither `--home`, `$QUIETLINE_CONSOLE_HOME`, `$XDG_DATA_HOME` nor `$HOME` is set.
    #[error(
        "cannot find a home directory for the console: pass --home DIR or set QUIETLINE_CONSOLE_HOME"
    )]
    NoHome,
    /// No server configured.
    #[error(
        "no server configured; run `quietline-console login --server URL --token-file FILE` first"
    )]
    NotLoggedIn,
    /// The token file is empty.
    #[error("the token file {0} is empty")]
    EmptyToken(PathBuf),
}

/// What `config.toml` holds. Written by `init`, `key import`, `key rotate` and
/// `login`; never holds a private key or a passphrase.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The server's base URL, e.g. `https://quietline.example`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The handler token itself (prefer `token_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A file holding the handler token (read on each use, must be mode 0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// This console's force id (every key in the ring belongs to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<String>,
    /// The force's display name, from the server's directory (used as a reply's `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_name: Option<String>,
    /// Key id (hex) of the current key: new notes are sealed to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_key: Option<String>,
    /// Key id (hex) of the key that was current before `key rotate` (or
    /// `key import --current`), until the server's directory is seen serving
    /// the current key: meanwhile the directory may still serve this one
    /// (a warning, not a key-substitution alarm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never in a debug print.
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_file", &self.token_file)
            .field("force", &self.force)
            .field("force_name", &self.force_name)
            .field("current_key", &self.current_key)
            .field("previous_key", &self.previous_key)
            .finish()
    }
}

/// The console's home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The directory from `--home` / `$QUIETLINE_CONSOLE_HOME` if given, else
    /// `$XDG_DATA_HOME/quietline-console`, else `~/.local/share/quietline-console`.
    pub fn locate(explicit: Option<PathBuf>) -> Result<Home, HomeError> {
        let root = match explicit {
            Some(p) => p,
            None => match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
                Some(x) => PathBuf::from(x).join("quietline-console"),
                None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
                    Some(h) => PathBuf::from(h).join(".local/share/quietline-console"),
                    None => return Err(HomeError::NoHome),
                },
            },
        };
        Ok(Home { root })
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    /// `keys/`: one key file per key, all under the same passphrase.
    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }
    /// `vault.sqlite`.
    pub fn vault_path(&self) -> PathBuf {
        self.root.join("vault.sqlite")
    }

    /// Create the home and `keys/` (mode 0700) if missing.
    pub fn create(&self) -> Result<(), HomeError> {
        for dir in [self.root.clone(), self.keys_dir()] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|error| HomeError::Io {
                    action: "create directory",
                    path: dir.clone(),
                    error,
                })?;
        }
        Ok(())
    }

    /// Whether the home exists at all.
    pub fn exists(&self) -> bool {
        self.root.is_dir()
    }

    /// Read `config.toml`; a missing file is an empty config.
    pub fn load_config(&self) -> Result<Config, HomeError> {
        let path = self.config_path();
        let text = match read_private(&path) {
            Ok(t) => t,
            Err(HomeError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default());
            }
            Err(e) => return Err(e),
        };
        toml::from_str(&text).map_err(|e| HomeError::BadConfig {
            path,
            message: e.message().to_owned(),
        })
    }

    /// Write `config.toml` (mode 0600), replacing it atomically.
    pub fn save_config(&self, config: &Config) -> Result<(), HomeError> {
        self.create()?;
        let text = Zeroizing::new(toml::to_string(config).map_err(|e| HomeError::BadConfig {
            path: self.config_path(),
            message: e.to_string(),
        })?);
        write_private_atomic(&self.config_path(), text.as_bytes())
    }
}

/// Read a file that may hold a secret, refusing it if group or others can read it.
pub fn read_private(path: &Path) -> Result<Zeroizing<String>, HomeError> {
    let io = |error| HomeError::Io {
        action: "read",
        path: path.to_owned(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(HomeError::TooPermissive {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(Zeroizing::new(std::fs::read_to_string(path).map_err(io)?))
}

/// Write a file with mode 0600 through a temporary file and a rename, so a
/// crash leaves the old or the new contents, never half of one.
pub fn write_private_atomic(path: &Path, contents: &[u8]) -> Result<(), HomeError> {
    let tmp = path.with_extension("tmp");
    let io = |p: &Path| {
        let p = p.to_owned();
        move |error| HomeError::Io {
            action: "write",
            path: p,
            error,
        }
    };
    let _ = std::fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(contents).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

impl Config {
    /// The server URL, or a clear error if `login` was never run.
    pub fn server(&self) -> Result<&str, HomeError> {
        self.server.as_deref().ok_or(HomeError::NotLoggedIn)
    }

    /// The handler token: from `token`, else read from `token_file` (0600 enforced).
    pub fn token(&self) -> Result<Zeroizing<String>, HomeError> {
        if let Some(t) = &self.token {
            return Ok(Zeroizing::new(t.clone()));
        }
        let Some(path) = &self.token_file else {
            return Err(HomeError::NotLoggedIn);
        };
        let text = read_private(path)?;
        let token = Zeroizing::new(text.trim().to_owned());
        if token.is_empty() {
            return Err(HomeError::EmptyToken(path.clone()));
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trip_0600_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::locate(Some(dir.path().join("h"))).unwrap();
        assert_eq!(home.load_config().unwrap(), Config::default());
        let c = Config {
            server: Some("http://127.0.0.1:1".into()),
            token: Some("qlt_secret".into()),
            ..Config::default()
        };
        home.save_config(&c).unwrap();
        let mode = std::fs::metadata(home.config_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(home.load_config().unwrap(), c);
        assert!(!format!("{c:?}").contains("qlt_secret"));
        std::fs::set_permissions(home.config_path(), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let e = home.load_config().unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }
}

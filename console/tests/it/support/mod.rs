//! Helpers of the console's integration tests: a console home driven through
//! the real binary, and the reporter's side (sealing reports, reading replies
//! from slots). The real `quietline` server in-process on 127.0.0.1:0 (its
//! own tokio runtime, SQLite in a tempdir) is the test kit's
//! (`quietline_testkit::blocking::Server`), shared with the server's tests
//! and the bench.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use quietline_crypto::envelope::Kind;
use quietline_crypto::keys::PublicKey;
use quietline_crypto::payload::Payload;
use quietline_crypto::reply_code::{ReplyCode, ReplySecrets};
use quietline_testkit::payloads::{self, ReportFields};
use tokio::runtime::Runtime;

/// The passphrase every test console uses (long enough for `init`).
pub const PASSPHRASE: &str = "correct horse battery staple";

pub fn rng() -> impl rand_core::CryptoRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// A multi-threaded runtime for servers and HTTP calls made by the test itself.
pub fn runtime() -> Runtime {
    quietline_testkit::blocking::runtime("test")
}

/// Proof-of-work difficulty of the test server (leading zero bits).
pub const POW_DIFFICULTY: u8 = quietline_testkit::server::TEST_POW_DIFFICULTY;

/// A real intake server on its own runtime (the test kit's, shared with the
/// server's tests and the bench).
pub use quietline_testkit::blocking::Server;

/// A real intake server: SQLite in a temporary directory, proof of work on
/// (as in production) but at 2^8 tries a report, the real clock.
pub fn start_server() -> Server {
    Server::sqlite(server_settings())
}

/// The settings of [`start_server`].
pub fn server_settings() -> quietline::ServerSettings {
    quietline::ServerSettings {
        access_log: false,
        purge_interval: None,
        pow: quietline::pow::PowSettings::fixed(POW_DIFFICULTY),
        ..Default::default()
    }
}

/// Output of one console run.
#[derive(Debug)]
pub struct Out {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A console home driven through the real binary.
pub struct Console {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub pass_file: PathBuf,
    /// Strings that must never appear in any output.
    pub secrets: Vec<String>,
}

pub fn write_0600(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

impl Console {
    pub fn new() -> Console {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let pass_file = dir.path().join("passphrase");
        write_0600(&pass_file, &format!("{PASSPHRASE}\n"));
        Console {
            dir,
            home,
            pass_file,
            secrets: vec![PASSPHRASE.to_owned()],
        }
    }

    /// A command with the home, the passphrase file, fast test KDF and no
    /// inherited QUIETLINE_* variables.
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_quietline-console"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("QUIETLINE_") || k == "EDITOR" || k == "VISUAL" {
                cmd.env_remove(k);
            }
        }
        cmd.env("QUIETLINE_INSECURE_FAST_KDF", "1");
        cmd.arg("--home")
            .arg(&self.home)
            .arg("--passphrase-file")
            .arg(&self.pass_file);
        cmd.stdin(std::process::Stdio::null());
        cmd
    }

    pub fn run_with(&self, mut cmd: std::process::Command, args: &[&str]) -> Out {
        let out = cmd.args(args).output().expect("run quietline-console");
        let o = Out {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        for s in &self.secrets {
            assert!(
                !o.stdout.contains(s.as_str()) && !o.stderr.contains(s.as_str()),
                "a secret was printed by {args:?}:\n{o:?}"
            );
        }
        o
    }

    pub fn run(&self, args: &[&str]) -> Out {
        self.run_with(self.command(), args)
    }

    /// Run, but give up after `limit`: the process is killed and the test
    /// fails, so a console that would run for ever fails instead of hanging.
    pub fn run_within(&self, args: &[&str], limit: std::time::Duration) -> Out {
        let mut cmd = self.command();
        cmd.args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().expect("run quietline-console");
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(limit) {
            Ok(out) => out.expect("wait for quietline-console"),
            Err(_) => {
                // Only the process this test started, by its id.
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
                panic!("quietline-console {args:?} still running after {limit:?}: killed");
            }
        };
        let o = Out {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        for s in &self.secrets {
            assert!(
                !o.stdout.contains(s.as_str()) && !o.stderr.contains(s.as_str()),
                "a secret was printed by {args:?}:\n{o:?}"
            );
        }
        o
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.ok,
            "quietline-console {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
            o.stdout, o.stderr
        );
        o.stdout
    }

    /// Run and require failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            !o.ok,
            "quietline-console {args:?} should have failed:\nstdout:\n{}\nstderr:\n{}",
            o.stdout, o.stderr
        );
        o.stderr
    }

    /// `init --force ID`; returns the public key.
    pub fn init(&self, force: &str) -> PublicKey {
        let out = self.ok(&["init", "--force", force]);
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix("public key: "))
            .expect("public key line");
        PublicKey::from_base64url(line.trim()).unwrap()
    }

    /// Write a token file and log in.
    pub fn login(&mut self, server: &str, token: &str) {
        let path = self.dir.path().join("token");
        write_0600(&path, &format!("{token}\n"));
        self.secrets.push(token.to_owned());
        self.ok(&[
            "login",
            "--server",
            server,
            "--token-file",
            path.to_str().unwrap(),
        ]);
    }

    /// Log in without contacting the server (for fake servers).
    pub fn login_offline(&mut self, server: &str, token: &str) {
        let path = self.dir.path().join("token");
        write_0600(&path, &format!("{token}\n"));
        self.secrets.push(token.to_owned());
        self.ok(&[
            "login",
            "--server",
            server,
            "--token-file",
            path.to_str().unwrap(),
            "--offline",
        ]);
    }

    /// A command with the home and test KDF but no passphrase file.
    pub fn command_without_passphrase(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_quietline-console"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("QUIETLINE_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("QUIETLINE_INSECURE_FAST_KDF", "1")
            .arg("--home")
            .arg(&self.home);
        cmd.stdin(std::process::Stdio::null());
        cmd
    }

    /// The only key file in the ring (panics if there are several).
    pub fn key_file(&self) -> PathBuf {
        let mut keys: Vec<PathBuf> = std::fs::read_dir(self.home.join("keys"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(keys.len(), 1);
        keys.pop().unwrap()
    }

    pub fn vault_path(&self) -> PathBuf {
        self.home.join("vault.sqlite")
    }
}

/// The reporter's side of one conversation.
pub struct Reporter {
    pub code: ReplyCode,
    pub secrets: ReplySecrets,
}

impl Reporter {
    pub fn new() -> Reporter {
        let code = ReplyCode::generate(&mut rng());
        let secrets = code.derive();
        Reporter { code, secrets }
    }

    /// A report with every field filled.
    pub fn report_payload(&self, details: &str) -> Payload {
        payloads::report(
            &self.secrets,
            ReportFields {
                details: details.into(),
                ..ReportFields::default()
            },
        )
    }

    /// A follow-up whose reporter's clock reads a week BEFORE the report
    /// itself (a phone with a wrong clock): the console must still place it
    /// where the force learned of it, never by this clock.
    pub fn follow_up_payload(&self, message: &str) -> Payload {
        payloads::follow_up(&self.secrets, "2026-11-20T08:00:00Z", message)
    }

    pub fn seal(&self, force: &str, pk: &PublicKey, payload: &Payload) -> Vec<u8> {
        quietline_crypto::seal::seal_report(&mut rng(), force, pk, &payload.to_json()).unwrap()
    }

    /// Open the reply in slot `i`, if any.
    pub fn read_reply(&self, server: &Server, i: u32) -> Option<Payload> {
        let address = self.secrets.slot_key.address(i);
        let bytes = server.get_slot(&address)?;
        let plain = quietline_crypto::open::open(&self.secrets.reply_sk, Kind::Reply, &bytes)
            .expect("reply opens");
        Some(Payload::from_json(&plain).unwrap())
    }
}

/// The short id `list` shows.
pub fn short(id: &str) -> &str {
    &id[..12]
}

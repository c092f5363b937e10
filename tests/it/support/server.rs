//! A real Quietline server for the integration tests, in two forms:
//!
//! - `TestServer` (from the test kit, re-exported): in-process,
//!   `quietline::run` on a listener bound to 127.0.0.1:0, on SQLite or a
//!   fresh PostgreSQL database; with the proof-of-work helpers, `raw_http`
//!   and `inbox_ids`.
//! - [`Process`]: the real `quietline` binary (`serve --listen 127.0.0.1:0`),
//!   whose stdout line `listening on http://ADDR` gives the address; its stdout
//!   and stderr are captured whole, for tests that search them. Only this
//!   crate's tests know where the binary is (`CARGO_BIN_EXE_quietline`), so
//!   that part is here.

use std::path::{Path, PathBuf};
use std::process::Command;

pub use quietline_testkit::pow::*;
pub use quietline_testkit::process::{Admin, Process, run};
pub use quietline_testkit::raw::*;
pub use quietline_testkit::server::*;

/// The `quietline` binary built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_quietline"))
}

/// A `quietline` command with no `QUIETLINE_*` variable inherited from the
/// environment, so only the test's own flags apply.
pub fn command() -> Command {
    quietline_testkit::process::clean_command(&binary())
}

/// Run `quietline --data-dir DIR ARGS…` (plus `--database-url` if given) and wait.
pub fn admin(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Admin {
    let mut cmd = command();
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    cmd.args(args);
    run(cmd)
}

/// Like [`admin`], but panics unless it succeeded; returns stdout.
pub fn admin_ok(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> String {
    let a = admin(data_dir, database_url, args);
    assert!(
        a.ok,
        "quietline {args:?} failed:\n{}\n{}",
        a.stdout, a.stderr
    );
    a.stdout
}

/// `Process::serve`: the `quietline` binary as a [`Process`].
pub trait Serve {
    /// Start `quietline serve --listen 127.0.0.1:0 --data-dir DIR [ARGS…]` and
    /// wait for its `listening on` line. Proof of work is at
    /// [`TEST_POW_DIFFICULTY`] unless `extra` sets `--pow-difficulty`.
    fn serve(data_dir: &Path, extra: &[&str]) -> Process;
}

impl Serve for Process {
    fn serve(data_dir: &Path, extra: &[&str]) -> Process {
        let mut cmd = command();
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra);
        if !extra.contains(&"--pow-difficulty") {
            cmd.arg("--pow-difficulty")
                .arg(TEST_POW_DIFFICULTY.to_string());
        }
        Process::spawn(cmd)
    }
}

/// A force `north` registered through the real admin commands (force add, key
/// add, token issue) on the database at `database_url`, as an operator would:
/// its key pair (the test keeps the private half to open what it stores) and a
/// handler token. Used by the tests that run the real binary.
pub fn register_force_via_admin(data_dir: &Path, database_url: &str) -> (TestForce, String) {
    let (private_key, public_key) = quietline_crypto::keys::generate_keypair(&mut rng());
    let force = TestForce {
        id: "north".into(),
        private_key,
        public_key,
    };
    let url = Some(database_url);
    admin_ok(data_dir, url, &["force", "add", "north", "--name", "North"]);
    let pk = force.public_key.to_base64url();
    admin_ok(
        data_dir,
        url,
        &["force", "key", "add", "north", "--public-key", &pk],
    );
    let token = admin_ok(
        data_dir,
        url,
        &["token", "issue", "--force", "north", "--label", "desk"],
    )
    .trim()
    .to_owned();
    (force, token)
}

/// A fresh database with force `north` registered through the admin commands,
/// for the tests that run and kill the real binary (`restart.rs`, `crash.rs`).
pub struct BinarySetup {
    /// The database (and data dir).
    pub db: TestDb,
    /// The force, with its private key.
    pub force: std::sync::Arc<TestForce>,
    /// A handler token of the force.
    pub token: String,
}

impl BinarySetup {
    /// `None` when the backend is unavailable outside CI (see `TestDb::new`).
    pub async fn new(backend: Backend) -> Option<BinarySetup> {
        let db = TestDb::new(backend).await?;
        let (force, token) = register_force_via_admin(db.dir.path(), &db.url);
        Some(BinarySetup {
            db,
            force: std::sync::Arc::new(force),
            token,
        })
    }

    /// The data dir the binary runs with.
    pub fn data_dir(&self) -> &Path {
        self.db.dir.path()
    }

    /// Start `quietline serve` on this database.
    pub fn serve(&self) -> Process {
        Process::serve(self.data_dir(), &["--database-url", &self.db.url])
    }
}

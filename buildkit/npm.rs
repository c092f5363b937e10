//! The npm steps the server's `build.rs` (for `web/`) and the desk's
//! `desk/build.rs` (for `desk/`) share, in one copy: check that Node.js 20+
//! and npm run, take turns on a lock on the folder's `package-lock.json`,
//! `npm ci --no-audit --no-fund` when `node_modules` is missing or older than
//! the lock file, run a tool with its output on stderr, and stop the build
//! with a message Cargo shows in full. It does not know what either build
//! makes from the packages (the page build, the desk's asset copy).
//!
//! Included by both build scripts with `#[path = "…/buildkit/npm.rs"] mod npm;`
//! (a build script cannot use a workspace crate without a build-dependency),
//! so it uses std only.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::SystemTime;

/// One npm project folder a build script installs.
pub struct Npm {
    /// The folder with `package.json` and `package-lock.json`.
    pub dir: PathBuf,
    /// What the build makes, for error messages: "the reporter page (web/)".
    pub what: &'static str,
    /// The folder as a reader knows it, for "run it by hand in web/".
    pub folder: &'static str,
    /// How to install Node.js and npm, shown when they are missing.
    pub help: &'static str,
}

impl Npm {
    /// Stop the build with a message Cargo shows in full.
    pub fn fail(&self, message: &str) -> ! {
        eprintln!("\nerror: building {} failed: {message}\n", self.what);
        std::process::exit(1);
    }

    /// `cargo:rerun-if-changed` for each input (paths relative to the
    /// package's manifest).
    pub fn rerun_if_changed(&self, inputs: &[&str]) {
        for input in inputs {
            println!("cargo:rerun-if-changed={input}");
        }
    }

    /// `node --version` and `npm --version` answer, and node is 20 or later.
    pub fn check_node(&self) {
        let version = |tool: &str| -> Option<String> {
            let out = Command::new(tool).arg("--version").output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        };
        let help = self.help;
        let Some(node) = version("node") else {
            self.fail(&format!("`node` was not found or did not run.\n{help}"));
        };
        if version("npm").is_none() {
            self.fail(&format!("`npm` was not found or did not run.\n{help}"));
        }
        let major = node
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        if major.is_none_or(|m| m < 20) {
            self.fail(&format!(
                "Node.js {node} is too old; the build needs 20 or later.\n{help}"
            ));
        }
    }

    /// Lock `package-lock.json` until the returned file is dropped: two
    /// builds at once (say `cargo test` and an editor's `cargo check` on
    /// another target directory) take turns, so one `npm ci` never deletes
    /// `node_modules` under the other's build.
    pub fn lock(&self) -> File {
        let lock_file = self.dir.join("package-lock.json");
        let lock = File::open(&lock_file)
            .unwrap_or_else(|e| self.fail(&format!("cannot open {}: {e}", lock_file.display())));
        if let Err(e) = lock.lock() {
            self.fail(&format!("cannot lock {}: {e}", lock_file.display()));
        }
        lock
    }

    /// Whether `node_modules` is missing or older than the lock file.
    pub fn needs_install(&self) -> bool {
        let lock = modified(&self.dir.join("package-lock.json"));
        // npm rewrites its hidden lock file at the end of every install.
        let installed = modified(&self.dir.join("node_modules").join(".package-lock.json"));
        match (installed, lock) {
            (Some(installed), Some(lock)) => installed < lock,
            _ => true,
        }
    }

    /// `npm ci --no-audit --no-fund` in the folder (exact versions from the
    /// lock file; the folder's `.npmrc` keeps install scripts off); `what`
    /// names it in an error.
    pub fn ci(&self, what: &str) {
        self.run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&self.dir),
            what,
        );
    }

    /// Run `cmd`, its output on stderr; stop the build if it fails.
    pub fn run(&self, cmd: &mut Command, what: &str) {
        // Cargo reads a build script's stdout for instructions: the tools'
        // output goes to stderr, which Cargo shows when the build fails.
        cmd.stdout(Stdio::from(std::io::stderr()));
        let status: ExitStatus = match cmd.status() {
            Ok(s) => s,
            Err(e) => self.fail(&format!("{what}: could not start: {e}\n{}", self.help)),
        };
        if !status.success() {
            self.fail(&format!(
                "{what} exited with {status}; its output is above. Run it by hand in {} to see more.",
                self.folder
            ));
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

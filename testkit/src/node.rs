//! Node.js and Debian's Chromium for the integration tests, in one copy: the
//! server's (`npm test` in `web/`, the page's end-to-end scripts in
//! `web/e2e/`) and the desk's (`desk/e2e/`, on the page's packages in
//! `web/node_modules`: playwright-core, axe-core). It does not start
//! servers or build the page (the server's build.rs builds it).
//!
//! A missing tool (Node.js, Chromium) makes a test print `SKIPPED: …` and pass
//! outside CI; with `CI=true` it fails instead ([`require`]). Every child runs
//! in its own process group with a bounded wait; on timeout the whole group
//! (node and the browser it started) is killed by its id.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Debian's Chromium, the only browser the end-to-end tests use.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The workspace's root (the test kit lives in `<workspace>/testkit`).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit/ has a parent")
        .to_path_buf()
}

/// The page's sources: `<workspace>/web`.
pub fn web_dir() -> PathBuf {
    workspace_dir().join("web")
}

/// Whether this is a CI run (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether a test can go on: `true` if `available`; otherwise, in CI, a
/// panic saying what is missing; outside CI, `SKIPPED: …` and `false`.
#[track_caller]
pub fn require(available: bool, what: &str, install: &str) -> bool {
    if available {
        return true;
    }
    assert!(
        !in_ci(),
        "{what} is missing, and with CI=true this test may not be skipped; {install}"
    );
    println!("SKIPPED: {what} is missing ({install})");
    false
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Node.js and npm can run (or the test is skipped outside CI, fails in CI).
#[track_caller]
pub fn require_node() -> bool {
    require(
        runs("node", "--version") && runs("npm", "--version"),
        "Node.js (node and npm)",
        "install Node.js 20 or later with npm, e.g. `apt-get install -y nodejs npm`",
    )
}

/// Node.js and Debian's Chromium can run.
#[track_caller]
pub fn require_node_and_chromium() -> bool {
    require_node()
        && require(
            Path::new(CHROMIUM).is_file() && runs(CHROMIUM, "--version"),
            CHROMIUM,
            "install Debian's Chromium: `apt-get update && apt-get install -y chromium`",
        )
}

/// `npm ci` in `web/` if `web/node_modules` is missing (build.rs normally did
/// it already; someone may have deleted it since).
pub fn ensure_node_modules() {
    // The tests of one binary run in parallel: one `npm ci` at a time.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let web = web_dir();
    if web
        .join("node_modules")
        .join(".package-lock.json")
        .is_file()
    {
        return;
    }
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&web);
    let out = run_bounded(cmd, Duration::from_secs(600));
    assert!(out.success, "npm ci in web/ failed:\n{}", out.all());
}

/// What a finished child printed.
#[derive(Debug)]
pub struct Output {
    /// Exit success (false on a timeout).
    pub success: bool,
    /// Stdout, lossily decoded.
    pub stdout: String,
    /// Stderr, lossily decoded.
    pub stderr: String,
    /// Whether it was killed for taking too long.
    pub timed_out: bool,
}

impl Output {
    /// Both streams, labelled, for a failure message.
    pub fn all(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}{}",
            self.stdout,
            self.stderr,
            if self.timed_out {
                "\n--- killed: it took longer than its time limit"
            } else {
                ""
            }
        )
    }

    /// The last stdout line that starts with `{`, as JSON (the e2e
    /// scripts' result; a stray line printed after it is not the result).
    pub fn result(&self) -> serde_json::Value {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .unwrap_or_else(|| panic!("no result line:\n{}", self.all()));
        serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("the result line is not JSON ({e}):\n{}", self.all()))
    }
}

/// Read a pipe to its end on a thread; the bytes arrive on the channel.
fn drain(pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pipe = pipe;
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Run `cmd` (stdin closed, output captured) in a process group of its own,
/// waiting at most `limit`; past it, kill the group and report a timeout.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id();
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let (success, timed_out) = match rx.recv_timeout(limit) {
        Ok(status) => (status.is_ok_and(|s| s.success()), false),
        Err(_) => {
            // The group's id is the child's id (process_group(0)).
            // `--`: without it, procps's kill reads `-PID` as a signal.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--"])
                .arg(format!("-{pid}"))
                .status();
            let _ = rx.recv_timeout(Duration::from_secs(30));
            (false, true)
        }
    };
    if !timed_out {
        let _ = waiter.join();
    }
    // A process outside the group (a browser in a group of its own) could
    // keep a pipe open: wait for the rest of the output, but not for ever.
    let text = |rx: mpsc::Receiver<Vec<u8>>| {
        String::from_utf8_lossy(&rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default())
            .into_owned()
    };
    Output {
        success,
        stdout: text(out),
        stderr: text(err),
        timed_out,
    }
}

/// Run `node e2e/<script> [phase] --base BASE --input JSON` in `web/`, with
/// TMPDIR (where Playwright makes the browser's fresh profile) set to `tmp`;
/// panics unless the script succeeded ([`script_ok`]); returns its result
/// line.
pub async fn e2e_ok(
    script: &str,
    phase: Option<&str>,
    base: &str,
    input: &serde_json::Value,
    tmp: &Path,
) -> serde_json::Value {
    let script = Path::new("e2e").join(script);
    script_ok(web_dir(), &script, phase, base, input, tmp).await
}

/// Run the desk's `node desk/e2e/<script> --base BASE --input JSON` from the
/// workspace's root (TMPDIR = `tmp`) and require its result line
/// `{"ok":true,…}`; returns it.
pub async fn desk_e2e_ok(
    script: &str,
    base: &str,
    input: &serde_json::Value,
    tmp: &Path,
) -> serde_json::Value {
    let script = Path::new("desk").join("e2e").join(script);
    script_ok(workspace_dir(), &script, None, base, input, tmp).await
}

/// Run `node SCRIPT [phase] --base BASE --input JSON` in `dir`, with TMPDIR
/// set to `tmp` and no proxy from the environment (everything stays on
/// loopback). Prints everything it printed; returns its output (not checked).
pub async fn run_script(
    dir: PathBuf,
    script: &Path,
    phase: Option<&str>,
    base: &str,
    input: &serde_json::Value,
    tmp: &Path,
    limit: Duration,
) -> Output {
    let mut cmd = Command::new("node");
    cmd.current_dir(dir)
        .arg(script)
        .args(phase)
        .arg("--base")
        .arg(base)
        .arg("--input")
        .arg(input.to_string())
        .env("TMPDIR", tmp);
    for proxy in [
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(proxy);
    }
    let label = format!("{} {}", script.display(), phase.unwrap_or_default());
    let out = tokio::task::spawn_blocking(move || run_bounded(cmd, limit))
        .await
        .expect("join the node runner");
    println!("=== node {label}\n{}", out.all());
    out
}

/// Like [`run_script`] with [`E2E_LIMIT`], but panics unless the script
/// succeeded and its result line says `"ok": true`; returns that line.
pub async fn script_ok(
    dir: PathBuf,
    script: &Path,
    phase: Option<&str>,
    base: &str,
    input: &serde_json::Value,
    tmp: &Path,
) -> serde_json::Value {
    let out = run_script(dir, script, phase, base, input, tmp, E2E_LIMIT).await;
    let result = out.result();
    assert!(
        out.success && result["ok"] == true,
        "node {} failed: {}\n{}",
        script.display(),
        result["error"],
        out.all()
    );
    result
}

/// The most one e2e script may take (a browser start and a whole journey on
/// a 2-core machine take well under a minute).
pub const E2E_LIMIT: Duration = Duration::from_secs(240);

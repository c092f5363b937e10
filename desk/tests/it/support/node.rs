//! Running the desk's browser scripts (`desk/e2e/`) with Node.js and Debian's
//! Chromium, on the reporter page's packages (`web/node_modules`:
//! playwright-core, axe-core). A missing tool makes a test print `SKIPPED`
//! outside CI and fail with `CI=true`. The script runs in its own process
//! group with a bounded wait; on timeout the group is killed by its id.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Debian's Chromium, the only browser the tests use.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The most one script may take.
pub const E2E_LIMIT: Duration = Duration::from_secs(240);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Node.js, npm and Chromium can run; else SKIPPED (outside CI) or a panic (CI).
#[track_caller]
pub fn require_node_and_chromium() -> bool {
    let ok = runs("node", "--version")
        && runs("npm", "--version")
        && Path::new(CHROMIUM).is_file()
        && runs(CHROMIUM, "--version");
    if ok {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "Node.js or {CHROMIUM} is missing, and with CI=true this test may not be skipped"
    );
    println!(
        "SKIPPED: Node.js or {CHROMIUM} is missing (install nodejs, npm and Debian's chromium)"
    );
    false
}

/// `npm ci` in `web/` if its packages are missing (the server's build.rs
/// normally installed them).
pub fn ensure_web_node_modules() {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let web = workspace().join("web");
    if web.join("node_modules/.package-lock.json").is_file() {
        return;
    }
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&web);
    let (ok, out) = run_bounded(cmd, Duration::from_secs(600));
    assert!(ok, "npm ci in web/ failed:\n{out}");
}

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

/// Run `cmd` in its own process group, at most `limit`; (success, output).
fn run_bounded(mut cmd: Command, limit: Duration) -> (bool, String) {
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
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let (ok, timed_out) = match rx.recv_timeout(limit) {
        Ok(status) => (status.is_ok_and(|s| s.success()), false),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--"])
                .arg(format!("-{pid}"))
                .status();
            (false, true)
        }
    };
    let text = |rx: mpsc::Receiver<Vec<u8>>| {
        String::from_utf8_lossy(&rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default())
            .into_owned()
    };
    let all = format!(
        "--- stdout\n{}\n--- stderr\n{}{}",
        text(out),
        text(err),
        if timed_out {
            "\n--- killed: took too long"
        } else {
            ""
        }
    );
    (ok, all)
}

/// Run `node desk/e2e/<script> --base BASE --input JSON` (TMPDIR = `tmp`)
/// and require its result line `{"ok":true,…}`; returns it.
pub async fn e2e_ok(
    script: &str,
    base: &str,
    input: &serde_json::Value,
    tmp: &Path,
) -> serde_json::Value {
    let mut cmd = Command::new("node");
    cmd.current_dir(workspace())
        .arg(Path::new("desk/e2e").join(script))
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
    let (ok, all) = tokio::task::spawn_blocking(move || run_bounded(cmd, E2E_LIMIT))
        .await
        .unwrap();
    println!("=== node desk/e2e/{script}\n{all}");
    let stdout = all.split("--- stderr").next().unwrap_or_default();
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| panic!("no result line:\n{all}"));
    let result: serde_json::Value = serde_json::from_str(line).unwrap();
    assert!(
        ok && result["ok"] == true,
        "node desk/e2e/{script} failed: {}\n{all}",
        result["error"]
    );
    result
}

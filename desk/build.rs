//! Installs the desk's front-end packages (`govuk-frontend`,
//! `@ministryofjustice/frontend`) from the committed `desk/package-lock.json`
//! and copies the built files the desk serves into Cargo's `OUT_DIR`, so the
//! desk binary embeds them (`src/assets.rs`) and nothing is fetched from a
//! third-party origin at run time:
//!
//! 1. `node` and `npm` must be on `PATH`; if not, the build fails and says
//!    what to install.
//! 2. `npm ci --no-audit --no-fund` in `desk/` when `desk/node_modules` is
//!    missing or older than `desk/package-lock.json` (npm's own record of the
//!    last install, `node_modules/.package-lock.json`, gives the time). Exact
//!    versions from the lock file; `desk/.npmrc` keeps install scripts off.
//! 3. The packages' own `dist` files (minified CSS and ES modules, fonts,
//!    images) and our `desk/assets/*` are copied to `$OUT_DIR/desk-assets/`,
//!    and `$OUT_DIR/assets.rs` lists them with `include_bytes!`.
//!
//! Two builds at once take turns on a lock on `desk/package-lock.json`, so one
//! `npm ci` never deletes `node_modules` under the other's build (the same
//! pattern as the server's `build.rs` for `web/`).

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::SystemTime;

/// What the build reads, besides `node_modules`.
const INPUTS: [&str; 4] = ["package.json", "package-lock.json", ".npmrc", "assets"];

/// Single files served under `/assets/`: (URL name, source under `desk/`).
const FILES: [(&str, &str); 4] = [
    (
        "govuk-frontend.min.css",
        "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css",
    ),
    (
        "govuk-frontend.min.js",
        "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js",
    ),
    (
        "moj-frontend.min.css",
        "node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css",
    ),
    (
        "moj-frontend.min.js",
        "node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js",
    ),
];

/// Folders served under `/assets/` (the CSS refers to `/assets/fonts/…` and
/// `/assets/images/…`): (URL folder, source folder under `desk/`).
const DIRS: [(&str, &str); 4] = [
    (
        "fonts",
        "node_modules/govuk-frontend/dist/govuk/assets/fonts",
    ),
    (
        "images",
        "node_modules/govuk-frontend/dist/govuk/assets/images",
    ),
    (
        "images",
        "node_modules/@ministryofjustice/frontend/moj/assets/images",
    ),
    // Our own script and style (no inline script anywhere).
    ("", "assets"),
];

const INSTALL_HELP: &str = "\
The desk's assets (desk/) are installed with npm, and the desk embeds them.
Install Node.js 20 or later with npm and make sure `node` and `npm` are on PATH:
Debian 13 and Ubuntu 24.04 package it (`apt-get install -y nodejs npm`). Then build again.";

fn main() {
    for input in INPUTS {
        println!("cargo:rerun-if-changed={input}");
    }
    let desk = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let out = out_dir.join("desk-assets");

    let lock_file = desk.join("package-lock.json");
    let lock = File::open(&lock_file)
        .unwrap_or_else(|e| fail(&format!("cannot open {}: {e}", lock_file.display())));
    if let Err(e) = lock.lock() {
        fail(&format!("cannot lock {}: {e}", lock_file.display()));
    }
    if needs_install(&desk) {
        check_npm();
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&desk),
            "npm ci (installing the desk's exact front-end packages from desk/package-lock.json)",
        );
    }

    // (URL path, file in OUT_DIR)
    let mut served: Vec<(String, PathBuf)> = Vec::new();
    let _ = std::fs::remove_dir_all(&out);
    mkdir(&out);
    for (name, src) in FILES {
        let to = out.join(name);
        copy(&desk.join(src), &to);
        served.push((format!("/assets/{name}"), to));
    }
    for (folder, src) in DIRS {
        let dir = out.join(folder);
        mkdir(&dir);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(desk.join(src))
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", desk.join(src).display())))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for from in entries {
            let name = from
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let to = dir.join(&name);
            copy(&from, &to);
            let url = if folder.is_empty() {
                format!("/assets/{name}")
            } else {
                format!("/assets/{folder}/{name}")
            };
            served.retain(|(u, _)| *u != url);
            served.push((url, to));
        }
    }
    drop(lock);

    served.sort();
    let mut list =
        String::from("// Generated by desk/build.rs: every file served under /assets/.\n&[\n");
    for (url, path) in &served {
        writeln!(
            list,
            "    ({url:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .ok();
    }
    list.push_str("]\n");
    std::fs::write(out_dir.join("assets.rs"), list)
        .unwrap_or_else(|e| fail(&format!("cannot write the asset list: {e}")));
}

fn mkdir(dir: &Path) {
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", dir.display())));
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| {
        fail(&format!(
            "cannot copy {} (is desk/node_modules complete? delete it and build again): {e}",
            from.display()
        ))
    });
}

/// Stop the build with a message Cargo shows in full.
fn fail(message: &str) -> ! {
    eprintln!("\nerror: building the desk's assets (desk/) failed: {message}\n");
    std::process::exit(1);
}

fn check_npm() {
    let ok = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ok("node") || !ok("npm") {
        fail(&format!(
            "`node` or `npm` was not found or did not run.\n{INSTALL_HELP}"
        ));
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `desk/node_modules` is missing or older than the lock file.
fn needs_install(desk: &Path) -> bool {
    let lock = modified(&desk.join("package-lock.json"));
    // npm rewrites its hidden lock file at the end of every install.
    let installed = modified(&desk.join("node_modules").join(".package-lock.json"));
    match (installed, lock) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

fn run(cmd: &mut Command, what: &str) {
    // Cargo reads a build script's stdout for instructions: the tool's output
    // goes to stderr, which Cargo shows when the build fails.
    cmd.stdout(Stdio::from(std::io::stderr()));
    let status: ExitStatus = match cmd.status() {
        Ok(s) => s,
        Err(e) => fail(&format!("{what}: could not start: {e}\n{INSTALL_HELP}")),
    };
    if !status.success() {
        fail(&format!(
            "{what} exited with {status}; its output is above. Run it by hand in desk/ to see more."
        ));
    }
}

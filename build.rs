//! Builds the reporter page (`web/`) so the server binary can embed it
//! (`src/assets.rs`). Cargo runs this before compiling the `quietline` package,
//! so `cargo run -- serve` and `cargo test` need no manual npm step:
//!
//! 1. `node` (>= 20) and `npm` must be on `PATH`; if not, the build fails and
//!    says what to install.
//! 2. `npm ci --no-audit --no-fund` in `web/` when `web/node_modules` is missing
//!    or older than `web/package-lock.json` (npm's own record of the last
//!    install, `node_modules/.package-lock.json`, gives the time). Exact
//!    versions from the lock file; `web/.npmrc` keeps install scripts off.
//! 3. `node build.mjs --out-dir $OUT_DIR/web`: the same deterministic build as
//!    `npm run build` (which writes `web/dist/` for people), into Cargo's
//!    output directory.
//! 4. A gzip copy of each file (`NAME.gz`), made here with zopfli: pure Rust,
//!    no timestamp in the header, so the same input always gives the same
//!    bytes, and about 5 % smaller than `gzip -9`.
//! 5. A Brotli copy of each file (`NAME.br`), quality 11 (the slowest and
//!    smallest; deterministic too): about 13 % smaller than the gzip copy, and
//!    what browsers ask for over HTTPS.
//!
//! Two builds at once (say `cargo test` and an editor's `cargo check` on
//! another target directory) take turns on a lock on `web/package-lock.json`,
//! so one `npm ci` never deletes `node_modules` under the other's build.
//! Steps 1 and 2 and the lock are `buildkit/npm.rs`, shared with
//! `desk/build.rs`.

#[path = "buildkit/npm.rs"]
mod npm;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The list `web/build.mjs` writes beside the files: one line per file, its
/// name, URL path and language ("" for a file of every language), tab
/// separated. From it this script writes `$OUT_DIR/web_assets.rs`, the table
/// `src/assets.rs` embeds, so a language added to `web/src/i18n/` is served
/// with no change here.
const FILE_LIST: &str = "files.txt";

/// What the page's build reads, besides `node_modules`.
const INPUTS: [&str; 8] = [
    "web/src",
    "web/pins.json",
    "web/package.json",
    "web/package-lock.json",
    "web/build.mjs",
    "web/build-options.mjs",
    "web/build-i18n.mjs",
    "web/.npmrc",
];

const INSTALL_HELP: &str = "\
The reporter page (web/) is built with Node.js and npm, and the server embeds it.
Install Node.js 20 or later with npm and make sure `node` and `npm` are on PATH:
Debian 13 and Ubuntu 24.04 package it (`apt-get install -y nodejs npm`); for older
releases use the packages from https://nodejs.org/. Then build again.";

/// The page's npm folder, `web/`.
fn npm() -> npm::Npm {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    npm::Npm {
        dir: root.join("web"),
        what: "the reporter page (web/)",
        folder: "web/",
        help: INSTALL_HELP,
    }
}

fn main() {
    let npm = npm();
    npm.rerun_if_changed(&INPUTS);
    let web = npm.dir.clone();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("web");

    npm.check_node();
    let lock = npm.lock();
    if npm.needs_install() {
        npm.ci("npm ci (installing the page's exact dependencies from web/package-lock.json)");
    }
    npm.run(
        Command::new("node")
            .arg("build.mjs")
            .arg("--out-dir")
            .arg(&out)
            .current_dir(&web),
        "node build.mjs (building the reporter page)",
    );
    drop(lock);

    let list_path = out.join(FILE_LIST);
    let list = std::fs::read_to_string(&list_path).unwrap_or_else(|e| {
        fail(&format!(
            "the page build did not write {}: {e}",
            list_path.display()
        ))
    });
    let mut table = String::from(
        "// Written by build.rs from web/build.mjs's files.txt: (URL path, language, file, Content-Type, bytes, gzip, Brotli).\n[\n",
    );
    for line in list.lines() {
        let mut cols = line.split('\t');
        let (Some(name), Some(route), Some(lang), None) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            fail(&format!("{}: bad line {line:?}", list_path.display()));
        };
        let path = out.join(name);
        let body = |suffix: &str| {
            format!(
                "include_bytes!({:?}) as &'static [u8]",
                format!("{}{suffix}", path.display())
            )
        };
        table.push_str(&format!(
            "    ({route:?}, {lang:?}, {name:?}, {:?}, ({}, {}, {})),\n",
            content_type(name),
            body(""),
            body(".gz"),
            body(".br"),
        ));
        compress(&out, name);
    }
    table.push_str("]\n");
    write(
        &PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("web_assets.rs"),
        table.as_bytes(),
    );
}

/// The `Content-Type` of a built file, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        // pins.json: the forces' pinned signing keys, served for auditors.
        Some("json") => "application/json",
        _ => fail(&format!(
            "the page build wrote {name}, of a kind the server does not serve"
        )),
    }
}

/// Write `NAME.gz` and `NAME.br` beside the built file `name`.
fn compress(out: &Path, name: &str) {
    let path = out.join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        fail(&format!(
            "the page build did not write {}: {e}",
            path.display()
        ))
    });
    let mut gz = Vec::with_capacity(bytes.len() / 2);
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        &bytes[..],
        &mut gz,
    )
    .unwrap_or_else(|e| fail(&format!("cannot gzip {name}: {e}")));
    write(&out.join(format!("{name}.gz")), &gz);

    let mut br = Vec::with_capacity(bytes.len() / 2);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        size_hint: bytes.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)
        .unwrap_or_else(|e| fail(&format!("cannot compress {name} with Brotli: {e}")));
    write(&out.join(format!("{name}.br")), &br);
}

fn write(path: &Path, bytes: &[u8]) {
    File::create(path)
        .and_then(|mut f| f.write_all(bytes))
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
}

/// Stop the build with a message Cargo shows in full.
fn fail(message: &str) -> ! {
    npm().fail(message)
}

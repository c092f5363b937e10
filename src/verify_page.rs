//! `quietline verify-page`: anyone (a journalist, an auditor, a force) checks
//! that a running service serves exactly the reporter page of a known build
//! (issue 20, part 5).
//!
//! It owns: the expected files (the page built into this binary, or a build
//! of another git revision made here with the page's own deterministic build),
//! fetching each file from the service, comparing SHA-256s, checking that the
//! served `pins.json` is the build's and that `GET /api/v1/assets` agrees,
//! and the report it prints. It does not: judge whether a build is
//! trustworthy (that is the reader's job: read the commit), detect a page
//! served differently to other people (threat-model/adversaries.md), or
//! touch storage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use quietline_crypto::statement::SignerKey;
use sha2::{Digest, Sha256};

use crate::assets;

/// One file the page should be made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The address that fetches it (`/`, `/?lang=cy`, `/app.js`, …).
    pub address: String,
    /// Its name in a build of `web/`.
    pub file: String,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// The file itself (for `pins.json`, to show what it pins).
    pub body: Vec<u8>,
}

/// Why the check could not be made (exit code 2), as opposed to a page that
/// differs (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The service could not be reached or did not answer.
    #[error("cannot fetch {url}: {reason}")]
    Network {
        /// What was asked for.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The URL is not an http(s) URL.
    #[error("--url must be an http:// or https:// address, not {0:?}")]
    BadUrl(String),
    /// Building the page from a git revision failed.
    #[error("cannot build the page from revision {rev}: {reason}")]
    Build {
        /// The revision asked for.
        rev: String,
        /// What went wrong (the tool's output is on stderr).
        reason: String,
    },
}

/// The page built into this binary.
pub fn expected_from_binary() -> Vec<Expected> {
    assets::all()
        .iter()
        .map(|a| Expected {
            address: a.address(),
            file: a.file.to_owned(),
            sha256: a.sha256.clone(),
            body: a.body.to_vec(),
        })
        .collect()
}

/// The files of a page build in `dir` (`node build.mjs --out-dir DIR`), by
/// the build's own list (`files.txt`: name, URL path, language), with the
/// addresses the server gives them (`assets::Asset::address`: the first
/// language listed is the default one and needs no `?lang=`).
pub fn expected_from_dir(dir: &Path) -> Result<Vec<Expected>, String> {
    let list = std::fs::read_to_string(dir.join("files.txt"))
        .map_err(|e| format!("the build wrote no files.txt: {e}"))?;
    let mut default_lang: Option<String> = None;
    let mut out = Vec::new();
    for line in list.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, path, lang] = cols[..] else {
            return Err(format!("files.txt: bad line {line:?}"));
        };
        if !lang.is_empty() && default_lang.is_none() {
            default_lang = Some(lang.to_owned());
        }
        let address = if lang.is_empty() || Some(lang) == default_lang.as_deref() {
            path.to_owned()
        } else {
            format!("{path}?lang={lang}")
        };
        let body = std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
        out.push(Expected {
            address,
            file: name.to_owned(),
            sha256: hex::encode(Sha256::digest(&body)),
            body,
        });
    }
    Ok(out)
}

/// Build the page of git revision `rev` of the repository at `repo`: its
/// `web/` (`git archive`) into a temporary directory, `npm ci` from its lock
/// file (install scripts off, as its `.npmrc` says), then the same
/// `node build.mjs --out-dir` as build.rs. The temporary directory is
/// removed afterwards. The tools' output goes to stderr.
pub fn expected_from_commit(repo: &Path, rev: &str) -> Result<Vec<Expected>, VerifyError> {
    let fail = |reason: String| VerifyError::Build {
        rev: rev.to_owned(),
        reason,
    };
    if rev.starts_with('-') {
        return Err(fail("a revision does not start with '-'".into()));
    }
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| fail(format!("no randomness: {e}")))?;
    let tmp = std::env::temp_dir().join(format!("quietline-verify-page-{}", hex::encode(suffix)));
    std::fs::create_dir(&tmp).map_err(|e| fail(format!("{}: {e}", tmp.display())))?;
    let result = build_in(repo, rev, &tmp).map_err(fail);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn build_in(repo: &Path, rev: &str, tmp: &Path) -> Result<Vec<Expected>, String> {
    let tar = tmp.join("web.tar");
    run(
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["archive", "--format=tar", "-o"])
            .arg(&tar)
            .arg(format!("{rev}^{{commit}}"))
            .arg("--")
            .arg("web"),
        "git archive (is this a Quietline checkout, and is the revision in it?)",
    )?;
    run(
        Command::new("tar").arg("-xf").arg(&tar).arg("-C").arg(tmp),
        "tar -x",
    )?;
    let web = tmp.join("web");
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&web),
        "npm ci (the page's exact dependencies from its package-lock.json)",
    )?;
    let out = tmp.join("out");
    run(
        Command::new("node")
            .arg("build.mjs")
            .arg("--out-dir")
            .arg(&out)
            .current_dir(&web),
        "node build.mjs (the page's deterministic build)",
    )?;
    expected_from_dir(&out)
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    // Tools print progress; keep stdout for the report.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()));
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what} exited with {s}")),
        Err(e) => Err(format!("{what} could not start: {e}")),
    }
}

/// Whether everything matched.
pub type Verdict = bool;

/// Fetch every expected file from the service at `url` and compare; check
/// the served pins and `GET /api/v1/assets`. Prints one line per file
/// (`OK` or `DIFFERS`) and a summary to `out`. `Ok(true)`: all equal;
/// `Ok(false)`: something differs; `Err`: the check could not be made.
pub async fn verify(
    url: &str,
    expected: &[Expected],
    out: &mut impl Write,
) -> Result<Verdict, VerifyError> {
    let base = url.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(VerifyError::BadUrl(url.to_owned()));
    }
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        // A redirect would be another page: compare what this address serves.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| VerifyError::Network {
            url: base.to_owned(),
            reason: e.to_string(),
        })?;
    let get = |address: String| {
        let client = &client;
        async move {
            let full = format!("{base}{address}");
            let net = |e: reqwest::Error| VerifyError::Network {
                url: full.clone(),
                reason: e.to_string(),
            };
            // No Accept-Encoding and no Accept-Language: the file itself, in
            // the language its address names.
            let res = client.get(&full).send().await.map_err(net)?;
            let status = res.status();
            let body = res.bytes().await.map_err(net)?;
            Ok::<_, VerifyError>((status, body))
        }
    };
    let line = |out: &mut dyn Write, text: String| {
        let _ = writeln!(out, "{text}");
    };
    let mut all_ok = true;
    let width = expected.iter().map(|e| e.address.len()).max().unwrap_or(0);
    line(
        out,
        format!(
            "checking {} files of the reporter page at {base}",
            expected.len()
        ),
    );
    for e in expected {
        let (status, body) = get(e.address.clone()).await?;
        let verdict = if !status.is_success() {
            all_ok = false;
            format!("DIFFERS  (answered {status}, expected {})", e.sha256)
        } else {
            let got = hex::encode(Sha256::digest(&body));
            if got == e.sha256 {
                format!("OK       {got}")
            } else {
                all_ok = false;
                format!("DIFFERS  served {got}, expected {}", e.sha256)
            }
        };
        line(out, format!("{:width$}  {verdict}", e.address));
    }

    // The pins: the file is compared above; here what it pins, for a reader
    // to compare with each force's own publication of its fingerprint.
    match expected.iter().find(|e| e.file == "pins.json") {
        Some(pins) => {
            let (status, body) = get(pins.address.clone()).await?;
            if status.is_success() && body.as_ref() == pins.body.as_slice() {
                line(out, "pins.json: the served pins are the build's:".into());
                for l in describe_pins(&pins.body) {
                    line(out, format!("  {l}"));
                }
            } else {
                all_ok = false;
                line(
                    out,
                    "pins.json: DIFFERS: the service does not serve the build's pins".into(),
                );
            }
        }
        None => line(out, "pins.json: this build has no pins".into()),
    }

    // The service's own list of hashes must agree with the build too.
    let (status, body) = get("/api/v1/assets".into()).await?;
    let listed: Option<Vec<(String, String)>> = status
        .is_success()
        .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .flatten()
        .and_then(|v| {
            v.get("assets")?
                .as_array()?
                .iter()
                .map(|a| {
                    Some((
                        a.get("path")?.as_str()?.to_owned(),
                        a.get("sha256")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        });
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|e| (e.address.clone(), e.sha256.clone()))
        .collect();
    match listed {
        Some(l) if l == want => line(
            out,
            "GET /api/v1/assets: OK (lists the same files and hashes)".into(),
        ),
        Some(l) => {
            all_ok = false;
            let extra = l.iter().filter(|x| !want.contains(x)).count();
            let missing = want.iter().filter(|x| !l.contains(x)).count();
            line(
                out,
                format!(
                    "GET /api/v1/assets: DIFFERS ({missing} of the build's files not listed as built, {extra} listed otherwise)"
                ),
            );
        }
        None => {
            all_ok = false;
            line(
                out,
                format!("GET /api/v1/assets: DIFFERS (answered {status} without a list of assets)"),
            );
        }
    }
    if all_ok {
        line(
            out,
            "\nOK: every file the service serves at these addresses is the build's.".into(),
        );
    } else {
        line(
            out,
            "\nDIFFERS: the service does not serve this build of the reporter page (see the lines marked DIFFERS). Do not rely on it until the operator explains why."
                .into(),
        );
    }
    Ok(all_ok)
}

/// The pins as lines: each force, its threshold and each signer's
/// fingerprint (crypto/FORMAT.md#signing-keys), or why they do not parse.
pub fn describe_pins(bytes: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return vec!["(not JSON)".into()];
    };
    let Some(forces) = v.get("forces").and_then(|f| f.as_object()) else {
        return vec!["(no forces)".into()];
    };
    let mut out = Vec::new();
    for (id, pin) in forces {
        let k = pin.get("threshold").and_then(|t| t.as_u64()).unwrap_or(0);
        let signers: Vec<&str> = pin
            .get("signers")
            .and_then(|s| s.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
            .unwrap_or_default();
        out.push(format!("{id}: {k} of {} signing keys", signers.len()));
        for s in signers {
            match SignerKey::from_base64url(s) {
                Ok(key) => out.push(format!("  fingerprint {}", key.fingerprint())),
                Err(e) => out.push(format!("  {s}: not a signing key ({})", e.code())),
            }
        }
    }
    out
}

/// The repository `verify-page --commit` builds from: `--repo`, else the
/// current directory.
pub fn repo_dir(repo: Option<PathBuf>) -> PathBuf {
    repo.unwrap_or_else(|| PathBuf::from("."))
}

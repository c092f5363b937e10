//! Peak memory of `pull` does not grow with the number of reports (issue 5,
//! "Measured"). Ignored by default (it stores thousands of reports); run with
//! `cargo test -p quietline-console --test it pull_memory -- --ignored --nocapture`
//! (`QUIETLINE_PULL_N` sets the larger count, default 20000). Needs /usr/bin/time.

use std::process::Command;

use crate::support::{Console, Reporter, Server};

/// Fill the server with `n` sealed reports straight into storage (the API
/// path is exercised elsewhere; here only the pull is measured).
fn fill(server: &Server, pk: &quietline_crypto::keys::PublicKey, n: usize) {
    let reporter = Reporter::new();
    let payload = reporter.report_payload("a report among many, to measure the pull");
    let storage = server.storage.clone();
    let envelopes: Vec<Vec<u8>> = (0..n)
        .map(|_| reporter.seal("north", pk, &payload))
        .collect();
    server.block_on(async move {
        for chunk in envelopes.chunks(500) {
            let mut tasks = Vec::new();
            for env in chunk {
                let storage = storage.clone();
                let mut id = [0u8; 16];
                getrandom::fill(&mut id).unwrap();
                let report = quietline::storage::NewReport {
                    id,
                    force_id: "north".into(),
                    key_id: pk.key_id().0,
                    envelope: env.clone(),
                    day: quietline::day::today(),
                    pow: None,
                };
                tasks.push(tokio::spawn(async move {
                    storage.insert_report(report).await.unwrap()
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
}

#[test]
#[ignore]
fn pull_memory_is_flat_in_the_number_of_reports() {
    let large: usize = std::env::var("QUIETLINE_PULL_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20000);
    let small = large / 10;
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let first = Console::new();
    let pk = first.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "bench");

    let mut results = Vec::new();
    for (n, already) in [(small, 0), (large, small)] {
        fill(&server, &pk, n - already);
        // A fresh home holding the same key: pull everything the server has.
        let mut c = Console::new();
        c.ok(&["key", "import", first.key_file().to_str().unwrap()]);
        c.login(&server.base, &token);
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-f")
            .arg("peak-kib=%M")
            .arg(env!("CARGO_BIN_EXE_quietline-console"));
        cmd.env("QUIETLINE_INSECURE_FAST_KDF", "1")
            .arg("--home")
            .arg(&c.home)
            .arg("--passphrase-file")
            .arg(&c.pass_file)
            .arg("pull");
        let start = std::time::Instant::now();
        let out = cmd.output().unwrap();
        let secs = start.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!("Pulled {n} new envelope(s): {n} opened")),
            "{stdout}"
        );
        let kib: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak-kib="))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        println!(
            "pull of {n} reports: peak RSS {kib} KiB, {secs:.1} s ({:.0} reports/s)",
            n as f64 / secs
        );
        results.push(kib);
    }
    // Ten times the reports, not ten times the memory: allow 25 % noise.
    assert!(
        results[1] * 4 < results[0] * 5,
        "peak memory grew with the count: {results:?}"
    );
}

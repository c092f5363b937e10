use std::time::Instant;

use crate::Cli;
use crate::envelopes::{envelopes, rng};
use anyhow::Result;
use quietline_crypto::envelope::Kind;
use quietline_crypto::keys::{PrivateKey, generate_keypair};

// ------------------------------------------------------------------ console

pub(crate) fn console_bench(cli: &Cli) -> Result<()> {
    use quietline_crypto::keyfile::{KdfParams, seal_key_file};
    println!("\n## Console (open and parse in bulk)\n");
    let dir = tempfile::tempdir()?;
    let (sk, pk) = generate_keypair(&mut rng());
    let pass = b"benchmark passphrase";
    let key_file = seal_key_file(
        &mut rng(),
        &sk,
        "demo",
        "2026-01-01",
        pass,
        KdfParams::DEFAULT,
    )?;
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys)?;
    quietline_casework::keystore::write_key_file(
        &quietline_casework::keyring::key_path(&keys, pk.key_id()),
        &key_file,
    )?;
    let ring = quietline_casework::keyring::KeyRing::unlock(&keys, None, pass)?;
    let bodies = envelopes("demo", &pk, cli.opens);
    let raw = |sk: &PrivateKey| -> f64 {
        let t = Instant::now();
        for b in &bodies {
            let p = quietline_crypto::open::open(sk, Kind::Report, b).expect("open");
            std::hint::black_box(p.len());
        }
        bodies.len() as f64 / t.elapsed().as_secs_f64()
    };
    let console = || -> f64 {
        let t = Instant::now();
        for b in &bodies {
            let m = ring.open_message(b).expect("open_message");
            std::hint::black_box(&m);
        }
        bodies.len() as f64 / t.elapsed().as_secs_f64()
    };
    // Interleave three rounds of each; report the best of each (least disturbed).
    let (mut best_raw, mut best_console) = (0.0f64, 0.0f64);
    for _ in 0..3 {
        best_raw = best_raw.max(raw(&sk));
        best_console = best_console.max(console());
    }
    println!(
        "{} envelopes of the 8 KiB bucket (~6 KB report text), one thread, best of 3 interleaved rounds.\n",
        bodies.len()
    );
    println!("| what | per second | ceiling (raw HPKE open + unpad)/s | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| `KeyRing::open_message` (open + payload JSON parse + reply material) | {best_console:.0} | {best_raw:.0} | {:.0}% | ≥ 70% |",
        100.0 * best_console / best_raw
    );
    Ok(())
}

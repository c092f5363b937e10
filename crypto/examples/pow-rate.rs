//! Native proof-of-work search rate (FORMAT.md#solution), one thread: what a
//! flooder's own code gets per core, to compare with a page's rate
//! (`web/bench/pow.mjs`, BENCHMARKS.md). Two solvers: the reference
//! [`pow::solve`] (HKDF-Expand, 255 blocks a nonce, as the page does) and
//! the cheapest search the format allows (HMAC under the PRK with a
//! precomputed key, a fresh `prev` each try). Then what checking costs a
//! server: `pow::verify` of a solved header over an 8,263-byte envelope
//! (the 8 KiB bucket), against SHA-256 of the same envelope.
//! Run: `cargo run --release -p quietline-crypto --example pow-rate`.
#![forbid(unsafe_code)]

use hmac::{KeyInit, Mac};
use quietline_crypto::pow;
use std::time::Instant;

fn main() {
    let challenge = [7u8; pow::CHALLENGE_LEN];
    let hash = pow::envelope_hash(b"envelope");
    // Reference solver: tries = blocks judged; difficulty 32 never stops early.
    let tries = 1u64 << 22;
    let t = Instant::now();
    let found = pow::solve(&challenge, &hash, 32, 0, tries);
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(found);
    println!(
        "pow::solve (HKDF-Expand): {:.2} M tries/s",
        tries as f64 / secs / 1e6
    );

    // The cheapest: one HMAC per try with the PRK's key state cloned.
    let (prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(&challenge), &hash);
    let keyed = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&prk).unwrap();
    let t = Instant::now();
    let mut best = 0u32;
    for n in 0..tries {
        let mut mac = keyed.clone();
        mac.update(&n.to_be_bytes());
        mac.update(&[1]);
        let d: [u8; 32] = mac.finalize().into_bytes().into();
        best = best.max(pow::leading_zero_bits(&d));
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(best);
    println!(
        "HMAC per try (key state cloned): {:.2} M tries/s",
        tries as f64 / secs / 1e6
    );

    // Verification: median of 21 rounds of 2,000 calls each.
    let key = pow::PowKey::from_bytes([3; 32]);
    let envelope = vec![0x5a; 8263];
    let c = pow::Challenge {
        difficulty: 12,
        expires: 1000,
        id: [1; 16],
    }
    .issue(&key);
    let header = pow::Solution {
        challenge: c,
        work: pow::solve(&c, &pow::envelope_hash(&envelope), 12, 0, 1 << 24).unwrap(),
    }
    .to_header();
    let median_us = |f: &dyn Fn()| {
        let mut rounds: Vec<f64> = (0..21)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..2000 {
                    f();
                }
                t.elapsed().as_secs_f64() * 1e6 / 2000.0
            })
            .collect();
        rounds.sort_by(f64::total_cmp);
        rounds[10]
    };
    let sha = median_us(&|| {
        std::hint::black_box(pow::envelope_hash(std::hint::black_box(&envelope)));
    });
    let verify = median_us(&|| {
        pow::verify(&key, std::hint::black_box(&header), &envelope, 0).unwrap();
    });
    println!("SHA-256 of an 8,263-byte envelope: {sha:.3} µs");
    println!(
        "pow::verify, accepted, same envelope: {verify:.3} µs ({:.2} × the SHA-256)",
        verify / sha
    );
}

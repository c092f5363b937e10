//! Open rate per suite (BENCHMARKS.md, "Console open rate by suite"): what
//! the console does per report — `open::open` (parse, key id check, HPKE open,
//! unpad) then `Payload::from_json` — against raw HPKE open (`setup_receiver`
//! and `open` with the header as AAD) of the same envelopes, for X25519 and
//! X-Wing. 8 KiB-bucket reports, one thread, best of 3 interleaved rounds.
//!
//! `cargo run --release -p quietline-crypto --features open --example open-rate [N]`

use std::time::Instant;

use hpke::{Deserializable, OpModeR};
use quietline_crypto::envelope::{Kind, parse};
use quietline_crypto::keys::{PrivateKey, Suite, generate_keypair_for};
use quietline_crypto::open::open;
use quietline_crypto::payload::Payload;
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::seal_report;
use rand_core::SeedableRng;

type Aead = hpke::aead::ChaCha20Poly1305;
type Kdf = hpke::kdf::HkdfSha256;

fn raw<K: hpke::Kem>(sk: &K::PrivateKey, bodies: &[Vec<u8>]) -> f64 {
    let t = Instant::now();
    for b in bodies {
        let env = parse(b).expect("parse");
        let enc = K::EncappedKey::from_bytes(env.enc()).expect("enc");
        let mut ctx =
            hpke::setup_receiver::<Aead, Kdf, K>(&OpModeR::Base, sk, &enc, Kind::Report.info())
                .expect("setup");
        let pt = ctx.open(env.ciphertext(), env.header()).expect("open");
        std::hint::black_box(pt.len());
    }
    bodies.len() as f64 / t.elapsed().as_secs_f64()
}

fn console_path(sk: &PrivateKey, bodies: &[Vec<u8>]) -> f64 {
    let t = Instant::now();
    for b in bodies {
        let p = open(sk, Kind::Report, b).expect("open");
        let m = Payload::from_json(&p).expect("payload");
        std::hint::black_box(&m);
    }
    bodies.len() as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    // Fixed seed: the inputs do not matter to the rate, only their sizes.
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(21);
    println!(
        "{n} reports of the 8 KiB bucket (~6 KB text), one thread, best of 3 interleaved rounds.\n"
    );
    println!("| suite | open + payload parse /s | raw HPKE open /s | ratio |");
    println!("|---|---|---|---|");
    for suite in Suite::ALL {
        let (sk, pk) = generate_keypair_for(suite, &mut rng);
        let secrets = ReplyCode::generate(&mut rng).derive_for(suite);
        let material = quietline_crypto::payload::ReplyMaterial::from_secrets(&secrets);
        let text = "x".repeat(6000);
        let json = format!(
            r#"{{"v":1,"type":"report","sent_at":"2026-12-06T22:00:00Z","lang":"en","report":{{"category":"drugs","details":"{text}","where":{{"known":false,"description":""}},"when":{{"known":false,"ongoing":false,"description":""}},"people":[],"vehicles":[],"how_known":"saw","how_known_details":""}},"attachments":[],"reply":{}}}"#,
            serde_json::to_string(&material).unwrap()
        );
        let bodies: Vec<Vec<u8>> = (0..n)
            .map(|_| seal_report(&mut rng, "demo", &pk, json.as_bytes()).expect("seal"))
            .collect();
        let (mut best_raw, mut best_console) = (0.0f64, 0.0f64);
        for _ in 0..3 {
            best_raw = best_raw.max(match &sk {
                PrivateKey::X25519(k) => raw::<hpke::kem::X25519HkdfSha256>(k, &bodies),
                PrivateKey::XWing(k) => raw::<hpke::kem::XWing>(k, &bodies),
            });
            best_console = best_console.max(console_path(&sk, &bodies));
        }
        println!(
            "| {suite} | {best_console:.0} | {best_raw:.0} | {:.0}% |",
            100.0 * best_console / best_raw
        );
    }
}

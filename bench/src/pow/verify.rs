use std::time::{Duration, Instant};

use crate::client::{Issued, solve_header};
use crate::envelopes::{envelopes, rng};
use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline_crypto::keys::generate_keypair;
use quietline_crypto::pow as qpow;

/// Median, over up to 21 rounds, of µs per call of `f`; each round makes
/// enough calls to last at least 5 ms (at most 1,000,000), all rounds at most
/// 10 s.
pub(crate) fn micros_per_call(mut f: impl FnMut()) -> f64 {
    const ROUNDS: usize = 21;
    const MAX_ITERS: u64 = 1_000_000;
    let mut iters = 1u64;
    while iters < MAX_ITERS {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        if t.elapsed() >= Duration::from_millis(5) {
            break;
        }
        iters = (iters * 2).min(MAX_ITERS);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut per = Vec::with_capacity(ROUNDS);
    while per.len() < ROUNDS && (per.is_empty() || Instant::now() < deadline) {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        per.push(t.elapsed().as_secs_f64() * 1e6 / iters as f64);
    }
    per.sort_by(f64::total_cmp);
    per[per.len() / 2]
}

/// µs per check, in-process, one thread.
pub(crate) struct VerifyCosts {
    pub(crate) envelope_len: usize,
    pub(crate) sha256: f64,
    pub(crate) accepted: f64,
    pub(crate) missing: f64,
    pub(crate) malformed: f64,
    pub(crate) forged: f64,
    pub(crate) expired: f64,
    pub(crate) outdated: f64,
    pub(crate) insufficient: f64,
}

/// A nonce that does NOT solve `challenge` over `hash` at `difficulty`.
pub(crate) fn wrong_nonce(
    challenge: &[u8; qpow::CHALLENGE_LEN],
    hash: &[u8; 32],
    difficulty: u8,
) -> Result<[u8; 8]> {
    (0u64..1_000)
        .map(u64::to_be_bytes)
        .find(|n| {
            qpow::leading_zero_bits(&qpow::digest(challenge, hash, &qpow::Work::first(*n)))
                < u32::from(difficulty)
        })
        .context("no failing nonce among 1,000")
}

/// Part (a): `quietline_crypto::pow::verify_with` per outcome, with the
/// server's limits (grid, lifetime, least difficulty: the floor), against
/// SHA-256 of the same envelope.
pub(crate) fn verify_costs(difficulty: u8) -> Result<VerifyCosts> {
    use std::hint::black_box;
    let (_sk, pk) = generate_keypair(&mut rng());
    let body = envelopes("demo", &pk, 1).remove(0);
    let hash = qpow::envelope_hash(&body);
    let mut k = [0u8; 32];
    getrandom::fill(&mut k).map_err(|e| anyhow!("rng: {e}"))?;
    let key = qpow::PowKey::from_bytes(k);
    let now = quietline::pow::now_secs();
    let issue_at = |difficulty: u8, expires: u64| {
        let mut id = [0u8; qpow::ID_LEN];
        getrandom::fill(&mut id).map_err(|e| anyhow!("rng: {e}"))?;
        anyhow::Ok(
            qpow::Challenge {
                difficulty,
                expires,
                id,
            }
            .issue(&key),
        )
    };
    let issue = |expires: u64| issue_at(difficulty, expires);
    let live = issue(quietline::pow::expiry_for(now))?;
    let header = |challenge: [u8; qpow::CHALLENGE_LEN], nonce: [u8; 8]| {
        qpow::Solution {
            challenge,
            work: qpow::Work::first(nonce),
        }
        .to_header()
    };
    let solved = solve_header(
        &Issued {
            challenge: live,
            difficulty,
        },
        &hash,
    )?;
    let wrong = header(live, wrong_nonce(&live, &hash, difficulty)?);
    let mut forged_c = live;
    forged_c[qpow::CHALLENGE_LEN - 1] ^= 1;
    let forged = header(forged_c, [0; 8]);
    let expired = header(issue((now / 300 - 1) * 300)?, [0; 8]);
    let outdated = header(
        issue_at(difficulty - 1, quietline::pow::expiry_for(now))?,
        [0; 8],
    );
    let limits = qpow::Limits {
        min_difficulty: difficulty,
        granule: quietline::pow::EXPIRY_GRANULE_SECS,
        max_ahead: quietline::pow::MAX_AHEAD_SECS,
    };
    // The most work a malformed header can cost: a good challenge, a bad nonce.
    let malformed = format!("{}.!!!!!!!!!!!!", URL_SAFE_NO_PAD.encode(live));
    // What a browser sends with the POST, for the missing header's lookup.
    let mut headers = hyper::HeaderMap::new();
    for (name, value) in [
        ("host", "example.onion"),
        (
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
        ),
        ("accept", "application/json"),
        ("accept-language", "en-US,en;q=0.5"),
        ("accept-encoding", "gzip, deflate, br"),
        ("content-type", "application/octet-stream"),
        ("content-length", "8263"),
        ("origin", "http://example.onion"),
        ("connection", "keep-alive"),
        ("sec-fetch-mode", "cors"),
    ] {
        headers.insert(name, hyper::header::HeaderValue::from_static(value));
    }
    // Each input gives the answer it is meant to before it is timed.
    let check = |h: &str| qpow::verify_with(&key, h, &body, now, &limits).map_err(|e| e.code());
    if check(&solved).is_err()
        || check(&wrong) != Err("pow_insufficient")
        || check(&forged) != Err("pow_forged")
        || check(&expired) != Err("pow_expired")
        || check(&outdated) != Err("pow_outdated")
        || check(&malformed) != Err("pow_malformed")
        || headers.get(qpow::HEADER).is_some()
    {
        bail!("a verification benchmark input does not give its expected answer");
    }
    let verify = |h: &str| {
        let _ = black_box(qpow::verify_with(
            &key,
            black_box(h),
            black_box(&body),
            now,
            &limits,
        ));
    };
    Ok(VerifyCosts {
        envelope_len: body.len(),
        sha256: micros_per_call(|| {
            black_box(qpow::envelope_hash(black_box(&body)));
        }),
        accepted: micros_per_call(|| verify(&solved)),
        missing: micros_per_call(|| {
            black_box(black_box(&headers).get(qpow::HEADER));
        }),
        malformed: micros_per_call(|| verify(&malformed)),
        forged: micros_per_call(|| verify(&forged)),
        expired: micros_per_call(|| verify(&expired)),
        outdated: micros_per_call(|| verify(&outdated)),
        insufficient: micros_per_call(|| verify(&wrong)),
    })
}

//! Proof of work against a running server, as a client does it: fetch a
//! challenge (`GET /api/v1/challenge`) and solve it over the exact envelope.
//! The one copy used by the server's tests, the console's tests and the bench
//! (whose load client has its own raw-HTTP form, timed, in `bench/src/client.rs`).

/// The challenge text of a fresh `GET /api/v1/challenge` at `base`; `None`
/// when the server does not answer with one (e.g. it is stopping).
pub async fn try_challenge_text(http: &reqwest::Client, base: &str) -> Option<String> {
    let res = http
        .get(format!("{base}/api/v1/challenge"))
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.ok()?).ok()?;
    Some(v["challenge"].as_str()?.to_owned())
}

/// A fresh challenge from the server at `base` (`GET /api/v1/challenge`):
/// the challenge's 58 octets and its difficulty (the challenge's own octet 1).
pub async fn fetch_challenge(http: &reqwest::Client, base: &str) -> ([u8; 58], u8) {
    use base64::Engine;
    let text = try_challenge_text(http, base)
        .await
        .expect("GET /api/v1/challenge answers 200 with a challenge");
    let bytes: [u8; 58] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url challenge")
        .try_into()
        .expect("58-octet challenge");
    (bytes, bytes[1])
}

/// Solve `challenge` over `envelope`: the `Quietline-Pow` header value.
pub fn solve(challenge: [u8; 58], difficulty: u8, envelope: &[u8]) -> String {
    use quietline_crypto::pow;
    let work = pow::solve(
        &challenge,
        &pow::envelope_hash(envelope),
        difficulty,
        0,
        u64::MAX,
    )
    .expect("a solution exists");
    pow::Solution { challenge, work }.to_header()
}

/// Fetch a challenge from `base` and solve it over `envelope`: the value of
/// the `Quietline-Pow` header for submitting exactly these bytes.
pub async fn pow_header(http: &reqwest::Client, base: &str, envelope: &[u8]) -> String {
    try_pow_header(http, base, envelope)
        .await
        .expect("GET /api/v1/challenge answers 200 with a challenge")
}

/// [`pow_header`] for tests whose server may go away mid-test (killed,
/// stopped): `None` instead of a panic.
pub async fn try_pow_header(http: &reqwest::Client, base: &str, envelope: &[u8]) -> Option<String> {
    let text = try_challenge_text(http, base).await?;
    quietline_crypto::pow::solve_header(&text, envelope).ok()
}

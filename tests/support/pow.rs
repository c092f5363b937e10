//! Proof of work for tests whose server may go away mid-test (killed,
//! stopped): the fallible twin of `server::pow_header`, which panics instead.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::server::solve;

/// Fetch a challenge from `base` and solve it over `envelope`; `None` when the
/// server does not answer, or answers anything but a 200 with a challenge (a
/// server that is stopping).
pub async fn try_pow_header(http: &reqwest::Client, base: &str, envelope: &[u8]) -> Option<String> {
    let res = http
        .get(format!("{base}/api/v1/challenge"))
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.ok()?).ok()?;
    let challenge: [u8; 58] = URL_SAFE_NO_PAD
        .decode(v["challenge"].as_str()?)
        .ok()?
        .try_into()
        .ok()?;
    let difficulty = u8::try_from(v["difficulty"].as_u64()?).ok()?;
    Some(solve(challenge, difficulty, envelope))
}

//! Proof of work on submissions, through a real server (crypto/FORMAT.md#proof-of-work,
//! threat-model/availability.md#floods): the challenge endpoint; every refusal
//! of FORMAT.md#verifying with its code and status; a solution for one
//! envelope refused for another; a replay refused on the same instance, after
//! a restart, and across two instances sharing one PostgreSQL database; a
//! failed store leaves the challenge usable; the difficulty controller rising
//! under pressure and with the intake rate, and falling back; challenges
//! minted with the key (difficulty 0, far expiries, off the grid) refused; a
//! stockpile refused as outdated once the difficulty has risen, and after a
//! restart at a higher floor, while a genuine sender's retry succeeds; proof
//! of work off; and the operator's view (`quietline pow status`, the startup
//! line).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::faults::Interposed;
use crate::support::server::Serve;
use crate::support::server::{
    Backend, Process, TIMEOUT, TestDb, TestServer, fetch_challenge, solve, test_settings,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline::ServerSettings;
use quietline::pow::{PowSettings, expiry_for, now_secs};
use quietline::storage::Storage;
use quietline_crypto::pow::{self, Challenge, PowKey, Solution};
use serde_json::Value;

/// Status, error code and message of a POST of `envelope` with `pow` (if any).
async fn post(s: &TestServer, envelope: &[u8], pow: Option<&str>) -> (u16, Value) {
    post_to(&s.http, &s.base, envelope, pow).await
}

async fn post_to(
    http: &reqwest::Client,
    base: &str,
    envelope: &[u8],
    pow: Option<&str>,
) -> (u16, Value) {
    let mut req = http
        .post(format!("{base}/api/v1/reports"))
        .header("content-type", "application/octet-stream")
        .body(envelope.to_vec());
    if let Some(p) = pow {
        req = req.header("quietline-pow", p);
    }
    let res = req.send().await.expect("POST report");
    let status = res.status().as_u16();
    let body = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    (status, body)
}

fn assert_refused(got: (u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"], code, "{}", got.1);
    let message = got.1["message"].as_str().unwrap();
    assert!(
        message.contains("challenge") || message.contains("proof of work"),
        "the message says what to do: {message}"
    );
}

async fn inbox_len(s: &TestServer, force: &str) -> usize {
    s.storage.inbox(force, None, 1000).await.unwrap().len()
}

/// The server's own challenge key, read behind the API's back, to make
/// challenges the API would never hand out (already expired).
async fn server_key(s: &TestServer) -> PowKey {
    let key = s.storage.pow_key([0; 32]).await.unwrap();
    PowKey::from_bytes(*key)
}

#[tokio::test]
async fn the_challenge_endpoint() {
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let res = s.http.get(s.url("/api/v1/challenge")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let v: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    let fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["challenge", "difficulty", "expires"]);
    let bytes = URL_SAFE_NO_PAD
        .decode(v["challenge"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes.len(), pow::CHALLENGE_LEN);
    let c = Challenge::verify(&server_key(&s).await, &bytes).unwrap();
    assert_eq!(
        v["difficulty"].as_u64(),
        Some(u64::from(crate::support::server::TEST_POW_DIFFICULTY))
    );
    assert_eq!(u64::from(c.difficulty), v["difficulty"].as_u64().unwrap());
    assert_eq!(c.expires, v["expires"].as_u64().unwrap());
    // Five-minute steps, at least ten minutes ahead: no clock to the second.
    assert_eq!(c.expires % 300, 0);
    let now = now_secs();
    assert!(c.expires >= now + 600 && c.expires <= now + 900 + 5);
    // Every challenge is fresh.
    let (other, _) = fetch_challenge(&s.http, &s.base).await;
    assert_ne!(bytes, other);
    s.stop().await;
}

#[tokio::test]
async fn every_refusal_on_sqlite() {
    every_refusal(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_refusal_on_postgres() {
    every_refusal(Backend::Postgres).await;
}

async fn every_refusal(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North").await;
    let envelope = force.report(b"the report");
    let d = crate::support::server::TEST_POW_DIFFICULTY;

    // 1. Missing.
    assert_refused(post(&s, &envelope, None).await, 400, "pow_missing");

    // 2. Malformed: not two parts, wrong lengths, padding, not base64url.
    let (challenge, _) = fetch_challenge(&s.http, &s.base).await;
    let good = solve(challenge, d, &envelope);
    let (c_text, n_text) = good.split_once('.').unwrap();
    for bad in [
        "".to_owned(),
        c_text.to_owned(),
        format!("{c_text}.{n_text}.{n_text}"),
        format!("{c_text}.AAAA"),
        format!("{}.{n_text}", &c_text[..70]),
        format!("{good}="),
        format!("{c_text}.{n_text}!"),
    ] {
        assert_refused(post(&s, &envelope, Some(&bad)).await, 400, "pow_malformed");
    }

    // 3. Forged: any bit of the challenge flipped, or another service's key.
    for bit in [0usize, 8, 20, 100, 300, 463] {
        let mut c = challenge;
        c[bit / 8] ^= 1 << (bit % 8);
        let forged = solve(c, d, &envelope);
        assert_refused(post(&s, &envelope, Some(&forged)).await, 400, "pow_forged");
    }
    let elsewhere = Challenge {
        difficulty: d,
        expires: expiry_for(now_secs()),
        id: [7; 16],
    }
    .issue(&PowKey::from_bytes([0x55; 32]));
    let forged = solve(elsewhere, d, &envelope);
    assert_refused(post(&s, &envelope, Some(&forged)).await, 400, "pow_forged");

    // 4. Expired: a genuine challenge (the server's own key) whose expiry has passed.
    let key = server_key(&s).await;
    let old = Challenge {
        difficulty: d,
        expires: (now_secs() / 300) * 300,
        id: [8; 16],
    }
    .issue(&key);
    let expired = solve(old, d, &envelope);
    assert_refused(
        post(&s, &envelope, Some(&expired)).await,
        429,
        "pow_expired",
    );

    // 5. Insufficient: a nonce that is not a solution.
    let mut nonce = [0u8; 8];
    let digest_of = |n: &[u8; 8]| {
        pow::digest(
            &challenge,
            &pow::envelope_hash(&envelope),
            &pow::Work::first(*n),
        )
    };
    while pow::leading_zero_bits(&digest_of(&nonce)) >= u32::from(d) {
        nonce[7] += 1;
    }
    let wrong = Solution {
        challenge,
        work: pow::Work::first(nonce),
    }
    .to_header();
    let r = post(&s, &envelope, Some(&wrong)).await;
    assert_refused(r.clone(), 400, "pow_insufficient");
    assert!(
        r.1["message"]
            .as_str()
            .unwrap()
            .contains("leading zero bits")
    );

    // ... and a genuine solution for ANOTHER envelope (same force, same key).
    let other = force.report(b"another report");
    let mut refused_for_other = 0;
    for _ in 0..5 {
        // A solution for one envelope fits another only by chance (2^-8 here):
        // try a few fresh challenges; all but a freak one must be refused.
        let (c, _) = fetch_challenge(&s.http, &s.base).await;
        let for_first = solve(c, d, &envelope);
        let r = post(&s, &other, Some(&for_first)).await;
        if r.0 == 400 {
            assert_eq!(r.1["error"], "pow_insufficient");
            refused_for_other += 1;
        }
    }
    assert!(refused_for_other >= 4, "{refused_for_other} of 5 refused");
    // The freak one (about one run in 50) was a valid solution for `other`
    // and is stored; nothing refused is.
    assert_eq!(
        inbox_len(&s, "north").await,
        5 - refused_for_other,
        "nothing refused was stored"
    );

    // The good solution is accepted once ...
    let (status, body) = post(&s, &envelope, Some(&good)).await;
    assert_eq!(status, 201, "{body}");
    // 6. ... and spent: the same request again is refused, on this instance ...
    assert_refused(post(&s, &envelope, Some(&good)).await, 429, "pow_spent");
    // ... and so is the same challenge solved over another envelope.
    let again = solve(challenge, d, &other);
    assert_refused(post(&s, &other, Some(&again)).await, 429, "pow_spent");
    assert_eq!(inbox_len(&s, "north").await, 1 + 5 - refused_for_other);

    // The shape of the envelope is judged before proof of work.
    let (status, body) = post(&s, b"not an envelope", None).await;
    assert_eq!(status, 400);
    assert_ne!(body["error"], "pow_missing", "{body}");
    s.stop().await;
}

/// A replay is refused by the database, not only by an instance's memory:
/// after a restart on the same SQLite file.
#[tokio::test]
async fn a_spent_challenge_stays_spent_after_a_restart() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let storage = quietline::storage::open(&db.url).await.unwrap();
    let s = TestServer::start_on(db, storage, test_settings()).await;
    let force = s.add_force("north", "North").await;
    let envelope = force.report(b"once");
    let header = s.pow(&envelope).await;
    assert_eq!(post(&s, &envelope, Some(&header)).await.0, 201);
    let db = s.shutdown().await;

    let storage = quietline::storage::open(&db.url).await.unwrap();
    let s = TestServer::start_on(db, storage, test_settings()).await;
    assert_refused(post(&s, &envelope, Some(&header)).await, 429, "pow_spent");
    assert_eq!(inbox_len(&s, "north").await, 1);
    s.stop().await;
}

/// Two instances on one PostgreSQL database: a challenge from one is accepted
/// by the other (shared key), and a solution spent on one is refused by the
/// other; sent to both at once, exactly one accepts it.
#[tokio::test]
async fn a_replay_is_refused_across_two_instances_on_postgres() {
    let Some(db_a) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let db_b = db_a.shared();
    let a = TestServer::start_on(
        db_a.shared(),
        quietline::storage::open(&db_a.url).await.unwrap(),
        test_settings(),
    )
    .await;
    let b = TestServer::start_on(
        db_b,
        quietline::storage::open(&db_a.url).await.unwrap(),
        test_settings(),
    )
    .await;
    let force = a.add_force("north", "North").await;

    // Issued by A, spent at B, replayed at A and at B.
    let envelope = force.report(b"first");
    let header = a.pow(&envelope).await;
    assert_eq!(post(&b, &envelope, Some(&header)).await.0, 201);
    assert_refused(post(&a, &envelope, Some(&header)).await, 429, "pow_spent");
    assert_refused(post(&b, &envelope, Some(&header)).await, 429, "pow_spent");

    // The same solution raced to both instances, several times.
    for round in 0..10 {
        let envelope = force.report(format!("race {round}").as_bytes());
        let header = b.pow(&envelope).await;
        let (ra, rb) = tokio::join!(
            post(&a, &envelope, Some(&header)),
            post(&b, &envelope, Some(&header))
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 429], "round {round}: {} / {}", ra.1, rb.1);
        let loser = if ra.0 == 429 { ra.1 } else { rb.1 };
        assert_eq!(loser["error"], "pow_spent");
    }
    assert_eq!(inbox_len(&a, "north").await, 11);
    a.shutdown().await;
    b.shutdown().await;
    db_a.cleanup().await;
}

/// Many concurrent submissions with the same solution on one instance: one
/// stored, the rest refused, nothing lost for the genuine ones in between.
#[tokio::test]
async fn concurrent_replays_on_one_instance() {
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let force = s.add_force("north", "North").await;
    let envelope = force.report(b"replayed");
    let header = s.pow(&envelope).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (http, base, env, h) = (
            s.http.clone(),
            s.base.clone(),
            envelope.clone(),
            header.clone(),
        );
        tasks.push(tokio::spawn(async move {
            post_to(&http, &base, &env, Some(&h)).await
        }));
    }
    for i in 0..8 {
        let env = force.report(format!("genuine {i}").as_bytes());
        let h = s.pow(&env).await;
        let (http, base) = (s.http.clone(), s.base.clone());
        tasks.push(tokio::spawn(async move {
            post_to(&http, &base, &env, Some(&h)).await
        }));
    }
    let mut created = 0;
    let mut spent = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            201 => created += 1,
            429 => {
                assert_eq!(body["error"], "pow_spent");
                spent += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((created, spent), (9, 15));
    assert_eq!(inbox_len(&s, "north").await, 9);
    s.stop().await;
}

/// A submission refused after its proof of work was accepted (here: sealed to
/// a key the force never had) does not burn the challenge.
#[tokio::test]
async fn a_failed_store_leaves_the_challenge_usable() {
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let force = s.add_force("north", "North").await;
    let d = crate::support::server::TEST_POW_DIFFICULTY;
    let (challenge, _) = fetch_challenge(&s.http, &s.base).await;

    let (_, stranger) =
        quietline_crypto::keys::generate_keypair(&mut crate::support::server::rng());
    let wrong_key = quietline_crypto::seal::seal_report(
        &mut crate::support::server::rng(),
        "north",
        &stranger,
        b"sealed to a key north never had",
    )
    .unwrap();
    let r = post(&s, &wrong_key, Some(&solve(challenge, d, &wrong_key))).await;
    assert_eq!(r.0, 422, "{}", r.1);
    assert_eq!(r.1["error"], "unknown_key");

    let good = force.report(b"sealed again to the right key");
    let r = post(&s, &good, Some(&solve(challenge, d, &good))).await;
    assert_eq!(r.0, 201, "{}", r.1);
    s.stop().await;
}

async fn difficulty(s: &TestServer) -> u8 {
    fetch_challenge(&s.http, &s.base).await.1
}

/// Poll the challenge endpoint (bounded) until the difficulty is `want`.
async fn until_difficulty(s: &TestServer, want: u8) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let d = difficulty(s).await;
        if seen.last() != Some(&d) {
            seen.push(d);
        }
        if d == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "difficulty never reached {want}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn difficulty_rises_under_pressure_and_decays_when_quiet() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let high = Arc::new(AtomicBool::new(false));
    let storage: Arc<dyn Storage> = Arc::new(Interposed::pressured(
        quietline::storage::open(&db.url).await.unwrap(),
        high.clone(),
    ));
    let settings = ServerSettings {
        // The rate is not watched here: this test is about the pressure.
        pow: PowSettings {
            floor: 4,
            max: 9,
            expected_rate: 0,
        },
        pow_control_interval: Duration::from_millis(10),
        ..test_settings()
    };
    let s = TestServer::start_on(db, storage, settings).await;
    let force = s.add_force("north", "North").await;
    assert_eq!(difficulty(&s).await, 4);

    high.store(true, Ordering::Relaxed);
    until_difficulty(&s, 9).await;
    // A challenge issued under pressure needs its own difficulty, and the
    // server holds a sender to it even after the difficulty falls again.
    let envelope = force.report(b"under pressure");
    let (challenge, d) = fetch_challenge(&s.http, &s.base).await;
    assert_eq!(d, 9);
    let header = solve(challenge, 9, &envelope);

    high.store(false, Ordering::Relaxed);
    until_difficulty(&s, 4).await;
    assert_eq!(post(&s, &envelope, Some(&header)).await.0, 201);
    // A difficulty-9 challenge is not satisfied by a nonce that meets only
    // the current floor of 4 bits.
    let envelope = force.report(b"cheap");
    high.store(true, Ordering::Relaxed);
    until_difficulty(&s, 9).await;
    // Stays at the ceiling while the pressure lasts.
    let (challenge, d) = fetch_challenge(&s.http, &s.base).await;
    assert_eq!(d, 9);
    high.store(false, Ordering::Relaxed);
    let hash = pow::envelope_hash(&envelope);
    let mut n = 0u64;
    let nonce = loop {
        let bits = pow::leading_zero_bits(&pow::digest(
            &challenge,
            &hash,
            &pow::Work::first(n.to_be_bytes()),
        ));
        if (4..9).contains(&bits) {
            break n.to_be_bytes();
        }
        n += 1;
    };
    let cheap = Solution {
        challenge,
        work: pow::Work::first(nonce),
    }
    .to_header();
    assert_refused(
        post(&s, &envelope, Some(&cheap)).await,
        400,
        "pow_insufficient",
    );
    s.stop().await;
}

/// A server whose database never reports pressure, watching the rate
/// against an expected peak of 10 reports a minute, every 20 ms: any
/// sustained submissions are far above that peak.
async fn rate_server() -> TestServer {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let storage: Arc<dyn Storage> = Arc::new(Interposed::pressured(
        quietline::storage::open(&db.url).await.unwrap(),
        Arc::new(AtomicBool::new(false)),
    ));
    let settings = ServerSettings {
        pow: PowSettings {
            floor: 4,
            max: 9,
            expected_rate: 10,
        },
        pow_control_interval: Duration::from_millis(20),
        ..test_settings()
    };
    TestServer::start_on(db, storage, settings).await
}

/// One genuine submission at the current difficulty, accepted at the first
/// try; its difficulty.
async fn submit_one(s: &TestServer, envelope: &[u8]) -> u8 {
    let (challenge, d) = fetch_challenge(&s.http, &s.base).await;
    let r = post(s, envelope, Some(&solve(challenge, d, envelope))).await;
    assert_eq!(r.0, 201, "{}", r.1);
    d
}

/// One submission as the page makes it while the difficulty moves: a fresh
/// challenge once more after a 429 for the proof of work (a machine busy
/// enough to stall a test for the grace could make the first outdated).
async fn submit_like_the_page(s: &TestServer, envelope: &[u8]) -> u8 {
    let (challenge, d) = fetch_challenge(&s.http, &s.base).await;
    let r = post(s, envelope, Some(&solve(challenge, d, envelope))).await;
    if r.0 == 429 {
        return submit_one(s, envelope).await;
    }
    assert_eq!(r.0, 201, "{}", r.1);
    d
}

/// Issue 15, item 5: a flood the database absorbs without pressure still
/// raises the difficulty, by its rate alone, and it falls back after.
#[tokio::test]
async fn the_difficulty_rises_with_the_intake_rate_above_the_expected_peak() {
    let s = rate_server().await;
    let force = s.add_force("north", "North").await;
    assert_eq!(difficulty(&s).await, 4);
    let envelope = force.report(b"one of many");
    let mut seen = Vec::new();
    for i in 0..2000 {
        let d = submit_like_the_page(&s, &envelope).await;
        if seen.last() != Some(&d) {
            seen.push(d);
        }
        if d >= 4 + 4 {
            break;
        }
        assert!(i < 1999, "the difficulty never rose to floor+4: {seen:?}");
    }
    // The submissions stop: back to the floor.
    until_difficulty(&s, 4).await;
    s.stop().await;
}

/// A nonce that does NOT solve `challenge` over `envelope` at `difficulty`:
/// a probe that the server refuses as insufficient while the challenge is
/// current, and as outdated before it hashes anything once it is not.
fn wrong_solution(challenge: [u8; 58], difficulty: u8, envelope: &[u8]) -> String {
    let hash = pow::envelope_hash(envelope);
    let mut n = 0u64;
    while pow::leading_zero_bits(&pow::digest(
        &challenge,
        &hash,
        &pow::Work::first(n.to_be_bytes()),
    )) >= u32::from(difficulty)
    {
        n += 1;
    }
    Solution {
        challenge,
        work: pow::Work::first(n.to_be_bytes()),
    }
    .to_header()
}

/// Issue 15, item 6: a challenge fetched at the floor before a flood (a
/// stockpile, or a genuine sender's slow solve) is refused as outdated once
/// the raised difficulty has lasted the grace; the page's one retry, with a
/// fresh challenge, is accepted.
#[tokio::test]
async fn a_stockpiled_challenge_is_refused_as_outdated_and_a_genuine_retry_succeeds() {
    let s = rate_server().await;
    let force = s.add_force("north", "North").await;
    let stockpiled = force.report(b"fetched at the floor, sent late");
    let (challenge, d) = fetch_challenge(&s.http, &s.base).await;
    assert_eq!(d, 4);
    let header = solve(challenge, d, &stockpiled);
    let probe = wrong_solution(challenge, d, &stockpiled);

    // Other senders push the rate up, until the stockpiled challenge is
    // outdated (the probe says so without spending it).
    let flood = force.report(b"the flood");
    let mut answers = Vec::new();
    for i in 0..5000 {
        submit_like_the_page(&s, &flood).await;
        let (status, body) = post(&s, &stockpiled, Some(&probe)).await;
        let code = body["error"].as_str().unwrap().to_owned();
        if answers.last() != Some(&code) {
            answers.push(code.clone());
        }
        if code == "pow_outdated" {
            assert_eq!(status, 429, "{body}");
            break;
        }
        assert_eq!(code, "pow_insufficient", "{body}");
        assert!(i < 4999, "never outdated: {answers:?}");
    }
    // The real solution, at the old difficulty: refused, nothing stored ...
    let before = inbox_len(&s, "north").await;
    let r = post(&s, &stockpiled, Some(&header)).await;
    assert_refused(r.clone(), 429, "pow_outdated");
    assert!(
        r.1["message"]
            .as_str()
            .unwrap()
            .contains("fetch a new challenge"),
        "{}",
        r.1
    );
    assert_eq!(inbox_len(&s, "north").await, before);
    // ... and the page's one retry: a fresh challenge, at the difficulty
    // asked for now, solved over the same envelope, is accepted.
    submit_one(&s, &stockpiled).await;
    assert_eq!(inbox_len(&s, "north").await, before + 1);
    s.stop().await;
}

/// Issue 15, items 6 and 7, the issue's example: challenges fetched at the
/// floor, then the server restarted at a higher floor: the stockpile is
/// refused (a restarted server starts at its floor, which is the least it
/// accepts), and a fresh challenge is accepted.
#[tokio::test]
async fn a_restart_at_a_higher_floor_refuses_challenges_fetched_below_it() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let storage = quietline::storage::open(&db.url).await.unwrap();
    let s = TestServer::start_on(db, storage, test_settings()).await;
    let force = s.add_force("north", "North").await;
    let mut stockpile = Vec::new();
    for i in 0..5 {
        let envelope = force.report(format!("stockpiled {i}").as_bytes());
        let header = s.pow(&envelope).await;
        stockpile.push((envelope, header));
    }
    let db = s.shutdown().await;

    let storage = quietline::storage::open(&db.url).await.unwrap();
    let settings = ServerSettings {
        pow: PowSettings::fixed(crate::support::server::TEST_POW_DIFFICULTY + 2),
        ..test_settings()
    };
    let s = TestServer::start_on(db, storage, settings).await;
    for (envelope, header) in &stockpile {
        assert_refused(post(&s, envelope, Some(header)).await, 429, "pow_outdated");
    }
    assert_eq!(inbox_len(&s, "north").await, 0);
    let (envelope, _) = &stockpile[0];
    assert_eq!(
        submit_one(&s, envelope).await,
        crate::support::server::TEST_POW_DIFFICULTY + 2
    );
    s.stop().await;
}

#[tokio::test]
async fn challenges_minted_with_the_key_are_refused_on_sqlite() {
    challenges_minted_with_the_key_are_refused(Backend::Sqlite).await;
}

#[tokio::test]
async fn challenges_minted_with_the_key_are_refused_on_postgres() {
    challenges_minted_with_the_key_are_refused(Backend::Postgres).await;
}

/// Issue 15, item 7: whoever reads the challenge key can mint well-MACed
/// challenges, but not ones below the floor, nor ones that expire later than
/// any this server issues, nor ones off its five-minute grid (which the
/// store's CHECK would have turned into a 500).
async fn challenges_minted_with_the_key_are_refused(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let force = s.add_force("north", "North").await;
    let key = server_key(&s).await;
    let d = crate::support::server::TEST_POW_DIFFICULTY;
    let now = s.clock.now_secs();
    let mint = |difficulty: u8, expires: u64, id: u8| {
        Challenge {
            difficulty,
            expires,
            id: [id; 16],
        }
        .issue(&key)
    };
    let envelope = force.report(b"minted");
    let send = |c: [u8; 58], difficulty: u8| solve(c, difficulty, &envelope);

    // Difficulty 0 (or anything below the floor), a genuine expiry.
    for low in [0, 1, d - 1] {
        let c = mint(low, expiry_for(now), low);
        assert_refused(
            post(&s, &envelope, Some(&send(c, low))).await,
            429,
            "pow_outdated",
        );
    }
    // An expiry in 2100 (on the grid), or a grid step past the lifetime.
    let lifetime = quietline::pow::MAX_AHEAD_SECS;
    for expires in [4_102_444_800, (now + lifetime).div_ceil(300) * 300 + 300] {
        let c = mint(d, expires, 10);
        assert_refused(
            post(&s, &envelope, Some(&send(c, d))).await,
            400,
            "pow_forged",
        );
    }
    // Off the five-minute grid: 400, before the store, not a 500.
    for expires in [expiry_for(now) + 1, expiry_for(now) - 150, now + 700] {
        if expires % 300 == 0 {
            continue;
        }
        let c = mint(d, expires, 11);
        assert_refused(
            post(&s, &envelope, Some(&send(c, d))).await,
            400,
            "pow_forged",
        );
    }
    assert_eq!(inbox_len(&s, "north").await, 0, "nothing minted was stored");
    // What the server itself issues (the latest expiry it gives, at the
    // floor) is still accepted.
    let c = mint(d, expiry_for(now), 12);
    let r = post(&s, &envelope, Some(&send(c, d))).await;
    assert_eq!(r.0, 201, "{}", r.1);
    s.stop().await;
}

#[tokio::test]
async fn proof_of_work_off_accepts_without_and_still_checks_a_header() {
    let settings = ServerSettings {
        pow: PowSettings::off(),
        ..test_settings()
    };
    let s = TestServer::start_with(Backend::Sqlite, settings)
        .await
        .unwrap();
    let force = s.add_force("north", "North").await;
    assert_eq!(difficulty(&s).await, 0);
    let envelope = force.report(b"no work");
    assert_eq!(post(&s, &envelope, None).await.0, 201);
    assert_refused(
        post(&s, &envelope, Some("garbage")).await,
        400,
        "pow_malformed",
    );
    // A present header is verified and spent like any other.
    let envelope = force.report(b"with a header anyway");
    let header = s.pow(&envelope).await;
    assert_eq!(post(&s, &envelope, Some(&header)).await.0, 201);
    assert_refused(post(&s, &envelope, Some(&header)).await, 429, "pow_spent");
    s.stop().await;
}

/// The operator sees the state: a line at startup (loud when off) and
/// `quietline pow status` against the running server.
#[test]
fn the_operator_sees_the_difficulty() {
    let dir = tempfile::tempdir().unwrap();
    let p = Process::serve(
        &dir.path().join("on"),
        &["--pow-difficulty", "11", "--pow-max-difficulty", "15"],
    );
    let out = crate::support::server::command()
        .args(["pow", "status", "--url", &p.base])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("current difficulty: 11 bits"), "{text}");
    let captured = p.stop();
    let banner = String::from_utf8_lossy(&captured.stdout);
    assert!(
        banner.contains("proof of work: on, 11 bits (may rise to 15 under pressure or above 60 reports a minute)"),
        "{banner}"
    );
    let stderr = String::from_utf8_lossy(&captured.stderr);
    assert!(stderr.contains("proof of work on"), "{stderr}");

    let p = Process::serve(&dir.path().join("off"), &["--pow-difficulty", "0"]);
    let out = crate::support::server::command()
        .args(["pow", "status", "--url", &p.base])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("proof of work: OFF"),
        "{out:?}"
    );
    let captured = p.stop();
    let banner = String::from_utf8_lossy(&captured.stdout);
    assert!(
        banner.contains("WARNING: proof of work is OFF (--pow-difficulty 0)"),
        "{banner}"
    );
    let stderr = String::from_utf8_lossy(&captured.stderr);
    assert!(stderr.contains("WARNING: proof of work is OFF"), "{stderr}");

    // Nothing listening: a clear error and a failing exit code.
    let out = crate::support::server::command()
        .args(["pow", "status", "--url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot reach the server"),
        "{out:?}"
    );
}

#[test]
fn out_of_range_settings_are_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::server::command()
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--pow-difficulty", "40"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid --pow-difficulty"), "{err}");
    let out = crate::support::server::command()
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--pow-difficulty", "20", "--pow-max-difficulty", "10"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid --pow-max-difficulty"), "{err}");
}

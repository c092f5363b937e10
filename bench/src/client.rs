use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::report::{Run, micros};
use crate::{BENCH_DIFFICULTY, SOLVE_MAX_TRIES};
use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1 as client_http1;
use hyper_util::rt::TokioIo;
use quietline_crypto::pow as qpow;

// ------------------------------------------------------------------ load client

pub(crate) type Conn = client_http1::SendRequest<Full<Bytes>>;

pub(crate) async fn connect(addr: std::net::SocketAddr) -> Result<Conn> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (send, conn) = client_http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(send)
}

/// How a POST was answered: the status and, unless 201, the API error code.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) code: String,
}

impl Answer {
    pub(crate) fn created(&self) -> bool {
        self.status == 201
    }
    /// `pow_missing (400)`.
    pub(crate) fn describe(&self) -> String {
        format!("{} ({})", self.code, self.status)
    }
}

/// One POST of `body`, with `pow` as the `Quietline-Pow` header if given.
pub(crate) async fn post(send: &mut Conn, body: Bytes, pow: Option<&str>) -> Result<Answer> {
    send.ready().await?;
    let mut req = hyper::Request::post("/api/v1/reports")
        .header("host", "127.0.0.1")
        .header("content-type", "application/octet-stream")
        .header("content-length", body.len());
    if let Some(pow) = pow {
        req = req.header(qpow::HEADER, pow);
    }
    let resp = send.send_request(req.body(Full::new(body))?).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let code = if status == 201 {
        String::new()
    } else {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "(no error code)".into())
    };
    Ok(Answer { status, code })
}

/// A challenge as `GET /api/v1/challenge` gives it.
#[derive(Clone, Copy)]
pub(crate) struct Issued {
    pub(crate) challenge: [u8; qpow::CHALLENGE_LEN],
    pub(crate) difficulty: u8,
}

/// `GET /api/v1/challenge` on a keep-alive connection.
pub(crate) async fn get_challenge(send: &mut Conn) -> Result<Issued> {
    send.ready().await?;
    let req = hyper::Request::get("/api/v1/challenge")
        .header("host", "127.0.0.1")
        .header("accept", "application/json")
        .body(Full::new(Bytes::new()))?;
    let resp = send.send_request(req).await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    if status != hyper::StatusCode::OK {
        bail!(
            "GET /api/v1/challenge answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    let text = v["challenge"].as_str().context("no challenge")?;
    let challenge = URL_SAFE_NO_PAD
        .decode(text)?
        .try_into()
        .map_err(|_| anyhow!("the challenge is not {} bytes", qpow::CHALLENGE_LEN))?;
    let difficulty = u8::try_from(v["difficulty"].as_u64().context("no difficulty")?)?;
    Ok(Issued {
        challenge,
        difficulty,
    })
}

/// The `Quietline-Pow` header solving `c` over the envelope hashing to `hash`.
pub(crate) fn solve_header(c: &Issued, hash: &[u8; 32]) -> Result<String> {
    let work = qpow::solve(&c.challenge, hash, c.difficulty, 0, SOLVE_MAX_TRIES)
        .context("no solution found")?;
    Ok(qpow::Solution {
        challenge: c.challenge,
        work,
    }
    .to_header())
}

pub(crate) fn hashes(bodies: &[Bytes]) -> Vec<[u8; 32]> {
    bodies.iter().map(|b| qpow::envelope_hash(b)).collect()
}

/// Headers for `n` requests to the server at `addr`: request `i` sends
/// `bodies[i % len]`, so its header solves a challenge of its own (fetched
/// from the server; a challenge is accepted once) over that body. Done before
/// any timed part: 8 keep-alive connections fetch, then one blocking task
/// solves.
pub(crate) async fn prepare(
    addr: std::net::SocketAddr,
    bodies: &[Bytes],
    n: usize,
) -> Result<Arc<Vec<String>>> {
    const CONNS: usize = 8;
    let work = async {
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..CONNS {
            let next = next.clone();
            let mut send = connect(addr).await?;
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= n {
                        break;
                    }
                    got.push((i, get_challenge(&mut send).await?));
                }
                anyhow::Ok(got)
            }));
        }
        let mut all = Vec::with_capacity(n);
        for t in tasks {
            all.extend(t.await??);
        }
        all.sort_unstable_by_key(|(i, _)| *i);
        let hashes = hashes(bodies);
        tokio::task::spawn_blocking(move || {
            all.iter()
                .map(|(i, c)| solve_header(c, &hashes[i % hashes.len()]))
                .collect::<Result<Vec<_>>>()
        })
        .await?
    };
    let headers = tokio::time::timeout(Duration::from_secs(600), work)
        .await
        .context("fetching and solving challenges took over 600 s")??;
    Ok(Arc::new(headers))
}

/// Headers of the same form and length as [`prepare`]'s, made here under a
/// key of our own: for the bare HTTP ceiling, which ignores them, so that its
/// requests are byte for byte the size of Quietline's.
pub(crate) fn offline_headers(bodies: &[Bytes], n: usize) -> Result<Arc<Vec<String>>> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow!("rng: {e}"))?;
    let key = qpow::PowKey::from_bytes(key);
    let hashes = hashes(bodies);
    let expires = quietline::pow::expiry_for(quietline::pow::now_secs());
    (0..n)
        .map(|i| {
            let mut id = [0u8; qpow::ID_LEN];
            getrandom::fill(&mut id).map_err(|e| anyhow!("rng: {e}"))?;
            let c = Issued {
                challenge: qpow::Challenge {
                    difficulty: BENCH_DIFFICULTY,
                    expires,
                    id,
                }
                .issue(&key),
                difficulty: BENCH_DIFFICULTY,
            };
            solve_header(&c, &hashes[i % hashes.len()])
        })
        .collect::<Result<Vec<_>>>()
        .map(Arc::new)
}

/// `total` POSTs from `concurrency` keep-alive connections, as fast as they
/// are answered; stops at `deadline` whatever is left. POST `i` sends
/// `bodies[i % len]` with header `pows[i]`.
pub(crate) async fn closed_loop(
    addr: std::net::SocketAddr,
    bodies: &Arc<Vec<Bytes>>,
    pows: &Arc<Vec<String>>,
    concurrency: usize,
    total: usize,
    deadline: Duration,
) -> Result<Run> {
    if pows.len() < total {
        bail!("{} proof-of-work headers for {total} requests", pows.len());
    }
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (bodies, pows, next) = (bodies.clone(), pows.clone(), next.clone());
        let mut send = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut r = Run::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= total || start.elapsed() > deadline {
                    break;
                }
                let t = Instant::now();
                match post(&mut send, bodies[i % bodies.len()].clone(), Some(&pows[i])).await {
                    Ok(a) if a.created() => {
                        r.ok += 1;
                        r.lat.push(micros(t.elapsed()));
                    }
                    Ok(a) => r.error(a.describe()),
                    Err(e) => {
                        r.error(format!("transport: {e}"));
                        match connect(addr).await {
                            Ok(s) => send = s,
                            Err(_) => break,
                        }
                    }
                }
            }
            r
        }));
    }
    let mut all = Run::default();
    for t in tasks {
        all.merge(t.await?);
    }
    all.secs = start.elapsed().as_secs_f64();
    let unsent = total as u64 - (all.ok + all.errors).min(total as u64);
    if unsent > 0 {
        all.errors += unsent;
        *all.codes
            .entry(format!(
                "not sent before the {} s deadline",
                deadline.as_secs()
            ))
            .or_default() += unsent;
    }
    Ok(all)
}

/// Store `n` reports through HTTP (for pull): in chunks of at most 20,000,
/// each fetched and solved just before it is sent (challenges live 10–15
/// minutes). Fails unless every one was stored.
pub(crate) async fn fill(
    addr: std::net::SocketAddr,
    bodies: &Arc<Vec<Bytes>>,
    n: usize,
) -> Result<()> {
    const CHUNK: usize = 20_000;
    let mut done = 0;
    while done < n {
        let k = CHUNK.min(n - done);
        let pows = prepare(addr, bodies, k).await?;
        let r = closed_loop(addr, bodies, &pows, 64, k, Duration::from_secs(600)).await?;
        if r.ok as usize != k {
            let cell = r.errors_cell();
            bail!("only {} of {k} reports were stored: {cell}", r.ok);
        }
        done += k;
    }
    Ok(())
}

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::{Conn, Issued, connect, get_challenge, hashes, post, solve_header};
use crate::report::micros;
use anyhow::Result;
use bytes::Bytes;

/// What genuine senders saw in one phase.
#[derive(Default)]
pub(crate) struct Genuine {
    pub(crate) sent: u64,
    pub(crate) ok: u64,
    pub(crate) codes: BTreeMap<String, u64>,
    /// µs: the POST alone; GET + solve + POST; the solve alone.
    pub(crate) post: Vec<u32>,
    pub(crate) e2e: Vec<u32>,
    pub(crate) solve: Vec<u32>,
    pub(crate) secs: f64,
}

impl Genuine {
    pub(crate) fn merge(&mut self, o: Genuine) {
        self.sent += o.sent;
        self.ok += o.ok;
        for (k, v) in o.codes {
            *self.codes.entry(k).or_default() += v;
        }
        self.post.extend(o.post);
        self.e2e.extend(o.e2e);
        self.solve.extend(o.solve);
    }
    pub(crate) fn fail(&mut self, code: String) {
        *self.codes.entry(code).or_default() += 1;
    }
    pub(crate) fn success(&self) -> f64 {
        self.ok as f64 / self.sent.max(1) as f64
    }
}

/// Time limit of one request of the flood benchmark.
pub(crate) const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// One genuine submission as the page makes it: GET a challenge, solve it
/// over the envelope (on a blocking thread), POST. `Ok(None)`: stored; the
/// header is returned either way, for replays.
pub(crate) async fn genuine_once(
    send: &mut Conn,
    body: &Bytes,
    hash: [u8; 32],
    g: &mut Genuine,
) -> Result<Option<String>> {
    let t0 = Instant::now();
    let c = tokio::time::timeout(REQUEST_LIMIT, get_challenge(send)).await??;
    let t1 = Instant::now();
    let pow = tokio::task::spawn_blocking(move || solve_header(&c, &hash)).await??;
    let t2 = Instant::now();
    let a = tokio::time::timeout(REQUEST_LIMIT, post(send, body.clone(), Some(&pow))).await??;
    let t3 = Instant::now();
    if a.created() {
        g.ok += 1;
        g.post.push(micros(t3 - t2));
        g.e2e.push(micros(t3 - t0));
        g.solve.push(micros(t2 - t1));
        Ok(Some(pow))
    } else {
        g.fail(a.describe());
        Ok(None)
    }
}

/// `senders` genuine senders, each on its own keep-alive connection, in a
/// loop for `secs` (at most 100,000 submissions each).
pub(crate) async fn genuine_phase(
    addr: std::net::SocketAddr,
    bodies: &Arc<Vec<Bytes>>,
    senders: usize,
    secs: u64,
) -> Result<Genuine> {
    let body_hashes = Arc::new(hashes(bodies));
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for s in 0..senders {
        let (bodies, body_hashes) = (bodies.clone(), body_hashes.clone());
        let mut send = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut g = Genuine::default();
            for i in 0..100_000usize {
                if Instant::now() >= end {
                    break;
                }
                let b = (s * 7919 + i) % bodies.len();
                g.sent += 1;
                if let Err(e) = genuine_once(&mut send, &bodies[b], body_hashes[b], &mut g).await {
                    g.fail(format!("transport: {e}"));
                    if let Ok(c) = connect(addr).await {
                        send = c;
                    }
                }
            }
            g
        }));
    }
    let mut all = Genuine::default();
    for t in tasks {
        all.merge(t.await?);
    }
    all.secs = start.elapsed().as_secs_f64();
    Ok(all)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloodKind {
    Missing,
    Malformed,
    Forged,
    Insufficient,
    Replay,
}

pub(crate) const FLOOD_KINDS: [FloodKind; 5] = [
    FloodKind::Missing,
    FloodKind::Malformed,
    FloodKind::Forged,
    FloodKind::Insufficient,
    FloodKind::Replay,
];

impl FloodKind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            FloodKind::Missing => "no header",
            FloodKind::Malformed => "malformed header (issued challenge, nonce not base64url)",
            FloodKind::Forged => "forged challenge (issued one, last tag bit flipped)",
            FloodKind::Insufficient => "issued challenge, wrong nonce",
            FloodKind::Replay => "replay of a spent genuine solution, same body",
        }
    }
    /// The answer FORMAT.md#proof-of-work-errors requires.
    pub(crate) fn expected(self) -> (u16, &'static str) {
        match self {
            FloodKind::Missing => (400, "pow_missing"),
            FloodKind::Malformed => (400, "pow_malformed"),
            FloodKind::Forged => (400, "pow_forged"),
            FloodKind::Insufficient => (400, "pow_insufficient"),
            FloodKind::Replay => (429, "pow_spent"),
        }
    }
}

/// The flood's requests by kind (header, body) and its counters.
pub(crate) struct Flood {
    pub(crate) requests: [Vec<(Option<String>, Bytes)>; 5],
    /// Answered as expected, by kind.
    pub(crate) expected: [AtomicU64; 5],
    /// Anything else, by kind, and what it was.
    pub(crate) other: [AtomicU64; 5],
    pub(crate) other_codes: Mutex<BTreeMap<String, u64>>,
    pub(crate) stop: AtomicBool,
}

impl Flood {
    pub(crate) fn snapshot(&self) -> [u64; 5] {
        std::array::from_fn(|k| {
            self.expected[k].load(Ordering::Relaxed) + self.other[k].load(Ordering::Relaxed)
        })
    }
}

/// One flood connection: refused submissions as fast as they are answered,
/// the kinds in turn, until told to stop (at most 10,000,000 requests and
/// `limit`).
pub(crate) async fn flood_connection(
    addr: std::net::SocketAddr,
    flood: Arc<Flood>,
    first: usize,
    limit: Duration,
) {
    let end = Instant::now() + limit;
    let mut send = None;
    for i in 0..10_000_000usize {
        if flood.stop.load(Ordering::Relaxed) || Instant::now() >= end {
            break;
        }
        let conn = match send.as_mut() {
            Some(c) => c,
            None => match connect(addr).await {
                Ok(c) => send.insert(c),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let k = (first + i) % FLOOD_KINDS.len();
        let reqs = &flood.requests[k];
        let (pow, body) = &reqs[(i / FLOOD_KINDS.len()) % reqs.len()];
        let (status, code) = FLOOD_KINDS[k].expected();
        let answer =
            tokio::time::timeout(REQUEST_LIMIT, post(conn, body.clone(), pow.as_deref())).await;
        let other = match answer {
            Ok(Ok(a)) if a.status == status && a.code == code => None,
            Ok(Ok(a)) => Some(a.describe()),
            Ok(Err(e)) => Some(format!("transport: {e}")),
            Err(_) => Some("no answer within 30 s".into()),
        };
        match other {
            None => {
                flood.expected[k].fetch_add(1, Ordering::Relaxed);
            }
            Some(what) => {
                if what.starts_with("transport") || what.starts_with("no answer") {
                    send = None;
                }
                flood.other[k].fetch_add(1, Ordering::Relaxed);
                *flood
                    .other_codes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(format!("{}: {what}", FLOOD_KINDS[k].describe()))
                    .or_default() += 1;
            }
        }
    }
}

/// Fetch `n` challenges (not spent: the flood never solves them).
pub(crate) async fn fetch_challenges(addr: std::net::SocketAddr, n: usize) -> Result<Vec<Issued>> {
    let mut send = connect(addr).await?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(tokio::time::timeout(REQUEST_LIMIT, get_challenge(&mut send)).await??);
    }
    Ok(out)
}

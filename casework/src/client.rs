//! The HTTP client for the intake server's API v1 (issue 3): the inbox, the
//! envelopes (one per request, or many with the batched fetch of issue 16),
//! reply slots, the public directory and the public key log (issue 20:
//! checkpoint, verifier key, entries and proofs, crypto/FORMAT.md#key-log),
//! and the public intake a reporter's page uses: reports and attachment
//! blobs (uploaded, as a transfer does: crypto/FORMAT.md#blobs-on-the-server),
//! each with its proof of work.
//!
//! It owns talking to the server defensively: timeouts on connecting and on
//! every request, no redirects, and bounded body reads — an envelope body over
//! `MAX_ENVELOPE_LEN` or a JSON body over [`MAX_JSON_LEN`] is refused while
//! reading, before it is buffered, so a hostile server cannot make the console
//! allocate without limit. It checks the SHAPE of what the server says (ids
//! are hex of the right length); it trusts nothing else — envelopes are
//! authenticated later, by decryption. It does not store anything.
//!
//! It also owns waiting for a server that is unavailable (502, 503 — the
//! server's answer while its storage is down, with `Retry-After` — 504, or a
//! connection refused or dropped): with [`Client::with_waiting`] (what `pull`
//! uses) every GET is retried after a wait that honours `Retry-After`, capped
//! per wait and in total ([`WaitPolicy`]); without it the error is returned.

use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::time::{Duration, Instant};

use quietline_crypto::envelope::MAX_ENVELOPE_LEN;
use quietline_crypto::keylog::{self, Hash, LogKey};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::text::clean_line;

/// Largest JSON body read from the server (an inbox page of 1000 entries is
/// ~90 KiB). A batch of envelopes has its own bound, from the count asked.
pub const MAX_JSON_LEN: usize = 1024 * 1024;
/// Most ids one `POST /api/v1/inbox/fetch` asks for (the server's limit).
pub const MAX_FETCH_IDS: usize = 64;
/// Connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-request timeout (headers and body).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest single wait for an unavailable server, whatever `Retry-After` says.
pub const MAX_WAIT_EACH: Duration = Duration::from_secs(30);
/// How long `pull` waits, in total, for a server that stays unavailable.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(600);

/// How long to wait for an unavailable server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    /// The longest an outage is waited out (from its first failure) before giving up.
    pub max_total: Duration,
    /// The longest single wait.
    pub max_each: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            max_total: DEFAULT_MAX_WAIT,
            max_each: MAX_WAIT_EACH,
        }
    }
}

/// One outage, shared by the requests in flight: the first to find the server
/// unavailable schedules the wait (and the one line that tells the handler),
/// the others wait for the same moment.
#[derive(Debug, Default)]
struct Outage {
    started: Option<Instant>,
    attempts: u32,
    until: Option<Instant>,
}

/// Tells the handler about each wait (one line each).
pub type WaitNotice = Box<dyn Fn(&str) + Send + Sync>;

struct Waiter {
    policy: WaitPolicy,
    outage: Mutex<Outage>,
    notice: WaitNotice,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not http(s).
    #[error("{0:?} is not a server URL: use http://HOST:PORT or https://HOST")]
    BadUrl(String),
    /// Could not connect.
    #[error(
        "cannot reach the server at {server}: {reason}. Check the address (`quietline-console login --server …`) and the network"
    )]
    Unreachable {
        /// Base URL.
        server: String,
        /// What failed.
        reason: String,
    },
    /// The server took too long.
    #[error("the server at {0} did not answer in time")]
    Timeout(String),
    /// 401.
    #[error(
        "the server refused the handler token (401: unknown or revoked); ask the platform operator for a new token, then run `quietline-console login` again"
    )]
    Unauthorized,
    /// The body is larger than allowed.
    #[error("the server sent more than {limit} bytes for {what}; refused without reading it all")]
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The server answered with an error status.
    #[error("the server answered {status} to {what}: {message}")]
    Status {
        /// What was being done.
        what: &'static str,
        /// HTTP status.
        status: u16,
        /// The server's `error` code, if it sent one.
        code: String,
        /// The server's message (cleaned of control characters, shortened).
        message: String,
    },
    /// The server's answer is not what the API promises.
    #[error("the server's answer to {what} is not valid: {reason}")]
    BadResponse {
        /// What was being done.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The token cannot be sent in a header.
    #[error("the handler token contains characters that cannot be sent; check the token file")]
    BadToken,
    /// The server is unavailable for now: 502, 503 or 504, or the connection
    /// was refused or dropped. Worth waiting for (see [`WaitPolicy`]).
    #[error("the server at {server} is unavailable for now ({reason}); try again later")]
    Unavailable {
        /// Base URL.
        server: String,
        /// What happened (status and the server's code and message, cleaned; or the connection error).
        reason: String,
        /// The server's `Retry-After`, if it sent one in seconds.
        retry_after: Option<Duration>,
    },
    /// Still unavailable after waiting as long as allowed.
    #[error(
        "the server at {server} is still unavailable after waiting {waited} s ({reason}); stopped. Everything pulled so far is kept: run `pull` again later, or wait longer with `--max-wait SECONDS`"
    )]
    GaveUp {
        /// Base URL.
        server: String,
        /// Seconds waited.
        waited: u64,
        /// The last failure.
        reason: String,
    },
    /// Transport error while reading.
    #[error("the connection to {server} failed while {what}: {reason}")]
    Transport {
        /// Base URL.
        server: String,
        /// What was being done.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// One inbox entry as listed (not yet trusted beyond its shape).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InboxEntry {
    /// Report id, 32 lowercase hex digits.
    pub id: String,
    /// Key id, 16 hex digits.
    pub key_id: String,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
}

/// One inbox page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InboxPage {
    /// Entries, in id order.
    pub reports: Vec<InboxEntry>,
    /// Cursor for the next page, `None` at the end.
    pub next: Option<String>,
}

/// A directory entry (`GET /api/v1/forces`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DirectoryEntry {
    /// Force id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Current key id (hex).
    pub key_id: String,
    /// Current public key (base64url).
    pub public_key: String,
    /// The force's signed key statement for it (base64url,
    /// crypto/FORMAT.md#key-statements); absent from a server before issue 20
    /// and for a force without signing keys.
    #[serde(default)]
    pub statement: Option<String>,
    /// The index of `statement` in the platform's key log
    /// (crypto/FORMAT.md#key-log); absent with no statement, and from a
    /// server before the key log.
    #[serde(default)]
    pub log_index: Option<u64>,
}

/// What `POST /api/v1/inbox/fetch` gave for a list of ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The server answered: the envelopes it has, each with its id (every id
    /// one that was asked for, each at most once, every envelope at most
    /// `MAX_ENVELOPE_LEN` bytes); an id asked for and absent is gone (past
    /// retention) or was never this force's. `refused` lists entries whose
    /// envelope was too large or not base64url, with the reason.
    Envelopes {
        /// `(id, envelope)` in the server's order.
        found: Vec<(String, Vec<u8>)>,
        /// `(id, why)` for entries that were refused.
        refused: Vec<(String, String)>,
    },
    /// The server does not have the route (404 or 405: an older server):
    /// fetch one envelope per request with [`Client::envelope`] instead.
    Unsupported,
}

/// The body of a blob being read ([`Client::blob_stream`]).
pub struct BlobBody<'a> {
    client: &'a Client,
    res: reqwest::Response,
}

impl std::fmt::Debug for BlobBody<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobBody").finish_non_exhaustive()
    }
}

impl BlobBody<'_> {
    /// The length the server announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.res.content_length()
    }

    /// The next piece of the body (`None` at its end). A connection that
    /// breaks here is an error: the caller fetches the blob again later.
    pub async fn next(&mut self) -> Result<Option<impl AsRef<[u8]> + use<'_>>, ClientError> {
        self.res
            .chunk()
            .await
            .map_err(|e| self.client.body_error(e, "an attachment"))
    }
}

/// An upload of a sealed blob begun with [`Client::begin_blob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobUpload {
    /// The blob id the server minted (32 hex digits).
    pub id: String,
    /// How many parts the blob is sent in.
    pub parts: u64,
    /// The octets of each part (the last may be shorter): whole sealed chunks.
    pub part_len: usize,
}

/// Outcome of `PUT /api/v1/slots/{address}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotPut {
    /// 201.
    Stored,
    /// 409: the slot already holds a reply.
    Taken,
}

/// Whether `s` is exactly `n` lowercase hex digits.
pub fn is_hex(s: &str, n: usize) -> bool {
    s.len() == n
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `s` looks like `YYYY-MM-DD`.
pub fn is_day(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// A client for one server and (optionally) one handler token.
pub struct Client {
    http: reqwest::Client,
    base: String,
    auth: Option<HeaderValue>,
    waiter: Option<Waiter>,
}

/// Whether an error chain ends in a connection refused, reset or cut short.
fn dropped_connection(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | BrokenPipe
                    | UnexpectedEof
                    | NotConnected
            ) {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

/// The innermost message of an error chain (the useful one for a connection error).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut reason = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        reason = s.to_string();
        src = s.source();
    }
    reason
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for `server` (http or https base URL) with an optional token.
    pub fn new(server: &str, token: Option<&Zeroizing<String>>) -> Result<Client, ClientError> {
        let base = server.trim().trim_end_matches('/').to_owned();
        let lower = base.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(['?', '#', ' '])) {
            return Err(ClientError::BadUrl(server.to_owned()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::BadUrl(format!("{server} ({e})")))?;
        let auth = match token {
            Some(t) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", t.as_str()))
                    .map_err(|_| ClientError::BadToken)?;
                // Keeps it out of reqwest's debug output.
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        Ok(Client {
            http,
            base,
            auth,
            waiter: None,
        })
    }

    /// Wait for an unavailable server instead of failing (every GET), telling
    /// the handler about each wait through `notice`, one line each.
    pub fn with_waiting(mut self, policy: WaitPolicy, notice: WaitNotice) -> Client {
        self.waiter = Some(Waiter {
            policy,
            outage: Mutex::new(Outage::default()),
            notice,
        });
        self
    }

    /// Run `op` (one whole request, body included), waiting out unavailability
    /// if this client waits.
    async fn retrying<T, F, Fut>(&self, mut op: F) -> Result<T, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        loop {
            let result = op().await;
            let Some(waiter) = &self.waiter else {
                return result;
            };
            match result {
                Err(ClientError::Unavailable {
                    reason,
                    retry_after,
                    ..
                }) => self.wait(waiter, reason, retry_after).await?,
                other => {
                    if other.is_ok()
                        && let Ok(mut o) = waiter.outage.lock()
                    {
                        *o = Outage::default();
                    }
                    return other;
                }
            }
        }
    }

    /// Wait once for the outage to pass, or give up when it has lasted too long.
    async fn wait(
        &self,
        waiter: &Waiter,
        reason: String,
        retry_after: Option<Duration>,
    ) -> Result<(), ClientError> {
        let (until, line) = {
            let mut o = waiter.outage.lock().map_err(|_| ClientError::GaveUp {
                server: self.base.clone(),
                waited: 0,
                reason: reason.clone(),
            })?;
            let now = Instant::now();
            match o.until {
                // Another request already scheduled this wait: join it, silently.
                Some(until) if until > now => (until, None),
                _ => {
                    let started = *o.started.get_or_insert(now);
                    let waited = now.duration_since(started);
                    if waited >= waiter.policy.max_total {
                        return Err(ClientError::GaveUp {
                            server: self.base.clone(),
                            waited: waited.as_secs(),
                            reason,
                        });
                    }
                    // Retry-After when the server gives one, else 1, 2, 4, 8, 16 s…;
                    // at least 1 s, at most max_each and what is left of max_total.
                    let backoff = Duration::from_secs(1u64 << o.attempts.min(5));
                    let each = retry_after
                        .unwrap_or(backoff)
                        .max(Duration::from_secs(1))
                        .min(waiter.policy.max_each)
                        .min(waiter.policy.max_total - waited);
                    o.attempts += 1;
                    o.until = Some(now + each);
                    let line = format!(
                        "the server is unavailable ({reason}); waiting {} s before trying again ({} s waited so far, at most {} s)",
                        each.as_secs_f64().ceil() as u64,
                        waited.as_secs(),
                        waiter.policy.max_total.as_secs()
                    );
                    (now + each, Some(line))
                }
            }
        };
        if let Some(line) = line {
            (waiter.notice)(&line);
        }
        tokio::time::sleep_until(until.into()).await;
        Ok(())
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn send_error(&self, e: reqwest::Error, what: &'static str) -> ClientError {
        if e.is_timeout() {
            ClientError::Timeout(self.base.clone())
        } else if self.waiter.is_some()
            && (dropped_connection(&e) || (e.is_request() && !e.is_connect()))
        {
            // Refused (the server is restarting), or reset or closed before
            // the answer: worth waiting for.
            ClientError::Unavailable {
                server: self.base.clone(),
                reason: format!("the connection failed: {}", clean_line(&innermost(&e), 200)),
                retry_after: None,
            }
        } else if e.is_connect() {
            ClientError::Unreachable {
                server: self.base.clone(),
                reason: innermost(&e),
            }
        } else {
            ClientError::Transport {
                server: self.base.clone(),
                what,
                reason: e.to_string(),
            }
        }
    }

    async fn get(
        &self,
        path: &str,
        what: &'static str,
        authed: bool,
    ) -> Result<reqwest::Response, ClientError> {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if authed && let Some(a) = &self.auth {
            req = req.header(AUTHORIZATION, a.clone());
        }
        req.send().await.map_err(|e| self.send_error(e, what))
    }

    /// A failure while reading a body, in the client's terms.
    fn body_error(&self, e: reqwest::Error, what: &'static str) -> ClientError {
        if e.is_timeout() {
            ClientError::Timeout(self.base.clone())
        } else if self.waiter.is_some() && (dropped_connection(&e) || e.is_body() || e.is_request())
        {
            // The connection broke in the middle of the body: the request
            // is a GET, asking again is safe.
            ClientError::Unavailable {
                server: self.base.clone(),
                reason: format!(
                    "the connection broke while reading {what}: {}",
                    clean_line(&innermost(&e), 200)
                ),
                retry_after: None,
            }
        } else {
            ClientError::Transport {
                server: self.base.clone(),
                what,
                reason: e.to_string(),
            }
        }
    }

    /// Read a body of at most `limit` bytes, refusing more as soon as it shows.
    async fn read_limited(
        &self,
        mut res: reqwest::Response,
        limit: usize,
        what: &'static str,
    ) -> Result<Vec<u8>, ClientError> {
        if res.content_length().is_some_and(|n| n > limit as u64) {
            return Err(ClientError::TooLarge { what, limit });
        }
        let mut buf = Vec::with_capacity(res.content_length().map_or(0, |n| n as usize).min(limit));
        while let Some(chunk) = res.chunk().await.map_err(|e| self.body_error(e, what))? {
            if buf.len() + chunk.len() > limit {
                return Err(ClientError::TooLarge { what, limit });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }

    /// Turn a non-success answer into an error, reading at most a small JSON body.
    async fn status_error(&self, res: reqwest::Response, what: &'static str) -> ClientError {
        let status = res.status();
        if status == StatusCode::UNAUTHORIZED {
            return ClientError::Unauthorized;
        }
        // Only delta-seconds; an HTTP date (or nothing) leaves the back-off to us.
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        #[derive(Deserialize)]
        struct ApiError {
            #[serde(default)]
            error: String,
            #[serde(default)]
            message: String,
        }
        let (code, message) = match self.read_limited(res, 16 * 1024, what).await {
            Ok(body) => match serde_json::from_slice::<ApiError>(&body) {
                Ok(e) => (clean_line(&e.error, 64), clean_line(&e.message, 300)),
                Err(_) => (String::new(), "(no JSON error body)".to_owned()),
            },
            Err(_) => (
                String::new(),
                "(error body unreadable or too large)".to_owned(),
            ),
        };
        if matches!(
            status,
            StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
        ) {
            let code = if code.is_empty() {
                String::new()
            } else {
                format!(" {code}")
            };
            return ClientError::Unavailable {
                server: self.base.clone(),
                reason: format!("{}{code}: {message}", status.as_u16()),
                retry_after,
            };
        }
        ClientError::Status {
            what,
            status: status.as_u16(),
            code,
            message,
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        res: reqwest::Response,
        what: &'static str,
    ) -> Result<T, ClientError> {
        let body = self.read_limited(res, MAX_JSON_LEN, what).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
            what,
            reason: format!("not the expected JSON ({e})"),
        })
    }

    /// `GET /api/v1/inbox?after=…&limit=…`, with every id checked for shape.
    pub async fn inbox(&self, after: Option<&str>, limit: u32) -> Result<InboxPage, ClientError> {
        const WHAT: &str = "the inbox listing";
        let path = match after {
            Some(a) => format!("/api/v1/inbox?after={a}&limit={limit}"),
            None => format!("/api/v1/inbox?limit={limit}"),
        };
        let page: InboxPage = self
            .retrying(|| async {
                let res = self.get(&path, WHAT, true).await?;
                if !res.status().is_success() {
                    return Err(self.status_error(res, WHAT).await);
                }
                self.json(res, WHAT).await
            })
            .await?;
        if let Some(n) = &page.next
            && !is_hex(n, 32)
        {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: "`next` is not a report id".into(),
            });
        }
        Ok(page)
    }

    /// `GET /api/v1/inbox/{id}`: an envelope, at most `MAX_ENVELOPE_LEN` bytes.
    /// `Ok(None)` on 404 (gone since it was listed, e.g. past retention).
    pub async fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, ClientError> {
        const WHAT: &str = "an envelope";
        if !is_hex(id, 32) {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: "the report id is not 32 hex digits".into(),
            });
        }
        let path = format!("/api/v1/inbox/{id}");
        self.retrying(|| async {
            let res = self.get(&path, WHAT, true).await?;
            match res.status() {
                s if s.is_success() => {
                    Ok(Some(self.read_limited(res, MAX_ENVELOPE_LEN, WHAT).await?))
                }
                StatusCode::NOT_FOUND => Ok(None),
                _ => Err(self.status_error(res, WHAT).await),
            }
        })
        .await
    }

    /// `GET /api/v1/inbox/blobs/{id}`: an attachment's sealed blob
    /// (crypto/FORMAT.md#blobs-on-the-server), read up to `sealed_len` bytes
    /// (the length the sealed payload gives it; more is refused while
    /// reading). `None` when the server does not hold it (never uploaded,
    /// incomplete, purged, or another force's). The first fetch marks the
    /// blob referenced on the server.
    pub async fn blob(&self, id: &str, sealed_len: usize) -> Result<Option<Vec<u8>>, ClientError> {
        const WHAT: &str = "an attachment";
        if !is_hex(id, 32) {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: "the attachment id is not 32 hex digits".into(),
            });
        }
        let path = format!("/api/v1/inbox/blobs/{id}");
        self.retrying(|| async {
            let res = self.get(&path, WHAT, true).await?;
            match res.status() {
                s if s.is_success() => Ok(Some(self.read_limited(res, sealed_len, WHAT).await?)),
                StatusCode::NOT_FOUND => Ok(None),
                _ => Err(self.status_error(res, WHAT).await),
            }
        })
        .await
    }

    /// `GET /api/v1/inbox/blobs/{id}` as a stream, for a blob too large to
    /// hold in memory: the answer's head is awaited (and, with waiting, an
    /// unavailable server waited for), then the caller reads the body piece
    /// by piece with [`BlobBody::next`] and stops reading once it has
    /// `sealed_len` bytes (a longer body is its to refuse). `None` when the
    /// server does not hold the blob. The request may take
    /// [`REQUEST_TIMEOUT`] plus a second per MiB of `sealed_len`.
    pub async fn blob_stream(
        &self,
        id: &str,
        sealed_len: u64,
    ) -> Result<Option<BlobBody<'_>>, ClientError> {
        const WHAT: &str = "an attachment";
        if !is_hex(id, 32) {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: "the attachment id is not 32 hex digits".into(),
            });
        }
        let url = format!("{}/api/v1/inbox/blobs/{id}", self.base);
        let timeout = REQUEST_TIMEOUT + Duration::from_secs(sealed_len >> 20);
        self.retrying(|| async {
            let mut req = self.http.get(&url).timeout(timeout);
            if let Some(a) = &self.auth {
                req = req.header(AUTHORIZATION, a.clone());
            }
            let res = req.send().await.map_err(|e| self.send_error(e, WHAT))?;
            match res.status() {
                s if s.is_success() => Ok(Some(BlobBody { client: self, res })),
                StatusCode::NOT_FOUND => Ok(None),
                _ => Err(self.status_error(res, WHAT).await),
            }
        })
        .await
    }

    /// `POST /api/v1/inbox/fetch` `{"ids": […]}`: many envelopes in one
    /// answer (at most [`MAX_FETCH_IDS`] ids per call; more is refused here,
    /// before asking). The answer is read up to what that many envelopes of
    /// the largest size can take, and checked: an id that was not asked for,
    /// or given twice, makes the whole answer [`ClientError::BadResponse`].
    /// The request only reads, so it is retried like a GET when the client
    /// waits for an unavailable server.
    pub async fn fetch_envelopes(&self, ids: &[String]) -> Result<Fetched, ClientError> {
        const WHAT: &str = "a batch of envelopes";
        if ids.len() > MAX_FETCH_IDS || ids.iter().any(|id| !is_hex(id, 32)) {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: format!(
                    "asked for more than {MAX_FETCH_IDS} ids, or an id that is not 32 hex digits"
                ),
            });
        }
        if ids.is_empty() {
            return Ok(Fetched::Envelopes {
                found: Vec::new(),
                refused: Vec::new(),
            });
        }
        #[derive(Deserialize)]
        struct Entry {
            id: String,
            envelope: String,
        }
        #[derive(Deserialize)]
        struct Answer {
            reports: Vec<Entry>,
        }
        let body = serde_json::json!({ "ids": ids }).to_string();
        // Base64url without padding: 4 characters per 3 bytes, rounded up;
        // plus the id and the JSON around each entry.
        let max_b64 = MAX_ENVELOPE_LEN.div_ceil(3) * 4;
        let limit = 64 + ids.len() * (max_b64 + 64);
        let answer: Option<Answer> = self
            .retrying(|| async {
                let mut req = self
                    .http
                    .post(format!("{}/api/v1/inbox/fetch", self.base))
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
                if let Some(a) = &self.auth {
                    req = req.header(AUTHORIZATION, a.clone());
                }
                let res = req.send().await.map_err(|e| self.send_error(e, WHAT))?;
                match res.status() {
                    s if s.is_success() => {
                        let bytes = self.read_limited(res, limit, WHAT).await?;
                        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                            ClientError::BadResponse {
                                what: WHAT,
                                reason: format!("not the expected JSON ({e})"),
                            }
                        })
                    }
                    StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => Ok(None),
                    _ => Err(self.status_error(res, WHAT).await),
                }
            })
            .await?;
        let Some(answer) = answer else {
            return Ok(Fetched::Unsupported);
        };
        let mut asked: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        let mut found = Vec::with_capacity(answer.reports.len());
        let mut refused = Vec::new();
        for entry in answer.reports {
            if !asked.remove(entry.id.as_str()) {
                return Err(ClientError::BadResponse {
                    what: WHAT,
                    reason: "it holds an id that was not asked for, or one id twice".into(),
                });
            }
            if entry.envelope.len() > max_b64 {
                refused.push((
                    entry.id,
                    ClientError::TooLarge {
                        what: "an envelope",
                        limit: MAX_ENVELOPE_LEN,
                    }
                    .to_string(),
                ));
                continue;
            }
            match URL_SAFE_NO_PAD.decode(entry.envelope.as_bytes()) {
                Ok(bytes) if bytes.len() <= MAX_ENVELOPE_LEN => found.push((entry.id, bytes)),
                Ok(_) => refused.push((
                    entry.id,
                    ClientError::TooLarge {
                        what: "an envelope",
                        limit: MAX_ENVELOPE_LEN,
                    }
                    .to_string(),
                )),
                Err(_) => refused.push((
                    entry.id,
                    "the server's answer to a batch of envelopes is not valid: the envelope is not base64url".into(),
                )),
            }
        }
        Ok(Fetched::Envelopes { found, refused })
    }

    /// `PUT /api/v1/slots/{address}` with a kind-2 envelope.
    pub async fn put_slot(
        &self,
        address: &[u8; 32],
        envelope: Vec<u8>,
    ) -> Result<SlotPut, ClientError> {
        const WHAT: &str = "posting the reply";
        let mut req = self
            .http
            .put(format!(
                "{}/api/v1/slots/{}",
                self.base,
                hex::encode(address)
            ))
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(envelope);
        if let Some(a) = &self.auth {
            req = req.header(AUTHORIZATION, a.clone());
        }
        let res = req.send().await.map_err(|e| self.send_error(e, WHAT))?;
        match res.status() {
            StatusCode::CREATED | StatusCode::OK => Ok(SlotPut::Stored),
            StatusCode::CONFLICT => Ok(SlotPut::Taken),
            _ => Err(self.status_error(res, WHAT).await),
        }
    }

    /// `GET /api/v1/slots/{address}` (public): the reply envelope or `None`.
    pub async fn get_slot(&self, address: &[u8; 32]) -> Result<Option<Vec<u8>>, ClientError> {
        const WHAT: &str = "a reply slot";
        let res = self
            .get(
                &format!("/api/v1/slots/{}", hex::encode(address)),
                WHAT,
                false,
            )
            .await?;
        match res.status() {
            s if s.is_success() => Ok(Some(self.read_limited(res, MAX_ENVELOPE_LEN, WHAT).await?)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.status_error(res, WHAT).await),
        }
    }

    /// `GET /api/v1/challenge` (public): a fresh proof-of-work challenge,
    /// base64url as the server gave it (crypto/FORMAT.md#challenge).
    pub async fn challenge(&self) -> Result<String, ClientError> {
        self.challenge_at("/api/v1/challenge", "a proof-of-work challenge")
            .await
    }

    /// A fresh challenge from the public route `path` (the reports' or the
    /// blobs' challenge: they answer alike).
    async fn challenge_at(&self, path: &str, what: &'static str) -> Result<String, ClientError> {
        #[derive(Deserialize)]
        struct C {
            challenge: String,
        }
        let res = self.get(path, what, false).await?;
        if !res.status().is_success() {
            return Err(self.status_error(res, what).await);
        }
        let c: C = self.json(res, what).await?;
        Ok(c.challenge)
    }

    /// Solve `challenge` over the exact request body `body`
    /// (crypto/FORMAT.md#solution) on a blocking thread: the value of the
    /// `Quietline-Pow` header. The one solver of every request that needs a
    /// proof of work (reports, blob uploads).
    async fn solve(
        challenge: String,
        body: std::sync::Arc<Vec<u8>>,
        what: &'static str,
    ) -> Result<String, ClientError> {
        tokio::task::spawn_blocking(move || quietline_crypto::pow::solve_header(&challenge, &body))
            .await
            .map_err(|e| ClientError::BadResponse {
                what,
                reason: format!("the proof-of-work search stopped ({e})"),
            })?
            .map_err(|e| ClientError::BadResponse {
                what,
                reason: format!("the server's challenge cannot be solved ({e})"),
            })
    }

    /// `POST /api/v1/reports` (public): submit a kind-1 envelope through the
    /// platform's normal intake, as a reporter's page does, with its proof of
    /// work (crypto/FORMAT.md#solution) solved here on a blocking thread. A
    /// challenge the server no longer takes (`429 pow_expired`, `pow_spent`,
    /// `pow_outdated`) is replaced by a fresh one, up to three times. Returns
    /// the report id the server gave it. No token is sent: intake is public,
    /// and the receiving force must not learn which force's token sent it.
    pub async fn submit_report(&self, envelope: Vec<u8>) -> Result<String, ClientError> {
        const WHAT: &str = "submitting a report";
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        let envelope = std::sync::Arc::new(envelope);
        let mut tries = 0;
        loop {
            tries += 1;
            let challenge = self.challenge().await?;
            let header = Self::solve(challenge, envelope.clone(), WHAT).await?;
            let res = self
                .http
                .post(format!("{}/api/v1/reports", self.base))
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(quietline_crypto::pow::HEADER, header)
                .body(envelope.as_ref().clone())
                .send()
                .await
                .map_err(|e| self.send_error(e, WHAT))?;
            if res.status() == StatusCode::CREATED {
                let c: Created = self.json(res, WHAT).await?;
                if !is_hex(&c.id, 32) {
                    return Err(ClientError::BadResponse {
                        what: WHAT,
                        reason: "the report id is not 32 hex digits".into(),
                    });
                }
                return Ok(c.id);
            }
            let err = self.status_error(res, WHAT).await;
            match &err {
                ClientError::Status {
                    status: 429, code, ..
                } if tries < 4
                    && matches!(code.as_str(), "pow_expired" | "pow_spent" | "pow_outdated") => {}
                _ => return Err(err),
            }
        }
    }

    /// `GET /api/v1/blobs/challenge?size=N`, then `POST /api/v1/blobs`
    /// `{"force","size"}` (public, no token: like a reporter's page) with
    /// the proof of work solved over these exact body octets: begins the
    /// upload of a sealed blob of `sealed_len` octets to `force`
    /// (crypto/FORMAT.md#blobs-on-the-server). A `429 pow_*` answer is
    /// retried once with a fresh challenge, as the page does. The answer is
    /// checked for shape: an id of 32 hex digits, a part length of whole
    /// sealed chunks, and the number of parts that length gives.
    pub async fn begin_blob(
        &self,
        force: &str,
        sealed_len: u64,
    ) -> Result<BlobUpload, ClientError> {
        const WHAT: &str = "beginning an attachment upload";
        #[derive(Deserialize)]
        struct Created {
            id: String,
            parts: u64,
            part_len: u64,
        }
        // The body as the page writes it (JSON.stringify of {force, size}).
        let body = std::sync::Arc::new(
            serde_json::to_vec(&serde_json::json!({ "force": force, "size": sealed_len }))
                .expect("a JSON object serializes"),
        );
        let challenge_path = format!("/api/v1/blobs/challenge?size={sealed_len}");
        let mut tries = 0;
        loop {
            tries += 1;
            let challenge = self.challenge_at(&challenge_path, WHAT).await?;
            let header = Self::solve(challenge, body.clone(), WHAT).await?;
            let res = self
                .http
                .post(format!("{}/api/v1/blobs", self.base))
                .header(CONTENT_TYPE, "application/json")
                .header(quietline_crypto::pow::HEADER, header)
                .body(body.as_ref().clone())
                .send()
                .await
                .map_err(|e| self.send_error(e, WHAT))?;
            if res.status() == StatusCode::CREATED {
                let c: Created = self.json(res, WHAT).await?;
                let chunk = quietline_crypto::stream::SEALED_CHUNK_LEN as u64;
                if !is_hex(&c.id, 32)
                    || c.part_len == 0
                    || !c.part_len.is_multiple_of(chunk)
                    || c.parts != sealed_len.div_ceil(c.part_len)
                {
                    return Err(ClientError::BadResponse {
                        what: WHAT,
                        reason: "its id, part length or number of parts is not one an upload of this size has".into(),
                    });
                }
                return Ok(BlobUpload {
                    id: c.id,
                    parts: c.parts,
                    part_len: c.part_len as usize,
                });
            }
            let err = self.status_error(res, WHAT).await;
            match &err {
                ClientError::Status {
                    status: 429, code, ..
                } if tries < 2 && code.starts_with("pow_") => {}
                _ => return Err(err),
            }
        }
    }

    /// `PUT /api/v1/blobs/{id}/parts/{n}` (public, no token): part `n` (from
    /// 0) of an upload begun with [`Client::begin_blob`], `part_len` octets
    /// (the last part may be shorter). Putting the same part again with the
    /// same octets answers the same, so an unavailable server is waited out
    /// like a GET when this client waits. Returns whether the server now
    /// holds every part.
    pub async fn put_blob_part(&self, id: &str, n: u64, part: &[u8]) -> Result<bool, ClientError> {
        const WHAT: &str = "uploading part of an attachment";
        #[derive(Deserialize)]
        struct Put {
            complete: bool,
        }
        if !is_hex(id, 32) {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: "the attachment id is not 32 hex digits".into(),
            });
        }
        let url = format!("{}/api/v1/blobs/{id}/parts/{n}", self.base);
        self.retrying(|| async {
            let res = self
                .http
                .put(&url)
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(part.to_vec())
                .send()
                .await
                .map_err(|e| self.send_error(e, WHAT))?;
            if !res.status().is_success() {
                return Err(self.status_error(res, WHAT).await);
            }
            let p: Put = self.json(res, WHAT).await?;
            Ok(p.complete)
        })
        .await
    }

    /// Upload a whole sealed blob held in memory to `force`, as a reporter's
    /// page does (web/src/attachments/upload.js): [`Client::begin_blob`],
    /// then every part in order with [`Client::put_blob_part`]. Returns the
    /// blob id the server gave it. A blob too large to hold in memory is
    /// uploaded with those two calls, one part at a time.
    pub async fn upload_blob(&self, force: &str, blob: &[u8]) -> Result<String, ClientError> {
        let up = self.begin_blob(force, blob.len() as u64).await?;
        let mut complete = false;
        for (n, part) in blob.chunks(up.part_len).enumerate() {
            complete = self.put_blob_part(&up.id, n as u64, part).await?;
        }
        if !complete {
            return Err(ClientError::BadResponse {
                what: "uploading an attachment",
                reason: "the server does not hold every part after the last was sent".into(),
            });
        }
        Ok(up.id)
    }

    /// `GET /api/v1/forces` (public directory).
    pub async fn forces(&self) -> Result<Vec<DirectoryEntry>, ClientError> {
        const WHAT: &str = "the force directory";
        self.retrying(|| async {
            let res = self.get("/api/v1/forces", WHAT, false).await?;
            if !res.status().is_success() {
                return Err(self.status_error(res, WHAT).await);
            }
            self.json(res, WHAT).await
        })
        .await
    }

    /// GET a public key-log route and read a bounded body; `what` names it.
    async fn keylog_get(
        &self,
        path: &str,
        what: &'static str,
        limit: usize,
    ) -> Result<Vec<u8>, ClientError> {
        self.retrying(|| async {
            let res = self.get(path, what, false).await?;
            if !res.status().is_success() {
                return Err(self.status_error(res, what).await);
            }
            self.read_limited(res, limit, what).await
        })
        .await
    }

    /// `GET /api/v1/keylog/checkpoint`: the log's current signed checkpoint,
    /// as the server sent it (a C2SP signed note, at most
    /// `keylog::MAX_NOTE_LEN` octets). Not verified here: open it with the
    /// log key the caller trusts (`LogKey::open_checkpoint`).
    pub async fn keylog_checkpoint(&self) -> Result<String, ClientError> {
        const WHAT: &str = "the key log's checkpoint";
        let body = self
            .keylog_get("/api/v1/keylog/checkpoint", WHAT, keylog::MAX_NOTE_LEN)
            .await?;
        String::from_utf8(body).map_err(|_| ClientError::BadResponse {
            what: WHAT,
            reason: "not UTF-8 text".into(),
        })
    }

    /// `GET /api/v1/keylog/key`: the log's verifier key line, parsed (its key
    /// id checked against its name and key). Whether to trust it is the
    /// caller's question: compare it with one kept from before.
    pub async fn keylog_key(&self) -> Result<LogKey, ClientError> {
        const WHAT: &str = "the key log's verifier key";
        let body = self.keylog_get("/api/v1/keylog/key", WHAT, 1024).await?;
        let text = std::str::from_utf8(&body).map_err(|_| ClientError::BadResponse {
            what: WHAT,
            reason: "not UTF-8 text".into(),
        })?;
        LogKey::from_vkey(text.trim_end()).map_err(|e| ClientError::BadResponse {
            what: WHAT,
            reason: e.to_string(),
        })
    }

    /// `GET /api/v1/keylog/entries?start=&end=`: entries `start ≤ i < end`
    /// (each a key statement's signed octets). The server gives at most
    /// `keylog::MAX_ENTRIES_PER_REQUEST` per request, so this may return
    /// fewer than asked (never none when `start < end`): ask again from
    /// `start + returned`. More than asked, or none, is a bad answer.
    pub async fn keylog_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, ClientError> {
        const WHAT: &str = "key log entries";
        if end < start {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: format!("asked for entries {start} to {end}, an empty range backwards"),
            });
        }
        if start == end {
            return Ok(Vec::new());
        }
        #[derive(Deserialize)]
        struct Answer {
            entries: Vec<String>,
        }
        let path = format!("/api/v1/keylog/entries?start={start}&end={end}");
        let body = self.keylog_get(&path, WHAT, MAX_JSON_LEN * 2).await?;
        let answer: Answer =
            serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
                what: WHAT,
                reason: format!("not the expected JSON ({e})"),
            })?;
        let most = (end - start).min(keylog::MAX_ENTRIES_PER_REQUEST);
        if answer.entries.is_empty() || answer.entries.len() as u64 > most {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: format!(
                    "{} entries for a request of at most {most}",
                    answer.entries.len()
                ),
            });
        }
        answer
            .entries
            .iter()
            .map(|e| {
                URL_SAFE_NO_PAD
                    .decode(e.as_bytes())
                    .map_err(|_| ClientError::BadResponse {
                        what: WHAT,
                        reason: "an entry is not base64url".into(),
                    })
            })
            .collect()
    }

    /// `GET /api/v1/keylog/proof/inclusion?index=&size=`: the inclusion proof
    /// of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3),
    /// checked for shape (the echoed index and size, 32-octet hashes); verify
    /// it with `keylog::verify_inclusion`.
    pub async fn keylog_inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, ClientError> {
        const WHAT: &str = "a key log inclusion proof";
        #[derive(Deserialize)]
        struct Answer {
            index: u64,
            size: u64,
            hashes: Vec<String>,
        }
        let path = format!("/api/v1/keylog/proof/inclusion?index={index}&size={size}");
        let body = self.keylog_get(&path, WHAT, 64 * 1024).await?;
        let a: Answer = serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
            what: WHAT,
            reason: format!("not the expected JSON ({e})"),
        })?;
        if (a.index, a.size) != (index, size) {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: format!(
                    "it is for index {} in size {}, not {index} in {size}",
                    a.index, a.size
                ),
            });
        }
        proof_hashes(&a.hashes, WHAT)
    }

    /// `GET /api/v1/keylog/proof/consistency?from=&to=`: the consistency
    /// proof from the tree of `from` entries to the tree of `to` (RFC 9162
    /// §2.1.4; empty when `from` is 0 or equals `to`), checked for shape;
    /// verify it with `keylog::verify_consistency`.
    pub async fn keylog_consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, ClientError> {
        const WHAT: &str = "a key log consistency proof";
        #[derive(Deserialize)]
        struct Answer {
            from: u64,
            to: u64,
            hashes: Vec<String>,
        }
        let path = format!("/api/v1/keylog/proof/consistency?from={from}&to={to}");
        let body = self.keylog_get(&path, WHAT, 64 * 1024).await?;
        let a: Answer = serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
            what: WHAT,
            reason: format!("not the expected JSON ({e})"),
        })?;
        if (a.from, a.to) != (from, to) {
            return Err(ClientError::BadResponse {
                what: WHAT,
                reason: format!("it is from {} to {}, not from {from} to {to}", a.from, a.to),
            });
        }
        proof_hashes(&a.hashes, WHAT)
    }
}

/// A proof's hashes from base64url, each exactly 32 octets; at most 128
/// (twice the height of the largest tree anyone could hold).
fn proof_hashes(hashes: &[String], what: &'static str) -> Result<Vec<Hash>, ClientError> {
    if hashes.len() > 128 {
        return Err(ClientError::BadResponse {
            what,
            reason: format!("{} hashes, more than any proof has", hashes.len()),
        });
    }
    hashes
        .iter()
        .map(|h| {
            keylog::hash_from_base64url(h).ok_or_else(|| ClientError::BadResponse {
                what,
                reason: "a hash is not 32 octets in base64url".into(),
            })
        })
        .collect()
}

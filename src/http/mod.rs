//! The HTTP server: API v1, the reporter page, their middleware, and [`run`].
//!
//! It owns the routes, the order of the layers every request passes through
//! (security headers → access log → panic catcher → timeout → route), graceful
//! shutdown and the background retention purge. It does not store anything
//! itself ([`crate::storage`]) and never looks at the peer's address: no
//! `ConnectInfo` anywhere.
//!
//! Routes (see `api.rs` for each contract):
//!
//! | method | route | who |
//! |---|---|---|
//! | GET | `/api/v1/forces` | anyone |
//! | GET | `/api/v1/challenge` | anyone |
//! | POST | `/api/v1/reports` | anyone (with a proof of work) |
//! | GET | `/api/v1/slots/{address}` | anyone |
//! | POST | `/api/v1/slots/fetch` | anyone |
//! | GET | `/api/v1/inbox` | handler |
//! | GET | `/api/v1/inbox/{id}` | handler |
//! | PUT | `/api/v1/slots/{address}` | handler |
//! | GET | `/api/v1/assets` | anyone |
//! | GET | `/`, `/app.css`, `/app.js`, `/pow-worker.js`, `/licences.txt`, `/favicon.ico` | anyone (the page, `page.rs`) |

mod api;
mod auth;
mod body;
pub mod error;
pub mod headers;
pub mod keys;
pub mod logging;
pub mod page;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quietline_crypto::envelope::MAX_ENVELOPE_LEN;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::day::Clock;
use crate::pow::{Aimd, Cause, PowGuard, PowSettings};
use crate::storage::Storage;
use error::ApiError;

/// How often `serve` deletes reports and slots past retention. Rows carry their
/// own random fuzz, so the schedule reveals nothing about arrival times.
pub const DEFAULT_PURGE_INTERVAL: Duration = Duration::from_secs(6 * 60 * 60);

/// The HTTP server's settings (resolved by [`crate::config`]).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest envelope body accepted (`POST /reports`, `PUT /slots/…`).
    pub max_body: usize,
    /// Largest JSON body accepted (`POST /slots/fetch`).
    pub max_json_body: usize,
    /// Whole-request timeout (reading the body included).
    pub request_timeout: Duration,
    /// Onion address for the `Onion-Location` header, if any.
    pub onion_address: Option<String>,
    /// Whether to write the per-request access line.
    pub access_log: bool,
    /// Retention for the background purge.
    pub retention_days: u32,
    /// Interval of the background purge; `None` runs none (tests, or an
    /// operator running `quietline purge` from a timer instead).
    pub purge_interval: Option<Duration>,
    /// Proof of work on submissions (crypto/FORMAT.md#proof-of-work).
    pub pow: PowSettings,
    /// How often the proof-of-work controller samples the intake's pressure
    /// ([`crate::pow::CONTROL_INTERVAL`]; shorter in tests).
    pub pow_control_interval: Duration,
    /// The clock: the day of receipt, retention and challenge expiry read it
    /// (the system's; tests set one so nothing depends on when they run).
    pub clock: Clock,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            max_body: MAX_ENVELOPE_LEN,
            max_json_body: crate::config::DEFAULT_MAX_JSON_BODY,
            request_timeout: Duration::from_secs(crate::config::DEFAULT_REQUEST_TIMEOUT_SECS),
            onion_address: None,
            access_log: true,
            retention_days: crate::config::DEFAULT_RETENTION_DAYS,
            purge_interval: None,
            pow: PowSettings::default(),
            pow_control_interval: crate::pow::CONTROL_INTERVAL,
            clock: Clock::system(),
        }
    }
}

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    /// The storage.
    pub storage: Arc<dyn Storage>,
    /// The settings.
    pub settings: Arc<ServerSettings>,
    /// Proof-of-work state (challenge key, difficulty, spent challenges).
    pub pow: Arc<PowGuard>,
    /// Force keys seen accepted, so intake need not ask the database each time.
    pub known_keys: Arc<keys::KnownKeys>,
}

/// The whole application as an axum router (state applied), for [`run`] and for
/// tests that want to drive it without a socket.
pub fn router(storage: Arc<dyn Storage>, settings: ServerSettings) -> Router {
    let pow = Arc::new(PowGuard::new(settings.pow, settings.clock.clone()));
    router_with(storage, settings, pow)
}

/// [`router`] with a given proof-of-work state, which [`run`] keeps to move
/// the difficulty.
fn router_with(storage: Arc<dyn Storage>, settings: ServerSettings, pow: Arc<PowGuard>) -> Router {
    let settings = Arc::new(settings);
    let state = AppState {
        storage,
        settings: settings.clone(),
        pow,
        known_keys: Arc::default(),
    };
    // Hash the page's files now, not on the first request.
    crate::assets::all();
    page::routes(Router::new())
        .route("/api/v1/assets", get(api::assets))
        .route("/api/v1/forces", get(api::forces))
        .route("/api/v1/challenge", get(api::challenge))
        .route("/api/v1/reports", post(api::submit_report))
        // A static segment wins over `{address}`, so `fetch` is never read as a
        // (malformed) slot address.
        .route("/api/v1/slots/fetch", post(api::fetch_slots))
        .route(
            "/api/v1/slots/{address}",
            get(api::get_slot).put(api::put_slot),
        )
        .route("/api/v1/inbox", get(api::inbox))
        .route("/api/v1/inbox/{id}", get(api::inbox_report))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Innermost first: each `.layer` wraps everything above it, and
        // `Router::layer` also wraps the fallbacks, so 404, 405, 408 and 500
        // responses get the same treatment as the rest.
        .layer(middleware::from_fn_with_state(settings.clone(), timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            settings.clone(),
            logging::access_log,
        ))
        .layer(middleware::from_fn_with_state(
            settings,
            headers::security_headers,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// The answer to a panic in a handler. The payload is dropped unread: it could
/// quote request data.
fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal().into_response()
}

/// Whole-request timeout, reading the body included, so a slow client cannot
/// hold a connection and a body buffer for ever.
async fn timeout(
    State(settings): State<Arc<ServerSettings>>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(settings.request_timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::timeout(settings.request_timeout.as_secs()).into_response(),
    }
}

/// How long a client may take to send a request's headers — and how long an
/// idle keep-alive connection stays open — before the connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// Serve on `listener` until `shutdown` resolves, then stop accepting, let the
/// requests in flight finish, stop the purge task and close the storage
/// (draining its writer).
///
/// Bind first and pass the listener in, so a caller (a test, or `main` with
/// `--listen 127.0.0.1:0`) knows the address before serving starts.
///
/// The accept loop is our own rather than `axum::serve`, for three reasons:
/// a header-read timeout (axum's loop has no timer, so a client that never
/// finishes its headers — or an idle keep-alive connection — would hold a
/// connection for ever), no `Date` header (it would hand out the server's
/// clock, which fingerprints an onion service), and so the peer address that
/// `accept` returns is dropped on the spot, where anyone can see it is unused.
pub async fn run(
    listener: TcpListener,
    storage: Arc<dyn Storage>,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let purge = settings.purge_interval.map(|every| {
        tokio::spawn(purge_loop(
            storage.clone(),
            settings.clock.clone(),
            settings.retention_days,
            every,
            // A report whose day was read before midnight lands within the
            // request timeout; its day is settled only after that.
            crate::storage::CLOSE_GRACE_SECS.max(settings.request_timeout.as_secs() + 60),
        ))
    });
    let pow = Arc::new(PowGuard::new(settings.pow, settings.clock.clone()));
    // Spent challenges are forgotten even with proof of work off (a client
    // may still send a header, which is checked and spent); the difficulty
    // moves only when it is on.
    let mut pow_tasks = vec![tokio::spawn(forget_loop(storage.clone(), pow.clone()))];
    if settings.pow.enabled() {
        pow_tasks.push(tokio::spawn(control_loop(
            storage.clone(),
            pow.clone(),
            settings.pow_control_interval,
        )));
    }
    // In-flight requests are bounded by the request timeout; give them that
    // (plus a little) to finish at shutdown.
    let drain_limit = settings.request_timeout + Duration::from_secs(5);
    let app = router_with(storage.clone(), settings, pow);

    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .auto_date_header(false)
        .max_headers(64);
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                // `_`: the peer address is never looked at, stored or passed on.
                Ok((stream, _)) => {
                    let service = TowerToHyperService::new(app.clone());
                    let conn = connections.watch(http.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        // A connection error (reset, timeout, malformed request) concerns
                        // one client only; hyper has already answered what it could.
                        let _ = conn.await;
                    });
                }
                Err(e) => {
                    // Typically EMFILE: out of file descriptors. Back off rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    // Stop accepting (new connections are refused), then drain.
    drop(listener);
    if tokio::time::timeout(drain_limit, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish in time and were dropped");
    }
    if let Some(task) = purge {
        task.abort();
    }
    for task in pow_tasks {
        task.abort();
    }
    storage.close().await;
    Ok(())
}

async fn purge_loop(
    storage: Arc<dyn Storage>,
    clock: Clock,
    retention_days: u32,
    every: Duration,
    grace_secs: u64,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let today = crate::storage::purge_day(clock.now_secs(), grace_secs);
        match storage.purge(today, retention_days).await {
            Ok(p) => tracing::info!(
                reports = p.reports,
                slots = p.slots,
                days_settled = p.days_settled,
                "retention purge done"
            ),
            Err(e) => tracing::warn!(error = %e, "retention purge failed; will retry"),
        }
    }
}

/// Move the proof-of-work difficulty with the intake's pressure and rate
/// ([`crate::pow::Aimd`]); one log line per change, for the operator. The
/// line names the signal, never a count of reports.
async fn control_loop(storage: Arc<dyn Storage>, pow: Arc<PowGuard>, every: Duration) {
    let mut aimd = Aimd::new(pow.settings(), every);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let pressure = storage.pressure();
        if let Some(change) = pow.control(&mut aimd, pressure) {
            let direction = match (change.to > change.from, change.cause) {
                (true, Cause::Rate) => "raised: the intake rate is above the expected peak",
                (true, _) => "raised: the intake is under pressure",
                (false, Cause::Rate) => "lowered: the intake rate is falling",
                (false, _) => "lowered: the intake is quiet",
            };
            tracing::info!(
                from = change.from,
                to = change.to,
                queued = pressure.queued,
                slowest_commit_ms = pressure.slowest_commit.as_millis() as u64,
                "proof-of-work difficulty {direction}"
            );
        }
    }
}

/// Forget spent challenges once they have expired.
async fn forget_loop(storage: Arc<dyn Storage>, pow: Arc<PowGuard>) {
    let mut tick = tokio::time::interval(crate::pow::FORGET_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = pow.forget_expired(storage.as_ref()).await {
            tracing::warn!(error = %e, "forgetting expired proof-of-work challenges failed; will retry");
        }
    }
}

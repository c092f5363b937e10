//! The HTTP layer: API v1 and the reporter page's routes, their middleware,
//! and the mapping of errors to statuses.
//!
//! It owns the routes, the order of the layers every request passes through
//! (security headers → access log → panic catcher → timeout → route), and the
//! HTTP-level limits ([`HEADER_READ_TIMEOUT`]). It does not store anything
//! itself ([`crate::storage`]), decide whether a report is accepted
//! ([`crate::intake`]), or run the server's lifecycle and background loops
//! (`crate::server`, which is the only module above this one). It never looks
//! at the peer's address: no `ConnectInfo` anywhere.
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
//! | GET, POST | `/api/v1/copies/{box}` | anyone (POST with a proof of work) |
//! | GET | `/api/v1/inbox` | handler |
//! | GET | `/api/v1/inbox/{id}` | handler |
//! | POST | `/api/v1/inbox/fetch` | handler (many envelopes in one answer) |
//! | PUT | `/api/v1/slots/{address}` | handler |
//! | GET | `/api/v1/blobs/limits`, `/api/v1/blobs/challenge?size=` | anyone |
//! | POST | `/api/v1/blobs` | anyone (with a proof of work scaled to the size) |
//! | GET | `/api/v1/blobs/{id}` | anyone who holds the id (an upload's progress) |
//! | PUT | `/api/v1/blobs/{id}/parts/{n}` | anyone who holds the id |
//! | GET | `/api/v1/inbox/blobs/{id}` | handler (a sealed blob, streamed) |
//! | GET | `/api/v1/keylog/checkpoint`, `/key`, `/entries?start=&end=`, `/proof/inclusion?index=&size=`, `/proof/consistency?from=&to=` | anyone (the key log, `keylog.rs`) |
//! | GET | `/api/v1/assets` | anyone |
//! | GET | `/`, `/app.css`, `/app.js`, `/pow-worker.js`, `/licences.txt`, `/favicon.ico` | anyone (the page, `page.rs`) |

mod api;
mod auth;
mod blobs;
mod body;
pub mod error;
pub mod headers;
mod keylog;
pub mod logging;
pub mod page;
mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;

// The settings moved to `crate::config` (which imports nothing from here);
// re-exported so `http::ServerSettings` keeps working.
pub use crate::config::ServerSettings;
use crate::intake::Intake;
use crate::pow::PowGuard;
use crate::storage::Storage;
use error::ApiError;
pub use state::AppState;

/// The whole application as an axum router (state applied), for the server
/// (`crate::server::run`) and for tests that want to drive it without a socket.
pub fn router(storage: Arc<dyn Storage>, settings: ServerSettings) -> Router {
    let pow = Arc::new(PowGuard::new(settings.pow, settings.clock.clone()));
    router_with(storage, settings, pow)
}

/// [`router`] with a given proof-of-work state, which the server
/// (`crate::server::run`) keeps to move the difficulty.
pub(crate) fn router_with(
    storage: Arc<dyn Storage>,
    settings: ServerSettings,
    pow: Arc<PowGuard>,
) -> Router {
    let settings = Arc::new(settings);
    let intake = Arc::new(Intake::new(
        storage.clone(),
        pow.clone(),
        settings.clock.clone(),
    ));
    let keylog = Arc::new(crate::keylog::KeyLog::new(&settings.keylog_origin));
    let state = AppState {
        storage,
        settings: settings.clone(),
        pow,
        intake,
        keylog,
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
        .route(
            "/api/v1/copies/{copy_box}",
            get(api::get_copies).post(api::post_copy),
        )
        .route("/api/v1/inbox", get(api::inbox))
        // As for slots: the static `fetch` wins over `{id}` (a GET of it is 405).
        .route("/api/v1/inbox/fetch", post(api::inbox_fetch))
        .route("/api/v1/inbox/{id}", get(api::inbox_report))
        // Attachments' blobs (issue 19): `blobs.rs` lists its routes.
        .merge(blobs::routes())
        // The key log (issue 20): public, GET only.
        .merge(keylog::routes())
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

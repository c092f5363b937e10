//! Logging: the per-request access line, the log subscriber, and the panic hook.
//!
//! It owns what the server writes about requests: method, MATCHED route
//! template, status and latency — nothing else. Never the peer address (the
//! server never asks for it: no `ConnectInfo`), a header, the concrete path, the
//! query string or the body; never a time of day (the subscriber prints no
//! timestamps). It does not choose status codes.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

use crate::config::ServerSettings;

/// The target of the access lines, so they can be told from other messages.
pub const ACCESS_TARGET: &str = "quietline::access";

/// Route label for requests that matched no route (the JSON 404). The concrete
/// path is never logged: it can carry a slot address or a report id.
const NO_ROUTE: &str = "(no route)";

/// Middleware: one line per request, after the response is ready.
pub async fn access_log(
    State(settings): State<Arc<ServerSettings>>,
    req: Request,
    next: Next,
) -> Response {
    if !settings.access_log {
        return next.run(req).await;
    }
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| NO_ROUTE.to_owned());
    let started = Instant::now();
    let res = next.run(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: ACCESS_TARGET,
        method = %method,
        route = %route,
        status = res.status().as_u16(),
        latency_ms = format_args!("{latency_ms:.1}"),
    );
    res
}

/// The method as a fixed label: an extension method is whatever the client
/// typed, so it is logged as `OTHER` rather than echoed.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Install the process's log subscriber: to stderr, no timestamps, no colours;
/// `quietline` at info, everything else (hyper, sqlx, …) at warn only, so no
/// dependency's debug output — which may include headers — can reach the log.
/// Safe to call more than once (later calls do nothing).
pub fn init_logging() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("quietline", LevelFilter::INFO);
    let fmt = tracing_subscriber::fmt::layer()
        .without_time()
        .with_ansi(false)
        .with_writer(std::io::stderr);
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(filter)
        .try_init();
}

/// The fixed line a panic prints.
pub const PANIC_MESSAGE: &str = "quietline: internal error (a panic); details are withheld because they could contain request data";

/// Replace the default panic hook, which prints the panic's message (and so
/// possibly request data) and its location, with one that prints a fixed line.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|_info| {
        eprintln!("{PANIC_MESSAGE}");
    }));
}

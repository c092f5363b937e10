//! `quietline-desk`: the force desk's web layer. An axum application, run
//! inside the force, over the casework library's [`Desk`]: it owns the routes,
//! the askama templates (GOV.UK and MOJ design systems), the embedded
//! front-end assets ([`assets`]), cookies, CSRF form tokens, the CSP and the
//! other security headers ([`security`]).
//!
//! It does NOT own any rule about keys, accounts, sessions' validity, cases
//! or the audit log: every such decision is a `Desk` method in
//! `quietline-casework`, which this crate calls and renders. It never holds a
//! key or a passphrase.
//!
//! Layout: [`security`] (the guard every request passes: session, CSRF,
//! headers; the [`CurrentHandler`] extractor), [`pages`] (the base layout,
//! error and message pages), `access` (signing in and out, the account and
//! custody pages), `work` (the case-working pages: queue, case, search,
//! audit — merged into the router by [`router`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod assets;
pub mod pages;
pub mod security;

mod access;
mod work;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use quietline_casework::desk::Desk;

pub use security::CurrentHandler;

/// The web layer's settings.
#[derive(Debug, Clone)]
pub struct DeskWebSettings {
    /// The force's name as shown in the header (e.g. "Demo Constabulary").
    pub force_name: String,
    /// The largest form body accepted, bytes.
    pub max_form_bytes: usize,
}

impl DeskWebSettings {
    /// Settings for a force named `force_name`, with the defaults.
    pub fn new(force_name: impl Into<String>) -> DeskWebSettings {
        DeskWebSettings {
            force_name: force_name.into(),
            max_form_bytes: 256 * 1024,
        }
    }
}

/// What every route handler gets: the desk and the settings (cheap clone).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The casework library's desk.
    pub desk: Desk,
    /// The web layer's settings.
    pub settings: Arc<DeskWebSettings>,
}

/// The desk's whole application: assets, the sign-in and account pages, the
/// work pages, behind the security guard (session, CSRF, headers).
pub fn router(desk: Desk, settings: DeskWebSettings) -> Router {
    let state = AppState {
        desk,
        settings: Arc::new(settings),
    };
    Router::new()
        .merge(access::routes())
        .merge(work::routes())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        // Assets skip the guard (public, no session) but not the headers.
        .merge(assets::routes())
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}

/// Serve the desk on `listener` (already bound: bind first, then serve)
/// until `shutdown` completes; then the desk is locked, so its keys leave
/// memory even if the process lives on.
pub async fn run(
    listener: tokio::net::TcpListener,
    desk: Desk,
    settings: DeskWebSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(desk.clone(), settings);
    // Sessions past their idle or absolute timeout are refused when used;
    // this clears the ones nobody comes back to.
    let purger = {
        let desk = desk.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
            loop {
                every.tick().await;
                if let Err(e) = desk.purge_sessions().await {
                    tracing::warn!("cannot purge ended sessions: {e}");
                }
            }
        })
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    purger.abort();
    desk.lock();
    served
}

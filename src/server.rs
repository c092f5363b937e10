//! The server's lifecycle: [`run`], and the background loops it keeps while it
//! serves.
//!
//! It owns the accept loop (our own, not `axum::serve`: see [`run`]), graceful
//! shutdown, closing the storage, and three loops:
//!
//! - the retention purge (`purge_loop`): every
//!   [`ServerSettings::purge_interval`], delete reports and reply slots past
//!   retention and settle the closed days (their reports rewritten in a random
//!   order, `Storage::purge`);
//! - the proof-of-work controller (`control_loop`): move the difficulty with
//!   the intake's pressure and rate ([`crate::pow::Aimd`]);
//! - forgetting spent challenges once they have expired (`forget_loop`).
//!
//! It is the top of the server's layers: it imports the HTTP layer
//! ([`crate::http`]) and nothing imports it but the crate root, which
//! re-exports [`run`] (`ARCHITECTURE.md`). What a request may do is the HTTP
//! layer's and the intake's business, not this module's.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::ServerSettings;
use crate::day::Clock;
use crate::http::{HEADER_READ_TIMEOUT, router_with};
use crate::pow::{Aimd, Cause, PowGuard};
use crate::storage::Storage;

/// The target of every line this module logs: the one these lines had when
/// `run` and the loops lived in `http/`, so that the log stays byte-identical
/// and an operator's filters and alerts on it still match.
const LOG_TARGET: &str = "quietline::http";

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
            settings.attachments.unreferenced_days,
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
                    tracing::warn!(target: LOG_TARGET, error = %e, "accepting a connection failed");
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
        tracing::warn!(target: LOG_TARGET, "some connections did not finish in time and were dropped");
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

/// Every `every`: delete reports and slots past retention and settle every
/// day that closed more than `grace_secs` ago; one log line with the counts
/// (of rows deleted and days settled, never of reports received).
async fn purge_loop(
    storage: Arc<dyn Storage>,
    clock: Clock,
    retention_days: u32,
    every: Duration,
    grace_secs: u64,
    unreferenced_days: u32,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let today = crate::storage::purge_day(clock.now_secs(), grace_secs);
        match storage.purge(today, retention_days).await {
            Ok(p) => tracing::info!(
                target: LOG_TARGET,
                reports = p.reports,
                slots = p.slots,
                copies = p.copies,
                days_settled = p.days_settled,
                "retention purge done"
            ),
            Err(e) => {
                tracing::warn!(target: LOG_TARGET, error = %e, "retention purge failed; will retry")
            }
        }
        // Attachments (crypto/FORMAT.md#blobs-on-the-server): uploads never
        // completed, blobs no handler fetched in time, and fetched ones past
        // retention.
        match storage
            .purge_blobs(today, retention_days, unreferenced_days)
            .await
        {
            Ok(p) => tracing::info!(
                target: LOG_TARGET,
                expired_uploads = p.expired_uploads,
                unreferenced = p.unreferenced,
                past_retention = p.past_retention,
                "attachment purge done"
            ),
            Err(e) => {
                tracing::warn!(target: LOG_TARGET, error = %e, "attachment purge failed; will retry")
            }
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
                target: LOG_TARGET,
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
            tracing::warn!(target: LOG_TARGET, error = %e, "forgetting expired proof-of-work challenges failed; will retry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tokio::sync::mpsc;

    /// A log writer that hands each line to the test.
    #[derive(Clone)]
    struct Lines(mpsc::UnboundedSender<String>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.send(String::from_utf8_lossy(buf).into_owned());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The background loops' lines are the operator's interface: they keep
    /// the target they had before `run` left `http/` (`quietline::http`).
    #[tokio::test]
    async fn the_purge_line_keeps_its_target_and_text() {
        use tracing_subscriber::layer::SubscriberExt;
        let (tx, mut rx) = mpsc::unbounded_channel();
        // Formatted as `http::logging::init_logging` formats the process's log.
        let layer = tracing_subscriber::fmt::layer()
            .without_time()
            .with_ansi(false)
            .with_writer(move || Lines(tx.clone()));
        // A current-thread runtime: the spawned loops run on this thread, so
        // they log to this thread's default subscriber.
        let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("server.sqlite").display());
        let storage = crate::storage::open(&url).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = ServerSettings {
            // The first tick of an interval is at once.
            purge_interval: Some(Duration::from_secs(3600)),
            pow: crate::pow::PowSettings::off(),
            clock: Clock::set_at(20_793 * 86_400),
            ..ServerSettings::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(run(listener, storage, settings, async {
            let _ = stopped.await;
        }));
        let line = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let line = rx.recv().await.expect("the log stays open");
                if line.contains("retention purge") {
                    return line;
                }
            }
        })
        .await
        .expect("the purge runs at start");
        assert!(
            line.ends_with(
                " quietline::http: retention purge done reports=0 slots=0 copies=0 days_settled=0\n"
            ),
            "{line:?}"
        );
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}

//! The servers the load client measures, on their own 2-thread runtime (as
//! `quietline serve` would run on 2 cores), the load client on another:
//! Quietline itself (the test kit's in-process server with the bench's
//! settings) and the HTTP ceiling (a bare endpoint). Dropped = stopped.

use std::path::Path;
use std::time::Duration;

use crate::BENCH_DIFFICULTY;
use anyhow::Result;
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use quietline::pow::PowSettings;
use quietline::storage;
use quietline_crypto::keys::PublicKey;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

pub(crate) use quietline_testkit::blocking::off;
use quietline_testkit::blocking::{Server, runtime};
use quietline_testkit::server::TestDb;

/// Quietline itself, with the demo force, on `database_url`: the server
/// and the demo force's public key.
pub(crate) fn quietline(database_url: &str, data_dir: &Path) -> Result<(Server, PublicKey)> {
    let rt = runtime("server");
    let storage = off(|| {
        rt.block_on(async {
            let storage = storage::open(database_url).await?;
            quietline::demo::ensure_demo(storage.as_ref(), data_dir).await?;
            anyhow::Ok(storage)
        })
    })?;
    let public = std::fs::read_to_string(data_dir.join("demo/public-key"))?;
    let public = PublicKey::from_base64url(public.trim())?;
    // Proof of work on, at a difficulty the clients solve in ~2 tries:
    // verifying costs the server the same at any difficulty. Otherwise the
    // production defaults (access log on, into the bench's sink).
    let settings = quietline::ServerSettings {
        pow: PowSettings::fixed(BENCH_DIFFICULTY),
        ..quietline::ServerSettings::default()
    };
    let server = Server::on(rt, TestDb::at(database_url.to_owned()), storage, settings);
    Ok((server, public))
}

/// The HTTP ceiling: a bare axum route that reads the same body and
/// answers 201 with an id, storing nothing; same runtime, same hyper
/// HTTP/1 connection handling as `quietline::run`. Dropped = stopped.
pub(crate) struct Bare {
    pub(crate) addr: std::net::SocketAddr,
    rt: Option<Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Bare {
    pub(crate) fn start() -> Result<Bare> {
        use axum::routing::post;
        let rt = runtime("server");
        let listener = off(|| rt.block_on(TcpListener::bind("127.0.0.1:0")))?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        rt.spawn(async move {
            let app = axum::Router::new().route(
                "/api/v1/reports",
                post(|body: Bytes| async move {
                    let mut id = [0u8; 16];
                    let _ = getrandom::fill(&mut id);
                    std::hint::black_box(body.len());
                    (
                        axum::http::StatusCode::CREATED,
                        format!("{{\"id\":\"{}\"}}", hex::encode(id)),
                    )
                }),
            );
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let svc = hyper_util::service::TowerToHyperService::new(app.clone());
                        tokio::spawn(async move {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), svc)
                                .await;
                        });
                    }
                }
            }
        });
        Ok(Bare {
            addr,
            rt: Some(rt),
            stop: Some(stop),
        })
    }
}

impl Drop for Bare {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(rt) = self.rt.take() {
            // Off this thread: it may be inside the client's runtime.
            off(move || rt.shutdown_timeout(Duration::from_secs(5)));
        }
    }
}

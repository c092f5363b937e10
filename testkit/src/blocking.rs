//! The in-process server for code that has no runtime of its own: the
//! console's tests (which drive the real console binary and check the server
//! behind its back) and the bench. The same [`TestServer`] as the async tests
//! use, on its own 2-thread runtime; dropped = stopped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quietline::ServerSettings;
use quietline::storage::Storage;
use quietline_crypto::keys::PublicKey;
use tokio::runtime::Runtime;

use crate::server::{TestDb, TestServer};

/// A multi-threaded runtime of 2 workers (the machine's cores), its threads
/// named `name`.
pub fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// Run blocking runtime work on a plain thread: `Runtime::block_on` panics
/// inside another runtime, and a server may be started or dropped from
/// within the caller's.
pub fn off<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("helper thread panicked"))
}

/// A real intake server on its own runtime.
pub struct Server {
    /// The server's runtime; `None` once dropped.
    rt: Option<Runtime>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The server's storage (for set-up and checks behind the API's back).
    pub storage: Arc<dyn Storage>,
    inner: Option<TestServer>,
}

impl Server {
    /// A server on a fresh SQLite database in a temporary directory.
    pub fn sqlite(settings: ServerSettings) -> Server {
        let rt = runtime("server");
        let db = TestDb::at_sqlite();
        let storage =
            off(|| rt.block_on(quietline::storage::open(&db.url))).expect("open server storage");
        Server::on(rt, db, storage, settings)
    }

    /// A server on an already opened storage, on `rt`.
    pub fn on(
        rt: Runtime,
        db: TestDb,
        storage: Arc<dyn Storage>,
        settings: ServerSettings,
    ) -> Server {
        let inner = off(|| rt.block_on(TestServer::start_on(db, storage, settings)));
        Server {
            base: inner.base.clone(),
            addr: inner.addr,
            storage: inner.storage.clone(),
            rt: Some(rt),
            inner: Some(inner),
        }
    }

    /// Run `f` on the server's runtime (from any thread, even one inside
    /// another runtime) and wait for it.
    pub fn block_on<T: Send>(&self, f: impl std::future::Future<Output = T> + Send) -> T {
        let rt = self.rt.as_ref().expect("running");
        off(|| rt.block_on(f))
    }

    /// Create a force (no key).
    pub fn add_force(&self, id: &str, name: &str) {
        self.block_on(quietline::admin::add_force(self.storage.as_ref(), id, name))
            .expect("add force");
    }

    /// Register `pk` as the force's current key.
    pub fn add_key(&self, force: &str, pk: &PublicKey) {
        self.block_on(quietline::admin::add_force_key(
            self.storage.as_ref(),
            force,
            pk,
        ))
        .expect("add key");
    }

    /// Register the force's signing keys (base64url), `threshold` of which
    /// must sign (crypto/FORMAT.md#signing-keys).
    pub fn set_signers(&self, force: &str, keys: &[String], threshold: u8) {
        self.block_on(quietline::admin::set_force_signers(
            self.storage.as_ref(),
            force,
            keys,
            threshold,
        ))
        .expect("set signers");
    }

    /// Register a key from its signed statement (base64url), as
    /// `quietline force key add --statement` does.
    pub fn add_statement(&self, force: &str, statement: &str) -> Result<(), String> {
        let today = u32::try_from(quietline::day::today()).unwrap_or(0);
        self.block_on(quietline::admin::add_signed_force_key(
            self.storage.as_ref(),
            force,
            statement,
            today,
        ))
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    /// Retire one of the force's keys.
    pub fn retire_key(&self, force: &str, pk: &PublicKey) {
        self.block_on(self.storage.retire_force_key(force, pk.key_id().0))
            .expect("retire key");
    }

    /// Issue a handler token.
    pub fn token(&self, force: &str, label: &str) -> String {
        self.block_on(quietline::admin::issue_token(
            self.storage.as_ref(),
            force,
            label,
        ))
        .expect("issue token")
        .to_string()
    }

    /// Revoke a handler token.
    pub fn revoke(&self, force: &str, label: &str) {
        self.block_on(self.storage.revoke_token(force, label))
            .expect("revoke token");
    }

    /// The `Quietline-Pow` header for submitting exactly `envelope`: a fresh
    /// challenge from `GET /api/v1/challenge`, solved over it.
    pub fn pow(&self, envelope: &[u8]) -> String {
        let inner = self.inner();
        self.block_on(inner.pow(envelope))
    }

    /// POST a report through the public API (with a proof of work solved
    /// over it); panics unless 201; returns the id.
    pub fn submit(&self, envelope: Vec<u8>) -> String {
        let inner = self.inner();
        self.block_on(inner.submit(envelope))
    }

    /// Store an envelope in a force's inbox behind the API's back (what a
    /// hostile or broken server could do), listed under `listed_key` (one of
    /// the force's registered keys: the storage insists).
    pub fn insert_raw(&self, force: &str, listed_key: &PublicKey, envelope: Vec<u8>) -> String {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).expect("OS random number generator");
        let report = quietline::storage::NewReport {
            id,
            force_id: force.into(),
            key_id: listed_key.key_id().0,
            envelope,
            day: quietline::day::today(),
            pow: None,
        };
        self.block_on(self.storage.insert_report(report))
            .expect("insert report");
        hex::encode(id)
    }

    /// GET a slot (public): the envelope, or None on 404.
    pub fn get_slot(&self, address: &[u8; 32]) -> Option<Vec<u8>> {
        let inner = self.inner();
        let url = inner.url(&format!("/api/v1/slots/{}", hex::encode(address)));
        self.block_on(async move {
            let res = inner.http.get(url).send().await.expect("GET slot");
            match res.status().as_u16() {
                200 => Some(res.bytes().await.expect("slot body").to_vec()),
                404 => None,
                s => panic!("GET slot: {s}"),
            }
        })
    }

    /// PUT a slot with a handler token; returns the status.
    pub fn put_slot(&self, token: &str, address: &[u8; 32], envelope: Vec<u8>) -> u16 {
        let inner = self.inner();
        let url = inner.url(&format!("/api/v1/slots/{}", hex::encode(address)));
        self.block_on(async move {
            inner
                .http
                .put(url)
                .header("content-type", "application/octet-stream")
                .bearer_auth(token)
                .body(envelope)
                .send()
                .await
                .expect("PUT slot")
                .status()
                .as_u16()
        })
    }

    /// A second server instance on this one's database (as in a scale-out,
    /// or this server restarted after its database was changed): it reads
    /// everything afresh, with no cache of its own yet.
    pub fn another_instance(&self, settings: ServerSettings) -> Server {
        let url = self.db_url();
        let rt = runtime("server-2");
        let storage =
            off(|| rt.block_on(quietline::storage::open(&url))).expect("open server storage");
        Server::on(rt, TestDb::at(url), storage, settings)
    }

    /// The server's database URL (for tests that change rows behind the
    /// server's back, as an attacker with database access would).
    pub fn db_url(&self) -> String {
        self.inner().db.url.clone()
    }

    fn inner(&self) -> &TestServer {
        self.inner.as_ref().expect("running")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let (Some(inner), Some(rt)) = (self.inner.take(), self.rt.take()) else {
            return;
        };
        // Bounded, and quietly: a test that already failed must not panic
        // again here. Off this thread, runtime and all: it may be inside
        // the caller's runtime, where a runtime can be neither blocked on
        // nor dropped.
        off(move || {
            rt.block_on(inner.stop_within(Duration::from_secs(20)));
            rt.shutdown_timeout(Duration::from_secs(5));
        });
    }
}

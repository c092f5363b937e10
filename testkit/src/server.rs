//! A real Quietline server in-process, for the integration tests of every
//! crate: [`TestServer`] runs `quietline::run` on a listener bound to
//! 127.0.0.1:0 (bound first, then served: no sleeps, no port races), on SQLite
//! in a temporary directory or on a fresh PostgreSQL database, with helpers to
//! create forces, keys and tokens directly in its storage. The blocking form
//! for tests without a runtime of their own is [`crate::blocking::Server`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quietline::ServerSettings;
use quietline::storage::{self, Storage};
use quietline_crypto::keys::{PrivateKey, PublicKey, generate_keypair};
use quietline_crypto::seal::{seal_reply, seal_report};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::pg::{self, PgTestDb};
use crate::pow::pow_header;

/// Every bounded wait in these tests.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Which database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file in a temporary directory.
    Sqlite,
    /// A fresh PostgreSQL database (skipped outside CI if unreachable).
    Postgres,
}

/// The operating system's RNG, as the crypto crate's `CryptoRng`.
pub fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// An HTTP client that talks to loopback only (no proxy from the environment).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
        .expect("build HTTP client")
}

/// A force created for a test, with its key pair.
pub struct TestForce {
    /// Force id.
    pub id: String,
    /// Private key (tests only; the server never has one).
    pub private_key: PrivateKey,
    /// Public key.
    pub public_key: PublicKey,
}

impl TestForce {
    /// Key id as hex.
    pub fn key_id_hex(&self) -> String {
        self.public_key.key_id().to_hex()
    }

    /// A valid kind-1 envelope to this force's current key.
    pub fn report(&self, payload: &[u8]) -> Vec<u8> {
        seal_report(&mut rng(), &self.id, &self.public_key, payload).expect("seal report")
    }
}

/// A valid kind-2 envelope for `slot`, sealed to a fresh reply key.
pub fn reply_for(slot: [u8; 32], payload: &[u8]) -> Vec<u8> {
    let (_sk, pk) = generate_keypair(&mut rng());
    seal_reply(&mut rng(), slot, &pk, payload).expect("seal reply")
}

/// A random 32-byte slot address.
pub fn random_slot() -> [u8; 32] {
    let mut a = [0u8; 32];
    getrandom::fill(&mut a).unwrap();
    a
}

/// A database for a test: its URL plus what keeps it alive.
pub struct TestDb {
    /// The database URL.
    pub url: String,
    /// Temporary directory (also the data dir for binaries).
    pub dir: tempfile::TempDir,
    pg: Option<PgTestDb>,
}

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL is skipped (outside CI).
    pub async fn new(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            Backend::Sqlite => Some(TestDb {
                url: pg::sqlite_url(dir.path()),
                dir,
                pg: None,
            }),
            Backend::Postgres => {
                let db = pg::fresh_database().await?;
                Some(TestDb {
                    url: db.url().to_owned(),
                    dir,
                    pg: Some(db),
                })
            }
        }
    }

    /// A fresh SQLite database in a temporary directory (never skipped).
    pub fn at_sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        TestDb {
            url: pg::sqlite_url(dir.path()),
            dir,
            pg: None,
        }
    }

    /// A handle on a database that something else keeps alive (a throwaway
    /// PostgreSQL cluster, a file on a filesystem the test mounted): dropping
    /// it drops nothing but its own temporary directory.
    pub fn at(url: String) -> TestDb {
        TestDb {
            url,
            dir: tempfile::tempdir().expect("tempdir"),
            pg: None,
        }
    }

    /// A second handle on the same database, for a second server instance
    /// (its own temporary directory; dropping it drops nothing).
    pub fn shared(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            dir: tempfile::tempdir().expect("tempdir"),
            pg: None,
        }
    }

    /// Drop the PostgreSQL database now (close storages first).
    pub async fn cleanup(self) {
        if let Some(pg) = self.pg {
            pg.cleanup().await;
        }
    }
}

/// An in-process server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The server's storage (for set-up and checks behind the API's back).
    pub storage: Arc<dyn Storage>,
    /// A client for it.
    pub http: reqwest::Client,
    /// The database.
    pub db: TestDb,
    /// The server's clock (stopped; move it with `clock.set`).
    pub clock: quietline::day::Clock,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Proof-of-work difficulty of test servers: on (every submission goes
/// through the real checks and spends a challenge), but only 2^8 tries.
pub const TEST_POW_DIFFICULTY: u8 = 8;

/// Settings for tests: the defaults, no background purge, no access log noise,
/// proof of work at [`TEST_POW_DIFFICULTY`], and a clock stopped at the
/// moment the test began, so that no day turns over and no challenge expires
/// while it runs, whenever it runs (a test moves it with `clock.set`).
pub fn test_settings() -> ServerSettings {
    ServerSettings {
        access_log: false,
        purge_interval: None,
        pow: quietline::pow::PowSettings::fixed(TEST_POW_DIFFICULTY),
        clock: quietline::day::Clock::set_at(quietline::pow::now_secs()),
        ..ServerSettings::default()
    }
}

impl TestServer {
    /// Start a server with test settings, or `None` if PostgreSQL is skipped.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, test_settings()).await
    }

    /// Start a server with these settings.
    pub async fn start_with(backend: Backend, settings: ServerSettings) -> Option<Self> {
        let db = TestDb::new(backend).await?;
        let storage = storage::open(&db.url).await.expect("open storage");
        Some(Self::start_on(db, storage, settings).await)
    }

    /// Start a server on an already opened storage (e.g. a wrapper that fails).
    pub async fn start_on(db: TestDb, storage: Arc<dyn Storage>, settings: ServerSettings) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let clock = settings.clock.clone();
        let task = tokio::spawn(quietline::run(listener, storage.clone(), settings, async {
            let _ = rx.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            addr,
            storage,
            http: client(),
            db,
            clock,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Create a force with a fresh current key.
    pub async fn add_force(&self, id: &str, name: &str) -> TestForce {
        quietline::admin::add_force(self.storage.as_ref(), id, name)
            .await
            .expect("add force");
        let (private_key, public_key) = generate_keypair(&mut rng());
        quietline::admin::add_force_key(self.storage.as_ref(), id, &public_key)
            .await
            .expect("add key");
        TestForce {
            id: id.to_owned(),
            private_key,
            public_key,
        }
    }

    /// Add a new current key to a force (the old one becomes active).
    pub async fn rotate_key(&self, force: &mut TestForce) -> PublicKey {
        let (private_key, public_key) = generate_keypair(&mut rng());
        quietline::admin::add_force_key(self.storage.as_ref(), &force.id, &public_key)
            .await
            .expect("add key");
        let old = std::mem::replace(&mut force.public_key, public_key);
        force.private_key = private_key;
        old
    }

    /// Issue a handler token.
    pub async fn token(&self, force_id: &str, label: &str) -> String {
        quietline::admin::issue_token(self.storage.as_ref(), force_id, label)
            .await
            .expect("issue token")
            .to_string()
    }

    /// The `Quietline-Pow` header for submitting `envelope` here.
    pub async fn pow(&self, envelope: &[u8]) -> String {
        pow_header(&self.http, &self.base, envelope).await
    }

    /// Submit a report (with a solved proof of work); panics unless 201;
    /// returns its id.
    pub async fn submit(&self, envelope: Vec<u8>) -> String {
        let pow = self.pow(&envelope).await;
        let res = self
            .http
            .post(self.url("/api/v1/reports"))
            .header("content-type", "application/octet-stream")
            .header("quietline-pow", pow)
            .body(envelope)
            .send()
            .await
            .expect("POST report");
        let status = res.status().as_u16();
        let body: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Ask the server to stop and wait for it (in-flight requests finish, the
    /// storage is closed); returns the database for checks or cleanup.
    pub async fn shutdown(mut self) -> TestDb {
        self.begin_shutdown();
        self.wait().await;
        self.db
    }

    /// Send the shutdown signal without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Wait for the server task to end.
    pub async fn wait(&mut self) {
        if let Some(task) = self.task.take() {
            tokio::time::timeout(TIMEOUT, task)
                .await
                .expect("server stops within the timeout")
                .expect("server task")
                .expect("server ran without error");
        }
    }

    /// Stop the server, waiting at most `limit`, without panicking whatever
    /// happens (for `Drop`); the database is dropped with it.
    pub async fn stop_within(mut self, limit: Duration) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(limit, task).await;
        }
    }

    /// Stop the server and drop its database.
    pub async fn stop(self) {
        self.shutdown().await.cleanup().await;
    }
}

/// How many inbox entries [`inbox_ids`] asks for a page: small, so that every
/// test with more reports than this also walks the paging.
pub const INBOX_PAGE: usize = 50;

/// Every id in the force's inbox through the API (`GET /api/v1/inbox`, page
/// by page), in the inbox's order; panics if the server lists one twice or
/// answers anything but 200.
pub async fn inbox_ids(http: &reqwest::Client, base: &str, token: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut after = String::new();
    loop {
        let res = http
            .get(format!(
                "{base}/api/v1/inbox?limit={INBOX_PAGE}&after={after}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /api/v1/inbox");
        assert_eq!(res.status(), 200, "GET /api/v1/inbox");
        let page: serde_json::Value =
            serde_json::from_slice(&res.bytes().await.expect("inbox body")).expect("inbox JSON");
        for r in page["reports"].as_array().expect("reports array") {
            let id = r["id"].as_str().expect("report id").to_owned();
            assert!(seen.insert(id.clone()), "{id} listed twice");
            ids.push(id);
        }
        match page["next"].as_str() {
            Some(n) => after = n.to_owned(),
            None => return ids,
        }
    }
}

/// Run each listed contract test against SQLite and against PostgreSQL: for
/// `f`, the tests `f::sqlite` and `f::postgres` call `f(Backend::Sqlite)` and
/// `f(Backend::Postgres)` (CI counts the tests whose name contains
/// `postgres`). `Backend` must be in scope where it is used.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await
            }
        }
    )*};
}

//! A real Quietline server for integration tests, in two forms:
//!
//! - [`TestServer`]: in-process, `quietline::run` on a listener bound to
//!   127.0.0.1:0 (bound first, then served: no sleeps, no port races), on SQLite
//!   in a temporary directory or on a fresh PostgreSQL database, with helpers to
//!   create forces, keys and tokens directly in its storage.
//! - [`Process`]: the real `quietline` binary (`serve --listen 127.0.0.1:0`),
//!   whose stdout line `listening on http://ADDR` gives the address; its stdout
//!   and stderr are captured whole, for tests that search them.
//!
//! Plus [`raw_http`], a minimal HTTP/1.1 exchange over a plain TCP stream for
//! what a client library hides: sending headers without a body, a chunked body
//! that grows, a body that stalls.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use quietline::ServerSettings;
use quietline::storage::{self, Storage};
use quietline_crypto::keys::{PrivateKey, PublicKey, generate_keypair};
use quietline_crypto::seal::{seal_reply, seal_report};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::pg::{self, PgTestDb};

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

/// The challenge text of a fresh `GET /api/v1/challenge` at `base`; `None`
/// when the server does not answer with one (e.g. it is stopping).
pub async fn try_challenge_text(http: &reqwest::Client, base: &str) -> Option<String> {
    let res = http
        .get(format!("{base}/api/v1/challenge"))
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.ok()?).ok()?;
    Some(v["challenge"].as_str()?.to_owned())
}

/// A fresh challenge from the server at `base` (`GET /api/v1/challenge`):
/// the challenge's 58 octets and its difficulty (the challenge's own octet 1).
pub async fn fetch_challenge(http: &reqwest::Client, base: &str) -> ([u8; 58], u8) {
    use base64::Engine;
    let text = try_challenge_text(http, base)
        .await
        .expect("GET /api/v1/challenge answers 200 with a challenge");
    let bytes: [u8; 58] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url challenge")
        .try_into()
        .expect("58-octet challenge");
    (bytes, bytes[1])
}

/// Solve `challenge` over `envelope`: the `Quietline-Pow` header value.
pub fn solve(challenge: [u8; 58], difficulty: u8, envelope: &[u8]) -> String {
    use quietline_crypto::pow;
    let nonce = pow::solve(
        &challenge,
        &pow::envelope_hash(envelope),
        difficulty,
        0,
        u64::MAX,
    )
    .expect("a nonce exists");
    pow::Solution { challenge, nonce }.to_header()
}

/// Fetch a challenge from `base` and solve it over `envelope`: the value of
/// the `Quietline-Pow` header for submitting exactly these bytes.
pub async fn pow_header(http: &reqwest::Client, base: &str, envelope: &[u8]) -> String {
    try_pow_header(http, base, envelope)
        .await
        .expect("GET /api/v1/challenge answers 200 with a challenge")
}

/// [`pow_header`] for tests whose server may go away mid-test (killed,
/// stopped): `None` instead of a panic.
pub async fn try_pow_header(http: &reqwest::Client, base: &str, envelope: &[u8]) -> Option<String> {
    let text = try_challenge_text(http, base).await?;
    quietline_crypto::pow::solve_header(&text, envelope).ok()
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

    /// Stop the server and drop its database.
    pub async fn stop(self) {
        self.shutdown().await.cleanup().await;
    }
}

// ------------------------------------------------------------------ raw HTTP

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercased (last value wins).
    pub headers: HashMap<String, String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Read one response from `stream` (Content-Length bodies only, which is all
/// the server sends for these tests).
pub async fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(TIMEOUT, stream.read(&mut chunk))
            .await
            .expect("response within timeout")
            .expect("read response");
        assert!(
            n > 0,
            "connection closed before a full response head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: HashMap<String, String> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = tokio::time::timeout(TIMEOUT, stream.read(&mut chunk))
            .await
            .expect("body within timeout")
            .expect("read body");
        assert!(n > 0, "connection closed mid-body");
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    RawResponse {
        status,
        headers,
        body,
    }
}

/// Send `head` (request line and headers, without the blank line) and `body`,
/// then read the response.
pub async fn raw_http(addr: SocketAddr, head: &str, body: &[u8]) -> RawResponse {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("{head}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    s.write_all(body).await.unwrap();
    read_response(&mut s).await
}

// ------------------------------------------------------------------ the binary

/// The `quietline` binary built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_quietline"))
}

/// A `quietline` command with no `QUIETLINE_*` variable inherited from the
/// environment, so only the test's own flags apply.
pub fn command() -> Command {
    let mut cmd = Command::new(binary());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("QUIETLINE_") {
            cmd.env_remove(k);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// The result of an admin command.
#[derive(Debug)]
pub struct Admin {
    /// Exit success.
    pub ok: bool,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
}

/// Run `quietline --data-dir DIR ARGS…` (plus `--database-url` if given) and wait.
pub fn admin(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Admin {
    let mut cmd = command();
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    let out = cmd.args(args).output().expect("run quietline");
    Admin {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Like [`admin`], but panics unless it succeeded; returns stdout.
pub fn admin_ok(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> String {
    let a = admin(data_dir, database_url, args);
    assert!(
        a.ok,
        "quietline {args:?} failed:\n{}\n{}",
        a.stdout, a.stderr
    );
    a.stdout
}

/// A running `quietline serve` process.
pub struct Process {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bound address.
    pub addr: SocketAddr,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Everything a stopped process printed.
#[derive(Debug)]
pub struct Captured {
    /// Stdout bytes.
    pub stdout: Vec<u8>,
    /// Stderr bytes.
    pub stderr: Vec<u8>,
    /// Whether it exited successfully.
    pub success: bool,
}

fn capture(
    pipe: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
    first_listen: Option<mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        let mut first_listen = first_listen;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    sink.lock().unwrap().extend_from_slice(&line);
                    let text = String::from_utf8_lossy(&line);
                    if let Some(rest) = text.trim().strip_prefix("listening on http://")
                        && let Some(tx) = first_listen.take()
                    {
                        let _ = tx.send(rest.to_owned());
                    }
                }
            }
        }
    })
}

impl Process {
    /// Start `quietline serve --listen 127.0.0.1:0 --data-dir DIR [ARGS…]` and
    /// wait for its `listening on` line. Proof of work is at
    /// [`TEST_POW_DIFFICULTY`] unless `extra` sets `--pow-difficulty`.
    pub fn serve(data_dir: &Path, extra: &[&str]) -> Process {
        let mut cmd = command();
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra);
        if !extra.contains(&"--pow-difficulty") {
            cmd.arg("--pow-difficulty")
                .arg(TEST_POW_DIFFICULTY.to_string());
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn quietline serve");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let readers = vec![
            capture(child.stdout.take().unwrap(), stdout.clone(), Some(tx)),
            capture(child.stderr.take().unwrap(), stderr.clone(), None),
        ];
        let addr = match rx.recv_timeout(TIMEOUT) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "quietline serve did not print its address; stderr:\n{}",
                    String::from_utf8_lossy(&stderr.lock().unwrap())
                );
            }
        };
        let addr: SocketAddr = addr.parse().expect("address in the listening line");
        Process {
            child: Some(child),
            base: format!("http://{addr}"),
            addr,
            stdout,
            stderr,
            readers,
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What it printed so far on stdout.
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Send SIGTERM (graceful shutdown) without waiting.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Stop with SIGTERM and collect the output.
    pub fn stop(self) -> Captured {
        self.terminate();
        self.wait()
    }

    /// Stop with SIGKILL (no chance to flush anything) and collect the output.
    pub fn kill(mut self) -> Captured {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
        }
        self.wait()
    }

    /// Wait for exit (bounded) and collect the output.
    pub fn wait(mut self) -> Captured {
        let mut child = self.child.take().expect("not yet waited for");
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = match rx.recv_timeout(TIMEOUT) {
            Ok(s) => s.expect("wait for quietline"),
            Err(_) => {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
                panic!("quietline serve did not exit within {TIMEOUT:?}");
            }
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Captured {
            stdout: std::mem::take(&mut self.stdout.lock().unwrap()),
            stderr: std::mem::take(&mut self.stderr.lock().unwrap()),
            success: status.success(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A test that panicked must not leave a server running.
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A force `north` registered through the real admin commands (force add, key
/// add, token issue) on the database at `database_url`, as an operator would:
/// its key pair (the test keeps the private half to open what it stores) and a
/// handler token. Used by the tests that run the real binary.
pub fn register_force_via_admin(data_dir: &Path, database_url: &str) -> (TestForce, String) {
    let (private_key, public_key) = quietline_crypto::keys::generate_keypair(&mut rng());
    let force = TestForce {
        id: "north".into(),
        private_key,
        public_key,
    };
    let url = Some(database_url);
    admin_ok(data_dir, url, &["force", "add", "north", "--name", "North"]);
    let pk = force.public_key.to_base64url();
    admin_ok(
        data_dir,
        url,
        &["force", "key", "add", "north", "--public-key", &pk],
    );
    let token = admin_ok(
        data_dir,
        url,
        &["token", "issue", "--force", "north", "--label", "desk"],
    )
    .trim()
    .to_owned();
    (force, token)
}

/// A fresh database with force `north` registered through the admin commands,
/// for the tests that run and kill the real binary (`restart.rs`, `crash.rs`).
pub struct BinarySetup {
    /// The database (and data dir).
    pub db: TestDb,
    /// The force, with its private key.
    pub force: std::sync::Arc<TestForce>,
    /// A handler token of the force.
    pub token: String,
}

impl BinarySetup {
    /// `None` when the backend is unavailable outside CI (see `TestDb::new`).
    pub async fn new(backend: Backend) -> Option<BinarySetup> {
        let db = TestDb::new(backend).await?;
        let (force, token) = register_force_via_admin(db.dir.path(), &db.url);
        Some(BinarySetup {
            db,
            force: std::sync::Arc::new(force),
            token,
        })
    }

    /// The data dir the binary runs with.
    pub fn data_dir(&self) -> &Path {
        self.db.dir.path()
    }

    /// Start `quietline serve` on this database.
    pub fn serve(&self) -> Process {
        Process::serve(self.data_dir(), &["--database-url", &self.db.url])
    }
}

//! Storage faults made real for tests/faults.rs (issue 15, items 12–13):
//!
//! - [`Tmpfs`]: a small tmpfs the test mounts (tests run as root here and in
//!   CI), to fill a REAL filesystem and then grow it;
//! - [`PgCluster`]: a throwaway PostgreSQL cluster (`initdb` + `pg_ctl` from
//!   `/usr/lib/postgresql/*/bin`) in a temporary directory on a free port,
//!   that the test stops and starts: never the machine's shared server, which
//!   other tests use at the same time;
//! - [`Interposed`]: the one pass-through storage: its next N report inserts
//!   fail as "unavailable" (the page's retry), or it reports high pressure
//!   (the proof-of-work controller);
//! - [`captured_log`]: the server's log lines as an operator would read them
//!   (the production format: no time, no colour), kept in memory.
//!
//! Whatever cannot be set up here (no permission to mount, no PostgreSQL
//! binaries) prints `SKIPPED: …` outside CI and fails with `CI=true`
//! ([`quietline_testkit::node::require`]).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use quietline::storage::{
    Day, ForceEntry, ForceKey, InboxEntry, KeyId, KeyStatus, NewReport, Pressure, Purged, ReportId,
    SlotAddress, SlotWrite, Storage, StorageError, StoredSigners, StoredStatement, TokenHash,
    TokenInfo,
};

use quietline_testkit::node::require;

/// Run `program args…`; its stdout, or `Err` with what it said.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?} could not start: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

// ------------------------------------------------------------------ tmpfs

/// A tmpfs mounted on a temporary directory; unmounted when dropped.
pub struct Tmpfs {
    dir: Option<tempfile::TempDir>,
}

impl Tmpfs {
    /// Mount a tmpfs of `kib` KiB. `None` (after `SKIPPED: …`) when mounting
    /// is not permitted outside CI; a panic with `CI=true`.
    #[track_caller]
    pub fn mount(kib: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("tempdir");
        let mounted = run(Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path()));
        if let Err(why) = &mounted {
            require(
                false,
                "permission to mount a tmpfs",
                &format!("run the tests as root (as CI does); {why}"),
            );
            return None;
        }
        Some(Tmpfs { dir: Some(dir) })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("mounted").path()
    }

    /// Grow (or shrink) it to `kib` KiB in place: what an operator does
    /// when a volume fills (the files on it stay).
    pub fn resize(&self, kib: u64) {
        run(Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(self.path()))
        .unwrap_or_else(|e| panic!("remounting the tmpfs: {e}"));
    }

    /// Bytes free on it now.
    pub fn free_bytes(&self) -> u64 {
        let out = run(Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(self.path()))
        .unwrap_or_else(|e| panic!("df: {e}"));
        out.lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .expect("df prints the free bytes")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            // Lazy: a file still open (a storage not closed after a failed
            // assertion) must not keep the mount, or the directory, alive.
            let _ = run(Command::new("umount").arg("-l").arg(dir.path()));
            drop(dir);
        }
    }
}

// ------------------------------------------------------------------ PostgreSQL

/// A PostgreSQL cluster of its own, in a temporary directory, listening on
/// 127.0.0.1 on a free port with trust authentication; stopped (immediately)
/// and removed when dropped.
pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// Whether the server processes run as the `postgres` user (we are root,
    /// and PostgreSQL refuses to run as root).
    as_postgres: bool,
    /// Server settings given at every start, `name=value` each.
    settings: Vec<String>,
}

impl PgCluster {
    /// `initdb` and start a cluster. `None` (after `SKIPPED: …`) when the
    /// PostgreSQL server binaries are missing outside CI; a panic with `CI=true`.
    #[track_caller]
    pub fn start() -> Option<PgCluster> {
        Self::start_with(&[])
    }

    /// [`PgCluster::start`] with server settings (`name=value` each, given
    /// as `-c name=value` at every start).
    #[track_caller]
    pub fn start_with(settings: &[&str]) -> Option<PgCluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
            .max_by_key(|b| {
                // The newest major version installed.
                b.parent()
                    .and_then(|v| v.file_name())
                    .and_then(|v| v.to_str())
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0)
            });
        let Some(bin) = bin else {
            require(
                false,
                "the PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl)",
                "install the postgresql package",
            );
            return None;
        };
        let as_postgres = run(Command::new("id").arg("-u")).is_ok_and(|u| u.trim() == "0");
        let dir = tempfile::tempdir().expect("tempdir");
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()))
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = PgCluster {
            bin,
            dir,
            port,
            as_postgres,
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
        };
        let data = cluster.data();
        cluster
            .pg(
                "initdb",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        cluster.start_again();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Run one of the cluster's programs (as `postgres` when we are root).
    fn pg(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        run(cmd.args(args))
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Start the server and wait until it accepts connections (`pg_ctl -w`).
    pub fn start_again(&self) {
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        for setting in &self.settings {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        let data = self.data();
        let log = self.dir.path().join("server.log");
        self.pg(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Stop the server (`-m fast`: open sessions are ended, as in a restart
    /// an operator makes) and wait until it has stopped.
    pub fn stop(&self) {
        self.stop_with("fast").unwrap_or_else(|e| panic!("{e}"));
    }

    fn stop_with(&self, mode: &str) -> Result<String, String> {
        let data = self.data();
        self.pg(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
                "stop",
            ],
        )
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop_with("immediate");
    }
}

// ------------------------------------------------------------------ interposed storage

/// The one storage the tests put between the server and a real backend: it
/// passes everything through, except what the test turns on — the next N
/// report inserts fail as `Unavailable` (as a full disk or a PostgreSQL
/// restart would, for the page's retry), and the pressure the proof-of-work
/// controller reads can be set high.
pub struct Interposed {
    inner: Arc<dyn Storage>,
    failures: AtomicUsize,
    /// Inserts refused so far.
    pub refused: AtomicUsize,
    high_pressure: Arc<AtomicBool>,
}

impl Interposed {
    /// Wrap `inner`; the next `failures` inserts fail.
    pub fn failing(inner: Arc<dyn Storage>, failures: usize) -> Self {
        Interposed {
            inner,
            failures: AtomicUsize::new(failures),
            refused: AtomicUsize::new(0),
            high_pressure: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Wrap `inner`; while `high` is set, `pressure()` reports a deep queue
    /// and a slow commit, otherwise the backend's own pressure.
    pub fn pressured(inner: Arc<dyn Storage>, high: Arc<AtomicBool>) -> Self {
        Interposed {
            inner,
            failures: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            high_pressure: high,
        }
    }
}

#[async_trait::async_trait]
impl Storage for Interposed {
    async fn add_force(&self, id: &str, name: &str) -> Result<(), StorageError> {
        self.inner.add_force(id, name).await
    }
    async fn forces(&self) -> Result<Vec<ForceEntry>, StorageError> {
        self.inner.forces().await
    }
    async fn add_force_key(&self, f: &str, k: KeyId, pk: Vec<u8>) -> Result<(), StorageError> {
        self.inner.add_force_key(f, k, pk).await
    }
    async fn retire_force_key(&self, f: &str, k: KeyId) -> Result<(), StorageError> {
        self.inner.retire_force_key(f, k).await
    }
    async fn force_keys(&self, f: &str) -> Result<Vec<ForceKey>, StorageError> {
        self.inner.force_keys(f).await
    }
    async fn key_status(&self, f: &str, k: KeyId) -> Result<Option<KeyStatus>, StorageError> {
        self.inner.key_status(f, k).await
    }
    async fn set_force_signers(&self, f: &str, s: StoredSigners) -> Result<(), StorageError> {
        self.inner.set_force_signers(f, s).await
    }
    async fn force_signers(&self, f: &str) -> Result<Option<StoredSigners>, StorageError> {
        self.inner.force_signers(f).await
    }
    async fn add_signed_force_key(
        &self,
        f: &str,
        pk: Vec<u8>,
        s: StoredStatement,
    ) -> Result<(), StorageError> {
        self.inner.add_signed_force_key(f, pk, s).await
    }
    async fn key_statements(&self, f: &str) -> Result<Vec<StoredStatement>, StorageError> {
        self.inner.key_statements(f).await
    }
    async fn current_statements(&self) -> Result<Vec<(String, StoredStatement)>, StorageError> {
        self.inner.current_statements().await
    }
    async fn keylog_seed(
        &self,
        fresh: [u8; 32],
    ) -> Result<zeroize::Zeroizing<[u8; 32]>, StorageError> {
        self.inner.keylog_seed(fresh).await
    }
    async fn keylog_size(&self) -> Result<u64, StorageError> {
        self.inner.keylog_size().await
    }
    async fn keylog_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        self.inner.keylog_entries(start, end).await
    }
    async fn keylog_current_positions(
        &self,
    ) -> Result<Vec<quietline::storage::LogPosition>, StorageError> {
        self.inner.keylog_current_positions().await
    }
    async fn add_token(&self, h: TokenHash, f: &str, l: &str) -> Result<(), StorageError> {
        self.inner.add_token(h, f, l).await
    }
    async fn revoke_token(&self, f: &str, l: &str) -> Result<(), StorageError> {
        self.inner.revoke_token(f, l).await
    }
    async fn token_force(&self, h: TokenHash) -> Result<Option<String>, StorageError> {
        self.inner.token_force(h).await
    }
    async fn tokens(&self, f: Option<&str>) -> Result<Vec<TokenInfo>, StorageError> {
        self.inner.tokens(f).await
    }
    async fn insert_report(&self, r: NewReport) -> Result<(), StorageError> {
        let fail = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(StorageError::Unavailable(
                "database or disk is full (stood in for by the test)".into(),
            ));
        }
        self.inner.insert_report(r).await
    }
    async fn inbox(
        &self,
        f: &str,
        a: Option<ReportId>,
        l: u32,
    ) -> Result<Vec<InboxEntry>, StorageError> {
        self.inner.inbox(f, a, l).await
    }
    async fn report(&self, f: &str, id: ReportId) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.report(f, id).await
    }
    async fn put_slot(
        &self,
        a: SlotAddress,
        e: Vec<u8>,
        d: Day,
    ) -> Result<SlotWrite, StorageError> {
        self.inner.put_slot(a, e, d).await
    }
    async fn slot(&self, a: SlotAddress) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.slot(a).await
    }
    async fn slots(&self, a: &[SlotAddress]) -> Result<Vec<(SlotAddress, Vec<u8>)>, StorageError> {
        self.inner.slots(a).await
    }
    async fn put_copy(
        &self,
        c: quietline::storage::NewCopy,
        l: quietline::storage::CopyLimits,
    ) -> Result<quietline::storage::CopyWrite, StorageError> {
        self.inner.put_copy(c, l).await
    }
    async fn copies(&self, b: SlotAddress) -> Result<Vec<Vec<u8>>, StorageError> {
        self.inner.copies(b).await
    }
    async fn purge(&self, t: Day, r: u32) -> Result<Purged, StorageError> {
        self.inner.purge(t, r).await
    }
    async fn pow_key(&self, fresh: [u8; 32]) -> Result<zeroize::Zeroizing<[u8; 32]>, StorageError> {
        self.inner.pow_key(fresh).await
    }
    async fn forget_spent(&self, now: i64) -> Result<u64, StorageError> {
        self.inner.forget_spent(now).await
    }
    fn pressure(&self) -> Pressure {
        if self.high_pressure.load(Ordering::Relaxed) {
            Pressure {
                queued: 1000,
                slowest_commit: Duration::from_secs(1),
            }
        } else {
            self.inner.pressure()
        }
    }
    async fn close(&self) {
        self.inner.close().await
    }
}

// ------------------------------------------------------------------ the log

/// Everything logged in this test process since [`captured_log`] was first
/// called (tests running at the same time share it).
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// The log so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Install (once) a log subscriber like the server's (`quietline` at info,
/// the rest at warn, no time) that writes into memory; the buffer.
pub fn captured_log() -> LogBuffer {
    static LOG: OnceLock<LogBuffer> = OnceLock::new();
    LOG.get_or_init(|| {
        use tracing_subscriber::filter::{LevelFilter, Targets};
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let buf = LogBuffer::default();
        let writer = buf.clone();
        let filter = Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("quietline", LevelFilter::INFO);
        let fmt = tracing_subscriber::fmt::layer()
            .without_time()
            .with_ansi(false)
            .with_writer(move || writer.clone());
        tracing_subscriber::registry()
            .with(fmt)
            .with(filter)
            .try_init()
            .expect("no other log subscriber in this test process");
        buf
    })
    .clone()
}

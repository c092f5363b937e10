//! Throw-away databases for integration tests: a fresh PostgreSQL database per
//! test, and the SQLite URL for a file in a temporary directory.
//!
//! PostgreSQL:
//!
//! ```ignore
//! let Some(pg) = quietline_testkit::pg::fresh_database().await else { return }; // skipped
//! let storage = quietline::storage::open(pg.url()).await.unwrap();
//! // … test …
//! storage.close().await;
//! pg.cleanup().await; // or just drop `pg`
//! ```
//!
//! - The server is `QUIETLINE_TEST_POSTGRES` (default
//!   `postgres://postgres@127.0.0.1:5432/test`); each call creates a database
//!   named `ql_test_<16 random hex digits>` on it, so tests can run in
//!   parallel and never see each other's rows.
//! - The database is dropped (`DROP DATABASE … WITH (FORCE)`, which also ends
//!   connections still open to it) by [`PgTestDb::cleanup`] or, failing that,
//!   when the [`PgTestDb`] is dropped. A test that panics therefore still
//!   cleans up.
//! - If the server cannot be reached: with `CI=true` this panics (the
//!   PostgreSQL tests are required in CI); otherwise it prints
//!   `SKIPPED: PostgreSQL not reachable at …` to stderr and returns `None`, and
//!   the test should return early.
//!
//! It does not start PostgreSQL (CI's script or the machine does). The
//! benchmarks use it too (`fresh_database_or_error`): there an unreachable
//! server is an error, never a silent skip.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

/// Default admin URL when `QUIETLINE_TEST_POSTGRES` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// How long to wait for the server before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL database created for one test; dropped with it.
#[derive(Debug)]
pub struct PgTestDb {
    url: String,
    name: String,
    admin: PgConnectOptions,
    dropped: bool,
}

impl PgTestDb {
    /// The test database's URL, for `quietline::storage::open`, a server's
    /// `--database-url`, or a second server process sharing it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name (`ql_test_…`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drop the database now. Close storages that use it first (anything
    /// still connected is disconnected by force).
    pub async fn cleanup(mut self) {
        self.dropped = true;
        drop_database(&self.admin, &self.name).await;
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop may run inside a tokio runtime (where we must not block on
        // it), so drop the database from a short-lived thread with its own.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(drop_database(&admin, &name)),
                Err(e) => eprintln!("could not drop test database {name}: {e}"),
            }
        })
        .join();
        if done.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Create a fresh, empty PostgreSQL database (see the module docs). `None`
/// means "skip this test" (PostgreSQL unreachable outside CI).
pub async fn fresh_database() -> Option<PgTestDb> {
    let admin_url =
        std::env::var("QUIETLINE_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
    let admin = match PgConnectOptions::from_str(&admin_url) {
        Ok(o) => o.disable_statement_logging(),
        Err(e) => panic!("QUIETLINE_TEST_POSTGRES is not a valid PostgreSQL URL: {e}"),
    };
    let mut conn = match connect(&admin).await {
        Ok(c) => c,
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "PostgreSQL not reachable at {} ({why}); the PostgreSQL tests are required in CI",
                    redacted(&admin_url)
                );
            }
            eprintln!(
                "SKIPPED: PostgreSQL not reachable at {} ({why})",
                redacted(&admin_url)
            );
            return None;
        }
    };
    let name = format!("ql_test_{}", random_hex());
    // The name is ours (fixed prefix + hex), so formatting it in is safe.
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
    let _ = conn.close().await;
    Some(PgTestDb {
        url: with_database(&admin_url, &name),
        name,
        admin,
        dropped: false,
    })
}

/// [`fresh_database`] for the benchmarks: an unreachable server is an error
/// that says what to start, not a skip.
pub async fn fresh_database_or_error() -> anyhow::Result<PgTestDb> {
    fresh_database().await.ok_or_else(|| {
        anyhow::anyhow!(
            "PostgreSQL is not reachable (see the line above); start it on 127.0.0.1:5432 \
             (user postgres, trust auth) or set QUIETLINE_TEST_POSTGRES"
        )
    })
}

/// `sqlite://…` URL of a database file named `quietline.sqlite` in `dir`
/// (typically a `tempfile::TempDir`); `storage::open` creates the file.
pub fn sqlite_url(dir: &Path) -> String {
    let path = dir.join("quietline.sqlite");
    // sqlx percent-decodes the path and splits off `?…`: escape those.
    let path = path
        .to_str()
        .expect("temporary directory path is not UTF-8")
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    format!("sqlite://{path}")
}

/// Connect to the admin database; if that database does not exist (a fresh
/// server without a `test` database), fall back to the `postgres` database.
async fn connect(admin: &PgConnectOptions) -> Result<PgConnection, String> {
    let try_connect = |o: PgConnectOptions| async move {
        tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&o))
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())
    };
    match try_connect(admin.clone()).await {
        Err(e) if e.contains("does not exist") => try_connect(admin.clone().database("postgres"))
            .await
            .map_err(|e2| format!("{e}; then {e2}")),
        other => other,
    }
}

async fn drop_database(admin: &PgConnectOptions, name: &str) {
    match connect(admin).await {
        Ok(mut conn) => {
            if let Err(e) = sqlx::query(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            {
                eprintln!("could not drop test database {name}: {e}");
            }
            let _ = conn.close().await;
        }
        Err(e) => eprintln!("could not drop test database {name}: {e}"),
    }
}

/// `url` with its database (path) replaced by `name`, query string kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `url` without a password, for messages.
fn redacted(url: &str) -> String {
    match PgConnectOptions::from_str(url) {
        Ok(o) => {
            let mut u = o.to_url_lossy();
            let _ = u.set_password(None);
            // sqlx adds its defaults as query parameters; they are noise here.
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(unparseable URL)".to_owned(),
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("OS random number generator");
    hex::encode(bytes)
}

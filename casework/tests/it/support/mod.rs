//! Helpers for the vault conformance suite: a throw-away vault on either
//! backend (a SQLite file in a temporary directory, or a fresh PostgreSQL
//! database from the test kit), its raw dump, and a test key ring.

use std::path::{Path, PathBuf};

use quietline_casework::keyring::{KeyRing, key_path};
use quietline_casework::keystore::write_key_file;
use quietline_casework::vault::Vault;
use quietline_crypto::keyfile::{KdfParams, seal_key_file};
use quietline_crypto::keys::{Suite, generate_keypair_for};
use quietline_testkit::pg::{PgTestDb, fresh_database};
use sqlx::{AssertSqlSafe, Connection, Row};

/// Which backend a conformance test runs on (see `on_both_backends!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A `vault.sqlite` file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A vault target for one test, removed with it.
pub struct TestVault {
    /// What `Vault::connect` is given.
    pub target: String,
    backend: Backend,
    dir: tempfile::TempDir,
    pg: Option<PgTestDb>,
}

impl TestVault {
    /// A fresh target; `None` when PostgreSQL is unreachable outside CI (the
    /// test kit prints SKIPPED).
    pub async fn new(backend: Backend) -> Option<TestVault> {
        let dir = tempfile::tempdir().expect("temporary directory");
        match backend {
            Backend::Sqlite => Some(TestVault {
                target: dir
                    .path()
                    .join("vault.sqlite")
                    .to_str()
                    .expect("UTF-8 path")
                    .to_owned(),
                backend,
                dir,
                pg: None,
            }),
            Backend::Postgres => {
                let pg = fresh_database().await?;
                Some(TestVault {
                    target: pg.url().to_owned(),
                    backend,
                    dir,
                    pg: Some(pg),
                })
            }
        }
    }

    /// A new handle on the vault (its own connections), as another desk would open it.
    pub async fn open(&self) -> Vault {
        Vault::connect(&self.target).await.expect("open the vault")
    }

    /// A scratch directory that lives as long as the vault.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Run SQL on the database behind the vault's back (close handles first
    /// for SQLite).
    pub async fn raw_sql(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.target))
                    .await
                    .unwrap();
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.target).await.unwrap();
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
            }
        }
    }

    /// Everything at rest, as someone with the database but not the keys
    /// would have it: SQLite — the bytes of the file and of any WAL beside
    /// it; PostgreSQL — every row of every table as text (BYTEA as `\x` hex),
    /// like a plain `pg_dump`. Close every handle first.
    pub async fn dump(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => {
                let mut out = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    if let Ok(b) = std::fs::read(format!("{}{suffix}", self.target)) {
                        out.extend_from_slice(&b);
                    }
                }
                out
            }
            Backend::Postgres => {
                let tables = self.tables().await;
                let mut c = sqlx::PgConnection::connect(&self.target).await.unwrap();
                assert!(tables.len() >= 10, "tables: {tables:?}");
                let mut out = Vec::new();
                for t in tables {
                    // The name comes from the catalogue, not from input.
                    let rows = sqlx::query(AssertSqlSafe(format!(
                        "SELECT t::text AS line FROM \"{t}\" AS t"
                    )))
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
                    out.extend_from_slice(format!("-- {t}\n").as_bytes());
                    for r in rows {
                        let line: String = r.get("line");
                        out.extend_from_slice(line.as_bytes());
                        out.push(b'\n');
                    }
                }
                c.close().await.unwrap();
                out
            }
        }
    }

    /// The tables of a PostgreSQL vault's database.
    pub async fn tables(&self) -> Vec<String> {
        let mut c = sqlx::PgConnection::connect(&self.target).await.unwrap();
        let tables = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema() ORDER BY 1",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
        tables
    }

    /// Drop the PostgreSQL database now (or the temporary directory).
    pub async fn cleanup(self) {
        if let Some(pg) = self.pg {
            pg.cleanup().await;
        }
    }
}

/// A key ring for force `force` in `dir/keys` (fast, insecure KDF: tests only).
pub fn key_ring(dir: &Path, force: &str) -> KeyRing {
    let keys: PathBuf = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let (sk, pk) = generate_keypair_for(Suite::X25519, &mut rng);
    let text = seal_key_file(
        &mut rng,
        &sk,
        force,
        "2026-12-07",
        b"test passphrase",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    write_key_file(&key_path(&keys, pk.key_id()), &text).unwrap();
    KeyRing::unlock(&keys, None, b"test passphrase").unwrap()
}

/// Whether `needle` occurs in `hay`, raw or as lowercase hex (how a text dump
/// shows BYTEA).
pub fn contains_text(hay: &[u8], needle: &str) -> bool {
    let raw = needle.as_bytes();
    let hex = hex::encode(raw);
    hay.windows(raw.len()).any(|w| w == raw) || hay.windows(hex.len()).any(|w| w == hex.as_bytes())
}

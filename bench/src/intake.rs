use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{closed_loop, offline_headers, prepare};
use crate::envelopes::{envelopes, rng};
use crate::server::{self, Bare};
use crate::{BENCH_DIFFICULTY, Cli};
use anyhow::Result;
use bytes::Bytes;
use quietline::storage;
use quietline_crypto::keys::generate_keypair;
use quietline_testkit::pg::{PgTestDb, fresh_database_or_error};

// ------------------------------------------------------------------ intake

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A fresh database URL for `backend` (SQLite: a file in `dir`).
pub(crate) async fn fresh(
    backend: Backend,
    dir: &Path,
    tag: &str,
) -> Result<(String, Option<PgTestDb>)> {
    Ok(match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join(format!("{tag}.sqlite")).display()),
            None,
        ),
        Backend::Postgres => {
            // The test kit's fresh database (dropped with it); unreachable
            // PostgreSQL is an error here, never a skip.
            let db = fresh_database_or_error().await?;
            (db.url().to_owned(), Some(db))
        }
    })
}

/// The durable-write ceiling: the same schema (created by quietline's
/// migrations), the same settings, the same rows, written directly in
/// 512-row transactions without HTTP or group commit. "The same rows": each
/// report with its spent proof-of-work challenge in the same transaction, as
/// the server writes them.
pub(crate) async fn write_ceiling(
    backend: Backend,
    dir: &Path,
    bodies: &[Bytes],
    total: usize,
    batch: usize,
) -> Result<f64> {
    use sqlx::{Connection, QueryBuilder};
    let (url, pg) = fresh(backend, dir, &format!("ceiling{batch}")).await?;
    let (_pk, key_id) = {
        let s = storage::open(&url).await?;
        s.add_force("demo", "Demo").await?;
        let (_sk, pk) = generate_keypair(&mut rng());
        let key_id = pk.key_id().0;
        s.add_force_key("demo", key_id, pk.to_bytes()).await?;
        s.close().await;
        (pk, key_id)
    };
    let ids = |n: usize| -> Vec<[u8; 16]> {
        (0..n)
            .map(|_| {
                let mut id = [0u8; 16];
                getrandom::fill(&mut id).expect("rng");
                id
            })
            .collect()
    };
    // Spent challenges expire on a five-minute boundary (FORMAT.md#challenge).
    let expires = i64::try_from(quietline::pow::expiry_for(quietline::pow::now_secs()))?;
    let start = Instant::now();
    let mut done = 0;
    match backend {
        Backend::Sqlite => {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            use std::str::FromStr;
            let opts = SqliteConnectOptions::from_str(&url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .pragma("secure_delete", "ON")
                .pragma("wal_autocheckpoint", "8000")
                // The server writer's cache (src/storage/sqlite.rs).
                .pragma("cache_size", "-2000");
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
            while done < total {
                let n = batch.min(total - done);
                let spent = ids(n);
                let ids = ids(n);
                let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
                let mut q =
                    QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO pow_spent (id, expires) ");
                q.push_values(spent.iter(), |mut row, id| {
                    row.push_bind(&id[..]).push_bind(expires);
                });
                q.build().persistent(false).execute(&mut *tx).await?;
                let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO reports (rid, id, force_id, key_id, envelope, day, purge_fuzz) ",
                );
                q.push_values(ids.iter().enumerate(), |mut row, (i, id)| {
                    let rid = i64::from_be_bytes(id[..8].try_into().expect("8")) & i64::MAX;
                    row.push_bind(rid)
                        .push_bind(&id[..])
                        .push_bind("demo")
                        .push_bind(&key_id[..])
                        .push_bind(&bodies[(done + i) % bodies.len()][..])
                        .push_bind(20_000)
                        .push_bind(3);
                });
                q.build().persistent(false).execute(&mut *tx).await?;
                tx.commit().await?;
                done += n;
            }
            c.close().await?;
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            sqlx::query("SET synchronous_commit = on")
                .execute(&mut c)
                .await?;
            while done < total {
                let n = batch.min(total - done);
                let spent = ids(n);
                let ids = ids(n);
                sqlx::query(
                    "WITH spent AS (INSERT INTO pow_spent (id, expires) \
                     SELECT * FROM UNNEST($7::bytea[], $8::int8[])) \
                     INSERT INTO reports (id, force_id, key_id, envelope, day, purge_fuzz) \
                     SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::bytea[], $4::bytea[], $5::int4[], $6::int2[])",
                )
                .bind(ids.iter().map(|i| &i[..]).collect::<Vec<_>>())
                .bind(vec!["demo"; n])
                .bind(vec![&key_id[..]; n])
                .bind((0..n).map(|i| &bodies[(done + i) % bodies.len()][..]).collect::<Vec<_>>())
                .bind(vec![20_000i32; n])
                .bind(vec![3i16; n])
                .bind(spent.iter().map(|i| &i[..]).collect::<Vec<_>>())
                .bind(vec![expires; n])
                .execute(&mut c)
                .await?;
                done += n;
            }
            c.close().await?;
        }
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    if let Some(pg) = pg {
        pg.cleanup().await;
    }
    Ok(rate)
}

pub(crate) async fn intake(cli: &Cli) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let deadline = Duration::from_secs(120);
    println!("\n## Intake (durable 8 KiB submissions)\n");
    println!(
        "{} submissions per row, keep-alive HTTP/1.1 connections from this process to 127.0.0.1. \
         Quietline requires a proof of work (difficulty {BENCH_DIFFICULTY}: the server's check costs the same \
         at any difficulty); each submission's challenge was fetched from the server and solved over its body \
         before the timed part, one challenge per submission. The HTTP ceiling gets headers of the same size. \
         Errors are every answer other than 201.\n",
        cli.requests
    );
    println!("| what | concurrency | per second | p50 ms | p99 ms | errors | ceiling/s | ratio |");
    println!("|---|---|---|---|---|---|---|---|");

    // HTTP ceiling.
    let probe_pk = generate_keypair(&mut rng()).1;
    let bodies = Arc::new(envelopes("demo", &probe_pk, 64));
    let mut http_ceiling = [0.0f64; 2];
    {
        let bare = Bare::start()?;
        let pows = offline_headers(&bodies, cli.requests)?;
        for (i, c) in [16, 64].into_iter().enumerate() {
            let mut r = closed_loop(bare.addr, &bodies, &pows, c, cli.requests, deadline).await?;
            http_ceiling[i] = r.rate();
            println!(
                "| HTTP ceiling (bare axum, 201, no storage) | {c} | {:.0} | {:.2} | {:.2} | {} | | |",
                r.rate(),
                r.pct(0.5),
                r.pct(0.99),
                r.errors_cell()
            );
        }
    }
    let backends: &[Backend] = if cli.no_postgres {
        &[Backend::Sqlite]
    } else {
        &[Backend::Sqlite, Backend::Postgres]
    };
    for &backend in backends {
        let ceiling = write_ceiling(backend, dir.path(), &bodies, cli.requests, 512).await?;
        println!(
            "| {} durable-write ceiling (512-row transactions, no HTTP) | | {ceiling:.0} | | | | | |",
            backend.name()
        );
        // A closed loop of c clients never has more than c reports queued, so
        // no batch can exceed c rows: the same ceiling with c-row
        // transactions is the most the storage could give at that concurrency.
        let mut at_batch = [0.0f64; 2];
        for (i, c) in [16usize, 64].into_iter().enumerate() {
            at_batch[i] = write_ceiling(backend, dir.path(), &bodies, cli.requests, c).await?;
            println!(
                "| {} durable-write ceiling ({c}-row transactions, no HTTP) | | {:.0} | | | | | |",
                backend.name(),
                at_batch[i]
            );
        }
        for (i, c) in [16, 64].into_iter().enumerate() {
            let data = dir.path().join(format!("{}-{c}", backend.name()));
            std::fs::create_dir_all(&data)?;
            let (url, pg) = fresh(backend, &data, &format!("c{c}")).await?;
            let (server, pk) = server::quietline(&url, &data)?;
            let bodies = Arc::new(envelopes("demo", &pk, 64));
            // Not timed: one fresh challenge per submission, solved over its body.
            let pows = prepare(server.addr, &bodies, cli.requests).await?;
            let mut r = closed_loop(server.addr, &bodies, &pows, c, cli.requests, deadline).await?;
            drop(server);
            if let Some(pg) = pg {
                pg.cleanup().await;
            }
            let (p50, p99) = (r.pct(0.5), r.pct(0.99));
            println!(
                "| {} Quietline | {c} | {:.0} | {p50:.2} | {p99:.2} | {} | write {ceiling:.0} / {c}-row write {:.0} / HTTP {:.0} | {:.0}% / {:.0}% / {:.0}% |",
                backend.name(),
                r.rate(),
                r.errors_cell(),
                at_batch[i],
                http_ceiling[i],
                100.0 * r.rate() / ceiling,
                100.0 * r.rate() / at_batch[i],
                100.0 * r.rate() / http_ceiling[i],
            );
        }
    }
    Ok(())
}

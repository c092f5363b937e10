//! `blobs`: attachments' server ingest (issue 19, crypto/FORMAT.md#blobs-on-the-server).
//!
//! MB/s of part uploads (`PUT /api/v1/blobs/{id}/parts/{n}`, 1,048,832
//! octets each, every one committed durably before its `200`) to the
//! in-process server on SQLite and on PostgreSQL, with 1 and 4 parts in
//! flight, against the disk's sequential write rate measured in the same run
//! on the same file system: the same octets written to a file in the data
//! directory in part-sized writes, with one `fsync` at the end (the disk's
//! streaming rate) and with an `fdatasync` after every part (the same
//! durability promise as the server's, without a database).
//!
//! Not timed: fetching the size-scaled challenge, solving it, beginning the
//! upload, and making the octets (random: sealed octets do not compress).
//! It measures; it does not check what the server stores beyond the answers
//! (the tests do).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::Cli;
use crate::client::{Conn, Issued, connect, solve_header};
use crate::intake::{Backend, fresh};
use crate::server;
use quietline::storage::BLOB_PART_LEN;
use quietline_crypto::{pow as qpow, stream};

/// Parts in flight per measurement: the page sends one at a time; a few at
/// once is what a faster client or a resumed upload might do.
const CONCURRENCY: [usize; 2] = [1, 4];

async fn request(
    send: &mut Conn,
    req: hyper::http::request::Builder,
    body: Bytes,
) -> Result<(u16, Bytes)> {
    send.ready().await?;
    let resp = send
        .send_request(
            req.header("host", "127.0.0.1")
                .header("content-length", body.len())
                .body(Full::new(body))?,
        )
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.into_body().collect().await?.to_bytes()))
}

/// Begin an upload of `size` sealed octets to the demo force: the scaled
/// challenge, solved over the exact JSON body; the new blob's id.
async fn begin(addr: SocketAddr, size: u64) -> Result<String> {
    let mut send = connect(addr).await?;
    let (status, body) = request(
        &mut send,
        hyper::Request::get(format!("/api/v1/blobs/challenge?size={size}")),
        Bytes::new(),
    )
    .await?;
    if status != 200 {
        bail!(
            "GET /api/v1/blobs/challenge answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    use base64::Engine;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v["challenge"].as_str().context("no challenge")?)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the challenge is not 58 bytes"))?;
    let issued = Issued {
        challenge,
        difficulty: u8::try_from(v["difficulty"].as_u64().context("no difficulty")?)?,
    };
    let json = Bytes::from(serde_json::to_vec(
        &serde_json::json!({ "force": "demo", "size": size }),
    )?);
    let hash = qpow::envelope_hash(&json);
    let pow = tokio::task::spawn_blocking(move || solve_header(&issued, &hash)).await??;
    let (status, body) = request(
        &mut send,
        hyper::Request::post("/api/v1/blobs")
            .header("content-type", "application/json")
            .header(qpow::HEADER, pow),
        json,
    )
    .await?;
    if status != 201 {
        bail!(
            "POST /api/v1/blobs answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(v["id"].as_str().context("no id")?.to_owned())
}

/// Upload every part of `blob` (`sealed` is the whole blob) from
/// `concurrency` keep-alive connections; the seconds from the first `PUT`
/// to the last `200`.
async fn upload(addr: SocketAddr, id: &str, sealed: &Bytes, concurrency: usize) -> Result<f64> {
    let parts: Vec<Bytes> = (0..sealed.len())
        .step_by(BLOB_PART_LEN as usize)
        .map(|at| sealed.slice(at..(at + BLOB_PART_LEN as usize).min(sealed.len())))
        .collect();
    let parts = Arc::new(parts);
    let next = Arc::new(AtomicUsize::new(0));
    let mut conns = Vec::new();
    for _ in 0..concurrency {
        conns.push(connect(addr).await?);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for mut send in conns {
        let (parts, next, id) = (parts.clone(), next.clone(), id.to_owned());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(part) = parts.get(n) else { break };
                let (status, body) = request(
                    &mut send,
                    hyper::Request::put(format!("/api/v1/blobs/{id}/parts/{n}"))
                        .header("content-type", "application/octet-stream"),
                    part.clone(),
                )
                .await?;
                if status != 200 {
                    bail!(
                        "part {n} answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    // The last answer said complete; check the server agrees.
    let mut send = connect(addr).await?;
    let (status, body) = request(
        &mut send,
        hyper::Request::get(format!("/api/v1/blobs/{id}")),
        Bytes::new(),
    )
    .await?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    if status != 200 || v["complete"] != true {
        bail!("the upload is not complete after every part was acknowledged: {v}");
    }
    Ok(secs)
}

/// The disk's sequential write rate in MB/s on the file system of `dir`:
/// `data` written to a new file in part-sized writes, with an `fdatasync`
/// after each part if `sync_each_part`, and an `fsync` at the end either way.
fn disk_rate(dir: &Path, data: &[u8], sync_each_part: bool) -> Result<f64> {
    let path = dir.join("disk-ceiling.bin");
    let start = Instant::now();
    {
        let mut f = std::fs::File::create(&path)?;
        for part in data.chunks(BLOB_PART_LEN as usize) {
            f.write_all(part)?;
            if sync_each_part {
                f.sync_data()?;
            }
        }
        f.sync_all()?;
    }
    let secs = start.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(data.len() as f64 / 1e6 / secs)
}

/// The storage's own rate, without HTTP: the same parts through
/// `Storage::put_blob_part` one after the other on a fresh database (what
/// the route calls after reading the body), in MB/s.
async fn storage_rate(backend: Backend, dir: &Path, sealed: &Bytes) -> Result<f64> {
    use quietline::storage::{NewBlob, PartWrite};
    let (url, pg) = fresh(backend, dir, "storage").await?;
    let s = quietline::storage::open(&url).await?;
    s.add_force("demo", "Demo").await?;
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("rng: {e}"))?;
    s.create_blob(NewBlob {
        id,
        force_id: "demo".into(),
        sealed_len: sealed.len() as u64,
        day: quietline::day::today(),
        pow: None,
    })
    .await?;
    let start = Instant::now();
    for (n, part) in sealed.chunks(BLOB_PART_LEN as usize).enumerate() {
        match s
            .put_blob_part(id, u32::try_from(n)?, part.to_vec())
            .await?
        {
            PartWrite::Stored { .. } => {}
            other => bail!("part {n}: {other:?}"),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    s.close().await;
    if let Some(pg) = pg {
        pg.cleanup().await;
    }
    Ok(sealed.len() as f64 / 1e6 / secs)
}

/// The other design, "beside the database", as a prototype without HTTP:
/// each part written to its own file in the data directory (`fdatasync`,
/// renamed into place, the directory `fsync`ed) and then a row recording it
/// committed to the database (SQLite in WAL with `synchronous = FULL`, or
/// PostgreSQL with `synchronous_commit = on`, as the server runs them): the
/// least work that keeps the promise "durable before acknowledged" with the
/// octets outside the database. In MB/s.
async fn beside_rate(backend: Backend, dir: &Path, sealed: &Bytes) -> Result<f64> {
    use sqlx::Connection;
    let (url, pg) = fresh(backend, dir, "beside").await?;
    let parts_dir = dir.join("parts");
    std::fs::create_dir_all(&parts_dir)?;
    enum Db {
        Lite(sqlx::SqliteConnection),
        Pg(sqlx::PgConnection),
    }
    let mut db = match backend {
        Backend::Sqlite => {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            use std::str::FromStr;
            let opts = SqliteConnectOptions::from_str(&url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full);
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
            sqlx::query("CREATE TABLE part_files (blob_id BLOB NOT NULL, n INTEGER NOT NULL, len INTEGER NOT NULL, PRIMARY KEY (blob_id, n))").execute(&mut c).await?;
            Db::Lite(c)
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            sqlx::query("CREATE TABLE part_files (blob_id BYTEA NOT NULL, n INTEGER NOT NULL, len BIGINT NOT NULL, PRIMARY KEY (blob_id, n))").execute(&mut c).await?;
            sqlx::query("SET synchronous_commit = on")
                .execute(&mut c)
                .await?;
            Db::Pg(c)
        }
    };
    let id = [7u8; 16];
    let start = Instant::now();
    for (n, part) in sealed.chunks(BLOB_PART_LEN as usize).enumerate() {
        let tmp = parts_dir.join(format!("{n}.tmp"));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(part)?;
            f.sync_data()?;
        }
        std::fs::rename(&tmp, parts_dir.join(n.to_string()))?;
        std::fs::File::open(&parts_dir)?.sync_all()?;
        let (n, len) = (i64::try_from(n)?, i64::try_from(part.len())?);
        match &mut db {
            Db::Lite(c) => {
                sqlx::query("INSERT INTO part_files (blob_id, n, len) VALUES (?1, ?2, ?3)")
                    .bind(&id[..])
                    .bind(n)
                    .bind(len)
                    .execute(&mut *c)
                    .await?;
            }
            Db::Pg(c) => {
                sqlx::query("INSERT INTO part_files (blob_id, n, len) VALUES ($1, $2, $3)")
                    .bind(&id[..])
                    .bind(n)
                    .bind(len)
                    .execute(&mut *c)
                    .await?;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    match db {
        Db::Lite(c) => c.close().await?,
        Db::Pg(c) => c.close().await?,
    }
    if let Some(pg) = pg {
        pg.cleanup().await;
    }
    std::fs::remove_dir_all(&parts_dir)?;
    Ok(sealed.len() as f64 / 1e6 / secs)
}

pub(crate) async fn blobs(cli: &Cli) -> Result<()> {
    let padded = u64::from(cli.blob_mib) << 20;
    let size = stream::sealed_len(padded);
    if stream::padded_len_of(size) != Some(padded) {
        bail!("--blob-mib must be a power of two (a padding bucket)");
    }
    let dir = tempfile::tempdir()?;
    let mut sealed = vec![0u8; size as usize];
    getrandom::fill(&mut sealed).map_err(|e| anyhow::anyhow!("rng: {e}"))?;
    let sealed = Bytes::from(sealed);
    let mb = size as f64 / 1e6;

    println!("\n## Attachments: server ingest\n");
    println!(
        "One blob of the {} MiB bucket ({size} bytes sealed, {} parts of up to {BLOB_PART_LEN} bytes, random octets) \
         uploaded with `PUT /api/v1/blobs/{{id}}/parts/{{n}}` over keep-alive HTTP/1.1 connections from this process \
         to the in-process server on 127.0.0.1 (its own 2-thread runtime), each part committed durably before its 200; \
         the seconds run from the first PUT to the last 200 (the challenge, its solving and `POST /api/v1/blobs` are \
         not timed). Disk ceilings, measured just before each row on the same file system: the same octets written to \
         a file in part-sized writes with one fsync at the end (sequential), and with an fdatasync after every part \
         (the same durability, no database). A fresh database for each row; {} rounds, the best kept.\n",
        cli.blob_mib,
        quietline::storage::blob_part_count(size),
        cli.blob_rounds,
    );
    println!(
        "| backend | parts in flight | MB/s (best) | all rounds MB/s | disk sequential MB/s | disk fsync per part MB/s | ratio to sequential / per part |"
    );
    println!("|---|---|---|---|---|---|---|");
    let backends: &[Backend] = if cli.no_postgres {
        &[Backend::Sqlite]
    } else {
        &[Backend::Sqlite, Backend::Postgres]
    };
    for &backend in backends {
        for c in CONCURRENCY {
            let mut rounds = Vec::new();
            let (mut seq, mut per_part) = (0.0f64, 0.0f64);
            for round in 0..cli.blob_rounds {
                let data = dir.path().join(format!("{}-{c}-{round}", backend.name()));
                std::fs::create_dir_all(&data)?;
                seq = seq.max(disk_rate(&data, &sealed, false)?);
                per_part = per_part.max(disk_rate(&data, &sealed, true)?);
                let (url, pg) = fresh(backend, &data, "blobs").await?;
                let (srv, _pk) = server::quietline(&url, &data)?;
                let id = begin(srv.addr, size).await?;
                let secs = tokio::time::timeout(
                    Duration::from_secs(600),
                    upload(srv.addr, &id, &sealed, c),
                )
                .await
                .context("an upload took over 600 s")??;
                drop(srv);
                if let Some(pg) = pg {
                    pg.cleanup().await;
                }
                std::fs::remove_dir_all(&data)?;
                rounds.push(mb / secs);
            }
            let best = rounds.iter().copied().fold(0.0, f64::max);
            let all: Vec<String> = rounds.iter().map(|r| format!("{r:.0}")).collect();
            println!(
                "| {} | {c} | {best:.0} | {} | {seq:.0} | {per_part:.0} | {:.0}% / {:.0}% |",
                backend.name(),
                all.join(", "),
                100.0 * best / seq,
                100.0 * best / per_part,
            );
        }
    }

    println!(
        "\n### Parts in the database or beside it\n\n\
         The same octets, one part at a time, without HTTP ({} rounds, best kept): through the storage \
         interface as the server stores them (in the database), and as a prototype of the other design \
         (each part a file in the data directory: write, fdatasync, rename, fsync of the directory, then a \
         row recording it committed to the same database), with the disk's fsync-per-part rate measured \
         just before.\n",
        cli.blob_rounds
    );
    println!(
        "| backend | in the database (storage API) MB/s | beside it (files + row) MB/s | disk fsync per part MB/s |"
    );
    println!("|---|---|---|---|");
    for &backend in backends {
        let (mut inside, mut beside, mut per_part) = (0.0f64, 0.0f64, 0.0f64);
        for round in 0..cli.blob_rounds {
            let data = dir
                .path()
                .join(format!("{}-design-{round}", backend.name()));
            std::fs::create_dir_all(&data)?;
            per_part = per_part.max(disk_rate(&data, &sealed, true)?);
            inside = inside.max(storage_rate(backend, &data, &sealed).await?);
            beside = beside.max(beside_rate(backend, &data, &sealed).await?);
            std::fs::remove_dir_all(&data)?;
        }
        println!(
            "| {} | {inside:.0} | {beside:.0} | {per_part:.0} |",
            backend.name()
        );
    }
    Ok(())
}

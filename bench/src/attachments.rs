//! The console's attachment decrypt (issue 19, BENCHMARKS.md#attachments-issue-19):
//! MB/s of the library's read path against raw ChaCha20-Poly1305 over the
//! same sealed chunks in the same run (target ≥ 70%), and, for context, the
//! pull's check (decrypt plus the SHA-256 the payload names) and a whole
//! read back from a SQLite vault.
//!
//! Every round decrypts a fresh copy of the same sealed blob (copies are
//! made before the clock starts): the raw loop opens each 65,552-octet
//! chunk in place with the `chacha20poly1305` crate and the STREAM nonces;
//! the library's read path is `BlobOpener::for_stored` + `update_in_place`
//! over the same buffer, as `blobs::read_stored` does with each part it reads.

use std::time::Instant;

use anyhow::Result;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Tag};
use quietline_casework::attachments::{self, BlobOpener};
use quietline_casework::vault::{BLOB_PART_LEN, Vault};
use quietline_crypto::payload::AttachmentRef;
use quietline_crypto::stream::{self, CHUNK_LEN, SEALED_CHUNK_LEN, StreamKey};

/// The file decrypted: 64 MiB (a phone video), 1024 chunks.
const FILE_LEN: usize = 64 << 20;
const ROUNDS: usize = 3;

fn mib_s(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / (1 << 20) as f64 / secs
}

pub(crate) fn attachments_bench(rt: &tokio::runtime::Runtime) -> Result<()> {
    use base64::Engine;
    use sha2::Digest;
    println!("\n## Attachments: the console's decrypt\n");
    let key = [9u8; 32];
    let file: Vec<u8> = (0..FILE_LEN)
        .map(|i| (i.wrapping_mul(31) >> 3) as u8)
        .collect();
    let sealed = stream::seal(&StreamKey::from_bytes(key), &file)?;
    let entry = AttachmentRef {
        id: "00112233445566778899aabbccddeeff".into(),
        key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key),
        size: file.len() as u64,
        padded_size: stream::bucket_for(file.len() as u64)?,
        media_type: "video/mp4".into(),
        sha256_original: hex::encode(sha2::Sha256::digest(&file)),
        sha256_sent: hex::encode(sha2::Sha256::digest(&file)),
        metadata_found: vec![],
        metadata_removed: vec![],
    };
    let a = attachments::decode(&entry).map_err(|e| anyhow::anyhow!("{e}"))?;
    let cipher = ChaCha20Poly1305::new_from_slice(&key).expect("32-byte key");
    let chunks = sealed.len() / SEALED_CHUNK_LEN;

    let raw = |buf: &mut Vec<u8>| -> f64 {
        let t = Instant::now();
        for (i, c) in buf.chunks_mut(SEALED_CHUNK_LEN).enumerate() {
            let (body, tag) = c.split_at_mut(CHUNK_LEN);
            let tag = Tag::try_from(&tag[..]).expect("tag");
            let nonce = stream::nonce(i as u64, i + 1 == chunks);
            cipher
                .decrypt_inout_detached(&nonce.into(), &[], body.into(), &tag)
                .expect("authentic");
            std::hint::black_box(&body[0]);
        }
        mib_s(FILE_LEN, t.elapsed().as_secs_f64())
    };
    let read_path = |buf: &mut Vec<u8>| -> f64 {
        let t = Instant::now();
        let mut o = BlobOpener::for_stored(&a).expect("sizes");
        let mut n = 0usize;
        o.update_in_place(buf, &mut |real| n += real.len())
            .expect("authentic");
        o.finish().expect("whole");
        assert_eq!(n, FILE_LEN);
        mib_s(FILE_LEN, t.elapsed().as_secs_f64())
    };
    let pull_check = |buf: &mut Vec<u8>| -> f64 {
        let t = Instant::now();
        let mut o = BlobOpener::new(&a).expect("sizes");
        o.update_in_place(buf, &mut |real| {
            std::hint::black_box(real.len());
        })
        .expect("authentic");
        o.finish().expect("whole and the payload's SHA-256");
        mib_s(FILE_LEN, t.elapsed().as_secs_f64())
    };
    let (mut best_raw, mut best_read, mut best_pull) = (0f64, 0f64, 0f64);
    let mut buf = sealed.clone();
    for _ in 0..ROUNDS {
        buf.copy_from_slice(&sealed);
        best_raw = best_raw.max(raw(&mut buf));
        buf.copy_from_slice(&sealed);
        best_read = best_read.max(read_path(&mut buf));
        buf.copy_from_slice(&sealed);
        best_pull = best_pull.max(pull_check(&mut buf));
    }

    // A whole read back from a SQLite vault, as `attachment save` does.
    let dir = tempfile::tempdir()?;
    let vault_read = rt.block_on(async {
        let vault = Vault::open(&dir.path().join("vault.sqlite")).await?;
        let rid = "0".repeat(32);
        for (n, part) in sealed.chunks(BLOB_PART_LEN).enumerate() {
            vault.put_blob_part(&rid, 0, n as u32, part).await?;
        }
        let mut best = 0f64;
        for _ in 0..ROUNDS {
            let t = Instant::now();
            let mut n = 0usize;
            quietline_casework::blobs::read_stored(&vault, &rid, 0, &a, &mut |real| {
                n += real.len();
                Ok(())
            })
            .await?;
            assert_eq!(n, FILE_LEN);
            best = best.max(mib_s(FILE_LEN, t.elapsed().as_secs_f64()));
        }
        vault.close().await;
        anyhow::Ok(best)
    })?;

    println!(
        "A {} MiB file sealed once (STREAM, {} chunks of 64 KiB), one thread, best of {ROUNDS} interleaved rounds, each over a fresh copy of the sealed blob.\n",
        FILE_LEN >> 20,
        chunks
    );
    println!("| what | MiB/s | raw ChaCha20-Poly1305 decrypt in the same run | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| the console's read path (`BlobOpener::for_stored` + `update_in_place`: every chunk authenticated at its place, padding checked, in place) | {best_read:.0} | {best_raw:.0} | {:.0}% | ≥ 70% |",
        100.0 * best_read / best_raw
    );
    println!(
        "| the pull's check (the same, plus SHA-256 of the file against the payload's `sha256_sent`) | {best_pull:.0} | {best_raw:.0} | {:.0}% | (context) |",
        100.0 * best_pull / best_raw
    );
    println!(
        "| `blobs::read_stored` from a SQLite vault (1 MiB parts read, opened in place, erased) | {vault_read:.0} | {best_raw:.0} | {:.0}% | (context) |",
        100.0 * vault_read / best_raw
    );
    Ok(())
}

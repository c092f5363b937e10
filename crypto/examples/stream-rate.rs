//! Attachment stream rate (FORMAT.md#attachments), one thread: sealing and
//! opening a 64 MiB file with `stream::seal` / `stream::open` (what the
//! console's pull does per attachment), against raw ChaCha20-Poly1305 over
//! the same 64 KiB chunks in the same run (the ceiling: the stream adds only
//! nonces, padding checks and copies), plus SHA-256 of the file (the pull's
//! check against the payload).
//! Run: `cargo run --release -p quietline-crypto --example stream-rate`.
#![forbid(unsafe_code)]

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use quietline_crypto::stream::{self, StreamKey};
use sha2::{Digest, Sha256};
use std::time::Instant;

const MIB: f64 = 1024.0 * 1024.0;

fn main() {
    let len = 64 << 20;
    let file: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let key = StreamKey::from_bytes([7; 32]);
    let rounds = 3;
    let (mut seal_s, mut open_s, mut raw_enc_s, mut raw_dec_s, mut sha_s) =
        (f64::MAX, f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    let mut streamed_s = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        let sealed = stream::seal(&key, &file).unwrap();
        seal_s = seal_s.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let opened = stream::open(&key, len as u64, len as u64, &sealed).unwrap();
        open_s = open_s.min(t.elapsed().as_secs_f64());
        assert_eq!(opened.len(), len);
        // Streamed, as a reader that verifies chunk by chunk into one reused
        // buffer (and hashes or writes each chunk) does: no whole-file output.
        let t = Instant::now();
        let mut dec = stream::Decryptor::new(&key, len as u64, len as u64).unwrap();
        let mut buf = vec![0u8; stream::SEALED_CHUNK_LEN];
        let mut hasher = Sha256::new();
        for chunk in sealed.chunks(stream::SEALED_CHUNK_LEN) {
            buf.copy_from_slice(chunk);
            hasher.update(dec.open_next(&mut buf).unwrap());
        }
        dec.finish().unwrap();
        std::hint::black_box(hasher.finalize());
        streamed_s = streamed_s.min(t.elapsed().as_secs_f64());
        // Raw: the same chunks, nonces and key, in place, no stream bookkeeping.
        let aead = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&[7; 32]).unwrap();
        let mut buf = file.clone();
        let n = len / stream::CHUNK_LEN;
        let mut tags = Vec::with_capacity(n);
        let t = Instant::now();
        for (i, chunk) in buf.chunks_mut(stream::CHUNK_LEN).enumerate() {
            let nonce = stream::nonce(i as u64, i + 1 == n);
            tags.push(
                aead.encrypt_inout_detached(&nonce.into(), &[], chunk.into())
                    .unwrap(),
            );
        }
        raw_enc_s = raw_enc_s.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for (i, chunk) in buf.chunks_mut(stream::CHUNK_LEN).enumerate() {
            let nonce = stream::nonce(i as u64, i + 1 == n);
            aead.decrypt_inout_detached(&nonce.into(), &[], chunk.into(), &tags[i])
                .unwrap();
        }
        raw_dec_s = raw_dec_s.min(t.elapsed().as_secs_f64());
        assert!(buf == file);
        let t = Instant::now();
        std::hint::black_box(Sha256::digest(&opened));
        sha_s = sha_s.min(t.elapsed().as_secs_f64());
    }
    let mb = len as f64 / MIB;
    let rate = |s: f64| mb / s;
    println!("64 MiB file, best of {rounds}, one thread:");
    println!("| step | MiB/s | of raw ChaCha20-Poly1305 |");
    println!("|---|---|---|");
    println!(
        "| raw ChaCha20-Poly1305 encrypt (ceiling) | {:.0} | 100% |",
        rate(raw_enc_s)
    );
    println!(
        "| stream::seal | {:.0} | {:.0}% |",
        rate(seal_s),
        100.0 * raw_enc_s / seal_s
    );
    println!(
        "| raw ChaCha20-Poly1305 decrypt (ceiling) | {:.0} | 100% |",
        rate(raw_dec_s)
    );
    println!(
        "| stream::open (the console's decrypt) | {:.0} | {:.0}% |",
        rate(open_s),
        100.0 * raw_dec_s / open_s
    );
    println!(
        "| Decryptor chunk by chunk, one reused buffer, + SHA-256 | {:.0} | {:.0}% |",
        rate(streamed_s),
        100.0 * raw_dec_s / streamed_s
    );
    println!("| SHA-256 of the file | {:.0} | |", rate(sha_s));
}

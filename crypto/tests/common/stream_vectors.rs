//! The attachment-stream vectors of FORMAT.md#attachment-vectors
//! (`stream-v1.json`), built from fixed inputs: keys of a fixed pattern and
//! files whose octet `i` is `i mod 251`.

use quietline_crypto::stream::{self, StreamKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::vectors::pattern;

/// File octets of the vectors: octet `i` is `i mod 251`.
pub fn file(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// (name, key seed, length) of each positive case.
pub const CASES: [(&str, u8, usize); 6] = [
    ("empty file: one chunk of padding", 1, 0),
    ("1000-byte file in the 64 KiB bucket", 2, 1000),
    ("65536-byte file fills one chunk", 3, 65536),
    ("65537-byte file moves to the 128 KiB bucket", 4, 65537),
    (
        "140000-byte file: four chunks, the last of padding only",
        5,
        140_000,
    ),
    ("the same 140000-byte file under another key", 6, 140_000),
];

/// The key of case `seed`.
pub fn key(seed: u8) -> StreamKey {
    StreamKey::from_bytes(pattern(seed, 32).try_into().unwrap())
}

/// The vectors.
pub fn stream_vectors() -> Value {
    let cases: Vec<Value> = CASES
        .iter()
        .map(|&(name, seed, len)| {
            let sealed = stream::seal(&key(seed), &file(len)).unwrap();
            let padded = stream::bucket_for(len as u64).unwrap();
            let chunks = sealed.len() / stream::SEALED_CHUNK_LEN;
            let nonces: Vec<String> = (0..chunks)
                .map(|i| hex::encode(stream::nonce(i as u64, i + 1 == chunks)))
                .collect();
            let tags: Vec<String> = sealed
                .chunks(stream::SEALED_CHUNK_LEN)
                .map(|c| hex::encode(&c[stream::CHUNK_LEN..]))
                .collect();
            json!({
                "name": name,
                "key": hex::encode(pattern(seed, 32)),
                "length": len,
                "padded_size": padded,
                "sealed_length": sealed.len(),
                "chunks": chunks,
                "nonces": nonces,
                "tags": tags,
                "sealed_head": hex::encode(&sealed[..48]),
                "sealed_sha256": hex::encode(Sha256::digest(&sealed)),
            })
        })
        .collect();
    // Each refusal starts from positive case `case`, applies `ops` in order
    // to its sealed octets, then opens the result with the case's key and
    // `length` / `padded_size` (the case's own when absent).
    let refusals = json!([
        {"name": "last chunk dropped", "case": 4, "ops": [{"op": "truncate_chunks", "keep": 3}], "error": "bad_length"},
        {"name": "middle chunk dropped", "case": 4, "ops": [{"op": "drop_chunk", "index": 1}], "error": "bad_length"},
        {"name": "cut inside a chunk", "case": 3, "ops": [{"op": "truncate_bytes", "keep": 100_000}], "error": "bad_length"},
        {"name": "a chunk appended (the last one again)", "case": 4, "ops": [{"op": "append_copy", "index": 3}], "error": "bad_length"},
        {"name": "chunks 1 and 2 swapped", "case": 4, "ops": [{"op": "swap", "a": 1, "b": 2}], "error": "chunk_failed", "chunk": 1},
        {"name": "first and last chunks swapped", "case": 3, "ops": [{"op": "swap", "a": 0, "b": 1}], "error": "chunk_failed", "chunk": 0},
        {"name": "chunk 1 repeated in place of chunk 2", "case": 4, "ops": [{"op": "copy", "from": 1, "to": 2}], "error": "chunk_failed", "chunk": 2},
        {"name": "chunk 2 from another attachment (same position, other key)", "case": 4, "ops": [{"op": "foreign", "index": 2, "from_case": 5}], "error": "chunk_failed", "chunk": 2},
        {"name": "first chunk alone presented as a whole one-chunk stream (no last flag)", "case": 3, "ops": [{"op": "truncate_chunks", "keep": 1}], "length": 65536, "padded_size": 65536, "error": "chunk_failed", "chunk": 0},
        {"name": "bit flipped in chunk 0's ciphertext", "case": 1, "ops": [{"op": "flip", "offset": 10, "mask": 1}], "error": "chunk_failed", "chunk": 0},
        {"name": "bit flipped in the last chunk's tag", "case": 4, "ops": [{"op": "flip", "offset": 4 * 65552 - 1, "mask": 128}], "error": "chunk_failed", "chunk": 3},
        {"name": "a real length shorter than the file: file octets read as padding", "case": 1, "ops": [], "length": 999, "error": "nonzero_padding"},
        {"name": "padded size not a bucket", "case": 4, "ops": [], "padded_size": 196_608, "error": "bad_sizes"},
        {"name": "real length beyond the padded size", "case": 1, "ops": [], "length": 65537, "error": "bad_sizes"},
        {"name": "padded size of a larger bucket than the blob", "case": 1, "ops": [], "padded_size": 131_072, "error": "bad_length"}
    ]);
    json!({
        "description": "Quietline attachment streams (crypto/FORMAT.md#attachments): age's STREAM over ChaCha20-Poly1305, 64 KiB chunks, nonce = 11-byte big-endian chunk counter || last-chunk flag, empty AAD, zero padding to a power-of-two bucket from 64 KiB. File octet i is i mod 251.",
        "chunk_size": stream::CHUNK_LEN,
        "cases": cases,
        "refusals": refusals,
    })
}

/// Apply a refusal's `ops` to `sealed`.
pub fn apply_ops(sealed: &mut Vec<u8>, ops: &Value, other: impl Fn(usize) -> Vec<u8>) {
    const C: usize = stream::SEALED_CHUNK_LEN;
    let n = |v: &Value, k: &str| v[k].as_u64().unwrap() as usize;
    for op in ops.as_array().unwrap() {
        match op["op"].as_str().unwrap() {
            "truncate_chunks" => sealed.truncate(n(op, "keep") * C),
            "truncate_bytes" => sealed.truncate(n(op, "keep")),
            "drop_chunk" => {
                let i = n(op, "index");
                sealed.drain(i * C..(i + 1) * C);
            }
            "append_copy" => {
                let i = n(op, "index");
                let c = sealed[i * C..(i + 1) * C].to_vec();
                sealed.extend_from_slice(&c);
            }
            "swap" => {
                let (a, b) = (n(op, "a"), n(op, "b"));
                let ca = sealed[a * C..(a + 1) * C].to_vec();
                let cb = sealed[b * C..(b + 1) * C].to_vec();
                sealed[a * C..(a + 1) * C].copy_from_slice(&cb);
                sealed[b * C..(b + 1) * C].copy_from_slice(&ca);
            }
            "copy" => {
                let (f, t) = (n(op, "from"), n(op, "to"));
                let c = sealed[f * C..(f + 1) * C].to_vec();
                sealed[t * C..(t + 1) * C].copy_from_slice(&c);
            }
            "foreign" => {
                let i = n(op, "index");
                let o = other(n(op, "from_case"));
                sealed[i * C..(i + 1) * C].copy_from_slice(&o[i * C..(i + 1) * C]);
            }
            "flip" => sealed[n(op, "offset")] ^= n(op, "mask") as u8,
            other => panic!("unknown op {other}"),
        }
    }
}

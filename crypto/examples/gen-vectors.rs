//! Writes `crypto/tests/vectors/envelope-v1.json` and `reply-code-v1.json`
//! from the fixed inputs in `tests/common/vectors.rs`.
//! Run: `cargo run -p quietline-crypto --example gen-vectors`.
#![forbid(unsafe_code)]

#[path = "../tests/common/copy_vectors.rs"]
mod copy_vectors;
#[path = "../tests/common/fixed_rng.rs"]
mod fixed_rng;
#[path = "../tests/common/keylog_vectors.rs"]
mod keylog_vectors;
#[path = "../tests/common/statement_vectors.rs"]
mod statement_vectors;
#[path = "../tests/common/stream_vectors.rs"]
#[allow(dead_code)] // the ops are the tests' own
mod stream_vectors;
#[path = "../tests/common/transfer_vectors.rs"]
mod transfer_vectors;
#[path = "../tests/common/vectors.rs"]
mod vectors;
#[path = "../tests/common/xwing_vectors.rs"]
mod xwing_vectors;

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    std::fs::write(
        dir.join("envelope-v1.json"),
        vectors::render(&vectors::envelope_vectors()),
    )?;
    std::fs::write(
        dir.join("reply-code-v1.json"),
        vectors::render(&vectors::reply_code_vectors()),
    )?;
    std::fs::write(
        dir.join("keyfile-v1.json"),
        vectors::render(&vectors::keyfile_vectors()),
    )?;
    std::fs::write(
        dir.join("pow-v1.json"),
        vectors::render(&vectors::pow_vectors()),
    )?;
    std::fs::write(
        dir.join("envelope-xwing-v1.json"),
        vectors::render(&xwing_vectors::envelope_vectors()),
    )?;
    std::fs::write(
        dir.join("copy-v1.json"),
        vectors::render(&copy_vectors::copy_vectors()),
    )?;
    std::fs::write(
        dir.join("statement-v1.json"),
        vectors::render(&statement_vectors::statement_vectors()),
    )?;
    std::fs::write(
        dir.join("keylog-v1.json"),
        vectors::render(&keylog_vectors::keylog_vectors()),
    )?;
    std::fs::write(
        dir.join("stream-v1.json"),
        vectors::render(&stream_vectors::stream_vectors()),
    )?;
    std::fs::write(
        dir.join("transfer-v1.json"),
        vectors::render(&transfer_vectors::transfer_vectors()),
    )?;
    println!("wrote {}", dir.display());
    Ok(())
}

//! `quietline-bench` as a library: what the desk benchmarks (and anything
//! else that needs a large, realistic force vault) call. The benchmarks
//! themselves are the binary (`src/main.rs`).
//!
//! - [`generate`]: a console home with a vault of N reports (default 100,000),
//!   sealed to a generated key, written through the casework library.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod desk;
pub mod generate;

//! Shared by the crypto crate's integration tests and the vector generator.
#![allow(dead_code)]
pub mod copy_vectors;
pub mod fixed_rng;
pub mod keylog_vectors;
pub mod statement_vectors;
pub mod stream_vectors;
pub mod transfer_vectors;
pub mod vectors;
pub mod xwing_vectors;

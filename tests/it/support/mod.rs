//! Helpers of the server's integration tests. What the console's tests and the
//! bench also use lives once in the test kit (`testkit/`, crate
//! `quietline-testkit`) and is re-exported here under its old paths; what
//! only these tests need stays here: the `quietline` binary (`server.rs`),
//! storage faults made real (`faults.rs`: a
//! small tmpfs, a throwaway PostgreSQL cluster, a storage that fails on
//! purpose).
#![allow(dead_code)]

pub mod faults;
pub mod server;

pub use quietline_testkit::pg;

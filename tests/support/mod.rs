//! Shared helpers for the integration tests: PostgreSQL test databases
//! (`pg.rs`), a real server on 127.0.0.1:0 and proof of work against it
//! (`server.rs`), node and Chromium (`node.rs`), and storage faults made
//! real (`faults.rs`: a small tmpfs, a throwaway PostgreSQL cluster, a storage
//! that fails on purpose).
#![allow(dead_code)]

pub mod faults;
pub mod node;
pub mod pg;
pub mod server;

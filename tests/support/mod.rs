//! Shared helpers for the integration tests: PostgreSQL test databases
//! (`pg.rs`), a real server on 127.0.0.1:0 (`server.rs`) and proof of work
//! against a server that may be stopping (`pow.rs`).
#![allow(dead_code)]

pub mod node;
pub mod pg;
pub mod pow;
pub mod server;

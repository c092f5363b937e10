//! Shared helpers for the integration tests: PostgreSQL test databases
//! (`pg.rs`), a real server on 127.0.0.1:0 and proof of work against it
//! (`server.rs`), node and Chromium (`node.rs`).
#![allow(dead_code)]

pub mod node;
pub mod pg;
pub mod server;

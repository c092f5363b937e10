//! Shared helpers for the integration tests: PostgreSQL test databases
//! (`pg.rs`) and a real server on 127.0.0.1:0 (`server.rs`).
#![allow(dead_code)]

pub mod node;
pub mod pg;
pub mod server;

//! `quietline`: the intake server that many police forces share.
//!
//! It stores opaque sealed envelopes (format v1, `crypto/FORMAT.md`), hands each
//! force its own reports, and keeps one-time reply slots. It checks envelope
//! *shape* only: it never holds a force's private key and never decrypts.
//! It remembers nothing identifying about who sent what: no peer address, user
//! agent, header, cookie, query string, body, precise time or arrival order —
//! not in the database, not in a log line, an error or a panic message.
//!
//! Modules:
//! - [`storage`]: the one storage interface (SQLite by default, PostgreSQL to
//!   scale out); what is stored and how it is made durable.
//! - [`config`]: settings from flags, `QUIETLINE_*` environment and a TOML file.
//! - [`http`]: the HTTP API v1, security headers, request logging, [`run`].
//! - [`admin`]: the operator's commands (forces, keys, tokens, purge), which work
//!   on the database directly: there is no HTTP admin surface.
//! - [`demo`]: `serve --demo`, a demo force whose key the console can load.
//! - [`pow`]: proof of work on submissions: challenges, checks, difficulty.
//! - [`day`]: the UTC calendar day, the finest time the server ever keeps.
//! - [`assets`]: the reporter page's files (built from `web/` by `build.rs`),
//!   embedded, with their SHA-256.
#![forbid(unsafe_code)]

pub mod admin;
pub mod assets;
pub mod config;
pub mod day;
pub mod demo;
pub mod http;
pub mod pow;
pub mod storage;

pub use http::{ServerSettings, run};

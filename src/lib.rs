//! `quietline`: the intake server that many police forces share.
//!
//! It stores opaque sealed envelopes (format v1, `crypto/FORMAT.md`), hands each
//! force its own reports, and keeps one-time reply slots. It checks envelope
//! *shape* only: it never holds a force's private key and never decrypts.
//! It remembers nothing identifying about who sent what: no peer address, user
//! agent, header, cookie, query string, body, precise time or arrival order —
//! not in the database, not in a log line, an error or a panic message.
//!
//! Modules, from the top layer down (a module imports only modules below it;
//! the import graph is in `ARCHITECTURE.md` and checked by a unit test):
//!
//! - [`server`]: [`run`] — the accept loop, graceful shutdown, and the
//!   background loops (retention purge and settling closed days, the
//!   proof-of-work controller, forgetting spent challenges).
//! - [`http`]: the HTTP API v1 and the page's routes, middleware (security
//!   headers, request logging, timeout, panic catcher) and the mapping of
//!   errors to statuses.
//! - [`demo`]: `serve --demo`, a demo force whose key the console can load.
//! - [`intake`]: the rules a report passes: check order, claim and release of
//!   its proof-of-work challenge, id minting, the accepted-key cache.
//! - [`admin`]: the operator's commands (forces, keys, tokens, purge), which work
//!   on the database directly: there is no HTTP admin surface.
//! - [`config`]: settings from flags, `QUIETLINE_*` environment and a TOML
//!   file, and [`ServerSettings`] with its defaults.
//! - [`pow`]: proof of work on submissions: challenges, checks, difficulty.
//! - [`tokens`]: a handler token's shape and the hash the database keeps.
//! - [`storage`]: the one storage interface (SQLite by default, PostgreSQL to
//!   scale out); what is stored and how it is made durable.
//! - [`day`]: the UTC calendar day, the finest time the server ever keeps,
//!   and the server's clock.
//! - [`assets`]: the reporter page's files (built from `web/` by `build.rs`),
//!   embedded, with their SHA-256.
#![forbid(unsafe_code)]

pub mod admin;
pub mod assets;
pub mod config;
pub mod day;
pub mod demo;
pub mod http;
pub mod intake;
pub mod keylog;
pub mod pow;
pub mod server;
pub mod storage;
pub mod tokens;

#[cfg(test)]
mod import_graph;

pub use config::ServerSettings;
pub use server::run;

//! `quietline-casework`: the library of the console that runs inside a force
//! (the issue calls it "the quietline-console library"; it is its own crate so
//! that the command line, `console/`, and the desk's web layer, `desk/`, can
//! both depend on it without a package cycle). It is the only Quietline
//! library that holds private keys and opens envelopes.
//!
//! This crate owns the console's I/O around the pure `quietline-crypto` core:
//! the home directory and config ([`home`]), key files ([`keystore`]) and the
//! key ring ([`keyring`]), the force's vault ([`vault`]: a SQLite file, or one
//! PostgreSQL database shared by several desks and CLIs, behind one
//! interface; everything a reporter or handler wrote stays sealed in it), talking to the server
//! ([`client`]), checking its directory against our key ([`directory`]), pulling ([`pull`]; attachments' blobs: [`blobs`]), reading threads ([`thread`]), the
//! handler's sealed records ([`records`]), replies ([`reply`]), output
//! ([`render`], [`export`], [`text`], the report's fixed values in words: [`labels`]; an attachment's hidden metadata: [`metadata`]), the audit chain ([`audit`]), the desk's
//! accounts ([`accounts`]: Argon2id passwords, TOTP, throttling, the CLI's
//! account commands) and sessions' validity ([`session`]); and the
//! [`desk::Desk`], the one type front ends read and change cases through
//! (audit before reveal: see `README.md`). It does not define any wire
//! format: that is `crypto/FORMAT.md`. The command line is `console/`, the
//! desk's web layer `desk/`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod blobs;
pub mod client;
pub mod clock;
pub mod desk;
pub mod directory;
pub mod export;
pub mod home;
pub mod intel;
pub mod keyring;
pub mod keystore;
pub mod labels;
pub mod metadata;
pub mod pull;
pub mod records;
pub mod refusal;
pub mod render;
pub mod reply;
pub mod session;
pub mod text;
pub mod thread;
pub mod vault;
pub mod watch;

//! Quietline's test kit: the helpers the server's integration tests
//! (`tests/it/`), the console's (`console/tests/it/`), the desk's
//! (`desk/tests/it/`) and the bench
//! (`bench/`) share, in one copy. Dev-only, never published, never a
//! dependency of a shipped crate.
//!
//! - [`pg`]: a fresh PostgreSQL database per test (dropped with it), the
//!   SQLite URL of a file in a temporary directory.
//! - [`server`]: a real server in-process on 127.0.0.1:0 ([`server::TestServer`]),
//!   test settings (stopped clock, proof of work at 2^8), forces, keys and
//!   tokens behind the API's back, [`server::inbox_ids`], and the
//!   [`on_both_backends!`] macro.
//! - [`blobs`]: seal an attachment and upload its blob as the page does.
//! - [`blocking`]: the same server on its own runtime, for code without one.
//! - [`pow`]: fetch a challenge and solve it over an envelope.
//! - [`raw`]: one HTTP/1.1 exchange over a bare TCP stream.
//! - [`process`]: server binaries and commands, output captured.
//! - [`payloads`]: the reporter's report and follow-up payloads.
//! - [`node`]: Node.js and Chromium for the page's and the desk's browser
//!   tests (skip outside CI, fail with `CI=true`; bounded process groups).
#![forbid(unsafe_code)]

pub mod blobs;
pub mod blocking;
pub mod node;
pub mod payloads;
pub mod pg;
pub mod pow;
pub mod process;
pub mod raw;
pub mod server;

//! The console's integration tests, as ONE test binary (`cargo test -p
//! quietline-console --test it`): one link of the console's and the
//! server's dependencies instead of one per file. Each area is a module; a
//! test's full name is `<area>::<test>` (e.g. `e2e::…`), so
//! `cargo test -p quietline-console --test it audit::` runs one area.
//!
//! Adding tests: put them in the area's file, or add
//! `console/tests/it/<area>.rs` and list it below. The in-process server and
//! proof of work come from the test kit (`testkit/`); `support/` holds the
//! console's own helpers.
//!
//! All tests of the crate share this process: tests change nothing
//! process-wide (environment variables are set on the child commands only).
//! `pull_memory` is `#[ignore]`d and run by name, alone.

mod support;

mod account;
mod attachments;
mod audit;
mod cli;
mod e2e;
mod errors;
mod hostile;
mod intel;
mod intel_attachments;
mod keylog;
mod node_page;
mod pq;
mod privacy;
mod pull_memory;
mod terminal;
mod unavailable;
mod vault_url;

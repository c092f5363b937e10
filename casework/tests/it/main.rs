//! quietline-casework's one integration-test binary. Each area is a module;
//! shared helpers are in `support/` and the workspace test kit (`testkit/`).
//! Tests that touch PostgreSQL have `postgres` in their name (CI counts them).

mod blobs;
mod client_keylog;
mod support;
mod vault;
mod watch;

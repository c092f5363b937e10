//! The server's integration tests, as ONE test binary (`cargo test -p
//! quietline --test it`): one link of sqlx, axum and the library instead of
//! one per file. Each area is a module; a test's full name is
//! `<area>::<test>` (e.g. `api::report_round_trip::postgres`,
//! `browser::browser_report_reply_and_follow_up_end_to_end`), so
//! `cargo test -p quietline --test it api::` runs one area and
//! `cargo test -p quietline --test it postgres` every PostgreSQL test.
//!
//! Adding tests: put them in the area's file, or add `tests/it/<area>.rs`
//! and list it below. Shared helpers: `support/` (server-only) and the test
//! kit (`testkit/`, for what the console's tests or the bench use too).
//!
//! All tests of the crate share this process: nothing here may set
//! environment variables, change the current directory or install a
//! global log subscriber except through `support::faults::captured_log`
//! (installed once, for all). Tests that must run alone are `#[ignore]`d and
//! run by name.

mod support;

mod admin;
mod api;
mod blobs;
mod browser;
mod browser_attachments;
mod browser_firefox;
mod browser_keycheck;
mod browser_pq;
mod copies;
mod crash;
mod faults;
mod fuzz_http;
mod fuzz_parsers;
mod headers;
mod isolation;
mod keylog;
mod metadata;
mod no_decrypt;
mod page_metadata;
mod pow;
mod pq;
mod restart;
mod scale_out;
mod storage;
mod verify_page;
mod web_js;

//! The desk's integration tests, as ONE test binary (`cargo test -p
//! quietline-desk --test it`). Each test starts a real desk in-process on
//! 127.0.0.1:0 (bound first, then served) over a SQLite vault in a temporary
//! home with a real key ring, and talks to it over HTTP with reqwest (no
//! redirects followed, cookies kept by hand so every Set-Cookie is checked).
//! The desk's clock is a set clock the tests move: no sleeps.
//!
//! Areas: `access` (sessions, CSRF, throttling, enrolment, custody),
//! `browser` (`browser_*`: Debian Chromium through playwright-core), `work`
//! (the queue, case, reply, export, bulk and supervisors' pages against a
//! real intake server in-process), `browser_desk` (`browser_desk_*`: the work
//! pages in Debian Chromium, scripts in `desk/e2e/work*.mjs`), `intel` (grading,
//! triage and response targets, issue 17), `transfer` (passing a case to
//! another force, issue 17), `watch` (the key alarm's banner and its
//! acknowledgement, issue 20), `attachments` (a case's attachments: the page,
//! the image route's session, headers and audit; issue 19), `intel_attachments`
//! (attachments a handler chooses for the sanitised report, issue 19).

mod support;

mod access;
mod attachments;
mod browser;
mod browser_desk;
mod intel;
mod intel_attachments;
mod transfer;
mod watch;
mod work;

//! The commands, one file per area: `keys` (init and the key ring), `login`,
//! `cases` (pull, list, show, reply, status, note, assign, label, export: through the
//! library's `Desk`), `audit` (print and verify), `account` (the desk's
//! accounts), `desk` (starts the force desk), `intel` (grading, triage, sanitised
//! reports, retention review, deletion and disclosure: issue 17), `transfer`
//! (passing a case to another force, issue 17), `attachments` (list and save a
//! case's attachments, issue 19). Each parses nothing (that
//! is `main.rs`), decides nothing the library decides, and prints.

pub mod account;
pub mod attachments;
pub mod audit;
pub mod cases;
pub mod desk;
pub mod intel;
pub mod keys;
pub mod login;
pub mod transfer;

//! `quietline-console`: the decryption console that runs inside a force. It is
//! the only Quietline component that holds private keys and opens envelopes.
//!
//! This crate owns the console's I/O around the pure `quietline-crypto` core:
//! key files on disk ([`keystore`]), and (as issue 5 lands) the vault, pull,
//! reply and audit. It does not define any wire format: that is
//! `crypto/FORMAT.md`.
#![forbid(unsafe_code)]

pub mod keystore;

//! Checking the server's public directory (`GET /api/v1/forces`) against the
//! console's own key: every time the console reads the directory, the key
//! served for its force must be its own current key, by key id AND public key.
//!
//! Reporters seal to whatever key the directory serves. A server (or its
//! database, or its operator) that publishes another key for the force reads
//! every report sealed from then on, and the force would never notice: this
//! is where it notices. It owns the comparison and the words of the alarm; it
//! does not fetch the directory ([`crate::client`]), write the audit entry or
//! choose the exit code (the binary does both).
//!
//! With signed keys (crypto/FORMAT.md#key-statements), [`check_statement`]
//! goes further: the served key must come with the force's own statement,
//! signed by its signing keys, for exactly that key, valid today. The pull
//! calls it (`desk::pull::check_directory_with`) whenever the home has
//! signing keys and the directory serves a statement; the key log's half of
//! the watch is [`crate::watch`].
//!
//! One exception, for key rotation: after `key rotate` the new key is current
//! in the console before the platform operator has registered it, and until
//! then the directory still serves the previous key — which this console
//! holds. While the config names that previous key (`previous_key`), serving
//! it is a warning, not an alarm; once the directory serves the current key,
//! the exception ends (the binary clears `previous_key`).

use quietline_crypto::keys::PublicKey;
use quietline_crypto::statement::{KeyStatement, SignedStatement, SignerSet};

use crate::client::DirectoryEntry;
use crate::text::clean_line;

/// What the directory served for the force, when it is acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// The console's current key.
    Current(DirectoryEntry),
    /// The key before it, while a rotation is not yet registered on the platform.
    Previous(DirectoryEntry),
}

/// The directory does not serve this console's current key for its force.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "KEY SUBSTITUTION: the server at {server} {got}, but this console's current key for force {force} is key id {expected_id}. Reporters who use this server now seal their reports to a key this console does not hold: whoever holds it can read them. Stop and tell your security lead and the platform operator; ask the operator for `quietline force key list {force}`. If your force rotated its key on another console, import that key file with `quietline-console key import FILE --current`"
)]
pub struct KeySubstitution {
    /// The server's base URL.
    pub server: String,
    /// The force.
    pub force: String,
    /// The console's current key id.
    pub expected_id: String,
    /// The console's current public key (base64url).
    pub expected_pk: String,
    /// What was served: (key id, public key), cleaned; `None` when the force is missing.
    pub served: Option<(String, String)>,
    got: String,
}

impl KeySubstitution {
    /// The audit entry's detail: what was expected and what was served (public values only).
    pub fn audit_detail(&self) -> String {
        match &self.served {
            Some((id, pk)) => format!(
                "force {}: directory serves key {id} (public key {pk}); expected key {} (public key {})",
                self.force, self.expected_id, self.expected_pk
            ),
            None => format!(
                "force {}: missing from the directory; expected key {} (public key {})",
                self.force, self.expected_id, self.expected_pk
            ),
        }
    }
}

/// Whether `entry` serves exactly `key`: the same key id and the same public key.
fn serves(entry: &DirectoryEntry, key: &PublicKey) -> bool {
    entry.key_id == key.key_id().to_hex()
        && PublicKey::from_base64url(&entry.public_key).is_ok_and(|pk| pk == *key)
}

/// Check the directory `entries` of `server` for `force`: its key must be
/// `current` (or `previous`, during a rotation not yet registered).
pub fn check(
    server: &str,
    entries: &[DirectoryEntry],
    force: &str,
    current: &PublicKey,
    previous: Option<&PublicKey>,
) -> Result<Served, Box<KeySubstitution>> {
    let entry = entries.iter().find(|e| e.id == force);
    match entry {
        Some(e) if serves(e, current) => return Ok(Served::Current(e.clone())),
        Some(e) if previous.is_some_and(|p| serves(e, p)) => {
            return Ok(Served::Previous(e.clone()));
        }
        _ => {}
    }
    let served = entry.map(|e| (clean_line(&e.key_id, 64), clean_line(&e.public_key, 64)));
    let got = match &served {
        // Key ids only: an id names its public key (a hash of it), and a
        // 1,216-byte X-Wing key in base64 buried the message; the audit
        // entry keeps both keys.
        Some((id, _)) if *id == current.key_id().to_hex() => format!(
            "publishes, under key id {id} for force {force}, a public key that is not that key's"
        ),
        Some((id, _)) => format!("publishes key id {id} for force {force}"),
        None => format!("does not list force {force} in its directory at all"),
    };
    Err(Box::new(KeySubstitution {
        server: server.to_owned(),
        force: force.to_owned(),
        expected_id: current.key_id().to_hex(),
        expected_pk: current.to_base64url(),
        served,
        got,
    }))
}

/// The directory's key for the force is not vouched for by the force's own
/// signing keys (crypto/FORMAT.md#verifying-a-statement): no statement, one
/// that does not verify, one for another key, or one not valid today. The
/// same alarm as [`KeySubstitution`] (the words start the same way): a key
/// the force did not sign is being served to reporters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "KEY SUBSTITUTION: the server at {server} serves key id {key_id} for force {force} {why}. Reporters who use this server may seal their reports to a key the force did not publish. Stop and tell your security lead and the platform operator; ask the operator for `quietline force key list {force}` and `quietline force signer list {force}`"
)]
pub struct StatementAlarm {
    /// The server's base URL.
    pub server: String,
    /// The force.
    pub force: String,
    /// The key id served (cleaned).
    pub key_id: String,
    /// What is wrong, in words (no key material beyond public ids).
    pub why: String,
    /// The statement check's code (`missing` when there was none).
    pub code: String,
}

impl StatementAlarm {
    /// The audit entry's detail (public values only).
    pub fn audit_detail(&self) -> String {
        format!(
            "force {}: directory serves key {} {} ({})",
            self.force, self.key_id, self.why, self.code
        )
    }
}

/// Check that the directory `entry` for a force carries a key statement
/// signed by `signers` (the force's own signing keys) for exactly the key
/// it serves, valid on `today` (a UTC day number). Returns the statement.
pub fn check_statement(
    server: &str,
    entry: &DirectoryEntry,
    signers: &SignerSet,
    today: u32,
) -> Result<KeyStatement, Box<StatementAlarm>> {
    let alarm = |why: String, code: &str| {
        Box::new(StatementAlarm {
            server: server.to_owned(),
            force: clean_line(&entry.id, 64),
            key_id: clean_line(&entry.key_id, 64),
            why,
            code: code.to_owned(),
        })
    };
    let text = entry
        .statement
        .as_deref()
        .ok_or_else(|| alarm("without a key statement".into(), "missing"))?;
    let signed = SignedStatement::from_base64url(text).map_err(|e| {
        alarm(
            format!("with a key statement that is not valid: {e}"),
            e.code(),
        )
    })?;
    let st = signed.verify(signers, &entry.id).map_err(|e| {
        alarm(
            format!("with a key statement the force's signing keys do not vouch for: {e}"),
            e.code(),
        )
    })?;
    if st.key_id().to_hex() != entry.key_id
        || PublicKey::from_base64url(&entry.public_key).ok().as_ref() != Some(&st.public_key)
    {
        return Err(alarm(
            format!(
                "with the force's statement for another key ({})",
                st.key_id()
            ),
            "other_key",
        ));
    }
    st.is_current(today)
        .map_err(|e| alarm(format!("whose statement is not valid today: {e}"), e.code()))?;
    Ok(st.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(force: &str, pk: &PublicKey) -> DirectoryEntry {
        DirectoryEntry {
            id: force.into(),
            name: "North".into(),
            key_id: pk.key_id().to_hex(),
            public_key: pk.to_base64url(),
            statement: None,
            log_index: None,
        }
    }

    #[test]
    fn the_statement_must_be_the_forces_for_the_served_key_and_current() {
        use quietline_crypto::statement::{NO_PREVIOUS, SigningSecret};
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let ours = SigningSecret::generate(&mut rng);
        let theirs = SigningSecret::generate(&mut rng);
        let (_, pk) = quietline_crypto::keys::generate_keypair(&mut rng);
        let (_, other) = quietline_crypto::keys::generate_keypair(&mut rng);
        let set = SignerSet::single(ours.public_key());
        let st = |key: &PublicKey, by: &SigningSecret| {
            SignedStatement::sign(
                KeyStatement {
                    force_id: "north".into(),
                    public_key: key.clone(),
                    valid_from: 100,
                    valid_until: 200,
                    sequence: 0,
                    prev_hash: NO_PREVIOUS,
                },
                &[by],
            )
            .unwrap()
            .to_base64url()
        };
        let mut e = entry("north", &pk);
        let code = |e: &DirectoryEntry, day| {
            check_statement("http://x", e, &set, day).map_err(|a| a.code.clone())
        };
        assert_eq!(code(&e, 150), Err("missing".into()));
        e.statement = Some(st(&pk, &ours));
        assert_eq!(code(&e, 150).unwrap().public_key, pk);
        assert_eq!(code(&e, 201), Err("not_current".into()));
        e.statement = Some(st(&pk, &theirs));
        assert_eq!(code(&e, 150), Err("unknown_signer".into()));
        // The force's genuine statement, served beside another key.
        e.statement = Some(st(&other, &ours));
        let a = check_statement("http://x", &e, &set, 150).unwrap_err();
        assert_eq!(a.code, "other_key");
        assert!(a.to_string().starts_with("KEY SUBSTITUTION"), "{a}");
        assert!(a.audit_detail().contains(&pk.key_id().to_hex()));
        e.statement = Some("!!".into());
        assert_eq!(code(&e, 150), Err("not_base64url".into()));
    }

    #[test]
    fn only_the_current_key_or_a_pending_previous_one_passes() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let (_, ours) = quietline_crypto::keys::generate_keypair(&mut rng);
        let (_, old) = quietline_crypto::keys::generate_keypair(&mut rng);
        let (_, theirs) = quietline_crypto::keys::generate_keypair(&mut rng);
        let s = "http://x";
        assert!(matches!(
            check(s, &[entry("north", &ours)], "north", &ours, None),
            Ok(Served::Current(_))
        ));
        assert!(matches!(
            check(s, &[entry("north", &old)], "north", &ours, Some(&old)),
            Ok(Served::Previous(_))
        ));
        let e = check(s, &[entry("north", &old)], "north", &ours, None).unwrap_err();
        assert!(e.to_string().contains("KEY SUBSTITUTION"), "{e}");
        // The message names keys by id, not by their 1,216-byte public keys.
        assert!(e.to_string().contains(&old.key_id().to_hex()), "{e}");
        assert!(e.to_string().contains(&ours.key_id().to_hex()), "{e}");
        assert!(!e.to_string().contains(&ours.to_base64url()[..40]), "{e}");
        assert!(e.to_string().len() < 800, "{}", e.to_string().len());
        // Another public key under this console's own key id is named as such.
        let mut forged = entry("north", &theirs);
        forged.key_id = ours.key_id().to_hex();
        let e = check(s, &[forged], "north", &ours, None).unwrap_err();
        assert!(
            e.to_string()
                .contains("a public key that is not that key's"),
            "{e}"
        );
        let e = check(s, &[entry("north", &theirs)], "north", &ours, Some(&old)).unwrap_err();
        assert!(
            e.audit_detail().contains(&theirs.key_id().to_hex())
                && e.audit_detail().contains(&ours.key_id().to_hex()),
            "{}",
            e.audit_detail()
        );
        // Our key id with another public key, and the reverse.
        let mut forged = entry("north", &theirs);
        forged.key_id = ours.key_id().to_hex();
        assert!(check(s, &[forged], "north", &ours, None).is_err());
        let mut forged = entry("north", &ours);
        forged.key_id = theirs.key_id().to_hex();
        assert!(check(s, &[forged], "north", &ours, None).is_err());
        // Missing force.
        let e = check(s, &[entry("south", &ours)], "north", &ours, None).unwrap_err();
        assert!(e.to_string().contains("does not list force north"), "{e}");
        assert!(e.audit_detail().contains("missing from the directory"));
    }
}

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
//! One exception, for key rotation: after `key rotate` the new key is current
//! in the console before the platform operator has registered it, and until
//! then the directory still serves the previous key — which this console
//! holds. While the config names that previous key (`previous_key`), serving
//! it is a warning, not an alarm; once the directory serves the current key,
//! the exception ends (the binary clears `previous_key`).

use quietline_crypto::keys::PublicKey;

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
    "KEY SUBSTITUTION: the server at {server} {got}, but this console's current key for force {force} is key id {expected_id} (public key {expected_pk}). Reporters who use this server now seal their reports to a key this console does not hold: whoever holds it can read them. Stop and tell your security lead and the platform operator; ask the operator for `quietline force key list {force}`. If your force rotated its key on another console, import that key file with `quietline-console key import FILE --current`"
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
        Some((id, pk)) => {
            format!("publishes key id {id} (public key {pk}) for force {force}")
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(force: &str, pk: &PublicKey) -> DirectoryEntry {
        DirectoryEntry {
            id: force.into(),
            name: "North".into(),
            key_id: pk.key_id().to_hex(),
            public_key: pk.to_base64url(),
        }
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

//! What every handler sees: [`AppState`].
//!
//! Its own file so that the route files (`api.rs`, `auth.rs`, `page.rs`)
//! import it from a sibling rather than from `mod.rs`, which imports them:
//! the files of `http/` form no circle either (`ARCHITECTURE.md`).

use std::sync::Arc;

use crate::config::ServerSettings;
use crate::intake::Intake;
use crate::keylog::KeyLog;
use crate::pow::PowGuard;
use crate::storage::Storage;

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    /// The storage.
    pub storage: Arc<dyn Storage>,
    /// The settings.
    pub settings: Arc<ServerSettings>,
    /// Proof-of-work state (challenge key, difficulty, spent challenges).
    pub pow: Arc<PowGuard>,
    /// The intake rules `POST /api/v1/reports` hands its body to.
    pub intake: Arc<Intake>,
    /// The key log's read side (its key and the entries read so far).
    pub keylog: Arc<KeyLog>,
}

//! The PostgreSQL backend (being written).

use super::{Result, VaultError};

/// The PostgreSQL vault.
#[derive(Debug)]
pub struct PostgresVault;

impl PostgresVault {
    /// Connect.
    pub async fn open(_url: &str) -> Result<PostgresVault> {
        Err(VaultError::BadTarget("not yet".into()))
    }
}

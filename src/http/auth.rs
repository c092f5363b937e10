//! Handler authentication: `Authorization: Bearer <token>`, a token scoped to one
//! force.
//!
//! It owns turning the header into a force id. Only the token's SHA-256 is
//! looked up (the database holds nothing else; shape and hash are
//! [`crate::tokens`]); the token is never logged or echoed. It does not issue
//! or revoke tokens (see [`crate::admin`]).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use super::state::AppState;
use crate::tokens::{token_hash, token_is_well_formed};

/// An authenticated handler: the force its token belongs to.
#[derive(Debug, Clone)]
pub struct Handler {
    /// The force whose inbox this handler may read.
    pub force_id: String,
}

impl FromRequestParts<AppState> for Handler {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Err(ApiError::unauthorized(
                "this route is for force handlers: send Authorization: Bearer <token> with the token the operator issued",
            ));
        };
        if values.next().is_some() {
            return Err(ApiError::unauthorized(
                "send exactly one Authorization header",
            ));
        }
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .ok_or(ApiError::unauthorized(
                "the Authorization header must be: Bearer <token>",
            ))?;
        if !token_is_well_formed(token) {
            return Err(ApiError::unauthorized(
                "the bearer token is malformed: a token is qlt_ followed by 43 base64url characters",
            ));
        }
        match state.storage.token_force(token_hash(token)).await? {
            Some(force_id) => Ok(Handler { force_id }),
            None => Err(ApiError::unauthorized(
                "the bearer token is unknown or has been revoked; ask the platform operator for a new one",
            )),
        }
    }
}

//! API v1 routes of the key log (crypto/FORMAT.md#key-log-api): the signed
//! checkpoint, the verifier key, entries and proofs. Public and read-only:
//! GET only, no token.
//!
//! It owns each route's contract: which query it reads, the media type and
//! shape of each answer, and `400 bad_range` for indices outside the log
//! (the message says the valid range). The answers themselves come from
//! `crate::keylog`; nothing here computes a hash or signs.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quietline_crypto::keylog::{Hash, hash_to_base64url};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::state::AppState;
use crate::keylog::KeylogRefused;

/// The key log's routes, to merge into the API router.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/keylog/checkpoint", get(checkpoint))
        .route("/api/v1/keylog/key", get(key))
        .route("/api/v1/keylog/entries", get(entries))
        .route("/api/v1/keylog/proof/inclusion", get(inclusion))
        .route("/api/v1/keylog/proof/consistency", get(consistency))
}

impl From<KeylogRefused> for ApiError {
    fn from(e: KeylogRefused) -> Self {
        match e {
            KeylogRefused::BadRange(message) => {
                ApiError::with_message(StatusCode::BAD_REQUEST, "bad_range", message)
            }
            KeylogRefused::Storage(e) => e.into(),
        }
    }
}

/// A query that does not parse: the same code as indices out of range.
fn bad_query(what: &'static str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_range", what)
}

fn text(body: String, media_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))],
        body,
    )
        .into_response()
}

fn hashes(h: &[Hash]) -> Vec<String> {
    h.iter().map(hash_to_base64url).collect()
}

/// `GET /api/v1/keylog/checkpoint`: the signed checkpoint at the current
/// size (a C2SP signed note).
async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let note = state.keylog.checkpoint(state.storage.as_ref()).await?;
    Ok(text(note, "text/plain; charset=utf-8"))
}

/// `GET /api/v1/keylog/key`: the verifier key, one line.
async fn key(State(state): State<AppState>) -> Result<Response, ApiError> {
    let vkey = state.keylog.verifier_key(state.storage.as_ref()).await?;
    Ok(text(format!("{vkey}\n"), "text/plain"))
}

#[derive(Deserialize)]
struct EntriesQuery {
    start: u64,
    end: u64,
}

#[derive(Serialize)]
struct EntriesAnswer {
    entries: Vec<String>,
}

/// `GET /api/v1/keylog/entries?start=A&end=B`: entries A ≤ i < B ≤ size,
/// at most 256 (fewer if more were asked; the caller pages on).
async fn entries(
    State(state): State<AppState>,
    q: Result<Query<EntriesQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| {
        bad_query("entries are asked for as ?start=A&end=B, two whole numbers with A ≤ B ≤ the log's size")
    })?;
    let entries = state
        .keylog
        .entries(state.storage.as_ref(), q.start, q.end)
        .await?;
    Ok(Json(EntriesAnswer {
        entries: entries
            .iter()
            .map(|e| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(e)
            })
            .collect(),
    })
    .into_response())
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

#[derive(Serialize)]
struct InclusionAnswer {
    index: u64,
    size: u64,
    hashes: Vec<String>,
}

/// `GET /api/v1/keylog/proof/inclusion?index=I&size=N`.
async fn inclusion(
    State(state): State<AppState>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| {
        bad_query("an inclusion proof is asked for as ?index=I&size=N, two whole numbers with I < N ≤ the log's size")
    })?;
    let proof = state
        .keylog
        .inclusion(state.storage.as_ref(), q.index, q.size)
        .await?;
    Ok(Json(InclusionAnswer {
        index: q.index,
        size: q.size,
        hashes: hashes(&proof),
    })
    .into_response())
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: u64,
}

#[derive(Serialize)]
struct ConsistencyAnswer {
    from: u64,
    to: u64,
    hashes: Vec<String>,
}

/// `GET /api/v1/keylog/proof/consistency?from=M&to=N` (empty when M is 0 or N).
async fn consistency(
    State(state): State<AppState>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| {
        bad_query("a consistency proof is asked for as ?from=M&to=N, two whole numbers with M ≤ N ≤ the log's size")
    })?;
    let proof = state
        .keylog
        .consistency(state.storage.as_ref(), q.from, q.to)
        .await?;
    Ok(Json(ConsistencyAnswer {
        from: q.from,
        to: q.to,
        hashes: hashes(&proof),
    })
    .into_response())
}

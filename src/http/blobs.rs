//! API v1 routes for attachments' blobs (crypto/FORMAT.md#blobs-on-the-server):
//! the limits, a challenge scaled to a blob's size, beginning an upload,
//! its parts and where it stands, and the handler's fetch.
//!
//! It owns each route's contract: what it reads, in which order, and the
//! status and message of each outcome. It checks lengths only — a blob is
//! opaque, the server holds no key — and stores what the storage interface
//! takes: a random id, the force, the sealed length, the parts and the UTC
//! day. Nothing from the request's headers (but the proof of work), query
//! or connection is stored, and no error quotes a body.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use quietline_crypto::stream;
use serde::Deserialize;

use super::auth::Handler;
use super::body::{has_media_type, read_limited};
use super::error::ApiError;
use super::state::AppState;
use crate::pow::Refusal;
use crate::storage::{BLOB_PART_LEN, BlobId, NewBlob, PartWrite, StorageError, blob_part_count};

const OCTET_STREAM: &str = "application/octet-stream";

/// A blob up to this padded size needs the same proof of work as a report;
/// each doubling above it one bit more (FORMAT.md#blobs-on-the-server).
const POW_FREE_PADDED: u64 = 4 * 1024 * 1024;

/// The blob routes, to merge into the API router.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        // Static segments win over `{id}`.
        .route("/api/v1/blobs/limits", get(limits))
        .route("/api/v1/blobs/challenge", get(challenge))
        .route("/api/v1/blobs", post(begin))
        .route("/api/v1/blobs/{id}", get(status))
        .route("/api/v1/blobs/{id}/parts/{n}", put(put_part))
        .route("/api/v1/inbox/blobs/{id}", get(fetch))
}

/// Extra proof-of-work bits for a blob of `sealed_len` octets: log2 of its
/// padded size over 4 MiB (0 up to 4 MiB, 6 at 256 MiB).
pub fn extra_bits(sealed_len: u64) -> u8 {
    let padded = stream::padded_len_of(sealed_len).unwrap_or(stream::MAX_BUCKET);
    (padded.max(POW_FREE_PADDED) / POW_FREE_PADDED).ilog2() as u8
}

fn bad_request(code: &'static str, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn unknown_blob() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_blob",
        "no attachment upload with this id: it was never begun, it expired (an upload must be complete by the end of the day after it began), or it was deleted",
    )
}

fn attachments_off() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "attachments_disabled",
        "this service does not accept attachments; send the report without them",
    )
}

fn blob_id(path: Result<Path<String>, PathRejection>) -> Result<BlobId, ApiError> {
    const BAD: &str =
        "an attachment id is 32 lowercase hexadecimal digits, as POST /api/v1/blobs returned it";
    let Path(text) = path.map_err(|_| bad_request("bad_blob_id", BAD))?;
    if text.len() != 32
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad_request("bad_blob_id", BAD));
    }
    let mut id = [0u8; 16];
    hex::decode_to_slice(&text, &mut id).map_err(|_| bad_request("bad_blob_id", BAD))?;
    Ok(id)
}

/// The checks on a declared sealed length: a bucket's sealed length (400)
/// within the operator's limit (413).
fn check_size(state: &AppState, size: u64) -> Result<(), ApiError> {
    if stream::padded_len_of(size).is_none() {
        return Err(bad_request(
            "bad_blob_size",
            "size must be the sealed length of an attachment: a padding bucket (a power of two from 65536 bytes) plus 16 bytes per 65536 (crypto/FORMAT.md#attachment-padding)",
        ));
    }
    let max = state.settings.attachments.max_blob_len();
    if size > max {
        return Err(ApiError::with_message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "blob_too_large",
            format!(
                "this service takes attachments of up to {} bytes each ({} bytes sealed); choose a smaller file",
                state.settings.attachments.max_total_bytes, max
            ),
        ));
    }
    Ok(())
}

/// `GET /api/v1/blobs/limits`: what the page checks before any upload.
async fn limits(State(state): State<AppState>) -> Response {
    let a = state.settings.attachments;
    Json(serde_json::json!({
        "max_count": a.max_count,
        "max_total_bytes": a.max_total_bytes,
        "max_blob_len": a.max_blob_len(),
        "part_len": BLOB_PART_LEN,
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SizeQuery {
    size: u64,
}

/// `GET /api/v1/blobs/challenge?size=N`: a proof-of-work challenge for
/// beginning the upload of a blob of `N` sealed octets, at the difficulty
/// that size needs.
async fn challenge(
    State(state): State<AppState>,
    query: Result<Query<SizeQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|_| {
        bad_request(
            "bad_query",
            "give the sealed length of the attachment: ?size=<bytes>",
        )
    })?;
    if state.settings.attachments.max_count == 0 {
        return Err(attachments_off());
    }
    check_size(&state, q.size)?;
    let issued = state
        .pow
        .issue_scaled(state.storage.as_ref(), extra_bits(q.size))
        .await?;
    Ok(Json(issued).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BeginRequest {
    force: String,
    size: u64,
}

/// `POST /api/v1/blobs`: `{"force", "size"}` (JSON) with a `Quietline-Pow`
/// header solved over these exact body bytes; `201 {"id", "parts",
/// "part_len"}` once the upload is durably recorded (its challenge spent).
///
/// Checks, in order: media type (415), size of the body (413), JSON (400),
/// attachments on (403), the declared size (400, 413), the force id's syntax
/// (404), the proof of work (400/429, `pow_outdated` for a challenge below
/// this size's difficulty), then the store (404 unknown force, 429 spent).
async fn begin(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !has_media_type(&headers, "application/json") {
        return Err(ApiError::not_json());
    }
    let bytes = read_limited(&headers, body, state.settings.max_json_body).await?;
    let req: BeginRequest = serde_json::from_slice(&bytes).map_err(|_| {
        bad_request(
            "bad_json",
            "the body must be {\"force\": \"<force id>\", \"size\": <sealed length in bytes>}",
        )
    })?;
    if state.settings.attachments.max_count == 0 {
        return Err(attachments_off());
    }
    check_size(&state, req.size)?;
    if !quietline_crypto::envelope::is_valid_force_id(&req.force) {
        return Err(unknown_force());
    }
    let pow_header = headers
        .get(quietline_crypto::pow::HEADER)
        .map(HeaderValue::as_bytes);
    let claim = state
        .pow
        .check_scaled(
            state.storage.as_ref(),
            pow_header,
            &bytes,
            extra_bits(req.size),
        )
        .await
        .map_err(|r| match r {
            Refusal::Missing => ApiError::pow_missing(),
            Refusal::Invalid(e) => ApiError::pow(&e),
            Refusal::Spent => ApiError::pow_spent(),
            Refusal::Storage(e) => e.into(),
        })?;
    let mut id: BlobId = [0; 16];
    getrandom::fill(&mut id).map_err(|_| ApiError::internal())?;
    let stored = state
        .storage
        .create_blob(NewBlob {
            id,
            force_id: req.force,
            sealed_len: req.size,
            day: state.settings.clock.today(),
            pow: claim.as_ref().map(|c| c.ticket()),
        })
        .await;
    if let Some(claim) = claim
        && matches!(stored, Ok(()) | Err(StorageError::ChallengeSpent))
    {
        claim.keep();
    }
    match stored {
        Ok(()) => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({
                "id": hex::encode(id),
                "parts": blob_part_count(req.size),
                "part_len": BLOB_PART_LEN,
            })),
        )
            .into_response()),
        Err(StorageError::ChallengeSpent) => Err(ApiError::pow_spent()),
        Err(StorageError::UnknownForce(_)) => Err(unknown_force()),
        Err(e) => Err(e.into()),
    }
}

fn unknown_force() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_force",
        "this service does not host that force; reload GET /api/v1/forces and choose a force from it",
    )
}

/// `GET /api/v1/blobs/{id}`: where an upload stands, for resuming it:
/// `{"size", "parts", "part_len", "received": [part numbers held], "complete"}`.
async fn status(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = blob_id(path)?;
    let Some(s) = state.storage.blob_status(id).await? else {
        return Err(unknown_blob());
    };
    Ok(Json(serde_json::json!({
        "size": s.sealed_len,
        "parts": blob_part_count(s.sealed_len),
        "part_len": BLOB_PART_LEN,
        "received": s.received,
        "complete": s.complete,
    }))
    .into_response())
}

/// `PUT /api/v1/blobs/{id}/parts/{n}`: part `n` (from 0) of an upload,
/// `application/octet-stream`, exactly its length; `200 {"complete"}` once
/// durably committed. Sending a part again with the same octets answers the
/// same (its first answer may have been lost); other octets are `409`.
async fn put_part(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const BAD_N: &str = "a part number is a whole number from 0, below the upload's part count";
    let Path((id_text, n_text)) = path.map_err(|_| bad_request("bad_part_number", BAD_N))?;
    let id = blob_id(Ok(Path(id_text)))?;
    let n: u32 = n_text
        .parse()
        .ok()
        .filter(|_| n_text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(bad_request("bad_part_number", BAD_N))?;
    if !has_media_type(&headers, OCTET_STREAM) {
        return Err(ApiError::not_octet_stream());
    }
    let bytes: Bytes = read_limited(&headers, body, BLOB_PART_LEN as usize).await?;
    // `Vec::from` takes the buffer `read_limited` filled without copying it
    // (the `Bytes` is its only owner); `to_vec` copied every part once more.
    match state.storage.put_blob_part(id, n, Vec::from(bytes)).await? {
        PartWrite::Stored { complete } => {
            Ok(Json(serde_json::json!({ "complete": complete })).into_response())
        }
        PartWrite::Conflict => Err(ApiError::new(
            StatusCode::CONFLICT,
            "part_conflict",
            "this part is already held with other bytes; an attachment is sealed once, so send the parts of the same sealing",
        )),
        PartWrite::BadPart {
            expected: Some(len),
        } => Err(ApiError::with_message(
            StatusCode::BAD_REQUEST,
            "bad_part",
            format!("part {n} of this upload must be exactly {len} bytes"),
        )),
        PartWrite::BadPart { expected: None } => Err(bad_request("bad_part_number", BAD_N)),
        PartWrite::UnknownBlob => Err(unknown_blob()),
    }
}

/// `GET /api/v1/inbox/blobs/{id}` (handler): the whole sealed blob, streamed
/// part by part, if it is complete and was uploaded to the handler's force
/// (another force's id answers `404` like a missing one). The first fetch
/// marks it referenced: from then on it is kept for the retention period.
async fn fetch(
    State(state): State<AppState>,
    handler: Handler,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = blob_id(path)?;
    let Some(len) = state.storage.blob_len(&handler.force_id, id).await? else {
        return Err(unknown_blob());
    };
    state.storage.reference_blob(&handler.force_id, id).await?;
    let parts = blob_part_count(len);
    let storage = state.storage.clone();
    let force = handler.force_id;
    let chunks = futures_util::stream::unfold(0u32, move |n| {
        let storage = storage.clone();
        let force = force.clone();
        async move {
            if n >= parts {
                return None;
            }
            let part = match storage.blob_part(&force, id, n).await {
                Ok(Some(p)) => Ok(Bytes::from(p)),
                // Purged meanwhile, or the database failed: end the body
                // short; the client sees fewer bytes than Content-Length.
                Ok(None) => Err(std::io::Error::other("the attachment is no longer stored")),
                Err(_) => Err(std::io::Error::other("the database failed")),
            };
            Some((part, n + 1))
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(OCTET_STREAM)),
            (header::CONTENT_LENGTH, HeaderValue::from(len)),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

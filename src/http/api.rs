//! API v1 handlers: the directory, intake, reply slots, reporters' own
//! copies, the handlers' inbox,
//! and the list of the reporter page's files with their SHA-256.
//!
//! It owns each route's contract as the client sees it: what it reads, in
//! which order, and which status and message each outcome gets. The rules a
//! report passes are `crate::intake` (and the proof-of-work checks
//! `crate::pow`); `POST /api/v1/reports` here reads the body and maps the
//! intake's outcome. It checks envelope SHAPE only
//! (`quietline_crypto::envelope::parse`): it cannot and does not decrypt. It
//! stores what the storage interface takes — a random id, the force, the key
//! id, the envelope and the UTC day — and never anything from the request's
//! headers, query or connection.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quietline_crypto::envelope::{self, EnvelopeError, Kind, Routing};
use quietline_crypto::keys::PublicKey;
use serde::{Deserialize, Serialize};

use super::auth::Handler;
use super::body::{has_media_type, read_limited};
use super::error::ApiError;
use super::state::AppState;
use crate::day::format_day;
use crate::intake::Refused;
use crate::intake::copies::CopyRefused;
use crate::pow::Refusal;
use crate::storage::{ReportId, SlotAddress, SlotWrite};

/// Most slots one `POST /api/v1/slots/fetch` may ask for.
pub const MAX_FETCH_SLOTS: usize = 32;
/// Most reports one `POST /api/v1/inbox/fetch` may ask for: the answer is at
/// most this many envelopes of up to `MAX_ENVELOPE_LEN` bytes each, base64url
/// (about 5.6 MB; 64 reports of the common 8 KiB bucket are ~700 KB).
pub const MAX_FETCH_REPORTS: usize = 64;
/// Default page size of `GET /api/v1/inbox`.
pub const DEFAULT_INBOX_LIMIT: u32 = 100;
/// Largest page size of `GET /api/v1/inbox`.
pub const MAX_INBOX_LIMIT: u32 = 1000;

const OCTET_STREAM: &str = "application/octet-stream";

// ---------------------------------------------------------------- helpers

fn envelope_response(bytes: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(OCTET_STREAM))],
        Bytes::from(bytes),
    )
        .into_response()
}

fn created(body: serde_json::Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

fn bad_request(code: &'static str, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn bad_envelope(e: EnvelopeError) -> ApiError {
    // The crypto crate's messages describe which shape check failed in its own
    // words (lengths, versions), never the envelope's bytes.
    ApiError::with_message(
        StatusCode::BAD_REQUEST,
        e.code(),
        format!("the envelope is malformed: {e}"),
    )
}

fn decode_fixed<const N: usize>(hex_text: &str) -> Option<[u8; N]> {
    if hex_text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

const BAD_SLOT_ADDRESS: &str =
    "a slot address is 64 hexadecimal digits (32 bytes), as derived from the reply code";

fn slot_address(path: Result<Path<String>, PathRejection>) -> Result<SlotAddress, ApiError> {
    path.ok()
        .and_then(|Path(p)| decode_fixed::<32>(&p))
        .ok_or(bad_request("bad_slot_address", BAD_SLOT_ADDRESS))
}

/// Read an envelope body: media type first (415), then size (413), then shape (400).
async fn envelope_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    if !has_media_type(headers, OCTET_STREAM) {
        return Err(ApiError::not_octet_stream());
    }
    read_limited(headers, body, state.settings.max_body).await
}

// ---------------------------------------------------------------- public

#[derive(Serialize)]
struct AssetEntry {
    /// The address that fetches the file (`/?lang=cy` for the Welsh page).
    path: String,
    sha256: &'static str,
}

#[derive(Serialize)]
struct AssetList {
    assets: Vec<AssetEntry>,
}

/// `GET /api/v1/assets`: the SHA-256 of each file of the reporter page as
/// served (uncompressed), for the page's "Check what you were served".
pub async fn assets() -> Response {
    let assets = crate::assets::all()
        .iter()
        .map(|a| AssetEntry {
            path: a.address(),
            sha256: &a.sha256,
        })
        .collect();
    Json(AssetList { assets }).into_response()
}

#[derive(Serialize)]
struct DirectoryEntry {
    id: String,
    name: String,
    key_id: String,
    /// `x25519` or `xwing`: the suite the page seals with (crypto/FORMAT.md#suite).
    suite: &'static str,
    public_key: String,
    /// The force's signed key statement for this key, base64url
    /// (crypto/FORMAT.md#key-statements); absent for a force without signing keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<String>,
    /// The index of `statement` in the key log (crypto/FORMAT.md#key-log);
    /// absent when there is no statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    log_index: Option<u64>,
}

/// `GET /api/v1/forces`: each force with a current key (a force without one
/// cannot be written to, so it is not listed).
pub async fn forces(State(state): State<AppState>) -> Result<Response, ApiError> {
    let forces = state.storage.forces().await?;
    let mut statements: std::collections::HashMap<String, crate::storage::StoredStatement> = state
        .storage
        .current_statements()
        .await?
        .into_iter()
        .collect();
    let mut positions: std::collections::HashMap<String, crate::storage::LogPosition> = state
        .storage
        .keylog_current_positions()
        .await?
        .into_iter()
        .map(|p| (p.force_id.clone(), p))
        .collect();
    let entries: Vec<DirectoryEntry> = forces
        .into_iter()
        .filter_map(|f| {
            let key = f.current_key?;
            let public_key = PublicKey::from_bytes(&key.public_key).ok()?;
            // Two reads: serve the statement only if it is about the key served.
            let served = statements.remove(&f.id).filter(|s| s.key_id == key.key_id);
            // Its place in the key log, only if it is that same statement.
            let log_index = served.as_ref().and_then(|s| {
                positions
                    .remove(&f.id)
                    .filter(|p| p.sequence == s.sequence)
                    .map(|p| p.index)
            });
            let statement = served.map(|s| URL_SAFE_NO_PAD.encode(s.statement));
            Some(DirectoryEntry {
                id: f.id,
                name: f.name,
                key_id: hex::encode(key.key_id),
                suite: public_key.suite().name(),
                public_key: public_key.to_base64url(),
                statement,
                log_index,
            })
        })
        .collect();
    Ok(Json(entries).into_response())
}

/// `GET /api/v1/challenge`: a fresh proof-of-work challenge
/// (crypto/FORMAT.md#challenge): `{"challenge", "difficulty", "expires"}`.
pub async fn challenge(State(state): State<AppState>) -> Result<Response, ApiError> {
    let issued = state.pow.issue(state.storage.as_ref()).await?;
    Ok(Json(issued).into_response())
}

/// `POST /api/v1/reports`: a kind-1 envelope in, `201 {"id"}` after the durable commit.
///
/// Checks, in order: media type (415) and size (413) here, then the intake's
/// rules (`crate::intake`): envelope shape (400), proof of work (400/429,
/// crypto/FORMAT.md#verifying: forged, expired, outdated, insufficient),
/// force and key (404/422; skipped for a key this process has seen
/// accepted), then the store (which also spends the challenge: 429 if
/// already spent, and checks the force and key again: 404/422). This handler
/// only maps the intake's outcome to a status.
pub async fn submit_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = envelope_body(&state, &headers, body).await?;
    let pow = headers
        .get(quietline_crypto::pow::HEADER)
        .map(HeaderValue::as_bytes);
    match state.intake.submit(&bytes, pow).await {
        Ok(id) => Ok(created(serde_json::json!({ "id": hex::encode(id) }))),
        Err(refused) => Err(refused_error(refused)),
    }
}

/// The API error for each of the intake's refusals.
fn refused_error(refused: Refused) -> ApiError {
    match refused {
        Refused::Malformed(e) => bad_envelope(e),
        Refused::WrongKind => bad_request(
            "wrong_kind",
            "this is a reply envelope (kind 2); reports are kind 1 — replies go to PUT /api/v1/slots/{address}",
        ),
        Refused::WrongRouting => bad_request(
            "wrong_routing",
            "a report envelope must be routed to a force id",
        ),
        Refused::Pow(Refusal::Missing) => ApiError::pow_missing(),
        Refused::Pow(Refusal::Invalid(e)) => ApiError::pow(&e),
        Refused::Pow(Refusal::Spent) => ApiError::pow_spent(),
        Refused::Pow(Refusal::Storage(e)) | Refused::Storage(e) => e.into(),
        Refused::UnknownForce => unknown_force(),
        Refused::UnknownKey => unknown_key(),
        Refused::NoRandomId => ApiError::internal(),
    }
}

/// 422: the key is unknown to the force, or retired.
fn unknown_key() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_key",
        "the envelope is sealed to a key id that is unknown or retired for this force; reload GET /api/v1/forces and seal the report again to the force's current key",
    )
}

/// 404: the force is not hosted here.
fn unknown_force() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_force",
        "the envelope is addressed to a force this server does not host; reload GET /api/v1/forces and choose a force from it",
    )
}

/// `GET /api/v1/slots/{address}`: the reply envelope, or 404.
pub async fn get_slot(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let address = slot_address(path)?;
    match state.storage.slot(address).await? {
        Some(bytes) => Ok(envelope_response(bytes)),
        None => Err(slot_empty()),
    }
}

fn slot_empty() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "slot_empty",
        "this slot holds no reply (yet); the force fills each slot once, in order",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchRequest {
    slots: Vec<String>,
}

#[derive(Serialize)]
struct FetchedSlot {
    address: String,
    envelope: String,
}

#[derive(Serialize)]
struct FetchResponse {
    slots: Vec<FetchedSlot>,
}

/// `POST /api/v1/slots/fetch` `{"slots": [hex, …]}` (at most 32): the present ones.
pub async fn fetch_slots(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !has_media_type(&headers, "application/json") {
        return Err(ApiError::not_json());
    }
    let bytes = read_limited(&headers, body, state.settings.max_json_body).await?;
    let request: FetchRequest = serde_json::from_slice(&bytes).map_err(|e| {
        // serde_json's own message can quote the input; only its position is used.
        ApiError::with_message(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!(
                "the body must be JSON of the form {{\"slots\": [slot addresses as hex]}} (problem at line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    if request.slots.len() > MAX_FETCH_SLOTS {
        return Err(ApiError::with_message(
            StatusCode::BAD_REQUEST,
            "too_many_slots",
            format!("ask for at most {MAX_FETCH_SLOTS} slots per request"),
        ));
    }
    let mut addresses = Vec::with_capacity(request.slots.len());
    for (i, s) in request.slots.iter().enumerate() {
        let Some(a) = decode_fixed::<32>(s) else {
            return Err(ApiError::with_message(
                StatusCode::BAD_REQUEST,
                "bad_slot_address",
                format!("slot number {i} (counting from 0): {BAD_SLOT_ADDRESS}"),
            ));
        };
        addresses.push(a);
    }
    let found = if addresses.is_empty() {
        Vec::new()
    } else {
        state.storage.slots(&addresses).await?
    };
    let slots = found
        .into_iter()
        .map(|(address, envelope)| FetchedSlot {
            address: hex::encode(address),
            envelope: URL_SAFE_NO_PAD.encode(envelope),
        })
        .collect();
    Ok(Json(FetchResponse { slots }).into_response())
}

// ---------------------------------------------------------------- reporters' own copies

const BAD_COPY_BOX: &str =
    "a copy box is 64 hexadecimal digits (32 bytes), as derived from the reply code";

fn copy_box(path: Result<Path<String>, PathRejection>) -> Result<SlotAddress, ApiError> {
    path.ok()
        .and_then(|Path(p)| decode_fixed::<32>(&p))
        .ok_or(bad_request("bad_copy_box", BAD_COPY_BOX))
}

/// What the page needs to say how long things are kept: `--retention-days`
/// and the most random days a row may be kept beyond it.
fn retention(state: &AppState) -> serde_json::Value {
    serde_json::json!({
        "retention_days": state.settings.retention_days,
        "retention_fuzz_days": crate::storage::MAX_PURGE_FUZZ,
    })
}

/// `POST /api/v1/copies/{box}`: a reporter's own copy (crypto/FORMAT.md#own-copies),
/// a kind-2 envelope routed to this box, with a proof of work as for a report.
/// `201 {"retention_days", "retention_fuzz_days"}` after the durable commit.
///
/// Checks, in order: media type (415), size (413), shape, kind and routing
/// (400), proof of work (400/429), then the store: the box's caps (409
/// `copy_box_full`) and the challenge spent (429), in one transaction.
pub async fn post_copy(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let address = copy_box(path)?;
    let bytes = envelope_body(&state, &headers, body).await?;
    let pow = headers
        .get(quietline_crypto::pow::HEADER)
        .map(HeaderValue::as_bytes);
    match state.intake.submit_copy(address, &bytes, pow).await {
        Ok(()) => Ok(created(retention(&state))),
        Err(refused) => Err(copy_refused_error(refused)),
    }
}

fn copy_refused_error(refused: CopyRefused) -> ApiError {
    match refused {
        CopyRefused::Malformed(e) => bad_envelope(e),
        CopyRefused::WrongKind => bad_request(
            "wrong_kind",
            "this is a report envelope (kind 1); a copy is a kind-2 envelope sealed to the reporter's own reply key",
        ),
        CopyRefused::Misrouted => bad_request(
            "copy_box_mismatch",
            "the envelope is routed to a different address than the copy box in the URL; POST it to /api/v1/copies/{the address in its routing}",
        ),
        CopyRefused::Pow(Refusal::Missing) => ApiError::pow_missing(),
        CopyRefused::Pow(Refusal::Invalid(e)) => ApiError::pow(&e),
        CopyRefused::Pow(Refusal::Spent) => ApiError::pow_spent(),
        CopyRefused::Pow(Refusal::Storage(e)) | CopyRefused::Storage(e) => e.into(),
        CopyRefused::Full => ApiError::with_message(
            StatusCode::CONFLICT,
            "copy_box_full",
            format!(
                "this copy box already holds as many copies as it may ({} copies, {} bytes in all); nothing was stored, and the message itself was sent",
                crate::intake::copies::COPY_LIMITS.count,
                crate::intake::copies::COPY_LIMITS.bytes
            ),
        ),
    }
}

#[derive(Serialize)]
struct CopiesResponse {
    copies: Vec<String>,
    retention_days: u32,
    retention_fuzz_days: u32,
}

/// `GET /api/v1/copies/{box}`: every copy in the box, base64url, in no
/// meaningful order (the page orders them by what is sealed inside), and the
/// retention; an empty box is `200` with an empty list, so the answer does
/// not say whether a box was ever written.
pub async fn get_copies(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let address = copy_box(path)?;
    let copies = state
        .storage
        .copies(address)
        .await?
        .into_iter()
        .map(|e| URL_SAFE_NO_PAD.encode(e))
        .collect();
    Ok(Json(CopiesResponse {
        copies,
        retention_days: state.settings.retention_days,
        retention_fuzz_days: crate::storage::MAX_PURGE_FUZZ,
    })
    .into_response())
}

// ---------------------------------------------------------------- handlers

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
/// The inbox's query string (both parameters optional).
pub struct InboxQuery {
    after: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
struct InboxItem {
    id: String,
    key_id: String,
    day: String,
}

#[derive(Serialize)]
struct InboxPage {
    reports: Vec<InboxItem>,
    next: Option<String>,
}

/// `GET /api/v1/inbox?after=HEX&limit=N`: a page of this force's reports.
pub async fn inbox(
    handler: Handler,
    State(state): State<AppState>,
    query: Result<Query<InboxQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    const BAD_QUERY: &str =
        "the inbox takes only after=<report id, 32 hex digits> and limit=<1 to 1000>";
    let Query(q) = query.map_err(|_| bad_request("bad_query", BAD_QUERY))?;
    let after = match q.after.as_deref() {
        None | Some("") => None,
        Some(a) => Some(decode_fixed::<16>(a).ok_or(bad_request(
            "bad_after",
            "after must be a report id: 32 hexadecimal digits, the `next` of the previous page",
        ))?),
    };
    let limit = match q.limit.as_deref() {
        None => DEFAULT_INBOX_LIMIT,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_INBOX_LIMIT).contains(n))
            .ok_or(bad_request(
                "bad_limit",
                "limit must be a whole number from 1 to 1000",
            ))?,
    };
    let entries = state.storage.inbox(&handler.force_id, after, limit).await?;
    // A full page may have more after it; a short page is the end.
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| hex::encode(e.id)))
        .flatten();
    let reports = entries
        .into_iter()
        .map(|e| InboxItem {
            id: hex::encode(e.id),
            key_id: hex::encode(e.key_id),
            day: format_day(e.day),
        })
        .collect();
    Ok(Json(InboxPage { reports, next }).into_response())
}

/// `GET /api/v1/inbox/{id}`: the envelope; another force's id is a 404 exactly
/// like a missing one, so a token cannot probe which ids exist.
pub async fn inbox_report(
    handler: Handler,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id: ReportId = path
        .ok()
        .and_then(|Path(p)| decode_fixed::<16>(&p))
        .ok_or(bad_request(
            "bad_report_id",
            "a report id is 32 hexadecimal digits, as listed by GET /api/v1/inbox",
        ))?;
    match state.storage.report(&handler.force_id, id).await? {
        Some(bytes) => Ok(envelope_response(bytes)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_report",
            "there is no report with this id in your force's inbox (it may have passed retention)",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxFetchRequest {
    ids: Vec<String>,
}

#[derive(Serialize)]
struct FetchedReport {
    id: String,
    envelope: String,
}

#[derive(Serialize)]
struct InboxFetchResponse {
    reports: Vec<FetchedReport>,
}

/// `POST /api/v1/inbox/fetch` `{"ids": [report id, …]}` (at most
/// [`MAX_FETCH_REPORTS`]): the envelopes of those that are in this force's
/// inbox, in the order asked, each once. An id that is missing, past
/// retention or another force's is left out, the same for all three, as
/// `GET /api/v1/inbox/{id}` answers 404 alike. One request instead of one per
/// envelope: a console pulling a large inbox is bound by round trips
/// otherwise (BENCHMARKS.md#pull). It reads the body and nothing else of the
/// request, like every route.
pub async fn inbox_fetch(
    handler: Handler,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !has_media_type(&headers, "application/json") {
        return Err(ApiError::not_json());
    }
    let bytes = read_limited(&headers, body, state.settings.max_json_body).await?;
    let request: InboxFetchRequest = serde_json::from_slice(&bytes).map_err(|e| {
        // serde_json's own message can quote the input; only its position is used.
        ApiError::with_message(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!(
                "the body must be JSON of the form {{\"ids\": [report ids as listed by GET /api/v1/inbox]}} (problem at line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    if request.ids.len() > MAX_FETCH_REPORTS {
        return Err(ApiError::with_message(
            StatusCode::BAD_REQUEST,
            "too_many_ids",
            format!("ask for at most {MAX_FETCH_REPORTS} reports per request"),
        ));
    }
    let mut ids: Vec<ReportId> = Vec::with_capacity(request.ids.len());
    for (i, s) in request.ids.iter().enumerate() {
        let Some(id) = decode_fixed::<16>(s) else {
            return Err(ApiError::with_message(
                StatusCode::BAD_REQUEST,
                "bad_report_id",
                format!(
                    "id number {i} (counting from 0): a report id is 32 hexadecimal digits, as listed by GET /api/v1/inbox"
                ),
            ));
        };
        ids.push(id);
    }
    let found = if ids.is_empty() {
        Vec::new()
    } else {
        state.storage.reports(&handler.force_id, &ids).await?
    };
    let reports = found
        .into_iter()
        .map(|(id, envelope)| FetchedReport {
            id: hex::encode(id),
            envelope: URL_SAFE_NO_PAD.encode(envelope),
        })
        .collect();
    Ok(Json(InboxFetchResponse { reports }).into_response())
}

/// `PUT /api/v1/slots/{address}`: a kind-2 envelope routed to this very slot;
/// 201 once stored, 409 if the slot is taken (slots are one-time).
pub async fn put_slot(
    _handler: Handler,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let address = slot_address(path)?;
    let bytes = envelope_body(&state, &headers, body).await?;
    let env = envelope::parse(&bytes).map_err(bad_envelope)?;
    if env.kind() != Kind::Reply {
        return Err(bad_request(
            "wrong_kind",
            "this is a report envelope (kind 1); a reply slot takes a reply envelope (kind 2)",
        ));
    }
    match env.routing() {
        Routing::Slot(routed) if routed == address => {}
        _ => {
            return Err(bad_request(
                "slot_mismatch",
                "the envelope is routed to a different slot than the one in the URL; PUT it to /api/v1/slots/{the address in its routing}",
            ));
        }
    }
    match state
        .storage
        .put_slot(address, bytes.to_vec(), state.settings.clock.today())
        .await?
    {
        SlotWrite::Stored => Ok(created(
            serde_json::json!({ "address": hex::encode(address) }),
        )),
        SlotWrite::Taken => Err(ApiError::new(
            StatusCode::CONFLICT,
            "slot_taken",
            "this slot already holds a reply and slots are one-time; send the next reply to the thread's next slot",
        )),
    }
}

//! Request bodies: content-type checks and reading with a hard limit.
//!
//! It owns refusing an oversized body *before* buffering it: from the declared
//! `Content-Length` without reading a byte, and, for a body without one
//! (chunked), as soon as the bytes read so far pass the limit. It does not parse
//! what it reads.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

use super::error::ApiError;

/// Whether the request's media type (parameters ignored) is `expected`.
pub fn has_media_type(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

/// Read the whole body, refusing with 413 once it is longer than `limit`.
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    // hyper has already refused a malformed or duplicated Content-Length, and it
    // enforces that the body is exactly as long as declared.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared
        && len > limit as u64
    {
        return Err(ApiError::too_large(limit));
    }
    // The declared length (already ≤ limit) sizes the buffer; without one, start
    // small and grow: a client that declares nothing gets no free allocation.
    let capacity = declared.map_or(8 * 1024, |len| len as usize);
    let mut buf = Vec::with_capacity(capacity);
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiError::body_unreadable())?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ApiError::too_large(limit));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

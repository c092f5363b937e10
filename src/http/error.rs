//! The API's error responses: `{"error": code, "message": text}`.
//!
//! It owns the stable error codes, their statuses and their messages. Messages
//! say which check failed and what the client should do; they are written here
//! from fixed text and never quote the request (its body, headers, path or query).

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::storage::StorageError;

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code (the `error` field).
    pub code: &'static str,
    /// Human explanation (the `message` field).
    pub message: Cow<'static, str>,
    /// Seconds for a `Retry-After` header (503: try the same request again then).
    pub retry_after: Option<u32>,
}

/// The `Retry-After` of a 503 for unavailable storage, in seconds: long
/// enough for a PostgreSQL restart or an operator freeing disk space to make
/// progress, short enough that the page's few automatic retries (web/src/retry.js)
/// span about a minute.
pub const STORAGE_RETRY_AFTER_SECS: u32 = 5;

/// The `Retry-After` of a 503 while the server shuts down: another instance
/// (or this one, restarted) is usually there within seconds.
pub const SHUTDOWN_RETRY_AFTER_SECS: u32 = 2;

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error with a fixed message.
    pub const fn new(status: StatusCode, code: &'static str, message: &'static str) -> Self {
        Self {
            status,
            code,
            message: Cow::Borrowed(message),
            retry_after: None,
        }
    }

    /// An error with a composed message (composed from server-side facts only).
    pub fn with_message(status: StatusCode, code: &'static str, message: String) -> Self {
        Self {
            status,
            code,
            message: Cow::Owned(message),
            retry_after: None,
        }
    }

    /// The same error with a `Retry-After: secs` header.
    pub const fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 503: the database cannot take the request now (disk full, PostgreSQL
    /// restarting or unreachable, no pooled connection free in time). The
    /// request did nothing that needs undoing, and the challenge of a report
    /// was not spent, so the very same request can be sent again.
    pub fn storage_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the service cannot use its database at the moment, so nothing was done: a report sent now was NOT stored; send the same request again after the Retry-After seconds (a report keeps its proof of work)",
        )
        .retry_after(STORAGE_RETRY_AFTER_SECS)
    }

    /// 404 for any path outside the API's routes.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "there is no such route; the API is under /api/v1 (GET /api/v1/forces lists the forces)",
        )
    }

    /// 405 for a known route with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not accept that method; the Allow header lists the ones it does",
        )
    }

    /// 413 for a body larger than the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::with_message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the body is larger than {limit} bytes, the largest accepted here; an envelope is never larger, so check what is being sent"
            ),
        )
    }

    /// 415 for a body that is not `application/octet-stream`.
    pub fn not_octet_stream() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the envelope as the raw body with Content-Type: application/octet-stream",
        )
    }

    /// 415 for a body that is not `application/json`.
    pub fn not_json() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the request as JSON with Content-Type: application/json",
        )
    }

    /// 400 when the body could not be read to the end.
    pub fn body_unreadable() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "body_unreadable",
            "the request body could not be read to its end; send it again",
        )
    }

    /// 500 for a panic caught by the panic layer (the panic's payload is discarded).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed while handling this request; try again later",
        )
    }

    /// 408 when the whole request took longer than the configured timeout.
    pub fn timeout(secs: u64) -> Self {
        Self::with_message(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request was not completed within {secs} seconds; send it again (a report may have been stored: the inbox shows each once)"
            ),
        )
    }

    /// 429: the submission's proof-of-work challenge was already used
    /// (crypto/FORMAT.md#proof-of-work-errors).
    pub fn pow_spent() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "pow_spent",
            "this proof-of-work challenge was already used; fetch a new one from GET /api/v1/challenge, solve it over the envelope and send it again",
        )
    }

    /// 400 or 429 for a refused proof of work (crypto/FORMAT.md#proof-of-work-errors).
    pub fn pow(e: &quietline_crypto::pow::PowError) -> Self {
        use quietline_crypto::pow::PowError;
        let (status, advice) = match e {
            PowError::Malformed => (
                StatusCode::BAD_REQUEST,
                "send the challenge exactly as GET /api/v1/challenge gave it",
            ),
            PowError::Forged => (
                StatusCode::BAD_REQUEST,
                "fetch a new challenge from GET /api/v1/challenge on this service",
            ),
            PowError::Expired => (
                StatusCode::TOO_MANY_REQUESTS,
                "fetch a new challenge from GET /api/v1/challenge and solve it over the envelope",
            ),
            PowError::Outdated { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "fetch a new challenge from GET /api/v1/challenge (it carries the difficulty asked for now) and solve it over the envelope",
            ),
            PowError::Insufficient { .. } => (
                StatusCode::BAD_REQUEST,
                "solve the challenge over the exact bytes of the envelope sent (a solution for one envelope does not fit another)",
            ),
        };
        Self::with_message(status, e.code(), format!("{e}; {advice}"))
    }

    /// 400: no proof of work where one is required.
    pub fn pow_missing() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "pow_missing",
            "this server requires a proof of work with each report: fetch GET /api/v1/challenge, solve it over the envelope (crypto/FORMAT.md#proof-of-work) and send it in the Quietline-Pow header",
        )
    }

    /// 401 for a missing, malformed, unknown or revoked bearer token.
    pub fn unauthorized(message: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            Json(Body {
                error: self.code,
                message: &self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::ChallengeSpent => Self::pow_spent(),
            StorageError::WriterGone => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the server is shutting down and stored nothing; send the request again in a moment",
            )
            .retry_after(SHUTDOWN_RETRY_AFTER_SECS),
            StorageError::Unavailable(reason) => {
                // Warn, not error: the service recovers by itself once the
                // cause is gone. The driver's text names the cause (disk
                // full, connection refused …), never a bound value.
                if UNAVAILABLE_LOG.due() {
                    tracing::warn!(error = %reason, "storage unavailable; answering 503 storage_unavailable (at most one such line every 10 s while it lasts)");
                }
                Self::storage_unavailable()
            }
            other => {
                // The driver's message names tables and constraints, never bound
                // values (StorageError's contract), so it is safe in the log and is
                // what an operator needs to find the fault. The client gets no detail.
                tracing::error!(error = %other, "storage failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage_error",
                    "the server's database failed on this request; try again later",
                )
            }
        }
    }
}

/// At most one "storage unavailable" line per [`UnavailableLog::EVERY`]: a
/// full disk under load fails every submission, and one line per request
/// would flood the log (and, with a collector that stamps lines, date each
/// refused request). The line carries no count and no time.
struct UnavailableLog(std::sync::Mutex<Option<std::time::Instant>>);

static UNAVAILABLE_LOG: UnavailableLog = UnavailableLog(std::sync::Mutex::new(None));

impl UnavailableLog {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(10);

    /// Whether to write the line now (and note that it was written).
    fn due(&self) -> bool {
        let now = std::time::Instant::now();
        let mut last = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match *last {
            Some(t) if now.duration_since(t) < Self::EVERY => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Storage that cannot store now is a 503 with Retry-After, saying the
    /// request was NOT stored and to send it again; a real fault stays 500.
    #[test]
    fn unavailable_storage_is_503_with_retry_after() {
        let res = ApiError::from(StorageError::Unavailable("database or disk is full".into()))
            .into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            res.headers().get(header::RETRY_AFTER).unwrap(),
            &STORAGE_RETRY_AFTER_SECS.to_string()
        );
        let e = ApiError::storage_unavailable();
        assert_eq!(e.code, "storage_unavailable");
        assert!(e.message.contains("NOT stored"), "{}", e.message);
        assert!(
            !e.message.contains("disk"),
            "no driver detail: {}",
            e.message
        );

        let gone = ApiError::from(StorageError::WriterGone).into_response();
        assert_eq!(gone.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(gone.headers().contains_key(header::RETRY_AFTER));

        let broken = ApiError::from(StorageError::Database("no such table".into())).into_response();
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!broken.headers().contains_key(header::RETRY_AFTER));
    }
}

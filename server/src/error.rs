//! The collector's one error type and its mapping to HTTP: every failure answers with the
//! envelope `{"error":{"code","message","details"}}` (ARCHITECTURE.md §4). Internal details are
//! never sent to the client: the response carries them in an [`InternalCause`] extension, and
//! one response layer ([`log_internal_causes`], installed by [`crate::http::router`]) logs them
//! once, so mapping an error to HTTP has no side effects.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracewire_shared::validate::FieldError;
use tracewire_shared::wire::{ErrorBody, ErrorEnvelope};

use crate::store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Body is not JSON (or not UTF-8).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// Missing, unknown or revoked ingest key.
    #[error("missing, unknown or revoked ingest key")]
    InvalidKey,
    /// The key does not allow this Origin.
    #[error("origin {0:?} is not allowed for this key")]
    OriginNotAllowed(String),
    /// The key's project does not accept this source.
    #[error("this project does not accept {0} batches")]
    SourceNotAllowed(&'static str),
    /// Body or entry count over the limit.
    #[error("{0}")]
    TooLarge(String),
    /// Content-Type or Content-Encoding we do not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Fields failed validation; every one is listed.
    #[error("{}", invalid_fields(.0.len()))]
    Validation(Vec<FieldError>),
    /// The key's token bucket is empty.
    #[error("rate limit exceeded; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until enough tokens are back.
        retry_after_secs: u64,
    },
    /// The writer queue is full; nothing was queued.
    #[error("collector is busy; retry after {retry_after_secs} s")]
    Overloaded {
        /// Seconds the client should wait.
        retry_after_secs: u64,
    },
    /// The collector is shutting down.
    #[error("collector is shutting down")]
    ShuttingDown,
    /// No valid session or bearer token, or a wrong password.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but the role does not allow this (viewers are read-only).
    #[error("this action needs the admin role")]
    Forbidden,
    /// A cookie-authenticated write (or a login) whose Origin/Referer is not this collector.
    #[error("cross-site request refused: the Origin or Referer must be this collector")]
    CsrfRejected,
    /// A bug or a failed background task; details are logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
    /// Retention could not write an archive file; nothing of that batch was deleted.
    #[error("archive failed: {0}")]
    Archive(String),
    /// Storage failed; the batch was not stored.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request body did not arrive within the body timeout.
    #[error("the request body did not arrive within the body timeout")]
    RequestTimeout,
    /// The request body could not be read (the client broke off, or it was not what the route
    /// reads).
    #[error("{0}")]
    BadRequest(String),
    /// A path no route serves (API paths, and pages when no UI is built).
    #[error("no such endpoint")]
    NoSuchEndpoint,
    /// `/readyz` while the database cannot serve (the reason is the message).
    #[error("not ready: {0}")]
    NotReady(&'static str),
    /// An answer produced outside our handlers (the router's 405, a framework rejection, a
    /// middleware's refusal), put into the envelope by [`crate::http`]'s last layer.
    #[error("{message}")]
    Http {
        /// The status the framework chose.
        status: StatusCode,
        /// Its text, when it had one.
        message: String,
    },
}

/// `Retry-After` of a 503 (storage unavailable, shutting down, not ready): the writer probes
/// a failing database every 2 s, so a retry sooner would find it the same.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// Result alias for handlers and services.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn status(&self) -> StatusCode {
        match self {
            Error::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Error::InvalidKey => StatusCode::UNAUTHORIZED,
            Error::OriginNotAllowed(_) | Error::SourceNotAllowed(_) => StatusCode::FORBIDDEN,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::RateLimited { .. } | Error::Overloaded { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden | Error::CsrfRejected => StatusCode::FORBIDDEN,
            Error::Internal(_) | Error::Archive(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Store(StoreError::NotFound) => StatusCode::NOT_FOUND,
            Error::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            Error::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::NoSuchEndpoint => StatusCode::NOT_FOUND,
            Error::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Http { status, .. } => *status,
        }
    }

    pub(crate) fn code(&self) -> &'static str {
        match self {
            Error::MalformedJson(_) => "malformed_json",
            Error::InvalidKey => "invalid_key",
            Error::OriginNotAllowed(_) => "origin_not_allowed",
            Error::SourceNotAllowed(_) => "source_not_allowed",
            Error::TooLarge(_) => "too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::Validation(_) => "validation_failed",
            Error::RateLimited { .. } => "rate_limited",
            Error::Overloaded { .. } => "overloaded",
            Error::ShuttingDown => "shutting_down",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden => "forbidden",
            Error::CsrfRejected => "csrf_rejected",
            Error::Internal(_) => "internal",
            Error::Archive(_) => "archive_failed",
            Error::Store(StoreError::NotFound) => "not_found",
            Error::Store(StoreError::Conflict(_)) => "conflict",
            Error::Store(_) => "storage_unavailable",
            Error::RequestTimeout => "request_timeout",
            Error::BadRequest(_) => "bad_request",
            Error::NoSuchEndpoint => "not_found",
            Error::NotReady(_) => "unavailable",
            Error::Http { status, .. } => code_for_status(*status),
        }
    }
}

/// The summary line of a validation error, in words a form can show above its fields.
fn invalid_fields(n: usize) -> String {
    match n {
        1 => "1 field is invalid".to_owned(),
        n => format!("{n} fields are invalid"),
    }
}

/// Whether a body read failed because the body deadline (tower-http's `RequestBodyDeadline`)
/// passed; the error arrives wrapped by axum, so the whole source chain is searched.
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        current = e.source();
    }
    false
}

impl From<axum::extract::rejection::BytesRejection> for Error {
    fn from(rejection: axum::extract::rejection::BytesRejection) -> Self {
        use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
        match &rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                Error::TooLarge(rejection.body_text())
            }
            BytesRejection::FailedToBufferBody(FailedToBufferBody::UnknownBodyError(e))
                if is_body_timeout(e) =>
            {
                Error::RequestTimeout
            }
            _ => Error::BadRequest(rejection.body_text()),
        }
    }
}

/// The envelope code of an HTTP status, for answers that did not come from an [`Error`]
/// (codes match the variants' where the status means the same thing).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "http_error",
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut cause = None;
        let (message, details) = match &self {
            // Storage internals stay in our logs; the client learns only that it may retry.
            Error::Store(StoreError::NotFound) => ("not found".to_owned(), None),
            Error::Store(e) => {
                cause = Some(InternalCause {
                    kind: "storage error",
                    detail: e.to_string(),
                });
                (
                    "storage is unavailable; nothing was stored, retry later".to_owned(),
                    None,
                )
            }
            Error::Internal(detail) | Error::Archive(detail) => {
                cause = Some(InternalCause {
                    kind: "internal error",
                    detail: detail.clone(),
                });
                ("internal error".to_owned(), None)
            }
            Error::Validation(fields) => (self.to_string(), Some(json!(fields))),
            other => (other.to_string(), None),
        };
        let envelope = ErrorEnvelope {
            error: ErrorBody {
                code: self.code().to_owned(),
                message,
                details,
            },
        };
        let mut response = (status, axum::Json(envelope)).into_response();
        if let Some(cause) = cause {
            response.extensions_mut().insert(cause);
        }
        if let Error::RateLimited { retry_after_secs } | Error::Overloaded { retry_after_secs } =
            self
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            // Storage down, shutting down, not ready: clients (and SDKs, which honour it) come
            // back after a pause instead of at once, by when another collector or the database
            // may serve again.
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        response
    }
}

/// What went wrong inside, for our logs only: put on the response by [`Error`]'s
/// [`IntoResponse`] and logged by [`log_internal_causes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalCause {
    /// `storage error` or `internal error`.
    pub kind: &'static str,
    /// The error's text.
    pub detail: String,
}

/// Response layer (`axum::middleware::map_response`): logs the [`InternalCause`] of an answer,
/// once, with the request's method and path, and drops it from the response.
pub async fn log_internal_causes(
    method: axum::http::Method,
    uri: axum::http::Uri,
    mut response: Response,
) -> Response {
    if let Some(cause) = response.extensions_mut().remove::<InternalCause>() {
        tracing::error!(
            error = %cause.detail,
            status = response.status().as_u16(),
            %method,
            path = uri.path(),
            "{}",
            cause.kind
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_ride_on_the_response_not_in_the_body() {
        let response = Error::Internal("secret detail".into()).into_response();
        assert_eq!(
            response.extensions().get::<InternalCause>(),
            Some(&InternalCause {
                kind: "internal error",
                detail: "secret detail".into()
            })
        );
        assert!(
            Error::Validation(vec![])
                .into_response()
                .extensions()
                .get::<InternalCause>()
                .is_none()
        );
    }

    #[test]
    fn unavailable_answers_say_when_to_retry() {
        for e in [
            Error::Store(StoreError::Corrupt("gone".into())),
            Error::ShuttingDown,
            Error::NotReady("the database is unreachable"),
        ] {
            let response = e.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                response.headers().get(header::RETRY_AFTER),
                Some(&HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS))
            );
        }
        let not_found = Error::Store(StoreError::NotFound).into_response();
        assert!(not_found.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn framework_statuses_get_the_variants_codes() {
        assert_eq!(
            code_for_status(StatusCode::PAYLOAD_TOO_LARGE),
            Error::TooLarge(String::new()).code()
        );
        assert_eq!(
            code_for_status(StatusCode::REQUEST_TIMEOUT),
            Error::RequestTimeout.code()
        );
        assert_eq!(
            code_for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            Error::UnsupportedMediaType(String::new()).code()
        );
        assert_eq!(
            code_for_status(StatusCode::METHOD_NOT_ALLOWED),
            "method_not_allowed"
        );
        assert_eq!(code_for_status(StatusCode::BAD_GATEWAY), "internal");
    }

    #[test]
    fn the_envelope_always_has_details() {
        let body = serde_json::to_value(ErrorEnvelope {
            error: ErrorBody {
                code: "x".into(),
                message: "y".into(),
                details: None,
            },
        })
        .expect("serialize");
        assert_eq!(
            body,
            json!({"error": {"code": "x", "message": "y", "details": null}})
        );
    }

    #[test]
    fn a_body_deadline_is_found_through_axum_wrapping() {
        // What a handler sees when tower-http's deadline body gives up: axum::Error around it.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let wrapped = rt.block_on(async {
            let never = futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
            let body = tower_http::timeout::DeadlineBody::new(
                std::time::Duration::from_millis(10),
                axum::body::Body::from_stream(never),
            );
            let read = axum::body::to_bytes(axum::body::Body::new(body), usize::MAX).await;
            read.expect_err("deadline passed")
        });
        assert!(is_body_timeout(&wrapped));
        assert!(!is_body_timeout(&axum::Error::new(std::io::Error::other(
            "reset"
        ))));
    }
}

//! The API error: a status and a JSON body `{error, message}`. Internal failures are logged
//! and answered with an opaque 500, so database details never reach a client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The error body of every non-2xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable kind, e.g. `bad_request`, `not_found`.
    pub error: String,
    /// What went wrong and, for bad input, the allowed values.
    pub message: String,
}

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or names something invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no key, or an unknown one.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the key lacks the scope.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource in the caller's organization.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body or batch is too large.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 429: over the key's rate limit; retry after the given seconds.
    #[error("rate limit exceeded; retry after {0} s")]
    RateLimited(u64),
    /// Any other status with a message (used to pass framework rejections through).
    #[error("{1}")]
    Status(StatusCode, String),
    /// 500: logged, never shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Status(s, _) => *s,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            409 => "conflict",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            422 => "unprocessable_entity",
            429 => "rate_limited",
            503 => "unavailable",
            _ => "internal",
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            // Bad input that slipped past the request checks is still the caller's error.
            crate::store::StoreError::Invalid(m) => ApiError::BadRequest(m),
            e => ApiError::Internal(e.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = %format!("{e:#}"), "request failed");
        }
        let body = ErrorBody {
            error: Self::kind(status).into(),
            message: self.to_string(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::RateLimited(secs) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        // axum answers 422 for well-formed JSON of the wrong shape; bad input is a 400 here.
        match r.status() {
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::BadRequest(r.body_text()),
            status => ApiError::Status(status, r.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::Status(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::Status(r.status(), r.body_text())
    }
}

impl ApiError {
    /// A body over `max_body_bytes`, announced or read.
    pub fn body_too_large() -> ApiError {
        ApiError::PayloadTooLarge("request body is larger than max_body_bytes allows".into())
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> Self {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::body_too_large();
        }
        ApiError::Status(status, r.body_text())
    }
}

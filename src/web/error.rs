//! The admin pages' error: a status and a small HTML page. Internal failures are logged and
//! shown as an opaque message, as in the API.

use super::layout;
use crate::drain::DrainError;
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error a page handler returns.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 400: the request cannot be used.
    #[error("{0}")]
    BadRequest(String),
    /// 403: a form without a valid CSRF token, or no session for a POST.
    #[error("{0}")]
    Forbidden(String),
    /// 404: nothing of that id in the admin's organization.
    #[error("{0}")]
    NotFound(String),
    /// 500: logged, never shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => WebError::BadRequest(m),
            e => WebError::Internal(e.into()),
        }
    }
}

impl From<DrainError> for WebError {
    fn from(e: DrainError) -> Self {
        match e {
            DrainError::NotFound(m) => WebError::NotFound(m),
            DrainError::Preflight(_) | DrainError::Conflict(_) => {
                WebError::BadRequest(e.to_string())
            }
            DrainError::Store(s) => s.into(),
        }
    }
}

impl From<super::auth::AuthError> for WebError {
    fn from(e: super::auth::AuthError) -> Self {
        match e {
            super::auth::AuthError::Invalid(m) => WebError::BadRequest(m),
            super::auth::AuthError::Store(s) => s.into(),
            other => WebError::Internal(other.into()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title) = match &self {
            WebError::BadRequest(_) => (StatusCode::BAD_REQUEST, "Request not accepted"),
            WebError::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
            WebError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            WebError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "admin page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
            }
        };
        let message = match &self {
            WebError::Internal(_) => "The server could not complete the request.".to_string(),
            other => other.to_string(),
        };
        layout::with_headers(status, layout::error_page(title, &message))
    }
}

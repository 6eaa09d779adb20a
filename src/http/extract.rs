//! Extractors whose rejections are [`ApiError`]s, so every error has the `{error, message}`
//! shape, and the client facts audit records need.

use super::error::ApiError;
use crate::domain::values;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// `axum::Json` with API-shaped rejections, for bodies that are JSON objects. Text no backend
/// stores alike (U+0000, see `domain::values`) is refused with a 400 naming its field, for
/// every JSON body at once.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::Status(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request with `Content-Type: application/json`".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await?;
        require_object(&bytes)?;
        let axum::Json(tree) = axum::Json::<serde_json::Value>::from_bytes(&bytes)?;
        values::check_document(&tree).map_err(ApiError::BadRequest)?;
        serde_path_to_error::deserialize(tree)
            .map(ApiJson)
            .map_err(|e| {
                ApiError::BadRequest(format!(
                    "Failed to deserialize the JSON body into the target type: {e}"
                ))
            })
    }
}

/// Serde reads a struct from an array of its fields in order, and `[]` as all defaults; every
/// body this API takes is an object, so anything else is refused before that can happen.
fn require_object(bytes: &[u8]) -> Result<(), ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        None => Err(ApiError::BadRequest(
            "the body is empty; expected a JSON object".into(),
        )),
        Some(_) => Err(ApiError::BadRequest(
            "the body must be a JSON object `{…}`".into(),
        )),
    }
}

/// `axum::extract::Path` with API-shaped rejections; refuses U+0000 in a parameter.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            for (name, value) in &raw {
                values::check_text(name, value)
                    .map_err(|m| ApiError::BadRequest(m.replacen("field", "path parameter", 1)))?;
            }
        }
        let axum::extract::Path(t) = axum::extract::Path::from_request_parts(parts, state).await?;
        Ok(ApiPath(t))
    }
}

/// `axum::extract::Query` with API-shaped rejections; refuses U+0000 in a parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            values::check_text(&name, &value)
                .and_then(|()| values::check_text("(a parameter name)", &name))
                .map_err(|m| ApiError::BadRequest(m.replacen("field", "query parameter", 1)))?;
        }
        let axum::extract::Query(t) =
            axum::extract::Query::from_request_parts(parts, state).await?;
        Ok(ApiQuery(t))
    }
}

/// Client address and user agent, for audit records.
pub struct Client {
    /// Peer address.
    pub ip: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
}

impl Client {
    /// The audit actor of a request made with an organization key.
    pub fn actor(self, auth: &crate::http::auth::OrgAuth) -> crate::audit::Actor {
        crate::audit::Actor {
            user_id: format!("key:{}", auth.0.id),
            source_ip: self.ip,
            user_agent: self.user_agent,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Client { ip, user_agent })
    }
}

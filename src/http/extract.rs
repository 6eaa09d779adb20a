//! Extractors whose rejections are [`ApiError`]s, so every error has the `{error, message}`
//! shape, and the client facts audit records need.

use super::error::ApiError;
use crate::domain::values;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// `axum::Json` with API-shaped rejections. Text no backend stores alike (U+0000, see
/// `domain::values`) is refused with a 400 naming its field, for every JSON body at once.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(tree) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
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
    pub fn actor(self, auth: &crate::auth::OrgAuth) -> crate::audit::Actor {
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

//! Extractors that authenticate a request: [`OrgAuth`] for organization keys, [`IngestAuth`]
//! for the platform's ingest key. Both apply the per-key rate limit.

use crate::auth::keys::{ORG_KEY_PREFIX, hash_secret};
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::{OrgKey, Scope};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

/// A request made with a valid organization key.
pub struct OrgAuth(pub OrgKey);

impl OrgAuth {
    /// 403 unless the key holds one of `scopes` (`admin` holds them all).
    pub fn require(&self, scopes: &[Scope]) -> Result<(), ApiError> {
        if scopes.iter().any(|s| self.0.allows(*s)) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "this key lacks the required scope; needs one of: {}",
            Scope::join(scopes)
        )))
    }

    /// 404 unless `org_id` is the key's organization: another organization's resources do
    /// not exist for this caller.
    pub fn own_org(&self, org_id: &str) -> Result<(), ApiError> {
        if self.0.org_id == org_id {
            Ok(())
        } else {
            Err(ApiError::NotFound(format!(
                "organization `{org_id}` not found"
            )))
        }
    }

    /// The key's organization.
    pub fn org_id(&self) -> &str {
        &self.0.org_id
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized("missing `Authorization: Bearer <key>` header".into())
        })?;
    header
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("expected `Authorization: Bearer <key>`".into()))
}

impl FromRequestParts<AppState> for OrgAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let invalid = || ApiError::Unauthorized("invalid or revoked key".into());
        if !token.starts_with(ORG_KEY_PREFIX) {
            return Err(invalid());
        }
        let key = state
            .store
            .find_org_key(&hash_secret(token))
            .await?
            .ok_or_else(invalid)?;
        state
            .limits
            .check_org_key(&key.id)
            .map_err(ApiError::RateLimited)?;
        Ok(OrgAuth(key))
    }
}

/// A request made with the platform's ingest key.
pub struct IngestAuth;

impl FromRequestParts<AppState> for IngestAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let given = hash_secret(token);
        if !bool::from(given.as_bytes().ct_eq(state.ingest_key_hash.as_bytes())) {
            return Err(ApiError::Unauthorized("invalid ingest key".into()));
        }
        state.limits.check_ingest().map_err(ApiError::RateLimited)?;
        Ok(IngestAuth)
    }
}

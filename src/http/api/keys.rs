//! `/v1/keys`: the caller's organization keys (admin scope). Secrets are shown once, at creation.

use crate::audit;
use crate::auth::keys::create_org_key;
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Client};
use crate::state::AppState;
use crate::store::{OrgKey, Scope};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/keys` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Display name, not only spaces.
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
    /// Scopes: usage_export, drains, admin, analytics (read-only usage and budgets).
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
}

/// A new key with its secret — the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key.
    #[serde(flatten)]
    pub key: OrgKey,
    /// The secret for `Authorization: Bearer …`.
    pub secret: String,
}

/// The organization's keys, newest first (never with secrets).
#[utoipa::path(
    get,
    path = "/v1/keys",
    tag = "keys",
    security(("org_key" = ["admin"])),
    responses(
        (status = 200, description = "Keys", body = Vec<OrgKey>),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin", body = ErrorBody),
    )
)]
pub(super) async fn list_keys(
    auth: OrgAuth,
    State(state): State<AppState>,
) -> Result<Json<Vec<OrgKey>>, ApiError> {
    auth.require(&[Scope::Admin])?;
    Ok(Json(state.store.list_org_keys(auth.org_id()).await?))
}

/// Creates a key for the caller's organization and returns its secret once.
#[utoipa::path(
    post,
    path = "/v1/keys",
    tag = "keys",
    security(("org_key" = ["admin"])),
    request_body = CreateKey,
    responses(
        (status = 201, description = "Created; the secret is not shown again", body = CreatedKey),
        (status = 400, description = "Invalid name or scopes", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin", body = ErrorBody),
    )
)]
pub(super) async fn create_key(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    auth.require(&[Scope::Admin])?;
    if body.name.trim().is_empty() || body.scopes.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "`name` must not be empty and `scopes` needs at least one of {}",
            Scope::names()
        )));
    }
    let (key, secret) = create_org_key(
        &state.store,
        auth.org_id(),
        body.name.trim(),
        body.scopes,
        &client.actor(&auth),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key, secret })))
}

/// Revokes one of the organization's keys.
#[utoipa::path(
    delete,
    path = "/v1/keys/{key_id}",
    tag = "keys",
    security(("org_key" = ["admin"])),
    params(("key_id" = String, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin", body = ErrorBody),
        (status = 404, description = "No such active key in the organization", body = ErrorBody),
    )
)]
pub(super) async fn revoke_key(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(key_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::Admin])?;
    let audit = audit::event(
        auth.org_id(),
        audit::events::ORG_KEY_REVOKED,
        &client.actor(&auth),
        Some(&key_id),
        serde_json::json!({"key_id": key_id}),
    );
    if state
        .store
        .revoke_org_key(auth.org_id(), &key_id, &audit)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("key `{key_id}` not found")))
    }
}

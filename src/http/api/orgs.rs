//! `PUT /v1/orgs/{org_id}` (platform) and `GET /v1/orgs/{org_id}` (organization key).

use crate::domain::Id;
use crate::domain::entity::{Org, OrgInput, validate_org};
use crate::http::auth::{IngestAuth, OrgAuth};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;

/// Parses a path id, naming the parameter when it is invalid.
pub(super) fn path_id(name: &str, raw: &str) -> Result<Id, ApiError> {
    Id::parse(raw).map_err(|e| ApiError::BadRequest(format!("path parameter `{name}` {e}")))
}

/// Creates or updates an organization (billing anchor, timezone, privacy).
#[utoipa::path(
    put,
    path = "/v1/orgs/{org_id}",
    tag = "ingest",
    security(("ingest_key" = [])),
    params(("org_id" = String, Path, description = "Organization id")),
    request_body = OrgInput,
    responses(
        (status = 200, description = "The organization", body = Org),
        (status = 400, description = "Invalid settings", body = ErrorBody),
        (status = 401, description = "Missing or invalid ingest key", body = ErrorBody),
    )
)]
pub(super) async fn put_org(
    _: IngestAuth,
    State(state): State<AppState>,
    ApiPath(org_id): ApiPath<String>,
    ApiJson(input): ApiJson<OrgInput>,
) -> Result<Json<Org>, ApiError> {
    let id = path_id("org_id", &org_id)?;
    validate_org(&input).map_err(ApiError::BadRequest)?;
    Ok(Json(state.store.upsert_org(&id, &input).await?))
}

/// The caller's organization and its settings.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}",
    tag = "entities",
    security(("org_key" = [])),
    params(("org_id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The organization", body = Org),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 404, description = "Not the caller's organization", body = ErrorBody),
    )
)]
pub(super) async fn get_org(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(org_id): ApiPath<String>,
) -> Result<Json<Org>, ApiError> {
    auth.own_org(&org_id)?;
    auth.require(&[Scope::UsageExport, Scope::Drains, Scope::Admin])?;
    let org = state
        .store
        .get_org(&org_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("organization `{org_id}` not found")))?;
    Ok(Json(org))
}

//! Entity upserts by the platform and entity listings for organization keys (the export
//! wizard's team and entity pickers).

use super::orgs::path_id;
use crate::domain::entity::{
    ApiKeyInput, CustomRoleInput, EntityInput, EntityKind, MemberInput, TeamInput, WorkbookInput,
};
use crate::domain::{DataType, values};
use crate::http::auth::{IngestAuth, OrgAuth};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::paging::ApiPaging;
use crate::state::AppState;
use crate::store::paging::PagingParams;
use crate::store::{EntityPage, ListQuery, Scope};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// The answer to an entity upsert.
#[derive(Debug, Serialize, ToSchema)]
pub struct Upserted {
    /// Entity kind.
    pub kind: EntityKind,
    /// Entity id.
    pub id: String,
    /// Agents only: whether this upsert made a new version (false when the configuration is
    /// unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_version: Option<bool>,
}

fn parse_kind(raw: &str) -> Result<EntityKind, ApiError> {
    raw.parse().map_err(ApiError::BadRequest)
}

/// Reads an entity body and checks what serde cannot (text, timestamps in the window).
fn entity<T: DeserializeOwned + EntityInput>(bytes: &[u8]) -> Result<T, ApiError> {
    let input: T = body(bytes)?;
    input.check().map_err(ApiError::BadRequest)?;
    Ok(input)
}

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let invalid = |e: &dyn std::fmt::Display| ApiError::BadRequest(format!("invalid body: {e}"));
    let tree: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| invalid(&e))?;
    // The same value rules as every JSON body (see `ApiJson`).
    values::check_document(&tree).map_err(ApiError::BadRequest)?;
    serde_path_to_error::deserialize(tree).map_err(|e| invalid(&e))
}

/// Creates or updates a team, member, workbook, agent, custom role or platform API key.
///
/// Agents take the fields of the `agents` data type (without `org_id` and `agent_id`); a
/// changed configuration becomes a new version in the `agents` stream.
#[utoipa::path(
    put,
    path = "/v1/orgs/{org_id}/{kind}/{id}",
    tag = "ingest",
    security(("ingest_key" = [])),
    params(
        ("org_id" = String, Path, description = "Organization id"),
        ("kind" = EntityKind, Path, description = "teams, members, workbooks, agents, custom-roles, api-keys"),
        ("id" = String, Path, description = "Entity id"),
    ),
    request_body(content = Object, description = "TeamInput, MemberInput, WorkbookInput, CustomRoleInput, ApiKeyInput, or the agent's fields"),
    responses(
        (status = 200, description = "Stored", body = Upserted),
        (status = 400, description = "Invalid body or id", body = ErrorBody),
        (status = 401, description = "Missing or invalid ingest key", body = ErrorBody),
        (status = 404, description = "Unknown organization", body = ErrorBody),
    )
)]
pub(super) async fn put_entity(
    _: IngestAuth,
    State(state): State<AppState>,
    ApiPath((org_id, kind, id)): ApiPath<(String, String, String)>,
    bytes: Bytes,
) -> Result<Json<Upserted>, ApiError> {
    let kind = parse_kind(&kind)?;
    let id = path_id("id", &id)?;
    let store = &state.store;
    if store.get_org(&org_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "organization `{org_id}` not found; create it with PUT /v1/orgs/{org_id}"
        )));
    }
    let mut new_version = None;
    match kind {
        EntityKind::Teams => {
            store
                .upsert_team(&org_id, &id, &entity::<TeamInput>(&bytes)?)
                .await?
        }
        EntityKind::Members => {
            let m: MemberInput = entity(&bytes)?;
            if !m.email.contains('@') {
                return Err(ApiError::BadRequest(format!(
                    "field `email` `{}` is not an email address",
                    m.email
                )));
            }
            store.upsert_member(&org_id, &id, &m).await?
        }
        EntityKind::Workbooks => {
            store
                .upsert_workbook(&org_id, &id, &entity::<WorkbookInput>(&bytes)?)
                .await?
        }
        EntityKind::CustomRoles => {
            store
                .upsert_custom_role(&org_id, &id, &entity::<CustomRoleInput>(&bytes)?)
                .await?
        }
        EntityKind::ApiKeys => {
            store
                .upsert_api_key(&org_id, &id, &entity::<ApiKeyInput>(&bytes)?)
                .await?
        }
        EntityKind::Agents => new_version = Some(put_agent(&state, &org_id, &id, &bytes).await?),
    }
    Ok(Json(Upserted {
        kind,
        id: id.to_string(),
        new_version,
    }))
}

async fn put_agent(
    state: &AppState,
    org_id: &str,
    id: &crate::domain::Id,
    bytes: &[u8],
) -> Result<bool, ApiError> {
    let mut fields: serde_json::Map<String, serde_json::Value> = body(bytes)?;
    for key in ["org_id", "agent_id"] {
        if fields.contains_key(key) {
            return Err(ApiError::BadRequest(format!(
                "field `{key}` comes from the path; leave it out of the body"
            )));
        }
    }
    keep_stored_configuration(state, org_id, id, &mut fields).await?;
    fields.insert("org_id".into(), org_id.into());
    fields.insert("agent_id".into(), id.as_str().into());
    let (batch, rejected, _) = crate::ingest::validate(DataType::Agents, vec![fields.into()]);
    if let Some(r) = rejected.first() {
        return Err(ApiError::BadRequest(r.error.clone()));
    }
    Ok(state.store.insert_records(&batch).await?.accepted == 1)
}

/// Fills the fields an agent upsert leaves out from the agent's latest stored version, so an
/// update naming only what changed keeps the rest of the configuration (as for every entity
/// upsert). `null` still clears a field; the version number and time are always new.
async fn keep_stored_configuration(
    state: &AppState,
    org_id: &str,
    id: &crate::domain::Id,
    fields: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), ApiError> {
    let spec = crate::domain::catalog::spec(DataType::Agents);
    let latest = state
        .store
        .latest_agent_version(org_id, id.as_str())
        .await?;
    let Some(latest) = latest else {
        return Ok(());
    };
    for (f, v) in spec.fields.iter().zip(latest) {
        let versioning = matches!(f.id, "agent_version" | "agent_updated_ts" | "agent_id");
        if !versioning && !v.is_null() && !fields.contains_key(f.id) {
            fields.insert(f.id.to_string(), v.to_json());
        }
    }
    Ok(())
}

/// Lists an organization's teams, members, workbooks, agents, custom roles or platform API
/// keys, by name, searchable and paginated.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/{kind}",
    tag = "entities",
    security(("org_key" = [])),
    params(
        ("org_id" = String, Path, description = "Organization id"),
        ("kind" = EntityKind, Path, description = "teams, members, workbooks, agents, custom-roles, api-keys"),
        ListQuery,
        PagingParams,
    ),
    responses(
        (status = 200, description = "One page", body = EntityPage),
        (status = 400, description = "Unknown kind", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export, drains and admin", body = ErrorBody),
        (status = 404, description = "Not the caller's organization", body = ErrorBody),
    )
)]
pub(super) async fn list_entities(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath((org_id, kind)): ApiPath<(String, String)>,
    ApiPaging(paging): ApiPaging,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<EntityPage>, ApiError> {
    let query = query.with_paging(paging);
    auth.own_org(&org_id)?;
    auth.require(&[Scope::UsageExport, Scope::Drains, Scope::Admin])?;
    let kind = parse_kind(&kind)?;
    Ok(Json(
        state.store.list_entities(&org_id, kind, &query).await?,
    ))
}

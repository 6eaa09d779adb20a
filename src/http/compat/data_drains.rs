//! Reference-compatible drains: `GET /data-drains`, `POST /data-drains` and
//! `DELETE /data-drains/{id}` with the parameter names of the field catalog §1.7
//! (`organization_id`, `drain_type` = `custom_endpoint` | `s3` | `datadog`,
//! `destination_config`, `export_fields`, `project_ids`, …). The reference publishes no response
//! schema; answers use the request's own names so a client can read back what it sent.
//!
//! `destination_config` by `drain_type`: `custom_endpoint` → `{format: json|ndjson|otlp,
//! otlp_encoding?, gzip?, max_body_bytes?}` (URL, authorization header and signing secrets
//! come from the `secret_id` credential, as in the reference); `s3` → `{bucket, prefix?,
//! region?, endpoint?, format?}`; `datadog` → `{site, service?, source?, tags?}`.

use crate::drain::dest::DestinationConfig;
use crate::drain::model::Drain;
use crate::drain::request::{self, DrainRequest};
use crate::http::api::exports::org_of;
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Client};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `organization_id` query parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// The organization (must be the key's).
    #[param(required = true, nullable = false, min_length = 1)]
    pub organization_id: Option<String>,
}

/// `POST /data-drains` body (field catalog §1.7).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DataDrainRequest {
    /// The organization (required; must be the key's).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub organization_id: Option<String>,
    /// Display name (required), 1 to 200 characters, not only spaces.
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: Option<String>,
    /// `custom_endpoint`, `s3` or `datadog` (required).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub drain_type: Option<String>,
    /// workflows, agents, agent_interactions, credit_logs, audit_logs, gumstack (required).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub data_type: Option<String>,
    /// Destination settings (see the module docs).
    #[schema(value_type = Object)]
    pub destination_config: Option<serde_json::Value>,
    /// Field ids (required); the type's time field is always added.
    #[schema(required = true, nullable = false, min_items = 1)]
    pub export_fields: Option<Vec<String>>,
    /// Stored credential of the destination (required).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub secret_id: Option<String>,
    /// Teams; none means every organization team (including teams created later).
    pub project_ids: Vec<String>,
    /// Every team and personal space (extension, as on `/export_data`).
    pub include_all_workspaces: bool,
    /// Personal spaces (only these when no team or entity is named).
    pub include_personal_workspaces: bool,
    /// Workbook or agent ids.
    pub entity_ids: Vec<String>,
    /// Credit-log category.
    pub category_filter: Option<String>,
    /// Audit-log event type (one, or several comma-separated).
    pub event_type_filter: Option<String>,
    /// ISO 8601 sync start; default now.
    pub start_ts: Option<String>,
    /// Workflows: leave out child runs.
    pub hide_child_runs: bool,
}

/// A drain in the reference vocabulary.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataDrain {
    /// Drain id.
    pub id: String,
    /// Organization.
    pub organization_id: String,
    /// Name.
    pub name: String,
    /// custom_endpoint, s3, datadog.
    pub drain_type: String,
    /// Data type.
    pub data_type: String,
    /// `Active`, `Paused` or `Error`.
    pub status: String,
    /// Why it is in Error.
    pub status_reason: Option<String>,
    /// Destination settings.
    #[schema(value_type = Object)]
    pub destination_config: serde_json::Value,
    /// Field ids.
    pub export_fields: Vec<String>,
    /// Credential.
    pub secret_id: String,
    /// Teams.
    pub project_ids: Vec<String>,
    /// Every team and personal space.
    pub include_all_workspaces: bool,
    /// Personal spaces.
    pub include_personal_workspaces: bool,
    /// Workbook or agent ids.
    pub entity_ids: Vec<String>,
    /// Credit-log category.
    pub category_filter: Option<String>,
    /// Audit-log event types, comma-separated.
    pub event_type_filter: Option<String>,
    /// Sync start.
    pub start_ts: Option<DateTime<Utc>>,
    /// Child runs left out.
    pub hide_child_runs: bool,
    /// Last successful delivery.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Records delivered.
    pub records_delivered: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

fn drain_type(d: &DestinationConfig) -> &'static str {
    match d {
        DestinationConfig::Http { .. } => "custom_endpoint",
        DestinationConfig::S3 { .. } => "s3",
        DestinationConfig::Gcs { .. } => "gcs",
        DestinationConfig::AzureBlob { .. } => "azure_blob",
        DestinationConfig::Datadog { .. } => "datadog",
    }
}

impl From<&Drain> for DataDrain {
    fn from(d: &Drain) -> Self {
        let mut config = serde_json::to_value(&d.destination).unwrap_or_default();
        if let Some(o) = config.as_object_mut() {
            o.remove("type");
        }
        let status = match d.status.as_str() {
            "active" => "Active",
            "paused" => "Paused",
            _ => "Error",
        };
        DataDrain {
            id: d.id.clone(),
            organization_id: d.org_id.clone(),
            name: d.name.clone(),
            drain_type: drain_type(&d.destination).into(),
            data_type: d.data_type.as_str().into(),
            status: status.into(),
            status_reason: d.status_reason.clone(),
            destination_config: config,
            export_fields: d.scope.fields.clone(),
            secret_id: d.secret_id.clone(),
            project_ids: d.scope.teams.ids.clone(),
            include_all_workspaces: d.scope.teams.is_everything(),
            include_personal_workspaces: d.scope.teams.personal,
            entity_ids: d.scope.entity_ids.clone(),
            category_filter: d.scope.category.clone(),
            event_type_filter: (!d.scope.event_types.is_empty())
                .then(|| d.scope.event_types.join(",")),
            start_ts: d.start_ts,
            hide_child_runs: d.scope.hide_child_runs,
            last_synced_at: d.last_synced_at,
            records_delivered: d.records_delivered,
            created_at: d.created_at,
        }
    }
}

fn required_org(auth: &OrgAuth, org: Option<&str>) -> Result<(), ApiError> {
    match org {
        None | Some("") => Err(ApiError::BadRequest("organization_id is required".into())),
        Some(o) => auth.own_org(o),
    }
}

/// `destination_config` of a `drain_type`, as a destination.
fn destination(
    drain_type: Option<&str>,
    config: Option<serde_json::Value>,
) -> Result<DestinationConfig, ApiError> {
    let kind = match drain_type {
        Some("custom_endpoint") => "http",
        Some("s3") => "s3",
        Some("datadog") => "datadog",
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "drain_type: unknown `{other}`; allowed: custom_endpoint, s3, datadog"
            )));
        }
        None => {
            return Err(ApiError::BadRequest(
                "drain_type is required; allowed: custom_endpoint, s3, datadog".into(),
            ));
        }
    };
    let mut config = match config {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(v @ serde_json::Value::Object(_)) => v,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "destination_config must be an object".into(),
            ));
        }
    };
    config["type"] = kind.into();
    serde_json::from_value(config)
        .map_err(|e| ApiError::BadRequest(format!("destination_config: {e}")))
}

/// The organization's drains.
#[utoipa::path(
    get,
    path = "/data-drains",
    tag = "reference",
    security(("org_key" = ["drains"])),
    params(OrgQuery),
    responses(
        (status = 200, description = "Drains, newest first", body = Vec<DataDrain>),
        (status = 400, description = "organization_id missing", body = ErrorBody),
        (status = 404, description = "Not the key's organization", body = ErrorBody),
    )
)]
pub(super) async fn list_data_drains(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> Result<Json<Vec<DataDrain>>, ApiError> {
    auth.require(&[Scope::Drains])?;
    required_org(&auth, q.organization_id.as_deref())?;
    let drains = state.drains.list(auth.org_id()).await?;
    Ok(Json(drains.iter().map(DataDrain::from).collect()))
}

/// Creates a drain after a preflight check of its destination.
#[utoipa::path(
    post,
    path = "/data-drains",
    tag = "reference",
    security(("org_key" = ["drains"])),
    request_body = DataDrainRequest,
    responses(
        (status = 201, description = "Created", body = DataDrain),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 404, description = "Not the key's organization, or an unknown team or secret", body = ErrorBody),
        (status = 422, description = "Preflight failed; nothing was created", body = ErrorBody),
    )
)]
pub(super) async fn create_data_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<DataDrainRequest>,
) -> Result<(StatusCode, Json<DataDrain>), ApiError> {
    auth.require(&[Scope::Drains])?;
    required_org(&auth, body.organization_id.as_deref())?;
    if body.export_fields.as_ref().is_none_or(|f| f.is_empty()) {
        return Err(ApiError::BadRequest(
            "export_fields is required: a non-empty list of field ids (GET /v1/fields/{data_type})"
                .into(),
        ));
    }
    let dest = destination(body.drain_type.as_deref(), body.destination_config)?;
    let org = org_of(&state, &auth).await?;
    let req = DrainRequest {
        name: body.name,
        data_type: body.data_type,
        fields: body.export_fields,
        field_preset: None,
        workspace_ids: body.project_ids,
        include_all_workspaces: body.include_all_workspaces,
        include_personal_workspaces: body.include_personal_workspaces,
        entity_ids: body.entity_ids,
        category_filter: body.category_filter,
        permission_group_filter: None,
        event_type_filter: body
            .event_type_filter
            .map(|s| {
                s.split(',')
                    .map(|e| e.trim().to_string())
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        hide_child_runs: body.hide_child_runs,
        start_ts: body.start_ts,
        destination: Some(dest),
        secret_id: body.secret_id,
    };
    let valid = state
        .drains
        .validate(&org, &req, request::REFERENCE)
        .await?;
    let drain = state
        .drains
        .create(&org.id, valid, &client.actor(&auth))
        .await?;
    Ok((StatusCode::CREATED, Json(DataDrain::from(&drain))))
}

/// Deletes a drain (permanent).
#[utoipa::path(
    delete,
    path = "/data-drains/{drain_id}",
    tag = "reference",
    security(("org_key" = ["drains"])),
    params(("drain_id" = String, Path, description = "Drain id"), OrgQuery),
    responses(
        (status = 200, description = "Deleted", body = Object),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn delete_data_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(&[Scope::Drains])?;
    required_org(&auth, q.organization_id.as_deref())?;
    state
        .drains
        .delete(auth.org_id(), &id, &client.actor(&auth))
        .await?;
    Ok(Json(serde_json::json!({"success": true, "drain_id": id})))
}

//! `/v1/drains`: data drains of the caller's organization (drains scope) — create (with a
//! preflight check), list, read, update, delete, pause, resume, test, replay, and the log of
//! delivery attempts.

use crate::drain::DrainError;
use crate::drain::dest::DestinationConfig;
use crate::drain::model::{DeliveryAttempt, DrainStatus, DrainView};
use crate::drain::request::{self, DrainRequest, ValidateError};
use crate::drain::service::TestResult;
use crate::http::api::exports::org_of;
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Client};
use crate::state::AppState;
use crate::store::{Paging, Scope};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/drains` body; `PATCH` takes the same fields, each optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DrainBody {
    /// Display name, 1 to 200 characters, not only spaces.
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// workflows, agents, agent_interactions, credit_logs, audit_logs, tool_calls (gumstack).
    pub data_type: Option<String>,
    /// Field ids in output order (the type's time field is always added).
    pub fields: Option<Vec<String>>,
    /// Instead of fields: minimal, default, full.
    pub field_preset: Option<String>,
    /// Teams; none of the team parameters means every organization team (personal spaces
    /// only with `include_personal_workspaces`).
    pub workspace_ids: Option<Vec<String>>,
    /// Every team, personal spaces included.
    pub include_all_workspaces: Option<bool>,
    /// Personal spaces.
    pub include_personal_workspaces: Option<bool>,
    /// Workbook ids (workflows) or agent ids (agents, agent_interactions).
    pub entity_ids: Option<Vec<String>>,
    /// Credit logs: one category (internal value or label, case-insensitive).
    pub category_filter: Option<String>,
    /// Credit logs: one custom role (id or name).
    pub permission_group_filter: Option<String>,
    /// Audit logs: event types.
    pub event_type_filter: Option<Vec<String>>,
    /// Workflows: leave out child runs.
    pub hide_child_runs: Option<bool>,
    /// Deliver records from this time (ISO 8601; a past value backfills). Default: records
    /// stored from now on. Only at creation.
    pub start_ts: Option<String>,
    /// Where to deliver.
    pub destination: Option<DestinationConfig>,
    /// Secret with the destination's credentials (`POST /v1/secrets`).
    pub secret_id: Option<String>,
}

/// The organization's drains.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrainList {
    /// Newest first.
    pub items: Vec<DrainView>,
}

/// Recent delivery attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptList {
    /// Newest first.
    pub items: Vec<DeliveryAttempt>,
}

/// `GET …/deliveries` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AttemptsQuery {
    /// How many, 1–500 (the paging rule of every listing). Default 50.
    #[param(minimum = 1, maximum = 500, value_type = Option<u32>, nullable = false)]
    pub limit: Option<String>,
}

/// `POST …/replay` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// First instant of the window (inclusive), RFC 3339.
    pub from: DateTime<Utc>,
    /// End of the window (exclusive), RFC 3339.
    pub to: DateTime<Utc>,
}

/// A started replay.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayStarted {
    /// Replay id; its batches carry keys `replay-{id}-…`.
    pub replay_id: String,
    /// Drain.
    pub drain_id: String,
    /// Window start.
    pub from: DateTime<Utc>,
    /// Window end (exclusive).
    pub to: DateTime<Utc>,
}

impl From<DrainError> for ApiError {
    fn from(e: DrainError) -> Self {
        match e {
            DrainError::NotFound(m) => ApiError::NotFound(m),
            DrainError::Preflight(_) => {
                ApiError::Status(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            DrainError::Conflict(m) => ApiError::Conflict(m),
            DrainError::Store(s) => s.into(),
        }
    }
}

impl From<ValidateError> for ApiError {
    fn from(e: ValidateError) -> Self {
        match e {
            ValidateError::Input(i) => i.into(),
            ValidateError::Store(s) => s.into(),
        }
    }
}

impl DrainBody {
    /// The request, with `base` (an existing drain's settings) under what the body leaves out.
    fn into_request(self, base: Option<DrainRequest>) -> DrainRequest {
        let b = base.unwrap_or_default();
        let scope_given = self.workspace_ids.is_some()
            || self.include_all_workspaces.is_some()
            || self.include_personal_workspaces.is_some();
        let fields_given = self.fields.is_some() || self.field_preset.is_some();
        DrainRequest {
            name: self.name.or(b.name),
            data_type: self.data_type.or(b.data_type),
            fields: if fields_given { self.fields } else { b.fields },
            field_preset: if fields_given {
                self.field_preset
            } else {
                b.field_preset
            },
            workspace_ids: if scope_given {
                self.workspace_ids.unwrap_or_default()
            } else {
                b.workspace_ids
            },
            include_all_workspaces: if scope_given {
                self.include_all_workspaces.unwrap_or_default()
            } else {
                b.include_all_workspaces
            },
            include_personal_workspaces: if scope_given {
                self.include_personal_workspaces.unwrap_or_default()
            } else {
                b.include_personal_workspaces
            },
            entity_ids: self.entity_ids.unwrap_or(b.entity_ids),
            category_filter: self.category_filter.or(b.category_filter),
            permission_group_filter: self.permission_group_filter.or(b.permission_group_filter),
            event_type_filter: self.event_type_filter.unwrap_or(b.event_type_filter),
            hide_child_runs: self.hide_child_runs.unwrap_or(b.hide_child_runs),
            start_ts: self.start_ts.or(b.start_ts),
            destination: self.destination.or(b.destination),
            secret_id: self.secret_id.or(b.secret_id),
        }
    }
}

/// Creates a drain: validates, runs the destination's preflight check, stores it.
#[utoipa::path(
    post,
    path = "/v1/drains",
    tag = "drains",
    security(("org_key" = ["drains"])),
    request_body = DrainBody,
    responses(
        (status = 201, description = "Created and active", body = DrainView),
        (status = 400, description = "A parameter is invalid; the message names it and the allowed values", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks drains", body = ErrorBody),
        (status = 404, description = "A named team or secret does not exist", body = ErrorBody),
        (status = 422, description = "The destination failed its preflight check; nothing was stored", body = ErrorBody),
    )
)]
pub(super) async fn create_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<DrainBody>,
) -> Result<(StatusCode, Json<DrainView>), ApiError> {
    auth.require(&[Scope::Drains])?;
    let org = org_of(&state, &auth).await?;
    let req = body.into_request(None);
    let valid = state.drains.validate(&org, &req, request::NATIVE).await?;
    let drain = state
        .drains
        .create(&org.id, valid, &client.actor(&auth))
        .await?;
    Ok((StatusCode::CREATED, Json(drain.view(Utc::now()))))
}

/// The organization's drains, newest first.
#[utoipa::path(
    get,
    path = "/v1/drains",
    tag = "drains",
    security(("org_key" = ["drains"])),
    responses(
        (status = 200, description = "Drains", body = DrainList),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks drains", body = ErrorBody),
    )
)]
pub(super) async fn list_drains(
    auth: OrgAuth,
    State(state): State<AppState>,
) -> Result<Json<DrainList>, ApiError> {
    auth.require(&[Scope::Drains])?;
    let now = Utc::now();
    let items = state
        .drains
        .list(auth.org_id())
        .await?
        .iter()
        .map(|d| d.view(now))
        .collect();
    Ok(Json(DrainList { items }))
}

/// One drain, with its status, lag and counters.
#[utoipa::path(
    get,
    path = "/v1/drains/{id}",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id")),
    responses(
        (status = 200, description = "The drain", body = DrainView),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn get_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DrainView>, ApiError> {
    auth.require(&[Scope::Drains])?;
    let d = state.drains.get(auth.org_id(), &id).await?;
    Ok(Json(d.view(Utc::now())))
}

/// Changes a drain's settings; a changed destination or secret is preflighted first.
#[utoipa::path(
    patch,
    path = "/v1/drains/{id}",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id")),
    request_body = DrainBody,
    responses(
        (status = 200, description = "Updated", body = DrainView),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
        (status = 409, description = "data_type cannot change", body = ErrorBody),
        (status = 422, description = "The new destination failed its preflight check; nothing changed", body = ErrorBody),
    )
)]
pub(super) async fn update_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DrainBody>,
) -> Result<Json<DrainView>, ApiError> {
    auth.require(&[Scope::Drains])?;
    if body.start_ts.is_some() {
        return Err(ApiError::BadRequest(
            "start_ts: can only be set when a drain is created; use POST /v1/drains/{id}/replay to re-deliver a past window".into(),
        ));
    }
    let org = org_of(&state, &auth).await?;
    let current = state.drains.get(&org.id, &id).await?;
    let req = body.into_request(Some(DrainRequest::of(&current)));
    let valid = state.drains.validate(&org, &req, request::NATIVE).await?;
    let d = state
        .drains
        .update(&org.id, &id, valid, &client.actor(&auth))
        .await?;
    Ok(Json(d.view(Utc::now())))
}

/// Deletes a drain. Permanent: a new drain starts from now.
#[utoipa::path(
    delete,
    path = "/v1/drains/{id}",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn delete_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::Drains])?;
    state
        .drains
        .delete(auth.org_id(), &id, &client.actor(&auth))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a drain; it keeps its cursor.
#[utoipa::path(
    post,
    path = "/v1/drains/{id}/pause",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id")),
    responses(
        (status = 200, description = "Paused", body = DrainView),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn pause_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DrainView>, ApiError> {
    auth.require(&[Scope::Drains])?;
    let d = state
        .drains
        .set_status(
            auth.org_id(),
            &id,
            DrainStatus::Paused,
            &client.actor(&auth),
        )
        .await?;
    Ok(Json(d.view(Utc::now())))
}

/// Resumes a paused or failed drain from its cursor.
#[utoipa::path(
    post,
    path = "/v1/drains/{id}/resume",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id")),
    responses(
        (status = 200, description = "Active again", body = DrainView),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn resume_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DrainView>, ApiError> {
    auth.require(&[Scope::Drains])?;
    let d = state
        .drains
        .set_status(
            auth.org_id(),
            &id,
            DrainStatus::Active,
            &client.actor(&auth),
        )
        .await?;
    Ok(Json(d.view(Utc::now())))
}

/// Sends one synthetic record to the destination now.
#[utoipa::path(
    post,
    path = "/v1/drains/{id}/test",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id")),
    responses(
        (status = 200, description = "What the destination answered (ok false on failure)", body = TestResult),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn test_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TestResult>, ApiError> {
    auth.require(&[Scope::Drains])?;
    Ok(Json(state.drains.test(auth.org_id(), &id).await?))
}

/// Re-delivers the records of `[from, to)` with fresh idempotency keys; the live cursor does
/// not move.
#[utoipa::path(
    post,
    path = "/v1/drains/{id}/replay",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id")),
    request_body = ReplayBody,
    responses(
        (status = 202, description = "Replay started", body = ReplayStarted),
        (status = 400, description = "to is not after from", body = ErrorBody),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn replay_drain(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReplayBody>,
) -> Result<(StatusCode, Json<ReplayStarted>), ApiError> {
    auth.require(&[Scope::Drains])?;
    if body.to <= body.from {
        return Err(ApiError::BadRequest(format!(
            "to: the window end ({}) must be after its start ({})",
            body.to, body.from
        )));
    }
    let replay_id = state
        .drains
        .replay(auth.org_id(), &id, body.from, body.to)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReplayStarted {
            replay_id,
            drain_id: id,
            from: body.from,
            to: body.to,
        }),
    ))
}

/// The drain's most recent delivery attempts (status code, error, duration, batch size).
#[utoipa::path(
    get,
    path = "/v1/drains/{id}/deliveries",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id"), AttemptsQuery),
    responses(
        (status = 200, description = "Attempts, newest first", body = AttemptList),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn list_deliveries(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AttemptsQuery>,
) -> Result<Json<AttemptList>, ApiError> {
    auth.require(&[Scope::Drains])?;
    let limit = Paging::size("limit", q.limit.as_deref()).map_err(ApiError::BadRequest)?;
    let d = state.drains.get(auth.org_id(), &id).await?;
    let items = state.drains.attempts(&d, limit.into()).await?;
    Ok(Json(AttemptList { items }))
}

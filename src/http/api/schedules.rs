//! `/v1/export-schedules`: scheduled exports of the caller's organization (usage_export
//! scope) — create, list, read, change, delete, pause, resume, run now, and the run history.

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Client};
use crate::schedule::model::{CadenceSpec, Deliver, ExportTemplate};
use crate::schedule::{Schedule, ScheduleBody, ScheduleError, ScheduleRun, ScheduleState};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A schedule as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    /// Schedule id (`sch_…`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// active, paused or error.
    pub state: ScheduleState,
    /// Why it is in `error`.
    pub state_reason: Option<String>,
    /// What each run exports.
    pub export: ExportTemplate,
    /// When it runs.
    pub cadence: CadenceSpec,
    /// The cadence in words: "Monthly on the 1st at 06:00, Europe/Berlin".
    pub cadence_text: String,
    /// Who gets the files.
    pub deliver: Deliver,
    /// The next run, RFC 3339 with the schedule zone's offset (none while paused or in error).
    pub next_run_at: Option<String>,
    /// The latest run.
    pub last_run: Option<RunView>,
    /// Failed runs in a row.
    pub failed_runs: i64,
    /// Who created it.
    pub created_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// One run: a period of the schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    /// Run id.
    pub id: String,
    /// First instant of the period, RFC 3339 with the local offset.
    pub period_start: String,
    /// First instant after the period, RFC 3339 with the local offset.
    pub period_end: String,
    /// REQUESTED, IN_PROGRESS, COMPLETED, FAILED or SKIPPED.
    pub state: String,
    /// `schedule` (its run time, or catch-up) or `manual` (`POST …/run`).
    pub trigger: String,
    /// The export job.
    pub export_id: Option<String>,
    /// Rows exported.
    pub rows: Option<i64>,
    /// File size.
    pub bytes: Option<i64>,
    /// Targets reached: `email`, `s3:{key}`, `http`.
    pub delivered: Vec<String>,
    /// Why it was skipped or failed.
    pub error: Option<String>,
    /// A signed, expiring download link (completed runs).
    pub download_url: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Delivered or failed.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The organization's schedules.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    /// Newest first.
    pub items: Vec<ScheduleView>,
}

/// A schedule's runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    /// Newest period first (the latest 100).
    pub items: Vec<RunView>,
}

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> Self {
        match e {
            ScheduleError::Input(i) => i.into(),
            ScheduleError::NotFound(m) => ApiError::NotFound(m),
            ScheduleError::Store(s) => s.into(),
        }
    }
}

/// The API view of a run.
pub async fn run_view(state: &AppState, s: &Schedule, run: ScheduleRun) -> RunView {
    let tz = s.cadence.tz();
    let download_url = match state.schedules.export_of(&run).await {
        Ok(Some(job)) => state.exports.download_url(&job),
        _ => None,
    };
    RunView {
        id: run.id.clone(),
        period_start: run.period_start.with_timezone(&tz).to_rfc3339(),
        period_end: run.period_end.with_timezone(&tz).to_rfc3339(),
        state: run.state(),
        trigger: run.trigger.clone(),
        export_id: run.export_id.clone(),
        rows: run.rows,
        bytes: run.bytes,
        delivered: run.delivered.clone(),
        error: run.reason(),
        download_url,
        created_at: run.created_at,
        finished_at: run.finished_at,
    }
}

/// The API view of a schedule, with its latest run.
pub async fn schedule_view(state: &AppState, s: Schedule) -> Result<ScheduleView, ApiError> {
    let last = match state.schedules.last_run(&s).await? {
        Some(run) => Some(run_view(state, &s, run).await),
        None => None,
    };
    let anchor = state
        .store
        .get_org(&s.org_id)
        .await?
        .map_or(1, |o| o.billing_anchor_day);
    let tz = s.cadence.tz();
    Ok(ScheduleView {
        cadence_text: s.cadence.cadence(anchor).to_string(),
        next_run_at: s
            .next_run_at
            .filter(|_| s.state == ScheduleState::Active)
            .map(|t| t.with_timezone(&tz).to_rfc3339()),
        last_run: last,
        id: s.id,
        name: s.name,
        state: s.state,
        state_reason: s.state_reason,
        export: s.export,
        cadence: s.cadence,
        deliver: s.deliver,
        failed_runs: s.failed_runs,
        created_by: s.created_by,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
}

/// Creates a schedule; its first run is the next run time of its cadence.
#[utoipa::path(
    post,
    path = "/v1/export-schedules",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    request_body = ScheduleBody,
    responses(
        (status = 201, description = "Created and active", body = ScheduleView),
        (status = 400, description = "A parameter is invalid; the message names it and the allowed values", body = ErrorBody),
        (status = 404, description = "A named team, member or secret does not exist", body = ErrorBody),
    )
)]
pub(super) async fn create_schedule(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<(StatusCode, Json<ScheduleView>), ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let s = state
        .schedules
        .create(auth.org_id(), body, &client.actor(&auth), Utc::now())
        .await?;
    Ok((StatusCode::CREATED, Json(schedule_view(&state, s).await?)))
}

/// The organization's schedules, newest first.
#[utoipa::path(
    get,
    path = "/v1/export-schedules",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    responses((status = 200, description = "Schedules", body = ScheduleList))
)]
pub(super) async fn list_schedules(
    auth: OrgAuth,
    State(state): State<AppState>,
) -> Result<Json<ScheduleList>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let mut items = Vec::new();
    for s in state.schedules.list(auth.org_id()).await? {
        items.push(schedule_view(&state, s).await?);
    }
    Ok(Json(ScheduleList { items }))
}

/// One schedule.
#[utoipa::path(
    get,
    path = "/v1/export-schedules/{id}",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 404, description = "No such schedule in the organization", body = ErrorBody),
    )
)]
pub(super) async fn get_schedule(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let s = state.schedules.get(auth.org_id(), &id).await?;
    Ok(Json(schedule_view(&state, s).await?))
}

/// Changes a schedule: each given part (`name`, `export`, `cadence`, `deliver`) replaces the
/// stored one; a changed cadence starts from its next run time.
#[utoipa::path(
    patch,
    path = "/v1/export-schedules/{id}",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Schedule id")),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "Changed", body = ScheduleView),
        (status = 400, description = "A parameter is invalid; the message names it and the allowed values", body = ErrorBody),
        (status = 404, description = "No such schedule in the organization (or a named team, member or secret)", body = ErrorBody),
    )
)]
pub(super) async fn update_schedule(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<ScheduleView>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let s = state
        .schedules
        .update(auth.org_id(), &id, body, &client.actor(&auth), Utc::now())
        .await?;
    Ok(Json(schedule_view(&state, s).await?))
}

/// Deletes a schedule and its run history (its exports stay in the export history).
#[utoipa::path(
    delete,
    path = "/v1/export-schedules/{id}",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such schedule in the organization", body = ErrorBody),
    )
)]
pub(super) async fn delete_schedule(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    state
        .schedules
        .delete(auth.org_id(), &id, &client.actor(&auth))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_active(
    auth: OrgAuth,
    state: AppState,
    client: Client,
    id: String,
    active: bool,
) -> Result<Json<ScheduleView>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let s = state
        .schedules
        .set_active(auth.org_id(), &id, active, &client.actor(&auth), Utc::now())
        .await?;
    Ok(Json(schedule_view(&state, s).await?))
}

/// Pauses a schedule: it runs nothing until resumed.
#[utoipa::path(
    post,
    path = "/v1/export-schedules/{id}/pause",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "Paused", body = ScheduleView),
        (status = 404, description = "No such schedule in the organization", body = ErrorBody),
    )
)]
pub(super) async fn pause_schedule(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    set_active(auth, state, client, id, false).await
}

/// Resumes a paused schedule or one in `error`: it runs again from its next run time
/// (periods passed meanwhile are not caught up; `…/run` runs the latest one).
#[utoipa::path(
    post,
    path = "/v1/export-schedules/{id}/resume",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "Active", body = ScheduleView),
        (status = 404, description = "No such schedule in the organization", body = ErrorBody),
    )
)]
pub(super) async fn resume_schedule(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    set_active(auth, state, client, id, true).await
}

/// Runs the most recent complete period now. Idempotent: when that period already ran (on
/// schedule or on demand), the answer is that run, with 200 instead of 202.
#[utoipa::path(
    post,
    path = "/v1/export-schedules/{id}/run",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 202, description = "Queued: the run of the most recent complete period", body = RunView),
        (status = 200, description = "That period had already run: its run", body = RunView),
        (status = 404, description = "No such schedule in the organization", body = ErrorBody),
    )
)]
pub(super) async fn run_schedule(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let now = state
        .schedules
        .run_now(auth.org_id(), &id, Utc::now())
        .await?;
    let s = state.schedules.get(auth.org_id(), &id).await?;
    let status = if now.created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(run_view(&state, &s, now.run).await)))
}

/// A schedule's runs, newest period first.
#[utoipa::path(
    get,
    path = "/v1/export-schedules/{id}/runs",
    tag = "schedules",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "Runs", body = RunList),
        (status = 404, description = "No such schedule in the organization", body = ErrorBody),
    )
)]
pub(super) async fn list_runs(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RunList>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let s = state.schedules.get(auth.org_id(), &id).await?;
    let mut items = Vec::new();
    for run in state.schedules.runs(auth.org_id(), &id, 100).await? {
        items.push(run_view(&state, &s, run).await);
    }
    Ok(Json(RunList { items }))
}

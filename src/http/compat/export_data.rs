//! Reference-compatible one-time exports: `POST /export_data` and `GET /export_status`, with
//! the parameter names, defaults, scoping rule and states of the field catalog §1.5–1.6, so
//! clients written for the reference product work unchanged. Files are CSV, as there.
//!
//! Beyond the reference: `timezone` (default UTC, so `…Z` dates mean what they say) and
//! `audit_logs` / `tool_calls` as data types. The scoping rule: the team-scoped types
//! (workflows, agents, agent_interactions) must name `workspace_ids`,
//! `include_all_workspaces`, `include_personal_workspaces` or `entity_ids`; the
//! organization-wide types (credit_logs, audit_logs, gumstack) need none and refuse
//! `workspace_ids` / `entity_ids` (see [`crate::export::filters`]). Unknown keys are refused,
//! as on `/v1/exports`, so a misspelt filter never silently widens an export.

use crate::export::spec::{ExportInput, REFERENCE};
use crate::export::{ExportJob, JobState};
use crate::http::api::exports::{create_job, file_response};
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Client};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /export_data` body (field catalog §1.5).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ExportDataRequest {
    /// Requesting user (required).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub user_id: Option<String>,
    /// Default `workflows`.
    #[schema(nullable = false, min_length = 1)]
    pub data_type: Option<String>,
    /// Field ids (required).
    #[schema(required = true, nullable = false, min_items = 1)]
    pub export_fields: Option<Vec<String>>,
    /// ISO 8601 start (required).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub start_date: Option<String>,
    /// ISO 8601 end (required).
    #[schema(required = true, nullable = false, min_length = 1)]
    pub end_date: Option<String>,
    /// `workspace` (exactly one `workspace_ids`) or `organization` (default).
    pub export_level: Option<String>,
    /// Every team, personal spaces included.
    pub include_all_workspaces: bool,
    /// Personal spaces.
    pub include_personal_workspaces: bool,
    /// Teams.
    pub workspace_ids: Vec<String>,
    /// Workbook or agent ids.
    pub entity_ids: Vec<String>,
    /// Credit-log category.
    pub category_filter: Option<String>,
    /// Credit-log custom role.
    pub permission_group_filter: Option<String>,
    /// `organization` (default) or `personal`.
    pub export_scope: Option<String>,
    /// Audit-log event types (extension).
    pub event_type_filter: Vec<String>,
    /// IANA zone the dates are read in (extension; default UTC).
    pub timezone: Option<String>,
}

/// `POST /export_data` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportDataResponse {
    /// Whether the job started.
    pub success: bool,
    /// Job id for `/export_status`.
    pub data_export_id: String,
    /// Always `REQUESTED`.
    pub state: JobState,
    /// Creation time.
    pub created_ts: DateTime<Utc>,
}

/// `GET /export_status` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Requesting user (required).
    #[param(required = true, nullable = false, min_length = 1)]
    pub user_id: Option<String>,
    /// Job id (required).
    #[param(required = true, nullable = false, min_length = 1)]
    pub data_export_id: Option<String>,
    /// Answer with the CSV once completed. Default false.
    #[serde(default)]
    pub download: bool,
}

/// `GET /export_status` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportStatus {
    /// Job id.
    pub data_export_id: String,
    /// REQUESTED, IN_PROGRESS, COMPLETED, FAILED (and CANCELLED, EXPIRED).
    pub state: JobState,
    /// Creation time.
    pub created_ts: DateTime<Utc>,
    /// Present once COMPLETED or FAILED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_ts: Option<DateTime<Utc>>,
}

/// The 409 body of `download=true` on a job with no file: the usual `{error, message}` plus
/// the job id and state, so a polling script can tell "not yet" from "never".
#[derive(Debug, Serialize, ToSchema)]
pub struct NotDownloadable {
    /// Always `conflict`.
    pub error: String,
    /// Why there is no file yet (or ever).
    pub message: String,
    /// Job id.
    pub data_export_id: String,
    /// The job's state: REQUESTED or IN_PROGRESS (poll again), FAILED or CANCELLED (no file).
    pub state: JobState,
}

fn not_downloadable(job: &ExportJob) -> Response {
    let message = match job.state {
        JobState::Requested | JobState::InProgress => format!(
            "export `{}` is {}; poll again until it is COMPLETED to download its file",
            job.id, job.state
        ),
        other => format!("export `{}` is {other}; it has no file to download", job.id),
    };
    let body = NotDownloadable {
        error: "conflict".into(),
        message,
        data_export_id: job.id.clone(),
        state: job.state,
    };
    (StatusCode::CONFLICT, Json(body)).into_response()
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::BadRequest(format!("{name} is required")))
}

impl TryFrom<ExportDataRequest> for ExportInput {
    type Error = ApiError;

    /// The request the body stands for, with the reference defaults (`workflows`, UTC, CSV);
    /// refuses a missing required parameter and a bad `export_level`.
    fn try_from(body: ExportDataRequest) -> Result<Self, ApiError> {
        let user_id = required(body.user_id, "user_id")?;
        let export_fields = required(body.export_fields, "export_fields")?;
        let start = required(body.start_date, "start_date")?;
        let end = required(body.end_date, "end_date")?;
        match body.export_level.as_deref().unwrap_or("organization") {
            "organization" => {}
            "workspace" if body.workspace_ids.len() == 1 => {}
            "workspace" => {
                return Err(ApiError::BadRequest(format!(
                    "export_level `workspace` requires exactly one id in workspace_ids (got {})",
                    body.workspace_ids.len()
                )));
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown export_level `{other}`; allowed: workspace, organization"
                )));
            }
        }
        Ok(ExportInput {
            data_type: Some(body.data_type.unwrap_or_else(|| "workflows".into())),
            start: Some(start),
            end: Some(end),
            timezone: Some(body.timezone.unwrap_or_else(|| "UTC".into())),
            workspace_ids: body.workspace_ids,
            include_all_workspaces: body.include_all_workspaces,
            include_personal_workspaces: body.include_personal_workspaces,
            entity_ids: body.entity_ids,
            export_scope: body.export_scope,
            user_id: Some(user_id),
            category_filter: body.category_filter,
            permission_group_filter: body.permission_group_filter,
            event_type_filter: body.event_type_filter,
            fields: Some(export_fields),
            format: Some("csv".into()),
            ..ExportInput::default()
        })
    }
}

/// Starts an export job (reference API).
#[utoipa::path(
    post,
    path = "/export_data",
    tag = "reference",
    security(("org_key" = ["usage_export"])),
    request_body = ExportDataRequest,
    responses(
        (status = 200, description = "Started", body = ExportDataResponse),
        (status = 400, description = "Missing or bad parameter, bad export_level, or no scoping parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export", body = ErrorBody),
        (status = 404, description = "User or workspace not found", body = ErrorBody),
    )
)]
pub(super) async fn export_data(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<ExportDataRequest>,
) -> Result<Json<ExportDataResponse>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let input = ExportInput::try_from(body)?;
    let actor = client.actor(&auth);
    let job = create_job(&state, &auth, &actor, input, REFERENCE).await?;
    Ok(Json(ExportDataResponse {
        success: true,
        data_export_id: job.id,
        state: JobState::Requested,
        created_ts: job.created_at,
    }))
}

/// An export job's state, or its CSV once completed (`download=true`).
#[utoipa::path(
    get,
    path = "/export_status",
    tag = "reference",
    security(("org_key" = ["usage_export"])),
    params(StatusQuery),
    responses(
        (status = 200, description = "State as JSON, or the CSV file with download=true", body = ExportStatus),
        (status = 409, description = "download=true and the job has no file (not COMPLETED)", body = NotDownloadable),
        (status = 400, description = "data_export_id or user_id missing", body = ErrorBody),
        (status = 403, description = "Export owned by another user", body = ErrorBody),
        (status = 404, description = "Export not found, or its file is no longer available", body = ErrorBody),
    )
)]
pub(super) async fn export_status(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<Response, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let id = required(q.data_export_id, "data_export_id")?;
    let user = required(q.user_id, "user_id")?;
    let job = state
        .exports
        .get(auth.org_id(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("export `{id}` not found")))?;
    if job.requested_by != user {
        return Err(ApiError::Forbidden(format!(
            "export `{id}` belongs to another user"
        )));
    }
    if q.download {
        if matches!(job.state, JobState::Completed | JobState::Expired) {
            return file_response(&state, &job, &client.actor(&auth)).await;
        }
        // Never a 200 without the file: `curl … > x.csv` must not save this JSON as the data.
        return Ok(not_downloadable(&job));
    }
    let finished_ts = match job.state {
        JobState::Completed | JobState::Failed => job.finished_at,
        _ => None,
    };
    Ok(Json(ExportStatus {
        data_export_id: job.id,
        state: job.state,
        created_ts: job.created_at,
        finished_ts,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> ExportDataRequest {
        ExportDataRequest {
            user_id: Some("u1".into()),
            export_fields: Some(vec!["run_id".into()]),
            start_date: Some("2026-03-01".into()),
            end_date: Some("2026-03-31".into()),
            ..ExportDataRequest::default()
        }
    }

    #[test]
    fn the_reference_defaults_are_filled_in() {
        let i = ExportInput::try_from(body()).unwrap();
        assert_eq!(i.data_type.as_deref(), Some("workflows"));
        assert_eq!(i.timezone.as_deref(), Some("UTC"));
        assert_eq!(i.format.as_deref(), Some("csv"));
        assert_eq!(i.user_id.as_deref(), Some("u1"));
        assert!(i.preset.is_none() && i.field_preset.is_none() && !i.gzip);
    }

    #[test]
    fn missing_parameters_and_bad_levels_are_refused_in_order() {
        let message = |b: ExportDataRequest| match ExportInput::try_from(b) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        };
        let no_user = ExportDataRequest {
            user_id: None,
            start_date: None,
            ..body()
        };
        assert_eq!(message(no_user), "user_id is required");
        let workspace = ExportDataRequest {
            export_level: Some("workspace".into()),
            ..body()
        };
        assert_eq!(
            message(workspace),
            "export_level `workspace` requires exactly one id in workspace_ids (got 0)"
        );
        let other = ExportDataRequest {
            export_level: Some("team".into()),
            ..body()
        };
        assert_eq!(
            message(other),
            "unknown export_level `team`; allowed: workspace, organization"
        );
    }
}

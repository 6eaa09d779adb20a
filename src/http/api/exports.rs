//! `/v1/exports`: one-time export jobs of the caller's organization (usage_export scope), and
//! `/v1/downloads/…`: the signed download links that need no key.

use crate::audit::Actor;
use crate::domain::entity::Org;
use crate::export::files::{SignatureError, org_of_key};
use crate::export::request::RequestError;
use crate::export::spec::{self, ExportInput, InputError};
use crate::export::{CancelOutcome, ExportJob, JobState};
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Client};
use crate::http::paging::ApiPaging;
use crate::state::AppState;
use crate::store::paging::PagingParams;
use crate::store::{Paging, Scope};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/exports` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CreateExport {
    /// workflows, agents, agent_interactions, credit_logs, audit_logs, tool_calls (or gumstack).
    #[schema(required = true, min_length = 1)]
    pub data_type: String,
    /// Start: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`, wall-clock time in `timezone`; with a
    /// trailing `Z` or `±HH:MM`, that exact instant.
    pub start: Option<String>,
    /// End, inclusive at its precision (a date covers that whole day).
    pub end: Option<String>,
    /// IANA zone for the range; default the organization's.
    pub timezone: Option<String>,
    /// Instead of start/end: this_billing_period, last_billing_period, this_month, last_month,
    /// this_week, last_week, last_7_days, last_30_days, last_90_days.
    pub preset: Option<String>,
    /// Team ids.
    pub workspace_ids: Vec<String>,
    /// Every team, personal spaces included.
    pub include_all_workspaces: bool,
    /// Personal spaces.
    pub include_personal_workspaces: bool,
    /// Workbook ids (workflows) or agent ids (agents, agent_interactions).
    pub entity_ids: Vec<String>,
    /// `organization` (default) or `personal` (only `user_id`'s own rows).
    pub export_scope: Option<String>,
    /// The requesting member: gets the completion email; required for the personal scope.
    pub user_id: Option<String>,
    /// Credit logs: one category (internal value or label, case-insensitive).
    pub category_filter: Option<String>,
    /// Credit logs: one custom role (id or name).
    pub permission_group_filter: Option<String>,
    /// Audit logs: event types.
    pub event_type_filter: Vec<String>,
    /// Field ids in output order.
    pub fields: Option<Vec<String>>,
    /// Instead of fields: minimal, default, full.
    pub field_preset: Option<String>,
    /// csv (default), ndjson, parquet.
    pub format: Option<String>,
    /// Gzip the file (csv, ndjson).
    pub gzip: bool,
    /// Prefix cells a spreadsheet would run as formulas with `'` (CSV; default true).
    pub neutralise_formulas: Option<bool>,
    /// Timestamps with the offset of `timezone` instead of UTC.
    pub local_timestamps: bool,
}

impl From<CreateExport> for ExportInput {
    /// The request the body stands for (an empty `data_type` counts as missing).
    fn from(body: CreateExport) -> Self {
        ExportInput {
            data_type: Some(body.data_type).filter(|d| !d.is_empty()),
            start: body.start,
            end: body.end,
            timezone: body.timezone,
            preset: body.preset,
            workspace_ids: body.workspace_ids,
            include_all_workspaces: body.include_all_workspaces,
            include_personal_workspaces: body.include_personal_workspaces,
            entity_ids: body.entity_ids,
            export_scope: body.export_scope,
            user_id: body.user_id,
            category_filter: body.category_filter,
            permission_group_filter: body.permission_group_filter,
            event_type_filter: body.event_type_filter,
            fields: body.fields,
            field_preset: body.field_preset,
            format: body.format,
            gzip: body.gzip,
            neutralise_formulas: body.neutralise_formulas,
            local_timestamps: body.local_timestamps,
            ..ExportInput::default()
        }
    }
}

/// An export job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportView {
    /// Job id.
    pub id: String,
    /// REQUESTED, IN_PROGRESS, COMPLETED, FAILED, CANCELLED, EXPIRED.
    pub state: JobState,
    /// Data type.
    pub data_type: String,
    /// First instant of the range.
    pub start: DateTime<Utc>,
    /// First instant after the range.
    pub end: DateTime<Utc>,
    /// Zone the range was read in.
    pub timezone: String,
    /// The preset used, if any.
    pub preset: Option<String>,
    /// Field ids.
    pub fields: Vec<String>,
    /// Format.
    pub format: String,
    /// Gzip.
    pub gzip: bool,
    /// Rows written so far.
    pub rows_written: i64,
    /// File size once completed.
    pub size_bytes: Option<i64>,
    /// File name.
    pub file_name: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// A cancel was accepted while it ran: it ends CANCELLED, never COMPLETED.
    pub cancel_requested: bool,
    /// Who asked.
    pub requested_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Started.
    pub started_at: Option<DateTime<Utc>>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// When the file is deleted.
    pub expires_at: Option<DateTime<Utc>>,
    /// A signed, expiring download link (completed jobs).
    pub download_url: Option<String>,
}

/// A page of export history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportPage {
    /// Jobs, newest first.
    pub items: Vec<ExportView>,
    /// All jobs of the organization.
    pub total: i64,
    /// Page (from 1).
    pub page: u32,
    /// Page size.
    pub page_size: u32,
}

/// Signed-link parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedQuery {
    /// Unix time the link expires.
    pub expires: i64,
    /// Hex HMAC signature.
    #[param(min_length = 1)]
    pub signature: String,
}

impl ExportView {
    /// The API view of a job.
    pub fn new(job: ExportJob, state: &AppState) -> Self {
        let download_url = state.exports.download_url(&job);
        ExportView {
            download_url,
            id: job.id,
            state: job.state,
            data_type: job.spec.data_type.as_str().to_string(),
            start: job.spec.start,
            end: job.spec.end,
            timezone: job.spec.timezone,
            preset: job.spec.preset,
            fields: job.spec.fields,
            format: job.spec.format,
            gzip: job.spec.gzip,
            rows_written: job.rows_written,
            size_bytes: job.size_bytes,
            file_name: job.file_name,
            error: job.error,
            cancel_requested: job.cancel_requested,
            requested_by: job.requested_by,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            expires_at: job.expires_at,
        }
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        let message = format!("{}: {}", e.param, e.message);
        if e.not_found {
            ApiError::NotFound(message)
        } else {
            ApiError::BadRequest(message)
        }
    }
}

/// The organization of an authenticated key.
pub async fn org_of(state: &AppState, auth: &OrgAuth) -> Result<Org, ApiError> {
    state
        .store
        .get_org(auth.org_id())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("organization `{}` not found", auth.org_id())))
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Input(e) => e.into(),
            RequestError::Store(e) => e.into(),
            RequestError::Queue(e) => ApiError::Internal(e),
        }
    }
}

/// Requests an export for the key's organization (see `Exports::request`).
pub async fn create_job(
    state: &AppState,
    auth: &OrgAuth,
    actor: &Actor,
    input: ExportInput,
    names: spec::ParamNames,
) -> Result<ExportJob, ApiError> {
    let org = org_of(state, auth).await?;
    Ok(state
        .exports
        .request(&org, &input, names, None, actor)
        .await?)
}

/// Streams a job's file with an attachment disposition, and audits the download.
pub async fn file_response(
    state: &AppState,
    job: &ExportJob,
    actor: &Actor,
) -> Result<Response, ApiError> {
    match job.state {
        JobState::Completed => {}
        JobState::Expired => {
            return Err(ApiError::NotFound(format!(
                "the file of export `{}` has expired and was deleted",
                job.id
            )));
        }
        other => {
            return Err(ApiError::Conflict(format!(
                "export `{}` is {other}; its file can be downloaded once it is COMPLETED",
                job.id
            )));
        }
    }
    let (Some(key), Some(name)) = (&job.file_key, &job.file_name) else {
        return Err(ApiError::NotFound(format!(
            "export `{}` has no file",
            job.id
        )));
    };
    let response = stream_file(state, key, name).await?;
    state
        .exports
        .record_download(&job.org_id, &job.id, actor)
        .await;
    Ok(response)
}

async fn stream_file(state: &AppState, key: &str, name: &str) -> Result<Response, ApiError> {
    let file = match state.exports.files.get(key).await {
        Ok(f) => f,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(ApiError::NotFound("the file is no longer available".into()));
        }
        Err(e) => return Err(ApiError::Internal(e.into())),
    };
    let size = file.meta.size;
    let body = Body::from_stream(file.into_stream().map_err(std::io::Error::other));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".gz") {
        "application/gzip"
    } else if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else if name.ends_with(".ndjson") {
        "application/x-ndjson"
    } else if name.ends_with(".parquet") {
        "application/vnd.apache.parquet"
    } else {
        "application/octet-stream"
    }
}

async fn job_of(state: &AppState, auth: &OrgAuth, id: &str) -> Result<ExportJob, ApiError> {
    state
        .exports
        .get(auth.org_id(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("export `{id}` not found")))
}

/// Queues an export.
#[utoipa::path(
    post,
    path = "/v1/exports",
    tag = "exports",
    security(("org_key" = ["usage_export"])),
    request_body = CreateExport,
    responses(
        (status = 202, description = "Queued", body = ExportView),
        (status = 400, description = "A parameter is invalid; the message names it and the allowed values", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export", body = ErrorBody),
        (status = 404, description = "A named team or member does not exist", body = ErrorBody),
    )
)]
pub(super) async fn create_export(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<CreateExport>,
) -> Result<(StatusCode, Json<ExportView>), ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let input = ExportInput::from(body);
    if input.data_type.is_none() {
        return Err(ApiError::BadRequest(format!(
            "data_type is required; allowed: {}",
            crate::domain::DataType::allowed_names()
        )));
    }
    let actor = client.actor(&auth);
    let job = create_job(&state, &auth, &actor, input, spec::NATIVE).await?;
    Ok((StatusCode::ACCEPTED, Json(ExportView::new(job, &state))))
}

/// The organization's export history, newest first.
#[utoipa::path(
    get,
    path = "/v1/exports",
    tag = "exports",
    security(("org_key" = ["usage_export"])),
    params(PagingParams),
    responses(
        (status = 200, description = "History", body = ExportPage),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export", body = ErrorBody),
    )
)]
pub(super) async fn list_exports(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPaging(Paging { page, page_size }): ApiPaging,
) -> Result<Json<ExportPage>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let (items, total) = state.exports.list(auth.org_id(), page, page_size).await?;
    Ok(Json(ExportPage {
        items: items
            .into_iter()
            .map(|j| ExportView::new(j, &state))
            .collect(),
        total,
        page,
        page_size,
    }))
}

/// One export job: state, progress, and a download link once completed.
#[utoipa::path(
    get,
    path = "/v1/exports/{id}",
    tag = "exports",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Export id")),
    responses(
        (status = 200, description = "The job", body = ExportView),
        (status = 404, description = "No such export in the organization", body = ErrorBody),
    )
)]
pub(super) async fn get_export(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ExportView>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let job = job_of(&state, &auth, &id).await?;
    Ok(Json(ExportView::new(job, &state)))
}

/// Downloads a completed export's file.
#[utoipa::path(
    get,
    path = "/v1/exports/{id}/download",
    tag = "exports",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Export id")),
    responses(
        (status = 200, description = "The file"),
        (status = 404, description = "No such export, or its file expired", body = ErrorBody),
        (status = 409, description = "Not completed", body = ErrorBody),
    )
)]
pub(super) async fn download_export(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let job = job_of(&state, &auth, &id).await?;
    file_response(&state, &job, &client.actor(&auth)).await
}

/// Cancels a queued or running export. The contract: a 200 or 202 answer means the job ends
/// `CANCELLED` with no file left behind; a 409 means it was too late and names the state the
/// job ended in.
#[utoipa::path(
    post,
    path = "/v1/exports/{id}/cancel",
    tag = "exports",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Export id")),
    responses(
        (status = 200, description = "Cancelled: the job is CANCELLED and has no file", body = ExportView),
        (status = 202, description = "Cancelling: the job is still IN_PROGRESS on a worker that has not stopped yet (cancel_requested is true); it will end CANCELLED, never COMPLETED", body = ExportView),
        (status = 404, description = "No such export in the organization", body = ErrorBody),
        (status = 409, description = "Too late: the job had already ended (the message names its state)", body = ErrorBody),
    )
)]
pub(super) async fn cancel_export(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let outcome = state
        .exports
        .cancel(auth.org_id(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("export `{id}` not found")))?;
    Ok(match outcome {
        CancelOutcome::Cancelled(job) => Json(ExportView::new(job, &state)).into_response(),
        CancelOutcome::Requested(job) => {
            (StatusCode::ACCEPTED, Json(ExportView::new(job, &state))).into_response()
        }
        CancelOutcome::TooLate(job) => {
            return Err(ApiError::Conflict(format!(
                "too late to cancel: export `{id}` is already {}",
                job.state
            )));
        }
    })
}

/// Downloads a file through a signed link (no key needed; the link is the credential).
#[utoipa::path(
    get,
    path = "/v1/downloads/{key}",
    tag = "exports",
    params(("key" = String, Path, description = "File key"), SignedQuery),
    responses(
        (status = 200, description = "The file"),
        (status = 403, description = "Invalid or expired link", body = ErrorBody),
        (status = 404, description = "The file is gone", body = ErrorBody),
    )
)]
pub(super) async fn signed_download(
    State(state): State<AppState>,
    client: Client,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<SignedQuery>,
) -> Result<Response, ApiError> {
    if let Err(e) = state
        .exports
        .files
        .verify(&key, q.expires, &q.signature, Utc::now())
    {
        return Err(match e {
            SignatureError::Expired | SignatureError::Invalid => ApiError::Forbidden(e.to_string()),
        });
    }
    let name = key.rsplit('/').next().unwrap_or("download").to_string();
    let response = stream_file(&state, &key, &name).await?;
    if let Some(org) = org_of_key(&key)
        && key.starts_with("exports/")
    {
        let job_id = key.split('/').nth(2).unwrap_or_default();
        let actor = Actor {
            user_id: "signed_url".into(),
            source_ip: client.ip,
            user_agent: client.user_agent,
        };
        state.exports.record_download(org, job_id, &actor).await;
    }
    Ok(response)
}

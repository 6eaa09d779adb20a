//! Langdock-compatible usage exports (field-catalog §2.1–2.4): `POST /export/{type}/json`
//! answers the rows directly; `POST /export/{type}/csv` and the bare `POST /export/{type}`
//! store a CSV file and answer its signed download URL. The body is the reference's
//! `{from: {date, timezone}, to: {date, timezone}, group_by?}`; the organization comes from
//! the key, which needs the `usage_export` scope. Errors keep the reference's bodies,
//! including `{"error": "No data found", …}` (404) and `USAGE_EXPORT_TOO_LARGE` (400).

use crate::domain::range::{self, DateRange};
use crate::http::api::reports::{ReportFailure, range_error};
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::reports::{self, Report, ReportRequest, ReportType};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One end of the window: a date-time and the zone it is read in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ZonedDate {
    /// ISO 8601 date or date-time: without an offset, wall-clock time in `timezone`; with a
    /// trailing `Z` or `±HH:MM`, that exact instant (the zone then only names the dates).
    #[schema(min_length = 1)]
    pub date: String,
    /// IANA time zone, e.g. `UTC`, `Europe/Berlin`.
    #[schema(min_length = 1)]
    pub timezone: String,
}

/// The reference's request body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExportBody {
    /// Window start.
    pub from: ZonedDate,
    /// Window end.
    pub to: ZonedDate,
    /// users, agents, api-keys: `model`; models: `source`, `deployment`; others: none.
    #[serde(default)]
    pub group_by: Option<String>,
}

/// `/json` answer: the rows themselves.
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonExport {
    /// Always true (errors use the error body).
    pub success: bool,
    /// One object per entity (and group).
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<serde_json::Map<String, serde_json::Value>>,
    /// What the rows are.
    pub metadata: JsonMetadata,
}

/// `metadata` of a `/json` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonMetadata {
    /// users, assistants or agents (as requested), api_keys, projects, models, workflows.
    pub data_type: &'static str,
    /// Number of rows.
    pub record_count: usize,
}

/// `/csv` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsvExport {
    /// Always true (errors use the error body).
    pub success: bool,
    /// The stored file.
    pub data: CsvExportData,
}

/// The stored CSV file of a report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsvExportData {
    /// Storage path of the file.
    pub file_path: String,
    /// Short-lived signed download URL.
    pub download_url: String,
    /// users, assistants or agents (as requested), api_keys, projects, models, workflows.
    pub data_type: &'static str,
    /// Rows in the file (without the header).
    pub record_count: usize,
    /// The window.
    pub date_range: CsvDateRange,
}

/// The window of a CSV export, in the request's zones.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsvDateRange {
    /// First instant, in `from.timezone`.
    pub from: String,
    /// Last millisecond the window covers (inclusive), in `to.timezone`.
    pub to: String,
}

/// The `dataType` the reference answers: the requested alias for agents, `api_keys` for
/// keys, the canonical name otherwise.
fn data_type(raw: &str, t: ReportType) -> &'static str {
    match (t, raw) {
        (ReportType::Agents, "assistants") => "assistants",
        _ => t.as_str(),
    }
}

fn window(body: &ExportBody) -> Result<DateRange, ApiError> {
    let from_tz = range::parse_tz(&body.from.timezone)
        .map_err(|e| range_error(e, ["from.date", "to.date", "from.timezone", "from"]))?;
    let to_tz = range::parse_tz(&body.to.timezone)
        .map_err(|e| range_error(e, ["from.date", "to.date", "to.timezone", "to"]))?;
    range::explicit_range_zoned(&body.from.date, from_tz, &body.to.date, to_tz)
        .map_err(|e| range_error(e, ["from.date", "to.date", "from.timezone", "from"]))
}

/// Authorizes, validates and computes; returns the report and its `dataType`.
async fn compute(
    auth: &OrgAuth,
    state: &AppState,
    raw_type: &str,
    body: &ExportBody,
) -> Result<(Report, &'static str), ReportFailure> {
    auth.require(&[Scope::UsageExport])?;
    let report_type = ReportType::parse(raw_type)?;
    let group_by = report_type.group_by(body.group_by.as_deref())?;
    let request = ReportRequest {
        report_type,
        group_by,
        range: window(body)?,
    };
    let report = reports::compute(
        &state.store,
        auth.org_id(),
        &request,
        state.config.report_max_rows,
    )
    .await?;
    Ok((report, data_type(raw_type, report_type)))
}

/// Usage report rows as JSON.
#[utoipa::path(
    post,
    path = "/export/{data_type}/json",
    tag = "compat",
    security(("org_key" = ["usage_export"])),
    params(("data_type" = String, Path, description = "users, assistants, agents, api-keys, projects, models, workflows")),
    request_body = ExportBody,
    responses(
        (status = 200, description = "The rows", body = JsonExport),
        (status = 400, description = "Invalid window, unsupported group_by, or USAGE_EXPORT_TOO_LARGE", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export", body = ErrorBody),
        (status = 404, description = "Unknown type, or `No data found` for the period", body = ErrorBody),
    )
)]
pub(super) async fn export_report_json(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(raw_type): ApiPath<String>,
    ApiJson(body): ApiJson<ExportBody>,
) -> Result<Json<JsonExport>, ReportFailure> {
    let (report, data_type) = compute(&auth, &state, &raw_type, &body).await?;
    Ok(Json(JsonExport {
        success: true,
        metadata: JsonMetadata {
            data_type,
            record_count: report.record_count(),
        },
        data: report.json_rows(),
    }))
}

/// Usage report as a stored CSV file with a signed download URL.
#[utoipa::path(
    post,
    path = "/export/{data_type}/csv",
    tag = "compat",
    security(("org_key" = ["usage_export"])),
    params(("data_type" = String, Path, description = "users, assistants, agents, api-keys, projects, models, workflows")),
    request_body = ExportBody,
    responses(
        (status = 200, description = "The stored file", body = CsvExport),
        (status = 400, description = "Invalid window, unsupported group_by, or USAGE_EXPORT_TOO_LARGE", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export", body = ErrorBody),
        (status = 404, description = "Unknown type, or `No data found` for the period", body = ErrorBody),
    )
)]
pub(super) async fn export_report_csv(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(raw_type): ApiPath<String>,
    ApiJson(body): ApiJson<ExportBody>,
) -> Result<Json<CsvExport>, ReportFailure> {
    let (report, data_type) = compute(&auth, &state, &raw_type, &body).await?;
    csv_response(&state, auth.org_id(), &report, data_type).await
}

/// The bare route answers like `/csv` (field-catalog §2.4).
#[utoipa::path(
    post,
    path = "/export/{data_type}",
    tag = "compat",
    security(("org_key" = ["usage_export"])),
    params(("data_type" = String, Path, description = "users, assistants, agents, api-keys, projects, models, workflows")),
    request_body = ExportBody,
    responses(
        (status = 200, description = "The stored file", body = CsvExport),
        (status = 400, description = "Invalid window, unsupported group_by, or USAGE_EXPORT_TOO_LARGE", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export", body = ErrorBody),
        (status = 404, description = "Unknown type, or `No data found` for the period", body = ErrorBody),
    )
)]
pub(super) async fn export_report(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(raw_type): ApiPath<String>,
    ApiJson(body): ApiJson<ExportBody>,
) -> Result<Json<CsvExport>, ReportFailure> {
    let (report, data_type) = compute(&auth, &state, &raw_type, &body).await?;
    csv_response(&state, auth.org_id(), &report, data_type).await
}

/// Stores the report's CSV and answers the reference's file envelope.
async fn csv_response(
    state: &AppState,
    org_id: &str,
    report: &Report,
    data_type: &'static str,
) -> Result<Json<CsvExport>, ReportFailure> {
    // A short random suffix, as the reference's file names carry, keeps two reports of the
    // same window apart.
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let file_name = format!("{}-{}.csv", report.csv_file_stem(), &suffix[..8]);
    let stored = store_report(state, org_id, &file_name, report.to_csv()).await?;
    Ok(Json(CsvExport {
        success: true,
        data: CsvExportData {
            file_path: stored.0,
            download_url: stored.1,
            data_type,
            record_count: report.record_count(),
            date_range: CsvDateRange {
                from: report.from_local(),
                to: report.last_local(),
            },
        },
    }))
}

/// Stores a report file and returns its path and a signed, expiring download URL.
async fn store_report(
    state: &AppState,
    org_id: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<(String, String), ReportFailure> {
    let files = &state.exports.files;
    let key = crate::export::files::report_key(
        org_id,
        &uuid::Uuid::now_v7().simple().to_string(),
        file_name,
    );
    files.put(&key, bytes).await.map_err(|e| {
        ApiError::Internal(anyhow::Error::from(e).context("storing the report file"))
    })?;
    let ttl = chrono::Duration::seconds(state.config.exports.signed_url_ttl_seconds as i64);
    let url = files.signed_url(&key, chrono::Utc::now() + ttl);
    Ok((key, url))
}

//! `POST /v1/reports/{report_type}`: synchronous usage reports (docs/spec.md §2) for the key's
//! organization, as JSON. Also the pieces the reference-compatible `/export/{type}` routes
//! share: [`ReportFailure`] (the reference's error bodies) and [`range_error`].

use crate::domain::range::{self, DateRange, RangeError, RangeField, RangePreset};
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::reports::{self, Report, ReportError, ReportRequest, ReportType};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/reports/{report_type}` body: either `start` and `end`, or a `preset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// Window start: a date (`2026-03-01`) or date-time, wall-clock in `timezone`; with a
    /// trailing `Z` or `±HH:MM`, that exact instant.
    #[serde(default)]
    pub start: Option<String>,
    /// Window end, read like `start`.
    #[serde(default)]
    pub end: Option<String>,
    /// IANA time zone of `start`/`end` and of the preset; the organization's when omitted.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Instead of start/end: this_billing_period, last_billing_period, this_month,
    /// last_month, this_week, last_week, last_7_days, last_30_days, last_90_days.
    #[serde(default)]
    pub preset: Option<String>,
    /// users, agents, api_keys: `model`; models: `source`, `deployment`; others: none.
    #[serde(default)]
    pub group_by: Option<String>,
}

/// The resolved window of a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct DateRangeView {
    /// First instant, in `timezone`.
    pub from: String,
    /// First instant after the window (exclusive), in `timezone`.
    pub to: String,
    /// The zone the window was read in.
    pub timezone: String,
    /// `period_start` of the rows: the first date, in `timezone`.
    pub period_start: String,
    /// `period_end` of the rows: the last date covered (inclusive), in `timezone`.
    pub period_end: String,
}

/// A usage report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    /// users, agents, api_keys, projects, models or workflows.
    pub data_type: &'static str,
    /// The split, if any.
    pub group_by: Option<&'static str>,
    /// The window.
    pub date_range: DateRangeView,
    /// Column ids in order; every row has exactly these keys.
    pub columns: Vec<&'static str>,
    /// One object per entity (and group).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Number of rows.
    pub record_count: usize,
}

impl ReportResponse {
    fn from_report(r: &Report) -> ReportResponse {
        ReportResponse {
            data_type: r.report_type.as_str(),
            group_by: r.group_by.map(|g| g.as_str()),
            date_range: DateRangeView {
                from: r.from_local(),
                to: r.to_local(),
                timezone: r.range.tz.name().to_owned(),
                period_start: r.period_start(),
                period_end: r.period_end(),
            },
            columns: r.column_ids(),
            rows: r.json_rows(),
            record_count: r.record_count(),
        }
    }
}

/// The error of the report routes: an [`ApiError`], or a report failure with the
/// reference's own `error` values (`No data found`, `USAGE_EXPORT_TOO_LARGE`).
#[derive(Debug)]
pub(crate) enum ReportFailure {
    /// Authentication, validation and internal errors.
    Api(ApiError),
    /// Errors of the computation.
    Report(ReportError),
}

impl From<ApiError> for ReportFailure {
    fn from(e: ApiError) -> Self {
        ReportFailure::Api(e)
    }
}

impl From<ReportError> for ReportFailure {
    fn from(e: ReportError) -> Self {
        ReportFailure::Report(e)
    }
}

impl IntoResponse for ReportFailure {
    fn into_response(self) -> Response {
        let (status, error, message) = match self {
            ReportFailure::Api(e) => return e.into_response(),
            // Database failures go through ApiError, which logs them and hides the details.
            ReportFailure::Report(ReportError::Store(e)) => {
                return ApiError::from(e).into_response();
            }
            ReportFailure::Report(e) => {
                let status = match &e {
                    ReportError::UnknownType(_)
                    | ReportError::UnknownOrg(_)
                    | ReportError::NoData => StatusCode::NOT_FOUND,
                    _ => StatusCode::BAD_REQUEST,
                };
                (status, e.code(), e.to_string())
            }
        };
        let body = ErrorBody {
            error: error.to_owned(),
            message,
        };
        (status, Json(body)).into_response()
    }
}

/// A 400 for a range error, naming the request parameter it is about (`names` maps
/// start, end, timezone and preset to this route's parameter names).
pub(crate) fn range_error(e: RangeError, names: [&str; 4]) -> ApiError {
    let param = match e.field {
        RangeField::Start => names[0],
        RangeField::End => names[1],
        RangeField::Timezone => names[2],
        RangeField::Preset => names[3],
    };
    ApiError::BadRequest(format!("invalid `{param}`: {}", e.message))
}

const NATIVE_NAMES: [&str; 4] = ["start", "end", "timezone", "preset"];

/// Resolves the body's window: explicit start/end or a preset, in the body's zone or the
/// organization's.
async fn native_range(
    state: &AppState,
    org_id: &str,
    body: &ReportBody,
) -> Result<DateRange, ApiError> {
    let org = state
        .store
        .get_org(org_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("organization `{org_id}` not found")))?;
    let tz_name = body.timezone.as_deref().unwrap_or(&org.timezone);
    let tz = range::parse_tz(tz_name).map_err(|e| range_error(e, NATIVE_NAMES))?;
    match (&body.preset, &body.start, &body.end) {
        (Some(p), None, None) => {
            let preset = RangePreset::parse(p).map_err(|e| range_error(e, NATIVE_NAMES))?;
            Ok(range::preset_range(
                preset,
                tz,
                chrono::Utc::now(),
                org.billing_anchor_day,
            ))
        }
        (Some(_), _, _) => Err(ApiError::BadRequest(
            "give either `preset` or `start` and `end`, not both".into(),
        )),
        (None, Some(start), Some(end)) => range::explicit_range_zoned(start, tz, end, tz)
            .map_err(|e| range_error(e, NATIVE_NAMES)),
        (None, None, _) => Err(ApiError::BadRequest(format!(
            "`start` is required (or a `preset`: {})",
            RangePreset::ALL
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        (None, Some(_), None) => Err(ApiError::BadRequest("`end` is required".into())),
    }
}

/// A usage report of the key's organization: one row per entity (and group) for the whole
/// window, aggregated from the record streams, with the privacy setting applied.
///
/// Report types: `users`, `agents` (alias `assistants`), `api_keys` (alias `api-keys`),
/// `projects`, `models`, `workflows`. Columns per type are those of the reference
/// (field-catalog §2.6) plus documented extensions; `columns` lists them in order.
#[utoipa::path(
    post,
    path = "/v1/reports/{report_type}",
    tag = "reports",
    security(("org_key" = ["usage_export"])),
    params(("report_type" = String, Path, description = "users, agents, assistants, api_keys, api-keys, projects, models, workflows")),
    request_body = ReportBody,
    responses(
        (status = 200, description = "The report", body = ReportResponse),
        (status = 400, description = "Invalid window, unsupported group_by, or USAGE_EXPORT_TOO_LARGE", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export", body = ErrorBody),
        (status = 404, description = "Unknown report type, or `No data found` for the window", body = ErrorBody),
    )
)]
pub(super) async fn create_report(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(report_type): ApiPath<String>,
    ApiJson(body): ApiJson<ReportBody>,
) -> Result<Json<ReportResponse>, ReportFailure> {
    auth.require(&[Scope::UsageExport])?;
    let report = run(&state, auth.org_id(), &report_type, &body).await?;
    Ok(Json(ReportResponse::from_report(&report)))
}

/// Validates a report request and computes it for `org_id`: what `POST /v1/reports/{type}`
/// answers. The admin Reports page calls this too, so the page and the API accept the same
/// input and give the same messages.
pub(crate) async fn run(
    state: &AppState,
    org_id: &str,
    report_type: &str,
    body: &ReportBody,
) -> Result<Report, ReportFailure> {
    let report_type = ReportType::parse(report_type)?;
    let group_by = report_type.group_by(body.group_by.as_deref())?;
    let range = native_range(state, org_id, body).await?;
    let request = ReportRequest {
        report_type,
        group_by,
        range,
    };
    Ok(reports::compute(&state.store, org_id, &request, state.config.report_max_rows).await?)
}

//! `/settings/organization/reports`: the usage reports of `POST /v1/reports/{type}` as a page —
//! a GET form (report, split, window, time zone), the resulting table, and the same report as
//! a CSV download (`reports.csv` with the same query). The report is validated and computed by
//! the API's own [`api::run`], so the page accepts what the API accepts and shows its messages.

use super::error::WebError;
use super::layout::{self, Nav};
use super::session::Admin;
use crate::domain::range::RangePreset;
use crate::http::api::reports::{self as api, ReportBody, ReportFailure};
use crate::http::error::ApiError;
use crate::reports::{GroupBy, Report, ReportError, ReportType};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// The page's path.
pub const PATH: &str = "/settings/organization/reports";
/// The CSV download's path (same query as the page).
pub const CSV_PATH: &str = "/settings/organization/reports.csv";

/// The form, as query parameters. Every field is text so a bad value comes back into the form
/// as typed; an empty field means "not given", as an absent member does in the API.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    /// Report type; absent on the first visit (the form only, nothing computed).
    report: Option<String>,
    /// Split, empty for none.
    group_by: String,
    /// A range preset, empty for the start/end dates.
    preset: String,
    /// Window start (date or date-time).
    start: String,
    /// Window end (inclusive date, or date-time).
    end: String,
    /// IANA zone; the organization's when empty.
    timezone: String,
}

fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl ReportQuery {
    /// The defaults of the first visit: users, this month, the organization's zone.
    fn first_visit(admin: &Admin) -> ReportQuery {
        ReportQuery {
            report: None,
            preset: "this_month".to_owned(),
            timezone: admin.org.timezone.clone(),
            ..ReportQuery::default()
        }
    }

    fn body(&self) -> ReportBody {
        // The dates belong to the "Custom" choice: with a preset chosen, dates still in the
        // form are not a second range (the API would refuse the pair).
        let custom = given(&self.preset).is_none();
        ReportBody {
            start: given(&self.start).filter(|_| custom),
            end: given(&self.end).filter(|_| custom),
            timezone: given(&self.timezone),
            preset: given(&self.preset),
            group_by: given(&self.group_by),
        }
    }

    /// The query string of this form (for the CSV link).
    fn encoded(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("report", self.report.as_deref().unwrap_or(""))
            .append_pair("group_by", &self.group_by)
            .append_pair("preset", &self.preset)
            .append_pair("start", &self.start)
            .append_pair("end", &self.end)
            .append_pair("timezone", &self.timezone)
            .finish()
    }
}

/// A report that could not be produced: the API's status and message. Database and other
/// internal failures are not shown; they become [`WebError::Internal`].
fn refusal(f: ReportFailure) -> Result<(StatusCode, String), WebError> {
    Ok(match f {
        ReportFailure::Api(ApiError::Internal(e)) => return Err(WebError::Internal(e)),
        ReportFailure::Report(ReportError::Store(e)) => return Err(e.into()),
        ReportFailure::Api(e @ ApiError::NotFound(_)) => (StatusCode::NOT_FOUND, e.to_string()),
        ReportFailure::Api(e) => (StatusCode::BAD_REQUEST, e.to_string()),
        ReportFailure::Report(
            e @ (ReportError::UnknownType(_) | ReportError::UnknownOrg(_) | ReportError::NoData),
        ) => (StatusCode::NOT_FOUND, e.to_string()),
        ReportFailure::Report(e) => (StatusCode::BAD_REQUEST, e.to_string()),
    })
}

async fn compute(
    state: &AppState,
    admin: &Admin,
    report: &str,
    q: &ReportQuery,
) -> Result<Result<Report, (StatusCode, String)>, WebError> {
    match api::run(state, admin.org_id(), report, &q.body()).await {
        Ok(r) => Ok(Ok(r)),
        Err(f) => refusal(f).map(Err),
    }
}

/// `GET /settings/organization/reports`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let Some(report) = q.report.clone() else {
        let q = ReportQuery::first_visit(&admin);
        return Ok(page(&admin, &q, None, StatusCode::OK));
    };
    let (status, outcome) = match api::run(&state, admin.org_id(), &report, &q.body()).await {
        Ok(r) => (StatusCode::OK, Ok(r)),
        // An empty window is an answer on the page (the API's 404 is the reference's).
        Err(ReportFailure::Report(ReportError::NoData)) => (StatusCode::OK, Err(None)),
        Err(f) => {
            let (status, message) = refusal(f)?;
            (status, Err(Some(message)))
        }
    };
    Ok(page(&admin, &q, Some(outcome), status))
}

/// `GET /settings/organization/reports.csv`: the page's report as RFC 4180 CSV, named as the
/// API's CSV exports are (`{type}-usage-{start}-{end}.csv`).
pub async fn csv(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let report = q.report.clone().unwrap_or_default();
    let r = match compute(&state, &admin, &report, &q).await? {
        Ok(r) => r,
        Err((StatusCode::NOT_FOUND, m)) => return Err(WebError::NotFound(m)),
        Err((_, m)) => return Err(WebError::BadRequest(m)),
    };
    let disposition = format!("attachment; filename=\"{}.csv\"", r.csv_file_stem());
    let mut response = (StatusCode::OK, r.to_csv()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // The stem is built from a report name and two dates: always a valid header value.
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Reports may name people: like the pages, never cached.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

fn page(
    admin: &Admin,
    q: &ReportQuery,
    outcome: Option<Result<Report, Option<String>>>,
    status: StatusCode,
) -> Response {
    let body = html! {
        h1 { "Reports" }
        p.lead { "Usage per user, agent, API key, project, model or workflow over a window, as "
            code { "POST /v1/reports/{type}" } " returns it." }
        section.card {
            @if let Some(Err(Some(message))) = &outcome { (layout::error_box(message)) }
            (form(q))
        }
        @if let Some(Err(None)) = &outcome {
            p.empty data-role="no-data" { "No usage was recorded in this window." }
        }
        @if let Some(Ok(report)) = &outcome { (table(report, q)) }
    };
    layout::with_headers(
        status,
        layout::page("Reports", Some(admin), Nav::Reports, body),
    )
}

fn group_hint(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Model => "model (users, agents, API keys)",
        GroupBy::Source => "source (models)",
        GroupBy::Deployment => "deployment (models)",
    }
}

fn form(q: &ReportQuery) -> Markup {
    let report = q.report.as_deref().unwrap_or("users");
    html! {
        form method="get" action=(PATH) {
            label for="report-type" { "Report" }
            select #report-type name="report" {
                @for t in ReportType::ALL {
                    option value=(t.as_str()) selected[ReportType::parse(report).ok() == Some(t)] { (t.as_str()) }
                }
            }
            label for="report-group" { "Group by" }
            select #report-group name="group_by" {
                option value="" selected[q.group_by.is_empty()] { "None" }
                @for g in [GroupBy::Model, GroupBy::Source, GroupBy::Deployment] {
                    option value=(g.as_str()) selected[q.group_by == g.as_str()] { (group_hint(g)) }
                }
            }
            label for="report-preset" { "Range" }
            select #report-preset name="preset" {
                option value="" selected[q.preset.is_empty()] { "Custom: the start and end dates below" }
                @for p in RangePreset::ALL {
                    option value=(p.as_str()) selected[q.preset == p.as_str()] { (p.as_str()) }
                }
            }
            label for="report-start" { "Start date" }
            input #report-start type="text" name="start" value=(q.start) placeholder="2026-03-01";
            label for="report-end" { "End date (inclusive)" }
            input #report-end type="text" name="end" value=(q.end) placeholder="2026-03-31";
            label for="report-tz" { "Time zone" }
            input #report-tz type="text" name="timezone" value=(q.timezone) placeholder="Europe/Berlin";
            div.actions-bar { button type="submit" { "Show report" } }
        }
    }
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn table(report: &Report, q: &ReportQuery) -> Markup {
    let ids = report.column_ids();
    html! {
        div.row.between {
            h2 { (report.report_type.as_str()) ": " (report.period_start()) " to " (report.period_end())
                " (" (report.range.tz.name()) ")" }
            a.button href={(CSV_PATH) "?" (q.encoded())} download { "Download CSV" }
        }
        p { (report.record_count()) " rows" }
        div.table-wrap {
            table {
                thead { tr { @for id in &ids { th scope="col" { (id) } } } }
                tbody {
                    @for row in report.json_rows() {
                        tr { @for id in &ids { td { (row.get(*id).map(cell).unwrap_or_default()) } } }
                    }
                }
            }
        }
    }
}

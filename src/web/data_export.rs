//! `/settings/organization/data_export`: the page with the **Exports** and **Drains** tabs,
//! and the JSON the tabs poll for live status.

use super::error::WebError;
use super::layout::{self, Nav};
use super::session::Admin;
use crate::domain::DataType;
use crate::domain::catalog::{self, Preset};
use crate::domain::role::Capability;
use crate::drain::model::Drain;
use crate::export::{ExportJob, JobState, ListFilter};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;

/// The page's path.
pub const PATH: &str = "/settings/organization/data_export";
/// Export history rows per page.
const PAGE_SIZE: u32 = 25;

/// `?tab=…&page=…&notice=…`.
#[derive(Debug, Default, Deserialize)]
pub struct TabQuery {
    /// `exports` (default) or `drains`.
    #[serde(default)]
    pub tab: Option<String>,
    /// History page, from 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// A notice code from a redirect after a form.
    #[serde(default)]
    pub notice: Option<String>,
    /// History filter: a data type name (empty: every type).
    #[serde(default)]
    pub data_type: Option<String>,
    /// History filter: a state name (empty: every state).
    #[serde(default)]
    pub state: Option<String>,
    /// History search: text in the id or the requester's email.
    #[serde(default)]
    pub q: Option<String>,
}

impl TabQuery {
    /// The history filter the query asks for; unknown type or state names are ignored
    /// (they come from hand-edited URLs, and every job matching beats an error page).
    pub fn filter(&self) -> ListFilter {
        let text = self.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
        ListFilter {
            data_type: self
                .data_type
                .as_deref()
                .and_then(super::pickers::parse_type),
            state: self.state.as_deref().and_then(|s| s.parse().ok()),
            text: text.map(str::to_string),
        }
    }
}

/// `&data_type=…&state=…&q=…` for `filter`, so the pager links keep it.
fn filter_params(filter: &ListFilter) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    if let Some(dt) = filter.data_type {
        out.append_pair("data_type", dt.as_str());
    }
    if let Some(state) = filter.state {
        out.append_pair("state", state.as_str());
    }
    if let Some(text) = &filter.text {
        out.append_pair("q", text);
    }
    let query = out.finish();
    if query.is_empty() {
        query
    } else {
        format!("&{query}")
    }
}

/// The search form above the history: a plain GET form, so the filter lives in the URL.
fn filter_form(filter: &ListFilter) -> Markup {
    const STATES: [JobState; 6] = [
        JobState::Requested,
        JobState::InProgress,
        JobState::Completed,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Expired,
    ];
    html! {
        form.row method="get" action=(PATH) role="search" aria-label="Search exports" {
            input type="hidden" name="tab" value="exports";
            div {
                label for="filter-type" { "Data type" }
                select #filter-type name="data_type" {
                    option value="" { "All types" }
                    @for dt in DataType::ALL {
                        option value=(dt.as_str()) selected[filter.data_type == Some(dt)] { (dt.label()) }
                    }
                }
            }
            div {
                label for="filter-state" { "Status" }
                select #filter-state name="state" {
                    option value="" { "All statuses" }
                    @for st in STATES {
                        option value=(st.as_str()) selected[filter.state == Some(st)] { (st.as_str()) }
                    }
                }
            }
            div {
                label for="filter-q" { "Search" }
                input #filter-q type="search" name="q" placeholder="Export id or requester email"
                    value=(filter.text.as_deref().unwrap_or(""));
            }
            button.secondary type="submit" { "Filter" }
            @if *filter != ListFilter::default() { a href={(PATH) "?tab=exports"} { "Clear" } }
        }
    }
}

/// The fixed text of a notice code (codes, not text, travel in URLs).
pub fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "export_created" => "Export requested. Its status below updates as it runs.",
        "drain_deleted" => "Drain deleted.",
        "drain_paused" => "Drain paused. It resumes from where it stopped.",
        "drain_resumed" => "Drain resumed.",
        "drain_created" => "Drain created: the destination passed its preflight check.",
        "drain_updated" => "Drain saved.",
        "test_ok" => "Test batch delivered.",
        "test_failed" => "The test batch was not delivered; see the attempts below.",
        "replay_started" => "Replay started: the window is being delivered again.",
        "privacy_saved" => "Privacy setting saved.",
        "key_revoked" => "Key revoked.",
        "export_cancelled" => "Export cancelled.",
        "export_cancel_requested" => "Cancel requested: the export stops at its next check.",
        "export_cancel_too_late" => "The export had already ended; nothing was cancelled.",
        other => return super::schedules::notice_text(other),
    })
}

/// The organization's zone (UTC when unreadable).
pub fn org_tz(admin: &Admin) -> Tz {
    admin.org.timezone.parse().unwrap_or(Tz::UTC)
}

/// `GET /settings/organization/data_export`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<TabQuery>,
) -> Result<Response, WebError> {
    let drains_tab = q.tab.as_deref() == Some("drains");
    let schedules_tab = q.tab.as_deref() == Some("schedules");
    let content = if drains_tab {
        drains_tab_body(&state, &admin).await?
    } else if schedules_tab {
        super::schedules::tab_body(&state, &admin).await?
    } else {
        exports_tab_body(&state, &admin, &q.filter(), q.page.unwrap_or(1).max(1)).await?
    };
    let current = |on: bool| on.then_some("page");
    let body = html! {
        h1 { "Usage data export" }
        p.lead { "Download one-time exports of your organization's data, or drain it continuously to a destination you control." }
        @if let Some(text) = q.notice.as_deref().and_then(notice_text) { (layout::notice(text)) }
        nav.tabs aria-label="Data export" {
            a href={(PATH) "?tab=exports"} aria-current=[current(!drains_tab && !schedules_tab)] { "Exports" }
            a href={(PATH) "?tab=drains"} aria-current=[current(drains_tab)] { "Drains" }
            a href={(PATH) "?tab=schedules"} aria-current=[current(schedules_tab)] { "Schedules" }
        }
        (content)
    };
    Ok(layout::ok(layout::page(
        "Data export",
        Some(&admin),
        Nav::DataExport,
        body,
    )))
}

/// `2026-03-01 – 2026-03-31`, read in the export's own zone.
pub fn range_text(job: &ExportJob) -> String {
    let tz = job.spec.tz();
    let start = job.spec.start.with_timezone(&tz);
    let last = (job.spec.end - chrono::Duration::microseconds(1)).with_timezone(&tz);
    format!(
        "{} – {} ({})",
        start.format("%Y-%m-%d"),
        last.format("%Y-%m-%d"),
        job.spec.timezone
    )
}

fn rows_text(job: &ExportJob) -> String {
    layout::plural(job.rows_written, "row", "rows")
}

/// What sets an export apart from another of the same type and range: its fields and, for
/// team-scoped types, its teams. `team_names` maps team ids to names.
pub fn choice_text(job: &ExportJob, team_names: &HashMap<String, String>) -> String {
    let spec = &job.spec;
    let fields = fields_text(spec.data_type, &spec.fields);
    if !super::pickers::team_scoped(spec.data_type) {
        return fields;
    }
    let t = &spec.teams;
    if t.is_everything() {
        return format!("{fields} · all teams and personal spaces");
    }
    let mut parts = Vec::new();
    if t.org_teams {
        parts.push("all organization teams".to_string());
    }
    if !t.ids.is_empty() {
        let mut names: Vec<&str> = t
            .ids
            .iter()
            .map(|id| team_names.get(id).map_or(id.as_str(), String::as_str))
            .collect();
        let more = names.len().saturating_sub(3);
        names.truncate(3);
        let mut text = names.join(", ");
        if more > 0 {
            text.push_str(&format!(" +{more} more"));
        }
        parts.push(text);
    }
    if t.personal {
        parts.push("personal spaces".to_string());
    }
    let teams = parts.join(" + ");
    format!("{fields} · {teams}")
}

/// `Default fields (11)` when the fields are a preset's, else `2 fields: run_id, credit_cost`.
fn fields_text(dt: crate::domain::DataType, fields: &[String]) -> String {
    let mut chosen: Vec<&str> = fields.iter().map(String::as_str).collect();
    chosen.sort_unstable();
    for preset in Preset::ALL {
        let mut set = catalog::spec(dt).preset_fields(preset);
        set.sort_unstable();
        if set == chosen {
            let name = match preset {
                Preset::Minimal => "Minimal",
                Preset::Default => "Default",
                Preset::Full => "Full",
            };
            return format!("{name} fields ({})", fields.len());
        }
    }
    let shown = fields
        .iter()
        .take(4)
        .map(String::as_str)
        .collect::<Vec<_>>();
    let more = fields.len().saturating_sub(shown.len());
    let mut text = format!(
        "{}: {}",
        layout::plural(fields.len() as i64, "field", "fields"),
        shown.join(", ")
    );
    if more > 0 {
        text.push_str(&format!(" +{more} more"));
    }
    text
}

fn size_text(job: &ExportJob) -> String {
    job.size_bytes
        .map(layout::bytes)
        .unwrap_or_else(|| "—".into())
}

async fn exports_tab_body(
    state: &AppState,
    admin: &Admin,
    filter: &ListFilter,
    page: u32,
) -> Result<Markup, WebError> {
    let (items, total) = state
        .exports
        .list_filtered(admin.org_id(), filter, page, PAGE_SIZE)
        .await?;
    let kept = filter_params(filter);
    let filtered = *filter != ListFilter::default();
    let team_names: HashMap<String, String> = super::pickers::teams(&state.store, admin.org_id())
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let tz = org_tz(admin);
    let pages = ((total.max(1) - 1) / i64::from(PAGE_SIZE) + 1) as u32;
    Ok(html! {
        div.row.between {
            h2 { "Exports" }
            @if admin.may(Capability::Export) { a.button href={(PATH) "/exports/new"} { "+ New Export" } }
        }
        (filter_form(filter))
        div.table-wrap {
            table data-poll-url={(PATH) "/exports.json?page=" (page) (kept)} {
                caption.sr-only { "Export history, newest first" }
                thead { tr {
                    th scope="col" { "Data type" }
                    th scope="col" { "Date range" }
                    th scope="col" { "Created" }
                    th scope="col" { "Status" }
                    th.num scope="col" { "Size" }
                    th scope="col" { "Download" }
                } }
                tbody {
                    @for job in &items {
                        tr data-id=(job.id) data-final=(if job.state.is_final() { "true" } else { "false" }) {
                            td {
                                a href=(super::export_detail::path(&job.id)) { (job.spec.data_type.label()) }
                                span.progress { (job.spec.format) @if job.spec.gzip { " · gzip" } }
                                span.progress data-role="choice" { (choice_text(job, &team_names)) }
                            }
                            td { (range_text(job)) }
                            td { (layout::time(job.created_at, tz)) }
                            td {
                                (layout::export_badge(job.state))
                                span.progress data-role="rows" { (rows_text(job)) }
                                @if let Some(e) = &job.error { span.progress { (e) } }
                            }
                            td.num data-role="size" { (size_text(job)) }
                            td data-role="download" {
                                @if let Some(url) = state.exports.download_url(job) {
                                    a href=(url) download { "Download" }
                                } @else { span.muted { "—" } }
                            }
                        }
                    }
                    @if items.is_empty() && filtered {
                        tr { td.empty colspan="6" { "No exports match this search." } }
                    } @else if items.is_empty() {
                        tr { td.empty colspan="6" { "No exports yet. Start one with " strong { "+ New Export" } "." } }
                    }
                }
            }
        }
        @if pages > 1 {
            nav.row aria-label="Export history pages" {
                @if page > 1 { a href={(PATH) "?tab=exports&page=" (page - 1) (kept)} { "← Newer" } }
                span.muted { "Page " (page) " of " (pages) }
                @if page < pages { a href={(PATH) "?tab=exports&page=" (page + 1) (kept)} { "Older →" } }
            }
        }
    })
}

/// The pause or resume form of a drain, and its delete form; `from_detail` brings the admin
/// back to the detail page afterwards. Nothing for a role that may not change drains.
pub fn drain_actions(admin: &Admin, d: &Drain, from_detail: bool) -> Markup {
    if !admin.may(Capability::ManageDrains) {
        return html! {};
    }
    let base = format!("{PATH}/drains/{}", d.id);
    let running = d.status == crate::drain::model::DrainStatus::Active;
    let back = html! { @if from_detail { input type="hidden" name="back" value="detail"; } };
    html! {
        @if running {
            form method="post" action={(base) "/pause"} {
                (layout::csrf_field(admin)) (back)
                button.small.secondary type="submit" aria-label={"Pause drain " (d.name)} { "Pause" }
            }
        } @else {
            form method="post" action={(base) "/resume"} {
                (layout::csrf_field(admin)) (back)
                button.small.secondary type="submit" aria-label={"Resume drain " (d.name)} { "Resume" }
            }
        }
        " "
        form method="post" action={(base) "/delete"} data-confirm={"Delete the drain “" (d.name) "”? This cannot be undone."} {
            (layout::csrf_field(admin))
            button.small.danger type="submit" aria-label={"Delete drain " (d.name)} { "Delete" }
        }
    }
}

async fn drains_tab_body(state: &AppState, admin: &Admin) -> Result<Markup, WebError> {
    let drains = state.drains.list(admin.org_id()).await?;
    let tz = org_tz(admin);
    Ok(html! {
        div.row.between {
            h2 { "Drains" }
            @if admin.may(Capability::ManageDrains) { a.button href={(PATH) "/drains/new"} { "+ Add Drain" } }
        }
        div.table-wrap {
            table data-poll-url={(PATH) "/drains.json"} data-poll-always data-poll-ms="3000" {
                caption.sr-only { "Drains, newest first" }
                thead { tr {
                    th scope="col" { "Name" }
                    th scope="col" { "Status" }
                    th scope="col" { "Data type" }
                    th scope="col" { "Last synced" }
                    th scope="col" { "Created" }
                    th scope="col" { "Actions" }
                } }
                tbody {
                    @for d in &drains {
                        tr data-id=(d.id) {
                            td { div.name-cell {
                                (layout::dest_icon(d.destination.kind()))
                                a href={(PATH) "/drains/" (d.id)} { (d.name) }
                            } }
                            td { (layout::drain_badge(d.status)) }
                            td { (d.data_type.label()) }
                            td data-role="synced" { (layout::opt_time(d.last_synced_at, tz)) }
                            td { (layout::time(d.created_at, tz)) }
                            td.actions { (drain_actions(admin, d, false)) }
                        }
                    }
                    @if drains.is_empty() {
                        tr { td.empty colspan="6" { "No drains yet. Add one with " strong { "+ Add Drain" } "." } }
                    }
                }
            }
        }
    })
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET …/exports.json?page=…&data_type=…&state=…&q=…`: the live fields of the history page
/// the table shows (the same filter and page), so a filtered or later page updates too.
pub async fn exports_json(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<TabQuery>,
) -> Result<Response, WebError> {
    let page = q.page.unwrap_or(1).max(1);
    let (items, _) = state
        .exports
        .list_filtered(admin.org_id(), &q.filter(), page, PAGE_SIZE)
        .await?;
    let items: Vec<_> = items
        .iter()
        .map(|job| {
            serde_json::json!({
                "id": job.id,
                "state": job.state,
                "label": job.state.as_str(),
                "badge": layout::export_class(job.state),
                "final": job.state.is_final(),
                "rows": rows_text(job),
                "size": size_text(job),
                "download_url": state.exports.download_url(job),
            })
        })
        .collect();
    Ok(no_store(
        Json(serde_json::json!({ "items": items })).into_response(),
    ))
}

/// `GET …/drains.json`: every drain's status and last sync.
pub async fn drains_json(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, WebError> {
    let tz = org_tz(&admin);
    let drains = state.drains.list(admin.org_id()).await?;
    let items: Vec<_> = drains
        .iter()
        .map(|d| {
            serde_json::json!({
                "id": d.id,
                "status": d.status,
                "label": layout::drain_label(d.status),
                "badge": layout::drain_class(d.status),
                "last_synced": d.last_synced_at
                    .map(|t| layout::time_text(t, tz))
                    .unwrap_or_else(|| "—".into()),
                "records": layout::count(d.records_delivered),
            })
        })
        .collect();
    Ok(no_store(
        Json(serde_json::json!({ "items": items })).into_response(),
    ))
}

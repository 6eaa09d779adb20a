//! An export's detail page (`…/data_export/exports/{id}`): everything the API tells about a
//! job — type, range, fields, teams, filters, format, requester, state, times, rows, size —
//! with **Cancel** (queued or running jobs, through `Exports::cancel`) and **Clone** (the New
//! Export wizard prefilled with the job's settings, see `export_wizard::start`).

use super::data_export::{self, PATH, org_tz};
use super::drains::duration_text;
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{Admin, Checked};
use crate::domain::role::Capability;
use crate::export::{CancelOutcome, ExportJob};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;

/// The detail page of export `id`.
pub fn path(id: &str) -> String {
    format!("{PATH}/exports/{id}")
}

/// The cancel form carries nothing but its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub struct CancelForm {}

/// `GET …/exports/{id}`; another organization's id answers 404.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<super::drains::NoticeQuery>,
) -> Result<Response, WebError> {
    let job = job_of(&state, &admin, &id).await?;
    let team_names: HashMap<String, String> = super::pickers::teams(&state.store, admin.org_id())
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let tz = org_tz(&admin);
    let notice = q.notice.as_deref().and_then(data_export::notice_text);
    let cancellable = !job.state.is_final();
    let body = html! {
        p { a href={(PATH) "?tab=exports"} { "← Back to exports" } }
        div.row {
            h1 { (job.spec.data_type.label()) " export" }
            (layout::export_badge(job.state))
        }
        @if let Some(n) = notice { (layout::notice(n)) }
        @if let Some(e) = &job.error { div.error-box role="alert" { strong { "Failed: " } (e) } }
        section.card {
            div.row.between {
                h2 { "Export " code { (job.id) } }
                div.row {
                    @if admin.may(Capability::Export) {
                        a.button.small.secondary href={(super::export_wizard::NEW) "?clone=" (job.id)} { "Clone" }
                    }
                    @if cancellable && admin.may(Capability::Export) {
                        form method="post" action={(path(&job.id)) "/cancel"} {
                            (layout::csrf_field(&admin))
                            button.small.danger type="submit" aria-label={"Cancel export " (job.id)} { "Cancel" }
                        }
                    }
                    @if let Some(url) = state.exports.download_url(&job) {
                        a.button.small href=(url) download { "Download" }
                    }
                }
            }
            (facts(&job, tz, &team_names))
        }
    };
    Ok(layout::ok(layout::page(
        "Export",
        Some(&admin),
        Nav::DataExport,
        body,
    )))
}

/// The job of the admin's organization, or the 404 page.
async fn job_of(state: &AppState, admin: &Admin, id: &str) -> Result<ExportJob, WebError> {
    state
        .exports
        .get(admin.org_id(), id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No export {id} in this organization.")))
}

/// The job's settings and progress as a definition list.
fn facts(job: &ExportJob, tz: Tz, team_names: &HashMap<String, String>) -> Markup {
    let spec = &job.spec;
    let duration = match (job.started_at, job.finished_at) {
        (Some(s), Some(f)) => duration_text((f - s).num_milliseconds() as f64 / 1000.0),
        _ => "—".into(),
    };
    let scoped = super::pickers::team_scoped(spec.data_type);
    html! {
        dl.facts {
            dt { "Data type" } dd { (spec.data_type.label()) }
            dt { "Date range" } dd {
                (layout::time(spec.start, tz)) " – " (layout::time(spec.end, tz))
                // The range was read in the zone the request named; say so when it is not
                // the organization's, whose zone the times above are shown in.
                @if spec.timezone != tz.name() { span.progress { "requested in " (spec.timezone) } }
            }
            dt { "Fields" } dd { (spec.fields.join(", ")) }
            @if scoped { dt { "Teams" } dd { (teams_text(job, team_names)) } }
            dt { "Filters" } dd { (filters_text(job)) }
            dt { "Format" } dd { (spec.format) @if spec.gzip { " · gzip" } }
            dt { "Requested by" } dd { (job.requester_email.as_deref().unwrap_or(&job.requested_by)) }
            dt { "State" } dd { (job.state.as_str()) }
            dt { "Created" } dd { (layout::time(job.created_at, tz)) }
            dt { "Started" } dd { (layout::opt_time(job.started_at, tz)) }
            dt { "Finished" } dd { (layout::opt_time(job.finished_at, tz)) }
            dt { "Duration" } dd { (duration) }
            dt { "Rows" } dd { (layout::count(job.rows_written)) }
            dt { "Size" } dd { (job.size_bytes.map(layout::bytes).unwrap_or_else(|| "—".into())) }
            @if let Some(t) = job.expires_at { dt { "File kept until" } dd { (layout::time(t, tz)) } }
        }
    }
}

/// The teams part of [`data_export::choice_text`] (everything after its fields).
fn teams_text(job: &ExportJob, team_names: &HashMap<String, String>) -> String {
    let text = data_export::choice_text(job, team_names);
    text.split_once(" · ")
        .map_or(text.clone(), |(_, t)| t.to_string())
}

/// The request's row filters, `None` when it has none.
fn filters_text(job: &ExportJob) -> String {
    let s = &job.spec;
    let mut parts = Vec::new();
    if let Some(c) = &s.category {
        parts.push(format!("category {c}"));
    }
    if let Some(g) = &s.permission_group {
        parts.push(format!("custom role {g}"));
    }
    if !s.event_types.is_empty() {
        parts.push(format!("event types {}", s.event_types.join(", ")));
    }
    if !s.entity_ids.is_empty() {
        parts.push(format!("entities {}", s.entity_ids.join(", ")));
    }
    if let Some(p) = &s.personal_user {
        parts.push(format!("member {}", p.email));
    }
    if parts.is_empty() {
        "None".into()
    } else {
        parts.join("; ")
    }
}

/// `POST …/exports/{id}/cancel`: back to the detail page with what the cancel did.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { admin, .. }: Checked<CancelForm>,
) -> Result<Response, WebError> {
    let outcome = state
        .exports
        .cancel(admin.org_id(), &id)
        .await
        .map_err(WebError::Internal)?
        .ok_or_else(|| WebError::NotFound(format!("No export {id} in this organization.")))?;
    let notice = match outcome {
        CancelOutcome::Cancelled(_) => "export_cancelled",
        CancelOutcome::Requested(_) => "export_cancel_requested",
        CancelOutcome::TooLate(_) => "export_cancel_too_late",
    };
    Ok(Redirect::to(&format!("{}?notice={notice}", path(&id))).into_response())
}

//! The **Schedules** tab of the data export page (name, cadence in words, next run, last run
//! with its state badge; pause, resume, run now, delete) and a schedule's page with its run
//! history and download links.

use super::data_export::{PATH, org_tz};
use super::drains::actor;
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{Admin, Checked};
use crate::http::extract::Client;
use crate::schedule::{Schedule, ScheduleError, ScheduleRun, ScheduleState};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

impl From<ScheduleError> for WebError {
    fn from(e: ScheduleError) -> Self {
        match e {
            ScheduleError::NotFound(m) => WebError::NotFound(m),
            ScheduleError::Input(i) => WebError::BadRequest(format!("{}: {}", i.param, i.message)),
            ScheduleError::Store(s) => s.into(),
        }
    }
}

/// A schedule's page.
pub fn detail_path(id: &str) -> String {
    format!("{PATH}/schedules/{id}")
}

/// The fixed text of a schedule notice code.
pub fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "schedule_created" => {
            "Schedule created. It runs at its next run time; Run now runs the latest complete period."
        }
        "schedule_paused" => "Schedule paused. Periods passed while paused are not caught up.",
        "schedule_resumed" => "Schedule resumed from its next run time.",
        "schedule_deleted" => "Schedule deleted. Its exports stay in the export history.",
        "schedule_run" => "The most recent complete period was queued.",
        "schedule_ran" => "That period had already run; its run is shown below.",
        _ => return None,
    })
}

fn state_badge(s: ScheduleState) -> Markup {
    let (class, label) = match s {
        ScheduleState::Active => ("badge-ok", "Active"),
        ScheduleState::Paused => ("badge-paused", "Paused"),
        ScheduleState::Error => ("badge-error", "Error"),
    };
    html! { span class={"badge " (class)} data-role="status" { (label) } }
}

/// The badge of a run's state (an export state, or SKIPPED).
fn run_badge(run: &ScheduleRun) -> Markup {
    let state = run.state();
    let class = match state.as_str() {
        "COMPLETED" => "badge-ok",
        "FAILED" => "badge-error",
        "IN_PROGRESS" => "badge-running",
        "REQUESTED" => "badge-queued",
        _ => "badge-muted",
    };
    html! { span class={"badge " (class)} data-role="run-state" { (state) } }
}

fn period_text(s: &Schedule, run: &ScheduleRun) -> String {
    format!(
        "{} ({})",
        crate::schedule::deliver::period_label(s, run),
        s.cadence.timezone
    )
}

fn cadence_text(admin: &Admin, s: &Schedule) -> String {
    s.cadence.cadence(admin.org.billing_anchor_day).to_string()
}

/// Pause or resume, run now, delete; `from_detail` comes back to the schedule's page.
fn actions(admin: &Admin, s: &Schedule, from_detail: bool) -> Markup {
    let base = detail_path(&s.id);
    let back = html! { @if from_detail { input type="hidden" name="back" value="detail"; } };
    html! {
        @if s.state == ScheduleState::Active {
            form method="post" action={(base) "/pause"} {
                (layout::csrf_field(admin)) (back)
                button.small.secondary type="submit" aria-label={"Pause schedule " (s.name)} { "Pause" }
            }
        } @else {
            form method="post" action={(base) "/resume"} {
                (layout::csrf_field(admin)) (back)
                button.small.secondary type="submit" aria-label={"Resume schedule " (s.name)} { "Resume" }
            }
        }
        " "
        form method="post" action={(base) "/run"} {
            (layout::csrf_field(admin)) (back)
            button.small.secondary type="submit" aria-label={"Run schedule " (s.name) " now"} { "Run now" }
        }
        " "
        form method="post" action={(base) "/delete"} data-confirm={"Delete the schedule “" (s.name) "”? Its exports stay in the history."} {
            (layout::csrf_field(admin))
            button.small.danger type="submit" aria-label={"Delete schedule " (s.name)} { "Delete" }
        }
    }
}

/// The Schedules tab's table.
pub async fn tab_body(state: &AppState, admin: &Admin) -> Result<Markup, WebError> {
    let schedules = state.schedules.list(admin.org_id()).await?;
    let tz = org_tz(admin);
    let mut rows = Vec::new();
    for s in schedules {
        let last = state.schedules.last_run(&s).await?;
        let words = cadence_text(admin, &s);
        rows.push((s, last, words));
    }
    Ok(html! {
        div.row.between {
            h2 { "Schedules" }
            span.muted { "Create schedules with POST /v1/export-schedules." }
        }
        div.table-wrap {
            table {
                caption.sr-only { "Scheduled exports, newest first" }
                thead { tr {
                    th scope="col" { "Name" }
                    th scope="col" { "Cadence" }
                    th scope="col" { "Next run" }
                    th scope="col" { "Last run" }
                    th scope="col" { "Status" }
                    th scope="col" { "Actions" }
                } }
                tbody {
                    @for (s, last, words) in &rows {
                        tr data-id=(s.id) {
                            td { a href=(detail_path(&s.id)) { (s.name) } }
                            td data-role="cadence" { (words) }
                            td { (next_run(s, tz)) }
                            td data-role="last-run" {
                                @if let Some(run) = last {
                                    (run_badge(run)) " " span.progress { (period_text(s, run)) }
                                } @else { span.muted { "Not run yet" } }
                            }
                            td { (state_badge(s.state)) }
                            td.actions { (actions(admin, s, false)) }
                        }
                    }
                    @if rows.is_empty() {
                        tr { td.empty colspan="6" { "No scheduled exports yet." } }
                    }
                }
            }
        }
    })
}

fn next_run(s: &Schedule, tz: Tz) -> Markup {
    match s.next_run_at.filter(|_| s.state == ScheduleState::Active) {
        Some(t) => layout::time(t, tz),
        None => html! { span.muted { "—" } },
    }
}

/// `?notice=…`.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    /// A notice code.
    #[serde(default)]
    pub notice: Option<String>,
}

/// `GET …/schedules/{id}`: the schedule and its run history.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let s = state.schedules.get(admin.org_id(), &id).await?;
    let runs = state.schedules.runs(admin.org_id(), &id, 100).await?;
    let tz = org_tz(&admin);
    let words = cadence_text(&admin, &s);
    let mut links = Vec::new();
    for run in &runs {
        let url = match state.schedules.export_of(run).await? {
            Some(job) => state.exports.download_url(&job),
            None => None,
        };
        links.push(url);
    }
    let body = html! {
        p { a href={(PATH) "?tab=schedules"} { "← Schedules" } }
        h1 { (s.name) }
        @if let Some(text) = q.notice.as_deref().and_then(notice_text) { (layout::notice(text)) }
        section.card {
            dl {
                dt { "Status" } dd { (state_badge(s.state)) @if let Some(r) = &s.state_reason { " " span.progress { (r) } } }
                dt { "Cadence" } dd data-role="cadence" { (words) }
                dt { "Next run" } dd { (next_run(&s, tz)) }
                dt { "Data type" } dd { (s.export.data_type) }
            }
            div.actions-bar { (actions(&admin, &s, true)) }
        }
        h2 { "Runs" }
        div.table-wrap {
            table {
                caption.sr-only { "Runs, newest period first" }
                thead { tr {
                    th scope="col" { "Period" }
                    th scope="col" { "Status" }
                    th.num scope="col" { "Rows" }
                    th scope="col" { "Delivered" }
                    th scope="col" { "Download" }
                } }
                tbody {
                    @for (run, url) in runs.iter().zip(&links) {
                        tr data-id=(run.id) {
                            td { (period_text(&s, run)) }
                            td {
                                (run_badge(run))
                                @if let Some(e) = run.reason() { span.progress { (e) } }
                            }
                            td.num { (run.rows.map(layout::count).unwrap_or_else(|| "—".into())) }
                            td { (if run.delivered.is_empty() { "—".to_string() } else { run.delivered.join(", ") }) }
                            td {
                                @if let Some(url) = url { a href=(url) download { "Download" } }
                                @else { span.muted { "—" } }
                            }
                        }
                    }
                    @if runs.is_empty() {
                        tr { td.empty colspan="5" { "No runs yet. The first runs at the next run time, or use Run now." } }
                    }
                }
            }
        }
    };
    Ok(layout::ok(layout::page(
        &s.name,
        Some(&admin),
        Nav::DataExport,
        body,
    )))
}

/// The pause / resume / run / delete forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    /// `detail` to come back to the schedule's page.
    back: String,
    /// `yes` once the deletion is confirmed.
    confirm: String,
}

fn after(form: &ActionForm, id: &str, notice: &str) -> Response {
    let to = if form.back == "detail" {
        format!("{}?notice={notice}", detail_path(id))
    } else {
        format!("{PATH}?tab=schedules&notice={notice}")
    };
    Redirect::to(&to).into_response()
}

/// `POST …/schedules/{id}/pause`.
pub async fn pause(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<ActionForm>,
) -> Result<Response, WebError> {
    let actor = actor(&admin, client);
    state
        .schedules
        .set_active(admin.org_id(), &id, false, &actor, Utc::now())
        .await?;
    Ok(after(&form, &id, "schedule_paused"))
}

/// `POST …/schedules/{id}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<ActionForm>,
) -> Result<Response, WebError> {
    let actor = actor(&admin, client);
    state
        .schedules
        .set_active(admin.org_id(), &id, true, &actor, Utc::now())
        .await?;
    Ok(after(&form, &id, "schedule_resumed"))
}

/// `POST …/schedules/{id}/run`: the most recent complete period, once.
pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<ActionForm>,
) -> Result<Response, WebError> {
    let ran = state
        .schedules
        .run_now(admin.org_id(), &id, Utc::now())
        .await?;
    let notice = if ran.created {
        "schedule_run"
    } else {
        "schedule_ran"
    };
    Ok(after(&form, &id, notice))
}

/// `POST …/schedules/{id}/delete`: without `confirm=yes`, a page that asks first.
pub async fn delete(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<ActionForm>,
) -> Result<Response, WebError> {
    let s = state.schedules.get(admin.org_id(), &id).await?;
    if form.confirm != "yes" {
        return Ok(layout::confirm_page(
            &admin,
            Nav::DataExport,
            layout::Confirm {
                title: "Delete schedule",
                question: html! { "Delete schedule?" },
                consequence: html! { "The schedule " strong { (s.name) } " stops running and its run history is removed. The exports it made stay in the export history." },
                action: format!("{}/delete", detail_path(&s.id)),
                confirm: html! { "Delete schedule" },
                keep: (format!("{PATH}?tab=schedules"), "Keep it"),
            },
        ));
    }
    let actor = actor(&admin, client);
    state.schedules.delete(admin.org_id(), &id, &actor).await?;
    Ok(Redirect::to(&format!("{PATH}?tab=schedules&notice=schedule_deleted")).into_response())
}

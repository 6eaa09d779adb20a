//! A drain's detail page (status and reason, destination host, lag, records delivered, source
//! vs delivered per day with a warning for a short old day, status history, recent attempts,
//! test, replay) and the drain actions of the Drains tab: pause, resume, delete (confirmed).

use super::data_export::{self, PATH, org_tz};
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{Admin, Checked};
use crate::audit::Actor;
use crate::domain::role::Capability;
use crate::drain::DrainError;
use crate::drain::StatusEvent;
use crate::drain::dest::DestinationConfig;
use crate::drain::model::{Drain, DrainStatus};
use crate::http::extract::Client;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeZone, Utc};
use maud::{Markup, html};
use serde::Deserialize;

/// Attempts shown on the detail page.
const ATTEMPTS: i64 = 25;
/// Status changes shown on the detail page.
const HISTORY: i64 = 25;
/// Days of source vs delivered shown on the detail page.
const RECONCILED_DAYS: i64 = 7;
/// A day that ended longer ago than this and is still short gets a warning: by then the
/// drain should have caught up.
const SHORT_AFTER: chrono::Duration = chrono::Duration::hours(1);

/// The audit actor of an admin's request.
pub fn actor(admin: &Admin, client: Client) -> Actor {
    Actor {
        user_id: format!("admin:{}", admin.email),
        source_ip: client.ip,
        user_agent: client.user_agent,
    }
}

/// `?notice=…`.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    /// A notice code.
    #[serde(default)]
    pub notice: Option<String>,
}

/// The pause / resume / delete / test forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    /// `detail` to come back to the detail page.
    back: String,
    /// `yes` once the deletion is confirmed.
    confirm: String,
}

/// The replay form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplayForm {
    /// Window start, `YYYY-MM-DDTHH:MM` in the organization's zone.
    from: String,
    /// Window end (exclusive).
    to: String,
}

fn detail_path(id: &str) -> String {
    format!("{PATH}/drains/{id}")
}

/// `GET …/drains/{id}`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let notice = q.notice.as_deref().and_then(data_export::notice_text);
    detail(&state, &admin, &id, notice, None, StatusCode::OK).await
}

/// `2 h 5 min`, `42 s`.
pub fn duration_text(secs: f64) -> String {
    let s = secs.max(0.0).round() as i64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// The destination's settings; `host` is where it delivers (`scheme://host[:port]`, from
/// `Drains::destination_host`: never a path, query or secret).
fn destination_facts(d: &DestinationConfig, host: Option<&str>) -> Markup {
    let facts = match d {
        DestinationConfig::Http {
            format,
            otlp_encoding,
            gzip,
            ..
        } => html! {
            dt { "Format" } dd { (format!("{format:?}").to_uppercase())
                @if matches!(format, crate::drain::dest::config::HttpFormat::Otlp) { " (" (format!("{otlp_encoding:?}").to_lowercase()) ")" }
                @if *gzip { " · gzip" } }
        },
        DestinationConfig::S3 {
            bucket,
            prefix,
            region,
            endpoint,
            ..
        } => html! {
            dt { "Bucket" } dd { code { (bucket) } }
            dt { "Prefix" } dd { code { (if prefix.is_empty() { "—" } else { prefix }) } }
            dt { "Region" } dd { (region.as_deref().unwrap_or("us-east-1")) }
            @if let Some(e) = endpoint { dt { "Endpoint" } dd { code { (e) } } }
        },
        DestinationConfig::Gcs {
            bucket,
            prefix,
            endpoint,
            format,
        } => html! {
            dt { "Bucket" } dd { code { (bucket) } }
            dt { "Prefix" } dd { code { (if prefix.is_empty() { "—" } else { prefix }) } }
            dt { "Format" } dd { (format.as_str()) }
            @if let Some(e) = endpoint { dt { "Endpoint" } dd { code { (e) } } }
        },
        DestinationConfig::AzureBlob {
            account,
            container,
            prefix,
            endpoint,
            format,
        } => html! {
            dt { "Account" } dd { code { (account) } }
            dt { "Container" } dd { code { (container) } }
            dt { "Prefix" } dd { code { (if prefix.is_empty() { "—" } else { prefix }) } }
            dt { "Format" } dd { (format.as_str()) }
            @if let Some(e) = endpoint { dt { "Endpoint" } dd { code { (e) } } }
        },
        DestinationConfig::Datadog { site, service, .. } => html! {
            dt { "Site" } dd { (site) }
            @if let Some(s) = service { dt { "Service" } dd { (s) } }
        },
    };
    html! {
        @if let Some(h) = host { dt { "Host" } dd { code data-role="host" { (h) } } }
        (facts)
    }
}

/// The drain's status history, newest first, times in the organization's zone.
fn history_section(events: &[StatusEvent], tz: chrono_tz::Tz) -> Markup {
    html! {
        section {
            h2 { "Status history" }
            div.table-wrap {
                table {
                    caption.sr-only { "Status changes, newest first" }
                    thead { tr {
                        th scope="col" { "When" } th scope="col" { "Change" }
                        th scope="col" { "By" } th scope="col" { "Reason" }
                    } }
                    tbody {
                        @for e in events {
                            tr data-role="status-event" {
                                td { (layout::time(e.at, tz)) }
                                td { (e.change.label()) }
                                td { (e.actor) }
                                td { (e.reason.as_deref().unwrap_or("")) }
                            }
                        }
                        @if events.is_empty() {
                            tr { td.empty colspan="4" { "No status changes recorded." } }
                        }
                    }
                }
            }
        }
    }
}

fn scope_text(d: &Drain) -> String {
    let t = &d.scope.teams;
    if !super::pickers::team_scoped(d.data_type) {
        return "Whole organization".into();
    }
    if t.is_everything() {
        return "Every team and personal space".into();
    }
    let mut parts = Vec::new();
    if t.org_teams {
        parts.push("every organization team".into());
    }
    if !t.ids.is_empty() {
        let count = super::layout::plural(t.ids.len() as i64, "team", "teams");
        parts.push(format!("{count}: {}", t.ids.join(", ")));
    }
    if t.personal {
        parts.push("personal spaces".into());
    }
    parts.join("; ")
}

async fn detail(
    state: &AppState,
    admin: &Admin,
    id: &str,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let d = state.drains.get(admin.org_id(), id).await?;
    let attempts = state.drains.attempts(&d, ATTEMPTS).await?;
    let history = state.drains.status_history(&d, HISTORY).await?;
    let host = state.drains.destination_host(&d).await?;
    let tz = org_tz(admin);
    let now = Utc::now();
    let reconciled = reconciled_days(state, admin, &d, tz, now).await?;
    let body = html! {
        p { a href={(PATH) "?tab=drains"} { "← Back to drains" } }
        div.row {
            (layout::dest_icon(d.destination.kind()))
            h1 { (d.name) }
            (layout::drain_badge(d.status))
        }
        @if let Some(n) = notice { (layout::notice(n)) }
        @if let Some(e) = error { (layout::error_box(e)) }
        @if let Some(reason) = &d.status_reason {
            @if d.status == DrainStatus::Error {
                div.error-box role="alert" { strong { "Stopped: " } (reason) }
            } @else {
                p.muted { (reason) }
            }
        }
        section.card {
            div.row.between {
                h2 { "Status" }
                div.row {
                    (data_export::drain_actions(admin, &d, true))
                    @if admin.may(Capability::ManageDrains) {
                        a.button.small.secondary href={(detail_path(&d.id)) "/edit"} { "Edit" }
                        form method="post" action={(detail_path(&d.id)) "/test"} {
                            (layout::csrf_field(admin))
                            button.small type="submit" { "Send test batch" }
                        }
                    }
                }
            }
            dl.facts {
                dt { "Records delivered" } dd { (layout::count(d.records_delivered)) }
                dt { "Batches delivered" } dd { (layout::count(d.batch_seq)) " (the last one's " code { "seq" } ")" }
                dt { "Last synced" } dd { (layout::opt_time(d.last_synced_at, tz)) }
                dt { "Lag (record time)" } dd { (duration_text(d.lag_seconds(now))) }
                dt { "Lag (ingest time)" } dd { (duration_text(d.ingest_lag_seconds(now))) }
                dt { "Failed cycles in a row" } dd { (d.failed_cycles) }
                dt { "Data type" } dd { (d.data_type.label()) }
                dt { "Scope" } dd { (scope_text(&d)) }
                @if let Some(c) = &d.scope.category { dt { "Category" } dd { (c) } }
                dt { "Fields" } dd { (d.scope.fields.join(", ")) }
                dt { "Destination" } dd { (layout::dest_label(d.destination.kind())) }
                (destination_facts(&d.destination, host.as_deref()))
                dt { "Created" } dd { (layout::time(d.created_at, tz)) " by " (d.created_by) }
                @if let Some(s) = d.start_ts { dt { "Delivers records from" } dd { (layout::time(s, tz)) } }
            }
        }
        @if admin.may(Capability::ManageDrains) { (replay_section(admin, &d, tz, now)) }
        (reconciliation_section(&reconciled, now))
        (history_section(&history, tz))
        (attempts_section(&attempts, tz))
    };
    Ok(layout::with_headers(
        status,
        layout::page(&d.name, Some(admin), Nav::DataExport, body),
    ))
}

/// The form that replays a past window (the last 24 hours by default, in the org's zone).
fn replay_section(
    admin: &Admin,
    d: &Drain,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<Utc>,
) -> Markup {
    let today = now.with_timezone(&tz);
    html! {
        section.card {
            h2 { "Replay a window" }
            p.muted {
                "Delivers the records of a past window again, in batches with fresh idempotency keys ("
                code { "replay-…" } "), so receivers that drop repeated keys accept them. The drain's position does not move. Times are in "
                (tz.name()) "."
            }
            form method="post" action={(detail_path(&d.id)) "/replay"} {
                (layout::csrf_field(admin))
                div.grid {
                    div {
                        label for="replay-from" { "From" }
                        input #replay-from type="datetime-local" name="from" required
                            value=((today - chrono::Duration::hours(24)).format("%Y-%m-%dT%H:%M"));
                    }
                    div {
                        label for="replay-to" { "To (exclusive)" }
                        input #replay-to type="datetime-local" name="to" required value=(today.format("%Y-%m-%dT%H:%M"));
                    }
                }
                div.actions-bar { button.secondary type="submit" { "Replay" } }
            }
        }
    }
}

/// The drain's recent delivery attempts, newest first.
fn attempts_section(
    attempts: &[crate::drain::model::DeliveryAttempt],
    tz: chrono_tz::Tz,
) -> Markup {
    html! {
        section {
            h2 { "Recent delivery attempts" }
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "When" } th scope="col" { "Kind" } th scope="col" { "Result" }
                        th.num scope="col" { "Records" } th.num scope="col" { "HTTP" } th.num scope="col" { "Time" }
                        th scope="col" { "Details" }
                    } }
                    tbody {
                        @for a in attempts {
                            tr {
                                td { (layout::time(a.created_at, tz)) }
                                td { (a.kind) @if a.attempt > 1 { span.progress { "attempt " (a.attempt) } } }
                                td { @if a.ok { span.badge.badge-ok { "Delivered" } } @else { span.badge.badge-error { "Failed" } } }
                                td.num { (a.records) }
                                td.num { (a.status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())) }
                                td.num { (a.duration_ms) " ms" }
                                td { (a.error.as_deref().or(a.note.as_deref()).unwrap_or("")) }
                            }
                        }
                        @if attempts.is_empty() {
                            tr { td.empty colspan="7" { "No deliveries yet." } }
                        }
                    }
                }
            }
        }
    }
}

/// The drain's last [`RECONCILED_DAYS`] local days, source vs delivered.
async fn reconciled_days(
    state: &AppState,
    admin: &Admin,
    d: &Drain,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<crate::drain::reconcile::Bucket>, WebError> {
    use crate::domain::calendar::{Granularity, period_containing};
    let first = period_containing(
        tz,
        Granularity::Day,
        now - chrono::Duration::days(RECONCILED_DAYS - 1),
    );
    let end = period_containing(tz, Granularity::Day, now).end;
    let mut tally = crate::drain::reconcile::Tally::new(tz, Granularity::Day, first.start, end)
        .map_err(|e| WebError::Internal(anyhow::anyhow!(e)))?;
    state
        .drains
        .reconcile(admin.org_id(), &d.id, &mut tally)
        .await?;
    Ok(tally.buckets().to_vec())
}

/// Source vs delivered per day, newest first; a day that ended over [`SHORT_AFTER`] ago with
/// records still pending is flagged.
fn reconciliation_section(
    days: &[crate::drain::reconcile::Bucket],
    now: chrono::DateTime<Utc>,
) -> Markup {
    let short =
        |b: &crate::drain::reconcile::Bucket| b.pending() > 0 && b.period.end + SHORT_AFTER < now;
    let short_days = days.iter().filter(|b| short(b)).count();
    html! {
        section.card {
            h2 { "Source vs delivered" }
            p.muted {
                "Records of each day the drain has to deliver, and how many it delivered. The digest "
                "is what " code { "GET /v1/drains/{id}/reconciliation" } " and " code { "outflow verify" }
                " compare with what the receiver holds."
            }
            @if short_days > 0 {
                div.error-box role="alert" {
                    strong { "Short: " }
                    (short_days) " past day(s) still miss records the drain should have delivered."
                }
            }
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "Day" } th.num scope="col" { "Source" }
                        th.num scope="col" { "Delivered" } th.num scope="col" { "Pending" }
                        th scope="col" { "Digest" }
                    } }
                    tbody {
                        @for b in days.iter().rev() {
                            tr {
                                td { (b.period.first_day()) }
                                td.num { (layout::count(b.source as i64)) }
                                td.num { (layout::count(b.delivered as i64)) }
                                td.num {
                                    (layout::count(b.pending() as i64))
                                    @if short(b) { " " span.badge.badge-error { "short" } }
                                }
                                td { code { (crate::drain::reconcile::show_digest(b.digest)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn after(form: &ActionForm, id: &str, notice: &str) -> Response {
    let to = if form.back == "detail" {
        format!("{}?notice={notice}", detail_path(id))
    } else {
        format!("{PATH}?tab=drains&notice={notice}")
    };
    Redirect::to(&to).into_response()
}

/// `POST …/drains/{id}/pause`.
pub async fn pause(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<ActionForm>,
) -> Result<Response, WebError> {
    let actor = actor(&admin, client);
    state
        .drains
        .set_status(admin.org_id(), &id, DrainStatus::Paused, &actor)
        .await?;
    Ok(after(&form, &id, "drain_paused"))
}

/// `POST …/drains/{id}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<ActionForm>,
) -> Result<Response, WebError> {
    let actor = actor(&admin, client);
    state
        .drains
        .set_status(admin.org_id(), &id, DrainStatus::Active, &actor)
        .await?;
    Ok(after(&form, &id, "drain_resumed"))
}

/// `POST …/drains/{id}/delete`: without `confirm=yes`, a page that asks first.
pub async fn delete(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<ActionForm>,
) -> Result<Response, WebError> {
    let d = state.drains.get(admin.org_id(), &id).await?;
    if form.confirm != "yes" {
        return Ok(layout::confirm_page(
            &admin,
            Nav::DataExport,
            layout::Confirm {
                title: "Delete drain",
                question: html! { "Delete drain?" },
                consequence: html! { "The drain " strong { (d.name) } " stops delivering and is removed. A new drain starts from the time it is created." },
                action: format!("{}/delete", detail_path(&d.id)),
                confirm: html! { "Delete drain" },
                keep: (format!("{PATH}?tab=drains"), "Keep it"),
            },
        ));
    }
    let actor = actor(&admin, client);
    state.drains.delete(admin.org_id(), &id, &actor).await?;
    // The wizard gives every drain its own secret: remove it with the drain unless another
    // drain uses it too.
    match state
        .drains
        .delete_secret(admin.org_id(), &d.secret_id, &actor)
        .await
    {
        Ok(()) | Err(DrainError::Conflict(_)) | Err(DrainError::NotFound(_)) => {}
        Err(e) => tracing::warn!(error = %e, "secret of a deleted drain not removed"),
    }
    Ok(Redirect::to(&format!("{PATH}?tab=drains&notice=drain_deleted")).into_response())
}

/// `POST …/drains/{id}/test`.
pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { admin, .. }: Checked<ActionForm>,
) -> Result<Response, WebError> {
    let result = state.drains.test(admin.org_id(), &id).await?;
    let notice = if result.ok { "test_ok" } else { "test_failed" };
    Ok(Redirect::to(&format!("{}?notice={notice}", detail_path(&id))).into_response())
}

/// `POST …/drains/{id}/replay`.
pub async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<ReplayForm>,
) -> Result<Response, WebError> {
    let tz = org_tz(&admin);
    let parse = |s: &str| {
        NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S"))
            .ok()
            .and_then(|t| tz.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc))
    };
    let (Some(from), Some(to)) = (parse(&form.from), parse(&form.to)) else {
        let msg = "Enter both times as date and time (YYYY-MM-DDTHH:MM).";
        return detail(
            &state,
            &admin,
            &id,
            None,
            Some(msg),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    if to <= from {
        let msg = "The end of the window must be after its start.";
        return detail(
            &state,
            &admin,
            &id,
            None,
            Some(msg),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    state.drains.replay(admin.org_id(), &id, from, to).await?;
    Ok(Redirect::to(&format!("{}?notice=replay_started", detail_path(&id))).into_response())
}

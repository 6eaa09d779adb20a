//! `/settings/organization/audit_log`: the organization's audit log (Outflow's own events and
//! the platform's), searchable by event type, actor and time, 50 events a page, newest first;
//! **Export CSV** requests a normal `audit_logs` export of the same event type and dates (the
//! file then comes from the export's page, like any export).

use super::data_export::{self, org_tz};
use super::drains::actor;
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{Admin, Checked};
use crate::audit;
use crate::audit::search::{self as audit_search, Filter, PAGE_SIZE};
use crate::domain::role::Capability;
use crate::export::request::RequestError;
use crate::export::spec::{self, ExportInput};
use crate::http::extract::Client;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

/// The page's path.
pub const PATH: &str = "/settings/organization/audit_log";
/// The CSV export form's path.
pub const EXPORT_PATH: &str = "/settings/organization/audit_log/export";

/// The search (query string) and the export form: the same fields.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Search {
    /// Exact event type.
    event_type: String,
    /// Part of the actor's id.
    actor: String,
    /// First day (`YYYY-MM-DD`, the organization's zone).
    from: String,
    /// Last day, inclusive.
    to: String,
    /// Page number, from 1.
    page: Option<i64>,
}

fn trimmed(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Midnight starting `day` in `tz`, as UTC.
fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

fn parse_day(name: &str, value: &str) -> Result<Option<NaiveDate>, WebError> {
    trimmed(value)
        .map(|v| {
            NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| {
                WebError::BadRequest(format!("{name}: `{v}` is not a date; use YYYY-MM-DD"))
            })
        })
        .transpose()
}

impl Search {
    fn filter(&self, tz: Tz) -> Result<Filter, WebError> {
        let from = parse_day("From", &self.from)?;
        let to = parse_day("To", &self.to)?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(WebError::BadRequest(
                "From must be on or before To".to_string(),
            ));
        }
        Ok(Filter {
            event_type: trimmed(&self.event_type),
            actor: trimmed(&self.actor),
            from: from.map(|d| day_start(d, tz)),
            to: to.and_then(|d| d.succ_opt()).map(|d| day_start(d, tz)),
        })
    }

    /// `event_type=…&actor=…&from=…&to=…` of the non-empty parts (pager links keep them).
    fn params(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("event_type", &self.event_type),
            ("actor", &self.actor),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = trimmed(v) {
                out.append_pair(k, &v);
            }
        }
        out.finish()
    }
}

/// `GET /settings/organization/audit_log`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<Search>,
) -> Result<Response, WebError> {
    let tz = org_tz(&admin);
    let filter = q.filter(tz)?;
    let page = q.page.unwrap_or(1).max(1);
    let found = audit_search::search(&state.store, admin.org_id(), &filter, page).await?;
    let pages = (found.total.max(1) - 1) / PAGE_SIZE + 1;
    let kept = q.params();
    let link = |p: i64| {
        if kept.is_empty() {
            format!("{PATH}?page={p}")
        } else {
            format!("{PATH}?{kept}&page={p}")
        }
    };
    let body = html! {
        h1 { "Audit log" }
        p.lead { "Security and admin events of " (admin.org.name) ": Outflow's own and the platform's. Times are in " (tz.name()) "." }
        (search_form(&q, found.actor_searchable))
        @if admin.may(Capability::Export) { (export_form(&admin, &q)) }
        p.muted data-role="total" { (layout::plural(found.total, "event", "events")) }
        div.table-wrap {
            table {
                caption.sr-only { "Audit events, newest first" }
                thead { tr {
                    th scope="col" { "Time" } th scope="col" { "Event" } th scope="col" { "Actor" }
                    th scope="col" { "From" } th scope="col" { "Resource" } th scope="col" { "Details" }
                } }
                tbody {
                    @for e in &found.events {
                        tr data-event=(e.event_type) {
                            td { (layout::time(e.timestamp, tz)) }
                            td { code { (e.event_type) } }
                            td { (e.actor.as_deref().unwrap_or("—")) }
                            td { (e.source_ip.as_deref().unwrap_or("—")) }
                            td { (e.entity_id.as_deref().unwrap_or("—")) }
                            td { @if let Some(d) = &e.details { code.details { (d) } } @else { "—" } }
                        }
                    }
                    @if found.events.is_empty() { tr { td.empty colspan="6" { "No events match." } } }
                }
            }
        }
        @if pages > 1 {
            nav.row aria-label="Audit log pages" {
                @if page > 1 { a href=(link(page - 1)) { "← Newer" } }
                span.muted { "Page " (page) " of " (pages) }
                @if page < pages { a href=(link(page + 1)) { "Older →" } }
            }
        }
    };
    Ok(layout::ok(layout::page(
        "Audit log",
        Some(&admin),
        Nav::AuditLog,
        body,
    )))
}

fn search_form(q: &Search, actor_searchable: bool) -> Markup {
    html! {
        form.row method="get" action=(PATH) role="search" aria-label="Search the audit log" {
            div {
                label for="audit-type" { "Event type" }
                input #audit-type type="text" name="event_type" list="audit-types" value=(q.event_type) placeholder="Any";
                datalist #audit-types { @for e in audit::events::ALL { option value=(e) {} } }
            }
            div {
                label for="audit-actor" { "Actor" }
                @if actor_searchable {
                    input #audit-actor type="search" name="actor" value=(q.actor) placeholder="User, key or admin:email";
                } @else {
                    input #audit-actor type="search" name="actor" disabled aria-describedby="audit-actor-off" placeholder="Off";
                    span.hint #audit-actor-off { "Off while user fields are pseudonymized or hidden." }
                }
            }
            div {
                label for="audit-from" { "From" }
                input #audit-from type="date" name="from" value=(q.from);
            }
            div {
                label for="audit-to" { "To" }
                input #audit-to type="date" name="to" value=(q.to);
            }
            button.secondary type="submit" { "Search" }
            @if !q.params().is_empty() { a href=(PATH) { "Clear" } }
        }
    }
}

fn export_form(admin: &Admin, q: &Search) -> Markup {
    html! {
        form method="post" action=(EXPORT_PATH) {
            (layout::csrf_field(admin))
            input type="hidden" name="event_type" value=(q.event_type);
            input type="hidden" name="from" value=(q.from);
            input type="hidden" name="to" value=(q.to);
            p.muted {
                "Export CSV requests an audit-log export (every field) of this event type and these dates (the last 30 days when no dates are set); the actor search applies to this page only. "
                button.small.secondary type="submit" { "Export CSV" }
            }
        }
    }
}

/// `POST /settings/organization/audit_log/export`: a normal export job, then its page.
pub async fn export(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, form }: Checked<Search>,
) -> Result<Response, WebError> {
    let tz = org_tz(&admin);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let to = parse_day("To", &form.to)?.unwrap_or(today);
    let from = parse_day("From", &form.from)?.unwrap_or(to - chrono::Days::new(29));
    let input = ExportInput {
        data_type: Some("audit_logs".into()),
        start: Some(from.to_string()),
        end: Some(to.to_string()),
        event_type_filter: trimmed(&form.event_type).into_iter().collect(),
        field_preset: Some("full".into()),
        format: Some("csv".into()),
        ..ExportInput::default()
    };
    let requested = state
        .exports
        .request(
            &admin.org,
            &input,
            spec::NATIVE,
            Some(&admin.email),
            &actor(&admin, client),
        )
        .await;
    match requested {
        Ok(job) => Ok(Redirect::to(&format!(
            "{}/exports/{}?notice=export_created",
            data_export::PATH,
            job.id
        ))
        .into_response()),
        Err(RequestError::Input(e)) => {
            Err(WebError::BadRequest(format!("{}: {}", e.param, e.message)))
        }
        Err(RequestError::Store(e)) => Err(e.into()),
        Err(RequestError::Queue(e)) => Err(WebError::Internal(e)),
    }
}

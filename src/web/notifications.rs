//! `/settings/organization/notifications` (owners and admins): where drain errors, failed
//! exports and failed schedules are posted besides the emails — an `http` secret of the
//! organization, the body format (Outflow's signed event or a Slack-compatible text) and
//! the event types — saved through [`Notifications::put`](crate::notifier::Notifications::put),
//! which validates them; and the latest events with their delivery state.

use super::data_export::org_tz;
use super::drains::{NoticeQuery, actor};
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{Admin, Checked};
use super::signin::Empty;
use crate::drain::SecretInfo;
use crate::http::extract::Client;
use crate::notifier::{EventType, EventView, Format, NotifyError, Settings, SettingsBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// The page's path.
pub const PATH: &str = "/settings/organization/notifications";

/// The settings form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NotificationsForm {
    secret_id: String,
    format: String,
    events: Vec<String>,
}

/// What the page shows besides the stored setting.
struct View<'a> {
    notice: Option<&'a str>,
    error: Option<&'a str>,
    status: StatusCode,
}

/// `GET`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let notice = match q.notice.as_deref() {
        Some("saved") => Some("Notification destination saved."),
        Some("off") => Some("Notifications are off; failures are still emailed."),
        _ => None,
    };
    let view = View {
        notice,
        error: None,
        status: StatusCode::OK,
    };
    page(&state, &admin, view).await
}

async fn page(state: &AppState, admin: &Admin, v: View<'_>) -> Result<Response, WebError> {
    let org = admin.org_id();
    let current = state.notifier.get(org).await.map_err(internal)?;
    let secrets: Vec<SecretInfo> = state
        .drains
        .secrets(org)
        .await?
        .into_iter()
        .filter(|s| s.kind == "http")
        .collect();
    let events = state.notifier.events(org, 20).await.map_err(internal)?;
    let body = html! {
        h1 { "Notifications" }
        p.lead { "Drain errors, failed exports and stopped schedules are emailed to the admins. "
            "They can also be posted to an HTTP endpoint — your incident tool or a Slack incoming webhook — "
            "as a signed event (Standard Webhooks headers; " code { "webhook-id" } " is the event id, the same on every retry)." }
        @if let Some(n) = v.notice { (layout::notice(n)) }
        @if let Some(e) = v.error { (layout::error_box(e)) }
        section.card {
            p #notify-status { "Status: " strong { @if current.is_some() { "on" } @else { "off" } } }
            (settings_form(admin, current.as_ref(), &secrets))
            @if current.is_some() {
                form method="post" action={(PATH) "/off"} data-confirm="Turn notifications off? Failures are still emailed." {
                    (layout::csrf_field(admin))
                    button.danger type="submit" { "Turn off" }
                }
            }
        }
        h2 { "Latest events" }
        (events_table(&events, admin))
    };
    Ok(layout::with_headers(
        v.status,
        layout::page("Notifications", Some(admin), Nav::Notifications, body),
    ))
}

fn settings_form(admin: &Admin, c: Option<&Settings>, secrets: &[SecretInfo]) -> Markup {
    let format = c.map_or(Format::Outflow, |c| c.format);
    let wanted = |e: EventType| c.is_none_or(|c| c.events.contains(&e));
    html! {
        @if secrets.is_empty() {
            p.muted { "No HTTP secret yet: add one in the Add Drain wizard or with "
                code { "POST /v1/secrets" } " (kind " code { "http" } ": the endpoint URL, optional authorization and signing secrets)." }
        } @else {
            form method="post" action=(PATH) {
                (layout::csrf_field(admin))
                label for="notify-secret" { "Endpoint (a stored HTTP secret)" }
                select #notify-secret name="secret_id" required {
                    @for s in secrets {
                        option value=(s.id) selected[c.is_some_and(|c| c.secret_id == s.id)] { (s.name) " (" (s.id) ")" }
                    }
                }
                fieldset {
                    legend { "Body" }
                    label.inline for="notify-format-outflow" {
                        input #notify-format-outflow type="radio" name="format" value="outflow" checked[format == Format::Outflow];
                        " Outflow event (JSON: id, type, organization, data)"
                    }
                    label.inline for="notify-format-slack" {
                        input #notify-format-slack type="radio" name="format" value="slack" checked[format == Format::Slack];
                        " Slack-compatible text (" code { "{\"text\": …}" } ")"
                    }
                }
                fieldset {
                    legend { "Events" }
                    @for e in EventType::ALL {
                        label.inline for={"notify-event-" (e.as_str())} {
                            input id={"notify-event-" (e.as_str())} type="checkbox" name="events" value=(e.as_str()) checked[wanted(e)];
                            " " (e.label()) " (" code { (e.as_str()) } ")"
                        }
                    }
                }
                div.actions-bar { button type="submit" { "Save" } }
            }
        }
    }
}

fn events_table(events: &[EventView], admin: &Admin) -> Markup {
    let tz = org_tz(admin);
    html! {
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "About" }
                    th scope="col" { "Delivery" } th scope="col" { "Attempts" }
                } }
                tbody {
                    @for e in events {
                        tr {
                            td { (layout::time(e.created_at, tz)) }
                            td { code { (e.event_type) } }
                            td { code { (e.subject_id) } }
                            td {
                                (e.state)
                                @if let Some(err) = &e.error { br; span.muted { (err) } }
                            }
                            td { (e.attempts) }
                        }
                    }
                    @if events.is_empty() { tr { td.empty colspan="5" { "No events yet." } } }
                }
            }
        }
    }
}

fn internal(e: NotifyError) -> WebError {
    match e {
        NotifyError::Input { .. } => WebError::BadRequest(e.to_string()),
        NotifyError::NotFound(m) => WebError::NotFound(m),
        NotifyError::Store(s) => s.into(),
    }
}

/// `POST`: save.
pub async fn save(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, form }: Checked<NotificationsForm>,
) -> Result<Response, WebError> {
    let body = SettingsBody {
        secret_id: form.secret_id,
        format: Some(form.format).filter(|f| !f.is_empty()),
        // An empty list is refused with the allowed values, as the API does.
        events: Some(form.events),
    };
    let error = match state
        .notifier
        .put(
            admin.org_id(),
            body,
            &actor(&admin, client),
            chrono::Utc::now(),
        )
        .await
    {
        Ok(_) => return Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response()),
        Err(e @ (NotifyError::Input { .. } | NotifyError::NotFound(_))) => e.to_string(),
        Err(e) => return Err(internal(e)),
    };
    let view = View {
        notice: None,
        error: Some(&error),
        status: StatusCode::BAD_REQUEST,
    };
    page(&state, &admin, view).await
}

/// `POST …/off`.
pub async fn off(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, .. }: Checked<Empty>,
) -> Result<Response, WebError> {
    state
        .notifier
        .delete(admin.org_id(), &actor(&admin, client))
        .await
        .map_err(internal)?;
    Ok(Redirect::to(&format!("{PATH}?notice=off")).into_response())
}

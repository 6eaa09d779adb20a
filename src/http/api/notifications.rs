//! `/v1/notifications`: the organization's notification destination (admin scope) — where
//! drain errors, failed exports and failed schedules are posted as signed events — and the
//! latest events with their delivery state.

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Client};
use crate::notifier::{EventView, NotifyError, Settings, SettingsBody};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

/// The organization's latest notification events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    /// Newest first (up to 100).
    pub items: Vec<EventView>,
}

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::Input { .. } => ApiError::BadRequest(e.to_string()),
            NotifyError::NotFound(m) => ApiError::NotFound(m),
            NotifyError::Store(s) => s.into(),
        }
    }
}

/// The notification destination: an `http` secret, the body format and the event types.
#[utoipa::path(
    get,
    path = "/v1/notifications",
    tag = "notifications",
    security(("org_key" = ["admin"])),
    responses(
        (status = 200, description = "The setting", body = Settings),
        (status = 404, description = "Notifications are off", body = ErrorBody),
    )
)]
pub(super) async fn get_notifications(
    auth: OrgAuth,
    State(state): State<AppState>,
) -> Result<Json<Settings>, ApiError> {
    auth.require(&[Scope::Admin])?;
    state
        .notifier
        .get(auth.org_id())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("notifications are off: no destination is set".into()))
}

/// Sets the notification destination. `format` is `outflow` (a signed JSON event, default)
/// or `slack` (`{"text": …}`, still signed); `events` any of `drain.error`, `export.failed`,
/// `schedule.failed` (default all). Each event is posted with its id as `webhook-id`, the
/// same on every retry.
#[utoipa::path(
    put,
    path = "/v1/notifications",
    tag = "notifications",
    security(("org_key" = ["admin"])),
    request_body = SettingsBody,
    responses(
        (status = 200, description = "Saved", body = Settings),
        (status = 400, description = "A field is invalid; the message names it and the allowed values", body = ErrorBody),
        (status = 404, description = "The secret is not in this organization", body = ErrorBody),
    )
)]
pub(super) async fn put_notifications(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Json<Settings>, ApiError> {
    auth.require(&[Scope::Admin])?;
    let s = state
        .notifier
        .put(auth.org_id(), body, &client.actor(&auth), Utc::now())
        .await?;
    Ok(Json(s))
}

/// Turns notifications off (events not yet delivered are given up).
#[utoipa::path(
    delete,
    path = "/v1/notifications",
    tag = "notifications",
    security(("org_key" = ["admin"])),
    responses(
        (status = 204, description = "Off"),
        (status = 404, description = "Notifications were off already", body = ErrorBody),
    )
)]
pub(super) async fn delete_notifications(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::Admin])?;
    if state
        .notifier
        .delete(auth.org_id(), &client.actor(&auth))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(
            "notifications are off: no destination is set".into(),
        ))
    }
}

/// The latest notification events with their delivery state, newest first.
#[utoipa::path(
    get,
    path = "/v1/notifications/events",
    tag = "notifications",
    security(("org_key" = ["admin"])),
    responses((status = 200, description = "Events", body = EventList))
)]
pub(super) async fn list_notification_events(
    auth: OrgAuth,
    State(state): State<AppState>,
) -> Result<Json<EventList>, ApiError> {
    auth.require(&[Scope::Admin])?;
    let items = state.notifier.events(auth.org_id(), 100).await?;
    Ok(Json(EventList { items }))
}

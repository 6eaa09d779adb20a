//! Operational notifications to an HTTP destination (issue 16 item 6): a drain entering
//! `error`, a failed export and a schedule stopped by failed runs go — besides the emails
//! sent today — to the organization's notification endpoint as a signed event.
//!
//! This module is the outbox and the settings, low in the layers so the drain, export and
//! schedule code can raise events; `notifier/` (above the drains, whose destination code it
//! posts with) validates the settings and delivers.
//!
//! ```text
//! mod.rs      event types, body formats, settings, raise() — the one call an occurrence makes
//! repo.rs     SQL: the settings row and the outbox (notification_events), leases
//! ```
//!
//! **Durable and exactly once per occurrence.** [`raise`] writes the event into the outbox
//! (`notification_events`) in the same transaction as the occurrence's audit record, so an
//! occurrence that happened has its event, and the triggering code path only pays for one
//! insert: it never waits for the receiver and never fails because of it. The runner
//! delivers it later with the event id as `webhook-id` on every attempt (the idempotency key
//! a receiver deduplicates on), retrying transient failures with the drains' backoff.
//!
//! **Never a credential in an event**: the data carries ids, names and the reason the
//! failing code already scrubbed for its status and email.

pub mod repo;

use crate::store::{RecordBatch, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The kinds of event an organization can be notified of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// A drain entered the `error` state.
    #[serde(rename = "drain.error")]
    DrainError,
    /// An export failed.
    #[serde(rename = "export.failed")]
    ExportFailed,
    /// A scheduled export stopped (state `error`) after failed runs.
    #[serde(rename = "schedule.failed")]
    ScheduleFailed,
}

impl EventType {
    /// Every event type, in the order the pages list them.
    pub const ALL: [EventType; 3] = [
        EventType::DrainError,
        EventType::ExportFailed,
        EventType::ScheduleFailed,
    ];

    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::DrainError => "drain.error",
            EventType::ExportFailed => "export.failed",
            EventType::ScheduleFailed => "schedule.failed",
        }
    }

    /// What it means, for the settings page.
    pub fn label(self) -> &'static str {
        match self {
            EventType::DrainError => "A drain stops with an error",
            EventType::ExportFailed => "An export fails",
            EventType::ScheduleFailed => "A scheduled export stops after failed runs",
        }
    }

    /// Parses a name; the error names the allowed values.
    pub fn parse(s: &str) -> Result<EventType, String> {
        EventType::ALL
            .into_iter()
            .find(|e| e.as_str() == s.trim())
            .ok_or_else(|| format!("`{}` is not an event type; use {}", s.trim(), allowed()))
    }
}

/// The event type names, comma-separated (for messages).
pub fn allowed() -> String {
    EventType::ALL
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The body of the POSTed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Outflow's JSON event: `{id, type, org_id, at, data}`.
    #[default]
    Outflow,
    /// A Slack-compatible incoming-webhook body: `{"text": "…"}` (still signed).
    Slack,
}

impl Format {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Outflow => "outflow",
            Format::Slack => "slack",
        }
    }

    /// Parses a name; the error names the allowed values.
    pub fn parse(s: &str) -> Result<Format, String> {
        match s.trim() {
            "outflow" => Ok(Format::Outflow),
            "slack" => Ok(Format::Slack),
            other => Err(format!("`{other}` is not a format; use outflow or slack")),
        }
    }
}

/// An organization's notification destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Settings {
    /// The `http` secret (`POST /v1/secrets`) whose URL receives the events.
    pub secret_id: String,
    /// `outflow` or `slack`.
    pub format: Format,
    /// The event types sent.
    pub events: Vec<EventType>,
    /// Who changed it last.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// One event of the outbox, as the API and the settings page show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// The event id: the `webhook-id` of every attempt.
    pub id: String,
    /// `drain.error`, `export.failed` or `schedule.failed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The drain, export or schedule.
    pub subject_id: String,
    /// `pending` (being delivered), `sent` or `failed` (delivery gave up).
    pub state: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// The last delivery error.
    pub error: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// When the receiver accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

/// One occurrence to notify: built where it happens, stored by [`raise`].
#[derive(Debug, Clone)]
pub struct Event {
    /// `ntf_…`: the idempotency key.
    pub id: String,
    /// The organization.
    pub org_id: String,
    /// What happened.
    pub event_type: EventType,
    /// The drain, export or schedule.
    pub subject_id: String,
    /// What the receiver gets under `data` (ids, names, the reason; never a credential).
    pub data: serde_json::Value,
}

impl Event {
    /// A new occurrence with a fresh id.
    pub fn new(
        org_id: &str,
        event_type: EventType,
        subject_id: &str,
        data: serde_json::Value,
    ) -> Event {
        Event {
            id: format!("ntf_{}", uuid::Uuid::now_v7().simple()),
            org_id: org_id.to_string(),
            event_type,
            subject_id: subject_id.to_string(),
            data,
        }
    }
}

/// Wakes the runners of this process when an event is raised (latency only: they poll too).
/// A process-wide signal rather than a handle threaded through every service that raises
/// events; several apps in one process (tests) each look, and find only their own events.
static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// The signal [`raise`] gives (the runner waits on it between passes).
pub fn wake_signal() -> &'static tokio::sync::Notify {
    &WAKE
}

/// Stores `audit` and, when the organization wants `event`'s type, the event in the outbox,
/// in one transaction. Never contacts the receiver.
pub async fn raise(store: &Store, event: &Event, audit: &RecordBatch) -> Result<(), StoreError> {
    let wanted = repo::settings(store, &event.org_id)
        .await?
        .is_some_and(|s| s.events.contains(&event.event_type));
    if !wanted {
        store.insert_records(audit).await?;
        return Ok(());
    }
    repo::enqueue(store, event, Utc::now(), Some(audit)).await?;
    WAKE.notify_waiters();
    Ok(())
}

/// For a state change that stores its own transaction (a schedule's move to `error`): the
/// statement that puts `event` in the outbox, to run inside that transaction, or `None` when
/// the organization does not want the event. Call [`wake`] once it committed.
pub async fn outbox_statement(
    store: &Store,
    event: &Event,
) -> Result<Option<(String, Vec<crate::store::Value>)>, StoreError> {
    let wanted = repo::settings(store, &event.org_id)
        .await?
        .is_some_and(|s| s.events.contains(&event.event_type));
    Ok(wanted.then(|| repo::enqueue_statement(event, Utc::now())))
}

/// Wakes the delivery runner for an event stored through [`outbox_statement`].
pub fn wake() {
    WAKE.notify_waiters();
}

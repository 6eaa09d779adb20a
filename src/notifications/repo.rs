//! The `notification_settings` and `notification_events` tables.
//!
//! **Delivered at least once, one event per occurrence.** An event row is inserted once, in
//! the occurrence's transaction; it stays `pending` until the receiver accepts it. A node
//! leases it (`lease_owner`, `lease_until`) before posting and every outcome write is fenced
//! by the lease, so two nodes never post it at once; a node killed mid-post leaves a lease
//! that expires and a later pass posts it again — with the same id, which is what the
//! receiver deduplicates on.

use super::{Event, EventType, EventView, Format, Settings};
use crate::domain::FieldType;
use crate::store::named::{Columns, NamedRow, col};
use crate::store::{BackendKind, RecordBatch, Store, StoreError, Value};
use chrono::{DateTime, Utc};

const SETTINGS: Columns = Columns(&[
    col("secret_id", FieldType::Text),
    col("format", FieldType::Text),
    col("events", FieldType::Json),
    col("updated_by", FieldType::Text),
    col("updated_at", FieldType::Timestamp),
]);

const EVENT: Columns = Columns(&[
    col("id", FieldType::Text),
    col("org_id", FieldType::Text),
    col("type", FieldType::Text),
    col("subject_id", FieldType::Text),
    col("payload", FieldType::Json),
    col("state", FieldType::Text),
    col("attempts", FieldType::Integer),
    col("last_error", FieldType::Text),
    col("created_at", FieldType::Timestamp),
    col("sent_at", FieldType::Timestamp),
]);

/// An outbox row.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// The event id.
    pub id: String,
    /// The organization.
    pub org_id: String,
    /// `drain.error`, …
    pub event_type: String,
    /// The drain, export or schedule.
    pub subject_id: String,
    /// The event's `data`.
    pub payload: serde_json::Value,
    /// pending, sent, failed.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// When it was accepted.
    pub sent_at: Option<DateTime<Utc>>,
}

impl EventRow {
    fn view(self) -> EventView {
        EventView {
            id: self.id,
            event_type: self.event_type,
            subject_id: self.subject_id,
            state: self.state,
            attempts: self.attempts,
            error: self.last_error,
            created_at: self.created_at,
            sent_at: self.sent_at,
        }
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("notification {what}: {e}"))
}

fn settings_from_row(mut r: NamedRow) -> Result<Settings, StoreError> {
    let format = r.text("format")?;
    let events: Vec<String> = r.decode("events")?;
    Ok(Settings {
        secret_id: r.text("secret_id")?,
        format: Format::parse(&format).map_err(|e| corrupt("format", e))?,
        events: events
            .iter()
            .map(|e| EventType::parse(e))
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt("events", e))?,
        updated_by: r.text("updated_by")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn event_from_row(mut r: NamedRow) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        id: r.text("id")?,
        org_id: r.text("org_id")?,
        event_type: r.text("type")?,
        subject_id: r.text("subject_id")?,
        payload: r.json("payload")?,
        state: r.text("state")?,
        attempts: r.i64("attempts")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.ts("created_at")?,
        sent_at: r.opt_ts("sent_at")?,
    })
}

/// The organization's setting.
pub async fn settings(store: &Store, org: &str) -> Result<Option<Settings>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM notification_settings WHERE org_id = ?",
            &[org.into()],
            SETTINGS,
            "notification setting",
        )
        .await?
        .into_iter()
        .next()
        .map(settings_from_row)
        .transpose()
}

/// Stores (inserts or replaces) the organization's setting with its audit record.
pub async fn put_settings(
    store: &Store,
    org: &str,
    s: &Settings,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "INSERT INTO notification_settings (org_id, secret_id, format, events, updated_by, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id) DO UPDATE SET \
             secret_id = excluded.secret_id, format = excluded.format, events = excluded.events, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            &[
                org.into(),
                s.secret_id.as_str().into(),
                s.format.as_str().into(),
                Value::Json(serde_json::to_value(&s.events).expect("serializes")),
                s.updated_by.as_str().into(),
                Value::Timestamp(s.updated_at),
            ],
            audit,
        )
        .await
}

/// Removes the organization's setting with its audit record.
pub async fn delete_settings(
    store: &Store,
    org: &str,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "DELETE FROM notification_settings WHERE org_id = ?",
            &[org.into()],
            audit,
        )
        .await
}

const INSERT: &str = "INSERT INTO notification_events (id, org_id, type, subject_id, payload, \
     state, attempts, last_error, next_attempt_at, lease_owner, lease_until, created_at, \
     sent_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, NULL, ?, NULL, NULL, ?, NULL) \
     ON CONFLICT (id) DO NOTHING";

/// The statement that puts `e` in the outbox, due `now`, for a caller's own transaction.
pub fn enqueue_statement(e: &Event, now: DateTime<Utc>) -> (String, Vec<Value>) {
    (
        INSERT.to_string(),
        vec![
            e.id.as_str().into(),
            e.org_id.as_str().into(),
            e.event_type.as_str().into(),
            e.subject_id.as_str().into(),
            Value::Json(e.data.clone()),
            Value::Timestamp(now),
            Value::Timestamp(now),
        ],
    )
}

/// Puts `e` in the outbox, due now — with `audit` in the same transaction when given.
pub async fn enqueue(
    store: &Store,
    e: &Event,
    now: DateTime<Utc>,
    audit: Option<&RecordBatch>,
) -> Result<(), StoreError> {
    let (sql, params) = enqueue_statement(e, now);
    match audit {
        Some(a) => store.execute_with_records(&sql, &params, a).await,
        None => store.execute(&sql, &params).await.map(|_| ()),
    }
}

/// The organization's latest events, newest first.
pub async fn recent(store: &Store, org: &str, limit: i64) -> Result<Vec<EventView>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM notification_events WHERE org_id = ? \
             ORDER BY created_at DESC, id DESC LIMIT ?",
            &[org.into(), Value::Integer(limit)],
            EVENT,
            "notification event",
        )
        .await?
        .into_iter()
        .map(|r| event_from_row(r).map(EventRow::view))
        .collect()
}

/// Leases up to `limit` pending events whose next attempt is due.
pub async fn lease_due(
    store: &Store,
    node: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let skip = match store.kind() {
        BackendKind::Postgres => " FOR UPDATE SKIP LOCKED",
        BackendKind::Sqlite => "",
    };
    store
        .query_write_named(
            &format!(
                "UPDATE notification_events SET lease_owner = ?, lease_until = ? \
                 WHERE id IN (SELECT id FROM notification_events WHERE state = 'pending' \
                 AND next_attempt_at <= ? AND (lease_owner IS NULL OR lease_until < ?) \
                 ORDER BY created_at, id LIMIT ?{skip}) \
                 AND (lease_owner IS NULL OR lease_until < ?) RETURNING {{columns}}"
            ),
            &[
                node.into(),
                Value::Timestamp(until),
                Value::Timestamp(now),
                Value::Timestamp(now),
                Value::Integer(limit),
                Value::Timestamp(now),
            ],
            EVENT,
            "leased notification event",
        )
        .await?
        .into_iter()
        .map(event_from_row)
        .collect()
}

/// What one attempt came to.
pub struct Outcome<'a> {
    /// pending (retry at `retry_at`), sent or failed.
    pub state: &'static str,
    /// This attempt's error.
    pub error: Option<&'a str>,
    /// When to try again (pending).
    pub retry_at: DateTime<Utc>,
}

/// Records an attempt and releases the lease; false when the lease was lost.
pub async fn record(
    store: &Store,
    node: &str,
    id: &str,
    o: &Outcome<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = store
        .execute(
            "UPDATE notification_events SET state = ?, last_error = ?, attempts = attempts + 1, \
             next_attempt_at = ?, sent_at = ?, lease_owner = NULL, lease_until = NULL \
             WHERE id = ? AND lease_owner = ?",
            &[
                o.state.into(),
                Value::opt_text(o.error),
                Value::Timestamp(o.retry_at),
                Value::opt_ts((o.state == "sent").then_some(now)),
                id.into(),
                node.into(),
            ],
        )
        .await?;
    Ok(changed > 0)
}

//! A drain's status history — created, settings changed, paused, resumed, stopped by errors —
//! read back from the `audit_logs` events Outflow writes for it (`drain_*`, with the drain's
//! id as `entity_id`; see `service.rs` and `engine/failure.rs`). The audit stream is the
//! record, so the history needs no table of its own and shows what a drain's org sees in
//! its own audit exports.

use super::dest::describe;
use crate::audit::events;
use crate::domain::{DataType, FieldType, catalog};
use crate::store::named::{Columns, NamedRow, col};
use crate::store::{Store, StoreError, Value};
use chrono::{DateTime, Utc};

/// What happened to the drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Created (active).
    Created,
    /// Its settings changed.
    Updated,
    /// Paused by someone.
    Paused,
    /// Resumed by someone.
    Resumed,
    /// Stopped (status `error`) after failed cycles in a row.
    Failed,
}

impl StatusChange {
    fn of(event_type: &str) -> Option<StatusChange> {
        Some(match event_type {
            events::DRAIN_CREATED => StatusChange::Created,
            events::DRAIN_UPDATED => StatusChange::Updated,
            events::DRAIN_PAUSED => StatusChange::Paused,
            events::DRAIN_RESUMED => StatusChange::Resumed,
            events::DRAIN_FAILED => StatusChange::Failed,
            _ => return None,
        })
    }

    /// How a page names it.
    pub fn label(self) -> &'static str {
        match self {
            StatusChange::Created => "Created",
            StatusChange::Updated => "Settings changed",
            StatusChange::Paused => "Paused",
            StatusChange::Resumed => "Resumed",
            StatusChange::Failed => "Stopped by errors",
        }
    }
}

/// One entry of the history.
#[derive(Debug, Clone)]
pub struct StatusEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub change: StatusChange,
    /// Who (`admin:{email}`, `key:{id}`, `cli`, `system`).
    pub actor: String,
    /// Why: the error that stopped the drain, or the status a pause or resume left.
    pub reason: Option<String>,
}

const EVENTS: Columns = Columns(&[
    col("timestamp", FieldType::Timestamp),
    col("event_type", FieldType::Text),
    col("user_id", FieldType::Text),
    col("details", FieldType::Json),
]);

fn event(mut r: NamedRow) -> Result<Option<StatusEvent>, StoreError> {
    let Some(change) = StatusChange::of(&r.text("event_type")?) else {
        return Ok(None);
    };
    let details = r.opt_json("details")?.unwrap_or_default();
    let text = |key: &str| {
        details
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let reason = match change {
        // Stored error texts may predate URL hiding: cut every URL to its host here too.
        StatusChange::Failed => text("reason").map(|r| describe::hide_url_paths(&r)),
        StatusChange::Paused | StatusChange::Resumed => {
            text("previous_status").map(|s| format!("was {s}"))
        }
        _ => None,
    };
    Ok(Some(StatusEvent {
        at: r.ts("timestamp")?,
        change,
        actor: r.opt_text("user_id")?.unwrap_or_default(),
        reason,
    }))
}

/// The newest `limit` status events of drain `id` of `org`, newest first.
pub async fn list(
    store: &Store,
    org: &str,
    id: &str,
    limit: i64,
) -> Result<Vec<StatusEvent>, StoreError> {
    let kinds = [
        events::DRAIN_CREATED,
        events::DRAIN_UPDATED,
        events::DRAIN_PAUSED,
        events::DRAIN_RESUMED,
        events::DRAIN_FAILED,
    ];
    let table = catalog::spec(DataType::AuditLogs).table;
    let mut params: Vec<Value> = vec![org.into(), id.into()];
    params.extend(kinds.iter().map(|k| Value::from(*k)));
    params.push(Value::Integer(limit));
    let rows = store
        .query_named(
            &format!(
                "SELECT {{columns}} FROM {table} WHERE org_id = ? AND entity_id = ? \
                 AND event_type IN (?, ?, ?, ?, ?) ORDER BY timestamp DESC, event_id DESC LIMIT ?"
            ),
            &params,
            EVENTS,
            "drain status event",
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(event)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect())
}

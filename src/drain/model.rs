//! A drain as stored and as the API shows it.

use super::dest::DestinationConfig;
use crate::domain::DataType;
use crate::export::spec::TeamScope;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Drain statuses (the reference's Active / Paused / Error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DrainStatus {
    /// Delivering.
    Active,
    /// Stopped by a person; resumes from its cursor.
    Paused,
    /// Stopped after failed cycles in a row (see `status_reason`); resumes from its cursor.
    Error,
}

impl DrainStatus {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            DrainStatus::Active => "active",
            DrainStatus::Paused => "paused",
            DrainStatus::Error => "error",
        }
    }
}

impl fmt::Display for DrainStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DrainStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "active" => DrainStatus::Active,
            "paused" => DrainStatus::Paused,
            "error" => DrainStatus::Error,
            other => return Err(format!("unknown drain status `{other}`")),
        })
    }
}

/// Which records a drain carries and which of their fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrainScope {
    /// Field ids, in output order; the type's time field is always delivered too.
    pub fields: Vec<String>,
    /// Teams (team-scoped types).
    #[schema(value_type = Object)]
    pub teams: TeamScope,
    /// Workbook or agent ids.
    pub entity_ids: Vec<String>,
    /// Credit-log category (internal value).
    pub category: Option<String>,
    /// Credit-log custom role (id or name).
    pub permission_group: Option<String>,
    /// Audit-log event types.
    pub event_types: Vec<String>,
    /// Workflows: leave out child runs.
    #[serde(default)]
    pub hide_child_runs: bool,
}

/// One drain.
#[derive(Debug, Clone)]
pub struct Drain {
    /// Id (`drn_…`).
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// Display name.
    pub name: String,
    /// Record stream.
    pub data_type: DataType,
    /// Records and fields.
    pub scope: DrainScope,
    /// Where to.
    pub destination: DestinationConfig,
    /// Credentials.
    pub secret_id: String,
    /// Status.
    pub status: DrainStatus,
    /// Why it is in `error` (or who paused it).
    pub status_reason: Option<String>,
    /// Last position delivered (or skipped by the filters).
    pub cursor_pos: i64,
    /// Last position of the batch being delivered, so a retry after a crash re-sends exactly
    /// that batch with the same idempotency key.
    pub pending_last: Option<i64>,
    /// Failed cycles in a row.
    pub failed_cycles: i64,
    /// Seq of the last live batch delivered (0: none yet); the pending batch is this + 1
    /// (see `batch::Chain`).
    pub batch_seq: i64,
    /// Idempotency key of the last live batch delivered: the next batch's `prev`.
    pub batch_prev: Option<String>,
    /// The cursor the drain started from: records at or before it were never its to deliver
    /// (reconciliation counts after it).
    pub start_pos: i64,
    /// Records delivered so far.
    pub records_delivered: i64,
    /// Last successful delivery.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Time of the oldest record read but not yet delivered (lag).
    pub oldest_pending_at: Option<DateTime<Utc>>,
    /// When the oldest record after the cursor was stored (ingest-time lag); read, never
    /// written.
    pub oldest_ingested_at: Option<DateTime<Utc>>,
    /// Only records at or after this time (a past value backfills).
    pub start_ts: Option<DateTime<Utc>>,
    /// Node holding the drain.
    pub lease_owner: Option<String>,
    /// Until when.
    pub lease_until: Option<DateTime<Utc>>,
    /// Key or member that created it.
    pub created_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Settings last changed.
    pub updated_at: DateTime<Utc>,
}

/// A drain as the API shows it (credentials are only referenced).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrainView {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Record stream.
    pub data_type: String,
    /// Status.
    pub status: DrainStatus,
    /// Why it is in `error`.
    pub status_reason: Option<String>,
    /// Records and fields.
    pub scope: DrainScope,
    /// Destination (no credentials).
    pub destination: DestinationConfig,
    /// The secret holding the destination's credentials.
    pub secret_id: String,
    /// Only records at or after this time.
    pub start_ts: Option<DateTime<Utc>>,
    /// Records delivered so far.
    pub records_delivered: i64,
    /// Last successful delivery.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Seconds since the oldest undelivered record that has been read (0 when caught up), by
    /// the record's own time: a backfill of old events shows their age.
    pub lag_seconds: f64,
    /// Seconds since the oldest record not yet delivered was stored (0 when caught up): the
    /// delivery delay, whatever the records' own times.
    pub ingest_lag_seconds: f64,
    /// Failed cycles in a row.
    pub failed_cycles: i64,
    /// Delivery cursor (a position).
    pub cursor: i64,
    /// The node delivering it, while one holds it.
    pub node: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Settings last changed.
    pub updated_at: DateTime<Utc>,
}

impl Drain {
    /// Lag in seconds at `now`.
    pub fn lag_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.oldest_pending_at
            .map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0)
            .unwrap_or(0.0)
    }

    /// Ingest-time lag in seconds at `now`.
    pub fn ingest_lag_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.oldest_ingested_at
            .map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0)
            .unwrap_or(0.0)
    }

    /// The API view.
    pub fn view(&self, now: DateTime<Utc>) -> DrainView {
        let held = self.lease_until.is_some_and(|t| t > now);
        DrainView {
            id: self.id.clone(),
            name: self.name.clone(),
            data_type: self.data_type.as_str().to_string(),
            status: self.status,
            status_reason: self.status_reason.clone(),
            scope: self.scope.clone(),
            destination: self.destination.clone(),
            secret_id: self.secret_id.clone(),
            start_ts: self.start_ts,
            records_delivered: self.records_delivered,
            last_synced_at: self.last_synced_at,
            lag_seconds: self.lag_seconds(now),
            ingest_lag_seconds: self.ingest_lag_seconds(now),
            failed_cycles: self.failed_cycles,
            cursor: self.cursor_pos,
            node: self.lease_owner.clone().filter(|_| held),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// One delivery attempt, as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    /// `live`, `replay` or `test`.
    pub kind: String,
    /// Idempotency key (`webhook-id`).
    pub batch_key: String,
    /// First position of the batch.
    pub first_pos: Option<i64>,
    /// Last position of the batch.
    pub last_pos: Option<i64>,
    /// Records in the batch.
    pub records: i64,
    /// Whether it was delivered.
    pub ok: bool,
    /// Receiver's HTTP status.
    pub status_code: Option<i64>,
    /// What went wrong.
    pub error: Option<String>,
    /// Remarks (partial success, truncation).
    pub note: Option<String>,
    /// Milliseconds the attempt took.
    pub duration_ms: i64,
    /// Bytes sent.
    pub bytes: Option<i64>,
    /// Attempt number within its cycle.
    pub attempt: i64,
    /// When.
    pub created_at: DateTime<Utc>,
}

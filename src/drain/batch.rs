//! One delivery's worth of records, as every destination receives it.

use crate::domain::DataType;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

/// One record as drained: the selected fields (plus the type's time field), privacy applied.
#[derive(Debug, Clone, PartialEq)]
pub struct DrainRecord {
    /// The record's time (the type's time field), for OTLP `timeUnixNano` and S3 day keys.
    pub time: DateTime<Utc>,
    /// Field id → value, in the drain's field order.
    pub fields: Map<String, Json>,
}

/// A batch of records of one drain, read from the cursor in delivery order.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Drain id (`drn_…`).
    pub drain_id: String,
    /// Drain display name.
    pub drain_name: String,
    /// Organization.
    pub org_id: String,
    /// The records' data type.
    pub data_type: DataType,
    /// Position of the first record read for this batch (records filtered out included).
    pub first_pos: i64,
    /// Position of the last record read for this batch.
    pub last_pos: i64,
    /// Idempotency key: the same on every retry of this batch, different for any other
    /// (Standard Webhooks `webhook-id`). Replays and test sends get fresh keys.
    pub key: String,
    /// The records, in delivery order.
    pub records: Vec<DrainRecord>,
}

//! One delivery's worth of records, as every destination receives it, and its place in the
//! drain's chain of batches ([`Chain`]).

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
    /// Where the batch sits in its sequence: `seq` and the previous batch's key.
    pub chain: Chain,
}

/// A batch's place in its drain's sequence, so a receiver can prove it holds every batch: the
/// live batches of a drain are numbered 1, 2, 3… with no gaps (a retry, also after a crash,
/// carries the same number), and each names the key of the batch before it. A receiver that
/// sees seq 41 after 39 knows a batch is missing.
///
/// Replays have their own sequence space (`replay:{replay_id}`, numbered from 1 again), and
/// test sends are outside any sequence (`test`, seq 0). Every destination carries the three
/// values: HTTP headers `X-Outflow-Batch-Seq`, `X-Outflow-Batch-Prev` and
/// `X-Outflow-Batch-Space`; the JSON envelope's `seq`, `prev` and `sequence`; OTLP resource
/// attributes `outflow.batch.seq`, `outflow.batch.prev`, `outflow.batch.sequence`; S3 object
/// metadata and manifests; Datadog entry attributes.
///
/// A live batch's number is its drain's committed `batch_seq` + 1, and `prev` its committed
/// `batch_prev`: both move only in the commit of a delivered batch, so every try of a batch —
/// in the same cycle, a later one, or on another node after a crash — carries the same values.
/// One edge: a pending batch whose records were all deleted or filtered out before its retry
/// is committed without a delivery and takes no number; if an earlier try had reached the
/// receiver, the next batch repeats that seq under another key (a repeated seq, never a gap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// 1, 2, 3… within `space`; 0 for a test send.
    pub seq: i64,
    /// The key of the previous batch of the same space; `None` for the first.
    pub prev: Option<String>,
    /// `live`, `replay:{replay_id}`, or `test`.
    pub space: String,
}

impl Chain {
    /// The sequence space of a drain's live batches.
    pub const LIVE: &'static str = "live";

    /// Batch `seq` of the live sequence, after the batch keyed `prev`.
    pub fn live(seq: i64, prev: Option<String>) -> Chain {
        Chain {
            seq,
            prev,
            space: Chain::LIVE.into(),
        }
    }

    /// Batch `seq` of replay `replay_id`, after the batch keyed `prev`.
    pub fn replay(replay_id: &str, seq: i64, prev: Option<String>) -> Chain {
        Chain {
            seq,
            prev,
            space: format!("replay:{replay_id}"),
        }
    }

    /// A test send: outside every sequence.
    pub fn test() -> Chain {
        Chain {
            seq: 0,
            prev: None,
            space: "test".into(),
        }
    }
}

//! One delivery's worth of records, as every destination receives it, and its place in the
//! drain's chain of batches ([`Chain`]).
//!
//! A record travels as its compact JSON object, written once by the selector straight from
//! the rows read (`select.rs`): every JSON-based format (HTTP JSON and NDJSON, S3, Datadog's
//! `message`) copies those bytes, so a backlog costs no `serde_json::Value` per field.
//! [`DrainRecord::fields`] parses them back for the formats that need the structure (OTLP
//! attributes).

use crate::domain::DataType;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

/// One record as drained: the selected fields (plus the type's time field), privacy applied.
#[derive(Debug, Clone, PartialEq)]
pub struct DrainRecord {
    /// The record's time (the type's time field), for OTLP `timeUnixNano` and S3 day keys.
    pub time: DateTime<Utc>,
    /// The fields as one compact JSON object, in the drain's field order: exactly what
    /// `serde_json` writes for the map of field id → value.
    pub json: Box<str>,
}

impl DrainRecord {
    /// A record from its fields as a map (tests, and producers that build maps).
    pub fn new(time: DateTime<Utc>, fields: &Map<String, Json>) -> DrainRecord {
        DrainRecord {
            time,
            json: serde_json::to_string(fields)
                .expect("JSON values serialize")
                .into_boxed_str(),
        }
    }

    /// Field id → value, in the drain's field order. Numbers are read as they were written:
    /// integers as integers, other numbers by the standard library's correctly rounded parser,
    /// so a float comes back bit for bit (`serde_json` without `float_roundtrip` would be off
    /// in the last place for about one in ten long floats).
    pub fn fields(&self) -> Map<String, Json> {
        parse_flat(&self.json).unwrap_or_else(|| {
            // Not written by the selector (never expected): let serde_json read it.
            serde_json::from_str(&self.json).unwrap_or_default()
        })
    }
}

/// Reads a compact JSON object whose top-level numbers must keep their exact value; nested
/// objects and arrays (JSON fields) go through `serde_json`. `None` on anything unexpected.
fn parse_flat(text: &str) -> Option<Map<String, Json>> {
    let b = text.as_bytes();
    let mut map = Map::new();
    let mut i = 1;
    if b.first() != Some(&b'{') {
        return None;
    }
    if b.get(1) == Some(&b'}') {
        return (b.len() == 2).then_some(map);
    }
    loop {
        let key_end = string_end(b, i)?;
        let key: String = serde_json::from_str(&text[i..key_end]).ok()?;
        if b.get(key_end) != Some(&b':') {
            return None;
        }
        let start = key_end + 1;
        let end = value_end(b, start)?;
        map.insert(key, value(&text[start..end])?);
        match b.get(end) {
            Some(b',') => i = end + 1,
            Some(b'}') if end + 1 == b.len() => return Some(map),
            _ => return None,
        }
    }
}

/// The index after the closing quote of the string opening at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    if b.get(start) != Some(&b'"') {
        return None;
    }
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The index after the value starting at `start` (compact JSON: no whitespace outside strings).
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'"' => i = string_end(b, i)?,
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b',' | b'}' if depth == 0 => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn value(raw: &str) -> Option<Json> {
    match raw.as_bytes().first()? {
        b'-' | b'0'..=b'9' => {
            if !raw.contains(['.', 'e', 'E'])
                && let Ok(i) = raw.parse::<i64>()
            {
                return Some(i.into());
            }
            if !raw.contains(['.', 'e', 'E'])
                && let Ok(u) = raw.parse::<u64>()
            {
                return Some(u.into());
            }
            serde_json::Number::from_f64(raw.parse().ok()?).map(Json::Number)
        }
        _ => serde_json::from_str(raw).ok(),
    }
}

/// The head of the JSON envelope every JSON-bodied destination shares, up to and including
/// the `[` of `records`; the envelope ends with `]}`.
pub fn envelope_head(batch: &Batch) -> Vec<u8> {
    let s = |v: &str| serde_json::to_string(v).expect("a string serializes");
    format!(
        r#"{{"source":"outflow","drain_id":{},"drain_name":{},"data_type":{},"seq":{},"prev":{},"sequence":{},"records":["#,
        s(&batch.drain_id),
        s(&batch.drain_name),
        s(batch.data_type.as_str()),
        batch.chain.seq,
        batch.chain.prev.as_deref().map_or("null".into(), s),
        s(&batch.chain.space),
    )
    .into_bytes()
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_read_back_what_was_written_bit_for_bit() {
        let fields = json!({
            "a": "x\"y\\z,}",
            "long": 0.30000000000000004,
            "tiny": 1e-300,
            "big": 18446744073709551615u64,
            "neg": -9223372036854775808i64,
            "whole": 3.0,
            "t": true,
            "n": null,
            "doc": {"k": [1, {"x": "]}"}]},
        });
        let map = fields.as_object().unwrap();
        let r = DrainRecord::new(chrono::Utc::now(), map);
        assert_eq!(&r.fields(), map);
        assert_eq!(r.fields()["long"].as_f64(), Some(0.1 + 0.2));
        let empty = DrainRecord::new(chrono::Utc::now(), &Map::new());
        assert!(empty.fields().is_empty());
    }
}

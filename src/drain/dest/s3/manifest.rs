//! Per-batch manifests: one small object per delivered batch, written after the batch's
//! object, so a customer (or `outflow verify`) can tell a complete drain from one with holes
//! — without any object ever being read back and rewritten.
//!
//! ```json
//! {"drain_id":"drn_…","data_type":"credit_logs","sequence":"live","seq":41,
//!  "prev":"drn_…-1-40","batch_key":"drn_…-41-80","key":"…/drn_…-41-80.ndjson.gz",
//!  "first_pos":41,"last_pos":80,"records":40,"bytes":812,"sha256":"…"}
//! ```
//!
//! A manifest lives at `{prefix}/{data_type}/_manifests/{drain_id}/{sequence}/{seq}.json`
//! (`seq` zero-padded to 10 digits so listing order is sequence order; see `keys`). Loss shows
//! as a gap in the seqs (or a `prev` that does not name the previous manifest's `batch_key`);
//! an altered or truncated object as a SHA-256 or size that does not match its manifest.
//!
//! Each manifest is written once per delivery of its batch, with content that is a function
//! of the batch alone (the object is encoded deterministically), so a retry writes the same
//! bytes to the same key. The old per-day manifest was read, changed and written back with
//! every batch; this needs no read, no single-writer argument and no `s3:ListBucket` to
//! deliver.

use serde::{Deserialize, Serialize};

/// The manifest of one batch object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchManifest {
    /// The drain.
    pub drain_id: String,
    /// The records' data type.
    pub data_type: String,
    /// The sequence space: `live`, `replay:{replay_id}` or `test` (see `batch::Chain`).
    pub sequence: String,
    /// The batch's number in its sequence (1, 2, 3…; 0 for a test send).
    pub seq: i64,
    /// The previous batch's idempotency key; `None` for the first.
    pub prev: Option<String>,
    /// This batch's idempotency key (the next manifest's `prev`).
    pub batch_key: String,
    /// The object's key.
    pub key: String,
    /// Position of the first record read for the batch.
    pub first_pos: i64,
    /// Position of the last record read for the batch.
    pub last_pos: i64,
    /// Records in the object.
    pub records: u64,
    /// Size of the object in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the object's bytes.
    pub sha256: String,
}

impl BatchManifest {
    /// Parses a stored manifest.
    pub fn parse(bytes: &[u8]) -> Result<BatchManifest, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("it is not a valid batch manifest: {e}"))
    }

    /// The manifest as stored.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_round_trips_and_anything_else_is_refused() {
        let m = BatchManifest {
            drain_id: "drn_1".into(),
            data_type: "workflows".into(),
            sequence: "live".into(),
            seq: 2,
            prev: Some("drn_1-1-9".into()),
            batch_key: "drn_1-10-19".into(),
            key: "workflows/dt=2026-03-01/drn_1-10-19.ndjson.gz".into(),
            first_pos: 10,
            last_pos: 19,
            records: 10,
            bytes: 100,
            sha256: "ab".into(),
        };
        assert_eq!(BatchManifest::parse(&m.to_bytes()).unwrap(), m);
        assert_eq!(m.to_bytes(), m.clone().to_bytes(), "deterministic");
        assert!(BatchManifest::parse(b"{\"nope\":1}").is_err());
    }
}

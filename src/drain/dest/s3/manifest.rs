//! The per-day manifest: one object per drain, data type and day listing the batch objects
//! written that day, so a customer can tell a complete day from one with holes.
//!
//! ```json
//! {"drain_id":"drn_…","data_type":"credit_logs","date":"2026-03-01",
//!  "batches":[{"key":"…","first_pos":1,"last_pos":40,"records":40,"bytes":812,"sha256":"…"}]}
//! ```
//!
//! Entries are sorted by `first_pos`. A customer detects loss by checking the chain of
//! positions (each entry's range starts after the previous entry's `last_pos`, ranges never
//! overlap) and the SHA-256 of every listed object against the object itself.
//!
//! Writing it is a read-modify-write without a lock: the manifest is read (absent means empty),
//! this batch's entry is replaced or inserted by key, and the whole is written back. That is
//! safe because a drain is held by one node at a time (its lease), and that node delivers one
//! batch at a time, so each manifest has a single writer. A retried batch replaces its own
//! entry rather than adding a second one.

use serde::{Deserialize, Serialize};

/// One batch object of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
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

/// The manifest of one drain, data type and day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The drain.
    pub drain_id: String,
    /// The records' data type.
    pub data_type: String,
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// The day's batch objects, sorted by `first_pos`.
    pub batches: Vec<ManifestEntry>,
}

impl Manifest {
    /// A manifest without batches.
    pub fn empty(drain_id: &str, data_type: &str, date: &str) -> Manifest {
        Manifest {
            drain_id: drain_id.to_string(),
            data_type: data_type.to_string(),
            date: date.to_string(),
            batches: Vec::new(),
        }
    }

    /// Parses a stored manifest.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("it is not a valid manifest: {e}"))
    }

    /// Replaces the entry with the same key, or inserts it, keeping the order by position.
    pub fn upsert(&mut self, entry: ManifestEntry) {
        self.batches.retain(|b| b.key != entry.key);
        self.batches.push(entry);
        self.batches
            .sort_by(|a, b| (a.first_pos, &a.key).cmp(&(b.first_pos, &b.key)));
    }

    /// The manifest as stored: compact, because it is rewritten with every batch of the day.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, first: i64, sha: &str) -> ManifestEntry {
        ManifestEntry {
            key: key.into(),
            first_pos: first,
            last_pos: first + 9,
            records: 10,
            bytes: 100,
            sha256: sha.into(),
        }
    }

    #[test]
    fn upsert_replaces_by_key_and_sorts_by_position() {
        let mut m = Manifest::empty("drn_1", "workflows", "2026-03-01");
        m.upsert(entry("b", 20, "1"));
        m.upsert(entry("a", 10, "2"));
        m.upsert(entry("b", 20, "3"));
        assert_eq!(
            m.batches
                .iter()
                .map(|b| (b.key.as_str(), b.sha256.as_str()))
                .collect::<Vec<_>>(),
            [("a", "2"), ("b", "3")]
        );
        let back = Manifest::parse(&m.to_bytes()).unwrap();
        assert_eq!(back, m);
        assert!(Manifest::parse(b"{\"nope\":1}").is_err());
    }
}

//! Per-part progress of batches split into several intake requests.
//!
//! Datadog has no idempotency key, so a request it accepted cannot be sent again harmlessly:
//! each accepted part of a batch is remembered by the batch's key and the SHA-256 of the part's
//! uncompressed body, and a retry of that batch (the same key) skips the parts already
//! accepted. Matching by content, not by index, keeps it right even if the batch is split
//! differently on the retry (a record deleted in between): only a byte-identical part is
//! skipped. Progress lives with the destination, which the engine keeps across the retries
//! of a cycle and across cycles while the drain's settings are unchanged; a restart forgets
//! it, and the retry after a restart sends every part (at-least-once, as before).

use sha2::{Digest, Sha256};
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// Batches whose progress is kept: the live batch and a few replays running beside it.
const KEPT_BATCHES: usize = 8;

/// The SHA-256 of one part's uncompressed body.
pub type PartDigest = [u8; 32];

/// The digest of a part.
pub fn digest(body: &[u8]) -> PartDigest {
    Sha256::digest(body).into()
}

/// Accepted parts of the last few partly delivered batches.
#[derive(Debug, Default)]
pub struct Progress {
    /// (batch key, digests of its accepted parts), the most recent last.
    batches: Mutex<VecDeque<(String, HashSet<PartDigest>)>>,
}

impl Progress {
    /// Whether the part with this digest of batch `key` was accepted already.
    pub fn accepted(&self, key: &str, part: &PartDigest) -> bool {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .any(|(k, parts)| k == key && parts.contains(part))
    }

    /// The intake accepted this part of batch `key`.
    pub fn accept(&self, key: &str, part: PartDigest) {
        let mut batches = self.batches.lock().unwrap();
        if let Some((_, parts)) = batches.iter_mut().find(|(k, _)| k == key) {
            parts.insert(part);
            return;
        }
        if batches.len() >= KEPT_BATCHES {
            batches.pop_front();
        }
        batches.push_back((key.to_string(), HashSet::from([part])));
    }

    /// Batch `key` was delivered whole: nothing to remember.
    pub fn done(&self, key: &str) {
        self.batches.lock().unwrap().retain(|(k, _)| k != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_remembered_per_batch_by_content_until_the_batch_is_done() {
        let p = Progress::default();
        let (a, b) = (digest(b"[1]"), digest(b"[2]"));
        p.accept("k1", a);
        assert!(p.accepted("k1", &a));
        assert!(!p.accepted("k1", &b), "another part of the same batch");
        assert!(!p.accepted("k2", &a), "the same bytes in another batch");
        p.done("k1");
        assert!(!p.accepted("k1", &a));
        // Only the last few batches are kept.
        for i in 0..=KEPT_BATCHES {
            p.accept(&format!("b{i}"), a);
        }
        assert!(!p.accepted("b0", &a));
        assert!(p.accepted(&format!("b{KEPT_BATCHES}"), &a));
    }
}

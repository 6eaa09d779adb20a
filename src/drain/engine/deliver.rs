//! Sending one batch: up to `attempts_per_cycle` tries inside a cycle with jittered backoff
//! (honouring `Retry-After`), each failed try recorded as a delivery attempt. Live cycles and
//! replays both send through here.

use super::{Inner, policy};
use crate::drain::batch::Batch;
use crate::drain::dest::describe::hide_url_paths;
use crate::drain::dest::{Delivered, DeliveryError, Destination};
use crate::drain::repo::{self, NewAttempt};
use chrono::Utc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Sends a batch up to `attempts_per_cycle` times, recording each failed attempt; a permanent
/// error ends the cycle at once. Returns the result and the attempts made.
pub(crate) async fn deliver_with_retries(
    inner: &Inner,
    dest: &dyn Destination,
    batch: &Batch,
    attempt: &mut NewAttempt<'_>,
    cancel: &CancellationToken,
) -> (Result<Delivered, DeliveryError>, u32) {
    let cfg = &inner.config;
    let tries = cfg.attempts_per_cycle.max(1);
    let mut n = 1;
    loop {
        let started = Instant::now();
        let result = dest.deliver(batch).await;
        attempt.duration_ms = started.elapsed().as_millis() as i64;
        let e = match result {
            Ok(d) => return (Ok(d), n),
            Err(e) => e,
        };
        record_failure(attempt, &e, n);
        if let Err(db) = repo::record_attempt(&inner.store, attempt).await {
            tracing::warn!(error = %db, "cannot record a delivery attempt");
        }
        tracing::warn!(drain = %batch.drain_id, attempt = n, status = ?e.status, error = %attempt.error.as_deref().unwrap_or_default(), "delivery failed");
        if e.permanent || n >= tries || cancel.is_cancelled() {
            return (Err(e), n);
        }
        let wait = policy::backoff(
            n,
            Duration::from_millis(cfg.retry_base_ms),
            e.retry_after,
            Duration::from_secs(cfg.retry_after_cap_seconds),
        );
        tokio::select! {
            _ = cancel.cancelled() => return (Err(e), n),
            _ = tokio::time::sleep(wait) => {}
        }
        n += 1;
    }
}

/// Try `n` failed with `e`: the attempt row says so, its message with URL paths hidden (a
/// webhook's token lives in its path).
fn record_failure(a: &mut NewAttempt<'_>, e: &DeliveryError, n: u32) {
    a.ok = false;
    a.status_code = e.status;
    a.error = Some(hide_url_paths(&e.message));
    a.attempt = n;
    a.at = Utc::now();
    a.bytes = None;
}

/// The destination accepted the batch: the attempt row says what it answered.
pub(super) fn fill(a: &mut NewAttempt<'_>, d: &Delivered) {
    a.ok = true;
    a.error = None;
    a.status_code = d.status;
    a.bytes = Some(d.bytes);
    a.note = d.note.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt() -> NewAttempt<'static> {
        NewAttempt {
            drain_id: "drn_1",
            org_id: "acme",
            kind: "live",
            batch_key: "drn_1-1-2",
            first_pos: Some(1),
            last_pos: Some(2),
            records: 2,
            ok: true,
            status_code: None,
            error: None,
            note: None,
            duration_ms: 0,
            bytes: None,
            attempt: 1,
            at: Utc::now(),
        }
    }

    #[test]
    fn a_failed_try_is_recorded_without_the_url_path_and_a_success_clears_it() {
        let mut a = attempt();
        let e = DeliveryError::transient(
            Some(500),
            "HTTP 500 from https://hooks.example.com/services/T0/B0/SECRET",
        );
        record_failure(&mut a, &e, 2);
        assert!(!a.ok);
        assert_eq!(a.status_code, Some(500));
        assert_eq!(a.attempt, 2);
        let shown = a.error.clone().unwrap();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("https://hooks.example.com"), "{shown}");

        let d = Delivered {
            status: Some(200),
            bytes: 42,
            requests: 1,
            rejected: 0,
            note: Some("ok".into()),
            object_key: None,
            sha256: None,
        };
        fill(&mut a, &d);
        assert!(a.ok);
        assert_eq!(a.error, None);
        assert_eq!(a.status_code, Some(200));
        assert_eq!(a.bytes, Some(42));
        assert_eq!(a.note.as_deref(), Some("ok"));
    }
}

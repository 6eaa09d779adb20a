//! Replays: re-deliver a past window `[from, to)` of a drain's records with fresh idempotency
//! keys, without touching its live cursor. A replay runs as a task on the node that accepted
//! it; its batches are recorded as `replay` deliveries. A replay interrupted by a restart is
//! not resumed (ask for it again; receivers dedupe by key only within one replay).
//!
//! A replay numbers its batches in its own sequence space (`replay:{replay_id}`, seq from 1,
//! each naming the previous replay batch's key), so a receiver checking the live sequence is
//! not confused by them and can check the replay's completeness the same way.

use super::{Inner, deliver};
use crate::drain::batch::{Batch, Chain};
use crate::drain::dest::Destination;
use crate::drain::model::Drain;
use crate::drain::repo::{self, NewAttempt};
use crate::drain::select::Selector;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Reads the whole stream in delivery order, keeps the window's records and delivers them.
pub(super) async fn run(
    inner: Arc<Inner>,
    drain: Drain,
    dest: Arc<dyn Destination>,
    replay_id: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) {
    let selector = match Selector::load(&inner.store, &drain).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(drain = %drain.id, error = %e, "replay cannot start");
            return;
        }
    };
    let limit = dest.max_records().max(1);
    let mut cursor = 0i64;
    let mut delivered = 0u64;
    let mut seq = 0i64;
    let mut prev: Option<String> = None;
    let cancel = CancellationToken::new();
    loop {
        let raw = match inner
            .store
            .read_after(drain.data_type, &drain.org_id, cursor, limit as i64)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(drain = %drain.id, error = %e, "replay read failed; stopping");
                return;
            }
        };
        let Some(last) = raw.last().map(|r| r.pos) else {
            break;
        };
        let first = raw[0].pos;
        cursor = last;
        let records: Vec<_> = raw
            .iter()
            .filter(|r| {
                let t = selector.time(r);
                t >= from && t < to && selector.matches(r)
            })
            .map(|r| selector.project(r))
            .collect();
        if records.is_empty() {
            if raw.len() < limit {
                break;
            }
            continue;
        }
        let key = format!("replay-{replay_id}-{first}-{last}");
        let batch = Batch {
            drain_id: drain.id.clone(),
            drain_name: drain.name.clone(),
            org_id: drain.org_id.clone(),
            data_type: drain.data_type,
            first_pos: first,
            last_pos: last,
            key: key.clone(),
            records,
            chain: Chain::replay(&replay_id, seq + 1, prev.clone()),
        };
        let mut attempt =
            NewAttempt::batch(&drain, "replay", &key, (first, last), batch.records.len());
        let (result, tries) =
            deliver::deliver_with_retries(&inner, dest.as_ref(), &batch, &mut attempt, &cancel)
                .await;
        match result {
            Ok(d) => {
                deliver::fill(&mut attempt, &d);
                attempt.attempt = tries;
                attempt.at = Utc::now();
                let _ = repo::record_attempt(&inner.store, &attempt).await;
                delivered += batch.records.len() as u64;
                seq += 1;
                prev = Some(batch.key.clone());
            }
            Err(e) => {
                tracing::warn!(drain = %drain.id, replay = %replay_id, error = %e, "replay stopped by a failed batch");
                return;
            }
        }
        if raw.len() < limit {
            break;
        }
    }
    tracing::info!(drain = %drain.id, replay = %replay_id, records = delivered, "replay finished");
}

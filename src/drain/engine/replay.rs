//! Replays: re-deliver a past window `[from, to)` of a drain's records with fresh idempotency
//! keys, without touching its live cursor. A replay runs as a task on the node that accepted
//! it; its batches are recorded as `replay` deliveries.
//!
//! A replay reads its window in (time, position) order through the records' time index — not
//! the whole stream from position 0 — and records after each delivered batch where the next
//! one starts (`repo::replays`). Interrupted by a shutdown or a crash, it resumes there when
//! its node's engine starts again: at most the batch in flight is sent again, under the same
//! key (the replay's id and the batch's positions), so a receiver deduplicating by key within
//! the replay sees each record once.
//!
//! A replay numbers its batches in its own sequence space (`replay:{replay_id}`, seq from 1,
//! each naming the previous replay batch's key), kept with its progress so a resumed replay
//! carries on the numbering: a receiver checking the live sequence is not confused by them
//! and can check the replay's completeness the same way.

use super::{Inner, deliver};
use crate::drain::batch::{Batch, Chain};
use crate::drain::dest::Destination;
use crate::drain::dest::describe::hide_url_paths;
use crate::drain::model::Drain;
use crate::drain::open;
use crate::drain::repo::replays::{self, Replay};
use crate::drain::repo::{self, NewAttempt};
use crate::drain::select::Selector;
use chrono::Utc;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Delivers the rest of `replay`'s window to `dest`, recording its progress; stops early
/// (leaving it `running`, to be resumed) when `cancel` fires.
pub(super) async fn run(
    inner: Arc<Inner>,
    drain: Drain,
    dest: Arc<dyn Destination>,
    mut replay: Replay,
    cancel: CancellationToken,
) {
    let id = replay.id.clone();
    match deliver_window(&inner, &drain, dest.as_ref(), &mut replay, &cancel).await {
        Ok(true) => {
            tracing::info!(drain = %drain.id, replay = %id, records = replay.records, "replay finished");
            finish(&inner, &id, None).await;
        }
        Ok(false) => {
            tracing::info!(drain = %drain.id, replay = %id, "replay interrupted; it resumes when this node starts again");
        }
        Err(reason) => {
            tracing::warn!(drain = %drain.id, replay = %id, error = %reason, "replay stopped");
            finish(&inner, &id, Some(&reason)).await;
        }
    }
}

async fn finish(inner: &Inner, id: &str, error: Option<&str>) {
    if let Err(e) = replays::finish(&inner.store, id, error).await {
        tracing::warn!(replay = %id, error = %e, "cannot record the end of a replay");
    }
}

/// The window's batches after `replay.after`: `Ok(true)` when all are delivered, `Ok(false)`
/// when cancelled, `Err` with why it cannot go on.
async fn deliver_window(
    inner: &Inner,
    drain: &Drain,
    dest: &dyn Destination,
    replay: &mut Replay,
    cancel: &CancellationToken,
) -> Result<bool, String> {
    let selector = Selector::load(&inner.store, drain)
        .await
        .map_err(|e| e.to_string())?;
    let wanted = selector.wanted();
    let limit = dest.max_records().max(1);
    loop {
        if cancel.is_cancelled() {
            return Ok(false);
        }
        let raw = inner
            .store
            .read_window_fields(
                drain.data_type,
                &drain.org_id,
                (replay.from, replay.to),
                Some(replay.after),
                limit as i64,
                &wanted,
            )
            .await
            .map_err(|e| format!("reading the window failed: {e}"))?;
        let (Some(head), Some(tail)) = (raw.first(), raw.last()) else {
            return Ok(true);
        };
        let (first, last) = (head.pos, tail.pos);
        let after = (selector.time(tail), last);
        let full = raw.len() >= limit;
        let records: Vec<_> = raw
            .iter()
            .filter(|r| selector.matches(r))
            .map(|r| selector.project(r))
            .collect();
        let n = records.len() as i64;
        let mut delivered = None;
        if !records.is_empty() {
            let key = format!("replay-{}-{first}-{last}", replay.id);
            let batch = Batch {
                drain_id: drain.id.clone(),
                drain_name: drain.name.clone(),
                org_id: drain.org_id.clone(),
                data_type: drain.data_type,
                first_pos: first,
                last_pos: last,
                key: key.clone(),
                records,
                chain: Chain::replay(&replay.id, replay.seq + 1, replay.prev.clone()),
            };
            let mut attempt =
                NewAttempt::batch(drain, "replay", &key, (first, last), batch.records.len());
            let (result, tries) =
                deliver::deliver_with_retries(inner, dest, &batch, &mut attempt, cancel).await;
            match result {
                Ok(d) => {
                    deliver::fill(&mut attempt, &d);
                    attempt.attempt = tries;
                    attempt.at = Utc::now();
                    let _ = repo::record_attempt(&inner.store, &attempt).await;
                    delivered = Some((replay.seq + 1, key));
                }
                Err(e) if cancel.is_cancelled() && !e.permanent => return Ok(false),
                Err(e) => return Err(format!("a batch failed: {}", e.describe())),
            }
        }
        let progress = delivered.as_ref().map(|(seq, key)| (*seq, key.as_str(), n));
        replays::advance(&inner.store, &replay.id, after, progress)
            .await
            .map_err(|e| format!("recording the replay's progress failed: {e}"))?;
        replay.after = after;
        if let Some((seq, key)) = delivered {
            replay.seq = seq;
            replay.prev = Some(key);
            replay.records += n;
        }
        if !full {
            return Ok(true);
        }
    }
}

/// Starts the replays this node was running when it stopped, each where it got to.
pub(super) async fn resume(inner: &Arc<Inner>) -> Result<(), crate::store::StoreError> {
    for replay in replays::running_on(&inner.store, &inner.node).await? {
        if !inner.claim_replay(&replay.id) {
            continue;
        }
        let drain = match repo::get_any(&inner.store, &replay.drain_id).await {
            Ok(Some(d)) => d,
            Ok(None) => {
                finish(inner, &replay.id, Some("the drain was deleted")).await;
                inner.release_replay(&replay.id);
                continue;
            }
            Err(e) => {
                inner.release_replay(&replay.id);
                return Err(e);
            }
        };
        let dest = match open::open(
            &inner.store,
            &inner.secrets,
            &inner.ctx,
            &drain.org_id,
            &drain.destination,
            &drain.secret_id,
        )
        .await
        {
            Ok(d) => Arc::<dyn Destination>::from(d),
            Err(e) => {
                let reason = hide_url_paths(&format!("the destination cannot be opened: {e}"));
                finish(inner, &replay.id, Some(&reason)).await;
                inner.release_replay(&replay.id);
                continue;
            }
        };
        tracing::info!(drain = %drain.id, replay = %replay.id, records = replay.records, "resuming a replay");
        inner.start_replay(drain, dest, replay);
    }
    Ok(())
}

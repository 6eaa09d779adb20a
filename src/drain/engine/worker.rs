//! One drain's task: read a batch from the cursor, deliver it (retrying inside the cycle),
//! commit the cursor with the delivery record, and wait for more.

use super::{Inner, Wake, policy};
use crate::audit::{self, Actor};
use crate::drain::batch::Batch;
use crate::drain::dest::describe::hide_url_paths;
use crate::drain::dest::{Delivered, DeliveryError, Destination};
use crate::drain::model::{Drain, DrainStatus};
use crate::drain::open::{self, OpenDestError};
use crate::drain::repo::{self, NewAttempt};
use crate::drain::select::Selector;
use crate::drain::service::describe;
use crate::mail::templates;
use crate::store::{StoreError, StoredRecord};
use chrono::Utc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What a cycle ended with.
enum Outcome {
    /// Delivered a full batch: go again at once.
    More,
    /// Nothing left to read; the cursor now.
    CaughtUp(i64),
    /// A commit was announced that the read could not see yet (PostgreSQL horizon): look
    /// again very soon.
    Settling,
    /// The cycle failed; the drain is still active.
    Failed,
    /// The drain is no longer ours to run (paused, deleted, error, lease lost).
    Stop,
}

/// The destination of the drain's current settings, rebuilt when they change.
struct Cached {
    updated_at: chrono::DateTime<Utc>,
    dest: Arc<dyn Destination>,
}

/// Runs one drain until it stops or `cancel` fires.
pub(super) async fn run(inner: Arc<Inner>, id: String, wake: Arc<Wake>, cancel: CancellationToken) {
    let cfg = &inner.config;
    let mut settle = Duration::from_millis(5);
    let mut cached: Option<Cached> = None;
    let mut carry: Option<Carry> = None;
    loop {
        if cancel.is_cancelled() {
            break;
        }
        // Boxed: an idle task then holds only this loop's few words, not the (large) state of
        // a cycle's nested futures — it matters with thousands of idle drains.
        // At most CONCURRENT_CYCLES drains of this node work at once: when thousands wake
        // together (start-up, a poll wave) memory stays bounded and the database is not
        // flooded; a single busy drain never waits.
        let permit = tokio::select! {
            _ = cancel.cancelled() => break,
            p = inner.cycles.acquire() => p.expect("the semaphore is never closed"),
        };
        let outcome = match Box::pin(cycle(&inner, &id, &mut cached, &mut carry, &cancel)).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(drain = %id, error = %e, "drain cycle hit a database error");
                Outcome::Failed
            }
        };
        drop(permit);
        // Caught up, a drain sleeps until a commit notification or the engine's poller (which
        // checks for new positions on its behalf, backing off from poll_min to poll_max).
        let wait = match outcome {
            Outcome::More => {
                wake.activity();
                continue;
            }
            Outcome::Stop => break,
            Outcome::Settling => {
                wake.activity();
                settle = (settle * 2).min(Duration::from_millis(500));
                Some(settle)
            }
            Outcome::CaughtUp(cursor) => {
                settle = Duration::from_millis(5);
                wake.caught_up(cursor);
                None
            }
            Outcome::Failed => {
                wake.activity();
                Some(Duration::from_secs(cfg.cycle_backoff_seconds))
            }
        };
        let sleep = async {
            match wait {
                Some(w) => tokio::time::sleep(w).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = wake.notify.notified() => {}
            _ = sleep => {}
        }
    }
    inner.finished(&id);
    let _ = repo::release(&inner.store, &inner.node, &id).await;
}

/// What a cycle that delivered a full batch hands the next one: the drain's settings, its
/// selector and destination, and the next batch's rows — read while this batch was being
/// sent — so a backlog drains with one commit per batch and no idle reads in between.
struct Carry {
    drain: Drain,
    selector: Arc<Selector>,
    dest: Arc<dyn Destination>,
    horizon: i64,
    raw: Vec<StoredRecord>,
    /// Batches carried so far; settings and privacy are re-read every `CARRY_LIMIT`.
    batches: u32,
}

/// Batches delivered on carried settings before they are read again.
const CARRY_LIMIT: u32 = 20;

async fn cycle(
    inner: &Arc<Inner>,
    id: &str,
    cached: &mut Option<Cached>,
    carry: &mut Option<Carry>,
    cancel: &CancellationToken,
) -> Result<Outcome, StoreError> {
    let (drain, selector, dest, prefetched, batches) = match carry.take() {
        Some(c) if c.batches < CARRY_LIMIT => (
            c.drain,
            c.selector,
            c.dest,
            Some((c.horizon, c.raw)),
            c.batches,
        ),
        _ => {
            let Some(drain) = repo::get_any(&inner.store, id).await? else {
                return Ok(Outcome::Stop);
            };
            if drain.status != DrainStatus::Active
                || drain.lease_owner.as_deref() != Some(&inner.node)
            {
                return Ok(Outcome::Stop);
            }
            let dest = match cached {
                Some(c) if c.updated_at == drain.updated_at => c.dest.clone(),
                _ => match open::open(
                    &inner.store,
                    &inner.secrets,
                    &inner.ctx,
                    &drain.org_id,
                    &drain.destination,
                    &drain.secret_id,
                )
                .await
                {
                    Ok(d) => {
                        let d: Arc<dyn Destination> = Arc::from(d);
                        *cached = Some(Cached {
                            updated_at: drain.updated_at,
                            dest: d.clone(),
                        });
                        d
                    }
                    Err(OpenDestError::Store(e)) => return Err(e),
                    Err(e) => return fail(inner, &drain, &hide_url_paths(&e.to_string())).await,
                },
            };
            let selector = Arc::new(Selector::load(&inner.store, &drain).await?);
            (drain, selector, dest, None, 0)
        }
    };
    let limit = dest.max_records().max(1);

    let (horizon, mut raw) = match prefetched {
        Some(p) => p,
        None => {
            // The horizon before the read: every committed position below it is in the read.
            let horizon = inner.store.visible_horizon().await?;
            let raw = inner
                .store
                .read_after_fields(
                    drain.data_type,
                    &drain.org_id,
                    drain.cursor_pos,
                    limit as i64,
                    &selector.wanted(),
                )
                .await?;
            (horizon, raw)
        }
    };
    if let Some(p) = drain.pending_last {
        raw.retain(|r| r.pos <= p);
    }
    let full = raw.len() >= limit;
    if raw.is_empty() && drain.pending_last.is_some() {
        // Records once read are not readable now: never advance past them undelivered.
        tracing::warn!(drain = %drain.id, "the pending batch is not readable; retrying later");
        return Ok(Outcome::Failed);
    }
    if raw.is_empty() {
        return idle(inner, &drain, horizon, drain.cursor_pos).await;
    }
    let first = raw.first().map_or(drain.cursor_pos + 1, |r| r.pos);
    let last = drain
        .pending_last
        .unwrap_or_else(|| raw.last().map_or(drain.cursor_pos, |r| r.pos));
    let records: Vec<_> = raw
        .iter()
        .filter(|r| selector.matches(r))
        .map(|r| selector.project(r))
        .collect();
    drop(raw);
    let now = Utc::now();
    let key = format!("{}-{first}-{last}", drain.id);
    let mut attempt = NewAttempt {
        drain_id: &drain.id,
        org_id: &drain.org_id,
        kind: "live",
        batch_key: &key,
        first_pos: Some(first),
        last_pos: Some(last),
        records: records.len() as i64,
        ok: true,
        status_code: None,
        error: None,
        note: None,
        duration_ms: 0,
        bytes: None,
        attempt: 1,
        at: now,
    };
    if records.is_empty() {
        // Everything read was filtered out: move past it without a delivery.
        let committed = repo::commit_batch(
            &inner.store,
            &inner.node,
            drain.cursor_pos,
            last,
            None,
            None,
            &attempt,
        )
        .await?;
        return match (committed, full) {
            (false, _) => Ok(Outcome::Stop),
            (true, true) => Ok(Outcome::More),
            (true, false) => idle(inner, &drain, horizon, last).await,
        };
    }
    let oldest = records.iter().map(|r| r.time).min();
    if drain.pending_last.is_none()
        && !repo::set_pending(&inner.store, &drain.id, &inner.node, last, oldest).await?
    {
        return Ok(Outcome::Stop);
    }
    let batch = Batch {
        drain_id: drain.id.clone(),
        drain_name: drain.name.clone(),
        org_id: drain.org_id.clone(),
        data_type: drain.data_type,
        first_pos: first,
        last_pos: last,
        key: key.clone(),
        records,
    };
    // A full batch means more is waiting: read it while this one is on the wire.
    let prefetch = async {
        if !full {
            return Ok(None);
        }
        let horizon = inner.store.visible_horizon().await?;
        let rows = inner
            .store
            .read_after_fields(
                drain.data_type,
                &drain.org_id,
                last,
                limit as i64,
                &selector.wanted(),
            )
            .await?;
        Ok::<_, StoreError>(Some((horizon, rows)))
    };
    let ((result, tries), next) = tokio::join!(
        deliver_with_retries(inner, dest.as_ref(), &batch, &mut attempt, cancel),
        prefetch
    );
    match result {
        Ok(d) => {
            fill(&mut attempt, &d);
            attempt.at = Utc::now();
            attempt.attempt = tries;
            // A failed prefetch must not cost the delivered batch its commit; the next cycle
            // reads again.
            let mut prefetch_failed = false;
            let next = next.unwrap_or_else(|e| {
                tracing::warn!(drain = %drain.id, error = %e, "reading the next batch failed");
                prefetch_failed = true;
                None
            });
            // The next batch becomes pending in the same commit (one write per batch).
            let next_last = next
                .as_ref()
                .and_then(|(_, rows)| rows.last().map(|r| r.pos));
            let next_oldest = next
                .as_ref()
                .and_then(|(_, rows)| rows.iter().map(|r| selector.time(r)).min());
            let committed = repo::commit_batch(
                &inner.store,
                &inner.node,
                drain.cursor_pos,
                last,
                next_last,
                next_oldest,
                &attempt,
            )
            .await?;
            if !committed {
                return Ok(Outcome::Stop);
            }
            match next {
                Some((horizon, rows)) if !rows.is_empty() => {
                    let mut drain = drain;
                    drain.cursor_pos = last;
                    drain.pending_last = next_last;
                    *carry = Some(Carry {
                        drain,
                        selector,
                        dest,
                        horizon,
                        raw: rows,
                        batches: batches + 1,
                    });
                    Ok(Outcome::More)
                }
                Some((horizon, _)) => idle(inner, &drain, horizon, last).await,
                None if prefetch_failed => Ok(Outcome::More),
                None => idle(inner, &drain, horizon, last).await,
            }
        }
        Err(e) if cancel.is_cancelled() && !e.permanent => Ok(Outcome::Stop),
        Err(e) => fail(inner, &drain, &describe(&e)).await,
    }
}

/// After reading everything readable: caught up, unless (PostgreSQL) rows are committed at or
/// above the horizon — they wait for older transactions anywhere in the cluster to end, so
/// look again soon rather than at the next poll.
async fn idle(
    inner: &Inner,
    drain: &Drain,
    horizon: i64,
    cursor: i64,
) -> Result<Outcome, StoreError> {
    if horizon != i64::MAX
        && inner
            .store
            .max_position(drain.data_type, &drain.org_id)
            .await?
            >= horizon
    {
        return Ok(Outcome::Settling);
    }
    Ok(Outcome::CaughtUp(cursor))
}

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
        attempt.ok = false;
        attempt.status_code = e.status;
        let shown = hide_url_paths(&e.message);
        attempt.error = Some(shown.clone());
        attempt.attempt = n;
        attempt.at = Utc::now();
        attempt.bytes = None;
        if let Err(db) = repo::record_attempt(&inner.store, attempt).await {
            tracing::warn!(error = %db, "cannot record a delivery attempt");
        }
        tracing::warn!(drain = %batch.drain_id, attempt = n, status = ?e.status, error = %shown, "delivery failed");
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

pub(super) fn fill(a: &mut NewAttempt<'_>, d: &Delivered) {
    a.ok = true;
    a.error = None;
    a.status_code = d.status;
    a.bytes = Some(d.bytes);
    a.note = d.note.clone();
}

/// Counts a failed cycle; on the last allowed one the drain is in `error`: audit record and
/// an email to the organization's admins.
async fn fail(inner: &Inner, drain: &Drain, reason: &str) -> Result<Outcome, StoreError> {
    let max = inner.config.max_failed_cycles.max(1);
    let Some(n) = repo::fail_cycle(
        &inner.store,
        &drain.id,
        &inner.node,
        reason,
        max,
        Utc::now(),
    )
    .await?
    else {
        return Ok(Outcome::Stop);
    };
    tracing::warn!(drain = %drain.id, failed_cycles = n, reason, "drain cycle failed");
    if n < i64::from(max) {
        return Ok(Outcome::Failed);
    }
    let audit = audit::event(
        &drain.org_id,
        audit::events::DRAIN_FAILED,
        &Actor::system(),
        Some(&drain.id),
        serde_json::json!({"drain_id": drain.id, "name": drain.name, "reason": reason, "failed_cycles": n}),
    );
    inner.store.insert_records(&audit).await?;
    notify_admins(inner, drain, reason).await;
    Ok(Outcome::Stop)
}

async fn notify_admins(inner: &Inner, drain: &Drain, reason: &str) {
    let store = &inner.store;
    let admins: Vec<String> = match store
        .query(
            "SELECT email FROM members WHERE org_id = ? AND role = 'admin' ORDER BY email",
            &[drain.org_id.as_str().into()],
            &[crate::domain::FieldType::Text],
        )
        .await
    {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|r| r[0].as_text().map(str::to_string))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the organization's admins");
            return;
        }
    };
    if admins.is_empty() {
        tracing::info!(drain = %drain.id, "drain in error; the organization has no admins to email");
        return;
    }
    let org_name = store
        .get_org(&drain.org_id)
        .await
        .ok()
        .flatten()
        .map_or_else(|| drain.org_id.clone(), |o| o.name);
    let email = templates::DrainError {
        org_name: &org_name,
        drain_name: &drain.name,
        drain_id: &drain.id,
        reason,
    }
    .render()
    .to(admins);
    if let Err(e) = inner.mailer.send(&email).await {
        tracing::warn!(drain = %drain.id, error = %e, "cannot email the drain error");
    }
}

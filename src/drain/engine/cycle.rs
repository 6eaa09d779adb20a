//! One cycle of one drain, as named steps — the crash-safety core:
//!
//! 1. [`load`] the drain's settings (or take them, with rows already read, carried over from
//!    the previous cycle): stop unless it is active and held by this node;
//! 2. [`read_after`] the cursor, and [`span`] what was read: the pending batch's bounds, or
//!    nothing to do;
//! 3. [`mark_pending`] before sending, so a crash re-sends exactly this batch under its key;
//! 4. deliver (retrying inside the cycle) while [`read_ahead`] reads the next batch and
//!    writes its records' JSON, on a task of its own (the other core, when there is one);
//! 5. [`commit`] the cursor with the delivery record, the batch read ahead becoming pending in
//!    the same write; then [`carry_over`] the rows read ahead, or go [`idle`].
//!
//! A batch whose records the filters all drop is committed without a delivery ([`skip`]).
//! Every write is fenced by the lease, the status and the cursor (`repo`): a step that finds
//! the drain no longer its own ends the cycle with [`Outcome::Stop`].
//!
//! The settings a cycle works with (the drain's row, its selector with the privacy policy and
//! personal spaces, its destination) are kept between cycles that end cleanly — caught up,
//! skipped, delivered — with the cursor as the cycle left it, so an idle drain woken by new
//! records reads only the records. They are read again when anything they depend on changed
//! in this process (`Store::settings_generation`), after [`CARRY_LIMIT`] batches, after a
//! failed cycle, and at least every [`SETTINGS_MAX_AGE`] (changes made on other nodes:
//! a pause there, say, which the commit's fence lets through).

use super::Inner;
use super::deliver::{deliver_with_retries, fill};
use super::failure::fail;
use crate::domain::DataType;
use crate::drain::batch::{Batch, Chain, DrainRecord};
use crate::drain::dest::Destination;
use crate::drain::dest::describe::hide_url_paths;
use crate::drain::model::{Drain, DrainStatus};
use crate::drain::open::{self, OpenDestError};
use crate::drain::repo::{self, NewAttempt};
use crate::drain::rows::Rows;
use crate::drain::select::Selector;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What a cycle ended with: what the drain's task does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
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

/// Whether a cycle did anything: it read a batch (and delivered, skipped or failed it) or
/// counted a failed cycle — or found nothing to do (nothing readable after the cursor; the
/// drain not active, or not held by this node). What [`Engine::run_once`](super::Engine::run_once)
/// answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// The cycle read a batch or counted a failure.
    Worked,
    /// Nothing to do.
    Idle,
}

/// A cycle's end: what next, and whether it did anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ended {
    pub outcome: Outcome,
    pub ran: Ran,
}

impl Ended {
    fn idle(outcome: Outcome) -> Ended {
        Ended {
            outcome,
            ran: Ran::Idle,
        }
    }

    fn worked(outcome: Outcome) -> Ended {
        Ended {
            outcome,
            ran: Ran::Worked,
        }
    }
}

/// What a drain keeps between its cycles: the destination of its current settings, and the
/// plan a cycle that delivered a full batch hands the next one.
#[derive(Default)]
pub(super) struct Memory {
    cached: Option<Cached>,
    carry: Option<Plan>,
}

impl Memory {
    /// Keeps the settings of a cycle that ended cleanly, the cursor at `cursor` and nothing
    /// pending, for the next cycle (while [`Plan::fresh`]).
    fn keep(&mut self, mut plan: Plan, cursor: i64) {
        plan.drain.cursor_pos = cursor;
        plan.drain.pending_last = None;
        plan.ahead = None;
        self.carry = Some(plan);
    }
}

/// The destination of the drain's current settings, rebuilt when they change.
struct Cached {
    updated_at: DateTime<Utc>,
    dest: Arc<dyn Destination>,
}

/// What a cycle works with: the drain's row, how its records are selected, where they go;
/// and — carried over from a cycle that delivered a full batch — the next batch's rows, read
/// while that batch was being sent, so a backlog drains with one commit per batch and no idle
/// reads in between.
struct Plan {
    drain: Drain,
    selector: Arc<Selector>,
    dest: Arc<dyn Destination>,
    ahead: Option<Read>,
    /// Batches carried so far; settings and privacy are re-read every `CARRY_LIMIT`.
    batches: u32,
    /// When the settings were read, and the store's settings generation then.
    loaded: (Instant, u64),
}

impl Plan {
    /// Whether a later cycle may still work with these settings.
    fn fresh(&self, inner: &Inner) -> bool {
        self.batches < CARRY_LIMIT
            && self.loaded.1 == inner.store.settings_generation()
            && self.loaded.0.elapsed() < SETTINGS_MAX_AGE
    }
}

/// Batches delivered on carried settings before they are read again.
const CARRY_LIMIT: u32 = 20;

/// Longest a drain works with settings read earlier: how soon a change made on another node
/// (which this process's settings generation does not see) reaches it.
const SETTINGS_MAX_AGE: Duration = Duration::from_secs(5);

/// Rows read after a cursor, and the horizon taken just before the read: every committed
/// position below it is in the read.
struct Read {
    horizon: i64,
    rows: Rows,
    /// The rows' records, selected while the previous batch was on the wire (`None`: not
    /// yet, or no longer valid because the rows were cut to a pending batch).
    records: Option<Vec<DrainRecord>>,
}

/// Runs one cycle of drain `id`. `cancel` ends retries early (shutdown, lease lost).
pub(super) async fn cycle(
    inner: &Inner,
    id: &str,
    memory: &mut Memory,
    cancel: &CancellationToken,
) -> Result<Ended, StoreError> {
    let mut plan = match memory.carry.take() {
        Some(p) if p.fresh(inner) => p,
        _ => match load(inner, id, &mut memory.cached).await? {
            Loaded::Ready(p) => *p,
            Loaded::NotOurs => return Ok(Ended::idle(Outcome::Stop)),
            Loaded::Failed(outcome) => return Ok(Ended::worked(outcome)),
        },
    };
    let limit = plan.dest.max_records().max(1);
    let mut read = match plan.ahead.take() {
        Some(r) => r,
        None => {
            read_after(
                &inner.store,
                (plan.drain.data_type, &plan.drain.org_id),
                &plan.selector,
                plan.drain.cursor_pos,
                limit,
            )
            .await?
        }
    };
    let before = read.rows.len();
    let span = span(plan.drain.pending_last, &mut read.rows, limit);
    if read.rows.len() != before {
        read.records = None;
    }
    match span {
        Span::Unreadable => {
            // Records once read are not readable now: never advance past them undelivered.
            tracing::warn!(drain = %plan.drain.id, "the pending batch is not readable; retrying later");
            Ok(Ended::idle(Outcome::Failed))
        }
        Span::Empty => {
            let outcome = idle(inner, &plan.drain, read.horizon, plan.drain.cursor_pos).await?;
            let cursor = plan.drain.cursor_pos;
            memory.keep(plan, cursor);
            Ok(Ended::idle(outcome))
        }
        Span::Batch(bounds) => {
            let outcome = handle(inner, memory, plan, read, bounds, limit, cancel).await?;
            Ok(Ended::worked(outcome))
        }
    }
}

/// What [`load`] found.
enum Loaded {
    /// Boxed: a plan is large, the other answers small.
    Ready(Box<Plan>),
    /// Deleted, not active, or held by another node.
    NotOurs,
    /// The destination cannot be built: a failed cycle, counted.
    Failed(Outcome),
}

/// Reads the drain's settings afresh: its row, its destination (rebuilt only when the
/// settings changed) and its selector.
async fn load(inner: &Inner, id: &str, cached: &mut Option<Cached>) -> Result<Loaded, StoreError> {
    // Taken before the reads: a change during them makes the next cycle read again.
    let loaded = (Instant::now(), inner.store.settings_generation());
    inner
        .settings_loads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let Some(drain) = repo::get_any(&inner.store, id).await? else {
        return Ok(Loaded::NotOurs);
    };
    if !ours(drain.status, drain.lease_owner.as_deref(), &inner.node) {
        return Ok(Loaded::NotOurs);
    }
    let dest = match destination(inner, &drain, cached).await {
        Ok(d) => d,
        Err(OpenDestError::Store(e)) => return Err(e),
        Err(e) => {
            let outcome = fail(inner, &drain, &hide_url_paths(&e.to_string())).await?;
            return Ok(Loaded::Failed(outcome));
        }
    };
    let selector = Arc::new(Selector::load(&inner.store, &drain).await?);
    Ok(Loaded::Ready(Box::new(Plan {
        drain,
        selector,
        dest,
        ahead: None,
        batches: 0,
        loaded,
    })))
}

/// Only an active drain this node holds is delivered.
fn ours(status: DrainStatus, lease_owner: Option<&str>, node: &str) -> bool {
    status == DrainStatus::Active && lease_owner == Some(node)
}

/// The drain's destination: the cached one while its settings are unchanged.
async fn destination(
    inner: &Inner,
    drain: &Drain,
    cached: &mut Option<Cached>,
) -> Result<Arc<dyn Destination>, OpenDestError> {
    if let Some(c) = cached
        && c.updated_at == drain.updated_at
    {
        return Ok(c.dest.clone());
    }
    let opened = open::open(
        &inner.store,
        &inner.secrets,
        &inner.ctx,
        &drain.org_id,
        &drain.destination,
        &drain.secret_id,
    )
    .await?;
    let dest: Arc<dyn Destination> = Arc::from(opened);
    *cached = Some(Cached {
        updated_at: drain.updated_at,
        dest: dest.clone(),
    });
    Ok(dest)
}

/// Up to `limit` rows of the drain's stream after `cursor`, with the fields its selector needs,
/// through the export path's fast reader (row blocks, no value per cell).
async fn read_after(
    store: &Store,
    (data_type, org): (DataType, &str),
    selector: &Selector,
    cursor: i64,
    limit: usize,
) -> Result<Read, StoreError> {
    // The horizon before the read: every committed position below it is in the read.
    let horizon = store.visible_horizon().await?;
    let wanted = selector.wanted();
    let blocks = store
        .read_after_block(data_type, org, cursor, limit as i64, &wanted)
        .await?;
    Ok(Read {
        horizon,
        rows: Rows::new(data_type, &wanted, blocks),
        records: None,
    })
}

/// A full batch means more is waiting: read it, and write its records, while this one is on
/// the wire (`None`: the batch was not full, nothing read). On a task of its own, so the
/// reading and selecting run beside the delivery rather than between its awaits; a read
/// whose delivery failed meanwhile is simply dropped (reading changes nothing).
async fn read_ahead(
    inner: &Inner,
    drain: &Drain,
    selector: &Arc<Selector>,
    last: i64,
    limit: usize,
    full: bool,
) -> Result<Option<Read>, StoreError> {
    if !full {
        return Ok(None);
    }
    let (store, selector) = (inner.store.clone(), selector.clone());
    let (data_type, org) = (drain.data_type, drain.org_id.clone());
    let task = tokio::spawn(async move {
        let mut read = read_after(&store, (data_type, &org), &selector, last, limit).await?;
        read.records = Some(selector.select_rows(&read.rows));
        Ok(read)
    });
    match task.await {
        Ok(read) => read.map(Some),
        Err(e) => Err(StoreError::Database(sqlx::Error::Io(
            std::io::Error::other(e),
        ))),
    }
}

/// What a read holds for this cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    /// A batch is pending but none of its rows could be read.
    Unreadable,
    /// Nothing after the cursor.
    Empty,
    /// A batch to deliver (or skip).
    Batch(Bounds),
}

/// The bounds of a batch: positions `first..=last`; `full` when the read hit the limit, so
/// more is probably waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bounds {
    first: i64,
    last: i64,
    full: bool,
}

/// Bounds this cycle's batch in `rows` (read after the cursor, at most `limit`): a pending batch
/// (`pending_last`, set before it was first sent) is re-sent exactly — rows beyond it are
/// dropped and its end stays `pending_last` even if some of its rows are gone.
fn span(pending_last: Option<i64>, rows: &mut Rows, limit: usize) -> Span {
    if let Some(p) = pending_last {
        rows.keep_through(p);
    }
    let (Some(first), Some(last)) = (rows.first_pos(), rows.last_pos()) else {
        return if pending_last.is_some() {
            Span::Unreadable
        } else {
            Span::Empty
        };
    };
    Span::Batch(Bounds {
        first,
        last: pending_last.unwrap_or(last),
        full: rows.len() >= limit,
    })
}

/// The batch's records: those the drain's filters keep, reduced to its fields with privacy
/// applied, as JSON. Takes the rows so they are freed before the batch goes on the wire.
fn select(selector: &Selector, rows: Rows) -> Vec<DrainRecord> {
    selector.select_rows(&rows)
}

/// The idempotency key of a live batch: the same on every retry of these positions (also
/// after a crash: they are pending), different for any other batch.
fn batch_key(drain_id: &str, first: i64, last: i64) -> String {
    format!("{drain_id}-{first}-{last}")
}

/// The delivery record of a live batch, before its first try.
fn live_attempt<'a>(
    drain: &'a Drain,
    key: &'a str,
    bounds: Bounds,
    records: usize,
) -> NewAttempt<'a> {
    NewAttempt::batch(drain, "live", key, (bounds.first, bounds.last), records)
}

/// Delivers (or skips) the batch `bounds` marks in `read`, commits it, and carries on.
async fn handle(
    inner: &Inner,
    memory: &mut Memory,
    plan: Plan,
    read: Read,
    bounds: Bounds,
    limit: usize,
    cancel: &CancellationToken,
) -> Result<Outcome, StoreError> {
    let Read {
        horizon,
        rows: raw,
        records,
    } = read;
    let records = records.unwrap_or_else(|| select(&plan.selector, raw));
    let key = batch_key(&plan.drain.id, bounds.first, bounds.last);
    if records.is_empty() {
        let attempt = live_attempt(&plan.drain, &key, bounds, 0);
        let outcome = skip(inner, &plan.drain, &attempt, horizon, bounds).await?;
        if outcome != Outcome::Stop {
            memory.keep(plan, bounds.last);
        }
        return Ok(outcome);
    }
    let Plan {
        drain,
        selector,
        dest,
        batches,
        loaded,
        ..
    } = plan;
    let mut attempt = live_attempt(&drain, &key, bounds, records.len());
    if !mark_pending(inner, &drain, bounds.last, &records).await? {
        return Ok(Outcome::Stop);
    }
    let batch = Batch {
        drain_id: drain.id.clone(),
        drain_name: drain.name.clone(),
        org_id: drain.org_id.clone(),
        data_type: drain.data_type,
        first_pos: bounds.first,
        last_pos: bounds.last,
        key: key.clone(),
        records,
        // Numbered from the committed chain: a retry, also after a crash, gets the same.
        chain: Chain::live(drain.batch_seq + 1, drain.batch_prev.clone()),
    };
    let ((result, tries), ahead) = tokio::join!(
        deliver_with_retries(inner, dest.as_ref(), &batch, &mut attempt, cancel),
        read_ahead(inner, &drain, &selector, bounds.last, limit, bounds.full)
    );
    let delivered = match result {
        Ok(d) => d,
        Err(e) if cancel.is_cancelled() && !e.permanent => return Ok(Outcome::Stop),
        Err(e) => return fail(inner, &drain, &e.describe()).await,
    };
    fill(&mut attempt, &delivered);
    attempt.at = Utc::now();
    attempt.attempt = tries;
    let next = Next::of(ahead, &drain.id);
    if !commit(inner, &drain, bounds.last, &next, &selector, &attempt).await? {
        return Ok(Outcome::Stop);
    }
    let plan = Plan {
        drain,
        selector,
        dest,
        ahead: None,
        batches,
        loaded,
    };
    after_commit(inner, memory, plan, next, horizon, (bounds.last, key)).await
}

/// The batch ending at `last` (keyed `key`) is committed: carry the rows read ahead over to
/// the next cycle (the drain's row now as the commit left it), go again, or idle.
async fn after_commit(
    inner: &Inner,
    memory: &mut Memory,
    plan: Plan,
    next: Next,
    horizon: i64,
    (last, key): (i64, String),
) -> Result<Outcome, StoreError> {
    let mut plan = plan;
    // The commit moved the chain: whichever way the plan is kept, the next batch follows it.
    plan.drain.batch_seq += 1;
    plan.drain.batch_prev = Some(key);
    match carry_over(next, horizon) {
        Then::Carry(ahead) => {
            let mut drain = plan.drain;
            drain.cursor_pos = last;
            drain.pending_last = ahead.rows.last_pos();
            memory.carry = Some(Plan {
                drain,
                ahead: Some(ahead),
                batches: plan.batches + 1,
                ..plan
            });
            Ok(Outcome::More)
        }
        Then::Again => {
            memory.keep(plan, last);
            Ok(Outcome::More)
        }
        Then::Idle(horizon) => {
            let outcome = idle(inner, &plan.drain, horizon, last).await?;
            memory.keep(plan, last);
            Ok(outcome)
        }
    }
}

/// Everything read was filtered out: move past it without a delivery.
async fn skip(
    inner: &Inner,
    drain: &Drain,
    attempt: &NewAttempt<'_>,
    horizon: i64,
    bounds: Bounds,
) -> Result<Outcome, StoreError> {
    let committed = repo::commit_batch(
        &inner.store,
        &inner.node,
        drain.cursor_pos,
        bounds.last,
        None,
        None,
        attempt,
    )
    .await?;
    match (committed, bounds.full) {
        (false, _) => Ok(Outcome::Stop),
        (true, true) => Ok(Outcome::More),
        (true, false) => idle(inner, drain, horizon, bounds.last).await,
    }
}

/// Records the batch ending at `last` as pending before it is first sent, so a crash in
/// between re-sends exactly it; a batch already pending (a retry) is left as it is. False:
/// the drain is no longer ours.
async fn mark_pending(
    inner: &Inner,
    drain: &Drain,
    last: i64,
    records: &[DrainRecord],
) -> Result<bool, StoreError> {
    if drain.pending_last.is_some() {
        return Ok(true);
    }
    let oldest = records.iter().map(|r| r.time).min();
    repo::set_pending(&inner.store, &drain.id, &inner.node, last, oldest).await
}

/// What reading ahead during the delivery left for the next cycle.
enum Next {
    /// The batch was not full: nothing was read ahead.
    NotRead,
    /// Reading ahead failed; the next cycle reads again.
    Failed,
    /// Rows read ahead (possibly none).
    Read(Read),
}

impl Next {
    /// What reading ahead returned. A failed read ahead must not cost the delivered batch its
    /// commit: it is logged, and the next cycle reads again.
    fn of(ahead: Result<Option<Read>, StoreError>, drain_id: &str) -> Next {
        match ahead {
            Ok(Some(read)) => Next::Read(read),
            Ok(None) => Next::NotRead,
            Err(e) => {
                tracing::warn!(drain = %drain_id, error = %e, "reading the next batch failed");
                Next::Failed
            }
        }
    }
}

/// The next batch's pending bound and oldest record time: the rows read ahead become pending
/// in the same commit as the delivered batch (one write per batch).
fn next_pending(next: &Next, selector: &Selector) -> (Option<i64>, Option<DateTime<Utc>>) {
    match next {
        Next::Read(read) => (read.rows.last_pos(), selector.oldest(&read.rows)),
        Next::NotRead | Next::Failed => (None, None),
    }
}

/// Moves the cursor from the drain's to `last` with the delivery record, in one write fenced
/// by the lease, the status and the cursor. False: the drain is no longer ours (the batch
/// stays pending and is re-sent under the same key).
async fn commit(
    inner: &Inner,
    drain: &Drain,
    last: i64,
    next: &Next,
    selector: &Selector,
    attempt: &NewAttempt<'_>,
) -> Result<bool, StoreError> {
    let (next_last, next_oldest) = next_pending(next, selector);
    repo::commit_batch(
        &inner.store,
        &inner.node,
        drain.cursor_pos,
        last,
        next_last,
        next_oldest,
        attempt,
    )
    .await
}

/// What a committed cycle does next.
enum Then {
    /// Deliver the rows read ahead in the next cycle, on the same settings.
    Carry(Read),
    /// Go again at once, reading afresh.
    Again,
    /// Nothing more was read: idle, judged by this horizon.
    Idle(i64),
}

/// After a commit: rows read ahead are carried over; a failed read ahead means go again; an
/// empty one (or none, the batch was not full) means idle — judged by the horizon of the read
/// that saw the stream end.
fn carry_over(next: Next, horizon: i64) -> Then {
    match next {
        Next::Read(read) if !read.rows.is_empty() => Then::Carry(read),
        Next::Read(read) => Then::Idle(read.horizon),
        Next::Failed => Then::Again,
        Next::NotRead => Then::Idle(horizon),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DataType, catalog};
    use crate::drain::model::DrainScope;
    use crate::export::spec::TeamScope;
    use crate::store::{StoredRecord, Value};
    use std::collections::HashSet;

    fn rows(records: Vec<StoredRecord>) -> Rows {
        Rows::from_records(DataType::Workflows, &records)
    }

    fn at(positions: &[i64]) -> Rows {
        let width = catalog::spec(DataType::Workflows).fields.len();
        rows(
            positions
                .iter()
                .map(|&pos| StoredRecord {
                    pos,
                    values: vec![Value::Null; width],
                })
                .collect(),
        )
    }

    fn positions(rows: &Rows) -> Vec<i64> {
        rows.iter().map(|r| r.pos()).collect()
    }

    /// A workflows selector delivering `run_id` that leaves out child runs.
    fn selector() -> Selector {
        Selector::new(
            DataType::Workflows,
            DrainScope {
                fields: vec!["run_id".into()],
                teams: TeamScope::everything(),
                entity_ids: vec![],
                category: None,
                permission_group: None,
                event_types: vec![],
                hide_child_runs: true,
            },
            None,
            HashSet::new(),
            None,
        )
    }

    /// A workflow run at `pos`, created at `minute` past midnight; `child` when it has a
    /// parent run.
    fn run(pos: i64, id: &str, minute: u32, child: bool) -> StoredRecord {
        let spec = catalog::spec(DataType::Workflows);
        let mut values = vec![Value::Null; spec.fields.len()];
        let set = |values: &mut Vec<Value>, field: &str, v: Value| {
            let i = spec.fields.iter().position(|f| f.id == field).unwrap();
            values[i] = v;
        };
        set(&mut values, "run_id", Value::Text(id.into()));
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 1, 0, minute, 0).unwrap();
        set(&mut values, spec.time_field, Value::Timestamp(t));
        if child {
            set(&mut values, "parent_run_id", Value::Text("parent".into()));
        }
        StoredRecord { pos, values }
    }

    #[test]
    fn span_bounds_a_fresh_batch_by_what_was_read() {
        let mut rows = at(&[4, 7, 9]);
        assert_eq!(
            span(None, &mut rows, 3),
            Span::Batch(Bounds {
                first: 4,
                last: 9,
                full: true
            })
        );
        let mut rows = at(&[4, 7]);
        assert_eq!(
            span(None, &mut rows, 3),
            Span::Batch(Bounds {
                first: 4,
                last: 7,
                full: false
            })
        );
        assert_eq!(span(None, &mut Rows::default(), 3), Span::Empty);
    }

    #[test]
    fn span_resends_exactly_the_pending_batch() {
        // Rows beyond the pending batch are dropped, and it is not full any more.
        let mut rows = at(&[4, 7, 9]);
        assert_eq!(
            span(Some(7), &mut rows, 3),
            Span::Batch(Bounds {
                first: 4,
                last: 7,
                full: false
            })
        );
        assert_eq!(positions(&rows), [4, 7]);
        // Its last row gone (privacy deletion, say): it still ends where it was recorded, so
        // the key is the one the receiver saw.
        let mut rows = at(&[4, 9]);
        assert_eq!(
            span(Some(7), &mut rows, 3),
            Span::Batch(Bounds {
                first: 4,
                last: 7,
                full: false
            })
        );
        // None of it readable: never advance past it undelivered.
        assert_eq!(span(Some(7), &mut at(&[9, 10]), 3), Span::Unreadable);
        assert_eq!(span(Some(7), &mut Rows::default(), 3), Span::Unreadable);
    }

    #[test]
    fn select_filters_and_projects_and_the_key_names_the_positions() {
        let sel = selector();
        let records = select(
            &sel,
            rows(vec![
                run(1, "a", 1, false),
                run(2, "b", 2, true),
                run(3, "c", 3, false),
            ]),
        );
        let ids: Vec<String> = records
            .iter()
            .map(|r| r.fields()["run_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["a", "c"], "the child run is filtered out");
        assert_eq!(batch_key("drn_1", 1, 3), "drn_1-1-3");
    }

    #[test]
    fn rows_read_ahead_become_pending_in_the_commit() {
        let sel = selector();
        let read = Read {
            horizon: 100,
            rows: rows(vec![run(11, "x", 5, false), run(12, "y", 2, true)]),
            records: None,
        };
        let (last, oldest) = next_pending(&Next::Read(read), &sel);
        assert_eq!(last, Some(12));
        // The oldest of every row read, filtered or not (the lag counts from it).
        assert_eq!(
            oldest,
            Some(chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 1, 0, 2, 0).unwrap())
        );
        let empty = Read {
            horizon: 100,
            rows: Rows::default(),
            records: None,
        };
        assert_eq!(next_pending(&Next::Read(empty), &sel), (None, None));
        assert_eq!(next_pending(&Next::NotRead, &sel), (None, None));
        assert_eq!(next_pending(&Next::Failed, &sel), (None, None));
    }

    #[test]
    fn after_a_commit_rows_read_ahead_carry_over_and_the_end_of_the_stream_idles() {
        let read = |horizon, rows| Read {
            horizon,
            rows,
            records: None,
        };
        assert!(matches!(
            carry_over(Next::Read(read(50, at(&[11, 12]))), 40),
            Then::Carry(r) if positions(&r.rows) == [11, 12]
        ));
        // An empty read ahead saw the end of the stream: its horizon judges settling.
        assert!(matches!(
            carry_over(Next::Read(read(50, Rows::default())), 40),
            Then::Idle(50)
        ));
        // Not full: the batch's own read saw the end.
        assert!(matches!(carry_over(Next::NotRead, 40), Then::Idle(40)));
        // A failed read ahead: go again at once, reading afresh.
        assert!(matches!(carry_over(Next::Failed, 40), Then::Again));
    }

    #[test]
    fn only_an_active_drain_this_node_holds_is_ours() {
        assert!(ours(DrainStatus::Active, Some("n1"), "n1"));
        assert!(!ours(DrainStatus::Active, Some("n2"), "n1"));
        assert!(!ours(DrainStatus::Active, None, "n1"));
        assert!(!ours(DrainStatus::Paused, Some("n1"), "n1"));
        assert!(!ours(DrainStatus::Error, Some("n1"), "n1"));
    }
}

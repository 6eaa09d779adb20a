//! The drain engine of one `outflow serve` process.
//!
//! A lease loop claims active drains nobody holds (or whose holder stopped renewing), renews
//! what this node holds every third of the lease, and starts one task per held drain
//! (`worker`). Commit notifications from the store (`store::notify`) wake exactly the drains
//! of that organization and type, so new data goes out within milliseconds; without a
//! notification a drain polls, backing off from `poll_min_seconds` to `poll_max_seconds` while
//! nothing arrives. A task ends when its drain is paused, deleted, fails into `error`, or the
//! node loses its lease; the lease loop starts it again when it becomes active.
//!
//! - `worker` — a drain's task: cycle, then wait;
//! - `cycle` — one cycle as named steps (read, mark pending, deliver, commit, carry over);
//! - `deliver` — sending one batch with retries; `failure` — the failed-cycle policy;
//! - `policy` — retry timing; `replay` — re-delivering a past window.
//!
//! [`Engine::run_once`] and [`Engine::run_due`] run cycles in the caller's task, so tests
//! drive drains step by step (as `Exports::run_next` drives export workers).

mod cycle;
mod deliver;
mod failure;
mod policy;
mod replay;
mod worker;

pub use cycle::Ran;
pub use policy::backoff;

use super::dest::DestContext;
use super::repo;
use super::secrets::SecretBox;
use crate::config::DrainsConfig;
use crate::domain::DataType;
use crate::mail::Mailer;
use crate::store::Store;
use crate::store::notify::Committed;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// A due drain: its wake-up and the cursor it caught up at.
type Polled = (Arc<Wake>, i64);

/// `d` ± 10 %, so drains that went idle together do not poll together forever.
fn jitter(d: Duration) -> Duration {
    use rand::Rng;
    d.mul_f64(rand::rng().random_range(0.9..1.1))
}

/// Most drains one lease round claims.
const CLAIM_BATCH: i64 = 1000;

/// The engine's shared parts.
pub(crate) struct Inner {
    pub store: Store,
    pub secrets: SecretBox,
    pub mailer: Mailer,
    pub config: DrainsConfig,
    pub ctx: DestContext,
    pub node: String,
    running: Mutex<HashMap<String, Running>>,
    refresh: Notify,
    /// Bounds the drains working at once (see `worker`).
    pub cycles: tokio::sync::Semaphore,
    /// Times a cycle read a drain's settings (row, privacy, teams): see `cycle`.
    pub settings_loads: std::sync::atomic::AtomicU64,
    /// Fired when the engine stops: replays stop too, to resume when it starts again.
    stop: CancellationToken,
    /// Ids of the replays running in this process, and their tasks.
    replays: Mutex<std::collections::HashSet<String>>,
    replay_tasks: tokio_util::task::TaskTracker,
}

/// How often a node deletes the ingest marks every drain has passed (and how old they must
/// be): the ingest-time lag reads only marks past a cursor.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Drain cycles one node runs at once.
const CONCURRENT_CYCLES: usize = 64;

/// A running drain task.
struct Running {
    org: String,
    data_type: DataType,
    wake: Arc<Wake>,
    cancel: CancellationToken,
}

/// How a drain task is woken, what the poller needs to know to wake it, and what its cycles
/// keep between them.
pub(crate) struct Wake {
    /// Someone asked for a cycle now: the drain was changed, resumed or replayed.
    pub notify: Notify,
    /// New records for the drain (a commit notification or the poller). Unlike `notify`, it
    /// does not cut a failed cycle's backoff short: a failing destination is not retried on
    /// every ingest.
    pub data: Notify,
    /// The cursor when the task last caught up (`None` while it is busy).
    idle_at: Mutex<Option<IdleState>>,
    /// The drain's memory between cycles, held for the length of one: the task and
    /// [`Engine::run_once`] take turns on it and never run a cycle of the drain at once.
    memory: tokio::sync::Mutex<cycle::Memory>,
}

/// A caught-up drain's place in the poller's schedule.
#[derive(Clone, Copy)]
struct IdleState {
    cursor: i64,
    next: Instant,
    interval: Duration,
}

impl Wake {
    fn new() -> Self {
        Wake {
            notify: Notify::new(),
            data: Notify::new(),
            idle_at: Mutex::new(None),
            memory: tokio::sync::Mutex::new(cycle::Memory::default()),
        }
    }

    /// The task delivered something: the poll interval starts over.
    pub fn activity(&self) {
        *self.idle_at.lock().unwrap() = None;
    }

    /// The task caught up at `cursor`; the poller will look for positions beyond it, first
    /// after `poll_min`, then backing off.
    pub fn caught_up(&self, cursor: i64) {
        let mut idle = self.idle_at.lock().unwrap();
        *idle = Some(match *idle {
            // Still idle: keep the backed-off schedule.
            Some(s) if s.cursor == cursor => s,
            _ => IdleState {
                cursor,
                next: Instant::now(),
                interval: Duration::ZERO,
            },
        });
    }
}

/// The drain engine (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// An engine over its parts; nothing runs until [`spawn`](Self::spawn).
    pub fn new(
        store: Store,
        secrets: SecretBox,
        mailer: Mailer,
        config: DrainsConfig,
        node: String,
    ) -> Engine {
        let ctx = DestContext {
            allow_private: config.allow_private_destinations,
            request_timeout: Duration::from_secs(config.request_timeout_seconds.max(1)),
        };
        Engine {
            inner: Arc::new(Inner {
                store,
                secrets,
                mailer,
                config,
                ctx,
                node,
                running: Mutex::new(HashMap::new()),
                refresh: Notify::new(),
                cycles: tokio::sync::Semaphore::new(CONCURRENT_CYCLES),
                settings_loads: Default::default(),
                stop: CancellationToken::new(),
                replays: Default::default(),
                replay_tasks: tokio_util::task::TaskTracker::new(),
            }),
        }
    }

    /// This node's lease-owner name.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// Destination settings (SSRF guard, timeouts).
    pub fn dest_context(&self) -> &DestContext {
        &self.inner.ctx
    }

    /// Asks the lease loop to look again now (a drain was created, resumed or changed).
    pub fn refresh(&self) {
        self.inner.refresh.notify_one();
    }

    /// Wakes one drain's task on this node (if it runs here).
    pub fn wake(&self, id: &str) {
        if let Some(r) = self.inner.running.lock().unwrap().get(id) {
            r.wake.notify.notify_one();
        }
    }

    /// Starts replaying `[from, to)` of `drain` to `dest` (recorded first, so that it resumes
    /// after a restart); the replay's id.
    pub async fn replay(
        &self,
        drain: super::model::Drain,
        dest: Arc<dyn super::dest::Destination>,
        from: chrono::DateTime<Utc>,
        to: chrono::DateTime<Utc>,
    ) -> Result<String, crate::store::StoreError> {
        let id = format!("rpl_{}", uuid::Uuid::now_v7().simple());
        let r = repo::replays::Replay::new(id.clone(), &drain.id, &drain.org_id, from, to);
        // Claimed before its row exists, so a resume pass never sees it unclaimed.
        self.inner.claim_replay(&id);
        if let Err(e) = repo::replays::insert(&self.inner.store, &r, &self.inner.node).await {
            self.inner.release_replay(&id);
            return Err(e);
        }
        self.inner.start_replay(drain, dest, r);
        Ok(id)
    }

    /// Runs one cycle of drain `id` in the caller's task, as this node: `Worked` when it read
    /// a batch (delivered, skipped or failed it) or counted a failed cycle; `Idle` when there
    /// was nothing readable, or the drain is not active or not held by this node. If the
    /// drain's task runs here, this waits for its cycle to end and continues where it left
    /// off: the two never overlap. Tests drive drains with it instead of sleeping.
    pub async fn run_once(&self, id: &str) -> Result<Ran, crate::store::StoreError> {
        let wake = self
            .inner
            .running
            .lock()
            .unwrap()
            .get(id)
            .map(|r| r.wake.clone());
        worker::run_once(&self.inner, id, wake).await
    }

    /// Renews and claims this node's leases (as the lease loop does, without starting tasks),
    /// then runs one cycle of every drain it holds, in id order, in the caller's task.
    /// `Worked` if any of them worked.
    pub async fn run_due(&self) -> Result<Ran, crate::store::StoreError> {
        let mut ran = Ran::Idle;
        for id in self.inner.hold().await? {
            if self.run_once(&id).await? == Ran::Worked {
                ran = Ran::Worked;
            }
        }
        Ok(ran)
    }

    /// Whether drain `id` runs on this node and its task has caught up: it waits for a commit
    /// notification or the poller to find new records.
    pub fn is_caught_up(&self, id: &str) -> bool {
        self.inner
            .running
            .lock()
            .unwrap()
            .get(id)
            .is_some_and(|r| r.wake.idle_at.lock().unwrap().is_some())
    }

    /// How many times cycles on this node read a drain's settings — its row, the privacy
    /// policy, the personal spaces — rather than working with those kept from the cycle
    /// before.
    pub fn settings_loads(&self) -> u64 {
        self.inner
            .settings_loads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Ids of the drains this node is running.
    pub fn running(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.inner.running.lock().unwrap().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Starts the lease loop and the notification listener; both stop with `stop`, and the
    /// returned task ends once every drain task has stopped and its lease is released.
    pub fn spawn(&self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let inner = self.inner.clone();
        if inner.config.commit_notifications {
            self.listen(stop.clone());
        }
        let poller_inner = inner.clone();
        let poller_stop = stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = poller_stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                if let Err(e) = poller_inner.poll_due().await {
                    tracing::warn!(error = %e, "drain poll failed");
                }
            }
        });
        tokio::spawn(async move {
            if let Err(e) = replay::resume(&inner).await {
                tracing::warn!(error = %e, "cannot resume this node's replays");
            }
            let period = Duration::from_millis(inner.config.lease_seconds.max(1) * 1000 / 3);
            let mut pruned = None::<Instant>;
            loop {
                if let Err(e) = Inner::lease_round(&inner).await {
                    tracing::warn!(error = %e, "drain lease round failed");
                }
                if pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                    pruned = Some(Instant::now());
                    let before = Utc::now() - chrono::Duration::from_std(PRUNE_EVERY).unwrap();
                    if let Err(e) = repo::prune_ingest_marks(&inner.store, before).await {
                        tracing::warn!(error = %e, "pruning ingest marks failed");
                    }
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(period) => {}
                    _ = inner.refresh.notified() => {}
                }
            }
            inner.stop.cancel();
            inner.stop_all().await;
            inner.replay_tasks.close();
            inner.replay_tasks.wait().await;
        })
    }
}

impl Engine {
    /// Turns the store's commit notifications into wake-ups of the drains they concern,
    /// until `stop`.
    fn listen(&self, stop: CancellationToken) {
        let inner = self.inner.clone();
        let mut commits = inner.store.subscribe();
        tokio::spawn(async move {
            loop {
                let c = tokio::select! {
                    _ = stop.cancelled() => return,
                    c = commits.recv() => c,
                };
                match c {
                    Ok(c) => inner.announce(&c),
                    Err(RecvError::Lagged(_)) => inner.announce(&Committed::everything()),
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
}

impl Inner {
    /// Renews, claims, and reconciles running tasks with what this node holds.
    async fn lease_round(this: &Arc<Inner>) -> Result<(), crate::store::StoreError> {
        let held = this.hold().await?;
        let mut to_start = Vec::new();
        {
            let mut running = this.running.lock().unwrap();
            running.retain(|id, r| {
                let keep = held.contains(id) && !r.cancel.is_cancelled();
                if !keep {
                    r.cancel.cancel();
                }
                keep
            });
            for id in &held {
                if !running.contains_key(id) {
                    to_start.push(id.clone());
                }
            }
        }
        for id in to_start {
            let Some(drain) = repo::get_any(&this.store, &id).await? else {
                continue;
            };
            let wake = Arc::new(Wake::new());
            let cancel = CancellationToken::new();
            this.running.lock().unwrap().insert(
                id.clone(),
                Running {
                    org: drain.org_id.clone(),
                    data_type: drain.data_type,
                    wake: wake.clone(),
                    cancel: cancel.clone(),
                },
            );
            tracing::info!(drain = %id, node = %this.node, "drain started on this node");
            tokio::spawn(worker::run(this.clone(), id, wake, cancel));
        }
        Ok(())
    }

    /// Renews what this node holds and claims what nobody holds: the drains it now holds.
    async fn hold(&self) -> Result<std::collections::BTreeSet<String>, crate::store::StoreError> {
        let now = Utc::now();
        let until = now + chrono::Duration::seconds(self.config.lease_seconds.max(1) as i64);
        let mut held = repo::renew(&self.store, &self.node, until).await?;
        held.extend(repo::claim(&self.store, &self.node, now, until, CLAIM_BATCH).await?);
        Ok(held.into_iter().collect())
    }

    /// Wakes the drains a commit concerns.
    fn announce(&self, c: &Committed) {
        let running = self.running.lock().unwrap();
        for r in running.values() {
            let concerned = match c.data_type {
                None => true,
                Some(t) => t == r.data_type && c.org == r.org,
            };
            if concerned {
                r.wake.data.notify_one();
            }
        }
    }

    /// The fallback poll: for the caught-up drains whose next poll is due, one
    /// `MAX(pos)` query per organization and type (however many drains share it) tells which
    /// have something new; those are woken, the others back off — `poll_min_seconds`, doubling
    /// up to `poll_max_seconds`, with jitter so thousands of drains do not poll in step.
    async fn poll_due(&self) -> Result<(), crate::store::StoreError> {
        let now = Instant::now();
        let min = Duration::from_secs(self.config.poll_min_seconds.max(1));
        let max = Duration::from_secs(self.config.poll_max_seconds).max(min);
        let mut due: HashMap<(String, DataType), Vec<Polled>> = HashMap::new();
        for r in self.running.lock().unwrap().values() {
            let mut idle = r.wake.idle_at.lock().unwrap();
            let Some(s) = idle.as_mut() else { continue };
            if s.interval.is_zero() {
                // Just caught up: first poll after poll_min.
                s.interval = min;
                s.next = now + jitter(min);
                continue;
            }
            if s.next > now {
                continue;
            }
            s.interval = (s.interval * 2).min(max);
            s.next = now + jitter(s.interval);
            due.entry((r.org.clone(), r.data_type))
                .or_default()
                .push((r.wake.clone(), s.cursor));
        }
        for ((org, data_type), drains) in due {
            let top = self.store.max_position(data_type, &org).await?;
            for (wake, cursor) in drains {
                if top > cursor {
                    wake.data.notify_one();
                }
            }
        }
        Ok(())
    }

    /// Whether replay `id` runs in this process.
    /// Marks replay `id` as running on this node; false when it already is. Checked and set
    /// under one lock: a resume that found the replay's row must not start it a second time
    /// beside the request that inserted that row.
    fn claim_replay(&self, id: &str) -> bool {
        self.replays.lock().unwrap().insert(id.to_string())
    }

    /// Gives up a claim whose replay was not started.
    fn release_replay(&self, id: &str) {
        self.replays.lock().unwrap().remove(id);
    }

    /// Runs `replay` (claimed with [`Self::claim_replay`]) in a task until it ends or the
    /// engine stops.
    fn start_replay(
        self: &Arc<Self>,
        drain: super::model::Drain,
        dest: Arc<dyn super::dest::Destination>,
        replay: repo::replays::Replay,
    ) {
        let id = replay.id.clone();
        let inner = self.clone();
        let cancel = self.stop.child_token();
        self.replay_tasks.spawn(async move {
            replay::run(inner.clone(), drain, dest, replay, cancel).await;
            inner.replays.lock().unwrap().remove(&id);
        });
    }

    /// A task that ended on its own (paused, error, lease lost) leaves the running set.
    fn finished(&self, id: &str) {
        self.running.lock().unwrap().remove(id);
    }

    /// Shutdown: stop every task and let go of the leases so another node takes over at once.
    async fn stop_all(&self) {
        let ids: Vec<String> = {
            let mut running = self.running.lock().unwrap();
            for r in running.values() {
                r.cancel.cancel();
            }
            running.drain().map(|(id, _)| id).collect()
        };
        for id in ids {
            let _ = repo::release(&self.store, &self.node, &id).await;
        }
    }
}

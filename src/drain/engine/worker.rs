//! One drain's task: run a cycle (`cycle.rs`), then go again at once, or wait — for a commit
//! notification or the poller when caught up, a short while when a commit is settling, the
//! backoff after a failed cycle. [`run_once`] runs the same next cycle in a caller's task.

use super::cycle::{self, Ended, Memory, Outcome, Ran};
use super::{Inner, Wake};
use crate::drain::repo;
use crate::store::StoreError;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs one drain until it stops or `cancel` fires.
pub(super) async fn run(inner: Arc<Inner>, id: String, wake: Arc<Wake>, cancel: CancellationToken) {
    let cfg = &inner.config;
    let mut settle = Duration::from_millis(5);
    loop {
        if cancel.is_cancelled() {
            break;
        }
        // At most CONCURRENT_CYCLES drains of this node work at once: when thousands wake
        // together (start-up, a poll wave) memory stays bounded and the database is not
        // flooded; a single busy drain never waits.
        let permit = tokio::select! {
            _ = cancel.cancelled() => break,
            p = inner.cycles.acquire() => p.expect("the semaphore is never closed"),
        };
        // Boxed: an idle task then holds only this loop's few words, not the (large) state of
        // a cycle's nested futures — it matters with thousands of idle drains.
        let outcome = match Box::pin(turn(&inner, &id, &wake, &cancel)).await {
            Ok(ended) => ended.outcome,
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
        let failed = matches!(outcome, Outcome::Failed);
        if !pause(&wake, wait, failed, &cancel).await {
            break;
        }
    }
    inner.finished(&id);
    let _ = repo::release(&inner.store, &inner.node, &id).await;
}

/// Waits before the next cycle: `wait` (or until woken, when `None`). New records wake the
/// task too, except after a failed cycle, whose backoff only an explicit wake (the drain was
/// changed or resumed) cuts short. False when `cancel` fired.
async fn pause(
    wake: &Wake,
    wait: Option<Duration>,
    failed: bool,
    cancel: &CancellationToken,
) -> bool {
    let sleep = async {
        match wait {
            Some(w) => tokio::time::sleep(w).await,
            None => std::future::pending().await,
        }
    };
    let data = async {
        if failed {
            std::future::pending::<()>().await
        } else {
            wake.data.notified().await
        }
    };
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = wake.notify.notified() => true,
        _ = data => true,
        _ = sleep => true,
    }
}

/// The drain's next cycle, holding its memory: the task and [`run_once`] take turns, never
/// overlapping, and each continues where the other left off (a carried-over batch included).
async fn turn(
    inner: &Inner,
    id: &str,
    wake: &Wake,
    cancel: &CancellationToken,
) -> Result<Ended, StoreError> {
    let mut memory = wake.memory.lock().await;
    cycle::cycle(inner, id, &mut memory, cancel).await
}

/// One cycle of drain `id` in the caller's task. `wake`: the drain's task on this node, if it
/// runs here — the cycle then waits for the task's to end and continues from its memory; the
/// task keeps its own schedule (the poller wakes it if this cycle left something to do).
pub(super) async fn run_once(
    inner: &Inner,
    id: &str,
    wake: Option<Arc<Wake>>,
) -> Result<Ran, StoreError> {
    let _permit = inner
        .cycles
        .acquire()
        .await
        .expect("the semaphore is never closed");
    // Nothing cancels a cycle a caller asked for: it ends by itself.
    let cancel = CancellationToken::new();
    let Some(wake) = wake else {
        let mut memory = Memory::default();
        let ended = Box::pin(cycle::cycle(inner, id, &mut memory, &cancel)).await?;
        return Ok(ended.ran);
    };
    let ended = Box::pin(turn(inner, id, &wake, &cancel)).await?;
    Ok(ended.ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `pause` is still waiting after `after`. The waits asserted to go on are far
    /// longer than `after`, and the ones asserted to end end at once, so a slow machine
    /// cannot turn either answer around.
    async fn waiting_after(
        wake: &Wake,
        wait: Option<Duration>,
        failed: bool,
        after: Duration,
    ) -> bool {
        let cancel = CancellationToken::new();
        tokio::time::timeout(after, pause(wake, wait, failed, &cancel))
            .await
            .is_err()
    }

    const BRIEF: Duration = Duration::from_millis(50);
    const LONG: Option<Duration> = Some(Duration::from_secs(600));

    #[tokio::test]
    async fn new_records_do_not_cut_a_failed_cycles_backoff_short() {
        let wake = Wake::new();
        wake.data.notify_one();
        assert!(
            waiting_after(&wake, LONG, true, BRIEF).await,
            "new records woke a drain in its failure backoff"
        );
        // An explicit wake (the drain was changed) does cut it short.
        wake.notify.notify_one();
        assert!(!waiting_after(&wake, LONG, true, Duration::from_secs(30)).await);
        // And the backoff ends by itself.
        let short = Some(Duration::from_millis(1));
        assert!(!waiting_after(&wake, short, true, Duration::from_secs(30)).await);
    }

    #[tokio::test]
    async fn new_records_wake_a_caught_up_or_settling_drain() {
        let wake = Wake::new();
        wake.data.notify_one();
        assert!(!waiting_after(&wake, None, false, Duration::from_secs(30)).await);
        wake.data.notify_one();
        assert!(!waiting_after(&wake, LONG, false, Duration::from_secs(30)).await);
        // Without anything new, a caught-up drain waits.
        assert!(waiting_after(&wake, None, false, BRIEF).await);
    }
}

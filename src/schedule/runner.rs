//! The runner: [`Schedules::run_due`] queues the periods that came due (catching up after
//! downtime) and delivers the runs whose export has ended. `serve` calls it every
//! `[schedules] poll_seconds`; tests call it with the instant they want (no sleeps).
//!
//! Work is keyed on **periods**, not run instants: a schedule keeps `covered_until`, the end of
//! the last period it queued or skipped, and at `now` every whole period from there to the
//! one its latest run time (≤ `now`) covers is due. A run date whose wall-clock time does not
//! exist (a zone skipped the day) therefore still gets its period, from the next run.
//! Each period is claimed by inserting its run row under a unique key (see `repo`), so
//! concurrent nodes and restarts run it exactly once; moving `covered_until` only saves work.

use super::model::{Schedule, ScheduleRun, Trigger};
use super::repo::{self, DeliveryOutcome};
use super::service::{ScheduleError, Schedules};
use crate::audit::{self, Actor};
use crate::domain::calendar::{Cadence, buckets};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Most run instants walked in one pass over a schedule's downtime (a daily schedule down
/// for 27 years); a longer gap is walked over several passes.
const MAX_STEPS: usize = 10_000;

/// What one [`Schedules::run_due`] pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunDue {
    /// Periods queued as exports.
    pub queued: usize,
    /// Periods recorded as SKIPPED (beyond `max_catch_up`).
    pub skipped: usize,
    /// Runs delivered to every target.
    pub delivered: usize,
    /// Runs that failed (export or delivery).
    pub failed: usize,
}

impl Schedules {
    /// Queues every due period of every active schedule and delivers finished runs, as of
    /// `now`.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<RunDue, ScheduleError> {
        let mut done = RunDue::default();
        for s in repo::due(&self.store, now).await? {
            if let Err(e) = self.run_schedule(&s, now, &mut done).await {
                tracing::error!(schedule_id = %s.id, error = %e, "schedule pass failed");
            }
        }
        self.deliver_due(now, &mut done).await?;
        Ok(done)
    }

    async fn run_schedule(
        &self,
        s: &Schedule,
        now: DateTime<Utc>,
        done: &mut RunDue,
    ) -> Result<(), ScheduleError> {
        let Some(org) = self.store.get_org(&s.org_id).await? else {
            return Ok(());
        };
        let Some(first) = s.next_run_at else {
            return Ok(());
        };
        let cadence = s.cadence.cadence(org.billing_anchor_day);
        let latest = latest_run(&cadence, first, now);
        let target = cadence.period_of_run(latest).end;
        let periods: Vec<_> = if target > s.covered_until {
            buckets(cadence.tz, cadence.granularity(), s.covered_until, target).collect()
        } else {
            Vec::new()
        };
        // The newest `max_catch_up` periods run, oldest first; older ones are skipped.
        let keep = self.config.max_catch_up as usize;
        let skip = periods.len().saturating_sub(keep);
        let reason = format!(
            "{} periods were due at once (Outflow was down or the schedule could not run); \
             only the newest {keep} ([schedules] max_catch_up) are caught up",
            periods.len()
        );
        for (i, p) in periods.iter().enumerate() {
            if i < skip {
                let run_id = repo::new_run_id();
                let run = repo::NewRun {
                    id: &run_id,
                    schedule: s,
                    start: p.start,
                    end: p.end,
                    trigger: Trigger::Schedule,
                    export_id: None,
                    skipped_reason: Some(&reason),
                    error: None,
                    now,
                };
                if repo::insert_run(&self.store, &run).await? {
                    done.skipped += 1;
                }
            } else if self.queue_run(s, &org, p, Trigger::Schedule, now).await? {
                done.queued += 1;
            }
        }
        let next = cadence.next_run_after(latest);
        repo::advance(
            &self.store,
            &s.id,
            s.covered_until,
            target.max(s.covered_until),
            next,
        )
        .await?;
        Ok(())
    }

    /// Claims the runs whose export has ended and whose delivery is due, and delivers them.
    async fn deliver_due(
        &self,
        now: DateTime<Utc>,
        done: &mut RunDue,
    ) -> Result<(), ScheduleError> {
        loop {
            let until = now + ChronoDuration::seconds(self.config.lease_seconds.max(1) as i64);
            let ids = repo::claim_deliveries(&self.store, &self.node, now, until, 20).await?;
            if ids.is_empty() {
                return Ok(());
            }
            for id in ids {
                let Some(run) = repo::get_run(&self.store, &id).await? else {
                    continue;
                };
                match self.finish_run(&run, now).await {
                    Ok(true) => done.delivered += 1,
                    Ok(false) => done.failed += 1,
                    Err(e) => tracing::error!(run_id = %id, error = %e, "schedule delivery failed"),
                }
            }
        }
    }

    /// Delivers one claimed run, or records its failure; true when delivered everywhere. A
    /// delivery that fails is retried later with the drains' backoff, up to
    /// `[schedules] delivery_attempts` passes.
    async fn finish_run(
        &self,
        run: &ScheduleRun,
        now: DateTime<Utc>,
    ) -> Result<bool, ScheduleError> {
        let Ok(s) = self.get(&run.org_id, &run.schedule_id).await else {
            // Deleted meanwhile: nothing to deliver to.
            let outcome = DeliveryOutcome {
                done: false,
                delivered: &run.delivered,
                attempted: false,
                error: Some("the schedule was deleted"),
                retry_at: None,
            };
            repo::record_delivery(&self.store, &self.node, run, &outcome, now).await?;
            return Ok(false);
        };
        if run.export_state.as_deref() != Some("COMPLETED") {
            let reason = match (&run.export_error, &run.export_state) {
                (Some(e), _) => e.clone(),
                (None, Some(state)) => format!("the export ended {state}"),
                (None, None) => "the export is missing".into(),
            };
            let outcome = DeliveryOutcome {
                done: false,
                delivered: &run.delivered,
                attempted: false,
                error: Some(&reason),
                retry_at: None,
            };
            if repo::record_delivery(&self.store, &self.node, run, &outcome, now).await? {
                self.run_failed(&s, run, &reason, now).await?;
            }
            return Ok(false);
        }
        let (delivered, error) = self.deliver(&s, run).await;
        let attempts = run.delivery_attempts + 1;
        let retry_at = match &error {
            Some(_) if attempts < i64::from(self.config.delivery_attempts) => {
                let wait = crate::drain::engine::backoff(
                    attempts as u32,
                    Duration::from_secs(60),
                    None,
                    Duration::from_secs(3600),
                );
                Some(now + ChronoDuration::from_std(wait).unwrap_or_default())
            }
            _ => None,
        };
        let outcome = DeliveryOutcome {
            done: error.is_none(),
            delivered: &delivered,
            attempted: true,
            error: error.as_deref(),
            retry_at,
        };
        if !repo::record_delivery(&self.store, &self.node, run, &outcome, now).await? {
            return Ok(false);
        }
        match (error, retry_at) {
            (None, _) => {
                repo::reset_failures(&self.store, &s.id).await?;
                Ok(true)
            }
            (Some(e), None) => {
                self.run_failed(&s, run, &format!("delivery failed: {e}"), now)
                    .await?;
                Ok(false)
            }
            (Some(e), Some(at)) => {
                tracing::warn!(schedule_id = %s.id, run_id = %run.id, error = %e, retry_at = %at, "scheduled delivery failed; will retry");
                Ok(false)
            }
        }
    }

    /// Records a failed run: its audit record, one more failure in a row, and at
    /// `[schedules] max_failed_runs` in a row the schedule goes to `error` and the admins get
    /// an email.
    pub(super) async fn run_failed(
        &self,
        s: &Schedule,
        run: &ScheduleRun,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        tracing::warn!(schedule_id = %s.id, run_id = %run.id, error = reason, "scheduled run failed");
        let record = audit::event(
            &s.org_id,
            audit::events::SCHEDULE_RUN_FAILED,
            &Actor::system(),
            Some(&s.id),
            serde_json::json!({
                "schedule_id": s.id,
                "run_id": run.id,
                "export_id": run.export_id,
                "period_start": run.period_start,
                "period_end": run.period_end,
                "error": reason,
            }),
        );
        self.store.insert_records(&record).await?;
        let failed = repo::count_failure(&self.store, &s.id).await?;
        if failed < i64::from(self.config.max_failed_runs.max(1)) {
            return Ok(());
        }
        let why = format!("{failed} runs failed in a row; the last: {reason}");
        let record = self.audit(
            s,
            audit::events::SCHEDULE_UPDATED,
            &Actor::system(),
            "error",
        );
        let event = crate::notifications::Event::new(
            &s.org_id,
            crate::notifications::EventType::ScheduleFailed,
            &s.id,
            serde_json::json!({
                "schedule_id": s.id,
                "name": s.name,
                "failed_runs": failed,
                "last_run_id": run.id,
                "reason": why,
            }),
        );
        // The event is stored with the state change and its audit record: all or nothing.
        let outbox = crate::notifications::outbox_statement(&self.store, &event).await?;
        let notify = outbox.is_some();
        if repo::set_error(&self.store, &s.id, &why, now, &record, outbox).await? {
            if notify {
                crate::notifications::wake();
            }
            self.mail_error(s, &why).await;
        }
        Ok(())
    }

    /// Runs [`Schedules::run_due`] every `[schedules] poll_seconds` until `shutdown`.
    pub fn spawn(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(me.config.poll_seconds.max(1));
            loop {
                if let Err(e) = me.run_due(Utc::now()).await {
                    tracing::error!(error = %e, "schedule runner pass failed");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        })
    }
}

/// The latest run instant at or before `now`, walking from `first` (itself ≤ `now`).
fn latest_run(cadence: &Cadence, first: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let mut latest = first;
    for _ in 0..MAX_STEPS {
        match cadence.next_run_after(latest) {
            Some(next) if next <= now => latest = next,
            _ => break,
        }
    }
    latest
}

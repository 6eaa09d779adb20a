//! [`Schedules`]: the one way in for every surface (API, admin pages): create, read, change,
//! pause, resume and delete schedules, run one now, read its runs. The runner
//! (`runner.rs`) and the delivery (`deliver.rs`) are further `impl Schedules` blocks.

use super::model::{Schedule, ScheduleRun, ScheduleState, Trigger};
use super::repo::{self, NewRun};
use super::request::{self, ScheduleBody, ValidSchedule, ValidateError};
use crate::audit::{self, Actor};
use crate::config::{DrainsConfig, SchedulesConfig};
use crate::domain::calendar::Period;
use crate::domain::entity::Org;
use crate::drain::secrets::SecretBox;
use crate::export::Exports;
use crate::export::request::CheckError;
use crate::export::spec::{self, ExportSpec, InputError};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Everything schedules need, shared by handlers, pages and the runner.
#[derive(Clone)]
pub struct Schedules {
    /// Storage.
    pub store: Store,
    /// The export service the runs queue their jobs on.
    pub exports: Exports,
    pub(super) secrets: SecretBox,
    pub(super) config: Arc<SchedulesConfig>,
    pub(super) drains: Arc<DrainsConfig>,
    pub(super) node: Arc<String>,
}

/// Why a schedule operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// A parameter is wrong (the message names it and the allowed values).
    #[error(transparent)]
    Input(#[from] InputError),
    /// No such schedule (or organization) for the caller.
    #[error("{0}")]
    NotFound(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ValidateError> for ScheduleError {
    fn from(e: ValidateError) -> Self {
        match e {
            ValidateError::Input(i) => ScheduleError::Input(i),
            ValidateError::Store(s) => ScheduleError::Store(s),
        }
    }
}

/// A run asked for with `POST …/run`: the run of the most recent complete period, and
/// whether this call created it.
#[derive(Debug)]
pub struct RunNow {
    /// The run.
    pub run: ScheduleRun,
    /// False: the period had already run; this is that run.
    pub created: bool,
}

fn not_found(id: &str) -> ScheduleError {
    ScheduleError::NotFound(format!("export schedule `{id}` not found"))
}

impl Schedules {
    /// The service over its parts.
    pub fn new(
        store: Store,
        exports: Exports,
        secrets: SecretBox,
        config: SchedulesConfig,
        drains: DrainsConfig,
    ) -> Self {
        let node = exports.node().to_string();
        Schedules {
            store,
            exports,
            secrets,
            config: Arc::new(config),
            drains: Arc::new(drains),
            node: Arc::new(node),
        }
    }

    async fn org(&self, org: &str) -> Result<Org, ScheduleError> {
        self.store
            .get_org(org)
            .await?
            .ok_or_else(|| ScheduleError::NotFound(format!("organization `{org}` not found")))
    }

    /// Validates and stores a new schedule of `org`; its first run is the first run time
    /// after `now`.
    pub async fn create(
        &self,
        org: &str,
        body: ScheduleBody,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Schedule, ScheduleError> {
        let org = self.org(org).await?;
        let valid = request::validate(&self.exports, &self.store, &org, body, None).await?;
        let (next_run_at, covered_until) = start_point(&valid, &org, now);
        let s = Schedule {
            id: repo::new_id(),
            org_id: org.id.clone(),
            name: valid.name,
            export: valid.export,
            cadence: valid.cadence,
            deliver: valid.deliver,
            state: ScheduleState::Active,
            state_reason: None,
            failed_runs: 0,
            next_run_at,
            covered_until,
            created_by: actor.user_id.clone(),
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit(&s, audit::events::SCHEDULE_CREATED, actor, "created");
        repo::insert(&self.store, &s, &audit).await?;
        Ok(s)
    }

    /// One schedule of `org`.
    pub async fn get(&self, org: &str, id: &str) -> Result<Schedule, ScheduleError> {
        repo::get(&self.store, org, id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// The organization's schedules, newest first.
    pub async fn list(&self, org: &str) -> Result<Vec<Schedule>, ScheduleError> {
        Ok(repo::list(&self.store, org).await?)
    }

    /// Changes a schedule: what the body gives replaces the stored part. A changed cadence
    /// starts afresh from `now` (no catch-up of periods of the old cadence).
    pub async fn update(
        &self,
        org: &str,
        id: &str,
        body: ScheduleBody,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Schedule, ScheduleError> {
        let mut s = self.get(org, id).await?;
        let org = self.org(org).await?;
        let base = ValidSchedule {
            name: s.name.clone(),
            export: s.export.clone(),
            cadence: s.cadence.clone(),
            deliver: s.deliver.clone(),
        };
        let valid = request::validate(&self.exports, &self.store, &org, body, Some(base)).await?;
        if valid.cadence != s.cadence {
            (s.next_run_at, s.covered_until) = start_point(&valid, &org, now);
        }
        s.name = valid.name;
        s.export = valid.export;
        s.cadence = valid.cadence;
        s.deliver = valid.deliver;
        s.updated_at = now;
        let audit = self.audit(&s, audit::events::SCHEDULE_UPDATED, actor, "updated");
        repo::update(&self.store, &s, &audit).await?;
        Ok(s)
    }

    /// Deletes a schedule and its run history (the exports it made stay in the history).
    pub async fn delete(&self, org: &str, id: &str, actor: &Actor) -> Result<(), ScheduleError> {
        let s = self.get(org, id).await?;
        let audit = self.audit(&s, audit::events::SCHEDULE_DELETED, actor, "deleted");
        if !repo::delete(&self.store, org, id, &audit).await? {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Pauses (`false`) or resumes (`true`) a schedule. Resuming an `error` or paused schedule
    /// clears its failures and runs from the next run time after `now`: periods passed while
    /// it was stopped are not caught up (`POST …/run` runs the latest one on demand).
    pub async fn set_active(
        &self,
        org: &str,
        id: &str,
        active: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Schedule, ScheduleError> {
        let s = self.get(org, id).await?;
        let (state, what) = if active {
            (ScheduleState::Active, "resumed")
        } else {
            (ScheduleState::Paused, "paused")
        };
        let restart = if active && s.state != ScheduleState::Active {
            let o = self.org(org).await?;
            let valid = ValidSchedule {
                name: s.name.clone(),
                export: s.export.clone(),
                cadence: s.cadence.clone(),
                deliver: s.deliver.clone(),
            };
            Some(start_point(&valid, &o, now))
        } else {
            None
        };
        let audit = self.audit(&s, audit::events::SCHEDULE_UPDATED, actor, what);
        repo::set_state(&self.store, org, id, state, None, restart, now, &audit).await?;
        self.get(org, id).await
    }

    /// Runs the most recent complete period now; a period that already ran answers that run.
    pub async fn run_now(
        &self,
        org: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<RunNow, ScheduleError> {
        let s = self.get(org, id).await?;
        let o = self.org(org).await?;
        let period = s.cadence.cadence(o.billing_anchor_day).period_of_run(now);
        let created = self
            .queue_run(&s, &o, &period, Trigger::Manual, now)
            .await?;
        let run = repo::run_of_period(&self.store, &s.id, period.start)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("run of {} vanished", s.id)))?;
        Ok(RunNow { run, created })
    }

    /// A schedule's runs, newest period first (at most `limit`).
    pub async fn runs(
        &self,
        org: &str,
        id: &str,
        limit: u32,
    ) -> Result<Vec<ScheduleRun>, ScheduleError> {
        self.get(org, id).await?;
        Ok(repo::runs(&self.store, org, id, i64::from(limit)).await?)
    }

    /// The latest run of a schedule, if any (the Schedules tab shows it).
    pub async fn last_run(&self, s: &Schedule) -> Result<Option<ScheduleRun>, ScheduleError> {
        Ok(repo::runs(&self.store, &s.org_id, &s.id, 1)
            .await?
            .into_iter()
            .next())
    }

    /// The export job of a run (for its download link).
    pub async fn export_of(
        &self,
        run: &ScheduleRun,
    ) -> Result<Option<crate::export::ExportJob>, ScheduleError> {
        match &run.export_id {
            Some(id) => Ok(self.exports.get(&run.org_id, id).await?),
            None => Ok(None),
        }
    }

    /// Claims `period` for `s` and queues its export in one transaction; false when the period
    /// already has a run. A request the organization no longer allows (a team was deleted)
    /// still claims the period, as a failed run with the reason.
    pub(super) async fn queue_run(
        &self,
        s: &Schedule,
        org: &Org,
        period: &Period,
        trigger: Trigger,
        now: DateTime<Utc>,
    ) -> Result<bool, ScheduleError> {
        let run_id = repo::new_run_id();
        let mut run = NewRun {
            id: &run_id,
            schedule: s,
            start: period.start,
            end: period.end,
            trigger,
            export_id: None,
            skipped_reason: None,
            error: None,
            now,
        };
        let spec = match self.period_spec(s, org, period).await? {
            Ok(spec) => spec,
            Err(reason) => {
                run.error = Some(&reason);
                if repo::insert_run(&self.store, &run).await? {
                    let failed = repo::get_run(&self.store, &run_id).await?;
                    if let Some(failed) = failed {
                        self.run_failed(s, &failed, &reason, now).await?;
                    }
                    return Ok(true);
                }
                return Ok(false);
            }
        };
        let export_id = crate::export::jobs::new_id();
        run.export_id = Some(&export_id);
        let fence = repo::claim_statement(&run);
        let requested_by = format!("schedule:{}", s.id);
        let queued = self
            .exports
            .queue_fenced(&spec, &export_id, &requested_by, fence, &Actor::system())
            .await?;
        if queued {
            tracing::info!(schedule_id = %s.id, export_id, period_start = %period.start, "scheduled export queued");
        }
        Ok(queued)
    }

    /// The export of `s` over `period`: the stored template checked against the organization
    /// as it is now, with the period as its exact range. `Err` holds why it cannot run.
    async fn period_spec(
        &self,
        s: &Schedule,
        org: &Org,
        period: &Period,
    ) -> Result<Result<ExportSpec, String>, StoreError> {
        let input = request::export_input(&s.export, &s.cadence.timezone);
        match self.exports.check(org, &input, spec::NATIVE).await {
            Ok(checked) => {
                let mut spec = checked.spec;
                spec.start = period.start;
                spec.end = period.end;
                spec.preset = None;
                spec.timezone = s.cadence.timezone.clone();
                Ok(Ok(spec))
            }
            Err(CheckError::Input(e)) => Ok(Err(format!("export.{}: {}", e.param, e.message))),
            Err(CheckError::Store(e)) => Err(e),
        }
    }

    pub(super) fn audit(
        &self,
        s: &Schedule,
        event: &str,
        actor: &Actor,
        what: &str,
    ) -> crate::store::RecordBatch {
        audit::event(
            &s.org_id,
            event,
            actor,
            Some(&s.id),
            serde_json::json!({
                "schedule_id": s.id,
                "name": s.name,
                "change": what,
                "cadence": s.cadence,
            }),
        )
    }
}

/// Where a schedule (new, re-timed or resumed at `now`) starts: its next run time, and the
/// start of the period that run covers (nothing before it is due).
fn start_point(
    v: &ValidSchedule,
    org: &Org,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, DateTime<Utc>) {
    let cadence = v.cadence.cadence(org.billing_anchor_day);
    let next = cadence.next_run_after(now);
    let covered = next.map_or(now, |r| cadence.period_of_run(r).start);
    (next, covered)
}

//! The export service of one process, the only way in for every surface: requests (checked,
//! then queued) and the reads of jobs; workers that claim jobs with leases, heartbeat while
//! they run and finish them (file, state, email, audit); and the sweep of expired files.
//! Several processes on one PostgreSQL share the queue (see `jobs`).

use super::files::{Files, export_key};
use super::jobs::{self, CancelOutcome, ExportJob, Finished, JobState, ListFilter};
use super::pipeline::{self, Control, ExportError, Outcome};
use super::request::{self, CheckError, Checked, RequestError};
use super::spec::{ExportInput, ExportSpec, ParamNames};
use crate::audit::{self, Actor};
use crate::config::ExportsConfig;
use crate::domain::entity::Org;
use crate::mail::{Mailer, templates};
use crate::privacy::PrivacyPolicy;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use object_store::ObjectStoreExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Everything exports need, shared by the HTTP handlers and the workers.
#[derive(Clone)]
pub struct Exports {
    /// Storage.
    pub store: Store,
    /// Export files.
    pub files: Files,
    /// Outgoing mail.
    pub mailer: Mailer,
    config: Arc<ExportsConfig>,
    wake: Arc<Notify>,
    node: Arc<String>,
    /// The controls of the jobs this process is running, so a cancel reaching this process
    /// stops its job at once instead of at the next heartbeat.
    running: Arc<Mutex<HashMap<String, Arc<Control>>>>,
}

/// Removes a job from `Exports::running` when its run ends, however it ends.
struct Running<'a>(&'a Exports, String);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.0.running.lock() {
            map.remove(&self.1);
        }
    }
}

impl Exports {
    /// The service over its parts.
    pub fn new(store: Store, files: Files, mailer: Mailer, config: ExportsConfig) -> Self {
        Exports {
            store,
            files,
            mailer,
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
            node: Arc::new(format!("node-{}", uuid::Uuid::new_v4().simple())),
            running: Arc::default(),
        }
    }

    /// This process's identity as a lease owner.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Requests an export of `org`: looks up what validation needs, validates, and queues the
    /// job — the one way every surface (API, reference API, admin wizard) asks for one. The
    /// job is requested by the member the request names (`user_id`, who then gets the mail),
    /// else by the actor, and then `fallback_email` (if any) gets the mail.
    pub async fn request(
        &self,
        org: &Org,
        input: &ExportInput,
        names: ParamNames,
        fallback_email: Option<&str>,
        actor: &Actor,
    ) -> Result<ExportJob, RequestError> {
        let Checked {
            spec,
            requester_email,
        } = self.check(org, input, names).await?;
        let requested_by = input.user_id.as_deref().unwrap_or(&actor.user_id);
        let email = requester_email.as_deref().or(fallback_email);
        self.create(spec, requested_by, email, actor)
            .await
            .map_err(RequestError::Queue)
    }

    /// Validates a request for `org` without queueing it (the wizard checks one step with it).
    pub async fn check(
        &self,
        org: &Org,
        input: &ExportInput,
        names: ParamNames,
    ) -> Result<Checked, CheckError> {
        request::check(&self.store, org, input, names, Utc::now()).await
    }

    /// One job of `org` (`None`: no such job in that organization).
    pub async fn get(&self, org: &str, id: &str) -> Result<Option<ExportJob>, StoreError> {
        jobs::get(&self.store, org, id).await
    }

    /// A page of `org`'s export history, newest first, and the total number of jobs.
    pub async fn list(
        &self,
        org: &str,
        page: u32,
        page_size: u32,
    ) -> Result<(Vec<ExportJob>, i64), StoreError> {
        jobs::list(&self.store, org, page, page_size).await
    }

    /// As [`Exports::list`], narrowed by `filter` (the admin pages' search of the history);
    /// the total counts the matching jobs.
    pub async fn list_filtered(
        &self,
        org: &str,
        filter: &ListFilter,
        page: u32,
        page_size: u32,
    ) -> Result<(Vec<ExportJob>, i64), StoreError> {
        jobs::list_filtered(&self.store, org, filter, page, page_size).await
    }

    /// Writes the `export_downloaded` audit record of a download of job `id` (a failure is
    /// logged, not answered: the file is already on its way).
    pub async fn record_download(&self, org: &str, id: &str, actor: &Actor) {
        let audit = audit::event(
            org,
            audit::events::EXPORT_DOWNLOADED,
            actor,
            Some(id),
            serde_json::json!({"export_id": id}),
        );
        if let Err(e) = self.store.insert_records(&audit).await {
            tracing::warn!(error = %e, "export_downloaded audit record not written");
        }
    }

    /// Queues an export (with its `export_created` audit record) and wakes a local worker.
    /// Private: surfaces go through [`Exports::request`], so none queues an unchecked spec.
    async fn create(
        &self,
        spec: ExportSpec,
        requested_by: &str,
        requester_email: Option<&str>,
        actor: &Actor,
    ) -> anyhow::Result<ExportJob> {
        let id = jobs::new_id();
        let audit = audit::event(
            &spec.org_id,
            audit::events::EXPORT_CREATED,
            actor,
            Some(&id),
            serde_json::json!({
                "export_id": id,
                "data_type": spec.data_type,
                "start": spec.start,
                "end": spec.end,
                "fields": spec.fields,
                "format": spec.format,
            }),
        );
        jobs::insert(
            &self.store,
            &id,
            requested_by,
            requester_email,
            &spec,
            Utc::now(),
            &audit,
        )
        .await?;
        self.wake.notify_one();
        jobs::get(&self.store, &spec.org_id, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("export {id} vanished after insert"))
    }

    /// Queues a checked `spec` as job `id` in one transaction with `fence`, only if `fence`
    /// changes a row (a scheduled run claims its period with it, so the claim and the job
    /// exist together or not at all); false when the fence changed nothing. The job's
    /// `export_created` audit record follows the commit. No requester email: the caller
    /// tells its own recipients when the job ends.
    pub async fn queue_fenced(
        &self,
        spec: &ExportSpec,
        id: &str,
        requested_by: &str,
        fence: (String, Vec<crate::store::Value>),
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let job = jobs::insert_statement(id, requested_by, None, spec, Utc::now())?;
        if !self.store.execute_fenced(&[fence, job]).await? {
            return Ok(false);
        }
        self.wake.notify_one();
        let audit = audit::event(
            &spec.org_id,
            audit::events::EXPORT_CREATED,
            actor,
            Some(id),
            serde_json::json!({
                "export_id": id,
                "data_type": spec.data_type,
                "start": spec.start,
                "end": spec.end,
                "fields": spec.fields,
                "format": spec.format,
            }),
        );
        if let Err(e) = self.store.insert_records(&audit).await {
            tracing::warn!(export_id = id, error = %e, "export_created audit record not written");
        }
        Ok(true)
    }

    /// Cancels a job of `org` (`None`: no such job). A running job is stopped at once when
    /// this process runs it, else at its worker's next heartbeat; this waits (a few seconds
    /// at most) for it to end, so the answer is usually the final `CANCELLED`. A
    /// `Requested` answer still guarantees that end: completion is refused from now on.
    pub async fn cancel(&self, org: &str, id: &str) -> anyhow::Result<Option<CancelOutcome>> {
        let outcome = jobs::request_cancel(&self.store, org, id, Utc::now()).await?;
        let Some(CancelOutcome::Requested(job)) = outcome else {
            return Ok(outcome);
        };
        if let Some(control) = self.running.lock().ok().and_then(|m| m.get(id).cloned()) {
            control.cancel.store(true, Ordering::Relaxed);
        }
        let every = heartbeat_every(self.config.lease_seconds);
        let deadline = tokio::time::Instant::now() + every * 2 + Duration::from_secs(1);
        let mut latest = job;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            match jobs::get(&self.store, org, id).await? {
                // After a cancel request the only end is CANCELLED (see `jobs::complete`).
                Some(job) if job.state.is_final() => {
                    return Ok(Some(CancelOutcome::Cancelled(job)));
                }
                Some(job) => latest = job,
                None => return Ok(None),
            }
        }
        Ok(Some(CancelOutcome::Requested(latest)))
    }

    /// Deletes whatever a job that ends without a file may have left in storage: the file,
    /// and the pieces of uploads killed mid-way.
    async fn discard(&self, key: &str) {
        if let Err(e) = self.files.delete(key).await {
            tracing::warn!(key, error = %e, "export file not deleted");
        }
        self.remove_pieces(key).await;
    }

    /// Removes the pieces dead attempts left of `key` (see `Files::remove_pieces`).
    async fn remove_pieces(&self, key: &str) {
        match self.files.remove_pieces(key).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(key, pieces = n, "removed a dead attempt's upload pieces"),
            Err(e) => tracing::warn!(key, error = %e, "dead attempt's upload pieces not removed"),
        }
    }

    /// A signed download URL for a completed job, valid for the configured time.
    pub fn download_url(&self, job: &ExportJob) -> Option<String> {
        if job.state != JobState::Completed {
            return None;
        }
        let key = job.file_key.as_deref()?;
        let ttl = ChronoDuration::seconds(self.config.signed_url_ttl_seconds as i64);
        let mut expires = Utc::now() + ttl;
        if let Some(end) = job.expires_at {
            expires = expires.min(end);
        }
        Some(self.files.signed_url(key, expires))
    }

    /// Starts the configured number of workers and the retention sweeper; they stop when
    /// `shutdown` is cancelled (a running export is abandoned and later resumed elsewhere).
    pub fn spawn(&self, shutdown: CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        let mut handles = Vec::new();
        for _ in 0..self.config.workers {
            let me = self.clone();
            let stop = shutdown.clone();
            handles.push(tokio::spawn(async move { me.work(stop).await }));
        }
        let me = self.clone();
        handles.push(tokio::spawn(async move { me.sweep_loop(shutdown).await }));
        handles
    }

    async fn work(&self, shutdown: CancellationToken) {
        let idle = Duration::from_secs(self.config.poll_seconds.max(1));
        loop {
            let ran = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = self.run_next() => r,
            };
            match ran {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::error!(error = %format!("{e:#}"), "export worker failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    async fn sweep_loop(&self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.sweep(Utc::now()).await {
                tracing::error!(error = %format!("{e:#}"), "export sweep failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
        }
    }

    /// Deletes files past retention (jobs become `EXPIRED`) and fails jobs whose workers
    /// died too often. Returns how many jobs it changed.
    pub async fn sweep(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut changed = 0;
        for job in jobs::due_for_expiry(&self.store, now).await? {
            if let Some(key) = &job.file_key {
                self.files.delete(key).await?;
            }
            jobs::mark_expired(&self.store, &job.id).await?;
            changed += 1;
        }
        changed += self.expire_reports(now).await?;
        for job in jobs::fail_abandoned(&self.store, now, self.config.max_attempts).await? {
            // Its dead attempts may have left a file or pieces of one.
            self.discard(&file_of(&job).0).await;
            if job.state == JobState::Failed {
                self.after_failure(&job, job.error.as_deref().unwrap_or("interrupted"))
                    .await;
            }
            changed += 1;
        }
        Ok(changed)
    }

    /// Deletes usage-report files older than the retention period.
    async fn expire_reports(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        use futures::TryStreamExt;
        let cutoff = now - ChronoDuration::days(i64::from(self.config.retention_days));
        let prefix = self.files.path("reports");
        let old: Vec<_> = self
            .files
            .store()
            .list(Some(&prefix))
            .try_filter(|meta| std::future::ready(meta.last_modified < cutoff))
            .try_collect()
            .await?;
        for meta in &old {
            match self.files.store().delete(&meta.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(old.len())
    }

    /// Claims and runs one job; `None` when the queue is empty. Tests drive workers with it.
    pub async fn run_next(&self) -> anyhow::Result<Option<JobState>> {
        let now = Utc::now();
        let lease = ChronoDuration::seconds(self.config.lease_seconds.max(1) as i64);
        let Some(job) = jobs::claim(
            &self.store,
            &self.node,
            now,
            now + lease,
            self.config.max_attempts,
        )
        .await?
        else {
            return Ok(None);
        };
        tracing::info!(export_id = %job.id, org_id = %job.org_id, attempt = job.attempts, "export started");
        // Its own task, so a bug that panics fails this job instead of killing the worker.
        let (id, me) = (job.id.clone(), self.clone());
        match tokio::spawn(async move { me.execute(job).await }).await {
            Ok(state) => Ok(Some(state?)),
            Err(e) => {
                tracing::error!(export_id = %id, error = %e, "export task panicked");
                let reason = "internal error while writing the export";
                let ended = jobs::finish_unsuccessfully(
                    &self.store,
                    &id,
                    &self.node,
                    JobState::Failed,
                    Some(reason),
                    0,
                    Utc::now(),
                )
                .await?;
                Ok(Some(ended.unwrap_or(JobState::InProgress)))
            }
        }
    }

    async fn execute(&self, job: ExportJob) -> anyhow::Result<JobState> {
        let (key, file_name) = file_of(&job);
        if job.attempts > 1 {
            // Taken over from a worker that died mid-upload: its pieces would stay forever
            // next to the file (this attempt's own upload gets a fresh piece name).
            self.remove_pieces(&key).await;
        }
        let control = Arc::new(Control::default());
        if let Ok(mut map) = self.running.lock() {
            map.insert(job.id.clone(), control.clone());
        }
        let _running = Running(self, job.id.clone());
        let lease_lost = Arc::new(AtomicBool::new(false));
        let heartbeat = self.heartbeat(&job.id, control.clone(), lease_lost.clone());

        let policy = PrivacyPolicy::load(&self.store, &job.org_id).await;
        let result = match policy {
            Ok(policy) => self.write_file(&job, policy, &key, control.clone()).await,
            Err(e) => {
                // A store error is not the export's fault: the job stays leased and is
                // taken over, as before the steps were split.
                heartbeat.abort();
                return Err(e.into());
            }
        };
        heartbeat.abort();
        let now = Utc::now();
        if lease_lost.load(Ordering::Relaxed) {
            tracing::warn!(export_id = %job.id, "lease lost; another worker owns this export now");
            return Ok(JobState::InProgress);
        }
        let rows = control.rows.load(Ordering::Relaxed);
        match result {
            Ok(outcome) => self.finish(&job, outcome, &key, &file_name, now).await,
            Err(e) => self.finish_unsuccessfully(&job, e, rows, &key, now).await,
        }
    }

    /// Writes the export's file to `key`: the pipeline into an upload that is completed on
    /// success and aborted on failure, so no half-written upload stays behind.
    async fn write_file(
        &self,
        job: &ExportJob,
        policy: Option<PrivacyPolicy>,
        key: &str,
        control: Arc<Control>,
    ) -> anyhow::Result<Outcome> {
        let spec = &job.spec;
        match policy {
            // Cancelled while its previous worker was dead: nothing to write.
            _ if job.cancel_requested => Err(ExportError::Cancelled.into()),
            None => Err(anyhow::anyhow!(
                "organization {} no longer exists",
                job.org_id
            )),
            Some(policy) => {
                let mut out = self.files.writer(key);
                match pipeline::run(
                    &self.store,
                    spec,
                    &policy,
                    &mut out,
                    control.clone(),
                    self.config.read_streams as usize,
                )
                .await
                {
                    Ok(outcome) => match out.shutdown().await {
                        Ok(()) => Ok(outcome),
                        // A failed completion is final for this writer: no abort after it.
                        Err(e) => Err(anyhow::Error::from(ExportError::Io(e))),
                    },
                    Err(e) => {
                        // Leaves no half-written multipart upload behind.
                        let _ = out.abort().await;
                        Err(e.into())
                    }
                }
            }
        }
    }

    /// Records a written file as the job's result, unless a cancel or a successor got there
    /// first.
    async fn finish(
        &self,
        job: &ExportJob,
        outcome: Outcome,
        key: &str,
        file_name: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<JobState> {
        let expires_at = now + ChronoDuration::days(i64::from(self.config.retention_days));
        let finished = Finished {
            rows: outcome.rows,
            bytes: outcome.bytes,
            file_key: key,
            file_name,
            expires_at,
        };
        if !jobs::complete(&self.store, &job.id, &self.node, &finished, now).await? {
            // Refused: either a cancel came in after the last check (the job ends
            // CANCELLED and the finished file goes), or the lease is gone (the
            // successor writes the same key; leave it alone).
            let ended = jobs::finish_unsuccessfully(
                &self.store,
                &job.id,
                &self.node,
                JobState::Cancelled,
                None,
                outcome.rows,
                now,
            )
            .await?;
            if ended != Some(JobState::Cancelled) {
                return Ok(JobState::InProgress);
            }
            self.discard(key).await;
            tracing::info!(export_id = %job.id, "export cancelled as it finished");
            return Ok(JobState::Cancelled);
        }
        tracing::info!(export_id = %job.id, rows = outcome.rows, bytes = outcome.bytes, "export completed");
        if let Some(done) = jobs::get(&self.store, &job.org_id, &job.id).await? {
            self.notify_completed(&done).await;
        }
        Ok(JobState::Completed)
    }

    /// Ends the job CANCELLED or FAILED, removes what it wrote and tells the admins of a failure.
    async fn finish_unsuccessfully(
        &self,
        job: &ExportJob,
        e: anyhow::Error,
        rows: u64,
        key: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<JobState> {
        let (state, reason) = match e.downcast_ref() {
            Some(ExportError::Cancelled) => (JobState::Cancelled, None),
            _ => (JobState::Failed, Some(format!("{e:#}"))),
        };
        let ended = jobs::finish_unsuccessfully(
            &self.store,
            &job.id,
            &self.node,
            state,
            reason.as_deref(),
            rows,
            now,
        )
        .await?;
        let Some(ended) = ended else {
            return Ok(JobState::InProgress);
        };
        // The upload was aborted; a file completed before the error goes too.
        self.discard(key).await;
        match (ended, reason) {
            (JobState::Failed, Some(reason)) => {
                tracing::error!(export_id = %job.id, error = %reason, "export failed");
                self.after_failure(job, &reason).await;
            }
            _ => tracing::info!(export_id = %job.id, "export cancelled"),
        }
        Ok(ended)
    }

    /// Extends the lease a few times per lease period and records progress; sets
    /// `control.cancel` when a cancel is requested or the lease is lost.
    fn heartbeat(
        &self,
        id: &str,
        control: Arc<Control>,
        lease_lost: Arc<AtomicBool>,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let node = self.node.clone();
        let id = id.to_string();
        let lease = self.config.lease_seconds.max(1);
        let every = heartbeat_every(lease);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let until = Utc::now() + ChronoDuration::seconds(lease as i64);
                let rows = control.rows.load(Ordering::Relaxed);
                match jobs::heartbeat(&store, &id, &node, until, rows).await {
                    Ok(Some(false)) => {}
                    Ok(Some(true)) => control.cancel.store(true, Ordering::Relaxed),
                    Ok(None) => {
                        lease_lost.store(true, Ordering::Relaxed);
                        control.cancel.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(export_id = %id, error = %e, "export heartbeat failed")
                    }
                }
            }
        })
    }

    async fn org_name(&self, org: &str) -> String {
        match self.store.get_org(org).await {
            Ok(Some(o)) => o.name,
            _ => org.to_string(),
        }
    }

    async fn notify_completed(&self, job: &ExportJob) {
        let Some(to) = job.requester_email.clone() else {
            return;
        };
        let org = self.org_name(&job.org_id).await;
        // The emailed link lives as long as the file does.
        let url = match (&job.file_key, job.expires_at) {
            (Some(key), Some(until)) => self.files.signed_url(key, until),
            _ => String::new(),
        };
        let range = format!(
            "{} – {} ({})",
            job.spec
                .start
                .with_timezone(&job.spec.tz())
                .format("%Y-%m-%d %H:%M"),
            job.spec
                .end
                .with_timezone(&job.spec.tz())
                .format("%Y-%m-%d %H:%M"),
            job.spec.timezone
        );
        let expires = job.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        let email = templates::ExportCompleted {
            org_name: &org,
            export_id: &job.id,
            data_type: job.spec.data_type.as_str(),
            date_range: &range,
            rows: job.rows_written.max(0) as u64,
            size_bytes: job.size_bytes.unwrap_or_default().max(0) as u64,
            download_url: &url,
            expires_at: &expires,
        }
        .render()
        .to(vec![to]);
        if let Err(e) = self.mailer.send(&email).await {
            tracing::warn!(export_id = %job.id, error = %e, "completion email not sent");
        }
    }

    async fn after_failure(&self, job: &ExportJob, reason: &str) {
        let audit = audit::event(
            &job.org_id,
            audit::events::EXPORT_FAILED,
            &Actor::system(),
            Some(&job.id),
            serde_json::json!({"export_id": job.id, "error": reason}),
        );
        let event = crate::notifications::Event::new(
            &job.org_id,
            crate::notifications::EventType::ExportFailed,
            &job.id,
            serde_json::json!({
                "export_id": job.id,
                "data_type": job.spec.data_type.as_str(),
                "reason": reason,
            }),
        );
        // The notification event goes in with the audit record; the runner posts it later.
        if let Err(e) = crate::notifications::raise(&self.store, &event, &audit).await {
            tracing::warn!(export_id = %job.id, error = %e, "export_failed audit record not written");
        }
        let Some(to) = job.requester_email.clone() else {
            return;
        };
        let org = self.org_name(&job.org_id).await;
        let email = templates::ExportFailed {
            org_name: &org,
            export_id: &job.id,
            data_type: job.spec.data_type.as_str(),
            reason,
        }
        .render()
        .to(vec![to]);
        if let Err(e) = self.mailer.send(&email).await {
            tracing::warn!(export_id = %job.id, error = %e, "failure email not sent");
        }
    }
}

/// How often a running job's worker heartbeats: progress becomes visible at least every
/// second, and the lease is renewed well before it runs out.
fn heartbeat_every(lease_seconds: u64) -> Duration {
    Duration::from_millis((lease_seconds.max(1) * 1000 / 3).clamp(200, 1000))
}

/// A job's object key and download name: the same for every attempt, so a takeover
/// overwrites its predecessor's file and finds its pieces.
fn file_of(job: &ExportJob) -> (String, String) {
    let spec = &job.spec;
    let file_name = super::encode::file_name(
        &format!(
            "{}-{}-{}-{}",
            spec.data_type.as_str(),
            spec.start.with_timezone(&spec.tz()).format("%Y-%m-%d"),
            (spec.end - ChronoDuration::microseconds(1))
                .with_timezone(&spec.tz())
                .format("%Y-%m-%d"),
            &job.id[job.id.len().saturating_sub(8)..]
        ),
        &spec.encode_options(),
    );
    (export_key(&job.org_id, &job.id, &file_name), file_name)
}

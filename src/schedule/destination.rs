//! A run's destination, through the drains' destination code and encrypted secrets:
//!
//! - **s3**: the file goes to `{prefix}/{schedule_id}/{first_day}_{last_day}.{ext}` (local
//!   dates of the period; the export's extension, `.csv.gz` when gzipped), one whole object,
//!   overwritten by a retry, with `x-amz-meta-sha256` (and the schedule and export ids);
//! - **http**: a Standard Webhooks-signed JSON event `{schedule_id, period, export_id, rows,
//!   bytes, sha256, download_url}` whose `webhook-id` is `sched-{schedule_id}-{period start}`:
//!   the same on every retry and every re-delivery of that period, so a receiver can drop
//!   duplicates.
//!
//! The file is read whole into memory for its SHA-256 and the upload; scheduled exports are
//! period-sized (a month of one data type), not unbounded.

use super::model::{Schedule, ScheduleDestination, ScheduleRun};
use super::service::Schedules;
use crate::drain::dest::config::DEFAULT_MAX_BODY_BYTES;
use crate::drain::dest::{DestContext, DestinationConfig, SecretPayload, http, s3};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The object metadata holding the file's SHA-256 (`x-amz-meta-sha256`).
pub const SHA256_METADATA: &str = "sha256";

impl Schedules {
    /// Delivers `run`'s file to `dest`; the `delivered` entry (`s3:{key}`, `http`).
    pub(super) async fn deliver_destination(
        &self,
        s: &Schedule,
        run: &ScheduleRun,
        job: &crate::export::ExportJob,
        dest: &ScheduleDestination,
    ) -> Result<String, String> {
        let payload = self.secret(s, dest).await?;
        let ctx = DestContext {
            allow_private: self.drains.allow_private_destinations,
            request_timeout: Duration::from_secs(self.drains.request_timeout_seconds.max(1)),
        };
        let (key, name) = match (&job.file_key, &job.file_name) {
            (Some(k), Some(n)) => (k, n),
            _ => return Err(format!("export `{}` has no file", job.id)),
        };
        let bytes = self
            .exports
            .files
            .get(key)
            .await
            .map_err(|e| format!("the export file cannot be read: {e}"))?
            .bytes()
            .await
            .map_err(|e| format!("the export file cannot be read: {e}"))?
            .to_vec();
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let tz = s.cadence.tz();
        let first = run.period_start.with_timezone(&tz).date_naive();
        let last = (run.period_end - chrono::TimeDelta::microseconds(1))
            .with_timezone(&tz)
            .date_naive();
        match &dest.config {
            DestinationConfig::S3 { .. }
            | DestinationConfig::Gcs { .. }
            | DestinationConfig::AzureBlob { .. } => {
                // One object-store client for the three providers (the drains' builder):
                // the same SSRF guard, credentials only from the secret.
                let d = s3::build(&dest.config, &payload, &ctx)?;
                let ext = name.split_once('.').map_or("csv", |(_, e)| e);
                let object = d.key_under_prefix(&format!("{}/{first}_{last}.{ext}", s.id));
                let metadata = [
                    (SHA256_METADATA, sha256),
                    ("outflow-schedule", s.id.clone()),
                    ("outflow-export", job.id.clone()),
                ];
                d.put_object(&object, bytes, content_type(name), &metadata)
                    .await
                    .map_err(|e| e.describe())?;
                Ok(format!("{}:{object}", dest.config.kind()))
            }
            DestinationConfig::Http { .. } => {
                // The event is one small JSON document, whatever the destination's batch format.
                let config = DestinationConfig::Http {
                    format: Default::default(),
                    otlp_encoding: Default::default(),
                    gzip: false,
                    max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                };
                let d = http::build(&config, &payload, &ctx)?;
                let event = serde_json::json!({
                    "type": "scheduled_export.completed",
                    "schedule_id": s.id,
                    "schedule_name": s.name,
                    "period": {
                        "start": run.period_start.with_timezone(&tz).to_rfc3339(),
                        "end": run.period_end.with_timezone(&tz).to_rfc3339(),
                        "first_day": first.to_string(),
                        "last_day": last.to_string(),
                        "timezone": s.cadence.timezone,
                    },
                    "export_id": job.id,
                    "rows": job.rows_written.max(0),
                    "bytes": bytes.len(),
                    "sha256": sha256,
                    "download_url": self.exports.download_url(job),
                });
                let webhook_id = webhook_id(&s.id, run);
                d.post_event(&s.id, &webhook_id, event.to_string().into_bytes())
                    .await
                    .map_err(|e| e.describe())?;
                Ok("http".into())
            }
            DestinationConfig::Datadog { .. } => Err(format!(
                "{} is not a destination of scheduled exports",
                dest.config.kind()
            )),
        }
    }

    /// The destination's credentials, opened from its encrypted secret.
    async fn secret(
        &self,
        s: &Schedule,
        dest: &ScheduleDestination,
    ) -> Result<SecretPayload, String> {
        let sealed = crate::drain::secrets::sealed(&self.store, &s.org_id, &dest.secret_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("secret `{}` no longer exists", dest.secret_id))?;
        self.secrets
            .open(&s.org_id, &dest.secret_id, &sealed)
            .map_err(|e| e.0)
    }
}

/// The `webhook-id` of a run's event: stable per (schedule, period).
pub fn webhook_id(schedule: &str, run: &ScheduleRun) -> String {
    format!("sched-{schedule}-{}", run.period_start.timestamp())
}

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".gz") {
        "application/gzip"
    } else if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else if name.ends_with(".ndjson") {
        "application/x-ndjson"
    } else if name.ends_with(".parquet") {
        "application/vnd.apache.parquet"
    } else {
        "application/octet-stream"
    }
}

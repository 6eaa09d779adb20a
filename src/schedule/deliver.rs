//! Delivering a completed run: the completion email (the existing mailer, a signed link,
//! subject and body naming the schedule), and the destination, if any. Each target reached is
//! remembered on the run (`delivered`), so a retry only tries what is still missing.

use super::model::{EmailTarget, Schedule, ScheduleRun};
use super::service::Schedules;
use crate::mail::templates::Content;

/// The `delivered` entry of the completion email.
pub const EMAIL: &str = "email";

impl Schedules {
    /// Delivers `run` to every target of `s` not yet reached; what is reached now, and the
    /// first error.
    pub(super) async fn deliver(
        &self,
        s: &Schedule,
        run: &ScheduleRun,
    ) -> (Vec<String>, Option<String>) {
        let mut delivered = run.delivered.clone();
        let mut error = None;
        let job = match self.export_of(run).await {
            Ok(Some(job)) => job,
            Ok(None) => return (delivered, Some("the export is missing".into())),
            Err(e) => return (delivered, Some(e.to_string())),
        };
        if let Some(dest) = &s.deliver.destination
            && !delivered.iter().any(|d| d.starts_with(dest_tag(dest)))
        {
            match self.deliver_destination(s, run, &job, dest).await {
                Ok(entry) => delivered.push(entry),
                Err(e) => error = Some(e),
            }
        }
        if s.deliver.email.is_some() && !delivered.iter().any(|d| d == EMAIL) {
            match self.mail_completed(s, run, &job).await {
                Ok(()) => delivered.push(EMAIL.into()),
                Err(e) => error = error.or(Some(e)),
            }
        }
        (delivered, error)
    }

    /// The recipients of `s`'s emails (admins, or the named members that still exist).
    async fn recipients(&self, s: &Schedule) -> Result<Vec<String>, String> {
        match &s.deliver.email {
            None => Ok(Vec::new()),
            Some(EmailTarget::Word(_)) => super::repo::admin_emails(&self.store, &s.org_id)
                .await
                .map_err(|e| e.to_string()),
            Some(EmailTarget::Members(ids)) => {
                let mut out = Vec::new();
                for id in ids {
                    if let Some(email) = self
                        .store
                        .member_email(&s.org_id, id)
                        .await
                        .map_err(|e| e.to_string())?
                    {
                        out.push(email);
                    }
                }
                Ok(out)
            }
        }
    }

    async fn org_name(&self, org: &str) -> String {
        match self.store.get_org(org).await {
            Ok(Some(o)) => o.name,
            _ => org.to_string(),
        }
    }

    async fn mail_completed(
        &self,
        s: &Schedule,
        run: &ScheduleRun,
        job: &crate::export::ExportJob,
    ) -> Result<(), String> {
        let to = self.recipients(s).await?;
        if to.is_empty() {
            tracing::warn!(schedule_id = %s.id, "scheduled export has no email recipient");
            return Ok(());
        }
        let org = self.org_name(&s.org_id).await;
        let url = match (&job.file_key, job.expires_at) {
            (Some(key), Some(until)) => self.exports.files.signed_url(key, until),
            _ => String::new(),
        };
        let content = completed_email(s, run, &org, &url, job);
        self.exports
            .mailer
            .send(&content.to(to))
            .await
            .map_err(|e| e.to_string())
    }

    /// Tells the admins that `s` went to `error`.
    pub(super) async fn mail_error(&self, s: &Schedule, why: &str) {
        let to = match super::repo::admin_emails(&self.store, &s.org_id).await {
            Ok(to) if !to.is_empty() => to,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(schedule_id = %s.id, error = %e, "schedule error email not sent");
                return;
            }
        };
        let org = self.org_name(&s.org_id).await;
        let content = Content {
            subject: format!(
                "Scheduled export \"{}\" for {} stopped after failed runs",
                one_line(&s.name),
                one_line(&org)
            ),
            text: format!(
                "The scheduled export \"{name}\" of {org} is in the error state and runs no more.\n\
                 \n\
                 Schedule: {id}\n\
                 Reason:   {why}\n\
                 \n\
                 Fix the cause (the export's teams and members, the destination or its secret), \
                 then resume the schedule on its page or with POST /v1/export-schedules/{id}/resume.\n\
                 \n\
                 -- \n\
                 Outflow\n",
                name = s.name,
                id = s.id,
            ),
        };
        if let Err(e) = self.exports.mailer.send(&content.to(to)).await {
            tracing::warn!(schedule_id = %s.id, error = %e, "schedule error email not sent");
        }
    }
}

/// The tag a destination's `delivered` entry starts with.
fn dest_tag(dest: &super::model::ScheduleDestination) -> &'static str {
    dest.config.kind()
}

/// The completion email of a run: subject and body name the schedule and the period.
fn completed_email(
    s: &Schedule,
    run: &ScheduleRun,
    org: &str,
    url: &str,
    job: &crate::export::ExportJob,
) -> Content {
    let period = period_label(s, run);
    Content {
        subject: format!(
            "Scheduled export \"{}\" for {}: {} is ready",
            one_line(&s.name),
            one_line(org),
            period
        ),
        text: format!(
            "The scheduled export \"{name}\" of {org} has run.\n\
             \n\
             Period:   {period} ({tz})\n\
             Data:     {data_type}\n\
             Rows:     {rows}\n\
             Size:     {bytes} bytes\n\
             Export:   {export}\n\
             Schedule: {id}\n\
             \n\
             Download it here:\n\
             {url}\n\
             \n\
             This link works until {expires}.\n\
             \n\
             -- \n\
             Outflow\n",
            name = s.name,
            tz = s.cadence.timezone,
            data_type = job.spec.data_type.as_str(),
            rows = job.rows_written.max(0),
            bytes = job.size_bytes.unwrap_or_default().max(0),
            export = job.id,
            id = s.id,
            expires = job.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ),
    }
}

/// `2026-03-01 – 2026-03-31`: the local dates the run covers.
pub fn period_label(s: &Schedule, run: &ScheduleRun) -> String {
    let tz = s.cadence.tz();
    let first = run.period_start.with_timezone(&tz).date_naive();
    let last = (run.period_end - chrono::TimeDelta::microseconds(1))
        .with_timezone(&tz)
        .date_naive();
    if first == last {
        first.to_string()
    } else {
        format!("{first} – {last}")
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

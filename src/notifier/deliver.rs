//! Delivering the outbox: lease the due events, POST each to the organization's endpoint
//! through the drains' HTTP destination (its SSRF guard, signer and scrubbed errors), record
//! the outcome.
//!
//! A receiver's permanent refusal (a 4xx other than 408 and 429) gives up at once, as a
//! drain's delivery does; anything else — a timeout, a 5xx, a 429 (its `Retry-After`
//! honoured), a missing secret — waits the drains' backoff and tries again, up to
//! `delivery_attempts`. Every attempt carries the event id as `webhook-id`.

use super::Notifications;
use crate::drain::dest::config::DEFAULT_MAX_BODY_BYTES;
use crate::drain::dest::{DestContext, DestinationConfig, http};
use crate::notifications::repo::{self, EventRow, Outcome};
use crate::notifications::{EventType, Format, wake_signal};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunDue {
    /// Events the receiver accepted.
    pub sent: usize,
    /// Events given up.
    pub failed: usize,
    /// Events to try again later.
    pub retrying: usize,
}

/// Why an attempt failed, and whether trying again can help.
struct Failure {
    message: String,
    permanent: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn retry(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            permanent: false,
            retry_after: None,
        }
    }
}

impl Notifications {
    /// Leases and delivers every event due at `now` (tests call it with their clock).
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<RunDue, crate::store::StoreError> {
        let mut done = RunDue::default();
        let until = now + chrono::TimeDelta::seconds(self.config.lease_seconds.max(1) as i64);
        loop {
            let leased = repo::lease_due(&self.store, &self.node, now, until, 20).await?;
            if leased.is_empty() {
                return Ok(done);
            }
            for e in leased {
                match self.deliver(&e, now).await? {
                    "sent" => done.sent += 1,
                    "failed" => done.failed += 1,
                    _ => done.retrying += 1,
                }
            }
        }
    }

    /// One attempt at a leased event; its new state.
    async fn deliver(
        &self,
        e: &EventRow,
        now: DateTime<Utc>,
    ) -> Result<&'static str, crate::store::StoreError> {
        let failure = self.post(e).await.err();
        let attempt = e.attempts as u32 + 1;
        let state = match &failure {
            None => "sent",
            Some(f) if f.permanent || attempt >= self.config.delivery_attempts.max(1) => "failed",
            Some(_) => "pending",
        };
        let wait = crate::drain::engine::backoff(
            attempt,
            Duration::from_secs(self.config.retry_base_seconds.max(1)),
            failure.as_ref().and_then(|f| f.retry_after),
            Duration::from_secs(3600),
        );
        if let Some(f) = &failure {
            tracing::warn!(event_id = %e.id, event = %e.event_type, error = %f.message, state, "notification delivery failed");
        }
        let outcome = Outcome {
            state,
            error: failure.as_ref().map(|f| f.message.as_str()),
            retry_at: now + chrono::TimeDelta::from_std(wait).unwrap_or_default(),
        };
        repo::record(&self.store, &self.node, &e.id, &outcome, now).await?;
        Ok(state)
    }

    async fn post(&self, e: &EventRow) -> Result<(), Failure> {
        let settings = repo::settings(&self.store, &e.org_id)
            .await
            .map_err(|err| Failure::retry(err.to_string()))?
            .ok_or_else(|| Failure {
                message: "notifications were turned off before the event could be sent".into(),
                permanent: true,
                retry_after: None,
            })?;
        let secret = &settings.secret_id;
        let sealed = crate::drain::secrets::sealed(&self.store, &e.org_id, secret)
            .await
            .map_err(|err| Failure::retry(err.to_string()))?
            .ok_or_else(|| Failure::retry(format!("secret `{secret}` no longer exists")))?;
        let payload = self
            .secrets
            .open(&e.org_id, secret, &sealed)
            .map_err(|err| Failure::retry(err.0))?;
        let ctx = DestContext {
            allow_private: self.config.allow_private,
            request_timeout: Duration::from_secs(self.config.request_timeout_seconds.max(1)),
        };
        // One small JSON document per event, whatever format a drain would use.
        let config = DestinationConfig::Http {
            format: Default::default(),
            otlp_encoding: Default::default(),
            gzip: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        };
        let d = http::build(&config, &payload, &ctx).map_err(Failure::retry)?;
        let org_name = match self.store.get_org(&e.org_id).await {
            Ok(Some(o)) => o.name,
            _ => e.org_id.clone(),
        };
        let body = match settings.format {
            Format::Outflow => outflow_body(e, &org_name),
            Format::Slack => slack_body(e, &org_name),
        };
        d.post_event(&e.subject_id, &e.id, body.to_string().into_bytes())
            .await
            .map_err(|err| Failure {
                message: err.describe(),
                permanent: err.permanent,
                retry_after: err.retry_after,
            })?;
        Ok(())
    }

    /// Runs [`Notifications::run_due`] every `poll_seconds`, and as soon as this process
    /// raises an event, until `shutdown`.
    pub fn spawn(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(me.config.poll_seconds.max(1));
            loop {
                // Registered before the pass, so an event raised during it wakes the next.
                let woken = wake_signal().notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                if let Err(e) = me.run_due(Utc::now()).await {
                    tracing::error!(error = %e, "notification runner pass failed");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                    _ = woken => {}
                }
            }
        })
    }
}

/// Outflow's event: `{id, type, org_id, org_name, subject_id, at, data}`.
fn outflow_body(e: &EventRow, org_name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": e.id,
        "type": e.event_type,
        "org_id": e.org_id,
        "org_name": org_name,
        "subject_id": e.subject_id,
        "at": e.created_at,
        "data": e.payload,
    })
}

/// A Slack-compatible incoming-webhook body: one line saying what happened.
fn slack_body(e: &EventRow, org_name: &str) -> serde_json::Value {
    let text = |k: &str| e.payload.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let line = match EventType::parse(&e.event_type) {
        Ok(EventType::DrainError) => format!(
            "Drain \"{}\" ({}) of {org_name} stopped with an error: {}",
            text("name"),
            e.subject_id,
            text("reason")
        ),
        Ok(EventType::ExportFailed) => format!(
            "Export {} ({}) of {org_name} failed: {}",
            e.subject_id,
            text("data_type"),
            text("reason")
        ),
        Ok(EventType::ScheduleFailed) => format!(
            "Scheduled export \"{}\" ({}) of {org_name} stopped after failed runs: {}",
            text("name"),
            e.subject_id,
            text("reason")
        ),
        Err(_) => format!("{} {} of {org_name}", e.event_type, e.subject_id),
    };
    serde_json::json!({ "text": format!("Outflow: {}", slack_escape(&line)) })
}

/// Slack's three control characters in message text.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: &str, payload: serde_json::Value) -> EventRow {
        EventRow {
            id: "ntf_1".into(),
            org_id: "acme".into(),
            event_type: t.into(),
            subject_id: "drn_1".into(),
            payload,
            state: "pending".into(),
            attempts: 0,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
        }
    }

    #[test]
    fn slack_text_names_what_happened_and_escapes_markup() {
        let e = row(
            "drain.error",
            serde_json::json!({"name": "a <b> & c", "reason": "HTTP 500"}),
        );
        assert_eq!(
            slack_body(&e, "Acme")["text"],
            "Outflow: Drain \"a &lt;b&gt; &amp; c\" (drn_1) of Acme stopped with an error: HTTP 500"
        );
    }
}

//! Evaluating budgets and delivering their alerts.
//!
//! - [`Budgets::evaluate`] reads a budget's spend in its current period and claims an alert
//!   for every threshold crossed (`repo::claim`: one row per (budget, period start, threshold),
//!   claimed with its audit record in one transaction).
//! - [`Budgets::deliver_due`] leases pending alerts and notifies: an email to the admins
//!   naming the budget, threshold, spend and limit, and a Standard Webhooks-signed JSON event
//!   to the `notify.secret_id` endpoint (the drains' signer) whose `webhook-id` is the alert
//!   key, the same on every retry. A failed attempt waits the drains' backoff and is retried
//!   up to `delivery_attempts` times; a target reached is remembered, so a retry only tries
//!   what is missing.
//! - [`Budgets::run_due`] does both for every budget at `now` (the runner, every
//!   `poll_seconds`; tests call it with their clock); [`Budgets::after_ingest`] for the
//!   organizations of a credit-log batch, right after it is stored.

use super::repo::{self, AlertRow, NewAlert};
use super::{Budget, BudgetError, Budgets, credits};
use crate::audit::{self, Actor};
use crate::drain::dest::config::DEFAULT_MAX_BODY_BYTES;
use crate::drain::dest::{DestContext, DestinationConfig, http};
use crate::mail::templates::Content;
use crate::store::Value;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The `delivered` entry of the admins' email.
pub const EMAIL: &str = "email";
/// The `delivered` entry of the HTTP event.
pub const HTTP: &str = "http";

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunDue {
    /// Budgets evaluated.
    pub evaluated: usize,
    /// Alerts claimed by this pass.
    pub claimed: usize,
    /// Alerts delivered to every target.
    pub sent: usize,
    /// Alerts whose delivery gave up.
    pub failed: usize,
}

impl Budgets {
    /// Claims an alert for every threshold of `b` crossed in its current period at `now`;
    /// how many claims this call made (0 when another evaluation made them first).
    pub async fn evaluate(&self, b: &Budget, now: DateTime<Utc>) -> Result<usize, BudgetError> {
        let Some(org) = self.store.get_org(&b.org_id).await? else {
            return Ok(0);
        };
        let p = b.period.current(&org, now);
        let before = repo::claimed(&self.store, &b.id, p.start).await?;
        let crossed: Vec<i64> = b
            .thresholds
            .iter()
            .copied()
            .filter(|t| !before.contains(t))
            .collect();
        if crossed.is_empty() {
            return Ok(0);
        }
        let spent = self.spent_micros(&org, b, &p).await?;
        let mut claimed = 0;
        for t in crossed {
            // Integer comparison: spent ≥ limit × t / 100, exactly.
            if i128::from(spent) * 100 < i128::from(b.limit_micros) * i128::from(t) {
                continue;
            }
            let a = NewAlert {
                budget: b,
                start: p.start,
                end: p.end,
                threshold: t,
                spent_micros: spent,
                now,
            };
            repo::claim(&self.store, &a, &alert_audit(b, &a)).await?;
            claimed += 1;
        }
        // Other evaluations may have raced us; count only the rows that are ours to report.
        let after = repo::claimed(&self.store, &b.id, p.start).await?;
        Ok(claimed.min(after.len().saturating_sub(before.len())))
    }

    /// Evaluates every budget and delivers every due alert, as of `now`.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<RunDue, BudgetError> {
        let mut done = RunDue::default();
        for b in repo::all(&self.store).await? {
            done.evaluated += 1;
            match self.evaluate(&b, now).await {
                Ok(n) => done.claimed += n,
                Err(e) => tracing::warn!(budget_id = %b.id, error = %e, "budget evaluation failed"),
            }
        }
        self.deliver_due(None, now, &mut done).await?;
        Ok(done)
    }

    /// Evaluates the budgets of `orgs` (those of a credit-log batch just stored) and delivers
    /// their alerts, in the background: ingest answers without waiting.
    pub fn after_ingest(&self, orgs: BTreeSet<String>) {
        let me = self.clone();
        tokio::spawn(async move {
            let now = Utc::now();
            for org in orgs {
                if let Err(e) = me.evaluate_org(&org, now).await {
                    tracing::warn!(org_id = %org, error = %e, "budget evaluation after ingest failed");
                }
            }
        });
    }

    /// Evaluates one organization's budgets and, when this call claimed an alert, delivers
    /// its due alerts. Ingest calls this for every credit-log batch, so an organization
    /// without budgets costs one read, and no lease write is attempted unless something was
    /// claimed (older pending alerts are the runner's).
    pub async fn evaluate_org(&self, org: &str, now: DateTime<Utc>) -> Result<RunDue, BudgetError> {
        let mut done = RunDue::default();
        for b in repo::list(&self.store, org).await? {
            done.evaluated += 1;
            done.claimed += self.evaluate(&b, now).await?;
        }
        if done.claimed > 0 {
            self.deliver_due(Some(org), now, &mut done).await?;
        }
        Ok(done)
    }

    /// Leases and delivers the due pending alerts (of `org`, when given).
    pub async fn deliver_due(
        &self,
        org: Option<&str>,
        now: DateTime<Utc>,
        done: &mut RunDue,
    ) -> Result<(), BudgetError> {
        let until = now + chrono::TimeDelta::seconds(self.config.lease_seconds.max(1) as i64);
        loop {
            let leased = repo::lease_due(&self.store, &self.node, org, now, until, 20).await?;
            if leased.is_empty() {
                return Ok(());
            }
            for a in leased {
                match self.deliver(&a, now).await? {
                    "sent" => done.sent += 1,
                    "failed" => done.failed += 1,
                    _ => {}
                }
            }
        }
    }

    /// One attempt at a leased alert; its new state.
    async fn deliver(&self, a: &AlertRow, now: DateTime<Utc>) -> Result<&'static str, BudgetError> {
        let budget = repo::get(&self.store, &a.org_id, &a.budget_id).await?;
        let mut delivered = a.delivered.clone();
        let mut error: Option<String> = None;
        if let Some(b) = &budget {
            if b.notify.admins && !delivered.iter().any(|d| d == EMAIL) {
                match self.mail(b, a).await {
                    Ok(()) => delivered.push(EMAIL.into()),
                    Err(e) => error = Some(e),
                }
            }
            if let Some(secret) = &b.notify.secret_id
                && !delivered.iter().any(|d| d == HTTP)
            {
                match self.post(b, a, secret).await {
                    Ok(()) => delivered.push(HTTP.into()),
                    Err(e) => error = error.or(Some(e)),
                }
            }
        }
        let attempt = a.attempts as u32 + 1;
        let state = match &error {
            None => "sent",
            Some(_) if attempt >= self.config.delivery_attempts.max(1) => "failed",
            Some(_) => "pending",
        };
        let wait = crate::drain::engine::backoff(
            attempt,
            Duration::from_secs(30),
            None,
            Duration::from_secs(3600),
        );
        let outcome = repo::Outcome {
            delivered: &delivered,
            state,
            error: error.as_deref(),
            retry_at: now + chrono::TimeDelta::from_std(wait).unwrap_or_default(),
        };
        if let Some(e) = &error {
            tracing::warn!(alert_id = %a.id, error = %e, state, "budget alert delivery failed");
        }
        repo::record(&self.store, &self.node, &a.id, &outcome, now).await?;
        Ok(state)
    }

    async fn mail(&self, b: &Budget, a: &AlertRow) -> Result<(), String> {
        let to = crate::drain::repo::admin_emails(&self.store, &b.org_id)
            .await
            .map_err(|e| e.to_string())?;
        if to.is_empty() {
            tracing::warn!(budget_id = %b.id, "budget alert has no admin to email");
            return Ok(());
        }
        let org = match self.store.get_org(&b.org_id).await {
            Ok(Some(o)) => o.name,
            _ => b.org_id.clone(),
        };
        self.mailer
            .send(&alert_email(b, a, &org).to(to))
            .await
            .map_err(|e| e.to_string())
    }

    async fn post(&self, b: &Budget, a: &AlertRow, secret: &str) -> Result<(), String> {
        let sealed = crate::drain::secrets::sealed(&self.store, &b.org_id, secret)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("secret `{secret}` no longer exists"))?;
        let payload = self
            .secrets
            .open(&b.org_id, secret, &sealed)
            .map_err(|e| e.0)?;
        let ctx = DestContext {
            allow_private: self.config.allow_private,
            request_timeout: Duration::from_secs(self.config.request_timeout_seconds.max(1)),
        };
        let config = DestinationConfig::Http {
            format: Default::default(),
            otlp_encoding: Default::default(),
            gzip: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        };
        let d = http::build(&config, &payload, &ctx)?;
        let event = alert_event(b, a);
        d.post_event(&b.id, &a.id, event.to_string().into_bytes())
            .await
            .map_err(|e| e.describe())?;
        Ok(())
    }

    /// Runs [`Budgets::run_due`] every `poll_seconds` until `shutdown`.
    pub fn spawn(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(me.config.poll_seconds.max(1));
            loop {
                if let Err(e) = me.run_due(Utc::now()).await {
                    tracing::error!(error = %e, "budget runner pass failed");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        })
    }
}

/// The alert's audit record; its event id is the alert key, so a losing claim's record is a
/// duplicate and is not stored.
fn alert_audit(b: &Budget, a: &NewAlert<'_>) -> crate::store::RecordBatch {
    let key = repo::alert_key(&b.id, a.start, a.threshold);
    let mut batch = audit::event(
        &b.org_id,
        audit::events::BUDGET_ALERT,
        &Actor::system(),
        Some(&b.id),
        serde_json::json!({
            "budget_id": b.id,
            "name": b.name,
            "alert_id": key,
            "threshold": a.threshold,
            "period_start": a.start,
            "spent": credits(a.spent_micros),
            "limit": credits(b.limit_micros),
        }),
    );
    let spec = crate::domain::catalog::spec(crate::domain::DataType::AuditLogs);
    if let Some(i) = spec.fields.iter().position(|f| f.id == "event_id") {
        batch.records[0].values[i] = Value::Text(key);
    }
    batch
}

/// The JSON event of an alert.
fn alert_event(b: &Budget, a: &AlertRow) -> serde_json::Value {
    serde_json::json!({
        "type": "budget.threshold_crossed",
        "alert_id": a.id,
        "budget_id": b.id,
        "budget_name": b.name,
        "org_id": b.org_id,
        "team_id": b.team_id,
        "period": b.period.as_str(),
        "period_start": a.period_start,
        "period_end": a.period_end,
        "threshold": a.threshold,
        "spent": credits(a.spent_micros),
        "limit": credits(a.limit_micros),
        "at": a.created_at,
    })
}

/// The admins' email: subject and body name the budget, threshold, spend and limit.
fn alert_email(b: &Budget, a: &AlertRow, org: &str) -> Content {
    let name = one_line(&b.name);
    let scope = b
        .team_id
        .as_ref()
        .map_or("the whole organization".to_string(), |t| {
            format!("team {t}")
        });
    Content {
        subject: format!(
            "Budget \"{name}\" of {} reached {}%: {} of {} credits",
            one_line(org),
            a.threshold,
            fmt_credits(a.spent_micros),
            fmt_credits(a.limit_micros)
        ),
        text: format!(
            "The budget \"{name}\" of {org} has crossed its {t}% threshold.\n\
             \n\
             Spent:     {spent} credits\n\
             Limit:     {limit} credits\n\
             Threshold: {t}%\n\
             Covers:    {scope}, {period} starting {start}\n\
             Budget:    {id}\n\
             \n\
             -- \n\
             Outflow\n",
            t = a.threshold,
            spent = fmt_credits(a.spent_micros),
            limit = fmt_credits(a.limit_micros),
            period = b.period.as_str().replace('_', " "),
            start = a.period_start.to_rfc3339(),
            id = b.id,
        ),
    }
}

/// Credits with up to six decimals, trailing zeros dropped.
fn fmt_credits(micros: i64) -> String {
    let s = format!("{:.6}", credits(micros));
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

//! Credit budgets and their alerts (issue 14 item 4): a limit on the credits an organization
//! (or one team) spends per calendar month or billing period, in the organization's zone, with
//! thresholds (percent of the limit) that alert the admins and an HTTP endpoint once per
//! period.
//!
//! ```text
//! mod.rs       Budget, BudgetView (spent, forecast, status, alerts) and the Budgets service
//! request.rs   validation of the API body (names the field and the allowed values)
//! repo.rs      SQL: budgets, alerts under their unique (budget, period, threshold) key, leases
//! alerts.rs    evaluate (claim crossed thresholds), deliver (email, signed HTTP event), the
//!              runner (run_due(now)) and the after-ingest hook
//! ```
//!
//! **Spent** is the `credits` metric of `GET /v1/usage` (sum of `-amount` over credit-log
//! debits) over the current period, read from the rollups, so it equals the export's sum.
//!
//! **Forecast** is a linear projection to the period's end: `spent × period length ÷ time
//! elapsed`, with the elapsed time counted as at least one hour so a budget checked in the
//! first minutes of a period does not project a spike to infinity.
//!
//! **Exactly one alert** per (budget, period start, threshold): see `alerts.rs`.

mod alerts;
pub(crate) mod repo;
pub mod request;

pub use alerts::RunDue;
pub use request::BudgetBody;

use crate::domain::calendar::{self, Granularity, Period};
use crate::domain::entity::Org;
use crate::domain::range::DateRange;
use crate::drain::secrets::SecretBox;
use crate::mail::Mailer;
use crate::store::{Store, StoreError};
use crate::usage::{Bucket, Cursor, Metric, Usage, UsageError, UsageQuery};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// The period a budget covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    /// Calendar months in the organization's zone.
    Month,
    /// Billing periods (the organization's anchor day), in its zone.
    BillingPeriod,
}

impl BudgetPeriod {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Month => "month",
            BudgetPeriod::BillingPeriod => "billing_period",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<BudgetPeriod> {
        match s {
            "month" => Some(BudgetPeriod::Month),
            "billing_period" => Some(BudgetPeriod::BillingPeriod),
            _ => None,
        }
    }

    /// The period of `org`'s calendar that contains `now`.
    pub fn current(self, org: &Org, now: DateTime<Utc>) -> Period {
        let tz = org.timezone.parse().unwrap_or(chrono_tz::UTC);
        let g = match self {
            BudgetPeriod::Month => Granularity::Month,
            BudgetPeriod::BillingPeriod => Granularity::BillingPeriod {
                anchor_day: org.billing_anchor_day,
            },
        };
        calendar::period_containing(tz, g, now)
    }
}

/// Who an alert notifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// Email the organization's admins (default true).
    #[serde(default = "yes")]
    pub admins: bool,
    /// An `http` secret (`POST /v1/secrets`): a signed JSON event goes to its URL.
    #[serde(default)]
    pub secret_id: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Notify {
    fn default() -> Self {
        Notify {
            admins: true,
            secret_id: None,
        }
    }
}

/// A budget as stored.
#[derive(Debug, Clone)]
pub struct Budget {
    /// `bud_…`.
    pub id: String,
    /// The organization.
    pub org_id: String,
    /// Display name.
    pub name: String,
    /// Only this team's credits (a credit log's `project_id`); `None`: the whole organization.
    pub team_id: Option<String>,
    /// Month or billing period.
    pub period: BudgetPeriod,
    /// The limit in micro-credits (credits are summed exactly as integers of 10⁻⁶).
    pub limit_micros: i64,
    /// Percent of the limit that alert, ascending.
    pub thresholds: Vec<i64>,
    /// Who is told.
    pub notify: Notify,
    /// Who created it.
    pub created_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// One alert: a threshold crossed in a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alert {
    /// Alert id.
    pub id: String,
    /// The percent crossed.
    pub threshold: i64,
    /// The period's first instant (RFC 3339, organization's offset).
    pub period_start: String,
    /// When the crossing was seen.
    pub at: DateTime<Utc>,
    /// Credits spent when it was seen.
    pub spent: f64,
    /// `pending` (being notified), `sent` or `failed` (delivery gave up).
    pub state: String,
    /// Targets reached: `email`, `http`.
    pub delivered: Vec<String>,
    /// When every target was reached.
    pub sent_at: Option<DateTime<Utc>>,
    /// The last delivery error.
    pub error: Option<String>,
}

/// A budget as the API and the pages show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetView {
    /// Budget id (`bud_…`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The team whose credits count; null: the whole organization.
    pub team_id: Option<String>,
    /// `month` or `billing_period`.
    pub period: BudgetPeriod,
    /// The limit in credits.
    pub limit_credits: f64,
    /// Percent thresholds that alert.
    pub thresholds: Vec<i64>,
    /// Who is told.
    pub notify: Notify,
    /// The current period's first instant (RFC 3339, organization's offset).
    pub period_start: String,
    /// The first instant after it.
    pub period_end: String,
    /// Credits spent in the current period.
    pub spent: f64,
    /// Linear projection to the period's end (see the module docs).
    pub forecast: f64,
    /// `spent ÷ limit` in percent.
    pub percent_used: f64,
    /// `ok`, `at_risk` (the forecast exceeds the limit) or `exceeded`.
    pub status: String,
    /// Alerts, newest first (up to 100).
    pub alerts: Vec<Alert>,
    /// Who created it.
    pub created_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Why a budget operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// A field is wrong (names it and the allowed values).
    #[error("invalid `{param}`: {message}")]
    Input {
        /// The field.
        param: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// No such budget (or team or secret) in the organization.
    #[error("{0}")]
    NotFound(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UsageError> for BudgetError {
    fn from(e: UsageError) -> Self {
        match e {
            UsageError::Input { param, message } => BudgetError::Input { param, message },
            UsageError::NotFound(m) => BudgetError::NotFound(m),
            UsageError::Store(s) => BudgetError::Store(s),
        }
    }
}

/// Timing of alert delivery (fixed; see `alerts.rs`).
#[derive(Debug, Clone)]
pub struct BudgetsConfig {
    /// Seconds a node holds an alert while notifying.
    pub lease_seconds: u64,
    /// Delivery attempts before an alert counts as failed.
    pub delivery_attempts: u32,
    /// Seconds between two runner passes.
    pub poll_seconds: u64,
    /// Private (loopback) HTTP destinations allowed (tests).
    pub allow_private: bool,
    /// Per-request timeout of the HTTP event.
    pub request_timeout_seconds: u64,
}

/// The budget service: CRUD, status, evaluation and alert delivery.
#[derive(Clone)]
pub struct Budgets {
    /// Storage.
    pub store: Store,
    pub(crate) mailer: Mailer,
    pub(crate) secrets: SecretBox,
    pub(crate) config: Arc<BudgetsConfig>,
    pub(crate) node: Arc<String>,
}

impl Budgets {
    /// The service.
    pub fn new(
        store: Store,
        mailer: Mailer,
        secrets: SecretBox,
        config: BudgetsConfig,
        node: String,
    ) -> Budgets {
        Budgets {
            store,
            mailer,
            secrets,
            config: Arc::new(config),
            node: Arc::new(node),
        }
    }

    /// This service under another node name (tests model a second `serve` process).
    pub fn as_node(&self, node: &str) -> Budgets {
        Budgets {
            node: Arc::new(node.to_string()),
            ..self.clone()
        }
    }

    async fn org(&self, org_id: &str) -> Result<Org, BudgetError> {
        self.store
            .get_org(org_id)
            .await?
            .ok_or_else(|| BudgetError::NotFound(format!("organization `{org_id}` not found")))
    }

    /// Creates a budget.
    pub async fn create(
        &self,
        org_id: &str,
        body: BudgetBody,
        actor: &crate::audit::Actor,
        now: DateTime<Utc>,
    ) -> Result<Budget, BudgetError> {
        let org = self.org(org_id).await?;
        let b = request::create(&self.store, &org, body, &actor.user_id, now).await?;
        let audit = self.audit(&b, crate::audit::events::BUDGET_CREATED, actor, "created");
        repo::insert(&self.store, &b, &audit).await?;
        Ok(b)
    }

    /// One budget of `org_id`; 404 for another organization's.
    pub async fn get(&self, org_id: &str, id: &str) -> Result<Budget, BudgetError> {
        repo::get(&self.store, org_id, id)
            .await?
            .ok_or_else(|| BudgetError::NotFound(format!("budget `{id}` not found")))
    }

    /// Changes the given fields of a budget.
    pub async fn update(
        &self,
        org_id: &str,
        id: &str,
        body: BudgetBody,
        actor: &crate::audit::Actor,
        now: DateTime<Utc>,
    ) -> Result<Budget, BudgetError> {
        let org = self.org(org_id).await?;
        let old = self.get(org_id, id).await?;
        let b = request::apply(&self.store, &org, old, body, now).await?;
        let audit = self.audit(&b, crate::audit::events::BUDGET_UPDATED, actor, "updated");
        repo::update(&self.store, &b, &audit).await?;
        Ok(b)
    }

    /// Deletes a budget and its alerts.
    pub async fn delete(
        &self,
        org_id: &str,
        id: &str,
        actor: &crate::audit::Actor,
    ) -> Result<(), BudgetError> {
        let b = self.get(org_id, id).await?;
        let audit = self.audit(&b, crate::audit::events::BUDGET_DELETED, actor, "deleted");
        repo::delete(&self.store, &b, &audit).await?;
        Ok(())
    }

    /// The organization's budgets with their status at `now` (for the API and the Analytics
    /// page's progress bars), oldest first.
    pub async fn list(
        &self,
        org_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BudgetView>, BudgetError> {
        let org = self.org(org_id).await?;
        let mut out = Vec::new();
        for b in repo::list(&self.store, org_id).await? {
            out.push(self.view_of(&org, b, now).await?);
        }
        Ok(out)
    }

    /// One budget with its status at `now`.
    pub async fn view(
        &self,
        org_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<BudgetView, BudgetError> {
        let org = self.org(org_id).await?;
        let b = self.get(org_id, id).await?;
        self.view_of(&org, b, now).await
    }

    async fn view_of(
        &self,
        org: &Org,
        b: Budget,
        now: DateTime<Utc>,
    ) -> Result<BudgetView, BudgetError> {
        let p = b.period.current(org, now);
        let spent = self.spent_micros(org, &b, &p).await?;
        let forecast = forecast_micros(spent, &p, now);
        let alerts = repo::alerts(&self.store, &b.id, 100)
            .await?
            .into_iter()
            .map(|a| a.view(p.tz))
            .collect();
        let status = if spent >= b.limit_micros {
            "exceeded"
        } else if forecast > b.limit_micros {
            "at_risk"
        } else {
            "ok"
        };
        Ok(BudgetView {
            id: b.id,
            name: b.name,
            team_id: b.team_id,
            period: b.period,
            limit_credits: credits(b.limit_micros),
            thresholds: b.thresholds,
            notify: b.notify,
            period_start: p.local_start().to_rfc3339(),
            period_end: p.local_end().to_rfc3339(),
            spent: credits(spent),
            forecast: credits(forecast),
            percent_used: if b.limit_micros > 0 {
                (spent as f64 * 10000.0 / b.limit_micros as f64).round() / 100.0
            } else {
                0.0
            },
            status: status.into(),
            alerts,
            created_by: b.created_by,
            created_at: b.created_at,
            updated_at: b.updated_at,
        })
    }

    /// Credits spent under `b` in period `p`, in micro-credits: the usage service's `credits`
    /// over the whole period, one `total` bucket.
    pub(crate) async fn spent_micros(
        &self,
        org: &Org,
        b: &Budget,
        p: &Period,
    ) -> Result<i64, BudgetError> {
        let q = UsageQuery {
            range: DateRange {
                start: p.start,
                end: p.end,
                tz: p.tz,
                end_tz: p.tz,
            },
            bucket: Bucket::Total,
            metrics: vec![Metric::Credits],
            group_by: Vec::new(),
            team_ids: b.team_id.iter().cloned().collect(),
            user_ids: Vec::new(),
            category: None,
            include_personal: true,
            cursor: Cursor::default(),
            page_size: 1,
            raw: false,
        };
        let answer = Usage::new(self.store.clone()).run(org, &q).await?;
        let spent = answer
            .buckets
            .first()
            .and_then(|b| b.totals.get(Metric::Credits.as_str()))
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        Ok((spent * 1e6).round() as i64)
    }

    fn audit(
        &self,
        b: &Budget,
        event: &str,
        actor: &crate::audit::Actor,
        what: &str,
    ) -> crate::store::RecordBatch {
        crate::audit::event(
            &b.org_id,
            event,
            actor,
            Some(&b.id),
            serde_json::json!({
                "budget_id": b.id,
                "name": b.name,
                "action": what,
                "team_id": b.team_id,
                "period": b.period.as_str(),
                "limit_credits": credits(b.limit_micros),
                "thresholds": b.thresholds,
            }),
        )
    }
}

/// Micro-credits as credits.
pub fn credits(micros: i64) -> f64 {
    micros as f64 / 1e6
}

/// `spent × period length ÷ elapsed`, the elapsed time counted as at least one hour.
pub fn forecast_micros(spent: i64, p: &Period, now: DateTime<Utc>) -> i64 {
    let length = p.duration().num_seconds().max(1) as f64;
    let elapsed = (now.min(p.end) - p.start)
        .max(TimeDelta::hours(1))
        .num_seconds() as f64;
    if elapsed >= length {
        return spent;
    }
    (spent as f64 * length / elapsed).round() as i64
}

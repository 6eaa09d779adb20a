//! The `budgets` and `budget_alerts` tables.
//!
//! **One alert per (budget, period start, threshold).** An alert is claimed by inserting its
//! row under that unique key with `ON CONFLICT DO NOTHING`, in one transaction with its
//! `audit_logs` record, whose event id is derived from the same key (records are idempotent
//! by id): of any number of concurrent claims, across nodes, one row and one audit record
//! exist.
//!
//! **Delivered once, at least once.** The row stays `pending` until every target is reached;
//! a node leases it (`lease_owner`, `lease_until`) before notifying and every outcome write is
//! fenced by the lease. A node killed after the claim leaves an unleased pending row; one
//! killed while notifying leaves a lease that expires: either way a later pass delivers it.

use super::{Alert, Budget, Notify};
use crate::domain::FieldType;
use crate::store::named::{Columns, NamedRow, col};
use crate::store::{BackendKind, RecordBatch, Store, StoreError, Value};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

const BUDGET: Columns = Columns(&[
    col("id", FieldType::Text),
    col("org_id", FieldType::Text),
    col("name", FieldType::Text),
    col("team_id", FieldType::Text),
    col("period", FieldType::Text),
    col("limit_micros", FieldType::Integer),
    col("thresholds", FieldType::Json),
    col("notify", FieldType::Json),
    col("created_by", FieldType::Text),
    col("created_at", FieldType::Timestamp),
    col("updated_at", FieldType::Timestamp),
]);

const ALERT: Columns = Columns(&[
    col("id", FieldType::Text),
    col("budget_id", FieldType::Text),
    col("org_id", FieldType::Text),
    col("period_start", FieldType::Timestamp),
    col("period_end", FieldType::Timestamp),
    col("threshold", FieldType::Integer),
    col("spent_micros", FieldType::Integer),
    col("limit_micros", FieldType::Integer),
    col("state", FieldType::Text),
    col("delivered", FieldType::Json),
    col("attempts", FieldType::Integer),
    col("last_error", FieldType::Text),
    col("created_at", FieldType::Timestamp),
    col("sent_at", FieldType::Timestamp),
]);

/// An alert as stored.
#[derive(Debug, Clone)]
pub struct AlertRow {
    /// Alert id.
    pub id: String,
    /// Its budget.
    pub budget_id: String,
    /// The organization.
    pub org_id: String,
    /// The period's first instant.
    pub period_start: DateTime<Utc>,
    /// The first instant after the period.
    pub period_end: DateTime<Utc>,
    /// The percent crossed.
    pub threshold: i64,
    /// Micro-credits spent when claimed.
    pub spent_micros: i64,
    /// The limit then, in micro-credits.
    pub limit_micros: i64,
    /// pending, sent, failed.
    pub state: String,
    /// Targets reached.
    pub delivered: Vec<String>,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// Claimed.
    pub created_at: DateTime<Utc>,
    /// Every target reached.
    pub sent_at: Option<DateTime<Utc>>,
}

impl AlertRow {
    /// The API view, instants in `tz`.
    pub fn view(self, tz: Tz) -> Alert {
        Alert {
            id: self.id,
            threshold: self.threshold,
            period_start: self.period_start.with_timezone(&tz).to_rfc3339(),
            at: self.created_at,
            spent: super::credits(self.spent_micros),
            state: self.state,
            delivered: self.delivered,
            sent_at: self.sent_at,
            error: self.last_error,
        }
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("budget {what}: {e}"))
}

fn from_row(mut r: NamedRow) -> Result<Budget, StoreError> {
    let period = r.text("period")?;
    Ok(Budget {
        id: r.text("id")?,
        org_id: r.text("org_id")?,
        name: r.text("name")?,
        team_id: r.opt_text("team_id")?,
        period: super::BudgetPeriod::parse(&period).ok_or_else(|| corrupt("period", &period))?,
        limit_micros: r.i64("limit_micros")?,
        thresholds: r.decode("thresholds")?,
        notify: r.decode::<Notify>("notify")?,
        created_by: r.text("created_by")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn alert_from_row(mut r: NamedRow) -> Result<AlertRow, StoreError> {
    Ok(AlertRow {
        id: r.text("id")?,
        budget_id: r.text("budget_id")?,
        org_id: r.text("org_id")?,
        period_start: r.ts("period_start")?,
        period_end: r.ts("period_end")?,
        threshold: r.i64("threshold")?,
        spent_micros: r.i64("spent_micros")?,
        limit_micros: r.i64("limit_micros")?,
        state: r.text("state")?,
        delivered: r.decode("delivered")?,
        attempts: r.i64("attempts")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.ts("created_at")?,
        sent_at: r.opt_ts("sent_at")?,
    })
}

async fn select(store: &Store, sql: &str, params: &[Value]) -> Result<Vec<Budget>, StoreError> {
    store
        .query_named(sql, params, BUDGET, "budget")
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    Value::Json(serde_json::to_value(v).expect("serializes"))
}

/// A new budget id.
pub fn new_id() -> String {
    format!("bud_{}", uuid::Uuid::now_v7().simple())
}

/// Stores a new budget with its audit record.
pub async fn insert(store: &Store, b: &Budget, audit: &RecordBatch) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "INSERT INTO budgets (id, org_id, name, team_id, period, limit_micros, thresholds, \
             notify, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                b.id.as_str().into(),
                b.org_id.as_str().into(),
                b.name.as_str().into(),
                Value::opt_text(b.team_id.as_deref()),
                b.period.as_str().into(),
                Value::Integer(b.limit_micros),
                json(&b.thresholds),
                json(&b.notify),
                b.created_by.as_str().into(),
                Value::Timestamp(b.created_at),
                Value::Timestamp(b.updated_at),
            ],
            audit,
        )
        .await
}

/// Stores a changed budget with its audit record.
pub async fn update(store: &Store, b: &Budget, audit: &RecordBatch) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "UPDATE budgets SET name = ?, team_id = ?, period = ?, limit_micros = ?, \
             thresholds = ?, notify = ?, updated_at = ? WHERE org_id = ? AND id = ?",
            &[
                b.name.as_str().into(),
                Value::opt_text(b.team_id.as_deref()),
                b.period.as_str().into(),
                Value::Integer(b.limit_micros),
                json(&b.thresholds),
                json(&b.notify),
                Value::Timestamp(b.updated_at),
                b.org_id.as_str().into(),
                b.id.as_str().into(),
            ],
            audit,
        )
        .await
}

/// Deletes a budget (with its audit record) and then its alerts.
pub async fn delete(store: &Store, b: &Budget, audit: &RecordBatch) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "DELETE FROM budgets WHERE org_id = ? AND id = ?",
            &[b.org_id.as_str().into(), b.id.as_str().into()],
            audit,
        )
        .await?;
    store
        .execute(
            "DELETE FROM budget_alerts WHERE budget_id = ?",
            &[b.id.as_str().into()],
        )
        .await?;
    Ok(())
}

/// One budget of `org`.
pub async fn get(store: &Store, org: &str, id: &str) -> Result<Option<Budget>, StoreError> {
    let sql = "SELECT {columns} FROM budgets WHERE org_id = ? AND id = ?";
    Ok(select(store, sql, &[org.into(), id.into()])
        .await?
        .into_iter()
        .next())
}

/// The organization's budgets, oldest first.
pub async fn list(store: &Store, org: &str) -> Result<Vec<Budget>, StoreError> {
    let sql = "SELECT {columns} FROM budgets WHERE org_id = ? ORDER BY created_at, id";
    select(store, sql, &[org.into()]).await
}

/// Every budget (the runner's pass), by organization.
pub async fn all(store: &Store) -> Result<Vec<Budget>, StoreError> {
    let sql = "SELECT {columns} FROM budgets ORDER BY org_id, created_at, id";
    select(store, sql, &[]).await
}

/// A budget's alerts, newest first.
pub async fn alerts(store: &Store, budget: &str, limit: i64) -> Result<Vec<AlertRow>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM budget_alerts WHERE budget_id = ? \
             ORDER BY period_start DESC, threshold DESC LIMIT ?",
            &[budget.into(), Value::Integer(limit)],
            ALERT,
            "budget alert",
        )
        .await?
        .into_iter()
        .map(alert_from_row)
        .collect()
}

/// A new alert to claim.
pub struct NewAlert<'a> {
    /// The budget.
    pub budget: &'a Budget,
    /// The period's first instant.
    pub start: DateTime<Utc>,
    /// The first instant after it.
    pub end: DateTime<Utc>,
    /// The percent crossed.
    pub threshold: i64,
    /// Micro-credits spent now.
    pub spent_micros: i64,
    /// When.
    pub now: DateTime<Utc>,
}

/// The deterministic key of an alert: also its audit record's event id and its webhook id.
pub fn alert_key(budget: &str, start: DateTime<Utc>, threshold: i64) -> String {
    format!("balert_{budget}_{}_{threshold}", start.timestamp())
}

/// Claims an alert with its audit record (`audit`'s event id must be [`alert_key`]); a
/// claim that loses to an earlier one changes nothing.
pub async fn claim(store: &Store, a: &NewAlert<'_>, audit: &RecordBatch) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "INSERT INTO budget_alerts (id, budget_id, org_id, period_start, period_end, \
             threshold, spent_micros, limit_micros, state, delivered, attempts, last_error, \
             next_attempt_at, lease_owner, lease_until, created_at, sent_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, 0, NULL, ?, NULL, NULL, ?, NULL) \
             ON CONFLICT (budget_id, period_start, threshold) DO NOTHING",
            &[
                alert_key(&a.budget.id, a.start, a.threshold).into(),
                a.budget.id.as_str().into(),
                a.budget.org_id.as_str().into(),
                Value::Timestamp(a.start),
                Value::Timestamp(a.end),
                Value::Integer(a.threshold),
                Value::Integer(a.spent_micros),
                Value::Integer(a.budget.limit_micros),
                Value::Json(serde_json::json!([])),
                Value::Timestamp(a.now),
                Value::Timestamp(a.now),
            ],
            audit,
        )
        .await
}

/// The thresholds of `budget` already claimed for the period starting at `start`.
pub async fn claimed(
    store: &Store,
    budget: &str,
    start: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    Ok(store
        .query(
            "SELECT threshold FROM budget_alerts WHERE budget_id = ? AND period_start = ?",
            &[budget.into(), Value::Timestamp(start)],
            &[FieldType::Integer],
        )
        .await?
        .into_iter()
        .filter_map(|r| r[0].as_i64())
        .collect())
}

/// Leases up to `limit` pending alerts whose next attempt is due (of `org` only, when given).
pub async fn lease_due(
    store: &Store,
    node: &str,
    org: Option<&str>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<AlertRow>, StoreError> {
    let skip = match store.kind() {
        BackendKind::Postgres => " FOR UPDATE SKIP LOCKED",
        BackendKind::Sqlite => "",
    };
    let (org_filter, org_param) = match org {
        Some(o) => (" AND org_id = ?", vec![Value::from(o)]),
        None => ("", Vec::new()),
    };
    let mut params: Vec<Value> = vec![
        node.into(),
        Value::Timestamp(until),
        Value::Timestamp(now),
        Value::Timestamp(now),
    ];
    params.extend(org_param);
    params.extend([Value::Integer(limit), Value::Timestamp(now)]);
    store
        .query_write_named(
            &format!(
                "UPDATE budget_alerts SET lease_owner = ?, lease_until = ? \
                 WHERE id IN (SELECT id FROM budget_alerts WHERE state = 'pending' \
                 AND next_attempt_at <= ? AND (lease_owner IS NULL OR lease_until < ?){org_filter} \
                 ORDER BY created_at, id LIMIT ?{skip}) \
                 AND (lease_owner IS NULL OR lease_until < ?) RETURNING {{columns}}"
            ),
            &params,
            ALERT,
            "leased budget alert",
        )
        .await?
        .into_iter()
        .map(alert_from_row)
        .collect()
}

/// What one delivery attempt reached.
pub struct Outcome<'a> {
    /// Targets reached so far (all attempts).
    pub delivered: &'a [String],
    /// pending (retry at `retry_at`), sent or failed.
    pub state: &'static str,
    /// The error of this attempt.
    pub error: Option<&'a str>,
    /// When to try again (pending).
    pub retry_at: DateTime<Utc>,
}

/// Records an attempt and releases the lease; false when the lease was lost.
pub async fn record(
    store: &Store,
    node: &str,
    id: &str,
    o: &Outcome<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = store
        .execute(
            "UPDATE budget_alerts SET delivered = ?, state = ?, last_error = ?, \
             attempts = attempts + 1, next_attempt_at = ?, sent_at = ?, lease_owner = NULL, \
             lease_until = NULL WHERE id = ? AND lease_owner = ?",
            &[
                json(&o.delivered),
                o.state.into(),
                Value::opt_text(o.error),
                Value::Timestamp(o.retry_at),
                Value::opt_ts((o.state == "sent").then_some(now)),
                id.into(),
                node.into(),
            ],
        )
        .await?;
    Ok(changed > 0)
}

//! The `export_schedules` and `export_schedule_runs` tables.
//!
//! **Exactly once.** A run is claimed by inserting its row: `(schedule_id, period_start)` is
//! unique and the insert says `ON CONFLICT DO NOTHING`, so of two nodes (or a node and its
//! restarted self) queueing one period, one inserts and the other changes nothing. The export
//! job is inserted in the same transaction (`Exports::queue_fenced`), so a kill -9 leaves
//! either both or neither.
//!
//! **Delivery.** A finished run's delivery is claimed with a lease on its row (as drains and
//! export jobs are), and every write of its outcome is fenced by `lease_owner`.

use super::model::{
    CadenceSpec, Deliver, ExportTemplate, Schedule, ScheduleRun, ScheduleState, Trigger,
};
use crate::domain::FieldType;
use crate::store::named::{Columns, NamedRow, col, expr};
use crate::store::{BackendKind, RecordBatch, Store, StoreError, Value};
use chrono::{DateTime, Utc};

const SCHEDULE: Columns = Columns(&[
    col("id", FieldType::Text),
    col("org_id", FieldType::Text),
    col("name", FieldType::Text),
    col("export", FieldType::Json),
    col("cadence", FieldType::Json),
    col("deliver", FieldType::Json),
    col("state", FieldType::Text),
    col("state_reason", FieldType::Text),
    col("failed_runs", FieldType::Integer),
    col("next_run_at", FieldType::Timestamp),
    col("covered_until", FieldType::Timestamp),
    col("created_by", FieldType::Text),
    col("created_at", FieldType::Timestamp),
    col("updated_at", FieldType::Timestamp),
]);

/// A run joined with its export job (`r` and `j`).
const RUN: Columns = Columns(&[
    expr("r.id", "id", FieldType::Text),
    expr("r.schedule_id", "schedule_id", FieldType::Text),
    expr("r.org_id", "org_id", FieldType::Text),
    expr("r.period_start", "period_start", FieldType::Timestamp),
    expr("r.period_end", "period_end", FieldType::Timestamp),
    expr("r.trigger_kind", "trigger_kind", FieldType::Text),
    expr("r.export_id", "export_id", FieldType::Text),
    expr("r.skipped_reason", "skipped_reason", FieldType::Text),
    expr("r.delivery", "delivery", FieldType::Text),
    expr("r.delivered", "delivered", FieldType::Json),
    expr(
        "r.delivery_attempts",
        "delivery_attempts",
        FieldType::Integer,
    ),
    expr("r.delivery_error", "delivery_error", FieldType::Text),
    expr(
        "r.next_delivery_at",
        "next_delivery_at",
        FieldType::Timestamp,
    ),
    expr("r.created_at", "created_at", FieldType::Timestamp),
    expr("r.finished_at", "finished_at", FieldType::Timestamp),
    expr("j.state", "export_state", FieldType::Text),
    expr("j.rows_written", "rows", FieldType::Integer),
    expr("j.size_bytes", "bytes", FieldType::Integer),
    expr("j.error", "export_error", FieldType::Text),
]);

const RUN_FROM: &str = "FROM export_schedule_runs r LEFT JOIN export_jobs j ON j.id = r.export_id";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("schedule {what}: {e}"))
}

fn from_row(mut r: NamedRow) -> Result<Schedule, StoreError> {
    let state = r.text("state")?;
    Ok(Schedule {
        id: r.text("id")?,
        org_id: r.text("org_id")?,
        name: r.text("name")?,
        export: r.decode::<ExportTemplate>("export")?,
        cadence: r.decode::<CadenceSpec>("cadence")?,
        deliver: r.decode::<Deliver>("deliver")?,
        state: ScheduleState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        state_reason: r.opt_text("state_reason")?,
        failed_runs: r.i64("failed_runs")?,
        next_run_at: r.opt_ts("next_run_at")?,
        covered_until: r.ts("covered_until")?,
        created_by: r.text("created_by")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn run_from_row(mut r: NamedRow) -> Result<ScheduleRun, StoreError> {
    Ok(ScheduleRun {
        id: r.text("id")?,
        schedule_id: r.text("schedule_id")?,
        org_id: r.text("org_id")?,
        period_start: r.ts("period_start")?,
        period_end: r.ts("period_end")?,
        trigger: r.text("trigger_kind")?,
        export_id: r.opt_text("export_id")?,
        skipped_reason: r.opt_text("skipped_reason")?,
        delivery: r.text("delivery")?,
        delivered: r.decode("delivered")?,
        delivery_attempts: r.i64("delivery_attempts")?,
        error: r.opt_text("delivery_error")?,
        next_delivery_at: r.opt_ts("next_delivery_at")?,
        created_at: r.ts("created_at")?,
        finished_at: r.opt_ts("finished_at")?,
        export_state: r.opt_text("export_state")?,
        rows: r.opt_i64("rows")?,
        bytes: r.opt_i64("bytes")?,
        export_error: r.opt_text("export_error")?,
    })
}

async fn select(store: &Store, sql: &str, params: &[Value]) -> Result<Vec<Schedule>, StoreError> {
    store
        .query_named(sql, params, SCHEDULE, "schedule")
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

async fn select_runs(
    store: &Store,
    sql: &str,
    params: &[Value],
) -> Result<Vec<ScheduleRun>, StoreError> {
    store
        .query_named(sql, params, RUN, "schedule run")
        .await?
        .into_iter()
        .map(run_from_row)
        .collect()
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    Value::Json(serde_json::to_value(v).expect("serializes"))
}

/// A new schedule id.
pub fn new_id() -> String {
    format!("sch_{}", uuid::Uuid::now_v7().simple())
}

/// A new run id.
pub fn new_run_id() -> String {
    format!("run_{}", uuid::Uuid::now_v7().simple())
}

/// Stores a new schedule with its audit record.
pub async fn insert(store: &Store, s: &Schedule, audit: &RecordBatch) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "INSERT INTO export_schedules (id, org_id, name, export, cadence, deliver, state, \
             state_reason, failed_runs, next_run_at, covered_until, created_by, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0, ?, ?, ?, ?, ?)",
            &[
                s.id.as_str().into(),
                s.org_id.as_str().into(),
                s.name.as_str().into(),
                json(&s.export),
                json(&s.cadence),
                json(&s.deliver),
                s.state.as_str().into(),
                Value::opt_ts(s.next_run_at),
                Value::Timestamp(s.covered_until),
                s.created_by.as_str().into(),
                Value::Timestamp(s.created_at),
                Value::Timestamp(s.updated_at),
            ],
            audit,
        )
        .await
}

/// One schedule of `org`.
pub async fn get(store: &Store, org: &str, id: &str) -> Result<Option<Schedule>, StoreError> {
    let sql = "SELECT {columns} FROM export_schedules WHERE org_id = ? AND id = ?";
    Ok(select(store, sql, &[org.into(), id.into()])
        .await?
        .into_iter()
        .next())
}

/// The organization's schedules, newest first.
pub async fn list(store: &Store, org: &str) -> Result<Vec<Schedule>, StoreError> {
    let sql = "SELECT {columns} FROM export_schedules WHERE org_id = ? \
               ORDER BY created_at DESC, id DESC";
    select(store, sql, &[org.into()]).await
}

/// Active schedules whose next run is at or before `now`.
pub async fn due(store: &Store, now: DateTime<Utc>) -> Result<Vec<Schedule>, StoreError> {
    let sql = "SELECT {columns} FROM export_schedules \
               WHERE state = 'active' AND next_run_at <= ? ORDER BY next_run_at, id";
    select(store, sql, &[Value::Timestamp(now)]).await
}

/// Replaces a schedule's settings and where its runs start from (a new cadence starts
/// afresh).
pub async fn update(store: &Store, s: &Schedule, audit: &RecordBatch) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "UPDATE export_schedules SET name = ?, export = ?, cadence = ?, deliver = ?, \
             next_run_at = ?, covered_until = ?, updated_at = ? WHERE org_id = ? AND id = ?",
            &[
                s.name.as_str().into(),
                json(&s.export),
                json(&s.cadence),
                json(&s.deliver),
                Value::opt_ts(s.next_run_at),
                Value::Timestamp(s.covered_until),
                Value::Timestamp(s.updated_at),
                s.org_id.as_str().into(),
                s.id.as_str().into(),
            ],
            audit,
        )
        .await
}

/// Sets the state (pause, resume, error). Resuming clears the failure count and restarts the
/// runs at `next_run_at` / `covered_until`: periods passed while paused are not caught up.
#[allow(clippy::too_many_arguments)]
pub async fn set_state(
    store: &Store,
    org: &str,
    id: &str,
    state: ScheduleState,
    reason: Option<&str>,
    restart: Option<(Option<DateTime<Utc>>, DateTime<Utc>)>,
    now: DateTime<Utc>,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    let mut sql =
        "UPDATE export_schedules SET state = ?, state_reason = ?, updated_at = ?".to_string();
    let mut params: Vec<Value> = vec![
        state.as_str().into(),
        Value::opt_text(reason),
        Value::Timestamp(now),
    ];
    if let Some((next, covered)) = restart {
        sql.push_str(", failed_runs = 0, next_run_at = ?, covered_until = ?");
        params.push(Value::opt_ts(next));
        params.push(Value::Timestamp(covered));
    }
    sql.push_str(" WHERE org_id = ? AND id = ?");
    params.push(org.into());
    params.push(id.into());
    store.execute_with_records(&sql, &params, audit).await
}

/// Deletes a schedule and its run history (not the export jobs); false when there is none.
pub async fn delete(
    store: &Store,
    org: &str,
    id: &str,
    audit: &RecordBatch,
) -> Result<bool, StoreError> {
    let gone = store
        .execute_fenced_with_records(
            &[
                (
                    "DELETE FROM export_schedules WHERE org_id = ? AND id = ?".into(),
                    vec![org.into(), id.into()],
                ),
                (
                    "DELETE FROM export_schedule_runs WHERE schedule_id = ?".into(),
                    vec![id.into()],
                ),
            ],
            audit,
        )
        .await?;
    Ok(gone)
}

/// Moves a schedule's cursor from `from` to `to` (and its next run), unless another node
/// already did: the runs are exactly-once by their key either way, this only saves work.
pub async fn advance(
    store: &Store,
    id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    next_run_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    Ok(store
        .execute(
            "UPDATE export_schedules SET covered_until = ?, next_run_at = ? \
             WHERE id = ? AND covered_until = ? AND state = 'active'",
            &[
                Value::Timestamp(to),
                Value::opt_ts(next_run_at),
                id.into(),
                Value::Timestamp(from),
            ],
        )
        .await?
        > 0)
}

/// A run about to be claimed.
pub struct NewRun<'a> {
    /// Run id.
    pub id: &'a str,
    /// Schedule.
    pub schedule: &'a Schedule,
    /// Period.
    pub start: DateTime<Utc>,
    /// Period end.
    pub end: DateTime<Utc>,
    /// How it came about.
    pub trigger: Trigger,
    /// The export job queued with it.
    pub export_id: Option<&'a str>,
    /// Why it is skipped (no export then).
    pub skipped_reason: Option<&'a str>,
    /// Why no export could be queued (the run is failed at once).
    pub error: Option<&'a str>,
    /// When.
    pub now: DateTime<Utc>,
}

/// `INSERT … ON CONFLICT (schedule_id, period_start) DO NOTHING` of a run: changes a row only
/// for the first claim of the period.
pub fn claim_statement(r: &NewRun<'_>) -> (String, Vec<Value>) {
    let delivery = if r.export_id.is_some() {
        "pending"
    } else if r.error.is_some() {
        "failed"
    } else {
        "none"
    };
    let export = if r.export_id.is_some() { "?" } else { "NULL" };
    let mut params: Vec<Value> = vec![
        r.id.into(),
        r.schedule.id.as_str().into(),
        r.schedule.org_id.as_str().into(),
        Value::Timestamp(r.start),
        Value::Timestamp(r.end),
        r.trigger.as_str().into(),
    ];
    if let Some(e) = r.export_id {
        params.push(e.into());
    }
    params.extend([
        Value::opt_text(r.skipped_reason),
        delivery.into(),
        Value::Json(serde_json::json!([])),
        Value::opt_text(r.error),
        Value::Timestamp(r.now),
        Value::opt_ts((delivery != "pending").then_some(r.now)),
    ]);
    (
        format!(
            "INSERT INTO export_schedule_runs (id, schedule_id, org_id, period_start, period_end, \
             trigger_kind, export_id, skipped_reason, delivery, delivered, delivery_attempts, \
             delivery_error, next_delivery_at, lease_owner, lease_until, created_at, finished_at) \
             VALUES (?, ?, ?, ?, ?, ?, {export}, ?, ?, ?, 0, ?, NULL, NULL, NULL, ?, ?) \
             ON CONFLICT (schedule_id, period_start) DO NOTHING"
        ),
        params,
    )
}

/// Claims a run without an export (skipped or refused); false when the period has a run.
pub async fn insert_run(store: &Store, r: &NewRun<'_>) -> Result<bool, StoreError> {
    let (sql, params) = claim_statement(r);
    Ok(store.execute(&sql, &params).await? > 0)
}

/// The run of a schedule's period, if any.
pub async fn run_of_period(
    store: &Store,
    schedule: &str,
    start: DateTime<Utc>,
) -> Result<Option<ScheduleRun>, StoreError> {
    let sql =
        format!("SELECT {{columns}} {RUN_FROM} WHERE r.schedule_id = ? AND r.period_start = ?");
    Ok(
        select_runs(store, &sql, &[schedule.into(), Value::Timestamp(start)])
            .await?
            .into_iter()
            .next(),
    )
}

/// One run.
pub async fn get_run(store: &Store, id: &str) -> Result<Option<ScheduleRun>, StoreError> {
    let sql = format!("SELECT {{columns}} {RUN_FROM} WHERE r.id = ?");
    Ok(select_runs(store, &sql, &[id.into()])
        .await?
        .into_iter()
        .next())
}

/// A schedule's runs, newest period first, at most `limit`.
pub async fn runs(
    store: &Store,
    org: &str,
    schedule: &str,
    limit: i64,
) -> Result<Vec<ScheduleRun>, StoreError> {
    let sql = format!(
        "SELECT {{columns}} {RUN_FROM} WHERE r.org_id = ? AND r.schedule_id = ? \
         ORDER BY r.period_start DESC, r.id DESC LIMIT ?"
    );
    select_runs(
        store,
        &sql,
        &[org.into(), schedule.into(), Value::Integer(limit)],
    )
    .await
}

/// Claims up to `limit` runs whose export has ended and whose delivery is due; their ids.
pub async fn claim_deliveries(
    store: &Store,
    node: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    const ID: Columns = Columns(&[col("id", FieldType::Text)]);
    const FREE: &str = "(lease_owner IS NULL OR lease_until < ?)";
    let skip = match store.kind() {
        BackendKind::Postgres => " FOR UPDATE OF r SKIP LOCKED",
        BackendKind::Sqlite => "",
    };
    let rows = store
        .query_write_named(
            &format!(
                "UPDATE export_schedule_runs SET lease_owner = ?, lease_until = ? \
                 WHERE id IN (SELECT r.id FROM export_schedule_runs r \
                 JOIN export_jobs j ON j.id = r.export_id \
                 WHERE r.delivery = 'pending' \
                 AND j.state IN ('COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED') \
                 AND (r.next_delivery_at IS NULL OR r.next_delivery_at <= ?) \
                 AND (r.lease_owner IS NULL OR r.lease_until < ?) \
                 ORDER BY r.period_start, r.id LIMIT ?{skip}) AND {FREE} RETURNING {{columns}}"
            ),
            &[
                node.into(),
                Value::Timestamp(until),
                Value::Timestamp(now),
                Value::Timestamp(now),
                Value::Integer(limit),
                Value::Timestamp(now),
            ],
            ID,
            "claimed run",
        )
        .await?;
    rows.into_iter().map(|mut r| r.text("id")).collect()
}

/// Records what a delivery attempt reached. `done`: every target; else the run waits until
/// `retry_at` (or, with `None`, has failed for good with `error`). Fenced by the lease.
pub async fn record_delivery(
    store: &Store,
    node: &str,
    run: &ScheduleRun,
    outcome: &DeliveryOutcome<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (state, next, finished) = match (outcome.done, outcome.retry_at) {
        (true, _) => ("done", None, Some(now)),
        (false, Some(at)) => ("pending", Some(at), None),
        (false, None) => ("failed", None, Some(now)),
    };
    Ok(store
        .execute(
            "UPDATE export_schedule_runs SET delivery = ?, delivered = ?, \
             delivery_attempts = delivery_attempts + ?, delivery_error = ?, \
             next_delivery_at = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL \
             WHERE id = ? AND lease_owner = ?",
            &[
                state.into(),
                json(&outcome.delivered),
                Value::Integer(i64::from(outcome.attempted)),
                Value::opt_text(outcome.error),
                Value::opt_ts(next),
                Value::opt_ts(finished),
                run.id.as_str().into(),
                node.into(),
            ],
        )
        .await?
        > 0)
}

/// What one delivery pass of a run came to.
pub struct DeliveryOutcome<'a> {
    /// Every target reached.
    pub done: bool,
    /// Targets reached so far.
    pub delivered: &'a [String],
    /// Whether this pass tried anything (counts as an attempt).
    pub attempted: bool,
    /// The last error.
    pub error: Option<&'a str>,
    /// When to try again (`None` and not done: failed for good).
    pub retry_at: Option<DateTime<Utc>>,
}

/// Counts a failed run; the new number of failed runs in a row.
pub async fn count_failure(store: &Store, id: &str) -> Result<i64, StoreError> {
    const N: Columns = Columns(&[col("failed_runs", FieldType::Integer)]);
    let rows = store
        .query_write_named(
            "UPDATE export_schedules SET failed_runs = failed_runs + 1 WHERE id = ? \
             RETURNING {columns}",
            &[id.into()],
            N,
            "failed runs",
        )
        .await?;
    match rows.into_iter().next() {
        Some(mut r) => r.i64("failed_runs"),
        None => Ok(0),
    }
}

/// A run succeeded: the failures in a row start again from zero.
pub async fn reset_failures(store: &Store, id: &str) -> Result<(), StoreError> {
    store
        .execute(
            "UPDATE export_schedules SET failed_runs = 0 WHERE id = ?",
            &[id.into()],
        )
        .await?;
    Ok(())
}

/// Puts an active schedule in `error` (with its audit record and `also`, the notification
/// outbox insert, in the same transaction); false when it was not active
/// (paused meanwhile, or another node did it).
pub async fn set_error(
    store: &Store,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
    audit: &RecordBatch,
    also: Option<(String, Vec<Value>)>,
) -> Result<bool, StoreError> {
    let mut statements = vec![(
        "UPDATE export_schedules SET state = 'error', state_reason = ?, updated_at = ? \
         WHERE id = ? AND state = 'active'"
            .to_string(),
        vec![reason.into(), Value::Timestamp(now), id.into()],
    )];
    statements.extend(also);
    store.execute_fenced_with_records(&statements, audit).await
}

/// The organization's admins' email addresses.
pub async fn admin_emails(store: &Store, org: &str) -> Result<Vec<String>, StoreError> {
    crate::drain::repo::admin_emails(store, org).await
}

//! The export job queue in the database (`export_jobs`), shared by every `outflow serve`
//! process on the same database.
//!
//! **Claiming.** A worker claims the oldest `REQUESTED` job, or an `IN_PROGRESS` job whose
//! lease has run out (its worker died), with one conditional `UPDATE … RETURNING`: the
//! `WHERE` repeats the claimable condition, so when two workers race for the same row the
//! second one's update re-checks it against the first one's committed row (PostgreSQL
//! re-evaluates the qualification after the row lock; SQLite has one writer) and matches
//! nothing. A claimed job is fenced by `lease_owner`: heartbeats, completion and failure only
//! apply while the claimant still holds the lease, so a worker that was presumed dead and
//! comes back cannot overwrite its successor's result.

use super::spec::ExportSpec;
use crate::domain::FieldType;
use crate::store::{BackendKind, RecordBatch, Store, StoreError, Value};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Export job states (the reference API's four plus `CANCELLED` and `EXPIRED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Created and queued.
    Requested,
    /// A worker is writing the file.
    InProgress,
    /// Done; the file can be downloaded.
    Completed,
    /// The export hit an error (see `error`).
    Failed,
    /// Cancelled before it finished.
    Cancelled,
    /// Completed, and its file has passed retention and been deleted.
    Expired,
}

impl JobState {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Requested => "REQUESTED",
            JobState::InProgress => "IN_PROGRESS",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Cancelled => "CANCELLED",
            JobState::Expired => "EXPIRED",
        }
    }

    /// Whether the job can no longer change (but for expiry).
    pub fn is_final(self) -> bool {
        !matches!(self, JobState::Requested | JobState::InProgress)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "REQUESTED" => JobState::Requested,
            "IN_PROGRESS" => JobState::InProgress,
            "COMPLETED" => JobState::Completed,
            "FAILED" => JobState::Failed,
            "CANCELLED" => JobState::Cancelled,
            "EXPIRED" => JobState::Expired,
            other => return Err(format!("unknown export state `{other}`")),
        })
    }
}

/// One export job as stored.
#[derive(Debug, Clone)]
pub struct ExportJob {
    /// Job id (`exp_…`).
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// Member id or `key:{id}` that asked for it.
    pub requested_by: String,
    /// Where the completion email goes.
    pub requester_email: Option<String>,
    /// The validated request.
    pub spec: ExportSpec,
    /// State.
    pub state: JobState,
    /// Rows written so far (or in total, once completed).
    pub rows_written: i64,
    /// File size once completed.
    pub size_bytes: Option<i64>,
    /// Object key of the file.
    pub file_key: Option<String>,
    /// File name offered to downloaders.
    pub file_name: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Claims so far.
    pub attempts: i64,
    /// Whether a cancel was asked for while running.
    pub cancel_requested: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// First claimed.
    pub started_at: Option<DateTime<Utc>>,
    /// Completed, failed or cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// When the file will be (or was) deleted.
    pub expires_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, org_id, requested_by, requester_email, spec, state, rows_written, \
    size_bytes, file_key, file_name, error, attempts, cancel_requested, created_at, started_at, \
    finished_at, expires_at";

const TYPES: [FieldType; 17] = [
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Json,
    FieldType::Text,
    FieldType::Integer,
    FieldType::Integer,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Integer,
    FieldType::Boolean,
    FieldType::Timestamp,
    FieldType::Timestamp,
    FieldType::Timestamp,
    FieldType::Timestamp,
];

fn from_row(mut r: Vec<Value>) -> Result<ExportJob, StoreError> {
    let text = |v: &mut Value| match std::mem::replace(v, Value::Null) {
        Value::Text(s) => Some(s),
        _ => None,
    };
    let spec: ExportSpec = match std::mem::replace(&mut r[4], Value::Null) {
        Value::Json(j) => serde_json::from_value(j)
            .map_err(|e| StoreError::Corrupt(format!("export job spec: {e}")))?,
        _ => return Err(StoreError::Corrupt("export job without spec".into())),
    };
    Ok(ExportJob {
        id: text(&mut r[0]).unwrap_or_default(),
        org_id: text(&mut r[1]).unwrap_or_default(),
        requested_by: text(&mut r[2]).unwrap_or_default(),
        requester_email: text(&mut r[3]),
        spec,
        state: text(&mut r[5])
            .unwrap_or_default()
            .parse()
            .map_err(StoreError::Corrupt)?,
        rows_written: r[6].as_i64().unwrap_or_default(),
        size_bytes: r[7].as_i64(),
        file_key: text(&mut r[8]),
        file_name: text(&mut r[9]),
        error: text(&mut r[10]),
        attempts: r[11].as_i64().unwrap_or_default(),
        cancel_requested: matches!(r[12], Value::Bool(true)),
        created_at: r[13].as_timestamp().unwrap_or_default(),
        started_at: r[14].as_timestamp(),
        finished_at: r[15].as_timestamp(),
        expires_at: r[16].as_timestamp(),
    })
}

fn from_rows(rows: Vec<Vec<Value>>) -> Result<Vec<ExportJob>, StoreError> {
    rows.into_iter().map(from_row).collect()
}

/// A new job id: time-ordered, so ids sort like creation times.
pub fn new_id() -> String {
    format!("exp_{}", uuid::Uuid::now_v7().simple())
}

/// The `INSERT` that queues job `id` (for [`insert`] and for a caller that queues a job
/// inside its own transaction, such as a scheduled run claiming its period).
pub fn insert_statement(
    id: &str,
    requested_by: &str,
    requester_email: Option<&str>,
    spec: &ExportSpec,
    now: DateTime<Utc>,
) -> Result<(String, Vec<Value>), StoreError> {
    let json = serde_json::to_value(spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((
        "INSERT INTO export_jobs (id, org_id, requested_by, requester_email, data_type, spec, \
         range_start, range_end, timezone, format, gzip, state, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'REQUESTED', ?)"
            .to_string(),
        vec![
            id.into(),
            spec.org_id.as_str().into(),
            requested_by.into(),
            Value::opt_text(requester_email),
            spec.data_type.as_str().into(),
            Value::Json(json),
            Value::Timestamp(spec.start),
            Value::Timestamp(spec.end),
            spec.timezone.as_str().into(),
            spec.format.as_str().into(),
            Value::Bool(spec.gzip),
            Value::Timestamp(now),
        ],
    ))
}

/// Queues a job and writes its `audit_logs` record in the same transaction.
pub async fn insert(
    store: &Store,
    id: &str,
    requested_by: &str,
    requester_email: Option<&str>,
    spec: &ExportSpec,
    now: DateTime<Utc>,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    let (sql, params) = insert_statement(id, requested_by, requester_email, spec, now)?;
    store.execute_with_records(&sql, &params, audit).await
}

/// One job of `org`.
pub async fn get(store: &Store, org: &str, id: &str) -> Result<Option<ExportJob>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM export_jobs WHERE org_id = ? AND id = ?"),
            &[org.into(), id.into()],
            &TYPES,
        )
        .await?;
    Ok(from_rows(rows)?.into_iter().next())
}

/// What the export history is narrowed to: every part optional, all parts must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only jobs of this data type.
    pub data_type: Option<crate::domain::DataType>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs whose id or requester email contains this text (any case).
    pub text: Option<String>,
}

impl ListFilter {
    /// The `AND …` conditions after `org_id = ?` and their parameters. The text is matched
    /// with `LIKE … ESCAPE`, its `%`, `_` and `\` escaped, so it is found literally; both
    /// sides are lower-cased because PostgreSQL's `LIKE` is case-sensitive and SQLite's not.
    fn conditions(&self) -> (String, Vec<Value>) {
        let mut sql = String::new();
        let mut params = Vec::new();
        if let Some(dt) = self.data_type {
            sql.push_str(" AND data_type = ?");
            params.push(dt.as_str().into());
        }
        if let Some(state) = self.state {
            sql.push_str(" AND state = ?");
            params.push(state.as_str().into());
        }
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let pattern = crate::store::like_pattern(text);
            sql.push_str(
                " AND (LOWER(id) LIKE ? ESCAPE '\\' \
                 OR LOWER(COALESCE(requester_email, '')) LIKE ? ESCAPE '\\')",
            );
            params.push(pattern.as_str().into());
            params.push(pattern.as_str().into());
        }
        (sql, params)
    }
}

/// A page of `org`'s history, newest first, and the total.
pub async fn list(
    store: &Store,
    org: &str,
    page: u32,
    page_size: u32,
) -> Result<(Vec<ExportJob>, i64), StoreError> {
    list_filtered(store, org, &ListFilter::default(), page, page_size).await
}

/// A page of `org`'s history narrowed by `filter`, newest first, and the filtered total.
pub async fn list_filtered(
    store: &Store,
    org: &str,
    filter: &ListFilter,
    page: u32,
    page_size: u32,
) -> Result<(Vec<ExportJob>, i64), StoreError> {
    let offset = i64::from(page.max(1) - 1) * i64::from(page_size);
    let (conditions, extra) = filter.conditions();
    let mut params: Vec<Value> = vec![org.into()];
    params.extend(extra);
    let total = store
        .query(
            &format!("SELECT COUNT(*) FROM export_jobs WHERE org_id = ?{conditions}"),
            &params,
            &[FieldType::Integer],
        )
        .await?
        .first()
        .and_then(|r| r[0].as_i64())
        .unwrap_or_default();
    params.push(Value::Integer(page_size.into()));
    params.push(Value::Integer(offset));
    let rows = store
        .query(
            &format!(
                "SELECT {COLUMNS} FROM export_jobs WHERE org_id = ?{conditions} \
                 ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
            ),
            &params,
            &TYPES,
        )
        .await?;
    Ok((from_rows(rows)?, total))
}

/// Claims the oldest claimable job for `owner` until `lease_until`.
pub async fn claim(
    store: &Store,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    max_attempts: u32,
) -> Result<Option<ExportJob>, StoreError> {
    const CLAIMABLE: &str =
        "(state = 'REQUESTED' OR (state = 'IN_PROGRESS' AND lease_until < ? AND attempts < ?))";
    // SKIP LOCKED lets racing PostgreSQL workers pass each other instead of queueing on the
    // same row; correctness does not depend on it (see the module header).
    let skip = match store.kind() {
        BackendKind::Postgres => " FOR UPDATE SKIP LOCKED",
        BackendKind::Sqlite => "",
    };
    let sql = format!(
        "UPDATE export_jobs SET state = 'IN_PROGRESS', lease_owner = ?, lease_until = ?, \
         attempts = attempts + 1, started_at = COALESCE(started_at, ?) \
         WHERE id = (SELECT id FROM export_jobs WHERE {CLAIMABLE} ORDER BY created_at, id LIMIT 1{skip}) \
         AND {CLAIMABLE} RETURNING {COLUMNS}"
    );
    let max = Value::Integer(max_attempts.into());
    let rows = store
        .query_write(
            &sql,
            &[
                owner.into(),
                Value::Timestamp(lease_until),
                Value::Timestamp(now),
                Value::Timestamp(now),
                max.clone(),
                Value::Timestamp(now),
                max,
            ],
            &TYPES,
        )
        .await?;
    Ok(from_rows(rows)?.into_iter().next())
}

/// Jobs whose workers died `max_attempts` times: marked failed (or cancelled, when a cancel
/// was requested); returned for notification and clean-up.
pub async fn fail_abandoned(
    store: &Store,
    now: DateTime<Utc>,
    max_attempts: u32,
) -> Result<Vec<ExportJob>, StoreError> {
    let rows = store
        .query_write(
            &format!(
                "UPDATE export_jobs SET finished_at = ?, lease_owner = NULL, \
                 state = CASE WHEN cancel_requested = ? THEN 'CANCELLED' ELSE 'FAILED' END, \
                 error = CASE WHEN cancel_requested = ? THEN NULL ELSE \
                 'the export was interrupted ' || attempts || ' times (worker stopped or lost its lease)' END \
                 WHERE state = 'IN_PROGRESS' AND lease_until < ? AND attempts >= ? RETURNING {COLUMNS}"
            ),
            &[
                Value::Timestamp(now),
                Value::Bool(true),
                Value::Bool(true),
                Value::Timestamp(now),
                Value::Integer(max_attempts.into()),
            ],
            &TYPES,
        )
        .await?;
    from_rows(rows)
}

/// Extends the lease and records progress. `None` when the lease is no longer ours;
/// otherwise whether a cancel was requested.
pub async fn heartbeat(
    store: &Store,
    id: &str,
    owner: &str,
    lease_until: DateTime<Utc>,
    rows: u64,
) -> Result<Option<bool>, StoreError> {
    let rows = store
        .query_write(
            "UPDATE export_jobs SET lease_until = ?, rows_written = ? \
             WHERE id = ? AND lease_owner = ? AND state = 'IN_PROGRESS' RETURNING cancel_requested",
            &[
                Value::Timestamp(lease_until),
                Value::Integer(rows as i64),
                id.into(),
                owner.into(),
            ],
            &[FieldType::Boolean],
        )
        .await?;
    Ok(rows.first().map(|r| matches!(r[0], Value::Bool(true))))
}

/// The file a completed job produced.
#[derive(Debug, Clone)]
pub struct Finished<'a> {
    /// Rows written.
    pub rows: u64,
    /// File size.
    pub bytes: u64,
    /// Object key.
    pub file_key: &'a str,
    /// Download name.
    pub file_name: &'a str,
    /// When retention deletes it.
    pub expires_at: DateTime<Utc>,
}

/// Marks a job completed, if `owner` still holds it and no cancel was requested: once a
/// cancel has been accepted the job can only end `CANCELLED` (see [`request_cancel`]).
/// `false` means the caller must not keep the file.
pub async fn complete(
    store: &Store,
    id: &str,
    owner: &str,
    f: &Finished<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = store
        .execute(
            "UPDATE export_jobs SET state = 'COMPLETED', rows_written = ?, size_bytes = ?, \
             file_key = ?, file_name = ?, expires_at = ?, finished_at = ?, lease_owner = NULL \
             WHERE id = ? AND lease_owner = ? AND state = 'IN_PROGRESS' AND cancel_requested = ?",
            &[
                Value::Integer(f.rows as i64),
                Value::Integer(f.bytes as i64),
                f.file_key.into(),
                f.file_name.into(),
                Value::Timestamp(f.expires_at),
                Value::Timestamp(now),
                id.into(),
                owner.into(),
                Value::Bool(false),
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Ends a job as `FAILED` (with `error`) or `CANCELLED`, if `owner` still holds it, and
/// returns the state it ended in (`None`: the lease is no longer ours). A job whose cancel was
/// requested ends `CANCELLED` whatever stopped it: the requester was promised that.
pub async fn finish_unsuccessfully(
    store: &Store,
    id: &str,
    owner: &str,
    state: JobState,
    error: Option<&str>,
    rows: u64,
    now: DateTime<Utc>,
) -> Result<Option<JobState>, StoreError> {
    let rows = store
        .query_write(
            "UPDATE export_jobs SET \
             state = CASE WHEN cancel_requested = ? THEN 'CANCELLED' ELSE ? END, \
             error = CASE WHEN cancel_requested = ? THEN NULL ELSE ? END, \
             rows_written = ?, finished_at = ?, lease_owner = NULL \
             WHERE id = ? AND lease_owner = ? AND state = 'IN_PROGRESS' RETURNING state",
            &[
                Value::Bool(true),
                state.as_str().into(),
                Value::Bool(true),
                Value::opt_text(error),
                Value::Integer(rows as i64),
                Value::Timestamp(now),
                id.into(),
                owner.into(),
            ],
            &[FieldType::Text],
        )
        .await?;
    rows.first()
        .map(|r| match &r[0] {
            Value::Text(s) => s.parse().map_err(StoreError::Corrupt),
            _ => Err(StoreError::Corrupt("export job without state".into())),
        })
        .transpose()
}

/// What a cancel request did.
#[derive(Debug, Clone)]
pub enum CancelOutcome {
    /// The job was queued and is now `CANCELLED`.
    Cancelled(ExportJob),
    /// The job is running: its worker stops at its next check and the job ends `CANCELLED`
    /// (completion is refused from now on).
    Requested(ExportJob),
    /// The job had already ended (`COMPLETED`, `FAILED`, `CANCELLED` or `EXPIRED`).
    TooLate(ExportJob),
}

/// Cancels a job of `org`: a queued one at once; a running one is marked so that it can only
/// end `CANCELLED` (its worker stops at its next check; see [`complete`]); a finished one is
/// left alone and reported as too late. Each step is one conditional update, so a cancel and
/// a completion racing for the same job have exactly one winner. `None`: no such job.
pub async fn request_cancel(
    store: &Store,
    org: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<CancelOutcome>, StoreError> {
    let queued = store
        .execute(
            "UPDATE export_jobs SET state = 'CANCELLED', finished_at = ? \
             WHERE org_id = ? AND id = ? AND state = 'REQUESTED'",
            &[Value::Timestamp(now), org.into(), id.into()],
        )
        .await?;
    let running = if queued == 0 {
        store
            .execute(
                "UPDATE export_jobs SET cancel_requested = ? \
                 WHERE org_id = ? AND id = ? AND state = 'IN_PROGRESS'",
                &[Value::Bool(true), org.into(), id.into()],
            )
            .await?
    } else {
        0
    };
    Ok(get(store, org, id).await?.map(|job| {
        if queued == 1 {
            CancelOutcome::Cancelled(job)
        } else if running == 1 {
            CancelOutcome::Requested(job)
        } else {
            CancelOutcome::TooLate(job)
        }
    }))
}

/// Completed jobs whose retention has run out.
pub async fn due_for_expiry(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<ExportJob>, StoreError> {
    let rows = store
        .query(
            &format!(
                "SELECT {COLUMNS} FROM export_jobs WHERE state = 'COMPLETED' AND expires_at <= ? \
                 ORDER BY expires_at LIMIT 500"
            ),
            &[Value::Timestamp(now)],
            &TYPES,
        )
        .await?;
    from_rows(rows)
}

/// Marks a completed job expired (its file is gone).
pub async fn mark_expired(store: &Store, id: &str) -> Result<(), StoreError> {
    store
        .execute(
            "UPDATE export_jobs SET state = 'EXPIRED' WHERE id = ? AND state = 'COMPLETED'",
            &[id.into()],
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_text_is_matched_literally_and_in_any_case() {
        let filter = ListFilter {
            text: Some("  A_b%c\\d ".into()),
            ..ListFilter::default()
        };
        let (sql, params) = filter.conditions();
        assert_eq!(sql.matches("LIKE ? ESCAPE").count(), 2, "{sql}");
        let pattern = Value::from("%a\\_b\\%c\\\\d%");
        assert_eq!(params, vec![pattern.clone(), pattern]);
        assert_eq!(ListFilter::default().conditions(), (String::new(), vec![]));
    }
}

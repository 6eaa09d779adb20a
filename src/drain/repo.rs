//! The `drains` and `drain_deliveries` tables: settings, status, leases and the cursor.
//!
//! **Leases.** A node claims active drains nobody holds (or whose lease ran out) with one
//! `UPDATE … RETURNING`, renews what it holds every third of the lease, and lets go of what it
//! no longer renews. Every write the engine makes while delivering — the pending batch, the
//! cursor, a failed cycle — is fenced by `lease_owner = this node`, so a node that stalled past
//! its lease and comes back cannot move a cursor its successor now owns.
//!
//! **Crash safety.** Before sending a batch the engine records its last position
//! (`pending_last`); after the destination accepted it, the cursor, the counters and the
//! delivery row are committed in one transaction. A crash in between leaves `pending_last`
//! set, and whoever holds the drain next re-sends exactly that batch under the same
//! idempotency key.
//!
//! **Rows by name.** Every query's columns are declared once as a [`Columns`] list (the SELECT
//! list is rendered from it) and rows are read back by column name, so a column added to a
//! query cannot shift another; a NULL in a NOT NULL column is a `Corrupt` error, never a
//! silent default. The INSERT names its columns beside their values for the same reason.

use super::dest::describe::hide_url_paths;
use super::model::{DeliveryAttempt, Drain, DrainStatus};
use crate::domain::FieldType;
use crate::store::named::{Columns, NamedRow, col, expr};
use crate::store::{BackendKind, RecordBatch, Store, StoreError, Value};
use chrono::{DateTime, Utc};

// Out of line (`repo/tests.rs`) so that functions added at the end of this file stay above
// no test module.
pub mod replays;
#[cfg(test)]
mod tests;

/// The drains table's columns, then `$extra` computed ones.
macro_rules! drain_columns {
    ($($extra:expr),*) => {
        Columns(&[
        col("id", FieldType::Text),
        col("org_id", FieldType::Text),
        col("name", FieldType::Text),
        col("data_type", FieldType::Text),
        col("scope", FieldType::Json),
        col("destination", FieldType::Json),
        col("secret_id", FieldType::Text),
        col("status", FieldType::Text),
        col("status_reason", FieldType::Text),
        col("cursor_pos", FieldType::Integer),
        col("pending_last", FieldType::Integer),
        col("failed_cycles", FieldType::Integer),
        col("batch_seq", FieldType::Integer),
        col("batch_prev", FieldType::Text),
        col("start_pos", FieldType::Integer),
        col("records_delivered", FieldType::Integer),
        col("last_synced_at", FieldType::Timestamp),
        col("oldest_pending_at", FieldType::Timestamp),
        col("start_ts", FieldType::Timestamp),
        col("lease_owner", FieldType::Text),
        col("lease_until", FieldType::Timestamp),
        col("created_by", FieldType::Text),
        col("created_at", FieldType::Timestamp),
        col("updated_at", FieldType::Timestamp),
            $($extra),*
        ])
    };
}

/// The stored columns: tests hold `insert_row` to them, column for column.
#[cfg(test)]
const DRAIN: Columns = drain_columns!();

/// What reads return: the stored columns and the ingest time of the oldest record past the
/// cursor (the first ingest mark beyond it).
const DRAIN_READ: Columns = drain_columns!(expr(
    "(SELECT m.at FROM ingest_marks m WHERE m.data_type = drains.data_type \
     AND m.org_id = drains.org_id AND m.last_pos > drains.cursor_pos \
     ORDER BY m.last_pos LIMIT 1)",
    "oldest_ingested_at",
    FieldType::Timestamp
));

/// What `drain_ids` reads from `… RETURNING {columns}`.
const ID: Columns = Columns(&[col("id", FieldType::Text)]);

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("drain {what}: {e}"))
}

/// A drain from a row of [`DRAIN_READ`]; NULL only where the column may be NULL.
fn from_row(mut r: NamedRow) -> Result<Drain, StoreError> {
    Ok(Drain {
        id: r.text("id")?,
        org_id: r.text("org_id")?,
        name: r.text("name")?,
        data_type: r
            .text("data_type")?
            .parse()
            .map_err(|e| corrupt("data_type", e))?,
        scope: r.decode("scope")?,
        destination: r.decode("destination")?,
        secret_id: r.text("secret_id")?,
        status: r
            .text("status")?
            .parse()
            .map_err(|e: String| corrupt("status", e))?,
        // Rows from before errors hid URL paths may carry a webhook's token.
        status_reason: r.opt_text("status_reason")?.map(|t| hide_url_paths(&t)),
        cursor_pos: r.i64("cursor_pos")?,
        pending_last: r.opt_i64("pending_last")?,
        failed_cycles: r.i64("failed_cycles")?,
        batch_seq: r.i64("batch_seq")?,
        batch_prev: r.opt_text("batch_prev")?,
        start_pos: r.i64("start_pos")?,
        records_delivered: r.i64("records_delivered")?,
        last_synced_at: r.opt_ts("last_synced_at")?,
        oldest_pending_at: r.opt_ts("oldest_pending_at")?,
        start_ts: r.opt_ts("start_ts")?,
        lease_owner: r.opt_text("lease_owner")?,
        lease_until: r.opt_ts("lease_until")?,
        created_by: r.text("created_by")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
        oldest_ingested_at: r.opt_ts("oldest_ingested_at")?,
    })
}

/// The drains of a query whose SELECT list is `{columns}` (rendered from [`DRAIN_READ`]).
async fn select(store: &Store, sql: &str, params: &[Value]) -> Result<Vec<Drain>, StoreError> {
    store
        .query_named(sql, params, DRAIN_READ, "drain")
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    Value::Json(serde_json::to_value(v).expect("serializes"))
}

/// A new drain id.
pub fn new_id() -> String {
    format!("drn_{}", uuid::Uuid::now_v7().simple())
}

/// A new drain's row, each value beside its column's name. `None` is written as a literal
/// NULL: PostgreSQL caches a statement with the types of its first parameters, and an untyped
/// NULL parameter would make an integer column text.
fn insert_row(d: &Drain) -> [(&'static str, Option<Value>); 24] {
    [
        ("id", Some(d.id.as_str().into())),
        ("org_id", Some(d.org_id.as_str().into())),
        ("name", Some(d.name.as_str().into())),
        ("data_type", Some(d.data_type.as_str().into())),
        ("scope", Some(to_json(&d.scope))),
        ("destination", Some(to_json(&d.destination))),
        ("secret_id", Some(d.secret_id.as_str().into())),
        ("status", Some(d.status.as_str().into())),
        (
            "status_reason",
            Some(Value::opt_text(d.status_reason.clone())),
        ),
        ("cursor_pos", Some(Value::Integer(d.cursor_pos))),
        ("pending_last", None),
        ("failed_cycles", Some(Value::Integer(0))),
        ("batch_seq", Some(Value::Integer(d.batch_seq))),
        ("batch_prev", Some(Value::opt_text(d.batch_prev.clone()))),
        ("start_pos", Some(Value::Integer(d.start_pos))),
        ("records_delivered", Some(Value::Integer(0))),
        ("last_synced_at", Some(Value::NullTimestamp)),
        ("oldest_pending_at", Some(Value::NullTimestamp)),
        ("start_ts", Some(Value::opt_ts(d.start_ts))),
        ("lease_owner", Some(Value::Null)),
        ("lease_until", Some(Value::NullTimestamp)),
        ("created_by", Some(d.created_by.as_str().into())),
        ("created_at", Some(Value::Timestamp(d.created_at))),
        ("updated_at", Some(Value::Timestamp(d.updated_at))),
    ]
}

/// `INSERT INTO drains (…) VALUES (…)` for [`insert_row`]: names and placeholders rendered
/// from the same list, so they cannot fall out of step.
fn insert_statement(d: &Drain) -> (String, Vec<Value>) {
    let mut names = Vec::new();
    let mut slots = Vec::new();
    let mut params = Vec::new();
    for (name, value) in insert_row(d) {
        names.push(format!("\"{name}\""));
        match value {
            Some(v) => {
                slots.push("?");
                params.push(v);
            }
            None => slots.push("NULL"),
        }
    }
    let sql = format!(
        "INSERT INTO drains ({}) VALUES ({})",
        names.join(", "),
        slots.join(", ")
    );
    (sql, params)
}

/// Stores a new drain with its audit record.
pub async fn insert(store: &Store, d: &Drain, audit: &RecordBatch) -> Result<(), StoreError> {
    let (sql, params) = insert_statement(d);
    store.execute_with_records(&sql, &params, audit).await
}

/// One drain of `org`.
pub async fn get(store: &Store, org: &str, id: &str) -> Result<Option<Drain>, StoreError> {
    let sql = "SELECT {columns} FROM drains WHERE org_id = ? AND id = ?";
    Ok(select(store, sql, &[org.into(), id.into()])
        .await?
        .into_iter()
        .next())
}

/// One drain, whatever its organization (the engine).
pub async fn get_any(store: &Store, id: &str) -> Result<Option<Drain>, StoreError> {
    let sql = "SELECT {columns} FROM drains WHERE id = ?";
    Ok(select(store, sql, &[id.into()]).await?.into_iter().next())
}

/// The organization's drains, newest first.
pub async fn list(store: &Store, org: &str) -> Result<Vec<Drain>, StoreError> {
    let sql = "SELECT {columns} FROM drains WHERE org_id = ? ORDER BY created_at DESC, id DESC";
    select(store, sql, &[org.into()]).await
}

/// Every drain (metrics).
pub async fn list_all(store: &Store) -> Result<Vec<Drain>, StoreError> {
    select(store, "SELECT {columns} FROM drains ORDER BY id", &[]).await
}

/// Replaces a drain's settings (name, scope, destination, secret).
pub async fn update_settings(
    store: &Store,
    d: &Drain,
    now: DateTime<Utc>,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "UPDATE drains SET name = ?, scope = ?, destination = ?, secret_id = ?, updated_at = ? \
             WHERE org_id = ? AND id = ?",
            &[
                d.name.as_str().into(),
                to_json(&d.scope),
                to_json(&d.destination),
                d.secret_id.as_str().into(),
                Value::Timestamp(now),
                d.org_id.as_str().into(),
                d.id.as_str().into(),
            ],
            audit,
        )
        .await?;
    store.settings_changed();
    Ok(())
}

/// Sets the status (pause, resume); resuming clears the failure count. The holder notices at
/// its next cycle or lease renewal.
pub async fn set_status(
    store: &Store,
    org: &str,
    id: &str,
    status: DrainStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    let reset = if status == DrainStatus::Active {
        ", failed_cycles = 0"
    } else {
        ""
    };
    store
        .execute_with_records(
            &format!(
                "UPDATE drains SET status = ?, status_reason = ?, updated_at = ?{reset} \
                 WHERE org_id = ? AND id = ?"
            ),
            &[
                status.as_str().into(),
                Value::opt_text(reason),
                Value::Timestamp(now),
                org.into(),
                id.into(),
            ],
            audit,
        )
        .await?;
    store.settings_changed();
    Ok(())
}

/// Deletes a drain and its delivery log; false when there is none.
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
                    "DELETE FROM drains WHERE org_id = ? AND id = ?".into(),
                    vec![org.into(), id.into()],
                ),
                (
                    "DELETE FROM drain_deliveries WHERE drain_id = ?".into(),
                    vec![id.into()],
                ),
                (
                    "DELETE FROM drain_replays WHERE drain_id = ?".into(),
                    vec![id.into()],
                ),
            ],
            audit,
        )
        .await?;
    if gone {
        store.settings_changed();
    }
    Ok(gone)
}

/// Deletes the ingest marks stored before `before` that every drain of their organization and
/// type has passed (all of them where there is no such drain): nothing reads them any more.
pub async fn prune_ingest_marks(store: &Store, before: DateTime<Utc>) -> Result<u64, StoreError> {
    store
        .execute(
            "DELETE FROM ingest_marks WHERE at < ? AND last_pos <= COALESCE(\
             (SELECT MIN(d.cursor_pos) FROM drains d WHERE d.data_type = ingest_marks.data_type \
             AND d.org_id = ingest_marks.org_id), 9223372036854775807)",
            &[Value::Timestamp(before)],
        )
        .await
}

/// Claims up to `limit` active drains nobody holds; their ids.
pub async fn claim(
    store: &Store,
    node: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    const CLAIMABLE: &str = "status = 'active' AND (lease_owner IS NULL OR lease_until < ?)";
    let skip = match store.kind() {
        BackendKind::Postgres => " FOR UPDATE SKIP LOCKED",
        BackendKind::Sqlite => "",
    };
    let rows = store
        .query_write_named(
            &format!(
                "UPDATE drains SET lease_owner = ?, lease_until = ? \
                 WHERE id IN (SELECT id FROM drains WHERE {CLAIMABLE} ORDER BY id LIMIT ?{skip}) \
                 AND {CLAIMABLE} RETURNING {{columns}}"
            ),
            &[
                node.into(),
                Value::Timestamp(until),
                Value::Timestamp(now),
                Value::Integer(limit),
                Value::Timestamp(now),
            ],
            ID,
            "claimed drain",
        )
        .await?;
    ids(rows)
}

/// Renews this node's active drains; the ids it still holds.
pub async fn renew(
    store: &Store,
    node: &str,
    until: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let rows = store
        .query_write_named(
            "UPDATE drains SET lease_until = ? WHERE lease_owner = ? AND status = 'active' \
             RETURNING {columns}",
            &[Value::Timestamp(until), node.into()],
            ID,
            "renewed drain",
        )
        .await?;
    // A drain paused or failed while held is not renewed: the engine stops its task, which
    // finishes the batch it has in flight (commits it: the receiver took it) and then lets go
    // (`release`). Letting go here instead would fence that commit out, and the batch would be
    // sent a second time on resume.
    ids(rows)
}

/// Lets go of a drain (shutdown, or it left `active`).
pub async fn release(store: &Store, node: &str, id: &str) -> Result<(), StoreError> {
    store
        .execute(
            "UPDATE drains SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
            &[id.into(), node.into()],
        )
        .await?;
    Ok(())
}

/// The ids of rows of [`ID`]; a NULL id is an error, not a drain skipped.
fn ids(rows: Vec<NamedRow>) -> Result<Vec<String>, StoreError> {
    rows.into_iter().map(|mut r| r.text("id")).collect()
}

/// Records the batch about to be sent; false when the node lost the drain.
pub async fn set_pending(
    store: &Store,
    id: &str,
    node: &str,
    last: i64,
    oldest: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    Ok(store
        .execute(
            "UPDATE drains SET pending_last = ?, oldest_pending_at = ? \
             WHERE id = ? AND lease_owner = ? AND status = 'active'",
            &[
                Value::Integer(last),
                Value::opt_ts(oldest),
                id.into(),
                node.into(),
            ],
        )
        .await?
        > 0)
}

/// A delivery row.
pub struct NewAttempt<'a> {
    /// Drain.
    pub drain_id: &'a str,
    /// Organization.
    pub org_id: &'a str,
    /// `live`, `replay`, `test`.
    pub kind: &'a str,
    /// Idempotency key.
    pub batch_key: &'a str,
    /// Positions.
    pub first_pos: Option<i64>,
    /// Positions.
    pub last_pos: Option<i64>,
    /// Records.
    pub records: i64,
    /// Delivered?
    pub ok: bool,
    /// HTTP status.
    pub status_code: Option<u16>,
    /// Error.
    pub error: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Duration.
    pub duration_ms: i64,
    /// Bytes sent.
    pub bytes: Option<u64>,
    /// Attempt number within its cycle.
    pub attempt: u32,
    /// When.
    pub at: DateTime<Utc>,
}

impl<'a> NewAttempt<'a> {
    /// The record of a batch of `drain` at positions `first..=last` before its first try:
    /// successful until a try says otherwise, timed and sized by the delivery (`fill`).
    pub fn batch(
        drain: &'a Drain,
        kind: &'a str,
        batch_key: &'a str,
        (first, last): (i64, i64),
        records: usize,
    ) -> NewAttempt<'a> {
        NewAttempt {
            drain_id: &drain.id,
            org_id: &drain.org_id,
            kind,
            batch_key,
            first_pos: Some(first),
            last_pos: Some(last),
            records: records as i64,
            ok: true,
            status_code: None,
            error: None,
            note: None,
            duration_ms: 0,
            bytes: None,
            attempt: 1,
            at: Utc::now(),
        }
    }
}

fn attempt_statement(a: &NewAttempt<'_>) -> (String, Vec<Value>) {
    // Absent numbers are written as literal NULLs: PostgreSQL caches a statement with the
    // types of its first parameters, and an untyped NULL would make that text.
    let mut params: Vec<Value> = vec![
        a.drain_id.into(),
        a.org_id.into(),
        a.kind.into(),
        a.batch_key.into(),
    ];
    let int = |v: Option<i64>, params: &mut Vec<Value>| match v {
        Some(v) => {
            params.push(Value::Integer(v));
            "?"
        }
        None => "NULL",
    };
    let first = int(a.first_pos, &mut params);
    let last = int(a.last_pos, &mut params);
    params.push(Value::Integer(a.records));
    params.push(Value::Bool(a.ok));
    let status = int(a.status_code.map(i64::from), &mut params);
    params.push(Value::opt_text(a.error.clone()));
    params.push(Value::opt_text(a.note.clone()));
    params.push(Value::Integer(a.duration_ms));
    let bytes = int(a.bytes.map(|b| b as i64), &mut params);
    params.push(Value::Integer(a.attempt.into()));
    params.push(Value::Timestamp(a.at));
    (
        format!(
            "INSERT INTO drain_deliveries (drain_id, org_id, kind, batch_key, first_pos, last_pos, \
             records, ok, status_code, error, note, duration_ms, bytes, attempt, created_at) \
             VALUES (?, ?, ?, ?, {first}, {last}, ?, ?, {status}, ?, ?, ?, {bytes}, ?, ?)"
        ),
        params,
    )
}

/// Records an attempt that does not move the cursor (a failure, a test, a replay batch).
pub async fn record_attempt(store: &Store, a: &NewAttempt<'_>) -> Result<(), StoreError> {
    let (sql, params) = attempt_statement(a);
    store.execute(&sql, &params).await?;
    Ok(())
}

/// After a delivered batch: moves the cursor to `last`, makes `next_pending` (the next batch,
/// already read) pending, counts the records and records the delivery — in one transaction,
/// fenced by the lease and the cursor the batch was read from. False (nothing written) when
/// the node lost the drain; the batch then stays pending and is re-sent under the same key.
/// A pause while the batch was in flight does not fence it out: the receiver took the batch,
/// so it is recorded and not sent a second time on resume.
pub async fn commit_batch(
    store: &Store,
    node: &str,
    from_cursor: i64,
    last: i64,
    next_pending: Option<i64>,
    oldest_left: Option<DateTime<Utc>>,
    a: &NewAttempt<'_>,
) -> Result<bool, StoreError> {
    let synced = if a.records > 0 {
        "last_synced_at = ?, "
    } else {
        ""
    };
    // A delivered live batch is the next link of the chain (`batch::Chain`); a skipped one
    // (no records) sent nothing and takes no number.
    let chained = a.records > 0 && a.kind == "live";
    let chain = if chained {
        "batch_seq = batch_seq + 1, batch_prev = ?, "
    } else {
        ""
    };
    let pending = if next_pending.is_some() { "?" } else { "NULL" };
    let mut params: Vec<Value> = vec![Value::Integer(last)];
    if let Some(p) = next_pending {
        params.push(Value::Integer(p));
    }
    if a.records > 0 {
        params.push(Value::Timestamp(a.at));
    }
    if chained {
        params.push(a.batch_key.into());
    }
    params.extend([
        Value::Integer(a.records),
        Value::opt_ts(oldest_left),
        a.drain_id.into(),
        node.into(),
        Value::Integer(from_cursor),
    ]);
    let mut statements = vec![(
        format!(
            "UPDATE drains SET cursor_pos = ?, pending_last = {pending}, {synced}{chain}\
             records_delivered = records_delivered + ?, failed_cycles = 0, oldest_pending_at = ? \
             WHERE id = ? AND lease_owner = ? AND cursor_pos = ?"
        ),
        params,
    )];
    if a.records > 0 {
        statements.push(attempt_statement(a));
    }
    store.execute_fenced(&statements).await
}

/// What `fail_cycle` reads back.
const FAILED: Columns = Columns(&[col("failed_cycles", FieldType::Integer)]);

/// Counts a failed cycle (recording its last attempt); at `max` in a row the drain enters
/// `error` with `reason`. Returns the failed cycles in a row, or `None` if the node lost it.
pub async fn fail_cycle(
    store: &Store,
    id: &str,
    node: &str,
    reason: &str,
    max: u32,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let rows = store
        .query_write_named(
            "UPDATE drains SET failed_cycles = failed_cycles + 1, \
             status = CASE WHEN failed_cycles + 1 >= ? THEN 'error' ELSE status END, \
             status_reason = CASE WHEN failed_cycles + 1 >= ? THEN ? ELSE status_reason END, \
             updated_at = CASE WHEN failed_cycles + 1 >= ? THEN ? ELSE updated_at END \
             WHERE id = ? AND lease_owner = ? AND status = 'active' RETURNING {columns}",
            &[
                Value::Integer(max.into()),
                Value::Integer(max.into()),
                reason.into(),
                Value::Integer(max.into()),
                Value::Timestamp(now),
                id.into(),
                node.into(),
            ],
            FAILED,
            "failed drain",
        )
        .await?;
    rows.into_iter()
        .next()
        .map(|mut r| r.i64("failed_cycles"))
        .transpose()
}

/// The columns of a delivery row, as `attempt_from_row` reads them.
const ATTEMPT: Columns = Columns(&[
    col("kind", FieldType::Text),
    col("batch_key", FieldType::Text),
    col("first_pos", FieldType::Integer),
    col("last_pos", FieldType::Integer),
    col("records", FieldType::Integer),
    col("ok", FieldType::Boolean),
    col("status_code", FieldType::Integer),
    col("error", FieldType::Text),
    col("note", FieldType::Text),
    col("duration_ms", FieldType::Integer),
    col("bytes", FieldType::Integer),
    col("attempt", FieldType::Integer),
    col("created_at", FieldType::Timestamp),
]);

/// A delivery attempt from a row of [`ATTEMPT`].
fn attempt_from_row(mut r: NamedRow) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        kind: r.text("kind")?,
        batch_key: r.text("batch_key")?,
        first_pos: r.opt_i64("first_pos")?,
        last_pos: r.opt_i64("last_pos")?,
        records: r.i64("records")?,
        ok: r.bool("ok")?,
        status_code: r.opt_i64("status_code")?,
        // Rows from before errors hid URL paths may carry a webhook's token.
        error: r.opt_text("error")?.map(|t| hide_url_paths(&t)),
        note: r.opt_text("note")?.map(|t| hide_url_paths(&t)),
        duration_ms: r.i64("duration_ms")?,
        bytes: r.opt_i64("bytes")?,
        attempt: r.i64("attempt")?,
        created_at: r.ts("created_at")?,
    })
}

/// The most recent attempts of a drain, newest first.
pub async fn attempts(
    store: &Store,
    drain: &str,
    limit: i64,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM drain_deliveries WHERE drain_id = ? ORDER BY id DESC LIMIT ?",
            &[drain.into(), Value::Integer(limit)],
            ATTEMPT,
            "drain delivery",
        )
        .await?
        .into_iter()
        .map(attempt_from_row)
        .collect()
}

/// Live delivery attempts per drain and outcome, for `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptTotals {
    /// The drain.
    pub drain_id: String,
    /// Whether these attempts succeeded.
    pub ok: bool,
    /// How many there were.
    pub count: i64,
    /// Their summed duration.
    pub duration_ms: i64,
}

/// What `live_attempt_totals` reads: one row per drain and outcome.
const TOTALS: Columns = Columns(&[
    col("drain_id", FieldType::Text),
    col("ok", FieldType::Boolean),
    expr("COUNT(*)", "attempts", FieldType::Integer),
    expr(
        "CAST(SUM(duration_ms) AS BIGINT)",
        "total_ms",
        FieldType::Integer,
    ),
]);

/// Totals of every drain's live attempts, by outcome.
pub async fn live_attempt_totals(store: &Store) -> Result<Vec<AttemptTotals>, StoreError> {
    let rows = store
        .query_named(
            "SELECT {columns} FROM drain_deliveries WHERE kind = 'live' GROUP BY drain_id, ok",
            &[],
            TOTALS,
            "drain attempt totals",
        )
        .await?;
    rows.into_iter()
        .map(|mut r| {
            Ok(AttemptTotals {
                drain_id: r.text("drain_id")?,
                ok: r.bool("ok")?,
                count: r.i64("attempts")?,
                // A group has at least one attempt and duration_ms is NOT NULL.
                duration_ms: r.i64("total_ms")?,
            })
        })
        .collect()
}

/// The email addresses of an organization's admins, in order (a drain that fails into `error`
/// mails them). Members without an email are left out: there is nobody to write to.
pub async fn admin_emails(store: &Store, org: &str) -> Result<Vec<String>, StoreError> {
    use crate::store::named::{Columns, col};
    const ADMINS: Columns = Columns(&[col("email", crate::domain::FieldType::Text)]);
    let rows = store
        .query_named(
            "SELECT {columns} FROM members WHERE org_id = ? AND role = 'admin' ORDER BY email",
            &[org.into()],
            ADMINS,
            "admin member",
        )
        .await?;
    let mut emails = Vec::with_capacity(rows.len());
    for mut r in rows {
        emails.extend(r.opt_text("email")?);
    }
    Ok(emails)
}

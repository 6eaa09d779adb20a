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

use super::dest::DestinationConfig;
use super::dest::describe::hide_url_paths;
use super::model::{DeliveryAttempt, Drain, DrainScope, DrainStatus};
use crate::domain::FieldType;
use crate::store::{BackendKind, RecordBatch, Store, StoreError, Value};
use chrono::{DateTime, Utc};

const COLUMNS: &str = "id, org_id, name, data_type, scope, destination, secret_id, status, \
    status_reason, cursor_pos, pending_last, failed_cycles, records_delivered, last_synced_at, \
    oldest_pending_at, start_ts, lease_owner, lease_until, created_by, created_at, updated_at";

const TYPES: [FieldType; 21] = [
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Json,
    FieldType::Json,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Integer,
    FieldType::Integer,
    FieldType::Integer,
    FieldType::Integer,
    FieldType::Timestamp,
    FieldType::Timestamp,
    FieldType::Timestamp,
    FieldType::Text,
    FieldType::Timestamp,
    FieldType::Text,
    FieldType::Timestamp,
    FieldType::Timestamp,
];

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("drain {what}: {e}"))
}

fn from_row(mut r: Vec<Value>) -> Result<Drain, StoreError> {
    let text = |v: &mut Value| match std::mem::replace(v, Value::Null) {
        Value::Text(s) => Some(s),
        _ => None,
    };
    let json = |v: &mut Value| match std::mem::replace(v, Value::Null) {
        Value::Json(j) => Ok(j),
        Value::Text(s) => serde_json::from_str(&s).map_err(|e| corrupt("json", e)),
        _ => Err(corrupt("json", "missing")),
    };
    let scope: DrainScope =
        serde_json::from_value(json(&mut r[4])?).map_err(|e| corrupt("scope", e))?;
    let destination: DestinationConfig =
        serde_json::from_value(json(&mut r[5])?).map_err(|e| corrupt("destination", e))?;
    Ok(Drain {
        id: text(&mut r[0]).unwrap_or_default(),
        org_id: text(&mut r[1]).unwrap_or_default(),
        name: text(&mut r[2]).unwrap_or_default(),
        data_type: text(&mut r[3])
            .unwrap_or_default()
            .parse()
            .map_err(|e| corrupt("data_type", e))?,
        scope,
        destination,
        secret_id: text(&mut r[6]).unwrap_or_default(),
        status: text(&mut r[7])
            .unwrap_or_default()
            .parse()
            .map_err(|e: String| corrupt("status", e))?,
        // Rows from before errors hid URL paths may carry a webhook's token.
        status_reason: text(&mut r[8]).map(|t| hide_url_paths(&t)),
        cursor_pos: r[9].as_i64().unwrap_or_default(),
        pending_last: r[10].as_i64(),
        failed_cycles: r[11].as_i64().unwrap_or_default(),
        records_delivered: r[12].as_i64().unwrap_or_default(),
        last_synced_at: r[13].as_timestamp(),
        oldest_pending_at: r[14].as_timestamp(),
        start_ts: r[15].as_timestamp(),
        lease_owner: text(&mut r[16]),
        lease_until: r[17].as_timestamp(),
        created_by: text(&mut r[18]).unwrap_or_default(),
        created_at: r[19].as_timestamp().unwrap_or_default(),
        updated_at: r[20].as_timestamp().unwrap_or_default(),
    })
}

fn from_rows(rows: Vec<Vec<Value>>) -> Result<Vec<Drain>, StoreError> {
    rows.into_iter().map(from_row).collect()
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    Value::Json(serde_json::to_value(v).expect("serializes"))
}

/// A new drain id.
pub fn new_id() -> String {
    format!("drn_{}", uuid::Uuid::now_v7().simple())
}

/// Stores a new drain with its audit record.
pub async fn insert(store: &Store, d: &Drain, audit: &RecordBatch) -> Result<(), StoreError> {
    store
        .execute_with_records(
            &format!(
                "INSERT INTO drains ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
                 NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            &[
                d.id.as_str().into(),
                d.org_id.as_str().into(),
                d.name.as_str().into(),
                d.data_type.as_str().into(),
                to_json(&d.scope),
                to_json(&d.destination),
                d.secret_id.as_str().into(),
                d.status.as_str().into(),
                Value::opt_text(d.status_reason.clone()),
                Value::Integer(d.cursor_pos),
                Value::Integer(0),
                Value::Integer(0),
                Value::NullTimestamp,
                Value::NullTimestamp,
                Value::opt_ts(d.start_ts),
                Value::Null,
                Value::NullTimestamp,
                d.created_by.as_str().into(),
                Value::Timestamp(d.created_at),
                Value::Timestamp(d.updated_at),
            ],
            audit,
        )
        .await
}

/// One drain of `org`.
pub async fn get(store: &Store, org: &str, id: &str) -> Result<Option<Drain>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM drains WHERE org_id = ? AND id = ?"),
            &[org.into(), id.into()],
            &TYPES,
        )
        .await?;
    Ok(from_rows(rows)?.into_iter().next())
}

/// One drain, whatever its organization (the engine).
pub async fn get_any(store: &Store, id: &str) -> Result<Option<Drain>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM drains WHERE id = ?"),
            &[id.into()],
            &TYPES,
        )
        .await?;
    Ok(from_rows(rows)?.into_iter().next())
}

/// The organization's drains, newest first.
pub async fn list(store: &Store, org: &str) -> Result<Vec<Drain>, StoreError> {
    let rows = store
        .query(
            &format!(
                "SELECT {COLUMNS} FROM drains WHERE org_id = ? ORDER BY created_at DESC, id DESC"
            ),
            &[org.into()],
            &TYPES,
        )
        .await?;
    from_rows(rows)
}

/// Every drain (metrics).
pub async fn list_all(store: &Store) -> Result<Vec<Drain>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM drains ORDER BY id"),
            &[],
            &TYPES,
        )
        .await?;
    from_rows(rows)
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
        .await
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
        .await
}

/// Deletes a drain and its delivery log; false when there is none.
pub async fn delete(
    store: &Store,
    org: &str,
    id: &str,
    audit: &RecordBatch,
) -> Result<bool, StoreError> {
    let gone = store
        .execute_fenced(&[
            (
                "DELETE FROM drains WHERE org_id = ? AND id = ?".into(),
                vec![org.into(), id.into()],
            ),
            (
                "DELETE FROM drain_deliveries WHERE drain_id = ?".into(),
                vec![id.into()],
            ),
        ])
        .await?;
    if gone {
        store.insert_records(audit).await?;
    }
    Ok(gone)
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
        .query_write(
            &format!(
                "UPDATE drains SET lease_owner = ?, lease_until = ? \
                 WHERE id IN (SELECT id FROM drains WHERE {CLAIMABLE} ORDER BY id LIMIT ?{skip}) \
                 AND {CLAIMABLE} RETURNING id"
            ),
            &[
                node.into(),
                Value::Timestamp(until),
                Value::Timestamp(now),
                Value::Integer(limit),
                Value::Timestamp(now),
            ],
            &[FieldType::Text],
        )
        .await?;
    Ok(ids(rows))
}

/// Renews this node's active drains; the ids it still holds.
pub async fn renew(
    store: &Store,
    node: &str,
    until: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let rows = store
        .query_write(
            "UPDATE drains SET lease_until = ? WHERE lease_owner = ? AND status = 'active' RETURNING id",
            &[Value::Timestamp(until), node.into()],
            &[FieldType::Text],
        )
        .await?;
    // Drains paused or failed while held: let go so the lease does not linger.
    store
        .execute(
            "UPDATE drains SET lease_owner = NULL, lease_until = NULL \
             WHERE lease_owner = ? AND status <> 'active'",
            &[node.into()],
        )
        .await?;
    Ok(ids(rows))
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

fn ids(rows: Vec<Vec<Value>>) -> Vec<String> {
    rows.into_iter()
        .filter_map(|r| r[0].as_text().map(str::to_string))
        .collect()
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
/// fenced by the lease, the status and the cursor the batch was read from. False (nothing
/// written) when the node lost the drain or it was paused meanwhile; the batch then stays
/// pending and is re-sent under the same key.
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
    let pending = if next_pending.is_some() { "?" } else { "NULL" };
    let mut params: Vec<Value> = vec![Value::Integer(last)];
    if let Some(p) = next_pending {
        params.push(Value::Integer(p));
    }
    if a.records > 0 {
        params.push(Value::Timestamp(a.at));
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
            "UPDATE drains SET cursor_pos = ?, pending_last = {pending}, {synced}\
             records_delivered = records_delivered + ?, failed_cycles = 0, oldest_pending_at = ? \
             WHERE id = ? AND lease_owner = ? AND cursor_pos = ? AND status = 'active'"
        ),
        params,
    )];
    if a.records > 0 {
        statements.push(attempt_statement(a));
    }
    store.execute_fenced(&statements).await
}

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
        .query_write(
            "UPDATE drains SET failed_cycles = failed_cycles + 1, \
             status = CASE WHEN failed_cycles + 1 >= ? THEN 'error' ELSE status END, \
             status_reason = CASE WHEN failed_cycles + 1 >= ? THEN ? ELSE status_reason END, \
             updated_at = CASE WHEN failed_cycles + 1 >= ? THEN ? ELSE updated_at END \
             WHERE id = ? AND lease_owner = ? AND status = 'active' RETURNING failed_cycles",
            &[
                Value::Integer(max.into()),
                Value::Integer(max.into()),
                reason.into(),
                Value::Integer(max.into()),
                Value::Timestamp(now),
                id.into(),
                node.into(),
            ],
            &[FieldType::Integer],
        )
        .await?;
    Ok(rows.first().and_then(|r| r[0].as_i64()))
}

/// The most recent attempts of a drain, newest first.
pub async fn attempts(
    store: &Store,
    drain: &str,
    limit: i64,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    let rows = store
        .query(
            "SELECT kind, batch_key, first_pos, last_pos, records, ok, status_code, error, note, \
             duration_ms, bytes, attempt, created_at FROM drain_deliveries WHERE drain_id = ? \
             ORDER BY id DESC LIMIT ?",
            &[drain.into(), Value::Integer(limit)],
            &[
                FieldType::Text,
                FieldType::Text,
                FieldType::Integer,
                FieldType::Integer,
                FieldType::Integer,
                FieldType::Boolean,
                FieldType::Integer,
                FieldType::Text,
                FieldType::Text,
                FieldType::Integer,
                FieldType::Integer,
                FieldType::Integer,
                FieldType::Timestamp,
            ],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let text = |v: &Value| v.as_text().map(str::to_string);
            DeliveryAttempt {
                kind: text(&r[0]).unwrap_or_default(),
                batch_key: text(&r[1]).unwrap_or_default(),
                first_pos: r[2].as_i64(),
                last_pos: r[3].as_i64(),
                records: r[4].as_i64().unwrap_or_default(),
                ok: matches!(r[5], Value::Bool(true)),
                status_code: r[6].as_i64(),
                // Rows from before errors hid URL paths may carry a webhook's token.
                error: text(&r[7]).map(|t| hide_url_paths(&t)),
                note: text(&r[8]).map(|t| hide_url_paths(&t)),
                duration_ms: r[9].as_i64().unwrap_or_default(),
                bytes: r[10].as_i64(),
                attempt: r[11].as_i64().unwrap_or_default(),
                created_at: r[12].as_timestamp().unwrap_or_default(),
            }
        })
        .collect())
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

/// Totals of every drain's live attempts, by outcome.
pub async fn live_attempt_totals(store: &Store) -> Result<Vec<AttemptTotals>, StoreError> {
    let rows = store
        .query(
            "SELECT drain_id, ok, COUNT(*), CAST(SUM(duration_ms) AS BIGINT) FROM drain_deliveries \
             WHERE kind = 'live' GROUP BY drain_id, ok",
            &[],
            &[
                FieldType::Text,
                FieldType::Boolean,
                FieldType::Integer,
                FieldType::Integer,
            ],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AttemptTotals {
            drain_id: r[0].as_text().unwrap_or_default().to_string(),
            ok: matches!(r[1], Value::Bool(true)),
            count: r[2].as_i64().unwrap_or_default(),
            duration_ms: r[3].as_i64().unwrap_or_default(),
        })
        .collect())
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

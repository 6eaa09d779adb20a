//! The SQL of the `drain_replays` table: a replay's window and how far it got, so a replay
//! interrupted by a restart resumes after the last batch it delivered.

use crate::domain::FieldType;
use crate::store::named::{Columns, NamedRow, col};
use crate::store::{Store, StoreError, Value};
use chrono::{DateTime, Utc};

/// A replay as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// `rpl_…`.
    pub id: String,
    /// The replayed drain.
    pub drain_id: String,
    /// Its organization.
    pub org_id: String,
    /// The window `[from, to)` of record times.
    pub from: DateTime<Utc>,
    /// See `from`.
    pub to: DateTime<Utc>,
    /// Where the next batch starts: after this (time, position), in time order.
    pub after: (DateTime<Utc>, i64),
    /// Records delivered so far.
    pub records: i64,
    /// The last delivered batch's seq in the replay's own sequence space (0 before the first).
    pub seq: i64,
    /// That batch's key.
    pub prev: Option<String>,
}

const REPLAY: Columns = Columns(&[
    col("id", FieldType::Text),
    col("drain_id", FieldType::Text),
    col("org_id", FieldType::Text),
    col("from_ts", FieldType::Timestamp),
    col("to_ts", FieldType::Timestamp),
    col("after_ts", FieldType::Timestamp),
    col("after_pos", FieldType::Integer),
    col("records", FieldType::Integer),
    col("batch_seq", FieldType::Integer),
    col("batch_prev", FieldType::Text),
]);

fn from_row(mut r: NamedRow) -> Result<Replay, StoreError> {
    Ok(Replay {
        id: r.text("id")?,
        drain_id: r.text("drain_id")?,
        org_id: r.text("org_id")?,
        from: r.ts("from_ts")?,
        to: r.ts("to_ts")?,
        after: (r.ts("after_ts")?, r.i64("after_pos")?),
        records: r.i64("records")?,
        seq: r.i64("batch_seq")?,
        prev: r.opt_text("batch_prev")?,
    })
}

impl Replay {
    /// A new replay of `[from, to)`, starting before the window's first record.
    pub fn new(
        id: String,
        drain_id: &str,
        org_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Replay {
        Replay {
            id,
            drain_id: drain_id.to_string(),
            org_id: org_id.to_string(),
            from,
            to,
            after: (from, i64::MIN),
            records: 0,
            seq: 0,
            prev: None,
        }
    }
}

/// Records a new replay run by `node`.
pub async fn insert(store: &Store, r: &Replay, node: &str) -> Result<(), StoreError> {
    let now = Utc::now();
    store
        .execute(
            "INSERT INTO drain_replays (id, drain_id, org_id, from_ts, to_ts, after_ts, \
             after_pos, records, status, node, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
            &[
                r.id.as_str().into(),
                r.drain_id.as_str().into(),
                r.org_id.as_str().into(),
                Value::Timestamp(r.from),
                Value::Timestamp(r.to),
                Value::Timestamp(r.after.0),
                Value::Integer(r.after.1),
                Value::Integer(r.records),
                node.into(),
                Value::Timestamp(now),
                Value::Timestamp(now),
            ],
        )
        .await
        .map(|_| ())
}

/// The replay read up to `after`; `delivered` is the batch it delivered there (seq, key and
/// records), if the window's records there matched the drain at all.
pub async fn advance(
    store: &Store,
    id: &str,
    after: (DateTime<Utc>, i64),
    delivered: Option<(i64, &str, i64)>,
) -> Result<(), StoreError> {
    let mut sql =
        "UPDATE drain_replays SET after_ts = ?, after_pos = ?, updated_at = ?".to_string();
    let mut params = vec![
        Value::Timestamp(after.0),
        Value::Integer(after.1),
        Value::Timestamp(Utc::now()),
    ];
    if let Some((seq, key, records)) = delivered {
        sql.push_str(", batch_seq = ?, batch_prev = ?, records = records + ?");
        params.extend([Value::Integer(seq), key.into(), Value::Integer(records)]);
    }
    sql.push_str(" WHERE id = ?");
    params.push(id.into());
    store.execute(&sql, &params).await.map(|_| ())
}

/// The replay ended: `done`, or `failed` with why.
pub async fn finish(store: &Store, id: &str, error: Option<&str>) -> Result<(), StoreError> {
    let status = if error.is_some() { "failed" } else { "done" };
    store
        .execute(
            "UPDATE drain_replays SET status = ?, error = ?, updated_at = ? WHERE id = ?",
            &[
                status.into(),
                Value::opt_text(error),
                Value::Timestamp(Utc::now()),
                id.into(),
            ],
        )
        .await
        .map(|_| ())
}

/// The replays `node` was running when it stopped.
pub async fn running_on(store: &Store, node: &str) -> Result<Vec<Replay>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM drain_replays WHERE node = ? AND status = 'running' \
             ORDER BY created_at, id",
            &[node.into()],
            REPLAY,
            "drain replay",
        )
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

//! Rolls up the records stored before a rollup migration, in bounded batches, without
//! blocking ingest. There are two: the 15-minute tables of migration 0008 and the hourly and
//! daily tables of migrations 0016 and 0018 (0018 empties the hourly tables and resets this
//! backfill to every stored record, to rebuild them with the daily ones), each with its own
//! [`Backfill`] (a database migrated across both at once fills both, independently).
//!
//! A migration notes, per organization and stream, the positions `[next_pos, upto]` that
//! existed then (`usage_backfill`, `usage_backfill_hourly`). Ingest rolls up every later
//! record itself, in its own transaction, so the two never overlap. Each [`step`] rolls up
//! the next [`BATCH`] records of one row into that migration's tables only, in one short
//! transaction that also advances `next_pos` — fenced on its old value, so a crash repeats
//! nothing and several nodes never roll up the same records twice. On SQLite a step holds
//! the write lock for one batch only; ingest waits at most that long. Until an
//! organization's backfill is done, [`super::Usage`] does not read those tables: the raw
//! records instead of the 15-minute tables, the 15-minute tables instead of the hourly ones.

use crate::domain::{DataType, FieldType, catalog};
use crate::store::rollups::{COARSE, FINE, Family, STREAMS, rollup_statements};
use crate::store::{Store, StoreError, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Records rolled up per step.
pub const BATCH: i64 = 5_000;

/// One backfill: its progress table and the rollup tables it fills.
#[derive(Debug, Clone, Copy)]
pub struct Backfill {
    /// The progress table its migration wrote.
    pub table: &'static str,
    /// The families it rolls up into.
    pub families: &'static [&'static Family],
}

/// The 15-minute tables of migration 0008.
pub const FINE_TABLES: Backfill = Backfill {
    table: "usage_backfill",
    families: &FINE,
};

/// The hourly and daily tables of migrations 0016 and 0018.
pub const HOURLY_TABLES: Backfill = Backfill {
    table: "usage_backfill_hourly",
    families: &COARSE,
};

/// Both backfills.
pub const ALL: [Backfill; 2] = [FINE_TABLES, HOURLY_TABLES];

/// Whether the organization still has records stored before the 15-minute rollups that are
/// not rolled up yet.
pub async fn pending(store: &Store, org: &str) -> Result<bool, StoreError> {
    pending_in(store, FINE_TABLES, org).await
}

/// Whether `backfill` still has records of the organization to roll up.
pub async fn pending_in(store: &Store, backfill: Backfill, org: &str) -> Result<bool, StoreError> {
    let rows = store
        .query(
            &format!("SELECT COUNT(*) FROM {} WHERE org_id = ?", backfill.table),
            &[org.into()],
            &super::INTEGER,
        )
        .await?;
    Ok(rows.first().and_then(|r| r[0].as_i64()).unwrap_or_default() > 0)
}

/// Rolls up one batch of either backfill; false when neither has anything left.
pub async fn step(store: &Store, batch: i64) -> Result<bool, StoreError> {
    for backfill in ALL {
        if step_in(store, backfill, batch).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Rolls up one batch of `backfill`; false when nothing is left.
pub async fn step_in(store: &Store, backfill: Backfill, batch: i64) -> Result<bool, StoreError> {
    let table = backfill.table;
    let rows = store
        .query(
            &format!(
                "SELECT org_id, stream, next_pos, upto FROM {table} \
                 ORDER BY org_id, stream LIMIT 1"
            ),
            &[],
            &[
                FieldType::Text,
                FieldType::Text,
                FieldType::Integer,
                FieldType::Integer,
            ],
        )
        .await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(false);
    };
    let (org, stream) = (
        row[0].as_text().unwrap_or_default().to_string(),
        row[1].as_text().unwrap_or_default().to_string(),
    );
    let (next, upto) = (
        row[2].as_i64().unwrap_or_default(),
        row[3].as_i64().unwrap_or_default(),
    );
    let Some(source) = STREAMS
        .into_iter()
        .find(|d| catalog::spec(*d).table == stream)
    else {
        // A row this version does not know: drop it rather than loop on it.
        store
            .execute(
                &format!("DELETE FROM {table} WHERE org_id = ? AND stream = ?"),
                &[org.as_str().into(), stream.as_str().into()],
            )
            .await?;
        return Ok(true);
    };
    let end = batch_end(store, source, &org, next, upto, batch).await?;
    let key = [Value::from(org.as_str()), Value::from(stream.as_str())];
    let mut statements = vec![(
        format!("UPDATE {table} SET next_pos = ? WHERE org_id = ? AND stream = ? AND next_pos = ?"),
        vec![
            Value::Integer(end),
            key[0].clone(),
            key[1].clone(),
            Value::Integer(next),
        ],
    )];
    statements.extend(rollup_statements(
        store.dialect(),
        backfill.families,
        source,
        &org,
        next,
        end,
    ));
    statements.push((
        format!("DELETE FROM {table} WHERE org_id = ? AND stream = ? AND next_pos > upto"),
        key.to_vec(),
    ));
    store.execute_fenced(&statements).await?;
    Ok(true)
}

/// The end (exclusive) of the batch starting at `next`: after `batch` records, or `upto`.
async fn batch_end(
    store: &Store,
    source: DataType,
    org: &str,
    next: i64,
    upto: i64,
    batch: i64,
) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT pos FROM {} WHERE org_id = ? AND pos >= ? AND pos <= ? ORDER BY pos LIMIT 1 OFFSET ?",
        catalog::spec(source).table
    );
    let rows = store
        .query(
            &sql,
            &[
                org.into(),
                Value::Integer(next),
                Value::Integer(upto),
                Value::Integer(batch.max(1)),
            ],
            &super::INTEGER,
        )
        .await?;
    Ok(rows.first().and_then(|r| r[0].as_i64()).unwrap_or(upto + 1))
}

/// Runs the backfill in the background until it is done or `stop` is cancelled.
pub fn spawn(store: Store, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if stop.is_cancelled() {
                return;
            }
            match step(&store, BATCH).await {
                Ok(true) => tokio::task::yield_now().await,
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "usage rollup backfill failed; retrying");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    }
                }
            }
        }
    })
}

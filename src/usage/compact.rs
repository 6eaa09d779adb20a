//! Compaction of PostgreSQL rollups (15-minute, hourly and daily alike, the `slot` column
//! holds any): ingest appends one rollup row per key and batch there
//! (an upsert would make concurrent ingest wait on each other's row locks; see migration
//! 0008), so a slot fed by many small batches holds many rows per key. [`compact`] merges the
//! rows of a stretch of slots into one per key in one statement (`DELETE … RETURNING` feeding
//! the `INSERT`): rows a concurrent ingest appends meanwhile are not in its snapshot and stay
//! as they are, and a second compactor of the same stretch finds the rows already gone, so
//! nothing is lost or counted twice. SQLite upserts at ingest and has nothing to compact.

use crate::store::rollups::{DAY_SECONDS, Dialect, FAMILIES, Family};
use crate::store::{Store, StoreError, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The statement merging `family`'s rows of one organization and slots `[?, ?)`.
fn merge_sql(family: &Family) -> String {
    let mut keys: Vec<&str> = vec!["org_id", "slot"];
    keys.extend(family.dims.iter().map(|d| d.col));
    if let Some(b) = family.bin {
        keys.push(b.col);
    }
    let measures: Vec<&str> = family.measures.iter().map(|m| m.col).collect();
    let all: Vec<&str> = keys.iter().chain(measures.iter()).copied().collect();
    let sums: Vec<String> = measures
        .iter()
        .map(|m| format!("CAST(SUM({m}) AS BIGINT)"))
        .collect();
    let select: Vec<String> = keys.iter().map(|k| k.to_string()).chain(sums).collect();
    format!(
        "WITH gone AS (DELETE FROM {t} WHERE org_id = ? AND slot >= ? AND slot < ? RETURNING {all}) \
         INSERT INTO {t} ({all}) SELECT {select} FROM gone GROUP BY {keys}",
        t = family.table,
        all = all.join(", "),
        select = select.join(", "),
        keys = keys.join(", "),
    )
}

/// Merges the rollup rows of organization `org` in slots `[from, to)` (Unix seconds) into one
/// per key; does nothing on SQLite.
pub async fn compact(store: &Store, org: &str, from: i64, to: i64) -> Result<(), StoreError> {
    if store.dialect() != Dialect::Postgres {
        return Ok(());
    }
    for family in FAMILIES {
        store
            .execute(
                &merge_sql(family),
                &[org.into(), Value::Integer(from), Value::Integer(to)],
            )
            .await?;
    }
    Ok(())
}

/// On PostgreSQL, compacts every organization's rollups of yesterday and today (UTC) every ten
/// minutes until `stop` is cancelled (a pass per organization, a day at a time). Whole UTC
/// days, so a daily row's slot, its day's start, is inside the stretch compacted.
pub fn spawn(store: Store, stop: CancellationToken) -> Option<tokio::task::JoinHandle<()>> {
    if store.dialect() != Dialect::Postgres {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            }
            let now = chrono::Utc::now().timestamp();
            let today = now - now.rem_euclid(DAY_SECONDS);
            let orgs = match store.list_orgs().await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(error = %e, "usage rollup compaction: cannot list organizations");
                    continue;
                }
            };
            for org in orgs {
                for day in [today - DAY_SECONDS, today] {
                    if let Err(e) = compact(&store, &org.id, day, day + DAY_SECONDS).await {
                        tracing::warn!(error = %e, "usage rollup compaction failed");
                    }
                }
            }
        }
    }))
}

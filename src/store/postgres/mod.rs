//! PostgreSQL backend: the scale-out store shared by any number of `outflow serve` nodes.
//!
//! Record batches are written with one `INSERT … SELECT FROM UNNEST(arrays)` per batch, so a
//! 10,000-record ingest is one round trip. Positions come from transaction ids
//! ([`position`]), which keeps concurrent ingest free of any lock.

mod copy;
mod export_read;
pub mod position;

use super::records::{
    agent_content_hash, agent_upsert, column_list, column_types, conflict_target,
    stamp_agent_version,
};
use super::{
    InsertOutcome, Record, RecordBatch, RowBlock, StoreError, StoreResult, StoredRecord,
    StreamQuery, Value, numbered, rollups,
};
use crate::domain::{DataType, FieldType, catalog};
use chrono::{DateTime, Utc};
use position::TxPositions;
use sqlx::Row;
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow, Postgres,
};
use sqlx::query::Query;
use std::str::FromStr;
use std::time::Duration;

/// The PostgreSQL pool.
#[derive(Clone)]
pub struct PgBackend {
    pool: PgPool,
}

type Q<'q> = Query<'q, Postgres, PgArguments>;

impl PgBackend {
    pub(super) async fn connect(url: &str, pool_size: u32) -> StoreResult<Self> {
        // No JIT compilation: Outflow's statements are short index reads, whose planner cost
        // with a list of spans joined in (`usage/sql.rs`) passes `jit_above_cost` on estimates
        // alone, and streaming scans that gain nothing from it. Measured on the demo at scale
        // 8: a usage page's statement over 54 spans read for 8 ms of its 17 to 34 (the rest
        // was compiling), and a GROUP BY over 1.8M raw rows was no faster with JIT.
        let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(PgBackend { pool })
    }

    /// Starts this process's `LISTEN` connection, forwarding commits to `notifier`; after a
    /// lost connection it announces "everything" (notifications may have been missed).
    pub(super) fn spawn_listener(&self, notifier: super::notify::Notifier) {
        use super::notify::{CHANNEL, Committed};
        let pool = self.pool.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(l) => l,
                    Err(e) => {
                        if pool.is_closed() {
                            return;
                        }
                        tracing::warn!(error = %e, "cannot open the LISTEN connection; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "LISTEN failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                notifier.send(Committed::everything());
                loop {
                    match listener.try_recv().await {
                        Ok(Some(n)) => {
                            if let Some(c) = Committed::parse(n.payload()) {
                                notifier.send(c);
                            }
                        }
                        // The connection dropped; the next call reconnects and re-listens.
                        Ok(None) => notifier.send(Committed::everything()),
                        Err(e) => {
                            if pool.is_closed() {
                                return;
                            }
                            tracing::warn!(error = %e, "LISTEN connection failed; reopening");
                            break;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }

    /// The pool, for tests and benchmarks that need raw access.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(super) async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn exec(&self, sql: &str, params: &[Value]) -> StoreResult<u64> {
        let sql = numbered(sql);
        let mut q = sqlx::query(&sql);
        for p in params {
            q = bind(q, p);
        }
        Ok(q.execute(&self.pool).await?.rows_affected())
    }

    pub(super) async fn exec_fenced(
        &self,
        statements: &[(String, Vec<Value>)],
        records: Option<&RecordBatch>,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        for (i, (sql, params)) in statements.iter().enumerate() {
            let sql = numbered(sql);
            let mut q = sqlx::query(&sql);
            for p in params {
                q = bind(q, p);
            }
            let changed = q.execute(&mut *tx).await?.rows_affected();
            if i == 0 && changed == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        if let Some(batch) = records {
            insert_rolled_up(&mut tx, batch, &rollups::FAMILIES).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn exec_in_tx(&self, statements: &[(String, Vec<Value>)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (sql, params) in statements {
            let sql = numbered(sql);
            let mut q = sqlx::query(&sql);
            for p in params {
                q = bind(q, p);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn fetch(
        &self,
        sql: &str,
        params: &[Value],
        types: &[FieldType],
    ) -> StoreResult<Vec<Vec<Value>>> {
        let sql = numbered(sql);
        let mut q = sqlx::query(&sql);
        for p in params {
            q = bind(q, p);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| decode_row(r, 0, types))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    /// Same as `fetch` (one pool serves reads and writes here).
    pub(super) async fn fetch_write(
        &self,
        sql: &str,
        params: &[Value],
        types: &[FieldType],
    ) -> StoreResult<Vec<Vec<Value>>> {
        self.fetch(sql, params, types).await
    }

    /// Streams a read query's rows into `tx` in blocks of `chunk` rows (`export_read.rs`);
    /// stops early when the receiver is dropped.
    pub(super) async fn stream(
        &self,
        query: &StreamQuery,
        chunk: usize,
        tx: &tokio::sync::mpsc::Sender<StoreResult<RowBlock>>,
    ) -> StoreResult<()> {
        export_read::stream(&self.pool, query, chunk, tx).await
    }

    pub(super) async fn insert_records(
        &self,
        batch: &RecordBatch,
        families: rollups::Families,
    ) -> StoreResult<InsertOutcome> {
        let mut tx = self.pool.begin().await?;
        let outcome = insert_rolled_up(&mut tx, batch, families).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn exec_with_records(
        &self,
        sql: &str,
        params: &[Value],
        batch: &RecordBatch,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let sql = numbered(sql);
        let mut q = sqlx::query(&sql);
        for p in params {
            q = bind(q, p);
        }
        q.execute(&mut *tx).await?;
        insert_rolled_up(&mut tx, batch, &rollups::FAMILIES).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn read_after(
        &self,
        data_type: DataType,
        org: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredRecord>> {
        let spec = catalog::spec(data_type);
        let sql = format!(
            "SELECT pos, {} FROM {} WHERE org_id = $1 AND pos > $2 AND {} ORDER BY pos LIMIT $3",
            column_list(spec),
            spec.table,
            position::VISIBLE
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let types = column_types(spec);
        rows.iter()
            .map(|r| {
                Ok(StoredRecord {
                    pos: r.try_get(0)?,
                    values: decode_row(r, 1, &types)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}

fn too_many(e: position::TooManyRows) -> StoreError {
    StoreError::Config(e.to_string())
}

/// Stores a batch inside the caller's transaction. Positions belong to that transaction, so
/// they become readable only once it commits — what the delivery-order tests drive directly.
pub async fn insert_in_tx(
    conn: &mut PgConnection,
    batch: &RecordBatch,
) -> StoreResult<InsertOutcome> {
    insert_rolled_up(conn, batch, &rollups::FAMILIES).await
}

/// [`insert_in_tx`], with the usage rollups of the inserted rows maintained in the same
/// transaction: those of `families`, every family but in the ingest benchmark's comparisons.
async fn insert_rolled_up(
    conn: &mut PgConnection,
    batch: &RecordBatch,
    families: rollups::Families,
) -> StoreResult<InsertOutcome> {
    let total = batch.records.len() as u64;
    let mut positions = TxPositions::start(&mut *conn).await?;
    let to_insert;
    let rows = if batch.data_type == DataType::Agents {
        to_insert = new_agent_versions(conn, batch).await?;
        &to_insert
    } else {
        batch
    };
    let start = positions.take(rows.records.len()).map_err(too_many)?;
    let accepted = insert_rows(conn, rows, start).await?;
    if accepted > 0 && !families.is_empty() {
        let end = start + rows.records.len() as i64;
        for org in super::records::batch_orgs(rows) {
            let statements = rollups::rollup_statements(
                rollups::Dialect::Postgres,
                families,
                batch.data_type,
                org,
                start,
                end,
            );
            for (sql, params) in &statements {
                let sql = numbered(sql);
                let mut q = sqlx::query(&sql);
                for p in params {
                    q = bind(q, p);
                }
                q.execute(&mut *conn).await?;
            }
        }
    }
    if accepted > 0 {
        mark_ingest(&mut *conn, rows, start).await?;
        for org in super::records::batch_orgs(rows) {
            // Delivered to listeners at commit, and only if the transaction commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(super::notify::CHANNEL)
                .bind(super::notify::Committed::payload(
                    batch.data_type,
                    start,
                    org,
                ))
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(InsertOutcome {
        accepted,
        duplicates: total - accepted,
    })
}

/// Records when the rows at positions `start..` were stored (see `records::ingest_mark_sql`).
async fn mark_ingest(
    conn: &mut PgConnection,
    batch: &RecordBatch,
    start: i64,
) -> Result<(), sqlx::Error> {
    let sql = numbered(&super::records::ingest_mark_sql(batch.spec().table));
    let now = Value::Timestamp(chrono::Utc::now());
    let end = start + batch.records.len() as i64 - 1;
    for org in super::records::batch_orgs(batch) {
        let q = sqlx::query(&sql).bind(batch.data_type.as_str());
        bind(q, &now)
            .bind(org)
            .bind(start)
            .bind(end)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// One column of a batch as a typed array, for `UNNEST`.
enum Column {
    Text(Vec<Option<String>>),
    Number(Vec<Option<f64>>),
    Integer(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Timestamp(Vec<Option<DateTime<Utc>>>),
}

impl Column {
    fn sql_type(&self) -> &'static str {
        match self {
            Column::Text(_) => "text[]",
            Column::Number(_) => "float8[]",
            Column::Integer(_) => "int8[]",
            Column::Bool(_) => "bool[]",
            Column::Timestamp(_) => "timestamptz[]",
        }
    }
}

fn columns(batch: &RecordBatch) -> Vec<Column> {
    let spec = batch.spec();
    let rows = &batch.records;
    spec.fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let cells = rows.iter().map(move |r| &r.values[i]);
            match f.ty {
                FieldType::Text | FieldType::Enum(_) => {
                    Column::Text(cells.map(|v| v.as_text().map(str::to_string)).collect())
                }
                FieldType::Json => Column::Text(
                    cells
                        .map(|v| match v {
                            Value::Json(j) => Some(j.to_string()),
                            _ => None,
                        })
                        .collect(),
                ),
                FieldType::Number => Column::Number(
                    cells
                        .map(|v| match v {
                            Value::Number(n) => Some(*n),
                            _ => None,
                        })
                        .collect(),
                ),
                FieldType::Integer => Column::Integer(cells.map(Value::as_i64).collect()),
                FieldType::Boolean => Column::Bool(
                    cells
                        .map(|v| match v {
                            Value::Bool(b) => Some(*b),
                            _ => None,
                        })
                        .collect(),
                ),
                FieldType::Timestamp => Column::Timestamp(cells.map(Value::as_timestamp).collect()),
            }
        })
        .collect()
}

/// Inserts the batch at positions `start..` in one statement; returns rows written.
async fn insert_rows(
    conn: &mut PgConnection,
    batch: &RecordBatch,
    start: i64,
) -> Result<u64, sqlx::Error> {
    if batch.records.is_empty() {
        return Ok(0);
    }
    let spec = batch.spec();
    let cols = columns(batch);
    let mut unnest = vec!["$2::text[]".to_string()];
    let mut select = vec!["u.org_id".to_string(), "$1 + u.ord - 1".to_string()];
    let mut names = vec!["org_id".to_string()];
    for (i, (f, c)) in spec.fields.iter().zip(&cols).enumerate() {
        unnest.push(format!("${}::{}", i + 3, c.sql_type()));
        names.push(format!("c{i}"));
        select.push(if f.ty == FieldType::Json {
            format!("u.c{i}::jsonb")
        } else {
            format!("u.c{i}")
        });
    }
    let sql = format!(
        "INSERT INTO {table} (org_id, pos, {cols}) SELECT {select} \
         FROM UNNEST({unnest}) WITH ORDINALITY AS u({names}, ord) \
         ON CONFLICT {target} DO NOTHING",
        table = spec.table,
        cols = column_list(spec),
        select = select.join(", "),
        unnest = unnest.join(", "),
        names = names.join(", "),
        target = conflict_target(spec),
    );
    let orgs: Vec<&str> = batch.records.iter().map(|r| r.org_id.as_str()).collect();
    let mut q = sqlx::query(&sql).bind(start).bind(orgs);
    for c in cols {
        q = match c {
            Column::Text(v) => q.bind(v),
            Column::Number(v) => q.bind(v),
            Column::Integer(v) => q.bind(v),
            Column::Bool(v) => q.bind(v),
            Column::Timestamp(v) => q.bind(v),
        };
    }
    Ok(q.execute(conn).await?.rows_affected())
}

/// Upserts each agent's latest-version row and returns the records that are new versions.
async fn new_agent_versions(
    conn: &mut PgConnection,
    batch: &RecordBatch,
) -> Result<RecordBatch, sqlx::Error> {
    let spec = batch.spec();
    let mut versions = RecordBatch::new(DataType::Agents);
    for record in &batch.records {
        let hash = agent_content_hash(spec, record);
        let (sql, params) = agent_upsert(spec, record, &hash);
        let sql = numbered(&sql);
        let mut q = sqlx::query(&sql);
        for p in &params {
            q = bind(q, p);
        }
        if let Some(row) = q.fetch_optional(&mut *conn).await? {
            let mut version: Record = record.clone();
            let number: i64 = row.try_get(0)?;
            stamp_agent_version(spec, &mut version, number);
            versions.records.push(version);
        }
    }
    Ok(versions)
}

fn bind<'q>(q: Q<'q>, v: &'q Value) -> Q<'q> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::NullTimestamp => q.bind(None::<DateTime<Utc>>),
        Value::Text(s) => q.bind(s.as_str()),
        Value::Number(n) => q.bind(*n),
        Value::Integer(i) => q.bind(*i),
        Value::Bool(b) => q.bind(*b),
        Value::Timestamp(t) => q.bind(*t),
        Value::Json(j) => q.bind(sqlx::types::Json(j)),
    }
}

fn decode_row(row: &PgRow, first: usize, types: &[FieldType]) -> Result<Vec<Value>, sqlx::Error> {
    types
        .iter()
        .enumerate()
        .map(|(i, ty)| decode(row, first + i, *ty))
        .collect()
}

fn decode(row: &PgRow, i: usize, ty: FieldType) -> Result<Value, sqlx::Error> {
    Ok(match ty {
        FieldType::Text | FieldType::Enum(_) => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::Text),
        FieldType::Number => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(Value::Null, Value::Number),
        FieldType::Integer => decode_integer(row, i)?.map_or(Value::Null, Value::Integer),
        FieldType::Boolean => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, Value::Bool),
        FieldType::Timestamp => row
            .try_get::<Option<DateTime<Utc>>, _>(i)?
            .map_or(Value::NullTimestamp, Value::Timestamp),
        FieldType::Json => row
            .try_get::<Option<serde_json::Value>, _>(i)?
            .map_or(Value::Null, Value::Json),
    })
}

/// Integers come back as int8, int4 or int2 depending on the column; accept all three.
fn decode_integer(row: &PgRow, i: usize) -> Result<Option<i64>, sqlx::Error> {
    row.try_get::<Option<i64>, _>(i)
        .or_else(|_| row.try_get::<Option<i32>, _>(i).map(|v| v.map(i64::from)))
        .or_else(|_| row.try_get::<Option<i16>, _>(i).map(|v| v.map(i64::from)))
}

//! SQLite backend: the embedded default.
//!
//! One writer connection and a pool of read-only connections over a WAL database. Readers
//! never block the writer and see only committed data.
//!
//! **Delivery order.** SQLite admits one write transaction at a time, and Outflow funnels every
//! write through its single writer connection. A write transaction takes its positions from
//! the `positions` counter as its first write and holds the database's write lock until it
//! commits, so transactions commit in the order of their positions: once a reader has seen
//! position P committed, every position below P is committed too (or was a duplicate and never
//! will be). `tests/it/delivery_order.rs` checks this with concurrent writers.

use super::records::{
    agent_content_hash, agent_upsert, column_list, column_types, conflict_target,
    stamp_agent_version,
};
use super::rollups::{self, Dialect};
use super::{
    InsertOutcome, Record, RecordBatch, RowBlock, StoreError, StoreResult, StoredRecord,
    StreamQuery, Value,
};
use crate::domain::time::{from_micros, to_micros};
use crate::domain::{DataType, FieldType, catalog};
use sqlx::query::Query;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

mod export_read;
mod unicode;

/// Most rows one INSERT statement carries (SQLite allows 32,766 parameters).
const ROWS_PER_STATEMENT: usize = 500;

/// The SQLite pools.
#[derive(Clone)]
pub struct SqliteBackend {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The database file, for the export read path's own connections (`export_read.rs`);
    /// `None` for an in-memory database, which only the pools can see.
    file: Option<PathBuf>,
    /// That path's connections kept between reads.
    idle: export_read::Idle,
}

type Q<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

impl SqliteBackend {
    pub(super) async fn connect(url: &str, pool_size: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode loses no committed transaction on an application crash; only
            // an OS crash or power loss can drop the last few — the usual trade for SQLite.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| Box::pin(unicode::install(conn)))
            .connect_with(options.clone().pragma("cache_size", "-16384"))
            .await?;
        let filename = options.get_filename();
        let name = filename.to_string_lossy();
        let file = (!name.is_empty() && name != ":memory:" && !name.starts_with("file:"))
            .then(|| filename.to_path_buf());
        let reader = SqlitePoolOptions::new()
            .max_connections(pool_size.max(1))
            .after_connect(|conn, _| Box::pin(unicode::install(conn)))
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteBackend {
            writer,
            reader,
            file,
            idle: export_read::Idle::default(),
        })
    }

    pub(super) async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/sqlite")
            .run(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    pub(super) async fn exec(&self, sql: &str, params: &[Value]) -> StoreResult<u64> {
        let mut q = sqlx::query(sql);
        for p in params {
            q = bind(q, p);
        }
        Ok(q.execute(&self.writer).await?.rows_affected())
    }

    pub(super) async fn exec_fenced(
        &self,
        statements: &[(String, Vec<Value>)],
        records: Option<&RecordBatch>,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        for (i, (sql, params)) in statements.iter().enumerate() {
            let mut q = sqlx::query(sql);
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
            insert_in_tx(&mut tx, batch, &rollups::FAMILIES).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn exec_in_tx(&self, statements: &[(String, Vec<Value>)]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        for (sql, params) in statements {
            let mut q = sqlx::query(sql);
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
        fetch_on(&self.reader, sql, params, types).await
    }

    /// Like `fetch`, through `rusqlite` on a read-only connection when the database is a file
    /// and the columns are integers, numbers or text (`export_read::fetch_blocking`): for
    /// read queries answering many small rows.
    pub(super) async fn fetch_many(
        &self,
        sql: &str,
        params: &[Value],
        types: &[FieldType],
    ) -> StoreResult<Vec<Vec<Value>>> {
        let Some(file) = self.file.clone().filter(|_| export_read::fetches(types)) else {
            return self.fetch(sql, params, types).await;
        };
        let (idle, sql, params, types) = (
            self.idle.clone(),
            sql.to_string(),
            params.to_vec(),
            types.to_vec(),
        );
        blocking(move || export_read::fetch_blocking(&idle, &file, &sql, &params, &types)).await
    }

    /// Like `fetch`, on the writer: for `UPDATE … RETURNING` (the readers are read-only).
    pub(super) async fn fetch_write(
        &self,
        sql: &str,
        params: &[Value],
        types: &[FieldType],
    ) -> StoreResult<Vec<Vec<Value>>> {
        fetch_on(&self.writer, sql, params, types).await
    }

    /// Streams a read query's rows into `tx` in blocks of `chunk` rows; stops early when the
    /// receiver is dropped. SQLite reads one file on one thread: `split` and `streams` do not
    /// apply.
    pub(super) async fn stream(
        &self,
        query: &StreamQuery,
        chunk: usize,
        tx: &tokio::sync::mpsc::Sender<StoreResult<RowBlock>>,
    ) -> StoreResult<()> {
        use futures::TryStreamExt;
        let types = &query.types;
        if let Some(file) = &self.file {
            let (file, query, tx) = (file.clone(), query.clone(), tx.clone());
            let idle = self.idle.clone();
            return blocking(move || {
                export_read::stream_blocking(
                    &idle,
                    &file,
                    &query.sql,
                    &query.params,
                    &query.types,
                    chunk,
                    &tx,
                )
            })
            .await;
        }
        // An in-memory database (tests): only the pool's connections can see it.
        let mut q = sqlx::query(&query.sql);
        for p in &query.params {
            q = bind(q, p);
        }
        let mut rows = q.fetch(&self.reader);
        let mut block = RowBlock::for_chunk(types.len(), chunk);
        while let Some(row) = rows.try_next().await? {
            for v in decode_row(&row, 0, types)? {
                block.push_value(&v);
            }
            block.end_row();
            if block.is_full(chunk)
                && tx
                    .send(Ok(std::mem::replace(
                        &mut block,
                        RowBlock::for_chunk(types.len(), chunk),
                    )))
                    .await
                    .is_err()
            {
                return Ok(());
            }
        }
        if !block.is_empty() {
            let _ = tx.send(Ok(block)).await;
        }
        Ok(())
    }

    pub(super) async fn insert_records(
        &self,
        batch: &RecordBatch,
        families: rollups::Families,
    ) -> StoreResult<InsertOutcome> {
        let mut conn = self.writer.acquire().await?;
        let mut tx = conn.begin().await?;
        let outcome = insert_in_tx(&mut tx, batch, families).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn exec_with_records(
        &self,
        sql: &str,
        params: &[Value],
        batch: &RecordBatch,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let mut q = sqlx::query(sql);
        for p in params {
            q = bind(q, p);
        }
        q.execute(&mut *tx).await?;
        insert_in_tx(&mut tx, batch, &rollups::FAMILIES).await?;
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
            "SELECT pos, {} FROM {} WHERE org_id = ? AND pos > ? ORDER BY pos LIMIT ?",
            column_list(spec),
            spec.table
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.reader)
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

/// Takes `n` consecutive positions from the counter; the first write of the transaction.
async fn take_positions(conn: &mut SqliteConnection, n: usize) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("UPDATE positions SET next = next + ? WHERE id = 1 RETURNING next - ?")
        .bind(n as i64)
        .bind(n as i64)
        .fetch_one(conn)
        .await
}

/// Runs `f` (rusqlite work) on a blocking thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Database(sqlx::Error::Io(std::io::Error::other(e))))?
}

async fn insert_in_tx(
    conn: &mut SqliteConnection,
    batch: &RecordBatch,
    families: rollups::Families,
) -> StoreResult<InsertOutcome> {
    let total = batch.records.len() as u64;
    if batch.data_type == DataType::Agents {
        let versions = new_agent_versions(conn, batch).await?;
        let start = take_positions(conn, versions.records.len()).await?;
        insert_rows(conn, &versions, start).await?;
        let accepted = versions.records.len() as u64;
        mark_ingest(conn, &versions, start).await?;
        return Ok(InsertOutcome {
            accepted,
            duplicates: total - accepted,
        });
    }
    let start = take_positions(conn, batch.records.len()).await?;
    let accepted = insert_rows(conn, batch, start).await?;
    if accepted > 0 {
        mark_ingest(conn, batch, start).await?;
    }
    if accepted > 0 && !families.is_empty() {
        let end = start + batch.records.len() as i64;
        for org in super::records::batch_orgs(batch) {
            let statements = rollups::rollup_statements(
                Dialect::Sqlite,
                families,
                batch.data_type,
                org,
                start,
                end,
            );
            exec_all(conn, &statements).await?;
        }
    }
    Ok(InsertOutcome {
        accepted,
        duplicates: total - accepted,
    })
}

/// Runs statements on the transaction's connection.
async fn exec_all(
    conn: &mut SqliteConnection,
    statements: &[(String, Vec<Value>)],
) -> Result<(), sqlx::Error> {
    for (sql, params) in statements {
        let mut q = sqlx::query(sql);
        for p in params {
            q = bind(q, p);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records when the rows at positions `start..` were stored (see `records::ingest_mark_sql`).
async fn mark_ingest(
    conn: &mut SqliteConnection,
    batch: &RecordBatch,
    start: i64,
) -> Result<(), sqlx::Error> {
    if batch.records.is_empty() {
        return Ok(());
    }
    let sql = super::records::ingest_mark_sql(batch.spec().table);
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

/// Inserts rows at positions `start..`, skipping ids already stored; returns rows written.
async fn insert_rows(
    conn: &mut SqliteConnection,
    batch: &RecordBatch,
    start: i64,
) -> Result<u64, sqlx::Error> {
    let spec = batch.spec();
    let marks = format!("({})", vec!["?"; spec.fields.len() + 2].join(", "));
    let mut pos = start;
    let mut written = 0;
    for chunk in batch.records.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO {} (org_id, pos, {}) VALUES {} ON CONFLICT {} DO NOTHING",
            spec.table,
            column_list(spec),
            vec![marks.as_str(); chunk.len()].join(", "),
            conflict_target(spec)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q.bind(r.org_id.as_str()).bind(pos);
            pos += 1;
            for v in &r.values {
                q = bind(q, v);
            }
        }
        written += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(written)
}

/// Upserts each agent's latest-version row and returns the records that are new versions.
async fn new_agent_versions(
    conn: &mut SqliteConnection,
    batch: &RecordBatch,
) -> Result<RecordBatch, sqlx::Error> {
    let spec = batch.spec();
    let mut versions = RecordBatch::new(DataType::Agents);
    for record in &batch.records {
        let hash = agent_content_hash(spec, record);
        let (sql, params) = agent_upsert(spec, record, &hash);
        let mut q = sqlx::query(&sql);
        for p in &params {
            q = bind(q, p);
        }
        if let Some(row) = q.fetch_optional(&mut *conn).await? {
            let mut version: Record = record.clone();
            stamp_agent_version(spec, &mut version, row.try_get(0)?);
            versions.records.push(version);
        }
    }
    Ok(versions)
}

async fn fetch_on(
    pool: &SqlitePool,
    sql: &str,
    params: &[Value],
    types: &[FieldType],
) -> StoreResult<Vec<Vec<Value>>> {
    let mut q = sqlx::query(sql);
    for p in params {
        q = bind(q, p);
    }
    let rows = q.fetch_all(pool).await?;
    rows.iter()
        .map(|r| decode_row(r, 0, types))
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

fn bind<'q>(q: Q<'q>, v: &'q Value) -> Q<'q> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::NullTimestamp => q.bind(None::<i64>),
        Value::Text(s) => q.bind(s.as_str()),
        Value::Number(n) => q.bind(*n),
        Value::Integer(i) => q.bind(*i),
        Value::Bool(b) => q.bind(*b),
        Value::Timestamp(t) => q.bind(to_micros(t)),
        Value::Json(j) => q.bind(j.to_string()),
    }
}

fn decode_row(
    row: &SqliteRow,
    first: usize,
    types: &[FieldType],
) -> Result<Vec<Value>, sqlx::Error> {
    types
        .iter()
        .enumerate()
        .map(|(i, ty)| decode(row, first + i, *ty))
        .collect()
}

fn decode(row: &SqliteRow, i: usize, ty: FieldType) -> Result<Value, sqlx::Error> {
    Ok(match ty {
        FieldType::Text | FieldType::Enum(_) => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::Text),
        FieldType::Number => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(Value::Null, Value::Number),
        FieldType::Integer => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::Integer),
        FieldType::Boolean => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, Value::Bool),
        FieldType::Timestamp => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::NullTimestamp, |us| Value::Timestamp(from_micros(us))),
        FieldType::Json => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, |s| {
                Value::Json(serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
            }),
    })
}

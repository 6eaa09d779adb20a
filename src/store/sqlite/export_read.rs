//! The export read path on SQLite, through `rusqlite` rather than sqlx.
//!
//! Why: sqlx's SQLite driver runs each connection on a worker thread and sends every row
//! across a channel to the async side, then type-checks and decodes each cell through its
//! generic row API; on a million-row export that costs several times the query itself.
//! `rusqlite` links the same `libsqlite3-sys` as sqlx (one SQLite in the binary — check with
//! `cargo tree -i libsqlite3-sys`), so here a blocking task opens its own read-only
//! connection, steps a prepared statement and copies cells straight into [`RowBlock`]s (text
//! into the block's arena, no allocation per cell). Values mean exactly what the sqlx path
//! (`decode` in `mod.rs`) makes of them.

use super::super::{RowBlock, StoreError, StoreResult, Value};
use crate::domain::FieldType;
use crate::domain::time::to_micros;
use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{OpenFlags, params_from_iter};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Sender = tokio::sync::mpsc::Sender<StoreResult<RowBlock>>;

/// Read-only connections kept between reads. A drain reads its backlog a batch at a time,
/// and opening a connection (which parses the schema on its first statement) and preparing
/// the statement cost about as much as reading a 1,000-row batch; kept, a connection reuses
/// its prepared statements (`prepare_cached`). A connection is kept only after its statement
/// ran to the end or was dropped, so none holds a read transaction while idle.
#[derive(Clone, Default)]
pub(super) struct Idle(Arc<Mutex<Vec<rusqlite::Connection>>>);

/// Connections kept at most.
const IDLE_MAX: usize = 4;

impl Idle {
    fn take(&self, path: &Path) -> StoreResult<rusqlite::Connection> {
        if let Some(conn) = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(conn);
        }
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_error)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(db_error)?;
        Ok(conn)
    }

    fn put(&self, conn: rusqlite::Connection) {
        let mut idle = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_MAX {
            idle.push(conn);
        }
    }
}

/// Runs `sql` on a read-only connection to `path` (one kept in `idle`, or a new one),
/// sending rows in chunks of `chunk` with `blocking_send`; stops early when the receiver is
/// dropped. Call on a blocking thread.
pub(super) fn stream_blocking(
    idle: &Idle,
    path: &Path,
    sql: &str,
    params: &[Value],
    types: &[FieldType],
    chunk: usize,
    tx: &Sender,
) -> StoreResult<()> {
    with_idle(idle, path, |conn| {
        stream_on(conn, sql, params, types, chunk, tx)
    })
}

/// Runs `f` on a read-only connection to `path` (one kept in `idle`, or a new one), and keeps
/// the connection for the next caller unless `f` failed: whatever failed may fail again.
fn with_idle<T>(
    idle: &Idle,
    path: &Path,
    f: impl FnOnce(&rusqlite::Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let conn = idle.take(path)?;
    let result = f(&conn);
    if result.is_ok() {
        idle.put(conn);
    }
    result
}

fn stream_on(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
    types: &[FieldType],
    chunk: usize,
    tx: &Sender,
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    let mut rows = stmt
        .query(params_from_iter(params.iter().map(to_sql)))
        .map_err(db_error)?;
    let new_block = || RowBlock::for_chunk(types.len(), chunk);
    let mut block = new_block();
    while let Some(row) = rows.next().map_err(db_error)? {
        for (i, ty) in types.iter().enumerate() {
            let cell = row.get_ref(i).map_err(db_error);
            if let Err(e) = cell.and_then(|v| decode(v, *ty, &mut block)) {
                block.abandon_row();
                return Err(e);
            }
        }
        block.end_row();
        if block.is_full(chunk)
            && tx
                .blocking_send(Ok(std::mem::replace(&mut block, new_block())))
                .is_err()
        {
            return Ok(());
        }
    }
    if !block.is_empty() {
        let _ = tx.blocking_send(Ok(block));
    }
    Ok(())
}

/// Whether [`fetch_blocking`] decodes columns of these types (the rest go through sqlx).
pub(super) fn fetches(types: &[FieldType]) -> bool {
    types.iter().all(|t| {
        matches!(
            t,
            FieldType::Integer | FieldType::Number | FieldType::Text | FieldType::Enum(_)
        )
    })
}

/// Runs a read query on a read-only connection to `path` (one kept in `idle`, or a new one)
/// and returns its rows as sqlx's `decode` would (integer, number and text columns only; see
/// [`fetches`]). For queries answering thousands of small rows (usage analytics), where
/// sqlx's per-row hand-over between threads costs more than the query. Call on a blocking
/// thread.
pub(super) fn fetch_blocking(
    idle: &Idle,
    path: &Path,
    sql: &str,
    params: &[Value],
    types: &[FieldType],
) -> StoreResult<Vec<Vec<Value>>> {
    with_idle(idle, path, |conn| fetch_on(conn, sql, params, types))
}

fn fetch_on(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
    types: &[FieldType],
) -> StoreResult<Vec<Vec<Value>>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    let mut rows = stmt
        .query(params_from_iter(params.iter().map(to_sql)))
        .map_err(db_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_error)? {
        let mut values = Vec::with_capacity(types.len());
        for (i, ty) in types.iter().enumerate() {
            let v = row.get_ref(i).map_err(db_error)?;
            values.push(match (ty, v) {
                (_, ValueRef::Null) => Value::Null,
                (FieldType::Integer, ValueRef::Integer(n)) => Value::Integer(n),
                (FieldType::Number, ValueRef::Real(x)) => Value::Number(x),
                (FieldType::Number, ValueRef::Integer(n)) => Value::Number(n as f64),
                (FieldType::Text | FieldType::Enum(_), ValueRef::Text(t)) => {
                    Value::Text(String::from_utf8_lossy(t).into_owned())
                }
                (ty, v) => {
                    return Err(db_error(rusqlite::Error::InvalidColumnType(
                        i,
                        format!("{ty:?}"),
                        v.data_type(),
                    )));
                }
            });
        }
        out.push(values);
    }
    Ok(out)
}

fn db_error(e: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(e)))
}

/// Parameters bind as the sqlx path binds them (`bind` in `mod.rs`).
fn to_sql(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        Value::Null | Value::NullTimestamp => S::Null,
        Value::Text(s) => S::Text(s.clone()),
        Value::Number(n) => S::Real(*n),
        Value::Integer(i) => S::Integer(*i),
        Value::Bool(b) => S::Integer(i64::from(*b)),
        Value::Timestamp(t) => S::Integer(to_micros(t)),
        Value::Json(j) => S::Text(j.to_string()),
    }
}

fn decode(v: ValueRef<'_>, ty: FieldType, block: &mut RowBlock) -> StoreResult<()> {
    if let ValueRef::Null = v {
        block.push_null();
        return Ok(());
    }
    match ty {
        FieldType::Text | FieldType::Enum(_) => text(v, |s| block.push_text(s))?,
        FieldType::Number => block.push_number(match v {
            ValueRef::Real(f) => f,
            ValueRef::Integer(i) => i as f64,
            _ => return Err(mismatch(v, ty)),
        }),
        FieldType::Integer => block.push_integer(integer(v, ty)?),
        FieldType::Boolean => block.push_bool(integer(v, ty)? != 0),
        // Out of chrono's range reads as the epoch, as `from_micros` has it on the sqlx path.
        FieldType::Timestamp => {
            let us = integer(v, ty)?;
            block.push_timestamp(if DateTime::<Utc>::from_timestamp_micros(us).is_some() {
                us
            } else {
                0
            })
        }
        // Text that is not JSON is exported as a JSON string, as on the sqlx path.
        FieldType::Json => text(v, |s| {
            if serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok() {
                block.push_json(s)
            } else {
                block.push_json(&serde_json::Value::String(s.into()).to_string())
            }
        })?,
    }
    Ok(())
}

fn integer(v: ValueRef<'_>, ty: FieldType) -> StoreResult<i64> {
    match v {
        ValueRef::Integer(i) => Ok(i),
        ValueRef::Real(f) => Ok(f as i64),
        _ => Err(mismatch(v, ty)),
    }
}

/// Hands `v` as text to `f`: borrowed for text, formatted for numbers.
fn text(v: ValueRef<'_>, f: impl FnOnce(&str)) -> StoreResult<()> {
    match v {
        ValueRef::Text(b) => f(std::str::from_utf8(b)
            .map_err(|e| StoreError::Corrupt(format!("text is not UTF-8: {e}")))?),
        ValueRef::Integer(i) => f(&i.to_string()),
        ValueRef::Real(x) => f(&x.to_string()),
        _ => return Err(mismatch(v, FieldType::Text)),
    }
    Ok(())
}

fn mismatch(v: ValueRef<'_>, ty: FieldType) -> StoreError {
    StoreError::Corrupt(format!(
        "a {} value where a {} is expected",
        v.data_type(),
        ty.name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: ValueRef<'_>, ty: FieldType) -> StoreResult<Value> {
        let mut block = RowBlock::with_capacity(1, 1, 16);
        decode(v, ty, &mut block)?;
        block.end_row();
        Ok(block.row(0).get(0).to_value())
    }

    #[test]
    fn decodes_like_the_sqlx_path() {
        assert_eq!(
            one(ValueRef::Integer(3), FieldType::Number).unwrap(),
            Value::Number(3.0)
        );
        assert_eq!(
            one(ValueRef::Integer(2), FieldType::Boolean).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            one(ValueRef::Null, FieldType::Timestamp).unwrap(),
            Value::Null
        );
        assert_eq!(
            one(ValueRef::Integer(1_000_000), FieldType::Timestamp).unwrap(),
            Value::Timestamp(DateTime::from_timestamp(1, 0).unwrap())
        );
        assert_eq!(
            one(ValueRef::Text(b"[1]"), FieldType::Json).unwrap(),
            Value::Json(serde_json::json!([1]))
        );
        assert_eq!(
            one(ValueRef::Text(b"x{"), FieldType::Json).unwrap(),
            Value::Json(serde_json::Value::String("x{".into()))
        );
        assert_eq!(
            one(ValueRef::Integer(7), FieldType::Text).unwrap(),
            Value::Text("7".into())
        );
        assert!(one(ValueRef::Text(b"x"), FieldType::Integer).is_err());
    }
}

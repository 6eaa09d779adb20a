//! The export read path on SQLite, through `rusqlite` rather than sqlx.
//!
//! Why: sqlx's SQLite driver runs each connection on a worker thread and sends every row
//! across a channel to the async side, then type-checks and decodes each cell through its
//! generic row API; on a million-row export that costs several times the query itself.
//! `rusqlite` links the same `libsqlite3-sys` as sqlx (one SQLite in the binary — check with
//! `cargo tree -i libsqlite3-sys`), so here a blocking task opens its own read-only
//! connection, steps a prepared statement and decodes cells straight into [`Value`] chunks.
//! Values are decoded exactly as the sqlx path (`decode` in `mod.rs`) decodes them.

use super::super::{StoreError, StoreResult, Value};
use crate::domain::FieldType;
use crate::domain::time::{from_micros, to_micros};
use rusqlite::types::ValueRef;
use rusqlite::{OpenFlags, params_from_iter};
use std::path::Path;
use std::time::Duration;

type Sender = tokio::sync::mpsc::Sender<StoreResult<Vec<Vec<Value>>>>;

/// Runs `sql` on a fresh read-only connection to `path`, sending rows in chunks of `chunk`
/// with `blocking_send`; stops early when the receiver is dropped. Call on a blocking thread.
pub(super) fn stream_blocking(
    path: &Path,
    sql: &str,
    params: &[Value],
    types: &[FieldType],
    chunk: usize,
    tx: &Sender,
) -> StoreResult<()> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db_error)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(db_error)?;
    let mut stmt = conn.prepare(sql).map_err(db_error)?;
    let mut rows = stmt
        .query(params_from_iter(params.iter().map(to_sql)))
        .map_err(db_error)?;
    let mut buf = Vec::with_capacity(chunk);
    while let Some(row) = rows.next().map_err(db_error)? {
        let mut out = Vec::with_capacity(types.len());
        for (i, ty) in types.iter().enumerate() {
            out.push(decode(row.get_ref(i).map_err(db_error)?, *ty)?);
        }
        buf.push(out);
        if buf.len() == chunk
            && tx
                .blocking_send(Ok(std::mem::replace(&mut buf, Vec::with_capacity(chunk))))
                .is_err()
        {
            return Ok(());
        }
    }
    if !buf.is_empty() {
        let _ = tx.blocking_send(Ok(buf));
    }
    Ok(())
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

fn decode(v: ValueRef<'_>, ty: FieldType) -> StoreResult<Value> {
    if let ValueRef::Null = v {
        return Ok(match ty {
            FieldType::Timestamp => Value::NullTimestamp,
            _ => Value::Null,
        });
    }
    Ok(match ty {
        FieldType::Text | FieldType::Enum(_) => Value::Text(text(v)?),
        FieldType::Number => Value::Number(match v {
            ValueRef::Real(f) => f,
            ValueRef::Integer(i) => i as f64,
            _ => return Err(mismatch(v, ty)),
        }),
        FieldType::Integer => Value::Integer(integer(v, ty)?),
        FieldType::Boolean => Value::Bool(integer(v, ty)? != 0),
        FieldType::Timestamp => Value::Timestamp(from_micros(integer(v, ty)?)),
        FieldType::Json => {
            let s = text(v)?;
            Value::Json(serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
        }
    })
}

fn integer(v: ValueRef<'_>, ty: FieldType) -> StoreResult<i64> {
    match v {
        ValueRef::Integer(i) => Ok(i),
        ValueRef::Real(f) => Ok(f as i64),
        _ => Err(mismatch(v, ty)),
    }
}

fn text(v: ValueRef<'_>) -> StoreResult<String> {
    match v {
        ValueRef::Text(b) => String::from_utf8(b.to_vec())
            .map_err(|e| StoreError::Corrupt(format!("text is not UTF-8: {e}"))),
        ValueRef::Integer(i) => Ok(i.to_string()),
        ValueRef::Real(f) => Ok(f.to_string()),
        _ => Err(mismatch(v, FieldType::Text)),
    }
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

    #[test]
    fn decodes_like_the_sqlx_path() {
        assert_eq!(
            decode(ValueRef::Integer(3), FieldType::Number).unwrap(),
            Value::Number(3.0)
        );
        assert_eq!(
            decode(ValueRef::Integer(2), FieldType::Boolean).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            decode(ValueRef::Null, FieldType::Timestamp).unwrap(),
            Value::NullTimestamp
        );
        assert_eq!(
            decode(ValueRef::Text(b"[1]"), FieldType::Json).unwrap(),
            Value::Json(serde_json::json!([1]))
        );
        assert_eq!(
            decode(ValueRef::Text(b"x{"), FieldType::Json).unwrap(),
            Value::Json(serde_json::Value::String("x{".into()))
        );
        assert!(decode(ValueRef::Text(b"x"), FieldType::Integer).is_err());
    }
}

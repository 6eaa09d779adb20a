//! NDJSON rows: one compact JSON object per line (`\n`), keys the column ids in column order.
//!
//! Values keep their JSON types: text and enum values as strings, integers and numbers as
//! numbers (a non-finite number, which ingest refuses, as `null`), booleans, timestamps as the
//! strings CSV writes, JSON columns embedded as JSON (not as a string), NULL as `null`. Nothing
//! is neutralised: NDJSON is read by programs, not spreadsheets.
//!
//! The keys are escaped once, up front; strings and numbers go through `serde_json`'s
//! serializer straight into the output buffer (no intermediate `serde_json::Value`).

use super::cell::{Kind, mismatch, push_i64, push_timestamp};
use super::{Column, EncodeError};
use crate::store::Value;
use chrono_tz::Tz;

/// The NDJSON encoder: column facts and each column's `"id":` (with its leading `,`).
pub(super) struct NdjsonEncoder {
    columns: Vec<Column>,
    kinds: Vec<Kind>,
    keys: Vec<Vec<u8>>,
    tz: Option<Tz>,
}

impl NdjsonEncoder {
    pub(super) fn new(columns: Vec<Column>, tz: Option<Tz>) -> Result<NdjsonEncoder, EncodeError> {
        let mut keys = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            let mut key = Vec::with_capacity(c.id.len() + 4);
            if i > 0 {
                key.push(b',');
            }
            serde_json::to_writer(&mut key, c.id.as_str())?;
            key.push(b':');
            keys.push(key);
        }
        Ok(NdjsonEncoder {
            kinds: columns.iter().map(|c| Kind::of(c.ty)).collect(),
            columns,
            keys,
            tz,
        })
    }

    /// Appends one line; on error nothing of it stays in `out`.
    pub(super) fn write_row(
        &mut self,
        row: &[Value],
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.encode(row, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode(&mut self, row: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(b'{');
        for (i, ((kind, key), value)) in self.kinds.iter().zip(&self.keys).zip(row).enumerate() {
            out.extend_from_slice(key);
            match (kind, value) {
                (_, Value::Null | Value::NullTimestamp) => out.extend_from_slice(b"null"),
                (Kind::Text, Value::Text(s)) => serde_json::to_writer(&mut *out, s.as_str())?,
                // serde_json writes non-finite floats as `null`.
                (Kind::Number, Value::Number(n)) => serde_json::to_writer(&mut *out, n)?,
                (Kind::Number | Kind::Integer, Value::Integer(n)) => push_i64(out, *n),
                (Kind::Bool, Value::Bool(b)) => {
                    out.extend_from_slice(if *b { b"true" } else { b"false" })
                }
                (Kind::Timestamp, Value::Timestamp(t)) => {
                    out.push(b'"');
                    push_timestamp(out, t, self.tz);
                    out.push(b'"');
                }
                (Kind::Json, Value::Json(j)) => serde_json::to_writer(&mut *out, j)?,
                _ => {
                    let c = &self.columns[i];
                    return Err(mismatch(&c.id, c.ty, value));
                }
            }
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}

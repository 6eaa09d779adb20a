//! NDJSON rows: one compact JSON object per line (`\n`), keys the column ids in column order.
//!
//! Values keep their JSON types: text and enum values as strings, integers and numbers as
//! numbers (a non-finite number, which ingest refuses, as `null`), booleans, timestamps as the
//! strings CSV writes, JSON columns embedded as compact JSON (not as a string; the stored text
//! may carry spaces, see [`super::cell::push_json_compact`]), NULL as `null`. Nothing is
//! neutralised: NDJSON is read by programs, not spreadsheets.
//!
//! Rows are a block's cells. The keys are escaped once, up front; strings (borrowed from the
//! block) and numbers go through `serde_json`'s serializer straight into the output buffer,
//! with no intermediate `serde_json::Value`.

use super::cell::{Kind, TimestampWriter, mismatch, push_i64, push_json_compact};
use super::{Column, EncodeError};
use crate::store::{CellRef, Row};
use chrono_tz::Tz;

/// The NDJSON encoder: column facts and each column's `"id":` (with its leading `,`).
pub(super) struct NdjsonEncoder {
    columns: Vec<Column>,
    kinds: Vec<Kind>,
    keys: Vec<Vec<u8>>,
    timestamps: TimestampWriter,
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
            timestamps: TimestampWriter::new(tz),
        })
    }

    /// Appends one line of the row's first `columns` cells; on error nothing of it stays in
    /// `out`. The caller has checked that the row is wide enough.
    pub(super) fn write_row(&mut self, row: Row<'_>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.encode(row, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode(&mut self, row: Row<'_>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(b'{');
        for (i, (kind, key)) in self.kinds.iter().zip(&self.keys).enumerate() {
            out.extend_from_slice(key);
            match (kind, row.get(i)) {
                (_, CellRef::Null) => out.extend_from_slice(b"null"),
                (Kind::Text, CellRef::Text(s)) => serde_json::to_writer(&mut *out, s)?,
                // serde_json writes non-finite floats as `null`.
                (Kind::Number, CellRef::Number(n)) => serde_json::to_writer(&mut *out, &n)?,
                (Kind::Number | Kind::Integer, CellRef::Integer(n)) => push_i64(out, n),
                (Kind::Bool, CellRef::Bool(b)) => {
                    out.extend_from_slice(if b { b"true" } else { b"false" })
                }
                (Kind::Timestamp, CellRef::Timestamp(us)) => {
                    out.push(b'"');
                    self.timestamps.push(out, us);
                    out.push(b'"');
                }
                (Kind::Json, CellRef::Json(text)) => push_json_compact(out, text)?,
                (_, cell) => {
                    let c = &self.columns[i];
                    return Err(mismatch(&c.id, c.ty, cell));
                }
            }
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}

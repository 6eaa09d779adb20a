//! CSV rows (RFC 4180), written from a block's cells straight into the output buffer: text
//! cells are copied from the block's arena, nothing is allocated per cell (except for JSON).
//!
//! - A header row of the column ids, then one record per row; UTF-8 without a byte-order mark;
//!   records end with CRLF as RFC 4180 prescribes (every CSV reader also accepts it).
//! - A field is quoted only when it must be, that is when it contains a comma, a double quote,
//!   CR or LF; double quotes inside are doubled. A single-column row whose only cell is empty is
//!   written `""`, because readers skip blank lines (the `csv` crate's writer does the same).
//! - NULL is an empty cell. Timestamps use the one form of [`super::cell::push_timestamp`];
//!   numbers are the shortest decimal that reads back as the same float, never in exponent form
//!   (non-finite numbers, which ingest refuses, are written as empty cells); integers are plain
//!   decimals; booleans `true` / `false`; JSON is its compact text (see
//!   [`super::cell::push_json_compact`]: the stored text may carry spaces).
//!
//! ## Formula neutralisation (CSV injection)
//! A spreadsheet runs a cell starting with `=`, `+`, `-` or `@` as a formula, and tab or CR
//! can smuggle one in (OWASP, "CSV Injection"). With `neutralise_formulas` (the default), a
//! *text* cell (text and enum columns) starting with one of those six characters gets a leading
//! `'`, which spreadsheets treat as "this is text" and do not display. Numbers, timestamps,
//! booleans and JSON are never changed: a negative number stays a number. The value in the file
//! then differs from the stored one by that quote; an export for a program rather than a
//! spreadsheet can opt out with `neutralise_formulas: false` (or use NDJSON or Parquet, which
//! are never changed).
//!
//! The `csv` crate is not used for writing because its writer cannot hand out its buffer
//! between records (no `get_mut`) and copies each field through its own buffer; the rules
//! above are all of RFC 4180 a writer needs, and the tests read every output back with the
//! `csv` crate's reader.

use super::cell::{Kind, TimestampWriter, mismatch, push_f64, push_i64, push_json_compact};
use super::{Column, EncodeError};
use crate::store::{CellRef, Row};
use chrono_tz::Tz;

/// Bytes that force a field into quotes.
static NEEDS_QUOTES: [bool; 256] = {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t
};

/// Whether a spreadsheet could read text starting with this byte as a formula.
#[inline]
fn starts_formula(s: &[u8]) -> bool {
    matches!(s.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// The CSV encoder: column facts and a scratch buffer for JSON cells.
pub(super) struct CsvEncoder {
    columns: Vec<Column>,
    kinds: Vec<Kind>,
    neutralise: bool,
    timestamps: TimestampWriter,
    scratch: Vec<u8>,
}

impl CsvEncoder {
    /// Makes the encoder and writes the header row into `out`.
    pub(super) fn new(
        columns: Vec<Column>,
        neutralise: bool,
        tz: Option<Tz>,
        out: &mut Vec<u8>,
    ) -> CsvEncoder {
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_field(out, c.id.as_bytes(), false);
        }
        out.extend_from_slice(b"\r\n");
        CsvEncoder {
            kinds: columns.iter().map(|c| Kind::of(c.ty)).collect(),
            columns,
            neutralise,
            timestamps: TimestampWriter::new(tz),
            scratch: Vec::new(),
        }
    }

    /// Appends one record of the row's first `columns` cells; on error nothing of it stays in
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
        let start = out.len();
        for (i, kind) in self.kinds.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match (kind, row.get(i)) {
                (_, CellRef::Null) => {}
                (Kind::Text, CellRef::Text(s)) => {
                    let s = s.as_bytes();
                    push_field(out, s, self.neutralise && starts_formula(s));
                }
                (Kind::Number, CellRef::Number(n)) => {
                    if n.is_finite() {
                        push_f64(out, n);
                    }
                }
                (Kind::Number | Kind::Integer, CellRef::Integer(n)) => push_i64(out, n),
                (Kind::Bool, CellRef::Bool(b)) => {
                    out.extend_from_slice(if b { b"true" } else { b"false" })
                }
                (Kind::Timestamp, CellRef::Timestamp(us)) => self.timestamps.push(out, us),
                (Kind::Json, CellRef::Json(text)) => {
                    // Compacted apart from `out`: the whole text is needed to decide on quotes.
                    self.scratch.clear();
                    push_json_compact(&mut self.scratch, text)?;
                    push_field(out, &self.scratch, false);
                }
                (_, cell) => {
                    let c = &self.columns[i];
                    return Err(mismatch(&c.id, c.ty, cell));
                }
            }
        }
        if self.kinds.len() == 1 && out.len() == start {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }
}

/// Appends one field, quoted if needed, with a leading `'` if `guard`.
#[inline]
fn push_field(out: &mut Vec<u8>, s: &[u8], guard: bool) {
    if !s.iter().any(|&b| NEEDS_QUOTES[b as usize]) {
        if guard {
            out.push(b'\'');
        }
        out.extend_from_slice(s);
        return;
    }
    out.push(b'"');
    if guard {
        out.push(b'\'');
    }
    for (i, part) in s.split(|&b| b == b'"').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part);
    }
    out.push(b'"');
}

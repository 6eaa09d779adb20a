//! Export encoders: [`RowBlock`]s of typed cells in, file bytes out, as CSV, NDJSON or
//! Parquet, optionally gzipped — streaming, so memory stays bounded whatever the row count.
//!
//! ```text
//! mod.rs      Format, Column, EncodeOptions, Encoder, file_name
//! cell.rs     single cells as bytes: the one timestamp form, integers, floats, JSON
//! csv.rs      RFC 4180 rows, formula neutralisation
//! ndjson.rs   one JSON object per line
//! parquet.rs  Arrow builders → RecordBatch → ArrowWriter, one row group at a time
//! output.rs   the text formats' output buffer, plain or gzip
//! ```
//!
//! The encoders read rows as borrowed cells ([`Row`], [`CellRef`](crate::store::CellRef)):
//! text is copied from the block's arena into the output, so the hot path allocates nothing per
//! cell (JSON cells are re-serialized in compact form, see `cell.rs`). The caller writes blocks
//! with [`Encoder::write_block`] (or rows of owned [`Value`]s with [`Encoder::write_row`], which
//! goes through a one-row block so that each format has one implementation), takes the bytes
//! produced so far with [`Encoder::take_ready`] whenever [`Encoder::ready_len`] is large enough
//! to upload, and ends with [`Encoder::finish`]. CSV and NDJSON hold only bytes not yet taken (plus, with gzip, a
//! staging chunk of 256 KiB); Parquet holds at most one row group (see `parquet.rs`).
//!
//! Timestamps (CSV and NDJSON) have one form: `2026-03-29T01:00:00.000000Z` in UTC, or the
//! local time with its offset (`2026-03-29T03:00:00.000000+02:00`) when a time zone is set;
//! see [`push_timestamp`]. The per-format rules are in each module's header.
//!
//! A cell whose variant does not fit its column's type is an [`EncodeError::TypeMismatch`]
//! naming the column; the row is not written. Two leniencies: NULL fits any column, and an
//! `Integer` fits a `Number` column (CSV and NDJSON write the integer as is; Parquet
//! stores it as a Float64, exact up to 2^53).

pub(crate) mod cell;
mod csv;
mod ndjson;
mod output;
mod parquet;

#[cfg(test)]
mod tests;

pub use cell::{push_timestamp, push_timestamp_micros};

use crate::domain::FieldType;
use crate::store::{Row, RowBlock, Value};
use bytes::Bytes;
use chrono_tz::Tz;
use std::fmt;

/// An export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// RFC 4180 CSV with a header row (the default).
    #[default]
    Csv,
    /// Newline-delimited JSON objects.
    Ndjson,
    /// Apache Parquet, typed columns, SNAPPY-compressed.
    Parquet,
}

impl Format {
    /// All formats, in the order error messages list them.
    pub const ALL: [Format; 3] = [Format::Csv, Format::Ndjson, Format::Parquet];

    /// The name used in requests: `csv`, `ndjson`, `parquet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }

    /// The file extension, without the dot (the same as the name).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }

    /// The media type of an uncompressed file.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = EncodeError;

    /// Parses a format name, case-insensitively.
    fn from_str(s: &str) -> Result<Format, EncodeError> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| EncodeError::UnknownFormat(s.to_string()))
    }
}

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Field id: the CSV header, the NDJSON key, the Parquet column name.
    pub id: String,
    /// Catalog type: decides the encoding and which values the column accepts.
    pub ty: FieldType,
}

/// How to encode an export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncodeOptions {
    /// File format.
    pub format: Format,
    /// Gzip the whole output (CSV and NDJSON only; the file name gets `.gz`).
    pub gzip: bool,
    /// Prefix text cells a spreadsheet would run as a formula with `'` (CSV only; see
    /// `csv.rs`). On by default.
    pub neutralise_formulas: bool,
    /// Zone whose offset CSV and NDJSON timestamps are written in; `None` writes UTC with `Z`.
    /// Parquet always stores UTC instants.
    pub tz: Option<Tz>,
}

impl Default for EncodeOptions {
    fn default() -> EncodeOptions {
        EncodeOptions {
            format: Format::Csv,
            gzip: false,
            neutralise_formulas: true,
            tz: None,
        }
    }
}

impl EncodeOptions {
    /// The media type of the file as written: `application/gzip` when gzipped.
    pub fn content_type(&self) -> &'static str {
        if self.gzip {
            "application/gzip"
        } else {
            self.format.content_type()
        }
    }
}

/// Why encoding failed.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The format name is not one of ours.
    #[error("unknown format `{0}`; allowed: csv, ndjson, parquet")]
    UnknownFormat(String),
    /// Gzip was asked for a Parquet file.
    #[error(
        "gzip is not available for parquet: Parquet files are already compressed (snappy, per column); use gzip with csv or ndjson"
    )]
    GzipParquet,
    /// No columns were selected.
    #[error("an export needs at least one column")]
    NoColumns,
    /// A row has a different number of cells than there are columns.
    #[error("a row has {found} values for {expected} columns")]
    RowLength {
        /// Number of columns.
        expected: usize,
        /// Number of values in the row.
        found: usize,
    },
    /// A cell does not fit its column's type.
    #[error("column `{column}` is of type {expected} but the row holds {found}")]
    TypeMismatch {
        /// Column id.
        column: String,
        /// The column's catalog type name.
        expected: &'static str,
        /// What the row holds (`text`, `an integer`, …).
        found: &'static str,
    },
    /// A JSON cell is not valid JSON (not expected: the store validates JSON).
    #[error("JSON encoding failed: {0}")]
    Json(#[from] serde_json::Error),
    /// Gzip or the in-memory sink failed (not expected with in-memory output).
    #[error("writing the output failed: {0}")]
    Io(#[from] std::io::Error),
    /// Arrow refused a batch.
    #[error("building an Arrow batch failed: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The Parquet writer failed.
    #[error("writing Parquet failed: {0}")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    /// A state that should not occur.
    #[error("internal encoder error: {0}")]
    Internal(String),
}

/// The format-specific half of an [`Encoder`].
enum Inner {
    Csv(csv::CsvEncoder, output::Output),
    Ndjson(ndjson::NdjsonEncoder, output::Output),
    Parquet(Box<parquet::ParquetEncoder>),
}

/// A streaming encoder for one export file.
pub struct Encoder {
    inner: Inner,
    columns: usize,
    rows: u64,
}

impl Encoder {
    /// Starts a file with these columns (the CSV header is produced at once).
    pub fn new(columns: Vec<Column>, opts: EncodeOptions) -> Result<Encoder, EncodeError> {
        if columns.is_empty() {
            return Err(EncodeError::NoColumns);
        }
        let n = columns.len();
        let inner = match opts.format {
            Format::Csv => {
                let mut out = output::Output::new(opts.gzip);
                let enc =
                    csv::CsvEncoder::new(columns, opts.neutralise_formulas, opts.tz, &mut out.buf);
                out.row_done()?;
                Inner::Csv(enc, out)
            }
            Format::Ndjson => Inner::Ndjson(
                ndjson::NdjsonEncoder::new(columns, opts.tz)?,
                output::Output::new(opts.gzip),
            ),
            Format::Parquet if opts.gzip => return Err(EncodeError::GzipParquet),
            Format::Parquet => Inner::Parquet(Box::new(parquet::ParquetEncoder::new(columns)?)),
        };
        Ok(Encoder {
            inner,
            columns: n,
            rows: 0,
        })
    }

    /// Encodes one row (same length and order as the columns). A refused row leaves no trace
    /// in the output. Goes through a one-row [`RowBlock`], which costs a few allocations per
    /// row: exports use [`Encoder::write_block`].
    pub fn write_row(&mut self, row: &[Value]) -> Result<(), EncodeError> {
        if row.len() != self.columns {
            return Err(EncodeError::RowLength {
                expected: self.columns,
                found: row.len(),
            });
        }
        let mut block = RowBlock::with_capacity(row.len(), 1, 0);
        for v in row {
            match v {
                // `push_value` would roll a leap second into the next second.
                Value::Timestamp(t) => block.push_timestamp(cell::micros_of(t)),
                v => block.push_value(v),
            }
        }
        block.end_row();
        self.write_block(&block)
    }

    /// Encodes every row of `block` in order, each from its first cells (one per column, in
    /// column order); cells beyond the columns are ignored, so a reader can carry extra cells
    /// for its own use. A block narrower than the columns is refused as a whole.
    ///
    /// On an error at row k, rows before k are written (and counted in [`Encoder::rows`]) and
    /// row k leaves no trace in the output; the rest of the block is not written.
    pub fn write_block(&mut self, block: &RowBlock) -> Result<(), EncodeError> {
        if block.width() < self.columns {
            return Err(EncodeError::RowLength {
                expected: self.columns,
                found: block.width(),
            });
        }
        let rows = &mut self.rows;
        // `row_done` runs per row, as the staging buffer's bound (one chunk plus one row) and
        // the gzip stream's chunking (so the bytes are those of row-by-row writing) rely on it.
        match &mut self.inner {
            Inner::Csv(enc, out) => each_row(block, rows, |row| {
                enc.write_row(row, &mut out.buf)?;
                Ok(out.row_done()?)
            }),
            Inner::Ndjson(enc, out) => each_row(block, rows, |row| {
                enc.write_row(row, &mut out.buf)?;
                Ok(out.row_done()?)
            }),
            Inner::Parquet(enc) => each_row(block, rows, |row| enc.write_row(row)),
        }
    }

    /// Takes the output bytes produced so far (possibly none), so the caller can upload them
    /// part by part; the concatenation of everything taken and [`Encoder::finish`]'s bytes is
    /// the file.
    pub fn take_ready(&mut self) -> Bytes {
        match &mut self.inner {
            Inner::Csv(_, out) | Inner::Ndjson(_, out) => out.take(),
            Inner::Parquet(enc) => enc.take(),
        }
    }

    /// Output bytes buffered and not yet taken (with gzip: compressed bytes).
    pub fn ready_len(&self) -> usize {
        match &self.inner {
            Inner::Csv(_, out) | Inner::Ndjson(_, out) => out.ready_len(),
            Inner::Parquet(enc) => enc.ready_len(),
        }
    }

    /// Flushes everything (Parquet's last row group and footer, the gzip trailer) and returns
    /// the bytes not yet taken.
    pub fn finish(self) -> Result<Bytes, EncodeError> {
        match self.inner {
            Inner::Csv(_, out) | Inner::Ndjson(_, out) => Ok(out.finish()?),
            Inner::Parquet(enc) => enc.finish(),
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = match self.inner {
            Inner::Csv(..) => Format::Csv,
            Inner::Ndjson(..) => Format::Ndjson,
            Inner::Parquet(_) => Format::Parquet,
        };
        f.debug_struct("Encoder")
            .field("format", &format)
            .field("columns", &self.columns)
            .field("rows", &self.rows)
            .field("ready_len", &self.ready_len())
            .finish()
    }
}

/// Writes the block's rows in order, counting each one written, up to the first error.
fn each_row(
    block: &RowBlock,
    rows: &mut u64,
    mut write: impl FnMut(Row<'_>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    for row in block.rows() {
        write(row)?;
        *rows += 1;
    }
    Ok(())
}

/// The encoder moves between tasks of the export worker.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Encoder>();
};

/// The file name for `base`: `base.csv`, `base.ndjson` or `base.parquet`, plus `.gz` if
/// gzipped.
pub fn file_name(base: &str, opts: &EncodeOptions) -> String {
    let gz = if opts.gzip { ".gz" } else { "" };
    format!("{base}.{}{gz}", opts.format.extension())
}

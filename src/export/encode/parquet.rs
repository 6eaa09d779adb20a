//! Parquet: typed, nullable columns, SNAPPY-compressed, written as a stream of row groups.
//!
//! | catalog type  | Arrow / Parquet type                         |
//! |---------------|----------------------------------------------|
//! | text, enum    | Utf8 (enum: the internal value)              |
//! | integer       | Int64                                        |
//! | number        | Float64                                      |
//! | boolean       | Boolean                                      |
//! | timestamp     | Timestamp(Microsecond, "UTC")                |
//! | json          | Utf8 holding the compact JSON text           |
//!
//! Timestamps are instants (UTC-adjusted), so the export's time zone option does not apply;
//! readers show them in whatever zone they like: a block's microseconds are stored as they are.
//! JSON cells are parsed and stored in compact form (the stored text may carry spaces). Nothing
//! is neutralised.
//!
//! Memory: a block's rows go cell by cell into Arrow builders (text copied from the block's
//! arena); every [`BATCH_ROWS`] rows (or [`BATCH_BYTES`] of
//! text, for very wide rows) they become a `RecordBatch` that the `ArrowWriter` encodes and
//! compresses into its in-progress row group. A row group is written out to the sink when it
//! reaches [`ROW_GROUP_ROWS`] rows or about [`ROW_GROUP_BYTES`], and the caller drains the
//! sink through `take_ready`. So at most one batch of Arrow arrays plus one encoded row group
//! are held, whatever the row count. The footer (row-group offsets) is written by `finish`.

use super::cell::{Kind, mismatch, push_json_compact};
use super::{Column, EncodeError};
use crate::store::{CellRef, Row};
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::sync::Arc;

/// Rows per Arrow batch handed to the Parquet writer.
const BATCH_ROWS: usize = 8_192;
/// Text bytes that end a batch early, so rows of large JSON documents stay bounded too.
const BATCH_BYTES: usize = 32 * 1024 * 1024;
/// Rows per row group: large enough for good compression and fast scans, small enough to
/// keep one encoded row group in memory.
pub(super) const ROW_GROUP_ROWS: usize = 65_536;
/// Encoded bytes that end a row group early (wide rows).
const ROW_GROUP_BYTES: usize = 64 * 1024 * 1024;

/// One column's Arrow builder.
enum Builder {
    Text(StringBuilder),
    Integer(Int64Builder),
    Number(Float64Builder),
    Bool(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Text | Kind::Json => {
                Builder::Text(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16))
            }
            Kind::Integer => Builder::Integer(Int64Builder::with_capacity(BATCH_ROWS)),
            Kind::Number => Builder::Number(Float64Builder::with_capacity(BATCH_ROWS)),
            Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(BATCH_ROWS)),
            Kind::Timestamp => Builder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(BATCH_ROWS).with_timezone("UTC"),
            ),
        }
    }

    fn data_type(kind: Kind) -> DataType {
        match kind {
            Kind::Text | Kind::Json => DataType::Utf8,
            Kind::Integer => DataType::Int64,
            Kind::Number => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Integer(b) => Arc::new(b.finish()),
            Builder::Number(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

/// The Parquet encoder. The sink is a plain `Vec<u8>` owned by the writer and emptied through
/// `inner_mut` (the writer only appends to it and counts offsets itself).
pub(super) struct ParquetEncoder {
    columns: Vec<Column>,
    kinds: Vec<Kind>,
    builders: Vec<Builder>,
    schema: SchemaRef,
    writer: ArrowWriter<Vec<u8>>,
    batch_rows: usize,
    batch_bytes: usize,
    /// The current row's JSON cells in compact form, end to end, made while the row is checked.
    json: Vec<u8>,
    /// Where each of them ends in `json`.
    json_ends: Vec<usize>,
}

impl ParquetEncoder {
    pub(super) fn new(columns: Vec<Column>) -> Result<ParquetEncoder, EncodeError> {
        let kinds: Vec<Kind> = columns.iter().map(|c| Kind::of(c.ty)).collect();
        let fields: Vec<Field> = columns
            .iter()
            .zip(&kinds)
            .map(|(c, k)| Field::new(&c.id, Builder::data_type(*k), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .set_created_by(format!("outflow {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))?;
        Ok(ParquetEncoder {
            builders: kinds.iter().map(|k| Builder::new(*k)).collect(),
            columns,
            kinds,
            schema,
            writer,
            batch_rows: 0,
            batch_bytes: 0,
            json: Vec::new(),
            json_ends: Vec::new(),
        })
    }

    /// Appends the row's first `columns` cells. The caller has checked that the row is wide
    /// enough.
    pub(super) fn write_row(&mut self, row: Row<'_>) -> Result<(), EncodeError> {
        // Check the whole row first, JSON included: builders cannot take back a value, so a
        // row refused halfway would leave the columns with different lengths.
        self.json.clear();
        self.json_ends.clear();
        for (i, (c, kind)) in self.columns.iter().zip(&self.kinds).enumerate() {
            let cell = row.get(i);
            if !kind.accepts(cell) {
                return Err(mismatch(&c.id, c.ty, cell));
            }
            if let CellRef::Json(text) = cell {
                push_json_compact(&mut self.json, text)?;
                self.json_ends.push(self.json.len());
            }
        }
        let json = std::str::from_utf8(&self.json)
            .map_err(|e| EncodeError::Internal(format!("compact JSON: {e}")))?;
        let (mut json_start, mut json_ends) = (0, self.json_ends.iter());
        for (i, builder) in self.builders.iter_mut().enumerate() {
            match (builder, row.get(i)) {
                (Builder::Text(b), CellRef::Null) => b.append_null(),
                (Builder::Integer(b), CellRef::Null) => b.append_null(),
                (Builder::Number(b), CellRef::Null) => b.append_null(),
                (Builder::Bool(b), CellRef::Null) => b.append_null(),
                (Builder::Timestamp(b), CellRef::Null) => b.append_null(),
                (Builder::Text(b), CellRef::Text(s)) => {
                    self.batch_bytes += s.len();
                    b.append_value(s);
                }
                (Builder::Text(b), CellRef::Json(_)) => {
                    let end = json_ends.next().copied().unwrap_or(json.len());
                    let s = json.get(json_start..end).unwrap_or_default();
                    json_start = end;
                    self.batch_bytes += s.len();
                    b.append_value(s);
                }
                (Builder::Integer(b), CellRef::Integer(n)) => b.append_value(n),
                (Builder::Number(b), CellRef::Number(n)) => b.append_value(n),
                (Builder::Number(b), CellRef::Integer(n)) => b.append_value(n as f64),
                (Builder::Bool(b), CellRef::Bool(v)) => b.append_value(v),
                (Builder::Timestamp(b), CellRef::Timestamp(us)) => b.append_value(us),
                // Unreachable after the check above; an error rather than a panic regardless.
                (_, cell) => {
                    let c = &self.columns[i];
                    return Err(mismatch(&c.id, c.ty, cell));
                }
            }
        }
        self.batch_rows += 1;
        if self.batch_rows >= BATCH_ROWS || self.batch_bytes >= BATCH_BYTES {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// Hands the builders' rows to the writer, which writes a row group out once it is full.
    fn flush_batch(&mut self) -> Result<(), EncodeError> {
        if self.batch_rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        self.writer.write(&batch)?;
        // Moves what the writer's internal `BufWriter` holds into the sink, so `ready_len`
        // sees a finished row group at once.
        self.writer.sync()?;
        self.batch_rows = 0;
        self.batch_bytes = 0;
        Ok(())
    }

    pub(super) fn ready_len(&self) -> usize {
        self.writer.inner().len()
    }

    pub(super) fn take(&mut self) -> Bytes {
        Bytes::from(std::mem::take(self.writer.inner_mut()))
    }

    /// Writes the last batch, the last row group and the footer; returns the remaining bytes.
    pub(super) fn finish(mut self) -> Result<Bytes, EncodeError> {
        self.flush_batch()?;
        Ok(Bytes::from(self.writer.into_inner()?))
    }
}

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
//! readers show them in whatever zone they like. Nothing is neutralised.
//!
//! Memory: rows go into Arrow builders; every [`BATCH_ROWS`] rows (or [`BATCH_BYTES`] of
//! text, for very wide rows) they become a `RecordBatch` that the `ArrowWriter` encodes and
//! compresses into its in-progress row group. A row group is written out to the sink when it
//! reaches [`ROW_GROUP_ROWS`] rows or about [`ROW_GROUP_BYTES`], and the caller drains the
//! sink through `take_ready`. So at most one batch of Arrow arrays plus one encoded row group
//! are held, whatever the row count. The footer (row-group offsets) is written by `finish`.

use super::cell::{Kind, mismatch};
use super::{Column, EncodeError};
use crate::store::Value;
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::fmt::Write as _;
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
        })
    }

    pub(super) fn write_row(&mut self, row: &[Value]) -> Result<(), EncodeError> {
        // Check the whole row first: builders cannot take back a value, so a row refused
        // halfway would leave the columns with different lengths.
        for ((c, kind), value) in self.columns.iter().zip(&self.kinds).zip(row) {
            if !kind.accepts(value) {
                return Err(mismatch(&c.id, c.ty, value));
            }
        }
        for ((i, builder), value) in self.builders.iter_mut().enumerate().zip(row) {
            match (builder, value) {
                (Builder::Text(b), Value::Null | Value::NullTimestamp) => b.append_null(),
                (Builder::Integer(b), Value::Null | Value::NullTimestamp) => b.append_null(),
                (Builder::Number(b), Value::Null | Value::NullTimestamp) => b.append_null(),
                (Builder::Bool(b), Value::Null | Value::NullTimestamp) => b.append_null(),
                (Builder::Timestamp(b), Value::Null | Value::NullTimestamp) => b.append_null(),
                (Builder::Text(b), Value::Text(s)) => {
                    self.batch_bytes += s.len();
                    b.append_value(s);
                }
                (Builder::Text(b), Value::Json(j)) => {
                    // `Display` of a JSON value is its compact text, written straight into
                    // the builder's value buffer and closed by the empty `append_value`.
                    let before = b.values_slice().len();
                    write!(b, "{j}").map_err(|_| {
                        EncodeError::Internal(format!("column `{}`: JSON text", self.columns[i].id))
                    })?;
                    b.append_value("");
                    self.batch_bytes += b.values_slice().len() - before;
                }
                (Builder::Integer(b), Value::Integer(n)) => b.append_value(*n),
                (Builder::Number(b), Value::Number(n)) => b.append_value(*n),
                (Builder::Number(b), Value::Integer(n)) => b.append_value(*n as f64),
                (Builder::Bool(b), Value::Bool(v)) => b.append_value(*v),
                (Builder::Timestamp(b), Value::Timestamp(t)) => {
                    b.append_value(t.timestamp_micros())
                }
                // Unreachable after the check above; an error rather than a panic regardless.
                _ => {
                    let c = &self.columns[i];
                    return Err(mismatch(&c.id, c.ty, value));
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

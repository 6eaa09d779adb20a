//! Runs one export: row blocks stream from the database (read and decoded on their own tasks;
//! on PostgreSQL as time windows on several connections, see `store/postgres/export_read.rs`),
//! through privacy masking and enum labels (rewritten in place in the block), into the
//! encoder, and out to an async writer (an object store upload or a local file) in pieces.
//! Memory is bounded by a few blocks plus the encoder's buffer, whatever the export's size.
//! Used by the job worker and the CLI alike.

use super::encode::{Column, Encoder};
use super::query;
use super::spec::ExportSpec;
use crate::domain::{FieldDef, FieldType};
use crate::privacy::PrivacyPolicy;
use crate::store::{CellRef, Store, StreamQuery};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Rows fetched from the database per chunk.
const CHUNK_ROWS: usize = 2_048;
/// Encoded bytes collected before they are handed to the writer.
const FLUSH_BYTES: usize = 2 * 1024 * 1024;

/// Live state shared with whoever watches or steers the export.
#[derive(Debug, Default)]
pub struct Control {
    /// Rows written so far.
    pub rows: AtomicU64,
    /// Bytes written so far.
    pub bytes: AtomicU64,
    /// Set to stop the export at the next chunk.
    pub cancel: AtomicBool,
}

/// What a finished export produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Data rows written.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// `Control::cancel` was set.
    #[error("cancelled")]
    Cancelled,
    /// The database failed.
    #[error("database error: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The encoder refused a value.
    #[error("encoding error: {0}")]
    Encode(#[from] super::encode::EncodeError),
    /// Writing the file failed.
    #[error("writing the file failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs `spec` into `out`, reading on up to `read_streams` database connections at once. The caller completes `out` (`shutdown`) on success, or aborts it:
/// an upload's completion can fail on its own, and must not be aborted afterwards.
pub async fn run<W: AsyncWrite + Unpin + Send>(
    store: &Store,
    spec: &ExportSpec,
    policy: &PrivacyPolicy,
    out: &mut W,
    control: Arc<Control>,
    read_streams: usize,
) -> Result<Outcome, ExportError> {
    let type_spec = spec.type_spec();
    let defs: Vec<&'static FieldDef> = spec
        .fields
        .iter()
        .filter_map(|f| type_spec.field(f))
        .collect();
    let masking = !policy.all_visible() && defs.iter().any(|d| d.personal);
    let q = query::build(spec, masking);
    let columns = defs
        .iter()
        .map(|d| Column {
            id: d.id.to_string(),
            ty: d.ty,
        })
        .collect();
    let mut encoder = Encoder::new(columns, spec.encode_options())?;
    let enums: Vec<(usize, &'static [(&'static str, &'static str)])> = defs
        .iter()
        .enumerate()
        .filter_map(|(i, d)| match d.ty {
            FieldType::Enum(values) => Some((i, values)),
            _ => None,
        })
        .collect();

    let team_column = q.team_column;
    let mut blocks = store.stream(
        StreamQuery {
            streams: read_streams,
            ..q.stream
        },
        CHUNK_ROWS,
    );
    let mut written: u64;
    let mut bytes: u64 = 0;
    while let Some(block) = blocks.recv().await {
        if control.cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        let mut block = block?;
        if team_column.is_some() {
            policy.apply_block(&defs, team_column, &mut block);
        }
        for (col, values) in &enums {
            // Exports carry labels; filters and storage use internal values.
            for r in 0..block.len() {
                if let CellRef::Text(internal) = block.row(r).get(*col)
                    && let Some((_, label)) = values.iter().find(|(v, _)| *v == internal)
                {
                    block.set_text(r, *col, label);
                }
            }
        }
        encoder.write_block(&block)?;
        written = encoder.rows();
        control.rows.store(written, Ordering::Relaxed);
        if encoder.ready_len() >= FLUSH_BYTES {
            let piece = encoder.take_ready();
            out.write_all(&piece).await?;
            bytes += piece.len() as u64;
            control.bytes.store(bytes, Ordering::Relaxed);
        }
    }
    written = encoder.rows();
    let tail = encoder.finish()?;
    out.write_all(&tail).await?;
    bytes += tail.len() as u64;
    out.flush().await?;
    control.rows.store(written, Ordering::Relaxed);
    control.bytes.store(bytes, Ordering::Relaxed);
    Ok(Outcome {
        rows: written,
        bytes,
    })
}

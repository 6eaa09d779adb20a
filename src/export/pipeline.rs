//! Runs one export: rows stream from the database (decoded on their own task), through
//! privacy masking and enum labels, into the encoder, and out to an async writer (an object
//! store upload or a local file) in pieces. Memory is bounded by a few row chunks plus the
//! encoder's buffer, whatever the export's size. Used by the job worker and the CLI alike.

use super::encode::{Column, Encoder};
use super::query;
use super::spec::ExportSpec;
use crate::domain::{FieldDef, FieldType};
use crate::privacy::PrivacyPolicy;
use crate::store::{Store, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Rows fetched from the database per chunk.
const CHUNK_ROWS: usize = 2_048;
/// Encoded bytes collected before they are handed to the writer.
const FLUSH_BYTES: usize = 4 * 1024 * 1024;

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

/// Runs `spec` into `out`. The caller completes `out` (`shutdown`) on success, or aborts it:
/// an upload's completion can fail on its own, and must not be aborted afterwards.
pub async fn run<W: AsyncWrite + Unpin + Send>(
    store: &Store,
    spec: &ExportSpec,
    policy: &PrivacyPolicy,
    out: &mut W,
    control: Arc<Control>,
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

    let mut rows = store.stream(q.sql, q.params, q.types, CHUNK_ROWS);
    let mut written: u64;
    let mut bytes: u64 = 0;
    while let Some(chunk) = rows.recv().await {
        if control.cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        for mut row in chunk? {
            if q.team_column.is_some() {
                let team = row.pop();
                let team = team.as_ref().and_then(Value::as_text);
                policy.apply(&defs, team, &mut row);
            }
            for (i, values) in &enums {
                // Exports carry labels; filters and storage use internal values.
                if let Value::Text(internal) = &row[*i]
                    && let Some((_, label)) = values.iter().find(|(v, _)| v == internal)
                {
                    row[*i] = Value::Text((*label).to_string());
                }
            }
            encoder.write_row(&row)?;
        }
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

//! Ingest: turning request bodies into validated record batches and storing them idempotently.
//!
//! `parse` reads a JSON array or NDJSON body; `validate` checks every record against the field
//! catalog, keeping the valid ones and a reason for each rejected one; [`ingest`] stores the
//! valid records, counting re-sent ids as duplicates.

pub mod parse;
pub mod validate;

pub use parse::{ParseError, parse_body};
pub use validate::{Rejection, validate};

use crate::domain::DataType;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::collections::HashSet;
use utoipa::ToSchema;

/// Most records one ingest call may carry.
pub const MAX_RECORDS_PER_CALL: usize = 10_000;

/// The answer to an ingest call.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq)]
pub struct IngestResponse {
    /// Records newly stored.
    pub accepted: u64,
    /// Records whose id was already stored; nothing was written for them.
    pub duplicates: u64,
    /// Records refused, with their index in the request and the reason.
    pub rejected: Vec<Rejection>,
}

/// Validates `values` as records of `data_type` and stores the valid ones.
///
/// Records naming an organization Outflow does not know are rejected (the platform creates
/// organizations with `PUT /v1/orgs/{org_id}` first), so a typo never creates a tenant.
pub async fn ingest(
    store: &Store,
    data_type: DataType,
    values: Vec<serde_json::Value>,
) -> Result<IngestResponse, StoreError> {
    let (mut batch, mut rejected, indexes) = validate(data_type, values);
    let orgs: HashSet<&str> = batch.records.iter().map(|r| r.org_id.as_str()).collect();
    let known = store.existing_orgs(&orgs).await?;
    if known.len() < orgs.len() {
        let spec = batch.spec();
        let id_at = spec.fields.iter().position(|f| f.id == spec.id_field);
        let mut kept = Vec::with_capacity(batch.records.len());
        for (record, index) in batch.records.drain(..).zip(indexes) {
            if known.contains(&record.org_id) {
                kept.push(record);
            } else {
                rejected.push(Rejection {
                    index,
                    id: id_at.and_then(|i| record.values[i].as_text().map(str::to_string)),
                    error: format!(
                        "unknown organization `{}`; create it first with PUT /v1/orgs/{}",
                        record.org_id, record.org_id
                    ),
                });
            }
        }
        batch.records = kept;
        rejected.sort_by_key(|r| r.index);
    }
    let outcome = store.insert_records(&batch).await?;
    Ok(IngestResponse {
        accepted: outcome.accepted,
        duplicates: outcome.duplicates,
        rejected,
    })
}

//! One-time exports (docs/spec.md §4).
//!
//! ```text
//! spec.rs      the request (both API styles) and its validation into an ExportSpec
//! lookup.rs    the organization facts validation needs (teams, requesting member)
//! request.rs   lookup → validate: the one check every surface's request goes through
//! query.rs     the SQL that selects an export's rows
//! encode/      CSV, NDJSON and Parquet encoders (streaming, optional gzip)
//! pipeline.rs  database → privacy → encoder → writer, in bounded memory
//! jobs.rs      the job queue in the database, claimed with leases
//! files.rs     object storage (local or S3) and signed download URLs
//! service.rs   requests, reads, queueing, workers, heartbeats, completion, email, retention
//! ```

pub mod encode;
pub mod files;
pub mod filters;
pub mod jobs;
pub mod lookup;
pub mod pipeline;
pub mod query;
pub mod request;
pub mod service;
pub mod spec;

pub use jobs::{CancelOutcome, ExportJob, JobState, ListFilter};
pub use service::Exports;

//! Authentication: the platform's ingest key, organization keys with scopes, and per-key rate
//! limits. Route handlers receive an [`OrgAuth`] or [`IngestAuth`] extractor and never see a
//! secret.

pub mod extract;
pub mod keys;
pub mod rate;

pub use extract::{IngestAuth, OrgAuth};

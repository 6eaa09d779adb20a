//! Authentication: the platform's ingest key, organization keys with scopes, and per-key rate
//! limits: the checks, with no HTTP in them. The request extractors built on them
//! (`OrgAuth`, `IngestAuth`) live in `http::auth`; handlers never see a secret.

pub mod keys;
pub mod rate;

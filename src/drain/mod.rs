//! Data drains (docs/spec.md §5): each drain delivers one record stream of one organization —
//! filtered, reduced to its selected fields, privacy applied — to an HTTP endpoint, an S3
//! bucket or Datadog, continuously and crash-safely.
//!
//! - `model` — a drain's settings and status as stored and shown;
//! - `service` — [`Drains`], the only way in for handlers, pages and commands (reads too);
//!   `request` validates what they send;
//! - `repo` — the SQL of the `drains` and `drain_deliveries` tables, rows read by column name;
//! - `secrets` — destination credentials, encrypted at rest;
//! - `history` — a drain's status history, read from its `drain_*` audit events;
//! - `batch` — what one delivery carries, and how records become it;
//! - `rows` and `select` — the rows a drain reads (row blocks from the export path's fast
//!   readers) and how its filters, fields and privacy turn them into records;
//! - `dest/` — the destinations, one folder each, behind [`dest::Destination`];
//! - `ssrf` — the guard that keeps destinations off private addresses;
//! - `engine` — leases, wake-ups, the deliver-then-commit loop and the failure policy;
//! - `reconcile` — per-bucket source, delivered and pending counts and id digests;
//! - `received` — what a receiver holds (its files), read back for `outflow verify`.

pub mod batch;
pub mod dest;
pub mod engine;
pub mod history;
pub mod model;
pub mod open;
pub mod received;
pub mod reconcile;
pub mod repo;
pub mod request;
pub mod rows;
pub mod secrets;
pub mod select;
pub mod service;
pub mod ssrf;

pub use history::{StatusChange, StatusEvent};
pub use secrets::SecretInfo;
pub use service::{DrainError, Drains};

//! Scheduled exports (issue 15): an export that runs once per period of a cadence (daily,
//! weekly, monthly, every billing period) in the organization's calendar, exactly once per
//! period across restarts and nodes, caught up after downtime, delivered by email and to an
//! object store or HTTP endpoint.
//!
//! ```text
//! model.rs        schedules and runs as stored and shown
//! request.rs      validation of the API body (the export part through Exports::check)
//! repo.rs         SQL: schedules, runs under their unique (schedule, period) key, leases
//! service.rs      Schedules: the way in for the API and the pages
//! runner.rs       run_due(now): queue due periods, catch up, deliver finished runs
//! deliver.rs      the completion email and the error email
//! destination.rs  S3 upload and the signed HTTP event
//! ```

pub mod deliver;
mod destination;
pub mod model;
pub(crate) mod repo;
pub mod request;
pub mod runner;
pub mod service;

pub use model::{Schedule, ScheduleRun, ScheduleState};
pub use request::ScheduleBody;
pub use runner::RunDue;
pub use service::{RunNow, ScheduleError, Schedules};

//! Benchmarks run from the binary (`outflow bench …`): each prints its figures together with a
//! baseline measured in the same run. Targets are checked by reading the output, never by
//! timed tests.

pub mod drain;
pub mod export;
pub mod ingest;
mod support;
pub mod usage;

/// Which backends a benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchBackend {
    /// SQLite only.
    Sqlite,
    /// PostgreSQL only.
    Postgres,
    /// Both.
    Both,
}

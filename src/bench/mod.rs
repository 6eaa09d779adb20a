//! Benchmarks run from the binary (`outflow bench …`): each prints its figures together with a
//! baseline measured in the same run. Targets are checked by reading the output, never by
//! timed tests.

pub mod drain;
pub mod export;
pub mod ingest;
mod support;

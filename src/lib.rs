//! Outflow: usage-data exports and drains for the administrators of an AI platform.
//!
//! The platform feeds Outflow records and entities through the ingest API; Outflow stores them
//! per organization in SQLite or PostgreSQL, each record at a position in a delivery order
//! that drains can tail without skipping records, and serves them to organization keys.
//!
//! # Layout
//!
//! ```text
//! main.rs          CLI dispatch only
//! cli.rs           the command line (clap)
//! commands.rs      bodies of the administrative subcommands (serve, keys, orgs)
//! config.rs        typed configuration: defaults → outflow.toml → OUTFLOW_* → flags
//! secret.rs        Secret: a configured string that Debug never prints
//! app.rs           App::build(config) / App::with_parts(…) and run(shutdown)
//! domain/          pure values: data types, the field catalog (catalog/), credit categories,
//!                  entities, ids, timestamps — no I/O
//! store/           Store: one API over two backends
//!   sqlite/          single writer + read pool; positions from a counter
//!   postgres/        UNNEST bulk writes; positions from transaction ids (position.rs)
//!   entities.rs      entity SQL shared by both backends
//!   records.rs       record batches, agent versioning
//!   keys.rs          organization keys and scopes
//!   admin.rs         admin users, sessions and failed sign-ins of the admin pages
//! ingest/          parse bodies (JSON / NDJSON), validate against the catalog, store
//! auth/            key secrets and hashing, request extractors, per-key rate limits
//! audit.rs         Outflow's own security events as audit_logs records
//! http/            router, error type, extractors, health probes
//!   api/             the native /v1 routes, one file per resource, with OpenAPI annotations
//! web/             the admin pages: sign-in, data export tabs, wizards, keys, privacy
//! demo/            `outflow demo`: deterministic generator and seeding
//! bench/           `outflow bench …`: benchmarks with in-run baselines
//! migrations/      {sqlite,postgres}/ — one migration set per backend
//! tests/it/        one integration-test binary: the real app on port 0, both backends
//! ```
#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod domain;
pub mod drain;
pub mod export;
pub mod http;
pub mod ingest;
pub mod mail;
pub mod privacy;
pub mod reports;
pub mod secret;
pub mod state;
pub mod store;
pub mod web;

//! Outflow: usage-data exports and drains for the administrators of an AI platform.
//!
//! The platform feeds Outflow records and entities through the ingest API; Outflow stores them
//! per organization in SQLite or PostgreSQL, each record at a position in a delivery order
//! that drains can tail without skipping records, and serves them to organization keys.
//!
//! # Layout
//!
//! Dependencies point down this list: a module uses only modules below it (checked by
//! `tests/it/architecture.rs`, which also prints the graph: `cargo test --test it
//! architecture -- --nocapture`).
//!
//! ```text
//! main.rs          CLI dispatch only
//! cli.rs           the command line (clap); bench argument types live in bench/
//! commands/        bodies of the subcommands: serve, keys, orgs (mod.rs), export (export.rs),
//!                  verify (verify.rs: a receiver's files against the drain's reconciliation)
//! demo/            `outflow demo`: generate/ (deterministic organization and six streams,
//!                  one file per section), seeding
//! bench/           `outflow bench …`: benchmarks with in-run baselines
//! app.rs           App::build(config) / App::with_parts(…), the router, run(shutdown)
//! web/             the admin pages: sign-in, data export tabs (history search), wizards
//!                  (export_wizard/filters.rs: row filters; export_wizard/repeat.rs: the
//!                  Repeat choice that creates a schedule), export detail (export_detail.rs),
//!                  schedules (schedules.rs: the Schedules tab and a schedule's runs),
//!                  drain detail and edit (drains.rs, drain_edit.rs), reports (reports.rs,
//!                  with CSV), keys, privacy; every route registered with the role
//!                  capability it needs (mod.rs), admins.rs (invite, roles, sessions),
//!                  invite.rs (the one-time link), audit_log.rs (viewer), analytics.rs
//!                  (the Analytics page over the usage service; analytics/svg.rs charts),
//!                  sso.rs (SSO sign-in)
//! http/            the HTTP API: routes() for api/ (native /v1, one file per resource, with
//!                  OpenAPI annotations; schemas.rs serves the record JSON Schemas;
//!                  reconciliation.rs a drain's per-bucket counts and digests),
//!                  compat/ (the reference routes), health, metrics;
//!                  error type, extractors (extract.rs, auth.rs), paging, openapi.rs
//! state.rs         AppState: the services handlers and pages reach
//! sso/             single sign-on with OpenID Connect per organization: mod.rs (settings, the
//!                  Sso service), repo.rs (SQL), flow.rs (PKCE code flow via `openidconnect`)
//! reports/         usage reports over the stored records: columns.rs (each report's columns),
//!                  compute/ (one file per report: users, agents, api_keys, projects,
//!                  models, workflows; sql.rs and rows.rs shared, rows read by name)
//! schedule/        scheduled exports (issue 15): model.rs, request.rs (validation), repo.rs
//!                  (SQL; runs unique per (schedule, period)), service.rs (the way in),
//!                  runner.rs (run_due(now): due periods, catch-up, delivery passes),
//!                  deliver.rs (emails), destination.rs (S3 upload, signed HTTP event)
//! notifier/        notifications to an HTTP destination (issue 16 item 6): mod.rs
//!                  (Notifications: the organization's setting, validated), deliver.rs (the
//!                  runner: signed `outflow` or `slack` bodies through the drains' HTTP
//!                  destination, backoff, give up)
//! budget/          credit budgets and alerts (issue 14 item 4): mod.rs (Budgets: CRUD, spent
//!                  from usage/, forecast, status), request.rs, repo.rs (alerts unique per
//!                  (budget, period, threshold), leases), alerts.rs (evaluate, deliver, run_due)
//! drain/           continuous drains: service.rs (the way in), request.rs (validation),
//!                  repo.rs (SQL), engine/ (leases, worker task, cycle.rs steps, retries,
//!                  failure policy, replay — resumed from repo/replays.rs; run_once for
//!                  tests),
//!                  dest/ (http, s3 — object storage: S3, gcs.rs, azure.rs, with
//!                  per-batch manifests and Parquet objects —, datadog — progress.rs:
//!                  accepted parts of split batches; describe.rs shows destinations), ssrf.rs,
//!                  secrets.rs (encrypted destination secrets), rows.rs and select.rs (rows
//!                  read as blocks, records written as JSON from them), batch.rs (with
//!                  Chain: every batch's seq and prev), history.rs (status history read from
//!                  the drain's audit events), reconcile.rs (per-bucket source / delivered /
//!                  pending and id digests), received.rs (a receiver's files read back and
//!                  checked against manifests and the sequence, for `outflow verify`)
//! export/          one-time exports: service.rs (requests, reads, queue, workers,
//!                  completion), request.rs (lookup → validate, shared by every surface),
//!                  spec.rs and filters.rs (validation), lookup.rs, query.rs, pipeline.rs, encode/
//!                  (CSV, NDJSON, JSON, Parquet cells), files.rs (local / S3, signed links),
//!                  jobs.rs (SQL of the job table)
//! usage/           usage analytics (`GET /v1/usage`): Usage::query / run (mod.rs), request.rs
//!                  (validation, cursor), metric.rs (metrics, dimensions), sql.rs (rollup and
//!                  raw-edge statements), labels.rs, backfill.rs (rows from before the rollups),
//!                  compact.rs (merges PostgreSQL's appended rollup rows)
//! notifications/   the notification outbox and settings (repo.rs): raise(), which drain,
//!                  export and schedule code call when a drain errs, an export fails or a
//!                  schedule stops — one insert with the audit record, delivered later
//! auth/            key secrets and hashing, scopes, per-key rate limits (no HTTP)
//! mail/            SMTP or outbox mailer and its templates
//! config.rs        typed configuration: defaults → outflow.toml → OUTFLOW_* → flags
//! secret.rs        Secret: a configured string that Debug never prints
//! audit.rs         Outflow's own security events as audit_logs records; search.rs reads the
//!                  log back for the viewer (privacy applied)
//! privacy.rs       visible / pseudonymized / hidden user fields, and setting them
//! ingest/          parse bodies (JSON / NDJSON), validate against the catalog, store
//! store/           Store: one API over two backends
//!   sqlite/          single writer + read pool; positions from a counter; a Unicode lower()
//!                    on every connection (unicode.rs)
//!   postgres/        UNNEST bulk writes; positions from transaction ids (position.rs);
//!                    export reads by binary COPY in windows (export_read.rs, copy.rs)
//!   entities.rs      entity SQL shared by both backends
//!   records.rs       record batches, agent versioning
//!   rollups.rs       usage rollup families and the SQL ingest maintains them with
//!   keys.rs          organization keys and scopes
//!   admin.rs         admin users and roles, sessions, invitations and failed sign-ins
//!   paging.rs        the one paging rule of every listing
//!   named.rs         rows read by column name from one declared column list
//! domain/          pure values: data types, the field catalog (catalog/), credit categories,
//!                  entities, ids, time ranges (range.rs), accepted values (values.rs), admin
//!                  roles and their capabilities (role.rs), the
//!                  local calendar (calendar/: periods, buckets, schedule cadences),
//!                  mergeable latency histograms (histogram.rs) and the delivered records'
//!                  JSON Schemas generated from the catalog (schema.rs) — no I/O
//! migrations/      {sqlite,postgres}/ — one migration set per backend
//! tests/it/        one integration-test binary: the real app on port 0, both backends
//! docs/            spec.md (the product, cited as `docs/spec.md §N`), field-catalog.md
//!                  (the field ids existing clients send), screenshots/
//! ```
// Denied everywhere; the one exception is `store/sqlite/unicode.rs`, which hands sqlx's open
// SQLite handle to rusqlite to register a function (no safe API exists for it in sqlx).
#![deny(unsafe_code)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod budget;
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
pub mod notifications;
pub mod notifier;
pub mod privacy;
pub mod reports;
pub mod schedule;
pub mod secret;
pub mod sso;
pub mod state;
pub mod store;
pub mod usage;
pub mod web;

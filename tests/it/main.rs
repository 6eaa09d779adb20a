//! The integration tests: one binary, the real app on port 0, a fresh database per test, on
//! SQLite and on PostgreSQL (`OUTFLOW_TEST_POSTGRES_URL`, default the local server; with
//! `CI=true` an unreachable PostgreSQL fails the suite instead of skipping).

mod helpers;

mod admin_pages;
mod admins_page;
mod analytics_page;
mod architecture;
mod audit_log_page;
mod browser;
mod browser_keyboard;
mod browser_roles;
mod budgets;
mod cli;
mod console_pages;
mod datadog_receiver;
mod delivery_order;
mod demo;
mod drain_datadog_dest;
mod drain_edit;
mod drain_errors;
mod drain_http_dest;
mod drain_nodes;
mod drain_objstore_dest;
mod drain_s3_dest;
mod drain_support;
mod drain_verify;
mod drains;
mod export_jobs;
mod export_read;
mod exports;
mod http_basics;
mod http_receiver;
mod ingest;
mod mail;
mod newcomer;
mod notifications;
mod objstore;
mod objstore_pages;
mod openapi;
mod pages_fixes;
mod reports;
mod reports_page;
mod roles;
mod s3;
mod schedules;
mod schemas;
mod scope;
mod sso;
mod storage;
mod tenancy;
mod time_labels;
mod usage;
mod values;
mod wizard_filters;

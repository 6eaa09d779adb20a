//! [`AppState`]: the services every route handler and admin page can reach. It sits below
//! `http` and `web` (both take it) and above the services it bundles; `app` builds it and
//! assembles the router, so no handler module needs to know about the others.

use crate::auth::rate::RateLimits;
use crate::config::Config;
use crate::store::Store;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The storage.
    pub store: Store,
    /// The configuration in force.
    pub config: Arc<Config>,
    /// SHA-256 of the ingest key (the key itself is not kept).
    pub ingest_key_hash: Arc<String>,
    /// Per-key rate limits.
    pub limits: RateLimits,
    /// Export jobs, files and mail.
    pub exports: crate::export::Exports,
    /// Drains, their secrets and this node's drain engine.
    pub drains: crate::drain::Drains,
    /// Scheduled exports and their runner.
    pub schedules: crate::schedule::Schedules,
    /// Credit budgets and their alerts.
    pub budgets: crate::budget::Budgets,
    /// The notification destination and its runner.
    pub notifier: crate::notifier::Notifications,
}

//! HTTP: the shared state, the router, and the routes — `api/` for the native `/v1` API,
//! `health` for probes. The OpenAPI document is generated from the handlers' annotations, so
//! every route registered through [`api::routes`] appears in `/v1/openapi.json`.

pub mod api;
pub mod compat;
pub mod error;
pub mod extract;
mod health;
mod metrics;
pub mod openapi;
pub mod paging;

use crate::auth::rate::RateLimits;
use crate::config::Config;
use crate::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

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
}

/// The complete router.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::routes().merge(compat::routes()).split_for_parts();
    let openapi = Arc::new(openapi::document(openapi));
    let max_body = state.config.max_body_bytes;
    Router::new()
        .merge(api)
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(crate::web::routes())
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async {
            error::ApiError::NotFound("no such route; see /v1/openapi.json".into())
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

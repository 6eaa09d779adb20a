//! HTTP: the shared state, the router, and the routes — `api/` for the native `/v1` API,
//! `health` for probes. The OpenAPI document is generated from the handlers' annotations, so
//! every route registered through [`api::routes`] appears in `/v1/openapi.json`.

pub mod api;
pub mod auth;
pub mod compat;
pub mod error;
pub mod extract;
mod health;
mod metrics;
pub mod openapi;
pub mod paging;

use crate::state::AppState;
use axum::Router;
use std::sync::Arc;

/// Every `/v1` route, the reference routes, health probes, `/metrics` and the OpenAPI
/// document generated from the handlers' annotations.
pub fn routes() -> Router<AppState> {
    let (api, openapi) = api::routes().merge(compat::routes()).split_for_parts();
    let openapi = Arc::new(openapi::document(openapi));
    Router::new()
        .merge(api)
        .merge(health::routes())
        .merge(metrics::routes())
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
}

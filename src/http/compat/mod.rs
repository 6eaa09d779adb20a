//! Reference-compatible routes, so clients written for the reference products work unchanged
//! (docs/spec.md §7): the Gumloop-style one-time exports `POST /export_data` / `GET /export_status`
//! ([`export_data`]) and the Langdock-style `POST /export/{type}[/json|/csv]` usage reports
//! ([`reports`]), and the Gumloop-style drains `/data-drains` ([`data_drains`]). Each handler carries an OpenAPI annotation; [`routes`] registers them.

mod data_drains;
mod export_data;
mod reports;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every compatibility route, with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            data_drains::list_data_drains,
            data_drains::create_data_drain
        ))
        .routes(routes!(data_drains::delete_data_drain))
        .routes(routes!(export_data::export_data))
        .routes(routes!(export_data::export_status))
        .routes(routes!(reports::export_report))
        .routes(routes!(reports::export_report_json))
        .routes(routes!(reports::export_report_csv))
}

//! The native `/v1` API. Each file holds one resource's handlers with their OpenAPI
//! annotations; [`routes`] registers them all.

mod budgets;
pub(crate) mod drains;
mod entities;
pub(crate) mod exports;
mod fields;
mod ingest;
mod keys;
mod notifications;
mod orgs;
mod reconciliation;
pub(crate) mod reports;
pub(crate) mod schedules;
mod schemas;
mod secrets;
mod usage;

use crate::state::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Outflow API",
        description = "Usage-data exports and drains for the administrators of an AI platform."
    ),
    modifiers(&Security),
    paths(exports::signed_download),
    components(schemas(
        crate::domain::entity::TeamInput,
        crate::domain::entity::MemberInput,
        crate::domain::entity::WorkbookInput,
        crate::domain::entity::CustomRoleInput,
        crate::domain::entity::ApiKeyInput,
    )),
    tags(
        (name = "ingest", description = "The platform writes records and entities (ingest key)"),
        (name = "entities", description = "Organization entities (organization keys)"),
        (name = "catalog", description = "The field catalog and the record schemas"),
        (name = "keys", description = "Organization keys (admin scope)"),
        (name = "exports", description = "One-time exports (usage_export scope)"),
        (name = "drains", description = "Data drains and their secrets (drains scope)"),
        (name = "usage", description = "Usage analytics in local time buckets (usage_export or analytics scope)"),
        (name = "schedules", description = "Scheduled exports (usage_export scope)"),
        (name = "budgets", description = "Credit budgets and their alerts (usage_export scope; reading them also analytics)"),
        (name = "notifications", description = "Drain errors, failed exports and schedules as signed events (admin scope)"),
        (name = "reference", description = "Reference-compatible routes (see the field catalog)"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |desc: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(desc))
                    .build(),
            )
        };
        components.add_security_scheme(
            "org_key",
            bearer("Organization key (`ofk_…`) with scopes usage_export, drains, admin (includes every other), analytics (read-only: GET /v1/usage and reading budgets)"),
        );
        components.add_security_scheme("ingest_key", bearer("The platform's ingest key"));
    }
}

/// Every `/v1` route, with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ingest::ingest_records))
        .routes(routes!(orgs::put_org, orgs::get_org))
        .routes(routes!(entities::put_entity))
        .routes(routes!(entities::list_entities))
        .routes(routes!(fields::list_fields))
        .routes(routes!(schemas::get_schema))
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(reports::create_report))
        .routes(routes!(exports::create_export, exports::list_exports))
        .routes(routes!(exports::get_export))
        .routes(routes!(exports::download_export))
        .routes(routes!(exports::cancel_export))
        .routes(routes!(drains::create_drain, drains::list_drains))
        .routes(routes!(
            drains::get_drain,
            drains::update_drain,
            drains::delete_drain
        ))
        .routes(routes!(drains::pause_drain))
        .routes(routes!(drains::resume_drain))
        .routes(routes!(drains::test_drain))
        .routes(routes!(drains::replay_drain))
        .routes(routes!(drains::list_deliveries))
        .routes(routes!(reconciliation::get_reconciliation))
        .routes(routes!(secrets::create_secret, secrets::list_secrets))
        .routes(routes!(
            secrets::get_secret,
            secrets::replace_secret,
            secrets::delete_secret
        ))
        .routes(routes!(usage::get_usage))
        .routes(routes!(
            schedules::create_schedule,
            schedules::list_schedules
        ))
        .routes(routes!(
            schedules::get_schedule,
            schedules::update_schedule,
            schedules::delete_schedule
        ))
        .routes(routes!(schedules::pause_schedule))
        .routes(routes!(schedules::resume_schedule))
        .routes(routes!(schedules::run_schedule))
        .routes(routes!(schedules::list_runs))
        .routes(routes!(budgets::create_budget, budgets::list_budgets))
        .routes(routes!(
            budgets::get_budget,
            budgets::update_budget,
            budgets::delete_budget
        ))
        .routes(routes!(
            notifications::get_notifications,
            notifications::put_notifications,
            notifications::delete_notifications
        ))
        .routes(routes!(notifications::list_notification_events))
        // The key has slashes: a wildcard route, documented through `paths(…)` above.
        .route(
            "/v1/downloads/{*key}",
            axum::routing::get(exports::signed_download),
        )
}

//! The native `/v1` API. Each file holds one resource's handlers with their OpenAPI
//! annotations; [`routes`] registers them all.

mod entities;
mod fields;
mod ingest;
mod keys;
mod orgs;

use super::AppState;
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
        (name = "catalog", description = "The field catalog"),
        (name = "keys", description = "Organization keys (admin scope)"),
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
            bearer("Organization key (`ofk_…`) with scopes usage_export, drains, admin"),
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
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(keys::revoke_key))
}

//! `/v1/secrets`: destination credentials of the caller's organization (drains scope). A
//! secret's contents go in once and never come back out: reads show id, name, kind and time.
//! An HTTP secret's URL must pass the SSRF guard when it is stored (422 otherwise), as a
//! drain's destination must when the drain is created: unless the operator sets
//! `drains.allow_private_destinations`, no private, loopback, link-local or metadata address.

use crate::drain::SecretInfo;
use crate::drain::dest::SecretPayload;
use crate::drain::ssrf;
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Client};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/secrets` body: a name and the credentials of one kind.
#[derive(Deserialize, ToSchema)]
pub struct CreateSecret {
    /// Display name, 1 to 200 characters, not only spaces.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// `kind` (`http`, `aws`, `gcp`, `azure`, `datadog`) and its fields.
    #[serde(flatten)]
    pub payload: SecretPayload,
}

/// The organization's secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretList {
    /// Newest first.
    pub items: Vec<SecretInfo>,
}

fn check(p: &SecretPayload) -> Result<(), ApiError> {
    let missing = |what: &str| Err(ApiError::BadRequest(format!("{what} is required")));
    match p {
        SecretPayload::Http { url, .. } => match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
            _ => Err(ApiError::BadRequest(
                "url: must be an absolute http:// or https:// URL".into(),
            )),
        },
        SecretPayload::Aws {
            access_key_id,
            secret_access_key,
            ..
        } => {
            if access_key_id.trim().is_empty() {
                return missing("access_key_id");
            }
            if secret_access_key.is_empty() {
                return missing("secret_access_key");
            }
            Ok(())
        }
        SecretPayload::Gcp {
            service_account_json,
        } => {
            if service_account_json.trim().is_empty() {
                return missing("service_account_json");
            }
            match serde_json::from_str::<serde_json::Value>(service_account_json) {
                Ok(v) if v.is_object() => Ok(()),
                _ => Err(ApiError::BadRequest(
                    "service_account_json: must be the service account's JSON key file, as downloaded"
                        .into(),
                )),
            }
        }
        SecretPayload::Azure {
            access_key,
            sas_token,
        } => {
            let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
            match (given(access_key), given(sas_token)) {
                (true, false) | (false, true) => Ok(()),
                (false, false) => Err(ApiError::BadRequest(
                    "access_key or sas_token is required (one of them)".into(),
                )),
                (true, true) => Err(ApiError::BadRequest(
                    "give access_key or sas_token, not both".into(),
                )),
            }
        }
        SecretPayload::Datadog { api_key } => {
            if api_key.trim().is_empty() {
                return missing("api_key");
            }
            Ok(())
        }
    }
}

/// Refuses an HTTP secret whose URL the SSRF guard would refuse at delivery (422), so the
/// mistake shows when the secret is stored rather than when a drain first uses it.
async fn check_destination(state: &AppState, p: &SecretPayload) -> Result<(), ApiError> {
    let SecretPayload::Http { url, .. } = p else {
        return Ok(());
    };
    let Ok(url) = url::Url::parse(url.trim()) else {
        return Ok(()); // `check` already refused it
    };
    let allow_private = state.drains.engine.dest_context().allow_private;
    ssrf::check_stored_url(&url, allow_private)
        .await
        .map_err(|m| ApiError::Status(StatusCode::UNPROCESSABLE_ENTITY, format!("url: {m}")))
}

/// Stores credentials, encrypted; the answer shows only the id, name and kind.
#[utoipa::path(
    post,
    path = "/v1/secrets",
    tag = "drains",
    security(("org_key" = ["drains"])),
    request_body = CreateSecret,
    responses(
        (status = 201, description = "Stored", body = SecretInfo),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks drains", body = ErrorBody),
        (status = 422, description = "The URL is a private destination, which the operator does not allow", body = ErrorBody),
    )
)]
pub(super) async fn create_secret(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<CreateSecret>,
) -> Result<(StatusCode, Json<SecretInfo>), ApiError> {
    auth.require(&[Scope::Drains])?;
    let name = checked_name(&body.name)?;
    check(&body.payload)?;
    check_destination(&state, &body.payload).await?;
    let info = state
        .drains
        .create_secret(auth.org_id(), name, &body.payload, &client.actor(&auth))
        .await?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// Replaces a secret's contents (same kind), e.g. to rotate signing secrets.
#[utoipa::path(
    put,
    path = "/v1/secrets/{id}",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Secret id")),
    request_body = CreateSecret,
    responses(
        (status = 200, description = "Replaced; drains using it switch at their next cycle", body = SecretInfo),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
        (status = 404, description = "No such secret in this organization", body = ErrorBody),
        (status = 409, description = "The kind differs", body = ErrorBody),
        (status = 422, description = "The URL is a private destination, which the operator does not allow", body = ErrorBody),
    )
)]
pub(super) async fn replace_secret(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CreateSecret>,
) -> Result<Json<SecretInfo>, ApiError> {
    auth.require(&[Scope::Drains])?;
    let name = checked_name(&body.name)?;
    check(&body.payload)?;
    check_destination(&state, &body.payload).await?;
    let info = state
        .drains
        .replace_secret(
            auth.org_id(),
            &id,
            name,
            &body.payload,
            &client.actor(&auth),
        )
        .await?;
    Ok(Json(info))
}

fn checked_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "name is required: 1 to 200 characters".into(),
        ));
    }
    Ok(name)
}

/// The organization's secrets (never their contents).
#[utoipa::path(
    get,
    path = "/v1/secrets",
    tag = "drains",
    security(("org_key" = ["drains"])),
    responses(
        (status = 200, description = "Secrets", body = SecretList),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks drains", body = ErrorBody),
    )
)]
pub(super) async fn list_secrets(
    auth: OrgAuth,
    State(state): State<AppState>,
) -> Result<Json<SecretList>, ApiError> {
    auth.require(&[Scope::Drains])?;
    let items = state.drains.secrets(auth.org_id()).await?;
    Ok(Json(SecretList { items }))
}

/// One secret's description.
#[utoipa::path(
    get,
    path = "/v1/secrets/{id}",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Secret id")),
    responses(
        (status = 200, description = "The secret (no contents)", body = SecretInfo),
        (status = 404, description = "No such secret in this organization", body = ErrorBody),
    )
)]
pub(super) async fn get_secret(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SecretInfo>, ApiError> {
    auth.require(&[Scope::Drains])?;
    Ok(Json(state.drains.secret(auth.org_id(), &id).await?))
}

/// Deletes a secret that no drain, export schedule, budget or notification setting uses.
#[utoipa::path(
    delete,
    path = "/v1/secrets/{id}",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Secret id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such secret in this organization", body = ErrorBody),
        (status = 409, description = "A drain, export schedule, budget or the notification setting uses it (the message names them)", body = ErrorBody),
    )
)]
pub(super) async fn delete_secret(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::Drains])?;
    state
        .drains
        .delete_secret(auth.org_id(), &id, &client.actor(&auth))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/v1/budgets`: credit budgets of the caller's organization (usage_export scope; reading
//! them also the read-only analytics scope) — create, list, read, change, delete — each
//! shown with its current spend, forecast and alerts.

use crate::budget::{BudgetBody, BudgetError, BudgetView};
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Client};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

/// The organization's budgets.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetList {
    /// Oldest first.
    pub items: Vec<BudgetView>,
}

impl From<BudgetError> for ApiError {
    fn from(e: BudgetError) -> Self {
        match e {
            BudgetError::Input { .. } => ApiError::BadRequest(e.to_string()),
            BudgetError::NotFound(m) => ApiError::NotFound(m),
            BudgetError::Store(s) => s.into(),
        }
    }
}

/// Creates a budget: a credit limit per month or billing period (the organization's zone),
/// for the organization or one team, with percent thresholds. Each threshold alerts once
/// per period: an email to the admins and, with `notify.secret_id`, a signed JSON event.
#[utoipa::path(
    post,
    path = "/v1/budgets",
    tag = "budgets",
    security(("org_key" = ["usage_export"])),
    request_body = BudgetBody,
    responses(
        (status = 201, description = "Created", body = BudgetView),
        (status = 400, description = "A field is invalid; the message names it and the allowed values", body = ErrorBody),
        (status = 404, description = "The team or secret is not in this organization", body = ErrorBody),
    )
)]
pub(super) async fn create_budget(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<BudgetBody>,
) -> Result<(StatusCode, Json<BudgetView>), ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let now = Utc::now();
    let b = state
        .budgets
        .create(auth.org_id(), body, &client.actor(&auth), now)
        .await?;
    let view = state.budgets.view(auth.org_id(), &b.id, now).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The organization's budgets with their spend, forecast, status and alerts.
#[utoipa::path(
    get,
    path = "/v1/budgets",
    tag = "budgets",
    security(("org_key" = ["usage_export"]), ("org_key" = ["analytics"])),
    responses((status = 200, description = "Budgets", body = BudgetList))
)]
pub(super) async fn list_budgets(
    auth: OrgAuth,
    State(state): State<AppState>,
) -> Result<Json<BudgetList>, ApiError> {
    auth.require(&[Scope::UsageExport, Scope::Analytics])?;
    let items = state.budgets.list(auth.org_id(), Utc::now()).await?;
    Ok(Json(BudgetList { items }))
}

/// One budget with its spend in the current period, the period-end forecast and its alerts.
#[utoipa::path(
    get,
    path = "/v1/budgets/{id}",
    tag = "budgets",
    security(("org_key" = ["usage_export"]), ("org_key" = ["analytics"])),
    params(("id" = String, Path, description = "Budget id")),
    responses(
        (status = 200, description = "The budget", body = BudgetView),
        (status = 404, description = "No such budget in the organization", body = ErrorBody),
    )
)]
pub(super) async fn get_budget(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BudgetView>, ApiError> {
    auth.require(&[Scope::UsageExport, Scope::Analytics])?;
    Ok(Json(
        state.budgets.view(auth.org_id(), &id, Utc::now()).await?,
    ))
}

/// Changes the given fields of a budget (`team_id: null` makes it organization-wide).
#[utoipa::path(
    patch,
    path = "/v1/budgets/{id}",
    tag = "budgets",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Budget id")),
    request_body = BudgetBody,
    responses(
        (status = 200, description = "Changed", body = BudgetView),
        (status = 400, description = "A field is invalid; the message names it and the allowed values", body = ErrorBody),
        (status = 404, description = "No such budget in the organization (or team or secret)", body = ErrorBody),
    )
)]
pub(super) async fn update_budget(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<BudgetBody>,
) -> Result<Json<BudgetView>, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    let now = Utc::now();
    state
        .budgets
        .update(auth.org_id(), &id, body, &client.actor(&auth), now)
        .await?;
    Ok(Json(state.budgets.view(auth.org_id(), &id, now).await?))
}

/// Deletes a budget and its alerts.
#[utoipa::path(
    delete,
    path = "/v1/budgets/{id}",
    tag = "budgets",
    security(("org_key" = ["usage_export"])),
    params(("id" = String, Path, description = "Budget id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such budget in the organization", body = ErrorBody),
    )
)]
pub(super) async fn delete_budget(
    auth: OrgAuth,
    State(state): State<AppState>,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::UsageExport])?;
    state
        .budgets
        .delete(auth.org_id(), &id, &client.actor(&auth))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `GET /v1/usage`: time-bucketed usage metrics of the key's organization, answered from the
//! usage rollups (`src/usage/`).

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use crate::store::Scope;
use crate::usage::{Usage, UsageAnswer, UsageError, UsageParams};
use axum::Json;
use axum::extract::State;

impl From<UsageError> for ApiError {
    fn from(e: UsageError) -> Self {
        match e {
            UsageError::Input { .. } => ApiError::BadRequest(e.to_string()),
            UsageError::NotFound(m) => ApiError::NotFound(m),
            UsageError::Store(e) => e.into(),
        }
    }
}

/// Usage metrics of the key's organization in local time buckets, optionally split by up to
/// two dimensions.
///
/// Buckets are local to `timezone` (the organization's by default): days are 23 or 25 hours
/// on DST days, exact in every IANA zone. `credits` per bucket equals the sum of `-amount`
/// over the debits of the credit-log export of the same window. Latency quantiles come from
/// mergeable histograms with at most 1 % relative error. The `user` dimension follows the
/// organization's privacy setting (pseudonymized ids, or one `hidden` group). Pages hold up
/// to 1,000 buckets × groups; follow `next_page` with `cursor`.
#[utoipa::path(
    get,
    path = "/v1/usage",
    tag = "usage",
    security(("org_key" = ["usage_export"]), ("org_key" = ["analytics"])),
    params(UsageParams),
    responses(
        (status = 200, description = "One page of buckets", body = UsageAnswer),
        (status = 400, description = "Invalid metric, window, bucket, group_by or filter", body = ErrorBody),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks usage_export and analytics", body = ErrorBody),
        (status = 404, description = "A filtered team or member is not in this organization", body = ErrorBody),
    )
)]
pub(super) async fn get_usage(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<UsageParams>,
) -> Result<Json<UsageAnswer>, ApiError> {
    auth.require(&[Scope::UsageExport, Scope::Analytics])?;
    let usage = Usage::new(state.store.clone());
    Ok(Json(
        usage
            .query(auth.org_id(), &params, chrono::Utc::now())
            .await?,
    ))
}

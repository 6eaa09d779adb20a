//! `POST /v1/ingest/{data_type}`: batched, idempotent record ingest.

use crate::domain::DataType;
use crate::http::auth::IngestAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiPath;
use crate::ingest::{self, IngestResponse, MAX_RECORDS_PER_CALL};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};

/// Stores records of one data type.
///
/// The body is a JSON array of records (or NDJSON with `Content-Type: application/x-ndjson`),
/// at most 10,000 records. Each record names its `org_id` and carries its id field; a record
/// whose id is already stored counts as a duplicate. Invalid records are rejected one by one
/// while the valid ones are stored.
#[utoipa::path(
    post,
    path = "/v1/ingest/{data_type}",
    tag = "ingest",
    security(("ingest_key" = [])),
    params(("data_type" = String, Path, description = "workflows, agents, agent_interactions, credit_logs, audit_logs, tool_calls (alias gumstack)")),
    request_body(content = Vec<Object>, description = "Records; or NDJSON", content_type = "application/json"),
    responses(
        (status = 200, description = "Counts and per-record rejections", body = IngestResponse),
        (status = 400, description = "Malformed JSON (with line and column) or unknown data type", body = ErrorBody),
        (status = 401, description = "Missing or invalid ingest key", body = ErrorBody),
        (status = 413, description = "Body or batch too large", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    )
)]
pub(super) async fn ingest_records(
    _: IngestAuth,
    State(state): State<AppState>,
    ApiPath(data_type): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<IngestResponse>, ApiError> {
    let data_type: DataType =
        data_type
            .parse()
            .map_err(|e: crate::domain::data_type::UnknownDataType| {
                ApiError::BadRequest(e.to_string())
            })?;
    let body = body?;
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/x-ndjson") || ct.starts_with("application/jsonl")
        });
    let values =
        ingest::parse_body(&body, ndjson).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if values.len() > MAX_RECORDS_PER_CALL {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} records in one call; at most {MAX_RECORDS_PER_CALL} are allowed",
            values.len()
        )));
    }
    // Budgets watch credit spend: only the organizations of this batch are evaluated.
    let orgs: std::collections::BTreeSet<String> = if data_type == DataType::CreditLogs {
        values
            .iter()
            .filter_map(|v| v.get("org_id").and_then(|o| o.as_str()))
            .map(str::to_string)
            .collect()
    } else {
        Default::default()
    };
    let answer = ingest::ingest(&state.store, data_type, values).await?;
    if answer.accepted > 0 && !orgs.is_empty() {
        state.budgets.after_ingest(orgs);
    }
    Ok(Json(answer))
}

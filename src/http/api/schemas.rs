//! `GET /v1/schemas/{data_type}`: the JSON Schema of a data type's delivered and exported
//! records (see `domain::schema`), so a receiver can validate what it stores against the
//! schema every delivery names (`X-Outflow-Schema: credit_logs@1`). Like `/v1/fields`, it
//! needs no key: it describes the catalog, not any organization's data.

use crate::domain::{DataType, schema};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiPath;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The media type of a JSON Schema document.
const SCHEMA_JSON: &str = "application/schema+json";

/// The JSON Schema (draft 2020-12) of one data type's records, at its current version.
///
/// Every catalog field is an optional property; unknown properties are refused; `null` is
/// allowed where a field may be empty. The schema's name (`credit_logs@1`) is in its `$id` and
/// `title`, and in the `X-Outflow-Schema` header of every drain delivery.
#[utoipa::path(
    get,
    path = "/v1/schemas/{data_type}",
    tag = "catalog",
    params(("data_type" = String, Path, description = "workflows, agents, agent_interactions, credit_logs, audit_logs, tool_calls (alias gumstack)")),
    responses(
        (status = 200, description = "The JSON Schema; `X-Outflow-Schema` names its version",
            body = Object, content_type = "application/schema+json"),
        (status = 400, description = "Unknown data type", body = ErrorBody),
    )
)]
pub(super) async fn get_schema(ApiPath(data_type): ApiPath<String>) -> Result<Response, ApiError> {
    let data_type: DataType =
        data_type
            .parse()
            .map_err(|e: crate::domain::data_type::UnknownDataType| {
                ApiError::BadRequest(e.to_string())
            })?;
    let body =
        serde_json::to_vec_pretty(&schema::schema(data_type)).expect("a JSON value serializes");
    Ok((
        [
            (header::CONTENT_TYPE, SCHEMA_JSON.to_string()),
            (
                header::HeaderName::from_static("x-outflow-schema"),
                schema::name(data_type),
            ),
        ],
        body,
    )
        .into_response())
}

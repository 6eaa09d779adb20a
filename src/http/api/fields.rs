//! `GET /v1/fields`: the field catalog, so clients and the admin pages never hard-code it.

use crate::domain::DataType;
use crate::domain::catalog::{self, FieldType, Origin, Preset};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of the catalog.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FieldsQuery {
    /// One data type (`gumstack` is accepted for `tool_calls`); all types when omitted.
    #[param(nullable = false)]
    data_type: Option<String>,
}

/// One field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldView {
    /// Field id: the export column and record key.
    pub id: &'static str,
    /// Label.
    pub label: &'static str,
    /// Category the admin pages group by.
    pub category: &'static str,
    /// `string`, `number`, `integer`, `boolean`, `timestamp`, `json` or `enum`.
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// For enums: the internal values and their labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<EnumValue>>,
    /// The presets that include the field.
    pub presets: Vec<Preset>,
    /// Ingest rejects records without it.
    pub required: bool,
    /// Identifies a person; subject to the privacy setting.
    pub personal: bool,
    /// `reference` (named by the reference products) or `outflow` (an extension).
    pub origin: Origin,
    /// Meaning.
    pub description: &'static str,
    /// Numeric fields: the least value ingest accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Numeric fields: the greatest value ingest accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// An enum value.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnumValue {
    /// Stored and filtered on.
    pub value: &'static str,
    /// Shown in exports and records.
    pub label: &'static str,
}

/// The catalog of one data type.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypeView {
    /// Data type.
    pub data_type: &'static str,
    /// Label.
    pub label: &'static str,
    /// The record id field.
    pub id_field: &'static str,
    /// The time field of date ranges and drains.
    pub time_field: &'static str,
    /// Whether team scoping applies.
    pub team_scoped: bool,
    /// Fields in catalog order.
    pub fields: Vec<FieldView>,
}

/// The catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct Catalog {
    /// One entry per data type.
    pub data_types: Vec<TypeView>,
}

fn view(dt: DataType) -> TypeView {
    let spec = catalog::spec(dt);
    TypeView {
        data_type: dt.as_str(),
        label: dt.label(),
        id_field: spec.id_field,
        time_field: spec.time_field,
        team_scoped: spec.team_field.is_some(),
        fields: spec
            .fields
            .iter()
            .map(|f| FieldView {
                id: f.id,
                label: f.label,
                category: f.category,
                ty: f.ty.name(),
                values: match f.ty {
                    FieldType::Enum(values) => Some(
                        values
                            .iter()
                            .map(|(value, label)| EnumValue { value, label })
                            .collect(),
                    ),
                    _ => None,
                },
                presets: f.preset_list(),
                required: f.required,
                personal: f.personal,
                origin: f.origin,
                description: f.description,
                min: f.bound.map(|b| b.min),
                max: f.bound.map(|b| b.max),
            })
            .collect(),
    }
}

/// Lists every field of one data type, or of all six.
#[utoipa::path(
    get,
    path = "/v1/fields",
    tag = "catalog",
    params(FieldsQuery),
    responses(
        (status = 200, description = "The catalog", body = Catalog),
        (status = 400, description = "Unknown data type", body = ErrorBody),
    )
)]
pub(super) async fn list_fields(
    ApiQuery(q): ApiQuery<FieldsQuery>,
) -> Result<Json<Catalog>, ApiError> {
    let types = match q.data_type.as_deref() {
        Some(name) => vec![
            name.parse::<DataType>()
                .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ],
        None => DataType::ALL.to_vec(),
    };
    Ok(Json(Catalog {
        data_types: types.into_iter().map(view).collect(),
    }))
}

//! What an export asks for: the request as either API style sends it ([`ExportInput`]), and
//! the validated, self-contained [`ExportSpec`] that a job stores and a worker (or the CLI)
//! runs. Validation is the one place where request parameters are checked, so both API styles
//! and the CLI give the same errors, each naming the parameter and the allowed values.

use super::encode::{EncodeOptions, Format};
use super::filters;
use crate::domain::catalog::{self, Preset, TypeSpec};
use crate::domain::entity::Org;
use crate::domain::range::{
    self, DateRange, RangeError, RangeField, RangePreset, explicit_range, parse_tz, preset_range,
};
use crate::domain::{DataType, FieldType};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A request parameter that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// The parameter as the caller named it.
    pub param: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// A referenced team or user does not exist (404 rather than 400, as the reference does).
    pub not_found: bool,
}

impl InputError {
    /// A 400 error on `param`.
    pub(crate) fn new(param: &str, message: impl Into<String>) -> Self {
        InputError {
            param: param.to_string(),
            message: message.into(),
            not_found: false,
        }
    }
}

/// Parameter names of one API style, so errors use the caller's vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct ParamNames {
    /// Start of the range.
    pub start: &'static str,
    /// End of the range.
    pub end: &'static str,
    /// The fields.
    pub fields: &'static str,
    /// The team ids.
    pub teams: &'static str,
}

/// The native API's names.
pub const NATIVE: ParamNames = ParamNames {
    start: "start",
    end: "end",
    fields: "fields",
    teams: "workspace_ids",
};

/// The reference `/export_data` names.
pub const REFERENCE: ParamNames = ParamNames {
    start: "start_date",
    end: "end_date",
    fields: "export_fields",
    teams: "workspace_ids",
};

/// An export request before validation (every field optional; `validate` decides).
#[derive(Debug, Clone, Default)]
pub struct ExportInput {
    /// Data type name (aliases accepted).
    pub data_type: Option<String>,
    /// Explicit start (date or wall-clock date-time).
    pub start: Option<String>,
    /// Explicit end (inclusive at its precision).
    pub end: Option<String>,
    /// IANA zone the range is read in; default: the organization's.
    pub timezone: Option<String>,
    /// A range preset instead of start/end.
    pub preset: Option<String>,
    /// Team ids.
    pub workspace_ids: Vec<String>,
    /// Every organization team, including teams created later (personal spaces still only
    /// with `include_personal_workspaces`): what a drain, the CLI or a wizard means when no
    /// team is named.
    pub all_org_teams: bool,
    /// Every team, personal spaces included.
    pub include_all_workspaces: bool,
    /// Personal spaces too.
    pub include_personal_workspaces: bool,
    /// Workbook ids (workflows) or agent ids (agents, agent interactions).
    pub entity_ids: Vec<String>,
    /// `organization` (default) or `personal`.
    pub export_scope: Option<String>,
    /// Requesting member (required for the personal scope).
    pub user_id: Option<String>,
    /// Credit-log category (internal value or label, case-insensitive).
    pub category_filter: Option<String>,
    /// Credit-log custom role (id or name).
    pub permission_group_filter: Option<String>,
    /// Audit-log event types.
    pub event_type_filter: Vec<String>,
    /// Explicit field ids.
    pub fields: Option<Vec<String>>,
    /// A field preset name instead of a list.
    pub field_preset: Option<String>,
    /// `csv` (default), `ndjson`, `parquet`.
    pub format: Option<String>,
    /// Gzip the file.
    pub gzip: bool,
    /// Prefix spreadsheet formulas with `'` in CSV (default true).
    pub neutralise_formulas: Option<bool>,
    /// Write timestamps with the request zone's offset instead of UTC.
    pub local_timestamps: bool,
}

pub use super::filters::TeamScope;

/// A validated export: everything a worker needs, stored as the job's `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportSpec {
    /// The organization.
    pub org_id: String,
    /// The data type.
    pub data_type: DataType,
    /// First instant (inclusive).
    pub start: DateTime<Utc>,
    /// First instant after the range.
    pub end: DateTime<Utc>,
    /// IANA zone the range was read in.
    pub timezone: String,
    /// The preset, when one was used.
    pub preset: Option<String>,
    /// Teams (team-scoped types only).
    pub teams: TeamScope,
    /// Workbook or agent ids.
    pub entity_ids: Vec<String>,
    /// Only rows of this member (personal scope).
    pub personal_user: Option<PersonalUser>,
    /// Credit-log category (internal value).
    pub category: Option<String>,
    /// Credit-log custom role id or name.
    pub permission_group: Option<String>,
    /// Audit-log event types.
    pub event_types: Vec<String>,
    /// Field ids, in output order.
    pub fields: Vec<String>,
    /// Output format.
    pub format: String,
    /// Gzip.
    pub gzip: bool,
    /// Neutralise formulas in CSV.
    pub neutralise_formulas: bool,
    /// Timestamps with the zone's offset.
    pub local_timestamps: bool,
}

/// The member whose own rows a personal export returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalUser {
    /// Member id.
    pub id: String,
    /// Member email (agents name their creator by email).
    pub email: String,
}

/// What validation needs to know about the organization besides its settings.
pub trait OrgLookup {
    /// Team ids among `ids` that do not exist in the organization.
    fn missing_teams(&self, ids: &[String]) -> Vec<String>;
    /// The email of a member, if the member exists.
    fn member_email(&self, id: &str) -> Option<String>;
    /// The organization's registered custom roles as (id, name).
    fn custom_roles(&self) -> Vec<(String, String)>;
    /// Whether credit records of the organization carry `role` (by id or name).
    fn role_in_records(&self, role: &str) -> bool;
    /// Event types stored for the organization (loaded only when a filter names one that
    /// is not known otherwise).
    fn stored_event_types(&self) -> Vec<String>;
}

impl ExportSpec {
    /// The field catalog entry of the data type.
    pub fn type_spec(&self) -> &'static TypeSpec {
        catalog::spec(self.data_type)
    }

    /// The zone the range was read in.
    pub fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(Tz::UTC)
    }

    /// Encoder settings.
    pub fn encode_options(&self) -> EncodeOptions {
        EncodeOptions {
            format: self.format.parse().unwrap_or(Format::Csv),
            gzip: self.gzip,
            neutralise_formulas: self.neutralise_formulas,
            tz: self.local_timestamps.then(|| self.tz()),
        }
    }

    /// The catalog types of the selected fields.
    pub fn field_types(&self) -> Vec<FieldType> {
        let spec = self.type_spec();
        self.fields
            .iter()
            .map(|f| spec.field(f).map_or(FieldType::Text, |d| d.ty))
            .collect()
    }
}

/// Validates a request for `org`, reading presets relative to `now`.
pub fn validate(
    input: &ExportInput,
    org: &Org,
    lookup: &dyn OrgLookup,
    names: ParamNames,
    now: DateTime<Utc>,
) -> Result<ExportSpec, InputError> {
    let data_type: DataType = input
        .data_type
        .as_deref()
        .unwrap_or("workflows")
        .parse()
        .map_err(|e: crate::domain::data_type::UnknownDataType| {
            InputError::new("data_type", e.to_string())
        })?;
    let spec = catalog::spec(data_type);
    let range = resolve_range(input, org, names, now)?;
    let fields = resolve_fields(input, spec, names)?;
    let format: Format = input
        .format
        .as_deref()
        .unwrap_or("csv")
        .parse()
        .map_err(|e: super::encode::EncodeError| InputError::new("format", e.to_string()))?;
    if format == Format::Parquet && input.gzip {
        return Err(InputError::new(
            "gzip",
            "gzip is not available for parquet, which compresses its columns itself; use csv or ndjson with gzip",
        ));
    }

    let personal_user = match input.export_scope.as_deref().unwrap_or("organization") {
        "organization" => None,
        "personal" => {
            if matches!(data_type, DataType::AuditLogs | DataType::ToolCalls) {
                return Err(InputError::new(
                    "export_scope",
                    format!(
                        "the personal scope is not available for {data_type}; allowed for workflows, agents, agent_interactions, credit_logs"
                    ),
                ));
            }
            let Some(user) = input.user_id.as_deref() else {
                return Err(InputError::new(
                    "user_id",
                    "user_id is required for export_scope `personal`",
                ));
            };
            let Some(email) = lookup.member_email(user) else {
                return Err(InputError {
                    not_found: true,
                    ..InputError::new(
                        "user_id",
                        format!("member `{user}` not found in this organization"),
                    )
                });
            };
            Some(PersonalUser {
                id: user.to_string(),
                email,
            })
        }
        other => {
            return Err(InputError::new(
                "export_scope",
                format!("unknown export_scope `{other}`; allowed: organization, personal"),
            ));
        }
    };

    let (teams, entity_ids) =
        filters::resolve_scope(input, data_type, personal_user.is_some(), lookup, names)?;
    let filters::Filters {
        category,
        permission_group,
        event_types,
    } = filters::resolve_filters(input, data_type, lookup)?;

    Ok(ExportSpec {
        org_id: org.id.clone(),
        data_type,
        start: range.start,
        end: range.end,
        timezone: range.tz.name().to_string(),
        preset: input.preset.clone(),
        teams,
        entity_ids,
        personal_user,
        category,
        permission_group,
        event_types,
        fields,
        format: format.as_str().to_string(),
        gzip: input.gzip,
        neutralise_formulas: input.neutralise_formulas.unwrap_or(true),
        local_timestamps: input.local_timestamps,
    })
}

fn resolve_range(
    input: &ExportInput,
    org: &Org,
    names: ParamNames,
    now: DateTime<Utc>,
) -> Result<DateRange, InputError> {
    let range_err = |e: RangeError| {
        let param = match e.field {
            RangeField::Start => names.start,
            RangeField::End => names.end,
            RangeField::Timezone => "timezone",
            RangeField::Preset => "preset",
        };
        InputError::new(param, e.message)
    };
    let tz = parse_tz(input.timezone.as_deref().unwrap_or(&org.timezone)).map_err(range_err)?;
    match (&input.preset, &input.start, &input.end) {
        (Some(p), None, None) => {
            let preset = RangePreset::parse(p).map_err(range_err)?;
            Ok(preset_range(preset, tz, now, org.billing_anchor_day))
        }
        (Some(_), _, _) => Err(InputError::new(
            "preset",
            format!(
                "give either preset or {} and {}, not both",
                names.start, names.end
            ),
        )),
        (None, Some(s), Some(e)) => explicit_range(s, e, tz).map_err(range_err),
        (None, None, _) => Err(InputError::new(
            names.start,
            format!(
                "{} is required (or a preset: {})",
                names.start,
                range::RangePreset::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        (None, Some(_), None) => Err(InputError::new(
            names.end,
            format!("{} is required", names.end),
        )),
    }
}

fn resolve_fields(
    input: &ExportInput,
    spec: &'static TypeSpec,
    names: ParamNames,
) -> Result<Vec<String>, InputError> {
    let fields: Vec<String> = match (&input.fields, &input.field_preset) {
        (Some(_), Some(_)) => {
            return Err(InputError::new(
                names.fields,
                format!("give either {} or field_preset, not both", names.fields),
            ));
        }
        (Some(list), None) => list.clone(),
        (None, Some(p)) => {
            let preset: Preset = p
                .parse()
                .map_err(|e: String| InputError::new("field_preset", e))?;
            spec.preset_fields(preset)
                .into_iter()
                .map(str::to_string)
                .collect()
        }
        (None, None) => {
            return Err(InputError::new(
                names.fields,
                format!(
                    "{} is required: a list of field ids (valid for {}: {}), or a field_preset",
                    names.fields,
                    spec.data_type,
                    spec.field_list()
                ),
            ));
        }
    };
    if fields.is_empty() {
        return Err(InputError::new(
            names.fields,
            format!(
                "{} is empty; valid for {}: {}",
                names.fields,
                spec.data_type,
                spec.field_list()
            ),
        ));
    }
    let unknown: Vec<&str> = fields
        .iter()
        .filter(|f| spec.field(f).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(InputError::new(
            names.fields,
            format!(
                "unknown field(s) for {}: {}; valid: {}",
                spec.data_type,
                unknown.join(", "),
                spec.field_list()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(fields
        .into_iter()
        .filter(|f| seen.insert(f.clone()))
        .collect())
}

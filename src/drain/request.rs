//! A drain request as either API style sends it ([`DrainRequest`]), validated into the parts
//! of a drain. Scope, filters and fields go through the export validation, so drains and
//! exports accept the same values and give the same errors.

use super::dest::DestinationConfig;
use super::model::{Drain, DrainScope};
use super::secrets;
use crate::domain::DataType;
use crate::domain::entity::Org;
use crate::domain::range::{self, RangeField};
use crate::export::filters;
use crate::export::request::{self, CheckError};
use crate::export::spec::{ExportInput, InputError, ParamNames};
use crate::store::Store;
use chrono::{DateTime, Utc};

/// A create (or, with the current settings filled in, update) request before validation.
#[derive(Debug, Clone, Default)]
pub struct DrainRequest {
    /// Display name.
    pub name: Option<String>,
    /// Data type.
    pub data_type: Option<String>,
    /// Field ids.
    pub fields: Option<Vec<String>>,
    /// Field preset instead of ids.
    pub field_preset: Option<String>,
    /// Team ids.
    pub workspace_ids: Vec<String>,
    /// Every team.
    pub include_all_workspaces: bool,
    /// Personal spaces.
    pub include_personal_workspaces: bool,
    /// Workbook or agent ids.
    pub entity_ids: Vec<String>,
    /// Credit-log category.
    pub category_filter: Option<String>,
    /// Credit-log custom role.
    pub permission_group_filter: Option<String>,
    /// Audit-log event types.
    pub event_type_filter: Vec<String>,
    /// Workflows: leave out child runs.
    pub hide_child_runs: bool,
    /// Start of delivery (ISO 8601); default now.
    pub start_ts: Option<String>,
    /// Destination.
    pub destination: Option<DestinationConfig>,
    /// Credentials.
    pub secret_id: Option<String>,
}

impl DrainRequest {
    /// The request that reproduces a stored drain's settings (the base of an update, from the
    /// API's PATCH or the drain's edit page).
    pub fn of(d: &Drain) -> DrainRequest {
        let team_scoped = crate::domain::catalog::spec(d.data_type)
            .team_field
            .is_some();
        DrainRequest {
            name: Some(d.name.clone()),
            data_type: Some(d.data_type.as_str().to_string()),
            fields: Some(d.scope.fields.clone()),
            field_preset: None,
            workspace_ids: d.scope.teams.ids.clone(),
            // Organization-wide types store "everything"; asking for it again is accepted there.
            include_all_workspaces: d.scope.teams.is_everything() && team_scoped,
            include_personal_workspaces: d.scope.teams.personal && team_scoped,
            entity_ids: d.scope.entity_ids.clone(),
            category_filter: d.scope.category.clone(),
            permission_group_filter: d.scope.permission_group.clone(),
            event_type_filter: d.scope.event_types.clone(),
            hide_child_runs: d.scope.hide_child_runs,
            start_ts: None,
            destination: Some(d.destination.clone()),
            secret_id: Some(d.secret_id.clone()),
        }
    }

    /// The export request whose scope, filters and fields the drain carries (the range is a
    /// stand-in: a drain has none).
    fn export_input(&self, data_type: &str) -> ExportInput {
        let team_named = self.include_all_workspaces
            || self.include_personal_workspaces
            || !self.workspace_ids.is_empty();
        ExportInput {
            data_type: Some(data_type.to_string()),
            preset: Some("last_7_days".into()),
            workspace_ids: self.workspace_ids.clone(),
            // A drain that names no team carries every organization team, including teams
            // created later; personal spaces only when asked for.
            all_org_teams: !team_named,
            include_all_workspaces: self.include_all_workspaces,
            include_personal_workspaces: self.include_personal_workspaces,
            entity_ids: self.entity_ids.clone(),
            category_filter: self.category_filter.clone(),
            permission_group_filter: self.permission_group_filter.clone(),
            event_type_filter: self.event_type_filter.clone(),
            fields: self.fields.clone(),
            field_preset: self.field_preset.clone(),
            ..ExportInput::default()
        }
    }
}

/// Parameter names of one API style.
#[derive(Debug, Clone, Copy)]
pub struct DrainParamNames {
    /// Fields.
    pub fields: &'static str,
    /// Teams.
    pub teams: &'static str,
    /// Destination.
    pub destination: &'static str,
}

/// Native names.
pub const NATIVE: DrainParamNames = DrainParamNames {
    fields: "fields",
    teams: "workspace_ids",
    destination: "destination",
};

/// Reference `/data-drains` names.
pub const REFERENCE: DrainParamNames = DrainParamNames {
    fields: "export_fields",
    teams: "project_ids",
    destination: "destination_config",
};

/// A validated request.
#[derive(Debug, Clone)]
pub struct ValidDrain {
    /// Display name.
    pub name: String,
    /// Data type.
    pub data_type: DataType,
    /// Records and fields.
    pub scope: DrainScope,
    /// Destination.
    pub destination: DestinationConfig,
    /// Credentials.
    pub secret_id: String,
    /// Explicit start (backfill), if any.
    pub start_ts: Option<DateTime<Utc>>,
}

fn bad(param: &str, message: impl Into<String>) -> InputError {
    InputError {
        param: param.to_string(),
        message: message.into(),
        not_found: false,
    }
}

/// Validates `req` for `org`.
pub async fn validate(
    store: &Store,
    org: &Org,
    req: &DrainRequest,
    names: DrainParamNames,
    now: DateTime<Utc>,
) -> Result<ValidDrain, ValidateError> {
    let name = req.name.as_deref().unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(bad("name", "name is required: 1 to 200 characters").into());
    }
    let Some(data_type) = req.data_type.as_deref() else {
        return Err(bad(
            "data_type",
            "data_type is required; allowed: workflows, agents, agent_interactions, credit_logs, audit_logs, tool_calls (gumstack)",
        )
        .into());
    };
    let names_for_export = ParamNames {
        start: "start_ts",
        end: "start_ts",
        fields: names.fields,
        teams: names.teams,
    };
    let spec = request::check(
        store,
        org,
        &req.export_input(data_type),
        names_for_export,
        now,
    )
    .await?
    .spec;
    filters::only_for(
        req.hide_child_runs,
        "hide_child_runs",
        spec.data_type,
        DataType::Workflows,
    )?;
    let Some(destination) = req.destination.clone() else {
        return Err(bad(
            names.destination,
            format!("{} is required", names.destination),
        )
        .into());
    };
    check_destination(&destination, names.destination)?;
    let Some(secret_id) = req.secret_id.clone().filter(|s| !s.is_empty()) else {
        return Err(bad(
            "secret_id",
            format!(
                "secret_id is required: create one with POST /v1/secrets (kind `{}`) holding the destination's credentials",
                destination.secret_kind()
            ),
        )
        .into());
    };
    let Some(secret) = secrets::get(store, &org.id, &secret_id).await? else {
        return Err(InputError {
            not_found: true,
            ..bad(
                "secret_id",
                format!("secret `{secret_id}` not found in this organization"),
            )
        }
        .into());
    };
    if secret.kind != destination.secret_kind() {
        return Err(bad(
            "secret_id",
            format!(
                "secret `{secret_id}` is of kind `{}`, but a `{}` destination needs kind `{}`",
                secret.kind,
                destination.kind(),
                destination.secret_kind()
            ),
        )
        .into());
    }
    let start_ts = match req.start_ts.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(parse_start(s, org).map_err(|e| bad("start_ts", e))?),
    };
    Ok(ValidDrain {
        name,
        data_type: spec.data_type,
        scope: DrainScope {
            fields: spec.fields,
            teams: spec.teams,
            entity_ids: spec.entity_ids,
            category: spec.category,
            permission_group: spec.permission_group,
            event_types: spec.event_types,
            hide_child_runs: req.hide_child_runs,
        },
        destination,
        secret_id,
        start_ts,
    })
}

/// `start_ts` read by the export ranges' parser, so both accept the same forms: a `Z` or
/// `±HH:MM` is that instant; a date or a time without an offset is wall-clock time in the
/// organization's zone (the zone an export uses when none is given).
fn parse_start(s: &str, org: &Org) -> Result<DateTime<Utc>, String> {
    let tz = range::parse_tz(&org.timezone).unwrap_or(chrono_tz::UTC);
    range::parse_bound(s, tz, RangeField::Start)
        .map(|b| b.start)
        .map_err(|e| {
            format!(
                "start_ts{} (without an offset it is read in the organization's zone, {tz})",
                e.message.strip_prefix("start").unwrap_or(&e.message)
            )
        })
}

/// Settings a destination must have before any network check.
fn check_destination(d: &DestinationConfig, param: &str) -> Result<(), InputError> {
    match d {
        DestinationConfig::Http { max_body_bytes, .. } => {
            if *max_body_bytes < 1024 {
                return Err(bad(
                    param,
                    format!("max_body_bytes must be at least 1024, got {max_body_bytes}"),
                ));
            }
        }
        DestinationConfig::S3 { bucket, .. } | DestinationConfig::Gcs { bucket, .. } => {
            if bucket.trim().is_empty() {
                return Err(bad(
                    param,
                    format!("bucket is required for a {} destination", d.kind()),
                ));
            }
        }
        DestinationConfig::AzureBlob {
            account, container, ..
        } => {
            if account.trim().is_empty() {
                return Err(bad(
                    param,
                    "account is required for an azure_blob destination",
                ));
            }
            if container.trim().is_empty() {
                return Err(bad(
                    param,
                    "container is required for an azure_blob destination",
                ));
            }
        }
        DestinationConfig::Datadog { site, .. } => {
            if site.trim().is_empty() {
                return Err(bad(param, "site is required for a datadog destination"));
            }
        }
    }
    Ok(())
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// A parameter is wrong.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<CheckError> for ValidateError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Input(e) => ValidateError::Input(e),
            CheckError::Store(e) => ValidateError::Store(e),
        }
    }
}

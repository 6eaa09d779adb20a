//! Checking a schedule request (`POST` and `PATCH /v1/export-schedules`): name, cadence and
//! delivery here, the export through the one check every export request goes through
//! (`Exports::check`, with a placeholder range: the real one is each run's period). Every
//! error names the parameter (`cadence.every`, `export.data_type`, …) and the allowed values.

use super::model::{
    CadenceInput, CadenceSpec, Deliver, EmailTarget, EveryKind, ExportTemplate, MonthDay,
    ScheduleDestination,
};
use crate::domain::entity::Org;
use crate::domain::range::parse_tz;
use crate::export::spec::{self, ExportInput, InputError};
use crate::export::{Exports, request::CheckError};
use crate::store::{Store, StoreError};
use chrono::NaiveTime;
use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /v1/export-schedules` body; `PATCH` takes the same fields, each optional (a given
/// `export`, `cadence` or `deliver` replaces the stored one whole).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleBody {
    /// Display name, 1 to 200 characters.
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// What each run exports: the `/v1/exports` body without start, end, preset, timezone.
    #[schema(nullable = false)]
    pub export: Option<ExportTemplate>,
    /// When it runs.
    #[schema(nullable = false)]
    pub cadence: Option<CadenceInput>,
    /// Who gets the file; default `{"email": "admins"}`.
    #[schema(nullable = false)]
    pub deliver: Option<Deliver>,
}

/// A schedule request that passed validation.
#[derive(Debug, Clone)]
pub struct ValidSchedule {
    /// Name.
    pub name: String,
    /// Export.
    pub export: ExportTemplate,
    /// Cadence.
    pub cadence: CadenceSpec,
    /// Delivery.
    pub deliver: Deliver,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// A parameter is wrong (or names something that does not exist).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Reading what validation needs failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn bad(param: &str, message: impl Into<String>) -> ValidateError {
    ValidateError::Input(InputError {
        param: param.to_string(),
        message: message.into(),
        not_found: false,
    })
}

fn not_found(param: &str, message: impl Into<String>) -> ValidateError {
    ValidateError::Input(InputError {
        param: param.to_string(),
        message: message.into(),
        not_found: true,
    })
}

/// The export request a run of `export` in `tz` stands for; the range is a placeholder that
/// the run replaces with its period.
pub fn export_input(export: &ExportTemplate, tz: &str) -> ExportInput {
    let e = export.clone();
    ExportInput {
        data_type: Some(e.data_type).filter(|d| !d.is_empty()),
        preset: Some("last_7_days".into()),
        timezone: Some(tz.to_string()),
        workspace_ids: e.workspace_ids,
        include_all_workspaces: e.include_all_workspaces,
        include_personal_workspaces: e.include_personal_workspaces,
        entity_ids: e.entity_ids,
        export_scope: e.export_scope,
        user_id: e.user_id,
        category_filter: e.category_filter,
        permission_group_filter: e.permission_group_filter,
        event_type_filter: e.event_type_filter,
        fields: e.fields,
        field_preset: e.field_preset,
        format: e.format,
        gzip: e.gzip,
        neutralise_formulas: e.neutralise_formulas,
        local_timestamps: e.local_timestamps,
        ..ExportInput::default()
    }
}

/// Validates `body` for `org`, with `base` (a stored schedule's settings) under what a PATCH
/// leaves out.
pub async fn validate(
    exports: &Exports,
    store: &Store,
    org: &Org,
    body: ScheduleBody,
    base: Option<ValidSchedule>,
) -> Result<ValidSchedule, ValidateError> {
    let name = match (body.name, &base) {
        (Some(n), _) => n,
        (None, Some(b)) => b.name.clone(),
        (None, None) => return Err(bad("name", "is required (1 to 200 characters)")),
    };
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(bad(
            "name",
            "must be 1 to 200 characters and not only spaces",
        ));
    }
    let cadence = match (body.cadence, &base) {
        (Some(c), _) => cadence(&c, org)?,
        (None, Some(b)) => b.cadence.clone(),
        (None, None) => {
            return Err(bad(
                "cadence",
                "is required: {\"every\": \"day\" | \"week\" | \"month\" | \"billing_period\", \"at\": \"HH:MM\", …}",
            ));
        }
    };
    let export = match (body.export, &base) {
        (Some(e), _) => e,
        (None, Some(b)) => b.export.clone(),
        (None, None) => {
            return Err(bad(
                "export",
                "is required: the /v1/exports body without start, end and preset",
            ));
        }
    };
    check_export(exports, org, &export, &cadence.timezone).await?;
    let deliver = match (body.deliver, base) {
        (Some(d), _) => d,
        (None, Some(b)) => b.deliver,
        (None, None) => Deliver::admins(),
    };
    check_deliver(store, org, &deliver).await?;
    Ok(ValidSchedule {
        name: name.trim().to_string(),
        export,
        cadence,
        deliver,
    })
}

/// The export part, through the export request check; its errors are prefixed `export.`.
async fn check_export(
    exports: &Exports,
    org: &Org,
    export: &ExportTemplate,
    tz: &str,
) -> Result<(), ValidateError> {
    if export.data_type.is_empty() {
        return Err(bad(
            "export.data_type",
            format!(
                "is required; allowed: {}",
                crate::domain::DataType::allowed_names()
            ),
        ));
    }
    match exports
        .check(org, &export_input(export, tz), spec::NATIVE)
        .await
    {
        Ok(_) => Ok(()),
        Err(CheckError::Input(e)) => Err(ValidateError::Input(InputError {
            message: e.message,
            param: format!("export.{}", e.param),
            not_found: e.not_found,
        })),
        Err(CheckError::Store(e)) => Err(e.into()),
    }
}

/// The cadence: each part checked, defaults filled in, only the parts its `every` uses.
pub fn cadence(c: &CadenceInput, org: &Org) -> Result<CadenceSpec, ValidateError> {
    let every = match c.every.as_deref() {
        None => {
            return Err(bad(
                "cadence.every",
                format!("is required; allowed: {}", EveryKind::ALLOWED),
            ));
        }
        Some(s) => EveryKind::parse(s).ok_or_else(|| {
            bad(
                "cadence.every",
                format!("`{s}` is not allowed; allowed: {}", EveryKind::ALLOWED),
            )
        })?,
    };
    let at = match c.at.as_deref() {
        None => return Err(bad("cadence.at", "is required: HH:MM, 00:00–23:59")),
        Some(s) => NaiveTime::parse_from_str(s.trim(), "%H:%M")
            .map_err(|_| {
                bad(
                    "cadence.at",
                    format!("`{s}` is not a time; use HH:MM, 00:00–23:59"),
                )
            })?
            .format("%H:%M")
            .to_string(),
    };
    let timezone = match c.timezone.as_deref() {
        None => org.timezone.clone(),
        Some(s) => parse_tz(s)
            .map_err(|e| bad("cadence.timezone", e.message))?
            .name()
            .to_string(),
    };
    let weekday = match (every, c.weekday.as_deref()) {
        (EveryKind::Week, None) => Some("monday".to_string()),
        (EveryKind::Week, Some(w)) => Some(weekday(w)?),
        (_, Some(_)) => {
            return Err(bad("cadence.weekday", "applies only to every = week"));
        }
        (_, None) => None,
    };
    let day_of_month = match (every, &c.day_of_month) {
        (EveryKind::Month, None) => Some(MonthDay::Day(1)),
        (EveryKind::Month, Some(v)) => Some(day_of_month(v)?),
        (_, Some(_)) => {
            return Err(bad(
                "cadence.day_of_month",
                "applies only to every = month (billing periods start on the organization's billing anchor day)",
            ));
        }
        (_, None) => None,
    };
    Ok(CadenceSpec {
        every,
        at,
        weekday,
        day_of_month,
        timezone,
    })
}

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn weekday(w: &str) -> Result<String, ValidateError> {
    let lower = w.trim().to_ascii_lowercase();
    if WEEKDAYS.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(bad(
            "cadence.weekday",
            format!("`{w}` is not allowed; allowed: {}", WEEKDAYS.join(", ")),
        ))
    }
}

fn day_of_month(v: &MonthDay) -> Result<MonthDay, ValidateError> {
    match v {
        MonthDay::Word(w) if w.trim().eq_ignore_ascii_case("last") => {
            Ok(MonthDay::Word("last".into()))
        }
        MonthDay::Day(d) if (1..=28).contains(d) => Ok(v.clone()),
        MonthDay::Day(d) => Err(bad(
            "cadence.day_of_month",
            format!(
                "{d} is not allowed; allowed: 1–28 or \"last\" (days 29–31 do not exist in every month)"
            ),
        )),
        MonthDay::Word(w) => Err(bad(
            "cadence.day_of_month",
            format!("`{w}` is not allowed; allowed: 1–28 or \"last\""),
        )),
    }
}

/// The delivery: named members exist and have an email; a destination is s3, gcs, azure_blob or http with a
/// secret of the right kind in the organization.
async fn check_deliver(store: &Store, org: &Org, d: &Deliver) -> Result<(), ValidateError> {
    match &d.email {
        None => {}
        Some(EmailTarget::Word(w)) if w == "admins" => {}
        Some(EmailTarget::Word(w)) => {
            return Err(bad(
                "deliver.email",
                format!("`{w}` is not allowed; allowed: \"admins\", a list of member ids, or null"),
            ));
        }
        Some(EmailTarget::Members(ids)) => {
            if ids.is_empty() {
                return Err(bad(
                    "deliver.email",
                    "lists no member; give member ids, \"admins\" or null",
                ));
            }
            for id in ids {
                if store.member_email(&org.id, id).await?.is_none() {
                    return Err(not_found(
                        "deliver.email",
                        format!("member `{id}` not found in this organization"),
                    ));
                }
            }
        }
    }
    if let Some(dest) = &d.destination {
        check_destination(store, org, dest).await?;
    }
    Ok(())
}

async fn check_destination(
    store: &Store,
    org: &Org,
    dest: &ScheduleDestination,
) -> Result<(), ValidateError> {
    use crate::drain::dest::DestinationConfig;
    match &dest.config {
        DestinationConfig::S3 { bucket, .. } | DestinationConfig::Gcs { bucket, .. }
            if bucket.trim().is_empty() =>
        {
            return Err(bad(
                "deliver.destination.bucket",
                format!("is required for type {}", dest.config.kind()),
            ));
        }
        DestinationConfig::AzureBlob { account, .. } if account.trim().is_empty() => {
            return Err(bad(
                "deliver.destination.account",
                "is required for type azure_blob",
            ));
        }
        DestinationConfig::AzureBlob { container, .. } if container.trim().is_empty() => {
            return Err(bad(
                "deliver.destination.container",
                "is required for type azure_blob",
            ));
        }
        DestinationConfig::S3 { .. }
        | DestinationConfig::Gcs { .. }
        | DestinationConfig::AzureBlob { .. }
        | DestinationConfig::Http { .. } => {}
        DestinationConfig::Datadog { .. } => {
            return Err(bad(
                "deliver.destination.type",
                format!(
                    "`{}` is not allowed; allowed: s3, gcs, azure_blob, http",
                    dest.config.kind()
                ),
            ));
        }
    }
    let kind = crate::drain::secrets::get(store, &org.id, &dest.secret_id)
        .await?
        .map(|s| s.kind);
    match kind {
        None => Err(not_found(
            "deliver.destination.secret_id",
            format!("secret `{}` not found in this organization", dest.secret_id),
        )),
        Some(k) if k != dest.config.secret_kind() => Err(bad(
            "deliver.destination.secret_id",
            format!(
                "secret `{}` is of kind {k}; a {} destination needs kind {}",
                dest.secret_id,
                dest.config.kind(),
                dest.config.secret_kind()
            ),
        )),
        Some(_) => Ok(()),
    }
}

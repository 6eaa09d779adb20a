//! The field catalog: for every data type, its fields (id, label, category, type, presets) and
//! the facts storage and scoping need (table, id field, time field, team and entity fields).
//!
//! Field ids are those of `docs/field-catalog.md`, which existing clients send.
//! Fields marked [`Origin::Outflow`] are our extensions (parent runs, versions, token counts
//! for the usage reports, tool-call columns the reference never published).

mod agent_interactions;
mod agents;
mod audit_logs;
mod credit_logs;
mod tool_calls;
mod workflows;

use super::DataType;
use super::values::{self, Bound};
use serde::Serialize;
use std::fmt;

/// The value type of a field, which decides validation, storage column type and encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
pub enum FieldType {
    /// UTF-8 text.
    Text,
    /// A floating-point number (credits, money).
    Number,
    /// A 64-bit integer (counts, milliseconds, tokens).
    Integer,
    /// `true` / `false`.
    Boolean,
    /// An instant; accepted as RFC 3339 with an offset, stored in UTC.
    Timestamp,
    /// Any JSON value (configuration objects, details).
    Json,
    /// One of a fixed set: `(internal value, human label)`. Stored as the internal value;
    /// ingest accepts either form, case-insensitively.
    Enum(&'static [(&'static str, &'static str)]),
}

impl FieldType {
    /// Short name used in the catalog API and error messages.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "string",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Timestamp => "timestamp",
            FieldType::Json => "json",
            FieldType::Enum(_) => "enum",
        }
    }
}

/// A field preset of docs/spec.md §2 (Custom is an explicit list and needs no constant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Identifiers and timestamps.
    Minimal,
    /// The recommended set.
    Default,
    /// Every field.
    Full,
}

impl Preset {
    /// All presets, smallest first.
    pub const ALL: [Preset; 3] = [Preset::Minimal, Preset::Default, Preset::Full];

    /// The preset's name as requests spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Minimal => "minimal",
            Preset::Default => "default",
            Preset::Full => "full",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Preset::Minimal => MIN,
            Preset::Default => DEF,
            Preset::Full => FULL,
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "minimal" => Ok(Preset::Minimal),
            "default" => Ok(Preset::Default),
            "full" => Ok(Preset::Full),
            _ => Err(format!(
                "unknown preset `{s}`; allowed: minimal, default, full"
            )),
        }
    }
}

/// Preset bits. A field in Minimal is in Default and Full too; every field is in Full.
const MIN: u8 = 0b001;
const DEF: u8 = 0b010;
const FULL: u8 = 0b100;
/// In all three presets.
pub(crate) const P_MIN: u8 = MIN | DEF | FULL;
/// In Default and Full.
pub(crate) const P_DEF: u8 = DEF | FULL;
/// In Full only.
pub(crate) const P_FULL: u8 = FULL;

/// Where a field's definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Named by the reference products' public documentation.
    Reference,
    /// Defined by Outflow.
    Outflow,
}

/// One field of a data type.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// Field id: the column name in exports and the key in ingest and drain records.
    pub id: &'static str,
    /// Label shown in the admin pages.
    pub label: &'static str,
    /// Category the admin pages group fields by.
    pub category: &'static str,
    /// Value type.
    pub ty: FieldType,
    /// Preset bits (see `P_MIN`, `P_DEF`, `P_FULL`).
    pub presets: u8,
    /// Ingest rejects a record without it.
    pub required: bool,
    /// Names or identifies a person; subject to the privacy setting (docs/spec.md §6).
    pub personal: bool,
    /// Where the definition comes from.
    pub origin: Origin,
    /// One sentence on the meaning.
    pub description: &'static str,
    /// Numeric fields: the values ingest accepts (see `domain::values`).
    pub bound: Option<Bound>,
}

impl FieldDef {
    /// Whether `preset` includes this field.
    pub fn in_preset(&self, preset: Preset) -> bool {
        self.presets & preset.bit() != 0
    }

    /// The presets that include this field.
    pub fn preset_list(&self) -> Vec<Preset> {
        Preset::ALL
            .into_iter()
            .filter(|p| self.in_preset(*p))
            .collect()
    }
}

/// Builder used by the per-type tables to keep them one line per field.
pub(crate) const fn f(
    id: &'static str,
    label: &'static str,
    category: &'static str,
    ty: FieldType,
    presets: u8,
    description: &'static str,
) -> FieldDef {
    FieldDef {
        id,
        label,
        category,
        ty,
        presets,
        required: false,
        personal: false,
        origin: Origin::Reference,
        description,
        bound: match ty {
            FieldType::Number => Some(values::CREDITS),
            FieldType::Integer => Some(values::COUNT),
            _ => None,
        },
    }
}

impl FieldDef {
    /// Marks the field required on ingest.
    pub(crate) const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    /// Marks the field as identifying a person.
    pub(crate) const fn personal(mut self) -> Self {
        self.personal = true;
        self
    }
    /// Sets the values a numeric field accepts.
    pub(crate) const fn bound(mut self, bound: Bound) -> Self {
        self.bound = Some(bound);
        self
    }
    /// Marks the field as an Outflow extension.
    pub(crate) const fn ext(mut self) -> Self {
        self.origin = Origin::Outflow;
        self
    }
}

/// Everything the rest of the service needs to know about one data type.
#[derive(Debug)]
pub struct TypeSpec {
    /// The data type.
    pub data_type: DataType,
    /// Storage table of the record stream.
    pub table: &'static str,
    /// Field holding the client-supplied record id (the idempotency key).
    pub id_field: &'static str,
    /// Field holding the record's time: the date-range and drain time field.
    pub time_field: &'static str,
    /// Field holding the team, for types scoped by team; `None` for organization-wide types.
    pub team_field: Option<&'static str>,
    /// Field whose values `entity_ids` filters on (workbook or agent ids).
    pub entity_field: Option<&'static str>,
    /// Every field, in catalog order.
    pub fields: &'static [FieldDef],
}

impl TypeSpec {
    /// Looks a field up by id.
    pub fn field(&self, id: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The field ids of a preset, in catalog order.
    pub fn preset_fields(&self, preset: Preset) -> Vec<&'static str> {
        self.fields
            .iter()
            .filter(|f| f.in_preset(preset))
            .map(|f| f.id)
            .collect()
    }

    /// All field ids, comma separated, for error messages.
    pub fn field_list(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.id)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for TypeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.data_type.as_str())
    }
}

static SPECS: [TypeSpec; 6] = [
    workflows::SPEC,
    agents::SPEC,
    agent_interactions::SPEC,
    credit_logs::SPEC,
    audit_logs::SPEC,
    tool_calls::SPEC,
];

/// The catalog entry of a data type.
pub fn spec(data_type: DataType) -> &'static TypeSpec {
    let spec = &SPECS[DataType::ALL
        .iter()
        .position(|d| *d == data_type)
        .expect("every data type has a spec")];
    debug_assert_eq!(spec.data_type, data_type);
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_spec_is_consistent() {
        for dt in DataType::ALL {
            let s = spec(dt);
            assert_eq!(s.data_type, dt);
            let ids: HashSet<_> = s.fields.iter().map(|f| f.id).collect();
            assert_eq!(ids.len(), s.fields.len(), "{dt}: duplicate field ids");
            let id = s.field(s.id_field).expect("id field exists");
            assert!(
                id.required && id.in_preset(Preset::Minimal),
                "{dt}: id field"
            );
            let time = s.field(s.time_field).expect("time field exists");
            assert!(time.required && time.in_preset(Preset::Minimal));
            assert_eq!(time.ty, FieldType::Timestamp);
            if let Some(team) = s.team_field {
                assert!(
                    s.field(team).is_some_and(|f| f.required),
                    "{dt}: team field"
                );
            }
            if let Some(entity) = s.entity_field {
                assert!(s.field(entity).is_some(), "{dt}: entity field");
            }
            for f in s.fields {
                assert!(
                    f.in_preset(Preset::Full),
                    "{dt}.{}: Full has every field",
                    f.id
                );
                if f.in_preset(Preset::Minimal) {
                    assert!(f.in_preset(Preset::Default), "{dt}.{}", f.id);
                }
                assert!(!f.label.is_empty() && !f.category.is_empty());
                // Every numeric field has a documented bound (GET /v1/fields shows it).
                let numeric = matches!(f.ty, FieldType::Number | FieldType::Integer);
                assert_eq!(f.bound.is_some(), numeric, "{dt}.{}: bound", f.id);
                // Field ids double as SQL column names: keep them plain identifiers.
                assert!(f.id.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            }
        }
    }

    #[test]
    fn reference_field_ids_are_present() {
        let wf = spec(DataType::Workflows);
        for id in [
            "workspace_id",
            "workspace_name",
            "workbook_id",
            "workbook_name",
            "workbook_created_ts",
            "user_id",
            "user_email",
            "run_id",
            "credit_cost",
            "pl_run_created_ts",
            "pl_run_finished_ts",
            "pipeline",
        ] {
            assert!(wf.field(id).is_some(), "workflows.{id}");
        }
        let cl = spec(DataType::CreditLogs);
        for id in [
            "permission_group_id",
            "permission_group_name",
            "correlation_id",
        ] {
            let f = cl.field(id).unwrap();
            assert!(!f.in_preset(Preset::Default), "{id} is disabled by default");
        }
    }
}

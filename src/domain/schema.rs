//! Schema contracts: the JSON Schema (draft 2020-12) of one record of a data type as drains
//! deliver it and exports write it, generated from the field catalog, and the versioned name
//! (`credit_logs@1`) every delivery carries so a receiver knows which schema to check against.
//!
//! The schema describes the widest record: every catalog field is an optional property
//! (a drain sends only its selected fields plus the time field), unknown properties are
//! refused, and `null` is allowed wherever a field may be empty — any field ingest does not
//! require, and personal fields, which the privacy setting may hide.
//!
//! Enum fields list both the internal values and the labels: drains deliver the stored
//! internal value (`pipeline_run`), exports write the label (`Workflow Runs`), and one schema
//! covers both outputs.

use super::DataType;
use super::catalog::{self, FieldDef, FieldType};
use serde_json::{Map, Value, json};

/// The JSON Schema dialect of every generated schema.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema version of a data type's records. Bump a type's number when its records change
/// in a way a receiver's validation would notice (a field removed, a type changed, a value
/// dropped from an enum); adding an optional field needs a bump too, since the schema refuses
/// unknown properties.
pub const fn version(data_type: DataType) -> u32 {
    match data_type {
        DataType::Workflows => 1,
        DataType::Agents => 1,
        DataType::AgentInteractions => 1,
        DataType::CreditLogs => 1,
        DataType::AuditLogs => 1,
        DataType::ToolCalls => 1,
    }
}

/// The name deliveries carry: `{data_type}@{version}`, e.g. `credit_logs@1`.
pub fn name(data_type: DataType) -> String {
    format!("{}@{}", data_type.as_str(), version(data_type))
}

/// The schema's `$id`: a URN, so the contract does not depend on the host serving it.
pub fn id(data_type: DataType) -> String {
    format!("urn:outflow:schema:{}", name(data_type))
}

/// The JSON Schema of one `data_type` record.
pub fn schema(data_type: DataType) -> Value {
    let spec = catalog::spec(data_type);
    let properties: Map<String, Value> = spec
        .fields
        .iter()
        .map(|f| (f.id.to_string(), property(f)))
        .collect();
    json!({
        "$schema": DIALECT,
        "$id": id(data_type),
        "title": format!("Outflow {} record ({})", data_type.label(), name(data_type)),
        "description": format!(
            "One {} record as Outflow's drains deliver it and its exports write it. Every \
             property is optional: a record carries the fields its drain or export selected, \
             plus `{}`.",
            data_type.as_str(),
            spec.time_field
        ),
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// Whether a field's value may be `null` in output.
fn nullable(f: &FieldDef) -> bool {
    !f.required || f.personal
}

/// The schema of one field.
fn property(f: &FieldDef) -> Value {
    let nullable = nullable(f);
    let typed = |ty: &str| {
        if nullable {
            json!([ty, "null"])
        } else {
            json!(ty)
        }
    };
    let mut p = Map::new();
    p.insert("title".into(), f.label.into());
    p.insert("description".into(), f.description.into());
    match f.ty {
        FieldType::Text => {
            p.insert("type".into(), typed("string"));
        }
        FieldType::Number => {
            p.insert("type".into(), typed("number"));
        }
        FieldType::Integer => {
            p.insert("type".into(), typed("integer"));
        }
        FieldType::Boolean => {
            p.insert("type".into(), typed("boolean"));
        }
        FieldType::Timestamp => {
            p.insert("type".into(), typed("string"));
            p.insert("format".into(), "date-time".into());
        }
        // Any JSON value, `null` included: no constraint.
        FieldType::Json => {}
        FieldType::Enum(values) => {
            let mut allowed: Vec<Value> = vec![];
            for v in values.iter().flat_map(|(value, label)| [*value, *label]) {
                let v = Value::from(v);
                if !allowed.contains(&v) {
                    allowed.push(v);
                }
            }
            if nullable {
                allowed.push(Value::Null);
            }
            p.insert("enum".into(), Value::Array(allowed));
        }
    }
    Value::Object(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with every field of `data_type` set to a value of its type, as the drain
    /// (`internal`) or the export (labels) writes it.
    fn full_record(data_type: DataType, labels: bool) -> Value {
        let now = crate::domain::time::format_timestamp(&chrono::Utc::now());
        let fields: Map<String, Value> = catalog::spec(data_type)
            .fields
            .iter()
            .map(|f| {
                let v = match f.ty {
                    FieldType::Text => json!(format!("sample {}", f.id)),
                    FieldType::Number => json!(-12.5),
                    FieldType::Integer => json!(42),
                    FieldType::Boolean => json!(true),
                    FieldType::Timestamp => json!(now),
                    FieldType::Json => json!({"nested": [1, "two", null]}),
                    FieldType::Enum(values) => {
                        let (value, label) = values.last().expect("an enum has values");
                        json!(if labels { label } else { value })
                    }
                };
                (f.id.to_string(), v)
            })
            .collect();
        Value::Object(fields)
    }

    fn validator(data_type: DataType) -> jsonschema::Validator {
        let s = schema(data_type);
        jsonschema::meta::validate(&s)
            .unwrap_or_else(|e| panic!("{data_type}: not a valid 2020-12 schema: {e}"));
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&s)
            .unwrap_or_else(|e| panic!("{data_type}: {e}"))
    }

    #[test]
    fn names_and_ids() {
        assert_eq!(name(DataType::CreditLogs), "credit_logs@1");
        assert_eq!(id(DataType::ToolCalls), "urn:outflow:schema:tool_calls@1");
        let s = schema(DataType::CreditLogs);
        assert_eq!(s["$schema"], DIALECT);
        assert_eq!(s["$id"], "urn:outflow:schema:credit_logs@1");
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(
            s["properties"]["amount"]["description"],
            catalog::spec(DataType::CreditLogs)
                .field("amount")
                .unwrap()
                .description
        );
    }

    #[test]
    fn field_types_map_to_schema_types() {
        let s = schema(DataType::CreditLogs);
        let p = &s["properties"];
        assert_eq!(p["log_id"]["type"], "string", "required: never null");
        assert_eq!(p["name"]["type"], json!(["string", "null"]));
        assert_eq!(p["amount"]["type"], json!(["number", "null"]));
        assert_eq!(p["timestamp"]["type"], "string");
        assert_eq!(p["timestamp"]["format"], "date-time");
        // Personal fields may be hidden by the privacy setting, even when required.
        assert_eq!(p["user_email"]["type"], json!(["string", "null"]));
        let category = p["category"]["enum"].as_array().unwrap();
        assert!(category.contains(&json!("pipeline_run")));
        assert!(category.contains(&json!("Workflow Runs")));
        assert!(!category.contains(&Value::Null), "category is required");
        let scope = p["balance_scope"]["enum"].as_array().unwrap();
        assert_eq!(scope, &[json!("organization"), json!("user"), Value::Null]);
    }

    #[test]
    fn every_schema_is_valid_2020_12_and_accepts_a_catalog_record() {
        for dt in DataType::ALL {
            let v = validator(dt);
            for labels in [false, true] {
                let record = full_record(dt, labels);
                let errors: Vec<String> = v.iter_errors(&record).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{dt} (labels: {labels}): {errors:?}");
            }
            // The time field alone is a valid record (a drain with no other field selected).
            let spec = catalog::spec(dt);
            let time = &full_record(dt, false)[spec.time_field];
            assert!(v.is_valid(&json!({ spec.time_field: time })), "{dt}");
            // Optional fields may be null.
            let mut nulls = full_record(dt, false);
            for f in spec.fields.iter().filter(|f| nullable(f)) {
                nulls[f.id] = Value::Null;
            }
            assert!(v.is_valid(&nulls), "{dt}: nulls");
        }
    }

    #[test]
    fn every_schema_refuses_unknown_fields_and_wrong_types() {
        for dt in DataType::ALL {
            let v = validator(dt);
            let spec = catalog::spec(dt);
            let mut unknown = full_record(dt, false);
            unknown["not_a_field"] = json!("x");
            assert!(!v.is_valid(&unknown), "{dt}: unknown field");
            let mut wrong = full_record(dt, false);
            wrong[spec.time_field] = json!(12);
            assert!(!v.is_valid(&wrong), "{dt}: number for a timestamp");
            let mut bad_time = full_record(dt, false);
            bad_time[spec.time_field] = json!("yesterday");
            assert!(!v.is_valid(&bad_time), "{dt}: not a date-time");
            let mut null_id = full_record(dt, false);
            null_id[spec.id_field] = Value::Null;
            assert!(!v.is_valid(&null_id), "{dt}: the id is never null");
        }
        let v = validator(DataType::CreditLogs);
        let mut bad_enum = full_record(DataType::CreditLogs, false);
        bad_enum["category"] = json!("not_a_category");
        assert!(!v.is_valid(&bad_enum));
    }
}

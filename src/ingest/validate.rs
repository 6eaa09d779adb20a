//! Record validation against the field catalog: types, required fields, ids, enum values,
//! and the value rules of `domain::values` (no NUL in text, bounded numbers, timestamps in
//! the accepted window), so a bad record is refused alone and its neighbours are stored.

use crate::domain::catalog::{self, FieldDef, FieldType};
use crate::domain::{DataType, Id, TypeSpec, credit, time, values};
use crate::store::{Record, RecordBatch, Value};
use serde::Serialize;
use utoipa::ToSchema;

/// A record refused by ingest.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Rejection {
    /// Position of the record in the request, from 0.
    pub index: usize,
    /// The record's id, when it had a readable one.
    pub id: Option<String>,
    /// What is wrong, naming the field.
    pub error: String,
}

/// Fields Outflow assigns itself; a record must not carry them.
const ASSIGNED: &[&str] = &["agent_version"];

/// Splits `values` into valid records and rejections. The third element holds, for each
/// valid record, its index in the request.
pub fn validate(
    data_type: DataType,
    values: Vec<serde_json::Value>,
) -> (RecordBatch, Vec<Rejection>, Vec<usize>) {
    let spec = catalog::spec(data_type);
    let mut batch = RecordBatch::new(data_type);
    batch.records.reserve(values.len());
    let mut rejected = Vec::new();
    let mut indexes = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        match record(spec, value) {
            Ok(r) => {
                batch.records.push(r);
                indexes.push(index);
            }
            Err((id, error)) => rejected.push(Rejection { index, id, error }),
        }
    }
    (batch, rejected, indexes)
}

type Refusal = (Option<String>, String);

fn record(spec: &TypeSpec, value: serde_json::Value) -> Result<Record, Refusal> {
    let serde_json::Value::Object(mut obj) = value else {
        return Err((None, "a record must be a JSON object".into()));
    };
    let id = obj
        .get(spec.id_field)
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let refuse = |msg: String| (id.clone(), msg);
    let org_id = match obj.remove("org_id") {
        Some(serde_json::Value::String(s)) => {
            Id::parse(&s).map_err(|e| refuse(format!("field `org_id` {e}")))?
        }
        None | Some(serde_json::Value::Null) => {
            return Err(refuse("missing required field `org_id` (string)".into()));
        }
        Some(other) => {
            return Err(refuse(format!(
                "field `org_id`: expected a string, got {}",
                kind(&other)
            )));
        }
    };
    if let Some(unknown) = obj.keys().find(|k| spec.field(k).is_none()) {
        return Err(refuse(format!(
            "unknown field `{unknown}` for {}; GET /v1/fields?data_type={} lists the fields",
            spec.data_type, spec.data_type
        )));
    }
    if let Some(assigned) = ASSIGNED.iter().find(|k| obj.contains_key(**k)) {
        return Err(refuse(format!(
            "field `{assigned}` is assigned by Outflow and must not be sent"
        )));
    }
    let mut values = Vec::with_capacity(spec.fields.len());
    for f in spec.fields {
        let v = obj.remove(f.id).unwrap_or(serde_json::Value::Null);
        values.push(cell(spec, f, v).map_err(refuse)?);
    }
    Ok(Record {
        org_id: org_id.into(),
        values,
    })
}

fn cell(spec: &TypeSpec, f: &FieldDef, v: serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    if v.is_null() {
        if f.required {
            return Err(format!(
                "missing required field `{}` ({})",
                f.id,
                f.ty.name()
            ));
        }
        return Ok(match f.ty {
            FieldType::Timestamp => Value::NullTimestamp,
            _ => Value::Null,
        });
    }
    let wrong = |v: &J| {
        format!(
            "field `{}`: expected {}, got {}",
            f.id,
            article(f.ty),
            kind(v)
        )
    };
    Ok(match (f.ty, v) {
        (FieldType::Text, J::String(s)) => {
            if f.id == spec.id_field || Some(f.id) == spec.team_field {
                Id::parse(&s).map_err(|e| format!("field `{}` {e}", f.id))?;
            }
            values::check_text(f.id, &s)?;
            Value::Text(s)
        }
        (FieldType::Number, J::Number(n)) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            bounded(f, x)?;
            Value::Number(x)
        }
        (FieldType::Integer, J::Number(n)) => {
            let i = match n.as_i64() {
                Some(i) => i,
                None => match n.as_f64() {
                    Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => x as i64,
                    _ => return Err(format!("field `{}`: expected an integer, got {n}", f.id)),
                },
            };
            bounded(f, i as f64)?;
            Value::Integer(i)
        }
        (FieldType::Boolean, J::Bool(b)) => Value::Bool(b),
        (FieldType::Timestamp, J::String(s)) => {
            let t = time::parse_timestamp(&s).map_err(|e| format!("field `{}`: {e}", f.id))?;
            values::check_time(f.id, &t)?;
            Value::Timestamp(t)
        }
        (FieldType::Json, v) => {
            values::check_json(f.id, &v)?;
            Value::Json(v)
        }
        (FieldType::Enum(values), J::String(s)) => match credit::resolve(values, &s) {
            Some(internal) => Value::Text(internal.to_string()),
            None => {
                let allowed: Vec<&str> = values.iter().map(|(i, _)| *i).collect();
                return Err(format!(
                    "field `{}` is `{s}`; allowed: {}",
                    f.id,
                    allowed.join(", ")
                ));
            }
        },
        (_, v) => return Err(wrong(&v)),
    })
}

/// Refuses a number outside the field's catalog bound (every numeric field has one).
fn bounded(f: &FieldDef, x: f64) -> Result<(), String> {
    values::check_number(f.id, x, f.bound.unwrap_or(values::CREDITS))
}

fn article(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "a string",
        FieldType::Number => "a number",
        FieldType::Integer => "an integer",
        FieldType::Boolean => "a boolean",
        FieldType::Timestamp => "an RFC 3339 timestamp string",
        FieldType::Json => "JSON",
        FieldType::Enum(_) => "a string",
    }
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(org: &str, id: &str) -> serde_json::Value {
        json!({"org_id": org, "run_id": id, "workspace_id": "t1", "workbook_id": "wb1",
               "pl_run_created_ts": "2026-01-05T10:00:00Z", "credit_cost": 1.5})
    }

    #[test]
    fn valid_records_pass_and_invalid_ones_name_the_field() {
        let mut missing = run("o", "r3");
        missing.as_object_mut().unwrap().remove("workbook_id");
        let mut wrong = run("o", "r4");
        wrong["credit_cost"] = json!("lots");
        let values = vec![run("o", "r1"), json!(7), missing, wrong, run("o", "r5")];
        let (batch, rejected, indexes) = validate(DataType::Workflows, values);
        assert_eq!(batch.records.len(), 2);
        assert_eq!(indexes, vec![0, 4]);
        assert_eq!(rejected.len(), 3);
        assert_eq!(rejected[0].index, 1);
        assert!(
            rejected[1].error.contains("`workbook_id`"),
            "{}",
            rejected[1].error
        );
        assert_eq!(rejected[1].id.as_deref(), Some("r3"));
        assert!(
            rejected[2].error.contains("`credit_cost`") && rejected[2].error.contains("number")
        );
    }

    #[test]
    fn unknown_fields_bad_ids_and_timestamps_are_refused() {
        let mut typo = run("o", "r1");
        typo["credit_cots"] = json!(1);
        let mut bad_id = run("o", "r/2");
        bad_id["run_id"] = json!("r/2");
        let mut no_offset = run("o", "r3");
        no_offset["pl_run_created_ts"] = json!("2026-01-05T10:00:00");
        let (_, rejected, _) = validate(DataType::Workflows, vec![typo, bad_id, no_offset]);
        assert!(rejected[0].error.contains("`credit_cots`"));
        assert!(rejected[1].error.contains("`run_id`"));
        assert!(rejected[2].error.contains("`pl_run_created_ts`"));
    }

    #[test]
    fn enums_accept_internal_values_and_labels_and_store_internal() {
        let log = |id: &str, cat: &str| json!({"org_id": "o", "log_id": id, "timestamp": "2026-02-11T00:00:00Z", "category": cat});
        let values = vec![
            log("l1", "AGENT_RUN"),
            log("l2", "Workflow Runs"),
            log("l3", "x"),
        ];
        let (batch, rejected, _) = validate(DataType::CreditLogs, values);
        assert_eq!(batch.records.len(), 2);
        let spec = catalog::spec(DataType::CreditLogs);
        let at = spec.fields.iter().position(|f| f.id == "category").unwrap();
        assert_eq!(batch.records[0].values[at], Value::Text("agent_run".into()));
        assert_eq!(
            batch.records[1].values[at],
            Value::Text("pipeline_run".into())
        );
        assert!(rejected[0].error.contains("allowed: pipeline_run"));
    }

    #[test]
    fn agent_version_is_assigned_not_accepted() {
        let agent = json!({"org_id": "o", "agent_id": "a1", "agent_version": 3, "workspace_id": "t",
                           "agent_created_ts": "2026-01-01T00:00:00Z"});
        let (_, rejected, _) = validate(DataType::Agents, vec![agent]);
        assert!(rejected[0].error.contains("agent_version"));
    }
}

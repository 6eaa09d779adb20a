//! The OTLP/HTTP logs mapping (format `otlp`), in protobuf and in the OTLP JSON encoding.
//!
//! One batch is one `ExportLogsServiceRequest`:
//!
//! - one `ResourceLogs`, resource attributes `service.name` = `"outflow"`,
//!   `outflow.organization_id` = the organization id, and the batch's place in its sequence:
//!   `outflow.batch.seq` (int), `outflow.batch.prev` (absent on the first batch),
//!   `outflow.batch.sequence` (`live`, `replay:{id}`, `test`; see `batch::Chain`);
//! - one `ScopeLogs`, scope name `"outflow"`, version the crate version;
//! - one `LogRecord` per record: `time_unix_nano` = the record's time (0 when it does not fit
//!   an unsigned 64-bit nanosecond count), `observed_time_unix_nano` = when the body was
//!   encoded, severity `INFO` (9) with text `"INFO"`, body the string `outflow.{data_type}`,
//!   and attributes: one per field under the field id — strings as `string_value`, integers
//!   as `int_value` (an integer beyond `i64` as its decimal `string_value`), other numbers as
//!   `double_value`, booleans as `bool_value`, arrays and objects as their JSON text in
//!   `string_value`, null fields omitted — then `outflow.drain_id` and `outflow.data_type`.
//!
//! The JSON encoding follows the OTLP JSON mapping of protobuf: lowerCamelCase field names,
//! 64-bit integers (`timeUnixNano`, `intValue`) as decimal strings, enums as integers
//! (`"severityNumber": 9`). It is written from the protobuf messages, so both encodings carry
//! exactly the same content.
//!
//! The URL is used as given: a collector's logs endpoint is usually `…/v1/logs`, and Outflow
//! does not append it.

use crate::drain::batch::{Batch, Chain, DrainRecord};
use crate::drain::dest::config::OtlpEncoding;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;
use serde_json::{Value as Json, json};

fn string(s: impl Into<String>) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(s.into())),
    }
}

fn kv(key: impl Into<String>, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(value),
        ..Default::default()
    }
}

/// A field value as an attribute value; `None` for null (omitted).
pub(super) fn any_value(v: &Json) -> Option<AnyValue> {
    let value = match v {
        Json::Null => return None,
        Json::Bool(b) => Value::BoolValue(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::IntValue(i),
            // Beyond int64: a double would round it, the decimal keeps it exact.
            (None, Some(u)) => Value::StringValue(u.to_string()),
            (None, None) => Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::StringValue(s.clone()),
        Json::Array(_) | Json::Object(_) => Value::StringValue(v.to_string()),
    };
    Some(AnyValue { value: Some(value) })
}

/// The resource: who sent these logs, and the batch's place in its sequence
/// (`outflow.batch.seq`, `outflow.batch.prev` unless it is the first, `outflow.batch.sequence`;
/// see `batch::Chain`).
pub(super) fn resource(org_id: &str, chain: &Chain) -> Resource {
    let mut attributes = vec![
        kv("service.name", string("outflow")),
        kv("outflow.organization_id", string(org_id)),
        kv(
            "outflow.batch.seq",
            AnyValue {
                value: Some(Value::IntValue(chain.seq)),
            },
        ),
    ];
    if let Some(prev) = &chain.prev {
        attributes.push(kv("outflow.batch.prev", string(prev.as_str())));
    }
    attributes.push(kv("outflow.batch.sequence", string(chain.space.as_str())));
    Resource {
        attributes,
        ..Default::default()
    }
}

/// The instrumentation scope.
pub(super) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "outflow".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    }
}

/// Nanoseconds since the epoch, 0 (OTLP's "unknown") when out of range.
pub(super) fn unix_nanos(t: chrono::DateTime<chrono::Utc>) -> u64 {
    t.timestamp_nanos_opt()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

/// One record as a log record.
pub(super) fn log_record(batch: &Batch, record: &DrainRecord, observed_nanos: u64) -> LogRecord {
    let data_type = batch.data_type.as_str();
    let mut attributes: Vec<KeyValue> = record
        .fields()
        .iter()
        .filter_map(|(k, v)| Some(kv(k.as_str(), any_value(v)?)))
        .collect();
    attributes.push(kv("outflow.drain_id", string(batch.drain_id.as_str())));
    attributes.push(kv("outflow.data_type", string(data_type)));
    LogRecord {
        time_unix_nano: unix_nanos(record.time),
        observed_time_unix_nano: observed_nanos,
        severity_number: SeverityNumber::Info as i32,
        severity_text: "INFO".into(),
        body: Some(string(format!("outflow.{data_type}"))),
        attributes,
        ..Default::default()
    }
}

/// The request around `records`.
pub(super) fn request(
    resource: &Resource,
    scope: &InstrumentationScope,
    records: Vec<LogRecord>,
) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource.clone()),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope.clone()),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Exact protobuf sizes of a request, from its records' sizes: the framing of the nested
/// messages grows with their contents (varint lengths), so it is computed, not estimated.
#[derive(Debug, Clone)]
pub(super) struct ProtoFrame {
    /// `ResourceLogs` without its `scope_logs`.
    resource_logs_bare: usize,
    /// `ScopeLogs` without its `log_records`.
    scope_logs_bare: usize,
}

/// A length-delimited field of a one-byte tag: tag, length, content.
fn field_len(content: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(content as u64) + content
}

impl ProtoFrame {
    pub(super) fn new(resource: &Resource, scope: &InstrumentationScope) -> ProtoFrame {
        let bare = request(resource, scope, vec![]);
        let rl = &bare.resource_logs[0];
        let scope_logs_bare = rl.scope_logs[0].encoded_len();
        let resource_logs_bare = rl.encoded_len() - field_len(scope_logs_bare);
        ProtoFrame {
            resource_logs_bare,
            scope_logs_bare,
        }
    }

    /// What one record adds to its `ScopeLogs`.
    pub(super) fn item_len(record: &LogRecord) -> usize {
        field_len(record.encoded_len())
    }

    /// The request's size given the sum of its records' [`Self::item_len`].
    pub(super) fn total_len(&self, items: usize) -> usize {
        let scope_logs = self.scope_logs_bare + items;
        let resource_logs = self.resource_logs_bare + field_len(scope_logs);
        field_len(resource_logs)
    }
}

fn int64(v: impl ToString) -> Json {
    Json::String(v.to_string())
}

/// An attribute value in the OTLP JSON encoding (the value kinds [`any_value`] makes).
pub(super) fn any_value_json(v: &AnyValue) -> Json {
    match &v.value {
        Some(Value::StringValue(s)) => json!({ "stringValue": s }),
        Some(Value::BoolValue(b)) => json!({ "boolValue": b }),
        Some(Value::IntValue(i)) => json!({ "intValue": int64(i) }),
        Some(Value::DoubleValue(d)) => json!({ "doubleValue": d }),
        Some(Value::ArrayValue(a)) => {
            json!({ "arrayValue": { "values": a.values.iter().map(any_value_json).collect::<Vec<_>>() } })
        }
        Some(Value::KvlistValue(l)) => {
            json!({ "kvlistValue": { "values": key_values_json(&l.values) } })
        }
        Some(Value::BytesValue(b)) => {
            use base64::Engine as _;
            json!({ "bytesValue": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        Some(Value::StringValueStrindex(i)) => json!({ "stringValueStrindex": i }),
        None => json!({}),
    }
}

pub(super) fn key_values_json(kvs: &[KeyValue]) -> Json {
    Json::Array(
        kvs.iter()
            .map(|kv| {
                let value = kv.value.as_ref().map(any_value_json).unwrap_or(json!({}));
                json!({ "key": kv.key, "value": value })
            })
            .collect(),
    )
}

/// A log record in the OTLP JSON encoding.
pub(super) fn log_record_json(r: &LogRecord) -> Json {
    json!({
        "timeUnixNano": int64(r.time_unix_nano),
        "observedTimeUnixNano": int64(r.observed_time_unix_nano),
        "severityNumber": r.severity_number,
        "severityText": r.severity_text,
        "body": r.body.as_ref().map(any_value_json).unwrap_or(json!({})),
        "attributes": key_values_json(&r.attributes),
    })
}

/// The JSON text before and after the comma-separated log records of a request.
pub(super) fn json_frame(resource: &Resource, scope: &InstrumentationScope) -> (String, String) {
    const MARK: &str = "\u{0}records\u{0}";
    let doc = json!({
        "resourceLogs": [{
            "resource": { "attributes": key_values_json(&resource.attributes) },
            "scopeLogs": [{
                "scope": { "name": scope.name, "version": scope.version },
                "logRecords": [MARK],
            }],
        }],
    })
    .to_string();
    let quoted = serde_json::to_string(MARK).expect("a string serializes");
    let (head, tail) = doc
        .split_once(&quoted)
        .expect("the marker is in the document");
    (head.to_owned(), tail.to_owned())
}

/// The body of an empty export request (preflight).
pub(super) fn empty_request(encoding: OtlpEncoding) -> Vec<u8> {
    match encoding {
        OtlpEncoding::Protobuf => ExportLogsServiceRequest::default().encode_to_vec(),
        OtlpEncoding::Json => br#"{"resourceLogs":[]}"#.to_vec(),
    }
}

/// What a 2xx response says about records the receiver dropped: `(rejected, message)`, when
/// it says anything. The response's `Content-Type` decides the decoding, the request's
/// encoding when it has none.
pub(super) fn partial_success(
    encoding: OtlpEncoding,
    content_type: Option<&str>,
    body: &[u8],
) -> Option<(i64, String)> {
    if body.is_empty() {
        return None;
    }
    let json = match content_type {
        Some(ct) if ct.contains("json") => true,
        Some(ct) if ct.contains("protobuf") => false,
        _ => encoding == OtlpEncoding::Json,
    };
    let (rejected, message) = if json {
        let v: Json = serde_json::from_slice(body).ok()?;
        let p = v
            .get("partialSuccess")
            .or_else(|| v.get("partial_success"))?;
        let rejected = p
            .get("rejectedLogRecords")
            .or_else(|| p.get("rejected_log_records"))
            .and_then(|r| match r {
                Json::String(s) => s.parse().ok(),
                other => other.as_i64(),
            })
            .unwrap_or(0);
        let message = p
            .get("errorMessage")
            .or_else(|| p.get("error_message"))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        (rejected, message)
    } else {
        let p = ExportLogsServiceResponse::decode(body)
            .ok()?
            .partial_success?;
        (p.rejected_log_records, p.error_message)
    };
    (rejected > 0 || !message.is_empty()).then_some((rejected.max(0), message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DataType;
    use chrono::TimeZone;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess;

    fn batch() -> Batch {
        let mut fields = serde_json::Map::new();
        fields.insert("s".into(), json!("text"));
        fields.insert("i".into(), json!(-42));
        fields.insert("big".into(), json!(u64::MAX));
        fields.insert("d".into(), json!(1.5));
        fields.insert("b".into(), json!(true));
        fields.insert("n".into(), Json::Null);
        fields.insert("arr".into(), json!([1, "x"]));
        fields.insert("obj".into(), json!({"k": 1}));
        Batch {
            drain_id: "drn_1".into(),
            drain_name: "n".into(),
            org_id: "org_1".into(),
            data_type: DataType::CreditLogs,
            first_pos: 1,
            last_pos: 1,
            key: "k".into(),
            chain: Chain::live(1, None),
            records: vec![DrainRecord::new(
                chrono::Utc
                    .timestamp_opt(1_700_000_000, 123_456_789)
                    .unwrap(),
                &fields,
            )],
        }
    }

    fn attr<'a>(r: &'a LogRecord, key: &str) -> Option<&'a Value> {
        r.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.as_ref())
    }

    #[test]
    fn record_mapping() {
        let b = batch();
        let r = log_record(&b, &b.records[0], 7);
        assert_eq!(r.time_unix_nano, 1_700_000_000_123_456_789);
        assert_eq!(r.observed_time_unix_nano, 7);
        assert_eq!(r.severity_number, 9);
        assert_eq!(r.severity_text, "INFO");
        assert_eq!(r.body, Some(string("outflow.credit_logs")));
        assert_eq!(attr(&r, "s"), Some(&Value::StringValue("text".into())));
        assert_eq!(attr(&r, "i"), Some(&Value::IntValue(-42)));
        assert_eq!(
            attr(&r, "big"),
            Some(&Value::StringValue(u64::MAX.to_string()))
        );
        assert_eq!(attr(&r, "d"), Some(&Value::DoubleValue(1.5)));
        assert_eq!(attr(&r, "b"), Some(&Value::BoolValue(true)));
        assert_eq!(attr(&r, "n"), None);
        assert_eq!(
            attr(&r, "arr"),
            Some(&Value::StringValue(r#"[1,"x"]"#.into()))
        );
        assert_eq!(
            attr(&r, "obj"),
            Some(&Value::StringValue(r#"{"k":1}"#.into()))
        );
        assert_eq!(
            attr(&r, "outflow.drain_id"),
            Some(&Value::StringValue("drn_1".into()))
        );
        assert_eq!(
            attr(&r, "outflow.data_type"),
            Some(&Value::StringValue("credit_logs".into()))
        );
        assert_eq!(r.attributes.len(), 9);
    }

    #[test]
    fn times_out_of_range_are_unknown() {
        assert_eq!(unix_nanos(chrono::Utc.timestamp_opt(-5, 0).unwrap()), 0);
        assert_eq!(
            unix_nanos(chrono::Utc.with_ymd_and_hms(2300, 1, 1, 0, 0, 0).unwrap()),
            0
        );
    }

    #[test]
    fn json_mapping() {
        let b = batch();
        let r = log_record(&b, &b.records[0], 7);
        let j = log_record_json(&r);
        assert_eq!(j["timeUnixNano"], "1700000000123456789");
        assert_eq!(j["observedTimeUnixNano"], "7");
        assert_eq!(j["severityNumber"], 9);
        assert_eq!(j["severityText"], "INFO");
        assert_eq!(j["body"], json!({"stringValue": "outflow.credit_logs"}));
        let attrs = j["attributes"].as_array().unwrap();
        let find = |k: &str| attrs.iter().find(|a| a["key"] == k).unwrap()["value"].clone();
        assert_eq!(find("i"), json!({"intValue": "-42"}));
        assert_eq!(find("d"), json!({"doubleValue": 1.5}));
        assert_eq!(find("b"), json!({"boolValue": true}));

        let (head, tail) = json_frame(&resource("org_1", &Chain::live(1, None)), &scope());
        let doc: Json = serde_json::from_str(&format!("{head}{j},{j}{tail}")).unwrap();
        let rl = &doc["resourceLogs"][0];
        assert_eq!(
            rl["resource"]["attributes"][1],
            json!({"key": "outflow.organization_id", "value": {"stringValue": "org_1"}})
        );
        assert_eq!(rl["scopeLogs"][0]["scope"]["name"], "outflow");
        assert_eq!(
            rl["scopeLogs"][0]["logRecords"].as_array().unwrap().len(),
            2
        );
        let empty: Json = serde_json::from_str(&format!("{head}{tail}")).unwrap();
        assert_eq!(
            empty["resourceLogs"][0]["scopeLogs"][0]["logRecords"],
            json!([])
        );
    }

    #[test]
    fn proto_frame_is_exact() {
        let b = batch();
        let (res, sc) = (resource("org_1", &Chain::live(1, None)), scope());
        let frame = ProtoFrame::new(&res, &sc);
        let one = log_record(&b, &b.records[0], 7);
        // Across the varint boundaries of the nested lengths (127, 16383, …).
        for n in [0, 1, 2, 3, 10, 60, 400] {
            let records = vec![one.clone(); n];
            let items: usize = records.iter().map(ProtoFrame::item_len).sum();
            let encoded = request(&res, &sc, records).encode_to_vec();
            assert_eq!(frame.total_len(items), encoded.len(), "{n} records");
        }
    }

    #[test]
    fn partial_success_both_encodings() {
        let resp = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: "too old".into(),
            }),
        };
        let pb = resp.encode_to_vec();
        assert_eq!(
            partial_success(OtlpEncoding::Protobuf, Some("application/x-protobuf"), &pb),
            Some((3, "too old".into()))
        );
        assert_eq!(
            partial_success(OtlpEncoding::Protobuf, None, &pb),
            Some((3, "too old".into()))
        );
        let j = br#"{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"bad"}}"#;
        assert_eq!(
            partial_success(OtlpEncoding::Protobuf, Some("application/json"), j),
            Some((2, "bad".into()))
        );
        let j = br#"{"partialSuccess":{"rejectedLogRecords":5}}"#;
        assert_eq!(
            partial_success(OtlpEncoding::Json, None, j),
            Some((5, String::new()))
        );
        assert_eq!(partial_success(OtlpEncoding::Json, None, b"{}"), None);
        assert_eq!(
            partial_success(OtlpEncoding::Json, None, br#"{"partialSuccess":{}}"#),
            None
        );
        assert_eq!(partial_success(OtlpEncoding::Protobuf, None, b""), None);
        let ok = ExportLogsServiceResponse::default().encode_to_vec();
        assert_eq!(partial_success(OtlpEncoding::Protobuf, None, &ok), None);
        assert_eq!(partial_success(OtlpEncoding::Json, None, b"not json"), None);
    }

    #[test]
    fn empty_requests() {
        assert!(empty_request(OtlpEncoding::Protobuf).is_empty());
        let j: Json = serde_json::from_slice(&empty_request(OtlpEncoding::Json)).unwrap();
        assert_eq!(j, json!({"resourceLogs": []}));
    }
}

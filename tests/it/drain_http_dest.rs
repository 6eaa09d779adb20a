//! The HTTP drain destination against a real local receiver: formats, headers, signatures
//! (checked by an independent implementation), idempotency keys across retries, the byte-cap
//! split, OTLP in both encodings, response classification, preflight and the SSRF guard.

use crate::http_receiver::{Receiver, Reply, verify_outflow_signature, verify_webhook};
use chrono::TimeZone;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value as AnyValue};
use outflow::domain::DataType;
use outflow::drain::batch::{Batch, DrainRecord};
use outflow::drain::dest::config::{HttpFormat, OtlpEncoding};
use outflow::drain::dest::{DestContext, Destination, DestinationConfig, SecretPayload, build};
use prost::Message as _;
use serde_json::{Value, json};
use std::time::Duration;

const SECRET_NEW: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET_OLD: &str = "an-older-plain-secret";
const AUTH: &str = "Bearer tok_drain_receiver_1234";

fn ctx() -> DestContext {
    DestContext {
        allow_private: true,
        request_timeout: Duration::from_secs(5),
    }
}

fn config(format: HttpFormat, otlp_encoding: OtlpEncoding, gzip: bool) -> DestinationConfig {
    DestinationConfig::Http {
        format,
        otlp_encoding,
        gzip,
        max_body_bytes: 1 << 20,
    }
}

fn json_config() -> DestinationConfig {
    config(HttpFormat::Json, OtlpEncoding::Protobuf, false)
}

fn secret(url: &str, authorization: Option<&str>, secrets: &[&str]) -> SecretPayload {
    SecretPayload::Http {
        url: url.into(),
        authorization: authorization.map(str::to_owned),
        signing_secrets: secrets.iter().map(|s| s.to_string()).collect(),
    }
}

fn dest(rx: &Receiver, config: &DestinationConfig, secrets: &[&str]) -> Box<dyn Destination> {
    build(
        config,
        &secret(&format!("{}/hook?token=q", rx.url), Some(AUTH), secrets),
        &ctx(),
    )
    .unwrap()
}

fn record(i: i64) -> DrainRecord {
    DrainRecord::new(
        chrono::Utc
            .timestamp_opt(1_700_000_000 + i, 123_456_789)
            .unwrap(),
        json!({
            "run_id": format!("run_{i}"),
            "credit_cost": 10 + i,
            "ratio": 0.5,
            "ok": i % 2 == 0,
            "tags": ["a", "b"],
            "user": null,
        })
        .as_object()
        .unwrap(),
    )
}

fn batch(key: &str, n: i64) -> Batch {
    Batch {
        drain_id: "drn_test".into(),
        drain_name: "Test drain".into(),
        org_id: "org_acme".into(),
        data_type: DataType::Workflows,
        first_pos: 1,
        last_pos: n,
        key: key.into(),
        records: (0..n).map(record).collect(),
        chain: outflow::drain::batch::Chain::live(7, Some("bk_0".into())),
    }
}

fn expected_fields(i: i64) -> Value {
    Value::Object(record(i).fields())
}

#[tokio::test]
async fn json_envelope_and_headers() {
    let rx = Receiver::start().await;
    let d = dest(&rx, &json_config(), &[SECRET_NEW, SECRET_OLD]);
    assert_eq!(d.max_records(), 1000);
    let delivered = d.deliver(&batch("bk_1", 3)).await.unwrap();

    let reqs = rx.requests();
    assert_eq!(rx.count(), 1);
    let r = &reqs[0];
    assert_eq!(delivered.status, Some(200));
    assert_eq!(delivered.requests, 1);
    assert_eq!(delivered.bytes, r.raw_body.len() as u64);
    assert_eq!((delivered.rejected, delivered.note.as_deref()), (0, None));

    assert_eq!(r.path, "/hook");
    assert_eq!(
        r.json(),
        json!({
            "source": "outflow",
            "drain_id": "drn_test",
            "drain_name": "Test drain",
            "data_type": "workflows",
            "seq": 7,
            "prev": "bk_0",
            "sequence": "live",
            "records": [expected_fields(0), expected_fields(1), expected_fields(2)],
        })
    );
    assert_eq!(r.header("x-outflow-batch-seq"), "7");
    assert_eq!(r.header("x-outflow-batch-prev"), "bk_0");
    assert_eq!(r.header("x-outflow-batch-space"), "live");
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("x-outflow-drain-id"), "drn_test");
    assert_eq!(r.header("x-outflow-data-type"), "workflows");
    assert_eq!(r.header("authorization"), AUTH);
    assert_eq!(r.header("webhook-id"), "bk_1");
    let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
    assert!((ts - chrono::Utc::now().timestamp()).abs() < 60, "{ts}");
    assert!(r.header("user-agent").starts_with("outflow/"));
    assert!(!r.headers.contains_key("content-encoding"));
    assert!(!r.headers.contains_key("x-outflow-preflight"));

    // Rotation: one signature per secret, each verifies on its own.
    assert_eq!(r.header("webhook-signature").split(' ').count(), 2);
    assert!(verify_webhook(SECRET_NEW, r));
    assert!(verify_webhook(SECRET_OLD, r));
    assert!(!verify_webhook("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", r));
    // X-Outflow-Signature uses the first (newest) secret.
    assert!(verify_outflow_signature(SECRET_NEW, r));
    assert!(!verify_outflow_signature(SECRET_OLD, r));
}

#[tokio::test]
async fn ndjson_one_record_per_line() {
    let rx = Receiver::start().await;
    let d = dest(
        &rx,
        &config(HttpFormat::Ndjson, OtlpEncoding::Protobuf, false),
        &[],
    );
    d.deliver(&batch("bk_nd", 4)).await.unwrap();
    let r = &rx.requests()[0];
    assert_eq!(r.header("content-type"), "application/x-ndjson");
    assert_eq!(r.ndjson(), (0..4).map(expected_fields).collect::<Vec<_>>());
    // No secrets, no signatures; the idempotency headers are always there.
    assert!(!r.headers.contains_key("webhook-signature"));
    assert!(!r.headers.contains_key("x-outflow-signature"));
    assert_eq!(r.header("webhook-id"), "bk_nd");
    assert!(r.headers.contains_key("webhook-timestamp"));

    // An empty batch sends nothing.
    let delivered = d.deliver(&batch("bk_empty", 0)).await.unwrap();
    assert_eq!((delivered.requests, delivered.status), (0, None));
    assert_eq!(rx.count(), 1);
}

#[tokio::test]
async fn gzip_bodies_are_signed_as_sent() {
    let rx = Receiver::start().await;
    let d = dest(
        &rx,
        &config(HttpFormat::Json, OtlpEncoding::Protobuf, true),
        &[SECRET_NEW, SECRET_OLD],
    );
    let delivered = d.deliver(&batch("bk_gz", 50)).await.unwrap();
    let r = &rx.requests()[0];
    assert_eq!(r.header("content-encoding"), "gzip");
    assert_ne!(r.raw_body, r.body);
    assert!(r.raw_body.len() < r.body.len());
    assert_eq!(delivered.bytes, r.raw_body.len() as u64);
    assert_eq!(r.json()["records"].as_array().unwrap().len(), 50);
    assert!(verify_webhook(SECRET_NEW, r) && verify_webhook(SECRET_OLD, r));
    assert!(verify_outflow_signature(SECRET_NEW, r));
}

#[tokio::test]
async fn a_retried_batch_keeps_its_webhook_id() {
    let rx = Receiver::start().await;
    rx.reply_next(vec![Reply::status(503).body("busy")]);
    let d = dest(&rx, &json_config(), &[SECRET_NEW]);
    let b = batch("bk_retry", 2);
    let err = d.deliver(&b).await.unwrap_err();
    assert!(!err.permanent && err.status == Some(503), "{err:?}");
    d.deliver(&b).await.unwrap();
    d.deliver(&batch("bk_other", 2)).await.unwrap();

    let reqs = rx.wait_for(Duration::from_secs(5), |r| r.len() == 3).await;
    assert_eq!(reqs[0].header("webhook-id"), "bk_retry");
    assert_eq!(reqs[1].header("webhook-id"), "bk_retry");
    assert_eq!(reqs[0].body, reqs[1].body);
    assert_eq!(reqs[2].header("webhook-id"), "bk_other");
    assert!(reqs.iter().all(|r| verify_webhook(SECRET_NEW, r)));
}

#[tokio::test]
async fn batches_over_the_byte_cap_split_with_stable_part_ids() {
    let rx = Receiver::start().await;
    // One record's fields are ~100 bytes: about three per request.
    let one = record(0).json.len();
    let cap = 130 + 3 * (one + 1);
    let cfg = DestinationConfig::Http {
        format: HttpFormat::Json,
        otlp_encoding: OtlpEncoding::Protobuf,
        gzip: false,
        max_body_bytes: cap,
    };
    let d = dest(&rx, &cfg, &[SECRET_NEW]);
    let b = batch("bk_split", 10);
    let first = d.deliver(&b).await.unwrap();
    assert!(first.requests > 1, "{first:?}");
    let parts = first.requests as usize;
    let reqs = rx.requests();
    assert_eq!(reqs.len(), parts);

    let ids: Vec<&str> = reqs.iter().map(|r| r.header("webhook-id")).collect();
    let expected: Vec<String> = (1..=parts).map(|n| format!("bk_split-{n}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(
        first.bytes,
        reqs.iter().map(|r| r.raw_body.len() as u64).sum::<u64>()
    );
    let mut all = vec![];
    for r in &reqs {
        assert!(r.body.len() <= cap, "{} > {cap}", r.body.len());
        assert!(verify_webhook(SECRET_NEW, r));
        let v = r.json();
        assert_eq!(v["drain_id"], "drn_test");
        all.extend(v["records"].as_array().unwrap().clone());
    }
    assert_eq!(all, (0..10).map(expected_fields).collect::<Vec<_>>());

    // The retry splits the same way, under the same ids.
    let again = d.deliver(&b).await.unwrap();
    assert_eq!(again.requests, first.requests);
    let retry = &rx.requests()[parts..];
    for (a, b) in reqs.iter().zip(retry) {
        assert_eq!(a.header("webhook-id"), b.header("webhook-id"));
        assert_eq!(a.body, b.body);
    }

    // A part that fails fails the delivery, and says which part it was.
    rx.reply_next(vec![Reply::status(200), Reply::status(500)]);
    let err = d.deliver(&b).await.unwrap_err();
    assert!(
        err.message.starts_with(&format!("part 2 of {parts}:")),
        "{err}"
    );

    // One record alone over the cap: permanent, and nothing is sent.
    let before = rx.count();
    let tiny = DestinationConfig::Http {
        format: HttpFormat::Json,
        otlp_encoding: OtlpEncoding::Protobuf,
        gzip: false,
        max_body_bytes: 60,
    };
    let err = dest(&rx, &tiny, &[]).deliver(&b).await.unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert!(
        err.message.contains("max_body_bytes of 60") && err.message.contains("-byte"),
        "{err}"
    );
    assert_eq!(rx.count(), before);
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

#[tokio::test]
async fn otlp_protobuf() {
    let rx = Receiver::start().await;
    let d = dest(
        &rx,
        &config(HttpFormat::Otlp, OtlpEncoding::Protobuf, true),
        &[SECRET_NEW],
    );
    let before = chrono::Utc::now().timestamp_nanos_opt().unwrap() as u64;
    let delivered = d.deliver(&batch("bk_otlp", 2)).await.unwrap();
    assert_eq!((delivered.rejected, delivered.note), (0, None));
    let r = &rx.requests()[0];
    assert_eq!(r.header("content-type"), "application/x-protobuf");
    assert!(verify_webhook(SECRET_NEW, r));

    let req = ExportLogsServiceRequest::decode(r.body.as_slice()).unwrap();
    assert_eq!(req.resource_logs.len(), 1);
    let rl = &req.resource_logs[0];
    let res = &rl.resource.as_ref().unwrap().attributes;
    assert_eq!(
        attr(res, "service.name"),
        Some(&AnyValue::StringValue("outflow".into()))
    );
    assert_eq!(
        attr(res, "outflow.organization_id"),
        Some(&AnyValue::StringValue("org_acme".into()))
    );
    assert_eq!(attr(res, "outflow.batch.seq"), Some(&AnyValue::IntValue(7)));
    assert_eq!(
        attr(res, "outflow.batch.prev"),
        Some(&AnyValue::StringValue("bk_0".into()))
    );
    assert_eq!(rl.scope_logs.len(), 1);
    let scope = rl.scope_logs[0].scope.as_ref().unwrap();
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        ("outflow", env!("CARGO_PKG_VERSION"))
    );
    let logs = &rl.scope_logs[0].log_records;
    assert_eq!(logs.len(), 2);
    let l = &logs[1];
    assert_eq!(l.time_unix_nano, 1_700_000_001_123_456_789);
    assert!(l.observed_time_unix_nano >= before);
    assert_eq!((l.severity_number, l.severity_text.as_str()), (9, "INFO"));
    assert_eq!(
        l.body.as_ref().unwrap().value,
        Some(AnyValue::StringValue("outflow.workflows".into()))
    );
    assert_eq!(
        attr(&l.attributes, "run_id"),
        Some(&AnyValue::StringValue("run_1".into()))
    );
    assert_eq!(
        attr(&l.attributes, "credit_cost"),
        Some(&AnyValue::IntValue(11))
    );
    assert_eq!(
        attr(&l.attributes, "ratio"),
        Some(&AnyValue::DoubleValue(0.5))
    );
    assert_eq!(attr(&l.attributes, "ok"), Some(&AnyValue::BoolValue(false)));
    assert_eq!(
        attr(&l.attributes, "tags"),
        Some(&AnyValue::StringValue(r#"["a","b"]"#.into()))
    );
    assert_eq!(attr(&l.attributes, "user"), None);
    assert_eq!(
        attr(&l.attributes, "outflow.drain_id"),
        Some(&AnyValue::StringValue("drn_test".into()))
    );
    assert_eq!(
        attr(&l.attributes, "outflow.data_type"),
        Some(&AnyValue::StringValue("workflows".into()))
    );
}

#[tokio::test]
async fn otlp_json_mapping() {
    let rx = Receiver::start().await;
    let d = dest(
        &rx,
        &config(HttpFormat::Otlp, OtlpEncoding::Json, false),
        &[],
    );
    d.deliver(&batch("bk_oj", 2)).await.unwrap();
    let r = &rx.requests()[0];
    assert_eq!(r.header("content-type"), "application/json");
    let v = r.json();
    let rl = &v["resourceLogs"][0];
    assert_eq!(
        rl["resource"]["attributes"],
        json!([
            {"key": "service.name", "value": {"stringValue": "outflow"}},
            {"key": "outflow.organization_id", "value": {"stringValue": "org_acme"}},
            {"key": "outflow.batch.seq", "value": {"intValue": "7"}},
            {"key": "outflow.batch.prev", "value": {"stringValue": "bk_0"}},
            {"key": "outflow.batch.sequence", "value": {"stringValue": "live"}},
        ])
    );
    assert_eq!(rl["scopeLogs"][0]["scope"]["name"], "outflow");
    let logs = rl["scopeLogs"][0]["logRecords"].as_array().unwrap();
    assert_eq!(logs.len(), 2);
    let l = &logs[0];
    // int64 as decimal strings, enums as numbers, lowerCamelCase names.
    assert_eq!(l["timeUnixNano"], "1700000000123456789");
    assert!(
        l["observedTimeUnixNano"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(l["severityNumber"], 9);
    assert_eq!(l["severityText"], "INFO");
    assert_eq!(l["body"], json!({"stringValue": "outflow.workflows"}));
    let attrs = l["attributes"].as_array().unwrap();
    let get = |k: &str| {
        attrs
            .iter()
            .find(|a| a["key"] == k)
            .map(|a| a["value"].clone())
    };
    assert_eq!(get("credit_cost"), Some(json!({"intValue": "10"})));
    assert_eq!(get("ratio"), Some(json!({"doubleValue": 0.5})));
    assert_eq!(get("ok"), Some(json!({"boolValue": true})));
    assert_eq!(get("run_id"), Some(json!({"stringValue": "run_0"})));
    assert_eq!(get("user"), None);
    assert_eq!(
        get("outflow.drain_id"),
        Some(json!({"stringValue": "drn_test"}))
    );
    assert!(!v.to_string().contains("time_unix_nano") && !v.to_string().contains("resource_logs"));
}

#[tokio::test]
async fn otlp_partial_success_is_reported_not_retried() {
    let rx = Receiver::start().await;
    let response = ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: 2,
            error_message: "timestamps too old".into(),
        }),
    };
    rx.set_default(
        Reply::status(200)
            .header("content-type", "application/x-protobuf")
            .body(response.encode_to_vec()),
    );
    let d = dest(
        &rx,
        &config(HttpFormat::Otlp, OtlpEncoding::Protobuf, false),
        &[],
    );
    let delivered = d.deliver(&batch("bk_ps", 3)).await.unwrap();
    assert_eq!(delivered.rejected, 2);
    let note = delivered.note.unwrap();
    assert!(
        note.contains("rejected 2") && note.contains("timestamps too old"),
        "{note}"
    );
    assert_eq!(rx.count(), 1);

    rx.set_default(
        Reply::status(200)
            .header("content-type", "application/json")
            .body(
                r#"{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"field too long"}}"#,
            ),
    );
    let d = dest(
        &rx,
        &config(HttpFormat::Otlp, OtlpEncoding::Json, false),
        &[],
    );
    let delivered = d.deliver(&batch("bk_ps2", 3)).await.unwrap();
    assert_eq!(delivered.rejected, 1);
    assert!(delivered.note.unwrap().contains("field too long"));

    // A 2xx with an empty body, or an empty partial_success, is plain success.
    rx.set_default(
        Reply::status(200)
            .header("content-type", "application/json")
            .body("{}"),
    );
    let delivered = d.deliver(&batch("bk_ps3", 1)).await.unwrap();
    assert_eq!((delivered.rejected, delivered.note), (0, None));
    rx.set_default(Reply::status(202));
    let delivered = d.deliver(&batch("bk_ps4", 1)).await.unwrap();
    assert_eq!((delivered.status, delivered.rejected), (Some(202), 0));
}

#[tokio::test]
async fn responses_are_classified() {
    let rx = Receiver::start().await;
    let d = dest(&rx, &json_config(), &[SECRET_NEW]);
    let b = batch("bk_err", 1);

    rx.reply_next(vec![
        Reply::status(500).body(format!("upstream exploded {}", "x".repeat(500))),
    ]);
    let err = d.deliver(&b).await.unwrap_err();
    assert!(!err.permanent && err.status == Some(500), "{err:?}");
    assert!(
        err.message.contains("HTTP 500") && err.message.contains("upstream exploded"),
        "{err}"
    );
    assert!(err.message.len() < 400, "{}", err.message.len());
    // The URL is shown as scheme, host and port: path and query may carry a token.
    assert!(
        err.message.contains(&format!("from {}:", rx.url))
            && !err.message.contains("/hook")
            && !err.message.contains("token=q"),
        "{err}"
    );

    rx.reply_next(vec![Reply::status(429).header("retry-after", "7")]);
    let err = d.deliver(&b).await.unwrap_err();
    assert!(!err.permanent && err.status == Some(429), "{err:?}");
    assert_eq!(err.retry_after, Some(Duration::from_secs(7)));

    rx.reply_next(vec![Reply::status(408)]);
    assert!(!d.deliver(&b).await.unwrap_err().permanent);

    // A receiver that echoes the request does not leak the authorization into the error.
    rx.reply_next(vec![
        Reply::status(401).body(format!("bad credentials: Authorization: {AUTH}")),
    ]);
    let err = d.deliver(&b).await.unwrap_err();
    assert!(err.permanent && err.status == Some(401), "{err:?}");
    assert!(!err.message.contains("tok_drain_receiver_1234"), "{err}");
    assert!(!format!("{err:?}").contains("tok_drain_receiver_1234"));

    rx.reply_next(vec![Reply::status(413)]);
    assert!(d.deliver(&b).await.unwrap_err().permanent);

    // Redirects are not followed (they could lead anywhere, private addresses included).
    rx.reply_next(vec![
        Reply::status(302).header("location", "http://127.0.0.1:1/elsewhere"),
    ]);
    let err = d.deliver(&b).await.unwrap_err();
    assert!(err.permanent && err.message.contains("redirect"), "{err}");
    assert_eq!(rx.count(), 6);

    // Timeouts and closed ports are transient.
    rx.reply_next(vec![Reply::status(200).delay(Duration::from_secs(3))]);
    let slow = build(
        &json_config(),
        &secret(&format!("{}/hook", rx.url), None, &[]),
        &DestContext {
            allow_private: true,
            request_timeout: Duration::from_millis(300),
        },
    )
    .unwrap();
    let err = slow.deliver(&b).await.unwrap_err();
    assert!(!err.permanent && err.status.is_none(), "{err:?}");
    assert_eq!(
        err.message,
        format!("timed out after 0.3 s waiting for {}", rx.url)
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let gone = build(
        &json_config(),
        &secret(&format!("http://{closed}/"), None, &[]),
        &ctx(),
    )
    .unwrap();
    let err = gone.deliver(&b).await.unwrap_err();
    assert!(!err.permanent && err.status.is_none(), "{err:?}");
    assert_eq!(err.message, format!("connection refused at {closed}"));
}

#[tokio::test]
async fn preflight_probes_are_recognisable_and_signed() {
    let rx = Receiver::start().await;
    let d = dest(&rx, &json_config(), &[SECRET_NEW, SECRET_OLD]);
    d.preflight("drn_new").await.unwrap();
    let r = &rx.requests()[0];
    assert_eq!(r.header("x-outflow-preflight"), "1");
    assert!(r.header("webhook-id").starts_with("preflight-"));
    assert_eq!(r.header("x-outflow-drain-id"), "drn_new");
    assert_eq!(r.header("authorization"), AUTH);
    assert_eq!(
        r.json(),
        json!({"source": "outflow", "type": "outflow.preflight", "drain_id": "drn_new"})
    );
    assert!(verify_webhook(SECRET_NEW, r) && verify_webhook(SECRET_OLD, r));
    assert!(verify_outflow_signature(SECRET_NEW, r));

    // Each probe has its own id.
    d.preflight("drn_new").await.unwrap();
    let reqs = rx.requests();
    assert_ne!(reqs[0].header("webhook-id"), reqs[1].header("webhook-id"));

    let nd = dest(
        &rx,
        &config(HttpFormat::Ndjson, OtlpEncoding::Protobuf, true),
        &[],
    );
    nd.preflight("drn_nd").await.unwrap();
    let r = rx.requests().pop().unwrap();
    assert_eq!(
        r.ndjson(),
        vec![json!({"source": "outflow", "type": "outflow.preflight", "drain_id": "drn_nd"})]
    );

    let otlp = dest(
        &rx,
        &config(HttpFormat::Otlp, OtlpEncoding::Protobuf, false),
        &[SECRET_NEW],
    );
    otlp.preflight("drn_o").await.unwrap();
    let r = rx.requests().pop().unwrap();
    assert_eq!(r.header("content-type"), "application/x-protobuf");
    assert_eq!(r.header("x-outflow-preflight"), "1");
    assert_eq!(
        ExportLogsServiceRequest::decode(r.body.as_slice()).unwrap(),
        ExportLogsServiceRequest::default()
    );
    assert!(verify_webhook(SECRET_NEW, &r));

    let oj = dest(
        &rx,
        &config(HttpFormat::Otlp, OtlpEncoding::Json, false),
        &[],
    );
    oj.preflight("drn_oj").await.unwrap();
    assert_eq!(
        rx.requests().pop().unwrap().json(),
        json!({"resourceLogs": []})
    );

    rx.reply_next(vec![Reply::status(403).body("forbidden")]);
    let err = d.preflight("drn_new").await.unwrap_err();
    assert!(
        err.permanent && err.status == Some(403) && err.message.contains("forbidden"),
        "{err}"
    );
}

#[tokio::test]
async fn private_destinations_are_refused_unless_allowed() {
    let rx = Receiver::start().await;
    let guarded = DestContext {
        allow_private: false,
        request_timeout: Duration::from_secs(5),
    };
    let port = rx.url.rsplit(':').next().unwrap().to_owned();

    // An IP literal: refused when the destination is built.
    let err = build(
        &json_config(),
        &secret(&format!("{}/hook", rx.url), None, &[]),
        &guarded,
    )
    .err()
    .expect("127.0.0.1 is refused");
    assert!(
        err.contains("127.0.0.1") && err.contains("loopback"),
        "{err}"
    );
    assert!(err.contains("allow_private_destinations"), "{err}");

    // A name: refused when it resolves, at send time, permanently.
    let d = build(
        &json_config(),
        &secret(
            &format!("http://localhost:{port}/hook"),
            Some(AUTH),
            &[SECRET_NEW],
        ),
        &guarded,
    )
    .unwrap();
    let err = d.deliver(&batch("bk_ssrf", 1)).await.unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert!(
        err.message.contains("`localhost` resolves to a private"),
        "{err}"
    );
    assert!(err.message.contains("allow_private_destinations"), "{err}");
    let err = d.preflight("drn_test").await.unwrap_err();
    assert!(
        err.permanent && err.message.contains("allow_private_destinations"),
        "{err}"
    );
    assert_eq!(rx.count(), 0);

    // The same name with private destinations allowed reaches the receiver.
    let d = build(
        &json_config(),
        &secret(&format!("http://localhost:{port}/hook"), None, &[]),
        &ctx(),
    )
    .unwrap();
    // `localhost` may resolve to ::1 first where the receiver (127.0.0.1) is not listening;
    // reqwest tries every address, so this still arrives.
    d.deliver(&batch("bk_local", 1)).await.unwrap();
    rx.wait_for(Duration::from_secs(5), |r| {
        r.iter().any(|r| r.header("webhook-id") == "bk_local")
    })
    .await;
}

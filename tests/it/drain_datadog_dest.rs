//! The Datadog destination against the local intake of `datadog_receiver`: what an entry
//! carries, how batches split at the intake's limits, truncation of oversized records, how
//! responses are classified, and the API key check of the preflight.

use crate::datadog_receiver::{self, DatadogReceiver};
use chrono::{DateTime, Utc};
use outflow::domain::DataType;
use outflow::drain::batch::{Batch, DrainRecord};
use outflow::drain::dest::{self, DestContext, Destination, DestinationConfig, SecretPayload};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const API_KEY: &str = "dd-test-api-key-0123456789abcdef";

fn ctx() -> DestContext {
    DestContext {
        // The receiver listens on 127.0.0.1.
        allow_private: true,
        request_timeout: Duration::from_secs(10),
    }
}

fn config(rx: &DatadogReceiver, tags: &[&str]) -> DestinationConfig {
    DestinationConfig::Datadog {
        site: "datadoghq.eu".into(),
        service: None,
        source: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        intake_url: Some(rx.intake_url()),
    }
}

fn destination(rx: &DatadogReceiver, key: &str) -> Box<dyn Destination> {
    let secret = SecretPayload::Datadog {
        api_key: key.into(),
    };
    dest::build(&config(rx, &["env:test"]), &secret, &ctx()).unwrap()
}

fn time(n: usize) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_772_323_200_000 + n as i64 * 1_000).unwrap()
}

fn batch(records: Vec<Value>) -> Batch {
    Batch {
        drain_id: "drn_dd1".into(),
        drain_name: "Usage to Datadog".into(),
        org_id: "acme".into(),
        data_type: DataType::CreditLogs,
        first_pos: 100,
        last_pos: 100 + records.len() as i64,
        key: "batch-key-1".into(),
        chain: outflow::drain::batch::Chain::live(1, None),
        records: records
            .into_iter()
            .enumerate()
            .map(|(n, v)| DrainRecord::new(time(n), v.as_object().unwrap()))
            .collect(),
    }
}

fn numbered(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"entry_id": format!("e{i}"), "credits": i}))
        .collect()
}

fn message(entry: &Value) -> Value {
    serde_json::from_str(entry["message"].as_str().unwrap()).unwrap()
}

async fn entries(rx: &DatadogReceiver, n: usize) -> Vec<Value> {
    rx.wait_for(Instant::now() + Duration::from_secs(5), |e| e.len() >= n)
        .await
}

#[tokio::test]
async fn a_batch_arrives_as_one_entry_per_record_with_the_drains_attributes() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    let b = batch(numbered(3));
    let delivered = d.deliver(&b).await.unwrap();
    assert_eq!(delivered.status, Some(202));
    assert_eq!(delivered.requests, 1);
    assert!(delivered.bytes > 0);
    assert_eq!(delivered.note, None);

    let got = entries(&rx, 3).await;
    assert_eq!(got.len(), 3);
    for (n, entry) in got.iter().enumerate() {
        assert_eq!(entry["ddsource"], "outflow");
        assert_eq!(entry["service"], "outflow.credit_logs");
        assert_eq!(entry["hostname"], "outflow");
        assert_eq!(
            entry["ddtags"],
            "drain_id:drn_dd1,drain_name:Usage_to_Datadog,data_type:credit_logs,schema:credit_logs_1,env:test"
        );
        assert_eq!(entry["outflow_schema"], "credit_logs@1");
        assert_eq!(entry["outflow_batch_seq"], 1);
        assert_eq!(entry["outflow_batch_sequence"], "live");
        assert!(
            entry.get("outflow_batch_prev").is_none(),
            "the first batch has none"
        );
        assert_eq!(entry["timestamp"], time(n).timestamp_millis());
        assert_eq!(message(entry), Value::Object(b.records[n].fields()));
        assert!(entry.get("outflow_truncated").is_none());
    }
}

#[tokio::test]
async fn service_and_source_come_from_the_drain_not_the_record() {
    let rx = datadog_receiver::start(API_KEY).await;
    let config = DestinationConfig::Datadog {
        site: "US1".into(),
        service: Some("usage".into()),
        source: Some("platform".into()),
        tags: vec![],
        intake_url: Some(rx.intake_url()),
    };
    let secret = SecretPayload::Datadog {
        api_key: API_KEY.into(),
    };
    let d = dest::build(&config, &secret, &ctx()).unwrap();
    d.deliver(&batch(vec![
        json!({"service": "evil", "ddtags": "drain_id:other"}),
    ]))
    .await
    .unwrap();
    let got = entries(&rx, 1).await;
    assert_eq!(got[0]["service"], "usage");
    assert_eq!(got[0]["ddsource"], "platform");
    assert_eq!(
        got[0]["ddtags"],
        "drain_id:drn_dd1,drain_name:Usage_to_Datadog,data_type:credit_logs,schema:credit_logs_1"
    );
    assert_eq!(message(&got[0])["service"], "evil");
}

#[tokio::test]
async fn a_batch_over_1000_entries_is_split_into_requests_in_order() {
    // The engine hands Datadog at most `max_records` (1,000) per batch; the destination
    // still splits whatever it is given.
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    assert_eq!(d.max_records(), 1000);
    let delivered = d.deliver(&batch(numbered(2_500))).await.unwrap();
    assert_eq!(delivered.requests, 3);
    assert_eq!(rx.requests(), 3);
    let got = entries(&rx, 2_500).await;
    let ids: Vec<String> = got
        .iter()
        .map(|e| message(e)["entry_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, (0..2_500).map(|i| format!("e{i}")).collect::<Vec<_>>());
    assert!(rx.violations().is_empty(), "{:?}", rx.violations());
}

#[tokio::test]
async fn a_retry_of_a_split_batch_sends_only_the_parts_not_yet_accepted() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    let b = batch(numbered(2_500));
    // The second of three requests fails: the first was accepted.
    rx.reply_at(2, 500);
    let e = d.deliver(&b).await.unwrap_err();
    assert!(!e.permanent && e.status == Some(500), "{e:?}");
    assert!(e.message.contains("request 2 of 3"), "{}", e.message);
    assert_eq!(rx.entries().len(), 1_000);

    // The retry (same batch, same key) sends requests 2 and 3 only.
    let delivered = d.deliver(&b).await.unwrap();
    assert_eq!(delivered.requests, 2);
    assert_eq!(rx.requests(), 4, "1 accepted + 1 failed + the 2 remaining");
    let note = delivered.note.unwrap_or_default();
    assert!(note.starts_with("1 of 3 request(s)"), "{note}");
    let got = entries(&rx, 2_500).await;
    let ids: Vec<String> = got
        .iter()
        .map(|e| message(e)["entry_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        (0..2_500).map(|i| format!("e{i}")).collect::<Vec<_>>(),
        "every record exactly once, in order"
    );

    // Once delivered whole, the batch is forgotten: delivering it again (a replay under the
    // same key, say) sends every part.
    assert_eq!(d.deliver(&b).await.unwrap().requests, 3);
    // Another batch with the same content under its own key keeps its own progress.
    let mut other = b.clone();
    other.key = "batch-key-2".into();
    rx.reply_at(9, 503);
    d.deliver(&other).await.unwrap_err();
    assert_eq!(d.deliver(&other).await.unwrap().requests, 2);
}

#[tokio::test]
async fn large_records_are_split_at_5_mb_per_request() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    // 12 records of ~800 KB: about 9.6 MB, so at least two requests, six per request at most.
    let records: Vec<Value> = (0..12)
        .map(|i| json!({"entry_id": format!("e{i}"), "pad": "x".repeat(800_000)}))
        .collect();
    let delivered = d.deliver(&batch(records)).await.unwrap();
    assert!(delivered.requests >= 2, "{delivered:?}");
    assert_eq!(rx.requests() as u32, delivered.requests);
    assert!(rx.violations().is_empty(), "{:?}", rx.violations());
    let got = entries(&rx, 12).await;
    let ids: Vec<String> = got
        .iter()
        .map(|e| message(e)["entry_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, (0..12).map(|i| format!("e{i}")).collect::<Vec<_>>());
    assert_eq!(delivered.note, None);
}

#[tokio::test]
async fn an_oversized_record_is_truncated_and_marked_not_refused() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    let records = vec![
        json!({"entry_id": "big", "pad": "y".repeat(1_500_000)}),
        json!({"entry_id": "small"}),
    ];
    let delivered = d.deliver(&batch(records)).await.unwrap();
    assert!(rx.violations().is_empty(), "{:?}", rx.violations());
    let note = delivered.note.expect("the truncation is noted");
    assert!(note.starts_with("1 record(s)"), "{note}");

    let got = entries(&rx, 2).await;
    let big = &got[0];
    assert_eq!(big["outflow_truncated"], true);
    assert!(big["ddtags"].as_str().unwrap().ends_with(",truncated:true"));
    let text = big["message"].as_str().unwrap();
    assert!(
        text.starts_with("{\"entry_id\":\"big\",\"pad\":\"yyy"),
        "{}",
        &text[..40]
    );
    assert!(
        text.len() < 1_000_000 && text.len() > 900_000,
        "{}",
        text.len()
    );
    assert!(serde_json::to_vec(big).unwrap().len() <= datadog_receiver::MAX_LOG_BYTES);
    assert!(got[1].get("outflow_truncated").is_none());
    assert_eq!(message(&got[1])["entry_id"], "small");
}

#[tokio::test]
async fn a_rejected_api_key_is_a_permanent_error_without_the_key() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, "dd-wrong-key-fedcba9876543210");
    let err = d.deliver(&batch(numbered(1))).await.unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert_eq!(err.status, Some(403));
    assert!(
        err.message.contains("rejected the API key"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("dd-wrong-key"), "{}", err.message);
}

#[tokio::test]
async fn a_429_is_transient_and_passes_retry_after_on() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    rx.reply_next(vec![(429, Some("7".into()))]);
    let err = d.deliver(&batch(numbered(2))).await.unwrap_err();
    assert!(!err.permanent, "{err:?}");
    assert_eq!(err.status, Some(429));
    assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
    // The retry of the same batch goes through.
    d.deliver(&batch(numbered(2))).await.unwrap();
    assert_eq!(entries(&rx, 2).await.len(), 2);
}

#[tokio::test]
async fn a_500_is_transient_and_a_400_permanent() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    rx.reply_next(vec![(500, None), (400, None), (413, None), (408, None)]);
    let e500 = d.deliver(&batch(numbered(1))).await.unwrap_err();
    assert!(!e500.permanent && e500.status == Some(500), "{e500:?}");
    assert_eq!(e500.retry_after, None);
    let e400 = d.deliver(&batch(numbered(1))).await.unwrap_err();
    assert!(e400.permanent && e400.status == Some(400), "{e400:?}");
    let e413 = d.deliver(&batch(numbered(1))).await.unwrap_err();
    assert!(e413.permanent && e413.status == Some(413), "{e413:?}");
    let e408 = d.deliver(&batch(numbered(1))).await.unwrap_err();
    assert!(!e408.permanent && e408.status == Some(408), "{e408:?}");
}

#[tokio::test]
async fn a_failure_after_a_split_names_the_request_that_failed() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    rx.reply_next(vec![(202, None), (503, None)]);
    let err = d.deliver(&batch(numbered(1_500))).await.unwrap_err();
    assert!(!err.permanent);
    assert!(
        err.message.starts_with("request 2 of 2 failed"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn an_unreachable_intake_is_transient() {
    let rx = datadog_receiver::start(API_KEY).await;
    let d = destination(&rx, API_KEY);
    let url = rx.url.clone();
    drop(rx);
    crate::helpers::wait_refused(&url).await;
    let err = d.deliver(&batch(numbered(1))).await.unwrap_err();
    assert!(!err.permanent, "{err:?}");
    assert_eq!(err.status, None);
}

#[tokio::test]
async fn the_ssrf_guard_refuses_a_private_intake_permanently() {
    let rx = datadog_receiver::start(API_KEY).await;
    let port = rx.url.rsplit(':').next().unwrap();
    let config = DestinationConfig::Datadog {
        site: "datadoghq.com".into(),
        service: None,
        source: None,
        tags: vec![],
        intake_url: Some(format!("http://localhost:{port}/api/v2/logs")),
    };
    let secret = SecretPayload::Datadog {
        api_key: API_KEY.into(),
    };
    let guarded = DestContext {
        allow_private: false,
        ..ctx()
    };
    let d = dest::build(&config, &secret, &guarded).unwrap();
    let err = d.deliver(&batch(numbered(1))).await.unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert!(
        err.message.contains("allow_private_destinations"),
        "{}",
        err.message
    );
    let err = d.preflight("drn_dd1").await.unwrap_err();
    assert!(
        err.permanent && err.message.contains("allow_private_destinations"),
        "{err:?}"
    );
    assert_eq!(rx.requests(), 0);
}

#[tokio::test]
async fn preflight_validates_the_api_key() {
    let rx = datadog_receiver::start(API_KEY).await;
    destination(&rx, API_KEY)
        .preflight("drn_dd1")
        .await
        .unwrap();
    let err = destination(&rx, "dd-wrong-key-fedcba9876543210")
        .preflight("drn_dd1")
        .await
        .unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert_eq!(err.status, Some(403));
    assert!(
        err.message.starts_with("Datadog rejected the API key"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("dd-wrong-key"), "{}", err.message);
    assert_eq!(rx.requests(), 0, "the preflight sends no logs");
}

#[tokio::test]
async fn an_unknown_site_is_refused_with_the_list_of_sites() {
    let config = DestinationConfig::Datadog {
        site: "datadoghq.io".into(),
        service: None,
        source: None,
        tags: vec![],
        intake_url: None,
    };
    let secret = SecretPayload::Datadog {
        api_key: API_KEY.into(),
    };
    let err = dest::build(&config, &secret, &ctx()).err().unwrap();
    assert!(err.contains("unknown Datadog site `datadoghq.io`"), "{err}");
    for site in [
        "datadoghq.com",
        "us3.datadoghq.com",
        "us5.datadoghq.com",
        "datadoghq.eu",
        "ap1.datadoghq.com",
        "ap2.datadoghq.com",
        "uk1.datadoghq.com",
        "ddog-gov.com",
        "us2.ddog-gov.com",
    ] {
        assert!(err.contains(site), "{site} missing from: {err}");
    }
}

//! The S3 destination against a real S3 server (s3s-fs with SigV4 checked, from `s3`): the
//! key layout, both formats, retries overwriting their own object, the per-batch manifests,
//! credential errors and the preflight probe.

use crate::s3::{ACCESS_KEY, BUCKET, S3Server, SECRET_KEY, start_s3};
use chrono::{DateTime, TimeZone, Utc};
use flate2::read::GzDecoder;
use outflow::domain::DataType;
use outflow::drain::batch::{Batch, Chain, DrainRecord};
use outflow::drain::dest::config::S3Format;
use outflow::drain::dest::{self, DestContext, Destination, DestinationConfig, SecretPayload};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn ctx() -> DestContext {
    DestContext {
        // s3s-fs listens on 127.0.0.1.
        allow_private: true,
        request_timeout: Duration::from_secs(10),
    }
}

fn secret(secret_key: &str) -> SecretPayload {
    SecretPayload::Aws {
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: secret_key.into(),
        session_token: None,
    }
}

fn config(s3: &S3Server, prefix: &str, format: S3Format) -> DestinationConfig {
    DestinationConfig::S3 {
        bucket: BUCKET.into(),
        prefix: prefix.into(),
        region: Some("us-east-1".into()),
        endpoint: Some(s3.endpoint.clone()),
        format,
    }
}

fn destination(s3: &S3Server, prefix: &str, format: S3Format) -> Box<dyn Destination> {
    dest::build(&config(s3, prefix, format), &secret(SECRET_KEY), &ctx()).unwrap()
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 30, 0).unwrap()
}

fn batch(first_pos: i64, times: &[DateTime<Utc>]) -> Batch {
    Batch {
        drain_id: "drn_s3a".into(),
        drain_name: "Usage to S3".into(),
        org_id: "acme".into(),
        data_type: DataType::Workflows,
        first_pos,
        last_pos: first_pos + times.len() as i64 - 1,
        key: format!("batch-{first_pos}"),
        chain: Chain::live(1, None),
        records: times
            .iter()
            .enumerate()
            .map(|(i, t)| {
                DrainRecord::new(
                    *t,
                    json!({"run_id": format!("r{}", first_pos + i as i64), "credit_cost": i})
                        .as_object()
                        .unwrap(),
                )
            })
            .collect(),
    }
}

fn object(s3: &S3Server, key: &str) -> Vec<u8> {
    let path = s3.root.path().join(BUCKET).join(key);
    std::fs::read(&path).unwrap_or_else(|e| panic!("object {key}: {e}"))
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    GzDecoder::new(bytes).read_to_string(&mut text).unwrap();
    text
}

/// Every object in the bucket (files, not folders), relative to it.
fn objects(s3: &S3Server) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path: PathBuf = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let root = s3.root.path().join(BUCKET);
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn a_batch_becomes_one_gzip_ndjson_object_under_the_day_of_its_first_record() {
    let s3 = start_s3().await;
    let d = destination(&s3, "/usage/acme/", S3Format::Ndjson);
    assert_eq!(d.max_records(), 5000);
    // The batch straddles midnight: it stays whole, under the first record's day.
    let b = batch(7, &[at(1, 23), at(2, 0)]);
    let delivered = d.deliver(&b).await.unwrap();
    let key = "usage/acme/workflows/dt=2026-03-01/drn_s3a-7-8.ndjson.gz";
    assert_eq!(delivered.object_key.as_deref(), Some(key));
    assert_eq!(delivered.status, Some(200));
    assert_eq!(delivered.requests, 2);

    let bytes = object(&s3, key);
    assert_eq!(
        delivered.sha256.as_deref(),
        Some(sha256_hex(&bytes).as_str())
    );
    assert!(
        delivered.bytes > bytes.len() as u64,
        "object and manifest are counted"
    );
    let lines: Vec<Value> = gunzip(&bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: Vec<Value> = b.records.iter().map(|r| r.fields().into()).collect();
    assert_eq!(lines, expected);
}

#[tokio::test]
async fn the_json_format_writes_the_envelope_and_an_empty_prefix_no_leading_slash() {
    let s3 = start_s3().await;
    let d = destination(&s3, "", S3Format::Json);
    let b = batch(1, &[at(5, 10), at(5, 11), at(5, 12)]);
    let delivered = d.deliver(&b).await.unwrap();
    let key = "workflows/dt=2026-03-05/drn_s3a-1-3.json";
    assert_eq!(delivered.object_key.as_deref(), Some(key));
    let envelope: Value = serde_json::from_slice(&object(&s3, key)).unwrap();
    assert_eq!(
        envelope,
        json!({"source": "outflow", "drain_id": "drn_s3a", "drain_name": "Usage to S3",
               "data_type": "workflows", "seq": 1, "prev": null, "sequence": "live",
               "records": [{"run_id": "r1", "credit_cost": 0}, {"run_id": "r2", "credit_cost": 1},
                           {"run_id": "r3", "credit_cost": 2}]})
    );
}

#[tokio::test]
async fn a_retried_batch_overwrites_its_object_and_each_batch_has_one_manifest() {
    let s3 = start_s3().await;
    let d = destination(&s3, "drains", S3Format::Ndjson);
    let first = batch(1, &[at(3, 1), at(3, 2)]);
    let mut second = batch(3, &[at(4, 4)]);
    second.chain = Chain::live(2, Some("batch-1".into()));
    let a = d.deliver(&first).await.unwrap();
    let b = d.deliver(&second).await.unwrap();
    let before = objects(&s3)
        .iter()
        .map(|k| (k.clone(), object(&s3, k)))
        .collect::<Vec<_>>();
    let again = d.deliver(&first).await.unwrap();
    assert_eq!(again.object_key, a.object_key);
    assert_eq!(
        again.sha256, a.sha256,
        "the same batch encodes to the same bytes"
    );

    let manifests = "drains/workflows/_manifests/drn_s3a/live";
    assert_eq!(
        objects(&s3),
        [
            format!("{manifests}/0000000001.json"),
            format!("{manifests}/0000000002.json"),
            "drains/workflows/dt=2026-03-03/drn_s3a-1-2.ndjson.gz".to_string(),
            "drains/workflows/dt=2026-03-04/drn_s3a-3-3.ndjson.gz".to_string(),
        ]
    );
    // The retry rewrote the very same bytes: objects and manifests alike.
    for (key, bytes) in before {
        assert_eq!(object(&s3, &key), bytes, "{key}");
    }

    for (seq, (delivered, first_pos, last_pos, records)) in
        [(&a, 1, 2, 2), (&b, 3, 3, 1)].into_iter().enumerate()
    {
        let seq = seq + 1;
        let manifest: Value =
            serde_json::from_slice(&object(&s3, &format!("{manifests}/{seq:010}.json"))).unwrap();
        assert_eq!(manifest["drain_id"], "drn_s3a");
        assert_eq!(manifest["data_type"], "workflows");
        assert_eq!(manifest["sequence"], "live");
        assert_eq!(manifest["seq"], seq);
        assert_eq!(manifest["batch_key"], format!("batch-{first_pos}"));
        let key = manifest["key"].as_str().unwrap();
        assert_eq!(Some(key), delivered.object_key.as_deref());
        let bytes = object(&s3, key);
        assert_eq!(
            manifest["sha256"],
            sha256_hex(&bytes),
            "recomputed from the object"
        );
        assert_eq!(manifest["bytes"], bytes.len());
        assert_eq!(manifest["first_pos"], first_pos);
        assert_eq!(manifest["last_pos"], last_pos);
        assert_eq!(manifest["records"], records);
    }
    let second: Value =
        serde_json::from_slice(&object(&s3, &format!("{manifests}/0000000002.json"))).unwrap();
    assert_eq!(second["prev"], "batch-1", "each names the batch before it");
}

#[tokio::test]
async fn wrong_credentials_are_a_permanent_error_that_names_no_secret() {
    let s3 = start_s3().await;
    let d = dest::build(
        &config(&s3, "drains", S3Format::Ndjson),
        &secret("not-the-secret-key"),
        &ctx(),
    )
    .unwrap();
    let err = d.deliver(&batch(1, &[at(1, 1)])).await.unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert_eq!(err.status, Some(403));
    assert!(
        err.message
            .starts_with("writing the object `drains/workflows/"),
        "{}",
        err.message
    );
    for secret in ["not-the-secret-key", ACCESS_KEY] {
        assert!(!err.message.contains(secret), "{}", err.message);
    }
    let err = d.preflight("drn_s3a").await.unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert!(
        err.message
            .starts_with("preflight: writing the probe object"),
        "{}",
        err.message
    );
    assert!(
        !err.message.contains("not-the-secret-key"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient() {
    let s3 = start_s3().await;
    let d = destination(&s3, "drains", S3Format::Ndjson);
    let endpoint = s3.endpoint.clone();
    drop(s3);
    crate::helpers::wait_refused(&endpoint).await;
    let err = d.deliver(&batch(1, &[at(1, 1)])).await.unwrap_err();
    assert!(!err.permanent, "{err:?}");
    assert_eq!(err.status, None);
}

#[tokio::test]
async fn preflight_writes_and_deletes_its_probe() {
    let s3 = start_s3().await;
    let d = destination(&s3, "drains/acme", S3Format::Ndjson);
    d.preflight("drn_s3a").await.unwrap();
    let left = objects(&s3);
    assert!(left.is_empty(), "no probe object is left: {left:?}");
}

#[tokio::test]
async fn the_ssrf_guard_refuses_a_private_endpoint_at_delivery_and_preflight() {
    let s3 = start_s3().await;
    let guarded = DestContext {
        allow_private: false,
        ..ctx()
    };
    // An IP literal is refused when the destination is built.
    let err = dest::build(
        &config(&s3, "", S3Format::Ndjson),
        &secret(SECRET_KEY),
        &guarded,
    )
    .err()
    .unwrap();
    assert!(err.contains("allow_private_destinations"), "{err}");
    // A name is refused when it resolves, whichever way the request goes.
    let by_name = DestinationConfig::S3 {
        bucket: BUCKET.into(),
        prefix: String::new(),
        region: None,
        endpoint: Some(s3.endpoint.replace("127.0.0.1", "localhost")),
        format: S3Format::Ndjson,
    };
    let d = dest::build(&by_name, &secret(SECRET_KEY), &guarded).unwrap();
    let err = d.deliver(&batch(1, &[at(1, 1)])).await.unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert!(
        err.message.contains("allow_private_destinations"),
        "{}",
        err.message
    );
    let err = d.preflight("drn_s3a").await.unwrap_err();
    assert!(
        err.permanent && err.message.contains("allow_private_destinations"),
        "{err:?}"
    );
    assert!(objects(&s3).is_empty());
}

#[tokio::test]
async fn a_batch_object_names_its_schema_in_its_metadata() {
    use object_store::{Attribute, ObjectStoreExt as _};
    let s3 = start_s3().await;
    let d = destination(&s3, "schema", S3Format::Json);
    let delivered = d.deliver(&batch(1, &[at(1, 12)])).await.unwrap();
    let key = delivered.object_key.unwrap();
    // Read back through an S3 client, as a receiver would: `x-amz-meta-outflow-schema`.
    let store = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(BUCKET)
        .with_region("us-east-1")
        .with_endpoint(&s3.endpoint)
        .with_allow_http(true)
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET_KEY)
        .build()
        .unwrap();
    let got = store
        .get(&object_store::path::Path::from(key.as_str()))
        .await
        .unwrap();
    let schema = got
        .attributes
        .get(&Attribute::Metadata("outflow-schema".into()))
        .map(|v| v.as_ref().to_string());
    assert_eq!(schema.as_deref(), Some("workflows@1"));
    let meta = |name: &str| {
        got.attributes
            .get(&Attribute::Metadata(name.to_string().into()))
            .map(|v| v.as_ref().to_string())
    };
    assert_eq!(meta("outflow-batch-seq").as_deref(), Some("1"));
    assert_eq!(meta("outflow-batch-sequence").as_deref(), Some("live"));
    assert_eq!(meta("outflow-batch-prev"), None, "the first batch has none");
}

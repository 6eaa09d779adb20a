//! The GCS and Azure Blob destinations, and Parquet objects, against real emulators (see
//! `objstore`): the S3 key layout, per-batch manifests and retries that rewrite their own
//! object, the preflight probe, credential errors, Parquet read back with the parquet crate
//! (rows and column types), and drains created through the API delivering end to end on both
//! backends.

use crate::both_backends;
use crate::drain_support::Ctx;
use crate::helpers::*;
use crate::objstore::{
    AZURE_ACCOUNT, AZURE_KEY, Emulator, GCS_BUCKET, GCS_KEY, create_container, start_azurite,
    start_gcs,
};
use arrow_array::{Array, Float64Array, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType as ArrowType, TimeUnit};
use chrono::{DateTime, TimeZone, Utc};
use outflow::domain::DataType;
use outflow::drain::batch::{Batch, Chain, DrainRecord};
use outflow::drain::dest::config::S3Format;
use outflow::drain::dest::s3::{self as objdest, BatchManifest, S3Destination};
use outflow::drain::dest::{self, DestContext, DestinationConfig, SecretPayload};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;

const CONTAINER: &str = "outflow-drains";

fn dest_ctx() -> DestContext {
    DestContext {
        // The emulators listen on 127.0.0.1.
        allow_private: true,
        request_timeout: Duration::from_secs(10),
    }
}

fn gcs_config(gcs: &Emulator, format: S3Format) -> DestinationConfig {
    DestinationConfig::Gcs {
        bucket: GCS_BUCKET.into(),
        prefix: "usage".into(),
        endpoint: Some(gcs.endpoint.clone()),
        format,
    }
}

fn gcs_secret() -> SecretPayload {
    SecretPayload::Gcp {
        service_account_json: GCS_KEY.into(),
    }
}

fn azure_config(azurite: &Emulator, format: S3Format) -> DestinationConfig {
    DestinationConfig::AzureBlob {
        account: AZURE_ACCOUNT.into(),
        container: CONTAINER.into(),
        prefix: "usage".into(),
        endpoint: Some(azurite.endpoint.clone()),
        format,
    }
}

fn azure_secret(key: &str) -> SecretPayload {
    SecretPayload::Azure {
        access_key: Some(key.into()),
        sas_token: None,
    }
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 30, 0).unwrap()
}

fn batch(first_pos: i64, seq: i64, prev: Option<&str>, times: &[DateTime<Utc>]) -> Batch {
    Batch {
        drain_id: "drn_obj".into(),
        drain_name: "Usage to object storage".into(),
        org_id: "acme".into(),
        data_type: DataType::Workflows,
        first_pos,
        last_pos: first_pos + times.len() as i64 - 1,
        key: format!("batch-{first_pos}"),
        chain: Chain::live(seq, prev.map(Into::into)),
        records: times
            .iter()
            .enumerate()
            .map(|(i, t)| {
                DrainRecord::new(
                    *t,
                    json!({
                        "run_id": format!("r{}", first_pos + i as i64),
                        "credit_cost": i as f64 + 0.5,
                        "pl_run_created_ts": t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                    })
                    .as_object()
                    .unwrap(),
                )
            })
            .collect(),
    }
}

/// Every object under the destination's prefix, key → bytes (read through the destination,
/// as `outflow verify` does).
async fn objects(d: &S3Destination) -> BTreeMap<String, Vec<u8>> {
    d.read_all("workflows", |_| true)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Two batches and a retry of the first: the S3 layout, one manifest per batch, the retry
/// rewriting the same bytes, and a passing preflight that leaves no probe behind.
async fn layout_manifests_and_retries(d: S3Destination) {
    d_preflight(&d).await;
    let first = batch(1, 1, None, &[at(3, 1), at(3, 2)]);
    let second = batch(3, 2, Some("batch-1"), &[at(4, 4)]);
    let a = dest_of(&d).deliver(&first).await.unwrap();
    dest_of(&d).deliver(&second).await.unwrap();
    let before = objects(&d).await;
    let again = dest_of(&d).deliver(&first).await.unwrap();
    assert_eq!(again.object_key, a.object_key);
    assert_eq!(again.sha256, a.sha256, "a retry writes the same bytes");

    let manifests = "usage/workflows/_manifests/drn_obj/live";
    let after = objects(&d).await;
    assert_eq!(
        after.keys().cloned().collect::<Vec<_>>(),
        [
            format!("{manifests}/0000000001.json"),
            format!("{manifests}/0000000002.json"),
            "usage/workflows/dt=2026-03-03/drn_obj-1-2.ndjson.gz".to_string(),
            "usage/workflows/dt=2026-03-04/drn_obj-3-3.ndjson.gz".to_string(),
        ]
    );
    assert_eq!(after, before, "the retry overwrote its own object only");
    let object = &after["usage/workflows/dt=2026-03-03/drn_obj-1-2.ndjson.gz"];
    assert_eq!(a.sha256.as_deref(), Some(sha256_hex(object).as_str()));
    let m = BatchManifest::parse(&after[&format!("{manifests}/0000000001.json")]).unwrap();
    assert_eq!((m.seq, m.first_pos, m.last_pos, m.records), (1, 1, 2, 2));
    assert_eq!(m.sha256, sha256_hex(object));
    let m2 = BatchManifest::parse(&after[&format!("{manifests}/0000000002.json")]).unwrap();
    assert_eq!(m2.prev.as_deref(), Some("batch-1"));
}

fn dest_of(d: &S3Destination) -> &dyn outflow::drain::dest::Destination {
    d
}

async fn d_preflight(d: &S3Destination) {
    dest_of(d).preflight("drn_obj").await.unwrap();
    let probes = d.read_all("_outflow_preflight", |_| true).await.unwrap();
    assert!(probes.is_empty(), "the probe is deleted again: {probes:?}");
}

#[tokio::test]
async fn gcs_follows_the_s3_layout_manifests_and_retries() {
    let Some(gcs) = start_gcs() else { return };
    let d = objdest::build(
        &gcs_config(&gcs, S3Format::Ndjson),
        &gcs_secret(),
        &dest_ctx(),
    )
    .unwrap();
    layout_manifests_and_retries(d).await;
}

#[tokio::test]
async fn azure_follows_the_s3_layout_manifests_and_retries() {
    let Some(azurite) = start_azurite() else {
        return;
    };
    create_container(&azurite, CONTAINER).await;
    let d = objdest::build(
        &azure_config(&azurite, S3Format::Ndjson),
        &azure_secret(AZURE_KEY),
        &dest_ctx(),
    )
    .unwrap();
    layout_manifests_and_retries(d).await;
}

#[tokio::test]
async fn a_wrong_azure_key_is_a_permanent_failure_that_never_shows_the_key() {
    let Some(azurite) = start_azurite() else {
        return;
    };
    create_container(&azurite, CONTAINER).await;
    // Valid base64, not the account's key.
    let wrong = "d3JvbmctYnV0LXZhbGlkLWJhc2U2NC1rZXktZm9yLXRoZS10ZXN0LW9ubHk=";
    let d = dest::build(
        &azure_config(&azurite, S3Format::Json),
        &azure_secret(wrong),
        &dest_ctx(),
    )
    .unwrap();
    let e = d
        .deliver(&batch(1, 1, None, &[at(3, 1)]))
        .await
        .unwrap_err();
    assert!(e.permanent, "{e:?}");
    assert_eq!(e.status, Some(403), "{e:?}");
    assert!(e.message.contains("writing the object"), "{}", e.message);
    assert!(!e.describe().contains(wrong));
    let e = d.preflight("drn_obj").await.unwrap_err();
    assert!(e.permanent && !e.message.contains(wrong), "{e:?}");
}

/// The Parquet object of a batch: one file, `.parquet`, with the export's typed columns.
fn read_parquet(bytes: &[u8]) -> arrow_array::RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes.to_vec()))
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    assert_eq!(batches.len(), 1);
    batches.into_iter().next().unwrap()
}

fn assert_workflow_columns(rows: &arrow_array::RecordBatch) {
    let schema = rows.schema();
    let types: Vec<(&str, &ArrowType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    assert_eq!(
        types,
        [
            ("run_id", &ArrowType::Utf8),
            ("credit_cost", &ArrowType::Float64),
            (
                "pl_run_created_ts",
                &ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            ),
        ]
    );
}

#[tokio::test]
async fn parquet_objects_hold_typed_columns_and_retries_rewrite_them() {
    let Some(gcs) = start_gcs() else { return };
    let d = objdest::build(
        &gcs_config(&gcs, S3Format::Parquet),
        &gcs_secret(),
        &dest_ctx(),
    )
    .unwrap();
    let b = batch(7, 1, None, &[at(5, 10), at(5, 11), at(5, 12)]);
    let delivered = dest_of(&d).deliver(&b).await.unwrap();
    let key = "usage/workflows/dt=2026-03-05/drn_obj-7-9.parquet";
    assert_eq!(delivered.object_key.as_deref(), Some(key));
    let again = dest_of(&d).deliver(&b).await.unwrap();
    assert_eq!(again.sha256, delivered.sha256, "Parquet is deterministic");

    let all = objects(&d).await;
    assert_eq!(
        all.len(),
        2,
        "one object and its manifest: {:?}",
        all.keys()
    );
    let m = BatchManifest::parse(&all["usage/workflows/_manifests/drn_obj/live/0000000001.json"])
        .unwrap();
    assert_eq!((m.key.as_str(), m.records), (key, 3));
    assert_eq!(m.sha256, sha256_hex(&all[key]));

    let rows = read_parquet(&all[key]);
    assert_workflow_columns(&rows);
    assert_eq!(rows.num_rows(), 3);
    let ids = rows
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let costs = rows
        .column(1)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    let times = rows
        .column(2)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    assert_eq!(
        (0..3).map(|i| ids.value(i)).collect::<Vec<_>>(),
        ["r7", "r8", "r9"]
    );
    assert_eq!(
        (0..3).map(|i| costs.value(i)).collect::<Vec<_>>(),
        [0.5, 1.5, 2.5]
    );
    assert_eq!(times.value(1), at(5, 11).timestamp_micros());
    assert!(!times.is_null(2));
}

// ----- end to end, through the API, on both backends -----------------------------------------

fn settings(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.poll_min_seconds = 1;
    c.drains.poll_max_seconds = 1;
}

async fn secret(ctx: &Ctx, body: Value) -> String {
    ctx.ok(reqwest::Method::POST, "/v1/secrets", Some(body), 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn drain(ctx: &Ctx, secret_id: &str, destination: Value) -> String {
    ctx.ok(
        reqwest::Method::POST,
        "/v1/drains",
        Some(
            json!({"name": "to object storage", "data_type": "workflows",
            "fields": ["run_id", "credit_cost"], "secret_id": secret_id,
            "destination": destination}),
        ),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn ingest_two(ctx: &Ctx) {
    let mut a = run_record("acme", "e2e-1");
    a["pl_run_created_ts"] = json!("2026-03-01T08:00:00Z");
    let mut b = run_record("acme", "e2e-2");
    b["pl_run_created_ts"] = json!("2026-03-01T09:00:00Z");
    ctx.app.ingest_ok("workflows", &json!([a, b])).await;
}

both_backends!(
    a_gcs_drain_delivers_parquet_end_to_end,
    |backend| async move {
        let Some(gcs) = start_gcs() else { return };
        let ctx = Ctx::new(backend, settings).await;
        let s = secret(
            &ctx,
            json!({"name": "gcs", "kind": "gcp", "service_account_json": GCS_KEY}),
        )
        .await;
        let listed = ctx.ok(reqwest::Method::GET, "/v1/secrets", None, 200).await;
        assert!(!listed.to_string().contains("disable_oauth"), "{listed}");
        let id = drain(
            &ctx,
            &s,
            json!({"type": "gcs", "bucket": GCS_BUCKET, "prefix": "usage",
                   "endpoint": gcs.endpoint, "format": "parquet"}),
        )
        .await;
        let shown = ctx.get_drain(&id).await;
        assert_eq!(shown["destination"]["type"], "gcs", "{shown}");
        assert_eq!(shown["destination"]["format"], "parquet", "{shown}");
        ingest_two(&ctx).await;
        ctx.wait_drain(&id, |d| d["records_delivered"] == 2).await;

        let d = objdest::build(
            &gcs_config(&gcs, S3Format::Parquet),
            &gcs_secret(),
            &dest_ctx(),
        )
        .unwrap();
        let all = objects(&d).await;
        let parquet: Vec<_> = all.keys().filter(|k| k.ends_with(".parquet")).collect();
        assert_eq!(parquet.len(), 1, "{:?}", all.keys());
        assert!(
            parquet[0].starts_with(&format!("usage/workflows/dt=2026-03-01/{id}-")),
            "{}",
            parquet[0]
        );
        let rows = read_parquet(&all[parquet[0]]);
        assert_eq!(rows.num_rows(), 2);
        let names: Vec<String> = rows
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["run_id", "credit_cost", "pl_run_created_ts"]);
        let ids = rows
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!((ids.value(0), ids.value(1)), ("e2e-1", "e2e-2"));
        let costs = rows
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert_eq!(costs.value(0), 2.5);
        assert!(
            all.keys()
                .any(|k| k.ends_with(&format!("_manifests/{id}/live/0000000001.json"))),
            "{:?}",
            all.keys()
        );
        // `outflow verify` reads the GCS prefix and the Parquet object back, and agrees.
        let (ok, out) = verify(&ctx, &id);
        assert!(ok, "{out}");
        assert!(
            out.contains("1 manifests") && out.contains("2 distinct records"),
            "{out}"
        );
        assert!(out.contains("OK: every bucket matches"), "{out}");
    }
);

fn verify(ctx: &Ctx, id: &str) -> (bool, String) {
    crate::drain_verify::outflow_cli(
        ctx,
        &[
            "verify",
            "--org",
            "acme",
            "--drain",
            id,
            "--s3",
            "--start",
            "2026-03-01",
            "--end",
            "2026-03-02",
            "--bucket",
            "1d",
            "--tz",
            "UTC",
        ],
    )
}

both_backends!(
    an_azure_blob_drain_delivers_end_to_end,
    |backend| async move {
        let Some(azurite) = start_azurite() else {
            return;
        };
        create_container(&azurite, CONTAINER).await;
        let ctx = Ctx::new(backend, settings).await;
        let s = secret(
            &ctx,
            json!({"name": "azure", "kind": "azure", "access_key": AZURE_KEY}),
        )
        .await;
        let id = drain(
            &ctx,
            &s,
            json!({"type": "azure_blob", "account": AZURE_ACCOUNT, "container": CONTAINER,
                   "prefix": "usage", "endpoint": azurite.endpoint}),
        )
        .await;
        ingest_two(&ctx).await;
        ctx.wait_drain(&id, |d| d["records_delivered"] == 2).await;

        let d = objdest::build(
            &azure_config(&azurite, S3Format::Ndjson),
            &azure_secret(AZURE_KEY),
            &dest_ctx(),
        )
        .unwrap();
        let all = objects(&d).await;
        let object = all
            .iter()
            .find(|(k, _)| k.ends_with(".ndjson.gz"))
            .unwrap_or_else(|| panic!("{:?}", all.keys()));
        assert!(
            object
                .0
                .starts_with(&format!("usage/workflows/dt=2026-03-01/{id}-")),
            "{}",
            object.0
        );
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&object.1[..]), &mut text)
            .unwrap();
        let ids: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["run_id"].clone())
            .collect();
        assert_eq!(ids, [json!("e2e-1"), json!("e2e-2")]);
        let manifest = all
            .iter()
            .find(|(k, _)| k.ends_with(&format!("_manifests/{id}/live/0000000001.json")))
            .unwrap_or_else(|| panic!("{:?}", all.keys()));
        let m = BatchManifest::parse(manifest.1).unwrap();
        assert_eq!(m.records, 2);
        assert_eq!(m.sha256, sha256_hex(object.1));
        let (ok, out) = verify(&ctx, &id);
        assert!(ok && out.contains("OK: every bucket matches"), "{out}");
    }
);

both_backends!(
    object_store_settings_and_formats_are_checked_with_the_allowed_values,
    |backend| async move {
        let ctx = Ctx::new(backend, settings).await;
        let http = secret(
            &ctx,
            json!({"name": "rx", "kind": "http", "url": "http://127.0.0.1:9/x"}),
        )
        .await;
        let (status, body) = ctx
            .call(
                reqwest::Method::POST,
                "/v1/drains",
                Some(
                    json!({"name": "p", "data_type": "workflows", "secret_id": http,
                    "fields": ["run_id"],
                    "destination": {"type": "http", "format": "parquet"}}),
                ),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body.contains("object-store destinations") && body.contains("json, ndjson or otlp"),
            "{body}"
        );
        // An Azure secret needs exactly one credential.
        let (status, body) = ctx
            .call(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": "az", "kind": "azure"})),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("access_key or sas_token"), "{body}");
        // A GCS key that is not JSON is refused, and not echoed.
        let (status, body) = ctx
            .call(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": "g", "kind": "gcp", "service_account_json": "hunter2-key"})),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body.contains("service_account_json") && !body.contains("hunter2"),
            "{body}"
        );
        // A GCS drain with an Azure secret names both kinds.
        let az = secret(
            &ctx,
            json!({"name": "az", "kind": "azure", "sas_token": "sv=1&sig=abc"}),
        )
        .await;
        let (status, body) = ctx
            .call(
                reqwest::Method::POST,
                "/v1/drains",
                Some(
                    json!({"name": "g", "data_type": "workflows", "secret_id": az,
                    "fields": ["run_id"],
                    "destination": {"type": "gcs", "bucket": "b-1"}}),
                ),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("gcp") && body.contains("azure"), "{body}");
    }
);

both_backends!(
    drains_and_their_secrets_survive_migration_0014,
    |backend| async move {
        // A database as it was before migration 0014 (SQLite rebuilds `secrets`, which
        // `drains.secret_id` references), with a drain and its secret in it.
        let db = TestDb::new(backend).await;
        let store = outflow::store::Store::connect(&db.url, 2).await.unwrap();
        let dir = match backend {
            Backend::Sqlite => "migrations/sqlite",
            Backend::Postgres => "migrations/postgres",
        };
        let mut before = sqlx::migrate::Migrator::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
        )
        .await
        .unwrap();
        let earlier: Vec<_> = before
            .migrations
            .iter()
            .filter(|m| m.version < 14)
            .cloned()
            .collect();
        before.migrations = earlier.into();
        match backend {
            Backend::Sqlite => before
                .run(&sqlx::SqlitePool::connect(&db.url).await.unwrap())
                .await
                .unwrap(),
            Backend::Postgres => before
                .run(&sqlx::PgPool::connect(&db.url).await.unwrap())
                .await
                .unwrap(),
        }
        acme_org(&store).await;
        let now = chrono::Utc::now();
        let secret = |id: &str, kind: &str| -> Vec<outflow::store::Value> {
            vec![
                id.into(),
                "acme".into(),
                "n".into(),
                kind.into(),
                "sealed".into(),
                now.into(),
            ]
        };
        const SECRET: &str = "INSERT INTO secrets (id, org_id, name, kind, sealed, created_at) \
                              VALUES (?, ?, ?, ?, ?, ?)";
        store
            .execute(SECRET, &secret("sec_old", "aws"))
            .await
            .unwrap();
        assert!(
            store
                .execute(SECRET, &secret("sec_gcp", "gcp"))
                .await
                .is_err(),
            "before 0014 there is no `gcp` kind"
        );
        store
            .execute(
                "INSERT INTO drains (id, org_id, name, data_type, scope, destination, secret_id, \
                 status, cursor_pos, created_by, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    "drn_old".into(),
                    "acme".into(),
                    "old".into(),
                    "workflows".into(),
                    outflow::store::Value::Json(json!({})),
                    outflow::store::Value::Json(json!({})),
                    "sec_old".into(),
                    "active".into(),
                    outflow::store::Value::Integer(0),
                    "system".into(),
                    now.into(),
                    now.into(),
                ],
            )
            .await
            .unwrap();

        store.migrate().await.unwrap();
        store
            .execute(SECRET, &secret("sec_gcp", "gcp"))
            .await
            .unwrap();
        store
            .execute(SECRET, &secret("sec_az", "azure"))
            .await
            .unwrap();
        assert!(
            store
                .execute(SECRET, &secret("sec_x", "ftp"))
                .await
                .is_err(),
            "the kind is still checked"
        );
        let kinds: Vec<String> = outflow::drain::secrets::list(&store, "acme")
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.kind)
            .collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        assert!(kinds.contains(&"aws".to_string()));
        // The drain still references its secret, and the reference is still enforced.
        assert!(
            store
                .execute("DELETE FROM secrets WHERE id = ?", &["sec_old".into()])
                .await
                .is_err(),
            "a secret a drain uses cannot be deleted"
        );
        store.close().await;
    }
);

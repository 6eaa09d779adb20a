//! Schema contracts end to end, on both backends: records delivered by real HTTP drains are
//! checked, by an independent JSON Schema validator (the `jsonschema` crate), against the
//! schema the app publishes at `GET /v1/schemas/{data_type}`, and every delivery names that
//! schema in `X-Outflow-Schema`.

use crate::both_backends;
use crate::drain_support::Ctx;
use crate::helpers::*;
use crate::http_receiver::{Received, Receiver};
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Private destinations allowed (the receiver is on 127.0.0.1) and fast retries.
fn fast(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.lease_seconds = 3;
}

impl Ctx {
    /// A drain of every field of `data_type` to `url`, backfilling from before the records.
    async fn full_drain(&self, url: &str, data_type: &str, format: &str) {
        let secret = self
            .ok(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": format!("receiver {data_type}"), "kind": "http", "url": url})),
                201,
            )
            .await;
        self.ok(
            reqwest::Method::POST,
            "/v1/drains",
            Some(json!({
                "name": format!("{data_type} contract"), "data_type": data_type,
                "field_preset": "full", "start_ts": "2026-01-01T00:00:00Z",
                "destination": {"type": "http", "format": format},
                "secret_id": secret["id"],
            })),
            201,
        )
        .await;
    }

    /// The published schema of `data_type`, fetched without a key.
    async fn published_schema(&self, data_type: &str) -> Value {
        let r = self
            .app
            .client
            .get(format!("{}/v1/schemas/{data_type}", self.app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/schema+json"
        );
        assert_eq!(
            r.headers()["x-outflow-schema"].to_str().unwrap(),
            format!("{data_type}@1")
        );
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }
}

fn credit_logs() -> Value {
    json!([
        {"org_id": "acme", "log_id": "c-1", "timestamp": "2026-03-04T10:00:00Z",
         "category": "pipeline_run", "type": "Node Cost", "amount": -3.0, "balance": 97.0,
         "user_id": "u1", "user_email": "ada@acme.example", "name": "Lead scoring",
         "permission_group_id": "role_fin; role_ops", "permission_group_name": "Finance; Ops",
         "correlation_id": "r-1", "balance_scope": "user", "project_id": "team-eng"},
        {"org_id": "acme", "log_id": "c-2", "timestamp": "2026-03-05T10:00:00+02:00",
         "category": "Credit Reset"}
    ])
}

/// The record batches (not preflight probes) of `data_type`.
fn batches<'a>(reqs: &'a [Received], data_type: &str) -> Vec<&'a Received> {
    reqs.iter()
        .filter(|r| !r.headers.contains_key("x-outflow-preflight"))
        .filter(|r| r.headers.get("x-outflow-data-type").map(String::as_str) == Some(data_type))
        .collect()
}

/// Every record delivered for `data_type`: from the JSON envelope or NDJSON lines.
fn records(reqs: &[Received], data_type: &str) -> Vec<Value> {
    batches(reqs, data_type)
        .into_iter()
        .flat_map(|r| {
            if r.header("content-type") == "application/x-ndjson" {
                r.ndjson()
            } else {
                r.json()["records"].as_array().unwrap().clone()
            }
        })
        .collect()
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::meta::validate(schema).expect("the published schema is valid 2020-12");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

fn assert_valid(v: &jsonschema::Validator, record: &Value) {
    let errors: Vec<String> = v.iter_errors(record).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{record}: {errors:?}");
}

both_backends!(
    delivered_records_validate_against_the_published_schema,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        ctx.app.ingest_ok("credit_logs", &credit_logs()).await;
        let mut rich = run_record("acme", "r-1");
        rich["run_status"] = json!("Failed");
        rich["pipeline"] = json!({"nodes": [{"id": "n1", "kind": "llm"}], "version": 3});
        let runs = json!([rich, run_record("acme", "r-2")]);
        ctx.app.ingest_ok("workflows", &runs).await;
        ctx.full_drain(&rx.url, "credit_logs", "json").await;
        ctx.full_drain(&rx.url, "workflows", "ndjson").await;
        let reqs = rx
            .wait_for(WAIT, |r| {
                records(r, "credit_logs").len() >= 2 && records(r, "workflows").len() >= 2
            })
            .await;

        for (data_type, count) in [("credit_logs", 2), ("workflows", 2)] {
            let v = validator(&ctx.published_schema(data_type).await);
            for b in batches(&reqs, data_type) {
                assert_eq!(b.header("x-outflow-schema"), format!("{data_type}@1"));
            }
            let delivered = records(&reqs, data_type);
            assert_eq!(delivered.len(), count, "{data_type}");
            for record in &delivered {
                assert_valid(&v, record);
            }
            // The schema is a contract, not `{}`: an unknown field or a wrong type fails.
            let mut unknown = delivered[0].clone();
            unknown["surprise"] = json!(1);
            assert!(!v.is_valid(&unknown), "{data_type}: unknown field accepted");
            let time_field = if data_type == "credit_logs" {
                "timestamp"
            } else {
                "pl_run_created_ts"
            };
            let mut wrong = delivered[0].clone();
            wrong[time_field] = json!(true);
            assert!(!v.is_valid(&wrong), "{data_type}: wrong type accepted");
        }

        // The credit log with every field set really carried them all (a full-preset drain),
        // and the sparse one its empty fields as null.
        let credit = records(&reqs, "credit_logs");
        let full = credit.iter().find(|r| r["log_id"] == "c-1").unwrap();
        assert_eq!(full["balance_scope"], "user");
        let sparse = credit.iter().find(|r| r["log_id"] == "c-2").unwrap();
        assert_eq!(sparse["amount"], Value::Null);
        let run = records(&reqs, "workflows");
        let run = run.iter().find(|r| r["run_id"] == "r-1").unwrap();
        assert_eq!(run["pipeline"]["version"], 3);
        let v = validator(&ctx.published_schema("credit_logs").await);
        let mut amount = full.clone();
        amount["amount"] = json!("-3.0");
        assert!(!v.is_valid(&amount), "a number as a string");
        let mut category = full.clone();
        category["category"] = json!("not_a_category");
        assert!(!v.is_valid(&category), "a value outside the enum");
    }
);

#[tokio::test]
async fn an_unknown_data_type_lists_the_allowed_ones() {
    let app = spawn_app(Backend::Sqlite).await;
    let r = app
        .client
        .get(format!("{}/v1/schemas/invoices", app.url))
        .send()
        .await
        .unwrap();
    let m = error_message(r, 400).await;
    for dt in ["workflows", "credit_logs", "tool_calls"] {
        assert!(m.contains(dt), "{m}");
    }
    // The `gumstack` alias names the tool_calls schema.
    let r = app
        .client
        .get(format!("{}/v1/schemas/gumstack", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-outflow-schema"], "tool_calls@1");
}

#[tokio::test]
async fn the_route_is_in_the_openapi_document_without_a_key() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc: Value = app
        .client
        .get(format!("{}/v1/openapi.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/v1/schemas/{data_type}"]["get"];
    assert!(
        op.is_object(),
        "GET /v1/schemas/{{data_type}} is documented"
    );
    assert!(op.get("security").is_none(), "no key needed: {op}");
    assert!(op["responses"]["200"]["content"]["application/schema+json"].is_object());
    assert!(op["responses"]["400"].is_object());
}

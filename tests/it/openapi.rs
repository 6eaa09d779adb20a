//! The served `/v1/openapi.json` describes what the server does: shared error statuses where
//! they occur, required parameters required (and in the query, not the path), minimum lengths,
//! and one paging rule that every listing applies the same way.

use crate::both_backends;
use crate::helpers::*;
use serde_json::{Value, json};

async fn doc(app: &TestApp) -> Value {
    app.client
        .get(format!("{}/v1/openapi.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn op<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    op
}

fn statuses(op: &Value) -> Vec<String> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn param<'a>(op: &'a Value, name: &str) -> &'a Value {
    op["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("parameter {name} missing"))
}

#[tokio::test]
async fn every_route_documents_the_shared_error_statuses() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = doc(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let have = statuses(op);
            let has = |s: &str| have.iter().any(|h| h == s);
            let schemes: Vec<&str> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
                .collect();
            if !schemes.is_empty() {
                assert!(has("401") && has("429"), "{method} {path}: {have:?}");
            }
            if schemes.contains(&"org_key") {
                assert!(has("403"), "{method} {path}: {have:?}");
            }
            if op["requestBody"].is_object() {
                assert!(has("400") && has("413"), "{method} {path}: {have:?}");
            }
            if op["parameters"].as_array().is_some_and(|p| !p.is_empty()) {
                assert!(has("400"), "{method} {path}: {have:?}");
            }
        }
    }
    for (method, path) in [
        ("post", "/v1/exports"),
        ("post", "/v1/drains"),
        ("post", "/data-drains"),
        ("post", "/export_data"),
        ("post", "/v1/keys"),
    ] {
        assert!(statuses(op(&doc, method, path)).contains(&"415".to_string()));
    }
    assert!(statuses(op(&doc, "post", "/data-drains")).contains(&"422".to_string()));
    assert!(statuses(op(&doc, "get", "/v1/drains/{id}")).contains(&"404".to_string()));
}

#[tokio::test]
async fn required_parameters_are_required_query_parameters() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = doc(&app).await;
    for (method, path, name) in [
        ("get", "/data-drains", "organization_id"),
        ("delete", "/data-drains/{drain_id}", "organization_id"),
        ("get", "/export_status", "user_id"),
        ("get", "/export_status", "data_export_id"),
        ("get", "/v1/downloads/{key}", "expires"),
        ("get", "/v1/downloads/{key}", "signature"),
    ] {
        let p = param(op(&doc, method, path), name);
        assert_eq!(p["in"], "query", "{method} {path} {name}: {p}");
        assert_eq!(p["required"], true, "{method} {path} {name}: {p}");
    }
    for (method, path, name) in [
        ("get", "/export_status", "download"),
        ("get", "/v1/exports", "page"),
        ("get", "/v1/exports", "page_size"),
        ("get", "/v1/drains/{id}/deliveries", "limit"),
    ] {
        let p = param(op(&doc, method, path), name);
        assert_eq!(p["in"], "query", "{method} {path} {name}: {p}");
        assert_ne!(p["required"], true, "{method} {path} {name}: {p}");
    }
    let schemas = &doc["components"]["schemas"];
    let required = |schema: &str| -> Vec<String> {
        serde_json::from_value(schemas[schema]["required"].clone()).unwrap_or_default()
    };
    for (schema, fields) in [
        ("CreateExport", &["data_type"][..]),
        (
            "DataDrainRequest",
            &[
                "organization_id",
                "name",
                "drain_type",
                "data_type",
                "export_fields",
            ][..],
        ),
        (
            "ExportDataRequest",
            &["user_id", "export_fields", "start_date", "end_date"][..],
        ),
        ("ZonedDate", &["date", "timezone"][..]),
    ] {
        for f in fields {
            assert!(required(schema).contains(&f.to_string()), "{schema}.{f}");
            assert_eq!(
                schemas[schema]["properties"][f]
                    .get("minLength")
                    .or(schemas[schema]["properties"][f].get("minItems")),
                Some(&json!(1)),
                "{schema}.{f}: {}",
                schemas[schema]["properties"][f]
            );
        }
    }
    // POST /v1/drains shares PATCH's body and requires more of it.
    let body =
        &op(&doc, "post", "/v1/drains")["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        body["allOf"][1]["required"],
        json!(["name", "data_type", "destination", "secret_id"])
    );
    let page_size = param(op(&doc, "get", "/v1/orgs/{org_id}/{kind}"), "page_size");
    assert_eq!(
        (
            &page_size["schema"]["minimum"],
            &page_size["schema"]["maximum"]
        ),
        (&json!(1), &json!(500))
    );
}

both_backends!(paging_is_one_rule_on_every_listing, |b| async move {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    let (_, key) = app.org_key("acme", "admin").await;
    for path in [
        "/v1/orgs/acme/teams",
        "/v1/exports",
        "/v1/drains/nope/deliveries",
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let size = if path.ends_with("deliveries") {
            "limit"
        } else {
            "page_size"
        };
        for bad in ["0", "501", "100000000", "1000000000", "x"] {
            let r = app.get(&format!("{path}{sep}{size}={bad}"), &key).await;
            let m = error_message(r, 400).await;
            assert!(
                m.contains(&format!("{size} must be an integer from 1 to 500")),
                "{path}: {m}"
            );
        }
        if size == "page_size" {
            for bad in ["0", "1000001"] {
                let r = app.get(&format!("{path}{sep}page={bad}"), &key).await;
                let m = error_message(r, 400).await;
                assert!(
                    m.contains("page must be an integer from 1 to 1000000"),
                    "{m}"
                );
            }
            let r = app
                .get(&format!("{path}{sep}page=2&page_size=500"), &key)
                .await;
            assert_eq!(r.status(), 200);
            let page: Value = r.json().await.unwrap();
            assert_eq!(
                (&page["page"], &page["page_size"]),
                (&json!(2), &json!(500))
            );
            let page: Value = app.get(path, &key).await.json().await.unwrap();
            assert_eq!((&page["page"], &page["page_size"]), (&json!(1), &json!(50)));
        }
    }
});

#[tokio::test]
async fn json_bodies_must_be_objects_of_json_content_type() {
    let app = spawn_app(Backend::Sqlite).await;
    app.put_org("acme").await;
    let (_, key) = app.org_key("acme", "admin").await;
    let from = "2026-01-01T00:00:00Z";
    // Serde would read this struct from an array of its fields, in order.
    for body in [
        json!([from, "2026-01-02T00:00:00Z"]),
        json!([]),
        json!("x"),
        json!(1),
    ] {
        let r = app
            .client
            .post(format!("{}/v1/drains/nope/replay", app.url))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let m = error_message(r, 400).await;
        assert!(m.contains("JSON object"), "{body}: {m}");
    }
    let r = app
        .client
        .post(format!("{}/v1/exports", app.url))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body(r#"{"data_type": "workflows"}"#)
        .send()
        .await
        .unwrap();
    assert!(error_message(r, 415).await.contains("application/json"));
}

#[tokio::test]
async fn object_store_destinations_and_parquet_are_documented() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = doc(&app).await;
    let schema = |name: &str| {
        let s = &doc["components"]["schemas"][name];
        assert!(s.is_object(), "schema {name} missing");
        s.to_string()
    };
    let destination = schema("DestinationConfig");
    for kind in [
        "\"http\"",
        "\"s3\"",
        "\"gcs\"",
        "\"azure_blob\"",
        "\"datadog\"",
    ] {
        assert!(destination.contains(kind), "{kind} in {destination}");
    }
    for field in ["\"container\"", "\"account\"", "\"endpoint\""] {
        assert!(destination.contains(field), "{field} in {destination}");
    }
    let formats = schema("S3Format");
    for f in ["\"ndjson\"", "\"json\"", "\"parquet\""] {
        assert!(formats.contains(f), "{f} in {formats}");
    }
    let secrets = schema("SecretPayload");
    for f in [
        "\"gcp\"",
        "\"service_account_json\"",
        "\"azure\"",
        "\"access_key\"",
        "\"sas_token\"",
    ] {
        assert!(secrets.contains(f), "{f} in {secrets}");
    }
    assert!(!schema("HttpFormat").contains("parquet"));
}

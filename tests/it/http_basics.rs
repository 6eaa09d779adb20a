//! Probes, the OpenAPI document and the field catalog.

use crate::both_backends;
use crate::helpers::*;
use serde_json::Value;

both_backends!(health_and_readiness_answer, |b| async move {
    let app = spawn_app(b).await;
    let r = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.store.close().await;
    let r = app
        .client
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "a closed database is not ready");
});

#[tokio::test]
async fn openapi_lists_every_route_with_shapes() {
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
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/ingest/{data_type}",
        "/v1/orgs/{org_id}",
        "/v1/orgs/{org_id}/{kind}",
        "/v1/orgs/{org_id}/{kind}/{id}",
        "/v1/fields",
        "/v1/keys",
        "/v1/keys/{key_id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["IngestResponse"].is_object());
    assert!(doc["components"]["schemas"]["MemberInput"].is_object());
}

#[tokio::test]
async fn field_catalog_is_served_with_presets_and_the_gumstack_alias() {
    let app = spawn_app(Backend::Sqlite).await;
    let all: Value = app
        .client
        .get(format!("{}/v1/fields", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["data_types"].as_array().unwrap().len(), 6);
    let credit: Value = app
        .client
        .get(format!("{}/v1/fields?data_type=credit_logs", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fields = credit["data_types"][0]["fields"].as_array().unwrap();
    let corr = fields.iter().find(|f| f["id"] == "correlation_id").unwrap();
    assert_eq!(corr["presets"], serde_json::json!(["full"]));
    let category = fields.iter().find(|f| f["id"] == "category").unwrap();
    assert!(
        category["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["value"] == "agent_run" && v["label"] == "Agent Chats")
    );
    let gum: Value = app
        .client
        .get(format!("{}/v1/fields?data_type=gumstack", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gum["data_types"][0]["data_type"], "tool_calls");
    let r = app
        .client
        .get(format!("{}/v1/fields?data_type=nope", app.url))
        .send()
        .await
        .unwrap();
    assert!(error_message(r, 400).await.contains("credit_logs"));
}

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let app = spawn_app(Backend::Sqlite).await;
    let r = app
        .client
        .get(format!("{}/v2/nothing", app.url))
        .send()
        .await
        .unwrap();
    error_message(r, 404).await;
}

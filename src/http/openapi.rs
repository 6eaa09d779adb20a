//! The served `/v1/openapi.json`: the document generated from the handlers' annotations, plus
//! the error statuses every route shares, added here once instead of in forty annotations so
//! that no route can forget one:
//!
//! - a key-protected route answers 401 (no key, unknown or revoked key) and 429 (over the
//!   key's rate limit, with `Retry-After`); an organization-key route also answers 403 (the key
//!   lacks the scope);
//! - a route with parameters answers 400 when the query string does not parse;
//! - a route with a body answers 400 (malformed JSON, not an object, wrong shape), 413 (over
//!   `max_body_bytes`) and, when the body is read as JSON, 415 (`Content-Type` is not
//!   `application/json`).
//!
//! A status a route already documents keeps its route-specific description.

use serde_json::{Value, json};

/// Routes whose body is read raw rather than through `ApiJson`, so a missing or other
/// `Content-Type` is not refused: ingest also takes NDJSON, entity upserts take any kind's JSON.
const RAW_BODY: &[(&str, &str)] = &[
    ("post", "/v1/ingest/{data_type}"),
    ("put", "/v1/orgs/{org_id}/{kind}/{id}"),
];

/// Request bodies whose schema is shared with a route that needs fewer fields: here the
/// fields this route requires on top of the shared schema (`POST /v1/drains` takes the
/// `PATCH` body with name, type, destination and secret required).
const REQUIRED_ON_TOP: &[(&str, &str, &[&str])] = &[
    (
        "post",
        "/v1/drains",
        &["name", "data_type", "destination", "secret_id"],
    ),
    (
        "post",
        "/v1/export-schedules",
        &["name", "export", "cadence"],
    ),
    ("post", "/v1/budgets", &["name", "period", "limit_credits"]),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document as served.
pub fn document(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).expect("the OpenAPI document serializes");
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                if let Some(op) = item.get_mut(method) {
                    shared_errors(method, path, op);
                    required_on_top(method, path, op);
                }
            }
        }
    }
    doc
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

fn add(op: &mut Value, status: &str, description: &str) {
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses
            .entry(status)
            .or_insert_with(|| error(description));
    }
}

fn shared_errors(method: &str, path: &str, op: &mut Value) {
    let schemes: Vec<String> = op
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|req| req.keys().cloned())
        .collect();
    if !schemes.is_empty() {
        add(op, "401", "Missing, unknown or revoked key");
        add(
            op,
            "429",
            "Over the key's rate limit; `Retry-After` says when to retry",
        );
    }
    if schemes.iter().any(|s| s == "org_key") {
        add(op, "403", "The key lacks the scope this route needs");
    }
    let has_params = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    if has_params {
        add(op, "400", "A parameter is missing or invalid");
    }
    let json_body = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
        .map(|c| c.contains_key("application/json"));
    if let Some(json_body) = json_body {
        add(
            op,
            "400",
            "The body is not a JSON object of the documented shape",
        );
        add(op, "413", "The body is larger than max_body_bytes");
        if json_body && !RAW_BODY.contains(&(method, path)) {
            add(op, "415", "`Content-Type` is not `application/json`");
        }
    }
}

fn required_on_top(method: &str, path: &str, op: &mut Value) {
    let Some((_, _, fields)) = REQUIRED_ON_TOP
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
    else {
        return;
    };
    if let Some(schema) = op.pointer_mut("/requestBody/content/application~1json/schema") {
        let shared = schema.take();
        *schema = json!({"allOf": [shared, {"required": fields}]});
    }
}

//! Organization keys: 401 without a valid key, 403 without the scope, 404 for another
//! organization's resources on every organization-scoped route; rate limits.

use crate::both_backends;
use crate::helpers::*;
use serde_json::json;

async fn two_orgs(b: Backend) -> TestApp {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    app.put_org("globex").await;
    for org in ["acme", "globex"] {
        let r = app
            .put_entity(
                org,
                "teams",
                "team-1",
                json!({"name": format!("{org} team")}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    app
}

both_backends!(
    every_org_route_answers_404_for_another_org,
    |b| async move {
        let app = two_orgs(b).await;
        let (_, acme) = app.org_key("acme", "admin").await;
        let (globex_key_id, _) = app.org_key("globex", "admin").await;
        let mut paths = vec![
            "/v1/orgs/globex".to_string(),
            "/v1/orgs/nonexistent".to_string(),
        ];
        for kind in [
            "teams",
            "members",
            "workbooks",
            "agents",
            "custom-roles",
            "api-keys",
        ] {
            paths.push(format!("/v1/orgs/globex/{kind}"));
            // Our own organization works.
            assert_eq!(
                app.get(&format!("/v1/orgs/acme/{kind}"), &acme)
                    .await
                    .status(),
                200,
                "{kind}"
            );
        }
        for path in paths {
            let msg = error_message(app.get(&path, &acme).await, 404).await;
            assert!(!msg.contains("globex team"), "{path} leaked data");
        }
        let r = app
            .client
            .delete(format!("{}/v1/keys/{globex_key_id}", app.url))
            .bearer_auth(&acme)
            .send()
            .await
            .unwrap();
        error_message(r, 404).await;
        assert!(
            app.store.list_org_keys("globex").await.unwrap()[0]
                .revoked_at
                .is_none(),
            "globex's key untouched"
        );
        let keys: serde_json::Value = app.get("/v1/keys", &acme).await.json().await.unwrap();
        assert!(
            keys.as_array()
                .unwrap()
                .iter()
                .all(|k| k["org_id"] == "acme")
        );
    }
);

both_backends!(missing_invalid_and_revoked_keys_get_401, |b| async move {
    let app = two_orgs(b).await;
    let r = app
        .client
        .get(format!("{}/v1/orgs/acme/teams", app.url))
        .send()
        .await
        .unwrap();
    error_message(r, 401).await;
    error_message(app.get("/v1/orgs/acme/teams", "ofk_not_a_key").await, 401).await;
    error_message(app.get("/v1/orgs/acme/teams", INGEST_KEY).await, 401).await;
    let (id, secret) = app.org_key("acme", "admin").await;
    let r = app
        .client
        .delete(format!("{}/v1/keys/{id}", app.url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    error_message(app.get("/v1/orgs/acme/teams", &secret).await, 401).await;
});

both_backends!(keys_without_the_scope_get_403, |b| async move {
    let app = two_orgs(b).await;
    let (_, export_only) = app.org_key("acme", "usage_export").await;
    assert_eq!(
        app.get("/v1/orgs/acme/teams", &export_only).await.status(),
        200
    );
    let msg = error_message(app.get("/v1/keys", &export_only).await, 403).await;
    assert!(msg.contains("admin"), "{msg}");
    let r = app
        .client
        .post(format!("{}/v1/keys", app.url))
        .bearer_auth(&export_only)
        .json(&json!({"name": "x", "scopes": ["admin"]}))
        .send()
        .await
        .unwrap();
    error_message(r, 403).await;
});

both_backends!(
    creating_a_key_shows_the_secret_once_and_audits_it,
    |b| async move {
        let app = two_orgs(b).await;
        let (_, admin) = app.org_key("acme", "admin").await;
        let r = app
            .client
            .post(format!("{}/v1/keys", app.url))
            .bearer_auth(&admin)
            .json(&json!({"name": "warehouse", "scopes": ["drains"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let created: serde_json::Value = r.json().await.unwrap();
        let secret = created["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("ofk_"));
        let listed = app.get("/v1/keys", &admin).await.text().await.unwrap();
        assert!(!listed.contains(&secret), "secrets are never listed");
        assert_eq!(app.get("/v1/orgs/acme/teams", &secret).await.status(), 200);
        let audit = read_all(&app.store, outflow::domain::DataType::AuditLogs, "acme").await;
        let spec = outflow::domain::catalog::spec(outflow::domain::DataType::AuditLogs);
        let created_events = audit
            .iter()
            .filter(|r| r.get(spec, "event_type").unwrap().as_text() == Some("outflow_key_created"))
            .count();
        assert_eq!(created_events, 2, "the fixture's key and this one");
        let globex_audit =
            read_all(&app.store, outflow::domain::DataType::AuditLogs, "globex").await;
        assert!(globex_audit.is_empty(), "acme's key events stay in acme");
    }
);

both_backends!(rate_limits_answer_429_with_retry_after, |b| async move {
    let app = spawn_app_with(b, |c| c.rate_limit_per_minute = 2).await;
    app.put_org("acme").await;
    let (_, key) = app.org_key("acme", "admin").await;
    assert_eq!(app.get("/v1/orgs/acme", &key).await.status(), 200);
    assert_eq!(app.get("/v1/orgs/acme", &key).await.status(), 200);
    let r = app.get("/v1/orgs/acme", &key).await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    error_message(r, 429).await;
});

//! Values both backends store alike (`domain::values`): NUL in text, absurd numbers and
//! timestamps outside the window are refused with a reason naming the field, never a 500 and
//! never at the cost of a valid neighbour; entity upserts keep the fields they omit.

use crate::both_backends;
use crate::helpers::*;
use outflow::domain::DataType;
use serde_json::{Value, json};

/// The rejections of an ingest answer as `(index, error)`.
fn rejections(body: &Value) -> Vec<(u64, String)> {
    body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                r["error"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

both_backends!(
    nul_in_a_record_field_rejects_that_record_and_stores_its_neighbours,
    |b| async move {
        let app = spawn_app(b).await;
        app.put_org("acme").await;
        let mut text = run_record("acme", "r2");
        text["workbook_name"] = json!("Lead\u{0}scoring");
        let mut nested = run_record("acme", "r3");
        nested["pipeline"] = json!({"steps": [{"name": "ok"}, {"name": "b\u{0}d"}]});
        let batch = json!([
            run_record("acme", "r1"),
            text,
            nested,
            run_record("acme", "r4")
        ]);
        let body = app.ingest_ok("workflows", &batch).await;
        assert_eq!(body["accepted"], 2, "{body}");
        let rejected = rejections(&body);
        assert_eq!(rejected.len(), 2, "{body}");
        assert_eq!(rejected[0].0, 1);
        assert!(
            rejected[0].1.contains("`workbook_name`") && rejected[0].1.contains("U+0000"),
            "{}",
            rejected[0].1
        );
        assert_eq!(rejected[1].0, 2);
        assert!(
            rejected[1].1.contains("`pipeline.steps[1].name`"),
            "{}",
            rejected[1].1
        );
        let stored = read_all(&app.store, DataType::Workflows, "acme").await;
        assert_eq!(stored.len(), 2);
    }
);

both_backends!(nul_in_names_is_a_400_naming_the_field, |b| async move {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    // Entities (their own body path), the organization, and a search query.
    let r = app
        .put_entity("acme", "teams", "t1", json!({"name": "Eng\u{0}"}))
        .await;
    assert!(error_message(r, 400).await.contains("`name`"));
    let r = app
        .put_entity(
            "acme",
            "members",
            "u1",
            json!({"name": "Ada", "email": "ada@x.example", "department": "R\u{0}D",
                   "joined_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert!(error_message(r, 400).await.contains("`department`"));
    let r = app
        .client
        .put(format!("{}/v1/orgs/acme", app.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!({"name": "Ac\u{0}me"}))
        .send()
        .await
        .unwrap();
    assert!(error_message(r, 400).await.contains("`name`"));
    let (_, key) = app.org_key("acme", "drains,admin,usage_export").await;
    let post = |path: &str, body: Value| {
        app.client
            .post(format!("{}{path}", app.url))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let r = post(
        "/v1/secrets",
        json!({"name": "rx\u{0}", "kind": "http", "url": "https://example.com/hook"}),
    )
    .await
    .unwrap();
    assert!(error_message(r, 400).await.contains("`name`"));
    let r = post("/v1/keys", json!({"name": "k\u{0}", "scopes": ["drains"]}))
        .await
        .unwrap();
    assert!(error_message(r, 400).await.contains("`name`"));
    let r = app.get("/v1/orgs/acme/teams?q=a%00b", &key).await;
    assert!(error_message(r, 400).await.contains("`q`"));
    let r = app.get("/v1/orgs/acme/teams%00", &key).await;
    assert_eq!(r.status(), 400);
    // Nothing half-stored: the organization keeps its name, no team or secret appeared.
    let org = app.store.get_org("acme").await.unwrap().unwrap();
    assert_eq!(org.name, "Org acme");
    let teams: Value = app
        .get("/v1/orgs/acme/teams", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(teams["total"], 0);
});

both_backends!(
    nul_reaching_the_store_directly_is_refused_not_a_database_error,
    |b| async move {
        // The CLI and other in-process callers bypass the HTTP extractors.
        let app = spawn_app(b).await;
        let input = serde_json::from_value(json!({"name": "Ac\u{0}me"})).unwrap();
        let err = app
            .store
            .upsert_org(&outflow::domain::Id::parse("acme").unwrap(), &input)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("U+0000"), "{err}");
    }
);

both_backends!(
    absurd_numbers_are_rejected_per_field_bound,
    |b| async move {
        let app = spawn_app(b).await;
        app.put_org("acme").await;
        let mut huge = run_record("acme", "r2");
        huge["credit_cost"] = json!(1e308);
        let mut big = run_record("acme", "r3");
        big["credit_cost"] = json!(-2e12);
        let batch = json!([run_record("acme", "r1"), huge, big]);
        let body = app.ingest_ok("workflows", &batch).await;
        assert_eq!(body["accepted"], 1, "{body}");
        let rejected = rejections(&body);
        assert_eq!(rejected.len(), 2);
        for (_, e) in &rejected {
            assert!(e.contains("`credit_cost`") && e.contains("allowed"), "{e}");
        }
        let call = |id: &str, latency: Value| {
            json!({"org_id": "acme", "tool_call_id": id, "created_at": "2026-02-01T00:00:00Z",
                   "server_name": "search", "tool_name": "web", "latency_ms": latency})
        };
        let body = app
            .ingest_ok(
                "tool_calls",
                &json!([
                    call("c1", json!(1200)),
                    call("c2", json!(2_592_000_001_i64)),
                    call("c3", json!(-5))
                ]),
            )
            .await;
        assert_eq!(body["accepted"], 1, "{body}");
        let rejected = rejections(&body);
        assert!(
            rejected.iter().all(|(_, e)| e.contains("`latency_ms`")),
            "{body}"
        );
    }
);

both_backends!(timestamps_outside_the_window_are_rejected, |b| async move {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    let at = |id: &str, ts: &str| {
        let mut r = run_record("acme", id);
        r["pl_run_created_ts"] = json!(ts);
        r
    };
    let batch = json!([
        at("r0", "0000-01-01T00:00:00Z"),
        at("r1", "1969-12-31T23:59:59Z"),
        at("r2", "9999-12-31T00:00:00Z"),
        at("r3", "2100-01-01T00:00:00Z"),
        at("r4", "2000-01-01T00:00:00Z"),
        at("r5", "2099-12-31T23:59:59Z"),
    ]);
    let body = app.ingest_ok("workflows", &batch).await;
    assert_eq!(body["accepted"], 2, "{body}");
    let rejected = rejections(&body);
    assert_eq!(
        rejected.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    for (_, e) in &rejected {
        assert!(
            e.contains("`pl_run_created_ts`") && e.contains("2000-01-01T00:00:00Z"),
            "{e}"
        );
    }
    // Entity timestamps follow the same window.
    let r = app
        .put_entity(
            "acme",
            "teams",
            "t1",
            json!({"name": "Eng", "created_at": "1969-07-20T20:17:00Z"}),
        )
        .await;
    assert!(error_message(r, 400).await.contains("`created_at`"));
});

both_backends!(org_upsert_keeps_omitted_settings, |b| async move {
    let app = spawn_app(b).await;
    app.put_org("acme").await; // Europe/Berlin, anchor day 15
    let put = |body: Value| {
        app.client
            .put(format!("{}/v1/orgs/acme", app.url))
            .bearer_auth(INGEST_KEY)
            .json(&body)
            .send()
    };
    let r = put(json!({"name": "Renamed"})).await.unwrap();
    assert_eq!(r.status(), 200);
    let org = app.store.get_org("acme").await.unwrap().unwrap();
    assert_eq!(
        (
            org.name.as_str(),
            org.timezone.as_str(),
            org.billing_anchor_day
        ),
        ("Renamed", "Europe/Berlin", 15)
    );
    let r = put(json!({"name": "Renamed", "timezone": "UTC"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let org = app.store.get_org("acme").await.unwrap().unwrap();
    assert_eq!((org.timezone.as_str(), org.billing_anchor_day), ("UTC", 15));
    // A new organization still gets the documented defaults.
    let r = app
        .client
        .put(format!("{}/v1/orgs/beta", app.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!({"name": "Beta"}))
        .send()
        .await
        .unwrap();
    let beta: Value = r.json().await.unwrap();
    assert_eq!(
        (
            beta["timezone"].as_str(),
            beta["billing_anchor_day"].as_u64()
        ),
        (Some("UTC"), Some(1))
    );
});

/// The listed attributes of entity `id` of `kind`.
async fn attributes(app: &TestApp, key: &str, kind: &str, id: &str) -> Value {
    let page: Value = app
        .get(&format!("/v1/orgs/acme/{kind}"), key)
        .await
        .json()
        .await
        .unwrap();
    let item = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{kind}/{id} listed: {page}"))
        .clone();
    let mut attrs = item["attributes"].clone();
    attrs["name"] = item["name"].clone();
    attrs
}

both_backends!(entity_upserts_keep_omitted_fields, |b| async move {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let ok = |r: reqwest::Response| async move {
        let status = r.status();
        assert_eq!(status, 200, "{}", r.text().await.unwrap());
    };
    // Teams.
    ok(app
        .put_entity(
            "acme",
            "teams",
            "t1",
            json!({"name": "Eng", "owner_id": "u1", "privacy": "hidden",
                   "created_at": "2026-01-01T00:00:00Z"}),
        )
        .await)
    .await;
    ok(app
        .put_entity("acme", "teams", "t1", json!({"name": "Engineering"}))
        .await)
    .await;
    let t = attributes(&app, &key, "teams", "t1").await;
    assert_eq!(t["name"], "Engineering");
    assert_eq!(t["owner_id"], "u1", "{t}");
    assert_eq!(t["privacy"], "hidden", "{t}");
    assert!(
        t["created_at"].as_str().unwrap().starts_with("2026-01-01"),
        "{t}"
    );
    // An explicit null clears a field that may be empty.
    ok(app
        .put_entity(
            "acme",
            "teams",
            "t1",
            json!({"name": "Engineering", "owner_id": null}),
        )
        .await)
    .await;
    let t = attributes(&app, &key, "teams", "t1").await;
    assert!(t["owner_id"].is_null() && t["privacy"] == "hidden", "{t}");

    // Members.
    ok(app
        .put_entity(
            "acme",
            "members",
            "u1",
            json!({"name": "Ada", "email": "ada@acme.example", "role": "admin",
                   "custom_role_ids": ["cr1"], "department": "R&D",
                   "joined_at": "2026-01-02T00:00:00Z", "personal_team_id": "p-ada"}),
        )
        .await)
    .await;
    ok(app
        .put_entity(
            "acme",
            "members",
            "u1",
            json!({"name": "Ada L.", "email": "ada@acme.example", "joined_at": "2026-01-02T00:00:00Z"}),
        )
        .await)
    .await;
    let m = attributes(&app, &key, "members", "u1").await;
    assert_eq!(
        (
            &m["name"],
            &m["role"],
            &m["custom_role_ids"],
            &m["department"],
            &m["personal_team_id"]
        ),
        (
            &json!("Ada L."),
            &json!("admin"),
            &json!(["cr1"]),
            &json!("R&D"),
            &json!("p-ada")
        ),
        "{m}"
    );
    let teams: Value = app
        .get("/v1/orgs/acme/teams?personal=true", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(teams["total"], 1, "no second personal space: {teams}");

    // Workbooks.
    ok(app
        .put_entity(
            "acme",
            "workbooks",
            "wb1",
            json!({"name": "Leads", "team_id": "t1", "owner_id": "u1"}),
        )
        .await)
    .await;
    ok(app
        .put_entity("acme", "workbooks", "wb1", json!({"name": "Leads v2"}))
        .await)
    .await;
    let w = attributes(&app, &key, "workbooks", "wb1").await;
    assert_eq!(
        (&w["team_id"], &w["owner_id"]),
        (&json!("t1"), &json!("u1")),
        "{w}"
    );

    // Platform API keys: a rename must not un-revoke.
    ok(app
        .put_entity(
            "acme",
            "api-keys",
            "k1",
            json!({"name": "CI", "owner_id": "u1", "team_id": "t1",
                   "revoked_at": "2026-02-01T00:00:00Z"}),
        )
        .await)
    .await;
    ok(app
        .put_entity("acme", "api-keys", "k1", json!({"name": "CI key"}))
        .await)
    .await;
    let k = attributes(&app, &key, "api-keys", "k1").await;
    assert_eq!(
        (&k["owner_id"], &k["team_id"]),
        (&json!("u1"), &json!("t1")),
        "{k}"
    );
    assert!(
        k["revoked_at"].as_str().unwrap().starts_with("2026-02-01"),
        "{k}"
    );

    // Agents: an update naming only what changed keeps the rest of the configuration.
    let agent = json!({"agent_name": "Support bot", "agent_model": "gpt-5", "workspace_id": "t1",
                       "agent_created_ts": "2026-01-10T09:00:00Z", "agent_system_prompt": "Be kind"});
    ok(app.put_entity("acme", "agents", "ag1", agent).await).await;
    ok(app
        .put_entity(
            "acme",
            "agents",
            "ag1",
            json!({"agent_system_prompt": "Be brief"}),
        )
        .await)
    .await;
    let rows = read_all(&app.store, DataType::Agents, "acme").await;
    let spec = outflow::domain::catalog::spec(DataType::Agents);
    let latest = rows.last().unwrap();
    let text = |f: &str| latest.get(spec, f).unwrap().as_text().map(str::to_string);
    assert_eq!(rows.len(), 2);
    assert_eq!(text("agent_model").as_deref(), Some("gpt-5"));
    assert_eq!(text("agent_name").as_deref(), Some("Support bot"));
    assert_eq!(text("agent_system_prompt").as_deref(), Some("Be brief"));
});

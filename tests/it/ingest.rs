//! Ingest over HTTP: validation, idempotency, body formats and limits.

use crate::both_backends;
use crate::helpers::*;
use serde_json::json;

both_backends!(
    valid_records_are_stored_and_resends_are_duplicates,
    |b| async move {
        let app = spawn_app(b).await;
        app.put_org("acme").await;
        let mut wrong_type = run_record("acme", "r3");
        wrong_type["credit_cost"] = json!("free");
        let mut missing = run_record("acme", "r4");
        missing.as_object_mut().unwrap().remove("pl_run_created_ts");
        let batch = json!([
            run_record("acme", "r1"),
            run_record("acme", "r2"),
            wrong_type,
            missing
        ]);
        let body = app.ingest_ok("workflows", &batch).await;
        assert_eq!(body["accepted"], 2);
        assert_eq!(body["duplicates"], 0);
        let rejected = body["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 2);
        assert_eq!(rejected[0]["index"], 2);
        assert_eq!(rejected[0]["id"], "r3");
        assert!(
            rejected[0]["error"]
                .as_str()
                .unwrap()
                .contains("`credit_cost`")
        );
        assert_eq!(rejected[1]["index"], 3);
        assert!(
            rejected[1]["error"]
                .as_str()
                .unwrap()
                .contains("`pl_run_created_ts`")
        );

        let again = app
            .ingest_ok(
                "workflows",
                &json!([run_record("acme", "r1"), run_record("acme", "r5")]),
            )
            .await;
        assert_eq!(
            (again["accepted"].as_u64(), again["duplicates"].as_u64()),
            (Some(1), Some(1))
        );
        let stored = app
            .store
            .count_records(outflow::domain::DataType::Workflows, "acme")
            .await
            .unwrap();
        assert_eq!(stored, 3, "r1 stored once, plus r2 and r5");
    }
);

both_backends!(
    duplicates_within_one_batch_are_stored_once,
    |b| async move {
        let app = spawn_app(b).await;
        app.put_org("acme").await;
        let body = app
            .ingest_ok(
                "workflows",
                &json!([run_record("acme", "x"), run_record("acme", "x")]),
            )
            .await;
        assert_eq!(
            (body["accepted"].as_u64(), body["duplicates"].as_u64()),
            (Some(1), Some(1))
        );
    }
);

both_backends!(ndjson_and_the_gumstack_alias_are_accepted, |b| async move {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    let lines = [
        json!({"org_id": "acme", "tool_call_id": "tc1", "created_at": "2026-05-01T10:00:00Z", "tool_name": "search_issues", "status": "Success", "latency_ms": 120}),
        json!({"org_id": "acme", "tool_call_id": "tc2", "created_at": "2026-05-01T10:00:01Z", "tool_name": "post_message", "status": "permission_denied"}),
    ];
    let body = lines
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let r = app
        .client
        .post(format!("{}/v1/ingest/gumstack", app.url))
        .bearer_auth(INGEST_KEY)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["accepted"], 2);
    let rows = read_all(&app.store, outflow::domain::DataType::ToolCalls, "acme").await;
    let spec = outflow::domain::catalog::spec(outflow::domain::DataType::ToolCalls);
    assert_eq!(
        rows[0].get(spec, "status").unwrap().as_text(),
        Some("success"),
        "labels are stored as internal values"
    );
});

both_backends!(malformed_json_names_line_and_column, |b| async move {
    let app = spawn_app(b).await;
    let r = app
        .client
        .post(format!("{}/v1/ingest/workflows", app.url))
        .bearer_auth(INGEST_KEY)
        .header("content-type", "application/json")
        .body("[\n {\"org_id\": \"acme\",}\n]")
        .send()
        .await
        .unwrap();
    let msg = error_message(r, 400).await;
    assert!(msg.contains("line 2") && msg.contains("column"), "{msg}");
});

both_backends!(
    unknown_types_orgs_and_oversized_batches_are_refused,
    |b| async move {
        let app = spawn_app_with(b, |c| c.max_body_bytes = 4 * 1024 * 1024).await;
        app.put_org("acme").await;
        let msg = error_message(app.ingest("runs", &json!([])).await, 400).await;
        assert!(
            msg.contains("`runs`")
                && msg.contains("agent_interactions")
                && msg.contains("gumstack"),
            "{msg}"
        );

        let body = app
            .ingest_ok(
                "workflows",
                &json!([run_record("ghost", "r1"), run_record("acme", "r2")]),
            )
            .await;
        assert_eq!(body["accepted"], 1);
        assert!(
            body["rejected"][0]["error"]
                .as_str()
                .unwrap()
                .contains("unknown organization `ghost`")
        );

        let too_many: Vec<_> = (0..10_001)
            .map(|i| json!({"org_id": "acme", "run_id": i.to_string()}))
            .collect();
        let msg = error_message(app.ingest("workflows", &json!(too_many)).await, 413).await;
        assert!(msg.contains("10000"), "{msg}");

        let huge = json!([{"org_id": "acme", "pipeline": "x".repeat(5 * 1024 * 1024)}]);
        // The whole body is sent; the answer arrives (the server reads the rest and drops it
        // rather than resetting the upload).
        let r = app.ingest("workflows", &huge).await;
        error_message(r, 413).await;
        assert_eq!(
            app.store
                .count_records(outflow::domain::DataType::Workflows, "acme")
                .await
                .unwrap(),
            1,
            "nothing lost"
        );
    }
);

both_backends!(ingest_requires_the_ingest_key, |b| async move {
    let app = spawn_app(b).await;
    let r = app
        .client
        .post(format!("{}/v1/ingest/workflows", app.url))
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    error_message(r, 401).await;
    let r = app
        .client
        .post(format!("{}/v1/ingest/workflows", app.url))
        .bearer_auth("ofi_wrong")
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    error_message(r, 401).await;
    let (_, org_secret) = {
        app.put_org("acme").await;
        app.org_key("acme", "admin").await
    };
    let r = app
        .client
        .post(format!("{}/v1/ingest/workflows", app.url))
        .bearer_auth(org_secret)
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    error_message(r, 401).await;
});

both_backends!(agent_changes_become_versions, |b| async move {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    let agent = json!({"agent_name": "Support bot", "agent_model": "gpt-5", "workspace_id": "team-eng",
                        "agent_created_ts": "2026-01-10T09:00:00Z", "agent_system_prompt": "Be kind"});
    let put = |body: serde_json::Value| {
        let app = &app;
        async move {
            let r = app.put_entity("acme", "agents", "ag1", body).await;
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()["new_version"]
                .as_bool()
                .unwrap()
        }
    };
    assert!(put(agent.clone()).await, "first configuration is version 1");
    assert!(
        !put(agent.clone()).await,
        "identical configuration is a resend"
    );
    let mut changed = agent.clone();
    changed["agent_system_prompt"] = json!("Be kind and brief");
    assert!(put(changed).await);
    let rows = read_all(&app.store, outflow::domain::DataType::Agents, "acme").await;
    let spec = outflow::domain::catalog::spec(outflow::domain::DataType::Agents);
    let versions: Vec<_> = rows
        .iter()
        .map(|r| r.get(spec, "agent_version").unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![1, 2]);
    let (_, key) = app.org_key("acme", "usage_export").await;
    let page: serde_json::Value = app
        .get("/v1/orgs/acme/agents", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["attributes"]["version"], 2);
});

both_backends!(
    an_upsert_without_privacy_keeps_the_admins_setting,
    |b| async move {
        let app = spawn_app(b).await;
        let put_org = |body: serde_json::Value| {
            app.client
                .put(format!("{}/v1/orgs/acme", app.url))
                .bearer_auth(INGEST_KEY)
                .json(&body)
                .send()
        };
        let org_privacy = || async {
            app.store
                .get_org("acme")
                .await
                .unwrap()
                .unwrap()
                .privacy
                .as_str()
                .to_string()
        };
        assert_eq!(
            put_org(json!({"name": "Acme"})).await.unwrap().status(),
            200
        );
        assert_eq!(
            org_privacy().await,
            "visible",
            "a new organization starts visible"
        );
        put_org(json!({"name": "Acme", "privacy": "pseudonymized"}))
            .await
            .unwrap();
        // The platform's next upsert omits privacy: the setting stays.
        put_org(json!({"name": "Acme Inc"})).await.unwrap();
        assert_eq!(org_privacy().await, "pseudonymized");
        put_org(json!({"name": "Acme Inc", "privacy": "hidden"}))
            .await
            .unwrap();
        assert_eq!(
            org_privacy().await,
            "hidden",
            "an explicit value still wins"
        );

        let r = app
            .put_entity(
                "acme",
                "teams",
                "hr",
                json!({"name": "HR", "privacy": "hidden"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        app.put_entity("acme", "teams", "hr", json!({"name": "People"}))
            .await;
        let rows = app
            .store
            .query(
                "SELECT privacy FROM teams WHERE org_id = ? AND id = ?",
                &["acme".into(), "hr".into()],
                &[outflow::domain::FieldType::Text],
            )
            .await
            .unwrap();
        assert_eq!(rows[0][0].as_text(), Some("hidden"));
    }
);

both_backends!(
    an_announced_oversized_body_is_refused_before_it_is_sent,
    |b| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let app = spawn_app_with(b, |c| c.max_body_bytes = 4 * 1024 * 1024).await;
        let addr = app.url.trim_start_matches("http://").to_string();
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // Headers only, announcing 1 GiB (more than the server would read and drop): the 413
        // comes at once, without waiting for a body that would never be used.
        let head = format!(
            "POST /v1/ingest/workflows HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {INGEST_KEY}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            1u64 << 30
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            conn.read_to_end(&mut answer),
        )
        .await
        .expect("an answer without waiting for the body")
        .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("max_body_bytes"), "{answer}");
        assert!(
            answer.contains("\"error\""),
            "the JSON error body: {answer}"
        );
    }
);

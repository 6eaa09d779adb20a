//! One-time exports end to end: both API styles for every data type, CSV parsed back, Parquet
//! read back, scoping and filters, privacy, signed links, cancel, orphan recovery, the claim
//! race, audit records, and 404 across organizations on every export route.

use crate::both_backends;
use crate::helpers::*;
use outflow::domain::DataType;
use outflow::export::jobs;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// One record of each type in March 2026 (Berlin), for org `org`.
fn records(org: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "workflows",
            json!([
                {"org_id": org, "run_id": "r-eng", "workspace_id": "team-eng", "workbook_id": "wb-1",
                 "user_id": "u1", "user_email": "ada@acme.example", "credit_cost": 2.5,
                 "workbook_name": "=HYPERLINK(\"http://evil\")",
                 "pl_run_created_ts": "2026-03-29T01:30:00+01:00"},
                {"org_id": org, "run_id": "r-ops", "workspace_id": "team-ops", "workbook_id": "wb-2",
                 "user_id": "u2", "user_email": "bob@acme.example", "credit_cost": -1.0,
                 "pl_run_created_ts": "2026-03-29T03:30:00+02:00"},
                {"org_id": org, "run_id": "r-personal", "workspace_id": "personal-u1", "workbook_id": "wb-3",
                 "user_id": "u1", "user_email": "ada@acme.example",
                 "pl_run_created_ts": "2026-03-30T12:00:00Z"},
                {"org_id": org, "run_id": "r-april", "workspace_id": "team-eng", "workbook_id": "wb-1",
                 "user_id": "u1", "pl_run_created_ts": "2026-04-01T00:00:00+02:00"}
            ]),
        ),
        (
            "agents",
            json!([{"org_id": org, "agent_id": "ag-1", "agent_name": "Helper", "workspace_id": "team-eng",
                    "creator_email": "ada@acme.example", "agent_created_ts": "2026-03-02T10:00:00Z"}]),
        ),
        (
            "agent_interactions",
            json!([{"org_id": org, "interaction_id": "i-1", "agent_id": "ag-1", "workspace_id": "team-eng",
                    "user_id": "u1", "user_email": "ada@acme.example", "message_count": 4,
                    "interaction_created_ts": "2026-03-03T10:00:00Z"}]),
        ),
        (
            "credit_logs",
            json!([
                {"org_id": org, "log_id": "c-1", "timestamp": "2026-03-04T10:00:00Z", "category": "pipeline_run",
                 "amount": -3.0, "balance": 97.0, "user_id": "u1", "user_email": "ada@acme.example",
                 "permission_group_id": "role_fin; role_ops", "permission_group_name": "Finance; Ops"},
                {"org_id": org, "log_id": "c-2", "timestamp": "2026-03-05T10:00:00Z", "category": "agent_run",
                 "amount": -1.0, "balance": 96.0, "user_id": "u2", "permission_group_id": "role_eng"}
            ]),
        ),
        (
            "audit_logs",
            json!([
                {"org_id": org, "event_id": "e-1", "timestamp": "2026-03-06T10:00:00Z", "event_type": "user_sign_in", "user_id": "u1"},
                {"org_id": org, "event_id": "e-2", "timestamp": "2026-03-06T11:00:00Z", "event_type": "credential_insertion", "user_id": "u2"}
            ]),
        ),
        (
            "tool_calls",
            json!([{"org_id": org, "tool_call_id": "t-1", "created_at": "2026-03-07T10:00:00Z",
                    "tool_name": "search", "server_id": "srv-1", "user_id": "u1"}]),
        ),
    ]
}

async fn seeded(b: Backend, tweak: impl FnOnce(&mut outflow::config::Config)) -> TestApp {
    let app = spawn_app_with(b, tweak).await;
    for org in ["acme", "globex"] {
        app.put_org(org).await;
        for team in ["team-eng", "team-ops"] {
            put_team(&app, org, team, team).await;
        }
        for (id, email) in [("u1", "ada@acme.example"), ("u2", "bob@acme.example")] {
            put_member(&app, org, id, email, id).await;
        }
        for (dt, batch) in records(org) {
            let body = app.ingest_ok(dt, &batch).await;
            assert!(
                body["rejected"].as_array().unwrap().is_empty(),
                "{dt}: {body}"
            );
        }
    }
    app
}

async fn download_csv(app: &TestApp, key: &str, id: &str) -> Vec<csv::StringRecord> {
    let r = app.get(&format!("/v1/exports/{id}/download"), key).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = r.bytes().await.unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_ref());
    reader.records().map(|r| r.unwrap()).collect()
}

both_backends!(every_type_exports_through_both_api_styles, |b| async move {
    let app = seeded(b, |_| {}).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let cases = [
        ("workflows", "run_id", 3),
        ("agents", "agent_id", 1),
        ("agent_interactions", "interaction_id", 1),
        ("credit_logs", "log_id", 2),
        ("audit_logs", "event_id", 2),
        ("gumstack", "tool_call_id", 1),
    ];
    for (dt, id_field, expected) in cases {
        // Native.
        let r = post_json(
            &app,
            "/v1/exports",
            &key,
            json!({"data_type": dt, "start": "2026-03-01", "end": "2026-03-31",
                       "timezone": "Europe/Berlin", "include_all_workspaces": true,
                       "field_preset": "minimal"}),
        )
        .await;
        assert_eq!(r.status(), 202, "{dt}: {}", r.text().await.unwrap());
        let job: Value = r.json().await.unwrap();
        let done = wait_export(&app, &key, job["id"].as_str().unwrap()).await;
        assert_eq!(done["state"], "COMPLETED", "{dt}: {done}");
        assert_eq!(done["rows_written"], expected, "{dt}");
        let rows = download_csv(&app, &key, job["id"].as_str().unwrap()).await;
        assert_eq!(rows.len(), expected + 1, "{dt}");
        assert!(
            rows[0].iter().any(|h| h == id_field),
            "{dt}: {:?}",
            &rows[0]
        );

        // Reference.
        let r = post_json(
            &app,
            "/export_data",
            &key,
            json!({"user_id": "u1", "data_type": dt, "export_fields": [id_field],
                       "start_date": "2026-02-28T23:00:00Z", "end_date": "2026-03-31T21:59:59Z",
                       "include_all_workspaces": true}),
        )
        .await;
        assert_eq!(r.status(), 200, "{dt}: {}", r.text().await.unwrap());
        let started: Value = r.json().await.unwrap();
        assert_eq!(started["success"], true);
        assert_eq!(started["state"], "REQUESTED");
        let id = started["data_export_id"].as_str().unwrap().to_string();
        let done = wait_export(&app, &key, &id).await;
        assert_eq!(done["state"], "COMPLETED");
        let status: Value = app
            .get(
                &format!("/export_status?user_id=u1&data_export_id={id}"),
                &key,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(status["state"], "COMPLETED");
        assert!(status["finished_ts"].is_string());
        let r = app
            .get(
                &format!("/export_status?user_id=u1&data_export_id={id}&download=true"),
                &key,
            )
            .await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = r.text().await.unwrap();
        assert_eq!(text.lines().count(), expected + 1, "{dt}: {text}");
        assert_eq!(text.lines().next(), Some(id_field));
    }
});

both_backends!(csv_has_ranges_scopes_filters_and_guards, |b| async move {
    let app = seeded(b, |_| {}).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let export = |body: Value| {
        let app = &app;
        let key = &key;
        async move {
            let r = post_json(app, "/v1/exports", key, body).await;
            assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
            let job: Value = r.json().await.unwrap();
            let id = job["id"].as_str().unwrap().to_string();
            let done = wait_export(app, key, &id).await;
            assert_eq!(done["state"], "COMPLETED", "{done}");
            download_csv(app, key, &id).await
        }
    };
    // The Berlin spring change: 2026-03-29 is 23 hours long and holds both runs of that
    // day; team scoping drops the personal space unless asked for.
    let rows = export(
        json!({"data_type": "workflows", "start": "2026-03-29", "end": "2026-03-29",
            "timezone": "Europe/Berlin", "workspace_ids": ["team-eng", "team-ops"],
            "fields": ["run_id", "pl_run_created_ts", "workbook_name", "credit_cost"]}),
    )
    .await;
    assert_eq!(
        &rows[0],
        &csv::StringRecord::from(vec![
            "run_id",
            "pl_run_created_ts",
            "workbook_name",
            "credit_cost"
        ])
    );
    let ids: Vec<&str> = rows[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(ids, ["r-eng", "r-ops"]);
    assert_eq!(&rows[1][1], "2026-03-29T00:30:00.000000Z");
    assert_eq!(
        &rows[1][2], "'=HYPERLINK(\"http://evil\")",
        "formula neutralised"
    );
    assert_eq!(&rows[2][3], "-1", "negative numbers stay numbers");

    let rows = export(
        json!({"data_type": "workflows", "start": "2026-03-29", "end": "2026-03-31",
            "timezone": "Europe/Berlin", "include_personal_workspaces": true,
            "fields": ["run_id", "workbook_name"], "neutralise_formulas": false,
            "local_timestamps": true}),
    )
    .await;
    let ids: Vec<&str> = rows[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(ids, ["r-personal"]);

    let rows = export(json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-04-30",
            "timezone": "Europe/Berlin", "entity_ids": ["wb-1"], "fields": ["run_id", "workbook_name", "pl_run_created_ts"],
            "neutralise_formulas": false, "local_timestamps": true}))
        .await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        &rows[1][1], "=HYPERLINK(\"http://evil\")",
        "opt-out keeps the cell"
    );
    assert_eq!(&rows[1][2], "2026-03-29T01:30:00.000000+01:00");
    assert_eq!(&rows[2][2], "2026-04-01T00:00:00.000000+02:00");

    // Credit logs: category (case-insensitive, labels out) and custom role filters.
    let rows = export(
        json!({"data_type": "credit_logs", "start": "2026-03-01", "end": "2026-03-31",
            "category_filter": "PIPELINE_RUN", "fields": ["log_id", "category"]}),
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[1][0], "c-1");
    assert_ne!(
        &rows[1][1], "pipeline_run",
        "exports carry the category label"
    );
    let rows = export(
        json!({"data_type": "credit_logs", "start": "2026-03-01", "end": "2026-03-31",
            "permission_group_filter": "role_ops", "fields": ["log_id"]}),
    )
    .await;
    assert_eq!(
        rows.iter()
            .skip(1)
            .map(|r| r[0].to_string())
            .collect::<Vec<_>>(),
        ["c-1"]
    );
    let rows = export(
        json!({"data_type": "audit_logs", "start": "2026-03-01", "end": "2026-03-31",
            "event_type_filter": ["credential_insertion"], "fields": ["event_id"]}),
    )
    .await;
    assert_eq!(
        rows.iter()
            .skip(1)
            .map(|r| r[0].to_string())
            .collect::<Vec<_>>(),
        ["e-2"]
    );
    // Personal scope: only the caller's rows, teams ignored.
    let rows = export(
        json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-04-30",
            "export_scope": "personal", "user_id": "u2", "fields": ["run_id"]}),
    )
    .await;
    assert_eq!(
        rows.iter()
            .skip(1)
            .map(|r| r[0].to_string())
            .collect::<Vec<_>>(),
        ["r-ops"]
    );
});

both_backends!(
    bad_requests_name_the_parameter_and_store_nothing,
    |b| async move {
        let app = seeded(b, |_| {}).await;
        let (_, key) = app.org_key("acme", "usage_export").await;
        let base = json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-03-31",
                          "include_all_workspaces": true, "field_preset": "default"});
        let cases: Vec<(Value, u16, Vec<&str>)> = vec![
            (
                json!({"data_type": "runs"}),
                400,
                vec!["runs", "agent_interactions"],
            ),
            (json!({"end": "2026-02-01"}), 400, vec!["end", "before"]),
            (
                json!({"timezone": "Mars/Olympus"}),
                400,
                vec!["timezone", "Mars/Olympus"],
            ),
            (
                json!({"start": "2026-13-01"}),
                400,
                vec!["start", "2026-13-01"],
            ),
            (
                json!({"preset": "next_decade", "start": null, "end": null}),
                400,
                vec!["preset", "last_30_days"],
            ),
            (
                json!({"field_preset": null, "fields": ["run_id", "colour"]}),
                400,
                vec!["colour", "pl_run_created_ts"],
            ),
            (json!({"format": "xlsx"}), 400, vec!["xlsx", "parquet"]),
            (
                json!({"format": "parquet", "gzip": true}),
                400,
                vec!["gzip"],
            ),
            (
                json!({"include_all_workspaces": false}),
                400,
                vec!["workspace_ids"],
            ),
            (
                json!({"include_all_workspaces": false, "workspace_ids": ["nope"]}),
                404,
                vec!["nope"],
            ),
            (
                json!({"export_scope": "team"}),
                400,
                vec!["export_scope", "personal"],
            ),
        ];
        for (patch, status, needles) in cases {
            let mut body = base.clone();
            for (k, v) in patch.as_object().unwrap() {
                body[k] = v.clone();
            }
            let msg = error_message(
                post_json(&app, "/v1/exports", &key, body.clone()).await,
                status,
            )
            .await;
            for n in needles {
                assert!(msg.contains(n), "{body}: `{msg}` lacks `{n}`");
            }
        }
        // Reference rules.
        let reference = json!({"user_id": "u1", "export_fields": ["run_id"],
            "start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-31T23:59:59Z"});
        let msg = error_message(
            post_json(&app, "/export_data", &key, reference.clone()).await,
            400,
        )
        .await;
        assert!(msg.contains("include_all_workspaces"), "{msg}");
        let mut bad_level = reference.clone();
        bad_level["export_level"] = json!("galaxy");
        let msg = error_message(post_json(&app, "/export_data", &key, bad_level).await, 400).await;
        assert!(msg.contains("workspace, organization"), "{msg}");
        let mut one_ws = reference.clone();
        one_ws["export_level"] = json!("workspace");
        one_ws["workspace_ids"] = json!(["team-eng", "team-ops"]);
        let msg = error_message(post_json(&app, "/export_data", &key, one_ws).await, 400).await;
        assert!(msg.contains("exactly one"), "{msg}");
        let mut credit = reference.clone();
        credit["data_type"] = json!("credit_logs");
        credit["export_fields"] = json!(["log_id"]);
        assert_eq!(
            post_json(&app, "/export_data", &key, credit).await.status(),
            200,
            "credit logs need no scope"
        );
        let mut no_user = reference.clone();
        no_user.as_object_mut().unwrap().remove("user_id");
        let msg = error_message(post_json(&app, "/export_data", &key, no_user).await, 400).await;
        assert!(msg.contains("user_id"), "{msg}");
        let msg = error_message(app.get("/export_status?user_id=u1", &key).await, 400).await;
        assert!(msg.contains("data_export_id"), "{msg}");
        // Only the one valid credit-log request was stored.
        let (jobs, total) = jobs::list(&app.store, "acme", 1, 50).await.unwrap();
        assert_eq!((jobs.len(), total), (1, 1));
    }
);

both_backends!(parquet_ndjson_gzip_and_signed_links, |b| async move {
    let app = seeded(b, |_| {}).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let start = |format: &str, gzip: bool| {
        let app = &app;
        let key = &key;
        let body = json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-04-30",
                "include_all_workspaces": true, "fields": ["run_id", "credit_cost", "pl_run_created_ts"],
                "format": format, "gzip": gzip});
        async move {
            let job: Value = post_json(app, "/v1/exports", key, body)
                .await
                .json()
                .await
                .unwrap();
            wait_export(app, key, job["id"].as_str().unwrap()).await
        }
    };
    let job = start("parquet", false).await;
    let url = job["download_url"].as_str().unwrap().to_string();
    let bytes = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 4);
    let schema = batches[0].schema();
    assert_eq!(
        schema.field(1).data_type(),
        &arrow_schema::DataType::Float64
    );
    assert!(matches!(
        schema.field(2).data_type(),
        arrow_schema::DataType::Timestamp(_, _)
    ));

    let job = start("ndjson", true).await;
    assert!(job["file_name"].as_str().unwrap().ends_with(".ndjson.gz"));
    let url = job["download_url"].as_str().unwrap().to_string();
    let gz = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz.as_ref()), &mut text)
        .unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["run_id"], "r-eng");
    assert_eq!(lines[0]["credit_cost"], 2.5);

    // Tampering with any part of a signed link is refused.
    let tampered = [
        url.replace("/exports/acme/", "/exports/globex/"),
        url.replace("expires=", "expires=9"),
        {
            let (head, sig) = url.rsplit_once("signature=").unwrap();
            let flipped = if sig.starts_with('a') { "b" } else { "a" };
            format!("{head}signature={flipped}{}", &sig[1..])
        },
    ];
    for bad in tampered {
        let r = app.client.get(&bad).send().await.unwrap();
        assert_eq!(r.status(), 403, "{bad}");
    }
    // An expired link is refused (signed by the same service, already past).
    let export = outflow::export::jobs::get(&app.store, "acme", job["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let expired = app.exports.files.signed_url(
        export.file_key.as_deref().unwrap(),
        chrono::Utc::now() - chrono::Duration::seconds(1),
    );
    let msg = error_message(app.client.get(&expired).send().await.unwrap(), 403).await;
    assert!(msg.contains("expired"), "{msg}");

    // Retention: past its time the file is deleted and the job shows EXPIRED.
    let changed = app
        .exports
        .sweep(chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    assert!(changed >= 2);
    let after: Value = app
        .get(&format!("/v1/exports/{}", export.id), &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["state"], "EXPIRED");
    assert!(after["download_url"].is_null());
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    error_message(
        app.get(&format!("/v1/exports/{}/download", export.id), &key)
            .await,
        404,
    )
    .await;
});

both_backends!(cancel_orphans_and_the_claim_race, |b| async move {
    // No background workers: the test drives the queue itself.
    let app = seeded(b, |c| c.exports.workers = 0).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let body = json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-03-31",
                          "include_all_workspaces": true, "field_preset": "minimal"});
    // A queued job cancels at once; a second cancel is a conflict.
    let job: Value = post_json(&app, "/v1/exports", &key, body.clone())
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap();
    let r = post_json(&app, &format!("/v1/exports/{id}/cancel"), &key, json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "CANCELLED");
    error_message(
        post_json(&app, &format!("/v1/exports/{id}/cancel"), &key, json!({})).await,
        409,
    )
    .await;
    assert!(
        app.exports.run_next().await.unwrap().is_none(),
        "cancelled jobs are not run"
    );

    // A worker that dies mid-job leaves a lease that runs out; another worker takes over.
    let job: Value = post_json(&app, "/v1/exports", &key, body.clone())
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    let now = chrono::Utc::now();
    let dead = jobs::claim(
        &app.store,
        "dead-node",
        now,
        now + chrono::Duration::milliseconds(1),
        3,
    )
    .await
    .unwrap()
    .expect("claimed");
    assert_eq!(dead.id, id);
    let deadline = Instant::now() + Duration::from_secs(10);
    let state = loop {
        if let Some(s) = app.exports.run_next().await.unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "orphan never reclaimed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(state, jobs::JobState::Completed);
    let done = jobs::get(&app.store, "acme", &id).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.attempts, done.rows_written),
        (jobs::JobState::Completed, 2, 3)
    );
    // The dead worker's late heartbeat finds its lease gone.
    let later = chrono::Utc::now() + chrono::Duration::seconds(60);
    assert_eq!(
        jobs::heartbeat(&app.store, &id, "dead-node", later, 1)
            .await
            .unwrap(),
        None
    );

    // A running job's cancel reaches its worker through the heartbeat.
    let job: Value = post_json(&app, "/v1/exports", &key, body.clone())
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    let claimed = jobs::claim(&app.store, "node-a", now, later, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, id);
    let r = post_json(&app, &format!("/v1/exports/{id}/cancel"), &key, json!({})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "IN_PROGRESS");
    assert_eq!(
        jobs::heartbeat(&app.store, &id, "node-a", later, 1234)
            .await
            .unwrap(),
        Some(true)
    );
    // Progress carried by heartbeats is visible while the job runs.
    let running: Value = app
        .get(&format!("/v1/exports/{id}"), &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(running["state"], "IN_PROGRESS");
    assert_eq!(running["rows_written"], 1234);

    // Many workers racing for one job: exactly one wins.
    let job: Value = post_json(&app, "/v1/exports", &key, body)
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    let mut racers = Vec::new();
    for n in 0..8 {
        let store = app.store.clone();
        racers.push(tokio::spawn(async move {
            let now = chrono::Utc::now();
            jobs::claim(
                &store,
                &format!("racer-{n}"),
                now,
                now + chrono::Duration::seconds(60),
                3,
            )
            .await
            .unwrap()
            .map(|j| j.id)
        }));
    }
    let mut winners = Vec::new();
    for r in racers {
        if let Some(won) = r.await.unwrap() {
            winners.push(won);
        }
    }
    assert_eq!(winners, vec![id]);
});

both_backends!(
    export_routes_are_scoped_audited_and_private,
    |b| async move {
        let app = seeded(b, |_| {}).await;
        let (_, acme) = app.org_key("acme", "usage_export").await;
        let (_, globex) = app.org_key("globex", "usage_export").await;
        let (_, drains_only) = app.org_key("acme", "drains").await;
        let body = json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-03-31",
                          "include_all_workspaces": true, "fields": ["run_id", "user_email"], "user_id": "u1"});
        error_message(
            post_json(&app, "/v1/exports", &drains_only, body.clone()).await,
            403,
        )
        .await;
        let job: Value = post_json(&app, "/v1/exports", &acme, body.clone())
            .await
            .json()
            .await
            .unwrap();
        let id = job["id"].as_str().unwrap().to_string();
        wait_export(&app, &acme, &id).await;
        for path in [
            format!("/v1/exports/{id}"),
            format!("/v1/exports/{id}/download"),
            format!("/export_status?user_id=u1&data_export_id={id}"),
            format!("/export_status?user_id=u1&data_export_id={id}&download=true"),
        ] {
            error_message(app.get(&path, &globex).await, 404).await;
        }
        error_message(
            post_json(
                &app,
                &format!("/v1/exports/{id}/cancel"),
                &globex,
                json!({}),
            )
            .await,
            404,
        )
        .await;
        let page: Value = app.get("/v1/exports", &globex).await.json().await.unwrap();
        assert_eq!(page["total"], 0);
        let msg = error_message(
            app.get(
                &format!("/export_status?user_id=u2&data_export_id={id}"),
                &acme,
            )
            .await,
            403,
        )
        .await;
        assert!(msg.contains("another user"), "{msg}");

        // The requester (user_id) is emailed a link; with no SMTP host it lands in the outbox.
        let outbox = app._db.dir.path().join("outbox");
        let mails: Vec<String> = std::fs::read_dir(&outbox)
            .expect("outbox exists")
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        let mail = mails
            .iter()
            .find(|m| m.contains(&id))
            .unwrap_or_else(|| panic!("no completion email for {id} in {mails:?}"));
        assert!(mail.contains("To: ada@acme.example"), "{mail}");
        assert!(mail.contains("is ready"), "{mail}");
        assert!(mail.contains("/v1/downloads/exports/acme/"), "{mail}");

        // Created and downloaded are audited as the organization's own audit_logs.
        let rows = download_csv(&app, &acme, &id).await;
        assert_eq!(rows.len(), 4);
        let events = read_all(&app.store, DataType::AuditLogs, "acme").await;
        let types: Vec<String> = events
            .iter()
            .filter_map(|r| r.values[2].as_text().map(str::to_string))
            .collect();
        assert!(types.contains(&"export_created".to_string()), "{types:?}");
        assert!(
            types.contains(&"export_downloaded".to_string()),
            "{types:?}"
        );

        // Pseudonymized organization: emails become stable keyed pseudonyms.
        let r = app
            .client
            .put(format!("{}/v1/orgs/acme", app.url))
            .bearer_auth(INGEST_KEY)
            .json(&json!({"name": "Org acme", "timezone": "Europe/Berlin", "billing_anchor_day": 15, "privacy": "pseudonymized"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let job: Value = post_json(&app, "/v1/exports", &acme, body)
            .await
            .json()
            .await
            .unwrap();
        let id = job["id"].as_str().unwrap().to_string();
        wait_export(&app, &acme, &id).await;
        let rows = download_csv(&app, &acme, &id).await;
        let emails: Vec<&str> = rows[1..].iter().map(|r| &r[1]).collect();
        assert!(emails.iter().all(|e| e.starts_with("anon_")), "{emails:?}");
        assert_eq!(emails[0], emails[2], "same person, same pseudonym");
        assert_ne!(emails[0], emails[1]);

        // History is newest first.
        let page: Value = app
            .get("/v1/exports?page_size=1", &acme)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["total"], 2);
        assert_eq!(page["items"][0]["id"], id);
    }
);

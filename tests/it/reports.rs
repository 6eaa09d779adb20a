//! Usage reports: a small deterministic organization seeded through the ingest API, then the
//! exact aggregates of every report type and split through the native `POST /v1/reports/…`
//! and the reference-compatible `POST /export/{type}/json`; validation, the row cap, privacy,
//! scopes and tenancy.
//!
//! The window is March 2026 in Europe/Berlin. Two interactions sit just outside it (the hour
//! before, the hour after), so an off-by-one in the window shows up in every total.

use crate::both_backends;
use crate::helpers::*;
use outflow::privacy::PrivacyPolicy;
use serde_json::{Value, json};
use std::collections::HashMap;

const ADA: &str = "ada@acme.example";
const BOB: &str = "bob@acme.example";

async fn ok(r: reqwest::Response) {
    let status = r.status();
    assert!(status.is_success(), "{status}: {}", r.text().await.unwrap());
}

#[allow(clippy::too_many_arguments)]
fn chat(
    id: &str,
    user: &str,
    agent: Option<&str>,
    team: &str,
    model: &str,
    source: &str,
    key: Option<&str>,
    at: &str,
    msgs: i64,
    tokens: [i64; 4],
    usd: f64,
    credits: f64,
) -> Value {
    let mut v = json!({
        "org_id": "acme", "interaction_id": id, "user_id": user,
        "user_email": if user == "u1" { ADA } else { BOB },
        "workspace_id": team, "model": model, "source": source,
        "interaction_created_ts": at, "message_count": msgs,
        "prompt_tokens": tokens[0], "completion_tokens": tokens[1],
        "cached_prompt_tokens": tokens[2], "cache_creation_tokens": tokens[3],
        "cost_usd": usd, "credit_cost": credits,
    });
    if let Some(a) = agent {
        v["agent_id"] = a.into();
    }
    if let Some(k) = key {
        v["api_key_id"] = k.into();
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn run(
    id: &str,
    wb: &str,
    user: &str,
    parent: Option<&str>,
    status: &str,
    start: &str,
    end: Option<&str>,
    credits: Option<f64>,
) -> Value {
    let mut v = json!({
        "org_id": "acme", "run_id": id, "workbook_id": wb, "user_id": user,
        "workspace_id": if wb == "wb-1" { "team-eng" } else { "team-sales" },
        "run_status": status, "pl_run_created_ts": start,
    });
    if let Some(p) = parent {
        v["parent_run_id"] = p.into();
    }
    if let Some(e) = end {
        v["pl_run_finished_ts"] = e.into();
    }
    if let Some(c) = credits {
        v["credit_cost"] = c.into();
    }
    v
}

/// The organization `acme`: two members in the window (a third joins after it), two teams
/// (Sales pseudonymized), three agents (one unused), platform keys (one revoked before the
/// window, one created after it, one revoked during it), two workbooks, five interactions in
/// the window and two outside, four tool calls, five runs.
async fn seed(app: &TestApp) {
    app.put_org("acme").await;
    for (id, body) in [
        (
            "u1",
            json!({"email": ADA, "name": "Ada Lovelace", "role": "admin", "department": "Engineering", "joined_at": "2025-01-01T00:00:00Z"}),
        ),
        (
            "u2",
            json!({"email": BOB, "name": "Bob Page", "department": "Sales", "joined_at": "2025-06-01T00:00:00Z"}),
        ),
        (
            "u3",
            json!({"email": "cy@acme.example", "name": "Cy Late", "joined_at": "2026-05-01T00:00:00Z"}),
        ),
    ] {
        ok(app.put_entity("acme", "members", id, body).await).await;
    }
    ok(app
        .put_entity(
            "acme",
            "teams",
            "team-eng",
            json!({"name": "Engineering", "owner_id": "u1"}),
        )
        .await)
    .await;
    ok(app
        .put_entity(
            "acme",
            "teams",
            "team-sales",
            json!({"name": "Sales", "owner_id": "u2", "privacy": "pseudonymized"}),
        )
        .await)
    .await;
    for (id, body) in [
        (
            "key-zap",
            json!({"name": "Zapier", "created_at": "2025-01-01T00:00:00Z"}),
        ),
        (
            "key-old",
            json!({"name": "Old CI", "created_at": "2025-01-01T00:00:00Z", "revoked_at": "2026-01-01T00:00:00Z"}),
        ),
        (
            "key-new",
            json!({"name": "New", "created_at": "2026-04-15T00:00:00Z"}),
        ),
        (
            "key-late",
            json!({"name": "Retired", "created_at": "2025-01-01T00:00:00Z", "revoked_at": "2026-03-15T00:00:00Z"}),
        ),
    ] {
        ok(app.put_entity("acme", "api-keys", id, body).await).await;
    }
    for (id, name, team) in [
        ("wb-1", "Lead scoring", "team-eng"),
        ("wb-2", "Invoice sync", "team-sales"),
    ] {
        ok(app
            .put_entity(
                "acme",
                "workbooks",
                id,
                json!({"name": name, "team_id": team, "created_at": "2025-01-01T00:00:00Z"}),
            )
            .await)
        .await;
    }
    let agents = json!([
        {"org_id": "acme", "agent_id": "agent-a", "agent_name": "Helper", "agent_description": "Answers questions",
         "agent_created_ts": "2025-10-01T00:00:00Z", "creator_email": ADA, "workspace_id": "team-eng"},
        {"org_id": "acme", "agent_id": "agent-b", "agent_name": "Sales bot", "agent_description": "Closes deals",
         "agent_created_ts": "2025-11-01T00:00:00Z", "creator_email": BOB, "workspace_id": "team-sales"},
        {"org_id": "acme", "agent_id": "agent-c", "agent_name": "Unused", "agent_description": "Nobody calls me",
         "agent_created_ts": "2026-02-01T00:00:00Z", "creator_email": ADA, "workspace_id": "team-eng"},
    ]);
    assert_eq!(app.ingest_ok("agents", &agents).await["accepted"], 3);
    let claude = "anthropic/claude-sonnet-4-5";
    let chats = json!([
        chat(
            "i1",
            "u1",
            Some("agent-a"),
            "team-eng",
            claude,
            "WEB",
            None,
            "2026-03-02T10:00:00+01:00",
            4,
            [1000, 200, 600, 100],
            0.5,
            5.0
        ),
        chat(
            "i2",
            "u1",
            Some("agent-a"),
            "team-eng",
            "openai/gpt-4.1",
            "API",
            Some("key-zap"),
            "2026-03-10T10:00:00+01:00",
            2,
            [500, 100, 0, 0],
            0.25,
            2.5
        ),
        chat(
            "i3",
            "u2",
            Some("agent-b"),
            "team-sales",
            claude,
            "MOBILE",
            None,
            "2026-03-15T10:00:00+01:00",
            6,
            [3000, 300, 1000, 500],
            1.25,
            10.0
        ),
        chat(
            "i4",
            "u1",
            None,
            "personal-u1",
            "openai/gpt-4.1",
            "WEB",
            None,
            "2026-03-20T10:00:00+01:00",
            3,
            [300, 60, 0, 0],
            0.125,
            1.0
        ),
        chat(
            "i5",
            "u2",
            Some("agent-a"),
            "team-eng",
            "OpenAI/GPT-4.1",
            "API",
            Some("key-zap"),
            "2026-03-25T10:00:00+01:00",
            1,
            [200, 40, 100, 0],
            0.0625,
            0.5
        ),
        // Outside the window: the last hour of February and the first hour of April (Berlin).
        chat(
            "o1",
            "u1",
            Some("agent-a"),
            "team-eng",
            claude,
            "WEB",
            Some("key-zap"),
            "2026-02-28T23:30:00+01:00",
            100,
            [9, 9, 0, 0],
            9.0,
            9.0
        ),
        chat(
            "o2",
            "u2",
            Some("agent-b"),
            "team-sales",
            claude,
            "WEB",
            Some("key-late"),
            "2026-04-01T00:30:00+02:00",
            100,
            [9, 9, 0, 0],
            9.0,
            9.0
        ),
    ]);
    assert_eq!(
        app.ingest_ok("agent_interactions", &chats).await["accepted"],
        7
    );
    let calls: Vec<Value> = [
        ("t1", "u1", "search"),
        ("t2", "u1", "search"),
        ("t3", "u1", "send_email"),
        ("t4", "u2", "search"),
    ]
    .iter()
    .enumerate()
    .map(|(n, (id, user, tool))| {
        json!({"org_id": "acme", "tool_call_id": id, "user_id": user, "tool_name": tool,
                   "server_name": "Gmail", "created_at": format!("2026-03-0{}T09:00:00Z", n + 3)})
    })
    .collect();
    assert_eq!(
        app.ingest_ok("tool_calls", &json!(calls)).await["accepted"],
        4
    );
    let runs = json!([
        run(
            "r1",
            "wb-1",
            "u1",
            None,
            "success",
            "2026-03-05T10:00:00Z",
            Some("2026-03-05T10:01:30Z"),
            Some(2.0)
        ),
        run(
            "r1_s1",
            "wb-1",
            "u1",
            Some("r1"),
            "success",
            "2026-03-05T10:00:10Z",
            Some("2026-03-05T10:00:20Z"),
            Some(0.5)
        ),
        run(
            "r2",
            "wb-1",
            "u2",
            None,
            "failed",
            "2026-03-06T10:00:00Z",
            Some("2026-03-06T10:00:30Z"),
            Some(1.0)
        ),
        run(
            "r3",
            "wb-1",
            "u1",
            None,
            "running",
            "2026-03-07T10:00:00Z",
            None,
            None
        ),
        run(
            "r4",
            "wb-2",
            "u2",
            None,
            "success",
            "2026-03-08T10:00:00Z",
            Some("2026-03-08T10:01:00Z"),
            Some(3.0)
        ),
    ]);
    assert_eq!(app.ingest_ok("workflows", &runs).await["accepted"], 5);
}

/// The reference body for March 2026 in Berlin, as wall-clock times (a trailing `Z` would
/// make them UTC instants).
fn march(group_by: Option<&str>) -> Value {
    let mut b = json!({
        "from": {"date": "2026-03-01T00:00:00.000", "timezone": "Europe/Berlin"},
        "to": {"date": "2026-03-31T23:59:59.999", "timezone": "Europe/Berlin"},
    });
    if let Some(g) = group_by {
        b["group_by"] = g.into();
    }
    b
}

async fn post(app: &TestApp, path: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.url))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// `POST /export/{kind}/json` for March; asserts 200 and returns the body.
async fn export_json(app: &TestApp, key: &str, kind: &str, group_by: Option<&str>) -> Value {
    let r = post(app, &format!("/export/{kind}/json"), key, &march(group_by)).await;
    assert_eq!(r.status(), 200, "{kind}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], true);
    assert_eq!(
        body["metadata"]["recordCount"].as_u64().unwrap() as usize,
        body["data"].as_array().unwrap().len()
    );
    body
}

async fn rows(app: &TestApp, key: &str, kind: &str, group_by: Option<&str>) -> Vec<Value> {
    export_json(app, key, kind, group_by).await["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// The window columns every row starts with.
fn window(mut row: Value) -> Value {
    row["period_start"] = "2026-03-01".into();
    row["period_end"] = "2026-03-31".into();
    row["org_id"] = "acme".into();
    row
}

async fn policy(app: &TestApp) -> PrivacyPolicy {
    let key = app.store.org_pseudonym_key("acme").await.unwrap().unwrap();
    PrivacyPolicy::new(Default::default(), HashMap::new(), key.into_bytes())
}

both_backends!(users_report_totals_ranks_and_maps, |b| async move {
    let app = spawn_app(b).await;
    seed(&app).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let body = export_json(&app, &key, "users", None).await;
    assert_eq!(body["metadata"]["dataType"], "users");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "u3 joined after the window");
    assert_eq!(
        data[0],
        window(json!({
            "user_id": "u1", "name": "Ada Lovelace", "email": ADA, "role": "admin",
            "joined_at": "2025-01-01T00:00:00.000000Z", "department": "Engineering",
            "company_name": null, "license_type": null, "payg_limit_current": null,
            "payg_consumption_in_period": null, "payg_utilization_pct_current": null,
            "messages_total": 9, "messages_total_rank": 1,
            "messages_chat": 3, "messages_chat_rank": 1,
            "messages_assistants": 6, "messages_assistants_rank": 2,
            "assistants_messaged": 1, "assistants_to_messages": {"agent-a": 6},
            "messages_projects": 6, "messages_projects_rank": 2,
            "projects_messaged": 1, "projects_to_messages": {"team-eng": 6},
            "model_to_messages_total": {"anthropic/claude-sonnet-4-5": 4, "openai/gpt-4.1": 5},
            "action_messages": 3, "action_messaged": 2,
            "action_to_messages": {"search": 2, "send_email": 1},
            "sum_prompt_tokens": 1800, "sum_completion_tokens": 360,
            "total_cost_usd": 0.875, "credit_cost": 8.5,
        }))
    );
    assert_eq!(
        data[1],
        window(json!({
            "user_id": "u2", "name": "Bob Page", "email": BOB, "role": "member",
            "joined_at": "2025-06-01T00:00:00.000000Z", "department": "Sales",
            "company_name": null, "license_type": null, "payg_limit_current": null,
            "payg_consumption_in_period": null, "payg_utilization_pct_current": null,
            "messages_total": 7, "messages_total_rank": 2,
            "messages_chat": 0, "messages_chat_rank": 2,
            "messages_assistants": 7, "messages_assistants_rank": 1,
            "assistants_messaged": 2, "assistants_to_messages": {"agent-a": 1, "agent-b": 6},
            "messages_projects": 7, "messages_projects_rank": 1,
            "projects_messaged": 2, "projects_to_messages": {"team-eng": 1, "team-sales": 6},
            "model_to_messages_total": {"anthropic/claude-sonnet-4-5": 6, "OpenAI/GPT-4.1": 1},
            "action_messages": 1, "action_messaged": 1, "action_to_messages": {"search": 1},
            "sum_prompt_tokens": 3200, "sum_completion_tokens": 340,
            "total_cost_usd": 1.3125, "credit_cost": 10.5,
        }))
    );

    // Split by model: only pairs with usage, ranked within each model; tool-call columns
    // cannot be split and are absent.
    let split = rows(&app, &key, "users", Some("model")).await;
    let summary: Vec<(Value, Value, Value, Value, Value)> = split
        .iter()
        .map(|r| {
            (
                r["user_id"].clone(),
                r["model"].clone(),
                r["messages_total"].clone(),
                r["messages_total_rank"].clone(),
                r["messages_chat"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                json!("u2"),
                json!("anthropic/claude-sonnet-4-5"),
                json!(6),
                json!(1),
                json!(0)
            ),
            (
                json!("u1"),
                json!("openai/gpt-4.1"),
                json!(5),
                json!(1),
                json!(3)
            ),
            (
                json!("u1"),
                json!("anthropic/claude-sonnet-4-5"),
                json!(4),
                json!(2),
                json!(0)
            ),
            (
                json!("u2"),
                json!("OpenAI/GPT-4.1"),
                json!(1),
                json!(1),
                json!(0)
            ),
        ]
    );
    assert!(split[0].get("action_messages").is_none());
    assert!(split[0].get("model_to_messages_total").is_none());
    assert_eq!(split[1]["projects_to_messages"], json!({"team-eng": 2}));
    assert_eq!(split[1]["sum_prompt_tokens"], 800);
});

both_backends!(agents_keys_projects_models_workflows, |b| async move {
    let app = spawn_app(b).await;
    seed(&app).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let p = policy(&app).await;

    // Agents, under both names; agent-b's team is pseudonymized.
    let body = export_json(&app, &key, "assistants", None).await;
    assert_eq!(body["metadata"]["dataType"], "assistants");
    assert_eq!(
        export_json(&app, &key, "agents", None).await["metadata"]["dataType"],
        "agents"
    );
    let agents = body["data"].as_array().unwrap();
    assert_eq!(
        agents[0],
        window(json!({
            "assistant_id": "agent-a", "assistant_name": "Helper", "messages": 7,
            "unique_users": 2, "active_users": 2, "conversations": 3, "messages_per_user": 3.5,
            "assistant_description": "Answers questions", "assistant_url": null,
            "assistant_owner_id": "u1", "assistant_owner_email": ADA,
            "sum_prompt_tokens": 1700, "avg_prompt_tokens": 566.67,
            "min_prompt_tokens": 200, "max_prompt_tokens": 1000,
            "sum_completion_tokens": 340, "avg_completion_tokens": 113.33,
            "min_completion_tokens": 40, "max_completion_tokens": 200,
            "sum_cached_prompt_tokens": 700, "sum_cache_creation_tokens": 100,
            "total_cost_usd": 0.8125, "credit_cost": 8.0,
        }))
    );
    assert_eq!(agents[1]["assistant_id"], "agent-b");
    assert_eq!(agents[1]["messages"], 6);
    assert_eq!(agents[1]["messages_per_user"], 6.0);
    assert_eq!(agents[1]["assistant_description"], "Closes deals");
    assert_eq!(agents[1]["assistant_owner_id"], p.pseudonym("u2"));
    assert_eq!(agents[1]["assistant_owner_email"], p.pseudonym(BOB));
    assert_eq!(
        (
            agents[2]["assistant_id"].clone(),
            agents[2]["messages"].clone(),
            agents[2]["conversations"].clone(),
            agents[2]["avg_prompt_tokens"].clone(),
            agents[2]["messages_per_user"].clone()
        ),
        (
            json!("agent-c"),
            json!(0),
            json!(0),
            Value::Null,
            Value::Null
        ),
        "an unused agent is listed with zeros"
    );
    let by_model = rows(&app, &key, "agents", Some("model")).await;
    let pairs: Vec<(Value, Value, Value)> = by_model
        .iter()
        .map(|r| {
            (
                r["assistant_id"].clone(),
                r["model"].clone(),
                r["messages"].clone(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            (
                json!("agent-b"),
                json!("anthropic/claude-sonnet-4-5"),
                json!(6)
            ),
            (
                json!("agent-a"),
                json!("anthropic/claude-sonnet-4-5"),
                json!(4)
            ),
            (json!("agent-a"), json!("openai/gpt-4.1"), json!(2)),
            (json!("agent-a"), json!("OpenAI/GPT-4.1"), json!(1)),
        ]
    );

    // API keys: the key revoked before and the one created after the window are absent.
    let body = export_json(&app, &key, "api-keys", None).await;
    assert_eq!(body["metadata"]["dataType"], "api_keys");
    assert_eq!(
        body["data"],
        json!([
            window(
                json!({"api_key_id": "key-zap", "api_key_name": "Zapier", "requests": 2,
                "total_cost_usd": 0.3125, "sum_prompt_tokens": 700, "sum_completion_tokens": 140,
                "cached_prompt_tokens": 100, "cache_creation_tokens": 0, "no_cache_tokens": 600})
            ),
            window(
                json!({"api_key_id": "key-late", "api_key_name": "Retired", "requests": 0,
                "total_cost_usd": 0.0, "sum_prompt_tokens": 0, "sum_completion_tokens": 0,
                "cached_prompt_tokens": 0, "cache_creation_tokens": 0, "no_cache_tokens": 0})
            ),
        ])
    );
    let by_model = rows(&app, &key, "api_keys", Some("model")).await;
    let pairs: Vec<(Value, Value, Value)> = by_model
        .iter()
        .map(|r| {
            (
                r["api_key_id"].clone(),
                r["model"].clone(),
                r["sum_prompt_tokens"].clone(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            (json!("key-zap"), json!("OpenAI/GPT-4.1"), json!(200)),
            (json!("key-zap"), json!("openai/gpt-4.1"), json!(500)),
        ]
    );

    // Projects: non-personal teams; Sales' owner is pseudonymized by the team's setting.
    assert_eq!(
        rows(&app, &key, "projects", None).await,
        vec![
            window(
                json!({"project_id": "team-eng", "project_name": "Engineering",
                "project_owner_id": "u1", "project_owner_email": ADA, "messages": 7})
            ),
            window(json!({"project_id": "team-sales", "project_name": "Sales",
                "project_owner_id": p.pseudonym("u2"), "project_owner_email": p.pseudonym(BOB),
                "messages": 6})),
        ]
    );

    // Models: spellings of one model fold into one row.
    assert_eq!(
        rows(&app, &key, "models", None).await,
        vec![
            window(
                json!({"name": "gpt-4.1", "provider": "openai", "bring_your_keys": false,
                "requests": 3, "sum_prompt_tokens": 1000, "sum_completion_tokens": 200,
                "sum_cached_prompt_tokens": 100, "sum_cache_creation_tokens": 0,
                "no_cache_tokens": 900, "total_cost_usd": 0.4375, "messages": 6})
            ),
            window(json!({"name": "claude-sonnet-4-5", "provider": "anthropic",
                "bring_your_keys": false, "requests": 2, "sum_prompt_tokens": 4000,
                "sum_completion_tokens": 500, "sum_cached_prompt_tokens": 1600,
                "sum_cache_creation_tokens": 600, "no_cache_tokens": 1800,
                "total_cost_usd": 1.75, "messages": 10})),
        ]
    );
    let by_source = rows(&app, &key, "models", Some("source")).await;
    let pairs: Vec<(Value, Value, Value)> = by_source
        .iter()
        .map(|r| {
            (
                r["name"].clone(),
                r["source"].clone(),
                r["requests"].clone(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            (json!("gpt-4.1"), json!("API"), json!(2)),
            (json!("claude-sonnet-4-5"), json!("MOBILE"), json!(1)),
            (json!("claude-sonnet-4-5"), json!("WEB"), json!(1)),
            (json!("gpt-4.1"), json!("WEB"), json!(1)),
        ]
    );
    let by_deployment = rows(&app, &key, "models", Some("deployment")).await;
    assert_eq!(by_deployment.len(), 2);
    assert_eq!(by_deployment[0]["deployment"], Value::Null);
    assert_eq!(by_deployment[0]["requests"], 3);

    // Workflows: top-level runs, subflows apart, durations of finished runs only.
    assert_eq!(
        rows(&app, &key, "workflows", None).await,
        vec![
            window(
                json!({"workflow_id": "wb-1", "workflow_name": "Lead scoring",
                "project_id": "team-eng", "project_name": "Engineering", "runs": 3,
                "subflow_runs": 1, "successful_runs": 1, "failed_runs": 1, "success_rate": 0.5,
                "unique_users": 2, "avg_duration_seconds": 60.0, "max_duration_seconds": 90.0,
                "credit_cost": 3.5})
            ),
            window(
                json!({"workflow_id": "wb-2", "workflow_name": "Invoice sync",
                "project_id": "team-sales", "project_name": "Sales", "runs": 1,
                "subflow_runs": 0, "successful_runs": 1, "failed_runs": 0, "success_rate": 1.0,
                "unique_users": 1, "avg_duration_seconds": 60.0, "max_duration_seconds": 60.0,
                "credit_cost": 3.0})
            ),
        ]
    );
});

both_backends!(native_route_answers_columns_and_window, |b| async move {
    let app = spawn_app(b).await;
    seed(&app).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let r = post(
        &app,
        "/v1/reports/assistants",
        &key,
        &json!({"start": "2026-03-01T00:00:00", "end": "2026-03-31T23:59:59.999", "timezone": "Europe/Berlin", "group_by": "model"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data_type"], "agents");
    assert_eq!(body["group_by"], "model");
    assert_eq!(body["record_count"], 4);
    assert_eq!(body["date_range"]["from"], "2026-03-01T00:00:00.000+01:00");
    assert_eq!(body["date_range"]["timezone"], "Europe/Berlin");
    assert_eq!(body["date_range"]["period_start"], "2026-03-01");
    assert_eq!(body["date_range"]["period_end"], "2026-03-31");
    let columns: Vec<&str> = body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        &columns[..7],
        [
            "period_start",
            "period_end",
            "org_id",
            "assistant_id",
            "assistant_name",
            "model",
            "messages"
        ]
    );
    for row in body["rows"].as_array().unwrap() {
        let mut keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut expected = columns.clone();
        expected.sort_unstable();
        assert_eq!(keys, expected, "every row has exactly the columns");
    }

    // The organization's zone is the default.
    let r = post(
        &app,
        "/v1/reports/users",
        &key,
        &json!({"start": "2026-03-01T00:00:00", "end": "2026-03-31T23:59:59.999"}),
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["date_range"]["timezone"], "Europe/Berlin");
    assert_eq!(body["rows"][0]["messages_total"], 9);

    let msg = error_message(
        post(
            &app,
            "/v1/reports/users",
            &key,
            &json!({"preset": "last_month", "start": "2026-03-01"}),
        )
        .await,
        400,
    )
    .await;
    assert!(msg.contains("not both"), "{msg}");
    let msg = error_message(
        post(
            &app,
            "/v1/reports/users",
            &key,
            &json!({"end": "2026-03-01"}),
        )
        .await,
        400,
    )
    .await;
    assert!(
        msg.contains("`start`") && msg.contains("last_month"),
        "{msg}"
    );
    let msg = error_message(
        post(
            &app,
            "/v1/reports/teams",
            &key,
            &json!({"preset": "last_month"}),
        )
        .await,
        404,
    )
    .await;
    assert!(
        msg.contains("allowed: users, agents, assistants, api_keys, api-keys"),
        "{msg}"
    );
});

both_backends!(validation_no_data_and_row_cap, |b| async move {
    let app = spawn_app_with(b, |c| c.report_max_rows = Some(8)).await;
    seed(&app).await;
    let (_, key) = app.org_key("acme", "usage_export").await;

    let r = post(&app, "/export/users/json", &key, &march(Some("source"))).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "group_by `source` is not supported for users; allowed: model"
    );
    let msg = error_message(
        post(&app, "/export/projects/json", &key, &march(Some("model"))).await,
        400,
    )
    .await;
    assert_eq!(
        msg,
        "group_by `model` is not supported for projects; projects allows no group_by"
    );
    // Validation comes before storage on the file routes too.
    error_message(
        post(&app, "/export/workflows/csv", &key, &march(Some("model"))).await,
        400,
    )
    .await;
    error_message(
        post(&app, "/export/models", &key, &march(Some("model"))).await,
        400,
    )
    .await;

    let mut bad_zone = march(None);
    bad_zone["to"]["timezone"] = "Mars/Olympus".into();
    let msg = error_message(
        post(&app, "/export/models/json", &key, &bad_zone).await,
        400,
    )
    .await;
    assert!(msg.contains("to.timezone"), "{msg}");
    let msg = error_message(
        post(
            &app,
            "/export/models/json",
            &key,
            &json!({"from": {"date": "2026-03-01"}}),
        )
        .await,
        400,
    )
    .await;
    assert!(msg.contains("timezone") || msg.contains("to"), "{msg}");

    let empty = json!({
        "from": {"date": "2025-01-01T00:00:00.000Z", "timezone": "UTC"},
        "to": {"date": "2025-01-31T23:59:59.999Z", "timezone": "UTC"},
    });
    for kind in [
        "users",
        "agents",
        "api-keys",
        "projects",
        "models",
        "workflows",
    ] {
        let r = post(&app, &format!("/export/{kind}/json"), &key, &empty).await;
        assert_eq!(r.status(), 404, "{kind}");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"error": "No data found", "message": "No usage data found for the selected period"})
        );
    }

    // users scans 5 interactions and 4 tool calls: over the cap of 8; models scans 5.
    let r = post(&app, "/export/users/json", &key, &march(None)).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "USAGE_EXPORT_TOO_LARGE",
               "message": "Export too large: 9 rows exceeds limit of 8. Please narrow the date range."})
    );
    assert_eq!(rows(&app, &key, "models", None).await.len(), 2);
});

both_backends!(privacy_settings_apply_to_reports, |b| async move {
    let app = spawn_app(b).await;
    seed(&app).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let set_privacy = |privacy: &'static str| {
        let app = &app;
        async move {
            let r = app
                .client
                .put(format!("{}/v1/orgs/acme", app.url))
                .bearer_auth(INGEST_KEY)
                .json(&json!({"name": "Org acme", "timezone": "Europe/Berlin", "billing_anchor_day": 15, "privacy": privacy}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    };

    set_privacy("pseudonymized").await;
    let p = policy(&app).await;
    let first = rows(&app, &key, "users", None).await;
    assert_eq!(first[0]["user_id"], p.pseudonym("u1"));
    assert_eq!(first[0]["name"], p.pseudonym("Ada Lovelace"));
    assert_eq!(first[0]["email"], p.pseudonym(ADA));
    assert!(first[0]["email"].as_str().unwrap().starts_with("anon_"));
    assert_eq!(first[0]["messages_total"], 9, "numbers are untouched");
    assert_eq!(first[0]["department"], "Engineering");
    assert_eq!(
        rows(&app, &key, "users", None).await,
        first,
        "pseudonyms are stable"
    );
    let agents = rows(&app, &key, "agents", None).await;
    assert_eq!(agents[0]["assistant_owner_email"], p.pseudonym(ADA));
    assert_eq!(agents[0]["assistant_description"], "Answers questions");

    set_privacy("hidden").await;
    let hidden = rows(&app, &key, "users", None).await;
    for col in ["user_id", "name", "email"] {
        assert_eq!(hidden[0][col], Value::Null, "{col}");
    }
    assert_eq!(hidden[0]["messages_total"], 9);
    let agents = rows(&app, &key, "agents", None).await;
    for col in [
        "assistant_description",
        "assistant_url",
        "assistant_owner_id",
        "assistant_owner_email",
    ] {
        assert_eq!(agents[0][col], Value::Null, "{col}");
    }
    assert_eq!(agents[0]["assistant_name"], "Helper");
    // A team's own setting still wins over the organization's.
    let projects = rows(&app, &key, "projects", None).await;
    assert_eq!(projects[0]["project_owner_email"], Value::Null);
    assert_eq!(projects[1]["project_owner_email"], p.pseudonym(BOB));
});

both_backends!(keys_scopes_and_tenancy, |b| async move {
    let app = spawn_app(b).await;
    seed(&app).await;
    app.put_org("globex").await;
    ok(app.put_entity("globex", "members", "g1", json!({"email": "gil@globex.example", "name": "Gil", "joined_at": "2025-01-01T00:00:00Z"})).await).await;
    let mut theirs = chat(
        "gx1",
        "g1",
        Some("agent-g"),
        "team-g",
        "openai/gpt-5",
        "WEB",
        None,
        "2026-03-03T10:00:00Z",
        11,
        [1, 1, 0, 0],
        0.01,
        0.1,
    );
    theirs["org_id"] = "globex".into();
    theirs["user_email"] = "gil@globex.example".into();
    assert_eq!(
        app.ingest_ok("agent_interactions", &json!([theirs])).await["accepted"],
        1
    );

    let r = app
        .client
        .post(format!("{}/export/users/json", app.url))
        .json(&march(None))
        .send()
        .await
        .unwrap();
    error_message(r, 401).await;
    error_message(
        post(&app, "/export/users/json", "ofk_not_a_key", &march(None)).await,
        401,
    )
    .await;
    error_message(
        post(
            &app,
            "/v1/reports/users",
            "ofk_not_a_key",
            &json!({"preset": "last_month"}),
        )
        .await,
        401,
    )
    .await;
    let (_, drains) = app.org_key("acme", "drains").await;
    let msg = error_message(
        post(&app, "/export/users/json", &drains, &march(None)).await,
        403,
    )
    .await;
    assert!(msg.contains("usage_export"), "{msg}");
    error_message(
        post(
            &app,
            "/v1/reports/users",
            &drains,
            &json!({"preset": "last_month"}),
        )
        .await,
        403,
    )
    .await;
    // admin holds every scope.
    let (_, admin) = app.org_key("acme", "admin").await;
    assert_eq!(rows(&app, &admin, "users", None).await.len(), 2);

    let (_, globex) = app.org_key("globex", "usage_export").await;
    let theirs = rows(&app, &globex, "users", None).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["user_id"], "g1");
    assert_eq!(theirs[0]["org_id"], "globex");
    assert_eq!(theirs[0]["messages_total"], 11);
    let models = rows(&app, &globex, "models", None).await;
    assert_eq!(models.len(), 1);
    assert_eq!(models[0]["name"], "gpt-5");
    // Nothing of globex's reaches acme.
    let ours = rows(&app, &admin, "models", None).await;
    assert!(ours.iter().all(|r| r["name"] != "gpt-5"));
    // globex has no workflow runs in March.
    error_message(
        post(&app, "/export/workflows/json", &globex, &march(None)).await,
        404,
    )
    .await;
});

both_backends!(csv_reports_are_stored_behind_signed_links, |b| async move {
    let app = spawn_app(b).await;
    seed(&app).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let expected = rows(&app, &key, "users", None).await;
    for path in ["/export/users/csv", "/export/users"] {
        let r = post(&app, path, &key, &march(None)).await;
        assert_eq!(r.status(), 200, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["success"], true);
        let data = &body["data"];
        assert_eq!(data["dataType"], "users");
        assert_eq!(
            data["recordCount"].as_u64().unwrap() as usize,
            expected.len()
        );
        assert!(data["dateRange"]["from"].is_string() && data["dateRange"]["to"].is_string());
        let file_path = data["filePath"].as_str().unwrap();
        assert!(
            file_path.starts_with("reports/acme/") && file_path.ends_with(".csv"),
            "{file_path}"
        );
        let url = data["downloadUrl"].as_str().unwrap();
        let csv_text = app
            .client
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let parsed: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(parsed.len(), expected.len());
        let col = headers
            .iter()
            .position(|h| h == "user_id")
            .expect("user_id column");
        let mut from_csv: Vec<String> = parsed.iter().map(|r| r[col].to_string()).collect();
        let mut from_json: Vec<String> = expected
            .iter()
            .map(|r| r["user_id"].as_str().unwrap_or_default().to_string())
            .collect();
        from_csv.sort();
        from_json.sort();
        assert_eq!(from_csv, from_json);
        // The link grants exactly that file.
        let other = url.replace("/reports/acme/", "/reports/globex/");
        assert_eq!(app.client.get(&other).send().await.unwrap().status(), 403);
    }
});

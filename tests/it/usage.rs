//! `GET /v1/usage` and the rollups behind it: credits per bucket equal the sums of the
//! credit-log CSV export of the same window (DST days in Europe/Berlin, the +05:45 zone of
//! Asia/Kathmandu, a window whose edges are not whole quarter hours); totals equal the sum of
//! groups; every metric read from the rollups equals the same query over the raw records;
//! re-ingest never double counts; the backfill of records stored before the rollups;
//! privacy on `user`; 404 across organizations; validation; paging. Both backends.

use crate::both_backends;
use crate::helpers::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use outflow::privacy::PrivacyPolicy;
use outflow::usage::{Usage, UsageParams};
use serde_json::{Value, json};

/// Credit logs every 7 min 13 s from `from` for `hours`: debits of varying size, a grant
/// every ninth, three teams (one a personal space), two members, two categories.
fn credit_logs(prefix: &str, from: DateTime<Utc>, hours: i64) -> Vec<Value> {
    let step = Duration::seconds(7 * 60 + 13);
    let mut out = Vec::new();
    let mut t = from;
    let mut k = 0;
    while t < from + Duration::hours(hours) {
        let amount = if k % 9 == 4 {
            25.0
        } else {
            -((k % 13 + 1) as f64) * 0.37
        };
        out.push(json!({
            "org_id": "acme", "log_id": format!("{prefix}-{k}"),
            "timestamp": t.to_rfc3339(),
            "category": if k % 3 == 0 { "agent_run" } else { "pipeline_run" },
            "amount": amount,
            "user_id": if k % 2 == 0 { "u1" } else { "u2" },
            "project_id": (["team-eng", "team-sales", "personal-u1"][k % 3]),
            "permission_group_id": if k % 4 == 0 { "role-a" } else { "role-a; role-b" },
        }));
        t += step;
        k += 1;
    }
    out
}

async fn setup(b: Backend) -> TestApp {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    put_team(&app, "acme", "team-eng", "Engineering").await;
    put_team(&app, "acme", "team-sales", "Sales").await;
    put_member(&app, "acme", "u1", "ada@acme.example", "Ada").await;
    put_member(&app, "acme", "u2", "bob@acme.example", "Bob").await;
    app
}

async fn ingest_all(app: &TestApp, dt: &str, records: &[Value]) {
    for chunk in records.chunks(500) {
        app.ingest_ok(dt, &Value::Array(chunk.to_vec())).await;
    }
}

async fn usage(app: &TestApp, key: &str, query: &str) -> Value {
    let r = app.get(&format!("/v1/usage?{query}"), key).await;
    assert_eq!(r.status(), 200, "{query}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// `(instant, amount)` of every row of a credit-log CSV export of the window.
async fn exported(
    app: &TestApp,
    key: &str,
    start: &str,
    end: &str,
    tz: &str,
) -> Vec<(DateTime<Utc>, f64)> {
    let r = post_json(
        app,
        "/v1/exports",
        key,
        json!({"data_type": "credit_logs", "start": start, "end": end, "timezone": tz,
               "fields": ["timestamp", "amount", "log_id"]}),
    )
    .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job: Value = r.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(wait_export(app, key, &id).await["state"], "COMPLETED");
    let body = app
        .get(&format!("/v1/exports/{id}/download"), key)
        .await
        .bytes()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(body.as_ref());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let t = DateTime::parse_from_rfc3339(&r[0])
                .unwrap()
                .with_timezone(&Utc);
            (t, r[1].parse().unwrap_or(0.0))
        })
        .collect()
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// Credits and grants of every bucket equal the export's; groups add up to the totals.
async fn assert_matches_export(
    app: &TestApp,
    key: &str,
    start: &str,
    end: &str,
    tz: &str,
    bucket: &str,
) -> usize {
    let rows = exported(app, key, start, end, tz).await;
    assert!(!rows.is_empty());
    let q = format!(
        "metrics=credits,credits_granted&start={start}&end={end}&timezone={tz}&bucket={bucket}&group_by=team"
    );
    let answer = usage(app, key, &q).await;
    assert_eq!(answer["timezone"], tz);
    let buckets = answer["buckets"].as_array().unwrap();
    let mut covered = 0;
    for b in buckets {
        let (s, e) = (instant(&b["start"]), instant(&b["end"]));
        let inside: Vec<f64> = rows
            .iter()
            .filter(|(t, _)| s <= *t && *t < e)
            .map(|(_, a)| *a)
            .collect();
        covered += inside.len();
        let spent: f64 = inside.iter().filter(|a| **a < 0.0).map(|a| -a).sum();
        let granted: f64 = inside.iter().filter(|a| **a > 0.0).sum();
        let totals = &b["totals"];
        assert!(
            close(totals["credits"].as_f64().unwrap(), spent),
            "{q} {b}: {spent}"
        );
        assert!(
            close(totals["credits_granted"].as_f64().unwrap(), granted),
            "{q} {b}"
        );
        for metric in ["credits", "credits_granted"] {
            let sum: f64 = b["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["values"][metric].as_f64().unwrap())
                .sum();
            assert!(close(sum, totals[metric].as_f64().unwrap()), "{metric} {b}");
        }
    }
    assert_eq!(covered, rows.len(), "the buckets tile the window: {q}");
    buckets.len()
}

both_backends!(
    credits_per_bucket_equal_the_export_on_dst_days,
    |b| async move {
        let app = setup(b).await;
        let (_, key) = app.org_key("acme", "usage_export").await;
        // Berlin's spring-forward day (2026-03-29) and fall-back day (2026-10-25), with a margin.
        let mut logs = credit_logs(
            "spring",
            Utc.with_ymd_and_hms(2026, 3, 27, 20, 0, 0).unwrap(),
            80,
        );
        logs.extend(credit_logs(
            "fall",
            Utc.with_ymd_and_hms(2026, 10, 23, 20, 0, 0).unwrap(),
            80,
        ));
        ingest_all(&app, "credit_logs", &logs).await;

        let days = assert_matches_export(
            &app,
            &key,
            "2026-03-28",
            "2026-03-30",
            "Europe/Berlin",
            "1d",
        )
        .await;
        assert_eq!(days, 3);
        let hours = assert_matches_export(
            &app,
            &key,
            "2026-03-29",
            "2026-03-29",
            "Europe/Berlin",
            "1h",
        )
        .await;
        assert_eq!(hours, 23, "the spring-forward day has 23 hours");
        let hours = assert_matches_export(
            &app,
            &key,
            "2026-10-25",
            "2026-10-25",
            "Europe/Berlin",
            "1h",
        )
        .await;
        assert_eq!(hours, 25, "the fall-back day has 25 hours");
        // A quarter-hour zone: Kathmandu's days start at 18:15 UTC.
        assert_matches_export(
            &app,
            &key,
            "2026-03-28",
            "2026-03-30",
            "Asia/Kathmandu",
            "1d",
        )
        .await;
        assert_matches_export(
            &app,
            &key,
            "2026-10-24",
            "2026-10-25",
            "Asia/Kathmandu",
            "1h",
        )
        .await;
        // Edges that are not whole slots are read from the raw records.
        assert_matches_export(
            &app,
            &key,
            "2026-03-29T01:07",
            "2026-03-29T16:52:30",
            "Europe/Berlin",
            "1h",
        )
        .await;
        assert_matches_export(
            &app,
            &key,
            "2026-03-29T10:01",
            "2026-03-29T10:09",
            "Europe/Berlin",
            "total",
        )
        .await;

        // The bucket labels carry the local offset; the DST day is 23 hours long.
        let a = usage(
            &app,
            &key,
            "start=2026-03-29&end=2026-03-29&timezone=Europe/Berlin",
        )
        .await;
        assert_eq!(a["buckets"][0]["start"], "2026-03-29T00:00:00+01:00");
        assert_eq!(a["buckets"][0]["end"], "2026-03-30T00:00:00+02:00");
        let k = usage(
            &app,
            &key,
            "start=2026-03-29&end=2026-03-29&timezone=Asia/Kathmandu",
        )
        .await;
        assert_eq!(k["buckets"][0]["start"], "2026-03-29T00:00:00+05:45");
    }
);

both_backends!(
    rollups_answer_every_metric_like_the_raw_records,
    |b| async move {
        let app = setup(b).await;
        let t0 = Utc.with_ymd_and_hms(2026, 3, 28, 22, 0, 0).unwrap();
        ingest_all(&app, "credit_logs", &credit_logs("c", t0, 30)).await;
        ingest_streams(&app, "", t0, 300).await;

        let usage = Usage::new(app.store.clone());
        let org = app.store.get_org("acme").await.unwrap().unwrap();
        let all = "credits,credits_granted,runs,failed_runs,run_credits,interactions,interaction_credits,\
               input_tokens,output_tokens,tool_calls,tool_call_errors,tool_call_latency_p50_ms,\
               tool_call_latency_p95_ms,active_users";
        let cases = [
            ("credits,credits_granted,active_users", "team,user"),
            ("credits", "category,custom_role"),
            ("runs,failed_runs,run_credits", "workbook"),
            (
                "interactions,interaction_credits,input_tokens,output_tokens",
                "model,api_key",
            ),
            (
                "tool_calls,tool_call_errors,tool_call_latency_p50_ms,tool_call_latency_p95_ms",
                "agent",
            ),
            (all, "team"),
            (all, ""),
        ];
        for (metrics, group_by) in cases {
            for (start, end, bucket) in [
                ("2026-03-29", "2026-03-29", "1h"),
                ("2026-03-28", "2026-03-30", "1d"),
                ("2026-03-29T03:10", "2026-03-29T09:20", "total"),
            ] {
                let params = UsageParams {
                    metrics: Some(metrics.into()),
                    start: Some(start.into()),
                    end: Some(end.into()),
                    timezone: Some("Asia/Kathmandu".into()),
                    bucket: Some(bucket.into()),
                    group_by: Some(group_by.into()),
                    ..Default::default()
                };
                let mut q = outflow::usage::request::validate(&params, &org, Utc::now()).unwrap();
                let rolled = serde_json::to_value(usage.run(&org, &q).await.unwrap()).unwrap();
                q.raw = true;
                let raw = serde_json::to_value(usage.run(&org, &q).await.unwrap()).unwrap();
                assert_eq!(
                    rolled, raw,
                    "{metrics} by {group_by} {start}..{end} {bucket}"
                );
                let nonzero = rolled["buckets"].as_array().unwrap().iter().any(|b| {
                    b["totals"][metrics.split(',').next().unwrap()]
                        .as_f64()
                        .unwrap_or(0.0)
                        > 0.0
                });
                assert!(nonzero, "{metrics}: {rolled}");
            }
        }

        // Spot checks against the records themselves.
        let key = app.org_key("acme", "usage_export").await.1;
        let a = usage_total(
            &app,
            &key,
            "metrics=runs,failed_runs,active_users,tool_call_latency_p95_ms",
        )
        .await;
        assert_eq!(a["runs"], 300);
        assert_eq!(a["failed_runs"], 60);
        assert_eq!(a["active_users"], 3, "u1, u2 and u3");
        let mut latencies: Vec<f64> = (0..300i64)
            .filter(|k| k % 10 != 0)
            .map(|k| ((k * 37) % 2000) as f64)
            .collect();
        latencies.sort_by(f64::total_cmp);
        let exact = latencies[(0.95 * (latencies.len() - 1) as f64).floor() as usize];
        let p95 = a["tool_call_latency_p95_ms"].as_f64().unwrap();
        assert!((p95 - exact).abs() / exact <= 0.0101, "{p95} vs {exact}");
    }
);

/// `n` workflow runs, agent interactions and tool calls every 5 min 47 s from `t0` (ids
/// prefixed `prefix`): two teams, three members, failures, errors and latencies.
async fn ingest_streams(app: &TestApp, prefix: &str, t0: DateTime<Utc>, n: i64) {
    let (mut runs, mut chats, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..n {
        let t = (t0 + Duration::seconds(k * 347)).to_rfc3339();
        let team = if k % 2 == 0 { "team-eng" } else { "team-sales" };
        let user = ["u1", "u2", "u3"][(k % 3) as usize];
        runs.push(json!({"org_id": "acme", "run_id": format!("{prefix}r{k}"), "workspace_id": team,
        "workbook_id": format!("wb-{}", k % 4), "user_id": user, "pl_run_created_ts": t,
        "run_status": if k % 5 == 0 { "failed" } else { "success" }, "credit_cost": 0.125 * (k % 7) as f64}));
        chats.push(json!({"org_id": "acme", "interaction_id": format!("{prefix}i{k}"), "workspace_id": team,
        "user_id": user, "agent_id": format!("ag-{}", k % 3), "model": (["gpt", "claude"][(k % 2) as usize]),
        "api_key_id": if k % 4 == 0 { json!("key-1") } else { Value::Null },
        "interaction_created_ts": t, "prompt_tokens": k * 10, "completion_tokens": k, "credit_cost": 0.5}));
        calls.push(json!({"org_id": "acme", "tool_call_id": format!("{prefix}t{k}"), "workspace_id": team,
        "user_id": user, "agent_id": format!("ag-{}", k % 3), "created_at": t, "tool_name": "search",
        "status": if k % 6 == 0 { "error" } else { "success" },
        "latency_ms": if k % 10 == 0 { Value::Null } else { json!((k * 37) % 2000) }}));
    }
    ingest_all(app, "workflows", &runs).await;
    ingest_all(app, "agent_interactions", &chats).await;
    ingest_all(app, "gumstack", &calls).await;
}

async fn usage_total(app: &TestApp, key: &str, metrics: &str) -> Value {
    let a = usage(
        app,
        key,
        &format!("{metrics}&start=2026-03-01&end=2026-03-31&timezone=UTC&bucket=total"),
    )
    .await;
    a["buckets"][0]["totals"].clone()
}

both_backends!(reingest_never_double_counts, |b| async move {
    let app = setup(b).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let logs = credit_logs("x", Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap(), 3);
    ingest_all(&app, "credit_logs", &logs).await;
    let before = usage_total(&app, &key, "metrics=credits,credits_granted,active_users").await;
    assert!(before["credits"].as_f64().unwrap() > 0.0);
    // The same records again, and a batch mixing old and new ones.
    ingest_all(&app, "credit_logs", &logs).await;
    assert_eq!(
        usage_total(&app, &key, "metrics=credits,credits_granted,active_users").await,
        before
    );
    let mut mixed = logs[..5].to_vec();
    mixed.push(
        json!({"org_id": "acme", "log_id": "new-1", "timestamp": "2026-03-10T09:00:00Z",
                      "category": "agent_run", "amount": -1.25, "user_id": "u1"}),
    );
    app.ingest_ok("credit_logs", &Value::Array(mixed)).await;
    let after = usage_total(&app, &key, "metrics=credits").await;
    assert!(close(
        after["credits"].as_f64().unwrap(),
        before["credits"].as_f64().unwrap() + 1.25
    ));

    // PostgreSQL appends a rollup row per key and batch; compaction merges them without
    // changing any answer.
    for k in 0..3 {
        app.ingest_ok(
            "credit_logs",
            &json!([{"org_id": "acme", "log_id": format!("one-{k}"),
            "timestamp": format!("2026-03-10T10:0{k}:00Z"), "category": "agent_run", "amount": -0.5,
            "user_id": "u2", "project_id": "team-sales"}]),
        )
        .await;
    }
    let count = || async {
        app.store
            .query(
                "SELECT COUNT(*) FROM usage_credits",
                &[],
                &[outflow::domain::FieldType::Integer],
            )
            .await
            .unwrap()[0][0]
            .as_i64()
            .unwrap()
    };
    let q = "metrics=credits,credits_granted,active_users&start=2026-03-10&end=2026-03-10&timezone=UTC&bucket=1h&group_by=team,user";
    let answer = usage(&app, &key, q).await;
    let rows = count().await;
    let march = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    for _ in 0..2 {
        outflow::usage::compact::compact(&app.store, "acme", march, march + 31 * 86_400)
            .await
            .unwrap();
    }
    assert_eq!(usage(&app, &key, q).await, answer);
    if b == Backend::Postgres {
        assert_eq!(count().await, rows - 2, "three rows of one key became one");
    } else {
        assert_eq!(count().await, rows, "SQLite upserts: nothing to compact");
    }
});

both_backends!(
    backfill_rolls_up_records_stored_before_the_rollups,
    |b| async move {
        let app = setup(b).await;
        let (_, key) = app.org_key("acme", "usage_export").await;
        let logs = credit_logs(
            "old",
            Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap(),
            24,
        );
        // Stored as a database from before migration 0008 holds them: no rollups, and the
        // backfill rows the migration writes.
        app.store.set_rollups(false);
        ingest_all(&app, "credit_logs", &logs).await;
        app.store.set_rollups(true);
        // Migration 0016 (the hourly tables) wrote its own backfill rows too.
        for table in ["usage_backfill", "usage_backfill_hourly"] {
            app.store
                .execute(
                    &format!(
                        "INSERT INTO {table} (org_id, stream, next_pos, upto) \
                 SELECT org_id, 'credit_logs', MIN(pos), MAX(pos) FROM credit_logs GROUP BY org_id"
                    ),
                    &[],
                )
                .await
                .unwrap();
        }
        let store = &app.store;
        assert!(
            outflow::usage::backfill::pending(store, "acme")
                .await
                .unwrap()
        );
        // Meanwhile answers come from the raw records, so they are already right.
        let q = "metrics=credits,active_users&start=2026-03-10&end=2026-03-11&timezone=Europe/Berlin&bucket=1h&group_by=team";
        let while_pending = usage(&app, &key, q).await;
        let spent: f64 = logs
            .iter()
            .map(|l| l["amount"].as_f64().unwrap())
            .filter(|a| *a < 0.0)
            .map(|a| -a)
            .sum();
        let total: f64 = while_pending["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["totals"]["credits"].as_f64().unwrap())
            .sum();
        assert!(close(total, spent), "{total} {spent}");
        // A record ingested now is rolled up by ingest, not again by the backfill.
        app.ingest_ok(
            "credit_logs",
            &json!([{"org_id": "acme", "log_id": "late", "timestamp": "2026-03-10T12:00:00Z",
        "category": "agent_run", "amount": -2.0, "user_id": "u2", "project_id": "team-eng"}]),
        )
        .await;
        let expected = usage(&app, &key, q).await;
        let mut steps = 0;
        while outflow::usage::backfill::step(store, 40).await.unwrap() {
            steps += 1;
            assert!(steps < 100, "the backfill ends");
        }
        assert!(steps >= 6, "bounded batches of both backfills: {steps}");
        assert!(
            !outflow::usage::backfill::pending(store, "acme")
                .await
                .unwrap()
        );
        assert_eq!(
            usage(&app, &key, q).await,
            expected,
            "rollups after the backfill equal the raw answer"
        );
    }
);

both_backends!(user_groups_follow_the_privacy_setting, |b| async move {
    let app = setup(b).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    ingest_all(
        &app,
        "credit_logs",
        &credit_logs("p", Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap(), 5),
    )
    .await;
    let q =
        "metrics=credits,active_users&start=2026-03-10&end=2026-03-10&timezone=UTC&group_by=user";
    let visible = usage(&app, &key, q).await;
    let groups = visible["buckets"][0]["groups"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 2);
    assert!(
        groups
            .iter()
            .any(|g| g["key"]["user"] == "u1" && g["label"]["user"] == "Ada")
    );
    let set_privacy = |privacy: &'static str| {
        let app = &app;
        async move {
            let r = app.client.put(format!("{}/v1/orgs/acme", app.url)).bearer_auth(INGEST_KEY)
                .json(&json!({"name": "Org acme", "timezone": "Europe/Berlin", "billing_anchor_day": 15, "privacy": privacy}))
                .send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    set_privacy("pseudonymized").await;
    let p = PrivacyPolicy::load(&app.store, "acme")
        .await
        .unwrap()
        .unwrap();
    let pseudo = usage(&app, &key, q).await;
    let text = pseudo.to_string();
    assert!(!text.contains("\"u1\"") && !text.contains("Ada"), "{text}");
    let g = pseudo["buckets"][0]["groups"].as_array().unwrap();
    assert_eq!(g.len(), 2);
    for orig in &groups {
        let id = orig["key"]["user"].as_str().unwrap();
        let same = g
            .iter()
            .find(|x| x["key"]["user"] == p.pseudonym(id).as_str())
            .expect("pseudonym group");
        assert_eq!(same["values"], orig["values"]);
        assert_eq!(same["label"]["user"], p.pseudonym(id).as_str());
    }
    set_privacy("hidden").await;
    let hidden = usage(&app, &key, q).await;
    let g = hidden["buckets"][0]["groups"].as_array().unwrap();
    assert_eq!(g.len(), 1, "one hidden group: {hidden}");
    assert_eq!(g[0]["key"]["user"], "hidden");
    assert_eq!(g[0]["values"], visible["buckets"][0]["totals"]);
    assert_eq!(
        hidden["buckets"][0]["totals"],
        visible["buckets"][0]["totals"]
    );
});

both_backends!(other_organizations_data_is_not_found, |b| async move {
    let app = setup(b).await;
    app.put_org("beta").await;
    put_team(&app, "beta", "team-beta", "Beta").await;
    ingest_all(
        &app,
        "credit_logs",
        &credit_logs("a", Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap(), 2),
    )
    .await;
    let (_, beta) = app.org_key("beta", "usage_export").await;
    let q = "start=2026-03-10&end=2026-03-10&timezone=UTC&bucket=total";
    let a = usage(&app, &beta, q).await;
    assert_eq!(a["buckets"][0]["totals"]["credits"], 0.0, "{a}");
    for filter in ["team_ids=team-eng", "user_ids=u1"] {
        let r = app.get(&format!("/v1/usage?{q}&{filter}"), &beta).await;
        let m = error_message(r, 404).await;
        assert!(m.contains("not found"), "{m}");
    }
    let (_, drains_only) = app.org_key("beta", "drains").await;
    assert_eq!(
        app.get(&format!("/v1/usage?{q}"), &drains_only)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get(&format!("/v1/usage?{q}&team_ids=team-beta"), &beta)
            .await
            .status(),
        200
    );
});

both_backends!(bad_parameters_name_the_allowed_values, |b| async move {
    let app = setup(b).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let w = "start=2026-03-10&end=2026-03-10";
    for (query, needle) in [
        (
            format!("{w}&metrics=credits,bogus"),
            "tool_call_latency_p95_ms",
        ),
        (format!("{w}&bucket=2d"), "billing_period"),
        (format!("{w}&group_by=team,user,model"), "at most two"),
        (format!("{w}&metrics=runs&group_by=model"), "interactions"),
        (format!("{w}&group_by=colour"), "custom_role"),
        (format!("{w}&metrics=runs&category=agent_run"), "credit"),
        (format!("{w}&category=nope"), "pipeline_run"),
        (format!("{w}&timezone=Mars/Base"), "timezone"),
        ("start=2026-03-10".to_string(), "end"),
        (format!("{w}&preset=this_month"), "not both"),
        (format!("{w}&cursor=xyz"), "cursor"),
    ] {
        let r = app.get(&format!("/v1/usage?{query}"), &key).await;
        let m = error_message(r, 400).await;
        assert!(m.contains(needle), "{query}: {m}");
    }
    let ok = usage(
        &app,
        &key,
        "preset=last_billing_period&bucket=billing_period",
    )
    .await;
    assert_eq!(ok["buckets"].as_array().unwrap().len(), 1, "{ok}");
});

both_backends!(
    pages_hold_at_most_a_thousand_buckets_times_groups,
    |b| async move {
        let app = setup(b).await;
        let (_, key) = app.org_key("acme", "usage_export").await;
        ingest_all(
            &app,
            "credit_logs",
            &credit_logs("g", Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(), 48),
        )
        .await;
        // 60 days of hours: 1,440 buckets without groups.
        let q = "start=2026-03-01&end=2026-04-29&timezone=UTC&bucket=1h";
        let first = usage(&app, &key, q).await;
        assert_eq!(first["buckets"].as_array().unwrap().len(), 1000);
        let cursor = first["next_page"].as_str().unwrap();
        let second = usage(&app, &key, &format!("{q}&cursor={cursor}")).await;
        assert_eq!(second["buckets"].as_array().unwrap().len(), 440);
        assert_eq!(second["next_page"], Value::Null);
        assert_eq!(second["buckets"][0]["start"], "2026-04-11T16:00:00+00:00");

        // Small pages through the service cut inside a bucket's groups and lose nothing.
        let usage = Usage::new(app.store.clone());
        let org = app.store.get_org("acme").await.unwrap().unwrap();
        let params = UsageParams {
            metrics: Some("credits".into()),
            start: Some("2026-03-02".into()),
            end: Some("2026-03-03".into()),
            timezone: Some("UTC".into()),
            group_by: Some("team,user".into()),
            ..Default::default()
        };
        let mut q = outflow::usage::request::validate(&params, &org, Utc::now()).unwrap();
        let whole = serde_json::to_value(usage.run(&org, &q).await.unwrap()).unwrap();
        let flat = |a: &Value| -> Vec<(String, Value)> {
            a["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|b| {
                    let s = b["start"].as_str().unwrap().to_string();
                    b["groups"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(move |g| (s.clone(), g.clone()))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        q.page_size = 4;
        let mut paged = Vec::new();
        loop {
            let page = serde_json::to_value(usage.run(&org, &q).await.unwrap()).unwrap();
            assert!(flat(&page).len() <= 4);
            paged.extend(flat(&page));
            match page["next_page"].as_str() {
                Some(c) => {
                    q = outflow::usage::request::validate(
                        &UsageParams {
                            cursor: Some(c.into()),
                            ..params.clone()
                        },
                        &org,
                        Utc::now(),
                    )
                    .unwrap();
                    q.page_size = 4;
                }
                None => break,
            }
        }
        assert_eq!(paged, flat(&whole));
        assert!(paged.len() > 4);
    }
);

/// The service's answer to `query` (a `GET /v1/usage` query string) from the rollups, and
/// from the raw records.
async fn rolled_and_raw(app: &TestApp, query: &str) -> (Value, Value) {
    let fields: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            let v = match v {
                "true" | "false" => Value::Bool(v == "true"),
                _ => Value::from(v),
            };
            (k.to_string(), v)
        })
        .collect();
    let params: UsageParams = serde_json::from_value(Value::Object(fields)).unwrap();
    let usage = Usage::new(app.store.clone());
    let org = app.store.get_org("acme").await.unwrap().unwrap();
    let mut q = outflow::usage::request::validate(&params, &org, Utc::now()).unwrap();
    let rolled = serde_json::to_value(usage.run(&org, &q).await.unwrap()).unwrap();
    q.raw = true;
    let raw = serde_json::to_value(usage.run(&org, &q).await.unwrap()).unwrap();
    (rolled, raw)
}

// The hourly tables (migration 0016) answer queries grouped and filtered by team (and, for
// credits, category) only; the quarter hours at the edges of buckets in zones like
// Asia/Kathmandu or Australia/Lord_Howe come from the 15-minute tables. Every such answer
// equals the raw records' — on DST days, with every filter they take — and the 15-minute
// tables are provably not read for whole hours.
both_backends!(
    hourly_rollups_answer_team_queries_like_the_raw_records,
    |b| async move {
        let app = setup(b).await;
        let spring = Utc.with_ymd_and_hms(2026, 3, 27, 20, 0, 0).unwrap();
        // Lord Howe leaves DST (+11 → +10:30) on 2026-04-05: a 24.5-hour local day.
        let howe = Utc.with_ymd_and_hms(2026, 4, 3, 12, 0, 0).unwrap();
        let mut logs = credit_logs("s", spring, 80);
        logs.extend(credit_logs("h", howe, 60));
        ingest_all(&app, "credit_logs", &logs).await;
        ingest_streams(&app, "s", spring, 800).await;
        ingest_streams(&app, "h", howe, 600).await;

        let windows = [
            ("Europe/Berlin", "2026-03-28", "2026-03-30"),
            ("Asia/Kathmandu", "2026-03-28", "2026-03-30"),
            ("Australia/Lord_Howe", "2026-04-04", "2026-04-06"),
            ("Europe/Berlin", "2026-03-29T01:07", "2026-03-29T16:52:30"),
        ];
        let additive = "runs,failed_runs,run_credits,interactions,interaction_credits,\
                        input_tokens,output_tokens,tool_calls,tool_call_errors";
        let mut compared = 0;
        for (tz, start, end) in windows {
            for bucket in ["1h", "1d", "total"] {
                let w = format!("timezone={tz}&start={start}&end={end}&bucket={bucket}");
                let mut queries = Vec::new();
                for group_by in ["", "team", "category"] {
                    for filter in [
                        "",
                        "&team_ids=team-eng,personal-u1",
                        "&include_personal_workspaces=false",
                        "&category=agent_run",
                    ] {
                        queries.push(format!(
                            "{w}&metrics=credits,credits_granted&group_by={group_by}{filter}"
                        ));
                    }
                }
                for group_by in ["", "team"] {
                    for filter in [
                        "",
                        "&team_ids=team-sales",
                        "&include_personal_workspaces=false",
                    ] {
                        queries.push(format!(
                            "{w}&metrics={additive}&group_by={group_by}{filter}"
                        ));
                    }
                }
                for query in queries {
                    let (rolled, raw) = rolled_and_raw(&app, &query).await;
                    assert_eq!(rolled, raw, "{query}");
                    let any = rolled["buckets"].as_array().unwrap().iter().any(|b| {
                        b["totals"]
                            .as_object()
                            .unwrap()
                            .values()
                            .any(|v| v.as_f64() != Some(0.0))
                    });
                    assert!(any, "{query}: {rolled}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 4 * 3 * 18);

        // Which tables answer: with the 15-minute credit rollups emptied, days grouped by team
        // still equal the raw records, in Berlin and in Kathmandu (UTC days from the daily
        // table, edge hours from the hourly one, quarter hours raw); a grouping by member no
        // longer does. With the daily table emptied too, the days no longer do, while hourly
        // buckets (never a whole day) still do.
        let berlin = "metrics=credits,credits_granted&timezone=Europe/Berlin&start=2026-03-28\
                      &end=2026-03-30&bucket=1d&group_by=team";
        let kathmandu = berlin.replace("Europe/Berlin", "Asia/Kathmandu");
        let by_user = berlin.replace("group_by=team", "group_by=user");
        let hours = berlin.replace("bucket=1d", "bucket=1h");
        app.store
            .execute("DELETE FROM usage_credits", &[])
            .await
            .unwrap();
        for query in [berlin, kathmandu.as_str(), hours.as_str()] {
            let (rolled, raw) = rolled_and_raw(&app, query).await;
            assert_eq!(rolled, raw, "{query}: no 15-minute row is needed");
        }
        let (rolled, raw) = rolled_and_raw(&app, &by_user).await;
        assert_ne!(rolled, raw, "{by_user} reads the 15-minute table");
        app.store
            .execute("DELETE FROM usage_credits_daily", &[])
            .await
            .unwrap();
        for query in [berlin, kathmandu.as_str()] {
            let (rolled, raw) = rolled_and_raw(&app, query).await;
            assert_ne!(rolled, raw, "{query} reads the daily table");
        }
        let (rolled, raw) = rolled_and_raw(&app, &hours).await;
        assert_eq!(rolled, raw, "{hours} reads no daily row");
    }
);

// A local day read as a UTC day less and plus its edge hours (migration 0018): a team whose
// only records of that UTC day fall in the hour subtracted is not a group of the local day at
// all, while a team whose records all have amount 0 is one, with 0 credits. The record counts
// of the coarse tables tell the two apart.
both_backends!(
    daily_rollups_drop_the_groups_a_subtracted_edge_leaves_empty,
    |b| async move {
        let app = setup(b).await;
        put_team(&app, "acme", "team-ops", "Operations").await;
        let log = |id: &str, at: &str, team: &str, amount: f64| {
            json!({"org_id": "acme", "log_id": id, "timestamp": at, "category": "agent_run",
                   "amount": amount, "user_id": "u1", "project_id": team})
        };
        ingest_all(
            &app,
            "credit_logs",
            &[
                // Berlin (UTC+1 in March before the 29th): local March 10 is 09 23:00 to
                // 10 23:00 UTC, read as UTC March 10, plus 09 23:00–24:00, less 10 23:00–24:00.
                log("a", "2026-03-10T12:00:00Z", "team-eng", -2.5),
                log("b", "2026-03-10T23:30:00Z", "team-ops", -4.0),
                log("c", "2026-03-09T23:15:00Z", "team-sales", -1.0),
                log("d", "2026-03-10T08:00:00Z", "personal-u1", 0.0),
            ],
        )
        .await;
        let query = "metrics=credits&timezone=Europe/Berlin&start=2026-03-10&end=2026-03-11\
                     &bucket=1d&group_by=team";
        let (rolled, raw) = rolled_and_raw(&app, query).await;
        assert_eq!(rolled, raw);
        let groups = |day: usize| -> Vec<(String, f64)> {
            rolled["buckets"][day]["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    (
                        g["key"]["team"].as_str().unwrap().to_string(),
                        g["values"]["credits"].as_f64().unwrap(),
                    )
                })
                .collect()
        };
        assert_eq!(
            groups(0),
            [
                ("team-eng".to_string(), 2.5),
                ("team-sales".to_string(), 1.0),
                ("personal-u1".to_string(), 0.0),
            ]
        );
        assert_eq!(groups(1), [("team-ops".to_string(), 4.0)]);
        assert_eq!(rolled["buckets"][0]["totals"]["credits"], 3.5);
        // The same answer is read from the daily table: without it, it differs.
        app.store
            .execute("DELETE FROM usage_credits_daily", &[])
            .await
            .unwrap();
        assert_ne!(rolled_and_raw(&app, query).await.0, raw);
    }
);

// A grouped page is read a few buckets at a time until it is full: walking every page of a
// long window with small and default page sizes gives exactly the raw records' answer.
both_backends!(
    grouped_pages_read_in_chunks_walk_to_the_whole_answer,
    |b| async move {
        let app = setup(b).await;
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        ingest_all(&app, "credit_logs", &credit_logs("w", t0, 24 * 20)).await;
        let usage = Usage::new(app.store.clone());
        let org = app.store.get_org("acme").await.unwrap().unwrap();
        let params = UsageParams {
            metrics: Some("credits,credits_granted".into()),
            start: Some("2026-03-01".into()),
            end: Some("2026-03-24".into()),
            timezone: Some("America/New_York".into()),
            bucket: Some("1d".into()),
            group_by: Some("team".into()),
            ..Default::default()
        };
        let walk = |raw: bool, size: usize| {
            let (usage, org, params) = (usage.clone(), org.clone(), params.clone());
            async move {
                let mut params = params;
                let mut out = Vec::new();
                let mut pages = 0;
                loop {
                    let mut q =
                        outflow::usage::request::validate(&params, &org, Utc::now()).unwrap();
                    q.raw = raw;
                    q.page_size = size;
                    let page = serde_json::to_value(usage.run(&org, &q).await.unwrap()).unwrap();
                    pages += 1;
                    for b in page["buckets"].as_array().unwrap() {
                        out.push((b["start"].clone(), b["totals"].clone(), b["groups"].clone()));
                    }
                    match page["next_page"].as_str() {
                        Some(c) => params.cursor = Some(c.to_string()),
                        None => return (out, pages),
                    }
                }
            }
        };
        let (whole, _) = walk(true, 1000).await;
        assert_eq!(whole.len(), 24, "one bucket a day");
        for size in [1, 5, 17, 1000] {
            let (rolled, pages) = walk(false, size).await;
            let (raw, raw_pages) = walk(true, size).await;
            assert_eq!(pages, raw_pages, "page size {size}");
            let merge = |parts: Vec<(Value, Value, Value)>| {
                let mut by_start: Vec<(Value, Value, Vec<Value>)> = Vec::new();
                for (start, totals, groups) in parts {
                    match by_start.last_mut() {
                        Some(last) if last.0 == start => {
                            last.2.extend(groups.as_array().unwrap().iter().cloned())
                        }
                        _ => by_start.push((start, totals, groups.as_array().unwrap().clone())),
                    }
                }
                by_start
            };
            assert_eq!(merge(rolled.clone()), merge(raw), "page size {size}");
            assert_eq!(merge(rolled), merge(whole.clone()), "page size {size}");
        }
    }
);

// A database migrated to 0016 with records already stored: until the hourly backfill has
// rolled them up, queries read the 15-minute tables (still exact); the backfill fills the
// hourly tables in bounded batches and the answers stay the same.
both_backends!(
    hourly_backfill_fills_the_new_tables_in_batches,
    |b| async move {
        let app = setup(b).await;
        let t0 = Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap();
        ingest_all(&app, "credit_logs", &credit_logs("b", t0, 20)).await;
        ingest_streams(&app, "b", t0, 200).await;
        let query = "metrics=credits,runs&timezone=America/New_York&start=2026-03-09\
                     &end=2026-03-12&bucket=1d&group_by=team";
        let (expected, raw) = rolled_and_raw(&app, query).await;
        assert_eq!(expected, raw);
        // As the migration leaves an existing database: empty hourly tables and a backfill
        // row per stream.
        let store = &app.store;
        for family in outflow::store::rollups::COARSE {
            store
                .execute(&format!("DELETE FROM {}", family.table), &[])
                .await
                .unwrap();
        }
        for stream in [
            "credit_logs",
            "workflow_runs",
            "agent_interactions",
            "tool_calls",
        ] {
            store
                .execute(
                    &format!(
                        "INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto) \
                         SELECT org_id, '{stream}', MIN(pos), MAX(pos) FROM {stream} GROUP BY org_id"
                    ),
                    &[],
                )
                .await
                .unwrap();
        }
        use outflow::usage::backfill;
        assert!(
            backfill::pending_in(store, backfill::HOURLY_TABLES, "acme")
                .await
                .unwrap()
        );
        assert!(!backfill::pending(store, "acme").await.unwrap());
        assert_eq!(
            rolled_and_raw(&app, query).await.0,
            expected,
            "while pending"
        );
        let mut steps = 0;
        while backfill::step(store, 50).await.unwrap() {
            steps += 1;
            assert!(steps < 200, "the backfill ends");
        }
        assert!(steps >= 8, "bounded batches: {steps}");
        assert!(
            !backfill::pending_in(store, backfill::HOURLY_TABLES, "acme")
                .await
                .unwrap()
        );
        let rows = store
            .query(
                "SELECT COUNT(*) FROM usage_runs_hourly",
                &[],
                &[outflow::domain::FieldType::Integer],
            )
            .await
            .unwrap()[0][0]
            .as_i64()
            .unwrap();
        assert!(rows > 0, "the backfill filled the hourly table");
        // The 15-minute tables were not touched again: nothing is counted twice.
        assert_eq!(
            rolled_and_raw(&app, query).await.0,
            expected,
            "after the backfill"
        );
        let by_user = query.replace("group_by=team", "group_by=user");
        let (rolled, raw) = rolled_and_raw(&app, &by_user).await;
        assert_eq!(rolled, raw);
    }
);

// The read-only `analytics` scope: `GET /v1/usage` and reading budgets, nothing else; `admin`
// includes it; a key with neither it nor `usage_export` is refused usage.
both_backends!(
    analytics_scope_reads_usage_and_budgets_only,
    |b| async move {
        let app = setup(b).await;
        let t0 = Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap();
        ingest_all(&app, "credit_logs", &credit_logs("a", t0, 3)).await;
        let (_, admin) = app.org_key("acme", "admin").await;
        // Created through the API like any other key.
        let r = post_json(
            &app,
            "/v1/keys",
            &admin,
            json!({"name": "dashboard", "scopes": ["analytics"]}),
        )
        .await;
        assert_eq!(r.status(), 201);
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["scopes"], json!(["analytics"]));
        let analytics = created["secret"].as_str().unwrap().to_string();
        let q = "metrics=credits&start=2026-03-10&end=2026-03-10&timezone=UTC&bucket=total";
        let answer = usage(&app, &analytics, q).await;
        assert!(answer["buckets"][0]["totals"]["credits"].as_f64().unwrap() > 0.0);
        assert_eq!(
            usage(&app, &admin, q).await,
            answer,
            "admin includes analytics"
        );

        let budget = post_json(
            &app,
            "/v1/budgets",
            &admin,
            json!({"name": "Org", "period": "month", "limit_credits": 1000, "thresholds": [80]}),
        )
        .await;
        assert_eq!(budget.status(), 201, "{}", budget.text().await.unwrap());
        let budget: Value = budget.json().await.unwrap();
        let id = budget["id"].as_str().unwrap();
        assert_eq!(app.get("/v1/budgets", &analytics).await.status(), 200);
        assert_eq!(
            app.get(&format!("/v1/budgets/{id}"), &analytics)
                .await
                .status(),
            200
        );

        // Anything beyond reading is refused, naming the scope it needs.
        let r = post_json(
            &app,
            "/v1/exports",
            &analytics,
            json!({"data_type": "credit_logs", "start": "2026-03-10", "end": "2026-03-10"}),
        )
        .await;
        let m = error_message(r, 403).await;
        assert!(m.contains("usage_export"), "{m}");
        let r = post_json(
            &app,
            "/v1/budgets",
            &analytics,
            json!({"name": "No", "period": "month", "limit_credits": 5}),
        )
        .await;
        let m = error_message(r, 403).await;
        assert!(m.contains("usage_export"), "{m}");
        let r = app
            .client
            .delete(format!("{}/v1/budgets/{id}", app.url))
            .bearer_auth(&analytics)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(app.get("/v1/keys", &analytics).await.status(), 403);

        // Without it (nor usage_export), usage is refused with the scopes that would do.
        let (_, drains) = app.org_key("acme", "drains").await;
        let r = app.get(&format!("/v1/usage?{q}"), &drains).await;
        let m = error_message(r, 403).await;
        assert!(m.contains("usage_export") && m.contains("analytics"), "{m}");
        let r = app.get("/v1/budgets", &drains).await;
        assert_eq!(r.status(), 403);

        // An unknown scope names the allowed ones, analytics among them.
        let r = post_json(
            &app,
            "/v1/keys",
            &admin,
            json!({"name": "x", "scopes": ["analytic"]}),
        )
        .await;
        assert_eq!(r.status(), 400);
        let body = r.text().await.unwrap();
        assert!(body.contains("analytics"), "{body}");
    }
);

// Ingest maintains exactly the rollup families the store is given (what `outflow bench
// ingest` measures its floor and its no-rollups baseline with), and every family by default.
both_backends!(
    ingest_maintains_only_the_rollup_families_it_is_given,
    |b| async move {
        use outflow::store::rollups::{self, Family};
        static ONLY_DAILY: [&Family; 1] = [&rollups::RUNS_DAILY];
        let app = setup(b).await;
        let runs = |prefix: &str| -> Vec<Value> {
            (0..3)
                .map(|i| run_record("acme", &format!("{prefix}-{i}")))
                .collect()
        };
        let counted = |table: &'static str| {
            let store = app.store.clone();
            async move {
                let rows = store
                    .query(
                        &format!("SELECT CAST(COALESCE(SUM(runs), 0) AS BIGINT) FROM {table}"),
                        &[],
                        &[outflow::domain::FieldType::Integer],
                    )
                    .await
                    .unwrap();
                rows[0][0].as_i64().unwrap()
            }
        };
        app.store.set_rollup_families(&ONLY_DAILY);
        ingest_all(&app, "workflows", &runs("only-daily")).await;
        assert_eq!(counted("usage_runs_daily").await, 3);
        assert_eq!(counted("usage_runs_hourly").await, 0);
        assert_eq!(counted("usage_runs").await, 0);
        app.store.set_rollups(true);
        ingest_all(&app, "workflows", &runs("all")).await;
        assert_eq!(counted("usage_runs_daily").await, 6);
        assert_eq!(counted("usage_runs_hourly").await, 3);
        assert_eq!(counted("usage_runs").await, 3);
    }
);

//! Credit budgets and alerts (issue 14 item 4) on both backends: the API (validation naming
//! the field and the allowed values, 404 across organizations, audit records), spend per
//! month and billing period with the linear forecast, exactly one alert per threshold while
//! several tasks ingest at once (and two nodes evaluate), emails through the real SMTP test
//! server and signed events to a real HTTP receiver, and a node that dies between claim and
//! send. Evaluation runs with `run_due(now)` / `evaluate(…)` at chosen instants; waits are on
//! conditions with deadlines, never sleeps.

use crate::both_backends;
use crate::helpers::*;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::time::Duration;

const SIGNING: &str = "whsec_YnVkZ2V0LWFsZXJ0LXNpZ25pbmctc2VjcmV0";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The app with its own runners off (tests call `run_due`) and loopback destinations allowed.
async fn app(backend: Backend, smtp: Option<outflow::mail::config::SmtpConfig>) -> TestApp {
    spawn_app_with(backend, |c| {
        c.schedules.run = false;
        c.drains.allow_private_destinations = true;
        if let Some(smtp) = smtp {
            c.smtp = smtp;
        }
    })
    .await
}

/// `acme` (Europe/Berlin, billing anchor 15) with team-eng, a member and an admin; a
/// usage_export key.
async fn acme(app: &TestApp) -> String {
    acme_with_team_and_member(app).await;
    let r = app
        .put_entity(
            "acme",
            "members",
            "adm",
            json!({"email": "admin@acme.example", "name": "Ada Admin", "role": "admin",
                   "joined_at": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    app.org_key("acme", "usage_export").await.1
}

/// A debit of `credits` at `t`.
fn debit(id: &str, t: DateTime<Utc>, credits: f64, team: &str) -> Value {
    json!({"org_id": "acme", "log_id": id, "timestamp": t.to_rfc3339(),
           "category": "agent_run", "amount": -credits, "user_id": "u1", "project_id": team})
}

async fn create(app: &TestApp, key: &str, body: Value) -> Value {
    let r = call(app, reqwest::Method::POST, "/v1/budgets", key, Some(body)).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn audit_count(app: &TestApp, event: &str) -> usize {
    app.store
        .query(
            "SELECT event_id FROM audit_logs WHERE org_id = ? AND event_type = ?",
            &["acme".into(), event.into()],
            &[outflow::domain::FieldType::Text],
        )
        .await
        .unwrap()
        .len()
}

both_backends!(
    api_validates_creates_changes_and_deletes,
    |backend| async move {
        use reqwest::Method;
        let app = app(backend, None).await;
        let key = acme(&app).await;
        let ok = json!({"name": "Monthly cap", "period": "month", "limit_credits": 100});

        for (patch, status, needle) in [
            (
                json!({"period": "week"}),
                400,
                "`week` is not a period; allowed: month, billing_period",
            ),
            (json!({"limit_credits": 0}), 400, "invalid `limit_credits`"),
            (json!({"limit_credits": -5}), 400, "a number of credits > 0"),
            (
                json!({"thresholds": [50, 0]}),
                400,
                "allowed: integers 1–1000",
            ),
            (json!({"thresholds": []}), 400, "give 1–10 percentages"),
            (json!({"thresholds": [80, 80]}), 400, "repeated"),
            (json!({"name": "  "}), 400, "invalid `name`"),
            (json!({"name": null}), 400, "invalid `name`: required"),
            (
                json!({"team_id": "team-nope"}),
                404,
                "team `team-nope` not found",
            ),
            (
                json!({"notify": {"admins": true, "secret_id": "sec_nope"}}),
                404,
                "secret `sec_nope` not found",
            ),
            (json!({"colour": "red"}), 400, "colour"),
        ] {
            let mut body = ok.clone();
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() {
                    body.as_object_mut().unwrap().remove(k);
                } else {
                    body[k] = v.clone();
                }
            }
            let r = call(&app, Method::POST, "/v1/budgets", &key, Some(body)).await;
            let m = error_message(r, status).await;
            assert!(m.contains(needle), "{patch}: {m}");
        }

        // Spend in the current month (a debit; a grant does not count).
        let now = Utc::now();
        app.ingest_ok(
        "credit_logs",
        &json!([debit("d1", now - chrono::Duration::minutes(5), 12.5, "team-eng"),
                {"org_id": "acme", "log_id": "g1", "timestamp": now.to_rfc3339(),
                 "category": "agent_run", "amount": 40.0, "user_id": "u1", "project_id": "team-eng"}]),
    )
    .await;
        let b = create(&app, &key, ok.clone()).await;
        let id = b["id"].as_str().unwrap().to_string();
        assert!(id.starts_with("bud_"), "{b}");
        assert_eq!(b["thresholds"], json!([50, 80, 100]));
        assert_eq!(b["notify"], json!({"admins": true, "secret_id": null}));
        assert_eq!(b["spent"], json!(12.5));
        assert!(b["forecast"].as_f64().unwrap() >= 12.5, "{b}");
        assert_eq!(b["alerts"], json!([]));
        assert!(
            b["period_start"].as_str().unwrap().ends_with("+01:00"),
            "{b}"
        );

        let list: Value = app.get("/v1/budgets", &key).await.json().await.unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert_eq!(list["items"][0]["id"], json!(id));

        // PATCH changes only what it names; team_id null clears the team.
        let r = call(
            &app,
            Method::PATCH,
            &format!("/v1/budgets/{id}"),
            &key,
            Some(json!({"team_id": "team-eng", "thresholds": [90, 25]})),
        )
        .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["team_id"], "team-eng");
        assert_eq!(v["thresholds"], json!([25, 90]));
        assert_eq!(v["name"], "Monthly cap");
        let r = call(
            &app,
            Method::PATCH,
            &format!("/v1/budgets/{id}"),
            &key,
            Some(json!({"limit_credits": -1})),
        )
        .await;
        assert!(error_message(r, 400).await.contains("limit_credits"));
        let r = call(
            &app,
            Method::PATCH,
            &format!("/v1/budgets/{id}"),
            &key,
            Some(json!({"team_id": null})),
        )
        .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["team_id"], Value::Null);

        // Another organization's key sees nothing: 404 on every route.
        app.put_org("other").await;
        let other = app.org_key("other", "admin").await.1;
        for method in [Method::GET, Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| json!({"name": "x"}));
            let r = call(
                &app,
                method.clone(),
                &format!("/v1/budgets/{id}"),
                &other,
                body,
            )
            .await;
            assert_eq!(r.status(), 404, "{method}");
        }
        let list: Value = app.get("/v1/budgets", &other).await.json().await.unwrap();
        assert_eq!(list["items"], json!([]));
        // A key without usage_export (or admin) is refused.
        let drains_key = app.org_key("acme", "drains").await.1;
        assert_eq!(app.get("/v1/budgets", &drains_key).await.status(), 403);

        let r = call(
            &app,
            Method::DELETE,
            &format!("/v1/budgets/{id}"),
            &key,
            None,
        )
        .await;
        assert_eq!(r.status(), 204);
        assert_eq!(
            app.get(&format!("/v1/budgets/{id}"), &key).await.status(),
            404
        );
        assert_eq!(audit_count(&app, "budget_created").await, 1);
        assert_eq!(audit_count(&app, "budget_updated").await, 2);
        assert_eq!(audit_count(&app, "budget_deleted").await, 1);
    }
);

both_backends!(
    spend_per_month_and_billing_period_with_forecast,
    |backend| async move {
        let app = app(backend, None).await;
        let key = acme(&app).await;
        put_team(&app, "acme", "team-sales", "Sales").await;
        // Berlin is UTC+1 in March until the 29th; the billing period starts on the 15th.
        app.ingest_ok(
            "credit_logs",
            &json!([
                debit("a", utc("2026-03-10T10:00:00Z"), 5.0, "team-eng"),
                debit("b", utc("2026-03-16T10:00:00Z"), 2.25, "team-eng"),
                debit("c", utc("2026-03-16T11:00:00Z"), 0.75, "team-sales"),
                // 00:30 on April 1st in Berlin: the next month.
                debit("d", utc("2026-03-31T22:30:00Z"), 100.0, "team-sales"),
            ]),
        )
        .await;
        let month = create(
            &app,
            &key,
            json!({"name": "Month", "period": "month", "limit_credits": 10}),
        )
        .await;
        let billing = create(
            &app,
            &key,
            json!({"name": "Billing", "period": "billing_period",
        "limit_credits": 20, "team_id": "team-eng"}),
        )
        .await;
        let now = utc("2026-03-20T23:00:00Z"); // March 21st 00:00 in Berlin: 20 of 31 days gone
        let m = app
            .budgets
            .view("acme", month["id"].as_str().unwrap(), now)
            .await
            .unwrap();
        assert_eq!(m.spent, 8.0);
        assert_eq!(m.period_start, "2026-03-01T00:00:00+01:00");
        assert_eq!(m.period_end, "2026-04-01T00:00:00+02:00");
        // 8 credits in 20 days (less the DST hour, which lies ahead) → 8 × 743 h / 480 h.
        let expected = 8.0 * 743.0 / 480.0;
        assert!(
            (m.forecast - expected).abs() < 1e-5,
            "{} vs {expected}",
            m.forecast
        );
        assert_eq!(m.status, "at_risk");
        assert_eq!(m.percent_used, 80.0);
        let b = app
            .budgets
            .view("acme", billing["id"].as_str().unwrap(), now)
            .await
            .unwrap();
        assert_eq!(b.spent, 2.25, "only team-eng, only from the 15th");
        assert_eq!(b.period_start, "2026-03-15T00:00:00+01:00");
        assert_eq!(b.status, "ok");
        // Budgets::list (the Analytics page's progress bars) shows the same.
        let all = app.budgets.list("acme", now).await.unwrap();
        assert_eq!(all.iter().map(|v| v.spent).collect::<Vec<_>>(), [8.0, 2.25]);
    }
);

async fn http_secret(app: &TestApp, url: &str) -> String {
    let key = app.org_key("acme", "drains").await.1;
    let r = call(
        app,
        reqwest::Method::POST,
        "/v1/secrets",
        &key,
        Some(json!({"name": "hook", "kind": "http", "url": url, "signing_secrets": [SIGNING]})),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

both_backends!(
    one_alert_per_threshold_under_concurrent_ingest,
    |backend| async move {
        let Some(smtp) = crate::mail::SmtpServer::start(None) else {
            return;
        };
        let app = app(backend, Some(smtp.config())).await;
        let key = acme(&app).await;
        let rx = crate::http_receiver::Receiver::start().await;
        let secret = http_secret(&app, &rx.url).await;
        let b = create(
            &app,
            &key,
            json!({"name": "Team cap", "period": "month", "limit_credits": 20,
        "thresholds": [50, 80, 100], "notify": {"admins": true, "secret_id": secret}}),
        )
        .await;
        let id = b["id"].as_str().unwrap().to_string();

        // Eight tasks ingest 3 × 1 credit each at once (24 credits: every threshold crosses);
        // each ingest evaluates the organization's budgets, and two "nodes" run passes meanwhile.
        let now = Utc::now();
        let mut tasks = Vec::new();
        for t in 0..8 {
            let url = app.url.clone();
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                for k in 0..3 {
                    let r = client
                        .post(format!("{url}/v1/ingest/credit_logs"))
                        .bearer_auth(INGEST_KEY)
                        .json(&json!([debit(
                            &format!("t{t}-{k}"),
                            now - chrono::Duration::seconds(60),
                            1.0,
                            "team-eng"
                        )]))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                }
            }));
        }
        for node in ["node-a", "node-b"] {
            let budgets = app.budgets.as_node(node);
            tasks.push(tokio::spawn(async move {
                for _ in 0..5 {
                    budgets.run_due(Utc::now()).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        app.budgets.run_due(Utc::now()).await.unwrap();

        let messages = smtp.wait_for_messages(3).await;
        rx.wait_for(Duration::from_secs(10), |r| r.len() >= 3).await;
        // Everything settled: further passes find nothing new.
        let done = app.budgets.run_due(Utc::now()).await.unwrap();
        assert_eq!((done.claimed, done.sent), (0, 0), "{done:?}");
        let v: Value = app
            .get(&format!("/v1/budgets/{id}"), &key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["spent"], json!(24.0));
        assert_eq!(v["status"], "exceeded");
        let alerts = v["alerts"].as_array().unwrap();
        let mut thresholds: Vec<i64> = alerts
            .iter()
            .map(|a| a["threshold"].as_i64().unwrap())
            .collect();
        thresholds.sort_unstable();
        assert_eq!(thresholds, [50, 80, 100], "{v}");
        for a in alerts {
            assert_eq!(a["state"], "sent", "{a}");
            assert_eq!(a["delivered"], json!(["email", "http"]));
        }
        assert_eq!(smtp.messages().len(), 3, "one email per threshold");
        assert_eq!(audit_count(&app, "budget_alert").await, 3);

        // Each email names the budget, the threshold, the spend and the limit.
        let mut subjects: Vec<String> = messages
            .iter()
            .map(|m| m["subject"].as_str().unwrap().to_string())
            .collect();
        subjects.sort();
        for (s, t) in subjects.iter().zip(["100%", "50%", "80%"]) {
            assert!(
                s.starts_with("Budget \"Team cap\" of Org acme reached ") && s.contains(t),
                "{s}"
            );
            assert!(s.contains("of 20 credits"), "{s}");
        }
        assert_eq!(messages[0]["rcpt_tos"], json!(["admin@acme.example"]));
        let body = messages[0]["body"].as_str().unwrap();
        assert!(
            body.contains("Limit:     20 credits") && body.contains("Spent:"),
            "{body}"
        );

        // Three signed events, one per threshold, each with its own stable webhook-id.
        let events = rx.requests();
        assert_eq!(events.len(), 3);
        let mut ids: Vec<&str> = events.iter().map(|e| e.header("webhook-id")).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        for e in &events {
            assert!(crate::http_receiver::verify_webhook(SIGNING, e));
            let j = e.json();
            assert_eq!(j["type"], "budget.threshold_crossed");
            assert_eq!(j["budget_name"], "Team cap");
            assert_eq!(j["limit"], json!(20.0));
            let t = j["threshold"].as_i64().unwrap();
            assert!(
                j["spent"].as_f64().unwrap() * 100.0 >= 20.0 * t as f64,
                "{j}"
            );
        }
    }
);

/// Stores credit logs without the HTTP route, so no after-ingest evaluation at the real
/// clock runs beside the test's own clock.
async fn store_debits(app: &TestApp, records: Value) {
    let r = outflow::ingest::ingest(
        &app.store,
        outflow::domain::DataType::CreditLogs,
        records.as_array().unwrap().clone(),
    )
    .await
    .unwrap();
    assert!(r.rejected.is_empty(), "{r:?}");
}

/// The outbox emails (no SMTP configured) naming `needle`.
fn outbox(app: &TestApp, needle: &str) -> Vec<String> {
    let dir = app._db.dir.path().join("outbox");
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .filter(|m| m.contains(needle))
                .collect()
        })
        .unwrap_or_default()
}

both_backends!(
    a_crash_between_claim_and_send_neither_loses_nor_repeats,
    |backend| async move {
        let app = app(backend, None).await;
        let key = acme(&app).await;
        let rx = crate::http_receiver::Receiver::start().await;
        let secret = http_secret(&app, &rx.url).await;
        store_debits(
            &app,
            json!([debit("a", utc("2026-03-10T10:00:00Z"), 6.0, "team-eng")]),
        )
        .await;
        let b = create(
            &app,
            &key,
            json!({"name": "Crashy", "period": "month", "limit_credits": 10,
        "thresholds": [50, 90], "notify": {"admins": true, "secret_id": secret}}),
        )
        .await;
        let budget = app
            .budgets
            .get("acme", b["id"].as_str().unwrap())
            .await
            .unwrap();
        let now = utc("2026-03-20T12:00:00Z");

        // A node claims the 50 % alert and dies before sending: the claim (and its audit record)
        // is durable, nothing was sent.
        assert_eq!(
            app.budgets
                .as_node("dead")
                .evaluate(&budget, now)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            app.budgets.evaluate(&budget, now).await.unwrap(),
            0,
            "claimed once"
        );
        assert_eq!(audit_count(&app, "budget_alert").await, 1);
        let v = app.budgets.view("acme", &budget.id, now).await.unwrap();
        assert_eq!(v.alerts.len(), 1);
        assert_eq!(
            (v.alerts[0].threshold, v.alerts[0].state.as_str()),
            (50, "pending")
        );
        assert!(outbox(&app, "Crashy").is_empty());
        assert_eq!(rx.count(), 0);

        // The receiver fails once: the next pass emails the admins, the event waits for a retry.
        rx.reply_next(vec![crate::http_receiver::Reply::status(500)]);
        let done = app.budgets.run_due(now).await.unwrap();
        assert_eq!((done.claimed, done.sent), (0, 0), "{done:?}");
        assert_eq!(outbox(&app, "Crashy").len(), 1);
        let v = app.budgets.view("acme", &budget.id, now).await.unwrap();
        assert_eq!(v.alerts[0].delivered, ["email"]);
        assert!(v.alerts[0].error.is_some(), "{:?}", v.alerts[0]);
        // Not due yet: the drains' backoff (≥ 15 s after a first failure).
        app.budgets.run_due(now).await.unwrap();
        assert_eq!(rx.count(), 1);

        // Later the retry posts the event; the email is not sent again.
        let later = now + chrono::Duration::hours(2);
        let done = app.budgets.run_due(later).await.unwrap();
        assert_eq!(done.sent, 1, "{done:?}");
        assert_eq!(rx.count(), 2);
        let ids: Vec<String> = rx
            .requests()
            .iter()
            .map(|r| r.header("webhook-id").to_string())
            .collect();
        assert_eq!(ids[0], ids[1], "a retry keeps its webhook-id");
        assert_eq!(outbox(&app, "Crashy").len(), 1);
        let v = app.budgets.view("acme", &budget.id, later).await.unwrap();
        assert_eq!(v.alerts[0].state, "sent");
        assert!(v.alerts[0].sent_at.is_some());

        // More spend crosses 90 %: one new alert; nothing is repeated for 50 %.
        store_debits(
            &app,
            json!([debit("b", utc("2026-03-11T10:00:00Z"), 3.5, "team-eng")]),
        )
        .await;
        let done = app.budgets.run_due(later).await.unwrap();
        assert_eq!((done.claimed, done.sent), (1, 1), "{done:?}");
        assert_eq!(outbox(&app, "Crashy").len(), 2);
        assert_eq!(audit_count(&app, "budget_alert").await, 2);
        let done = app
            .budgets
            .run_due(later + chrono::Duration::hours(1))
            .await
            .unwrap();
        assert_eq!((done.claimed, done.sent), (0, 0));

        // A new month starts over.
        store_debits(
            &app,
            json!([debit("c", utc("2026-04-02T10:00:00Z"), 5.0, "team-eng")]),
        )
        .await;
        let done = app
            .budgets
            .run_due(utc("2026-04-03T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!((done.claimed, done.sent), (1, 1), "{done:?}");
    }
);

// ----- kill -9 during an alert's delivery: a real `outflow serve` process ------------------

struct Node {
    child: std::process::Child,
    url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_node(db: &TestDb) -> Node {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_outflow"))
        .arg("serve")
        .env("OUTFLOW_DATA_DIR", db.dir.path())
        .env("OUTFLOW_DATABASE_URL", &db.url)
        .env("OUTFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("OUTFLOW_INGEST_KEY", INGEST_KEY)
        .env("OUTFLOW_LOG_LEVEL", "warn")
        .env(
            "OUTFLOW_DRAINS__MASTER_KEY",
            "0202020202020202020202020202020202020202020202020202020202020202",
        )
        .env("OUTFLOW_DRAINS__ALLOW_PRIVATE_DESTINATIONS", "true")
        // The budget runner follows [schedules]: short lease, frequent passes.
        .env("OUTFLOW_SCHEDULES__LEASE_SECONDS", "2")
        .env("OUTFLOW_SCHEDULES__POLL_SECONDS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start outflow serve");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "outflow serve did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Node { child, url }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_notifying_then_restart_sends_the_alert_again_and_claims_nothing_twice() {
    let db = TestDb::new(Backend::Sqlite).await;
    let rx = crate::http_receiver::Receiver::start().await;
    let node = start_node(&db).await;
    let client = reqwest::Client::new();
    let r = client
        .put(format!("{}/v1/orgs/acme", node.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!({"name": "Acme", "timezone": "UTC"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let store = db.store().await;
    let (_, key) = outflow::auth::keys::create_org_key(
        &store,
        "acme",
        "test",
        outflow::store::Scope::parse_list("admin").unwrap(),
        &outflow::audit::Actor::cli(),
    )
    .await
    .unwrap();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{}{path}", node.url))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let r = post(
        "/v1/secrets",
        json!({"name": "hook", "kind": "http", "url": rx.url,
        "signing_secrets": [SIGNING]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let secret = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = post(
        "/v1/budgets",
        json!({"name": "Killed", "period": "month", "limit_credits": 10,
        "thresholds": [50], "notify": {"admins": false, "secret_id": secret}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The receiver answers slowly, so the event is in flight when the process dies.
    rx.set_default(crate::http_receiver::Reply::status(200).delay(Duration::from_secs(5)));
    let r = client
        .post(format!("{}/v1/ingest/credit_logs", node.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!([debit(
            "k1",
            Utc::now() - chrono::Duration::seconds(30),
            6.0,
            "team-eng"
        )]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    rx.wait_for(Duration::from_secs(20), |r| !r.is_empty())
        .await;
    let mut node = node;
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    rx.set_default(crate::http_receiver::Reply::status(200));

    // The restarted process's runner finds the pending alert once its lease has expired.
    let node = start_node(&db).await;
    let got = rx.wait_for(Duration::from_secs(30), |r| r.len() >= 2).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let v = loop {
        let v: Value = client
            .get(format!("{}/v1/budgets/{id}", node.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["alerts"][0]["state"] == "sent" {
            break v;
        }
        assert!(std::time::Instant::now() < until, "alert not sent: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(v["alerts"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["alerts"][0]["delivered"], json!(["http"]));
    // One claim, one audit record, and nothing more is sent.
    let audits = store
        .query(
            "SELECT event_id FROM audit_logs WHERE org_id = 'acme' AND event_type = 'budget_alert'",
            &[],
            &[outflow::domain::FieldType::Text],
        )
        .await
        .unwrap();
    assert_eq!(audits.len(), 1);
    assert_eq!(rx.count(), 2);
    drop(node);
}

both_backends!(
    a_secret_a_budget_alerts_through_cannot_be_deleted_until_the_budget_lets_go,
    |backend| async move {
        use reqwest::Method;
        let app = app(backend, None).await;
        let key = acme(&app).await;
        let drains_key = app.org_key("acme", "drains").await.1;
        let secret = http_secret(&app, "https://hooks.example.com/budget").await;
        let b = create(
            &app,
            &key,
            json!({"name": "Cap", "period": "month", "limit_credits": 10,
                "notify": {"admins": true, "secret_id": secret}}),
        )
        .await;
        let id = b["id"].as_str().unwrap().to_string();

        // In use: refused, naming the budget, and the secret is still there.
        let path = format!("/v1/secrets/{secret}");
        let r = call(&app, Method::DELETE, &path, &drains_key, None).await;
        assert_eq!(r.status(), 409);
        let text = r.text().await.unwrap();
        assert!(text.contains(&format!("budget {id}")), "{text}");
        let r = call(&app, Method::GET, &path, &drains_key, None).await;
        assert_eq!(r.status(), 200);

        // Once the budget points nowhere, the secret goes.
        let r = call(
            &app,
            Method::PATCH,
            &format!("/v1/budgets/{id}"),
            &key,
            Some(json!({"notify": {"admins": true, "secret_id": null}})),
        )
        .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let r = call(&app, Method::DELETE, &path, &drains_key, None).await;
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    }
);

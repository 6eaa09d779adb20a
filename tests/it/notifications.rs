//! Notifications to an HTTP destination (issue 16 item 6), end to end on both backends with a
//! real local receiver: a drain entering `error`, a failed export and a schedule stopped by
//! failed runs each arrive once, Standard Webhooks-signed (verified independently, from the
//! specification), with `webhook-id` = the event id; the Slack body is `{"text": …}`; a
//! receiver that fails and then succeeds gets the event again under the same id, and then
//! never again; no credential (the endpoint's path token or authorization, the signing
//! secret, the drain destination's path token) appears in an event; settings are validated
//! (naming the allowed values) and every change is an audit record.

use crate::both_backends;
use crate::drain_support::Ctx;
use crate::helpers::*;
use crate::http_receiver::{Receiver, Reply, verify_outflow_signature, verify_webhook};
use chrono::{DateTime, Utc};
use outflow::export::jobs;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SIGNING: &str = "whsec_bm90aWZ5LXNpZ25pbmcta2V5LTAxMjM0NTY3";
/// The token in the notification endpoint's path (Slack-style URL).
const HOOK_TOKEN: &str = "HookPathToken0123456789";
const AUTH: &str = "Bearer notify-auth-value-987";
/// The token in the drain destination's path.
const DRAIN_TOKEN: &str = "DrainPathToken9876543210";
const WAIT: Duration = Duration::from_secs(30);

fn config(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 2;
    c.drains.lease_seconds = 3;
    // Export workers and the schedule runner off: the test makes exports fail itself.
    c.exports.workers = 0;
    c.exports.lease_seconds = 1;
    c.exports.max_attempts = 1;
    c.schedules.run = false;
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Setup {
    ctx: Ctx,
    admin: String,
    usage: String,
    rx: Receiver,
}

impl Setup {
    async fn new(backend: Backend) -> Setup {
        let ctx = Ctx::new(backend, config).await;
        acme_with_team_and_member(&ctx.app).await;
        let r = ctx
            .app
            .put_entity(
                "acme",
                "members",
                "adm",
                json!({"email": "admin@acme.example", "name": "Ada Admin", "role": "admin",
                       "joined_at": "2025-01-01T00:00:00Z"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let admin = ctx.app.org_key("acme", "admin").await.1;
        let usage = ctx.app.org_key("acme", "usage_export").await.1;
        let rx = Receiver::start().await;
        Setup {
            ctx,
            admin,
            usage,
            rx,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .ctx
            .app
            .client
            .request(method, format!("{}{path}", self.ctx.app.url))
            .bearer_auth(&self.admin);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The endpoint's secret (a Slack-style URL with a path token, an authorization, a
    /// signing secret), stored with the drains key.
    async fn hook_secret(&self) -> String {
        let s = self
            .ctx
            .ok(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": "alerts", "kind": "http",
                    "url": format!("{}/services/T0/B0/{HOOK_TOKEN}", self.rx.url),
                    "authorization": AUTH, "signing_secrets": [SIGNING]})),
                201,
            )
            .await;
        s["id"].as_str().unwrap().to_string()
    }

    async fn set(&self, body: Value) -> Value {
        let (status, v) = self
            .call(reqwest::Method::PUT, "/v1/notifications", Some(body))
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    async fn events(&self) -> Vec<Value> {
        let (status, v) = self
            .call(reqwest::Method::GET, "/v1/notifications/events", None)
            .await;
        assert_eq!(status, 200, "{v}");
        v["items"].as_array().unwrap().clone()
    }

    async fn wait_events(&self, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let until = Instant::now() + WAIT;
        loop {
            let e = self.events().await;
            if pred(&e) {
                return e;
            }
            assert!(Instant::now() < until, "events condition not met: {e:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// A drain whose destination then goes away: it enters `error`.
    async fn failing_drain(&self) -> String {
        let ok = Receiver::start().await;
        let secret = self
            .ctx
            .ok(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": "dest", "kind": "http",
                    "url": format!("{}/x/{DRAIN_TOKEN}", ok.url)})),
                201,
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let d = self
            .ctx
            .ok(
                reqwest::Method::POST,
                "/v1/drains",
                Some(json!({
                    "name": "runs to siem", "data_type": "workflows",
                    "fields": ["run_id", "credit_cost"],
                    "destination": {"type": "http", "format": "json"}, "secret_id": secret,
                })),
                201,
            )
            .await;
        let id = d["id"].as_str().unwrap().to_string();
        let gone = format!("http://127.0.0.1:{}/x/{DRAIN_TOKEN}", closed_port());
        self.ctx
            .ok(
                reqwest::Method::PUT,
                &format!("/v1/secrets/{secret}"),
                Some(json!({"name": "dest", "kind": "http", "url": gone})),
                200,
            )
            .await;
        // A cycle that was already running when the secret changed may still deliver one
        // batch with the old credentials ("picked up at the next cycle"); the record after it
        // meets the new, dead endpoint.
        self.ctx
            .app
            .ingest_ok("workflows", &json!([run_record("acme", "r-1")]))
            .await;
        let d = self
            .ctx
            .wait_drain(&id, |d| {
                d["status"] == "error" || d["records_delivered"] == 1
            })
            .await;
        if d["status"] != "error" {
            self.ctx
                .app
                .ingest_ok("workflows", &json!([run_record("acme", "r-2")]))
                .await;
            self.ctx.wait_drain(&id, |d| d["status"] == "error").await;
        }
        id
    }

    /// An export whose worker died with no attempt left: the sweeper fails it.
    async fn failing_export(&self) -> String {
        let r = post_json(
            &self.ctx.app,
            "/v1/exports",
            &self.usage,
            json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-03-31",
                   "workspace_ids": ["team-eng"], "field_preset": "minimal", "user_id": "u1"}),
        )
        .await;
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let now = Utc::now();
        let claimed = jobs::claim(
            &self.ctx.app.store,
            "dead-node",
            now,
            now + chrono::Duration::seconds(1),
            1,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(claimed.id, id);
        self.ctx
            .app
            .exports
            .sweep(now + chrono::Duration::hours(1))
            .await
            .unwrap();
        let job = jobs::get(&self.ctx.app.store, "acme", &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.state, jobs::JobState::Failed);
        id
    }

    /// A daily schedule whose three runs fail (their exports cancelled): it goes to `error`.
    async fn failing_schedule(&self) -> String {
        let app = &self.ctx.app;
        let body: outflow::schedule::ScheduleBody = serde_json::from_value(json!({
            "name": "Daily runs",
            "export": {"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]},
            "cadence": {"every": "day", "at": "06:00"},
            "deliver": {"email": "admins"},
        }))
        .unwrap();
        let s = app
            .schedules
            .create(
                "acme",
                body,
                &outflow::audit::Actor::cli(),
                utc("2026-03-27T10:00:00Z"),
            )
            .await
            .unwrap();
        let done = app
            .schedules
            .run_due(utc("2026-03-30T04:30:00Z"))
            .await
            .unwrap();
        assert_eq!(done.queued, 3);
        let runs: Value = app
            .get(&format!("/v1/export-schedules/{}/runs", s.id), &self.usage)
            .await
            .json()
            .await
            .unwrap();
        for run in runs["items"].as_array().unwrap() {
            let export = run["export_id"].as_str().unwrap();
            app.exports.cancel("acme", export).await.unwrap();
        }
        let done = app
            .schedules
            .run_due(utc("2026-03-30T05:00:00Z"))
            .await
            .unwrap();
        assert_eq!(done.failed, 3, "{done:?}");
        s.id
    }

    async fn audit_count(&self, event_type: &str) -> usize {
        self.ctx
            .app
            .store
            .query(
                "SELECT event_id FROM audit_logs WHERE org_id = 'acme' AND event_type = ?",
                &[event_type.into()],
                &[outflow::domain::FieldType::Text],
            )
            .await
            .unwrap()
            .len()
    }
}

/// No credential of the endpoint or of the drain's destination in `text`.
fn assert_no_secret(text: &str) {
    for secret in [HOOK_TOKEN, AUTH, "notify-auth-value", SIGNING, DRAIN_TOKEN] {
        assert!(!text.contains(secret), "`{secret}` leaked: {text}");
    }
}

both_backends!(
    settings_are_validated_audited_and_turned_off,
    |backend| async move {
        let t = Setup::new(backend).await;
        use reqwest::Method;
        let (status, _) = t.call(Method::GET, "/v1/notifications", None).await;
        assert_eq!(status, 404);
        let secret = t.hook_secret().await;
        for (body, status, needle) in [
            (
                json!({"secret_id": "sec_nope"}),
                404,
                "secret `sec_nope` not found",
            ),
            (
                json!({"secret_id": secret, "format": "xml"}),
                400,
                "`xml` is not a format; use outflow or slack",
            ),
            (
                json!({"secret_id": secret, "events": ["drain.oops"]}),
                400,
                "use drain.error, export.failed, schedule.failed",
            ),
            (
                json!({"secret_id": secret, "events": []}),
                400,
                "at least one of",
            ),
            (json!({"secret_id": secret, "colour": "red"}), 400, "colour"),
        ] {
            let (got, v) = t
                .call(Method::PUT, "/v1/notifications", Some(body.clone()))
                .await;
            assert_eq!(got, status, "{body}: {v}");
            assert!(v["message"].as_str().unwrap().contains(needle), "{v}");
        }
        // An organization key without the admin scope may not.
        let r = t
            .ctx
            .app
            .client
            .put(format!("{}/v1/notifications", t.ctx.app.url))
            .bearer_auth(&t.usage)
            .json(&json!({"secret_id": secret}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        let s = t.set(json!({"secret_id": secret})).await;
        assert_eq!(s["format"], "outflow");
        assert_eq!(
            s["events"],
            json!(["drain.error", "export.failed", "schedule.failed"])
        );
        let s = t
            .set(json!({"secret_id": secret, "format": "slack", "events": ["export.failed"]}))
            .await;
        assert_eq!(s["format"], "slack");
        let (_, got) = t.call(Method::GET, "/v1/notifications", None).await;
        assert_eq!(got["events"], json!(["export.failed"]), "{got}");
        assert_eq!(t.audit_count("notifications_changed").await, 2);
        // The endpoint's secret cannot be deleted while notifications use it.
        let secret_path = format!("/v1/secrets/{secret}");
        let (status, v) = t.call(Method::DELETE, &secret_path, None).await;
        assert_eq!(status, 409, "{v}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("the organization's notifications"),
            "{v}"
        );

        // Off: no event is stored for a later failure.
        let (status, _) = t.call(Method::DELETE, "/v1/notifications", None).await;
        assert_eq!(status, 204);
        assert_eq!(t.audit_count("notifications_changed").await, 3);
        let (status, _) = t.call(Method::DELETE, "/v1/notifications", None).await;
        assert_eq!(status, 404);
        let (status, v) = t.call(Method::DELETE, &secret_path, None).await;
        assert_eq!(status, 204, "{v}");
        t.failing_export().await;
        assert!(t.events().await.is_empty());
    }
);

both_backends!(
    each_event_type_arrives_once_signed_and_without_secrets,
    |backend| async move {
        let t = Setup::new(backend).await;
        let secret = t.hook_secret().await;
        t.set(json!({"secret_id": secret, "format": "outflow"}))
            .await;

        let drain = t.failing_drain().await;
        let export = t.failing_export().await;
        let schedule = t.failing_schedule().await;
        let got = t.rx.wait_for(WAIT, |r| r.len() >= 3).await;
        let events = t
            .wait_events(|e| e.len() == 3 && e.iter().all(|e| e["state"] == "sent"))
            .await;

        let mut seen = std::collections::BTreeMap::new();
        for r in &got {
            assert!(r.path.ends_with(HOOK_TOKEN), "{}", r.path);
            assert!(
                verify_webhook(SIGNING, r),
                "webhook-signature does not verify"
            );
            assert!(verify_outflow_signature(SIGNING, r));
            assert_eq!(r.header("authorization"), AUTH);
            let body = r.json();
            assert_eq!(r.header("webhook-id"), body["id"].as_str().unwrap());
            assert_eq!(body["org_id"], "acme");
            assert_no_secret(&String::from_utf8_lossy(&r.body));
            seen.insert(body["type"].as_str().unwrap().to_string(), body);
        }
        assert_eq!(got.len(), 3, "one request per event");
        let d = &seen["drain.error"];
        assert_eq!(d["subject_id"], drain.as_str());
        assert_eq!(d["data"]["name"], "runs to siem");
        assert!(
            d["data"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("connection refused at 127.0.0.1:"),
            "{d}"
        );
        let e = &seen["export.failed"];
        assert_eq!(e["subject_id"], export.as_str());
        assert_eq!(e["data"]["data_type"], "workflows");
        assert!(
            e["data"]["reason"]
                .as_str()
                .unwrap()
                .contains("interrupted"),
            "{e}"
        );
        let s = &seen["schedule.failed"];
        assert_eq!(s["subject_id"], schedule.as_str());
        assert_eq!(s["data"]["name"], "Daily runs");
        assert!(
            s["data"]["reason"]
                .as_str()
                .unwrap()
                .contains("3 runs failed in a row"),
            "{s}"
        );
        // The API view: one event per occurrence, each sent on its first attempt.
        for e in &events {
            assert_eq!(e["attempts"], 1, "{e}");
            assert!(seen.values().any(|b| b["id"] == e["id"]), "{e}");
        }
        // Nothing is sent twice, however often the runner passes.
        let again = t
            .ctx
            .app
            .notifier
            .run_due(Utc::now() + chrono::Duration::hours(3))
            .await
            .unwrap();
        assert_eq!(again, outflow::notifier::RunDue::default());
        assert_eq!(t.rx.count(), 3);
    }
);

both_backends!(
    a_failing_receiver_gets_the_slack_body_again_under_the_same_id,
    |backend| async move {
        let t = Setup::new(backend).await;
        let secret = t.hook_secret().await;
        t.set(json!({"secret_id": secret, "format": "slack", "events": ["export.failed"]}))
            .await;
        t.rx.reply_next(vec![Reply::status(503)]);

        let export = t.failing_export().await;
        t.rx.wait_for(WAIT, |r| !r.is_empty()).await;
        // The first attempt failed: pending, retried after the backoff (not before).
        let events = t
            .wait_events(|e| e.len() == 1 && e[0]["attempts"] == 1)
            .await;
        assert_eq!(events[0]["state"], "pending", "{events:?}");
        assert!(
            events[0]["error"]
                .as_str()
                .unwrap()
                .starts_with("HTTP 503 from"),
            "{events:?}"
        );
        assert_no_secret(&events[0].to_string());
        let notifier = &t.ctx.app.notifier;
        let done = notifier.run_due(Utc::now()).await.unwrap();
        assert_eq!(done.sent, 0, "retried before its backoff");

        let done = notifier
            .run_due(Utc::now() + chrono::Duration::hours(2))
            .await
            .unwrap();
        assert_eq!(done.sent, 1, "{done:?}");
        let got = t.rx.requests();
        assert_eq!(got.len(), 2);
        let id = events[0]["id"].as_str().unwrap();
        for r in &got {
            assert_eq!(r.header("webhook-id"), id, "the same id on every attempt");
            assert!(verify_webhook(SIGNING, r));
            assert_eq!(
                r.json(),
                json!({"text": format!(
                    "Outflow: Export {export} (workflows) of Org acme failed: \
                     the export was interrupted 1 times (worker stopped or lost its lease)"
                )})
            );
        }
        let events = t.events().await;
        assert_eq!(events[0]["state"], "sent");
        assert_eq!(events[0]["attempts"], 2);
        // Delivered: never again.
        let done = notifier
            .run_due(Utc::now() + chrono::Duration::hours(5))
            .await
            .unwrap();
        assert_eq!(done, outflow::notifier::RunDue::default());
        assert_eq!(t.rx.count(), 2);
    }
);

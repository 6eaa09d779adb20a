//! Team scope and filters, on both backends: personal spaces only when asked for (drains and
//! exports alike, and old drains keep what they were promised), organization-wide types take
//! no team scope, and every filter value, misplaced filter and unknown key is refused with a
//! message naming what is allowed.

use crate::both_backends;
use crate::helpers::*;
use crate::http_receiver::Receiver;
use outflow::store::Value as Cell;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

fn fast(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 2;
    c.drains.poll_min_seconds = 600;
    c.drains.poll_max_seconds = 600;
    c.drains.lease_seconds = 3;
}

struct Ctx {
    app: TestApp,
    key: String,
}

impl Ctx {
    /// `acme` with one organization team, one member (so one personal space `personal-u1`)
    /// and one custom role.
    async fn new(backend: Backend) -> Ctx {
        let app = spawn_app_with(backend, fast).await;
        acme_with_team_and_member(&app).await;
        let r = app
            .put_entity(
                "acme",
                "custom-roles",
                "role_fin",
                json!({"name": "Finance"}),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let (_, key) = app.org_key("acme", "drains,usage_export").await;
        Ctx { app, key }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut r = self
            .app
            .client
            .request(method, format!("{}{path}", self.app.url))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap()
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let r = self.send(method, path, body).await;
        let got = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(got, status, "{path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The error message of a request expected to fail with `status`.
    async fn refused(&self, method: Method, path: &str, body: Value, status: u16) -> String {
        let r = self.send(method, path, Some(body)).await;
        error_message(r, status).await
    }

    async fn http_secret(&self, url: &str) -> String {
        let s = self
            .ok(
                Method::POST,
                "/v1/secrets",
                Some(json!({"name": "receiver", "kind": "http", "url": url})),
                201,
            )
            .await;
        s["id"].as_str().unwrap().to_string()
    }

    async fn native_drain(&self, secret: &str, extra: Value) -> Value {
        let mut body = json!({
            "name": "runs", "data_type": "workflows", "fields": ["run_id"],
            "destination": {"type": "http", "format": "json"}, "secret_id": secret,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.ok(Method::POST, "/v1/drains", Some(body), 201).await
    }

    /// A personal-space run first, then an organization-team run: once the second is
    /// delivered, the drain has decided about the first (delivery follows positions).
    async fn ingest_personal_then_team(&self, tag: &str) {
        let mut personal = run_record("acme", &format!("{tag}-personal"));
        personal["workspace_id"] = json!("personal-u1");
        let team = run_record("acme", &format!("{tag}-team"));
        self.app.ingest_ok("workflows", &json!([personal])).await;
        self.app.ingest_ok("workflows", &json!([team])).await;
    }

    async fn export_ids(&self, body: Value) -> Vec<String> {
        let job = self.ok(Method::POST, "/v1/exports", Some(body), 202).await;
        let id = job["id"].as_str().unwrap().to_string();
        let job = wait_export(&self.app, &self.key, &id).await;
        assert_eq!(job["state"], "COMPLETED", "export {id} ended: {job}");
        let r = self
            .send(Method::GET, &format!("/v1/exports/{id}/download"), None)
            .await;
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        let mut ids: Vec<String> = body.lines().skip(1).map(str::to_string).collect();
        ids.sort();
        ids
    }
}

fn delivered(reqs: &[crate::http_receiver::Received], path: &str) -> Vec<String> {
    reqs.iter()
        .filter(|r| !r.headers.contains_key("x-outflow-preflight") && r.path == path)
        .flat_map(|r| {
            r.json()["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["run_id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

both_backends!(
    drain_without_teams_leaves_personal_spaces_out,
    |backend| async move {
        let ctx = Ctx::new(backend).await;
        let rx = Receiver::start().await;
        let plain = ctx.http_secret(&format!("{}/plain", rx.url)).await;
        let with_personal = ctx.http_secret(&format!("{}/personal", rx.url)).await;
        let reference = ctx.http_secret(&format!("{}/reference", rx.url)).await;
        let d = ctx.native_drain(&plain, json!({})).await;
        assert_eq!(
            d["scope"]["teams"],
            json!({"org_teams": true, "personal": false, "ids": []}),
            "the resolved scope is stored explicitly"
        );
        ctx.native_drain(
            &with_personal,
            json!({"workspace_ids": ["team-eng"], "include_personal_workspaces": true}),
        )
        .await;
        ctx.ok(
            Method::POST,
            "/data-drains",
            Some(
                json!({"organization_id": "acme", "name": "ref", "drain_type": "custom_endpoint",
                "data_type": "workflows", "destination_config": {"format": "json"},
                "export_fields": ["run_id"], "secret_id": reference,
                "project_ids": [], "include_personal_workspaces": false}),
            ),
            201,
        )
        .await;
        ctx.ingest_personal_then_team("a").await;
        let reqs = rx
            .wait_for(WAIT, |r| {
                ["/plain", "/reference"]
                    .iter()
                    .all(|p| delivered(r, p).contains(&"a-team".to_string()))
                    && delivered(r, "/personal").len() >= 2
            })
            .await;
        assert_eq!(delivered(&reqs, "/plain"), ["a-team"]);
        assert_eq!(delivered(&reqs, "/reference"), ["a-team"]);
        assert_eq!(delivered(&reqs, "/personal"), ["a-personal", "a-team"]);
    }
);

both_backends!(
    export_without_teams_leaves_personal_spaces_out,
    |backend| async move {
        let ctx = Ctx::new(backend).await;
        let mut personal = run_record("acme", "x-personal");
        personal["workspace_id"] = json!("personal-u1");
        let team = run_record("acme", "x-team");
        ctx.app
            .ingest_ok("workflows", &json!([personal, team]))
            .await;
        let body = |extra: Value| {
            let mut b = json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-03-31",
                "timezone": "UTC", "fields": ["run_id"], "entity_ids": ["wb-1"]});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        // Entity ids alone name no team: every organization team, no personal space.
        assert_eq!(ctx.export_ids(body(json!({}))).await, ["x-team"]);
        assert_eq!(
            ctx.export_ids(body(json!({"include_personal_workspaces": true})))
                .await,
            ["x-personal", "x-team"]
        );
        assert_eq!(
            ctx.export_ids(body(json!({"include_all_workspaces": true})))
                .await,
            ["x-personal", "x-team"]
        );
    }
);

both_backends!(
    migrated_old_drain_keeps_personal_spaces,
    |backend| async move {
        let ctx = Ctx::new(backend).await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&format!("{}/old", rx.url)).await;
        let d = ctx.native_drain(&secret, json!({})).await;
        let id = d["id"].as_str().unwrap().to_string();
        ctx.ok(Method::POST, &format!("/v1/drains/{id}/pause"), None, 200)
            .await;
        // Wait until no worker holds it, so no cycle runs on the settings about to change.
        let deadline = Instant::now() + WAIT;
        while !ctx
            .ok(Method::GET, &format!("/v1/drains/{id}"), None, 200)
            .await["node"]
            .is_null()
        {
            assert!(Instant::now() < deadline, "paused drain still held");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        // What the old default stored: every team, personal spaces included.
        let old = json!({"fields": ["run_id"], "teams": {"all": true, "personal": true, "ids": []},
            "entity_ids": [], "category": null, "permission_group": null, "event_types": [],
            "hide_child_runs": false});
        ctx.app
            .store
            .execute(
                "UPDATE drains SET scope = ? WHERE id = ?",
                &[Cell::Json(old), id.as_str().into()],
            )
            .await
            .unwrap();
        let migration = match backend {
            Backend::Sqlite => include_str!("../../migrations/sqlite/0006_explicit_team_scope.sql"),
            Backend::Postgres => {
                include_str!("../../migrations/postgres/0006_explicit_team_scope.sql")
            }
        };
        for statement in migration.split(';').map(str::trim) {
            let sql: String = statement
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            if !sql.trim().is_empty() {
                ctx.app.store.execute(&sql, &[]).await.unwrap();
            }
        }
        let d = ctx
            .ok(Method::GET, &format!("/v1/drains/{id}"), None, 200)
            .await;
        assert_eq!(
            d["scope"]["teams"],
            json!({"org_teams": true, "personal": true, "ids": []})
        );
        ctx.ok(Method::POST, &format!("/v1/drains/{id}/resume"), None, 200)
            .await;
        ctx.ingest_personal_then_team("m").await;
        let reqs = rx
            .wait_for(WAIT, |r| delivered(r, "/old").contains(&"m-team".into()))
            .await;
        assert_eq!(delivered(&reqs, "/old"), ["m-personal", "m-team"]);
    }
);

both_backends!(
    organization_wide_types_take_no_team_scope,
    |backend| async move {
        let ctx = Ctx::new(backend).await;
        let reference = |dt: &str, extra: Value| {
            let mut b = json!({"user_id": "u1", "data_type": dt, "export_fields": ["event_id"],
                "start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-31T23:59:59Z"});
            if dt == "gumstack" {
                b["export_fields"] = json!(["tool_call_id"]);
            }
            if dt == "credit_logs" {
                b["export_fields"] = json!(["log_id"]);
            }
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        for dt in ["audit_logs", "gumstack", "credit_logs"] {
            let r = ctx
                .ok(
                    Method::POST,
                    "/export_data",
                    Some(reference(dt, json!({}))),
                    200,
                )
                .await;
            assert_eq!(r["state"], "REQUESTED", "{dt}");
            // Asking for everything is what these types give anyway.
            ctx.ok(
                Method::POST,
                "/export_data",
                Some(reference(dt, json!({"include_all_workspaces": true}))),
                200,
            )
            .await;
            for narrowing in [
                json!({"workspace_ids": ["team-eng"]}),
                json!({"entity_ids": ["wb-1"]}),
            ] {
                let msg = ctx
                    .refused(Method::POST, "/export_data", reference(dt, narrowing), 400)
                    .await;
                assert!(msg.contains("organization-wide"), "{dt}: {msg}");
            }
        }
        let msg = ctx
            .refused(
                Method::POST,
                "/v1/exports",
                json!({"data_type": "audit_logs", "preset": "last_7_days", "field_preset": "minimal",
                    "workspace_ids": ["team-eng"]}),
                400,
            )
            .await;
        assert!(msg.contains("organization-wide"), "{msg}");
        assert!(msg.contains("workspace_ids"), "{msg}");
    }
);

both_backends!(
    filters_refuse_unknown_values_and_misplacement,
    |backend| async move {
        let ctx = Ctx::new(backend).await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let audit = |filter: Value| {
            json!({"data_type": "audit_logs", "preset": "last_7_days", "field_preset": "minimal",
                "event_type_filter": filter})
        };
        // Unknown event type: every surface names the allowed values.
        let msg = ctx
            .refused(Method::POST, "/v1/exports", audit(json!(["logn"])), 400)
            .await;
        assert!(
            msg.contains("logn") && msg.contains("user_sign_in"),
            "{msg}"
        );
        let msg = ctx
            .refused(
                Method::POST,
                "/export_data",
                json!({"user_id": "u1", "data_type": "audit_logs", "export_fields": ["event_id"],
                    "start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-31T23:59:59Z",
                    "event_type_filter": ["logn"]}),
                400,
            )
            .await;
        assert!(msg.contains("user_sign_in"), "{msg}");
        let msg = ctx
            .refused(
                Method::POST,
                "/data-drains",
                json!({"organization_id": "acme", "name": "ev", "drain_type": "custom_endpoint",
                    "data_type": "audit_logs", "destination_config": {"format": "json"},
                    "export_fields": ["event_id"], "secret_id": secret, "event_type_filter": "logn"}),
                400,
            )
            .await;
        assert!(msg.contains("user_sign_in"), "{msg}");
        // Known: the reference's names, Outflow's own, and any type stored for the org.
        ctx.app
            .ingest_ok(
                "audit_logs",
                &json!([{"org_id": "acme", "event_id": "e-1", "timestamp": "2026-03-06T10:00:00Z",
                    "event_type": "team_renamed_custom", "user_id": "u1"}]),
            )
            .await;
        ctx.ok(
            Method::POST,
            "/v1/exports",
            Some(audit(json!([
                "user_sign_in",
                "drain_created",
                "team_renamed_custom"
            ]))),
            202,
        )
        .await;

        // Custom roles must exist (by id or by name).
        let credit = |role: &str| {
            json!({"data_type": "credit_logs", "preset": "last_7_days", "field_preset": "minimal",
                "permission_group_filter": role})
        };
        let msg = ctx
            .refused(Method::POST, "/v1/exports", credit("role-nope"), 404)
            .await;
        assert!(
            msg.contains("role-nope") && msg.contains("role_fin"),
            "{msg}"
        );
        for role in ["role_fin", "Finance"] {
            ctx.ok(Method::POST, "/v1/exports", Some(credit(role)), 202)
                .await;
        }

        // Misplaced filters are refused, naming the types they apply to.
        let msg = ctx
            .refused(
                Method::POST,
                "/v1/drains",
                json!({"name": "runs", "data_type": "workflows", "fields": ["run_id"],
                    "destination": {"type": "http", "format": "json"}, "secret_id": secret,
                    "category_filter": "agent_run"}),
                400,
            )
            .await;
        assert!(
            msg.contains("category_filter") && msg.contains("credit_logs"),
            "{msg}"
        );
        let msg = ctx
            .refused(
                Method::POST,
                "/v1/exports",
                json!({"data_type": "workflows", "preset": "last_7_days", "field_preset": "minimal",
                    "include_all_workspaces": true, "event_type_filter": ["user_sign_in"]}),
                400,
            )
            .await;
        assert!(
            msg.contains("event_type_filter") && msg.contains("audit_logs"),
            "{msg}"
        );
        let msg = ctx
            .refused(
                Method::POST,
                "/v1/drains",
                json!({"name": "c", "data_type": "credit_logs", "fields": ["log_id"],
                    "destination": {"type": "http", "format": "json"}, "secret_id": secret,
                    "hide_child_runs": true}),
                400,
            )
            .await;
        assert!(
            msg.contains("hide_child_runs") && msg.contains("workflows"),
            "{msg}"
        );
    }
);

both_backends!(
    a_custom_role_known_only_from_records_matches_exactly_on_both_backends,
    |backend| async move {
        let ctx = Ctx::new(backend).await;
        // The platform never upserted this role: it is known only from credit records.
        let at = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
        ctx.app
            .ingest_ok(
                "credit_logs",
                &json!([
                    {"org_id": "acme", "log_id": "c-night", "timestamp": at, "category": "pipeline_run",
                     "amount": -1.0, "permission_group_id": "role_night; role_x",
                     "permission_group_name": "Night Ops; X"},
                    {"org_id": "acme", "log_id": "c-day", "timestamp": at, "category": "pipeline_run",
                     "amount": -2.0, "permission_group_id": "role_day",
                     "permission_group_name": "Day Ops"}
                ]),
            )
            .await;
        let credit = |role: &str| {
            json!({"data_type": "credit_logs", "preset": "last_7_days", "field_preset": "minimal",
                "permission_group_filter": role})
        };
        // The exact spelling is found on both backends …
        for role in ["role_night", "Night Ops"] {
            ctx.ok(Method::POST, "/v1/exports", Some(credit(role)), 202)
                .await;
        }
        // … and another case is not, on either (SQLite's LIKE once ignored case, PostgreSQL's
        // did not: one backend accepted what the other refused).
        for role in ["night ops", "ROLE_NIGHT", "Ops"] {
            let msg = ctx
                .refused(Method::POST, "/v1/exports", credit(role), 404)
                .await;
            assert!(msg.contains(role), "{msg}");
        }
    }
);

both_backends!(unknown_keys_are_refused_naming_them, |backend| async move {
    let ctx = Ctx::new(backend).await;
    let msg = ctx
        .refused(
            Method::POST,
            "/export_data",
            json!({"user_id": "u1", "data_type": "workflows", "export_fields": ["run_id"],
                "start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-31T23:59:59Z",
                "include_all_workspaces": true, "workspace_id": "team-eng"}),
            400,
        )
        .await;
    assert!(msg.contains("workspace_id"), "{msg}");
    let msg = ctx
        .refused(
            Method::POST,
            "/data-drains",
            json!({"organization_id": "acme", "name": "x", "drain_type": "custom_endpoint",
                "data_type": "workflows", "export_fields": ["run_id"], "secret_id": "sec",
                "project_id": "team-eng"}),
            400,
        )
        .await;
    assert!(msg.contains("project_id"), "{msg}");
});

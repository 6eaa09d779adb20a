//! Scheduled exports (issue 15) on both backends: the API (validation naming the allowed
//! values, 404 across organizations, audit records), `/run` idempotence, exactly-once runs
//! under two nodes, catch-up after downtime, and three failed runs putting a schedule in
//! `error`. The runner is driven with `run_due(now)` at chosen instants (the app's own
//! runner is off), so nothing sleeps.

use crate::both_backends;
use crate::helpers::*;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The app with its own schedule runner and export workers off: tests call `run_due` with
/// their clock and run the queued exports with `run_next`.
async fn app(backend: Backend, max_catch_up: u32) -> TestApp {
    spawn_app_with(backend, |c| {
        c.schedules.run = false;
        c.exports.workers = 0;
        c.schedules.max_catch_up = max_catch_up;
    })
    .await
}

/// `acme` (Europe/Berlin) with an admin, and a usage_export key.
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

fn body(every: Value) -> Value {
    json!({
        "name": "Monthly credits",
        "export": {"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]},
        "cadence": every,
    })
}

async fn audit_events(app: &TestApp, org: &str) -> Vec<String> {
    app.store
        .query(
            "SELECT event_type FROM audit_logs WHERE org_id = ? ORDER BY timestamp",
            &[org.into()],
            &[outflow::domain::FieldType::Text],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].as_text().unwrap().to_string())
        .collect()
}

both_backends!(
    api_validates_creates_changes_and_deletes,
    |backend| async move {
        let app = app(backend, 31).await;
        let key = acme(&app).await;
        use reqwest::Method;

        // Bad input names the parameter and the allowed values.
        for (cadence, needle) in [
            (
                json!({"every": "fortnight", "at": "06:00"}),
                "allowed: day, week, month, billing_period",
            ),
            (
                json!({"every": "month", "at": "25:00"}),
                "cadence.at: `25:00` is not a time; use HH:MM",
            ),
            (
                json!({"every": "month", "at": "06:00", "day_of_month": 31}),
                "allowed: 1–28 or \"last\"",
            ),
            (
                json!({"every": "week", "at": "06:00", "weekday": "funday"}),
                "allowed: monday, tuesday",
            ),
            (
                json!({"every": "day", "at": "06:00", "timezone": "Mars/Olympus"}),
                "IANA name",
            ),
            (
                json!({"every": "day", "at": "06:00", "weekday": "monday"}),
                "applies only to every = week",
            ),
        ] {
            let r = call(
                &app,
                Method::POST,
                "/v1/export-schedules",
                &key,
                Some(body(cadence)),
            )
            .await;
            let m = error_message(r, 400).await;
            assert!(m.contains(needle), "{m}");
        }
        let mut b = body(json!({"every": "day", "at": "06:00"}));
        b["export"]["start"] = json!("2026-01-01");
        let m = error_message(
            call(&app, Method::POST, "/v1/export-schedules", &key, Some(b)).await,
            400,
        )
        .await;
        assert!(m.contains("start"), "{m}");
        let mut b = body(json!({"every": "day", "at": "06:00"}));
        b["export"]["data_type"] = json!("nonsense");
        let m = error_message(
            call(&app, Method::POST, "/v1/export-schedules", &key, Some(b)).await,
            400,
        )
        .await;
        assert!(m.starts_with("export.data_type"), "{m}");
        let mut b = body(json!({"every": "day", "at": "06:00"}));
        b["deliver"] = json!({"email": ["nobody"]});
        let m = error_message(
            call(&app, Method::POST, "/v1/export-schedules", &key, Some(b)).await,
            404,
        )
        .await;
        assert!(
            m.contains("deliver.email: member `nobody` not found"),
            "{m}"
        );

        // Created: the next run with the zone's offset, the cadence in words.
        let r = call(
            &app,
            Method::POST,
            "/v1/export-schedules",
            &key,
            Some(body(
                json!({"every": "month", "at": "06:00", "day_of_month": 1}),
            )),
        )
        .await;
        assert_eq!(r.status(), 201);
        let s: Value = r.json().await.unwrap();
        let id = s["id"].as_str().unwrap().to_string();
        assert_eq!(
            s["cadence_text"],
            "Monthly on the 1st at 06:00, Europe/Berlin"
        );
        assert_eq!(s["state"], "active");
        let next = s["next_run_at"].as_str().unwrap();
        assert!(
            next.ends_with("T06:00:00+01:00") || next.ends_with("T06:00:00+02:00"),
            "{next}"
        );
        assert!(next.contains("-01T"), "{next}");
        assert_eq!(s["deliver"]["email"], "admins");

        let list: Value = app
            .get("/v1/export-schedules", &key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1);

        let r = call(&app, Method::PATCH, &format!("/v1/export-schedules/{id}"), &key,
        Some(json!({"name": "Weekly", "cadence": {"every": "week", "at": "07:30", "weekday": "tuesday"}}))).await;
        assert_eq!(r.status(), 200);
        let s: Value = r.json().await.unwrap();
        assert_eq!(s["name"], "Weekly");
        assert_eq!(
            s["cadence_text"],
            "Weekly on Tuesday at 07:30, Europe/Berlin"
        );
        assert_eq!(
            s["export"]["data_type"], "workflows",
            "the export part was kept"
        );

        let s: Value = call(
            &app,
            Method::POST,
            &format!("/v1/export-schedules/{id}/pause"),
            &key,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(s["state"], "paused");
        assert!(s["next_run_at"].is_null());
        let s: Value = call(
            &app,
            Method::POST,
            &format!("/v1/export-schedules/{id}/resume"),
            &key,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(s["state"], "active");
        assert!(s["next_run_at"].as_str().is_some());

        // Another organization's key sees none of it.
        app.put_org("globex").await;
        let other = app.org_key("globex", "usage_export").await.1;
        for (method, path) in [
            (Method::GET, format!("/v1/export-schedules/{id}")),
            (Method::PATCH, format!("/v1/export-schedules/{id}")),
            (Method::DELETE, format!("/v1/export-schedules/{id}")),
            (Method::POST, format!("/v1/export-schedules/{id}/pause")),
            (Method::POST, format!("/v1/export-schedules/{id}/resume")),
            (Method::POST, format!("/v1/export-schedules/{id}/run")),
            (Method::GET, format!("/v1/export-schedules/{id}/runs")),
        ] {
            let body = (method == Method::PATCH).then(|| json!({"name": "x"}));
            let r = call(&app, method.clone(), &path, &other, body).await;
            assert_eq!(r.status(), 404, "{method} {path}");
        }
        let list: Value = app
            .get("/v1/export-schedules", &other)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"], json!([]));

        let r = call(
            &app,
            Method::DELETE,
            &format!("/v1/export-schedules/{id}"),
            &key,
            None,
        )
        .await;
        assert_eq!(r.status(), 204);
        assert_eq!(
            app.get(&format!("/v1/export-schedules/{id}"), &key)
                .await
                .status(),
            404
        );

        let events = audit_events(&app, "acme").await;
        for e in ["schedule_created", "schedule_updated", "schedule_deleted"] {
            assert!(events.iter().any(|x| x == e), "{e} missing from {events:?}");
        }

        // The month's last day, and a billing period on the organization's anchor.
        for (cadence, words) in [
            (
                json!({"every": "month", "at": "23:30", "day_of_month": "LAST", "timezone": "America/New_York"}),
                "Monthly on the last day at 23:30, America/New_York",
            ),
            (
                json!({"every": "billing_period", "at": "06:00"}),
                "Every billing period at 06:00, Europe/Berlin",
            ),
        ] {
            let r = call(
                &app,
                Method::POST,
                "/v1/export-schedules",
                &key,
                Some(body(cadence)),
            )
            .await;
            assert_eq!(r.status(), 201);
            let s: Value = r.json().await.unwrap();
            assert_eq!(s["cadence_text"], words);
        }
        let bad = body(json!({"every": "month", "at": "06:00", "day_of_month": "first"}));
        let r = call(&app, Method::POST, "/v1/export-schedules", &key, Some(bad)).await;
        let m = error_message(r, 400).await;
        assert!(
            m.contains("cadence.day_of_month: `first` is not allowed"),
            "{m}"
        );
    }
);

both_backends!(
    run_now_runs_the_latest_complete_period_once,
    |backend| async move {
        let app = app(backend, 31).await;
        let key = acme(&app).await;
        use reqwest::Method;
        let s: Value = call(
            &app,
            Method::POST,
            "/v1/export-schedules",
            &key,
            Some(body(
                json!({"every": "day", "at": "06:00", "timezone": "America/New_York"}),
            )),
        )
        .await
        .json()
        .await
        .unwrap();
        let id = s["id"].as_str().unwrap();
        let r = call(
            &app,
            Method::POST,
            &format!("/v1/export-schedules/{id}/run"),
            &key,
            None,
        )
        .await;
        assert_eq!(r.status(), 202);
        let first: Value = r.json().await.unwrap();
        // The previous New York day, with its offset.
        let start = first["period_start"].as_str().unwrap();
        assert!(
            start.ends_with("T00:00:00-05:00") || start.ends_with("T00:00:00-04:00"),
            "{start}"
        );
        let r = call(
            &app,
            Method::POST,
            &format!("/v1/export-schedules/{id}/run"),
            &key,
            None,
        )
        .await;
        assert_eq!(r.status(), 200);
        let again: Value = r.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["export_id"], first["export_id"]);
        let runs: Value = app
            .get(&format!("/v1/export-schedules/{id}/runs"), &key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(runs["items"].as_array().unwrap().len(), 1);
        assert_eq!(runs["items"][0]["trigger"], "manual");
    }
);

/// Creates a daily 06:00 Berlin schedule "now" = 2026-03-27 11:00 local (Berlin springs
/// forward on the 29th); its first run is the 28th, covering the 27th.
async fn daily_schedule(app: &TestApp, deliver: Value) -> String {
    let body: outflow::schedule::ScheduleBody = serde_json::from_value(json!({
        "name": "Daily runs",
        "export": {"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]},
        "cadence": {"every": "day", "at": "06:00"},
        "deliver": deliver,
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
    assert_eq!(s.next_run_at, Some(utc("2026-03-28T05:00:00Z")));
    s.id
}

async fn runs(app: &TestApp, key: &str, id: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/v1/export-schedules/{id}/runs"), key)
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["items"].as_array().unwrap().clone()
}

/// Runs every queued export to its end (this test's process is the only worker).
async fn run_exports(app: &TestApp) {
    while app.exports.run_next().await.unwrap().is_some() {}
}

both_backends!(
    catch_up_after_three_missed_periods_runs_each_once_oldest_first,
    |backend| async move {
        // Room for three catch-up periods: a fourth missed one is skipped with its reason.
        let app = app(backend, 3).await;
        let key = acme(&app).await;
        app.ingest_ok("workflows", &json!([run_record("acme", "r1")]))
            .await;
        let id = daily_schedule(&app, json!({"email": "admins"})).await;

        // Down from before the first run until 06:30 on the 31st: the 27th, 28th, 29th and 30th
        // are due; the oldest is skipped, the rest queued oldest first.
        let done = app
            .schedules
            .run_due(utc("2026-03-31T04:30:00Z"))
            .await
            .unwrap();
        assert_eq!((done.queued, done.skipped), (3, 1), "{done:?}");
        // A second pass (or a restart) at the same or a later instant adds nothing.
        let again = app
            .schedules
            .run_due(utc("2026-03-31T04:45:00Z"))
            .await
            .unwrap();
        assert_eq!((again.queued, again.skipped), (0, 0));

        let list = runs(&app, &key, &id).await;
        let periods: Vec<(&str, &str)> = list
            .iter()
            .map(|r| {
                (
                    r["period_start"].as_str().unwrap(),
                    r["period_end"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            periods,
            vec![
                ("2026-03-30T00:00:00+02:00", "2026-03-31T00:00:00+02:00"),
                // The 23-hour DST day, exactly.
                ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
                ("2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00"),
                ("2026-03-27T00:00:00+01:00", "2026-03-28T00:00:00+01:00"),
            ]
        );
        assert_eq!(list[3]["state"], "SKIPPED");
        assert!(
            list[3]["error"].as_str().unwrap().contains("max_catch_up"),
            "{}",
            list[3]
        );
        assert!(list[3]["export_id"].is_null());
        // Queued oldest first: export ids are time-ordered.
        let ids: Vec<&str> = list[..3]
            .iter()
            .map(|r| r["export_id"].as_str().unwrap())
            .collect();
        assert!(ids[2] < ids[1] && ids[1] < ids[0], "{ids:?}");

        run_exports(&app).await;
        let done = app
            .schedules
            .run_due(utc("2026-03-31T05:00:00Z"))
            .await
            .unwrap();
        assert_eq!(done.delivered, 3, "{done:?}");
        let list = runs(&app, &key, &id).await;
        let rows: Vec<i64> = list[..3]
            .iter()
            .map(|r| r["rows"].as_i64().unwrap())
            .collect();
        // The one record (01:30 on the 29th) is in the DST day's export only.
        assert_eq!(rows, vec![0, 1, 0]);
        for r in &list[..3] {
            assert_eq!(r["state"], "COMPLETED");
            assert_eq!(r["delivered"], json!(["email"]));
            assert!(r["download_url"].as_str().is_some());
        }
        // The completion email names the schedule and the period.
        // (Short body lines: the outbox keeps the transfer encoding, which may wrap long ones.)
        let mail = email_naming(&app, "Period:   2026-03-29 (Europe/Berlin)").await;
        assert!(mail.contains("Daily runs"), "{mail}");
        assert!(mail.contains("admin@acme.example"), "{mail}");
        assert!(mail.contains("/v1/downloads/"), "{mail}");

        // The next day runs as usual, once.
        let done = app
            .schedules
            .run_due(utc("2026-04-01T04:00:00Z"))
            .await
            .unwrap();
        assert_eq!((done.queued, done.skipped), (1, 0));
        assert_eq!(runs(&app, &key, &id).await.len(), 5);
    }
);

/// The outbox email containing `needle`, waited for with a deadline.
async fn email_naming(app: &TestApp, needle: &str) -> String {
    let outbox = app._db.dir.path().join("outbox");
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let found = std::fs::read_dir(&outbox).ok().and_then(|dir| {
            dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .find(|m| m.contains(needle))
        });
        if let Some(m) = found {
            return m;
        }
        assert!(Instant::now() < until, "no email naming {needle}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

both_backends!(
    two_nodes_run_each_period_exactly_once,
    |backend| async move {
        let app = app(backend, 31).await;
        acme(&app).await;
        let id = daily_schedule(&app, json!({"email": null})).await;
        // A second node: its own connections, export service and runner on the same database.
        let config = outflow::config::Config {
            data_dir: app._db.dir.path().to_path_buf(),
            database_url: Some(outflow::config::Secret(app._db.url.clone())),
            ingest_key: Some(outflow::config::Secret(INGEST_KEY.into())),
            ..outflow::config::Config::default()
        };
        let store2 = outflow::store::Store::connect(&app._db.url, 4)
            .await
            .unwrap();
        let exports2 = outflow::app::build_exports(&config, store2.clone(), &app.url).unwrap();
        let drains2 = outflow::app::build_drains(&config, store2, &exports2).unwrap();
        let node2 = outflow::app::build_schedules(&config, &exports2, &drains2);

        // Both nodes see the same downtime at the same time, several times over.
        let mut queued = 0;
        for now in [
            "2026-03-31T04:30:00Z",
            "2026-03-31T04:30:00Z",
            "2026-04-01T05:00:01Z",
        ] {
            let (a, b) = tokio::join!(app.schedules.run_due(utc(now)), node2.run_due(utc(now)));
            queued += a.unwrap().queued + b.unwrap().queued;
        }
        // The 27th … the 31st: five periods, each queued by exactly one node.
        assert_eq!(queued, 5);
        let jobs = app
            .store
            .query(
                "SELECT range_start FROM export_jobs WHERE requested_by = ? ORDER BY range_start",
                &[format!("schedule:{id}").into()],
                &[outflow::domain::FieldType::Timestamp],
            )
            .await
            .unwrap();
        assert_eq!(jobs.len(), 5, "one export job per period");
        let starts: std::collections::BTreeSet<String> =
            jobs.iter().map(|r| format!("{:?}", r[0])).collect();
        assert_eq!(starts.len(), 5, "no period twice");
    }
);

both_backends!(
    three_failed_runs_in_a_row_put_the_schedule_in_error,
    |backend| async move {
        let app = app(backend, 31).await;
        let key = acme(&app).await;
        let id = daily_schedule(&app, json!({"email": "admins"})).await;
        // Each run's export is cancelled before a worker takes it: the run fails.
        let done = app
            .schedules
            .run_due(utc("2026-03-30T04:30:00Z"))
            .await
            .unwrap();
        assert_eq!(done.queued, 3);
        for run in runs(&app, &key, &id).await {
            let export = run["export_id"].as_str().unwrap();
            app.exports.cancel("acme", export).await.unwrap();
            let job = wait_export(&app, &key, export).await;
            assert_eq!(job["state"], "CANCELLED", "{job}");
        }
        let done = app
            .schedules
            .run_due(utc("2026-03-30T05:00:00Z"))
            .await
            .unwrap();
        assert_eq!(done.failed, 3, "{done:?}");
        let s: Value = app
            .get(&format!("/v1/export-schedules/{id}"), &key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(s["state"], "error", "{s}");
        assert!(
            s["state_reason"]
                .as_str()
                .unwrap()
                .contains("3 runs failed in a row"),
            "{s}"
        );
        for r in runs(&app, &key, &id).await {
            assert_eq!(r["state"], "FAILED");
        }
        let mail = email_naming(&app, "Reason:   3 runs failed in a row").await;
        assert!(
            mail.contains("Daily runs") && mail.contains("admin@acme.example"),
            "{mail}"
        );
        let events = audit_events(&app, "acme").await;
        assert_eq!(
            events
                .iter()
                .filter(|e| *e == "schedule_run_failed")
                .count(),
            3,
            "{events:?}"
        );
        // In error nothing runs.
        let done = app
            .schedules
            .run_due(utc("2026-04-02T05:00:00Z"))
            .await
            .unwrap();
        assert_eq!(done.queued, 0);
    }
);

// ----- delivery: real SMTP, the suite's S3 server, a real HTTP receiver ----------------------

const SIGNING: &str = "whsec_c2NoZWR1bGUtc2lnbmluZy1zZWNyZXQ=";

/// The app with private destinations allowed (the test servers listen on 127.0.0.1).
async fn delivery_app(
    backend: Backend,
    smtp: Option<outflow::mail::config::SmtpConfig>,
) -> TestApp {
    spawn_app_with(backend, |c| {
        c.schedules.run = false;
        c.exports.workers = 0;
        c.drains.allow_private_destinations = true;
        if let Some(smtp) = smtp {
            c.smtp = smtp;
        }
    })
    .await
}

async fn secret(app: &TestApp, body: Value) -> String {
    let key = app.org_key("acme", "drains").await.1;
    let r = call(app, reqwest::Method::POST, "/v1/secrets", &key, Some(body)).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

async fn create(app: &TestApp, name: &str, export: Value, deliver: Value) -> String {
    let body: outflow::schedule::ScheduleBody = serde_json::from_value(json!({
        "name": name,
        "export": export,
        "cadence": {"every": "day", "at": "06:00"},
        "deliver": deliver,
    }))
    .unwrap();
    app.schedules
        .create(
            "acme",
            body,
            &outflow::audit::Actor::cli(),
            utc("2026-03-27T10:00:00Z"),
        )
        .await
        .unwrap()
        .id
}

both_backends!(
    s3_uploads_each_period_with_its_sha256,
    |backend| async move {
        use object_store::{Attribute, ObjectStoreExt as _};
        let app = delivery_app(backend, None).await;
        let key = acme(&app).await;
        app.ingest_ok("workflows", &json!([run_record("acme", "r1")]))
            .await;
        let s3 = crate::s3::start_s3().await;
        let aws = secret(
            &app,
            json!({"name": "aws", "kind": "aws",
        "access_key_id": crate::s3::ACCESS_KEY, "secret_access_key": crate::s3::SECRET_KEY}),
        )
        .await;
        let id = create(&app, "To the bucket", json!({"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"], "gzip": true}),
        json!({"email": null, "destination": {"type": "s3", "bucket": crate::s3::BUCKET,
            "prefix": "finance/monthly", "endpoint": s3.endpoint, "secret_id": aws}})).await;
        let done = app
            .schedules
            .run_due(utc("2026-03-30T04:30:00Z"))
            .await
            .unwrap();
        assert_eq!(done.queued, 3);
        run_exports(&app).await;
        let done = app
            .schedules
            .run_due(utc("2026-03-30T05:00:00Z"))
            .await
            .unwrap();
        assert_eq!(done.delivered, 3, "{done:?}");

        let object = format!("finance/monthly/{id}/2026-03-29_2026-03-29.csv.gz");
        let list = runs(&app, &key, &id).await;
        assert_eq!(list[0]["delivered"], json!([format!("s3:{object}")]));
        // Read back through an S3 client: the bytes are the export's file, the metadata its hash.
        let store = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(crate::s3::BUCKET)
            .with_region("us-east-1")
            .with_endpoint(&s3.endpoint)
            .with_allow_http(true)
            .with_access_key_id(crate::s3::ACCESS_KEY)
            .with_secret_access_key(crate::s3::SECRET_KEY)
            .build()
            .unwrap();
        let got = store
            .get(&object_store::path::Path::from(object.as_str()))
            .await
            .unwrap();
        let sha = got
            .attributes
            .get(&Attribute::Metadata("sha256".into()))
            .map(|v| v.as_ref().to_string())
            .unwrap();
        let bytes = got.bytes().await.unwrap();
        assert_eq!(
            sha,
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
        );
        let mut csv = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut csv)
            .unwrap();
        assert!(csv.contains("r1"), "{csv}");
        let downloaded = app
            .client
            .get(list[0]["download_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            downloaded.bytes().await.unwrap(),
            bytes,
            "the object is the export's file"
        );
        // The other periods have their own objects.
        for day in ["2026-03-27_2026-03-27", "2026-03-28_2026-03-28"] {
            let path = s3
                .root
                .path()
                .join(crate::s3::BUCKET)
                .join(format!("finance/monthly/{id}/{day}.csv.gz"));
            assert!(path.exists(), "{}", path.display());
        }
    }
);

both_backends!(
    http_event_is_signed_and_keeps_its_webhook_id_on_retry,
    |backend| async move {
        use crate::http_receiver::{Receiver, Reply, verify_webhook};
        let app = delivery_app(backend, None).await;
        let key = acme(&app).await;
        app.ingest_ok("workflows", &json!([run_record("acme", "r1")]))
            .await;
        let rx = Receiver::start().await;
        let http = secret(
            &app,
            json!({"name": "hook", "kind": "http", "url": rx.url,
        "signing_secrets": [SIGNING]}),
        )
        .await;
        let id = create(&app, "To the hook", json!({"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]}),
        json!({"email": null, "destination": {"type": "http", "secret_id": http}})).await;
        // Two periods; the first delivery attempt is refused.
        app.schedules
            .run_due(utc("2026-03-29T04:30:00Z"))
            .await
            .unwrap();
        run_exports(&app).await;
        rx.reply_next(vec![Reply::status(503)]);
        let done = app
            .schedules
            .run_due(utc("2026-03-29T05:00:00Z"))
            .await
            .unwrap();
        assert_eq!((done.delivered, done.failed), (1, 1), "{done:?}");
        let first = rx.requests();
        assert_eq!(first.len(), 2);
        let failed = first[0].header("webhook-id").to_string();
        // Not yet due again (the drains' backoff: at least 30 s).
        let done = app
            .schedules
            .run_due(utc("2026-03-29T05:00:10Z"))
            .await
            .unwrap();
        assert_eq!(done.delivered, 0);
        let done = app
            .schedules
            .run_due(utc("2026-03-29T06:00:00Z"))
            .await
            .unwrap();
        assert_eq!(done.delivered, 1, "{done:?}");
        let all = rx.requests();
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[2].header("webhook-id"),
            failed,
            "a retry keeps its webhook-id"
        );
        for r in &all {
            assert!(verify_webhook(SIGNING, r), "signed");
        }
        let ids: std::collections::BTreeSet<&str> =
            all.iter().map(|r| r.header("webhook-id")).collect();
        assert_eq!(ids.len(), 2, "one webhook-id per period");
        let events: Vec<Value> = all[1..].iter().map(|r| r.json()).collect();
        let day28 = events
            .iter()
            .find(|e| e["period"]["first_day"] == "2026-03-28")
            .unwrap();
        assert_eq!(day28["schedule_id"], id.as_str());
        assert_eq!(day28["period"]["start"], "2026-03-28T00:00:00+01:00");
        assert_eq!(day28["rows"], 0);
        assert_eq!(day28["sha256"].as_str().unwrap().len(), 64);
        assert!(
            day28["download_url"]
                .as_str()
                .unwrap()
                .contains("/v1/downloads/")
        );
        let list = runs(&app, &key, &id).await;
        assert!(
            list.iter().all(|r| r["delivered"] == json!(["http"])),
            "{list:?}"
        );
    }
);

both_backends!(
    completion_email_goes_through_real_smtp,
    |backend| async move {
        let Some(smtp) = crate::mail::SmtpServer::start(None) else {
            return;
        };
        let app = delivery_app(backend, Some(smtp.config())).await;
        acme(&app).await;
        create(&app, "Finance daily", json!({"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]}), json!({"email": ["u1"]})).await;
        app.schedules
            .run_due(utc("2026-03-28T05:30:00Z"))
            .await
            .unwrap();
        run_exports(&app).await;
        let done = app
            .schedules
            .run_due(utc("2026-03-28T05:31:00Z"))
            .await
            .unwrap();
        assert_eq!(done.delivered, 1);
        let messages = smtp.wait_for_messages(1).await;
        let m = &messages[0];
        assert_eq!(m["rcpt_tos"], json!(["ada@acme.example"]));
        assert_eq!(
            m["subject"],
            "Scheduled export \"Finance daily\" for Org acme: 2026-03-27 is ready"
        );
        let body = m["body"].as_str().unwrap();
        assert!(
            body.contains("Finance daily") && body.contains("/v1/downloads/"),
            "{body}"
        );
        assert!(body.contains("signature="), "a signed link: {body}");
    }
);

// ----- the admin pages ---------------------------------------------------------------------

const DE: &str = "/settings/organization/data_export";

fn pages_config(c: &mut outflow::config::Config) {
    c.schedules.run = false;
    c.exports.workers = 0;
}

both_backends!(schedules_tab_and_page_show_and_act, |backend| async move {
    use crate::admin_pages::Browser;
    let b = Browser::signed_in_with(backend, pages_config).await;
    put_team(&b.app, "acme", "team-eng", "Engineering").await;
    let key = b.app.org_key("acme", "usage_export").await.1;
    let r = call(&b.app, reqwest::Method::POST, "/v1/export-schedules", &key, Some(json!({
        "name": "Nightly runs",
        "export": {"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]},
        "cadence": {"every": "day", "at": "06:00"},
    }))).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let tab = b.page(&format!("{DE}?tab=schedules")).await;
    assert!(
        tab.contains(">Schedules</a>"),
        "the tab is beside Exports and Drains"
    );
    assert!(tab.contains("Nightly runs"), "{tab}");
    assert!(tab.contains("Daily at 06:00, Europe/Berlin"), "{tab}");
    assert!(tab.contains("Not run yet"));
    assert!(tab.contains(">Active<"));

    // Run now: the latest complete day is queued once; again answers that run.
    let (status, _) = b
        .submit_text(&format!("{DE}/schedules/{id}/run"), &[])
        .await;
    assert_eq!(status, 303);
    let (status, _) = b
        .submit_text(&format!("{DE}/schedules/{id}/run"), &[("back", "detail")])
        .await;
    assert_eq!(status, 303);
    let page = b
        .page(&format!("{DE}/schedules/{id}?notice=schedule_ran"))
        .await;
    assert!(page.contains("That period had already run"), "{page}");
    assert_eq!(
        page.matches("data-role=\"run-state\"").count(),
        1,
        "one run: {page}"
    );
    assert!(page.contains(">REQUESTED<"), "{page}");
    // Once the export ran, the run has its download link.
    while b.app.exports.run_next().await.unwrap().is_some() {}
    let page = b.page(&format!("{DE}/schedules/{id}")).await;
    assert!(
        page.contains(">COMPLETED<") && page.contains("/v1/downloads/"),
        "{page}"
    );
    let tab = b.page(&format!("{DE}?tab=schedules")).await;
    assert!(tab.contains(">COMPLETED<"), "the last run's badge: {tab}");

    let (status, _) = b
        .submit_text(&format!("{DE}/schedules/{id}/pause"), &[])
        .await;
    assert_eq!(status, 303);
    let tab = b.page(&format!("{DE}?tab=schedules")).await;
    assert!(
        tab.contains(">Paused<") && tab.contains("Resume schedule Nightly runs"),
        "{tab}"
    );
    let (status, _) = b
        .submit_text(&format!("{DE}/schedules/{id}/resume"), &[])
        .await;
    assert_eq!(status, 303);
    assert!(
        b.page(&format!("{DE}?tab=schedules"))
            .await
            .contains(">Active<")
    );

    // Another organization's schedule is not found.
    b.app.put_org("globex").await;
    put_team(&b.app, "globex", "team-g", "G").await;
    let gkey = b.app.org_key("globex", "usage_export").await.1;
    let r = call(&b.app, reqwest::Method::POST, "/v1/export-schedules", &gkey, Some(json!({
        "name": "Theirs",
        "export": {"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-g"]},
        "cadence": {"every": "week", "at": "06:00"},
    }))).await;
    let theirs = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        b.get(&format!("{DE}/schedules/{theirs}")).await.status(),
        404
    );
    let (status, _) = b
        .submit_text(&format!("{DE}/schedules/{theirs}/run"), &[])
        .await;
    assert_eq!(status, 404);

    // Delete asks first, then deletes.
    let (status, confirm) = b
        .submit_text(&format!("{DE}/schedules/{id}/delete"), &[])
        .await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Delete schedule?"));
    let (status, _) = b
        .submit_text(
            &format!("{DE}/schedules/{id}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(status, 303);
    assert!(
        !b.page(&format!("{DE}?tab=schedules"))
            .await
            .contains("Nightly runs")
    );
    assert_eq!(b.get(&format!("{DE}/schedules/{id}")).await.status(), 404);
});

/// The Schedules tab in a real browser (`tests/browser/schedules.spec.mjs`): cadence in
/// words, run now until COMPLETED, the run's download link, pause, resume, delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_in_a_real_browser() {
    let Some(chromium) = crate::browser::chromium() else {
        return;
    };
    let app = spawn_app_with(Backend::Sqlite, |c| c.schedules.run = false).await;
    acme_with_team_and_member(&app).await;
    let email = "admin@acme.example";
    let password = outflow::web::auth::add_admin(&app.store, "acme", email)
        .await
        .unwrap();
    let key = app.org_key("acme", "usage_export").await.1;
    let name = "Monthly workflows";
    let r = call(&app, reqwest::Method::POST, "/v1/export-schedules", &key, Some(json!({
        "name": name,
        "export": {"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]},
        "cadence": {"every": "month", "at": "06:00", "day_of_month": 1},
    }))).await;
    assert_eq!(r.status(), 201);
    let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("schedules.spec.mjs")
        .current_dir(crate::browser::browser_dir())
        .env("OUTFLOW_URL", &app.url)
        .env("OUTFLOW_ADMIN_EMAIL", email)
        .env("OUTFLOW_ADMIN_PASSWORD", &password)
        .env("OUTFLOW_SCHEDULE", name)
        .env("OUTFLOW_CHROMIUM", &chromium)
        .env("OUTFLOW_ARTIFACTS", &artifacts)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .expect("the browser script finishes within 3 minutes")
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("PASSED"),
        "{stdout}\n{stderr}"
    );
    // The app's side: the schedule is gone, its audit trail is not.
    let list: Value = app
        .get("/v1/export-schedules", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    let events = audit_events(&app, "acme").await;
    for e in ["schedule_created", "schedule_updated", "schedule_deleted"] {
        assert!(events.iter().any(|x| x == e), "{e}: {events:?}");
    }
}

// ----- real `outflow serve` processes: two nodes on one PostgreSQL, one killed with -9 -----

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

/// `outflow serve` on `db_url`, looking for due schedules every second.
async fn start_node(db_url: &str, data_dir: &std::path::Path) -> Node {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_outflow"))
        .arg("serve")
        .env("OUTFLOW_DATA_DIR", data_dir)
        .env("OUTFLOW_DATABASE_URL", db_url)
        .env("OUTFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("OUTFLOW_INGEST_KEY", INGEST_KEY)
        .env("OUTFLOW_LOG_LEVEL", "warn")
        .env("OUTFLOW_SCHEDULES__POLL_SECONDS", "1")
        .env("OUTFLOW_EXPORTS__POLL_SECONDS", "1")
        // A killed node's export and delivery are taken over within seconds.
        .env("OUTFLOW_EXPORTS__LEASE_SECONDS", "2")
        .env("OUTFLOW_SCHEDULES__LEASE_SECONDS", "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start outflow serve");
    let url = format!("http://127.0.0.1:{port}");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{url}/healthz")).await
            && r.status() == 200
        {
            break;
        }
        assert!(Instant::now() < until, "outflow serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Node { child, url }
}

async fn count(store: &outflow::store::Store, sql: &str, id: &str) -> i64 {
    store
        .query(sql, &[id.into()], &[outflow::domain::FieldType::Integer])
        .await
        .unwrap()[0][0]
        .as_i64()
        .unwrap()
}

/// Three missed days caught up by two `serve` processes while one is killed with -9 as the
/// first run appears and restarted: every period runs once, every export completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_and_a_kill_9_run_each_period_once() {
    use chrono::TimeZone;
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    let mut a = start_node(&db.url, db.dir.path()).await;
    let b = start_node(&db.url, db.dir.path()).await;
    let client = reqwest::Client::new();
    let r = client
        .put(format!("{}/v1/orgs/acme", a.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!({"name": "Acme", "timezone": "Europe/Berlin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .put(format!("{}/v1/orgs/acme/teams/team-eng", a.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!({"name": "Engineering"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, key) = outflow::auth::keys::create_org_key(
        &store,
        "acme",
        "test",
        outflow::store::Scope::parse_list("usage_export").unwrap(),
        &outflow::audit::Actor::cli(),
    )
    .await
    .unwrap();
    // Its cursor moved back: as if Outflow had been down for three days.
    let created: Value = client
        .post(format!("{}/v1/export-schedules", a.url))
        .bearer_auth(&key)
        .json(&json!({
            "name": "Daily",
            "export": {"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]},
            "cadence": {"every": "day", "at": "00:00"},
            "deliver": {"email": null},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let berlin = chrono_tz::Europe::Berlin;
    let today = Utc::now().with_timezone(&berlin).date_naive();
    let midnight = |days: i64| {
        berlin
            .from_local_datetime(
                &(today - chrono::Days::new(days as u64))
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
            )
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    };
    store
        .execute(
            "UPDATE export_schedules SET covered_until = ?, next_run_at = ? WHERE id = ?",
            &[
                outflow::store::Value::Timestamp(midnight(3)),
                outflow::store::Value::Timestamp(midnight(2)),
                id.as_str().into(),
            ],
        )
        .await
        .unwrap();

    // Kill node a with -9 as soon as the first run exists, then start it again.
    let runs_sql = "SELECT COUNT(*) FROM export_schedule_runs WHERE schedule_id = ?";
    let until = Instant::now() + Duration::from_secs(30);
    while count(&store, runs_sql, &id).await == 0 {
        assert!(Instant::now() < until, "no run queued");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    drop(a);
    let a = start_node(&db.url, db.dir.path()).await;

    // Every period ends COMPLETED and delivered, on whichever node.
    let done_sql = "SELECT COUNT(*) FROM export_schedule_runs r JOIN export_jobs j \
                    ON j.id = r.export_id WHERE r.schedule_id = ? AND j.state = 'COMPLETED' \
                    AND r.delivery = 'done'";
    let until = Instant::now() + Duration::from_secs(60);
    while count(&store, done_sql, &id).await < 3 {
        assert!(Instant::now() < until, "the three periods did not complete");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&store, runs_sql, &id).await, 3, "one run per period");
    let jobs_sql = "SELECT COUNT(*) FROM export_jobs WHERE requested_by = 'schedule:' || ?";
    assert_eq!(
        count(&store, jobs_sql, &id).await,
        3,
        "one export per period"
    );
    let runs: Value = client
        .get(format!("{}/v1/export-schedules/{id}/runs", b.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let starts: Vec<String> = runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["period_start"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=3)
        .map(|d| midnight(d).with_timezone(&berlin).to_rfc3339())
        .collect();
    assert_eq!(starts, expected, "the three missed days, newest first");
    drop((a, b));
}

both_backends!(
    the_export_wizard_repeats_as_a_schedule,
    |backend| async move {
        use crate::admin_pages::Browser;
        let b = Browser::signed_in_with(backend, pages_config).await;
        put_team(&b.app, "acme", "team-eng", "Engineering").await;
        let key = b.app.org_key("acme", "usage_export").await.1;
        let form = |repeat: &'static str| {
            vec![
                ("data_type", "workflows"),
                ("preset", "last_month"),
                ("timezone", "America/New_York"),
                ("teams", "team-eng"),
                ("field_preset", "minimal"),
                ("format", "csv"),
                ("gzip", "on"),
                ("repeat", repeat),
                ("at", "07:15"),
                ("email_admins", "on"),
                ("step", "create"),
            ]
        };
        // The last step offers the choice.
        let (_, last) = b
            .submit_text(
                &format!("{DE}/exports/new"),
                &form("once")[..10]
                    .iter()
                    .copied()
                    .chain([("step", "fields")])
                    .collect::<Vec<_>>(),
            )
            .await;
        assert!(
            last.contains("Repeat") && last.contains("Every billing period"),
            "{last}"
        );

        let (status, page) = b
            .submit_text(&format!("{DE}/exports/new"), &form("fortnight"))
            .await;
        assert_eq!(status, 400);
        assert!(page.contains("cadence.every"), "{page}");

        let (status, _) = b
            .submit_text(&format!("{DE}/exports/new"), &form("month"))
            .await;
        assert_eq!(status, 303);
        let list: Value = b
            .app
            .get("/v1/export-schedules", &key)
            .await
            .json()
            .await
            .unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "a schedule, not an export: {list}");
        let s = &items[0];
        assert_eq!(
            s["cadence_text"],
            "Monthly on the 1st at 07:15, America/New_York"
        );
        assert_eq!(s["export"]["workspace_ids"], json!(["team-eng"]));
        assert_eq!(s["export"]["field_preset"], "minimal");
        assert_eq!(s["export"]["gzip"], true);
        assert_eq!(s["deliver"]["email"], "admins");
        let exports: Value = b.app.get("/v1/exports", &key).await.json().await.unwrap();
        assert_eq!(exports["total"], 0, "no one-time export was queued");
        let tab = b
            .page(&format!("{DE}?tab=schedules&notice=schedule_created"))
            .await;
        assert!(
            tab.contains("Schedule created.") && tab.contains("Monthly on the 1st at 07:15"),
            "{tab}"
        );
    }
);

both_backends!(
    deliveries_that_keep_failing_fail_the_run_and_stop_the_schedule,
    |backend| async move {
        use crate::http_receiver::{Receiver, Reply};
        let app = spawn_app_with(backend, |c| {
            c.schedules.run = false;
            c.exports.workers = 0;
            c.drains.allow_private_destinations = true;
            c.schedules.delivery_attempts = 2;
            c.schedules.max_failed_runs = 2;
        })
        .await;
        let key = acme(&app).await;
        let rx = Receiver::start().await;
        rx.set_default(Reply::status(500).body("down for maintenance"));
        let http = secret(
            &app,
            json!({"name": "hook", "kind": "http", "url": rx.url,
        "authorization": "Bearer very-secret-token"}),
        )
        .await;
        let id = create(&app, "Flaky hook", json!({"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]}),
        json!({"email": null, "destination": {"type": "http", "secret_id": http}})).await;
        app.schedules
            .run_due(utc("2026-03-29T04:30:00Z"))
            .await
            .unwrap();
        run_exports(&app).await;
        // First pass: both deliveries fail and wait for their retry.
        let done = app
            .schedules
            .run_due(utc("2026-03-29T05:00:00Z"))
            .await
            .unwrap();
        assert_eq!((done.delivered, done.failed), (0, 2), "{done:?}");
        let s: Value = app
            .get(&format!("/v1/export-schedules/{id}"), &key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(s["state"], "active", "a retry is still due");
        // Second (last) attempt fails too: both runs fail, and two in a row stop the schedule.
        let done = app
            .schedules
            .run_due(utc("2026-03-29T07:00:00Z"))
            .await
            .unwrap();
        assert_eq!(done.failed, 2, "{done:?}");
        assert_eq!(rx.count(), 4, "two attempts per run");
        for r in runs(&app, &key, &id).await {
            assert_eq!(r["state"], "FAILED", "{r}");
            let e = r["error"].as_str().unwrap();
            assert!(e.contains("500"), "{e}");
            assert!(!e.contains("very-secret-token"), "no secret in errors: {e}");
        }
        let s: Value = app
            .get(&format!("/v1/export-schedules/{id}"), &key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(s["state"], "error", "{s}");
        assert!(!s.to_string().contains("very-secret-token"));
        let events = audit_events(&app, "acme").await;
        assert_eq!(
            events
                .iter()
                .filter(|e| *e == "schedule_run_failed")
                .count(),
            2
        );
        // Nothing more is tried in error.
        let done = app
            .schedules
            .run_due(utc("2026-03-30T07:00:00Z"))
            .await
            .unwrap();
        assert_eq!((done.queued, done.failed, rx.count()), (0, 0, 4));
    }
);

both_backends!(
    the_export_wizard_delivers_a_schedule_to_a_stored_destination,
    |backend| async move {
        use crate::admin_pages::Browser;
        let b = Browser::signed_in_with(backend, pages_config).await;
        let key = b.app.org_key("acme", "usage_export").await.1;
        let aws = secret(
            &b.app,
            json!({"name": "finance bucket", "kind": "aws",
                "access_key_id": "AKIAEXAMPLE", "secret_access_key": "wizard-secret-key"}),
        )
        .await;
        let form = |to: &'static str, secret: &str| {
            vec![
                ("data_type", "credit_logs".to_string()),
                ("preset", "last_month".to_string()),
                ("timezone", "Europe/Berlin".to_string()),
                ("field_preset", "minimal".to_string()),
                ("format", "csv".to_string()),
                ("repeat", "month".to_string()),
                ("at", "06:00".to_string()),
                ("deliver_to", to.to_string()),
                ("deliver_secret", secret.to_string()),
                ("deliver_bucket", "finance".to_string()),
                ("deliver_prefix", "/outflow/".to_string()),
                ("step", "create".to_string()),
            ]
        };
        let post = |pairs: Vec<(&'static str, String)>| {
            let b = &b;
            async move {
                let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                b.submit_text(&format!("{DE}/exports/new"), &refs).await
            }
        };
        // The last step lists the stored secret, never its contents.
        let mut last = form("", "");
        last.retain(|(k, _)| *k != "step");
        last.push(("step", "fields".into()));
        let (_, page) = post(last).await;
        assert!(page.contains(&format!("value=\"{aws}\"")), "{page}");
        assert!(!page.contains("wizard-secret-key"));

        // An HTTP destination needs an http secret: the schedule's own check says so.
        let (status, page) = post(form("http", &aws)).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("deliver.destination.secret_id"), "{page}");
        let (status, page) = post(form("s3", "")).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("deliver.destination.secret_id"), "{page}");

        let (status, page) = post(form("s3", &aws)).await;
        assert_eq!(status, 303, "{page}");
        let list: Value = b
            .app
            .get("/v1/export-schedules", &key)
            .await
            .json()
            .await
            .unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{list}");
        let dest = &items[0]["deliver"]["destination"];
        assert_eq!(dest["type"], "s3", "{list}");
        assert_eq!(dest["bucket"], "finance");
        assert_eq!(dest["prefix"], "outflow");
        assert_eq!(dest["secret_id"], aws.as_str());
        assert_eq!(items[0]["deliver"]["email"], Value::Null, "box not ticked");
    }
);

both_backends!(
    a_secret_a_schedule_delivers_through_cannot_be_deleted_while_the_schedule_exists,
    |backend| async move {
        use reqwest::Method;
        let app = delivery_app(backend, None).await;
        let key = acme(&app).await;
        let http = secret(
            &app,
            json!({"name": "hook", "kind": "http", "url": "https://hooks.example.com/s",
        "signing_secrets": [SIGNING]}),
        )
        .await;
        let id = create(&app, "To the hook", json!({"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]}),
        json!({"email": null, "destination": {"type": "http", "secret_id": http}})).await;
        let drains_key = app.org_key("acme", "drains").await.1;
        let path = format!("/v1/secrets/{http}");
        let r = call(&app, Method::DELETE, &path, &drains_key, None).await;
        assert_eq!(r.status(), 409);
        let text = r.text().await.unwrap();
        assert!(text.contains(&format!("schedule {id}")), "{text}");
        assert!(!text.contains(SIGNING), "{text}");

        let r = call(
            &app,
            Method::DELETE,
            &format!("/v1/export-schedules/{id}"),
            &key,
            None,
        )
        .await;
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
        let r = call(&app, Method::DELETE, &path, &drains_key, None).await;
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    }
);

both_backends!(
    azure_blob_and_gcs_take_each_period_like_s3,
    |backend| async move {
        use crate::objstore::{
            AZURE_ACCOUNT, AZURE_KEY, GCS_BUCKET, GCS_KEY, create_container, start_azurite,
            start_gcs,
        };
        use outflow::drain::dest::{DestContext, DestinationConfig, SecretPayload};
        let (Some(azurite), Some(gcs)) = (start_azurite(), start_gcs()) else {
            return;
        };
        create_container(&azurite, "finance").await;
        let app = delivery_app(backend, None).await;
        let key = acme(&app).await;
        app.ingest_ok("workflows", &json!([run_record("acme", "r1")]))
            .await;
        let azure = secret(
            &app,
            json!({"name": "az", "kind": "azure", "access_key": AZURE_KEY}),
        )
        .await;
        let gcp = secret(
            &app,
            json!({"name": "gcs", "kind": "gcp", "service_account_json": GCS_KEY}),
        )
        .await;
        let export = json!({"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]});
        let azure_config = DestinationConfig::AzureBlob {
            account: AZURE_ACCOUNT.into(),
            container: "finance".into(),
            prefix: "monthly".into(),
            endpoint: Some(azurite.endpoint.clone()),
            format: Default::default(),
        };
        let gcs_config = DestinationConfig::Gcs {
            bucket: GCS_BUCKET.into(),
            prefix: "monthly".into(),
            endpoint: Some(gcs.endpoint.clone()),
            format: Default::default(),
        };
        let mut ids = Vec::new();
        for (name, config, secret_id) in [
            ("To Azure", &azure_config, &azure),
            ("To GCS", &gcs_config, &gcp),
        ] {
            let mut destination = serde_json::to_value(config).unwrap();
            destination["secret_id"] = json!(secret_id);
            ids.push(
                create(
                    &app,
                    name,
                    export.clone(),
                    json!({"email": null, "destination": destination}),
                )
                .await,
            );
        }
        app.schedules
            .run_due(utc("2026-03-30T04:30:00Z"))
            .await
            .unwrap();
        run_exports(&app).await;
        let done = app
            .schedules
            .run_due(utc("2026-03-30T05:00:00Z"))
            .await
            .unwrap();
        assert_eq!((done.delivered, done.failed), (6, 0), "{done:?}");

        let ctx = DestContext {
            allow_private: true,
            request_timeout: Duration::from_secs(10),
        };
        let payloads = [
            SecretPayload::Azure {
                access_key: Some(AZURE_KEY.into()),
                sas_token: None,
            },
            SecretPayload::Gcp {
                service_account_json: GCS_KEY.into(),
            },
        ];
        for ((id, config), payload) in ids.iter().zip([&azure_config, &gcs_config]).zip(payloads) {
            let object = format!("monthly/{id}/2026-03-29_2026-03-29.csv");
            let list = runs(&app, &key, id).await;
            let delivered = list
                .iter()
                .find_map(|r| {
                    r["delivered"]
                        .as_array()
                        .filter(|d| d.contains(&json!(format!("{}:{object}", config.kind()))))
                })
                .cloned();
            assert!(delivered.is_some(), "{list:?}");
            let d = outflow::drain::dest::s3::build(config, &payload, &ctx).unwrap();
            let stored: std::collections::BTreeMap<String, Vec<u8>> = d
                .read_all(id, |_| true)
                .await
                .unwrap()
                .into_iter()
                .collect();
            let csv = String::from_utf8(stored[&object].clone()).unwrap();
            assert!(csv.contains("r1"), "{}: {csv}", config.kind());
            // One object per period: 27, 28 and 29 March.
            assert_eq!(stored.len(), 3, "{:?}", stored.keys());
        }
    }
);

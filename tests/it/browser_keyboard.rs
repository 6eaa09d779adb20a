//! Keyboard-only use and labels on every control (issue 16, "Done when"), in headless Chromium
//! (`tests/browser/keyboard.spec.mjs`): every main page — the data export tabs, the export
//! wizard and an export's page, a drain's page and its Edit page, the Add Drain wizard, a
//! schedule, Analytics, Reports, Audit log, API keys, Privacy, Notifications, Admins and
//! single sign-on — is walked with Tab alone, and every control on it must have a label and
//! be reached; the Reports and Notifications forms are used with the keyboard. This test starts the app with something on each page; needs what `browser.rs`
//! needs and is skipped without it (a failure under `CI=true`).

use crate::browser::{browser_dir, chromium};
use crate::helpers::*;
use crate::http_receiver::Receiver;
use outflow::domain::role::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const OWNER: &str = "owner@acme.example";

async fn created(app: &TestApp, path: &str, key: &str, body: Value) -> String {
    let r = post_json(app, path, key, body).await;
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert!(matches!(status, 201 | 202), "{path}: {status} {v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_page_with_the_keyboard_alone_and_every_control_labelled() {
    let Some(chromium) = chromium() else { return };
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.drains.allow_private_destinations = true;
        c.schedules.run = false;
    })
    .await;
    acme_with_team_and_member(&app).await;
    app.ingest_ok("workflows", &json!([run_record("acme", "kb-1")]))
        .await;
    let password =
        outflow::web::auth::add_admin_with_role(&app.store, "acme", OWNER, Some(Role::Owner))
            .await
            .unwrap();
    let drains = app.org_key("acme", "drains").await.1;
    let usage = app.org_key("acme", "usage_export").await.1;
    let rx = Receiver::start().await;
    let secret = created(
        &app,
        "/v1/secrets",
        &drains,
        json!({"name": "siem", "kind": "http", "url": format!("{}/in", rx.url)}),
    )
    .await;
    let drain = created(
        &app,
        "/v1/drains",
        &drains,
        json!({"name": "runs to siem", "data_type": "workflows", "fields": ["run_id", "credit_cost"],
               "destination": {"type": "http", "format": "json"}, "secret_id": secret}),
    )
    .await;
    let schedule = created(
        &app,
        "/v1/export-schedules",
        &usage,
        json!({"name": "Monthly workflows",
               "export": {"data_type": "workflows", "field_preset": "default", "workspace_ids": ["team-eng"]},
               "cadence": {"every": "month", "at": "06:00", "day_of_month": 1}}),
    )
    .await;
    let export = created(
        &app,
        "/v1/exports",
        &usage,
        json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-03-31",
               "workspace_ids": ["team-eng"], "field_preset": "minimal", "user_id": "u1"}),
    )
    .await;

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("keyboard.spec.mjs")
        .current_dir(browser_dir())
        .env("OUTFLOW_URL", &app.url)
        .env("OUTFLOW_ADMIN_EMAIL", OWNER)
        .env("OUTFLOW_ADMIN_PASSWORD", &password)
        .env("OUTFLOW_DRAIN_ID", &drain)
        .env("OUTFLOW_SCHEDULE_ID", &schedule)
        .env("OUTFLOW_EXPORT_ID", &export)
        .env("OUTFLOW_CHROMIUM", &chromium)
        .env("OUTFLOW_ARTIFACTS", &artifacts)
        .env(
            "OUTFLOW_SCREENSHOT_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"),
        )
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .expect("the browser script finishes within 4 minutes")
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("PASSED"),
        "the keyboard scenario failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // The app's side of the notification form sent with the keyboard.
    let s = app.notifier.get("acme").await.unwrap().expect("saved");
    assert_eq!(s.secret_id, secret);
    assert_eq!(s.format, outflow::notifier::Format::Slack);
    assert_eq!(
        s.events,
        [
            outflow::notifier::EventType::DrainError,
            outflow::notifier::EventType::ExportFailed
        ]
    );
    assert_eq!(s.updated_by, format!("admin:{OWNER}"));
}

//! The admin pages in a real headless browser: Debian's Chromium driven by `playwright-core`
//! from `tests/browser/admin.spec.mjs`. This test starts the real app (SQLite), a local HTTP
//! receiver for the drain and a tiny control server the script calls to ingest records and to
//! make the receiver fail, runs the script with `node`, and then checks the app's side of what
//! the browser did.
//!
//! Needs `/usr/bin/chromium` (or `OUTFLOW_CHROMIUM`), `node` and `tests/browser/node_modules`
//! (`npm ci` there); `.ci/run` installs them. Without them the test fails under `CI=true` and
//! is skipped otherwise. `OUTFLOW_SCREENSHOTS=1` also writes the README's screenshots to
//! `docs/screenshots/`.

use crate::helpers::*;
use crate::http_receiver::{Receiver, Reply};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use outflow::domain::DataType;
use outflow::domain::catalog;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EMAIL: &str = "admin@acme.example";
/// The whole scenario's deadline (it takes ≈15 s here).
const SCRIPT_DEADLINE: Duration = Duration::from_secs(300);

/// Drains that reach the local receiver and fail fast: one attempt per cycle, no backoff, so
/// three failed cycles (→ Error) take well under a second.
fn browser_config(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 1;
}

pub(crate) fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// The browser, or why it cannot run. Under `CI=true` a missing piece is a failure.
pub(crate) fn chromium() -> Option<PathBuf> {
    let chromium = std::env::var_os("OUTFLOW_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let modules = browser_dir().join("node_modules/playwright-core");
    let missing: Vec<String> = [
        (!chromium.exists()).then(|| {
            format!(
                "Chromium at {} (apt-get install -y chromium)",
                chromium.display()
            )
        }),
        (!node_ok).then(|| "Node.js 20+ (`node` on PATH)".to_string()),
        (!modules.exists()).then(|| "playwright-core (cd tests/browser && npm ci)".to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return Some(chromium);
    }
    let message = format!(
        "the browser tests need: {} — `.ci/run` installs them",
        missing.join("; ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("SKIPPING browser test: {message}");
    None
}

/// What the control server needs: the app's URL and the receiver.
#[derive(Clone)]
struct Control {
    app_url: String,
    http: reqwest::Client,
    rx: Arc<Receiver>,
}

#[derive(Deserialize)]
struct IngestQuery {
    prefix: String,
    n: usize,
}

#[derive(Deserialize)]
struct ReceiverQuery {
    status: u16,
}

/// `POST /ingest?prefix=P&n=N`: N workflow runs `P-0` … through the ingest API.
async fn control_ingest(
    State(c): State<Control>,
    Query(q): Query<IngestQuery>,
) -> (StatusCode, Json<Value>) {
    let records: Vec<Value> = (0..q.n)
        .map(|i| run_record("acme", &format!("{}-{i}", q.prefix)))
        .collect();
    let r = c
        .http
        .post(format!("{}/v1/ingest/workflows", c.app_url))
        .bearer_auth(INGEST_KEY)
        .json(&records)
        .send()
        .await;
    match r {
        Ok(r) if r.status().is_success() => (StatusCode::OK, Json(json!({"ingested": q.n}))),
        Ok(r) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"status": r.status().as_u16()})),
        ),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"error": e.to_string()})),
        ),
    }
}

/// `POST /receiver?status=S`: the receiver answers S from now on.
async fn control_receiver(State(c): State<Control>, Query(q): Query<ReceiverQuery>) -> Json<Value> {
    c.rx.set_default(Reply::status(q.status).body("set by the browser test"));
    Json(json!({"status": q.status}))
}

async fn audit_events(app: &TestApp) -> Vec<String> {
    let spec = catalog::spec(DataType::AuditLogs);
    read_all(&app.store, DataType::AuditLogs, "acme")
        .await
        .iter()
        .filter_map(|r| {
            r.get(spec, "event_type")
                .and_then(|v| v.as_text())
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let app = spawn_app_with(Backend::Sqlite, browser_config).await;
    app.put_org("acme").await;
    for (id, name) in [("team-eng", "Engineering"), ("team-mkt", "Marketing")] {
        let r = app
            .put_entity("acme", "teams", id, json!({"name": name}))
            .await;
        assert_eq!(r.status(), 200);
    }
    // Three runs of team-eng in March 2026 for the CSV export.
    app.ingest_ok(
        "workflows",
        &json!([
            run_record("acme", "march-1"),
            run_record("acme", "march-2"),
            run_record("acme", "march-3")
        ]),
    )
    .await;
    // Credits on two days of March 2026 for the Analytics step: 5 + 2.5 credits.
    app.ingest_ok(
        "credit_logs",
        &json!([
            {"org_id": "acme", "log_id": "an-1", "timestamp": "2026-03-10T10:00:00+01:00",
             "category": "agent_run", "amount": -5.0, "user_id": "u1", "project_id": "team-eng"},
            {"org_id": "acme", "log_id": "an-2", "timestamp": "2026-03-12T10:00:00+01:00",
             "category": "agent_run", "amount": -2.5, "user_id": "u1", "project_id": "team-mkt"}
        ]),
    )
    .await;
    let password = outflow::web::auth::add_admin(&app.store, "acme", EMAIL)
        .await
        .unwrap();

    let rx = Arc::new(Receiver::start().await);
    let control = axum::Router::new()
        .route("/ingest", axum::routing::post(control_ingest))
        .route("/receiver", axum::routing::post(control_receiver))
        .with_state(Control {
            app_url: app.url.clone(),
            http: reqwest::Client::new(),
            rx: rx.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let control_url = format!("http://{}", listener.local_addr().unwrap());
    let control_task = tokio::spawn(async move {
        let _ = axum::serve(listener, control).await;
    });

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("admin.spec.mjs")
        .current_dir(browser_dir())
        .env("OUTFLOW_URL", &app.url)
        .env("OUTFLOW_ADMIN_EMAIL", EMAIL)
        .env("OUTFLOW_ADMIN_PASSWORD", &password)
        .env("OUTFLOW_RECEIVER_URL", &rx.url)
        .env("OUTFLOW_CONTROL_URL", &control_url)
        .env("OUTFLOW_CHROMIUM", &chromium)
        .env("OUTFLOW_ARTIFACTS", &artifacts)
        .env(
            "OUTFLOW_SCREENSHOT_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"),
        )
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(SCRIPT_DEADLINE, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("the browser script ran past {SCRIPT_DEADLINE:?}"))
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "the browser scenario failed ({}) after {:?}:\n{stdout}\n{stderr}",
        out.status,
        started.elapsed()
    );
    assert!(stdout.contains("PASSED"), "{stdout}");
    control_task.abort();

    // The app's side of what the browser did.
    let (jobs, total) = outflow::export::jobs::list(&app.store, "acme", 1, 10)
        .await
        .unwrap();
    assert_eq!(total, 2);
    for job in &jobs {
        assert_eq!(job.state.as_str(), "COMPLETED");
        assert_eq!(job.requested_by, format!("admin:{EMAIL}"));
    }
    let csv = jobs
        .iter()
        .find(|j| j.spec.data_type == DataType::Workflows)
        .unwrap();
    assert_eq!(csv.spec.teams.ids, ["team-eng"]);
    assert_eq!(csv.spec.timezone, "Europe/Berlin");

    // The receiver got the preflight probe, the live records, and — after the failures and
    // the resume — the records that failed to deliver.
    let received: Vec<String> = rx
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    for id in ["live-0", "live-4", "fail-0", "fail-1"] {
        assert!(
            received.iter().any(|b| b.contains(id)),
            "{id} delivered: {received:?}"
        );
    }
    let auth: Vec<String> = rx
        .requests()
        .iter()
        .map(|r| r.header("authorization").to_string())
        .collect();
    assert!(auth.iter().all(|a| a == "Bearer browser-test"), "{auth:?}");
    assert!(
        outflow::drain::repo::list(&app.store, "acme")
            .await
            .unwrap()
            .is_empty(),
        "the drain was deleted"
    );
    let events = audit_events(&app).await;
    for e in [
        "admin_sign_in_failed",
        "admin_signed_in",
        "drain_created",
        "drain_paused",
        "drain_resumed",
        "drain_deleted",
        "admin_signed_out",
    ] {
        assert!(events.iter().any(|x| x == e), "{e}: {events:?}");
    }
    println!("browser scenario: {:?}", started.elapsed());
}

//! Roles and the Admins page in headless Chromium (`tests/browser/roles.spec.mjs`): a viewer's
//! navigation and 403 pages, an owner inviting an analyst through a real SMTP server (aiosmtpd),
//! the analyst joining through the emailed link, then a role change, a revoked session and a
//! removal — and the app's side of it (roles, audit records). Needs what `browser.rs` needs and
//! aiosmtpd; skipped without them (a failure under `CI=true`).

use crate::browser::{browser_dir, chromium};
use crate::helpers::*;
use crate::mail::SmtpServer;
use axum::Json;
use axum::extract::State;
use outflow::domain::DataType;
use outflow::domain::catalog;
use outflow::domain::role::Role;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const OWNER: &str = "owner@acme.example";
const VIEWER: &str = "viewer@acme.example";
const SCRIPT_DEADLINE: Duration = Duration::from_secs(180);

/// `POST /mail`: the emails the SMTP server has received.
async fn control_mail(State(smtp): State<Arc<SmtpServer>>) -> Json<Vec<Value>> {
    Json(smtp.messages())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_the_admins_page_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let Some(smtp) = SmtpServer::start(None) else {
        return;
    };
    let smtp_config = smtp.config();
    let app = spawn_app_with(Backend::Sqlite, move |c| c.smtp = smtp_config).await;
    app.put_org("acme").await;
    let add = |email: &'static str, role: Role| {
        outflow::web::auth::add_admin_with_role(&app.store, "acme", email, Some(role))
    };
    let owner_pw = add(OWNER, Role::Owner).await.unwrap();
    let viewer_pw = add(VIEWER, Role::Viewer).await.unwrap();

    let smtp = Arc::new(smtp);
    let control = axum::Router::new()
        .route("/mail", axum::routing::post(control_mail))
        .with_state(smtp.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let control_url = format!("http://{}", listener.local_addr().unwrap());
    let control_task = tokio::spawn(async move {
        let _ = axum::serve(listener, control).await;
    });

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("roles.spec.mjs")
        .current_dir(browser_dir())
        .env("OUTFLOW_URL", &app.url)
        .env("OUTFLOW_OWNER_EMAIL", OWNER)
        .env("OUTFLOW_OWNER_PASSWORD", &owner_pw)
        .env("OUTFLOW_VIEWER_EMAIL", VIEWER)
        .env("OUTFLOW_VIEWER_PASSWORD", &viewer_pw)
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
        out.status.success() && stdout.contains("PASSED"),
        "the roles scenario failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    control_task.abort();

    // The app's side: the analyst joined and was removed; a second invitation is pending.
    assert!(
        outflow::store::admin::admin_by_email(&app.store, "ana@acme.example")
            .await
            .unwrap()
            .is_none()
    );
    let pending = outflow::store::admin::list_invites(&app.store, "acme", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].email, "kb@acme.example");
    let spec = catalog::spec(DataType::AuditLogs);
    let events: Vec<String> = read_all(&app.store, DataType::AuditLogs, "acme")
        .await
        .iter()
        .filter_map(|r| {
            r.get(spec, "event_type")
                .and_then(|v| v.as_text())
                .map(str::to_string)
        })
        .collect();
    for e in [
        "admin_invited",
        "admin_invite_accepted",
        "admin_role_changed",
        "admin_session_revoked",
        "admin_removed",
    ] {
        assert!(events.iter().any(|x| x == e), "{e}: {events:?}");
    }
}

//! Test helpers: fresh databases, the app on port 0, a client with one method per endpoint.

use outflow::app::App;
use outflow::config::{Config, Secret};
use outflow::domain::DataType;
use outflow::store::{Store, StoredRecord};
use serde_json::{Value, json};
use sqlx::Connection;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

pub const INGEST_KEY: &str = "ofi_test_ingest_key";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body on both backends: `both_backends!(name, |backend| async move { … });`
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_available().await {
                    ($body)($crate::helpers::Backend::Postgres).await
                }
            }
        }
    };
}

fn pg_server_url() -> String {
    std::env::var("OUTFLOW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether PostgreSQL tests can run. Under `CI=true` an unreachable server is a failure.
pub async fn postgres_available() -> bool {
    match sqlx::PgConnection::connect(&pg_server_url()).await {
        Ok(_) => true,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required under CI=true but unreachable: {e}");
            }
            eprintln!("SKIPPING PostgreSQL test: {e}");
            false
        }
    }
}

/// Creates the organization `acme` straight in the store.
pub async fn acme_org(store: &Store) {
    store
        .upsert_org(
            &outflow::domain::Id::parse("acme").unwrap(),
            &serde_json::from_value(json!({"name": "Acme"})).unwrap(),
        )
        .await
        .unwrap();
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}", dir.path().join("test.db").display()),
                dir,
                pg_name: None,
            },
            Backend::Postgres => {
                let name = format!("outflow_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&pg_server_url()).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let mut url = url::Url::parse(&pg_server_url()).unwrap();
                url.set_path(&name);
                TestDb {
                    url: url.to_string(),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url, 4).await.unwrap();
        store.migrate().await.unwrap();
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Best effort: a blocking drop on a fresh runtime-free connection.
            let url = pg_server_url();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut c)
                                .await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

/// The real app, serving on an ephemeral port.
pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub store: Store,
    /// The app's export service (tests drive its workers and sweeper).
    pub exports: outflow::export::Exports,
    /// The app's drain service (tests run drain cycles with `drains.engine.run_once`).
    pub drains: outflow::drain::Drains,
    /// The app's schedule service (tests drive its runner with `run_due(now)`).
    pub schedules: outflow::schedule::Schedules,
    /// The app's budget service (tests drive its runner with `run_due(now)`).
    pub budgets: outflow::budget::Budgets,
    /// The app's notification service (tests drive its runner with `run_due(now)`).
    pub notifier: outflow::notifier::Notifications,
    pub _db: TestDb,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    // `TEST_OUTFLOW_LOG=outflow=debug` shows the app's logs while debugging a test.
    if let Ok(filter) = std::env::var("TEST_OUTFLOW_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
    let db = TestDb::new(backend).await;
    let mut config = Config {
        data_dir: db.dir.path().to_path_buf(),
        database_url: Some(Secret(db.url.clone())),
        ingest_key: Some(Secret(INGEST_KEY.into())),
        shutdown_grace_seconds: 1,
        ..Config::default()
    };
    tweak(&mut config);
    let store = db.store().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = App::with_parts(config, store.clone(), listener).unwrap();
    let url = format!("http://{}", app.local_addr());
    let exports = app.exports().clone();
    let drains = app.drains().clone();
    let schedules = app.schedules().clone();
    let budgets = app.budgets().clone();
    let notifier = app.notifier().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    TestApp {
        url,
        client: reqwest::Client::new(),
        store,
        exports,
        drains,
        schedules,
        budgets,
        notifier,
        _db: db,
        _stop: stop,
    }
}

/// `method path` with an organization key (and a JSON body), as a client of the API would.
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.url))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

impl TestApp {
    pub async fn put_org(&self, org: &str) {
        let r = self
            .client
            .put(format!("{}/v1/orgs/{org}", self.url))
            .bearer_auth(INGEST_KEY)
            .json(&json!({"name": format!("Org {org}"), "timezone": "Europe/Berlin", "billing_anchor_day": 15}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    pub async fn put_entity(
        &self,
        org: &str,
        kind: &str,
        id: &str,
        body: Value,
    ) -> reqwest::Response {
        self.client
            .put(format!("{}/v1/orgs/{org}/{kind}/{id}", self.url))
            .bearer_auth(INGEST_KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn ingest(&self, data_type: &str, records: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/ingest/{data_type}", self.url))
            .bearer_auth(INGEST_KEY)
            .json(records)
            .send()
            .await
            .unwrap()
    }

    pub async fn ingest_ok(&self, data_type: &str, records: &Value) -> Value {
        let r = self.ingest(data_type, records).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// Creates an organization key with `scopes` through the library (as the CLI does).
    pub async fn org_key(&self, org: &str, scopes: &str) -> (String, String) {
        let scopes = outflow::store::Scope::parse_list(scopes).unwrap();
        let (key, secret) = outflow::auth::keys::create_org_key(
            &self.store,
            org,
            "test",
            scopes,
            &outflow::audit::Actor::cli(),
        )
        .await
        .unwrap();
        (key.id, secret)
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }
}

/// Every record of a type, read through the tailing read. On PostgreSQL a record becomes
/// readable once no older transaction in the cluster is still running (parallel tests hold
/// some), so this waits — with a deadline — until the tailing read has caught up with the
/// table's row count.
pub async fn read_all(store: &Store, dt: DataType, org: &str) -> Vec<StoredRecord> {
    let expected = store.count_records(dt, org).await.unwrap() as usize;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = store.read_after(dt, org, 0, 1_000_000).await.unwrap();
        if rows.len() >= expected || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A valid workflow-run record.
pub fn run_record(org: &str, id: &str) -> Value {
    json!({
        "org_id": org, "run_id": id, "workspace_id": "team-eng", "workspace_name": "Engineering",
        "workbook_id": "wb-1", "workbook_name": "Lead scoring", "user_id": "u1",
        "user_email": "ada@acme.example", "credit_cost": 2.5,
        "pl_run_created_ts": "2026-03-29T01:30:00+01:00", "pl_run_finished_ts": "2026-03-29T03:31:00+02:00"
    })
}

/// Asserts an error body has the `{error, message}` shape and returns the message.
pub async fn error_message(r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    body["message"].as_str().unwrap().to_string()
}

// ----- export setup, shared by exports.rs, export_jobs.rs and scope.rs ---------------------

/// POSTs `body` as JSON to `path` with `key`.
pub async fn post_json(app: &TestApp, path: &str, key: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Creates team `id` of `org`.
pub async fn put_team(app: &TestApp, org: &str, id: &str, name: &str) {
    let r = app
        .put_entity(org, "teams", id, json!({"name": name}))
        .await;
    assert_eq!(r.status(), 200);
}

/// Creates member `id` of `org` (and so the personal space `personal-{id}`).
pub async fn put_member(app: &TestApp, org: &str, id: &str, email: &str, name: &str) {
    let r = app
        .put_entity(
            org,
            "members",
            id,
            json!({"email": email, "name": name, "joined_at": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// Organization `acme` with team `team-eng` (Engineering) and member `u1` (Ada).
pub async fn acme_with_team_and_member(app: &TestApp) {
    app.put_org("acme").await;
    put_team(app, "acme", "team-eng", "Engineering").await;
    put_member(app, "acme", "u1", "ada@acme.example", "Ada").await;
}

/// Polls `/v1/exports/{id}` until the job leaves REQUESTED/IN_PROGRESS (30 s at most) and
/// answers the job.
pub async fn wait_export(app: &TestApp, key: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app.get(&format!("/v1/exports/{id}"), key).await;
        assert_eq!(r.status(), 200, "/v1/exports/{id}");
        let job: Value = r.json().await.unwrap();
        let state = job["state"].as_str().unwrap().to_string();
        if state != "REQUESTED" && state != "IN_PROGRESS" {
            return job;
        }
        assert!(Instant::now() < deadline, "export {id} stuck in {state}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits, with a deadline, until nothing accepts connections at `url`'s host and port: a test
/// server just dropped has closed its listener (its task is aborted, not joined).
pub async fn wait_refused(url: &str) {
    let u = url::Url::parse(url).unwrap();
    let addr = format!(
        "{}:{}",
        u.host_str().unwrap(),
        u.port_or_known_default().unwrap()
    );
    let until = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(Instant::now() < until, "{addr} still accepts connections");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

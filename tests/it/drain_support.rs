//! What the drain tests share (`drains.rs`, `drain_errors.rs`): the app with organization
//! `acme` and a key with the drains scope, API calls as that key, one drain cycle run in the
//! test's task, and waits with a deadline for a drain's state or an email. Each test file adds
//! its own helpers (secrets, drain bodies) in its own `impl Ctx`.

use crate::helpers::*;
use outflow::drain::engine::Ran;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a test waits for a condition before it fails.
const WAIT: Duration = Duration::from_secs(20);

pub(crate) struct Ctx {
    pub app: TestApp,
    pub key: String,
}

impl Ctx {
    pub async fn new(backend: Backend, tweak: impl FnOnce(&mut outflow::config::Config)) -> Ctx {
        let app = spawn_app_with(backend, tweak).await;
        app.put_org("acme").await;
        let (_, key) = app.org_key("acme", "drains").await;
        Ctx { app, key }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
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

    /// Status and body text.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String) {
        let r = self.send(method, path, body).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The JSON answer, asserting its status.
    pub async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let (got, text) = self.call(method, path, body).await;
        assert_eq!(got, status, "{path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn get_drain(&self, id: &str) -> Value {
        self.ok(reqwest::Method::GET, &format!("/v1/drains/{id}"), None, 200)
            .await
    }

    pub async fn wait_drain(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            let d = self.get_drain(id).await;
            if pred(&d) {
                return d;
            }
            assert!(Instant::now() < until, "drain condition not met: {d}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Runs one cycle of drain `id` in the test's task (see `Engine::run_once`).
    pub async fn run_once(&self, id: &str) -> Ran {
        self.app.drains.engine.run_once(id).await.unwrap()
    }

    /// The outbox email naming `needle`, waited for with a deadline (the email follows the
    /// status change).
    pub async fn email_naming(&self, needle: &str) -> String {
        let outbox = self.app._db.dir.path().join("outbox");
        let until = Instant::now() + WAIT;
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
}

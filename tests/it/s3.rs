//! Export files on S3-compatible storage: a real S3 server (s3s-fs, the library behind the
//! `s3s-fs` binary, with SigV4 authentication on) started in-process on port 0.

use crate::both_backends;
use crate::helpers::*;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use outflow::config::{Secret, StorageKind};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "outflow-test-access";
pub const SECRET_KEY: &str = "outflow-test-secret-key-0123456789";
pub const BUCKET: &str = "exports";

/// A running S3 server over a temporary directory.
pub struct S3Server {
    pub endpoint: String,
    pub root: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start_s3() -> S3Server {
    let root = tempfile::tempdir().unwrap();
    // s3s-fs maps buckets to directories under its root.
    std::fs::create_dir(root.path().join(BUCKET)).unwrap();
    let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    S3Server {
        endpoint,
        root,
        task,
    }
}

fn use_s3(c: &mut outflow::config::Config, s3: &S3Server, secret: &str) {
    c.storage.kind = StorageKind::S3;
    c.storage.bucket = Some(BUCKET.into());
    c.storage.prefix = Some("outflow/test".into());
    c.storage.endpoint = Some(s3.endpoint.clone());
    c.storage.region = Some("us-east-1".into());
    c.storage.access_key_id = Some(ACCESS_KEY.into());
    c.storage.secret_access_key = Some(Secret(secret.into()));
    c.storage.allow_http = true;
}

async fn export_and_wait(app: &TestApp, key: &str) -> Value {
    let r = app
        .client
        .post(format!("{}/v1/exports", app.url))
        .bearer_auth(key)
        .json(
            &json!({"data_type": "workflows", "start": "2026-03-01", "end": "2026-03-31",
                      "timezone": "Europe/Berlin", "include_all_workspaces": true,
                      "fields": ["run_id", "credit_cost"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job: Value = app
            .get(&format!("/v1/exports/{id}"), key)
            .await
            .json()
            .await
            .unwrap();
        if !matches!(job["state"].as_str(), Some("REQUESTED" | "IN_PROGRESS")) {
            return job;
        }
        assert!(Instant::now() < deadline, "export stuck: {job}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn seed(app: &TestApp) -> String {
    app.put_org("acme").await;
    app.ingest_ok(
        "workflows",
        &json!([run_record("acme", "r1"), run_record("acme", "r2")]),
    )
    .await;
    app.org_key("acme", "usage_export").await.1
}

both_backends!(exports_are_stored_on_s3, |b| async move {
    let s3 = start_s3().await;
    let app = spawn_app_with(b, |c| use_s3(c, &s3, SECRET_KEY)).await;
    let key = seed(&app).await;
    let job = export_and_wait(&app, &key).await;
    assert_eq!(job["state"], "COMPLETED", "{job}");
    // The object is in the bucket under the configured prefix.
    let file = job["file_name"].as_str().unwrap();
    let id = job["id"].as_str().unwrap();
    let object = s3
        .root
        .path()
        .join(BUCKET)
        .join(format!("outflow/test/exports/acme/{id}/{file}"));
    let stored = std::fs::read_to_string(&object).expect("object in the bucket");
    assert_eq!(stored.lines().count(), 3, "{stored}");
    // Both download paths stream it back from S3.
    let via_route = app
        .get(&format!("/v1/exports/{id}/download"), &key)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(via_route, stored);
    let url = job["download_url"].as_str().unwrap();
    let via_link = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(via_link, stored);
});

both_backends!(
    a_bad_s3_signature_fails_the_export_with_its_reason,
    |b| async move {
        let s3 = start_s3().await;
        let app = spawn_app_with(b, |c| use_s3(c, &s3, "not-the-secret")).await;
        let key = seed(&app).await;
        let job = export_and_wait(&app, &key).await;
        assert_eq!(job["state"], "FAILED", "{job}");
        let error = job["error"].as_str().unwrap();
        assert!(
            error.contains("writing the file failed")
                || error.contains("S3")
                || error.contains("Signature"),
            "{error}"
        );
        assert!(
            !error.contains("not-the-secret"),
            "secrets never appear in errors"
        );
    }
);

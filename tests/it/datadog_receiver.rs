//! A local Datadog: the HTTP logs intake (`POST /api/v2/logs`) and API key validation
//! (`GET /api/v1/validate`) on 127.0.0.1, port 0. Every rule it enforces sits in
//! [`check_intake_request`], written to be held against Datadog's public Logs API reference
//! (<https://docs.datadoghq.com/api/latest/logs/#send-logs>). It is stricter than Datadog
//! where Datadog would quietly fix a payload up, so that a destination relying on the fix-up
//! fails its test instead of passing it.
//!
//! Tests script failures with [`DatadogReceiver::reply_next`] (e.g. a 429 with
//! `Retry-After`, a 500): queued replies answer the next intake requests before any check;
//! [`DatadogReceiver::reply_at`] answers one given request (the second of a split batch, say).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use flate2::read::GzDecoder;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// "Maximum content size per payload (uncompressed): 5MB" — read as 5,000,000 bytes, the
/// stricter of the two readings.
pub const MAX_PAYLOAD_BYTES: usize = 5_000_000;
/// "Maximum size for a single log: 1MB".
pub const MAX_LOG_BYTES: usize = 1_000_000;
/// "Maximum array size if sending multiple logs in an array: 1000 entries".
pub const MAX_ENTRIES: usize = 1_000;

#[derive(Default)]
struct Shared {
    api_key: String,
    entries: Mutex<Vec<Value>>,
    requests: Mutex<usize>,
    replies: Mutex<VecDeque<(u16, Option<String>)>>,
    /// Request number (1-based, counting every intake request) → scripted status.
    replies_at: Mutex<std::collections::HashMap<usize, u16>>,
    violations: Mutex<Vec<String>>,
}

/// A running receiver; stops when dropped.
pub struct DatadogReceiver {
    /// Base URL, `http://127.0.0.1:{port}`; the intake is `{url}/api/v2/logs`.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DatadogReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a receiver that accepts `api_key`.
pub async fn start(api_key: &str) -> DatadogReceiver {
    let shared = Arc::new(Shared {
        api_key: api_key.to_string(),
        ..Shared::default()
    });
    let app = Router::new()
        .route("/api/v2/logs", post(intake))
        .route("/api/v1/validate", get(validate))
        // The receiver enforces the documented limits itself, on the uncompressed body.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    DatadogReceiver { url, shared, task }
}

impl DatadogReceiver {
    /// The intake URL, for a destination's `intake_url`.
    pub fn intake_url(&self) -> String {
        format!("{}/api/v2/logs", self.url)
    }

    /// Every accepted log entry, in arrival order.
    pub fn entries(&self) -> Vec<Value> {
        self.shared.entries.lock().unwrap().clone()
    }

    /// Intake requests received (accepted, scripted or refused).
    pub fn requests(&self) -> usize {
        *self.shared.requests.lock().unwrap()
    }

    /// Why requests were refused by the checks (not by scripted replies).
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations.lock().unwrap().clone()
    }

    /// Queues replies (status, `Retry-After`) for the next intake requests, in order.
    pub fn reply_next(&self, replies: Vec<(u16, Option<String>)>) {
        self.shared.replies.lock().unwrap().extend(replies);
    }

    /// The `n`th intake request (1-based, counting every request so far) answers `status`.
    pub fn reply_at(&self, n: usize, status: u16) {
        self.shared.replies_at.lock().unwrap().insert(n, status);
    }

    /// Waits until `pred` holds for the accepted entries, and returns them; panics at
    /// `deadline`.
    pub async fn wait_for(&self, deadline: Instant, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        loop {
            let entries = self.entries();
            if pred(&entries) {
                return entries;
            }
            assert!(
                Instant::now() < deadline,
                "the Datadog receiver did not get what was expected; it has {} entries \
                 from {} requests; violations: {:?}",
                entries.len(),
                self.requests(),
                self.violations()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn error(status: StatusCode, detail: &str) -> Response {
    // Datadog's error body shape.
    let body = json!({"errors": [{"status": status.as_u16().to_string(), "detail": detail}]});
    (status, axum::Json(body)).into_response()
}

/// The intake's rules, each against the Logs API reference. `Err` is the status Datadog
/// answers (or, where the docs name none, the one that makes a test fail) and why.
fn check_intake_request(
    api_key: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<Value>, (StatusCode, String)> {
    let refuse = |status: StatusCode, why: String| Err((status, why));

    // Authentication: the `DD-API-KEY` header. "403: Permission issue (likely using an
    // invalid API Key)". (A missing key is a 401 in the docs' list; 403 covers both here.)
    if headers.get("dd-api-key").and_then(|v| v.to_str().ok()) != Some(api_key) {
        return refuse(StatusCode::FORBIDDEN, "invalid API key".into());
    }

    // The body is JSON; "Datadog recommends sending your logs compressed. Add the
    // Content-Encoding: gzip header to the request when sending compressed logs."
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("Content-Type must be application/json, not `{content_type}`"),
        );
    }
    let gzip = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str()) {
        None => false,
        Some(Ok("gzip")) => true,
        Some(other) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("unsupported Content-Encoding {other:?}"),
            );
        }
    };

    // "Maximum content size per payload (uncompressed): 5MB" — "413: Payload too large
    // (batch is above 5MB uncompressed)".
    let mut raw = Vec::new();
    if gzip {
        GzDecoder::new(body)
            .take(MAX_PAYLOAD_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("bad gzip: {e}")))?;
    } else {
        raw = body.to_vec();
    }
    if raw.len() > MAX_PAYLOAD_BYTES {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload above 5MB uncompressed".into(),
        );
    }

    // Several logs are sent as a JSON array. "Maximum array size if sending multiple logs in
    // an array: 1000 entries" — the docs name no status for a longer array; 400 here (bad
    // request, "likely an issue in the payload formatting").
    let entries: Vec<Value> = serde_json::from_slice(&raw)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("not a JSON array: {e}")))?;
    if entries.len() > MAX_ENTRIES {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("{} entries in one request; at most 1000", entries.len()),
        );
    }

    for (i, entry) in entries.iter().enumerate() {
        // "Maximum size for a single log: 1MB". Datadog accepts a larger log and truncates
        // it silently; the receiver refuses it so that a destination which leaves truncation
        // to Datadog fails its test.
        let size = serde_json::to_vec(entry).unwrap().len();
        if size > MAX_LOG_BYTES {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("entry {i} is {size} bytes; at most 1MB"),
            );
        }
        // The attributes a drain's logs must carry: `ddsource`, `service` and `message`
        // (a string) of the HTTPLogItem schema.
        for attribute in ["ddsource", "service", "message"] {
            if !entry.get(attribute).is_some_and(Value::is_string) {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!("entry {i} has no string `{attribute}`"),
                );
            }
        }
    }
    Ok(entries)
}

async fn intake(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let n = {
        let mut requests = shared.requests.lock().unwrap();
        *requests += 1;
        *requests
    };
    let at = shared.replies_at.lock().unwrap().remove(&n);
    let scripted = at
        .map(|status| (status, None))
        .or_else(|| shared.replies.lock().unwrap().pop_front());
    if let Some((status, retry_after)) = scripted {
        let status = StatusCode::from_u16(status).unwrap();
        let mut response = error(status, "scripted reply");
        if let Some(after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, after.parse().unwrap());
        }
        return response;
    }
    match check_intake_request(&shared.api_key, &headers, &body) {
        Ok(entries) => {
            shared.entries.lock().unwrap().extend(entries);
            // "202: Accepted: the request has been accepted for processing".
            (StatusCode::ACCEPTED, axum::Json(json!({}))).into_response()
        }
        Err((status, why)) => {
            shared.violations.lock().unwrap().push(why.clone());
            error(status, &why)
        }
    }
}

/// `GET /api/v1/validate`: 200 `{"valid":true}` for the key, 403 otherwise.
async fn validate(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if headers.get("dd-api-key").and_then(|v| v.to_str().ok()) == Some(shared.api_key.as_str()) {
        (StatusCode::OK, axum::Json(json!({"valid": true}))).into_response()
    } else {
        error(StatusCode::FORBIDDEN, "Forbidden")
    }
}

//! A real HTTP receiver for drain tests: an axum server on 127.0.0.1:0 that records every
//! request (any method, any path) and answers from a queue of scripted replies, then a
//! default. Also an independent check of Outflow's signatures, written from the Standard
//! Webhooks specification rather than from the code under test.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Lowercase names; a header sent several times has its values joined by `, `.
    pub headers: HashMap<String, String>,
    /// The body as sent.
    pub raw_body: Vec<u8>,
    /// The body gunzipped when `Content-Encoding: gzip`, else `raw_body`.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn ndjson(&self) -> Vec<serde_json::Value> {
        std::str::from_utf8(&self.body)
            .expect("NDJSON is UTF-8")
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line ({e}): {l}")))
            .collect()
    }

    /// A header's value; panics when it is missing.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("no `{name}` header in {:?}", self.headers.keys()))
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (timeouts).
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: vec![],
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

#[derive(Debug)]
struct Inner {
    requests: Vec<Received>,
    queue: VecDeque<Reply>,
    default: Reply,
}

/// A running receiver; stops when dropped.
pub struct Receiver {
    /// `http://127.0.0.1:{port}` (no trailing slash): append any path.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn gunzip(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw)
        .read_to_end(&mut out)
        .expect("a gzip body decompresses");
    out
}

async fn record(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut map: HashMap<String, String> = HashMap::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let raw_body = body.to_vec();
    let gzipped = map
        .get("content-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let received = Received {
        path: uri.path().to_owned(),
        body: if gzipped {
            gunzip(&raw_body)
        } else {
            raw_body.clone()
        },
        headers: map,
        raw_body,
        at: Instant::now(),
    };
    let reply = {
        let mut inner = inner.lock().unwrap();
        inner.requests.push(received);
        let next = inner.queue.pop_front();
        next.unwrap_or_else(|| inner.default.clone())
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (
        StatusCode::from_u16(reply.status).expect("a valid status"),
        reply.body,
    )
        .into_response();
    for (name, value) in reply.headers {
        response.headers_mut().append(
            axum::http::HeaderName::try_from(name).expect("a valid header name"),
            axum::http::HeaderValue::try_from(value).expect("a valid header value"),
        );
    }
    response
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1, port 0; it answers 200 with an empty body until told
    /// otherwise.
    pub async fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner {
            requests: vec![],
            queue: VecDeque::new(),
            default: Reply::status(200),
        }));
        let app = axum::Router::new()
            .fallback(record)
            // Byte-cap tests send bodies above axum's 2 MB default.
            .layer(DefaultBodyLimit::disable())
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, inner, task }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Queues replies for the next requests, in order; then the default answers again.
    pub fn reply_next(&self, replies: Vec<Reply>) {
        self.inner.lock().unwrap().queue.extend(replies);
    }

    /// The answer once the queue is empty.
    pub fn set_default(&self, reply: Reply) {
        self.inner.lock().unwrap().default = reply;
    }

    pub fn count(&self) -> usize {
        self.inner.lock().unwrap().requests.len()
    }

    /// Polls until `pred` holds for the requests so far; panics at the deadline.
    pub async fn wait_for(
        &self,
        deadline: Duration,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let until = Instant::now() + deadline;
        loop {
            let requests = self.requests();
            if pred(&requests) {
                return requests;
            }
            if Instant::now() >= until {
                let seen: Vec<String> = requests
                    .iter()
                    .map(|r| {
                        let id = r.headers.get("webhook-id").map_or("-", String::as_str);
                        format!("{} (webhook-id {id})", r.path)
                    })
                    .collect();
                panic!(
                    "receiver: condition not met within {deadline:?}; {} requests: {seen:?}",
                    requests.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The key a signing secret stands for: `whsec_<base64>` → the decoded bytes, anything else
/// → its UTF-8 bytes.
fn key_of(secret: &str) -> Vec<u8> {
    match secret.strip_prefix("whsec_") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("a whsec_ secret is base64"),
        None => secret.as_bytes().to_vec(),
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Standard Webhooks verification with one secret: some `v1,` entry of `webhook-signature` is
/// the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{raw body}`.
pub fn verify_webhook(secret: &str, received: &Received) -> bool {
    let (Some(id), Some(ts), Some(sigs)) = (
        received.headers.get("webhook-id"),
        received.headers.get("webhook-timestamp"),
        received.headers.get("webhook-signature"),
    ) else {
        return false;
    };
    let expected = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        &key_of(secret),
        &[id.as_bytes(), b".", ts.as_bytes(), b".", &received.raw_body],
    ));
    sigs.split(' ')
        .filter_map(|s| s.split_once(','))
        .any(|(version, sig)| version == "v1" && sig == expected)
}

/// `X-Outflow-Signature` is the hex HMAC-SHA256 of the raw body with `secret`.
pub fn verify_outflow_signature(secret: &str, received: &Received) -> bool {
    received
        .headers
        .get("x-outflow-signature")
        .is_some_and(|sig| *sig == hex::encode(hmac_sha256(&key_of(secret), &[&received.raw_body])))
}

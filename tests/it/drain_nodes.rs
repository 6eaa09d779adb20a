//! Drains across real `outflow serve` processes: kill -9 in the middle of a delivery and
//! restart; two processes on one PostgreSQL sharing drains, one killed, the survivor taking
//! over. The receiver dedupes by `webhook-id` the way a real one would; what it keeps must
//! equal the source exactly.

use crate::helpers::*;
use crate::http_receiver::{Received, Receiver, Reply};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MASTER_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

struct Node {
    child: Child,
    url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_node(db_url: &str, data_dir: &std::path::Path) -> Node {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_outflow"))
        .arg("serve")
        .env("OUTFLOW_DATA_DIR", data_dir)
        .env("OUTFLOW_DATABASE_URL", db_url)
        .env("OUTFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("OUTFLOW_INGEST_KEY", INGEST_KEY)
        .env("OUTFLOW_LOG_LEVEL", "warn")
        .env("OUTFLOW_DRAINS__MASTER_KEY", MASTER_KEY)
        .env("OUTFLOW_DRAINS__ALLOW_PRIVATE_DESTINATIONS", "true")
        .env("OUTFLOW_DRAINS__LEASE_SECONDS", "2")
        .env("OUTFLOW_DRAINS__POLL_MIN_SECONDS", "1")
        .env("OUTFLOW_DRAINS__POLL_MAX_SECONDS", "2")
        .env("OUTFLOW_DRAINS__RETRY_BASE_MS", "20")
        .env("OUTFLOW_DRAINS__CYCLE_BACKOFF_SECONDS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start outflow serve");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(Instant::now() < until, "outflow serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Node { child, url }
}

struct Api {
    client: reqwest::Client,
    key: String,
}

impl Api {
    async fn call(&self, node: &Node, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .client
            .request(method, format!("{}{path}", node.url))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

async fn ingest(client: &reqwest::Client, node: &Node, ids: &[String]) {
    let body: Vec<Value> = ids.iter().map(|id| run_record("acme", id)).collect();
    let r = client
        .post(format!("{}/v1/ingest/workflows", node.url))
        .bearer_auth(INGEST_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Sets up the organization, a key (through the library, as the CLI does) and an HTTP secret.
async fn setup(db: &TestDb, node: &Node, receiver: &Receiver) -> (Api, String) {
    let client = reqwest::Client::new();
    let r = client
        .put(format!("{}/v1/orgs/acme", node.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!({"name": "Acme", "timezone": "UTC"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let store = db.store().await;
    let (_, key) = outflow::auth::keys::create_org_key(
        &store,
        "acme",
        "test",
        outflow::store::Scope::parse_list("drains").unwrap(),
        &outflow::audit::Actor::cli(),
    )
    .await
    .unwrap();
    let api = Api { client, key };
    let secret = api
        .call(
            node,
            reqwest::Method::POST,
            "/v1/secrets",
            json!({"name": "r", "kind": "http", "url": receiver.url}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    (api, secret)
}

/// Per path: webhook-id → the run ids of that batch. Panics if one id carried two different
/// batches (a retry must resend the same batch).
fn by_batch(reqs: &[Received]) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for r in reqs
        .iter()
        .filter(|r| !r.headers.contains_key("x-outflow-preflight"))
    {
        let ids: BTreeSet<String> = r.json()["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["run_id"].as_str().unwrap().to_string())
            .collect();
        let batches = out.entry(r.path.clone()).or_default();
        if let Some(prev) = batches.get(r.header("webhook-id")) {
            assert_eq!(
                prev,
                &ids,
                "webhook-id {} resent with different records",
                r.header("webhook-id")
            );
        }
        batches.insert(r.header("webhook-id").to_string(), ids);
    }
    out
}

/// The deduplicated records of one path, asserting no record sits in two batches.
fn exactly_once(batches: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for ids in batches.values() {
        for id in ids {
            assert!(
                all.insert(id.clone()),
                "record {id} delivered in two different batches"
            );
        }
    }
    all
}

async fn wait_all(receiver: &Receiver, paths: &[String], expected: &BTreeSet<String>) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let got = by_batch(&receiver.requests());
        let done = paths.iter().all(|p| {
            got.get(p)
                .map(|b| b.values().flatten().cloned().collect::<BTreeSet<_>>())
                .is_some_and(|s| s == *expected)
        });
        if done {
            return;
        }
        assert!(
            Instant::now() < until,
            "not everything delivered: {:?}",
            got.keys()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_delivery_then_restart_delivers_exactly_the_source() {
    let db = TestDb::new(Backend::Sqlite).await;
    let receiver = Receiver::start().await;
    let node = start_node(&db.url, db.dir.path()).await;
    let (api, secret) = setup(&db, &node, &receiver).await;
    api.call(
        &node,
        reqwest::Method::POST,
        "/v1/drains",
        json!({"name": "d", "data_type": "workflows", "fields": ["run_id"],
            "destination": {"type": "http"}, "secret_id": secret}),
    )
    .await;
    // Slow answers keep a delivery in flight when the process dies.
    receiver.set_default(Reply::status(200).delay(Duration::from_millis(400)));
    let mut expected = BTreeSet::new();
    let client = reqwest::Client::new();
    for b in 0..5 {
        let ids: Vec<String> = (0..20).map(|i| format!("k{b}-{i}")).collect();
        ingest(&client, &node, &ids).await;
        expected.extend(ids);
    }
    receiver
        .wait_for(Duration::from_secs(20), |r| r.len() >= 2)
        .await;
    let mut node = node;
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    let in_flight = receiver.count();
    receiver.set_default(Reply::status(200));
    let node = start_node(&db.url, db.dir.path()).await;
    let more: Vec<String> = (0..20).map(|i| format!("after-{i}")).collect();
    ingest(&client, &node, &more).await;
    expected.extend(more);
    wait_all(&receiver, &["/".to_string()], &expected).await;
    let reqs = receiver.requests();
    let batches = by_batch(&reqs);
    assert_eq!(exactly_once(&batches["/"]), expected);
    assert!(in_flight >= 2);
    // The batch in flight at the kill was sent again, under the same webhook-id.
    let sent = reqs
        .iter()
        .filter(|r| !r.headers.contains_key("x-outflow-preflight"))
        .count();
    assert!(
        sent > batches["/"].len(),
        "expected a resend of the interrupted batch: {sent} requests, {} ids",
        batches["/"].len()
    );
    assert_chain(&reqs);
    drop(node);
}

/// The batch sequence survived the crash: every send of a batch (a resend after the kill
/// included) carried the same seq and prev, and the distinct batches are numbered 1..n
/// without a gap, each naming the one before it.
fn assert_chain(reqs: &[Received]) {
    let mut by_key: BTreeMap<&str, (i64, &str)> = BTreeMap::new();
    for r in reqs
        .iter()
        .filter(|r| !r.headers.contains_key("x-outflow-preflight"))
    {
        let seq: i64 = r.header("x-outflow-batch-seq").parse().unwrap();
        let prev = r
            .headers
            .get("x-outflow-batch-prev")
            .map(String::as_str)
            .unwrap_or("");
        let first = *by_key.entry(r.header("webhook-id")).or_insert((seq, prev));
        assert_eq!(first, (seq, prev), "a resend changed its seq or prev");
    }
    let by_seq: BTreeMap<i64, (&str, &str)> = by_key
        .iter()
        .map(|(key, (seq, prev))| (*seq, (*key, *prev)))
        .collect();
    assert_eq!(by_seq.len(), by_key.len(), "two batches share a seq");
    let seqs: Vec<i64> = by_seq.keys().copied().collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    for (seq, (_, prev)) in &by_seq {
        let expected = by_seq.get(&(seq - 1)).map(|(key, _)| *key).unwrap_or("");
        assert_eq!(*prev, expected, "seq {seq} names the batch before it");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_share_drains_and_the_survivor_takes_over() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    let a = start_node(&db.url, db.dir.path()).await;
    let b = start_node(&db.url, db.dir.path()).await;
    let (api, secret) = setup(&db, &a, &receiver).await;
    let mut paths = Vec::new();
    let mut ids = Vec::new();
    for i in 0..4 {
        // Each drain posts to its own path, so the receiver can tell them apart.
        let s = api
            .call(
                &b,
                reqwest::Method::POST,
                "/v1/secrets",
                json!({"name": format!("r{i}"), "kind": "http", "url": format!("{}/d{i}", receiver.url)}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let d = api
            .call(
                &a,
                reqwest::Method::POST,
                "/v1/drains",
                json!({"name": format!("d{i}"), "data_type": "workflows", "fields": ["run_id"],
                    "destination": {"type": "http"}, "secret_id": s}),
            )
            .await;
        ids.push(d["id"].as_str().unwrap().to_string());
        paths.push(format!("/d{i}"));
    }
    let _ = secret;
    let client = reqwest::Client::new();
    let mut expected = BTreeSet::new();
    for round in 0..3 {
        let batch: Vec<String> = (0..30).map(|i| format!("p{round}-{i}")).collect();
        ingest(&client, if round % 2 == 0 { &a } else { &b }, &batch).await;
        expected.extend(batch);
    }
    wait_all(&receiver, &paths, &expected).await;
    // Find who holds the drains and kill it without warning.
    let drains = api
        .call(&a, reqwest::Method::GET, "/v1/drains", Value::Null)
        .await;
    let holders: BTreeSet<String> = drains["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["node"].as_str().map(str::to_string))
        .collect();
    assert!(!holders.is_empty(), "{drains}");
    let (mut victim, survivor) = {
        // Whichever node the API reports as a holder; the node ids are opaque, so ask each
        // node which drains it runs via /metrics.
        let m = |n: &Node| {
            let client = client.clone();
            let url = n.url.clone();
            async move {
                client
                    .get(format!("{url}/metrics"))
                    .bearer_auth(INGEST_KEY)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            }
        };
        let running = |text: &str| -> i64 {
            text.lines()
                .find(|l| l.starts_with("outflow_drains_running_on_node"))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let ra = running(&m(&a).await);
        if ra > 0 { (a, b) } else { (b, a) }
    };
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    let after: Vec<String> = (0..30).map(|i| format!("after-{i}")).collect();
    ingest(&client, &survivor, &after).await;
    expected.extend(after);
    wait_all(&receiver, &paths, &expected).await;
    let reqs = receiver.requests();
    let batches = by_batch(&reqs);
    for p in &paths {
        assert_eq!(exactly_once(&batches[p]), expected, "{p}");
        // Each drain's sequence ran on across the takeover.
        let of_drain: Vec<Received> = reqs.iter().filter(|r| &r.path == p).cloned().collect();
        assert_chain(&of_drain);
    }
    let drains = api
        .call(&survivor, reqwest::Method::GET, "/v1/drains", Value::Null)
        .await;
    for d in drains["items"].as_array().unwrap() {
        assert_eq!(d["status"], "active");
    }
    drop(victim);
}

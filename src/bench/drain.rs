//! `outflow bench drain`: a real `outflow serve` process delivering to a local HTTP receiver
//! in this process.
//!
//! - **Latency**: single records ingested at a steady rate into an organization with an active
//!   drain; ingest request start → arrival at the receiver, p50/p99. Baseline: the ingest
//!   request's own round trip in the same run.
//! - **Throughput**: a backlog stored before the drain exists, drained by a drain whose
//!   `start_ts` lies in the past (NDJSON, 1,000 records a request). Baseline: the same number
//!   of equally sized NDJSON requests posted straight to the receiver by this process.
//! - **Idle drains**: N active drains with nothing to deliver; the server's CPU share and RSS
//!   over a window, beside the same server with no drains.

use super::BenchBackend;
use super::support::{Scratch, Server, cpu_seconds, median, rss_mb};
use crate::audit::Actor;
use crate::domain::DataType;
use crate::drain::dest::config::{HttpFormat, OtlpEncoding};
use crate::drain::dest::{DestinationConfig, SecretPayload};
use crate::drain::model::{Drain, DrainScope, DrainStatus};
use crate::drain::secrets::{self, SecretBox, SecretInfo};
use crate::export::spec::TeamScope;
use crate::store::{RecordBatch, Store};
use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ORG: &str = "bench";
const INGEST_KEY: &str = "ofi_bench_ingest_key";
const MASTER_KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

/// Options of `outflow bench drain`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchDrainArgs {
    /// Backends to measure.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: BenchBackend,
    /// Run only these parts (repeat or separate with commas); all three when absent.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Part>,
    /// Single-record ingests for the latency figure.
    #[arg(long, default_value_t = 300)]
    pub latency_records: usize,
    /// Ingests per second for the latency figure.
    #[arg(long, default_value_t = 20)]
    pub rate: u32,
    /// Records in the backlog for the throughput figure.
    #[arg(long, default_value_t = 1_000_000)]
    pub backlog: usize,
    /// Backlog runs, each on a fresh database: every run's figure, their median and spread.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// `VACUUM (ANALYZE)` the backlog before the drain starts (PostgreSQL): the drain then
    /// reads rows whose hint bits are set, and autovacuum does not start during it.
    #[arg(long)]
    pub vacuum: bool,
    /// Idle drains for the idle figure (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    pub idle_drains: usize,
    /// Seconds over which idle CPU is measured.
    #[arg(long, default_value_t = 30)]
    pub idle_seconds: u64,
    /// PostgreSQL server URL; a fresh database is created on it and dropped afterwards.
    #[arg(
        long,
        env = "OUTFLOW_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,
}

/// A part of the benchmark, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Single-record ingest → receiver latency.
    Latency,
    /// Backlog throughput.
    Backlog,
    /// Idle drains' CPU and memory.
    Idle,
}

impl BenchDrainArgs {
    /// Whether `part` runs: every part unless `--only` names some.
    fn wants(&self, part: Part) -> bool {
        self.only.is_empty() || self.only.contains(&part)
    }
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// run_id → arrival.
    arrivals: HashMap<String, Instant>,
    /// NDJSON records counted.
    lines: u64,
    requests: u64,
}

struct Receiver {
    url: String,
    seen: Arc<Mutex<Seen>>,
    _task: tokio::task::JoinHandle<()>,
}

async fn receive(State(seen): State<Arc<Mutex<Seen>>>, headers: HeaderMap, body: Bytes) {
    let now = Instant::now();
    let ndjson = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("ndjson"));
    if ndjson {
        let n = body.iter().filter(|b| **b == b'\n').count() as u64;
        let mut s = seen.lock().unwrap();
        s.lines += n;
        s.requests += 1;
        return;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return;
    };
    let mut s = seen.lock().unwrap();
    s.requests += 1;
    for r in v["records"].as_array().into_iter().flatten() {
        if let Some(id) = r["run_id"].as_str() {
            s.arrivals.entry(id.to_string()).or_insert(now);
        }
    }
}

async fn start_receiver() -> anyhow::Result<Receiver> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = axum::Router::new()
        .fallback(receive)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Receiver {
        url,
        seen,
        _task: task,
    })
}

fn env(extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut e = vec![
        ("OUTFLOW_DRAINS__MASTER_KEY", MASTER_KEY.to_string()),
        ("OUTFLOW_DRAINS__ALLOW_PRIVATE_DESTINATIONS", "true".into()),
    ];
    e.extend(extra.iter().cloned());
    e
}

async fn scratch(args: &BenchDrainArgs, postgres: bool, label: &str) -> anyhow::Result<Scratch> {
    if postgres {
        Scratch::postgres(&args.postgres_url, label).await
    } else {
        Scratch::sqlite()
    }
}

/// The organization, stored through the library.
async fn store_with_org(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url, 4).await?;
    store.migrate().await?;
    store
        .upsert_org(
            &crate::domain::Id::parse(ORG)?,
            &serde_json::from_value(json!({"name": "Bench"}))?,
        )
        .await?;
    Ok(store)
}

/// A sealed HTTP secret pointing at `url`.
async fn http_secret(store: &Store, url: &str) -> anyhow::Result<String> {
    let secrets_box = SecretBox::from_key(&hex::decode(MASTER_KEY)?);
    let info = SecretInfo {
        id: secrets::new_id(),
        name: "receiver".into(),
        kind: "http".into(),
        created_at: Utc::now(),
    };
    let payload = SecretPayload::Http {
        url: url.to_string(),
        authorization: None,
        signing_secrets: vec!["whsec_YmVuY2gtc2lnbmluZy1zZWNyZXQ=".into()],
    };
    let sealed = secrets_box.seal(ORG, &info.id, &payload);
    secrets::insert(
        store,
        ORG,
        &info,
        &sealed,
        &RecordBatch::new(DataType::AuditLogs),
    )
    .await?;
    Ok(info.id)
}

/// Stores an active drain without a preflight (the benchmark's own receiver is up).
async fn insert_drain(
    store: &Store,
    secret: &str,
    format: HttpFormat,
    cursor: i64,
    start_ts: Option<chrono::DateTime<Utc>>,
) -> anyhow::Result<String> {
    let now = Utc::now();
    let id = crate::drain::repo::new_id();
    let drain = Drain {
        id: id.clone(),
        org_id: ORG.into(),
        name: "bench".into(),
        data_type: DataType::Workflows,
        scope: DrainScope {
            fields: vec!["run_id".into(), "user_email".into(), "credit_cost".into()],
            teams: TeamScope::everything(),
            entity_ids: vec![],
            category: None,
            permission_group: None,
            event_types: vec![],
            hide_child_runs: false,
        },
        destination: DestinationConfig::Http {
            format,
            otlp_encoding: OtlpEncoding::Protobuf,
            gzip: false,
            max_body_bytes: crate::drain::dest::config::DEFAULT_MAX_BODY_BYTES,
        },
        secret_id: secret.into(),
        status: DrainStatus::Active,
        status_reason: None,
        cursor_pos: cursor,
        pending_last: None,
        failed_cycles: 0,
        batch_seq: 0,
        batch_prev: None,
        start_pos: 0,
        records_delivered: 0,
        last_synced_at: None,
        oldest_pending_at: None,
        oldest_ingested_at: None,
        start_ts,
        lease_owner: None,
        lease_until: None,
        created_by: Actor::cli().user_id,
        created_at: now,
        updated_at: now,
    };
    crate::drain::repo::insert(store, &drain, &RecordBatch::new(DataType::AuditLogs)).await?;
    Ok(id)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the benchmark.
pub async fn run(args: BenchDrainArgs) -> anyhow::Result<()> {
    for (postgres, name) in [(false, "sqlite"), (true, "postgres")] {
        let wanted = match args.backend {
            BenchBackend::Sqlite => !postgres,
            BenchBackend::Postgres => postgres,
            BenchBackend::Both => true,
        };
        if !wanted {
            continue;
        }
        println!("== bench drain on {name}");
        if args.wants(Part::Latency) {
            latency(&args, postgres).await?;
        }
        if args.backlog > 0 && args.wants(Part::Backlog) {
            throughput(&args, postgres).await?;
        }
        if args.idle_drains > 0 && args.wants(Part::Idle) {
            idle(&args, postgres).await?;
        }
    }
    Ok(())
}

async fn latency(args: &BenchDrainArgs, postgres: bool) -> anyhow::Result<()> {
    let db = scratch(args, postgres, "drain_latency").await?;
    let store = store_with_org(&db.url).await?;
    let receiver = start_receiver().await?;
    let secret = http_secret(&store, &receiver.url).await?;
    let head = store.head_position(DataType::Workflows, ORG).await?;
    insert_drain(&store, &secret, HttpFormat::Json, head, None).await?;
    store.close().await;
    let server = Server::start_with(&db.url, INGEST_KEY, &env(&[])).await?;
    let client = reqwest::Client::new();
    let endpoint = format!("{}/v1/ingest/workflows", server.url);
    // Let the node claim the drain before the clock matters.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let period = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let mut sent: Vec<(String, Instant)> = Vec::new();
    let mut acks = Vec::new();
    let mut tick = tokio::time::interval(period);
    for i in 0..args.latency_records {
        tick.tick().await;
        let body = json!([super::ingest::record(7, i)]);
        let id = body[0]["run_id"].as_str().unwrap_or_default().to_string();
        let t0 = Instant::now();
        client
            .post(&endpoint)
            .bearer_auth(INGEST_KEY)
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        acks.push(t0.elapsed().as_secs_f64() * 1000.0);
        sent.push((id, t0));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let lat: Vec<f64> = loop {
        {
            let seen = receiver.seen.lock().unwrap();
            if sent.iter().all(|(id, _)| seen.arrivals.contains_key(id)) {
                break sent
                    .iter()
                    .map(|(id, t0)| seen.arrivals[id].duration_since(*t0).as_secs_f64() * 1000.0)
                    .collect();
            }
        }
        if Instant::now() > deadline {
            bail!("not every record reached the receiver within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut lat = lat;
    lat.sort_by(|a, b| a.total_cmp(b));
    acks.sort_by(|a, b| a.total_cmp(b));
    println!(
        "latency   {} single-record ingests at {}/s: ingest→receiver p50 {:.1} ms, p99 {:.1} ms (goal ≤ 100 / ≤ 500); baseline ingest round trip p50 {:.1} ms, p99 {:.1} ms",
        args.latency_records,
        args.rate,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&acks, 0.5),
        percentile(&acks, 0.99),
    );
    drop(server);
    db.drop_db().await?;
    Ok(())
}

async fn throughput(args: &BenchDrainArgs, postgres: bool) -> anyhow::Result<()> {
    let receiver = start_receiver().await?;
    let mut rates = Vec::new();
    for run in 1..=args.runs.max(1) {
        let r = backlog_run(args, postgres, &receiver).await?;
        println!(
            "backlog   run {run}: {} records drained in {:.2} s: {:.0} records/s; server peak RSS {:.1} MB{}",
            args.backlog, r.secs, r.rate, r.peak_mb, r.note
        );
        rates.push(r.rate);
    }
    let (lo, hi) = rates
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let rate = median(rates.clone());

    // Baseline: the same number of 1,000-line NDJSON requests, straight to the receiver.
    let line = format!(
        "{}\n",
        json!({"run_id": "r9-000000001", "user_email": "user1@acme.example", "credit_cost": 0.25, "pl_run_created_ts": "2026-01-01T00:00:00.000000Z"})
    );
    let body = Bytes::from(line.repeat(1000));
    let client = reqwest::Client::new();
    let requests = args.backlog.div_ceil(1000);
    let mut samples = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        for _ in 0..requests {
            client
                .post(&receiver.url)
                .header("content-type", "application/x-ndjson")
                .body(body.clone())
                .send()
                .await?
                .error_for_status()?;
        }
        samples.push(args.backlog as f64 / t0.elapsed().as_secs_f64());
    }
    let base = median(samples);
    println!(
        "backlog   {} records, median of {} run(s): {:.0} records/s (goal ≥ 200,000; runs {:.0}–{:.0}, spread {:.0} %); baseline posting the same requests directly {:.0} records/s; ratio {:.2}",
        args.backlog,
        args.runs.max(1),
        rate,
        lo,
        hi,
        (hi - lo) / rate * 100.0,
        base,
        rate / base,
    );
    Ok(())
}

/// One backlog run's figures.
struct BacklogRun {
    rate: f64,
    secs: f64,
    peak_mb: f64,
    /// What PostgreSQL did to the table around the run (vacuum, autovacuum).
    note: String,
}

/// Stores the backlog in a fresh database, then times a server draining it to `receiver`.
async fn backlog_run(
    args: &BenchDrainArgs,
    postgres: bool,
    receiver: &Receiver,
) -> anyhow::Result<BacklogRun> {
    let db = scratch(args, postgres, "drain_backlog").await?;
    let store = store_with_org(&db.url).await?;
    let records: Vec<serde_json::Value> = (0..args.backlog)
        .map(|i| super::ingest::record(9, i))
        .collect();
    for chunk in records.chunks(10_000) {
        let batch = crate::ingest::validate(DataType::Workflows, chunk.to_vec()).0;
        store.insert_records(&batch).await?;
    }
    drop(records);
    if postgres && args.vacuum {
        store.execute("VACUUM (ANALYZE) workflow_runs", &[]).await?;
    }
    let before = autovacuums(&store, postgres).await?;
    let start = receiver.seen.lock().unwrap().lines;
    let secret = http_secret(&store, &receiver.url).await?;
    let start_ts = chrono::DateTime::parse_from_rfc3339("2000-01-01T00:00:00Z")?.to_utc();
    insert_drain(&store, &secret, HttpFormat::Ndjson, 0, Some(start_ts)).await?;
    store.close().await;

    let load = load_average();
    let watch = Store::connect(&db.url, 1).await?;
    let mut longest = 0.0f64;
    let server = Server::start_with(&db.url, INGEST_KEY, &env(&[])).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(1800);
    let mut polls = 0u64;
    loop {
        if receiver.seen.lock().unwrap().lines - start >= args.backlog as u64 {
            break;
        }
        if Instant::now() > deadline {
            bail!("the backlog was not drained within 30 minutes");
        }
        polls += 1;
        if postgres && polls.is_multiple_of(25) {
            longest = longest.max(longest_transaction(&watch).await?);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let peak_mb = server.pid().and_then(rss_mb).map_or(0.0, |(peak, _)| peak);
    drop(server);
    let store = watch;
    let after = autovacuums(&store, postgres).await?;
    store.close().await;
    db.drop_db().await?;
    let note = match (postgres, args.vacuum) {
        (false, _) => format!("; load average before {load}"),
        (true, vacuumed) => format!(
            "; load average before {load}; {}during the drain: {} autovacuum/autoanalyze of \
             workflow_runs, {} checkpoint(s), longest open transaction in the cluster {:.1} s \
             (it holds back the drain's visibility horizon)",
            if vacuumed { "vacuumed first; " } else { "" },
            after.0 - before.0,
            after.1 - before.1,
            longest
        ),
    };
    Ok(BacklogRun {
        rate: args.backlog as f64 / secs,
        secs,
        peak_mb,
        note,
    })
}

/// PostgreSQL's counters that could explain a slow run: autovacuum and autoanalyze runs on the
/// backlog's table, and the server's checkpoints (timed or requested: WAL from the inserts).
/// Zeros on SQLite.
async fn autovacuums(store: &Store, postgres: bool) -> anyhow::Result<(i64, i64)> {
    if !postgres {
        return Ok((0, 0));
    }
    let integer = crate::domain::FieldType::Integer;
    let rows = store
        .query(
            "SELECT (SELECT autovacuum_count + autoanalyze_count FROM pg_stat_user_tables \
             WHERE relname = 'workflow_runs'), \
             (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)",
            &[],
            &[integer, integer],
        )
        .await?;
    let at = |i: usize| rows.first().and_then(|r| r[i].as_i64()).unwrap_or_default();
    Ok((at(0), at(1)))
}

/// Age in seconds of the oldest transaction holding a transaction id anywhere in the cluster
/// (other databases included): drains on PostgreSQL do not read past positions such a
/// transaction could still commit below (`store::postgres::position`).
async fn longest_transaction(store: &Store) -> anyhow::Result<f64> {
    let rows = store
        .query(
            "SELECT COALESCE(EXTRACT(EPOCH FROM MAX(now() - xact_start)), 0)::float8 \
             FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
            &[],
            &[crate::domain::FieldType::Number],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| match r[0] {
            crate::store::Value::Number(n) => Some(n),
            _ => None,
        })
        .unwrap_or_default())
}

/// The machine's one-minute load average (other work on a shared machine moves the figures).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

async fn idle(args: &BenchDrainArgs, postgres: bool) -> anyhow::Result<()> {
    let window = Duration::from_secs(args.idle_seconds.max(1));
    // Baseline: the same server with no drains.
    let db = scratch(args, postgres, "drain_idle0").await?;
    store_with_org(&db.url).await?.close().await;
    let server = Server::start_with(&db.url, INGEST_KEY, &env(&[])).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (base_cpu, base_rss) = sample(&server, window).await?;
    drop(server);
    db.drop_db().await?;

    let db = scratch(args, postgres, "drain_idle").await?;
    let store = store_with_org(&db.url).await?;
    let receiver = start_receiver().await?;
    let secret = http_secret(&store, &receiver.url).await?;
    let head = store.head_position(DataType::Workflows, ORG).await?;
    for _ in 0..args.idle_drains {
        insert_drain(&store, &secret, HttpFormat::Json, head, None).await?;
    }
    store.close().await;
    let server = Server::start_with(&db.url, INGEST_KEY, &env(&[])).await?;
    // Wait until the node runs every drain, then let start-up settle.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let text = client
            .get(format!("{}/metrics", server.url))
            .bearer_auth(INGEST_KEY)
            .send()
            .await?
            .text()
            .await?;
        let running = text
            .lines()
            .find(|l| l.starts_with("outflow_drains_running_on_node"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        if running >= args.idle_drains {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "only {running} of {} drains started within 5 minutes",
                args.idle_drains
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (cpu, rss) = sample(&server, window).await?;
    println!(
        "idle      {} active idle drains: {:.2} % of one core, RSS {:.1} MB (goal < 5 %, < 256 MB); baseline without drains {:.2} %, {:.1} MB",
        args.idle_drains,
        cpu * 100.0,
        rss,
        base_cpu * 100.0,
        base_rss
    );
    drop(server);
    db.drop_db().await?;
    Ok(())
}

/// Share of one core used over `window`, and RSS at its end.
async fn sample(server: &Server, window: Duration) -> anyhow::Result<(f64, f64)> {
    let pid = server.pid().context("server has no pid")?;
    let c0 = cpu_seconds(pid).context("cannot read /proc")?;
    let t0 = Instant::now();
    tokio::time::sleep(window).await;
    let c1 = cpu_seconds(pid).context("cannot read /proc")?;
    let share = (c1 - c0) / t0.elapsed().as_secs_f64();
    let rss = rss_mb(pid).map_or(0.0, |(_, now)| now);
    Ok((share, rss))
}

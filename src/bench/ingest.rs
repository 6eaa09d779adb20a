//! `outflow bench ingest`: records/s of batched HTTP ingest into a real `outflow serve`
//! process, per backend, beside the baseline of the same records stored in-process through
//! `Store::insert_records` (no HTTP, no JSON) — the gap is the API's cost — and the same
//! in-process ingest with usage-rollup maintenance turned off: what the rollups cost.
//!
//! Beside them, the **floor**: the same ingest maintaining only [`FLOOR`], the least rollup
//! the 15-minute granularity allows for this stream (one table by quarter hour and
//! team, nothing else), in the same transaction. No set of rollups that keeps every zone
//! exact from tables written at ingest can cost less on these records, so its ratio bounds
//! what any such design reaches here.

use super::BenchBackend;
use super::support::{Scratch, Server, median};
use crate::domain::DataType;
use crate::store::Store;
use crate::store::rollups::{self, Families, Family};
use anyhow::{Context, bail};
use clap::Args;
use futures::StreamExt;
use serde_json::json;
use std::time::Instant;

const ORG: &str = "bench";
const INGEST_KEY: &str = "ofi_bench_ingest_key";

/// The floor: workflow runs by quarter hour and team, with the runs' measures (the daily
/// family's shape at 15 minutes, in a table the benchmark creates).
pub const FLOOR: Family = Family {
    table: "bench_floor_runs",
    slot_seconds: rollups::SLOT_SECONDS,
    coarse: None,
    ..rollups::RUNS_DAILY
};

static ONLY_FLOOR: [&Family; 1] = [&FLOOR];

/// Options of `outflow bench ingest`.
#[derive(Debug, Clone, Args)]
pub struct BenchIngestArgs {
    /// Backends to measure.
    #[arg(long, value_enum, default_value = "both")]
    pub backend: BenchBackend,
    /// Records sent per run.
    #[arg(long, default_value_t = 200_000)]
    pub records: usize,
    /// Records per request.
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Runs per backend; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// PostgreSQL server URL; a fresh database is created on it and dropped afterwards.
    #[arg(
        long,
        env = "OUTFLOW_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,
}

/// Runs the benchmark and prints one line per backend.
pub async fn run(args: BenchIngestArgs) -> anyhow::Result<()> {
    println!(
        "bench ingest: {} workflow-run records per run, batches of {}, {} in flight, {} runs (medians)",
        args.records, args.batch, args.concurrency, args.runs
    );
    println!(
        "{:<10} {:>16} {:>22} {:>8} {:>22} {:>14} {:>14}",
        "backend",
        "http records/s",
        "baseline records/s",
        "ratio",
        "no-rollups records/s",
        "rollups ratio",
        "floor ratio"
    );
    if matches!(args.backend, BenchBackend::Sqlite | BenchBackend::Both) {
        let m = measure(&args, false).await?;
        report("sqlite", m);
    }
    if matches!(args.backend, BenchBackend::Postgres | BenchBackend::Both) {
        let m = measure(&args, true).await?;
        report("postgres", m);
    }
    Ok(())
}

/// Medians of one backend: over HTTP, in-process, in-process without rollups, and
/// in-process with only the floor's.
struct Measured {
    http: f64,
    direct: f64,
    unrolled: f64,
    floor: f64,
}

fn report(backend: &str, m: Measured) {
    println!(
        "{backend:<10} {:>16.0} {:>22.0} {:>8.2} {:>22.0} {:>14.2} {:>14.2}",
        m.http,
        m.direct,
        m.http / m.direct,
        m.unrolled,
        m.direct / m.unrolled,
        m.floor / m.unrolled
    );
}

async fn scratch(args: &BenchIngestArgs, postgres: bool, label: &str) -> anyhow::Result<Scratch> {
    if postgres {
        Scratch::postgres(&args.postgres_url, label).await
    } else {
        Scratch::sqlite()
    }
}

/// Median records/s over HTTP, in-process, in-process without rollups, and with the floor's.
async fn measure(args: &BenchIngestArgs, postgres: bool) -> anyhow::Result<Measured> {
    let mut http = Vec::new();
    let mut direct = Vec::new();
    let mut unrolled = Vec::new();
    let mut floor = Vec::new();
    for run in 0..args.runs {
        let db = scratch(args, postgres, "http").await?;
        http.push(http_run(args, &db.url, run).await?);
        db.drop_db().await?;
        let db = scratch(args, postgres, "direct").await?;
        direct.push(direct_run(args, &db.url, run, &rollups::FAMILIES).await?);
        db.drop_db().await?;
        let db = scratch(args, postgres, "unrolled").await?;
        unrolled.push(direct_run(args, &db.url, run, &[]).await?);
        db.drop_db().await?;
        let db = scratch(args, postgres, "floor").await?;
        floor.push(direct_run(args, &db.url, run, &ONLY_FLOOR).await?);
        db.drop_db().await?;
    }
    Ok(Measured {
        http: median(http),
        direct: median(direct),
        unrolled: median(unrolled),
        floor: median(floor),
    })
}

/// One realistic workflow-run record (`run`, `i` make its id).
pub(super) fn record(run: usize, i: usize) -> serde_json::Value {
    let minute = i % 525_600;
    json!({
        "org_id": ORG,
        "run_id": format!("r{run}-{i:09}"),
        "workspace_id": format!("team-{}", i % 12),
        "workspace_name": format!("Team {}", i % 12),
        "workbook_id": format!("wb-{}", i % 300),
        "workbook_name": format!("Workbook {}", i % 300),
        "workbook_created_ts": "2025-06-01T09:00:00Z",
        "user_id": format!("u-{}", i % 150),
        "user_email": format!("user{}@acme.example", i % 150),
        "run_status": "success",
        "credit_cost": (i % 97) as f64 * 0.25,
        "pl_run_created_ts": format!("2026-{:02}-{:02}T{:02}:{:02}:00Z", 1 + minute / 43_800 % 12, 1 + minute / 1_440 % 28, minute / 60 % 24, minute % 60),
        "pl_run_finished_ts": format!("2026-{:02}-{:02}T{:02}:{:02}:30Z", 1 + minute / 43_800 % 12, 1 + minute / 1_440 % 28, minute / 60 % 24, minute % 60),
    })
}

fn batches(args: &BenchIngestArgs, run: usize) -> Vec<Vec<serde_json::Value>> {
    (0..args.records)
        .map(|i| record(run, i))
        .collect::<Vec<_>>()
        .chunks(args.batch)
        .map(<[_]>::to_vec)
        .collect()
}

async fn http_run(args: &BenchIngestArgs, url: &str, run: usize) -> anyhow::Result<f64> {
    let server = Server::start(url, INGEST_KEY).await?;
    let client = reqwest::Client::new();
    client
        .put(format!("{}/v1/orgs/{ORG}", server.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!({"name": "Bench"}))
        .send()
        .await?
        .error_for_status()?;
    // Bodies are serialized before the clock starts: the figure is the server's, not ours.
    let bodies: Vec<Vec<u8>> = batches(args, run)
        .iter()
        .map(serde_json::to_vec)
        .collect::<Result<_, _>>()?;
    let endpoint = format!("{}/v1/ingest/workflows", server.url);
    let started = Instant::now();
    let results: Vec<anyhow::Result<u64>> = futures::stream::iter(bodies)
        .map(|body| {
            let req = client
                .post(&endpoint)
                .bearer_auth(INGEST_KEY)
                .header("content-type", "application/json")
                .body(body);
            async move {
                let resp: serde_json::Value = req.send().await?.error_for_status()?.json().await?;
                resp["accepted"].as_u64().context("no accepted count")
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let accepted: u64 = results.into_iter().sum::<anyhow::Result<u64>>()?;
    if accepted != args.records as u64 {
        bail!("server accepted {accepted} of {} records", args.records);
    }
    Ok(args.records as f64 / elapsed)
}

async fn direct_run(
    args: &BenchIngestArgs,
    url: &str,
    run: usize,
    families: Families,
) -> anyhow::Result<f64> {
    let store = Store::connect(url, 4).await?;
    store.migrate().await?;
    if families.iter().any(|f| f.table == FLOOR.table) {
        create_floor(&store).await?;
    }
    store.set_rollup_families(families);
    let org = crate::domain::Id::parse(ORG)?;
    store
        .upsert_org(&org, &serde_json::from_value(json!({"name": "Bench"}))?)
        .await?;
    let validated: Vec<_> = batches(args, run)
        .into_iter()
        .map(|b| crate::ingest::validate(DataType::Workflows, b).0)
        .collect();
    let started = Instant::now();
    let mut accepted = 0;
    for batch in &validated {
        accepted += store.insert_records(batch).await?.accepted;
    }
    let elapsed = started.elapsed().as_secs_f64();
    if accepted != args.records as u64 {
        bail!("store accepted {accepted} of {} records", args.records);
    }
    // Every table maintained counts every record: the rollups did their work.
    for family in families
        .iter()
        .filter(|f| f.measures.iter().any(|m| m.col == "runs"))
    {
        let rows = store
            .query(
                &format!("SELECT CAST(SUM(runs) AS BIGINT) FROM {}", family.table),
                &[],
                &[crate::domain::FieldType::Integer],
            )
            .await?;
        let runs = rows.first().and_then(|r| r[0].as_i64()).unwrap_or_default();
        if runs != args.records as i64 {
            bail!("{} counts {runs} of {} runs", family.table, args.records);
        }
    }
    store.close().await;
    Ok(args.records as f64 / elapsed)
}

/// Creates [`FLOOR`]'s table with the daily runs table's columns, key and index.
async fn create_floor(store: &Store) -> anyhow::Result<()> {
    let like = rollups::RUNS_DAILY.table;
    let statements = if store.dialect() == rollups::Dialect::Postgres {
        vec![format!(
            "CREATE TABLE {} (LIKE {like} INCLUDING ALL)",
            FLOOR.table
        )]
    } else {
        let rows = store
            .query(
                "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
                &[like.into()],
                &[crate::domain::FieldType::Text],
            )
            .await?;
        rows.iter()
            .filter_map(|r| r[0].as_text())
            .map(|sql| sql.replace(like, FLOOR.table))
            .collect()
    };
    if statements.is_empty() {
        bail!("no table {like} to copy the floor's from");
    }
    for sql in statements {
        store.execute(&sql, &[]).await?;
    }
    Ok(())
}

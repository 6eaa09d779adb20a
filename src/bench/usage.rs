//! `outflow bench usage`: the latency of a year-long usage query answered from the rollups,
//! beside the same answer computed by a GROUP BY over the raw records in the same run.
//!
//! The demo organization at `--scale N` is seeded into a fresh database (through the normal
//! ingest path, so its rollups are maintained as in production); then 13 months × daily
//! buckets × `group_by=team` × `credits,runs` in the organization's zone is asked `--calls`
//! times through [`Usage::run`] (the service `GET /v1/usage` calls, without HTTP), and
//! `--baseline-calls` times with `raw` set (one GROUP BY over the raw rows of the whole
//! window, the page cut afterwards), each after one call that is not timed. The two answers must be equal, or the benchmark fails.
//!
//! A call answers the first page (up to 1,000 buckets × groups), which the rollups read a few
//! days at a time. So that the figure does not rest on that alone, a second line measures the
//! whole answer in one page: the rollups over every bucket against the raw GROUP BY, and the
//! time to walk every default-size page with the cursor. Those answers must be equal too.

use super::BenchBackend;
use super::support::Scratch;
use crate::store::Store;
use crate::usage::{Usage, UsageParams, request};
use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use std::time::Instant;

/// Options of `outflow bench usage`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchUsageArgs {
    /// Demo scale (8 ≈ 1.8M records).
    #[arg(long, default_value_t = 1)]
    pub scale: u32,
    /// Backends to measure.
    #[arg(long, value_enum, default_value = "both")]
    pub backend: BenchBackend,
    /// Calls answered from the rollups.
    #[arg(long, default_value_t = 50)]
    pub calls: usize,
    /// Calls answered from the raw records (each reads every row of the window).
    #[arg(long, default_value_t = 5)]
    pub baseline_calls: usize,
    /// PostgreSQL server URL; a fresh database is created on it and dropped afterwards.
    #[arg(
        long,
        env = "OUTFLOW_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,
}

/// Runs the benchmark and prints one line per backend.
pub async fn run(args: BenchUsageArgs) -> anyhow::Result<()> {
    println!(
        "bench usage: demo scale {}, 13 months x 1d x group_by=team x credits,runs; \
         rollups over {} calls, raw GROUP BY over {} calls",
        args.scale, args.calls, args.baseline_calls
    );
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "backend", "records", "seed s", "p50 ms", "p95 ms", "raw p50", "raw p95", "speedup"
    );
    if matches!(args.backend, BenchBackend::Sqlite | BenchBackend::Both) {
        let scratch = Scratch::sqlite()?;
        measure("sqlite", &scratch, &args).await?;
    }
    if matches!(args.backend, BenchBackend::Postgres | BenchBackend::Both) {
        let scratch = Scratch::postgres(&args.postgres_url, "usage").await?;
        let result = measure("postgres", &scratch, &args).await;
        scratch.drop_db().await?;
        result?;
    }
    Ok(())
}

async fn measure(label: &str, scratch: &Scratch, args: &BenchUsageArgs) -> anyhow::Result<()> {
    let store = Store::connect(&scratch.url, 4).await?;
    store.migrate().await?;
    let started = Instant::now();
    let seeded = crate::demo::seed(&store, args.scale).await?;
    let seed_s = started.elapsed().as_secs_f64();
    if store.dialect() == crate::store::rollups::Dialect::Postgres {
        // Fresh tables have no planner statistics, no visibility map and no hint bits until
        // autovacuum's next round (a minute or more); without statistics PostgreSQL scans a
        // whole table per bucket, and the first reads of every page write its hint bits. A
        // server that has been running has all three, so make them now rather than time the
        // gap.
        store.execute("VACUUM ANALYZE", &[]).await?;
    }
    let records: i64 = seeded.counts.iter().map(|(_, n)| n).sum();
    let org = store
        .get_org(&seeded.org_id)
        .await?
        .context("the demo organization exists")?;
    let today = Utc::now().date_naive();
    let params = UsageParams {
        metrics: Some("credits,runs".into()),
        start: Some((today - Duration::days(395)).to_string()),
        end: Some(today.to_string()),
        bucket: Some("1d".into()),
        group_by: Some("team".into()),
        ..Default::default()
    };
    let now = Utc::now();
    let mut q = request::validate(&params, &org, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let usage = Usage::new(store.clone());
    let (rolled, fast) = timed(&usage, &org, &q, args.calls).await?;
    q.raw = true;
    let (raw, slow) = timed(&usage, &org, &q, args.baseline_calls).await?;
    if serde_json::to_value(&rolled)? != serde_json::to_value(&raw)? {
        bail!("{label}: the rollups' answer differs from the raw records'");
    }
    let (p50, p95) = (quantile(&fast, 0.5), quantile(&fast, 0.95));
    let (r50, r95) = (quantile(&slow, 0.5), quantile(&slow, 0.95));
    println!(
        "{label:<10} {records:>10} {seed_s:>10.1} {p50:>10.1} {p95:>10.1} {r50:>10.1} {r95:>9.1} {:>8.1}x",
        r50 / p50
    );
    // What the query reads: the raw rows against the rollup rows of each granularity.
    let mut sizes = Vec::new();
    for table in [
        "credit_logs",
        "usage_credits",
        "usage_credits_hourly",
        "workflow_runs",
        "usage_runs",
        "usage_runs_hourly",
    ] {
        let rows = store
            .query(
                &format!("SELECT COUNT(*) FROM {table}"),
                &[],
                &[crate::domain::FieldType::Integer],
            )
            .await?;
        let n = rows.first().and_then(|r| r[0].as_i64()).unwrap_or_default();
        sizes.push(format!("{table} {n}"));
    }
    println!("{label:<10} rows: {}", sizes.join(", "));
    // The whole answer at once, and walked page by page.
    let mut whole = q.clone();
    whole.page_size = usize::MAX / 2;
    whole.raw = false;
    let (all_rolled, all_fast) = timed(&usage, &org, &whole, args.baseline_calls).await?;
    whole.raw = true;
    let (all_raw, all_slow) = timed(&usage, &org, &whole, args.baseline_calls).await?;
    if serde_json::to_value(&all_rolled)? != serde_json::to_value(&all_raw)? {
        bail!("{label}: the rollups' whole answer differs from the raw records'");
    }
    let mut walk = Vec::new();
    let mut pages = 0;
    for _ in 0..args.baseline_calls.max(1) {
        let started = Instant::now();
        let mut params = params.clone();
        let mut groups = 0;
        pages = 0;
        loop {
            let q = request::validate(&params, &org, now).map_err(|e| anyhow::anyhow!("{e}"))?;
            let page = usage.run(&org, &q).await?;
            pages += 1;
            groups += page.buckets.iter().map(|b| b.groups.len()).sum::<usize>();
            match page.next_page {
                Some(c) => params.cursor = Some(c),
                None => break,
            }
        }
        walk.push(started.elapsed().as_secs_f64() * 1000.0);
        let whole_groups: usize = all_rolled.buckets.iter().map(|b| b.groups.len()).sum();
        if groups != whole_groups {
            bail!("{label}: the pages hold {groups} groups, the whole answer {whole_groups}");
        }
    }
    let (w50, r50) = (quantile(&all_fast, 0.5), quantile(&all_slow, 0.5));
    println!(
        "{label:<10} whole answer ({} buckets, {} groups): rollups p50 {w50:.1} ms, raw p50 \
         {r50:.1} ms, {:.1}x; every page walked ({pages} pages): p50 {:.1} ms",
        all_rolled.buckets.len(),
        all_rolled
            .buckets
            .iter()
            .map(|b| b.groups.len())
            .sum::<usize>(),
        r50 / w50,
        quantile(&walk, 0.5),
    );
    store.close().await;
    Ok(())
}

/// The answer and the milliseconds of each of `calls` calls.
async fn timed(
    usage: &Usage,
    org: &crate::domain::entity::Org,
    q: &crate::usage::UsageQuery,
    calls: usize,
) -> anyhow::Result<(crate::usage::UsageAnswer, Vec<f64>)> {
    // One call first, not timed, for either path: what a query's first run costs (opening
    // SQLite's read connections, preparing PostgreSQL's statements) is not what it costs.
    let mut last = Some(usage.run(org, q).await?);
    let mut times = Vec::new();
    for _ in 0..calls.max(1) {
        let started = Instant::now();
        let answer = usage.run(org, q).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        last = Some(answer);
    }
    Ok((last.expect("at least one call"), times))
}

/// The nearest-rank quantile of `xs`.
fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

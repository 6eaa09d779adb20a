//! `outflow bench export`: Outflow's export end to end (the `outflow export` command as a child
//! process: connect, query, privacy, encode, write a CSV file) against the database's own CSV
//! dump of the same rows and columns in the same run — `psql -c "COPY (SELECT …) TO STDOUT
//! WITH CSV HEADER"` on PostgreSQL, `sqlite3 -csv -header` on SQLite — with Outflow's peak RSS
//! at a small and at the full size, so flat memory shows too.
//!
//! Each side's CPU time is printed too: its own processes' and the rest of the machine's
//! (on PostgreSQL, mostly the server's), since on a machine with few cores the wall-clock
//! ratio is bounded by the total CPU both sides need.
//!
//! The baselines print SQLite timestamps as raw integers (no formatting work), which favours
//! them; Outflow writes ISO 8601 everywhere.

use super::support::{CpuCost, CpuSnapshot, Scratch, median};
use crate::domain::catalog::{self, Preset};
use crate::domain::entity::{OrgInput, Privacy};
use crate::domain::{DataType, Id};
use crate::store::{Store, Value};
use anyhow::{Context, bail};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::Command;

/// The data types the benchmark can fill and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchType {
    /// Workflow runs: team-scoped, exported with every team and personal space.
    Workflows,
    /// Credit-ledger entries: organization-wide, the widest rows of the full preset.
    #[value(name = "credit_logs")]
    CreditLogs,
}

impl BenchType {
    fn data_type(self) -> DataType {
        match self {
            BenchType::Workflows => DataType::Workflows,
            BenchType::CreditLogs => DataType::CreditLogs,
        }
    }
}

/// Options of `outflow bench export`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchExportArgs {
    /// Data type filled and exported.
    #[arg(long = "type", value_enum, default_value = "workflows")]
    pub data_type: BenchType,
    /// Field preset exported (`minimal`, `default` or `full`).
    #[arg(long, default_value = "default", value_parser = parse_preset)]
    pub preset: Preset,
    /// Backends to measure.
    #[arg(long, value_enum, default_value = "both")]
    pub backend: super::BenchBackend,
    /// Rows exported (10,000,000 for the full run).
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Rows of the small size whose peak RSS is compared with the full size.
    #[arg(long, default_value_t = 100_000)]
    pub small_rows: u64,
    /// Runs per measurement; medians are reported, and the maximum peak RSS beside its median.
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

const ORG: &str = "bench";

fn parse_preset(s: &str) -> Result<Preset, String> {
    s.parse::<Preset>()
}

/// Runs the benchmark and prints its table.
pub async fn run(args: BenchExportArgs) -> anyhow::Result<()> {
    use super::BenchBackend::*;
    println!(
        "bench export: {}, {} preset ({} columns), {} rows (peak RSS also at {}), {} runs (medians)",
        args.data_type.data_type().as_str(),
        args.preset.as_str(),
        columns(&args).len(),
        args.rows,
        args.small_rows,
        args.runs
    );
    println!(
        "PostgreSQL exports read on [exports] read_streams = {} connections (OUTFLOW_EXPORTS__READ_STREAMS)",
        std::env::var("OUTFLOW_EXPORTS__READ_STREAMS").unwrap_or_else(|_| "2".into())
    );
    println!(
        "{:<10} {:>14} {:>16} {:>7} {:>14} {:>22}",
        "backend",
        "outflow rows/s",
        "baseline rows/s",
        "ratio",
        "RSS small MB",
        "RSS full MB median/max"
    );
    if matches!(args.backend, Sqlite | Both) {
        let scratch = Scratch::sqlite()?;
        measure("sqlite", &scratch, &args).await?;
    }
    if matches!(args.backend, Postgres | Both) {
        let scratch = Scratch::postgres(&args.postgres_url, "export").await?;
        let result = measure("postgres", &scratch, &args).await;
        scratch.drop_db().await?;
        result?;
    }
    Ok(())
}

async fn measure(label: &str, scratch: &Scratch, args: &BenchExportArgs) -> anyhow::Result<()> {
    let store = Store::connect(&scratch.url, 4).await?;
    store.migrate().await?;
    let org_id = Id::parse(ORG).map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .upsert_org(
            &org_id,
            &OrgInput {
                name: "Bench".into(),
                billing_anchor_day: Some(1),
                timezone: Some("UTC".into()),
                privacy: Some(Privacy::Visible),
            },
        )
        .await?;
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("export.csv");

    // Small size first: its rows are a prefix of the full size's.
    let kind = args.data_type;
    fill(&store, kind, 0, args.small_rows).await?;
    let (_, rss_small) = outflow_export(scratch, dir.path(), &out, args, args.small_rows).await?;
    fill(&store, kind, args.small_rows, args.rows).await?;
    if store.kind() == crate::store::BackendKind::Postgres {
        // The first scan after a bulk insert sets every tuple's hint bits (writing the whole
        // table back) and autovacuum soon starts on it: one-off costs that would land on
        // whichever side reads first. Settle the table before timing either.
        let table = catalog::spec(kind.data_type()).table;
        store
            .execute(&format!("VACUUM (ANALYZE) {table}"), &[])
            .await
            .context("cannot vacuum the benchmark rows")?;
    }
    store.close().await;

    let mut ours = Vec::new();
    let mut base = Vec::new();
    let (mut ours_cpu, mut base_cpu) = (Vec::new(), Vec::new());
    // Peak RSS of every full-size run: the goal holds in every run, so the maximum is shown
    // beside the median.
    let mut rss_full = Vec::new();
    for _ in 0..args.runs.max(1) {
        let before = CpuSnapshot::now();
        let (secs, rss) = outflow_export(scratch, dir.path(), &out, args, args.rows).await?;
        ours_cpu.extend(cost_since(before));
        ours.push(args.rows as f64 / secs);
        rss_full.push(rss as f64);
        let before = CpuSnapshot::now();
        let secs = baseline(scratch, &out, args, args.rows).await?;
        base_cpu.extend(cost_since(before));
        base.push(args.rows as f64 / secs);
    }
    let (ours, base) = (median(ours), median(base));
    let rss_max = rss_full.iter().copied().fold(0.0, f64::max);
    let rss_median = median(rss_full);
    println!(
        "{label:<10} {ours:>14.0} {base:>16.0} {:>7.2} {:>14.1} {:>22}",
        ours / base,
        rss_small as f64 / 1024.0,
        format!("{:.1} / {:.1}", rss_median / 1024.0, rss_max / 1024.0)
    );
    if !ours_cpu.is_empty() && !base_cpu.is_empty() {
        let per_m = 1_000_000.0 / args.rows as f64;
        let show = |costs: &[CpuCost]| {
            let client = median(costs.iter().map(|c| c.client).collect()) * per_m;
            let others = median(costs.iter().map(|c| c.others).collect()) * per_m;
            format!("{client:.2} own + {others:.2} rest of machine")
        };
        println!(
            "{:<10} CPU s per 1M rows (medians): outflow {}; baseline {}",
            "",
            show(&ours_cpu),
            show(&base_cpu)
        );
    }
    Ok(())
}

/// The CPU cost of the command that ran since `before`, where `/proc` tells it.
fn cost_since(before: Option<CpuSnapshot>) -> Option<CpuCost> {
    Some(before?.cost_until(CpuSnapshot::now()?))
}

/// Inserts rows `from..to` (one record a second from 2026-01-01 UTC) in the database itself.
async fn fill(store: &Store, kind: BenchType, from: u64, to: u64) -> anyhow::Result<()> {
    if to <= from {
        return Ok(());
    }
    let sql = match (kind, store.kind()) {
        (BenchType::CreditLogs, crate::store::BackendKind::Postgres) => {
            "INSERT INTO credit_logs (org_id, pos, user_email, user_id, permission_group_id, \
             permission_group_name, \"timestamp\", category, \"type\", name, amount, balance, log_id, \
             correlation_id, balance_scope, project_id) \
             SELECT 'bench', g, 'user' || (g % 300) || '@acme.example', 'usr_' || (g % 300), \
             'role-' || (g % 7) || '; role-' || (g % 3), 'Analyst, \"EU\" ' || (g % 7) || '; Ops', \
             TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second', \
             (ARRAY['pipeline_run', 'agent_run', 'ai_utility', 'external_gumcp_call'])[1 + g % 4], \
             (ARRAY['initial_pipeline_run', 'ai_node_cost', 'step', 'gumcp_tool_call'])[1 + g % 4], \
             'Quarterly report workflow ' || (g % 500), -((g % 1000) / 10.0), 100000 - (g % 100000) / 3.0, \
             'log-' || g, 'run-' || g, CASE WHEN g % 2 = 0 THEN 'organization' ELSE 'user' END, \
             'team-' || (g % 12) \
             FROM generate_series(?::bigint, ?::bigint - 1) AS g"
        }
        (BenchType::CreditLogs, crate::store::BackendKind::Sqlite) => {
            "WITH RECURSIVE g(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM g WHERE n + 1 < ?) \
             INSERT INTO credit_logs (org_id, pos, user_email, user_id, permission_group_id, \
             permission_group_name, \"timestamp\", category, \"type\", name, amount, balance, log_id, \
             correlation_id, balance_scope, project_id) \
             SELECT 'bench', n, 'user' || (n % 300) || '@acme.example', 'usr_' || (n % 300), \
             'role-' || (n % 7) || '; role-' || (n % 3), 'Analyst, \"EU\" ' || (n % 7) || '; Ops', \
             1767225600000000 + n * 1000000, \
             CASE n % 4 WHEN 0 THEN 'pipeline_run' WHEN 1 THEN 'agent_run' WHEN 2 THEN 'ai_utility' \
             ELSE 'external_gumcp_call' END, \
             CASE n % 4 WHEN 0 THEN 'initial_pipeline_run' WHEN 1 THEN 'ai_node_cost' WHEN 2 THEN 'step' \
             ELSE 'gumcp_tool_call' END, \
             'Quarterly report workflow ' || (n % 500), -((n % 1000) / 10.0), 100000 - (n % 100000) / 3.0, \
             'log-' || n, 'run-' || n, CASE WHEN n % 2 = 0 THEN 'organization' ELSE 'user' END, \
             'team-' || (n % 12) FROM g"
        }
        (BenchType::Workflows, crate::store::BackendKind::Postgres) => {
            "INSERT INTO workflow_runs (org_id, pos, workspace_id, workspace_name, workbook_id, workbook_name, \
             workbook_created_ts, user_id, user_email, run_id, credit_cost, pl_run_created_ts, pl_run_finished_ts) \
             SELECT 'bench', g, 'team-' || (g % 12), 'Team ' || (g % 12), 'wb-' || (g % 500), \
             'Workbook, \"quoted\" ' || (g % 500), TIMESTAMPTZ '2025-06-01 00:00:00+00', 'usr_' || (g % 300), \
             'user' || (g % 300) || '@acme.example', 'run-' || g, (g % 1000) / 10.0, \
             TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second', \
             TIMESTAMPTZ '2026-01-01 00:00:07+00' + g * INTERVAL '1 second' \
             FROM generate_series(?::bigint, ?::bigint - 1) AS g"
        }
        (BenchType::Workflows, crate::store::BackendKind::Sqlite) => {
            "WITH RECURSIVE g(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM g WHERE n + 1 < ?) \
             INSERT INTO workflow_runs (org_id, pos, workspace_id, workspace_name, workbook_id, workbook_name, \
             workbook_created_ts, user_id, user_email, run_id, credit_cost, pl_run_created_ts, pl_run_finished_ts) \
             SELECT 'bench', n, 'team-' || (n % 12), 'Team ' || (n % 12), 'wb-' || (n % 500), \
             'Workbook, \"quoted\" ' || (n % 500), 1748736000000000, 'usr_' || (n % 300), \
             'user' || (n % 300) || '@acme.example', 'run-' || n, (n % 1000) / 10.0, \
             1767225600000000 + n * 1000000, 1767225607000000 + n * 1000000 FROM g"
        }
    };
    store
        .execute(
            sql,
            &[Value::Integer(from as i64), Value::Integer(to as i64)],
        )
        .await
        .context("cannot create the benchmark rows")?;
    Ok(())
}

fn columns(args: &BenchExportArgs) -> Vec<&'static str> {
    catalog::spec(args.data_type.data_type()).preset_fields(args.preset)
}

/// Runs `outflow export` for the first `rows` rows; wall seconds and peak RSS in KiB.
async fn outflow_export(
    scratch: &Scratch,
    data_dir: &std::path::Path,
    out: &std::path::Path,
    args: &BenchExportArgs,
    rows: u64,
) -> anyhow::Result<(f64, u64)> {
    let to = chrono::DateTime::from_timestamp(1_767_225_600 + rows as i64 - 1, 0)
        .context("row count out of range")?;
    let started = Instant::now();
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["export", "--org", ORG, "--tz", "UTC"])
        .args(["--type", args.data_type.data_type().as_str()])
        .args(["--from", "2026-01-01T00:00:00"])
        .args(["--to", &to.format("%Y-%m-%dT%H:%M:%S").to_string()])
        .args(["--preset", args.preset.as_str()]);
    if catalog::spec(args.data_type.data_type())
        .team_field
        .is_some()
    {
        // Every team and personal space: the whole table, as the baseline reads it.
        command.arg("--personal");
    }
    let mut child = command
        .arg("-o")
        .arg(out)
        .env("OUTFLOW_DATABASE_URL", &scratch.url)
        .env("OUTFLOW_DATA_DIR", data_dir)
        .env("OUTFLOW_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start outflow export")?;
    let pid = child.id().context("child has no pid")?;
    let mut peak = 0;
    let status = loop {
        peak = peak.max(peak_rss_kib(pid));
        tokio::select! {
            s = child.wait() => break s?,
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use tokio::io::AsyncReadExt;
            e.read_to_string(&mut err).await.ok();
        }
        bail!("outflow export failed: {err}");
    }
    let lines = count_lines(out)?;
    if lines != rows + 1 {
        bail!("outflow export wrote {lines} lines, expected {}", rows + 1);
    }
    Ok((secs, peak))
}

/// The database's own CSV dump of the same rows and columns; wall seconds.
async fn baseline(
    scratch: &Scratch,
    out: &std::path::Path,
    args: &BenchExportArgs,
    rows: u64,
) -> anyhow::Result<f64> {
    let spec = catalog::spec(args.data_type.data_type());
    let cols = columns(args)
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!(
        "SELECT {cols} FROM {} WHERE org_id = '{ORG}' ORDER BY \"{}\", {} LIMIT {rows}",
        spec.table, spec.time_field, spec.id_field
    );
    let file = std::fs::File::create(out)?;
    let mut cmd = if scratch.url.starts_with("sqlite:") {
        let path = scratch.url.trim_start_matches("sqlite://");
        let mut c = Command::new("sqlite3");
        c.args(["-csv", "-header", path, &select]);
        c
    } else {
        let mut c = Command::new("psql");
        c.args([
            scratch.url.as_str(),
            "-X",
            "-q",
            "-c",
            &format!("COPY ({select}) TO STDOUT WITH CSV HEADER"),
        ]);
        c
    };
    let started = Instant::now();
    let status = cmd
        .stdout(file)
        .stderr(Stdio::inherit())
        .status()
        .await
        .context("cannot run the baseline (is the sqlite3 / psql client installed?)")?;
    let secs = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("baseline failed with {status}");
    }
    let lines = count_lines(out)?;
    if lines != rows + 1 {
        bail!("baseline wrote {lines} lines, expected {}", rows + 1);
    }
    Ok(secs)
}

fn count_lines(path: &std::path::Path) -> anyhow::Result<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0;
    // Quoted fields here never hold newlines, so every newline ends a record.
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

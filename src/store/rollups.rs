//! Usage rollups (issue 14): what each rollup table sums, and the SQL that keeps them current.
//!
//! A **family** is one rollup table fed by one record stream (active users by four): its
//! dimensions (rollup column ← raw column), its measures (rollup column ← an expression per
//! raw row, summed) and the 15-minute UTC **slot** of each row. The same definitions give
//! - the ingest statements ([`rollup_statements`] over [`FAMILIES`]), run in the transaction
//!   that stores the batch: they roll up exactly the rows of the batch's own positions
//!   `[start, end)`, which are the rows this transaction inserted — a duplicate (idempotent
//!   re-ingest) takes no row, so it is never counted twice;
//! - the backfills of rows stored before migrations 0008 and 0016 (same statement, older
//!   positions, only the tables of that migration);
//! - the raw-row expressions `usage/` uses to answer window edges that are not whole slots
//!   and its benchmark baseline, so rollups and raw reads cannot drift apart.
//!
//! Three granularities: the 15-minute families of migration 0008 ([`FINE`]) carry every
//! dimension; the hourly (migration 0016) and daily (0018) families ([`COARSE`]) only the
//! team (and the credit category), so they hold a small fraction of the rows and answer the
//! common "usage per team over months" queries fast. A family names its next coarser
//! counterpart ([`Family::coarse`]: 15 minutes → hour → UTC day); `usage/` reads from them
//! when the query groups and filters by nothing they lack. Coarse rows carry a record count
//! ([`Family::count`]), so a local day can be read as UTC days less and plus edge hours.
//!
//! Credits are summed as integer micro-credits (rounded per record), so sums are exact in any
//! order and grouping.

use super::Value;
use crate::domain::{DataType, catalog, histogram};

/// Seconds per slot: every current zone offset and clock change is a whole quarter hour.
pub const SLOT_SECONDS: i64 = 900;

/// The bin that stands for the histogram's zero bucket (latency ≤ 0).
pub const ZERO_BIN: i64 = -100_000;

/// Which SQL dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: instants are INTEGER microseconds.
    Sqlite,
    /// PostgreSQL: instants are timestamptz.
    Postgres,
}

/// How a measure is computed from one raw row.
#[derive(Debug, Clone, Copy)]
pub enum RawExpr {
    /// Counts rows.
    One,
    /// Counts rows where the condition holds.
    If(&'static str),
    /// A credit amount in micro-credits (NULL → 0).
    Micro(&'static str),
    /// The negated amount of debits (amount < 0), in micro-credits.
    Debit(&'static str),
    /// The amount of grants (amount > 0), in micro-credits.
    Grant(&'static str),
    /// An integer column (NULL → 0).
    Int(&'static str),
    /// The histogram bin of a latency column (a dimension of the latency family).
    LatencyBin(&'static str),
}

impl RawExpr {
    /// The SQL of the expression over the raw table's columns.
    pub fn sql(self, d: Dialect) -> String {
        let micro = |x: &str| match d {
            Dialect::Sqlite => format!("CAST(ROUND(COALESCE({x}, 0) * 1000000) AS INTEGER)"),
            Dialect::Postgres => format!("ROUND(COALESCE({x}, 0)::numeric * 1000000)::bigint"),
        };
        match self {
            RawExpr::One => "1".into(),
            RawExpr::If(cond) => format!("CASE WHEN {cond} THEN 1 ELSE 0 END"),
            RawExpr::Micro(c) => micro(c),
            RawExpr::Debit(c) => format!(
                "CASE WHEN {c} < 0 THEN {} ELSE 0 END",
                micro(&format!("-{c}"))
            ),
            RawExpr::Grant(c) => format!("CASE WHEN {c} > 0 THEN {} ELSE 0 END", micro(c)),
            RawExpr::Int(c) => format!("COALESCE({c}, 0)"),
            RawExpr::LatencyBin(c) => format!(
                "CASE WHEN {c} <= 0 THEN {ZERO_BIN} ELSE (SELECT b.bin FROM usage_latency_bounds b \
                 WHERE b.first_ms <= {c} ORDER BY b.first_ms DESC LIMIT 1) END"
            ),
        }
    }
}

/// A dimension of a family: the rollup column and the raw expression it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Dim {
    /// Rollup column.
    pub col: &'static str,
    /// Raw column (text; NULL becomes '').
    pub raw: &'static str,
}

/// A measure of a family.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    /// Rollup column.
    pub col: &'static str,
    /// What one raw row adds.
    pub raw: RawExpr,
}

/// One rollup table and how a stream feeds it.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// Rollup table.
    pub table: &'static str,
    /// The streams it rolls up.
    pub sources: &'static [DataType],
    /// Dimensions (the key after org and slot).
    pub dims: &'static [Dim],
    /// Extra key column computed from the raw row (the latency bin), if any.
    pub bin: Option<Measure>,
    /// Summed measures (none: a presence table).
    pub measures: &'static [Measure],
    /// Raw rows that take part (`AND …`), if not all.
    pub raw_filter: Option<&'static str>,
    /// Seconds per slot of this table: [`SLOT_SECONDS`] for the fine tables, an hour for the
    /// coarse ones.
    pub slot_seconds: i64,
    /// A coarser table with the same measures and a subset of the dimensions, which answers
    /// the queries that group and filter only by its dimensions with far fewer rows.
    pub coarse: Option<&'static Family>,
    /// The measure that counts the records of a row, if the table has one: a query that
    /// subtracts rows (`usage/sql.rs`, day rows less their edge hours) tells by it which
    /// groups have records left.
    pub count: Option<&'static str>,
}

const fn dim(col: &'static str, raw: &'static str) -> Dim {
    Dim { col, raw }
}

const fn measure(col: &'static str, raw: RawExpr) -> Measure {
    Measure { col, raw }
}

const CREDIT_MEASURES: &[Measure] = &[
    measure("spent", RawExpr::Debit("amount")),
    measure("granted", RawExpr::Grant("amount")),
];

const RUN_MEASURES: &[Measure] = &[
    measure("runs", RawExpr::One),
    measure("failed_runs", RawExpr::If("run_status = 'failed'")),
    measure("run_credits", RawExpr::Micro("credit_cost")),
];

const INTERACTION_MEASURES: &[Measure] = &[
    measure("interactions", RawExpr::One),
    measure("interaction_credits", RawExpr::Micro("credit_cost")),
    measure("input_tokens", RawExpr::Int("prompt_tokens")),
    measure("output_tokens", RawExpr::Int("completion_tokens")),
];

const TOOL_CALL_MEASURES: &[Measure] = &[
    measure("tool_calls", RawExpr::One),
    measure("tool_call_errors", RawExpr::If("status = 'error'")),
];

/// The credit measures plus a record count (`n`): the coarse tables need it, as a debit, a
/// grant and a zero amount all count as a record.
const COUNTED_CREDIT_MEASURES: &[Measure] = &[
    measure("spent", RawExpr::Debit("amount")),
    measure("granted", RawExpr::Grant("amount")),
    measure("n", RawExpr::One),
];

/// Credit-log debits and grants.
pub const CREDITS: Family = Family {
    table: "usage_credits",
    sources: &[DataType::CreditLogs],
    dims: &[
        dim("team_id", "project_id"),
        dim("user_id", "user_id"),
        dim("category", "category"),
        dim("custom_role", "permission_group_id"),
    ],
    bin: None,
    measures: CREDIT_MEASURES,
    raw_filter: None,
    slot_seconds: SLOT_SECONDS,
    coarse: Some(&CREDITS_HOURLY),
    count: None,
};

/// Workflow runs.
pub const RUNS: Family = Family {
    table: "usage_runs",
    sources: &[DataType::Workflows],
    dims: &[
        dim("team_id", "workspace_id"),
        dim("user_id", "user_id"),
        dim("workbook_id", "workbook_id"),
    ],
    bin: None,
    measures: RUN_MEASURES,
    raw_filter: None,
    slot_seconds: SLOT_SECONDS,
    coarse: Some(&RUNS_HOURLY),
    count: Some("runs"),
};

/// Agent interactions.
pub const INTERACTIONS: Family = Family {
    table: "usage_interactions",
    sources: &[DataType::AgentInteractions],
    dims: &[
        dim("team_id", "workspace_id"),
        dim("user_id", "user_id"),
        dim("agent_id", "agent_id"),
        dim("model", "model"),
        dim("api_key_id", "api_key_id"),
    ],
    bin: None,
    measures: INTERACTION_MEASURES,
    raw_filter: None,
    slot_seconds: SLOT_SECONDS,
    coarse: Some(&INTERACTIONS_HOURLY),
    count: Some("interactions"),
};

/// Tool calls.
pub const TOOL_CALLS: Family = Family {
    table: "usage_tool_calls",
    sources: &[DataType::ToolCalls],
    dims: &[
        dim("team_id", "workspace_id"),
        dim("user_id", "user_id"),
        dim("agent_id", "agent_id"),
    ],
    bin: None,
    measures: TOOL_CALL_MEASURES,
    raw_filter: None,
    slot_seconds: SLOT_SECONDS,
    coarse: Some(&TOOL_CALLS_HOURLY),
    count: Some("tool_calls"),
};

/// Tool-call latency histograms (calls without a latency are not in them).
pub const LATENCY: Family = Family {
    table: "usage_tool_latency",
    sources: &[DataType::ToolCalls],
    dims: &[
        dim("team_id", "workspace_id"),
        dim("user_id", "user_id"),
        dim("agent_id", "agent_id"),
    ],
    bin: Some(measure("bin", RawExpr::LatencyBin("latency_ms"))),
    measures: &[measure("n", RawExpr::One)],
    raw_filter: Some("latency_ms IS NOT NULL"),
    slot_seconds: SLOT_SECONDS,
    coarse: None,
    count: None,
};

/// Members active in a slot: anyone with a record of the four usage streams.
pub const ACTIVE: Family = Family {
    table: "usage_active",
    sources: &[
        DataType::CreditLogs,
        DataType::Workflows,
        DataType::AgentInteractions,
        DataType::ToolCalls,
    ],
    dims: &[dim("team_id", "TEAM"), dim("user_id", "user_id")],
    bin: None,
    measures: &[],
    raw_filter: Some("user_id IS NOT NULL AND user_id <> ''"),
    slot_seconds: SLOT_SECONDS,
    coarse: None,
    count: None,
};

/// Seconds per slot of the coarse tables.
pub const HOUR_SECONDS: i64 = 3_600;

/// Seconds per slot of the daily tables.
pub const DAY_SECONDS: i64 = 86_400;

/// Credits per UTC hour, team and category (migration 0016; the record count `n` since 0018).
pub const CREDITS_HOURLY: Family = hourly(&CREDITS_DAILY, "usage_credits_hourly");

/// Workflow runs per UTC hour and team (migration 0016).
pub const RUNS_HOURLY: Family = hourly(&RUNS_DAILY, "usage_runs_hourly");

/// Agent interactions per UTC hour and team (migration 0016).
pub const INTERACTIONS_HOURLY: Family = hourly(&INTERACTIONS_DAILY, "usage_interactions_hourly");

/// Tool calls per UTC hour and team (migration 0016).
pub const TOOL_CALLS_HOURLY: Family = hourly(&TOOL_CALLS_DAILY, "usage_tool_calls_hourly");

/// Credits per UTC day, team and category (migration 0018).
pub const CREDITS_DAILY: Family = daily(
    "usage_credits_daily",
    &[DataType::CreditLogs],
    CREDIT_DIMS,
    COUNTED_CREDIT_MEASURES,
    "n",
);

/// Workflow runs per UTC day and team (migration 0018).
pub const RUNS_DAILY: Family = daily(
    "usage_runs_daily",
    &[DataType::Workflows],
    TEAM_DIMS,
    RUN_MEASURES,
    "runs",
);

/// Agent interactions per UTC day and team (migration 0018).
pub const INTERACTIONS_DAILY: Family = daily(
    "usage_interactions_daily",
    &[DataType::AgentInteractions],
    TEAM_DIMS,
    INTERACTION_MEASURES,
    "interactions",
);

/// Tool calls per UTC day and team (migration 0018).
pub const TOOL_CALLS_DAILY: Family = daily(
    "usage_tool_calls_daily",
    &[DataType::ToolCalls],
    TEAM_DIMS,
    TOOL_CALL_MEASURES,
    "tool_calls",
);

const CREDIT_DIMS: &[Dim] = &[dim("team_id", "project_id"), dim("category", "category")];
const TEAM_DIMS: &[Dim] = &[dim("team_id", "workspace_id")];

/// A daily family: one stream, the team (and category) only, every row counted.
const fn daily(
    table: &'static str,
    sources: &'static [DataType],
    dims: &'static [Dim],
    measures: &'static [Measure],
    count: &'static str,
) -> Family {
    Family {
        table,
        sources,
        dims,
        bin: None,
        measures,
        raw_filter: None,
        slot_seconds: DAY_SECONDS,
        coarse: None,
        count: Some(count),
    }
}

/// The hourly family with the same stream, dimensions and measures as `daily`, which it
/// names as its coarser table.
const fn hourly(daily: &'static Family, table: &'static str) -> Family {
    Family {
        table,
        slot_seconds: HOUR_SECONDS,
        coarse: Some(daily),
        ..*daily
    }
}

/// The 15-minute families of migration 0008 (what its backfill rolls up).
pub const FINE: [&Family; 6] = [
    &CREDITS,
    &RUNS,
    &INTERACTIONS,
    &TOOL_CALLS,
    &LATENCY,
    &ACTIVE,
];

/// The hourly and daily families of migrations 0016 and 0018 (what their backfill rolls up:
/// 0018 rebuilds the hourly tables with the daily ones).
pub const COARSE: [&Family; 8] = [
    &CREDITS_HOURLY,
    &RUNS_HOURLY,
    &INTERACTIONS_HOURLY,
    &TOOL_CALLS_HOURLY,
    &CREDITS_DAILY,
    &RUNS_DAILY,
    &INTERACTIONS_DAILY,
    &TOOL_CALLS_DAILY,
];

/// A list of families (what ingest maintains).
pub type Families = &'static [&'static Family];

/// Every family: what ingest maintains and compaction merges.
pub const FAMILIES: [&Family; 14] = [
    &CREDITS,
    &RUNS,
    &INTERACTIONS,
    &TOOL_CALLS,
    &LATENCY,
    &ACTIVE,
    &CREDITS_HOURLY,
    &RUNS_HOURLY,
    &INTERACTIONS_HOURLY,
    &TOOL_CALLS_HOURLY,
    &CREDITS_DAILY,
    &RUNS_DAILY,
    &INTERACTIONS_DAILY,
    &TOOL_CALLS_DAILY,
];

/// The streams that feed rollups.
pub const STREAMS: [DataType; 4] = [
    DataType::CreditLogs,
    DataType::Workflows,
    DataType::AgentInteractions,
    DataType::ToolCalls,
];

/// The team column of a stream (credit logs attribute charges to `project_id`).
pub fn team_column(source: DataType) -> &'static str {
    match source {
        DataType::CreditLogs => "project_id",
        _ => "workspace_id",
    }
}

/// The raw column of a dimension for `source` (the presence family's team column differs per
/// stream).
pub fn raw_dim(d: &Dim, source: DataType) -> &'static str {
    if d.raw == "TEAM" {
        team_column(source)
    } else {
        d.raw
    }
}

/// The quoted time column of a stream.
pub fn time_column(source: DataType) -> String {
    format!("\"{}\"", catalog::spec(source).time_field)
}

/// The slot (Unix seconds of its start) of `seconds` length of a raw row's time column.
pub fn slot_sql(d: Dialect, source: DataType, seconds: i64) -> String {
    let ts = time_column(source);
    match d {
        // Floor division, also for instants before 1970.
        Dialect::Sqlite => {
            let us = seconds * 1_000_000;
            format!("(({ts}) - ((({ts}) % {us}) + {us}) % {us}) / 1000000")
        }
        Dialect::Postgres => {
            format!("(floor(extract(epoch FROM {ts}) / {seconds}) * {seconds})::bigint")
        }
    }
}

/// The statement that adds the rows of `source` at positions `[?, ?)` of organization `?`
/// to `family` (parameters: org, first position, end position).
pub fn rollup_sql(d: Dialect, family: &Family, source: DataType) -> String {
    let spec = catalog::spec(source);
    let mut cols = vec!["org_id".to_string(), "slot".to_string()];
    let mut select = vec![
        "org_id".to_string(),
        slot_sql(d, source, family.slot_seconds),
    ];
    for dm in family.dims {
        cols.push(dm.col.into());
        select.push(format!("COALESCE({}, '')", raw_dim(dm, source)));
    }
    if let Some(b) = family.bin {
        cols.push(b.col.into());
        select.push(b.raw.sql(d));
    }
    let keys = cols.len();
    for m in family.measures {
        cols.push(m.col.into());
        select.push(format!("SUM({})", m.raw.sql(d)));
    }
    let ordinals = (1..=keys)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let filter = family
        .raw_filter
        .map(|f| format!(" AND {f}"))
        .unwrap_or_default();
    // PostgreSQL appends one row per key and batch: an upsert would hold the shared row's
    // lock until commit and make concurrent ingest wait (see migration 0008).
    let action = if d == Dialect::Postgres {
        String::new()
    } else if family.measures.is_empty() {
        format!(" ON CONFLICT ({}) DO NOTHING", cols[..keys].join(", "))
    } else {
        let sets = family
            .measures
            .iter()
            .map(|m| format!("{c} = {t}.{c} + excluded.{c}", c = m.col, t = family.table))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {sets}",
            cols[..keys].join(", ")
        )
    };
    // Grouped by the key: one row per key and batch.
    format!(
        "INSERT INTO {table} ({cols}) SELECT {select} FROM {src} \
         WHERE org_id = ? AND pos >= ? AND pos < ?{filter} \
         GROUP BY {ordinals}{action}",
        table = family.table,
        cols = cols.join(", "),
        select = select.join(", "),
        src = spec.table,
    )
}

/// The families of `among` a stream feeds.
pub fn families_of(
    among: &'static [&'static Family],
    source: DataType,
) -> impl Iterator<Item = &'static Family> {
    among
        .iter()
        .copied()
        .filter(move |f| f.sources.contains(&source))
}

/// The statements that roll up the rows of `source` at positions `[start, end)` for `org`
/// into the families of `among`: at ingest every family ([`FAMILIES`]), the rows the
/// transaction inserted; a backfill only the tables it is behind on. Empty for streams
/// without rollups.
pub fn rollup_statements(
    d: Dialect,
    among: &'static [&'static Family],
    source: DataType,
    org: &str,
    start: i64,
    end: i64,
) -> Vec<(String, Vec<Value>)> {
    families_of(among, source)
        .map(|f| {
            (
                rollup_sql(d, f, source),
                vec![org.into(), Value::Integer(start), Value::Integer(end)],
            )
        })
        .collect()
}

/// `(first_ms, bin)`: the smallest whole millisecond of every histogram bucket a whole
/// millisecond can fall in, plus `(0, ZERO_BIN)`. Computed with the histogram's own bucket
/// function, so the SQL lookup agrees with it for every integer latency.
pub fn latency_bounds() -> Vec<(i64, i64)> {
    let mut out = vec![(0, ZERO_BIN)];
    let mut ms: i64 = 1;
    let max = histogram::MAX_VALUE as i64;
    while ms <= max {
        let bin = histogram::bucket_index(ms as f64);
        out.push((ms, i64::from(bin)));
        // Jump near the bucket's upper bound, then step to the first value past it.
        let mut next = (histogram::bucket_upper(bin).floor() as i64).max(ms + 1);
        while next > ms + 1 && histogram::bucket_index((next - 1) as f64) > bin {
            next -= 1;
        }
        // Values above MAX_VALUE count as MAX_VALUE: the last bucket never ends.
        while next <= max && histogram::bucket_index(next as f64) == bin {
            next += 1;
        }
        ms = next;
    }
    out
}

/// Fills `usage_latency_bounds` (idempotent); run after migrating.
pub(super) fn seed_bounds_statements() -> Vec<(String, Vec<Value>)> {
    latency_bounds()
        .chunks(400)
        .map(|chunk| {
            let marks = vec!["(?, ?)"; chunk.len()].join(", ");
            let params = chunk
                .iter()
                .flat_map(|(ms, bin)| [Value::Integer(*ms), Value::Integer(*bin)])
                .collect();
            (
                format!(
                    "INSERT INTO usage_latency_bounds (first_ms, bin) VALUES {marks} \
                     ON CONFLICT (first_ms) DO NOTHING"
                ),
                params,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_agree_with_the_histogram_for_every_small_latency() {
        let bounds = latency_bounds();
        let lookup = |ms: i64| bounds[bounds.partition_point(|(first, _)| *first <= ms) - 1].1;
        for ms in 1..200_000 {
            assert_eq!(
                lookup(ms),
                i64::from(histogram::bucket_index(ms as f64)),
                "{ms}"
            );
        }
        assert!(bounds.len() < 2_000, "{}", bounds.len());
    }

    #[test]
    fn ingest_sql_rolls_up_only_the_batch_positions() {
        let sql = rollup_sql(Dialect::Sqlite, &RUNS, DataType::Workflows);
        assert!(sql.contains("pos >= ? AND pos < ?"), "{sql}");
        assert!(
            sql.contains("runs = usage_runs.runs + excluded.runs"),
            "{sql}"
        );
        let active = rollup_sql(Dialect::Postgres, &ACTIVE, DataType::CreditLogs);
        assert!(active.contains("COALESCE(project_id, '')"), "{active}");
        assert!(
            !active.contains("ON CONFLICT"),
            "PostgreSQL appends: {active}"
        );
        assert!(rollup_sql(Dialect::Sqlite, &ACTIVE, DataType::ToolCalls).ends_with("DO NOTHING"));
    }
}

//! The aggregates behind each report, one file per report: [`users`], [`agents`],
//! [`api_keys`], [`projects`], [`models`], [`workflows`]. Every sum, count and average runs as
//! a `GROUP BY` in the database over the window's records (indexed by `(org_id, time)`); Rust
//! only merges the grouped results with the entity lists, ranks, orders and masks them, so
//! memory grows with the number of report rows, never with the number of records.
//!
//! Shared by all of them: [`sql`] (the query context, SQL fragments, rows read by column name)
//! and [`rows`] (report rows under construction). This file runs a report: the source-record
//! count that answers "no data" and enforces the cap, the report's own aggregates, then
//! ranking, ordering, privacy and column order ([`finish`]).

mod agents;
mod api_keys;
mod models;
mod projects;
mod rows;
mod sql;
mod users;
mod workflows;

use super::columns::{ColumnKind, ColumnPrivacy, columns};
use super::{Report, ReportError, ReportRequest, ReportType, period_end, period_start};
use crate::domain::entity::Privacy;
use crate::privacy::PrivacyPolicy;
use crate::store::{Store, Value};
use rows::{Row, Rows};
use sql::{Ctx, interactions_in_window, is_project, join_team};
use std::cmp::Ordering;
use std::collections::HashMap;

pub(super) async fn run(
    store: &Store,
    org: &str,
    req: &ReportRequest,
    max_rows: Option<u64>,
) -> Result<Report, ReportError> {
    let policy = PrivacyPolicy::load(store, org)
        .await?
        .ok_or_else(|| ReportError::UnknownOrg(org.to_owned()))?;
    let ctx = Ctx { store, org, req };
    // One cheap indexed count first: it answers "no data" and enforces the cap before any
    // aggregate runs.
    let scanned = scanned_records(&ctx).await?;
    if scanned == 0 {
        return Err(ReportError::NoData);
    }
    if let Some(limit) = max_rows
        && scanned > limit
    {
        return Err(ReportError::TooLarge {
            rows: scanned,
            limit,
        });
    }
    let (rows, metric) = match req.report_type {
        ReportType::Users => (users::rows(&ctx).await?, "messages_total"),
        ReportType::Agents => (agents::rows(&ctx).await?, "messages"),
        ReportType::ApiKeys => (api_keys::rows(&ctx).await?, "requests"),
        ReportType::Projects => (projects::rows(&ctx).await?, "messages"),
        ReportType::Models => (models::rows(&ctx).await?, "requests"),
        ReportType::Workflows => (workflows::rows(&ctx).await?, "runs"),
    };
    Ok(finish(&ctx, &policy, rows, metric))
}

/// Source records of the report in the window.
async fn scanned_records(ctx: &Ctx<'_>) -> Result<u64, ReportError> {
    const INTERACTIONS: &str = concat!(
        "SELECT {columns} FROM agent_interactions i WHERE ",
        interactions_in_window!()
    );
    let interactions = |extra: &str| format!("{INTERACTIONS}{extra}");
    Ok(match ctx.req.report_type {
        ReportType::Users => {
            let tools = ctx
                .count(
                    "SELECT {columns} FROM tool_calls WHERE org_id = ? AND created_at >= ? \
                     AND created_at < ? AND user_id IS NOT NULL",
                )
                .await?;
            ctx.count(&interactions(" AND i.user_id IS NOT NULL"))
                .await?
                + tools
        }
        ReportType::Agents => {
            ctx.count(&interactions(" AND i.agent_id IS NOT NULL"))
                .await?
        }
        ReportType::ApiKeys => {
            ctx.count(&interactions(" AND i.api_key_id IS NOT NULL"))
                .await?
        }
        ReportType::Projects => {
            ctx.count(concat!(
                "SELECT {columns} FROM agent_interactions i ",
                join_team!(),
                " WHERE ",
                interactions_in_window!(),
                " AND ",
                is_project!()
            ))
            .await?
        }
        ReportType::Models => ctx.count(&interactions("")).await?,
        ReportType::Workflows => {
            ctx.count(
                "SELECT {columns} FROM workflow_runs WHERE org_id = ? \
                 AND pl_run_created_ts >= ? AND pl_run_created_ts < ?",
            )
            .await?
        }
    })
}
/// Adds the window columns, ranks, orders by `metric` (descending, then key), applies
/// privacy and lays the rows out in column order.
fn finish(ctx: &Ctx<'_>, policy: &PrivacyPolicy, rows: Rows, metric: &str) -> Report {
    let req = ctx.req;
    let columns = columns(req.report_type, req.group_by);
    let mut rows = rows.order;
    for (value_col, rank_col) in [
        ("messages_total", "messages_total_rank"),
        ("messages_chat", "messages_chat_rank"),
        ("messages_assistants", "messages_assistants_rank"),
        ("messages_projects", "messages_projects_rank"),
    ] {
        if columns.iter().any(|c| c.id == rank_col) {
            rank(&mut rows, value_col, rank_col);
        }
    }
    rows.sort_by(|a, b| {
        b.num(metric)
            .partial_cmp(&a.num(metric))
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.key.cmp(&b.key))
    });
    let (start, end) = (period_start(&req.range), period_end(&req.range));
    let out = rows
        .into_iter()
        .map(|mut row| {
            row.set("period_start", Value::Text(start.clone()));
            row.set("period_end", Value::Text(end.clone()));
            row.set("org_id", ctx.org.into());
            let privacy = policy.for_team(row.team.as_deref());
            columns
                .iter()
                .map(|c| {
                    let v = row.cells.remove(c.id).unwrap_or(match c.kind {
                        ColumnKind::Timestamp => Value::NullTimestamp,
                        _ => Value::Null,
                    });
                    match (c.privacy, privacy) {
                        (_, Privacy::Visible) | (ColumnPrivacy::Open, _) => v,
                        (ColumnPrivacy::Person, p) => policy.mask(p, v),
                        (ColumnPrivacy::Descriptive, Privacy::Hidden) => Value::Null,
                        (ColumnPrivacy::Descriptive, Privacy::Pseudonymized) => v,
                    }
                })
                .collect()
        })
        .collect();
    Report {
        report_type: req.report_type,
        group_by: req.group_by,
        range: req.range,
        columns,
        rows: out,
    }
}

/// Competition ranks (1, 1, 3) by `value_col` descending, among rows of the same group.
fn rank(rows: &mut [Row], value_col: &str, rank_col: &'static str) {
    let mut by_group: HashMap<Option<String>, Vec<i64>> = HashMap::new();
    for r in rows.iter() {
        by_group
            .entry(r.key.1.clone())
            .or_default()
            .push(r.int(value_col));
    }
    for values in by_group.values_mut() {
        values.sort_unstable_by(|a, b| b.cmp(a));
    }
    for r in rows.iter_mut() {
        let v = r.int(value_col);
        let above = by_group
            .get(&r.key.1)
            .map_or(0, |vals| vals.partition_point(|x| *x > v));
        r.set(rank_col, Value::Integer(above as i64 + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn competition_ranks_per_group() {
        let mut rows: Vec<Row> = [("a", 5), ("b", 9), ("c", 5), ("d", 0)]
            .into_iter()
            .map(|(id, v)| {
                let mut r = Row::new((id.into(), None));
                r.set("m", Value::Integer(v));
                r
            })
            .collect();
        rank(&mut rows, "m", "m_rank");
        let ranks: Vec<i64> = rows.iter().map(|r| r.int("m_rank")).collect();
        assert_eq!(ranks, [2, 1, 2, 4]);
    }
}

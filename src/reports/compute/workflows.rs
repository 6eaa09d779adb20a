//! The `workflows` report: one row per workbook, with its top-level and subflow runs, success
//! rate, users, durations and credits (an Outflow extension: the reference documents none).

use super::rows::{Rows, fill_zeros, opt_rounded, round, rounded};
use super::sql::{Ctx, sum_num};
use crate::domain::FieldType::{Integer as I, Number as N, Text as T};
use crate::reports::ReportError;
use crate::store::Value;
use crate::store::named::{Columns, expr};

const BOOKS: Columns = Columns(&[
    expr("w.id", "id", T),
    expr("w.name", "workflow_name", T),
    expr("w.team_id", "project_id", T),
    expr("t.name", "project_name", T),
]);

/// A run that is not a subflow of another.
macro_rules! top {
    () => {
        "r.parent_run_id IS NULL"
    };
}

const STATS: Columns = Columns(&[
    expr("r.workbook_id", "workbook_id", T),
    expr("MAX(r.workbook_name)", "workflow_name", T),
    expr("MAX(r.workspace_id)", "project_id", T),
    expr("MAX(r.workspace_name)", "project_name", T),
    expr(
        concat!("COUNT(CASE WHEN ", top!(), " THEN 1 END)"),
        "runs",
        I,
    ),
    expr(
        "COUNT(CASE WHEN r.parent_run_id IS NOT NULL THEN 1 END)",
        "subflow_runs",
        I,
    ),
    expr(
        concat!(
            "COUNT(CASE WHEN ",
            top!(),
            " AND r.run_status = 'success' THEN 1 END)"
        ),
        "successful_runs",
        I,
    ),
    expr(
        concat!(
            "COUNT(CASE WHEN ",
            top!(),
            " AND r.run_status IN ('failed', 'terminated') THEN 1 END)"
        ),
        "failed_runs",
        I,
    ),
    expr("COUNT(DISTINCT r.user_id)", "unique_users", I),
    // `{duration}` differs per backend; `Ctx::fetch` fills it in.
    expr(
        concat!(
            "CAST(AVG(CASE WHEN ",
            top!(),
            " THEN {duration} END) AS DOUBLE PRECISION)"
        ),
        "avg_duration_seconds",
        N,
    ),
    expr(
        concat!(
            "CAST(MAX(CASE WHEN ",
            top!(),
            " THEN {duration} END) AS DOUBLE PRECISION)"
        ),
        "max_duration_seconds",
        N,
    ),
    expr(sum_num!("r.credit_cost"), "credit_cost", N),
]);

pub(super) async fn rows(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    const BOOKS_SQL: &str = "SELECT {columns} FROM workbooks w \
         LEFT JOIN teams t ON t.org_id = w.org_id AND t.id = w.team_id \
         WHERE w.org_id = ? AND (w.created_at IS NULL OR w.created_at < ?)";
    let mut rows = Rows::default();
    for mut b in ctx
        .fetch(
            BOOKS_SQL,
            &ctx.org_and_end(),
            BOOKS,
            "workflows report workbook",
        )
        .await?
    {
        let row = rows.entry((b.text("id")?, None));
        row.set("workflow_name", Value::Text(b.text("workflow_name")?));
        row.set("project_id", b.take("project_id")?);
        row.set("project_name", b.take("project_name")?);
    }
    const STATS_SQL: &str = "SELECT {columns} FROM workflow_runs r \
         WHERE r.org_id = ? AND r.pl_run_created_ts >= ? AND r.pl_run_created_ts < ? \
         GROUP BY r.workbook_id";
    for mut r in ctx
        .fetch(STATS_SQL, &ctx.window(), STATS, "workflows report stats")
        .await?
    {
        let row = rows.entry((r.text("workbook_id")?, None));
        row.set_missing("workflow_name", r.take("workflow_name")?);
        // A workbook without a known team takes the team its runs name.
        if row.cells.get("project_id").is_none_or(Value::is_null) {
            row.set("project_id", r.take("project_id")?);
            row.set("project_name", r.take("project_name")?);
        }
        let (ok, failed) = (r.i64("successful_runs")?, r.i64("failed_runs")?);
        row.set("runs", Value::Integer(r.i64("runs")?));
        row.set("subflow_runs", Value::Integer(r.i64("subflow_runs")?));
        row.set("successful_runs", Value::Integer(ok));
        row.set("failed_runs", Value::Integer(failed));
        if ok + failed > 0 {
            row.set(
                "success_rate",
                Value::Number(round(ok as f64 / (ok + failed) as f64, 4)),
            );
        }
        row.set("unique_users", Value::Integer(r.i64("unique_users")?));
        for col in ["avg_duration_seconds", "max_duration_seconds"] {
            row.set(col, opt_rounded(r.opt_f64(col)?, 3));
        }
        row.set("credit_cost", rounded(r.f64("credit_cost")?, 6));
    }
    for row in &mut rows.order {
        row.set("workflow_id", Value::Text(row.key.0.clone()));
        fill_zeros(
            row,
            &[
                "runs",
                "subflow_runs",
                "successful_runs",
                "failed_runs",
                "unique_users",
            ],
            &["credit_cost"],
            &[],
        );
    }
    Ok(rows)
}

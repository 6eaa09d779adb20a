//! The SQL every report shares: the query context ([`Ctx`]: organization, window, split), the
//! fragments the reports' queries are built from, and the one way a report reads rows — by
//! column name, from one [`Columns`] list per query (`store::named`).
//!
//! The SQL is written once for both backends: `?` placeholders, window bounds bound as
//! [`Value::Timestamp`] (INTEGER micros on SQLite, TIMESTAMPTZ on PostgreSQL), sums cast to
//! `BIGINT` / `DOUBLE PRECISION` because PostgreSQL widens `SUM(bigint)` to `numeric`, and
//! booleans compared with `TRUE` / `FALSE`, which SQLite reads as 1 / 0.
//!
//! Column lists are `'static` (they are constants), so the few parts of a query that depend on
//! the request or the backend are placeholders that [`Ctx::fetch`] fills in:
//! `{columns}` (the SELECT list), `{group}` (the split expression, usable in a column),
//! `{and_group}` (`, <split>` in a `GROUP BY` when split, else nothing) and `{duration}` (a
//! run's duration in seconds, the one expression that differs per backend).

use super::super::{GroupBy, ReportError, ReportRequest};
use crate::domain::FieldType::Integer as I;
use crate::store::named::{Columns, NamedRow, expr};
use crate::store::{BackendKind, Store, StoreError, Value};

/// `SUM` of an integer expression as `BIGINT`, 0 when no record matched.
macro_rules! sum_int {
    ($e:expr) => {
        concat!("CAST(COALESCE(SUM(", $e, "), 0) AS BIGINT)")
    };
}

/// `SUM` of a numeric expression as `DOUBLE PRECISION`, 0 when no record matched.
macro_rules! sum_num {
    ($e:expr) => {
        concat!("CAST(COALESCE(SUM(", $e, "), 0) AS DOUBLE PRECISION)")
    };
}

/// The window filter over `agent_interactions i` (binds `org, start, end`).
macro_rules! interactions_in_window {
    () => {
        "i.org_id = ? AND i.interaction_created_ts >= ? AND i.interaction_created_ts < ?"
    };
}

/// Joins an interaction to its team, to tell project chats from personal-space chats.
macro_rules! join_team {
    () => {
        "LEFT JOIN teams t ON t.org_id = i.org_id AND t.id = i.workspace_id"
    };
}

/// A workspace is a project unless it is known to be a personal space (needs `join_team!`).
macro_rules! is_project {
    () => {
        "COALESCE(t.personal, FALSE) = FALSE"
    };
}

pub(super) use {interactions_in_window, is_project, join_team, sum_int, sum_num};

/// The window's SQL parameters and the report's split.
pub(super) struct Ctx<'a> {
    pub store: &'a Store,
    pub org: &'a str,
    pub req: &'a ReportRequest,
}

/// The one column of a `COUNT(*)` query.
const COUNT: Columns = Columns(&[expr("COUNT(*)", "n", I)]);

impl Ctx<'_> {
    /// `org, start, end` for a `org_id = ? AND ts >= ? AND ts < ?` filter.
    pub fn window(&self) -> Vec<Value> {
        vec![
            self.org.into(),
            Value::Timestamp(self.req.range.start),
            Value::Timestamp(self.req.range.end),
        ]
    }

    /// `org, end`: entities that existed before the window's end.
    pub fn org_and_end(&self) -> Vec<Value> {
        vec![self.org.into(), Value::Timestamp(self.req.range.end)]
    }

    /// Whether a split was asked for: then only (entity, group) pairs with usage get rows.
    pub fn grouped(&self) -> bool {
        self.req.group_by.is_some()
    }

    /// The column the split's value goes to (`model`, `source`, `deployment`), if split.
    pub fn group_column(&self) -> Option<&'static str> {
        self.req.group_by.map(GroupBy::as_str)
    }

    /// Fills in the placeholders (see the module docs), runs the query and hands back its
    /// rows by name; `what` names the rows in errors ("users report totals").
    pub async fn fetch(
        &self,
        sql: &str,
        params: &[Value],
        columns: Columns,
        what: &'static str,
    ) -> Result<Vec<NamedRow>, ReportError> {
        let sql = render(sql, columns, self.req.group_by, self.store.kind());
        let rows = self.store.query(&sql, params, &columns.types()).await?;
        Ok(columns.rows(rows, what))
    }

    /// Runs `SELECT {columns} FROM …` with a `COUNT(*)` column over the window.
    pub async fn count(&self, sql: &str) -> Result<u64, ReportError> {
        let mut rows = self.fetch(sql, &self.window(), COUNT, "count").await?;
        let mut row = rows
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a count returned no row".into()))?;
        let n = row.i64("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// A query with its placeholders filled in (see the module docs).
fn render(sql: &str, columns: Columns, group_by: Option<GroupBy>, kind: BackendKind) -> String {
    let (group, grouped) = group_expr(group_by);
    let and_group = if grouped {
        format!(", {group}")
    } else {
        String::new()
    };
    sql.replace("{columns}", &columns.select_list())
        .replace("{group}", group)
        .replace("{and_group}", &and_group)
        .replace("{duration}", duration_seconds(kind))
}

/// The group expression over `agent_interactions i`, and whether it is grouped on.
/// Without a real split the expression is a typed NULL, so every query keeps one shape.
fn group_expr(group_by: Option<GroupBy>) -> (&'static str, bool) {
    match group_by {
        Some(GroupBy::Model) => ("i.model", true),
        Some(GroupBy::Source) => ("i.source", true),
        // No deployment is ingested: one empty group (see the module docs of `reports`).
        Some(GroupBy::Deployment) | None => ("CAST(NULL AS TEXT)", false),
    }
}

/// Seconds between a run's start and finish (NULL while running).
fn duration_seconds(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => "((r.pl_run_finished_ts - r.pl_run_created_ts) / 1000000.0)",
        BackendKind::Postgres => "EXTRACT(EPOCH FROM (r.pl_run_finished_ts - r.pl_run_created_ts))",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FieldType::{Number as N, Text as T};
    use crate::store::named::col;

    #[test]
    fn placeholders_follow_the_split_and_the_backend() {
        const COLS: Columns = Columns(&[
            col("user_id", T),
            expr("{group}", "grp", T),
            expr("MAX({duration})", "longest", N),
        ]);
        let sql = "SELECT {columns} FROM t GROUP BY user_id{and_group}";
        assert_eq!(
            render(sql, COLS, Some(GroupBy::Model), BackendKind::Postgres),
            "SELECT user_id, i.model AS grp, MAX(EXTRACT(EPOCH FROM (r.pl_run_finished_ts - \
             r.pl_run_created_ts))) AS longest FROM t GROUP BY user_id, i.model"
        );
        assert_eq!(
            render(sql, COLS, None, BackendKind::Sqlite),
            "SELECT user_id, CAST(NULL AS TEXT) AS grp, MAX(((r.pl_run_finished_ts - \
             r.pl_run_created_ts) / 1000000.0)) AS longest FROM t GROUP BY user_id"
        );
        // A split with no data behind it keeps the ungrouped shape.
        assert_eq!(
            render(sql, COLS, Some(GroupBy::Deployment), BackendKind::Sqlite),
            render(sql, COLS, None, BackendKind::Sqlite)
        );
    }

    #[test]
    fn fragments_compose_into_static_sql() {
        assert_eq!(
            sum_int!("i.message_count"),
            "CAST(COALESCE(SUM(i.message_count), 0) AS BIGINT)"
        );
        assert_eq!(
            sum_int!(concat!("CASE WHEN ", is_project!(), " THEN 1 END")),
            "CAST(COALESCE(SUM(CASE WHEN COALESCE(t.personal, FALSE) = FALSE THEN 1 END), 0) \
             AS BIGINT)"
        );
    }
}

//! The `projects` report: one row per project (a team that is not a personal space, or a
//! workspace never upserted as a team) with its messages and owner. Each row follows its own
//! team's privacy setting.

use super::rows::{Rows, fill_zeros};
use super::sql::{Ctx, interactions_in_window, is_project, join_team, sum_int};
use crate::domain::FieldType::{Integer as I, Text as T};
use crate::reports::ReportError;
use crate::store::Value;
use crate::store::named::{Columns, expr};

const TEAMS: Columns = Columns(&[
    expr("t.id", "id", T),
    expr("t.name", "project_name", T),
    expr("t.owner_id", "project_owner_id", T),
    expr(
        "(SELECT MIN(m.email) FROM members m WHERE m.org_id = t.org_id AND m.id = t.owner_id)",
        "project_owner_email",
        T,
    ),
]);

const STATS: Columns = Columns(&[
    expr("i.workspace_id", "workspace_id", T),
    expr("MAX(i.workspace_name)", "project_name", T),
    expr(sum_int!("i.message_count"), "messages", I),
]);

pub(super) async fn rows(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    const TEAMS_SQL: &str = "SELECT {columns} FROM teams t WHERE t.org_id = ? \
         AND t.personal = FALSE AND (t.created_at IS NULL OR t.created_at < ?)";
    let mut rows = Rows::default();
    for mut t in ctx
        .fetch(TEAMS_SQL, &ctx.org_and_end(), TEAMS, "projects report team")
        .await?
    {
        let row = rows.entry((t.text("id")?, None));
        row.set("project_name", Value::Text(t.text("project_name")?));
        row.set("project_owner_id", t.take("project_owner_id")?);
        row.set("project_owner_email", t.take("project_owner_email")?);
    }
    const STATS_SQL: &str = concat!(
        "SELECT {columns} FROM agent_interactions i ",
        join_team!(),
        " WHERE ",
        interactions_in_window!(),
        " AND ",
        is_project!(),
        " GROUP BY i.workspace_id"
    );
    for mut r in ctx
        .fetch(STATS_SQL, &ctx.window(), STATS, "projects report stats")
        .await?
    {
        let row = rows.entry((r.text("workspace_id")?, None));
        row.set_missing("project_name", r.take("project_name")?);
        row.set("messages", Value::Integer(r.i64("messages")?));
    }
    for row in &mut rows.order {
        row.set("project_id", Value::Text(row.key.0.clone()));
        row.team = Some(row.key.0.clone());
        fill_zeros(row, &["messages"], &[], &[]);
    }
    Ok(rows)
}

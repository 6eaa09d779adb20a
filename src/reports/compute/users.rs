//! The `users` report: one row per member (and group), with message totals by kind, the
//! per-user maps (assistants, projects, models and actions to message counts), tokens, cost
//! and credits. Built in steps: the members who existed in the window, the grouped totals, one
//! grouped query per map, the tool calls (only without a split), then the member facts.

use super::rows::{Key, Rows, fill_zeros, json_map, rounded};
use super::sql::{Ctx, interactions_in_window, is_project, join_team, sum_int, sum_num};
use crate::domain::FieldType::{Integer as I, Number as N, Text as T, Timestamp as TS};
use crate::reports::ReportError;
use crate::store::Value;
use crate::store::named::{Columns, col, expr};
use std::collections::{BTreeMap, HashMap};

const USER_INTS: [&str; 10] = [
    "messages_total",
    "messages_chat",
    "messages_assistants",
    "assistants_messaged",
    "messages_projects",
    "projects_messaged",
    "action_messages",
    "action_messaged",
    "sum_prompt_tokens",
    "sum_completion_tokens",
];
const USER_NUMS: [&str; 2] = ["total_cost_usd", "credit_cost"];
const USER_MAPS: [&str; 4] = [
    "assistants_to_messages",
    "projects_to_messages",
    "model_to_messages_total",
    "action_to_messages",
];

pub(super) async fn rows(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let mut rows = Rows::default();
    let members = members(ctx, &mut rows).await?;
    totals(ctx, &mut rows).await?;
    for (col, sql, columns) in MAPS {
        // Model names are the split of `group_by=model`: the map would hold one entry.
        if ctx.grouped() && col == "model_to_messages_total" {
            continue;
        }
        fold_map(ctx, &mut rows, col, sql, columns).await?;
    }
    if !ctx.grouped() {
        // Tool calls have no model, so the action columns exist only without a split.
        actions(ctx, &mut rows).await?;
    }
    for row in &mut rows.order {
        row.set_key("user_id", ctx.group_column());
        if let Some(m) = members.get(&row.key.0) {
            row.set("name", Value::Text(m.name.clone()));
            row.set("email", Value::Text(m.email.clone()));
            row.set("role", Value::Text(m.role.clone()));
            row.set("joined_at", m.joined_at.clone());
            row.set("department", Value::opt_text(m.department.clone()));
        }
        fill_zeros(row, &USER_INTS, &USER_NUMS, &USER_MAPS);
    }
    Ok(rows)
}

/// What the report shows of a member.
struct Member {
    name: String,
    email: String,
    role: String,
    joined_at: Value,
    department: Option<String>,
}

const MEMBERS: Columns = Columns(&[
    col("id", T),
    col("name", T),
    col("email", T),
    col("role", T),
    col("joined_at", TS),
    col("department", T),
]);

/// The members who joined before the window's end, by id; without a split each gets a row,
/// used or not.
async fn members(ctx: &Ctx<'_>, rows: &mut Rows) -> Result<HashMap<String, Member>, ReportError> {
    let sql = "SELECT {columns} FROM members WHERE org_id = ? AND joined_at < ?";
    let mut members = HashMap::new();
    for mut m in ctx
        .fetch(sql, &ctx.org_and_end(), MEMBERS, "users report member")
        .await?
    {
        let id = m.text("id")?;
        if !ctx.grouped() {
            rows.entry((id.clone(), None));
        }
        let member = Member {
            name: m.text("name")?,
            email: m.text("email")?,
            role: m.text("role")?,
            joined_at: Value::Timestamp(m.ts("joined_at")?),
            department: m.opt_text("department")?,
        };
        members.insert(id, member);
    }
    Ok(members)
}

/// The totals read as integers under their own report column names.
const TOTAL_INTS: [&str; 8] = [
    "messages_total",
    "messages_chat",
    "messages_assistants",
    "assistants_messaged",
    "messages_projects",
    "projects_messaged",
    "sum_prompt_tokens",
    "sum_completion_tokens",
];

const TOTALS: Columns = Columns(&[
    expr("i.user_id", "user_id", T),
    expr("{group}", "grp", T),
    expr("MAX(i.user_email)", "email", T),
    expr(sum_int!("i.message_count"), "messages_total", I),
    expr(
        sum_int!("CASE WHEN i.agent_id IS NULL THEN i.message_count END"),
        "messages_chat",
        I,
    ),
    expr(
        sum_int!("CASE WHEN i.agent_id IS NOT NULL THEN i.message_count END"),
        "messages_assistants",
        I,
    ),
    expr("COUNT(DISTINCT i.agent_id)", "assistants_messaged", I),
    expr(
        sum_int!(concat!(
            "CASE WHEN ",
            is_project!(),
            " THEN i.message_count END"
        )),
        "messages_projects",
        I,
    ),
    expr(
        concat!(
            "COUNT(DISTINCT CASE WHEN ",
            is_project!(),
            " THEN i.workspace_id END)"
        ),
        "projects_messaged",
        I,
    ),
    expr(sum_int!("i.prompt_tokens"), "sum_prompt_tokens", I),
    expr(sum_int!("i.completion_tokens"), "sum_completion_tokens", I),
    expr(sum_num!("i.cost_usd"), "total_cost_usd", N),
    expr(sum_num!("i.credit_cost"), "credit_cost", N),
]);

/// Message totals by kind, tokens, cost and credits per user (and group).
async fn totals(ctx: &Ctx<'_>, rows: &mut Rows) -> Result<(), ReportError> {
    const SQL: &str = concat!(
        "SELECT {columns} FROM agent_interactions i ",
        join_team!(),
        " WHERE ",
        interactions_in_window!(),
        " AND i.user_id IS NOT NULL GROUP BY i.user_id{and_group}"
    );
    for mut r in ctx
        .fetch(SQL, &ctx.window(), TOTALS, "users report totals")
        .await?
    {
        let row = rows.entry((r.text("user_id")?, r.opt_text("grp")?));
        row.set_missing("email", r.take("email")?);
        for col in TOTAL_INTS {
            row.set(col, Value::Integer(r.i64(col)?));
        }
        row.set("total_cost_usd", rounded(r.f64("total_cost_usd")?, 6));
        row.set("credit_cost", rounded(r.f64("credit_cost")?, 6));
    }
    Ok(())
}

/// The columns of a per-user map query: user, group, the map's key, its message count.
macro_rules! map_columns {
    ($key:expr) => {
        Columns(&[
            expr("i.user_id", "user_id", T),
            expr("{group}", "grp", T),
            expr($key, "map_key", T),
            expr(sum_int!("i.message_count"), "messages", I),
        ])
    };
}

/// Each map column, its query and the query's columns.
const MAPS: [(&str, &str, Columns); 3] = [
    (
        "assistants_to_messages",
        concat!(
            "SELECT {columns} FROM agent_interactions i WHERE ",
            interactions_in_window!(),
            " AND i.user_id IS NOT NULL AND i.agent_id IS NOT NULL \
             GROUP BY i.user_id{and_group}, i.agent_id"
        ),
        map_columns!("i.agent_id"),
    ),
    (
        "projects_to_messages",
        concat!(
            "SELECT {columns} FROM agent_interactions i ",
            join_team!(),
            " WHERE ",
            interactions_in_window!(),
            " AND i.user_id IS NOT NULL AND ",
            is_project!(),
            " GROUP BY i.user_id{and_group}, i.workspace_id"
        ),
        map_columns!("i.workspace_id"),
    ),
    (
        "model_to_messages_total",
        concat!(
            "SELECT {columns} FROM agent_interactions i WHERE ",
            interactions_in_window!(),
            " AND i.user_id IS NOT NULL AND i.model IS NOT NULL \
             GROUP BY i.user_id{and_group}, i.model"
        ),
        map_columns!("i.model"),
    ),
];

/// Runs one map query and stores each user's `key → count` object in `col`. Rows that have
/// no entry yet (possible only for races with ingest) are created, so no usage is dropped.
async fn fold_map(
    ctx: &Ctx<'_>,
    rows: &mut Rows,
    col: &'static str,
    sql: &str,
    columns: Columns,
) -> Result<(), ReportError> {
    let mut maps: BTreeMap<Key, BTreeMap<String, i64>> = BTreeMap::new();
    for mut r in ctx
        .fetch(sql, &ctx.window(), columns, "users report map")
        .await?
    {
        maps.entry((r.text("user_id")?, r.opt_text("grp")?))
            .or_default()
            .insert(r.text("map_key")?, r.i64("messages")?);
    }
    for (key, m) in maps {
        rows.entry(key).set(col, json_map(&m));
    }
    Ok(())
}

const CALLS: Columns = Columns(&[
    col("user_id", T),
    col("tool_name", T),
    expr("COUNT(*)", "calls", I),
    expr("MAX(user_email)", "email", T),
]);

/// Tool calls per user and tool: the action columns.
async fn actions(ctx: &Ctx<'_>, rows: &mut Rows) -> Result<(), ReportError> {
    let sql = "SELECT {columns} FROM tool_calls \
               WHERE org_id = ? AND created_at >= ? AND created_at < ? \
               AND user_id IS NOT NULL GROUP BY user_id, tool_name";
    let mut actions: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
    for mut r in ctx
        .fetch(sql, &ctx.window(), CALLS, "users report tool calls")
        .await?
    {
        let user = r.text("user_id")?;
        rows.entry((user.clone(), None))
            .set_missing("email", r.take("email")?);
        actions
            .entry(user)
            .or_default()
            .insert(r.text("tool_name")?, r.i64("calls")?);
    }
    for (user, tools) in actions {
        if let Some(row) = rows.get_mut(&(user, None)) {
            row.set("action_messages", Value::Integer(tools.values().sum()));
            row.set("action_messaged", Value::Integer(tools.len() as i64));
            row.set("action_to_messages", json_map(&tools));
        }
    }
    Ok(())
}

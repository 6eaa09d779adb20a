//! The `agents` report (alias `assistants`): one row per agent (and group), with its messages,
//! users, conversations, token statistics, cost and credits, and the facts of its current
//! version (description, owner). Agents follow their team's privacy setting.

use super::rows::{Rows, fill_zeros, opt_rounded, round, rounded};
use super::sql::{Ctx, interactions_in_window, sum_int, sum_num};
use crate::domain::FieldType::{Integer as I, Number as N, Text as T};
use crate::reports::ReportError;
use crate::store::Value;
use crate::store::named::{Columns, expr};
use std::collections::HashMap;

/// What the report shows of an agent's entity and current version.
struct Agent {
    name: String,
    team: String,
    description: Option<String>,
    owner_email: Option<String>,
    owner_id: Option<String>,
}

const AGENTS: Columns = Columns(&[
    expr("a.id", "id", T),
    expr("a.name", "name", T),
    expr("a.workspace_id", "team", T),
    expr("v.agent_description", "description", T),
    expr("v.creator_email", "owner_email", T),
    expr(
        "(SELECT MIN(m.id) FROM members m WHERE m.org_id = a.org_id \
         AND m.email = v.creator_email)",
        "owner_id",
        T,
    ),
]);

const STATS: Columns = Columns(&[
    expr("i.agent_id", "agent_id", T),
    expr("{group}", "grp", T),
    expr("MAX(i.agent_name)", "assistant_name", T),
    expr("MAX(i.workspace_id)", "team", T),
    expr(sum_int!("i.message_count"), "messages", I),
    expr("COUNT(DISTINCT i.user_id)", "unique_users", I),
    expr("COUNT(*)", "conversations", I),
    expr(sum_int!("i.prompt_tokens"), "sum_prompt_tokens", I),
    expr(
        "CAST(AVG(i.prompt_tokens) AS DOUBLE PRECISION)",
        "avg_prompt_tokens",
        N,
    ),
    expr("MIN(i.prompt_tokens)", "min_prompt_tokens", I),
    expr("MAX(i.prompt_tokens)", "max_prompt_tokens", I),
    expr(sum_int!("i.completion_tokens"), "sum_completion_tokens", I),
    expr(
        "CAST(AVG(i.completion_tokens) AS DOUBLE PRECISION)",
        "avg_completion_tokens",
        N,
    ),
    expr("MIN(i.completion_tokens)", "min_completion_tokens", I),
    expr("MAX(i.completion_tokens)", "max_completion_tokens", I),
    expr(
        sum_int!("i.cached_prompt_tokens"),
        "sum_cached_prompt_tokens",
        I,
    ),
    expr(
        sum_int!("i.cache_creation_tokens"),
        "sum_cache_creation_tokens",
        I,
    ),
    expr(sum_num!("i.cost_usd"), "total_cost_usd", N),
    expr(sum_num!("i.credit_cost"), "credit_cost", N),
]);

/// Sums read as integers under their own report column names.
const SUMS: [&str; 4] = [
    "sum_prompt_tokens",
    "sum_completion_tokens",
    "sum_cached_prompt_tokens",
    "sum_cache_creation_tokens",
];

/// Minimums and maximums, NULL when the tokens were never reported.
const EXTREMES: [&str; 4] = [
    "min_prompt_tokens",
    "max_prompt_tokens",
    "min_completion_tokens",
    "max_completion_tokens",
];

pub(super) async fn rows(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let mut rows = Rows::default();
    let agents = agents(ctx, &mut rows).await?;
    const SQL: &str = concat!(
        "SELECT {columns} FROM agent_interactions i WHERE ",
        interactions_in_window!(),
        " AND i.agent_id IS NOT NULL GROUP BY i.agent_id{and_group}"
    );
    for mut r in ctx
        .fetch(SQL, &ctx.window(), STATS, "agents report stats")
        .await?
    {
        let row = rows.entry((r.text("agent_id")?, r.opt_text("grp")?));
        row.set_missing("assistant_name", r.take("assistant_name")?);
        row.team = r.opt_text("team")?;
        let (messages, users) = (r.i64("messages")?, r.i64("unique_users")?);
        row.set("messages", Value::Integer(messages));
        row.set("unique_users", Value::Integer(users));
        row.set("active_users", Value::Integer(users));
        row.set("conversations", Value::Integer(r.i64("conversations")?));
        if users > 0 {
            row.set(
                "messages_per_user",
                Value::Number(round(messages as f64 / users as f64, 2)),
            );
        }
        for col in SUMS {
            row.set(col, Value::Integer(r.i64(col)?));
        }
        for col in ["avg_prompt_tokens", "avg_completion_tokens"] {
            row.set(col, opt_rounded(r.opt_f64(col)?, 2));
        }
        for col in EXTREMES {
            row.set(col, r.take(col)?);
        }
        row.set("total_cost_usd", rounded(r.f64("total_cost_usd")?, 6));
        row.set("credit_cost", rounded(r.f64("credit_cost")?, 6));
    }

    for row in &mut rows.order {
        row.set_key("assistant_id", ctx.group_column());
        if let Some(a) = agents.get(&row.key.0) {
            row.set("assistant_name", Value::Text(a.name.clone()));
            // The agent's current team decides its privacy, as it does for its records.
            row.team = Some(a.team.clone());
            row.set(
                "assistant_description",
                Value::opt_text(a.description.clone()),
            );
            row.set(
                "assistant_owner_email",
                Value::opt_text(a.owner_email.clone()),
            );
            row.set("assistant_owner_id", Value::opt_text(a.owner_id.clone()));
        }
        fill_zeros(
            row,
            &[
                "messages",
                "unique_users",
                "active_users",
                "conversations",
                "sum_prompt_tokens",
                "sum_completion_tokens",
                "sum_cached_prompt_tokens",
                "sum_cache_creation_tokens",
            ],
            &["total_cost_usd", "credit_cost"],
            &[],
        );
    }
    Ok(rows)
}

/// The agents whose current version was created before the window's end, by id; without a
/// split each gets a row, used or not.
async fn agents(ctx: &Ctx<'_>, rows: &mut Rows) -> Result<HashMap<String, Agent>, ReportError> {
    const SQL: &str = "SELECT {columns} FROM agents a LEFT JOIN agent_versions v \
         ON v.org_id = a.org_id AND v.agent_id = a.id AND v.agent_version = a.version \
         WHERE a.org_id = ? AND (v.agent_created_ts IS NULL OR v.agent_created_ts < ?)";
    let mut agents = HashMap::new();
    for mut e in ctx
        .fetch(SQL, &ctx.org_and_end(), AGENTS, "agents report agent")
        .await?
    {
        let id = e.text("id")?;
        if !ctx.grouped() {
            rows.entry((id.clone(), None));
        }
        let agent = Agent {
            name: e.text("name")?,
            team: e.text("team")?,
            description: e.opt_text("description")?,
            owner_email: e.opt_text("owner_email")?,
            owner_id: e.opt_text("owner_id")?,
        };
        agents.insert(id, agent);
    }
    Ok(agents)
}

//! The `api_keys` report (alias `api-keys`): one row per platform key (and group) that was
//! live during the window, with its requests, cost and token totals, and the cache split.

use super::rows::{Rows, fill_zeros, no_cache, rounded};
use super::sql::{Ctx, interactions_in_window, sum_int, sum_num};
use crate::domain::FieldType::{Integer as I, Number as N, Text as T};
use crate::reports::ReportError;
use crate::store::Value;
use crate::store::named::{Columns, col, expr};
use std::collections::HashMap;

const KEYS: Columns = Columns(&[col("id", T), col("name", T)]);

const STATS: Columns = Columns(&[
    expr("i.api_key_id", "api_key_id", T),
    expr("{group}", "grp", T),
    expr("COUNT(*)", "requests", I),
    expr(sum_num!("i.cost_usd"), "total_cost_usd", N),
    expr(sum_int!("i.prompt_tokens"), "sum_prompt_tokens", I),
    expr(sum_int!("i.completion_tokens"), "sum_completion_tokens", I),
    expr(
        sum_int!("i.cached_prompt_tokens"),
        "cached_prompt_tokens",
        I,
    ),
    expr(
        sum_int!("i.cache_creation_tokens"),
        "cache_creation_tokens",
        I,
    ),
]);

pub(super) async fn rows(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let mut rows = Rows::default();
    let names = keys(ctx, &mut rows).await?;
    const SQL: &str = concat!(
        "SELECT {columns} FROM agent_interactions i WHERE ",
        interactions_in_window!(),
        " AND i.api_key_id IS NOT NULL GROUP BY i.api_key_id{and_group}"
    );
    for mut r in ctx
        .fetch(SQL, &ctx.window(), STATS, "api_keys report stats")
        .await?
    {
        let row = rows.entry((r.text("api_key_id")?, r.opt_text("grp")?));
        let prompt = r.i64("sum_prompt_tokens")?;
        let cached = r.i64("cached_prompt_tokens")?;
        let creation = r.i64("cache_creation_tokens")?;
        row.set("requests", Value::Integer(r.i64("requests")?));
        row.set("total_cost_usd", rounded(r.f64("total_cost_usd")?, 6));
        row.set("sum_prompt_tokens", Value::Integer(prompt));
        row.set(
            "sum_completion_tokens",
            Value::Integer(r.i64("sum_completion_tokens")?),
        );
        row.set("cached_prompt_tokens", Value::Integer(cached));
        row.set("cache_creation_tokens", Value::Integer(creation));
        row.set(
            "no_cache_tokens",
            Value::Integer(no_cache(prompt, cached, creation)),
        );
    }
    for row in &mut rows.order {
        row.set_key("api_key_id", ctx.group_column());
        if let Some(name) = names.get(&row.key.0) {
            row.set("api_key_name", Value::Text(name.clone()));
        }
        fill_zeros(
            row,
            &[
                "requests",
                "sum_prompt_tokens",
                "sum_completion_tokens",
                "cached_prompt_tokens",
                "cache_creation_tokens",
                "no_cache_tokens",
            ],
            &["total_cost_usd"],
            &[],
        );
    }
    Ok(rows)
}

/// The keys live during the window (created before its end, not revoked before its start):
/// names by id; without a split each gets a row, used or not.
async fn keys(ctx: &Ctx<'_>, rows: &mut Rows) -> Result<HashMap<String, String>, ReportError> {
    const SQL: &str = "SELECT {columns} FROM api_keys WHERE org_id = ? \
         AND (created_at IS NULL OR created_at < ?) \
         AND (revoked_at IS NULL OR revoked_at >= ?)";
    let params = [
        ctx.org.into(),
        Value::Timestamp(ctx.req.range.end),
        Value::Timestamp(ctx.req.range.start),
    ];
    let mut names = HashMap::new();
    for mut k in ctx.fetch(SQL, &params, KEYS, "api_keys report key").await? {
        let id = k.text("id")?;
        if !ctx.grouped() {
            rows.entry((id.clone(), None));
        }
        names.insert(id, k.text("name")?);
    }
    Ok(names)
}

//! The `models` report: one row per model seen in the window (and group), with requests,
//! token totals, the cache split, cost and messages. There is no model entity table: the rows
//! come from the records alone, spellings of one model folded into one row.

use super::rows::{Row, Rows, no_cache, round};
use super::sql::{Ctx, interactions_in_window, sum_int, sum_num};
use crate::domain::FieldType::{Integer as I, Number as N, Text as T};
use crate::reports::ReportError;
use crate::store::Value;
use crate::store::named::{Columns, expr};

const STATS: Columns = Columns(&[
    expr("i.model", "model", T),
    expr("{group}", "grp", T),
    expr("COUNT(*)", "requests", I),
    expr(sum_int!("i.prompt_tokens"), "sum_prompt_tokens", I),
    expr(sum_int!("i.completion_tokens"), "sum_completion_tokens", I),
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
    expr(sum_int!("i.message_count"), "messages", I),
]);

/// Integer columns added up over the spellings folded into one row.
const ADDED: [&str; 6] = [
    "requests",
    "sum_prompt_tokens",
    "sum_completion_tokens",
    "sum_cached_prompt_tokens",
    "sum_cache_creation_tokens",
    "messages",
];

/// `provider/name` → (`name`, `provider`), lower-cased and trimmed, so spellings of one model
/// share a row. An id without `/` has no provider.
fn normalize_model(raw: &str) -> (String, Option<String>) {
    let raw = raw.trim().to_lowercase();
    match raw.split_once('/') {
        Some((provider, name)) if !provider.is_empty() && !name.is_empty() => {
            (name.to_owned(), Some(provider.to_owned()))
        }
        _ => (raw, None),
    }
}

pub(super) async fn rows(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    const SQL: &str = concat!(
        "SELECT {columns} FROM agent_interactions i WHERE ",
        interactions_in_window!(),
        " GROUP BY i.model{and_group}"
    );
    let mut rows = Rows::default();
    for mut r in ctx
        .fetch(SQL, &ctx.window(), STATS, "models report stats")
        .await?
    {
        // Records without a model share one row with an empty name.
        let (name, provider) = r
            .opt_text("model")?
            .map_or((String::new(), None), |m| normalize_model(&m));
        // The key orders rows by name, then provider, then group; `\u{0}` keeps the two
        // parts of the id apart.
        let id = format!("{name}\u{0}{}", provider.clone().unwrap_or_default());
        let row = rows.entry((id, r.opt_text("grp")?));
        row.set(
            "name",
            if name.is_empty() {
                Value::Null
            } else {
                Value::Text(name)
            },
        );
        row.set("provider", Value::opt_text(provider));
        row.set("bring_your_keys", Value::Bool(false));
        // Several raw spellings may fold into one row: add up.
        for col in ADDED {
            add(row, col, r.i64(col)?);
        }
        let usd = row.num("total_cost_usd") + r.f64("total_cost_usd")?;
        row.set("total_cost_usd", Value::Number(round(usd, 6)));
    }
    for row in &mut rows.order {
        if let Some(g) = ctx.group_column() {
            row.set(g, Value::opt_text(row.key.1.clone()));
        }
        let tokens = no_cache(
            row.int("sum_prompt_tokens"),
            row.int("sum_cached_prompt_tokens"),
            row.int("sum_cache_creation_tokens"),
        );
        row.set("no_cache_tokens", Value::Integer(tokens));
    }
    Ok(rows)
}

fn add(row: &mut Row, col: &'static str, v: i64) {
    let total = row.int(col) + v;
    row.set(col, Value::Integer(total));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_split_into_name_and_provider() {
        assert_eq!(
            normalize_model(" OpenAI/GPT-4.1 "),
            ("gpt-4.1".into(), Some("openai".into()))
        );
        assert_eq!(
            normalize_model("mistral-large"),
            ("mistral-large".into(), None)
        );
        assert_eq!(normalize_model("/x"), ("/x".into(), None));
    }
}

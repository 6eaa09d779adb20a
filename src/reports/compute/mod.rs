//! The aggregates behind each report. Every sum, count and average runs as a `GROUP BY` in the
//! database over the window's records (indexed by `(org_id, time)`); Rust only merges the
//! grouped results with the entity lists, ranks, orders and masks them, so memory grows with
//! the number of report rows, never with the number of records.
//!
//! The SQL is written once for both backends: `?` placeholders, window bounds bound as
//! [`Value::Timestamp`] (INTEGER micros on SQLite, TIMESTAMPTZ on PostgreSQL), sums cast to
//! `BIGINT` / `DOUBLE PRECISION` because PostgreSQL widens `SUM(bigint)` to `numeric`, and
//! booleans compared with `TRUE` / `FALSE`, which SQLite reads as 1 / 0. Only the run
//! duration differs per backend ([`duration_seconds`]).

use super::columns::{ColumnKind, ColumnPrivacy, columns};
use super::{GroupBy, Report, ReportError, ReportRequest, ReportType, period_end, period_start};
use crate::domain::FieldType::{self, Integer as I, Number as N, Text as T, Timestamp as TS};
use crate::domain::entity::Privacy;
use crate::privacy::PrivacyPolicy;
use crate::store::{BackendKind, Store, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// Entity id and group value: the identity of one report row.
type Key = (String, Option<String>);

/// One report row under construction: cells by column id, and the team whose privacy
/// setting applies to it (`None`: the organization's).
struct Row {
    key: Key,
    team: Option<String>,
    cells: HashMap<&'static str, Value>,
}

impl Row {
    fn new(key: Key) -> Row {
        Row {
            key,
            team: None,
            cells: HashMap::new(),
        }
    }

    fn set(&mut self, col: &'static str, v: Value) {
        self.cells.insert(col, v);
    }

    /// Sets a column only if nothing set it yet (entity facts win over record copies).
    fn set_missing(&mut self, col: &'static str, v: Value) {
        self.cells.entry(col).or_insert(v);
    }

    fn int(&self, col: &str) -> i64 {
        self.cells.get(col).and_then(Value::as_i64).unwrap_or(0)
    }

    fn num(&self, col: &str) -> f64 {
        match self.cells.get(col) {
            Some(Value::Number(n)) => *n,
            Some(Value::Integer(i)) => *i as f64,
            _ => 0.0,
        }
    }
}

/// The rows of a report in insertion order, looked up by key.
#[derive(Default)]
struct Rows {
    order: Vec<Row>,
    index: HashMap<Key, usize>,
}

impl Rows {
    fn entry(&mut self, key: Key) -> &mut Row {
        let i = match self.index.get(&key) {
            Some(i) => *i,
            None => {
                self.order.push(Row::new(key.clone()));
                self.index.insert(key, self.order.len() - 1);
                self.order.len() - 1
            }
        };
        &mut self.order[i]
    }

    fn get_mut(&mut self, key: &Key) -> Option<&mut Row> {
        self.index.get(key).map(|i| &mut self.order[*i])
    }
}

/// The window's SQL parameters and the report's split.
struct Ctx<'a> {
    store: &'a Store,
    org: &'a str,
    req: &'a ReportRequest,
}

impl Ctx<'_> {
    /// `org, start, end` for a `org_id = ? AND ts >= ? AND ts < ?` filter.
    fn window(&self) -> Vec<Value> {
        vec![
            self.org.into(),
            Value::Timestamp(self.req.range.start),
            Value::Timestamp(self.req.range.end),
        ]
    }

    /// The group expression over `agent_interactions i`, and whether it is grouped on.
    /// Without a real split the expression is a typed NULL, so every query keeps one shape.
    fn group_expr(&self) -> (&'static str, bool) {
        match self.req.group_by {
            Some(GroupBy::Model) => ("i.model", true),
            Some(GroupBy::Source) => ("i.source", true),
            // No deployment is ingested: one empty group (see the module docs).
            Some(GroupBy::Deployment) | None => ("CAST(NULL AS TEXT)", false),
        }
    }

    fn group_by_clause(&self, entity: &str) -> String {
        match self.group_expr() {
            (g, true) => format!("GROUP BY {entity}, {g}"),
            (_, false) => format!("GROUP BY {entity}"),
        }
    }

    fn grouped(&self) -> bool {
        self.req.group_by.is_some()
    }

    async fn fetch(
        &self,
        sql: &str,
        params: &[Value],
        types: &[FieldType],
    ) -> Result<Vec<Vec<Value>>, ReportError> {
        Ok(self.store.query(sql, params, types).await?)
    }

    async fn count(&self, sql: &str) -> Result<u64, ReportError> {
        let rows = self.fetch(sql, &self.window(), &[I]).await?;
        let n = rows.first().and_then(|r| r[0].as_i64()).unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

const INTERACTIONS_IN_WINDOW: &str = "i.org_id = ? AND i.interaction_created_ts >= ? \
     AND i.interaction_created_ts < ?";
/// Joins an interaction to its team, to tell project chats from personal-space chats.
const JOIN_TEAM: &str = "LEFT JOIN teams t ON t.org_id = i.org_id AND t.id = i.workspace_id";
/// A workspace is a project unless it is known to be a personal space.
const IS_PROJECT: &str = "COALESCE(t.personal, FALSE) = FALSE";

fn sum_int(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

fn sum_num(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS DOUBLE PRECISION)")
}

/// Seconds between a run's start and finish (NULL while running).
fn duration_seconds(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => "((r.pl_run_finished_ts - r.pl_run_created_ts) / 1000000.0)",
        BackendKind::Postgres => "EXTRACT(EPOCH FROM (r.pl_run_finished_ts - r.pl_run_created_ts))",
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_text().map(str::to_owned)
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        Value::Integer(i) => *i as f64,
        _ => 0.0,
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    let y = (x * f).round() / f;
    // Scaling a huge sum can overflow; the sum itself is then the better answer than `inf`.
    if y.is_finite() { y } else { x }
}

fn opt_num(v: &Value, decimals: i32) -> Value {
    match v {
        Value::Number(n) => Value::Number(round(*n, decimals)),
        Value::Integer(i) => Value::Number(*i as f64),
        _ => Value::Null,
    }
}

fn json_map(m: &BTreeMap<String, i64>) -> Value {
    Value::Json(serde_json::Value::Object(
        m.iter().map(|(k, v)| (k.clone(), (*v).into())).collect(),
    ))
}

/// Tokens of input neither read from nor written to the cache (see the module docs).
fn no_cache(prompt: i64, cached: i64, creation: i64) -> i64 {
    (prompt - cached - creation).max(0)
}

/// Zeroes for the metric columns a row did not get from any aggregate (an unused entity).
fn fill_zeros(row: &mut Row, ints: &[&'static str], nums: &[&'static str], maps: &[&'static str]) {
    for c in ints {
        row.set_missing(c, Value::Integer(0));
    }
    for c in nums {
        row.set_missing(c, Value::Number(0.0));
    }
    for c in maps {
        row.set_missing(c, Value::Json(serde_json::json!({})));
    }
}

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
        ReportType::Users => (users(&ctx).await?, "messages_total"),
        ReportType::Agents => (agents(&ctx).await?, "messages"),
        ReportType::ApiKeys => (api_keys(&ctx).await?, "requests"),
        ReportType::Projects => (projects(&ctx).await?, "messages"),
        ReportType::Models => (models(&ctx).await?, "requests"),
        ReportType::Workflows => (workflows(&ctx).await?, "runs"),
    };
    Ok(finish(&ctx, &policy, rows, metric))
}

/// Source records of the report in the window.
async fn scanned_records(ctx: &Ctx<'_>) -> Result<u64, ReportError> {
    let interactions = |extra: &str| {
        format!("SELECT COUNT(*) FROM agent_interactions i WHERE {INTERACTIONS_IN_WINDOW}{extra}")
    };
    Ok(match ctx.req.report_type {
        ReportType::Users => {
            let tools = ctx
                .count(
                    "SELECT COUNT(*) FROM tool_calls WHERE org_id = ? AND created_at >= ? \
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
            ctx.count(&format!(
                "SELECT COUNT(*) FROM agent_interactions i {JOIN_TEAM} \
                 WHERE {INTERACTIONS_IN_WINDOW} AND {IS_PROJECT}"
            ))
            .await?
        }
        ReportType::Models => ctx.count(&interactions("")).await?,
        ReportType::Workflows => {
            ctx.count(
                "SELECT COUNT(*) FROM workflow_runs WHERE org_id = ? \
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

// ----- users ---------------------------------------------------------------------------------

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

async fn users(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let members = ctx
        .fetch(
            "SELECT id, name, email, role, joined_at, department FROM members \
             WHERE org_id = ? AND joined_at < ?",
            &[ctx.org.into(), Value::Timestamp(ctx.req.range.end)],
            &[T, T, T, T, TS, T],
        )
        .await?;
    let mut facts: HashMap<String, Vec<Value>> = HashMap::new();
    let mut rows = Rows::default();
    for m in members {
        let Some(id) = text(&m[0]) else { continue };
        if !ctx.grouped() {
            rows.entry((id.clone(), None));
        }
        facts.insert(id, m);
    }

    let (g, _) = ctx.group_expr();
    let totals = ctx
        .fetch(
            &format!(
                "SELECT i.user_id, {g}, MAX(i.user_email), {total}, {chat}, {assistants}, \
                 COUNT(DISTINCT i.agent_id), {projects}, \
                 COUNT(DISTINCT CASE WHEN {IS_PROJECT} THEN i.workspace_id END), \
                 {prompt}, {completion}, {usd}, {credits} \
                 FROM agent_interactions i {JOIN_TEAM} \
                 WHERE {INTERACTIONS_IN_WINDOW} AND i.user_id IS NOT NULL {group}",
                total = sum_int("i.message_count"),
                chat = sum_int("CASE WHEN i.agent_id IS NULL THEN i.message_count END"),
                assistants = sum_int("CASE WHEN i.agent_id IS NOT NULL THEN i.message_count END"),
                projects = sum_int(&format!("CASE WHEN {IS_PROJECT} THEN i.message_count END")),
                prompt = sum_int("i.prompt_tokens"),
                completion = sum_int("i.completion_tokens"),
                usd = sum_num("i.cost_usd"),
                credits = sum_num("i.credit_cost"),
                group = ctx.group_by_clause("i.user_id"),
            ),
            &ctx.window(),
            &[T, T, T, I, I, I, I, I, I, I, I, N, N],
        )
        .await?;
    for r in totals {
        let Some(id) = text(&r[0]) else { continue };
        let row = rows.entry((id, text(&r[1])));
        row.set_missing("email", r[2].clone());
        for (col, i) in [
            ("messages_total", 3),
            ("messages_chat", 4),
            ("messages_assistants", 5),
            ("assistants_messaged", 6),
            ("messages_projects", 7),
            ("projects_messaged", 8),
            ("sum_prompt_tokens", 9),
            ("sum_completion_tokens", 10),
        ] {
            row.set(col, Value::Integer(int(&r[i])));
        }
        row.set("total_cost_usd", Value::Number(round(num(&r[11]), 6)));
        row.set("credit_cost", Value::Number(round(num(&r[12]), 6)));
    }

    // Per-user maps: one grouped query each, folded into JSON objects.
    let group = |extra: &str| format!("{}, {extra}", ctx.group_by_clause("i.user_id"));
    let maps: [(&'static str, String); 3] = [
        (
            "assistants_to_messages",
            format!(
                "SELECT i.user_id, {g}, i.agent_id, {m} FROM agent_interactions i \
                 WHERE {INTERACTIONS_IN_WINDOW} AND i.user_id IS NOT NULL \
                 AND i.agent_id IS NOT NULL {grp}",
                m = sum_int("i.message_count"),
                grp = group("i.agent_id"),
            ),
        ),
        (
            "projects_to_messages",
            format!(
                "SELECT i.user_id, {g}, i.workspace_id, {m} FROM agent_interactions i {JOIN_TEAM} \
                 WHERE {INTERACTIONS_IN_WINDOW} AND i.user_id IS NOT NULL AND {IS_PROJECT} {grp}",
                m = sum_int("i.message_count"),
                grp = group("i.workspace_id"),
            ),
        ),
        (
            "model_to_messages_total",
            format!(
                "SELECT i.user_id, {g}, i.model, {m} FROM agent_interactions i \
                 WHERE {INTERACTIONS_IN_WINDOW} AND i.user_id IS NOT NULL \
                 AND i.model IS NOT NULL {grp}",
                m = sum_int("i.message_count"),
                grp = group("i.model"),
            ),
        ),
    ];
    for (col, sql) in maps {
        if ctx.grouped() && col == "model_to_messages_total" {
            continue;
        }
        fold_map(ctx, &mut rows, col, &sql).await?;
    }

    if !ctx.grouped() {
        // Tool calls have no model, so the action columns exist only without a split.
        let calls = ctx
            .fetch(
                "SELECT user_id, tool_name, COUNT(*), MAX(user_email) FROM tool_calls \
                 WHERE org_id = ? AND created_at >= ? AND created_at < ? \
                 AND user_id IS NOT NULL GROUP BY user_id, tool_name",
                &ctx.window(),
                &[T, T, I, T],
            )
            .await?;
        let mut actions: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
        for r in calls {
            let (Some(user), Some(tool)) = (text(&r[0]), text(&r[1])) else {
                continue;
            };
            rows.entry((user.clone(), None))
                .set_missing("email", r[3].clone());
            actions.entry(user).or_default().insert(tool, int(&r[2]));
        }
        for (user, tools) in actions {
            if let Some(row) = rows.get_mut(&(user, None)) {
                row.set("action_messages", Value::Integer(tools.values().sum()));
                row.set("action_messaged", Value::Integer(tools.len() as i64));
                row.set("action_to_messages", json_map(&tools));
            }
        }
    }

    for row in &mut rows.order {
        row.set("user_id", Value::Text(row.key.0.clone()));
        if let Some(g) = ctx.req.group_by {
            row.set(g.as_str(), Value::opt_text(row.key.1.clone()));
        }
        if let Some(m) = facts.get(&row.key.0) {
            row.set("name", m[1].clone());
            row.set("email", m[2].clone());
            row.set("role", m[3].clone());
            row.set("joined_at", m[4].clone());
            row.set("department", m[5].clone());
        }
        fill_zeros(row, &USER_INTS, &USER_NUMS, &USER_MAPS);
    }
    Ok(rows)
}

/// Runs `sql` — `(user_id, group, key, count)` rows — and stores each user's `key → count`
/// object in `col`. Rows that have no entry yet (possible only for races with ingest) are
/// created, so no usage is dropped.
async fn fold_map(
    ctx: &Ctx<'_>,
    rows: &mut Rows,
    col: &'static str,
    sql: &str,
) -> Result<(), ReportError> {
    let mut maps: BTreeMap<Key, BTreeMap<String, i64>> = BTreeMap::new();
    for r in ctx.fetch(sql, &ctx.window(), &[T, T, T, I]).await? {
        let (Some(user), Some(k)) = (text(&r[0]), text(&r[2])) else {
            continue;
        };
        maps.entry((user, text(&r[1])))
            .or_default()
            .insert(k, int(&r[3]));
    }
    for (key, m) in maps {
        rows.entry(key).set(col, json_map(&m));
    }
    Ok(())
}

// ----- agents --------------------------------------------------------------------------------

async fn agents(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let entities = ctx
        .fetch(
            "SELECT a.id, a.name, a.workspace_id, v.agent_description, v.creator_email, \
             (SELECT MIN(m.id) FROM members m WHERE m.org_id = a.org_id \
              AND m.email = v.creator_email) \
             FROM agents a LEFT JOIN agent_versions v ON v.org_id = a.org_id \
             AND v.agent_id = a.id AND v.agent_version = a.version \
             WHERE a.org_id = ? AND (v.agent_created_ts IS NULL OR v.agent_created_ts < ?)",
            &[ctx.org.into(), Value::Timestamp(ctx.req.range.end)],
            &[T, T, T, T, T, T],
        )
        .await?;
    let mut facts: HashMap<String, Vec<Value>> = HashMap::new();
    let mut rows = Rows::default();
    for e in entities {
        let Some(id) = text(&e[0]) else { continue };
        if !ctx.grouped() {
            rows.entry((id.clone(), None));
        }
        facts.insert(id, e);
    }

    let (g, _) = ctx.group_expr();
    let stats = ctx
        .fetch(
            &format!(
                "SELECT i.agent_id, {g}, MAX(i.agent_name), MAX(i.workspace_id), {messages}, \
                 COUNT(DISTINCT i.user_id), COUNT(*), \
                 {prompt}, CAST(AVG(i.prompt_tokens) AS DOUBLE PRECISION), \
                 MIN(i.prompt_tokens), MAX(i.prompt_tokens), \
                 {completion}, CAST(AVG(i.completion_tokens) AS DOUBLE PRECISION), \
                 MIN(i.completion_tokens), MAX(i.completion_tokens), \
                 {cached}, {creation}, {usd}, {credits} \
                 FROM agent_interactions i \
                 WHERE {INTERACTIONS_IN_WINDOW} AND i.agent_id IS NOT NULL {group}",
                messages = sum_int("i.message_count"),
                prompt = sum_int("i.prompt_tokens"),
                completion = sum_int("i.completion_tokens"),
                cached = sum_int("i.cached_prompt_tokens"),
                creation = sum_int("i.cache_creation_tokens"),
                usd = sum_num("i.cost_usd"),
                credits = sum_num("i.credit_cost"),
                group = ctx.group_by_clause("i.agent_id"),
            ),
            &ctx.window(),
            &[T, T, T, T, I, I, I, I, N, I, I, I, N, I, I, I, I, N, N],
        )
        .await?;
    for r in stats {
        let Some(id) = text(&r[0]) else { continue };
        let row = rows.entry((id, text(&r[1])));
        row.set_missing("assistant_name", r[2].clone());
        row.team = text(&r[3]);
        let (messages, users) = (int(&r[4]), int(&r[5]));
        row.set("messages", Value::Integer(messages));
        row.set("unique_users", Value::Integer(users));
        row.set("active_users", Value::Integer(users));
        row.set("conversations", Value::Integer(int(&r[6])));
        if users > 0 {
            row.set(
                "messages_per_user",
                Value::Number(round(messages as f64 / users as f64, 2)),
            );
        }
        row.set("sum_prompt_tokens", Value::Integer(int(&r[7])));
        row.set("avg_prompt_tokens", opt_num(&r[8], 2));
        row.set("min_prompt_tokens", r[9].clone());
        row.set("max_prompt_tokens", r[10].clone());
        row.set("sum_completion_tokens", Value::Integer(int(&r[11])));
        row.set("avg_completion_tokens", opt_num(&r[12], 2));
        row.set("min_completion_tokens", r[13].clone());
        row.set("max_completion_tokens", r[14].clone());
        row.set("sum_cached_prompt_tokens", Value::Integer(int(&r[15])));
        row.set("sum_cache_creation_tokens", Value::Integer(int(&r[16])));
        row.set("total_cost_usd", Value::Number(round(num(&r[17]), 6)));
        row.set("credit_cost", Value::Number(round(num(&r[18]), 6)));
    }

    for row in &mut rows.order {
        row.set("assistant_id", Value::Text(row.key.0.clone()));
        if let Some(g) = ctx.req.group_by {
            row.set(g.as_str(), Value::opt_text(row.key.1.clone()));
        }
        if let Some(e) = facts.get(&row.key.0) {
            row.set("assistant_name", e[1].clone());
            // The agent's current team decides its privacy, as it does for its records.
            row.team = text(&e[2]).or(row.team.take());
            row.set("assistant_description", e[3].clone());
            row.set("assistant_owner_email", e[4].clone());
            row.set("assistant_owner_id", e[5].clone());
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

// ----- api keys ------------------------------------------------------------------------------

async fn api_keys(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let keys = ctx
        .fetch(
            "SELECT id, name FROM api_keys WHERE org_id = ? \
             AND (created_at IS NULL OR created_at < ?) \
             AND (revoked_at IS NULL OR revoked_at >= ?)",
            &[
                ctx.org.into(),
                Value::Timestamp(ctx.req.range.end),
                Value::Timestamp(ctx.req.range.start),
            ],
            &[T, T],
        )
        .await?;
    let mut names: HashMap<String, Value> = HashMap::new();
    let mut rows = Rows::default();
    for k in keys {
        let Some(id) = text(&k[0]) else { continue };
        if !ctx.grouped() {
            rows.entry((id.clone(), None));
        }
        names.insert(id, k[1].clone());
    }
    let (g, _) = ctx.group_expr();
    let stats = ctx
        .fetch(
            &format!(
                "SELECT i.api_key_id, {g}, COUNT(*), {usd}, {prompt}, {completion}, {cached}, \
                 {creation} FROM agent_interactions i \
                 WHERE {INTERACTIONS_IN_WINDOW} AND i.api_key_id IS NOT NULL {group}",
                usd = sum_num("i.cost_usd"),
                prompt = sum_int("i.prompt_tokens"),
                completion = sum_int("i.completion_tokens"),
                cached = sum_int("i.cached_prompt_tokens"),
                creation = sum_int("i.cache_creation_tokens"),
                group = ctx.group_by_clause("i.api_key_id"),
            ),
            &ctx.window(),
            &[T, T, I, N, I, I, I, I],
        )
        .await?;
    for r in stats {
        let Some(id) = text(&r[0]) else { continue };
        let row = rows.entry((id, text(&r[1])));
        let (prompt, cached, creation) = (int(&r[4]), int(&r[6]), int(&r[7]));
        row.set("requests", Value::Integer(int(&r[2])));
        row.set("total_cost_usd", Value::Number(round(num(&r[3]), 6)));
        row.set("sum_prompt_tokens", Value::Integer(prompt));
        row.set("sum_completion_tokens", Value::Integer(int(&r[5])));
        row.set("cached_prompt_tokens", Value::Integer(cached));
        row.set("cache_creation_tokens", Value::Integer(creation));
        row.set(
            "no_cache_tokens",
            Value::Integer(no_cache(prompt, cached, creation)),
        );
    }
    for row in &mut rows.order {
        row.set("api_key_id", Value::Text(row.key.0.clone()));
        if let Some(g) = ctx.req.group_by {
            row.set(g.as_str(), Value::opt_text(row.key.1.clone()));
        }
        if let Some(name) = names.get(&row.key.0) {
            row.set("api_key_name", name.clone());
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

// ----- projects ------------------------------------------------------------------------------

async fn projects(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let teams = ctx
        .fetch(
            "SELECT t.id, t.name, t.owner_id, (SELECT MIN(m.email) FROM members m \
              WHERE m.org_id = t.org_id AND m.id = t.owner_id) \
             FROM teams t WHERE t.org_id = ? AND t.personal = FALSE \
             AND (t.created_at IS NULL OR t.created_at < ?)",
            &[ctx.org.into(), Value::Timestamp(ctx.req.range.end)],
            &[T, T, T, T],
        )
        .await?;
    let mut rows = Rows::default();
    for t in teams {
        let Some(id) = text(&t[0]) else { continue };
        let row = rows.entry((id, None));
        row.set("project_name", t[1].clone());
        row.set("project_owner_id", t[2].clone());
        row.set("project_owner_email", t[3].clone());
    }
    let stats = ctx
        .fetch(
            &format!(
                "SELECT i.workspace_id, MAX(i.workspace_name), {messages} \
                 FROM agent_interactions i {JOIN_TEAM} \
                 WHERE {INTERACTIONS_IN_WINDOW} AND {IS_PROJECT} GROUP BY i.workspace_id",
                messages = sum_int("i.message_count"),
            ),
            &ctx.window(),
            &[T, T, I],
        )
        .await?;
    for r in stats {
        let Some(id) = text(&r[0]) else { continue };
        let row = rows.entry((id, None));
        row.set_missing("project_name", r[1].clone());
        row.set("messages", Value::Integer(int(&r[2])));
    }
    for row in &mut rows.order {
        row.set("project_id", Value::Text(row.key.0.clone()));
        row.team = Some(row.key.0.clone());
        fill_zeros(row, &["messages"], &[], &[]);
    }
    Ok(rows)
}

// ----- models --------------------------------------------------------------------------------

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

async fn models(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let (g, _) = ctx.group_expr();
    let stats = ctx
        .fetch(
            &format!(
                "SELECT i.model, {g}, COUNT(*), {prompt}, {completion}, {cached}, {creation}, \
                 {usd}, {messages} FROM agent_interactions i \
                 WHERE {INTERACTIONS_IN_WINDOW} {group}",
                prompt = sum_int("i.prompt_tokens"),
                completion = sum_int("i.completion_tokens"),
                cached = sum_int("i.cached_prompt_tokens"),
                creation = sum_int("i.cache_creation_tokens"),
                usd = sum_num("i.cost_usd"),
                messages = sum_int("i.message_count"),
                group = ctx.group_by_clause("i.model"),
            ),
            &ctx.window(),
            &[T, T, I, I, I, I, I, N, I],
        )
        .await?;
    let mut rows = Rows::default();
    for r in stats {
        let (name, provider) = text(&r[0]).map_or((String::new(), None), |m| normalize_model(&m));
        // The key orders rows by name, then provider, then group; `\u{0}` keeps the two
        // parts of the id apart.
        let id = format!("{name}\u{0}{}", provider.clone().unwrap_or_default());
        let row = rows.entry((id, text(&r[1])));
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
        let add = |row: &mut Row, col: &'static str, v: i64| {
            let total = row.int(col) + v;
            row.set(col, Value::Integer(total));
        };
        add(row, "requests", int(&r[2]));
        add(row, "sum_prompt_tokens", int(&r[3]));
        add(row, "sum_completion_tokens", int(&r[4]));
        add(row, "sum_cached_prompt_tokens", int(&r[5]));
        add(row, "sum_cache_creation_tokens", int(&r[6]));
        add(row, "messages", int(&r[8]));
        let usd = row.num("total_cost_usd") + num(&r[7]);
        row.set("total_cost_usd", Value::Number(round(usd, 6)));
    }
    for row in &mut rows.order {
        if let Some(g) = ctx.req.group_by {
            row.set(g.as_str(), Value::opt_text(row.key.1.clone()));
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

// ----- workflows -----------------------------------------------------------------------------

async fn workflows(ctx: &Ctx<'_>) -> Result<Rows, ReportError> {
    let books = ctx
        .fetch(
            "SELECT w.id, w.name, w.team_id, t.name FROM workbooks w \
             LEFT JOIN teams t ON t.org_id = w.org_id AND t.id = w.team_id \
             WHERE w.org_id = ? AND (w.created_at IS NULL OR w.created_at < ?)",
            &[ctx.org.into(), Value::Timestamp(ctx.req.range.end)],
            &[T, T, T, T],
        )
        .await?;
    let mut rows = Rows::default();
    for b in books {
        let Some(id) = text(&b[0]) else { continue };
        let row = rows.entry((id, None));
        row.set("workflow_name", b[1].clone());
        row.set("project_id", b[2].clone());
        row.set("project_name", b[3].clone());
    }
    let dur = duration_seconds(ctx.store.kind());
    let top = "r.parent_run_id IS NULL";
    let stats = ctx
        .fetch(
            &format!(
                "SELECT r.workbook_id, MAX(r.workbook_name), MAX(r.workspace_id), \
                 MAX(r.workspace_name), \
                 COUNT(CASE WHEN {top} THEN 1 END), \
                 COUNT(CASE WHEN r.parent_run_id IS NOT NULL THEN 1 END), \
                 COUNT(CASE WHEN {top} AND r.run_status = 'success' THEN 1 END), \
                 COUNT(CASE WHEN {top} AND r.run_status IN ('failed', 'terminated') THEN 1 END), \
                 COUNT(DISTINCT r.user_id), \
                 CAST(AVG(CASE WHEN {top} THEN {dur} END) AS DOUBLE PRECISION), \
                 CAST(MAX(CASE WHEN {top} THEN {dur} END) AS DOUBLE PRECISION), \
                 {credits} FROM workflow_runs r \
                 WHERE r.org_id = ? AND r.pl_run_created_ts >= ? AND r.pl_run_created_ts < ? \
                 GROUP BY r.workbook_id",
                credits = sum_num("r.credit_cost"),
            ),
            &ctx.window(),
            &[T, T, T, T, I, I, I, I, I, N, N, N],
        )
        .await?;
    for r in stats {
        let Some(id) = text(&r[0]) else { continue };
        let row = rows.entry((id, None));
        row.set_missing("workflow_name", r[1].clone());
        if row.cells.get("project_id").is_none_or(Value::is_null) {
            row.set("project_id", r[2].clone());
            row.set("project_name", r[3].clone());
        }
        let (ok, failed) = (int(&r[6]), int(&r[7]));
        row.set("runs", Value::Integer(int(&r[4])));
        row.set("subflow_runs", Value::Integer(int(&r[5])));
        row.set("successful_runs", Value::Integer(ok));
        row.set("failed_runs", Value::Integer(failed));
        if ok + failed > 0 {
            row.set(
                "success_rate",
                Value::Number(round(ok as f64 / (ok + failed) as f64, 4)),
            );
        }
        row.set("unique_users", Value::Integer(int(&r[8])));
        row.set("avg_duration_seconds", opt_num(&r[9], 3));
        row.set("max_duration_seconds", opt_num(&r[10], 3));
        row.set("credit_cost", Value::Number(round(num(&r[11]), 6)));
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

    #[test]
    fn cache_split_never_negative() {
        assert_eq!(no_cache(1000, 600, 300), 100);
        assert_eq!(no_cache(10, 20, 0), 0);
    }
}

//! `/settings/organization/analytics`: the organization's usage at a glance, answered by the
//! usage service ([`Usage::run`], the same answers as `GET /v1/usage`) — never by SQL of its
//! own. A GET form (range preset incl. billing periods, or dates; time zone), then:
//! - tiles: credits spent, runs, failure rate, active users, each against the previous period
//!   (the period before of the same kind for a preset; as long, just before, for dates);
//! - credits per day stacked by team (the top 8, the rest as "Other") as an inline SVG
//!   ([`svg`]) with a legend, hover titles, and a table of the same numbers that reads
//!   without JavaScript or images; a click on a team's day opens the New Export wizard
//!   prefilled with that day, zone and team;
//! - top users, workbooks, agents and models by credits, with share bars; users as the
//!   organization's privacy setting shows them (the usage service applies it);
//! - every chart and table as CSV (`analytics.csv?table=…` with the page's query).

pub mod svg;

use super::error::WebError;
use super::export_wizard;
use super::layout::{self, Nav};
use super::session::Admin;
use crate::domain::calendar::Granularity;
use crate::domain::entity::Org;
use crate::domain::range::{DateRange, RangePreset, preset_range};
use crate::state::AppState;
use crate::usage::request::{self, Bucket, UsageParams};
use crate::usage::{Dimension, Metric, Usage, UsageAnswer, UsageError, UsageQuery};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;

/// The page's path.
pub const PATH: &str = "/settings/organization/analytics";
/// The CSV downloads' path: `?table=tiles|daily|users|workbooks|agents|models` and the page's
/// query.
pub const CSV_PATH: &str = "/settings/organization/analytics.csv";

/// Teams drawn on their own; the rest are "Other".
const TOP_TEAMS: usize = 8;
/// Rows of a top table on the page (its CSV holds every row).
const TOP_ROWS: usize = 10;
/// The page reads whole answers: no paging between its own calls.
const ONE_PAGE: usize = 1_000_000;

/// The form, as query parameters; text, so a bad value comes back as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct AnalyticsQuery {
    /// A range preset; empty for the dates.
    preset: Option<String>,
    /// First day (custom range).
    start: String,
    /// Last day, inclusive (custom range).
    end: String,
    /// IANA zone; the organization's when empty.
    timezone: String,
    /// Which CSV (downloads only).
    table: String,
}

fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl AnalyticsQuery {
    fn with_defaults(mut self, admin: &Admin) -> Self {
        if self.preset.is_none() {
            self.preset = Some(RangePreset::ThisBillingPeriod.as_str().to_owned());
        }
        if self.timezone.trim().is_empty() {
            self.timezone = admin.org.timezone.clone();
        }
        self
    }

    fn preset(&self) -> Option<String> {
        self.preset.as_deref().and_then(given)
    }

    fn params(&self) -> UsageParams {
        // The dates belong to "Custom": with a preset chosen, leftover dates are ignored.
        let custom = self.preset().is_none();
        UsageParams {
            preset: self.preset(),
            start: given(&self.start).filter(|_| custom),
            end: given(&self.end).filter(|_| custom),
            timezone: given(&self.timezone),
            ..UsageParams::default()
        }
    }

    /// The query string of this form, for the CSV links.
    fn encoded(&self, table: &str) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("table", table)
            .append_pair("preset", self.preset.as_deref().unwrap_or(""))
            .append_pair("start", &self.start)
            .append_pair("end", &self.end)
            .append_pair("timezone", &self.timezone)
            .finish()
    }
}

/// How a tile's number reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TileKind {
    Credits,
    Count,
    /// A fraction, shown as a percentage; its change in percentage points.
    Rate,
}

struct Tile {
    id: &'static str,
    label: &'static str,
    kind: TileKind,
    now: f64,
    before: f64,
}

/// A team of the chart: its id (`None` for "Other" and for records without a team).
struct Series {
    key: Option<String>,
    label: String,
    other: bool,
}

struct Day {
    date: String,
    values: Vec<f64>,
}

struct TopRow {
    key: Option<String>,
    label: String,
    value: f64,
}

struct Top {
    id: &'static str,
    title: &'static str,
    dim: Dimension,
    metric: Metric,
    total: f64,
    rows: Vec<TopRow>,
}

/// Everything the page shows.
struct Analytics {
    range: DateRange,
    prev: DateRange,
    tiles: Vec<Tile>,
    series: Vec<Series>,
    days: Vec<Day>,
    tops: Vec<Top>,
}

/// The window just before `r`: the period before of the same kind for a preset, or one as
/// long ending where `r` starts.
fn previous(preset: Option<RangePreset>, r: DateRange, anchor: u8) -> DateRange {
    use RangePreset::*;
    let before = r.start - TimeDelta::microseconds(1);
    let same = |p: RangePreset| preset_range(p, r.tz, before, anchor);
    match preset {
        Some(ThisBillingPeriod | LastBillingPeriod) => same(ThisBillingPeriod),
        Some(ThisMonth | LastMonth) => same(ThisMonth),
        Some(ThisWeek | LastWeek) => same(ThisWeek),
        Some(p @ (Last7Days | Last30Days | Last90Days)) => same(p),
        None => DateRange {
            start: r.start - (r.end - r.start),
            end: r.start,
            ..r
        },
    }
}

/// One whole answer of the usage service for `range`.
async fn ask(
    usage: &Usage,
    org: &Org,
    base: &UsageQuery,
    range: DateRange,
    bucket: Bucket,
    metrics: &[Metric],
    group: Option<Dimension>,
) -> Result<UsageAnswer, UsageError> {
    let q = UsageQuery {
        range,
        bucket,
        metrics: metrics.to_vec(),
        group_by: group.into_iter().collect(),
        page_size: ONE_PAGE,
        ..base.clone()
    };
    usage.run(org, &q).await
}

fn num(v: Option<&serde_json::Value>) -> f64 {
    v.and_then(serde_json::Value::as_f64).unwrap_or(0.0)
}

fn text(v: Option<&serde_json::Value>) -> Option<String> {
    v.and_then(serde_json::Value::as_str).map(str::to_owned)
}

/// Computes the page; `Err` carries the usage service's refusal (bad input, unknown org).
async fn compute(
    state: &AppState,
    admin: &Admin,
    q: &AnalyticsQuery,
    now: DateTime<Utc>,
) -> Result<Analytics, UsageError> {
    let org = &admin.org;
    let base = request::validate(&q.params(), org, now)?;
    let range = base.range;
    let preset = q.preset().and_then(|p| RangePreset::parse(&p).ok());
    let prev = previous(preset, range, org.billing_anchor_day);
    let usage = Usage::new(state.store.clone());

    let tile_metrics = [
        Metric::Credits,
        Metric::Runs,
        Metric::FailedRuns,
        Metric::ActiveUsers,
    ];
    let mut totals = Vec::new();
    for r in [range, prev] {
        let a = ask(&usage, org, &base, r, Bucket::Total, &tile_metrics, None).await?;
        totals.push(a.buckets.into_iter().next().map(|b| b.totals));
    }
    let get = |i: usize, m: &str| num(totals[i].as_ref().and_then(|t| t.get(m)));
    let rate = |i: usize| {
        let runs = get(i, "runs");
        if runs > 0.0 {
            get(i, "failed_runs") / runs
        } else {
            0.0
        }
    };
    let tiles = vec![
        tile("credits", "Credits spent", TileKind::Credits, &get),
        tile("runs", "Runs", TileKind::Count, &get),
        Tile {
            id: "failure_rate",
            label: "Failure rate",
            kind: TileKind::Rate,
            now: rate(0),
            before: rate(1),
        },
        tile("active_users", "Active users", TileKind::Count, &get),
    ];

    let daily = ask(
        &usage,
        org,
        &base,
        range,
        Bucket::Period(Granularity::Day),
        &[Metric::Credits],
        Some(Dimension::Team),
    )
    .await?;
    let (series, days) = chart(&daily);

    let tops = tops(&usage, org, &base).await?;
    Ok(Analytics {
        range,
        prev,
        tiles,
        series,
        days,
        tops,
    })
}

/// The top tables: users, workbooks, agents and models by the credits they account for.
async fn tops(usage: &Usage, org: &Org, base: &UsageQuery) -> Result<Vec<Top>, UsageError> {
    let range = base.range;
    let mut tops = Vec::new();
    for (id, title, dim, metric) in [
        ("users", "Top users", Dimension::User, Metric::Credits),
        (
            "workbooks",
            "Top workbooks",
            Dimension::Workbook,
            Metric::RunCredits,
        ),
        (
            "agents",
            "Top agents",
            Dimension::Agent,
            Metric::InteractionCredits,
        ),
        (
            "models",
            "Top models",
            Dimension::Model,
            Metric::InteractionCredits,
        ),
    ] {
        let a = ask(usage, org, base, range, Bucket::Total, &[metric], Some(dim)).await?;
        let m = metric.as_str();
        let d = dim.as_str();
        let (total, rows) = match a.buckets.first() {
            None => (0.0, Vec::new()),
            Some(b) => (
                num(b.totals.get(m)),
                b.groups
                    .iter()
                    .map(|g| TopRow {
                        key: text(g.key.get(d)),
                        label: text(g.label.get(d)).unwrap_or_else(|| "(none)".into()),
                        value: num(g.values.get(m)),
                    })
                    .filter(|r| r.value > 0.0)
                    .collect(),
            ),
        };
        tops.push(Top {
            id,
            title,
            dim,
            metric,
            total,
            rows,
        });
    }
    Ok(tops)
}

fn tile(
    id: &'static str,
    label: &'static str,
    kind: TileKind,
    get: &impl Fn(usize, &str) -> f64,
) -> Tile {
    Tile {
        id,
        label,
        kind,
        now: get(0, id),
        before: get(1, id),
    }
}

/// The chart's series (top teams by credits over the window, then "Other") and its days.
fn chart(a: &UsageAnswer) -> (Vec<Series>, Vec<Day>) {
    // Team key ("" for none) → (label, credits over the window).
    let mut teams: HashMap<String, (String, f64)> = HashMap::new();
    for b in &a.buckets {
        for g in &b.groups {
            let key = text(g.key.get("team")).unwrap_or_default();
            let label = text(g.label.get("team")).unwrap_or_else(|| "No team".into());
            teams.entry(key).or_insert((label, 0.0)).1 += num(g.values.get("credits"));
        }
    }
    let mut ranked: Vec<(String, String, f64)> =
        teams.into_iter().map(|(k, (l, v))| (k, l, v)).collect();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    ranked.retain(|t| t.2 > 0.0);
    let mut series: Vec<Series> = ranked
        .iter()
        .take(TOP_TEAMS)
        .map(|(k, l, _)| Series {
            key: (!k.is_empty()).then(|| k.clone()),
            label: l.clone(),
            other: false,
        })
        .collect();
    let index: HashMap<&str, usize> = ranked
        .iter()
        .take(TOP_TEAMS)
        .enumerate()
        .map(|(i, t)| (t.0.as_str(), i))
        .collect();
    if ranked.len() > TOP_TEAMS {
        series.push(Series {
            key: None,
            label: "Other".into(),
            other: true,
        });
    }
    let days = a
        .buckets
        .iter()
        .map(|b| {
            let mut values = vec![0.0; series.len()];
            for g in &b.groups {
                let key = text(g.key.get("team")).unwrap_or_default();
                let i = index.get(key.as_str()).copied().unwrap_or(TOP_TEAMS);
                if let Some(v) = values.get_mut(i) {
                    // Micro-credit sums: adding a few floats of six decimals stays exact
                    // after rounding to six decimals (see `credits`).
                    *v += num(g.values.get("credits"));
                }
            }
            for v in &mut values {
                *v = (*v * 1e6).round() / 1e6;
            }
            Day {
                date: b.start.get(..10).unwrap_or(&b.start).to_owned(),
                values,
            }
        })
        .collect();
    (series, days)
}

/// The New Export wizard for credit logs of `day`, in `tz`, of `team` when one is named.
fn export_link(day: &str, tz: &str, team: Option<&str>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("data_type", "credit_logs")
        .append_pair("start", day)
        .append_pair("end", day)
        .append_pair("timezone", tz);
    if let Some(t) = team {
        s.append_pair("teams", t);
    }
    format!("{}?{}", export_wizard::NEW, s.finish())
}

fn refusal(e: UsageError) -> Result<String, WebError> {
    match e {
        UsageError::Input { .. } => Ok(e.to_string()),
        UsageError::NotFound(m) => Err(WebError::NotFound(m)),
        UsageError::Store(e) => Err(e.into()),
    }
}

/// `GET /settings/organization/analytics`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<AnalyticsQuery>,
) -> Result<Response, WebError> {
    let q = q.with_defaults(&admin);
    let now = Utc::now();
    let (status, outcome) = match compute(&state, &admin, &q, now).await {
        Ok(a) => (StatusCode::OK, Ok(a)),
        Err(e) => (StatusCode::BAD_REQUEST, Err(refusal(e)?)),
    };
    let budgets = state
        .budgets
        .list(admin.org_id(), now)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!(e)))?;
    Ok(page(&admin, &q, outcome, &budgets, status))
}

/// The organization's budgets in their current period, as progress bars (spent against the
/// limit, the forecast beside it); managed through `/v1/budgets`.
fn budgets_section(budgets: &[crate::budget::BudgetView]) -> Markup {
    html! {
        section.card aria-labelledby="budgets-h" data-role="budgets" {
            h2 #budgets-h { "Budgets" }
            @if budgets.is_empty() {
                p.muted { "No credit budgets yet. Create one with " code { "POST /v1/budgets" } " to be alerted as spend crosses its thresholds." }
            }
            @for b in budgets {
                @let label = format!("{}: {} of {} credits ({:.0} %)", b.name, plain(b.spent), plain(b.limit_credits), b.percent_used);
                div.budget data-budget=(b.id) data-status=(b.status) {
                    div.row.between {
                        strong { (b.name) }
                        span { (b.team_id.as_deref().unwrap_or("whole organization")) " · " (b.period.as_str().replace('_', " ")) }
                    }
                    meter min="0" max=(plain(b.limit_credits)) value=(plain(b.spent.min(b.limit_credits)))
                        high=(plain(b.limit_credits * 0.8)) optimum="0" aria-label=(label) {}
                    p.muted {
                        (plain(b.spent)) " of " (plain(b.limit_credits)) " credits spent (" (format!("{:.0}", b.percent_used)) " %); forecast for the period "
                        (plain(b.forecast)) "."
                        @match b.status.as_str() {
                            "exceeded" => { " " span.badge.badge-error { "Exceeded" } },
                            "at_risk" => { " " span.badge.badge-paused { "At risk" } },
                            _ => { " " span.badge.badge-ok { "On track" } },
                        }
                    }
                }
            }
        }
    }
}

/// `GET /settings/organization/analytics.csv?table=…`: one chart or table as RFC 4180 CSV.
pub async fn csv(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<AnalyticsQuery>,
) -> Result<Response, WebError> {
    let q = q.with_defaults(&admin);
    let tables = ["tiles", "daily", "users", "workbooks", "agents", "models"];
    if !tables.contains(&q.table.as_str()) {
        return Err(WebError::BadRequest(format!(
            "unknown table `{}`; allowed: {}",
            q.table,
            tables.join(", ")
        )));
    }
    let a = match compute(&state, &admin, &q, Utc::now()).await {
        Ok(a) => a,
        Err(e) => return Err(WebError::BadRequest(refusal(e)?)),
    };
    let body = to_csv(&a, &q.table);
    let name = format!(
        "analytics-{}-{}-{}.csv",
        q.table,
        a.range.first_day(),
        a.range.last_day()
    );
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // The name is a known table and two dates: always a valid header value.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // It may name people: never cached, like the pages.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// A number as the usage API writes it (`12.5`, `3`).
fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        serde_json::Value::from(v).to_string()
    }
}

fn to_csv(a: &Analytics, table: &str) -> Vec<u8> {
    use crate::reports::neutralize as n;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut rows: Vec<Vec<String>> = Vec::new();
    match table {
        "tiles" => {
            rows.push(vec!["metric".into(), "value".into(), "previous".into()]);
            for t in &a.tiles {
                rows.push(vec![t.id.into(), plain(t.now), plain(t.before)]);
            }
        }
        "daily" => {
            rows.push(vec![
                "date".into(),
                "team_id".into(),
                "team".into(),
                "credits".into(),
            ]);
            for d in &a.days {
                for (s, v) in a.series.iter().zip(&d.values) {
                    if *v > 0.0 {
                        let id = s.key.clone().unwrap_or_default();
                        rows.push(vec![d.date.clone(), n(&id), n(&s.label), plain(*v)]);
                    }
                }
            }
        }
        _ => {
            if let Some(t) = a.tops.iter().find(|t| t.id == table) {
                let d = t.dim.as_str();
                rows.push(vec![
                    format!("{d}_id"),
                    d.into(),
                    t.metric.as_str().into(),
                    "share".into(),
                ]);
                for r in &t.rows {
                    let id = r.key.clone().unwrap_or_default();
                    rows.push(vec![
                        n(&id),
                        n(&r.label),
                        plain(r.value),
                        format!("{:.4}", share(r.value, t.total)),
                    ]);
                }
            }
        }
    }
    // Writing into a Vec cannot fail for I/O reasons.
    for r in rows {
        let _ = w.write_record(r);
    }
    w.into_inner().unwrap_or_default()
}

fn share(v: f64, total: f64) -> f64 {
    if total > 0.0 { v / total } else { 0.0 }
}

/// `1,234.56`.
fn credits(v: f64) -> String {
    let s = format!("{v:.2}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let neg = int.starts_with('-');
    let digits = int.trim_start_matches('-');
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{out}.{frac}", if neg { "-" } else { "" })
}

fn tile_value(kind: TileKind, v: f64) -> String {
    match kind {
        TileKind::Credits => credits(v),
        TileKind::Count => layout::count(v as i64),
        TileKind::Rate => format!("{:.1}%", v * 100.0),
    }
}

/// The change against the previous period, and whether it is up.
fn change(t: &Tile) -> (String, &'static str) {
    let dir = if t.now > t.before {
        "up"
    } else if t.now < t.before {
        "down"
    } else {
        "flat"
    };
    let text = match t.kind {
        TileKind::Rate => format!("{:+.1} pp", (t.now - t.before) * 100.0),
        _ if t.before == 0.0 && t.now == 0.0 => "no change".into(),
        _ if t.before == 0.0 => "new".into(),
        _ => format!("{:+.1}%", (t.now - t.before) / t.before * 100.0),
    };
    (text, dir)
}

fn window_text(r: &DateRange) -> String {
    format!(
        "{} – {}",
        r.first_day().format("%b %-d, %Y"),
        r.last_day().format("%b %-d, %Y")
    )
}

fn page(
    admin: &Admin,
    q: &AnalyticsQuery,
    outcome: Result<Analytics, String>,
    budgets: &[crate::budget::BudgetView],
    status: StatusCode,
) -> Response {
    let body = html! {
        h1 { "Analytics" }
        p.lead { "Credits, runs and users over a window, in your time zone — the same numbers as "
            code { "GET /v1/usage" } "." }
        section.card {
            @if let Err(message) = &outcome { (layout::error_box(message)) }
            (form(admin, q))
        }
        (budgets_section(budgets))
        @if let Ok(a) = &outcome { (report(a, q)) }
    };
    layout::with_headers(
        status,
        layout::page("Analytics", Some(admin), Nav::Analytics, body),
    )
}

fn form(admin: &Admin, q: &AnalyticsQuery) -> Markup {
    let preset = q.preset().unwrap_or_default();
    let tz =
        crate::domain::range::parse_tz(&q.timezone).unwrap_or(super::data_export::org_tz(admin));
    let now = Utc::now();
    let option = |p: RangePreset| {
        let r = preset_range(p, tz, now, admin.org.billing_anchor_day);
        html! {
            option value=(p.as_str()) selected[preset == p.as_str()] {
                (export_wizard::preset_label(p)) " (" (window_text(&r)) ")"
            }
        }
    };
    let (billing, calendar): (Vec<RangePreset>, Vec<RangePreset>) =
        RangePreset::ALL.into_iter().partition(|p| {
            matches!(
                p,
                RangePreset::ThisBillingPeriod | RangePreset::LastBillingPeriod
            )
        });
    html! {
        form.filters method="get" action=(PATH) data-role="analytics-form" {
            div.grid {
                div {
                    label for="an-preset" { "Range" }
                    select #an-preset name="preset" {
                        optgroup label="Billing periods" { @for p in billing { (option(p)) } }
                        optgroup label="Calendar" { @for p in calendar { (option(p)) } }
                        option value="" selected[preset.is_empty()] { "Custom: the dates below" }
                    }
                }
                div {
                    label for="an-tz" { "Time zone" }
                    select #an-tz name="timezone" {
                        @for z in chrono_tz::TZ_VARIANTS {
                            option value=(z.name()) selected[z.name() == q.timezone] { (z.name()) }
                        }
                    }
                }
                div {
                    label for="an-start" { "Start date" }
                    input #an-start type="date" name="start" value=(q.start);
                }
                div {
                    label for="an-end" { "End date" span.hint { " (inclusive)" } }
                    input #an-end type="date" name="end" value=(q.end);
                }
            }
            div.actions-bar { button type="submit" { "Show" } }
        }
    }
}

fn csv_link(q: &AnalyticsQuery, table: &str, what: &str) -> Markup {
    html! {
        a.button.secondary href={(CSV_PATH) "?" (q.encoded(table))} download
            data-csv=(table) aria-label={"Download " (what) " as CSV"} { "CSV" }
    }
}

fn report(a: &Analytics, q: &AnalyticsQuery) -> Markup {
    let tz = a.range.tz.name();
    html! {
        div.row.between {
            h2 data-role="window" { (window_text(&a.range)) " (" (tz) ")" }
            (csv_link(q, "tiles", "the tiles"))
        }
        p.muted { "Compared with " (window_text(&a.prev)) "." }
        ul.tiles data-role="tiles" {
            @for t in &a.tiles {
                @let (delta, dir) = change(t);
                li.tile data-tile=(t.id) data-value=(plain(t.now)) data-previous=(plain(t.before)) {
                    span.tile-label { (t.label) }
                    span.tile-value { (tile_value(t.kind, t.now)) }
                    span class={"tile-change " (dir)} {
                        (delta) span.sr-only { " vs previous period" }
                    }
                }
            }
        }
        section.card aria-labelledby="chart-h" {
            div.row.between {
                h2 #chart-h { "Credits per day by team" }
                (csv_link(q, "daily", "credits per day"))
            }
            @if a.series.is_empty() {
                p.empty data-role="no-credits" { "No credits were spent in this window." }
            } @else {
                (svg::stacked_bars("Credits per day by team; the table below lists the same numbers", &bars(a)))
                ul.legend {
                    @for (k, s) in a.series.iter().enumerate() {
                        li { (svg::swatch(k)) " " (s.label) }
                    }
                }
                p.hint { "Select a team's day to export that day's credit logs." }
                details {
                    summary { "Credits per day as a table" }
                    div.table-wrap {
                        table data-role="daily" {
                            caption.sr-only { "Credits per day by team" }
                            thead { tr {
                                th scope="col" { "Day" }
                                @for s in &a.series { th scope="col" { (s.label) } }
                                th scope="col" { "Total" }
                            } }
                            tbody {
                                @for d in &a.days {
                                    tr data-day=(d.date) {
                                        th scope="row" { (d.date) }
                                        @for (s, v) in a.series.iter().zip(&d.values) {
                                            td.num data-team=(s.key.as_deref().unwrap_or(if s.other { "other" } else { "" })) data-value=(plain(*v)) {
                                                @if *v > 0.0 {
                                                    a href=(export_link(&d.date, tz, s.key.as_deref())) { (credits(*v)) }
                                                } @else { "–" }
                                            }
                                        }
                                        td.num { (credits(d.values.iter().sum())) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        div.top-grid {
            @for t in &a.tops { (top_table(t, q)) }
        }
    }
}

fn bars(a: &Analytics) -> Vec<svg::Bar> {
    let tz = a.range.tz.name();
    a.days
        .iter()
        .map(|d| svg::Bar {
            label: d.date.clone(),
            segments: a
                .series
                .iter()
                .zip(&d.values)
                .map(|(s, v)| svg::Segment {
                    value: *v,
                    title: format!("{} · {}: {} credits", s.label, d.date, credits(*v)),
                    href: export_link(&d.date, tz, s.key.as_deref()),
                })
                .collect(),
        })
        .collect()
}

fn top_table(t: &Top, q: &AnalyticsQuery) -> Markup {
    let what = match t.metric {
        Metric::Credits => "Credits spent",
        Metric::RunCredits => "Run credits",
        _ => "Interaction credits",
    };
    html! {
        section.card aria-label=(t.title) {
            div.row.between {
                h2 { (t.title) }
                (csv_link(q, t.id, t.title))
            }
            @if t.rows.is_empty() {
                p.empty { "None in this window." }
            } @else {
                table data-role={"top-" (t.id)} {
                    thead { tr {
                        th scope="col" { (t.dim.as_str()) }
                        th scope="col" class="num" { (what) }
                        th scope="col" { "Share" }
                    } }
                    tbody {
                        @for r in t.rows.iter().take(TOP_ROWS) {
                            @let s = share(r.value, t.total);
                            tr data-key=(r.key.as_deref().unwrap_or("")) {
                                td { (r.label) }
                                td.num data-value=(plain(r.value)) { (credits(r.value)) }
                                td { (svg::share_bar(s)) " " span.muted { (format!("{:.1}%", s * 100.0)) } }
                            }
                        }
                    }
                }
                @if t.rows.len() > TOP_ROWS {
                    p.hint { (t.rows.len() - TOP_ROWS) " more in the CSV." }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_previous_window_is_the_period_before_of_the_same_kind() {
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
        let this = preset_range(RangePreset::ThisMonth, tz, now, 1);
        let prev = previous(Some(RangePreset::ThisMonth), this, 1);
        assert_eq!(prev.first_day().to_string(), "2026-02-01");
        assert_eq!(prev.last_day().to_string(), "2026-02-28");
        let last7 = preset_range(RangePreset::Last7Days, tz, now, 1);
        let prev = previous(Some(RangePreset::Last7Days), last7, 1);
        assert_eq!(prev.end, last7.start);
        assert_eq!(prev.first_day().to_string(), "2026-02-25");
        let custom = previous(None, this, 1);
        assert_eq!(custom.end, this.start);
        assert_eq!(custom.end - custom.start, this.end - this.start);
    }

    #[test]
    fn numbers_read_as_the_api_writes_them() {
        assert_eq!(plain(12.5), "12.5");
        assert_eq!(plain(3.0), "3");
        assert_eq!(plain(10.05), "10.05");
        assert_eq!(credits(1234567.891), "1,234,567.89");
        assert_eq!(credits(0.5), "0.50");
    }
}

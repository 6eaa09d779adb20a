//! Synchronous usage reports (docs/spec.md §2, §7; field-catalog Part 2): one row per entity for a
//! whole window — `users`, `agents` (alias `assistants`), `api_keys` (alias `api-keys`),
//! `projects`, `models`, `workflows` — aggregated in the database from the record streams,
//! with the privacy setting applied.
//!
//! # Shape
//!
//! [`compute`] takes a [`ReportRequest`] (type, optional [`GroupBy`], resolved window) and
//! returns a [`Report`]: the columns of [`columns`] and one row of values per entity. The HTTP
//! layer turns it into JSON (native `/v1/reports/{type}`, compat `/export/{type}/json`) or
//! CSV ([`Report::to_csv`]).
//!
//! # Semantics (decisions where the reference is silent)
//!
//! - **Which rows.** Every entity of the organization that existed during the window (members
//!   who joined before its end, agents created before its end, platform keys not revoked
//!   before its start, non-personal teams, workbooks), with zeros when unused, plus any id that
//!   has usage but no entity upserted. With a `group_by` only (entity, group) pairs that have
//!   usage appear: an unused entity has no model or source to split by. `models` has no entity
//!   table: one row per model seen in the window.
//! - **No data.** When the window holds none of the report's source records, the answer is
//!   the reference's 404 `No data found`, even though an entity list exists.
//! - **Row cap.** `max_rows` (config `report_max_rows`) caps the *source records scanned* in
//!   the window, as the reference's 1,000,000-row limit does: narrowing the window is what
//!   helps, which is what its message says. The entity rows of a report are few.
//! - **Projects** are teams that are not personal spaces (a workspace never upserted as a team
//!   counts as a project). Every agent interaction happens in a workspace, so "project chats"
//!   are the interactions in such teams.
//! - **Messages** are the interactions' `message_count`. "Chat" messages are those of
//!   interactions without an agent; "assistant" messages those with one.
//! - **Requests** (`api_keys`, `models`) count interaction records: one session, one request.
//! - **Cache tokens.** `prompt_tokens` includes cache reads and writes, so
//!   `no_cache_tokens = prompt − cached − cache_creation` (never below 0).
//! - **Ranks** are competition ranks (1, 1, 3) by the metric, descending, among the report's
//!   rows; with `group_by=model` among the rows of the same model.
//! - **Ordering.** By the main metric descending, then by id, so output is deterministic.
//! - **Privacy.** Columns naming a person (user ids, names, emails, owners) follow the
//!   setting: pseudonymized → the same `anon_…` pseudonym exports use for that value, hidden →
//!   empty. This treats person *ids* as identifying, like exports do, which is stricter than
//!   the reference (it keeps `user_id` and `project_owner_id`). Descriptive 🔒 columns
//!   (`assistant_description`, `assistant_url`) are emptied only when hidden. The users report
//!   has no single team per member, so it follows the organization's setting; agents and
//!   projects follow their team's setting.
//!
//! # Columns without a source in our data (filled honestly)
//!
//! - users: `company_name`, `license_type`, `payg_limit_current`,
//!   `payg_consumption_in_period`, `payg_utilization_pct_current` — empty (no licensing or
//!   pay-as-you-go data is ingested).
//! - agents: `assistant_url` — empty (Outflow does not know the platform's URLs);
//!   `active_users` equals `unique_users` (no separate analytics notion of "active").
//! - models: `bring_your_keys` — always false; `group_by=deployment` adds an empty
//!   `deployment` column (no deployment data is ingested).
//!
//! Outflow extensions beyond the documented columns: per-user token, cost and credit totals,
//! the agents' `max_completion_tokens`, cache-token, cost and credit totals, the models'
//! `messages`, and the whole `workflows` column set (the reference documents none).

pub mod columns;
mod compute;

pub use columns::{Column, ColumnKind, ColumnPrivacy, columns};

use crate::domain::range::DateRange;
use crate::store::{Store, StoreError, Value};
use chrono::SecondsFormat;
use std::fmt;

/// The six usage reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportType {
    /// One row per member.
    Users,
    /// One row per agent (the reference's "assistants").
    Agents,
    /// One row per platform API key.
    ApiKeys,
    /// One row per team that is not a personal space.
    Projects,
    /// One row per normalized model name and provider.
    Models,
    /// One row per workbook.
    Workflows,
}

/// Every accepted spelling, for error messages.
const TYPE_NAMES: &str =
    "users, agents, assistants, api_keys, api-keys, projects, models, workflows";

impl ReportType {
    /// Every report type.
    pub const ALL: [ReportType; 6] = [
        ReportType::Users,
        ReportType::Agents,
        ReportType::ApiKeys,
        ReportType::Projects,
        ReportType::Models,
        ReportType::Workflows,
    ];

    /// Parses a report name, accepting the reference's aliases (`assistants`, `api-keys`).
    pub fn parse(raw: &str) -> Result<ReportType, ReportError> {
        match raw {
            "users" => Ok(ReportType::Users),
            "agents" | "assistants" => Ok(ReportType::Agents),
            "api_keys" | "api-keys" => Ok(ReportType::ApiKeys),
            "projects" => Ok(ReportType::Projects),
            "models" => Ok(ReportType::Models),
            "workflows" => Ok(ReportType::Workflows),
            other => Err(ReportError::UnknownType(other.to_owned())),
        }
    }

    /// The canonical name (native API `data_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::Users => "users",
            ReportType::Agents => "agents",
            ReportType::ApiKeys => "api_keys",
            ReportType::Projects => "projects",
            ReportType::Models => "models",
            ReportType::Workflows => "workflows",
        }
    }

    /// The `group_by` values this report accepts (field-catalog §2.3).
    pub fn allowed_group_by(self) -> &'static [GroupBy] {
        match self {
            ReportType::Users | ReportType::Agents | ReportType::ApiKeys => &[GroupBy::Model],
            ReportType::Models => &[GroupBy::Source, GroupBy::Deployment],
            ReportType::Projects | ReportType::Workflows => &[],
        }
    }

    /// Validates a requested `group_by` for this report; an empty value means none.
    pub fn group_by(self, raw: Option<&str>) -> Result<Option<GroupBy>, ReportError> {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        self.allowed_group_by()
            .iter()
            .copied()
            .find(|g| g.as_str() == raw)
            .map(Some)
            .ok_or_else(|| ReportError::UnsupportedGroupBy {
                report: self,
                value: raw.to_owned(),
            })
    }
}

impl fmt::Display for ReportType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The extra dimension a report row may be split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// Per model (users, agents, api_keys).
    Model,
    /// Per client source such as WEB, MOBILE, API (models).
    Source,
    /// Per deployment (models; always empty here, see the module docs).
    Deployment,
}

impl GroupBy {
    /// The request value, which is also the added column's id.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Model => "model",
            GroupBy::Source => "source",
            GroupBy::Deployment => "deployment",
        }
    }
}

/// What to compute.
#[derive(Debug, Clone, Copy)]
pub struct ReportRequest {
    /// The report.
    pub report_type: ReportType,
    /// The optional split, already validated with [`ReportType::group_by`].
    pub group_by: Option<GroupBy>,
    /// The window, `[start, end)`.
    pub range: DateRange,
}

/// Why a report could not be produced. The HTTP layer maps each to a status and the
/// reference's `{error, message}` body.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not one of the report names.
    #[error("unknown report type `{0}`; allowed: {TYPE_NAMES}")]
    UnknownType(String),
    /// A `group_by` the report does not support.
    #[error("{}", unsupported_group_by(.report, .value))]
    UnsupportedGroupBy {
        /// The report asked for.
        report: ReportType,
        /// The value given.
        value: String,
    },
    /// The window holds none of the report's source records.
    #[error("No usage data found for the selected period")]
    NoData,
    /// More source records in the window than the configured cap.
    #[error(
        "Export too large: {rows} rows exceeds limit of {limit}. Please narrow the date range."
    )]
    TooLarge {
        /// Source records in the window.
        rows: u64,
        /// The cap.
        limit: u64,
    },
    /// The organization does not exist.
    #[error("organization `{0}` not found")]
    UnknownOrg(String),
    /// The database failed.
    #[error("database error: {0}")]
    Store(#[from] StoreError),
}

impl ReportError {
    /// The `error` member of the reference's error body for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::UnknownType(_) | ReportError::UnknownOrg(_) => "not_found",
            ReportError::UnsupportedGroupBy { .. } => "bad_request",
            // The reference's literal values (field-catalog §2.4).
            ReportError::NoData => "No data found",
            ReportError::TooLarge { .. } => "USAGE_EXPORT_TOO_LARGE",
            ReportError::Store(_) => "internal",
        }
    }
}

fn unsupported_group_by(report: &ReportType, value: &str) -> String {
    let report = *report;
    let allowed = report.allowed_group_by();
    if allowed.is_empty() {
        format!("group_by `{value}` is not supported for {report}; {report} allows no group_by")
    } else {
        let names: Vec<&str> = allowed.iter().map(|g| g.as_str()).collect();
        format!(
            "group_by `{value}` is not supported for {report}; allowed: {}",
            names.join(", ")
        )
    }
}

/// A computed report: its columns and one row of values per entity (and group).
#[derive(Debug, Clone)]
pub struct Report {
    /// The report.
    pub report_type: ReportType,
    /// The split, if any.
    pub group_by: Option<GroupBy>,
    /// The window.
    pub range: DateRange,
    /// The columns, in output order.
    pub columns: Vec<&'static Column>,
    /// Rows; each has one value per column.
    pub rows: Vec<Vec<Value>>,
}

impl Report {
    /// The column ids, in order.
    pub fn column_ids(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.id).collect()
    }

    /// Number of rows.
    pub fn record_count(&self) -> usize {
        self.rows.len()
    }

    /// `period_start`: the window's first date in the request's zone.
    pub fn period_start(&self) -> String {
        period_start(&self.range)
    }

    /// `period_end`: the date of the window's last instant in the end's zone, so the end is
    /// inclusive as requested.
    pub fn period_end(&self) -> String {
        period_end(&self.range)
    }

    /// The window's start in the request's zone, RFC 3339.
    pub fn from_local(&self) -> String {
        local(self.range.start, self.range.tz)
    }

    /// The window's (exclusive) end in the request's zone, RFC 3339.
    pub fn to_local(&self) -> String {
        local(self.range.end, self.range.tz)
    }

    /// The window's last covered millisecond in the end's zone, RFC 3339: the inclusive end
    /// the reference's `dateRange.to` shows (`2026-11-30T23:59:59.999-05:00`).
    pub fn last_local(&self) -> String {
        local(self.range.last_instant(), self.range.end_tz)
    }

    /// The rows as JSON objects keyed by column id.
    pub fn json_rows(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.rows
            .iter()
            .map(|row| {
                self.columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.id.to_owned(), v.to_json()))
                    .collect()
            })
            .collect()
    }

    /// RFC 4180 CSV with a header of column ids. Text cells a spreadsheet would run as a
    /// formula (leading `=`, `+`, `-`, `@`, tab, CR) get a leading `'`; numbers are never
    /// touched, so negative amounts stay numbers.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        // Writing into a Vec cannot fail for I/O reasons, and every record has the header's
        // length, so these results carry no error in practice; ignoring them is safe.
        let _ = w.write_record(self.columns.iter().map(|c| c.id));
        for row in &self.rows {
            let _ = w.write_record(row.iter().map(csv_cell));
        }
        w.into_inner().unwrap_or_default()
    }

    /// A file name in the reference's pattern: `{type}-usage-{start}-{end}.csv`.
    pub fn csv_file_stem(&self) -> String {
        format!(
            "{}-usage-{}-{}",
            self.report_type,
            self.period_start(),
            self.period_end()
        )
    }
}

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null | Value::NullTimestamp => String::new(),
        Value::Text(s) => neutralize(s),
        Value::Number(n) => n.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Timestamp(t) => crate::domain::time::format_timestamp(t),
        Value::Json(j) => neutralize(&j.to_string()),
    }
}

/// Prefixes `'` to text a spreadsheet would evaluate as a formula.
pub fn neutralize(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn period_start(r: &DateRange) -> String {
    r.first_day().format("%Y-%m-%d").to_string()
}

fn period_end(r: &DateRange) -> String {
    r.last_day().format("%Y-%m-%d").to_string()
}

/// `t` in `tz`, RFC 3339 to the millisecond (a finer last instant is cut, not rounded up).
fn local(t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Computes a report for `org`. `max_rows` caps the source records scanned in the window
/// (see the module docs); `None` means no cap.
pub async fn compute(
    store: &Store,
    org: &str,
    request: &ReportRequest,
    max_rows: Option<u64>,
) -> Result<Report, ReportError> {
    compute::run(store, org, request, max_rows).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn aliases_and_group_by_rules() {
        assert_eq!(ReportType::parse("assistants").unwrap(), ReportType::Agents);
        assert_eq!(ReportType::parse("api-keys").unwrap(), ReportType::ApiKeys);
        let e = ReportType::parse("teams").unwrap_err().to_string();
        assert!(e.contains("allowed: users, agents, assistants"), "{e}");
        assert_eq!(
            ReportType::Users.group_by(Some("model")).unwrap(),
            Some(GroupBy::Model)
        );
        assert_eq!(ReportType::Users.group_by(Some("")).unwrap(), None);
        assert_eq!(
            ReportType::Users
                .group_by(Some("source"))
                .unwrap_err()
                .to_string(),
            "group_by `source` is not supported for users; allowed: model"
        );
        assert_eq!(
            ReportType::Models
                .group_by(Some("model"))
                .unwrap_err()
                .to_string(),
            "group_by `model` is not supported for models; allowed: source, deployment"
        );
        assert_eq!(
            ReportType::Projects
                .group_by(Some("model"))
                .unwrap_err()
                .to_string(),
            "group_by `model` is not supported for projects; projects allows no group_by"
        );
    }

    #[test]
    fn period_dates_are_local_and_end_inclusive() {
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        // March in Berlin: Feb 28 23:00 UTC to Mar 31 22:00 UTC.
        let r = DateRange {
            start: Utc.with_ymd_and_hms(2026, 2, 28, 23, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 3, 31, 22, 0, 0).unwrap(),
            tz,
            end_tz: tz,
        };
        assert_eq!(period_start(&r), "2026-03-01");
        assert_eq!(period_end(&r), "2026-03-31");
        assert_eq!(local(r.start, r.tz), "2026-03-01T00:00:00.000+01:00");
        assert_eq!(local(r.end, r.tz), "2026-04-01T00:00:00.000+02:00");
        assert_eq!(
            local(r.last_instant(), r.tz),
            "2026-03-31T23:59:59.999+02:00"
        );
    }

    #[test]
    fn csv_quotes_and_neutralizes_text_only() {
        let cols = columns(ReportType::Models, None);
        let report = Report {
            report_type: ReportType::Models,
            group_by: None,
            range: DateRange {
                start: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(),
                tz: chrono_tz::UTC,
                end_tz: chrono_tz::UTC,
            },
            rows: vec![
                cols.iter()
                    .map(|c| match c.id {
                        "name" => Value::Text("=HYPERLINK(\"x\")".into()),
                        "provider" => Value::Text("a,b".into()),
                        "requests" => Value::Integer(-3),
                        "total_cost_usd" => Value::Number(0.25),
                        _ => Value::Null,
                    })
                    .collect(),
            ],
            columns: cols,
        };
        let text = String::from_utf8(report.to_csv()).unwrap();
        let mut lines = text.split("\r\n");
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("period_start,period_end,org_id,name,provider")
        );
        let row = lines.next().unwrap();
        assert!(
            row.contains(",\"'=HYPERLINK(\"\"x\"\")\",\"a,b\","),
            "{row}"
        );
        assert!(row.contains(",-3,"), "{row}");
        assert!(row.ends_with(",0.25,"), "{row}");
        assert_eq!(report.csv_file_stem(), "models-usage-2026-03-01-2026-03-01");
    }
}

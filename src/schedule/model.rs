//! A scheduled export as stored and shown: what it exports (the `/v1/exports` body without a
//! range), when (its cadence), to whom (its delivery), and one row per period it ran.
//!
//! Inputs (`*Input`) are what the API takes, every field optional so validation (in
//! `request.rs`) can name what is missing; the stored forms are normalized and re-validated
//! only against the organization (its teams, members, billing anchor) when a run is queued.

use crate::domain::calendar::{Cadence, DayOfMonth, Every};
use crate::drain::dest::DestinationConfig;
use chrono::{DateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What each run exports: the `/v1/exports` body without `start`, `end`, `preset` and
/// `timezone` (the period and its zone come from the cadence).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ExportTemplate {
    /// workflows, agents, agent_interactions, credit_logs, audit_logs, tool_calls (or gumstack).
    #[schema(required = true, min_length = 1)]
    pub data_type: String,
    /// Team ids.
    pub workspace_ids: Vec<String>,
    /// Every team, personal spaces included.
    pub include_all_workspaces: bool,
    /// Personal spaces.
    pub include_personal_workspaces: bool,
    /// Workbook ids (workflows) or agent ids (agents, agent_interactions).
    pub entity_ids: Vec<String>,
    /// `organization` (default) or `personal` (only `user_id`'s own rows).
    pub export_scope: Option<String>,
    /// The member a personal export is about.
    pub user_id: Option<String>,
    /// Credit logs: one category (internal value or label, case-insensitive).
    pub category_filter: Option<String>,
    /// Credit logs: one custom role (id or name).
    pub permission_group_filter: Option<String>,
    /// Audit logs: event types.
    pub event_type_filter: Vec<String>,
    /// Field ids in output order.
    pub fields: Option<Vec<String>>,
    /// Instead of fields: minimal, default, full.
    pub field_preset: Option<String>,
    /// csv (default), ndjson, parquet.
    pub format: Option<String>,
    /// Gzip the file (csv, ndjson).
    pub gzip: bool,
    /// Prefix cells a spreadsheet would run as formulas with `'` (CSV; default true).
    pub neutralise_formulas: Option<bool>,
    /// Timestamps with the offset of the schedule's zone instead of UTC.
    pub local_timestamps: bool,
}

impl From<&crate::export::spec::ExportInput> for ExportTemplate {
    /// What a one-time request would export, without its range (the New Export wizard's
    /// "Repeat" choice).
    fn from(i: &crate::export::spec::ExportInput) -> Self {
        ExportTemplate {
            data_type: i.data_type.clone().unwrap_or_default(),
            workspace_ids: i.workspace_ids.clone(),
            include_all_workspaces: i.include_all_workspaces,
            include_personal_workspaces: i.include_personal_workspaces,
            entity_ids: i.entity_ids.clone(),
            export_scope: i.export_scope.clone(),
            user_id: i.user_id.clone(),
            category_filter: i.category_filter.clone(),
            permission_group_filter: i.permission_group_filter.clone(),
            event_type_filter: i.event_type_filter.clone(),
            fields: i.fields.clone(),
            field_preset: i.field_preset.clone(),
            format: i.format.clone(),
            gzip: i.gzip,
            neutralise_formulas: i.neutralise_formulas,
            local_timestamps: i.local_timestamps,
        }
    }
}

/// `cadence` as the API takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CadenceInput {
    /// day, week, month or billing_period.
    pub every: Option<String>,
    /// Wall-clock time of the run, `HH:MM` (24 h) in `timezone`.
    pub at: Option<String>,
    /// week only: monday … sunday (default monday).
    pub weekday: Option<String>,
    /// month only: 1–28 or "last" (default 1).
    pub day_of_month: Option<MonthDay>,
    /// IANA zone; default the organization's.
    pub timezone: Option<String>,
}

/// The day of a monthly schedule: a number 1–28, or the word "last".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MonthDay {
    /// 1–28.
    Day(i64),
    /// "last": the month's last day.
    Word(String),
}

/// How often a schedule runs, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EveryKind {
    /// Daily; a run covers the previous local day.
    Day,
    /// Weekly; a run covers the previous ISO week.
    Week,
    /// Monthly; a run covers the previous calendar month.
    Month,
    /// On the first day of each billing period; a run covers the period just ended.
    BillingPeriod,
}

impl EveryKind {
    /// The accepted names.
    pub const ALLOWED: &'static str = "day, week, month, billing_period";

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<EveryKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" => Some(EveryKind::Day),
            "week" => Some(EveryKind::Week),
            "month" => Some(EveryKind::Month),
            "billing_period" => Some(EveryKind::BillingPeriod),
            _ => None,
        }
    }
}

/// A validated cadence, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CadenceSpec {
    /// day, week, month or billing_period.
    pub every: EveryKind,
    /// `HH:MM`.
    pub at: String,
    /// week: the weekday (lowercase English name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekday: Option<String>,
    /// month: 1–28 or "last".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<MonthDay>,
    /// IANA zone.
    pub timezone: String,
}

impl CadenceSpec {
    /// The calendar cadence, with the organization's billing anchor for billing periods.
    /// Stored specs were validated; a value that no longer parses falls back to a default
    /// rather than panicking a runner.
    pub fn cadence(&self, anchor_day: u8) -> Cadence {
        let tz: Tz = self.timezone.parse().unwrap_or(chrono_tz::UTC);
        let at = NaiveTime::parse_from_str(&self.at, "%H:%M").unwrap_or(NaiveTime::MIN);
        let every = match self.every {
            EveryKind::Day => Every::Day,
            EveryKind::Week => Every::Week {
                weekday: self
                    .weekday
                    .as_deref()
                    .and_then(|w| w.parse::<Weekday>().ok())
                    .unwrap_or(Weekday::Mon),
            },
            EveryKind::Month => Every::Month {
                day: match &self.day_of_month {
                    Some(MonthDay::Word(_)) => DayOfMonth::Last,
                    Some(MonthDay::Day(n)) => DayOfMonth::Day((*n).clamp(1, 28) as u8),
                    None => DayOfMonth::Day(1),
                },
            },
            EveryKind::BillingPeriod => Every::BillingPeriod { anchor_day },
        };
        Cadence { every, at, tz }
    }

    /// The zone.
    pub fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }
}

/// Who gets the completion email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EmailTarget {
    /// "admins": the organization's admins.
    Word(String),
    /// Member ids.
    Members(Vec<String>),
}

/// An object store or HTTP endpoint a run's file (or its event) goes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleDestination {
    /// The destination, as for drains (`type`: s3, gcs, azure_blob or http).
    #[serde(flatten)]
    pub config: DestinationConfig,
    /// The secret with its credentials (`POST /v1/secrets`: kind aws for s3, gcp for gcs, azure for azure_blob, http for http).
    pub secret_id: String,
}

/// `deliver` as the API takes it and as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Deliver {
    /// "admins" or a list of member ids; absent or null: no email.
    pub email: Option<EmailTarget>,
    /// Where the file goes besides the email; null for none.
    pub destination: Option<ScheduleDestination>,
}

impl Deliver {
    /// What a schedule created without `deliver` does: email the admins.
    pub fn admins() -> Deliver {
        Deliver {
            email: Some(EmailTarget::Word("admins".into())),
            destination: None,
        }
    }
}

/// A schedule's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleState {
    /// Runs when due.
    Active,
    /// Paused by a user: runs nothing; periods passed while paused are not caught up.
    Paused,
    /// Too many failed runs in a row; resume to run again.
    Error,
}

impl ScheduleState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleState::Active => "active",
            ScheduleState::Paused => "paused",
            ScheduleState::Error => "error",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<ScheduleState> {
        match s {
            "active" => Some(ScheduleState::Active),
            "paused" => Some(ScheduleState::Paused),
            "error" => Some(ScheduleState::Error),
            _ => None,
        }
    }
}

/// A stored schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// `sch_…`.
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// Display name.
    pub name: String,
    /// What each run exports.
    pub export: ExportTemplate,
    /// When it runs.
    pub cadence: CadenceSpec,
    /// Where the files go.
    pub deliver: Deliver,
    /// State.
    pub state: ScheduleState,
    /// Why it is in `error`.
    pub state_reason: Option<String>,
    /// Failed runs in a row.
    pub failed_runs: i64,
    /// The next run instant not yet handled.
    pub next_run_at: Option<DateTime<Utc>>,
    /// Every period ending at or before this was queued or skipped.
    pub covered_until: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// How a run came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Its run time came (or catch-up).
    Schedule,
    /// `POST …/run`.
    Manual,
}

impl Trigger {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }
}

/// One period of a schedule, with the state of its export.
#[derive(Debug, Clone)]
pub struct ScheduleRun {
    /// `run_…`.
    pub id: String,
    /// Schedule.
    pub schedule_id: String,
    /// Organization.
    pub org_id: String,
    /// First instant of the period.
    pub period_start: DateTime<Utc>,
    /// First instant after it.
    pub period_end: DateTime<Utc>,
    /// `schedule` or `manual`.
    pub trigger: String,
    /// The export job (none when skipped or refused).
    pub export_id: Option<String>,
    /// Why the period was skipped.
    pub skipped_reason: Option<String>,
    /// none, pending, done, failed.
    pub delivery: String,
    /// Targets delivered: `email`, `s3:{key}`, `http`.
    pub delivered: Vec<String>,
    /// Delivery attempts so far.
    pub delivery_attempts: i64,
    /// Why the run failed (export or delivery).
    pub error: Option<String>,
    /// Earliest next delivery attempt.
    pub next_delivery_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Delivered or failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// The export job's state, when there is a job.
    pub export_state: Option<String>,
    /// Rows the export wrote.
    pub rows: Option<i64>,
    /// Bytes of the file.
    pub bytes: Option<i64>,
    /// The export's own error.
    pub export_error: Option<String>,
}

impl ScheduleRun {
    /// REQUESTED, IN_PROGRESS, COMPLETED, FAILED (the export's state, FAILED also when the
    /// delivery failed for good or no export could be queued) or SKIPPED.
    pub fn state(&self) -> String {
        if self.skipped_reason.is_some() {
            return "SKIPPED".into();
        }
        if self.delivery == "failed" {
            return "FAILED".into();
        }
        match self.export_state.as_deref() {
            Some("CANCELLED") => "FAILED".into(),
            Some(s) => s.to_string(),
            None => "FAILED".into(),
        }
    }

    /// The reason shown with the run: the skip reason, the run's own error or the export's.
    pub fn reason(&self) -> Option<String> {
        self.skipped_reason
            .clone()
            .or_else(|| self.error.clone())
            .or_else(|| self.export_error.clone())
    }
}

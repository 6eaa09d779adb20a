//! Checking a usage request: the raw parameters ([`UsageParams`], as `GET /v1/usage` takes
//! them) become a [`UsageQuery`], or an error naming the parameter and the allowed values.
//! The window is read exactly as exports read theirs (`domain/range.rs`).

use super::metric::{Dimension, Metric};
use super::{UsageError, UsageQuery};
use crate::domain::calendar::Granularity;
use crate::domain::credit::{self, CATEGORIES};
use crate::domain::entity::Org;
use crate::domain::range::{self, DateRange, RangeError, RangeField, RangePreset};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The parameters of `GET /v1/usage`, before validation.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// Comma-separated metrics (default `credits`): credits, credits_granted, runs,
    /// failed_runs, run_credits, interactions, interaction_credits, input_tokens,
    /// output_tokens, tool_calls, tool_call_errors, tool_call_latency_p50_ms,
    /// tool_call_latency_p95_ms, active_users. Groups sort by the first, descending.
    pub metrics: Option<String>,
    /// Window start: a date or a wall-clock time in `timezone`; with `Z` or an offset, that
    /// instant.
    pub start: Option<String>,
    /// Window end, inclusive at its precision (a date covers the whole day).
    pub end: Option<String>,
    /// IANA zone of the window and the buckets; the organization's when omitted.
    pub timezone: Option<String>,
    /// Instead of start/end: this_billing_period, last_billing_period, this_month,
    /// last_month, this_week, last_week, last_7_days, last_30_days, last_90_days.
    pub preset: Option<String>,
    /// 1h, 1d (default), 1w (ISO weeks), 1mo, billing_period, total — local to `timezone`.
    pub bucket: Option<String>,
    /// Up to two of team, user, workbook, agent, model, api_key, category, custom_role.
    pub group_by: Option<String>,
    /// Comma-separated team ids: only their usage.
    pub team_ids: Option<String>,
    /// Comma-separated member ids: only their usage.
    pub user_ids: Option<String>,
    /// A credit-log category (internal value or label); credit metrics only.
    pub category: Option<String>,
    /// Include personal spaces (default true: the organization's whole usage, as billed).
    pub include_personal_workspaces: Option<bool>,
    /// `next_page` of the previous page.
    pub cursor: Option<String>,
}

/// The length of the buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Local periods of a calendar granularity.
    Period(Granularity),
    /// The whole window as one bucket.
    Total,
}

impl Bucket {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Period(Granularity::Hour) => "1h",
            Bucket::Period(Granularity::Day) => "1d",
            Bucket::Period(Granularity::Week) => "1w",
            Bucket::Period(Granularity::Month) => "1mo",
            Bucket::Period(Granularity::BillingPeriod { .. }) => "billing_period",
            Bucket::Total => "total",
        }
    }

    fn parse(s: &str, anchor_day: u8) -> Option<Bucket> {
        Some(match s {
            "1h" => Bucket::Period(Granularity::Hour),
            "1d" => Bucket::Period(Granularity::Day),
            "1w" => Bucket::Period(Granularity::Week),
            "1mo" => Bucket::Period(Granularity::Month),
            "billing_period" => Bucket::Period(Granularity::BillingPeriod { anchor_day }),
            "total" => Bucket::Total,
            _ => return None,
        })
    }
}

/// Where a page starts: a bucket index and, within it, a group index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Index of the first bucket of the page.
    pub bucket: usize,
    /// Groups of that bucket already returned.
    pub group: usize,
}

impl Cursor {
    /// The opaque form.
    pub fn encode(self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("u1:{}:{}", self.bucket, self.group))
    }

    fn decode(s: &str) -> Option<Cursor> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let mut parts = text.strip_prefix("u1:")?.split(':');
        let bucket = parts.next()?.parse().ok()?;
        let group = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Cursor { bucket, group })
    }
}

fn bad(param: &str, message: impl Into<String>) -> UsageError {
    UsageError::Input {
        param: param.to_string(),
        message: message.into(),
    }
}

/// Splits a comma-separated list, dropping blanks and repeats (first occurrence wins).
fn list(raw: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.unwrap_or_default().split(',') {
        let part = part.trim();
        if !part.is_empty() && !out.iter().any(|p| p == part) {
            out.push(part.to_string());
        }
    }
    out
}

/// Validates `p` for `org`, reading presets relative to `now`. Team and member ids are
/// checked against the organization by the caller (they need the store).
pub fn validate(p: &UsageParams, org: &Org, now: DateTime<Utc>) -> Result<UsageQuery, UsageError> {
    let metrics = metrics(p.metrics.as_deref())?;
    let group_by = group_by(p.group_by.as_deref(), &metrics)?;
    let category = match p.category.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => {
            let value = credit::resolve(CATEGORIES, c).ok_or_else(|| {
                let allowed: Vec<&str> = CATEGORIES.iter().map(|(v, _)| *v).collect();
                bad(
                    "category",
                    format!("unknown category `{c}`; allowed: {}", allowed.join(", ")),
                )
            })?;
            if let Some(m) = metrics
                .iter()
                .find(|m| !Dimension::Category.in_family(m.family()))
            {
                return Err(bad(
                    "category",
                    format!(
                        "category filters credit-log metrics only ({}), not `{}`",
                        Dimension::Category.metrics(),
                        m.as_str()
                    ),
                ));
            }
            Some(value.to_string())
        }
    };
    let bucket = match p.bucket.as_deref() {
        None => Bucket::Period(Granularity::Day),
        Some(b) => Bucket::parse(b, org.billing_anchor_day).ok_or_else(|| {
            bad(
                "bucket",
                format!("unknown bucket `{b}`; allowed: 1h, 1d, 1w, 1mo, billing_period, total"),
            )
        })?,
    };
    let cursor = match p.cursor.as_deref() {
        None | Some("") => Cursor::default(),
        // A page starts at most a million buckets in (114 years of hours): reaching it walks
        // the calendar, so a forged cursor must not ask for more.
        Some(c) => Cursor::decode(c)
            .filter(|c| c.bucket <= 1_000_000)
            .ok_or_else(|| {
                bad(
                    "cursor",
                    "invalid cursor; pass `next_page` of the previous page unchanged",
                )
            })?,
    };
    Ok(UsageQuery {
        range: resolve_range(p, org, now)?,
        bucket,
        metrics,
        group_by,
        team_ids: list(p.team_ids.as_deref()),
        user_ids: list(p.user_ids.as_deref()),
        category,
        include_personal: p.include_personal_workspaces.unwrap_or(true),
        cursor,
        page_size: super::PAGE_SIZE,
        raw: false,
    })
}

fn metrics(raw: Option<&str>) -> Result<Vec<Metric>, UsageError> {
    let names = list(Some(raw.unwrap_or("credits")));
    if names.is_empty() {
        return Err(bad(
            "metrics",
            format!("metrics is empty; allowed: {}", Metric::names()),
        ));
    }
    names
        .iter()
        .map(|n| {
            Metric::parse(n).ok_or_else(|| {
                bad(
                    "metrics",
                    format!("unknown metric `{n}`; allowed: {}", Metric::names()),
                )
            })
        })
        .collect()
}

fn group_by(raw: Option<&str>, metrics: &[Metric]) -> Result<Vec<Dimension>, UsageError> {
    let names = list(raw);
    if names.len() > 2 {
        return Err(bad(
            "group_by",
            format!("at most two dimensions; got {}", names.len()),
        ));
    }
    let mut dims = Vec::new();
    for n in &names {
        let d = Dimension::parse(n).ok_or_else(|| {
            bad(
                "group_by",
                format!("unknown dimension `{n}`; allowed: {}", Dimension::names()),
            )
        })?;
        if let Some(m) = metrics.iter().find(|m| !d.in_family(m.family())) {
            return Err(bad(
                "group_by",
                format!(
                    "`{}` cannot be grouped by {n}; {n} applies to: {}",
                    m.as_str(),
                    d.metrics()
                ),
            ));
        }
        dims.push(d);
    }
    Ok(dims)
}

/// The window, read like an export's: explicit start/end or a preset, in `timezone` or the
/// organization's zone.
fn resolve_range(p: &UsageParams, org: &Org, now: DateTime<Utc>) -> Result<DateRange, UsageError> {
    let range_err = |e: RangeError| {
        let param = match e.field {
            RangeField::Start => "start",
            RangeField::End => "end",
            RangeField::Timezone => "timezone",
            RangeField::Preset => "preset",
        };
        bad(param, e.message)
    };
    let tz = range::parse_tz(p.timezone.as_deref().unwrap_or(&org.timezone)).map_err(range_err)?;
    match (&p.preset, &p.start, &p.end) {
        (Some(preset), None, None) => {
            let preset = RangePreset::parse(preset).map_err(range_err)?;
            Ok(range::preset_range(preset, tz, now, org.billing_anchor_day))
        }
        (Some(_), _, _) => Err(bad(
            "preset",
            "give either preset or start and end, not both",
        )),
        (None, Some(s), Some(e)) => range::explicit_range(s, e, tz).map_err(range_err),
        (None, None, _) => Err(bad(
            "start",
            format!(
                "start is required (or a preset: {})",
                RangePreset::ALL.map(RangePreset::as_str).join(", ")
            ),
        )),
        (None, Some(_), None) => Err(bad("end", "end is required")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            bucket: 12,
            group: 340,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("nope"), None);
    }

    #[test]
    fn group_by_names_the_metrics_a_dimension_applies_to() {
        let err = group_by(Some("model"), &[Metric::Runs]).unwrap_err();
        assert!(err.to_string().contains("interactions"), "{err}");
        assert!(group_by(Some("team,user,agent"), &[Metric::Runs]).is_err());
        assert_eq!(
            group_by(Some("team, team"), &[Metric::Credits]).unwrap(),
            vec![Dimension::Team]
        );
    }
}

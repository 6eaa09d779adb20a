//! Date ranges of exports and reports: explicit start/end read in an IANA zone (wall-clock
//! time, or an exact instant when a bound carries an offset), or a preset (billing periods, months, weeks, last N days), resolved DST-correctly to
//! a half-open UTC interval `[start, end)`.
//!
//! # Bounds
//! A bound ([`parse_bound`]) is one of
//! - `YYYY-MM-DD` — a calendar date;
//! - `YYYY-MM-DDTHH:MM`, `…THH:MM:SS`, `…THH:MM:SS.f` (1–9 fraction digits; `,` also works as
//!   the decimal mark; a space may replace the `T`) — a **wall-clock** time in the zone;
//! - either time form followed by `Z` (= `+00:00`) or a numeric offset `±HH:MM` (or `±HHMM`,
//!   `±HH`) — an **absolute instant**: a client that spells out an offset has said exactly
//!   which instant it means, and re-reading it as wall-clock time in the zone would silently
//!   shift its data by the zone's offset (a Berlin request for `2026-11-01T00:00:00Z` once
//!   started an hour early). The zone then only names the labels: the window's dates, and
//!   the offset of local output. Gap and fold rules do not apply to such a bound.
//!
//! Fractions finer than a microsecond are truncated: storage keeps microseconds.
//!
//! As a **start**, a bound is the first instant it names (a date: local midnight). As an
//! **end** it is inclusive at its stated precision, and the range's exclusive end is the first
//! instant after what it covers: a date covers the whole day (end = next local midnight), a
//! time without seconds the whole minute, a time with whole seconds the whole second
//! (`23:59:59` → next midnight), a fractional time the exact instant (end = instant + 1 µs).
//! An end is "before the start" — an error — when everything it covers lies before the start;
//! an end on the start's own date (or second, or minute) is fine.
//!
//! # Labels
//! A window's dates are dates in the request's zone, end inclusive: [`DateRange::first_day`]
//! is the start's date in `tz`, [`DateRange::last_day`] the date of the last covered instant
//! in `end_tz`. November read in America/New_York ends at Dec 1 05:00 UTC yet is labelled
//! 2026-11-01 to 2026-11-30, as is November in Europe/Berlin, which starts on Oct 31 in UTC.
//!
//! # DST and other clock changes
//! - A wall-clock time in a gap (spring forward) moves forward to the first instant after the
//!   gap — for a start and for an end alike. Such an end therefore covers nothing past the gap:
//!   `02:30` on Berlin's spring-forward day ends the range at 03:00 local, the first instant
//!   whose wall clock reads later than 02:30.
//! - An ambiguous time (autumn fold) takes the earlier instant for a start and the later one
//!   for an end, so an inclusive end covers the whole fold.
//! - Local midnight follows the start rule everywhere (date bounds and presets), so
//!   consecutive days tile exactly, including in zones whose clocks change at midnight
//!   (America/Santiago, Asia/Beirut, America/Havana): a missing midnight becomes 01:00, a
//!   repeated one its first occurrence.
//!
//! # Presets
//! Read in the zone, with *today* = the local date of `now`:
//! - `this_month` = [1st of this month, 1st of next month); `last_month` the month before.
//! - `this_week` = the ISO week (Monday to Sunday) containing today; `last_week` the one before.
//! - `last_N_days` = the N calendar days ending today inclusive: [today − (N−1), tomorrow).
//! - Billing periods start on the organization's anchor day (1..=31) each month, or on the
//!   month's last day when the month is shorter (anchor 31 → Feb 28/29, Apr 30).
//!   `this_billing_period` = [start of the period containing today, next period's start);
//!   `last_billing_period` the period before it.
//!
//! Every boundary is a local midnight resolved as above (the rule and the billing dates live in
//! `domain/calendar/local.rs`, shared with usage buckets and schedules). Nothing here panics on any input:
//! texts are parsed by hand with checked arithmetic and `now` is clamped to years 1..=9999.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::calendar::local::{
    add_days, add_months, billing_period_dates, clamp_instant, first_after_gap, first_of_month,
    local_midnight, monday_of,
};

/// A resolved window: `start` inclusive, `end` exclusive, and the zones it was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// First instant in the window.
    pub start: DateTime<Utc>,
    /// First instant after the window.
    pub end: DateTime<Utc>,
    /// The zone the request was read in (also the offset used for output when asked); with
    /// a zone per bound, the start's.
    pub tz: Tz,
    /// The zone of the end bound: the same as `tz` unless each bound named its own. Labels
    /// of the window's last day are dates in this zone.
    pub end_tz: Tz,
}

impl DateRange {
    /// The last instant the window covers, at storage resolution (one microsecond before the
    /// exclusive `end`); `start` for an empty window.
    pub fn last_instant(&self) -> DateTime<Utc> {
        if self.end > self.start {
            self.end - TimeDelta::microseconds(1)
        } else {
            self.start
        }
    }

    /// The window's first date, in the request's zone (`tz`): what a report labels
    /// `period_start`.
    pub fn first_day(&self) -> NaiveDate {
        self.start.with_timezone(&self.tz).date_naive()
    }

    /// The date of the window's last instant in the end's zone (`end_tz`): the inclusive end
    /// as requested, so November in any zone ends on Nov 30, not on the UTC date of the
    /// exclusive end.
    pub fn last_day(&self) -> NaiveDate {
        self.last_instant().with_timezone(&self.end_tz).date_naive()
    }
}

/// The presets of docs/spec.md §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangePreset {
    /// The billing period (anchor day to anchor day) containing today.
    ThisBillingPeriod,
    /// The billing period before the current one.
    LastBillingPeriod,
    /// The calendar month containing today.
    ThisMonth,
    /// The calendar month before this one.
    LastMonth,
    /// The ISO week (Monday to Sunday) containing today.
    ThisWeek,
    /// The ISO week before this one.
    LastWeek,
    /// Today and the 6 days before it.
    Last7Days,
    /// Today and the 29 days before it.
    Last30Days,
    /// Today and the 89 days before it.
    Last90Days,
}

impl RangePreset {
    /// Every preset, in the order the API documents them.
    pub const ALL: [RangePreset; 9] = [
        RangePreset::ThisBillingPeriod,
        RangePreset::LastBillingPeriod,
        RangePreset::ThisMonth,
        RangePreset::LastMonth,
        RangePreset::ThisWeek,
        RangePreset::LastWeek,
        RangePreset::Last7Days,
        RangePreset::Last30Days,
        RangePreset::Last90Days,
    ];

    /// Parses the API names: this_billing_period, last_billing_period, this_month, last_month,
    /// this_week, last_week, last_7_days, last_30_days, last_90_days (case-insensitive;
    /// hyphens accepted as underscores). Unknown → RangeError{field: Preset, message listing all}.
    pub fn parse(s: &str) -> Result<RangePreset, RangeError> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
                RangeError::new(
                    RangeField::Preset,
                    format!(
                        "preset `{}` is not known; use one of {}",
                        shown(s),
                        names.join(", ")
                    ),
                )
            })
    }

    /// The API name (snake_case), the form [`RangePreset::parse`] accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            RangePreset::ThisBillingPeriod => "this_billing_period",
            RangePreset::LastBillingPeriod => "last_billing_period",
            RangePreset::ThisMonth => "this_month",
            RangePreset::LastMonth => "last_month",
            RangePreset::ThisWeek => "this_week",
            RangePreset::LastWeek => "last_week",
            RangePreset::Last7Days => "last_7_days",
            RangePreset::Last30Days => "last_30_days",
            RangePreset::Last90Days => "last_90_days",
        }
    }
}

impl fmt::Display for RangePreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RangePreset {
    type Err = RangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Which input a [`RangeError`] is about, so callers can name their own parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeField {
    /// The start bound.
    Start,
    /// The end bound, including "end before start".
    End,
    /// The IANA zone name.
    Timezone,
    /// The preset name.
    Preset,
}

impl RangeField {
    /// The generic parameter name used at the start of messages (`start`, `end`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RangeField::Start => "start",
            RangeField::End => "end",
            RangeField::Timezone => "timezone",
            RangeField::Preset => "preset",
        }
    }
}

/// Why a range could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RangeError {
    /// The offending input.
    pub field: RangeField,
    /// A message naming the problem and, where there is a list, the allowed values.
    pub message: String,
}

impl RangeError {
    fn new(field: RangeField, message: String) -> Self {
        Self { field, message }
    }
}

/// How finely a bound was written; an end covers one whole unit of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `YYYY-MM-DD`: the whole local day.
    Day,
    /// `…THH:MM`: the whole minute.
    Minute,
    /// `…THH:MM:SS`: the whole second.
    Second,
    /// `…THH:MM:SS.f`: the exact instant, at microsecond resolution.
    Micros,
}

/// One parsed and resolved bound: what it means as a range start and as a range end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// The first instant the bound names: its meaning as a start.
    pub start: DateTime<Utc>,
    /// The first instant after everything the bound covers: its meaning as an inclusive end,
    /// i.e. the exclusive end of a range.
    pub end: DateTime<Utc>,
    /// How finely the bound was written.
    pub precision: Precision,
}

/// Parses an IANA zone name ("Europe/Berlin", "UTC"); unknown → RangeError{field: Timezone,
/// message naming the value and saying it must be an IANA name like Europe/Berlin}.
///
/// Exact names are looked up directly; a name differing only in case (`europe/berlin`) is
/// accepted too, since the zone it means is unambiguous.
pub fn parse_tz(s: &str) -> Result<Tz, RangeError> {
    let name = s.trim();
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            RangeError::new(
                RangeField::Timezone,
                format!(
                    "timezone `{}` is not a known time zone; it must be an IANA name like \
                     Europe/Berlin, America/New_York or UTC",
                    shown(s)
                ),
            )
        })
}

/// Resolves a preset in `tz` relative to `now`. `billing_anchor_day` (1..=31) is the
/// organization's billing-cycle anchor day; 0 is read as 1 and anything above 31 as 31.
pub fn preset_range(
    p: RangePreset,
    tz: Tz,
    now: DateTime<Utc>,
    billing_anchor_day: u8,
) -> DateRange {
    let today = clamp_instant(now).with_timezone(&tz).date_naive();
    let month = first_of_month(today);
    let monday = monday_of(today);
    let (from, to) = match p {
        RangePreset::ThisMonth => (month, add_months(month, 1)),
        RangePreset::LastMonth => (add_months(month, -1), month),
        RangePreset::ThisWeek => (monday, add_days(monday, 7)),
        RangePreset::LastWeek => (add_days(monday, -7), monday),
        RangePreset::Last7Days => last_days(today, 7),
        RangePreset::Last30Days => last_days(today, 30),
        RangePreset::Last90Days => last_days(today, 90),
        RangePreset::ThisBillingPeriod => billing_period_dates(today, billing_anchor_day, 0),
        RangePreset::LastBillingPeriod => billing_period_dates(today, billing_anchor_day, -1),
    };
    DateRange {
        start: local_midnight(tz, from),
        end: local_midnight(tz, to),
        tz,
        end_tz: tz,
    }
}

/// Resolves explicit bounds read in `tz`.
pub fn explicit_range(start: &str, end: &str, tz: Tz) -> Result<DateRange, RangeError> {
    explicit_range_zoned(start, tz, end, tz)
}

/// Like explicit_range but each bound has its own zone (the Langdock-style body
/// {from:{date,timezone}, to:{date,timezone}}); the returned DateRange.tz is the `from` zone
/// and `end_tz` the `to` zone.
pub fn explicit_range_zoned(
    start: &str,
    start_tz: Tz,
    end: &str,
    end_tz: Tz,
) -> Result<DateRange, RangeError> {
    let from = parse_bound(start, start_tz, RangeField::Start)?;
    let to = parse_bound(end, end_tz, RangeField::End)?;
    // Compare what the end covers with where the start begins: an end on the start's own day
    // is a one-day range. The second condition keeps a bound that covers nothing at all
    // (a day a zone skipped, like Pacific/Apia's 2011-12-30) from reading as "before itself".
    if to.end <= from.start && to.start < from.start {
        return Err(RangeError::new(
            RangeField::End,
            format!(
                "end `{}` is before start `{}`; the end must be on or after the start \
                 (it is inclusive: an end date covers that whole day)",
                shown(end),
                shown(start)
            ),
        ));
    }
    Ok(DateRange {
        start: from.start,
        end: to.end,
        tz: start_tz,
        end_tz,
    })
}

/// Parses one bound (helper used by the two functions above and by tests).
///
/// `field` only names the input in the error message.
pub fn parse_bound(s: &str, tz: Tz, field: RangeField) -> Result<Bound, RangeError> {
    let text = parse_text(s.trim()).map_err(|reason| {
        RangeError::new(
            field,
            format!(
                "{} `{}` is not a date ({reason}); use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS \
                 (seconds and a .fraction optional, a trailing Z or ±HH:MM allowed)",
                field.as_str(),
                shown(s)
            ),
        )
    })?;
    Ok(resolve(text, tz))
}

/// A bound's text, parsed but not yet placed in a zone.
struct Text {
    date: NaiveDate,
    /// The time of day, absent for a bare date.
    time: Option<NaiveTime>,
    /// The explicit offset, when one was given (`Z` is `+00:00`); `None` means wall-clock.
    offset: Option<FixedOffset>,
    precision: Precision,
}

const FORMS: &str = "expected YYYY-MM-DD, optionally followed by T and HH:MM[:SS[.fff]]";

/// Parses the accepted forms by hand, so every mistake gets its own reason and no input can
/// reach a panicking path.
fn parse_text(s: &str) -> Result<Text, String> {
    let b = s.as_bytes();
    let (Some(y), Some(b'-'), Some(m), Some(b'-'), Some(d)) = (
        digits(b, 0, 4),
        b.get(4),
        digits(b, 5, 2),
        b.get(7),
        digits(b, 8, 2),
    ) else {
        return Err(FORMS.into());
    };
    if !(1..=12).contains(&m) {
        return Err(format!("month {m:02} does not exist"));
    }
    // `y` has four digits, so the cast cannot wrap.
    let date = NaiveDate::from_ymd_opt(y as i32, m, d)
        .ok_or_else(|| format!("{y:04}-{m:02} has no day {d:02}"))?;
    let rest = &b[10..];
    let Some((&sep, t)) = rest.split_first() else {
        return Ok(Text {
            date,
            time: None,
            offset: None,
            precision: Precision::Day,
        });
    };
    if !matches!(sep, b'T' | b't' | b' ') {
        return Err(FORMS.into());
    }
    let (Some(h), Some(b':'), Some(min)) = (digits(t, 0, 2), t.get(2), digits(t, 3, 2)) else {
        return Err("expected HH:MM after the date".into());
    };
    let mut i = 5;
    let (mut sec, mut nanos, mut precision) = (0, 0, Precision::Minute);
    if t.get(i) == Some(&b':') {
        sec = digits(t, i + 1, 2).ok_or("expected two-digit seconds after HH:MM:")?;
        i += 3;
        precision = Precision::Second;
        if matches!(t.get(i), Some(b'.' | b',')) {
            let first = i + 1;
            i = first;
            while t.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let n = i - first;
            if !(1..=9).contains(&n) {
                return Err("expected 1 to 9 digits after the decimal point".into());
            }
            // At most nine digits: fits a u32, and scaled to nanoseconds stays below 10⁹.
            let frac = digits(t, first, n).ok_or(FORMS)?;
            nanos = frac * 10u32.pow(9 - n as u32);
            precision = Precision::Micros;
        }
    }
    if h > 23 || min > 59 || sec > 59 {
        return Err(format!(
            "{h:02}:{min:02}:{sec:02} is not a time of day (00:00:00 to 23:59:59)"
        ));
    }
    let time = NaiveTime::from_hms_micro_opt(h, min, sec, nanos / 1000).ok_or(FORMS)?;
    let offset = parse_offset(&t[i..]).ok_or_else(|| {
        // Everything consumed so far is ASCII, so this index is a character boundary.
        let tail = s.get(11 + i..).unwrap_or_default();
        format!(
            "unexpected `{}` after the time; it may end in Z or ±HH:MM",
            shown(tail)
        )
    })?;
    Ok(Text {
        date,
        time: Some(time),
        offset,
        precision,
    })
}

/// Parses what follows the time: nothing (→ `Some(None)`, wall-clock), `Z` or a numeric
/// offset `±HH:MM`, `±HHMM`, `±HH` (→ `Some(Some(offset))`, an instant). `None` means not
/// understood.
fn parse_offset(b: &[u8]) -> Option<Option<FixedOffset>> {
    let (&sign, rest) = match b {
        [] => return Some(None),
        [b'Z' | b'z'] => return FixedOffset::east_opt(0).map(Some),
        [sign @ (b'+' | b'-'), rest @ ..] => (sign, rest),
        _ => return None,
    };
    let h = digits(rest, 0, 2)?;
    let m = match &rest[2..] {
        [] => 0,
        [b':', mm @ ..] | mm if mm.len() == 2 => digits(mm, 0, 2)?,
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    let secs = (h * 3600 + m * 60) as i32;
    let offset = if sign == b'-' {
        FixedOffset::west_opt(secs)
    } else {
        FixedOffset::east_opt(secs)
    };
    offset.map(Some)
}

/// The `n` ASCII digits of `b` at `at` as a number, if they are all there.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    b.get(at..at.checked_add(n)?)?
        .iter()
        .try_fold(0u32, |acc, &c| {
            c.is_ascii_digit()
                .then(|| acc.saturating_mul(10).saturating_add(u32::from(c - b'0')))
        })
}

/// Places a parsed bound in its zone (or at its explicit offset).
fn resolve(text: Text, tz: Tz) -> Bound {
    let Some(time) = text.time else {
        return Bound {
            start: local_midnight(tz, text.date),
            end: local_midnight(tz, add_days(text.date, 1)),
            precision: text.precision,
        };
    };
    let wall = text.date.and_time(time);
    let unit = match text.precision {
        Precision::Day => TimeDelta::days(1),
        Precision::Minute => TimeDelta::minutes(1),
        Precision::Second => TimeDelta::seconds(1),
        Precision::Micros => TimeDelta::microseconds(1),
    };
    let (start, end) = match text.offset {
        Some(offset) => {
            let instant = wall.and_utc() - TimeDelta::seconds(offset.local_minus_utc().into());
            (instant, instant + unit)
        }
        None => match tz.from_local_datetime(&wall) {
            LocalResult::Single(t) => (t.to_utc(), t.to_utc() + unit),
            LocalResult::Ambiguous(a, b) => (a.min(b).to_utc(), a.max(b).to_utc() + unit),
            // Nothing in the gap has a wall-clock reading up to `wall`, so the end is the
            // gap's far edge too (see the module doc).
            LocalResult::None => {
                let after = first_after_gap(tz, wall);
                (after, after)
            }
        },
    };
    Bound {
        start,
        end,
        precision: text.precision,
    }
}

/// The `n` calendar days ending today inclusive, as [first day, tomorrow).
fn last_days(today: NaiveDate, n: i64) -> (NaiveDate, NaiveDate) {
    (add_days(today, 1 - n), add_days(today, 1))
}

/// An input as quoted in messages, cut short so a huge value cannot flood a response.
fn shown(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe, Pacific};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn range(start: &str, end: &str, tz: Tz) -> DateRange {
        explicit_range(start, end, tz).unwrap()
    }

    fn hours(r: &DateRange) -> i64 {
        (r.end - r.start).num_hours()
    }

    /// A preset resolved at `now`, as (start, end) RFC 3339 strings for readable asserts.
    fn preset(p: RangePreset, tz: Tz, now: &str, anchor: u8) -> (String, String) {
        let r = preset_range(p, tz, utc(now), anchor);
        (r.start.to_rfc3339(), r.end.to_rfc3339())
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (utc(a).to_rfc3339(), utc(b).to_rfc3339())
    }

    #[test]
    fn berlin_spring_forward_day_is_23_hours() {
        let r = range("2026-03-29", "2026-03-29", Europe::Berlin);
        assert_eq!(r.start, utc("2026-03-28T23:00:00Z"));
        assert_eq!(r.end, utc("2026-03-29T22:00:00Z"));
        assert_eq!(hours(&r), 23);
        assert_eq!(r.tz, Europe::Berlin);
    }

    #[test]
    fn wall_clock_in_the_spring_gap_moves_to_the_end_of_the_gap() {
        let b = parse_bound("2026-03-29T02:30", Europe::Berlin, RangeField::Start).unwrap();
        assert_eq!(b.start, utc("2026-03-29T01:00:00Z")); // 03:00 CEST
        // As an end it covers nothing past the gap: 03:00 local already reads later.
        let r = range("2026-03-29T01:30", "2026-03-29T02:30:00", Europe::Berlin);
        assert_eq!(r.start, utc("2026-03-29T00:30:00Z"));
        assert_eq!(r.end, utc("2026-03-29T01:00:00Z"));
        // The last second before the gap ends exactly at the jump.
        let r = range("2026-03-29", "2026-03-29T01:59:59", Europe::Berlin);
        assert_eq!(r.end, utc("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn berlin_autumn_day_is_25_hours_and_the_fold_is_covered_by_an_end() {
        let r = range("2026-10-25", "2026-10-25", Europe::Berlin);
        assert_eq!(r.start, utc("2026-10-24T22:00:00Z"));
        assert_eq!(r.end, utc("2026-10-25T23:00:00Z"));
        assert_eq!(hours(&r), 25);
        // 02:30 happens twice: a start takes the first (CEST), an end the second (CET).
        let r = range("2026-10-25T02:30", "2026-10-25T02:30", Europe::Berlin);
        assert_eq!(r.start, utc("2026-10-25T00:30:00Z"));
        assert_eq!(r.end, utc("2026-10-25T01:31:00Z"));
        let r = range("2026-10-25T02:00:00", "2026-10-25T02:59:59", Europe::Berlin);
        assert_eq!(r.start, utc("2026-10-25T00:00:00Z"));
        assert_eq!(r.end, utc("2026-10-25T02:00:00Z")); // 03:00 CET
    }

    #[test]
    fn end_is_inclusive_at_its_precision() {
        let day = range("2026-01-01", "2026-01-31", Europe::Berlin);
        assert_eq!(day.start, utc("2025-12-31T23:00:00Z"));
        assert_eq!(day.end, utc("2026-01-31T23:00:00Z"));
        // 23:59:59 covers its whole second, so it ends where the date form ends.
        assert_eq!(
            range("2026-01-01", "2026-01-31T23:59:59", Europe::Berlin),
            day
        );
        assert_eq!(
            range("2026-01-01", "2026-01-31 23:59:59", Europe::Berlin),
            day
        );
        // Without seconds: the whole minute.
        let r = range("2026-01-01", "2026-01-31T23:59", Europe::Berlin);
        assert_eq!(r.end, day.end);
        let r = range("2026-01-01", "2026-01-31T10:15", Europe::Berlin);
        assert_eq!(r.end, utc("2026-01-31T09:16:00Z"));
        // A fraction names an exact instant, which is included: end = instant + 1 µs.
        let r = range("2026-01-01", "2026-01-31T23:59:59.999", Europe::Berlin);
        assert_eq!(r.end, utc("2026-01-31T22:59:59.999001Z"));
        // Digits past microseconds are truncated.
        let b = parse_bound("2026-01-31T23:59:59.9999999", Tz::UTC, RangeField::End).unwrap();
        assert_eq!(b.start, utc("2026-01-31T23:59:59.999999Z"));
        assert_eq!(b.end, utc("2026-02-01T00:00:00Z"));
        assert_eq!(b.precision, Precision::Micros);
    }

    #[test]
    fn one_day_and_one_second_ranges_are_fine() {
        let r = range("2026-05-05", "2026-05-05", Tz::UTC);
        assert_eq!(hours(&r), 24);
        let r = range("2026-05-05T10:00:00", "2026-05-05T10:00:00", Tz::UTC);
        assert_eq!(r.end - r.start, TimeDelta::seconds(1));
        // A time start and a date end on the same day: the rest of that day.
        let r = range("2026-05-05T18:00", "2026-05-05", Tz::UTC);
        assert_eq!(hours(&r), 6);
    }

    #[test]
    fn trailing_z_is_the_utc_instant_whatever_the_zone() {
        // The zone names the labels only: a `Z` bound is the same instant everywhere.
        for tz in [Tz::UTC, Europe::Berlin, America::New_York, Asia::Kathmandu] {
            let b = parse_bound("2026-11-01T00:00:00.000Z", tz, RangeField::Start).unwrap();
            assert_eq!(b.start, utc("2026-11-01T00:00:00Z"), "{tz}");
            let b = parse_bound("2026-11-30T23:59:59.999z", tz, RangeField::End).unwrap();
            assert_eq!(b.end, utc("2026-11-30T23:59:59.999001Z"), "{tz}");
            let b = parse_bound("2026-11-30T23:59Z", tz, RangeField::End).unwrap();
            assert_eq!(b.end, utc("2026-12-01T00:00:00Z"), "{tz}");
        }
        // Gumloop's examples: with the zone UTC, Z means what it says.
        let r = range("2025-01-01T00:00:00Z", "2025-01-31T23:59:59Z", Tz::UTC);
        assert_eq!(r.start, utc("2025-01-01T00:00:00Z"));
        assert_eq!(r.end, utc("2025-02-01T00:00:00Z"));
        // A Berlin request with Z bounds: exactly the UTC month, labelled in Berlin.
        let r = range(
            "2026-11-01T00:00:00.000Z",
            "2026-11-30T23:59:59.999Z",
            Europe::Berlin,
        );
        assert_eq!(r.start, utc("2026-11-01T00:00:00Z"));
        assert_eq!(r.end, utc("2026-11-30T23:59:59.999001Z"));
        assert_eq!(r.tz, Europe::Berlin);
    }

    #[test]
    fn quarter_hour_and_western_offsets_are_instants() {
        let b = parse_bound(
            "2026-11-01T05:45:00+05:45",
            America::New_York,
            RangeField::Start,
        )
        .unwrap();
        assert_eq!(b.start, utc("2026-11-01T00:00:00Z"));
        let b = parse_bound("2026-11-01T19:00-05:00", Europe::Berlin, RangeField::End).unwrap();
        assert_eq!(b.start, utc("2026-11-02T00:00:00Z"));
        assert_eq!(b.end, utc("2026-11-02T00:01:00Z"));
        let b = parse_bound("2026-11-01T19:00:00-0500", Tz::UTC, RangeField::Start).unwrap();
        assert_eq!(b.start, utc("2026-11-02T00:00:00Z"));
    }

    #[test]
    fn offsets_bypass_gap_and_fold_rules_on_dst_days() {
        // Berlin's spring-forward day: 02:30 is a wall-clock gap, but 02:30Z is an instant.
        let b = parse_bound("2026-03-29T02:30:00Z", Europe::Berlin, RangeField::Start).unwrap();
        assert_eq!(b.start, utc("2026-03-29T02:30:00Z"));
        // 02:30+01:00 never appeared on a Berlin clock; it is still an exact instant.
        let b = parse_bound("2026-03-29T02:30:00+01:00", Europe::Berlin, RangeField::End).unwrap();
        assert_eq!(b.start, utc("2026-03-29T01:30:00Z"));
        assert_eq!(b.end, utc("2026-03-29T01:30:01Z"));
        // The autumn fold: each offset picks its own occurrence, and an end is not widened.
        let first = parse_bound("2026-10-25T02:30:00+02:00", Europe::Berlin, RangeField::End);
        assert_eq!(first.unwrap().end, utc("2026-10-25T00:30:01Z"));
        let second = parse_bound("2026-10-25T02:30:00+01:00", Europe::Berlin, RangeField::End);
        assert_eq!(second.unwrap().end, utc("2026-10-25T01:30:01Z"));
        // Z bounds around a DST day give exactly 24 hours, while the local day has 23 or 25.
        let r = range(
            "2026-03-29T00:00:00Z",
            "2026-03-29T23:59:59Z",
            Europe::Berlin,
        );
        assert_eq!(hours(&r), 24);
        let r = range(
            "2026-10-25T00:00:00Z",
            "2026-10-25T23:59:59Z",
            Europe::Berlin,
        );
        assert_eq!(hours(&r), 24);
        // New York's autumn change (2026-11-01) works the same.
        let r = range(
            "2026-11-01T00:00:00-04:00",
            "2026-11-01T23:59:59-05:00",
            America::New_York,
        );
        assert_eq!(hours(&r), 25);
    }

    #[test]
    fn labels_are_dates_in_the_request_zone_end_inclusive() {
        // November in New York: Nov 1 04:00Z to Dec 1 05:00Z, labelled Nov 1..=Nov 30.
        let r = range("2026-11-01", "2026-11-30", America::New_York);
        assert_eq!(r.first_day().to_string(), "2026-11-01");
        assert_eq!(r.last_day().to_string(), "2026-11-30");
        assert_eq!(r.last_instant(), utc("2026-12-01T04:59:59.999999Z"));
        // November in Berlin starts on Oct 31 in UTC; its label is still Nov 1.
        let r = range("2026-11-01", "2026-11-30", Europe::Berlin);
        assert_eq!(r.first_day().to_string(), "2026-11-01");
        assert_eq!(r.last_day().to_string(), "2026-11-30");
        // Presets label the same way.
        let p = preset_range(
            RangePreset::LastMonth,
            Pacific::Auckland,
            utc("2026-12-10T00:00:00Z"),
            1,
        );
        assert_eq!(
            (p.first_day(), p.last_day()),
            (day(2026, 11, 1), day(2026, 11, 30))
        );
        // Each bound in its own zone: the end's date is read in the end's zone.
        let r = explicit_range_zoned("2026-11-01", Asia::Tokyo, "2026-11-30", America::New_York)
            .unwrap();
        assert_eq!(r.end_tz, America::New_York);
        assert_eq!(
            (r.first_day(), r.last_day()),
            (day(2026, 11, 1), day(2026, 11, 30))
        );
        // An end written to the second covers that second, and labels its own date.
        let r = range("2026-11-01T08:00", "2026-11-02T00:00:00", America::New_York);
        assert_eq!(r.last_day(), day(2026, 11, 2));
        // An empty window (a day the zone skipped) labels its start.
        let r = range("2011-12-30", "2011-12-30", Pacific::Apia);
        assert_eq!(r.last_instant(), r.start);
        assert_eq!(r.first_day(), r.last_day());
    }

    #[test]
    fn numeric_offset_is_an_absolute_instant() {
        let b = parse_bound(
            "2026-01-01T00:00:00+02:00",
            Europe::Berlin,
            RangeField::Start,
        )
        .unwrap();
        assert_eq!(b.start, utc("2025-12-31T22:00:00Z"));
        assert_eq!(b.end, utc("2025-12-31T22:00:01Z"));
        // Same instant whatever zone the request names.
        let other = parse_bound("2026-01-01T00:00:00+02:00", Tz::UTC, RangeField::Start).unwrap();
        assert_eq!(other, b);
        let b = parse_bound("2026-01-01T10:00-0530", Tz::UTC, RangeField::End).unwrap();
        assert_eq!(b.start, utc("2026-01-01T15:30:00Z"));
        assert_eq!(b.end, utc("2026-01-01T15:31:00Z"));
        let b = parse_bound("2026-01-01T10:00:00+05", Tz::UTC, RangeField::End).unwrap();
        assert_eq!(b.start, utc("2026-01-01T05:00:00Z"));
    }

    #[test]
    fn billing_anchor_15_before_and_after_the_anchor_day() {
        let this = RangePreset::ThisBillingPeriod;
        let last = RangePreset::LastBillingPeriod;
        assert_eq!(
            preset(this, Tz::UTC, "2026-02-10T12:00:00Z", 15),
            pair("2026-01-15T00:00:00Z", "2026-02-15T00:00:00Z")
        );
        assert_eq!(
            preset(last, Tz::UTC, "2026-02-10T12:00:00Z", 15),
            pair("2025-12-15T00:00:00Z", "2026-01-15T00:00:00Z")
        );
        assert_eq!(
            preset(this, Tz::UTC, "2026-02-20T12:00:00Z", 15),
            pair("2026-02-15T00:00:00Z", "2026-03-15T00:00:00Z")
        );
        assert_eq!(
            preset(last, Tz::UTC, "2026-02-20T12:00:00Z", 15),
            pair("2026-01-15T00:00:00Z", "2026-02-15T00:00:00Z")
        );
        // Leap February with the anchor in it.
        assert_eq!(
            preset(this, Tz::UTC, "2028-02-29T12:00:00Z", 15),
            pair("2028-02-15T00:00:00Z", "2028-03-15T00:00:00Z")
        );
        // The period turns at local midnight of the anchor day, not UTC midnight.
        assert_eq!(
            preset(this, Europe::Berlin, "2026-02-14T22:59:59Z", 15),
            pair("2026-01-14T23:00:00Z", "2026-02-14T23:00:00Z")
        );
        assert_eq!(
            preset(this, Europe::Berlin, "2026-02-14T23:00:00Z", 15),
            pair("2026-02-14T23:00:00Z", "2026-03-14T23:00:00Z")
        );
    }

    #[test]
    fn billing_anchor_31_falls_back_to_the_last_day_of_short_months() {
        let this = RangePreset::ThisBillingPeriod;
        let last = RangePreset::LastBillingPeriod;
        // Before February's (shortened) anchor: the period that began Jan 31.
        assert_eq!(
            preset(this, Tz::UTC, "2026-02-10T00:00:00Z", 31),
            pair("2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z")
        );
        assert_eq!(
            preset(last, Tz::UTC, "2026-02-10T00:00:00Z", 31),
            pair("2025-12-31T00:00:00Z", "2026-01-31T00:00:00Z")
        );
        // On Feb 28 of a common year the next period has begun.
        assert_eq!(
            preset(this, Tz::UTC, "2026-02-28T10:00:00Z", 31),
            pair("2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z")
        );
        // Leap year: Feb 28 is still in January's period, Feb 29 starts the next.
        assert_eq!(
            preset(this, Tz::UTC, "2028-02-28T10:00:00Z", 31),
            pair("2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z")
        );
        assert_eq!(
            preset(this, Tz::UTC, "2028-02-29T10:00:00Z", 31),
            pair("2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z")
        );
        assert_eq!(
            preset(last, Tz::UTC, "2028-02-29T10:00:00Z", 31),
            pair("2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z")
        );
        // 30-day months.
        assert_eq!(
            preset(this, Tz::UTC, "2026-04-29T10:00:00Z", 31),
            pair("2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z")
        );
        assert_eq!(
            preset(this, Tz::UTC, "2026-04-30T10:00:00Z", 31),
            pair("2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z")
        );
    }

    #[test]
    fn billing_anchor_out_of_range_is_clamped() {
        let this = RangePreset::ThisBillingPeriod;
        let now = "2026-04-10T10:00:00Z";
        assert_eq!(preset(this, Tz::UTC, now, 0), preset(this, Tz::UTC, now, 1));
        assert_eq!(
            preset(this, Tz::UTC, now, 200),
            preset(this, Tz::UTC, now, 31)
        );
        assert_eq!(
            preset(this, Tz::UTC, now, 1),
            pair("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z")
        );
    }

    #[test]
    fn weeks_are_iso_weeks_across_the_year_boundary() {
        // 2026-01-01 is a Thursday: its week began Monday 2025-12-29.
        assert_eq!(
            preset(RangePreset::ThisWeek, Tz::UTC, "2026-01-01T12:00:00Z", 1),
            pair("2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z")
        );
        assert_eq!(
            preset(RangePreset::LastWeek, Tz::UTC, "2026-01-01T12:00:00Z", 1),
            pair("2025-12-22T00:00:00Z", "2025-12-29T00:00:00Z")
        );
        // Sunday 23:30 UTC is already Monday in Berlin: the zone decides what "today" is.
        assert_eq!(
            preset(
                RangePreset::ThisWeek,
                Europe::Berlin,
                "2026-01-04T23:30:00Z",
                1
            ),
            pair("2026-01-04T23:00:00Z", "2026-01-11T23:00:00Z")
        );
        assert_eq!(
            preset(RangePreset::ThisWeek, Tz::UTC, "2026-01-04T23:30:00Z", 1),
            pair("2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z")
        );
    }

    #[test]
    fn months_in_the_zone() {
        assert_eq!(
            preset(
                RangePreset::ThisMonth,
                Europe::Berlin,
                "2026-03-15T12:00:00Z",
                1
            ),
            pair("2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z")
        );
        assert_eq!(
            preset(
                RangePreset::LastMonth,
                Europe::Berlin,
                "2026-03-15T12:00:00Z",
                1
            ),
            pair("2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z")
        );
        assert_eq!(
            preset(RangePreset::LastMonth, Tz::UTC, "2026-01-10T00:00:00Z", 1),
            pair("2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z")
        );
    }

    #[test]
    fn last_7_days_across_the_berlin_spring_change() {
        // Tuesday 2026-03-31, 12:00 CEST: the 7 days are Mar 25..=31, one of them 23 h long.
        let r = preset_range(
            RangePreset::Last7Days,
            Europe::Berlin,
            utc("2026-03-31T10:00:00Z"),
            1,
        );
        assert_eq!(r.start, utc("2026-03-24T23:00:00Z")); // Mar 25 00:00 CET
        assert_eq!(r.end, utc("2026-03-31T22:00:00Z")); // Apr 1 00:00 CEST
        assert_eq!(hours(&r), 7 * 24 - 1);
        assert_eq!(r.tz, Europe::Berlin);
    }

    #[test]
    fn last_30_and_90_days_end_tomorrow() {
        let now = "2026-06-15T08:00:00Z";
        assert_eq!(
            preset(RangePreset::Last30Days, Tz::UTC, now, 1),
            pair("2026-05-17T00:00:00Z", "2026-06-16T00:00:00Z")
        );
        assert_eq!(
            preset(RangePreset::Last90Days, Tz::UTC, now, 1),
            pair("2026-03-18T00:00:00Z", "2026-06-16T00:00:00Z")
        );
    }

    #[test]
    fn santiago_missing_and_repeated_midnights() {
        // 2026-09-06: clocks jump from 24:00 to 01:00, so that day starts at 01:00 -03.
        let r = range("2026-09-06", "2026-09-06", America::Santiago);
        assert_eq!(r.start, utc("2026-09-06T04:00:00Z"));
        assert_eq!(r.end, utc("2026-09-07T03:00:00Z"));
        assert_eq!(hours(&r), 23);
        // The day before ends exactly where it starts: no gap, no overlap.
        let before = range("2026-09-05", "2026-09-05", America::Santiago);
        assert_eq!(before.end, r.start);
        // 2026-04-05: 24:00 becomes 23:00 again, so Apr 4 is 25 hours long.
        let r = range("2026-04-04", "2026-04-04", America::Santiago);
        assert_eq!(r.start, utc("2026-04-04T03:00:00Z"));
        assert_eq!(r.end, utc("2026-04-05T04:00:00Z"));
        assert_eq!(hours(&r), 25);
        // A preset whose first day starts at the missing midnight: Sep 6..=12.
        let p = preset_range(
            RangePreset::Last7Days,
            America::Santiago,
            utc("2026-09-12T15:00:00Z"),
            1,
        );
        assert_eq!(p.start, utc("2026-09-06T04:00:00Z"));
        assert_eq!(p.end, utc("2026-09-13T03:00:00Z"));
        assert_eq!(hours(&p), 7 * 24 - 1);
    }

    #[test]
    fn beirut_and_havana_midnight_transitions() {
        // Beirut, 2026-03-29: 00:00 does not exist (23:59:59 EET → 01:00 EEST).
        let b = parse_bound("2026-03-29", Asia::Beirut, RangeField::Start).unwrap();
        assert_eq!(b.start, utc("2026-03-28T22:00:00Z"));
        assert_eq!(b.end - b.start, TimeDelta::hours(23));
        // Havana, 2026-11-01: 00:00–00:59 happens twice (CDT then CST).
        let oct31 = range("2026-10-31", "2026-10-31", America::Havana);
        let nov1 = range("2026-11-01", "2026-11-01", America::Havana);
        assert_eq!(oct31.end, utc("2026-11-01T04:00:00Z"));
        assert_eq!(nov1.start, oct31.end);
        assert_eq!(hours(&nov1), 25);
        // An end inside the fold takes its second occurrence.
        let r = range("2026-11-01", "2026-11-01T00:30", America::Havana);
        assert_eq!(r.end, utc("2026-11-01T05:31:00Z"));
    }

    #[test]
    fn skipped_day_is_an_empty_range_not_an_error() {
        // Samoa skipped 2011-12-30 entirely when it crossed the date line.
        let r = range("2011-12-30", "2011-12-30", Pacific::Apia);
        assert_eq!(r.start, r.end);
        assert_eq!(r.start, utc("2011-12-30T10:00:00Z"));
    }

    #[test]
    fn consecutive_days_tile_in_every_zone() {
        for tz in chrono_tz::TZ_VARIANTS {
            let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let mut prev_end = local_midnight(tz, day);
            for _ in 0..366 {
                let b = resolve(
                    Text {
                        date: day,
                        time: None,
                        offset: None,
                        precision: Precision::Day,
                    },
                    tz,
                );
                assert_eq!(b.start, prev_end, "{tz} {day}");
                assert!(b.end - b.start >= TimeDelta::hours(22), "{tz} {day}");
                assert!(b.end - b.start <= TimeDelta::hours(26), "{tz} {day}");
                // The start reads as that day's date locally.
                assert_eq!(b.start.with_timezone(&tz).date_naive(), day, "{tz}");
                prev_end = b.end;
                day = day.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn malformed_bounds_name_the_field_and_the_accepted_forms() {
        let e = explicit_range("2026-13-01", "2026-01-31", Tz::UTC).unwrap_err();
        assert_eq!(e.field, RangeField::Start);
        assert!(
            e.message.starts_with("start `2026-13-01` is not a date"),
            "{e}"
        );
        assert!(e.message.contains("month 13"), "{e}");
        assert!(
            e.message.contains("YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"),
            "{e}"
        );

        let e = explicit_range("2026-01-01", "2026-02-30", Tz::UTC).unwrap_err();
        assert_eq!(e.field, RangeField::End);
        assert!(
            e.message.starts_with("end `2026-02-30` is not a date"),
            "{e}"
        );
        assert!(e.message.contains("2026-02 has no day 30"), "{e}");

        for (bad, why) in [
            ("", "expected YYYY-MM-DD"),
            ("yesterday", "expected YYYY-MM-DD"),
            ("01/02/2026", "expected YYYY-MM-DD"),
            ("2026-1-5", "expected YYYY-MM-DD"),
            ("2026-01-01X", "expected YYYY-MM-DD"),
            ("2026-01-01T", "expected HH:MM"),
            ("2026-01-01T9:00", "expected HH:MM"),
            ("2026-01-01T24:00", "24:00:00 is not a time of day"),
            ("2026-01-01T23:60", "23:60:00 is not a time of day"),
            ("2026-01-01T23:59:60", "23:59:60 is not a time of day"),
            ("2026-01-01T10:00:", "two-digit seconds"),
            ("2026-01-01T10:00:00.", "1 to 9 digits"),
            ("2026-01-01T10:00:00.1234567891", "1 to 9 digits"),
            ("2026-01-01T10:00+24:00", "unexpected `+24:00`"),
            ("2026-01-01T10:00 UTC", "unexpected ` UTC`"),
            ("2026-01-01T10:00Zé", "unexpected `Zé`"),
            ("２０２６-01-01", "expected YYYY-MM-DD"),
        ] {
            let e = parse_bound(bad, Tz::UTC, RangeField::Start).unwrap_err();
            assert_eq!(e.field, RangeField::Start, "{bad}");
            assert!(e.message.contains(&format!("`{bad}`")), "{e}");
            assert!(e.message.contains(why), "{bad}: {e}");
            assert!(e.message.contains("use YYYY-MM-DD"), "{e}");
        }
    }

    #[test]
    fn huge_inputs_are_quoted_short() {
        let long = format!("2026-01-01T{}", "9".repeat(10_000));
        let e = parse_bound(&long, Tz::UTC, RangeField::End).unwrap_err();
        assert!(e.message.len() < 400, "{}", e.message.len());
        assert!(e.message.contains('…'));
    }

    #[test]
    fn end_before_start_is_an_end_error() {
        let e = explicit_range("2026-01-02", "2026-01-01", Tz::UTC).unwrap_err();
        assert_eq!(e.field, RangeField::End);
        assert!(
            e.message
                .starts_with("end `2026-01-01` is before start `2026-01-02`"),
            "{e}"
        );
        // The last second of the previous day is still before.
        let e = explicit_range("2026-01-02", "2026-01-01T23:59:59", Tz::UTC).unwrap_err();
        assert_eq!(e.field, RangeField::End);
        // Across zones: 09:00 UTC is before Tokyo's midnight of the next day (15:00 UTC).
        let e = explicit_range_zoned("2026-01-02", Asia::Tokyo, "2026-01-01T09:00", Tz::UTC)
            .unwrap_err();
        assert_eq!(e.field, RangeField::End);
    }

    #[test]
    fn each_bound_can_have_its_own_zone() {
        let r = explicit_range_zoned(
            "2026-01-01",
            Europe::Berlin,
            "2026-01-01",
            America::New_York,
        )
        .unwrap();
        assert_eq!(r.start, utc("2025-12-31T23:00:00Z"));
        assert_eq!(r.end, utc("2026-01-02T05:00:00Z"));
        assert_eq!(r.tz, Europe::Berlin);
    }

    #[test]
    fn timezones_are_iana_names() {
        assert_eq!(parse_tz("Europe/Berlin").unwrap(), Europe::Berlin);
        assert_eq!(parse_tz(" UTC ").unwrap(), Tz::UTC);
        assert_eq!(parse_tz("europe/berlin").unwrap(), Europe::Berlin);
        for bad in ["Mars/Olympus", "", "CEST+2"] {
            let e = parse_tz(bad).unwrap_err();
            assert_eq!(e.field, RangeField::Timezone);
            assert!(e.message.contains(&format!("`{bad}`")), "{e}");
            assert!(e.message.contains("IANA name like Europe/Berlin"), "{e}");
        }
    }

    #[test]
    fn presets_parse_their_api_names() {
        for p in RangePreset::ALL {
            assert_eq!(RangePreset::parse(p.as_str()).unwrap(), p);
            assert_eq!(p.to_string().parse::<RangePreset>().unwrap(), p);
        }
        assert_eq!(
            RangePreset::parse("Last-7-Days").unwrap(),
            RangePreset::Last7Days
        );
        assert_eq!(
            RangePreset::parse(" THIS_BILLING_PERIOD").unwrap(),
            RangePreset::ThisBillingPeriod
        );
        let e = RangePreset::parse("fortnight").unwrap_err();
        assert_eq!(e.field, RangeField::Preset);
        assert!(e.message.contains("`fortnight`"), "{e}");
        for p in RangePreset::ALL {
            assert!(e.message.contains(p.as_str()), "{e}");
        }
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        for tz in [
            Tz::UTC,
            Pacific::Kiritimati,
            Tz::Etc__GMTPlus12,
            America::Santiago,
        ] {
            for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
                for p in RangePreset::ALL {
                    let r = preset_range(p, tz, now, 31);
                    assert!(r.start <= r.end, "{p} {tz} {now}");
                    assert!(r.first_day() <= r.last_day(), "{p} {tz} {now}");
                }
            }
            let r = range("0000-01-01", "9999-12-31T23:59:59.999999", tz);
            assert!(r.start < r.end);
            assert!(r.first_day() <= r.last_day());
            let r = range("9999-12-31T23:59:59+23:59", "9999-12-31T23:59:59-23:59", tz);
            assert!(r.start < r.end);
            assert!(r.first_day() <= r.last_day());
            let r = range("0000-01-01T00:00Z", "0000-01-01T00:00:00.5-23:00", tz);
            assert!(r.first_day() <= r.last_day());
        }
    }
}

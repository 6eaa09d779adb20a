//! The local calendar: hours, days, ISO weeks, calendar months and billing periods in an
//! IANA zone, as half-open UTC intervals `[start, end)` — pure code, no I/O. Usage buckets
//! (issue 14) and the periods of scheduled exports (issue 15) both come from here.
//!
//! # Periods
//! - **Day**, **Week** (ISO: Monday to Sunday), **Month**, **BillingPeriod** are spans of
//!   local dates. Each starts at its first date's local midnight, resolved by the one rule of
//!   [`local`]: the first instant whose clock reads 00:00 or later — a midnight that does not
//!   exist (Asia/Gaza, America/Havana, historically America/Sao_Paulo) starts the day when the
//!   clocks jump; a repeated one at its first occurrence. So days are 23 or 25 hours long on
//!   DST days (Europe/Berlin), 23.5 or 24.5 on Australia/Lord_Howe's, and consecutive periods
//!   tile the timeline with no gap and no overlap in every zone. A date a zone skipped
//!   entirely (Pacific/Apia, 2011-12-30) is an empty period: it contains no instant, so
//!   [`period_containing`] never returns it and [`buckets`] leaves it out.
//! - **Hour**: the boundaries are the instants whose local clock reads a whole hour, plus the
//!   instants the zone's offset changes. An hour is therefore one real hour, except around a
//!   change that is not a whole hour (Lord_Howe's 30-minute shift cuts a 30-minute bucket);
//!   Berlin's 25-hour day has 25 hourly buckets, two of them labelled 02:00 (+02:00, then
//!   +01:00). Every local midnight is also an hour boundary, so days are unions of hours.
//!   Every current offset is a multiple of 15 minutes and every current clock change falls
//!   on a local quarter hour, so every boundary since the 1980s falls on a UTC quarter hour:
//!   rollups at that granularity stay exact in every zone (not for LMT-era dates).
//! - Billing periods start on the anchor day (1..=31, clamped; on the month's last day when
//!   the month is shorter), exactly as the `this_billing_period` preset of
//!   `domain/range.rs`, which uses the same dates ([`local::billing_period_dates`]).
//!
//! # Labels
//! A [`Period`] keeps its zone: [`Period::local_start`] / [`Period::local_end`] are RFC 3339
//! instants with the local offset, [`Period::first_day`] / [`Period::last_day`] the local
//! dates it covers (end inclusive).
//!
//! Instants are clamped to years 1..=9999 so nothing here panics on any input.

pub mod cadence;
pub mod local;

pub use cadence::{Cadence, DayOfMonth, Every, next_run_after};

use chrono::{DateTime, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use local::{
    add_days, add_months, billing_period_dates, clamp_instant, first_of_month, first_second_where,
    local_date, local_midnight, monday_of, offset_at_secs, offset_secs,
};

/// The length of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// Local hours (see the module doc for clock changes).
    Hour,
    /// Local days, midnight to midnight.
    Day,
    /// ISO weeks, Monday 00:00 local to the next Monday.
    Week,
    /// Calendar months, the 1st 00:00 local to the next 1st.
    Month,
    /// Billing periods: the anchor day (1..=31) of one month to that of the next.
    BillingPeriod {
        /// The organization's billing-cycle anchor day.
        anchor_day: u8,
    },
}

/// A period of the local calendar: `[start, end)` in UTC, read in `tz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First instant of the period.
    pub start: DateTime<Utc>,
    /// First instant after the period.
    pub end: DateTime<Utc>,
    /// The zone the period was computed in (its labels are read there).
    pub tz: Tz,
}

impl Period {
    /// The start with the zone's offset at that instant (what an API shows).
    pub fn local_start(&self) -> DateTime<Tz> {
        self.start.with_timezone(&self.tz)
    }

    /// The exclusive end with the zone's offset at that instant.
    pub fn local_end(&self) -> DateTime<Tz> {
        self.end.with_timezone(&self.tz)
    }

    /// The local date of the first instant.
    pub fn first_day(&self) -> NaiveDate {
        local_date(self.tz, self.start)
    }

    /// The local date of the last covered instant (one microsecond, storage resolution,
    /// before the end): a month's last day, not the next month's 1st.
    pub fn last_day(&self) -> NaiveDate {
        let last = if self.end > self.start {
            self.end - TimeDelta::microseconds(1)
        } else {
            self.start
        };
        local_date(self.tz, last)
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// How long the period lasts (23 h for Berlin's spring-forward day).
    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }
}

/// The period of granularity `g` in `tz` that contains `t`.
pub fn period_containing(tz: Tz, g: Granularity, t: DateTime<Utc>) -> Period {
    let t = clamp_instant(t);
    let (start, end) = match g {
        Granularity::Hour => hour_containing(tz, t),
        _ => dated_containing(tz, g, t),
    };
    Period { start, end, tz }
}

/// The last period that ended at or before `t`: what a scheduled run at `t` covers (the
/// previous local day, ISO week, month or billing period). For a run exactly at a boundary
/// that is the period just ended; for a run later in a period, the one before it.
pub fn completed_before(tz: Tz, g: Granularity, t: DateTime<Utc>) -> Period {
    let current = period_containing(tz, g, t);
    period_containing(tz, g, current.start - TimeDelta::nanoseconds(1))
}

/// The periods covering `[from, to)`, in order, **clipped to the range**: the first starts
/// at `from` and the last ends at `to`, so the buckets tile the range exactly and a sum over
/// them equals the sum over the range. Each bucket lies within one period; the whole period
/// of a bucket is `period_containing(tz, g, bucket.start)`. Empty for an empty range; lazy,
/// so a caller pages with `take`/`skip`.
pub fn buckets(tz: Tz, g: Granularity, from: DateTime<Utc>, to: DateTime<Utc>) -> Buckets {
    Buckets {
        tz,
        g,
        next: clamp_instant(from),
        to: clamp_instant(to),
    }
}

/// The iterator of [`buckets`].
#[derive(Debug, Clone)]
pub struct Buckets {
    tz: Tz,
    g: Granularity,
    next: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Iterator for Buckets {
    type Item = Period;

    fn next(&mut self) -> Option<Period> {
        if self.next >= self.to {
            return None;
        }
        let whole = period_containing(self.tz, self.g, self.next);
        if whole.end <= self.next {
            // Only at the clamped end of time: stop rather than loop.
            self.next = self.to;
            return None;
        }
        let bucket = Period {
            start: self.next,
            end: whole.end.min(self.to),
            tz: self.tz,
        };
        self.next = bucket.end;
        Some(bucket)
    }
}

/// The local hour containing `t`: from the last whole-hour reading (or offset change) at or
/// before `t` to the next one after it.
fn hour_containing(tz: Tz, t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let off = offset_secs(tz, t);
    let local = t.naive_utc() + TimeDelta::seconds(off.into());
    let into_hour = TimeDelta::seconds(i64::from(local.minute() * 60 + local.second()))
        + TimeDelta::nanoseconds(local.nanosecond().into());
    // The whole hours at the offset in force at `t`; an offset change between them and `t`
    // is itself a boundary (found by bisection: chrono-tz does not list its transitions).
    let (s0, e0) = (t - into_hour, t - into_hour + TimeDelta::hours(1));
    let same = |secs: i64| offset_at_secs(tz, secs) == off;
    let start = if offset_secs(tz, s0) == off {
        s0
    } else {
        let secs = first_second_where(s0.timestamp(), t.timestamp(), same);
        DateTime::from_timestamp(secs, 0).unwrap_or(s0)
    };
    let end = if offset_secs(tz, e0) == off {
        e0
    } else {
        let secs = first_second_where(t.timestamp(), e0.timestamp(), |s| !same(s));
        DateTime::from_timestamp(secs, 0).unwrap_or(e0)
    };
    (start, end)
}

/// The local dates `[first, next period's first)` of the period containing the date `d`.
fn dates_containing(g: Granularity, d: NaiveDate) -> (NaiveDate, NaiveDate) {
    match g {
        Granularity::Hour | Granularity::Day => (d, add_days(d, 1)),
        Granularity::Week => {
            let monday = monday_of(d);
            (monday, add_days(monday, 7))
        }
        Granularity::Month => {
            let first = first_of_month(d);
            (first, add_months(first, 1))
        }
        Granularity::BillingPeriod { anchor_day } => billing_period_dates(d, anchor_day, 0),
    }
}

/// The date-based period containing `t`. Usually the one of `t`'s local date; but a fold
/// across midnight (clocks set back past 00:00) reads an instant after a day's start as the
/// previous date, and a skipped date is empty, so step to the neighbour until `t` is inside.
fn dated_containing(tz: Tz, g: Granularity, t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let mut dates = dates_containing(g, local_date(tz, t));
    let mut span = (local_midnight(tz, dates.0), local_midnight(tz, dates.1));
    for _ in 0..4 {
        if t < span.0 {
            dates = dates_containing(g, add_days(dates.0, -1));
        } else if t >= span.1 {
            dates = dates_containing(g, dates.1);
        } else {
            break;
        }
        span = (local_midnight(tz, dates.0), local_midnight(tz, dates.1));
    }
    span
}

#[cfg(test)]
mod tests;

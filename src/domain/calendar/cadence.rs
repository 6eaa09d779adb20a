//! The cadence of a scheduled export (issue 15) and when it next runs.
//!
//! A cadence runs `every` day, week (on a weekday), month (on a day 1..=28 or the last day)
//! or billing period (on the anchor day), at a wall-clock time `at` in its zone. A run at
//! instant `r` covers [`Cadence::period_of_run`]: the completed period before `r`
//! ([`super::completed_before`]) — a monthly run on the 1st covers the previous month, and so
//! does one on the 31st (the current month is not complete yet).
//!
//! Wall-clock `at` follows the calendar's one rule: inside a DST gap the run happens at the
//! first instant after the gap; inside a fold at the first (earlier) of the two. A run date
//! whose `at` does not exist on that date at all (the zone skipped the rest of the day, or
//! the whole day as Pacific/Apia did on 2011-12-30) has no run rather than a second run on
//! the next date: the period it would have covered must then come from catch-up, so a runner
//! should key its work on periods (`period_of_run`), not on run instants.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::local::resolve_wall;
use super::local::{add_days, billing_period_start, clamp_instant, last_of_month, local_date};
use super::{Granularity, Period, completed_before};

/// The day of the month a monthly schedule runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayOfMonth {
    /// A day 1..=28 (present in every month); values outside are clamped.
    Day(u8),
    /// The month's last day.
    Last,
}

impl DayOfMonth {
    /// The run day in `date`'s month.
    fn in_month_of(self, date: NaiveDate) -> u32 {
        match self {
            DayOfMonth::Day(n) => u32::from(n.clamp(1, 28)),
            DayOfMonth::Last => last_of_month(date).day(),
        }
    }
}

/// How often a schedule runs, and on which day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Every {
    /// Every day; a run covers the previous local day.
    Day,
    /// Every week on `weekday`; a run covers the previous ISO week.
    Week {
        /// The day of the week it runs.
        weekday: Weekday,
    },
    /// Every month on `day`; a run covers the previous calendar month.
    Month {
        /// The day of the month it runs.
        day: DayOfMonth,
    },
    /// On the first day of each billing period; a run covers the period just ended.
    BillingPeriod {
        /// The organization's billing-cycle anchor day (1..=31).
        anchor_day: u8,
    },
}

/// A schedule's cadence: `every`, at the wall-clock time `at`, in `tz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// How often and on which day.
    pub every: Every,
    /// The wall-clock time of a run (HH:MM).
    pub at: NaiveTime,
    /// The schedule's zone.
    pub tz: Tz,
}

impl Cadence {
    /// The granularity of the periods a run covers.
    pub fn granularity(&self) -> Granularity {
        match self.every {
            Every::Day => Granularity::Day,
            Every::Week { .. } => Granularity::Week,
            Every::Month { .. } => Granularity::Month,
            Every::BillingPeriod { anchor_day } => Granularity::BillingPeriod { anchor_day },
        }
    }

    /// Whether the schedule runs on the local date `date`.
    pub fn runs_on(&self, date: NaiveDate) -> bool {
        match self.every {
            Every::Day => true,
            Every::Week { weekday } => date.weekday() == weekday,
            Every::Month { day } => date.day() == day.in_month_of(date),
            Every::BillingPeriod { anchor_day } => date == billing_period_start(date, anchor_day),
        }
    }

    /// The instant of the run on `date`, if the schedule runs that day and `at` exists on it
    /// (see the module doc).
    pub fn run_on(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        if !self.runs_on(date) {
            return None;
        }
        let run = resolve_wall(self.tz, date.and_time(self.at));
        (local_date(self.tz, run) == date).then_some(run)
    }

    /// The period a run at `run` covers: the completed period before it.
    pub fn period_of_run(&self, run: DateTime<Utc>) -> Period {
        completed_before(self.tz, self.granularity(), run)
    }

    /// The first run strictly after `t`.
    pub fn next_run_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = clamp_instant(t);
        // Start a day early: a fold can put the earlier `at` of a date before `t`'s local
        // date begins. No cadence goes more than 31 days between runs; 400 leaves room for
        // skipped dates.
        let mut date = add_days(local_date(self.tz, t), -1);
        for _ in 0..400 {
            if let Some(run) = self.run_on(date).filter(|run| *run > t) {
                return Some(run);
            }
            let next = add_days(date, 1);
            if next == date {
                return None;
            }
            date = next;
        }
        None
    }
}

/// The first run of `cadence` strictly after `t` (`None` only at the end of time).
pub fn next_run_after(cadence: &Cadence, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cadence.next_run_after(t)
}

/// The cadence in words, as the Schedules tab shows it: "Monthly on the 1st at 06:00,
/// Europe/Berlin".
impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at.format("%H:%M");
        match self.every {
            Every::Day => write!(f, "Daily")?,
            Every::Week { weekday } => write!(f, "Weekly on {}", weekday_name(weekday))?,
            Every::Month {
                day: DayOfMonth::Last,
            } => write!(f, "Monthly on the last day")?,
            Every::Month {
                day: DayOfMonth::Day(n),
            } => write!(f, "Monthly on the {}", ordinal(n.clamp(1, 28).into()))?,
            Every::BillingPeriod { .. } => write!(f, "Every billing period")?,
        }
        write!(f, " at {at}, {}", self.tz.name())
    }
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Australia, Europe};

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn cadence(every: Every, at: &str, tz: Tz) -> Cadence {
        Cadence {
            every,
            at: NaiveTime::parse_from_str(at, "%H:%M").unwrap(),
            tz,
        }
    }

    #[test]
    fn daily_at_a_time_in_the_spring_gap_runs_when_the_gap_ends() {
        let c = cadence(Every::Day, "02:30", Europe::Berlin);
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let run = c.next_run_after(utc("2026-03-28T12:00:00Z")).unwrap();
        assert_eq!(run, utc("2026-03-29T01:00:00Z"));
        let p = c.period_of_run(run);
        assert_eq!(p.first_day(), day(2026, 3, 28));
        assert_eq!(p.last_day(), day(2026, 3, 28));
        // The next day is back to 02:30 CEST.
        assert_eq!(c.next_run_after(run).unwrap(), utc("2026-03-30T00:30:00Z"));
    }

    #[test]
    fn daily_at_a_time_in_the_autumn_fold_runs_at_the_first_occurrence() {
        let c = cadence(Every::Day, "02:30", Europe::Berlin);
        // 2026-10-25: 02:30 happens at 00:30 UTC (CEST) and 01:30 UTC (CET).
        let run = c.next_run_after(utc("2026-10-24T12:00:00Z")).unwrap();
        assert_eq!(run, utc("2026-10-25T00:30:00Z"));
        // Once: after the first 02:30, the next run is the next day's.
        assert_eq!(c.next_run_after(run).unwrap(), utc("2026-10-26T01:30:00Z"));
        // The run on the 25-hour day covers the 24th; the next covers the 25-hour day.
        let p = c.period_of_run(utc("2026-10-26T01:30:00Z"));
        assert_eq!(p.duration().num_hours(), 25);
    }

    #[test]
    fn half_hour_shift_at_lord_howe() {
        // 2026-10-04: 02:00 +10:30 jumps to 02:30 +11:00 (15:30 UTC the day before).
        let c = cadence(Every::Day, "02:15", Australia::Lord_Howe);
        let run = c.next_run_after(utc("2026-10-03T00:00:00Z")).unwrap();
        assert_eq!(run, utc("2026-10-03T15:30:00Z"));
        // 2026-04-05: 02:00 +11:00 goes back to 01:30 +10:30: 01:45 happens twice.
        let c = cadence(Every::Day, "01:45", Australia::Lord_Howe);
        let run = c.next_run_after(utc("2026-04-04T00:00:00Z")).unwrap();
        assert_eq!(run, utc("2026-04-04T14:45:00Z"));
    }

    #[test]
    fn monthly_on_the_last_day_and_on_a_fixed_day() {
        let last = cadence(
            Every::Month {
                day: DayOfMonth::Last,
            },
            "06:00",
            America::New_York,
        );
        let run = last.next_run_after(utc("2026-02-01T00:00:00Z")).unwrap();
        assert_eq!(run, utc("2026-02-28T11:00:00Z"));
        let run = last.next_run_after(run).unwrap();
        assert_eq!(run, utc("2026-03-31T10:00:00Z")); // EDT since Mar 8
        let run = last.next_run_after(utc("2028-02-10T00:00:00Z")).unwrap();
        assert_eq!(run, utc("2028-02-29T11:00:00Z"));
        // A run on the last day covers the previous, completed month.
        let p = last.period_of_run(run);
        assert_eq!(
            (p.first_day(), p.last_day()),
            (day(2028, 1, 1), day(2028, 1, 31))
        );

        let first = cadence(
            Every::Month {
                day: DayOfMonth::Day(1),
            },
            "00:00",
            Europe::Berlin,
        );
        let run = first.next_run_after(utc("2026-12-15T00:00:00Z")).unwrap();
        assert_eq!(run, utc("2026-12-31T23:00:00Z"));
        let p = first.period_of_run(run);
        assert_eq!(
            (p.first_day(), p.last_day()),
            (day(2026, 12, 1), day(2026, 12, 31))
        );
        // Exactly at a run time, the next run is the following one.
        assert_eq!(
            first.next_run_after(run).unwrap(),
            utc("2027-01-31T23:00:00Z")
        );
    }

    #[test]
    fn weekly_and_billing_period_runs() {
        let weekly = cadence(
            Every::Week {
                weekday: Weekday::Mon,
            },
            "07:00",
            Tz::UTC,
        );
        // 2026-12-31 is a Thursday; the next Monday is 2027-01-04, covering ISO week 53.
        let run = weekly.next_run_after(utc("2026-12-31T00:00:00Z")).unwrap();
        assert_eq!(run, utc("2027-01-04T07:00:00Z"));
        let p = weekly.period_of_run(run);
        assert_eq!(
            (p.first_day(), p.last_day()),
            (day(2026, 12, 28), day(2027, 1, 3))
        );

        let billing = cadence(Every::BillingPeriod { anchor_day: 28 }, "06:00", Tz::UTC);
        let run = billing.next_run_after(utc("2026-02-01T00:00:00Z")).unwrap();
        assert_eq!(run, utc("2026-02-28T06:00:00Z"));
        let p = billing.period_of_run(run);
        assert_eq!(
            (p.first_day(), p.last_day()),
            (day(2026, 1, 28), day(2026, 2, 27))
        );
        let billing31 = cadence(Every::BillingPeriod { anchor_day: 31 }, "06:00", Tz::UTC);
        let run = billing31
            .next_run_after(utc("2026-02-01T00:00:00Z"))
            .unwrap();
        assert_eq!(run, utc("2026-02-28T06:00:00Z"));
        let p = billing31.period_of_run(run);
        assert_eq!(
            (p.first_day(), p.last_day()),
            (day(2026, 1, 31), day(2026, 2, 27))
        );
    }

    #[test]
    fn a_skipped_day_has_no_run() {
        // Samoa skipped 2011-12-30: the daily run goes from the 29th to the 31st.
        let c = cadence(Every::Day, "06:00", chrono_tz::Pacific::Apia);
        let run29 = c.run_on(day(2011, 12, 29)).unwrap();
        assert_eq!(c.run_on(day(2011, 12, 30)), None);
        let run31 = c.next_run_after(run29).unwrap();
        assert_eq!(local_date(c.tz, run31), day(2011, 12, 31));
    }

    #[test]
    fn cadence_in_words() {
        let c = cadence(
            Every::Month {
                day: DayOfMonth::Day(1),
            },
            "06:00",
            Europe::Berlin,
        );
        assert_eq!(c.to_string(), "Monthly on the 1st at 06:00, Europe/Berlin");
        let c = cadence(
            Every::Week {
                weekday: Weekday::Fri,
            },
            "18:30",
            Tz::UTC,
        );
        assert_eq!(c.to_string(), "Weekly on Friday at 18:30, UTC");
        assert_eq!(ordinal(22), "22nd");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(23), "23rd");
    }
}

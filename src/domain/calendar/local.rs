//! Local dates and wall-clock times in an IANA zone, and the instants they resolve to.
//!
//! The one rule every calendar boundary follows (and `domain/range.rs` too): a wall-clock
//! time names the **first instant whose clock reads that time or later**. So a time in a gap
//! (spring forward, or a midnight that a zone skips) moves to the instant the clocks jumped,
//! and a time in a fold (autumn) is its first, earlier occurrence. Consecutive local days
//! therefore tile the timeline exactly in every zone.
//!
//! Also here: date arithmetic that never panics (it saturates at chrono's limits) and the
//! billing-period dates shared with range presets.

use chrono::{
    DateTime, Datelike, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

/// The first instant whose wall clock in `tz` reads `date` 00:00 or later.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    resolve_wall(tz, date.and_time(NaiveTime::MIN))
}

/// The first instant whose wall clock in `tz` reads `wall` or later: `wall` itself when it
/// exists once, its earlier occurrence in a fold, the end of the gap when it does not exist.
pub fn resolve_wall(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.to_utc(),
        LocalResult::Ambiguous(a, b) => a.min(b).to_utc(),
        LocalResult::None => first_after_gap(tz, wall),
    }
}

/// The first instant whose wall clock reads `wall` or later, for a `wall` that falls in a
/// gap: the instant the clocks jumped. chrono-tz does not expose its transitions, so this
/// bisects whole seconds (transitions fall on whole seconds) in a window wide enough for any
/// UTC offset ever used (all are within ±16 h).
pub fn first_after_gap(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    const WINDOW: i64 = 26 * 3600;
    let guess = wall.and_utc().timestamp();
    let reads_at_least = |secs: i64| {
        DateTime::from_timestamp(secs, 0)
            .is_some_and(|t| t.with_timezone(&tz).naive_local() >= wall)
    };
    let hi = first_second_where(guess - WINDOW, guess + WINDOW, reads_at_least);
    DateTime::from_timestamp(hi, 0).unwrap_or_else(|| wall.and_utc())
}

/// The smallest whole second in `(lo, hi]` where `pred` holds, given that it fails at `lo`,
/// holds at `hi` and changes once in between (bisection).
pub(crate) fn first_second_where(mut lo: i64, mut hi: i64, pred: impl Fn(i64) -> bool) -> i64 {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The zone's UTC offset at `t`, in seconds east of UTC.
pub fn offset_secs(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The offset at a whole-second Unix time (for bisections over seconds).
pub(crate) fn offset_at_secs(tz: Tz, secs: i64) -> i32 {
    DateTime::from_timestamp(secs, 0).map_or(0, |t| offset_secs(tz, t))
}

/// The local date of `t` in `tz`.
pub fn local_date(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// Keeps an instant within years 1..=9999 so local dates and month arithmetic stay far from
/// chrono's limits (where converting to local time would panic).
pub fn clamp_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    const MIN: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let secs = t.timestamp();
    if (MIN..=MAX).contains(&secs) {
        t
    } else {
        DateTime::from_timestamp(secs.clamp(MIN, MAX), 0).unwrap_or_default()
    }
}

/// `d` moved by `n` days; `d` itself at chrono's limits.
pub fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(TimeDelta::days(n)).unwrap_or(d)
}

/// `d` moved by `n` calendar months (the day clamped to the month's length); `d` itself at
/// chrono's limits.
pub fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    let months = Months::new(n.unsigned_abs());
    let shifted = if n >= 0 {
        d.checked_add_months(months)
    } else {
        d.checked_sub_months(months)
    };
    shifted.unwrap_or(d)
}

/// The 1st of `d`'s month.
pub fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The last day of `d`'s month.
pub fn last_of_month(d: NaiveDate) -> NaiveDate {
    add_days(add_months(first_of_month(d), 1), -1)
}

/// The Monday that starts `d`'s ISO week.
pub fn monday_of(d: NaiveDate) -> NaiveDate {
    add_days(d, -i64::from(d.weekday().num_days_from_monday()))
}

/// The day the billing period starting in `month`'s month begins: the anchor day (read as
/// 1..=31: 0 is 1, above 31 is 31), or the month's last day when the month is shorter.
pub fn billing_period_start(month: NaiveDate, anchor: u8) -> NaiveDate {
    let month = first_of_month(month);
    let last = last_of_month(month).day();
    let day = u32::from(anchor.clamp(1, 31)).min(last);
    month.with_day(day).unwrap_or(month)
}

/// The billing period `offset` periods away from the one containing `today`, as local dates
/// `[first day, next period's first day)`.
pub fn billing_period_dates(today: NaiveDate, anchor: u8, offset: i32) -> (NaiveDate, NaiveDate) {
    let month = first_of_month(today);
    // Before this month's anchor day, today still belongs to the period begun last month.
    let current = if today >= billing_period_start(month, anchor) {
        month
    } else {
        add_months(month, -1)
    };
    let first = add_months(current, offset);
    (
        billing_period_start(first, anchor),
        billing_period_start(add_months(first, 1), anchor),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn midnights_in_gaps_and_folds() {
        // Zones whose clocks change at midnight: every local midnight is the first instant
        // reading 00:00 or later, whether that midnight exists, repeats or is skipped.
        for tz in [
            Asia::Gaza,
            America::Havana,
            America::Sao_Paulo,
            Asia::Beirut,
        ] {
            let mut d = day(2010, 1, 1);
            while d < day(2027, 1, 1) {
                let m = local_midnight(tz, d);
                let local = m.with_timezone(&tz).naive_local();
                assert!(local >= d.and_time(NaiveTime::MIN), "{tz} {d}");
                // One second earlier reads an earlier wall-clock time (first such instant).
                let before = (m - TimeDelta::seconds(1)).with_timezone(&tz).naive_local();
                assert!(before < d.and_time(NaiveTime::MIN), "{tz} {d}");
                d = add_days(d, 1);
            }
        }
        // Sao Paulo 2018-11-04: 00:00 did not exist, the day began at 01:00 -02.
        assert_eq!(
            local_midnight(America::Sao_Paulo, day(2018, 11, 4)),
            utc("2018-11-04T03:00:00Z")
        );
        // Berlin's autumn fold takes the earlier 02:30.
        assert_eq!(
            resolve_wall(
                Europe::Berlin,
                day(2026, 10, 25).and_hms_opt(2, 30, 0).unwrap()
            ),
            utc("2026-10-25T00:30:00Z")
        );
    }

    #[test]
    fn billing_dates_anchor_1_and_28_across_february() {
        assert_eq!(
            billing_period_dates(day(2026, 2, 14), 1, 0),
            (day(2026, 2, 1), day(2026, 3, 1))
        );
        assert_eq!(
            billing_period_dates(day(2026, 2, 27), 28, 0),
            (day(2026, 1, 28), day(2026, 2, 28))
        );
        assert_eq!(
            billing_period_dates(day(2026, 2, 28), 28, 0),
            (day(2026, 2, 28), day(2026, 3, 28))
        );
        assert_eq!(
            billing_period_dates(day(2028, 2, 29), 28, -1),
            (day(2028, 1, 28), day(2028, 2, 28))
        );
        assert_eq!(last_of_month(day(2028, 2, 3)), day(2028, 2, 29));
        assert_eq!(monday_of(day(2027, 1, 3)), day(2026, 12, 28));
    }
}

//! Tests of the calendar's periods and buckets: DST days, quarter-hour and half-hour zones,
//! ISO week 53, month ends, billing anchors, and invariants over every zone.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::{America, Asia, Australia, Europe, Pacific, Tz};

use super::*;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn span(p: Period) -> (String, String) {
    (p.start.to_rfc3339(), p.end.to_rfc3339())
}

fn pair(a: &str, b: &str) -> (String, String) {
    (utc(a).to_rfc3339(), utc(b).to_rfc3339())
}

#[test]
fn berlin_dst_days_are_23_and_25_hours() {
    let spring = period_containing(
        Europe::Berlin,
        Granularity::Day,
        utc("2026-03-29T12:00:00Z"),
    );
    assert_eq!(
        span(spring),
        pair("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")
    );
    assert_eq!(spring.duration(), TimeDelta::hours(23));
    let autumn = period_containing(
        Europe::Berlin,
        Granularity::Day,
        utc("2026-10-25T12:00:00Z"),
    );
    assert_eq!(
        span(autumn),
        pair("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
    );
    assert_eq!(autumn.duration(), TimeDelta::hours(25));
    assert_eq!(autumn.first_day(), day(2026, 10, 25));
    assert_eq!(autumn.last_day(), day(2026, 10, 25));
    assert_eq!(
        autumn.local_start().to_rfc3339(),
        "2026-10-25T00:00:00+02:00"
    );
    assert_eq!(autumn.local_end().to_rfc3339(), "2026-10-26T00:00:00+01:00");
}

#[test]
fn berlin_hours_across_the_clock_changes() {
    // The 23-hour day has 23 hourly buckets; the 25-hour day 25, two labelled 02:00.
    let spring = period_containing(
        Europe::Berlin,
        Granularity::Day,
        utc("2026-03-29T12:00:00Z"),
    );
    let hours: Vec<_> =
        buckets(Europe::Berlin, Granularity::Hour, spring.start, spring.end).collect();
    assert_eq!(hours.len(), 23);
    assert!(hours.iter().all(|h| h.duration() == TimeDelta::hours(1)));
    assert_eq!(
        hours[2].local_start().to_rfc3339(),
        "2026-03-29T03:00:00+02:00"
    );

    let autumn = period_containing(
        Europe::Berlin,
        Granularity::Day,
        utc("2026-10-25T12:00:00Z"),
    );
    let hours: Vec<_> =
        buckets(Europe::Berlin, Granularity::Hour, autumn.start, autumn.end).collect();
    assert_eq!(hours.len(), 25);
    assert!(hours.iter().all(|h| h.duration() == TimeDelta::hours(1)));
    assert_eq!(
        hours[2].local_start().to_rfc3339(),
        "2026-10-25T02:00:00+02:00"
    );
    assert_eq!(
        hours[3].local_start().to_rfc3339(),
        "2026-10-25T02:00:00+01:00"
    );
}

#[test]
fn kathmandu_boundaries_fall_on_quarter_hours() {
    // +05:45: local midnight is 18:15 UTC the day before, hours start at :15 UTC.
    let d = period_containing(
        Asia::Kathmandu,
        Granularity::Day,
        utc("2026-06-10T18:14:59Z"),
    );
    assert_eq!(
        span(d),
        pair("2026-06-09T18:15:00Z", "2026-06-10T18:15:00Z")
    );
    assert_eq!(d.first_day(), day(2026, 6, 10));
    let d = period_containing(
        Asia::Kathmandu,
        Granularity::Day,
        utc("2026-06-10T18:15:00Z"),
    );
    assert_eq!(d.first_day(), day(2026, 6, 11));
    let h = period_containing(
        Asia::Kathmandu,
        Granularity::Hour,
        utc("2026-06-10T09:00:00Z"),
    );
    assert_eq!(
        span(h),
        pair("2026-06-10T08:15:00Z", "2026-06-10T09:15:00Z")
    );
    assert_eq!(h.local_start().to_rfc3339(), "2026-06-10T14:00:00+05:45");
    let m = period_containing(
        Asia::Kathmandu,
        Granularity::Month,
        utc("2026-06-30T18:15:00Z"),
    );
    assert_eq!(
        span(m),
        pair("2026-06-30T18:15:00Z", "2026-07-31T18:15:00Z")
    );
}

#[test]
fn lord_howe_half_hour_shift() {
    let tz = Australia::Lord_Howe;
    // 2026-10-04 02:00 +10:30 (15:30 UTC on the 3rd) becomes 02:30 +11:00: a 23.5-hour day.
    let d = period_containing(tz, Granularity::Day, utc("2026-10-04T03:00:00Z"));
    assert_eq!(
        span(d),
        pair("2026-10-03T13:30:00Z", "2026-10-04T13:00:00Z")
    );
    assert_eq!(d.duration(), TimeDelta::minutes(23 * 60 + 30));
    let hours: Vec<_> = buckets(tz, Granularity::Hour, d.start, d.end).collect();
    assert_eq!(hours.len(), 24);
    assert_eq!(
        span(hours[1]),
        pair("2026-10-03T14:30:00Z", "2026-10-03T15:30:00Z")
    );
    // The hour after the jump reads 02:30–03:00: half an hour.
    assert_eq!(
        span(hours[2]),
        pair("2026-10-03T15:30:00Z", "2026-10-03T16:00:00Z")
    );
    assert_eq!(
        hours[2].local_start().to_rfc3339(),
        "2026-10-04T02:30:00+11:00"
    );
    // 2026-04-05 02:00 +11:00 goes back to 01:30 +10:30: a 24.5-hour day.
    let d = period_containing(tz, Granularity::Day, utc("2026-04-05T03:00:00Z"));
    assert_eq!(
        span(d),
        pair("2026-04-04T13:00:00Z", "2026-04-05T13:30:00Z")
    );
    let hours: Vec<_> = buckets(tz, Granularity::Hour, d.start, d.end).collect();
    assert_eq!(hours.len(), 25); // two whole hours, the 30-minute 01:30, 22 more
    assert_eq!(
        span(hours[1]),
        pair("2026-04-04T14:00:00Z", "2026-04-04T15:00:00Z")
    );
    assert_eq!(
        span(hours[2]),
        pair("2026-04-04T15:00:00Z", "2026-04-04T15:30:00Z")
    );
    assert_eq!(
        hours[2].local_start().to_rfc3339(),
        "2026-04-05T01:30:00+10:30"
    );
}

#[test]
fn missing_midnights_start_the_day_when_the_clocks_jump() {
    // Sao Paulo 2018-11-04: 00:00 -03 became 01:00 -02.
    let d = period_containing(
        America::Sao_Paulo,
        Granularity::Day,
        utc("2018-11-04T12:00:00Z"),
    );
    assert_eq!(
        span(d),
        pair("2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z")
    );
    assert_eq!(d.local_start().to_rfc3339(), "2018-11-04T01:00:00-02:00");
    // Havana 2026-03-08: 00:00 CST became 01:00 CDT; the day before ends where it starts.
    let d = period_containing(
        America::Havana,
        Granularity::Day,
        utc("2026-03-08T12:00:00Z"),
    );
    let before = completed_before(America::Havana, Granularity::Day, d.start);
    assert_eq!(before.end, d.start);
    assert_eq!(d.duration(), TimeDelta::hours(23));
    // Samoa skipped 2011-12-30: the days around it are adjacent, the skipped one is left out.
    let tz = Pacific::Apia;
    let days: Vec<_> = buckets(
        tz,
        Granularity::Day,
        utc("2011-12-29T10:00:00Z"),
        utc("2011-12-31T10:00:00Z"),
    )
    .map(|p| p.first_day())
    .collect();
    assert_eq!(days, [day(2011, 12, 29), day(2011, 12, 31)]);
}

#[test]
fn iso_week_53_and_year_ends() {
    // 2026 has an ISO week 53: Mon Dec 28 to Sun Jan 3.
    let w = period_containing(Tz::UTC, Granularity::Week, utc("2027-01-03T23:59:59Z"));
    assert_eq!(
        span(w),
        pair("2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z")
    );
    assert_eq!(
        (w.first_day(), w.last_day()),
        (day(2026, 12, 28), day(2027, 1, 3))
    );
    let w = period_containing(
        Europe::Berlin,
        Granularity::Week,
        utc("2026-12-31T23:30:00Z"),
    );
    assert_eq!(
        span(w),
        pair("2026-12-27T23:00:00Z", "2027-01-03T23:00:00Z")
    );
    // The Berlin week containing the spring change is 167 hours long.
    let w = period_containing(
        Europe::Berlin,
        Granularity::Week,
        utc("2026-03-29T12:00:00Z"),
    );
    assert_eq!(w.duration(), TimeDelta::hours(7 * 24 - 1));
    // A year of weeks from Monday 2025-12-29: 53 weeks, each starting on a Monday.
    let weeks: Vec<_> = buckets(
        Tz::UTC,
        Granularity::Week,
        utc("2025-12-29T00:00:00Z"),
        utc("2027-01-04T00:00:00Z"),
    )
    .collect();
    assert_eq!(weeks.len(), 53);
    assert!(weeks.iter().all(|w| w.duration() == TimeDelta::days(7)));
}

#[test]
fn month_ends_and_clipped_buckets() {
    let tz = America::New_York;
    let m = period_containing(tz, Granularity::Month, utc("2028-03-01T04:59:59Z"));
    assert_eq!(
        (m.first_day(), m.last_day()),
        (day(2028, 2, 1), day(2028, 2, 29))
    );
    let m = period_containing(tz, Granularity::Month, utc("2026-12-31T23:00:00Z"));
    assert_eq!(
        span(m),
        pair("2026-12-01T05:00:00Z", "2027-01-01T05:00:00Z")
    );
    // Buckets are clipped to the range: the first starts at `from`, the last ends at `to`.
    let (from, to) = (utc("2026-01-15T12:00:00Z"), utc("2026-04-10T00:00:00Z"));
    let months: Vec<_> = buckets(tz, Granularity::Month, from, to).collect();
    assert_eq!(months.len(), 4);
    assert_eq!(months[0].start, from);
    assert_eq!(months[0].end, utc("2026-02-01T05:00:00Z"));
    assert_eq!(months[2].end, utc("2026-04-01T04:00:00Z")); // EDT since Mar 8
    assert_eq!(months[3].end, to);
    assert_eq!(buckets(tz, Granularity::Month, to, to).count(), 0);
    assert_eq!(buckets(tz, Granularity::Month, to, from).count(), 0);
}

#[test]
fn billing_anchors_1_and_28_across_february() {
    let b1 = Granularity::BillingPeriod { anchor_day: 1 };
    let b28 = Granularity::BillingPeriod { anchor_day: 28 };
    let p = period_containing(Europe::Berlin, b1, utc("2026-02-28T22:59:59Z"));
    assert_eq!(
        span(p),
        pair("2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z")
    );
    let p = period_containing(Tz::UTC, b28, utc("2026-02-27T23:59:59Z"));
    assert_eq!(
        (p.first_day(), p.last_day()),
        (day(2026, 1, 28), day(2026, 2, 27))
    );
    let p = period_containing(Tz::UTC, b28, utc("2026-02-28T00:00:00Z"));
    assert_eq!(
        (p.first_day(), p.last_day()),
        (day(2026, 2, 28), day(2026, 3, 27))
    );
    // Leap year: Feb 29 belongs to the period begun on the 28th.
    let p = period_containing(Tz::UTC, b28, utc("2028-02-29T12:00:00Z"));
    assert_eq!(
        (p.first_day(), p.last_day()),
        (day(2028, 2, 28), day(2028, 3, 27))
    );
    let c = completed_before(Tz::UTC, b28, utc("2028-02-29T12:00:00Z"));
    assert_eq!(
        (c.first_day(), c.last_day()),
        (day(2028, 1, 28), day(2028, 2, 27))
    );
}

#[test]
fn billing_anchor_31_starts_on_the_last_day_of_shorter_months() {
    let b31 = Granularity::BillingPeriod { anchor_day: 31 };
    // February has no 31st: its period starts on the 28th (29th in a leap year), and
    // January's, begun on the 31st, ends there.
    let p = period_containing(Tz::UTC, b31, utc("2026-02-20T12:00:00Z"));
    assert_eq!(
        (p.first_day(), p.last_day()),
        (day(2026, 1, 31), day(2026, 2, 27))
    );
    let p = period_containing(Tz::UTC, b31, utc("2026-03-05T00:00:00Z"));
    assert_eq!(
        (p.first_day(), p.last_day()),
        (day(2026, 2, 28), day(2026, 3, 30))
    );
    let p = period_containing(Tz::UTC, b31, utc("2028-02-29T12:00:00Z"));
    assert_eq!(
        (p.first_day(), p.last_day()),
        (day(2028, 2, 29), day(2028, 3, 30))
    );
    // April has 30 days: its period starts on the 30th.
    let c = completed_before(Tz::UTC, b31, utc("2026-05-02T00:00:00Z"));
    assert_eq!(
        (c.first_day(), c.last_day()),
        (day(2026, 3, 31), day(2026, 4, 29))
    );
}

#[test]
fn billing_periods_match_the_range_presets() {
    use crate::domain::range::{RangePreset, preset_range};
    for anchor in [1, 15, 28, 31] {
        for now in [
            "2026-02-14T10:00:00Z",
            "2028-02-29T23:30:00Z",
            "2026-10-25T01:30:00Z",
        ] {
            let g = Granularity::BillingPeriod { anchor_day: anchor };
            let p = period_containing(Europe::Berlin, g, utc(now));
            let r = preset_range(
                RangePreset::ThisBillingPeriod,
                Europe::Berlin,
                utc(now),
                anchor,
            );
            assert_eq!((p.start, p.end), (r.start, r.end), "{anchor} {now}");
            let c = completed_before(Europe::Berlin, g, utc(now));
            let r = preset_range(
                RangePreset::LastBillingPeriod,
                Europe::Berlin,
                utc(now),
                anchor,
            );
            assert_eq!((c.start, c.end), (r.start, r.end), "{anchor} {now}");
        }
    }
}

#[test]
fn completed_before_a_boundary_is_the_period_just_ended() {
    let g = Granularity::Day;
    let midnight = utc("2026-03-29T22:00:00Z"); // Mar 30 00:00 CEST
    let p = completed_before(Europe::Berlin, g, midnight);
    assert_eq!(p.first_day(), day(2026, 3, 29));
    let p = completed_before(Europe::Berlin, g, midnight + TimeDelta::hours(6));
    assert_eq!(p.first_day(), day(2026, 3, 29));
    let p = completed_before(Europe::Berlin, g, midnight - TimeDelta::microseconds(1));
    assert_eq!(p.first_day(), day(2026, 3, 28));
}

#[test]
fn extreme_instants_do_not_panic() {
    for tz in [Tz::UTC, Pacific::Kiritimati, Tz::Etc__GMTPlus12] {
        for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            for g in all_granularities() {
                let p = period_containing(tz, g, t);
                assert!(p.start <= p.end);
                let _ = completed_before(tz, g, t);
            }
        }
        let n = buckets(
            tz,
            Granularity::Month,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        )
        .take(5)
        .count();
        assert_eq!(n, 5);
    }
}

fn all_granularities() -> [Granularity; 6] {
    [
        Granularity::Hour,
        Granularity::Day,
        Granularity::Week,
        Granularity::Month,
        Granularity::BillingPeriod { anchor_day: 1 },
        Granularity::BillingPeriod { anchor_day: 28 },
    ]
}

/// Every zone, many pseudo-random instants from 1970 to 2100: the period containing an
/// instant contains it and is non-empty, its neighbours touch it, hours nest in days and
/// days in weeks and months.
#[test]
fn invariants_in_every_zone() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const SPAN: u64 = 4_102_444_800; // 1970..2100 in seconds
    for tz in chrono_tz::TZ_VARIANTS {
        for _ in 0..40 {
            let secs = i64::try_from(next() % SPAN).unwrap();
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let mut outer: Option<Period> = None;
            for g in all_granularities() {
                let p = period_containing(tz, g, t);
                assert!(p.contains(t), "{tz} {g:?} {t}: {p:?}");
                let after = period_containing(tz, g, p.end);
                assert_eq!(after.start, p.end, "{tz} {g:?} {t}");
                let before = completed_before(tz, g, t);
                assert_eq!(before.end, p.start, "{tz} {g:?} {t}");
                assert!(before.start < before.end, "{tz} {g:?} {t}");
                // Hours nest in days, days in weeks and months.
                if let Some(inner) =
                    outer.filter(|_| !matches!(g, Granularity::BillingPeriod { .. }))
                {
                    assert!(
                        p.start <= inner.start && inner.end <= p.end,
                        "{tz} {g:?} {t}"
                    );
                }
                if matches!(g, Granularity::Hour | Granularity::Day) {
                    outer = Some(p);
                }
            }
        }
    }
}

/// Buckets over a month of hours in every zone tile the range.
#[test]
fn hourly_buckets_tile_a_range_in_every_zone() {
    let (from, to) = (utc("2026-03-01T00:07:00Z"), utc("2026-04-10T00:00:00Z"));
    for tz in chrono_tz::TZ_VARIANTS {
        let mut at = from;
        for b in buckets(tz, Granularity::Day, from, to) {
            assert_eq!(b.start, at, "{tz}");
            assert!(b.end > b.start, "{tz}");
            at = b.end;
        }
        assert_eq!(at, to, "{tz}");
    }
    for tz in [
        Australia::Lord_Howe,
        Asia::Kathmandu,
        Europe::Berlin,
        America::Havana,
    ] {
        let mut at = from;
        for b in buckets(tz, Granularity::Hour, from, to) {
            assert_eq!(b.start, at, "{tz}");
            assert!(
                b.end > b.start && b.duration() <= TimeDelta::hours(1),
                "{tz}"
            );
            at = b.end;
        }
        assert_eq!(at, to, "{tz}");
    }
}

/// What rollups at UTC quarter hours rely on: since 1990, every day boundary in every zone
/// falls on a UTC quarter hour (checked on every day of every zone's current decade and each
/// month start since 1990).
#[test]
fn boundaries_fall_on_utc_quarter_hours() {
    for tz in chrono_tz::TZ_VARIANTS {
        let days = buckets(
            tz,
            Granularity::Month,
            utc("1990-01-02T00:00:00Z"),
            utc("2040-01-01T00:00:00Z"),
        )
        .skip(1)
        .chain(
            buckets(
                tz,
                Granularity::Day,
                utc("2020-01-02T00:00:00Z"),
                utc("2030-01-01T00:00:00Z"),
            )
            .skip(1),
        );
        for p in days {
            assert_eq!(p.start.timestamp() % 900, 0, "{tz} {}", p.local_start());
        }
    }
}

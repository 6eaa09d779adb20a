//! Calendar: the organization's local days over the thirteen-month window, their activity
//! weights (weekends, holidays, adoption) and working hours.

use super::facts::{HOURS, ORG_TZ};
use super::random::weighted;
use super::world::Day;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use rand::Rng;
use rand::rngs::StdRng;

/// The local days from just after `now - 13 months` up to today.
pub(super) fn calendar(now: DateTime<Utc>) -> Vec<Day> {
    let floor = window_start(now);
    let first = (floor + Duration::hours(1))
        .with_timezone(&ORG_TZ)
        .date_naive()
        + Duration::days(1);
    let last = now.with_timezone(&ORG_TZ).date_naive();
    let dates: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let n = dates.len();
    dates
        .iter()
        .enumerate()
        .map(|(i, &date)| Day {
            date,
            start: local_midnight(date),
            end: local_midnight(date + Duration::days(1)),
            weight: seasonality(date) * (0.55 + 0.8 * i as f64 / n.max(2) as f64),
        })
        .collect()
}

/// The earliest instant any demo timestamp may have.
pub(super) fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(13))
        .unwrap_or(now - Duration::days(396))
}

fn local_midnight(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN);
    ORG_TZ
        .from_local_datetime(&naive)
        .earliest()
        .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
}

pub(super) fn is_weekday(date: NaiveDate) -> bool {
    date.weekday().num_days_from_monday() < 5
}

/// Weekly rhythm, US holidays and the end-of-year and August lulls.
fn seasonality(date: NaiveDate) -> f64 {
    let week = match date.weekday() {
        Weekday::Mon => 1.0,
        Weekday::Tue => 1.08,
        Weekday::Wed => 1.1,
        Weekday::Thu => 1.05,
        Weekday::Fri => 0.86,
        Weekday::Sat => 0.2,
        Weekday::Sun => 0.16,
    };
    let (m, d) = (date.month(), date.day());
    let thanksgiving = m == 11 && date.weekday() == Weekday::Thu && (22..=28).contains(&d);
    let holiday = thanksgiving || matches!((m, d), (1, 1) | (7, 4) | (12, 24..=26) | (12, 31));
    let season = if holiday {
        0.25
    } else if (m == 12 && d >= 18) || (m == 1 && d <= 3) {
        0.6
    } else if m == 8 {
        0.85
    } else {
        1.0
    };
    week * season
}

/// A moment of `day`, mostly in office hours.
pub(super) fn business_time(rng: &mut StdRng, day: &Day) -> DateTime<Utc> {
    let hour = weighted(rng, &HOURS) as i64;
    day.start + Duration::microseconds(hour * 3_600_000_000 + rng.random_range(0..3_600_000_000))
}

//! Single values as bytes, shared by the CSV and NDJSON encoders: the one timestamp form,
//! integers and floats, plus the per-column kind that decides which [`Value`] variants a column
//! accepts.
//!
//! These run for every cell of every row (millions per second), so they write straight into the
//! caller's `Vec<u8>`: digits are placed by hand from a two-digit table instead of going through
//! `chrono::format` or `fmt::Display`, which parse format items or go through dynamic dispatch
//! on every call.

use super::EncodeError;
use crate::domain::FieldType;
use crate::store::Value;
use chrono::{DateTime, Offset, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use std::io::Write as _;

/// What a column holds, with enums folded into text (they arrive as their internal value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Number,
    Integer,
    Bool,
    Timestamp,
    Json,
}

impl Kind {
    pub(super) fn of(ty: FieldType) -> Kind {
        match ty {
            FieldType::Text | FieldType::Enum(_) => Kind::Text,
            FieldType::Number => Kind::Number,
            FieldType::Integer => Kind::Integer,
            FieldType::Boolean => Kind::Bool,
            FieldType::Timestamp => Kind::Timestamp,
            FieldType::Json => Kind::Json,
        }
    }

    /// Whether a column of this kind accepts `value`. Any NULL fits any column; an integer
    /// fits a number column (a whole number of credits is still a number).
    pub(super) fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (_, Value::Null | Value::NullTimestamp)
                | (Kind::Text, Value::Text(_))
                | (Kind::Number, Value::Number(_) | Value::Integer(_))
                | (Kind::Integer, Value::Integer(_))
                | (Kind::Bool, Value::Bool(_))
                | (Kind::Timestamp, Value::Timestamp(_))
                | (Kind::Json, Value::Json(_))
        )
    }
}

/// The error for a value of the wrong variant in column `id` of type `ty`.
pub(super) fn mismatch(id: &str, ty: FieldType, value: &Value) -> EncodeError {
    EncodeError::TypeMismatch {
        column: id.to_string(),
        expected: ty.name(),
        found: variant_name(value),
    }
}

fn variant_name(value: &Value) -> &'static str {
    match value {
        Value::Null | Value::NullTimestamp => "null",
        Value::Text(_) => "text",
        Value::Number(_) => "a number",
        Value::Integer(_) => "an integer",
        Value::Bool(_) => "a boolean",
        Value::Timestamp(_) => "a timestamp",
        Value::Json(_) => "JSON",
    }
}

/// "00" … "99", so two digits cost one copy.
const DIGITS2: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

#[inline]
fn put2(buf: &mut [u8], at: usize, v: u32) {
    let i = (v as usize % 100) * 2;
    buf[at] = DIGITS2[i];
    buf[at + 1] = DIGITS2[i + 1];
}

/// Appends `t` in Outflow's one timestamp form: `2026-03-29T01:00:00.000000Z` when `tz` is
/// `None`, or the local time with its offset, `2026-03-29T03:00:00.000000+02:00`, when it is
/// set (an offset of zero is then written `+00:00`, so a file in a zone always shows offsets).
///
/// Offsets are written to the minute, as ISO 8601 allows; a zone's historical local mean time
/// with seconds (before ~1900) is shifted to the truncated minute offset, so the instant written
/// stays exact. A leap second (chrono's nanoseconds ≥ 1e9) is written as `…:59.999999`.
pub fn push_timestamp(out: &mut Vec<u8>, t: &DateTime<Utc>, tz: Option<Tz>) {
    let offset_min = match tz {
        Some(tz) => {
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
                / 60
        }
        None => 0,
    };
    let local = t.timestamp() + i64::from(offset_min) * 60;
    let days = local.div_euclid(86_400);
    // `local` fits chrono's range of ±262,000 years, so the second of the day and the
    // microseconds below fit u32.
    let secs = local.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        // RFC 3339 has four-digit years only; chrono writes the extended form. Never seen in
        // usage data, so the slow path does not matter.
        push_timestamp_slow(out, t, tz);
        return;
    }
    let micros = t.timestamp_subsec_micros().min(999_999);

    let mut b = *b"0000-00-00T00:00:00.000000+00:00";
    let year = year as u32;
    put2(&mut b, 0, year / 100);
    put2(&mut b, 2, year % 100);
    put2(&mut b, 5, month);
    put2(&mut b, 8, day);
    put2(&mut b, 11, secs / 3600);
    put2(&mut b, 14, secs / 60 % 60);
    put2(&mut b, 17, secs % 60);
    put2(&mut b, 20, micros / 10_000);
    put2(&mut b, 22, micros / 100 % 100);
    put2(&mut b, 24, micros % 100);
    if tz.is_none() {
        b[26] = b'Z';
        out.extend_from_slice(&b[..27]);
    } else {
        if offset_min < 0 {
            b[26] = b'-';
        }
        let abs = offset_min.unsigned_abs();
        put2(&mut b, 27, abs / 60);
        put2(&mut b, 30, abs % 60);
        out.extend_from_slice(&b);
    }
}

fn push_timestamp_slow(out: &mut Vec<u8>, t: &DateTime<Utc>, tz: Option<Tz>) {
    let text = match tz {
        None => t.to_rfc3339_opts(SecondsFormat::Micros, true),
        Some(tz) => t
            .with_timezone(&tz)
            .format("%Y-%m-%dT%H:%M:%S%.6f%:z")
            .to_string(),
    };
    out.extend_from_slice(text.as_bytes());
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01), after Howard
/// Hinnant's `civil_from_days`: integer arithmetic only, no tables, no branches on months.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Appends the decimal form of `v` (what `itoa` does, two digits per step).
pub(super) fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut n = v.unsigned_abs();
    while n >= 100 {
        at -= 2;
        let i = (n % 100) as usize * 2;
        buf[at] = DIGITS2[i];
        buf[at + 1] = DIGITS2[i + 1];
        n /= 100;
    }
    if n >= 10 {
        at -= 2;
        let i = n as usize * 2;
        buf[at] = DIGITS2[i];
        buf[at + 1] = DIGITS2[i + 1];
    } else {
        at -= 1;
        buf[at] = b'0' + n as u8;
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[at..]);
}

/// Appends a finite `v` the way Rust's `Display` writes it: the shortest digits that read back
/// as the same float, positional and never in exponent form (`1e21` is written in full,
/// `1e-7` as `0.0000001`), so spreadsheets and CSV readers see a plain decimal. Integral values
/// (the common case: whole credits) skip the float formatter and are written as integers,
/// which is exactly what `Display` prints for them. The caller handles non-finite values.
pub(super) fn push_f64(out: &mut Vec<u8>, v: f64) {
    // 2^53: below it every integral float converts to i64 exactly. -0.0 keeps its sign
    // through `Display` ("-0").
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 && !(v == 0.0 && v.is_sign_negative())
    {
        push_i64(out, v as i64);
    } else {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(t: &DateTime<Utc>, tz: Option<Tz>) -> String {
        let mut out = Vec::new();
        push_timestamp(&mut out, t, tz);
        String::from_utf8(out).unwrap()
    }

    /// A small deterministic generator, so the comparisons below cover many instants without
    /// a random-number dependency.
    fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *state >> 11
    }

    #[test]
    fn timestamps_match_chrono_in_utc_and_in_zones() {
        let zones: [Tz; 5] = [
            chrono_tz::Europe::Berlin,
            chrono_tz::America::St_Johns,
            chrono_tz::Asia::Kathmandu,
            chrono_tz::Pacific::Chatham,
            chrono_tz::UTC,
        ];
        let mut state = 7;
        // Years 1940 ..= 2200: every zone above has whole-minute offsets there (St John's
        // kept a local mean time with seconds until 1935).
        let (lo, hi) = (-946_771_200_i64, 7_258_118_400_i64);
        for _ in 0..20_000 {
            let secs = lo + (lcg(&mut state) % (hi - lo) as u64) as i64;
            let nanos = (lcg(&mut state) % 1_000_000) as u32 * 1_000;
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            assert_eq!(ts(&t, None), t.to_rfc3339_opts(SecondsFormat::Micros, true));
            let tz = zones[(lcg(&mut state) % zones.len() as u64) as usize];
            let want = t
                .with_timezone(&tz)
                .format("%Y-%m-%dT%H:%M:%S%.6f%:z")
                .to_string();
            assert_eq!(ts(&t, Some(tz)), want);
        }
    }

    #[test]
    fn timestamps_at_the_edges_of_four_digit_years() {
        let first = DateTime::parse_from_rfc3339("0000-01-01T00:00:00Z").unwrap();
        assert_eq!(ts(&first.to_utc(), None), "0000-01-01T00:00:00.000000Z");
        let last = DateTime::parse_from_rfc3339("9999-12-31T23:59:59.999999Z").unwrap();
        assert_eq!(ts(&last.to_utc(), None), "9999-12-31T23:59:59.999999Z");
        let before = DateTime::from_timestamp(-1, 0).unwrap();
        assert_eq!(ts(&before, None), "1969-12-31T23:59:59.000000Z");
        // Outside four digits: chrono's extended form rather than a wrong date.
        let far = DateTime::from_timestamp(400_000_000_000, 0).unwrap();
        assert_eq!(
            ts(&far, None),
            far.to_rfc3339_opts(SecondsFormat::Micros, true)
        );
    }

    #[test]
    fn local_mean_time_offsets_keep_the_instant() {
        // Berlin used +00:53:28 before 1893; the minute offset shifts the clock time with it.
        let t = DateTime::parse_from_rfc3339("1880-06-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let s = ts(&t, Some(chrono_tz::Europe::Berlin));
        assert_eq!(s, "1880-06-01T12:53:00.000000+00:53");
        assert_eq!(DateTime::parse_from_rfc3339(&s).unwrap(), t);
    }

    #[test]
    fn integers_match_display() {
        let mut state = 3;
        let mut values = vec![0, 1, -1, 9, 10, 99, 100, -100, i64::MAX, i64::MIN];
        values.extend((0..2_000).map(|_| lcg(&mut state) as i64 >> (lcg(&mut state) % 60)));
        values.extend((0..2_000).map(|_| -(lcg(&mut state) as i64)));
        for v in values {
            let mut out = Vec::new();
            push_i64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }

    #[test]
    fn floats_match_display_and_never_use_exponents() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -2.0,
            0.1,
            -0.25,
            1.5e-7,
            1e21,
            123_456.789,
            9.007e15,
            2e53,
            -3e300,
        ] {
            let mut out = Vec::new();
            push_f64(&mut out, v);
            let s = String::from_utf8(out).unwrap();
            assert_eq!(s, v.to_string());
            assert!(!s.contains('e'), "{s}");
            assert_eq!(s.parse::<f64>().unwrap(), v);
        }
    }
}

//! Single cells as bytes, shared by the encoders (Parquet uses the compact JSON only): the one
//! timestamp form, integers, floats and compact JSON, plus the per-column kind that decides which [`CellRef`]
//! variants a column accepts.
//!
//! These run for every cell of every row (millions per second), so they write straight into the
//! caller's `Vec<u8>`: digits are placed by hand from a two-digit table instead of going through
//! `chrono::format` or `fmt::Display`, which parse format items or go through dynamic dispatch
//! on every call. Timestamps arrive as the block's microseconds, so UTC needs no chrono at all;
//! a zone needs chrono only for its offset.

use super::EncodeError;
use crate::domain::FieldType;
use crate::store::CellRef;
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

    /// Whether a column of this kind accepts `cell`. NULL fits any column; an integer fits a
    /// number column (a whole number of credits is still a number).
    pub(super) fn accepts(self, cell: CellRef<'_>) -> bool {
        matches!(
            (self, cell),
            (_, CellRef::Null)
                | (Kind::Text, CellRef::Text(_))
                | (Kind::Number, CellRef::Number(_) | CellRef::Integer(_))
                | (Kind::Integer, CellRef::Integer(_))
                | (Kind::Bool, CellRef::Bool(_))
                | (Kind::Timestamp, CellRef::Timestamp(_))
                | (Kind::Json, CellRef::Json(_))
        )
    }
}

/// The error for a cell of the wrong variant in column `id` of type `ty`.
pub(super) fn mismatch(id: &str, ty: FieldType, cell: CellRef<'_>) -> EncodeError {
    EncodeError::TypeMismatch {
        column: id.to_string(),
        expected: ty.name(),
        found: variant_name(cell),
    }
}

fn variant_name(cell: CellRef<'_>) -> &'static str {
    match cell {
        CellRef::Null => "null",
        CellRef::Text(_) => "text",
        CellRef::Number(_) => "a number",
        CellRef::Integer(_) => "an integer",
        CellRef::Bool(_) => "a boolean",
        CellRef::Timestamp(_) => "a timestamp",
        CellRef::Json(_) => "JSON",
    }
}

/// Appends the compact form of a JSON cell: exactly what `serde_json` writes for the document
/// the text holds, as if the text had been parsed into a `serde_json::Value` and written.
///
/// The text may be formatted any way (PostgreSQL writes `{"k": [1]}`), so it cannot be copied.
/// Nor is it parsed into a `serde_json::Value`: without its `float_roundtrip` feature,
/// `serde_json` reads about one float in ten with full precision off by one unit in the last
/// place, so the bytes would differ from those of the original value. Instead the text is
/// validated by `serde_json`, then copied token by token: whitespace dropped, strings without
/// escapes and in-range integers as they are, other strings decoded and re-escaped by
/// `serde_json`, floats read with the standard library's correctly rounded parser and written
/// by `serde_json`. One difference from a `serde_json::Value` remains: a key repeated within an
/// object is written each time rather than once (PostgreSQL's jsonb never holds one).
///
/// On error, `out` may hold part of the text; callers drop the row.
pub(crate) fn push_json_compact(out: &mut Vec<u8>, text: &str) -> Result<(), EncodeError> {
    // Validation first, so the copying below can rely on the syntax.
    serde_json::from_str::<serde::de::IgnoredAny>(text)?;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let end = string_end(b, i);
                let s = &text[i..end];
                if s.contains('\\') {
                    let decoded: String = serde_json::from_str(s)?;
                    serde_json::to_writer(&mut *out, &decoded)?;
                } else {
                    // Without escapes, valid JSON text has no byte `serde_json` would escape.
                    out.extend_from_slice(s.as_bytes());
                }
                i = end;
            }
            b'-' | b'0'..=b'9' => {
                let len = b[i..]
                    .iter()
                    .position(|c| !matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .unwrap_or(b.len() - i);
                push_json_number(out, &text[i..i + len])?;
                i += len;
            }
            // Brackets, `:`, `,` and the letters of `true`, `false` and `null`.
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(())
}

/// The index after the closing quote of the string starting at `start`.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// A number token as `serde_json` writes the number it reads: integers that fit `u64` (or,
/// negative, `i64`) unchanged, everything else as a float (`-0` included).
fn push_json_number(out: &mut Vec<u8>, token: &str) -> Result<(), EncodeError> {
    if !token.contains(['.', 'e', 'E']) {
        let (negative, digits) = match token.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, token),
        };
        if let Ok(m) = digits.parse::<u64>() {
            // JSON has no leading zeros, so the token is already the integer's decimal form.
            if !negative || (1..=1 << 63).contains(&m) {
                out.extend_from_slice(token.as_bytes());
                return Ok(());
            }
            return push_json_f64(out, -(m as f64));
        }
    }
    // The JSON number grammar is a subset of what `f64::from_str` accepts.
    let v: f64 = token
        .parse()
        .map_err(|_| <serde_json::Error as serde::de::Error>::custom("invalid number"))?;
    push_json_f64(out, v)
}

fn push_json_f64(out: &mut Vec<u8>, v: f64) -> Result<(), EncodeError> {
    if !v.is_finite() {
        // As `serde_json` refuses it.
        return Err(<serde_json::Error as serde::de::Error>::custom("number out of range").into());
    }
    serde_json::to_writer(&mut *out, &v)?;
    Ok(())
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
/// Nanoseconds below the microsecond are dropped. See [`push_timestamp_micros`].
pub fn push_timestamp(out: &mut Vec<u8>, t: &DateTime<Utc>, tz: Option<Tz>) {
    push_timestamp_micros(out, micros_of(t), tz);
}

/// `t` as microseconds since the Unix epoch, a leap second held at `…:59.999999` rather than
/// rolled into the next second as `DateTime::timestamp_micros` does.
pub(super) fn micros_of(t: &DateTime<Utc>) -> i64 {
    // chrono's range (±262,000 years) in microseconds fits i64 with room to spare.
    t.timestamp() * 1_000_000 + i64::from(t.timestamp_subsec_micros().min(999_999))
}

/// Appends the instant `micros` (microseconds since the Unix epoch, UTC) in the form of
/// [`push_timestamp`], byte for byte.
///
/// Years outside 0 ..= 9999 (which RFC 3339 cannot write) take chrono's extended form, `+10000-…`
/// or `-0001-…`. Instants beyond chrono's range (about ±262,000 years; the store's readers never
/// produce them) are still written, in that extended form, with the offset the zone has at the
/// end of chrono's range: writing them beats failing an export over one absurd value, and the
/// instant written stays exact.
pub fn push_timestamp_micros(out: &mut Vec<u8>, micros: i64, tz: Option<Tz>) {
    TimestampWriter::new(tz).push(out, micros);
}

/// Writes instants as [`push_timestamp_micros`] does, byte for byte, remembering the date
/// digits of the last local day it wrote: an export's rows come in time order, so nearly every
/// timestamp falls on the day of the one before, and the calendar computation is the costliest
/// part of writing one (the encoders write three a row for workflow runs).
#[derive(Debug, Clone)]
pub struct TimestampWriter {
    tz: Option<Tz>,
    /// Local day number (days since 1970-01-01) whose `YYYY-MM-DD` is in `date`.
    day: i64,
    date: [u8; 10],
}

impl TimestampWriter {
    /// A writer in `tz` (`None`: UTC written with `Z`).
    pub fn new(tz: Option<Tz>) -> TimestampWriter {
        TimestampWriter {
            tz,
            day: i64::MIN,
            date: *b"0000-00-00",
        }
    }

    /// Appends the instant `micros` (microseconds since the Unix epoch, UTC).
    pub fn push(&mut self, out: &mut Vec<u8>, micros: i64) {
        let tz = self.tz;
        let secs = micros.div_euclid(1_000_000);
        let sub = micros.rem_euclid(1_000_000) as u32;
        let offset_min = match tz {
            Some(tz) => match DateTime::from_timestamp(secs, 0) {
                Some(t) => offset_minutes(tz, &t),
                None => return push_timestamp_beyond_chrono(out, micros, Some(tz)),
            },
            None => 0,
        };
        let local = secs + i64::from(offset_min) * 60;
        let days = local.div_euclid(86_400);
        let day_secs = local.rem_euclid(86_400) as u32;
        if days != self.day {
            let (year, month, day) = civil_from_days(days);
            if !(0..=9999).contains(&year) {
                // Never seen in usage data, so the slow path does not matter.
                push_timestamp_slow(out, micros, tz);
                return;
            }
            let year = year as u32;
            put2(&mut self.date, 0, year / 100);
            put2(&mut self.date, 2, year % 100);
            put2(&mut self.date, 5, month);
            put2(&mut self.date, 8, day);
            self.day = days;
        }

        let mut b = *b"0000-00-00T00:00:00.000000+00:00";
        b[..10].copy_from_slice(&self.date);
        put2(&mut b, 11, day_secs / 3600);
        put2(&mut b, 14, day_secs / 60 % 60);
        put2(&mut b, 17, day_secs % 60);
        put2(&mut b, 20, sub / 10_000);
        put2(&mut b, 22, sub / 100 % 100);
        put2(&mut b, 24, sub % 100);
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
}

/// The zone's offset at `t` in whole minutes, truncated toward zero.
fn offset_minutes(tz: Tz, t: &DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
        / 60
}

/// Years outside 0 ..= 9999: chrono's own formatting, which is what the form was defined by.
fn push_timestamp_slow(out: &mut Vec<u8>, micros: i64, tz: Option<Tz>) {
    let Some(t) = DateTime::from_timestamp_micros(micros) else {
        return push_timestamp_beyond_chrono(out, micros, tz);
    };
    let text = match tz {
        None => t.to_rfc3339_opts(SecondsFormat::Micros, true),
        Some(tz) => t
            .with_timezone(&tz)
            .format("%Y-%m-%dT%H:%M:%S%.6f%:z")
            .to_string(),
    };
    out.extend_from_slice(text.as_bytes());
}

/// Instants chrono cannot hold, in chrono's extended-year form.
fn push_timestamp_beyond_chrono(out: &mut Vec<u8>, micros: i64, tz: Option<Tz>) {
    let offset_min = tz.map_or(0, |tz| {
        let edge = if micros < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        };
        offset_minutes(tz, &edge)
    });
    // |micros| / 1e6 is below 1e13 seconds, far from overflowing with an offset added.
    let local = micros.div_euclid(1_000_000) + i64::from(offset_min) * 60;
    let sub = micros.rem_euclid(1_000_000);
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{year:+05}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{sub:06}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    match tz {
        None => out.push(b'Z'),
        Some(_) => {
            let sign = if offset_min < 0 { '-' } else { '+' };
            let abs = offset_min.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 60, abs % 60);
        }
    }
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

/// Appends a finite `v` as the shortest digits that read back as the same float, positional
/// and never in exponent form (`1e21` is written in full, `1e-7` as `0.0000001`), so
/// spreadsheets and CSV readers see a plain decimal: Rust's `Display` form. Integral values
/// (the common case: whole credits) skip the float formatter and are written as integers,
/// which is exactly what `Display` prints for them, and so do values with at most two
/// decimals (fractional credits, prices). Other values go through Ryu, as JSON
/// numbers do: where two shortest forms are equally close to the float (an exact tie in the
/// last digit), Ryu may pick the other one than `Display`; both read back as the same float.
/// The caller handles non-finite values.
pub(super) fn push_f64(out: &mut Vec<u8>, v: f64) {
    // 2^53: below it every integral float converts to i64 exactly. -0.0 keeps its sign
    // through `Display` ("-0").
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 && !(v == 0.0 && v.is_sign_negative())
    {
        push_i64(out, v as i64);
        return;
    }
    // Hundredths (credits, prices): when `v` is the float nearest to t/100 for an integer
    // t, the digits of t are its shortest form. Below 2^45 a float's spacing is under 0.01,
    // so no decimal with fewer digits, nor another one with as many, reads back as `v`.
    if v.abs() < 35_000_000_000_000.0 && v != 0.0 {
        let t = (v * 100.0).round();
        if t / 100.0 == v {
            push_hundredths(out, t as i64);
            return;
        }
    }
    // Ryu is several times faster than `Display`, but writes large and tiny magnitudes with
    // an exponent and integral ones with ".0": those (rare here) go through `Display`.
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v);
    if !s.contains('e') && !s.ends_with(".0") {
        out.extend_from_slice(s.as_bytes());
    } else {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{v}");
    }
}

/// Appends `t / 100` in decimal, without trailing fractional zeros (`t` is not a multiple
/// of 100: integral values took the integer path).
fn push_hundredths(out: &mut Vec<u8>, t: i64) {
    if t < 0 {
        out.push(b'-');
    }
    let abs = t.unsigned_abs();
    push_i64(out, (abs / 100) as i64);
    let frac = (abs % 100) as u32;
    out.push(b'.');
    if frac.is_multiple_of(10) {
        out.push(b'0' + (frac / 10) as u8);
    } else {
        let mut two = [0u8; 2];
        put2(&mut two, 0, frac);
        out.extend_from_slice(&two);
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
    fn a_writer_reusing_its_last_date_writes_what_a_fresh_one_does() {
        // Mostly small steps forward (the export order, across midnights and Berlin's DST
        // changes), some jumps back and far away, and now and then a year outside four
        // digits: after each, the cached date must not leak into the next timestamp.
        let zones = [
            None,
            Some(chrono_tz::Europe::Berlin),
            Some(chrono_tz::Asia::Kathmandu),
        ];
        let mut state = 11;
        for tz in zones {
            let mut writer = TimestampWriter::new(tz);
            let mut us: i64 = 1_774_738_800_000_000; // 2026-03-28T23:00:00Z
            for i in 0..50_000 {
                us = match lcg(&mut state) % 100 {
                    0 => -62_200_000_000_000_000, // year 0 minus a bit: slow path
                    1 => us - (lcg(&mut state) % 86_400_000_000) as i64,
                    2 => (lcg(&mut state) % 4_000_000_000_000_000) as i64,
                    _ if us < 0 => 1_774_738_800_000_000,
                    _ => us + (lcg(&mut state) % 7_200_000_000) as i64,
                };
                let mut out = Vec::new();
                writer.push(&mut out, us);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    ts_us(us, tz),
                    "step {i}, {us} µs in {tz:?}"
                );
            }
        }
    }

    fn ts_us(micros: i64, tz: Option<Tz>) -> String {
        let mut out = Vec::new();
        push_timestamp_micros(&mut out, micros, tz);
        String::from_utf8(out).unwrap()
    }

    /// `push_timestamp` as it was before timestamps arrived as microseconds, kept verbatim as
    /// the reference the microsecond path must match byte for byte.
    fn legacy(t: &DateTime<Utc>, tz: Option<Tz>) -> String {
        let offset_min = tz.map_or(0, |tz| {
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
                / 60
        });
        let local = t.timestamp() + i64::from(offset_min) * 60;
        let secs = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        if !(0..=9999).contains(&year) {
            return match tz {
                None => t.to_rfc3339_opts(SecondsFormat::Micros, true),
                Some(tz) => t
                    .with_timezone(&tz)
                    .format("%Y-%m-%dT%H:%M:%S%.6f%:z")
                    .to_string(),
            };
        }
        let micros = t.timestamp_subsec_micros().min(999_999);
        let mut s = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        match tz {
            None => s.push('Z'),
            Some(_) => {
                let sign = if offset_min < 0 { '-' } else { '+' };
                let abs = offset_min.unsigned_abs();
                s += &format!("{sign}{:02}:{:02}", abs / 60, abs % 60);
            }
        }
        s
    }

    const ZONES: [Tz; 6] = [
        chrono_tz::Europe::Berlin,
        chrono_tz::America::St_Johns,
        chrono_tz::Asia::Kathmandu,
        chrono_tz::Pacific::Chatham,
        chrono_tz::America::Sao_Paulo,
        chrono_tz::UTC,
    ];

    #[test]
    fn micros_match_the_datetime_form_across_chrono_range_and_zones() {
        let mut state = 11;
        let min = DateTime::<Utc>::MIN_UTC.timestamp_micros();
        let max = DateTime::<Utc>::MAX_UTC.timestamp_micros();
        let span = (max as i128 - min as i128) as u128;
        for i in 0..30_000 {
            // Alternate the whole range (extended years, slow path) with 1800 ..= 2300, where
            // local mean time, DST and negative instants are.
            let micros = if i % 2 == 0 {
                let r = (u128::from(lcg(&mut state)) << 64 | u128::from(lcg(&mut state))) % span;
                (min as i128 + r as i128) as i64
            } else {
                -5_364_662_400_000_000 + (lcg(&mut state) % 15_778_800_000_000_000) as i64
            };
            let nanos = (lcg(&mut state) % 1_000) as u32;
            let t = DateTime::from_timestamp_micros(micros).unwrap()
                + chrono::Duration::nanoseconds(i64::from(nanos));
            let tz = ZONES[(lcg(&mut state) % ZONES.len() as u64) as usize];
            for tz in [None, Some(tz)] {
                let want = legacy(&t, tz);
                assert_eq!(ts_us(micros, tz), want, "{micros} in {tz:?}");
                assert_eq!(ts(&t, tz), want, "{t:?} in {tz:?}");
            }
        }
    }

    #[test]
    fn micros_before_1970_and_at_year_edges() {
        assert_eq!(ts_us(-1, None), "1969-12-31T23:59:59.999999Z");
        assert_eq!(ts_us(-1_000_000, None), "1969-12-31T23:59:59.000000Z");
        assert_eq!(ts_us(-1_500_001, None), "1969-12-31T23:59:58.499999Z");
        assert_eq!(
            ts_us(-1, Some(chrono_tz::America::New_York)),
            "1969-12-31T18:59:59.999999-05:00"
        );
        let first = DateTime::parse_from_rfc3339("0000-01-01T00:00:00Z").unwrap();
        assert_eq!(
            ts_us(first.timestamp_micros(), None),
            "0000-01-01T00:00:00.000000Z"
        );
        let before = first.timestamp_micros() - 1;
        assert_eq!(ts_us(before, None), "-0001-12-31T23:59:59.999999Z");
        let last = DateTime::parse_from_rfc3339("9999-12-31T23:59:59.999999Z").unwrap();
        assert_eq!(
            ts_us(last.timestamp_micros(), None),
            "9999-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            ts_us(last.timestamp_micros() + 1, None),
            "+10000-01-01T00:00:00.000000Z"
        );
        // A zone can push a UTC year of 9999 into 10000 locally.
        assert_eq!(
            ts_us(last.timestamp_micros(), Some(chrono_tz::Europe::Berlin)),
            "+10000-01-01T00:59:59.999999+01:00"
        );
    }

    #[test]
    fn a_leap_second_stays_in_its_minute() {
        let leap = DateTime::from_timestamp(1_483_228_799, 1_500_000_000).unwrap();
        assert_eq!(ts(&leap, None), "2016-12-31T23:59:59.999999Z");
        assert_eq!(micros_of(&leap), 1_483_228_799_999_999);
    }

    #[test]
    fn micros_beyond_chrono_are_written_in_the_extended_form() {
        assert_eq!(ts_us(i64::MAX, None), "+294247-01-10T04:00:54.775807Z");
        assert_eq!(ts_us(i64::MIN, None), "-290308-12-21T19:59:05.224192Z");
        assert_eq!(
            ts_us(i64::MAX, Some(chrono_tz::Europe::Berlin)),
            "+294247-01-10T05:00:54.775807+01:00"
        );
        // Local mean time +00:53:28, truncated to the minute like the fast path does.
        assert_eq!(
            ts_us(i64::MIN, Some(chrono_tz::Europe::Berlin)),
            "-290308-12-21T20:52:05.224192+00:53"
        );
        assert_eq!(
            ts_us(i64::MIN, Some(chrono_tz::UTC)),
            "-290308-12-21T19:59:05.224192+00:00"
        );
    }

    fn compact(text: &str) -> Result<String, EncodeError> {
        let mut out = Vec::new();
        push_json_compact(&mut out, text)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn json_cells_are_written_as_serde_json_writes_them() {
        let docs = [
            " {\"k\": [1, 2.5, \"a b\"],\n \"n\": null, \"t\": true, \"f\" :false} ",
            r#"{"z": 1, "a": {"y": [], "x": {}}}"#,
            r#"["\u00e9\/\"\\\n\t\u0001\ud83d\ude80", "é 🚀", "\u001f"]"#,
            "[0, -0, 1e2, 1E+2, -1.50, 0.5e-3, 1e-400, 1.0]",
            "[18446744073709551615, 18446744073709551616, -9223372036854775808]",
            "[-9223372036854775809, -18446744073709551615, 123456789012345678901234567890]",
            "\"just a string\"",
            " 42 ",
        ];
        for doc in docs {
            let value: serde_json::Value = serde_json::from_str(doc).unwrap();
            assert_eq!(compact(doc).unwrap(), value.to_string(), "{doc}");
        }
    }

    #[test]
    fn json_floats_keep_every_bit() {
        let mut state = 5;
        for i in 0..20_000 {
            let v = if i % 2 == 0 {
                f64::from_bits(lcg(&mut state) << 11 >> 2 | 0x3000_0000_0000_0000)
            } else {
                lcg(&mut state) as f64 / (1_u64 << 53) as f64 * 1_000.0
            };
            let text = serde_json::json!({"v": [v, -v]}).to_string();
            assert_eq!(compact(&text).unwrap(), text);
            // Spacing changes nothing.
            let spaced = text.replace(',', " , ").replace(':', ": ");
            assert_eq!(compact(&spaced).unwrap(), text);
        }
    }

    #[test]
    fn invalid_json_cells_are_errors() {
        for bad in ["{\"k\": ", "[1] x", "'a'", "[1e400]", r#""\ud800""#, "[01]"] {
            assert!(matches!(compact(bad), Err(EncodeError::Json(_))), "{bad}");
        }
        let raw_control = "\"a\u{1}b\"";
        assert!(matches!(compact(raw_control), Err(EncodeError::Json(_))));
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
    fn hundredths_are_written_exactly_as_display_writes_them() {
        let check = |v: f64| {
            let mut out = Vec::new();
            push_f64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string(), "{v:?}");
        };
        // Every cent up to ±2,000.00, then hundredths spread up to the path's bound and a
        // little past it, and values just off a hundredth (which must not take the path).
        for t in -200_000_i64..=200_000 {
            check(t as f64 / 100.0);
        }
        let mut state = 5;
        for _ in 0..200_000 {
            let t = (lcg(&mut state) % 8_000_000_000_000_000) as i64 - 4_000_000_000_000_000;
            let v = t as f64 / 100.0;
            check(v);
            // The next float is no hundredth: it must read back as itself, not as `v`.
            let next = f64::from_bits(v.to_bits() + 1);
            let mut out = Vec::new();
            push_f64(&mut out, next);
            let s = String::from_utf8(out).unwrap();
            assert_eq!(s.parse::<f64>().unwrap(), next, "{s}");
        }
        check(0.005);
        check(-0.0);
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
        // Random bit patterns across the whole range, and values with few decimals (credits),
        // against `Display`, which defines the form.
        let mut state = 7;
        for i in 0..200_000 {
            let v = if i % 2 == 0 {
                f64::from_bits(lcg(&mut state) << 11 | lcg(&mut state) & 0x7ff)
            } else {
                (lcg(&mut state) % 10_000_000) as f64 / 10f64.powi(i % 7)
            };
            if !v.is_finite() {
                continue;
            }
            let mut out = Vec::new();
            push_f64(&mut out, v);
            let (ours, display) = (String::from_utf8(out).unwrap(), v.to_string());
            assert_eq!(ours.parse::<f64>().unwrap(), v, "{ours} reads back");
            assert!(!ours.contains('e'), "{ours}");
            // As short as `Display`, and the same but for a tie in the last digit.
            assert_eq!(ours.len(), display.len(), "{ours} vs {display}");
            assert_eq!(ours[..ours.len() - 1], display[..display.len() - 1]);
        }
    }
}

//! Timestamps: one accepted input form (RFC 3339 with an offset) and one output form.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses an RFC 3339 / ISO 8601 instant with an explicit offset (`Z` or `±hh:mm`).
///
/// A space instead of `T` is accepted because the reference product's drains emit that form.
/// A value without an offset is refused: guessing its zone would silently shift data.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "`{s}` is not an RFC 3339 timestamp with an offset (e.g. 2026-01-31T09:30:00Z): {e}"
            )
        })
}

/// Formats an instant the one way Outflow writes timestamps: RFC 3339, microseconds, `Z`.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Microseconds since the Unix epoch: how SQLite stores instants (sortable, compact, exact).
pub fn to_micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`to_micros`].
pub fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// Whether `tz` names an IANA time zone.
pub fn is_known_timezone(tz: &str) -> bool {
    tz.parse::<chrono_tz::Tz>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_t_and_space_separators_and_offsets() {
        let a = parse_timestamp("2026-08-19T17:18:04.512+00:00").unwrap();
        let b = parse_timestamp("2026-08-19 17:18:04.512000+00:00").unwrap();
        let c = parse_timestamp("2026-08-19T19:18:04.512+02:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(format_timestamp(&a), "2026-08-19T17:18:04.512000Z");
    }

    #[test]
    fn refuses_values_without_offset() {
        assert!(parse_timestamp("2026-08-19T17:18:04").is_err());
        assert!(
            parse_timestamp("yesterday")
                .unwrap_err()
                .contains("yesterday")
        );
    }

    #[test]
    fn micros_round_trip() {
        let t = parse_timestamp("2026-03-29T01:59:59.123456Z").unwrap();
        assert_eq!(from_micros(to_micros(&t)), t);
    }

    #[test]
    fn knows_iana_zones() {
        assert!(is_known_timezone("Europe/Berlin"));
        assert!(!is_known_timezone("Mars/Olympus"));
    }
}

//! Values both backends store alike: the rules every input path applies before anything
//! reaches the database, so SQLite and PostgreSQL accept and refuse exactly the same data.
//!
//! - **Text** must not contain U+0000 (NUL). PostgreSQL cannot store it in `text` or `jsonb`
//!   (SQLite can, and would then write a raw NUL into CSV files), so it is refused everywhere,
//!   JSON values included (keys and nested strings). Lone UTF-16 surrogates (`"\ud800"`) never
//!   get this far: the JSON parser refuses them.
//! - **Numbers** must be finite and inside a bound per field ([`Bound`]; the field catalog
//!   says which bound each numeric field has), so sums in reports stay finite.
//! - **Timestamps** must lie in [`TIME_WINDOW`]: from 2000-01-01T00:00:00Z up to, not
//!   including, 2100-01-01T00:00:00Z. Outside it a value is a mistake (a zero date, a
//!   seconds-vs-milliseconds mix-up) that destinations such as OTLP cannot represent.
//!
//! Every error names the field (a path such as `details.items[2].name` inside JSON) and the
//! allowed values.

use chrono::{DateTime, TimeZone, Utc};
use std::fmt::Write as _;

/// An inclusive range a numeric field's values must lie in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// Least allowed value.
    pub min: f64,
    /// Greatest allowed value.
    pub max: f64,
}

/// Credits and money: signed, at most a trillion either way.
pub const CREDITS: Bound = Bound {
    min: -1e12,
    max: 1e12,
};

/// Counts (tokens, messages): whole numbers from 0 to a trillion.
pub const COUNT: Bound = Bound {
    min: 0.0,
    max: 1e12,
};

/// Durations in milliseconds: from 0 to 30 days.
pub const DURATION_MS: Bound = Bound {
    min: 0.0,
    max: 2_592_000_000.0,
};

/// The accepted timestamps, as seconds since the Unix epoch: `[2000-01-01, 2100-01-01)`.
pub const TIME_WINDOW: (i64, i64) = (946_684_800, 4_102_444_800);

/// The first instant of [`TIME_WINDOW`].
pub fn time_min() -> DateTime<Utc> {
    Utc.timestamp_opt(TIME_WINDOW.0, 0).unwrap()
}

/// The first instant after [`TIME_WINDOW`].
pub fn time_end() -> DateTime<Utc> {
    Utc.timestamp_opt(TIME_WINDOW.1, 0).unwrap()
}

/// The message for text holding a NUL, naming the field.
fn nul_message(field: &str) -> String {
    format!("field `{field}` contains U+0000 (NUL); text must not contain NUL characters")
}

/// Refuses text holding U+0000.
pub fn check_text(field: &str, s: &str) -> Result<(), String> {
    if s.contains('\0') {
        return Err(nul_message(field));
    }
    Ok(())
}

/// Refuses a JSON value with U+0000 in any string or key, naming the path of the first one
/// (`field.key[3]`).
pub fn check_json(field: &str, v: &serde_json::Value) -> Result<(), String> {
    match nul_path(v) {
        Some(rest) => Err(nul_message(&format!("{field}{rest}"))),
        None => Ok(()),
    }
}

/// Refuses a whole JSON document (a request body) with U+0000 anywhere, naming the path
/// from the top (`name`, `payload.headers[0]`, or `(body)` when the top level is a string).
pub fn check_document(v: &serde_json::Value) -> Result<(), String> {
    match nul_path(v) {
        Some(path) if path.is_empty() => Err(nul_message("(body)")),
        Some(path) => Err(nul_message(path.trim_start_matches('.'))),
        None => Ok(()),
    }
}

/// The path below `v` of its first string or key holding U+0000 (empty when `v` itself is
/// that string), or `None` when there is none.
pub fn nul_path(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    match v {
        J::String(s) => s.contains('\0').then(String::new),
        J::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            nul_path(item).map(|rest| {
                let mut p = String::new();
                let _ = write!(p, "[{i}]{rest}");
                p
            })
        }),
        J::Object(map) => map.iter().find_map(|(k, item)| {
            if k.contains('\0') {
                return Some(format!(".{}", k.replace('\0', "\\u0000")));
            }
            nul_path(item).map(|rest| format!(".{k}{rest}"))
        }),
        _ => None,
    }
}

/// Refuses a non-finite number or one outside `bound`.
pub fn check_number(field: &str, x: f64, bound: Bound) -> Result<(), String> {
    if !x.is_finite() {
        return Err(format!("field `{field}` must be a finite number"));
    }
    if x < bound.min || x > bound.max {
        return Err(format!(
            "field `{field}` is {x}; allowed: {} to {}",
            bound.min, bound.max
        ));
    }
    Ok(())
}

/// Refuses an instant outside [`TIME_WINDOW`].
pub fn check_time(field: &str, t: &DateTime<Utc>) -> Result<(), String> {
    let secs = t.timestamp();
    if secs < TIME_WINDOW.0 || secs >= TIME_WINDOW.1 {
        return Err(format!(
            "field `{field}` is {}; allowed: from {} up to (not including) {}",
            super::time::format_timestamp(t),
            time_min().format("%Y-%m-%dT%H:%M:%SZ"),
            time_end().format("%Y-%m-%dT%H:%M:%SZ"),
        ));
    }
    Ok(())
}

/// [`check_time`] for an optional instant.
pub fn check_opt_time(field: &str, t: &Option<DateTime<Utc>>) -> Result<(), String> {
    t.as_ref().map_or(Ok(()), |t| check_time(field, t))
}

/// Deserializes a field that may be omitted, `null` or a value into
/// `None` / `Some(None)` / `Some(Some(v))` (use with `#[serde(default)]`), so an upsert can
/// keep an omitted field and clear a `null` one.
pub fn present<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_found_in_text_keys_and_nested_values() {
        assert!(check_text("model", "gpt").is_ok());
        let e = check_text("model", "g\0pt").unwrap_err();
        assert!(e.contains("`model`") && e.contains("U+0000"), "{e}");
        let v = json!({"a": [1, {"b": "ok"}, {"c": "x\u{0}"}]});
        assert_eq!(nul_path(&v).as_deref(), Some(".a[2].c"));
        assert!(
            check_json("details", &v)
                .unwrap_err()
                .contains("`details.a[2].c`")
        );
        let key = json!({"k\u{0}": 1});
        assert!(check_json("meta", &key).unwrap_err().contains("meta.k"));
        assert!(check_json("meta", &json!({"fine": ["x", 2, null]})).is_ok());
        assert!(
            check_document(&json!({"name": "a\u{0}"}))
                .unwrap_err()
                .contains("`name`")
        );
        assert!(
            check_document(&json!("\u{0}"))
                .unwrap_err()
                .contains("(body)")
        );
    }

    #[test]
    fn the_json_parser_refuses_lone_surrogates() {
        // So no lone surrogate can reach storage, where PostgreSQL would refuse it.
        assert!(serde_json::from_str::<serde_json::Value>(r#"["\ud800"]"#).is_err());
        assert!(serde_json::from_str::<serde_json::Value>(r#"{"a": "\udc00x"}"#).is_err());
        // A proper pair is one character.
        let pair: String = serde_json::from_str(r#""\ud83d\ude00""#).unwrap();
        assert_eq!(pair, "😀");
        // Numbers beyond f64 are refused by the parser too; 1e308 is not, hence the bounds.
        assert!(serde_json::from_str::<serde_json::Value>("1e400").is_err());
    }

    #[test]
    fn numbers_must_be_finite_and_bounded() {
        assert!(check_number("credit_cost", 2.5, CREDITS).is_ok());
        assert!(check_number("credit_cost", -1e12, CREDITS).is_ok());
        let e = check_number("credit_cost", 1e308, CREDITS).unwrap_err();
        assert!(e.contains("`credit_cost`") && e.contains("allowed"), "{e}");
        assert!(check_number("x", f64::NAN, CREDITS).is_err());
        assert!(check_number("x", f64::INFINITY, CREDITS).is_err());
        assert!(check_number("prompt_tokens", -1.0, COUNT).is_err());
        assert!(check_number("latency_ms", 2_592_000_001.0, DURATION_MS).is_err());
        assert!(check_number("latency_ms", 2_592_000_000.0, DURATION_MS).is_ok());
    }

    #[test]
    fn timestamps_must_lie_in_the_window() {
        let at = |s: &str| super::super::time::parse_timestamp(s).unwrap();
        assert!(check_time("t", &at("2000-01-01T00:00:00Z")).is_ok());
        assert!(check_time("t", &at("2099-12-31T23:59:59.999Z")).is_ok());
        for bad in [
            "0000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1999-12-31T23:59:59Z",
            "2100-01-01T00:00:00Z",
            "9999-12-31T00:00:00Z",
        ] {
            let e = check_time("pl_run_created_ts", &at(bad)).unwrap_err();
            assert!(
                e.contains("`pl_run_created_ts`") && e.contains("2000-01-01"),
                "{e}"
            );
        }
    }

    #[test]
    fn present_tells_omitted_from_null() {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "present")]
            a: Option<Option<String>>,
        }
        let t = |v| serde_json::from_value::<T>(v).unwrap().a;
        assert_eq!(t(json!({})), None);
        assert_eq!(t(json!({"a": null})), Some(None));
        assert_eq!(t(json!({"a": "x"})), Some(Some("x".into())));
    }
}

//! A typed cell value: what ingest validates into, what both backends bind and decode.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One value of a record field or a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL / an absent field (typed as text where the database asks).
    Null,
    /// Text (also enum internal values).
    Text(String),
    /// A float.
    Number(f64),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Bool(bool),
    /// An instant in UTC.
    Timestamp(DateTime<Utc>),
    /// A JSON document.
    Json(serde_json::Value),
    /// A NULL instant: PostgreSQL needs the type of a NULL parameter, SQLite does not care.
    NullTimestamp,
}

impl Value {
    /// Refuses what one backend would store and the other refuse (see `domain::values`): text
    /// or JSON holding U+0000, and non-finite numbers. The store's backstop for callers that
    /// bypass the API's checks (the CLI, the admin pages, library users).
    pub fn check_storable(&self) -> Result<(), String> {
        use crate::domain::values;
        match self {
            Value::Text(s) => values::check_text("(text value)", s),
            Value::Json(j) => values::check_json("(JSON value)", j),
            Value::Number(n) if !n.is_finite() => {
                Err(format!("a number value is {n}; allowed: finite numbers"))
            }
            _ => Ok(()),
        }
    }

    /// `Text` for `Some`, `Null` for `None`.
    pub fn opt_text(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::Text(s.into()))
    }

    /// `Timestamp` for `Some`, `Null` for `None`.
    pub fn opt_ts(t: Option<DateTime<Utc>>) -> Value {
        t.map_or(Value::NullTimestamp, Value::Timestamp)
    }

    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is NULL (of any type).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null | Value::NullTimestamp)
    }

    /// The instant, if this is a timestamp.
    pub fn as_timestamp(&self) -> Option<DateTime<Utc>> {
        match self {
            Value::Timestamp(t) => Some(*t),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The value as JSON, timestamps in Outflow's one output format.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::NullTimestamp => serde_json::Value::Null,
            Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Number(n) => serde_json::Number::from_f64(*n)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Integer(i) => (*i).into(),
            Value::Bool(b) => (*b).into(),
            Value::Timestamp(t) => crate::domain::time::format_timestamp(t).into(),
            Value::Json(j) => j.clone(),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Integer(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Value {
        Value::Timestamp(t)
    }
}

//! Request bodies: a JSON array of records (or one record), or NDJSON.

use serde::Serialize;

/// A body that is not valid JSON, with the position of the problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("malformed JSON at line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What the parser expected.
    pub message: String,
}

impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> Self {
        let full = e.to_string();
        // serde_json appends " at line L column C"; we report those separately.
        let message = full
            .rsplit_once(" at line ")
            .map_or(full.as_str(), |(m, _)| m)
            .to_string();
        ParseError {
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}

/// Parses a body into record values. NDJSON is one JSON value per line (blank lines are
/// skipped); otherwise the body is a JSON array of records or a single record object.
pub fn parse_body(body: &[u8], ndjson: bool) -> Result<Vec<serde_json::Value>, ParseError> {
    if ndjson {
        return serde_json::Deserializer::from_slice(body)
            .into_iter::<serde_json::Value>()
            .map(|r| r.map_err(ParseError::from))
            .collect();
    }
    match serde_json::from_slice::<serde_json::Value>(body)? {
        serde_json::Value::Array(items) => Ok(items),
        obj @ serde_json::Value::Object(_) => Ok(vec![obj]),
        _ => Err(ParseError {
            line: 1,
            column: 1,
            message: "expected a JSON array of records, a record object, or NDJSON \
                      (Content-Type: application/x-ndjson)"
                .into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arrays_objects_and_ndjson() {
        assert_eq!(parse_body(br#"[{"a":1},{"a":2}]"#, false).unwrap().len(), 2);
        assert_eq!(parse_body(br#"{"a":1}"#, false).unwrap().len(), 1);
        assert_eq!(
            parse_body(b"{\"a\":1}\n\n{\"a\":2}\n", true).unwrap().len(),
            2
        );
    }

    #[test]
    fn reports_line_and_column() {
        let e = parse_body(b"[\n  {\"a\": 1},\n  {\"a\": }\n]", false).unwrap_err();
        assert_eq!((e.line, e.column), (3, 9));
        assert!(!e.message.contains("at line"));
        let e = parse_body(b"{\"a\":1}\n{\"a\":\n", true).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(parse_body(b"42", false).is_err());
    }
}

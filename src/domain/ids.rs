//! Client-supplied identifiers, validated once at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest identifier we accept; long enough for UUIDs, prefixed ids and URNs.
pub const MAX_ID_LEN: usize = 128;

/// An identifier of an organization, team, member, record, … as the platform assigns it.
///
/// Allowed: 1–128 characters from `A-Z a-z 0-9 _ - . : @`. The restriction keeps ids safe in
/// URLs, object keys and CSV cells without escaping.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[A-Za-z0-9_.:@-]{1,128}$")]
pub struct Id(String);

/// Why a string is not an [`Id`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("is longer than {MAX_ID_LEN} characters")]
    TooLong,
    #[error("contains `{0}`; allowed characters are A-Z a-z 0-9 _ - . : @")]
    BadChar(char),
}

impl Id {
    /// Validates `s` as an id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if s.len() > MAX_ID_LEN {
            return Err(IdError::TooLong);
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '@')))
        {
            return Err(IdError::BadChar(c));
        }
        Ok(Id(s.to_string()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Id {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Id::parse(&s)
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_id_shapes() {
        for ok in ["org_1", "9f1c-22", "user@example.com", "urn:x:1", "a.b"] {
            assert!(Id::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_empty_long_and_unsafe() {
        assert_eq!(Id::parse(""), Err(IdError::Empty));
        assert_eq!(Id::parse(&"x".repeat(129)), Err(IdError::TooLong));
        assert_eq!(Id::parse("a/b"), Err(IdError::BadChar('/')));
        assert_eq!(Id::parse("a b"), Err(IdError::BadChar(' ')));
    }
}

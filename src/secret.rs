//! [`Secret`]: a configured secret string that `Debug` never prints. Its own module because
//! both the configuration and the mailer hold secrets, and neither should import the other.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret string: `Debug` and `Display` never print it.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

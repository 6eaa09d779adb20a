//! Outflow's organization keys as stored: scopes, the SQL that reads and writes them.
//! The secret itself never reaches storage — only its SHA-256 (see `auth::keys`).

use super::value::Value;
use crate::domain::FieldType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// What an organization key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One-time exports and usage reports, and reading entities.
    UsageExport,
    /// Data drains and their secrets, and reading entities.
    Drains,
    /// Everything, including keys and organization settings.
    Admin,
    /// Read-only usage analytics: `GET /v1/usage` and reading budgets — for dashboards and
    /// BI tools that should see the numbers but not export records or change anything.
    Analytics,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [
        Scope::UsageExport,
        Scope::Drains,
        Scope::Admin,
        Scope::Analytics,
    ];

    /// Every API name, comma-separated (for messages).
    pub fn names() -> String {
        Scope::ALL.map(Scope::as_str).join(", ")
    }

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::UsageExport => "usage_export",
            Scope::Drains => "drains",
            Scope::Admin => "admin",
            Scope::Analytics => "analytics",
        }
    }

    /// Parses a comma-separated list such as `usage_export,drains`.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let scope: Scope = part.parse()?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(format!("no scope given; allowed: {}", Scope::names()));
        }
        Ok(scopes)
    }

    /// Joins scopes with commas.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown scope `{s}`; allowed: {}", Scope::names()))
    }
}

/// A key about to be stored.
#[derive(Debug, Clone)]
pub struct NewOrgKey {
    /// Key id (public, shown in lists).
    pub id: String,
    /// Owning organization.
    pub org_id: String,
    /// Display name.
    pub name: String,
    /// First characters of the secret, to recognise it in lists.
    pub prefix: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A stored key (never with its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgKey {
    /// Key id.
    pub id: String,
    /// Owning organization.
    pub org_id: String,
    /// Display name.
    pub name: String,
    /// First characters of the secret.
    pub prefix: String,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl OrgKey {
    /// Whether the key grants `scope` (`admin` grants every scope).
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }
}

pub(super) const COLUMNS: [FieldType; 7] = [
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Timestamp,
    FieldType::Timestamp,
];

/// One column list for every read of `org_keys`.
macro_rules! select_keys {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, name, prefix, scopes, created_at, revoked_at FROM org_keys",
            $tail
        )
    };
}

pub(super) const SELECT_BY_HASH: &str =
    select_keys!(" WHERE secret_hash = ? AND revoked_at IS NULL");
pub(super) const SELECT_BY_ORG: &str =
    select_keys!(" WHERE org_id = ? ORDER BY created_at DESC, id");

pub(super) fn insert(k: &NewOrgKey) -> (String, Vec<Value>) {
    (
        "INSERT INTO org_keys (id, org_id, name, prefix, secret_hash, scopes, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)"
            .into(),
        vec![
            k.id.clone().into(),
            k.org_id.clone().into(),
            k.name.clone().into(),
            k.prefix.clone().into(),
            k.secret_hash.clone().into(),
            Scope::join(&k.scopes).into(),
            k.created_at.into(),
        ],
    )
}

pub(super) fn revoke(org: &str, key_id: &str) -> (String, Vec<Value>) {
    (
        "UPDATE org_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL"
            .into(),
        vec![Utc::now().into(), org.into(), key_id.into()],
    )
}

pub(super) fn from_row(r: Vec<Value>) -> OrgKey {
    let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
    OrgKey {
        id: text(0),
        org_id: text(1),
        name: text(2),
        prefix: text(3),
        scopes: Scope::parse_list(r[4].as_text().unwrap_or_default()).unwrap_or_default(),
        created_at: r[5].as_timestamp().unwrap_or_default(),
        revoked_at: r[6].as_timestamp(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_parse_and_reject_unknown() {
        assert_eq!(
            Scope::parse_list("usage_export, drains,drains").unwrap(),
            vec![Scope::UsageExport, Scope::Drains]
        );
        assert!(
            Scope::parse_list("exports")
                .unwrap_err()
                .contains("allowed")
        );
        assert!(Scope::parse_list("").is_err());
    }

    #[test]
    fn admin_grants_every_scope() {
        let key = OrgKey {
            id: "k".into(),
            org_id: "o".into(),
            name: "n".into(),
            prefix: "p".into(),
            scopes: vec![Scope::Admin],
            created_at: Utc::now(),
            revoked_at: None,
        };
        assert!(Scope::ALL.iter().all(|s| key.allows(*s)));
    }
}

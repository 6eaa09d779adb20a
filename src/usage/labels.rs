//! Display names of group keys, and the check that filtered teams and members exist.

use super::{Dimension, UsageError, UsageQuery};
use crate::domain::FieldType;
use crate::domain::credit::{self, CATEGORIES};
use crate::domain::entity::Privacy;
use crate::privacy::PrivacyPolicy;
use crate::store::{Store, StoreError, Value};
use std::collections::HashMap;

/// The one group of every member when the organization hides users.
pub const HIDDEN: &str = "hidden";

/// 404 for a team or member filter naming one the organization does not have (another
/// organization's ids do not exist for this caller).
pub async fn check_filters(store: &Store, org: &str, q: &UsageQuery) -> Result<(), UsageError> {
    for (table, what, ids) in [
        ("teams", "team", &q.team_ids),
        ("members", "member", &q.user_ids),
    ] {
        if ids.is_empty() {
            continue;
        }
        let known = names(store, org, table).await?;
        if let Some(missing) = ids.iter().find(|id| !known.contains_key(*id)) {
            return Err(UsageError::NotFound(format!(
                "{what} `{missing}` not found in this organization"
            )));
        }
    }
    Ok(())
}

/// `id → name` of one entity table of the organization.
async fn names(
    store: &Store,
    org: &str,
    table: &str,
) -> Result<HashMap<String, String>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT id, name FROM {table} WHERE org_id = ?"),
            &[Value::from(org)],
            &[FieldType::Text, FieldType::Text],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r[0].as_text()?.to_string(), r[1].as_text()?.to_string())))
        .collect())
}

/// The names the grouped dimensions need.
pub struct Labels {
    by_dim: HashMap<Dimension, HashMap<String, String>>,
    privacy: Privacy,
}

impl Labels {
    /// Loads the name tables of `dims`.
    pub async fn load(
        store: &Store,
        org: &str,
        dims: &[Dimension],
        policy: &PrivacyPolicy,
    ) -> Result<Labels, StoreError> {
        let mut by_dim = HashMap::new();
        for d in dims {
            let table = match d {
                Dimension::Team => "teams",
                // Member names are only shown when users are visible.
                Dimension::User if policy.org_setting() == Privacy::Visible => "members",
                Dimension::Workbook => "workbooks",
                Dimension::Agent => "agents",
                Dimension::ApiKey => "api_keys",
                Dimension::CustomRole => "custom_roles",
                _ => continue,
            };
            by_dim.insert(*d, names(store, org, table).await?);
        }
        Ok(Labels {
            by_dim,
            privacy: policy.org_setting(),
        })
    }

    /// The label of `key` (null for a missing value; the id when no name is known).
    pub fn label(&self, d: Dimension, key: &str) -> serde_json::Value {
        if key.is_empty() {
            return serde_json::Value::Null;
        }
        let names = self.by_dim.get(&d);
        let name = |id: &str| {
            names
                .and_then(|n| n.get(id))
                .cloned()
                .unwrap_or_else(|| id.to_string())
        };
        match d {
            Dimension::User if self.privacy != Privacy::Visible => key.into(),
            Dimension::Category => credit::label(CATEGORIES, key).unwrap_or(key).into(),
            Dimension::CustomRole => key
                .split("; ")
                .map(name)
                .collect::<Vec<_>>()
                .join("; ")
                .into(),
            Dimension::Model => key.into(),
            _ => name(key).into(),
        }
    }
}

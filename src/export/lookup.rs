//! What export validation needs to know about an organization: which of the named teams
//! exist and who the requesting member is. Loaded once per request from the store.

use super::spec::{ExportInput, OrgLookup};
use crate::domain::FieldType;
use crate::store::{Store, StoreError, Value};
use std::collections::HashSet;

/// Team ids and member emails of one organization, loaded for validation.
pub struct LoadedLookup {
    teams: HashSet<String>,
    member: Option<(String, String)>,
}

impl LoadedLookup {
    /// Loads the teams named in `input` and the requesting member.
    pub async fn load(store: &Store, org: &str, input: &ExportInput) -> Result<Self, StoreError> {
        let mut teams = HashSet::new();
        for id in &input.workspace_ids {
            let rows = store
                .query(
                    "SELECT id FROM teams WHERE org_id = ? AND id = ?",
                    &[org.into(), id.as_str().into()],
                    &[FieldType::Text],
                )
                .await?;
            if !rows.is_empty() {
                teams.insert(id.clone());
            }
        }
        let member = match &input.user_id {
            Some(user) => store
                .query(
                    "SELECT email FROM members WHERE org_id = ? AND id = ?",
                    &[org.into(), user.as_str().into()],
                    &[FieldType::Text],
                )
                .await?
                .into_iter()
                .next()
                .and_then(|r| match r.into_iter().next() {
                    Some(Value::Text(email)) => Some((user.clone(), email)),
                    _ => None,
                }),
            None => None,
        };
        Ok(LoadedLookup { teams, member })
    }

    /// The requesting member's email, when the member exists.
    pub fn requester_email(&self) -> Option<&str> {
        self.member.as_ref().map(|(_, e)| e.as_str())
    }
}

impl OrgLookup for LoadedLookup {
    fn missing_teams(&self, ids: &[String]) -> Vec<String> {
        ids.iter()
            .filter(|i| !self.teams.contains(*i))
            .cloned()
            .collect()
    }
    fn member_email(&self, id: &str) -> Option<String> {
        self.member
            .as_ref()
            .filter(|(m, _)| m == id)
            .map(|(_, e)| e.clone())
    }
}

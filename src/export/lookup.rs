//! What export validation needs to know about an organization: which of the named teams
//! exist, who the requesting member is, its custom roles and stored audit event types (only
//! when a filter names them). Loaded once per request from the store.

use super::filters;
use super::spec::{ExportInput, OrgLookup};
use crate::domain::FieldType;
use crate::store::{Store, StoreError, Value};
use std::collections::HashSet;

/// Team ids and member emails of one organization, loaded for validation.
pub struct LoadedLookup {
    teams: HashSet<String>,
    member: Option<(String, String)>,
    roles: Vec<(String, String)>,
    role_in_records: bool,
    event_types: Vec<String>,
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
                .member_email(org, user)
                .await?
                .map(|email| (user.clone(), email)),
            None => None,
        };
        let role = input
            .permission_group_filter
            .as_deref()
            .filter(|r| !r.is_empty());
        let mut roles = Vec::new();
        let mut role_in_records = false;
        if let Some(role) = role {
            roles = store
                .query(
                    "SELECT id, name FROM custom_roles WHERE org_id = ? ORDER BY id",
                    &[org.into()],
                    &[FieldType::Text, FieldType::Text],
                )
                .await?
                .into_iter()
                .filter_map(|r| match <[Value; 2]>::try_from(r) {
                    Ok([Value::Text(id), Value::Text(name)]) => Some((id, name)),
                    _ => None,
                })
                .collect();
            if !roles
                .iter()
                .any(|(id, name)| id == role || name.eq_ignore_ascii_case(role))
            {
                role_in_records = credit_records_carry(store, org, role).await?;
            }
        }
        // The org's stored event types only when a filter names one not known otherwise:
        // reading them scans the org's audit records.
        let events = filters::event_list(&input.event_type_filter);
        let event_types = if events.iter().any(|e| !filters::statically_known_event(e)) {
            store
                .query(
                    "SELECT DISTINCT event_type FROM audit_logs WHERE org_id = ? AND event_type IS NOT NULL ORDER BY event_type",
                    &[org.into()],
                    &[FieldType::Text],
                )
                .await?
                .into_iter()
                .filter_map(|r| r.into_iter().next().and_then(|v| v.as_text().map(str::to_string)))
                .collect()
        } else {
            Vec::new()
        };
        Ok(LoadedLookup {
            teams,
            member,
            roles,
            role_in_records,
            event_types,
        })
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
    fn custom_roles(&self) -> Vec<(String, String)> {
        self.roles.clone()
    }
    fn role_in_records(&self, _role: &str) -> bool {
        self.role_in_records
    }
    fn stored_event_types(&self) -> Vec<String> {
        self.event_types.clone()
    }
}

/// Whether any credit record of `org` carries `role` as one of its custom-role ids or names
/// (stored joined with "; ", as the export query matches them).
async fn credit_records_carry(store: &Store, org: &str, role: &str) -> Result<bool, StoreError> {
    use super::query::{ROLE_ELEMENT, role_element};
    let element = role_element(role);
    let sql = format!(
        "SELECT org_id FROM credit_logs WHERE org_id = ? AND ({} OR {}) LIMIT 1",
        ROLE_ELEMENT.replace("{col}", "permission_group_id"),
        ROLE_ELEMENT.replace("{col}", "permission_group_name")
    );
    let rows = store
        .query(
            &sql,
            &[org.into(), element.as_str().into(), element.as_str().into()],
            &[FieldType::Text],
        )
        .await?;
    Ok(!rows.is_empty())
}

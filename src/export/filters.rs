//! Team scope and record filters of exports and drains, checked in one place for every surface
//! (native API, reference routes, admin wizards, CLI): which teams a request covers, and
//! whether each filter belongs to the data type and names something that exists. A filter
//! that would silently match nothing, or be silently dropped, is refused instead, with a
//! message naming the allowed values.
//!
//! The rules, as the README states them:
//! - Team-scoped types (workflows, agents, agent_interactions): `workspace_ids` selects teams;
//!   with none, every organization team (including teams created later). Personal spaces are
//!   included only when `include_personal_workspaces` is true (on its own, it selects the
//!   personal spaces alone); `include_all_workspaces` means every team and personal space.
//! - Organization-wide types (credit_logs, audit_logs, tool_calls) always cover the whole
//!   organization: `workspace_ids` and `entity_ids` are refused there; the two
//!   `include_…_workspaces` flags are accepted and change nothing.

use super::spec::{ExportInput, InputError, OrgLookup, ParamNames};
use crate::domain::{DataType, Id, catalog, credit};
use serde::{Deserialize, Serialize};

/// Audit event types the reference product documents (field catalog §1.3.6).
pub const REFERENCE_EVENT_TYPES: &[&str] = &[
    "user_sign_in",
    "credential_insertion",
    "credential_modification",
    "credential_deletion",
    "credential_retrieval",
    "organization_slack_workspace_registration",
    "organization_slack_workspace_removal",
    "file_upload",
    "file_download",
    "file_deletion",
    "file_modification",
    "agent_creation",
    "agent_modification",
    "agent_deletion",
    "agent_workspace_move",
    "skill_attach",
    "skill_detach",
    "knowledge_source_attach",
    "knowledge_source_update",
    "knowledge_source_detach",
    "flow_execution",
];

/// Which teams a request covers. Stored resolved with every drain and export job, so a later
/// change of defaults never changes what an existing drain delivers. Unknown keys are refused
/// so that a scope in an older shape fails loudly instead of reading as "no team".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TeamScope {
    /// Every organization team (not personal spaces), including teams created later.
    pub org_teams: bool,
    /// Every member's personal space.
    pub personal: bool,
    /// These teams (organization teams or personal spaces), whatever the two flags say.
    pub ids: Vec<String>,
}

impl TeamScope {
    /// Every team and every personal space: no team condition at all.
    pub fn everything() -> TeamScope {
        TeamScope {
            org_teams: true,
            personal: true,
            ids: Vec::new(),
        }
    }

    /// Whether no record is left out for its team.
    pub fn is_everything(&self) -> bool {
        self.org_teams && self.personal
    }
}

/// The filters of a request, resolved to stored values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Credit-log category (internal value).
    pub category: Option<String>,
    /// Credit-log custom role (id or name, as the records carry it).
    pub permission_group: Option<String>,
    /// Audit-log event types.
    pub event_types: Vec<String>,
}

fn misplaced(param: &str, data_type: DataType, applies_to: &str) -> InputError {
    InputError::new(
        param,
        format!("{param} applies to {applies_to} only, not to {data_type}; leave it out"),
    )
}

/// Refuses a filter given for a type it does not apply to (drains: `hide_child_runs`).
pub fn only_for(
    given: bool,
    param: &str,
    data_type: DataType,
    applies_to: DataType,
) -> Result<(), InputError> {
    if given && data_type != applies_to {
        return Err(misplaced(param, data_type, applies_to.as_str()));
    }
    Ok(())
}

/// The teams and entity ids of `input` for `data_type`. `personal_export` is the personal
/// export scope: the caller's own rows wherever they are, so the team selection is ignored.
pub fn resolve_scope(
    input: &ExportInput,
    data_type: DataType,
    personal_export: bool,
    lookup: &dyn OrgLookup,
    names: ParamNames,
) -> Result<(TeamScope, Vec<String>), InputError> {
    let team_scoped = catalog::spec(data_type).team_field.is_some();
    if !team_scoped {
        let narrowing = [
            (!input.workspace_ids.is_empty(), names.teams),
            (!input.entity_ids.is_empty(), "entity_ids"),
        ];
        if let Some((_, param)) = narrowing.into_iter().find(|(given, _)| *given) {
            return Err(InputError::new(
                param,
                format!(
                    "{data_type} is organization-wide: it always covers the whole organization, so {param} cannot apply; \
                     leave it out (team scope applies to workflows, agents, agent_interactions)"
                ),
            ));
        }
        return Ok((TeamScope::everything(), Vec::new()));
    }
    if personal_export {
        return Ok((TeamScope::everything(), Vec::new()));
    }
    let given = input.include_all_workspaces
        || input.all_org_teams
        || input.include_personal_workspaces
        || !input.workspace_ids.is_empty()
        || !input.entity_ids.is_empty();
    if !given {
        return Err(InputError::new(
            names.teams,
            format!(
                "set at least one of {}, include_all_workspaces, include_personal_workspaces or entity_ids",
                names.teams
            ),
        ));
    }
    for id in &input.workspace_ids {
        Id::parse(id).map_err(|e| InputError::new(names.teams, e.to_string()))?;
    }
    for id in &input.entity_ids {
        Id::parse(id).map_err(|e| InputError::new("entity_ids", e.to_string()))?;
    }
    let missing = lookup.missing_teams(&input.workspace_ids);
    if !missing.is_empty() {
        return Err(InputError {
            not_found: true,
            ..InputError::new(
                names.teams,
                format!(
                    "workspace(s) not found in this organization: {}",
                    missing.join(", ")
                ),
            )
        });
    }
    let scope = if input.include_all_workspaces {
        TeamScope::everything()
    } else {
        let personal = input.include_personal_workspaces;
        // No team named means every organization team, except that the personal-spaces flag
        // on its own selects the personal spaces alone (the reference's scoping parameter).
        let personal_alone = personal && input.entity_ids.is_empty();
        TeamScope {
            org_teams: input.all_org_teams || (input.workspace_ids.is_empty() && !personal_alone),
            personal,
            ids: input.workspace_ids.clone(),
        }
    };
    Ok((scope, input.entity_ids.clone()))
}

/// The filters of `input` for `data_type`, each checked against its type and the
/// organization's known values.
pub fn resolve_filters(
    input: &ExportInput,
    data_type: DataType,
    lookup: &dyn OrgLookup,
) -> Result<Filters, InputError> {
    let category = input.category_filter.as_deref().filter(|c| !c.is_empty());
    let role = input
        .permission_group_filter
        .as_deref()
        .filter(|p| !p.is_empty());
    let events = event_list(&input.event_type_filter);
    only_for(
        category.is_some(),
        "category_filter",
        data_type,
        DataType::CreditLogs,
    )?;
    only_for(
        role.is_some(),
        "permission_group_filter",
        data_type,
        DataType::CreditLogs,
    )?;
    only_for(
        !events.is_empty(),
        "event_type_filter",
        data_type,
        DataType::AuditLogs,
    )?;
    Ok(Filters {
        category: category.map(resolve_category).transpose()?,
        permission_group: role.map(|r| resolve_role(r, lookup)).transpose()?,
        event_types: check_event_types(events, lookup)?,
    })
}

/// Event types as given: a list whose items may each hold several, comma-separated.
pub fn event_list(given: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in given.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if !e.is_empty() && !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    out
}

/// Whether an event type is known without looking at the organization's records.
pub fn statically_known_event(e: &str) -> bool {
    REFERENCE_EVENT_TYPES.contains(&e) || crate::audit::events::ALL.contains(&e)
}

fn resolve_category(c: &str) -> Result<String, InputError> {
    credit::resolve(credit::CATEGORIES, c)
        .map(str::to_string)
        .ok_or_else(|| {
            InputError::new(
                "category_filter",
                format!(
                    "unknown category `{c}`; allowed: {}",
                    credit::CATEGORIES
                        .iter()
                        .map(|(i, _)| *i)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

fn resolve_role(role: &str, lookup: &dyn OrgLookup) -> Result<String, InputError> {
    let roles = lookup.custom_roles();
    if let Some((id, name)) = roles
        .iter()
        .find(|(id, name)| id == role || name.eq_ignore_ascii_case(role))
    {
        return Ok(if id == role { id.clone() } else { name.clone() });
    }
    // Roles also arrive only inside credit records (the platform need not upsert them).
    if lookup.role_in_records(role) {
        return Ok(role.to_string());
    }
    let known = if roles.is_empty() {
        "this organization has no custom roles".to_string()
    } else {
        format!(
            "known custom roles (id or name): {}",
            roles
                .iter()
                .map(|(id, name)| format!("{id} ({name})"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(InputError {
        not_found: true,
        ..InputError::new(
            "permission_group_filter",
            format!("custom role `{role}` not found in this organization; {known}"),
        )
    })
}

fn check_event_types(
    events: Vec<String>,
    lookup: &dyn OrgLookup,
) -> Result<Vec<String>, InputError> {
    let stored = lookup.stored_event_types();
    let unknown: Vec<&str> = events
        .iter()
        .map(String::as_str)
        .filter(|e| !statically_known_event(e) && !stored.iter().any(|s| s == e))
        .collect();
    if unknown.is_empty() {
        return Ok(events);
    }
    let mut allowed: Vec<&str> = REFERENCE_EVENT_TYPES.to_vec();
    allowed.extend(crate::audit::events::ALL);
    allowed.extend(stored.iter().map(String::as_str));
    allowed.sort_unstable();
    allowed.dedup();
    Err(InputError::new(
        "event_type_filter",
        format!(
            "unknown event type(s): {}; allowed: {}",
            unknown.join(", "),
            allowed.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Org;
    impl OrgLookup for Org {
        fn missing_teams(&self, ids: &[String]) -> Vec<String> {
            ids.iter().filter(|i| *i != "eng").cloned().collect()
        }
        fn member_email(&self, _: &str) -> Option<String> {
            None
        }
        fn custom_roles(&self) -> Vec<(String, String)> {
            vec![("role_fin".into(), "Finance".into())]
        }
        fn role_in_records(&self, role: &str) -> bool {
            role == "role_legacy"
        }
        fn stored_event_types(&self) -> Vec<String> {
            vec!["team_renamed".into()]
        }
    }

    const NAMES: ParamNames = super::super::spec::NATIVE;

    fn scope(input: ExportInput) -> Result<TeamScope, InputError> {
        resolve_scope(&input, DataType::Workflows, false, &Org, NAMES).map(|(s, _)| s)
    }

    #[test]
    fn personal_spaces_only_when_asked_for() {
        let org_teams = TeamScope {
            org_teams: true,
            ..TeamScope::default()
        };
        let all_org = ExportInput {
            all_org_teams: true,
            ..ExportInput::default()
        };
        assert_eq!(scope(all_org).unwrap(), org_teams);
        let by_entity = ExportInput {
            entity_ids: vec!["wb-1".into()],
            ..ExportInput::default()
        };
        assert_eq!(scope(by_entity).unwrap(), org_teams);
        let personal_alone = ExportInput {
            include_personal_workspaces: true,
            ..ExportInput::default()
        };
        assert_eq!(
            scope(personal_alone).unwrap(),
            TeamScope {
                personal: true,
                ..TeamScope::default()
            }
        );
        let all = ExportInput {
            include_all_workspaces: true,
            ..ExportInput::default()
        };
        assert!(scope(all).unwrap().is_everything());
        let err = scope(ExportInput::default()).unwrap_err();
        assert_eq!(err.param, "workspace_ids");
    }

    #[test]
    fn organization_wide_types_refuse_team_names() {
        let input = ExportInput {
            workspace_ids: vec!["eng".into()],
            ..ExportInput::default()
        };
        let err = resolve_scope(&input, DataType::AuditLogs, false, &Org, NAMES).unwrap_err();
        assert!(err.message.contains("organization-wide"), "{}", err.message);
        let flags = ExportInput {
            include_all_workspaces: true,
            include_personal_workspaces: true,
            ..ExportInput::default()
        };
        let (s, _) = resolve_scope(&flags, DataType::ToolCalls, false, &Org, NAMES).unwrap();
        assert!(s.is_everything());
        let none = ExportInput::default();
        assert!(resolve_scope(&none, DataType::CreditLogs, false, &Org, NAMES).is_ok());
    }

    #[test]
    fn filters_name_what_is_allowed() {
        let f = |data_type, input: ExportInput| resolve_filters(&input, data_type, &Org);
        let ev = |e: &str| ExportInput {
            event_type_filter: vec![e.into()],
            ..ExportInput::default()
        };
        let err = f(DataType::AuditLogs, ev("logn")).unwrap_err();
        assert!(err.message.contains("user_sign_in") && err.message.contains("team_renamed"));
        for ok in ["user_sign_in, drain_created", "team_renamed"] {
            assert!(f(DataType::AuditLogs, ev(ok)).is_ok(), "{ok}");
        }
        assert_eq!(
            f(DataType::Workflows, ev("user_sign_in"))
                .unwrap_err()
                .param,
            "event_type_filter"
        );
        let role = |r: &str| ExportInput {
            permission_group_filter: Some(r.into()),
            ..ExportInput::default()
        };
        let err = f(DataType::CreditLogs, role("role-nope")).unwrap_err();
        assert!(err.not_found && err.message.contains("role_fin (Finance)"));
        for (given, stored) in [
            ("role_fin", "role_fin"),
            ("finance", "Finance"),
            ("role_legacy", "role_legacy"),
        ] {
            let got = f(DataType::CreditLogs, role(given)).unwrap();
            assert_eq!(got.permission_group.as_deref(), Some(stored));
        }
        let cat = ExportInput {
            category_filter: Some("agent_run".into()),
            ..ExportInput::default()
        };
        let err = f(DataType::Workflows, cat).unwrap_err();
        assert!(err.message.contains("credit_logs only"), "{}", err.message);
    }
}

//! Entity inputs: the organization's teams, members, workbooks and API keys as the store's
//! upsert inputs.

use super::facts::{ROLES, TEAMS};
use super::world::World;
use crate::domain::Id;
use crate::domain::entity::{ApiKeyInput, MemberInput, Privacy, Role, TeamInput, WorkbookInput};
use chrono::Duration;

pub(super) fn team_inputs(w: &World) -> Vec<(Id, TeamInput)> {
    (0..w.n_teams)
        .map(|t| {
            let space = &w.spaces[t];
            let input = TeamInput {
                name: space.name.clone(),
                personal: Some(false),
                owner_id: Some(space.members.first().map(|&m| id(&w.members[m].id))),
                // HR data: the People team's records show pseudonyms whatever the org setting.
                privacy: Some((TEAMS[t].slug == "people").then_some(Privacy::Pseudonymized)),
                created_at: Some(Some(w.created + Duration::minutes(2 * t as i64 + 1))),
            };
            (id(&space.id), input)
        })
        .collect()
}

pub(super) fn member_inputs(w: &World) -> Vec<(Id, MemberInput)> {
    w.members
        .iter()
        .map(|m| {
            let input = MemberInput {
                email: m.email.clone(),
                name: m.name.clone(),
                role: Some(if m.admin { Role::Admin } else { Role::Member }),
                custom_role_ids: Some(m.roles.iter().map(|&r| id(ROLES[r].0)).collect()),
                department: Some(Some(TEAMS[m.team].name.into())),
                joined_at: m.joined,
                personal_team_id: Some(id(&w.spaces[m.personal].id)),
            };
            (id(&m.id), input)
        })
        .collect()
}

pub(super) fn workbook_inputs(w: &World) -> Vec<(Id, WorkbookInput)> {
    w.workbooks
        .iter()
        .map(|b| {
            let input = WorkbookInput {
                name: b.tpl.name.into(),
                team_id: Some(Some(id(&w.spaces[b.space].id))),
                owner_id: Some(Some(id(&w.members[b.owner].id))),
                created_at: Some(Some(b.created)),
            };
            (id(&b.id), input)
        })
        .collect()
}

pub(super) fn key_inputs(w: &World) -> Vec<(Id, ApiKeyInput)> {
    w.keys
        .iter()
        .map(|k| {
            let input = ApiKeyInput {
                name: k.name.into(),
                owner_id: Some(Some(id(&w.members[k.owner].id))),
                team_id: Some(Some(id(&w.spaces[k.team].id))),
                created_at: Some(Some(k.created)),
                revoked_at: Some(k.revoked),
            };
            (id(&k.id), input)
        })
        .collect()
}

pub(super) fn id(s: &str) -> Id {
    Id::parse(s).expect("generated ids use only id characters")
}

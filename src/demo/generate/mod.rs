//! Demo data: one realistic organization of an AI-workflow platform (teams, members, custom
//! roles, workbooks, agents, API keys) and thirteen months of its six record streams, for
//! `outflow demo`.
//!
//! Everything derives from `(scale, now, seed)`. Every stream draws each day from its own
//! seeded generator, so a stream that refers to another one (credit logs charge the runs and
//! chats, tool calls happen inside them, audit logs record API-started runs) regenerates that
//! day of the other stream instead of holding a year of records in memory. A day's events
//! never start before the day but may end after it (a run finishing past midnight is charged
//! then); they wait in a small heap until no earlier event can come, which keeps every stream
//! in time order.
//!
//! Layout: `facts` holds the fixed tables; `world` and `populate` build the organization from
//! them (`calendar` and `random` serve every part); `entities` turns it into store inputs; one
//! file per record stream (`runs`, `interactions`, `agents`, `tool_calls`, `credits`, `audit`);
//! `merge` keeps each stream in time order.

mod agents;
mod audit;
mod calendar;
mod credits;
mod entities;
mod facts;
mod interactions;
mod merge;
mod populate;
mod random;
mod runs;
#[cfg(test)]
mod tests;
mod tool_calls;
mod world;

use crate::domain::entity::{
    ApiKeyInput, CustomRoleInput, MemberInput, OrgInput, Privacy, TeamInput, WorkbookInput,
};
use crate::domain::time::format_timestamp;
use crate::domain::{DataType, Id};
use agents::agent_records;
use audit::audit_log;
use chrono::{DateTime, Utc};
use credits::ledger;
use entities::{id, key_inputs, member_inputs, team_inputs, workbook_inputs};
use facts::{BILLING_ANCHOR_DAY, ORG_ID, ORG_NAME, ORG_TZ, ROLES};
use interactions::{chat_items, chat_json};
use merge::Ordered;
use runs::{run_items, run_json};
use serde_json::Value;
use std::sync::Arc;
use tool_calls::{call_items, call_json};
use world::World;

/// The demo organization: the entities to upsert before its records are ingested.
#[derive(Debug, Clone)]
pub struct DemoOrg {
    /// Organization id.
    pub org_id: Id,
    /// Organization settings.
    pub org: OrgInput,
    /// Custom roles (permission groups).
    pub custom_roles: Vec<(Id, CustomRoleInput)>,
    /// Organization teams only; the store creates personal spaces from `personal_team_id`.
    pub teams: Vec<(Id, TeamInput)>,
    /// Members in joining order; the first created the organization and is an admin.
    pub members: Vec<(Id, MemberInput)>,
    /// Workbooks of teams and of personal spaces.
    pub workbooks: Vec<(Id, WorkbookInput)>,
    /// Keys of the platform's own API.
    pub api_keys: Vec<(Id, ApiKeyInput)>,
    /// The first member, an admin.
    pub admin_user_id: Id,
    world: Arc<World>,
}

/// Builds the organization and its entities. `scale` >= 1 multiplies members/teams mildly and
/// records linearly.
pub fn organization(scale: u32, now: DateTime<Utc>, seed: u64) -> DemoOrg {
    let world = Arc::new(World::build(scale.max(1), now, seed));
    DemoOrg {
        org_id: id(ORG_ID),
        org: OrgInput {
            name: ORG_NAME.into(),
            billing_anchor_day: Some(BILLING_ANCHOR_DAY as u8),
            timezone: Some(ORG_TZ.name().into()),
            privacy: Some(Privacy::Visible),
        },
        custom_roles: ROLES
            .iter()
            .map(|(rid, name)| {
                (
                    id(rid),
                    CustomRoleInput {
                        name: (*name).into(),
                    },
                )
            })
            .collect(),
        teams: team_inputs(&world),
        members: member_inputs(&world),
        workbooks: workbook_inputs(&world),
        api_keys: key_inputs(&world),
        admin_user_id: id(&world.members[0].id),
        world,
    }
}

/// Lazily generates the records of one data type as ingest-shaped JSON objects (`org_id` plus
/// catalog field ids), roughly in time order (credit logs strictly, for their running balance).
///
/// `scale`, `now` and `seed` must be those `org` was built with: the records are derived from
/// the organization's own copy of them.
pub fn records(
    org: &DemoOrg,
    data_type: DataType,
    scale: u32,
    now: DateTime<Utc>,
    seed: u64,
) -> Box<dyn Iterator<Item = Value> + Send> {
    let w = Arc::clone(&org.world);
    debug_assert!(
        w.scale == scale.max(1) && w.now == now && w.seed == seed,
        "records() needs the arguments organization() got"
    );
    match data_type {
        DataType::Workflows => {
            let items = Ordered::new(Arc::clone(&w), run_items);
            Box::new(items.map(move |(_, run)| run_json(&w, &run)))
        }
        DataType::Agents => agent_records(w),
        DataType::AgentInteractions => {
            let items = Ordered::new(Arc::clone(&w), chat_items);
            Box::new(items.map(move |(_, chat)| chat_json(&w, &chat)))
        }
        DataType::CreditLogs => ledger(w),
        DataType::AuditLogs => audit_log(w),
        DataType::ToolCalls => {
            let items = Ordered::new(Arc::clone(&w), call_items);
            Box::new(items.map(move |(_, call)| call_json(&w, &call)))
        }
    }
}

fn ts(t: DateTime<Utc>) -> Value {
    Value::String(format_timestamp(&t))
}

//! `agents`: one record per agent version — a configuration change is a new version (G-API).

use super::{FieldDef, FieldType::*, P_DEF, P_FULL, P_MIN, TypeSpec, f};
use crate::domain::DataType;

const AGENT: &str = "Agent Info";
const CONFIG: &str = "Configuration";
const TEAM: &str = "Team Info";
const USER: &str = "User Info";

static FIELDS: [FieldDef; 16] = [
    f(
        "agent_id",
        "Agent ID",
        AGENT,
        Text,
        P_MIN,
        "Agent id; the values `entity_ids` filters on",
    )
    .req(),
    f(
        "agent_version",
        "Version",
        AGENT,
        Integer,
        P_MIN,
        "Version number assigned by Outflow; 1 for the first configuration",
    )
    .ext(),
    f("agent_name", "Agent Name", AGENT, Text, P_DEF, "Agent name"),
    f(
        "agent_description",
        "Description",
        AGENT,
        Text,
        P_DEF,
        "Agent description",
    ),
    f(
        "agent_created_ts",
        "Created Timestamp",
        AGENT,
        Timestamp,
        P_MIN,
        "When the agent was created; the drain cursor time",
    )
    .req(),
    f(
        "agent_updated_ts",
        "Version Timestamp",
        AGENT,
        Timestamp,
        P_MIN,
        "When this version was made; defaults to the time Outflow received it",
    )
    .ext(),
    f(
        "agent_model",
        "Model",
        CONFIG,
        Text,
        P_DEF,
        "Model the agent runs on",
    ),
    f(
        "agent_system_prompt",
        "System Prompt",
        CONFIG,
        Text,
        P_FULL,
        "System prompt",
    ),
    f(
        "agent_tools",
        "Tools",
        CONFIG,
        Json,
        P_FULL,
        "Configured tools",
    ),
    f(
        "agent_metadata",
        "Metadata",
        CONFIG,
        Json,
        P_FULL,
        "Extra agent metadata",
    ),
    f(
        "agent_evaluations_enabled",
        "Evaluations Enabled",
        CONFIG,
        Boolean,
        P_DEF,
        "Whether the agent's own evaluations are on",
    ),
    f(
        "creator_email",
        "Creator Email",
        USER,
        Text,
        P_DEF,
        "Email of the agent's creator",
    )
    .personal(),
    f(
        "workspace_id",
        "Team ID",
        TEAM,
        Text,
        P_MIN,
        "Team (workspace) the agent lives in",
    )
    .req(),
    f(
        "workspace_name",
        "Team Name",
        TEAM,
        Text,
        P_DEF,
        "Team display name",
    ),
    f(
        "folder_id",
        "Folder ID",
        TEAM,
        Text,
        P_FULL,
        "Containing folder; empty if none",
    ),
    f(
        "folder_name",
        "Folder Name",
        TEAM,
        Text,
        P_FULL,
        "Containing folder name; empty if none",
    ),
];

pub(super) const SPEC: TypeSpec = TypeSpec {
    data_type: DataType::Agents,
    table: "agent_versions",
    id_field: "agent_id",
    time_field: "agent_created_ts",
    team_field: Some("workspace_id"),
    entity_field: Some("agent_id"),
    fields: &FIELDS,
};

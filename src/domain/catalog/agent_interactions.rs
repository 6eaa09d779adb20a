//! `agent_interactions`: one record per chat session with an agent (G-API), plus the model and
//! token columns the usage reports aggregate (Outflow extensions).

use super::{FieldDef, FieldType::*, P_DEF, P_FULL, P_MIN, TypeSpec, f};
use crate::domain::DataType;

const CHAT: &str = "Interaction Info";
const COST: &str = "Cost";
const USAGE: &str = "Model Usage";
const TEAM: &str = "Team Info";
const USER: &str = "User Info";

static FIELDS: [FieldDef; 24] = [
    f(
        "interaction_id",
        "Interaction ID",
        CHAT,
        Text,
        P_MIN,
        "Chat session id; equals `correlation_id` on its credit-log rows",
    )
    .req(),
    f(
        "agent_id",
        "Agent ID",
        CHAT,
        Text,
        P_MIN,
        "Agent of the session; the values `entity_ids` filters on",
    ),
    f("agent_name", "Agent Name", CHAT, Text, P_DEF, "Agent name"),
    f(
        "interaction_type",
        "Interaction Type",
        CHAT,
        Text,
        P_DEF,
        "Channel: chat, slack, api, triggered, …",
    ),
    f(
        "interaction_name",
        "Interaction Name",
        CHAT,
        Text,
        P_DEF,
        "Session display name",
    ),
    f(
        "trigger_type",
        "Trigger Type",
        CHAT,
        Text,
        P_FULL,
        "For triggered sessions, the trigger (e.g. time_based); empty otherwise",
    ),
    f(
        "interaction_created_ts",
        "Created Timestamp",
        CHAT,
        Timestamp,
        P_MIN,
        "When the session started; the drain cursor time",
    )
    .req(),
    f(
        "message_count",
        "Message Count",
        CHAT,
        Integer,
        P_DEF,
        "Messages in the conversation",
    ),
    f(
        "user_id",
        "User ID",
        USER,
        Text,
        P_MIN,
        "Member who started the chat",
    )
    .personal()
    .ext(),
    f(
        "user_email",
        "User Email",
        USER,
        Text,
        P_DEF,
        "Email of the member who started the chat",
    )
    .personal(),
    f(
        "credit_cost",
        "Credit Cost",
        COST,
        Number,
        P_DEF,
        "Total credits: model, tools, flows, compute time and platform fee",
    ),
    f(
        "llm_credit_cost",
        "LLM Credit Cost",
        COST,
        Number,
        P_FULL,
        "Model-inference part of the cost",
    ),
    f(
        "tool_credit_cost",
        "Tool Credit Cost",
        COST,
        Number,
        P_FULL,
        "Tool and MCP-call part of the cost",
    ),
    f(
        "flow_credit_cost",
        "Flow Credit Cost",
        COST,
        Number,
        P_FULL,
        "Part from workflows the agent ran",
    ),
    f(
        "model",
        "Model",
        USAGE,
        Text,
        P_FULL,
        "Model that answered (provider/name)",
    )
    .ext(),
    f(
        "source",
        "Source",
        USAGE,
        Text,
        P_FULL,
        "Client the session came from: WEB, MOBILE, API, SLACK, …",
    )
    .ext(),
    f(
        "api_key_id",
        "API Key ID",
        USAGE,
        Text,
        P_FULL,
        "Platform API key used, for sessions over the API",
    )
    .ext(),
    f(
        "prompt_tokens",
        "Prompt Tokens",
        USAGE,
        Integer,
        P_FULL,
        "Input tokens",
    )
    .ext(),
    f(
        "completion_tokens",
        "Completion Tokens",
        USAGE,
        Integer,
        P_FULL,
        "Output tokens",
    )
    .ext(),
    f(
        "cached_prompt_tokens",
        "Cached Prompt Tokens",
        USAGE,
        Integer,
        P_FULL,
        "Input tokens served from the provider's cache",
    )
    .ext(),
    f(
        "cache_creation_tokens",
        "Cache Creation Tokens",
        USAGE,
        Integer,
        P_FULL,
        "Input tokens written to the provider's cache",
    )
    .ext(),
    f(
        "cost_usd",
        "Cost (USD)",
        USAGE,
        Number,
        P_FULL,
        "Estimated provider cost in US dollars",
    )
    .ext(),
    f(
        "workspace_id",
        "Team ID",
        TEAM,
        Text,
        P_MIN,
        "Team (workspace) of the session",
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
];

pub(super) const SPEC: TypeSpec = TypeSpec {
    data_type: DataType::AgentInteractions,
    table: "agent_interactions",
    id_field: "interaction_id",
    time_field: "interaction_created_ts",
    team_field: Some("workspace_id"),
    entity_field: Some("agent_id"),
    fields: &FIELDS,
};

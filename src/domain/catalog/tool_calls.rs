//! `tool_calls` (reference name `gumstack`): one row per MCP tool call through the gateway. The
//! reference publishes no field list, only contents (tool, server, status, latency, error,
//! caller); the ids here are Outflow's, the status values those of the App Activity page.

use super::{FieldDef, FieldType::*, P_DEF, P_FULL, P_MIN, TypeSpec, f};
use crate::domain::DataType;

const CALL: &str = "Call";
const CALLER: &str = "Caller";

static FIELDS: [FieldDef; 13] = [
    f(
        "tool_call_id",
        "Tool Call ID",
        CALL,
        Text,
        P_MIN,
        "Tool call id",
    )
    .req()
    .ext(),
    f(
        "created_at",
        "Time",
        CALL,
        Timestamp,
        P_MIN,
        "When the call was made; the drain cursor time",
    )
    .req(),
    f("server_id", "Server ID", CALL, Text, P_MIN, "MCP server id"),
    f(
        "server_name",
        "Server",
        CALL,
        Text,
        P_DEF,
        "MCP server name",
    )
    .ext(),
    f("tool_name", "Tool", CALL, Text, P_DEF, "Tool called").req(),
    f(
        "status",
        "Status",
        CALL,
        Enum(&[
            ("success", "Success"),
            ("error", "Error"),
            ("permission_denied", "Permission Denied"),
            ("in_progress", "In Progress"),
        ]),
        P_DEF,
        "Outcome of the call",
    ),
    f(
        "latency_ms",
        "Latency (ms)",
        CALL,
        Integer,
        P_DEF,
        "Time the call took, in milliseconds",
    )
    .bound(crate::domain::values::DURATION_MS),
    f(
        "error",
        "Error",
        CALL,
        Text,
        P_DEF,
        "Error message of a failed call",
    ),
    f(
        "source",
        "Source",
        CALLER,
        Enum(&[
            ("agent", "Agent"),
            ("workflow", "Workflow"),
            ("external_client", "External Client"),
        ]),
        P_DEF,
        "What made the call",
    )
    .ext(),
    f("user_id", "User ID", CALLER, Text, P_DEF, "Calling member")
        .personal()
        .ext(),
    f(
        "user_email",
        "User Email",
        CALLER,
        Text,
        P_DEF,
        "Email of the calling member",
    )
    .personal()
    .ext(),
    f(
        "agent_id",
        "Agent ID",
        CALLER,
        Text,
        P_FULL,
        "Calling agent, if any",
    )
    .ext(),
    f(
        "workspace_id",
        "Team ID",
        CALLER,
        Text,
        P_FULL,
        "Team of the caller, if known",
    )
    .ext(),
];

pub(super) const SPEC: TypeSpec = TypeSpec {
    data_type: DataType::ToolCalls,
    table: "tool_calls",
    id_field: "tool_call_id",
    time_field: "created_at",
    team_field: None,
    entity_field: None,
    fields: &FIELDS,
};

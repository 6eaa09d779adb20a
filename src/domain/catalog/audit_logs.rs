//! `audit_logs`: one row per security or admin event (fields of G-API `GET /get_audit_logs`,
//! plus the resource ids G-AUDIT describes).

use super::{FieldDef, FieldType::*, P_DEF, P_FULL, P_MIN, TypeSpec, f};
use crate::domain::DataType;

const EVENT: &str = "Event";
const ACTOR: &str = "Actor";
const RESOURCE: &str = "Resource";

static FIELDS: [FieldDef; 9] = [
    f("event_id", "Event ID", EVENT, Text, P_MIN, "Event id").req(),
    f(
        "timestamp",
        "Timestamp",
        EVENT,
        Timestamp,
        P_MIN,
        "When the event happened; the drain cursor time",
    )
    .req(),
    f(
        "event_type",
        "Event Type",
        EVENT,
        Text,
        P_MIN,
        "Event type, e.g. user_sign_in, credential_insertion, export_created",
    )
    .req(),
    f(
        "details",
        "Details",
        EVENT,
        Json,
        P_DEF,
        "Action-specific details",
    ),
    f(
        "user_id",
        "User ID",
        ACTOR,
        Text,
        P_DEF,
        "Acting user (or key / service for Outflow's own events)",
    )
    .personal(),
    f(
        "source_ip",
        "Source IP",
        ACTOR,
        Text,
        P_DEF,
        "IP address the action came from",
    ),
    f(
        "user_agent",
        "User Agent",
        ACTOR,
        Text,
        P_FULL,
        "User agent of the request",
    ),
    f(
        "workspace_id",
        "Team ID",
        RESOURCE,
        Text,
        P_FULL,
        "Team the event concerns, if any",
    )
    .ext(),
    f(
        "entity_id",
        "Entity ID",
        RESOURCE,
        Text,
        P_FULL,
        "Workflow, agent, key or other resource the event concerns",
    )
    .ext(),
];

pub(super) const SPEC: TypeSpec = TypeSpec {
    data_type: DataType::AuditLogs,
    table: "audit_logs",
    id_field: "event_id",
    time_field: "timestamp",
    team_field: None,
    entity_field: None,
    fields: &FIELDS,
};

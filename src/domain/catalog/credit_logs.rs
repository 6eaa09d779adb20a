//! `credit_logs`: one row per ledger entry (G-DOC groups User, Log, Identifiers). The fields
//! G-DOC marks "disabled by default" are in Full only.

use super::{FieldDef, FieldType::*, P_DEF, P_FULL, P_MIN, TypeSpec, f};
use crate::domain::DataType;
use crate::domain::credit::{CATEGORIES, TYPES};

const USER: &str = "User";
const LOG: &str = "Log";
const IDS: &str = "Identifiers";

static FIELDS: [FieldDef; 14] = [
    f(
        "user_email",
        "User Email",
        USER,
        Text,
        P_DEF,
        "Member who incurred the charge",
    )
    .personal(),
    f(
        "user_id",
        "User ID",
        USER,
        Text,
        P_FULL,
        "Member who incurred the charge",
    )
    .personal()
    .ext(),
    f(
        "permission_group_id",
        "Custom Role ID(s)",
        USER,
        Text,
        P_FULL,
        "The member's custom role ids, joined with `; `",
    ),
    f(
        "permission_group_name",
        "Custom Role Name(s)",
        USER,
        Text,
        P_FULL,
        "The member's custom role names, joined with `; `",
    ),
    f(
        "timestamp",
        "Date",
        LOG,
        Timestamp,
        P_MIN,
        "When the charge was recorded; the drain cursor time",
    )
    .req(),
    f(
        "category",
        "Category",
        LOG,
        Enum(CATEGORIES),
        P_DEF,
        "Category; output carries the label, filters take the internal value",
    )
    .req(),
    f(
        "type",
        "Type",
        LOG,
        Enum(TYPES),
        P_DEF,
        "Specific charge type; output carries the label",
    ),
    f(
        "name",
        "Name",
        LOG,
        Text,
        P_DEF,
        "Display name of the charged workflow or agent",
    ),
    f(
        "amount",
        "Amount",
        LOG,
        Number,
        P_DEF,
        "Signed credits: deductions negative, grants positive; empty on resets and cap adjustments",
    ),
    f(
        "balance",
        "Balance",
        LOG,
        Number,
        P_DEF,
        "Balance after this entry, in the scope of `balance_scope`",
    ),
    f("log_id", "Log ID", IDS, Text, P_MIN, "Ledger entry id").req(),
    f(
        "correlation_id",
        "Correlation ID",
        IDS,
        Text,
        P_FULL,
        "Joins to `run_id` / `interaction_id`",
    ),
    f(
        "balance_scope",
        "Balance Scope",
        IDS,
        Enum(&[("organization", "organization"), ("user", "user")]),
        P_FULL,
        "`organization` or `user`",
    ),
    f(
        "project_id",
        "Project ID",
        IDS,
        Text,
        P_FULL,
        "Team the charge is attributed to",
    ),
];

pub(super) const SPEC: TypeSpec = TypeSpec {
    data_type: DataType::CreditLogs,
    table: "credit_logs",
    id_field: "log_id",
    time_field: "timestamp",
    team_field: None,
    entity_field: None,
    fields: &FIELDS,
};

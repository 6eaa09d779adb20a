//! `workflows`: one record per workflow run (G-DOC "Workflow Runs"; tabs Team, Workbook, User, Run Info).

use super::{FieldDef, FieldType::*, P_DEF, P_FULL, P_MIN, TypeSpec, f};
use crate::domain::DataType;

const TEAM: &str = "Team Info";
const WORKBOOK: &str = "Workbook Info";
const USER: &str = "User Info";
const RUN: &str = "Run Info";

static FIELDS: [FieldDef; 14] = [
    f(
        "workspace_id",
        "Team ID",
        TEAM,
        Text,
        P_MIN,
        "ID of the team (workspace) the run belongs to",
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
        "workbook_id",
        "Workbook ID",
        WORKBOOK,
        Text,
        P_MIN,
        "Workbook (workflow) id; the values `entity_ids` filters on",
    )
    .req(),
    f(
        "workbook_name",
        "Workbook Name",
        WORKBOOK,
        Text,
        P_DEF,
        "Workbook display name",
    ),
    f(
        "workbook_created_ts",
        "Created Timestamp",
        WORKBOOK,
        Timestamp,
        P_DEF,
        "When the workbook was created",
    ),
    f(
        "user_id",
        "User ID",
        USER,
        Text,
        P_MIN,
        "Member who ran the workflow",
    )
    .personal(),
    f(
        "user_email",
        "User Email",
        USER,
        Text,
        P_DEF,
        "Email of the member who ran the workflow",
    )
    .personal(),
    f(
        "run_id",
        "Run ID",
        RUN,
        Text,
        P_MIN,
        "Run id; equals `correlation_id` on the run's credit-log rows",
    )
    .req(),
    f(
        "parent_run_id",
        "Parent Run ID",
        RUN,
        Text,
        P_FULL,
        "For a child (subflow) run, the run that started it; empty for top-level runs",
    )
    .ext(),
    f(
        "run_status",
        "Run Status",
        RUN,
        Enum(&[
            ("running", "Running"),
            ("success", "Success"),
            ("failed", "Failed"),
            ("terminated", "Terminated"),
        ]),
        P_FULL,
        "Outcome of the run",
    )
    .ext(),
    f(
        "credit_cost",
        "Credit Cost",
        RUN,
        Number,
        P_DEF,
        "Credits of this run only; child runs are separate records",
    ),
    f(
        "pl_run_created_ts",
        "Created Timestamp",
        RUN,
        Timestamp,
        P_MIN,
        "When the run started; the drain cursor time",
    )
    .req(),
    f(
        "pl_run_finished_ts",
        "Finished Timestamp",
        RUN,
        Timestamp,
        P_DEF,
        "When the run ended",
    ),
    f(
        "pipeline",
        "Pipeline",
        RUN,
        Json,
        P_FULL,
        "Full pipeline configuration of the run",
    ),
];

pub(super) const SPEC: TypeSpec = TypeSpec {
    data_type: DataType::Workflows,
    table: "workflow_runs",
    id_field: "run_id",
    time_field: "pl_run_created_ts",
    team_field: Some("workspace_id"),
    entity_field: Some("workbook_id"),
    fields: &FIELDS,
};

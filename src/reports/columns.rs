//! The columns of each usage report (field-catalog §2.6), in output order, with their type,
//! privacy class and meaning as Outflow computes them.
//!
//! A `group_by` adds one column named after its value (`model`, `source`, `deployment`) after
//! the entity's identifying columns; the reference does not name it, so the request value is
//! the least surprising choice. A few users columns cannot be split by model (tool calls have
//! no model; a per-model map inside a per-model row is redundant) and are left out of grouped
//! users reports rather than filled with misleading zeros.

use super::{GroupBy, ReportType};

/// The value type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `YYYY-MM-DD` (UTC).
    Date,
    /// Text.
    Text,
    /// An integer (counts, tokens, ranks).
    Integer,
    /// A float (money, averages, ratios).
    Number,
    /// `true` / `false`.
    Boolean,
    /// An RFC 3339 instant.
    Timestamp,
    /// A JSON object (id → count maps); one JSON text in CSV.
    Json,
}

/// How the privacy setting treats a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnPrivacy {
    /// Not affected.
    Open,
    /// Names a person (id, name, email): pseudonymized or emptied per the setting.
    Person,
    /// Describes something a person made (🔒 in the reference, not a person's identifier):
    /// emptied when hidden, shown otherwise.
    Descriptive,
}

/// One report column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Column id: the CSV header and the JSON key.
    pub id: &'static str,
    /// Value type.
    pub kind: ColumnKind,
    /// Privacy class.
    pub privacy: ColumnPrivacy,
    /// Only in reports without a `group_by`.
    pub ungrouped_only: bool,
    /// Meaning, as computed here.
    pub about: &'static str,
}

const fn c(id: &'static str, kind: ColumnKind, about: &'static str) -> Column {
    Column {
        id,
        kind,
        privacy: ColumnPrivacy::Open,
        ungrouped_only: false,
        about,
    }
}

impl Column {
    const fn person(mut self) -> Column {
        self.privacy = ColumnPrivacy::Person;
        self
    }
    const fn descriptive(mut self) -> Column {
        self.privacy = ColumnPrivacy::Descriptive;
        self
    }
    const fn ungrouped(mut self) -> Column {
        self.ungrouped_only = true;
        self
    }
}

use ColumnKind::{Boolean, Date, Integer, Json, Number, Text, Timestamp};

const PERIOD_START: Column = c(
    "period_start",
    Date,
    "First date of the window, in the request's zone",
);
const PERIOD_END: Column = c(
    "period_end",
    Date,
    "Last date of the window (inclusive), in the end's zone",
);
const ORG_ID: Column = c("org_id", Text, "Organization id");

static USERS: [Column; 34] = [
    PERIOD_START,
    PERIOD_END,
    ORG_ID,
    c("user_id", Text, "Member id").person(),
    c("name", Text, "Member's name").person(),
    c("email", Text, "Member's email").person(),
    c("role", Text, "Organization role now: admin or member"),
    c("joined_at", Timestamp, "When the member joined"),
    c("department", Text, "Member's department"),
    c("company_name", Text, "Not ingested; empty"),
    c("license_type", Text, "Not ingested; empty"),
    c("payg_limit_current", Number, "Not ingested; empty"),
    c("payg_consumption_in_period", Number, "Not ingested; empty"),
    c(
        "payg_utilization_pct_current",
        Number,
        "Not ingested; empty",
    ),
    c(
        "messages_total",
        Integer,
        "Messages of all the member's interactions",
    ),
    c(
        "messages_total_rank",
        Integer,
        "Rank by messages_total (1 = most)",
    ),
    c(
        "messages_chat",
        Integer,
        "Messages of interactions without an agent",
    ),
    c("messages_chat_rank", Integer, "Rank by messages_chat"),
    c(
        "messages_assistants",
        Integer,
        "Messages of interactions with an agent",
    ),
    c(
        "messages_assistants_rank",
        Integer,
        "Rank by messages_assistants",
    ),
    c("assistants_messaged", Integer, "Distinct agents messaged"),
    c("assistants_to_messages", Json, "Agent id → messages"),
    c(
        "messages_projects",
        Integer,
        "Messages in teams that are not personal spaces",
    ),
    c(
        "messages_projects_rank",
        Integer,
        "Rank by messages_projects",
    ),
    c(
        "projects_messaged",
        Integer,
        "Distinct non-personal teams messaged in",
    ),
    c("projects_to_messages", Json, "Team id → messages"),
    c("model_to_messages_total", Json, "Model → messages").ungrouped(),
    c("action_messages", Integer, "Tool calls made").ungrouped(),
    c("action_messaged", Integer, "Distinct tools called").ungrouped(),
    c("action_to_messages", Json, "Tool name → calls").ungrouped(),
    c("sum_prompt_tokens", Integer, "Input tokens"),
    c("sum_completion_tokens", Integer, "Output tokens"),
    c("total_cost_usd", Number, "Estimated provider cost, USD"),
    c(
        "credit_cost",
        Number,
        "Credits of the member's interactions",
    ),
];

static AGENTS: [Column; 26] = [
    PERIOD_START,
    PERIOD_END,
    ORG_ID,
    c("assistant_id", Text, "Agent id"),
    c("assistant_name", Text, "Agent name"),
    c("messages", Integer, "Messages of the agent's interactions"),
    c(
        "unique_users",
        Integer,
        "Distinct members who used the agent",
    ),
    c("active_users", Integer, "Same as unique_users"),
    c("conversations", Integer, "Interactions (chat sessions)"),
    c(
        "messages_per_user",
        Number,
        "messages / active_users, 2 decimals",
    ),
    c("assistant_description", Text, "Agent description").descriptive(),
    c("assistant_url", Text, "Not known to Outflow; empty").descriptive(),
    c("assistant_owner_id", Text, "Creator's member id").person(),
    c("assistant_owner_email", Text, "Creator's email").person(),
    c("sum_prompt_tokens", Integer, "Input tokens"),
    c(
        "avg_prompt_tokens",
        Number,
        "Input tokens per interaction, 2 decimals",
    ),
    c(
        "min_prompt_tokens",
        Integer,
        "Fewest input tokens of an interaction",
    ),
    c(
        "max_prompt_tokens",
        Integer,
        "Most input tokens of an interaction",
    ),
    c("sum_completion_tokens", Integer, "Output tokens"),
    c(
        "avg_completion_tokens",
        Number,
        "Output tokens per interaction, 2 decimals",
    ),
    c(
        "min_completion_tokens",
        Integer,
        "Fewest output tokens of an interaction",
    ),
    c(
        "max_completion_tokens",
        Integer,
        "Most output tokens of an interaction",
    ),
    c(
        "sum_cached_prompt_tokens",
        Integer,
        "Input tokens read from cache",
    ),
    c(
        "sum_cache_creation_tokens",
        Integer,
        "Input tokens written to cache",
    ),
    c("total_cost_usd", Number, "Estimated provider cost, USD"),
    c("credit_cost", Number, "Credits of the agent's interactions"),
];

static API_KEYS: [Column; 12] = [
    PERIOD_START,
    PERIOD_END,
    ORG_ID,
    c("api_key_id", Text, "Platform API key id"),
    c("api_key_name", Text, "Key name"),
    c("requests", Integer, "Interactions made with the key"),
    c("total_cost_usd", Number, "Estimated provider cost, USD"),
    c("sum_prompt_tokens", Integer, "Input tokens"),
    c("sum_completion_tokens", Integer, "Output tokens"),
    c(
        "cached_prompt_tokens",
        Integer,
        "Input tokens read from cache",
    ),
    c(
        "cache_creation_tokens",
        Integer,
        "Input tokens written to cache",
    ),
    c(
        "no_cache_tokens",
        Integer,
        "Input tokens neither read from nor written to cache",
    ),
];

static PROJECTS: [Column; 8] = [
    PERIOD_START,
    PERIOD_END,
    ORG_ID,
    c("project_id", Text, "Team id"),
    c("project_name", Text, "Team name"),
    c("project_owner_id", Text, "Team owner's member id").person(),
    c("project_owner_email", Text, "Team owner's email").person(),
    c("messages", Integer, "Messages of interactions in the team"),
];

static MODELS: [Column; 14] = [
    PERIOD_START,
    PERIOD_END,
    ORG_ID,
    c("name", Text, "Model name, lower case, without the provider"),
    c(
        "provider",
        Text,
        "Provider: the part before `/` of the model id",
    ),
    c("bring_your_keys", Boolean, "Not ingested; always false"),
    c("requests", Integer, "Interactions answered by the model"),
    c("sum_prompt_tokens", Integer, "Input tokens"),
    c("sum_completion_tokens", Integer, "Output tokens"),
    c(
        "sum_cached_prompt_tokens",
        Integer,
        "Input tokens read from cache",
    ),
    c(
        "sum_cache_creation_tokens",
        Integer,
        "Input tokens written to cache",
    ),
    c(
        "no_cache_tokens",
        Integer,
        "Input tokens neither read from nor written to cache",
    ),
    c("total_cost_usd", Number, "Estimated provider cost, USD"),
    c("messages", Integer, "Messages of the model's interactions"),
];

static WORKFLOWS: [Column; 16] = [
    PERIOD_START,
    PERIOD_END,
    ORG_ID,
    c("workflow_id", Text, "Workbook id"),
    c("workflow_name", Text, "Workbook name"),
    c("project_id", Text, "Team of the workbook"),
    c("project_name", Text, "Team name"),
    c("runs", Integer, "Top-level runs started in the window"),
    c(
        "subflow_runs",
        Integer,
        "Child (subflow) runs started in the window",
    ),
    c("successful_runs", Integer, "Top-level runs that succeeded"),
    c(
        "failed_runs",
        Integer,
        "Top-level runs that failed or were terminated",
    ),
    c(
        "success_rate",
        Number,
        "successful / (successful + failed), 4 decimals; empty when none finished",
    ),
    c("unique_users", Integer, "Distinct members who ran it"),
    c(
        "avg_duration_seconds",
        Number,
        "Mean duration of finished top-level runs, 3 decimals",
    ),
    c(
        "max_duration_seconds",
        Number,
        "Longest finished top-level run, 3 decimals",
    ),
    c(
        "credit_cost",
        Number,
        "Credits of all its runs, subflows included",
    ),
];

static GROUP_MODEL: Column = c("model", Text, "Model id of the rows' interactions");
static GROUP_SOURCE: Column = c("source", Text, "Client source: WEB, MOBILE, API, …");
static GROUP_DEPLOYMENT: Column = c("deployment", Text, "Not ingested; empty");

fn table(t: ReportType) -> (&'static [Column], &'static str) {
    // The second item is the column after which a group_by column goes.
    match t {
        ReportType::Users => (&USERS, "license_type"),
        ReportType::Agents => (&AGENTS, "assistant_name"),
        ReportType::ApiKeys => (&API_KEYS, "api_key_name"),
        ReportType::Projects => (&PROJECTS, "project_name"),
        ReportType::Models => (&MODELS, "bring_your_keys"),
        ReportType::Workflows => (&WORKFLOWS, "project_name"),
    }
}

/// The columns of a report, in order, for an optional (already validated) `group_by`.
pub fn columns(t: ReportType, group_by: Option<GroupBy>) -> Vec<&'static Column> {
    let (cols, anchor) = table(t);
    let group = group_by.map(|g| match g {
        GroupBy::Model => &GROUP_MODEL,
        GroupBy::Source => &GROUP_SOURCE,
        GroupBy::Deployment => &GROUP_DEPLOYMENT,
    });
    let mut out = Vec::with_capacity(cols.len() + 1);
    for col in cols {
        if group.is_some() && col.ungrouped_only {
            continue;
        }
        out.push(col);
        if col.id == anchor {
            out.extend(group);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_group_columns_sit_after_the_identity() {
        for t in ReportType::ALL {
            let mut groups: Vec<Option<GroupBy>> = vec![None];
            groups.extend(t.allowed_group_by().iter().copied().map(Some));
            for g in groups {
                let cols = columns(t, g);
                let ids: HashSet<_> = cols.iter().map(|c| c.id).collect();
                assert_eq!(ids.len(), cols.len(), "{t} {g:?}");
                assert_eq!(cols[0].id, "period_start");
                if let Some(g) = g {
                    assert!(ids.contains(g.as_str()), "{t} {g:?}");
                }
            }
        }
        let users = columns(ReportType::Users, Some(GroupBy::Model));
        let ids: Vec<_> = users.iter().map(|c| c.id).collect();
        assert!(!ids.contains(&"action_messages"));
        assert_eq!(ids[11], "model");
    }
}

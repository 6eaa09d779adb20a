//! The metrics and dimensions of `GET /v1/usage`, and which rollup family answers each.

use crate::store::rollups::{self, Family};

/// One metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Credits spent: the sum of `-amount` over credit-log debits (amount < 0).
    Credits,
    /// Credits granted: the sum of positive credit-log amounts.
    CreditsGranted,
    /// Workflow runs.
    Runs,
    /// Workflow runs with status `failed`.
    FailedRuns,
    /// The runs' `credit_cost`.
    RunCredits,
    /// Agent interactions.
    Interactions,
    /// The interactions' `credit_cost`.
    InteractionCredits,
    /// The interactions' `prompt_tokens`.
    InputTokens,
    /// The interactions' `completion_tokens`.
    OutputTokens,
    /// Tool calls.
    ToolCalls,
    /// Tool calls with status `error`.
    ToolCallErrors,
    /// Median tool-call latency (≤ 1 % relative error).
    LatencyP50,
    /// 95th-percentile tool-call latency (≤ 1 % relative error).
    LatencyP95,
    /// Distinct members with any usage record.
    ActiveUsers,
}

/// How a metric's value is formed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A sum of integers.
    Count,
    /// A sum of micro-credits, shown in credits.
    Credits,
    /// A quantile of the latency histogram.
    Quantile(f64),
    /// A distinct count of members.
    Distinct,
}

impl Metric {
    /// Every metric, in documentation order.
    pub const ALL: [Metric; 14] = [
        Metric::Credits,
        Metric::CreditsGranted,
        Metric::Runs,
        Metric::FailedRuns,
        Metric::RunCredits,
        Metric::Interactions,
        Metric::InteractionCredits,
        Metric::InputTokens,
        Metric::OutputTokens,
        Metric::ToolCalls,
        Metric::ToolCallErrors,
        Metric::LatencyP50,
        Metric::LatencyP95,
        Metric::ActiveUsers,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Credits => "credits",
            Metric::CreditsGranted => "credits_granted",
            Metric::Runs => "runs",
            Metric::FailedRuns => "failed_runs",
            Metric::RunCredits => "run_credits",
            Metric::Interactions => "interactions",
            Metric::InteractionCredits => "interaction_credits",
            Metric::InputTokens => "input_tokens",
            Metric::OutputTokens => "output_tokens",
            Metric::ToolCalls => "tool_calls",
            Metric::ToolCallErrors => "tool_call_errors",
            Metric::LatencyP50 => "tool_call_latency_p50_ms",
            Metric::LatencyP95 => "tool_call_latency_p95_ms",
            Metric::ActiveUsers => "active_users",
        }
    }

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Every API name, comma-separated (for messages).
    pub fn names() -> String {
        Metric::ALL.map(Metric::as_str).join(", ")
    }

    /// The rollup family that answers the metric.
    pub fn family(self) -> &'static Family {
        match self {
            Metric::Credits | Metric::CreditsGranted => &rollups::CREDITS,
            Metric::Runs | Metric::FailedRuns | Metric::RunCredits => &rollups::RUNS,
            Metric::Interactions
            | Metric::InteractionCredits
            | Metric::InputTokens
            | Metric::OutputTokens => &rollups::INTERACTIONS,
            Metric::ToolCalls | Metric::ToolCallErrors => &rollups::TOOL_CALLS,
            Metric::LatencyP50 | Metric::LatencyP95 => &rollups::LATENCY,
            Metric::ActiveUsers => &rollups::ACTIVE,
        }
    }

    /// The rollup column summed for the metric (additive metrics).
    pub fn column(self) -> &'static str {
        match self {
            Metric::Credits => "spent",
            Metric::CreditsGranted => "granted",
            Metric::LatencyP50 | Metric::LatencyP95 => "n",
            Metric::ActiveUsers => "user_id",
            other => other.as_str(),
        }
    }

    /// How the value is formed.
    pub fn kind(self) -> Kind {
        match self {
            Metric::Credits
            | Metric::CreditsGranted
            | Metric::RunCredits
            | Metric::InteractionCredits => Kind::Credits,
            Metric::LatencyP50 => Kind::Quantile(0.5),
            Metric::LatencyP95 => Kind::Quantile(0.95),
            Metric::ActiveUsers => Kind::Distinct,
            _ => Kind::Count,
        }
    }

    /// Whether totals are the sum of the groups.
    pub fn additive(self) -> bool {
        matches!(self.kind(), Kind::Count | Kind::Credits)
    }
}

/// One `group_by` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// The team (workspace) of the record; credit logs: `project_id`.
    Team,
    /// The member.
    User,
    /// The workbook of a workflow run.
    Workbook,
    /// The agent of an interaction or tool call.
    Agent,
    /// The model of an interaction.
    Model,
    /// The platform API key of an interaction.
    ApiKey,
    /// The credit-log category.
    Category,
    /// The credit log's custom roles (the member's set, as recorded).
    CustomRole,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 8] = [
        Dimension::Team,
        Dimension::User,
        Dimension::Workbook,
        Dimension::Agent,
        Dimension::Model,
        Dimension::ApiKey,
        Dimension::Category,
        Dimension::CustomRole,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Team => "team",
            Dimension::User => "user",
            Dimension::Workbook => "workbook",
            Dimension::Agent => "agent",
            Dimension::Model => "model",
            Dimension::ApiKey => "api_key",
            Dimension::Category => "category",
            Dimension::CustomRole => "custom_role",
        }
    }

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Every API name, comma-separated.
    pub fn names() -> String {
        Dimension::ALL.map(Dimension::as_str).join(", ")
    }

    /// The rollup column.
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Team => "team_id",
            Dimension::User => "user_id",
            Dimension::Workbook => "workbook_id",
            Dimension::Agent => "agent_id",
            Dimension::Model => "model",
            Dimension::ApiKey => "api_key_id",
            Dimension::Category => "category",
            Dimension::CustomRole => "custom_role",
        }
    }

    /// Whether `family` can be split by this dimension.
    pub fn in_family(self, family: &Family) -> bool {
        family.dims.iter().any(|d| d.col == self.column())
    }

    /// The metrics that can be split by this dimension (for messages).
    pub fn metrics(self) -> String {
        Metric::ALL
            .into_iter()
            .filter(|m| self.in_family(m.family()))
            .map(Metric::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_columns_exist() {
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.as_str()), Some(m));
            let f = m.family();
            if m.additive() {
                assert!(f.measures.iter().any(|x| x.col == m.column()), "{m:?}");
            }
        }
        for d in Dimension::ALL {
            assert_eq!(Dimension::parse(d.as_str()), Some(d));
            assert!(!d.metrics().is_empty(), "{d:?}");
        }
        assert!(Dimension::Team.in_family(Metric::Credits.family()));
        assert!(!Dimension::Model.in_family(Metric::Runs.family()));
    }
}

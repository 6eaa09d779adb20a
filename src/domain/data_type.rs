//! The six record streams and how their names are parsed (including the `gumstack` alias).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One record stream of docs/spec.md §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// One row per workflow run (child runs are separate rows).
    Workflows,
    /// One row per agent version: a configuration change is a new version.
    Agents,
    /// One row per chat session with an agent.
    AgentInteractions,
    /// One row per credit-ledger entry.
    CreditLogs,
    /// One row per security or admin event.
    AuditLogs,
    /// One row per MCP tool call through the gateway (reference name `gumstack`).
    ToolCalls,
}

impl DataType {
    /// Every data type, in catalog order.
    pub const ALL: [DataType; 6] = [
        DataType::Workflows,
        DataType::Agents,
        DataType::AgentInteractions,
        DataType::CreditLogs,
        DataType::AuditLogs,
        DataType::ToolCalls,
    ];

    /// The canonical API name.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Workflows => "workflows",
            DataType::Agents => "agents",
            DataType::AgentInteractions => "agent_interactions",
            DataType::CreditLogs => "credit_logs",
            DataType::AuditLogs => "audit_logs",
            DataType::ToolCalls => "tool_calls",
        }
    }

    /// Human label used by the admin pages.
    pub fn label(self) -> &'static str {
        match self {
            DataType::Workflows => "Workflow Runs",
            DataType::Agents => "Agents",
            DataType::AgentInteractions => "Agent Interactions",
            DataType::CreditLogs => "Credit Logs",
            DataType::AuditLogs => "Audit Logs",
            DataType::ToolCalls => "Tool Calls (Gumstack)",
        }
    }

    /// The names accepted on input, for error messages.
    pub fn allowed_names() -> String {
        let mut names: Vec<&str> = Self::ALL.iter().map(|d| d.as_str()).collect();
        names.push("gumstack (alias of tool_calls)");
        names.join(", ")
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown data type name; the message lists the allowed ones.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown data type `{0}`; allowed: {allowed}", allowed = DataType::allowed_names())]
pub struct UnknownDataType(pub String);

impl FromStr for DataType {
    type Err = UnknownDataType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "workflows" => DataType::Workflows,
            "agents" => DataType::Agents,
            "agent_interactions" => DataType::AgentInteractions,
            "credit_logs" => DataType::CreditLogs,
            "audit_logs" => DataType::AuditLogs,
            "tool_calls" | "gumstack" => DataType::ToolCalls,
            other => return Err(UnknownDataType(other.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gumstack_is_an_alias_of_tool_calls() {
        assert_eq!("gumstack".parse::<DataType>().unwrap(), DataType::ToolCalls);
        assert_eq!(
            "tool_calls".parse::<DataType>().unwrap(),
            DataType::ToolCalls
        );
    }

    #[test]
    fn names_round_trip_and_unknown_lists_allowed() {
        for dt in DataType::ALL {
            assert_eq!(dt.as_str().parse::<DataType>().unwrap(), dt);
        }
        let err = "runs".parse::<DataType>().unwrap_err().to_string();
        assert!(err.contains("`runs`") && err.contains("credit_logs") && err.contains("gumstack"));
    }
}

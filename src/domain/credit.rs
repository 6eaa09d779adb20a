//! Credit-ledger categories and types (field catalog §1.4): internal values and the labels that
//! records carry.

/// `(internal value, label)` of every credit-log category.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("pipeline_run", "Workflow Runs"),
    ("agent_run", "Agent Chats"),
    ("ai_utility", "AI Utilities"),
    ("company_brain", "Company Brain"),
    ("custom_node_rd", "Custom Node Development"),
    ("external_gumcp_call", "External MCP Call"),
    ("credit_limit_reset", "Credit Reset"),
    ("manual_adjustment", "Manual Adjustment"),
    (
        "permission_group_credit_cap_adjustment",
        "Credit Cap Adjustment",
    ),
    ("checklist_item_completion", "Gifted Credits"),
];

/// Categories that count as consumption (the others are bookkeeping).
pub const USAGE_CATEGORIES: &[&str] = &[
    "pipeline_run",
    "agent_run",
    "ai_utility",
    "company_brain",
    "custom_node_rd",
    "external_gumcp_call",
];

/// `(internal value, label)` of every credit-log type.
pub const TYPES: &[(&str, &str)] = &[
    ("initial_pipeline_run", "Initial Run"),
    ("ai_node_cost", "AI Node"),
    ("node_cost", "Node Cost"),
    ("step", "Chat Output"),
    ("compaction", "Chat Summarization"),
    ("compute_time", "Compute Time"),
    ("platform_fee", "Platform Fee"),
    ("image_generation", "Image Generation"),
    ("transcription", "Audio Transcription"),
    ("gumcp_tool_call", "guMCP Tool Call"),
    ("gumstack_tool_call", "Gumstack Tool Call"),
    ("bigquery_query", "Analytics Query"),
    ("custom_trigger_check", "Custom Trigger Check"),
    ("interactive_artifact_execute", "Interactive Artifact"),
    ("interaction_evaluation", "Chat Evaluation"),
    ("model_router", "Model Routing"),
    ("brain_indexing", "Brain Indexing"),
    ("brain_query", "Brain Search"),
    ("test_run", "Test Run"),
    ("external_client", "External Client"),
];

/// Resolves an internal value or a label, case-insensitively, to the internal value.
pub fn resolve(
    values: &'static [(&'static str, &'static str)],
    input: &str,
) -> Option<&'static str> {
    values
        .iter()
        .find(|(internal, label)| {
            internal.eq_ignore_ascii_case(input) || label.eq_ignore_ascii_case(input)
        })
        .map(|(internal, _)| *internal)
}

/// The label of an internal value.
pub fn label(
    values: &'static [(&'static str, &'static str)],
    internal: &str,
) -> Option<&'static str> {
    values.iter().find(|(i, _)| *i == internal).map(|(_, l)| *l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_internal_values_and_labels_case_insensitively() {
        assert_eq!(resolve(CATEGORIES, "PIPELINE_RUN"), Some("pipeline_run"));
        assert_eq!(resolve(CATEGORIES, "agent_run"), Some("agent_run"));
        assert_eq!(resolve(CATEGORIES, "Agent Chats"), Some("agent_run"));
        assert_eq!(resolve(CATEGORIES, "nope"), None);
        assert_eq!(label(TYPES, "gumcp_tool_call"), Some("guMCP Tool Call"));
    }

    #[test]
    fn usage_categories_are_categories() {
        for c in USAGE_CATEGORIES {
            assert!(label(CATEGORIES, c).is_some(), "{c}");
        }
    }
}

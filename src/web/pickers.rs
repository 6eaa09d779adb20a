//! Form pieces the export and drain wizards share: the data-type choice, the team picker
//! (search, select-all, personal spaces) and the field picker (presets, or custom fields
//! grouped by category from the field catalog).

use crate::domain::DataType;
use crate::domain::catalog::{self, Preset};
use crate::domain::entity::EntityKind;
use crate::store::{ListQuery, Store, StoreError};
use maud::{Markup, html};

/// A team as the pickers and the privacy page show it.
#[derive(Debug, Clone)]
pub struct TeamItem {
    /// Team id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The team's own privacy setting, if it overrides the organization's.
    pub privacy: Option<String>,
}

/// Every organization team (not personal spaces), by name.
pub async fn teams(store: &Store, org: &str) -> Result<Vec<TeamItem>, StoreError> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let q = ListQuery {
            personal: Some(false),
            page: Some(page),
            page_size: Some(ListQuery::MAX_PAGE_SIZE),
            ..Default::default()
        };
        let listed = store.list_entities(org, EntityKind::Teams, &q).await?;
        let n = listed.items.len();
        out.extend(listed.items.into_iter().map(|t| TeamItem {
            privacy: t.attributes["privacy"].as_str().map(str::to_string),
            id: t.id,
            name: t.name,
        }));
        if n < ListQuery::MAX_PAGE_SIZE as usize || out.len() as i64 >= listed.total {
            return Ok(out);
        }
        page += 1;
    }
}

/// Whether a data type is scoped by team (the others cover the whole organization).
pub fn team_scoped(dt: DataType) -> bool {
    catalog::spec(dt).team_field.is_some()
}

/// One sentence on a data type, for the type choice.
pub fn describe(dt: DataType) -> &'static str {
    match dt {
        DataType::Workflows => {
            "Execution history: run ids, credit costs, timestamps, workflow metadata."
        }
        DataType::Agents => {
            "Agent configurations: names, prompts, models and tools, one row per version."
        }
        DataType::AgentInteractions => {
            "Agent chats: timestamps, credit costs, trigger types, message counts."
        }
        DataType::CreditLogs => "Credit ledger entries: amounts, categories and balances.",
        DataType::AuditLogs => "Security and admin events: sign-ins, key and setting changes.",
        DataType::ToolCalls => "MCP tool calls through the gateway: status and latency.",
    }
}

/// Radio cards for the data type.
pub fn data_type_choice(selected: Option<DataType>) -> Markup {
    html! {
        fieldset {
            legend { "Data type" }
            div.cards {
                @for dt in DataType::ALL {
                    label {
                        span.row {
                            input type="radio" name="data_type" value=(dt.as_str()) required
                                checked[selected == Some(dt)];
                            (dt.label())
                        }
                        span.hint { (describe(dt)) }
                    }
                }
            }
        }
    }
}

/// The team picker. `all` marks the select-all box; an empty selection with `all` checks
/// every team.
pub fn team_picker(teams: &[TeamItem], selected: &[String], all: bool, personal: bool) -> Markup {
    html! {
        fieldset {
            legend { "Organization teams" }
            @if teams.is_empty() {
                p.muted { "This organization has no teams yet." }
            } @else {
                div.search hidden {
                    label for="team-search" { "Search teams" }
                    input #team-search type="search" data-filter-for="team-list" autocomplete="off";
                }
                label.inline {
                    input type="checkbox" name="all_teams" data-select-all="team-list" checked[all];
                    "Select all teams"
                }
                ul #team-list .team-list {
                    @for t in teams {
                        li data-name=(t.name.to_lowercase()) {
                            label.inline {
                                input type="checkbox" name="teams" value=(t.id)
                                    checked[all || selected.contains(&t.id)];
                                (t.name)
                            }
                        }
                    }
                }
            }
        }
        fieldset {
            legend { "Personal spaces" }
            label.inline {
                input type="checkbox" name="personal" checked[personal];
                "Include the personal spaces of all members"
            }
        }
    }
}

/// The four field choices.
const PRESETS: [(&str, &str, &str); 4] = [
    (
        "minimal",
        "Minimal",
        "Essential identifiers and timestamps only.",
    ),
    (
        "default",
        "Default",
        "The recommended set of commonly used fields.",
    ),
    ("full", "Full", "Every available field."),
    ("custom", "Custom", "Pick the fields yourself."),
];

/// The field ids a preset name stands for (`custom` → none).
pub fn preset_fields(dt: DataType, preset: &str) -> Vec<String> {
    preset
        .parse::<Preset>()
        .map(|p| {
            catalog::spec(dt)
                .preset_fields(p)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Preset radio cards and, for Custom, checkboxes grouped by category.
pub fn field_picker(dt: DataType, preset: &str, selected: &[String]) -> Markup {
    let spec = catalog::spec(dt);
    let mut categories: Vec<&str> = Vec::new();
    for f in spec.fields {
        if !categories.contains(&f.category) {
            categories.push(f.category);
        }
    }
    // With Custom chosen the boxes show exactly what was posted: after "Choose at least one
    // field" they stay empty rather than coming back as some preset's fields, which would then
    // be exported unnoticed. Before anything was posted, the chosen preset's fields are ticked
    // so that switching to Custom starts from them.
    let checked: Vec<String> = if preset == "custom" || !selected.is_empty() {
        selected.to_vec()
    } else {
        preset_fields(dt, preset)
    };
    html! {
        fieldset data-field-presets {
            legend { "Fields" }
            div.cards {
                @for (value, label, hint) in PRESETS {
                    label {
                        span.row {
                            input type="radio" name="field_preset" value=(value) checked[preset == value];
                            (label)
                            @if value != "custom" {
                                span.muted { "(" (preset_fields(dt, value).len()) ")" }
                            }
                        }
                        span.hint { (hint) }
                    }
                }
            }
        }
        div #custom-fields {
            h3 { "Custom fields" }
            p.hint { "Used with the Custom choice. The record's time field is always included in drains." }
            @for cat in &categories {
                fieldset.field-group {
                    legend { (cat) }
                    div.choice {
                        @for f in spec.fields.iter().filter(|f| f.category == *cat) {
                            label.inline title=(f.description) {
                                input type="checkbox" name="fields" value=(f.id) checked[checked.iter().any(|c| c == f.id)];
                                span { (f.label) " " code.muted { (f.id) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The parsed data type of a form value.
pub fn parse_type(s: &str) -> Option<DataType> {
    if s.is_empty() { None } else { s.parse().ok() }
}

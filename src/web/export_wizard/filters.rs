//! The export wizard's row filters: a credit-log category and custom role, audit-log event
//! types, and workbook / agent ids for the team-scoped types. The markup of their inputs and
//! the mapping between the wizard's form, the request (`ExportInput`) and a stored job's spec,
//! so the wizard offers exactly what `export::filters` accepts and Clone keeps it.

use super::ExportForm;
use crate::audit;
use crate::domain::{DataType, credit};
use crate::export::filters::REFERENCE_EVENT_TYPES;
use crate::export::spec::{ExportInput, ExportSpec};
use maud::{Markup, html};

/// Whether `dt` has a Filters step of its own (the organization-wide types with filters).
pub fn has_filter_step(dt: DataType) -> bool {
    matches!(dt, DataType::CreditLogs | DataType::AuditLogs)
}

/// The ids typed into the entity-ids box: comma- or whitespace-separated, blanks dropped.
pub fn entity_ids(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Sets the request's filters from the form. Only the filters of the chosen type are
/// mapped: values left behind after the admin went back and changed the type are hidden
/// from the page, so they must not turn into a "does not apply" error nobody can see.
pub fn apply(f: &ExportForm, dt: Option<DataType>, input: &mut ExportInput) {
    let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    match dt {
        Some(DataType::CreditLogs) => {
            input.category_filter = given(&f.category);
            input.permission_group_filter = given(&f.custom_role);
        }
        Some(DataType::AuditLogs) => input.event_type_filter = f.event_types.clone(),
        Some(dt) if super::pickers::team_scoped(dt) => input.entity_ids = entity_ids(&f.entity_ids),
        _ => {}
    }
}

/// Fills the form's filters from a job's spec (Clone).
pub fn fill(f: &mut ExportForm, spec: &ExportSpec) {
    f.category = spec.category.clone().unwrap_or_default();
    f.custom_role = spec.permission_group.clone().unwrap_or_default();
    f.event_types = spec.event_types.clone();
    f.entity_ids = spec.entity_ids.join(", ");
}

/// Hidden inputs carrying the Filters step's choices through the other steps.
pub fn carried_filters(f: &ExportForm) -> Markup {
    html! {
        input type="hidden" name="category" value=(f.category);
        input type="hidden" name="custom_role" value=(f.custom_role);
        @for e in &f.event_types { input type="hidden" name="event_types" value=(e); }
    }
}

/// Why some types have no team step; shown where their scope would be chosen.
pub fn org_wide_note() -> Markup {
    html! {
        p.hint data-role="org-wide-note" {
            "Credit logs, audit logs and tool calls are organization-wide: they always cover the whole \
             organization and take no team scope or entity ids."
        }
    }
}

/// The Filters step of credit logs and audit logs.
pub fn filter_step(f: &ExportForm, dt: DataType) -> Markup {
    html! {
        (org_wide_note())
        @match dt {
            DataType::CreditLogs => (credit_filters(f)),
            DataType::AuditLogs => (event_filters(f)),
            _ => {}
        }
    }
}

fn credit_filters(f: &ExportForm) -> Markup {
    html! {
        fieldset {
            legend { "Filters (optional)" }
            label for="category" { "Category" }
            select #category name="category" {
                option value="" selected[f.category.is_empty()] { "Any category" }
                @for (value, label) in credit::CATEGORIES {
                    option value=(value) selected[f.category == *value] { (label) }
                }
                // A value the list does not know (typed elsewhere, or refused): kept as given
                // so the error it caused stays next to it.
                @if !f.category.is_empty() && !credit::CATEGORIES.iter().any(|(v, _)| *v == f.category) {
                    option value=(f.category) selected { (f.category) }
                }
            }
            label for="custom_role" { "Custom role" span.hint { "Id or name; leave empty for every role." } }
            input #custom_role type="text" name="custom_role" value=(f.custom_role);
        }
    }
}

fn event_filters(f: &ExportForm) -> Markup {
    let box_for = |e: &str| {
        html! {
            label.inline {
                input type="checkbox" name="event_types" value=(e) checked[f.event_types.iter().any(|x| x == e)];
                (e)
            }
        }
    };
    // Chosen types outside both lists (seen only in the organization's records) stay ticked.
    let others: Vec<&String> = f
        .event_types
        .iter()
        .filter(|e| {
            !REFERENCE_EVENT_TYPES.contains(&e.as_str())
                && !audit::events::ALL.contains(&e.as_str())
        })
        .collect();
    html! {
        fieldset {
            legend { "Event types (optional; none ticked exports every event)" }
            p.hint { "Platform events" }
            @for e in REFERENCE_EVENT_TYPES { (box_for(e)) }
            p.hint { "Outflow's own events" }
            @for e in audit::events::ALL { (box_for(e)) }
            @if !others.is_empty() {
                p.hint { "Other" }
                @for e in others { (box_for(e)) }
            }
        }
    }
}

/// The entity-ids box of the team step (workflows: workbook ids; agents: agent ids).
pub fn entity_input(f: &ExportForm, dt: Option<DataType>) -> Markup {
    let what = match dt {
        Some(DataType::Workflows) => "Workbook ids",
        _ => "Agent ids",
    };
    html! {
        label for="entity_ids" { (what) " (optional)" span.hint { "Comma-separated; only these are exported." } }
        input #entity_ids type="text" name="entity_ids" value=(f.entity_ids);
    }
}

//! The audit log viewer's read: the organization's `audit_logs` records (Outflow's own events
//! and the platform's), newest first, filtered by event type, actor and time, one page at a
//! time, with the organization's privacy setting applied to the actor as exports apply it.

use crate::domain::entity::Privacy;
use crate::domain::{DataType, FieldType, catalog};
use crate::privacy::PrivacyPolicy;
use crate::store::{Store, StoreError, Value, like_pattern};
use chrono::{DateTime, Utc};

/// The columns read, in the order of [`Event`]'s fields.
const COLUMNS: [&str; 7] = [
    "event_id",
    "timestamp",
    "event_type",
    "user_id",
    "source_ip",
    "entity_id",
    "details",
];

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;

/// What to look for; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exactly this event type.
    pub event_type: Option<String>,
    /// The actor's id contains this (case-insensitive). Ignored while the organization's user
    /// fields are not visible: a search on the stored id would reveal what the page masks.
    pub actor: Option<String>,
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// One event as the viewer shows it.
#[derive(Debug, Clone)]
pub struct Event {
    /// Event id.
    pub event_id: String,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// Its type.
    pub event_type: String,
    /// The acting user, key or service (masked by the privacy setting).
    pub actor: Option<String>,
    /// Address it came from.
    pub source_ip: Option<String>,
    /// The resource it concerns.
    pub entity_id: Option<String>,
    /// Action-specific details, as compact JSON.
    pub details: Option<String>,
}

/// A page of events and how many match in all.
#[derive(Debug, Clone)]
pub struct Page {
    /// The events, newest first.
    pub events: Vec<Event>,
    /// Matching events in all.
    pub total: i64,
    /// Whether the actor filter was applied (see [`Filter::actor`]).
    pub actor_searchable: bool,
}

/// Page `page` (from 1) of `org`'s events matching `filter`.
pub async fn search(
    store: &Store,
    org: &str,
    filter: &Filter,
    page: i64,
) -> Result<Page, StoreError> {
    let policy = PrivacyPolicy::load(store, org).await?;
    // Audit logs are organization-wide (no team column): the organization's setting applies,
    // as in exports.
    let visible = policy
        .as_ref()
        .is_none_or(|p| p.for_team(None) == Privacy::Visible);
    let spec = catalog::spec(DataType::AuditLogs);
    let table = spec.table;
    let mut clause = String::from("org_id = ?");
    let mut params: Vec<Value> = vec![org.into()];
    if let Some(t) = &filter.event_type {
        clause.push_str(" AND event_type = ?");
        params.push(t.as_str().into());
    }
    if let Some(a) = filter.actor.as_ref().filter(|_| visible) {
        clause.push_str(" AND LOWER(COALESCE(user_id, '')) LIKE ? ESCAPE '\\'");
        params.push(like_pattern(a).into());
    }
    if let Some(from) = filter.from {
        clause.push_str(" AND \"timestamp\" >= ?");
        params.push(from.into());
    }
    if let Some(to) = filter.to {
        clause.push_str(" AND \"timestamp\" < ?");
        params.push(to.into());
    }
    let count = store
        .query(
            &format!("SELECT COUNT(*) FROM {table} WHERE {clause}"),
            &params,
            &[FieldType::Integer],
        )
        .await?;
    let total = count
        .first()
        .and_then(|r| r[0].as_i64())
        .unwrap_or_default();
    let offset = (page.max(1) - 1) * PAGE_SIZE;
    let rows = store
        .query(
            &format!(
                "SELECT {} FROM {table} WHERE {clause} ORDER BY \"timestamp\" DESC, pos DESC \
                 LIMIT {PAGE_SIZE} OFFSET {offset}",
                COLUMNS.map(|c| format!("\"{c}\"")).join(", ")
            ),
            &params,
            &[
                FieldType::Text,
                FieldType::Timestamp,
                FieldType::Text,
                FieldType::Text,
                FieldType::Text,
                FieldType::Text,
                FieldType::Json,
            ],
        )
        .await?;
    let defs: Vec<_> = COLUMNS
        .iter()
        .filter_map(|id| spec.fields.iter().find(|f| f.id == *id))
        .collect();
    debug_assert_eq!(defs.len(), COLUMNS.len());
    let events = rows
        .into_iter()
        .map(|mut r| {
            if let Some(p) = &policy {
                p.apply(&defs, None, &mut r);
            }
            let text = |i: usize| r[i].as_text().map(str::to_string);
            Event {
                event_id: text(0).unwrap_or_default(),
                timestamp: r[1].as_timestamp().unwrap_or_default(),
                event_type: text(2).unwrap_or_default(),
                actor: text(3),
                source_ip: text(4),
                entity_id: text(5),
                details: match &r[6] {
                    Value::Json(j) => Some(j.to_string()),
                    _ => None,
                },
            }
        })
        .collect();
    Ok(Page {
        events,
        total,
        actor_searchable: visible,
    })
}

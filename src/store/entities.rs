//! Organizations and entities: SQL shared by both backends (`?` placeholders), and the
//! mapping from rows to API shapes.

use super::paging::Paging;
use super::value::Value;
use crate::domain::entity::{
    ApiKeyInput, CustomRoleInput, DEFAULT_ANCHOR_DAY, DEFAULT_TIMEZONE, EntityKind, EntityView,
    MemberInput, Org, OrgInput, Privacy, TeamInput, WorkbookInput,
};
use crate::domain::{FieldType, Id};
use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type Statement = (String, Vec<Value>);

pub(super) const ORG_COLUMNS: [FieldType; 6] = [
    FieldType::Text,
    FieldType::Text,
    FieldType::Integer,
    FieldType::Text,
    FieldType::Text,
    FieldType::Timestamp,
];
pub(super) const SELECT_ORG_BY_ID: &str =
    "SELECT id, name, billing_anchor_day, timezone, privacy, created_at FROM orgs WHERE id = ?";
pub(super) const SELECT_ORGS: &str =
    "SELECT id, name, billing_anchor_day, timezone, privacy, created_at FROM orgs ORDER BY id";

pub(super) fn org_from_row(r: Vec<Value>) -> Org {
    let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
    Org {
        id: text(0),
        name: text(1),
        billing_anchor_day: r[2].as_i64().unwrap_or(1) as u8,
        timezone: text(3),
        privacy: text(4).parse().unwrap_or_default(),
        created_at: r[5].as_timestamp().unwrap_or_default(),
    }
}

/// The `SET` list of an upsert: `always` columns take the new value; each `given` column takes
/// it only when the input names the field, so a field left out keeps its stored value.
fn update_set(always: &[&str], given: &[(&str, bool)]) -> String {
    always
        .iter()
        .copied()
        .chain(given.iter().filter(|(_, named)| *named).map(|(c, _)| *c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn upsert_org(id: &Id, o: &OrgInput) -> Statement {
    let now = Utc::now();
    // The pseudonym key is only used when the row is new: updates keep the existing key, so
    // pseudonyms stay stable for the life of the organization.
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let set = update_set(
        &["name", "updated_at"],
        &[
            ("billing_anchor_day", o.billing_anchor_day.is_some()),
            ("timezone", o.timezone.is_some()),
            ("privacy", o.privacy.is_some()),
        ],
    );
    (
        format!(
            "INSERT INTO orgs (id, name, billing_anchor_day, timezone, privacy, pseudonym_key, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET {set}"
        ),
        vec![
            id.as_str().into(),
            o.name.clone().into(),
            Value::Integer(o.billing_anchor_day.unwrap_or(DEFAULT_ANCHOR_DAY).into()),
            o.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE).into(),
            o.privacy.unwrap_or_default().as_str().into(),
            hex::encode(key).into(),
            now.into(),
            now.into(),
        ],
    )
}

fn privacy(p: Option<Privacy>) -> Value {
    Value::opt_text(p.map(|p| p.as_str()))
}

fn opt_id(id: &Option<Option<Id>>) -> Value {
    Value::opt_text(id.as_ref().and_then(|i| i.as_ref()).map(|i| i.as_str()))
}

fn opt_ts(t: &Option<Option<chrono::DateTime<Utc>>>) -> Value {
    Value::opt_ts(t.flatten())
}

pub(super) fn upsert_team(org: &str, id: &Id, t: &TeamInput) -> Statement {
    let set = update_set(
        &["name", "updated_at"],
        &[
            ("personal", t.personal.is_some()),
            ("owner_id", t.owner_id.is_some()),
            ("privacy", t.privacy.is_some()),
            ("created_at", t.created_at.is_some()),
        ],
    );
    (
        format!(
            "INSERT INTO teams (org_id, id, name, personal, owner_id, privacy, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, id) DO UPDATE SET {set}"
        ),
        vec![
            org.into(),
            id.as_str().into(),
            t.name.clone().into(),
            t.personal.unwrap_or(false).into(),
            opt_id(&t.owner_id),
            privacy(t.privacy.flatten()),
            opt_ts(&t.created_at),
            Utc::now().into(),
        ],
    )
}

/// The personal space id of a member who names none.
pub fn default_personal_team_id(member_id: &str) -> String {
    format!("personal-{member_id}")
}

pub(super) fn upsert_member(org: &str, id: &Id, m: &MemberInput) -> Vec<Statement> {
    let now = Utc::now();
    let personal = m
        .personal_team_id
        .as_ref()
        .map_or_else(|| default_personal_team_id(id.as_str()), |p| p.to_string());
    let roles = serde_json::Value::from(
        m.custom_role_ids
            .iter()
            .flatten()
            .map(|r| r.as_str().to_string())
            .collect::<Vec<_>>(),
    );
    let set = update_set(
        &["email", "name", "joined_at", "updated_at"],
        &[
            ("role", m.role.is_some()),
            ("custom_role_ids", m.custom_role_ids.is_some()),
            ("department", m.department.is_some()),
            ("personal_team_id", m.personal_team_id.is_some()),
        ],
    );
    vec![
        (
            format!(
                "INSERT INTO members (org_id, id, email, name, role, custom_role_ids, department, joined_at, personal_team_id, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, id) DO UPDATE SET {set}"
            ),
            vec![
                org.into(),
                id.as_str().into(),
                m.email.clone().into(),
                m.name.clone().into(),
                m.role.unwrap_or_default().as_str().into(),
                Value::Json(roles),
                Value::opt_text(m.department.clone().flatten()),
                m.joined_at.into(),
                personal.into(),
                now.into(),
            ],
        ),
        // The member's personal space, under the id now stored (the body may have left it
        // out and kept an earlier one).
        (
            "INSERT INTO teams (org_id, id, name, personal, owner_id, privacy, created_at, updated_at) \
             SELECT m.org_id, m.personal_team_id, ?, ?, m.id, ?, m.joined_at, ? FROM members m \
             WHERE m.org_id = ? AND m.id = ? ON CONFLICT (org_id, id) DO NOTHING"
                .into(),
            vec![
                format!("{} (personal)", m.name).into(),
                true.into(),
                Value::Null,
                now.into(),
                org.into(),
                id.as_str().into(),
            ],
        ),
    ]
}

pub(super) fn upsert_custom_role(org: &str, id: &Id, r: &CustomRoleInput) -> Statement {
    (
        "INSERT INTO custom_roles (org_id, id, name, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (org_id, id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at"
            .into(),
        vec![
            org.into(),
            id.as_str().into(),
            r.name.clone().into(),
            Utc::now().into(),
        ],
    )
}

pub(super) fn upsert_workbook(org: &str, id: &Id, w: &WorkbookInput) -> Statement {
    let set = update_set(
        &["name", "updated_at"],
        &[
            ("team_id", w.team_id.is_some()),
            ("owner_id", w.owner_id.is_some()),
            ("created_at", w.created_at.is_some()),
        ],
    );
    (
        format!(
            "INSERT INTO workbooks (org_id, id, name, team_id, owner_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, id) DO UPDATE SET {set}"
        ),
        vec![
            org.into(),
            id.as_str().into(),
            w.name.clone().into(),
            opt_id(&w.team_id),
            opt_id(&w.owner_id),
            opt_ts(&w.created_at),
            Utc::now().into(),
        ],
    )
}

pub(super) fn upsert_api_key(org: &str, id: &Id, k: &ApiKeyInput) -> Statement {
    let set = update_set(
        &["name", "updated_at"],
        &[
            ("owner_id", k.owner_id.is_some()),
            ("team_id", k.team_id.is_some()),
            ("created_at", k.created_at.is_some()),
            ("revoked_at", k.revoked_at.is_some()),
        ],
    );
    (
        format!(
            "INSERT INTO api_keys (org_id, id, name, owner_id, team_id, created_at, revoked_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, id) DO UPDATE SET {set}"
        ),
        vec![
            org.into(),
            id.as_str().into(),
            k.name.clone().into(),
            opt_id(&k.owner_id),
            opt_id(&k.team_id),
            opt_ts(&k.created_at),
            opt_ts(&k.revoked_at),
            Utc::now().into(),
        ],
    )
}

/// Query parameters of entity listings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Case-insensitive substring of the name (members: name or email).
    #[serde(default)]
    #[param(nullable = false)]
    pub q: Option<String>,
    /// Teams only: `true` for personal spaces, `false` for organization teams.
    #[serde(default)]
    #[param(nullable = false)]
    pub personal: Option<bool>,
    /// Page number, from 1. Not read from the query string: the HTTP layer validates
    /// `page` / `page_size` once, by the one [`Paging`] rule, and fills these in.
    #[serde(skip_deserializing)]
    #[param(ignore)]
    pub page: Option<u32>,
    /// Items per page (see `page`).
    #[serde(skip_deserializing)]
    #[param(ignore)]
    pub page_size: Option<u32>,
}

impl ListQuery {
    /// Largest page size.
    pub const MAX_PAGE_SIZE: u32 = Paging::MAX_PAGE_SIZE;

    /// The query for one validated page.
    pub fn with_paging(mut self, paging: Paging) -> Self {
        self.page = Some(paging.page);
        self.page_size = Some(paging.page_size);
        self
    }

    /// The page number (from 1).
    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    /// Items per page; internal callers that pass more get the maximum.
    pub fn page_size(&self) -> u32 {
        self.page_size
            .unwrap_or(Paging::DEFAULT_PAGE_SIZE)
            .clamp(1, Self::MAX_PAGE_SIZE)
    }

    pub(super) fn offset(&self) -> u64 {
        u64::from(self.page() - 1) * u64::from(self.page_size())
    }
}

/// One page of an entity listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntityPage {
    /// The entities of this page, by name.
    pub items: Vec<EntityView>,
    /// Entities matching the query, over all pages.
    pub total: i64,
    /// This page's number.
    pub page: u32,
    /// Page size used.
    pub page_size: u32,
}

/// How one kind is listed: its table, and its attribute columns between `id, name` and
/// `updated_at`.
struct Listing {
    from: &'static str,
    alias: &'static str,
    attributes: &'static [(&'static str, &'static str, FieldType)],
    search_email: bool,
}

fn listing(kind: EntityKind) -> Listing {
    use FieldType::*;
    match kind {
        EntityKind::Teams => Listing {
            from: "teams t",
            alias: "t",
            attributes: &[
                ("t.personal", "personal", Boolean),
                ("t.owner_id", "owner_id", Text),
                ("t.privacy", "privacy", Text),
                ("t.created_at", "created_at", Timestamp),
            ],
            search_email: false,
        },
        EntityKind::Members => Listing {
            from: "members t",
            alias: "t",
            attributes: &[
                ("t.email", "email", Text),
                ("t.role", "role", Text),
                ("t.custom_role_ids", "custom_role_ids", Json),
                ("t.department", "department", Text),
                ("t.joined_at", "joined_at", Timestamp),
                ("t.personal_team_id", "personal_team_id", Text),
            ],
            search_email: true,
        },
        EntityKind::Workbooks => Listing {
            from: "workbooks t",
            alias: "t",
            attributes: &[
                ("t.team_id", "team_id", Text),
                ("t.owner_id", "owner_id", Text),
                ("t.created_at", "created_at", Timestamp),
            ],
            search_email: false,
        },
        EntityKind::Agents => Listing {
            from: "agents t LEFT JOIN agent_versions v \
                   ON v.org_id = t.org_id AND v.agent_id = t.id AND v.agent_version = t.version",
            alias: "t",
            attributes: &[
                ("t.workspace_id", "workspace_id", Text),
                ("t.version", "version", Integer),
                ("v.agent_model", "model", Text),
                ("v.creator_email", "creator_email", Text),
                ("v.agent_created_ts", "created_at", Timestamp),
            ],
            search_email: false,
        },
        EntityKind::CustomRoles => Listing {
            from: "custom_roles t",
            alias: "t",
            attributes: &[],
            search_email: false,
        },
        EntityKind::ApiKeys => Listing {
            from: "api_keys t",
            alias: "t",
            attributes: &[
                ("t.owner_id", "owner_id", Text),
                ("t.team_id", "team_id", Text),
                ("t.created_at", "created_at", Timestamp),
                ("t.revoked_at", "revoked_at", Timestamp),
            ],
            search_email: false,
        },
    }
}

/// The `LIKE … ESCAPE '\\'` pattern of a case-insensitive "contains" search (compare with
/// `lower(column)`): lower-cased, wildcards escaped so a search for `50%` matches literally.
pub fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Builds `(count sql, page sql, params, column types)`; the page SQL ends with `LIMIT ? OFFSET ?`.
pub(super) fn list(
    org: &str,
    kind: EntityKind,
    q: &ListQuery,
) -> (String, String, Vec<Value>, Vec<FieldType>) {
    let l = listing(kind);
    let a = l.alias;
    let mut filter = format!("{a}.org_id = ?");
    let mut params: Vec<Value> = vec![org.into()];
    if let Some(text) = q.q.as_deref().filter(|s| !s.trim().is_empty()) {
        let pattern = like_pattern(text.trim());
        if l.search_email {
            filter.push_str(&format!(
                " AND (lower({a}.name) LIKE ? ESCAPE '\\' OR lower({a}.email) LIKE ? ESCAPE '\\')"
            ));
            params.push(pattern.clone().into());
        } else {
            filter.push_str(&format!(" AND lower({a}.name) LIKE ? ESCAPE '\\'"));
        }
        params.push(pattern.into());
    }
    if let (EntityKind::Teams, Some(personal)) = (kind, q.personal) {
        filter.push_str(" AND t.personal = ?");
        params.push(personal.into());
    }
    let mut columns = format!("{a}.id, {a}.name");
    let mut types = vec![FieldType::Text, FieldType::Text];
    for (expr, _, ty) in l.attributes {
        columns.push_str(", ");
        columns.push_str(expr);
        types.push(*ty);
    }
    columns.push_str(&format!(", {a}.updated_at"));
    types.push(FieldType::Timestamp);
    let count = format!("SELECT COUNT(*) FROM {} WHERE {filter}", l.from);
    let page = format!(
        "SELECT {columns} FROM {} WHERE {filter} ORDER BY {a}.name, {a}.id LIMIT ? OFFSET ?",
        l.from
    );
    (count, page, params, types)
}

pub(super) fn page(
    kind: EntityKind,
    q: &ListQuery,
    total: i64,
    rows: Vec<Vec<Value>>,
) -> EntityPage {
    let l = listing(kind);
    let items = rows
        .into_iter()
        .map(|r| {
            let mut attributes = serde_json::Map::new();
            for (i, (_, name, _)) in l.attributes.iter().enumerate() {
                attributes.insert((*name).to_string(), r[2 + i].to_json());
            }
            EntityView {
                id: r[0].as_text().unwrap_or_default().to_string(),
                name: r[1].as_text().unwrap_or_default().to_string(),
                attributes: attributes.into(),
                updated_at: r[r.len() - 1].as_timestamp().unwrap_or_default(),
            }
        })
        .collect();
    EntityPage {
        items,
        total,
        page: q.page(),
        page_size: q.page_size(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upserts_update_only_the_fields_named() {
        assert_eq!(
            update_set(&["name"], &[("timezone", false), ("privacy", true)]),
            "name = excluded.name, privacy = excluded.privacy"
        );
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Ops"), "%ops%");
        assert_eq!(like_pattern("50%_x"), "%50\\%\\_x%");
    }

    #[test]
    fn page_bounds_are_clamped() {
        let q = ListQuery {
            page: Some(0),
            page_size: Some(10_000),
            ..Default::default()
        };
        assert_eq!((q.page(), q.page_size(), q.offset()), (1, 500, 0));
        let q = ListQuery {
            page: Some(3),
            page_size: Some(20),
            ..Default::default()
        };
        assert_eq!(q.offset(), 40);
    }
}

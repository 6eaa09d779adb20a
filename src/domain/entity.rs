//! Entities of an organization (docs/spec.md §1) as the platform upserts them and organization keys
//! read them back. Agents are entities too, but each change is a record of the `agents`
//! stream, so their shape lives in the field catalog.

use super::ids::Id;
use super::values::{check_opt_time, check_text, check_time, present};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// How user-identifying fields appear in exports, reports and drains (docs/spec.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    /// Shown as stored.
    #[default]
    Visible,
    /// Replaced by a stable keyed pseudonym.
    Pseudonymized,
    /// Left empty.
    Hidden,
}

impl Privacy {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Visible => "visible",
            Privacy::Pseudonymized => "pseudonymized",
            Privacy::Hidden => "hidden",
        }
    }
}

impl FromStr for Privacy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "visible" => Ok(Privacy::Visible),
            "pseudonymized" => Ok(Privacy::Pseudonymized),
            "hidden" => Ok(Privacy::Hidden),
            _ => Err(format!(
                "unknown privacy `{s}`; allowed: visible, pseudonymized, hidden"
            )),
        }
    }
}

/// A member's organization role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Organization administrator.
    Admin,
    /// Regular member.
    #[default]
    Member,
}

impl Role {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

/// The kinds of entity reachable under `/v1/orgs/{org_id}/{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EntityKind {
    /// Teams and personal spaces.
    Teams,
    /// Members (users).
    Members,
    /// Workbooks (workflows).
    Workbooks,
    /// Agents (the latest version of each).
    Agents,
    /// Custom roles (permission groups).
    CustomRoles,
    /// The platform's own API keys.
    ApiKeys,
}

impl EntityKind {
    /// Every kind.
    pub const ALL: [EntityKind; 6] = [
        EntityKind::Teams,
        EntityKind::Members,
        EntityKind::Workbooks,
        EntityKind::Agents,
        EntityKind::CustomRoles,
        EntityKind::ApiKeys,
    ];

    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Teams => "teams",
            EntityKind::Members => "members",
            EntityKind::Workbooks => "workbooks",
            EntityKind::Agents => "agents",
            EntityKind::CustomRoles => "custom-roles",
            EntityKind::ApiKeys => "api-keys",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown entity kind `{s}`; allowed: teams, members, workbooks, agents, custom-roles, api-keys"
                )
            })
    }
}

/// `PUT /v1/orgs/{org_id}`: create or update an organization.
///
/// Like every entity upsert, a field left out (or `null`) keeps the stored value of an
/// existing organization; a new one gets the documented default.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInput {
    /// Display name, not only spaces.
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
    /// Day of the month (1–31) billing periods start on; a short month uses its last day.
    /// Omitted: 1 for a new organization, unchanged for an existing one.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 31)]
    pub billing_anchor_day: Option<u8>,
    /// Default IANA time zone of the organization's date ranges. Omitted: `UTC` for a new
    /// organization, unchanged for an existing one.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Privacy of user-identifying fields. Omitted: a new organization is `visible`, an
    /// existing one keeps its setting (admins may have changed it on the privacy page).
    #[serde(default)]
    pub privacy: Option<Privacy>,
}

/// The billing anchor day of a new organization that names none.
pub const DEFAULT_ANCHOR_DAY: u8 = 1;
/// The time zone of a new organization that names none.
pub const DEFAULT_TIMEZONE: &str = "UTC";

/// An organization as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Org {
    /// Organization id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Billing-cycle anchor day (1–31).
    pub billing_anchor_day: u8,
    /// Default IANA time zone.
    pub timezone: String,
    /// Privacy of user-identifying fields.
    pub privacy: Privacy,
    /// When Outflow first saw the organization.
    pub created_at: DateTime<Utc>,
}

/// `PUT /v1/orgs/{org_id}/teams/{id}`.
///
/// Entity upserts (teams, members, workbooks, API keys, agents) keep the stored value of a
/// field the body leaves out; `null` clears a field that may be empty. In Rust: `None` keeps,
/// `Some(None)` clears, `Some(Some(v))` sets.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    /// Display name.
    pub name: String,
    /// Whether this is a member's personal space (a new team: `false`).
    #[serde(default)]
    pub personal: Option<bool>,
    /// The member owning a personal space (or the team's owner).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub owner_id: Option<Option<Id>>,
    /// Overrides the organization's privacy setting for this team's records.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Privacy>)]
    pub privacy: Option<Option<Privacy>>,
    /// When the team was created on the platform.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub created_at: Option<Option<DateTime<Utc>>>,
}

/// `PUT /v1/orgs/{org_id}/members/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    /// Email address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Organization role (a new member: `member`).
    #[serde(default)]
    pub role: Option<Role>,
    /// Custom roles (permission groups) the member holds (a new member: none).
    #[serde(default)]
    pub custom_role_ids: Option<Vec<Id>>,
    /// Department.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
    /// When the member joined the organization.
    pub joined_at: DateTime<Utc>,
    /// Id of the member's personal space; `personal-{member_id}` when omitted. Outflow creates
    /// the personal team if it does not exist.
    #[serde(default)]
    pub personal_team_id: Option<Id>,
}

/// `PUT /v1/orgs/{org_id}/custom-roles/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomRoleInput {
    /// Display name.
    pub name: String,
}

/// `PUT /v1/orgs/{org_id}/workbooks/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkbookInput {
    /// Display name.
    pub name: String,
    /// Team the workbook lives in.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub team_id: Option<Option<Id>>,
    /// Member who owns it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub owner_id: Option<Option<Id>>,
    /// When it was created on the platform.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub created_at: Option<Option<DateTime<Utc>>>,
}

/// `PUT /v1/orgs/{org_id}/api-keys/{id}`: a key of the platform's own API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    /// Display name.
    pub name: String,
    /// Member who owns it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub owner_id: Option<Option<Id>>,
    /// Team it is attached to.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub team_id: Option<Option<Id>>,
    /// When it was created on the platform.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub created_at: Option<Option<DateTime<Utc>>>,
    /// When it was revoked, if it was (`null` un-revokes).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub revoked_at: Option<Option<DateTime<Utc>>>,
}

/// An entity as listed by `GET /v1/orgs/{org_id}/{kind}`: its id, name and the kind's fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntityView {
    /// Entity id.
    pub id: String,
    /// Display name (for members: the full name).
    pub name: String,
    /// The kind's other fields, as upserted.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    /// Last time the platform upserted it.
    pub updated_at: DateTime<Utc>,
}

/// Validates organization settings beyond what serde checks.
pub fn validate_org(input: &OrgInput) -> Result<(), String> {
    if input.name.trim().is_empty() {
        return Err("`name` must not be empty".into());
    }
    if let Some(day) = input.billing_anchor_day
        && !(1..=31).contains(&day)
    {
        return Err(format!("`billing_anchor_day` is {day}; allowed: 1 to 31"));
    }
    if let Some(tz) = &input.timezone
        && !super::time::is_known_timezone(tz)
    {
        return Err(format!(
            "`timezone` `{tz}` is not an IANA time zone (e.g. UTC, Europe/Berlin)"
        ));
    }
    check_text("name", &input.name)
}

/// Checks the values of an entity upsert that serde cannot: text without U+0000 (for
/// callers that bypass the API's body check) and timestamps in the accepted window.
pub trait EntityInput {
    /// The first problem, naming the field.
    fn check(&self) -> Result<(), String>;
}

/// [`check_opt_time`] for a field that may be omitted, `null` or set.
fn check_given_time(field: &str, t: &Option<Option<DateTime<Utc>>>) -> Result<(), String> {
    check_opt_time(field, &t.flatten())
}

impl EntityInput for TeamInput {
    fn check(&self) -> Result<(), String> {
        check_text("name", &self.name)?;
        check_given_time("created_at", &self.created_at)
    }
}

impl EntityInput for MemberInput {
    fn check(&self) -> Result<(), String> {
        check_text("name", &self.name)?;
        check_text("email", &self.email)?;
        if let Some(Some(d)) = &self.department {
            check_text("department", d)?;
        }
        check_time("joined_at", &self.joined_at)
    }
}

impl EntityInput for CustomRoleInput {
    fn check(&self) -> Result<(), String> {
        check_text("name", &self.name)
    }
}

impl EntityInput for WorkbookInput {
    fn check(&self) -> Result<(), String> {
        check_text("name", &self.name)?;
        check_given_time("created_at", &self.created_at)
    }
}

impl EntityInput for ApiKeyInput {
    fn check(&self) -> Result<(), String> {
        check_text("name", &self.name)?;
        check_given_time("created_at", &self.created_at)?;
        check_given_time("revoked_at", &self.revoked_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_validation_names_the_field() {
        let mut org = OrgInput {
            name: "Acme".into(),
            billing_anchor_day: Some(0),
            timezone: Some("UTC".into()),
            privacy: Some(Privacy::Visible),
        };
        assert!(
            validate_org(&org)
                .unwrap_err()
                .contains("billing_anchor_day")
        );
        org.billing_anchor_day = Some(15);
        org.timezone = Some("Berlin".into());
        assert!(validate_org(&org).unwrap_err().contains("timezone"));
        org.timezone = Some("Europe/Berlin".into());
        assert!(validate_org(&org).is_ok());
        org.timezone = None;
        org.billing_anchor_day = None;
        assert!(validate_org(&org).is_ok(), "omitted settings are kept");
    }

    #[test]
    fn entity_kinds_parse_from_path_segments() {
        for k in EntityKind::ALL {
            assert_eq!(k.as_str().parse::<EntityKind>().unwrap(), k);
        }
        assert!(
            "users"
                .parse::<EntityKind>()
                .unwrap_err()
                .contains("custom-roles")
        );
    }
}

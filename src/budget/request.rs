//! Checking a budget body (`POST` takes it whole, `PATCH` the fields to change): each error
//! names the field and what is allowed; a team or secret not in the organization is a 404.

use super::{Budget, BudgetError, BudgetPeriod, Notify};
use crate::domain::entity::Org;
use crate::store::Store;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

/// Most thresholds of one budget.
pub const MAX_THRESHOLDS: usize = 10;
/// Highest threshold in percent (a budget may alert on overspend, up to 10× the limit).
pub const MAX_THRESHOLD: i64 = 1000;
/// Default thresholds.
pub const DEFAULT_THRESHOLDS: [i64; 3] = [50, 80, 100];

/// The body of `POST /v1/budgets` (name, period and limit_credits required) and of
/// `PATCH /v1/budgets/{id}` (only the fields given change).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetBody {
    /// Display name (1–200 characters).
    pub name: Option<String>,
    /// Only this team's credits; null: the whole organization.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub team_id: Option<Option<String>>,
    /// `month` (calendar months) or `billing_period`, in the organization's zone.
    pub period: Option<String>,
    /// The limit in credits (> 0).
    pub limit_credits: Option<f64>,
    /// Percent of the limit that alert: integers 1–1000, at most 10 (default 50, 80, 100).
    pub thresholds: Option<Vec<i64>>,
    /// Who is told (default: the admins by email).
    pub notify: Option<Notify>,
}

/// `Some(None)` for an explicit null, so PATCH can clear a field.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn bad(param: &str, message: impl Into<String>) -> BudgetError {
    BudgetError::Input {
        param: param.into(),
        message: message.into(),
    }
}

/// A new budget from a `POST` body.
pub async fn create(
    store: &Store,
    org: &Org,
    body: BudgetBody,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<Budget, BudgetError> {
    if body.name.is_none() {
        return Err(bad("name", "required"));
    }
    if body.period.is_none() {
        return Err(bad("period", "required; allowed: month, billing_period"));
    }
    if body.limit_credits.is_none() {
        return Err(bad("limit_credits", "required: a number of credits > 0"));
    }
    let blank = Budget {
        id: super::repo::new_id(),
        org_id: org.id.clone(),
        name: String::new(),
        team_id: None,
        period: BudgetPeriod::Month,
        limit_micros: 0,
        thresholds: DEFAULT_THRESHOLDS.to_vec(),
        notify: Notify::default(),
        created_by: created_by.to_string(),
        created_at: now,
        updated_at: now,
    };
    apply(store, org, blank, body, now).await
}

/// `b` with the fields of `body` applied and checked.
pub async fn apply(
    store: &Store,
    org: &Org,
    mut b: Budget,
    body: BudgetBody,
    now: DateTime<Utc>,
) -> Result<Budget, BudgetError> {
    if let Some(name) = body.name {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(bad("name", "must be 1–200 characters"));
        }
        b.name = name;
    }
    if let Some(p) = body.period {
        b.period = BudgetPeriod::parse(&p).ok_or_else(|| {
            bad(
                "period",
                format!("`{p}` is not a period; allowed: month, billing_period"),
            )
        })?;
    }
    if let Some(limit) = body.limit_credits {
        if !limit.is_finite() || limit <= 0.0 || limit > 1e12 {
            return Err(bad(
                "limit_credits",
                format!("`{limit}` is not allowed; a number of credits > 0 and ≤ 10^12"),
            ));
        }
        b.limit_micros = (limit * 1e6).round() as i64;
    }
    if let Some(t) = body.thresholds {
        b.thresholds = thresholds(t)?;
    }
    if let Some(team) = body.team_id {
        if let Some(t) = &team {
            team_exists(store, &org.id, t).await?;
        }
        b.team_id = team;
    }
    if let Some(n) = body.notify {
        if let Some(s) = &n.secret_id {
            http_secret(store, &org.id, s).await?;
        }
        b.notify = n;
    }
    b.updated_at = now;
    Ok(b)
}

fn thresholds(mut t: Vec<i64>) -> Result<Vec<i64>, BudgetError> {
    if t.is_empty() || t.len() > MAX_THRESHOLDS {
        return Err(bad(
            "thresholds",
            format!("give 1–{MAX_THRESHOLDS} percentages, e.g. [50, 80, 100]"),
        ));
    }
    if let Some(x) = t.iter().find(|x| !(1..=MAX_THRESHOLD).contains(*x)) {
        return Err(bad(
            "thresholds",
            format!(
                "`{x}` is out of range; allowed: integers 1–{MAX_THRESHOLD} (percent of the limit)"
            ),
        ));
    }
    t.sort_unstable();
    if t.windows(2).any(|w| w[0] == w[1]) {
        return Err(bad("thresholds", "a percentage is repeated"));
    }
    Ok(t)
}

async fn team_exists(store: &Store, org: &str, team: &str) -> Result<(), BudgetError> {
    let rows = store
        .query(
            "SELECT id FROM teams WHERE org_id = ? AND id = ?",
            &[org.into(), team.into()],
            &[crate::domain::FieldType::Text],
        )
        .await?;
    if rows.is_empty() {
        return Err(BudgetError::NotFound(format!(
            "invalid `team_id`: team `{team}` not found in this organization"
        )));
    }
    Ok(())
}

async fn http_secret(store: &Store, org: &str, id: &str) -> Result<(), BudgetError> {
    match crate::drain::secrets::get(store, org, id).await? {
        None => Err(BudgetError::NotFound(format!(
            "invalid `notify.secret_id`: secret `{id}` not found in this organization"
        ))),
        Some(s) if s.kind != "http" => Err(bad(
            "notify.secret_id",
            format!("secret `{id}` is of kind {}; alerts need kind http", s.kind),
        )),
        Some(_) => Ok(()),
    }
}

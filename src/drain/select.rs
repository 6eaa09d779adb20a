//! Turns stored records into drained records: the drain's filters (teams, entities, category,
//! role, event types, child runs, `start_ts`), then its fields plus the type's time field, with
//! the organization's privacy setting applied — the same masking exports use.

use super::batch::DrainRecord;
use super::model::{Drain, DrainScope};
use crate::domain::catalog::{FieldDef, TypeSpec};
use crate::domain::{DataType, catalog};
use crate::export::query::privacy_team_field;
use crate::privacy::PrivacyPolicy;
use crate::store::{Store, StoreError, StoredRecord, Value};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// The filters and projection of one drain, ready to apply to records of its type.
pub struct Selector {
    spec: &'static TypeSpec,
    scope: DrainScope,
    start_ts: Option<DateTime<Utc>>,
    /// Output columns: (field id, index in the stored record).
    columns: Vec<(&'static FieldDef, usize)>,
    time: usize,
    team: Option<usize>,
    privacy_team: Option<usize>,
    entity: Option<usize>,
    personal_teams: HashSet<String>,
    privacy: Option<PrivacyPolicy>,
}

fn index(spec: &TypeSpec, id: &str) -> Option<usize> {
    spec.fields.iter().position(|f| f.id == id)
}

impl Selector {
    /// The selector of `drain`, loading what its filters need (personal spaces, privacy).
    pub async fn load(store: &Store, drain: &Drain) -> Result<Selector, StoreError> {
        let personal_teams = if !drain.scope.teams.is_everything() {
            store
                .query(
                    "SELECT id FROM teams WHERE org_id = ? AND personal = ?",
                    &[drain.org_id.as_str().into(), Value::Bool(true)],
                    &[crate::domain::FieldType::Text],
                )
                .await?
                .into_iter()
                .filter_map(|r| r[0].as_text().map(str::to_string))
                .collect()
        } else {
            HashSet::new()
        };
        let privacy = PrivacyPolicy::load(store, &drain.org_id).await?;
        Ok(Selector::new(
            drain.data_type,
            drain.scope.clone(),
            drain.start_ts,
            personal_teams,
            privacy,
        ))
    }

    /// A selector from its parts.
    pub fn new(
        data_type: DataType,
        scope: DrainScope,
        start_ts: Option<DateTime<Utc>>,
        personal_teams: HashSet<String>,
        privacy: Option<PrivacyPolicy>,
    ) -> Selector {
        let spec = catalog::spec(data_type);
        let mut columns: Vec<(&'static FieldDef, usize)> = scope
            .fields
            .iter()
            .filter_map(|f| index(spec, f).map(|i| (&spec.fields[i], i)))
            .collect();
        let time = index(spec, spec.time_field).expect("time field in catalog");
        if !columns.iter().any(|(_, i)| *i == time) {
            columns.push((&spec.fields[time], time));
        }
        Selector {
            spec,
            team: spec.team_field.and_then(|t| index(spec, t)),
            privacy_team: privacy_team_field(spec).and_then(|t| index(spec, t)),
            entity: spec.entity_field.and_then(|e| index(spec, e)),
            scope,
            start_ts,
            columns,
            time,
            personal_teams,
            privacy: privacy.filter(|p| !p.all_visible()),
        }
    }

    /// The catalog fields this selector reads: its output columns and whatever its filters
    /// and the privacy setting look at.
    pub fn wanted(&self) -> Vec<bool> {
        let mut w = vec![false; self.spec.fields.len()];
        let mut mark = |i: Option<usize>| {
            if let Some(i) = i {
                w[i] = true;
            }
        };
        for (_, i) in &self.columns {
            mark(Some(*i));
        }
        mark(Some(self.time));
        mark(self.team);
        mark(self.privacy_team);
        mark(self.entity);
        for f in [
            "category",
            "permission_group_id",
            "permission_group_name",
            "event_type",
            "parent_run_id",
        ] {
            mark(index(self.spec, f));
        }
        w
    }

    fn text<'a>(&self, r: &'a StoredRecord, i: Option<usize>) -> Option<&'a str> {
        i.and_then(|i| r.values[i].as_text())
    }

    /// Whether the drain carries `r`.
    pub fn matches(&self, r: &StoredRecord) -> bool {
        let s = &self.scope;
        if let Some(start) = self.start_ts
            && r.values[self.time]
                .as_timestamp()
                .is_some_and(|t| t < start)
        {
            return false;
        }
        if self.team.is_some() && !s.teams.is_everything() {
            let team = self.text(r, self.team).unwrap_or_default();
            let listed = s.teams.ids.iter().any(|t| t == team);
            let in_personal = self.personal_teams.contains(team);
            let by_kind = if in_personal {
                s.teams.personal
            } else {
                s.teams.org_teams
            };
            if !listed && !by_kind {
                return false;
            }
        }
        if !s.entity_ids.is_empty() && self.entity.is_some() {
            let entity = self.text(r, self.entity).unwrap_or_default();
            if !s.entity_ids.iter().any(|e| e == entity) {
                return false;
            }
        }
        if let Some(category) = &s.category
            && self.text(r, index(self.spec, "category")) != Some(category.as_str())
        {
            return false;
        }
        if let Some(role) = &s.permission_group {
            let has = |field: &str| {
                self.text(r, index(self.spec, field))
                    .is_some_and(|v| v.split("; ").any(|x| x == role))
            };
            if !has("permission_group_id") && !has("permission_group_name") {
                return false;
            }
        }
        if !s.event_types.is_empty() {
            let ev = self
                .text(r, index(self.spec, "event_type"))
                .unwrap_or_default();
            if !s.event_types.iter().any(|e| e == ev) {
                return false;
            }
        }
        if s.hide_child_runs
            && self.spec.data_type == DataType::Workflows
            && self
                .text(r, index(self.spec, "parent_run_id"))
                .is_some_and(|p| !p.is_empty())
        {
            return false;
        }
        true
    }

    /// The record's time.
    pub fn time(&self, r: &StoredRecord) -> DateTime<Utc> {
        r.values[self.time].as_timestamp().unwrap_or_default()
    }

    /// The drained form of `r` (call after [`matches`](Self::matches)).
    pub fn project(&self, r: &StoredRecord) -> DrainRecord {
        let mut values: Vec<Value> = self
            .columns
            .iter()
            .map(|(_, i)| r.values[*i].clone())
            .collect();
        if let Some(p) = &self.privacy {
            let defs: Vec<&FieldDef> = self.columns.iter().map(|(d, _)| *d).collect();
            p.apply(&defs, self.text(r, self.privacy_team), &mut values);
        }
        let fields = self
            .columns
            .iter()
            .zip(values)
            .map(|((d, _), v)| (d.id.to_string(), v.to_json()))
            .collect();
        DrainRecord {
            time: self.time(r),
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::spec::TeamScope;

    fn record(spec: &TypeSpec, set: &[(&str, Value)]) -> StoredRecord {
        let mut values = vec![Value::Null; spec.fields.len()];
        for (k, v) in set {
            values[index(spec, k).unwrap()] = v.clone();
        }
        StoredRecord { pos: 1, values }
    }

    fn scope(fields: &[&str]) -> DrainScope {
        DrainScope {
            fields: fields.iter().map(|s| s.to_string()).collect(),
            teams: TeamScope::everything(),
            entity_ids: vec![],
            category: None,
            permission_group: None,
            event_types: vec![],
            hide_child_runs: false,
        }
    }

    #[test]
    fn filters_and_projection() {
        let spec = catalog::spec(DataType::Workflows);
        let t = chrono::Utc::now();
        let mut s = scope(&["run_id", "user_email"]);
        s.teams = TeamScope {
            org_teams: false,
            personal: true,
            ids: vec!["eng".into()],
        };
        s.hide_child_runs = true;
        let sel = Selector::new(
            DataType::Workflows,
            s,
            None,
            HashSet::from(["me".to_string()]),
            None,
        );
        let ok = record(
            spec,
            &[
                ("run_id", "r1".into()),
                ("workspace_id", "eng".into()),
                ("user_email", "ada@x".into()),
                ("pl_run_created_ts", t.into()),
            ],
        );
        assert!(sel.matches(&ok));
        let out = sel.project(&ok);
        assert_eq!(
            out.fields.keys().collect::<Vec<_>>(),
            ["run_id", "user_email", "pl_run_created_ts"],
            "selected fields in order, then the time field"
        );
        assert_eq!(out.time, t);
        let personal = record(spec, &[("workspace_id", "me".into())]);
        assert!(sel.matches(&personal));
        let other = record(spec, &[("workspace_id", "ops".into())]);
        assert!(!sel.matches(&other));
        let mut org = scope(&["run_id"]);
        org.teams = TeamScope {
            org_teams: true,
            ..TeamScope::default()
        };
        let org = Selector::new(
            DataType::Workflows,
            org,
            None,
            HashSet::from(["me".to_string()]),
            None,
        );
        assert!(org.matches(&other), "organization teams: any team");
        assert!(!org.matches(&personal), "but no personal space");
        let child = record(
            spec,
            &[
                ("workspace_id", "eng".into()),
                ("parent_run_id", "r0".into()),
            ],
        );
        assert!(!sel.matches(&child));
    }
}

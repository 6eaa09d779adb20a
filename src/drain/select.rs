//! Turns stored records into drained records: the drain's filters (teams, entities, category,
//! role, event types, child runs, `start_ts`), then its fields plus the type's time field, with
//! the organization's privacy setting applied — the same masking exports use.
//!
//! The live path selects from row blocks ([`Rows`]) and writes each record's JSON object
//! straight from the cells ([`Selector::select_rows`]): keys escaped once, strings borrowed
//! from the block, timestamps by the export encoders' writer — no `Value` or
//! `serde_json::Value` per field. The bytes are exactly those of the map of
//! [`Selector::project`] written by `serde_json` (JSON fields aside, which keep their floats
//! exact, see `export::encode::cell::push_json_compact`).

use super::batch::DrainRecord;
use super::model::{Drain, DrainScope};
use super::rows::{RowRef, Rows};
use crate::domain::catalog::{FieldDef, TypeSpec};
use crate::domain::entity::Privacy;
use crate::domain::{DataType, catalog};
use crate::export::encode::cell::{TimestampWriter, push_json_compact};
use crate::export::query::privacy_team_field;
use crate::privacy::PrivacyPolicy;
use crate::store::{CellRef, Store, StoreError, StoredRecord, Value};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// What the filters read of a record: text and instants by catalog field index. Stored
/// records (replays, reconciliation) and block rows (the live path) both answer.
pub trait Fields {
    /// The text of field `i`, if it is text.
    fn text(&self, i: usize) -> Option<&str>;
    /// The instant of field `i`, if it is one.
    fn instant(&self, i: usize) -> Option<DateTime<Utc>>;
}

impl<T: Fields + ?Sized> Fields for &T {
    fn text(&self, i: usize) -> Option<&str> {
        (**self).text(i)
    }

    fn instant(&self, i: usize) -> Option<DateTime<Utc>> {
        (**self).instant(i)
    }
}

impl Fields for StoredRecord {
    fn text(&self, i: usize) -> Option<&str> {
        self.values[i].as_text()
    }

    fn instant(&self, i: usize) -> Option<DateTime<Utc>> {
        self.values[i].as_timestamp()
    }
}

impl Fields for RowRef<'_> {
    fn text(&self, i: usize) -> Option<&str> {
        self.cell(i).as_text()
    }

    fn instant(&self, i: usize) -> Option<DateTime<Utc>> {
        match self.cell(i) {
            CellRef::Timestamp(us) => DateTime::from_timestamp_micros(us),
            _ => None,
        }
    }
}

/// The filters and projection of one drain, ready to apply to records of its type.
pub struct Selector {
    spec: &'static TypeSpec,
    scope: DrainScope,
    start_ts: Option<DateTime<Utc>>,
    /// Output columns: (field id, index in the stored record).
    columns: Vec<(&'static FieldDef, usize)>,
    /// Each output column's JSON key with its `:` (and the `,` before it, bar the first).
    keys: Vec<Vec<u8>>,
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
        let mut columns: Vec<(&'static FieldDef, usize)> = Vec::new();
        for i in scope.fields.iter().filter_map(|f| index(spec, f)) {
            // A field named twice is written once, where a map would keep it: first.
            if !columns.iter().any(|(_, c)| *c == i) {
                columns.push((&spec.fields[i], i));
            }
        }
        let time = index(spec, spec.time_field).expect("time field in catalog");
        if !columns.iter().any(|(_, i)| *i == time) {
            columns.push((&spec.fields[time], time));
        }
        let keys = columns
            .iter()
            .enumerate()
            .map(|(n, (d, _))| {
                let mut key = if n > 0 { b",".to_vec() } else { vec![] };
                serde_json::to_writer(&mut key, d.id).expect("a string serializes");
                key.push(b':');
                key
            })
            .collect();
        Selector {
            keys,
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

    fn text<'a, R: Fields>(&self, r: &'a R, i: Option<usize>) -> Option<&'a str> {
        i.and_then(|i| r.text(i))
    }

    /// Whether the drain carries `r`.
    pub fn matches<R: Fields>(&self, r: &R) -> bool {
        let s = &self.scope;
        if let Some(start) = self.start_ts
            && r.instant(self.time).is_some_and(|t| t < start)
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
    pub fn time<R: Fields>(&self, r: &R) -> DateTime<Utc> {
        r.instant(self.time).unwrap_or_default()
    }

    /// The oldest time of all `rows`, filtered or not (what a drain's lag counts from).
    pub fn oldest(&self, rows: &Rows) -> Option<DateTime<Utc>> {
        rows.iter().map(|r| self.time(&r)).min()
    }

    /// The drained form of every row the drain carries, in order: [`matches`](Self::matches)
    /// then [`project`](Self::project), written straight from the cells.
    pub fn select_rows(&self, rows: &Rows) -> Vec<DrainRecord> {
        let mut timestamps = TimestampWriter::new(None);
        let mut out = Vec::with_capacity(256);
        rows.iter()
            .filter(|r| self.matches(r))
            .map(|r| {
                out.clear();
                self.write_json(&r, &mut timestamps, &mut out);
                DrainRecord {
                    time: self.time(&r),
                    json: String::from_utf8(out.clone())
                        .expect("JSON written from text is UTF-8")
                        .into_boxed_str(),
                }
            })
            .collect()
    }

    /// Writes the record's fields as one compact JSON object, privacy applied as
    /// [`PrivacyPolicy::apply`] does it.
    fn write_json(&self, r: &RowRef<'_>, timestamps: &mut TimestampWriter, out: &mut Vec<u8>) {
        let privacy = self
            .privacy
            .as_ref()
            .map(|p| (p, p.for_team(self.text(r, self.privacy_team))))
            .filter(|(_, privacy)| *privacy != Privacy::Visible);
        out.push(b'{');
        for ((def, i), key) in self.columns.iter().zip(&self.keys) {
            out.extend_from_slice(key);
            let cell = r.cell(*i);
            if let Some((policy, privacy)) = privacy
                && def.personal
            {
                match (privacy, cell) {
                    (_, CellRef::Null) => {}
                    (Privacy::Pseudonymized, CellRef::Text(s)) => {
                        json_string(out, &policy.pseudonym(s));
                        continue;
                    }
                    _ => {
                        out.extend_from_slice(b"null");
                        continue;
                    }
                }
            }
            write_cell(out, cell, timestamps);
        }
        out.push(b'}');
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
        DrainRecord::new(self.time(r), &fields)
    }
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("a string serializes");
}

/// One cell as `serde_json` writes the value `CellRef::to_value(…).to_json()` gives it.
fn write_cell(out: &mut Vec<u8>, cell: CellRef<'_>, timestamps: &mut TimestampWriter) {
    match cell {
        CellRef::Null => out.extend_from_slice(b"null"),
        CellRef::Text(s) => json_string(out, s),
        // serde_json writes non-finite floats as `null`, as `Number::from_f64` makes them.
        CellRef::Number(n) => serde_json::to_writer(&mut *out, &n).expect("a float serializes"),
        CellRef::Integer(i) => serde_json::to_writer(&mut *out, &i).expect("an integer serializes"),
        CellRef::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        CellRef::Timestamp(us) => {
            if DateTime::<Utc>::from_timestamp_micros(us).is_some() {
                out.push(b'"');
                timestamps.push(out, us);
                out.push(b'"');
            } else {
                out.extend_from_slice(b"null");
            }
        }
        CellRef::Json(text) => {
            let start = out.len();
            if push_json_compact(out, text).is_err() {
                // Readers hand over valid JSON; should one not, it travels as a string.
                out.truncate(start);
                json_string(out, text);
            }
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
            out.fields().keys().cloned().collect::<Vec<_>>(),
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

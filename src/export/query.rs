//! The SQL that selects an export's rows: one organization, a time range, the chosen teams,
//! entities and filters, in time order. Written once with `?` placeholders for both backends;
//! the `(org_id, time)` and `(org_id, team, time)` indexes serve it.

use super::spec::ExportSpec;
use crate::domain::{DataType, FieldType, TypeSpec};
use crate::store::{StreamQuery, TimeSplit, Value};

/// An export's statement, ready for [`crate::store::Store::stream`], and where its privacy
/// team column is.
#[derive(Debug, Clone)]
pub struct ExportQuery {
    /// The statement. Its columns are the selected fields, then the privacy team column when
    /// present; its split says that rows are ordered by the time field first and that
    /// parameters 1 and 2 bound it. `streams` is 1: the caller sets its own.
    pub stream: StreamQuery,
    /// Index of the trailing team column used for per-team privacy, when selected.
    pub team_column: Option<usize>,
}

/// The column whose team decides a row's privacy setting (docs/spec.md §6): the type's team field,
/// else a `workspace_id`/`project_id` column when the type has one.
pub fn privacy_team_field(spec: &TypeSpec) -> Option<&'static str> {
    spec.team_field.or_else(|| {
        ["workspace_id", "project_id"]
            .into_iter()
            .find(|f| spec.field(f).is_some())
    })
}

/// Builds the query of `spec`; `with_team` appends the privacy team column.
pub fn build(spec: &ExportSpec, with_team: bool) -> ExportQuery {
    let ts = spec.type_spec();
    let mut types = spec.field_types();
    let mut cols: Vec<String> = spec.fields.iter().map(|f| quote(f)).collect();
    let team_column = match (with_team, privacy_team_field(ts)) {
        (true, Some(team)) => {
            cols.push(quote(team));
            types.push(FieldType::Text);
            Some(cols.len() - 1)
        }
        _ => None,
    };
    let time = quote(ts.time_field);
    let mut sql = format!(
        "SELECT {} FROM {} WHERE org_id = ? AND {time} >= ? AND {time} < ?",
        cols.join(", "),
        ts.table
    );
    let mut params: Vec<Value> = vec![
        spec.org_id.as_str().into(),
        Value::Timestamp(spec.start),
        Value::Timestamp(spec.end),
    ];

    if let Some(team) = ts.team_field.filter(|_| !spec.teams.is_everything()) {
        let team = quote(team);
        let personal_spaces = "SELECT id FROM teams WHERE org_id = ? AND personal = ?";
        let mut alternatives = Vec::new();
        if !spec.teams.ids.is_empty() {
            alternatives.push(format!("{team} IN ({})", marks(spec.teams.ids.len())));
            params.extend(spec.teams.ids.iter().map(|t| Value::Text(t.clone())));
        }
        if spec.teams.personal {
            alternatives.push(format!("{team} IN ({personal_spaces})"));
        } else if spec.teams.org_teams {
            // Every organization team: whatever is not a personal space (a record without a
            // team is in none).
            alternatives.push(format!(
                "({team} IS NULL OR {team} NOT IN ({personal_spaces}))"
            ));
        }
        if spec.teams.personal || spec.teams.org_teams {
            params.push(spec.org_id.as_str().into());
            params.push(Value::Bool(true));
        }
        // No alternative at all selects nothing (validation never produces that scope).
        if alternatives.is_empty() {
            alternatives.push("1 = 0".into());
        }
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    if let Some(entity) = ts.entity_field.filter(|_| !spec.entity_ids.is_empty()) {
        sql.push_str(&format!(
            " AND {} IN ({})",
            quote(entity),
            marks(spec.entity_ids.len())
        ));
        params.extend(spec.entity_ids.iter().map(|e| Value::Text(e.clone())));
    }
    if let Some(user) = &spec.personal_user {
        let (column, value) = match spec.data_type {
            DataType::Agents => ("creator_email", &user.email),
            _ => ("user_id", &user.id),
        };
        sql.push_str(&format!(" AND {} = ?", quote(column)));
        params.push(Value::Text(value.clone()));
    }
    if let Some(category) = &spec.category {
        sql.push_str(" AND \"category\" = ?");
        params.push(Value::Text(category.clone()));
    }
    if let Some(role) = &spec.permission_group {
        // Roles are stored joined with "; "; match one whole element, by id or by name.
        sql.push_str(&format!(
            " AND ({} OR {})",
            ROLE_ELEMENT.replace("{col}", "\"permission_group_id\""),
            ROLE_ELEMENT.replace("{col}", "\"permission_group_name\"")
        ));
        let element = role_element(role);
        params.push(Value::Text(element.clone()));
        params.push(Value::Text(element));
    }
    if !spec.event_types.is_empty() {
        sql.push_str(&format!(
            " AND \"event_type\" IN ({})",
            marks(spec.event_types.len())
        ));
        params.extend(spec.event_types.iter().map(|e| Value::Text(e.clone())));
    }
    sql.push_str(&format!(" ORDER BY {time}, {}", quote(ts.id_field)));
    let split = TimeSplit {
        bounds_sql: format!(
            "SELECT MIN({time}), MAX({time}) FROM {} WHERE org_id = ? AND {time} >= ? AND {time} < ?",
            ts.table
        ),
        bounds_params: params[..3].to_vec(),
        start_param: 1,
        end_param: 2,
    };
    ExportQuery {
        stream: StreamQuery {
            sql,
            params,
            types,
            split: Some(split),
            streams: 1,
        },
        team_column,
    }
}

/// Counts the rows `spec` would export (reports and progress estimates).
pub fn count(spec: &ExportSpec) -> (String, Vec<Value>) {
    let q = build(spec, false).stream;
    let from = q.sql.find(" FROM ").unwrap_or(0);
    let order = q.sql.rfind(" ORDER BY ").unwrap_or(q.sql.len());
    (format!("SELECT COUNT(*){}", &q.sql[from..order]), q.params)
}

/// A double-quoted identifier. Field ids come from the catalog, never from requests
/// unchecked, but quoting also keeps names like `type` from clashing with keywords.
fn quote(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "\"\""))
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// True when `{col}` (elements joined with "; ") holds the bound `"; element; "` exactly.
/// `replace` compares case-sensitively on both backends, where `LIKE` does not: SQLite's
/// ignores ASCII case and PostgreSQL's does not, so one backend accepted a role in another
/// case that the other refused. Drains compare the same way (`drain/select.rs`).
pub(crate) const ROLE_ELEMENT: &str =
    "replace('; ' || {col} || '; ', ?, '') <> ('; ' || {col} || '; ')";

/// The bound value of [`ROLE_ELEMENT`] for `role`.
pub(crate) fn role_element(role: &str) -> String {
    format!("; {role}; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::spec::TeamScope;
    use chrono::{TimeZone, Utc};

    fn spec(data_type: DataType, fields: &[&str]) -> ExportSpec {
        ExportSpec {
            org_id: "acme".into(),
            data_type,
            start: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
            timezone: "UTC".into(),
            preset: None,
            teams: TeamScope {
                org_teams: false,
                personal: true,
                ids: vec!["eng".into(), "ops".into()],
            },
            entity_ids: vec![],
            personal_user: None,
            category: None,
            permission_group: None,
            event_types: vec![],
            fields: fields.iter().map(|f| f.to_string()).collect(),
            format: "csv".into(),
            gzip: false,
            neutralise_formulas: true,
            local_timestamps: false,
        }
    }

    #[test]
    fn team_scope_and_privacy_column() {
        let q = build(&spec(DataType::Workflows, &["run_id", "user_email"]), true);
        assert!(q.stream.sql.contains("\"workspace_id\" IN (?, ?) OR \"workspace_id\" IN (SELECT id FROM teams WHERE org_id = ? AND personal = ?)"), "{}", q.stream.sql);
        assert_eq!(q.team_column, Some(2));
        assert_eq!(q.stream.types.len(), 3);
        assert_eq!(q.stream.params.len(), 3 + 2 + 2);
        assert!(
            q.stream
                .sql
                .ends_with("ORDER BY \"pl_run_created_ts\", \"run_id\"")
        );
    }

    #[test]
    fn organization_teams_leave_personal_spaces_out() {
        let mut s = spec(DataType::Workflows, &["run_id"]);
        s.teams = TeamScope {
            org_teams: true,
            ..TeamScope::default()
        };
        let q = build(&s, false);
        assert!(
            q.stream.sql.contains("(\"workspace_id\" IS NULL OR \"workspace_id\" NOT IN (SELECT id FROM teams WHERE org_id = ? AND personal = ?))"),
            "{}",
            q.stream.sql
        );
        s.teams = TeamScope::everything();
        assert!(!build(&s, false).stream.sql.contains("teams"));
    }

    #[test]
    fn org_wide_types_ignore_teams_and_roles_match_whole_elements_literally() {
        let mut s = spec(DataType::CreditLogs, &["log_id", "type"]);
        s.permission_group = Some("role_a%".into());
        let q = build(&s, false);
        assert!(!q.stream.sql.contains("teams"));
        assert!(q.stream.sql.contains("\"type\""));
        // No LIKE: wildcards in a role are plain characters, and case counts on both backends.
        assert!(!q.stream.sql.contains("LIKE"), "{}", q.stream.sql);
        assert!(q.stream.params.contains(&Value::Text("; role_a%; ".into())));
        let (count_sql, _) = count(&s);
        assert!(count_sql.starts_with("SELECT COUNT(*) FROM credit_logs WHERE"));
        assert!(!count_sql.contains("ORDER BY"));
    }
}

//! Rows decoded by column name. A query's columns are declared once, as a [`Columns`] list
//! of (SQL expression, name, type): the SELECT list is rendered from it and each row comes back
//! as a [`NamedRow`] read by name, so adding or reordering a column cannot shift another, and
//! a value that must be present is an error when it is not (never a silent `""`).

use super::{Store, StoreError, StoreResult, Value};
use crate::domain::catalog::FieldType;
use chrono::{DateTime, Utc};

/// One selected column: the SQL expression, the name it is read by, its decoded type.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// SQL expression (a column name or any expression valid in the query).
    pub expr: &'static str,
    /// Name the row is read by (`AS` alias in the rendered SELECT list).
    pub name: &'static str,
    /// Decoded type.
    pub ty: FieldType,
}

/// A column read under its own name: `col("status", FieldType::Text)`.
pub const fn col(name: &'static str, ty: FieldType) -> Column {
    Column {
        expr: name,
        name,
        ty,
    }
}

/// A computed column: `expr("COUNT(*)", "runs", FieldType::Integer)`.
pub const fn expr(expr: &'static str, name: &'static str, ty: FieldType) -> Column {
    Column { expr, name, ty }
}

/// The columns of one query, in SELECT order.
#[derive(Debug, Clone, Copy)]
pub struct Columns(pub &'static [Column]);

impl Columns {
    /// The SELECT list: `expr AS "name"` for computed columns, the bare name otherwise.
    pub fn select_list(&self) -> String {
        self.0
            .iter()
            .map(|c| {
                if c.expr == c.name {
                    quote(c.name)
                } else {
                    format!("{} AS {}", c.expr, quote(c.name))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The decode types, in SELECT order.
    pub fn types(&self) -> Vec<FieldType> {
        self.0.iter().map(|c| c.ty).collect()
    }

    /// Pairs each decoded row with these columns' names.
    pub fn rows(&self, rows: Vec<Vec<Value>>, what: &'static str) -> Vec<NamedRow> {
        rows.into_iter()
            .map(|values| NamedRow {
                columns: self.0,
                values,
                what,
            })
            .collect()
    }
}

/// Names that are SQL keywords or carry capitals need quotes; plain ones read better bare.
fn quote(name: &str) -> String {
    const RESERVED: &[&str] = &["timestamp", "type", "name", "status", "position", "user"];
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain && !RESERVED.contains(&name) {
        name.to_string()
    } else {
        format!("\"{name}\"")
    }
}

/// One row, read by column name. Each accessor takes the value out (reading it twice is a
/// bug and answers `Corrupt`), so large text is moved, not copied.
#[derive(Debug)]
pub struct NamedRow {
    columns: &'static [Column],
    values: Vec<Value>,
    what: &'static str,
}

impl NamedRow {
    fn corrupt(&self, name: &str, problem: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{} {name}: {problem}", self.what))
    }

    /// A value that must be present: `Corrupt` naming the column when it is not.
    fn present<T>(&self, name: &str, value: Option<T>) -> StoreResult<T> {
        value.ok_or_else(|| self.corrupt(name, "missing"))
    }

    /// Takes a column's value (`Null` when the database returned NULL).
    pub fn take(&mut self, name: &str) -> StoreResult<Value> {
        let i = self
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| self.corrupt(name, "no such column in the query"))?;
        let v = self
            .values
            .get_mut(i)
            .ok_or_else(|| StoreError::Corrupt(format!("{} {name}: row too short", self.what)))?;
        Ok(std::mem::replace(v, Value::Null))
    }

    /// Text that may be NULL.
    pub fn opt_text(&mut self, name: &str) -> StoreResult<Option<String>> {
        match self.take(name)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s)),
            other => Err(self.corrupt(name, format!("expected text, found {other:?}"))),
        }
    }

    /// Text that must be present.
    pub fn text(&mut self, name: &str) -> StoreResult<String> {
        let value = self.opt_text(name)?;
        self.present(name, value)
    }

    /// An integer that may be NULL.
    pub fn opt_i64(&mut self, name: &str) -> StoreResult<Option<i64>> {
        match self.take(name)? {
            Value::Null => Ok(None),
            v => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.corrupt(name, format!("expected an integer, found {v:?}"))),
        }
    }

    /// An integer that must be present.
    pub fn i64(&mut self, name: &str) -> StoreResult<i64> {
        let value = self.opt_i64(name)?;
        self.present(name, value)
    }

    /// A number that may be NULL (integers widen).
    pub fn opt_f64(&mut self, name: &str) -> StoreResult<Option<f64>> {
        match self.take(name)? {
            Value::Null => Ok(None),
            Value::Number(n) => Ok(Some(n)),
            Value::Integer(i) => Ok(Some(i as f64)),
            v => Err(self.corrupt(name, format!("expected a number, found {v:?}"))),
        }
    }

    /// A number that must be present.
    pub fn f64(&mut self, name: &str) -> StoreResult<f64> {
        let value = self.opt_f64(name)?;
        self.present(name, value)
    }

    /// An instant that may be NULL.
    pub fn opt_ts(&mut self, name: &str) -> StoreResult<Option<DateTime<Utc>>> {
        match self.take(name)? {
            Value::Null | Value::NullTimestamp => Ok(None),
            Value::Timestamp(t) => Ok(Some(t)),
            v => Err(self.corrupt(name, format!("expected a timestamp, found {v:?}"))),
        }
    }

    /// An instant that must be present.
    pub fn ts(&mut self, name: &str) -> StoreResult<DateTime<Utc>> {
        let value = self.opt_ts(name)?;
        self.present(name, value)
    }

    /// A boolean that may be NULL.
    pub fn opt_bool(&mut self, name: &str) -> StoreResult<Option<bool>> {
        match self.take(name)? {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(b)),
            v => Err(self.corrupt(name, format!("expected a boolean, found {v:?}"))),
        }
    }

    /// A boolean that must be present.
    pub fn bool(&mut self, name: &str) -> StoreResult<bool> {
        let value = self.opt_bool(name)?;
        self.present(name, value)
    }

    /// A JSON document that may be NULL (SQLite hands JSON back as text).
    pub fn opt_json(&mut self, name: &str) -> StoreResult<Option<serde_json::Value>> {
        match self.take(name)? {
            Value::Null => Ok(None),
            Value::Json(j) => Ok(Some(j)),
            Value::Text(s) => serde_json::from_str(&s)
                .map(Some)
                .map_err(|e| self.corrupt(name, e)),
            v => Err(self.corrupt(name, format!("expected JSON, found {v:?}"))),
        }
    }

    /// A JSON document that must be present.
    pub fn json(&mut self, name: &str) -> StoreResult<serde_json::Value> {
        let value = self.opt_json(name)?;
        self.present(name, value)
    }

    /// A JSON document decoded into `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(&mut self, name: &str) -> StoreResult<T> {
        let j = self.json(name)?;
        serde_json::from_value(j).map_err(|e| self.corrupt(name, e))
    }
}

impl Store {
    /// Runs a read query whose SELECT list is `columns.select_list()` (the caller's SQL puts
    /// it in place of `{columns}`) and returns its rows by name; `what` names the rows in
    /// errors ("drain", "users report").
    pub async fn query_named(
        &self,
        sql: &str,
        params: &[Value],
        columns: Columns,
        what: &'static str,
    ) -> StoreResult<Vec<NamedRow>> {
        let sql = sql.replace("{columns}", &columns.select_list());
        let rows = self.query(&sql, params, &columns.types()).await?;
        Ok(columns.rows(rows, what))
    }

    /// As [`Store::query_named`] for a statement that writes (`UPDATE … RETURNING {columns}`).
    pub async fn query_write_named(
        &self,
        sql: &str,
        params: &[Value],
        columns: Columns,
        what: &'static str,
    ) -> StoreResult<Vec<NamedRow>> {
        let sql = sql.replace("{columns}", &columns.select_list());
        let rows = self.query_write(&sql, params, &columns.types()).await?;
        Ok(columns.rows(rows, what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: Columns = Columns(&[
        col("id", FieldType::Text),
        col("status", FieldType::Text),
        expr("COUNT(*)", "runs", FieldType::Integer),
        col("note", FieldType::Text),
    ]);

    #[test]
    fn the_select_list_quotes_keywords_and_aliases_expressions() {
        assert_eq!(COLS.select_list(), "id, \"status\", COUNT(*) AS runs, note");
    }

    #[test]
    fn rows_read_by_name_and_missing_values_are_errors() {
        let rows = vec![vec![
            Value::Text("a".into()),
            Value::Text("active".into()),
            Value::Integer(3),
            Value::Null,
        ]];
        let mut row = COLS.rows(rows, "drain").pop().unwrap();
        assert_eq!(row.i64("runs").unwrap(), 3);
        assert_eq!(row.text("status").unwrap(), "active");
        assert_eq!(row.opt_text("note").unwrap(), None);
        assert_eq!(row.text("id").unwrap(), "a");
        // Read twice: the value was taken, so it is missing now.
        assert!(matches!(row.text("id"), Err(StoreError::Corrupt(m)) if m == "drain id: missing"));
        assert!(
            matches!(row.text("nope"), Err(StoreError::Corrupt(m)) if m.contains("no such column"))
        );
        let null_id = vec![Value::Null, Value::Integer(1), Value::Null, Value::Null];
        let mut row = COLS.rows(vec![null_id], "drain").pop().unwrap();
        assert!(matches!(row.text("id"), Err(StoreError::Corrupt(m)) if m == "drain id: missing"));
        assert!(
            matches!(row.text("status"), Err(StoreError::Corrupt(m)) if m.contains("expected text"))
        );
    }

    #[test]
    fn query_named_fills_in_the_select_list() {
        // The rendered SQL is what the backends receive; the list is the one decoded.
        let sql = "SELECT {columns} FROM drains".replace("{columns}", &COLS.select_list());
        assert_eq!(
            sql,
            "SELECT id, \"status\", COUNT(*) AS runs, note FROM drains"
        );
    }
}

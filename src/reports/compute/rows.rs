//! Report rows under construction, shared by every report: cells by column id, keyed by
//! (entity id, group value) in insertion order, and the small number rules (rounding, cache
//! split, zeros for unused entities) the reports apply to them.

use crate::store::Value;
use std::collections::{BTreeMap, HashMap};

/// Entity id and group value: the identity of one report row.
pub(super) type Key = (String, Option<String>);

/// One report row under construction: cells by column id, and the team whose privacy
/// setting applies to it (`None`: the organization's).
pub(super) struct Row {
    pub key: Key,
    pub team: Option<String>,
    pub cells: HashMap<&'static str, Value>,
}

impl Row {
    pub fn new(key: Key) -> Row {
        Row {
            key,
            team: None,
            cells: HashMap::new(),
        }
    }

    pub fn set(&mut self, col: &'static str, v: Value) {
        self.cells.insert(col, v);
    }

    /// Sets a column only if nothing set it yet (entity facts win over record copies).
    pub fn set_missing(&mut self, col: &'static str, v: Value) {
        self.cells.entry(col).or_insert(v);
    }

    pub fn int(&self, col: &str) -> i64 {
        self.cells.get(col).and_then(Value::as_i64).unwrap_or(0)
    }

    pub fn num(&self, col: &str) -> f64 {
        match self.cells.get(col) {
            Some(Value::Number(n)) => *n,
            Some(Value::Integer(i)) => *i as f64,
            _ => 0.0,
        }
    }

    /// Sets the key columns: the entity id under `id_col`, and the group value under the
    /// split's column when the report is split.
    pub fn set_key(&mut self, id_col: &'static str, group_col: Option<&'static str>) {
        self.set(id_col, Value::Text(self.key.0.clone()));
        if let Some(g) = group_col {
            self.set(g, Value::opt_text(self.key.1.clone()));
        }
    }
}

/// The rows of a report in insertion order, looked up by key.
#[derive(Default)]
pub(super) struct Rows {
    pub order: Vec<Row>,
    index: HashMap<Key, usize>,
}

impl Rows {
    pub fn entry(&mut self, key: Key) -> &mut Row {
        let i = match self.index.get(&key) {
            Some(i) => *i,
            None => {
                self.order.push(Row::new(key.clone()));
                self.index.insert(key, self.order.len() - 1);
                self.order.len() - 1
            }
        };
        &mut self.order[i]
    }

    pub fn get_mut(&mut self, key: &Key) -> Option<&mut Row> {
        self.index.get(key).map(|i| &mut self.order[*i])
    }
}

pub(super) fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    let y = (x * f).round() / f;
    // Scaling a huge sum can overflow; the sum itself is then the better answer than `inf`.
    if y.is_finite() { y } else { x }
}

/// A sum rounded to `decimals`.
pub(super) fn rounded(x: f64, decimals: i32) -> Value {
    Value::Number(round(x, decimals))
}

/// An average or maximum that is NULL when nothing was averaged, rounded otherwise.
pub(super) fn opt_rounded(x: Option<f64>, decimals: i32) -> Value {
    x.map_or(Value::Null, |x| rounded(x, decimals))
}

pub(super) fn json_map(m: &BTreeMap<String, i64>) -> Value {
    Value::Json(serde_json::Value::Object(
        m.iter().map(|(k, v)| (k.clone(), (*v).into())).collect(),
    ))
}

/// Tokens of input neither read from nor written to the cache (see the `reports` docs).
pub(super) fn no_cache(prompt: i64, cached: i64, creation: i64) -> i64 {
    (prompt - cached - creation).max(0)
}

/// Zeroes for the metric columns a row did not get from any aggregate (an unused entity).
pub(super) fn fill_zeros(
    row: &mut Row,
    ints: &[&'static str],
    nums: &[&'static str],
    maps: &[&'static str],
) {
    for c in ints {
        row.set_missing(c, Value::Integer(0));
    }
    for c in nums {
        row.set_missing(c, Value::Number(0.0));
    }
    for c in maps {
        row.set_missing(c, Value::Json(serde_json::json!({})));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_split_never_negative() {
        assert_eq!(no_cache(1000, 600, 300), 100);
        assert_eq!(no_cache(10, 20, 0), 0);
    }
}

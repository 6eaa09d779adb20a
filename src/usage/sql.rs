//! The SQL of a usage query: one statement per rollup family and **part** of the window.
//!
//! A part is either whole 15-minute slots, read from the rollup table, or an edge of the
//! window that is not a whole slot (a window starting at 10:07, or ending inclusive at a
//! minute), read from the raw records with the very expressions ingest rolls up with
//! (`store/rollups.rs`). The same raw form over the whole window is the benchmark's baseline.
//! Buckets are joined as a small `VALUES` list of `[start, end)` bounds, scanned first so
//! each bucket is one index range over `(org_id, slot)` or `(org_id, time)`.

use super::UsageQuery;
use crate::domain::calendar::Period;
use crate::domain::{DataType, FieldType};
use crate::store::Value;
use crate::store::rollups::{Dialect, Family, SLOT_SECONDS, raw_dim, time_column};
use chrono::{DateTime, Utc};

/// A stretch of the window and where it is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Whole slots `[from, to)` (Unix seconds, multiples of 15 minutes) from the rollups.
    Rollup {
        /// First slot.
        from: i64,
        /// End slot (exclusive).
        to: i64,
    },
    /// `[from, to)` from the raw records.
    Raw {
        /// First instant.
        from: DateTime<Utc>,
        /// First instant after.
        to: DateTime<Utc>,
    },
}

/// Cuts `[from, to)` into whole slots and the raw edges around them; the whole window raw
/// when `raw` is set.
pub fn parts(from: DateTime<Utc>, to: DateTime<Utc>, raw: bool) -> Vec<Part> {
    let slot_us = SLOT_SECONDS * 1_000_000;
    let (f, t) = (from.timestamp_micros(), to.timestamp_micros());
    let lo = f.div_euclid(slot_us) + i64::from(f.rem_euclid(slot_us) != 0);
    let hi = t.div_euclid(slot_us);
    if raw || lo >= hi {
        return if from < to {
            vec![Part::Raw { from, to }]
        } else {
            Vec::new()
        };
    }
    let at = |slot: i64| DateTime::from_timestamp(slot * SLOT_SECONDS, 0).unwrap_or(from);
    let mut out = Vec::new();
    if at(lo) > from {
        out.push(Part::Raw { from, to: at(lo) });
    }
    out.push(Part::Rollup {
        from: lo * SLOT_SECONDS,
        to: hi * SLOT_SECONDS,
    });
    if at(hi) < to {
        out.push(Part::Raw { from: at(hi), to });
    }
    out
}

/// What a statement selects per bucket and group, after the bucket index and group keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// The family's summed measures, in its order.
    Sums,
    /// The latency bin and its count.
    Bins,
    /// The number of distinct members.
    DistinctCount,
    /// The distinct members themselves (to merge across parts).
    Members,
}

/// One statement: SQL, parameters and column types.
pub struct Statement {
    /// SQL with `?` placeholders.
    pub sql: String,
    /// Parameters.
    pub params: Vec<Value>,
    /// Column types of the rows.
    pub types: Vec<FieldType>,
}

/// The statement for `family` over `part`, with buckets `buckets` numbered from `first`,
/// grouped by `groups` (rollup columns). `source` is the raw stream of a raw part.
#[allow(clippy::too_many_arguments)]
pub fn statement(
    d: Dialect,
    org: &str,
    q: &UsageQuery,
    family: &Family,
    source: DataType,
    part: Part,
    buckets: &[(usize, Period)],
    groups: &[&'static str],
    select: Select,
) -> Statement {
    let raw = matches!(part, Part::Raw { .. });
    // A dimension or key column as this part reads it.
    let col = |c: &str| -> String {
        if raw {
            let dim = family
                .dims
                .iter()
                .find(|x| x.col == c)
                .expect("grouped columns are family dimensions");
            format!("COALESCE({}, '')", raw_dim(dim, source))
        } else {
            format!("r.{c}")
        }
    };
    let time = if raw {
        format!("r.{}", time_column(source))
    } else {
        "r.slot".to_string()
    };
    let mut params: Vec<Value> = Vec::new();
    let mut values = Vec::with_capacity(buckets.len());
    for (i, p) in buckets {
        values.push("(?, ?, ?)");
        params.push(Value::Integer(*i as i64));
        if raw {
            params.push(p.start.into());
            params.push(p.end.into());
        } else {
            params.push(Value::Integer(ceil_seconds(p.start)));
            params.push(Value::Integer(ceil_seconds(p.end)));
        }
    }
    let mut select_list = vec!["bk.bi".to_string()];
    let mut types = vec![FieldType::Integer];
    for g in groups {
        select_list.push(col(g));
        types.push(FieldType::Text);
    }
    let mut group_list: Vec<String> = select_list.clone();
    match select {
        Select::Sums => {
            for m in family.measures {
                let expr = if raw {
                    m.raw.sql(d)
                } else {
                    format!("r.{}", m.col)
                };
                select_list.push(format!("CAST(SUM({expr}) AS BIGINT)"));
                types.push(FieldType::Integer);
            }
        }
        Select::Bins => {
            let bin = family.bin.expect("the latency family has bins");
            let expr = if raw {
                bin.raw.sql(d)
            } else {
                "r.bin".to_string()
            };
            select_list.push(expr.clone());
            group_list.push(expr);
            select_list.push(if raw {
                "CAST(COUNT(*) AS BIGINT)".into()
            } else {
                "CAST(SUM(r.n) AS BIGINT)".into()
            });
            types.extend([FieldType::Integer, FieldType::Integer]);
        }
        Select::DistinctCount => {
            select_list.push(format!("COUNT(DISTINCT {})", col("user_id")));
            types.push(FieldType::Integer);
        }
        Select::Members => {
            select_list.push(col("user_id"));
            group_list.push(col("user_id"));
            types.push(FieldType::Text);
        }
    }
    let table = if raw {
        crate::domain::catalog::spec(source).table
    } else {
        family.table
    };
    let mut filter = format!("r.org_id = ? AND {time} >= bk.bs AND {time} < bk.be");
    params.push(org.into());
    match part {
        Part::Rollup { from, to } => {
            filter.push_str(" AND r.slot >= ? AND r.slot < ?");
            params.push(Value::Integer(from));
            params.push(Value::Integer(to));
        }
        Part::Raw { from, to } => {
            filter.push_str(&format!(" AND {time} >= ? AND {time} < ?"));
            params.push(from.into());
            params.push(to.into());
            if let Some(f) = family.raw_filter {
                filter.push_str(&format!(" AND {f}"));
            }
        }
    }
    add_filters(&mut filter, &mut params, org, q, &col, family);
    let sql = format!(
        "WITH bk(bi, bs, be) AS (VALUES {values}) \
         SELECT {select} FROM bk CROSS JOIN {table} r WHERE {filter} GROUP BY {group}",
        values = values.join(", "),
        select = select_list.join(", "),
        group = group_list.join(", "),
    );
    Statement { sql, params, types }
}

/// The request's filters, on the columns this part reads.
fn add_filters(
    filter: &mut String,
    params: &mut Vec<Value>,
    org: &str,
    q: &UsageQuery,
    col: &dyn Fn(&str) -> String,
    family: &Family,
) {
    let mut any_of = |column: &str, ids: &[String]| {
        if ids.is_empty() {
            return;
        }
        filter.push_str(&format!(
            " AND {} IN ({})",
            col(column),
            vec!["?"; ids.len()].join(", ")
        ));
        params.extend(ids.iter().map(|s| Value::from(s.as_str())));
    };
    any_of("team_id", &q.team_ids);
    any_of("user_id", &q.user_ids);
    if let Some(c) = &q.category
        && family.dims.iter().any(|d| d.col == "category")
    {
        filter.push_str(&format!(" AND {} = ?", col("category")));
        params.push(c.as_str().into());
    }
    if !q.include_personal {
        filter.push_str(&format!(
            " AND {} NOT IN (SELECT id FROM teams WHERE org_id = ? AND personal = ?)",
            col("team_id")
        ));
        params.push(org.into());
        params.push(Value::Bool(true));
    }
}

/// Unix seconds of `t`, rounded up: a slot (whole seconds) lies at or after `t` exactly when
/// it lies at or after this.
fn ceil_seconds(t: DateTime<Utc>) -> i64 {
    let us = t.timestamp_micros();
    us.div_euclid(1_000_000) + i64::from(us.rem_euclid(1_000_000) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn aligned_windows_are_all_rollup_and_edges_are_raw() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 3, 29, h, m, 0).unwrap();
        assert_eq!(
            parts(at(0, 0), at(23, 45), false),
            vec![Part::Rollup {
                from: at(0, 0).timestamp(),
                to: at(23, 45).timestamp()
            }]
        );
        let p = parts(at(10, 7), at(12, 8), false);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[0],
            Part::Raw {
                from: at(10, 7),
                to: at(10, 15)
            }
        );
        assert_eq!(
            p[2],
            Part::Raw {
                from: at(12, 0),
                to: at(12, 8)
            }
        );
        assert_eq!(parts(at(10, 1), at(10, 14), false).len(), 1);
        assert_eq!(
            parts(at(0, 0), at(1, 0), true),
            vec![Part::Raw {
                from: at(0, 0),
                to: at(1, 0)
            }]
        );
    }
}

//! The SQL of a usage query: one statement per rollup table (or raw stream) a query reads,
//! over a list of **spans**: stretches of time, each tagged with the bucket it adds to and a
//! sign.
//!
//! Each bucket is [`split`] into the coarsest pieces that tile it exactly: whole UTC hours
//! from the hourly tables (when the query's grouping and filters allow them), the remaining
//! whole 15-minute slots from the 15-minute tables, and edges that are not whole slots (a
//! window starting at 10:07, or ending inclusive at a minute) from the raw records, read with
//! the very expressions ingest rolls up with (`store/rollups.rs`). A local day in
//! Asia/Kathmandu (18:15 to 18:15 UTC) is thus 23 hourly slots and 3 + 1 quarter hours.
//! A bucket of a day or more may instead be read by [`split_days`]: the UTC days between the
//! midnights nearest its ends from the daily tables, plus or minus the edges (a Berlin day is
//! one UTC day, less its last hour or two, plus the day before's); subtracted spans carry
//! sign −1, and the record counts the coarse tables keep tell which groups are left. The raw
//! form over whole buckets is the benchmark's baseline. Spans are joined as a small `VALUES`
//! list of `(bucket, start, end, sign)`, scanned first, so each span is one index range over
//! `(org_id, slot)` or `(org_id, time)`.

use super::UsageQuery;
use crate::domain::{DataType, FieldType};
use crate::store::Value;
use crate::store::rollups::{Dialect, Family, raw_dim, time_column};
use chrono::{DateTime, Utc};

/// A stretch of time `[from, to)` (Unix microseconds) added to bucket `bucket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The bucket's number.
    pub bucket: usize,
    /// First instant, Unix microseconds.
    pub from: i64,
    /// First instant after, Unix microseconds.
    pub to: i64,
    /// 1 to add the span, -1 to subtract it (the edge hours a day read as UTC days has too many).
    pub sign: i64,
}

/// Where a span is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Whole slots of this many seconds, from the rollup table of that granularity.
    Slots(i64),
    /// The raw records.
    Raw,
}

/// Cuts `[from, to)` (Unix microseconds) into whole slots of the coarsest of `grains`
/// (seconds, coarsest first) that fit, the next coarsest around them, and so on; what is left
/// at the edges is raw. The pieces tile `[from, to)` exactly.
pub fn split(from: i64, to: i64, grains: &[i64], out: &mut Vec<(Source, i64, i64)>) {
    if from >= to {
        return;
    }
    let Some((&g, finer)) = grains.split_first() else {
        out.push((Source::Raw, from, to));
        return;
    };
    let us = g * 1_000_000;
    let lo = from.div_euclid(us) * us + if from.rem_euclid(us) != 0 { us } else { 0 };
    let hi = to.div_euclid(us) * us;
    if lo >= hi {
        split(from, to, finer, out);
        return;
    }
    split(from, lo, finer, out);
    out.push((Source::Slots(g), lo, hi));
    split(hi, to, finer, out);
}

/// Cuts `[from, to)` (Unix microseconds) into signed pieces around whole UTC days: the days
/// between the UTC midnights nearest to each end, plus the stretch from `from` to its
/// midnight when `from` is earlier, less it when `from` is later (likewise at `to`); each such
/// edge is cut by [`split`] over `hour_grains`. A local day in Europe/Berlin is then one day
/// row plus and less an hour or two instead of 24 hourly rows, and stays exact: every piece is
/// whole slots or raw. `None` when no whole day lies between the nearest midnights.
pub fn split_days(
    from: i64,
    to: i64,
    day_seconds: i64,
    hour_grains: &[i64],
    out: &mut Vec<(Source, i64, i64, i64)>,
) -> bool {
    let us = day_seconds * 1_000_000;
    let nearest = |t: i64| (t + us / 2).div_euclid(us) * us;
    let (lo, hi) = (nearest(from), nearest(to));
    if lo >= hi || from >= to {
        return false;
    }
    let mut edge = Vec::new();
    let mut signed = |a: i64, b: i64, sign: i64, out: &mut Vec<(Source, i64, i64, i64)>| {
        edge.clear();
        split(a, b, hour_grains, &mut edge);
        out.extend(edge.iter().map(|&(src, f, t)| (src, f, t, sign)));
    };
    out.push((Source::Slots(day_seconds), lo, hi, 1));
    if from < lo {
        signed(from, lo, 1, out);
    } else {
        signed(lo, from, -1, out);
    }
    if to > hi {
        signed(hi, to, 1, out);
    } else {
        signed(to, hi, -1, out);
    }
    true
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

/// The statement reading `spans` of `family`'s metrics from `table` (`None`: the raw records
/// of stream `stream`; else a rollup table with `family`'s measure columns), grouped by
/// bucket and `groups` (rollup columns). With [`Select::Sums`] the last column is the number
/// of records each group has in the bucket (signed spans included), or, from a table that
/// does not count them, its number of rows, which is positive all the same.
#[allow(clippy::too_many_arguments)]
pub fn statement(
    d: Dialect,
    org: &str,
    q: &UsageQuery,
    family: &Family,
    stream: DataType,
    table: Option<&Family>,
    spans: &[Span],
    groups: &[&'static str],
    select: Select,
) -> Statement {
    let raw = table.is_none();
    // A dimension or key column as this part reads it.
    let col = |c: &str| -> String {
        if raw {
            let dim = family
                .dims
                .iter()
                .find(|x| x.col == c)
                .expect("grouped columns are family dimensions");
            format!("COALESCE({}, '')", raw_dim(dim, stream))
        } else {
            format!("r.{c}")
        }
    };
    let time = if raw {
        format!("r.{}", time_column(stream))
    } else {
        "r.slot".to_string()
    };
    let mut params: Vec<Value> = Vec::new();
    let mut values = Vec::with_capacity(spans.len());
    for span in spans {
        values.push("(?, ?, ?, ?)");
        params.push(Value::Integer(span.bucket as i64));
        if raw {
            params.push(instant(span.from).into());
            params.push(instant(span.to).into());
        } else {
            // Slot spans are whole slots: whole seconds.
            params.push(Value::Integer(span.from.div_euclid(1_000_000)));
            params.push(Value::Integer(span.to.div_euclid(1_000_000)));
        }
        params.push(Value::Integer(span.sign));
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
                select_list.push(format!("CAST(SUM(bk.sg * {expr}) AS BIGINT)"));
                types.push(FieldType::Integer);
            }
            select_list.push(match table.and_then(|t| t.count) {
                _ if raw => "CAST(SUM(bk.sg) AS BIGINT)".to_string(),
                Some(n) => format!("CAST(SUM(bk.sg * r.{n}) AS BIGINT)"),
                None => "CAST(COUNT(*) AS BIGINT)".to_string(),
            });
            types.push(FieldType::Integer);
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
    let table = match table {
        None => crate::domain::catalog::spec(stream).table,
        Some(t) => t.table,
    };
    let mut filter = format!("r.org_id = ? AND {time} >= bk.bs AND {time} < bk.be");
    params.push(org.into());
    if raw && let Some(f) = family.raw_filter {
        filter.push_str(&format!(" AND {f}"));
    }
    add_filters(&mut filter, &mut params, org, q, &col, family);
    let sql = format!(
        "WITH bk(bi, bs, be, sg) AS (VALUES {values}) \
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

/// The instant of Unix microseconds `us`.
fn instant(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn us(h: u32, m: u32) -> i64 {
        Utc.with_ymd_and_hms(2026, 3, 29, h, m, 0)
            .unwrap()
            .timestamp_micros()
    }

    fn pieces(from: i64, to: i64, grains: &[i64]) -> Vec<(Source, i64, i64)> {
        let mut out = Vec::new();
        split(from, to, grains, &mut out);
        out
    }

    #[test]
    fn buckets_split_into_the_coarsest_whole_slots_and_raw_edges() {
        // A Kathmandu day (18:15 to 18:15 UTC): quarter hours around whole hours.
        let day = pieces(us(0, 15) - 6 * 3_600_000_000, us(18, 15), &[3600, 900]);
        assert_eq!(
            day,
            vec![
                (
                    Source::Slots(900),
                    us(0, 15) - 6 * 3_600_000_000,
                    us(0, 0) - 5 * 3_600_000_000
                ),
                (Source::Slots(3600), us(0, 0) - 5 * 3_600_000_000, us(18, 0)),
                (Source::Slots(900), us(18, 0), us(18, 15)),
            ]
        );
        // Window edges that are not whole slots are raw.
        assert_eq!(
            pieces(us(10, 7), us(12, 8), &[3600, 900]),
            vec![
                (Source::Raw, us(10, 7), us(10, 15)),
                (Source::Slots(900), us(10, 15), us(11, 0)),
                (Source::Slots(3600), us(11, 0), us(12, 0)),
                (Source::Raw, us(12, 0), us(12, 8)),
            ]
        );
        assert_eq!(
            pieces(us(0, 0), us(23, 45), &[900]),
            vec![(Source::Slots(900), us(0, 0), us(23, 45))]
        );
        assert_eq!(
            pieces(us(10, 1), us(10, 14), &[3600, 900]),
            vec![(Source::Raw, us(10, 1), us(10, 14))]
        );
        assert_eq!(
            pieces(us(0, 0), us(1, 0), &[]),
            vec![(Source::Raw, us(0, 0), us(1, 0))]
        );
        assert!(pieces(us(1, 0), us(1, 0), &[3600]).is_empty());
    }

    fn by_days(from: i64, to: i64, edges: &[i64]) -> Option<Vec<(Source, i64, i64, i64)>> {
        let mut out = Vec::new();
        split_days(from, to, 86_400, edges, &mut out).then_some(out)
    }

    #[test]
    fn days_are_read_as_the_nearest_utc_days_plus_and_less_their_edges() {
        let day = 24 * 3_600_000_000;
        // A New York day (05:00 to 05:00 UTC): UTC March 29, less its first five hours, plus
        // the next day's first five.
        let ny = by_days(us(5, 0), us(5, 0) + day, &[3600]).unwrap();
        assert_eq!(
            ny,
            vec![
                (Source::Slots(86_400), us(0, 0), us(0, 0) + day, 1),
                (Source::Slots(3600), us(0, 0), us(5, 0), -1),
                (Source::Slots(3600), us(0, 0) + day, us(5, 0) + day, 1),
            ]
        );
        // A Kathmandu day (18:15 to 18:15 UTC): the quarter hours past a whole hour are raw,
        // with the sign of their edge.
        let ktm = by_days(us(18, 15) - day, us(18, 15), &[3600]).unwrap();
        assert_eq!(
            ktm,
            vec![
                (Source::Slots(86_400), us(0, 0), us(0, 0) + day, 1),
                (Source::Raw, us(18, 15) - day, us(19, 0) - day, 1),
                (Source::Slots(3600), us(19, 0) - day, us(0, 0), 1),
                (Source::Raw, us(18, 15), us(19, 0), -1),
                (Source::Slots(3600), us(19, 0), us(0, 0) + day, -1),
            ]
        );
        // Every instant is counted exactly once: the signed lengths add up to the bucket's.
        for (from, to) in [(us(5, 0), us(5, 0) + day), (us(18, 15) - day, us(18, 15))] {
            let pieces = by_days(from, to, &[3600]).unwrap();
            let total: i64 = pieces.iter().map(|&(_, f, t, s)| s * (t - f)).sum();
            assert_eq!(total, to - from);
        }
        // An hour has no whole day between its nearest midnights.
        assert_eq!(by_days(us(10, 0), us(11, 0), &[3600]), None);
    }
}

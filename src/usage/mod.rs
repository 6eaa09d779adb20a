//! Usage analytics (issue 14): time-bucketed metrics of an organization, answered from the
//! rollups ingest maintains (`store/rollups.rs`), in any IANA zone, to the exact cent of the
//! exports. [`Usage::query`] is the one way in, for `GET /v1/usage` and later the Analytics
//! page and budgets.
//!
//! # How a query is answered
//! 1. [`request`] validates the parameters; the window is read exactly as exports read theirs.
//! 2. The buckets are local periods of `domain/calendar` clipped to the window (`total`: the
//!    window); a page holds up to [`PAGE_SIZE`] buckets × groups.
//! 3. Each bucket is cut into whole UTC hours, read from the hourly rollups when the query
//!    groups and filters only by their dimensions (team; credits also category) and its
//!    metrics are additive; whole 15-minute UTC slots around them, read from the 15-minute
//!    rollups; and the edges that are not whole slots, read from the raw records ([`sql`]).
//!    Every local period boundary of every current zone is a UTC quarter hour, so a bucket
//!    is a union of those pieces, and sums are exact. A bucket of a day or more is read
//!    instead as whole UTC days from the daily rollups plus and less its edge hours, when
//!    that reads fewer rows; the record counts of those tables drop the groups a subtraction
//!    leaves without records. An organization whose records are still being rolled up after
//!    migration 0008 ([`backfill`]) is read raw; after 0016 or 0018, from the 15-minute
//!    tables only.
//! 4. The page's buckets are read a few at a time until they fill the page, so a year of
//!    daily buckets grouped by team reads the days of the page asked for, not the year.
//! 5. Groups are merged after the organization's privacy setting is applied to `user`:
//!    pseudonymized ids (the exports' `anon_…`) or one `hidden` group.
//!
//! # Semantics
//! - `credits` is the sum of `-amount` over credit-log debits (amount < 0); `credits_granted`
//!   of positive amounts; credit metrics are summed as integer micro-credits (each record
//!   rounded to 10⁻⁶), so totals equal the sum of the groups exactly.
//! - The `team` of a credit log is its `project_id`; of other records their workspace.
//! - `custom_role` groups by the credit log's recorded custom-role set (`a; b` is one group).
//! - `tool_call_errors` counts status `error`; latency quantiles come from mergeable
//!   DDSketch histograms (`domain/histogram.rs`): within 1 % relative error of the exact
//!   lower quantile; calls without a latency are left out; `null` when there are none.
//! - `active_users` counts distinct members with any credit log, run, interaction or tool
//!   call in the bucket (and group); it is not additive, so totals are counted, not summed.
//! - Missing dimension values (a run without a user) form a group whose key is `null`.
//! - Groups sort by the first metric, descending, then by key.

pub mod backfill;
pub mod compact;
mod labels;
pub mod metric;
pub mod request;
pub mod sql;

pub use metric::{Dimension, Metric};
pub use request::{Bucket, Cursor, UsageParams};

use crate::domain::calendar::{self, Period};
use crate::domain::entity::{Org, Privacy};
use crate::domain::histogram::LatencyHistogram;
use crate::domain::range::DateRange;
use crate::domain::{DataType, FieldType};
use crate::privacy::PrivacyPolicy;
use crate::store::rollups::{Family, ZERO_BIN};
use crate::store::{Store, StoreError, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sql::{Select, Source, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most buckets × groups on one page.
pub const PAGE_SIZE: usize = 1000;

/// A validated usage query.
#[derive(Debug, Clone)]
pub struct UsageQuery {
    /// The window.
    pub range: DateRange,
    /// The bucket length.
    pub bucket: Bucket,
    /// The metrics, in the caller's order.
    pub metrics: Vec<Metric>,
    /// Up to two dimensions.
    pub group_by: Vec<Dimension>,
    /// Only these teams (empty: all).
    pub team_ids: Vec<String>,
    /// Only these members (empty: all).
    pub user_ids: Vec<String>,
    /// Only this credit-log category (internal value).
    pub category: Option<String>,
    /// Whether personal spaces count.
    pub include_personal: bool,
    /// Where the page starts.
    pub cursor: Cursor,
    /// Most buckets × groups per page.
    pub page_size: usize,
    /// Read the raw records instead of the rollups (the benchmark's baseline).
    pub raw: bool,
}

/// Why a usage query has no answer.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A parameter is wrong.
    #[error("invalid `{param}`: {message}")]
    Input {
        /// The parameter.
        param: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The organization, or a team or member named in a filter, does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer: one page of buckets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UsageAnswer {
    /// The IANA zone of the buckets.
    pub timezone: String,
    /// The bucket length.
    pub bucket: &'static str,
    /// The dimensions groups are split by.
    pub group_by: Vec<&'static str>,
    /// The metrics, in the requested order.
    pub metrics: Vec<&'static str>,
    /// The buckets of this page, in time order.
    pub buckets: Vec<BucketAnswer>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_page: Option<String>,
}

/// One bucket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BucketAnswer {
    /// First instant, RFC 3339 with the zone's offset.
    pub start: String,
    /// First instant after the bucket.
    pub end: String,
    /// Metric → value over the whole bucket.
    #[schema(value_type = Object)]
    pub totals: serde_json::Map<String, serde_json::Value>,
    /// The groups (empty without `group_by`), by the first metric descending.
    pub groups: Vec<GroupAnswer>,
}

/// One group of a bucket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupAnswer {
    /// Dimension → id (null when the records carry none).
    #[schema(value_type = Object)]
    pub key: serde_json::Map<String, serde_json::Value>,
    /// Dimension → display name.
    #[schema(value_type = Object)]
    pub label: serde_json::Map<String, serde_json::Value>,
    /// Metric → value.
    #[schema(value_type = Object)]
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// The usage service.
#[derive(Clone)]
pub struct Usage {
    store: Store,
}

/// What one bucket-and-group adds up to.
#[derive(Debug, Default, Clone)]
struct Acc {
    sums: HashMap<&'static str, i64>,
    latency: LatencyHistogram,
    users: i64,
    members: BTreeSet<String>,
    /// Records behind the values (for sums, signed spans included); a row that does not
    /// count records adds one.
    n: i64,
}

impl Acc {
    fn add(&mut self, other: &Acc) {
        self.n += other.n;
        for (k, v) in &other.sums {
            *self.sums.entry(k).or_default() += v;
        }
        self.latency.merge(&other.latency);
        self.users += other.users;
        self.members.extend(other.members.iter().cloned());
    }

    fn value(&self, m: Metric) -> serde_json::Value {
        match m.kind() {
            metric::Kind::Count => self.sums.get(m.column()).copied().unwrap_or(0).into(),
            metric::Kind::Credits => {
                (self.sums.get(m.column()).copied().unwrap_or(0) as f64 / 1e6).into()
            }
            metric::Kind::Quantile(q) => self
                .latency
                .quantile(q)
                .map_or(serde_json::Value::Null, |v| {
                    ((v * 1000.0).round() / 1000.0).into()
                }),
            metric::Kind::Distinct => (self.users + self.members.len() as i64).into(),
        }
    }

    fn sort_value(&self, m: Metric) -> f64 {
        self.value(m).as_f64().unwrap_or(-1.0)
    }
}

type Key = Vec<String>;
type Table = BTreeMap<(usize, Key), Acc>;

impl Usage {
    /// The service over `store`.
    pub fn new(store: Store) -> Usage {
        Usage { store }
    }

    /// Validates `params` and answers one page for organization `org_id`, reading presets
    /// relative to `now`.
    pub async fn query(
        &self,
        org_id: &str,
        params: &UsageParams,
        now: DateTime<Utc>,
    ) -> Result<UsageAnswer, UsageError> {
        let org =
            self.store.get_org(org_id).await?.ok_or_else(|| {
                UsageError::NotFound(format!("organization `{org_id}` not found"))
            })?;
        let q = request::validate(params, &org, now)?;
        self.run(&org, &q).await
    }

    /// Answers one page of a validated query.
    pub async fn run(&self, org: &Org, q: &UsageQuery) -> Result<UsageAnswer, UsageError> {
        // What the reading needs first, asked at once: each is a round trip of its own.
        let (_, policy, fine_pending, coarse_pending) = futures::try_join!(
            labels::check_filters(&self.store, &org.id, q),
            async { Ok(PrivacyPolicy::load(&self.store, &org.id).await?) },
            async { Ok(backfill::pending(&self.store, &org.id).await?) },
            async {
                let tables = backfill::HOURLY_TABLES;
                Ok::<_, UsageError>(backfill::pending_in(&self.store, tables, &org.id).await?)
            },
        )?;
        let policy = policy
            .ok_or_else(|| UsageError::NotFound(format!("organization `{}` not found", org.id)))?;
        let size = q.page_size.max(1);
        let mut page: Vec<(usize, Period)> = bucket_list(q)
            .enumerate()
            .skip(q.cursor.bucket)
            .take(size + 1)
            .collect();
        let more_buckets = page.len() > size;
        page.truncate(size);
        if page.is_empty() {
            return Ok(answer(q, Vec::new(), None));
        }
        let raw = q.raw || fine_pending;
        let hourly = !raw && !coarse_pending;
        let plan = Plan {
            org,
            q,
            raw,
            hourly,
            groups: q.group_by.iter().map(|d| d.column()).collect(),
            policy: &policy,
        };
        // The labels load while the buckets are read.
        let (names, (out, done)) = futures::try_join!(
            async { Ok(labels::Labels::load(&self.store, &org.id, &q.group_by, &policy).await?) },
            self.read_page(&plan, &page, size),
        )?;
        let (buckets, next) = paginate(q, &page[..done], &out.grouped, &out.totals, &names, size);
        let next = next.or((more_buckets || done < page.len()).then_some(Cursor {
            bucket: q.cursor.bucket + done,
            group: 0,
        }));
        Ok(answer(q, buckets, next))
    }

    /// Reads the page's buckets until they fill a page of `size` buckets × groups: what they
    /// add up to, and how many of the page's buckets were read.
    async fn read_page(
        &self,
        plan: &Plan<'_>,
        page: &[(usize, Period)],
        size: usize,
    ) -> Result<(Merged, usize), UsageError> {
        let q = plan.q;
        let mut out = Merged::default();
        // The page's buckets are read a chunk at a time until they fill it: a page of a year
        // of daily buckets grouped by team holds a few days, and reading the rest would be
        // thrown away. The next chunk is sized by the groups per bucket seen so far. The raw
        // baseline reads the whole window in one GROUP BY per stream, as a plain query would.
        let mut done = 0;
        let mut filled = 0;
        let mut chunk = if plan.groups.is_empty() || q.raw {
            page.len()
        } else {
            FIRST_CHUNK
        };
        while done < page.len() && filled < size {
            let part = &page[done..(done + chunk).min(page.len())];
            self.read_buckets(plan, part, &mut out).await?;
            for (i, _) in part {
                let n = out
                    .grouped
                    .range((*i, Vec::new())..(*i + 1, Vec::new()))
                    .count();
                let n = if *i == q.cursor.bucket {
                    n.saturating_sub(q.cursor.group)
                } else {
                    n
                };
                filled += n.max(1);
            }
            done += part.len();
            // At most doubling what was read: groups per bucket grow as an organization does,
            // so an estimate from its quiet early days would read far past the page.
            let per_bucket = filled.div_ceil(done).max(1);
            chunk = size
                .saturating_sub(filled)
                .div_ceil(per_bucket)
                .clamp(1, done);
        }
        Ok((out, done))
    }

    /// Reads every family of the query over `part` of the page's buckets into `out`.
    async fn read_buckets(
        &self,
        plan: &Plan<'_>,
        part: &[(usize, Period)],
        out: &mut Merged,
    ) -> Result<(), UsageError> {
        let q = plan.q;
        let groups = &plan.groups;
        let mut families: Vec<&'static Family> = Vec::new();
        for m in &q.metrics {
            // By table: a `const` family has no single address to compare.
            if !families.iter().any(|f| f.table == m.family().table) {
                families.push(m.family());
            }
        }
        // Every family's statements run at once (each on its own connection), and so do the
        // totals of a distinct count: the page waits for the slowest, not for their sum.
        let reads = families.iter().map(|family| {
            let read = Read {
                raw: plan.raw,
                coarse: family
                    .coarse
                    .filter(|c| plan.hourly && coarse_answers(q, family, c)),
            };
            let distinct = family.measures.is_empty();
            async move {
                let (t, totals) = futures::try_join!(
                    self.family(plan.org, q, family, read, part, groups),
                    async {
                        if distinct && !groups.is_empty() {
                            // Distinct members are not additive: count the totals on their own.
                            self.family(plan.org, q, family, read, part, &[])
                                .await
                                .map(Some)
                        } else {
                            Ok(None)
                        }
                    }
                )?;
                Ok::<_, UsageError>((distinct, t, totals))
            }
        });
        for (distinct, t, totals) in futures::future::try_join_all(reads).await? {
            for ((i, _), acc) in totals.into_iter().flatten() {
                out.totals.entry(i).or_default().add(&acc);
            }
            for ((i, key), acc) in t {
                if !distinct || groups.is_empty() {
                    out.totals.entry(i).or_default().add(&acc);
                }
                if !groups.is_empty() {
                    let key = mask_key(plan.policy, &q.group_by, key);
                    out.grouped.entry((i, key)).or_default().add(&acc);
                }
            }
        }
        // A group read as a day less its edge hours may have no record left in the bucket.
        out.grouped.retain(|_, acc| acc.n > 0);
        Ok(())
    }

    /// One family over the page's buckets: (bucket, group) → what it adds up to.
    async fn family(
        &self,
        org: &Org,
        q: &UsageQuery,
        family: &'static Family,
        read: Read,
        page: &[(usize, Period)],
        groups: &[&'static str],
    ) -> Result<Table, UsageError> {
        // Every bucket, cut into pieces each table answers exactly; pieces of one source are
        // read by one statement.
        let mut grains = Vec::new();
        if !read.raw {
            grains.extend(read.coarse.map(|c| c.slot_seconds));
            grains.push(family.slot_seconds);
        }
        // Read as whole UTC days plus and less their edges, the edges come only from tables
        // that count their records (a subtracted group must be known to be gone) or raw.
        let daily = read.coarse.and_then(|c| c.coarse);
        let edge_grains: Vec<i64> = read
            .coarse
            .into_iter()
            .chain(family.count.map(|_| family))
            .map(|f| f.slot_seconds)
            .collect();
        let table_of = |seconds: i64| -> &'static Family {
            [Some(family), read.coarse, daily]
                .into_iter()
                .flatten()
                .find(|f| f.slot_seconds == seconds)
                .expect("slot pieces come from the query's tables")
        };
        let mut by_source: BTreeMap<Source, Vec<Span>> = BTreeMap::new();
        let mut tiled = Vec::new();
        let mut by_days = Vec::new();
        for (i, p) in page {
            let (from, to) = (p.start.timestamp_micros(), p.end.timestamp_micros());
            tiled.clear();
            sql::split(from, to, &grains, &mut tiled);
            let mut pieces: Vec<(Source, i64, i64, i64)> =
                tiled.iter().map(|&(s, f, t)| (s, f, t, 1)).collect();
            by_days.clear();
            if let Some(day) = daily
                && sql::split_days(from, to, day.slot_seconds, &edge_grains, &mut by_days)
                && cost(&by_days) < cost(&pieces)
            {
                pieces.clone_from(&by_days);
            }
            for (source, from, to, sign) in pieces {
                by_source.entry(source).or_default().push(Span {
                    bucket: *i,
                    from,
                    to,
                    sign,
                });
            }
        }
        let distinct = family.measures.is_empty();
        let any_raw = by_source.contains_key(&Source::Raw);
        let select = match (distinct, family.bin.is_some()) {
            (true, _) if !any_raw => Select::DistinctCount,
            (true, _) => Select::Members,
            (false, true) => Select::Bins,
            (false, false) => Select::Sums,
        };
        let mut statements = Vec::new();
        for (source, spans) in &by_source {
            let (table_family, streams): (Option<&Family>, &[DataType]) = match source {
                Source::Raw => (None, family.sources),
                Source::Slots(s) => (Some(table_of(*s)), &family.sources[..1]),
            };
            for stream in streams {
                statements.push(sql::statement(
                    self.store.dialect(),
                    &org.id,
                    q,
                    family,
                    *stream,
                    table_family,
                    spans,
                    groups,
                    select,
                ));
            }
        }
        let answers = futures::future::try_join_all(
            statements
                .iter()
                .map(|st| self.store.query_many(&st.sql, &st.params, &st.types)),
        )
        .await?;
        let mut table = Table::new();
        for row in answers.into_iter().flatten() {
            add_row(&mut table, family, groups.len(), select, row);
        }
        Ok(table)
    }
}

/// Buckets read in the first chunk of a grouped page (see [`Usage::run`]).
const FIRST_CHUNK: usize = 8;

/// What every chunk of one page's reading shares.
struct Plan<'a> {
    org: &'a Org,
    q: &'a UsageQuery,
    /// Read the raw records only.
    raw: bool,
    /// The hourly and daily tables are complete (their backfill is done).
    hourly: bool,
    /// The rollup columns grouped by.
    groups: Vec<&'static str>,
    policy: &'a PrivacyPolicy,
}

/// The page's buckets as read so far.
#[derive(Default)]
struct Merged {
    grouped: Table,
    totals: BTreeMap<usize, Acc>,
}

/// About how many rows reading `pieces` costs, per group: a day row counts as a few hour rows
/// (a team active in any hour of the day has one), a raw stretch by its length.
fn cost(pieces: &[(Source, i64, i64, i64)]) -> i64 {
    pieces
        .iter()
        .map(|&(source, from, to, _)| match source {
            Source::Slots(s) => (to - from) / (s * 1_000_000) * if s >= 86_400 { 4 } else { 1 },
            Source::Raw => 1 + (to - from) / 900_000_000,
        })
        .sum()
}

/// Which tables a family is read from.
#[derive(Debug, Clone, Copy)]
struct Read {
    /// Everything from the raw records.
    raw: bool,
    /// The coarse table for whole hours, when it answers the query.
    coarse: Option<&'static Family>,
}

/// Whether `coarse` can answer `q` for `family` exactly: every column the query groups or
/// filters by is one of its dimensions.
fn coarse_answers(q: &UsageQuery, family: &Family, coarse: &Family) -> bool {
    let has = |c: &str| coarse.dims.iter().any(|d| d.col == c);
    let category_filter = q.category.is_some() && family.dims.iter().any(|d| d.col == "category");
    q.group_by.iter().all(|d| has(d.column()))
        && (q.team_ids.is_empty() || has("team_id"))
        && (q.include_personal || has("team_id"))
        && (q.user_ids.is_empty() || has("user_id"))
        && (!category_filter || has("category"))
}

/// Adds one result row to the table.
fn add_row(table: &mut Table, family: &Family, n_groups: usize, select: Select, row: Vec<Value>) {
    let i = row[0].as_i64().unwrap_or_default() as usize;
    let key: Key = row[1..=n_groups]
        .iter()
        .map(|v| v.as_text().unwrap_or_default().to_string())
        .collect();
    let rest = &row[n_groups + 1..];
    let acc = table.entry((i, key)).or_default();
    match select {
        Select::Sums => {
            for (m, v) in family.measures.iter().zip(rest) {
                *acc.sums.entry(m.col).or_default() += v.as_i64().unwrap_or_default();
            }
            acc.n += rest[family.measures.len()].as_i64().unwrap_or_default();
            return;
        }
        Select::Bins => {
            let bin = rest[0].as_i64().unwrap_or_default();
            let n = rest[1].as_i64().unwrap_or_default().max(0) as u64;
            let bin = (bin != ZERO_BIN).then_some(bin as i32);
            acc.latency.record_bin(bin, n);
        }
        Select::DistinctCount => acc.users += rest[0].as_i64().unwrap_or_default(),
        Select::Members => {
            if let Some(u) = rest[0].as_text() {
                acc.members.insert(u.to_string());
            }
        }
    }
    acc.n += 1;
}

/// The buckets of the whole window, numbered from 0.
fn bucket_list(q: &UsageQuery) -> Box<dyn Iterator<Item = Period> + Send> {
    let r = q.range;
    match q.bucket {
        Bucket::Total => Box::new(std::iter::once(Period {
            start: r.start,
            end: r.end,
            tz: r.tz,
        })),
        Bucket::Period(g) => Box::new(calendar::buckets(r.tz, g, r.start, r.end)),
    }
}

/// Applies the privacy setting to the `user` part of a group key.
fn mask_key(policy: &PrivacyPolicy, dims: &[Dimension], mut key: Key) -> Key {
    for (d, v) in dims.iter().zip(key.iter_mut()) {
        if *d == Dimension::User && !v.is_empty() {
            match policy.org_setting() {
                Privacy::Visible => {}
                Privacy::Pseudonymized => *v = policy.pseudonym(v),
                Privacy::Hidden => *v = labels::HIDDEN.to_string(),
            }
        }
    }
    key
}

/// Cuts the page at `size` buckets × groups (a bucket without groups counts one); the
/// cursor of the rest when the cut falls inside the page.
fn paginate(
    q: &UsageQuery,
    page: &[(usize, Period)],
    grouped: &Table,
    totals: &BTreeMap<usize, Acc>,
    names: &labels::Labels,
    size: usize,
) -> (Vec<BucketAnswer>, Option<Cursor>) {
    let first = q.metrics[0];
    let mut budget = size;
    let mut out = Vec::new();
    for (k, (i, period)) in page.iter().enumerate() {
        let skip = if k == 0 { q.cursor.group } else { 0 };
        let mut groups: Vec<(&Key, &Acc)> = grouped
            .range((*i, Vec::new())..(*i + 1, Vec::new()))
            .map(|((_, key), acc)| (key, acc))
            .collect();
        groups.sort_by(|a, b| {
            b.1.sort_value(first)
                .total_cmp(&a.1.sort_value(first))
                .then_with(|| a.0.cmp(b.0))
        });
        let remaining = groups.len().saturating_sub(skip);
        if budget == 0 {
            return (
                out,
                Some(Cursor {
                    bucket: *i,
                    group: skip,
                }),
            );
        }
        let take = remaining.min(budget);
        let empty = Acc::default();
        let total = totals.get(i).unwrap_or(&empty);
        out.push(BucketAnswer {
            start: stamp(period.local_start()),
            end: stamp(period.local_end()),
            totals: q
                .metrics
                .iter()
                .map(|m| (m.as_str().to_string(), total.value(*m)))
                .collect(),
            groups: groups
                .iter()
                .skip(skip)
                .take(take)
                .map(|(key, acc)| GroupAnswer {
                    key: q
                        .group_by
                        .iter()
                        .zip(key.iter())
                        .map(|(d, v)| {
                            let v = if v.is_empty() {
                                serde_json::Value::Null
                            } else {
                                v.clone().into()
                            };
                            (d.as_str().to_string(), v)
                        })
                        .collect(),
                    label: q
                        .group_by
                        .iter()
                        .zip(key.iter())
                        .map(|(d, v)| (d.as_str().to_string(), names.label(*d, v)))
                        .collect(),
                    values: q
                        .metrics
                        .iter()
                        .map(|m| (m.as_str().to_string(), acc.value(*m)))
                        .collect(),
                })
                .collect(),
        });
        if remaining > take {
            return (
                out,
                Some(Cursor {
                    bucket: *i,
                    group: skip + take,
                }),
            );
        }
        budget -= remaining.max(1);
    }
    (out, None)
}

fn stamp<Tz: chrono::TimeZone>(t: DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn answer(q: &UsageQuery, buckets: Vec<BucketAnswer>, next: Option<Cursor>) -> UsageAnswer {
    UsageAnswer {
        timezone: q.range.tz.name().to_string(),
        bucket: q.bucket.as_str(),
        group_by: q.group_by.iter().map(|d| d.as_str()).collect(),
        metrics: q.metrics.iter().map(|m| m.as_str()).collect(),
        buckets,
        next_page: next.map(Cursor::encode),
    }
}

/// Column types of a one-column integer answer (shared by the helpers here).
pub(crate) const INTEGER: [FieldType; 1] = [FieldType::Integer];

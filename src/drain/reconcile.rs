//! Reconciliation: per time bucket, how many records a drain had to deliver, how many it
//! delivered, and a digest of the delivered records' ids — so a customer can recompute the
//! same over what they stored and compare bucket by bucket (`outflow verify` does).
//!
//! **The digest** of a set of records is the sum, modulo 2^64, of the first 8 bytes (read as
//! a big-endian unsigned integer) of the SHA-256 of each record's id (the type's id field,
//! e.g. `run_id`, as UTF-8 text), written as 16 lowercase hex digits. A sum is
//! order-independent, so it does not matter in which order or batch a record arrived; a
//! missing, extra or changed id changes it. A record delivered twice (a retry the receiver did
//! not drop) is counted once by `outflow verify`, which drops identical records first.
//!
//! **Source** records are those of the drain's stream with a time in the window (read by time
//! through the type's time index, not by scanning the stream) after the position it started
//! from (`start_pos`) that its filters (teams, entities, category, role, event types, child runs,
//! `start_ts`) keep, bucketed by the type's time field in the request's zone
//! (`domain::calendar`); **delivered** are those at or before its cursor, **pending** the
//! rest. The filters are today's: after a settings change, older buckets are counted as if
//! they had always applied.

use super::model::Drain;
use super::select::Selector;
use crate::domain::calendar::{self, Granularity, Period};
use crate::domain::catalog;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

/// Most buckets one request may ask for (about three months of hours).
pub const MAX_BUCKETS: usize = 2_400;
/// Rows read per page while scanning the stream.
const PAGE: i64 = 5_000;

/// The bucket sizes the API accepts.
pub const BUCKET_SIZES: [&str; 2] = ["1h", "1d"];

/// `1h` or `1d` as a calendar granularity; an error naming the allowed values otherwise.
pub fn parse_bucket(s: &str) -> Result<Granularity, String> {
    match s.trim() {
        "1h" => Ok(Granularity::Hour),
        "1d" => Ok(Granularity::Day),
        other => Err(format!(
            "`{other}` is not a bucket size; allowed: {}",
            BUCKET_SIZES.join(", ")
        )),
    }
}

/// The digest term of one record id: the first 8 bytes of its SHA-256, big-endian.
pub fn id_term(id: &str) -> u64 {
    let hash = Sha256::digest(id.as_bytes());
    u64::from_be_bytes(hash[..8].try_into().expect("SHA-256 has 32 bytes"))
}

/// A digest as shown: 16 lowercase hex digits.
pub fn show_digest(d: u64) -> String {
    format!("{d:016x}")
}

/// The counts of one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket's interval (clipped to the window).
    pub period: Period,
    /// Records the drain had to deliver.
    pub source: u64,
    /// Of those, delivered.
    pub delivered: u64,
    /// The digest of the delivered records' ids.
    pub digest: u64,
}

impl Bucket {
    /// Source records not delivered yet.
    pub fn pending(&self) -> u64 {
        self.source.saturating_sub(self.delivered)
    }
}

/// Buckets of `[start, end)` being filled.
#[derive(Debug, Clone)]
pub struct Tally {
    buckets: Vec<Bucket>,
}

impl Tally {
    /// Empty buckets of `granularity` in `tz` tiling `[start, end)`; an error when there would
    /// be more than [`MAX_BUCKETS`].
    pub fn new(
        tz: Tz,
        granularity: Granularity,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Tally, String> {
        let buckets: Vec<Bucket> = calendar::buckets(tz, granularity, start, end)
            .take(MAX_BUCKETS + 1)
            .map(|period| Bucket {
                period,
                source: 0,
                delivered: 0,
                digest: 0,
            })
            .collect();
        if buckets.len() > MAX_BUCKETS {
            return Err(format!(
                "the window holds more than {MAX_BUCKETS} buckets; ask for a shorter window or \
                 daily buckets (`bucket=1d`)"
            ));
        }
        Ok(Tally { buckets })
    }

    /// The bucket holding `t`, if `t` is in the window.
    fn slot(&mut self, t: DateTime<Utc>) -> Option<&mut Bucket> {
        let i = self.buckets.partition_point(|b| b.period.end <= t);
        self.buckets.get_mut(i).filter(|b| b.period.contains(t))
    }

    /// Counts a source record at `t`; a delivered one also into the digest.
    pub fn source(&mut self, t: DateTime<Utc>, id: &str, delivered: bool) {
        if let Some(b) = self.slot(t) {
            b.source += 1;
            if delivered {
                b.delivered += 1;
                b.digest = b.digest.wrapping_add(id_term(id));
            }
        }
    }

    /// Counts a record a receiver holds (delivered, as far as it knows).
    pub fn received(&mut self, t: DateTime<Utc>, id: &str) {
        if let Some(b) = self.slot(t) {
            b.delivered += 1;
            b.digest = b.digest.wrapping_add(id_term(id));
        }
    }

    /// `[start, end)` of all the buckets; `None` for an empty window.
    pub fn window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((
            self.buckets.first()?.period.start,
            self.buckets.last()?.period.end,
        ))
    }

    /// The buckets, in time order.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// The buckets whose delivered count or digest differ between `self` (what Outflow
    /// delivered) and `theirs` (what a receiver holds, over the same window): pairs of
    /// (ours, theirs).
    pub fn differences<'a>(&'a self, theirs: &'a Tally) -> Vec<(&'a Bucket, &'a Bucket)> {
        self.buckets
            .iter()
            .zip(&theirs.buckets)
            .filter(|(a, b)| a.delivered != b.delivered || a.digest != b.digest)
            .collect()
    }
}

/// Reconciles `drain` over `tally`'s window: reads the records of the window by time (every
/// page reads only the fields its filters, time and id need), those after its `start_pos`.
pub async fn reconcile(store: &Store, drain: &Drain, tally: &mut Tally) -> Result<(), StoreError> {
    let Some(window) = tally.window() else {
        return Ok(());
    };
    let selector = Selector::load(store, drain).await?;
    let spec = catalog::spec(drain.data_type);
    let id_index = spec
        .fields
        .iter()
        .position(|f| f.id == spec.id_field)
        .expect("the id field is in the catalog");
    let mut wanted = selector.wanted();
    wanted[id_index] = true;
    let mut resume = None;
    loop {
        let rows = store
            .read_window_fields(
                drain.data_type,
                &drain.org_id,
                window,
                resume,
                PAGE,
                &wanted,
            )
            .await?;
        let Some(last) = rows.last() else { break };
        resume = Some((selector.time(last), last.pos));
        for r in &rows {
            if r.pos <= drain.start_pos || !selector.matches(r) {
                continue;
            }
            let id = r.values[id_index].as_text().unwrap_or_default();
            tally.source(selector.time(r), id, r.pos <= drain.cursor_pos);
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_digest_term_is_the_first_eight_bytes_of_sha256_big_endian() {
        // SHA-256("abc") = ba7816bf 8f01cfea …
        assert_eq!(id_term("abc"), 0xba78_16bf_8f01_cfea);
        assert_eq!(show_digest(0xba78_16bf_8f01_cfea), "ba7816bf8f01cfea");
        assert_eq!(show_digest(1), "0000000000000001");
    }

    #[test]
    fn buckets_count_and_digest_order_independently() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let day = |d, h| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
        let mut a = Tally::new(tz, Granularity::Day, day(1, 0), day(3, 0)).unwrap();
        // Berlin days start at 23:00 UTC in March: 2026-03-01 local is [Feb 28 23:00, Mar 1 23:00).
        assert_eq!(a.buckets().len(), 3, "{:?}", a.buckets());
        a.source(day(1, 10), "x", true);
        a.source(day(1, 11), "y", true);
        a.source(day(1, 12), "z", false);
        a.source(day(4, 0), "out", true);
        let mut b = Tally::new(tz, Granularity::Day, day(1, 0), day(3, 0)).unwrap();
        b.received(day(1, 11), "y");
        b.received(day(1, 10), "x");
        let (sa, sb) = (a.buckets()[0], b.buckets()[0]);
        assert_eq!((sa.source, sa.delivered, sa.pending()), (3, 2, 1));
        assert_eq!(sb.delivered, 2);
        assert_eq!(sa.digest, sb.digest);
        assert_eq!(sa.digest, id_term("x").wrapping_add(id_term("y")));
        assert_eq!(
            a.buckets().iter().map(|b| b.source).sum::<u64>(),
            3,
            "outside the window"
        );
    }

    #[test]
    fn bucket_sizes_and_limits() {
        assert_eq!(parse_bucket("1h"), Ok(Granularity::Hour));
        assert_eq!(parse_bucket("1d"), Ok(Granularity::Day));
        let e = parse_bucket("2h").unwrap_err();
        assert!(e.contains("`2h`") && e.contains("1h, 1d"), "{e}");
        let tz: Tz = "UTC".parse().unwrap();
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let e = Tally::new(
            tz,
            Granularity::Hour,
            start,
            start + chrono::Duration::days(365),
        )
        .unwrap_err();
        assert!(e.contains("1d"), "{e}");
    }
}

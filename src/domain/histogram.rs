//! A mergeable latency histogram for p50/p95 with at most 1 % relative error
//! (DDSketch-style logarithmic buckets), small enough to store in every rollup row.
//!
//! # How it works, and the error bound
//! With α = 0.01 and γ = (1 + α) / (1 − α) ≈ 1.0202, a positive value `x` (milliseconds)
//! goes into bucket `i = ceil(log_γ(x))`, which holds the values in `(γ^(i−1), γ^i]`. A
//! quantile answers with its bucket's representative `2γ^i / (γ + 1)`, which is within
//! `(γ − 1) / (γ + 1) = α` relative error of every value in the bucket. So
//! [`LatencyHistogram::quantile`]`(q)` is within **1 % relative error** of the exact
//! `q`-quantile of the recorded values, defined as the value at 0-based rank
//! `floor(q · (n − 1))` of the sorted values (the lower quantile) — up to floating-point
//! rounding of the logarithm (about 1e-12 relative) — for values in
//! [`MIN_VALUE`]`..=`[`MAX_VALUE`]. Values at or below `MIN_VALUE` (0, sub-nanosecond, and
//! invalid inputs: negative or NaN) count as **0** and answer exactly 0; sub-millisecond
//! values are ordinary buckets with negative indices. Values above `MAX_VALUE` (≈ 31 years)
//! are counted as `MAX_VALUE`.
//!
//! # Merging
//! Buckets depend only on the value, never on what else was recorded, so merging adds counts
//! bucket by bucket: merging the histograms of two sets of values gives exactly the
//! histogram of their union, in any order and grouping (rollups of quarter hours merge into
//! days, days into months, with the same 1 % bound).
//!
//! # Stored form
//! Serde, as a sparse map: `{"zero": n, "bins": {"<index>": count, …}}` with only non-empty
//! buckets (`zero` left out when 0). Latencies from 1 ms to 1 min span at most ~550 buckets;
//! a typical rollup row holds a few dozen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The relative accuracy α of every quantile.
pub const RELATIVE_ACCURACY: f64 = 0.01;

/// Values at or below this (milliseconds; one nanosecond) are counted as zero.
pub const MIN_VALUE: f64 = 1e-6;

/// Values above this (milliseconds; about 31 years) are counted as this.
pub const MAX_VALUE: f64 = 1e12;

/// γ = (1 + α) / (1 − α).
fn gamma() -> f64 {
    (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
}

/// A histogram of latencies in milliseconds; see the module doc.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyHistogram {
    /// How many values were zero (at or below [`MIN_VALUE`], or invalid).
    #[serde(default, skip_serializing_if = "is_zero")]
    zero: u64,
    /// Count per bucket index, only non-empty buckets.
    #[serde(default)]
    bins: BTreeMap<i32, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one value (milliseconds).
    pub fn record(&mut self, ms: f64) {
        self.record_n(ms, 1);
    }

    /// Records `n` occurrences of a value (milliseconds).
    pub fn record_n(&mut self, ms: f64, n: u64) {
        if n == 0 {
            return;
        }
        // NaN fails the comparison too, so it counts as zero.
        if ms.is_nan() || ms <= MIN_VALUE {
            self.zero = self.zero.saturating_add(n);
            return;
        }
        let count = self.bins.entry(index_of(ms.min(MAX_VALUE))).or_insert(0);
        *count = count.saturating_add(n);
    }

    /// Adds `n` values of bucket `bin` as [`bucket_index`] numbers them, or of the zero
    /// bucket when `bin` is `None` (rollups store histograms as one row per bucket).
    pub fn record_bin(&mut self, bin: Option<i32>, n: u64) {
        let count = match bin {
            None => &mut self.zero,
            Some(i) => self.bins.entry(i).or_insert(0),
        };
        *count = count.saturating_add(n);
    }

    /// Adds every value recorded in `other` (see "Merging" in the module doc).
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.zero = self.zero.saturating_add(other.zero);
        for (&i, &n) in &other.bins {
            if n > 0 {
                let count = self.bins.entry(i).or_insert(0);
                *count = count.saturating_add(n);
            }
        }
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.bins
            .values()
            .fold(self.zero, |acc, &n| acc.saturating_add(n))
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// The `q`-quantile (`q` in 0..=1, clamped; NaN reads as 0) in milliseconds, within 1 %
    /// relative error of the exact lower quantile; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        // The 0-based rank of the lower quantile; exact in f64 for any realistic count.
        let rank = (q * (n - 1) as f64).floor() as u64;
        if rank < self.zero {
            return Some(0.0);
        }
        let mut seen = self.zero;
        for (&i, &count) in &self.bins {
            seen = seen.saturating_add(count);
            if rank < seen {
                return Some(value_of(i));
            }
        }
        self.bins.keys().next_back().map(|&i| value_of(i))
    }
}

impl FromIterator<f64> for LatencyHistogram {
    fn from_iter<I: IntoIterator<Item = f64>>(values: I) -> Self {
        let mut h = LatencyHistogram::new();
        values.into_iter().for_each(|v| h.record(v));
        h
    }
}

/// The bucket of a value above [`MIN_VALUE`] (larger values count as [`MAX_VALUE`]): the
/// numbering [`LatencyHistogram::record_bin`] takes.
pub fn bucket_index(ms: f64) -> i32 {
    index_of(ms.clamp(MIN_VALUE, MAX_VALUE))
}

/// The upper bound `γ^i` of bucket `i`.
pub fn bucket_upper(i: i32) -> f64 {
    gamma().powi(i)
}

/// The bucket of a value in `MIN_VALUE..=MAX_VALUE`: `ceil(log_γ(x))`.
fn index_of(ms: f64) -> i32 {
    // |log_γ(x)| ≤ ~1400 over the accepted range: the cast cannot truncate.
    (ms.ln() / gamma().ln()).ceil() as i32
}

/// The representative of bucket `i`: `2γ^i / (γ + 1)`, within α of everything in it.
fn value_of(i: i32) -> f64 {
    let g = gamma();
    // Stored indices come from outside too: keep them in the accepted range.
    let i = i.clamp(index_of(MIN_VALUE), index_of(MAX_VALUE));
    2.0 * g.powi(i) / (g + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact lower quantile of `values`, as the module doc defines it.
    fn exact(values: &[f64], q: f64) -> f64 {
        let mut sorted: Vec<f64> = values
            .iter()
            .map(|&v| if v > MIN_VALUE { v } else { 0.0 })
            .collect();
        sorted.sort_by(f64::total_cmp);
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
    }

    fn assert_within_bound(values: &[f64]) {
        let h: LatencyHistogram = values.iter().copied().collect();
        for q in [0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let (want, got) = (exact(values, q), h.quantile(q).unwrap());
            if want == 0.0 {
                assert_eq!(got, 0.0, "q={q}");
            } else {
                let err = (got - want).abs() / want;
                assert!(err <= RELATIVE_ACCURACY + 1e-9, "q={q} {want} {got} {err}");
            }
        }
    }

    /// A deterministic xorshift stream of uniforms in (0, 1).
    fn uniforms(mut seed: u64) -> impl FnMut() -> f64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ((seed >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
    }

    #[test]
    fn known_distributions_are_within_one_percent() {
        // Uniform integers 1..=10 000 ms.
        let uniform: Vec<f64> = (1..=10_000).map(f64::from).collect();
        assert_within_bound(&uniform);
        let h: LatencyHistogram = uniform.iter().copied().collect();
        let p50 = h.quantile(0.5).unwrap();
        assert!((p50 - 5000.0).abs() / 5000.0 <= 0.01, "{p50}");
        // Exponential with mean 120 ms, and a heavy-tailed log-normal-like mix.
        let mut u = uniforms(7);
        let exponential: Vec<f64> = (0..20_000).map(|_| -120.0 * u().ln()).collect();
        assert_within_bound(&exponential);
        let mut u = uniforms(11);
        let heavy: Vec<f64> = (0..20_000)
            .map(|_| (u() * 12.0 - 2.0).exp() * if u() < 0.05 { 50.0 } else { 1.0 })
            .collect();
        assert_within_bound(&heavy);
        // Every exact power of γ and its neighbours (bucket edges).
        let edges: Vec<f64> = (-400..1200)
            .flat_map(|i| {
                let x = gamma().powi(i);
                [x * (1.0 - 1e-12), x, x * (1.0 + 1e-12)]
            })
            .collect();
        assert_within_bound(&edges);
    }

    #[test]
    fn zero_and_sub_millisecond_values() {
        let mut u = uniforms(3);
        let sub_ms: Vec<f64> = (0..5_000).map(|_| u()).collect();
        assert_within_bound(&sub_ms);
        // A third of the values are zero: low quantiles answer exactly 0.
        let mixed: Vec<f64> = (0..3_000)
            .map(|i| if i % 3 == 0 { 0.0 } else { f64::from(i) * 0.01 })
            .collect();
        assert_within_bound(&mixed);
        let h: LatencyHistogram = mixed.iter().copied().collect();
        assert_eq!(h.quantile(0.2), Some(0.0));
        let zeros: LatencyHistogram = [0.0, 0.0, 1e-9].into_iter().collect();
        assert_eq!(zeros.quantile(0.5), Some(0.0));
        assert_eq!(zeros.quantile(1.0), Some(0.0));
        assert_eq!(zeros.count(), 3);
    }

    #[test]
    fn empty_and_invalid_inputs() {
        let h = LatencyHistogram::new();
        assert!(h.is_empty());
        assert_eq!(h.quantile(0.5), None);
        let mut h = LatencyHistogram::new();
        for v in [f64::NAN, -5.0, f64::NEG_INFINITY, f64::INFINITY, f64::MAX] {
            h.record(v);
        }
        h.record_n(3.0, 0);
        assert_eq!(h.count(), 5);
        assert_eq!(h.quantile(0.0), Some(0.0));
        let top = h.quantile(1.0).unwrap();
        assert!((top - MAX_VALUE).abs() / MAX_VALUE <= 0.01, "{top}");
        assert_eq!(h.quantile(f64::NAN), Some(0.0));
        assert_eq!(h.quantile(7.0), h.quantile(1.0));
        // Indices from a corrupted stored form stay finite.
        let odd: LatencyHistogram =
            serde_json::from_str(r#"{"bins":{"-2147483648":1,"2147483647":1}}"#).unwrap();
        assert!(odd.quantile(0.0).unwrap() > 0.0);
        assert!(odd.quantile(1.0).unwrap().is_finite());
    }

    #[test]
    fn merge_equals_building_from_the_union() {
        let mut u = uniforms(42);
        let values: Vec<f64> = (0..9_000).map(|_| -80.0 * u().ln()).collect();
        let whole: LatencyHistogram = values.iter().copied().collect();
        let parts: Vec<LatencyHistogram> = values
            .chunks(1_000)
            .map(|c| c.iter().copied().collect())
            .collect();
        let mut forward = LatencyHistogram::new();
        parts.iter().for_each(|p| forward.merge(p));
        let mut backward = LatencyHistogram::new();
        parts.iter().rev().for_each(|p| backward.merge(p));
        assert_eq!(forward, whole);
        assert_eq!(backward, whole);
        // Merging an empty histogram changes nothing, either way round.
        let mut e = LatencyHistogram::new();
        e.merge(&whole);
        assert_eq!(e, whole);
        let mut w = whole.clone();
        w.merge(&LatencyHistogram::new());
        assert_eq!(w, whole);
        assert_within_bound(&values);
    }

    #[test]
    fn stored_form_is_a_sparse_map_and_round_trips() {
        let h: LatencyHistogram = [0.0, 1.0, 1.0, 250.0].into_iter().collect();
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, r#"{"zero":1,"bins":{"0":2,"277":1}}"#);
        assert_eq!(serde_json::from_str::<LatencyHistogram>(&json).unwrap(), h);
        let empty = serde_json::to_string(&LatencyHistogram::new()).unwrap();
        assert_eq!(empty, r#"{"bins":{}}"#);
        assert_eq!(
            serde_json::from_str::<LatencyHistogram>("{}").unwrap(),
            LatencyHistogram::new()
        );
        // A day of latencies from 1 ms to 1 min stays small.
        let mut u = uniforms(5);
        let day: LatencyHistogram = (0..100_000).map(|_| (u() * 11.0).exp()).collect();
        let size = serde_json::to_string(&day).unwrap().len();
        assert!(size < 8_000, "{size}");
    }
}

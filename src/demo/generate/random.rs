//! Randomness: per-stream, per-day seeded generators, the distributions drawn from them, and
//! rounding of the drawn amounts.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub(super) fn rng_for(seed: u64, stream: u64, key: u64) -> StdRng {
    StdRng::seed_from_u64(splitmix(
        seed ^ splitmix(stream.wrapping_mul(0x9E37_79B9) ^ splitmix(key)),
    ))
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn normal(rng: &mut StdRng) -> f64 {
    let u1 = rng.random::<f64>().max(1e-12);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub(super) fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

pub(super) fn poisson(rng: &mut StdRng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda >= 30.0 {
        return (lambda + lambda.sqrt() * normal(rng)).round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let (mut k, mut p) = (0, rng.random::<f64>());
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

pub(super) fn weighted(rng: &mut StdRng, weights: &[f64]) -> usize {
    let mut x = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A random element of a non-empty table.
pub(super) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// A random element of a non-empty table, by reference.
pub(super) fn pick_ref<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(super) fn between(rng: &mut StdRng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds().max(1);
    from + Duration::seconds(rng.random_range(0..span))
        + Duration::microseconds(rng.random_range(0..1_000_000))
}

pub(super) fn minutes(rng: &mut StdRng, from: i64, to: i64) -> Duration {
    Duration::minutes(rng.random_range(from..to.max(from + 1)))
}

pub(super) fn days(x: f64) -> Duration {
    Duration::microseconds((x * 86_400e6) as i64)
}

pub(super) fn seconds(x: f64) -> Duration {
    Duration::microseconds((x * 1e6) as i64)
}

pub(super) fn fraction(d: Duration, f: f64) -> Duration {
    Duration::microseconds((d.num_microseconds().unwrap_or(0) as f64 * f) as i64)
}

pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(super) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

pub(super) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

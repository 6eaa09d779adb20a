//! Retry timing inside a sync cycle: jittered exponential backoff, and the receiver's
//! `Retry-After` honoured up to a cap.

use rand::Rng;
use std::time::Duration;

/// Wait before attempt `attempt + 1` (attempts count from 1): "equal jitter" over
/// `base · 2^(attempt−1)` — between half and all of it, so retries of many drains spread out
/// but never collapse to zero — or the receiver's `Retry-After` when longer, capped.
pub fn backoff(
    attempt: u32,
    base: Duration,
    retry_after: Option<Duration>,
    cap: Duration,
) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let half = exp / 2;
    let jitter = if half.is_zero() {
        Duration::ZERO
    } else {
        Duration::from_millis(rand::rng().random_range(0..=half.as_millis() as u64))
    };
    let own = half + jitter;
    retry_after.map_or(own, |ra| ra.max(own)).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_jitters_and_honours_retry_after_up_to_the_cap() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(60);
        for _ in 0..100 {
            let b1 = backoff(1, base, None, cap);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b3 = backoff(3, base, None, cap);
            assert!(b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400));
        }
        assert_eq!(
            backoff(1, base, Some(Duration::from_secs(5)), cap),
            Duration::from_secs(5)
        );
        assert_eq!(
            backoff(1, base, Some(Duration::from_secs(500)), cap),
            cap,
            "a huge Retry-After is capped"
        );
    }
}

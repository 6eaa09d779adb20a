//! Per-key rate limits (GCRA through `governor`), answered with 429 and `Retry-After`.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;

/// One keyed limiter per class of key.
#[derive(Clone)]
pub struct RateLimits {
    org_keys: Arc<DefaultKeyedRateLimiter<String>>,
    ingest: Arc<DefaultKeyedRateLimiter<String>>,
}

impl RateLimits {
    /// Limits of `org_per_minute` per organization key and `ingest_per_minute` for ingest.
    pub fn new(org_per_minute: u32, ingest_per_minute: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("positive"));
        RateLimits {
            org_keys: Arc::new(RateLimiter::keyed(quota(org_per_minute))),
            ingest: Arc::new(RateLimiter::keyed(quota(ingest_per_minute))),
        }
    }

    /// `Err(seconds to wait)` when the organization key `key_id` is over its limit.
    pub fn check_org_key(&self, key_id: &str) -> Result<(), u64> {
        check(&self.org_keys, key_id)
    }

    /// `Err(seconds to wait)` when the ingest key is over its limit.
    pub fn check_ingest(&self) -> Result<(), u64> {
        check(&self.ingest, "ingest")
    }
}

fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), u64> {
    limiter.check_key(&key.to_string()).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_apply_per_key() {
        let limits = RateLimits::new(2, 1);
        assert!(limits.check_org_key("a").is_ok());
        assert!(limits.check_org_key("a").is_ok());
        let wait = limits.check_org_key("a").unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(
            limits.check_org_key("b").is_ok(),
            "another key has its own budget"
        );
        assert!(limits.check_ingest().is_ok());
        assert!(limits.check_ingest().is_err());
    }
}

//! Rate limits per client: a token bucket per caller (API key, user, or — before
//! authentication — address). An empty bucket answers 429 with `Retry-After`.
//!
//! The buckets live in this node's memory: with several nodes behind a balancer each node
//! allows its own rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// At most this many clients are tracked; beyond it, full buckets are forgotten first.
const MAX_CLIENTS: usize = 100_000;

#[derive(Debug)]
pub struct RateLimiter {
    per_s: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_s: f64, burst: f64) -> Self {
        RateLimiter {
            per_s: per_s.max(0.001),
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client`; when none is left, the whole seconds to wait.
    pub fn take(&self, client: &str) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(client) {
            let (per_s, burst) = (self.per_s, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_s < burst
            });
        }
        let (tokens, at) = buckets
            .entry(client.to_string())
            .or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_s).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / self.per_s;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusals_then_refill() {
        let l = RateLimiter::new(1.0, 3.0);
        for _ in 0..3 {
            assert_eq!(l.take("a"), Ok(()));
        }
        assert_eq!(l.take("a"), Err(1));
        // Another client has its own bucket.
        assert_eq!(l.take("b"), Ok(()));
    }
}

//! Time, injected. [`SystemClock`] is the only place in the project that reads the system
//! time; tests and the demo use [`ManualClock`], which only moves when told to.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch (UTC): how instants are stored in both databases.
pub type Millis = i64;

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Millis;
}

/// The real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned reader of the system time
    fn now(&self) -> Millis {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that stands still until it is set or advanced; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(at: Millis) -> Self {
        ManualClock(Arc::new(AtomicI64::new(at)))
    }

    pub fn set(&self, at: Millis) {
        self.0.store(at, Ordering::SeqCst);
    }

    pub fn advance(&self, by: Millis) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// A clock that runs `factor` times faster than real time from `start`: the demo's, so
/// working days pass in seconds and deadlines, warnings and breaches really happen.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    start: Millis,
    origin: std::time::Instant,
    factor: f64,
}

impl ScaledClock {
    pub fn new(start: Millis, factor: f64) -> Self {
        ScaledClock {
            start,
            origin: std::time::Instant::now(),
            factor: factor.max(0.0),
        }
    }

    /// Simulated milliseconds per real millisecond.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// The real time that `simulated` milliseconds take.
    pub fn real(&self, simulated: Millis) -> std::time::Duration {
        if self.factor <= 0.0 {
            return std::time::Duration::ZERO;
        }
        std::time::Duration::from_secs_f64((simulated.max(0) as f64 / self.factor) / 1_000.0)
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Millis {
        let elapsed = self.origin.elapsed().as_secs_f64() * 1_000.0 * self.factor;
        self.start.saturating_add(elapsed as Millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        let shared = c.clone();
        assert_eq!(c.now(), 1_000);
        shared.advance(500);
        assert_eq!(c.now(), 1_500);
        c.set(42);
        assert_eq!(shared.now(), 42);
        assert!(SystemClock.now() > 1_700_000_000_000);
    }

    #[test]
    fn scaled_clock_runs_fast_from_its_start() {
        let c = ScaledClock::new(1_000, 1_000.0);
        let first = c.now();
        assert!(first >= 1_000);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(c.now() - first >= 19_000, "{}", c.now() - first);
        assert_eq!(c.real(2_000), std::time::Duration::from_millis(2));
    }
}

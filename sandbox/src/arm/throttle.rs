//! ARM's request throttling: a token bucket per subscription for reads, one for writes and
//! one for deletes (since 2024 ARM refills buckets per second instead of counting per hour).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Bucket sizes and refill rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleSettings {
    pub write_burst: u32,
    pub writes_per_second: f64,
    pub read_burst: u32,
    pub reads_per_second: f64,
    #[serde(default = "default_delete_burst")]
    pub delete_burst: u32,
    #[serde(default = "default_deletes_per_second")]
    pub deletes_per_second: f64,
}

fn default_delete_burst() -> u32 {
    200
}

fn default_deletes_per_second() -> f64 {
    10.0
}

impl Default for ThrottleSettings {
    /// ARM's published defaults: writes 200 burst, 10/s; reads 250 burst, 25/s; deletes 200
    /// burst, 10/s.
    fn default() -> Self {
        ThrottleSettings {
            write_burst: 200,
            writes_per_second: 10.0,
            read_burst: 250,
            reads_per_second: 25.0,
            delete_burst: default_delete_burst(),
            deletes_per_second: default_deletes_per_second(),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(burst: u32) -> Bucket {
        Bucket { tokens: f64::from(burst), updated: Instant::now() }
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self, burst: u32, per_second: f64) -> Result<u32, Duration> {
        let now = Instant::now();
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(f64::from(burst));
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(self.tokens.floor() as u32);
        }
        if per_second <= 0.0 {
            return Err(Duration::from_secs(3600));
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / per_second))
    }
}

/// Which bucket a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    Read,
    Write,
    Delete,
}

/// The buckets of every subscription seen.
#[derive(Debug, Default)]
pub struct Throttle {
    settings: ThrottleSettings,
    buckets: HashMap<(String, Budget), Bucket>,
}

/// A request the buckets let through: how many more would pass now.
#[derive(Debug, Clone, Copy)]
pub struct Remaining(pub u32);

impl Throttle {
    pub fn new(settings: ThrottleSettings) -> Throttle {
        Throttle { settings, buckets: HashMap::new() }
    }

    pub fn settings(&self) -> ThrottleSettings {
        self.settings
    }

    /// New sizes; the buckets start full again.
    pub fn set(&mut self, settings: ThrottleSettings) {
        self.settings = settings;
        self.buckets.clear();
    }

    /// Takes a token for one request, or returns the wait ARM sends as Retry-After.
    pub fn admit(&mut self, subscription: &str, budget: Budget) -> Result<Remaining, Duration> {
        let (burst, per_second) = match budget {
            Budget::Read => (self.settings.read_burst, self.settings.reads_per_second),
            Budget::Write => (self.settings.write_burst, self.settings.writes_per_second),
            Budget::Delete => (self.settings.delete_burst, self.settings.deletes_per_second),
        };
        let bucket =
            self.buckets.entry((subscription.to_ascii_lowercase(), budget)).or_insert_with(|| Bucket::full(burst));
        bucket.take(burst, per_second).map(Remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_lets_its_burst_through_then_refuses_with_a_wait() {
        let mut throttle =
            Throttle::new(ThrottleSettings { write_burst: 3, writes_per_second: 1.0, ..Default::default() });
        for expected in [2, 1, 0] {
            assert_eq!(throttle.admit("s", Budget::Write).unwrap().0, expected);
        }
        let wait = throttle.admit("s", Budget::Write).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        // Reads and other subscriptions have buckets of their own.
        assert!(throttle.admit("s", Budget::Read).is_ok());
        assert!(throttle.admit("other", Budget::Write).is_ok());
    }
}

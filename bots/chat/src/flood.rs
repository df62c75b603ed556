//! The per-person flood limit shared by the adapters: a token bucket per person. Pure: the
//! caller passes `now`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What the flood limit says about one more command from a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the limit: answer once, politely.
    Warn,
    /// Still over the limit and already told: stay quiet.
    Drop,
}

/// A token bucket per person: `burst` commands at once, then one per `every`.
#[derive(Debug)]
pub struct FloodLimit {
    burst: f64,
    every: Duration,
    buckets: HashMap<i64, (f64, Instant, bool)>,
}

impl FloodLimit {
    pub fn new(burst: u32, every: Duration) -> Self {
        FloodLimit {
            burst: f64::from(burst),
            every,
            buckets: HashMap::new(),
        }
    }

    pub fn check(&mut self, who: i64, now: Instant) -> Verdict {
        let (burst, every) = (self.burst, self.every.as_secs_f64());
        if self.buckets.len() > 10_000 {
            // Forget people whose bucket is full again: they are indistinguishable from new.
            self.buckets.retain(|_, (tokens, at, _)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() / every < burst
            });
        }
        let (tokens, at, warned) = self.buckets.entry(who).or_insert((burst, now, false));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() / every).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            *warned = false;
            Verdict::Allow
        } else if *warned {
            Verdict::Drop
        } else {
            *warned = true;
            Verdict::Warn
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_limit_allows_a_burst_warns_once_then_refills() {
        let mut f = FloodLimit::new(3, Duration::from_secs(2));
        let t0 = Instant::now();
        let v: Vec<Verdict> = (0..6).map(|_| f.check(7, t0)).collect();
        use Verdict::*;
        assert_eq!(v, [Allow, Allow, Allow, Warn, Drop, Drop]);
        assert_eq!(f.check(8, t0), Allow, "another person is not affected");
        assert_eq!(f.check(7, t0 + Duration::from_secs(2)), Allow);
        assert_eq!(f.check(7, t0 + Duration::from_secs(2)), Warn);
    }
}

//! The per-person flood limit shared by the adapters: a token bucket per person. Commands
//! beyond the burst wait their turn, one per refill (the platforms' per-chat pace), up to a
//! queue; only beyond that is a person told to slow down. Pure: the caller passes `now`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What the flood limit says about one more command from a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Beyond the burst: answer it after this wait (its turn at the refill rate).
    Wait(Duration),
    /// Over the limit: answer once, politely.
    Warn,
    /// Still over the limit and already told: stay quiet.
    Drop,
}

/// A token bucket per person: `burst` commands at once, then one per `every`; up to `queue`
/// more wait their turn.
#[derive(Debug)]
pub struct FloodLimit {
    burst: f64,
    every: Duration,
    queue: f64,
    buckets: HashMap<i64, (f64, Instant, bool)>,
}

impl FloodLimit {
    pub fn new(burst: u32, every: Duration, queue: u32) -> Self {
        FloodLimit {
            burst: f64::from(burst),
            every,
            queue: f64::from(queue),
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
        } else if *tokens > -self.queue {
            // Its token comes when the bucket has refilled past the ones taken before it.
            let wait = self.every.mul_f64(1.0 - *tokens);
            *tokens -= 1.0;
            *warned = false;
            Verdict::Wait(wait)
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
    fn flood_limit_allows_a_burst_paces_a_queue_warns_once_then_refills() {
        let mut f = FloodLimit::new(3, Duration::from_secs(2), 2);
        let t0 = Instant::now();
        let v: Vec<Verdict> = (0..8).map(|_| f.check(7, t0)).collect();
        use Verdict::*;
        let s = Duration::from_secs;
        assert_eq!(
            v,
            [
                Allow,
                Allow,
                Allow,
                Wait(s(2)),
                Wait(s(4)),
                Warn,
                Drop,
                Drop
            ]
        );
        assert_eq!(f.check(8, t0), Allow, "another person is not affected");
        // The queue drains at the refill rate: two refills pay for the two that waited, the
        // next waits for the third.
        assert_eq!(f.check(7, t0 + s(4)), Wait(s(2)));
        assert_eq!(f.check(7, t0 + s(10)), Allow);
    }

    #[test]
    fn without_a_queue_the_limit_refuses_at_once() {
        let mut f = FloodLimit::new(2, Duration::from_secs(1), 0);
        let t0 = Instant::now();
        let v: Vec<Verdict> = (0..4).map(|_| f.check(1, t0)).collect();
        assert_eq!(
            v,
            [Verdict::Allow, Verdict::Allow, Verdict::Warn, Verdict::Drop]
        );
    }
}

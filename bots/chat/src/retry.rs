//! The one retry policy every client uses (arXiv, Hugging Face, the LLM, the chat platforms'
//! replies and delivery, connecting at start-up): exponential backoff with jitter, a server's
//! `Retry-After` (in seconds or as an HTTP date) honoured, a cap on each wait, and a budget of
//! attempts and total waiting. Pure: the caller passes the jitter and the time.

use std::time::{Duration, SystemTime};

/// How a client retries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The first wait; each further one doubles.
    pub base: Duration,
    /// No single wait is longer (a server asking for more is given up on: the budget says so).
    pub cap: Duration,
    /// Tries after the first; 0: none.
    pub retries: u32,
    /// Waiting over all tries at most this long.
    pub budget: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based): `base * 2^(attempt-1)` up to `cap`,
    /// times a factor in [0.5, 1] from `jitter` in [0, 1], so that many clients failing
    /// together do not all come back at the same instant.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        self.base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.cap)
            .mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// Starts counting tries under this policy.
    pub fn start(self) -> Retrying {
        Retrying {
            policy: self,
            attempts: 0,
            waited: Duration::ZERO,
        }
    }
}

/// The tries of one request so far.
#[derive(Debug, Clone)]
pub struct Retrying {
    policy: RetryPolicy,
    attempts: u32,
    waited: Duration,
}

impl Retrying {
    /// After a transient failure: how long to wait before trying again (the server's
    /// `asked` wait when it said one, else the backoff), or `None` when the retries or the
    /// budget are spent, or the server asks for more than `cap`.
    pub fn next(&mut self, asked: Option<Duration>, jitter: f64) -> Option<Duration> {
        self.attempts += 1;
        if self.attempts > self.policy.retries {
            return None;
        }
        let wait = match asked {
            Some(d) if d > self.policy.cap => return None,
            Some(d) => d,
            None => self.policy.backoff(self.attempts, jitter),
        };
        if self.waited.saturating_add(wait) > self.policy.budget {
            return None;
        }
        self.waited += wait;
        Some(wait)
    }

    /// Failures so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// A jitter in [0, 1) for `Retrying::next`, from the standard library's per-process random
/// hash keys (the adapters have no random number generator of their own).
pub fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// An HTTP date (IMF-fixdate, RFC 850 or asctime), as `Date` and `Retry-After` carry them.
pub fn http_date(value: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(value.trim()).ok()
}

/// A `Retry-After` header's value: a number of seconds (fractions allowed, as some servers
/// send), or an HTTP date read against `now` (a date already past: no wait; without `now`, a
/// date is not read).
pub fn retry_after(value: &str, now: Option<SystemTime>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = http_date(v)?;
    Some(at.duration_since(now?).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(60),
            retries: 4,
            budget: Duration::from_secs(100),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let p = policy();
        assert_eq!(p.backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(p.backoff(1, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(3, 1.0), Duration::from_secs(8));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(60));
        for a in 1..12 {
            for j in [0.0, 0.3, 0.99] {
                let d = p.backoff(a, j);
                assert!(d >= p.backoff(a, 0.0) && d <= p.backoff(a, 1.0) && d <= p.cap);
            }
        }
    }

    #[test]
    fn retries_stop_when_the_attempts_or_the_budget_are_spent() {
        let mut r = policy().start();
        let waits: Vec<_> = std::iter::from_fn(|| r.next(None, 1.0)).collect();
        assert_eq!(waits, [2, 4, 8, 16].map(Duration::from_secs));
        assert_eq!(r.attempts(), 5);
        // The server's word wins, within the cap and the budget.
        let mut r = policy().start();
        assert_eq!(
            r.next(Some(Duration::from_secs(45)), 0.0),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            r.next(Some(Duration::from_secs(50)), 0.0),
            Some(Duration::from_secs(50))
        );
        assert_eq!(
            r.next(Some(Duration::from_secs(10)), 0.0),
            None,
            "over the budget"
        );
        let mut r = policy().start();
        assert_eq!(
            r.next(Some(Duration::from_secs(3600)), 0.0),
            None,
            "over the cap"
        );
        let none = RetryPolicy {
            retries: 0,
            ..policy()
        };
        assert_eq!(none.start().next(None, 0.5), None);
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let all: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(all.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(all.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Some(httpdate::parse_http_date("Sun, 06 Dec 2026 10:00:00 GMT").unwrap());
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 1.5 ", now), Some(Duration::from_millis(1500)));
        assert_eq!(
            retry_after("Sun, 06 Dec 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        // RFC 850 and asctime, which HTTP still allows.
        assert_eq!(
            retry_after("Sunday, 06-Dec-26 10:00:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after("Sun Dec  6 10:00:05 2026", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            retry_after("Sun, 06 Dec 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("-3", now), None);
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("", now), None);
        // Without a clock only seconds are read.
        assert_eq!(retry_after("7", None), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Sun, 06 Dec 2026 10:01:30 GMT", None), None);
    }
}

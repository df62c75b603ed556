//! Rate limits as token buckets, pure: the caller passes the time in. One `Limiter` per
//! platform holds the overall bucket, a bucket per chat, a slower one per group, and holds
//! (a 429's retry-after, a route's reset) per chat or for everyone.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket. `burst` is at least one token.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Bucket {
        let burst = burst.max(1.0);
        Bucket {
            rate,
            burst,
            tokens: burst,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        if now > self.at {
            let dt = (now - self.at).as_secs_f64();
            self.tokens = (self.tokens + dt * self.rate).min(self.burst);
            self.at = now;
        }
    }

    /// When the next token is there (`now` if it already is).
    pub fn ready_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.tokens >= 1.0 {
            now
        } else {
            now + Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
        }
    }

    /// Takes a token; the caller has checked `ready_at`.
    pub fn take(&mut self, now: Instant) {
        self.refill(now);
        self.tokens -= 1.0;
    }

    /// Full again, so the bucket can be forgotten without losing anything.
    fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.burst
    }
}

/// One platform's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Messages per second overall.
    pub global: f64,
    /// Messages per second to one chat.
    pub per_chat: f64,
    /// Messages per second to one group chat (Telegram: 20 per minute), on top of `per_chat`.
    pub per_group: Option<f64>,
}

impl Rates {
    /// Overall bursts of a tenth of a second's worth: in any one second at most about 1.1
    /// times the rate goes out, and a large fan-out is spread evenly instead of bursting.
    fn global_burst(&self) -> f64 {
        (self.global / 10.0).max(1.0)
    }
}

#[derive(Debug)]
struct ChatLimit {
    bucket: Bucket,
    group: Option<Bucket>,
    hold: Option<Instant>,
}

/// The limits of one platform, per chat and overall.
#[derive(Debug)]
pub struct Limiter {
    rates: Rates,
    global: Bucket,
    global_hold: Option<Instant>,
    chats: HashMap<String, ChatLimit>,
}

impl Limiter {
    pub fn new(rates: Rates, now: Instant) -> Limiter {
        Limiter {
            rates,
            global: Bucket::new(rates.global, rates.global_burst(), now),
            global_hold: None,
            chats: HashMap::new(),
        }
    }

    /// When anything may go out at all.
    pub fn global_ready_at(&mut self, now: Instant) -> Instant {
        let at = self.global.ready_at(now);
        self.global_hold.map_or(at, |h| h.max(at))
    }

    fn chat(&mut self, chat: &str, group: bool, now: Instant) -> &mut ChatLimit {
        let rates = self.rates;
        self.chats
            .entry(chat.to_string())
            .or_insert_with(|| ChatLimit {
                // One message at a time per chat: no burst.
                bucket: Bucket::new(rates.per_chat, 1.0, now),
                group: rates
                    .per_group
                    .filter(|_| group)
                    .map(|r| Bucket::new(r, 1.0, now)),
                hold: None,
            })
    }

    /// When `chat` may get its next message (ignoring the overall limit).
    pub fn chat_ready_at(&mut self, chat: &str, group: bool, now: Instant) -> Instant {
        let c = self.chat(chat, group, now);
        let mut at = c.bucket.ready_at(now);
        if let Some(g) = &mut c.group {
            at = at.max(g.ready_at(now));
        }
        c.hold.map_or(at, |h| h.max(at))
    }

    /// Spends one message to `chat` from every bucket it passes through.
    pub fn take(&mut self, chat: &str, group: bool, now: Instant) {
        self.global.take(now);
        let c = self.chat(chat, group, now);
        c.bucket.take(now);
        if let Some(g) = &mut c.group {
            g.take(now);
        }
    }

    /// Nothing more to `chat` before `until` (a 429 for it, or its route's reset).
    pub fn hold(&mut self, chat: &str, group: bool, until: Instant) {
        let c = self.chat(chat, group, until);
        c.hold = Some(c.hold.map_or(until, |h| h.max(until)));
    }

    /// Nothing at all before `until` (a global 429).
    pub fn hold_all(&mut self, until: Instant) {
        self.global_hold = Some(self.global_hold.map_or(until, |h| h.max(until)));
    }

    /// Forgets chats whose buckets are full and holds over: they would behave the same if new.
    pub fn forget_idle(&mut self, now: Instant) {
        self.chats.retain(|_, c| {
            let idle = c.bucket.is_full(now)
                && c.group.as_mut().is_none_or(|g| g.is_full(now))
                && c.hold.is_none_or(|h| h <= now);
            !idle
        });
    }

    pub fn tracked_chats(&self) -> usize {
        self.chats.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_bucket_spaces_tokens_at_its_rate_after_the_burst() {
        let t0 = Instant::now();
        let mut b = Bucket::new(10.0, 2.0, t0);
        for _ in 0..2 {
            assert_eq!(b.ready_at(t0), t0);
            b.take(t0);
        }
        assert_eq!(b.ready_at(t0), t0 + ms(100));
        assert_eq!(b.ready_at(t0 + ms(100)), t0 + ms(100));
        b.take(t0 + ms(100));
        assert_eq!(b.ready_at(t0 + ms(100)), t0 + ms(200));
    }

    /// Drives the limiter greedily for `secs` and returns the send times per chat.
    fn drive(rates: Rates, chats: &[(&str, bool)], secs: u64) -> HashMap<String, Vec<Duration>> {
        let t0 = Instant::now();
        let mut l = Limiter::new(rates, t0);
        let mut now = t0;
        let mut sent: HashMap<String, Vec<Duration>> = HashMap::new();
        while now < t0 + Duration::from_secs(secs) {
            let mut next = now + Duration::from_secs(3600);
            for (c, group) in chats {
                let at = l.chat_ready_at(c, *group, now).max(l.global_ready_at(now));
                if at <= now {
                    l.take(c, *group, now);
                    sent.entry(c.to_string()).or_default().push(now - t0);
                } else {
                    next = next.min(at);
                }
            }
            now = next.min(now + ms(1)).max(now + Duration::from_micros(100));
        }
        sent
    }

    #[test]
    fn per_chat_and_per_group_limits_hold_in_every_window() {
        let rates = Rates {
            global: 1000.0,
            per_chat: 1.0,
            per_group: Some(20.0 / 60.0),
        };
        let sent = drive(rates, &[("private", false), ("group", true)], 120);
        let private = &sent["private"];
        let group = &sent["group"];
        for w in private.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(999), "{w:?}");
        }
        // 20 per minute in any minute, and close to it (the limit is used, not wasted).
        for (i, t) in group.iter().enumerate() {
            let in_minute = group[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(60))
                .count();
            assert!(in_minute <= 21, "{in_minute} in the minute from {t:?}");
        }
        assert!((38..=42).contains(&group.len()), "{}", group.len());
        assert!((118..=121).contains(&private.len()), "{}", private.len());
    }

    #[test]
    fn the_overall_limit_spreads_a_fan_out_evenly() {
        let rates = Rates {
            global: 100.0,
            per_chat: 1.0,
            per_group: None,
        };
        let names: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
        let chats: Vec<(&str, bool)> = names.iter().map(|n| (n.as_str(), false)).collect();
        let sent = drive(rates, &chats, 5);
        let mut all: Vec<Duration> = sent.values().flatten().copied().collect();
        all.sort();
        // ~100/s with a 10-message burst: never more than 110 in any second.
        for (i, t) in all.iter().enumerate() {
            let n = all[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(n <= 111, "{n} in the second from {t:?}");
        }
        assert!((495..=512).contains(&all.len()), "{}", all.len());
    }

    #[test]
    fn holds_delay_one_chat_or_everyone() {
        let rates = Rates {
            global: 100.0,
            per_chat: 10.0,
            per_group: None,
        };
        let t0 = Instant::now();
        let mut l = Limiter::new(rates, t0);
        l.hold("a", false, t0 + ms(5000));
        assert_eq!(l.chat_ready_at("a", false, t0), t0 + ms(5000));
        assert_eq!(l.chat_ready_at("b", false, t0), t0);
        l.hold_all(t0 + ms(2000));
        assert_eq!(l.global_ready_at(t0), t0 + ms(2000));
        assert_eq!(l.global_ready_at(t0 + ms(2000)), t0 + ms(2000));
        l.forget_idle(t0 + ms(6000));
        assert_eq!(l.tracked_chats(), 0);
    }
}

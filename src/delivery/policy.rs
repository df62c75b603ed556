//! The failure policy, pure: what a send's outcome means for the message and its chat.

use std::time::Duration;

use paperbell_chat::SendError;
use paperbell_chat::retry::RetryPolicy;

/// The policy's settings (from `[delivery]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub max_age: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

/// What to do after a failed send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Try this message again after the wait; nothing else to this chat before then.
    HoldChat(Duration),
    /// Nothing to anyone on this platform before the wait is over (a global 429).
    HoldAll(Duration),
    /// A transient failure: try again after an exponential, jittered backoff.
    Backoff(Duration),
    /// Give up on this message (with why); the chat is fine.
    Drop(String),
    /// The chat refuses the bot: mark it inactive and drop everything queued for it.
    Deactivate(String),
    /// The chat has a new id: move it (subscriptions, ledger, queue) and send there.
    Move(String),
}

/// The wait before retry number `attempt` (1-based): `base * 2^(attempt-1)` up to `max`, times
/// a jitter factor in [0.5, 1) from `jitter` in [0, 1), so that many chats failing together
/// do not all come back at the same instant.
pub fn backoff(p: &Policy, attempt: u32, jitter: f64) -> Duration {
    // The one retry policy's backoff; the message's age is its budget (`on_failure`).
    RetryPolicy {
        base: p.retry_base,
        cap: p.retry_max,
        retries: u32::MAX,
        budget: p.max_age,
    }
    .backoff(attempt, jitter)
}

/// What a failure means. `attempts` counts this failure; `age` is how long ago the message was
/// planned. A transient failure past the maximum age drops the message.
pub fn on_failure(p: &Policy, e: &SendError, attempts: u32, age: Duration, jitter: f64) -> Action {
    match e {
        SendError::RetryAfter(d) => Action::HoldChat(*d),
        SendError::GlobalRetryAfter(d) => Action::HoldAll(*d),
        SendError::Permanent(why) => Action::Deactivate(why.clone()),
        SendError::Migrated(to) => Action::Move(to.clone()),
        SendError::TooLong => Action::Drop("the platform says the message is too long".into()),
        SendError::Rejected(why) => Action::Drop(format!("the platform refused it: {why}")),
        SendError::Transient(why) => {
            let wait = backoff(p, attempts, jitter);
            if age + wait > p.max_age {
                Action::Drop(format!(
                    "still failing after {attempts} attempt(s) and {} min (max age {} h): {why}",
                    age.as_secs() / 60,
                    p.max_age.as_secs_f64() / 3600.0
                ))
            } else {
                Action::Backoff(wait)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            max_age: Duration::from_secs(12 * 3600),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(600),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let p = policy();
        assert_eq!(backoff(&p, 1, 0.99).as_secs(), 4);
        assert_eq!(backoff(&p, 1, 0.0), Duration::from_millis(2500));
        assert_eq!(backoff(&p, 3, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(&p, 30, 0.0), Duration::from_secs(300));
        for a in 1..40 {
            for j in [0.0, 0.3, 0.99] {
                let d = backoff(&p, a, j);
                assert!(d <= p.retry_max && d >= p.retry_base / 2, "{a} {j} {d:?}");
            }
        }
    }

    #[test]
    fn each_error_gets_its_action() {
        let p = policy();
        let young = Duration::from_secs(60);
        let on = |e: SendError| on_failure(&p, &e, 1, young, 0.0);
        assert_eq!(
            on(SendError::RetryAfter(Duration::from_secs(7))),
            Action::HoldChat(Duration::from_secs(7))
        );
        assert_eq!(
            on(SendError::GlobalRetryAfter(Duration::from_secs(2))),
            Action::HoldAll(Duration::from_secs(2))
        );
        assert!(
            matches!(on(SendError::Permanent("blocked".into())), Action::Deactivate(w) if w == "blocked")
        );
        assert_eq!(
            on(SendError::Migrated("-100".into())),
            Action::Move("-100".into())
        );
        assert!(matches!(on(SendError::TooLong), Action::Drop(_)));
        assert!(matches!(
            on(SendError::Rejected("x".into())),
            Action::Drop(_)
        ));
        assert!(matches!(
            on(SendError::Transient("502".into())),
            Action::Backoff(_)
        ));
    }

    #[test]
    fn transient_failures_are_dropped_at_the_maximum_age() {
        let p = policy();
        let e = SendError::Transient("timeout".into());
        let almost = p.max_age - Duration::from_secs(60);
        assert!(matches!(
            on_failure(&p, &e, 1, almost - Duration::from_secs(60), 0.0),
            Action::Backoff(_)
        ));
        match on_failure(&p, &e, 9, almost, 0.0) {
            Action::Drop(why) => assert!(why.contains("9 attempt(s)"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}

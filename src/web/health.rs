//! `/healthz`: whether the service is healthy, from outside, from the first second it runs:
//! what is ready (the store, the search index, each platform connected or connecting), the
//! last successful fetch and its age, the newest announcement day, each platform's queue. A
//! 503 only for a real fault: the store cannot be written, or no fetch has succeeded within
//! `stale_after` (counted from start-up when none ever has).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use paperbell_chat::Platform;
use serde_json::{Value, json};

use crate::search::SearchIndex;
use crate::store::Store;

/// What a chat platform is doing, as the service last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformState {
    /// Being connected (retried until the platform answers); its commands wait.
    Connecting,
    /// Connected and running its loop (polling, gateway, or waiting for webhooks).
    Running,
    /// Its loop ended with an error; the service goes on without it.
    Failed,
    /// Its loop ended (shutting down).
    Stopped,
}

impl PlatformState {
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformState::Connecting => "connecting",
            PlatformState::Running => "running",
            PlatformState::Failed => "failed",
            PlatformState::Stopped => "stopped",
        }
    }
}

/// The platforms the service runs and their states, shared with the tasks that run them.
#[derive(Debug, Clone, Default)]
pub struct Platforms(Arc<Mutex<Vec<(Platform, PlatformState)>>>);

impl Platforms {
    pub fn set(&self, platform: Platform, state: PlatformState) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match all.iter_mut().find(|(p, _)| *p == platform) {
            Some(entry) => entry.1 = state,
            None => all.push((platform, state)),
        }
    }

    pub fn states(&self) -> Vec<(Platform, PlatformState)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What the health report reads besides the store.
pub struct Seen<'a> {
    pub platforms: &'a Platforms,
    /// The search index, when the service has one.
    pub search: Option<&'a SearchIndex>,
    pub now: DateTime<Utc>,
    /// When the service started.
    pub started: DateTime<Utc>,
    pub stale_after: chrono::Duration,
}

/// The health report and whether it is healthy (a 200 rather than a 503).
pub fn report(store: &Store, seen: &Seen<'_>) -> (bool, Value) {
    let Seen {
        platforms,
        search,
        now,
        started,
        stale_after,
    } = *seen;
    let mut problems = Vec::new();
    let last_fetch = store.meta("last_fetch_ok");
    let newest = store.latest_day();
    let writable = store.probe_write(now);
    let store_state = match (&last_fetch, &newest, &writable) {
        (Ok(_), Ok(_), Ok(w)) => json!({
            "ok": true,
            "papers": store.paper_count(),
            "writes": if *w { "open" } else { "held by a backup" },
        }),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            problems.push(format!("the store fails: {e}"));
            json!({"ok": false, "error": e.to_string()})
        }
    };
    let search_state = match search {
        None => json!({"state": "off"}),
        Some(index) => match index.held() {
            Ok(held) => {
                let behind = store.change_seq().saturating_sub(held);
                let state = if held == 0 && behind > 0 {
                    "building"
                } else if behind > 0 {
                    "catching up"
                } else {
                    "ready"
                };
                json!({"state": state, "changes_behind": behind})
            }
            Err(e) => json!({"state": "failing", "error": e.to_string()}),
        },
    };
    let last = last_fetch
        .ok()
        .flatten()
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc));
    let fetch = match last {
        Some(at) => {
            let age = now - at;
            if age > stale_after {
                problems.push(format!(
                    "the last successful fetch was {} hours ago (more than {})",
                    age.num_hours(),
                    stale_after.num_hours()
                ));
            }
            json!({"at": at.to_rfc3339(), "age_secs": age.num_seconds().max(0)})
        }
        None => {
            // A service that just started has not fetched yet: that is a fault only once it
            // has run longer than a fetch may take to succeed.
            if now - started > stale_after {
                problems.push(format!(
                    "no fetch has succeeded in the {} hours since start-up",
                    (now - started).num_hours()
                ));
            }
            json!({"at": null, "age_secs": null})
        }
    };
    let mut per_platform = serde_json::Map::new();
    for (p, state) in platforms.states() {
        // A failed platform is reported, not unhealthy: the service still fetches, serves
        // the pages and delivers to the other platform.
        per_platform.insert(
            p.as_str().to_string(),
            json!({"state": state.as_str(), "queued": store.outbox_len(p)}),
        );
    }
    let healthy = problems.is_empty();
    let body = json!({
        "status": if healthy { "ok" } else { "unhealthy" },
        "problems": problems,
        "up_secs": (now - started).num_seconds().max(0),
        "store": store_state,
        "search": search_state,
        "last_fetch": fetch,
        "stale_after_secs": stale_after.num_seconds(),
        "newest_day": newest.ok().flatten().map(|d| d.to_string()),
        "platforms": per_platform,
    });
    (healthy, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_after_a_recent_fetch_and_not_when_it_is_old_or_never() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let platforms = Platforms::default();
        platforms.set(Platform::Telegram, PlatformState::Connecting);
        let now: DateTime<Utc> = "2026-11-29T12:00:00Z".parse().unwrap();
        let stale = chrono::Duration::hours(80);
        let seen = |now, started| Seen {
            platforms: &platforms,
            search: None,
            now,
            started,
            stale_after: stale,
        };
        // Just started, nothing fetched, the platform still connecting: healthy, and says so.
        let (ok, body) = report(&store, &seen(now, now));
        assert!(ok, "{body}");
        assert_eq!(body["platforms"]["telegram"]["state"], "connecting");
        assert_eq!(body["search"]["state"], "off");
        assert_eq!(body["store"]["writes"], "open");
        // Running longer than a fetch may take without one: a fault.
        let (ok, body) = report(&store, &seen(now, now - chrono::Duration::hours(81)));
        assert!(!ok);
        assert_eq!(
            body["problems"][0],
            "no fetch has succeeded in the 81 hours since start-up"
        );
        platforms.set(Platform::Telegram, PlatformState::Running);
        store
            .set_meta("last_fetch_ok", "2026-11-28T20:30:00+00:00")
            .unwrap();
        let long_ago = now - chrono::Duration::days(10);
        let (ok, body) = report(&store, &seen(now, long_ago));
        assert!(ok, "{body}");
        assert_eq!(body["last_fetch"]["age_secs"], 15 * 3600 + 1800);
        assert_eq!(body["platforms"]["telegram"]["state"], "running");
        assert_eq!(body["platforms"]["telegram"]["queued"], 0);
        let later = now + chrono::Duration::hours(70);
        let (ok, body) = report(&store, &seen(later, long_ago));
        assert!(!ok);
        assert!(
            body["problems"][0]
                .as_str()
                .unwrap()
                .contains("85 hours ago"),
            "{body}"
        );
    }
}

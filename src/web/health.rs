//! `/healthz`: whether the service is healthy, from outside. The store's state, the last
//! successful fetch and its age, the newest announcement day, each platform's state and queue.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use paperbell_chat::Platform;
use serde_json::{Value, json};

use crate::store::Store;

/// What a chat platform is doing, as the service last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformState {
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

/// The health report and whether it is healthy (a 200 rather than a 503).
pub fn report(
    store: &Store,
    platforms: &Platforms,
    now: DateTime<Utc>,
    stale_after: chrono::Duration,
) -> (bool, Value) {
    let mut problems = Vec::new();
    let last_fetch = store.meta("last_fetch_ok");
    let newest = store.latest_day();
    let store_state = match (&last_fetch, &newest) {
        (Ok(_), Ok(_)) => json!({"ok": true, "papers": store.paper_count()}),
        (Err(e), _) | (_, Err(e)) => {
            problems.push(format!("the store fails: {e}"));
            json!({"ok": false, "error": e.to_string()})
        }
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
            problems.push("no fetch has succeeded yet".to_string());
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
        "store": store_state,
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
        platforms.set(Platform::Telegram, PlatformState::Running);
        let now: DateTime<Utc> = "2026-11-29T12:00:00Z".parse().unwrap();
        let stale = chrono::Duration::hours(80);
        let (ok, body) = report(&store, &platforms, now, stale);
        assert!(!ok);
        assert_eq!(body["problems"][0], "no fetch has succeeded yet");
        store
            .set_meta("last_fetch_ok", "2026-11-28T20:30:00+00:00")
            .unwrap();
        let (ok, body) = report(&store, &platforms, now, stale);
        assert!(ok, "{body}");
        assert_eq!(body["last_fetch"]["age_secs"], 15 * 3600 + 1800);
        assert_eq!(body["platforms"]["telegram"]["state"], "running");
        assert_eq!(body["platforms"]["telegram"]["queued"], 0);
        let later = now + chrono::Duration::hours(70);
        let (ok, body) = report(&store, &platforms, later, stale);
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

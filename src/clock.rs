//! The wall clock, given to whatever needs the date or time: the system's, or one that runs
//! on tokio's pausable time from a chosen start, so tests can run days in milliseconds. Library
//! code takes `now` from a `Clock` it is handed (or as a value), never from the system itself.

use chrono::{DateTime, Utc};

/// Wall-clock time for schedules: the system's, or one that runs on tokio's (pausable) clock
/// from a chosen start, so tests can run days in milliseconds.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Simulated {
        start: DateTime<Utc>,
        at: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock that reads `start` now and advances with `tokio::time`.
    pub fn simulated(start: DateTime<Utc>) -> Clock {
        Clock::Simulated {
            start,
            at: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Simulated { start, at } => {
                *start + chrono::Duration::from_std(at.elapsed()).unwrap_or_default()
            }
        }
    }
}

//! Durable delivery: planning at each chat's local time into a sled outbox (`plan`), senders
//! that drain it within each platform's limits (`send`, `limits`) under the failure policy
//! (`policy`), and the status that `paperbell status` prints.

pub mod limits;
pub mod plan;
pub mod policy;
pub mod send;
pub mod times;

use std::sync::Arc;
use std::time::Duration;

use paperbell_chat::Platform;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::DeliveryConfig;
use crate::store::{Store, StoreError};
pub use limits::Rates;

/// Why planning or a sender stopped: the store failed, or a planning thread panicked.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a planning task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
pub use plan::Planner;
pub use policy::Policy;
pub use send::{Sender, SenderSettings};

/// A platform's sender settings from the config.
pub fn sender_settings(c: &DeliveryConfig, platform: Platform) -> SenderSettings {
    let rates = match platform {
        Platform::Telegram => Rates {
            global: c.telegram_per_sec,
            per_chat: c.telegram_per_chat_per_sec,
            per_group: Some(c.telegram_per_group_per_min / 60.0),
        },
        Platform::Discord => Rates {
            global: c.discord_per_sec,
            per_chat: c.discord_per_channel_per_sec,
            per_group: None,
        },
    };
    SenderSettings {
        rates,
        policy: Policy {
            max_age: Duration::from_secs_f64(c.max_age_hours * 3600.0),
            retry_base: Duration::from_secs_f64(c.retry_base_secs),
            retry_max: Duration::from_secs_f64(c.retry_max_secs),
        },
        concurrency: c.concurrency,
    }
}

/// Planning as a long-running component: on every tick and after every successful fetch,
/// plans the chats that are due and hands the new items to their platform's sender.
pub struct PlanJob {
    pub planner: Arc<Planner>,
    pub clock: Clock,
    pub tick: Duration,
    pub ledger_days: u32,
    pub fetched: Arc<Notify>,
    pub senders: Vec<(Platform, mpsc::UnboundedSender<(u64, String)>)>,
}

impl PlanJob {
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), DeliveryError> {
        let mut pruned_on = None;
        loop {
            let now = self.clock.now();
            let planner = self.planner.clone();
            let prune = (pruned_on != Some(now.date_naive()))
                .then(|| now.date_naive() - chrono::Duration::days(self.ledger_days as i64));
            let result = tokio::task::spawn_blocking(move || {
                if let Some(before) = prune {
                    let n = planner.store().prune_ledger(before)?;
                    if n > 0 {
                        tracing::info!(lists = n, "pruned old ledger entries");
                    }
                }
                planner.plan_due(now)
            })
            .await?;
            match result {
                Ok(run) => {
                    pruned_on = Some(now.date_naive());
                    if let Some(e) = &run.failed {
                        tracing::error!(
                            error = %e,
                            written = run.items.len(),
                            "planning stopped part-way; what was written goes out, the rest is planned again next tick"
                        );
                    }
                    if !run.items.is_empty() {
                        tracing::info!(
                            chats = run.planned_chats,
                            messages = run.items.len(),
                            "digests planned"
                        );
                    }
                    for (platform, seq, chat) in run.items {
                        if let Some((_, tx)) = self.senders.iter().find(|(p, _)| *p == platform) {
                            let _ = tx.send((seq, chat));
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "planning failed; trying again next tick"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(self.tick) => {}
                _ = self.fetched.notified() => {}
            }
        }
    }
}

/// What `paperbell status` prints: per platform, the counters, queue depth and last delivery;
/// the last successful fetch; chats and subscriptions; how far similar papers are kept.
pub fn status(store: &Store) -> Result<String, StoreError> {
    let mut out = String::new();
    let chats = store.chats()?;
    let active = chats.iter().filter(|c| c.active).count();
    out.push_str(&format!(
        "last fetch:    {}\nnewest day:    {}\nchats:         {} ({} active)\n",
        store
            .meta("last_fetch_ok")?
            .unwrap_or_else(|| "never".into()),
        store
            .latest_day()?
            .map_or("none".to_string(), |d| d.to_string()),
        chats.len(),
        active
    ));
    out.push_str(&format!(
        "similar:       {}\n",
        match store.similar_backfill()? {
            crate::store::Backfill::Done => "kept for every paper".to_string(),
            crate::store::Backfill::From(day) =>
                format!("kept down to {day}; the backfill goes on, older days next"),
            crate::store::Backfill::Start => "not worked out yet".to_string(),
        }
    ));
    for p in [Platform::Telegram, Platform::Discord] {
        let c = store.counters(p)?;
        out.push_str(&format!(
            "\n{}:\n  queued:        {}\n  planned:       {}\n  sent:          {}\n  retried:       {}\n  dropped:       {}\n  deactivated:   {}\n  last delivery: {}\n",
            p.as_str(),
            store.outbox_len(p),
            c.planned,
            c.sent,
            c.retried,
            c.dropped,
            c.deactivated,
            store.last_delivery(p)?.unwrap_or_else(|| "never".into())
        ));
    }
    Ok(out)
}

//! Durable delivery: planning at each chat's local time into a sled outbox (`plan`), senders
//! that drain it within each platform's limits (`send`, `limits`) under the failure policy
//! (`policy`), and the status that `paperbell status` prints.

pub mod limits;
pub mod plan;
pub mod policy;
pub mod send;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use paperbell_chat::{DigestMessage, Lang, PaperItem, Platform, TldrSource};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::config::DeliveryConfig;
use crate::paper::PaperId;
use crate::store::{OutboxItem, Store, StoreError};
pub use limits::Rates;
pub use plan::Planner;
pub use policy::Policy;
pub use send::{Sender, SenderSettings};

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

/// Papers as chats show them, shared by every digest of a fan-out (a TL;DR is computed once
/// per paper and language, not once per chat).
#[derive(Default)]
pub struct PaperCache {
    items: HashMap<(String, Lang), (tokio::time::Instant, PaperItem)>,
}

/// Cached papers before the cache starts over (one or two announcement days).
const PAPER_CACHE_MAX: usize = 20_000;
/// An extractive TL;DR is looked up again after this long: the LLM may have written one since
/// the fan-out began.
pub(crate) const EXTRACTIVE_RECHECK: Duration = Duration::from_secs(60);

/// The digest an outbox item stands for, built from the store as it is now: the LLM's
/// summaries and topic overview when the cache has them, else the extractive ones.
pub fn digest_message(
    store: &Store,
    item: &OutboxItem,
    cache: &Mutex<PaperCache>,
) -> Result<DigestMessage, StoreError> {
    let m = &item.message;
    let lang = Lang::from_code(&m.lang).unwrap_or(Lang::En);
    let mut papers = Vec::with_capacity(m.papers.len());
    for (id, topics) in &m.papers {
        let key = (id.clone(), lang);
        let cached = cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .items
            .get(&key)
            .filter(|(at, p)| p.tldr_source == TldrSource::Llm || at.elapsed() < EXTRACTIVE_RECHECK)
            .map(|(_, p)| p.clone());
        let mut p = match cached {
            Some(p) => p,
            None => {
                let Some(sp) = PaperId::parse(id)
                    .map(|pid| store.paper(&pid))
                    .transpose()?
                    .flatten()
                else {
                    // Not stored any more: the rest of the digest still goes out.
                    continue;
                };
                let p = crate::commands::item(store, &sp, &[], lang)?;
                let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
                if c.items.len() >= PAPER_CACHE_MAX {
                    c.items.clear();
                }
                c.items
                    .insert(key, (tokio::time::Instant::now(), p.clone()));
                p
            }
        };
        p.topics = topics.clone();
        papers.push(p);
    }
    // The LLM's overview of the newest day covered, above the counts and keywords.
    let newest = m
        .day
        .rsplit(' ')
        .next()
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok());
    let overview = match (&m.unsubscribe_topic, newest) {
        (Some(topic), Some(day)) => {
            crate::commands::overview_with_llm(store, topic, day, lang, m.overview.clone())?
        }
        _ => m.overview.clone(),
    };
    Ok(DigestMessage {
        title: m.title.clone(),
        day: m.day.clone(),
        overview,
        papers,
        more: m.more as usize,
        unsubscribe_topic: m.unsubscribe_topic.clone(),
        lang,
        compact: m.compact,
    })
}

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
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
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
/// the last successful fetch; chats and subscriptions.
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

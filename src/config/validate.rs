//! Checking a parsed config beyond what its types say: ranges, the cron expression, the rules
//! that span several keys (a mode and what it needs) and the topics, each problem naming its
//! exact key. Zones, times, the listener, URLs, Discord ids and modes are typed (`typed`) and
//! checked as read.

use super::*;
use crate::topics::{TopicSet, compile_all};

impl Config {
    /// Checks values serde cannot: ranges, the cron expression, keys together and topics.
    pub(super) fn validate(&self) -> Result<(), InvalidSetting> {
        self.check_sources()?;
        self.check_delivery()?;
        self.check_telegram()?;
        self.check_http()?;
        self.check_discord()?;
        self.check_llm()?;
        self.topic_set().map(|_| ())
    }

    /// The limits of arXiv's, Hugging Face's and the LLM's clients, and the store's cache.
    fn check_sources(&self) -> Result<(), InvalidSetting> {
        let (a, h, l) = (&self.arxiv, &self.huggingface, &self.llm);
        for (key, v) in [
            ("arxiv.min_interval_secs", a.min_interval_secs),
            ("huggingface.min_interval_secs", h.min_interval_secs),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(key.into(), "must be 0 or more seconds".into()));
            }
        }
        for (key, v) in [
            ("arxiv.timeout_secs", a.timeout_secs),
            ("huggingface.timeout_secs", h.timeout_secs),
            ("llm.timeout_secs", l.timeout_secs),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(key.into(), "must be more than 0 seconds".into()));
            }
        }
        if self.store.cache_mb > 65536 {
            return Err(invalid(
                "store.cache_mb".into(),
                "must be between 1 and 65536 (MiB), or 0 for the store's share of memory.budget_mb"
                    .into(),
            ));
        }
        if !(8..=65536).contains(&self.memory.budget_mb) {
            return Err(invalid(
                "memory.budget_mb".into(),
                "must be between 8 and 65536 (MiB)".into(),
            ));
        }
        if !(1..=2000).contains(&a.page_size) {
            return Err(invalid(
                "arxiv.page_size".into(),
                format!(
                    "{} is outside 1..=2000 (arXiv's limit per call)",
                    a.page_size
                ),
            ));
        }
        if !(1..=30000).contains(&a.max_results) {
            return Err(invalid(
                "arxiv.max_results".into(),
                "must be between 1 and 30000 (arXiv's limit)".into(),
            ));
        }
        Ok(())
    }

    /// The fetch schedule, delivery's limits and the default delivery time.
    fn check_delivery(&self) -> Result<(), InvalidSetting> {
        self.fetch_schedule()?;
        let d = &self.delivery;
        for (key, v) in [
            ("delivery.tick_secs", d.tick_secs),
            ("delivery.max_age_hours", d.max_age_hours),
            ("delivery.retry_base_secs", d.retry_base_secs),
            ("delivery.retry_max_secs", d.retry_max_secs),
            ("delivery.telegram_per_sec", d.telegram_per_sec),
            (
                "delivery.telegram_per_chat_per_sec",
                d.telegram_per_chat_per_sec,
            ),
            (
                "delivery.telegram_per_group_per_min",
                d.telegram_per_group_per_min,
            ),
            ("delivery.discord_per_sec", d.discord_per_sec),
            (
                "delivery.discord_per_channel_per_sec",
                d.discord_per_channel_per_sec,
            ),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(key.into(), format!("{v} must be a number above 0")));
            }
        }
        if !(1..=1024).contains(&d.concurrency) {
            return Err(invalid(
                "delivery.concurrency".into(),
                "must be between 1 and 1024".into(),
            ));
        }
        if d.ledger_days == 0 {
            return Err(invalid(
                "delivery.ledger_days".into(),
                "must be 1 or more".into(),
            ));
        }
        Ok(())
    }

    /// Telegram's mode and what the webhook needs.
    fn check_telegram(&self) -> Result<(), InvalidSetting> {
        if self.telegram.mode == TelegramMode::Webhook {
            if self.telegram.webhook_url.is_none() {
                return Err(invalid(
                    "telegram.webhook_url".into(),
                    "webhook mode needs the public URL Telegram posts to, e.g. https://bot.example.org/telegram/webhook".into(),
                ));
            }
            if self.http.address().is_none() {
                return Err(invalid(
                    "http.listen".into(),
                    "webhook mode needs the HTTP listener, e.g. 127.0.0.1:8080".into(),
                ));
            }
        }
        Ok(())
    }

    /// The listener, health's patience and the backup schedule.
    fn check_http(&self) -> Result<(), InvalidSetting> {
        if !(self.http.stale_after_hours.is_finite() && self.http.stale_after_hours > 0.0) {
            return Err(invalid(
                "http.stale_after_hours".into(),
                "must be a positive number of hours".into(),
            ));
        }
        if !(self.backup.every_hours.is_finite() && self.backup.every_hours >= 0.0) {
            return Err(invalid(
                "backup.every_hours".into(),
                "must be a number of hours, 0 for no scheduled backups".into(),
            ));
        }
        Ok(())
    }

    /// Discord's ids, key and mode.
    fn check_discord(&self) -> Result<(), InvalidSetting> {
        let d = &self.discord;
        if let Some(k) = &d.public_key
            && (k.trim().len() != 64 || !k.trim().chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(invalid(
                "discord.public_key".into(),
                format!(
                    "`{k}` is not a public key: 64 hex digits from the Developer Portal's General Information"
                ),
            ));
        }
        if d.mode == DiscordMode::Http {
            if d.public_key.is_none() {
                return Err(invalid(
                    "discord.public_key".into(),
                    "HTTP interactions need the application's public key (Developer Portal > General Information)".into(),
                ));
            }
            if self.http.address().is_none() {
                return Err(invalid(
                    "http.listen".into(),
                    "HTTP interactions need the HTTP listener, e.g. 127.0.0.1:8080".into(),
                ));
            }
        }
        Ok(())
    }

    /// The LLM: both its server and model, or neither.
    fn check_llm(&self) -> Result<(), InvalidSetting> {
        let l = &self.llm;
        if l.base_url.is_none() != l.model.trim().is_empty() {
            return Err(invalid(
                if l.model.trim().is_empty() {
                    "llm.model"
                } else {
                    "llm.base_url"
                }
                .into(),
                "an LLM needs both base_url and model (leave both empty for extractive summaries only)"
                    .into(),
            ));
        }
        if !l.embedding_model.trim().is_empty() && !l.enabled() {
            return Err(invalid(
                "llm.embedding_model".into(),
                "embeddings come from the LLM's server: set llm.base_url and llm.model too".into(),
            ));
        }
        if !(1..=256).contains(&l.max_concurrency) {
            return Err(invalid(
                "llm.max_concurrency".into(),
                "must be between 1 and 256".into(),
            ));
        }
        Ok(())
    }

    /// The fetch schedule as a parsed cron expression.
    pub fn fetch_schedule(&self) -> Result<cron::Schedule, InvalidSetting> {
        self.schedule.fetch.parse::<cron::Schedule>().map_err(|e| {
            invalid(
                "schedule.fetch".into(),
                format!(
                    "`{}` is not a cron expression ({e}); use 6 fields with seconds first and day names, e.g. \"0 30 20 * * Sun-Thu\"",
                    self.schedule.fetch
                ),
            )
        })
    }

    /// The configured topics, compiled and validated; errors name the exact key.
    pub fn topic_set(&self) -> Result<TopicSet, InvalidSetting> {
        compile_all(&self.topics, self.huggingface.enabled).map_err(|e| InvalidSetting {
            key: e.field,
            message: e.message,
        })
    }
}

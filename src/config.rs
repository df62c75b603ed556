//! Configuration: the only module that reads config files or the environment. It turns
//! `config/paperbell.toml` plus `PAPERBELL_<SECTION>_<KEY>` overrides into a typed, validated
//! `Config`. Secrets (bot tokens, API keys) are read only from the environment (or a file an
//! environment variable names) and are never printed: `Secret` redacts itself.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::chat::{self, ChatDefaults};
use crate::topics::{TopicDef, TopicSet, compile_all};

/// The configuration shipped with paperbell, used when the default file is absent.
pub const DEFAULT_CONFIG: &str = include_str!("../config/paperbell.toml");
pub const DEFAULT_CONFIG_PATH: &str = "config/paperbell.toml";

/// A secret value. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub store: StoreConfig,
    pub arxiv: ArxivConfig,
    pub schedule: ScheduleConfig,
    pub telegram: TelegramConfig,
    pub discord: DiscordConfig,
    pub delivery: DeliveryConfig,
    pub huggingface: HuggingFaceConfig,
    pub llm: LlmConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub topics: Vec<TopicDef>,
}

/// How digests are delivered: the outbox's rate limits and failure policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// How often planning looks for chats whose local delivery time has come.
    pub tick_secs: f64,
    /// A message still failing (transient errors) this long after it was planned is dropped.
    pub max_age_hours: f64,
    /// First wait after a transient failure; it doubles per attempt (with jitter) up to
    /// `retry_max_secs`.
    pub retry_base_secs: f64,
    pub retry_max_secs: f64,
    /// Ledger entries (which papers went to which chat) are kept this many days.
    pub ledger_days: u32,
    /// Sends in flight at once, per platform.
    pub concurrency: usize,
    /// Telegram: messages per second overall, per chat, and per minute in a group.
    pub telegram_per_sec: f64,
    pub telegram_per_chat_per_sec: f64,
    pub telegram_per_group_per_min: f64,
    /// Discord: requests per second overall (Discord's global limit is 50) and per channel;
    /// each channel's own limit from Discord's rate-limit headers applies on top.
    pub discord_per_sec: f64,
    pub discord_per_channel_per_sec: f64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            tick_secs: 30.0,
            max_age_hours: 12.0,
            retry_base_secs: 5.0,
            retry_max_secs: 600.0,
            ledger_days: 400,
            concurrency: 32,
            telegram_per_sec: 25.0,
            telegram_per_chat_per_sec: 1.0,
            telegram_per_group_per_min: 20.0,
            discord_per_sec: 40.0,
            discord_per_channel_per_sec: 1.0,
        }
    }
}

/// Hugging Face Daily Papers: the `hf-daily` topic and enrichment (no key needed).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HuggingFaceConfig {
    pub enabled: bool,
    pub api_url: String,
    /// Seconds between two requests to Hugging Face.
    pub min_interval_secs: f64,
    pub timeout_secs: f64,
    /// Most papers looked up one by one (`/api/papers/<id>`) after a fetch; the daily list
    /// enriches its own papers without extra requests.
    pub max_lookups: usize,
}

impl Default for HuggingFaceConfig {
    fn default() -> Self {
        HuggingFaceConfig {
            enabled: true,
            api_url: "https://huggingface.co".into(),
            min_interval_secs: 1.0,
            timeout_secs: 20.0,
            max_lookups: 300,
        }
    }
}

/// An optional OpenAI-compatible LLM (OpenAI, DeepSeek, Ollama, vLLM, llama.cpp): off unless
/// `base_url` and `model` are set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// The API root that `/chat/completions` hangs off, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1` (Ollama).
    pub base_url: String,
    pub model: String,
    /// The environment variable that holds the API key (none needed for a local server).
    pub api_key_env: String,
    pub max_concurrency: usize,
    /// Tokens (as the server reports them) per UTC day; past it, summaries are extractive.
    pub daily_token_budget: u64,
    /// Seconds one request may take before the extractive summary is used instead.
    pub timeout_secs: f64,
    /// Send `response_format` with a JSON schema (turn off for servers that reject it; the
    /// answer is validated either way).
    pub json_schema: bool,
    #[serde(skip)]
    pub api_key: Option<Secret>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: String::new(),
            model: String::new(),
            api_key_env: "PAPERBELL_LLM_API_KEY".into(),
            max_concurrency: 4,
            daily_token_budget: 2_000_000,
            timeout_secs: 60.0,
            json_schema: true,
            api_key: None,
        }
    }
}

impl LlmConfig {
    /// Whether an LLM is configured at all.
    pub fn enabled(&self) -> bool {
        !self.base_url.trim().is_empty() && !self.model.trim().is_empty()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the embedded sled store.
    pub path: PathBuf,
    /// The store's page cache in MiB: most of the service's resident memory.
    pub cache_mb: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArxivConfig {
    pub api_url: String,
    pub feed_url: String,
    /// Seconds between two requests to arXiv (API and feeds together). arXiv asks for 3.
    pub min_interval_secs: f64,
    pub timeout_secs: f64,
    pub max_retries: u32,
    /// First retry delay; doubles each attempt (with jitter), capped at 5 minutes.
    pub backoff_base_ms: u64,
    pub user_agent: String,
    /// `max_results` per API call (arXiv allows at most 2000).
    pub page_size: u32,
    /// Most results one API query may page through (arXiv stops at 30000).
    pub max_results: u32,
    /// How many days back an API query for a topic without categories looks.
    pub query_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// When to fetch: cron with seconds first (`sec min hour day month weekday`), in `timezone`.
    pub fetch: String,
    pub timezone: String,
    /// Fetch once at start-up when the last successful fetch is older than 12 hours.
    pub fetch_on_start: bool,
    /// Default digest time and zone for chats that set none.
    pub delivery_time: String,
    pub delivery_timezone: String,
}

impl ScheduleConfig {
    /// The defaults of chats that set no time or zone. `Config::load` validated both, so a
    /// value that does not parse here can only come from a config built by hand (tests): it
    /// is the built-in default.
    pub fn chat_defaults(&self) -> ChatDefaults {
        let built_in = ChatDefaults::default();
        ChatDefaults {
            time: chat::parse_time(&self.delivery_time).unwrap_or(built_in.time),
            tz: chat::parse_zone(&self.delivery_timezone).unwrap_or(built_in.tz),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    pub api_url: String,
    /// `polling` (default; no public URL needed) or `webhook`.
    pub mode: String,
    /// Webhook mode: the public HTTPS URL Telegram posts to; it must reach
    /// `/telegram/webhook` on `[http] listen`.
    pub webhook_url: Option<String>,
    #[serde(skip)]
    pub token: Option<Secret>,
    /// Webhook mode: the `X-Telegram-Bot-Api-Secret-Token` value (random per start if unset).
    #[serde(skip)]
    pub webhook_secret: Option<Secret>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    pub api_url: String,
    pub application_id: Option<String>,
    pub public_key: Option<String>,
    pub guild_id: Option<String>,
    pub mode: String,
    #[serde(skip)]
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address of the HTTP listener for webhooks and interactions, e.g. `127.0.0.1:8080`.
    pub listen: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: `info`, `paperbell=debug`, ... (`RUST_LOG` wins when set).
    pub level: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("./data"),
            cache_mb: crate::store::DEFAULT_CACHE_MB,
        }
    }
}

impl Default for ArxivConfig {
    fn default() -> Self {
        ArxivConfig {
            api_url: "https://export.arxiv.org/api/query".into(),
            feed_url: "https://rss.arxiv.org".into(),
            min_interval_secs: 3.0,
            timeout_secs: 60.0,
            max_retries: 5,
            backoff_base_ms: 2000,
            user_agent: format!(
                "paperbell/{} (self-hosted arXiv digest bot; +https://github.com/paperbell/paperbell)",
                env!("CARGO_PKG_VERSION")
            ),
            page_size: 2000,
            max_results: 30000,
            query_days: 3,
        }
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            // arXiv announces at 20:00 US Eastern, Sunday to Thursday; the feeds follow shortly.
            fetch: "0 30 20 * * Sun-Thu".into(),
            timezone: "America/New_York".into(),
            fetch_on_start: true,
            delivery_time: "08:00".into(),
            delivery_timezone: "UTC".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            store: StoreConfig::default(),
            arxiv: ArxivConfig::default(),
            schedule: ScheduleConfig::default(),
            telegram: TelegramConfig {
                api_url: "https://api.telegram.org".into(),
                mode: "polling".into(),
                ..Default::default()
            },
            discord: DiscordConfig {
                api_url: "https://discord.com".into(),
                mode: "gateway".into(),
                ..Default::default()
            },
            delivery: DeliveryConfig::default(),
            huggingface: HuggingFaceConfig::default(),
            llm: LlmConfig::default(),
            http: HttpConfig::default(),
            log: LogConfig::default(),
            topics: vec![],
        }
    }
}

/// A configuration problem, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {key}{sep}{message}", sep = if key.is_empty() { "" } else { ": " })]
pub struct ConfigError {
    /// The file or environment variable the bad value came from.
    pub origin: String,
    /// The key path, e.g. `topics[2].categories[0]`.
    pub key: String,
    pub message: String,
}

/// Secret settings: the environment variable and the section/key it would be in a file.
const SECRETS: &[(&str, &str, &str)] = &[
    ("PAPERBELL_TELEGRAM_TOKEN", "telegram", "token"),
    (
        "PAPERBELL_TELEGRAM_WEBHOOK_SECRET",
        "telegram",
        "webhook_secret",
    ),
    ("PAPERBELL_DISCORD_TOKEN", "discord", "token"),
];

/// One setting that is not valid: its key (`schedule.fetch`, `topics[2].categories[0]`) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct InvalidSetting {
    pub key: String,
    pub message: String,
}

fn invalid(key: String, message: String) -> InvalidSetting {
    InvalidSetting { key, message }
}

/// Whether the operator tuned glibc's malloc arenas (`MALLOC_ARENA_MAX`): then `main` leaves
/// them as they are. Read here because this module is the only reader of the environment.
pub fn malloc_arenas_set_by_environment() -> bool {
    std::env::var_os("MALLOC_ARENA_MAX").is_some()
}

/// Environment variables that are not settings (read by the command line instead).
const NOT_SETTINGS: &[&str] = &["PAPERBELL_CONFIG", "PAPERBELL_DATA"];

impl Config {
    /// Reads the config file (or the built-in default when the default path is absent) and
    /// the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        // All of it: the LLM key may live in a variable of any name (`llm.api_key_env`).
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let (origin, text) = match path {
            Some(p) => (p.display().to_string(), read(p)?),
            None => {
                let p = Path::new(DEFAULT_CONFIG_PATH);
                if p.exists() {
                    (p.display().to_string(), read(p)?)
                } else {
                    (
                        "built-in default config".to_string(),
                        DEFAULT_CONFIG.to_string(),
                    )
                }
            }
        };
        Self::from_parts(&origin, &text, &env, |p| std::fs::read_to_string(p))
    }

    /// The shipped configuration with no environment: what a fresh clone runs with.
    pub fn shipped() -> Config {
        Self::from_parts(
            "built-in default config",
            DEFAULT_CONFIG,
            &BTreeMap::new(),
            |_| unreachable!("the shipped config names no secret files"),
        )
        .expect("the shipped config is valid (tested)")
    }

    /// Pure core of `load`: file text, environment and a file reader for `*_FILE` secrets.
    pub fn from_parts(
        origin: &str,
        text: &str,
        env: &BTreeMap<String, String>,
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Config, ConfigError> {
        let err = |key: &str, message: String| ConfigError {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            let message = e.message().to_string();
            let at = e.span().map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}")
            });
            ConfigError {
                origin: origin.to_string(),
                key: at.unwrap_or_default(),
                message,
            }
        })?;
        for (var, section, key) in SECRETS {
            if table.get(*section).and_then(|s| s.get(*key)).is_some() {
                return Err(err(
                    &format!("{section}.{key}"),
                    format!(
                        "secrets are not read from the config file; set {var} (or {var}_FILE) instead"
                    ),
                ));
            }
        }
        let defaults = toml::Table::try_from(Config::default()).expect("defaults serialise");
        // The LLM key lives in a variable the config names; it may look like a setting.
        let key_var = env
            .get("PAPERBELL_LLM_API_KEY_ENV")
            .cloned()
            .or_else(|| {
                table
                    .get("llm")
                    .and_then(|l| l.get("api_key_env"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| LlmConfig::default().api_key_env);
        for (var, value) in env {
            if !var.starts_with("PAPERBELL_")
                || NOT_SETTINGS.contains(&var.as_str())
                || *var == key_var
                || SECRETS
                    .iter()
                    .any(|(s, _, _)| var == s || *var == format!("{s}_FILE"))
            {
                continue;
            }
            apply_env(&mut table, &defaults, var, value).map_err(|e| ConfigError {
                origin: format!("environment variable {var}"),
                key: String::new(),
                message: e.message,
            })?;
        }
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let path = e.path().to_string();
                err(
                    if path == "." { "" } else { &path },
                    e.into_inner().message().to_string(),
                )
            })?;
        config.telegram.token = secret(env, "PAPERBELL_TELEGRAM_TOKEN", &read_file)?;
        config.telegram.webhook_secret =
            secret(env, "PAPERBELL_TELEGRAM_WEBHOOK_SECRET", &read_file)?;
        config.discord.token = secret(env, "PAPERBELL_DISCORD_TOKEN", &read_file)?;
        if !config.llm.api_key_env.trim().is_empty() {
            let var = config.llm.api_key_env.trim().to_string();
            config.llm.api_key = env
                .get(&var)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Secret(v.trim().to_string()));
        }
        config.validate().map_err(|e| err(&e.key, e.message))?;
        Ok(config)
    }

    /// Checks values serde cannot: URLs, ranges, the cron expression, zones and topics.
    fn validate(&self) -> Result<(), InvalidSetting> {
        for (key, url) in [
            ("arxiv.api_url", &self.arxiv.api_url),
            ("arxiv.feed_url", &self.arxiv.feed_url),
            ("telegram.api_url", &self.telegram.api_url),
        ]
        .into_iter()
        .chain(
            self.telegram
                .webhook_url
                .as_ref()
                .map(|u| ("telegram.webhook_url", u)),
        )
        .chain(
            self.huggingface
                .enabled
                .then_some(("huggingface.api_url", &self.huggingface.api_url)),
        ) {
            if !is_http_url(url) {
                return Err(invalid(
                    key.into(),
                    format!("`{url}` is not an http(s) URL"),
                ));
            }
        }
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
        if !(1..=65536).contains(&self.store.cache_mb) {
            return Err(invalid(
                "store.cache_mb".into(),
                "must be between 1 and 65536 (MiB)".into(),
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
        for (key, tz) in [
            ("schedule.timezone", &self.schedule.timezone),
            (
                "schedule.delivery_timezone",
                &self.schedule.delivery_timezone,
            ),
        ] {
            tz.parse::<chrono_tz::Tz>().map_err(|_| {
                invalid(
                    key.to_string(),
                    format!("`{tz}` is not an IANA time zone (e.g. Europe/Berlin)"),
                )
            })?;
        }
        if chrono::NaiveTime::parse_from_str(&self.schedule.delivery_time, "%H:%M").is_err() {
            return Err(invalid(
                "schedule.delivery_time".into(),
                format!("`{}` is not a time like 08:30", self.schedule.delivery_time),
            ));
        }
        match self.telegram.mode.as_str() {
            "polling" => {}
            "webhook" => {
                if self.telegram.webhook_url.is_none() {
                    return Err(invalid(
                        "telegram.webhook_url".into(),
                        "webhook mode needs the public URL Telegram posts to, e.g. https://bot.example.org/telegram/webhook".into(),
                    ));
                }
                if self.http.listen.is_none() {
                    return Err(invalid(
                        "http.listen".into(),
                        "webhook mode needs the HTTP listener, e.g. 127.0.0.1:8080".into(),
                    ));
                }
            }
            other => {
                return Err(invalid(
                    "telegram.mode".into(),
                    format!("`{other}` must be \"polling\" or \"webhook\""),
                ));
            }
        }
        if let Some(listen) = &self.http.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(invalid(
                "http.listen".into(),
                format!("`{listen}` is not an address like 127.0.0.1:8080"),
            ));
        }
        let d = &self.discord;
        for (key, value) in [
            ("discord.application_id", &d.application_id),
            ("discord.guild_id", &d.guild_id),
        ] {
            if let Some(v) = value
                && v.trim().parse::<u64>().map_or(true, |n| n == 0)
            {
                return Err(invalid(
                    key.into(),
                    format!("`{v}` is not a Discord id (digits, from Developer Mode > Copy ID)"),
                ));
            }
        }
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
        match d.mode.as_str() {
            "gateway" => {}
            "http" => {
                if d.public_key.is_none() {
                    return Err(invalid(
                        "discord.public_key".into(),
                        "HTTP interactions need the application's public key (Developer Portal > General Information)".into(),
                    ));
                }
                if self.http.listen.is_none() {
                    return Err(invalid(
                        "http.listen".into(),
                        "HTTP interactions need the HTTP listener, e.g. 127.0.0.1:8080".into(),
                    ));
                }
            }
            other => {
                return Err(invalid(
                    "discord.mode".into(),
                    format!("`{other}` must be \"gateway\" or \"http\""),
                ));
            }
        }
        if reqwest::Url::parse(&d.api_url).is_err() {
            return Err(invalid(
                "discord.api_url".into(),
                format!("`{}` is not a URL", d.api_url),
            ));
        }
        if l.base_url.trim().is_empty() != l.model.trim().is_empty() {
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
        if l.enabled() && !is_http_url(&l.base_url) {
            return Err(invalid(
                "llm.base_url".into(),
                format!(
                    "`{}` is not an http(s) URL like http://127.0.0.1:11434/v1",
                    l.base_url
                ),
            ));
        }
        if !(1..=256).contains(&l.max_concurrency) {
            return Err(invalid(
                "llm.max_concurrency".into(),
                "must be between 1 and 256".into(),
            ));
        }
        self.topic_set().map(|_| ())
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

fn is_http_url(u: &str) -> bool {
    reqwest::Url::parse(u.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

fn read(p: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(p).map_err(|e| ConfigError {
        origin: p.display().to_string(),
        key: String::new(),
        message: format!("cannot read the config file: {e}"),
    })
}

fn secret(
    env: &BTreeMap<String, String>,
    var: &str,
    read_file: &impl Fn(&Path) -> std::io::Result<String>,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(v) = env.get(var).filter(|v| !v.trim().is_empty()) {
        return Ok(Some(Secret(v.trim().to_string())));
    }
    let file_var = format!("{var}_FILE");
    if let Some(path) = env.get(&file_var).filter(|v| !v.trim().is_empty()) {
        let text = read_file(Path::new(path.trim())).map_err(|e| ConfigError {
            origin: format!("environment variable {file_var}"),
            key: String::new(),
            // The path is not secret; the contents are, and are never shown.
            message: format!("cannot read {path}: {e}"),
        })?;
        let v = text.trim();
        if v.is_empty() {
            return Err(ConfigError {
                origin: file_var,
                key: String::new(),
                message: format!("{path} is empty"),
            });
        }
        return Ok(Some(Secret(v.to_string())));
    }
    Ok(None)
}

/// Applies `PAPERBELL_<SECTION>_<KEY>=value` to the parsed file, typed like the default value.
fn apply_env(
    table: &mut toml::Table,
    defaults: &toml::Table,
    var: &str,
    value: &str,
) -> Result<(), InvalidSetting> {
    let bad = |m: String| invalid(var.to_string(), m);
    let rest = var
        .strip_prefix("PAPERBELL_")
        .unwrap_or(var)
        .to_ascii_lowercase();
    let Some((section, key)) = defaults
        .iter()
        .filter(|(_, v)| v.is_table())
        .find_map(|(s, _)| {
            rest.strip_prefix(&format!("{s}_"))
                .map(|k| (s.clone(), k.to_string()))
        })
    else {
        return Err(bad(format!(
            "`{var}` does not name a setting (PAPERBELL_<SECTION>_<KEY>, sections: {})",
            sections(defaults)
        )));
    };
    let default = defaults[&section].as_table().and_then(|t| t.get(&key));
    let known_optional = matches!(
        (section.as_str(), key.as_str()),
        ("discord", "application_id" | "public_key" | "guild_id")
            | ("http", "listen")
            | ("telegram", "webhook_url")
    );
    let typed = match default {
        Some(toml::Value::Integer(_)) => value
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| bad(format!("`{value}` is not a whole number")))?,
        Some(toml::Value::Float(_)) => value
            .trim()
            .parse::<f64>()
            .map(toml::Value::Float)
            .map_err(|_| bad(format!("`{value}` is not a number")))?,
        Some(toml::Value::Boolean(_)) => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(bad(format!("`{value}` is not true or false"))),
        },
        Some(toml::Value::String(_)) => toml::Value::String(value.to_string()),
        None if known_optional => toml::Value::String(value.to_string()),
        _ => {
            return Err(bad(format!(
                "[{section}] has no setting `{key}` that the environment can set"
            )));
        }
    };
    let entry = table
        .entry(section)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(t) => {
            t.insert(key, typed);
            Ok(())
        }
        _ => Err(bad(
            "the config file has this section as a value, not a table".into(),
        )),
    }
}

fn sections(defaults: &toml::Table) -> String {
    defaults
        .iter()
        .filter(|(_, v)| v.is_table())
        .map(|(k, _)| k.to_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_parts("test.toml", text, &env, |p| {
            if p == Path::new("/run/secrets/tg") {
                Ok("123:ABC\n".into())
            } else {
                Err(std::io::Error::other("nope"))
            }
        })
    }

    #[test]
    fn shipped_config_is_valid_with_seven_topics() {
        let c = load(DEFAULT_CONFIG, &[]).unwrap();
        let set = c.topic_set().unwrap();
        // The seven of the file, and Hugging Face's built-in one (on by default).
        assert_eq!(set.topics.len(), 8);
        assert!(set.topics[7].external && set.topics[7].id == "hf-daily");
        assert_eq!(c.store.path, PathBuf::from("./data"));
    }

    #[test]
    fn environment_overrides_typed_keys() {
        let c = load(
            "",
            &[
                ("PAPERBELL_ARXIV_API_URL", "http://127.0.0.1:9/api/query"),
                ("PAPERBELL_ARXIV_MIN_INTERVAL_SECS", "0"),
                ("PAPERBELL_ARXIV_MAX_RETRIES", "2"),
                ("PAPERBELL_SCHEDULE_FETCH_ON_START", "false"),
                ("PAPERBELL_HTTP_LISTEN", "127.0.0.1:8080"),
                ("PAPERBELL_TELEGRAM_TOKEN_FILE", "/run/secrets/tg"),
            ],
        )
        .unwrap();
        assert_eq!(c.arxiv.api_url, "http://127.0.0.1:9/api/query");
        assert_eq!(c.arxiv.min_interval_secs, 0.0);
        assert_eq!(c.arxiv.max_retries, 2);
        assert!(!c.schedule.fetch_on_start);
        assert_eq!(c.http.listen.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(c.telegram.token.as_ref().unwrap().expose(), "123:ABC");
        assert!(
            !format!("{c:?}").contains("123:ABC"),
            "Debug must not show the token"
        );
    }

    #[test]
    fn errors_name_the_bad_key() {
        let e = load("[arxiv]\npage_size = 5000\n", &[]).unwrap_err();
        assert_eq!(e.key, "arxiv.page_size");
        let e = load("[[topics]]\nid = \"x\"\ncategories = [\"cs.CW\"]\n", &[]).unwrap_err();
        assert_eq!(e.key, "topics[0].categories[0]");
        assert!(e.message.contains("did you mean cs.CV"), "{e}");
        let e = load("[[topics]]\nid = \"x\"\nkeywrds = [\"a\"]\n", &[]).unwrap_err();
        assert!(
            e.key.starts_with("topics[0]") && e.message.contains("keywrds"),
            "{e}"
        );
        let e = load("[schedule]\nfetch = \"30 20 * * 0-4\"\n", &[]).unwrap_err();
        assert_eq!(e.key, "schedule.fetch");
        let e = load("[telegram]\ntoken = \"123:ABC\"\n", &[]).unwrap_err();
        assert!(
            e.message.contains("PAPERBELL_TELEGRAM_TOKEN") && !e.to_string().contains("123:ABC")
        );
        let e = load("", &[("PAPERBELL_ARXIV_TIMEOUT", "3")]).unwrap_err();
        assert!(e.origin.contains("PAPERBELL_ARXIV_TIMEOUT"), "{e}");
        let e = load("", &[("PAPERBELL_NOPE_X", "3")]).unwrap_err();
        assert!(e.message.contains("does not name a setting"), "{e}");
        let e = load("[arxiv\n", &[]).unwrap_err();
        assert_eq!(e.key, "line 1");
        let e = load("[[topics]]\nid = \"a\"\ncategories=[\"cs.CV\"]\n[[topics]]\nid = \"a\"\ncategories=[\"cs.CV\"]\n", &[]).unwrap_err();
        assert_eq!(e.key, "topics[1].id");
    }
}

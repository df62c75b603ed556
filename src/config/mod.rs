//! Configuration: the only module that reads config files or the environment. It turns
//! `config/paperbell.toml` plus `PAPERBELL_<SECTION>_<KEY>` overrides into a typed, validated
//! `Config`. Secrets (bot tokens, API keys) are read only from the environment (or a file an
//! environment variable names) and are never printed: `Secret` redacts itself.
//!
//! This file holds the types and their defaults; `load` reads the file and the environment,
//! `validate` checks what serde cannot.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::chat::ChatDefaults;
use crate::topics::TopicDef;

mod load;
pub mod typed;
mod validate;

pub use load::malloc_arenas_set_by_environment;
pub use typed::{DiscordId, DiscordMode, HttpUrl, Listen, TelegramMode, TimeOfDay, Zone};

/// The configuration shipped with paperbell, used when the default file is absent.
pub const DEFAULT_CONFIG: &str = include_str!("../../config/paperbell.toml");
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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub store: StoreConfig,
    pub arxiv: ArxivConfig,
    pub schedule: ScheduleConfig,
    pub telegram: TelegramConfig,
    pub discord: DiscordConfig,
    pub delivery: DeliveryConfig,
    pub huggingface: HuggingFaceConfig,
    pub search: SearchConfig,
    pub llm: LlmConfig,
    pub http: HttpConfig,
    pub web: WebConfig,
    pub figures: FiguresConfig,
    pub backup: BackupConfig,
    pub memory: MemoryConfig,
    pub log: LogConfig,
    pub topics: Vec<TopicDef>,
}

/// Backups the service takes on its own (`paperbell backup` takes one at any time).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where backups go [default: `backups` beside the store's directory].
    pub dir: Option<PathBuf>,
    /// Hours between two backups taken by the service; 0: none.
    pub every_hours: f64,
    /// Backups kept in `dir` (the oldest go first); 0 keeps all.
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: None,
            every_hours: 24.0,
            keep: 7,
        }
    }
}

impl BackupConfig {
    /// The directory backups go to for the store at `store`.
    pub fn dir_for(&self, store: &std::path::Path) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| {
            store
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
                .join("backups")
        })
    }
}

/// Each paper's figure, from its arXiv HTML edition (`[arxiv] html_url`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FiguresConfig {
    /// Off: no HTML edition is asked for; figures already known are still shown.
    pub enabled: bool,
    /// Most HTML pages asked for after one fetch (the papers digests will show come first);
    /// each is one request at arXiv's pace (`[arxiv] min_interval_secs`).
    pub max_per_day: usize,
}

impl Default for FiguresConfig {
    fn default() -> Self {
        FiguresConfig {
            enabled: true,
            max_per_day: 300,
        }
    }
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

/// The full-text index beside the store (under the data directory, `search/`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// Off: no index is opened or kept up, and `/search` scans recent papers instead (for a
    /// host short of memory or disk; the index can be deleted then).
    pub enabled: bool,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig { enabled: true }
    }
}

/// Hugging Face Daily Papers: the `hf-daily` topic and enrichment (no key needed).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HuggingFaceConfig {
    pub enabled: bool,
    pub api_url: HttpUrl,
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
            api_url: HttpUrl::known("https://huggingface.co"),
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
    /// `http://127.0.0.1:11434/v1` (Ollama). Empty: no LLM.
    #[serde(
        deserialize_with = "typed::optional_url",
        serialize_with = "typed::optional_url_text"
    )]
    pub base_url: Option<HttpUrl>,
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
    /// An embedding model on the same server (`/embeddings`); when set, chats' taste models
    /// weigh each paper's embedding beside its words. Empty: words only.
    pub embedding_model: String,
    #[serde(skip)]
    pub api_key: Option<Secret>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: None,
            model: String::new(),
            api_key_env: "PAPERBELL_LLM_API_KEY".into(),
            max_concurrency: 4,
            daily_token_budget: 2_000_000,
            timeout_secs: 60.0,
            json_schema: true,
            embedding_model: String::new(),
            api_key: None,
        }
    }
}

impl LlmConfig {
    /// Whether an LLM is configured at all.
    pub fn enabled(&self) -> bool {
        self.base_url.is_some() && !self.model.trim().is_empty()
    }

    /// Whether papers are embedded (an LLM server and an embedding model).
    pub fn embeddings(&self) -> bool {
        self.enabled() && !self.embedding_model.trim().is_empty()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the embedded sled store.
    pub path: PathBuf,
    /// sled's cache capacity in MiB; 0: the store's share of `[memory] budget_mb`.
    pub cache_mb: u64,
}

/// The memory the service's caches share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// MiB the caches share, in memory as measured (not as each counts): the store's page
    /// cache three eighths (unless `[store] cache_mb` says), the web's cache of made pages
    /// three eighths (a day's topic pages and papers, about 20 MB, fit), the store's memos a
    /// quarter. 96 by default: at a million papers the pages asked again and again (a day's
    /// topic pages, about 25 MB) fit; 64 left them a 24 MB cache that thrashed.
    pub budget_mb: u64,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig { budget_mb: 96 }
    }
}

impl Config {
    /// sled's cache capacity in MiB: `[store] cache_mb`, else half of the store's three
    /// eighths of the budget. sled counts a node at its size on disk and holds it in memory
    /// at about twice that (measured: 57 MB held for a capacity of 32 MB).
    pub fn store_cache_mb(&self) -> u64 {
        match self.store.cache_mb {
            0 => (self.memory.budget_mb * 3 / 16).max(1),
            mb => mb,
        }
    }

    /// The web's cache of made pages in bytes: three eighths of the budget.
    pub fn page_cache_bytes(&self) -> u64 {
        (self.memory.budget_mb << 20) * 3 / 8
    }

    /// The store's memos in bytes: a quarter of the budget.
    pub fn memo_bytes(&self) -> u64 {
        (self.memory.budget_mb << 20) / 4
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArxivConfig {
    pub api_url: HttpUrl,
    pub feed_url: HttpUrl,
    /// arXiv's HTML edition: a paper version's page is `{html_url}{id}v{version}`.
    pub html_url: HttpUrl,
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
    pub timezone: Zone,
    /// Fetch once at start-up when the last successful fetch is older than 12 hours.
    pub fetch_on_start: bool,
    /// Default digest time and zone for chats that set none.
    pub delivery_time: TimeOfDay,
    pub delivery_timezone: Zone,
}

impl ScheduleConfig {
    /// The defaults of chats that set no time or zone.
    pub fn chat_defaults(&self) -> ChatDefaults {
        ChatDefaults {
            time: self.delivery_time.0,
            tz: self.delivery_timezone.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    pub api_url: HttpUrl,
    /// `polling` (default; no public URL needed) or `webhook`.
    pub mode: TelegramMode,
    /// Webhook mode: the public HTTPS URL Telegram posts to; it must reach
    /// `/telegram/webhook` on `[http] listen`.
    #[serde(deserialize_with = "typed::optional_url")]
    pub webhook_url: Option<HttpUrl>,
    #[serde(skip)]
    pub token: Option<Secret>,
    /// Webhook mode: the `X-Telegram-Bot-Api-Secret-Token` value (random per start if unset).
    #[serde(skip)]
    pub webhook_secret: Option<Secret>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    pub api_url: HttpUrl,
    pub application_id: Option<DiscordId>,
    pub public_key: Option<String>,
    pub guild_id: Option<DiscordId>,
    /// `gateway` (default; no public URL needed) or `http` (interactions POSTed to us).
    pub mode: DiscordMode,
    #[serde(skip)]
    pub token: Option<Secret>,
}

/// The service's one HTTP listener: the archive's pages, `/healthz`, `/metrics`, and the
/// platforms' webhooks and interactions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on, e.g. `127.0.0.1:8080`; `off` starts no listener.
    pub listen: Listen,
    /// `/healthz` answers 503 when the last successful fetch is older than this. arXiv
    /// announces nothing on Friday and Saturday nights, so a healthy service can go 72 hours.
    pub stale_after_hours: f64,
}

impl HttpConfig {
    /// The address to listen on, or `None` when the listener is off.
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        self.listen.address()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: Listen::At(std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
            stale_after_hours: 80.0,
        }
    }
}

/// The archive on the web (pages and feeds on the HTTP listener).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Off: the listener serves only `/healthz`, `/metrics` and the platforms' routes.
    pub enabled: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { enabled: true }
    }
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
            cache_mb: 0,
        }
    }
}

impl Default for ArxivConfig {
    fn default() -> Self {
        ArxivConfig {
            api_url: HttpUrl::known("https://export.arxiv.org/api/query"),
            feed_url: HttpUrl::known("https://rss.arxiv.org"),
            html_url: HttpUrl::known("https://arxiv.org/html/"),
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

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            api_url: HttpUrl::known("https://api.telegram.org"),
            mode: TelegramMode::Polling,
            webhook_url: None,
            token: None,
            webhook_secret: None,
        }
    }
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            api_url: HttpUrl::known("https://discord.com"),
            application_id: None,
            public_key: None,
            guild_id: None,
            mode: DiscordMode::Gateway,
            token: None,
        }
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            // arXiv announces at 20:00 US Eastern, Sunday to Thursday; the feeds follow shortly.
            fetch: "0 30 20 * * Sun-Thu".into(),
            timezone: Zone(chrono_tz::America::New_York),
            fetch_on_start: true,
            delivery_time: TimeOfDay(chrono::NaiveTime::from_hms_opt(8, 0, 0).expect("a time")),
            delivery_timezone: Zone(chrono_tz::UTC),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
    fn backups_go_beside_the_store_unless_told_and_every_key_is_set_from_the_environment() {
        let c = load(DEFAULT_CONFIG, &[]).unwrap();
        assert_eq!(c.backup.dir_for(&c.store.path), PathBuf::from("./backups"));
        assert_eq!((c.backup.every_hours, c.backup.keep), (24.0, 7));
        let c = load(
            DEFAULT_CONFIG,
            &[
                ("PAPERBELL_BACKUP_DIR", "/backups"),
                ("PAPERBELL_BACKUP_EVERY_HOURS", "6"),
                ("PAPERBELL_BACKUP_KEEP", "0"),
            ],
        )
        .unwrap();
        assert_eq!(c.backup.dir_for(&c.store.path), PathBuf::from("/backups"));
        assert_eq!((c.backup.every_hours, c.backup.keep), (6.0, 0));
        let e = load(DEFAULT_CONFIG, &[("PAPERBELL_BACKUP_EVERY_HOURS", "-1")]).unwrap_err();
        assert_eq!(e.key, "backup.every_hours");
    }

    #[test]
    fn the_memory_budget_is_shared_by_the_caches() {
        let c = load(DEFAULT_CONFIG, &[]).unwrap();
        let shares = |c: &Config| {
            (
                c.store_cache_mb(),
                c.page_cache_bytes() >> 20,
                c.memo_bytes() >> 20,
            )
        };
        assert_eq!(shares(&c), (18, 36, 24));
        let c = load(DEFAULT_CONFIG, &[("PAPERBELL_MEMORY_BUDGET_MB", "128")]).unwrap();
        assert_eq!(shares(&c), (24, 48, 32));
        let c = load(DEFAULT_CONFIG, &[("PAPERBELL_STORE_CACHE_MB", "200")]).unwrap();
        assert_eq!(c.store_cache_mb(), 200);
        let e = load(DEFAULT_CONFIG, &[("PAPERBELL_MEMORY_BUDGET_MB", "2")]).unwrap_err();
        assert_eq!(e.key, "memory.budget_mb");
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
        assert_eq!(&*c.arxiv.api_url, "http://127.0.0.1:9/api/query");
        assert_eq!(c.arxiv.min_interval_secs, 0.0);
        assert_eq!(c.arxiv.max_retries, 2);
        assert!(!c.schedule.fetch_on_start);
        assert_eq!(c.http.address(), Some("127.0.0.1:8080".parse().unwrap()));
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
        // Typed values: checked as they are read, named by their key and saying what is wrong.
        // (file, environment, the key named, what the message says)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a [&'a str]);
        let typed: &[Case] = &[
            (
                "[schedule]\ntimezone = \"Mars/Base\"\n",
                &[],
                "schedule.timezone",
                &["not an IANA time zone"],
            ),
            (
                "",
                &[("PAPERBELL_SCHEDULE_DELIVERY_TIME", "25:61")],
                "schedule.delivery_time",
                &[],
            ),
            (
                "[http]\nlisten = \"localhost:80\"\n",
                &[],
                "http.listen",
                &[],
            ),
            (
                "[telegram]\nmode = \"pigeon\"\n",
                &[],
                "telegram.mode",
                &["polling", "webhook"],
            ),
            (
                "",
                &[("PAPERBELL_ARXIV_FEED_URL", "rss.arxiv.org")],
                "arxiv.feed_url",
                &["not an http(s) URL"],
            ),
            (
                "[telegram]\nwebhook_url = \"ftp://x.org/hook\"\n",
                &[],
                "telegram.webhook_url",
                &[],
            ),
            (
                "[discord]\nguild_id = \"my-server\"\n",
                &[],
                "discord.guild_id",
                &["not a Discord id"],
            ),
            (
                "",
                &[("PAPERBELL_LLM_BASE_URL", "localhost:11434")],
                "llm.base_url",
                &[],
            ),
        ];
        for (text, env, key, says) in typed {
            let e = load(text, env).unwrap_err();
            assert_eq!(e.key, *key, "{e}");
            for s in *says {
                assert!(e.message.contains(s), "{e}");
            }
        }
        let off = load("", &[("PAPERBELL_HTTP_LISTEN", "off")]).unwrap();
        assert_eq!(off.http.address(), None);
        // The environment leaves the LLM off with an empty URL, and turns it on with one.
        let c = load("", &[("PAPERBELL_LLM_BASE_URL", "")]).unwrap();
        assert!(c.llm.base_url.is_none());
        let c = load(
            "",
            &[
                ("PAPERBELL_LLM_BASE_URL", "http://127.0.0.1:11434/v1"),
                ("PAPERBELL_LLM_MODEL", "m"),
            ],
        )
        .unwrap();
        assert!(c.llm.enabled());
        assert_eq!(c.llm.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
        let e = load("[[topics]]\nid = \"a\"\ncategories=[\"cs.CV\"]\n[[topics]]\nid = \"a\"\ncategories=[\"cs.CV\"]\n", &[]).unwrap_err();
        assert_eq!(e.key, "topics[1].id");
    }
}

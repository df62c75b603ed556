//! The `paperbell` command line: run the service, fetch, parse, query the store, export.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use paperbell::cli::{self, paper::PaperError};
use paperbell::clock::Clock;
use paperbell::commands::ChatCore;
use paperbell::compose;
use paperbell::config::Config;
use paperbell::delivery::{self, PlanJob, Planner, Sender};
use paperbell::digest;
use paperbell::model::rating::RatingChange;
use paperbell::scheduler::{FetchJob, Source};
use paperbell::search::{IndexFollower, IndexWake, SearchIndex};
use paperbell::sources::fetch::ArxivClient;
use paperbell::store::Store;
use paperbell::summary::enrich::Enricher;
use paperbell::topics::{Topic, TopicSet};
use paperbell::web::PlatformState;
use paperbell_chat::{ChatPlatform, Platform};
use paperbell_discord::{DiscordBot, DiscordError, DiscordMode, DiscordSettings};
use paperbell_telegram::bot::{TelegramError, WebhookSettings};
use paperbell_telegram::{TelegramBot, TelegramSettings};

/// With the `mimalloc` feature: glibc's allocator spent a quarter of a large fan-out's CPU in
/// `malloc`/`free` in a profile (sled copies a node on every write; rendering and HTTP
/// allocate per message); with mimalloc the fan-out takes about a quarter less CPU. Off by default because mimalloc holds more memory when idle (BENCHMARKS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "paperbell",
    version,
    about = "Rings when new arXiv papers land: fetches each day's announcements, matches them to topics, and sends digests.",
    long_about = "paperbell fetches arXiv's daily announcements into an embedded store, matches them \
against topics (config/paperbell.toml), and prints or sends one digest per topic.\n\n\
Every config key can be overridden with PAPERBELL_<SECTION>_<KEY>; secrets come only from the \
environment (PAPERBELL_TELEGRAM_TOKEN, PAPERBELL_DISCORD_TOKEN, or *_FILE)."
)]
struct Cli {
    /// Config file [default: config/paperbell.toml, else the built-in defaults]
    #[arg(long, global = true, value_name = "FILE", env = "PAPERBELL_CONFIG")]
    config: Option<PathBuf>,
    /// Store directory (overrides [store] path) [default: ./data]
    #[arg(long, global = true, value_name = "DIR", env = "PAPERBELL_DATA")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the service: fetch on the schedule; with PAPERBELL_TELEGRAM_TOKEN set, run the
    /// Telegram bot (polling, or webhook on [http] listen); with PAPERBELL_DISCORD_TOKEN set, run
    /// the Discord bot (gateway, or HTTP interactions on [http] listen); both when both are set;
    /// with no chat platform, print each day's digests. Serves the archive's web pages,
    /// /healthz and /metrics on [http] listen (default http://127.0.0.1:8080/). Stops cleanly on
    /// Ctrl-C or SIGTERM.
    Run,
    /// Fetch papers from arXiv (or local files) into the store and index them under every topic.
    Fetch {
        /// Only what this topic needs (configured id or name, arXiv category, or a query); repeatable
        #[arg(long = "topic", value_name = "T")]
        topics: Vec<String>,
        /// Ingest a local arXiv API/RSS/Atom file instead of the network; repeatable
        #[arg(long = "from-file", value_name = "F")]
        files: Vec<PathBuf>,
        /// `feed`: today's announcements; `api`: search the API over the last --days days
        #[arg(long, value_enum, default_value_t = SourceArg::Feed)]
        source: SourceArg,
        /// With --source api: how many days back to search
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Print the papers in local arXiv files (API Atom, RSS 2.0 or Atom feed) as one JSON array.
    /// Exit 2: a file is not an arXiv document or is truncated; exit 3: an arXiv API error feed.
    Parse {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// The newest stored papers of a topic, a category, or a query.
    Recent {
        /// Configured topic id or name, arXiv category (cs.CV), or a query ("diffusion" AND video -survey)
        topic: String,
        /// How many papers
        #[arg(short = 'n', default_value_t = 10)]
        n: usize,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Ranked full-text search over every stored paper. The words are joined into one query of
    /// the query language topics use, with the same meaning: clauses combine with AND unless
    /// OR joins them ("diffusion" AND video -survey, nerf OR "gaussian splatting"), cat:cs.CV,
    /// au:"Kaiming He", segment*, ti:WORD, abs:WORD, after:YYYY-MM-DD, before:YYYY-MM-DD,
    /// (groups). Best first by relevance (BM25, title matches above abstract matches, the newer
    /// paper on a tie), or newest first; each hit shows where the words are in its abstract.
    /// Exit 2: the query does not parse.
    Search {
        #[arg(required = true, value_name = "QUERY")]
        query: Vec<String>,
        /// How many papers
        #[arg(short = 'n', default_value_t = 10)]
        n: usize,
        #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
        sort: SortArg,
        /// Print JSON: the keys of `recent --json` plus `score` (higher is better; null when
        /// sorted by date)
        #[arg(long)]
        json: bool,
    },
    /// The stored papers most like one (by title and abstract), the paper itself left out.
    /// Exit 4: the paper is not stored.
    Similar {
        /// e.g. 2407.11422 or https://arxiv.org/abs/2407.11422
        id: String,
        /// How many papers
        #[arg(short = 'n', default_value_t = 10)]
        n: usize,
        /// Print JSON, as `search --json`
        #[arg(long)]
        json: bool,
    },
    /// One paper by arXiv id or URL (fetched from arXiv when not stored yet).
    /// With an LLM configured ([llm] or PAPERBELL_LLM_BASE_URL, PAPERBELL_LLM_MODEL and the key
    /// in the variable PAPERBELL_LLM_API_KEY_ENV names), the summary, key takeaways and, with
    /// --lang, the translated title and TL;DR come from the LLM, asked once and cached; without
    /// one, or when it fails, the TL;DR is extractive.
    Paper {
        /// e.g. 2407.11422, arXiv:2407.11422v2, https://arxiv.org/abs/2407.11422
        id: String,
        /// Translate the title and TL;DR into this language: zh (Simplified Chinese), zh-hant,
        /// ja, ko, de, fr, es, it, pt, ru, vi (en: no translation)
        #[arg(long, value_name = "L")]
        lang: Option<String>,
        /// Print JSON instead of text (keys of `parse`, plus first_announced, topics, tldr,
        /// tldr_source, code_urls, project_pages, and when available takeaways,
        /// title_translated, tldr_translated, hf_upvotes)
        #[arg(long)]
        json: bool,
    },
    /// List the configured topics.
    Topics {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Export stored papers per topic: the familiar daily Markdown page, JSON, or the web
    /// archive as a static site of pages, feeds and charts (--format html --out DIR).
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Markdown)]
        format: ExportFormat,
        /// Only these topics (default: all configured); repeatable
        #[arg(long = "topic", value_name = "T")]
        topics: Vec<String>,
        /// Announcement days to include, counting back from the newest stored day
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// With --format html: the directory to write the site into (created if missing;
        /// files of an earlier export are overwritten)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Rate a paper for a chat's taste: up (👍), down (👎), save (⭐) or clear; the chat's
    /// model is retrained at once. The terminal reader's chat is `local`.
    Rate {
        /// e.g. 2407.11422 or https://arxiv.org/abs/2407.11422
        id: String,
        #[arg(value_enum)]
        action: RateAction,
        /// Whose taste: local (default), telegram:ID or discord:ID
        #[arg(long, value_name = "C")]
        chat: Option<String>,
    },
    /// Seed a chat's taste from a library: a BibTeX export (Zotero, Mendeley, Google Scholar)
    /// or text with one arXiv id or URL per line (at most 2 MB). Entries are matched by eprint,
    /// arXiv URL or DOI, else by title through the arXiv API; papers not stored are fetched.
    /// Prints how many entries were found, matched and not matched. Exit 2: the file does not
    /// read as a library (nothing is imported).
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Whose taste: local (default), telegram:ID or discord:ID
        #[arg(long, value_name = "C")]
        chat: Option<String>,
    },
    /// The papers announced on one day among the chat's categories (its topics' categories;
    /// every paper of the day when it follows none), best first for the chat when it has rated
    /// papers, else in the digests' order.
    ForYou {
        /// Whose taste: local (default), telegram:ID or discord:ID
        #[arg(long, value_name = "C")]
        chat: Option<String>,
        /// Announcement day, YYYY-MM-DD [default: the newest stored]
        #[arg(long, value_name = "YYYY-MM-DD")]
        day: Option<chrono::NaiveDate>,
        /// How many papers
        #[arg(short = 'n', default_value_t = 10)]
        n: usize,
        /// Print JSON: the keys of `recent --json` plus `score` (0 to 1, higher is better; null
        /// without a model) and `why` (null when nothing speaks for the paper)
        #[arg(long)]
        json: bool,
    },
    /// Validate the config and topics; names the exact bad key.
    CheckConfig,
    /// Match every stored paper against the configured topics again (after editing topics).
    Reindex,
    /// Delivery status from the store: per platform the messages planned, sent, retried,
    /// dropped and chats deactivated, the queue depth and the last delivery; the last fetch.
    /// Asks the running service through its control socket (DATA/paperbell.sock) when one
    /// runs, else reads the store itself.
    Status,
    /// Write a backup of every durable record (papers and their enrichment, chats,
    /// subscriptions, ratings, taste models, the delivery ledger and outbox, the LLM cache) as
    /// of one instant, to --out FILE or a new file in [backup] dir (default: backups/ beside the
    /// store). Beside a running service it asks the service (which goes on serving) through its
    /// control socket; otherwise it opens the store itself. Prints the path, size and counts.
    /// Exit 2: the file exists.
    Backup {
        /// The backup file to write (must not exist)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Restore a backup into a new store directory (--data DIR, else [store] path), which must
    /// not exist or be empty; the search index is rebuilt. Exit 2: the directory holds
    /// something, or the file is damaged, cut short, not a backup or from a newer paperbell
    /// (nothing is created).
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RateAction {
    Up,
    Down,
    Save,
    Clear,
}

#[derive(Clone, Copy, ValueEnum)]
enum SourceArg {
    Feed,
    Api,
}

#[derive(Clone, Copy, ValueEnum)]
enum SortArg {
    Relevance,
    Newest,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Markdown,
    Json,
    /// The web archive's pages, feeds and charts as files (needs --out)
    Html,
}

/// Writes to stdout; a closed pipe (`paperbell parse f | head`) ends the program quietly
/// instead of panicking.
fn out(s: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(s.as_bytes()).and_then(|_| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

macro_rules! outln {
    ($($arg:tt)*) => { out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `paperbell run`: the service's wiring (chat platforms, the HTTP listener, planning, the
/// fetch job) and its clean stop.
#[path = "main/service.rs"]
mod service;
use service::run;

/// `status`, `backup` and `restore`: through the running service's control socket, or on the
/// store itself when nothing runs.
#[path = "main/control.rs"]
mod control;

/// `fetch`, `parse` and `paper`.
#[path = "main/fetching.rs"]
mod fetching;

/// `recent`, `search`, `similar`, `export` and `reindex`.
#[path = "main/papers.rs"]
mod papers;

/// `rate`, `import` and `for-you`.
#[path = "main/taste.rs"]
mod taste;

/// An error whose exit code is not 1.
#[derive(Debug)]
struct Exit(u8, String);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for Exit {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(Exit(code, msg)) = e.downcast_ref::<Exit>() {
                if !msg.is_empty() {
                    eprintln!("error: {msg}");
                }
                return ExitCode::from(*code);
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config> {
    let mut config = Config::load(cli.config.as_deref()).map_err(|e| Exit(2, e.to_string()))?;
    if let Some(d) = &cli.data {
        config.store.path = d.clone();
    }
    Ok(config)
}

fn init_logging(config: Option<&Config>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(config.map_or("warn", |c| c.log.level.as_str()))
    });
    // The Discord adapter's own directive keeps secrets out of the log, whatever the filter.
    let filter = match paperbell_discord::LOG_FILTER.parse() {
        Ok(d) => filter.add_directive(d),
        Err(_) => filter,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn open_store(config: &Config) -> Result<Store> {
    Store::open_with_cache(&config.store.path, config.store_cache_mb())
        .map(|s| s.with_memo_budget(config.memo_bytes()))
        .map_err(|e| match e {
            // Not this binary's store to write: exit 2, as for any refused input.
            e @ (paperbell::store::StoreError::Newer { .. }
            | paperbell::store::StoreError::UnfinishedRestore(_)) => Exit(2, e.to_string()).into(),
            e => anyhow::anyhow!("{e}"),
        })
}

/// Re-matches the configured topics once after an upgrade changed what queries mean, and logs
/// what each topic gained and lost.
fn rematch_topics(store: &Store, topics: &TopicSet) -> Result<()> {
    let Some(report) = store
        .rematch_if_older(topics)
        .map_err(|e| anyhow::anyhow!("re-matching topics: {e}"))?
    else {
        return Ok(());
    };
    tracing::info!(
        version = paperbell::store::MATCHER_VERSION,
        "topics re-matched with this version's query language"
    );
    for (topic, r) in report {
        tracing::info!(topic, gained = r.gained, lost = r.lost, "topic re-matched");
    }
    Ok(())
}

fn topic_set(config: &Config) -> Result<TopicSet> {
    config
        .topic_set()
        .map_err(|e| Exit(2, e.to_string()).into())
}

/// glibc gives every thread that allocates its own arena (up to 8 per core) and keeps freed
/// memory in each; for a service whose work is short bursts on many threads that doubled the
/// resident memory in the Telegram benchmark (95 -> 53 MB). Two arenas cost nothing measurable
/// in the round trips. `MALLOC_ARENA_MAX` in the environment still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if !paperbell::config::malloc_arenas_set_by_environment() {
        // SAFETY: mallopt only tunes the allocator; called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn real_main(cli: Cli) -> Result<ExitCode> {
    if let Cmd::Parse { files } = &cli.command {
        init_logging(None);
        return Ok(fetching::parse_files(files));
    }
    let config = load_config(&cli)?;
    init_logging(Some(&config));
    limit_malloc_arenas();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Store work (chat commands) runs on blocking threads; a few suffice on the store's
        // single writer lock, and each extra thread costs stack and allocator memory.
        .max_blocking_threads(8)
        .build()?;
    match cli.command {
        Cmd::Parse { .. } => unreachable!("handled above"),
        Cmd::CheckConfig => {
            out(&cli::check_config::report(&config, &topic_set(&config)?));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Topics { json } => {
            let topics = topic_set(&config)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&topics.topics)?);
            } else {
                out(&cli::topics::listing(&topics));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Fetch {
            topics,
            files,
            source,
            days,
        } => rt.block_on(fetching::fetch(&config, &topics, &files, source, days)),
        Cmd::Recent { topic, n, json } => papers::recent(&config, &topic, n, json),
        Cmd::Search {
            query,
            n,
            sort,
            json,
        } => papers::search(&config, &query, n, sort, json),
        Cmd::Similar { id, n, json } => papers::similar(&config, &id, n, json),
        Cmd::Paper { id, lang, json } => {
            rt.block_on(fetching::paper(&config, &id, lang.as_deref(), json))
        }
        Cmd::Export {
            format,
            topics,
            days,
            out: dir,
        } => papers::export(&config, format, &topics, days, dir),
        Cmd::Reindex => papers::reindex(&config),
        Cmd::Status => control::status(&config),
        Cmd::Backup { out: file } => control::backup(&config, file.as_deref()),
        Cmd::Restore { file } => control::restore(&config, &file),
        Cmd::Rate { id, action, chat } => taste::rate(&config, &id, action, chat.as_deref()),
        Cmd::Import { file, chat } => rt.block_on(taste::import(&config, &file, chat.as_deref())),
        Cmd::ForYou { chat, day, n, json } => {
            taste::for_you(&config, chat.as_deref(), day, n, json)
        }
        Cmd::Run => rt.block_on(run(config)),
    }
}

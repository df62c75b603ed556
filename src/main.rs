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

/// `paperbell run`: the service's wiring (chat platforms, the HTTP listener, planning, the
/// fetch job) and its clean stop.
#[path = "main/service.rs"]
mod service;
use service::run;

/// `status`, `backup` and `restore`: through the running service's control socket, or on the
/// store itself when nothing runs.
#[path = "main/control.rs"]
mod control;

macro_rules! outln {
    ($($arg:tt)*) => { out(&format!("{}\n", format_args!($($arg)*))) };
}

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
    Store::open_with_cache(&config.store.path, config.store.cache_mb).map_err(|e| match e {
        // Not this binary's store to write: exit 2, as for any refused input.
        e @ paperbell::store::StoreError::Newer { .. } => Exit(2, e.to_string()).into(),
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
        return Ok(parse_files(files));
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
        } => rt.block_on(fetch(&config, &topics, &files, source, days)),
        Cmd::Recent { topic, n, json } => {
            let store = open_store(&config)?;
            let set = topic_set(&config)?;
            let t = set.resolve(&topic).map_err(|e| Exit(2, e.0))?;
            let configured = set.topics.iter().any(|c| c.id == t.id);
            let papers = store.recent(&t, configured, n.clamp(1, 10_000), 200_000)?;
            if json {
                let v = papers
                    .iter()
                    .map(|sp| cli::export::paper_json(&store, sp))
                    .collect::<Result<Vec<_>, _>>()?;
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else if papers.is_empty() {
                eprintln!(
                    "No stored papers for {} yet. Run `paperbell fetch` first.",
                    t.name
                );
            } else {
                out(&digest::render_list(&papers));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Search {
            query,
            n,
            sort,
            json,
        } => {
            let store = open_store(&config)?;
            let index = search_index(&store, &config)?;
            let sort = match sort {
                SortArg::Relevance => paperbell::search::Sort::Relevance,
                SortArg::Newest => paperbell::search::Sort::Newest,
            };
            let (query, found) =
                cli::search::search(&store, &index, &query.join(" "), n.clamp(1, 10_000), sort)
                    .map_err(search_exit)?;
            print_found(&store, &found, Some(&query), json)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Similar { id, n, json } => {
            let store = open_store(&config)?;
            let index = search_index(&store, &config)?;
            let found = cli::search::similar(&store, &index, &id, n.clamp(1, 10_000))
                .map_err(search_exit)?;
            print_found(&store, &found, None, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Paper { id, lang, json } => rt.block_on(paper(&config, &id, lang.as_deref(), json)),
        Cmd::Export {
            format,
            topics,
            days,
            out: dir,
        } => {
            let store = open_store(&config)?;
            let set = topic_set(&config)?;
            let selected = select_topics(&set, &topics)?;
            let format = match (format, dir) {
                (ExportFormat::Html, Some(dir)) => {
                    let site = paperbell::web::Site::new(paperbell::web::Archive {
                        store: Arc::new(store),
                        topics: Arc::new(TopicSet { topics: selected }),
                        search: None,
                    });
                    let done = paperbell::web::export::export_site(&site, &dir, days)?;
                    outln!(
                        "wrote {} topic and home pages, {} paper pages ({} files) to {}",
                        done.pages,
                        done.papers,
                        done.files,
                        dir.display()
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                (ExportFormat::Html, None) => {
                    return Err(Exit(2, "--format html writes files: give --out DIR".into()).into());
                }
                (_, Some(_)) => {
                    return Err(Exit(
                        2,
                        "--out is for --format html; markdown and json go to stdout".into(),
                    )
                    .into());
                }
                (ExportFormat::Markdown, None) => cli::export::Format::Markdown,
                (ExportFormat::Json, None) => cli::export::Format::Json,
            };
            let today = Utc::now().date_naive();
            out(&cli::export::export(
                &store, &selected, days, today, format,
            )?);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Reindex => {
            let store = open_store(&config)?;
            let topics = topic_set(&config)?;
            rematch_topics(&store, &topics)?;
            let stats = store.reindex(&topics)?;
            store.flush()?;
            let mut hits: Vec<String> = stats
                .topic_hits
                .iter()
                .map(|(t, n)| format!("{t} +{n}"))
                .collect();
            hits.sort();
            outln!(
                "reindexed {} paper(s); newly indexed: {}",
                stats.unchanged,
                if hits.is_empty() {
                    "none".to_string()
                } else {
                    hits.join(", ")
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Status => control::status(&config),
        Cmd::Backup { out: file } => control::backup(&config, file.as_deref()),
        Cmd::Restore { file } => control::restore(&config, &file),
        Cmd::Rate { id, action, chat } => {
            let store = open_store(&config)?;
            let chat = cli::taste::chat_key(chat.as_deref()).map_err(|e| Exit(2, e.to_string()))?;
            let change = match action {
                RateAction::Up => RatingChange::Up,
                RateAction::Down => RatingChange::Down,
                RateAction::Save => RatingChange::Save,
                RateAction::Clear => RatingChange::Clear,
            };
            let said = cli::taste::rate(&store, &chat, &id, change, Utc::now().timestamp())
                .map_err(|e| match e {
                    cli::taste::TasteCommandError::NotAnId(_) => Exit(2, e.to_string()).into(),
                    e => anyhow::Error::from(e),
                })?;
            out(&said);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Import { file, chat } => rt.block_on(import(&config, &file, chat.as_deref())),
        Cmd::ForYou { chat, day, n, json } => {
            let store = open_store(&config)?;
            let set = topic_set(&config)?;
            let chat = cli::taste::chat_key(chat.as_deref()).map_err(|e| Exit(2, e.to_string()))?;
            let Some(day) = day.map_or_else(|| store.latest_day(), |d| Ok(Some(d)))? else {
                eprintln!("No stored papers yet. Run `paperbell fetch` first.");
                return Ok(ExitCode::SUCCESS);
            };
            let cats = compose::for_you::chat_categories(&store, &set, &chat)?;
            let taste = store.taste(&chat)?;
            let list =
                compose::for_you::for_you(&store, taste.as_ref(), day, &cats, n.clamp(1, 10_000))?;
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&cli::taste::for_you_json(&store, &list)?)?
                );
            } else if list.is_empty() {
                eprintln!("No paper announced on {day} in the chat's categories.");
            } else {
                out(&cli::taste::for_you_text(&store, &list)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Run => rt.block_on(run(config)),
    }
}

/// `paperbell import`: a library into a chat's taste, papers fetched from arXiv as needed.
async fn import(config: &Config, file: &std::path::Path, chat: Option<&str>) -> Result<ExitCode> {
    let chat = cli::taste::chat_key(chat).map_err(|e| Exit(2, e.to_string()))?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    if size > paperbell::sources::library::MAX_BYTES as u64 {
        return Err(Exit(
            2,
            format!(
                "{}: {}",
                file.display(),
                paperbell::sources::library::LibraryError::TooLarge(size as usize)
            ),
        )
        .into());
    }
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = open_store(config)?;
    let topics = topic_set(config)?;
    let client = ArxivClient::new(&config.arxiv).map_err(|e| anyhow::anyhow!("{e}"))?;
    let done = paperbell::learn::import::import(
        &store,
        &topics,
        Some(&client),
        &chat,
        &bytes,
        Utc::now().timestamp(),
        paperbell::learn::import::MAX_TITLE_LOOKUPS,
    )
    .await
    .map_err(|e| match e {
        paperbell::learn::import::ImportError::Library(e) => {
            Exit(2, format!("{}: {e}; nothing was imported", file.display())).into()
        }
        e => anyhow::Error::from(e),
    })?;
    let learnt = paperbell::learn::retrain(&store, &chat)?;
    store.flush()?;
    out(&cli::taste::import_report(&done));
    if let Some(l) = learnt {
        outln!(
            "model of chat {chat}: learnt from {} liked and {} disliked paper(s)",
            l.liked,
            l.disliked
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The store's search index for a command-line search, caught up first.
fn search_index(store: &Store, config: &Config) -> Result<SearchIndex> {
    let (index, caught) = cli::search::open_index(store, &config.store.path)?;
    if let Some(n) = caught.rebuilt {
        tracing::info!(papers = n, "search index rebuilt from the store");
    }
    Ok(index)
}

/// A search's error with its exit code: 2 for a query or id that does not parse, 4 for a
/// paper that is not stored.
fn search_exit(e: cli::search::SearchCommandError) -> anyhow::Error {
    use cli::search::SearchCommandError as E;
    match e {
        E::Query(_) | E::NotAnId(_) => Exit(2, e.to_string()).into(),
        E::NotStored(_) => Exit(4, e.to_string()).into(),
        e => e.into(),
    }
}

/// Search results as text (as `recent` prints papers) or JSON.
/// Search or similar results; a search's snippets mark the matched words in bold on a
/// terminal, between `**` otherwise.
fn print_found(
    store: &Store,
    found: &[(paperbell::model::paper::StoredPaper, paperbell::search::Hit)],
    query: Option<&paperbell::search::Expr>,
    json: bool,
) -> Result<()> {
    use std::io::IsTerminal;
    if json {
        let v = cli::search::json(store, found, query)?;
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else if found.is_empty() {
        eprintln!("No stored paper matches.");
    } else {
        let mark = if std::io::stdout().is_terminal() {
            ("\x1b[1m", "\x1b[0m")
        } else {
            ("**", "**")
        };
        out(&cli::search::text(found, query, mark));
    }
    Ok(())
}

fn select_topics(set: &TopicSet, names: &[String]) -> Result<Vec<Topic>> {
    if names.is_empty() {
        return Ok(set.topics.clone());
    }
    names
        .iter()
        .map(|n| {
            set.resolve(n)
                .map_err(|e| Exit(2, format!("--topic {n}: {}", e.0)).into())
        })
        .collect()
}

/// `paperbell parse`: prints what parsed; exit 2 beats exit 3 beats 0.
fn parse_files(files: &[PathBuf]) -> ExitCode {
    let docs = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read(f)))
        .collect();
    let parsed = cli::parse::parse_documents(docs);
    for m in &parsed.messages {
        eprintln!("{m}");
    }
    match serde_json::to_string_pretty(&parsed.papers) {
        Ok(s) => outln!("{s}"),
        Err(e) => {
            eprintln!("cannot print JSON: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::from(parsed.exit_code)
}

async fn fetch(
    config: &Config,
    topics: &[String],
    files: &[PathBuf],
    source: SourceArg,
    days: u32,
) -> Result<ExitCode> {
    let store = Arc::new(open_store(config)?);
    let set = topic_set(config)?;
    // Local files only: no network at all, enrichment included.
    let online = (files.is_empty() || !topics.is_empty()).then(|| {
        let source = match source {
            SourceArg::Feed => Source::Feed,
            SourceArg::Api => Source::Api { days },
        };
        select_topics(&set, topics).map(|t| (t, source))
    });
    let mut say = |s: cli::fetch::Said| match s {
        cli::fetch::Said::Out(line) => outln!("{line}"),
        cli::fetch::Said::Warning(w) => eprintln!("warning: {w}"),
        cli::fetch::Said::Error(e) => eprintln!("error: {e}"),
    };
    let failed = cli::fetch::fetch(
        config,
        store,
        &set,
        files,
        online.transpose()?,
        Clock::System,
        &mut say,
    )
    .await?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn paper(config: &Config, id: &str, lang: Option<&str>, json: bool) -> Result<ExitCode> {
    let store = open_store(config)?;
    let topics = topic_set(config)?;
    let shown = match cli::paper::show(config, &store, &topics, id, lang, Clock::System).await {
        Ok(s) => s,
        Err(e @ (PaperError::NotAnId(_) | PaperError::Lang(_))) => {
            return Err(Exit(2, e.to_string()).into());
        }
        Err(e @ PaperError::NotOnArxiv(_)) => return Err(Exit(4, e.to_string()).into()),
        Err(e) => return Err(e.into()),
    };
    if let Some(w) = &shown.warning {
        eprintln!("warning: {w}");
    }
    if json {
        let v = digest::stored_json(&shown.paper, &shown.view);
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        out(&digest::render_paper(&shown.paper, &shown.view));
    }
    Ok(ExitCode::SUCCESS)
}

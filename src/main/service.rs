//! `paperbell run`, wired: the store, search index follower, taste learner, chat platforms
//! (connected with retries), the HTTP listener with the web archive, planning, senders and the
//! fetch job, until Ctrl-C or SIGTERM stops them all and the store is flushed.

use super::*;

pub(super) async fn run(config: Config) -> Result<ExitCode> {
    // Before anything that takes time: a SIGTERM during start-up is a request to stop, not a
    // kill by the default handler (a test saw one land between connecting and waiting).
    install_signal_handlers();
    let started = Utc::now();
    let store = Arc::new(open_store(&config)?);
    let topics = topic_set(&config)?;
    tracing::info!(store = %config.store.path.display(), topics = topics.topics.len(), "paperbell starting");
    // Before anything reads a topic's papers: entries made by an older matcher are made again.
    tokio::task::block_in_place(|| rematch_topics(&store, &topics))?;
    // Recording starts before anything happens worth counting (the fetch at start-up).
    let exporter = paperbell::metrics::Exporter::install();
    // The papers are counted once (a scan of the store) now, not in the first /metrics,
    // /healthz or home page asked for.
    tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.paper_count()
    });
    let mut svc = Running {
        tasks: Vec::new(),
        late: paperbell::web::LateRoutes::default(),
        platforms: paperbell::web::Platforms::default(),
        senders: Vec::new(),
        shutdown: CancellationToken::new(),
        store: store.clone(),
    };
    let (search, search_wake) = svc.follow_search(&config);
    // Health, metrics and the pages from the first second: the platforms' routes join the
    // listener as each connects.
    svc.serve_http(&config, &topics, search.clone(), exporter, started)
        .await?;
    svc.serve_control(&config)?;
    svc.take_backups(&config);
    let learn_wake = svc.follow_ratings();
    // One client for the fetch job and `/import`: arXiv's pace is kept across both.
    let arxiv = Arc::new(ArxivClient::new(&config.arxiv)?);
    let core = Arc::new(ChatCore {
        store: store.clone(),
        topics: Arc::new(topics.clone()),
        defaults: config.schedule.chat_defaults(),
        search: search.clone(),
        clock: Clock::System,
        learn: learn_wake.clone(),
        arxiv: Some(arxiv.clone()),
        figures: config.figures.enabled,
    });
    if !svc.connect_platforms(&config, &core).await? {
        return svc.stop().await;
    }
    let fetched = Arc::new(tokio::sync::Notify::new());
    let platforms = !svc.senders.is_empty();
    if platforms {
        let job = PlanJob {
            planner: Arc::new(Planner::new(
                store.clone(),
                Arc::new(topics.clone()),
                config.schedule.clone(),
                svc.senders.iter().map(|(p, _)| *p).collect(),
            )),
            clock: Clock::System,
            tick: std::time::Duration::from_secs_f64(config.delivery.tick_secs),
            ledger_days: config.delivery.ledger_days,
            fetched: fetched.clone(),
            senders: std::mem::take(&mut svc.senders),
        };
        let stop = svc.shutdown.clone();
        svc.spawn("planner", async move { Ok(job.run(stop).await?) });
    }
    let enricher = Enricher::from_config(
        &config,
        store.clone(),
        Arc::new(topics.clone()),
        Clock::System,
        arxiv.clone(),
    )?
    .map(Arc::new);
    let job = FetchJob {
        client: arxiv,
        config,
        store: store.clone(),
        topics,
        enricher,
        // With no chat platform, the terminal is where digests go.
        print_digests: !platforms,
        fetched: platforms.then_some(fetched),
        clock: Clock::System,
        search: search.is_some().then_some(search_wake),
        learn: Some(learn_wake.clone()),
    };
    let stop = svc.shutdown.clone();
    svc.spawn("fetch", async move { Ok(job.run(stop).await?) });
    wait_for_signal().await;
    svc.stop().await
}

/// The service's long-running tasks as they are started, and what the next ones need.
struct Running {
    tasks: Vec<(&'static str, tokio::task::JoinHandle<Result<()>>)>,
    /// The platforms' routes (webhooks, interactions), joining the listener as they connect.
    late: paperbell::web::LateRoutes,
    /// The platforms' states, for `/healthz`.
    platforms: paperbell::web::Platforms,
    /// Each running platform's outbox sender, as planning hands it new items.
    senders: Vec<(Platform, tokio::sync::mpsc::UnboundedSender<(u64, String)>)>,
    shutdown: CancellationToken,
    store: Arc<Store>,
}

impl Running {
    /// The search index, followed in the background from start-up (a first start on a large
    /// store rebuilds it) and after each fetch; until then search answers from what it holds.
    fn follow_search(&mut self, config: &Config) -> (Option<Arc<SearchIndex>>, IndexWake) {
        let wake = IndexWake::new();
        if !config.search.enabled {
            tracing::info!("search is off ([search] enabled = false): /search scans the store");
            return (None, wake);
        }
        match SearchIndex::open(&SearchIndex::dir_for(&config.store.path)) {
            Ok(index) => {
                let index = Arc::new(index);
                let follower = IndexFollower {
                    index: index.clone(),
                    store: self.store.clone(),
                    wake: wake.clone(),
                };
                self.spawn_run("search index", |stop| follower.run(stop));
                (Some(index), wake)
            }
            Err(e) => {
                tracing::error!(error = %e, "the search index cannot be opened: /search scans the store instead");
                (None, wake)
            }
        }
    }

    /// Taste models follow their chats' ratings: marked ones are retrained at start-up (a
    /// crash between a rating and its retrain) and after every rating.
    fn follow_ratings(&mut self) -> paperbell::learn::LearnWake {
        let wake = paperbell::learn::LearnWake::default();
        let learner = paperbell::learn::Learner {
            store: self.store.clone(),
            wake: wake.clone(),
        };
        self.spawn_run("taste models", |stop| learner.run(stop));
        wake
    }

    /// The control socket in the data directory, where `paperbell status` and `paperbell
    /// backup` reach the service. Without it (a path too long for a socket, say) the service
    /// runs on, and says so.
    fn serve_control(&mut self, config: &Config) -> Result<()> {
        let path = paperbell::control::socket_path(&config.store.path);
        match paperbell::control::server::ControlServer::bind(
            &path,
            self.store.clone(),
            config.backup.dir_for(&config.store.path),
            config.backup.keep,
            Clock::System,
        ) {
            Ok(server) => {
                tracing::info!(socket = %path.display(), "control socket up: `paperbell status` and `paperbell backup` ask this service");
                self.spawn_run("control socket", |stop| server.run(stop));
            }
            Err(e) => {
                tracing::warn!(socket = %path.display(), error = %e, "no control socket: `paperbell status` and `paperbell backup` cannot reach this service");
            }
        }
        Ok(())
    }

    /// Backups every `[backup] every_hours` (none when 0).
    fn take_backups(&mut self, config: &Config) {
        let b = &config.backup;
        if b.every_hours <= 0.0 {
            return;
        }
        let job = paperbell::backup::schedule::BackupJob {
            store: self.store.clone(),
            dir: b.dir_for(&config.store.path),
            every: std::time::Duration::from_secs_f64(b.every_hours * 3600.0),
            keep: b.keep,
            clock: Clock::System,
        };
        tracing::info!(dir = %job.dir.display(), every_hours = b.every_hours, keep = b.keep, "scheduled backups on");
        self.spawn_run("backups", |stop| job.run(stop));
    }

    /// Connects each platform with a token, its state `connecting` meanwhile; `false` when a
    /// stop was asked for before they all connected.
    async fn connect_platforms(&mut self, config: &Config, core: &Arc<ChatCore>) -> Result<bool> {
        if config.telegram.token.is_some() {
            self.platforms
                .set(Platform::Telegram, PlatformState::Connecting);
        }
        if config.discord.token.is_some() {
            self.platforms
                .set(Platform::Discord, PlatformState::Connecting);
        }
        if let Some(token) = &config.telegram.token {
            let Some(bot) = connect_telegram(config, token.expose(), core.clone()).await? else {
                return Ok(false);
            };
            let routes = bot.webhook_router();
            self.add_platform(bot, routes, config, |b, stop| async move {
                Ok(b.run(stop).await?)
            });
        }
        if let Some(token) = &config.discord.token {
            let Some(bot) = connect_discord(config, token.expose(), core.clone()).await? else {
                return Ok(false);
            };
            let routes = bot.interactions_router();
            self.add_platform(bot, routes, config, |b, stop| async move {
                Ok(b.run(stop).await?)
            });
        }
        Ok(true)
    }

    /// The HTTP listener (`[http] listen`, unless `off`): the archive, `/healthz`, `/metrics`
    /// and the platforms' routes gathered so far.
    async fn serve_http(
        &mut self,
        config: &Config,
        topics: &TopicSet,
        search: Option<Arc<SearchIndex>>,
        exporter: paperbell::metrics::Exporter,
        started: chrono::DateTime<Utc>,
    ) -> Result<()> {
        let Some(listen) = config.http.address() else {
            return Ok(());
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| {
                format!("cannot listen on {listen} ([http] listen; `off` for none)")
            })?;
        let addr = listener.local_addr()?;
        let web = Arc::new(paperbell::web::Web {
            site: config.web.enabled.then(|| {
                paperbell::web::Site::new(paperbell::web::Archive {
                    store: self.store.clone(),
                    topics: Arc::new(topics.clone()),
                    search: search.clone(),
                })
            }),
            store: self.store.clone(),
            platforms: self.platforms.clone(),
            exporter,
            clock: Clock::System,
            stale_after: chrono::Duration::seconds((config.http.stale_after_hours * 3600.0) as i64),
            started,
            search: search.clone(),
            nonce: rand::random(),
            made: paperbell::web::http::PageCache::with_budget(config.page_cache_bytes()),
            figure_origin: Some(config.arxiv.html_url.url().origin().ascii_serialization())
                .filter(|o| o != "null"),
            makers: paperbell::web::makers::Makers::start(),
        });
        if config.web.enabled {
            tracing::info!(%addr, "HTTP listener up: the archive at http://{addr}/, /healthz, /metrics");
        } else {
            tracing::info!(%addr, "HTTP listener up: /healthz and /metrics ([web] enabled = false)");
        }
        let routes = paperbell::web::router(web).merge(self.late.router(&[
            paperbell_telegram::bot::WEBHOOK_PATH,
            paperbell_discord::INTERACTIONS_PATH,
        ]));
        let stop = self.shutdown.clone();
        self.spawn("http", async move {
            axum::serve(listener, routes)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .context("HTTP listener failed")
        });
        Ok(())
    }

    /// Stops every task (they finish what is in flight), reports the first failure and
    /// flushes the store.
    async fn stop(self) -> Result<ExitCode> {
        tracing::info!("shutting down");
        self.shutdown.cancel();
        let mut failed = None;
        for (name, task) in self.tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(task = name, error = %format!("{e:#}"), "task failed");
                    failed.get_or_insert(e);
                }
                Err(e) => {
                    tracing::error!(task = name, error = %e, "task panicked");
                }
            }
        }
        self.store.flush()?;
        match failed {
            Some(e) => Err(e),
            None => Ok(ExitCode::SUCCESS),
        }
    }

    /// Spawns a component whose `run` ends only at shutdown (and reports no error).
    fn spawn_run<F>(&mut self, name: &'static str, run: impl FnOnce(CancellationToken) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let running = run(self.shutdown.clone());
        self.spawn(name, async move {
            running.await;
            Ok(())
        });
    }

    fn spawn(
        &mut self,
        name: &'static str,
        task: impl std::future::Future<Output = Result<()>> + Send + 'static,
    ) {
        self.tasks.push((name, tokio::spawn(task)));
    }

    /// Starts a connected chat platform, the same way for each: its routes on the listener,
    /// its own loop (`run`), and a sender draining its outbox.
    fn add_platform<B, F>(
        &mut self,
        bot: B,
        routes: Option<axum::Router>,
        config: &Config,
        run: impl FnOnce(B, CancellationToken) -> F,
    ) where
        B: ChatPlatform + Clone,
        F: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        let platform = bot.platform();
        if let Some(r) = routes {
            self.late.add(r);
        }
        let states = self.platforms.clone();
        states.set(platform, PlatformState::Running);
        let running = run(bot.clone(), self.shutdown.clone());
        self.spawn(platform.as_str(), async move {
            let result = running.await;
            let state = match &result {
                Ok(()) => PlatformState::Stopped,
                Err(_) => PlatformState::Failed,
            };
            states.set(platform, state);
            result
        });
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let sender = Sender {
            platform: Arc::new(bot),
            store: self.store.clone(),
            settings: delivery::sender_settings(&config.delivery, platform),
            clock: Clock::System,
            incoming: rx,
        };
        let stop = self.shutdown.clone();
        let name = match platform {
            Platform::Telegram => "telegram sender",
            Platform::Discord => "discord sender",
        };
        self.spawn(name, async move { Ok(sender.run(stop).await?) });
        self.senders.push((platform, tx));
    }
}

/// Starts the Telegram side. A bad token or URL stops the service with a clear message; an
/// unreachable Telegram is retried until it answers (or until Ctrl-C / SIGTERM: `None`).
async fn connect_telegram(
    config: &Config,
    token: &str,
    core: Arc<ChatCore>,
) -> Result<Option<TelegramBot>> {
    let tg = &config.telegram;
    let webhook = (tg.mode == paperbell::config::TelegramMode::Webhook).then(|| WebhookSettings {
        url: tg.webhook_url.as_deref().unwrap_or_default().to_string(),
        secret: tg
            .webhook_secret
            .as_ref()
            .map(|s| s.expose().to_string())
            .unwrap_or_else(random_secret),
    });
    let settings = TelegramSettings {
        token: token.to_string(),
        api_url: tg.api_url.to_string(),
        webhook,
    };
    retrying(
        "Telegram",
        || TelegramBot::connect(settings.clone(), core.clone()),
        |e| matches!(e, TelegramError::Request(_)),
    )
    .await
}

/// Starts the Discord side, like `connect_telegram`.
async fn connect_discord(
    config: &Config,
    token: &str,
    core: Arc<ChatCore>,
) -> Result<Option<DiscordBot>> {
    let d = &config.discord;
    let id = |v: Option<paperbell::config::DiscordId>| v.map(|i| i.0.get());
    let settings = DiscordSettings {
        token: token.to_string(),
        api_url: d.api_url.to_string(),
        application_id: id(d.application_id),
        public_key: d.public_key.clone(),
        guild_id: id(d.guild_id),
        mode: if d.mode == paperbell::config::DiscordMode::Http {
            DiscordMode::Http
        } else {
            DiscordMode::Gateway
        },
    };
    retrying(
        "Discord",
        || DiscordBot::connect(settings.clone(), core.clone()),
        |e| matches!(e, DiscordError::Request(_)),
    )
    .await
}

/// Connects to a platform: errors `transient` says are passing (the platform is unreachable)
/// are retried with backoff until it answers (or until Ctrl-C / SIGTERM: `None`); any other
/// error (a refused token, a bad setting) stops the service with exit code 2.
async fn retrying<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    mut connect: impl FnMut() -> F,
    transient: impl Fn(&E) -> bool,
) -> Result<Option<T>> {
    // Until it answers: no retry count or budget, waits of 2 s doubling up to a minute.
    let mut tries = paperbell_chat::retry::RetryPolicy {
        base: std::time::Duration::from_secs(2),
        cap: std::time::Duration::from_secs(60),
        retries: u32::MAX,
        budget: std::time::Duration::MAX,
    }
    .start();
    loop {
        match connect().await {
            Ok(bot) => return Ok(Some(bot)),
            Err(e) if transient(&e) => {
                let wait = tries
                    .next(None, rand::random())
                    .unwrap_or(std::time::Duration::from_secs(60));
                tracing::warn!(error = %e, retry_in = ?wait, "{what} is not reachable yet");
                tokio::select! {
                    _ = wait_for_signal() => return Ok(None),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            Err(e) => return Err(Exit(2, e.to_string()).into()),
        }
    }
}

/// A webhook secret for this run: Telegram allows `A-Za-z0-9_-`, up to 256 characters.
fn random_secret() -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

/// Cancelled by the first Ctrl-C or SIGTERM after `install_signal_handlers`.
static STOP_ASKED: std::sync::OnceLock<CancellationToken> = std::sync::OnceLock::new();

/// Takes over Ctrl-C and SIGTERM now (the handlers are in place when this returns) and turns
/// the first of them into `STOP_ASKED`.
fn install_signal_handlers() {
    let stop = STOP_ASKED.get_or_init(CancellationToken::new).clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            tokio::spawn(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                stop.cancel();
            });
            return;
        }
    }
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
}

async fn wait_for_signal() {
    STOP_ASKED
        .get_or_init(CancellationToken::new)
        .cancelled()
        .await
}

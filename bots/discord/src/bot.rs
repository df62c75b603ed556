//! The serenity edge: start-up (token check, slash-command registration, globally or in one
//! guild), the gateway or HTTP-interactions endpoint (Ed25519-verified), turning interactions
//! into commands for the core's `Handler`, the Manage Channels check, replying (at once,
//! or deferred when the work takes longer than Discord's 3 s), and sending digests to
//! channels with Discord's errors mapped onto the contract's `SendError`. What it decides lives
//! in `parse` and `render`; this stays thin.
//!
//! Digests go out through our own REST call rather than serenity's `Http`: with serenity's rate
//! limiter disabled (the only way it honours `api_url`) a 429 comes back without its
//! `retry_after` and `global` fields, and the delivery policy needs them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use paperbell_chat::buttons::{Callback, CallbackTable};
use paperbell_chat::flood::{FloodLimit, Verdict};
use paperbell_chat::offload::Offload;
use paperbell_chat::{
    Answer, Caller, ChatPlatform, ChatRef, Command, DigestMessage, Handler, Lang, Platform,
    SendError, Sent, t,
};
use serenity::all::{
    ButtonStyle, ChannelId, CommandDataOptionValue, CommandInteraction, CommandOptionType,
    ComponentInteraction, Context, CreateActionRow, CreateAllowedMentions,
    CreateAutocompleteResponse, CreateButton, CreateCommand, CreateCommandOption, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, EventHandler,
    GatewayIntents, GuildChannel, GuildId, Interaction, Member, Permissions, Ready,
};
use serenity::http::{Http, HttpBuilder};
use serenity::interactions_endpoint::Verifier;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::parse::{self, Kind, MAX_CUSTOM_ID, Value};
use crate::render::{self, Message};

/// Path of the HTTP-interactions endpoint on the service's HTTP listener.
pub const INTERACTIONS_PATH: &str = "/discord/interactions";
pub const DEFAULT_API_URL: &str = "https://discord.com";
/// Discord waits 3 s for the first answer; past this the reply is deferred and sent later.
const DEFER_AFTER: Duration = Duration::from_millis(2500);
/// Interactions handled at once; more wait for a slot.
const MAX_IN_FLIGHT: usize = 64;
const FLOOD_BURST: u32 = 20;
const FLOOD_EVERY: Duration = Duration::from_secs(1);
/// The locale Discord uses for Simplified Chinese.
const ZH_LOCALE: &str = "zh-CN";

/// One message on any of serenity's message builders (they share method names, not a trait).
macro_rules! fill {
    ($builder:expr, $m:expr, $rows:expr) => {{
        let (m, mut b) = ($m, $builder);
        b = b
            .embeds(embeds(m))
            .components($rows.to_vec())
            .allowed_mentions(CreateAllowedMentions::new());
        if !m.content.is_empty() {
            b = b.content(m.content.clone());
        }
        b
    }};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscordMode {
    /// A gateway WebSocket: no public URL needed.
    Gateway,
    /// Discord POSTs interactions to `INTERACTIONS_PATH`, signed with the application's key.
    Http,
}

#[derive(Debug, Clone)]
pub struct DiscordSettings {
    pub token: String,
    /// `https://discord.com`, or a proxy / local fake speaking the same API.
    pub api_url: String,
    /// Looked up from the token when not given.
    pub application_id: Option<u64>,
    /// The application's public key (hex), needed in HTTP mode.
    pub public_key: Option<String>,
    /// Register the commands in this guild only (instant; for testing) instead of globally.
    pub guild_id: Option<u64>,
    pub mode: DiscordMode,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("`{0}` is not a valid Discord API URL")]
    ApiUrl(String),
    #[error(
        "Discord refused the bot token; check PAPERBELL_DISCORD_TOKEN (Developer Portal > Bot > Token)"
    )]
    Token,
    #[error(
        "HTTP interactions need the application's public key: set [discord] public_key or PAPERBELL_DISCORD_PUBLIC_KEY (Developer Portal > General Information)"
    )]
    NoPublicKey,
    #[error("`{0}` is not a valid public key (64 hex digits from the Developer Portal)")]
    PublicKey(String),
    #[error("Discord request failed: {0}")]
    Request(String),
}

/// The running Discord side of paperbell. Cheap to clone.
#[derive(Clone)]
pub struct DiscordBot {
    inner: Arc<Inner>,
}

struct Inner {
    http: Arc<Http>,
    settings: DiscordSettings,
    /// For digests: our own REST client (see the module comment).
    rest: reqwest::Client,
    api_base: String,
    auth: String,
    core: Offload,
    verifier: Option<Verifier>,
    flood: Mutex<FloodLimit>,
    buttons: Mutex<CallbackTable>,
    tasks: TaskTracker,
    slots: Arc<Semaphore>,
    /// Discord bans clients that keep producing 401/403/429 answers, so the adapter itself
    /// stops at the first: channels that refused the bot get no more requests (until a command
    /// from them shows the bot is back), and a 429 holds back that channel, or everything for
    /// a global one, until its `retry_after` has passed.
    guard: Mutex<Guard>,
}

#[derive(Default)]
struct Guard {
    gone: HashSet<u64>,
    until: HashMap<u64, Instant>,
    global_until: Option<Instant>,
}

impl Guard {
    /// Why a send to `channel` must not be tried now, if it must not.
    fn check(&mut self, channel: u64, now: Instant) -> Option<SendError> {
        if self.gone.contains(&channel) {
            return Some(SendError::Permanent(
                "the channel refused the bot earlier".into(),
            ));
        }
        let until = self
            .until
            .get(&channel)
            .copied()
            .into_iter()
            .chain(self.global_until)
            .filter(|u| *u > now)
            .max();
        if until.is_none() {
            self.until.remove(&channel);
        }
        until.map(|u| SendError::RetryAfter(u - now))
    }

    fn record(&mut self, channel: u64, err: &SendError, now: Instant) {
        match err {
            SendError::Permanent(_) => {
                self.gone.insert(channel);
            }
            SendError::GlobalRetryAfter(d) => self.global_until = Some(now + *d),
            SendError::RetryAfter(d) => self.hold(channel, now + *d),
            _ => {}
        }
    }

    /// No request to `channel` before `until`.
    fn hold(&mut self, channel: u64, until: Instant) {
        self.until.insert(channel, until);
    }
}

/// What answering one interaction takes: the first response, then follow-up messages.
struct Plan {
    first: CreateInteractionResponse,
    /// The first response's message again, for a deferred reply (edited in later).
    first_message: Option<Message>,
    rest: Vec<Message>,
}

impl DiscordBot {
    /// Checks the token, finds the application id, and registers the slash commands.
    pub async fn connect(
        settings: DiscordSettings,
        handler: Arc<dyn Handler>,
    ) -> Result<DiscordBot, DiscordError> {
        let base = reqwest::Url::parse(&settings.api_url)
            .map_err(|_| DiscordError::ApiUrl(settings.api_url.clone()))?;
        let api_base = settings.api_url.trim_end_matches('/').to_string();
        if base.cannot_be_a_base() {
            return Err(DiscordError::ApiUrl(settings.api_url.clone()));
        }
        let verifier = match (settings.mode, &settings.public_key) {
            (DiscordMode::Http, None) => return Err(DiscordError::NoPublicKey),
            (_, Some(k)) => Some(
                hex32(k)
                    .and_then(|b| Verifier::try_new(b).ok())
                    .ok_or_else(|| DiscordError::PublicKey(k.clone()))?,
            ),
            (_, None) => None,
        };
        let http = Arc::new(build_http(&settings));
        let me = http
            .get_current_user()
            .await
            .map_err(|e| request_error(&e))?;
        let app_id = match settings.application_id {
            Some(id) => id,
            None => http
                .get_current_application_info()
                .await
                .map_err(|e| request_error(&e))?
                .id
                .get(),
        };
        http.set_application_id(app_id.into());
        let cmds = command_builders();
        let registered = match settings.guild_id {
            Some(g) => GuildId::new(g).set_commands(&http, cmds).await.map(|_| ()),
            None => serenity::all::Command::set_global_commands(&http, cmds)
                .await
                .map(|_| ()),
        };
        if let Err(e) = registered {
            // Earlier registrations stay in Discord; the bot still answers those.
            tracing::warn!(error = %redact(&e.to_string()), "registering slash commands failed");
        }
        tracing::info!(bot = %me.name, application = app_id, "Discord bot connected");
        let auth = format!("Bot {}", settings.token.trim_start_matches("Bot "));
        Ok(DiscordBot {
            inner: Arc::new(Inner {
                http,
                rest: reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .user_agent(concat!(
                        "DiscordBot (https://github.com/paperbell/paperbell, ",
                        env!("CARGO_PKG_VERSION"),
                        ")"
                    ))
                    .build()
                    .map_err(|e| DiscordError::Request(e.to_string()))?,
                api_base,
                auth,
                core: Offload::new(handler),
                verifier,
                flood: Mutex::new(FloodLimit::new(FLOOD_BURST, FLOOD_EVERY)),
                buttons: Mutex::new(CallbackTable::new(10_000, MAX_CUSTOM_ID)),
                tasks: TaskTracker::new(),
                slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
                guard: Mutex::new(Guard::default()),
                settings,
            }),
        })
    }

    /// Receives interactions until `shutdown`: over the gateway, or in HTTP mode through
    /// `interactions_router` (served by the caller). Then waits for interactions in flight.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), DiscordError> {
        match self.inner.settings.mode {
            DiscordMode::Http => shutdown.cancelled().await,
            DiscordMode::Gateway => {
                let mut client = serenity::all::ClientBuilder::new_with_http(
                    build_http(&self.inner.settings),
                    GatewayIntents::GUILDS,
                )
                .event_handler(Events { bot: self.clone() })
                .await
                .map_err(|e| DiscordError::Request(redact(&e.to_string())))?;
                let shards = client.shard_manager.clone();
                tokio::select! {
                    res = client.start() => {
                        if let Err(e) = res {
                            tracing::error!(error = %redact(&e.to_string()), "Discord gateway stopped");
                        }
                    }
                    _ = shutdown.cancelled() => shards.shutdown_all().await,
                }
            }
        }
        self.inner.tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("stopped with Discord interactions still in flight");
        }
        Ok(())
    }

    /// The HTTP-interactions endpoint (`POST /discord/interactions`); `None` in gateway mode.
    pub fn interactions_router(&self) -> Option<Router> {
        (self.inner.settings.mode == DiscordMode::Http).then(|| {
            Router::new()
                .route(INTERACTIONS_PATH, post(interactions))
                .with_state(self.clone())
        })
    }

    /// Answers one interaction that came over the gateway: the response, then follow-ups.
    async fn on_gateway_interaction(&self, interaction: Interaction) {
        let Some((id, token)) = ids(&interaction) else {
            return;
        };
        let Some(plan) = self.plan(&interaction).await else {
            return;
        };
        let http = &self.inner.http;
        if let Err(e) = http
            .create_interaction_response(id.into(), &token, &plan.first, vec![])
            .await
        {
            tracing::warn!(error = %redact(&e.to_string()), "interaction response failed");
            return;
        }
        self.follow_up(&token, plan.rest).await;
    }

    async fn follow_up(&self, token: &str, messages: Vec<Message>) {
        for m in messages {
            let f = followup(&m, &self.rows(&m));
            if let Err(e) = self
                .inner
                .http
                .create_followup_message(token, &f, vec![])
                .await
            {
                tracing::warn!(error = %redact(&e.to_string()), "follow-up message failed");
                return;
            }
        }
    }

    /// Decides the whole answer to an interaction. `None` for kinds paperbell ignores.
    async fn plan(&self, interaction: &Interaction) -> Option<Plan> {
        match interaction {
            Interaction::Ping(_) => Some(Plan {
                first: CreateInteractionResponse::Pong,
                first_message: None,
                rest: vec![],
            }),
            Interaction::Autocomplete(i) => Some(self.autocomplete(i).await),
            Interaction::Command(i) => Some(self.on_command(i).await),
            Interaction::Component(i) => Some(self.on_component(i).await),
            _ => None,
        }
    }

    async fn autocomplete(&self, i: &CommandInteraction) -> Plan {
        let typed = i
            .data
            .options
            .iter()
            .find_map(|o| match &o.value {
                CommandDataOptionValue::Autocomplete { value, .. } if o.name == "topic" => {
                    Some(value.clone())
                }
                _ => None,
            })
            .unwrap_or_default();
        let items = self
            .inner
            .core
            .suggest_topics(&channel_ref(i.channel_id), &typed)
            .await;
        let mut resp = CreateAutocompleteResponse::new();
        for (label, value) in parse::choices(&items) {
            resp = resp.add_string_choice(label, value);
        }
        Plan {
            first: CreateInteractionResponse::Autocomplete(resp),
            first_message: None,
            rest: vec![],
        }
    }

    async fn on_command(&self, i: &CommandInteraction) -> Plan {
        let caller = caller(i.channel_id, i.guild_id, i.member.as_deref(), &i.locale);
        // A command from a channel shows the bot is there again (the core reactivates it).
        self.guard().gone.remove(&i.channel_id.get());
        if let Some(plan) = self.flood_check(i.user.id.get(), &caller).await {
            return plan;
        }
        let options: Vec<(String, Value)> = i
            .data
            .options
            .iter()
            .filter_map(|o| match &o.value {
                CommandDataOptionValue::String(s) => Some((o.name.clone(), Value::Text(s.clone()))),
                CommandDataOptionValue::Integer(n) => Some((o.name.clone(), Value::Integer(*n))),
                _ => None,
            })
            .collect();
        let Some(cmds) = parse::commands(&i.data.name, &options) else {
            let lang = self.lang(&caller).await;
            return self.answer(
                vec![ephemeral(format!(
                    "{} /{}. {}",
                    t(lang, "Unknown command", "未知命令"),
                    i.data.name,
                    t(lang, "/help lists the commands.", "/help 列出所有命令。")
                ))],
                false,
            );
        };
        let mut messages = Vec::new();
        for cmd in cmds {
            messages.extend(render::reply(&self.command(&caller, cmd).await));
        }
        self.answer(merge_texts(messages), false)
    }

    async fn on_component(&self, i: &ComponentInteraction) -> Plan {
        let caller = caller(i.channel_id, i.guild_id, i.member.as_ref(), &i.locale);
        self.guard().gone.remove(&i.channel_id.get());
        let resolved = self
            .inner
            .buttons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .resolve(&i.data.custom_id);
        let Some(cmd) = resolved.as_ref().and_then(Callback::command) else {
            let lang = self.lang(&caller).await;
            return self.answer(
                vec![ephemeral(
                    t(
                        lang,
                        "This button has expired; run the command again.",
                        "此按钮已过期；请重新运行命令。",
                    )
                    .into(),
                )],
                false,
            );
        };
        if let Some(plan) = self.flood_check(i.user.id.get(), &caller).await {
            return plan;
        }
        let page_turn = matches!(cmd, Command::Topics { .. });
        let messages = render::reply(&self.command(&caller, cmd).await);
        // Turning a page of the topic list edits the list in place.
        self.answer(messages, page_turn)
    }

    /// The first message answers the interaction; the others follow.
    fn answer(&self, mut messages: Vec<Message>, update: bool) -> Plan {
        if messages.is_empty() {
            messages.push(render::text("…").remove(0));
        }
        let first = messages.remove(0);
        let data = response_message(&first, &self.rows(&first));
        Plan {
            first: if update && messages.is_empty() {
                CreateInteractionResponse::UpdateMessage(data)
            } else {
                CreateInteractionResponse::Message(data)
            },
            first_message: Some(first),
            rest: messages,
        }
    }

    /// Over the flood limit: the (ephemeral) answer to give instead of running the command.
    async fn flood_check(&self, user: u64, caller: &Caller) -> Option<Plan> {
        let verdict = self
            .inner
            .flood
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(user as i64, Instant::now());
        if verdict == Verdict::Allow {
            return None;
        }
        // Discord shows "interaction failed" for an unanswered one, so even a dropped command
        // gets the short, private note.
        let lang = self.lang(caller).await;
        Some(self.answer(
            vec![ephemeral(
                t(
                    lang,
                    "That is a lot of commands at once; please wait a few seconds and try again.",
                    "命令太多了；请稍等几秒再试。",
                )
                .into(),
            )],
            false,
        ))
    }

    async fn command(&self, caller: &Caller, cmd: Command) -> Answer {
        self.inner.core.command(caller, cmd).await
    }

    async fn lang(&self, caller: &Caller) -> Lang {
        self.inner.core.lang(caller).await
    }

    fn rows(&self, m: &Message) -> Vec<CreateActionRow> {
        let mut table = self.inner.buttons.lock().unwrap_or_else(|e| e.into_inner());
        m.buttons
            .iter()
            .map(|row| {
                CreateActionRow::Buttons(
                    row.iter()
                        .map(|(label, cb)| {
                            CreateButton::new(table.data(cb.clone()))
                                .label(label.clone())
                                .style(ButtonStyle::Secondary)
                        })
                        .collect(),
                )
            })
            .collect()
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, Guard> {
        self.inner.guard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Posts one message to a channel, unless the guard holds it back; a refusal marks the
    /// channel inactive in the core.
    async fn post(&self, channel: u64, m: &Message) -> Result<Sent, SendError> {
        if let Some(e) = self.guard().check(channel, Instant::now()) {
            return Err(e);
        }
        let res = self.post_once(channel, m).await;
        match &res {
            Err(e) => {
                self.guard().record(channel, e, Instant::now());
                if let SendError::Permanent(why) = e {
                    let chat = channel_ref(ChannelId::new(channel));
                    self.inner.core.chat_gone(&chat, why).await;
                }
            }
            // The route's bucket is empty: hold the channel here too, so that replies and
            // digests alike wait instead of earning a 429.
            Ok(Sent {
                route_wait: Some(d),
            }) => self.guard().hold(channel, Instant::now() + *d),
            Ok(_) => {}
        }
        res
    }

    /// One POST of a message.
    async fn post_once(&self, channel: u64, m: &Message) -> Result<Sent, SendError> {
        render::check(m)
            .map_err(|e| SendError::Rejected(format!("built an invalid message: {e}")))?;
        let body = fill!(CreateMessage::new(), m, self.rows(m));
        let url = format!(
            "{}/api/v10/channels/{channel}/messages",
            self.inner.api_base
        );
        let res = self
            .inner
            .rest
            .post(url)
            .header(header::AUTHORIZATION, &self.inner.auth)
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
        let status = res.status();
        let headers = res.headers();
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<f64>().ok())
        };
        if status.is_success() {
            return Ok(route_wait(
                number("x-ratelimit-remaining"),
                number("x-ratelimit-reset-after"),
            ));
        }
        let retry_header = number("retry-after");
        let global = headers.contains_key("x-ratelimit-global");
        let body = res.text().await.unwrap_or_default();
        Err(send_error(status.as_u16(), &body, retry_header, global))
    }
}

/// What Discord's rate-limit headers on a success say about the next request on this route:
/// wait `Reset-After` seconds once `Remaining` is 0.
pub fn route_wait(remaining: Option<f64>, reset_after: Option<f64>) -> Sent {
    Sent {
        route_wait: match (remaining, reset_after) {
            (Some(r), Some(s)) if r < 1.0 && s > 0.0 => {
                Some(Duration::from_secs_f64(s.min(3600.0)))
            }
            _ => None,
        },
    }
}

/// Discord's error answer in the contract's terms: 429 waits `retry_after` (seconds, float, in
/// the body; the header as a fallback), 403 and 404 are permanent for that channel (Discord bans
/// clients that keep producing them), other 4xx refuse this message, 5xx are transient.
pub fn send_error(status: u16, body: &str, retry_header: Option<f64>, global: bool) -> SendError {
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let message = json["message"].as_str().unwrap_or("").to_string();
    let code = json["code"].as_i64().unwrap_or(0);
    match status {
        429 => {
            let secs = json["retry_after"]
                .as_f64()
                .or(retry_header)
                .unwrap_or(1.0)
                .clamp(0.0, 3600.0);
            let after = Duration::from_secs_f64(secs);
            if global || json["global"].as_bool() == Some(true) {
                SendError::GlobalRetryAfter(after)
            } else {
                SendError::RetryAfter(after)
            }
        }
        // 10003 Unknown Channel, 50001 Missing Access, 50013 Missing Permissions, 50007 Cannot
        // send messages to this user.
        403 | 404 => SendError::Permanent(format!("{status} {message} ({code})")),
        401 => SendError::Transient(format!("401 {message}: is the bot token still valid?")),
        400 if code == 50035 && message.contains("length") => SendError::TooLong,
        400..=499 => SendError::Rejected(format!("{status} {message} ({code})")),
        _ => SendError::Transient(format!("{status} {message}")),
    }
}

impl ChatPlatform for DiscordBot {
    fn platform(&self) -> Platform {
        Platform::Discord
    }

    type Part = Message;

    /// Embeds within every limit, split over messages, Unsubscribe under the last one.
    fn render(&self, message: &DigestMessage) -> Vec<Message> {
        render::digest(message)
    }

    async fn send_part(&self, chat: &ChatRef, part: &Message) -> Result<Sent, SendError> {
        let id = channel_id(chat)
            .ok_or_else(|| SendError::Permanent(format!("bad channel id {chat}")))?;
        self.post(id, part).await
    }
}

struct Events {
    bot: DiscordBot,
}

#[serenity::async_trait]
impl EventHandler for Events {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "Discord gateway ready");
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let bot = self.bot.clone();
        let Ok(permit) = bot.inner.slots.clone().acquire_owned().await else {
            return;
        };
        self.bot.inner.tasks.spawn(async move {
            bot.on_gateway_interaction(interaction).await;
            drop(permit);
        });
    }

    async fn channel_delete(
        &self,
        _ctx: Context,
        channel: GuildChannel,
        _messages: Option<Vec<serenity::all::Message>>,
    ) {
        self.bot
            .inner
            .core
            .chat_gone(&channel_ref(channel.id), "the channel was deleted")
            .await;
    }
}

/// `POST /discord/interactions`: verifies Discord's Ed25519 signature (401 otherwise), answers
/// PING, and answers within 3 s, deferring when the work takes longer.
async fn interactions(State(bot): State<DiscordBot>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(verifier) = &bot.inner.verifier else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let sig = headers
        .get("x-signature-ed25519")
        .and_then(|v| v.to_str().ok());
    let ts = headers
        .get("x-signature-timestamp")
        .and_then(|v| v.to_str().ok());
    let verified = match (sig, ts) {
        (Some(sig), Some(ts)) => verifier.verify(sig, ts, &body).is_ok(),
        _ => false,
    };
    if !verified {
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "undecodable interaction");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let token = ids(&interaction).map(|(_, t)| t);
    let Ok(permit) = bot.inner.slots.clone().acquire_owned().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let mut worker = {
        let (bot, interaction) = (bot.clone(), interaction.clone());
        bot.inner.tasks.clone().spawn(async move {
            let plan = bot.plan(&interaction).await;
            drop(permit);
            plan
        })
    };
    let plan = tokio::select! {
        res = &mut worker => res.ok().flatten(),
        _ = tokio::time::sleep(DEFER_AFTER) => {
            // Too slow for Discord's 3 s: acknowledge now, edit the answer in when it is ready.
            let deferred = match &interaction {
                Interaction::Component(_) => CreateInteractionResponse::Acknowledge,
                _ => CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new()),
            };
            if let Some(token) = token {
                let late = bot.clone();
                let component = matches!(interaction, Interaction::Component(_));
                bot.inner.tasks.spawn(async move {
                    let Ok(Some(plan)) = worker.await else { return };
                    let mut rest = plan.rest;
                    if let Some(first) = plan.first_message {
                        if component {
                            rest.insert(0, first);
                        } else {
                            let edit = edit_message(&first, &late.rows(&first));
                            if let Err(e) = late
                                .inner
                                .http
                                .edit_original_interaction_response(&token, &edit, vec![])
                                .await
                            {
                                tracing::warn!(error = %redact(&e.to_string()), "deferred reply failed");
                                return;
                            }
                        }
                    }
                    late.follow_up(&token, rest).await;
                });
            }
            return json_response(&deferred);
        }
    };
    let Some(plan) = plan else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if let Some(token) = token
        && !plan.rest.is_empty()
    {
        let late = bot.clone();
        let rest = plan.rest;
        bot.inner.tasks.spawn(async move {
            // Follow-ups need the first answer to have reached Discord: it is this response.
            tokio::time::sleep(Duration::from_millis(50)).await;
            late.follow_up(&token, rest).await;
        });
    }
    json_response(&plan.first)
}

fn json_response(r: &CreateInteractionResponse) -> Response {
    match serde_json::to_vec(r) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn build_http(s: &DiscordSettings) -> Http {
    let mut b = HttpBuilder::new(&s.token);
    if s.api_url.trim_end_matches('/') != DEFAULT_API_URL {
        // serenity honours a proxy only with its rate limiter off; paperbell's delivery keeps
        // within Discord's limits itself.
        b = b
            .proxy(s.api_url.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    if let Some(id) = s.application_id {
        b = b.application_id(id.into());
    }
    b.build()
}

/// serenity's own errors in our terms; a 401 is a bad token.
fn request_error(e: &serenity::Error) -> DiscordError {
    if let serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) = e
        && r.status_code.as_u16() == 401
    {
        return DiscordError::Token;
    }
    DiscordError::Request(redact(&e.to_string()))
}

/// serenity's errors can quote a request URL; interaction tokens are secrets too.
fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split("/webhooks/").enumerate() {
        if i > 0 {
            out.push_str("/webhooks/");
            let end = part.find([' ', ')', '"']).unwrap_or(part.len());
            let path = &part[..end];
            let app = path.split('/').next().unwrap_or("");
            out.push_str(app);
            out.push_str("/[token]");
            out.push_str(&part[end..]);
        } else {
            out.push_str(part);
        }
    }
    out
}

fn ids(i: &Interaction) -> Option<(u64, String)> {
    Some(match i {
        Interaction::Command(c) | Interaction::Autocomplete(c) => (c.id.get(), c.token.clone()),
        Interaction::Component(c) => (c.id.get(), c.token.clone()),
        Interaction::Ping(p) => (p.id.get(), p.token.clone()),
        _ => return None,
    })
}

fn caller(
    channel: ChannelId,
    guild: Option<GuildId>,
    member: Option<&Member>,
    locale: &str,
) -> Caller {
    let perms = member.and_then(|m| m.permissions).map(|p| p.bits());
    Caller {
        chat: channel_ref(channel),
        can_manage: parse::can_manage(guild.is_some(), perms),
        locale: (!locale.is_empty()).then(|| locale.to_string()),
    }
}

fn channel_ref(id: ChannelId) -> ChatRef {
    ChatRef {
        platform: Platform::Discord,
        id: id.get().to_string(),
    }
}

fn channel_id(c: &ChatRef) -> Option<u64> {
    (c.platform == Platform::Discord)
        .then(|| c.id.parse().ok().filter(|n| *n != 0))
        .flatten()
}

fn ephemeral(text: String) -> Message {
    Message {
        ephemeral: true,
        ..render::text(&text).remove(0)
    }
}

/// Several plain texts in a row (one per `/settings` change) read better as one message.
fn merge_texts(messages: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    for m in messages {
        if let Some(last) = out.last_mut()
            && last.embeds.is_empty()
            && m.embeds.is_empty()
            && last.buttons.is_empty()
            && m.buttons.is_empty()
            && render::len(&last.content) + 1 + render::len(&m.content) <= render::MAX_CONTENT
        {
            last.content.push('\n');
            last.content.push_str(&m.content);
            last.ephemeral &= m.ephemeral;
            continue;
        }
        out.push(m);
    }
    out
}

fn embeds(m: &Message) -> Vec<CreateEmbed> {
    m.embeds
        .iter()
        .map(|e| {
            let mut b = CreateEmbed::new()
                .title(e.title.clone())
                .description(e.description.clone());
            if let Some(url) = &e.url {
                b = b.url(url.clone());
            }
            if let Some(f) = &e.footer {
                b = b.footer(CreateEmbedFooter::new(f.clone()));
            }
            b
        })
        .collect()
}

fn response_message(m: &Message, rows: &[CreateActionRow]) -> CreateInteractionResponseMessage {
    fill!(CreateInteractionResponseMessage::new(), m, rows).ephemeral(m.ephemeral)
}

fn followup(m: &Message, rows: &[CreateActionRow]) -> CreateInteractionResponseFollowup {
    fill!(CreateInteractionResponseFollowup::new(), m, rows).ephemeral(m.ephemeral)
}

fn edit_message(m: &Message, rows: &[CreateActionRow]) -> EditInteractionResponse {
    fill!(EditInteractionResponse::new(), m, rows)
}

/// The slash commands as serenity builders, described in English with Chinese localizations.
pub fn command_builders() -> Vec<CreateCommand> {
    parse::COMMANDS
        .iter()
        .map(|c| {
            let mut b = CreateCommand::new(c.name)
                .description(c.en)
                .description_localized(ZH_LOCALE, c.zh);
            if c.manage {
                b = b.default_member_permissions(Permissions::MANAGE_CHANNELS);
            }
            for o in c.options {
                let kind = match o.kind {
                    Kind::Integer { .. } => CommandOptionType::Integer,
                    _ => CommandOptionType::String,
                };
                let mut opt = CreateCommandOption::new(kind, o.name, o.en)
                    .description_localized(ZH_LOCALE, o.zh)
                    .required(o.required);
                match o.kind {
                    Kind::Text { topic } => {
                        opt = opt
                            .set_autocomplete(topic)
                            .max_length(parse::MAX_OPTION_CHARS);
                    }
                    Kind::Integer { min, max } => {
                        opt = opt.min_int_value(min.into()).max_int_value(max.into());
                    }
                    Kind::Choice(values) => {
                        for (value, en, zh) in values {
                            opt = opt.add_string_choice_localized(*en, *value, [(ZH_LOCALE, *zh)]);
                        }
                    }
                }
                b = b.add_option(opt);
            }
            b
        })
        .collect()
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_onto_the_contract() {
        assert_eq!(
            send_error(
                429,
                r#"{"message":"You are being rate limited.","retry_after":1.5,"global":false}"#,
                None,
                false
            ),
            SendError::RetryAfter(Duration::from_millis(1500))
        );
        assert_eq!(
            send_error(429, "", Some(2.0), false),
            SendError::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            send_error(429, r#"{"retry_after":0.5,"global":true}"#, None, false),
            SendError::GlobalRetryAfter(Duration::from_millis(500))
        );
        assert_eq!(
            send_error(429, "", Some(3.0), true),
            SendError::GlobalRetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            route_wait(Some(0.0), Some(4.5)).route_wait,
            Some(Duration::from_millis(4500))
        );
        assert_eq!(route_wait(Some(2.0), Some(4.5)).route_wait, None);
        assert_eq!(route_wait(None, None).route_wait, None);
        assert!(matches!(
            send_error(
                403,
                r#"{"message":"Missing Access","code":50001}"#,
                None,
                false
            ),
            SendError::Permanent(_)
        ));
        assert!(matches!(
            send_error(
                404,
                r#"{"message":"Unknown Channel","code":10003}"#,
                None,
                false
            ),
            SendError::Permanent(_)
        ));
        assert!(matches!(
            send_error(502, "", None, false),
            SendError::Transient(_)
        ));
        assert!(matches!(
            send_error(
                400,
                r#"{"message":"Invalid Form Body","code":50035}"#,
                None,
                false
            ),
            SendError::Rejected(_)
        ));
    }

    #[test]
    fn interaction_tokens_are_redacted_from_errors() {
        let e = "HTTP error: POST http://x/api/v10/webhooks/123/aW50ZXJhY3Rpb24/messages failed";
        let r = redact(e);
        assert!(!r.contains("aW50ZXJhY3Rpb24"), "{r}");
        assert!(r.contains("/webhooks/123/[token]"), "{r}");
    }

    #[test]
    fn public_keys_parse_as_64_hex_digits() {
        assert!(hex32(&"ab".repeat(32)).is_some());
        assert!(hex32("abc").is_none());
        assert!(hex32(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn every_command_builds() {
        let cmds = command_builders();
        assert_eq!(cmds.len(), parse::COMMANDS.len());
        let json = serde_json::to_value(&cmds).unwrap();
        assert_eq!(json[0]["name"], "subscribe");
        assert_eq!(json[0]["default_member_permissions"], "16");
        assert_eq!(json[0]["options"][0]["autocomplete"], true);
    }
}

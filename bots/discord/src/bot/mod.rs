//! The serenity edge: start-up (token check, slash-command registration, globally or in one
//! guild), the gateway or HTTP-interactions endpoint (Ed25519-verified), turning interactions
//! into commands for the core's `Handler`, the Manage Channels check, replying (at once,
//! or deferred when the work takes longer than Discord's 3 s), and sending digests to
//! channels with Discord's errors mapped onto the contract's `SendError`. What it decides lives
//! in `parse` and `render`; this stays thin. Its parts: `answer` (deciding an interaction's
//! whole answer), `gateway` (serenity's event handler), `interactions` (the signed HTTP
//! endpoint), `rest` (digests and the send guard), `builders` (serenity's builders).
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
use paperbell_chat::buttons::{
    Callback, CallbackTable, Keyboard, RateTap, after_rating_tap, numbered_papers,
};
use paperbell_chat::flood::{FloodLimit, Verdict};
use paperbell_chat::offload::Offload;
use paperbell_chat::{
    Answer, Caller, ChatPlatform, ChatRef, Command, DigestMessage, Handler, Lang, MAX_UPLOAD_BYTES,
    Platform, SendError, Sent, Upload, t,
};
use serenity::all::{
    ActionRowComponent, ButtonKind, ButtonStyle, ChannelId, CommandDataOptionValue,
    CommandInteraction, CommandOptionType, ComponentInteraction, Context, CreateActionRow,
    CreateAllowedMentions, CreateAttachment, CreateAutocompleteResponse, CreateButton,
    CreateCommand, CreateCommandOption, CreateEmbed, CreateEmbedFooter, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    EditInteractionResponse, EventHandler, GatewayIntents, GuildChannel, GuildId, Interaction,
    Member, Permissions, Ready,
};
use serenity::http::{Http, HttpBuilder};
use serenity::interactions_endpoint::Verifier;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::parse::{self, MAX_CUSTOM_ID, Value};
use crate::render::{self, Message};
use paperbell_chat::catalogue::{ArgKind, COMMANDS};
use rest::Guard;

/// Path of the HTTP-interactions endpoint on the service's HTTP listener.
pub const INTERACTIONS_PATH: &str = "/discord/interactions";
pub const DEFAULT_API_URL: &str = "https://discord.com";
/// Discord waits 3 s for the first answer; past this the reply is deferred and sent later.
const DEFER_AFTER: Duration = Duration::from_millis(2500);
/// Interactions handled at once; more wait for a slot.
const MAX_IN_FLIGHT: usize = 64;
/// Commands a person may send at once, then one per `FLOOD_EVERY`; `FLOOD_QUEUE` more are
/// answered at that pace (deferred past 2.5 s) before the person is told to slow down.
const FLOOD_BURST: u32 = 20;
const FLOOD_EVERY: Duration = Duration::from_secs(1);
const FLOOD_QUEUE: u32 = 20;
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

mod answer;
mod builders;
mod gateway;
mod interactions;
mod rest;

use answer::{channel_id, channel_ref, ids};
pub use builders::command_builders;
use builders::{edit_message, embeds, followup, response_message};
use gateway::Events;
use interactions::hex32;
pub use rest::{route_wait, send_error};

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

/// What answering one interaction takes: the first response, then follow-up messages.
struct Plan {
    first: CreateInteractionResponse,
    /// The first response's message again, for a deferred reply (edited in later).
    first_message: Option<Message>,
    /// A button's answer that only changes the message's buttons (a rating tap): the rows
    /// again, for a deferred answer (edited into the message later).
    new_rows: Option<Vec<CreateActionRow>>,
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
                flood: Mutex::new(FloodLimit::new(FLOOD_BURST, FLOOD_EVERY, FLOOD_QUEUE)),
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
        assert_eq!(cmds.len(), COMMANDS.len());
        let json = serde_json::to_value(&cmds).unwrap();
        assert_eq!(json[0]["name"], "subscribe");
        assert_eq!(json[0]["default_member_permissions"], "16");
        assert_eq!(json[0]["options"][0]["autocomplete"], true);
    }
}

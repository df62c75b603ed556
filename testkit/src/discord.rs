//! A strict fake of Discord for tests: REST under `/api/v10` (gateway URL, the bot's user and
//! application, slash-command registration, channel messages, interaction callbacks,
//! follow-ups and edits) and a gateway over a real WebSocket (HELLO, IDENTIFY, READY,
//! heartbeat ACK, dispatches such as INTERACTION_CREATE). It refuses what Discord refuses: a
//! wrong token, messages over any embed or content limit, bad components, invalid command
//! definitions, a second answer to one interaction. Faults (429, 403, 404, 5xx, a dropped
//! connection) are injected per channel. HTTP-interactions mode is driven by
//! `post_interaction`, which signs requests with the test application's Ed25519 key.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message as Ws;

/// The bot token the fake accepts, shaped like a real one so redaction is exercised.
pub const TOKEN: &str = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GfAkE1.paperbellFakeDiscordTokenForTests_012";
pub const APP_ID: u64 = 1098765432109876543;
pub const BOT_NAME: &str = "paperbell-test";
/// The test application's signing key seed; its public key is `public_key_hex()`.
const SIGNING_SEED: [u8; 32] = [42; 32];
/// Discord asks for about 41 s; a short interval lets tests see heartbeats and their ACKs.
pub const HEARTBEAT_MS: u64 = 1_000;

/// The public key of the test application, as the Developer Portal shows it (hex).
pub fn public_key_hex() -> String {
    let key = SigningKey::from_bytes(&SIGNING_SEED).verifying_key();
    key.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// A failure the fake answers the next message to a channel with.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 with `retry_after` seconds (float) in the body and headers.
    RateLimited { retry_after: f64, global: bool },
    /// 403, code 50001.
    MissingAccess,
    /// 403, code 50013.
    MissingPermissions,
    /// 404, code 10003.
    UnknownChannel,
    /// 500.
    ServerError,
    /// The connection closes without an answer.
    Drop,
}

/// A message the bot created in a channel, as the fake accepted it.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel_id: u64,
    pub message_id: u64,
    /// The request body: content, embeds, components, allowed_mentions.
    pub body: Value,
    pub at: Instant,
}

impl Posted {
    pub fn content(&self) -> &str {
        self.body["content"].as_str().unwrap_or("")
    }
    pub fn embeds(&self) -> Vec<Value> {
        self.body["embeds"].as_array().cloned().unwrap_or_default()
    }
    /// (label, custom_id) of every button, row by row.
    pub fn buttons(&self) -> Vec<(String, String)> {
        buttons(&self.body)
    }
}

/// (label, custom_id) of every button in a message body.
pub fn buttons(body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for row in body["components"].as_array().into_iter().flatten() {
        for b in row["components"].as_array().into_iter().flatten() {
            out.push((
                b["label"].as_str().unwrap_or_default().to_string(),
                b["custom_id"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    out
}

/// Everything the bot did with one interaction.
#[derive(Debug, Clone, Default)]
pub struct Answered {
    /// The callback: `type` (1 pong, 4 message, 5 deferred, 6 deferred update, 7 update,
    /// 8 autocomplete) and `data`.
    pub response: Option<Value>,
    /// The original message after a PATCH of `@original` (deferred replies).
    pub edited: Option<Value>,
    pub followups: Vec<Value>,
    /// When the callback reached the fake.
    pub at: Option<Instant>,
}

impl Answered {
    pub fn kind(&self) -> u64 {
        self.response
            .as_ref()
            .and_then(|r| r["type"].as_u64())
            .unwrap_or(0)
    }
    pub fn data(&self) -> Value {
        self.response
            .as_ref()
            .map_or(Value::Null, |r| r["data"].clone())
    }
    /// The first message's text: the callback's, or the edited original's.
    pub fn content(&self) -> String {
        let d = self.edited.clone().unwrap_or_else(|| self.data());
        d["content"].as_str().unwrap_or("").to_string()
    }
    pub fn ephemeral(&self) -> bool {
        self.data()["flags"].as_u64().unwrap_or(0) & 64 != 0
    }
    /// Every message of the answer in order: the first (callback or edit), then follow-ups.
    pub fn messages(&self) -> Vec<Value> {
        let first = self.edited.clone().unwrap_or_else(|| self.data());
        std::iter::once(first)
            .chain(self.followups.iter().cloned())
            .collect()
    }
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    commands: HashMap<Option<u64>, Vec<Value>>,
    posted: Vec<Posted>,
    taken: HashMap<u64, usize>,
    faults: HashMap<u64, VecDeque<Fault>>,
    /// Channels that answer every message with 403 Missing Access (the bot was removed).
    blocked: HashSet<u64>,
    interactions: HashMap<String, Answered>,
    calls: Vec<(String, String)>,
    rejected: Vec<(String, String)>,
    sessions: Vec<mpsc::UnboundedSender<String>>,
    seq: u64,
    identifies: usize,
    heartbeats: usize,
    /// Answer time added to every REST call (a slow Discord).
    delay: Option<Duration>,
    /// Files people attached to commands, by attachment id (served from the CDN path).
    attachments: HashMap<u64, Vec<u8>>,
}

impl Inner {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

struct Shared {
    inner: Mutex<Inner>,
    changed: Notify,
    gateway_url: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake. Dropping it stops both servers.
pub struct FakeDiscord {
    /// Base URL for `[discord] api_url` (serenity appends `/api/v10/...`).
    pub url: String,
    pub gateway_url: String,
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let gw = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway_url = format!("ws://{}", gw.local_addr().unwrap());
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                next_id: 1_200_000_000_000_000_000,
                ..Inner::default()
            }),
            changed: Notify::new(),
            gateway_url: gateway_url.clone(),
        });
        let app = Router::new()
            .route("/api/v10/{*path}", any(rest))
            .route(
                "/attachments/{channel}/{id}/{name}",
                axum::routing::get(cdn),
            )
            .with_state(shared.clone());
        let (addr, stop, server) = crate::http::serve(app).await;
        // The gateway stops with the REST server (when the fake is dropped).
        let (gw_stop_tx, mut gw_stop) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _ = server.await;
            let _ = gw_stop_tx.send(true);
        });
        let gshared = shared.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = gw_stop.changed() => break,
                    conn = gw.accept() => {
                        let Ok((sock, _)) = conn else { break };
                        let s = gshared.clone();
                        let stop = gw_stop.clone();
                        tokio::spawn(gateway_session(s, sock, stop));
                    }
                }
            }
        });
        FakeDiscord {
            url: format!("http://{addr}"),
            gateway_url,
            shared,
            _stop: stop,
        }
    }

    // ---- interactions in ----

    /// A file a person attaches to a command: kept for download and returned as Discord's
    /// attachment object (for `command_with_file`).
    pub fn attachment(&self, filename: &str, bytes: &[u8]) -> Value {
        let mut g = self.shared.lock();
        let id = g.id();
        g.attachments.insert(id, bytes.to_vec());
        let url = format!("{}/attachments/1/{id}/{filename}", self.url);
        json!({
            "id": id.to_string(), "filename": filename, "size": bytes.len(),
            "url": url, "proxy_url": url, "content_type": "text/x-bibtex; charset=utf-8",
        })
    }

    /// Registers an interaction (assigns its id and token) without delivering it; returns the
    /// complete interaction JSON. `post_interaction` delivers it in HTTP mode.
    pub fn new_interaction(&self, mut interaction: Value) -> Value {
        let mut g = self.shared.lock();
        let id = g.id();
        let token = format!("aW50ZXJhY3Rpb246{id}:fakeInteractionToken");
        interaction["id"] = json!(id.to_string());
        interaction["token"] = json!(token.clone());
        interaction["application_id"] = json!(APP_ID.to_string());
        g.interactions.insert(token, Answered::default());
        interaction
    }

    /// Delivers an interaction over the gateway (waiting up to 20 s for the bot to have
    /// identified) and returns its token.
    pub async fn interact(&self, interaction: Value) -> String {
        let interaction = self.new_interaction(interaction);
        let token = interaction["token"].as_str().unwrap().to_string();
        self.dispatch("INTERACTION_CREATE", interaction).await;
        token
    }

    /// Sends a dispatch event to every identified gateway session (waiting up to 20 s for one).
    pub async fn dispatch(&self, event: &str, data: Value) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.shared.changed.notified();
            {
                let mut g = self.shared.lock();
                g.sessions.retain(|s| !s.is_closed());
                if !g.sessions.is_empty() {
                    g.seq += 1;
                    let frame = json!({"op": 0, "t": event, "s": g.seq, "d": data}).to_string();
                    for s in &g.sessions {
                        let _ = s.send(frame.clone());
                    }
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "waited 20 s for the bot to connect to the gateway"
            );
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
    }

    /// Waits for the bot's answer to an interaction: the callback and then `followups`
    /// follow-up messages (panics after 20 s).
    pub async fn answer(&self, token: &str, followups: usize) -> Answered {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.shared.changed.notified();
            {
                let g = self.shared.lock();
                let a = g.interactions.get(token).cloned().unwrap_or_default();
                let deferred = matches!(a.kind(), 5);
                if a.response.is_some()
                    && a.followups.len() >= followups
                    && (!deferred || a.edited.is_some())
                {
                    return a;
                }
                if Instant::now() > deadline {
                    panic!(
                        "waited 20 s for the answer to {token} with {followups} follow-up(s); got {a:#?}\nrejected: {:#?}",
                        g.rejected
                    );
                }
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
    }

    /// What the bot did with an interaction so far, without waiting.
    pub fn answered(&self, token: &str) -> Answered {
        self.shared
            .lock()
            .interactions
            .get(token)
            .cloned()
            .unwrap_or_default()
    }

    // ---- faults and state ----

    pub fn fail_next(&self, channel: u64, fault: Fault) {
        self.shared
            .lock()
            .faults
            .entry(channel)
            .or_default()
            .push_back(fault);
    }

    /// From now on the channel answers 403 Missing Access (the bot lost access to it).
    pub fn block(&self, channel: u64) {
        self.shared.lock().blocked.insert(channel);
    }

    /// Every REST answer takes this long from now on.
    pub fn set_delay(&self, d: Option<Duration>) {
        self.shared.lock().delay = d;
    }

    // ---- observations ----

    /// Commands registered globally (`None`) or in a guild.
    pub fn commands(&self, guild: Option<u64>) -> Vec<Value> {
        self.shared
            .lock()
            .commands
            .get(&guild)
            .cloned()
            .unwrap_or_default()
    }

    pub fn posted(&self) -> Vec<Posted> {
        self.shared.lock().posted.clone()
    }

    pub fn posted_to(&self, channel: u64) -> Vec<Posted> {
        self.posted()
            .into_iter()
            .filter(|p| p.channel_id == channel)
            .collect()
    }

    /// Waits for the next `n` messages to `channel` not taken before (panics after 20 s).
    pub async fn take(&self, channel: u64, n: usize) -> Vec<Posted> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.shared.changed.notified();
            {
                let mut g = self.shared.lock();
                let skip = g.taken.get(&channel).copied().unwrap_or(0);
                let mine: Vec<Posted> = g
                    .posted
                    .iter()
                    .filter(|p| p.channel_id == channel)
                    .skip(skip)
                    .take(n)
                    .cloned()
                    .collect();
                if mine.len() == n {
                    *g.taken.entry(channel).or_default() += n;
                    return mine;
                }
                if Instant::now() > deadline {
                    panic!(
                        "waited 20 s for {n} message(s) to channel {channel}, got {}\nrejected: {:#?}",
                        mine.len(),
                        g.rejected
                    );
                }
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
    }

    /// Every REST call so far as (method, path), tokens of interactions replaced by `[t]`.
    pub fn calls(&self) -> Vec<(String, String)> {
        self.shared.lock().calls.clone()
    }

    /// Requests refused as Discord would (route, reason). A correct bot causes none except
    /// the faults a test injected.
    pub fn rejected(&self) -> Vec<(String, String)> {
        self.shared.lock().rejected.clone()
    }

    /// IDENTIFYs accepted and heartbeats answered so far.
    pub fn gateway_stats(&self) -> (usize, usize) {
        let g = self.shared.lock();
        (g.identifies, g.heartbeats)
    }
}

// ---- interaction builders ----

/// Where and by whom an interaction is made.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub channel: u64,
    /// `None` in a DM with the bot.
    pub guild: Option<u64>,
    pub user: u64,
    /// The member's computed permissions in the channel.
    pub permissions: u64,
    pub locale: String,
}

/// Send Messages, View Channel, Read Message History: an ordinary member.
pub const MEMBER: u64 = (1 << 11) | (1 << 10) | (1 << 16);
/// An ordinary member who may also manage channels.
pub const MANAGER: u64 = MEMBER | (1 << 4);

impl Ctx {
    pub fn guild(guild: u64, channel: u64, user: u64, permissions: u64) -> Ctx {
        Ctx {
            channel,
            guild: Some(guild),
            user,
            permissions,
            locale: "en-US".into(),
        }
    }

    pub fn dm(channel: u64, user: u64) -> Ctx {
        Ctx {
            channel,
            guild: None,
            user,
            permissions: 0,
            locale: "en-US".into(),
        }
    }

    pub fn locale(mut self, l: &str) -> Ctx {
        self.locale = l.into();
        self
    }

    fn base(&self, kind: u64, data: Value) -> Value {
        let user = user(self.user);
        let mut v = json!({
            "type": kind,
            "data": data,
            "channel_id": self.channel.to_string(),
            "channel": {"id": self.channel.to_string(), "type": if self.guild.is_some() { 0 } else { 1 }},
            "version": 1,
            "app_permissions": "562949953421311",
            "locale": self.locale,
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
        });
        match self.guild {
            Some(g) => {
                v["guild_id"] = json!(g.to_string());
                v["guild_locale"] = json!("en-US");
                v["context"] = json!(0);
                v["authorizing_integration_owners"] = json!({"0": g.to_string()});
                v["member"] = json!({
                    "user": user,
                    "roles": [],
                    "joined_at": "2025-01-01T00:00:00.000000+00:00",
                    "deaf": false,
                    "mute": false,
                    "flags": 0,
                    "pending": false,
                    "permissions": self.permissions.to_string(),
                    "nick": null,
                    "avatar": null,
                    "premium_since": null,
                    "communication_disabled_until": null,
                });
            }
            None => {
                v["user"] = user;
                v["context"] = json!(1);
                v["authorizing_integration_owners"] = json!({"0": "0"});
            }
        }
        v
    }
}

/// A user object as Discord sends it.
pub fn user(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "username": format!("user{id}"),
        "discriminator": "0",
        "global_name": format!("User {id}"),
        "avatar": null,
        "public_flags": 0,
    })
}

/// A slash command: `options` as [(name, value)] with string or integer values.
pub fn command(name: &str, options: &[(&str, Value)], ctx: &Ctx) -> Value {
    let opts: Vec<Value> = options
        .iter()
        .map(|(n, v)| json!({"name": n, "type": if v.is_i64() { 4 } else { 3 }, "value": v}))
        .collect();
    ctx.base(
        2,
        json!({"id": "1300000000000000001", "name": name, "type": 1, "options": opts}),
    )
}

/// A slash command with a file attached to its `option` (an attachment option, type 11), as
/// Discord sends it: the option names the attachment, `resolved` carries it.
pub fn command_with_file(
    name: &str,
    options: &[(&str, Value)],
    option: &str,
    attachment: &Value,
    ctx: &Ctx,
) -> Value {
    let mut v = command(name, options, ctx);
    let id = attachment["id"].clone();
    v["data"]["options"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": option, "type": 11, "value": id}));
    v["data"]["resolved"] = json!({"attachments": {id.as_str().unwrap(): attachment}});
    v
}

/// An autocomplete request while typing `typed` into option `option` of `name`.
pub fn autocomplete(name: &str, option: &str, typed: &str, ctx: &Ctx) -> Value {
    ctx.base(
        4,
        json!({"id": "1300000000000000001", "name": name, "type": 1,
               "options": [{"name": option, "type": 3, "value": typed, "focused": true}]}),
    )
}

/// A button press on `message` (a message body as the fake recorded it, or any message).
pub fn component(custom_id: &str, message: &Value, ctx: &Ctx) -> Value {
    let mut msg = message_object(7, ctx.channel, message);
    msg["id"] = json!("1250000000000000001");
    let mut v = ctx.base(3, json!({"custom_id": custom_id, "component_type": 2}));
    v["message"] = msg;
    v
}

fn message_object(id: u64, channel: u64, body: &Value) -> Value {
    json!({
        "id": id.to_string(),
        "channel_id": channel.to_string(),
        "author": {"id": APP_ID.to_string(), "username": BOT_NAME, "discriminator": "0",
                   "global_name": null, "avatar": null, "bot": true, "public_flags": 0},
        "content": body.get("content").cloned().unwrap_or(json!("")),
        "timestamp": "2026-11-23T12:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds").cloned().unwrap_or(json!([])),
        "components": components_echo(body),
        "pinned": false,
        "type": 0,
        "flags": body.get("flags").cloned().unwrap_or(json!(0)),
    })
}

/// Components as Discord returns them (with the defaults it fills in).
fn components_echo(body: &Value) -> Value {
    let mut rows = body.get("components").cloned().unwrap_or(json!([]));
    for row in rows.as_array_mut().into_iter().flatten() {
        for b in row["components"].as_array_mut().into_iter().flatten() {
            if b.get("disabled").is_none() {
                b["disabled"] = json!(false);
            }
        }
    }
    rows
}

// ---- REST ----

fn error(status: u16, code: u64, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        json!({"message": message, "code": code}).to_string(),
    )
        .into_response()
}

fn ok(v: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

async fn rest(
    State(s): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = s.lock().delay;
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let shown = redact_token(&path);
    let resp = handle(&s, &method, &path, &headers, &body);
    {
        let mut g = s.lock();
        g.calls.push((method.to_string(), shown.clone()));
        if let Reply::Refused(why) = &resp {
            g.rejected.push((format!("{method} {shown}"), why.clone()));
        }
    }
    s.changed.notify_waiters();
    match resp {
        Reply::Ok(r) => r,
        Reply::Refused(why) => error(400, 50035, &format!("Invalid Form Body: {why}")),
        // Unwinding the connection's task closes it without an answer (and without the noise
        // of the panic hook).
        Reply::Drop => std::panic::resume_unwind(Box::new("dropped connection")),
    }
}

enum Reply {
    Ok(Response),
    Refused(String),
    Drop,
}

fn redact_token(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["interactions", id, _, rest @ ..] => {
            format!("interactions/{id}/[t]/{}", rest.join("/"))
        }
        ["webhooks", app, _, rest @ ..] => format!("webhooks/{app}/[t]/{}", rest.join("/")),
        _ => path.to_string(),
    }
}

fn handle(s: &Shared, method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> Reply {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts: Vec<&str> = path.split('/').collect();
    // Interaction callbacks and webhooks are authorised by their token, not the bot token.
    let token_route = matches!(parts.first(), Some(&"interactions") | Some(&"webhooks"));
    if !token_route && auth != format!("Bot {TOKEN}") {
        return Reply::Ok(error(401, 0, "401: Unauthorized"));
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json: Value = if body.is_empty() {
        Value::Null
    } else if let Some(boundary) = crate::multipart::boundary(content_type) {
        match with_files(body, boundary) {
            Ok(v) => v,
            Err(e) => return Reply::Refused(e),
        }
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return Reply::Refused(format!("body is not JSON: {e}")),
        }
    };
    let m = method.as_str();
    match (m, parts.as_slice()) {
        ("GET", ["gateway"]) => Reply::Ok(ok(json!({"url": s.gateway_url}))),
        ("GET", ["gateway", "bot"]) => Reply::Ok(ok(json!({
            "url": s.gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        }))),
        ("GET", ["users", "@me"]) => Reply::Ok(ok(json!({
            "id": APP_ID.to_string(), "username": BOT_NAME, "discriminator": "0",
            "global_name": null, "avatar": null, "bot": true, "verified": true,
            "mfa_enabled": false, "flags": 0, "public_flags": 0, "locale": "en-US", "email": null
        }))),
        ("GET", ["oauth2", "applications", "@me"]) => Reply::Ok(ok(json!({
            "id": APP_ID.to_string(), "name": BOT_NAME, "icon": null, "description": "",
            "bot_public": true, "bot_require_code_grant": false,
            "owner": user(1), "verify_key": public_key_hex(), "team": null, "flags": 0,
            "approximate_guild_count": 1, "approximate_user_install_count": 0,
            "guild": null, "redirect_uris": [], "interactions_endpoint_url": null
        }))),
        ("PUT", ["applications", app, "commands"]) => register(s, app, None, &json),
        ("PUT", ["applications", app, "guilds", guild, "commands"]) => {
            register(s, app, guild.parse().ok(), &json)
        }
        ("POST", ["channels", channel, "messages"]) => {
            let Ok(channel) = channel.parse::<u64>() else {
                return Reply::Ok(error(404, 10003, "Unknown Channel"));
            };
            post_message(s, channel, json)
        }
        ("POST", ["interactions", _, token, "callback"]) => callback(s, token, json),
        ("POST", ["webhooks", app, token]) => webhook(s, app, token, json, false),
        ("PATCH", ["webhooks", app, token, "messages", "@original"]) => {
            webhook(s, app, token, json, true)
        }
        _ => Reply::Ok(error(404, 0, "404: Not Found")),
    }
}

/// A message with files, as Discord takes it: the JSON in `payload_json`, each file in a
/// `files[n]` part (an entry of its `attachments` may name it by `id`). The files are kept in the
/// body under `uploaded` (file name, contents as text, size) for tests to read.
fn with_files(body: &[u8], boundary: &str) -> Result<Value, String> {
    let parts = crate::multipart::parts(body, boundary).ok_or("multipart body does not parse")?;
    let payload = parts
        .iter()
        .find(|p| p.name == "payload_json")
        .ok_or("no payload_json")?;
    let mut json: Value =
        serde_json::from_slice(&payload.bytes).map_err(|e| format!("payload_json: {e}"))?;
    for a in json["attachments"].as_array().cloned().unwrap_or_default() {
        let id = match &a["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // An attachment that names an upload must have it (one that names an existing
        // attachment by a snowflake id is kept as it is).
        if id.len() < 5 && !parts.iter().any(|p| p.name == format!("files[{id}]")) {
            return Err(format!("attachments: no file for attachment {id}"));
        }
    }
    // Every `files[n]` part is attached, named in `attachments` or not (as Discord does).
    let uploaded: Vec<Value> = parts
        .iter()
        .filter(|p| p.name.starts_with("files["))
        .map(|file| {
            json!({
                "filename": file.filename,
                "content": String::from_utf8_lossy(&file.bytes),
                "size": file.bytes.len(),
            })
        })
        .collect();
    json["uploaded"] = Value::Array(uploaded);
    Ok(json)
}

/// `GET /attachments/<channel>/<id>/<name>`: a file a person attached.
async fn cdn(
    State(s): State<Arc<Shared>>,
    Path((_, id, _)): Path<(String, u64, String)>,
) -> Response {
    match s.lock().attachments.get(&id) {
        Some(b) => b.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A follow-up message (`edit` false) or an edit of the original answer, by interaction token.
fn webhook(s: &Shared, app: &str, token: &str, json: Value, edit: bool) -> Reply {
    if app != APP_ID.to_string() {
        return Reply::Ok(error(404, 10015, "Unknown Webhook"));
    }
    if let Err(e) = check_message(&json) {
        return Reply::Refused(e);
    }
    let mut g = s.lock();
    let id = g.id();
    let Some(a) = g.interactions.get_mut(token) else {
        return Reply::Ok(error(404, 10015, "Unknown Webhook"));
    };
    if a.response.is_none() {
        return Reply::Ok(error(404, 10062, "Unknown interaction"));
    }
    if edit {
        a.edited = Some(json.clone());
    } else {
        a.followups.push(json.clone());
    }
    Reply::Ok(ok(message_object(id, 0, &json)))
}

fn post_message(s: &Shared, channel: u64, json: Value) -> Reply {
    let mut g = s.lock();
    if g.blocked.contains(&channel) {
        return Reply::Ok(error(403, 50001, "Missing Access"));
    }
    if let Some(f) = g.faults.get_mut(&channel).and_then(VecDeque::pop_front) {
        return match f {
            Fault::RateLimited {
                retry_after,
                global,
            } => {
                let mut r = (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("content-type", "application/json")],
                    json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": global, "code": 0})
                        .to_string(),
                )
                    .into_response();
                let h = r.headers_mut();
                h.insert(
                    "retry-after",
                    retry_after.ceil().to_string().parse().unwrap(),
                );
                h.insert("x-ratelimit-remaining", "0".parse().unwrap());
                h.insert(
                    "x-ratelimit-reset-after",
                    retry_after.to_string().parse().unwrap(),
                );
                h.insert(
                    "x-ratelimit-scope",
                    if global { "global" } else { "user" }.parse().unwrap(),
                );
                if global {
                    h.insert("x-ratelimit-global", "true".parse().unwrap());
                }
                Reply::Ok(r)
            }
            Fault::MissingAccess => Reply::Ok(error(403, 50001, "Missing Access")),
            Fault::MissingPermissions => Reply::Ok(error(403, 50013, "Missing Permissions")),
            Fault::UnknownChannel => Reply::Ok(error(404, 10003, "Unknown Channel")),
            Fault::ServerError => Reply::Ok(error(500, 0, "500: Internal Server Error")),
            Fault::Drop => Reply::Drop,
        };
    }
    if let Err(e) = check_message(&json) {
        return Reply::Refused(e);
    }
    let id = g.id();
    g.posted.push(Posted {
        channel_id: channel,
        message_id: id,
        body: json.clone(),
        at: Instant::now(),
    });
    let mut r = ok(message_object(id, channel, &json));
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", "5".parse().unwrap());
    h.insert("x-ratelimit-remaining", "4".parse().unwrap());
    h.insert("x-ratelimit-reset-after", "5.000".parse().unwrap());
    h.insert(
        "x-ratelimit-bucket",
        "80c17d2f203122d936070c88c8d10f33".parse().unwrap(),
    );
    Reply::Ok(r)
}

fn callback(s: &Shared, token: &str, json: Value) -> Reply {
    let kind = json["type"].as_u64().unwrap_or(0);
    if !matches!(kind, 1 | 4 | 5 | 6 | 7 | 8) {
        return Reply::Refused(format!("unknown interaction response type {kind}"));
    }
    if matches!(kind, 4 | 7)
        && let Err(e) = check_message(&json["data"])
    {
        return Reply::Refused(e);
    }
    if kind == 8 {
        let choices = json["data"]["choices"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if choices.len() > 25 {
            return Reply::Refused(format!("{} autocomplete choices > 25", choices.len()));
        }
        for c in &choices {
            let name = c["name"].as_str().unwrap_or("");
            let value = c["value"].as_str().unwrap_or("");
            if !(1..=100).contains(&name.chars().count())
                || !(1..=100).contains(&value.chars().count())
            {
                return Reply::Refused(format!("bad choice {c}"));
            }
        }
    }
    let mut g = s.lock();
    let Some(a) = g.interactions.get_mut(token) else {
        return Reply::Ok(error(404, 10062, "Unknown interaction"));
    };
    if a.response.is_some() {
        return Reply::Ok(error(
            400,
            40060,
            "Interaction has already been acknowledged.",
        ));
    }
    a.response = Some(json);
    a.at = Some(Instant::now());
    Reply::Ok(StatusCode::NO_CONTENT.into_response())
}

/// Discord's locales; a localization under any other key is refused.
const LOCALES: &[&str] = &[
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th",
    "zh-CN", "ja", "zh-TW", "ko",
];

fn register(s: &Shared, app: &str, guild: Option<u64>, json: &Value) -> Reply {
    if app != APP_ID.to_string() {
        return Reply::Ok(error(403, 50001, "Missing Access"));
    }
    let Some(cmds) = json.as_array() else {
        return Reply::Refused("commands must be an array".into());
    };
    if cmds.len() > 100 {
        return Reply::Refused("more than 100 commands".into());
    }
    let mut names = HashSet::new();
    for c in cmds {
        if let Err(e) = check_command(c) {
            return Reply::Refused(e);
        }
        if !names.insert(c["name"].as_str().unwrap_or("").to_string()) {
            return Reply::Refused(format!("duplicate command {}", c["name"]));
        }
    }
    let mut g = s.lock();
    let mut out = Vec::new();
    for c in cmds {
        let mut c = c.clone();
        c["id"] = json!(g.id().to_string());
        c["application_id"] = json!(APP_ID.to_string());
        c["type"] = c.get("type").cloned().unwrap_or(json!(1));
        c["version"] = json!("1");
        c["default_member_permissions"] = c
            .get("default_member_permissions")
            .cloned()
            .unwrap_or(Value::Null);
        c["nsfw"] = json!(false);
        if let Some(g) = guild {
            c["guild_id"] = json!(g.to_string());
        }
        out.push(c);
    }
    g.commands.insert(guild, out.clone());
    Reply::Ok(ok(Value::Array(out)))
}

fn check_name(n: &str) -> Result<(), String> {
    if (1..=32).contains(&n.chars().count())
        && n.chars()
            .all(|c| c == '-' || c == '_' || c.is_alphanumeric() && !c.is_uppercase())
    {
        Ok(())
    } else {
        Err(format!("invalid name `{n}`"))
    }
}

fn check_description(d: &Value, what: &str) -> Result<(), String> {
    let s = d.as_str().unwrap_or("");
    if !(1..=100).contains(&s.chars().count()) {
        return Err(format!(
            "{what}: description must be 1-100 characters: `{s}`"
        ));
    }
    Ok(())
}

fn check_localizations(v: &Value, what: &str) -> Result<(), String> {
    for (k, text) in v.as_object().into_iter().flatten() {
        if !LOCALES.contains(&k.as_str()) {
            return Err(format!("{what}: `{k}` is not a Discord locale"));
        }
        check_description(text, what)?;
    }
    Ok(())
}

fn check_command(c: &Value) -> Result<(), String> {
    let name = c["name"].as_str().unwrap_or("");
    check_name(name)?;
    check_description(&c["description"], name)?;
    check_localizations(&c["description_localizations"], name)?;
    if let Some(p) = c.get("default_member_permissions").filter(|p| !p.is_null()) {
        p.as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| {
                format!("{name}: default_member_permissions must be a string of digits")
            })?;
    }
    let opts = c["options"].as_array().cloned().unwrap_or_default();
    if opts.len() > 25 {
        return Err(format!("{name}: more than 25 options"));
    }
    let mut optional_seen = false;
    let mut seen = HashSet::new();
    for o in &opts {
        let on = o["name"].as_str().unwrap_or("");
        check_name(on)?;
        if !seen.insert(on) {
            return Err(format!("{name}: duplicate option {on}"));
        }
        check_description(&o["description"], on)?;
        check_localizations(&o["description_localizations"], on)?;
        let required = o["required"].as_bool().unwrap_or(false);
        if required && optional_seen {
            return Err(format!(
                "{name}: required option {on} after an optional one"
            ));
        }
        optional_seen |= !required;
        let kind = o["type"].as_u64().unwrap_or(0);
        if !(1..=11).contains(&kind) {
            return Err(format!("{name}.{on}: bad option type {kind}"));
        }
        let choices = o["choices"].as_array().map_or(0, Vec::len);
        if choices > 25 {
            return Err(format!("{name}.{on}: more than 25 choices"));
        }
        if choices > 0 && o["autocomplete"].as_bool() == Some(true) {
            return Err(format!("{name}.{on}: autocomplete with choices"));
        }
        if let Some(ml) = o.get("max_length").and_then(Value::as_u64)
            && !(1..=6000).contains(&ml)
        {
            return Err(format!("{name}.{on}: max_length {ml}"));
        }
    }
    Ok(())
}

/// Every limit Discord enforces on a message body (content, embeds, components).
pub fn check_message(m: &Value) -> Result<(), String> {
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let content = chars(&m["content"]);
    if content > 2000 {
        return Err(format!("content is {content} characters (max 2000)"));
    }
    let embeds = m["embeds"].as_array().cloned().unwrap_or_default();
    let rows = m["components"].as_array().cloned().unwrap_or_default();
    let files = m["uploaded"].as_array().map_or(0, Vec::len);
    if content == 0 && embeds.is_empty() && rows.is_empty() && files == 0 {
        return Err("Cannot send an empty message".into());
    }
    if embeds.len() > 10 {
        return Err(format!("{} embeds (max 10)", embeds.len()));
    }
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        let title = chars(&e["title"]);
        let desc = chars(&e["description"]);
        let footer = chars(&e["footer"]["text"]);
        let author = chars(&e["author"]["name"]);
        if title > 256 {
            return Err(format!("embeds.{i}.title is {title} characters (max 256)"));
        }
        if desc > 4096 {
            return Err(format!(
                "embeds.{i}.description is {desc} characters (max 4096)"
            ));
        }
        if footer > 2048 {
            return Err(format!(
                "embeds.{i}.footer.text is {footer} characters (max 2048)"
            ));
        }
        if author > 256 {
            return Err(format!("embeds.{i}.author.name too long"));
        }
        // Discord takes images by http(s) or attachment:// address only.
        for media in ["image", "thumbnail"] {
            if let Some(m) = e.get(media) {
                let url = m["url"].as_str().unwrap_or_default();
                if !(url.starts_with("https://")
                    || url.starts_with("http://")
                    || url.starts_with("attachment://"))
                {
                    return Err(format!(
                        "embeds.{i}.{media}.url: Scheme \"{url}\" is not supported"
                    ));
                }
            }
        }
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        if fields.len() > 25 {
            return Err(format!("embeds.{i}: {} fields (max 25)", fields.len()));
        }
        let mut field_chars = 0;
        for f in &fields {
            let (n, v) = (chars(&f["name"]), chars(&f["value"]));
            if n > 256 || v > 1024 || n == 0 || v == 0 {
                return Err(format!("embeds.{i}: a field breaks the 256/1024 limits"));
            }
            field_chars += n + v;
        }
        if let Some(u) = e.get("url").and_then(Value::as_str)
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(format!("embeds.{i}.url `{u}` is not a URL"));
        }
        total += title + desc + footer + author + field_chars;
    }
    if total > 6000 {
        return Err(format!("embeds total {total} characters (max 6000)"));
    }
    if rows.len() > 5 {
        return Err(format!("{} action rows (max 5)", rows.len()));
    }
    let mut ids = HashSet::new();
    for row in &rows {
        if row["type"].as_u64() != Some(1) {
            return Err("a top-level component is not an action row".into());
        }
        let bs = row["components"].as_array().cloned().unwrap_or_default();
        if bs.is_empty() || bs.len() > 5 {
            return Err(format!("an action row holds {} buttons (1-5)", bs.len()));
        }
        for b in &bs {
            if b["type"].as_u64() != Some(2) {
                return Err("only buttons are expected".into());
            }
            let label = chars(&b["label"]);
            if label > 80 {
                return Err(format!("button label is {label} characters (max 80)"));
            }
            let style = b["style"].as_u64().unwrap_or(0);
            match style {
                1..=4 => {
                    let id = b["custom_id"].as_str().unwrap_or("");
                    if !(1..=100).contains(&id.chars().count()) {
                        return Err(format!("custom_id `{id}` must be 1-100 characters"));
                    }
                    if !ids.insert(id.to_string()) {
                        return Err(format!("duplicate custom_id `{id}`"));
                    }
                }
                5 => {
                    if b["url"].as_str().is_none() {
                        return Err("a link button needs a url".into());
                    }
                }
                _ => return Err(format!("button style {style}")),
            }
        }
    }
    Ok(())
}

// ---- gateway ----

async fn gateway_session(
    s: Arc<Shared>,
    sock: tokio::net::TcpStream,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Ok(ws) = tokio_tungstenite::accept_async(sock).await else {
        return;
    };
    let (mut tx, mut rx) = ws.split();
    let hello = json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}, "s": null, "t": null});
    if tx.send(Ws::Text(hello.to_string())).await.is_err() {
        return;
    }
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = tx.close().await;
                return;
            }
            frame = out_rx.recv() => {
                let Some(frame) = frame else { return };
                if tx.send(Ws::Text(frame)).await.is_err() {
                    return;
                }
            }
            msg = rx.next() => {
                let Some(Ok(msg)) = msg else { return };
                let text = match msg {
                    Ws::Text(t) => t,
                    Ws::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                    Ws::Close(_) => {
                        // Answer the close, as Discord does, so the client shuts down cleanly.
                        let _ = tx.close().await;
                        return;
                    }
                    _ => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else {
                    let _ = tx.send(Ws::Close(Some(close(4002, "Error while decoding payload.")))).await;
                    return;
                };
                match v["op"].as_u64() {
                    Some(1) => {
                        s.lock().heartbeats += 1;
                        if tx.send(Ws::Text(json!({"op": 11, "d": null, "s": null, "t": null}).to_string())).await.is_err() {
                            return;
                        }
                    }
                    Some(2) => {
                        let token = v["d"]["token"].as_str().unwrap_or("");
                        if token.trim_start_matches("Bot ") != TOKEN {
                            let _ = tx.send(Ws::Close(Some(close(4004, "Authentication failed.")))).await;
                            return;
                        }
                        let ready = {
                            let mut g = s.lock();
                            g.identifies += 1;
                            g.seq += 1;
                            json!({"op": 0, "t": "READY", "s": g.seq, "d": {
                                "v": 10,
                                "user": {"id": APP_ID.to_string(), "username": BOT_NAME, "discriminator": "0",
                                         "global_name": null, "avatar": null, "bot": true, "verified": true,
                                         "mfa_enabled": false, "flags": 0},
                                "guilds": [],
                                "session_id": format!("fake-session-{}", g.identifies),
                                "resume_gateway_url": s.gateway_url,
                                "shard": [0, 1],
                                "application": {"id": APP_ID.to_string(), "flags": 0},
                            }})
                        };
                        if tx.send(Ws::Text(ready.to_string())).await.is_err() {
                            return;
                        }
                        s.lock().sessions.push(out_tx.clone());
                        s.changed.notify_waiters();
                    }
                    Some(6) => {
                        // Resuming is not supported: ask for a fresh IDENTIFY.
                        let _ = tx.send(Ws::Text(json!({"op": 9, "d": false, "s": null, "t": null}).to_string())).await;
                    }
                    _ => {}
                }
            }
        }
    }
}

fn close(code: u16, reason: &str) -> tokio_tungstenite::tungstenite::protocol::CloseFrame<'static> {
    tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason: reason.to_string().into(),
    }
}

// ---- HTTP interactions ----

impl FakeDiscord {
    /// Delivers an interaction to the bot's HTTP endpoint the way Discord does (signed; or
    /// with a wrong key when `forge`) and, like Discord, takes a 200 answer as the interaction's
    /// callback. Returns the status and the JSON answer.
    pub async fn post_interaction(
        &self,
        url: &str,
        interaction: &Value,
        forge: bool,
    ) -> (u16, Value) {
        let (status, body) = post_interaction(url, interaction, forge).await;
        if status == 200
            && let Some(token) = interaction["token"].as_str()
        {
            let mut g = self.shared.lock();
            if let Some(a) = g.interactions.get_mut(token)
                && a.response.is_none()
            {
                a.response = Some(body.clone());
                a.at = Some(Instant::now());
            }
            drop(g);
            self.shared.changed.notify_waiters();
        }
        (status, body)
    }
}

/// POSTs an interaction to the bot's HTTP endpoint the way Discord does, signed with the test
/// application's key (or a wrong one when `forge`). Returns the status and the JSON answer.
/// `FakeDiscord::post_interaction` also records the answer.
pub async fn post_interaction(url: &str, interaction: &Value, forge: bool) -> (u16, Value) {
    let body = interaction.to_string();
    let ts = "1763900000";
    let key = if forge {
        SigningKey::from_bytes(&[7; 32])
    } else {
        SigningKey::from_bytes(&SIGNING_SEED)
    };
    let mut msg = ts.as_bytes().to_vec();
    msg.extend_from_slice(body.as_bytes());
    let sig: String = key
        .sign(&msg)
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (status, text) = crate::http::post(
        url,
        &[
            ("Content-Type", "application/json"),
            ("X-Signature-Ed25519", &sig),
            ("X-Signature-Timestamp", ts),
        ],
        body.as_bytes(),
    )
    .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_limits_are_enforced() {
        assert!(check_message(&json!({"content": "hi"})).is_ok());
        assert!(check_message(&json!({})).is_err());
        assert!(check_message(&json!({"content": "x".repeat(2001)})).is_err());
        let embed = json!({"title": "t", "description": "d".repeat(4000)});
        assert!(
            check_message(&json!({"embeds": [embed, embed]})).is_err(),
            "8000 > 6000"
        );
        assert!(check_message(&json!({"embeds": [{"title": "x".repeat(257)}]})).is_err());
        let button = |id: &str| json!({"type": 2, "style": 2, "label": "l", "custom_id": id});
        assert!(check_message(&json!({"content": "x", "components": [{"type": 1, "components": [button("a"), button("a")]}]})).is_err());
        assert!(check_message(&json!({"content": "x", "components": [{"type": 1, "components": [button(&"a".repeat(101))]}]})).is_err());
    }

    #[test]
    fn commands_are_validated() {
        let ok = json!({"name": "subscribe", "description": "d", "options": [
            {"name": "topic", "description": "t", "type": 3, "required": true, "autocomplete": true}]});
        assert!(check_command(&ok).is_ok());
        let mut bad = ok.clone();
        bad["description_localizations"] = json!({"zh": "订阅"});
        assert!(
            check_command(&bad).is_err(),
            "zh is not a Discord locale; zh-CN is"
        );
        let mut bad = ok.clone();
        bad["name"] = json!("Subscribe");
        assert!(check_command(&bad).is_err());
    }
}

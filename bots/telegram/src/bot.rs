//! The teloxide edge: start-up (getMe, setMyCommands in English and Chinese), long polling or
//! a webhook, turning updates into commands for the core's `Handler`, the group admin check
//! (getChatMember), sending replies and digests, and mapping Telegram's errors onto the
//! contract's `SendError`. Everything it decides is in `parse` and `render`; this stays thin.
//!
//! Each update runs on its own task (at most 64 at once) and the command on a blocking thread,
//! since the store is synchronous; only commands that change the chat ask getChatMember. On
//! shutdown polling stops, in-flight commands finish (10 s at most) and the last offset is
//! confirmed, so a restart does not replay updates. Replies are not durable: a reply lost to a
//! crash is a command the person repeats.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use paperbell_chat::buttons::{Keyboard, RateTap, after_rating_tap, numbered_papers};
use paperbell_chat::catalogue::COMMANDS;
use paperbell_chat::offload::Offload;
use paperbell_chat::{
    Answer, Caller, ChatPlatform, ChatRef, Command, DigestMessage, Handler, Lang, Platform,
    SendError, Sent, t,
};
use paperbell_chat::{MAX_UPLOAD_BYTES, Rate, Rated, Upload};
use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::net::Download;
use teloxide::payloads::{
    AnswerCallbackQuerySetters, EditMessageReplyMarkupSetters, EditMessageTextSetters,
    GetUpdatesSetters, SendDocumentSetters, SendMessageSetters, SetMyCommandsSetters,
    SetWebhookSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    AllowedUpdate, BotCommand, CallbackQuery, ChatId, ChatMemberUpdated, Document,
    InlineKeyboardButton, InlineKeyboardButtonKind, InlineKeyboardMarkup, InputFile,
    LinkPreviewOptions, Message, MessageId, ParseMode, Update, UpdateKind, UserId,
};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::parse::{Callback, CallbackTable, FloodLimit, Parsed, Verdict, parse_command};
use crate::render::{self, Out};
use paperbell_chat::retry::{RetryPolicy, jitter};

/// Path of the webhook on the service's HTTP listener.
pub const WEBHOOK_PATH: &str = "/telegram/webhook";
/// Long-poll wait; below teloxide's 17 s client timeout.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);
/// Updates handled at once; more wait for a slot (each is a few store reads and sends).
const MAX_IN_FLIGHT: usize = 64;
/// Commands a person may send at once, then one per `FLOOD_EVERY` (Telegram's pace for one
/// chat); `FLOOD_QUEUE` more are answered at that pace before the person is told to slow down.
const FLOOD_BURST: u32 = 20;
const FLOOD_EVERY: Duration = Duration::from_secs(1);
const FLOOD_QUEUE: u32 = 20;
/// An interactive reply is tried again after a passing failure, a little: someone is waiting,
/// and a `retry_after` over 30 s is not waited out.
const REPLY_RETRY: RetryPolicy = RetryPolicy {
    base: Duration::from_secs(1),
    cap: Duration::from_secs(30),
    retries: 2,
    budget: Duration::from_secs(45),
};

#[derive(Debug, Clone)]
pub struct TelegramSettings {
    pub token: String,
    /// Bot API base URL; `https://api.telegram.org` or a self-hosted telegram-bot-api.
    pub api_url: String,
    /// Webhook mode: Telegram POSTs updates to `url` (which must reach `WEBHOOK_PATH` on the
    /// service's listener) with `secret` in `X-Telegram-Bot-Api-Secret-Token`.
    pub webhook: Option<WebhookSettings>,
}

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub url: String,
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    #[error("`{0}` is not a valid Telegram API URL")]
    ApiUrl(String),
    #[error("`{0}` is not a valid webhook URL")]
    WebhookUrl(String),
    #[error(
        "Telegram refused the bot token; check PAPERBELL_TELEGRAM_TOKEN (from @BotFather): {0}"
    )]
    Token(String),
    #[error("Telegram request failed: {0}")]
    Request(String),
}

/// The running Telegram side of paperbell. Cheap to clone.
#[derive(Clone)]
pub struct TelegramBot {
    inner: Arc<Inner>,
}

struct Inner {
    bot: teloxide::Bot,
    core: Offload,
    username: String,
    /// Webhook mode: the URL (checked once, at connect) and the secret.
    webhook: Option<(reqwest::Url, String)>,
    flood: Mutex<FloodLimit>,
    callbacks: Mutex<CallbackTable>,
    tasks: TaskTracker,
    slots: Arc<Semaphore>,
    /// Taps on one message's rating buttons take turns (by a lock of `RATING_LOCKS`), so the
    /// last edit shows the last tally; `keyboards` keeps each message's keyboard as last set.
    rating_locks: Vec<tokio::sync::Mutex<()>>,
    keyboards: Mutex<HashMap<(i64, i32), Keyboard>>,
}

/// Locks taps on rating buttons are spread over (by chat and message).
const RATING_LOCKS: usize = 64;
/// Messages whose keyboards are remembered before the memory starts over (a tap on a message
/// not remembered uses the keyboard Telegram hands back with it).
const KEYBOARDS_KEPT: usize = 10_000;

impl TelegramBot {
    /// Checks the token (getMe) and registers the command menu in English and Chinese.
    pub async fn connect(
        settings: TelegramSettings,
        handler: Arc<dyn Handler>,
    ) -> Result<TelegramBot, TelegramError> {
        let url = reqwest::Url::parse(&settings.api_url)
            .map_err(|_| TelegramError::ApiUrl(settings.api_url.clone()))?;
        let webhook = match settings.webhook {
            Some(w) => Some((
                reqwest::Url::parse(&w.url).map_err(|_| TelegramError::WebhookUrl(w.url))?,
                w.secret,
            )),
            None => None,
        };
        let bot = teloxide::Bot::new(settings.token).set_api_url(url);
        let me = bot.get_me().await.map_err(|e| match e {
            RequestError::Api(ApiError::InvalidToken) => TelegramError::Token(e.to_string()),
            e => TelegramError::Request(e.to_string()),
        })?;
        let username = me.username.clone().unwrap_or_default();
        for (lang, code) in [(Lang::En, None), (Lang::Zh, Some("zh"))] {
            // The shared catalogue, so that the menu, Discord and /help agree.
            let cmds = COMMANDS
                .iter()
                .map(|c| BotCommand::new(c.name, c.menu_text(lang)));
            let mut req = bot.set_my_commands(cmds);
            if let Some(code) = code {
                req = req.language_code(code);
            }
            if let Err(e) = req.await {
                // The menu is a convenience; the commands work without it.
                tracing::warn!(error = %e, lang = lang.code(), "setMyCommands failed");
            }
        }
        tracing::info!(bot = %username, "Telegram bot connected");
        Ok(TelegramBot {
            inner: Arc::new(Inner {
                bot,
                core: Offload::new(handler),
                username,
                webhook,
                flood: Mutex::new(FloodLimit::new(FLOOD_BURST, FLOOD_EVERY, FLOOD_QUEUE)),
                callbacks: Mutex::new(CallbackTable::new(10_000, crate::parse::MAX_CALLBACK_BYTES)),
                tasks: TaskTracker::new(),
                slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
                rating_locks: (0..RATING_LOCKS)
                    .map(|_| tokio::sync::Mutex::new(()))
                    .collect(),
                keyboards: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Receives updates until `shutdown`: long polling, or in webhook mode registers the
    /// webhook and lets `webhook_router` take them. Then waits for commands in flight.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), TelegramError> {
        let bot = &self.inner.bot;
        match &self.inner.webhook {
            Some((url, secret)) => {
                bot.set_webhook(url.clone())
                    .secret_token(secret.clone())
                    .allowed_updates(allowed_updates())
                    .await
                    .map_err(|e| TelegramError::Request(e.to_string()))?;
                tracing::info!("Telegram webhook registered");
                shutdown.cancelled().await;
            }
            None => {
                // A webhook left from an earlier run would make getUpdates fail with 409.
                if let Err(e) = bot.delete_webhook().await {
                    tracing::warn!(error = %e, "deleteWebhook failed");
                }
                self.poll(&shutdown).await;
            }
        }
        self.inner.tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("stopped with Telegram commands still in flight");
        }
        Ok(())
    }

    async fn poll(&self, shutdown: &CancellationToken) {
        let bot = &self.inner.bot;
        let mut offset: i32 = 0;
        let mut backoff = Duration::from_secs(1);
        loop {
            let req = bot
                .get_updates()
                .offset(offset)
                .timeout(POLL_TIMEOUT.as_secs() as u32)
                .allowed_updates(allowed_updates());
            let res = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = req => r,
            };
            match res {
                Ok(updates) => {
                    backoff = Duration::from_secs(1);
                    for u in updates {
                        offset = offset.max(u.id.0 as i32 + 1);
                        self.spawn_update(u).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "getUpdates failed");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
        if offset != 0 {
            // Confirm what was handed out, so a restart does not see those updates again.
            let confirm = bot.get_updates().offset(offset).timeout(0).limit(1);
            let _ = tokio::time::timeout(Duration::from_secs(3), confirm).await;
        }
    }

    async fn spawn_update(&self, update: Update) {
        let this = self.clone();
        let Ok(permit) = self.inner.slots.clone().acquire_owned().await else {
            return;
        };
        self.inner.tasks.spawn(async move {
            this.handle_update(update).await;
            drop(permit);
        });
    }

    /// The webhook endpoint (`POST /telegram/webhook`) for the service's HTTP listener; `None`
    /// in polling mode. Updates without the right secret header are refused with 401.
    pub fn webhook_router(&self) -> Option<Router> {
        self.inner.webhook.as_ref()?;
        Some(
            Router::new()
                .route(WEBHOOK_PATH, post(webhook))
                .with_state(self.clone()),
        )
    }

    /// Handles one update of any kind; never panics on odd input, ignores what it does not
    /// handle (edited messages, forwards, other bots' commands, unknown update kinds).
    pub async fn handle_update(&self, update: Update) {
        match update.kind {
            UpdateKind::Message(m) => self.on_message(m, false).await,
            UpdateKind::ChannelPost(m) => self.on_message(m, true).await,
            UpdateKind::CallbackQuery(q) => self.on_callback(q).await,
            UpdateKind::MyChatMember(m) => self.on_membership(m).await,
            _ => {}
        }
    }

    async fn on_message(&self, msg: Message, channel: bool) {
        let chat = chat_ref(msg.chat.id);
        if let Some(to) = msg.migrate_to_chat_id() {
            self.inner.core.chat_moved(&chat, &chat_ref(*to)).await;
            return;
        }
        if msg.forward_origin().is_some() || msg.via_bot.is_some() {
            return;
        }
        // A document's command is its caption (`/import` with a BibTeX file).
        let Some(text) = msg.text().or_else(|| msg.caption()) else {
            return;
        };
        let parsed = parse_command(text, &self.inner.username);
        let cmd = match parsed {
            Parsed::Command(c) => Some(c),
            // In groups a bare unknown command is probably for another bot: stay quiet.
            Parsed::Unknown { addressed, .. } if msg.chat.is_private() || addressed => None,
            Parsed::Unknown { .. } | Parsed::NotForUs | Parsed::NotACommand => return,
        };
        let who = msg
            .from
            .as_ref()
            .map(|u| u.id.0 as i64)
            .unwrap_or(msg.chat.id.0);
        // The flood limit comes first, so a flood costs no store work and no getChatMember.
        if !self.flood_ok(who, &self.caller(&msg, false)).await {
            return;
        }
        let Some(cmd) = cmd else {
            let name = text.split_whitespace().next().unwrap_or_default();
            let name = name.split('@').next().unwrap_or_default();
            let lang = self.lang(&self.caller(&msg, false)).await;
            let reply = format!(
                "{} {name}. {}",
                t(lang, "Unknown command", "未知命令"),
                t(lang, "/help lists the commands.", "/help 列出所有命令。")
            );
            self.send_outs(&chat, render::text_out(&reply)).await;
            return;
        };
        let manage = cmd.changes_chat() && (channel || self.is_admin_message(&msg).await);
        let caller = self.caller(&msg, manage);
        let cmd = match (cmd, msg.document()) {
            // Fetched only for someone the core will let import.
            (Command::Import { text, file: None }, Some(doc)) if caller.can_manage => {
                Command::Import {
                    text,
                    file: Some(self.upload(doc).await),
                }
            }
            (cmd, _) => cmd,
        };
        let answer = self.command(&caller, cmd).await;
        self.send_outs(&chat, render::reply(&answer)).await;
    }

    /// A document sent with a command, fetched from Telegram (`getFile`, then the file) when
    /// it is no larger than an import reads.
    async fn upload(&self, doc: &Document) -> Upload {
        let name = doc.file_name.clone().unwrap_or_else(|| "file".into());
        let size = u64::from(doc.file.size);
        if size > MAX_UPLOAD_BYTES {
            return Upload::TooLarge { name, size };
        }
        let file = match self.inner.bot.get_file(doc.file.id.clone()).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "getFile failed");
                return Upload::Failed { name };
            }
        };
        let mut bytes: Vec<u8> = Vec::with_capacity(size as usize);
        match self.inner.bot.download_file(&file.path, &mut bytes).await {
            Ok(()) => Upload::downloaded(name, bytes),
            Err(e) => {
                tracing::warn!(error = %e, "a document could not be downloaded");
                Upload::Failed { name }
            }
        }
    }

    fn caller(&self, msg: &Message, can_manage: bool) -> Caller {
        Caller {
            chat: chat_ref(msg.chat.id),
            can_manage: can_manage || msg.chat.is_private(),
            locale: msg.from.as_ref().and_then(|u| u.language_code.clone()),
            member: msg.from.as_ref().map(|u| u.id.0.to_string()),
        }
    }

    /// May the sender of this group message change the chat? Anonymous admins post as the
    /// group itself; everyone else is looked up with getChatMember.
    async fn is_admin_message(&self, msg: &Message) -> bool {
        if msg.chat.is_private() {
            return true;
        }
        if msg
            .sender_chat
            .as_ref()
            .is_some_and(|c| c.id == msg.chat.id)
        {
            return true;
        }
        match &msg.from {
            Some(u) => self.is_admin(msg.chat.id, u.id).await,
            None => false,
        }
    }

    async fn is_admin(&self, chat: ChatId, user: UserId) -> bool {
        match self.inner.bot.get_chat_member(chat, user).await {
            Ok(m) => m.kind.is_privileged(),
            Err(e) => {
                tracing::warn!(chat = chat.0, error = %e, "getChatMember failed; treating as non-admin");
                false
            }
        }
    }

    async fn flood_ok(&self, who: i64, caller: &Caller) -> bool {
        let verdict = self
            .inner
            .flood
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(who, Instant::now());
        match verdict {
            Verdict::Allow => true,
            Verdict::Wait(d) => {
                tokio::time::sleep(d).await;
                true
            }
            Verdict::Drop => false,
            Verdict::Warn => {
                let lang = self.lang(caller).await;
                let text = t(
                    lang,
                    "That is a lot of commands at once; please wait a few seconds and try again.",
                    "命令太多了；请稍等几秒再试。",
                );
                self.send_outs(&caller.chat, render::text_out(text)).await;
                false
            }
        }
    }

    async fn command(&self, caller: &Caller, cmd: Command) -> Answer {
        self.inner.core.command(caller, cmd).await
    }

    async fn lang(&self, caller: &Caller) -> Lang {
        self.inner.core.lang(caller).await
    }

    async fn on_callback(&self, q: CallbackQuery) {
        let bot = &self.inner.bot;
        let Some(msg) = q.regular_message().cloned() else {
            let _ = bot.answer_callback_query(q.id.clone()).await;
            return;
        };
        let chat = chat_ref(msg.chat.id);
        let caller0 = Caller {
            chat: chat.clone(),
            can_manage: msg.chat.is_private(),
            locale: q.from.language_code.clone(),
            member: Some(q.from.id.0.to_string()),
        };
        let resolved = q.data.as_deref().and_then(|d| {
            self.inner
                .callbacks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .resolve(d)
        });
        if let Some(tap @ Callback::Rate { .. }) = &resolved {
            self.on_rating_tap(&q, &msg, &caller0, tap).await;
            return;
        }
        let Some(cmd) = resolved.as_ref().and_then(Callback::command) else {
            let lang = self.lang(&caller0).await;
            let _ = bot
                .answer_callback_query(q.id.clone())
                .text(t(
                    lang,
                    "This button has expired; send the command again.",
                    "此按钮已过期；请重新发送命令。",
                ))
                .await;
            return;
        };
        if !self.flood_ok(q.from.id.0 as i64, &caller0).await {
            let _ = bot.answer_callback_query(q.id.clone()).await;
            return;
        }
        // In groups and channels the person who tapped must be an administrator to change
        // anything (channel readers can tap buttons under posts too).
        let manage = cmd.changes_chat()
            && (msg.chat.is_private() || self.is_admin(msg.chat.id, q.from.id).await);
        let caller = Caller {
            can_manage: manage || caller0.can_manage,
            ..caller0
        };
        let page_turn = matches!(cmd, Command::Topics { .. });
        let answer = self.command(&caller, cmd).await;
        let _ = bot.answer_callback_query(q.id.clone()).await;
        let outs = render::reply(&answer);
        if page_turn && outs.len() == 1 {
            // Turning a page of /topics edits the list in place.
            let out = &outs[0];
            let res = bot
                .edit_message_text(msg.chat.id, msg.id, out.html.clone())
                .parse_mode(ParseMode::Html)
                .link_preview_options(no_preview())
                .reply_markup(self.keyboard(out))
                .await;
            if let Err(e) = res {
                tracing::warn!(chat = %chat, error = %e, "editing the topic list failed");
            }
            return;
        }
        self.send_outs(&chat, outs).await;
    }

    /// A tap on a paper's number or rating button: the first shows the paper's 👍 👎 ⭐ row,
    /// the second rates it (stored before the tap is answered) and puts the chat's tally on
    /// the number. Only the message's keyboard changes: no message is sent.
    async fn on_rating_tap(
        &self,
        q: &CallbackQuery,
        msg: &Message,
        caller: &Caller,
        tap: &Callback,
    ) {
        let bot = &self.inner.bot;
        let Callback::Rate { id, tap: what } = tap else {
            return;
        };
        let lang = self.lang(caller).await;
        let verdict = self
            .inner
            .flood
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(q.from.id.0 as i64, Instant::now());
        if let Verdict::Wait(d) = verdict {
            tokio::time::sleep(d).await;
        } else if verdict != Verdict::Allow {
            let _ = bot
                .answer_callback_query(q.id.clone())
                .text(t(
                    lang,
                    "That is a lot of taps at once; please wait a few seconds.",
                    "点得太快了；请稍等几秒。",
                ))
                .await;
            return;
        }
        let at = (msg.chat.id.0, msg.id.0);
        let stripe =
            (at.0.unsigned_abs() as usize ^ (at.1 as usize).wrapping_mul(31)) % RATING_LOCKS;
        let _turn = self.inner.rating_locks[stripe].lock().await;
        let mut toast = None;
        if let RateTap::Rate(rate) = what {
            match self.inner.core.rate(caller, id, *rate, &q.id.0).await {
                Ok(r) => toast = Some(rated_toast(*rate, &r, lang)),
                Err(refused) => {
                    let _ = bot
                        .answer_callback_query(q.id.clone())
                        .text(refused.0)
                        .await;
                    return;
                }
            }
        }
        let mut answer = bot.answer_callback_query(q.id.clone());
        if let Some(text) = toast {
            answer = answer.text(text);
        }
        let _ = answer.await;
        let current = self
            .inner
            .keyboards
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&at)
            .cloned()
            .unwrap_or_else(|| keyboard_of(msg));
        let papers = numbered_papers(&current);
        let tallies = self.inner.core.rated(&caller.chat, &papers).await;
        let tallies: Vec<(String, Rated)> = papers.into_iter().zip(tallies).collect();
        let next = after_rating_tap(&current, tap, &tallies, lang);
        if next == current {
            return;
        }
        {
            let mut kept = self
                .inner
                .keyboards
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if kept.len() >= KEYBOARDS_KEPT {
                kept.clear();
            }
            kept.insert(at, next.clone());
        }
        let markup = InlineKeyboardMarkup::new(next.into_iter().map(|row| {
            row.into_iter()
                .map(|(label, data)| InlineKeyboardButton::callback(label, data))
                .collect::<Vec<_>>()
        }));
        match bot
            .edit_message_reply_markup(msg.chat.id, msg.id)
            .reply_markup(markup)
            .await
        {
            // Another tap got there first with the same buttons.
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => {}
            Err(e) => {
                tracing::warn!(chat = %caller.chat, error = %e, "updating a paper's buttons failed")
            }
        }
    }

    async fn on_membership(&self, m: ChatMemberUpdated) {
        // The bot was removed from a group or channel, or a person blocked it.
        let kind = &m.new_chat_member.kind;
        if kind.is_left() || kind.is_banned() {
            self.inner
                .core
                .chat_gone(&chat_ref(m.chat.id), "the bot was removed or blocked")
                .await;
        }
    }

    fn keyboard(&self, out: &Out) -> InlineKeyboardMarkup {
        let mut table = self
            .inner
            .callbacks
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        InlineKeyboardMarkup::new(out.buttons.iter().map(|row| {
            row.iter()
                .map(|(label, cb)| {
                    InlineKeyboardButton::callback(label.clone(), table.data(cb.clone()))
                })
                .collect::<Vec<_>>()
        }))
    }

    /// Sends one message; errors mapped for the caller's policy.
    async fn send_out(&self, chat: ChatId, out: &Out) -> Result<MessageId, SendError> {
        if let Some((name, bytes)) = &out.document {
            return self
                .inner
                .bot
                .send_document(
                    chat,
                    InputFile::memory(bytes.clone()).file_name(name.clone()),
                )
                .caption(out.html.clone())
                .parse_mode(ParseMode::Html)
                .await
                .map(|m| m.id)
                .map_err(|e| send_error(&e));
        }
        let mut req = self
            .inner
            .bot
            .send_message(chat, out.html.clone())
            .parse_mode(ParseMode::Html)
            .link_preview_options(match &out.preview {
                Some(url) => figure_preview(url),
                None => no_preview(),
            });
        if !out.buttons.is_empty() {
            req = req.reply_markup(self.keyboard(out));
        }
        req.await.map(|m| m.id).map_err(|e| send_error(&e))
    }

    /// Sends a reply: waits out a short retry_after, follows a migrated group, marks a chat
    /// that refuses the bot inactive, and logs the rest. Replies are not queued durably.
    async fn send_outs(&self, chat: &ChatRef, outs: Vec<Out>) {
        let mut target = chat.clone();
        for out in &outs {
            let mut tries = REPLY_RETRY.start();
            let mut moves = 0;
            loop {
                let Some(id) = chat_id(&target) else { return };
                let wait = match self.send_out(id, out).await {
                    Ok(_) => break,
                    Err(SendError::RetryAfter(d)) => tries.next(Some(d), jitter()),
                    Err(SendError::Transient(e)) => {
                        tracing::debug!(chat = %target, error = %e, "reply failed; retrying");
                        tries.next(None, jitter())
                    }
                    Err(SendError::Migrated(to)) if moves < 3 => {
                        moves += 1;
                        let new = ChatRef {
                            platform: Platform::Telegram,
                            id: to,
                        };
                        self.inner.core.chat_moved(&target, &new).await;
                        target = new;
                        continue;
                    }
                    Err(SendError::Permanent(why)) => {
                        self.inner.core.chat_gone(&target, &why).await;
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(chat = %target, error = %e, "reply not sent");
                        return;
                    }
                };
                match wait {
                    Some(d) => tokio::time::sleep(d).await,
                    None => {
                        tracing::warn!(chat = %target, attempts = tries.attempts(), "reply not sent: Telegram kept failing");
                        return;
                    }
                }
            }
        }
    }
}

async fn webhook(State(bot): State<TelegramBot>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some((_, secret)) = &bot.inner.webhook else {
        return StatusCode::NOT_FOUND;
    };
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(given, secret.as_bytes()) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(update) = serde_json::from_slice::<Update>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    // Answer at once; Telegram would redeliver a slow webhook call.
    bot.spawn_update(update).await;
    StatusCode::OK
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::ChannelPost,
        AllowedUpdate::CallbackQuery,
        AllowedUpdate::MyChatMember,
    ]
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// A paper's figure as the message's link preview: large, above the text (Telegram shows the
/// image the address points at).
fn figure_preview(url: &str) -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: false,
        url: Some(url.to_string()),
        prefer_small_media: false,
        prefer_large_media: true,
        show_above_text: true,
    }
}

fn chat_ref(id: ChatId) -> ChatRef {
    ChatRef {
        platform: Platform::Telegram,
        id: id.0.to_string(),
    }
}

fn chat_id(c: &ChatRef) -> Option<ChatId> {
    (c.platform == Platform::Telegram)
        .then(|| c.id.parse().ok().map(ChatId))
        .flatten()
}

/// Telegram's answer in the contract's terms.
pub fn send_error(e: &RequestError) -> SendError {
    match e {
        RequestError::RetryAfter(s) => SendError::RetryAfter(s.duration()),
        RequestError::MigrateToChatId(to) => SendError::Migrated(to.0.to_string()),
        RequestError::Api(api) => match api {
            ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated
            | ApiError::NotEnoughRightsToPostMessages
            | ApiError::GroupDeactivated => SendError::Permanent(api.to_string()),
            ApiError::MessageIsTooLong | ApiError::EditedMessageIsTooLong => SendError::TooLong,
            ApiError::Unknown(s)
                if s.contains("Internal Server Error")
                    || s.contains("Bad Gateway")
                    || s.contains("Gateway")
                    || s.starts_with("Too Many Requests") =>
            {
                SendError::Transient(s.clone())
            }
            other => SendError::Rejected(other.to_string()),
        },
        RequestError::Network(e) => SendError::Transient(e.to_string()),
        RequestError::InvalidJson { .. } | RequestError::Io(_) => {
            SendError::Transient(e.to_string())
        }
    }
}

impl ChatPlatform for TelegramBot {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    type Part = Out;

    /// HTML, split at paper boundaries, Unsubscribe under the last part.
    fn render(&self, message: &DigestMessage) -> Vec<Out> {
        render::digest_out(message)
    }

    async fn send_part(&self, chat: &ChatRef, part: &Out) -> Result<Sent, SendError> {
        let id =
            chat_id(chat).ok_or_else(|| SendError::Permanent(format!("bad chat id {chat}")))?;
        self.send_out(id, part).await?;
        Ok(Sent::default())
    }
}

/// The keyboard under a message as Telegram handed it back: label and callback data of each
/// button (other kinds of button, which paperbell does not send, are left out).
fn keyboard_of(msg: &Message) -> Keyboard {
    msg.reply_markup()
        .map(|m| {
            m.inline_keyboard
                .iter()
                .map(|row| {
                    row.iter()
                        .filter_map(|b| match &b.kind {
                            InlineKeyboardButtonKind::CallbackData(d) => {
                                Some((b.text.clone(), d.clone()))
                            }
                            _ => None,
                        })
                        .collect::<Vec<_>>()
                })
                .filter(|row| !row.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The short notice a rating tap shows (not a message): what was recorded and the tally.
fn rated_toast(rate: Rate, r: &Rated, lang: Lang) -> String {
    let what = match rate {
        Rate::Up => "👍",
        Rate::Down => "👎",
        Rate::Save => "⭐",
    };
    format!(
        "{what} {} · 👍{} 👎{} ⭐{}",
        t(
            lang,
            "noted (tap again to take it back)",
            "已记录（再点一次撤回）"
        ),
        r.up,
        r.down,
        r.saved
    )
}

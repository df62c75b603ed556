//! A strict fake of the Telegram Bot API (`/bot<token>/<method>`, JSON in, `{"ok":..}` out)
//! with real long polling, a webhook mode, and fault injection. It refuses what Telegram refuses:
//! a wrong token, text over 4096 UTF-16 units after entity parsing, malformed or unbalanced
//! HTML, unsupported tags and entities, bad callback data, messages to chats it never saw.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The token the fake accepts. It looks like a real one so token-redaction is exercised.
pub const TOKEN: &str = "123456789:AAHfakeTokenForPaperbellTests_0123456789";
pub const BOT_ID: i64 = 123456789;
pub const BOT_USERNAME: &str = "paperbell_test_bot";
/// Telegram's limit on message text after entity parsing, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 4096;

/// A failure the fake answers the next `sendMessage` to a chat with.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 with `parameters.retry_after`.
    RetryAfter(u32),
    /// 403 "bot was blocked by the user".
    Blocked,
    /// 403 "bot was kicked from the supergroup chat".
    Kicked,
    /// 400 "chat not found".
    ChatNotFound,
    /// 400 with `parameters.migrate_to_chat_id`: the group became this supergroup.
    Migrate(i64),
    /// 500.
    ServerError,
    /// The connection is closed without an answer.
    Drop,
}

/// A message the bot sent (or edited) as the fake accepted it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat_id: i64,
    pub message_id: i64,
    /// The text as sent (HTML when `parse_mode` is HTML).
    pub text: String,
    /// The text after entity parsing: what a person sees.
    pub visible: String,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
    pub previews_disabled: bool,
    /// The address the link preview shows (`link_preview_options.url`), and whether above the
    /// text.
    pub preview_url: Option<String>,
    pub preview_above: bool,
    pub edited: bool,
    /// A document sent (`sendDocument`): its file name and contents; `text` is its caption.
    pub document: Option<(String, Vec<u8>)>,
    pub at: Instant,
}

impl Sent {
    /// `callback_data` of every inline button, row by row.
    pub fn buttons(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(rows) = self
            .reply_markup
            .as_ref()
            .and_then(|m| m["inline_keyboard"].as_array())
        {
            for row in rows {
                for b in row.as_array().into_iter().flatten() {
                    out.push((
                        b["text"].as_str().unwrap_or_default().to_string(),
                        b["callback_data"].as_str().unwrap_or_default().to_string(),
                    ));
                }
            }
        }
        out
    }
}

#[derive(Default)]
struct Inner {
    next_update_id: i64,
    updates: VecDeque<Value>,
    next_message_id: i64,
    chats: HashMap<i64, Value>,
    members: HashMap<(i64, i64), String>,
    faults: HashMap<i64, VecDeque<Fault>>,
    /// Chats that answer every send with 403 (blocked for good).
    blocked: HashSet<i64>,
    sent: Vec<Sent>,
    taken: HashMap<i64, usize>,
    calls: Vec<(String, Value)>,
    rejected: Vec<(String, String)>,
    webhook: Option<(String, Option<String>)>,
    /// Bumped by every getUpdates: a newer call ends an older one, as on Telegram.
    poll_generation: u64,
    limits: Option<Limits>,
    /// sendMessage calls answered 429 because the bot went over `limits`.
    throttled: u64,
    /// Files people sent, by file id: name and contents (`getFile`, then the download).
    files: HashMap<String, (String, Vec<u8>)>,
}

/// Telegram's flood control as the fake enforces it: token buckets overall and per chat.
struct Limits {
    global_rate: f64,
    global_burst: f64,
    global: (f64, Instant),
    per_chat_rate: f64,
    chats: HashMap<i64, (f64, Instant)>,
}

impl Limits {
    /// Takes a token from `(tokens, at)` if there is one; `tolerance` forgives arrivals a
    /// little early (the bot's timing is measured in another process, across a socket).
    fn take(b: &mut (f64, Instant), rate: f64, burst: f64, now: Instant, tolerance: f64) -> bool {
        b.0 = (b.0 + (now - b.1).as_secs_f64() * rate).min(burst);
        b.1 = now;
        if b.0 >= 1.0 - tolerance {
            b.0 -= 1.0;
            true
        } else {
            false
        }
    }

    fn allow(&mut self, chat: i64, now: Instant) -> bool {
        let rate = self.per_chat_rate;
        let chat_ok = {
            let b = self.chats.entry(chat).or_insert((1.0, now));
            Self::take(b, rate, 1.0, now, 0.1)
        };
        let (gr, gb) = (self.global_rate, self.global_burst);
        chat_ok && Self::take(&mut self.global, gr, gb, now, 0.0)
    }
}

impl Inner {
    /// New messages (not edits) to `chat_id` that no `take` has returned yet.
    fn untaken(&self, chat_id: i64) -> impl Iterator<Item = &Sent> {
        let start = self.taken.get(&chat_id).copied().unwrap_or(0);
        self.sent
            .iter()
            .filter(move |s| s.chat_id == chat_id && !s.edited)
            .skip(start)
    }
}

struct Shared {
    inner: Mutex<Inner>,
    updates_ready: Notify,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake. Dropping it stops the server.
pub struct FakeTelegram {
    pub url: String,
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                next_update_id: 1000,
                next_message_id: 1,
                ..Inner::default()
            }),
            updates_ready: Notify::new(),
            changed: Notify::new(),
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(method))
            .route("/file/{bot}/{*path}", axum::routing::get(download))
            .with_state(shared.clone());
        let (addr, stop, _) = crate::http::serve(app).await;
        FakeTelegram {
            url: format!("http://{addr}"),
            addr,
            shared,
            _stop: stop,
        }
    }

    // ---- updates in ----

    /// Queues an update (its `update_id` is assigned here) for getUpdates, or POSTs it to the
    /// webhook when one is set. Returns the update id.
    pub async fn push(&self, mut update: Value) -> i64 {
        let (id, webhook) = {
            let mut g = self.shared.lock();
            let id = g.next_update_id;
            g.next_update_id += 1;
            update["update_id"] = json!(id);
            for key in ["message", "channel_post", "edited_message"] {
                if let Some(chat) = update[key].get("chat") {
                    let chat = chat.clone();
                    g.chats.insert(chat["id"].as_i64().unwrap(), chat);
                }
            }
            if let Some(chat) = update["callback_query"]["message"].get("chat") {
                let chat = chat.clone();
                g.chats.insert(chat["id"].as_i64().unwrap(), chat);
            }
            match g.webhook.clone() {
                Some(w) => (id, Some(w)),
                None => {
                    g.updates.push_back(update.clone());
                    (id, None)
                }
            }
        };
        match webhook {
            Some((url, secret)) => {
                let status = post_webhook(&url, secret.as_deref(), &update).await;
                assert_eq!(status, 200, "the bot's webhook refused update {id}");
            }
            None => self.shared.updates_ready.notify_waiters(),
        }
        id
    }

    /// A person writes `text` to the bot in a private chat (chat id = user id).
    pub async fn private_text(&self, user_id: i64, text: &str, lang: Option<&str>) -> i64 {
        let chat = private_chat(user_id);
        self.push(json!({"message": text_message(self.message_id(), &chat, Some(user(user_id, lang)), text)}))
            .await
    }

    /// A person sends a document (`file_name`, `bytes`) with `caption` in a private chat; the
    /// bot fetches it with getFile and the file URL, as from Telegram.
    pub async fn private_document(
        &self,
        user_id: i64,
        caption: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> i64 {
        let file_id = {
            let mut g = self.shared.lock();
            let id = format!("BQACAgIAAxkBAAI{}", g.files.len() + 1);
            g.files
                .insert(id.clone(), (file_name.to_string(), bytes.to_vec()));
            id
        };
        let chat = private_chat(user_id);
        let mut m = text_message(self.message_id(), &chat, Some(user(user_id, None)), caption);
        let entities = m.as_object_mut().unwrap().remove("entities");
        m.as_object_mut().unwrap().remove("text");
        m["caption"] = json!(caption);
        if let Some(e) = entities {
            m["caption_entities"] = e;
        }
        m["document"] = json!({
            "file_name": file_name, "mime_type": "application/x-bibtex",
            "file_id": file_id, "file_unique_id": format!("AgAD{file_id}"), "file_size": bytes.len()
        });
        self.push(json!({ "message": m })).await
    }

    /// A member writes `text` in a group (`supergroup` picks the chat type).
    pub async fn group_text(
        &self,
        chat_id: i64,
        supergroup: bool,
        user_id: i64,
        text: &str,
    ) -> i64 {
        let chat = group_chat(chat_id, supergroup);
        self.push(json!({"message": text_message(self.message_id(), &chat, Some(user(user_id, None)), text)}))
            .await
    }

    /// An administrator posts `text` in a channel (channel posts carry no `from`).
    pub async fn channel_post(&self, chat_id: i64, text: &str) -> i64 {
        let chat = json!({"id": chat_id, "type": "channel", "title": format!("Channel {chat_id}")});
        let mut m = text_message(self.message_id(), &chat, None, text);
        m["sender_chat"] = chat.clone();
        self.push(json!({ "channel_post": m })).await
    }

    /// A person taps an inline button carrying `data` under message `message_id` in `chat_id`.
    pub async fn press(&self, chat_id: i64, user_id: i64, message_id: i64, data: &str) -> String {
        let id = format!("cb{}", self.message_id());
        self.press_as(chat_id, user_id, message_id, data, &id).await
    }

    /// `press` with a given callback query id: the same id again is the same tap handed over
    /// twice (as Telegram does with an update a bot did not confirm before it died).
    pub async fn press_as(
        &self,
        chat_id: i64,
        user_id: i64,
        message_id: i64,
        data: &str,
        id: &str,
    ) -> String {
        let chat = self.chat(chat_id).unwrap_or_else(|| private_chat(chat_id));
        // As Telegram does, the tapped message comes with its keyboard as it is now.
        let (text, markup) = self
            .shared
            .lock()
            .sent
            .iter()
            .rev()
            .find(|s| s.chat_id == chat_id && s.message_id == message_id)
            .map(|s| (s.text.clone(), s.reply_markup.clone()))
            .unwrap_or_else(|| ("(a message with buttons)".into(), None));
        let mut message = json!({
            "message_id": message_id, "date": now(), "chat": chat,
            "from": bot_user(), "text": text
        });
        if let Some(m) = markup {
            message["reply_markup"] = m;
        }
        self.push(json!({"callback_query": {
            "id": id, "from": user(user_id, None), "message": message,
            "chat_instance": format!("ci{chat_id}"), "data": data
        }}))
        .await;
        id.to_string()
    }

    fn message_id(&self) -> i64 {
        let mut g = self.shared.lock();
        g.next_message_id += 1;
        g.next_message_id
    }

    pub fn chat(&self, chat_id: i64) -> Option<Value> {
        self.shared.lock().chats.get(&chat_id).cloned()
    }

    /// Makes `chat_id` known (as if it had written to the bot) so messages to it are accepted.
    pub fn register_private_chat(&self, chat_id: i64) {
        self.shared
            .lock()
            .chats
            .insert(chat_id, private_chat(chat_id));
    }

    /// Makes any chat known (a supergroup a group migrated to, say).
    pub fn register_chat(&self, chat: Value) {
        let id = chat["id"].as_i64().expect("chat id");
        self.shared.lock().chats.insert(id, chat);
    }

    /// The bot's own membership changed (`kicked` in a private chat: the person blocked it;
    /// `left`/`kicked` in a group or channel: it was removed).
    pub async fn bot_status(&self, chat: Value, status: &str) -> i64 {
        let bot = bot_user();
        let old = json!({"status": "member", "user": bot});
        let new = if status == "kicked" {
            json!({"status": "kicked", "user": bot, "until_date": 0})
        } else {
            json!({"status": status, "user": bot})
        };
        let from = user(chat["id"].as_i64().unwrap_or(1).abs(), None);
        self.push(json!({"my_chat_member": {
            "chat": chat, "from": from, "date": now(),
            "old_chat_member": old, "new_chat_member": new
        }}))
        .await
    }

    /// A member's status in a chat: `creator`, `administrator`, `member`, `left`, `kicked`.
    pub fn set_member(&self, chat_id: i64, user_id: i64, status: &str) {
        self.shared
            .lock()
            .members
            .insert((chat_id, user_id), status.to_string());
    }

    // ---- faults ----

    /// The next `sendMessage`s to `chat_id` fail like this, one fault per call, in order.
    pub fn fail_next(&self, chat_id: i64, fault: Fault) {
        self.shared
            .lock()
            .faults
            .entry(chat_id)
            .or_default()
            .push_back(fault);
    }

    /// Enforces flood control from now on: more than `global_per_sec` messages a second overall
    /// (with a fifth of a second's burst) or `per_chat_per_sec` to one chat answers 429.
    pub fn enforce_limits(&self, global_per_sec: f64, per_chat_per_sec: f64) {
        let now = Instant::now();
        let burst = (global_per_sec / 5.0).max(1.0);
        self.shared.lock().limits = Some(Limits {
            global_rate: global_per_sec,
            global_burst: burst,
            global: (burst, now),
            per_chat_rate: per_chat_per_sec,
            chats: HashMap::new(),
        });
    }

    /// Messages answered 429 because the bot broke the limits of `enforce_limits`.
    pub fn throttled(&self) -> u64 {
        self.shared.lock().throttled
    }

    /// How many messages (not edits) were accepted, without copying them.
    pub fn sent_count(&self) -> usize {
        self.shared.lock().sent.iter().filter(|s| !s.edited).count()
    }

    /// Every send to `chat_id` answers 403 from now on (the person blocked the bot).
    pub fn block(&self, chat_id: i64) {
        self.shared.lock().blocked.insert(chat_id);
    }

    // ---- what the bot did ----

    /// Every message the bot sent or edited, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    pub fn sent_to(&self, chat_id: i64) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.chat_id == chat_id)
            .collect()
    }

    /// Waits for the next `n` new messages (edits are not counted) to `chat_id` not taken
    /// before (panics after 20 s).
    pub async fn take(&self, chat_id: i64, n: usize) -> Vec<Sent> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.shared.changed.notified();
            {
                let mut g = self.shared.lock();
                let mine: Vec<Sent> = g.untaken(chat_id).take(n).cloned().collect();
                if mine.len() == n {
                    *g.taken.entry(chat_id).or_default() += n;
                    return mine;
                }
                if Instant::now() > deadline {
                    let rejected = g.rejected.clone();
                    panic!(
                        "waited 20 s for {n} message(s) to chat {chat_id}, got {}: {mine:#?}\nrejected requests: {rejected:#?}",
                        mine.len()
                    );
                }
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }

    /// Messages to `chat_id` not taken yet, without waiting.
    pub fn untaken(&self, chat_id: i64) -> Vec<Sent> {
        self.shared.lock().untaken(chat_id).cloned().collect()
    }

    /// Bodies of every call to `method` so far.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Waits until `method` has been called at least `n` times (panics after 20 s).
    pub async fn wait_calls(&self, method: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.shared.changed.notified();
            let calls = self.calls(method);
            if calls.len() >= n {
                return calls;
            }
            assert!(
                Instant::now() < deadline,
                "waited 20 s for {n} call(s) of {method}, got {}",
                calls.len()
            );
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }

    /// Requests the fake refused as Telegram would (method, description). A correct bot
    /// causes none except the faults a test injected.
    pub fn rejected(&self) -> Vec<(String, String)> {
        self.shared.lock().rejected.clone()
    }

    /// Updates queued but not yet confirmed by a later getUpdates offset.
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().updates.len()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn user(id: i64, lang: Option<&str>) -> Value {
    let mut u = json!({"id": id, "is_bot": false, "first_name": format!("User{id}")});
    if let Some(l) = lang {
        u["language_code"] = json!(l);
    }
    u
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "paperbell", "username": BOT_USERNAME})
}

/// A person's private chat with the bot (its id is theirs).
pub fn private_chat(user_id: i64) -> Value {
    json!({"id": user_id, "type": "private", "first_name": format!("User{user_id}")})
}

pub fn group_chat(chat_id: i64, supergroup: bool) -> Value {
    json!({
        "id": chat_id,
        "type": if supergroup { "supergroup" } else { "group" },
        "title": format!("Group {chat_id}")
    })
}

/// A text message as Telegram delivers it, with a `bot_command` entity when it starts with `/`.
pub fn text_message(message_id: i64, chat: &Value, from: Option<Value>, text: &str) -> Value {
    let mut m = json!({"message_id": message_id, "date": now(), "chat": chat, "text": text});
    if let Some(f) = from {
        m["from"] = f;
    }
    if text.starts_with('/') {
        let len: usize = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .encode_utf16()
            .count();
        m["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    m
}

fn ok(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
        .into_response()
}

fn err(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

async fn method(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if bot.strip_prefix("bot") != Some(TOKEN) {
        return err(401, "Unauthorized", None);
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body: Value = if body.is_empty() {
        json!({})
    } else if let Some(boundary) = crate::multipart::boundary(content_type) {
        match form_data(&body, boundary) {
            Some(v) => v,
            None => return err(400, "Bad Request: can't parse multipart/form-data", None),
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return err(400, "Bad Request: invalid JSON in request body", None),
        }
    };
    // Bot API method names are case-insensitive (teloxide sends `SendMessage`); keep the
    // documented spelling for tests to look up.
    let method = METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(&method))
        .map_or(method, |m| m.to_string());
    if method == "getUpdates" {
        shared.lock().calls.push((method.clone(), body.clone()));
    }
    let resp = match method.as_str() {
        "getMe" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "paperbell", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false
        })),
        "getUpdates" => return get_updates(&shared, &body).await,
        "sendMessage" => send_message(&shared, &body, None),
        "sendDocument" => send_document(&shared, &body),
        "getFile" => get_file(&shared, &body),
        "editMessageText" => {
            let id = body["message_id"].as_i64();
            match id {
                Some(id) => send_message(&shared, &body, Some(id)),
                None => err(
                    400,
                    "Bad Request: message identifier is not specified",
                    None,
                ),
            }
        }
        "editMessageReplyMarkup" => edit_reply_markup(&shared, &body),
        "answerCallbackQuery" => match body["callback_query_id"].as_str() {
            Some(_) => ok(json!(true)),
            None => err(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
                None,
            ),
        },
        "setMyCommands" => set_my_commands(&body),
        "getChatMember" => get_chat_member(&shared, &body),
        "deleteWebhook" => {
            shared.lock().webhook = None;
            ok(json!(true))
        }
        "setWebhook" => {
            let url = body["url"].as_str().unwrap_or_default().to_string();
            let secret = body["secret_token"].as_str().map(str::to_string);
            shared.lock().webhook = (!url.is_empty()).then_some((url, secret));
            ok(json!(true))
        }
        _ => err(404, "Not Found", None),
    };
    // Recorded once handled, so a test that saw the call also sees its effect.
    shared.lock().calls.push((method.clone(), body.clone()));
    shared.changed.notify_waiters();
    if resp.status() != StatusCode::OK {
        // Record refusals for tests to inspect; the bodies are tiny JSON values.
        let (parts, b) = resp.into_parts();
        let bytes = axum::body::to_bytes(b, 1 << 16).await.unwrap_or_default();
        let desc = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["description"].as_str().map(str::to_string))
            .unwrap_or_default();
        shared.lock().rejected.push((method, desc));
        shared.changed.notify_waiters();
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    resp
}

/// Telegram accepts any method as multipart/form-data (teloxide sends setWebhook that way):
/// each part is a field; JSON-looking values (arrays, objects) are decoded like Telegram does;
/// a file part becomes `{"filename", "content", "size"}`.
fn form_data(body: &[u8], boundary: &str) -> Option<Value> {
    let mut out = serde_json::Map::new();
    for part in crate::multipart::parts(body, boundary)? {
        let text = String::from_utf8_lossy(&part.bytes).into_owned();
        let v = match part.filename {
            Some(filename) => {
                json!({"filename": filename, "content": text, "size": part.bytes.len()})
            }
            None if text.starts_with('[') || text.starts_with('{') => {
                serde_json::from_str(&text).ok()?
            }
            None => Value::String(text),
        };
        out.insert(part.name, v);
    }
    Some(Value::Object(out))
}

const METHODS: &[&str] = &[
    "getMe",
    "sendDocument",
    "getFile",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "setMyCommands",
    "getChatMember",
    "deleteWebhook",
    "setWebhook",
];

async fn get_updates(shared: &Shared, body: &Value) -> Response {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let timeout = body["timeout"].as_u64().unwrap_or(0).min(50);
    let limit = body["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    {
        let mut g = shared.lock();
        if g.webhook.is_some() {
            return err(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                None,
            );
        }
        g.poll_generation += 1;
    }
    let generation = shared.lock().poll_generation;
    // Wake an older long poll so it sees it was superseded.
    shared.updates_ready.notify_waiters();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let result = loop {
        let notified = shared.updates_ready.notified();
        {
            let mut g = shared.lock();
            if g.poll_generation != generation {
                return err(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                    None,
                );
            }
            // An offset confirms every update before it: Telegram forgets them.
            while g
                .updates
                .front()
                .is_some_and(|u| u["update_id"].as_i64() < Some(offset))
            {
                g.updates.pop_front();
            }
            if !g.updates.is_empty() || tokio::time::Instant::now() >= deadline {
                break g.updates.iter().take(limit).cloned().collect::<Vec<_>>();
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    };
    shared.changed.notify_waiters();
    ok(Value::Array(result))
}

/// `editMessageReplyMarkup`: the message's keyboard replaced, its text kept; recorded as an
/// edit. Telegram refuses an edit that changes nothing.
fn edit_reply_markup(shared: &Shared, body: &Value) -> Response {
    let (Some(chat_id), Some(message_id)) = (body["chat_id"].as_i64(), body["message_id"].as_i64())
    else {
        return err(
            400,
            "Bad Request: message identifier is not specified",
            None,
        );
    };
    let markup = body.get("reply_markup").cloned();
    if let Some(m) = &markup
        && let Err(e) = check_keyboard(m)
    {
        return err(400, &format!("Bad Request: {e}"), None);
    }
    let mut g = shared.lock();
    let Some(last) = g
        .sent
        .iter()
        .rev()
        .find(|s| s.chat_id == chat_id && s.message_id == message_id)
        .cloned()
    else {
        return err(400, "Bad Request: message to edit not found", None);
    };
    if last.reply_markup == markup {
        return err(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            None,
        );
    }
    let chat = g
        .chats
        .get(&chat_id)
        .cloned()
        .unwrap_or_else(|| json!({"id": chat_id, "type": "private", "first_name": "?"}));
    let mut m = json!({
        "message_id": message_id, "date": now(), "chat": chat, "from": bot_user(),
        "text": last.visible.clone(), "edit_date": now()
    });
    if let Some(markup) = &markup {
        m["reply_markup"] = markup.clone();
    }
    let edited = Sent {
        reply_markup: markup,
        edited: true,
        at: Instant::now(),
        ..last
    };
    g.sent.push(edited);
    drop(g);
    shared.changed.notify_waiters();
    // As Telegram answers: the edited message.
    ok(m)
}

fn send_message(shared: &Shared, body: &Value, edit: Option<i64>) -> Response {
    let Some(chat_id) = body["chat_id"].as_i64() else {
        return err(400, "Bad Request: chat_id is empty", None);
    };
    let fault = {
        let mut g = shared.lock();
        let over = edit.is_none()
            && g.limits
                .as_mut()
                .is_some_and(|l| !l.allow(chat_id, Instant::now()));
        if over {
            g.throttled += 1;
            Some(Fault::RetryAfter(1))
        } else if g.blocked.contains(&chat_id) {
            Some(Fault::Blocked)
        } else {
            g.faults.get_mut(&chat_id).and_then(VecDeque::pop_front)
        }
    };
    if edit.is_none() {
        match fault {
            Some(Fault::RetryAfter(s)) => {
                return err(
                    429,
                    &format!("Too Many Requests: retry after {s}"),
                    Some(json!({"retry_after": s})),
                );
            }
            Some(Fault::Blocked) => {
                return err(403, "Forbidden: bot was blocked by the user", None);
            }
            Some(Fault::Kicked) => {
                return err(
                    403,
                    "Forbidden: bot was kicked from the supergroup chat",
                    None,
                );
            }
            Some(Fault::ChatNotFound) => return err(400, "Bad Request: chat not found", None),
            Some(Fault::Migrate(to)) => {
                return err(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    Some(json!({"migrate_to_chat_id": to})),
                );
            }
            Some(Fault::ServerError) => return err(500, "Internal Server Error", None),
            Some(Fault::Drop) => std::panic::resume_unwind(Box::new("dropped connection")),
            None => {}
        }
    }
    let Some(chat) = shared.lock().chats.get(&chat_id).cloned() else {
        return err(400, "Bad Request: chat not found", None);
    };
    let text = body["text"].as_str().unwrap_or_default().to_string();
    let parse_mode = body["parse_mode"].as_str().map(str::to_string);
    let visible = match visible_text(&text, parse_mode.as_deref()) {
        Ok(v) => v,
        Err(refused) => return *refused,
    };
    let units = visible.encode_utf16().count();
    if visible.trim().is_empty() {
        return err(400, "Bad Request: message text is empty", None);
    }
    if units > MAX_TEXT_UTF16 {
        return err(
            400,
            if edit.is_some() {
                "Bad Request: MESSAGE_TOO_LONG"
            } else {
                "Bad Request: message is too long"
            },
            None,
        );
    }
    if let Some(markup) = body.get("reply_markup")
        && let Err(e) = check_keyboard(markup)
    {
        return err(400, &format!("Bad Request: {e}"), None);
    }
    let previews_disabled = body["link_preview_options"]["is_disabled"].as_bool() == Some(true)
        || body["disable_web_page_preview"].as_bool() == Some(true);
    let preview_url = body["link_preview_options"]["url"]
        .as_str()
        .map(str::to_string);
    if let Some(u) = &preview_url
        && !(u.starts_with("http://") || u.starts_with("https://"))
    {
        return err(400, "Bad Request: invalid link preview URL", None);
    }
    let preview_above = body["link_preview_options"]["show_above_text"].as_bool() == Some(true);
    let mut g = shared.lock();
    let message_id = match edit {
        Some(id) => id,
        None => {
            g.next_message_id += 1;
            g.next_message_id
        }
    };
    g.sent.push(Sent {
        chat_id,
        message_id,
        text: text.clone(),
        visible: visible.clone(),
        parse_mode,
        reply_markup: body.get("reply_markup").cloned(),
        previews_disabled,
        preview_url,
        preview_above,
        edited: edit.is_some(),
        document: None,
        at: Instant::now(),
    });
    drop(g);
    shared.changed.notify_waiters();
    let mut m = json!({
        "message_id": message_id, "date": now(), "chat": chat, "from": bot_user(), "text": visible
    });
    if let Some(markup) = body.get("reply_markup") {
        m["reply_markup"] = markup.clone();
    }
    ok(m)
}

/// What a person sees of a message text or caption sent with `parse_mode`, or Telegram's
/// refusal of it.
fn visible_text(text: &str, parse_mode: Option<&str>) -> Result<String, Box<Response>> {
    match parse_mode {
        None => Ok(text.to_string()),
        Some("HTML") => parse_html(text).map_err(|e| {
            Box::new(err(
                400,
                &format!("Bad Request: can't parse entities: {e}"),
                None,
            ))
        }),
        Some(other) => Err(Box::new(err(
            400,
            &format!("Bad Request: unsupported parse_mode \"{other}\""),
            None,
        ))),
    }
}

/// sendDocument: the caption is checked like a message text (at most 1,024 characters), the
/// document must be a file part of the form.
fn send_document(shared: &Shared, body: &Value) -> Response {
    let Some(chat_id) = body["chat_id"]
        .as_i64()
        .or_else(|| body["chat_id"].as_str().and_then(|s| s.parse().ok()))
    else {
        return err(400, "Bad Request: chat_id is empty", None);
    };
    // The file is the `document` part, or the part it names as `attach://<name>`.
    let doc = match body["document"]
        .as_str()
        .and_then(|d| d.strip_prefix("attach://"))
    {
        Some(part) => &body[part],
        None => &body["document"],
    };
    let (Some(name), Some(content)) = (doc["filename"].as_str(), doc["content"].as_str()) else {
        return err(
            400,
            "Bad Request: there is no document in the request",
            None,
        );
    };
    if content.is_empty() {
        return err(400, "Bad Request: file must be non-empty", None);
    }
    let caption = body["caption"].as_str().unwrap_or_default();
    let visible = match visible_text(caption, body["parse_mode"].as_str()) {
        Ok(v) => v,
        Err(refused) => return *refused,
    };
    if visible.encode_utf16().count() > 1024 {
        return err(400, "Bad Request: message caption is too long", None);
    }
    let Some(chat) = shared.lock().chats.get(&chat_id).cloned() else {
        return err(400, "Bad Request: chat not found", None);
    };
    let mut g = shared.lock();
    g.next_message_id += 1;
    let message_id = g.next_message_id;
    g.sent.push(Sent {
        chat_id,
        message_id,
        text: caption.to_string(),
        visible: visible.clone(),
        parse_mode: body["parse_mode"].as_str().map(str::to_string),
        reply_markup: None,
        previews_disabled: false,
        preview_url: None,
        preview_above: false,
        edited: false,
        document: Some((name.to_string(), content.as_bytes().to_vec())),
        at: Instant::now(),
    });
    drop(g);
    shared.changed.notify_waiters();
    ok(json!({
        "message_id": message_id, "date": now(), "chat": chat, "from": bot_user(),
        "caption": visible,
        "document": {"file_name": name, "file_id": format!("sent{message_id}"),
            "file_unique_id": format!("u{message_id}"), "file_size": content.len()}
    }))
}

/// getFile: where a file a person sent can be downloaded.
fn get_file(shared: &Shared, body: &Value) -> Response {
    let id = body["file_id"].as_str().unwrap_or_default();
    match shared.lock().files.get(id) {
        Some((_, bytes)) => ok(json!({
            "file_id": id, "file_unique_id": format!("AgAD{id}"), "file_size": bytes.len(),
            "file_path": format!("documents/{id}")
        })),
        None => err(400, "Bad Request: invalid file_id", None),
    }
}

/// `GET /file/bot<token>/<file_path>`: a file's contents. teloxide sends the path as one
/// segment (`documents%2F<id>`), which Telegram takes as well as the plain one.
async fn download(
    State(shared): State<Arc<Shared>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    if bot.strip_prefix("bot") != Some(TOKEN) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(file_id) = path.strip_prefix("documents/") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match shared.lock().files.get(file_id) {
        Some((_, bytes)) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn check_keyboard(markup: &Value) -> Result<(), String> {
    let Some(rows) = markup["inline_keyboard"].as_array() else {
        return Err("can't parse reply keyboard markup JSON object".into());
    };
    for row in rows {
        for b in row
            .as_array()
            .ok_or("field \"inline_keyboard\" must be an Array of Arrays")?
        {
            if b["text"].as_str().is_none_or(str::is_empty) {
                return Err("text buttons are unallowed in the inline keyboard".into());
            }
            if let Some(d) = b.get("callback_data") {
                let d = d.as_str().unwrap_or_default();
                if d.is_empty() || d.len() > 64 {
                    return Err("BUTTON_DATA_INVALID".into());
                }
            } else if b.get("url").is_none() {
                return Err("can't find field \"callback_data\"".into());
            }
        }
    }
    Ok(())
}

fn set_my_commands(body: &Value) -> Response {
    let Some(cmds) = body["commands"].as_array() else {
        return err(400, "Bad Request: parameter \"commands\" is required", None);
    };
    if cmds.len() > 100 {
        return err(400, "Bad Request: too many commands specified", None);
    }
    for c in cmds {
        let name = c["command"].as_str().unwrap_or_default();
        let desc = c["description"].as_str().unwrap_or_default();
        let valid = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return err(400, "Bad Request: BOT_COMMAND_INVALID", None);
        }
        if !(1..=256).contains(&desc.chars().count()) {
            return err(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID", None);
        }
    }
    if let Some(l) = body["language_code"].as_str()
        && !(l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return err(400, "Bad Request: LANG_CODE_INVALID", None);
    }
    ok(json!(true))
}

fn get_chat_member(shared: &Shared, body: &Value) -> Response {
    let (Some(chat_id), Some(user_id)) = (body["chat_id"].as_i64(), body["user_id"].as_i64())
    else {
        return err(400, "Bad Request: chat_id is empty", None);
    };
    let g = shared.lock();
    if !g.chats.contains_key(&chat_id) {
        return err(400, "Bad Request: chat not found", None);
    }
    let status = g
        .members
        .get(&(chat_id, user_id))
        .cloned()
        .unwrap_or_else(|| "member".into());
    let u = user(user_id, None);
    ok(match status.as_str() {
        "creator" => json!({"status": "creator", "user": u, "is_anonymous": false}),
        "administrator" => json!({
            "status": "administrator", "user": u, "can_be_edited": false, "is_anonymous": false,
            "can_manage_chat": true, "can_delete_messages": true, "can_manage_video_chats": true,
            "can_restrict_members": true, "can_promote_members": false, "can_change_info": true,
            "can_invite_users": true, "can_post_stories": false, "can_edit_stories": false,
            "can_delete_stories": false, "can_pin_messages": true, "can_manage_topics": false
        }),
        "left" => json!({"status": "left", "user": u}),
        "kicked" => json!({"status": "kicked", "user": u, "until_date": 0}),
        _ => json!({"status": "member", "user": u}),
    })
}

const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
    "tg-emoji",
];

/// Parses Telegram's HTML parse mode as the Bot API does: supported tags only, properly nested,
/// `<a href="...">` with a quoted URL, only `&lt; &gt; &amp; &quot;` and numeric entities, and
/// no bare `<`, `>` or `&`. Returns the visible text or the error text Telegram gives.
pub fn parse_html(html: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut stack: Vec<&str> = Vec::new();
    let mut i = 0;
    let b = html.as_bytes();
    while i < b.len() {
        match b[i] {
            b'<' => {
                let end = html[i..]
                    .find('>')
                    .map(|e| i + e)
                    .ok_or(format!("Unclosed start tag at byte offset {i}"))?;
                let inner = &html[i + 1..end];
                if let Some(name) = inner.strip_prefix('/') {
                    match stack.pop() {
                        Some(open) if open == name.trim() => {}
                        Some(open) => {
                            return Err(format!(
                                "Can't find end tag corresponding to start tag \"{open}\""
                            ));
                        }
                        None => return Err(format!("Unexpected end tag at byte offset {i}")),
                    }
                } else {
                    let name = inner.split_whitespace().next().unwrap_or("");
                    if !TAGS.contains(&name) {
                        return Err(format!(
                            "Unsupported start tag \"{name}\" at byte offset {i}"
                        ));
                    }
                    let attrs = inner[name.len()..].trim();
                    if name == "a" {
                        let href = attrs
                            .strip_prefix("href=\"")
                            .and_then(|h| h.strip_suffix('"'))
                            .ok_or(format!("Bad <a> tag at byte offset {i}"))?;
                        if href.contains('"') || href.contains('<') || href.contains('>') {
                            return Err(format!("Bad <a> tag at byte offset {i}"));
                        }
                    } else if !attrs.is_empty()
                        && !matches!(name, "span" | "tg-emoji" | "code" | "blockquote")
                    {
                        return Err(format!(
                            "Unexpected attribute in tag \"{name}\" at byte offset {i}"
                        ));
                    }
                    stack.push(name);
                }
                i = end + 1;
            }
            b'&' => {
                let end = html[i..]
                    .find(';')
                    .map(|e| i + e)
                    .filter(|e| e - i <= 10)
                    .ok_or(format!("Character '&' must be escaped at byte offset {i}"))?;
                let ent = &html[i + 1..end];
                let c = match ent {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    _ => ent
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32)
                        .ok_or(format!(
                            "Unsupported HTML entity \"&{ent};\" at byte offset {i}"
                        ))?,
                };
                out.push(c);
                i = end + 1;
            }
            b'>' => return Err(format!("Character '>' must be escaped at byte offset {i}")),
            _ => {
                let c = html[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{open}\""
        ));
    }
    Ok(out)
}

/// Posts one update to a webhook the way Telegram does (JSON, the secret header) and returns the
/// HTTP status (0 when unreachable).
pub async fn post_webhook(url: &str, secret: Option<&str>, update: &Value) -> u16 {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(s) = secret {
        headers.push(("X-Telegram-Bot-Api-Secret-Token", s));
    }
    crate::http::post(url, &headers, update.to_string().as_bytes())
        .await
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_parser_accepts_what_telegram_accepts() {
        assert_eq!(
            parse_html("<b>a &lt;b&gt;</b> <a href=\"https://x.org/?a=1&amp;b\">l</a> &#128512;")
                .unwrap(),
            "a <b> l 😀"
        );
    }

    #[test]
    fn html_parser_refuses_what_telegram_refuses() {
        for bad in [
            "<b>x",
            "<b><i>x</b></i>",
            "<div>x</div>",
            "a < b",
            "a & b",
            "&nbsp;",
            "x</b>",
            "<a href=x>y</a>",
        ] {
            assert!(parse_html(bad).is_err(), "{bad}");
        }
    }
}

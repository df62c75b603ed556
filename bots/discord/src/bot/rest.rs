//! Digests over our own REST call, with the guard that keeps Discord's ban rule (no more
//! requests to a channel that answered 403/404, none during a 429's `retry_after`), and
//! Discord's answers mapped onto the contract's `SendError` and route waits.

use super::*;

#[derive(Default)]
pub(super) struct Guard {
    pub(super) gone: HashSet<u64>,
    pub(super) until: HashMap<u64, Instant>,
    pub(super) global_until: Option<Instant>,
}

impl Guard {
    /// Why a send to `channel` must not be tried now, if it must not.
    pub(super) fn check(&mut self, channel: u64, now: Instant) -> Option<SendError> {
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

    pub(super) fn record(&mut self, channel: u64, err: &SendError, now: Instant) {
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
    pub(super) fn hold(&mut self, channel: u64, until: Instant) {
        self.until.insert(channel, until);
    }
}

impl DiscordBot {
    pub(super) fn guard(&self) -> std::sync::MutexGuard<'_, Guard> {
        self.inner.guard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Posts one message to a channel, unless the guard holds it back; a refusal marks the
    /// channel inactive in the core.
    pub(super) async fn post(&self, channel: u64, m: &Message) -> Result<Sent, SendError> {
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
    pub(super) async fn post_once(&self, channel: u64, m: &Message) -> Result<Sent, SendError> {
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

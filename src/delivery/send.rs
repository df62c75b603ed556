//! The sender: drains one platform's outbox within its rate limits, one message in flight per
//! chat, applying the failure policy per chat so that one bad chat never blocks the others.
//! Every accepted part is recorded in the store (and flushed right behind), so a crash resends
//! at most what was in flight.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use paperbell_chat::{ChatPlatform, ChatRef, Platform, SendError, Sent};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::DeliveryError;
use super::limits::{Limiter, Rates};
use super::policy::{Action, Policy, on_failure};
use crate::clock::Clock;
use crate::compose::{EXTRACTIVE_RECHECK, PaperCache, digest_bytes, digest_message};
use crate::model::delivery::{Counters, OutboxItem, PlannedMessage};
use crate::model::weigh::{ByteCache, Weigh, byte_cache};
use crate::store::{Store, StoreError, chat_ref};

/// How a sender behaves (from `[delivery]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SenderSettings {
    pub rates: Rates,
    pub policy: Policy,
    pub concurrency: usize,
}

pub struct Sender<P: ChatPlatform> {
    pub platform: Arc<P>,
    pub store: Arc<Store>,
    pub settings: SenderSettings,
    pub clock: Clock,
    /// Items (sequence number, chat) planning has just made durable.
    pub incoming: mpsc::UnboundedReceiver<(u64, String)>,
}

struct Queue<Part> {
    items: VecDeque<u64>,
    inflight: bool,
    /// In `ready` or `timers` already.
    scheduled: bool,
    /// The head item's rendered parts, kept between its parts.
    rendered: Option<(u64, Arc<Vec<Part>>)>,
}

impl<Part> Default for Queue<Part> {
    fn default() -> Self {
        Queue {
            items: VecDeque::new(),
            inflight: false,
            scheduled: false,
            rendered: None,
        }
    }
}

/// The end of one send attempt.
struct Done<Part> {
    chat: String,
    seq: u64,
    outcome: Outcome<Part>,
}

enum Outcome<Part> {
    Sent {
        item: OutboxItem,
        parts: Arc<Vec<Part>>,
        sent: Sent,
    },
    Failed {
        item: OutboxItem,
        parts: Option<Arc<Vec<Part>>>,
        error: SendError,
    },
    /// Past the maximum age before it could be sent.
    Expired(OutboxItem),
    /// No longer in the outbox.
    Gone,
    /// The store could not be read.
    Store(String),
}

/// Rendered digests by planned message. A fan-out sends the same message to every chat with
/// the same topics and settings; rendering it once instead of once per chat saved about a
/// fifth of the sender's CPU (profile, BENCHMARKS.md). Entries are rebuilt after `EXTRACTIVE_RECHECK`, so a summary the LLM
/// writes during a long fan-out still reaches the later chats.
struct Rendered<Part> {
    parts: ByteCache<PlannedMessage, RenderedParts<Part>>,
}

/// A message's parts, when they were rendered, and about the bytes they hold.
struct RenderedParts<Part> {
    at: Instant,
    parts: Arc<Vec<Part>>,
    bytes: usize,
}

impl<Part> Clone for RenderedParts<Part> {
    fn clone(&self) -> Self {
        RenderedParts {
            at: self.at,
            parts: self.parts.clone(),
            bytes: self.bytes,
        }
    }
}

impl<Part> Weigh for RenderedParts<Part> {
    fn weigh(&self) -> usize {
        size_of::<Self>() + self.bytes
    }
}

/// Rendered messages of a fan-out (a few KB each).
const RENDERED_BYTES: u64 = 16 << 20;

impl<Part> Default for Rendered<Part> {
    fn default() -> Self {
        Rendered {
            parts: byte_cache(RENDERED_BYTES, 4_096),
        }
    }
}

/// The least time between the starts of two flushes of sent-records (group commit). A crash
/// can forget at most the records of this window and of the flush under way: messages that
/// had reached the platform, so the only duplicates the issue allows (about 25 at 5,000/s).
const GROUP_COMMIT: Duration = Duration::from_millis(5);

impl<Part> Rendered<Part> {
    fn get(&self, m: &PlannedMessage) -> Option<Arc<Vec<Part>>> {
        self.parts
            .get(m)
            .filter(|r| r.at.elapsed() < EXTRACTIVE_RECHECK)
            .map(|r| r.parts.clone())
    }

    /// As `PaperCache::expire`: a rendered message is rendered again after
    /// `EXTRACTIVE_RECHECK` anyway.
    fn expire(&mut self, idle: bool) {
        if idle {
            *self = Rendered::default();
            return;
        }
        self.parts
            .retain(|_, r| r.at.elapsed() < EXTRACTIVE_RECHECK);
    }

    /// Keeps the parts rendered of `m`, which hold about `bytes`.
    fn put(&mut self, m: &PlannedMessage, parts: Arc<Vec<Part>>, bytes: usize) {
        let at = Instant::now();
        self.parts
            .insert(m.clone(), RenderedParts { at, parts, bytes });
    }
}

/// Telegram groups, supergroups and channels have negative ids and a slower limit.
fn is_group(chat: &str) -> bool {
    chat.starts_with("telegram:-")
}

struct Loop<P: ChatPlatform> {
    platform: Arc<P>,
    kind: Platform,
    store: Arc<Store>,
    settings: SenderSettings,
    clock: Clock,
    limiter: Limiter,
    queues: HashMap<String, Queue<P::Part>>,
    ready: VecDeque<String>,
    timers: BinaryHeap<Reverse<(Instant, String)>>,
    counters: Counters,
    cache: Arc<Mutex<PaperCache>>,
    rendered: Arc<Mutex<Rendered<P::Part>>>,
    dirty: Arc<Notify>,
    queued: usize,
}

impl<P: ChatPlatform> Sender<P> {
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), DeliveryError> {
        let kind = self.platform.platform();
        let now = tokio::time::Instant::now().into_std();
        let mut lp = Loop {
            platform: self.platform,
            kind,
            store: self.store.clone(),
            settings: self.settings,
            clock: self.clock,
            limiter: Limiter::new(self.settings.rates, now),
            queues: HashMap::new(),
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            counters: self.store.counters(kind)?,
            cache: Arc::new(Mutex::new(PaperCache::default())),
            rendered: Arc::new(Mutex::new(Rendered::default())),
            dirty: Arc::new(Notify::new()),
            queued: 0,
        };
        for (seq, item) in self.store.outbox(kind)? {
            lp.add(item.chat, seq);
        }
        if lp.queued > 0 {
            tracing::info!(
                platform = kind.as_str(),
                queued = lp.queued,
                "resuming the outbox"
            );
        }
        let flusher = tokio::spawn(flush_behind(
            self.store.clone(),
            lp.dirty.clone(),
            shutdown.clone(),
        ));
        let result = lp.run(self.incoming, &shutdown).await;
        let _ = flusher.await;
        self.store.flush()?;
        result
    }
}

/// Flushes the store whenever a send was recorded: sled keeps writes in memory until a flush,
/// and a crash must not forget that a message went out (it would go out again).
///
/// Flushes start at most every [`GROUP_COMMIT`]: records made meanwhile go to disk together,
/// and a quiet chat's record still goes out at once. Flushing back to back ran ~870 flushes a
/// second at 5,000 messages a second in the fan-out bench, each a write, a sync_file_range
/// and two hand-offs to sled's I/O threads: 195 against 176 us of CPU per message.
async fn flush_behind(store: Arc<Store>, dirty: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = dirty.notified() => {}
        }
        let started = tokio::time::Instant::now();
        if let Err(e) = store.flush_async().await {
            tracing::error!(error = %e, "cannot flush the store");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep_until(started + GROUP_COMMIT) => {}
        }
    }
}

impl<P: ChatPlatform> Loop<P> {
    fn add(&mut self, chat: String, seq: u64) {
        let q = self.queues.entry(chat.clone()).or_default();
        q.items.push_back(seq);
        self.queued += 1;
        self.schedule(&chat, tokio::time::Instant::now().into_std());
    }

    /// Puts a chat with work into `ready` (or `timers`, until its limits allow).
    fn schedule(&mut self, chat: &str, now: Instant) {
        let Some(q) = self.queues.get_mut(chat) else {
            return;
        };
        if q.scheduled || q.inflight {
            return;
        }
        if q.items.is_empty() {
            self.queues.remove(chat);
            return;
        }
        q.scheduled = true;
        let at = self.limiter.chat_ready_at(chat, is_group(chat), now);
        if at <= now {
            self.ready.push_back(chat.to_string());
        } else {
            self.timers.push(Reverse((at, chat.to_string())));
        }
    }

    async fn run(
        &mut self,
        mut incoming: mpsc::UnboundedReceiver<(u64, String)>,
        shutdown: &CancellationToken,
    ) -> Result<(), DeliveryError> {
        let mut inflight: JoinSet<Done<P::Part>> = JoinSet::new();
        let mut housekeeping = tokio::time::interval(Duration::from_secs(60));
        let mut last_logged = self.counters;
        let mut open = true;
        loop {
            let now = tokio::time::Instant::now().into_std();
            while let Some(Reverse((at, _))) = self.timers.peek() {
                if *at > now {
                    break;
                }
                let Some(Reverse((_, chat))) = self.timers.pop() else {
                    break;
                };
                self.ready.push_back(chat);
            }
            while inflight.len() < self.settings.concurrency && !self.ready.is_empty() {
                if self.limiter.global_ready_at(now) > now {
                    break;
                }
                let Some(chat) = self.ready.pop_front() else {
                    break;
                };
                let Some(q) = self.queues.get_mut(&chat) else {
                    continue;
                };
                q.scheduled = false;
                let Some(&seq) = q.items.front() else {
                    self.queues.remove(&chat);
                    continue;
                };
                if q.inflight {
                    continue;
                }
                let group = is_group(&chat);
                if self.limiter.chat_ready_at(&chat, group, now) > now {
                    self.schedule(&chat, now);
                    continue;
                }
                self.limiter.take(&chat, group, now);
                let q = self.queues.get_mut(&chat).expect("present");
                q.inflight = true;
                let parts = q
                    .rendered
                    .as_ref()
                    .filter(|(s, _)| *s == seq)
                    .map(|(_, p)| p.clone());
                inflight.spawn(attempt(
                    self.platform.clone(),
                    self.store.clone(),
                    self.cache.clone(),
                    self.rendered.clone(),
                    self.clock.clone(),
                    self.settings.policy.max_age,
                    chat,
                    seq,
                    parts,
                ));
            }
            let mut wake = self.timers.peek().map(|Reverse((at, _))| *at);
            if !self.ready.is_empty() && inflight.len() < self.settings.concurrency {
                let g = self.limiter.global_ready_at(now);
                wake = Some(wake.map_or(g, |w| w.min(g)));
            }
            let sleep = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(done) = inflight.join_next() => match done {
                    Ok(done) => self.finish(done)?,
                    Err(e) => tracing::error!(error = %e, "a send task failed"),
                },
                new = incoming.recv(), if open => match new {
                    Some((seq, chat)) => self.add(chat, seq),
                    None => open = false,
                },
                _ = housekeeping.tick() => {
                    self.limiter.forget_idle(now);
                    let idle = self.queued == 0 && inflight.is_empty();
                    let at = tokio::time::Instant::now();
                    self.cache.lock().unwrap_or_else(|e| e.into_inner()).expire(at, idle);
                    self.rendered.lock().unwrap_or_else(|e| e.into_inner()).expire(idle);
                    if self.counters != last_logged {
                        last_logged = self.counters;
                        self.log_status();
                    }
                }
                _ = sleep => {}
            }
        }
        // Finish what is in flight, so that it is recorded and not sent again after restart.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !inflight.is_empty() {
            match tokio::time::timeout_at(deadline, inflight.join_next()).await {
                Ok(Some(Ok(done))) => self.finish(done)?,
                Ok(Some(Err(e))) => tracing::error!(error = %e, "a send task failed"),
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        in_flight = inflight.len(),
                        "sends still in flight at shutdown are left to the outbox"
                    );
                    break;
                }
            }
        }
        self.log_status();
        Ok(())
    }

    fn log_status(&self) {
        let c = self.counters;
        tracing::info!(
            platform = self.kind.as_str(),
            queued = self.queued,
            sent = c.sent,
            retried = c.retried,
            dropped = c.dropped,
            deactivated = c.deactivated,
            "delivery"
        );
    }

    fn record(
        &mut self,
        changes: &[(u64, Option<&OutboxItem>)],
        delivered: bool,
    ) -> Result<(), StoreError> {
        let at = delivered.then(|| self.clock.now());
        self.store
            .outbox_update(self.kind, changes, &self.counters, at)?;
        self.dirty.notify_one();
        Ok(())
    }

    /// Takes the head item off a chat's queue.
    fn pop(&mut self, chat: &str, seq: u64) {
        if let Some(q) = self.queues.get_mut(chat)
            && q.items.front() == Some(&seq)
        {
            q.items.pop_front();
            q.rendered = None;
            self.queued -= 1;
        }
    }

    fn finish(&mut self, done: Done<P::Part>) -> Result<(), StoreError> {
        let now = tokio::time::Instant::now().into_std();
        let Done { chat, seq, outcome } = done;
        if let Some(q) = self.queues.get_mut(&chat) {
            q.inflight = false;
        }
        let group = is_group(&chat);
        match outcome {
            Outcome::Gone => self.pop(&chat, seq),
            Outcome::Store(e) => {
                tracing::error!(%chat, error = %e, "cannot read or prepare a digest; retrying in a minute");
                self.limiter
                    .hold(&chat, group, now + Duration::from_secs(60));
            }
            Outcome::Sent {
                mut item,
                parts,
                sent,
            } => {
                item.parts_done += 1;
                if item.parts_done as usize >= parts.len() {
                    self.counters.sent += 1;
                    self.record(&[(seq, None)], true)?;
                    self.pop(&chat, seq);
                } else {
                    self.record(&[(seq, Some(&item))], true)?;
                    if let Some(q) = self.queues.get_mut(&chat) {
                        q.rendered = Some((seq, parts));
                    }
                }
                if let Some(w) = sent.route_wait {
                    self.limiter.hold(&chat, group, now + w);
                }
            }
            Outcome::Expired(item) => {
                tracing::warn!(%chat, local_day = %item.local_day, "dropping a digest older than the maximum age");
                self.counters.dropped += 1;
                self.record(&[(seq, None)], false)?;
                self.pop(&chat, seq);
            }
            Outcome::Failed { item, parts, error } => {
                if let Some((q, p)) = self.queues.get_mut(&chat).zip(parts) {
                    q.rendered = Some((seq, p));
                }
                let attempts = item.attempts + 1;
                let age = (self.clock.now().timestamp() - item.planned_at).max(0) as u64;
                let jitter: f64 = rand::random();
                let action = on_failure(
                    &self.settings.policy,
                    &error,
                    attempts,
                    Duration::from_secs(age),
                    jitter,
                );
                self.act(&chat, seq, item, attempts, action, now)?;
            }
        }
        self.schedule(&chat, now);
        Ok(())
    }

    fn act(
        &mut self,
        chat: &str,
        seq: u64,
        mut item: OutboxItem,
        attempts: u32,
        action: Action,
        now: Instant,
    ) -> Result<(), StoreError> {
        let group = is_group(chat);
        match action {
            Action::HoldChat(d) => {
                tracing::info!(%chat, wait = ?d, "rate limited: holding this chat");
                self.counters.retried += 1;
                self.limiter.hold(chat, group, now + d);
                self.record(&[], false)?;
            }
            Action::HoldAll(d) => {
                tracing::warn!(platform = self.kind.as_str(), wait = ?d, "rate limited globally: holding every send");
                self.counters.retried += 1;
                self.limiter.hold_all(now + d);
                self.record(&[], false)?;
            }
            Action::Backoff(d) => {
                tracing::info!(%chat, attempts, wait = ?d, "send failed; retrying later");
                self.counters.retried += 1;
                item.attempts = attempts;
                self.limiter.hold(chat, group, now + d);
                self.record(&[(seq, Some(&item))], false)?;
            }
            Action::Drop(why) => {
                tracing::warn!(%chat, why, "dropping a digest message");
                self.counters.dropped += 1;
                self.record(&[(seq, None)], false)?;
                self.pop(chat, seq);
            }
            Action::Deactivate(why) => {
                let Some(q) = self.queues.remove(chat) else {
                    return Ok(());
                };
                let n = q.items.len();
                self.queued -= n;
                tracing::warn!(%chat, why, dropped = n, "the chat refuses the bot: marked inactive");
                if let Some(c) = chat_ref(chat) {
                    self.store.set_active(&c, false)?;
                }
                self.counters.deactivated += 1;
                self.counters.dropped += n as u64;
                let changes: Vec<(u64, Option<&OutboxItem>)> =
                    q.items.iter().map(|s| (*s, None)).collect();
                self.record(&changes, false)?;
            }
            Action::Move(to) => {
                let (Some(from), Some(q)) = (chat_ref(chat), self.queues.remove(chat)) else {
                    return Ok(());
                };
                let to = ChatRef {
                    platform: from.platform,
                    id: to,
                };
                tracing::info!(%from, %to, "the chat moved; following it");
                self.store.migrate_chat(&from, &to)?;
                self.counters.retried += 1;
                self.record(&[], false)?;
                let key = to.to_string();
                let target = self.queues.entry(key.clone()).or_default();
                let mut items = q.items;
                items.extend(target.items.drain(..));
                target.items = items;
                target.rendered = q.rendered;
                self.schedule(&key, now);
            }
        }
        Ok(())
    }
}

/// One send: reads the item, renders it (unless its parts are at hand), sends the next part.
#[allow(clippy::too_many_arguments)]
async fn attempt<P: ChatPlatform>(
    platform: Arc<P>,
    store: Arc<Store>,
    cache: Arc<Mutex<PaperCache>>,
    rendered: Arc<Mutex<Rendered<P::Part>>>,
    clock: Clock,
    max_age: Duration,
    chat: String,
    seq: u64,
    parts: Option<Arc<Vec<P::Part>>>,
) -> Done<P::Part> {
    let outcome = send_next(
        &*platform, &store, &cache, &rendered, &clock, max_age, &chat, seq, parts,
    )
    .await;
    Done { chat, seq, outcome }
}

#[allow(clippy::too_many_arguments)]
async fn send_next<P: ChatPlatform>(
    platform: &P,
    store: &Store,
    cache: &Mutex<PaperCache>,
    rendered: &Mutex<Rendered<P::Part>>,
    clock: &Clock,
    max_age: Duration,
    chat: &str,
    seq: u64,
    parts: Option<Arc<Vec<P::Part>>>,
) -> Outcome<P::Part> {
    let item = match store.outbox_item(platform.platform(), seq) {
        Ok(Some(item)) => item,
        Ok(None) => return Outcome::Gone,
        Err(e) => return Outcome::Store(e.to_string()),
    };
    if clock.now().timestamp() - item.planned_at > max_age.as_secs() as i64 {
        return Outcome::Expired(item);
    }
    let Some(target) = chat_ref(chat) else {
        return Outcome::Failed {
            error: SendError::Rejected(format!("bad chat {chat}")),
            item,
            parts: None,
        };
    };
    let lock = || rendered.lock().unwrap_or_else(|e| e.into_inner());
    let parts = match parts.or_else(|| lock().get(&item.message)) {
        Some(p) => p,
        None => match digest_message(store, &item, cache) {
            Ok(m) => {
                let p = Arc::new(platform.render(&m));
                lock().put(&item.message, p.clone(), digest_bytes(&m));
                p
            }
            Err(e) => return Outcome::Store(e.to_string()),
        },
    };
    match parts.get(item.parts_done as usize) {
        Some(part) => match platform.send_part(&target, part).await {
            Ok(sent) => Outcome::Sent { item, parts, sent },
            Err(error) => Outcome::Failed {
                item,
                parts: Some(parts),
                error,
            },
        },
        // Nothing left to send (a re-render came out shorter): the item is complete.
        None => Outcome::Sent {
            item,
            parts,
            sent: Sent::default(),
        },
    }
}

#[cfg(test)]
mod rendered_tests {
    use super::*;

    fn message(title: &str) -> PlannedMessage {
        PlannedMessage {
            title: title.into(),
            day: "2026-12-06".into(),
            papers: vec![],
            more: 0,
            unsubscribe_topic: None,
            lang: "en".into(),
            compact: false,
            overview: None,
        }
    }

    #[test]
    fn a_fan_outs_rendered_messages_go_when_stale_and_all_go_when_idle() {
        let mut r = Rendered::<u8>::default();
        r.put(&message("new"), Arc::new(vec![1]), 10);
        let stale = Instant::now()
            .checked_sub(EXTRACTIVE_RECHECK + Duration::from_secs(1))
            .expect("the clock is past a minute");
        r.parts.insert(
            message("old"),
            RenderedParts {
                at: stale,
                parts: Arc::new(vec![2]),
                bytes: 10,
            },
        );
        r.expire(false);
        assert!(r.get(&message("new")).is_some());
        assert!(!r.parts.contains_key(&message("old")));
        r.expire(true);
        assert!(r.parts.is_empty());
    }

    #[test]
    fn rendered_messages_keep_within_their_bytes() {
        let mut r = Rendered::<u8>::default();
        for i in 0..10_000 {
            r.put(&message(&format!("m{i}")), Arc::new(vec![1]), 4_000);
        }
        assert!(r.parts.weight() <= RENDERED_BYTES, "{}", r.parts.weight());
        assert!(r.get(&message("m9999")).is_some());
    }
}

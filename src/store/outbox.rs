//! Durable delivery records: the outbox of planned digest messages, the ledger of (chat, paper)
//! planned, each chat's delivery state ("one digest per local day"), and the delivery counters.
//!
//! Planning writes a chat's outbox items, its ledger entry and its new state in one sled batch,
//! so a crash leaves either the whole plan or none of it; the sender removes an item (or records
//! its progress) together with the counters, again in one batch.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use paperbell_chat::{ChatRef, Platform};
use serde::{Deserialize, Serialize};

use super::codec::{self, day_key, decode, encode};
use super::{ChatRecord, Result, Store, chat_key, key};

/// A chat's delivery bookkeeping, written only by planning (and moved by a migration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryState {
    /// The chat's local day of its last planned digest: never two on one local day.
    pub last_day: Option<NaiveDate>,
    /// The newest announcement day planning has looked at for this chat: later plans start
    /// after it, so nothing is planned twice and a chat with nothing new costs one read.
    pub covered: Option<NaiveDate>,
}

/// A digest message as planned: paper ids, not texts (texts are built when it is sent, from
/// the store), so that a 100k-chat outbox stays small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedMessage {
    pub title: String,
    /// The announcement day(s) it covers, as shown.
    pub day: String,
    /// Paper ids, each with the names of the chat's topics it matched.
    pub papers: Vec<(String, Vec<String>)>,
    /// Papers left out by the chat's `max`.
    pub more: u32,
    pub unsubscribe_topic: Option<String>,
    pub lang: String,
    pub compact: bool,
    /// The overview line (counts and keywords), worked out when planned.
    pub overview: Option<String>,
}

/// Outbox items as version 1 wrote them (no overview).
#[derive(Deserialize)]
struct OutboxItemV1 {
    chat: String,
    local_day: NaiveDate,
    message: PlannedMessageV1,
    parts_done: u32,
    attempts: u32,
    planned_at: i64,
}

#[derive(Deserialize)]
struct PlannedMessageV1 {
    title: String,
    day: String,
    papers: Vec<(String, Vec<String>)>,
    more: u32,
    unsubscribe_topic: Option<String>,
    lang: String,
    compact: bool,
}

/// An outbox item of either version.
fn decode_item(v: &[u8]) -> Result<OutboxItem> {
    if v.first() == Some(&codec::OUTBOX_V1) {
        let o: OutboxItemV1 = decode(codec::OUTBOX_V1, "outbox item", v)?;
        let m = o.message;
        return Ok(OutboxItem {
            chat: o.chat,
            local_day: o.local_day,
            message: PlannedMessage {
                title: m.title,
                day: m.day,
                papers: m.papers,
                more: m.more,
                unsubscribe_topic: m.unsubscribe_topic,
                lang: m.lang,
                compact: m.compact,
                overview: None,
            },
            parts_done: o.parts_done,
            attempts: o.attempts,
            planned_at: o.planned_at,
        });
    }
    decode(codec::OUTBOX_V2, "outbox item", v)
}

/// One message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// `platform:id`.
    pub chat: String,
    pub local_day: NaiveDate,
    pub message: PlannedMessage,
    /// Platform messages of this digest already accepted (a long digest takes several).
    pub parts_done: u32,
    /// Transient failures so far.
    pub attempts: u32,
    /// When it was planned (unix seconds): items older than the maximum age are dropped.
    pub planned_at: i64,
}

/// Everything planning decided for one chat, written atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPlan {
    pub chat: ChatRef,
    pub state: DeliveryState,
    /// Paper ids planned (the ledger entry, keyed by the local day); empty when none.
    pub ledger: Vec<String>,
    pub items: Vec<OutboxItem>,
}

/// Delivery counters of one platform, since the store was created. `planned` is kept by
/// planning, the rest by the sender, under separate keys so neither overwrites the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub planned: u64,
    pub sent: u64,
    pub retried: u64,
    pub dropped: u64,
    pub deactivated: u64,
}

const COUNTERS_V1: u8 = 1;

fn counters_key(p: Platform) -> Vec<u8> {
    key(b'm', &[format!("counters.{}", p.as_str()).as_bytes()])
}

fn planned_key(p: Platform) -> Vec<u8> {
    key(
        b'm',
        &[format!("counters_planned.{}", p.as_str()).as_bytes()],
    )
}

fn delivered_key(p: Platform) -> Vec<u8> {
    key(b'm', &[format!("last_delivery.{}", p.as_str()).as_bytes()])
}

fn outbox_key(p: Platform, seq: u64) -> Vec<u8> {
    let mut k = key(b'o', &[p.as_str().as_bytes(), b""]);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn outbox_prefix(p: Platform) -> Vec<u8> {
    key(b'o', &[p.as_str().as_bytes(), b""])
}

fn ledger_key(c: &ChatRef, day: NaiveDate) -> Vec<u8> {
    let mut k = key(b'l', &[chat_key(c).as_bytes(), b""]);
    k.extend_from_slice(&day_key(day));
    k
}

fn state_key(c: &ChatRef) -> Vec<u8> {
    key(b'D', &[chat_key(c).as_bytes()])
}

/// Parses `platform:id`.
pub fn chat_ref(s: &str) -> Option<ChatRef> {
    let (p, id) = s.split_once(':')?;
    Some(ChatRef {
        platform: Platform::parse(p)?,
        id: id.to_string(),
    })
}

impl Store {
    /// Every known chat.
    pub fn chats(&self) -> Result<Vec<ChatRecord>> {
        self.db
            .scan_prefix([b'h'])
            .map(|item| decode(codec::CHAT_V1, "chat", &item?.1))
            .collect()
    }

    pub fn delivery_state(&self, c: &ChatRef) -> Result<DeliveryState> {
        match self.db.get(state_key(c))? {
            Some(v) => decode(codec::DELIVERY_STATE_V1, "delivery state", &v),
            None => Ok(DeliveryState::default()),
        }
    }

    /// Which of `ids` were planned for the chat on local day `from` or later.
    pub fn ledger_contains(
        &self,
        c: &ChatRef,
        from: NaiveDate,
        ids: &HashSet<&str>,
    ) -> Result<HashSet<String>> {
        let mut end = key(b'l', &[chat_key(c).as_bytes(), b""]);
        end.push(0xff);
        let mut found = HashSet::new();
        for item in self.db.range(ledger_key(c, from)..end) {
            let (_, v) = item?;
            let list: Vec<String> = decode(codec::LIST_V1, "ledger", &v)?;
            found.extend(list.into_iter().filter(|id| ids.contains(id.as_str())));
        }
        Ok(found)
    }

    /// Writes plans (outbox items, ledger entries, states) and each platform's running total
    /// of planned messages in one atomic batch; returns the new outbox items with their
    /// sequence numbers and chats. Not durable until `flush`.
    pub fn commit_plans(
        &self,
        plans: &[ChatPlan],
        planned: &[(Platform, u64)],
    ) -> Result<Vec<(Platform, u64, String)>> {
        let mut batch = sled::Batch::default();
        let mut out = Vec::new();
        for plan in plans {
            batch.insert(
                state_key(&plan.chat),
                encode(codec::DELIVERY_STATE_V1, &plan.state)?,
            );
            if let (false, Some(day)) = (plan.ledger.is_empty(), plan.state.last_day) {
                batch.insert(
                    ledger_key(&plan.chat, day),
                    encode(codec::LIST_V1, &plan.ledger)?,
                );
            }
            for item in &plan.items {
                let seq = self.db.generate_id()?;
                batch.insert(
                    outbox_key(plan.chat.platform, seq),
                    encode(codec::OUTBOX_V2, item)?,
                );
                out.push((plan.chat.platform, seq, item.chat.clone()));
            }
        }
        for (p, n) in planned {
            batch.insert(planned_key(*p), &n.to_be_bytes());
        }
        self.db.apply_batch(batch)?;
        Ok(out)
    }

    /// A platform's outbox, oldest first.
    pub fn outbox(&self, p: Platform) -> Result<Vec<(u64, OutboxItem)>> {
        let prefix = outbox_prefix(p);
        let mut out = Vec::new();
        for item in self.db.scan_prefix(&prefix) {
            let (k, v) = item?;
            let seq = k
                .get(prefix.len()..)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| super::StoreError::Corrupt("outbox key".into()))?;
            out.push((seq, decode_item(&v)?));
        }
        Ok(out)
    }

    pub fn outbox_len(&self, p: Platform) -> usize {
        self.db.scan_prefix(outbox_prefix(p)).count()
    }

    /// Records what became of outbox items: each is replaced (progress) or removed (`None`),
    /// together with the platform's counters and, after a send, the delivery time.
    pub fn outbox_update(
        &self,
        p: Platform,
        changes: &[(u64, Option<&OutboxItem>)],
        counters: &Counters,
        delivered_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (seq, item) in changes {
            match item {
                Some(item) => batch.insert(outbox_key(p, *seq), encode(codec::OUTBOX_V2, *item)?),
                None => batch.remove(outbox_key(p, *seq)),
            }
        }
        batch.insert(counters_key(p), encode(COUNTERS_V1, counters)?);
        if let Some(t) = delivered_at {
            batch.insert(delivered_key(p), t.to_rfc3339().as_bytes());
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }

    /// The platform's counters: the sender's, with planning's total of planned messages.
    pub fn counters(&self, p: Platform) -> Result<Counters> {
        let mut c: Counters = match self.db.get(counters_key(p))? {
            Some(v) => decode(COUNTERS_V1, "counters", &v)?,
            None => Counters::default(),
        };
        c.planned = self
            .db
            .get(planned_key(p))?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u64::from_be_bytes);
        Ok(c)
    }

    pub fn outbox_item(&self, p: Platform, seq: u64) -> Result<Option<OutboxItem>> {
        match self.db.get(outbox_key(p, seq))? {
            Some(v) => Ok(Some(decode_item(&v)?)),
            None => Ok(None),
        }
    }

    pub fn last_delivery(&self, p: Platform) -> Result<Option<String>> {
        Ok(self
            .db
            .get(delivered_key(p))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Forgets ledger entries of local days before `before`; returns how many lists went.
    pub fn prune_ledger(&self, before: NaiveDate) -> Result<usize> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in self.db.scan_prefix([b'l']) {
            let (k, _) = item?;
            if super::list_day(&k).is_some_and(|d| d < before) {
                batch.remove(k);
                n += 1;
            }
        }
        self.db.apply_batch(batch)?;
        Ok(n)
    }

    /// The delivery records of `from` as a batch that moves them to `to` (used by
    /// `migrate_chat`): state, ledger entries, and pending outbox items.
    pub(super) fn move_delivery(
        &self,
        from: &ChatRef,
        to: &ChatRef,
        batch: &mut sled::Batch,
    ) -> Result<()> {
        if let Some(v) = self.db.get(state_key(from))? {
            batch.remove(state_key(from));
            if !self.db.contains_key(state_key(to))? {
                batch.insert(state_key(to), v);
            }
        }
        let prefix = key(b'l', &[chat_key(from).as_bytes(), b""]);
        for item in self.db.scan_prefix(&prefix) {
            let (k, v) = item?;
            batch.remove(k.clone());
            if let Some(day) = super::list_day(&k) {
                batch.insert(ledger_key(to, day), v);
            }
        }
        let (fk, tk) = (chat_key(from), chat_key(to));
        for (seq, mut item) in self.outbox(from.platform)? {
            if item.chat == fk {
                item.chat = tk.clone();
                batch.insert(
                    outbox_key(from.platform, seq),
                    encode(codec::OUTBOX_V2, &item)?,
                );
            }
        }
        Ok(())
    }
}

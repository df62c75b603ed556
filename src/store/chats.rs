//! Chats and their subscriptions in sled: chat records (`h`), one subscriptions record per
//! chat (`u`) with the reverse index by topic (`S`), the one-pass subscription scan planning
//! reads, and the conversions of older chat and subscription records.

use std::collections::BTreeMap;
use std::sync::Arc;

use paperbell_chat::{ChatRef, Platform};

use super::codec::{self, decode, encode};
use super::{Result, Store, chat_key, chat_ref, key};
use crate::model::chat::{ChatRecord, Subscription};

pub(super) fn subs_key(chat: &str) -> Vec<u8> {
    key(b'u', &[chat.as_bytes()])
}

pub(super) fn encode_subs(subs: &[Subscription]) -> Result<Vec<u8>> {
    let records: Vec<codec::SubscriptionRecord> = subs.iter().map(Into::into).collect();
    encode(codec::SUBS_V1, &records)
}

fn decode_subs(v: &[u8]) -> Result<Vec<Subscription>> {
    let records: Vec<codec::SubscriptionRecord> = decode(codec::SUBS_V1, "subscriptions", v)?;
    Ok(records.into_iter().map(Into::into).collect())
}

pub(super) fn encode_chat(chat: &ChatRecord) -> Result<Vec<u8>> {
    encode(codec::CHAT_V2, &codec::ChatRecordV2::from(chat))
}

/// A chat record, and the settings it held that no longer parse (left at their defaults).
pub(super) fn decode_chat(v: &[u8]) -> Result<(ChatRecord, Vec<(&'static str, String)>)> {
    Ok(codec::ChatRecordV2::decode(v)?.into_record())
}

impl Store {
    /// Every known chat, in key order.
    pub fn chats(&self) -> Result<Vec<ChatRecord>> {
        self.db
            .scan_prefix([b'h'])
            .map(|item| Ok(decode_chat(&item?.1)?.0))
            .collect()
    }

    pub fn put_chat(&self, chat: &ChatRecord) -> Result<()> {
        let c = ChatRef {
            platform: Platform::parse(&chat.platform).unwrap_or(Platform::Telegram),
            id: chat.id.clone(),
        };
        self.db
            .insert(key(b'h', &[chat_key(&c).as_bytes()]), encode_chat(chat)?)?;
        self.changed();
        Ok(())
    }

    pub fn chat(&self, c: &ChatRef) -> Result<Option<ChatRecord>> {
        match self.db.get(key(b'h', &[chat_key(c).as_bytes()]))? {
            Some(v) => Ok(Some(decode_chat(&v)?.0)),
            None => Ok(None),
        }
    }

    /// Subscribes a chat (creating its record if new). Returns false if it already was.
    pub fn subscribe(&self, c: &ChatRef, sub: &Subscription) -> Result<bool> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let ck = chat_key(c);
        let mut subs = self.subscriptions(c)?;
        let Err(i) = subs.binary_search_by(|s| s.topic_id.cmp(&sub.topic_id)) else {
            return Ok(false);
        };
        subs.insert(i, sub.clone());
        let mut batch = sled::Batch::default();
        let mut chat = self.chat(c)?.unwrap_or_else(|| ChatRecord::new(c));
        chat.active = true;
        batch.insert(key(b'h', &[ck.as_bytes()]), encode_chat(&chat)?);
        batch.insert(subs_key(&ck), encode_subs(&subs)?);
        batch.insert(key(b'S', &[sub.topic_id.as_bytes(), ck.as_bytes()]), &[]);
        self.db.apply_batch(batch)?;
        self.changed();
        Ok(true)
    }

    /// Returns false if the chat was not subscribed.
    pub fn unsubscribe(&self, c: &ChatRef, topic_id: &str) -> Result<bool> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let ck = chat_key(c);
        let mut subs = self.subscriptions(c)?;
        let Ok(i) = subs.binary_search_by(|s| s.topic_id.as_str().cmp(topic_id)) else {
            return Ok(false);
        };
        subs.remove(i);
        let mut batch = sled::Batch::default();
        if subs.is_empty() {
            batch.remove(subs_key(&ck));
        } else {
            batch.insert(subs_key(&ck), encode_subs(&subs)?);
        }
        batch.remove(key(b'S', &[topic_id.as_bytes(), ck.as_bytes()]));
        self.db.apply_batch(batch)?;
        self.changed();
        Ok(true)
    }

    /// Marks a chat active or not (the platform refused it); subscriptions stay either way.
    /// Returns false when the chat is unknown.
    pub fn set_active(&self, c: &ChatRef, active: bool) -> Result<bool> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        match self.chat(c)? {
            Some(mut rec) if rec.active != active => {
                rec.active = active;
                self.put_chat(&rec)?;
                Ok(true)
            }
            Some(_) => Ok(true),
            None => Ok(false),
        }
    }

    /// Moves a chat to a new id with its settings, subscriptions, delivery state, ledger and
    /// pending outbox items, in one atomic batch (a Telegram group that became a supergroup).
    /// Subscriptions the target already has win.
    /// Returns false when there was nothing to move.
    pub fn migrate_chat(&self, from: &ChatRef, to: &ChatRef) -> Result<bool> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mut rec) = self.chat(from)? else {
            return Ok(false);
        };
        let (fk, tk) = (chat_key(from), chat_key(to));
        let mut batch = sled::Batch::default();
        batch.remove(key(b'h', &[fk.as_bytes()]));
        rec.id = to.id.clone();
        rec.platform = to.platform.as_str().to_string();
        rec.active = true;
        if self.chat(to)?.is_none() {
            batch.insert(key(b'h', &[tk.as_bytes()]), encode_chat(&rec)?);
        }
        let mut target = self.subscriptions(to)?;
        for sub in self.subscriptions(from)? {
            let topic = sub.topic_id.as_bytes();
            batch.remove(key(b'S', &[topic, fk.as_bytes()]));
            if let Err(i) = target.binary_search_by(|s| s.topic_id.cmp(&sub.topic_id)) {
                batch.insert(key(b'S', &[topic, tk.as_bytes()]), &[]);
                target.insert(i, sub);
            }
        }
        batch.remove(subs_key(&fk));
        if !target.is_empty() {
            batch.insert(subs_key(&tk), encode_subs(&target)?);
        }
        self.move_delivery(from, to, &mut batch)?;
        self.db.apply_batch(batch)?;
        self.changed();
        Ok(true)
    }

    /// A chat's subscriptions, by topic id.
    pub fn subscriptions(&self, c: &ChatRef) -> Result<Vec<Subscription>> {
        match self.db.get(subs_key(&chat_key(c)))? {
            Some(v) => decode_subs(&v),
            None => Ok(Vec::new()),
        }
    }

    /// Every chat's subscriptions in one pass, for planning: ask `SubscriptionScan::of` for
    /// chats in the order `chats` returns them. One sequential scan instead of a lookup per
    /// chat, which at 100k chats was most of planning's time. The records are read here (not
    /// decoded: sled hands out shared buffers), so planning can read them on one thread while
    /// it reads the chats on another.
    pub fn subscription_scan(&self) -> Result<SubscriptionScan> {
        let records = self
            .db
            .scan_prefix([b'u'])
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(SubscriptionScan::new(records.into()))
    }

    /// Converts stores written before subscription records (a `s chat 0 topic` key per
    /// subscription) to one record per chat, in one batch. Does nothing on a current store.
    pub(super) fn upgrade_subscriptions(&self) -> Result<()> {
        if self.db.scan_prefix([b's']).next().is_none() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        let mut chats: BTreeMap<Vec<u8>, Vec<Subscription>> = BTreeMap::new();
        for item in self.db.scan_prefix([b's']) {
            let (k, v) = item?;
            let rest = &k[1..];
            let chat = &rest[..rest.iter().position(|b| *b == 0).unwrap_or(rest.len())];
            let sub: codec::SubscriptionV1 = decode(codec::SUB_V1, "subscription", &v)?;
            chats.entry(chat.to_vec()).or_default().push(sub.into());
            batch.remove(k);
        }
        for (chat, subs) in chats {
            batch.insert(key(b'u', &[&chat]), encode_subs(&subs)?);
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Every topic id some chat subscribes to, in key order (from the reverse index `S`).
    pub fn subscribed_topics(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for item in self.db.scan_prefix([b'S']) {
            let (k, _) = item?;
            let rest = &k[1..];
            let topic = &rest[..rest.iter().position(|b| *b == 0).unwrap_or(rest.len())];
            if out.last().is_none_or(|t| t.as_bytes() != topic) {
                out.push(String::from_utf8_lossy(topic).into_owned());
            }
        }
        Ok(out)
    }

    pub fn subscribers(&self, topic_id: &str) -> Result<Vec<ChatRef>> {
        let prefix = key(b'S', &[topic_id.as_bytes(), b""]);
        let mut out = Vec::new();
        for item in self.db.scan_prefix(&prefix) {
            let (k, _) = item?;
            if let Some(c) = chat_ref(&String::from_utf8_lossy(&k[prefix.len()..])) {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Rewrites chat records holding a setting that no longer parses (a zone a newer tz
    /// database renamed, a hand-edited store), once, with a log line for each: from then on
    /// the setting is the default, as it already was in effect. Runs once per paperbell
    /// version (what can stop parsing comes with an upgrade), not at every start: reading
    /// every chat record would cost a large store its start-up time and page cache.
    pub(super) fn migrate_chat_settings(&self) -> Result<usize> {
        const CHECKED: &str = "chat_settings_checked";
        let version = env!("CARGO_PKG_VERSION");
        if self.meta(CHECKED)?.as_deref() == Some(version) {
            return Ok(0);
        }
        let mut batch = sled::Batch::default();
        let mut fixed = 0;
        for item in self.db.scan_prefix([b'h']) {
            let (k, v) = item?;
            let (record, bad) = decode_chat(&v)?;
            if bad.is_empty() {
                continue;
            }
            for (setting, value) in &bad {
                tracing::warn!(
                    chat = %String::from_utf8_lossy(&k[1..]),
                    setting,
                    value = %value,
                    "a stored setting no longer parses; the chat now uses the default"
                );
            }
            batch.insert(k, encode_chat(&record)?);
            fixed += 1;
        }
        batch.insert(key(b'm', &[CHECKED.as_bytes()]), version.as_bytes());
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        Ok(fixed)
    }
}

/// A cursor over all subscriptions in chat order (see `Store::subscription_scan`).
pub struct SubscriptionScan {
    records: std::collections::VecDeque<(sled::IVec, sled::IVec)>,
    /// Decoded records by their bytes: most chats share their subscriptions with many
    /// others (the same few topics, subscribed after the same announcement day), and a
    /// shared record is decoded once instead of costing five strings per chat.
    decoded: rustc_hash::FxHashMap<sled::IVec, Arc<[Subscription]>>,
}

/// Distinct subscription records a scan keeps decoded; past it, records are decoded per chat.
const DECODED_MAX: usize = 4096;

impl SubscriptionScan {
    fn new(records: std::collections::VecDeque<(sled::IVec, sled::IVec)>) -> SubscriptionScan {
        SubscriptionScan {
            records,
            decoded: Default::default(),
        }
    }

    /// The subscriptions of `chat` (`platform:id`). Chats must be asked in key order; the
    /// subscriptions of chats skipped in between are passed over without being decoded.
    pub fn of(&mut self, chat: &str) -> Result<Arc<[Subscription]>> {
        while let Some((k, _)) = self.records.front() {
            match k[1..].cmp(chat.as_bytes()) {
                std::cmp::Ordering::Less => {
                    self.records.pop_front();
                }
                std::cmp::Ordering::Equal => {
                    let (_, v) = self.records.pop_front().expect("peeked");
                    if let Some(subs) = self.decoded.get(&v) {
                        return Ok(subs.clone());
                    }
                    let subs: Arc<[Subscription]> = decode_subs(&v)?.into();
                    if self.decoded.len() < DECODED_MAX {
                        self.decoded.insert(v, subs.clone());
                    }
                    return Ok(subs);
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        Ok(Arc::from([]))
    }

    /// Splits the scan: this one keeps the chats before `chat`, the one returned has `chat`
    /// and those after it, so that two threads can each take their share of the chats.
    pub fn split_off(&mut self, chat: &str) -> SubscriptionScan {
        let at = self
            .records
            .partition_point(|(k, _)| &k[1..] < chat.as_bytes());
        SubscriptionScan::new(self.records.split_off(at))
    }
}

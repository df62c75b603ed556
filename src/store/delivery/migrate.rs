//! What a chat migration moves (state, ledger entries, pending items), and the conversion of
//! stores written before buckets and batches (`D`, `l` and per-item outbox records).

use chrono::NaiveDate;
use paperbell_chat::{ChatRef, Platform};
use serde::Deserialize;

use super::*;
use crate::model::delivery::{DeliveryState, OutboxItem, PlannedMessage};
use crate::store::codec::{self, decode, encode};
use crate::store::{Result, Store, chat_key, key};

/// Outbox items as version 1 wrote them (no overview).
#[derive(Deserialize)]
pub(super) struct OutboxItemV1 {
    pub(super) chat: String,
    pub(super) local_day: NaiveDate,
    pub(super) message: PlannedMessageV1,
    pub(super) parts_done: u32,
    pub(super) attempts: u32,
    pub(super) planned_at: i64,
}

#[derive(Deserialize)]
pub(super) struct PlannedMessageV1 {
    pub(super) title: String,
    pub(super) day: String,
    pub(super) papers: Vec<(String, Vec<String>)>,
    pub(super) more: u32,
    pub(super) unsubscribe_topic: Option<String>,
    pub(super) lang: String,
    pub(super) compact: bool,
}

/// An outbox item of either version.
pub(super) fn decode_item(v: &[u8]) -> Result<OutboxItem> {
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

impl Store {
    /// The delivery records of `from` as a batch that moves them to `to` (used by
    /// `migrate_chat`): state, ledger entries, and pending outbox items.
    pub(in crate::store) fn move_delivery(
        &self,
        from: &ChatRef,
        to: &ChatRef,
        batch: &mut sled::Batch,
    ) -> Result<()> {
        let (fk, tk) = (chat_key(from), chat_key(to));
        let (fb, tb) = (bucket_of(&fk), bucket_of(&tk));
        let mut states: Records<StateBucket> = Records::new();
        let moved = states.get(&self.db, states_key(fb))?.take(&fk);
        if let Some(state) = moved {
            let target = states.get(&self.db, states_key(tb))?;
            if target.get(&tk).is_none() {
                target.set(&tk, state);
            }
        }
        states.write(batch)?;
        let mut ledgers: Records<LedgerBucket> = Records::new();
        let keys = self
            .db
            .scan_prefix(ledger_prefix(fb))
            .keys()
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for k in keys {
            let Some(day) = crate::store::list_day(&k) else {
                continue;
            };
            let ids = ledgers.get(&self.db, k.to_vec())?.take(&fk);
            if !ids.is_empty() {
                ledgers.get(&self.db, ledger_key(tb, day))?.add(&tk, ids);
            }
        }
        ledgers.write(batch)?;
        for (id, item) in self.outbox(from.platform)? {
            if item.chat == fk {
                let (seq, idx) = split_id(id);
                let mark = Mark::progress(&item, Some(&tk));
                batch.insert(mark_key(from.platform, seq, idx), mark.encode()?);
            }
        }
        Ok(())
    }

    /// Converts the delivery records of stores written before buckets and batches (`D` state
    /// and `l` ledger keys per chat, an outbox record per item) in one batch. Does nothing on
    /// a current store.
    pub(in crate::store) fn upgrade_delivery(&self) -> Result<()> {
        let mut batch = sled::Batch::default();
        let mut old = false;
        for p in [Platform::Telegram, Platform::Discord] {
            // Items were `o platform 0 seq`, one record each.
            let prefix = key(b'o', &[p.as_str().as_bytes(), b""]);
            for kv in self.db.scan_prefix(&prefix) {
                let (k, v) = kv?;
                old = true;
                batch.remove(k.clone());
                let seq = u64::from_be_bytes(key_suffix(&k, prefix.len())?);
                let item = decode_item(&v)?;
                let progress = Mark::progress(&item, None);
                if progress != Mark::default() {
                    batch.insert(mark_key(p, seq, 0), progress.encode()?);
                }
                let one = OutboxBatch {
                    planned_at: item.planned_at,
                    messages: vec![item.message],
                    items: vec![BatchItem {
                        chat: item.chat,
                        local_day: item.local_day,
                        message: 0,
                    }],
                };
                batch.insert(batch_key(p, seq), encode(codec::OUTBOX_V3, &one)?);
            }
        }
        let mut states: Records<StateBucket> = Records::new();
        for item in self.db.scan_prefix([b'D']) {
            let (k, v) = item?;
            old = true;
            let chat = String::from_utf8_lossy(&k[1..]).into_owned();
            let state: DeliveryState = decode(codec::DELIVERY_STATE_V1, "delivery state", &v)?;
            states
                .get(&self.db, states_key(bucket_of(&chat)))?
                .set(&chat, state);
            batch.remove(k);
        }
        states.write(&mut batch)?;
        let mut ledgers: Records<LedgerBucket> = Records::new();
        for item in self.db.scan_prefix([b'l']) {
            let (k, v) = item?;
            old = true;
            // `l chat 0 day`: the chat is everything between the prefix and the 0 before the day.
            let Some(day) = crate::store::list_day(&k) else {
                continue;
            };
            let chat = String::from_utf8_lossy(&k[1..k.len() - 5]).into_owned();
            let ids: Vec<String> = decode(codec::LIST_V1, "ledger", &v)?;
            ledgers
                .get(&self.db, ledger_key(bucket_of(&chat), day))?
                .add(&chat, ids);
            batch.remove(k);
        }
        ledgers.write(&mut batch)?;
        if old {
            self.db.apply_batch(batch)?;
            self.db.flush()?;
        }
        Ok(())
    }
}

//! The outbox (`b` batches of planned items, `k` item marks) and the delivery counters: what
//! senders read, mark done or advance, and remove when a batch is done.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use paperbell_chat::Platform;
use serde::{Deserialize, Serialize};

use super::*;
use crate::model::delivery::{Counters, OutboxItem, PlannedMessage};
use crate::model::weigh::{ByteCache, Weigh, byte_cache};
use crate::store::codec::{self, decode, encode};
use crate::store::{Result, Store, key};

/// Planned items of one run (or one converted older item), messages stored once.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct OutboxBatch {
    pub(super) planned_at: i64,
    pub(super) messages: Vec<PlannedMessage>,
    pub(super) items: Vec<BatchItem>,
}

impl Weigh for OutboxBatch {
    fn weigh(&self) -> usize {
        size_of::<OutboxBatch>()
            + self.messages.weigh()
            + self
                .items
                .iter()
                .map(|i| size_of::<BatchItem>() + i.chat.capacity())
                .sum::<usize>()
    }
}

/// `OutboxBatch` as planning writes it: the same encoding, borrowing the plans' messages and
/// chat keys instead of copying them into the record first.
#[derive(Serialize)]
pub(super) struct OutboxBatchRef<'a> {
    pub(super) planned_at: i64,
    pub(super) messages: Vec<&'a PlannedMessage>,
    pub(super) items: Vec<BatchItemRef<'a>>,
}

#[derive(Serialize)]
pub(super) struct BatchItemRef<'a> {
    pub(super) chat: &'a str,
    #[serde(with = "codec::day_num")]
    pub(super) local_day: NaiveDate,
    pub(super) message: u32,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct BatchItem {
    pub(super) chat: String,
    #[serde(with = "codec::day_num")]
    pub(super) local_day: NaiveDate,
    /// Index into the batch's messages.
    pub(super) message: u32,
}

/// What happened to one item since it was planned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Mark {
    /// Sent, dropped or expired: gone from the outbox.
    pub(super) done: bool,
    pub(super) parts_done: u32,
    pub(super) attempts: u32,
    /// The chat it goes to now, when its chat moved (a Telegram group became a supergroup).
    pub(super) chat: Option<String>,
}

impl Mark {
    /// An item not yet done: how far it got, and the chat it moved to, if it did.
    pub(super) fn progress(item: &OutboxItem, moved_to: Option<&String>) -> Mark {
        Mark {
            done: false,
            parts_done: item.parts_done,
            attempts: item.attempts,
            chat: moved_to.cloned(),
        }
    }
}

/// Decoded batches and pending counts, so that a send reads one small mark, not its batch.
pub(in crate::store) struct OutboxCache {
    pub(super) batches: ByteCache<(Platform, u64), Arc<OutboxBatch>>,
    /// Items of a batch not yet done; when it reaches 0 the batch and its marks go.
    pub(super) pending: HashMap<(Platform, u64), usize>,
}

/// Decoded batches kept, in bytes (a fan-out reads one or two at a time; a batch of a
/// 10k-chat plan is about a MB).
const CACHED_BATCH_BYTES: u64 = 8 << 20;

impl Default for OutboxCache {
    fn default() -> Self {
        OutboxCache {
            batches: byte_cache(CACHED_BATCH_BYTES, 256 << 10),
            pending: HashMap::new(),
        }
    }
}

pub(super) fn decode_batch(v: &[u8]) -> Result<OutboxBatch> {
    decode(codec::OUTBOX_V3, "outbox batch", v)
}

pub(super) fn counters_key(p: Platform) -> Vec<u8> {
    key(b'm', &[format!("counters.{}", p.as_str()).as_bytes()])
}

pub(super) fn planned_key(p: Platform) -> Vec<u8> {
    key(
        b'm',
        &[format!("counters_planned.{}", p.as_str()).as_bytes()],
    )
}

pub(super) fn delivered_key(p: Platform) -> Vec<u8> {
    key(b'm', &[format!("last_delivery.{}", p.as_str()).as_bytes()])
}

pub(super) fn batch_key(p: Platform, seq: u64) -> Vec<u8> {
    let mut k = key(b'b', &[p.as_str().as_bytes(), b""]);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub(super) fn outbox_prefix(p: Platform) -> Vec<u8> {
    key(b'b', &[p.as_str().as_bytes(), b""])
}

pub(super) fn marks_prefix(p: Platform, seq: u64) -> Vec<u8> {
    let mut k = key(b'k', &[p.as_str().as_bytes(), b""]);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub(super) fn mark_key(p: Platform, seq: u64, idx: u32) -> Vec<u8> {
    let mut k = marks_prefix(p, seq);
    k.extend_from_slice(&idx.to_be_bytes());
    k
}

impl Store {
    pub(super) fn outbox_cache(&self) -> std::sync::MutexGuard<'_, OutboxCache> {
        self.delivery.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A batch, decoded (cached); `None` once it is gone.
    pub(super) fn batch(&self, p: Platform, seq: u64) -> Result<Option<Arc<OutboxBatch>>> {
        if let Some(b) = self.outbox_cache().batches.get(&(p, seq)).cloned() {
            return Ok(Some(b));
        }
        let Some(v) = self.db.get(batch_key(p, seq))? else {
            return Ok(None);
        };
        let b = Arc::new(decode_batch(&v)?);
        self.outbox_cache().batches.insert((p, seq), b.clone());
        Ok(Some(b))
    }

    pub(super) fn marks(&self, p: Platform, seq: u64) -> Result<HashMap<u32, Mark>> {
        let prefix = marks_prefix(p, seq);
        let mut out = HashMap::new();
        for item in self.db.scan_prefix(&prefix) {
            let (k, v) = item?;
            let idx = u32::from_be_bytes(key_suffix(&k, prefix.len())?);
            out.insert(idx, decode(Mark::VERSION, Mark::WHAT, &v)?);
        }
        Ok(out)
    }

    pub(super) fn mark(&self, p: Platform, seq: u64, idx: u32) -> Result<Mark> {
        Mark::read(&self.db, &mark_key(p, seq, idx))
    }

    /// Items of a batch not yet done, counted from its marks.
    pub(super) fn pending(&self, p: Platform, seq: u64, b: &OutboxBatch) -> Result<usize> {
        let done = self.marks(p, seq)?.values().filter(|m| m.done).count();
        Ok(b.items.len().saturating_sub(done))
    }

    /// The batches of a platform's outbox, oldest first, with their sequence numbers.
    pub(super) fn batches(&self, p: Platform) -> Result<Vec<(u64, OutboxBatch)>> {
        let prefix = outbox_prefix(p);
        let mut out = Vec::new();
        for item in self.db.scan_prefix(&prefix) {
            let (k, v) = item?;
            let seq = u64::from_be_bytes(key_suffix(&k, prefix.len())?);
            out.push((seq, decode_batch(&v)?));
        }
        Ok(out)
    }

    /// A platform's outbox, oldest first.
    pub fn outbox(&self, p: Platform) -> Result<Vec<(u64, OutboxItem)>> {
        let mut out = Vec::new();
        for (seq, b) in self.batches(p)? {
            let marks = self.marks(p, seq)?;
            for idx in 0..b.items.len() as u32 {
                let mark = marks.get(&idx).cloned().unwrap_or_default();
                if let Some(item) = outbox_item(&b, idx, mark) {
                    out.push((item_id(seq, idx), item));
                }
            }
        }
        Ok(out)
    }

    /// Items waiting in a platform's outbox.
    pub fn outbox_len(&self, p: Platform) -> usize {
        self.batches(p)
            .and_then(|bs| bs.iter().map(|(seq, b)| self.pending(p, *seq, b)).sum())
            .unwrap_or(0)
    }

    pub fn outbox_item(&self, p: Platform, id: u64) -> Result<Option<OutboxItem>> {
        let (seq, idx) = split_id(id);
        let Some(b) = self.batch(p, seq)? else {
            return Ok(None);
        };
        Ok(outbox_item(&b, idx, self.mark(p, seq, idx)?))
    }

    /// Records what became of outbox items: each records its progress (`Some`) or is done
    /// (`None`), together with the platform's counters and, after a send, the delivery time.
    /// A batch whose items are all done is removed with its marks.
    pub fn outbox_update(
        &self,
        p: Platform,
        changes: &[(u64, Option<&OutboxItem>)],
        counters: &Counters,
        delivered_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        // Written in this order (a removal is always of a finished batch and its marks).
        let mut writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        let mut finished: HashMap<u64, usize> = HashMap::new();
        for (id, item) in changes {
            let (seq, idx) = split_id(*id);
            let Some(b) = self.batch(p, seq)? else {
                continue;
            };
            let Some(planned) = b.items.get(idx as usize) else {
                continue;
            };
            let old = self.mark(p, seq, idx)?;
            if old.done {
                continue;
            }
            let mark = match item {
                None => {
                    *finished.entry(seq).or_default() += 1;
                    Mark {
                        done: true,
                        ..Mark::default()
                    }
                }
                Some(item) => {
                    Mark::progress(item, (item.chat != planned.chat).then_some(&item.chat))
                }
            };
            writes.push((mark_key(p, seq, idx), Some(mark.encode()?)));
        }
        let mut left = Vec::new();
        for (seq, n) in finished {
            let known = self.outbox_cache().pending.get(&(p, seq)).copied();
            let pending = match (known, self.batch(p, seq)?) {
                (Some(k), _) => k,
                (None, Some(b)) => self.pending(p, seq, &b)?,
                (None, None) => 0,
            };
            let now = pending.saturating_sub(n);
            if now == 0 {
                writes.push((batch_key(p, seq), None));
                for k in self.db.scan_prefix(marks_prefix(p, seq)).keys() {
                    writes.push((k?.to_vec(), None));
                }
                for idx in changes.iter().map(|(id, _)| split_id(*id)) {
                    if idx.0 == seq {
                        writes.push((mark_key(p, seq, idx.1), None));
                    }
                }
            }
            left.push((seq, now));
        }
        writes.push((counters_key(p), Some(encode(COUNTERS_V1, counters)?)));
        if let Some(t) = delivered_at {
            writes.push((delivered_key(p), Some(t.to_rfc3339().into_bytes())));
        }
        if writes.iter().any(|(_, v)| v.is_none()) {
            // A batch record goes with all its marks, or not at all.
            let mut batch = sled::Batch::default();
            for (k, v) in writes {
                match v {
                    Some(v) => batch.insert(k, v),
                    None => batch.remove(k),
                }
            }
            self.db.apply_batch(batch)?;
        } else {
            // One insert per key, the mark first. sled 0.34 writes out its log buffer twice
            // for every batch (`pin_log` rolls it before and after), which cost two disk writes
            // per message sent; single inserts share the buffer until the flush. A crash between
            // them can leave the counters or the delivery time one message behind the marks,
            // never a mark behind the counters.
            for (k, v) in writes {
                match v {
                    Some(v) => self.db.insert(k, v)?,
                    None => self.db.remove(k)?,
                };
            }
        }
        let mut cache = self.outbox_cache();
        for (seq, n) in left {
            if n == 0 {
                cache.pending.remove(&(p, seq));
                cache.batches.remove(&(p, seq));
            } else {
                cache.pending.insert((p, seq), n);
            }
        }
        Ok(())
    }

    /// The platform's counters: the sender's, with planning's total of planned messages.
    pub fn counters(&self, p: Platform) -> Result<Counters> {
        let mut c: Counters = match self.db.get(counters_key(p))? {
            Some(v) => decode(COUNTERS_V1, "counters", &v)?,
            None => Counters::default(),
        };
        c.planned = self.planned_total(p)?;
        Ok(c)
    }

    pub fn last_delivery(&self, p: Platform) -> Result<Option<String>> {
        Ok(self
            .db
            .get(delivered_key(p))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }
}

/// Item `idx` of a batch as it stands after its mark; `None` when done or out of range.
pub(super) fn outbox_item(b: &OutboxBatch, idx: u32, mark: Mark) -> Option<OutboxItem> {
    if mark.done {
        return None;
    }
    let item = b.items.get(idx as usize)?;
    Some(OutboxItem {
        chat: mark.chat.unwrap_or_else(|| item.chat.clone()),
        local_day: item.local_day,
        message: b.messages.get(item.message as usize)?.clone(),
        parts_done: mark.parts_done,
        attempts: mark.attempts,
        planned_at: b.planned_at,
    })
}

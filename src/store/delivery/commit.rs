//! The planning commit: a run's outbox items, ledger entries and states written atomically,
//! a large run in parts by bucket range, built and written on two threads.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use paperbell_chat::Platform;
use rustc_hash::FxHashMap;

use super::*;
use crate::model::delivery::{ChatPlan, PlannedMessage};
use crate::store::codec::{self, encode};
use crate::store::{Result, Store, chat_key};

impl Store {
    /// Writes a planning run: each chat's outbox items, ledger entry and new state in one
    /// atomic batch, with each platform's running total of planned messages. A large run is
    /// written in parts, each the chats of a range of buckets (so a record belongs to one
    /// part), built and written on two threads: one builds a part while the other's is
    /// written. Returns the new outbox items (platform, id, chat) of the parts written, and
    /// the error that stopped the rest, if one did; their chats are planned again by the next
    /// run. Not durable until `flush`.
    pub fn commit_plans<'a>(
        &self,
        plans: impl IntoIterator<Item = &'a ChatPlan, IntoIter: Clone>,
        planned_at: i64,
    ) -> (Vec<NewItem>, Result<()>) {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let plans = plans.into_iter();
        let n = (plans.clone().count() / PART_CHATS).clamp(1, MAX_PARTS);
        let mut parts: Vec<Vec<&ChatPlan>> = vec![Vec::new(); n];
        for p in plans {
            parts[bucket_of_chat(&p.chat) as usize * n / BUCKETS as usize].push(p);
        }
        parts.retain(|p| !p.is_empty());
        let mut totals = HashMap::new();
        for p in [Platform::Telegram, Platform::Discord] {
            match self.planned_total(p) {
                Ok(t) => totals.insert(p, t),
                Err(e) => return (Vec::new(), Err(e)),
            };
        }
        let totals = Mutex::new(totals);
        let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
        let work = || {
            let mut items = Vec::new();
            while !failed.load(Relaxed) {
                let Some(part) = parts.get(next.fetch_add(1, Relaxed)) else {
                    break;
                };
                if let Err(e) = self.commit_part(part, planned_at, &totals, &mut items) {
                    failed.store(true, Relaxed);
                    return (items, Err(e));
                }
            }
            (items, Ok(()))
        };
        let ((mut items, a), (more, b)) = if parts.len() > 1 {
            crate::join(work, work)
        } else {
            (work(), (Vec::new(), Ok(())))
        };
        items.extend(more);
        (items, a.and(b))
    }

    /// Writes one part of a run (see `commit_plans`), adding its new items to `items`.
    pub(super) fn commit_part(
        &self,
        plans: &[&ChatPlan],
        planned_at: i64,
        totals: &Mutex<HashMap<Platform, u64>>,
        items: &mut Vec<NewItem>,
    ) -> Result<()> {
        let chats: Vec<(&ChatPlan, String)> =
            plans.iter().map(|p| (*p, chat_key(&p.chat))).collect();
        let buckets = self.bucket_records(&chats)?;
        let (records, out, pending) = self.outbox_records(&chats, planned_at)?;
        let mut batch = sled::Batch::default();
        for (k, v) in buckets.into_iter().chain(records) {
            batch.insert(k, v);
        }
        let mut planned: HashMap<Platform, u64> = HashMap::new();
        for p in plans {
            *planned.entry(p.chat.platform).or_default() += p.messages.len() as u64;
        }
        // Parts are written one at a time (sled's batches are anyway), each with the totals
        // of the parts written before it and its own.
        let mut totals = totals.lock().unwrap_or_else(|e| e.into_inner());
        for (p, n) in &planned {
            batch.insert(planned_key(*p), &(totals[p] + n).to_be_bytes());
        }
        self.db.apply_batch(batch)?;
        for (p, n) in planned {
            *totals.entry(p).or_default() += n;
        }
        drop(totals);
        self.outbox_cache().pending.extend(pending);
        items.extend(out);
        Ok(())
    }

    pub(super) fn planned_total(&self, p: Platform) -> Result<u64> {
        Ok(self
            .db
            .get(planned_key(p))?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// The state and ledger records of the buckets `chats` are in, updated with their plans.
    pub(super) fn bucket_records(&self, chats: &[(&ChatPlan, String)]) -> Result<Vec<KeyValue>> {
        // By bucket, so that each state record and ledger record is read and written once.
        let mut by_bucket: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        for (i, (_, k)) in chats.iter().enumerate() {
            by_bucket.entry(bucket_of(k)).or_default().push(i);
        }
        // Every read first, then the building: a read waits while another part is written.
        let mut read = Vec::with_capacity(by_bucket.len());
        for (bucket, members) in by_bucket {
            let states = self.db.get(states_key(bucket))?;
            let mut ledgers = Vec::new();
            for &i in &members {
                let (plan, _) = chats[i];
                if !plan.messages.is_empty() && !ledgers.iter().any(|(d, _)| *d == plan.local_day) {
                    let day = plan.local_day;
                    ledgers.push((day, self.db.get(ledger_key(bucket, day))?));
                }
            }
            read.push((bucket, members, states, ledgers));
        }
        let mut out = Vec::new();
        for (bucket, members, states, ledgers) in read {
            let mut states: StateBucket = decode_or_default(states)?;
            let mut ledgers = ledgers
                .into_iter()
                .map(|(d, v)| Ok((d, decode_or_default::<LedgerBucket>(v)?)))
                .collect::<Result<BTreeMap<NaiveDate, LedgerBucket>>>()?;
            // Message -> its set in the day's record: a shared message is stored once.
            let mut sets: FxHashMap<(NaiveDate, *const PlannedMessage), u32> = FxHashMap::default();
            for i in members {
                let (plan, ck) = &chats[i];
                states.set(ck, plan.state);
                if plan.messages.is_empty() {
                    continue;
                }
                let day = plan.local_day;
                let record = ledgers.get_mut(&day).expect("read above");
                let mine: Vec<u32> = plan
                    .messages
                    .iter()
                    .map(|m| {
                        *sets.entry((day, Arc::as_ptr(m))).or_insert_with(|| {
                            record
                                .sets
                                .push(m.papers.iter().map(|(id, _)| id.clone()).collect());
                            (record.sets.len() - 1) as u32
                        })
                    })
                    .collect();
                record.entry(ck).extend(mine);
            }
            out.push((states_key(bucket).into(), states.encode()?.into()));
            for (day, l) in ledgers {
                out.push((ledger_key(bucket, day).into(), l.encode()?.into()));
            }
        }
        Ok(out)
    }

    /// The outbox batch records for `chats`, with each new item and each batch's item count.
    #[allow(clippy::type_complexity)]
    pub(super) fn outbox_records(
        &self,
        chats: &[(&ChatPlan, String)],
        planned_at: i64,
    ) -> Result<(Vec<KeyValue>, Vec<NewItem>, Vec<((Platform, u64), usize)>)> {
        let mut records = Vec::new();
        let mut out = Vec::new();
        let mut pending = Vec::new();
        for platform in [Platform::Telegram, Platform::Discord] {
            // Ids first, like the reads of `bucket_records`: taking one waits for a write.
            let n: usize = chats
                .iter()
                .filter(|(p, _)| p.chat.platform == platform)
                .map(|(p, _)| p.messages.len())
                .sum();
            let mut seqs = (0..n.div_ceil(BATCH_ITEMS))
                .map(|_| self.db.generate_id())
                .collect::<std::result::Result<Vec<u64>, _>>()?
                .into_iter();
            let mut items = chats
                .iter()
                .filter(|(p, _)| p.chat.platform == platform)
                .flat_map(|(p, k)| p.messages.iter().map(move |m| (p, k, m)))
                .peekable();
            while items.peek().is_some() {
                let seq = seqs.next().expect("one id per batch");
                let mut b = OutboxBatchRef {
                    planned_at,
                    messages: Vec::new(),
                    items: Vec::new(),
                };
                let mut index: FxHashMap<*const PlannedMessage, u32> = FxHashMap::default();
                for (plan, chat, m) in items.by_ref().take(BATCH_ITEMS) {
                    let message = *index.entry(Arc::as_ptr(m)).or_insert_with(|| {
                        b.messages.push(m);
                        (b.messages.len() - 1) as u32
                    });
                    out.push((platform, item_id(seq, b.items.len() as u32), chat.clone()));
                    b.items.push(BatchItemRef {
                        chat,
                        local_day: plan.local_day,
                        message,
                    });
                }
                pending.push(((platform, seq), b.items.len()));
                records.push((
                    batch_key(platform, seq).into(),
                    encode(codec::OUTBOX_V3, &b)?.into(),
                ));
            }
        }
        Ok((records, out, pending))
    }
}

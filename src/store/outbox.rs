//! Durable delivery records: the outbox of planned digest messages, the ledger of papers planned
//! per chat, each chat's delivery state ("one digest per local day"), and the delivery counters.
//!
//! Planning commits a whole run (outbox, ledger, states, the planned total) in one sled batch,
//! so a crash leaves either the whole run or none of it; the sender marks an item done (or
//! records its progress) together with the counters, again in one batch.
//!
//! Records are per bucket of chats and per batch of planned items, not per chat and message:
//! sled copies a leaf node on every insert (7-15 us each on the benchmark machine), and a record
//! per chat, message and ledger day made planning 100k chats take 6-15 s (BENCHMARKS.md). They
//! stay small (a few KB) all the same: sled rewrites a whole leaf when it consolidates one, and
//! a leaf over a quarter of a segment is written as a file of its own, so records of hundreds of
//! KB next to the keys a fan-out writes per message made each send create a file.
//!
//! | prefix | key                              | value                                           |
//! |--------|----------------------------------|-------------------------------------------------|
//! | `B`    | bucket (u16 BE)                  | delivery states of the bucket's chats           |
//! | `L`    | bucket, local day                | that day's ledger: paper-id sets, chat -> sets  |
//! | `b`    | platform, 0, seq (u64 BE)        | outbox batch: distinct messages, then items     |
//! | `k`    | platform, 0, seq, item (u32 BE)  | item mark: done, or progress and moved chat     |
//!
//! Stores written before buckets (`D` state and `l` ledger keys per chat, single-item outbox
//! records of versions 1 and 2) are converted when opened.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use paperbell_chat::{ChatRef, Platform};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::codec::{self, day_key, decode, encode};
use super::{ChatRecord, Result, Store, StoreError, chat_key, key};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Everything planning decided for one chat. Chats with the same topics and settings share
/// their messages (the `Arc`s), which the outbox and the ledger store once per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPlan {
    pub chat: ChatRef,
    pub state: DeliveryState,
    /// The local day the messages belong to (the ledger's day).
    pub local_day: NaiveDate,
    pub messages: Vec<Arc<PlannedMessage>>,
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
const STATES_V1: u8 = 1;
const LEDGER_V1: u8 = 1;
const MARK_V1: u8 = 1;

/// Chats are spread over this many state buckets (and ledger records per day): about 100
/// chats a bucket at 100k chats, a few KB per record.
const BUCKETS: u32 = 1024;
/// Bits of an item id that number the item inside its batch; the rest is the batch's
/// sequence number. The sender and `outbox_item` see one `u64` per item.
const ITEM_BITS: u32 = 20;
/// Items per outbox batch record: a few KB to a few tens of KB (see the module's note on
/// record sizes).
const BATCH_ITEMS: usize = 256;

/// Chats per part of a run's commit (see `Store::commit_plans`), and the most parts.
const PART_CHATS: usize = 8192;
const MAX_PARTS: usize = 16;

/// A new outbox item: its platform, id and chat.
pub type NewItem = (Platform, u64, String);

/// A key and value to write, in sled's buffers: converted as each record is made, so a run's
/// records are not held twice while the batch is put together.
type KeyValue = (sled::IVec, sled::IVec);

/// An item's id from its batch and place in it.
fn item_id(seq: u64, idx: u32) -> u64 {
    (seq << ITEM_BITS) | idx as u64
}

fn split_id(id: u64) -> (u64, u32) {
    (id >> ITEM_BITS, (id & ((1 << ITEM_BITS) - 1)) as u32)
}

/// A chat's bucket: FNV-1a of its key (stable across builds, unlike std's hasher).
fn bucket_of(chat: &str) -> u16 {
    (fnv(FNV_START, chat.as_bytes()) % BUCKETS) as u16
}

/// `bucket_of` its key, without making the key.
fn bucket_of_chat(c: &ChatRef) -> u16 {
    let h = fnv(FNV_START, c.platform.as_str().as_bytes());
    (fnv(fnv(h, b":"), c.id.as_bytes()) % BUCKETS) as u16
}

const FNV_START: u32 = 0x811c_9dc5;

fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
    for b in bytes {
        h ^= *b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn states_key(bucket: u16) -> Vec<u8> {
    let mut k = vec![b'B'];
    k.extend_from_slice(&bucket.to_be_bytes());
    k
}

fn ledger_prefix(bucket: u16) -> Vec<u8> {
    let mut k = vec![b'L'];
    k.extend_from_slice(&bucket.to_be_bytes());
    k
}

fn ledger_key(bucket: u16, day: NaiveDate) -> Vec<u8> {
    let mut k = ledger_prefix(bucket);
    k.extend_from_slice(&day_key(day));
    k
}

/// The delivery states of one bucket's chats, sorted by chat.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StateBucket(Vec<StateEntry>);

#[derive(Debug, Serialize, Deserialize)]
struct StateEntry {
    chat: String,
    #[serde(with = "codec::opt_day_num")]
    last_day: Option<NaiveDate>,
    #[serde(with = "codec::opt_day_num")]
    covered: Option<NaiveDate>,
}

impl StateEntry {
    fn state(&self) -> DeliveryState {
        DeliveryState {
            last_day: self.last_day,
            covered: self.covered,
        }
    }
}

impl StateBucket {
    fn find(&self, chat: &str) -> std::result::Result<usize, usize> {
        self.0.binary_search_by(|e| e.chat.as_str().cmp(chat))
    }

    fn get(&self, chat: &str) -> Option<DeliveryState> {
        Some(self.0[self.find(chat).ok()?].state())
    }

    fn set(&mut self, chat: &str, state: DeliveryState) {
        match self.find(chat) {
            Ok(i) => {
                self.0[i].last_day = state.last_day;
                self.0[i].covered = state.covered;
            }
            Err(i) => self.0.insert(
                i,
                StateEntry {
                    chat: chat.to_string(),
                    last_day: state.last_day,
                    covered: state.covered,
                },
            ),
        }
    }

    fn take(&mut self, chat: &str) -> Option<DeliveryState> {
        let i = self.find(chat).ok()?;
        Some(self.0.remove(i).state())
    }
}

/// One bucket's ledger for one local day: the paper-id sets planned (a set per distinct
/// message, stored once however many chats got it) and each chat's sets.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LedgerBucket {
    sets: Vec<Vec<String>>,
    /// Sorted by chat.
    chats: Vec<(String, Vec<u32>)>,
}

impl LedgerBucket {
    fn entry(&mut self, chat: &str) -> &mut Vec<u32> {
        let i = match self.chats.binary_search_by(|(c, _)| c.as_str().cmp(chat)) {
            Ok(i) => i,
            Err(i) => {
                self.chats.insert(i, (chat.to_string(), Vec::new()));
                i
            }
        };
        &mut self.chats[i].1
    }

    fn ids(&self, chat: &str) -> impl Iterator<Item = &String> {
        let sets = match self.chats.binary_search_by(|(c, _)| c.as_str().cmp(chat)) {
            Ok(i) => self.chats[i].1.as_slice(),
            Err(_) => &[],
        };
        sets.iter()
            .filter_map(|s| self.sets.get(*s as usize))
            .flatten()
    }

    /// Files `ids` as a set of their own under `chat` (a moved or converted entry).
    fn add(&mut self, chat: &str, ids: Vec<String>) {
        self.sets.push(ids);
        let set = (self.sets.len() - 1) as u32;
        self.entry(chat).push(set);
    }

    /// Removes a chat's entry and returns its paper ids.
    fn take(&mut self, chat: &str) -> Vec<String> {
        let ids: Vec<String> = self.ids(chat).cloned().collect();
        if let Ok(i) = self.chats.binary_search_by(|(c, _)| c.as_str().cmp(chat)) {
            self.chats.remove(i);
        }
        ids
    }
}

/// Planned items of one run (or one converted older item), messages stored once.
#[derive(Debug, Serialize, Deserialize)]
struct OutboxBatch {
    planned_at: i64,
    messages: Vec<PlannedMessage>,
    items: Vec<BatchItem>,
}

/// `OutboxBatch` as planning writes it: the same encoding, borrowing the plans' messages and
/// chat keys instead of copying them into the record first.
#[derive(Serialize)]
struct OutboxBatchRef<'a> {
    planned_at: i64,
    messages: Vec<&'a PlannedMessage>,
    items: Vec<BatchItemRef<'a>>,
}

#[derive(Serialize)]
struct BatchItemRef<'a> {
    chat: &'a str,
    #[serde(with = "codec::day_num")]
    local_day: NaiveDate,
    message: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct BatchItem {
    chat: String,
    #[serde(with = "codec::day_num")]
    local_day: NaiveDate,
    /// Index into the batch's messages.
    message: u32,
}

/// What happened to one item since it was planned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Mark {
    /// Sent, dropped or expired: gone from the outbox.
    done: bool,
    parts_done: u32,
    attempts: u32,
    /// The chat it goes to now, when its chat moved (a Telegram group became a supergroup).
    chat: Option<String>,
}

impl Mark {
    /// An item not yet done: how far it got, and the chat it moved to, if it did.
    fn progress(item: &OutboxItem, moved_to: Option<&String>) -> Mark {
        Mark {
            done: false,
            parts_done: item.parts_done,
            attempts: item.attempts,
            chat: moved_to.cloned(),
        }
    }
}

/// Decoded batches and pending counts, so that a send reads one small mark, not its batch.
#[derive(Default)]
pub(super) struct OutboxCache {
    batches: HashMap<(Platform, u64), Arc<OutboxBatch>>,
    /// Items of a batch not yet done; when it reaches 0 the batch and its marks go.
    pending: HashMap<(Platform, u64), usize>,
}

/// Decoded batches kept (a fan-out reads one or two at a time).
const CACHED_BATCHES: usize = 32;

fn decode_batch(v: &[u8]) -> Result<OutboxBatch> {
    decode(codec::OUTBOX_V3, "outbox batch", v)
}

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

fn batch_key(p: Platform, seq: u64) -> Vec<u8> {
    let mut k = key(b'b', &[p.as_str().as_bytes(), b""]);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn outbox_prefix(p: Platform) -> Vec<u8> {
    key(b'b', &[p.as_str().as_bytes(), b""])
}

fn marks_prefix(p: Platform, seq: u64) -> Vec<u8> {
    let mut k = key(b'k', &[p.as_str().as_bytes(), b""]);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn mark_key(p: Platform, seq: u64, idx: u32) -> Vec<u8> {
    let mut k = marks_prefix(p, seq);
    k.extend_from_slice(&idx.to_be_bytes());
    k
}

/// Parses `platform:id`.
pub fn chat_ref(s: &str) -> Option<ChatRef> {
    let (p, id) = s.split_once(':')?;
    Some(ChatRef {
        platform: Platform::parse(p)?,
        id: id.to_string(),
    })
}

/// A delivery record kind: its version byte and what errors call it.
trait Record: Default + Serialize + serde::de::DeserializeOwned {
    const VERSION: u8;
    const WHAT: &'static str;

    /// The record under `k`, or an empty one.
    fn read(db: &sled::Db, k: &[u8]) -> Result<Self> {
        decode_or_default(db.get(k)?)
    }

    fn encode(&self) -> Result<Vec<u8>> {
        encode(Self::VERSION, self)
    }
}

impl Record for StateBucket {
    const VERSION: u8 = STATES_V1;
    const WHAT: &'static str = "delivery states";
}

impl Record for LedgerBucket {
    const VERSION: u8 = LEDGER_V1;
    const WHAT: &'static str = "ledger";
}

impl Record for Mark {
    const VERSION: u8 = MARK_V1;
    const WHAT: &'static str = "outbox mark";
}

/// A record as read, or an empty one.
fn decode_or_default<T: Record>(v: Option<sled::IVec>) -> Result<T> {
    match v {
        Some(v) => decode(T::VERSION, T::WHAT, &v),
        None => Ok(T::default()),
    }
}

/// Read-modify-write records of one sled batch: each record is read once (from the batch
/// if it was already changed in it) and written once.
struct Records<T> {
    map: BTreeMap<Vec<u8>, T>,
}

impl<T: Record> Records<T> {
    fn new() -> Self {
        Records {
            map: BTreeMap::new(),
        }
    }

    fn get(&mut self, db: &sled::Db, k: Vec<u8>) -> Result<&mut T> {
        use std::collections::btree_map::Entry;
        match self.map.entry(k) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let v = T::read(db, e.key())?;
                Ok(e.insert(v))
            }
        }
    }

    fn write(self, batch: &mut sled::Batch) -> Result<()> {
        for (k, v) in self.map {
            batch.insert(k, v.encode()?);
        }
        Ok(())
    }
}

/// The big-endian number at the end of a key, after `prefix_len` bytes.
fn key_suffix<const N: usize>(k: &[u8], prefix_len: usize) -> Result<[u8; N]> {
    k.get(prefix_len..)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("outbox key {k:?}")))
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
        let ck = chat_key(c);
        Ok(StateBucket::read(&self.db, &states_key(bucket_of(&ck)))?
            .get(&ck)
            .unwrap_or_default())
    }

    /// Every chat's delivery state, by chat key: one read per bucket, for planning.
    pub fn delivery_states(&self) -> Result<HashMap<String, DeliveryState>> {
        let mut out = HashMap::new();
        for item in self.db.scan_prefix([b'B']) {
            let (_, v) = item?;
            let b: StateBucket = decode(StateBucket::VERSION, StateBucket::WHAT, &v)?;
            out.extend(b.0.into_iter().map(|e| {
                let state = e.state();
                (e.chat, state)
            }));
        }
        Ok(out)
    }

    /// Which of `ids` were planned for the chat on local day `from` or later.
    pub fn ledger_contains(
        &self,
        c: &ChatRef,
        from: NaiveDate,
        ids: &HashSet<&str>,
    ) -> Result<HashSet<String>> {
        let ck = chat_key(c);
        let bucket = bucket_of(&ck);
        let mut end = ledger_prefix(bucket);
        end.extend_from_slice(&[0xff; 4]);
        let mut found = HashSet::new();
        for item in self.db.range(ledger_key(bucket, from)..=end) {
            let (_, v) = item?;
            let l: LedgerBucket = decode(LedgerBucket::VERSION, LedgerBucket::WHAT, &v)?;
            found.extend(l.ids(&ck).filter(|id| ids.contains(id.as_str())).cloned());
        }
        Ok(found)
    }

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
    fn commit_part(
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

    fn planned_total(&self, p: Platform) -> Result<u64> {
        Ok(self
            .db
            .get(planned_key(p))?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// The state and ledger records of the buckets `chats` are in, updated with their plans.
    fn bucket_records(&self, chats: &[(&ChatPlan, String)]) -> Result<Vec<KeyValue>> {
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
    fn outbox_records(
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

    fn outbox_cache(&self) -> std::sync::MutexGuard<'_, OutboxCache> {
        self.delivery.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A batch, decoded (cached); `None` once it is gone.
    fn batch(&self, p: Platform, seq: u64) -> Result<Option<Arc<OutboxBatch>>> {
        if let Some(b) = self.outbox_cache().batches.get(&(p, seq)) {
            return Ok(Some(b.clone()));
        }
        let Some(v) = self.db.get(batch_key(p, seq))? else {
            return Ok(None);
        };
        let b = Arc::new(decode_batch(&v)?);
        let mut cache = self.outbox_cache();
        if cache.batches.len() >= CACHED_BATCHES {
            cache.batches.clear();
        }
        cache.batches.insert((p, seq), b.clone());
        Ok(Some(b))
    }

    fn marks(&self, p: Platform, seq: u64) -> Result<HashMap<u32, Mark>> {
        let prefix = marks_prefix(p, seq);
        let mut out = HashMap::new();
        for item in self.db.scan_prefix(&prefix) {
            let (k, v) = item?;
            let idx = u32::from_be_bytes(key_suffix(&k, prefix.len())?);
            out.insert(idx, decode(Mark::VERSION, Mark::WHAT, &v)?);
        }
        Ok(out)
    }

    fn mark(&self, p: Platform, seq: u64, idx: u32) -> Result<Mark> {
        Mark::read(&self.db, &mark_key(p, seq, idx))
    }

    /// Items of a batch not yet done, counted from its marks.
    fn pending(&self, p: Platform, seq: u64, b: &OutboxBatch) -> Result<usize> {
        let done = self.marks(p, seq)?.values().filter(|m| m.done).count();
        Ok(b.items.len().saturating_sub(done))
    }

    /// The batches of a platform's outbox, oldest first, with their sequence numbers.
    fn batches(&self, p: Platform) -> Result<Vec<(u64, OutboxBatch)>> {
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

    /// Forgets ledger records of local days before `before`; returns how many went.
    pub fn prune_ledger(&self, before: NaiveDate) -> Result<usize> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in self.db.scan_prefix([b'L']) {
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
            let Some(day) = super::list_day(&k) else {
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
    pub(super) fn upgrade_delivery(&self) -> Result<()> {
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
            let Some(day) = super::list_day(&k) else {
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

/// Item `idx` of a batch as it stands after its mark; `None` when done or out of range.
fn outbox_item(b: &OutboxBatch, idx: u32, mark: Mark) -> Option<OutboxItem> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Subscription;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 11, d).unwrap()
    }

    fn tg(id: &str) -> ChatRef {
        ChatRef {
            platform: Platform::Telegram,
            id: id.into(),
        }
    }

    fn message(title: &str, ids: &[&str]) -> Arc<PlannedMessage> {
        Arc::new(PlannedMessage {
            title: title.into(),
            day: "2024-11-19".into(),
            papers: ids
                .iter()
                .map(|id| (id.to_string(), vec![title.to_string()]))
                .collect(),
            more: 0,
            unsubscribe_topic: Some(title.into()),
            lang: "en".into(),
            compact: false,
            overview: None,
        })
    }

    fn plan(chat: &str, messages: Vec<Arc<PlannedMessage>>) -> ChatPlan {
        ChatPlan {
            chat: tg(chat),
            state: DeliveryState {
                last_day: Some(day(20)),
                covered: Some(day(19)),
            },
            local_day: day(20),
            messages,
        }
    }

    /// Records left under a prefix (marks, batches), to see that nothing is left behind.
    fn keys(store: &Store, prefix: u8) -> usize {
        store.db.scan_prefix([prefix]).count()
    }

    #[test]
    fn a_batch_written_from_borrowed_plans_reads_back_as_a_batch() {
        let m = message("NeRF", &["2411.00001"]);
        let written = OutboxBatchRef {
            planned_at: 7,
            messages: vec![&m],
            items: vec![BatchItemRef {
                chat: "telegram:5",
                local_day: day(20),
                message: 0,
            }],
        };
        let b = decode_batch(&encode(codec::OUTBOX_V3, &written).unwrap()).unwrap();
        assert_eq!(b.planned_at, 7);
        assert_eq!(b.messages, vec![m.as_ref().clone()]);
        assert_eq!(b.items.len(), 1);
        assert_eq!(
            (
                b.items[0].chat.as_str(),
                b.items[0].local_day,
                b.items[0].message
            ),
            ("telegram:5", day(20), 0)
        );
    }

    #[test]
    fn a_run_is_one_batch_whose_items_are_marked_done_and_then_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shared = message("NeRF", &["2411.00001", "2411.00002"]);
        let own = message("cs.CV", &["2411.00003"]);
        let plans = vec![
            plan("1", vec![shared.clone()]),
            plan("2", vec![shared.clone(), own]),
            plan("3", vec![shared]),
        ];
        let (ids, written) = store.commit_plans(&plans, 1_700_000_000);
        written.unwrap();
        assert_eq!(ids.len(), 4);
        assert_eq!(keys(&store, b'b'), 1, "one batch record for the run");
        let outbox = store.outbox(Platform::Telegram).unwrap();
        let chats: Vec<&str> = outbox.iter().map(|(_, i)| i.chat.as_str()).collect();
        assert_eq!(
            chats,
            ["telegram:1", "telegram:2", "telegram:2", "telegram:3"]
        );
        assert_eq!(outbox[0].1.message, outbox[3].1.message);
        assert_eq!(outbox[0].1.planned_at, 1_700_000_000);
        assert_eq!(
            store.delivery_state(&tg("2")).unwrap(),
            plans[1].state,
            "state written with the items"
        );
        let wanted: HashSet<&str> = ["2411.00003", "2411.00002", "2411.00009"].into();
        let got = store.ledger_contains(&tg("2"), day(19), &wanted).unwrap();
        assert_eq!(
            got,
            ["2411.00002".to_string(), "2411.00003".to_string()].into()
        );
        assert!(
            store
                .ledger_contains(&tg("1"), day(19), &wanted)
                .unwrap()
                .contains("2411.00002")
        );
        assert!(
            store
                .ledger_contains(&tg("1"), day(21), &wanted)
                .unwrap()
                .is_empty(),
            "only from the day asked"
        );

        // Progress survives a restart; done items are gone; the last one takes the batch.
        let c = Counters::default();
        let mut second = outbox[1].1.clone();
        second.parts_done = 1;
        store
            .outbox_update(
                Platform::Telegram,
                &[(outbox[0].0, None), (outbox[1].0, Some(&second))],
                &c,
                None,
            )
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.outbox_len(Platform::Telegram), 3);
        let after = store.outbox(Platform::Telegram).unwrap();
        assert_eq!(after[0].1.parts_done, 1);
        assert_eq!(
            store.outbox_item(Platform::Telegram, outbox[0].0).unwrap(),
            None
        );
        let rest: Vec<(u64, Option<&OutboxItem>)> =
            after.iter().map(|(id, _)| (*id, None)).collect();
        store
            .outbox_update(Platform::Telegram, &rest, &c, None)
            .unwrap();
        assert_eq!(store.outbox_len(Platform::Telegram), 0);
        assert_eq!(keys(&store, b'b'), 0, "the batch went with its last item");
        assert_eq!(keys(&store, b'k'), 0, "and its marks");
    }

    #[test]
    fn a_large_run_is_written_in_parts_that_together_hold_every_chat() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (a, b) = (
            message("NeRF", &["2411.00001"]),
            message("cs.CV", &["2411.00002"]),
        );
        let chats = 3 * PART_CHATS;
        let plans: Vec<ChatPlan> = (0..chats)
            .map(|i| {
                let m = if i % 3 == 0 {
                    vec![a.clone(), b.clone()]
                } else {
                    vec![a.clone()]
                };
                plan(&i.to_string(), m)
            })
            .collect();
        let (ids, written) = store.commit_plans(&plans, 0);
        written.unwrap();
        let messages = chats + chats / 3;
        assert_eq!(ids.len(), messages);
        assert_eq!(store.outbox_len(Platform::Telegram), messages);
        assert_eq!(
            store.counters(Platform::Telegram).unwrap().planned,
            messages as u64
        );
        // Every chat's state and ledger entry, whichever part wrote it.
        let states = store.delivery_states().unwrap();
        assert_eq!(states.len(), chats);
        for i in [0, 1, chats / 2, chats - 1] {
            let chat = tg(&i.to_string());
            assert_eq!(states[&chat.to_string()].last_day, Some(day(20)));
            let ids = HashSet::from(["2411.00001", "2411.00002"]);
            let found = store.ledger_contains(&chat, day(19), &ids).unwrap();
            assert_eq!(found.len(), if i % 3 == 0 { 2 } else { 1 }, "chat {i}");
        }
        // Each chat's items in its own order.
        let outbox = store.outbox(Platform::Telegram).unwrap();
        let zero: Vec<&str> = outbox
            .iter()
            .filter(|(_, i)| i.chat == "telegram:0")
            .map(|(_, i)| i.message.title.as_str())
            .collect();
        assert_eq!(zero, ["NeRF", "cs.CV"]);
    }

    #[test]
    fn a_chats_key_and_bucket_are_the_same_however_they_are_made() {
        for id in ["1", "-1001234567890", "123456789012345678", ""] {
            for platform in [Platform::Telegram, Platform::Discord] {
                let c = ChatRef {
                    platform,
                    id: id.into(),
                };
                assert_eq!(chat_key(&c), c.to_string());
                assert_eq!(bucket_of_chat(&c), bucket_of(&chat_key(&c)));
            }
        }
    }

    #[test]
    fn a_moved_chat_takes_its_state_ledger_and_pending_items() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let m = message("NeRF", &["2411.00001"]);
        let (_, written) =
            store.commit_plans(&[plan("-5", vec![m.clone()]), plan("7", vec![m])], 0);
        written.unwrap();
        store.put_chat(&ChatRecord::new(&tg("-5"))).unwrap();
        assert!(store.migrate_chat(&tg("-5"), &tg("-1005")).unwrap());
        let chats: Vec<String> = store
            .outbox(Platform::Telegram)
            .unwrap()
            .into_iter()
            .map(|(_, i)| i.chat)
            .collect();
        assert_eq!(chats, ["telegram:-1005", "telegram:7"]);
        assert_eq!(
            store.delivery_state(&tg("-5")).unwrap(),
            DeliveryState::default()
        );
        assert_eq!(
            store.delivery_state(&tg("-1005")).unwrap().last_day,
            Some(day(20))
        );
        let ids: HashSet<&str> = ["2411.00001"].into();
        assert!(
            store
                .ledger_contains(&tg("-5"), day(1), &ids)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .ledger_contains(&tg("-1005"), day(1), &ids)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.ledger_contains(&tg("7"), day(1), &ids).unwrap().len(),
            1
        );
    }

    /// A store written before buckets and batches (a `D` and `l` key per chat, a `s` key per
    /// subscription, single-item outbox records) opens with everything in place.
    #[test]
    fn an_older_store_is_converted_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let old_item = OutboxItem {
            chat: "telegram:9".into(),
            local_day: day(20),
            message: message("NeRF", &["2411.00001"]).as_ref().clone(),
            parts_done: 1,
            attempts: 2,
            planned_at: 5,
        };
        let sub = Subscription {
            topic_id: "nerf".into(),
            topic_name: "NeRF".into(),
            query: None,
            since: Some(day(18)),
        };
        {
            let store = Store::open(dir.path()).unwrap();
            let state = DeliveryState {
                last_day: Some(day(20)),
                covered: Some(day(19)),
            };
            let db = &store.db;
            db.insert(
                key(b'D', &[b"telegram:9"]),
                encode(codec::DELIVERY_STATE_V1, &state).unwrap(),
            )
            .unwrap();
            let mut l = key(b'l', &[b"telegram:9", b""]);
            l.extend_from_slice(&day_key(day(20)));
            let ids = vec!["2411.00001".to_string()];
            db.insert(l, encode(codec::LIST_V1, &ids).unwrap()).unwrap();
            db.insert(
                key(b's', &[b"telegram:9", b"nerf"]),
                encode(codec::SUB_V1, &crate::store::SubscriptionV1::from(&sub)).unwrap(),
            )
            .unwrap();
            let mut old = key(b'o', &[b"telegram", b""]);
            old.extend_from_slice(&3u64.to_be_bytes());
            db.insert(old, encode(codec::OUTBOX_V2, &old_item).unwrap())
                .unwrap();
            db.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        for old in [b'D', b'l', b's', b'o'] {
            assert_eq!(keys(&store, old), 0, "{} keys left", old as char);
        }
        assert_eq!(
            store.delivery_state(&tg("9")).unwrap().covered,
            Some(day(19))
        );
        let ids: HashSet<&str> = ["2411.00001"].into();
        assert_eq!(
            store
                .ledger_contains(&tg("9"), day(19), &ids)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(store.subscriptions(&tg("9")).unwrap(), [sub]);
        assert_eq!(
            store.outbox(Platform::Telegram).unwrap(),
            [(item_id(3, 0), old_item)]
        );
        store
            .outbox_update(
                Platform::Telegram,
                &[(item_id(3, 0), None)],
                &Counters::default(),
                None,
            )
            .unwrap();
        assert_eq!(keys(&store, b'b'), 0);
    }
}

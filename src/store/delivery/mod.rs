//! Durable delivery records: the outbox of planned digest messages, the ledger of papers planned
//! per chat, each chat's delivery state ("one digest per local day"), and the delivery counters.
//!
//! One file per record family: `states` (`B`), `ledger` (`L`), `outbox` (`b`, `k`, counters);
//! `commit` writes a planning run, `migrate` moves a chat's records and converts older stores.
//!
//! Planning commits each chat's items, ledger entry and state in one atomic sled batch (a large
//! run in parts by bucket range), so a crash leaves a chat planned whole or not at all. The
//! sender records progress as single inserts in a fixed order (the item's mark, then the
//! counters): sled writes its log out twice per batch, which was two disk writes per message.
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

mod commit;
mod ledger;
mod migrate;
mod outbox;
mod states;

pub(super) use outbox::OutboxCache;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use paperbell_chat::{ChatRef, Platform};
use serde::{Serialize, de::DeserializeOwned};

use crate::store::codec::{day_key, decode, encode};
use crate::store::{Result, StoreError};
use ledger::*;
use outbox::*;
use states::*;

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

/// Parses `platform:id`.
pub fn chat_ref(s: &str) -> Option<ChatRef> {
    let (p, id) = s.split_once(':')?;
    Some(ChatRef {
        platform: Platform::parse(p)?,
        id: id.to_string(),
    })
}

/// A delivery record kind: its version byte and what errors call it.
trait Record: Default + Serialize + DeserializeOwned {
    const VERSION: u8;
    const WHAT: &'static str;

    /// The record under `k`, or an empty one.
    fn read(db: &crate::store::db::Db, k: &[u8]) -> Result<Self> {
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

    fn get(&mut self, db: &crate::store::db::Db, k: Vec<u8>) -> Result<&mut T> {
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

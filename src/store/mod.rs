//! The embedded store: sled behind a typed API. This is the only module that knows sled.
//!
//! Everything lives in sled's default tree under one-byte key prefixes, so that a paper and all
//! of its index entries are written by one `apply_batch`, which sled applies atomically: a
//! crash leaves either the whole page of papers with its indexes or none of it.
//!
//! | prefix | key                               | value                      |
//! |--------|-----------------------------------|----------------------------|
//! | `p`    | paper id                          | paper record (versioned)   |
//! | `t`    | topic id, 0, day (u32 BE)         | posting list: paper ids    |
//! | `c`    | category, 0, day                  | posting list: paper ids    |
//! | `d`    | day                               | posting list: paper ids    |
//! | `h`    | chat (`platform:id`)              | chat record (versioned)    |
//! | `u`    | chat                              | subscriptions (versioned)  |
//! | `S`    | topic id, 0, chat                 | empty (reverse index)      |
//! | `m`    | name                              | meta value                 |
//! | `B`    | chat bucket (u16 BE)              | delivery states            |
//! | `L`    | chat bucket, local day            | ledger: paper ids planned  |
//! | `b`    | platform, 0, sequence (u64 BE)    | outbox batch (versioned)   |
//! | `k`    | platform, 0, sequence, item       | outbox item mark           |
//! | `e`    | paper id                          | Hugging Face facts (vers.) |
//! | `y`    | id, 0, version, 0, lang, 0, model | LLM summary (versioned)    |
//! | `Y`    | topic, 0, day, 0, lang, 0, model  | LLM topic overview (text)  |
//! | `x`    | change number (u64 BE)            | ids of the papers written  |
//! | `R`    | chat, 0, paper id, 0, member      | rating (versioned)         |
//! | `T`    | chat                              | taste model (versioned)    |
//! | `W`    | chat                              | retrain mark (i64)         |
//! | `E`    | paper id                          | embedding (versioned)      |
//! | `F`    | paper id, 0, version (u32 BE)     | figure lookup (versioned)  |
//! | `K`    | topic id, 0, day                  | overview keywords (vers.)  |
//! | `N`    | paper id                          | similar papers (versioned) |
//!
//! Meta values (`m`) of note: `schema`, `paperbell_version` (the version that last opened the
//! store; a newer one is refused), `matcher_version`, `paper_count` (kept by the batches that
//! add papers), `id_base` (where a restored store's ids start), `health_probe`, `similar_seq`
//! and `similar_backfill` (`similar`).
//!
//! Prefixes `D`, `l`, `s` and `o` held delivery records before their current layout and are
//! read by `Store::open`'s conversion: never reuse them.
//!
//! Days are `yyyymmdd` big-endian, so byte order is date order and "recent" is a reverse prefix
//! scan. Indexes are posting lists (one value per topic/category and day, ids in arrival order)
//! rather than one key per entry: sled copies a leaf node on every insert, and thousands of
//! small index keys interleaved with ~1.5 KB paper records made ingest 4x slower (measured:
//! BENCHMARKS.md). Category and day lists use the first announcement day; topic lists the day
//! the paper entered the topic.
//!
//! One file per record family: `papers` (`p`, `t`, `c`, `d`), `chats` (`h`, `u`, `S`),
//! `enrich` (`e`, `y`, `Y`, the LLM's token spend), `delivery/` (`B`, `L`, `b`, `k`, counters),
//! `changes` (`x`, the change log the search index catches up from), `taste` (`R`, `T`, `W`),
//! `embed` (`E`), `figures` (`F`), `keywords` (`K`), `similar` (`N`), `rematch` (topics
//! matched again);
//! `codec` encodes records and converts older ones. This file opens the store, keeps the
//! in-memory generation and memos, and the meta values (`m`).

mod backup;
mod changes;
mod chats;
pub mod codec;
mod db;
mod delivery;
mod embed;
mod enrich;
mod figures;
mod keywords;
pub mod memo;
mod papers;
mod rematch;
mod similar;
mod taste;

use std::any::Any;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use paperbell_chat::ChatRef;

pub use backup::{Snapshot, family};
pub use chats::SubscriptionScan;
use codec::{PaperRecordV1, day_from_key, day_key, decode, encode};
pub use delivery::{NewItem, chat_ref};
pub use embed::Embeddings;
pub use papers::IngestStats;
pub use rematch::{MATCHER_VERSION, Rematched};
pub use similar::{Backfill, SimilarList};
pub use taste::Forgotten;

use crate::model::paper::StoredPaper;
use crate::model::weigh::Weigh;

/// The on-disk layout this build writes and reads.
pub const SCHEMA_VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open { path: String, source: sled::Error },
    #[error("store I/O failed: {0}")]
    Sled(#[from] sled::Error),
    #[error(
        "a {what} record has format version {version}, which this paperbell does not know (written by a newer version?)"
    )]
    UnknownRecordVersion { what: String, version: u8 },
    #[error("the store's schema version is {0}; this paperbell reads version {SCHEMA_VERSION}")]
    Schema(u8),
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("copying the store's files: {0}")]
    Files(std::io::Error),
    #[error("{0} holds an unfinished restore: empty the directory and restore the backup again")]
    UnfinishedRestore(String),
    #[error(
        "the store was last written by paperbell {store}, newer than this paperbell {PAPERBELL_VERSION}: run paperbell {store} or newer, or restore a backup made by this version (README: Upgrading and rolling back)"
    )]
    Newer { store: String },
}

/// This build's version, recorded in every store it writes (meta `paperbell_version`).
pub const PAPERBELL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A file in a store's directory while a restore writes it: a store holding it is not opened
/// (a restore killed mid-way must not be run as if whole).
pub const RESTORING: &str = "RESTORE-UNFINISHED";

/// Meta name of the paperbell version that last opened the store for writing.
const VERSION_META: &str = "paperbell_version";

/// Whether version `a` is newer than `b` (`major.minor.patch`; a pre-release or build suffix
/// is not compared).
pub fn newer_version(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> {
        v.split(['-', '+'])
            .next()
            .unwrap_or("")
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parts(a) > parts(b)
}

type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    db: db::Db,
    /// The store's directory (sled's files).
    dir: std::path::PathBuf,
    /// Ingest reads a record and writes its successor: one writer at a time.
    write: Mutex<()>,
    /// Bumped by every write that can change what planning decides (papers, chats,
    /// subscriptions), so the planner can tell that nothing changed since its last run.
    changes: AtomicU64,
    /// Bumped by writes to papers only: what `memo` values are derived from.
    paper_changes: AtomicU64,
    /// Decoded outbox batches and their pending counts.
    delivery: Mutex<delivery::OutboxCache>,
    /// Values worked out from the papers, each with the paper generation it was worked out at.
    memos: memo::Memos,
    /// The newest number in the change log (`changes`).
    change_seq: AtomicU64,
    /// Bumped by every write to what pages show of papers (papers, Hugging Face's facts, LLM
    /// summaries and overviews): the web's `ETag`s are made from it.
    shown_changes: AtomicU64,
    /// How many papers are stored (`UNCOUNTED` until first asked).
    paper_total: AtomicU64,
}

/// `paper_total` before the first count.
const UNCOUNTED: u64 = u64::MAX;

/// Meta name of the number of stored papers, kept by the batches that add papers.
const COUNT_META: &str = "paper_count";

fn key(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    k.push(prefix);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p);
    }
    k
}

/// Key of one posting list: `prefix name 0 day` (topic, category) or `prefix day` (day).
fn list_key(prefix: u8, name: Option<&[u8]>, day: NaiveDate) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.map_or(0, |n| n.len() + 1) + 4);
    k.push(prefix);
    if let Some(n) = name {
        k.extend_from_slice(n);
        k.push(0);
    }
    k.extend_from_slice(&day_key(day));
    k
}

/// The day at the end of a posting-list key.
fn list_day(k: &[u8]) -> Option<NaiveDate> {
    day_from_key(k.get(k.len().checked_sub(4)?..)?)
}

fn decode_paper(v: &[u8]) -> Result<StoredPaper> {
    decode::<PaperRecordV1>(codec::PAPER_V1, "paper", v)?.try_into()
}

fn decode_list(v: &[u8]) -> Result<Vec<String>> {
    decode(codec::LIST_V1, "index list", v)
}

/// How many ids a posting list holds, read from its length prefix (postcard writes a
/// sequence's length first, as a LEB128 varint) without decoding the ids.
fn list_len(v: &[u8]) -> Result<usize> {
    let corrupt = || StoreError::Corrupt("index list length".into());
    match v.split_first() {
        Some((&codec::LIST_V1, rest)) => {
            let mut n: u64 = 0;
            for (i, b) in rest.iter().take(10).enumerate() {
                n |= u64::from(b & 0x7f) << (7 * i);
                if b & 0x80 == 0 {
                    return usize::try_from(n).map_err(|_| corrupt());
                }
            }
            Err(corrupt())
        }
        // Another version: what `decode` says of it.
        _ => decode_list(v).map(|l| l.len()),
    }
}

fn chat_key(c: &ChatRef) -> String {
    let mut k = String::with_capacity(c.platform.as_str().len() + 1 + c.id.len());
    write_chat_key(c, &mut k);
    k
}

/// Appends the key the store knows a chat by (`ChatRef`'s `platform:id` text) to `out`,
/// without the formatting machinery: planning makes one for every chat of a run, in a buffer
/// it reuses.
pub fn write_chat_key(c: &ChatRef, out: &mut String) {
    out.push_str(c.platform.as_str());
    out.push(':');
    out.push_str(&c.id);
}

/// How long opening waits for the store's lock to be let go in this process.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// sled's cache capacity of a store opened without a config (tests, benches); the service's
/// comes from `[memory] budget_mb` or `[store] cache_mb`.
pub const DEFAULT_CACHE_MB: u64 = 32;

impl Store {
    /// Opens (creating if needed) the store in `dir` with the default page cache.
    pub fn open(dir: &Path) -> Result<Store> {
        Self::open_with_cache(dir, DEFAULT_CACHE_MB)
    }

    /// Opens the store with a page cache of `cache_mb` MiB. The cache is most of the
    /// service's memory; queries outside it read from the OS page cache, still fast.
    pub fn open_with_cache(dir: &Path, cache_mb: u64) -> Result<Store> {
        if dir.join(RESTORING).exists() {
            return Err(StoreError::UnfinishedRestore(dir.display().to_string()));
        }
        Self::open_restoring(dir, cache_mb)
    }

    /// The store with its memos kept within `bytes` (instead of `memo::DEFAULT_MEMO_BYTES`).
    pub fn with_memo_budget(mut self, bytes: u64) -> Store {
        self.memos = memo::Memos::with_budget(bytes);
        self
    }

    /// Opens the store a restore is writing (`RESTORING` or not).
    pub fn open_restoring(dir: &Path, cache_mb: u64) -> Result<Store> {
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_mb.max(1) * 1024 * 1024)
            .mode(sled::Mode::HighThroughput);
        // A store closed a moment ago in this process may still be held by sled's flusher
        // thread until it next wakes (a test that reopens at once saw the lock busy on a loaded
        // machine): the lock is asked for again for a little while before giving up. Another
        // process holding it (a running service) still fails, two seconds later.
        let started = std::time::Instant::now();
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::Other
                        && e.to_string().contains("could not acquire lock")
                        && started.elapsed() < LOCK_PATIENCE =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(source) => {
                    return Err(StoreError::Open {
                        path: dir.display().to_string(),
                        source,
                    });
                }
            }
        };
        match db.get(b"mschema")? {
            Some(v) if v.as_ref() != [SCHEMA_VERSION] => {
                return Err(StoreError::Schema(v.first().copied().unwrap_or(0)));
            }
            Some(_) => {}
            None => {
                db.insert(b"mschema", &[SCHEMA_VERSION])?;
                // A new store's topic entries are all made by this build's matcher.
                db.insert(
                    key(b'm', &[rematch::META.as_bytes()]),
                    rematch::MATCHER_VERSION.to_string().as_bytes(),
                )?;
                db.insert(key(b'm', &[COUNT_META.as_bytes()]), b"0")?;
            }
        }
        let id_base = match db.get(key(b'm', &[backup::ID_BASE.as_bytes()]))? {
            Some(v) => String::from_utf8_lossy(&v).parse().map_err(|_| {
                StoreError::Corrupt(format!("meta {} is not a number", backup::ID_BASE))
            })?,
            None => 0,
        };
        let version = key(b'm', &[VERSION_META.as_bytes()]);
        match db.get(&version)? {
            Some(v) if newer_version(&String::from_utf8_lossy(&v), PAPERBELL_VERSION) => {
                return Err(StoreError::Newer {
                    store: String::from_utf8_lossy(&v).into_owned(),
                });
            }
            Some(v) if v.as_ref() == PAPERBELL_VERSION.as_bytes() => {}
            _ => {
                db.insert(version, PAPERBELL_VERSION.as_bytes())?;
            }
        }
        let db = db::Db::new(db, id_base);
        let change_seq = AtomicU64::new(Store::read_change_seq(&db)?);
        let store = Store {
            db,
            dir: dir.to_path_buf(),
            change_seq,
            write: Mutex::new(()),
            changes: AtomicU64::new(0),
            paper_changes: AtomicU64::new(0),
            shown_changes: AtomicU64::new(0),
            paper_total: AtomicU64::new(UNCOUNTED),
            delivery: Mutex::default(),
            memos: memo::Memos::default(),
        };
        store.upgrade_subscriptions()?;
        store.upgrade_delivery()?;
        store.migrate_chat_settings()?;
        Ok(store)
    }

    /// Changes to papers, chats or subscriptions since the store was opened (in this process).
    pub fn generation(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Changes (in this process) to anything shown of papers: papers, their Hugging Face facts,
    /// LLM summaries and overviews. Equal values mean a page made from the store is unchanged.
    pub fn shown_generation(&self) -> u64 {
        self.shown_changes.load(Ordering::Acquire)
    }

    fn shown_changed(&self) {
        self.shown_changes.fetch_add(1, Ordering::AcqRel);
    }

    fn papers_changed(&self) {
        self.facts_changed();
        self.changed();
    }

    /// What is known of papers changed (Hugging Face's facts) but not which chats get what:
    /// memos start over, planning's rest does not.
    fn facts_changed(&self) {
        self.paper_changes.fetch_add(1, Ordering::AcqRel);
        self.shown_changed();
    }

    /// A value worked out from the store's papers by `make`, kept until papers or their
    /// Hugging Face facts change (a chat subscribing does not throw it away). For derived data
    /// that is costly and asked for often.
    pub fn memo<T: Any + Send + Sync + Weigh>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<T>,
    ) -> Result<Arc<T>> {
        let generation = self.paper_changes.load(Ordering::Acquire);
        if let Some(v) = self.memos.get(key, generation) {
            return Ok(v);
        }
        let v = Arc::new(make()?);
        self.memos.put(key, generation, v.clone());
        Ok(v)
    }

    /// Bytes the memos hold now, as weighed.
    pub fn memo_bytes(&self) -> u64 {
        self.memos.bytes()
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// `flush` without blocking a thread.
    pub async fn flush_async(&self) -> Result<()> {
        self.db.flush_async().await?;
        Ok(())
    }

    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }

    // ---- meta ----

    pub fn set_meta(&self, name: &str, value: &str) -> Result<()> {
        self.db
            .insert(key(b'm', &[name.as_bytes()]), value.as_bytes())?;
        Ok(())
    }

    /// Whether the store takes writes now: writes a probe record, unless a backup holds
    /// writes (`Ok(false)`: not a fault, and the probe does not wait for it).
    pub fn probe_write(&self, now: chrono::DateTime<chrono::Utc>) -> Result<bool> {
        Ok(self
            .db
            .try_insert(key(b'm', &[b"health_probe"]), now.to_rfc3339().as_bytes())?)
    }

    pub fn meta(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .db
            .get(key(b'm', &[name.as_bytes()]))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }
}

/// Ingests the test kit's generated papers `ids` as announced on 2024-11-`day`, under the
/// shipped topics: the store most tests start from.
#[cfg(test)]
pub(crate) fn ingest_test_day(store: &Store, day: u32, ids: std::ops::Range<usize>) {
    let topics = crate::config::Config::shipped().topic_set().unwrap();
    let day = NaiveDate::from_ymd_opt(2024, 11, day).unwrap();
    let doc = paperbell_testkit::arxiv::day_feed(day, ids);
    let parsed = crate::sources::parse(doc.as_bytes()).unwrap();
    store.ingest(&parsed.papers, &topics).unwrap();
}

/// Opens the store at `path` in a test that just dropped another handle to it: sled lets go of
/// its lock from a background thread, a moment after the last handle is dropped.
#[cfg(test)]
pub(crate) fn reopen(path: &Path) -> Store {
    for _ in 0..100 {
        if let Ok(s) = Store::open(path) {
            return s;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Store::open(path).unwrap()
}

//! The store's side of backups: every record of one instant read out (writes wait meanwhile),
//! and records written back into an empty store. The file around them is `crate::backup`'s.
//!
//! A record is a key and a value in the layout of this module's table (`store/mod.rs`): the
//! same bytes the record codecs read, so a newer paperbell reads an old backup through the
//! conversions it applies to an old store, when the restored store is opened.

use super::{Result, Store, StoreError, key};

/// Meta name of the first number the store's id generator may hand out (outbox batches and
/// retrain marks are ordered by these ids): a restored store goes on above the original's.
pub(super) const ID_BASE: &str = "id_base";

/// What a snapshot read besides the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Every id the original store handed out is below this.
    pub next_id: u64,
}

/// The record family a key belongs to, by its prefix (`store/mod.rs`'s table): what a backup
/// counts, for people.
pub fn family(k: &[u8]) -> &'static str {
    match k.first() {
        Some(b'p') => "papers",
        Some(b't') => "topic lists",
        Some(b'c') => "category lists",
        Some(b'd') => "day lists",
        Some(b'h') => "chats",
        Some(b'u') => "subscriptions",
        Some(b'S') => "subscribers",
        Some(b'm') => "meta",
        Some(b'B') => "delivery states",
        Some(b'L') => "ledger",
        Some(b'b') => "outbox batches",
        Some(b'k') => "outbox marks",
        Some(b'e') => "hugging face facts",
        Some(b'y') => "llm summaries",
        Some(b'Y') => "llm overviews",
        Some(b'x') => "change log",
        Some(b'R') => "ratings",
        Some(b'T') => "taste models",
        Some(b'W') => "retrain marks",
        Some(b'E') => "embeddings",
        Some(b'F') => "figures",
        Some(b'K') => "day keywords",
        Some(b'N') => "similar papers",
        _ => "other",
    }
}

impl Store {
    /// Copies sled's files of this store into `to` (created) as they are at one instant:
    /// writes wait while everything written is flushed and the files are copied; reads go on.
    /// The copy opens as this store would after a crash at that instant, which sled recovers
    /// from. Reading a store's every record through sled keeps all of it in the reading
    /// instance's memory, so a backup reads a copy and drops it.
    pub fn copy_files(&self, to: &std::path::Path) -> Result<()> {
        let io = StoreError::Files;
        std::fs::create_dir_all(to).map_err(io)?;
        let _closed = self.db.close();
        self.db.flush()?;
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // sled's own files: its config, its log, its snapshots and large values.
            let sled_file = name == "conf" || name == "db" || name.starts_with("snap.");
            if sled_file {
                std::fs::copy(entry.path(), to.join(&*name)).map_err(io)?;
            } else if name == "blobs" {
                let blobs = to.join("blobs");
                std::fs::create_dir_all(&blobs).map_err(io)?;
                for blob in std::fs::read_dir(entry.path()).map_err(io)? {
                    let blob = blob.map_err(io)?;
                    std::fs::copy(blob.path(), blobs.join(blob.file_name())).map_err(io)?;
                }
            }
        }
        Ok(())
    }

    /// Hands every record to `each`, in key order, as they all were at one instant: writes
    /// wait until it returns (reads go on). `each`'s error stops the reading.
    pub fn snapshot<E: From<StoreError>>(
        &self,
        mut each: impl FnMut(&[u8], &[u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<Snapshot, E> {
        let _closed = self.db.close();
        let next_id = self.db.generate_id().map_err(StoreError::from)?;
        let id_base = key(b'm', &[ID_BASE.as_bytes()]);
        for item in self.db.iter() {
            let (k, v) = item.map_err(StoreError::from)?;
            // The store's own id floor is the snapshot's `next_id`, not a record to restore.
            if k.as_ref() == id_base.as_slice() {
                continue;
            }
            each(&k, &v)?;
        }
        Ok(Snapshot { next_id })
    }

    /// Forgets what opening a new store wrote as a new store's facts (its matcher version, its
    /// paper count of 0): a restored store has what its backup says, and a backup without them
    /// (from an older paperbell) must read as the older store it was (re-matched, counted).
    pub fn begin_restore(&self) -> Result<()> {
        for name in [super::rematch::META, super::COUNT_META] {
            self.db.remove(key(b'm', &[name.as_bytes()]))?;
        }
        Ok(())
    }

    /// Writes restored records into this (new, empty) store, in batches. `Store::open` must
    /// be run again afterwards: its upgrades convert what an older paperbell wrote.
    pub fn load_records(
        &self,
        records: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    ) -> Result<()> {
        const BATCH_BYTES: usize = 4 << 20;
        let mut batch = sled::Batch::default();
        let mut bytes = 0;
        for (k, v) in records {
            bytes += k.len() + v.len();
            batch.insert(k, v);
            if bytes >= BATCH_BYTES {
                self.db.apply_batch(std::mem::take(&mut batch))?;
                bytes = 0;
            }
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }

    /// Sets where the id generator of this (restored) store starts: above every id the
    /// original handed out. Read when the store is next opened.
    pub fn set_next_id(&self, next_id: u64) -> Result<()> {
        self.set_meta(ID_BASE, &next_id.to_string())
    }
}

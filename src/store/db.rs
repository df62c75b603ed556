//! sled's tree behind a write gate: every write passes the gate, and a backup closes it while
//! it copies one instant's state (the store's files) while reads go on.
//!
//! The gate is held by one sled call at a time (a batch, an insert, a transaction), never
//! across calls, so a backup sees the store between two of them: a state a crash could have
//! left, which the store is built to read. A write that meets a closed gate waits; on a worker
//! of a multi-threaded tokio runtime it hands its other tasks to another thread first
//! (`block_in_place`), so pages and commands are still answered while it waits.

use std::ops::RangeBounds;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};

use sled::transaction::{TransactionResult, TransactionalTree};
use sled::{Batch, IVec};

pub(super) struct Db {
    tree: sled::Db,
    gate: RwLock<()>,
    /// Added to sled's ids: a restored store hands out ids above the original's.
    id_base: u64,
}

/// While held, no write reaches the store (writers wait at the gate).
pub(super) struct Closed<'a>(#[allow(dead_code)] RwLockWriteGuard<'a, ()>);

impl Db {
    /// `id_base`: the first id this store may hand out (`Store::set_next_id`).
    pub(super) fn new(tree: sled::Db, id_base: u64) -> Db {
        Db {
            tree,
            gate: RwLock::new(()),
            id_base,
        }
    }

    /// Passes the gate, waiting while a backup holds it closed.
    fn pass(&self) -> RwLockReadGuard<'_, ()> {
        match self.gate.try_read() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                let wait = || self.gate.read().unwrap_or_else(|e| e.into_inner());
                let multi_threaded = tokio::runtime::Handle::try_current().is_ok_and(|h| {
                    h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
                });
                if multi_threaded {
                    tokio::task::block_in_place(wait)
                } else {
                    wait()
                }
            }
        }
    }

    /// Closes the gate: returns once every write in flight is done, and holds writes back
    /// until the guard is dropped.
    pub(super) fn close(&self) -> Closed<'_> {
        Closed(self.gate.write().unwrap_or_else(|e| e.into_inner()))
    }

    // ---- reads ----

    pub(super) fn get(&self, k: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        self.tree.get(k)
    }

    pub(super) fn contains_key(&self, k: impl AsRef<[u8]>) -> sled::Result<bool> {
        self.tree.contains_key(k)
    }

    pub(super) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> sled::Iter {
        self.tree.scan_prefix(prefix)
    }

    pub(super) fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> sled::Iter {
        self.tree.range(range)
    }

    /// Every record, in key order.
    pub(super) fn iter(&self) -> sled::Iter {
        self.tree.iter()
    }

    pub(super) fn size_on_disk(&self) -> sled::Result<u64> {
        self.tree.size_on_disk()
    }

    pub(super) fn flush(&self) -> sled::Result<usize> {
        self.tree.flush()
    }

    pub(super) async fn flush_async(&self) -> sled::Result<usize> {
        self.tree.flush_async().await
    }

    /// A number never handed out before by this store, larger than every one before (sled's
    /// generator, not a write to the tree).
    pub(super) fn generate_id(&self) -> sled::Result<u64> {
        Ok(self.tree.generate_id()?.saturating_add(self.id_base))
    }

    // ---- writes, each through the gate ----

    pub(super) fn apply_batch(&self, batch: Batch) -> sled::Result<()> {
        let _pass = self.pass();
        self.tree.apply_batch(batch)
    }

    pub(super) fn insert(
        &self,
        k: impl AsRef<[u8]>,
        v: impl Into<IVec>,
    ) -> sled::Result<Option<IVec>> {
        let _pass = self.pass();
        self.tree.insert(k, v)
    }

    /// `insert`, unless the gate is closed: then nothing is written (`Ok(false)`).
    pub(super) fn try_insert(&self, k: impl AsRef<[u8]>, v: impl Into<IVec>) -> sled::Result<bool> {
        let _pass = match self.gate.try_read() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return Ok(false),
        };
        self.tree.insert(k, v)?;
        Ok(true)
    }

    pub(super) fn remove(&self, k: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        let _pass = self.pass();
        self.tree.remove(k)
    }

    pub(super) fn compare_and_swap(
        &self,
        k: impl AsRef<[u8]>,
        old: Option<impl AsRef<[u8]>>,
        new: Option<impl Into<IVec>>,
    ) -> sled::Result<Result<(), sled::CompareAndSwapError>> {
        let _pass = self.pass();
        self.tree.compare_and_swap(k, old, new)
    }

    pub(super) fn update_and_fetch<V: Into<IVec>>(
        &self,
        k: impl AsRef<[u8]>,
        f: impl FnMut(Option<&[u8]>) -> Option<V>,
    ) -> sled::Result<Option<IVec>> {
        let _pass = self.pass();
        self.tree.update_and_fetch(k, f)
    }

    pub(super) fn transaction<A, E>(
        &self,
        f: impl Fn(&TransactionalTree) -> sled::transaction::ConflictableTransactionResult<A, E>,
    ) -> TransactionResult<A, E> {
        let _pass = self.pass();
        self.tree.transaction(f)
    }
}

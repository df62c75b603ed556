//! The change log (`x`): the ids of the papers each write stored or changed, numbered in
//! order and written in the same atomic batch as the papers, so that what is derived from
//! papers outside sled (the search index) can catch up after any crash: it reads the changes
//! after the last number it made durable, then lets the log be pruned.

use std::sync::atomic::Ordering;

use super::codec::{self, decode, encode};
use super::{Result, Store, StoreError, key};

/// The meta value holding the newest change number (the log itself may have been pruned).
const CHANGE_SEQ: &str = "change_seq";

fn change_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'x'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

impl Store {
    /// The newest change number read from the store, for `open`.
    pub(super) fn read_change_seq(db: &super::db::Db) -> Result<u64> {
        Ok(db
            .get(key(b'm', &[CHANGE_SEQ.as_bytes()]))?
            .and_then(|v| String::from_utf8_lossy(&v).parse().ok())
            .unwrap_or(0))
    }

    /// Adds the change of `ids` to `batch` under the next number. The caller holds the write
    /// lock and applies the batch (a failed batch leaves a gap in the numbers, which is fine).
    pub(super) fn log_changes(&self, batch: &mut sled::Batch, ids: &[&str]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let seq = self.change_seq.fetch_add(1, Ordering::AcqRel) + 1;
        batch.insert(change_key(seq), encode(codec::LIST_V1, &ids)?);
        batch.insert(
            key(b'm', &[CHANGE_SEQ.as_bytes()]),
            seq.to_string().as_bytes(),
        );
        Ok(())
    }

    /// The newest change number (0 before the first write of papers).
    pub fn change_seq(&self) -> u64 {
        self.change_seq.load(Ordering::Acquire)
    }

    /// The changes numbered after `seq`, oldest first, at most `max` of them.
    pub fn changes_since(&self, seq: u64, max: usize) -> Result<Vec<(u64, Vec<String>)>> {
        let mut out = Vec::new();
        for item in self
            .db
            .range(change_key(seq.saturating_add(1))..change_key(u64::MAX))
        {
            let (k, v) = item?;
            let n = k
                .get(1..9)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::Corrupt(format!("change key {k:?}")))?;
            out.push((n, decode(codec::LIST_V1, "change", &v)?));
            if out.len() == max {
                break;
            }
        }
        Ok(out)
    }

    /// Forgets the changes numbered `seq` and before (the search index made them durable), but
    /// none the similar papers' job has yet to read (`similar`).
    pub fn prune_changes(&self, seq: u64) -> Result<usize> {
        let seq = seq.min(self.similar_seq()?.unwrap_or(u64::MAX));
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in self
            .db
            .range(change_key(0)..change_key(seq.saturating_add(1)))
        {
            batch.remove(item?.0);
            n += 1;
        }
        self.db.apply_batch(batch)?;
        Ok(n)
    }
}

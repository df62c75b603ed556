//! The ledger (`L`): per bucket of chats and local day, the paper-id sets planned for them,
//! so that a paper reaches a chat once; pruned after `delivery.ledger_days`.

use std::collections::HashSet;

use chrono::NaiveDate;
use paperbell_chat::ChatRef;
use serde::{Deserialize, Serialize};

use super::*;
use crate::store::codec::decode;
use crate::store::{Result, Store, chat_key};

/// One bucket's ledger for one local day: the paper-id sets planned (a set per distinct
/// message, stored once however many chats got it) and each chat's sets.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct LedgerBucket {
    pub(super) sets: Vec<Vec<String>>,
    /// Sorted by chat.
    pub(super) chats: Vec<(String, Vec<u32>)>,
}

impl LedgerBucket {
    pub(super) fn entry(&mut self, chat: &str) -> &mut Vec<u32> {
        let i = match self.chats.binary_search_by(|(c, _)| c.as_str().cmp(chat)) {
            Ok(i) => i,
            Err(i) => {
                self.chats.insert(i, (chat.to_string(), Vec::new()));
                i
            }
        };
        &mut self.chats[i].1
    }

    pub(super) fn ids(&self, chat: &str) -> impl Iterator<Item = &String> {
        let sets = match self.chats.binary_search_by(|(c, _)| c.as_str().cmp(chat)) {
            Ok(i) => self.chats[i].1.as_slice(),
            Err(_) => &[],
        };
        sets.iter()
            .filter_map(|s| self.sets.get(*s as usize))
            .flatten()
    }

    /// Files `ids` as a set of their own under `chat` (a moved or converted entry).
    pub(super) fn add(&mut self, chat: &str, ids: Vec<String>) {
        self.sets.push(ids);
        let set = (self.sets.len() - 1) as u32;
        self.entry(chat).push(set);
    }

    /// Removes a chat's entry and returns its paper ids.
    pub(super) fn take(&mut self, chat: &str) -> Vec<String> {
        let ids: Vec<String> = self.ids(chat).cloned().collect();
        if let Ok(i) = self.chats.binary_search_by(|(c, _)| c.as_str().cmp(chat)) {
            self.chats.remove(i);
        }
        ids
    }
}

impl Store {
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

    /// Forgets ledger records of local days before `before`; returns how many went.
    pub fn prune_ledger(&self, before: NaiveDate) -> Result<usize> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in self.db.scan_prefix([b'L']) {
            let (k, _) = item?;
            if crate::store::list_day(&k).is_some_and(|d| d < before) {
                batch.remove(k);
                n += 1;
            }
        }
        self.db.apply_batch(batch)?;
        Ok(n)
    }
}

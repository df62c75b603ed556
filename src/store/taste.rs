//! Readers' ratings, imports and taste models in sled: one rating per (chat, paper, member)
//! (`R`), one model per chat (`T`), and a mark per chat whose model is behind its ratings
//! (`W`), written in the same transaction as the rating so a crash cannot lose the retrain.
//!
//! Chats are keyed by the text of `telegram:ID`, `discord:ID`, or `local` (the terminal's).
//! A rating is one key per member, so members of a group rating at once never meet on a key.

use std::collections::{BTreeSet, HashSet};

use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::codec::{self, decode, encode};
use super::{Result, Store, StoreError, key};
use crate::model::rating::{IMPORT_MEMBER, Rating, RatingChange, Tally, tap_id};
use crate::taste::Taste;

fn rating_key(chat: &str, paper: &str, member: &str) -> Vec<u8> {
    key(
        b'R',
        &[chat.as_bytes(), paper.as_bytes(), member.as_bytes()],
    )
}

/// `R chat 0`, or `R chat 0 paper 0`: every rating of a chat, or of one of its papers.
fn ratings_prefix(chat: &str, paper: Option<&str>) -> Vec<u8> {
    let mut k = match paper {
        Some(p) => key(b'R', &[chat.as_bytes(), p.as_bytes()]),
        None => key(b'R', &[chat.as_bytes()]),
    };
    k.push(0);
    k
}

fn taste_key(chat: &str) -> Vec<u8> {
    key(b'T', &[chat.as_bytes()])
}

fn dirty_key(chat: &str) -> Vec<u8> {
    key(b'W', &[chat.as_bytes()])
}

fn decode_rating(v: &[u8]) -> Result<Rating> {
    codec::decode_rating(v)
}

fn transaction_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

/// What `forget` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub ratings: usize,
    pub model: bool,
}

impl Store {
    /// Applies one member's change to their rating of `paper` in `chat` and marks the chat's
    /// model for retraining, in one transaction, and makes it durable before returning (a
    /// rating acknowledged is a rating kept). Returns the chat's tally of the paper after it.
    pub fn rate(
        &self,
        chat: &str,
        paper: &str,
        member: &str,
        change: RatingChange,
        at: i64,
        toggle: bool,
    ) -> Result<Tally> {
        self.rate_by(chat, paper, member, change, at, toggle, None)
    }

    /// `rate` from a tap the platform identifies (`tap`, its id): the same tap handed over
    /// again, as after a crash between storing it and answering it, changes nothing (a second
    /// 👍 would otherwise take the first back).
    pub fn rate_tap(
        &self,
        chat: &str,
        paper: &str,
        member: &str,
        change: RatingChange,
        at: i64,
        tap: &str,
    ) -> Result<Tally> {
        self.rate_by(chat, paper, member, change, at, true, Some(tap_id(tap)))
    }

    #[allow(clippy::too_many_arguments)]
    fn rate_by(
        &self,
        chat: &str,
        paper: &str,
        member: &str,
        change: RatingChange,
        at: i64,
        toggle: bool,
        tap: Option<u64>,
    ) -> Result<Tally> {
        let k = rating_key(chat, paper, member);
        let dirty = dirty_key(chat);
        let mark = self.retrain_mark()?;
        self.db
            .transaction(|tx| {
                let old = match tx.get(&k)? {
                    Some(v) => decode_rating(&v).map_err(ConflictableTransactionError::Abort)?,
                    None => Rating::default(),
                };
                if tap.is_some_and(|t| t == old.tap) {
                    // This very tap was stored before: it is being handed over again.
                    return Ok(());
                }
                let mut new = change.apply(old, at, toggle);
                new.tap = tap.unwrap_or(0);
                // A rating taken back by a tap stays (empty) with that tap: handed over again,
                // the tap must find it, or it would rate the paper anew.
                if new.is_empty() && tap.is_none() {
                    tx.remove(k.as_slice())?;
                } else {
                    let v = encode(codec::RATING_V2, &new)
                        .map_err(ConflictableTransactionError::Abort)?;
                    tx.insert(k.as_slice(), v)?;
                }
                tx.insert(dirty.as_slice(), mark.to_vec())?;
                Ok(())
            })
            .map_err(transaction_error)?;
        self.db.flush()?;
        self.tally(chat, paper)
    }

    /// Records `papers` as imported into `chat`'s taste (liked, without a vote), all in one
    /// batch with the retrain mark, made durable before returning. Returns how many were new.
    pub fn import_ratings(&self, chat: &str, papers: &[String], at: i64) -> Result<usize> {
        let mut batch = sled::Batch::default();
        let mut new = 0;
        for p in papers {
            let k = rating_key(chat, p, IMPORT_MEMBER);
            if self.db.get(&k)?.is_none() {
                new += 1;
            }
            let r = RatingChange::Import.apply(Rating::default(), at, false);
            batch.insert(k, encode(codec::RATING_V2, &r)?);
        }
        batch.insert(dirty_key(chat), self.retrain_mark()?.to_vec());
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        Ok(new)
    }

    /// The chat's tally of one paper (every member's rating together).
    pub fn tally(&self, chat: &str, paper: &str) -> Result<Tally> {
        let mut t = Tally::default();
        for item in self.db.scan_prefix(ratings_prefix(chat, Some(paper))) {
            t.add(&decode_rating(&item?.1)?);
        }
        Ok(t)
    }

    /// Marks for retraining every chat that rated one of `papers` (their features changed: they
    /// got an embedding), in one batch; how many chats.
    pub fn mark_rated_for_retrain(&self, papers: &[String]) -> Result<usize> {
        let papers: HashSet<&[u8]> = papers.iter().map(|p| p.as_bytes()).collect();
        let mut chats = BTreeSet::new();
        for key in self.rating_keys() {
            let (chat, paper) = key?;
            if papers.contains(paper.as_bytes()) {
                chats.insert(chat);
            }
        }
        let mut batch = sled::Batch::default();
        for chat in &chats {
            batch.insert(dirty_key(chat), self.retrain_mark()?.to_vec());
        }
        self.db.apply_batch(batch)?;
        Ok(chats.len())
    }

    /// Every paper some chat rated or imported, once each (the papers embeddings are kept for).
    pub fn rated_papers(&self) -> Result<Vec<String>> {
        let mut out = BTreeSet::new();
        for key in self.rating_keys() {
            out.insert(key?.1);
        }
        Ok(out.into_iter().collect())
    }

    /// (chat, paper) of every rating that says something (`R chat 0 paper 0 member`), in key
    /// order.
    fn rating_keys(&self) -> impl Iterator<Item = Result<(String, String)>> + '_ {
        self.db.scan_prefix([b'R']).filter_map(|item| {
            let k = match item.map_err(StoreError::from).and_then(|(k, v)| {
                let empty = decode_rating(&v)?.is_empty();
                Ok((k, empty))
            }) {
                Ok((_, true)) => return None,
                Ok((k, false)) => k,
                Err(e) => return Some(Err(e)),
            };
            let mut parts = k[1..].split(|b| *b == 0);
            let (chat, paper) = (parts.next()?, parts.next()?);
            Some(Ok((
                String::from_utf8_lossy(chat).into_owned(),
                String::from_utf8_lossy(paper).into_owned(),
            )))
        })
    }

    /// A fresh retrain mark: a sled id of its own (not the time, which two ratings in a second
    /// share), so a retrain clears only the mark it read.
    fn retrain_mark(&self) -> Result<[u8; 8]> {
        Ok((self.db.generate_id()? as i64).to_be_bytes())
    }

    /// Every paper `chat` rated or imported, with its tally, in paper id order.
    pub fn chat_ratings(&self, chat: &str) -> Result<Vec<(String, Tally)>> {
        let prefix = ratings_prefix(chat, None);
        let mut out: Vec<(String, Tally)> = Vec::new();
        for item in self.db.scan_prefix(&prefix) {
            let (k, v) = item?;
            let rest = &k[prefix.len()..];
            let paper = rest.split(|b| *b == 0).next().unwrap_or_default();
            let paper = String::from_utf8_lossy(paper);
            let r = decode_rating(&v)?;
            match out.last_mut() {
                Some((p, t)) if *p == paper => t.add(&r),
                _ => {
                    let mut t = Tally::default();
                    t.add(&r);
                    out.push((paper.into_owned(), t));
                }
            }
        }
        // Papers whose every rating was taken back.
        out.retain(|(_, t)| !t.is_empty());
        Ok(out)
    }

    /// Stores `chat`'s model, learnt from its ratings as they were when `dirty` was read (the
    /// mark `taste_dirty` returned): the mark is cleared only if no rating came since.
    pub fn put_taste(&self, chat: &str, taste: &Taste, dirty: Option<i64>) -> Result<()> {
        let v = encode(codec::TASTE_V1, taste)?;
        if v.len() > crate::taste::MAX_BYTES {
            return Err(StoreError::Corrupt(format!(
                "a taste model of {} bytes is over the limit of {}",
                v.len(),
                crate::taste::MAX_BYTES
            )));
        }
        self.db.insert(taste_key(chat), v)?;
        self.clear_dirty(chat, dirty)?;
        self.changed();
        Ok(())
    }

    /// Removes `chat`'s model (it rated nothing any more), clearing the mark as `put_taste` does.
    pub fn drop_taste(&self, chat: &str, dirty: Option<i64>) -> Result<()> {
        self.db.remove(taste_key(chat))?;
        self.clear_dirty(chat, dirty)?;
        self.changed();
        Ok(())
    }

    fn clear_dirty(&self, chat: &str, dirty: Option<i64>) -> Result<()> {
        if let Some(at) = dirty {
            // Only the mark that was read: a rating since then keeps the chat marked.
            let _ = self.db.compare_and_swap(
                dirty_key(chat),
                Some(&at.to_be_bytes()[..]),
                None as Option<&[u8]>,
            )?;
        }
        Ok(())
    }

    /// `chat`'s model, if it has one.
    pub fn taste(&self, chat: &str) -> Result<Option<Taste>> {
        self.db
            .get(taste_key(chat))?
            .map(|v| decode(codec::TASTE_V1, "taste model", &v))
            .transpose()
    }

    /// Every chat's model, by chat key (for a planning run).
    pub fn tastes(&self) -> Result<Vec<(String, Taste)>> {
        self.db
            .scan_prefix([b'T'])
            .map(|item| {
                let (k, v) = item?;
                Ok((
                    String::from_utf8_lossy(&k[1..]).into_owned(),
                    decode(codec::TASTE_V1, "taste model", &v)?,
                ))
            })
            .collect()
    }

    /// The size of `chat`'s stored model in bytes.
    pub fn taste_bytes(&self, chat: &str) -> Result<Option<usize>> {
        Ok(self.db.get(taste_key(chat))?.map(|v| v.len()))
    }

    /// Chats whose models are behind their ratings, with the mark to hand to `put_taste`.
    pub fn taste_dirty(&self) -> Result<Vec<(String, i64)>> {
        self.db
            .scan_prefix([b'W'])
            .map(|item| {
                let (k, v) = item?;
                let at = v
                    .as_ref()
                    .try_into()
                    .map(i64::from_be_bytes)
                    .map_err(|_| StoreError::Corrupt("retrain mark".into()))?;
                Ok((String::from_utf8_lossy(&k[1..]).into_owned(), at))
            })
            .collect()
    }

    /// Deletes every rating, import and the model of `chat`, in one batch, durably.
    pub fn forget(&self, chat: &str) -> Result<Forgotten> {
        let mut batch = sled::Batch::default();
        let mut done = Forgotten::default();
        for item in self.db.scan_prefix(ratings_prefix(chat, None)) {
            let (k, v) = item?;
            // A rating taken back (kept for its tap) is not one to count.
            done.ratings += usize::from(!decode_rating(&v)?.is_empty());
            batch.remove(k);
        }
        done.model = self.db.contains_key(taste_key(chat))?;
        batch.remove(taste_key(chat));
        batch.remove(dirty_key(chat));
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        self.changed();
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tap_handed_over_again_counts_once_and_old_records_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let up = RatingChange::Up;
        let t = store
            .rate_tap("c", "2401.00001", "m", up, 1, "cb1")
            .unwrap();
        assert_eq!(t.up, 1);
        // The same tap again (Telegram redelivering it after a crash): no toggle.
        let t = store
            .rate_tap("c", "2401.00001", "m", up, 2, "cb1")
            .unwrap();
        assert_eq!(t.up, 1);
        // A second tap of 👍 by the person takes it back.
        let t = store
            .rate_tap("c", "2401.00001", "m", up, 3, "cb2")
            .unwrap();
        assert_eq!(t.up, 0);
        // That take-back handed over again: still taken back, and nothing left to show.
        let t = store
            .rate_tap("c", "2401.00001", "m", up, 4, "cb2")
            .unwrap();
        assert_eq!(t.up, 0, "a redelivered take-back does not rate anew");
        assert!(store.chat_ratings("c").unwrap().is_empty());
        assert!(store.rated_papers().unwrap().is_empty());
        // A rating as the first layout wrote it reads as one made by no tap.
        let old = codec::RatingV1Fixture::liked_at(7);
        store
            .db
            .insert(rating_key("c", "2401.00002", "m"), old)
            .unwrap();
        let t = store.tally("c", "2401.00002").unwrap();
        assert_eq!((t.up, t.at), (1, 7));
        let t = store
            .rate_tap("c", "2401.00002", "m", up, 8, "cb3")
            .unwrap();
        assert_eq!(t.up, 0, "and a tap toggles it as before");
    }

    #[test]
    fn ratings_add_up_per_chat_and_forget_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = store
            .rate("telegram:1", "2401.00001", "7", RatingChange::Up, 10, true)
            .unwrap();
        assert_eq!((t.up, t.opinion()), (1, 1));
        let t = store
            .rate(
                "telegram:1",
                "2401.00001",
                "8",
                RatingChange::Down,
                11,
                true,
            )
            .unwrap();
        assert_eq!((t.up, t.down, t.opinion()), (1, 1, 0));
        // Another chat whose key starts the same is its own.
        store
            .rate(
                "telegram:12",
                "2401.00001",
                "7",
                RatingChange::Save,
                12,
                true,
            )
            .unwrap();
        assert_eq!(store.tally("telegram:1", "2401.00001").unwrap().saved, 0);
        // A second tap takes the 👍 back; the record goes.
        let t = store
            .rate("telegram:1", "2401.00001", "7", RatingChange::Up, 13, true)
            .unwrap();
        assert_eq!((t.up, t.down), (0, 1));
        assert_eq!(
            store
                .import_ratings(
                    "telegram:1",
                    &["2401.00002".into(), "2401.00001".into()],
                    14
                )
                .unwrap(),
            2
        );
        let all = store.chat_ratings("telegram:1").unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].0, "2401.00001");
        assert_eq!(all[0].1.opinion(), 1, "imported: liked whatever the votes");
        let dirty = store.taste_dirty().unwrap();
        assert_eq!(dirty.len(), 2);
        let mark = dirty.iter().find(|(c, _)| c == "telegram:1").unwrap().1;
        let taste = Taste {
            weights: vec![(1, 5)],
            scale: 0.1,
            bias: 0.0,
            liked: vec![],
            positives: 1,
            negatives: 0,
        };
        // A rating since the mark was read keeps the chat marked.
        store
            .rate("telegram:1", "2401.00003", "7", RatingChange::Up, 15, true)
            .unwrap();
        store.put_taste("telegram:1", &taste, Some(mark)).unwrap();
        let dirty = store.taste_dirty().unwrap();
        let (_, newer) = dirty.iter().find(|(c, _)| c == "telegram:1").unwrap();
        assert_ne!(*newer, mark);
        store.put_taste("telegram:1", &taste, Some(*newer)).unwrap();
        assert!(
            !store
                .taste_dirty()
                .unwrap()
                .iter()
                .any(|(c, _)| c == "telegram:1")
        );
        assert_eq!(store.taste("telegram:1").unwrap(), Some(taste.clone()));
        assert_eq!(store.tastes().unwrap().len(), 1);
        let gone = store.forget("telegram:1").unwrap();
        assert_eq!(
            gone,
            Forgotten {
                ratings: 4,
                model: true
            }
        );
        assert!(store.chat_ratings("telegram:1").unwrap().is_empty());
        assert_eq!(store.taste("telegram:1").unwrap(), None);
        assert_eq!(store.chat_ratings("telegram:12").unwrap().len(), 1);
    }
}

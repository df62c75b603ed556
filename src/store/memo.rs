//! The store's memos: values worked out from its papers (ranked lists, word statistics,
//! overview lines), kept until papers change, within a budget of bytes. When full, the memos
//! least likely to be asked again go (quick_cache), instead of all of them at once.

use std::any::Any;
use std::sync::Arc;

use crate::model::weigh::Weigh;

/// A memo: the paper generation it was worked out at, its value, and what it weighs.
#[derive(Clone)]
struct Memo {
    generation: u64,
    value: Arc<dyn Any + Send + Sync>,
    weight: u64,
}

#[derive(Clone)]
struct MemoWeight;

impl quick_cache::Weighter<String, Memo> for MemoWeight {
    fn weight(&self, key: &String, memo: &Memo) -> u64 {
        key.len() as u64 + memo.weight
    }
}

/// The memos, by key.
pub struct Memos {
    memos: quick_cache::sync::Cache<String, Memo, MemoWeight>,
    budget: u64,
    /// Whether the operator was told that a memo is too large to keep.
    told: std::sync::atomic::AtomicBool,
}

/// The memos' budget unless `[memory] budget_mb` says otherwise.
pub const DEFAULT_MEMO_BYTES: u64 = 24 << 20;

impl Default for Memos {
    fn default() -> Self {
        Memos::with_budget(DEFAULT_MEMO_BYTES)
    }
}

impl Memos {
    /// Memos of at most `budget` bytes.
    pub fn with_budget(budget: u64) -> Memos {
        let mut options = quick_cache::OptionsBuilder::new();
        options
            // A memo can be large (a topic day's ranked papers): few shards, so one shard's
            // part of the budget still holds it; memos are asked for once per list, not per
            // paper, so two shards do not contend.
            .shards(2)
            .estimated_items_capacity((budget / 32_768).max(16) as usize)
            .weight_capacity(budget.max(1));
        let options = options.build().expect("the memo cache's options are valid");
        Memos {
            memos: quick_cache::sync::Cache::with_options(
                options,
                MemoWeight,
                Default::default(),
                Default::default(),
            ),
            budget,
            told: Default::default(),
        }
    }

    /// The value under `key` if it was worked out at `generation`.
    pub fn get<T: Any + Send + Sync>(&self, key: &str, generation: u64) -> Option<Arc<T>> {
        let memo = self.memos.get(key)?;
        if memo.generation != generation {
            return None;
        }
        memo.value.downcast::<T>().ok()
    }

    /// Keeps `value` under `key`, unless it alone would take over a quarter of the budget.
    pub fn put<T: Any + Send + Sync + Weigh>(&self, key: &str, generation: u64, value: Arc<T>) {
        let weight = (value.weigh() + std::mem::size_of::<Memo>()) as u64;
        if weight > self.budget / 4 {
            // Worked out again each time it is asked for: say so once, with what would help.
            if !self.told.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(
                    key = key.split('\0').next().unwrap_or_default(),
                    bytes = weight,
                    memo_budget = self.budget,
                    "a memo is over a quarter of the memos' budget and is not kept: raise [memory] budget_mb"
                );
            }
            return;
        }
        self.memos.insert(
            key.to_string(),
            Memo {
                generation,
                value,
                weight,
            },
        );
    }

    /// Bytes held now, as weighed.
    pub fn bytes(&self) -> u64 {
        self.memos.weight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memos_keep_within_their_budget_and_evict_instead_of_starting_over() {
        let memos = Memos::with_budget(400_000);
        for i in 0..200 {
            memos.put(&format!("m{i}"), 1, Arc::new("x".repeat(10_000)));
            // One memo asked for again and again stays.
            assert!(memos.get::<String>("m0", 1).is_some(), "after {i} memos");
        }
        assert!(memos.bytes() <= 400_000, "{} bytes", memos.bytes());
        assert!(memos.bytes() > 250_000, "{} bytes", memos.bytes());
        assert!(memos.get::<String>("m199", 1).is_some());
    }

    #[test]
    fn a_memo_of_another_generation_or_type_is_not_given() {
        let memos = Memos::with_budget(1 << 20);
        memos.put("k", 1, Arc::new(String::from("v")));
        assert!(memos.get::<String>("k", 2).is_none());
        assert!(memos.get::<Vec<String>>("k", 1).is_none());
        assert_eq!(
            memos.get::<String>("k", 1).as_deref(),
            Some(&"v".to_string())
        );
    }

    #[test]
    fn a_memo_over_a_quarter_of_the_budget_is_not_kept() {
        let memos = Memos::with_budget(100_000);
        memos.put("big", 1, Arc::new("x".repeat(30_000)));
        assert!(memos.get::<String>("big", 1).is_none());
        assert_eq!(memos.bytes(), 0);
    }
}

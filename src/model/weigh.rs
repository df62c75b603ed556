//! What a value weighs in memory, roughly: its own size and its heap. For caches that keep
//! within a budget of bytes (`ByteCache`: quick_cache, evicting what is least likely to be
//! asked again); each type that goes in one says what it holds.

use std::hash::Hash;
use std::sync::Arc;

/// About how many bytes of memory a value holds: its heap and its own size. An estimate (hash
/// tables count their entries, not their spare room) that keeps a budget honest within a
/// small factor.
pub trait Weigh {
    fn weigh(&self) -> usize;
}

/// quick_cache's weighter for keys and values that say what they weigh.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByWeight;

impl<K: Weigh, V: Weigh> quick_cache::Weighter<K, V> for ByWeight {
    fn weight(&self, key: &K, value: &V) -> u64 {
        (key.weigh() + value.weigh()).max(1) as u64
    }
}

/// A cache of at most a budget of bytes, for one owner (behind its lock or in its thread).
pub type ByteCache<K, V> = quick_cache::unsync::Cache<K, V, ByWeight>;

/// A `ByteCache` of `budget` bytes, for entries of about `typical` bytes.
pub fn byte_cache<K: Eq + Hash + Weigh, V: Weigh>(budget: u64, typical: u64) -> ByteCache<K, V> {
    quick_cache::unsync::Cache::with_weighter(
        (budget / typical.max(1)).max(16) as usize,
        budget.max(1),
        ByWeight,
    )
}

impl Weigh for String {
    fn weigh(&self) -> usize {
        self.capacity() + size_of::<String>()
    }
}

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn weigh(&self) -> usize {
        self.0.weigh() + self.1.weigh()
    }
}

impl<T: Weigh> Weigh for Vec<T> {
    fn weigh(&self) -> usize {
        size_of::<Vec<T>>()
            + self.iter().map(Weigh::weigh).sum::<usize>()
            + (self.capacity() - self.len()) * size_of::<T>()
    }
}

/// Values without a heap weigh their size.
macro_rules! weighs_its_size {
    ($($t:ty),*) => {$(
        impl Weigh for $t {
            fn weigh(&self) -> usize {
                size_of::<Self>()
            }
        }
    )*};
}
weighs_its_size!(u64, paperbell_chat::Lang, paperbell_chat::Platform);

impl<T: Weigh> Weigh for Arc<T> {
    fn weigh(&self) -> usize {
        (**self).weigh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weight_counts_what_a_value_holds() {
        let one = vec![String::from("a")];
        let many = vec![String::from("a"); 1000];
        assert!(many.weigh() >= one.weigh() + 999 * size_of::<String>());
        assert!("x".repeat(5000).weigh() >= 5000);
    }

    #[test]
    fn a_byte_cache_keeps_within_its_budget_and_keeps_what_is_asked_again() {
        let mut c: ByteCache<String, String> = byte_cache(100_000, 1_000);
        for i in 0..500 {
            c.insert(format!("k{i}"), "x".repeat(1_000));
            assert!(c.get("k0").is_some(), "after {i}");
        }
        assert!(
            c.weight() <= 100_000 && c.weight() > 60_000,
            "{}",
            c.weight()
        );
    }
}

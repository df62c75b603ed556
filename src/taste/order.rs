//! A list of papers in a chat's order, pure: best liked first by the chat's model, the list's
//! own order (today's facts) breaking ties, with a relevance and a reason for each paper.

use rustc_hash::FxHashMap;

use super::features::{Features, TermId};
use super::model::{Scorer, Taste};

/// Why a paper ranks where it does for a chat.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// It resembles this liked (saved, 👍 or imported) paper.
    Like(String),
    /// These of its words weigh most for the chat.
    Words(Vec<TermId>),
    /// Nothing the chat liked speaks for it.
    None,
}

/// One paper's place for a chat: its index in the list given, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Personal {
    pub index: usize,
    /// How likely the chat likes it, 0 to 1.
    pub score: f32,
    /// Its log-odds above the chat's typical paper (what the mark shows).
    pub lift: f32,
    pub reason: Reason,
}

/// Words shared with a liked paper's heaviest ten that make it "like" that paper.
const SHARED_FOR_LIKE: usize = 4;
/// Words a reason names.
const REASON_WORDS: usize = 3;

/// `features` (a list in its own order) best first for the chat: by score, ties kept in the
/// list's order. Reasons are worked out for the first `explain` only (they are shown there).
pub fn personal_order(scorer: &Scorer, features: &[&Features], explain: usize) -> Vec<Personal> {
    let mut v: Vec<Personal> = features
        .iter()
        .enumerate()
        .map(|(index, f)| Personal {
            index,
            score: scorer.score(f),
            lift: scorer.lift(f),
            reason: Reason::None,
        })
        .collect();
    v.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    for p in v.iter_mut().take(explain) {
        p.reason = reason(scorer, features[p.index]);
    }
    v
}

/// Why the chat would like a paper: the liked paper it resembles, else its heaviest words.
pub fn reason(scorer: &Scorer, f: &Features) -> Reason {
    match scorer.resembles(f, SHARED_FOR_LIKE) {
        Some(id) => Reason::Like(id.to_string()),
        None => {
            let words = scorer.reasons(f, REASON_WORDS);
            if words.is_empty() {
                Reason::None
            } else {
                Reason::Words(words)
            }
        }
    }
}

/// A list of papers many models score in a planning run, inverted: for each word, the papers
/// that have it and its weight there, behind a bit filter of the words the list has. A model
/// then costs its own words (most of which the list lacks: one bit each) and their papers,
/// not every word of every paper.
pub struct ListIndex {
    filter: Vec<u64>,
    terms: FxHashMap<TermId, Postings>,
    postings: Vec<(u32, f32)>,
    /// Terms in (nearly) every paper, a column each: an embedding's dimensions. Adding a
    /// column to the scores runs straight through memory, where postings jump.
    columns: Vec<f32>,
    papers: usize,
}

/// Where a term's weights are: a run of `postings`, or a column of `columns`.
#[derive(Clone, Copy)]
enum Postings {
    Sparse { start: u32, len: u32 },
    Column(u32),
}

/// A term in at least this share of a list's papers is kept as a column.
const COLUMN_SHARE: f32 = 0.75;

/// Bits of `ListIndex`'s filter (8 KB: stays in the cache while a run scores its models).
const FILTER_BITS: usize = 1 << 16;

fn filter_bit(id: TermId) -> usize {
    (id.wrapping_mul(0x9E37_79B9) >> 16) as usize
}

impl ListIndex {
    pub fn new(features: &[&Features]) -> ListIndex {
        let mut by_term: FxHashMap<TermId, Vec<(u32, f32)>> = FxHashMap::default();
        for (i, f) in features.iter().enumerate() {
            for (id, x) in &f.0 {
                by_term.entry(*id).or_default().push((i as u32, *x));
            }
        }
        let papers = features.len();
        let mut filter = vec![0u64; FILTER_BITS / 64];
        let mut terms = FxHashMap::default();
        let mut postings = Vec::with_capacity(by_term.values().map(Vec::len).sum());
        let mut columns = Vec::new();
        for (id, list) in by_term {
            let bit = filter_bit(id);
            filter[bit / 64] |= 1 << (bit % 64);
            if papers >= 16 && list.len() as f32 >= COLUMN_SHARE * papers as f32 {
                let at = columns.len();
                columns.resize(at + papers, 0.0);
                for (paper, x) in list {
                    columns[at + paper as usize] = x;
                }
                terms.insert(id, Postings::Column((at / papers) as u32));
            } else {
                terms.insert(
                    id,
                    Postings::Sparse {
                        start: postings.len() as u32,
                        len: list.len() as u32,
                    },
                );
                postings.extend(list);
            }
        }
        ListIndex {
            filter,
            terms,
            postings,
            columns,
            papers,
        }
    }

    /// Each paper's score under `taste` (the logit: higher is liked more), in list order.
    pub fn scores(&self, taste: &Taste) -> Vec<f32> {
        let mut out = vec![taste.bias; self.papers];
        for (id, q) in &taste.weights {
            let bit = filter_bit(*id);
            if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
                continue;
            }
            let Some(&at) = self.terms.get(id) else {
                continue;
            };
            let w = f32::from(*q) * taste.scale;
            match at {
                Postings::Sparse { start, len } => {
                    for &(paper, x) in &self.postings[start as usize..(start + len) as usize] {
                        out[paper as usize] += w * x;
                    }
                }
                Postings::Column(c) => {
                    let from = c as usize * self.papers;
                    let column = &self.columns[from..from + self.papers];
                    for (o, x) in out.iter_mut().zip(column) {
                        *o += w * x;
                    }
                }
            }
        }
        out
    }

    /// The list's indexes best first for `taste`, ties in the list's order.
    pub fn order(&self, taste: &Taste) -> Vec<usize> {
        let scores = self.scores(taste);
        let mut order: Vec<usize> = (0..self.papers).collect();
        order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taste::{Example, Vocabulary, WordCounts, train};

    #[test]
    fn the_inverted_list_scores_as_the_scorer_does_with_columns_and_postings() {
        let texts: Vec<String> = (0..40)
            .map(|i| {
                let topic = ["radiance fields", "speech synthesis", "robot grasping"][i % 3];
                format!("{topic} paper {i} with shared words")
            })
            .collect();
        let counts: Vec<WordCounts> = texts.iter().map(|t| WordCounts::of(t, "")).collect();
        let vocab = Vocabulary::new(&counts);
        // Every paper has an embedding: its dimensions become columns, its words postings.
        let f: Vec<Features> = counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let e: Vec<f32> = (0..8)
                    .map(|d| ((i * 7 + d * 3) % 11) as f32 - 5.0)
                    .collect();
                Features::new(c, &vocab).with_embedding(&e)
            })
            .collect();
        let taste = train(
            &[
                Example {
                    features: &f[0],
                    liked: true,
                    weight: 1.0,
                },
                Example {
                    features: &f[1],
                    liked: false,
                    weight: 1.0,
                },
                Example {
                    features: &f[3],
                    liked: true,
                    weight: 1.0,
                },
            ],
            &[("2401.00001", &f[0])],
        );
        let refs: Vec<&Features> = f.iter().collect();
        let index = ListIndex::new(&refs);
        assert!(
            !index.columns.is_empty(),
            "dimensions in every paper are columns"
        );
        let scorer = Scorer::new(&taste);
        for (i, s) in index.scores(&taste).iter().enumerate() {
            let want = taste.bias + scorer.lift(&f[i]);
            assert!((s - want).abs() < 1e-4, "paper {i}: {s} against {want}");
        }
    }

    #[test]
    fn liked_papers_come_first_and_ties_keep_the_lists_order() {
        let texts = [
            "Speech recognition benchmarks",
            "Neural radiance fields for dynamic scenes",
            "Speech synthesis",
            "Radiance fields relighting",
        ];
        let counts: Vec<WordCounts> = texts.iter().map(|t| WordCounts::of(t, "")).collect();
        let vocab = Vocabulary::new(&counts);
        let f: Vec<Features> = counts.iter().map(|c| Features::new(c, &vocab)).collect();
        let liked = {
            let c = WordCounts::of("Radiance fields for scenes", "");
            Features::new(&c, &vocab)
        };
        let disliked = {
            let c = WordCounts::of("Speech models", "");
            Features::new(&c, &vocab)
        };
        let taste = train(
            &[
                Example {
                    features: &liked,
                    liked: true,
                    weight: 1.0,
                },
                Example {
                    features: &disliked,
                    liked: false,
                    weight: 1.0,
                },
            ],
            &[("2401.00001", &liked)],
        );
        let scorer = Scorer::new(&taste);
        let refs: Vec<&Features> = f.iter().collect();
        let order = personal_order(&scorer, &refs, 2);
        let idx: Vec<usize> = order.iter().map(|p| p.index).collect();
        assert_eq!(&idx[..2], &[1, 3], "{order:?}");
        assert_ne!(order[0].reason, Reason::None);
        assert_eq!(order[3].reason, Reason::None, "not explained: not shown");
        // No model words at all: the list's order stands.
        let empty = crate::taste::Taste {
            weights: vec![],
            scale: 1.0,
            bias: 0.0,
            liked: vec![],
            positives: 0,
            negatives: 0,
        };
        let s = Scorer::new(&empty);
        let idx: Vec<usize> = personal_order(&s, &refs, 4)
            .iter()
            .map(|p| p.index)
            .collect();
        assert_eq!(idx, vec![0, 1, 2, 3]);
    }
}

//! A chat's taste, pure: a logistic regression over papers' TF-IDF words, learnt from what the
//! chat liked (saves, 👍, imports) against what it did not (👎) and a sample of the day's other
//! papers; kept small (the heaviest words, quantised) so that a model fits in 16 KB of store.
//!
//! Why this model (ARCHITECTURE.md; BENCHMARKS.md, "For you"): arxiv-sanity's linear SVM over
//! TF-IDF is the method readers trust; a logistic regression is the same kind of linear model
//! (its loss differs only in how it treats papers far from the boundary), trains in a few
//! milliseconds on a chat's few hundred papers, and gives log-odds whose lift over the chat's
//! typical paper the relevance mark shows. The other papers of recent days stand in for "not
//! interested", as arxiv-sanity's every-untagged-paper negatives do.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::features::{Features, TermId, is_embedding_term};

/// Words (and pairs of words) a model keeps, the heaviest: at most 8 bytes each in the store,
/// so with `MAX_LIKED` papers of `LIKED_TERMS` words a model stays under 4 KB. Chosen by the
/// evaluation (BENCHMARKS.md, "For you"): keeping 1,200, 400, 200 or 100 scored P@10 0.573,
/// 0.580, 0.592 and 0.599 there, and planning costs grow with every word kept; 200 keeps
/// room for readers with broader interests than the evaluation's.
pub const MAX_TERMS: usize = 200;
/// Liked papers a model remembers for its "why" (like this saved paper), newest first.
pub const MAX_LIKED: usize = 32;
/// Words a liked paper is remembered by.
pub const LIKED_TERMS: usize = 10;
/// The largest encoded model the store keeps.
pub const MAX_BYTES: usize = 16 * 1024;

/// A liked paper, as the "why" of a recommendation can name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Liked {
    pub id: String,
    /// Its heaviest words.
    pub terms: Vec<TermId>,
}

/// A chat's model as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taste {
    /// Word weights, sorted by id, quantised: the weight is `q as f32 * scale`.
    pub weights: Vec<(TermId, i16)>,
    pub scale: f32,
    pub bias: f32,
    pub liked: Vec<Liked>,
    /// What it learnt from (a chat with none ranks as everyone does).
    pub positives: u32,
    pub negatives: u32,
}

/// A paper the model learns from and how much it counts.
pub struct Example<'a> {
    pub features: &'a Features,
    pub liked: bool,
    /// 1 for a rating or an import; less for a paper merely not rated.
    pub weight: f32,
}

/// Passes over the examples.
const EPOCHS: usize = 80;
const LEARNING_RATE: f32 = 4.0;
/// L2 regularisation per pass. The loss is a mean (each side weighs one half), so this does
/// not grow with the number of papers: scaled by them, it held a chat with three likes to
/// probabilities within 0.03 of its baseline (ranking right, marks meaningless).
const L2: f32 = 1e-3;

/// Learns a model from `examples` (in a fixed order, so the same ratings give the same
/// model); `liked` are the liked papers (id, features), newest first, for the "why".
pub fn train(examples: &[Example], liked: &[(&str, &Features)]) -> Taste {
    let (pos, neg): (f32, f32) = examples.iter().fold((0.0, 0.0), |(p, n), e| {
        if e.liked {
            (p + e.weight, n)
        } else {
            (p, n + e.weight)
        }
    });
    // Each side counts as much as the other, however many papers each has.
    let (pos_scale, neg_scale) = if pos > 0.0 && neg > 0.0 {
        (0.5 / pos, 0.5 / neg)
    } else {
        (1.0 / pos.max(1.0), 1.0 / neg.max(1.0))
    };
    let mut w: FxHashMap<TermId, f32> = FxHashMap::default();
    let mut bias = 0.0f32;
    for _ in 0..EPOCHS {
        let mut grad: FxHashMap<TermId, f32> = FxHashMap::default();
        let mut grad_bias = 0.0;
        for e in examples {
            let z = bias
                + e.features
                    .0
                    .iter()
                    .map(|(id, x)| w.get(id).copied().unwrap_or(0.0) * x)
                    .sum::<f32>();
            let p = sigmoid(z);
            let y = if e.liked { 1.0 } else { 0.0 };
            let g = (p - y) * e.weight * if e.liked { pos_scale } else { neg_scale };
            grad_bias += g;
            for (id, x) in &e.features.0 {
                *grad.entry(*id).or_default() += g * x;
            }
        }
        for (id, g) in grad {
            let wi = w.entry(id).or_default();
            *wi -= LEARNING_RATE * (g + L2 * *wi);
        }
        bias -= LEARNING_RATE * grad_bias;
    }
    let mut weights: Vec<(TermId, f32)> = w.into_iter().filter(|(_, x)| *x != 0.0).collect();
    weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    weights.truncate(MAX_TERMS);
    let max = weights.iter().map(|(_, x)| x.abs()).fold(0.0f32, f32::max);
    let scale = if max > 0.0 {
        max / f32::from(i16::MAX)
    } else {
        1.0
    };
    let mut quantised: Vec<(TermId, i16)> = weights
        .into_iter()
        .map(|(id, x)| (id, (x / scale).round() as i16))
        .filter(|(_, q)| *q != 0)
        .collect();
    quantised.sort_unstable_by_key(|(id, _)| *id);
    Taste {
        weights: quantised,
        scale,
        bias,
        liked: liked
            .iter()
            .take(MAX_LIKED)
            .map(|(id, f)| Liked {
                id: id.to_string(),
                terms: f.top_terms(LIKED_TERMS),
            })
            .collect(),
        positives: examples
            .iter()
            .filter(|e| e.liked && e.weight >= 1.0)
            .count() as u32,
        negatives: examples
            .iter()
            .filter(|e| !e.liked && e.weight >= 1.0)
            .count() as u32,
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// A model ready to score many papers: its weights in an open-addressed table (planning scores
/// every paper of a chat's topics, so a lookup must cost a few nanoseconds).
pub struct Scorer<'t> {
    taste: &'t Taste,
    keys: Vec<TermId>,
    values: Vec<f32>,
    mask: usize,
}

/// The empty slot's key (a real id of 0 is looked up beside the table).
const EMPTY: TermId = 0;

impl<'t> Scorer<'t> {
    pub fn new(taste: &'t Taste) -> Scorer<'t> {
        let size = (taste.weights.len() * 2).next_power_of_two().max(16);
        let mut s = Scorer {
            taste,
            keys: vec![EMPTY; size],
            values: vec![0.0; size],
            mask: size - 1,
        };
        for (id, q) in &taste.weights {
            if *id == EMPTY {
                continue;
            }
            let mut i = slot(*id) & s.mask;
            while s.keys[i] != EMPTY {
                i = (i + 1) & s.mask;
            }
            s.keys[i] = *id;
            s.values[i] = f32::from(*q) * taste.scale;
        }
        s
    }

    fn weight(&self, id: TermId) -> f32 {
        if id == EMPTY {
            return self.taste.weight_of(EMPTY);
        }
        let mut i = slot(id) & self.mask;
        loop {
            match self.keys[i] {
                EMPTY => return 0.0,
                k if k == id => return self.values[i],
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    /// How likely the chat is to like a paper, 0 to 1.
    pub fn score(&self, f: &Features) -> f32 {
        sigmoid(self.taste.bias + self.lift(f))
    }

    /// How far a paper's words lift it above the chat's typical paper (its log-odds over the
    /// model's baseline): what the relevance mark shows. Probabilities themselves stay low for
    /// every paper of a chat with few ratings among many unrated ones.
    pub fn lift(&self, f: &Features) -> f32 {
        f.0.iter().map(|(id, x)| self.weight(*id) * x).sum::<f32>()
    }

    /// The paper's words that raised its score most (at most `n`, heaviest first).
    pub fn reasons(&self, f: &Features, n: usize) -> Vec<TermId> {
        let mut v: Vec<(TermId, f32)> =
            f.0.iter()
                .filter(|(id, _)| !is_embedding_term(*id))
                .map(|(id, x)| (*id, self.weight(*id) * x))
                .filter(|(_, c)| *c > 0.0)
                .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter().take(n).map(|(id, _)| id).collect()
    }

    /// The liked paper this one resembles most, when it shares at least `min_shared` of that
    /// paper's heaviest words.
    pub fn resembles(&self, f: &Features, min_shared: usize) -> Option<&'t str> {
        let mine = f.top_terms(LIKED_TERMS * 2);
        self.taste
            .liked
            .iter()
            .map(|l| (l, l.terms.iter().filter(|t| mine.contains(t)).count()))
            .filter(|(_, n)| *n >= min_shared)
            .max_by_key(|(_, n)| *n)
            .map(|(l, _)| l.id.as_str())
    }
}

/// Fibonacci hashing of an FNV id spreads neighbouring ids over the table.
fn slot(id: TermId) -> usize {
    (id.wrapping_mul(0x9E37_79B9) >> 7) as usize
}

impl Taste {
    fn weight_of(&self, id: TermId) -> f32 {
        self.weights
            .binary_search_by_key(&id, |(i, _)| *i)
            .map_or(0.0, |i| f32::from(self.weights[i].1) * self.scale)
    }

    /// Whether it learnt anything to rank by: a liked paper at least.
    pub fn is_trained(&self) -> bool {
        self.positives > 0 && !self.weights.is_empty()
    }
}

/// How a relevance shows beside a paper: three dots, filled by its `lift` (log-odds above the
/// chat's typical paper: 2 is about seven times the odds).
pub fn mark(lift: f32) -> &'static str {
    if lift >= 2.0 {
        "●●●"
    } else if lift >= 1.0 {
        "●●○"
    } else if lift >= 0.3 {
        "●○○"
    } else {
        "○○○"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taste::features::{Vocabulary, WordCounts};

    fn corpus() -> (Vec<Features>, Vec<bool>) {
        let texts = [
            ("Neural radiance fields for scenes", true),
            ("Gaussian splatting of dynamic scenes", true),
            ("Radiance field rendering in real time", true),
            ("Large language models for code", false),
            ("Language model alignment with feedback", false),
            ("Graph neural networks for molecules", false),
            ("Protein structure with graph networks", false),
            ("Speech recognition with transformers", false),
        ];
        let counts: Vec<WordCounts> = texts.iter().map(|(t, _)| WordCounts::of(t, "")).collect();
        let vocab = Vocabulary::new(&counts);
        (
            counts.iter().map(|c| Features::new(c, &vocab)).collect(),
            texts.iter().map(|(_, l)| *l).collect(),
        )
    }

    /// Each paper rated as `liked` says.
    fn rated<'a>(f: &'a [Features], liked: &[bool]) -> Vec<Example<'a>> {
        f.iter()
            .zip(liked)
            .map(|(f, l)| Example {
                features: f,
                liked: *l,
                weight: 1.0,
            })
            .collect()
    }

    #[test]
    fn learns_what_was_liked_and_ranks_it_first() {
        let (f, liked) = corpus();
        let examples = rated(&f, &liked);
        let taste = train(&examples, &[("2401.00001", &f[0])]);
        assert!(taste.is_trained());
        let s = Scorer::new(&taste);
        let unseen = {
            let c = WordCounts::of("Radiance fields of dynamic scenes", "");
            Features::new(&c, &Vocabulary::new([&c]))
        };
        let other = {
            let c = WordCounts::of("Language models for molecules", "");
            Features::new(&c, &Vocabulary::new([&c]))
        };
        assert!(s.score(&unseen) > 0.5, "{}", s.score(&unseen));
        assert!(s.score(&other) < 0.5, "{}", s.score(&other));
        assert!(s.score(&unseen) > s.score(&other));
        assert!(!s.reasons(&unseen, 2).is_empty());
        assert_eq!(s.resembles(&f[0], 2), Some("2401.00001"));
        assert_eq!(s.resembles(&other, 2), None);
    }

    #[test]
    fn the_table_agrees_with_the_sorted_weights() {
        let (f, liked) = corpus();
        let examples = rated(&f, &liked);
        let taste = train(&examples, &[]);
        let s = Scorer::new(&taste);
        for (id, _) in &taste.weights {
            assert_eq!(s.weight(*id), taste.weight_of(*id));
        }
        assert_eq!(s.weight(12345), taste.weight_of(12345));
    }

    #[test]
    fn without_a_liked_paper_nothing_is_learnt() {
        let (f, _) = corpus();
        let examples: Vec<Example> = f
            .iter()
            .map(|f| Example {
                features: f,
                liked: false,
                weight: 1.0,
            })
            .collect();
        assert!(!train(&examples, &[]).is_trained());
        assert_eq!(mark(2.5), "●●●");
        assert_eq!(mark(0.1), "○○○");
    }
}

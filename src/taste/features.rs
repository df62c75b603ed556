//! A paper as a taste model sees it, pure: the English words of its title and abstract as
//! `search::analysis` reads them (stems, stopwords left out), weighed by TF-IDF against the stored papers' document
//! frequencies, as a sparse vector of unit length.

use rustc_hash::FxHashMap;

use crate::search::for_each_word;

/// A word's number: FNV-1a of its stem. Fixed here rather than a library's hasher because
/// models keep these numbers in the store and must read the same after an upgrade.
pub type TermId = u32;

pub fn term_id(stem: &str) -> TermId {
    let mut h: u32 = 0x811c_9dc5;
    for b in stem.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// A title counts this many times over the abstract's words: it says what the paper is about.
const TITLE_WEIGHT: u16 = 2;

/// How often each word and each pair of neighbouring words occurs in a paper (the title's
/// `TITLE_WEIGHT` times), by id. Pairs carry what single words miss ("gaussian splatting",
/// "time series").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WordCounts(pub Vec<(TermId, u16)>);

/// A word worth counting: numbers and single letters say little about a reader's interests.
fn counts_for_taste(stem: &str) -> bool {
    stem.len() > 1 && !stem.bytes().all(|b| b.is_ascii_digit())
}

/// The id of two neighbouring words.
pub fn pair_id(first: &str, second: &str) -> TermId {
    let mut h: u32 = term_id(first);
    for b in std::iter::once(b' ').chain(second.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

impl WordCounts {
    pub fn of(title: &str, abstract_text: &str) -> WordCounts {
        let mut counts: FxHashMap<TermId, u16> = FxHashMap::default();
        for (text, weight) in [(title, TITLE_WEIGHT), (abstract_text, 1)] {
            let mut previous: Option<String> = None;
            for_each_word(text, |stem, _| {
                if !counts_for_taste(stem) {
                    previous = None;
                    return;
                }
                let c = counts.entry(term_id(stem)).or_default();
                *c = c.saturating_add(weight);
                if let Some(p) = &previous {
                    let c = counts.entry(pair_id(p, stem)).or_default();
                    *c = c.saturating_add(weight);
                }
                previous = Some(stem.to_string());
            });
        }
        let mut v: Vec<_> = counts.into_iter().collect();
        v.sort_unstable_by_key(|(id, _)| *id);
        WordCounts(v)
    }
}

/// Document frequencies of words across a sample of stored papers.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    df: FxHashMap<TermId, u32>,
    docs: u32,
}

impl crate::model::weigh::Weigh for Vocabulary {
    fn weigh(&self) -> usize {
        size_of::<Vocabulary>() + self.df.capacity() * (size_of::<(TermId, u32)>() + 1)
    }
}

impl crate::model::weigh::Weigh for Features {
    fn weigh(&self) -> usize {
        size_of::<Features>() + self.0.capacity() * size_of::<(TermId, f32)>()
    }
}

impl Vocabulary {
    pub fn new<'a>(papers: impl IntoIterator<Item = &'a WordCounts>) -> Vocabulary {
        let mut v = Vocabulary::default();
        for p in papers {
            v.docs += 1;
            for (id, _) in &p.0 {
                *v.df.entry(*id).or_default() += 1;
            }
        }
        v
    }

    pub fn papers(&self) -> u32 {
        self.docs
    }

    /// Smoothed inverse document frequency; a word never seen weighs as a rare one.
    pub fn idf(&self, id: TermId) -> f32 {
        let df = self.df.get(&id).copied().unwrap_or(0) as f32;
        ((1.0 + self.docs as f32) / (1.0 + df)).ln() + 1.0
    }
}

/// Embedding dimensions a paper's features take at most.
pub const MAX_EMBEDDING_DIMS: usize = 4096;

/// The terms a paper's embedding's dimensions stand as, hashed like words (so models, scorers
/// and list indexes take both alike) from a text no word can be.
fn embedding_terms() -> &'static (Vec<TermId>, rustc_hash::FxHashSet<TermId>) {
    static TERMS: std::sync::OnceLock<(Vec<TermId>, rustc_hash::FxHashSet<TermId>)> =
        std::sync::OnceLock::new();
    TERMS.get_or_init(|| {
        let ids: Vec<TermId> = (0..MAX_EMBEDDING_DIMS)
            .map(|d| term_id(&format!("\u{1}embedding:{d}")))
            .collect();
        let set = ids.iter().copied().collect();
        (ids, set)
    })
}

/// Whether a term is an embedding dimension (no word: reasons and resemblance skip it).
pub fn is_embedding_term(id: TermId) -> bool {
    embedding_terms().1.contains(&id)
}

/// A paper's TF-IDF vector, sorted by term id, of unit length (empty for a paper without words);
/// with an embedding, the words and the embedding's dimensions share the length equally.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features(pub Vec<(TermId, f32)>);

impl Features {
    pub fn new(counts: &WordCounts, vocabulary: &Vocabulary) -> Features {
        let mut v: Vec<(TermId, f32)> = counts
            .0
            .iter()
            .map(|(id, n)| (*id, (1.0 + f32::from(*n).ln()) * vocabulary.idf(*id)))
            .collect();
        let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut v {
                *w /= norm;
            }
        }
        Features(v)
    }

    /// These words joined with the paper's embedding `e` (at most `MAX_EMBEDDING_DIMS` of it):
    /// each part scaled to length 1/√2, so neither outweighs the other and the whole stays
    /// unit length. An empty or zero embedding changes nothing.
    pub fn with_embedding(mut self, e: &[f32]) -> Features {
        let e = &e[..e.len().min(MAX_EMBEDDING_DIMS)];
        let norm = e.iter().map(|x| x * x).sum::<f32>().sqrt();
        if !norm.is_finite() || norm <= 0.0 {
            return self;
        }
        let share = if self.0.is_empty() {
            1.0
        } else {
            std::f32::consts::FRAC_1_SQRT_2
        };
        for (_, w) in &mut self.0 {
            *w *= share;
        }
        let ids = &embedding_terms().0;
        self.0.extend(
            e.iter()
                .enumerate()
                .map(|(d, x)| (ids[d], x * share / norm)),
        );
        self.0.sort_by_key(|(id, _)| *id);
        self
    }

    /// The ids of the `n` heaviest words (embedding dimensions are not words).
    pub fn top_terms(&self, n: usize) -> Vec<TermId> {
        let mut v: Vec<(TermId, f32)> = self
            .0
            .iter()
            .filter(|(id, _)| !is_embedding_term(*id))
            .copied()
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter().take(n).map(|(id, _)| id).collect()
    }
}

/// A word (or pair of words) of `text` as the reader would recognise it, for each of `ids`:
/// the first place the text uses it, as written there (lower-cased).
pub fn surface_words(text: &str, ids: &[TermId]) -> FxHashMap<TermId, String> {
    let mut out = FxHashMap::default();
    let mut previous: Option<(String, usize)> = None;
    for_each_word(text, |stem, at| {
        if !counts_for_taste(stem) {
            previous = None;
            return;
        }
        let id = term_id(stem);
        if ids.contains(&id) && !out.contains_key(&id) {
            out.insert(id, text[at.clone()].to_lowercase());
        }
        if let Some((p, start)) = &previous {
            let pair = pair_id(p, stem);
            if ids.contains(&pair) && !out.contains_key(&pair) {
                out.insert(pair, text[*start..at.end].to_lowercase());
            }
        }
        previous = Some((stem.to_string(), at.start));
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_embedding_joins_the_words_at_equal_weight() {
        let counts = WordCounts::of("Radiance fields", "");
        let vocab = Vocabulary::new(std::slice::from_ref(&counts));
        let words = Features::new(&counts, &vocab);
        let both = words.clone().with_embedding(&[3.0, 4.0]);
        let len = |f: &Features| f.0.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        assert!((len(&both) - 1.0).abs() < 1e-5);
        let emb: f32 = both
            .0
            .iter()
            .filter(|(id, _)| is_embedding_term(*id))
            .map(|(_, w)| w * w)
            .sum();
        assert!((emb - 0.5).abs() < 1e-5, "{emb}");
        assert!(both.0.windows(2).all(|w| w[0].0 < w[1].0), "sorted by term");
        assert_eq!(
            both.top_terms(10),
            words.top_terms(10),
            "no dimension is a word"
        );
        assert_eq!(words.clone().with_embedding(&[0.0, 0.0]), words);
        let only = Features::default().with_embedding(&[1.0]);
        assert!((len(&only) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn title_words_weigh_more_and_stems_meet() {
        let c = WordCounts::of("Diffusion models", "We train a diffusion model on videos.");
        let id = |w: &str| term_id(w);
        let count = |w| c.0.iter().find(|(i, _)| *i == id(w)).map(|(_, n)| *n);
        assert_eq!(
            count("diffus"),
            Some(3),
            "title twice, abstract once, one stem"
        );
        assert_eq!(count("model"), Some(3));
        assert_eq!(count("video"), Some(1));
        assert_eq!(count("we"), None, "a stopword");
    }

    #[test]
    fn features_are_unit_vectors_and_rare_words_weigh_more() {
        let docs: Vec<WordCounts> = [
            "neural radiance fields",
            "neural networks",
            "neural language models",
        ]
        .iter()
        .map(|t| WordCounts::of(t, ""))
        .collect();
        let vocab = Vocabulary::new(&docs);
        let f = Features::new(&docs[0], &vocab);
        let norm: f32 = f.0.iter().map(|(_, w)| w * w).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        let w = |s: &str| f.0.iter().find(|(i, _)| *i == term_id(s)).unwrap().1;
        assert!(w("radianc") > w("neural"), "in every paper: weighs least");
        assert_eq!(
            Features::new(&WordCounts::default(), &vocab),
            Features::default()
        );
    }

    #[test]
    fn surface_words_are_as_written() {
        let pair = pair_id("gaussian", "splat");
        let words = surface_words(
            "Gaussian Splatting for dynamic scenes",
            &[term_id("splat"), pair],
        );
        assert_eq!(
            words.get(&term_id("splat")).map(String::as_str),
            Some("splatting")
        );
        assert_eq!(
            words.get(&pair).map(String::as_str),
            Some("gaussian splatting")
        );
        let c = WordCounts::of("Gaussian splatting", "");
        assert!(
            c.0.iter().any(|(id, n)| *id == pair && *n == 2),
            "pairs are counted"
        );
    }
}

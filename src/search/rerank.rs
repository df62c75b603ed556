//! Similar papers' word scores blended with their embeddings' cosine (`[llm]
//! embedding_model`): the index's best candidates by words, each scored again as a weighed sum
//! of its word score and how close its embedding is to the paper's. Pure: the embeddings are
//! given.

use super::Hit;

/// Candidates the index is asked for when embeddings re-score them. Only 46 % of a paper's 10
/// closest by embedding alone are among its 100 closest by words, yet re-scoring these 100
/// comes within 1.4 points of embeddings alone on shared categories, and keeps the words'
/// shared authors, at the cost of one index query (BENCHMARKS.md, "Similar papers with
/// embeddings"); embeddings alone would need an index of every paper's vector, which
/// paperbell does not keep.
pub const CANDIDATES: usize = 100;

/// The word score's share of a blended score; the cosine has the rest. On the shared data's
/// 69k real papers with all-MiniLM-L6-v2, 0.5 gave the most shared categories (88.2 %) of the
/// weights that kept the words' shared authors (3.5 %); less weight on words gained at most
/// two tenths of a point of categories and lost authors (BENCHMARKS.md).
pub const WORD_WEIGHT: f32 = 0.5;

/// `hits` (word scores, each divided by the paper's own, so at most about 1) scored again as
/// `WORD_WEIGHT * word + (1 - WORD_WEIGHT) * cosine(own, theirs)`, best first. `theirs[i]` is
/// `hits[i]`'s embedding: a candidate without one is given the mean cosine of those with one,
/// so that it neither wins nor loses by being new to the model.
pub fn blend(hits: Vec<Hit>, own: &[f32], theirs: &[Option<Vec<f32>>], weight: f32) -> Vec<Hit> {
    let cosines: Vec<Option<f32>> = theirs
        .iter()
        .map(|t| t.as_deref().and_then(|t| cosine(own, t)))
        .collect();
    let known: Vec<f32> = cosines.iter().flatten().copied().collect();
    let mean = if known.is_empty() {
        0.0
    } else {
        known.iter().sum::<f32>() / known.len() as f32
    };
    let mut scored: Vec<(f32, Hit)> = hits
        .into_iter()
        .zip(cosines.iter().chain(std::iter::repeat(&None)))
        .map(|(h, c)| {
            let word = h.score.unwrap_or(0.0);
            let s = weight * word + (1.0 - weight) * c.unwrap_or(mean);
            (s, h)
        })
        .collect();
    // Stable: equal blends keep the index's order.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .map(|(s, h)| Hit {
            score: Some(s),
            ..h
        })
        .collect()
}

/// The cosine of two vectors, `None` when they differ in length or one is all zeros.
pub fn cosine(a: &[f32], b: &[f32]) -> Option<f32> {
    if a.len() != b.len() {
        return None;
    }
    let (mut ab, mut aa, mut bb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    (aa > 0.0 && bb > 0.0).then(|| ab / (aa.sqrt() * bb.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str, score: f32) -> Hit {
        Hit {
            id: id.into(),
            score: Some(score),
            day: None,
        }
    }

    fn ids(hits: &[Hit]) -> Vec<&str> {
        hits.iter().map(|h| h.id.as_str()).collect()
    }

    #[test]
    fn a_close_embedding_lifts_a_paper_past_better_words() {
        let own = [1.0, 0.0];
        let hits = vec![hit("words", 0.6), hit("meaning", 0.4)];
        let theirs = [Some(vec![0.0, 1.0]), Some(vec![2.0, 0.1])];
        let blended = blend(hits, &own, &theirs, 0.5);
        assert_eq!(ids(&blended), ["meaning", "words"]);
        let s = blended[0].score.unwrap();
        let expected = 0.5 * 0.4 + 0.5 * cosine(&own, &[2.0, 0.1]).unwrap();
        assert!((s - expected).abs() < 1e-6, "{s} vs {expected}");
        // With words alone the order is the index's.
        let hits = vec![hit("words", 0.6), hit("meaning", 0.4)];
        assert_eq!(ids(&blend(hits, &own, &theirs, 1.0)), ["words", "meaning"]);
    }

    #[test]
    fn a_paper_without_an_embedding_is_given_the_mean_cosine() {
        let own = [1.0, 0.0];
        let hits = vec![hit("far", 0.5), hit("new", 0.5), hit("near", 0.5)];
        let theirs = [Some(vec![0.0, 1.0]), None, Some(vec![1.0, 0.0])];
        let blended = blend(hits, &own, &theirs, 0.5);
        assert_eq!(ids(&blended), ["near", "new", "far"]);
        assert!((blended[1].score.unwrap() - (0.25 + 0.25)).abs() < 1e-6);
    }

    #[test]
    fn vectors_that_cannot_be_compared_count_as_missing() {
        assert_eq!(cosine(&[1.0, 0.0], &[1.0]), None);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), None);
        let hits = vec![hit("a", 0.2), hit("b", 0.1)];
        // Nothing comparable: words decide.
        let blended = blend(hits, &[1.0, 0.0], &[Some(vec![1.0]), None], 0.5);
        assert_eq!(ids(&blended), ["a", "b"]);
    }
}

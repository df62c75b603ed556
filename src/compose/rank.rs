//! A topic's papers ranked with the facts the store knows about them, and the background an
//! overview line's keywords are weighed against.

use std::sync::Arc;

use crate::digest::{RankFacts, Ranked};
use crate::model::paper::StoredPaper;
use crate::store::{Store, StoreError};
use crate::summary::overview::Background;
use crate::topics::{MatchText, Topic};

/// Recent papers of a topic that the overview's keywords are weighed against.
const OVERVIEW_BACKGROUND: usize = 300;

/// A topic's papers best first (`digest::rank_order`): match strength and cross-listing from
/// `topic`'s matcher, code links and upvotes with what Hugging Face told the store. The facts
/// are kept with the papers, for the overview line.
pub fn rank(
    store: &Store,
    topic: Option<&Topic>,
    papers: Vec<StoredPaper>,
) -> Result<Ranked, StoreError> {
    let mut facts = Vec::with_capacity(papers.len());
    for sp in &papers {
        let hf = store.hf(sp.paper.id.as_str())?;
        let hit = topic.and_then(|t| t.matches(&sp.paper, &MatchText::of_stored(sp)));
        facts.push(RankFacts {
            strong: hit.is_some_and(|h| h.in_title || h.by_author),
            has_code: !crate::summary::links(sp, hf.as_ref()).code.is_empty(),
            upvotes: hf.and_then(|h| h.upvotes).unwrap_or(0),
            cross: hit.is_some_and(|h| h.cross),
        });
    }
    Ok(Ranked::new(
        papers,
        facts,
        topic.is_some_and(|t| t.external),
    ))
}

/// What an overview line's keywords are weighed against: the texts of the topic's most recent
/// papers in the store (none for a topic that is not configured).
pub fn background(store: &Store, topic: Option<&Topic>) -> Result<Arc<Background>, StoreError> {
    let Some(t) = topic else {
        return Ok(Arc::new(Background::default()));
    };
    // Kept until papers change: `/digest` and every planning run would otherwise read and
    // tokenise the same 300 papers again.
    store.memo(&format!("background\0{}", t.id), || {
        let docs: Vec<String> = store
            .recent_by_topic(&t.id, OVERVIEW_BACKGROUND)?
            .iter()
            .map(|sp| {
                crate::summary::overview::paper_text(&sp.paper.title, &sp.paper.abstract_text)
            })
            .collect();
        Ok(Background::new(&docs))
    })
}

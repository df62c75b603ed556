//! The terminal's digests (`paperbell run` with no chat platform): each configured topic's
//! papers of one announcement day, in the terminal reader's order (chat `local`) once they
//! rated papers, each with its relevance and why.

use chrono::NaiveDate;
use paperbell_chat::Lang;

use crate::digest::TopicDigest;
use crate::store::{Store, StoreError};
use crate::taste::{Scorer, Taste};
use crate::topics::TopicSet;

/// The terminal reader's chat.
pub const LOCAL_CHAT: &str = "local";

/// Per-topic digests of one announcement day, from the store (topics with no paper left out).
pub fn day_digests(
    store: &Store,
    topics: &TopicSet,
    day: NaiveDate,
) -> Result<Vec<TopicDigest>, StoreError> {
    let taste = store.taste(LOCAL_CHAT)?.filter(Taste::is_trained);
    let scorer = taste.as_ref().map(Scorer::new);
    let mut out = Vec::new();
    for t in &topics.topics {
        let mut papers = store.topic_day(&t.id, day)?;
        if papers.is_empty() {
            continue;
        }
        let mut relevance = Vec::new();
        if let Some(scorer) = &scorer {
            let features = super::taste::featurizer(store)?.all(&papers)?;
            let refs: Vec<_> = features.iter().collect();
            let order = crate::taste::personal_order(scorer, &refs, 0);
            let mut slots: Vec<_> = papers.into_iter().map(Some).collect();
            papers = Vec::with_capacity(order.len());
            for p in order {
                let Some(sp) = slots[p.index].take() else {
                    continue;
                };
                relevance.push(super::taste::relevance(
                    store,
                    scorer,
                    &sp,
                    &features[p.index],
                    Lang::En,
                )?);
                papers.push(sp);
            }
        }
        out.push(TopicDigest {
            topic_id: t.id.clone(),
            topic_name: t.name.clone(),
            day,
            papers,
            relevance,
        });
    }
    Ok(out)
}

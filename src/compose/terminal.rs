//! The terminal's digests (`paperbell run` with no chat platform): each configured topic's
//! papers of one announcement day.

use chrono::NaiveDate;

use crate::digest::TopicDigest;
use crate::store::{Store, StoreError};
use crate::topics::TopicSet;

/// Per-topic digests of one announcement day, from the store (topics with no paper left out).
pub fn day_digests(
    store: &Store,
    topics: &TopicSet,
    day: NaiveDate,
) -> Result<Vec<TopicDigest>, StoreError> {
    let mut out = Vec::new();
    for t in &topics.topics {
        let papers = store.topic_day(&t.id, day)?;
        if !papers.is_empty() {
            out.push(TopicDigest {
                topic_id: t.id.clone(),
                topic_name: t.name.clone(),
                day,
                papers,
            });
        }
    }
    Ok(out)
}

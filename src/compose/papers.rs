//! Which topic a subscription follows, and its papers over a span of announcement days.

use chrono::NaiveDate;

use super::for_you::{is_for_you, papers_in};
use crate::model::chat::Subscription;
use crate::model::paper::{Category, StoredPaper};
use crate::store::{Store, StoreError};
use crate::topics::{MatchText, Topic, TopicSet};

/// Whether the subscription follows a configured topic (whose papers the store indexes).
pub fn is_configured(topics: &TopicSet, s: &Subscription) -> bool {
    topics.topics.iter().any(|c| c.id == s.topic_id)
}

/// The topic a subscription follows: configured, or rebuilt from its query; `None` when it
/// was removed from the config since.
pub fn topic_of(topics: &TopicSet, s: &Subscription) -> Option<Topic> {
    if is_for_you(s) {
        // Not a keyword topic: its papers are its categories' (`papers_between`).
        return None;
    }
    if let Some(t) = topics.topics.iter().find(|c| c.id == s.topic_id) {
        return Some(t.clone());
    }
    topics
        .resolve(s.query.as_deref().unwrap_or(&s.topic_id))
        .ok()
}

/// A subscription's papers announced (for a configured topic: entered into it; for `for-you`:
/// in the categories its query names, as `for_you::scoped` sets it) from `from` on, oldest day
/// first and in arrival order within a day; the store's newest day bounds it.
pub fn papers_between(
    store: &Store,
    topics: &TopicSet,
    s: &Subscription,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<StoredPaper>, StoreError> {
    if from > to {
        return Ok(Vec::new());
    }
    if is_for_you(s) {
        let cats: Vec<Category> = s
            .query
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(|c| Category(c.to_string()))
            .collect();
        return papers_in(store, &cats, from, to);
    }
    if is_configured(topics, s) {
        // Newest day first, newest first within a day: reversed, the order they came in.
        let mut papers = store.topic_since(&s.topic_id, from)?;
        papers.reverse();
        papers.retain(|sp| sp.topics.iter().any(|(t, d)| t == &s.topic_id && *d <= to));
        return Ok(papers);
    }
    let source = s.query.as_deref().unwrap_or(&s.topic_id);
    let Ok(topic) = topics.resolve(source) else {
        // A configured topic that was removed from the config since.
        return Ok(Vec::new());
    };
    let mut papers = store.papers_between(from, to)?;
    papers.retain(|sp| {
        topic
            .matches(&sp.paper, &MatchText::of_stored(sp))
            .is_some()
    });
    Ok(papers)
}

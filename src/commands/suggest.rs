//! Topic suggestions while a person types (Discord's autocomplete), pure.

use paperbell_chat::TopicItem;

use crate::compose::for_you::FOR_YOU;
use crate::model::categories::CATEGORIES;
use crate::model::chat::Subscription;
use crate::topics::TopicSet;

/// Suggestions a person sees while typing a topic.
pub const SUGGESTIONS: usize = 25;

/// Topics matching what a person has typed so far, best first: names or ids starting with it,
/// then containing it; this chat's subscriptions before configured topics before `for-you`
/// before arXiv categories. With nothing typed: the subscriptions, then the configured topics.
/// Pure.
pub fn suggest_topics(
    topics: &TopicSet,
    subs: &[Subscription],
    typed: &str,
    limit: usize,
) -> Vec<TopicItem> {
    let needle = typed.trim().to_lowercase();
    let subscribed = |id: &str| subs.iter().any(|s| s.topic_id == id);
    let candidates = subs
        .iter()
        .map(|s| (s.topic_id.as_str(), s.topic_name.as_str()))
        .chain(
            topics
                .topics
                .iter()
                .map(|t| (t.id.as_str(), t.name.as_str())),
        )
        // The chat's own list, after the configured topics.
        .chain(std::iter::once((FOR_YOU, FOR_YOU)))
        .chain(
            CATEGORIES
                .iter()
                .filter(|_| !needle.is_empty())
                .map(|c| (*c, *c)),
        );
    let mut scored: Vec<(u8, usize, TopicItem)> = Vec::new();
    for (order, (id, name)) in candidates.enumerate() {
        let (lid, lname) = (id.to_lowercase(), name.to_lowercase());
        let score = if lid.starts_with(&needle) || lname.starts_with(&needle) {
            0
        } else if lid.contains(&needle) || lname.contains(&needle) {
            1
        } else {
            continue;
        };
        if scored.iter().any(|(_, _, it)| it.id == id) {
            continue;
        }
        scored.push((
            score,
            order,
            TopicItem {
                id: id.to_string(),
                name: name.to_string(),
                subscribed: subscribed(id),
            },
        ));
    }
    scored.sort_by_key(|(score, order, _)| (*score, *order));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, _, it)| it)
        .collect()
}

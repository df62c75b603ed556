//! Which papers want a figure after a fetch: what digests will show, best first. Each list a
//! chat follows (a topic, a category, a query, a chat's for-you categories) gives its day's top
//! papers up to the largest `max` among its chats; the lists are taken in turns, rank by rank,
//! so a small budget still gives every list its first papers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;

use super::for_you::{is_for_you, list_key, scoped};
use super::papers::topic_of;
use super::today::ranked_day;
use crate::digest::Ranked;
use crate::model::chat::DEFAULT_MAX_PER_TOPIC;
use crate::model::paper::StoredPaper;
use crate::store::{Store, StoreError};
use crate::topics::TopicSet;

/// Chats of one topic read for their `max` (a topic's list is the same for all of them; only
/// how many they are shown differs).
const MAX_READ_PER_TOPIC: usize = 1000;

/// Up to `limit` papers of `day` that digests will show and whose figure was never asked for,
/// best first in turns across the lists.
pub fn wanted(
    store: &Store,
    topics: &TopicSet,
    day: NaiveDate,
    limit: usize,
) -> Result<Vec<StoredPaper>, StoreError> {
    let mut lists: Vec<(Arc<Ranked>, usize)> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for topic_id in store.subscribed_topics()? {
        let mut read = 0;
        for chat in store.subscribers(&topic_id)? {
            let Some(rec) = store.chat(&chat)?.filter(|r| r.active) else {
                continue;
            };
            let subs = store.subscriptions(&chat)?;
            let subs = scoped(topics, rec.settings.cats, &subs).unwrap_or(subs);
            let Some(s) = subs.iter().find(|s| s.topic_id == topic_id) else {
                continue;
            };
            let max = rec.settings.max.unwrap_or(DEFAULT_MAX_PER_TOPIC) as usize;
            let key = list_key(s).into_owned();
            match by_key.get(&key) {
                Some(&i) => lists[i].1 = lists[i].1.max(max),
                None => {
                    let ranked = ranked_day(store, topics, s, topic_of(topics, s).as_ref(), day)?;
                    by_key.insert(key, lists.len());
                    lists.push((ranked, max));
                }
            }
            read += 1;
            if !is_for_you(s) && read >= MAX_READ_PER_TOPIC {
                break;
            }
        }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let deepest = lists.iter().map(|(_, n)| *n).max().unwrap_or(0);
    for rank in 0..deepest {
        for (ranked, n) in &lists {
            if out.len() >= limit {
                return Ok(out);
            }
            let Some(sp) = ranked.papers.get(rank).filter(|_| rank < *n) else {
                continue;
            };
            if !seen.insert(sp.paper.id.clone()) {
                continue;
            }
            if store
                .figure(sp.paper.id.as_str(), sp.paper.version)?
                .is_none()
            {
                out.push(sp.clone());
            }
        }
    }
    Ok(out)
}

//! A topic day's overview keywords, worked out once when the day is stored (`keep`, after each
//! fetch) and read where the day is shown (`stored`): tokenising a day's papers and the topic's
//! background was 40 % of a topic day's first view.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::background;
use crate::store::{Store, StoreError};
use crate::summary::overview::{LINE_KEYWORDS, keywords, paper_text};
use crate::topics::TopicSet;

/// Works out and keeps the keywords of every matched topic's `days`; returns how many topic
/// days it kept.
pub fn keep(
    store: &Store,
    topics: &TopicSet,
    days: &BTreeSet<NaiveDate>,
) -> Result<usize, StoreError> {
    let mut kept = 0;
    for t in topics.topics.iter().filter(|t| !t.external) {
        for &day in days {
            let papers = store.topic_day(&t.id, day)?;
            if papers.is_empty() {
                continue;
            }
            let texts: Vec<String> = papers
                .iter()
                .map(|sp| paper_text(&sp.paper.title, &sp.paper.abstract_text))
                .collect();
            let k = keywords(&texts, &*background(store, Some(t))?, LINE_KEYWORDS);
            store.put_day_keywords(&t.id, day, papers.len(), &k)?;
            kept += 1;
        }
    }
    Ok(kept)
}

/// The keywords kept for `topic`'s `day`, when they were worked out from the `papers` it holds
/// now.
pub fn stored(
    store: &Store,
    topic: &str,
    day: NaiveDate,
    papers: usize,
) -> Result<Option<Vec<String>>, StoreError> {
    Ok(store
        .day_keywords(topic, day)?
        .and_then(|(n, k)| (n == papers).then_some(k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_days_keywords_are_kept_until_the_day_grows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        let topics = crate::config::Config::shipped().topic_set().unwrap();
        // Real papers: their words tell days apart (generated ones repeat a template).
        let real = crate::search::agreement::real_papers();
        store.ingest(&real, &topics).unwrap();
        let days: BTreeSet<NaiveDate> = real.iter().filter_map(|p| p.announce_day()).collect();
        let kept = keep(&store, &topics, &days).unwrap();
        assert!(kept >= 100, "{kept} topic days");
        let (t, day) = topics
            .topics
            .iter()
            .flat_map(|t| days.iter().map(move |d| (t, *d)))
            .max_by_key(|(t, d)| store.topic_day(&t.id, *d).unwrap().len())
            .unwrap();
        let papers = store.topic_day(&t.id, day).unwrap();
        let texts: Vec<String> = papers
            .iter()
            .map(|sp| paper_text(&sp.paper.title, &sp.paper.abstract_text))
            .collect();
        let want = keywords(&texts, &background(&store, Some(t)).unwrap(), LINE_KEYWORDS);
        assert!(!want.is_empty(), "{}: {} papers", t.id, papers.len());
        assert_eq!(
            stored(&store, &t.id, day, papers.len()).unwrap(),
            Some(want)
        );
        assert_eq!(
            stored(&store, &t.id, day, papers.len() + 1).unwrap(),
            None,
            "a day that grew is worked out again"
        );
    }
}

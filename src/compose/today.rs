//! A chat's digest on request (`/digest`): for each subscription, its papers of the newest
//! announcement day, as digest messages. On request nothing counts as delivered.

use chrono::NaiveDate;
use paperbell_chat::DigestMessage;

use super::{background, item, overview_with_llm, papers_between, rank, topic_of};
use crate::digest;
use crate::model::chat::{DigestFormat, Effective, Subscription};
use crate::model::paper::StoredPaper;
use crate::store::{Store, StoreError};
use crate::topics::TopicSet;

/// What a chat's digest is right now.
#[derive(Debug)]
pub enum Today {
    /// Nothing has been fetched yet.
    NothingFetched,
    /// None of the chat's topics has papers on the newest day.
    Empty(NaiveDate),
    Digests(Vec<DigestMessage>),
}

/// The digest of the newest announcement day for `subs`, a paper in several topics once.
pub fn today(
    store: &Store,
    topics: &TopicSet,
    subs: &[Subscription],
    eff: &Effective,
) -> Result<Today, StoreError> {
    let lang = eff.lang;
    let Some(day) = store.latest_day()? else {
        return Ok(Today::NothingFetched);
    };
    let mut lists = Vec::with_capacity(subs.len());
    let mut followed = Vec::with_capacity(subs.len());
    for s in subs {
        let topic = topic_of(topics, s);
        let papers = papers_between(store, topics, s, day, day)?;
        lists.push(rank(store, topic.as_ref(), papers)?);
        followed.push(topic);
    }
    let per_topic: Vec<(&str, &[StoredPaper])> = subs
        .iter()
        .zip(&lists)
        .map(|(s, l)| (s.topic_name.as_str(), l.papers.as_slice()))
        .collect();
    let mut messages = Vec::new();
    for t in digest::plan(&per_topic, |_| false, eff.max as usize) {
        let list = &lists[t.topic];
        let topic_id = &subs[t.topic].topic_id;
        let background = background(store, followed[t.topic].as_ref())?;
        let line = list.overview(&t.about(), &background, lang);
        messages.push(DigestMessage {
            title: subs[t.topic].topic_name.clone(),
            day: day.to_string(),
            overview: overview_with_llm(store, topic_id, day, lang, Some(line))?,
            more: t.more,
            papers: t
                .papers
                .iter()
                .map(|(i, names)| item(store, &list.papers[*i], names, lang))
                .collect::<Result<_, _>>()?,
            unsubscribe_topic: Some(topic_id.clone()),
            lang,
            compact: eff.format == DigestFormat::Compact,
        });
    }
    Ok(if messages.is_empty() {
        Today::Empty(day)
    } else {
        Today::Digests(messages)
    })
}

//! A chat's digest on request (`/digest`): for each subscription, its papers of the newest
//! announcement day, as digest messages. On request nothing counts as delivered.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::NaiveDate;
use paperbell_chat::{DigestMessage, Lang, Relevance};

use super::taste::{personal, reason_text};
use super::{background, for_you, item, overview_with_llm, papers_between, rank, topic_of};
use crate::digest::{self, Ranked};
use crate::model::chat::{DigestFormat, Effective, Subscription};
use crate::model::paper::StoredPaper;
use crate::store::{Store, StoreError};
use crate::taste::{Taste, mark};
use crate::topics::{Topic, TopicSet};

/// What a chat's digest is right now.
#[derive(Debug)]
pub enum Today {
    /// Nothing has been fetched yet.
    NothingFetched,
    /// None of the chat's topics has papers on the newest day.
    Empty(NaiveDate),
    Digests(Vec<DigestMessage>),
}

/// The digest of the newest announcement day for `subs`, a paper in several topics once; in
/// the chat's order, each paper with its relevance, when `taste` learnt something.
pub fn today(
    store: &Store,
    topics: &TopicSet,
    subs: &[Subscription],
    eff: &Effective,
    taste: Option<&Taste>,
) -> Result<Today, StoreError> {
    let taste = taste.filter(|t| t.is_trained());
    let lang = eff.lang;
    let Some(day) = store.latest_day()? else {
        return Ok(Today::NothingFetched);
    };
    let scoped = for_you::scoped(topics, eff.cats, subs);
    let subs = scoped.as_deref().unwrap_or(subs);
    let mut lists: Vec<Arc<Ranked>> = Vec::with_capacity(subs.len());
    let mut followed = Vec::with_capacity(subs.len());
    for s in subs {
        let topic = topic_of(topics, s);
        lists.push(ranked_day(store, topics, s, topic.as_ref(), day)?);
        followed.push(topic);
    }
    let per_topic: Vec<(&str, &[StoredPaper])> = subs
        .iter()
        .zip(&lists)
        .map(|(s, l)| (s.topic_name.as_str(), l.papers.as_slice()))
        .collect();
    let mut messages = Vec::new();
    // A chat with a model cuts each topic's new papers in its own order.
    let cut = if taste.is_some() {
        usize::MAX
    } else {
        eff.max as usize
    };
    for mut t in digest::plan(&per_topic, |_| false, cut) {
        let list = &lists[t.topic];
        let topic_id = &subs[t.topic].topic_id;
        let mut marks: Vec<Option<Relevance>> = Vec::new();
        if let Some(taste) = taste {
            let candidates: Vec<StoredPaper> = t
                .papers
                .iter()
                .map(|(i, _)| list.papers[*i].clone())
                .collect();
            let max = eff.max as usize;
            let order = personal(store, taste, &candidates, max)?;
            let mut slots: Vec<Option<(usize, Vec<String>)>> =
                t.papers.drain(..).map(Some).collect();
            for p in order.into_iter().take(max) {
                let Some(chosen) = slots[p.index].take() else {
                    continue;
                };
                marks.push(Some(Relevance {
                    mark: mark(p.lift).to_string(),
                    why: reason_text(store, &p.reason, &candidates[p.index], lang)?,
                }));
                t.papers.push(chosen);
            }
            let rest: Vec<usize> = slots.into_iter().flatten().map(|(i, _)| i).collect();
            t.more = rest.len();
            t.left_out = rest;
        }
        let about = t.about();
        let key = overview_key(&for_you::list_key(&subs[t.topic]), day, lang, &about);
        let line = store.memo(&key, || {
            let background = background(store, followed[t.topic].as_ref())?;
            Ok(list.overview(&about, &background, lang))
        })?;
        messages.push(DigestMessage {
            title: subs[t.topic].topic_name.clone(),
            day: day.to_string(),
            overview: overview_with_llm(store, topic_id, day, lang, Some(line.to_string()))?,
            more: t.more,
            papers: t
                .papers
                .iter()
                .enumerate()
                .map(|(n, (i, names))| {
                    let mut p = item(store, &list.papers[*i], names, lang)?;
                    p.relevance = marks.get(n).cloned().flatten();
                    Ok::<_, StoreError>(p)
                })
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

/// A subscription's papers of one announcement day, best first (`topic` is its topic, from
/// `topic_of`). Every chat of a topic, and the web's pages, ask for the same day: the ranked
/// list (and the papers' overview terms) is worked out once and kept until papers or their
/// facts change. A category or query topic matches the whole day, which took most of /digest.
pub fn ranked_day(
    store: &Store,
    topics: &TopicSet,
    s: &Subscription,
    topic: Option<&Topic>,
    day: NaiveDate,
) -> Result<Arc<Ranked>, StoreError> {
    store.memo(&format!("today\0{}\0{day}", for_you::list_key(s)), || {
        let papers = papers_between(store, topics, s, day, day)?;
        let list = rank(store, topic, papers)?;
        list.terms();
        Ok(list)
    })
}

/// The memo key of a topic's overview line of a day, in a language, over the papers (indexes
/// into its ranked list) a message speaks of.
fn overview_key(topic: &str, day: NaiveDate, lang: Lang, about: &[usize]) -> String {
    let mut h = rustc_hash::FxHasher::default();
    about.hash(&mut h);
    format!(
        "overview\0{topic}\0{day}\0{}\0{:x}",
        lang.code(),
        h.finish()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::chat::{ChatDefaults, ChatSettings};
    use crate::model::enrichment::HfInfo;

    #[test]
    fn a_kept_digest_follows_new_papers_and_new_facts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let topics = crate::config::Config::shipped().topic_set().unwrap();
        let ingest = |day: u32, ids: std::ops::Range<usize>| {
            let day = NaiveDate::from_ymd_opt(2024, 11, day).unwrap();
            let doc = paperbell_testkit::arxiv::day_feed(day, ids);
            let parsed = crate::sources::parse(doc.as_bytes()).unwrap();
            store.ingest(&parsed.papers, &topics).unwrap();
        };
        ingest(18, 0..40);
        let subs = [Subscription {
            topic_id: "cs.CV".into(),
            topic_name: "cs.CV".into(),
            query: None,
            since: None,
        }];
        let mut settings = ChatSettings::default();
        settings.set("max", "50").unwrap();
        let eff = settings.effective(&ChatDefaults::default(), None);
        let ids = || match today(&store, &topics, &subs, &eff, None).unwrap() {
            Today::Digests(m) => m[0].papers.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let before = ids();
        assert!(before.len() > 2, "{before:?}");
        // Hugging Face's facts (code and upvotes) reorder the kept list.
        let last = before.last().unwrap().clone();
        let facts = HfInfo {
            found: true,
            upvotes: Some(10_000),
            github_repo: Some("https://github.com/a/b".into()),
            ..HfInfo::default()
        };
        store.put_hf(&last, &facts).unwrap();
        assert_eq!(ids()[0], last);
        // A new announcement day is the new digest.
        ingest(19, 1000..1040);
        assert!(ids().iter().all(|id| !before.contains(id)));
    }
}

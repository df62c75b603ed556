//! The digest an outbox item stands for, built when it is sent from the store as it is then,
//! with a cache of papers shared by every digest of a fan-out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paperbell_chat::{DigestMessage, Lang, PaperItem, TldrSource};

use super::overview_with_llm;
use crate::model::delivery::OutboxItem;
use crate::store::{Store, StoreError};
use crate::taste::{Features, Scorer, Taste};

/// Papers as chats show them, shared by every digest of a fan-out (a TL;DR is computed once
/// per paper and language, not once per chat).
#[derive(Default)]
pub struct PaperCache {
    items: HashMap<(String, Lang), (tokio::time::Instant, PaperItem)>,
    /// Papers as taste models weigh them, for chats with a model.
    features: HashMap<String, Arc<Features>>,
}

/// Cached papers before the cache starts over (one or two announcement days).
const PAPER_CACHE_MAX: usize = 20_000;
/// An extractive TL;DR is looked up again after this long: the LLM may have written one since
/// the fan-out began.
pub const EXTRACTIVE_RECHECK: Duration = Duration::from_secs(60);

/// The digest an outbox item stands for, built from the store as it is now: the LLM's
/// summaries and topic overview when the cache has them, else the extractive ones.
pub fn digest_message(
    store: &Store,
    item: &OutboxItem,
    cache: &Mutex<PaperCache>,
) -> Result<DigestMessage, StoreError> {
    let m = &item.message;
    let lang = Lang::from_code(&m.lang).unwrap_or(Lang::En);
    // A chat that rated papers sees how likely it likes each, and why. Only a chat that rated
    // something has a model record, so the others (most of a fan-out) read no tallies either.
    let taste = store.taste(&item.chat)?;
    let has_rated = taste.is_some();
    let taste = taste.filter(Taste::is_trained);
    let scorer = taste.as_ref().map(Scorer::new);
    let mut papers = Vec::with_capacity(m.papers.len());
    for (id, topics) in &m.papers {
        let key = (id.clone(), lang);
        let cached = cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .items
            .get(&key)
            .filter(|(at, p)| p.tldr_source == TldrSource::Llm || at.elapsed() < EXTRACTIVE_RECHECK)
            .map(|(_, p)| p.clone());
        let mut p = match cached {
            Some(p) => p,
            None => {
                let Some(sp) = store.paper_by_id(id)? else {
                    // Not stored any more: the rest of the digest still goes out.
                    continue;
                };
                let p = super::item(store, &sp, &[], lang)?;
                let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
                if c.items.len() >= PAPER_CACHE_MAX {
                    c.items.clear();
                }
                c.items
                    .insert(key, (tokio::time::Instant::now(), p.clone()));
                p
            }
        };
        p.topics = topics.clone();
        // The chat may have rated it already (under /recent, an earlier digest).
        if has_rated {
            p.rated = store.tally(&item.chat, id)?.into();
        }
        if let Some(scorer) = &scorer {
            p.relevance = relevance(store, scorer, id, lang, cache)?;
        }
        papers.push(p);
    }
    // The LLM's overview of the newest day covered, above the counts and keywords.
    let newest = m
        .day
        .rsplit(' ')
        .next()
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok());
    let overview = match (&m.unsubscribe_topic, newest) {
        (Some(topic), Some(day)) => overview_with_llm(store, topic, day, lang, m.overview.clone())?,
        _ => m.overview.clone(),
    };
    Ok(DigestMessage {
        title: m.title.clone(),
        day: m.day.clone(),
        overview,
        papers,
        more: m.more as usize,
        unsubscribe_topic: m.unsubscribe_topic.clone(),
        lang,
        compact: m.compact,
    })
}

/// A paper's relevance for a chat with a model (`None` if the paper is not stored any more).
fn relevance(
    store: &Store,
    scorer: &Scorer,
    id: &str,
    lang: Lang,
    cache: &Mutex<PaperCache>,
) -> Result<Option<paperbell_chat::Relevance>, StoreError> {
    let Some(sp) = store.paper_by_id(id)? else {
        return Ok(None);
    };
    let cached = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .features
        .get(id)
        .cloned();
    let features = match cached {
        Some(f) => f,
        None => {
            let f = Arc::new(super::taste::featurizer(store)?.features(&sp)?);
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            if c.features.len() >= PAPER_CACHE_MAX {
                c.features.clear();
            }
            c.features.insert(id.to_string(), f.clone());
            f
        }
    };
    Ok(Some(super::taste::relevance(
        store, scorer, &sp, &features, lang,
    )?))
}

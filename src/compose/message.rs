//! The digest an outbox item stands for, built when it is sent from the store as it is then,
//! with a cache of papers shared by every digest of a fan-out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use paperbell_chat::{DigestMessage, Lang, PaperItem, TldrSource};

use super::overview_with_llm;
use crate::model::delivery::OutboxItem;
use crate::model::weigh::{ByteCache, Weigh, byte_cache};
use crate::store::{Store, StoreError};
use crate::taste::{Features, Scorer, Taste};

/// Papers as chats show them, shared by every digest of a fan-out (a TL;DR is computed once
/// per paper and language, not once per chat), each kind within a budget of bytes.
pub struct PaperCache {
    items: ByteCache<(String, Lang), Made>,
    /// Papers as taste models weigh them, for chats with a model.
    features: ByteCache<String, Arc<Features>>,
}

/// A paper as chats show it, and when it was made.
#[derive(Clone)]
struct Made {
    at: tokio::time::Instant,
    item: PaperItem,
}

impl Weigh for Made {
    fn weigh(&self) -> usize {
        size_of::<Made>() + item_bytes(&self.item)
    }
}

/// About the bytes a digest holds, and so about what its rendered parts hold (the same texts
/// with the platform's markup).
pub fn digest_bytes(m: &DigestMessage) -> usize {
    m.papers.iter().map(item_bytes).sum::<usize>()
        + m.title.len()
        + m.day.len()
        + m.overview.as_ref().map_or(0, String::len)
}

/// The heap a paper as chats show it holds.
fn item_bytes(p: &PaperItem) -> usize {
    let texts = [&p.id, &p.title, &p.abs_url]
        .into_iter()
        .chain(p.authors.iter().chain(&p.categories).chain(&p.code_urls))
        .chain(p.takeaways.iter().chain(&p.topics))
        .chain(
            [
                &p.pdf_url,
                &p.tldr,
                &p.title_translated,
                &p.tldr_translated,
                &p.project_url,
                &p.html_url,
            ]
            .into_iter()
            .flatten(),
        )
        .chain(p.figure.iter().flat_map(|f| [&f.url, &f.caption]))
        .map(|s| s.capacity() + size_of::<String>())
        .sum::<usize>();
    size_of::<PaperItem>() + texts
}

/// Papers as chats show them: a day's or two of a fan-out's papers (about 2 KB each).
const PAPER_CACHE_BYTES: u64 = 16 << 20;
/// Papers' features (about 1 KB each).
const FEATURE_CACHE_BYTES: u64 = 8 << 20;

impl Default for PaperCache {
    fn default() -> Self {
        PaperCache {
            items: byte_cache(PAPER_CACHE_BYTES, 2_048),
            features: byte_cache(FEATURE_CACHE_BYTES, 1_024),
        }
    }
}

impl PaperCache {
    /// Lets go of what a fan-out no longer needs: papers with an extractive TL;DR made longer
    /// than `EXTRACTIVE_RECHECK` ago (they would be made again anyway), and with `idle` (no
    /// digest waiting) everything, so a bot between fan-outs holds none of it.
    pub fn expire(&mut self, now: tokio::time::Instant, idle: bool) {
        if idle {
            *self = PaperCache::default();
            return;
        }
        self.items.retain(|_, m| {
            m.item.tldr_source == TldrSource::Llm || now.duration_since(m.at) < EXTRACTIVE_RECHECK
        });
    }
}
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
            .filter(|m| {
                m.item.tldr_source == TldrSource::Llm || m.at.elapsed() < EXTRACTIVE_RECHECK
            })
            .map(|m| m.item.clone());
        let mut p = match cached {
            Some(p) => p,
            None => {
                let Some(sp) = store.paper_by_id(id)? else {
                    // Not stored any more: the rest of the digest still goes out.
                    continue;
                };
                let p = super::item(store, &sp, &[], lang)?;
                let made = Made {
                    at: tokio::time::Instant::now(),
                    item: p.clone(),
                };
                cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .items
                    .insert(key, made);
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
            cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .features
                .insert(id.to_string(), f.clone());
            f
        }
    };
    Ok(Some(super::taste::relevance(
        store, scorer, &sp, &features, lang,
    )?))
}

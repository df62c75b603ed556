//! The `for-you` list: the papers among the categories a chat follows (`/settings cats`, else
//! its topics' categories), best first for the chat when it has a model, else in today's
//! order; and the `for-you` subscription, which digests carry like a topic.

use chrono::NaiveDate;
use paperbell_chat::ChatRef;

use super::papers::topic_of;
use super::rank::rank;
use super::taste::personal;
use crate::model::chat::{CategorySet, Subscription};
use crate::model::paper::{Category, StoredPaper};
use crate::store::{Store, StoreError, chat_ref};
use crate::taste::{Reason, Taste};
use crate::topics::TopicSet;

/// The topic id a chat subscribes to for its `for-you` digest.
pub const FOR_YOU: &str = "for-you";

/// One paper of the list.
#[derive(Debug, Clone)]
pub struct ForYou {
    pub paper: StoredPaper,
    /// How likely the chat likes it (0 to 1): `None` without a model.
    pub score: Option<f32>,
    /// Its log-odds above the chat's typical paper, for the mark: `None` without a model.
    pub lift: Option<f32>,
    pub reason: Reason,
}

/// Whether `s` is a chat's `for-you` subscription.
pub fn is_for_you(s: &Subscription) -> bool {
    s.topic_id == FOR_YOU
}

/// The categories a chat's `for-you` looks in: its `/settings cats`, else the categories of
/// the topics it follows (none: every category).
pub fn scope(topics: &TopicSet, cats: CategorySet, subs: &[Subscription]) -> Vec<Category> {
    if !cats.is_empty() {
        return cats.names().map(|c| Category(c.to_string())).collect();
    }
    let mut out: Vec<Category> = Vec::new();
    for s in subs.iter().filter(|s| !is_for_you(s)) {
        for cat in topic_of(topics, s)
            .map(|t| t.categories().to_vec())
            .unwrap_or_default()
        {
            if !out.contains(&cat) {
                out.push(cat);
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A chat's subscriptions as digests use them: `for-you` last (the papers its topics bring are
/// theirs; for-you adds the best of the rest) and carrying its categories as its query, which
/// `papers_between` reads. `None` when the chat does not follow `for-you` (use them as they are).
pub fn scoped(
    topics: &TopicSet,
    cats: CategorySet,
    subs: &[Subscription],
) -> Option<Vec<Subscription>> {
    let i = subs.iter().position(is_for_you)?;
    let scope = scope(topics, cats, subs);
    let mut out = subs.to_vec();
    let mut me = out.remove(i);
    me.query = Some(
        scope
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    out.push(me);
    Some(out)
}

/// What a subscription's papers are known by in memo keys: its topic id, and for `for-you` its
/// categories too (two chats' for-you lists differ by them).
pub fn list_key(s: &Subscription) -> std::borrow::Cow<'_, str> {
    match (is_for_you(s), &s.query) {
        (true, Some(q)) => format!("{FOR_YOU}:{q}").into(),
        _ => s.topic_id.as_str().into(),
    }
}

/// Papers first announced from `from` to `to` in any of `cats` (every one when `cats` is empty).
pub fn papers_in(
    store: &Store,
    cats: &[Category],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<StoredPaper>, StoreError> {
    let mut papers = store.papers_between(from, to)?;
    if !cats.is_empty() {
        papers.retain(|sp| sp.paper.categories.iter().any(|c| cats.contains(c)));
    }
    Ok(papers)
}

/// The categories `chat` follows: its `/settings cats`, else its subscriptions' topics'
/// (none for `local`, which has neither).
pub fn chat_categories(
    store: &Store,
    topics: &TopicSet,
    chat: &str,
) -> Result<Vec<Category>, StoreError> {
    match chat_ref(chat) {
        Some(c) => categories(store, topics, &c),
        None => Ok(Vec::new()),
    }
}

/// `chat_categories` of a chat on a platform.
pub fn categories(
    store: &Store,
    topics: &TopicSet,
    chat: &ChatRef,
) -> Result<Vec<Category>, StoreError> {
    let cats = store
        .chat(chat)?
        .map(|r| r.settings.cats)
        .unwrap_or_default();
    Ok(scope(topics, cats, &store.subscriptions(chat)?))
}

/// The best `n` papers first announced on `day` in any of `cats` (every paper of the day when
/// `cats` is empty), ordered by `taste` when it learnt something, else as digests order them.
pub fn for_you(
    store: &Store,
    taste: Option<&Taste>,
    day: NaiveDate,
    cats: &[Category],
    n: usize,
) -> Result<Vec<ForYou>, StoreError> {
    let papers = papers_in(store, cats, day, day)?;
    let ranked = rank(store, None, papers)?;
    Ok(match taste.filter(|t| t.is_trained()) {
        Some(taste) => {
            let order = personal(store, taste, &ranked.papers, n)?;
            let mut slots: Vec<Option<StoredPaper>> = ranked.papers.into_iter().map(Some).collect();
            order
                .into_iter()
                .take(n)
                .filter_map(|p| {
                    Some(ForYou {
                        paper: slots[p.index].take()?,
                        score: Some(p.score),
                        lift: Some(p.lift),
                        reason: p.reason,
                    })
                })
                .collect()
        }
        None => ranked
            .papers
            .into_iter()
            .take(n)
            .map(|paper| ForYou {
                paper,
                score: None,
                lift: None,
                reason: Reason::None,
            })
            .collect(),
    })
}

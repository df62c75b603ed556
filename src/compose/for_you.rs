//! The `for-you` list: one announcement day's papers among the categories a chat follows (its
//! topics' categories), best first for the chat when it has a model, else in today's order.

use chrono::NaiveDate;

use super::papers::topic_of;
use super::rank::rank;
use super::taste::personal;
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

/// The categories `chat` follows through its subscriptions' topics (none for `local`).
pub fn chat_categories(
    store: &Store,
    topics: &TopicSet,
    chat: &str,
) -> Result<Vec<Category>, StoreError> {
    let Some(c) = chat_ref(chat) else {
        return Ok(Vec::new());
    };
    let mut cats: Vec<Category> = Vec::new();
    for s in store.subscriptions(&c)? {
        for cat in topic_of(topics, &s)
            .map(|t| t.categories)
            .unwrap_or_default()
        {
            if !cats.contains(&cat) {
                cats.push(cat);
            }
        }
    }
    Ok(cats)
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
    let papers: Vec<StoredPaper> = store
        .papers_between(day, day)?
        .into_iter()
        .filter(|sp| cats.is_empty() || sp.paper.categories.iter().any(|c| cats.contains(c)))
        .collect();
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

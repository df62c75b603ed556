//! A chat's taste from the store: the vocabulary papers are weighed against (a memo of the
//! newest papers' word statistics) and papers' features (`Featurizer`: words, and embeddings
//! when papers are embedded), a model learnt from the chat's ratings (`learn`), and a
//! list put in the chat's order with each reason in words (`personal`).

use std::sync::Arc;

use paperbell_chat::{Lang, Relevance, t};

use crate::model::paper::StoredPaper;
use crate::store::{Embeddings, Store, StoreError};
use crate::taste::{
    Example, Features, Personal, Reason, Scorer, Taste, Vocabulary, WordCounts, mark,
    personal_order, reason, train,
};

/// Papers (newest days first) whose word statistics weigh words.
const VOCABULARY_PAPERS: usize = 8_000;
/// Liked and disliked papers a model learns from at most (the newest ratings).
const LEARN_RATED: usize = 400;
/// Recent papers a model sees as "not rated", standing in for what the chat passed over.
const BACKGROUND_PAPERS: usize = 1_000;
/// Announcement days the background is drawn from at most.
const BACKGROUND_DAYS: usize = 14;
/// How much one unrated paper counts against a rating.
const BACKGROUND_WEIGHT: f32 = 0.2;

/// Word statistics of the newest stored papers, kept until papers change.
pub fn vocabulary(store: &Store) -> Result<Arc<Vocabulary>, StoreError> {
    store.memo("taste\0vocabulary", || {
        let mut counts = Vec::new();
        let mut day = store.latest_day()?;
        while let Some(d) = day {
            for sp in store.papers_between(d, d)? {
                counts.push(WordCounts::of(&sp.paper.title, &sp.paper.abstract_text));
            }
            if counts.len() >= VOCABULARY_PAPERS {
                break;
            }
            day = store.day_before(d)?;
        }
        Ok(Vocabulary::new(&counts))
    })
}

/// How papers become features for taste models: their words against the vocabulary, joined
/// with their embedding when papers are embedded (`[llm] embedding_model`).
pub struct Featurizer<'s> {
    vocabulary: Arc<Vocabulary>,
    embeddings: Option<Embeddings<'s>>,
}

/// The store's `Featurizer` as it is now.
pub fn featurizer(store: &Store) -> Result<Featurizer<'_>, StoreError> {
    Ok(Featurizer {
        vocabulary: vocabulary(store)?,
        embeddings: store.embeddings()?,
    })
}

impl Featurizer<'_> {
    pub fn features(&self, sp: &StoredPaper) -> Result<Features, StoreError> {
        let words = Features::new(
            &WordCounts::of(&sp.paper.title, &sp.paper.abstract_text),
            &self.vocabulary,
        );
        let embedding = match &self.embeddings {
            Some(e) => e.get(sp.paper.id.as_str())?,
            None => None,
        };
        Ok(match embedding {
            Some(e) => words.with_embedding(&e),
            None => words,
        })
    }

    /// `features` of each paper.
    pub fn all(&self, papers: &[StoredPaper]) -> Result<Vec<Features>, StoreError> {
        papers.iter().map(|sp| self.features(sp)).collect()
    }
}

/// What a model learnt from, for a reply.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Learnt {
    pub liked: usize,
    pub disliked: usize,
    /// Rated papers the store no longer has (left out).
    pub missing: usize,
}

/// `chat`'s model from its ratings and imports as the store has them now; `None` when the chat
/// has rated nothing (it ranks as everyone does).
pub fn learn(store: &Store, chat: &str) -> Result<Option<(Taste, Learnt)>, StoreError> {
    let mut rated = store.chat_ratings(chat)?;
    if rated.is_empty() {
        return Ok(None);
    }
    // Newest first: the model follows what the chat says now.
    rated.sort_by(|a, b| b.1.at.cmp(&a.1.at).then(a.0.cmp(&b.0)));
    let featurizer = featurizer(store)?;
    let mut learnt = Learnt::default();
    let mut liked: Vec<(String, Features)> = Vec::new();
    let mut disliked: Vec<Features> = Vec::new();
    for (id, tally) in &rated {
        let opinion = tally.opinion();
        if opinion == 0
            || (opinion > 0 && liked.len() >= LEARN_RATED)
            || (opinion < 0 && disliked.len() >= LEARN_RATED)
        {
            continue;
        }
        let Some(sp) = store.paper_by_id(id)? else {
            learnt.missing += 1;
            continue;
        };
        let f = featurizer.features(&sp)?;
        if opinion > 0 {
            liked.push((id.clone(), f));
        } else {
            disliked.push(f);
        }
    }
    if liked.is_empty() && disliked.is_empty() {
        // Nothing the chat still says of a paper it has: no model, it ranks as everyone does.
        return Ok(None);
    }
    let rated_ids: std::collections::HashSet<&str> =
        rated.iter().map(|(id, _)| id.as_str()).collect();
    let background = background(store)?;
    let background: Vec<&Features> = background
        .iter()
        .filter(|(id, _)| !rated_ids.contains(id.as_str()))
        .map(|(_, f)| f)
        .collect();
    let mut examples: Vec<Example> = Vec::new();
    examples.extend(liked.iter().map(|(_, f)| Example {
        features: f,
        liked: true,
        weight: 1.0,
    }));
    examples.extend(disliked.iter().map(|f| Example {
        features: f,
        liked: false,
        weight: 1.0,
    }));
    examples.extend(background.iter().map(|&f| Example {
        features: f,
        liked: false,
        weight: BACKGROUND_WEIGHT,
    }));
    learnt.liked = liked.len();
    learnt.disliked = disliked.len();
    let names: Vec<(&str, &Features)> = liked.iter().map(|(id, f)| (id.as_str(), f)).collect();
    Ok(Some((train(&examples, &names), learnt)))
}

/// Up to `BACKGROUND_PAPERS` papers spread evenly over the newest `BACKGROUND_DAYS`
/// announcement days, with their features; kept until papers change (every retrain of every
/// chat learns against the same sample).
fn background(store: &Store) -> Result<Arc<Vec<(String, Features)>>, StoreError> {
    store.memo("taste\0background", || {
        let mut days = Vec::new();
        let mut day = store.latest_day()?;
        while let Some(d) = day {
            days.push(store.papers_between(d, d)?);
            if days.len() >= BACKGROUND_DAYS {
                break;
            }
            day = store.day_before(d)?;
        }
        let total: usize = days.iter().map(Vec::len).sum();
        let step = total.div_ceil(BACKGROUND_PAPERS).max(1);
        let featurizer = featurizer(store)?;
        days.iter()
            .flatten()
            .step_by(step)
            .map(|sp| Ok((sp.paper.id.to_string(), featurizer.features(sp)?)))
            .collect()
    })
}

/// `papers` (a list in its own order) in the chat's order, reasons for the first `explain`.
pub fn personal(
    store: &Store,
    taste: &Taste,
    papers: &[StoredPaper],
    explain: usize,
) -> Result<Vec<Personal>, StoreError> {
    let features = featurizer(store)?.all(papers)?;
    let refs: Vec<&Features> = features.iter().collect();
    Ok(personal_order(&Scorer::new(taste), &refs, explain))
}

/// A paper's relevance to a chat with a model, as chats show it.
pub fn relevance(
    store: &Store,
    scorer: &Scorer,
    sp: &StoredPaper,
    features: &Features,
    lang: Lang,
) -> Result<Relevance, StoreError> {
    Ok(Relevance {
        mark: mark(scorer.lift(features)).to_string(),
        why: reason_text(store, &reason(scorer, features), sp, lang)?,
    })
}

/// A reason as a reader reads it: the liked paper's title, or the paper's own words.
pub fn reason_text(
    store: &Store,
    reason: &Reason,
    paper: &StoredPaper,
    lang: Lang,
) -> Result<Option<String>, StoreError> {
    Ok(match reason {
        Reason::None => None,
        Reason::Like(id) => {
            let title = store
                .paper_by_id(id)?
                .map(|sp| shorten(&paperbell_chat::tex::plain(&sp.paper.title), 60))
                .unwrap_or_else(|| id.clone());
            Some(format!("{} “{title}”", t(lang, "like", "类似")))
        }
        Reason::Words(ids) => {
            let text = format!("{}. {}", paper.paper.title, paper.paper.abstract_text);
            let words = crate::taste::features::surface_words(&text, ids);
            let found: Vec<&str> = ids
                .iter()
                .filter_map(|id| words.get(id).map(String::as_str))
                .collect();
            // "splatting" says nothing "gaussian splatting" did not.
            let shown: Vec<&str> = found
                .iter()
                .copied()
                .filter(|w| !found.iter().any(|o| o != w && o.contains(w)))
                .collect();
            (!shown.is_empty()).then(|| shown.join(", "))
        }
    })
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

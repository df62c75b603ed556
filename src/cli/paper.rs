//! `paperbell paper`: one paper by id or URL. From the store, else asked of arXiv and stored;
//! its summary from the LLM when one is configured (asked once, cached), else the cached or
//! extractive one; its figure from the HTML edition when not known yet (asked once, kept).

use paperbell_chat::PaperItem;

use crate::clock::Clock;
use crate::config::Config;
use crate::model::paper::{PaperId, StoredPaper};
use crate::sources::fetch::{ArxivClient, FetchError};
use crate::store::{Store, StoreError};
use crate::summary::llm::{self, Llm, LlmError};
use crate::topics::TopicSet;

/// Why a paper could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PaperError {
    #[error("`{0}` is not an arXiv id (e.g. 2407.11422 or https://arxiv.org/abs/2407.11422)")]
    NotAnId(String),
    #[error(
        "--lang `{0}` is not a language paperbell translates to (zh, zh-hant, ja, ko, de, fr, es, it, pt, ru, vi, en)"
    )]
    Lang(String),
    #[error("arXiv has no paper {0}")]
    NotOnArxiv(PaperId),
    #[error("{id} is not in the store and arXiv could not be asked: {source}")]
    Fetch { id: PaperId, source: FetchError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("LLM: {0}")]
    Llm(#[from] LlmError),
}

/// A paper and how chats show it; `warning` says why the LLM's summary is missing, if it is.
pub struct Shown {
    pub paper: StoredPaper,
    pub view: PaperItem,
    pub warning: Option<String>,
}

/// The paper `id` (an id or URL) with its summary in `lang` (default English).
pub async fn show(
    config: &Config,
    store: &Store,
    topics: &TopicSet,
    id: &str,
    lang: Option<&str>,
    clock: Clock,
) -> Result<Shown, PaperError> {
    let pid = PaperId::parse(id).ok_or_else(|| PaperError::NotAnId(id.to_string()))?;
    if let Some(l) = lang
        && llm::language_name(l).is_none()
    {
        return Err(PaperError::Lang(l.to_string()));
    }
    let lang = llm::lang_key(lang.unwrap_or("en"));
    let asked = |source| PaperError::Fetch {
        id: pid.clone(),
        source,
    };
    let client = ArxivClient::new(&config.arxiv).map_err(asked)?;
    let stored = match store.paper(&pid)? {
        Some(p) => p,
        None => {
            let parsed = client
                .by_ids(std::slice::from_ref(&pid))
                .await
                .map_err(asked)?;
            store.ingest(&parsed.papers, topics)?;
            store.flush()?;
            store
                .paper(&pid)?
                .ok_or_else(|| PaperError::NotOnArxiv(pid.clone()))?
        }
    };
    let mut warning = None;
    let summary = match Llm::new(&config.llm, clock)? {
        Some(llm) => match llm.summarise(store, &stored, &lang).await {
            Ok((s, _)) => Some(s),
            Err(e) => {
                warning = Some(format!(
                    "the LLM summary failed ({e}); showing the extractive TL;DR"
                ));
                None
            }
        },
        None => store.summary(pid.as_str(), stored.paper.version, &lang, None)?,
    };
    let asked_figure = if config.figures.enabled {
        match crate::summary::figures::look_up(&client, store, &stored, false).await {
            Ok((lookup, _)) => Some(lookup),
            Err(e) => {
                warning.get_or_insert(format!("its figure could not be asked for ({e})"));
                None
            }
        }
    } else {
        None
    };
    store.flush()?;
    let hf = store.hf(pid.as_str())?;
    let figure = match asked_figure {
        Some(f) => Some(f),
        None => store.figure(pid.as_str(), stored.paper.version)?,
    };
    let known = crate::summary::Known {
        hf: hf.as_ref(),
        llm: summary.as_ref(),
        figure: figure.as_ref(),
    };
    let view = crate::summary::item(&stored, known, &[]);
    Ok(Shown {
        paper: stored,
        view,
        warning,
    })
}

//! A stored paper as chats show it, and a digest's overview, with what Hugging Face and the
//! LLM said when the store has it.

use chrono::NaiveDate;
use paperbell_chat::{Lang, PaperItem};

use crate::model::paper::StoredPaper;
use crate::store::{Store, StoreError};

/// A stored paper as chats show it, with what Hugging Face and the LLM said about it (for
/// `lang`, by whichever model the cache holds) and its figure when known.
pub fn item(
    store: &Store,
    sp: &StoredPaper,
    topics: &[String],
    lang: Lang,
) -> Result<PaperItem, StoreError> {
    let id = sp.paper.id.as_str();
    let hf = store.hf(id)?;
    let llm = store.summary(id, sp.paper.version, lang.code(), None)?;
    let figure = store.figure(id, sp.paper.version)?;
    let known = crate::summary::Known {
        hf: hf.as_ref(),
        llm: llm.as_ref(),
        figure: figure.as_ref(),
    };
    Ok(crate::summary::item(sp, known, topics))
}

/// A digest's overview: the LLM's overview of the topic's newest day when the store has one in
/// `lang`, above the counts-and-keywords `line`.
pub fn overview_with_llm(
    store: &Store,
    topic_id: &str,
    day: NaiveDate,
    lang: Lang,
    line: Option<String>,
) -> Result<Option<String>, StoreError> {
    let llm = store.overview(topic_id, day, lang.code(), None)?;
    Ok(match (llm, line) {
        (Some(o), Some(line)) => Some(format!("{o}\n{line}")),
        (o, line) => o.or(line),
    })
}

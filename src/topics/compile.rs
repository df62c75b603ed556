//! Topics as the config file defines them (`[[topics]]`), compiled into `Topic`s: ids and
//! categories checked, keyword lists or a query, every mistake naming its exact key.

use serde::{Deserialize, Serialize};

use super::{HF_DAILY, Term, Topic, TopicError, TopicSet, parse_query};
use crate::model::categories;
use crate::model::paper::Category;

/// A mistake in a topic definition: the key it is at (`topics[2].categories[0]`) and what is
/// wrong, worded for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DefinitionError {
    pub field: String,
    pub message: String,
}

impl DefinitionError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        DefinitionError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A topic as written in the config file (`[[topics]]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDef {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// A paper needs at least one of these (in title or abstract).
    #[serde(default)]
    pub keywords_any: Vec<String>,
    /// A paper needs every one of these.
    #[serde(default)]
    pub keywords_all: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    /// Instead of keyword lists: the ad-hoc query syntax (`"diffusion" AND video -survey`).
    pub query: Option<String>,
    #[serde(default = "yes")]
    pub include_cross: bool,
    #[serde(default)]
    pub include_replace: bool,
}

fn yes() -> bool {
    true
}

/// The configured topics (`[[topics]]`), compiled and checked, with the built-in `hf-daily`
/// topic when Hugging Face is on; an error names the exact key (`topics[2].categories[0]`).
pub fn compile_all(defs: &[TopicDef], huggingface: bool) -> Result<TopicSet, DefinitionError> {
    let mut topics: Vec<Topic> = Vec::new();
    for (i, tc) in defs.iter().enumerate() {
        let at = |field: &str| {
            format!(
                "topics[{i}]{}{field}",
                if field.is_empty() { "" } else { "." }
            )
        };
        let t = compile(tc, &at)?;
        if t.id == HF_DAILY {
            return Err(DefinitionError::new(
                at("id"),
                format!("`{HF_DAILY}` is the built-in Hugging Face Daily Papers topic"),
            ));
        }
        if let Some(dup) = topics
            .iter()
            .find(|o| o.id == t.id || o.name.eq_ignore_ascii_case(&t.name))
        {
            return Err(DefinitionError::new(
                at("id"),
                format!("`{}` is used twice (also by `{}`)", t.id, dup.id),
            ));
        }
        topics.push(t);
    }
    if huggingface && !topics.iter().any(|t| t.id == HF_DAILY) {
        topics.push(Topic {
            id: HF_DAILY.into(),
            name: "Hugging Face Daily Papers".into(),
            external: true,
            ..Topic::default()
        });
    }
    Ok(TopicSet::new(topics))
}

fn compile(tc: &TopicDef, at: &dyn Fn(&str) -> String) -> Result<Topic, DefinitionError> {
    let id_ok = !tc.id.is_empty()
        && tc.id.len() <= 32
        && tc
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(DefinitionError::new(
            at("id"),
            format!("`{}` must be 1-32 characters of a-z, 0-9, - and _", tc.id),
        ));
    }
    let terr = |field: &str| {
        let key = at(field);
        move |e: TopicError| DefinitionError::new(key, e.0)
    };
    let mut topic = match &tc.query {
        Some(q) => {
            if !tc.keywords_any.is_empty() || !tc.keywords_all.is_empty() || !tc.exclude.is_empty()
            {
                return Err(DefinitionError::new(
                    at("query"),
                    "use either `query` or keyword lists, not both",
                ));
            }
            parse_query(q).map_err(terr("query"))?
        }
        None => Topic::default(),
    };
    topic.id = tc.id.clone();
    topic.name = tc.name.clone().unwrap_or_else(|| tc.id.clone());
    topic.include_cross = tc.include_cross;
    topic.include_replace = tc.include_replace;
    for (j, c) in tc.categories.iter().enumerate() {
        let canon = categories::canonical(c).ok_or_else(|| {
            let near = categories::closest(c, categories::CATEGORIES.iter().copied(), 1);
            let hint = near
                .first()
                .map(|n| format!("; did you mean {n}?"))
                .unwrap_or_default();
            DefinitionError::new(
                at(&format!("categories[{j}]")),
                format!("`{c}` is not an arXiv category{hint}"),
            )
        })?;
        topic.categories.push(Category(canon.to_string()));
    }
    if !tc.keywords_any.is_empty() {
        let mut group = Vec::new();
        for (j, k) in tc.keywords_any.iter().enumerate() {
            group.push(Term::new(k).map_err(terr(&format!("keywords_any[{j}]")))?);
        }
        topic.keywords.push(group);
    }
    for (j, k) in tc.keywords_all.iter().enumerate() {
        topic.keywords.push(vec![
            Term::new(k).map_err(terr(&format!("keywords_all[{j}]")))?,
        ]);
    }
    for (j, k) in tc.exclude.iter().enumerate() {
        topic
            .exclude
            .push(Term::new(k).map_err(terr(&format!("exclude[{j}]")))?);
    }
    topic.authors.extend(
        tc.authors
            .iter()
            .map(|a| crate::model::paper::normalize_ws(a)),
    );
    topic.validate().map_err(terr(""))?;
    Ok(topic)
}

//! Topics as the config file defines them (`[[topics]]`), compiled into `Topic`s: ids and
//! categories checked, keyword lists or a query, every mistake naming its exact key.

use serde::{Deserialize, Serialize};

use super::{HF_DAILY, Topic, TopicError, TopicSet};
use crate::model::categories;
use crate::query::{self, Expr, Place, Term};

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
    /// Instead of keyword lists: the query language (`"diffusion" AND video -survey`).
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
        move |e: QueryOrTopic| DefinitionError::new(key, e.0)
    };
    if tc.query.is_some()
        && (!tc.keywords_any.is_empty() || !tc.keywords_all.is_empty() || !tc.exclude.is_empty())
    {
        return Err(DefinitionError::new(
            at("query"),
            "use either `query` or keyword lists, not both",
        ));
    }
    // What the lists say, in the query language: in one of `categories`, with one of
    // `keywords_any` and every one of `keywords_all` (or the `query`); or by one of
    // `authors`, whatever the keywords; never with one of `exclude`.
    let mut required = Vec::new();
    if let Some(q) = &tc.query {
        required.push(query::parse(q).map_err(|e| terr("query")(e.into()))?);
    }
    let mut cats = Vec::new();
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
        cats.push(Expr::Category(canon.to_string()));
    }
    if !cats.is_empty() {
        required.push(Expr::Or(cats));
    }
    let term = |field: String, k: &str| {
        Term::new(k)
            .map(|t| Expr::Words(t, Place::Anywhere))
            .map_err(|e| terr(&field)(e.into()))
    };
    if !tc.keywords_any.is_empty() {
        let mut any = Vec::new();
        for (j, k) in tc.keywords_any.iter().enumerate() {
            any.push(term(format!("keywords_any[{j}]"), k)?);
        }
        required.push(Expr::Or(any));
    }
    for (j, k) in tc.keywords_all.iter().enumerate() {
        required.push(term(format!("keywords_all[{j}]"), k)?);
    }
    let required_empty = required.is_empty();
    let mut expr = if required_empty {
        Expr::nothing()
    } else {
        Expr::And(required)
    };
    if !tc.authors.is_empty() {
        let mut by = Vec::new();
        for (j, a) in tc.authors.iter().enumerate() {
            let quoted = format!("au:\"{}\"", a.replace('"', ""));
            by.push(query::parse(&quoted).map_err(|e| terr(&format!("authors[{j}]"))(e.into()))?);
        }
        expr = Expr::Or(vec![expr, Expr::Or(by)]);
    }
    if !tc.exclude.is_empty() {
        let mut all = vec![expr];
        for (j, k) in tc.exclude.iter().enumerate() {
            all.push(Expr::Not(Box::new(term(format!("exclude[{j}]"), k)?)));
        }
        expr = Expr::And(all);
    }
    let mut topic = Topic {
        id: tc.id.clone(),
        name: tc.name.clone().unwrap_or_else(|| tc.id.clone()),
        include_cross: tc.include_cross,
        include_replace: tc.include_replace,
        ..Topic::default()
    }
    .with_query(expr.canonical());
    if required_empty && tc.authors.is_empty() {
        topic = topic.with_query(Expr::nothing());
    }
    topic.validate().map_err(|e| terr("")(e.into()))?;
    Ok(topic)
}

/// A query's or a topic's error, as one message.
struct QueryOrTopic(String);

impl From<query::QueryError> for QueryOrTopic {
    fn from(e: query::QueryError) -> Self {
        QueryOrTopic(e.to_string())
    }
}

impl From<TopicError> for QueryOrTopic {
    fn from(e: TopicError) -> Self {
        QueryOrTopic(e.0)
    }
}

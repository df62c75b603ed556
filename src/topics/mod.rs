//! Topics: what a chat follows. A `Topic` is a query of the query language (`crate::query`)
//! with a policy for cross-lists and replacements, compiled from its config definition
//! (`compile`) or parsed from what a chat typed; `TopicSet` resolves what a person names.
//! What a query means is the query language's; this module adds only the policy.

mod compile;

use serde::Serialize;

use crate::model::categories;
use crate::model::paper::{AnnounceType, Category, Paper};
use crate::query::{self, Expr, QueryError};

pub use crate::query::MatchText;
pub use compile::{DefinitionError, TopicDef, compile_all};

/// A mistake in a topic definition or query, worded for the person who made it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TopicError(pub String);

impl From<QueryError> for TopicError {
    fn from(e: QueryError) -> Self {
        TopicError(e.to_string())
    }
}

/// What a topic follows: the papers its query matches, cross-lists and replacements as its
/// policy says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub id: String,
    pub name: String,
    #[serde(serialize_with = "as_text")]
    query: Expr,
    /// The categories the query names (outside any `-`): where its papers are listed.
    #[serde(skip)]
    categories: Vec<Category>,
    pub include_cross: bool,
    pub include_replace: bool,
    /// Fed by a source of its own (`hf-daily`), not by matching: arXiv is never asked for it.
    pub external: bool,
}

fn as_text<S: serde::Serializer>(e: &Expr, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

/// The built-in topic of Hugging Face Daily Papers.
pub const HF_DAILY: &str = "hf-daily";

/// Why a paper matched, for ranking and display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The paper's primary category is outside the topic's categories (or the feed said cross).
    pub cross: bool,
    /// A keyword matched in the title (stronger than an abstract-only match).
    pub in_title: bool,
    pub by_author: bool,
}

impl Default for Topic {
    /// Follows nothing yet; cross-lists count, replacements do not (the documented defaults).
    fn default() -> Self {
        Topic {
            id: String::new(),
            name: String::new(),
            query: Expr::nothing(),
            categories: vec![],
            include_cross: true,
            include_replace: false,
            external: false,
        }
    }
}

/// An ad-hoc topic from a chat: a query of the query language, its canonical text as its name
/// (`q:` and the name as its id), so that equivalent queries are one topic.
pub fn parse_query(input: &str) -> Result<Topic, TopicError> {
    let q = query::parse(input)?;
    if !q.names_content() {
        return Err(TopicError(
            "a topic needs words, an author or a category to follow (after:/before: alone would be every paper)".into(),
        ));
    }
    let name = q.to_string();
    Ok(Topic {
        id: format!("q:{name}"),
        name,
        ..Topic::default()
    }
    .with_query(q))
}

impl Topic {
    /// Any arXiv category as a topic: everything listed in it, cross-lists included.
    pub fn for_category(cat: &str) -> Option<Topic> {
        let c = categories::canonical(cat)?;
        Some(
            Topic {
                id: c.to_string(),
                name: c.to_string(),
                ..Topic::default()
            }
            .with_query(Expr::Category(c.to_string())),
        )
    }

    /// A search without the index as a topic, for a scan of the newest papers with the same
    /// meaning (replacements included, as the index has them).
    pub fn for_search(words: &str, query: Expr) -> Topic {
        Topic {
            id: "search".into(),
            name: words.into(),
            include_replace: true,
            ..Topic::default()
        }
        .with_query(query)
    }

    /// The topic following `query` instead.
    pub fn with_query(mut self, query: Expr) -> Topic {
        self.categories = query.categories().into_iter().map(Category).collect();
        self.query = query;
        self
    }

    pub fn query(&self) -> &Expr {
        &self.query
    }

    /// The categories the query names (outside any `-`): the feeds it is fetched from, and
    /// what counts as a cross-list for it.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The arXiv API `search_query` for this topic (more than it matches where arXiv cannot
    /// say all of it; `None` when arXiv can be told nothing of it).
    pub fn search_query(&self) -> Option<String> {
        query::search_query(&self.query)
    }

    pub fn validate(&self) -> Result<(), TopicError> {
        if self.query.is_nothing() {
            return Err(TopicError(format!(
                "topic `{}` follows nothing: give it categories, keywords or authors",
                self.id
            )));
        }
        Ok(())
    }

    /// Whether a paper belongs to the topic, and why: its query matches (`text` is the
    /// paper's, read once for every topic) and the policy lets it in.
    pub fn matches(&self, p: &Paper, text: &MatchText) -> Option<Hit> {
        if self.external
            || (p.announce_type.is_some_and(AnnounceType::is_replacement) && !self.include_replace)
        {
            return None;
        }
        self.matches_query(p, text)
    }

    /// `matches` without the replacement policy: whether the paper's current text is one the
    /// topic follows (a replacement of a paper it once took still belongs to it).
    pub fn matches_query(&self, p: &Paper, text: &MatchText) -> Option<Hit> {
        if self.external {
            return None;
        }
        let why = self.query.matches(text)?;
        let cross = if self.categories.is_empty() {
            p.announce_type.is_some_and(AnnounceType::is_cross)
        } else {
            p.is_cross_list_for(&self.categories)
        };
        if cross && !self.include_cross && !why.by_author {
            return None;
        }
        Some(Hit {
            cross,
            in_title: why.in_title,
            by_author: why.by_author,
        })
    }
}

/// All configured topics, compiled once for ingest.
#[derive(Debug, Clone, Default)]
pub struct TopicSet {
    pub topics: Vec<Topic>,
}

impl TopicSet {
    pub fn new(topics: Vec<Topic>) -> Self {
        TopicSet { topics }
    }

    /// Every topic the paper matches on `day`, in configuration order.
    pub fn matching<'a>(
        &'a self,
        p: &'a Paper,
        day: Option<chrono::NaiveDate>,
    ) -> impl Iterator<Item = (&'a Topic, Hit)> + 'a {
        let text = MatchText::new(p, day);
        self.topics
            .iter()
            .filter_map(move |t| t.matches(p, &text).map(|h| (t, h)))
    }

    /// Finds a topic as a person names it: configured id or name (any case), else an arXiv
    /// category, else the query language.
    pub fn resolve(&self, s: &str) -> Result<Topic, TopicError> {
        let s = s.trim();
        if let Some(t) = self
            .topics
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(s) || t.name.eq_ignore_ascii_case(s))
        {
            return Ok(t.clone());
        }
        if let Some(t) = Topic::for_category(s) {
            return Ok(t);
        }
        let looks_like_query = s.contains(['"', '(', ':', ' ']) || s.starts_with('-');
        match parse_query(s) {
            Ok(t) if looks_like_query => Ok(t),
            Ok(t) => {
                // A single bare word: probably a mistyped topic id rather than a keyword search.
                let near = categories::closest(s, self.topics.iter().map(|t| t.id.as_str()), 1);
                match near.first() {
                    Some(n) => Err(TopicError(format!(
                        "no topic `{s}`; did you mean `{n}`? (to search the word itself, write \"{s}\")"
                    ))),
                    None => Ok(t),
                }
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::paper::{AnnounceType, PaperId};

    fn paper(title: &str, cats: &[&str]) -> Paper {
        Paper {
            id: PaperId::parse("2401.00001").unwrap(),
            version: 1,
            title: title.into(),
            authors: vec!["Ben Mildenhall".into()],
            primary_category: cats.first().map(|c| Category(c.to_string())),
            categories: cats.iter().map(|c| Category(c.to_string())).collect(),
            published: None,
            updated: None,
            abstract_text: "x".into(),
            comment: None,
            doi: None,
            journal_ref: None,
            pdf_url: None,
            announce_type: Some(AnnounceType::New),
        }
    }

    fn hit(t: &Topic, p: &Paper) -> Option<Hit> {
        t.matches(p, &MatchText::new(p, None))
    }

    #[test]
    fn replacements_and_cross_lists_follow_the_policy() {
        let mut p = paper("NeRF", &["cs.GR", "cs.CV"]);
        let mut t = Topic::for_category("cs.CV").unwrap();
        assert!(hit(&t, &p).unwrap().cross);
        t.include_cross = false;
        assert!(hit(&t, &p).is_none());
        p.categories.reverse();
        p.primary_category = Some(Category("cs.CV".into()));
        assert!(hit(&t, &p).is_some());
        p.announce_type = Some(AnnounceType::Replace);
        assert!(hit(&t, &p).is_none());
        assert!(t.matches_query(&p, &MatchText::new(&p, None)).is_some());
        t.include_replace = true;
        assert!(hit(&t, &p).is_some());
        assert!(
            parse_query("after:2025-01-01")
                .unwrap_err()
                .0
                .contains("needs words")
        );
        let mut h = parse_query("cat:cs.LG nerf").unwrap();
        h.external = true;
        assert!(hit(&h, &p).is_none(), "an external topic takes nothing");
    }

    #[test]
    fn a_topic_is_its_query_with_a_canonical_id() {
        let a = parse_query("mamba OR \"state space\" -survey video").unwrap();
        let b = parse_query("video AND (\"state space\" OR mamba) -survey").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.id, "q:(mamba OR \"state space\") video -survey");
        assert_eq!(parse_query(&a.name).unwrap(), a, "the name parses back");
        assert_eq!(
            parse_query("cat:cs.CV (nerf OR splat*) -cat:cs.GR")
                .unwrap()
                .categories(),
            [Category("cs.CV".into())]
        );
    }

    #[test]
    fn resolve_prefers_configured_then_category_then_query() {
        let set = TopicSet::new(vec![Topic {
            id: "nerf".into(),
            name: "NeRF".into(),
            ..parse_query("nerf").unwrap()
        }]);
        assert_eq!(set.resolve("NERF").unwrap().id, "nerf");
        assert_eq!(set.resolve("cs.cv").unwrap().id, "cs.CV");
        assert!(
            set.resolve("\"video\" diffusion")
                .unwrap()
                .id
                .starts_with("q:")
        );
        assert!(
            set.resolve("nref")
                .unwrap_err()
                .0
                .contains("did you mean `nerf`")
        );
    }
}
